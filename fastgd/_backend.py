"""Which compiled backend runs the kernels: ``backend='auto'|'numba'|'cython'``.

``'auto'`` takes the environment variable ``FASTGD_BACKEND`` when it is set, else Numba.
"""

import os

BACKENDS = ("numba", "cython")


def available_backends():
    """The backends that import on this machine, in order of preference."""
    found = []
    try:
        import numba  # noqa: F401

        found.append("numba")
    except ImportError:
        pass
    try:
        from fastgd.kernels import _cy_sgd  # noqa: F401

        found.append("cython")
    except ImportError:
        pass
    return found


def resolve_backend(backend="auto"):
    """Name of the backend that ``backend`` selects; a clear ValueError if unavailable."""
    if backend == "auto":
        backend = os.environ.get("FASTGD_BACKEND", "auto").lower()
    found = available_backends()
    if backend == "auto":
        if not found:
            raise ImportError("fastgd needs numba or its compiled Cython kernels; "
                              "neither imports here.")
        return found[0]
    if backend not in BACKENDS:
        raise ValueError(f"Unknown backend {backend!r}; expected one of "
                         f"{('auto',) + BACKENDS}.")
    if backend not in found:
        raise ValueError(f"backend={backend!r} is not available in this installation "
                         f"(available: {found}).")
    return backend


def kernels(backend="auto"):
    """The kernel module of a backend: same function names and signatures in each."""
    name = resolve_backend(backend)
    if name == "numba":
        from fastgd.kernels import _nb_sgd as module
    else:
        from fastgd.kernels import _cy_sgd as module
    return module

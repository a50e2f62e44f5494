"""Which compiled backend runs the kernels: ``backend='auto'|'numba'|'cython'``.

``'auto'`` takes the environment variable ``FASTGD_BACKEND`` when it is set, else Numba
when it imports, else the compiled Cython kernels. Nothing here imports Numba at
package import: a backend is only imported when a fit (or ``available_backends``)
asks for it, so fastgd works without Numba when its Cython kernels are built.
"""

import importlib
import os

BACKENDS = ("numba", "cython")


def _importable(name):
    """Whether the kernels of backend ``name`` import here."""
    try:
        if name == "numba":
            import numba  # noqa: F401
        else:
            from fastgd.kernels import _cy_sgd  # noqa: F401
    except ImportError:
        return False
    return True


def available_backends():
    """The backends that import on this machine, in order of preference."""
    return [name for name in BACKENDS if _importable(name)]


def resolve_backend(backend="auto"):
    """Name of the backend that ``backend`` selects; a clear ValueError if unavailable."""
    if backend == "auto":
        backend = os.environ.get("FASTGD_BACKEND", "auto").lower()
    if backend == "auto":
        for name in BACKENDS:
            if _importable(name):
                return name
        raise ImportError("fastgd needs numba or its compiled Cython kernels; "
                          "neither imports here.")
    if backend not in BACKENDS:
        raise ValueError(f"Unknown backend {backend!r}; expected one of "
                         f"{('auto',) + BACKENDS}.")
    if not _importable(backend):
        raise ValueError(f"backend={backend!r} is not available in this installation "
                         f"(available: {available_backends()}).")
    return backend


def _module(family, backend):
    """fastgd.kernels._nb_<family> or its Cython twin _cy_<family>, per the backend."""
    prefix = "_nb" if resolve_backend(backend) == "numba" else "_cy"
    return importlib.import_module(f"fastgd.kernels.{prefix}_{family}")


def kernels(backend="auto"):
    """The SGD kernel module of a backend: same function names and signatures in each."""
    return _module("sgd", backend)


def vr_kernels(backend="auto"):
    """The SAG/SAGA/SVRG kernel module of a backend (``_nb_vr`` or its twin ``_cy_vr``)."""
    return _module("vr", backend)


def parallel_kernels(backend="auto"):
    """The ``n_jobs > 1`` kernel module of a backend (``_nb_parallel`` or ``_cy_parallel``).

    Imported on the first fit that asks for threads, never at package import.
    """
    return _module("parallel", backend)


def async_vr_kernels(backend="auto"):
    """The ``n_jobs > 1`` SAGA/SVRG kernels of a backend (``_nb_async_vr``; lock-free).

    Imported on the first fit that asks for them, never at package import.
    """
    return _module("async_vr", backend)

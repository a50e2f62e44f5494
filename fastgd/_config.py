"""``fastgd.show_config()``: versions, backends and build options, for bug reports."""

import importlib
import platform
import sys
from importlib import metadata


def _version(dist, module=None):
    """Version of an installed distribution (or of an importable module), else None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        pass
    try:
        return getattr(importlib.import_module(module or dist), "__version__", "unknown")
    except ImportError:
        return None


def _numba_threading_layer():
    """Numba's threading layer as fastgd's n_jobs > 1 kernels use it.

    Once a parallel region has run, the layer Numba launched; before that, the one
    fastgd will ask for on its first n_jobs > 1 fit ('tbb' when it loads: thread- and
    fork-safe) or Numba's configured choice.
    """
    try:
        import numba
    except ImportError:
        return None
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel region has run yet
        try:
            from fastgd.kernels._nb_parallel import preferred_threading_layer
            wanted = preferred_threading_layer()
        except ImportError:
            wanted = None
        configured = wanted or numba.config.THREADING_LAYER
        return f"not yet launched (will use: {configured!r})"
    if layer == "workqueue":
        return ("workqueue (not thread-safe: fastgd runs one parallel kernel at a time; "
                "install tbb)")
    if layer == "omp":
        return "omp (thread-safe; GNU OpenMP is not fork-safe)"
    return f"{layer} (thread- and fork-safe)" if layer == "tbb" else layer


def _cython_openmp():
    try:
        from fastgd.kernels import _cy_sgd
    except ImportError:
        return None
    return bool(getattr(_cy_sgd, "OPENMP", False))


def config_info():
    """The facts ``show_config`` prints, as a dict (for tests and bug reports)."""
    import fastgd
    from fastgd._backend import available_backends, resolve_backend

    try:
        auto = resolve_backend("auto")
    except (ImportError, ValueError) as exc:
        auto = f"none ({exc})"
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "fastgd": fastgd.__version__,
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "scikit-learn": _version("scikit-learn", "sklearn"),
        "numba": _version("numba"),
        "Cython": _version("Cython"),
        "backends available": available_backends(),
        "backend='auto' resolves to": auto,
        "numba threading layer": _numba_threading_layer(),
        "Cython kernels built with OpenMP": _cython_openmp(),
    }


def show_config(file=None):
    """Print fastgd's version, its dependencies' versions and the backends here.

    Reports the versions of fastgd, NumPy, SciPy, scikit-learn, Numba and Cython
    ("not installed" when missing), the compiled backends that import, what
    ``backend='auto'`` picks (``FASTGD_BACKEND`` included), Numba's threading layer
    and whether the Cython kernels were compiled with OpenMP.
    """
    info = config_info()
    width = max(len(k) for k in info)
    for key, value in info.items():
        if value is None:
            value = "not installed" if key in ("numba", "Cython", "scipy",
                                               "scikit-learn") else "n/a"
        elif isinstance(value, list):
            value = ", ".join(value) or "none"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        print(f"{key:>{width}}: {value}", file=file if file is not None else sys.stdout)

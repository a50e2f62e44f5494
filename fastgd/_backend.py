"""Which compiled backend runs the kernels: ``backend='auto'|'numba'|'cython'``.

``'auto'`` takes the environment variable ``FASTGD_BACKEND`` when it is set, else Numba
when it imports, else the compiled Cython kernels. Nothing here imports Numba at
package import: a backend is only imported when a fit (or ``available_backends``)
asks for it, so fastgd works without Numba when its Cython kernels are built.

Warm hand-off: a process's first ``'auto'`` fit would wait about 0.6 s for Numba's
import and its cached kernels (measured: import + first fit 0.68 s against scikit-
learn's 0.10 s; the Cython kernels, already compiled, 0.19 s). So while Numba has not
been loaded, ``'auto'`` runs on the Cython kernels, which give bit-identical results,
and a background thread loads Numba's; the fits after it has finished run on Numba.
Threaded fits (``n_jobs > 1``) wait for Numba's threaded kernels. ``fork()`` waits for
the loading thread, so a child never inherits a half-done import.
"""

import ctypes
import dataclasses
import functools
import importlib
import importlib.util
import os
import sys
import threading
import types
from importlib import metadata

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
    return _resolve(backend)[0]


def _resolve(backend):
    """(name, hand-off): hand-off when 'auto' runs on Cython while Numba loads."""
    if backend == "auto":
        backend = os.environ.get("FASTGD_BACKEND", "auto").lower()
    if backend == "auto":
        if _handing_off():
            return "cython", True
        for name in BACKENDS:
            if _importable(name):
                return name, False
        raise ImportError("fastgd needs numba or its compiled Cython kernels; "
                          "neither imports here.")
    if backend not in BACKENDS:
        raise ValueError(f"Unknown backend {backend!r}; expected one of "
                         f"{('auto',) + BACKENDS}.")
    if not _importable(backend):
        raise ValueError(f"backend={backend!r} is not available in this installation "
                         f"(available: {available_backends()}).")
    return backend, False


# ------------------------------------------------------------------ warm hand-off
_LOADER = []  # the background thread that loads Numba's kernels (at most one)
_NUMBA_READY = threading.Event()
_LOADER_LOCK = threading.Lock()
_NUMBA_KERNELS = ("fastgd.kernels._nb_sgd", "fastgd.kernels._nb_vr")


def _load_numba():
    """Import Numba's kernels and load the ones a default fit calls from the cache."""
    try:
        import numpy as np

        from fastgd import SGDClassifier

        X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.5]])
        y = np.array([0, 1, 1, 0])
        import scipy.sparse as sp

        for data in (X, sp.csr_matrix(X)):
            SGDClassifier(max_iter=2, tol=None, backend="numba").fit(data, y)
    except Exception:  # noqa: BLE001 - Numba missing or broken: 'auto' stays on Cython
        pass
    finally:
        _NUMBA_READY.set()


#: what ``_load_numba`` imports besides Numba, llvmlite and Numba's kernel modules
_LOADER_PREIMPORTS = ("contextlib", "glob", "hashlib", "inspect", "scipy.sparse",
                      "fastgd.linear_model")


def _handing_off():
    """True while 'auto' should run on Cython: Numba's kernels are not loaded yet (the
    first call starts the loading thread). False once they are, when Numba's kernels
    were imported otherwise, or when hand-off cannot help (no Cython kernels, or no
    Numba)."""
    if _NUMBA_READY.is_set():
        return not _numba_loaded()
    with _LOADER_LOCK:
        if not _LOADER:
            if (any(m in sys.modules for m in _NUMBA_KERNELS) or not _numba_findable()
                    or not _importable("cython")):
                return False
            # Python's import locks are per module: a thread that imports a package
            # while another imports the same package from the other end (scikit-learn's
            # linear_model and its _base, say) can deadlock, and Python then raises
            # _DeadlockError in one of them. So every module the loader needs but
            # Numba's own is imported here, in the caller's thread, first.
            for name in _LOADER_PREIMPORTS:
                importlib.import_module(name)
            thread = threading.Thread(target=_load_numba, name="fastgd-numba-loader")
            _LOADER.append(thread)
            thread.start()
    return not _NUMBA_READY.is_set() or not _numba_loaded()


def _numba_findable():
    """Whether Numba is installed, without importing it."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):
        return False


def _numba_loaded():
    return all(m in sys.modules for m in _NUMBA_KERNELS)


def wait_for_numba(timeout=None):
    """Wait for the background loading of Numba's kernels, if one was started; True
    when Numba's kernels are loaded."""
    if _LOADER:
        _LOADER[0].join(timeout)
    return _numba_loaded()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=wait_for_numba)


def _module(family, backend):
    """fastgd.kernels._nb_<family> (Numba) or _cy_<family> (the same source compiled by
    Cython), per the backend."""
    prefix = "_nb" if resolve_backend(backend) == "numba" else "_cy"
    return importlib.import_module(f"fastgd.kernels.{prefix}_{family}")


@dataclasses.dataclass(frozen=True)
class Backend:
    """The kernels of one compiled backend, resolved once (``get_backend``): every kernel
    family has the same functions and signatures on both."""

    name: str  # 'numba' or 'cython'
    sgd: types.ModuleType  # solver='sgd', and the losses, margins, shuffles
    vr: types.ModuleType  # SAG, SAGA, SVRG
    handoff: bool = False  # 'auto' on Cython while Numba loads (module docstring)

    @property
    def multinomial(self):
        """Multinomial (softmax) SAG/SAGA/SVRG (``_nb_multinomial`` / ``_cy_multinomial``),
        imported on first use."""
        return _module("multinomial", self.name)

    def threaded(self, family):
        """The multi-threaded ``family`` ('parallel': Hogwild! and synchronous SGD;
        'async_vr': ASAGA, AsySVRG), imported on first use, never at package import; or
        None where threads cannot run: in a child forked after OpenMP threads (below),
        or Cython kernels built without OpenMP (their ``prange`` would run the threads'
        work one after another; ``n_jobs`` then parallelises one-vs-rest problems only,
        as in scikit-learn)."""
        if not threads_usable():
            return None
        name = "numba" if self.handoff and wait_for_numba() else self.name
        module = _threaded_module(family, name)
        if name == "cython" and not module.OPENMP:
            return None
        return module


@functools.lru_cache(maxsize=None)
def _backend_named(name, handoff=False):
    return Backend(name, _module("sgd", name), _module("vr", name), handoff)


def get_backend(backend="auto"):
    """The ``Backend`` that ``backend`` ('auto', 'numba', 'cython') selects."""
    return _backend_named(*_resolve(backend))


def kernels(backend="auto"):
    """The SGD kernel module of a backend (``_nb_sgd`` or ``_cy_sgd``)."""
    return get_backend(backend).sgd


def vr_kernels(backend="auto"):
    """The SAG/SAGA/SVRG kernel module of a backend (``_nb_vr`` or ``_cy_vr``)."""
    return get_backend(backend).vr


def multinomial_kernels(backend="auto"):
    """The multinomial SAG/SAGA/SVRG kernel module of a backend (``_nb_multinomial`` or
    ``_cy_multinomial``)."""
    return get_backend(backend).multinomial


def parallel_kernels(backend="auto"):
    """The ``n_jobs > 1`` SGD kernel module of a backend (``_nb_parallel`` or
    ``_cy_parallel``), whether or not threads can run (``Backend.threaded`` says)."""
    return _threaded_module("parallel", backend)


def async_vr_kernels(backend="auto"):
    """The ``n_jobs > 1`` SAGA/SVRG kernels of a backend (``_nb_async_vr`` or
    ``_cy_async_vr``; lock-free)."""
    return _threaded_module("async_vr", backend)


# ------------------------------------------------------------- threads and fork()
def load_tbb():
    """Load the ``tbb`` wheel's ``libtbb.so.12`` so that Numba's TBB layer can start.

    pip puts the library under the environment's ``lib/`` (or wherever the ``tbb``
    distribution's files are), which the dynamic loader does not search, so Numba's
    ``tbbpool`` extension fails to import and Numba silently falls back to GNU OpenMP,
    which is not fork-safe. Loading the library by its path first (``RTLD_GLOBAL``)
    lets ``tbbpool`` find it by its soname. Returns the path loaded, or None.
    """
    if sys.platform != "linux":
        return None
    candidates = []
    try:
        candidates += [f.locate() for f in metadata.files("tbb") or ()
                       if f.name.startswith("libtbb.so.")]
    except metadata.PackageNotFoundError:
        pass
    candidates.append(os.path.join(sys.prefix, "lib", "libtbb.so.12"))
    for path in candidates:
        path = str(path)
        if os.path.exists(path):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
            return path
    return None


# Set in a child made by fork() from a process that had started GNU OpenMP threads
# (the Cython kernels' OpenMP, or Numba's 'omp' layer): libgomp's thread pool does
# not survive fork(), and a parallel region in the child hangs (Cython) or is killed
# by Numba. Such a child runs its fits with the serial kernels instead.
_OPENMP_STARTED = False
_FORKED_AFTER_OPENMP = False


def _openmp_started():
    if _OPENMP_STARTED:
        return True
    numba = sys.modules.get("numba")
    if numba is None:
        return False
    try:
        return numba.threading_layer() == "omp"
    except ValueError:  # no parallel region has run
        return False


def _after_fork_in_child(started):
    global _FORKED_AFTER_OPENMP, _OPENMP_STARTED
    _FORKED_AFTER_OPENMP = _FORKED_AFTER_OPENMP or started
    _OPENMP_STARTED = False


_started_at_fork = [False]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=lambda: _started_at_fork.__setitem__(0, _openmp_started()),
        after_in_child=lambda: _after_fork_in_child(_started_at_fork[0]))


def threads_usable():
    """False in a forked child of a process that ran GNU OpenMP threads (see above)."""
    return not _FORKED_AFTER_OPENMP


def _threaded_module(family, backend):
    """A multi-threaded kernel module; notes that this process may start libgomp threads."""
    global _OPENMP_STARTED
    module = _module(family, backend)
    if getattr(module, "OPENMP", False):
        _OPENMP_STARTED = True  # this process is about to run libgomp threads
    return module

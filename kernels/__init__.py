"""Compiled hot loops of fastgd (installed as ``fastgd.kernels``).

Each family is one Python source, ``_nb_<family>.py``: ``sgd`` (plain SGD and every
update rule), ``vr`` (SAG/SAGA/SVRG), ``parallel`` (Hogwild! and synchronous
data-parallel epochs) and ``async_vr`` (ASAGA/AsySVRG), with the helpers they share in
``_nb_common.py``. Numba jits it as ``fastgd.kernels._nb_<family>``; the build compiles
the same text with Cython (with ``_nb_<family>.pxd`` for the C types) as
``fastgd.kernels._cy_<family>``: same names, signatures and results (see
``_nb_common.py``). Every Numba kernel is compiled lazily, once per dtype of the data
(float32, float64), and cached on disk (``cache=True``); ``warmup()`` compiles the
serial ones ahead of time.
"""

import time

import numpy as np

SPECIALISATIONS = ("float32", "float64")


def warmup(verbose=False):
    """Compile (or load from the cache) every kernel for float32 and float64 data.

    Returns the seconds it took. Runs a few real epochs on a tiny problem, dense and
    CSR, so that each specialisation that a fit can reach is built.
    """
    import scipy.sparse as sp

    from fastgd import SGDClassifier, SGDRegressor
    from fastgd.objective import objective

    start = time.perf_counter()
    rng = np.random.RandomState(0)
    for dtype in SPECIALISATIONS:
        X = rng.rand(6, 3).astype(dtype)
        y = np.array([0, 1, 0, 1, 1, 0])
        for data in (X, sp.csr_matrix(X)):
            SGDClassifier(max_iter=2, tol=None, average=True, penalty="elasticnet").fit(
                data, y)
            SGDRegressor(max_iter=2, tol=None, optimizer="adam", batch_size=2).fit(data, y)
            objective(data, y, np.zeros(3), 0.0, "log_loss", 1e-4)
            for solver in ("sag", "saga", "svrg"):
                SGDClassifier(loss="log_loss", solver=solver, max_iter=2, tol=None,
                              penalty="l2" if solver == "sag" else "elasticnet").fit(data, y)
        # read-only arrays are another specialisation: memory-mapped data
        # (fastgd.datasets.load_mmap, the command line's fits) runs plain SGD on them
        ro = sp.csr_matrix(X)
        for arr in (ro.data, ro.indices, ro.indptr):
            arr.flags.writeable = False
        SGDClassifier(max_iter=2, tol=None).fit(ro, y)
    elapsed = time.perf_counter() - start
    if verbose:
        print(f"fastgd kernels ready in {elapsed:.2f} s")
    return elapsed

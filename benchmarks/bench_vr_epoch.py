"""SAG/SAGA seconds per epoch of LogisticRegression on a9a, w8a, debian-size, both backends:
the marginal epoch of fits of 1 and 6 epochs, min of 3.

    python benchmarks/bench_vr_epoch.py
"""

import os
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_target  # noqa: E402

import fastgd  # noqa: E402

warnings.simplefilter("ignore")
DATA = os.path.join(HERE, "..", "..", "shared", "data")
CACHE = os.path.join(HERE, "results", "cache")
for name in ("a9a", "w8a", "debian-size"):
    X, y = bench_target.load(name, DATA, CACHE)
    C = 1 / (1e-4 * X.shape[0])
    for backend in ("numba", "cython"):
        for solver in ("sag", "saga"):
            f = lambda k: fastgd.LogisticRegression(C=C, solver=solver, tol=0, max_iter=k, backend=backend, random_state=0).fit(X, y)
            f(1)
            ts = []
            for _ in range(3):
                t = time.perf_counter(); f(1); t1 = time.perf_counter() - t
                t = time.perf_counter(); e = f(6); t6 = time.perf_counter() - t
                ts.append((t6 - t1) / 5)
            print(name, backend, solver, f"{min(ts)*1e3:.2f} ms/epoch", e.coef_.ravel()[:3])

"""Seconds per shuffled epoch of fastgd's solvers on large sets (the prefetch table of
the README, 2026-12-04).

    python benchmarks/bench_epoch.py [--backend numba|cython] [--sets covtype synth-1e7]

log_loss, alpha = 1e-4, tol=None, random_state=0; per method the best of two fresh fits
of 1 and of 6 epochs, s/epoch = (T6 - T1) / 5. Sets as ``bench_dask.load``: a shared
svmlight file (MaxAbs-scaled) or ``synth-<nnz>``. To compare kernels, run it on two
checkouts (the README's "before" is the commit before 7ae88bd).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_dask import load  # noqa: E402

METHODS = {"sgd": {}, "adam": {"optimizer": "adam", "eta0": 1e-3},
           "saga": {"solver": "saga"}, "sag": {"solver": "sag"}}
NAMES = {"covtype": "covtype.libsvm.binary.xz"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="numba")
    ap.add_argument("--sets", nargs="*", default=["covtype", "synth-1e7"])
    args = ap.parse_args()
    import fastgd

    for name in args.sets:
        X, y = load(NAMES.get(name, name), 10**8)
        for method, kw in METHODS.items():
            times = []
            for epochs in (1, 6):
                est = fastgd.SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=epochs,
                                           tol=None, random_state=0, backend=args.backend,
                                           **kw)
                est.fit(X[:1000], y[:1000])  # compile / load the kernels
                best = float("inf")
                for _ in range(2):
                    start = time.perf_counter()
                    est.fit(X, y)
                    best = min(best, time.perf_counter() - start)
                times.append(best)
            print(f"{args.backend} {name} {method}: "
                  f"{(times[1] - times[0]) / 5 * 1e3:.1f} ms/epoch", flush=True)


if __name__ == "__main__":
    main()

"""Seconds per shuffled epoch of fastgd's solvers and rules (the prefetch table of the
README, 2026-12-04; the generic kernel's table, 2026-12-07).

    python benchmarks/bench_epoch.py [--backend numba|cython] [--sets covtype synth-1e7]
                                     [--methods sgd adam saga sag] [--dense]

log_loss, alpha = 1e-4, tol=None, random_state=0; per method the best of ``--repeat``
fresh fits of 1 and of 6 epochs, s/epoch = (T6 - T1) / 5. Sets as ``bench_dask.load``:
a shared svmlight file (MaxAbs-scaled, e.g. a9a.xz) or ``synth-<nnz>``; ``--dense``
fits X.toarray() instead of the CSR matrix. Methods: plain SGD, the rules of the
generic kernel (batch 1, lazy on CSR), with clipping or noise, and SAG/SAGA. To compare
kernels, run it on two checkouts (the README says which commits).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_dask import load  # noqa: E402

METHODS = {"sgd": {}, "momentum": {"optimizer": "momentum", "eta0": 1e-2},
           "adagrad": {"optimizer": "adagrad", "eta0": 1e-2},
           "adam": {"optimizer": "adam", "eta0": 1e-3},
           "adam+clip_value": {"optimizer": "adam", "eta0": 1e-3, "clip_value": 1.0},
           "adam+noise": {"optimizer": "adam", "eta0": 1e-3, "gradient_noise": 0.01},
           "saga": {"solver": "saga"}, "sag": {"solver": "sag"}}
NAMES = {"covtype": "covtype.libsvm.binary.xz"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="numba")
    ap.add_argument("--sets", nargs="*", default=["covtype", "synth-1e7"])
    ap.add_argument("--methods", nargs="*", default=["sgd", "adam", "saga", "sag"],
                    choices=sorted(METHODS))
    ap.add_argument("--dense", action="store_true", help="fit X.toarray()")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    import fastgd

    for name in args.sets:
        X, y = load(NAMES.get(name, name), 10**8)
        if args.dense:
            X = X.toarray()
        for method in args.methods:
            times = []
            for epochs in (1, 6):
                est = fastgd.SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=epochs,
                                           tol=None, random_state=0, backend=args.backend,
                                           **METHODS[method])
                est.fit(X[:1000], y[:1000])  # compile / load the kernels
                best = float("inf")
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    est.fit(X, y)
                    best = min(best, time.perf_counter() - start)
                times.append(best)
            print(f"{args.backend} {name}{' dense' if args.dense else ''} {method}: "
                  f"{(times[1] - times[0]) / 5 * 1e3:.1f} ms/epoch", flush=True)


if __name__ == "__main__":
    main()

"""n_jobs benchmark: time per epoch of Hogwild! SGD, full-batch GD and the lock-free
variance-reduced solvers (ASAGA, AsySVRG), 1 vs k threads.

    python benchmarks/bench_parallel.py [--epochs 5] [--threads 1 2] [--quick] [--out F.md]
                                        [--data DIR]

Problems: covtype (binary, MaxAbsScaler), debian-size (squared_error), both from
``../shared/data`` (skipped when absent), and the synthetic sparse logistic problem with
1e7 non-zeros and power-law column frequencies of ``benchmarks/synthetic.py`` (the
``synth-1e7`` of compare.py). Methods: plain SGD
(scikit-learn's algorithm, ``optimizer='sgd'``, batch 1), Adam lazy (batch 1),
full-batch gradient descent (``batch_size='full'``, synchronous data parallelism), and
``solver='saga'`` / ``'svrg'`` with their default step (lock-free ASAGA / AsySVRG for
n_jobs > 1; an svrg epoch is a snapshot pass plus 2n steps).

For each: seconds per epoch (marginal cost of an epoch over fresh fits of 1 and
``--epochs`` epochs, kernels compiled before timing), the speed-up ratio, the relative
suboptimality (F - F*) / F* after the epochs, and the time to reach 1e-4 when a fit of
1, 2, 4, ... epochs reaches it (F* from ``peers.optimum``, SciPy L-BFGS-B, as in
compare.py). Prints a Markdown table.
"""

import argparse
import io
import itertools
import lzma
import os
import time

import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import optimum  # noqa: E402
from synthetic import make_powerlaw  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
ALPHA = 1e-4


def load(name, data=DATA, max_rows=None):
    from sklearn.datasets import load_svmlight_file

    path = os.path.join(data, name)
    if not os.path.exists(path):
        return None
    with lzma.open(path, "rb") as f:
        if max_rows:
            f = io.BytesIO(b"".join(itertools.islice(f, max_rows)))
        X, y = load_svmlight_file(f, dtype=np.float64)
    return X.tocsr(), y


def run(cls, params, X, y, yy, loss, epochs, fstar):
    """(s/epoch, rel. suboptimality after ``epochs``, seconds to 1e-4 or None).

    Fresh fits of 1, 2, 4, ... ``epochs`` epochs (``tol=None``), as compare.py does:
    s/epoch is the marginal cost (T(epochs) - T(1)) / (epochs - 1), so input validation
    and set-up, which do not run in parallel, are not counted; the time to 1e-4 is the
    wall time of the first of those fits that reaches it.
    """
    from fastgd.objective import objective

    budgets = sorted({1, *[2 ** k for k in range(1, 20) if 2 ** k < epochs], epochs})
    times, t_hit, rel = {}, None, None
    for b in budgets:
        start = time.perf_counter()
        est = cls(max_iter=b, tol=None, **params).fit(X, y)
        times[b] = time.perf_counter() - start
        f = objective(X, yy, est.coef_.ravel(), np.ravel(est.intercept_)[0], loss, ALPHA)
        rel = (f - fstar) / abs(fstar)
        if t_hit is None and rel <= 1e-4:
            t_hit = times[b]
    per_epoch = (times[epochs] - times[1]) / (epochs - 1) if epochs > 1 else times[1]
    return per_epoch, rel, t_hit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=None)
    ap.add_argument("--quick", action="store_true", help="small synthetic problem only")
    ap.add_argument("--out", default=None, help="also write the Markdown table here")
    ap.add_argument("--data", default=DATA, help="folder of the shared datasets")
    args = ap.parse_args()
    from fastgd import SGDClassifier, SGDRegressor, show_config

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2
    threads = args.threads or sorted({1, 2, cores})
    problems = []
    if args.quick:
        problems.append(("synth-2e5", "log_loss", *make_powerlaw(2 * 10**5)))
    else:
        problems.append(("synth-1e7", "log_loss", *make_powerlaw(10**7)))
        for name, label, loss in (("covtype.libsvm.binary.xz", "covtype", "log_loss"),
                                  ("debian-size.svm.xz", "debian-size", "squared_error")):
            data = load(name, args.data)
            if data is None:
                print(f"({name} not found: skipped)")
                continue
            X, y = data
            if label == "covtype":
                from sklearn.preprocessing import MaxAbsScaler

                X = MaxAbsScaler().fit_transform(X).tocsr()
                y = np.where(y == y.max(), 1.0, -1.0)
            problems.append((label, loss, X, y))
    methods = {
        "plain SGD (Hogwild!)": dict(),
        "Adam lazy (Hogwild!)": dict(optimizer="adam", eta0=1e-3),
        "full-batch GD (sync)": dict(batch_size="full", learning_rate="constant",
                                     eta0=1.0),
        "SAGA (ASAGA)": dict(solver="saga"),
        "SVRG (AsySVRG)": dict(solver="svrg"),
    }
    rows = []
    for label, loss, X, y in problems:
        yy = y if loss == "squared_error" else np.where(y == y.max(), 1.0, -1.0)
        t0 = time.perf_counter()
        fstar = optimum(X, yy, "reg" if loss == "squared_error" else "clf", ALPHA)[0]
        print(f"{label}: {X.shape[0]} x {X.shape[1]}, nnz {X.nnz}, F* {fstar:.6g} "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
        for mname, kw in methods.items():
            cls = SGDRegressor if loss == "squared_error" else SGDClassifier
            base = dict(alpha=ALPHA, random_state=0, **kw)
            if loss == "squared_error" and mname.startswith("full"):
                base["eta0"] = 0.1
            if loss != "squared_error":
                base["loss"] = loss
            res = {}
            for k in threads:
                # compile (or load from the cache) before timing
                cls(n_jobs=k, max_iter=1, tol=None, **base).fit(X[:200], y[:200])
                res[k] = run(cls, dict(base, n_jobs=k), X, y, yy, loss, args.epochs, fstar)
                print(f"  {mname:24s} n_jobs={k}: {res[k][0]:.4f} s/epoch, rel {res[k][1]:.2e}",
                      flush=True)
            rows.append((label, mname, res))
    lines = [f"`python benchmarks/bench_parallel.py {' '.join(sys.argv[1:])}`, "
             f"{time.strftime('%Y-%m-%d %H:%M')}: fits of 1, 2, 4, ... {args.epochs} epochs; "
             f"s/epoch = marginal cost of an epoch; machine: {cores} cores", ""]
    head = "| problem | method | " + " | ".join(f"s/epoch n_jobs={k}" for k in threads)
    head += " | " + " | ".join(f"speed-up ×{k}" for k in threads if k > 1)
    head += " | rel. subopt. " + " / ".join(str(k) for k in threads)
    head += " | time to 1e-4 " + " / ".join(str(k) for k in threads) + " |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for label, mname, res in rows:
        base_t = res[threads[0]][0]
        cells = [label, mname] + [f"{res[k][0]:.4f}" for k in threads]
        cells += [f"{base_t / res[k][0]:.2f}" for k in threads if k > 1]
        cells.append(" / ".join(f"{res[k][1]:.1e}" for k in threads))
        cells.append(" / ".join("–" if res[k][2] is None else f"{res[k][2]:.2f} s"
                                for k in threads))
        lines.append("| " + " | ".join(cells) + " |")
    print("\n" + "\n".join(lines))
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    print()
    show_config()


if __name__ == "__main__":
    main()

"""Time to a target: LogisticRegression (binary, L2, alpha = 1e-4) by fastgd's solvers
('auto', 'lbfgs', 'newton-cholesky', 'subsampled-newton', 'sag', 'saga', 'svrg') and
scikit-learn's ('lbfgs', 'sag', 'saga').

Both sides fit the same objective, scikit-learn's ``LogisticRegression`` with
``C = 1 / (alpha n)``: F(w, b) = (1/n) Σ log(1 + exp(-y_i (x_i·w + b))) + alpha/2 ||w||².
F* comes from ``peers.optimum`` (SciPy L-BFGS-B to ||∇F||_inf <= 1e-11, cached in
``optimum.json`` beside compare.py's). Each point is a fresh fit with ``max_iter = k``
(k = 1, 2, 3, 4, 6, 8, 12, ...: steps of 1.5x and 1.33x, so that a solver just missing
a target is not timed at twice its epochs) and ``tol = 0``, timed whole (validation included) after one warm-up
fit; the time to relative suboptimality eps is the first such fit whose
(F - F*) / F* <= eps. A method stops at eps = 1e-6 or after ``--max-seconds``.

The datasets are compare.py's binary sets (train part), plus ``debian-size`` turned
binary (target above its median: 63k x 48k tf-idf + indicators, rows of very uneven
norms).

    python benchmarks/bench_target.py --out benchmarks/results [--only a9a w8a]
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import compare  # noqa: E402
import peers  # noqa: E402

from fastgd._backend import wait_for_numba  # noqa: E402

DATASETS = ("a9a", "w8a", "mushrooms", "reuters", "ijcnn1", "covtype", "debian-size")
TARGETS = (1e-2, 1e-4, 1e-6)
#: fastgd's methods: a solver, or solver:sampling ('saga' samples by sampling='auto')
FASTGD = ("auto", "lbfgs", "newton-cholesky", "subsampled-newton", "sag", "saga",
          "saga:uniform", "svrg")
#: Newton's Hessian is (d + 1)^2: not run beyond this many features (reported as "-")
NEWTON_MAX_FEATURES = 2000
SKLEARN = ("lbfgs", "sag", "saga")


def load(name, data_dir, cache_dir):
    """(X, y) of the training part, y in {-1, +1}."""
    ds = compare.load_dataset(name, data_dir, cache_dir)
    X, y = ds["X"], ds["y"]
    if ds["task"] == "reg":  # debian-size: above the median is the positive class
        y = np.where(y > np.median(y), 1.0, -1.0)
    return X, y


def estimator(library, solver, alpha, n, max_iter, n_jobs=None):
    import sklearn.linear_model

    import fastgd

    cls = fastgd.LogisticRegression if library == "fastgd" else \
        sklearn.linear_model.LogisticRegression
    solver, _, sampling = solver.partition(":")
    kw = dict(n_jobs=n_jobs) if library == "fastgd" else {}
    if sampling:
        kw["sampling"] = sampling
    return cls(C=1.0 / (alpha * n), solver=solver, tol=0.0, max_iter=max_iter, **kw)


def run(library, solver, X, y, alpha, fstar, max_seconds, n_jobs=None):
    """The points (max_iter, seconds, rel_subopt, solver_) of one method, fastest first."""
    points = []
    k = 1
    total = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):  # warm-up: the first 'auto' fit runs on Cython while Numba
            # loads; the second loads the Numba kernels the timed fits call
            estimator(library, solver, alpha, X.shape[0], 1, n_jobs).fit(X, y)
            wait_for_numba()
        while True:
            est = estimator(library, solver, alpha, X.shape[0], k, n_jobs)
            t = time.perf_counter()
            est.fit(X, y)
            seconds = time.perf_counter() - t
            total += seconds
            f = peers.objective(X, y, est.coef_.ravel(), float(est.intercept_[0]), "clf",
                                alpha)
            rel = (f - fstar) / abs(fstar)
            points.append(dict(max_iter=k, seconds=seconds, rel_subopt=rel,
                               solver_=getattr(est, "solver_", solver)))
            if rel <= TARGETS[-1] or total > max_seconds or k >= 4096:
                return points
            k = next_budget(k)


def next_budget(k):
    """1, 2, 3, 4, 6, 8, 12, 16, 24, ...: a power of two, then 1.5 times it."""
    if k < 2:
        return 2
    return k + k // 2 if k & (k - 1) == 0 else 1 << k.bit_length()


def time_to(points, eps):
    """Seconds of the fastest point at or below ``eps`` (None: not reached)."""
    hit = [p["seconds"] for p in points if p.get("rel_subopt") is not None
           and p["rel_subopt"] <= eps]
    return min(hit) if hit else None


def write_report(out, stem, argv, results, markdown, **meta):
    """``<stem>.json`` and ``<stem>.md`` under ``out`` (meta: the date, the machine and
    the command, plus ``meta``); prints and returns the markdown."""
    meta.update(date=time.strftime("%Y-%m-%d"), machine=compare.machine_info().get("cpu", ""),
                command=f"python benchmarks/{stem}.py " + " ".join(
                    argv if argv is not None else sys.argv[1:]))
    with open(os.path.join(out, stem + ".json"), "w") as f:
        json.dump(dict(meta=meta, results=results), f, indent=1, default=str)
    text = markdown(results, meta)
    with open(os.path.join(out, stem + ".md"), "w") as f:
        f.write(text)
    print(text)
    return text


def row_norm_spread(X):
    """max ||x_i||² / mean ||x_i||²: how much shorter SAG's safe step 1/L_max is than a
    mean row would allow."""
    sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() + 1.0
    return float(sq.max() / sq.mean())


def markdown(results, meta):
    lines = [f"# Time to target, LogisticRegression (alpha = {meta['alpha']})", "",
             f"{meta['date']}, {meta['machine']}. Command: `{meta['command']}`", "",
             "Seconds of the fastest fresh fit (max_iter 1, 2, 3, 4, 6, 8, ..., tol = 0) whose "
             "relative suboptimality is at or below the target; '—' not reached within "
             "the budget. `auto` names the solver it picked.", ""]
    for name, d in results.items():
        lines += [f"## {name}: {d['shape'][0]:,} x {d['shape'][1]:,}, nnz {d['nnz']:,}, "
                  f"row-norm spread {d['spread']:.3g}", "",
                  "| method | " + " | ".join(f"t→{e:g}" for e in TARGETS) +
                  " | final subopt |", "|---|" + "---:|" * (len(TARGETS) + 1)]
        for method, pts in d["methods"].items():
            label = method
            if method.startswith("fastgd-auto"):
                label += f" ({pts[-1]['solver_']})"
            cells = [time_to(pts, e) for e in TARGETS]
            lines.append(f"| {label} | " + " | ".join(
                "—" if c is None else f"{c:.3g}" for c in cells) +
                f" | {pts[-1]['rel_subopt']:.1e} |")
        best_sk = [time_to(p, 1e-4) for m, p in d["methods"].items()
                   if m.startswith("sklearn")]
        best_sk = min([b for b in best_sk if b is not None], default=None)
        for m in ("fastgd-auto", "fastgd-auto-2jobs"):
            auto = time_to(d["methods"].get(m, []), 1e-4)
            if best_sk and auto:
                lines += ["", f"{m} → 1e-4 / best scikit-learn → 1e-4: "
                          f"**{auto / best_sk:.2f}×** (goal ≤ 0.5×)"]
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.path.join(HERE, "..", "..", "shared",
                                                           "data"))
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--alpha", type=float, default=1e-4)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--fastgd", nargs="*", default=FASTGD)
    parser.add_argument("--fastgd-2jobs", nargs="*", default=("auto",),
                        help="fastgd solvers also run with n_jobs=2")
    parser.add_argument("--sklearn", nargs="*", default=SKLEARN)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    cache_dir = os.path.join(args.out, "cache")
    results = {}
    for name in args.only or DATASETS:
        X, y = load(name, args.data_dir, cache_dir)
        ds = dict(X=X, y=y, task="clf")
        fstar = compare.get_optimum(args.out, name + "-binary", ds, args.alpha)["fstar"]
        d = results[name] = dict(shape=X.shape, nnz=int(X.nnz), spread=row_norm_spread(X),
                                 methods={})
        methods = [("fastgd", s, None, f"fastgd-{s}") for s in args.fastgd]
        methods += [("fastgd", s, 2, f"fastgd-{s}-2jobs") for s in args.fastgd_2jobs]
        methods += [("sklearn", s, None, f"sklearn-{s}") for s in args.sklearn]
        for library, solver, n_jobs, label in methods:
            if "newton" in solver and X.shape[1] > NEWTON_MAX_FEATURES:
                continue
            pts = run(library, solver, X, y, args.alpha, fstar, args.max_seconds, n_jobs)
            d["methods"][label] = pts
            print(f"{name:12s} {label:18s} → 1e-4: {time_to(pts, 1e-4)}  "
                  f"final {pts[-1]['rel_subopt']:.1e}", flush=True)
    write_report(args.out, "bench_target", argv, results, markdown, alpha=args.alpha)


if __name__ == "__main__":
    main()

"""Time to a target for the exact estimators: ``fastgd.Ridge`` against scikit-learn's
``Ridge`` (sag, saga, sparse_cg, lsqr; cholesky on dense X), and the multinomial
``fastgd.LogisticRegression`` against scikit-learn's (lbfgs, sag, saga). The binary
``LogisticRegression`` is ``bench_target.py``'s.

Ridge: scikit-learn's default ``alpha = 1``, its objective ``||y - Xw - b||² + ||w||²``,
on every shared set (the regression targets of debian-size, abalone and housing; the
±1 labels of the binary sets, least-squares classification). Multinomial (no multiclass
file is shared): digits (scikit-learn's, pixels / 16) and a 5-class
``make_classification`` (20,000 x 50, seed 0), ``C = 1 / (alpha n)`` with
``alpha = 1e-4``: F = (1/n) Σ -log softmax_{y_i}(W x_i + b) + alpha/2 ||W||².

F* is the lowest objective of tight reference fits (SciPy L-BFGS-B to ||∇F||_inf <=
1e-11 for Ridge, ``peers.optimum``; for the multinomial the tighter of fastgd's and
scikit-learn's lbfgs at tol 1e-12), cached in ``optimum.json``. Each point is a fresh
fit with ``max_iter = k`` (k = 1, 2, 4, ...) and ``tol = 0``, timed whole after one
warm-up fit; the time to relative suboptimality eps is the first such fit whose
(F - F*) / F* <= eps. cholesky is one fit (it is direct; run on the sets with at most
2,000 features, densified). The sets of over 50 % non-zeros are passed dense.

    python benchmarks/bench_exact.py --out benchmarks/results [--only ridge:a9a digits]
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import compare  # noqa: E402
from bench_target import time_to, write_report  # noqa: E402

from fastgd._backend import wait_for_numba  # noqa: E402

TARGETS = (1e-4, 1e-6)
RIDGE_SETS = ("a9a", "w8a", "mushrooms", "reuters", "ijcnn1", "covtype", "debian-size",
              "abalone", "housing")
MULTI_SETS = ("digits", "synth-5class")
RIDGE_FASTGD = ("auto", "sparse_cg", "lbfgs", "sag", "saga", "svrg")
RIDGE_SKLEARN = ("sag", "saga", "sparse_cg", "lsqr", "cholesky")
MULTI_FASTGD = ("auto", "lbfgs", "newton-cholesky", "subsampled-newton", "sag", "saga")
MULTI_SKLEARN = ("lbfgs", "sag", "saga")
ALPHA_MULTI = 1e-4


# ------------------------------------------------------------------ problems
def ridge_objective(X, y, est):
    r = y - X @ np.ravel(est.coef_).astype(np.float64) - float(np.ravel(est.intercept_)[0])
    w = np.ravel(est.coef_).astype(np.float64)
    return float(r @ r + w @ w)


def multinomial_objective(X, y_enc, est, alpha):
    Z = np.asarray(X @ est.coef_.T.astype(np.float64)) + est.intercept_.astype(np.float64)
    Z -= Z.max(axis=1, keepdims=True)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    W = est.coef_.astype(np.float64)
    return float(-logp[np.arange(len(y_enc)), y_enc].mean() + 0.5 * alpha * np.sum(W * W))


def load_multiclass(name):
    """(X, y int labels) of a multiclass set."""
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return X / 16.0, y
    from sklearn.datasets import make_classification

    return make_classification(20_000, 50, n_informative=30, n_classes=5,
                               n_clusters_per_class=2, random_state=0)


def estimator(kind, library, solver, max_iter, n, tol=0.0, n_jobs=None):
    import sklearn.linear_model

    import fastgd

    lib = fastgd if library == "fastgd" else sklearn.linear_model
    kw = dict(n_jobs=n_jobs) if library == "fastgd" else {}
    if kind == "ridge":
        return lib.Ridge(alpha=1.0, solver=solver, tol=tol, max_iter=max_iter,
                         random_state=0, **kw)
    return lib.LogisticRegression(C=1.0 / (ALPHA_MULTI * n), solver=solver, tol=tol,
                                  max_iter=max_iter, random_state=0, **kw)


def run(kind, library, solver, X, y, objective, fstar, max_seconds, n_jobs=None):
    """The points (max_iter, seconds, rel_subopt, solver_) of one method."""
    points = []
    k, total = 1, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            estimator(kind, library, solver, 1, X.shape[0], n_jobs=n_jobs).fit(X, y)  # JIT
            wait_for_numba()  # 'auto' fits on Cython while Numba loads: time Numba's
        except (ValueError, TypeError) as exc:  # e.g. cholesky on this input
            return [dict(max_iter=0, seconds=None, rel_subopt=None, error=str(exc)[:120])]
        while True:
            est = estimator(kind, library, solver, k, X.shape[0], n_jobs=n_jobs)
            t = time.perf_counter()
            est.fit(X, y)
            seconds = time.perf_counter() - t
            total += seconds
            rel = (objective(est) - fstar) / abs(fstar)
            points.append(dict(max_iter=k, seconds=seconds, rel_subopt=rel,
                               solver_=getattr(est, "solver_", solver)))
            direct = library == "sklearn" and solver == "cholesky"
            if direct or rel <= TARGETS[-1] or total > max_seconds or k >= 4096:
                return points
            k *= 2


# ------------------------------------------------------------------- report
def markdown(results, meta):
    lines = ["# Time to target: Ridge and multinomial LogisticRegression", "",
             f"{meta['date']}, {meta['machine']}. Command: `{meta['command']}`", "",
             "Seconds of the fastest fresh fit (max_iter doubled from 1, tol = 0) whose "
             "relative suboptimality is at or below the target; '—' not reached within "
             "the budget. `auto` names the solver it picked. Ratio: fastgd-auto's time "
             "over the fastest scikit-learn solver's, per target (goal ≤ 0.5×).", "",
             "| problem | n × d | fastgd | " + " | ".join(f"fastgd →{e:g}" for e in TARGETS)
             + " | " + " | ".join(f"best sklearn →{e:g}" for e in TARGETS) + " | " +
             " | ".join(f"ratio {e:g}" for e in TARGETS) + " |",
             "|---|---|---|" + "---:|" * (3 * len(TARGETS))]
    for key, d in results.items():
        for variant in ("fastgd-auto", "fastgd-auto-2jobs"):
            if variant not in d["methods"]:
                continue
            cells, best, ratios = [], [], []
            for e in TARGETS:
                auto = time_to(d["methods"][variant], e)
                sk = [(time_to(p, e), m) for m, p in d["methods"].items()
                      if m.startswith("sklearn")]
                sk = [s for s in sk if s[0] is not None]
                b = min(sk) if sk else None
                cells.append("—" if auto is None else f"{auto:.3g}")
                best.append("—" if b is None else f"{b[0]:.3g} ({b[1][8:]})")
                ratios.append("—" if (auto is None or b is None) else
                              f"{auto / b[0]:.2f}×")
            label = "auto" + (", 2 threads" if variant.endswith("2jobs") else "")
            lines.append(f"| {key} | {d['shape'][0]:,} × {d['shape'][1]:,} | {label} | " +
                         " | ".join(cells + best + ratios) + " |")
    lines.append("")
    for key, d in results.items():
        lines += [f"## {key}", "", "| method | " + " | ".join(
            f"t→{e:g}" for e in TARGETS) + " | final subopt |",
            "|---|" + "---:|" * (len(TARGETS) + 1)]
        for method, pts in d["methods"].items():
            last = pts[-1]
            if last.get("error"):
                lines.append(f"| {method} | refused: {last['error']} |" + " |" *
                             len(TARGETS))
                continue
            label = method + (f" ({last['solver_']})" if method.startswith("fastgd-auto")
                              else "")
            lines.append(f"| {label} | " + " | ".join(
                "—" if time_to(pts, e) is None else f"{time_to(pts, e):.3g}"
                for e in TARGETS) + f" | {last['rel_subopt']:.1e} |")
        lines.append("")
    return "\n".join(lines)


def multinomial_optimum(out, name, X, y_enc):
    path = os.path.join(out, "optimum.json")
    cache = json.load(open(path)) if os.path.exists(path) else {}
    key = f"{name}|multinomial|alpha={ALPHA_MULTI!r}|{X.shape[0]}x{X.shape[1]}"
    if key not in cache:
        fs = []
        for library in ("fastgd", "sklearn"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = estimator("multi", library, "lbfgs", 20_000, X.shape[0],
                                tol=1e-12).fit(X, y_enc)
            fs.append(multinomial_objective(X, y_enc, est, ALPHA_MULTI))
        cache[key] = dict(fstar=min(fs), fstars=fs)
        json.dump(cache, open(path, "w"), indent=1)
    return cache[key]["fstar"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.path.join(HERE, "..", "..", "shared",
                                                           "data"))
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    parser.add_argument("--only", nargs="*", default=None,
                        help="ridge:NAME or a multiclass NAME (digits, synth-5class)")
    parser.add_argument("--max-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    cache_dir = os.path.join(args.out, "cache")
    keys = args.only or [f"ridge:{n}" for n in RIDGE_SETS] + list(MULTI_SETS)
    results = {}
    for key in keys:
        if key.startswith("ridge:"):
            name = key[6:]
            ds = compare.load_dataset(name, args.data_dir, cache_dir)
            X, y = ds["X"].astype(np.float64), ds["y"]
            alpha = 1.0 / X.shape[0]  # SPEC's alpha of scikit-learn's Ridge(alpha=1)
            f_spec = compare.get_optimum(args.out, name + "-ridge",
                                         dict(X=X, y=y, task="reg"), alpha)["fstar"]
            fstar = 2.0 * X.shape[0] * f_spec  # ||r||² + ||w||² = 2 n F

            def objective(est, X=X, y=y):
                return ridge_objective(X, y, est)

            methods = [("fastgd", s, None) for s in RIDGE_FASTGD] + [
                ("fastgd", "auto", 2)] + [("sklearn", s, None) for s in RIDGE_SKLEARN]
            kind = "ridge"
            # dense-ish sets (abalone, housing, ijcnn1) as a user holds them: dense
            Xfit = X.toarray() if X.nnz > 0.5 * X.shape[0] * X.shape[1] else X
        else:
            Xd, y = load_multiclass(key)
            X = Xd
            y_enc = np.searchsorted(np.unique(y), y)
            fstar = multinomial_optimum(args.out, key, Xd, y_enc)

            def objective(est, Xd=Xd, y_enc=y_enc):
                return multinomial_objective(Xd, y_enc, est, ALPHA_MULTI)

            methods = [("fastgd", s, None) for s in MULTI_FASTGD] + [
                ("sklearn", s, None) for s in MULTI_SKLEARN]
            kind = "multi"
            Xfit = Xd
        d = results[key] = dict(shape=X.shape, fstar=fstar, methods={})
        for library, solver, n_jobs in methods:
            Xin = Xfit
            if kind == "ridge" and library == "sklearn" and solver == "cholesky":
                if X.shape[1] > 2000:
                    continue  # a dense d x d Gram matrix: not what a user would run
                Xin = X.toarray() if sp.issparse(X) else X
            pts = run(kind, library, solver, Xin, y, objective, fstar, args.max_seconds,
                      n_jobs)
            label = f"{library}-{solver}" + ("" if n_jobs is None else f"-{n_jobs}jobs")
            d["methods"][label] = pts
            print(f"{key:20s} {label:18s} → 1e-4: {time_to(pts, 1e-4)}  → 1e-6: "
                  f"{time_to(pts, 1e-6)}  final {pts[-1].get('rel_subopt')}", flush=True)
    write_report(args.out, "bench_exact", argv, results, markdown)


if __name__ == "__main__":
    main()

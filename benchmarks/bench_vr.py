"""Time to relative suboptimality 1e-2, 1e-4, 1e-6: fastgd sag/saga/svrg against
scikit-learn's LogisticRegression / Ridge (solver='sag'|'saga') on the same objective

    F(w, b) = (1/n) Σ L(y_i, x_i·w + b) + α/2 ||w||²      (intercept fitted, not penalised)

mapped as LogisticRegression(C = 1/(n α)) and Ridge(alpha = n α). F* is the best of an
L-BFGS-B run (gtol 1e-12) and every method's final value.

fastgd: one fit with tol=None, its per-epoch objective read through fit_vr's callback
(timestamps include the driver's objective pass; the fit is stopped once F is within
1e-8 of the L-BFGS value). scikit-learn: fits with max_iter =
1, 2, 4, ... (each timed from scratch, as a user would), F computed after each; the time
to ε is that of the first fit that reaches ε. Ridge(solver='sag') on sparse X with an
intercept silently runs sparse_cg; the solver that ran (``solver_``) is printed.

Usage: python benchmarks/bench_vr.py [--data ../shared/data] [--budget 30]
"""

import argparse
import lzma
import pathlib
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize

TARGETS = (1e-2, 1e-4, 1e-6)


def load(path):
    from sklearn.datasets import load_svmlight_file

    f = lzma.open(path, "rb") if str(path).endswith(".xz") else str(path)
    X, y = load_svmlight_file(f)
    X = sp.csr_matrix(X, dtype=np.float64)
    X.indices = X.indices.astype(np.int32)  # scikit-learn's sag wants 32-bit indices
    X.indptr = X.indptr.astype(np.int32)
    return X, y.astype(np.float64)


def objective(X, y, w, b, loss, alpha):
    p = X @ w + b
    if loss == "log_loss":
        val = np.logaddexp(0, -y * p).mean()
    else:
        val = 0.5 * np.mean((p - y) ** 2)
    return float(val + 0.5 * alpha * w @ w)


def lbfgs(X, y, loss, alpha):
    n, d = X.shape

    def f(z):
        w, b = z[:d], z[d]
        p = X @ w + b
        if loss == "log_loss":
            val = np.logaddexp(0, -y * p)
            g = -y * np.exp(-np.logaddexp(0, y * p))
        else:
            val = 0.5 * (p - y) ** 2
            g = p - y
        g = g / n
        grad = np.empty_like(z)
        grad[:d] = X.T @ g + alpha * w
        grad[d] = g.sum()
        return float(val.mean() + 0.5 * alpha * w @ w), grad

    r = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                 options=dict(gtol=1e-12, ftol=0.0, maxiter=50000, maxcor=30))
    return r.fun


def run_fastgd(X, y, loss, alpha, solver, budget, F_stop=-np.inf, max_epochs=2000):
    from fastgd import _engine
    from fastgd._rules import LOSSES, Penalty, loss_param
    from fastgd._vr import fit_vr

    cfg = _engine.Config(
        rule=0, loss=int(LOSSES[loss].id), param=loss_param(loss, 0.1),
        penalty=int(Penalty.L2), alpha=alpha, l1_ratio=0.0, fit_intercept=True,
        schedule=1, eta0=0.0, power_t=0.5, hp=np.zeros(5), batch_size=1, lazy=True,
        average=0, max_iter=max_epochs, tol=-np.inf, n_iter_no_change=5,
        early_stopping=False, shuffle=True, solver=solver, eta0_auto=True)
    n = X.shape[0]
    ys = np.where(y > 0, 1.0, -1.0) if loss == "log_loss" else y
    trace = []
    start = time.perf_counter()

    class Stop(Exception):
        pass

    def cb(epoch, w, b, F):
        trace.append((time.perf_counter() - start, F))
        if time.perf_counter() - start > budget or F <= F_stop:
            raise Stop

    rows = _engine.Rows.of(X)
    try:
        fit_vr(rows, ys, np.ones(n), np.zeros(X.shape[1]), 0.0, cfg, t=1.0,
               rng=np.random.RandomState(0), train_idx=np.arange(n, dtype=np.int64),
               callback=cb)
    except Stop:
        pass
    return trace, solver


def run_sklearn(X, y, loss, alpha, solver, budget):
    from sklearn.linear_model import LogisticRegression, Ridge

    n = X.shape[0]
    trace, ran = [], solver
    k = 1
    spent = 0.0
    while spent < budget and k <= 4096:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if loss == "log_loss":
                est = LogisticRegression(solver=solver, C=1.0 / (n * alpha), tol=0.0,
                                         max_iter=k, random_state=0)
            else:
                est = Ridge(solver=solver, alpha=n * alpha, tol=0.0, max_iter=k,
                            random_state=0)
            t0 = time.perf_counter()
            try:
                est.fit(X, y)
            except Exception as exc:  # Ridge saga + intercept on sparse X raises
                return [], f"{solver}: {type(exc).__name__}"
            el = time.perf_counter() - t0
        spent += el
        ran = getattr(est, "solver_", solver)
        trace.append((el, objective(X, y, est.coef_.ravel(),
                                    float(np.ravel(est.intercept_)[0]), loss, alpha)))
        k *= 2
    return trace, ran


def times_to(trace, F_opt):
    out = []
    for eps in TARGETS:
        hit = [t for t, F in trace if (F - F_opt) / abs(F_opt) <= eps]
        out.append(min(hit) if hit else None)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(pathlib.Path(__file__).resolve().parents[1]
                                          / ".." / "shared" / "data"))
    ap.add_argument("--budget", type=float, default=20.0,
                    help="seconds per method and data set")
    args = ap.parse_args()
    from fastgd.kernels import warmup

    warmup()
    import fastgd

    Xw = sp.random(50, 10, density=0.3, format="csr", random_state=0)
    for s in ("sag", "saga", "svrg"):  # compile the VR kernels before timing
        fastgd.SGDClassifier(solver=s, loss="log_loss", max_iter=2, tol=None).fit(
            Xw, np.arange(50) % 2)
        fastgd.SGDClassifier(solver=s, loss="log_loss", max_iter=2, tol=None).fit(
            Xw.toarray(), np.arange(50) % 2)
    sets = [("a9a.xz", "log_loss", 1e-4), ("reuters.trn.bz2", "log_loss", 1e-4),
            ("debian-size.svm.xz", "squared_error", 1e-3)]
    rows = []
    for name, loss, alpha in sets:
        path = pathlib.Path(args.data) / name
        if not path.exists():
            print(f"skip {name}: absent")
            continue
        X, y = load(path)
        yl = np.where(y > 0, 1.0, -1.0) if loss == "log_loss" else y
        F_lb = lbfgs(X, yl, loss, alpha)
        results = {}
        for s in ("sag", "saga", "svrg"):
            results[f"fastgd {s}"] = run_fastgd(X, y, loss, alpha, s, args.budget,
                                                F_stop=F_lb + 1e-8 * abs(F_lb))
        peer = "LogisticRegression" if loss == "log_loss" else "Ridge"
        for s in ("sag", "saga"):
            results[f"sklearn {peer} {s}"] = run_sklearn(X, yl if loss != "log_loss" else y,
                                                         loss, alpha, s, args.budget)
        F_opt = min([F_lb] + [F for tr, _ in results.values() for _, F in tr])
        for key, (tr, ran) in results.items():
            rows.append((name, alpha, key, ran, times_to(tr, F_opt),
                         ((tr[-1][1] - F_opt) / abs(F_opt)) if tr else None, len(tr)))
    # Markdown table, ratio = time / best fastgd time to the same target
    print("| data | α | method | ran | " + " | ".join(f"t to {e:g} (s)" for e in TARGETS)
          + " | final rel. subopt | runs/epochs |")
    print("|---|---|---|---|" + "---|" * len(TARGETS) + "---|---|")
    for name in dict.fromkeys(r[0] for r in rows):
        block = [r for r in rows if r[0] == name]
        best = []
        for k in range(len(TARGETS)):
            ts = [r[4][k] for r in block if r[2].startswith("fastgd") and r[4][k]]
            best.append(min(ts) if ts else None)
        for _, alpha, key, ran, ts, final, cnt in block:
            cells = []
            for k, tv in enumerate(ts):
                if tv is None:
                    cells.append("–")
                else:
                    ratio = f" ({tv / best[k]:.1f}×)" if best[k] else ""
                    cells.append(f"{tv:.3f}{ratio}")
            fin = "–" if final is None else f"{final:.1e}"
            print(f"| {name} | {alpha:g} | {key} | {ran} | " + " | ".join(cells)
                  + f" | {fin} | {cnt} |")
    print("\nRatios: time / fastest fastgd solver's time to the same target.")


if __name__ == "__main__":
    main()

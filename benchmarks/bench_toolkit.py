"""The optimizer toolkit's benchmarks (issue 15): what clipping and gradient noise cost per
epoch, and fastgd's cosine / SGDR / 1cycle schedules against scikit-learn's schedules.

    python benchmarks/bench_toolkit.py [--data ../shared/data] [--covtype-rows 100000]
                                       [--repeat 5] [--epochs 5] [--only cost schedules]
                                       [--out benchmarks/results/bench_toolkit.md]

(a) cost: SGDClassifier(loss='log_loss', alpha=1e-4, learning_rate='constant',
    eta0=0.01, batch_size=1, tol=None, max_iter=EPOCHS) with and without clip_norm=1,
    clip_value=1, gradient_noise=0.01, for optimizer 'sgd' and 'adam', on a9a (dense
    and CSR) and a covtype subsample (dense and CSR). Every configuration of one data set
    is timed in the same run, interleaved (rep 1: all configurations, rep 2: all, ...),
    the median of REPEAT fits, seconds per epoch = fit time / EPOCHS. Baselines: for
    'adam' the plain adam fit (tools off). For 'sgd' the fit without tools, which runs
    scikit-learn's per-sample path (``plain_sgd_epoch``); with a tool, batch 1 takes the
    generic kernel's fused step of rule 'sgd' (``_sgd_tooled_step``), so the ratio is
    what a user pays for switching the tool on.
(b) schedules: epochs to a target, log_loss, alpha=1e-4, batch_size=1, on a9a and the
    covtype subsample. F* from scikit-learn's LogisticRegression (lbfgs, C = 1 / (n
    alpha), tol 1e-12), lowered to any better value seen. Each schedule is run FRESH
    with budgets of 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64 epochs until
    (F - F*) / F* <= 1e-3; "epochs to 1e-2 / 1e-3" is the first budget whose final F
    meets it. fastgd's CosineAnnealing(eta0, T_max = budget * n) and
    OneCycle(eta0, total_steps = budget * n) anneal over the budget (as they are used);
    WarmRestarts(eta0, T_0 = n, T_mult = 2) restarts after 1, 3, 7, ... epochs
    (periods count steps: 1 epoch = n_samples steps). scikit-learn's SGDClassifier:
    'optimal' (no eta0), 'invscaling' (power_t 0.5) and 'adaptive' (tol 1e-4,
    n_iter_no_change 5: it divides eta by 5 after 5 epochs without progress). eta0 (max_lr
    for 1cycle) from {0.01, 0.1, 1}, the best per schedule reported, and every one in the
    full table.
"""

import argparse
import datetime
import lzma
import os
import shlex
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ALPHA = 1e-4
BUDGETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
TARGETS = (1e-2, 1e-3)
ETA0S = (0.01, 0.1, 1.0)


def machine():
    out = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True,
                         text=True).stdout
    return out.split(":", 1)[1].strip() if ":" in out else "?"


def load(data, name, covtype_rows):
    from sklearn.datasets import load_svmlight_file
    from sklearn.preprocessing import MaxAbsScaler

    path = os.path.join(data, "a9a.xz" if name == "a9a" else "covtype.libsvm.binary.xz")
    with lzma.open(path, "rb") as f:
        X, y = load_svmlight_file(f, n_features=123 if name == "a9a" else None)
    X = sp.csr_matrix(X, dtype=np.float64)
    y = np.where(y == y.max(), 1.0, -1.0)
    note = f"{X.shape[0]:,} × {X.shape[1]}"
    if name == "covtype":
        X = MaxAbsScaler().fit_transform(X).tocsr()
        if covtype_rows and covtype_rows < X.shape[0]:
            idx = np.sort(np.random.RandomState(0).choice(X.shape[0], covtype_rows,
                                                          replace=False))
            X, y = X[idx], y[idx]
            note = (f"{X.shape[0]:,} × {X.shape[1]} (rows drawn at random, seed 0, of "
                    f"581,012; MaxAbsScaler; labels 2 -> +1)")
        else:
            note += " (MaxAbsScaler)"
    X.indices = X.indices.astype(np.int32)  # scikit-learn's SGD wants 32-bit indices
    X.indptr = X.indptr.astype(np.int32)
    return X, y, note


# ----------------------------------------------------------------------- (a)
def cost_configs():
    """(label, optimizer group, baseline label(s), kwargs)."""
    base = dict(loss="log_loss", alpha=ALPHA, learning_rate="constant", eta0=0.01,
                batch_size=1, tol=None, random_state=0)
    tools = (("clip_norm=1", dict(clip_norm=1.0)), ("clip_value=1", dict(clip_value=1.0)),
             ("gradient_noise=0.01", dict(gradient_noise=0.01)))
    rows = [("sgd plain path", "sgd", dict(base, optimizer="sgd"))]
    rows += [(f"sgd + {t}", "sgd", dict(base, optimizer="sgd", **kw)) for t, kw in tools]
    rows += [("adam", "adam", dict(base, optimizer="adam"))]
    rows += [(f"adam + {t}", "adam", dict(base, optimizer="adam", **kw)) for t, kw in tools]
    return rows


def bench_cost(datasets, repeat, epochs):
    from fastgd import SGDClassifier
    from fastgd._backend import wait_for_numba

    results = {}
    for dname, (X, y, _) in datasets.items():
        for layout in ("dense", "CSR"):
            Xl = X.toarray() if layout == "dense" else X
            configs = cost_configs()
            for _, _, kw in configs:  # warm-up: JIT caches, first-touch of the data
                SGDClassifier(**kw, max_iter=1).fit(Xl[:200], y[:200])
                # 'auto' fits run on Cython while Numba loads: time (and compile) Numba's
                if wait_for_numba():
                    SGDClassifier(**kw, max_iter=1).fit(Xl[:200], y[:200])
            times = {label: [] for label, _, _ in configs}
            for _ in range(repeat):
                for label, _, kw in configs:
                    est = SGDClassifier(**kw, max_iter=epochs)
                    t = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        est.fit(Xl, y)
                    times[label].append((time.perf_counter() - t) / epochs)
            med = {k: float(np.median(v)) for k, v in times.items()}
            results[(dname, layout)] = dict(median=med, raw=times)
            print(f"{dname} {layout}: " + ", ".join(f"{k}: {v * 1e3:.1f} ms"
                                                    for k, v in med.items()), flush=True)
    return results


def cost_markdown(results, repeat, epochs):
    plain = "sgd plain path"
    lines = [f"### (a) Cost per epoch of clipping and gradient noise", "",
             f"ms per epoch (median of {repeat} interleaved fits of {epochs} epochs; "
             "log_loss, alpha 1e-4, constant eta 0.01, batch_size 1) and the ratio to "
             "the baseline (sgd: scikit-learn's plain path; adam: adam without tools). "
             "Goals: clipping "
             "≤ 1.05, noise ≤ 1.20.", "",
             "| data | layout | configuration | ms / epoch | ratio |",
             "|---|---|---|---:|---:|"]
    for (dname, layout), rec in results.items():
        med = rec["median"]
        for label, group, _ in cost_configs():
            v = med[label]
            if label == plain:
                ratio = "–"
            elif group == "sgd":
                ratio = f"**{v / med[plain]:.2f}×**"
            elif label == "adam":
                ratio = "–"
            else:
                ratio = f"**{v / med['adam']:.2f}×**"
            lines.append(f"| {dname} | {layout} | {label} | {v * 1e3:.2f} | {ratio} |")
    return lines + [""]


# ----------------------------------------------------------------------- (b)
def tight_optimum(X, y):
    from sklearn.linear_model import LogisticRegression

    from fastgd.objective import objective

    t = time.perf_counter()
    lr = LogisticRegression(C=1.0 / (X.shape[0] * ALPHA), tol=1e-12, max_iter=100_000)
    lr.fit(X, y)
    f = objective(X, y, lr.coef_.ravel(), float(lr.intercept_[0]), "log_loss", ALPHA)
    return f, time.perf_counter() - t


def schedule_methods(n):
    """(name, eta0 or None, make(budget) -> estimator)."""
    from sklearn.linear_model import SGDClassifier as SkSGD

    from fastgd import SGDClassifier
    from fastgd.schedules import CosineAnnealing, OneCycle, WarmRestarts

    def fast(schedule):
        return SGDClassifier(loss="log_loss", alpha=ALPHA, optimizer="sgd",
                             learning_rate=schedule, tol=None, random_state=0)

    def sk(**kw):
        return SkSGD(loss="log_loss", alpha=ALPHA, random_state=0, **kw)

    out = [("scikit-learn optimal", None,
            lambda e: sk(learning_rate="optimal", tol=None, max_iter=e))]
    for eta in ETA0S:
        out += [
            ("fastgd CosineAnnealing", eta,
             lambda e, eta=eta: fast(CosineAnnealing(eta, T_max=e * n)).set_params(max_iter=e)),
            ("fastgd WarmRestarts (SGDR)", eta,
             lambda e, eta=eta: fast(WarmRestarts(eta, T_0=n, T_mult=2)).set_params(max_iter=e)),
            ("fastgd OneCycle", eta,
             lambda e, eta=eta: fast(OneCycle(eta, total_steps=e * n)).set_params(max_iter=e)),
            ("scikit-learn invscaling", eta,
             lambda e, eta=eta: sk(learning_rate="invscaling", eta0=eta, tol=None,
                                   max_iter=e)),
            ("scikit-learn adaptive", eta,
             lambda e, eta=eta: sk(learning_rate="adaptive", eta0=eta, tol=1e-4,
                                   max_iter=e)),
        ]
    return out


def bench_schedules(datasets, budgets):
    from fastgd.objective import objective

    results = {}
    for dname, (X, y, note) in datasets.items():
        fstar, secs = tight_optimum(X, y)
        print(f"{dname}: F* = {fstar:.10g} (lbfgs, {secs:.1f} s)", flush=True)
        runs = []
        for name, eta, make in schedule_methods(X.shape[0]):
            points = []
            for e in budgets:
                est = make(e)
                t = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est.fit(X, y)
                dt = time.perf_counter() - t
                f = objective(X, y, est.coef_.ravel(), float(est.intercept_[0]),
                              "log_loss", ALPHA)
                points.append(dict(budget=e, n_iter=int(est.n_iter_), objective=f,
                                   seconds=dt))
                if not np.isfinite(f) or (f - fstar) / fstar <= min(TARGETS):
                    break
            runs.append(dict(name=name, eta0=eta, points=points))
            last = points[-1]
            print(f"  {name:28s} eta0={eta}: {len(points)} budgets, last {last['budget']} "
                  f"ep F={last['objective']:.10g}", flush=True)
        fbest = min([fstar] + [p["objective"] for r in runs for p in r["points"]
                               if np.isfinite(p["objective"])])
        for r in runs:
            for p in r["points"]:
                p["rel"] = (p["objective"] - fbest) / fbest
            for eps in TARGETS:
                hit = [p for p in r["points"] if np.isfinite(p["rel"]) and p["rel"] <= eps]
                r[eps] = hit[0] if hit else None
        results[dname] = dict(fstar=fbest, fstar_lbfgs=fstar, runs=runs, note=note)
    return results


def schedules_markdown(results):
    def cell(p):
        return "not within 64" if p is None else f"{p['budget']} ({p['seconds']:.2f} s)"

    lines = ["### (b) Schedules: epochs to a target", "",
             "Epochs of the first fresh fit (budgets 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, "
             "64) whose final (F − F*) / F* meets the target, and that fit's seconds; each "
             "schedule at its best eta0 of {0.01, 0.1, 1} (fewest epochs to 1e-3, then to "
             "1e-2, then the lowest final F).", ""]
    for dname, d in results.items():
        lines += [f"**{dname}**: {d['note']}; F* = {d['fstar']:.10g} (lbfgs "
                  f"{d['fstar_lbfgs']:.10g})", "",
                  "| schedule | best eta0 | epochs → 1e-2 | epochs → 1e-3 | final subopt "
                  "(budget) |", "|---|---:|---:|---:|---:|"]
        names = list(dict.fromkeys(r["name"] for r in d["runs"]))
        for name in names:
            cands = [r for r in d["runs"] if r["name"] == name]

            def key(r):
                return (r[1e-3]["budget"] if r[1e-3] else 1e9,
                        r[1e-2]["budget"] if r[1e-2] else 1e9,
                        r["points"][-1]["rel"] if np.isfinite(r["points"][-1]["rel"])
                        else np.inf)

            r = min(cands, key=key)
            last = r["points"][-1]
            eta = "–" if r["eta0"] is None else f"{r['eta0']:g}"
            lines.append(f"| {name} | {eta} | {cell(r[1e-2])} | {cell(r[1e-3])} | "
                         f"{last['rel']:.1e} ({last['budget']}) |")
        lines += ["", "Every eta0 (epochs to 1e-2 / to 1e-3; final subopt):", "",
                  "| schedule | " + " | ".join(f"eta0={e:g}" for e in ETA0S) + " |",
                  "|---|" + "---|" * len(ETA0S)]
        for name in names:
            cands = {r["eta0"]: r for r in d["runs"] if r["name"] == name}
            cells = []
            for e in ETA0S:
                r = cands.get(e, cands.get(None))
                if r is None:
                    cells.append("")
                    continue
                b = [r[t]["budget"] if r[t] else "–" for t in TARGETS]
                cells.append(f"{b[0]} / {b[1]}; {r['points'][-1]['rel']:.1e}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--covtype-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--only", nargs="*", choices=("cost", "schedules"),
                        default=("cost", "schedules"))
    parser.add_argument("--datasets", nargs="*", default=("a9a", "covtype"))
    parser.add_argument("--out", default=os.path.join(HERE, "results", "bench_toolkit.md"))
    args = parser.parse_args(argv)
    command = "python " + " ".join(shlex.quote(a) for a in
                                   [os.path.relpath(__file__, ROOT)] + (argv or sys.argv[1:]))
    t0 = time.perf_counter()
    datasets = {name: load(args.data, name, args.covtype_rows) for name in args.datasets}
    lines = [f"<!-- generated by: {command} -->", "", f"`{command}`", "",
             f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC "
             f"on {machine()} ({os.cpu_count()} cores, shared with other work: ratios of "
             "the same run are the numbers to read, not the absolute times).", "",
             "Data: " + "; ".join(f"{k} {v[2]}" for k, v in datasets.items()) + ".", ""]
    if "cost" in args.only:
        lines += cost_markdown(bench_cost(datasets, args.repeat, args.epochs),
                               args.repeat, args.epochs)
    if "schedules" in args.only:
        lines += schedules_markdown(bench_schedules(datasets, BUDGETS))
    lines.append(f"(total {time.perf_counter() - t0:.0f} s)")
    md = "\n".join(lines) + "\n"
    print(md)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(md)


if __name__ == "__main__":
    main()

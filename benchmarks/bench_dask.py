"""fastgd.dask against single-machine fastgd: time to relative suboptimality.

    python benchmarks/bench_dask.py --data covtype.libsvm.binary.xz --max-rows 200000 \
        --blocks 8 --out benchmarks/results/dask-covtype.md

Setting: a LocalCluster of 2 worker processes x 1 thread (``--workers``). The data (a
set of ../shared/data, its first ``--max-rows`` lines, MaxAbs-scaled) is a dask array
of ``--blocks`` CSR blocks, persisted before timing. Objective: L2 logistic regression
(alpha = ``--alpha``), SPEC section 1; F* from scikit-learn's lbfgs to 1e-10 (lbfgs
leaves the intercept unpenalised, as SPEC section 1) or the best value any method
reached, whichever is lower. A regression set (targets with more than two values, e.g.
debian-size.svm.xz) is fitted by ridge regression (squared_error), F* from scikit-learn's
Ridge (sparse_cg to 1e-12), with SGDRegressor's default 'invscaling' schedule in place
of 'optimal', and dask-ml's LinearRegression and Incremental(SGDRegressor).

Single-machine baselines: plain SGD with scikit-learn's 'optimal' schedule, SAGA, and
the constant step (``--eta0``: 0.05; regression 1 / (max ||x||^2 + 1), the safe step of
squared loss) that the local-fit strategies use, with n_jobs 1 and 2.
Each method is fitted with max_iter = 1, 2, 4, ... (rounds, or epochs on one machine),
each fit timed from scratch (wall clock, including Dask's scheduling); the time to a
target is that of the fastest fit that reaches it. The local-fit strategies run with
the default 'optimal' schedule and with the constant step. Also measured: Dask's overhead per
round (a 'gradient' round against a single-machine full-batch epoch) and the cost of
'average' against the single-machine fit for the same epochs.

``--cost`` only measures that cost: 'average' against the single-machine fit for 8, 16
and 32 rounds/epochs, with the local fits' median time and the rest of each round.

``--study`` instead measures how the asynchronous strategies degrade with delay: in
``deterministic`` mode results are applied in submission order, so with B blocks every
update is B - 1 updates stale; the objective after ``--study-rounds`` tasks per block,
for B = 2 .. 32 (``--plot F.png`` draws it).
"""

import argparse
import io
import itertools
import lzma
import pathlib
import time

import numpy as np
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MaxAbsScaler

DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
TARGETS = (1e-2, 1e-3, 1e-4)
ROUNDS = (1, 2, 4, 8, 16, 32)
DENSE_MAX_GB = 4.0  # dask-ml's LogisticRegression takes dense X only
NEWTON_MAX_FEATURES = 2000  # Newton's (d + 1)^2 Hessian: not run on wider data


def load(name, max_rows):
    """A shared set's first ``max_rows`` rows, or ``synth-<nnz>`` (``synthetic.
    make_powerlaw``, e.g. synth-1e7), MaxAbs-scaled; labels +-1 for a two-class set, the
    targets as they are for a regression set (more than two distinct values)."""
    if name.startswith("synth-"):
        import sys

        sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
        from synthetic import make_powerlaw

        X, y = make_powerlaw(int(float(name[len("synth-"):])))
        X = MaxAbsScaler().fit_transform(X.tocsr()).tocsr()
        return X[:max_rows], np.where(y[:max_rows] == y.max(), 1.0, -1.0)
    with lzma.open(DATA / name, "rb") as f:
        f = io.BytesIO(b"".join(itertools.islice(f, max_rows)))
        X, y = load_svmlight_file(f, dtype=np.float64)
    X = MaxAbsScaler().fit_transform(X.tocsr()).tocsr()
    if np.unique(y).shape[0] > 2:
        return X, y
    return X, np.where(y == y.max(), 1.0, -1.0)


def is_regression(y):
    return np.unique(y).shape[0] > 2


def F(model, X, y, alpha):
    """SPEC section 1's objective: L2 logistic regression, or ridge (squared_error) on a
    regression set."""
    from fastgd.objective import objective

    return objective(X, y, np.ravel(model.coef_), np.ravel(model.intercept_)[0],
                     "squared_error" if is_regression(y) else "log_loss", alpha)


def curve(make, fit, X, y, alpha):
    """[(max_iter, seconds, F)] for max_iter in ROUNDS."""
    out = []
    for k in ROUNDS:
        model = make(k)
        start = time.perf_counter()
        fit(model)
        out.append((k, time.perf_counter() - start, F(model, X, y, alpha)))
    return out


def f_reference(X, y, alpha):
    """F of scikit-learn's exact solution: lbfgs's logistic regression to 1e-10, or
    Ridge's sparse_cg to 1e-12 (alpha n: Ridge sums the squares, SPEC averages half of
    them); both leave the intercept unpenalised, as SPEC section 1."""
    n = X.shape[0]
    if is_regression(y):
        from sklearn.linear_model import Ridge

        ref = Ridge(alpha=alpha * n, solver="sparse_cg", tol=1e-12, max_iter=100_000)
        return F(ref.fit(X, y), X, y, alpha), "Ridge sparse_cg"
    ref = LogisticRegression(C=1.0 / (alpha * n), tol=1e-10, max_iter=10_000).fit(X, y)
    return F(ref, X, y, alpha), "lbfgs"


def time_to(points, f_star, target):
    """Seconds of the fastest fit that reaches ``target`` (a larger budget can be the
    faster fit: a method's first fit pays its warm-up), or None."""
    hits = [seconds for _, seconds, f in points if (f - f_star) / abs(f_star) <= target]
    return min(hits) if hits else None


class _Passes:
    """k passes of dask-ml's Incremental (one ``partial_fit`` per block, in turn)."""

    def __init__(self, inc, k, classes=(-1.0, 1.0)):
        self.inc, self.k, self.classes = inc, k, classes

    def fit(self, Xd, yd):
        extra = {} if self.classes is None else {"classes": list(self.classes)}
        for _ in range(self.k):
            self.inc.partial_fit(Xd, yd, **extra)
        self.coef_ = self.inc.estimator_.coef_
        self.intercept_ = self.inc.estimator_.intercept_
        return self


def dask_ml_curves(X, y, alpha, rows, client):
    """dask-ml's LogisticRegression (admm, lbfgs: dense X only, intercept penalised:
    C = 1/(alpha n) makes the rest of its objective SPEC's) and Incremental(sklearn
    SGDClassifier) on CSR blocks; on a regression set dask-ml's LinearRegression (ridge:
    C = 1/(alpha n); dense X only) and Incremental(sklearn SGDRegressor); {} when dask-ml
    is not installed."""
    if is_regression(y):
        return dask_ml_regression_curves(X, y, alpha, rows, client)
    try:
        from dask_ml.linear_model import LogisticRegression as DaskLR
        from dask_ml.wrappers import Incremental
    except ImportError:
        return {}
    import dask.array as da
    from sklearn.linear_model import SGDClassifier as SkSGD

    Xcsr = client.persist(da.from_array(X, chunks=(rows, -1), asarray=False))
    yd = client.persist(da.from_array(y, chunks=rows))
    y01 = client.persist(da.from_array((y + 1) / 2, chunks=rows))  # dask-glm's labels
    n = X.shape[0]
    out = {}
    dense_gb = X.shape[0] * X.shape[1] * 8 / 1e9
    if dense_gb > DENSE_MAX_GB:
        print(f"dask-ml LogisticRegression needs dense X: {dense_gb:.0f} GB here, "
              "not run", flush=True)
    else:
        Xdense = client.persist(da.from_array(X.toarray(), chunks=(rows, -1)))
    for solver in ("admm", "lbfgs") if dense_gb <= DENSE_MAX_GB else ():
        try:
            out[f"dask-ml LogisticRegression ({solver}, dense)"] = curve(
                lambda k: DaskLR(solver=solver, C=1.0 / (alpha * n), max_iter=k,
                                 tol=1e-12),
                lambda m: m.fit(Xdense, y01), X, y, alpha)
        except ValueError as exc:  # dask-glm refuses e.g. several all-zero columns
            print(f"dask-ml LogisticRegression ({solver}) fails: {exc}", flush=True)
    out["dask-ml Incremental(sklearn SGD)"] = curve(
        lambda k: _Passes(Incremental(SkSGD(loss="log_loss", alpha=alpha, random_state=0)),
                          k),
        lambda m: m.fit(Xcsr, yd), X, y, alpha)
    for name, pts in out.items():
        print(name, [(k, round(s, 3), f) for k, s, f in pts], flush=True)
    return out


def dask_ml_regression_curves(X, y, alpha, rows, client):
    """dask_ml_curves on a regression set."""
    try:
        from dask_ml.linear_model import LinearRegression as DaskLinear
        from dask_ml.wrappers import Incremental
    except ImportError:
        return {}
    import dask.array as da
    from sklearn.linear_model import SGDRegressor as SkSGD

    Xcsr = client.persist(da.from_array(X, chunks=(rows, -1), asarray=False))
    yd = client.persist(da.from_array(y, chunks=rows))
    n, out = X.shape[0], {}
    dense_gb = X.shape[0] * X.shape[1] * 8 / 1e9
    if dense_gb > DENSE_MAX_GB:
        print(f"dask-ml LinearRegression needs dense X: {dense_gb:.0f} GB here, not run",
              flush=True)
    else:
        Xdense = client.persist(da.from_array(X.toarray(), chunks=(rows, -1)))
        for solver in ("admm", "lbfgs"):
            try:
                out[f"dask-ml LinearRegression ({solver}, dense)"] = curve(
                    lambda k: DaskLinear(solver=solver, C=1.0 / (alpha * n), max_iter=k,
                                         tol=1e-12),
                    lambda m: m.fit(Xdense, yd), X, y, alpha)
            except ValueError as exc:
                print(f"dask-ml LinearRegression ({solver}) fails: {exc}", flush=True)
    out["dask-ml Incremental(sklearn SGD)"] = curve(
        lambda k: _Passes(Incremental(SkSGD(alpha=alpha, random_state=0)), k, None),
        lambda m: m.fit(Xcsr, yd), X, y, alpha)
    for name, pts in out.items():
        print(name, [(k, round(s, 3), f) for k, s, f in pts], flush=True)
    return out


def delay_study(fd, Xd_of, X, y, common, rounds, plot=None):
    """Markdown rows: objective of each asynchronous strategy against the delay B - 1
    (and with ``plot``, a PNG of the same numbers)."""
    blocks = (2, 4, 8, 16, 32)
    strategies = {"downpour": dict(strategy="downpour", server_eta=0.5),
                  "adarevision": dict(strategy="adarevision", server_eta=0.5),
                  "ssp (s=1)": dict(strategy="ssp", staleness=1, learning_rate="constant",
                                    eta0=0.05),
                  "easgd async": dict(strategy="easgd", asynchronous=True,
                                      learning_rate="constant", eta0=0.05)}
    lines = ["| strategy | " + " | ".join(f"delay {b - 1}" for b in blocks) + " |",
             "|---|" + "---:|" * len(blocks)]
    curves = {}
    for name, params in strategies.items():
        cells = []
        for b in blocks:
            Xd, yd = Xd_of(b)
            model = fd.SGDClassifier(max_iter=rounds, deterministic=True, **common,
                                     **params).fit(Xd, yd)
            cells.append(F(model, X, y, common["alpha"]))
            print(name, b, cells[-1], flush=True)
        lines.append(f"| {name} | " + " | ".join(f"{c:.5f}" for c in cells) + " |")
        curves[name] = cells
    if plot:
        plot_delay(curves, [b - 1 for b in blocks], rounds, plot)
    return lines


def cost_study(Single, Dist, client, Xd, yd, X, y, common, eta0, rounds=(8, 16, 32),
               repeats=3):
    """Markdown rows: 'average' (1 local epoch per round, constant step) against the
    single-machine fit of as many epochs, best of ``repeats`` each, measured in turns;
    with the median task (Dask's task stream: a worker's compute; a round runs one task
    per worker, its blocks' local fits in turn) and what is left per round: wall - (sum
    of the tasks) / workers, i.e. Dask's scheduling, the model's transfers and the
    client's averaging."""
    from distributed import get_task_stream

    n_workers = len(client.scheduler_info()["workers"])
    params = dict(common, learning_rate="constant", eta0=eta0)
    lines = ["| rounds = epochs | single machine (s) | dask 'average' (s) | ratio | "
             "task, median (ms) | rest per round (ms) |", "|---:|" + "---:|" * 5]
    for k in rounds:
        single, dask, tasks = [], [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            Single(max_iter=k, **params).fit(X, y)
            single.append(time.perf_counter() - t0)
            with get_task_stream(client) as stream:
                t0 = time.perf_counter()
                Dist(max_iter=k, strategy="average", **params).fit(Xd, yd)
                dask.append(time.perf_counter() - t0)
            tasks.append([sum(s["stop"] - s["start"] for s in r["startstops"]
                              if s["action"] == "compute")
                          for r in stream.data if "-avg-" in str(r["key"])])
        best = int(np.argmin(dask))
        fits = np.array(tasks[best])
        rest = (dask[best] - fits.sum() / n_workers) / k
        lines.append(f"| {k} | {min(single):.3f} | {dask[best]:.3f} | "
                     f"{dask[best] / min(single):.2f} | {np.median(fits) * 1e3:.1f} | "
                     f"{rest * 1e3:.1f} |")
        print(lines[-1], flush=True)
    return lines


def plot_delay(curves, delays, rounds, path):
    """Objective against delay, one line per strategy (log-scaled delay axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        ax.plot(delays, values, marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(delays, [str(d) for d in delays])
    ax.set_xlabel("delay (updates applied between a task's read and its write)")
    ax.set_ylabel(f"objective after {rounds} tasks per block")
    ax.set_title("Asynchronous strategies against delay")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def finish(lines, out, client, cluster):
    """Print the report, write it to ``out``, close the cluster."""
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        pathlib.Path(out).write_text(text)
    client.close()
    cluster.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="covtype.libsvm.binary.xz")
    ap.add_argument("--max-rows", type=int, default=200_000)
    ap.add_argument("--blocks", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--alpha", type=float, default=1e-4)
    ap.add_argument("--out", default=None)
    ap.add_argument("--study", action="store_true")
    ap.add_argument("--study-rounds", type=int, default=16)
    ap.add_argument("--plot", default=None, help="--study: also draw the study to this PNG")
    ap.add_argument("--cost", action="store_true",
                    help="only the cost of 'average' against the single-machine fit")
    ap.add_argument("--targets", default=",".join(f"{t:g}" for t in TARGETS),
                    help="the relative suboptimalities of the table's columns")
    ap.add_argument("--eta0", type=float, default=None,
                    help="the constant step (default 0.05; regression: 1 / (max ||x||^2 + 1))")
    args = ap.parse_args()

    import dask.array as da
    from distributed import Client, LocalCluster

    import fastgd
    import fastgd.dask as fd

    X, y = load(args.data, args.max_rows)
    n, alpha = X.shape[0], args.alpha
    targets = tuple(float(t) for t in args.targets.split(","))
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)

    def Xd_of(n_blocks):
        rows = -(-n // n_blocks)
        return (client.persist(da.from_array(X, chunks=(rows, -1), asarray=False)),
                client.persist(da.from_array(y, chunks=rows)))

    Xd, yd = Xd_of(args.blocks)
    regression = is_regression(y)
    Single = fastgd.SGDRegressor if regression else fastgd.SGDClassifier
    Dist = fd.SGDRegressor if regression else fd.SGDClassifier
    common = dict(loss="squared_error" if regression else "log_loss", alpha=alpha, tol=None,
                  random_state=0)
    eta0 = args.eta0
    if eta0 is None:  # regression: the safe constant step of squared loss
        eta0 = (1.0 / (X.multiply(X).sum(axis=1).max() + 1.0)) if regression else 0.05
    schedule = "invscaling" if regression else "optimal"  # the estimators' defaults
    if args.study:
        lines = [f"# Asynchronous strategies against delay, {args.data} (first {n} rows), "
                 f"LocalCluster {args.workers} workers x 1 thread", "",
                 f"Objective after {args.study_rounds} tasks per block; deterministic mode "
                 "(B blocks: every update is B - 1 updates stale).", "",
                 *delay_study(fd, Xd_of, X, y, common, args.study_rounds, args.plot), "",
                 f"Measured {time.strftime('%Y-%m-%d')}. Repeat: `python "
                 f"benchmarks/bench_dask.py --study --data {args.data} --max-rows "
                 f"{args.max_rows} --study-rounds {args.study_rounds}"
                 + (f" --plot {args.plot}`" if args.plot else "`")]
        return finish(lines, args.out, client, cluster)
    if args.cost:
        Single(max_iter=1, **common).fit(X[:100], y[:100])  # compile
        Dist(max_iter=2, **common).fit(Xd, yd)  # workers load the kernels
        lines = [f"# fastgd.dask 'average' against one machine, {args.data} (first {n} "
                 f"rows, {X.shape[1]} features), {args.blocks} CSR blocks, LocalCluster "
                 f"{args.workers} workers x 1 thread", "",
                 f"{'Ridge' if regression else 'L2 logistic'} regression, constant step "
                 f"{eta0:.3g}, 1 local epoch per round; best of 3, measured in turns.", "",
                 *cost_study(Single, Dist, client, Xd, yd, X, y, common, eta0), "",
                 f"Measured {time.strftime('%Y-%m-%d')}. Repeat: `python "
                 f"benchmarks/bench_dask.py --cost --data {args.data} --max-rows "
                 f"{args.max_rows} --blocks {args.blocks} --workers {args.workers}`"]
        return finish(lines, args.out, client, cluster)
    f_lbfgs, ref_name = f_reference(X, y, alpha)
    local = dict(learning_rate="constant", eta0=eta0)
    methods = {
        f"fastgd n_jobs=1 (sgd, '{schedule}')": ("single", dict(n_jobs=1)),
        "fastgd n_jobs=1 (saga)": ("single", dict(n_jobs=1, solver="saga")),
        "fastgd n_jobs=1 (saga, lipschitz)": ("single", dict(n_jobs=1, solver="saga",
                                                             sampling="lipschitz")),
        "fastgd n_jobs=1 (lbfgs)": ("single", dict(n_jobs=1, solver="lbfgs")),
        "fastgd n_jobs=1 (sgd)": ("single", dict(n_jobs=1, **local)),
        "fastgd n_jobs=2 (Hogwild!)": ("single", dict(n_jobs=2, **local)),
        f"dask average ('{schedule}')": ("dask", dict(strategy="average")),
        f"dask easgd ('{schedule}')": ("dask", dict(strategy="easgd")),
        "dask average": ("dask", dict(strategy="average", **local)),
        "dask average (saga)": ("dask", dict(strategy="average", solver="saga")),
        "dask easgd": ("dask", dict(strategy="easgd", **local)),
        "dask ssp (s=1)": ("dask", dict(strategy="ssp", staleness=1, **local)),
        "dask gradient (adagrad)": ("dask", dict(strategy="gradient", optimizer="adagrad",
                                                 eta0=0.5)),
        "dask gradient (lbfgs)": ("dask", dict(strategy="gradient", solver="lbfgs")),
        "dask downpour": ("dask", dict(strategy="downpour", server_eta=0.5)),
        "dask adarevision": ("dask", dict(strategy="adarevision", server_eta=0.5)),
    }
    if X.shape[1] <= NEWTON_MAX_FEATURES and not regression:
        methods["fastgd n_jobs=1 (newton-cholesky)"] = ("single", dict(
            n_jobs=1, solver="newton-cholesky"))
        methods["dask gradient (newton-cholesky)"] = ("dask", dict(
            strategy="gradient", solver="newton-cholesky"))
    Single(max_iter=1, **common).fit(X[:100], y[:100])  # compile
    Dist(max_iter=1, **common).fit(Xd, yd)  # workers load the kernels
    results = {}
    for name, (kind, params) in methods.items():
        if kind == "single":
            results[name] = curve(lambda k: Single(max_iter=k, **common,
                                                                 **params),
                                  lambda m: m.fit(X, y), X, y, alpha)
        else:
            results[name] = curve(lambda k: Dist(max_iter=k, **common,
                                                             **params),
                                  lambda m: m.fit(Xd, yd), X, y, alpha)
        print(name, [(k, round(s, 3), f) for k, s, f in results[name]], flush=True)
    results.update(dask_ml_curves(X, y, alpha, -(-n // args.blocks), client))
    f_star = min(f_lbfgs, min(f for pts in results.values() for _, _, f in pts))

    # Dask's overhead per round: a 'gradient' round against a full-batch epoch
    single = Single(batch_size="full", optimizer="adagrad", eta0=0.5,
                                  max_iter=16, **common)
    t0 = time.perf_counter()
    single.fit(X, y)
    epoch = (time.perf_counter() - t0) / 16
    grad = [s for k, s, _ in results["dask gradient (adagrad)"] if k in (16, 32)]
    per_round = (grad[1] - grad[0]) / 16
    avg = {k: s for k, s, _ in results["dask average"]}
    sgd = {k: s for k, s, _ in results["fastgd n_jobs=1 (sgd)"]}

    lines = [f"# fastgd.dask on {args.data} (first {n} rows, {X.shape[1]} features, "
             f"MaxAbs-scaled), {args.blocks} CSR blocks, LocalCluster "
             f"{args.workers} workers x 1 thread", "",
             f"{'Ridge (squared_error, L2)' if regression else 'L2 logistic'} regression, "
             f"alpha = {alpha:g}; F* = {f_star:.10g} ({ref_name}: {f_lbfgs:.10g}). "
             f"Constant steps: eta0 = {eta0:.3g}. Seconds to relative suboptimality "
             f"(F - F*)/F*; '-' not reached within {ROUNDS[-1]} rounds/epochs.", "",
             "| method | " + " | ".join(f"{t:g}" for t in targets) + " | F after 32 |",
             "|---|" + "---:|" * (len(targets) + 1)]
    for name, pts in results.items():
        cells = [time_to(pts, f_star, t) for t in targets]
        lines.append(f"| {name} | " + " | ".join("-" if c is None else f"{c:.2f}"
                                                  for c in cells)
                     + f" | {pts[-1][2]:.6g} |")
    dask_ml_glm = "LinearRegression" if regression else "LogisticRegression"
    if not any(name.startswith(f"dask-ml {dask_ml_glm}") for name in results):
        lines += ["", f"dask-ml {dask_ml_glm} (admm, lbfgs): not in the table (it "
                  f"needs dense X: {X.shape[0] * X.shape[1] * 8 / 1e9:.1f} GB here, or "
                  "dask-ml is not installed, or dask-glm refused the data)."]
    lines += ["", f"Dask overhead per round: a 'gradient' round takes {per_round * 1e3:.1f} "
              f"ms, a single-machine full-batch epoch {epoch * 1e3:.1f} ms.",
              f"'average' (1 local epoch per round) for 32 rounds: {avg[32]:.2f} s; the "
              f"single-machine fit for 32 epochs: {sgd[32]:.2f} s "
              f"(ratio {avg[32] / sgd[32]:.2f}).", "",
              "Repeat: `python benchmarks/bench_dask.py " + " ".join(
                  f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
                  if v is not None and k not in ("out", "study", "study_rounds", "cost",
                                                 "plot")) + "`"]
    finish(lines, args.out, client, cluster)


if __name__ == "__main__":
    main()

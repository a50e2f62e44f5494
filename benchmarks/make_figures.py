"""The pictures of the README's "Which optimizer when" and the table behind them.

    python benchmarks/make_figures.py [--data ../shared/data] [--out docs/figures]
                                      [--table benchmarks/results/toolkit_paths.md]
                                      [--only paths|a9a ...]

Writes into OUT (PNG, each < 150 kB):

* ``paths_saddle.png``, ``paths_ellipse.png``, ``paths_beale.png``,
  ``paths_rosenbrock.png``: the paths of sgd, momentum, nag, adagrad, rmsprop, adadelta
  and adam (``fastgd.plot.plot_trajectories``, i.e. ``fastgd.optimize.minimize``) on
  the test functions of ``fastgd.optimize.TEST_FUNCTIONS``; on the three with a
  minimum each rule runs at the learning rate of the grid below that reached the
  minimum in the fewest steps.
* ``loss_curves_a9a.png``: ``loss_curve_`` of fastgd's SGDClassifier (log_loss,
  alpha = 1e-4, batch_size 1) with each optimizer on a9a (``fastgd.plot.plot_loss_curves``).
* ``convergence_a9a.png``: relative suboptimality against seconds and against epochs of
  the same fits (one epoch per ``partial_fit``), scikit-learn's SGDClassifier beside
  (``fastgd.plot.plot_convergence``).

and the table TABLE (markdown, also printed): steps to f(x_t) - f(x*) <= 1e-6 per
optimizer and learning rate on each test function; steps to leave the saddle. The data
(a9a) is read from DATA; without it the a9a figures are skipped.
"""

import argparse
import datetime
import lzma
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

OPTIMIZERS = ("sgd", "momentum", "nag", "adagrad", "rmsprop", "adadelta", "adam")
#: the learning-rate grid of the steps-to-the-minimum table (adadelta's eta multiplies
#: its own unit-free step, default 1.0: its grid is about 300 times larger)
GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0)
GRID_ADADELTA = (3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
TOL = 1e-6
LOOSE = 1e-2  # "descends": from this step on within 1e-2 of the minimum
MAX_STEPS = 20_000
STARTS = {"ellipse": (-4.0, 0.4), "beale": (1.0, 1.5), "rosenbrock": (-1.5, 2.0)}
SADDLE_STARTS = ((1.0, 1e-3), (1.0, 1e-6))
SADDLE_RATES = (1e-3, 1e-2, 1e-1)
SADDLE_STEPS = 2000
SADDLE_EXIT = 1.0
PICTURE_MAX_STEPS = 5000
LEGEND = {}  # legend keyword arguments per picture (placement)  # "left the saddle": |y| >= 1


def machine():
    try:
        cpu = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True,
                             text=True).stdout.split(":", 1)[1].strip()
    except Exception:  # noqa: BLE001
        cpu = platform.processor() or "?"
    return cpu


# ------------------------------------------------------------ test functions
def steps_to_minimum(name, optimizer, lr):
    """(steps after which f - f* <= LOOSE at every later step seen, steps to f - f* <=
    TOL, lowest f - f* seen); a step count is None when not reached within MAX_STEPS
    (or diverged). The run stops at TOL. "Stays within LOOSE" keeps a rule that jumps
    about and lands near the minimum by chance (rmsprop at a large rate) from counting
    as a fast descent."""
    from fastgd.optimize import TEST_FUNCTIONS, minimize

    fun, jac, x_min = TEST_FUNCTIONS[name]
    f_min = float(fun(x_min))
    seen = dict(k=0, last_out=0, gap=np.inf, best=np.inf)

    def callback(x):
        seen["k"] += 1
        gap = float(fun(x)) - f_min
        seen["gap"] = gap
        seen["best"] = min(seen["best"], gap)
        if not gap <= LOOSE:
            seen["last_out"] = seen["k"]
        return gap <= TOL

    res = minimize(fun, STARTS[name], jac, optimizer=optimizer, learning_rate=lr,
                   max_iter=MAX_STEPS, tol=0.0, callback=callback)
    stays = seen["last_out"] + 1 if seen["gap"] <= LOOSE else None
    return stays, (res.nit if res.status == 3 else None), seen["best"]


def steps_to_leave_saddle(optimizer, lr, x0):
    from fastgd.optimize import TEST_FUNCTIONS, minimize

    fun, jac, _ = TEST_FUNCTIONS["saddle"]
    res = minimize(fun, x0, jac, optimizer=optimizer, learning_rate=lr,
                   max_iter=SADDLE_STEPS, tol=0.0,
                   callback=lambda x: abs(x[1]) >= SADDLE_EXIT)
    return res.nit if res.status == 3 else None


def paths_table():
    """{function: {optimizer: {lr: steps}}} and the saddle's {(x0, optimizer, lr): steps}."""
    table = {}
    for name in STARTS:
        table[name] = {}
        for opt in OPTIMIZERS:
            grid = GRID_ADADELTA if opt == "adadelta" else GRID
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table[name][opt] = {lr: steps_to_minimum(name, opt, lr) for lr in grid}
    saddle = {}
    for x0 in SADDLE_STARTS:
        for opt in OPTIMIZERS:
            for lr in SADDLE_RATES:
                eta = 100 * lr if opt == "adadelta" else lr
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    saddle[(x0, opt, eta)] = steps_to_leave_saddle(opt, eta, x0)
    return table, saddle


def best_rate(row, which=1):
    """The rate of the fewest steps to TOL (which=1) or LOOSE (which=0), or None."""
    hits = [(r[which], lr) for lr, r in row.items() if r[which] is not None]
    return min(hits)[1] if hits else None


def picture_rate(row):
    """The picture's rate: the fewest steps to LOOSE (the descent the picture shows),
    else the lowest f - f* reached."""
    lr = best_rate(row, 0)
    if lr is None:
        lr = min(row, key=lambda r: row[r][2] if np.isfinite(row[r][2]) else np.inf)
    return lr


def _cell(s):
    return "–" if s is None else f"{s:,}"


def table_markdown(table, saddle, command):
    from fastgd._rules import RULES

    def best(row, which):
        lr = best_rate(row, which)
        return "–" if lr is None else f"{row[lr][which]:,} ({lr:g})"

    lines = [f"<!-- generated by: {command} -->", "", f"`{command}`", "",
             f"Measured {datetime.date.today()} on {machine()}, "
             "`fastgd.optimize.minimize` (the kernels' rule_step).", "",
             f"## Steps to f(x_t) − f(x*) ≤ {LOOSE:g} (and staying there) and ≤ {TOL:g}", "",
             "Each optimizer at the learning rate of the grid "
             f"{', '.join(f'{g:g}' for g in GRID)} (adadelta: "
             f"{', '.join(f'{g:g}' for g in GRID_ADADELTA)}; its default is 1.0) that "
             f"needed the fewest steps, in brackets; at most {MAX_STEPS:,} steps; – : not "
             "reached at any rate of the grid. Starts: " +
             ", ".join(f"{n} {s}" for n, s in STARTS.items()) +
             ". Other hyper-parameters at their defaults (SPEC §2).", "",
             "| optimizer | " + " | ".join(f"{n}: → {LOOSE:g}" for n in STARTS) + " | " +
             " | ".join(f"{n}: → {TOL:g}" for n in STARTS) + " |",
             "|---|" + "---:|" * (2 * len(STARTS))]
    for opt in OPTIMIZERS:
        cells = [best(table[name][opt], 0) for name in STARTS]
        cells += [best(table[name][opt], 1) for name in STARTS]
        lines.append(f"| {opt} | " + " | ".join(cells) + " |")
    lines += ["", f"At each rule's default η (fastgd._rules.RULES): steps to {LOOSE:g} (staying) / "
              f"to {TOL:g}; the lowest f − f* within {MAX_STEPS:,} steps.", "",
              "| optimizer | default η | " + " | ".join(STARTS) + " |",
              "|---|---:|" + "---|" * len(STARTS)]
    for opt in OPTIMIZERS:
        eta = RULES[opt].eta0
        cells = []
        for name in STARTS:
            r = table[name][opt][eta]
            cells.append(f"{_cell(r[0])} / {_cell(r[1])}; {r[2]:.1e}")
        lines.append(f"| {opt} | {eta:g} | " + " | ".join(cells) + " |")
    lines += ["", f"Every rate of the grid: steps to {LOOSE:g} (staying) / to {TOL:g} (– not "
              "reached)", ""]
    for name in STARTS:
        lines += [f"**{name}** from {STARTS[name]}", "",
                  "| optimizer | " + " | ".join(f"η={g:g}" for g in GRID) + " |",
                  "|---|" + "---:|" * len(GRID)]
        for opt in OPTIMIZERS:
            row = table[name][opt]
            grid = GRID_ADADELTA if opt == "adadelta" else GRID
            cells = [f"{_cell(row[lr][0])} / {_cell(row[lr][1])}" +
                     (f" (η={lr:g})" if opt == "adadelta" else "") for lr in grid]
            cells += [""] * (len(GRID) - len(cells))
            lines.append(f"| {opt} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"## Leaving the saddle x² − y²: steps until |y| ≥ {SADDLE_EXIT:g}", "",
              f"From (1, y0) on the ridge's neighbourhood, at most {SADDLE_STEPS:,} steps "
              "(– : still within |y| < 1). adadelta's η is 100 × the column's.", "",
              "| optimizer | " + " | ".join(f"y0={x0[1]:g}, η={lr:g}" for x0 in SADDLE_STARTS
                                             for lr in SADDLE_RATES) + " |",
              "|---|" + "---:|" * (len(SADDLE_STARTS) * len(SADDLE_RATES))]
    for opt in OPTIMIZERS:
        cells = [_cell(saddle[(x0, opt, 100 * lr if opt == "adadelta" else lr)])
                 for x0 in SADDLE_STARTS for lr in SADDLE_RATES]
        lines.append(f"| {opt} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def path_figures(table, out):
    import matplotlib.pyplot as plt

    from fastgd.plot import plot_trajectories

    written = []
    rates = {o: 100 * 1e-2 if o == "adadelta" else 1e-2 for o in OPTIMIZERS}
    fig = plot_trajectories(
        "saddle", SADDLE_STARTS[0], OPTIMIZERS, max_iter=200, learning_rates=rates,
        xlim=(-1.2, 1.2), ylim=(-1.2, 1.2),
        title=f"saddle x² − y²: 200 steps from {SADDLE_STARTS[0]}, η = 0.01 "
              "(adadelta 1.0)")
    written.append(_save(fig, out, "paths_saddle.png"))
    plt.close(fig)
    windows = {"ellipse": ((-4.5, 1.0), (-0.6, 0.6)), "beale": ((-0.5, 4.0), (-1.0, 2.0)),
               "rosenbrock": ((-2.0, 2.0), (-1.0, 3.0))}
    for name in STARTS:
        rates = {o: picture_rate(table[name][o]) for o in OPTIMIZERS}
        reached = [table[name][o][rates[o]][0] for o in OPTIMIZERS]
        steps = min(PICTURE_MAX_STEPS, max(s for s in reached if s is not None))
        fig = plot_trajectories(
            name, STARTS[name], OPTIMIZERS, max_iter=steps, learning_rates=rates,
            stop_below=LOOSE,
            xlim=windows[name][0], ylim=windows[name][1],
            title=f"{name} from {STARTS[name]}: each rule at its η fastest to "
                  f"f − f* ≤ {LOOSE:g}, until there", legend_kw=LEGEND.get(name))
        written.append(_save(fig, out, f"paths_{name}.png"))
        plt.close(fig)
    return written


def _save(fig, out, name, dpi=80):
    path = os.path.join(out, name)
    fig.savefig(path, dpi=dpi)
    kb = os.path.getsize(path) / 1024
    print(f"wrote {path} ({kb:.0f} kB)")
    if kb > 150:
        print(f"  warning: {name} is over 150 kB")
    return path


# ------------------------------------------------------------------------ a9a
def load_a9a(data):
    from sklearn.datasets import load_svmlight_file

    path = os.path.join(data, "a9a.xz")
    if not os.path.exists(path):
        return None
    with lzma.open(path, "rb") as f:
        X, y = load_svmlight_file(f, n_features=123)
    X = X.tocsr()
    X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)  # sklearn's SGD
    return X, np.where(y > 0, 1.0, -1.0)


def tight_optimum(X, y, alpha):
    """F* of log_loss + alpha/2 ||w||^2 by scikit-learn's lbfgs (C = 1 / (n alpha))."""
    from sklearn.linear_model import LogisticRegression

    from fastgd.objective import objective

    lr = LogisticRegression(C=1.0 / (X.shape[0] * alpha), tol=1e-12, max_iter=100_000)
    lr.fit(X, y)
    return objective(X, y, lr.coef_.ravel(), float(lr.intercept_[0]), "log_loss", alpha)


def estimator(opt, alpha, epochs, seed=0):
    from fastgd import SGDClassifier

    kw = {} if opt == "sgd" else dict(learning_rate="constant")
    # tol=0 with n_iter_no_change=epochs: every epoch runs and loss_curve_ is filled
    return SGDClassifier(loss="log_loss", alpha=alpha, optimizer=opt, max_iter=epochs,
                         tol=0.0, n_iter_no_change=epochs, random_state=seed, **kw)


def a9a_figures(X, y, out, alpha=1e-4, epochs=20):
    import matplotlib.pyplot as plt
    from sklearn.linear_model import SGDClassifier as SkSGD

    from fastgd.objective import objective
    from fastgd.plot import plot_convergence, plot_loss_curves

    written = []
    fits = []
    for opt in OPTIMIZERS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.append(estimator(opt, alpha, epochs).fit(X, y))
    labels = [f"{e.optimizer} ({'optimal' if e.optimizer == 'sgd' else 'η=%g' % e._resolved()[1]})"
              for e in fits]
    fig = plot_loss_curves(fits, labels, title=f"a9a (32,561 × 123, CSR): loss_curve_ of "
                           f"SGDClassifier(log_loss, alpha={alpha:g}), batch_size 1")
    written.append(_save(fig, out, "loss_curves_a9a.png"))
    plt.close(fig)

    fstar = tight_optimum(X, y, alpha)
    classes = np.array([-1.0, 1.0])
    curves = {}
    finals = []
    runs = [(lab, estimator(o, alpha, 1)) for lab, o in zip(labels, OPTIMIZERS)]
    runs.append(("scikit-learn SGD (optimal)",
                 SkSGD(loss="log_loss", alpha=alpha, max_iter=1, tol=None, random_state=0)))
    for label, est in runs:
        seconds, values = [], []
        spent = 0.0
        for _ in range(epochs):
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.partial_fit(X, y, classes=classes)
            spent += time.perf_counter() - t
            seconds.append(spent)
            values.append(objective(X, y, est.coef_.ravel(), float(est.intercept_[0]),
                                    "log_loss", alpha))
        finals.append(min(values))
        curves[label] = dict(seconds=seconds, epochs=list(range(1, epochs + 1)),
                             values=values,
                             style={} if label.startswith(OPTIMIZERS) else {"ls": "--"})
    fstar = min([fstar] + finals)
    for rec in curves.values():
        rec["subopt"] = [(v - fstar) / abs(fstar) for v in rec["values"]]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    plot_convergence(curves, x="seconds", ax=axes[0], xlabel="seconds (partial_fit, "
                     "one epoch each, cumulated)", legend_kw=dict(fontsize=7))
    plot_convergence(curves, x="epochs", ax=axes[1], legend_kw=dict(fontsize=7))
    axes[1].get_legend().remove()
    fig.suptitle(f"a9a, log_loss, alpha={alpha:g}: (F − F*) / |F*|, F* = {fstar:.8g} "
                 "(lbfgs)", fontsize=10)
    fig.tight_layout()
    written.append(_save(fig, out, "convergence_a9a.png"))
    plt.close(fig)
    return written, curves, fstar


def main(argv=None):
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "figures"))
    parser.add_argument("--table", default=os.path.join(HERE, "results",
                                                        "toolkit_paths.md"))
    parser.add_argument("--only", nargs="*", choices=("paths", "a9a"),
                        default=("paths", "a9a"))
    args = parser.parse_args(argv)
    command = "python " + " ".join(shlex.quote(a) for a in
                                   [os.path.relpath(__file__, ROOT)] + (argv or sys.argv[1:]))
    os.makedirs(args.out, exist_ok=True)
    if "paths" in args.only:
        t = time.perf_counter()
        table, saddle = paths_table()
        md = table_markdown(table, saddle, command)
        print(md)
        print(f"(table: {time.perf_counter() - t:.1f} s)")
        os.makedirs(os.path.dirname(args.table), exist_ok=True)
        with open(args.table, "w") as f:
            f.write(md)
        path_figures(table, args.out)
    if "a9a" in args.only:
        data = load_a9a(args.data)
        if data is None:
            print(f"no a9a.xz in {args.data}: the a9a figures are skipped")
        else:
            _, curves, fstar = a9a_figures(*data, args.out)
            print(f"a9a F* = {fstar:.10g}; relative suboptimality after epochs 1, 5, 10, "
                  "20 and seconds spent:")
            for label, rec in curves.items():
                s = rec["subopt"]
                print(f"  {label:34s} " + "  ".join(f"{s[k - 1]:.2e}" for k in (1, 5, 10, 20))
                      + f"   {rec['seconds'][-1]:.2f} s")


if __name__ == "__main__":
    main()

"""``python -m fastgd``: fastgd and scikit-learn side by side on a bundled real dataset.

Fits scikit-learn's SGDClassifier and fastgd's SGDClassifier with several optimizers on
a9a (sparse, binary; test score on a9a.t), and SGDRegressor on abalone (dense), and
prints one table: optimizer, epochs, seconds, training objective (SPEC section 1), test score.

``fastgd COMMAND ...`` (the console script, or ``python -m fastgd COMMAND``) runs a
command of ``fastgd.cli`` (fit, predict, eval, convert, bench); with no command, the demo.
"""

import argparse
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import fastgd
from fastgd.datasets import load
from fastgd.objective import objective


def _head(X, n):
    """The first ``n`` rows of ``X``, a view of its arrays: the kernels a warm-up on it
    compiles or loads are those of ``X``'s array types (read-only memmaps included)."""
    if sp.issparse(X):
        from fastgd.datasets import _csr  # scipy's constructor would copy them

        nnz = int(X.indptr[n])
        return _csr(X.data[:nnz], X.indices[:nnz], X.indptr[:n + 1], (n, X.shape[1]))
    return X[:n]


def _row(lib, name, est, X, y, Xt, yt, loss, alpha):
    # compile (first run) or load the kernels on a slice, so the timing is the fit's
    max_iter = est.max_iter
    est.set_params(max_iter=1).fit(_head(X, 200), y[:200])
    est.set_params(max_iter=max_iter)
    start = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - start
    y_pm = np.where(y == est.classes_[1], 1.0, -1.0) if hasattr(est, "classes_") else y
    obj = objective(X, y_pm, est.coef_.ravel(), float(np.ravel(est.intercept_)[0]), loss,
                    alpha)
    return (lib, name, int(est.n_iter_), seconds, obj, est.score(Xt, yt))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and not argv[0].startswith("-"):
        from fastgd.cli import main as cli_main

        return cli_main(argv)
    parser = argparse.ArgumentParser(
        prog="python -m fastgd", description=__doc__.split("\n")[0],
        epilog="Commands: fastgd fit | predict | eval | convert | bench (fastgd COMMAND "
        "--help for each); with none, this demo.")
    parser.add_argument("--epochs", type=int, default=10, help="max_iter of every fit")
    parser.add_argument("--alpha", type=float, default=1e-4)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)

    X, y = load("a9a")
    Xt, yt = load("a9a.t")
    common = dict(loss="log_loss", alpha=args.alpha, max_iter=args.epochs, tol=None,
                  random_state=0)
    print("Compiling fastgd's kernels on the first run (cached afterwards) ...", flush=True)
    fits = [("scikit-learn", "sgd (optimal)", sk.SGDClassifier(**common)),
            ("fastgd", "sgd (optimal)", fastgd.SGDClassifier(**common))]
    for opt, extra in [("momentum", {"batch_size": 32}), ("adagrad", {"eta0": 0.1}),
                       ("rmsprop", {}), ("adam", {}), ("adamw", {}),
                       ("adam", {"batch_size": 64, "eta0": 0.01})]:
        label = opt + (f" (batch {extra['batch_size']})" if "batch_size" in extra else "")
        fits.append(("fastgd", label, fastgd.SGDClassifier(optimizer=opt, **common, **extra)))
    rows = [_row(lib, name, est, X, y, Xt, yt, "log_loss", args.alpha)
            for lib, name, est in fits]

    Xr, yr = load("abalone")
    Xr = Xr.toarray()
    Xr_tr, Xr_te, yr_tr, yr_te = train_test_split(Xr, yr, test_size=0.2, random_state=0)
    common = dict(alpha=args.alpha, max_iter=args.epochs, tol=None, random_state=0)
    reg = [("scikit-learn", "sgd (invscaling)", sk.SGDRegressor(**common)),
           ("fastgd", "sgd (invscaling)", fastgd.SGDRegressor(**common)),
           ("fastgd", "adam (eta0 0.05)", fastgd.SGDRegressor(optimizer="adam", eta0=0.05,
                                                             **common)),
           ("fastgd", "nag (batch 16)", fastgd.SGDRegressor(optimizer="nag", batch_size=16,
                                                           **common))]
    rows_r = [_row(lib, name, est, Xr_tr, yr_tr, Xr_te, yr_te, "squared_error", args.alpha)
              for lib, name, est in reg]

    print(f"a9a (32,561 x 123 sparse, logistic, alpha={args.alpha:g}); test score = "
          "accuracy on a9a.t")
    _print(rows)
    print(f"\nabalone (4,177 x 8 dense, least squares, alpha={args.alpha:g}); test score = "
          "R^2 on a 20% split")
    _print(rows_r)


def _print(rows):
    head = f"{'library':<13}{'optimizer':<20}{'epochs':>7}{'seconds':>10}{'objective':>12}" \
           f"{'test score':>12}"
    print(head)
    print("-" * len(head))
    for lib, name, n_iter, sec, obj, score in rows:
        print(f"{lib:<13}{name:<20}{n_iter:>7}{sec:>10.3f}{obj:>12.5f}{score:>12.4f}")


if __name__ == "__main__":
    sys.exit(main())

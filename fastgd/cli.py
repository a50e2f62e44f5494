"""The ``fastgd`` command line: fit, predict, eval, convert and bench on svmlight data.

DATA is an svmlight/libsvm file (plain, .gz, .bz2 or .xz) or a directory written by
``fastgd convert`` (memory-mapped: data larger than RAM is fitted without loading it).
Models are ``fastgd.save_model`` files (``.npz`` + JSON, never pickles). A bad file or
flag prints one line on stderr and exits with status 1 (2 for bad flags).
"""

import argparse
import sys
import time
import warnings

import numpy as np

from fastgd._rules import LOSSES, REGRESSION_LOSSES, RULES, SCHEDULES, SOLVERS

COMMANDS = ("fit", "predict", "eval", "convert", "bench")
_DATA_HELP = ("an svmlight/libsvm file (plain, .gz, .bz2, .xz) or a directory made by "
              "`fastgd convert`")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _float_or_auto(text):
    return text if text == "auto" else float(text)


def _int_or_full(text):
    return text if text == "full" else int(text)


def _model_flags(p):
    g = p.add_argument_group("model (the estimator's parameters; see fastgd.SGDClassifier)")
    g.add_argument("--loss", default="log_loss", choices=sorted(LOSSES),
                   help="loss; a regression loss (%s) fits SGDRegressor, any other "
                   "SGDClassifier (default: log_loss)" % ", ".join(REGRESSION_LOSSES))
    g.add_argument("--optimizer", default="sgd", choices=list(RULES),
                   help="update rule (default: sgd)")
    g.add_argument("--solver", default="sgd", choices=SOLVERS,
                   help="sgd, or a variance-reduced solver (default: sgd)")
    g.add_argument("--sampling", default="uniform", choices=["uniform", "lipschitz", "auto"],
                   help="saga/svrg: draw samples uniformly, or by their Lipschitz "
                   "constants (longer steps on rows of uneven norms), or 'auto' "
                   "(default: uniform)")
    g.add_argument("--penalty", default="l2", choices=["l2", "l1", "elasticnet", "none"])
    g.add_argument("--alpha", type=float, default=1e-4,
                   help="regularisation strength (default: 1e-4)")
    g.add_argument("--eta0", type=_float_or_auto, default="auto",
                   help="initial step size, or 'auto' (default)")
    g.add_argument("--learning-rate", default="auto", choices=["auto", *SCHEDULES],
                   help="step size schedule (default: auto)")
    g.add_argument("--batch-size", type=_int_or_full, default=1,
                   help="samples per step, or 'full' (default: 1)")
    g.add_argument("--epochs", type=int, default=5,
                   help="passes over the data, all of them run (default: 5)")
    g.add_argument("--n-jobs", type=int, default=None, help="threads (default: 1)")
    g.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    g.add_argument("--shuffle-block", type=int, default=None, metavar="ROWS",
                   help="shuffle blocks of ROWS rows, then rows within a block: mostly "
                   "sequential disk reads for data larger than memory (default: a "
                   "full shuffle)")


def _model_and_data(p):
    p.add_argument("--model", required=True, metavar="PATH", help="a `fastgd fit` model")
    p.add_argument("data", nargs="+", metavar="DATA", help=_DATA_HELP)


def _estimator(args, progress):
    import fastgd

    cls = fastgd.SGDRegressor if args.loss in REGRESSION_LOSSES else fastgd.SGDClassifier
    return cls(loss=args.loss, optimizer=args.optimizer, solver=args.solver,
               sampling=args.sampling, penalty=None if args.penalty == "none" else args.penalty, alpha=args.alpha,
               eta0=args.eta0, learning_rate=args.learning_rate,
               batch_size=args.batch_size, max_iter=args.epochs, tol=None,
               n_jobs=args.n_jobs, random_state=args.random_state,
               shuffle_block=args.shuffle_block, progress=progress)


def objectives(est, X, y):
    """[(label, F)] of SPEC section 1 for a fitted estimator: one per binary problem."""
    from fastgd.objective import objective

    l1_ratio = est._penalty()[1]
    alpha = 0.0 if est.penalty is None else est.alpha
    classes = getattr(est, "classes_", None)
    if classes is None:
        problems = [("", y)]
    elif len(classes) == 2:
        problems = [("", np.where(y == classes[1], 1.0, -1.0))]
    else:
        problems = [(f" (class {c} vs rest)", np.where(y == c, 1.0, -1.0)) for c in classes]
    return [(label, objective(X, y_pm, est.coef_[k] if est.coef_.ndim == 2 else est.coef_,
                              np.ravel(est.intercept_)[k], est.loss, alpha, l1_ratio,
                              epsilon=est.epsilon))
            for k, (label, y_pm) in enumerate(problems)]


def metrics(est, X, y):
    """[(name, value)]: accuracy and log-loss (with predict_proba) for classifiers,
    RMSE and R^2 for regressors."""
    from sklearn.metrics import log_loss, mean_squared_error, r2_score

    if hasattr(est, "classes_"):
        out = [("accuracy", est.score(X, y))]
        if hasattr(est, "predict_proba"):
            out.append(("log_loss", log_loss(y, est.predict_proba(X), labels=est.classes_)))
        return out
    pred = est.predict(X)
    return [("rmse", float(np.sqrt(mean_squared_error(y, pred)))), ("r2", r2_score(y, pred))]


def _print_metrics(est, X, y, prefix=""):
    for name, value in metrics(est, X, y):
        print(f"{prefix}{name}: {value:.6f}")


def cmd_fit(args):
    from fastgd import save_model
    from fastgd.datasets import load_data

    X, y = load_data(args.data)
    est = _estimator(args, progress=not args.quiet)
    start = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - start
    print(f"{type(est).__name__} on {X.shape[0]:,} rows x {X.shape[1]:,} features "
          f"({X.nnz:,} non-zeros): {est.n_iter_} epochs in {seconds:.3f} s")
    for label, value in objectives(est, X, y):
        print(f"objective{label}: {value:.8g}")
    save_model(est, args.model)
    print(f"model saved to {args.model}")
    if args.test:
        Xt, yt = load_data(args.test, n_features=est.n_features_in_)
        _print_metrics(est, Xt, yt, "test ")


def _load(args):
    from fastgd import load_model
    from fastgd.datasets import load_data

    est = load_model(args.model)
    X, y = load_data(args.data, n_features=est.n_features_in_)
    return est, X, y


def cmd_predict(args):
    est, X, _ = _load(args)
    pred = est.predict(X)
    fmt = "%s" if pred.dtype.kind in "UO" else "%.17g"
    np.savetxt(sys.stdout if args.output == "-" else args.output, pred, fmt=fmt)
    if args.output != "-":
        print(f"{pred.shape[0]:,} predictions written to {args.output}", file=sys.stderr)


def cmd_eval(args):
    est, X, y = _load(args)
    _print_metrics(est, X, y)


def cmd_convert(args):
    from fastgd.datasets import convert_svmlight

    zero_based = {"auto": "auto", "yes": True, "no": False}[args.zero_based]
    start = time.perf_counter()
    header = convert_svmlight(args.data, args.output, n_features=args.n_features,
                              zero_based=zero_based)
    seconds = time.perf_counter() - start
    print(f"{header['n_samples']:,} rows x {header['n_features']:,} features, "
          f"{header['nnz']:,} non-zeros written to {args.output} in {seconds:.2f} s "
          f"({header['nnz'] / max(seconds, 1e-9):,.0f} non-zeros/s)")


def cmd_bench(args):
    from sklearn import linear_model as sk

    import fastgd
    from fastgd.__main__ import _print, _row
    from fastgd.datasets import load_data

    X, y = load_data(args.data)
    regress = args.loss in REGRESSION_LOSSES
    if not regress and np.unique(y).shape[0] != 2:
        raise ValueError(f"bench compares binary classifiers; {args.data[0]} has "
                         f"{np.unique(y).shape[0]} classes (use a regression --loss?)")
    common = dict(loss=args.loss, alpha=args.alpha, max_iter=args.epochs, tol=None,
                  random_state=0)
    name = "SGDRegressor" if regress else "SGDClassifier"
    rows = [_row(lib, "sgd (defaults)", getattr(mod, name)(**common),
                 X, y, X, y, args.loss, args.alpha)
            for lib, mod in (("scikit-learn", sk), ("fastgd", fastgd))]
    print(f"{args.data[0]}: {X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} non-zeros; "
          f"loss={args.loss}, alpha={args.alpha:g}, {args.epochs} epochs; score = "
          "training " + ("R^2" if regress else "accuracy"))
    _print(rows)
    (_, _, _, t_sk, f_sk, _), (_, _, _, t_fg, f_fg, _) = rows
    print(f"fastgd / scikit-learn: time {t_fg / t_sk:.3f}x, objective {f_fg / f_sk:.4f}x "
          "(same run)")


def build_parser():
    parser = _Parser(prog="fastgd", description="Gradient descent for linear models on "
                     "svmlight data, in memory or memory-mapped from disk. `python -m "
                     "fastgd` (no command) runs the demo.",
                     epilog="Run `fastgd COMMAND --help` for a command's options.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)

    p = sub.add_parser("fit", help="fit a model and save it",
                       description="Fit a linear model on DATA (all files together) and "
                       "save it to --model. Prints a progress bar (stderr), the epochs, "
                       "seconds and the final objective F(w, b) of SPEC section 1. "
                       "Example: fastgd fit train.svm.gz --model m.npz --test test.svm")
    p.add_argument("data", nargs="+", metavar="DATA", help=_DATA_HELP)
    p.add_argument("--model", required=True, metavar="PATH", help="model file to write")
    p.add_argument("--test", nargs="+", metavar="DATA",
                   help="also evaluate on this data (as `fastgd eval`)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _model_flags(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("predict", help="write one prediction per line",
                       description="Predict every row of DATA with a saved model: one "
                       "class label (classifiers) or value (regressors) per line. "
                       "Example: fastgd predict --model m.npz test.svm -o pred.txt")
    _model_and_data(p)
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file ('-' for stdout)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("eval", help="score a model on labelled data",
                       description="Score a saved model on DATA: accuracy and log-loss "
                       "(log-loss only for models with predict_proba: log_loss and "
                       "modified_huber) for classifiers, RMSE and R^2 for regressors. "
                       "Example: fastgd eval --model m.npz test.svm")
    _model_and_data(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("convert", help="svmlight files to a memory-mappable directory",
                       description="Convert svmlight files (concatenated in order) to a "
                       "directory of .npy arrays that fit/predict/eval memory-map: one "
                       "streaming pass, memory bounded by a 4 MB chunk. Example: "
                       "fastgd convert part1.svm.gz part2.svm.gz -o train.d")
    p.add_argument("data", nargs="+", metavar="DATA", help="svmlight file(s)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    p.add_argument("--n-features", type=int, default=None,
                   help="number of columns (default: the largest index + 1); a larger "
                   "index is an error")
    p.add_argument("--zero-based", choices=["auto", "yes", "no"], default="auto",
                   help="are indices 0-based? auto: yes if the first 4 MB hold an index "
                   "0 (default)")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("bench", help="fastgd against scikit-learn on your data",
                       description="Fit scikit-learn's and fastgd's SGD (scikit-learn's "
                       "defaults, the same epochs) on DATA and print the seconds and "
                       "training objective of each, and their ratios from the same run. "
                       "Example: fastgd bench train.svm --epochs 5")
    p.add_argument("data", nargs=1, metavar="DATA", help=_DATA_HELP)
    p.add_argument("--loss", default="log_loss", choices=sorted(LOSSES),
                   help="default: log_loss (a regression loss compares SGDRegressor)")
    p.add_argument("--alpha", type=float, default=1e-4)
    p.add_argument("--epochs", type=int, default=5)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv=None):
    """Run one command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            args.func(args)
    except (ValueError, TypeError, OSError, EOFError, MemoryError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"fastgd {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"fastgd {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""scikit-learn estimators on fastgd's kernels.

``SGDClassifier`` and ``SGDRegressor`` take every constructor parameter of their
scikit-learn namesakes (same defaults, same meaning) plus SPEC section 6's ``optimizer``,
``solver``, ``batch_size``, ``lazy``, ``n_jobs``, ``backend`` and the optimizers'
hyper-parameters. ``learning_rate='auto'`` and ``eta0='auto'`` resolve to scikit-learn's
defaults when ``optimizer='sgd'`` and to the optimizer's customary constant step
otherwise (Adam: constant 1e-3). ``learning_rate`` also takes any schedule of
``fastgd.schedules`` (solver='sgd', every rule): it then sets every step's rate.
``curriculum_epochs`` with ``fit(..., difficulty=...)`` orders the first epochs from the
easiest sample to the hardest (curriculum learning).
``LogisticRegression``, ``Ridge``, ``LinearRegression``, ``Lasso`` and ``ElasticNet`` are
scikit-learn's classes of those names, solved exactly (to ``tol``) by L-BFGS on fastgd's
compiled gradient (``fastgd._lbfgs``) or the variance-reduced solvers of ``fastgd._vr``
(SAG, SAGA, SVRG); multinomial (softmax) for more than two classes.
"""

import contextlib
import dataclasses
import functools
import threading
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot, softmax
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from fastgd import _engine
from fastgd._backend import kernels, resolve_backend
from fastgd._progress import EpochBar
from fastgd._validation import (check_sparse_structure, checked_when_written,
                                without_duplicates)
from fastgd.epoch_order import block_shuffle
from fastgd._rules import (HP_NAMES, LOSSES, PENALTIES, REGRESSION_LOSSES, RULES, SCHEDULES,
                           SOLVERS, Penalty, Schedule, loss_param)
from fastgd.schedules import LRSchedule

MAX_INT = np.iinfo(np.int32).max
SPARSE_INTERCEPT_DECAY = 0.01


_FIT_LOCKS = weakref.WeakKeyDictionary()
_FIT_LOCKS_LOCK = threading.Lock()


def _fit_lock(estimator):
    with _FIT_LOCKS_LOCK:
        return _FIT_LOCKS.setdefault(estimator, threading.RLock())


def _rollback_on_error(method):
    """Make ``fit``/``partial_fit`` atomic: all of it or nothing.

    - When the call raises (bad input, divergence, Ctrl-C), the estimator is left
      exactly as it was. Every fitted attribute is rebound, never modified in place, so
      restoring the instance dict (a shallow copy) undoes the call: a diverging or
      invalid partial_fit keeps coef_, intercept_, t_, n_iter_ (and n_features_in_ of a
      first call, so that a failed first call leaves the estimator unfitted).
    - Calls on one estimator from several threads run one after another (a lock per
      estimator), so they never leave a mix of two fits. Reading the estimator (e.g.
      ``predict``) while another thread fits it is not supported, as in scikit-learn.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with _fit_lock(self):
            saved = dict(self.__dict__)
            try:
                return method(self, *args, **kwargs)
            except BaseException:
                self.__dict__.clear()
                self.__dict__.update(saved)
                raise

    return wrapper


def _advanced_rng(random_state, t):
    """The sample stream of a fit that continues at step ``t`` (``partial_fit``).

    An integer ``random_state`` would replay the same draws on every call; mixing in
    ``t`` (SeedSequence) gives each call fresh draws, still reproducible. scikit-learn's
    own plain path keeps its replay (parity); a RandomState instance advances itself.
    """
    if isinstance(random_state, Integral) and t > 1:
        seq = np.random.SeedSequence([int(random_state), int(t)])
        return np.random.RandomState(np.random.MT19937(seq))
    return check_random_state(random_state)


def _rows_to_score(est, X):
    """X after scikit-learn's checks for a fitted ``est``; a converted directory's rows
    (``fastgd.datasets.load_mmap``, checked when written) skip the finite check, on data
    larger than memory a second read of the disk."""
    check_is_fitted(est)
    check_sparse_structure(X)
    return validate_data(est, X, accept_sparse="csr", reset=False,
                         ensure_all_finite=not checked_when_written(X))


def _linear_scores(est, X, ravel=False):
    """``X @ coef_.T + intercept_`` (``ravel``: one column becomes 1-D, as
    scikit-learn's decision_function returns it)."""
    X = _rows_to_score(est, X)
    scores = safe_sparse_dot(X, est.coef_.T, dense_output=True) + est.intercept_
    return scores.ravel() if ravel and scores.ndim > 1 and scores.shape[1] == 1 else scores


class _BaseSGD(SparseCoefMixin, BaseEstimator):
    """Parameters, validation and the fit loop shared by every fastgd estimator."""

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "learning_rate": [StrOptions({"auto", *SCHEDULES}), LRSchedule],
        "eta0": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "n_jobs": [Integral, None],
        "optimizer": [StrOptions(set(RULES))],
        "solver": [StrOptions(set(SOLVERS))],
        "sampling": [StrOptions({"uniform", "lipschitz", "auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"full"})],
        "lazy": ["boolean"],
        "backend": [StrOptions({"auto", "numba", "cython"})],
        "momentum": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="left")],
        "rho": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="left")],
        "beta_1": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="left")],
        "beta_2": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="left")],
        "eps": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "shuffle_block": [Interval(Integral, 1, None, closed="left"), None],
        "curriculum_epochs": [Interval(Integral, 0, None, closed="left")],
        "progress": ["boolean"],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "clip_value": [Interval(Real, 0, None, closed="neither"), None],
        "gradient_noise": [Interval(Real, 0, None, closed="left")],
        "noise_decay": [Interval(Real, 0, None, closed="left")],
    }

    # ------------------------------------------------------------------ resolution
    def _default_schedule(self):
        raise NotImplementedError

    def _resolved(self):
        """(schedule name, eta0, hp vector) after 'auto' is resolved for the optimizer."""
        spec = RULES[self.optimizer]
        if self.learning_rate == "auto":
            lr = self._default_schedule() if self.optimizer == "sgd" else "constant"
        else:
            lr = self.learning_rate
        eta0 = spec.eta0 if self.eta0 == "auto" else float(self.eta0)
        hp = np.zeros(len(HP_NAMES))
        for k, name in enumerate(HP_NAMES):
            value = getattr(self, name)
            hp[k] = spec.hyper.get(name, 0.0) if value == "auto" else float(value)
        return lr, eta0, hp

    def _more_validate_params(self, for_partial_fit=False):
        if self.power_t < 0:
            warnings.warn("Negative values for `power_t` are deprecated in version 1.8 "
                          "and will raise an error in 1.10. Use values in the range "
                          "[0.0, inf) instead.", FutureWarning)  # as scikit-learn 1.8+
        if self.early_stopping and for_partial_fit:
            raise ValueError("early_stopping should be False with partial_fit")
        lr, _, _ = self._resolved()
        if lr == "optimal" and self.alpha == 0:
            raise ValueError("alpha must be > 0 since learning_rate is 'optimal'. alpha "
                             "is used to compute the optimal learning rate.")
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        if self.average and (self.optimizer != "sgd" or self.batch_size != 1):
            raise ValueError(
                "average (ASGD) is implemented for optimizer='sgd' with batch_size=1 "
                f"(scikit-learn's averaged SGD); got optimizer={self.optimizer!r}, "
                f"batch_size={self.batch_size!r}.")
        if self.n_jobs == 0:
            raise ValueError("n_jobs == 0 has no meaning: use None or 1 for one thread, "
                             "k > 1 for k threads, -1 for every core (-2: all but one).")
        resolve_backend(self.backend)
        if self.solver == "sag" and not self.shuffle:
            raise ValueError(
                "solver='sag' draws its samples at random by design (Le Roux, Schmidt, "
                "Bach); in a fixed cyclic order it diverges at its step size. Use "
                "shuffle=True, or solver='saga' or 'svrg', which accept shuffle=False.")
        if self.sampling == "lipschitz" and self.solver not in ("saga", "svrg"):
            raise ValueError(f"sampling='lipschitz' (importance sampling by the samples' "
                             f"Lipschitz constants) is for solver='saga' and 'svrg'; got "
                             f"solver={self.solver!r}.")
        if self.shuffle_block is not None and self.solver != "sgd":
            raise ValueError(f"shuffle_block (a block-wise epoch order) is implemented "
                             f"for solver='sgd'; got solver={self.solver!r}.")
        if self.solver != "sgd":
            tools = [name for name in ("clip_norm", "clip_value") if getattr(self, name)]
            tools += ["gradient_noise"] if self.gradient_noise else []
            if tools:
                raise ValueError(
                    f"{', '.join(tools)}: clipping and gradient noise act on the steps of "
                    f"solver='sgd' (any optimizer); got solver={self.solver!r}, whose "
                    "variance reduction assumes exact gradients.")
            if isinstance(self.learning_rate, LRSchedule):
                raise ValueError(
                    f"solver={self.solver!r} takes its own constant step (eta0); the "
                    "fastgd.schedules schedules are for solver='sgd'.")
            if self.solver in ("lbfgs", "newton-cholesky") and self.penalty in (
                    "l1", "elasticnet"):
                raise ValueError(
                    f"solver={self.solver!r} supports penalty='l2' or None (it needs a "
                    f"smooth objective); got penalty={self.penalty!r}. Use solver='saga' "
                    "for L1.")
            if self.solver == "newton-cholesky" and self._loss_name() != "log_loss":
                raise ValueError(
                    "solver='newton-cholesky' solves logistic regression (its Hessian is "
                    "the log loss's): it needs SGDClassifier(loss='log_loss'); got "
                    f"loss={self._loss_name()!r}. Use solver='lbfgs' for other smooth "
                    "losses.")
            if self.optimizer != "sgd":
                raise ValueError(
                    f"solver={self.solver!r}: variance-reduced solvers (sag, saga, svrg) "
                    "and lbfgs use their own plain step; optimizer must be 'sgd', got "
                    f"optimizer={self.optimizer!r}.")
            if not LOSSES[self._loss_name()].lipschitz:
                raise ValueError(
                    f"solver={self.solver!r} needs a loss with a Lipschitz gradient "
                    "(squared_error, log_loss, modified_huber, squared_hinge, huber); "
                    f"got loss={self._loss_name()!r}.")
            if self.average:
                raise ValueError(f"average is not available with solver={self.solver!r}.")
            if self.early_stopping:
                raise ValueError(
                    f"early_stopping is not available with solver={self.solver!r}: the "
                    "variance-reduced solvers stop on tol (relative change of coef_).")

    def _loss_name(self):
        return self.loss

    def _penalty(self):
        penalty = PENALTIES[self.penalty]
        if penalty == Penalty.L2 or penalty == Penalty.NONE:
            l1_ratio = 0.0
        elif penalty == Penalty.L1:
            l1_ratio = 1.0
        else:
            l1_ratio = float(self.l1_ratio)
        return int(penalty), l1_ratio

    def _config(self, loss, max_iter):
        lr, eta0, hp = self._resolved()
        penalty, l1_ratio = self._penalty()
        alpha = float(self.alpha) if penalty != Penalty.NONE else 0.0
        slots = lr.kernel_slots() if isinstance(lr, LRSchedule) else {
            "schedule": int(SCHEDULES[lr])}
        cfg = _engine.Config(
            rule=int(RULES[self.optimizer].id), loss=int(LOSSES[loss].id),
            param=loss_param(loss, self.epsilon), penalty=penalty,
            alpha=float(self.alpha), l1_ratio=l1_ratio,
            fit_intercept=bool(self.fit_intercept), schedule=slots.pop("schedule"),
            eta0=eta0, power_t=float(self.power_t), hp=hp, batch_size=self.batch_size,
            lazy=bool(self.lazy), average=int(self.average), max_iter=int(max_iter),
            tol=-np.inf if self.tol is None else float(self.tol),
            n_iter_no_change=int(self.n_iter_no_change),
            early_stopping=bool(self.early_stopping), shuffle=bool(self.shuffle),
            verbose=int(self.verbose), solver=self.solver, schedule_slots=slots,
            clip_value=float(self.clip_value or 0.0), clip_norm=float(self.clip_norm or 0.0),
            noise=float(self.gradient_noise), noise_decay=float(self.noise_decay),
            noise_seed=self._noise_seed(), sampling=self.sampling)
        if not cfg.plain:
            cfg.alpha = alpha  # penalty=None means no L2 term in the gradient
        cfg.schedule_alpha = float(self.alpha)
        cfg.eta0_auto = self.eta0 == "auto"
        cfg.curriculum_epochs = int(self.curriculum_epochs)
        cfg.n_jobs = _engine.effective_n_jobs(self.n_jobs)
        if self.shuffle_block is not None:
            cfg.epoch_order = functools.partial(block_shuffle, block_rows=self.shuffle_block)
        if cfg.schedule == Schedule.OPTIMAL and cfg.solver == "sgd":
            cfg.optimal_init = _engine.optimal_init(cfg, kernels(self.backend),
                                                    float(self.alpha))
        return cfg

    def _noise_seed(self):
        """The gradient noise's key: drawn from ``random_state`` (a fresh draw for None),
        without touching the sample order's generator for an integer seed."""
        if not self.gradient_noise:
            return 0
        return int(check_random_state(self.random_state).randint(0, 2**32, dtype=np.int64))

    # --------------------------------------------------------------- validation
    def _difficulty(self, difficulty, X):
        """The validated per-sample scores of a curriculum, or None without one.

        ``fit(..., difficulty=)`` (one score per sample; with ``curriculum_epochs``): the
        first ``curriculum_epochs`` epochs visit the samples from the lowest score to the
        highest (Bengio et al. 2009, curriculum learning), the later ones as ``shuffle``
        says. scikit-learn's metadata routing passes it on
        (``set_fit_request(difficulty=True)``).
        """
        if self.curriculum_epochs == 0:
            return None
        if difficulty is None:
            raise ValueError(f"curriculum_epochs={self.curriculum_epochs} orders the "
                             "first epochs by difficulty: pass fit(X, y, difficulty=...), "
                             "one score per sample (lower: easier).")
        if self.solver != "sgd":
            raise ValueError(f"solver={self.solver!r} draws its own sample order; "
                             "curriculum_epochs is for solver='sgd'.")
        d = np.asarray(difficulty, dtype=np.float64)
        if d.shape != (X.shape[0],):
            raise ValueError(f"difficulty has shape {d.shape}; expected ({X.shape[0]},), "
                             "one score per sample.")
        if not np.isfinite(d).all():
            raise ValueError("difficulty contains NaN or infinity.")
        return d

    def _validate_X_y(self, X, y, reset):
        check_sparse_structure(X)
        X, y = validate_data(self, X, y, accept_sparse="csr",
                             dtype=[np.float64, np.float32], order="C",
                             ensure_all_finite=not checked_when_written(X),
                             accept_large_sparse=True, reset=reset,
                             y_numeric=not self._is_classifier)
        if self.solver != "sgd":
            # SAG/SAGA/SVRG apply their dense term and prox once per stored entry
            X = without_duplicates(X)
        if self._is_classifier:
            check_classification_targets(y)  # 'Unknown label type' for continuous y
        elif not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity.")
        return X, y

    def _validation_split(self, y, sample_mask):
        n = y.shape[0]
        mask = np.zeros(n, dtype=bool)
        if not self.early_stopping:
            return mask
        splitter = StratifiedShuffleSplit if self._is_classifier else ShuffleSplit
        cv = splitter(test_size=self.validation_fraction, random_state=self.random_state)
        idx_train, idx_val = next(cv.split(np.zeros((n, 1)), y))
        if not np.any(sample_mask[idx_val]):
            raise ValueError("The sample weights for validation set are all zero, "
                             "consider using a different random state.")
        if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
            raise ValueError(
                f"Splitting {n} samples into a train set and a validation set with "
                f"validation_fraction={self.validation_fraction!r} led to an empty set "
                f"({idx_train.shape[0]} and {idx_val.shape[0]} samples). Please either "
                "change validation_fraction, increase number of samples, or disable "
                "early_stopping.")
        mask[idx_val] = True
        return mask

    def _score_cb(self, rows_val, y_val, sw_val):
        if self._is_classifier:
            def score(w, b):
                pred = np.where(rows_val.decision(w, b) > 0, 1.0, -1.0)
                return accuracy_score(y_val, pred, sample_weight=sw_val)
        else:
            def score(w, b):
                return r2_score(y_val, rows_val.decision(w, b), sample_weight=sw_val)
        return score

    def _fit_one(self, X, rows, y, sw, coef, intercept, cfg, *, t, random_state, mask,
                 avg_coef=None, avg_intercept=0.0, state=None, stop=None, desc="fit"):
        """Fit one binary (or regression) problem; with ``progress``, an ``EpochBar``
        (labelled ``desc``) is the engine's per-epoch callback."""
        train_idx = np.flatnonzero(~mask).astype(np.int64)
        score_cb = None
        if cfg.early_stopping:
            score_cb = self._score_cb(_engine.Rows.of(X[mask], self.backend), y[mask],
                                      sw[mask])
        rng = check_random_state(random_state) if cfg.plain else _advanced_rng(
            random_state, t)
        shuffle_seed = None
        if cfg.plain:
            # scikit-learn's draws, in its order: make_dataset's seed, then the shuffle
            # seed (classifiers; SGDRegressor draws them the other way round)
            if self._is_classifier:
                rng.randint(1, np.iinfo(np.int32).max)
                shuffle_seed = int(rng.randint(MAX_INT))
            else:
                shuffle_seed = int(rng.randint(0, MAX_INT))
                rng.randint(1, np.iinfo(np.int32).max)
            if cfg.epoch_order is not None:  # shuffle_block: the engine's own order
                shuffle_seed = None
        bar = (EpochBar(cfg.max_iter, train_idx.shape[0], desc) if self.progress
               else contextlib.nullcontext())
        with bar:
            callback = bar if self.progress else None
            if cfg.solver == "lbfgs":
                from fastgd._lbfgs import fit_lbfgs

                return fit_lbfgs(rows, y, sw, coef, intercept, cfg, t=float(t),
                                 train_idx=train_idx, stop=stop, callback=callback)
            if cfg.solver == "newton-cholesky":
                from fastgd._newton import fit_newton_cholesky

                return fit_newton_cholesky(rows, y, sw, coef, intercept, cfg,
                                           train_idx=train_idx)
            if cfg.solver != "sgd":
                from fastgd._vr import fit_vr

                return fit_vr(rows, y, sw, coef, intercept, cfg, t=float(t), rng=rng,
                              train_idx=train_idx, state=state, stop=stop,
                              callback=callback)
            return _engine.fit_binary(
                rows, y, sw, coef, intercept, cfg, t=float(t), rng=rng,
                train_idx=train_idx, score_cb=score_cb, avg_coef=avg_coef,
                avg_intercept=avg_intercept, state=state, shuffle_seed=shuffle_seed,
                stop=stop, callback=callback,
                intercept_decay=(SPARSE_INTERCEPT_DECAY if (rows.is_sparse and cfg.plain)
                                 else 1.0))

    def _after_fit(self, n_iter):
        if self.tol is not None and self.n_iter_ == self.max_iter and n_iter:
            warnings.warn("Maximum number of iteration reached before convergence. "
                          "Consider increasing max_iter to improve the fit.",
                          ConvergenceWarning)

    @staticmethod
    def _t_after(t, n_iter, n_samples, cfg, results):
        """scikit-learn counts t_ as 1 + n_iter_ * n_samples; other fits count steps."""
        if cfg.plain:
            return t + n_iter * n_samples
        return max(r.t for r in results)

    def _fit_from(self, X, y, coef, intercept, *, t, opt_state, max_iter,
                  sample_weight=None, classes=None, validated=False):
        """``max_iter`` epochs from (coef, intercept) at the step counter ``t`` with the
        rule state ``opt_state`` (the ``optimizer_state_`` of an earlier fit, or None:
        fresh), where ``fit`` starts at t = 1 with a fresh state: a fit carried on, as
        fastgd.dask's local fits run from round to round. Sets the fitted attributes.

        ``validated``: the caller has checked X's and y's values (fastgd.dask's
        ``describe``: finite, labels, shapes), so X in a form the kernels read (CSR, or
        C-ordered dense, float32/64) skips scikit-learn's validation; its CSR structure
        is still checked, as nothing malformed may reach the kernels."""
        self._more_validate_params()
        if validated and _kernel_ready(X, y, self.solver, self._is_classifier):
            check_sparse_structure(X)
            self.n_features_in_ = X.shape[1]
        else:
            X, y = self._validate_X_y(X, y, reset=True)
        if self._is_classifier:
            fitted = self._fit_classes(X, y, np.unique(y) if classes is None else classes,
                                       sample_weight, coef, intercept, max_iter=max_iter,
                                       t=float(t), opt_state=opt_state)
        else:
            fitted = self._fit_regressor(X, y, sample_weight, coef, intercept,
                                         max_iter=max_iter, t=float(t), opt_state=opt_state)
        self._commit(fitted, X.dtype)
        return self

    #: the weights, stored in X's dtype (scikit-learn's float32 fits keep float32 coef_;
    #: its intercept_ dtype varies with the case, fastgd's stays float64)
    _MODEL_ARRAYS = ("coef_", "_standard_coef", "_average_coef")

    def _commit(self, fitted, dtype):
        """Set the fitted attributes; the weights in ``dtype`` (X's): float32 X gives a
        float32 ``coef_``, as scikit-learn's (the kernels compute in float64 from it, so
        a float32 fit is not bit-identical to scikit-learn's float32 one)."""
        for key, value in fitted.items():
            if key in self._MODEL_ARRAYS:
                value = np.asarray(value).astype(dtype, copy=False)
            setattr(self, key, value)

    @property
    def optimizer_state_(self):
        """Per problem, the optimizer's memory after the fit (read it, do not change it):
        a dict of arrays, ``state`` (n_slots, n_features + 1; e.g. Adagrad's G in row 0,
        last column the intercept), or the solver's memory; None on the plain SGD path."""
        check_is_fitted(self)
        return self._opt_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _kernel_ready(X, y, solver, classify):
    """Whether X and y are already what ``_validate_X_y`` would return (no conversion,
    no copy): CSR or C-ordered dense float32/float64 X, 1-D y (float64 for regression),
    and for solver 'sgd' only (the others also sum duplicate CSR entries)."""
    dense_ok = isinstance(X, np.ndarray) and X.ndim == 2 and X.flags.c_contiguous
    return (solver == "sgd" and (dense_ok or (sp.issparse(X) and X.format == "csr"))
            and X.dtype in (np.float32, np.float64) and isinstance(y, np.ndarray)
            and y.ndim == 1 and y.shape[0] == X.shape[0]
            and (classify or y.dtype == np.float64))


def _coef_init(coef_init, shape, name):
    arr = np.asarray(coef_init, dtype=np.float64)
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"Provided {name} does not match dataset.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return arr.reshape(shape)  # no copy: every solver fits its own copy


def _in_threads(fit_problem, cfg, n_problems, n_threads):
    """[fit_problem(i, cfg, stop) for each i] in ``n_threads`` threads.

    On an exception in the calling thread (Ctrl-C) or in a problem, ``stop`` is set:
    the problems still running end before their next epoch, those not started never
    start, and the exception propagates (``_rollback_on_error`` undoes the fit).
    """
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=n_threads)
    try:
        futures = [pool.submit(fit_problem, i, cfg, stop) for i in range(n_problems)]
        return [f.result() for f in futures]
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class SGDClassifier(LinearClassifierMixin, _BaseSGD):
    """Linear classifiers (SVM, logistic regression, ...) fitted by any update rule.

    A drop-in replacement for ``sklearn.linear_model.SGDClassifier``: with
    ``optimizer='sgd'`` and ``batch_size=1`` it runs scikit-learn's algorithm step for
    step, sample order included (same ``coef_``, ``intercept_`` and ``n_iter_`` for the same
    integer ``random_state``); the other
    optimizers follow SPEC section 2. Multiclass is one-vs-rest.

    ``n_jobs`` (scikit-learn's meaning: None/1 serial, -1 every core, k threads; threads,
    never processes or copies of X): one-vs-rest problems are fitted in parallel threads,
    each serial inside (identical to the sequential fit, any backend). A binary problem
    with ``n_jobs > 1`` runs Hogwild! (lock-free threads; results
    vary from run to run) for ``batch_size`` below 256, and synchronous data
    parallelism (deterministic) for ``batch_size='full'`` or >= 256; see
    ``fastgd.kernels._nb_parallel`` (Numba) and ``_cy_parallel`` (Cython, OpenMP). ``average`` with Hogwild! raises a ValueError.
    ``n_jobs=1`` runs the serial kernels, bit-for-bit unchanged.

    ``sampling`` (default ``'uniform'``; solvers 'saga' and 'svrg'): ``'uniform'``,
    ``'lipschitz'`` (draw sample i with probability p_i = 1/(2n) + L_i/(2ΣL), L_i its own
    Lipschitz constant, and weight its correction by 1/(n p_i), with the longer step
    that allows; ``fastgd._vr.importance``; with ``n_jobs > 1`` ASAGA/AsySVRG reweight
    their dense term by 1/P(j in the sample's support) under p) or ``'auto'`` (Lipschitz
    sampling when the rows' constants are uneven, max L_i >= 3 mean L_i).

    ``progress=True`` shows a tqdm bar per binary problem on stderr (epoch, objective as
    in ``loss_curve_``, samples/s), fed by the engine's per-epoch callback; ``verbose``
    prints as scikit-learn, unchanged. ``shuffle_block=k`` (``solver='sgd'``) replaces
    each epoch's permutation by ``fastgd.epoch_order.block_shuffle`` with blocks of k
    rows: mostly sequential reads of a memory-mapped X larger than the page cache, at a
    statistical price on ordered files (see that module).

    The toolkit of SPEC section 7 (``solver='sgd'``, any optimizer): ``clip_value=c``
    clips each component of the step's gradient g (penalty term included) to [-c, c];
    ``clip_norm=c`` then rescales g to norm <= c over the coordinates the step updates
    and the intercept; ``gradient_noise=eta_n`` adds N(0, eta_n / (1 + t)^noise_decay)
    to each of them first (Neelakantan et al. 2015), from a counter-based generator
    keyed by ``random_state``, the step and the coordinate (the same on both backends,
    for any n_jobs). Any of them leaves scikit-learn's plain path for the generic
    kernel, and rule 'sgd' on CSR then follows ``lazy`` as the other rules do (lazy:
    only the batch's support is updated, clipped and noised).

    Added attributes: ``loss_curve_`` (per epoch, the objective the stopping rule
    compares: mean loss over the epoch's steps plus the penalty; empty for the plain
    ``optimizer='sgd'`` path when nothing uses it, i.e. ``tol=None`` or
    ``early_stopping=True``, and ``verbose=0``, as scikit-learn then skips it too) and
    ``validation_scores_`` (with ``early_stopping``). ``coef_`` has X's dtype, as
    scikit-learn's (float32 X: float32 weights; each fit computes in float64);
    ``intercept_`` is float64.
    """

    _is_classifier = True
    #: the losses it takes (scikit-learn's attribute; values: fastgd's table rows)
    loss_functions = {name: (spec,) for name, spec in LOSSES.items()}
    _parameter_constraints = {
        **_BaseSGD._parameter_constraints,
        "loss": [StrOptions(set(LOSSES))],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(self, loss="hinge", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=0.1, n_jobs=None, random_state=None, learning_rate="auto",
                 eta0="auto", power_t=0.5, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, class_weight=None, warm_start=False, average=False,
                 optimizer="sgd", solver="sgd", sampling="uniform", batch_size=1, lazy=True,
                 backend="auto",
                 momentum="auto", rho="auto", beta_1="auto", beta_2="auto", eps="auto",
                 shuffle_block=None, progress=False,
                 curriculum_epochs=0, clip_norm=None, clip_value=None,
                 gradient_noise=0.0, noise_decay=0.55):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average
        self.optimizer = optimizer
        self.solver = solver
        self.sampling = sampling
        self.batch_size = batch_size
        self.lazy = lazy
        self.backend = backend
        self.momentum = momentum
        self.rho = rho
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps
        self.shuffle_block = shuffle_block
        self.curriculum_epochs = curriculum_epochs
        self.progress = progress
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.gradient_noise = gradient_noise
        self.noise_decay = noise_decay

    def _default_schedule(self):
        return "optimal"

    # ------------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    @_rollback_on_error
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None,
            difficulty=None):
        """Fit the model by ``max_iter`` epochs at most (scikit-learn's stopping rule);
        ``difficulty``: see ``_difficulty``."""
        self._more_validate_params()
        warm = self.warm_start and hasattr(self, "coef_")
        if warm:
            coef_init = self.coef_ if coef_init is None else coef_init
            intercept_init = self.intercept_ if intercept_init is None else intercept_init
        X, y = self._validate_X_y(X, y, reset=True)
        classes = np.unique(y)
        fitted = self._fit_classes(X, y, classes, sample_weight, coef_init, intercept_init,
                                   max_iter=self.max_iter, t=1.0, opt_state=None,
                                   difficulty=self._difficulty(difficulty, X))
        self._commit(fitted, X.dtype)
        self._after_fit(True)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @_rollback_on_error
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y); the model is left as it was if this raises."""
        first = not hasattr(self, "classes_")
        if first:
            self._more_validate_params(for_partial_fit=True)
            if self.class_weight == "balanced":
                raise ValueError(  # scikit-learn's words
                    "class_weight 'balanced' is not supported for partial_fit. In order "
                    "to use 'balanced' weights, use compute_class_weight('balanced', "
                    "classes=classes, y=y). In place of y you can use a large enough "
                    "sample of the full training set target to properly estimate the "
                    "class frequency distributions. Pass the resulting weights as the "
                    "class_weight parameter.")
        X, y = self._validate_X_y(X, y, reset=first)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            classes = np.unique(classes)
        else:
            if classes is not None and not np.array_equal(self.classes_, np.unique(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to "
                    f"partial_fit, was: {self.classes_!r}")
            classes = self.classes_
        unknown = np.setdiff1d(np.unique(y), classes)
        if unknown.size:
            raise ValueError(f"y contains labels {unknown.tolist()} not in classes "
                             f"{classes.tolist()}.")
        if first:
            fitted = self._fit_classes(X, y, classes, sample_weight, None, None,
                                       max_iter=1, t=1.0, opt_state=None)
        else:
            coef, intercept = self._standard_params()
            fitted = self._fit_classes(
                X, y, classes, sample_weight, coef, intercept, max_iter=1, t=self.t_,
                opt_state=getattr(self, "_opt_state", None),
                avg=(getattr(self, "_average_coef", None),
                     getattr(self, "_average_intercept", None)))
        self._commit(fitted, X.dtype)
        return self

    def _standard_params(self):
        if self.average:
            return self._standard_coef, self._standard_intercept
        return self.coef_, self.intercept_

    def _fit_classes(self, X, y, classes, sample_weight, coef_init, intercept_init, *,
                     max_iter, t, opt_state, avg=(None, None), difficulty=None):
        """Fit every one-vs-rest problem on copies; return the new attributes."""
        n_samples, n_features = X.shape
        if classes.shape[0] < 2:
            raise ValueError("The number of classes has to be greater than one; got "
                             f"{classes.shape[0]} class")
        n_problems = 1 if classes.shape[0] == 2 else classes.shape[0]
        expanded_cw = compute_class_weight(self.class_weight, classes=classes, y=y)
        if not (np.isfinite(expanded_cw).all() and (expanded_cw >= 0).all()):
            raise ValueError(f"class_weight must be finite and non-negative; got "
                             f"{self.class_weight!r}.")
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                  allow_all_zero_weights=self.early_stopping)
        if not np.isfinite(sw).all():
            raise ValueError("sample_weight contains NaN or infinity.")
        coef = np.zeros((n_problems, n_features))
        intercept = np.zeros(n_problems)
        if coef_init is not None:
            coef = _coef_init(coef_init, (n_problems, n_features), "coef_init")
        if intercept_init is not None:
            intercept = _coef_init(intercept_init, (n_problems,), "intercept_init")
        avg_coef, avg_intercept = avg
        avg_coef = None if avg_coef is None else np.array(avg_coef, dtype=np.float64).reshape(
            n_problems, n_features)
        avg_intercept = np.zeros(n_problems) if avg_intercept is None else np.array(
            avg_intercept, dtype=np.float64).reshape(n_problems)
        cfg = self._config(self.loss, max_iter)
        cfg.difficulty = difficulty
        rows = _engine.Rows.of(X, self.backend)
        y_enc = np.searchsorted(classes, y)
        if n_problems == 1:
            masks = [self._validation_split(np.where(y_enc == 1, 1.0, -1.0), sw > 0)]
            seeds = [self.random_state]
            pos_neg = [(expanded_cw[1], expanded_cw[0])]
        else:
            mask = self._validation_split(y, sw > 0)
            masks = [mask] * n_problems
            seeds = check_random_state(self.random_state).randint(MAX_INT, size=n_problems)
            pos_neg = [(expanded_cw[i], 1.0) for i in range(n_problems)]
        def fit_problem(i, cfg_i, stop=None):
            pos = 1 if n_problems == 1 else i
            y_i = np.where(y_enc == pos, 1.0, -1.0)
            sw_i = sw * np.where(y_i > 0, pos_neg[i][0], pos_neg[i][1])
            return self._fit_one(
                X, rows, y_i, sw_i, coef[i], intercept[i], cfg_i, t=t,
                random_state=seeds[i], mask=masks[i],
                avg_coef=None if avg_coef is None else avg_coef[i],
                avg_intercept=avg_intercept[i],
                state=None if opt_state is None else opt_state[i], stop=stop,
                desc="fit" if n_problems == 1 else f"class {classes[i]} vs rest")

        if n_problems > 1 and cfg.n_jobs > 1:
            # one-vs-rest: the classes run in parallel threads (the kernels release the
            # GIL), each binary problem serial inside, so the results are those of the
            # sequential fit exactly
            results = _in_threads(fit_problem, dataclasses.replace(cfg, n_jobs=1),
                                  n_problems, min(cfg.n_jobs, n_problems))
        else:
            results = [fit_problem(i, cfg) for i in range(n_problems)]
        n_iter = max(r.n_iter for r in results)
        fitted = {
            "classes_": classes, "n_iter_": n_iter,
            "t_": self._t_after(t, n_iter, n_samples, cfg, results),
            "loss_curve_": results[0].loss_curve if n_problems == 1 else
            [r.loss_curve for r in results],
            "_opt_state": [r.state for r in results],
        }
        if cfg.early_stopping:
            fitted["validation_scores_"] = (results[0].validation_scores if n_problems == 1
                                            else [r.validation_scores for r in results])
        std_coef = np.stack([r.coef for r in results])
        std_intercept = np.array([r.intercept for r in results])
        if self.average:
            fitted["_standard_coef"] = std_coef
            fitted["_standard_intercept"] = std_intercept
            fitted["_average_coef"] = np.stack([r.avg_coef for r in results])
            fitted["_average_intercept"] = np.array([r.avg_intercept for r in results])
            use_avg = self.average <= fitted["t_"] - 1
            fitted["coef_"] = fitted["_average_coef"] if use_avg else std_coef
            fitted["intercept_"] = (fitted["_average_intercept"] if use_avg
                                    else std_intercept)
        else:
            fitted["coef_"] = std_coef
            fitted["intercept_"] = std_intercept
        return fitted

    # ---------------------------------------------------------------- predicting
    def decision_function(self, X):
        """Confidence scores ``X @ coef_.T + intercept_`` (scikit-learn's)."""
        return _linear_scores(self, X, ravel=True)

    def _check_proba(self):
        if not getattr(LOSSES.get(self.loss), "proba", False):
            raise AttributeError("probability estimates are not available for loss=%r"
                                 % self.loss)
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Probability estimates (log_loss: logistic; modified_huber: Zhang's formula)."""
        check_is_fitted(self)
        if self.loss == "log_loss":
            return self._predict_proba_lr(X)
        scores = self.decision_function(X)
        binary = len(self.classes_) == 2
        if binary:
            prob2 = np.ones((scores.shape[0], 2))
            prob = prob2[:, 1]
        else:
            prob = scores
        np.clip(scores, -1, 1, prob)
        prob += 1.0
        prob /= 2.0
        if binary:
            prob2[:, 0] -= prob
            return prob2
        prob_sum = prob.sum(axis=1)
        all_zero = prob_sum == 0
        if np.any(all_zero):
            prob[all_zero, :] = 1
            prob_sum[all_zero] = len(self.classes_)
        prob /= prob_sum.reshape((prob.shape[0], -1))
        return prob

    @available_if(_check_proba)
    def predict_log_proba(self, X):
        """Log of ``predict_proba``."""
        return np.log(self.predict_proba(X))


class SGDRegressor(RegressorMixin, _BaseSGD):
    """Linear regression (squared, huber, epsilon-insensitive losses) by any update rule.

    A drop-in replacement for ``sklearn.linear_model.SGDRegressor``; see
    ``SGDClassifier`` for what is added.
    """

    _is_classifier = False
    #: the losses it takes (scikit-learn's attribute; values: fastgd's table rows)
    loss_functions = {name: (LOSSES[name],) for name in REGRESSION_LOSSES}
    _parameter_constraints = {
        **_BaseSGD._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
    }

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=0.1, random_state=None, learning_rate="auto", eta0="auto",
                 power_t=0.25, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, warm_start=False, average=False, n_jobs=None,
                 optimizer="sgd", solver="sgd", sampling="uniform", batch_size=1, lazy=True,
                 backend="auto",
                 momentum="auto", rho="auto", beta_1="auto", beta_2="auto", eps="auto",
                 shuffle_block=None, progress=False,
                 curriculum_epochs=0, clip_norm=None, clip_value=None,
                 gradient_noise=0.0, noise_decay=0.55):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.average = average
        self.n_jobs = n_jobs
        self.optimizer = optimizer
        self.solver = solver
        self.sampling = sampling
        self.batch_size = batch_size
        self.lazy = lazy
        self.backend = backend
        self.momentum = momentum
        self.rho = rho
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps
        self.shuffle_block = shuffle_block
        self.curriculum_epochs = curriculum_epochs
        self.progress = progress
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.gradient_noise = gradient_noise
        self.noise_decay = noise_decay

    def _default_schedule(self):
        return "invscaling"

    @_fit_context(prefer_skip_nested_validation=True)
    @_rollback_on_error
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None,
            difficulty=None):
        """Fit the model by ``max_iter`` epochs at most (scikit-learn's stopping rule);
        ``difficulty``: see ``_difficulty``."""
        self._more_validate_params()
        avg = (None, None)
        if self.warm_start and hasattr(self, "coef_"):
            if self.average and hasattr(self, "_average_coef"):
                # scikit-learn's SGDRegressor carries on from its standard *and* averaged
                # weights on a warm fit (t_ restarts at 1), unlike SGDClassifier, which
                # restarts from coef_ with a fresh average.
                coef_init, intercept_init = self._standard_coef, self._standard_intercept
                avg = (self._average_coef, self._average_intercept)
            else:
                coef_init = self.coef_ if coef_init is None else coef_init
                intercept_init = (self.intercept_ if intercept_init is None
                                  else intercept_init)
        X, y = self._validate_X_y(X, y, reset=True)
        self._commit(self._fit_regressor(X, y, sample_weight, coef_init, intercept_init,
                                         max_iter=self.max_iter, t=1.0, opt_state=None,
                                         avg=avg, difficulty=self._difficulty(difficulty, X)),
                     X.dtype)
        self._after_fit(True)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @_rollback_on_error
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y); the model is left as it was if this raises."""
        first = not hasattr(self, "coef_")
        if first:
            self._more_validate_params(for_partial_fit=True)
        X, y = self._validate_X_y(X, y, reset=first)
        if first:
            fitted = self._fit_regressor(X, y, sample_weight, None, None, max_iter=1,
                                         t=1.0, opt_state=None)
        else:
            coef, intercept = ((self._standard_coef, self._standard_intercept)
                               if self.average else (self.coef_, self.intercept_))
            fitted = self._fit_regressor(
                X, y, sample_weight, coef, intercept, max_iter=1, t=self.t_,
                opt_state=getattr(self, "_opt_state", None),
                avg=(getattr(self, "_average_coef", None),
                     getattr(self, "_average_intercept", None)))
        self._commit(fitted, X.dtype)
        return self

    def _fit_regressor(self, X, y, sample_weight, coef_init, intercept_init, *, max_iter,
                       t, opt_state, avg=(None, None), difficulty=None):
        n_samples, n_features = X.shape
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                  allow_all_zero_weights=self.early_stopping)
        if not np.isfinite(sw).all():
            raise ValueError("sample_weight contains NaN or infinity.")
        coef = np.zeros(n_features) if coef_init is None else _coef_init(
            coef_init, (n_features,), "coef_init")
        intercept = 0.0 if intercept_init is None else float(
            _coef_init(intercept_init, (1,), "intercept_init")[0])
        cfg = self._config(self.loss, max_iter)
        cfg.difficulty = difficulty
        y64 = np.asarray(y, dtype=np.float64)
        mask = self._validation_split(y64, sw > 0)
        avg_coef, avg_intercept = avg
        r = self._fit_one(
            X, _engine.Rows.of(X, self.backend), y64, sw, coef, intercept, cfg, t=t,
            random_state=self.random_state, mask=mask, avg_coef=avg_coef,
            avg_intercept=0.0 if avg_intercept is None else float(np.ravel(avg_intercept)[0]),
            state=None if opt_state is None else opt_state[0])
        fitted = {"n_iter_": r.n_iter, "t_": self._t_after(t, r.n_iter, n_samples, cfg, [r]),
                  "loss_curve_": r.loss_curve, "_opt_state": [r.state]}
        if cfg.early_stopping:
            fitted["validation_scores_"] = r.validation_scores
        if self.average:
            fitted["_standard_coef"] = r.coef
            fitted["_standard_intercept"] = np.atleast_1d(r.intercept)
            fitted["_average_coef"] = r.avg_coef
            fitted["_average_intercept"] = np.atleast_1d(r.avg_intercept)
            use_avg = self.average <= fitted["t_"] - 1
            fitted["coef_"] = r.avg_coef if use_avg else r.coef
            fitted["intercept_"] = np.atleast_1d(r.avg_intercept if use_avg else r.intercept)
        else:
            fitted["coef_"] = r.coef
            fitted["intercept_"] = np.atleast_1d(r.intercept)
        return fitted

    def _decision_function(self, X):
        return _linear_scores(self, X).ravel()

    def predict(self, X):
        """Predicted targets ``X @ coef_ + intercept_``."""
        return self._decision_function(X)



# ------------------------------------------------------------------------------------
# The exact estimators: scikit-learn's LogisticRegression, Ridge and LinearRegression,
# solved to ``tol`` by the variance-reduced solvers (SAG, SAGA, SVRG; fastgd/_vr.py).
# ------------------------------------------------------------------------------------

#: scikit-learn's solver names that these estimators do not have (a clear error)
_SKLEARN_ONLY_SOLVERS = {"liblinear", "newton-cg", "newton-cholesky", "svd",
                         "cholesky", "lsqr", "sparse_cg"}
#: the solvers of the exact estimators ('auto' picks one of the others); least squares
#: also has conjugate gradient, by scikit-learn's name for it
_EXACT_SOLVERS = ("auto", "sag", "saga", "svrg", "lbfgs")
_LSQ_SOLVERS = _EXACT_SOLVERS + ("sparse_cg",)
#: LogisticRegression also has Newton's method with the Hessian factored, whole or from
#: a sample of the rows (fastgd/_newton.py)
_LOGISTIC_SOLVERS = _EXACT_SOLVERS + ("newton-cholesky", "subsampled-newton")


def _vr_config(*, loss, alpha, l1_ratio, fit_intercept, solver, max_iter, tol, verbose,
               n_jobs, sampling="uniform"):
    """The engine's Config of one exact fit: SPEC section 1's objective with ``alpha`` and
    ``l1_ratio``, the solver's own step (eta0='auto'), the sag stopping rule at ``tol``."""
    if alpha == 0.0:
        penalty, l1_ratio = Penalty.NONE, 0.0
    elif l1_ratio == 0.0:
        penalty = Penalty.L2
    elif l1_ratio == 1.0:
        penalty = Penalty.L1
    else:
        penalty = Penalty.ELASTICNET
    return _engine.Config(
        rule=int(RULES["sgd"].id), loss=int(LOSSES[loss].id), param=loss_param(loss, 0.1),
        penalty=int(penalty), alpha=float(alpha), l1_ratio=float(l1_ratio),
        fit_intercept=bool(fit_intercept), schedule=int(Schedule.CONSTANT), eta0=0.0,
        power_t=0.5, hp=np.zeros(len(HP_NAMES)), batch_size=1, lazy=True, average=0,
        max_iter=int(max_iter), tol=float(tol), n_iter_no_change=1, early_stopping=False,
        shuffle=True, verbose=int(verbose), solver=solver, eta0_auto=True,
        n_jobs=_engine.effective_n_jobs(n_jobs), sampling=sampling)


#: solver='auto' of LogisticRegression takes L-BFGS over SAGA once kappa passes this.
#: Fitted on the shared sets (benchmarks/bench_target.py, 2026-12-03): SAGA got to 1e-4
#: first up to kappa = 1.15 (a9a, 3.3x faster than L-BFGS), L-BFGS from 1.43 (w8a,
#: 1.6x faster than SAGA with Lipschitz sampling); a heuristic, not a theorem.
AUTO_LBFGS_KAPPA = 1.3
#: ... and Newton's method (binary, penalised) when the Hessian is small and cheap: at
#: most AUTO_NEWTON_DIM coefficients, and rows of at most AUTO_NEWTON_ROW entries on
#: average weighted by their length (Σ nnz_i² / Σ nnz_i: the Hessian costs that many
#: products per entry of X, a gradient about two). Fitted on the shared sets
#: (benchmarks/bench_target.py, 2026-12-07): Newton first or within noise of the first on
#: mushrooms (113 coefficients, rows of 21), covtype (55, 12), a9a (124, 14) and ijcnn1
#: (23, 13); behind L-BFGS on w8a (301, 23). A heuristic, not a theorem.
AUTO_NEWTON_DIM = 256
AUTO_NEWTON_ROW = 24
#: ... with the Hessian of a sample of the rows ('subsampled-newton') when that sample
#: is at most this share of them (each iteration then costs well under Newton's):
#: measured 2026-12-07 (bench_target.py), it reached 1e-4 in half the time of
#: newton-cholesky on ijcnn1 (2,300 of 50k rows), a9a (12,400 of 33k) and covtype.
AUTO_SUBSAMPLE_SHARE = 0.5


def _newton_is_cheap(rows, train_idx):
    if rows.n_features + 1 > AUTO_NEWTON_DIM:
        return False
    if rows.dense_d:
        return rows.dense_d <= AUTO_NEWTON_ROW
    lengths = np.diff(rows.indptr)[train_idx].astype(np.float64)
    return float(lengths @ lengths) <= AUTO_NEWTON_ROW * max(float(lengths.sum()), 1.0)


def _smooth_solver(rows, sw, train_idx, cfg, curvature, multinomial):
    """'subsampled-newton', 'newton-cholesky', 'saga' or 'lbfgs' for an L2 (or
    unpenalised) logistic problem: what gets to a target first
    (benchmarks/bench_target.py measures all of them).

    Newton's method takes a handful of iterations whatever the conditioning; each
    assembles and factors the Hessian, so it goes first where that is cheap
    (``_newton_is_cheap``, binary problems with a penalty), from a sample of the rows
    when there are many more rows than the sample needs (``AUTO_SUBSAMPLE_SHARE``).

    The variance-reduced solvers step by 1/L, L = curvature (max_i ||x_i||² +
    fit_intercept) max_i s_i (with Lipschitz sampling, ``fastgd._vr.importance``, L_Q <
    2 mean_i L_i instead), and their epochs to a target grow with kappa = L / (alpha n)
    once that passes 1 (SAG's rate is 1 - min(mu / 16 L, 1 / 8n), Schmidt, Le Roux, Bach
    2017): one long row or a small alpha makes them crawl, where L-BFGS, led by the
    curvature of the whole sum, does not care. kappa > AUTO_LBFGS_KAPPA (or no penalty)
    picks 'lbfgs', else 'saga' (faster than 'sag' here on most of the shared sets at
    small kappa; on debian-size, max L_i = 29 mean L_i, Lipschitz sampling takes kappa
    from 15.5 to 1.04 and SAGA to 1e-4 from 4.9 s to 0.8 s, L-BFGS 3.9 s). ``cfg`` is
    the fit's Config with solver 'saga'."""
    from fastgd import _vr

    if cfg.alpha <= 0.0:
        return "lbfgs"
    if not multinomial and _newton_is_cheap(rows, train_idx):
        from fastgd._newton import hessian_rows

        n = train_idx.shape[0]
        return "subsampled-newton" if hessian_rows(n, rows.n_features) <= \
            AUTO_SUBSAMPLE_SHARE * n else "newton-cholesky"
    p, L = (None, None) if multinomial else _vr.sampling(rows, sw, train_idx, cfg)
    if p is None:
        max_sq = float(_vr.row_sq_norms(rows, train_idx).max())  # one pass, no copy
        L = curvature * (max_sq + int(cfg.fit_intercept)) * float(sw[train_idx].max())
    return "lbfgs" if L / (cfg.alpha * train_idx.shape[0]) > AUTO_LBFGS_KAPPA else "saga"


def _check_exact_solver(solver, owner, own=_EXACT_SOLVERS):
    if solver not in own:
        raise ValueError(
            f"solver={solver!r} is one of scikit-learn's solvers; fastgd.{owner} solves "
            f"with {own} ('auto' picks). Use sklearn.linear_model.{owner} for "
            f"solver={solver!r}.")


def _warn_not_converged(n_iter, max_iter):
    if np.max(n_iter) >= max_iter:
        warnings.warn("The max_iter was reached which means the coef_ did not converge",
                      ConvergenceWarning)  # scikit-learn's sag words


class _ExactRegressor(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Least squares with an optional L2 penalty, solved by SAG/SAGA/SVRG (see Ridge)."""

    _parameter_constraints: dict = {
        "fit_intercept": ["boolean"],
        "copy_X": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions(set(_EXACT_SOLVERS) | _SKLEARN_ONLY_SOLVERS)],
        "sampling": [StrOptions({"uniform", "lipschitz", "auto"})],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "backend": [StrOptions({"auto", "numba", "cython"})],
        "verbose": ["verbose"],
    }

    def _penalty(self, n_targets, total):
        """(alpha per target, l1_ratio) of SPEC section 1's penalty, for sample weights
        summing to ``total``; no penalty here (LinearRegression)."""
        return np.zeros(n_targets), 0.0

    def _start(self, n_targets, n_features):
        """(coef, intercept) the solvers start from: 0 (warm_start: the last fit's)."""
        coef = np.zeros((n_targets, n_features))
        intercept = np.zeros(n_targets)
        if getattr(self, "warm_start", False) and hasattr(self, "coef_"):
            last = np.asarray(self.coef_, dtype=np.float64).reshape(-1, n_features)
            if last.shape != coef.shape:
                raise ValueError(f"Initialization coef is of shape {last.shape}, "
                                 f"expected shape {coef.shape}")
            coef[:] = last
            intercept[:] = np.ravel(self.intercept_)
        return coef, intercept

    def _solver(self):
        """'auto' is conjugate gradient ('sparse_cg'): on a quadratic it is the optimal
        Krylov method, got to the targets first of fastgd's solvers on every shared set
        (benchmarks/bench_exact.py), and, deterministic, takes the same steps on integer
        sample weights as on the repeated samples."""
        return "sparse_cg" if self.solver == "auto" else self.solver

    @_fit_context(prefer_skip_nested_validation=True)
    @_rollback_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``tol`` (see the class docstring for the objective)."""
        owner = type(self).__name__
        _check_exact_solver(self.solver, owner, _LSQ_SOLVERS)
        if self.positive:
            raise ValueError(
                f"positive=True (non-negative coefficients) is not supported by "
                f"fastgd.{owner}; use sklearn.linear_model.{owner}(positive=True).")
        resolve_backend(self.backend)
        check_sparse_structure(X)
        X, y = validate_data(self, X, y, accept_sparse="csr",
                             dtype=[np.float64, np.float32], order="C",
                             ensure_all_finite=not checked_when_written(X),
                             accept_large_sparse=True, multi_output=True, y_numeric=True)
        X = without_duplicates(X)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                  ensure_non_negative=True)
        if not np.isfinite(sw).all():
            raise ValueError("sample_weight contains NaN or infinity.")
        total = float(sw.sum())
        if total <= 0.0:
            raise ValueError("The sample weights sum to zero: nothing to fit.")
        y2 = np.asarray(y, dtype=np.float64)
        single = y2.ndim == 1
        y2 = y2.reshape(y2.shape[0], -1)
        n_targets = y2.shape[1]
        alphas, l1_ratio = self._penalty(n_targets, total)
        train_idx = np.flatnonzero(sw > 0).astype(np.int64)
        # F = (1/n_train) Σ s'_i (p_i - y_i)²/2 + α'/2 ||w||² with s' = s n_train / Σs and
        # α' = alpha / Σs is scikit-learn's Σ s_i (y_i - p_i)² + alpha ||w||² divided by
        # 2 Σs: the same minimiser
        sw_n = sw * (train_idx.shape[0] / total)
        solver = self._solver()
        dense_center = self.fit_intercept and not sp.issparse(X)
        # conjugate gradient centres sparse X implicitly (fastgd/_cg.py)
        implicit_center = self.fit_intercept and sp.issparse(X) and solver == "sparse_cg"
        if dense_center or implicit_center:  # the centred problem's intercept is 0
            x_mean = np.asarray(sw @ X).ravel() / total
            y_mean = (sw @ y2) / total
        else:
            x_mean, y_mean = np.zeros(X.shape[1]), np.zeros(n_targets)
        Xfit = X - x_mean.astype(X.dtype) if dense_center else X
        rows = _engine.Rows.of(Xfit, self.backend)
        rng = check_random_state(self.random_state)
        max_iter = 1000 if self.max_iter is None else self.max_iter
        coef, intercept = self._start(n_targets, X.shape[1])
        n_iter, curves = [], []
        from fastgd._cg import fit_cg
        from fastgd._lbfgs import fit_lbfgs
        from fastgd._vr import fit_vr

        center = dense_center or implicit_center
        solver_intercept = self.fit_intercept and not center
        # all of X's rows 0 (one sample, centred) and no intercept to fit: w = 0 exactly
        # (the solvers' step 1/L would be 1/alpha there, a step that zeroes the scale)
        nothing = not solver_intercept and not np.any(rows.data)
        cg_shared = {}  # the CG preconditioner's column sums, read once for all targets
        for k in range(n_targets):
            cfg = _vr_config(loss="squared_error", alpha=alphas[k], l1_ratio=l1_ratio,
                             fit_intercept=solver_intercept, solver=solver,
                             max_iter=max_iter, tol=self.tol, verbose=self.verbose,
                             n_jobs=self.n_jobs, sampling=self.sampling)
            if nothing:
                intercept[k] = y_mean[k]
                n_iter.append(1)
                curves.append([])
                continue
            y_k = y2[:, k] - y_mean[k]
            start_b = float(intercept[k]) if solver_intercept else 0.0
            if solver == "lbfgs":
                r = fit_lbfgs(rows, y_k, sw_n, coef[k], start_b, cfg, t=1.0,
                              train_idx=train_idx)
            elif solver == "sparse_cg":
                r = fit_cg(rows, y_k, sw_n, coef[k], cfg, train_idx=train_idx,
                           max_iter=self.max_iter,
                           x_mean=x_mean if implicit_center else None, shared=cg_shared)
            else:
                r = fit_vr(rows, y_k, sw_n, coef[k], start_b, cfg, t=1.0, rng=rng,
                           train_idx=train_idx, keep_memory=False)
            coef[k] = r.coef
            if center:
                intercept[k] = y_mean[k] - x_mean @ r.coef
            elif solver_intercept:  # the exact minimiser over b given w: one pass, F falls
                residual = y_k - safe_sparse_dot(X, r.coef, dense_output=True)
                intercept[k] = float(sw @ residual) / total
            n_iter.append(r.n_iter)
            curves.append(r.loss_curve)
        if solver != "sparse_cg":  # fit_cg warns in scikit-learn's words
            _warn_not_converged(n_iter, max_iter)
        dtype = X.dtype
        self.coef_ = (coef[0] if single else coef).astype(dtype)
        self.intercept_ = (float(intercept[0]) if single else intercept.astype(dtype))
        if not self.fit_intercept:
            self.intercept_ = 0.0 if single else np.zeros(n_targets, dtype)
        self.n_iter_ = np.asarray(n_iter, dtype=np.int32)
        self.solver_ = solver
        self.loss_curve_ = curves[0] if single else curves
        return self

    def predict(self, X):
        """Predicted targets ``X @ coef_.T + intercept_``."""
        return _linear_scores(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Ridge(_ExactRegressor):
    """scikit-learn's ``Ridge``, solved by fastgd's variance-reduced solvers.

    Minimises scikit-learn's objective ``Σ_i s_i (y_i - x_i·w - b)² + alpha ||w||²``
    (intercept not penalised; ``s`` = ``sample_weight``, 1 by default) for each target of
    ``y`` (one column of a 2-D ``y`` per problem; ``alpha`` a float or one per target).
    In SPEC section 1's form this is the squared_error loss ``(p - y)²/2`` with the
    weights normalised to mean 1 over the samples of non-zero weight (``s' = s n' / Σs``)
    and ``alpha_fastgd = alpha / Σs`` (``alpha / n_samples`` without weights): the
    scikit-learn objective divided by ``2 Σs``, the same minimiser.

    Dense ``X`` with ``fit_intercept`` is centred first (weighted means, as
    scikit-learn does; the intercept is then ``ȳ - x̄·w``), sparse ``X`` is not copied and
    its intercept is fitted by the solver itself (scikit-learn's ``solver='sag'`` on
    sparse X silently runs sparse_cg instead, ``'saga'`` refuses). ``solver``: ``'auto'``
    (= ``'sparse_cg'``: SciPy's conjugate gradient on fastgd's compiled Hessian-vector
    pass, ``fastgd/_cg.py``; ``tol`` its relative residual and ``max_iter`` its
    iterations, None: SciPy's default, as scikit-learn's sparse_cg), ``'lbfgs'``
    (``tol`` its gtol), ``'sag'``, ``'saga'``, ``'svrg'`` (``tol``: scikit-learn's sag
    stopping rule, max|Δw| / max|w| <= tol after an epoch; ``max_iter=None`` means 1000
    epochs); scikit-learn's other solver names are a ValueError that says so, as is
    ``positive=True``. ``coef_`` has X's dtype, as scikit-learn's. Added: ``n_jobs`` (threads of
    ASAGA/AsySVRG for solver 'saga'/'svrg'), ``backend``, ``verbose``, ``sampling``
    (default ``'auto'``; see ``SGDClassifier``); attributes
    ``n_iter_`` (epochs per target), ``solver_`` and ``loss_curve_`` (SPEC F per epoch).
    """

    _parameter_constraints = {
        **_ExactRegressor._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True, copy_X=True, max_iter=None,
                 tol=1e-4, solver="auto", positive=False, random_state=None, n_jobs=None,
                 backend="auto", verbose=0, sampling="auto"):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.positive = positive
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.backend = backend
        self.verbose = verbose
        self.sampling = sampling

    def _penalty(self, n_targets, total):
        return self._alphas(n_targets) / total, 0.0

    def _alphas(self, n_targets):
        alpha = np.asarray(self.alpha, dtype=np.float64).ravel()
        if alpha.size == 1:
            alpha = np.full(n_targets, float(alpha[0]))
        if alpha.shape[0] != n_targets:
            raise ValueError(f"Number of targets and number of penalties do not "
                             f"correspond: {n_targets} != {alpha.shape[0]}")
        if not (np.isfinite(alpha).all() and (alpha >= 0).all()):
            raise ValueError(f"alpha must be finite and non-negative; got {self.alpha!r}.")
        return alpha


class LinearRegression(_ExactRegressor):
    """scikit-learn's ``LinearRegression`` (ordinary least squares), solved by fastgd's
    variance-reduced solvers: ``Ridge`` with ``alpha = 0`` (see there for the objective,
    the centring of dense X, the solvers and ``tol``).

    scikit-learn's constructor (``fit_intercept``, ``copy_X``, ``tol``, ``n_jobs``,
    ``positive``; ``positive=True`` is a ValueError) plus ``solver``, ``max_iter`` (1000
    epochs by default), ``random_state``, ``backend``, ``verbose``. On a rank-deficient
    problem the solvers, started at 0, converge to the minimum-norm solution, as
    scikit-learn's ``lstsq``; without a penalty convergence is only as fast as X's
    conditioning allows (``tol`` is the sag rule's).
    """

    def __init__(self, *, fit_intercept=True, copy_X=True, tol=1e-6, n_jobs=None,
                 positive=False, solver="auto", max_iter=None, random_state=None,
                 backend="auto", verbose=0, sampling="auto"):
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.tol = tol
        self.n_jobs = n_jobs
        self.positive = positive
        self.solver = solver
        self.max_iter = max_iter
        self.random_state = random_state
        self.backend = backend
        self.verbose = verbose
        self.sampling = sampling


class ElasticNet(_ExactRegressor):
    """scikit-learn's ``ElasticNet``, solved by SAGA's proximal step (or SVRG's).

    Minimises scikit-learn's objective
    ``1/(2 Σs) Σ_i s_i (y_i - x_i·w - b)² + alpha (l1_ratio ||w||₁ + (1 - l1_ratio)/2 ||w||²)``
    (``s`` = ``sample_weight``), which is SPEC section 1's ``F`` with the squared_error
    loss, ``penalty='elasticnet'``, the same ``alpha`` and ``l1_ratio``, and the weights
    normalised to mean 1 (``s' = s n' / Σs``). Dense ``X`` with ``fit_intercept`` is
    centred first, as in ``Ridge``; on sparse X the solver fits the intercept.

    scikit-learn's constructor: ``alpha``, ``l1_ratio``, ``fit_intercept``,
    ``precompute`` (False only: there is no Gram matrix), ``copy_X``, ``max_iter``
    (epochs), ``tol``, ``warm_start``, ``positive`` (False only), ``random_state``,
    ``selection`` (accepted for compatibility: it orders coordinate descent's updates,
    and SAGA samples rows at random whatever it says). ``tol`` is scikit-learn's sag
    rule, max|Δw| / max|w| <= tol after an epoch, not coordinate descent's duality gap.
    Added: ``solver`` (``'auto'`` = ``'saga'``, or ``'svrg'``), ``n_jobs``, ``backend``,
    ``verbose``, ``sampling`` (default ``'auto'``, see ``SGDClassifier``); attributes
    ``n_iter_``, ``solver_``, ``loss_curve_``, ``sparse_coef_``.
    """

    _parameter_constraints = {
        **_ExactRegressor._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "precompute": ["boolean"],
        "warm_start": ["boolean"],
        "selection": [StrOptions({"cyclic", "random"})],
    }

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, precompute=False,
                 max_iter=1000, copy_X=True, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic", solver="auto", n_jobs=None,
                 backend="auto", verbose=0, sampling="auto"):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.solver = solver
        self.n_jobs = n_jobs
        self.backend = backend
        self.verbose = verbose
        self.sampling = sampling

    def _penalty(self, n_targets, total):
        if self.precompute:
            raise ValueError(f"precompute={self.precompute!r}: fastgd.{type(self).__name__} "
                             f"has no Gram matrix to precompute; use precompute=False.")
        return np.full(n_targets, float(self.alpha)), float(self._l1_ratio())

    def _l1_ratio(self):
        return self.l1_ratio

    def _solver(self):
        """'auto' is SAGA (the proximal solver of an L1 part)."""
        if (self.solver in ("sag", "lbfgs", "sparse_cg")
                and self.alpha * self._l1_ratio() > 0.0):
            raise ValueError(f"solver={self.solver!r} does not support an L1 penalty; use "
                             f"solver='saga' or 'svrg' (or 'auto').")
        return "saga" if self.solver == "auto" else self.solver

    @property
    def sparse_coef_(self):
        """``coef_`` as a scipy CSR matrix (scikit-learn's)."""
        return sp.csr_matrix(np.atleast_2d(self.coef_))


class Lasso(ElasticNet):
    """scikit-learn's ``Lasso``: ``ElasticNet`` with ``l1_ratio = 1``, the objective
    ``1/(2 Σs) Σ_i s_i (y_i - x_i·w - b)² + alpha ||w||₁``, solved by SAGA's proximal step
    (see ``ElasticNet`` for the parameters and ``tol``)."""

    _parameter_constraints = {key: value for key, value in
                              ElasticNet._parameter_constraints.items() if key != "l1_ratio"}

    def __init__(self, alpha=1.0, *, fit_intercept=True, precompute=False, copy_X=True,
                 max_iter=1000, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic", solver="auto", n_jobs=None,
                 backend="auto", verbose=0, sampling="auto"):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.solver = solver
        self.n_jobs = n_jobs
        self.backend = backend
        self.verbose = verbose
        self.sampling = sampling

    def _l1_ratio(self):
        return 1.0


class LogisticRegression(LinearClassifierMixin, SparseCoefMixin, BaseEstimator):
    """scikit-learn's ``LogisticRegression``, solved by fastgd's variance-reduced solvers.

    Minimises scikit-learn's objective ``C Σ_i s_i c_i L_i + r(w)`` with
    ``r = (1 - l1_ratio)/2 ||w||² + l1_ratio ||w||₁`` (intercept not penalised; ``s``
    sample weights, ``c`` class weights; ``penalty=None`` or ``C=inf``: no penalty), with
    ``L`` the logistic loss for two classes and the multinomial (softmax) cross-entropy
    for more, as scikit-learn (``coef_`` then has one row per class). In SPEC section 1's
    form: the mean loss over the n samples of non-zero weight plus ``alpha R(w)`` with
    ``alpha = 1 / (C n)``, the same minimiser. One-vs-rest is
    ``sklearn.multiclass.OneVsRestClassifier(fastgd.LogisticRegression())``, as in
    scikit-learn >= 1.8, which has no ``multi_class`` parameter any more.

    The constructor is scikit-learn's (this is written against its 1.8+ API:
    ``penalty`` is deprecated there in favour of ``l1_ratio`` and ``C``; setting it gives
    scikit-learn's FutureWarning, and it still works): ``C``, ``penalty``, ``l1_ratio``,
    ``dual`` (False only), ``tol``, ``fit_intercept``, ``intercept_scaling`` (ignored, a
    liblinear option), ``class_weight``, ``random_state``, ``solver``, ``max_iter``,
    ``verbose``, ``warm_start``, ``n_jobs``; plus ``backend``.

    - ``solver``: ``'auto'`` (SAGA with an L1 part; for L2 or no penalty
      Newton (sub-sampled or not), L-BFGS or SAGA, by ``_smooth_solver``), ``'sag'``,
      ``'lbfgs'`` and ``'newton-cholesky'`` (L2 or none, scikit-learn's message
      otherwise), ``'saga'`` and ``'svrg'`` (any penalty, by their proximal step); added:
      ``'subsampled-newton'`` (L2 or none: Newton's method with the exact gradient and
      the Hessian of 100 (d + 1) rows drawn anew each iteration from ``random_state``;
      fastgd/_newton.py). scikit-learn's other solver names are a ValueError that says
      so. With ``'lbfgs'``, ``tol`` and ``max_iter`` are its gtol and iterations, as in
      scikit-learn (fastgd/_lbfgs.py); with the Newton solvers scikit-learn's rule (max
      |∇F| <= tol and half the Newton decrement <= tol) and Newton iterations.
    - ``tol``: scikit-learn's sag stopping rule, max|Δw| / max|w| <= tol after an epoch
      (an epoch is n steps; SVRG: one outer iteration); ``max_iter``: epochs.
    - ``n_jobs``: threads of the lock-free ASAGA / AsySVRG for a binary problem with
      solver 'saga' or 'svrg' (SPEC section 5; not bit-reproducible), and of the
      L-BFGS loss-and-gradient pass and of the Newton solvers' Hessian of a binary
      problem (deterministic); the multinomial solvers are serial.
    - ``warm_start``: start from the previous ``coef_``/``intercept_`` (and reuse SAG's
      gradient memory when the data is the very same).
    - ``sampling`` (added; 'saga' and 'svrg' on binary problems): ``'auto'`` (default),
      ``'uniform'`` or ``'lipschitz'``, as in ``SGDClassifier``. With it ``'auto'``'s
      kappa is taken with L_Q, the smoothness of the reweighted steps, not L_max.
    - ``coef_`` and ``intercept_`` have X's dtype, as scikit-learn's.
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet"}), None,
                    Hidden(StrOptions({"deprecated"}))],
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "dual": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "solver": [StrOptions(set(_LOGISTIC_SOLVERS) | _SKLEARN_ONLY_SOLVERS)],
        "sampling": [StrOptions({"uniform", "lipschitz", "auto"})],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "n_jobs": [None, Integral],
        "backend": [StrOptions({"auto", "numba", "cython"})],
    }

    def __init__(self, penalty="deprecated", *, C=1.0, l1_ratio=0.0, dual=False,
                 tol=1e-4, fit_intercept=True, intercept_scaling=1, class_weight=None,
                 random_state=None, solver="auto", max_iter=100, verbose=0,
                 warm_start=False, n_jobs=None, backend="auto", sampling="auto"):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.backend = backend
        self.sampling = sampling

    def _regularisation(self):
        """(penalty name, l1_ratio, C) as scikit-learn resolves them, with its warnings."""
        l1_ratio = self.l1_ratio
        if self.penalty == "deprecated":
            if l1_ratio is None or l1_ratio == 0:
                penalty = "l2"
                if l1_ratio is None:
                    warnings.warn("'l1_ratio=None' was deprecated in version 1.8 and will "
                                  "trigger an error in 1.10. Use 0<=l1_ratio<=1 instead.",
                                  FutureWarning)
            elif l1_ratio == 1:
                penalty = "l1"
            else:
                penalty = "elasticnet"
            if self.C == np.inf:
                penalty = None
        else:
            penalty = self.penalty
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in 1.10. To "
                "avoid this warning, leave 'penalty' set to its default value and use "
                "'l1_ratio' or 'C' instead. Use l1_ratio=0 instead of penalty='l2', "
                "l1_ratio=1 instead of penalty='l1', l1_ratio set to a float between 0 "
                "and 1 instead of penalty='elasticnet', and C=np.inf instead of "
                "penalty=None.", FutureWarning)
        if penalty == "elasticnet" and l1_ratio is None:
            raise ValueError("l1_ratio must be specified when penalty is elasticnet.")
        if penalty != "elasticnet" and l1_ratio is not None and 0 < l1_ratio < 1:
            warnings.warn("l1_ratio parameter is only used when penalty is 'elasticnet'. "
                          f"Got (penalty={penalty})")
        C = self.C
        if self.penalty is None:
            if self.C != 1.0:
                warnings.warn("Setting penalty=None will ignore the C and l1_ratio "
                              "parameters")
            C = np.inf
        rho = {"l2": 0.0, "l1": 1.0, None: 0.0}.get(penalty)
        if rho is None:
            rho = float(l1_ratio)
        return penalty, rho, C

    def _solver_for(self, penalty):
        """The solver, with scikit-learn's errors; 'auto' is 'saga' with an L1 part and
        stays 'auto' otherwise (``_smooth_solver`` picks once the data is known)."""
        _check_exact_solver(self.solver, "LogisticRegression", _LOGISTIC_SOLVERS)
        if self.dual:
            raise ValueError(f"Solver {self.solver} supports only dual=False, got "
                             f"dual={self.dual}")
        solver = self.solver
        if solver == "auto" and penalty in ("l1", "elasticnet"):
            solver = "saga"
        if solver in ("sag", "lbfgs", "newton-cholesky", "subsampled-newton") and \
                penalty not in ("l2", None):
            raise ValueError(f"Solver {solver} supports only 'l2' or None penalties, got "
                             f"{penalty} penalty.")
        return solver

    @_fit_context(prefer_skip_nested_validation=True)
    @_rollback_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``tol`` (see the class docstring for the objective)."""
        penalty, l1_ratio, C = self._regularisation()
        solver = self._solver_for(penalty)
        resolve_backend(self.backend)
        check_sparse_structure(X)
        X, y = validate_data(self, X, y, accept_sparse="csr",
                             dtype=[np.float64, np.float32], order="C",
                             ensure_all_finite=not checked_when_written(X),
                             accept_large_sparse=True)
        X = without_duplicates(X)
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.shape[0] < 2:
            raise ValueError("This solver needs samples of at least 2 classes in the "
                             f"data, but the data contains only one class: {classes[0]!r}")
        y_enc = np.searchsorted(classes, y)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                  ensure_non_negative=True)
        if not np.isfinite(sw).all():
            raise ValueError("sample_weight contains NaN or infinity.")
        cw = compute_class_weight(self.class_weight, classes=classes, y=y,
                                  sample_weight=sample_weight)
        if not (np.isfinite(cw).all() and (cw >= 0).all()):
            raise ValueError(f"class_weight must be finite and non-negative; got "
                             f"{self.class_weight!r}.")
        sw = sw * cw[y_enc]
        train_idx = np.flatnonzero(sw > 0).astype(np.int64)
        if train_idx.shape[0] == 0:
            raise ValueError("The sample weights sum to zero: nothing to fit.")
        alpha = 0.0 if not np.isfinite(C) else 1.0 / (C * train_idx.shape[0])
        K = classes.shape[0]
        rows = _engine.Rows.of(X, self.backend)
        n_problems = 1 if K == 2 else K
        n_features = X.shape[1]
        coef = np.zeros((n_problems, n_features))
        intercept = np.zeros(n_problems)
        state = None
        if self.warm_start and hasattr(self, "coef_"):
            if self.coef_.shape != coef.shape:
                raise ValueError(f"Initialization coef is of shape {self.coef_.shape}, "
                                 f"expected shape {coef.shape}")
            coef[:] = self.coef_
            intercept[:] = self.intercept_
            state = getattr(self, "_vr_state", None)
        cfg = _vr_config(loss="log_loss", alpha=alpha, l1_ratio=l1_ratio,
                         fit_intercept=self.fit_intercept,
                         solver="saga" if solver == "auto" else solver,
                         max_iter=self.max_iter, tol=self.tol, verbose=self.verbose,
                         n_jobs=self.n_jobs, sampling=self.sampling)
        if solver == "auto":
            solver = cfg.solver = _smooth_solver(rows, sw, train_idx, cfg,
                                                 0.25 if K == 2 else 0.5, K > 2)
        rng = check_random_state(self.random_state)
        from fastgd import _lbfgs, _newton, _vr

        if self.max_iter == 0:  # the start, as scikit-learn (to inspect it)
            r = _engine.Result(coef, intercept, 0, 1.0, [], state=state)
        elif not self.fit_intercept and not np.any(rows.data):
            # X = 0 and no intercept: the minimiser is w = 0 (scikit-learn's sag raises
            # ZeroDivisionError there; the solvers' step 1/L = 1/alpha would zero the scale)
            coef[:] = 0.0
            r = _engine.Result(coef, 0.0, 1, 1.0, [], state=None)
        elif solver in ("newton-cholesky", "subsampled-newton"):
            sample = None if solver == "newton-cholesky" else _newton.hessian_sample(
                train_idx.shape[0], n_features, rng)
            r = _newton.fit_newton_cholesky(
                rows, np.where(y_enc == 1, 1.0, -1.0) if K == 2 else y_enc, sw,
                coef[0] if K == 2 else coef, intercept[0] if K == 2 else intercept, cfg,
                train_idx=train_idx, K=K, hessian_sample=sample)
            coef = r.coef[None, :] if K == 2 else r.coef
            intercept = np.array([r.intercept]) if K == 2 else r.intercept
        elif solver == "lbfgs" and K == 2:
            r = _lbfgs.fit_lbfgs(rows, np.where(y_enc == 1, 1.0, -1.0), sw, coef[0],
                                 intercept[0], cfg, t=1.0, train_idx=train_idx)
            coef, intercept = r.coef[None, :], np.array([r.intercept])
        elif solver == "lbfgs":
            r = _lbfgs.fit_lbfgs_multinomial(rows, y_enc, sw, coef, intercept, cfg,
                                             train_idx=train_idx)
            coef, intercept = r.coef, r.intercept
        elif K == 2:
            r = _vr.fit_vr(rows, np.where(y_enc == 1, 1.0, -1.0), sw, coef[0],
                           intercept[0], cfg, t=1.0, rng=rng, train_idx=train_idx,
                           state=state, keep_memory=self.warm_start)
            coef, intercept = r.coef[None, :], np.array([r.intercept])
        else:
            r = _vr.fit_multinomial(rows, y_enc, sw, coef, intercept, cfg, rng=rng,
                                    train_idx=train_idx, state=state,
                                    keep_memory=self.warm_start)
            coef, intercept = r.coef, r.intercept
        if not self.fit_intercept:
            intercept = np.zeros(n_problems)
        second_order = {"lbfgs": _lbfgs, "newton-cholesky": _newton,
                        "subsampled-newton": _newton}.get(solver)
        if second_order is None:
            _warn_not_converged(r.n_iter, self.max_iter)
        elif self.max_iter > 0:
            second_order.warn_if_not_converged(r.state, self.max_iter)
        self.classes_ = classes
        self.coef_ = coef.astype(X.dtype)
        self.intercept_ = intercept.astype(X.dtype)
        self.n_iter_ = np.array([r.n_iter], dtype=np.int32)
        self.solver_ = solver
        self.loss_curve_ = r.loss_curve
        self._vr_state = r.state if second_order is None else None
        return self

    def decision_function(self, X):
        """Confidence scores ``X @ coef_.T + intercept_`` (scikit-learn's)."""
        return _linear_scores(self, X, ravel=True)

    def predict_proba(self, X):
        """Class probabilities: the logistic function of the score for two classes, the
        softmax of the scores for more (scikit-learn's multinomial)."""
        check_is_fitted(self)
        if self.classes_.shape[0] == 2:
            return self._predict_proba_lr(X)
        return softmax(self.decision_function(X), copy=False)

    def predict_log_proba(self, X):
        """Log of ``predict_proba``."""
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

"""Beyond one machine: fastgd's estimators on Dask's distributed scheduler.

``fastgd.dask.SGDClassifier`` / ``SGDRegressor`` take every parameter of the
single-machine classes plus ``strategy`` and its parameters, and fit a dask array
chunked along rows (NumPy or scipy CSR blocks) or a dask DataFrame, on the current
``distributed.Client`` (or ``client=``). ``read_svmlight`` turns svmlight files into such
an array. See SPEC section 8 and ``fastgd._dask_strategies`` for the algorithms.

``max_iter`` counts rounds: 'average' and 'easgd' (``local_epochs`` / ``tau`` epochs of
every block per round), 'gradient' (one full-batch step per round, as the single-machine
``batch_size='full'`` path counts epochs; with ``solver='lbfgs'`` or
``'newton-cholesky'``, their iterations, and ``tol`` is their tolerance, as in the
single-machine solvers), 'ssp' (clocks per block) and 'downpour' /
'adarevision' (tasks per block). ``tol`` stops a fit by
scikit-learn's rule on the objective of SPEC section 1 after each round (with
``early_stopping``, on the score of rows held out of every block); for the asynchronous
ones a round is n_blocks applied results, and the rule reads the model as it is then.
"""

import glob as _glob
import inspect
import os
import uuid

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

try:
    import dask
    import dask.array as da
    import distributed
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError("fastgd.dask needs Dask: pip install 'fastgd[dask]' (dask[array] "
                      "and distributed).") from exc

from fastgd import _dask_strategies as strategies
from fastgd import _dask_tasks as tasks
from fastgd import linear_model
from fastgd._backend import kernels
from fastgd._rules import MAX_SLOTS, loss_param

task_seed = tasks.task_seed

STRATEGIES = ("average", "gradient", "ssp", "downpour", "adarevision", "easgd")
ASYNC = ("downpour", "adarevision")  # and 'ssp', 'easgd' with asynchronous=True

DASK_PARAMS = {
    "strategy": "average",
    "local_epochs": 1,
    "batch_fraction": 1.0,
    "staleness": 1,
    "server_optimizer": "adagrad",
    "server_eta": 0.1,
    "elastic_alpha": "auto",
    "tau": 1,
    "asynchronous": False,
    "deterministic": False,
    "client": None,
    "checkpoint": None,
    "checkpoint_every": 1,
}

NO_CLIENT = (
    "fastgd.dask fits on a distributed.Client, and none is running. Start one first:\n"
    "    from distributed import Client\n"
    "    client = Client()                        # a LocalCluster on this machine\n"
    "    client = Client('tcp://scheduler:8786')  # or a running cluster\n"
    "or pass client= to the estimator.")


#: glibc's mallopt parameters, and the values the worker plugin sets (see keep_freed_memory)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20  # glibc's own ceiling for its dynamic threshold (64-bit)
TRIM_THRESHOLD = 64 << 20  # glibc's ceiling too: twice the mmap threshold


def keep_freed_memory():
    """Let the worker's allocator keep up to 64 MiB of freed memory for the next task.

    Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, so that glibc hands
    freed memory back to the OS at once. That also fixes glibc's mmap threshold at
    128 KiB: every array of more than 16k float64 (a model of 16k features) is a fresh
    mapping, and a task pays a page fault per 4 KiB it writes, every time. A local fit
    on a 318k-feature model took 4,600 page faults and 15 ms instead of 10
    (README, "Beyond one machine"). This sets the two thresholds to the ceilings of
    glibc's own dynamic ones (mmap 32 MiB, trim 64 MiB). Only on glibc, and only when
    the worker runs with Dask's setting; ``FASTGD_DASK_MALLOC=0`` leaves it alone.
    Returns whether it changed anything."""
    import ctypes
    import platform

    if (os.environ.get("FASTGD_DASK_MALLOC", "1") == "0"
            or platform.libc_ver()[0] != "glibc"):
        return False
    try:
        trim = int(os.environ.get("MALLOC_TRIM_THRESHOLD_", ""))
    except ValueError:
        return False
    if trim >= TRIM_THRESHOLD:
        return False
    mallopt = ctypes.CDLL(None).mallopt
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


class KernelsPlugin(distributed.WorkerPlugin):
    """Loads (or compiles, once, into Numba's cache) fastgd's kernels when a worker
    starts, so that no task pays for it, and lets the worker's allocator keep freed
    memory for the next task (``keep_freed_memory``)."""

    name = "fastgd-kernels"

    def setup(self, worker):
        from fastgd.kernels import warmup

        warmup()
        keep_freed_memory()


def _init_for(single_cls):
    """An ``__init__`` whose signature is ``single_cls``'s plus the dask parameters, so
    that get_params/clone see every parameter (scikit-learn reads the signature)."""
    base = inspect.signature(single_cls.__init__)
    extra = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v)
             for k, v in DASK_PARAMS.items()]
    sig = base.replace(parameters=[*base.parameters.values(), *extra])

    def __init__(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = sig
    __init__.__doc__ = f"Every parameter of fastgd.{single_cls.__name__}, plus {list(DASK_PARAMS)}."
    return __init__


def _dask_input(X, what="X"):
    """A dask array from a dask array/DataFrame/Series (lengths computed), else None."""
    if not dask.is_dask_collection(X):
        return None
    if hasattr(X, "to_dask_array"):
        X = X.to_dask_array(lengths=True)
    if not isinstance(X, da.Array):
        raise TypeError(f"{what} must be a dask array, DataFrame or Series; got "
                        f"{type(X).__name__}.")
    return X


def _check_rows(X, y):
    """Chunking errors that name their fix."""
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D; got a dask array of shape {X.shape}.")
    if any(np.isnan(c) for c in X.chunks[0]) or np.isnan(X.shape[1]):
        raise ValueError(
            "X has unknown chunk sizes (NaN in X.chunks), so its blocks cannot be matched "
            "to y's. Call X = X.compute_chunk_sizes() first (for a DataFrame: "
            "df.to_dask_array(lengths=True)).")
    if len(X.chunks[1]) != 1:
        raise ValueError(
            f"X is chunked along columns ({len(X.chunks[1])} column chunks); fastgd.dask "
            "needs whole rows in every block. Use X = X.rechunk({1: -1}).")
    if y is None:
        return
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D; got a dask array of shape {y.shape}.")
    if any(np.isnan(c) for c in y.chunks[0]):
        raise ValueError("y has unknown chunk sizes: call y = y.compute_chunk_sizes() "
                         "(for a Series: s.to_dask_array(lengths=True)).")
    if y.chunks[0] != X.chunks[0]:
        raise ValueError(
            f"y's chunks {y.chunks[0]} are not aligned with X's rows {X.chunks[0]}: use "
            "y = y.rechunk((X.chunks[0],)).")


def _block_futures(client, arr):
    """The persisted blocks of ``arr`` as futures, in block order."""
    arr = client.persist(arr)
    by_key = {f.key: f for f in distributed.futures_of(arr)}
    keys = list(dask.core.flatten(arr.__dask_keys__()))
    return arr, [by_key[k] for k in keys]


def fit_seed(random_state):
    """The integer seed every task's seed derives from: random_state itself, 0 for None
    (the tasks must be pure functions of their arguments, so a fit is reproducible by
    default), or one draw from a ``np.random.RandomState`` (consuming it, as scikit-learn
    does)."""
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    return int(random_state)


def _weights_input(sample_weight, X):
    """None, a float, or a dask array of weights chunked as X's rows."""
    if sample_weight is None:
        return None
    if np.ndim(sample_weight) == 0 and not dask.is_dask_collection(sample_weight):
        value = float(sample_weight)
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"sample_weight must be finite and >= 0; got {value!r}.")
        return value
    sw = _dask_input(sample_weight, "sample_weight")
    if sw is None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        if sw.shape != (X.shape[0],):
            raise ValueError(f"sample_weight has shape {sw.shape}; X has {X.shape[0]} rows.")
        return da.from_array(sw, chunks=(X.chunks[0],))
    if sw.ndim != 1 or any(np.isnan(c) for c in sw.chunks[0]) or sw.chunks[0] != X.chunks[0]:
        raise ValueError(
            f"sample_weight's chunks {sw.chunks} are not aligned with X's rows "
            f"{X.chunks[0]}: use sample_weight.rechunk((X.chunks[0],)) (for a Series: "
            "s.to_dask_array(lengths=True) first).")
    return sw


def _weighted_mean(values, sample_weight):
    """mean(values) or its weighted mean, as a lazy dask scalar."""
    if sample_weight is None:
        return values.mean()
    sw = _weights_input(sample_weight, values[:, None])
    if not isinstance(sw, da.Array):
        return values.mean()
    return (values * sw).sum() / sw.sum()


def _block_call(block, est, method):
    return getattr(est, method)(block)


class _DaskSGD(BaseEstimator):
    """The fit, validation and predictions shared by the two estimators."""

    _single_cls = None

    # --------------------------------------------------------------- parameters
    def _single_params(self):
        names = inspect.signature(self._single_cls.__init__).parameters
        return {k: getattr(self, k) for k in names if k != "self"}

    def _single(self, **overrides):
        return self._single_cls(**{**self._single_params(), **overrides})

    def _check_params(self):
        single = self._single()
        single._validate_params()
        single._more_validate_params()
        s = self.strategy
        if s not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}; got {s!r}.")
        if self.early_stopping and self.tol is None:
            raise ValueError("early_stopping=True needs a tol (scikit-learn's default "
                             "1e-3): with tol=None no round is ever compared.")
        for name in ("local_epochs", "tau", "checkpoint_every"):
            if not (isinstance(getattr(self, name), (int, np.integer))
                    and getattr(self, name) >= 1):
                raise ValueError(f"{name} must be an integer >= 1; got {getattr(self, name)!r}.")
        if not (isinstance(self.staleness, (int, np.integer)) and self.staleness >= 0):
            raise ValueError(f"staleness must be an integer >= 0; got {self.staleness!r}.")
        if not 0.0 < float(self.batch_fraction) <= 1.0:
            raise ValueError(f"batch_fraction must be in (0, 1]; got {self.batch_fraction!r}.")
        if self.server_optimizer not in ("adagrad", "sgd"):
            raise ValueError("server_optimizer must be 'adagrad' or 'sgd' (strategy="
                             f"'adarevision' is delay-tolerant Adagrad); got "
                             f"{self.server_optimizer!r}.")
        if not float(self.server_eta) > 0:
            raise ValueError(f"server_eta must be > 0; got {self.server_eta!r}.")
        if self.solver in ("lbfgs", "newton-cholesky"):
            if s != "gradient":
                raise ValueError(
                    f"solver={self.solver!r} runs on the map-reduce gradient: it needs "
                    f"strategy='gradient'; got strategy={s!r}.")
            if float(self.batch_fraction) < 1.0 or self.checkpoint is not None:
                raise ValueError(
                    f"solver={self.solver!r} needs exact gradients (batch_fraction=1.0) "
                    "and keeps its state in memory (no checkpoint); got batch_fraction="
                    f"{self.batch_fraction!r}, checkpoint={self.checkpoint!r}.")
        elif s in ("gradient", *ASYNC):
            if self.solver != "sgd" or self.average:
                raise ValueError(
                    f"strategy={s!r} takes gradients of the blocks, not local fits: it "
                    "needs solver='sgd' and average=False. Use strategy='average' (or "
                    "'ssp', 'easgd') to run sag/saga/svrg or ASGD on every block.")
        if self.asynchronous and s != "easgd":
            raise ValueError("asynchronous=True is a parameter of strategy='easgd'; "
                             "'downpour', 'adarevision' and 'ssp' are asynchronous already.")

    def _client(self):
        if self.client is not None:
            return self.client
        try:
            return distributed.default_client()
        except ValueError:
            raise ValueError(NO_CLIENT) from None

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit on a dask array (rows chunked, NumPy or CSR blocks) or DataFrame.

        ``sample_weight``: None, a float, or one weight per row (a dask array or Series
        chunked as X's rows, or a NumPy array, cut into X's chunks). With
        ``early_stopping``, ``validation_fraction`` of every block's rows (a draw seeded
        by ``random_state`` and the block) are held out and scored after each round.
        """
        self._check_params()
        X_in, y_in = _dask_input(X), _dask_input(y, "y")
        if X_in is None or y_in is None:
            raise TypeError(
                "fastgd.dask fits dask collections: X a dask array (NumPy or scipy CSR "
                "blocks) or DataFrame, y a dask array or Series with the same row chunks; "
                "got X of type {}, y of type {}. Wrap in-memory data with "
                "da.from_array(X, chunks=(rows, -1)), or use fastgd.{} for it.".format(
                    type(X).__name__, type(y).__name__, self._single_cls.__name__))
        _check_rows(X_in, y_in)
        sw_in = _weights_input(sample_weight, X_in)
        client = self._client()
        client.register_plugin(KernelsPlugin(), name=KernelsPlugin.name)
        Xp, xf = _block_futures(client, X_in)
        yp, yf = _block_futures(client, y_in)
        sp_, sf = (None, [sw_in] * len(xf)) if not isinstance(sw_in, da.Array) else \
            _block_futures(client, sw_in)
        seed = fit_seed(self.random_state)
        holdout = [(self.validation_fraction, seed, b) if self.early_stopping else None
                   for b in range(len(xf))]
        infos = client.gather([client.submit(tasks.describe, xb, yb, sb, hb,
                                             self._is_classifier, pure=False)
                               for xb, yb, sb, hb in zip(xf, yf, sf, holdout)])
        self._check_blocks(infos, X_in)
        ctx, W0 = self._context(client, (xf, yf, sf, holdout), infos, coef_init,
                                intercept_init, seed)
        state = self._run(ctx, W0)
        self._commit(strategies.finite_or_raise(ctx, state["W"], self.strategy),
                     int(state["round"]), ctx)
        del Xp, yp, sp_
        return self

    def _check_blocks(self, infos, X):
        d = infos[0]["n_features"]
        start = 0
        for b, info in enumerate(infos):
            rows = f"block {b} (rows {start}..{start + info['n_rows'] - 1})"
            if info["n_features"] != d or info["n_features"] != X.shape[1]:
                raise ValueError(
                    f"The blocks of X have different n_features: block 0 has {d}, block "
                    f"{b} has {info['n_features']} (X declares {X.shape[1]}). Every block "
                    "needs the same columns: read svmlight files with "
                    "fastgd.dask.read_svmlight(paths, n_features=...), or build the blocks "
                    "with a common shape.")
            if info["n_y"] != info["n_rows"]:
                raise ValueError(f"{rows}: X has {info['n_rows']} rows, y {info['n_y']}; "
                                 "y must be aligned with X, block by block.")
            if not info["finite_X"]:
                raise ValueError(
                    f"X {rows} contains NaN or infinity. Drop or impute those values "
                    "first, e.g. X = da.nan_to_num(X) or a dask-ml SimpleImputer.")
            if not info["finite_y"]:
                raise ValueError(f"y {rows} contains NaN or infinity; drop those rows.")
            if info["n_sw"] != info["n_rows"]:
                raise ValueError(f"{rows}: X has {info['n_rows']} rows, sample_weight "
                                 f"{info['n_sw']}; it must be aligned with X, block by "
                                 "block.")
            if not info["finite_sw"] or info["negative_sw"]:
                raise ValueError(f"sample_weight {rows} contains NaN, infinity or negative "
                                 "values; sample weights must be finite and >= 0.")
            if self.early_stopping and not 0 < info["n_holdout"] < info["n_rows"]:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} holds out "
                    f"{info['n_holdout']} of the {info['n_rows']} rows of {rows}: every "
                    "block needs rows to train on and rows to validate on. Use larger "
                    "blocks (X.rechunk) or another validation_fraction.")
            start += info["n_rows"]

    def _context(self, client, blocks, infos, coef_init, intercept_init, seed):
        xf, yf, sf, holdout = blocks
        n_rows = np.array([i["n_rows"] - i["n_holdout"] for i in infos], dtype=np.int64)
        d = infos[0]["n_features"]
        support = np.logical_or.reduce([i["support"] for i in infos])
        sparse = any(i["sparse"] for i in infos)
        spec = {"classify": self._is_classifier, "loss": self.loss,
                "param": loss_param(self.loss, self.epsilon), "backend": self.backend,
                "sparse": sparse, "classes": None, "pos_weight": [1.0], "neg_weight": [1.0],
                "single_params": self._single_params(),
                "adagrad_weights": (self.strategy == "average" and self.solver == "sgd"
                                    and self.optimizer == "adagrad")}
        K = 1
        if self._is_classifier:
            classes, K = self._classes(infos, spec)
            spec["classes"] = classes
        W0 = np.zeros((K, d + 1))
        if self.warm_start and hasattr(self, "coef_") and coef_init is None:
            coef_init, intercept_init = self.coef_, self.intercept_
        if coef_init is not None:
            W0[:, :-1] = linear_model._coef_init(coef_init, (K, d), "coef_init")
        if intercept_init is not None:
            W0[:, -1] = linear_model._coef_init(intercept_init, (K,), "intercept_init")
        cfg = self._single(batch_size="full")._config(self.loss, self.max_iter)
        ctx = strategies.Context(client=client, X=xf, y=yf, sw=sf, holdout=holdout,
                                 n_rows=n_rows, spec=spec,
                                 cfg=cfg, params=self, token=uuid.uuid4().hex[:10],
                                 support=support, seed=seed)
        return ctx, W0

    def _classes(self, infos, spec):
        classes = np.unique(np.concatenate([i["labels"] for i in infos]))
        if classes.shape[0] < 2:
            raise ValueError("The number of classes has to be greater than one; got "
                             f"{classes.shape[0]} class")
        cw = self.class_weight
        if cw == "balanced":  # scikit-learn's n / (n_classes * count), from all of y
            counts = np.zeros(classes.shape[0])
            for i in infos:
                counts[np.searchsorted(classes, i["labels"])] += i["counts"]
            weights = counts.sum() / (classes.shape[0] * counts)
            # the local fits read class_weight too: the whole data's, not their block's
            spec["single_params"] = dict(spec["single_params"],
                                         class_weight=dict(zip(classes.tolist(), weights)))
        else:
            weights = compute_class_weight(cw, classes=classes, y=classes)
        if classes.shape[0] == 2:
            spec["pos_weight"], spec["neg_weight"] = [weights[1]], [weights[0]]
            return classes, 1
        spec["pos_weight"] = list(weights)
        spec["neg_weight"] = [1.0] * classes.shape[0]
        return classes, classes.shape[0]

    def _run(self, ctx, W0):
        s, n = self.strategy, int(self.max_iter)
        if s == "average":
            return strategies.fit_average(ctx, W0, n)
        if s == "gradient" and self.solver == "lbfgs":
            return strategies.fit_lbfgs(ctx, W0)
        if s == "gradient" and self.solver == "newton-cholesky":
            return strategies.fit_newton(ctx, W0)
        if s == "gradient":
            return strategies.fit_gradient(ctx, W0, n, kernels(self.backend), MAX_SLOTS)
        if s == "ssp":
            return strategies.fit_ssp(ctx, W0, n)
        if s == "easgd":
            if self.asynchronous:
                return strategies.fit_easgd_async(ctx, W0, n)
            return strategies.fit_easgd_sync(ctx, W0, n)
        return strategies.fit_downpour(ctx, W0, n, self.server_optimizer
                                       if s == "downpour" else "adarevision")

    def _commit(self, W, n_iter, ctx):
        self.n_features_in_ = W.shape[1] - 1
        self.n_iter_ = n_iter
        if self._is_classifier:
            self.classes_ = ctx.spec["classes"]
            self.coef_ = W[:, :-1].copy()
            self.intercept_ = W[:, -1].copy()
        else:
            self.coef_ = W[0, :-1].copy()
            self.intercept_ = W[0, -1:].copy()

    # --------------------------------------------------------------- predicting
    def to_single(self):
        """The fitted model as the single-machine ``fastgd`` estimator: the same
        parameters (less the dask ones), ``coef_``, ``intercept_``, ``classes_``,
        ``n_iter_``; its ``t_`` is 1, so a ``partial_fit`` starts a fresh step count."""
        check_is_fitted(self)
        est = self._single()
        for attr in ("coef_", "intercept_", "n_features_in_", "n_iter_", "classes_"):
            if hasattr(self, attr):
                setattr(est, attr, getattr(self, attr))
        est.t_ = 1.0
        return est

    def _blockwise(self, X, method, columns):
        """``method`` of the single-machine model, block by block on dask input (lazy),
        at once on NumPy/CSR input. ``columns``: None (1-D out) or the output width."""
        est = self.to_single()
        X_d = _dask_input(X)
        if X_d is None:
            return getattr(est, method)(X)
        _check_rows(X_d, None)
        dtype = self.classes_.dtype if method == "predict" and self._is_classifier else float
        if columns is None:
            return X_d.map_blocks(_block_call, est, method, drop_axis=1, dtype=dtype,
                                  meta=np.empty(0, dtype))
        return X_d.map_blocks(_block_call, est, method, dtype=dtype,
                              chunks=(X_d.chunks[0], (columns,)),
                              meta=np.empty((0, 0), dtype))

    def predict(self, X):
        """Predicted labels or targets; lazy on dask input."""
        return self._blockwise(X, "predict", None)


class SGDClassifier(ClassifierMixin, _DaskSGD):
    """``fastgd.SGDClassifier`` on Dask: one model fitted over every block of X.

    Every parameter of the single-machine class, plus ``strategy`` ('average',
    'gradient', 'ssp', 'downpour', 'adarevision', 'easgd') and its parameters:
    ``local_epochs`` (average, ssp), ``batch_fraction`` (gradient, downpour,
    adarevision: the fraction of each block's rows a task uses), ``staleness`` (ssp),
    ``server_optimizer`` and ``server_eta`` (downpour; adarevision's eta),
    ``elastic_alpha`` and ``tau`` (easgd; ``asynchronous``), ``deterministic`` (the
    asynchronous strategies apply results in submission order: reproducible, for tests),
    ``client``, ``checkpoint`` (a directory) and ``checkpoint_every`` (rounds; for the
    asynchronous strategies, that many applied results per block: the model, the
    server rule's state, the clocks and each block's count of applied results; a
    resumed fit runs the tasks in flight at the save again).
    ``class_weight='balanced'`` counts the classes over every block; ``early_stopping``
    holds out ``validation_fraction`` of every block (synchronous strategies).
    ``strategy='gradient', solver='lbfgs'`` is the single-machine L-BFGS on the
    map-reduce gradient (``max_iter`` its iterations, ``tol`` its gradient tolerance);
    ``solver='newton-cholesky'`` Newton's method on the map-reduce gradient and Hessian.
    """

    _is_classifier = True
    _single_cls = linear_model.SGDClassifier
    __init__ = _init_for(linear_model.SGDClassifier)

    def decision_function(self, X):
        """x . coef_ + intercept_ per class; lazy on dask input."""
        width = None if len(self.classes_) == 2 else len(self.classes_)
        return self._blockwise(X, "decision_function", width)

    def _has_proba(self):
        return self.loss in ("log_loss", "modified_huber")

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Probability estimates (log_loss, modified_huber); lazy on dask input."""
        check_is_fitted(self)
        return self._blockwise(X, "predict_proba", len(self.classes_))

    def score(self, X, y, sample_weight=None):
        """Mean accuracy; a lazy dask scalar on dask input."""
        y_d = _dask_input(y, "y")
        if y_d is None:
            return self.to_single().score(X, y, sample_weight)
        return _weighted_mean(self.predict(X) == y_d, sample_weight)


class SGDRegressor(RegressorMixin, _DaskSGD):
    """``fastgd.SGDRegressor`` on Dask; parameters as ``fastgd.dask.SGDClassifier``."""

    _is_classifier = False
    _single_cls = linear_model.SGDRegressor
    __init__ = _init_for(linear_model.SGDRegressor)

    def score(self, X, y, sample_weight=None):
        """R^2; a lazy dask scalar on dask input."""
        y_d = _dask_input(y, "y")
        if y_d is None:
            return self.to_single().score(X, y, sample_weight)
        residual = _weighted_mean((y_d - self.predict(X)) ** 2, sample_weight)
        return 1.0 - residual / _weighted_mean(
            (y_d - _weighted_mean(y_d, sample_weight)) ** 2, sample_weight)


# ---------------------------------------------------------------------- reader
MAX_COLUMNS = np.iinfo(np.int32).max
COMPRESSED = (".gz", ".bz2")  # scikit-learn decompresses these: no byte ranges in them


def _pieces(paths, blocksize):
    if isinstance(paths, (str, os.PathLike)):
        found = sorted(_glob.glob(os.fspath(paths)))
        paths = found if found else [os.fspath(paths)]
    pieces = []
    for path in map(os.fspath, paths):
        size = os.path.getsize(path)
        if blocksize is None or size <= blocksize or path.endswith(COMPRESSED):
            pieces.append((path, 0, -1))
        else:
            pieces += [(path, off, int(blocksize)) for off in range(0, size, int(blocksize))]
    return pieces


def _read_piece(piece, dtype, n_features, zero_based):
    """(CSR X, y) of the lines that start in the piece's byte range."""
    from sklearn.datasets import load_svmlight_file

    path, offset, length = piece
    X, y = load_svmlight_file(path, n_features=n_features, dtype=dtype,
                              zero_based=zero_based, offset=offset, length=length)
    return X.tocsr(), y


def _piece_stats(piece, dtype):
    """Rows and smallest/largest column index of a piece (read zero-based; a byte range
    needs some n_features: the largest a CSR index can hold)."""
    X, y = _read_piece(piece, dtype, None if piece[2] < 0 else MAX_COLUMNS, True)
    idx = X.indices
    return {"n_rows": int(X.shape[0]), "min": int(idx.min()) if idx.size else None,
            "max": int(idx.max()) if idx.size else -1}


def read_svmlight(paths, n_features=None, blocksize=None, dtype=np.float64,
                  zero_based="auto"):
    """svmlight/libsvm files as (X, y): X a dask array of CSR blocks, one per file, or
    per ``blocksize`` bytes of an uncompressed file (lines are assigned to the piece in
    which they start, scikit-learn's ``offset``/``length``), with a common
    ``n_features``; y the labels, chunked as X.

    ``paths``: a glob pattern or a list of files. One pass over the files counts rows
    and finds the largest column index (``n_features=None``: that index + 1) and, with
    ``zero_based='auto'``, whether any file uses column 0 (as scikit-learn decides per
    file, but here once for all pieces, so that every block has the same columns).
    Compressed files (.gz, .bz2) are read whole (they cannot be split by bytes).
    """
    pieces = _pieces(paths, blocksize)
    stats = dask.compute(*[dask.delayed(_piece_stats)(p, dtype) for p in pieces])
    mins = [s["min"] for s in stats if s["min"] is not None]
    if zero_based == "auto":
        zero_based = bool(mins) and min(mins) == 0
    max_index = max(s["max"] for s in stats)
    needed = max_index + 1 if zero_based else max(max_index, 0)
    if n_features is None:
        n_features = needed
    elif n_features < needed:
        raise ValueError(f"n_features={n_features} but the files use {needed} columns.")
    meta_X = sp.csr_matrix((0, n_features), dtype=dtype)
    xs, ys = [], []
    for piece, s in zip(pieces, stats):
        if s["n_rows"] == 0:
            continue
        part = dask.delayed(_read_piece, nout=2)(piece, dtype, n_features, zero_based)
        xs.append(da.from_delayed(part[0], shape=(s["n_rows"], n_features), dtype=dtype,
                                  meta=meta_X))
        ys.append(da.from_delayed(part[1], shape=(s["n_rows"],), dtype=np.float64))
    return da.concatenate(xs, axis=0), da.concatenate(ys)

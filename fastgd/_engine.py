"""The Python driver of the kernels: rows, sample order, epochs and stopping rules.

Kernels run one epoch per call; everything around an epoch (the order of the samples,
scikit-learn's stopping rule, early stopping, the adaptive schedule, divergence checks,
progress callbacks) lives here.
"""

import math
import os
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from fastgd._backend import kernels, threaded_kernels
from fastgd._rules import MAX_SLOTS, SCHED_ETA, Penalty, Rule, Schedule


@dataclass
class Rows:
    """Row access shared by dense and CSR data: the only thing the kernels see of X."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    dense_d: int
    n_samples: int
    n_features: int
    kern: object = None  # the backend's kernel module

    @classmethod
    def of(cls, X, backend="auto"):
        n, d = X.shape
        kern = kernels(backend)
        if sp.issparse(X):
            return cls(X.data, X.indices.astype(np.int32, copy=False),
                       X.indptr.astype(np.int64, copy=False), 0, n, d, kern)
        X = np.ascontiguousarray(X)
        return cls(X.reshape(-1), np.zeros(0, np.int32), np.zeros(0, np.int64), d, n, d,
                   kern)

    @property
    def is_sparse(self):
        return self.dense_d == 0

    def decision(self, coef, intercept):
        out = np.empty(self.n_samples)
        self.kern.margins(self.data, self.indices, self.indptr, self.dense_d, self.n_samples,
                   coef, float(intercept), out)
        return out


@dataclass
class Config:
    """Everything a fit of one binary/regression problem needs, resolved."""

    rule: int
    loss: int
    param: float
    penalty: int
    alpha: float
    l1_ratio: float
    fit_intercept: bool
    schedule: int
    eta0: float
    power_t: float
    hp: np.ndarray
    batch_size: object  # int or 'full'
    lazy: bool
    average: int
    max_iter: int
    tol: float  # -inf when None
    n_iter_no_change: int
    early_stopping: bool
    shuffle: bool
    verbose: int = 0
    optimal_init: float = 0.0
    solver: str = "sgd"
    eta0_auto: bool = False  # eta0='auto': a solver may pick its own step (SAG: 1/L)
    n_jobs: int = 1  # threads for one binary problem (already resolved: >= 1)
    schedule_alpha: float = 0.0  # alpha of 'optimal' (the estimator's, whatever penalty)
    epoch_order: object = None  # order(rng, train_idx) of an epoch; None: a permutation

    def schedule_record(self, eta):
        """The kernels' ``lr_params`` record (slots ``fastgd._rules.SCHED_NAMES``)."""
        return np.array([eta, self.eta0, self.power_t, self.schedule_alpha,
                         self.optimal_init])

    @property
    def plain(self):
        """scikit-learn's own per-sample SGD path."""
        return self.rule == Rule.SGD and self.batch_size == 1 and self.solver == "sgd"


@dataclass
class Result:
    coef: np.ndarray
    intercept: float
    n_iter: int
    t: float
    loss_curve: list
    validation_scores: list = field(default_factory=list)
    avg_coef: object = None
    avg_intercept: float = 0.0
    state: object = None


def effective_n_jobs(n_jobs):
    """scikit-learn's meaning of ``n_jobs``: None/1 -> 1, -1 -> every usable core, k -> k."""
    if n_jobs is None:
        return 1
    n_jobs = int(n_jobs)
    if n_jobs < 0:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cores = os.cpu_count() or 1
        return max(1, cores + 1 + n_jobs)
    return max(1, n_jobs)


def _parallel_kernels(rows, n_jobs):
    """The multi-threaded kernels of the fit's backend (``_nb_parallel`` / ``_cy_parallel``)
    when ``n_jobs > 1`` and threads can run (``_backend.threaded_kernels``), else None."""
    if n_jobs <= 1 or rows.kern is None:
        return None
    return threaded_kernels("parallel", rows.kern)


def optimal_init(cfg, kern, alpha):
    """Bottou's t0 heuristic, as scikit-learn computes it for learning_rate='optimal'
    (with the estimator's ``alpha``, as scikit-learn, whatever the penalty)."""
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    eta0 = typw / max(1.0, kern.loss_dloss(cfg.loss, 1.0, -typw, cfg.param))
    return 1.0 / (eta0 * alpha)


def penalty_value(cfg, w):
    """alpha R(w) of SPEC section 1."""
    if cfg.penalty == Penalty.NONE:
        return 0.0
    return cfg.alpha * ((1.0 - cfg.l1_ratio) * 0.5 * float(w @ w)
                        + cfg.l1_ratio * float(np.abs(w).sum()))


def new_state(cfg, n_features):
    """Optimizer memory: rule state rows, cumulative-L1 vector q and scalar u."""
    n_slots = max(MAX_SLOTS, 1)
    return {"state": np.zeros((n_slots, n_features + 1)),
            "q": np.zeros(n_features), "u": 0.0}


# An objective this many times that of the zero model (and of 1) is a diverged fit
DIVERGED_FACTOR = 1e6


def _divergence(epoch, what="Floating-point under-/overflow occurred"):
    return ValueError(
        f"{what} at epoch #{epoch}: the fit diverged. A smaller eta0 or a larger alpha "
        "might help, as might scaling the input data (StandardScaler, or MaxAbsScaler "
        "for sparse X).")


def zero_model_objective(y, sw, train_idx, cfg, kern):
    """F(0, 0): the mean weighted loss of predicting 0 (no penalty); O(n)."""
    idx = train_idx
    if idx.shape[0] == 0:
        return 0.0
    return kern.weighted_loss_sum(y[idx], np.zeros(idx.shape[0]), sw[idx], cfg.loss,
                                  cfg.param) / idx.shape[0]


def check_objective(epoch, objective, reference, exact=None):
    """Raise the divergence error when the fit's final F is not finite, or absurd: more
    than ``DIVERGED_FACTOR`` times max(F(0, 0), 1), a model far worse than predicting 0
    (the clip of dL/dp at 1e12 keeps such a runaway fit finite).

    Called once, at the end of a fit (or ``partial_fit`` call): early epochs of a large
    schedule (scikit-learn's 'optimal' on the squared losses) may go far up and come
    back, as in scikit-learn. ``objective`` may be the mean over the last epoch's steps;
    when it is absurd, ``exact()``, F at the final iterate (one pass), decides.
    """
    if not math.isfinite(objective):
        raise _divergence(epoch)
    limit = DIVERGED_FACTOR * max(reference, 1.0)
    if objective > limit and exact is not None:
        objective = exact()
    if not objective <= limit:
        raise _divergence(epoch, f"The objective reached {objective:.3g}, over "
                          f"{DIVERGED_FACTOR:.0e} times that of the zero model "
                          f"({reference:.3g}),")


def check_state(epoch, state):
    """The rule's state (Adagrad's sum of g², Adam's moments...) must stay finite: once
    g² overflows, every step is 0 and the fit would freeze silently."""
    if not np.isfinite(state).all():
        raise _divergence(epoch, "The optimizer's state overflowed (g² is too large for "
                          "float64; the gradients are far too large)")


class Interrupted(KeyboardInterrupt):
    """Raised in a fit that ``stop`` (a threading.Event) asked to end, between epochs."""


def fit_binary(rows, y, sw, coef, intercept, cfg, *, t, rng, train_idx, score_cb=None,
               avg_coef=None, avg_intercept=0.0, state=None, intercept_decay=1.0,
               callback=None, shuffle_seed=None, stop=None):
    """Run epochs of one binary (or regression) problem until the stopping rule says so.

    ``y`` is float64 (+-1 for classification), ``sw`` float64 sample*class weights,
    ``coef`` float64 and left untouched (a copy is fitted). ``train_idx`` are the samples
    that are learned from (the others are the validation set). Returns a ``Result``.

    Sample order: with ``shuffle_seed`` (the plain path), scikit-learn's own: its
    Fisher-Yates shuffle of all samples, re-applied every epoch with that seed, the
    validation samples skipped; otherwise ``rng.permutation(train_idx)`` every epoch.

    ``stop``, a ``threading.Event``, ends the fit with ``Interrupted`` before the next
    epoch once it is set (how a one-vs-rest fit in threads stops on Ctrl-C).
    """
    nb = rows.kern
    w = np.array(coef, dtype=np.float64, copy=True)
    n_train = train_idx.shape[0]
    loss_curve, scores = [], []
    best_obj, best_score, no_improve = np.inf, -np.inf, 0
    eta = cfg.eta0
    order = train_idx
    n_threads = min(cfg.n_jobs, max(n_train, 1))
    par = _parallel_kernels(rows, n_threads)
    if par is not None and cfg.plain and cfg.average:
        raise ValueError(
            "average (ASGD) cannot be combined with Hogwild! (n_jobs > 1) on a binary or "
            "regression problem: its shared scalars are updated by every step and have "
            "no sound lock-free form. Use n_jobs=1 (one-vs-rest multiclass problems are "
            f"fitted in parallel threads instead); got n_jobs={cfg.n_jobs}.")
    # scikit-learn's running objective (a loss evaluation per sample) only feeds the
    # stopping rule and verbose output; without them the plain path skips it
    track = bool(cfg.verbose or callback is not None
                 or (cfg.tol > -np.inf and not cfg.early_stopping))
    if cfg.plain:
        aw = (np.zeros_like(w) if avg_coef is None else
              np.array(avg_coef, dtype=np.float64, copy=True))
        q = np.zeros_like(w)
        st = np.array([1.0, 0.0, 1.0, 0.0, float(w @ w), float(np.abs(w).sum()),
                       float(intercept), float(avg_intercept)])
        if par is not None:
            tstate = np.zeros((n_threads, 9 + par.PAD))
    else:
        ws = np.empty(rows.n_features + 1)
        ws[:-1] = w
        ws[-1] = intercept
        state = new_state(cfg, rows.n_features) if state is None else {
            k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
        batch = n_train if cfg.batch_size == "full" else min(int(cfg.batch_size), n_train)
        batch = max(batch, 1)
        gbuf = np.zeros(rows.n_features + 1)
        dbuf = np.zeros(batch)
        mark = np.zeros(rows.n_features, np.uint8)
        klist = np.zeros(rows.n_features, np.int64)
        if par is not None:
            n_batches = -(-n_train // batch)
            sync = batch >= par.SYNC_MIN_BATCH
            if not sync:
                n_threads = min(n_threads, n_batches)
            d, pad = rows.n_features, par.PAD
            # the rule sweeps clear mark[j] of every coordinate they step, dense included
            mark = np.zeros((n_threads, d), np.uint8)
            klist = np.zeros((n_threads, d), np.int64)
            gbuf = np.zeros((n_threads, d + 1 + pad))
            tstate = np.zeros((n_threads, pad))
            if sync:
                gmark = np.zeros(d if rows.is_sparse else 0, np.uint8)
                gklist = np.zeros(d if rows.is_sparse else 0, np.int64)
            else:
                dbuf = np.zeros((n_threads, batch + pad))
                wi = np.zeros((n_threads, pad))
                si = np.zeros((n_threads, state["state"].shape[0], pad))
    if cfg.shuffle and shuffle_seed is not None:
        perm = np.arange(rows.n_samples, dtype=np.int64)
        is_train = np.zeros(rows.n_samples, dtype=bool)
        is_train[train_idx] = True
    reference = zero_model_objective(y, sw, train_idx, cfg, nb)
    lr_params = cfg.schedule_record(eta)

    def exact(w_true, b):
        """F(w, b) over the training samples, at the current iterate."""
        p = rows.decision(w_true, b)[train_idx]
        return (nb.weighted_loss_sum(y[train_idx], p, sw[train_idx], cfg.loss, cfg.param)
                / max(n_train, 1) + penalty_value(cfg, w_true))

    epoch = 0
    for epoch in range(1, cfg.max_iter + 1):
        if stop is not None and stop.is_set():
            raise Interrupted()
        if cfg.shuffle and shuffle_seed is not None:
            nb.sklearn_shuffle(perm, shuffle_seed)
            order = perm[is_train[perm]]
        elif cfg.shuffle:
            order = (rng.permutation(train_idx) if cfg.epoch_order is None
                     else cfg.epoch_order(rng, train_idx))
        if cfg.plain and par is not None:
            with par.guard():
                t, obj_sum = par.hogwild_plain_epoch(
                    rows.data, rows.indices, rows.indptr, rows.dense_d, y, sw, order,
                    w, aw, q, st, cfg.loss, cfg.param, cfg.penalty, cfg.alpha,
                    cfg.l1_ratio, cfg.fit_intercept, intercept_decay, cfg.schedule,
                    lr_params, t, cfg.average, track, n_threads, tstate)
            objective = obj_sum / n_train
            cur_w, cur_b = w, st[6]
        elif cfg.plain:
            t, obj_sum = nb.plain_sgd_epoch(
                rows.data, rows.indices, rows.indptr, rows.dense_d, y, sw, order,
                w, aw, q, st, cfg.loss, cfg.param, cfg.penalty, cfg.alpha, cfg.l1_ratio,
                cfg.fit_intercept, intercept_decay, cfg.schedule, lr_params,
                t, cfg.average, track)
            objective = obj_sum / n_train
            cur_w, cur_b = w, st[6]  # raw weights, as scikit-learn scores them
        elif par is not None:
            args = (rows.data, rows.indices, rows.indptr, rows.dense_d, y, sw, order,
                    batch, ws, state["state"], cfg.hp, state["q"], cfg.rule, cfg.loss,
                    cfg.param, cfg.alpha, cfg.l1_ratio, cfg.fit_intercept, cfg.lazy,
                    cfg.schedule, lr_params, t,
                    state["u"], n_threads)
            with par.guard():
                if sync:
                    t, state["u"], loss_sum = par.sync_optimizer_epoch(
                        *args, gbuf, mark, klist, gmark, gklist, tstate)
                else:
                    t, state["u"], loss_sum = par.hogwild_optimizer_epoch(
                        *args, gbuf, dbuf, mark, klist, wi, si, tstate)
            cur_w, cur_b = ws[:-1], ws[-1]
            objective = loss_sum / n_train + penalty_value(cfg, cur_w)
        else:
            t, state["u"], loss_sum = nb.optimizer_epoch(
                rows.data, rows.indices, rows.indptr, rows.dense_d, y, sw, order, batch,
                ws, state["state"], cfg.hp, state["q"], cfg.rule, cfg.loss, cfg.param,
                cfg.alpha, cfg.l1_ratio, cfg.fit_intercept, cfg.lazy, cfg.schedule,
                lr_params, t, state["u"], gbuf, dbuf, mark, klist)
            cur_w, cur_b = ws[:-1], ws[-1]
            objective = loss_sum / n_train + penalty_value(cfg, cur_w)
        if cfg.plain and not track:
            objective = math.nan  # not computed, not recorded
        elif not math.isfinite(objective):
            raise _divergence(epoch)
        else:
            loss_curve.append(objective)
        if not (math.isfinite(cur_b) and np.isfinite(cur_w).all()):
            raise _divergence(epoch)
        if not cfg.plain and cfg.rule != Rule.SGD:
            check_state(epoch, state["state"])
        if cfg.early_stopping:
            score = score_cb(cur_w, cur_b)
            scores.append(score)
            no_improve = no_improve + 1 if (cfg.tol > -np.inf
                                            and score < best_score + cfg.tol) else 0
            best_score = max(best_score, score)
        else:
            no_improve = no_improve + 1 if (cfg.tol > -np.inf
                                            and objective > best_obj - cfg.tol) else 0
            best_obj = min(best_obj, objective)
        if cfg.verbose:
            print(f"-- Epoch {epoch}: objective {objective:.6g}, eta {eta:.3g}, t {t:.0f}")
        if callback is not None:
            callback(epoch, cur_w, cur_b, objective)
        if no_improve >= cfg.n_iter_no_change:
            if cfg.schedule == Schedule.ADAPTIVE and eta > 1e-6:
                eta /= 5
                lr_params[SCHED_ETA] = eta
                no_improve = 0
            else:
                break
    if cfg.plain:
        nb.plain_sgd_finish(w, aw, st, cfg.average)
        check_objective(epoch, objective if track else exact(w, st[6]), reference,
                        lambda: exact(w, st[6]))
        return Result(w, st[6], epoch, t, loss_curve, scores,
                      aw if cfg.average else None, st[7])
    check_objective(epoch, objective, reference, lambda: exact(ws[:-1], ws[-1]))
    return Result(ws[:-1].copy(), ws[-1], epoch, t, loss_curve, scores, state=state)

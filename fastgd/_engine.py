"""The Python driver of the kernels: rows, sample order, epochs and stopping rules.

Kernels run one epoch per call; everything around an epoch (the order of the samples,
scikit-learn's stopping rule, early stopping, the adaptive schedule, divergence checks,
progress callbacks) lives here.
"""

import functools
import math
import os
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from fastgd._backend import get_backend
from fastgd._rules import (FP_T, FP_U, HP_NAMES, IP_TRACK, MAX_SLOTS, PAD,
                           REPLICA_MAX_BYTES, REPLICA_WORK, ROUND_STEPS, SCHED_ETA,
                           SYNC_MIN_BATCH, Penalty, Rule, Schedule, records)
from fastgd.epoch_order import Readahead


@dataclass
class Rows:
    """Row access shared by dense and CSR data: the only thing the kernels see of X."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    dense_d: int
    n_samples: int
    n_features: int
    backend: object = None  # the _backend.Backend whose kernels fit these rows
    _sq_norms: np.ndarray = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, X, backend="auto"):
        n, d = X.shape
        kern = get_backend(backend)
        if sp.issparse(X):
            return cls(X.data, X.indices.astype(np.int32, copy=False),
                       X.indptr.astype(np.int64, copy=False), 0, n, d, kern)
        X = np.ascontiguousarray(X)
        return cls(X.reshape(-1), np.zeros(0, np.int32), np.zeros(0, np.int64), d, n, d,
                   kern)

    @property
    def kern(self):
        """The backend's SGD kernel module (losses, margins, solver='sgd')."""
        return self.backend.sgd

    @property
    def is_sparse(self):
        return self.dense_d == 0

    def sq_norms(self):
        """||x_i||² of every row, computed once (one pass, no copy of X): the step
        rules, Lipschitz sampling and solver='auto' of every class's fit read it."""
        if self._sq_norms is None:
            out = np.empty(self.n_samples)
            self.backend.vr.row_sq_norms(self.data, self.indptr, self.dense_d,
                                         np.arange(self.n_samples, dtype=np.int64), out)
            self._sq_norms = out
        return self._sq_norms

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
    sampling: str = "uniform"  # SAGA/SVRG: 'uniform', 'lipschitz' or 'auto' (fastgd._vr)
    n_jobs: int = 1  # threads for one binary problem (already resolved: >= 1)
    schedule_alpha: float = 0.0  # alpha of 'optimal' (the estimator's, whatever penalty)
    schedule_slots: dict = field(default_factory=dict)  # a fastgd.schedules schedule's
    epoch_order: object = None  # order(rng, train_idx) of an epoch; None: a permutation
    curriculum_epochs: int = 0  # the first epochs visit the samples by difficulty
    difficulty: object = None  # one score per sample (lower: easier), or None
    clip_value: float = 0.0  # SPEC section 7 (0: off)
    clip_norm: float = 0.0
    noise: float = 0.0  # eta of the gradient noise
    noise_decay: float = 0.55  # its gamma
    noise_seed: int = 0  # the noise generator's key, in [0, 2**32)

    def records(self, dense_d, **named):
        """(ip, fp), the kernels' records of this fit (``fastgd._rules.records``), with
        ``named`` slots (t, batch_size, n_threads...) set or overridden by key."""
        slots = dict(
            dense_d=dense_d, rule=self.rule, loss=self.loss, penalty=self.penalty,
            schedule=self.schedule, fit_intercept=int(self.fit_intercept),
            lazy=int(self.lazy), average=self.average, eta=self.eta0, eta0=self.eta0,
            power_t=self.power_t, sched_alpha=self.schedule_alpha, t0=self.optimal_init,
            param=self.param, alpha=self.alpha, l1_ratio=self.l1_ratio,
            clip_value=self.clip_value, clip_norm=self.clip_norm, noise=self.noise,
            noise_decay=self.noise_decay, noise_seed=self.noise_seed,
            **dict(zip(HP_NAMES, self.hp)), **self.schedule_slots)
        slots.update(named)
        return records(**slots)

    @property
    def plain(self):
        """scikit-learn's own per-sample SGD path (it has no clipping or noise)."""
        return (self.rule == Rule.SGD and self.batch_size == 1 and self.solver == "sgd"
                and not self.tools)

    @property
    def tools(self):
        """Clipping or gradient noise (SPEC section 7) is on."""
        return self.clip_value > 0.0 or self.clip_norm > 0.0 or self.noise > 0.0


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
    when ``n_jobs > 1`` and threads can run (``Backend.threaded``), else None."""
    if n_jobs <= 1:
        return None
    return rows.backend.threaded("parallel")


def hogwild_replicas(rows, n_threads):
    """``rep`` for ``hogwild_plain_epoch`` and ``async_vr_epoch``: float64
    (n_threads, 2, d), per-thread replicas of w and q (ASAGA / AsySVRG: w and D) merged
    at each round's end (DimmWitted's PerCore replication, Zhang & Re 2014), when
    copying and merging every column is at most ``REPLICA_WORK`` of a round's non-zero
    updates: always on dense X, whose steps write every column, and on CSR with few
    columns (a9a, w8a, covtype). Else (0, 2, 0): every column shared, lock-free.
    """
    d = rows.n_features
    per_row = (rows.indices.shape[0] / max(rows.n_samples, 1)) if rows.is_sparse else d
    if (n_threads > 1 and d * n_threads * 16 <= REPLICA_MAX_BYTES
            and 2 * d * (n_threads + 1) <= REPLICA_WORK * n_threads * ROUND_STEPS * per_row):
        return np.zeros((n_threads, 2, d))
    return np.zeros((0, 2, 0))


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
        f"{what} at epoch #{epoch}: the fit diverged; a smaller eta0, a larger alpha or "
        "feature scaling might help. Scaling input data with StandardScaler or "
        "MinMaxScaler might help (MaxAbsScaler for sparse X).")


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

    ``reference`` is F(0, 0), or a function computing it (called only when F is over
    DIVERGED_FACTOR). Called once, at the end of a fit (or ``partial_fit`` call): early
    epochs of a large schedule (scikit-learn's 'optimal' on the squared losses) may go
    far up and come back, as in scikit-learn. ``objective`` may be the mean over the
    last epoch's steps; when it is absurd, ``exact()``, F at the final iterate (one
    pass), decides.
    """
    if not math.isfinite(objective):
        raise _divergence(epoch)
    if objective <= DIVERGED_FACTOR:  # under the limit whatever F(0, 0) is
        return
    if callable(reference):  # F(0, 0) computed only when it decides
        reference = reference()
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


def run_epochs(run, cfg, *, stop=None, callback=None):
    """The epoch loop of every solver: ``run`` (one of the runners below, or of
    ``_vr``) takes one epoch per ``run.epoch(epoch, record)`` and says when to stop.

    ``record(epoch, F)`` (called by the runner once it knows F after that epoch) appends
    F to the objective curve, raises the divergence error when it is not finite and
    calls ``callback(epoch, coef, intercept, F)``. ``stop``, a ``threading.Event``, ends
    the fit with ``Interrupted`` before the next epoch once it is set (how a
    one-vs-rest fit in threads stops on Ctrl-C). Returns ``run.finish(...)``.
    """
    loss_curve = []

    def record(epoch, objective):
        loss_curve.append(objective)
        if not math.isfinite(objective):
            raise _divergence(epoch)
        if callback is not None:
            coef, intercept = run.model()
            callback(epoch, coef, intercept, objective)

    epoch = 0
    for epoch in range(1, cfg.max_iter + 1):
        if stop is not None and stop.is_set():
            raise Interrupted()
        objective = run.epoch(epoch, record)
        coef, intercept = run.model()
        if not (math.isfinite(intercept) and np.isfinite(coef).all()):
            raise _divergence(epoch)
        if cfg.verbose:
            print(f"-- Epoch {epoch}{run.progress(loss_curve)}")
        if run.converged(objective):
            break
    return run.finish(epoch, record, loss_curve)


class _SGDRun:
    """What the runners of solver='sgd' share: the sample order, scikit-learn's stopping
    rule (on the objective, or on the validation score with early stopping), the
    adaptive schedule and the final divergence check.

    Sample order: the first ``curriculum_epochs`` epochs, the training samples by
    increasing ``difficulty`` (when given); then with ``shuffle_seed`` (the plain path),
    scikit-learn's own: its Fisher-Yates shuffle of all samples, re-applied every epoch
    with that seed, the validation samples skipped; otherwise
    ``rng.permutation(train_idx)`` (or ``epoch_order``) every epoch. A curriculum epoch
    draws nothing from the random generators.
    """

    def __init__(self, rows, y, sw, cfg, t, rng, train_idx, score_cb, shuffle_seed):
        self.rows, self.y, self.sw, self.cfg = rows, y, sw, cfg
        self.rng, self.train_idx, self.score_cb = rng, train_idx, score_cb
        self.n_train = train_idx.shape[0]
        self.t0 = t
        self.seed = shuffle_seed if cfg.shuffle else None
        if self.seed is not None:
            self.perm = np.arange(rows.n_samples, dtype=np.int64)
            self.is_train = np.zeros(rows.n_samples, dtype=bool)
            self.is_train[train_idx] = True
        self.order = train_idx
        self.eta = cfg.eta0
        self.scores = []
        self.best_obj, self.best_score, self.no_improve = np.inf, -np.inf, 0
        self.reference = functools.partial(zero_model_objective, y, sw, train_idx, cfg,
                                           rows.kern)

    def next_order(self, epoch):
        if epoch <= self.cfg.curriculum_epochs and self.cfg.difficulty is not None:
            idx = self.train_idx  # curriculum: easiest first (stable: ties in order)
            return idx[np.argsort(self.cfg.difficulty[idx], kind="stable")]
        if self.seed is not None:
            self.rows.kern.sklearn_shuffle(self.perm, self.seed)
            self.order = (self.perm if self.n_train == self.perm.shape[0]
                          else self.perm[self.is_train[self.perm]])
        elif self.cfg.shuffle:
            self.order = (self.rng.permutation(self.train_idx)
                          if self.cfg.epoch_order is None
                          else self.cfg.epoch_order(self.rng, self.train_idx))
        return self.order

    def exact(self):
        """F(w, b) over the training samples, at the current iterate."""
        w, b = self.model()
        idx, cfg = self.train_idx, self.cfg
        p = self.rows.decision(w, b)[idx]
        return (self.rows.kern.weighted_loss_sum(self.y[idx], p, self.sw[idx], cfg.loss,
                                                 cfg.param)
                / max(self.n_train, 1) + penalty_value(cfg, w))

    def progress(self, loss_curve):
        objective = loss_curve[-1] if loss_curve else math.nan
        return f": objective {objective:.6g}, eta {self.eta:.3g}, t {self.fp[FP_T]:.0f}"

    def converged(self, objective):
        cfg = self.cfg
        if cfg.early_stopping:
            score = self.score_cb(*self.model())
            self.scores.append(score)
            self.no_improve = self.no_improve + 1 if (
                cfg.tol > -np.inf and score < self.best_score + cfg.tol) else 0
            self.best_score = max(self.best_score, score)
        else:
            self.no_improve = self.no_improve + 1 if (
                cfg.tol > -np.inf and objective > self.best_obj - cfg.tol) else 0
            self.best_obj = min(self.best_obj, objective)
        if self.no_improve < cfg.n_iter_no_change:
            return False
        if cfg.schedule == Schedule.ADAPTIVE and self.eta > 1e-6:
            self.eta /= 5
            self.fp[SCHED_ETA] = self.eta
            self.no_improve = 0
            return False
        return True


class _PlainRun(_SGDRun):
    """scikit-learn's per-sample SGD (``plain_sgd_epoch``, run as ``plain_sgd_steps``),
    or Hogwild! threads running it (``hogwild_plain_epoch``)."""

    def __init__(self, rows, y, sw, coef, intercept, cfg, *, par, n_threads, avg_coef,
                 avg_intercept, intercept_decay, track, **common):
        super().__init__(rows, y, sw, cfg, **common)
        if par is not None and cfg.average:
            raise ValueError(
                "average (ASGD) cannot be combined with Hogwild! (n_jobs > 1) on a binary "
                "or regression problem: its shared scalars are updated by every step and "
                "have no sound lock-free form. Use n_jobs=1 (one-vs-rest multiclass "
                "problems are fitted in parallel threads instead); got "
                f"n_jobs={cfg.n_jobs}.")
        w = self.w = np.array(coef, dtype=np.float64, copy=True)
        self.aw = (np.zeros_like(w) if avg_coef is None else
                   np.array(avg_coef, dtype=np.float64, copy=True))
        self.q = np.zeros_like(w)
        # [wscale, average_a, average_b, u, sq_norm, l1_norm, intercept,
        #  average_intercept, objective_sum]
        self.st = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 0.0, float(intercept),
                            float(avg_intercept), 0.0])
        self._set_norms()
        self.track = track
        self.last_objective = None  # untracked fits: the last epoch's mean objective
        self.ip, self.fp = cfg.records(rows.dense_d, t=self.t0, track=int(track),
                                       intercept_decay=intercept_decay,
                                       n_threads=n_threads)
        self.par = par
        if par is not None:
            self.tstate = np.zeros((n_threads, 11 + PAD))
            self.rep = hogwild_replicas(rows, n_threads)
        # rows memory-mapped from disk: epochs in segments, the next ones read ahead
        self.readahead = (Readahead.of(rows.data, rows.indices, rows.indptr, y)
                          if par is None and rows.is_sparse else None)

    def model(self):
        return self.w, self.st[6]  # raw weights, as scikit-learn scores them

    def _set_norms(self):
        """st[4], st[5] = ||w||², ||w||_1 of the true weights st[0] * w, which the
        tracked objective carries on; the L1 norm only enters it times l1_ratio."""
        scale, w = self.st[0], self.w
        self.st[4] = scale * scale * float(w @ w)
        self.st[5] = abs(scale) * float(np.abs(w).sum()) if self.cfg.l1_ratio else 0.0

    def epoch(self, epoch, record):
        r = self.rows
        # Untracked, the last epoch still tracks scikit-learn's running objective (its
        # norms refreshed first): the final divergence check reads it instead of a
        # pass over X for F (a third of an epoch on long rows); the steps are the same.
        last = not self.track and epoch == self.cfg.max_iter
        if last:
            self._set_norms()
            self.ip[IP_TRACK] = 1
        order = self.next_order(epoch)
        args = (r.data, r.indices, r.indptr, self.y, self.sw, order, self.w, self.aw,
                self.q, self.st, self.ip, self.fp)
        try:
            if self.par is not None:
                with self.par.guard():
                    obj_sum = self.par.hogwild_plain_epoch(*args, self.tstate, self.rep)
            else:  # plain_sgd_epoch, in segments read ahead on memory-mapped rows
                self.st[8] = obj_sum = 0.0
                for a, b in (((0, order.shape[0]),) if self.readahead is None
                             else self.readahead.segments(order)):
                    obj_sum = r.kern.plain_sgd_steps(*args[:5], order[a:b], *args[6:])
        finally:
            self.ip[IP_TRACK] = int(self.track)
        if last:
            self.last_objective = obj_sum / max(self.n_train, 1)
        if not self.track:
            return math.nan  # not recorded
        objective = obj_sum / self.n_train
        record(epoch, objective)
        return objective

    def finish(self, epoch, record, loss_curve):
        cfg = self.cfg
        self.rows.kern.plain_sgd_finish(self.w, self.aw, self.st, cfg.average)
        if self.track and loss_curve:
            objective = loss_curve[-1]
        elif self.last_objective is not None and self.n_train:
            objective = self.last_objective  # the mean over the last epoch's steps
        else:
            objective = self.exact()
        check_objective(epoch, objective, self.reference, self.exact)
        return Result(self.w, self.st[6], epoch, self.fp[FP_T], loss_curve, self.scores,
                      self.aw if cfg.average else None, self.st[7])


class _OptimizerRun(_SGDRun):
    """Any rule, any batch size (SPEC sections 2-3): ``optimizer_epoch``, or with threads
    ``hogwild_optimizer_epoch`` (small batches) / ``sync_optimizer_epoch`` (batches of
    at least ``SYNC_MIN_BATCH``: each batch's gradient computed by the threads)."""

    def __init__(self, rows, y, sw, coef, intercept, cfg, *, par, n_threads, state,
                 **common):
        super().__init__(rows, y, sw, cfg, **common)
        d, n_train = rows.n_features, self.n_train
        self.ws = np.empty(d + 1)
        self.ws[:-1] = coef
        self.ws[-1] = intercept
        self.state = new_state(cfg, d) if state is None else {
            k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
        batch = n_train if cfg.batch_size == "full" else min(int(cfg.batch_size), n_train)
        batch = max(batch, 1)
        n_slots = self.state["state"].shape[0]
        if par is None:
            self.kernel = rows.kern.optimizer_epoch
            self.scratch = (np.zeros(d + 1), np.zeros(d, np.uint8), np.zeros(d, np.int64))
        elif batch >= SYNC_MIN_BATCH:
            self.kernel = par.sync_optimizer_epoch
            self.scratch = (np.zeros((n_threads, d + 1 + PAD)),
                            np.zeros((n_threads + 1, d), np.uint8),
                            np.zeros((n_threads + 1, d), np.int64),
                            np.zeros((n_threads, PAD)))
        else:
            self.kernel = par.hogwild_optimizer_epoch
            n_threads = min(n_threads, -(-n_train // batch))
            # the rule sweeps clear mark[j] of every coordinate they step, dense included
            self.scratch = (np.zeros((n_threads, d + 1 + PAD)),
                            np.zeros((n_threads, d), np.uint8),
                            np.zeros((n_threads, d), np.int64),
                            np.zeros((n_threads, 1 + n_slots, PAD)))
        self.guard = par.guard if par is not None else None
        self.ip, self.fp = cfg.records(rows.dense_d, t=self.t0, u=self.state["u"],
                                       batch_size=batch, n_threads=n_threads)

    def model(self):
        return self.ws[:-1], self.ws[-1]

    def epoch(self, epoch, record):
        r, st = self.rows, self.state
        args = (r.data, r.indices, r.indptr, self.y, self.sw, self.next_order(epoch), self.ws,
                st["state"], st["q"], self.ip, self.fp, *self.scratch)
        if self.guard is not None:
            with self.guard():
                loss_sum = self.kernel(*args)
        else:
            loss_sum = self.kernel(*args)
        st["u"] = self.fp[FP_U]
        objective = loss_sum / self.n_train + penalty_value(self.cfg, self.ws[:-1])
        record(epoch, objective)
        if self.cfg.rule != Rule.SGD:
            check_state(epoch, st["state"])
        return objective

    def finish(self, epoch, record, loss_curve):
        check_objective(epoch, loss_curve[-1], self.reference, self.exact)
        return Result(self.ws[:-1].copy(), self.ws[-1], epoch, self.fp[FP_T], loss_curve,
                      self.scores, state=self.state)


def fit_binary(rows, y, sw, coef, intercept, cfg, *, t, rng, train_idx, score_cb=None,
               avg_coef=None, avg_intercept=0.0, state=None, intercept_decay=1.0,
               callback=None, shuffle_seed=None, stop=None):
    """Run epochs of one binary (or regression) problem until the stopping rule says so.

    ``y`` is float64 (+-1 for classification), ``sw`` float64 sample*class weights,
    ``coef`` float64 and left untouched (a copy is fitted). ``train_idx`` are the samples
    that are learned from (the others are the validation set). The sample order is
    ``_SGDRun``'s; ``stop`` is ``run_epochs``'s. Returns a ``Result``.
    """
    n_threads = min(cfg.n_jobs, max(train_idx.shape[0], 1))
    par = _parallel_kernels(rows, n_threads)
    common = dict(t=t, rng=rng, train_idx=train_idx, score_cb=score_cb,
                  shuffle_seed=shuffle_seed)
    if cfg.plain:
        # scikit-learn's running objective (a loss evaluation per sample) only feeds the
        # stopping rule and verbose output; without them the plain path skips it
        track = bool(cfg.verbose or callback is not None
                     or (cfg.tol > -np.inf and not cfg.early_stopping))
        run = _PlainRun(rows, y, sw, coef, intercept, cfg, par=par, n_threads=n_threads,
                        avg_coef=avg_coef, avg_intercept=avg_intercept,
                        intercept_decay=intercept_decay, track=track, **common)
    else:
        run = _OptimizerRun(rows, y, sw, coef, intercept, cfg, par=par,
                            n_threads=n_threads, state=state, **common)
    return run_epochs(run, cfg, stop=stop, callback=callback)

"""Python driver of the variance-reduced solvers (SPEC section 4): SAG, SAGA, SVRG.

The kernels (``fastgd.kernels._nb_vr``, or ``_cy_vr`` of the Cython build when
``rows.kern`` is the Cython backend's) run one epoch per call; here live the sample order (made from
``rng``), the default step size, the stopping rule, the objective curve
and the divergence check. The objective is SPEC section 1,

    F(w, b) = (1/n) Σ s_i L(y_i, x_i·w + b) + α((1 - l1_ratio)/2 ||w||² + l1_ratio ||w||₁)

over the ``n`` training samples.

Step size when ``eta0='auto'`` (scikit-learn's ``get_auto_step_size`` extended to the
other Lipschitz losses and to sample weights):

    L = (max_i ||x_i||² + fit_intercept) · c_loss · max_i s_i + α (1 - l1_ratio)
    c_loss = 1/4 (log_loss), 1 (squared_error, huber), 2 (modified_huber, squared_hinge)
    SAG : η = 1 / L
    SAGA: η = 1 / (2L + min(2 n α(1-l1_ratio), L))     (scikit-learn's choice, ∈ [1/3L, 1/2L])
    SVRG: η = 1 / (4L)   (Xiao & Zhang's Prox-SVRG analysis needs η < 1/(4L); at the
                          edge of it, and stable in practice with m = 2n, option I)

Sample order (Python owns randomness; ``shuffle=False`` visits the samples in order):
SAG draws its n samples per epoch uniformly *with replacement*, as the paper and
scikit-learn do -- with a fresh permutation per epoch SAG at η = 1/L was measured to
oscillate without converging (on a 500 x 30 logistic problem F stalled 40 % above the
optimum), a known weakness of SAG without replacement. SAGA draws a permutation per
epoch; SVRG two permutations per inner loop (m = 2n).

Lipschitz sampling (``sampling='lipschitz'``, SAGA and SVRG): the n (SVRG: 2n)
steps of an epoch are drawn with replacement with p_i = 1/(2n) + L_i / (2 Σ L), L_i the
sample's own constant (``importance``), each step's correction weighted by
r_i = 1/(n p_i) (kernels/_nb_vr.py; ASAGA/AsySVRG also reweight their dense term by
1/P(j in the support) under p, kernels/_nb_async_vr.py), and L above replaced by
L_Q = max_i L_i r_i < 2 mean_i L_i. On rows of uneven norms that step is many times
longer: measured on debian-size (binary, alpha = 1e-4, max L_i = 29 mean L_i) SAGA
reached 1e-6 in 16 epochs, against 6e-4 after 64 uniform ones. ``sampling='auto'`` takes it when max_i L_i >=
AUTO_SAMPLING_RATIO mean_i L_i (the step then grows at least 2x).

An "epoch" (``n_iter``) is n steps for SAG/SAGA and one outer SVRG iteration (a full
gradient at the snapshot, then m = 2n inner steps, option I: the next snapshot is the
last iterate). ``t`` is 1 + the number of stochastic steps taken.

Threads (``n_jobs > 1``, SPEC section 5): 'saga' and 'svrg' run the
lock-free ASAGA / AsySVRG kernels of ``fastgd.kernels._nb_async_vr`` (``_fit_async``;
same epochs, step size, stopping rule and objective curve, not bit-reproducible). 'sag'
stays serial (its 1/m_k weights need a shared count of the samples seen), as does every
solver inside one-vs-rest fits (the classes run in parallel threads instead). The Cython
backend runs ``_cy_async_vr`` (OpenMP), the same source. ``n_jobs=1`` runs the serial kernels.

Stopping: after ``max_iter`` epochs, or as scikit-learn's sag, when
max_j |w_new - w_old| / max_j |w_new| <= tol after an epoch (intercept not included;
while every weight is 0, as under a strong L1 penalty, the intercept alone is tested).
"""

import functools
import hashlib
import math

import numpy as np

from fastgd import _engine
from fastgd._rules import FP_T, IP_M_SEEN, IP_N_THREADS, LOSSES, PAD, Solver

# second-derivative bound of each Lipschitz loss in p, from the table
_LOSS_CURVATURE = {int(spec.id): spec.curvature for spec in LOSSES.values()
                   if spec.lipschitz}


def row_sq_norms(rows, train_idx):
    """||x_i||² of the training rows, in the order of ``train_idx`` (``Rows.sq_norms``:
    one pass over X per fit, whoever asks)."""
    return rows.sq_norms()[train_idx]


def _loss_curvature(cfg):
    if cfg.loss not in _LOSS_CURVATURE:
        raise ValueError("The variance-reduced solvers need a loss with a Lipschitz "
                         "gradient (squared_error, log_loss, modified_huber, "
                         "squared_hinge, huber).")
    return _LOSS_CURVATURE[cfg.loss]


def lipschitz(rows, sw, train_idx, cfg):
    """L of the docstring above: a bound on the smoothness of every s_i L_i + α(1-ρ)/2||w||²."""
    curvature = _loss_curvature(cfg)
    max_sq = float(row_sq_norms(rows, train_idx).max()) if train_idx.shape[0] else 0.0
    max_sw = float(np.max(sw[train_idx])) if train_idx.shape[0] else 1.0
    if max_sw <= 0.0:
        max_sw = 1.0
    lam2 = cfg.alpha * (1.0 - cfg.l1_ratio)
    return (max_sq + int(cfg.fit_intercept)) * curvature * max_sw + lam2


def importance(rows, sw, train_idx, cfg):
    """Lipschitz sampling of SAGA and SVRG: (p, L_Q, max_i L_i / mean_i L_i) over the
    training samples.

    Each sample's own constant L_i = (||x_i||² + fit_intercept) c_loss s_i + α(1-ρ), and
    half-uniform, half-proportional probabilities (Schmidt, Le Roux & Bach 2017, section
    5.5: every sample keeps p_i >= 1/2n, so its stored gradient is not left stale)

        p_i = 1/(2n) + L_i / (2 Σ_j L_j),    L_Q = max_i L_i / (n p_i) < 2 mean_i L_i,

    L_Q being the smoothness constant of the reweighted steps r_i ∇f_i, r_i = 1/(n p_i)
    (Xiao & Zhang 2014, section 3): the step rules of ``auto_step`` take it for L. When
    rows' norms are uneven L_Q is far below L_max, and so the step far longer.
    """
    n = train_idx.shape[0]
    c = _loss_curvature(cfg)
    Li = ((row_sq_norms(rows, train_idx) + int(cfg.fit_intercept)) * c * sw[train_idx]
          + cfg.alpha * (1.0 - cfg.l1_ratio))
    total = float(Li.sum())
    if total <= 0.0:  # no curvature anywhere: uniform, and any step is exact
        return np.full(n, 1.0 / n), 0.0, 1.0
    p = 0.5 / n + 0.5 * Li / total
    return p, float(np.max(Li / (n * p))), float(Li.max() * n / total)


#: sampling='auto' draws by the Lipschitz constants once max_i L_i >= this x mean_i L_i
#: (the step then grows at least 2x: L_max / L_Q >= (1 + ratio) / 2)
AUTO_SAMPLING_RATIO = 3.0


def step_of(solver, L, n, lam2):
    """The default step of ``solver`` for smoothness L (see the module docstring)."""
    if L == 0.0:  # X = 0, no intercept, no L2: the gradient is 0, any step is exact
        return 1.0
    if solver == "sag":
        return 1.0 / L
    if solver == "saga":
        return 1.0 / (2.0 * L + min(2.0 * n * lam2, L))
    return 1.0 / (4.0 * L)


def auto_step(rows, sw, train_idx, cfg, solver=None):
    """Default step size of ``solver`` under uniform sampling (module docstring)."""
    solver = cfg.solver if solver is None else solver
    return step_of(solver, lipschitz(rows, sw, train_idx, cfg), train_idx.shape[0],
                   cfg.alpha * (1.0 - cfg.l1_ratio))


def _fingerprint(rows, y, sw, train_idx):
    """A digest (BLAKE2b) of everything the gradient memory depends on: X's arrays, y,
    the weights and the training rows. SAG/SAGA's memory is reused by a later call
    (``partial_fit``) only on the very same data; any other data starts from zero."""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.array([rows.n_samples, rows.n_features, rows.dense_d], np.int64))
    for a in (rows.data, rows.indices, rows.indptr, y, sw, train_idx):
        h.update(str(a.dtype).encode())
        h.update(np.ascontiguousarray(a).view(np.uint8))
    return h.hexdigest()


def _order(solver, cfg, rng, train_idx, cdf=None):
    """The sample order of one epoch (module docstring); draws from ``rng``. With
    ``cdf`` (the cumulative sampling probabilities of Lipschitz sampling) SAGA's n and
    SVRG's 2n steps are drawn with replacement from them."""
    if cdf is not None:
        m = train_idx.shape[0] * (2 if solver == "svrg" else 1)
        pos = np.searchsorted(cdf, rng.random_sample(m) * cdf[-1], side="right")
        return train_idx[np.minimum(pos, train_idx.shape[0] - 1)]
    if solver == "svrg":
        if cfg.shuffle:
            return np.concatenate([rng.permutation(train_idx),
                                   rng.permutation(train_idx)])
        return np.concatenate([train_idx, train_idx])
    if not cfg.shuffle:
        return train_idx
    if solver == "sag":  # with replacement, as the paper and scikit-learn
        return train_idx[rng.randint(0, train_idx.shape[0], size=train_idx.shape[0])]
    return rng.permutation(train_idx)


def _async_kernels(rows, n_jobs, solver):
    """The lock-free SAGA/SVRG kernels of this fit's backend (``_nb_async_vr`` /
    ``_cy_async_vr``) when it runs threads, else None (``Backend.threaded``).
    Only for ``n_jobs > 1`` and solver 'saga' or 'svrg': SAG stays serial (its step uses
    the count of samples seen so far, a shared counter with no lock-free form).
    """
    if n_jobs <= 1 or solver not in ("saga", "svrg"):
        return None
    return rows.backend.threaded("async_vr")


def _same_data_memory(state, fp, d):
    """Whether ``state`` holds SAG/SAGA gradient memory of this very data (by digest)."""
    return (state is not None and state.get("solver") in ("sag", "saga")
            and state.get("fingerprint") == fp and state["D"].shape[0] == d + 1)


class _VRRun:
    """What the serial and the asynchronous VR runners share: sample order, stopping
    rule, objective records, the result (see ``_engine.run_epochs``)."""

    def __init__(self, rows, y, sw, w, cfg, eta, t, rng, train_idx, reference, p=None):
        self.rows, self.y, self.sw, self.w, self.cfg = rows, y, sw, w, cfg
        self.p = p  # Lipschitz sampling's probabilities of train_idx (None: uniform)
        if p is not None:
            self.cdf = np.cumsum(p)
            self.rw = np.zeros(rows.n_samples)
            self.rw[train_idx] = 1.0 / (train_idx.shape[0] * p)
        self.rng, self.train_idx, self.reference = rng, train_idx, reference
        self.solver = cfg.solver
        self.n = train_idx.shape[0]
        self.d = rows.n_features
        self.eta = eta
        self.ip, self.fp = cfg.records(
            rows.dense_d, solver=int(Solver[self.solver.upper()]), t=t, eta=eta,
            lam2=cfg.alpha * (1.0 - cfg.l1_ratio), lam1=cfg.alpha * cfg.l1_ratio,
            n_train=self.n)
        self.args = (rows.data, rows.indices, rows.indptr, y, sw)
        self.prev = w.copy()

    def model(self):
        return self.w[:self.d], self.w[self.d]

    def objective(self, loss_total):
        """F = loss_total / n + alpha R(w) at the current w."""
        with np.errstate(over="ignore", invalid="ignore"):
            return loss_total / self.n + _engine.penalty_value(self.cfg, self.w[:self.d])

    def loss_sum(self):
        """Σ s_i L_i over the training samples at the current w (one pass)."""
        r, cfg = self.rows, self.cfg
        return r.backend.vr.loss_sum(r.data, r.indices, r.indptr, r.dense_d, self.y,
                                     self.sw, self.train_idx, self.w, cfg.loss, cfg.param)

    def progress(self, loss_curve):
        return ((f" ({self.solver}{self.threads}): ")
                + (f"objective {loss_curve[-1]:.10g}, " if loss_curve else "")
                + f"t {self.fp[FP_T]:.0f}")

    threads = ""
    cdf = None  # Lipschitz sampling: the cumulative probabilities (``_order``)
    rw = np.empty(0)  # and the importance weights r_i = 1/(n p_i) (empty: uniform)

    def converged(self, objective):
        return _converged(self.cfg, self.prev, self.w, self.d)

    def finish(self, epoch, record, loss_curve):
        if self.solver == "svrg":  # F at the last iterate (the next snapshot's)
            record(epoch, self.objective(self.loss_sum()))
        _engine.check_objective(epoch, loss_curve[-1], self.reference)
        return _engine.Result(self.w[:self.d].copy(), float(self.w[self.d]), epoch,
                              self.fp[FP_T], loss_curve, state=self.new_state())


class _SerialVRRun(_VRRun):
    """SAG, SAGA, SVRG with just-in-time sparse updates (``vr_epoch``)."""

    def __init__(self, *args, state, fingerprint):
        super().__init__(*args)
        d, n_samples = self.d, self.rows.n_samples
        self.fingerprint = fingerprint
        self.D = np.zeros(d + 1)
        self.gmem = np.zeros(n_samples)
        if self.solver == "svrg":
            self.seen = np.zeros(0, np.uint8)
            steps = 2 * self.n
        else:
            self.seen = np.zeros(n_samples, np.uint8)
            if _same_data_memory(state, fingerprint, d):
                self.D[:] = state["D"]
                self.gmem[:] = state["gmem"]
                self.seen[:] = state["seen"]
                self.ip[IP_M_SEEN] = int(state["m_seen"])
            steps = self.n
        self.last = np.zeros(d, np.int64)
        self.work = np.zeros((4, steps + 1))

    def epoch(self, epoch, record):
        r, cfg, kern = self.rows, self.cfg, self.rows.backend.vr
        order = _order(self.solver, cfg, self.rng, self.train_idx, self.cdf)
        if self.solver == "svrg":
            total = kern.svrg_snapshot(r.data, r.indices, r.indptr, r.dense_d, self.y,
                                       self.sw, self.train_idx, self.w, self.D, self.gmem,
                                       cfg.loss, cfg.param)
            if epoch > 1:  # F at the snapshot: the previous epoch's last iterate
                record(epoch - 1, self.objective(total))
        kern.vr_epoch(*self.args, order, self.rw, self.w, self.D, self.gmem, self.seen,
                      self.ip, self.fp, self.last, self.work)
        if self.solver != "svrg" and np.isfinite(self.w).all():
            record(epoch, self.objective(self.loss_sum()))

    def new_state(self):
        if self.solver == "svrg":
            return {"solver": self.solver, "eta": self.eta}
        return {"solver": self.solver, "eta": self.eta, "D": self.D, "gmem": self.gmem,
                "seen": self.seen, "m_seen": int(self.ip[IP_M_SEEN]),
                "fingerprint": self.fingerprint}


def async_replicas(rows, sw, train_idx, cfg, n_threads):
    """``rep`` of ``async_vr_epoch``: per-thread replicas of w and D where copying them is
    cheap (``_engine.hogwild_replicas``: dense X, CSR with few columns) and the rows'
    constants are even, max_i L_i < AUTO_SAMPLING_RATIO mean_i L_i; else (0, 2, 0).

    Each thread then steps its own copies in a round; a column takes the mean of the
    moves of the threads that moved it, D the sum of their increments. The mean halves
    the progress of a column that both threads move. That cost nothing on a9a, covtype
    and ijcnn1 (max/mean 1.01, 1.4, 1.97; SAGA's time to 1e-3 with 2 threads 0.044 ->
    0.020 s, 0.36 -> 0.29 s, 0.037 -> 0.026 s against every column shared) but doubled
    the epochs on w8a (max/mean 9: 0.15 -> 0.20 s), under uniform and Lipschitz sampling
    alike. (The sum of the moves, what lock-free steps give, overshoots with rounds
    this long: covtype's F went from 0.533 to 1.70 in 6 epochs.)"""
    rep = _engine.hogwild_replicas(rows, n_threads)
    if rep.shape[0] > 0 and importance(rows, sw, train_idx, cfg)[2] >= AUTO_SAMPLING_RATIO:
        return np.zeros((0, 2, 0))
    return rep


class _AsyncVRRun(_VRRun):
    """ASAGA / AsySVRG (SPEC section 5) with ``n_jobs`` threads (``async_vr_epoch``).

    The kernels and the step are those of ``fastgd.kernels._nb_async_vr`` (sparse steps
    with the reweighted dense term ``inv_p``; Leblond et al. 2017, Mania et al. 2015);
    the epochs, step size, stopping rule, ``loss_curve``, divergence check and callback
    are those of the serial path. Racy by design: not bit-reproducible.

    - SAGA starts from an empty gradient memory (gmem = 0, D = 0: the first epoch is SAGA
      with zero memory), or from the memory of a previous SAG/SAGA fit on the same data
      (warm start, ``partial_fit``; D = S / n from its sum S). After every epoch D is
      recomputed exactly from gmem (with the loss for the objective), so increments
      lost to races bias it for one epoch at most. The returned state is the serial
      one's (S = n D, every training sample seen): a serial warm start continues it.
      (Serial SAGA weighs by 1/m_k, the samples seen so far, a shared counter; the
      zero-memory start makes the first epochs slower: on debian-size F is 0.8 % above
      the serial one after 10 epochs, 0.55 % after 15, one thread or two alike.)
    - SVRG: each epoch is a parallel snapshot pass (gmem, μ and the objective at the
      snapshot), then m = 2n lock-free inner steps, as the serial solver.
    - A column that no training row stores (inv_p = 0) is never stepped: with a penalty
      its coefficient is set to its optimum 0 at the start.
    - Per-thread replicas of w and D where ``async_replicas`` chooses them.
    """

    def __init__(self, *args, par, state, fingerprint):
        super().__init__(*args)
        r, d, n = self.rows, self.d, self.n
        self.par, self.fingerprint = par, fingerprint
        n_threads = min(self.cfg.n_jobs, n)
        self.ip[IP_N_THREADS] = n_threads
        self.threads = f", {n_threads} threads"
        self.inv_p = np.empty(d)
        par.column_inv_p(r.indices, r.indptr, r.dense_d, self.train_idx,
                         np.empty(0) if self.p is None else self.p, self.inv_p)
        if self.cfg.alpha > 0.0:
            self.w[:d][self.inv_p == 0.0] = 0.0
        self.D = np.zeros(d + 1)
        self.gmem = np.zeros(r.n_samples)
        self.gbuf = np.zeros((n_threads, d + 1 + PAD))
        self.tstate = np.zeros((n_threads, PAD))
        self.rep = async_replicas(r, self.sw, self.train_idx, self.cfg, n_threads)
        if self.solver == "saga" and _same_data_memory(state, fingerprint, d):
            self.gmem[:] = state["gmem"]
            self.D[:] = state["D"] / n  # S = Σ gmem[i] x_i (unseen samples have gmem 0)

    def full_pass(self):
        """SVRG: the snapshot (gmem, μ); SAGA: D exactly from gmem. Returns Σ s_i L_i."""
        with self.par.guard():
            return self.par.full_pass(*self.args, self.train_idx, self.w, self.D,
                                      self.gmem, self.ip, self.fp, self.gbuf, self.tstate)

    def epoch(self, epoch, record):
        order = _order(self.solver, self.cfg, self.rng, self.train_idx, self.cdf)
        if self.solver == "svrg":
            total = self.full_pass()
            if epoch > 1:
                record(epoch - 1, self.objective(total))
        with self.par.guard():
            self.par.async_vr_epoch(*self.args, order, self.rw, self.w, self.D, self.gmem,
                                    self.inv_p, self.ip, self.fp, self.tstate, self.rep)
        if self.solver == "saga" and np.isfinite(self.w).all():
            record(epoch, self.objective(self.full_pass()))

    def new_state(self):
        if self.solver == "svrg":
            return {"solver": self.solver, "eta": self.eta}
        seen = np.zeros(self.rows.n_samples, np.uint8)
        seen[self.train_idx] = 1
        return {"solver": self.solver, "eta": self.eta, "D": self.D * self.n,
                "gmem": self.gmem, "seen": seen, "m_seen": self.n,
                "fingerprint": self.fingerprint}


def _converged(cfg, prev, cur, d):
    """scikit-learn's sag rule on the weights ``cur[..., :d]``: max|cur - prev| / max|cur|
    <= tol; while every weight is 0 (an L1 penalty can hold them there), the same test on
    the intercepts ``cur[..., d]``, so that such a model still fits its intercept.
    ``prev`` becomes ``cur``."""
    new, old = cur[..., :d], prev[..., :d]
    if not (np.any(new) or np.any(old)):
        new, old = cur[..., d:], prev[..., d:]
    max_w = float(np.max(np.abs(new))) if new.size else 0.0
    max_c = float(np.max(np.abs(new - old))) if new.size else 0.0
    prev[:] = cur
    return cfg.tol > -np.inf and ((max_w != 0.0 and max_c / max_w <= cfg.tol)
                                  or (max_w == 0.0 and max_c == 0.0))


def sampling(rows, sw, train_idx, cfg):
    """(p, L_Q) of Lipschitz sampling (``importance``) when this fit draws by it, else
    (None, None): uniform. By ``cfg.sampling``: 'uniform'; 'lipschitz' (SAGA and SVRG,
    shuffled, serial or ASAGA/AsySVRG; a clear error otherwise); 'auto': 'lipschitz'
    where it applies and the rows' constants are uneven, max_i L_i >=
    AUTO_SAMPLING_RATIO mean_i L_i."""
    solver = cfg.solver
    if cfg.sampling == "uniform" or (cfg.sampling == "auto" and (
            solver == "sag" or not cfg.shuffle or cfg.loss not in _LOSS_CURVATURE)):
        return None, None
    if solver == "sag":
        raise ValueError("sampling='lipschitz' is for solver='saga' and 'svrg' (their "
                         "steps reweight by 1/(n p_i)); SAG's average has no such "
                         "weights. Use solver='saga'.")
    if not cfg.shuffle:
        raise ValueError("sampling='lipschitz' draws the samples at random; it needs "
                         "shuffle=True.")
    p, L_Q, ratio = importance(rows, sw, train_idx, cfg)
    if cfg.sampling == "auto" and ratio < AUTO_SAMPLING_RATIO:
        return None, None
    return p, L_Q


def fit_vr(rows, y, sw, coef, intercept, cfg, *, t, rng, train_idx, state=None,
           callback=None, stop=None, keep_memory=True):
    """Fit one binary (or regression) problem with cfg.solver in {'sag','saga','svrg'}.

    ``y`` float64 (±1 for classification), ``sw`` float64 sample*class weights, ``coef``
    and ``intercept`` the start (warm start; left untouched). ``state`` is the dict a
    previous fit returned: SAG/SAGA reuse its gradient memory when it belongs to the same
    training data (same X, targets and weights, by digest), as scikit-learn's
    warm_start_mem; on other data the memory starts from zero. ``keep_memory=False``
    (the caller will not pass the result's state back): without a ``state`` the digest,
    a pass over all of X, is not taken. ``stop`` as in ``_engine.run_epochs``. Returns
    an ``_engine.Result`` whose ``loss_curve`` is F after each epoch.
    """
    solver = cfg.solver
    if solver not in ("sag", "saga", "svrg"):
        raise ValueError(f"fit_vr handles solver in ('sag', 'saga', 'svrg'); got "
                         f"{solver!r}.")
    lam1 = cfg.alpha * cfg.l1_ratio
    lam2 = cfg.alpha * (1.0 - cfg.l1_ratio)
    if solver == "sag" and lam1 > 0.0:
        raise ValueError("solver='sag' does not support an L1 penalty (penalty='l1' or "
                         "'elasticnet' with l1_ratio > 0); use solver='saga' (proximal "
                         "step) or solver='svrg'.")
    train_idx = np.asarray(train_idx, dtype=np.int64)
    n = train_idx.shape[0]
    d = rows.n_features
    if n == 0:
        raise ValueError("No training samples.")
    par = _async_kernels(rows, cfg.n_jobs, solver)
    p, L_Q = sampling(rows, sw, train_idx, cfg)
    if not cfg.eta0_auto:
        eta = float(cfg.eta0)
    elif p is None:
        eta = auto_step(rows, sw, train_idx, cfg)
    else:
        eta = step_of(solver, L_Q, n, lam2)
    if not (eta > 0.0 and math.isfinite(eta)):
        raise ValueError(f"The step size must be positive and finite; got {eta!r}.")
    if eta * lam2 >= 1.0:
        raise ValueError(
            f"eta0 * alpha * (1 - l1_ratio) = {eta * lam2:g} must be < 1 for "
            f"solver={solver!r}; use a smaller eta0 (or eta0='auto').")
    y = np.ascontiguousarray(y, dtype=np.float64)
    sw = np.ascontiguousarray(sw, dtype=np.float64)
    w = np.empty(d + 1)
    w[:d] = coef
    w[d] = float(intercept)
    fingerprint = _fingerprint(rows, y, sw, train_idx) if solver != "svrg" and (
        keep_memory or state is not None) else None
    # F(0, 0), computed only if the final F is absurd (check_objective)
    reference = functools.partial(_engine.zero_model_objective, y, sw, train_idx, cfg,
                                  rows.kern)
    args = (rows, y, sw, w, cfg, eta, t, rng, train_idx, reference, p)
    if par is not None:
        run = _AsyncVRRun(*args, par=par, state=state, fingerprint=fingerprint)
    else:
        run = _SerialVRRun(*args, state=state, fingerprint=fingerprint)
    return _engine.run_epochs(run, cfg, stop=stop, callback=callback)


# ------------------------------------------------------------------------ multinomial
# Second-derivative bound of the softmax cross-entropy in the margins: the largest
# eigenvalue of diag(σ) - σσᵀ is at most 1/2 (scikit-learn's sag takes 1/4, the binary
# bound, for its multinomial too; 1/2 is the safe one).
_SOFTMAX_CURVATURE = 0.5


class _MultinomialRun(_VRRun):
    """SAG, SAGA, SVRG on the softmax cross-entropy (``multinomial_epoch``): W (K, d+1)
    in ``self.w``; the sample order, stopping rule, records and result of ``_VRRun``."""

    def __init__(self, rows, y, sw, w, cfg, eta, rng, train_idx, reference, state,
                 fingerprint):
        super().__init__(rows, y, sw, w, cfg, eta, 1.0, rng, train_idx, reference)
        K, d, n_samples = w.shape[0], self.d, rows.n_samples
        self.kern = rows.backend.multinomial
        self.prev = w.copy()
        self.fingerprint = fingerprint
        self.D = np.zeros((K, d + 1))
        self.gmem = np.zeros((n_samples, K))
        self.buf = np.zeros((2, K))
        self.last = np.zeros(d, np.int64)
        if self.solver == "svrg":
            self.seen = np.zeros(0, np.uint8)
            steps = 2 * self.n
        else:
            self.seen = np.zeros(n_samples, np.uint8)
            if (state is not None and state.get("solver") in ("sag", "saga")
                    and state.get("fingerprint") == fingerprint
                    and state["D"].shape == self.D.shape):
                self.D[:] = state["D"]
                self.gmem[:] = state["gmem"]
                self.seen[:] = state["seen"]
                self.ip[IP_M_SEEN] = int(state["m_seen"])
            steps = self.n
        self.work = np.zeros((4, steps + 1))

    def model(self):
        """(W with its intercept column, 0.0): ``run_epochs`` checks that they are finite
        and hands them to the callback; the intercepts are W[:, d]."""
        return self.w, 0.0

    def objective(self, loss_total):
        """F = loss_total / n + alpha R(W[:, :d]) (R summed over the K rows)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return loss_total / self.n + _engine.penalty_value(
                self.cfg, self.w[:, :self.d].ravel())

    def loss_sum(self):
        r = self.rows
        return self.kern.multinomial_loss_sum(r.data, r.indices, r.indptr, r.dense_d,
                                              self.y, self.sw, self.train_idx, self.w,
                                              self.buf)

    def converged(self, objective):
        return _converged(self.cfg, self.prev, self.w, self.d)

    def epoch(self, epoch, record):
        r = self.rows
        order = _order(self.solver, self.cfg, self.rng, self.train_idx)
        if self.solver == "svrg":
            total = self.kern.multinomial_snapshot(
                r.data, r.indices, r.indptr, r.dense_d, self.y, self.sw, self.train_idx,
                self.w, self.D, self.gmem, self.buf)
            if epoch > 1:
                record(epoch - 1, self.objective(total))
        self.kern.multinomial_epoch(*self.args, order, self.w, self.D, self.gmem,
                                    self.seen, self.ip, self.fp, self.last, self.work,
                                    self.buf)
        if self.solver != "svrg" and np.isfinite(self.w).all():
            record(epoch, self.objective(self.loss_sum()))

    def finish(self, epoch, record, loss_curve):
        if self.solver == "svrg":
            record(epoch, self.objective(self.loss_sum()))
        _engine.check_objective(epoch, loss_curve[-1], self.reference)
        state = {"solver": self.solver, "eta": self.eta}
        if self.solver != "svrg":
            state.update(D=self.D, gmem=self.gmem, seen=self.seen,
                         m_seen=int(self.ip[IP_M_SEEN]), fingerprint=self.fingerprint)
        return _engine.Result(self.w[:, :self.d].copy(), self.w[:, self.d].copy(), epoch,
                              self.fp[FP_T], loss_curve, state=state)


def multinomial_step(rows, sw, train_idx, cfg, solver=None):
    """The default step of ``solver`` on the softmax loss: ``auto_step``'s rules with
    L = (max_i ||x_i||² + fit_intercept) · 1/2 · max_i s_i + α (1 - l1_ratio)."""
    solver = cfg.solver if solver is None else solver
    max_sq = float(row_sq_norms(rows, train_idx).max())
    max_sw = float(np.max(sw[train_idx]))
    lam2 = cfg.alpha * (1.0 - cfg.l1_ratio)
    L = (max_sq + int(cfg.fit_intercept)) * _SOFTMAX_CURVATURE * max_sw + lam2
    return step_of(solver, L, train_idx.shape[0], lam2)


def fit_multinomial(rows, y, sw, coef, intercept, cfg, *, rng, train_idx, state=None,
                    callback=None, stop=None, keep_memory=True):
    """Fit the K-class softmax problem with cfg.solver in {'sag', 'saga', 'svrg'}.

    SPEC section 1 with the cross-entropy L_i = log Σ_c exp(p_ic) - p_{i,y_i} (``y``:
    int64 class indices 0..K-1) and ``alpha R(W)`` summed over the K rows of W; ``coef``
    (K, d) and ``intercept`` (K,) the start (left untouched); ``state`` a previous
    result's (SAG/SAGA memory reused on the very same data, as ``fit_vr``, and
    ``keep_memory`` as there). Serial
    (``n_jobs`` is not used). Returns an ``_engine.Result`` with ``coef`` (K, d) and
    ``intercept`` (K,); the intercepts are centred (mean 0: the softmax does not change,
    and they are defined only up to a common shift, the intercept being unpenalised).
    """
    solver = cfg.solver
    if solver not in ("sag", "saga", "svrg"):
        raise ValueError(f"fit_multinomial handles solver in ('sag', 'saga', 'svrg'); "
                         f"got {solver!r}.")
    if solver == "sag" and cfg.alpha * cfg.l1_ratio > 0.0:
        raise ValueError("solver='sag' does not support an L1 penalty; use 'saga' or "
                         "'svrg'.")
    if cfg.sampling == "lipschitz":
        raise ValueError("sampling='lipschitz' is implemented for binary and regression "
                         "problems; the multinomial solvers sample uniformly (use "
                         "sampling='auto' or 'uniform').")
    train_idx = np.asarray(train_idx, dtype=np.int64)
    if train_idx.shape[0] == 0:
        raise ValueError("No training samples.")
    coef = np.asarray(coef, dtype=np.float64)
    K, d = coef.shape
    y = np.ascontiguousarray(y, dtype=np.int64)
    sw = np.ascontiguousarray(sw, dtype=np.float64)
    eta = multinomial_step(rows, sw, train_idx, cfg) if cfg.eta0_auto else float(cfg.eta0)
    if eta * cfg.alpha * (1.0 - cfg.l1_ratio) >= 1.0:
        raise ValueError(f"eta0 * alpha * (1 - l1_ratio) must be < 1 for solver="
                         f"{solver!r}; use a smaller eta0 (or eta0='auto').")
    w = np.empty((K, d + 1))
    w[:, :d] = coef
    w[:, d] = intercept
    fingerprint = (_fingerprint(rows, y.astype(np.float64), sw, train_idx)
                   if solver != "svrg" and (keep_memory or state is not None) else None)
    reference = float(sw[train_idx].sum()) * math.log(K) / train_idx.shape[0]
    run = _MultinomialRun(rows, y, sw, w, cfg, eta, rng, train_idx, reference, state,
                          fingerprint)
    result = _engine.run_epochs(run, cfg, stop=stop, callback=callback)
    if cfg.fit_intercept:
        result.intercept -= result.intercept.mean()
    return result

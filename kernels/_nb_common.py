"""What every kernel family shares: losses, row access, prefetch, schedules, the rules.

One source, two compilers. Each kernel family is one Python file in the subset Numba
compiles: this one (the shared helpers) and ``_nb_sgd.py``, ``_nb_vr.py``,
``_nb_async_vr.py``, ``_nb_parallel.py``.

- Numba: ``fastgd.kernels._nb_<family>`` is that file, imported as it is; its functions
  are jitted at import by the ``njit`` decorators (``cache=True``, ``nogil=True``, no
  ``fastmath``) and it imports the helpers below from this module.
- Cython: setup.py compiles the *same* text, in Cython's pure-Python mode, as the
  extension ``fastgd.kernels._cy_<family>``. It writes ``build/cython/_cy_<family>.py``
  = this file followed by the family's file (Cython cannot inline a function across
  extension modules, so each extension carries the helpers, as the old ``include`` of
  ``.pxi`` files did), and ``build/cython/_cy_<family>.pxd`` = ``_nb_common.pxd``
  followed by ``_nb_<family>.pxd``: the augmenting declarations (C types of arguments
  and locals, the fused float32/float64 type ``floating`` of ``data``, ``inline``,
  ``noexcept nogil``, the ids from ``_ids.pxi``, the C ``prefetch``). A different module
  name is needed because an extension built in place beside ``_nb_<family>.py`` under
  the same name would shadow it.

The header below is the only place where the two differ: ``cython.compiled`` is a
compile-time constant for Cython, which drops the branch it does not take (so the
Cython extensions never import Numba, and the Numba modules never need Cython: the
``cython`` stand-in of ``_nb_shim`` is used when it is not installed). Under Numba the
ids are imported from ``fastgd._rules`` (frozen into the compiled code as constants);
under Cython they are the enums of ``_ids.pxi``, generated from the same table. Math comes from ``math`` (Numba) or ``libc.math`` (Cython) and is the same
libm call; ``x ** y`` is ``pow`` on both (Cython's ``cpow``); integer division and
division by zero follow C on both (``cdivision``; Numba's ``error_model="numpy"``).

Scalars reach the epoch kernels in two records, ``ip`` (int64) and ``fp`` (float64),
whose slots (``IP_*``, ``FP_*``, ``HP_*``, ``SCHED_*``) are one table in
``fastgd/_rules.py``; the kernels advance the step counter ``fp[FP_T]`` and the L1 clock
``fp[FP_U]`` in place. The step of solver='sgd' is written once: ``_opt_run`` (any
rule, batches) and ``_plain_run`` (scikit-learn's plain SGD) run a serial epoch and a
Hogwild! thread's round alike; the synchronous kernel shares their two halves,
``_batch_gradient`` and ``_update``.

Kernels are entered from Python through an entry per kernel: under Cython a ``cpdef``
that releases the GIL (``with cython.nogil:``) around the ``cdef ... nogil`` body
``_<name>``; under Numba the jitted body itself (see ``_nb_shim.njit``). The rules that
keep the text compilable by both: no allocation in a compiled body (the Python-level
entry allocates), no runtime-step ``range`` (a ``while`` loop), no ``with`` in a
compiled body, ``prange`` without schedule options, and every local of a body a C type
(``infer_types``; the annotated ``cython -a`` output shows any Python object left).
"""

try:
    import cython
except ImportError:  # the Numba backend runs without Cython (a build requirement only)
    from fastgd.kernels._nb_shim import cython

from fastgd import _rules as _table

if not cython.compiled:  # Numba (or plain Python); the Cython build gets these from .pxd
    from math import cos, exp, floor, log, log1p, pow, sqrt

    from fastgd._rules import (FP_ALPHA, FP_CLIP_NORM, FP_CLIP_VALUE, FP_INTERCEPT_DECAY,
                               FP_L1_RATIO, FP_NOISE, FP_NOISE_DECAY, FP_PARAM, FP_T,
                               IP_NOISE_SEED,
                               HP_BETA_1, HP_BETA_2, HP_EPS, HP_MOMENTUM, HP_RHO,
                               IP_AVERAGE, IP_BATCH_SIZE, IP_DENSE_D, IP_FIT_INTERCEPT,
                               IP_LAZY, IP_LOSS, IP_PENALTY, IP_RULE, IP_SCHEDULE,
                               IP_TRACK, LOSS_EPSILON_INSENSITIVE, LOSS_HINGE, LOSS_HUBER,
                               LOSS_LOG_LOSS, LOSS_MODIFIED_HUBER, LOSS_SQUARED_ERROR,
                               LOSS_SQUARED_HINGE, PENALTY_ELASTICNET, PENALTY_L1,
                               PENALTY_L2, PENALTY_NONE, RULE_ADADELTA, RULE_ADAGRAD,
                               RULE_ADAM, RULE_ADAMAX, RULE_ADAMW, RULE_AMSGRAD,
                               RULE_MOMENTUM, RULE_NADAM, RULE_NAG, RULE_RMSPROP, RULE_SGD,
                               SCHED_ALPHA, SCHED_ETA, SCHED_ETA0, SCHED_P0, SCHED_P1,
                               SCHED_P2, SCHED_P3, SCHED_P4, SCHED_POWER_T, SCHED_T0,
                               SCHED_WARMUP, SCHEDULE_ADAPTIVE, SCHEDULE_COSINE_ANNEALING,
                               SCHEDULE_CYCLIC, SCHEDULE_EXPONENTIAL_DECAY,
                               SCHEDULE_INVSCALING, SCHEDULE_OPTIMAL,
                               SCHEDULE_STEP_DECAY, SCHEDULE_WARM_RESTARTS)
    from fastgd.kernels._nb_shim import _set_team, _to_index, _u  # noqa: F401
    from fastgd.kernels._nb_shim import njit, prefetch
else:  # Cython: compiled ahead of time, the decorators do nothing
    from contextlib import contextmanager

    def _as_is(f):
        return f

    def njit(entry=None, **options):
        return _as_is

    #: Whether this extension was compiled with OpenMP; without it prange runs serially.
    OPENMP = bool(FASTGD_OPENMP)  # noqa: F821  (a C macro, see _nb_common.pxd)

    @contextmanager
    def guard():
        """Nothing to serialise: OpenMP teams of concurrent calls do not interfere."""
        yield

    def threading_layer_in_use():
        """'openmp' when built with OpenMP, else None (the kernels then run serially)."""
        return "openmp" if OPENMP else None

# The tuning constants, from the table (fastgd/_rules.py); the _-prefixed names are C
# constants inside the compiled bodies, the public ones are for Python
MAX_DLOSS = _table.MAX_DLOSS
_WSCALE_MIN = _table.WSCALE_MIN
PREFETCH_ROWS = _table.PREFETCH_ROWS
PREFETCH_W = _table.PREFETCH_W
PREFETCH_W_MIN = _table.PREFETCH_W_MIN
ROUND_STEPS = _table.ROUND_STEPS  # n_jobs > 1 kernels (_nb_parallel, _nb_async_vr)
SHRINK_KEEP = _table.SHRINK_KEEP
SYNC_MIN_BATCH = _table.SYNC_MIN_BATCH
PAD = _table.PAD
_ROUND_STEPS = ROUND_STEPS
_SHRINK_KEEP = SHRINK_KEEP
_PI = 3.141592653589793  # math.pi

# C division semantics on both backends (Numba: error_model="numpy"; Cython: cdivision)
_jit = njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
_inline = njit(cache=True, nogil=True, inline="always", error_model="numpy",
               _nrt=False)


# --------------------------------------------------------------------------- losses
@_inline
def _log1pexp(x):
    if x <= -37.0:
        return exp(x)
    elif x <= -2.0:
        return log1p(exp(x))
    elif x <= 18.0:
        return log(1.0 + exp(x))
    elif x <= 33.3:
        return x + exp(-x)
    return x


@_jit
def _loss_value(loss, y, p, param):
    """L(y, p); y is in {-1, +1} for classification losses (as in scikit-learn)."""
    if loss == LOSS_SQUARED_ERROR:
        return 0.5 * (p - y) * (p - y)
    elif loss == LOSS_LOG_LOSS:
        y01 = 0.5 * (y + 1.0)
        return _log1pexp(p) - y01 * p
    elif loss == LOSS_HINGE:
        z = p * y
        return param - z if z <= param else 0.0
    elif loss == LOSS_SQUARED_HINGE:
        z = param - p * y
        return z * z if z > 0.0 else 0.0
    elif loss == LOSS_MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        elif z >= -1.0:
            return (1.0 - z) * (1.0 - z)
        return -4.0 * z
    elif loss == LOSS_HUBER:
        r = abs(y - p)
        return 0.5 * r * r if r <= param else param * (r - 0.5 * param)
    elif loss == LOSS_EPSILON_INSENSITIVE:
        r = abs(y - p) - param
        return r if r > 0.0 else 0.0
    else:  # squared epsilon-insensitive
        r = abs(y - p) - param
        return r * r if r > 0.0 else 0.0


@_jit
def _loss_dloss(loss, y, p, param):
    """dL/dp, exactly as scikit-learn's SGD loss classes compute it (not yet clipped)."""
    if loss == LOSS_SQUARED_ERROR:
        return p - y
    elif loss == LOSS_LOG_LOSS:
        y01 = 0.5 * (y + 1.0)
        if p > -37.0:
            e = exp(-p)
            return ((1.0 - y01) - y01 * e) / (1.0 + e)
        return exp(p) - y01
    elif loss == LOSS_HINGE:
        return -y if p * y <= param else 0.0
    elif loss == LOSS_SQUARED_HINGE:
        z = param - p * y
        return -2.0 * y * z if z > 0.0 else 0.0
    elif loss == LOSS_MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        elif z >= -1.0:
            return 2.0 * (1.0 - z) * -y
        return -4.0 * y
    elif loss == LOSS_HUBER:
        r = p - y
        if abs(r) <= param:
            return r
        return param if r >= 0.0 else -param
    elif loss == LOSS_EPSILON_INSENSITIVE:
        if y - p > param:
            return -1.0
        elif p - y > param:
            return 1.0
        return 0.0
    else:
        z = y - p
        if z > param:
            return -2.0 * (z - param)
        elif z < -param:
            return 2.0 * (-z - param)
        return 0.0


@_inline
def _loss_and_dloss(loss, y, p, param):
    """(L(y, p), dL/dp) at once: log_loss shares one exp between them (equal to
    _loss_value and _loss_dloss to round-off); the other losses call those two."""
    if loss == LOSS_LOG_LOSS:
        y01 = 0.5 * (y + 1.0)
        if p >= 0.0:
            e = exp(-p)
            return p + log1p(e) - y01 * p, 1.0 / (1.0 + e) - y01
        e = exp(p)
        return log1p(e) - y01 * p, e / (1.0 + e) - y01
    return _loss_value(loss, y, p, param), _loss_dloss(loss, y, p, param)


@_inline
def _clip_dloss(d):
    if d < -MAX_DLOSS:
        return -MAX_DLOSS
    if d > MAX_DLOSS:
        return MAX_DLOSS
    return d


@_inline
def _soft(x, th):
    """Soft-threshold: sign(x) max(|x| - th, 0) (the L1 prox)."""
    if x > th:
        return x - th
    if x < -th:
        return x + th
    return 0.0


# ----------------------------------------------------------------------- row access
@_inline
def _row(indptr, dense_d, i):
    """(start, end) of row i in ``data``: dense X is its flat C-ordered view."""
    if dense_d > 0:
        return i * dense_d, (i + 1) * dense_d
    return indptr[i], indptr[i + 1]


@_inline
def _col(indices, dense_d, start, k):
    if dense_d > 0:
        return k - start
    return indices[k]


@_inline
def _row_dot(data, indices, dense_d, start, end, w):
    """x_i . w over the stored entries of row i (the dense/CSR branch taken once per row)."""
    p = 0.0
    if dense_d > 0:
        for k in range(start, end):
            p += w[_u(k - start)] * data[_u(k)]
    else:
        for k in range(start, end):
            p += w[_u(indices[_u(k)])] * data[_u(k)]
    return p


@_inline
def _row_dot_norms(data, indices, dense_d, start, end, w):
    """(x_i . w, ||x_i||^2, sum_j w_j^2 over row i's entries) in one pass; the first sum
    is _row_dot's, to the bit."""
    p = 0.0
    xx = 0.0
    ww = 0.0
    if dense_d > 0:
        for k in range(start, end):
            x = data[_u(k)]
            wj = w[_u(k - start)]
            p += wj * x
            xx += x * x
            ww += wj * wj
    else:
        for k in range(start, end):
            x = data[_u(k)]
            wj = w[_u(indices[_u(k)])]
            p += wj * x
            xx += x * x
            ww += wj * wj
    return p, xx, ww


@_inline
def _row_axpy(data, indices, dense_d, start, end, c, v):
    """v += c x_i over the stored entries of row i."""
    if dense_d > 0:
        for k in range(start, end):
            v[_u(k - start)] += c * data[_u(k)]
    else:
        for k in range(start, end):
            v[_u(indices[_u(k)])] += c * data[_u(k)]


@_inline
def _row_add_norms(data, indices, dense_d, start, end, cw, w):
    """w += cw x_i; return (sum w_j^2, sum |w_j|) over the row's columns (WeightVector.add)."""
    l2acc = 0.0
    l1acc = 0.0
    if dense_d > 0:
        for k in range(start, end):
            j = _u(k - start)
            w[j] += data[_u(k)] * cw
            l2acc += w[j] * w[j]
            l1acc += abs(w[j])
    else:
        for k in range(start, end):
            j = _u(indices[_u(k)])
            w[j] += data[_u(k)] * cw
            l2acc += w[j] * w[j]
            l1acc += abs(w[j])
    return l2acc, l1acc


@_inline
def _movers(rep, s, j, K, ref):
    """(sum of rep[k, s, j] - ref over the threads k whose replica moved column j, their
    count): what the Hogwild! merges of per-thread replicas take the mean of."""
    dv = 0.0
    m = 0
    for k in range(K):
        if rep[k, s, j] != ref:
            dv += rep[k, s, j] - ref
            m += 1
    return dv, m


@_inline
def _l1_clip(w, q, j, u, wscale):
    """scikit-learn's cumulative L1 penalty (Tsuruoka et al. 2009) on coordinate j."""
    z = w[j]
    if wscale * z > 0.0:
        v = w[j] - (u + q[j]) / wscale
        w[j] = v if v > 0.0 else 0.0  # max(0.0, v), as Python computes it
    elif wscale * z < 0.0:
        v = w[j] + (u - q[j]) / wscale
        w[j] = v if v < 0.0 else 0.0  # min(0.0, v)
    q[j] += wscale * (w[j] - z)


@_inline
def _prefetch_row(data, indices, indptr, dense_d, y, sw, order, ii, w):
    """Ask for the cache lines that the steps ``PREFETCH_ROWS`` / ``PREFETCH_W`` ahead read.

    Three stages (see _nb_shim): the row pointers of order[ii + 2 PREFETCH_ROWS] (CSR);
    the row of order[ii + PREFETCH_ROWS] (every line of its values, and of its indices
    for CSR: found through those pointers, now cached) with its label and weight; then,
    once those indices have arrived, the coefficients of order[ii + PREFETCH_W] (CSR:
    scattered over w). Changes no result.
    """
    m = order.shape[0]
    nxt = ii + 2 * PREFETCH_ROWS
    if dense_d == 0 and nxt < m:
        r = order[nxt]
        prefetch(indptr, r)
        prefetch(indptr, r + 1)
    nxt = ii + PREFETCH_ROWS
    if nxt < m:
        r = order[nxt]
        prefetch(y, r)
        prefetch(sw, r)
        start, end = _row(indptr, dense_d, r)
        if end > start:
            for k in range(start, end, 8):
                prefetch(data, k)
            prefetch(data, end - 1)
            if dense_d == 0:
                for k in range(start, end, 16):
                    prefetch(indices, k)
                prefetch(indices, end - 1)
    nxt = ii + PREFETCH_W
    if dense_d == 0 and nxt < m and w.shape[0] >= PREFETCH_W_MIN:
        r = order[nxt]
        for k in range(indptr[r], indptr[r + 1]):
            prefetch(w, indices[k])


@_inline
def _cosine(start, end, x):
    """From ``start`` (x = 0) to ``end`` (x = 1) along a half cosine."""
    return end + (start - end) * 0.5 * (1.0 + cos(_PI * x))


@_jit
def _scheduled(schedule, fp, t):
    """eta_t of a fastgd.schedules schedule (its docstrings; k = t - 1 steps done)."""
    k = t - 1.0
    p0 = fp[SCHED_P0]
    p1 = fp[SCHED_P1]
    p2 = fp[SCHED_P2]
    p3 = fp[SCHED_P3]
    if schedule == SCHEDULE_STEP_DECAY:
        return p0 * pow(p2, floor(k / p1))
    elif schedule == SCHEDULE_EXPONENTIAL_DECAY:
        e = k / p2
        if p3 != 0.0:
            e = floor(e)
        return p0 * pow(p1, e)
    elif schedule == SCHEDULE_COSINE_ANNEALING:
        return _cosine(p0, p2, min(k, p1) / p1)
    elif schedule == SCHEDULE_CYCLIC:
        cycle = floor(1.0 + k / (2.0 * p2))
        x = abs(k / p2 - 2.0 * cycle + 1.0)
        amp = (p1 - p0) * max(0.0, 1.0 - x)
        if p3 == 1.0:
            amp /= pow(2.0, cycle - 1.0)
        elif p3 == 2.0:
            amp *= pow(fp[SCHED_P4], k)
        return p0 + amp
    elif schedule == SCHEDULE_WARM_RESTARTS:
        period = p1
        if p2 == 1.0:
            k -= p1 * floor(k / p1)
        else:
            while k >= period:
                k -= period
                period *= p2
        return _cosine(p0, p3, k / period)
    # one cycle: up from p1 to p0 until step p3, then down to p2 at step p4
    k = min(k, fp[SCHED_P4])
    if k <= p3:
        return _cosine(p1, p0, k / p3)
    return _cosine(p0, p2, (k - p3) / (fp[SCHED_P4] - p3))


@_inline
def _step_size(schedule, fp, t):
    """eta_t of step t from the ``SCHED_*`` slots of the float record ``fp``; with a
    warm-up of W = fp[SCHED_WARMUP] > 0 steps, eta(1) t / W for t <= W, then eta(t - W)."""
    warmup = fp[SCHED_WARMUP]
    scale = 1.0
    if warmup > 0.0:
        if t <= warmup:
            scale = t / warmup
            t = 1.0
        else:
            t -= warmup
    if schedule == SCHEDULE_OPTIMAL:
        eta = 1.0 / (fp[SCHED_ALPHA] * (fp[SCHED_T0] + t - 1.0))
    elif schedule == SCHEDULE_INVSCALING:
        eta = fp[SCHED_ETA0] / pow(t, fp[SCHED_POWER_T])
    elif schedule > SCHEDULE_ADAPTIVE:
        eta = _scheduled(schedule, fp, t)
    else:
        eta = fp[SCHED_ETA]
    return eta * scale


# --------------------------------------------------------------- every update rule
# Each rule's update is one small inline function, the only copy of its formula.
# c1 = 1 - beta1^t, c2 = 1 - beta2^t, c1n = 1 - beta1^(t+1) are computed once per step.
@_inline
def _momentum_step(j, g, w, state, eta, hp):
    v = hp[HP_MOMENTUM] * state[0, j] + eta * g
    state[0, j] = v
    w[j] -= v


@_inline
def _adagrad_step(j, g, w, state, eta, hp):
    G = state[0, j] + g * g
    state[0, j] = G
    w[j] -= eta * g / (sqrt(G) + hp[HP_EPS])


@_inline
def _rmsprop_step(j, g, w, state, eta, hp):
    rho = hp[HP_RHO]
    E = rho * state[0, j] + (1.0 - rho) * g * g
    state[0, j] = E
    w[j] -= eta * g / (sqrt(E) + hp[HP_EPS])


@_inline
def _adadelta_step(j, g, w, state, eta, hp):
    rho = hp[HP_RHO]
    eps = hp[HP_EPS]
    E = rho * state[0, j] + (1.0 - rho) * g * g
    state[0, j] = E
    delta = -sqrt(state[1, j] + eps) / sqrt(E + eps) * g
    state[1, j] = rho * state[1, j] + (1.0 - rho) * delta * delta
    w[j] += eta * delta


@_inline
def _first_moment(j, g, state, hp):
    b1 = hp[HP_BETA_1]
    m = b1 * state[0, j] + (1.0 - b1) * g
    state[0, j] = m
    return m


@_inline
def _second_moment(j, g, state, hp):
    b2 = hp[HP_BETA_2]
    v = b2 * state[1, j] + (1.0 - b2) * g * g
    state[1, j] = v
    return v


@_inline
def _adam_step(j, g, w, state, eta, hp, c1, c2):
    m = _first_moment(j, g, state, hp)
    v = _second_moment(j, g, state, hp)
    w[j] -= eta * (m / c1) / (sqrt(v / c2) + hp[HP_EPS])


@_inline
def _adamax_step(j, g, w, state, eta, hp, c1):
    m = _first_moment(j, g, state, hp)
    u = hp[HP_BETA_2] * state[1, j]
    ag = abs(g)
    if ag > u:
        u = ag
    state[1, j] = u
    w[j] -= eta / c1 * m / (u + hp[HP_EPS])


@_inline
def _nadam_step(j, g, w, state, eta, hp, c1, c2, c1n):
    b1 = hp[HP_BETA_1]
    m = _first_moment(j, g, state, hp)
    v = _second_moment(j, g, state, hp)
    mbar = (1.0 - b1) * (g / c1) + b1 * (m / c1n)
    w[j] -= eta * mbar / (sqrt(v / c2) + hp[HP_EPS])


@_inline
def _amsgrad_step(j, g, w, state, eta, hp, c1, c2):
    m = _first_moment(j, g, state, hp)
    v = _second_moment(j, g, state, hp)
    vmax = state[2, j]
    if v > vmax:
        vmax = v
    state[2, j] = vmax
    w[j] -= eta * (m / c1) / (sqrt(vmax / c2) + hp[HP_EPS])


@_inline
def _apply_rule(rule, j, g, w, state, eta, hp, c1, c2, c1n):
    """One coordinate of SPEC section 2: update w[j] and state[:, j] from gradient g."""
    if rule == RULE_SGD:
        w[j] -= eta * g
    elif rule == RULE_MOMENTUM or rule == RULE_NAG:
        _momentum_step(j, g, w, state, eta, hp)
    elif rule == RULE_ADAGRAD:
        _adagrad_step(j, g, w, state, eta, hp)
    elif rule == RULE_RMSPROP:
        _rmsprop_step(j, g, w, state, eta, hp)
    elif rule == RULE_ADADELTA:
        _adadelta_step(j, g, w, state, eta, hp)
    elif rule == RULE_ADAMAX:
        _adamax_step(j, g, w, state, eta, hp, c1)
    elif rule == RULE_NADAM:
        _nadam_step(j, g, w, state, eta, hp, c1, c2, c1n)
    elif rule == RULE_AMSGRAD:
        _amsgrad_step(j, g, w, state, eta, hp, c1, c2)
    else:  # adam, adamw (the decay is applied by the caller)
        _adam_step(j, g, w, state, eta, hp, c1, c2)


@_inline
def _coordinate(rule, j, gl, a2, w, state, eta, hp, c1, c2, c1n):
    """Add the L2 term to the loss gradient ``gl`` as the rule wants it, then step."""
    if rule == RULE_NAG:
        g = gl + a2 * (w[j] - hp[HP_MOMENTUM] * state[0, j])
    elif rule == RULE_ADAMW:
        w[j] *= 1.0 - eta * a2
        g = gl
    else:
        g = gl + a2 * w[j]
    _apply_rule(rule, j, g, w, state, eta, hp, c1, c2, c1n)


@_inline
def _coord_index(klist, use_list, kk):
    return klist[kk] if use_list else kk


@_inline
def _coord_done(j, gbuf, mark, use_list):
    """Clear the scratch of coordinate j.

    ``mark`` is cleared here for the coordinates of a support list; when every
    coordinate is stepped (``use_list`` false) the caller clears the marks of the support
    it collected (on dense data there is none, and ``mark`` may be empty).
    """
    gbuf[j] = 0.0
    if use_list:
        mark[j] = 0


@_inline
def _sweep(rule, lo, hi, use_list, klist, gbuf, mark, w, state, hp, a2, eta, c1, c2,
           c1n):
    """Step the coordinates klist[lo:hi] (or lo..hi-1) with the loss gradient in gbuf.

    The same arithmetic as _coordinate, with the switch on the rule taken once per step
    instead of once per coordinate (a switch inside the loop costs Numba 2-3x here).
    _update passes ``use_list`` as a constant: with no branch left inside the loops the
    compiler vectorises the dense sweep (Adam on dense a9a: 2.2x faster an epoch).
    """
    if rule == RULE_MOMENTUM:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            _momentum_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, use_list)
    elif rule == RULE_NAG:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            g = gbuf[j] + a2 * (w[j] - hp[HP_MOMENTUM] * state[0, j])
            _momentum_step(j, g, w, state, eta, hp)
            _coord_done(j, gbuf, mark, use_list)
    elif rule == RULE_ADAGRAD:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            _adagrad_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, use_list)
    elif rule == RULE_RMSPROP:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            _rmsprop_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, use_list)
    elif rule == RULE_ADADELTA:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            _adadelta_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, use_list)
    elif rule == RULE_ADAMAX:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            _adamax_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1)
            _coord_done(j, gbuf, mark, use_list)
    elif rule == RULE_NADAM:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            _nadam_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1, c2, c1n)
            _coord_done(j, gbuf, mark, use_list)
    elif rule == RULE_AMSGRAD:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            _amsgrad_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1, c2)
            _coord_done(j, gbuf, mark, use_list)
    elif rule == RULE_ADAMW:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            w[j] *= 1.0 - eta * a2
            _adam_step(j, gbuf[j], w, state, eta, hp, c1, c2)
            _coord_done(j, gbuf, mark, use_list)
    elif rule == RULE_ADAM:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            _adam_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1, c2)
            _coord_done(j, gbuf, mark, use_list)
    else:
        for kk in range(lo, hi):
            j = _coord_index(klist, use_list, kk)
            w[j] -= eta * (gbuf[j] + a2 * w[j])
            _coord_done(j, gbuf, mark, use_list)


@_inline
def _l1_truncate(w, q, j, u, scale):
    """Tsuruoka et al.'s cumulative L1 penalty on coordinate j (w_true = scale * w).

    The clipping is done on the true value scale * w[j]: in optimizer_epoch the scale
    factor of rule 'sgd' on CSR is not clipped at 0 (SPEC section 2 is w <- w - eta g
    exactly, as on dense data), so it is negative once eta * alpha * (1 - l1_ratio) > 1,
    and clipping the stored value would then clip on the wrong side of 0.
    """
    z = scale * w[j]
    if z > 0.0:
        nz = z - (u + q[j])
        if not nz > 0.0:  # max(0.0, nz), as Python computes it
            nz = 0.0
    elif z < 0.0:
        nz = z + (u - q[j])
        if not nz < 0.0:  # min(0.0, nz)
            nz = 0.0
    else:
        return
    if scale == 1.0:
        w[j] = nz
    else:
        w[j] = nz / scale
    q[j] += nz - z


@_inline
def _batch_gradient(data, indices, indptr, dense_d, y, sw, order, lo, hi, nb, w, state,
                    nag, gamma, scale, b_int, loss, param, all_coords, use_list, gbuf,
                    mark, klist, loss_sum):
    """The loss gradient of rows order[lo:hi] of a batch of ``nb`` rows at the point
    (scale w, b_int) (NAG: its look-ahead w - gamma v): gbuf += sum_i c_i x_i with
    c_i = sw_i clip(dL/dp_i) / nb. With ``use_list`` (lazy CSR) the support is appended
    to klist and marked in mark. Returns (loss_sum + sum_i sw_i L_i, sum_i c_i, support
    size), every sum in row order."""
    g_int = 0.0
    nk = 0
    for ii in range(lo, hi):
        _prefetch_row(data, indices, indptr, dense_d, y, sw, order, ii, w)
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        p = 0.0
        if nag:
            for k in range(start, end):
                j = _u(_col(indices, dense_d, start, k))
                p += (w[j] - gamma * state[0, j]) * data[_u(k)]
        else:
            p = _row_dot(data, indices, dense_d, start, end, w)
        p = p * scale + b_int
        loss_sum += sw[i] * _loss_value(loss, y[i], p, param)
        c = sw[i] * _clip_dloss(_loss_dloss(loss, y[i], p, param)) / nb
        g_int += c
        if use_list:  # lazy CSR: collect the support
            for k in range(start, end):
                j = _u(indices[_u(k)])
                gbuf[j] += c * data[_u(k)]
                if mark[j] == 0:
                    mark[j] = 1
                    klist[nk] = j
                    nk += 1
        elif c != 0.0:  # a loop the compiler vectorises on dense rows
            _row_axpy(data, indices, dense_d, start, end, c, gbuf)
    return loss_sum, g_int, nk


@_inline
def _update(rule, lo, hi, use_list, scaled, klist, gbuf, mark, w, state, q, hp, a1, a2,
            u, eta, c1, c2, c1n, scale):
    """The step of SPEC section 2 on the coordinates klist[lo:hi] (``use_list``) or
    lo..hi-1, from the loss gradient in gbuf (zeroed after, marks cleared), then the
    cumulative L1 penalty. ``scaled``: rule 'sgd' on CSR, w = scale * v, whose L2 shrink
    of every coordinate the caller applied to ``scale``."""
    if scaled:
        for kk in range(lo, hi):
            j = klist[kk]
            w[j] -= eta * gbuf[j] / scale
            gbuf[j] = 0.0
            mark[j] = 0
            if a1 > 0.0:
                _l1_truncate(w, q, j, u, scale)
    else:
        if use_list:
            _sweep(rule, lo, hi, True, klist, gbuf, mark, w, state, hp, a2, eta, c1, c2,
                   c1n)
        else:
            _sweep(rule, lo, hi, False, klist, gbuf, mark, w, state, hp, a2, eta, c1, c2,
                   c1n)
        if a1 > 0.0:  # after the rule, coordinate by coordinate: the same bits
            for kk in range(lo, hi):
                _l1_truncate(w, q, _coord_index(klist, use_list, kk), u, 1.0)


@_jit
def _gradient_pass(data, indices, indptr, y, sw, order, lo, hi, w, ip, fp, gbuf):
    """One fused pass over the rows order[lo:hi] at p_i = x_i . w[:d] + w[d]: returns
    sum_i s_i L(y_i, p_i) and adds sum_i s_i L'_i x_i to gbuf[:d], sum_i s_i L'_i to
    gbuf[d] (L' clipped as in SPEC section 1), every sum in row order."""
    dense_d = ip[IP_DENSE_D]
    loss = ip[IP_LOSS]
    param = fp[FP_PARAM]
    d = w.shape[0] - 1
    b = w[d]
    loss_sum = 0.0
    g_int = 0.0
    for ii in range(lo, hi):
        _prefetch_row(data, indices, indptr, dense_d, y, sw, order, ii, w)
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        p = _row_dot(data, indices, dense_d, start, end, w) + b
        li, di = _loss_and_dloss(loss, y[i], p, param)
        loss_sum += sw[i] * li
        c = sw[i] * _clip_dloss(di)
        g_int += c
        if c != 0.0:
            _row_axpy(data, indices, dense_d, start, end, c, gbuf)
    gbuf[d] += g_int
    return loss_sum


# ------------------------------------------------ Newton's Hessian (newton-cholesky)
@_inline
def _gram_add(data, indices, dense_d, start, end, c, H):
    """H += c (x_i, 1)(x_i, 1)^T, each pair of the row's entries once: entry (a, b) goes
    to H[j_a, j_b] for a <= b, the intercept to column d (so H + H^T - diag(H) is the
    sum). Dense rows take a loop without the CSR gather (it vectorises)."""
    d = H.shape[0] - 1
    if dense_d > 0:
        for a in range(start, end):
            ja = _u(a - start)
            xa = c * data[_u(a)]
            for b in range(a, end):
                H[ja, _u(b - start)] += xa * data[_u(b)]
            H[ja, d] += xa
    else:
        for a in range(start, end):
            ja = _u(indices[_u(a)])
            xa = c * data[_u(a)]
            for b in range(a, end):
                H[ja, _u(indices[_u(b)])] += xa * data[_u(b)]
            H[ja, d] += xa
    H[d, d] += c


@_jit
def _logistic_hessian_rows(data, indices, indptr, dense_d, order, lo, hi, sw, w, H):
    """H += Σ_{ii in [lo, hi)} s_i σ(p_i)(1 - σ(p_i)) (x_i, 1)(x_i, 1)^T, i = order[ii],
    p_i = x_i·w[:d] + w[d], one triangle (``_gram_add``): the margins, the logistic
    curvature (e/(1+e)², e = exp(-|p|)) and the Gram sum in one pass over the rows."""
    d = w.shape[0] - 1
    b = w[d]
    for ii in range(lo, hi):
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        p = _row_dot(data, indices, dense_d, start, end, w) + b
        e = exp(-abs(p))
        c = sw[i] * (e / ((1.0 + e) * (1.0 + e)))
        if c != 0.0:
            _gram_add(data, indices, dense_d, start, end, c, H)


# ----------------------------------------- gradient noise and clipping (SPEC section 7)
# The noise is a pure function of (seed, t, coordinate): a counter-based generator
# (hashes of the counter, as Random123's), with no state in the kernels, the same on both
# backends and for any thread layout. Every value stays below 2**63 (32-bit words,
# multipliers below 2**31), so int64 arithmetic is exact on Numba and Cython alike.
_M32 = 4294967295  # 2**32 - 1
_TWO_M32 = 2.3283064365386963e-10  # 2**-32
_TWO_M24 = 5.9604644775390625e-08  # 2**-24
_ZIG_X = _table.ZIGGURAT_X
_ZIG_F = _table.ZIGGURAT_F
_ZIG_R = _table.ZIGGURAT_R


@_inline
def _mix32(x):
    """A bijective hash of the low 32 bits of x (xorshift-multiply rounds)."""
    x &= _M32
    x ^= x >> 16
    x = (x * 0x7FEB352D) & _M32
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & _M32
    x ^= x >> 16
    return x


@_inline
def _noise_key(seed, t):
    """The 32-bit key of step t (t < 2**53) under ``seed``."""
    ti = _to_index(t)
    return _mix32(seed ^ _mix32((ti & _M32) ^ _mix32(ti >> 32)))


@_inline
def _next32(h):
    """The next 32-bit word of a draw's stream: a Weyl step, then the hash."""
    return _mix32(h + 0x61C88647)


@_jit
def _gauss_slow(h):
    """The ziggurat from word h on, for the 3 % of draws whose first word falls outside
    its strip's rectangle (out of line, so that the fast path stays small)."""
    while True:
        i = h & 127
        neg = (h & 128) != 0
        x = ((h >> 8) + 0.5) * _TWO_M24 * _ZIG_X[i]
        if x < _ZIG_X[i + 1]:
            break
        h = _next32(h)
        if i == 0:  # the tail x > R
            while True:
                a = -log((h + 0.5) * _TWO_M32) / _ZIG_R
                h = _next32(h)
                b = -log((h + 0.5) * _TWO_M32)
                h = _next32(h)
                if b + b >= a * a:
                    break
            x = _ZIG_R + a
            break
        if (_ZIG_F[i] + (h + 0.5) * _TWO_M32 * (_ZIG_F[i + 1] - _ZIG_F[i])
                < exp(-0.5 * x * x)):  # under f in the strip's wedge
            break
        h = _next32(h)
    return -x if neg else x


@_inline
def _gauss(key, j):
    """A standard normal deviate for coordinate j of the step keyed ``key``: Marsaglia &
    Tsang's ziggurat (``fastgd._rules.ziggurat_tables``, 128 strips) on the words of the
    counter hash h = mix(key ^ mix(j)), then h <- mix(h + 0x61C88647). A word's bits
    0-6 pick the strip i, bit 7 the sign, bits 8-31 u in (0, 1); x = u x[i] is taken at
    once when x < x[i + 1] (97 % of draws: one hash pair, a product and a compare), else
    by the wedge test, or from the tail beyond R by Marsaglia's exponential method
    (``_gauss_slow``). The sign is a product, not a branch (a coin flip mispredicts
    half the time: 10.8 -> 4.9 ns a draw, the same bits)."""
    h = _mix32(key ^ _mix32(j))
    i = h & 127
    x = ((h >> 8) + 0.5) * _TWO_M24 * _ZIG_X[i]
    if x < _ZIG_X[i + 1]:
        return x * (1.0 - ((h >> 6) & 2))
    return _gauss_slow(h)


@_inline
def _noise_sd(fp, t):
    """sigma_t = sqrt(eta_noise / (1 + t)^gamma) (Neelakantan et al. 2015); 0: none."""
    if fp[FP_NOISE] > 0.0:
        return sqrt(fp[FP_NOISE] / pow(1.0 + t, fp[FP_NOISE_DECAY]))
    return 0.0


@_inline
def _tools_on(fp):
    return fp[FP_CLIP_VALUE] > 0.0 or fp[FP_CLIP_NORM] > 0.0 or fp[FP_NOISE] > 0.0


@_inline
def _clipped(g, clip_value):
    """g clipped to [-clip_value, clip_value] (0: no clip)."""
    if clip_value > 0.0:
        if g > clip_value:
            g = clip_value
        elif g < -clip_value:
            g = -clip_value
    return g


@_inline
def _tooled_one(g, sd, key, j, clip_value):
    """g plus noise sd N(0, 1) of coordinate j, clipped to [-clip_value, clip_value]."""
    if sd > 0.0:
        g += sd * _gauss(key, j)
    return _clipped(g, clip_value)


@_inline
def _tooled_pass(nag, decoupled, lo, hi, use_list, klist, gbuf, w, state, gamma, a2, sd,
                 key, clip_value):
    """The loop of _tooled (its flags constants where the caller can make them so)."""
    sq = 0.0
    for kk in range(lo, hi):
        j = _coord_index(klist, use_list, kk)
        g = gbuf[j]
        if nag:
            g += a2 * (w[j] - gamma * state[0, j])
        elif not decoupled:
            g += a2 * w[j]
        g = _tooled_one(g, sd, key, j, clip_value)
        gbuf[j] = g
        sq += g * g
    return sq


@_inline
def _tooled(rule, lo, hi, use_list, klist, gbuf, w, state, hp, a2, sd, key, clip_value):
    """SPEC section 7 on the coordinates klist[lo:hi] (or lo..hi-1): gbuf[j] becomes the
    step's gradient g_j of SPEC section 2 (the L2 term as the rule takes it: none for
    adamw, at the look-ahead point for nag), plus noise, clipped by value. Returns
    sum_j g_j^2, which clip_norm reads (clipping by value alone on dense rows returns 0:
    its loop, without the sum or branches, is one the compiler vectorises). The rule
    then steps with a2 = 0 (adamw: its decay)."""
    nag = rule == RULE_NAG
    decoupled = rule == RULE_ADAMW
    gamma = hp[HP_MOMENTUM]
    if use_list or sd > 0.0 or nag:
        return _tooled_pass(nag, decoupled, lo, hi, use_list, klist, gbuf, w, state, gamma,
                            a2, sd, key, clip_value)
    if hp[FP_CLIP_NORM] > 0.0:  # dense rows, no noise: the same loop without branches
        return _tooled_pass(False, decoupled, lo, hi, False, klist, gbuf, w, state, gamma,
                            a2, 0.0, key, clip_value)
    if decoupled:
        for j in range(lo, hi):
            gbuf[_u(j)] = _clipped(gbuf[_u(j)], clip_value)
    else:
        for j in range(lo, hi):
            gbuf[_u(j)] = _clipped(gbuf[_u(j)] + a2 * w[_u(j)], clip_value)
    return 0.0


@_inline
def _norm_factor(sq, clip_norm):
    """min(1, c / ||g||): the factor that rescales g to norm at most c (0: no clip)."""
    if clip_norm > 0.0 and sq > clip_norm * clip_norm:
        return clip_norm / sqrt(sq)
    return 1.0


@_inline
def _tooled_sq(data, indices, dense_d, start, end, c, a2, w, gbuf, sd, key, clip_value):
    """sum_j g_j^2 over row i, g_j = c x_ij + a2 w_j plus noise, clipped by value (the
    noisy g_j are kept in gbuf[j]; without noise the next pass recomputes them)."""
    sq = 0.0
    if dense_d > 0:
        for k in range(start, end):
            j = _u(k - start)
            g = _tooled_one(c * data[_u(k)] + a2 * w[j], sd, key, j, clip_value)
            if sd > 0.0:
                gbuf[j] = g
            sq += g * g
    else:
        for k in range(start, end):
            j = _u(indices[_u(k)])
            g = _tooled_one(c * data[_u(k)] + a2 * w[j], sd, key, j, clip_value)
            if sd > 0.0:
                gbuf[j] = g
            sq += g * g
    return sq


@_inline
def _clipped_sq(data, indices, dense_d, start, end, c, a2, w, clip_value):
    """_tooled_sq without noise: a loop the compiler can vectorise."""
    sq = 0.0
    if dense_d > 0:
        for k in range(start, end):
            g = _clipped(c * data[_u(k)] + a2 * w[_u(k - start)], clip_value)
            sq += g * g
    else:
        for k in range(start, end):
            g = _clipped(c * data[_u(k)] + a2 * w[_u(indices[_u(k)])], clip_value)
            sq += g * g
    return sq


@_inline
def _clipped_step(data, indices, dense_d, start, end, c, a2, w, clip_value, f, eta):
    """w_j -= eta f g_j over row i without noise or L1: a loop the compiler can vectorise."""
    if dense_d > 0:
        for k in range(start, end):
            j = _u(k - start)
            g = _clipped(c * data[_u(k)] + a2 * w[j], clip_value)
            if f < 1.0:
                g *= f
            w[j] -= eta * g
    else:
        for k in range(start, end):
            j = _u(indices[_u(k)])
            g = _clipped(c * data[_u(k)] + a2 * w[j], clip_value)
            if f < 1.0:
                g *= f
            w[j] -= eta * g


@_inline
def _tooled_coordinate(j, x, c, a2, w, q, gbuf, sd, key, clip_value, kept, f, eta, a1,
                       u):
    """w_j -= eta f g_j (g_j from gbuf when ``kept``), then the cumulative L1 penalty."""
    if kept:
        g = gbuf[j]
        gbuf[j] = 0.0
    else:
        g = _tooled_one(c * x + a2 * w[j], sd, key, j, clip_value)
    if f < 1.0:
        g *= f
    w[j] -= eta * g
    if a1 > 0.0:
        _l1_truncate(w, q, j, u, 1.0)


@_inline
def _sgd_tooled_step(data, indices, indptr, dense_d, y, sw, order, ii, w, q, wi, gbuf,
                     loss, param, a1, a2, u, eta, sd, key, clip_value, clip_norm,
                     fit_intercept, loss_sum):
    """Rule 'sgd', batch 1, with the tools: the step of _opt_run (SPEC sections 2, 3 lazy
    and 7) in two passes over the row (three with clip_norm and noise or clip_value),
    without the support list. The same operations in the same order as _batch_gradient,
    _tooled, _norm_factor and _update, hence the same bits, except that clip_norm alone
    takes ||g||^2 = c^2 ||x_i||^2 + 2 c a2 x_i.w + a2^2 ||w_S||^2 from the dot's pass
    (equal to round-off; an epoch against the plain path 1.61x -> 1.20x on dense a9a,
    1.64x -> 1.51x on CSR a9a). Returns loss_sum + s_i L_i."""
    _prefetch_row(data, indices, indptr, dense_d, y, sw, order, ii, w)
    i = order[ii]
    start, end = _row(indptr, dense_d, i)
    fused = clip_norm > 0.0 and sd == 0.0 and clip_value == 0.0
    xx = 0.0
    ww = 0.0
    if fused:  # ||c x + a2 w||^2 from the dot's pass: no pass of its own
        xw, xx, ww = _row_dot_norms(data, indices, dense_d, start, end, w)
    else:
        xw = _row_dot(data, indices, dense_d, start, end, w)
    p = xw + wi[0]
    loss_sum += sw[i] * _loss_value(loss, y[i], p, param)
    c = sw[i] * _clip_dloss(_loss_dloss(loss, y[i], p, param))
    g_int = c
    if fit_intercept:
        g_int = _tooled_one(c, sd, key, w.shape[0] - 1, clip_value)
    f = 1.0
    kept = False
    if fused:
        sq = c * c * xx + 2.0 * c * a2 * xw + a2 * a2 * ww
        if fit_intercept:
            sq += g_int * g_int
        f = _norm_factor(sq, clip_norm)
    elif clip_norm > 0.0:
        if sd > 0.0:
            sq = _tooled_sq(data, indices, dense_d, start, end, c, a2, w, gbuf, sd, key,
                            clip_value)
        else:
            sq = _clipped_sq(data, indices, dense_d, start, end, c, a2, w, clip_value)
        if fit_intercept:
            sq += g_int * g_int
        f = _norm_factor(sq, clip_norm)
        kept = sd > 0.0
    if sd == 0.0 and a1 == 0.0:
        _clipped_step(data, indices, dense_d, start, end, c, a2, w, clip_value, f, eta)
    elif dense_d > 0:
        for k in range(start, end):
            _tooled_coordinate(_u(k - start), data[_u(k)], c, a2, w, q, gbuf, sd, key,
                               clip_value, kept, f, eta, a1, u)
    else:
        for k in range(start, end):
            _tooled_coordinate(_u(indices[_u(k)]), data[_u(k)], c, a2, w, q, gbuf, sd,
                               key, clip_value, kept, f, eta, a1, u)
    if fit_intercept:
        if f < 1.0:
            g_int *= f
        wi[0] -= eta * g_int
    return loss_sum


@_inline
def _rescale(lo, hi, use_list, klist, gbuf, f):
    for kk in range(lo, hi):
        j = _coord_index(klist, use_list, kk)
        gbuf[j] *= f


@_inline
def _corrections(rule, hp, t):
    """The bias corrections of step t: (1 - beta1^t, 1 - beta2^t, 1 - beta1^(t+1)) for the
    Adam family; 1 for the rules without (three pow calls a step saved)."""
    if (rule == RULE_ADAM or rule == RULE_ADAMAX or rule == RULE_NADAM
            or rule == RULE_AMSGRAD or rule == RULE_ADAMW):
        b1 = hp[HP_BETA_1]
        return 1.0 - b1 ** t, 1.0 - hp[HP_BETA_2] ** t, 1.0 - b1 ** (t + 1.0)
    return 1.0, 1.0, 1.0


@_inline
def _shrunk(scale, eta, a2, w, n_features, reset):
    """scale (1 - eta a2): the L2 shrink of w = scale * v; at 0, w = 0 and scale = reset."""
    scale *= 1.0 - eta * a2
    if scale == 0.0:
        for j in range(n_features):
            w[j] = 0.0
        scale = reset
    return scale


# ------------------------------------------------------- the steps of solver='sgd'
# The serial kernels (_nb_sgd) run these over the whole epoch; a Hogwild! thread
# (_nb_parallel) over its slice of it, for a round.
@_jit
def _plain_run(data, indices, indptr, y, sw, order, ii0, ii_stop, w, aw, q, ip, fp,
               multi, scale_ref, st):
    """Samples order[ii0:ii_stop] of scikit-learn's ``_plain_sgd`` (plain_sgd_epoch).

    ``st[:9]`` = [wscale, average_a, average_b, u, sq_norm, l1_norm, intercept,
    average_intercept, objective_sum] (updated): the serial epoch's scalars, or a
    Hogwild! thread's copies (``multi``; its round started at the shared scale
    ``scale_ref``). The step of sample order[ii] is t = fp[FP_T] + ii. Returns the
    position reached (< ii_stop when a thread ended its round on the shrink criterion).
    """
    dense_d = ip[IP_DENSE_D]
    loss = ip[IP_LOSS]
    penalty = ip[IP_PENALTY]
    schedule = ip[IP_SCHEDULE]
    average = ip[IP_AVERAGE]
    fit_intercept = ip[IP_FIT_INTERCEPT] != 0
    track_objective = ip[IP_TRACK] != 0
    param = fp[FP_PARAM]
    alpha = fp[FP_ALPHA]
    l1_ratio = fp[FP_L1_RATIO]
    intercept_decay = fp[FP_INTERCEPT_DECAY]
    t0 = fp[FP_T]
    wscale = st[0]
    avg_a = st[1]
    avg_b = st[2]
    u = st[3]
    sq_norm = st[4]
    l1_norm = st[5]
    intercept = st[6]
    avg_intercept = st[7]
    objective_sum = st[8]
    n_features = w.shape[0]
    has_l1 = penalty == PENALTY_L1 or penalty == PENALTY_ELASTICNET
    ii = ii0
    while ii < ii_stop:
        t = t0 + ii
        eta_t = _step_size(schedule, fp, t)
        if multi and penalty >= PENALTY_L2 and ii > ii0:
            c = 1.0 - (1.0 - l1_ratio) * eta_t * alpha
            if c < 0.0:
                c = 0.0
            if wscale * c < _SHRINK_KEEP * scale_ref:
                break
        _prefetch_row(data, indices, indptr, dense_d, y, sw, order, ii, w)
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        p = _row_dot(data, indices, dense_d, start, end, w) * wscale + intercept
        yi = y[i]
        if track_objective:
            objective_sum += _loss_value(loss, yi, p, param)
            if penalty > PENALTY_NONE:
                nrm = sqrt(sq_norm)
                objective_sum += alpha * ((1.0 - l1_ratio) * 0.5 * nrm * nrm
                                          + l1_ratio * l1_norm)
        update = -eta_t * _clip_dloss(_loss_dloss(loss, yi, p, param))
        update *= sw[i]
        if penalty >= PENALTY_L2:
            c = 1.0 - (1.0 - l1_ratio) * eta_t * alpha
            if c < 0.0:
                c = 0.0
            wscale *= c
            sq_norm *= c * c
            l1_norm *= abs(c)
            if wscale < _WSCALE_MIN:
                if multi:
                    # first step of a round shrinking by > 1e9 (eta * alpha ~ 1): fold
                    # this thread's shrink into the shared v (racy, degenerate case)
                    f = wscale / scale_ref
                    for j in range(n_features):
                        w[j] *= f
                    wscale = scale_ref
                else:
                    if average > 0:
                        for j in range(n_features):
                            aw[j] = (aw[j] + avg_a * w[j]) / avg_b
                        avg_a = 0.0
                        avg_b = 1.0
                    for j in range(n_features):
                        w[j] *= wscale
                    wscale = 1.0
        if update != 0.0 and track_objective:
            l2acc, l1acc = _row_add_norms(data, indices, dense_d, start, end,
                                          update / wscale, w)
            sq_norm = l2acc * (wscale * wscale)
            l1_norm = l1acc * wscale
        elif update != 0.0:  # the norms only feed the objective
            _row_axpy(data, indices, dense_d, start, end, update / wscale, w)
        if fit_intercept and update != 0.0:
            intercept += update * intercept_decay
        if 0 < average and average <= t:  # single thread only (the engine checks)
            num_iter = t - average + 1.0
            mu = 1.0 / num_iter
            _row_axpy(data, indices, dense_d, start, end, avg_a * (-update / wscale), aw)
            if num_iter > 1.0:
                avg_b /= 1.0 - mu
            avg_a += mu * avg_b * wscale
            avg_intercept += (intercept - avg_intercept) / num_iter
        if has_l1:
            u += l1_ratio * eta_t * alpha
            for k in range(start, end):
                _l1_clip(w, q, _col(indices, dense_d, start, k), u, wscale)
        ii += 1
    st[0] = wscale
    st[1] = avg_a
    st[2] = avg_b
    st[3] = u
    st[4] = sq_norm
    st[5] = l1_norm
    st[6] = intercept
    st[7] = avg_intercept
    st[8] = objective_sum
    return ii


@_jit
def _opt_run(data, indices, indptr, y, sw, order, bb0, bb_stop, w, state, q, ip, fp,
             multi, scale_ref, u, scale, loss_sum, wi, si, gbuf, mark, klist):
    """Batches bb0 <= b < bb_stop of ``optimizer_epoch``: SPEC sections 2-3, any rule.

    The one step of every batch kernel: margins and loss gradient (_batch_gradient),
    the rule's step on the coordinates (_update), the intercept's. The intercept and
    its rule state are ``wi[0]`` and ``si[:, 0]``: views of w[-1] and state[:, -1]
    (serial), or a Hogwild! thread's private copies (``multi``; its round started at
    the shared scale ``scale_ref``). gbuf, mark, klist are the caller's (thread's)
    scratch. Batch b is step t = fp[FP_T] + b. Returns (batch reached, u, scale,
    loss_sum); a thread ends its round early on the shrink criterion.
    """
    dense_d = ip[IP_DENSE_D]
    rule = ip[IP_RULE]
    loss = ip[IP_LOSS]
    schedule = ip[IP_SCHEDULE]
    batch_size = ip[IP_BATCH_SIZE]
    fit_intercept = ip[IP_FIT_INTERCEPT] != 0
    lazy = ip[IP_LAZY] != 0
    param = fp[FP_PARAM]
    a2 = fp[FP_ALPHA] * (1.0 - fp[FP_L1_RATIO])
    a1 = fp[FP_ALPHA] * fp[FP_L1_RATIO]
    t0 = fp[FP_T]
    gamma = fp[HP_MOMENTUM]
    n_features = w.shape[0] - 1
    n = order.shape[0]
    sparse = dense_d == 0
    tools = _tools_on(fp)
    clip_value = fp[FP_CLIP_VALUE]
    seed = ip[IP_NOISE_SEED]
    # with clipping or noise, rule 'sgd' on CSR steps g_j as the other rules do (lazy)
    scaled = sparse and rule == RULE_SGD and not tools
    all_coords = (not sparse) or (not lazy and not scaled)
    use_list = not all_coords
    nag = rule == RULE_NAG
    clip_norm = fp[FP_CLIP_NORM]
    # rule 'sgd' one sample at a time: the tools' step without the generic scratch
    fused = tools and rule == RULE_SGD and batch_size == 1 and (lazy or not sparse)
    a2_rule = a2
    if tools and rule != RULE_ADAMW:
        a2_rule = 0.0  # _tooled puts the L2 term into g
    bb = bb0
    while bb < bb_stop:
        t = t0 + bb
        eta_t = _step_size(schedule, fp, t)
        if multi and scaled and bb > bb0:
            if abs(scale * (1.0 - eta_t * a2)) < _SHRINK_KEEP * abs(scale_ref):
                break
        if fused:
            sd = _noise_sd(fp, t)
            u += a1 * eta_t
            loss_sum = _sgd_tooled_step(
                data, indices, indptr, dense_d, y, sw, order, bb, w, q, wi, gbuf, loss,
                param, a1, a2, u, eta_t, sd, _noise_key(seed, t), clip_value, clip_norm,
                fit_intercept, loss_sum)
            bb += 1
            continue
        b0 = bb * batch_size
        b_end = min(b0 + batch_size, n)
        b_int = wi[0]
        if nag:
            b_int -= gamma * si[0, 0]
        loss_sum, g_int, nk = _batch_gradient(
            data, indices, indptr, dense_d, y, sw, order, b0, b_end, b_end - b0, w, state,
            nag, gamma, scale, b_int, loss, param, all_coords, use_list, gbuf, mark,
            klist, loss_sum)
        count = nk if use_list else n_features
        if tools:  # gradient, noise, clipping, then the rule (SPEC section 7)
            sd = _noise_sd(fp, t)
            key = _noise_key(seed, t)
            sq = _tooled(rule, 0, count, use_list, klist, gbuf, w, state, fp, a2, sd, key,
                         clip_value)
            if fit_intercept:
                g_int = _tooled_one(g_int, sd, key, n_features, clip_value)
                sq += g_int * g_int
            f = _norm_factor(sq, fp[FP_CLIP_NORM])
            if f < 1.0:
                _rescale(0, count, use_list, klist, gbuf, f)
                g_int *= f
        c1, c2, c1n = _corrections(rule, fp, t)
        u += a1 * eta_t
        if scaled:  # w = scale * v: the L2 shrink of every coordinate is one product
            scale = _shrunk(scale, eta_t, a2, w, n_features, scale_ref if multi else 1.0)
        _update(rule, 0, count, use_list, scaled, klist, gbuf, mark, w, state, q, fp, a1,
                a2_rule, u, eta_t, c1, c2, c1n, scale)
        if scaled and abs(scale) < _WSCALE_MIN:
            if multi:  # degenerate first step of a round: fold this thread's shrink
                f = scale / scale_ref
                for j in range(n_features):
                    w[j] *= f
                scale = scale_ref
            else:
                for j in range(n_features):
                    w[j] *= scale
                scale = 1.0
        if fit_intercept:
            _coordinate(rule, 0, g_int, 0.0, wi, si, eta_t, fp, c1, c2, c1n)
        bb += 1
    return bb, u, scale, loss_sum


# ------------------------------------------------------------------ threads
# A thread's position in its slice and the slice's end live in its row of the kernel's
# ``tstate`` scratch (float64, exact for any count below 2**53): a compiled body
# allocates nothing (Cython's nogil bodies cannot, and the caller owns the scratch).
@_inline
def _busy(tstate, K, cpos, chi):
    """Whether any thread k < K has steps left (tstate[k, cpos] < tstate[k, chi])."""
    for k in range(K):
        if tstate[k, cpos] < tstate[k, chi]:
            return True
    return False


@_inline
def _reduced(gbuf, K, j):
    """sum_k gbuf[k, j] in the fixed order k = 0, 1, ...; the rows are zeroed."""
    g = gbuf[0, j]
    gbuf[0, j] = 0.0
    for k in range(1, K):
        g += gbuf[k, j]
        gbuf[k, j] = 0.0
    return g

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

if not cython.compiled:  # Numba (or plain Python); the Cython build gets these from .pxd
    from math import exp, log, log1p, pow, sqrt

    from fastgd._rules import (HP_BETA_1, HP_BETA_2, HP_EPS, HP_MOMENTUM, HP_RHO,
                               LOSS_EPSILON_INSENSITIVE, LOSS_HINGE, LOSS_HUBER,
                               LOSS_LOG_LOSS, LOSS_MODIFIED_HUBER, LOSS_SQUARED_ERROR,
                               LOSS_SQUARED_HINGE, RULE_ADADELTA, RULE_ADAGRAD, RULE_ADAM,
                               RULE_ADAMAX, RULE_ADAMW, RULE_AMSGRAD, RULE_MOMENTUM,
                               RULE_NADAM, RULE_NAG, RULE_RMSPROP, RULE_SGD,
                               SCHED_ALPHA, SCHED_ETA, SCHED_ETA0, SCHED_POWER_T,
                               SCHED_T0, SCHEDULE_INVSCALING, SCHEDULE_OPTIMAL)
    from fastgd.kernels._nb_shim import _set_team, _to_index  # noqa: F401
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

MAX_DLOSS = 1e12
_WSCALE_MIN = 1e-9

PREFETCH_ROWS = 8  # rows ahead whose data (and CSR indices) are requested
PREFETCH_W = 3  # rows ahead whose coefficients w[indices] are requested (CSR)
PREFETCH_W_MIN = 1 << 16  # ... when w has this many features (smaller w stays cached)

# the n_jobs > 1 kernels (_nb_parallel, _nb_async_vr): the public names are for Python,
# the _-prefixed ones C constants inside the compiled bodies
ROUND_STEPS = 1024  # batches per thread between two merges (intercept staleness bound)
SHRINK_KEEP = 0.99  # a thread ends its round once its scale falls below 0.99 * S
SYNC_MIN_BATCH = 256  # batches at least this large use the synchronous kernel
PAD = 16  # float64 slots between per-thread rows (128 bytes: no shared cache line)
_ROUND_STEPS = ROUND_STEPS
_SHRINK_KEEP = SHRINK_KEEP

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
            p += w[k - start] * data[k]
    else:
        for k in range(start, end):
            p += w[indices[k]] * data[k]
    return p


@_inline
def _row_axpy(data, indices, dense_d, start, end, c, v):
    """v += c x_i over the stored entries of row i."""
    if dense_d > 0:
        for k in range(start, end):
            v[k - start] += c * data[k]
    else:
        for k in range(start, end):
            v[indices[k]] += c * data[k]


@_inline
def _row_add_norms(data, indices, dense_d, start, end, cw, w):
    """w += cw x_i; return (sum w_j^2, sum |w_j|) over the row's columns (WeightVector.add)."""
    l2acc = 0.0
    l1acc = 0.0
    if dense_d > 0:
        for k in range(start, end):
            j = k - start
            w[j] += data[k] * cw
            l2acc += w[j] * w[j]
            l1acc += abs(w[j])
    else:
        for k in range(start, end):
            j = indices[k]
            w[j] += data[k] * cw
            l2acc += w[j] * w[j]
            l1acc += abs(w[j])
    return l2acc, l1acc


@_inline
def _prefetch_row(data, indices, indptr, dense_d, order, ii, w):
    """Ask for the cache lines that the steps ``PREFETCH_ROWS`` / ``PREFETCH_W`` ahead read.

    Two stages (see _nb_shim): the row of order[ii + PREFETCH_ROWS] (every line of its
    values, and of its indices for CSR), then, once those indices have arrived, the
    coefficients of order[ii + PREFETCH_W] (CSR: scattered over w). Changes no result.
    """
    m = order.shape[0]
    nxt = ii + PREFETCH_ROWS
    if nxt < m:
        start, end = _row(indptr, dense_d, order[nxt])
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
def _step_size(schedule, lr_params, t):
    """eta_t of step t from the schedule's record ``lr_params`` (``SCHED_*`` slots)."""
    if schedule == SCHEDULE_OPTIMAL:
        return 1.0 / (lr_params[SCHED_ALPHA] * (lr_params[SCHED_T0] + t - 1.0))
    elif schedule == SCHEDULE_INVSCALING:
        return lr_params[SCHED_ETA0] / pow(t, lr_params[SCHED_POWER_T])
    return lr_params[SCHED_ETA]


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
def _coord_done(j, gbuf, mark, use_list, w, q, a1, u):
    """Clear the scratch of coordinate j and apply the cumulative L1 penalty.

    ``mark`` is cleared here for the coordinates of a support list; when every
    coordinate is stepped (``use_list`` false) the caller clears the marks of the support
    it collected (on dense data there is none, and ``mark`` may be empty).
    """
    gbuf[j] = 0.0
    if use_list:
        mark[j] = 0
    if a1 > 0.0:
        _l1_truncate(w, q, j, u, 1.0)


@_inline
def _sweep(rule, count, use_list, klist, gbuf, mark, w, state, q, hp, a1, a2, u, eta,
           c1, c2, c1n):
    """Step the coordinates klist[:count] (or 0..count-1) with the loss gradient in gbuf.

    The same arithmetic as _coordinate, with the switch on the rule taken once per step
    instead of once per coordinate (a switch inside the loop costs Numba 2-3x here).
    """
    if rule == RULE_MOMENTUM:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _momentum_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)
    elif rule == RULE_NAG:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            g = gbuf[j] + a2 * (w[j] - hp[HP_MOMENTUM] * state[0, j])
            _momentum_step(j, g, w, state, eta, hp)
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)
    elif rule == RULE_ADAGRAD:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _adagrad_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)
    elif rule == RULE_RMSPROP:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _rmsprop_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)
    elif rule == RULE_ADADELTA:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _adadelta_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)
    elif rule == RULE_ADAMAX:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _adamax_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1)
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)
    elif rule == RULE_NADAM:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _nadam_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1, c2, c1n)
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)
    elif rule == RULE_AMSGRAD:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _amsgrad_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1, c2)
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)
    elif rule == RULE_ADAMW:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            w[j] *= 1.0 - eta * a2
            _adam_step(j, gbuf[j], w, state, eta, hp, c1, c2)
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)
    elif rule == RULE_ADAM:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _adam_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1, c2)
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)
    else:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            w[j] -= eta * (gbuf[j] + a2 * w[j])
            _coord_done(j, gbuf, mark, use_list, w, q, a1, u)


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
def _batch_margins(data, indices, indptr, dense_d, y, sw, order, b0, nb, w, state, nag,
                   gamma, scale, b_int, loss, param, dbuf, loss_sum):
    """Margins of rows order[b0:b0+nb] at the current (NAG: look-ahead) point; fills
    dbuf with sw_i dL/dp_i / nb and returns loss_sum + sum_i sw_i L_i (in row order)."""
    for bi in range(nb):
        _prefetch_row(data, indices, indptr, dense_d, order, b0 + bi, w)
        i = order[b0 + bi]
        start, end = _row(indptr, dense_d, i)
        p = 0.0
        if nag:
            for k in range(start, end):
                j = _col(indices, dense_d, start, k)
                p += (w[j] - gamma * state[0, j]) * data[k]
        else:
            p = _row_dot(data, indices, dense_d, start, end, w)
        p = p * scale + b_int
        loss_sum += sw[i] * _loss_value(loss, y[i], p, param)
        dbuf[bi] = sw[i] * _clip_dloss(_loss_dloss(loss, y[i], p, param)) / nb
    return loss_sum


@_inline
def _batch_gradient(data, indices, indptr, dense_d, order, b0, nb, dbuf, all_coords,
                    sparse, gbuf, mark, klist):
    """gbuf += the batch's loss gradient; on CSR collect its support in klist (marked in
    mark). Returns (size of the support, intercept gradient)."""
    nk = 0
    g_int = 0.0
    for bi in range(nb):
        i = order[b0 + bi]
        c = dbuf[bi]
        g_int += c
        if c == 0.0 and all_coords:
            continue
        start, end = _row(indptr, dense_d, i)
        for k in range(start, end):
            j = _col(indices, dense_d, start, k)
            gbuf[j] += c * data[k]
            if sparse and mark[j] == 0:
                mark[j] = 1
                klist[nk] = j
                nk += 1
    return nk, g_int


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

"""Numba kernels for solver='sgd': one call runs one epoch and returns.

Only arrays and scalars come in. Rows are read through two helpers so that dense and
CSR data share every line of rule code: a dense C-ordered ``X`` is passed as its flat
view ``data`` with ``dense_d = n_features``; CSR passes ``data, indices, indptr`` with
``dense_d = 0``. The compiled specialisations are therefore only float32/float64 ``data``.

``plain_sgd_epoch`` is scikit-learn's ``_plain_sgd`` (per-sample SGD with the wscale
trick, Tsuruoka's cumulative L1 penalty, Bottou's lazy ASGD), step for step.
``optimizer_epoch`` is SPEC section 2-3: any rule, any batch size, lazy or exact CSR.
"""

import math

import numpy as np
from numba import njit

from fastgd.kernels._nb_shim import prefetch
from fastgd._rules import HP_BETA1, HP_BETA2, HP_EPS, HP_MOMENTUM, HP_RHO, Loss, Rule, Schedule

_SQUARED_ERROR = int(Loss.SQUARED_ERROR)
_LOG_LOSS = int(Loss.LOG_LOSS)
_HINGE = int(Loss.HINGE)
_SQUARED_HINGE = int(Loss.SQUARED_HINGE)
_MODIFIED_HUBER = int(Loss.MODIFIED_HUBER)
_HUBER = int(Loss.HUBER)
_EPS_INS = int(Loss.EPSILON_INSENSITIVE)
_SQ_EPS_INS = int(Loss.SQUARED_EPSILON_INSENSITIVE)

_SGD = int(Rule.SGD)
_MOMENTUM = int(Rule.MOMENTUM)
_NAG = int(Rule.NAG)
_ADAGRAD = int(Rule.ADAGRAD)
_RMSPROP = int(Rule.RMSPROP)
_ADADELTA = int(Rule.ADADELTA)
_ADAM = int(Rule.ADAM)
_ADAMAX = int(Rule.ADAMAX)
_NADAM = int(Rule.NADAM)
_AMSGRAD = int(Rule.AMSGRAD)
_ADAMW = int(Rule.ADAMW)

_OPTIMAL = int(Schedule.OPTIMAL)
_INVSCALING = int(Schedule.INVSCALING)

MAX_DLOSS = 1e12
_WSCALE_MIN = 1e-9

_jit = njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
_inline = njit(cache=True, nogil=True, inline="always", error_model="numpy",
                _nrt=False)


# --------------------------------------------------------------------------- losses
@_inline
def _log1pexp(x):
    if x <= -37.0:
        return math.exp(x)
    elif x <= -2.0:
        return math.log1p(math.exp(x))
    elif x <= 18.0:
        return math.log(1.0 + math.exp(x))
    elif x <= 33.3:
        return x + math.exp(-x)
    return x


@_jit
def loss_value(loss, y, p, param):
    """L(y, p); y is in {-1, +1} for classification losses (as in scikit-learn)."""
    if loss == _SQUARED_ERROR:
        return 0.5 * (p - y) * (p - y)
    elif loss == _LOG_LOSS:
        y01 = 0.5 * (y + 1.0)
        return _log1pexp(p) - y01 * p
    elif loss == _HINGE:
        z = p * y
        return param - z if z <= param else 0.0
    elif loss == _SQUARED_HINGE:
        z = param - p * y
        return z * z if z > 0.0 else 0.0
    elif loss == _MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        elif z >= -1.0:
            return (1.0 - z) * (1.0 - z)
        return -4.0 * z
    elif loss == _HUBER:
        r = abs(y - p)
        return 0.5 * r * r if r <= param else param * (r - 0.5 * param)
    elif loss == _EPS_INS:
        r = abs(y - p) - param
        return r if r > 0.0 else 0.0
    else:  # squared epsilon-insensitive
        r = abs(y - p) - param
        return r * r if r > 0.0 else 0.0


@_jit
def loss_dloss(loss, y, p, param):
    """dL/dp, exactly as scikit-learn's SGD loss classes compute it (not yet clipped)."""
    if loss == _SQUARED_ERROR:
        return p - y
    elif loss == _LOG_LOSS:
        y01 = 0.5 * (y + 1.0)
        if p > -37.0:
            e = math.exp(-p)
            return ((1.0 - y01) - y01 * e) / (1.0 + e)
        return math.exp(p) - y01
    elif loss == _HINGE:
        return -y if p * y <= param else 0.0
    elif loss == _SQUARED_HINGE:
        z = param - p * y
        return -2.0 * y * z if z > 0.0 else 0.0
    elif loss == _MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        elif z >= -1.0:
            return 2.0 * (1.0 - z) * -y
        return -4.0 * y
    elif loss == _HUBER:
        r = p - y
        if abs(r) <= param:
            return r
        return param if r >= 0.0 else -param
    elif loss == _EPS_INS:
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


# ----------------------------------------------------------------------- row access
@_inline
def _row(indptr, dense_d, i):
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


PREFETCH_ROWS = 8  # rows ahead whose data (and CSR indices) are requested
PREFETCH_W = 3  # rows ahead whose coefficients w[indices] are requested (CSR)
PREFETCH_W_MIN = 1 << 16  # ... when w has this many features (smaller w stays cached)


@_inline
def _prefetch_row(data, indices, indptr, dense_d, order, ii, w):
    """Ask for the cache lines that the steps ``PREFETCH_ROWS`` / ``PREFETCH_W`` ahead read.

    Two stages (see _nb_prefetch): the row of order[ii + PREFETCH_ROWS] (every line of its
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
def _step_size(schedule, eta, eta0, power_t, alpha, optimal_init, t):
    if schedule == _OPTIMAL:
        return 1.0 / (alpha * (optimal_init + t - 1.0))
    elif schedule == _INVSCALING:
        return eta0 / math.pow(t, power_t)
    return eta


# ------------------------------------------------------------ scikit-learn's plain SGD
@_jit
def plain_sgd_epoch(data, indices, indptr, dense_d, y, sw, order,
                    w, aw, q, st,
                    loss, param, penalty, alpha, l1_ratio, fit_intercept, intercept_decay,
                    schedule, eta, eta0, power_t, optimal_init, t, average, track_objective):
    """One epoch of scikit-learn's ``_plain_sgd`` over the samples in ``order``.

    w = st[0] * w_raw (the wscale trick); ``st`` = [wscale, average_a, average_b, u,
    sq_norm, l1_norm, intercept, average_intercept] carries WeightVector's scalars
    across epochs of one fit call. ``sw`` holds sample_weight * class_weight.
    Returns (t, objective_sum) where objective_sum is scikit-learn's running sum of
    loss + penalty used by its stopping rule.
    """
    wscale = st[0]
    avg_a = st[1]
    avg_b = st[2]
    u = st[3]
    sq_norm = st[4]
    l1_norm = st[5]
    intercept = st[6]
    avg_intercept = st[7]
    n_features = w.shape[0]
    objective_sum = 0.0
    has_l1 = penalty == 1 or penalty == 3
    for ii in range(order.shape[0]):
        _prefetch_row(data, indices, indptr, dense_d, order, ii, w)
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        p = _row_dot(data, indices, dense_d, start, end, w) * wscale + intercept
        eta_t = _step_size(schedule, eta, eta0, power_t, alpha, optimal_init, t)
        yi = y[i]
        if track_objective:
            objective_sum += loss_value(loss, yi, p, param)
            if penalty > 0:
                nrm = math.sqrt(sq_norm)
                objective_sum += alpha * ((1.0 - l1_ratio) * 0.5 * nrm * nrm
                                          + l1_ratio * l1_norm)
        update = -eta_t * _clip_dloss(loss_dloss(loss, yi, p, param))
        update *= sw[i]
        if penalty >= 2:
            c = 1.0 - (1.0 - l1_ratio) * eta_t * alpha
            if c < 0.0:
                c = 0.0
            wscale *= c
            sq_norm *= c * c
            l1_norm *= abs(c)
            if wscale < _WSCALE_MIN:
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
        if 0 < average and average <= t:
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
                j = _col(indices, dense_d, start, k)
                z = w[j]
                if wscale * z > 0.0:
                    w[j] = max(0.0, w[j] - (u + q[j]) / wscale)
                elif wscale * z < 0.0:
                    w[j] = min(0.0, w[j] + (u - q[j]) / wscale)
                q[j] += wscale * (w[j] - z)
        t += 1.0
    st[0] = wscale
    st[1] = avg_a
    st[2] = avg_b
    st[3] = u
    st[4] = sq_norm
    st[5] = l1_norm
    st[6] = intercept
    st[7] = avg_intercept
    return t, objective_sum


@_jit
def sklearn_shuffle(index, seed):
    """scikit-learn's ``SequentialDataset.shuffle(seed)``, in place: Fisher-Yates driven by
    xorshift32 (``our_rand_r``: s ^= s << 13; s ^= s >> 17; s ^= s << 5 on uint32; draw =
    s mod 2^31). scikit-learn calls it every epoch with the same seed on the index array
    the previous epochs left, so applying it again continues its sample order exactly."""
    s = seed & 0xFFFFFFFF
    n = index.shape[0]
    for i in range(n - 1):
        if s == 0:
            s = 1
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        j = i + (s & 0x7FFFFFFF) % (n - i)
        tmp = index[i]
        index[i] = index[j]
        index[j] = tmp


@_jit
def plain_sgd_finish(w, aw, st, average):
    """WeightVector.reset_wscale: fold wscale (and ASGD's a, b) into the arrays."""
    if average > 0:
        for j in range(w.shape[0]):
            aw[j] = (aw[j] + st[1] * w[j]) / st[2]
        st[1] = 0.0
        st[2] = 1.0
    for j in range(w.shape[0]):
        w[j] *= st[0]
    st[0] = 1.0


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
    w[j] -= eta * g / (math.sqrt(G) + hp[HP_EPS])


@_inline
def _rmsprop_step(j, g, w, state, eta, hp):
    rho = hp[HP_RHO]
    E = rho * state[0, j] + (1.0 - rho) * g * g
    state[0, j] = E
    w[j] -= eta * g / (math.sqrt(E) + hp[HP_EPS])


@_inline
def _adadelta_step(j, g, w, state, eta, hp):
    rho = hp[HP_RHO]
    eps = hp[HP_EPS]
    E = rho * state[0, j] + (1.0 - rho) * g * g
    state[0, j] = E
    delta = -math.sqrt(state[1, j] + eps) / math.sqrt(E + eps) * g
    state[1, j] = rho * state[1, j] + (1.0 - rho) * delta * delta
    w[j] += eta * delta


@_inline
def _first_moment(j, g, state, hp):
    b1 = hp[HP_BETA1]
    m = b1 * state[0, j] + (1.0 - b1) * g
    state[0, j] = m
    return m


@_inline
def _second_moment(j, g, state, hp):
    b2 = hp[HP_BETA2]
    v = b2 * state[1, j] + (1.0 - b2) * g * g
    state[1, j] = v
    return v


@_inline
def _adam_step(j, g, w, state, eta, hp, c1, c2):
    m = _first_moment(j, g, state, hp)
    v = _second_moment(j, g, state, hp)
    w[j] -= eta * (m / c1) / (math.sqrt(v / c2) + hp[HP_EPS])


@_inline
def _adamax_step(j, g, w, state, eta, hp, c1):
    m = _first_moment(j, g, state, hp)
    u = hp[HP_BETA2] * state[1, j]
    ag = abs(g)
    if ag > u:
        u = ag
    state[1, j] = u
    w[j] -= eta / c1 * m / (u + hp[HP_EPS])


@_inline
def _nadam_step(j, g, w, state, eta, hp, c1, c2, c1n):
    b1 = hp[HP_BETA1]
    m = _first_moment(j, g, state, hp)
    v = _second_moment(j, g, state, hp)
    mbar = (1.0 - b1) * (g / c1) + b1 * (m / c1n)
    w[j] -= eta * mbar / (math.sqrt(v / c2) + hp[HP_EPS])


@_inline
def _amsgrad_step(j, g, w, state, eta, hp, c1, c2):
    m = _first_moment(j, g, state, hp)
    v = _second_moment(j, g, state, hp)
    vmax = state[2, j]
    if v > vmax:
        vmax = v
    state[2, j] = vmax
    w[j] -= eta * (m / c1) / (math.sqrt(vmax / c2) + hp[HP_EPS])


@_inline
def apply_rule(rule, j, g, w, state, eta, hp, c1, c2, c1n):
    """One coordinate of SPEC section 2: update w[j] and state[:, j] from gradient g."""
    if rule == _SGD:
        w[j] -= eta * g
    elif rule == _MOMENTUM or rule == _NAG:
        _momentum_step(j, g, w, state, eta, hp)
    elif rule == _ADAGRAD:
        _adagrad_step(j, g, w, state, eta, hp)
    elif rule == _RMSPROP:
        _rmsprop_step(j, g, w, state, eta, hp)
    elif rule == _ADADELTA:
        _adadelta_step(j, g, w, state, eta, hp)
    elif rule == _ADAMAX:
        _adamax_step(j, g, w, state, eta, hp, c1)
    elif rule == _NADAM:
        _nadam_step(j, g, w, state, eta, hp, c1, c2, c1n)
    elif rule == _AMSGRAD:
        _amsgrad_step(j, g, w, state, eta, hp, c1, c2)
    else:  # adam, adamw (the decay is applied by the caller)
        _adam_step(j, g, w, state, eta, hp, c1, c2)


@_inline
def _coordinate(rule, j, gl, a2, w, state, eta, hp, c1, c2, c1n):
    """Add the L2 term to the loss gradient ``gl`` as the rule wants it, then step."""
    if rule == _NAG:
        g = gl + a2 * (w[j] - hp[HP_MOMENTUM] * state[0, j])
    elif rule == _ADAMW:
        w[j] *= 1.0 - eta * a2
        g = gl
    else:
        g = gl + a2 * w[j]
    apply_rule(rule, j, g, w, state, eta, hp, c1, c2, c1n)


@_inline
def _coord_index(klist, use_list, kk):
    return klist[kk] if use_list else kk


@_inline
def _coord_done(j, gbuf, mark, w, q, a1, u):
    """Clear the scratch of coordinate j and apply the cumulative L1 penalty."""
    gbuf[j] = 0.0
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
    if rule == _MOMENTUM:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _momentum_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, w, q, a1, u)
    elif rule == _NAG:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            g = gbuf[j] + a2 * (w[j] - hp[HP_MOMENTUM] * state[0, j])
            _momentum_step(j, g, w, state, eta, hp)
            _coord_done(j, gbuf, mark, w, q, a1, u)
    elif rule == _ADAGRAD:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _adagrad_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, w, q, a1, u)
    elif rule == _RMSPROP:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _rmsprop_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, w, q, a1, u)
    elif rule == _ADADELTA:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _adadelta_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp)
            _coord_done(j, gbuf, mark, w, q, a1, u)
    elif rule == _ADAMAX:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _adamax_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1)
            _coord_done(j, gbuf, mark, w, q, a1, u)
    elif rule == _NADAM:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _nadam_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1, c2, c1n)
            _coord_done(j, gbuf, mark, w, q, a1, u)
    elif rule == _AMSGRAD:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _amsgrad_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1, c2)
            _coord_done(j, gbuf, mark, w, q, a1, u)
    elif rule == _ADAMW:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            w[j] *= 1.0 - eta * a2
            _adam_step(j, gbuf[j], w, state, eta, hp, c1, c2)
            _coord_done(j, gbuf, mark, w, q, a1, u)
    elif rule == _ADAM:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            _adam_step(j, gbuf[j] + a2 * w[j], w, state, eta, hp, c1, c2)
            _coord_done(j, gbuf, mark, w, q, a1, u)
    else:
        for kk in range(count):
            j = _coord_index(klist, use_list, kk)
            w[j] -= eta * (gbuf[j] + a2 * w[j])
            _coord_done(j, gbuf, mark, w, q, a1, u)


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
        nz = max(0.0, z - (u + q[j]))
    elif z < 0.0:
        nz = min(0.0, z + (u - q[j]))
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
        loss_sum += sw[i] * loss_value(loss, y[i], p, param)
        dbuf[bi] = sw[i] * _clip_dloss(loss_dloss(loss, y[i], p, param)) / nb
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


@_jit
def optimizer_epoch(data, indices, indptr, dense_d, y, sw, order, batch_size,
                    w, state, hp, q, rule, loss, param, alpha, l1_ratio, fit_intercept,
                    lazy, schedule, eta, eta0, power_t, optimal_init, t, u,
                    gbuf, dbuf, mark, klist):
    """One epoch of SPEC section 2-3 with any rule over batches of ``order``.

    w[:-1] are the coefficients, w[-1] the intercept; state is (n_slots, n_features+1).
    Scratch: gbuf (n_features+1, zero on entry and exit), dbuf (batch_size), mark
    (n_features, zero on entry and exit), klist (n_features). On CSR, rule 'sgd' is
    exact through a scale factor; other rules touch only the batch's support when
    ``lazy``, every coordinate otherwise. L1 is the cumulative penalty applied to the
    coordinates a step touches. Returns (t, u, sum_i sw_i * L_i at the margins used).
    """
    n_features = w.shape[0] - 1
    n = order.shape[0]
    a2 = alpha * (1.0 - l1_ratio)
    a1 = alpha * l1_ratio
    gamma = hp[HP_MOMENTUM]
    b1 = hp[HP_BETA1]
    b2 = hp[HP_BETA2]
    sparse = dense_d == 0
    scaled = sparse and rule == _SGD
    all_coords = (not sparse) or (not lazy and not scaled)
    nag = rule == _NAG
    scale = 1.0
    loss_sum = 0.0
    for b0 in range(0, n, batch_size):
        b_end = min(b0 + batch_size, n)
        nb = b_end - b0
        eta_t = _step_size(schedule, eta, eta0, power_t, alpha, optimal_init, t)
        # margins of the whole batch at the current (or look-ahead) point
        b_int = w[n_features]
        if nag:
            b_int -= gamma * state[0, n_features]
        loss_sum = _batch_margins(data, indices, indptr, dense_d, y, sw, order, b0, nb, w,
                                  state, nag, gamma, scale, b_int, loss, param, dbuf,
                                  loss_sum)
        nk, g_int = _batch_gradient(data, indices, indptr, dense_d, order, b0, nb, dbuf,
                                    all_coords, sparse, gbuf, mark, klist)
        c1 = 1.0 - b1 ** t
        c2 = 1.0 - b2 ** t
        c1n = 1.0 - b1 ** (t + 1.0)
        u += a1 * eta_t
        if scaled:
            # w = scale * v: the L2 shrink of every coordinate is one multiplication
            scale *= 1.0 - eta_t * a2
            if scale == 0.0:
                for j in range(n_features):
                    w[j] = 0.0
                scale = 1.0
            for kk in range(nk):
                j = klist[kk]
                w[j] -= eta_t * gbuf[j] / scale
                gbuf[j] = 0.0
                mark[j] = 0
                if a1 > 0.0:
                    _l1_truncate(w, q, j, u, scale)
            if abs(scale) < _WSCALE_MIN:
                for j in range(n_features):
                    w[j] *= scale
                scale = 1.0
        else:
            _sweep(rule, n_features if all_coords else nk, not all_coords, klist, gbuf,
                   mark, w, state, q, hp, a1, a2, u, eta_t, c1, c2, c1n)
        if fit_intercept:
            _coordinate(rule, n_features, g_int, 0.0, w, state, eta_t, hp, c1, c2, c1n)
        t += 1.0
    if scale != 1.0:
        for j in range(n_features):
            w[j] *= scale
    return t, u, loss_sum


# ------------------------------------------------------------------ evaluation
@_jit
def margins(data, indices, indptr, dense_d, n_rows, w, intercept, out):
    """out[i] = x_i . w + intercept."""
    for i in range(n_rows):
        start, end = _row(indptr, dense_d, i)
        p = 0.0
        for k in range(start, end):
            p += w[_col(indices, dense_d, start, k)] * data[k]
        out[i] = p + intercept


@_jit
def weighted_loss_sum(y, p, sw, loss, param):
    """sum_i sw_i L(y_i, p_i)."""
    s = 0.0
    for i in range(y.shape[0]):
        s += sw[i] * loss_value(loss, y[i], p[i], param)
    return s


def _empty(dtype):
    return np.zeros(0, dtype=dtype)

"""Kernels for solver='sgd': one call runs one epoch and returns.

Only arrays and scalars come in. Rows are read through two helpers so that dense and
CSR data share every line of rule code: a dense C-ordered ``X`` is passed as its flat
view ``data`` with ``dense_d = n_features``; CSR passes ``data, indices, indptr`` with
``dense_d = 0``. The compiled specialisations are therefore only float32/float64 ``data``.

``plain_sgd_epoch`` is scikit-learn's ``_plain_sgd`` (per-sample SGD with the wscale
trick, Tsuruoka's cumulative L1 penalty, Bottou's lazy ASGD), step for step.
``optimizer_epoch`` is SPEC section 2-3: any rule, any batch size, lazy or exact CSR.

One source for both backends: Numba jits this file as ``fastgd.kernels._nb_sgd``, and
the Cython build compiles it (after ``_nb_common.py``, which holds the losses, row
access, schedules and every rule's step, with ``_nb_sgd.pxd``) as ``_cy_sgd``; see
``_nb_common.py``. Each public kernel is an entry (GIL released under Cython) around
its body ``_<name>``; under Numba the entry is that jitted body.
"""

try:
    import cython
except ImportError:  # the Numba backend runs without Cython (a build requirement only)
    from fastgd.kernels._nb_shim import cython

import numpy as np

if not cython.compiled:  # Numba; the Cython build has these in the same module
    from math import sqrt

    from fastgd._rules import (HP_BETA_1, HP_BETA_2, HP_MOMENTUM, PENALTY_ELASTICNET,
                               PENALTY_L1, PENALTY_L2, PENALTY_NONE, RULE_NAG, RULE_SGD)
    from fastgd.kernels._nb_common import (MAX_DLOSS, _WSCALE_MIN, _apply_rule,  # noqa: F401
                                           _batch_gradient, _batch_margins, _clip_dloss,
                                           _col, _coordinate, _l1_truncate, _loss_dloss,
                                           _loss_value, _prefetch_row, _row,
                                           _row_add_norms, _row_axpy, _row_dot,
                                           _step_size, _sweep, njit)

_jit = njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
_inline = njit(cache=True, nogil=True, inline="always", error_model="numpy",
               _nrt=False)
_entry = njit(entry=True)  # Cython: releases the GIL around _<name>; Numba: _<name>

_MASK32 = 0xFFFFFFFF  # xorshift32 on int64 (C int64_t under Cython)
_MASK31 = 0x7FFFFFFF


# --------------------------------------------------------------------------- losses
@_entry
def loss_value(loss, y, p, param):
    """L(y, p); y is in {-1, +1} for classification losses (as in scikit-learn)."""
    return _loss_value(loss, y, p, param)


@_entry
def loss_dloss(loss, y, p, param):
    """dL/dp, exactly as scikit-learn's SGD loss classes compute it (not yet clipped)."""
    return _loss_dloss(loss, y, p, param)


# ------------------------------------------------------------ scikit-learn's plain SGD
@_jit
def _plain_sgd_epoch(data, indices, indptr, dense_d, y, sw, order, w, aw, q, st, loss,
                     param, penalty, alpha, l1_ratio, fit_intercept, intercept_decay,
                     schedule, lr_params, t, average,
                     track_objective):
    """See plain_sgd_epoch (the Cython build: the nogil body of that entry)."""
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
    has_l1 = penalty == PENALTY_L1 or penalty == PENALTY_ELASTICNET
    for ii in range(order.shape[0]):
        _prefetch_row(data, indices, indptr, dense_d, order, ii, w)
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        p = _row_dot(data, indices, dense_d, start, end, w) * wscale + intercept
        eta_t = _step_size(schedule, lr_params, t)
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
                    v = w[j] - (u + q[j]) / wscale
                    w[j] = v if v > 0.0 else 0.0  # max(0.0, v), as Python computes it
                elif wscale * z < 0.0:
                    v = w[j] + (u - q[j]) / wscale
                    w[j] = v if v < 0.0 else 0.0  # min(0.0, v)
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


@_entry
def plain_sgd_epoch(data, indices, indptr, dense_d, y, sw, order, w, aw, q, st, loss,
                    param, penalty, alpha, l1_ratio, fit_intercept, intercept_decay,
                    schedule, lr_params, t, average,
                    track_objective):
    """One epoch of scikit-learn's ``_plain_sgd`` over the samples in ``order``.

    w = st[0] * w_raw (the wscale trick); ``st`` = [wscale, average_a, average_b, u,
    sq_norm, l1_norm, intercept, average_intercept] carries WeightVector's scalars
    across epochs of one fit call. ``sw`` holds sample_weight * class_weight.
    Returns (t, objective_sum) where objective_sum is scikit-learn's running sum of
    loss + penalty used by its stopping rule.
    """
    with cython.nogil:
        r = _plain_sgd_epoch(data, indices, indptr, dense_d, y, sw, order, w, aw, q, st,
                             loss, param, penalty, alpha, l1_ratio, fit_intercept,
                             intercept_decay, schedule, lr_params,
                             t, average, track_objective)
    return r


@_jit
def _sklearn_shuffle(index, seed):
    """scikit-learn's ``SequentialDataset.shuffle(seed)``, in place: Fisher-Yates driven by
    xorshift32 (``our_rand_r``: s ^= s << 13; s ^= s >> 17; s ^= s << 5 on uint32; draw =
    s mod 2^31). scikit-learn calls it every epoch with the same seed on the index array
    the previous epochs left, so applying it again continues its sample order exactly."""
    s = seed & _MASK32
    n = index.shape[0]
    for i in range(n - 1):
        if s == 0:
            s = 1
        s ^= (s << 13) & _MASK32
        s ^= s >> 17
        s ^= (s << 5) & _MASK32
        j = i + (s & _MASK31) % (n - i)
        tmp = index[i]
        index[i] = index[j]
        index[j] = tmp


@_entry
def sklearn_shuffle(index, seed):
    """scikit-learn's ``SequentialDataset.shuffle(seed)`` in place (see _sklearn_shuffle)."""
    with cython.nogil:
        _sklearn_shuffle(index, seed)


@_jit
def _plain_sgd_finish(w, aw, st, average):
    """WeightVector.reset_wscale: fold wscale (and ASGD's a, b) into the arrays."""
    if average > 0:
        for j in range(w.shape[0]):
            aw[j] = (aw[j] + st[1] * w[j]) / st[2]
        st[1] = 0.0
        st[2] = 1.0
    for j in range(w.shape[0]):
        w[j] *= st[0]
    st[0] = 1.0


@_entry
def plain_sgd_finish(w, aw, st, average):
    """WeightVector.reset_wscale: fold wscale (and ASGD's a, b) into the arrays."""
    with cython.nogil:
        _plain_sgd_finish(w, aw, st, average)


# --------------------------------------------------------------- every update rule
@_entry
def apply_rule(rule, j, g, w, state, eta, hp, c1, c2, c1n):
    """One coordinate of SPEC section 2: update w[j] and state[:, j] from gradient g.

    c1 = 1 - beta1^t, c2 = 1 - beta2^t, c1n = 1 - beta1^(t+1).
    """
    _apply_rule(rule, j, g, w, state, eta, hp, c1, c2, c1n)


@_jit
def _optimizer_epoch(data, indices, indptr, dense_d, y, sw, order, batch_size, w, state,
                     hp, q, rule, loss, param, alpha, l1_ratio, fit_intercept, lazy,
                     schedule, lr_params, t, u, gbuf, dbuf, mark,
                     klist):
    """See optimizer_epoch (the Cython build: the nogil body of that entry)."""
    n_features = w.shape[0] - 1
    n = order.shape[0]
    a2 = alpha * (1.0 - l1_ratio)
    a1 = alpha * l1_ratio
    gamma = hp[HP_MOMENTUM]
    b1 = hp[HP_BETA_1]
    b2 = hp[HP_BETA_2]
    sparse = dense_d == 0
    scaled = sparse and rule == RULE_SGD
    all_coords = (not sparse) or (not lazy and not scaled)
    nag = rule == RULE_NAG
    scale = 1.0
    loss_sum = 0.0
    if batch_size < 1:  # the Cython entry raises; here no step is taken
        return t, u, loss_sum
    b0 = 0
    while b0 < n:  # range(0, n, batch_size), with a C loop under Cython
        b_end = min(b0 + batch_size, n)
        nb = b_end - b0
        eta_t = _step_size(schedule, lr_params, t)
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
            if all_coords:  # CSR with lazy=False: clear the support's marks
                for kk in range(nk):
                    mark[klist[kk]] = 0
        if fit_intercept:
            _coordinate(rule, n_features, g_int, 0.0, w, state, eta_t, hp, c1, c2, c1n)
        t += 1.0
        b0 += batch_size
    if scale != 1.0:
        for j in range(n_features):
            w[j] *= scale
    return t, u, loss_sum


@_entry
def optimizer_epoch(data, indices, indptr, dense_d, y, sw, order, batch_size, w, state,
                    hp, q, rule, loss, param, alpha, l1_ratio, fit_intercept, lazy,
                    schedule, lr_params, t, u, gbuf, dbuf, mark,
                    klist):
    """One epoch of SPEC section 2-3 with any rule over batches of ``order``.

    w[:-1] are the coefficients, w[-1] the intercept; state is (n_slots, n_features+1).
    Scratch: gbuf (n_features+1, zero on entry and exit), dbuf (batch_size), mark
    (n_features, zero on entry and exit), klist (n_features). On CSR, rule 'sgd' is
    exact through a scale factor; other rules touch only the batch's support when
    ``lazy``, every coordinate otherwise. L1 is the cumulative penalty applied to the
    coordinates a step touches. Returns (t, u, sum_i sw_i * L_i at the margins used).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    with cython.nogil:
        r = _optimizer_epoch(data, indices, indptr, dense_d, y, sw, order, batch_size, w,
                             state, hp, q, rule, loss, param, alpha, l1_ratio,
                             fit_intercept, lazy, schedule, lr_params,
                             t, u, gbuf, dbuf, mark, klist)
    return r


# ------------------------------------------------------------------ evaluation
@_jit
def _margins(data, indices, indptr, dense_d, n_rows, w, intercept, out):
    """out[i] = x_i . w + intercept."""
    for i in range(n_rows):
        start, end = _row(indptr, dense_d, i)
        p = 0.0
        for k in range(start, end):
            p += w[_col(indices, dense_d, start, k)] * data[k]
        out[i] = p + intercept


@_entry
def margins(data, indices, indptr, dense_d, n_rows, w, intercept, out):
    """out[i] = x_i . w + intercept."""
    with cython.nogil:
        _margins(data, indices, indptr, dense_d, n_rows, w, intercept, out)


@_jit
def _weighted_loss_sum(y, p, sw, loss, param):
    """sum_i sw_i L(y_i, p_i)."""
    s = 0.0
    for i in range(y.shape[0]):
        s += sw[i] * _loss_value(loss, y[i], p[i], param)
    return s


@_entry
def weighted_loss_sum(y, p, sw, loss, param):
    """sum_i sw_i L(y_i, p_i)."""
    with cython.nogil:
        s = _weighted_loss_sum(y, p, sw, loss, param)
    return s


def _empty(dtype):
    return np.zeros(0, dtype=dtype)

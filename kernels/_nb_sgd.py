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
    from fastgd._rules import (FP_CLIP_NORM, FP_CLIP_VALUE, FP_T, FP_U, IP_BATCH_SIZE,
                               IP_NOISE_SEED, IP_RULE, IP_SCHEDULE)
    from fastgd.kernels._nb_common import (MAX_DLOSS, _apply_rule, _col,  # noqa: F401
                                           _corrections, _gradient_pass, _gram_add,
                                           _logistic_hessian_rows, _loss_dloss,
                                           _loss_value, _noise_key, _noise_sd,
                                           _norm_factor, _opt_run, _plain_run, _row,
                                           _step_size, _tooled_one, njit)

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
def _plain_sgd_steps(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp):
    """See plain_sgd_steps (the Cython build: the nogil body of that entry)."""
    _plain_run(data, indices, indptr, y, sw, order, 0, order.shape[0], w, aw, q, ip, fp,
               False, 1.0, st)
    fp[FP_T] += order.shape[0]
    return st[8]


@_jit
def _plain_sgd_epoch(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp):
    """See plain_sgd_epoch (the Cython build: the nogil body of that entry)."""
    st[8] = 0.0
    return _plain_sgd_steps(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp)


@_entry
def plain_sgd_epoch(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp):
    """One epoch of scikit-learn's ``_plain_sgd`` over the samples in ``order``.

    w = st[0] * w_raw (the wscale trick); ``st`` = [wscale, average_a, average_b, u,
    sq_norm, l1_norm, intercept, average_intercept, objective_sum] carries
    WeightVector's scalars across epochs of one fit call. ``sw`` holds sample_weight *
    class_weight. The records (``fastgd._rules.records``): ``ip`` dense_d, loss,
    penalty, schedule, fit_intercept, average, track (compute the objective); ``fp``
    the schedule's slots, param, alpha, l1_ratio, intercept_decay and t (advanced by
    len(order)). Returns objective_sum, scikit-learn's running sum of loss + penalty
    used by its stopping rule (0 unless track).
    """
    with cython.nogil:
        r = _plain_sgd_epoch(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp)
    return r


@_entry
def plain_sgd_steps(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp):
    """The steps of ``plain_sgd_epoch`` for the samples in ``order``, without zeroing
    the running objective ``st[8]`` first: an epoch whose order is cut into pieces,
    run one call each (st[8] zeroed before the first), takes exactly the steps of one
    ``plain_sgd_epoch`` call and returns the same objective_sum (the out-of-core
    read-ahead, ``fastgd.epoch_order.Readahead``, runs epochs so)."""
    with cython.nogil:
        r = _plain_sgd_steps(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp)
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
def _rule_step(w, g, state, ip, fp):
    """See rule_step (the Cython build: the nogil body of that entry)."""
    t = fp[FP_T]
    rule = ip[IP_RULE]
    eta_t = _step_size(ip[IP_SCHEDULE], fp, t)
    sd = _noise_sd(fp, t)
    key = _noise_key(ip[IP_NOISE_SEED], t)
    clip_value = fp[FP_CLIP_VALUE]
    n = w.shape[0]
    sq = 0.0
    for j in range(n):
        gj = _tooled_one(g[j], sd, key, j, clip_value)
        g[j] = gj
        sq += gj * gj
    f = _norm_factor(sq, fp[FP_CLIP_NORM])
    c1, c2, c1n = _corrections(rule, fp, t)
    for j in range(n):
        if f < 1.0:
            g[j] *= f
        _apply_rule(rule, j, g[j], w, state, eta_t, fp, c1, c2, c1n)
    fp[FP_T] = t + 1.0
    return eta_t


@_entry
def rule_step(w, g, state, ip, fp):
    """One step t = fp[FP_T] (then advanced) of SPEC sections 2 and 7 on every
    coordinate of ``w``, from the objective's gradient ``g`` at w (nag: at its look-ahead
    point w - gamma state[0]): noise, clipping, then ``ip``'s rule with its state
    (n_slots, len(w)) and its schedule's eta_t, which it returns. ``g`` is overwritten
    with the gradient the rule used. What ``fastgd.optimize.minimize`` steps with."""
    with cython.nogil:
        r = _rule_step(w, g, state, ip, fp)
    return r


@_jit
def _optimizer_epoch(data, indices, indptr, y, sw, order, w, state, q, ip, fp, gbuf, mark,
                     klist):
    """See optimizer_epoch (the Cython build: the nogil body of that entry)."""
    d = w.shape[0] - 1
    batch_size = ip[IP_BATCH_SIZE]
    if batch_size < 1:  # the Cython entry raises; here no step is taken
        return 0.0
    n_batches = (order.shape[0] + batch_size - 1) // batch_size
    bb, u, scale, loss_sum = _opt_run(data, indices, indptr, y, sw, order, 0, n_batches,
                                      w, state, q, ip, fp, False, 1.0, fp[FP_U], 1.0, 0.0,
                                      w[d:], state[:, d:], gbuf, mark, klist)
    if scale != 1.0:
        for j in range(d):
            w[j] *= scale
    fp[FP_T] += n_batches
    fp[FP_U] = u
    return loss_sum


@_entry
def optimizer_epoch(data, indices, indptr, y, sw, order, w, state, q, ip, fp, gbuf, mark,
                    klist):
    """One epoch of SPEC section 2-3 with any rule over batches of ``order``.

    w[:-1] are the coefficients, w[-1] the intercept; state is (n_slots, n_features+1),
    q the cumulative L1 penalty received. The records (``fastgd._rules.records``):
    ``ip`` dense_d, rule, loss, schedule, fit_intercept, lazy, batch_size; ``fp`` the
    schedule's and the rule's slots, param, alpha, l1_ratio, t and u (both advanced).
    Scratch: gbuf (n_features+1, zero on entry and exit), mark (n_features, zero on
    entry and exit), klist (n_features). On CSR, rule 'sgd' is exact through a scale
    factor; other rules touch only the batch's support when ``lazy``, every coordinate
    otherwise. L1 is the cumulative penalty applied to the coordinates a step touches.
    Returns sum_i sw_i * L_i at the margins used.
    """
    if ip[IP_BATCH_SIZE] < 1:
        raise ValueError("batch_size must be >= 1")
    with cython.nogil:
        r = _optimizer_epoch(data, indices, indptr, y, sw, order, w, state, q, ip, fp,
                             gbuf, mark, klist)
    return r


@_jit
def _loss_gradient(data, indices, indptr, y, sw, order, w, ip, fp, gbuf):
    """See loss_gradient (the Cython build: the nogil body of that entry)."""
    for j in range(gbuf.shape[0]):
        gbuf[j] = 0.0
    return _gradient_pass(data, indices, indptr, y, sw, order, 0, order.shape[0], w, ip,
                          fp, gbuf)


@_entry
def loss_gradient(data, indices, indptr, y, sw, order, w, ip, fp, gbuf):
    """Sum_i s_i L(y_i, p_i) over the rows ``order`` at (w[:-1], w[-1]), and in gbuf
    (n_features + 1, overwritten) the sums of s_i L'_i x_i and of s_i L'_i: one pass
    (``ip``: dense_d, loss; ``fp``: param). What solver='lbfgs' evaluates."""
    with cython.nogil:
        r = _loss_gradient(data, indices, indptr, y, sw, order, w, ip, fp, gbuf)
    return r


# ------------------------------------------------------------------ schedules
@_jit
def _step_sizes(schedule, fp, t, out):
    """out[i] = eta of step t[i]: the schedules' one definition (fastgd.schedules)."""
    for i in range(t.shape[0]):
        out[i] = _step_size(schedule, fp, t[i])


@_entry
def step_sizes(schedule, fp, t, out):
    """out[i] = eta of step t[i]: the schedules' one definition (fastgd.schedules)."""
    with cython.nogil:
        _step_sizes(schedule, fp, t, out)


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


# ------------------------------------------------------------------ Newton's method
@_jit
def _hessian_sum(data, indices, indptr, dense_d, order, h, H):
    """See hessian_sum."""
    for ii in range(order.shape[0]):
        i = order[ii]
        if h[i] != 0.0:
            start, end = _row(indptr, dense_d, i)
            _gram_add(data, indices, dense_d, start, end, h[i], H)


@_entry
def hessian_sum(data, indices, indptr, dense_d, order, h, H):
    """H (d + 1, d + 1) += sum_{i in order} h_i (x_i, 1)(x_i, 1)^T, each pair of a row's
    entries once: entry (a, b) of the row goes to H[j_a, j_b] for a <= b (the intercept
    to column d), so that H + H^T - diag(H) is the sum. Rows without a duplicate column.
    One pass, sum_i nnz_i^2 / 2 products: what solver='newton-cholesky' assembles."""
    with cython.nogil:
        _hessian_sum(data, indices, indptr, dense_d, order, h, H)


@_jit
def _logistic_hessian_sum(data, indices, indptr, dense_d, order, sw, w, H):
    """See logistic_hessian_sum."""
    _logistic_hessian_rows(data, indices, indptr, dense_d, order, 0, order.shape[0], sw, w,
                           H)


@_entry
def logistic_hessian_sum(data, indices, indptr, dense_d, order, sw, w, H):
    """``hessian_sum`` with h_i = s_i σ(p_i)(1 - σ(p_i)) at p_i = x_i·w[:d] + w[d], the
    binary logistic loss's curvature, computed in the same pass (no margins array)."""
    with cython.nogil:
        _logistic_hessian_sum(data, indices, indptr, dense_d, order, sw, w, H)


def _empty(dtype):
    return np.zeros(0, dtype=dtype)

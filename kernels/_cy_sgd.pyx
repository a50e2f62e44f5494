# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Cython twin of ``kernels/_nb_sgd.py``: the same kernels, names and signatures.

Every function here mirrors its Numba namesake line by line, with the floating-point
operations in the same order and the same libm calls (``exp``, ``log``, ``log1p``,
``pow``, ``sqrt``), so that both backends give the same numbers (bit for bit on the
same machine; the build turns floating-point contraction off). ``data`` is float32 or
float64 (a fused type: one specialisation each); every other float array is float64.
Ids come from ``_ids.pxi``, which setup.py writes from ``fastgd/_rules.py``.

Dense C-ordered X is passed as its flat view with ``dense_d = n_features`` (and empty
``indices``/``indptr``); CSR passes ``data, indices, indptr`` with ``dense_d = 0``.
The loops run without the GIL.
"""

from cython cimport floating
from libc.math cimport exp, log, log1p, pow, sqrt, fabs
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t

include "_ids.pxi"

cdef extern from *:
    """
    #ifdef _OPENMP
    #define FASTGD_CY_OPENMP 1
    #else
    #define FASTGD_CY_OPENMP 0
    #endif
    """
    int FASTGD_CY_OPENMP

#: Whether this extension was compiled with OpenMP (``-fopenmp``); the kernels are serial.
OPENMP = bool(FASTGD_CY_OPENMP)

include "_losses.pxi"
include "_common.pxi"


# ------------------------------------------------------------ scikit-learn's plain SGD
def plain_sgd_epoch(const floating[:] data, const int32_t[:] indices,
                    const int64_t[:] indptr, Py_ssize_t dense_d,
                    const double[:] y, const double[:] sw, const int64_t[:] order,
                    double[:] w, double[:] aw, double[:] q, double[:] st,
                    int loss, double param, int penalty, double alpha, double l1_ratio,
                    bint fit_intercept, double intercept_decay,
                    int schedule, double eta, double eta0, double power_t,
                    double optimal_init, double t, long average, bint track_objective):
    """One epoch of scikit-learn's ``_plain_sgd`` over the samples in ``order``.

    w = st[0] * w_raw (the wscale trick); ``st`` = [wscale, average_a, average_b, u,
    sq_norm, l1_norm, intercept, average_intercept] carries WeightVector's scalars
    across epochs of one fit call. ``sw`` holds sample_weight * class_weight.
    Returns (t, objective_sum) where objective_sum is scikit-learn's running sum of
    loss + penalty used by its stopping rule.
    """
    cdef double wscale = st[0]
    cdef double avg_a = st[1]
    cdef double avg_b = st[2]
    cdef double u = st[3]
    cdef double sq_norm = st[4]
    cdef double l1_norm = st[5]
    cdef double intercept = st[6]
    cdef double avg_intercept = st[7]
    cdef Py_ssize_t n_features = w.shape[0]
    cdef double objective_sum = 0.0
    cdef bint has_l1 = penalty == PENALTY_L1 or penalty == PENALTY_ELASTICNET
    cdef Py_ssize_t ii, i, start, end, k, j
    cdef double p, eta_t, yi, nrm, update, c, l2acc, l1acc, cw, num_iter, mu, z, v
    with nogil:
        for ii in range(order.shape[0]):
            _prefetch_row(data, indices, indptr, dense_d, order, ii, w)
            i = <Py_ssize_t>order[ii]
            start = _row_start(indptr, dense_d, i)
            end = _row_end(indptr, dense_d, i)
            p = 0.0
            for k in range(start, end):
                p += w[_col(indices, dense_d, start, k)] * data[k]
            p = p * wscale + intercept
            eta_t = _step_size(schedule, eta, eta0, power_t, alpha, optimal_init, t)
            yi = y[i]
            if track_objective:
                objective_sum += loss_value(loss, yi, p, param)
                if penalty > PENALTY_NONE:
                    nrm = sqrt(sq_norm)
                    objective_sum += alpha * ((1.0 - l1_ratio) * 0.5 * nrm * nrm
                                              + l1_ratio * l1_norm)
            update = -eta_t * _clip_dloss(loss_dloss(loss, yi, p, param))
            update *= sw[i]
            if penalty >= PENALTY_L2:
                c = 1.0 - (1.0 - l1_ratio) * eta_t * alpha
                if c < 0.0:
                    c = 0.0
                wscale *= c
                sq_norm *= c * c
                l1_norm *= fabs(c)
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
                l2acc = 0.0
                l1acc = 0.0
                cw = update / wscale
                for k in range(start, end):
                    j = _col(indices, dense_d, start, k)
                    w[j] += data[k] * cw
                    l2acc += w[j] * w[j]
                    l1acc += fabs(w[j])
                sq_norm = l2acc * (wscale * wscale)
                l1_norm = l1acc * wscale
            elif update != 0.0:  # the norms only feed the objective
                cw = update / wscale
                for k in range(start, end):
                    w[_col(indices, dense_d, start, k)] += data[k] * cw
            if fit_intercept and update != 0.0:
                intercept += update * intercept_decay
            if 0 < average and average <= t:
                num_iter = t - average + 1.0
                mu = 1.0 / num_iter
                cw = avg_a * (-update / wscale)
                for k in range(start, end):
                    aw[_col(indices, dense_d, start, k)] += cw * data[k]
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
                        w[j] = v if v > 0.0 else 0.0  # max(0.0, v) as Python/Numba
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


def sklearn_shuffle(int64_t[:] index, long long seed):
    """scikit-learn's ``SequentialDataset.shuffle(seed)`` in place (see _nb_sgd)."""
    cdef uint32_t s = <uint32_t>(seed & 0xFFFFFFFF)
    cdef Py_ssize_t n = index.shape[0]
    cdef Py_ssize_t i, j
    cdef int64_t tmp
    with nogil:
        for i in range(n - 1):
            if s == 0:
                s = 1
            s ^= <uint32_t>(s << 13)
            s ^= s >> 17
            s ^= <uint32_t>(s << 5)
            j = i + <Py_ssize_t>((s & 0x7FFFFFFF) % <uint32_t>(n - i))
            tmp = index[i]
            index[i] = index[j]
            index[j] = tmp


def plain_sgd_finish(double[:] w, double[:] aw, double[:] st, long average):
    """WeightVector.reset_wscale: fold wscale (and ASGD's a, b) into the arrays."""
    cdef Py_ssize_t j
    with nogil:
        if average > 0:
            for j in range(w.shape[0]):
                aw[j] = (aw[j] + st[1] * w[j]) / st[2]
            st[1] = 0.0
            st[2] = 1.0
        for j in range(w.shape[0]):
            w[j] *= st[0]
        st[0] = 1.0


# --------------------------------------------------------------- every update rule
cpdef void apply_rule(int rule, Py_ssize_t j, double g, double[:] w,
                      double[:, :] state, double eta, const double[:] hp,
                      double c1, double c2, double c1n) noexcept nogil:
    """One coordinate of SPEC section 2 (the twin of _nb_sgd.apply_rule)."""
    _apply_rule(rule, j, g, w, state, eta, hp, c1, c2, c1n)



def optimizer_epoch(const floating[:] data, const int32_t[:] indices,
                    const int64_t[:] indptr, Py_ssize_t dense_d,
                    const double[:] y, const double[:] sw, const int64_t[:] order,
                    Py_ssize_t batch_size,
                    double[:] w, double[:, :] state, const double[:] hp, double[:] q,
                    int rule, int loss, double param, double alpha, double l1_ratio,
                    bint fit_intercept, bint lazy, int schedule, double eta, double eta0,
                    double power_t, double optimal_init, double t, double u,
                    double[:] gbuf, double[:] dbuf, uint8_t[:] mark, int64_t[:] klist):
    """One epoch of SPEC section 2-3 with any rule over batches of ``order``.

    w[:-1] are the coefficients, w[-1] the intercept; state is (n_slots, n_features+1).
    Scratch: gbuf (n_features+1, zero on entry and exit), dbuf (batch_size), mark
    (n_features, zero on entry and exit), klist (n_features). On CSR, rule 'sgd' is
    exact through a scale factor; other rules touch only the batch's support when
    ``lazy``, every coordinate otherwise. L1 is the cumulative penalty applied to the
    coordinates a step touches. Returns (t, u, sum_i sw_i * L_i at the margins used).
    """
    cdef Py_ssize_t n_features = w.shape[0] - 1
    cdef Py_ssize_t n = order.shape[0]
    cdef double a2 = alpha * (1.0 - l1_ratio)
    cdef double a1 = alpha * l1_ratio
    cdef double gamma = hp[HP_MOMENTUM]
    cdef double b1 = hp[HP_BETA_1]
    cdef double b2 = hp[HP_BETA_2]
    cdef bint sparse = dense_d == 0
    cdef bint scaled = sparse and rule == RULE_SGD
    cdef bint all_coords = (not sparse) or (not lazy and not scaled)
    cdef bint nag = rule == RULE_NAG
    cdef double scale = 1.0
    cdef double loss_sum = 0.0
    cdef Py_ssize_t b0, b_end, nb, bi, i, start, end, k, j, nk, kk
    cdef double eta_t, b_int, p, g_int, c, c1, c2, c1n
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    with nogil:
        b0 = 0
        while b0 < n:  # range(0, n, batch_size)
            b_end = b0 + batch_size
            if n < b_end:
                b_end = n
            nb = b_end - b0
            eta_t = _step_size(schedule, eta, eta0, power_t, alpha, optimal_init, t)
            # margins of the whole batch at the current (or look-ahead) point
            b_int = w[n_features]
            if nag:
                b_int -= gamma * state[0, n_features]
            for bi in range(nb):
                _prefetch_row(data, indices, indptr, dense_d, order, b0 + bi, w)
                i = <Py_ssize_t>order[b0 + bi]
                start = _row_start(indptr, dense_d, i)
                end = _row_end(indptr, dense_d, i)
                p = 0.0
                if nag:
                    for k in range(start, end):
                        j = _col(indices, dense_d, start, k)
                        p += (w[j] - gamma * state[0, j]) * data[k]
                else:
                    for k in range(start, end):
                        p += w[_col(indices, dense_d, start, k)] * data[k]
                p = p * scale + b_int
                loss_sum += sw[i] * loss_value(loss, y[i], p, param)
                dbuf[bi] = sw[i] * _clip_dloss(loss_dloss(loss, y[i], p, param)) / nb
            # loss gradient on the support, and the support itself
            nk = 0
            g_int = 0.0
            for bi in range(nb):
                i = <Py_ssize_t>order[b0 + bi]
                c = dbuf[bi]
                g_int += c
                if c == 0.0 and all_coords:
                    continue
                start = _row_start(indptr, dense_d, i)
                end = _row_end(indptr, dense_d, i)
                for k in range(start, end):
                    j = _col(indices, dense_d, start, k)
                    gbuf[j] += c * data[k]
                    if sparse and mark[j] == 0:
                        mark[j] = 1
                        klist[nk] = j
                        nk += 1
            c1 = 1.0 - pow(b1, t)
            c2 = 1.0 - pow(b2, t)
            c1n = 1.0 - pow(b1, t + 1.0)
            u += a1 * eta_t
            if scaled:
                # w = scale * v: the L2 shrink of every coordinate is one multiplication
                scale *= 1.0 - eta_t * a2
                if scale == 0.0:
                    for j in range(n_features):
                        w[j] = 0.0
                    scale = 1.0
                for kk in range(nk):
                    j = <Py_ssize_t>klist[kk]
                    w[j] -= eta_t * gbuf[j] / scale
                    gbuf[j] = 0.0
                    mark[j] = 0
                    if a1 > 0.0:
                        _l1_truncate(w, q, j, u, scale)
                if fabs(scale) < _WSCALE_MIN:
                    for j in range(n_features):
                        w[j] *= scale
                    scale = 1.0
            elif all_coords:
                for j in range(n_features):
                    _coordinate(rule, j, gbuf[j], a2, w, state, eta_t, hp, c1, c2, c1n)
                    gbuf[j] = 0.0
                    if a1 > 0.0:
                        _l1_truncate(w, q, j, u, 1.0)
                for kk in range(nk):
                    mark[klist[kk]] = 0
            else:
                for kk in range(nk):
                    j = <Py_ssize_t>klist[kk]
                    _coordinate(rule, j, gbuf[j], a2, w, state, eta_t, hp, c1, c2, c1n)
                    gbuf[j] = 0.0
                    mark[j] = 0
                    if a1 > 0.0:
                        _l1_truncate(w, q, j, u, 1.0)
            if fit_intercept:
                _coordinate(rule, n_features, g_int, 0.0, w, state, eta_t, hp, c1, c2,
                            c1n)
            t += 1.0
            b0 += batch_size
        if scale != 1.0:
            for j in range(n_features):
                w[j] *= scale
    return t, u, loss_sum


# ------------------------------------------------------------------ evaluation
def margins(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
            Py_ssize_t dense_d, Py_ssize_t n_rows, const double[:] w, double intercept,
            double[:] out):
    """out[i] = x_i . w + intercept."""
    cdef Py_ssize_t i, start, end, k
    cdef double p
    with nogil:
        for i in range(n_rows):
            start = _row_start(indptr, dense_d, i)
            end = _row_end(indptr, dense_d, i)
            p = 0.0
            for k in range(start, end):
                p += w[_col(indices, dense_d, start, k)] * data[k]
            out[i] = p + intercept


def weighted_loss_sum(const double[:] y, const double[:] p, const double[:] sw, int loss,
                      double param):
    """sum_i sw_i L(y_i, p_i)."""
    cdef double s = 0.0
    cdef Py_ssize_t i
    with nogil:
        for i in range(y.shape[0]):
            s += sw[i] * loss_value(loss, y[i], p[i], param)
    return s

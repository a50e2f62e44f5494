# Shared by the Cython kernels (include "_common.pxi" after _ids.pxi and _losses.pxi):
# the twins of _nb_sgd.py's constants, row access, prefetch, schedules and the
# per-coordinate rule step. One copy, so every Cython kernel computes the same thing.

from libc.math cimport fabs, pow, sqrt

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define FASTGD_PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 3)
    #else
    #define FASTGD_PREFETCH(p) ((void)0)
    #endif
    """
    void FASTGD_PREFETCH(const void *p) noexcept nogil

cdef double MAX_DLOSS = 1e12
cdef double _WSCALE_MIN = 1e-9


cdef inline Py_ssize_t _imin(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a < b else b


cdef inline bint _busy(const int64_t[::1] pos, const int64_t[::1] hi,
                       Py_ssize_t K) noexcept nogil:
    """Whether any thread k < K has steps left (pos[k] < hi[k]): another round is needed."""
    cdef Py_ssize_t k
    for k in range(K):
        if pos[k] < hi[k]:
            return True
    return False


cdef inline double _soft(double x, double th) noexcept nogil:
    """Soft-threshold: sign(x) max(|x| - th, 0) (the L1 prox)."""
    if x > th:
        return x - th
    if x < -th:
        return x + th
    return 0.0


cdef inline double _clip_dloss(double d) noexcept nogil:
    if d < -MAX_DLOSS:
        return -MAX_DLOSS
    if d > MAX_DLOSS:
        return MAX_DLOSS
    return d


# ----------------------------------------------------------------------- row access
cdef inline Py_ssize_t _row_start(const int64_t[:] indptr, Py_ssize_t dense_d,
                                  Py_ssize_t i) noexcept nogil:
    if dense_d > 0:
        return i * dense_d
    return <Py_ssize_t>indptr[i]


cdef inline Py_ssize_t _row_end(const int64_t[:] indptr, Py_ssize_t dense_d,
                                Py_ssize_t i) noexcept nogil:
    if dense_d > 0:
        return (i + 1) * dense_d
    return <Py_ssize_t>indptr[i + 1]


cdef inline Py_ssize_t _col(const int32_t[:] indices, Py_ssize_t dense_d,
                            Py_ssize_t start, Py_ssize_t k) noexcept nogil:
    if dense_d > 0:
        return k - start
    return <Py_ssize_t>indices[k]


# rows ahead, as PREFETCH_ROWS / PREFETCH_W in _nb_sgd.py (tuning constants, not ids)
cdef Py_ssize_t PREFETCH_ROWS = 8
cdef Py_ssize_t PREFETCH_W = 3


cdef inline void _prefetch_row(const floating[:] data, const int32_t[:] indices,
                               const int64_t[:] indptr, Py_ssize_t dense_d,
                               const int64_t[:] order, Py_ssize_t ii,
                               const double[:] w) noexcept nogil:
    """The row of order[ii + PREFETCH_ROWS], then w at the columns of order[ii + PREFETCH_W].

    The same hints as ``_prefetch_row`` of the Numba kernels; they change no result.
    """
    cdef Py_ssize_t m = order.shape[0]
    cdef Py_ssize_t nxt = ii + PREFETCH_ROWS
    cdef Py_ssize_t r, start, end, k
    if nxt < m:
        r = <Py_ssize_t>order[nxt]
        start = _row_start(indptr, dense_d, r)
        end = _row_end(indptr, dense_d, r)
        if end > start:
            for k in range(start, end, 8):
                FASTGD_PREFETCH(&data[k])
            FASTGD_PREFETCH(&data[end - 1])
            if dense_d == 0:
                for k in range(start, end, 16):
                    FASTGD_PREFETCH(&indices[k])
                FASTGD_PREFETCH(&indices[end - 1])
    nxt = ii + PREFETCH_W
    if dense_d == 0 and nxt < m:
        r = <Py_ssize_t>order[nxt]
        for k in range(<Py_ssize_t>indptr[r], <Py_ssize_t>indptr[r + 1]):
            FASTGD_PREFETCH(&w[indices[k]])


cdef inline double _step_size(int schedule, double eta, double eta0, double power_t,
                              double alpha, double optimal_init, double t) noexcept nogil:
    if schedule == SCHEDULE_OPTIMAL:
        return 1.0 / (alpha * (optimal_init + t - 1.0))
    elif schedule == SCHEDULE_INVSCALING:
        return eta0 / pow(t, power_t)
    return eta


# --------------------------------------------------------------- every update rule
cdef inline void _apply_rule(int rule, Py_ssize_t j, double g, double[:] w,
                             double[:, :] state, double eta, const double[:] hp,
                             double c1, double c2, double c1n) noexcept nogil:
    """One coordinate of SPEC section 2: update w[j] and state[:, j] from gradient g.

    c1 = 1 - beta1^t, c2 = 1 - beta2^t, c1n = 1 - beta1^(t+1) (computed once per step).
    """
    cdef double v, G, rho, E, eps, delta, b1, b2, m, u, ag, mbar, vmax
    if rule == RULE_SGD:
        w[j] -= eta * g
    elif rule == RULE_MOMENTUM or rule == RULE_NAG:
        v = hp[HP_MOMENTUM] * state[0, j] + eta * g
        state[0, j] = v
        w[j] -= v
    elif rule == RULE_ADAGRAD:
        G = state[0, j] + g * g
        state[0, j] = G
        w[j] -= eta * g / (sqrt(G) + hp[HP_EPS])
    elif rule == RULE_RMSPROP:
        rho = hp[HP_RHO]
        E = rho * state[0, j] + (1.0 - rho) * g * g
        state[0, j] = E
        w[j] -= eta * g / (sqrt(E) + hp[HP_EPS])
    elif rule == RULE_ADADELTA:
        rho = hp[HP_RHO]
        eps = hp[HP_EPS]
        E = rho * state[0, j] + (1.0 - rho) * g * g
        state[0, j] = E
        delta = -sqrt(state[1, j] + eps) / sqrt(E + eps) * g
        state[1, j] = rho * state[1, j] + (1.0 - rho) * delta * delta
        w[j] += eta * delta
    else:
        b1 = hp[HP_BETA_1]
        b2 = hp[HP_BETA_2]
        eps = hp[HP_EPS]
        m = b1 * state[0, j] + (1.0 - b1) * g
        state[0, j] = m
        if rule == RULE_ADAMAX:
            u = b2 * state[1, j]
            ag = fabs(g)
            if ag > u:
                u = ag
            state[1, j] = u
            w[j] -= eta / c1 * m / (u + eps)
            return
        v = b2 * state[1, j] + (1.0 - b2) * g * g
        state[1, j] = v
        if rule == RULE_NADAM:
            mbar = (1.0 - b1) * (g / c1) + b1 * (m / c1n)
            w[j] -= eta * mbar / (sqrt(v / c2) + eps)
        elif rule == RULE_AMSGRAD:
            vmax = state[2, j]
            if v > vmax:
                vmax = v
            state[2, j] = vmax
            w[j] -= eta * (m / c1) / (sqrt(vmax / c2) + eps)
        else:  # adam, adamw (the decay is applied by the caller)
            w[j] -= eta * (m / c1) / (sqrt(v / c2) + eps)


cdef inline void _coordinate(int rule, Py_ssize_t j, double gl, double a2, double[:] w,
                             double[:, :] state, double eta, const double[:] hp,
                             double c1, double c2, double c1n) noexcept nogil:
    """Add the L2 term to the loss gradient ``gl`` as the rule wants it, then step."""
    cdef double g
    if rule == RULE_NAG:
        g = gl + a2 * (w[j] - hp[HP_MOMENTUM] * state[0, j])
    elif rule == RULE_ADAMW:
        w[j] *= 1.0 - eta * a2
        g = gl
    else:
        g = gl + a2 * w[j]
    _apply_rule(rule, j, g, w, state, eta, hp, c1, c2, c1n)


cdef inline void _l1_truncate(double[:] w, double[:] q, Py_ssize_t j, double u,
                              double scale) noexcept nogil:
    """Tsuruoka et al.'s cumulative L1 penalty on coordinate j (w_true = scale * w).

    The clipping is done on the true value scale * w[j]: in optimizer_epoch the scale
    factor of rule 'sgd' on CSR is not clipped at 0 (SPEC section 2 is w <- w - eta g
    exactly, as on dense data), so it is negative once eta * alpha * (1 - l1_ratio) > 1,
    and clipping the stored value would then clip on the wrong side of 0.
    """
    cdef double z = scale * w[j]
    cdef double nz
    if z > 0.0:
        nz = z - (u + q[j])
        if not nz > 0.0:  # max(0.0, nz) as Python/Numba compute it
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


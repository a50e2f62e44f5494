# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Cython twin of ``kernels/_nb_parallel.py``: Hogwild! and synchronous data parallelism.

The same public kernels (``hogwild_plain_epoch``, ``hogwild_optimizer_epoch``,
``sync_optimizer_epoch``) with the same argument names, order and returns, the same
per-thread scratch rows, the same rounds and merges, and the same floating-point
operations in the same order as the Numba kernels (and, through them, as the serial
kernels of ``_cy_sgd``/``_nb_sgd``). See ``_nb_parallel.py`` for the method.

Threads: every ``prange`` runs the ``K <= n_threads`` iterations of its Numba twin with
``num_threads=K``, ``schedule='static', chunksize=1`` (one iteration per OpenMP thread),
and the iteration index -- never ``omp_get_thread_num()`` -- picks the scratch row. So:

- with ``n_threads=1`` every kernel is bit-identical to the Numba one and to the serial
  kernel;
- ``sync_optimizer_epoch`` cuts each batch into the same pieces and reduces the
  per-thread rows in the same fixed order 0, 1, ..., K-1, so it is deterministic and
  bit-identical to its Numba twin for any thread count;
- Hogwild! with more than one thread is racy by design (nondeterministic, as in Numba).

Built without OpenMP (no ``-fopenmp``: ``OPENMP`` is False) the ``prange`` loops run
their iterations one after another: same results as above, no speed-up; the engine then
does not use these kernels (``n_jobs`` parallelises one-vs-rest problems only).

GNU OpenMP is thread-safe: several Python threads may run these kernels at once (each
call starts its own team), so ``guard()`` locks nothing. It is not fork-safe: a process
forked after a parallel region ran must not call them (use 'spawn' or 'forkserver').

``data`` is float32 or float64 (a fused type); every other float array is float64.
"""

from contextlib import contextmanager

import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport exp, log, log1p, pow, sqrt, fabs
from libc.stdint cimport int32_t, int64_t, uint8_t

include "_ids.pxi"

cdef extern from *:
    """
    #ifdef _OPENMP
    #define FASTGD_CY_PAR_OPENMP 1
    #else
    #define FASTGD_CY_PAR_OPENMP 0
    #endif
    """
    int FASTGD_CY_PAR_OPENMP

#: Whether this extension was compiled with OpenMP; without it the kernels run serially.
OPENMP = bool(FASTGD_CY_PAR_OPENMP)

# the constants of _nb_parallel.py (tests/test_backends_parallel.py checks they agree)
cdef Py_ssize_t _ROUND_STEPS = 1024
cdef double _SHRINK_KEEP = 0.99
cdef Py_ssize_t _PAD = 16
ROUND_STEPS = _ROUND_STEPS  # batches per thread between two merges
SHRINK_KEEP = _SHRINK_KEEP  # a thread ends its round once its scale falls below 0.99 * S
SYNC_MIN_BATCH = 256  # batches at least this large use the synchronous kernel
PAD = _PAD  # float64 slots between per-thread rows (128 bytes: no shared cache line)


@contextmanager
def guard():
    """Nothing to serialise: OpenMP teams of concurrent calls do not interfere."""
    yield


def threading_layer_in_use():
    """'openmp' when built with OpenMP, else None (the kernels then run serially)."""
    return "openmp" if OPENMP else None


# --------------------------------------------------------------------------- losses
include "_losses.pxi"
include "_common.pxi"


def _need(name, arr, rows, cols=None):
    """A clear error instead of an out-of-bounds write (bounds checks are off)."""
    if arr.shape[0] < rows or (cols is not None and arr.shape[1] < cols):
        raise ValueError(f"{name} has shape {tuple(arr.shape)[:arr.ndim]}; needs at least "
                         f"({rows}, {cols if cols is not None else ''})")


# --------------------------------------------------------- Hogwild!: plain SGD
cdef Py_ssize_t _plain_run(const floating[:] data, const int32_t[:] indices,
                           const int64_t[:] indptr, Py_ssize_t dense_d,
                           const double[:] y, const double[:] sw, const int64_t[:] order,
                           Py_ssize_t ii0, Py_ssize_t ii_stop, double[:] w, double[:] aw,
                           double[:] q, int loss, double param, int penalty, double alpha,
                           double l1_ratio, bint fit_intercept, double intercept_decay,
                           int schedule, double eta, double eta0, double power_t,
                           double optimal_init, double t0, long average,
                           bint track_objective, bint multi, double scale_ref,
                           double[:, :] tstate, Py_ssize_t kt) noexcept nogil:
    """Samples order[ii0:ii_stop] of ``plain_sgd_epoch`` for thread row ``kt``.

    ``tstate[kt]`` = [wscale, average_a, average_b, u, sq_norm, l1_norm, intercept,
    average_intercept, objective_sum] of this thread (updated). Returns the position
    reached (< ii_stop when the thread ended its round on the shrink criterion).
    """
    cdef double wscale = tstate[kt, 0]
    cdef double avg_a = tstate[kt, 1]
    cdef double avg_b = tstate[kt, 2]
    cdef double u = tstate[kt, 3]
    cdef double sq_norm = tstate[kt, 4]
    cdef double l1_norm = tstate[kt, 5]
    cdef double intercept = tstate[kt, 6]
    cdef double avg_intercept = tstate[kt, 7]
    cdef double objective_sum = tstate[kt, 8]
    cdef Py_ssize_t n_features = w.shape[0]
    cdef bint has_l1 = penalty == PENALTY_L1 or penalty == PENALTY_ELASTICNET
    cdef Py_ssize_t ii = ii0
    cdef Py_ssize_t i, start, end, k, j
    cdef double t, eta_t, c, p, yi, nrm, update, l2acc, l1acc, cw, num_iter, mu, z, v, f
    while ii < ii_stop:
        t = t0 + <double>ii
        eta_t = _step_size(schedule, eta, eta0, power_t, alpha, optimal_init, t)
        if multi and penalty >= PENALTY_L2 and ii > ii0:
            c = 1.0 - (1.0 - l1_ratio) * eta_t * alpha
            if c < 0.0:
                c = 0.0
            if wscale * c < _SHRINK_KEEP * scale_ref:
                break
        _prefetch_row(data, indices, indptr, dense_d, order, ii, w)
        i = <Py_ssize_t>order[ii]
        start = _row_start(indptr, dense_d, i)
        end = _row_end(indptr, dense_d, i)
        p = 0.0
        for k in range(start, end):
            p += w[_col(indices, dense_d, start, k)] * data[k]
        p = p * wscale + intercept
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
        if 0 < average and average <= t:  # single thread only (engine refuses otherwise)
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
        ii += 1
    tstate[kt, 0] = wscale
    tstate[kt, 1] = avg_a
    tstate[kt, 2] = avg_b
    tstate[kt, 3] = u
    tstate[kt, 4] = sq_norm
    tstate[kt, 5] = l1_norm
    tstate[kt, 6] = intercept
    tstate[kt, 7] = avg_intercept
    tstate[kt, 8] = objective_sum
    return ii


def hogwild_plain_epoch(const floating[:] data, const int32_t[:] indices,
                        const int64_t[:] indptr, Py_ssize_t dense_d,
                        const double[:] y, const double[:] sw, const int64_t[:] order,
                        double[:] w, double[:] aw, double[:] q, double[:] st,
                        int loss, double param, int penalty, double alpha, double l1_ratio,
                        bint fit_intercept, double intercept_decay, int schedule,
                        double eta, double eta0, double power_t, double optimal_init,
                        double t, long average, bint track_objective, Py_ssize_t n_threads,
                        double[:, :] tstate):
    """Hogwild! version of ``plain_sgd_epoch`` (same arguments, same ``st``, same return).

    ``tstate`` is per-thread scratch, float64 ``(n_threads, >= 9 + PAD)``. With more
    than one thread ``average`` must be 0 (the engine checks it). See ``_nb_parallel``
    for the per-thread scale and the intercept merge.
    """
    cdef Py_ssize_t n = order.shape[0]
    if n_threads < 1:
        raise ValueError(f"n_threads must be >= 1; got {n_threads}")
    cdef Py_ssize_t K = _imin(n_threads, n if n > 1 else 1)
    _need("tstate", tstate, K, 9)
    cdef bint multi = K > 1
    cdef int64_t[::1] lo = np.empty(K, np.int64)
    cdef int64_t[::1] hi = np.empty(K, np.int64)
    cdef int64_t[::1] pos = np.empty(K, np.int64)
    cdef bint has_l1 = penalty == PENALTY_L1 or penalty == PENALTY_ELASTICNET
    cdef Py_ssize_t k, kp, s, ii, stop, last
    cdef double u, S, s_new, b_shared, b_new, obj, f
    with nogil:
        for k in range(K):
            lo[k] = k * n // K
            hi[k] = (k + 1) * n // K
            pos[k] = lo[k]
        # per-thread scalars; u of thread k starts at the clock of its first sample
        u = st[3]
        for k in range(K):
            for s in range(8):
                tstate[k, s] = st[s]
            tstate[k, 8] = 0.0
            if k > 0 and has_l1:
                for ii in range(<Py_ssize_t>lo[k - 1], <Py_ssize_t>lo[k]):
                    u += l1_ratio * _step_size(schedule, eta, eta0, power_t, alpha,
                                               optimal_init, t + <double>ii) * alpha
                tstate[k, 3] = u
        S = st[0]
        while _busy(pos, hi, K):
            b_shared = st[6]
            for k in range(K):
                tstate[k, 0] = S
                tstate[k, 6] = b_shared
            for kp in prange(K, num_threads=K, schedule="static", chunksize=1):
                if pos[kp] < hi[kp]:
                    if multi:
                        stop = _imin(<Py_ssize_t>hi[kp],
                                     <Py_ssize_t>pos[kp] + _ROUND_STEPS)
                    else:
                        stop = <Py_ssize_t>hi[kp]
                    pos[kp] = _plain_run(data, indices, indptr, dense_d, y, sw, order,
                                         <Py_ssize_t>pos[kp], stop, w, aw, q, loss, param,
                                         penalty, alpha, l1_ratio, fit_intercept,
                                         intercept_decay, schedule, eta, eta0, power_t,
                                         optimal_init, t, average, track_objective, multi,
                                         S, tstate, kp)
            if multi:
                s_new = S
                b_new = b_shared
                for k in range(K):
                    s_new *= tstate[k, 0] / S
                    b_new += tstate[k, 6] - b_shared
                if s_new < _WSCALE_MIN:
                    for s in range(w.shape[0]):
                        w[s] *= s_new
                    s_new = 1.0
                S = s_new
                st[6] = b_new
            else:
                S = tstate[0, 0]
                st[6] = tstate[0, 6]
        obj = tstate[0, 8]
        for k in range(1, K):
            obj += tstate[k, 8]
        last = K - 1
        st[0] = S
        st[1] = tstate[last, 1]
        st[2] = tstate[last, 2]
        st[3] = tstate[last, 3]
        st[4] = tstate[last, 4]
        st[5] = tstate[last, 5]
        st[7] = tstate[last, 7]
    return t + n, obj


# ------------------------------------------------------- Hogwild!: every rule
cdef Py_ssize_t _opt_run(const floating[:] data, const int32_t[:] indices,
                         const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                         const double[:] sw, const int64_t[:] order, Py_ssize_t batch_size,
                         Py_ssize_t bb0, Py_ssize_t bb_stop, double[:] w,
                         double[:, :] state, const double[:] hp, double[:] q, int rule,
                         int loss, double param, double alpha, double a2, double a1,
                         bint fit_intercept, bint all_coords, bint scaled, int schedule,
                         double eta, double eta0, double power_t, double optimal_init,
                         double t0, bint multi, double scale_ref, double[:, :] wi_all,
                         double[:, :, :] si_all, double[:, :] gbuf_all,
                         double[:, :] dbuf_all, uint8_t[:, :] mark_all,
                         int64_t[:, :] klist_all, double[:, :] tstate,
                         Py_ssize_t kt) noexcept nogil:
    """Batches bb0 <= b < bb_stop of ``optimizer_epoch`` for thread row ``kt``.

    The intercept and its rule state are this thread's private copies ``wi[kt, 0]`` and
    ``si[kt, :, 0]``. ``tstate[kt]`` = [u, scale, loss_sum] (updated). Returns the batch
    reached (< bb_stop when the thread ended its round on the shrink criterion).
    """
    cdef double[:] wi = wi_all[kt]
    cdef double[:, :] si = si_all[kt]
    cdef double[:] gbuf = gbuf_all[kt]
    cdef double[:] dbuf = dbuf_all[kt]
    cdef uint8_t[:] mark = mark_all[kt]
    cdef int64_t[:] klist = klist_all[kt]
    cdef Py_ssize_t n_features = w.shape[0] - 1
    cdef Py_ssize_t n = order.shape[0]
    cdef double gamma = hp[HP_MOMENTUM]
    cdef double b1 = hp[HP_BETA_1]
    cdef double b2 = hp[HP_BETA_2]
    cdef bint sparse = dense_d == 0
    cdef bint nag = rule == RULE_NAG
    cdef double u = tstate[kt, 0]
    cdef double scale = tstate[kt, 1]
    cdef double loss_sum = tstate[kt, 2]
    cdef Py_ssize_t bb = bb0
    cdef Py_ssize_t b0, b_end, nb, bi, i, start, end, k, j, nk, kk
    cdef double t, eta_t, b_int, p, g_int, c, c1, c2, c1n, f
    while bb < bb_stop:
        t = t0 + <double>bb
        eta_t = _step_size(schedule, eta, eta0, power_t, alpha, optimal_init, t)
        if multi and scaled and bb > bb0:
            if fabs(scale * (1.0 - eta_t * a2)) < _SHRINK_KEEP * fabs(scale_ref):
                break
        b0 = bb * batch_size
        b_end = _imin(b0 + batch_size, n)
        nb = b_end - b0
        b_int = wi[0]
        if nag:
            b_int -= gamma * si[0, 0]
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
            scale *= 1.0 - eta_t * a2
            if scale == 0.0:
                for j in range(n_features):
                    w[j] = 0.0
                scale = scale_ref if multi else 1.0
            for kk in range(nk):
                j = <Py_ssize_t>klist[kk]
                w[j] -= eta_t * gbuf[j] / scale
                gbuf[j] = 0.0
                mark[j] = 0
                if a1 > 0.0:
                    _l1_truncate(w, q, j, u, scale)
            if fabs(scale) < _WSCALE_MIN:
                if multi:  # degenerate first step of a round: fold this thread's shrink
                    f = scale / scale_ref
                    for j in range(n_features):
                        w[j] *= f
                    scale = scale_ref
                else:
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
            _coordinate(rule, 0, g_int, 0.0, wi, si, eta_t, hp, c1, c2, c1n)
        bb += 1
    tstate[kt, 0] = u
    tstate[kt, 1] = scale
    tstate[kt, 2] = loss_sum
    return bb


def hogwild_optimizer_epoch(const floating[:] data, const int32_t[:] indices,
                            const int64_t[:] indptr, Py_ssize_t dense_d,
                            const double[:] y, const double[:] sw, const int64_t[:] order,
                            Py_ssize_t batch_size, double[:] w, double[:, :] state,
                            const double[:] hp, double[:] q, int rule, int loss,
                            double param, double alpha, double l1_ratio,
                            bint fit_intercept, bint lazy, int schedule, double eta,
                            double eta0, double power_t, double optimal_init, double t,
                            double u, Py_ssize_t n_threads, double[:, :] gbuf,
                            double[:, :] dbuf, uint8_t[:, :] mark, int64_t[:, :] klist,
                            double[:, :] wi, double[:, :, :] si, double[:, :] tstate):
    """Hogwild! version of ``optimizer_epoch``: same arguments and return, plus
    ``n_threads`` and per-thread scratch (one row per thread, allocated once per fit):
    gbuf ``(n_threads, n_features + 1 + PAD)`` zeros, dbuf ``(n_threads, batch + PAD)``,
    mark ``(n_threads, n_features)`` uint8 zeros, klist ``(n_threads, n_features)``
    int64, wi ``(n_threads, PAD)``, si ``(n_threads, n_slots, PAD)``, tstate
    ``(n_threads, PAD)``.
    """
    cdef Py_ssize_t n_features = w.shape[0] - 1
    cdef Py_ssize_t n = order.shape[0]
    cdef Py_ssize_t n_slots = state.shape[0]
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    if n_threads < 1:
        raise ValueError(f"n_threads must be >= 1; got {n_threads}")
    cdef Py_ssize_t n_batches = (n + batch_size - 1) // batch_size
    cdef Py_ssize_t K = _imin(n_threads, n_batches if n_batches > 1 else 1)
    cdef bint sparse = dense_d == 0
    _need("gbuf", gbuf, K, n_features + 1)
    _need("dbuf", dbuf, K, _imin(batch_size, n))
    if sparse:
        _need("mark", mark, K, n_features)
        _need("klist", klist, K, n_features)
    _need("wi", wi, K, 1)
    if si.shape[0] < K or si.shape[1] < n_slots or si.shape[2] < 1:
        raise ValueError(f"si has shape {tuple(si.shape)[:3]}; needs ({K}, {n_slots}, 1)")
    _need("tstate", tstate, K, 3)
    cdef bint multi = K > 1
    cdef double a2 = alpha * (1.0 - l1_ratio)
    cdef double a1 = alpha * l1_ratio
    cdef bint scaled = sparse and rule == RULE_SGD
    cdef bint all_coords = (not sparse) or (not lazy and not scaled)
    cdef int64_t[::1] lo = np.empty(K, np.int64)
    cdef int64_t[::1] hi = np.empty(K, np.int64)
    cdef int64_t[::1] pos = np.empty(K, np.int64)
    cdef Py_ssize_t k, kp, s, bb, stop, j
    cdef double uk, S, s_new, b0, b_new, s0, acc, loss_sum
    with nogil:
        for k in range(K):
            lo[k] = k * n_batches // K
            hi[k] = (k + 1) * n_batches // K
            pos[k] = lo[k]
        uk = u
        for k in range(K):
            if k > 0 and a1 > 0.0:
                for bb in range(<Py_ssize_t>lo[k - 1], <Py_ssize_t>lo[k]):
                    uk += a1 * _step_size(schedule, eta, eta0, power_t, alpha,
                                          optimal_init, t + <double>bb)
            tstate[k, 0] = uk
            tstate[k, 2] = 0.0
        S = 1.0
        while _busy(pos, hi, K):
            for k in range(K):
                tstate[k, 1] = S
                wi[k, 0] = w[n_features]
                for s in range(n_slots):
                    si[k, s, 0] = state[s, n_features]
            for kp in prange(K, num_threads=K, schedule="static", chunksize=1):
                if pos[kp] < hi[kp]:
                    if multi:
                        stop = _imin(<Py_ssize_t>hi[kp],
                                     <Py_ssize_t>pos[kp] + _ROUND_STEPS)
                    else:
                        stop = <Py_ssize_t>hi[kp]
                    pos[kp] = _opt_run(data, indices, indptr, dense_d, y, sw, order,
                                       batch_size, <Py_ssize_t>pos[kp], stop, w, state,
                                       hp, q, rule, loss, param, alpha, a2, a1,
                                       fit_intercept, all_coords, scaled, schedule, eta,
                                       eta0, power_t, optimal_init, t, multi, S, wi, si,
                                       gbuf, dbuf, mark, klist, tstate, kp)
            if multi:
                s_new = S
                b0 = w[n_features]
                b_new = b0
                for k in range(K):
                    s_new *= tstate[k, 1] / S
                    b_new += wi[k, 0] - b0
                w[n_features] = b_new
                for s in range(n_slots):
                    s0 = state[s, n_features]
                    acc = 0.0
                    for k in range(K):
                        acc += si[k, s, 0] - s0
                    if rule == RULE_ADAGRAD:  # an accumulator: every increment counts
                        state[s, n_features] = s0 + acc
                    else:  # running averages (momentum, RMSprop, Adam...): their mean
                        state[s, n_features] = s0 + acc / K
                if scaled and (s_new == 0.0 or fabs(s_new) < _WSCALE_MIN):
                    for j in range(n_features):
                        w[j] *= s_new
                    s_new = 1.0
                S = s_new
            else:
                S = tstate[0, 1]
                w[n_features] = wi[0, 0]
                for s in range(n_slots):
                    state[s, n_features] = si[0, s, 0]
        if S != 1.0:
            for j in range(n_features):
                w[j] *= S
        loss_sum = tstate[0, 2]
        for k in range(1, K):
            loss_sum += tstate[k, 2]
    return t + n_batches, tstate[K - 1, 0], loss_sum


# ----------------------------------------- synchronous data parallelism (big batches)
cdef void _grad_piece(const floating[:] data, const int32_t[:] indices,
                      const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                      const double[:] sw, const int64_t[:] order, Py_ssize_t lo,
                      Py_ssize_t hi, Py_ssize_t nb, const double[:] w,
                      const double[:, :] state, double gamma, bint nag, double scale,
                      double b_int, int loss, double param, bint all_coords, bint track,
                      double[:, :] gbuf_all, uint8_t[:, :] mark_all,
                      int64_t[:, :] klist_all, double[:, :] tstate,
                      Py_ssize_t kt) noexcept nogil:
    """Margins, loss and loss gradient of samples order[lo:hi] into thread row ``kt``.

    ``tstate[kt]`` = [loss_sum (running, in), g_int (out), support size (out)].
    """
    cdef double[:] gbuf = gbuf_all[kt]
    cdef uint8_t[:] mark = mark_all[kt]
    cdef int64_t[:] klist = klist_all[kt]
    cdef double loss_sum = tstate[kt, 0]
    cdef double g_int = 0.0
    cdef Py_ssize_t nk = 0
    cdef Py_ssize_t ii, i, start, end, k, j
    cdef double p, c
    for ii in range(lo, hi):
        _prefetch_row(data, indices, indptr, dense_d, order, ii, w)
        i = <Py_ssize_t>order[ii]
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
        c = sw[i] * _clip_dloss(loss_dloss(loss, y[i], p, param)) / nb
        g_int += c
        if c == 0.0 and all_coords:
            continue
        for k in range(start, end):
            j = _col(indices, dense_d, start, k)
            gbuf[j] += c * data[k]
            if track and mark[j] == 0:
                mark[j] = 1
                klist[nk] = j
                nk += 1
    tstate[kt, 0] = loss_sum
    tstate[kt, 1] = g_int
    tstate[kt, 2] = <double>nk


cdef inline double _reduced(double[:, :] gbuf, Py_ssize_t K, Py_ssize_t j) noexcept nogil:
    """sum_k gbuf[k, j] in the fixed order k = 0, 1, ...; the rows are zeroed."""
    cdef double g = gbuf[0, j]
    cdef Py_ssize_t k
    gbuf[0, j] = 0.0
    for k in range(1, K):
        g += gbuf[k, j]
        gbuf[k, j] = 0.0
    return g


cdef void _sync_scaled(Py_ssize_t c, Py_ssize_t K, Py_ssize_t nk, const int64_t[:] gklist,
                       double[:, :] gbuf, uint8_t[:] gmark, double[:] w, double[:] q,
                       double eta_t, double scale, double a1, double u) noexcept nogil:
    """Chunk ``c`` of the support: w = scale * v, rule 'sgd' on CSR."""
    cdef Py_ssize_t kk, j
    for kk in range(c * nk // K, (c + 1) * nk // K):
        j = <Py_ssize_t>gklist[kk]
        w[j] -= eta_t * _reduced(gbuf, K, j) / scale
        gmark[j] = 0
        if a1 > 0.0:
            _l1_truncate(w, q, j, u, scale)


cdef void _sync_all(Py_ssize_t c, Py_ssize_t K, Py_ssize_t n_features, int rule,
                    double[:, :] gbuf, double a2, double[:] w, double[:, :] state,
                    double eta_t, const double[:] hp, double c1, double c2, double c1n,
                    double[:] q, double a1, double u) noexcept nogil:
    """Chunk ``c`` of every coordinate (dense data, or CSR with lazy=False)."""
    cdef Py_ssize_t j
    for j in range(c * n_features // K, (c + 1) * n_features // K):
        _coordinate(rule, j, _reduced(gbuf, K, j), a2, w, state, eta_t, hp, c1, c2, c1n)
        if a1 > 0.0:
            _l1_truncate(w, q, j, u, 1.0)


cdef void _sync_support(Py_ssize_t c, Py_ssize_t K, Py_ssize_t nk,
                        const int64_t[:] gklist, uint8_t[:] gmark, int rule,
                        double[:, :] gbuf, double a2, double[:] w, double[:, :] state,
                        double eta_t, const double[:] hp, double c1, double c2,
                        double c1n, double[:] q, double a1, double u) noexcept nogil:
    """Chunk ``c`` of the batch's support (CSR with lazy=True)."""
    cdef Py_ssize_t kk, j
    for kk in range(c * nk // K, (c + 1) * nk // K):
        j = <Py_ssize_t>gklist[kk]
        _coordinate(rule, j, _reduced(gbuf, K, j), a2, w, state, eta_t, hp, c1, c2, c1n)
        gmark[j] = 0
        if a1 > 0.0:
            _l1_truncate(w, q, j, u, 1.0)


def sync_optimizer_epoch(const floating[:] data, const int32_t[:] indices,
                         const int64_t[:] indptr, Py_ssize_t dense_d,
                         const double[:] y, const double[:] sw, const int64_t[:] order,
                         Py_ssize_t batch_size, double[:] w, double[:, :] state,
                         const double[:] hp, double[:] q, int rule, int loss, double param,
                         double alpha, double l1_ratio, bint fit_intercept, bint lazy,
                         int schedule, double eta, double eta0, double power_t,
                         double optimal_init, double t, double u, Py_ssize_t n_threads,
                         double[:, :] gbuf, uint8_t[:, :] mark, int64_t[:, :] klist,
                         uint8_t[:] gmark, int64_t[:] gklist, double[:, :] tstate):
    """``optimizer_epoch`` with each batch's gradient computed by ``n_threads`` threads.

    Scratch: gbuf ``(n_threads, n_features + 1 + PAD)`` zeros, mark ``(n_threads,
    n_features)`` uint8 zeros, klist ``(n_threads, n_features)`` int64, gmark
    ``(n_features,)`` uint8 zeros, gklist ``(n_features,)`` int64, tstate
    ``(n_threads, PAD)``. Deterministic: pieces and reduction order are fixed.
    """
    cdef Py_ssize_t n_features = w.shape[0] - 1
    cdef Py_ssize_t n = order.shape[0]
    cdef Py_ssize_t K = n_threads if n_threads > 1 else 1
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    cdef double a2 = alpha * (1.0 - l1_ratio)
    cdef double a1 = alpha * l1_ratio
    cdef double gamma = hp[HP_MOMENTUM]
    cdef double b1 = hp[HP_BETA_1]
    cdef double b2 = hp[HP_BETA_2]
    cdef bint sparse = dense_d == 0
    cdef bint scaled = sparse and rule == RULE_SGD
    cdef bint all_coords = (not sparse) or (not lazy and not scaled)
    cdef bint track = sparse and not all_coords
    cdef bint nag = rule == RULE_NAG
    _need("gbuf", gbuf, K, n_features + 1)
    _need("tstate", tstate, K, 3)
    if track:
        _need("mark", mark, K, n_features)
        _need("klist", klist, K, n_features)
        _need("gmark", gmark, n_features)
        _need("gklist", gklist, n_features)
    cdef double scale = 1.0
    cdef double loss_sum = 0.0
    cdef Py_ssize_t b0, b_end, nb, k, kp, kk, j, nk
    cdef double eta_t, b_int, g_int, c1, c2, c1n
    with nogil:
        b0 = 0
        while b0 < n:  # range(0, n, batch_size)
            b_end = _imin(b0 + batch_size, n)
            nb = b_end - b0
            eta_t = _step_size(schedule, eta, eta0, power_t, alpha, optimal_init, t)
            b_int = w[n_features]
            if nag:
                b_int -= gamma * state[0, n_features]
            for k in range(K):
                tstate[k, 0] = loss_sum if k == 0 else 0.0
            for kp in prange(K, num_threads=K, schedule="static", chunksize=1):
                _grad_piece(data, indices, indptr, dense_d, y, sw, order,
                            b0 + kp * nb // K, b0 + (kp + 1) * nb // K, nb, w, state,
                            gamma, nag, scale, b_int, loss, param, all_coords, track,
                            gbuf, mark, klist, tstate, kp)
            loss_sum = tstate[0, 0]
            g_int = tstate[0, 1]
            for k in range(1, K):
                loss_sum += tstate[k, 0]
                g_int += tstate[k, 1]
            # the batch's support: union of the threads' lists, in thread order
            nk = 0
            if track:
                for k in range(K):
                    for kk in range(<Py_ssize_t>tstate[k, 2]):
                        j = <Py_ssize_t>klist[k, kk]
                        mark[k, j] = 0
                        if gmark[j] == 0:
                            gmark[j] = 1
                            gklist[nk] = j
                            nk += 1
            c1 = 1.0 - pow(b1, t)
            c2 = 1.0 - pow(b2, t)
            c1n = 1.0 - pow(b1, t + 1.0)
            u += a1 * eta_t
            if scaled:
                scale *= 1.0 - eta_t * a2
                if scale == 0.0:
                    for j in range(n_features):
                        w[j] = 0.0
                    scale = 1.0
                for kp in prange(K, num_threads=K, schedule="static", chunksize=1):
                    _sync_scaled(kp, K, nk, gklist, gbuf, gmark, w, q, eta_t, scale, a1,
                                 u)
                if fabs(scale) < _WSCALE_MIN:
                    for j in range(n_features):
                        w[j] *= scale
                    scale = 1.0
            elif all_coords:
                for kp in prange(K, num_threads=K, schedule="static", chunksize=1):
                    _sync_all(kp, K, n_features, rule, gbuf, a2, w, state, eta_t, hp, c1,
                              c2, c1n, q, a1, u)
            else:
                for kp in prange(K, num_threads=K, schedule="static", chunksize=1):
                    _sync_support(kp, K, nk, gklist, gmark, rule, gbuf, a2, w, state,
                                  eta_t, hp, c1, c2, c1n, q, a1, u)
            if fit_intercept:
                _coordinate(rule, n_features, g_int, 0.0, w, state, eta_t, hp, c1, c2,
                            c1n)
            t += 1.0
            b0 += batch_size
        if scale != 1.0:
            for j in range(n_features):
                w[j] *= scale
    return t, u, loss_sum

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Cython twin of ``kernels/_nb_async_vr.py``: lock-free ASAGA / AsySVRG (OpenMP).

The same public kernels (``column_inv_p``, ``async_vr_epoch``, ``full_pass``) with the
same arguments, rounds, merges and floating-point operations in the same order as the
Numba kernels; see ``_nb_async_vr.py`` for the method. Threads as in ``_cy_parallel``:
each ``prange`` runs ``K <= n_threads`` iterations with ``num_threads=K``, one per
OpenMP thread, and the iteration index picks the scratch row. With ``n_threads=1`` the
results are bit-identical to the Numba kernels; ``full_pass`` is deterministic and
bit-identical for any thread count (fixed pieces, fixed reduction order).

``data`` is float32 or float64 (a fused type); every other float array is float64.
"""

from contextlib import contextmanager

import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport exp, log, log1p, fabs
from libc.stdint cimport int32_t, int64_t

include "_ids.pxi"
include "_losses.pxi"
include "_common.pxi"

cdef extern from *:
    """
    #ifdef _OPENMP
    #define FASTGD_CY_AVR_OPENMP 1
    #else
    #define FASTGD_CY_AVR_OPENMP 0
    #endif
    """
    int FASTGD_CY_AVR_OPENMP

#: Whether this extension was compiled with OpenMP; without it the kernels run serially.
OPENMP = bool(FASTGD_CY_AVR_OPENMP)

# the constants of _nb_parallel.py that these kernels use
cdef Py_ssize_t _ROUND_STEPS = 1024
cdef Py_ssize_t _PAD = 16
ROUND_STEPS = _ROUND_STEPS
PAD = _PAD


@contextmanager
def guard():
    """Nothing to serialise: OpenMP teams of concurrent calls do not interfere."""
    yield


def column_inv_p(const int32_t[:] indices, const int64_t[:] indptr, Py_ssize_t dense_d,
                 const int64_t[:] idx, double[:] inv_p):
    """inv_p[j] = n / (rows of ``idx`` storing column j), 0 if none; all ones if dense."""
    cdef Py_ssize_t d = inv_p.shape[0]
    cdef Py_ssize_t n = idx.shape[0]
    cdef Py_ssize_t j, ii, i, k
    with nogil:
        if dense_d > 0:
            for j in range(d):
                inv_p[j] = 1.0
        else:
            for j in range(d):
                inv_p[j] = 0.0
            for ii in range(n):
                i = <Py_ssize_t>idx[ii]
                for k in range(<Py_ssize_t>indptr[i], <Py_ssize_t>indptr[i + 1]):
                    inv_p[indices[k]] += 1.0
            for j in range(d):
                if inv_p[j] > 0.0:
                    inv_p[j] = n / inv_p[j]


cdef void _steps(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
                 Py_ssize_t dense_d, const double[:] y, const double[:] sw,
                 const int64_t[:] order, Py_ssize_t ii0, Py_ssize_t ii1, double[:] w,
                 double[:] D, double[:] gmem, const double[:] inv_p, bint saga, int loss,
                 double param, double eta, double lam2, double lam1, bint fit_intercept,
                 Py_ssize_t n, double[:, :] tstate, Py_ssize_t kt) noexcept nogil:
    """Steps order[ii0:ii1] of thread kt; tstate[kt] = [b, D_b] (its copies)."""
    cdef double b = tstate[kt, 0]
    cdef double db = tstate[kt, 1]
    cdef double tau = eta * lam1
    cdef double kap = eta * lam2
    cdef Py_ssize_t ii, i, start, end, kk, j
    cdef double p, g, e, ip, v, c
    for ii in range(ii0, ii1):
        _prefetch_row(data, indices, indptr, dense_d, order, ii, w)
        i = <Py_ssize_t>order[ii]
        start = _row_start(indptr, dense_d, i)
        end = _row_end(indptr, dense_d, i)
        p = 0.0
        for kk in range(start, end):
            p += w[_col(indices, dense_d, start, kk)] * data[kk]
        p = p + b
        g = _clip_dloss(loss_dloss(loss, y[i], p, param)) * sw[i]
        e = g - gmem[i]
        if saga:
            gmem[i] = g
        for kk in range(start, end):
            j = _col(indices, dense_d, start, kk)
            ip = inv_p[j]
            v = w[j] - eta * (e * data[kk] + ip * D[j])
            w[j] = _soft(v, tau * ip) / (1.0 + kap * ip)
        if fit_intercept:
            b -= eta * (e + db)
        if saga:
            c = e / n
            for kk in range(start, end):
                D[_col(indices, dense_d, start, kk)] += c * data[kk]
            db += c
    tstate[kt, 0] = b
    tstate[kt, 1] = db


def async_vr_epoch(const floating[:] data, const int32_t[:] indices,
                   const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                   const double[:] sw, const int64_t[:] order, double[:] w, double[:] D,
                   double[:] gmem, const double[:] inv_p, bint saga, int loss,
                   double param, double eta, double lam2, double lam1, bint fit_intercept,
                   Py_ssize_t n, Py_ssize_t n_threads, double[:, :] tstate):
    """The steps of ``order`` on ``w`` (float64[d+1], last = b); see the Numba twin."""
    cdef Py_ssize_t d = w.shape[0] - 1
    cdef Py_ssize_t m = order.shape[0]
    cdef Py_ssize_t K = _imin(n_threads, m if m > 1 else 1)
    if K < 1 or tstate.shape[0] < K or tstate.shape[1] < 2:
        raise ValueError(f"tstate has shape {tuple(tstate.shape)[:2]}; needs ({K}, 2)")
    cdef bint multi = K > 1
    cdef int64_t[::1] pos = np.empty(K, np.int64)
    cdef int64_t[::1] hi = np.empty(K, np.int64)
    cdef Py_ssize_t k, kp, stop
    cdef double b0, db0, b_new, db_new
    with nogil:
        for k in range(K):
            pos[k] = k * m // K
            hi[k] = (k + 1) * m // K
        while _busy(pos, hi, K):
            b0 = w[d]
            db0 = D[d]
            for k in range(K):
                tstate[k, 0] = b0
                tstate[k, 1] = db0
            for kp in prange(K, num_threads=K, schedule="static", chunksize=1):
                if pos[kp] < hi[kp]:
                    if multi:
                        stop = _imin(<Py_ssize_t>hi[kp], <Py_ssize_t>pos[kp] + _ROUND_STEPS)
                    else:
                        stop = <Py_ssize_t>hi[kp]
                    _steps(data, indices, indptr, dense_d, y, sw, order,
                           <Py_ssize_t>pos[kp], stop, w, D, gmem, inv_p, saga, loss, param,
                           eta, lam2, lam1, fit_intercept, n, tstate, kp)
                    pos[kp] = stop
            if multi:
                b_new = b0
                db_new = db0
                for k in range(K):
                    b_new += (tstate[k, 0] - b0) / K
                    db_new += tstate[k, 1] - db0
                w[d] = b_new
                D[d] = db_new
            else:
                w[d] = tstate[0, 0]
                D[d] = tstate[0, 1]


cdef void _pass_piece(const floating[:] data, const int32_t[:] indices,
                      const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                      const double[:] sw, const int64_t[:] idx, Py_ssize_t lo,
                      Py_ssize_t hi, const double[:] w, double[:] gmem, bint snapshot,
                      int loss, double param, double[:, :] gbuf, double[:, :] tstate,
                      Py_ssize_t kt) noexcept nogil:
    """Rows idx[lo:hi] of ``full_pass`` into gbuf[kt]; tstate[kt] = [Σ s_i L_i, Σ g_i]."""
    cdef Py_ssize_t d = w.shape[0] - 1
    cdef double b = w[d]
    cdef double total = 0.0
    cdef double gb = 0.0
    cdef Py_ssize_t ii, i, start, end, kk
    cdef double p, g
    for ii in range(lo, hi):
        _prefetch_row(data, indices, indptr, dense_d, idx, ii, w)
        i = <Py_ssize_t>idx[ii]
        start = _row_start(indptr, dense_d, i)
        end = _row_end(indptr, dense_d, i)
        p = 0.0
        for kk in range(start, end):
            p += w[_col(indices, dense_d, start, kk)] * data[kk]
        p = p + b
        total += sw[i] * loss_value(loss, y[i], p, param)
        if snapshot:
            g = _clip_dloss(loss_dloss(loss, y[i], p, param)) * sw[i]
            gmem[i] = g
        else:
            g = gmem[i]
        gb += g
        if g != 0.0:
            for kk in range(start, end):
                gbuf[kt, _col(indices, dense_d, start, kk)] += g * data[kk]
    tstate[kt, 0] = total
    tstate[kt, 1] = gb


cdef inline double _reduced(double[:, :] gbuf, Py_ssize_t K, Py_ssize_t j) noexcept nogil:
    """sum_k gbuf[k, j] in the fixed order k = 0, 1, ...; the rows are zeroed."""
    cdef double g = gbuf[0, j]
    cdef Py_ssize_t k
    gbuf[0, j] = 0.0
    for k in range(1, K):
        g += gbuf[k, j]
        gbuf[k, j] = 0.0
    return g


def full_pass(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
              Py_ssize_t dense_d, const double[:] y, const double[:] sw,
              const int64_t[:] idx, const double[:] w, double[:] D, double[:] gmem,
              bint snapshot, int loss, double param, Py_ssize_t n_threads,
              double[:, :] gbuf, double[:, :] tstate):
    """D = (1/n) Σ_{i in idx} gmem[i] x_i (D[d]: (1/n) Σ gmem[i]); returns Σ s_i L_i at w.

    See the Numba twin; gbuf ``(n_threads, d + 1 + PAD)`` zeros (left zeroed)."""
    cdef Py_ssize_t n = idx.shape[0]
    cdef Py_ssize_t d = w.shape[0] - 1
    cdef Py_ssize_t K = _imin(n_threads, n if n > 1 else 1)
    if K < 1 or gbuf.shape[0] < K or gbuf.shape[1] < d + 1 or tstate.shape[0] < K:
        raise ValueError("gbuf / tstate have fewer rows or columns than the kernel needs")
    cdef Py_ssize_t k, c, j
    cdef double total, gb
    with nogil:
        for k in prange(K, num_threads=K, schedule="static", chunksize=1):
            _pass_piece(data, indices, indptr, dense_d, y, sw, idx, k * n // K,
                        (k + 1) * n // K, w, gmem, snapshot, loss, param, gbuf, tstate, k)
        for c in prange(K, num_threads=K, schedule="static", chunksize=1):
            for j in range(c * d // K, (c + 1) * d // K):
                D[j] = _reduced(gbuf, K, j) / n
        total = tstate[0, 0]
        gb = tstate[0, 1]
        for k in range(1, K):
            total += tstate[k, 0]
            gb += tstate[k, 1]
        D[d] = gb / n
    return total

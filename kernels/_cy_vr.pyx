# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Cython twin of ``kernels/_nb_vr.py``: SAG, SAGA and SVRG, same names and signatures.

Every function mirrors its Numba namesake line by line, with the floating-point
operations in the same order and the same libm calls, so both backends give the same
numbers (bit for bit on the same machine; the build turns floating-point contraction
off). See ``_nb_vr.py`` for the method (one call = one epoch, the scale trick and the
exact just-in-time (lagged) proximal updates).

``data`` is float32 or float64 (a fused type); every other float array is float64.
Dense C-ordered X is passed as its flat view with ``dense_d = n_features``; CSR passes
``data, indices, indptr`` with ``dense_d = 0``. The loops run without the GIL. The
work arrays ``A, B, cp, invs`` of ``vr_epoch`` must be C-contiguous (``_lag_prox``
walks them through pointers).
"""

from cython cimport floating
from libc.math cimport exp, log, log1p, fabs
from libc.stdint cimport int32_t, int64_t, uint8_t

include "_ids.pxi"
include "_losses.pxi"
include "_common.pxi"

cdef double RESCALE_MIN = 1e-9
cdef enum:
    SAG = 0
    SAGA = 1
    SVRG = 2


cdef double _lag_prox(double x, double dj, Py_ssize_t k0, Py_ssize_t k1,
                      const double *A, const double *B, const double *cp,
                      const double *invs, double eta, double tau,
                      double lam1) noexcept nogil:
    """v after the missed steps k0..k1-1 of v <- soft(v - δ_k dj, θ_k), exactly."""
    cdef Py_ssize_t i = k0
    cdef Py_ssize_t lo, hi, mid, q
    cdef double sg, end, val, xq
    while i < k1:
        if x == 0.0:
            if cp[i] * fabs(dj) <= lam1:
                return 0.0  # stays in the dead zone (r_k is non-increasing)
            x = _soft(-eta * cp[i] * invs[i] * dj, tau * invs[i])
            i += 1
            continue
        sg = 1.0 if x > 0.0 else -1.0
        end = x - (A[k1] - A[i]) * dj - sg * tau * (B[k1] - B[i])
        if sg * end > 0.0:
            return end
        # first t in (i, k1] where the linear path reaches or crosses zero
        lo = i + 1
        hi = k1
        while lo < hi:
            mid = (lo + hi) // 2
            val = x - (A[mid] - A[i]) * dj - sg * tau * (B[mid] - B[i])
            if sg * val <= 0.0:
                hi = mid
            else:
                lo = mid + 1
        q = lo - 1
        xq = x - (A[q] - A[i]) * dj - sg * tau * (B[q] - B[i])
        x = _soft(xq - eta * cp[q] * invs[q] * dj, tau * invs[q])
        i = q + 1
    return x


cdef inline void _catch_up(double[:] v, Py_ssize_t j, Py_ssize_t k, int64_t[:] last,
                           const double[:] D, const double *A, const double *B,
                           const double *cp, const double *invs, double eta, double tau,
                           double lam1) noexcept nogil:
    cdef Py_ssize_t k0 = <Py_ssize_t>last[j]
    if k0 < k:
        if lam1 > 0.0:
            v[j] = _lag_prox(v[j], D[j], k0, k, A, B, cp, invs, eta, tau, lam1)
        else:
            v[j] -= (A[k] - A[k0]) * D[j]
        last[j] = k


cdef void _flush(double[:] v, Py_ssize_t d, Py_ssize_t k, int64_t[:] last,
                 const double[:] D, const double *A, const double *B, const double *cp,
                 const double *invs, double eta, double tau, double lam1,
                 double s) noexcept nogil:
    """Bring the coordinates 0..d-1 up to step k and fold the scale into v (s becomes 1).

    ``v`` is the whole w (the Numba kernel passes its view w[:d]; d is its length).
    """
    cdef Py_ssize_t j
    for j in range(d):
        _catch_up(v, j, k, last, D, A, B, cp, invs, eta, tau, lam1)
        v[j] *= s
        last[j] = 0


# ------------------------------------------------------------------------ kernels
def vr_epoch(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
             Py_ssize_t dense_d, const double[:] y, const double[:] sw,
             const int64_t[:] order, double[:] w, double[:] D, double[:] gmem,
             uint8_t[:] seen, Py_ssize_t m_seen, int solver, int loss, double param,
             double eta, double lam2, double lam1, bint fit_intercept, int64_t[:] last,
             double[::1] A, double[::1] B, double[::1] cp, double[::1] invs):
    """Run the steps of ``order`` of SAG/SAGA/SVRG on ``w`` (float64[d+1], last = intercept).

    ``D`` (float64[d+1], last = intercept part) is S, the running sum of gmem[i] x_i
    (SAG/SAGA; updated here), or μ, the snapshot's full loss gradient (SVRG; read only).
    ``gmem[i]`` is s_i dL/dp at the sample's last visit (SAG/SAGA) or at the snapshot
    (SVRG); ``seen``/``m_seen`` count the samples seen (SAG/SAGA). ``last`` (int64[d]),
    ``A, B, cp, invs`` (float64[len(order)+1]) are work arrays. Returns m_seen.
    On return every coordinate is up to date.
    """
    cdef Py_ssize_t d = w.shape[0] - 1
    cdef double b = w[d]
    cdef double a = 1.0 - eta * lam2
    cdef double tau = eta * lam1
    cdef double s = 1.0
    cdef Py_ssize_t k = 0
    cdef Py_ssize_t ii, i, start, end, kk, j, k0
    cdef double p, g, corr, c, e, inv, delta, es, th, x
    cdef double *pA
    cdef double *pB
    cdef double *pcp
    cdef double *pinvs
    if A.shape[0] < order.shape[0] + 1 or B.shape[0] < order.shape[0] + 1 \
            or cp.shape[0] < order.shape[0] + 1 or invs.shape[0] < order.shape[0] + 1:
        raise ValueError("A, B, cp and invs need len(order) + 1 entries")
    pA = &A[0]
    pB = &B[0]
    pcp = &cp[0]
    pinvs = &invs[0]
    with nogil:
        pA[0] = 0.0
        pB[0] = 0.0
        for j in range(d):
            last[j] = 0
        for ii in range(order.shape[0]):
            i = <Py_ssize_t>order[ii]
            start = _row_start(indptr, dense_d, i)
            end = _row_end(indptr, dense_d, i)
            p = 0.0
            for kk in range(start, end):
                j = _col(indices, dense_d, start, kk)
                k0 = <Py_ssize_t>last[j]  # just-in-time update (written out)
                if k0 < k:
                    if lam1 > 0.0:
                        w[j] = _lag_prox(w[j], D[j], k0, k, pA, pB, pcp, pinvs, eta, tau,
                                         lam1)
                    else:
                        w[j] -= (pA[k] - pA[k0]) * D[j]
                p += w[j] * data[kk]
            p = s * p + b
            g = _clip_dloss(loss_dloss(loss, y[i], p, param)) * sw[i]
            corr = g - gmem[i]
            if solver == SVRG:
                c = 1.0
                e = eta * corr
            else:
                if seen[i] == 0:
                    seen[i] = 1
                    m_seen += 1
                gmem[i] = g
                c = 1.0 / m_seen
                e = eta * (1.0 - c) * corr if solver == SAGA else 0.0
                if corr != 0.0:
                    for kk in range(start, end):
                        D[_col(indices, dense_d, start, kk)] += corr * data[kk]
                    D[d] += corr
            s *= a
            inv = 1.0 / s
            pcp[k] = c
            pinvs[k] = inv
            delta = eta * c * inv
            pA[k + 1] = pA[k] + delta
            pB[k + 1] = pB[k] + inv
            es = e * inv
            th = tau * inv
            for kk in range(start, end):
                j = _col(indices, dense_d, start, kk)
                x = w[j] - delta * D[j] - es * data[kk]
                if lam1 > 0.0:
                    x = _soft(x, th)
                w[j] = x
                last[j] = k + 1
            if fit_intercept:
                b -= eta * c * D[d] + e
            k += 1
            if s < RESCALE_MIN:
                _flush(w, d, k, last, D, pA, pB, pcp, pinvs, eta, tau, lam1, s)
                s = 1.0
                k = 0
        _flush(w, d, k, last, D, pA, pB, pcp, pinvs, eta, tau, lam1, s)
        w[d] = b
    return m_seen


def svrg_snapshot(const floating[:] data, const int32_t[:] indices,
                  const int64_t[:] indptr, Py_ssize_t dense_d, const double[:] y,
                  const double[:] sw, const int64_t[:] idx, const double[:] w,
                  double[:] mu, double[:] gsnap, int loss, double param):
    """Full loss gradient at w: mu = (1/n) Σ s_i dL_i x_i (mu[d]: intercept part), and
    gsnap[i] = s_i dL_i; returns Σ s_i L_i (the loss part of the objective at w)."""
    cdef Py_ssize_t d = w.shape[0] - 1
    cdef Py_ssize_t n = idx.shape[0]
    cdef double total = 0.0
    cdef Py_ssize_t ii, i, j, start, end, kk
    cdef double p, g
    with nogil:
        for j in range(d + 1):
            mu[j] = 0.0
        for ii in range(n):
            i = <Py_ssize_t>idx[ii]
            start = _row_start(indptr, dense_d, i)
            end = _row_end(indptr, dense_d, i)
            p = w[d]
            for kk in range(start, end):
                p += w[_col(indices, dense_d, start, kk)] * data[kk]
            g = _clip_dloss(loss_dloss(loss, y[i], p, param)) * sw[i]
            gsnap[i] = g
            total += sw[i] * loss_value(loss, y[i], p, param)
            if g != 0.0:
                for kk in range(start, end):
                    mu[_col(indices, dense_d, start, kk)] += g * data[kk]
                mu[d] += g
        for j in range(d + 1):
            mu[j] /= n
    return total


def loss_sum(const floating[:] data, const int32_t[:] indices, const int64_t[:] indptr,
             Py_ssize_t dense_d, const double[:] y, const double[:] sw,
             const int64_t[:] idx, const double[:] w, int loss, double param):
    """Σ_{i in idx} s_i L(y_i, x_i·w[:d] + w[d])."""
    cdef Py_ssize_t d = w.shape[0] - 1
    cdef double total = 0.0
    cdef Py_ssize_t ii, i, start, end, kk
    cdef double p
    with nogil:
        for ii in range(idx.shape[0]):
            i = <Py_ssize_t>idx[ii]
            start = _row_start(indptr, dense_d, i)
            end = _row_end(indptr, dense_d, i)
            p = w[d]
            for kk in range(start, end):
                p += w[_col(indices, dense_d, start, kk)] * data[kk]
            total += sw[i] * loss_value(loss, y[i], p, param)
    return total


def max_row_sq_norm(const floating[:] data, const int64_t[:] indptr, Py_ssize_t dense_d,
                    const int64_t[:] idx):
    """max_{i in idx} ||x_i||²."""
    cdef double best = 0.0
    cdef double s
    cdef Py_ssize_t ii, i, start, end, kk
    with nogil:
        for ii in range(idx.shape[0]):
            i = <Py_ssize_t>idx[ii]
            start = _row_start(indptr, dense_d, i)
            end = _row_end(indptr, dense_d, i)
            s = 0.0
            for kk in range(start, end):
                s += data[kk] * data[kk]  # float32 data: the product in float32, as Numba
            if s > best:
                best = s
    return best

"""Numba kernels of the variance-reduced solvers (SPEC section 4): SAG, SAGA, SVRG.

One call runs one epoch (SAG/SAGA: the steps of ``order``; SVRG: the steps of one inner
loop, after ``svrg_snapshot`` computed the full gradient) and returns. Only arrays and
scalars come in; rows are read with ``_row``/``_col`` of ``_nb_common`` so dense and CSR
share every line. One source for both backends: Numba jits this file, and the Cython
build compiles it (after ``_nb_common.py``, with ``_nb_vr.pxd``) as ``_cy_vr``; see
``_nb_common.py``.

Every step of every solver has the same shape, per coordinate j (λ2 = α(1-l1_ratio),
λ1 = α l1_ratio, τ = η λ1):

    w_j <- prox_τ( (1 - η λ2) w_j - η c_k D_j - e_k x_ij )        (prox = soft-threshold)
    b   <- b - η c_k D_b - e_k                                      (no penalty)

    SAG : D = S (sum of the stored s_i dL/dp_i x_i, after this step's update), c_k = 1/m_k,
          e_k = 0                          (m_k = samples seen so far, as scikit-learn)
    SAGA: D = S, c_k = 1/m_k, e_k = η (r_i - 1/m_k) (g_new - g_old)
          [= prox(w - η(r_i (g_new - g_old) x_i + S_old/m + λ2 w)), scikit-learn's form
          for r_i = 1]
    SVRG: D = μ (loss part of the full gradient at the snapshot), c_k = 1,
          e_k = η r_i (g_i(w) - g_i(snapshot))

r_i = 1 / (n p_i) is the importance weight of a sample drawn with probability p_i
(``rw``; empty: uniform sampling, r_i = 1): it keeps the step's correction unbiased
(SAGA, Defazio et al. 2014; Prox-SVRG, Xiao & Zhang 2014, section 3.1).

Just-in-time (lagged) updates. Inside a call w = s·v (the scale trick): the shrink is
s <- (1-ηλ2) s, and in v-space a step on a coordinate that the sample does not touch is
v <- soft(v - δ_k D_j, θ_k) with δ_k = η c_k / s_{k+1} and θ_k = τ / s_{k+1}. A
coordinate is only brought up to date when a sample reads it (and for every coordinate
at the end of the call, or when s falls below 1e-9):

* L2 / no L1: the missed steps add up, v_j -= (A[k] - A[k0]) D_j with A the cumulative
  sum of δ (scikit-learn's ``cumulative_sums``); exact.
* L1 (SAGA, SVRG): the composition of the missed prox steps is computed exactly by
  phases. With r_k = δ_k/θ_k = c_k/λ1 non-increasing in k (m_k only grows):
  - at v = 0 and c_k |D_j| <= λ1 the coordinate stays at 0 for all remaining steps;
  - while v keeps its sign σ, v moves linearly: v - ΔA D_j - σ τ ΔB (B = Σ 1/s); the
    sequence σ v_k is monotone or rises then falls, so it stays on its side iff the end
    value does; otherwise the first step where it leaves is found by bisection on the
    cumulative sums and that one step is applied as a true soft-threshold.
  A lag thus costs O(1) or O(log lag), and equals the step-by-step prox to round-off.
"""

try:
    import cython
except ImportError:  # the Numba backend runs without Cython (a build requirement only)
    from fastgd.kernels._nb_shim import cython

if not cython.compiled:  # Numba; the Cython build has these in the same module
    from fastgd._rules import (FP_LAM1, FP_LAM2, FP_PARAM, FP_T, IP_DENSE_D,
                               IP_FIT_INTERCEPT, IP_LOSS, IP_M_SEEN, IP_SOLVER, SCHED_ETA,
                               SOLVER_SAGA, SOLVER_SVRG)
    from fastgd.kernels._nb_common import (PREFETCH_ROWS, _WSCALE_MIN, _clip_dloss, _col,
                                           _loss_dloss, _loss_value, _prefetch_row,
                                           _row, _soft, _u, njit, prefetch)

# C division semantics, as _nb_common (Numba: error_model="numpy"; Cython: cdivision)
_jit = njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
_inline = njit(cache=True, nogil=True, inline="always", error_model="numpy",
               _nrt=False)
_entry = njit(entry=True)  # Cython: releases the GIL around _<name>; Numba: _<name>


@_inline
def _vr_records(ip, fp):
    """What every VR epoch reads of its records: (dense_d, solver, fit_intercept, m_seen,
    eta, lam2, lam1)."""
    return (ip[IP_DENSE_D], ip[IP_SOLVER], ip[IP_FIT_INTERCEPT] != 0, ip[IP_M_SEEN],
            fp[SCHED_ETA], fp[FP_LAM2], fp[FP_LAM1])


@_jit
def _lag_prox(x, dj, k0, k1, A, B, cp, invs, eta, tau, lam1):
    """v after the missed steps k0..k1-1 of v <- soft(v - δ_k dj, θ_k), exactly."""
    i = k0
    while i < k1:
        if x == 0.0:
            if cp[i] * abs(dj) <= lam1:
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


@_jit
def _flush(v, d, k, last, D, A, B, cp, invs, eta, tau, lam1, s):
    """Bring the coordinates 0..d-1 up to step k and fold the scale into v (s becomes 1)."""
    for j in range(d):
        k0 = last[j]
        if k0 < k:
            if lam1 > 0.0:
                v[j] = _lag_prox(v[j], D[j], k0, k, A, B, cp, invs, eta, tau, lam1)
            else:
                v[j] -= (A[k] - A[k0]) * D[j]
        v[j] *= s
        last[j] = 0


@_jit
def _vr_epoch(data, indices, indptr, y, sw, order, rw, w, D, gmem, seen, ip, fp, last,
              work):
    """See vr_epoch. ``w[:d]`` holds v (w = s v inside the call)."""
    dense_d, solver, fit_intercept, m_seen, eta, lam2, lam1 = _vr_records(ip, fp)
    loss = ip[IP_LOSS]
    param = fp[FP_PARAM]
    A = work[0]
    B = work[1]
    cp = work[2]
    invs = work[3]
    d = w.shape[0] - 1
    b = w[d]
    a = 1.0 - eta * lam2
    tau = eta * lam1
    weighted = rw.shape[0] > 0
    s = 1.0
    k = 0
    A[0] = 0.0
    B[0] = 0.0
    for j in range(d):
        last[j] = 0
    for ii in range(order.shape[0]):
        _prefetch_row(data, indices, indptr, dense_d, y, sw, order, ii, w)
        if ii + PREFETCH_ROWS < order.shape[0]:  # the sample's gradient memory
            prefetch(gmem, order[ii + PREFETCH_ROWS])
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        p = 0.0
        for kk in range(start, end):
            ju = _u(_col(indices, dense_d, start, kk))  # unsigned: see _nb_shim._u
            k0 = last[ju]  # just-in-time update (written out: faster than a call)
            if k0 < k:
                if lam1 > 0.0:
                    w[ju] = _lag_prox(w[ju], D[ju], k0, k, A, B, cp, invs, eta, tau, lam1)
                else:
                    w[ju] -= (A[k] - A[k0]) * D[ju]
            p += w[ju] * data[_u(kk)]
        p = s * p + b
        g = _clip_dloss(_loss_dloss(loss, y[i], p, param)) * sw[i]
        corr = g - gmem[i]
        r = rw[i] if weighted else 1.0
        if solver == SOLVER_SVRG:
            c = 1.0
            e = eta * r * corr if weighted else eta * corr
        else:
            if seen[i] == 0:
                seen[i] = 1
                m_seen += 1
            gmem[i] = g
            c = 1.0 / m_seen
            e = eta * (r - c) * corr if solver == SOLVER_SAGA else 0.0
            if corr != 0.0:
                for kk in range(start, end):
                    D[_u(_col(indices, dense_d, start, kk))] += corr * data[_u(kk)]
                D[d] += corr
        s *= a
        inv = 1.0 / s
        cp[k] = c
        invs[k] = inv
        delta = eta * c * inv
        A[k + 1] = A[k] + delta
        B[k + 1] = B[k] + inv
        es = e * inv
        th = tau * inv
        for kk in range(start, end):
            ju = _u(_col(indices, dense_d, start, kk))
            x = w[ju] - delta * D[ju] - es * data[_u(kk)]
            if lam1 > 0.0:
                x = _soft(x, th)
            w[ju] = x
            last[ju] = k + 1
        if fit_intercept:
            b -= eta * c * D[d] + e
        k += 1
        if s < _WSCALE_MIN:
            _flush(w, d, k, last, D, A, B, cp, invs, eta, tau, lam1, s)
            s = 1.0
            k = 0
    _flush(w, d, k, last, D, A, B, cp, invs, eta, tau, lam1, s)
    w[d] = b
    ip[IP_M_SEEN] = m_seen
    fp[FP_T] += order.shape[0]


@_entry
def vr_epoch(data, indices, indptr, y, sw, order, rw, w, D, gmem, seen, ip, fp, last,
             work):
    """Run the steps of ``order`` of SAG/SAGA/SVRG on ``w`` (float64[d+1], last = intercept).

    The records (``fastgd._rules.records``): ``ip`` dense_d, solver, loss,
    fit_intercept, m_seen (updated); ``fp`` eta (the step), param, lam2 = alpha (1 -
    l1_ratio), lam1 = alpha l1_ratio, t (advanced by len(order)).

    ``D`` (float64[d+1], last = intercept part) is S, the running sum of gmem[i] x_i
    (SAG/SAGA; updated here), or μ, the snapshot's full loss gradient (SVRG; read only).
    ``gmem[i]`` is s_i dL/dp at the sample's last visit (SAG/SAGA) or at the snapshot
    (SVRG); ``rw`` (float64[n_samples] or empty) the importance weights r_i = 1/(n p_i)
    of SAGA/SVRG when ``order`` was drawn with probabilities p (empty: uniform, r_i = 1;
    SAG takes no weights); ``seen``/``m_seen`` count the samples seen (SAG/SAGA). ``last`` (int64[d])
    and ``work`` (float64, C-contiguous ``(4, len(order) + 1)``: the cumulative sums A,
    B and the steps' c_k, 1/s_k) are work arrays. On return every coordinate is up to
    date.
    """
    if work.shape[0] < 4 or work.shape[1] <= order.shape[0]:
        raise ValueError("work needs shape (4, len(order) + 1)")
    with cython.nogil:
        _vr_epoch(data, indices, indptr, y, sw, order, rw, w, D, gmem, seen, ip, fp,
                  last, work)


@_jit
def _svrg_snapshot(data, indices, indptr, dense_d, y, sw, idx, w, mu, gsnap, loss, param):
    """Full loss gradient at w: mu = (1/n) Σ s_i dL_i x_i (mu[d]: intercept part), and
    gsnap[i] = s_i dL_i; returns Σ s_i L_i (the loss part of the objective at w)."""
    d = w.shape[0] - 1
    n = idx.shape[0]
    for j in range(d + 1):
        mu[j] = 0.0
    total = 0.0
    for ii in range(n):
        i = idx[ii]
        start, end = _row(indptr, dense_d, i)
        p = w[d]
        for kk in range(start, end):
            p += w[_col(indices, dense_d, start, kk)] * data[kk]
        g = _clip_dloss(_loss_dloss(loss, y[i], p, param)) * sw[i]
        gsnap[i] = g
        total += sw[i] * _loss_value(loss, y[i], p, param)
        if g != 0.0:
            for kk in range(start, end):
                mu[_col(indices, dense_d, start, kk)] += g * data[kk]
            mu[d] += g
    for j in range(d + 1):
        mu[j] /= n
    return total


@_entry
def svrg_snapshot(data, indices, indptr, dense_d, y, sw, idx, w, mu, gsnap, loss, param):
    """Full loss gradient at w: mu = (1/n) Σ s_i dL_i x_i (mu[d]: intercept part), and
    gsnap[i] = s_i dL_i; returns Σ s_i L_i (the loss part of the objective at w)."""
    with cython.nogil:
        total = _svrg_snapshot(data, indices, indptr, dense_d, y, sw, idx, w, mu, gsnap,
                               loss, param)
    return total


@_jit
def _loss_sum(data, indices, indptr, dense_d, y, sw, idx, w, loss, param):
    """Σ_{i in idx} s_i L(y_i, x_i·w[:d] + w[d])."""
    d = w.shape[0] - 1
    total = 0.0
    for ii in range(idx.shape[0]):
        i = idx[ii]
        start, end = _row(indptr, dense_d, i)
        p = w[d]
        for kk in range(start, end):
            p += w[_col(indices, dense_d, start, kk)] * data[kk]
        total += sw[i] * _loss_value(loss, y[i], p, param)
    return total


@_entry
def loss_sum(data, indices, indptr, dense_d, y, sw, idx, w, loss, param):
    """Σ_{i in idx} s_i L(y_i, x_i·w[:d] + w[d])."""
    with cython.nogil:
        total = _loss_sum(data, indices, indptr, dense_d, y, sw, idx, w, loss, param)
    return total


@_jit
def _row_sq_norms(data, indptr, dense_d, idx, out):
    """out[ii] = ||x_i||² for i = idx[ii]."""
    for ii in range(idx.shape[0]):
        i = idx[ii]
        start, end = _row(indptr, dense_d, i)
        s = 0.0
        for kk in range(start, end):
            s += data[kk] * data[kk]  # float32 data: the product in float32, on both
        out[ii] = s


@_entry
def row_sq_norms(data, indptr, dense_d, idx, out):
    """out[ii] = ||x_i||² for i = idx[ii] (``out`` float64[len(idx)]): the per-sample
    Lipschitz constants' data part, in one pass without a copy of X."""
    if out.shape[0] != idx.shape[0]:
        raise ValueError("out needs one entry per index")
    with cython.nogil:
        _row_sq_norms(data, indptr, dense_d, idx, out)

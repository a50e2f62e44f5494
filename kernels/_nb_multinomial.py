"""Kernels of multinomial (softmax) logistic regression by SAG, SAGA and SVRG.

The K-class twin of ``_nb_vr.py`` (read its docstring first): the same steps, the same
just-in-time (lagged) sparse updates and the same scale trick, with K coefficients per
column and K gradient-memory scalars per sample. One source for both backends: Numba
jits this file, and the Cython build compiles it (after ``_nb_common.py`` and
``_nb_vr.py``, whose ``_lag_prox`` and ``_vr_records`` it reuses, with their ``.pxd`` files and
``_nb_multinomial.pxd``) as ``_cy_multinomial``; see ``_nb_common.py`` and setup.py.

The model is ``W`` (float64 (K, d+1), last column the intercepts); sample i's margins
are ``p_c = W[c, :d]·x_i + W[c, d]`` and its loss the cross-entropy
``L_i = log Σ_c exp(p_c) - p_{y_i}``, with ``dL_i/dp_c = σ_c(p) - [c = y_i]`` (σ the
softmax). The stored gradient scalars are ``gmem[i, c] = s_i dL_i/dp_c``. Per class c and
coordinate j the step is the binary one (λ2 = α(1-l1_ratio), λ1 = α l1_ratio, τ = ηλ1):

    W[c, j] <- prox_τ( (1 - η λ2) W[c, j] - η c_k D[c, j] - e_kc x_ij )
    W[c, d] <- W[c, d] - η c_k D[c, d] - e_kc

    SAG : D = S (Σ_i gmem[i, c] x_i, after this step's update), c_k = 1/m_k, e_kc = 0
    SAGA: D = S, c_k = 1/m_k, e_kc = η (1 - 1/m_k) (g_c - gmem_old[i, c])
    SVRG: D = μ (loss part of the full gradient at the snapshot), c_k = 1,
          e_kc = η (g_c(W) - g_c(snapshot))

All classes share the scale s (one λ2) and the column's lag ``last[j]``: a sample that
reads column j brings its K coefficients up to date at once (``_catch_up``), with the
binary kernel's exact ``_lag_prox`` for L1. The softmax subtracts the largest margin
first (no overflow); its gradient is bounded, so no clip is needed.
"""

try:
    import cython
except ImportError:  # the Numba backend runs without Cython (a build requirement only)
    from fastgd.kernels._nb_shim import cython

if not cython.compiled:  # Numba; the Cython build has these in the same module
    from math import exp, log

    from fastgd._rules import FP_T, IP_M_SEEN, SOLVER_SAGA, SOLVER_SVRG
    from fastgd.kernels._nb_common import _WSCALE_MIN, _col, _row, _soft, njit
    from fastgd.kernels._nb_vr import _lag_prox, _vr_records

# C division semantics, as _nb_common (Numba: error_model="numpy"; Cython: cdivision)
_jit = njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
_inline = njit(cache=True, nogil=True, inline="always", error_model="numpy",
               _nrt=False)
_entry = njit(entry=True)  # Cython: releases the GIL around _<name>; Numba: _<name>


@_inline
def _catch_up(w, D, j, k0, k, A, B, cp, invs, eta, tau, lam1):
    """Column j of every class, from step k0 to step k (the missed steps, exactly)."""
    if lam1 > 0.0:
        for c in range(w.shape[0]):
            w[c, j] = _lag_prox(w[c, j], D[c, j], k0, k, A, B, cp, invs, eta, tau, lam1)
    else:
        dA = A[k] - A[k0]
        for c in range(w.shape[0]):
            w[c, j] -= dA * D[c, j]


@_jit
def _flush_classes(w, d, k, last, D, A, B, cp, invs, eta, tau, lam1, s):
    """Bring every column up to step k and fold the scale into W (s becomes 1)."""
    for j in range(d):
        k0 = last[j]
        if k0 < k:
            _catch_up(w, D, j, k0, k, A, B, cp, invs, eta, tau, lam1)
        for c in range(w.shape[0]):
            w[c, j] *= s
        last[j] = 0


@_inline
def _softmax_dloss(p, yi, swi, g):
    """g[c] = s_i (σ_c(p) - [c = y_i]); returns s_i L_i (log-sum-exp less p_{y_i})."""
    n_classes = p.shape[0]
    pmax = p[0]
    for c in range(1, n_classes):
        if p[c] > pmax:
            pmax = p[c]
    total = 0.0
    for c in range(n_classes):
        g[c] = exp(p[c] - pmax)
        total += g[c]
    for c in range(n_classes):
        g[c] = swi * (g[c] / total)
    g[yi] -= swi
    return swi * (log(total) + pmax - p[yi])


@_inline
def _margins(data, indices, dense_d, start, end, w, p):
    """p[c] = W[c, :d]·x_i + W[c, d] over the stored entries of row i."""
    d = w.shape[1] - 1
    for c in range(w.shape[0]):
        p[c] = w[c, d]
    for kk in range(start, end):
        j = _col(indices, dense_d, start, kk)
        x = data[kk]
        for c in range(w.shape[0]):
            p[c] += w[c, j] * x


@_jit
def _multinomial_epoch(data, indices, indptr, y, sw, order, w, D, gmem, seen, ip, fp, last,
                       work, buf):
    """See multinomial_epoch. ``w[:, :d]`` holds V (W = s V inside the call)."""
    dense_d, solver, fit_intercept, m_seen, eta, lam2, lam1 = _vr_records(ip, fp)
    A = work[0]
    B = work[1]
    cp = work[2]
    invs = work[3]
    p = buf[0]
    g = buf[1]
    n_classes = w.shape[0]
    d = w.shape[1] - 1
    a = 1.0 - eta * lam2
    tau = eta * lam1
    s = 1.0
    k = 0
    A[0] = 0.0
    B[0] = 0.0
    for j in range(d):
        last[j] = 0
    for ii in range(order.shape[0]):
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        for c in range(n_classes):
            p[c] = 0.0
        for kk in range(start, end):
            j = _col(indices, dense_d, start, kk)
            k0 = last[j]
            if k0 < k:
                _catch_up(w, D, j, k0, k, A, B, cp, invs, eta, tau, lam1)
            x = data[kk]
            for c in range(n_classes):
                p[c] += w[c, j] * x
        for c in range(n_classes):
            p[c] = s * p[c] + w[c, d]
        _softmax_dloss(p, y[i], sw[i], g)
        # g becomes the correction g - gmem[i] (SAG/SAGA: gmem[i] takes the new g)
        for c in range(n_classes):
            gc = g[c]
            g[c] = gc - gmem[i, c]
            if solver != SOLVER_SVRG:
                gmem[i, c] = gc
        if solver == SOLVER_SVRG:
            ck = 1.0
            efac = eta
        else:
            if seen[i] == 0:
                seen[i] = 1
                m_seen += 1
            ck = 1.0 / m_seen
            efac = eta * (1.0 - ck) if solver == SOLVER_SAGA else 0.0
            for kk in range(start, end):
                j = _col(indices, dense_d, start, kk)
                x = data[kk]
                for c in range(n_classes):
                    D[c, j] += g[c] * x
            for c in range(n_classes):
                D[c, d] += g[c]
        s *= a
        inv = 1.0 / s
        cp[k] = ck
        invs[k] = inv
        delta = eta * ck * inv
        A[k + 1] = A[k] + delta
        B[k + 1] = B[k] + inv
        es = efac * inv
        th = tau * inv
        for kk in range(start, end):
            j = _col(indices, dense_d, start, kk)
            x = data[kk]
            for c in range(n_classes):
                v = w[c, j] - delta * D[c, j] - es * g[c] * x
                if lam1 > 0.0:
                    v = _soft(v, th)
                w[c, j] = v
            last[j] = k + 1
        if fit_intercept:
            for c in range(n_classes):
                w[c, d] -= eta * ck * D[c, d] + efac * g[c]
        k += 1
        if s < _WSCALE_MIN:
            _flush_classes(w, d, k, last, D, A, B, cp, invs, eta, tau, lam1, s)
            s = 1.0
            k = 0
    _flush_classes(w, d, k, last, D, A, B, cp, invs, eta, tau, lam1, s)
    ip[IP_M_SEEN] = m_seen
    fp[FP_T] += order.shape[0]


@_entry
def multinomial_epoch(data, indices, indptr, y, sw, order, w, D, gmem, seen, ip, fp, last,
                      work, buf):
    """Run the steps of ``order`` of multinomial SAG/SAGA/SVRG on ``w`` (float64
    (K, d+1), C-contiguous; last column the intercepts).

    ``y`` (int64) holds class indices 0..K-1. The records (``fastgd._rules.records``):
    ``ip`` dense_d, solver, fit_intercept, m_seen (updated); ``fp`` eta (the step), lam2 =
    alpha (1 - l1_ratio), lam1 = alpha l1_ratio, t (advanced by len(order)).

    ``D`` (float64 (K, d+1)) is S, the running sum of gmem[i, c] x_i (SAG/SAGA; updated
    here), or μ, the snapshot's full loss gradient (SVRG; read only). ``gmem`` (float64
    (n, K)) holds s_i dL_i/dp_c at the sample's last visit (SAG/SAGA) or at the snapshot
    (SVRG); ``seen``/``m_seen`` count the samples seen (SAG/SAGA). ``last`` (int64[d]),
    ``work`` (float64 (4, len(order) + 1): A, B, c_k, 1/s_k, as ``vr_epoch``) and ``buf``
    (float64 (2, K)) are work arrays. On return every coordinate is up to date.
    """
    if work.shape[0] < 4 or work.shape[1] <= order.shape[0]:
        raise ValueError("work needs shape (4, len(order) + 1)")
    if buf.shape[0] < 2 or buf.shape[1] != w.shape[0] or gmem.shape[1] != w.shape[0]:
        raise ValueError("buf needs shape (2, K) and gmem (n_samples, K)")
    with cython.nogil:
        _multinomial_epoch(data, indices, indptr, y, sw, order, w, D, gmem, seen, ip, fp,
                           last, work, buf)


@_jit
def _multinomial_snapshot(data, indices, indptr, dense_d, y, sw, idx, w, mu, gsnap, buf):
    """See multinomial_snapshot."""
    n_classes = w.shape[0]
    d = w.shape[1] - 1
    n = idx.shape[0]
    p = buf[0]
    for c in range(n_classes):
        for j in range(d + 1):
            mu[c, j] = 0.0
    total = 0.0
    for ii in range(n):
        i = idx[ii]
        start, end = _row(indptr, dense_d, i)
        _margins(data, indices, dense_d, start, end, w, p)
        total += _softmax_dloss(p, y[i], sw[i], gsnap[i])
        for kk in range(start, end):
            j = _col(indices, dense_d, start, kk)
            x = data[kk]
            for c in range(n_classes):
                mu[c, j] += gsnap[i, c] * x
        for c in range(n_classes):
            mu[c, d] += gsnap[i, c]
    for c in range(n_classes):
        for j in range(d + 1):
            mu[c, j] /= n
    return total


@_entry
def multinomial_snapshot(data, indices, indptr, dense_d, y, sw, idx, w, mu, gsnap, buf):
    """Full loss gradient at W: mu = (1/n) Σ_i gsnap[i] ⊗ x_i (mu[:, d]: intercepts),
    gsnap[i, c] = s_i dL_i/dp_c; returns Σ s_i L_i. ``buf``: float64 (2, K) work."""
    with cython.nogil:
        total = _multinomial_snapshot(data, indices, indptr, dense_d, y, sw, idx, w, mu,
                                      gsnap, buf)
    return total


@_jit
def _multinomial_loss_sum(data, indices, indptr, dense_d, y, sw, idx, w, buf):
    """See multinomial_loss_sum."""
    p = buf[0]
    g = buf[1]
    total = 0.0
    for ii in range(idx.shape[0]):
        i = idx[ii]
        start, end = _row(indptr, dense_d, i)
        _margins(data, indices, dense_d, start, end, w, p)
        total += _softmax_dloss(p, y[i], sw[i], g)
    return total


@_entry
def multinomial_loss_sum(data, indices, indptr, dense_d, y, sw, idx, w, buf):
    """Σ_{i in idx} s_i L_i at W (the cross-entropy of the softmax of X W[:, :d]ᵀ + W[:, d]).
    ``buf``: float64 (2, K) work."""
    with cython.nogil:
        total = _multinomial_loss_sum(data, indices, indptr, dense_d, y, sw, idx, w, buf)
    return total

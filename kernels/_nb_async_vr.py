"""Lock-free asynchronous SAGA and SVRG for ``n_jobs > 1`` (SPEC sections 4-5; Numba).

ASAGA (Leblond, Pedregosa, Lacoste-Julien 2017, section 3; ProxASAGA, Pedregosa, Leblond,
Lacoste-Julien 2017) and AsySVRG / KroMagnon (Mania et al. 2015): sparse steps whose dense
part (the mean gradient ``D`` and the penalty) is reweighted onto the sample's support,

    inv_p[j] = n / #{training rows with a stored entry in column j}   (0: empty column;
                                                                       dense data: 1)

so that its expectation over i is the full dense term and a step touches only its
support S_i (no lagged updates, no shared step counter). Per step on sample i
(λ2 = α(1-l1_ratio), λ1 = α l1_ratio, η the step):

    p = x_i·w + b ;  g = s_i clip(dL/dp(y_i, p)) ;  e = g - g_ref_i
        SAGA: g_ref_i = gmem[i], then gmem[i] = g ;  SVRG: g_ref_i = gmem[i] (snapshot)
    for j in S_i:  v = w_j - η (e x_ij + inv_p_j D_j)
                   w_j = soft(v, η λ1 inv_p_j) / (1 + η λ2 inv_p_j)
                   (the exact prox of the reweighted penalty: stable for any inv_p)
    b -= η (e + D_b)                                  (only with fit_intercept)
    SAGA only, after the step:  D_j += (e / n) x_ij (j in S_i) ;  D_b += e / n

``D`` is the mean of the stored gradients (SAGA) or the snapshot's full loss gradient
μ (SVRG), in both cases (1/n) Σ_i gmem[i] x_i, and ``full_pass`` computes it exactly
from ``gmem``: SVRG's snapshot (gmem[i] = g_i at the snapshot, then μ), and for SAGA after
every epoch, so that the increments lost to races bias D for at most one epoch. Rows of
``full_pass`` are cut into ``n_threads`` contiguous pieces, each thread accumulates into
its own row of ``gbuf`` (rows padded apart by ``PAD``), and the rows are reduced in the
fixed order 0, 1, ..., K-1: deterministic for a given thread count.

Hogwild! (as ``_nb_parallel``): the epoch's order is cut into ``n_threads`` contiguous
slices, one per ``prange`` iteration (the iteration index picks the scratch row; Numba's
thread count is never changed, and the Cython entries run with an OpenMP team of exactly
that many threads). Threads read and write ``w`` and (SAGA) ``D`` and
``gmem`` without locks. The intercept ``b`` and ``D_b``, touched by every step, are
private to each thread for a round of at most ``ROUND_STEPS`` steps, then merged in the
serial part. D_b is an accumulator of the threads' disjoint increments: D_b = D_b0 +
Σ_k (D_b,k - D_b0). The intercept takes the mean of the threads' moves,
b = b0 + Σ_k (b_k - b0) / K (model averaging over the round), not ``_nb_parallel``'s sum:
at the variance-reduced step sizes (η ~ 1/L) one thread moves b most of the way to its
optimum within a round, so the sum of K such moves overshoots by a factor K and
oscillates (measured: SVRG on reuters.trn with 2 threads went from F = 0.08 to 0.92);
the mean is a convex combination of stable moves. With ``rep`` (the engine's choice,
``fastgd._engine.hogwild_replicas``: few columns against a round's work) every thread
steps its own replicas of w and D in a round, and no thread writes shared
coefficients: a column then takes the mean of the moves of the threads that moved it
(as b), and D the sum of the threads' increments (as D_b); the epoch is deterministic.
With ``n_threads=1`` there is one round and every kernel is deterministic and equal,
operation for operation, to the NumPy reference ``tests/reference_vr.py::async_vr``.

One source for both backends: Numba jits this file, and the Cython build compiles it
(after ``_nb_common.py``, with ``_nb_async_vr.pxd``) as ``_cy_async_vr`` (OpenMP
``prange``; built without OpenMP its loops run one after another). See
``_nb_common.py``. With ``n_threads=1`` both are bit-identical; ``full_pass`` is
deterministic and bit-identical for any thread count (fixed pieces, fixed reduction).
"""

try:
    import cython
except ImportError:  # the Numba backend runs without Cython (a build requirement only)
    from fastgd.kernels._nb_shim import cython

if not cython.compiled:  # Numba; the Cython build has these in the same module
    from fastgd._rules import (FP_LAM1, FP_LAM2, FP_PARAM, FP_T, IP_DENSE_D,
                               IP_FIT_INTERCEPT, IP_LOSS, IP_N_THREADS, IP_N_TRAIN,
                               IP_SOLVER, SCHED_ETA, SOLVER_SAGA, SOLVER_SVRG)
    from fastgd.kernels._nb_common import (PAD, ROUND_STEPS, _ROUND_STEPS, _busy,
                                           _clip_dloss, _col, _loss_dloss, _loss_value,
                                           _movers, _prefetch_row, _reduced, _row,
                                           _row_axpy, _row_dot, _set_team, _soft,
                                           _to_index, njit)
    from fastgd.kernels._nb_parallel import guard
    from fastgd.kernels._nb_shim import prange
else:
    from cython.parallel import prange

_jit = njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
_pjit = njit(cache=True, nogil=True, parallel=True, error_model="numpy")
_entry = njit(entry=True)  # Cython: releases the GIL around _<name>; Numba: _<name>

__all__ = ["PAD", "ROUND_STEPS", "column_inv_p", "async_vr_epoch", "full_pass", "guard"]

_POS = 2  # tstate[k, _POS], tstate[k, _HI]: thread k's position and end in ``order``
_HI = 3


@_jit
def _column_inv_p(indices, indptr, dense_d, idx, p, inv_p):
    """inv_p[j] = 1 / P(sample's row stores column j), 0 if no row does; all ones if
    dense. Uniform (``p`` empty): n / (rows of ``idx`` storing j); drawn with
    probabilities ``p`` (one per entry of ``idx``): 1 / Σ_{rows storing j} p."""
    d = inv_p.shape[0]
    n = idx.shape[0]
    weighted = p.shape[0] > 0
    if dense_d > 0:
        for j in range(d):
            inv_p[j] = 1.0
        return
    for j in range(d):
        inv_p[j] = 0.0
    for ii in range(n):
        i = idx[ii]
        c = p[ii] if weighted else 1.0
        for k in range(indptr[i], indptr[i + 1]):
            inv_p[indices[k]] += c
    for j in range(d):
        if inv_p[j] > 0.0:
            inv_p[j] = 1.0 / inv_p[j] if weighted else n / inv_p[j]


@_entry
def column_inv_p(indices, indptr, dense_d, idx, p, inv_p):
    """inv_p[j] = 1 / P(the sampled row stores column j) (0: no row does; dense: 1);
    ``p`` the sampling probabilities of ``idx`` (empty: uniform, n / count)."""
    with cython.nogil:
        _column_inv_p(indices, indptr, dense_d, idx, p, inv_p)


@_jit
def _steps(data, indices, indptr, dense_d, y, sw, order, rw, ii0, ii1, w, D, gmem,
           inv_p, saga, loss, param, eta, lam2, lam1, fit_intercept, n, tstate, kt):
    """Steps order[ii0:ii1] of thread kt; tstate[kt, :2] = [b, D_b] (its copies)."""
    weighted = rw.shape[0] > 0
    b = tstate[kt, 0]
    db = tstate[kt, 1]
    tau = eta * lam1
    kap = eta * lam2
    for ii in range(ii0, ii1):
        _prefetch_row(data, indices, indptr, dense_d, y, sw, order, ii, w)
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        p = _row_dot(data, indices, dense_d, start, end, w) + b
        g = _clip_dloss(_loss_dloss(loss, y[i], p, param)) * sw[i]
        e = g - gmem[i]
        if saga:
            gmem[i] = g
        er = e * rw[i] if weighted else e
        for kk in range(start, end):
            j = _col(indices, dense_d, start, kk)
            ip = inv_p[j]
            v = w[j] - eta * (er * data[kk] + ip * D[j])
            w[j] = _soft(v, tau * ip) / (1.0 + kap * ip)
        if fit_intercept:
            b -= eta * (er + db)
        if saga:
            c = e / n
            _row_axpy(data, indices, dense_d, start, end, c, D)
            db += c
    tstate[kt, 0] = b
    tstate[kt, 1] = db


@_pjit
def _async_vr_epoch(data, indices, indptr, y, sw, order, rw, w, D, gmem, inv_p, ip, fp,
                    tstate, rep):
    """See async_vr_epoch (the Cython build: the nogil body of that entry)."""
    dense_d = ip[IP_DENSE_D]
    saga = ip[IP_SOLVER] == SOLVER_SAGA
    loss = ip[IP_LOSS]
    fit_intercept = ip[IP_FIT_INTERCEPT] != 0
    n = ip[IP_N_TRAIN]
    param = fp[FP_PARAM]
    eta = fp[SCHED_ETA]
    lam2 = fp[FP_LAM2]
    lam1 = fp[FP_LAM1]
    d = w.shape[0] - 1
    m = order.shape[0]
    K = min(ip[IP_N_THREADS], max(m, 1))
    multi = K > 1
    whole = multi and rep.shape[0] > 0  # every column in per-thread replicas
    for k in range(K):
        tstate[k, _POS] = k * m // K
        tstate[k, _HI] = (k + 1) * m // K
    while _busy(tstate, K, _POS, _HI):
        b0 = w[d]
        db0 = D[d]
        for k in range(K):
            tstate[k, 0] = b0
            tstate[k, 1] = db0
        for k in prange(K):
            if whole:  # every thread, so that an idle one adds nothing
                for j in range(d):
                    rep[k, 0, j] = w[j]
                    rep[k, 1, j] = D[j]
            pos = _to_index(tstate[k, _POS])
            hi = _to_index(tstate[k, _HI])
            if pos < hi:
                stop = min(hi, pos + _ROUND_STEPS) if multi else hi
                if whole:  # (SVRG only reads its copy of D, the snapshot's mean)
                    _steps(data, indices, indptr, dense_d, y, sw, order, rw, pos, stop,
                           rep[k, 0], rep[k, 1], gmem, inv_p, saga, loss, param, eta,
                           lam2, lam1, fit_intercept, n, tstate, k)
                else:
                    _steps(data, indices, indptr, dense_d, y, sw, order, rw, pos, stop,
                           w, D, gmem, inv_p, saga, loss, param, eta, lam2, lam1,
                           fit_intercept, n, tstate, k)
                tstate[k, _POS] = stop
        if multi:
            b_new = b0
            db_new = db0
            for k in range(K):
                b_new += (tstate[k, 0] - b0) / K
                db_new += tstate[k, 1] - db0
            w[d] = b_new
            D[d] = db_new
            # a column m threads moved takes the mean of their moves (as b); D adds up
            # the threads' disjoint increments (as D_b)
            for j in range(d if whole else 0):
                dw, mw = _movers(rep, 0, j, K, w[j])
                if mw > 0:
                    w[j] += dw / mw
                if saga:
                    dD, mD = _movers(rep, 1, j, K, D[j])
                    D[j] += dD
        else:
            w[d] = tstate[0, 0]
            D[d] = tstate[0, 1]
    fp[FP_T] += m


@_entry
def async_vr_epoch(data, indices, indptr, y, sw, order, rw, w, D, gmem, inv_p, ip, fp,
                   tstate, rep):
    """The steps of ``order`` (module docstring) on ``w`` (float64[d+1], last = b).

    ``rw`` float64[n_samples] (or empty: uniform): the importance weights r_i = 1/(n p_i)
    of an ``order`` drawn with probabilities p (e becomes r_i e in the step, not in D).
    ``D`` float64[d+1] (last = D_b): SAGA's mean stored gradient (updated) or SVRG's μ
    (read only); ``gmem`` float64[n_samples]; ``inv_p`` float64[d]; ``tstate`` float64
    ``(n_threads, PAD)`` scratch; ``rep`` float64 ``(n_threads, 2, d)``, each thread's
    replicas of w and D (module docstring), or ``(0, 2, 0)`` for every column shared.
    The records (``fastgd._rules.records``): ``ip`` dense_d, solver (SAGA or SVRG),
    loss, fit_intercept, n_train (the number of training samples), n_threads; ``fp``
    eta (the step), param, lam2, lam1 and t (advanced by len(order)).
    """
    K = min(ip[IP_N_THREADS], max(order.shape[0], 1))
    if K < 1 or tstate.shape[0] < K or tstate.shape[1] < 4:
        raise ValueError(f"tstate has shape {tuple(tstate.shape)[:2]}; needs ({K}, 4)")
    if rep.shape[0] > 0 and (rep.shape[0] < K or rep.shape[1] < 2
                             or rep.shape[2] < w.shape[0] - 1):
        raise ValueError(f"rep has shape {tuple(rep.shape)}; needs "
                         f"({K}, 2, {w.shape[0] - 1})")
    with cython.nogil:
        team = _set_team(K)
        _async_vr_epoch(data, indices, indptr, y, sw, order, rw, w, D, gmem, inv_p, ip,
                        fp, tstate, rep)
        _set_team(team)


@_jit
def _pass_piece(data, indices, indptr, dense_d, y, sw, idx, lo, hi, w, gmem, snapshot,
                loss, param, gbuf, tstate, kt):
    """Rows idx[lo:hi] of ``full_pass`` into gbuf[kt]; tstate[kt] = [Σ s_i L_i, Σ g_i]."""
    d = w.shape[0] - 1
    b = w[d]
    total = 0.0
    gb = 0.0
    for ii in range(lo, hi):
        _prefetch_row(data, indices, indptr, dense_d, y, sw, idx, ii, w)
        i = idx[ii]
        start, end = _row(indptr, dense_d, i)
        p = _row_dot(data, indices, dense_d, start, end, w) + b
        total += sw[i] * _loss_value(loss, y[i], p, param)
        if snapshot:
            g = _clip_dloss(_loss_dloss(loss, y[i], p, param)) * sw[i]
            gmem[i] = g
        else:
            g = gmem[i]
        gb += g
        if g != 0.0:
            for kk in range(start, end):
                gbuf[kt, _col(indices, dense_d, start, kk)] += g * data[kk]
    tstate[kt, 0] = total
    tstate[kt, 1] = gb


@_pjit
def _full_pass(data, indices, indptr, y, sw, idx, w, D, gmem, ip, fp, gbuf, tstate):
    """See full_pass (the Cython build: the nogil body of that entry)."""
    dense_d = ip[IP_DENSE_D]
    snapshot = ip[IP_SOLVER] == SOLVER_SVRG
    loss = ip[IP_LOSS]
    param = fp[FP_PARAM]
    n = idx.shape[0]
    d = w.shape[0] - 1
    K = min(ip[IP_N_THREADS], max(n, 1))
    for k in prange(K):
        _pass_piece(data, indices, indptr, dense_d, y, sw, idx, k * n // K,
                    (k + 1) * n // K, w, gmem, snapshot, loss, param, gbuf, tstate, k)
    for c in prange(K):
        for j in range(c * d // K, (c + 1) * d // K):
            D[j] = _reduced(gbuf, K, j) / n
    total = tstate[0, 0]
    gb = tstate[0, 1]
    for k in range(1, K):
        total += tstate[k, 0]
        gb += tstate[k, 1]
    D[d] = gb / n
    return total


@_entry
def full_pass(data, indices, indptr, y, sw, idx, w, D, gmem, ip, fp, gbuf, tstate):
    """D = (1/n) Σ_{i in idx} gmem[i] x_i (D[d]: (1/n) Σ gmem[i]); returns Σ s_i L_i at w.

    With ``ip``'s solver SVRG (the snapshot) it first sets gmem[i] = s_i clip(dL/dp) at
    w; with SAGA gmem is read. ``ip``: dense_d, solver, loss, n_threads; ``fp``: param.
    Scratch: gbuf float64 ``(n_threads, d + 1 + PAD)`` zeros (left zeroed), tstate
    float64 ``(n_threads, PAD)``. Deterministic (fixed pieces, fixed reduction).
    """
    K = min(ip[IP_N_THREADS], max(idx.shape[0], 1))
    if (K < 1 or gbuf.shape[0] < K or gbuf.shape[1] < w.shape[0]
            or tstate.shape[0] < K or tstate.shape[1] < 2):
        raise ValueError("gbuf / tstate have fewer rows or columns than the kernel needs")
    with cython.nogil:
        team = _set_team(K)
        total = _full_pass(data, indices, indptr, y, sw, idx, w, D, gmem, ip, fp, gbuf,
                           tstate)
        _set_team(team)
    return total

"""Multi-threaded kernels for solver='sgd' (``n_jobs > 1``; SPEC section 5).

Imported only when a fit asks for ``n_jobs > 1`` (``import fastgd`` stays light), and
its ``parallel=True`` kernels compile on their first call (``cache=True`` afterwards).
Every kernel takes the thread count ``n_threads`` as an argument and splits its work
into exactly ``n_threads`` ``prange`` iterations, each with its own scratch row; the
iteration index, not the thread id, picks the scratch row. So a fit never changes
Numba's thread count (the Cython entries run each call with an OpenMP team of exactly
that many threads, then restore the caller's setting), and concurrent fits with different ``n_jobs`` from several
Python threads cannot interfere with each other; with ``n_threads=1`` every kernel runs
the serial algorithm of ``_nb_sgd`` operation for operation (bit-identical results).

Hogwild! (Niu, Recht, Re, Wright 2011): ``hogwild_plain_epoch`` (scikit-learn's
per-sample SGD) and ``hogwild_optimizer_epoch`` (every rule, batch 1 or small batches).
The epoch's sample order (made in Python) is cut into ``n_threads`` contiguous slices
of whole batches; each thread runs the serial algorithm on its slice and writes the
shared coefficients (and the rule's per-coordinate state, and L1's ``q``) without locks.

- Step counter: thread k counts its steps from the epoch's offset of its slice
  (``t0 + first batch of the slice + local step``), so schedules, Adam's bias
  corrections and the cumulative L1 clock ``u`` follow the same global schedule as the
  serial run (``u`` of thread k starts at ``u0 + sum of a1*eta_t`` over the batches
  before its slice; the epoch returns the ``u`` of the thread that ran the last batch).
- Sparse vs dense: on CSR with ``lazy=True`` a step touches only its support (plus the
  intercept), which is what makes Hogwild! sound (conflicts only on shared columns).
  On dense data (and CSR with ``lazy=False``) every step writes every coordinate: the
  threads race on all of them. It still converges in practice (each write is a valid
  SGD step from a slightly stale point) but with many more conflicts and cache-line
  traffic, so expect little speed-up and a noisier objective there.
- Rounds: a thread runs at most ``ROUND_STEPS`` batches, then all threads meet (the
  ``prange`` ends) and the serial part merges what cannot be shared lock-free:

  * Intercept (touched by every step): each thread keeps a private copy of the
    intercept and of the intercept's rule state for the round, initialised from the
    shared values; at the round's end the shared intercept becomes
    ``b + sum_k (b_k - b)`` (every thread's progress counts, staleness bounded by one
    round, like any Hogwild! coordinate) and its rule state the mean of the threads'
    states (the sum of deltas for Adagrad's accumulator). Threads therefore never
    serialise on the intercept's cache line and never drift apart by more than a round.
  * L2 shrink of untouched coordinates (plain SGD's ``wscale``; rule 'sgd' on CSR
    keeps ``w = scale * v`` too): a shared scalar cannot be multiplied lock-free from
    several threads. Scheme: *per-thread scale with synchronisation at round ends*.
    During a round every thread starts from the shared scale ``S`` and multiplies its
    own copy ``s_k`` by its steps' shrink factors; it reads ``w = s_k * v`` and writes
    ``v += delta / s_k``. At the round's end the shared scale becomes
    ``S * prod_k (s_k / S)``: every step's shrink is applied exactly once to every
    coordinate (the epoch's total shrink is exact), and a write of thread k gets the
    other threads' shrink of that round, as if their steps came after it. A thread also
    ends its round early once its own shrink in the round exceeds 1 % (``s_k < 0.99 S``),
    so what a thread does not yet see of the others' shrink is below ~1 % of ``w``.
    The rescale below 1e-9 (scikit-learn's ``wscale`` floor) happens on the merged scale
    in the serial part. With one thread there is one round and the scale is the
    serial one.
  * ``average`` (ASGD) keeps shared scalars (``average_a``, ``average_b``) updated by
    every step, which has no sound lock-free form here: ``n_jobs > 1`` with ``average``
    on a binary problem is a ValueError raised by the engine (one-vs-rest problems fit
    in parallel threads instead, each serial, so averaging works there).

Synchronous data parallelism (``sync_optimizer_epoch``, for ``batch_size='full'`` and
large batches, ``>= SYNC_MIN_BATCH``): each batch is cut into ``n_threads`` contiguous
pieces; thread k computes its samples' margins and accumulates their loss gradient into
its own row of ``gbuf`` (rows padded apart against false sharing) and its own support
list; the rows are reduced in the fixed order 0, 1, ..., so the result does not depend
on timing; the per-coordinate updates are then split over the threads (coordinates are
independent). With one thread the sums are the serial ones, term for term.

One source for both backends: Numba jits this file, and the Cython build compiles it
(after ``_nb_common.py``, with ``_nb_parallel.pxd``) as ``_cy_parallel``, whose
``prange`` loops are OpenMP ones (built without OpenMP they run one after another: the
same results, no speed-up; the engine then does not use them). See ``_nb_common.py``.
A compiled body allocates nothing: a thread's position and end in the epoch live in
its row of ``tstate``. Bit-identical on both backends with ``n_threads=1``, and
``sync_optimizer_epoch`` for any thread count (fixed pieces, fixed reduction order).
GNU OpenMP is thread-safe (the Cython ``guard()`` locks nothing) but not fork-safe.
"""

try:
    import cython
except ImportError:  # the Numba backend runs without Cython (a build requirement only)
    from fastgd.kernels._nb_shim import cython

if not cython.compiled:  # Numba; the Cython build has these in the same module
    import os
    import threading
    from contextlib import contextmanager
    from math import sqrt

    from fastgd._rules import (HP_BETA_1, HP_BETA_2, HP_MOMENTUM, PENALTY_ELASTICNET,
                               PENALTY_L1, PENALTY_L2, PENALTY_NONE, RULE_ADAGRAD,
                               RULE_NAG, RULE_SGD)
    from fastgd.kernels._nb_common import (PAD, ROUND_STEPS, SHRINK_KEEP,  # noqa: F401
                                           SYNC_MIN_BATCH, _ROUND_STEPS, _SHRINK_KEEP,
                                           _WSCALE_MIN, _batch_gradient, _batch_margins,
                                           _busy, _clip_dloss, _col, _coordinate,
                                           _l1_truncate, _loss_dloss, _loss_value,
                                           _prefetch_row, _reduced, _row, _row_add_norms,
                                           _row_axpy, _row_dot, _set_team, _step_size,
                                           _sweep, _to_index, njit)
    from fastgd.kernels._nb_shim import prange

    # -------------------------------------------------------------- threading layer
    def preferred_threading_layer():
        """The Numba threading layer fastgd asks for: 'tbb' when it loads, else None.

        TBB is both thread-safe (fastgd may be called from several Python threads at
        once, e.g. Dask's threaded scheduler) and fork-safe. GNU OpenMP ('omp') is
        thread-safe but not fork-safe; 'workqueue' is neither. ``NUMBA_THREADING_LAYER``
        set by the user is respected.
        """
        if os.environ.get("NUMBA_THREADING_LAYER"):
            return None
        from fastgd._backend import load_tbb

        load_tbb()  # the tbb wheel's library is not on the loader's path
        try:
            from numba.np.ufunc import tbbpool  # noqa: F401
        except ImportError:
            return None
        return "tbb"

    def _configure_threading_layer():
        """Select TBB before the first parallel launch (a no-op once threads run)."""
        from numba import config
        from numba.np.ufunc import parallel

        if parallel._is_initialized:
            return
        layer = preferred_threading_layer()
        if layer is not None:
            config.THREADING_LAYER = layer

    _configure_threading_layer()

    _LOCK = threading.Lock()

    def threading_layer_in_use():
        """The launched layer's name, or None when no parallel region has run yet."""
        from numba import threading_layer
        try:
            return threading_layer()
        except ValueError:
            return None

    @contextmanager
    def guard():
        """Serialise parallel kernel calls unless the layer is known to be thread-safe.

        Under 'tbb' and 'omp' concurrent calls are fine and nothing is locked; under
        'workqueue' (or before the first launch, when the layer is not known yet) one
        module lock lets a single parallel kernel run at a time, which is what Numba's
        documentation requires of that layer.
        """
        if threading_layer_in_use() in ("tbb", "omp"):
            yield
            return
        with _LOCK:
            yield
else:
    from cython.parallel import prange

_jit = njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
_pjit = njit(cache=True, nogil=True, parallel=True, error_model="numpy")
_entry = njit(entry=True)  # Cython: releases the GIL around _<name>; Numba: _<name>

# tstate[k, _*_POS], tstate[k, _*_HI]: thread k's position and end in the epoch
_PLAIN_POS = 9
_PLAIN_HI = 10
_OPT_POS = 3
_OPT_HI = 4


def _need(name, arr, rows, cols=None):
    """A clear error instead of an out-of-bounds write (the Cython entries check)."""
    if arr.shape[0] < rows or (cols is not None and arr.shape[1] < cols):
        raise ValueError(f"{name} has shape {tuple(arr.shape)[:arr.ndim]}; needs at least "
                         f"({rows}, {cols if cols is not None else ''})")


# --------------------------------------------------------- Hogwild!: plain SGD
@_jit
def _plain_run(data, indices, indptr, dense_d, y, sw, order, ii0, ii_stop, w, aw, q,
               loss, param, penalty, alpha, l1_ratio, fit_intercept, intercept_decay,
               schedule, lr_params, t0, average, track_objective,
               multi, scale_ref, tstate, kt):
    """Samples order[ii0:ii_stop] of ``plain_sgd_epoch`` for thread row ``kt``.

    ``tstate[kt, :9]`` = [wscale, average_a, average_b, u, sq_norm, l1_norm, intercept,
    average_intercept, objective_sum] of this thread (updated). Returns the position
    reached (< ii_stop when the thread ended its round on the shrink criterion).
    """
    wscale = tstate[kt, 0]
    avg_a = tstate[kt, 1]
    avg_b = tstate[kt, 2]
    u = tstate[kt, 3]
    sq_norm = tstate[kt, 4]
    l1_norm = tstate[kt, 5]
    intercept = tstate[kt, 6]
    avg_intercept = tstate[kt, 7]
    objective_sum = tstate[kt, 8]
    n_features = w.shape[0]
    has_l1 = penalty == PENALTY_L1 or penalty == PENALTY_ELASTICNET
    ii = ii0
    while ii < ii_stop:
        t = t0 + ii
        eta_t = _step_size(schedule, lr_params, t)
        if multi and penalty >= PENALTY_L2 and ii > ii0:
            c = 1.0 - (1.0 - l1_ratio) * eta_t * alpha
            if c < 0.0:
                c = 0.0
            if wscale * c < _SHRINK_KEEP * scale_ref:
                break
        _prefetch_row(data, indices, indptr, dense_d, order, ii, w)
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        p = _row_dot(data, indices, dense_d, start, end, w) * wscale + intercept
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
            l2acc, l1acc = _row_add_norms(data, indices, dense_d, start, end,
                                          update / wscale, w)
            sq_norm = l2acc * (wscale * wscale)
            l1_norm = l1acc * wscale
        elif update != 0.0:  # the norms only feed the objective
            _row_axpy(data, indices, dense_d, start, end, update / wscale, w)
        if fit_intercept and update != 0.0:
            intercept += update * intercept_decay
        if 0 < average and average <= t:  # single thread only (engine refuses otherwise)
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


@_pjit
def _hogwild_plain_epoch(data, indices, indptr, dense_d, y, sw, order, w, aw, q, st,
                         loss, param, penalty, alpha, l1_ratio, fit_intercept,
                         intercept_decay, schedule, lr_params, t,
                         average, track_objective, n_threads, tstate):
    """See hogwild_plain_epoch (the Cython build: the nogil body of that entry)."""
    n = order.shape[0]
    K = min(n_threads, max(n, 1))
    multi = K > 1
    for k in range(K):
        tstate[k, _PLAIN_POS] = k * n // K
        tstate[k, _PLAIN_HI] = (k + 1) * n // K
    # per-thread scalars; u of thread k starts at the clock of its first sample
    has_l1 = penalty == PENALTY_L1 or penalty == PENALTY_ELASTICNET
    u = st[3]
    for k in range(K):
        for s in range(8):
            tstate[k, s] = st[s]
        tstate[k, 8] = 0.0
        if k > 0 and has_l1:
            for ii in range((k - 1) * n // K, k * n // K):
                u += l1_ratio * _step_size(schedule, lr_params, t + ii) * alpha
            tstate[k, 3] = u
    S = st[0]
    while _busy(tstate, K, _PLAIN_POS, _PLAIN_HI):
        b_shared = st[6]
        for k in range(K):
            tstate[k, 0] = S
            tstate[k, 6] = b_shared
        for k in prange(K):
            pos = _to_index(tstate[k, _PLAIN_POS])
            hi = _to_index(tstate[k, _PLAIN_HI])
            if pos < hi:
                stop = min(hi, pos + _ROUND_STEPS) if multi else hi
                tstate[k, _PLAIN_POS] = _plain_run(
                    data, indices, indptr, dense_d, y, sw, order, pos, stop, w, aw, q,
                    loss, param, penalty, alpha, l1_ratio, fit_intercept, intercept_decay,
                    schedule, lr_params, t, average,
                    track_objective, multi, S, tstate, k)
        if multi:
            s_new = S
            b_new = b_shared
            for k in range(K):
                s_new *= tstate[k, 0] / S
                b_new += tstate[k, 6] - b_shared
            if s_new < _WSCALE_MIN:
                for j in range(w.shape[0]):
                    w[j] *= s_new
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


@_entry
def hogwild_plain_epoch(data, indices, indptr, dense_d, y, sw, order, w, aw, q, st,
                        loss, param, penalty, alpha, l1_ratio, fit_intercept,
                        intercept_decay, schedule, lr_params, t,
                        average, track_objective, n_threads, tstate):
    """Hogwild! version of ``plain_sgd_epoch`` (same arguments, same ``st``, same return).

    ``tstate`` is per-thread scratch, float64 ``(n_threads, >= 9 + PAD)``. With more
    than one thread ``average`` must be 0 (the engine checks it). See the module
    docstring for the per-thread scale and the intercept merge.
    """
    if n_threads < 1:
        raise ValueError(f"n_threads must be >= 1; got {n_threads}")
    K = min(n_threads, max(order.shape[0], 1))
    _need("tstate", tstate, K, _PLAIN_HI + 1)
    with cython.nogil:
        team = _set_team(K)
        r = _hogwild_plain_epoch(data, indices, indptr, dense_d, y, sw, order, w, aw, q,
                                 st, loss, param, penalty, alpha, l1_ratio, fit_intercept,
                                 intercept_decay, schedule, lr_params,
                                 t, average, track_objective, n_threads,
                                 tstate)
        _set_team(team)
    return r


# ------------------------------------------------------- Hogwild!: every rule
@_jit
def _opt_run(data, indices, indptr, dense_d, y, sw, order, batch_size, bb0, bb_stop,
             w, state, hp, q, rule, loss, param, alpha, a2, a1, fit_intercept, all_coords,
             scaled, schedule, lr_params, t0, multi, scale_ref,
             wi, si, gbuf, dbuf, mark, klist, tstate, kt):
    """Batches bb0 <= b < bb_stop of ``optimizer_epoch`` for thread row ``kt``.

    The intercept and its rule state are this thread's private copies ``wi[0]`` and
    ``si[:, 0]``; gbuf, dbuf, mark, klist its rows of the scratch. ``tstate[kt, :3]`` =
    [u, scale, loss_sum] of this thread (updated). Returns the batch reached (< bb_stop
    when the thread ended its round on the shrink criterion).
    """
    n_features = w.shape[0] - 1
    n = order.shape[0]
    gamma = hp[HP_MOMENTUM]
    b1 = hp[HP_BETA_1]
    b2 = hp[HP_BETA_2]
    sparse = dense_d == 0
    nag = rule == RULE_NAG
    u = tstate[kt, 0]
    scale = tstate[kt, 1]
    loss_sum = tstate[kt, 2]
    bb = bb0
    while bb < bb_stop:
        t = t0 + bb
        eta_t = _step_size(schedule, lr_params, t)
        if multi and scaled and bb > bb0:
            if abs(scale * (1.0 - eta_t * a2)) < _SHRINK_KEEP * abs(scale_ref):
                break
        b0 = bb * batch_size
        b_end = min(b0 + batch_size, n)
        nb = b_end - b0
        b_int = wi[0]
        if nag:
            b_int -= gamma * si[0, 0]
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
            scale *= 1.0 - eta_t * a2
            if scale == 0.0:
                for j in range(n_features):
                    w[j] = 0.0
                scale = scale_ref if multi else 1.0
            for kk in range(nk):
                j = klist[kk]
                w[j] -= eta_t * gbuf[j] / scale
                gbuf[j] = 0.0
                mark[j] = 0
                if a1 > 0.0:
                    _l1_truncate(w, q, j, u, scale)
            if abs(scale) < _WSCALE_MIN:
                if multi:  # degenerate first step of a round: fold this thread's shrink
                    f = scale / scale_ref
                    for j in range(n_features):
                        w[j] *= f
                    scale = scale_ref
                else:
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
            _coordinate(rule, 0, g_int, 0.0, wi, si, eta_t, hp, c1, c2, c1n)
        bb += 1
    tstate[kt, 0] = u
    tstate[kt, 1] = scale
    tstate[kt, 2] = loss_sum
    return bb


@_pjit
def _hogwild_optimizer_epoch(data, indices, indptr, dense_d, y, sw, order, batch_size,
                             w, state, hp, q, rule, loss, param, alpha, l1_ratio,
                             fit_intercept, lazy, schedule, lr_params,
                             t, u, n_threads, gbuf, dbuf, mark, klist,
                             wi, si, tstate):
    """See hogwild_optimizer_epoch (the Cython build: the nogil body of that entry)."""
    n_features = w.shape[0] - 1
    n = order.shape[0]
    n_slots = state.shape[0]
    n_batches = (n + batch_size - 1) // batch_size
    K = min(n_threads, max(n_batches, 1))
    multi = K > 1
    a2 = alpha * (1.0 - l1_ratio)
    a1 = alpha * l1_ratio
    sparse = dense_d == 0
    scaled = sparse and rule == RULE_SGD
    all_coords = (not sparse) or (not lazy and not scaled)
    for k in range(K):
        tstate[k, _OPT_POS] = k * n_batches // K
        tstate[k, _OPT_HI] = (k + 1) * n_batches // K
    uk = u
    for k in range(K):
        if k > 0 and a1 > 0.0:
            for bb in range((k - 1) * n_batches // K, k * n_batches // K):
                uk += a1 * _step_size(schedule, lr_params, t + bb)
        tstate[k, 0] = uk
        tstate[k, 2] = 0.0
    S = 1.0
    while _busy(tstate, K, _OPT_POS, _OPT_HI):
        for k in range(K):
            tstate[k, 1] = S
            wi[k, 0] = w[n_features]
            for s in range(n_slots):
                si[k, s, 0] = state[s, n_features]
        for k in prange(K):
            pos = _to_index(tstate[k, _OPT_POS])
            hi = _to_index(tstate[k, _OPT_HI])
            if pos < hi:
                stop = min(hi, pos + _ROUND_STEPS) if multi else hi
                tstate[k, _OPT_POS] = _opt_run(
                    data, indices, indptr, dense_d, y, sw, order, batch_size, pos, stop, w,
                    state, hp, q, rule, loss, param, alpha, a2, a1, fit_intercept,
                    all_coords, scaled, schedule, lr_params, t,
                    multi, S, wi[k], si[k], gbuf[k], dbuf[k], mark[k], klist[k], tstate,
                    k)
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
                if rule == RULE_ADAGRAD:  # an accumulator: every thread's increments count
                    state[s, n_features] = s0 + acc
                else:  # running averages (momentum, RMSprop, Adam...): their mean
                    state[s, n_features] = s0 + acc / K
            if scaled and (s_new == 0.0 or abs(s_new) < _WSCALE_MIN):
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


@_entry
def hogwild_optimizer_epoch(data, indices, indptr, dense_d, y, sw, order, batch_size,
                            w, state, hp, q, rule, loss, param, alpha, l1_ratio,
                            fit_intercept, lazy, schedule, lr_params,
                            t, u, n_threads, gbuf, dbuf, mark, klist,
                            wi, si, tstate):
    """Hogwild! version of ``optimizer_epoch``: same arguments and return, plus
    ``n_threads`` and per-thread scratch (one row per thread, allocated once per fit):
    gbuf ``(n_threads, n_features + 1 + PAD)`` zeros, dbuf ``(n_threads, batch + PAD)``,
    mark ``(n_threads, n_features)`` uint8 zeros, klist ``(n_threads, n_features)``
    int64, wi ``(n_threads, PAD)``, si ``(n_threads, n_slots, PAD)``, tstate
    ``(n_threads, PAD)``.
    """
    n_features = w.shape[0] - 1
    n = order.shape[0]
    n_slots = state.shape[0]
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    if n_threads < 1:
        raise ValueError(f"n_threads must be >= 1; got {n_threads}")
    n_batches = (n + batch_size - 1) // batch_size
    K = min(n_threads, max(n_batches, 1))
    _need("gbuf", gbuf, K, n_features + 1)
    _need("dbuf", dbuf, K, min(batch_size, n))
    if dense_d == 0:
        _need("mark", mark, K, n_features)
        _need("klist", klist, K, n_features)
    _need("wi", wi, K, 1)
    if si.shape[0] < K or si.shape[1] < n_slots or si.shape[2] < 1:
        raise ValueError(f"si has shape {tuple(si.shape)[:3]}; needs ({K}, {n_slots}, 1)")
    _need("tstate", tstate, K, _OPT_HI + 1)
    with cython.nogil:
        team = _set_team(K)
        r = _hogwild_optimizer_epoch(data, indices, indptr, dense_d, y, sw, order,
                                     batch_size, w, state, hp, q, rule, loss, param,
                                     alpha, l1_ratio, fit_intercept, lazy, schedule, lr_params,
                                     t, u, n_threads, gbuf,
                                     dbuf, mark, klist, wi, si, tstate)
        _set_team(team)
    return r


# ----------------------------------------- synchronous data parallelism (big batches)
@_jit
def _grad_piece(data, indices, indptr, dense_d, y, sw, order, lo, hi, nb, w, state,
                gamma, nag, scale, b_int, loss, param, all_coords, track, gbuf, mark,
                klist, tstate, kt):
    """Margins, loss and loss gradient of samples order[lo:hi] into this thread's rows
    of the scratch (gbuf, mark, klist). ``tstate[kt, :3]`` = [loss_sum (running, in),
    g_int (out), support size (out)].
    """
    loss_sum = tstate[kt, 0]
    g_int = 0.0
    nk = 0
    for ii in range(lo, hi):
        _prefetch_row(data, indices, indptr, dense_d, order, ii, w)
        i = order[ii]
        start, end = _row(indptr, dense_d, i)
        p = 0.0
        if nag:
            for k in range(start, end):
                j = _col(indices, dense_d, start, k)
                p += (w[j] - gamma * state[0, j]) * data[k]
        else:
            for k in range(start, end):
                p += w[_col(indices, dense_d, start, k)] * data[k]
        p = p * scale + b_int
        loss_sum += sw[i] * _loss_value(loss, y[i], p, param)
        c = sw[i] * _clip_dloss(_loss_dloss(loss, y[i], p, param)) / nb
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
    tstate[kt, 2] = nk


@_pjit
def _sync_optimizer_epoch(data, indices, indptr, dense_d, y, sw, order, batch_size,
                          w, state, hp, q, rule, loss, param, alpha, l1_ratio,
                          fit_intercept, lazy, schedule, lr_params,
                          t, u, n_threads, gbuf, mark, klist, gmark, gklist, tstate):
    """See sync_optimizer_epoch (the Cython build: the nogil body of that entry)."""
    n_features = w.shape[0] - 1
    n = order.shape[0]
    K = max(n_threads, 1)
    a2 = alpha * (1.0 - l1_ratio)
    a1 = alpha * l1_ratio
    gamma = hp[HP_MOMENTUM]
    b1 = hp[HP_BETA_1]
    b2 = hp[HP_BETA_2]
    sparse = dense_d == 0
    scaled = sparse and rule == RULE_SGD
    all_coords = (not sparse) or (not lazy and not scaled)
    track = sparse and not all_coords
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
        b_int = w[n_features]
        if nag:
            b_int -= gamma * state[0, n_features]
        for k in range(K):
            tstate[k, 0] = loss_sum if k == 0 else 0.0
        for k in prange(K):
            _grad_piece(data, indices, indptr, dense_d, y, sw, order,
                        b0 + k * nb // K, b0 + (k + 1) * nb // K, nb, w, state, gamma,
                        nag, scale, b_int, loss, param, all_coords, track, gbuf[k],
                        mark[k], klist[k], tstate, k)
        loss_sum = tstate[0, 0]
        g_int = tstate[0, 1]
        for k in range(1, K):
            loss_sum += tstate[k, 0]
            g_int += tstate[k, 1]
        # the batch's support: union of the threads' lists, in thread order
        nk = 0
        if track:
            for k in range(K):
                for kk in range(_to_index(tstate[k, 2])):
                    j = klist[k, kk]
                    mark[k, j] = 0
                    if gmark[j] == 0:
                        gmark[j] = 1
                        gklist[nk] = j
                        nk += 1
        c1 = 1.0 - b1 ** t
        c2 = 1.0 - b2 ** t
        c1n = 1.0 - b1 ** (t + 1.0)
        u += a1 * eta_t
        if scaled:
            scale *= 1.0 - eta_t * a2
            if scale == 0.0:
                for j in range(n_features):
                    w[j] = 0.0
                scale = 1.0
            for c in prange(K):
                for kk in range(c * nk // K, (c + 1) * nk // K):
                    j = gklist[kk]
                    w[j] -= eta_t * _reduced(gbuf, K, j) / scale
                    gmark[j] = 0
                    if a1 > 0.0:
                        _l1_truncate(w, q, j, u, scale)
            if abs(scale) < _WSCALE_MIN:
                for j in range(n_features):
                    w[j] *= scale
                scale = 1.0
        elif all_coords:
            for c in prange(K):
                for j in range(c * n_features // K, (c + 1) * n_features // K):
                    _coordinate(rule, j, _reduced(gbuf, K, j), a2, w, state, eta_t, hp,
                                c1, c2, c1n)
                    if a1 > 0.0:
                        _l1_truncate(w, q, j, u, 1.0)
        else:
            for c in prange(K):
                for kk in range(c * nk // K, (c + 1) * nk // K):
                    j = gklist[kk]
                    _coordinate(rule, j, _reduced(gbuf, K, j), a2, w, state, eta_t, hp,
                                c1, c2, c1n)
                    gmark[j] = 0
                    if a1 > 0.0:
                        _l1_truncate(w, q, j, u, 1.0)
        if fit_intercept:
            _coordinate(rule, n_features, g_int, 0.0, w, state, eta_t, hp, c1, c2, c1n)
        t += 1.0
        b0 += batch_size
    if scale != 1.0:
        for j in range(n_features):
            w[j] *= scale
    return t, u, loss_sum


@_entry
def sync_optimizer_epoch(data, indices, indptr, dense_d, y, sw, order, batch_size,
                         w, state, hp, q, rule, loss, param, alpha, l1_ratio,
                         fit_intercept, lazy, schedule, lr_params,
                         t, u, n_threads, gbuf, mark, klist, gmark, gklist, tstate):
    """``optimizer_epoch`` with each batch's gradient computed by ``n_threads`` threads.

    Scratch: gbuf ``(n_threads, n_features + 1 + PAD)`` zeros, mark ``(n_threads,
    n_features)`` uint8 zeros, klist ``(n_threads, n_features)`` int64, gmark
    ``(n_features,)`` uint8 zeros, gklist ``(n_features,)`` int64, tstate
    ``(n_threads, PAD)``. Deterministic: pieces and reduction order are fixed.
    """
    n_features = w.shape[0] - 1
    K = max(n_threads, 1)
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    sparse = dense_d == 0
    track = sparse and lazy and rule != RULE_SGD
    _need("gbuf", gbuf, K, n_features + 1)
    _need("tstate", tstate, K, 3)
    if track:
        _need("mark", mark, K, n_features)
        _need("klist", klist, K, n_features)
        _need("gmark", gmark, n_features)
        _need("gklist", gklist, n_features)
    with cython.nogil:
        team = _set_team(K)
        r = _sync_optimizer_epoch(data, indices, indptr, dense_d, y, sw, order,
                                  batch_size, w, state, hp, q, rule, loss, param, alpha,
                                  l1_ratio, fit_intercept, lazy, schedule, lr_params,
                                  t, u, n_threads, gbuf, mark,
                                  klist, gmark, gklist, tstate)
        _set_team(team)
    return r

"""Multi-threaded kernels for solver='sgd' (``n_jobs > 1``; SPEC section 5).

Imported only when a fit asks for ``n_jobs > 1`` (``import fastgd`` stays light), and
its ``parallel=True`` kernels compile on their first call (``cache=True`` afterwards).
Every kernel reads the thread count ``n_threads`` from its int record ``ip`` and splits its work
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
  * Replicas (plain SGD, ``hogwild_plain_epoch``): columns that every thread writes
    at almost every step bounce their cache lines between the cores (on Intel's mesh
    two threads sharing covtype's 54 columns ran at 0.6x one thread). When copying
    and merging every column is cheap against a round's work (dense X, CSR with few
    columns: ``fastgd._engine.hogwild_replicas``), each thread works on its own
    replica of w (and of L1's ``q``), copied from the shared values at the round's
    start. At the round's end a column that m threads moved takes the mean of their
    deltas and the m-th root of the round's L2 shrink (DimmWitted's PerCore model
    averaging, Zhang & Re, VLDB 2014, over the threads that touched the column): a
    column one thread touched gets that thread's whole step, as lock-free Hogwild!
    would give it; on a column all K threads touched, step and shrink are both divided
    by K, so the fixed point stays F's minimiser. (Measured on a9a, w8a, ijcnn1 and
    covtype: the sum of the deltas, as for the intercept, overshoots early, F 4x its
    optimum on a9a after 4 epochs; the mean of the deltas under the full shrink stalls
    at 1e-2 relative suboptimality: it minimises F with 2 alpha.) No thread then writes
    shared memory in a round, and the epoch is deterministic. Other CSR shares every
    column: replicas of only the most frequent columns (a power-law head) cost a
    membership test per non-zero, which lost more than the cache lines it saved
    (synth-1e7 0.95x -> 0.73x, debian-size 0.97x -> 0.54x on an AMD EPYC; 0.70x ->
    0.62x and 0.82x -> 0.51x on an Intel Xeon), and all of them with rounds long
    enough to pay for the merge broke up on the L2 shrink rule below.
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
    from math import pow

    from fastgd._rules import (FP_ALPHA, FP_CLIP_NORM, FP_CLIP_VALUE, FP_L1_RATIO,
                               FP_PARAM, FP_T, FP_U, HP_MOMENTUM, IP_BATCH_SIZE,
                               IP_DENSE_D, IP_FIT_INTERCEPT, IP_LAZY, IP_LOSS,
                               IP_N_THREADS, IP_NOISE_SEED, IP_PENALTY, IP_RULE,
                               IP_SCHEDULE, PENALTY_ELASTICNET, PENALTY_L1, RULE_ADAGRAD,
                               RULE_ADAMW, RULE_NAG, RULE_SGD)
    from fastgd.kernels._nb_common import (PAD, ROUND_STEPS, SHRINK_KEEP,  # noqa: F401
                                           SYNC_MIN_BATCH, _ROUND_STEPS, _WSCALE_MIN,
                                           _batch_gradient, _busy, _coord_index,
                                           _coordinate, _corrections, _gradient_pass,
                                           _logistic_hessian_rows, _movers, _noise_key,
                                           _noise_sd, _norm_factor, _opt_run, _plain_run,
                                           _reduced, _rescale, _set_team, _shrunk,
                                           _step_size, _to_index, _tooled, _tooled_one,
                                           _tools_on, _update, njit)
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

# the per-thread scratch ``tstate``: thread k's position and end in the epoch
_PLAIN_POS = 9  # tstate[k, :9] are its plain-SGD scalars (_plain_run's st)
_PLAIN_HI = 10
_OPT_POS = 3  # tstate[k, 0, :3] = [u, scale, loss_sum]; tstate[k, 0, _OPT_B] its
_OPT_HI = 4  # intercept and tstate[k, 1 + s, 0] the intercept's rule state s
_OPT_B = 5


def _need(name, arr, *shape):
    """A clear error instead of an out-of-bounds write (the Cython entries check)."""
    if arr.ndim < len(shape) or any(arr.shape[i] < m for i, m in enumerate(shape)):
        raise ValueError(f"{name} has shape {tuple(arr.shape)}; needs at least {shape}")


# --------------------------------------------------------- Hogwild!: plain SGD
@_pjit
def _hogwild_plain_epoch(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp,
                         tstate, rep):
    """See hogwild_plain_epoch (the Cython build: the nogil body of that entry)."""
    n = order.shape[0]
    K = min(ip[IP_N_THREADS], max(n, 1))
    multi = K > 1
    d = w.shape[0]
    whole = multi and rep.shape[0] > 0  # every column in per-thread replicas
    t = fp[FP_T]
    for k in range(K):
        tstate[k, _PLAIN_POS] = k * n // K
        tstate[k, _PLAIN_HI] = (k + 1) * n // K
    # per-thread scalars; u of thread k starts at the clock of its first sample
    penalty = ip[IP_PENALTY]
    has_l1 = penalty == PENALTY_L1 or penalty == PENALTY_ELASTICNET
    l1_ratio = fp[FP_L1_RATIO]
    alpha = fp[FP_ALPHA]
    u = st[3]
    for k in range(K):
        for s in range(8):
            tstate[k, s] = st[s]
        tstate[k, 8] = 0.0
        if k > 0 and has_l1:
            for ii in range((k - 1) * n // K, k * n // K):
                u += l1_ratio * _step_size(ip[IP_SCHEDULE], fp, t + ii) * alpha
            tstate[k, 3] = u
    S = st[0]
    while _busy(tstate, K, _PLAIN_POS, _PLAIN_HI):
        b_shared = st[6]
        for k in range(K):
            tstate[k, 0] = S
            tstate[k, 6] = b_shared
        for k in prange(K):
            if whole:  # every thread, so that an idle one adds nothing
                for j in range(d):
                    rep[k, 0, j] = w[j]
                    rep[k, 1, j] = q[j]
            pos = _to_index(tstate[k, _PLAIN_POS])
            hi = _to_index(tstate[k, _PLAIN_HI])
            if pos < hi:
                stop = min(hi, pos + _ROUND_STEPS) if multi else hi
                if whole:
                    tstate[k, _PLAIN_POS] = _plain_run(
                        data, indices, indptr, y, sw, order, pos, stop, rep[k, 0], aw,
                        rep[k, 1], ip, fp, multi, S, tstate[k])
                else:
                    tstate[k, _PLAIN_POS] = _plain_run(
                        data, indices, indptr, y, sw, order, pos, stop, w, aw, q, ip, fp,
                        multi, S, tstate[k])
        if multi:
            s_new = S
            b_new = b_shared
            for k in range(K):
                s_new *= tstate[k, 0] / S
                b_new += tstate[k, 6] - b_shared
            # a column m threads moved takes the mean of their deltas and the m-th root
            # of the round's shrink s_new / S (which the shared scale applies in full)
            undo_all = pow(s_new / S, 1.0 / K - 1.0)
            for j in range(d if whole else 0):
                wj = w[j]
                dw, mw = _movers(rep, 0, j, K, wj)
                dq, mq = _movers(rep, 1, j, K, q[j])
                if mw == K:
                    w[j] = wj * undo_all + dw / K
                elif mw > 1:
                    w[j] = wj * pow(s_new / S, 1.0 / mw - 1.0) + dw / mw
                else:
                    w[j] = wj + dw
                if mq > 0:
                    q[j] += dq / mq
            if s_new < _WSCALE_MIN:
                for j in range(d):
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
    st[8] = obj
    fp[FP_T] = t + n
    return obj


@_entry
def hogwild_plain_epoch(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp,
                        tstate, rep):
    """Hogwild! version of ``plain_sgd_epoch`` (same arguments, same ``st``, same
    return) with ``ip``'s n_threads threads.

    ``tstate`` is per-thread scratch, float64 ``(n_threads, >= 11 + PAD)``. With more
    than one thread ``average`` must be 0 (the engine checks it). See the module
    docstring for the per-thread scale, the intercept merge and the replicas: ``rep``
    float64 ``(n_threads, 2, d)``, each thread's replicas of w and q, or an empty
    ``(0, 2, 0)`` array for every column shared.
    """
    if ip[IP_N_THREADS] < 1:
        raise ValueError(f"n_threads must be >= 1; got {ip[IP_N_THREADS]}")
    K = min(ip[IP_N_THREADS], max(order.shape[0], 1))
    _need("tstate", tstate, K, _PLAIN_HI + 1)
    if rep.shape[0] > 0:
        _need("rep", rep, K, 2, w.shape[0])
    with cython.nogil:
        team = _set_team(K)
        r = _hogwild_plain_epoch(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp,
                                 tstate, rep)
        _set_team(team)
    return r


# ------------------------------------------------------- Hogwild!: every rule
@_pjit
def _hogwild_optimizer_epoch(data, indices, indptr, y, sw, order, w, state, q, ip, fp,
                             gbuf, mark, klist, tstate):
    """See hogwild_optimizer_epoch (the Cython build: the nogil body of that entry)."""
    n_features = w.shape[0] - 1
    n = order.shape[0]
    n_slots = state.shape[0]
    rule = ip[IP_RULE]
    batch_size = ip[IP_BATCH_SIZE]
    n_batches = (n + batch_size - 1) // batch_size
    K = min(ip[IP_N_THREADS], max(n_batches, 1))
    multi = K > 1
    t = fp[FP_T]
    a1 = fp[FP_ALPHA] * fp[FP_L1_RATIO]
    scaled = ip[IP_DENSE_D] == 0 and rule == RULE_SGD
    ts = tstate[:, 0, :]
    for k in range(K):
        ts[k, _OPT_POS] = k * n_batches // K
        ts[k, _OPT_HI] = (k + 1) * n_batches // K
    uk = fp[FP_U]
    for k in range(K):
        if k > 0 and a1 > 0.0:
            for bb in range((k - 1) * n_batches // K, k * n_batches // K):
                uk += a1 * _step_size(ip[IP_SCHEDULE], fp, t + bb)
        ts[k, 0] = uk
        ts[k, 2] = 0.0
    S = 1.0
    while _busy(ts, K, _OPT_POS, _OPT_HI):
        for k in range(K):
            ts[k, 1] = S
            ts[k, _OPT_B] = w[n_features]
            for s in range(n_slots):
                tstate[k, 1 + s, 0] = state[s, n_features]
        for k in prange(K):
            pos = _to_index(ts[k, _OPT_POS])
            hi = _to_index(ts[k, _OPT_HI])
            if pos < hi:
                stop = min(hi, pos + _ROUND_STEPS) if multi else hi
                reached, u_k, s_k, l_k = _opt_run(
                    data, indices, indptr, y, sw, order, pos, stop, w, state, q, ip, fp,
                    multi, S, ts[k, 0], ts[k, 1], ts[k, 2], tstate[k, 0, _OPT_B:],
                    tstate[k, 1:, :], gbuf[k], mark[k], klist[k])
                ts[k, _OPT_POS] = reached
                ts[k, 0] = u_k
                ts[k, 1] = s_k
                ts[k, 2] = l_k
        if multi:
            s_new = S
            b0 = w[n_features]
            b_new = b0
            for k in range(K):
                s_new *= ts[k, 1] / S
                b_new += ts[k, _OPT_B] - b0
            w[n_features] = b_new
            for s in range(n_slots):
                s0 = state[s, n_features]
                acc = 0.0
                for k in range(K):
                    acc += tstate[k, 1 + s, 0] - s0
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
            S = ts[0, 1]
            w[n_features] = ts[0, _OPT_B]
            for s in range(n_slots):
                state[s, n_features] = tstate[0, 1 + s, 0]
    if S != 1.0:
        for j in range(n_features):
            w[j] *= S
    loss_sum = ts[0, 2]
    for k in range(1, K):
        loss_sum += ts[k, 2]
    fp[FP_T] = t + n_batches
    fp[FP_U] = ts[K - 1, 0]
    return loss_sum


@_entry
def hogwild_optimizer_epoch(data, indices, indptr, y, sw, order, w, state, q, ip, fp,
                            gbuf, mark, klist, tstate):
    """Hogwild! version of ``optimizer_epoch``: same arguments and return with ``ip``'s
    n_threads threads, and per-thread scratch (one row per thread, allocated once per
    fit): gbuf ``(n_threads, n_features + 1 + PAD)`` zeros, mark ``(n_threads,
    n_features)`` uint8 zeros, klist ``(n_threads, n_features)`` int64, tstate
    ``(n_threads, 1 + n_slots, PAD)`` float64.
    """
    n_features = w.shape[0] - 1
    batch_size = ip[IP_BATCH_SIZE]
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    if ip[IP_N_THREADS] < 1:
        raise ValueError(f"n_threads must be >= 1; got {ip[IP_N_THREADS]}")
    n_batches = (order.shape[0] + batch_size - 1) // batch_size
    K = min(ip[IP_N_THREADS], max(n_batches, 1))
    _need("gbuf", gbuf, K, n_features + 1)
    if ip[IP_DENSE_D] == 0:
        _need("mark", mark, K, n_features)
        _need("klist", klist, K, n_features)
    _need("tstate", tstate, K, 1 + state.shape[0], _OPT_B + 1)
    with cython.nogil:
        team = _set_team(K)
        r = _hogwild_optimizer_epoch(data, indices, indptr, y, sw, order, w, state, q, ip,
                                     fp, gbuf, mark, klist, tstate)
        _set_team(team)
    return r


# ----------------------------------------- synchronous data parallelism (big batches)
@_pjit
def _sync_optimizer_epoch(data, indices, indptr, y, sw, order, w, state, q, ip, fp, gbuf,
                          mark, klist, tstate):
    """See sync_optimizer_epoch (the Cython build: the nogil body of that entry)."""
    n_features = w.shape[0] - 1
    n = order.shape[0]
    K = max(ip[IP_N_THREADS], 1)
    dense_d = ip[IP_DENSE_D]
    rule = ip[IP_RULE]
    loss = ip[IP_LOSS]
    batch_size = ip[IP_BATCH_SIZE]
    param = fp[FP_PARAM]
    a2 = fp[FP_ALPHA] * (1.0 - fp[FP_L1_RATIO])
    a1 = fp[FP_ALPHA] * fp[FP_L1_RATIO]
    t = fp[FP_T]
    u = fp[FP_U]
    gamma = fp[HP_MOMENTUM]
    sparse = dense_d == 0
    tools = _tools_on(fp)
    clip_value = fp[FP_CLIP_VALUE]
    seed = ip[IP_NOISE_SEED]
    scaled = sparse and rule == RULE_SGD and not tools
    all_coords = (not sparse) or (ip[IP_LAZY] == 0 and not scaled)
    use_list = not all_coords
    nag = rule == RULE_NAG
    a2_rule = a2
    if tools and rule != RULE_ADAMW:
        a2_rule = 0.0  # _tooled puts the L2 term into g
    scale = 1.0
    loss_sum = 0.0
    sd = 0.0
    key = 0
    f = 1.0
    if batch_size < 1:  # the Cython entry raises; here no step is taken
        return loss_sum
    b0 = 0
    while b0 < n:  # range(0, n, batch_size), with a C loop under Cython
        b_end = min(b0 + batch_size, n)
        nb = b_end - b0
        eta_t = _step_size(ip[IP_SCHEDULE], fp, t)
        b_int = w[n_features]
        if nag:
            b_int -= gamma * state[0, n_features]
        for k in range(K):
            tstate[k, 0] = loss_sum if k == 0 else 0.0
        for k in prange(K):
            lk, gk, nk_k = _batch_gradient(
                data, indices, indptr, dense_d, y, sw, order, b0 + k * nb // K,
                b0 + (k + 1) * nb // K, nb, w, state, nag, gamma, scale, b_int, loss,
                param, all_coords, use_list, gbuf[k], mark[k], klist[k], tstate[k, 0])
            tstate[k, 0] = lk
            tstate[k, 1] = gk
            tstate[k, 2] = nk_k
        loss_sum = tstate[0, 0]
        g_int = tstate[0, 1]
        for k in range(1, K):
            loss_sum += tstate[k, 0]
            g_int += tstate[k, 1]
        # the batch's support: union of the threads' lists, in thread order (row K)
        nk = 0
        if use_list:
            for k in range(K):
                for kk in range(_to_index(tstate[k, 2])):
                    j = klist[k, kk]
                    mark[k, j] = 0
                    if mark[K, j] == 0:
                        mark[K, j] = 1
                        klist[K, nk] = j
                        nk += 1
        count = nk if use_list else n_features
        c1, c2, c1n = _corrections(rule, fp, t)
        u += a1 * eta_t
        if scaled:
            scale = _shrunk(scale, eta_t, a2, w, n_features, 1.0)
        # reduce the threads' rows into row 0 and step, the coordinates split in K
        if tools:  # gradient, noise, clipping (its norm: a second pass), then the rule
            sd = _noise_sd(fp, t)
            key = _noise_key(seed, t)
        for c in prange(K):
            lo = c * count // K
            hi = (c + 1) * count // K
            for kk in range(lo, hi):
                j = _coord_index(klist[K], use_list, kk)
                gbuf[0, j] = _reduced(gbuf, K, j)
            if tools:
                tstate[c, 0] = _tooled(rule, lo, hi, use_list, klist[K], gbuf[0], w, state,
                                       fp, a2, sd, key, clip_value)
            else:
                _update(rule, lo, hi, use_list, scaled, klist[K], gbuf[0], mark[K], w,
                        state, q, fp, a1, a2, u, eta_t, c1, c2, c1n, scale)
        if tools:
            sq = 0.0
            for c in range(K):
                sq += tstate[c, 0]
            if ip[IP_FIT_INTERCEPT] != 0:
                g_int = _tooled_one(g_int, sd, key, n_features, clip_value)
                sq += g_int * g_int
            f = _norm_factor(sq, fp[FP_CLIP_NORM])
            g_int *= f
            for c in prange(K):
                lo = c * count // K
                hi = (c + 1) * count // K
                if f < 1.0:
                    _rescale(lo, hi, use_list, klist[K], gbuf[0], f)
                _update(rule, lo, hi, use_list, scaled, klist[K], gbuf[0], mark[K], w,
                        state, q, fp, a1, a2_rule, u, eta_t, c1, c2, c1n, scale)
        if scaled and abs(scale) < _WSCALE_MIN:
            for j in range(n_features):
                w[j] *= scale
            scale = 1.0
        if ip[IP_FIT_INTERCEPT] != 0:
            _coordinate(rule, n_features, g_int, 0.0, w, state, eta_t, fp, c1, c2, c1n)
        t += 1.0
        b0 += batch_size
    if scale != 1.0:
        for j in range(n_features):
            w[j] *= scale
    fp[FP_T] = t
    fp[FP_U] = u
    return loss_sum


@_entry
def sync_optimizer_epoch(data, indices, indptr, y, sw, order, w, state, q, ip, fp, gbuf,
                         mark, klist, tstate):
    """``optimizer_epoch`` with each batch's gradient computed by ``ip``'s n_threads
    threads (same arguments and return).

    Scratch: gbuf ``(n_threads, n_features + 1 + PAD)`` zeros, mark ``(n_threads + 1,
    n_features)`` uint8 zeros, klist ``(n_threads + 1, n_features)`` int64 (row
    n_threads: the batch's support), tstate ``(n_threads, PAD)``. Deterministic: pieces
    and reduction order are fixed.
    """
    n_features = w.shape[0] - 1
    K = max(ip[IP_N_THREADS], 1)
    if ip[IP_BATCH_SIZE] < 1:
        raise ValueError("batch_size must be >= 1")
    _need("gbuf", gbuf, K, n_features + 1)
    _need("tstate", tstate, K, 3)
    if ip[IP_DENSE_D] == 0 and (ip[IP_LAZY] != 0 or ip[IP_RULE] == RULE_SGD):
        _need("mark", mark, K + 1, n_features)
        _need("klist", klist, K + 1, n_features)
    with cython.nogil:
        team = _set_team(K)
        r = _sync_optimizer_epoch(data, indices, indptr, y, sw, order, w, state, q, ip, fp,
                                  gbuf, mark, klist, tstate)
        _set_team(team)
    return r


# ---------------------------------------------- the full gradient (solver='lbfgs')
@_pjit
def _sync_loss_gradient(data, indices, indptr, y, sw, order, w, ip, fp, gbuf, tstate):
    """See sync_loss_gradient (the Cython build: the nogil body of that entry)."""
    K = max(ip[IP_N_THREADS], 1)
    n = order.shape[0]
    d1 = w.shape[0]
    for k in prange(K):
        for j in range(d1):
            gbuf[k, j] = 0.0
        tstate[k, 0] = _gradient_pass(data, indices, indptr, y, sw, order, k * n // K,
                                      (k + 1) * n // K, w, ip, fp, gbuf[k])
    loss_sum = tstate[0, 0]
    for k in range(1, K):
        loss_sum += tstate[k, 0]
    for c in prange(K):  # the threads' sums into row 0, in thread order
        for j in range(c * d1 // K, (c + 1) * d1 // K):
            gbuf[0, j] = _reduced(gbuf, K, j)
    return loss_sum


@_entry
def sync_loss_gradient(data, indices, indptr, y, sw, order, w, ip, fp, gbuf, tstate):
    """``loss_gradient`` with the rows split between ``ip``'s n_threads threads: the
    gradient sums in gbuf[0] (gbuf ``(n_threads, n_features + 1 + PAD)``, tstate
    ``(n_threads, PAD)``). Deterministic: pieces and reduction order are fixed."""
    K = max(ip[IP_N_THREADS], 1)
    _need("gbuf", gbuf, K, w.shape[0])
    _need("tstate", tstate, K, 1)
    with cython.nogil:
        team = _set_team(K)
        r = _sync_loss_gradient(data, indices, indptr, y, sw, order, w, ip, fp, gbuf,
                                tstate)
        _set_team(team)
    return r


# ------------------------------------------- Newton's Hessian (solver='newton-cholesky')
@_pjit
def _sync_logistic_hessian_sum(data, indices, indptr, dense_d, order, sw, w, H):
    """See sync_logistic_hessian_sum (the Cython build: the nogil body of that entry)."""
    K = H.shape[0]
    n = order.shape[0]
    d1 = H.shape[1]
    for k in prange(K):
        _logistic_hessian_rows(data, indices, indptr, dense_d, order, k * n // K,
                               (k + 1) * n // K, sw, w, H[k])
    for c in prange(K):  # the threads' sums into H[0], in thread order
        for a in range(c * d1 // K, (c + 1) * d1 // K):
            for k in range(1, K):
                for b in range(d1):
                    H[0, a, b] += H[k, a, b]


@_entry
def sync_logistic_hessian_sum(data, indices, indptr, dense_d, order, sw, w, H):
    """``logistic_hessian_sum`` with the rows split between H.shape[0] threads, each
    summing into its own H[k] (zeros on entry; ``(n_threads, d + 1, d + 1)``); the sum
    ends in H[0], reduced in thread order (deterministic for a thread count)."""
    with cython.nogil:
        team = _set_team(H.shape[0])
        _sync_logistic_hessian_sum(data, indices, indptr, dense_d, order, sw, w, H)
        _set_team(team)

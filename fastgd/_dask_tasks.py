"""The tasks of ``fastgd.dask``: pure functions of (block, model snapshot, seed).

Each runs on a Dask worker and returns plain NumPy values tagged with the ``tag`` it was
given (round, block, version), so that the client can drop a duplicate. Nothing here
keeps state between calls: a task lost with its worker is simply recomputed.

A block is ``(Xb, yb, sb, holdout)``: its rows, labels, sample weights (None: all 1;
a float: all that value; else one per row) and, with early stopping, ``(fraction,
seed, block)`` naming its held-out validation rows (``holdout_rows``); the
fitting tasks see the other rows only (``training_part``).
"""

import numpy as np
import scipy.sparse as sp

from fastgd._rules import LOSSES, Loss

DLOSS_CLIP = 1e12  # SPEC section 1: dL/dp is clipped to +-1e12, as scikit-learn does


def value(x):
    """``x`` itself: a round's shared input (the model) as a task of its own, which the
    block tasks depend on (``Context.shared``)."""
    return x


def blockwise(fn, calls):
    """[fn(*args) for args in calls]: the blocks of one worker in one task
    (``Context.map_blocks``)."""
    return [fn(*args) for args in calls]


def task_seed(random_state, round_, block):
    """The integer seed of block ``block`` in round ``round_``: SeedSequence of
    (random_state, round, block), so that it does not depend on which worker runs it."""
    base = 0 if random_state is None else int(random_state)
    seq = np.random.SeedSequence([base, int(round_), int(block)])
    return int(seq.generate_state(1, np.uint32)[0] & 0x7FFFFFFF)


def holdout_rows(n, holdout):
    """The sorted validation rows of a block of ``n`` rows: ceil(fraction * n) of them
    (as scikit-learn's ``train_test_split``), drawn by the generator of SeedSequence
    (seed, block, 1), so that the split depends on neither the worker nor the round.
    None: no rows."""
    if holdout is None:
        return np.empty(0, dtype=np.int64)
    fraction, seed, block = holdout
    m = int(np.ceil(float(fraction) * n))
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(block), 1]))
    return np.sort(rng.choice(n, size=m, replace=False))


def weights_of(sb, n):
    """The block's sample weights as a float64 array of ``n`` (see the module doc)."""
    if sb is None:
        return np.ones(n)
    if np.ndim(sb) == 0:
        return np.full(n, float(sb))
    return np.asarray(sb, dtype=np.float64)


def _part(Xb, yb, sb, rows):
    Xb = Xb.tocsr() if sp.issparse(Xb) else np.asarray(Xb)
    return Xb[rows], np.asarray(yb)[rows], weights_of(sb, Xb.shape[0])[rows]


def training_part(Xb, yb, sb, holdout):
    """(X, y, sample weights) of the block's rows that are not held out."""
    n = Xb.shape[0]
    if holdout is None:
        return Xb, np.asarray(yb), weights_of(sb, n)
    return _part(Xb, yb, sb, np.setdiff1d(np.arange(n), holdout_rows(n, holdout)))


def describe(Xb, yb, sb, holdout, classify):
    """What the client checks before a fit: shape, finiteness, labels and their counts,
    sample weights, held-out rows, column support."""
    n, d = Xb.shape
    values = Xb.data if sp.issparse(Xb) else np.asarray(Xb)
    if sp.issparse(Xb):
        support = np.zeros(d, dtype=bool)
        support[Xb.tocsr().indices] = True
    else:
        support = np.ones(d, dtype=bool)
    yb = np.asarray(yb)
    sw = None if sb is None or np.ndim(sb) == 0 else np.asarray(sb, dtype=np.float64)
    info = {"n_rows": int(n), "n_features": int(d), "n_y": int(yb.shape[0]),
            "sparse": bool(sp.issparse(Xb)), "support": support,
            "finite_X": bool(np.isfinite(values).all()), "finite_y": True, "labels": None,
            "n_sw": n if sw is None else int(sw.shape[0]),
            "finite_sw": sw is None or bool(np.isfinite(sw).all()),
            "negative_sw": sw is not None and bool((sw < 0).any()),
            "n_holdout": int(holdout_rows(n, holdout).shape[0])}
    if classify:
        info["labels"], info["counts"] = np.unique(yb, return_counts=True)
    else:
        info["finite_y"] = bool(np.isfinite(yb.astype(np.float64)).all())
    return info


def dloss(loss, y, p, param):
    """dL/dp of SPEC section 1 for arrays (``y`` is +-1 for classification), clipped."""
    kind = LOSSES[loss].id
    z = y * p
    if kind == Loss.SQUARED_ERROR:
        d = p - y
    elif kind == Loss.LOG_LOSS:
        d = -y * np.exp(-np.logaddexp(0.0, z))  # -y / (1 + exp(y p)), overflow-free
    elif kind == Loss.HINGE:
        d = np.where(z <= param, -y, 0.0)
    elif kind == Loss.SQUARED_HINGE:
        d = np.where(param - z > 0, -2.0 * y * (param - z), 0.0)
    elif kind == Loss.MODIFIED_HUBER:
        d = np.where(z >= 1.0, 0.0, np.where(z >= -1.0, 2.0 * (1.0 - z) * -y, -4.0 * y))
    else:
        r = p - y
        if kind == Loss.HUBER:
            d = np.where(np.abs(r) <= param, r, np.sign(r) * param)
        elif kind == Loss.EPSILON_INSENSITIVE:
            d = np.where(r > param, 1.0, np.where(r < -param, -1.0, 0.0))
        else:  # squared_epsilon_insensitive
            d = np.where(r > param, 2.0 * (r - param),
                         np.where(r < -param, 2.0 * (r + param), 0.0))
    return np.clip(d, -DLOSS_CLIP, DLOSS_CLIP)


def targets(yb, classes, classify):
    """(n, K) targets of the K problems: +-1 one-vs-rest labels, or y itself (K = 1)."""
    if not classify:
        return np.asarray(yb, dtype=np.float64)[:, None]
    yb = np.asarray(yb)
    if len(classes) == 2:
        return np.where(yb == classes[1], 1.0, -1.0)[:, None]
    return np.where(yb[:, None] == np.asarray(classes)[None, :], 1.0, -1.0)


def _loss_sums(kern, Y, P, SW, loss, param):
    """sum_i s_i L(y_i, p_i) per problem, by the compiled loss of SPEC section 1."""
    loss_id = int(LOSSES[loss].id)
    return np.array([kern.weighted_loss_sum(np.ascontiguousarray(Y[:, k]),
                                            np.ascontiguousarray(P[:, k]),
                                            np.ascontiguousarray(SW[:, k]), loss_id, param)
                     for k in range(Y.shape[1])])


def gradient(Xb, yb, sb, holdout, W, spec, seed, fraction, with_grad, tag):
    """Sums over the block's training rows (or a ``fraction`` of them drawn from
    ``seed``) at the model ``W`` (K, d + 1), last column the intercept:

        G[k, :d] = sum_i s_ik dL/dp(y_ik, p_ik) x_i,  G[k, d] = sum_i s_ik dL/dp,
        loss[k]  = sum_i s_ik L(y_ik, p_ik),           p_ik = x_i . W[k, :d] + W[k, d]

    with s_ik the sample weight times the class weight of problem k. Returns a dict with
    ``tag``, ``G``, ``loss`` and ``n`` (rows used).
    """
    from fastgd._backend import kernels

    Xb, yb, sw = training_part(Xb, yb, sb, holdout)
    n = Xb.shape[0]
    if fraction < 1.0:
        m = max(1, int(round(fraction * n)))
        rows = np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))
        Xb, yb, sw = _part(Xb, yb, sw, rows)
    Xb = Xb.tocsr() if sp.issparse(Xb) else np.asarray(Xb)
    Y = targets(yb, spec["classes"], spec["classify"])
    pos, neg = np.asarray(spec["pos_weight"]), np.asarray(spec["neg_weight"])
    SW = np.where(Y > 0, pos[None, :], neg[None, :]) if spec["classify"] else np.ones_like(Y)
    SW = SW * sw[:, None]
    P = np.asarray(Xb @ W[:, :-1].T) + W[:, -1][None, :]
    out = {"tag": tag, "n": int(Y.shape[0]),
           "loss": _loss_sums(kernels(spec["backend"]), Y, P, SW, spec["loss"],
                              spec["param"])}
    if with_grad:
        D = SW * dloss(spec["loss"], Y, P, spec["param"])
        G = np.empty_like(W)
        G[:, :-1] = np.asarray(Xb.T @ D).T
        G[:, -1] = D.sum(axis=0)
        out["G"] = G
    return out


def hessian(Xb, yb, sb, holdout, W, spec, tag):
    """The block's part of binary logistic regression's Hessian at the model ``W``
    (1, d + 1): H = sum_i s_i p_i (1 - p_i) x~_i x~_i^T, x~_i = (x_i, 1),
    p_i = sigma(x~_i . W[0]), s_i the sample weight times the class weight (the
    compiled ``hessian_sum``, as the single-machine newton-cholesky). Returns the tag
    and ``H``."""
    from scipy.special import expit

    from fastgd._engine import Rows
    from fastgd._newton import hessian_block

    Xb, yb, sw = training_part(Xb, yb, sb, holdout)
    if sp.issparse(Xb):
        Xb = Xb.tocsr()
        if not Xb.has_canonical_format:  # the kernel reads each column once per row
            Xb = Xb.copy()
            Xb.sum_duplicates()
    else:
        Xb = np.ascontiguousarray(Xb)
    Y = targets(yb, spec["classes"], spec["classify"])[:, 0]
    s = np.where(Y > 0, spec["pos_weight"][0], spec["neg_weight"][0]) * sw
    p = expit(np.asarray(Xb @ W[0, :-1]).ravel() + W[0, -1])
    rows = Rows.of(Xb, spec["backend"])
    H = np.empty((W.shape[1], W.shape[1]))
    hessian_block(rows, np.arange(Xb.shape[0], dtype=np.int64), s * p * (1.0 - p), H)
    return {"tag": tag, "H": H}


def local_fit(Xb, yb, sb, holdout, spec, W, carry, seed, epochs, tag):
    """``epochs`` epochs of the single-machine estimator on the block's training rows
    and their sample weights, from ``W`` (K, d + 1), carried on from ``carry = (t, S)``:
    the step counter t of SPEC section 2
    and the rule state S (K, n_slots, d + 1; None: fresh, and always for sag/saga/svrg,
    whose gradient memory is the block's own and is not carried) that the block's previous fit
    left, so that a decaying schedule and an adaptive rule go on where they stopped
    (``_fit_from``; the cumulative-L1 memory starts afresh each time). ``max_iter=epochs,
    tol=None``. Returns the tag, the new ``W``, ``t`` and ``S`` (None on the plain SGD
    path, which has no state), and with ``spec['adagrad_weights']`` Adagrad's G (K, d+1).

    A block that lacks some of the fit's classes gets one all-zero row of weight 0 per
    missing class, so that its estimator knows every class (such a row adds no loss
    gradient, only its step's L2 shrink).
    """
    import fastgd

    t, S = carry
    params = dict(spec["single_params"], max_iter=int(epochs), tol=None,
                  random_state=int(seed), warm_start=False, early_stopping=False)
    Xb, yb, sw = training_part(Xb, yb, sb, holdout)
    sw = None if sb is None else sw  # the estimator's own unweighted path
    if spec["classify"]:
        est = fastgd.SGDClassifier(**params)
        missing = np.setdiff1d(spec["classes"], np.unique(yb))
        if missing.size:
            pad = (sp.csr_matrix((missing.size, Xb.shape[1]), dtype=Xb.dtype)
                   if sp.issparse(Xb) else np.zeros((missing.size, Xb.shape[1]), Xb.dtype))
            Xb = sp.vstack([Xb, pad], format="csr") if sp.issparse(Xb) else np.vstack(
                [Xb, pad])
            yb = np.concatenate([yb, missing.astype(yb.dtype)])
            sw = np.concatenate([np.ones(yb.shape[0] - missing.size) if sw is None else sw,
                                 np.zeros(missing.size)])
    else:
        est = fastgd.SGDRegressor(**params)
    coef = W[:, :-1] if spec["classify"] else W[0, :-1]
    intercept = W[:, -1] if spec["classify"] else W[0, -1:]
    d = W.shape[1] - 1
    opt_state = None if S is None else [
        {"state": np.array(S[k], dtype=np.float64), "q": np.zeros(d), "u": 0.0}
        for k in range(S.shape[0])]
    est._fit_from(Xb, yb, coef, intercept, t=t, opt_state=opt_state, max_iter=int(epochs),
                  sample_weight=sw, validated=True,
                  classes=np.asarray(spec["classes"]) if spec["classify"] else None)
    W_new = np.empty_like(W)
    W_new[:, :-1] = est.coef_.reshape(W.shape[0], -1)
    W_new[:, -1] = np.ravel(est.intercept_)
    states = est.optimizer_state_
    # a rule's state (Adagrad's G, Adam's moments) is carried; sag/saga/svrg's memory is
    # per sample of this block (n_b gradients), so those start afresh every round
    S_new = (np.stack([st["state"] for st in states])
             if states[0] is not None and "state" in states[0] else None)
    out = {"tag": tag, "W": W_new, "t": float(est.t_), "S": S_new}
    if spec["adagrad_weights"]:
        out["G"] = S_new[:, 0]
    return out


def validation_sums(Xb, yb, sb, holdout, W, spec, tag):
    """What the client needs for the score of the model ``W`` on the block's held-out
    rows (s their sample weights): classification, ``correct[k]`` = sum of s over the rows
    that binary problem k (one-vs-rest, or the binary problem itself) predicts right and
    ``weight`` = sum of s (its accuracy = correct[k] / weight, the score scikit-learn's
    early stopping reads for each binary problem); regression,
    ``weight``, the weighted mean of y and sum s (y - mean)^2 (``m2``, combined over the
    blocks by Chan's formula) and ``sse`` = sum s (y - p)^2 (R^2 = 1 - sse / m2)."""
    n = Xb.shape[0]
    Xv, yv, sv = _part(Xb, yb, sb, holdout_rows(n, holdout))
    P = np.asarray(Xv @ W[:, :-1].T) + W[:, -1][None, :]
    weight = float(sv.sum())
    out = {"tag": tag, "weight": weight}
    if spec["classify"]:
        right = (P > 0) == (targets(yv, spec["classes"], True) > 0)
        out["correct"] = sv @ right
        return out
    yv = yv.astype(np.float64)
    mean = float(sv @ yv) / weight if weight > 0 else 0.0
    out["mean"] = mean
    out["m2"] = float(sv @ (yv - mean) ** 2)
    out["sse"] = float(sv @ (yv - P[:, 0]) ** 2)
    return out

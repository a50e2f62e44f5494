"""The strategies of ``fastgd.dask``: drivers that live on the client.

The model, the server-side optimizer state and the clocks are client-side NumPy arrays;
every task is a pure function of (block, model snapshot, seed) from ``_dask_tasks``.
Results are tagged (round, block, version) and a tag is applied once, so a task
recomputed after a worker died is never counted twice. Synchronous strategies reduce in
block order, never in completion order: their result does not depend on the number of
workers, nor on a worker dying.

The model of K problems (one-vs-rest classes, or 1) is ``W`` (K, d + 1), last column the
intercept.
"""

import functools
import json
import os
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from fastgd import _dask_tasks as tasks
from fastgd._engine import check_objective
from fastgd._rules import Penalty, Rule, Schedule

CHECKPOINT_FORMAT = 1
SHARE_BYTES = 4 << 20  # a round's model goes inline in its tasks up to this many bytes
# parameters a resumed fit may change (any other change makes it another fit)
RESUMABLE = {"max_iter", "checkpoint", "checkpoint_every", "client", "verbose", "n_jobs",
             "warm_start"}


@dataclass
class Context:
    """What every strategy reads: the client, the persisted blocks and the fit's spec."""

    client: object
    X: list  # futures of the X blocks, in block order
    y: list
    sw: list  # per block: None, a float or the future of its sample weights
    holdout: list  # per block: None, or (validation_fraction, seed, block)
    n_rows: np.ndarray  # training rows per block (the held-out ones excluded)
    spec: dict  # what the tasks read (see fastgd.dask._spec)
    cfg: object  # the single-machine _engine.Config (rule, loss, penalty, schedule)
    params: object  # the estimator (its dask parameters)
    token: str
    support: np.ndarray  # columns with a stored entry in some block (CSR), or all
    seed: int  # the fit's integer seed (``fastgd.dask.fit_seed`` of random_state)
    _groups: list = field(default=None, init=False, repr=False)

    @property
    def n_blocks(self):
        return len(self.X)

    def submit(self, fn, b, *args, name, version=0):
        """fn(X[b], y[b], sw[b], holdout[b], *args, tag) as a task keyed by (fit, name,
        block, version)."""
        tag = (name, int(b), int(version))
        key = f"fastgd-{self.token}-{name}-b{b}-v{version}"
        return self.client.submit(fn, self.X[b], self.y[b], self.sw[b], self.holdout[b],
                                  *args, tag, key=key, pure=False)

    def map_blocks(self, fn, args_of, *, name):
        """[fn(X[b], y[b], sw[b], holdout[b], *args_of(b), tag) for every block b], in
        block order. The blocks of one worker run one after another in one task
        (``tasks.blockwise``), so a round pays Dask's cost per task once per worker, not
        once per block: on a LocalCluster of 2 processes a round of 8 empty tasks took
        ~50 ms, one of 2 ~20 ms. Each block's call and tag are those of a task of its
        own, so the results do not depend on the grouping."""
        futs = []
        for worker, group in self.groups():
            calls = [(self.X[b], self.y[b], self.sw[b], self.holdout[b], *args_of(b),
                      (name, int(b), 0)) for b in group]
            key = f"fastgd-{self.token}-{name}-" + "-".join(f"b{b}" for b in group)
            where = {} if worker is None else dict(workers=[worker],
                                                   allow_other_workers=True)
            futs.append(self.client.submit(tasks.blockwise, fn, calls, key=key,
                                           pure=False, **where))
        results = [res for part in self.client.gather(futs) for res in part]
        results.sort(key=lambda res: res["tag"][1])
        _check_tags(results)
        return results

    def groups(self):
        """[(worker, blocks)]: the blocks split into one group per worker, at most
        ceil(n_blocks / n_workers) each, a block in its holder's group while that has
        room, else in the emptiest; the task of a group prefers its worker (Dask runs it
        elsewhere if that worker is gone, and moves the rows it needs). A block whose
        holder is unknown is a group of its own (worker None). Found once per fit."""
        if self._groups is None:
            who = self.client.who_has(self.X)
            workers = sorted(self.client.scheduler_info().get("workers", ())) or [None]
            most = -(-self.n_blocks // len(workers))
            by_worker = {w: [] for w in workers}
            homeless, overflow = [], []
            for b, fut in enumerate(self.X):
                holders = [w for w in sorted(who.get(fut.key, ())) if w in by_worker]
                if not holders:
                    homeless.append(b)
                    continue
                home = min(holders, key=lambda w: len(by_worker[w]))
                (by_worker[home] if len(by_worker[home]) < most else overflow).append(b)
            for b in overflow:
                min(by_worker.values(), key=len).append(b)
            groups = [(w, sorted(bs)) for w, bs in by_worker.items() if bs]
            groups += [(None, [b]) for b in homeless]
            self._groups = sorted(groups, key=lambda g: g[1][0])
        return self._groups

    def shared(self, value, name):
        """``value``, an array that every task of a round reads (the model): inline in
        each task while that copies at most SHARE_BYTES in all, else the future of a
        task of its own, which travels client -> scheduler -> worker once and on worker
        to worker (a task costs ~10 ms of a round on a 2-core LocalCluster; 318k
        features in 8 tasks: 20 MB inline). Dask recomputes it from its spec if its
        worker dies. None stays None."""
        if value is None:
            return None
        if value.nbytes * len(self.groups()) <= SHARE_BYTES:
            return value.copy()  # the round's snapshot, whatever the client does next
        return self.client.submit(tasks.value, value, key=f"fastgd-{self.token}-{name}",
                                  pure=False)

    def objective(self, W, name):
        """F(w, b) of SPEC section 1 per problem, by one map-reduce pass."""
        shared = self.shared(W, f"{name}-W")
        parts = self.map_blocks(tasks.gradient,
                                lambda b: (shared, self.spec, 0, 1.0, False), name=name)
        loss = sum(r["loss"] for r in parts)  # block order
        return loss / self.n_rows.sum() + penalty(self.cfg, W)

    def validation_score(self, W, name):
        """The score on the held-out rows, weighted by their sample weights, as
        scikit-learn's early stopping computes it: each binary problem's accuracy (K,),
        or R^2."""
        shared = self.shared(W, f"{name}-W")
        parts = self.map_blocks(tasks.validation_sums, lambda b: (shared, self.spec),
                                name=name)
        weight = sum(r["weight"] for r in parts)  # block order
        if weight <= 0:
            raise ValueError("The held-out rows have zero total sample weight: no "
                             "validation score; raise validation_fraction.")
        if self.spec["classify"]:  # per binary problem
            return sum(r["correct"] for r in parts) / weight
        mean = sum(r["weight"] * r["mean"] for r in parts) / weight
        m2 = sum(r["m2"] + r["weight"] * (r["mean"] - mean) ** 2 for r in parts)  # Chan
        sse = sum(r["sse"] for r in parts)
        return 1.0 - sse / m2 if m2 > 0 else (1.0 if sse == 0 else 0.0)


def _check_tags(results):
    """Each tag is taken once."""
    tags = [r["tag"] for r in results]
    if len(set(tags)) != len(tags):
        raise RuntimeError(f"duplicate task results {tags}")


def penalty(cfg, W):
    """alpha R(w) of SPEC section 1, per problem (the intercept is not penalised)."""
    if cfg.penalty == Penalty.NONE:
        return np.zeros(W.shape[0])
    w = W[:, :-1]
    return cfg.alpha * ((1 - cfg.l1_ratio) * 0.5 * np.einsum("kj,kj->k", w, w)
                        + cfg.l1_ratio * np.abs(w).sum(axis=1))


def weighted_mean(Ws, n_rows):
    """sum_b (n_b / n) W_b, summed in block order (Zinkevich et al. 2010); one block's
    weight is exactly 1, so that a single block gives its own fit bit for bit."""
    total = np.zeros_like(Ws[0])
    for W, n in zip(Ws, n_rows):
        total += (n / float(np.sum(n_rows))) * W
    return total


def adagrad_weighted_mean(Ws, Gs, n_rows):
    """Vowpal Wabbit's average of adaptive models, per coordinate weighted by each
    block's Adagrad sum of squared gradients: w_j = sum_b (G_bj / sum_c G_cj) w_bj
    (rows-weighted where no block has any G_j). One block gives its own fit exactly."""
    total = np.zeros_like(Gs[0])
    for G in Gs:  # block order
        total += G
    seen = total > 0
    safe = np.where(seen, total, 1.0)
    out = np.zeros_like(Ws[0])
    for W, G in zip(Ws, Gs):
        out += (G / safe) * W
    return np.where(seen, out, weighted_mean(Ws, n_rows))


# ------------------------------------------------------------------ carried state
def new_carry(n_blocks, per_block):
    """What the local fits carry from one to the next, kept on the client: each block's
    step counter ``t`` (from 1) and the rule state ``S`` (None on the plain SGD path and
    until a fit returns one; with ``per_block``, one per block, (n_blocks, K, n_slots,
    d + 1), else the average over the blocks)."""
    return {"t": np.ones(n_blocks), "S": None, "per_block": per_block}


def carry_of(state, b):
    """The (t, S) that block b's next local fit starts from."""
    S = state["S"]
    return state["t"][b], (S[b] if S is not None and state["per_block"] else S)


def carried(state, b, res):
    """Keep block b's counter and rule state from its local fit's result ``res``; a block
    that has none yet holds the zero state, which is the fresh one."""
    state["t"][b] = res["t"]
    if res["S"] is not None:
        if state["S"] is None:
            state["S"] = np.zeros((state["t"].shape[0],) + res["S"].shape)
        state["S"][b] = res["S"]


# ------------------------------------------------------------------ stopping rule
def new_stopper(K, cfg):
    return {"best": np.full(K, np.inf), "no_improve": np.zeros(K, np.int64),
            "eta": np.full(K, cfg.eta0), "active": np.ones(K, bool)}


def stop_check(state, objective, cfg, tol, n_iter_no_change):
    """scikit-learn's rule per problem (objective > best - tol for n_iter_no_change
    rounds; 'adaptive' divides eta by 5 instead, down to 1e-6). Problems that stop are
    marked inactive; returns True when none is left."""
    if tol is None:
        return False
    for k in np.flatnonzero(state["active"]):
        if objective[k] > state["best"][k] - tol:
            state["no_improve"][k] += 1
        else:
            state["no_improve"][k] = 0
        state["best"][k] = min(state["best"][k], objective[k])
        if state["no_improve"][k] >= n_iter_no_change:
            if cfg.schedule == Schedule.ADAPTIVE and state["eta"][k] > 1e-6:
                state["eta"][k] /= 5
                state["no_improve"][k] = 0
            else:
                state["active"][k] = False
    return not state["active"].any()


# ------------------------------------------------------------------ checkpoints
def _ckpt_paths(path):
    return os.path.join(path, "state.npz"), os.path.join(path, "state.json")


def save_checkpoint(path, meta, state):
    """``state`` (a dict of arrays and numbers) as ``state.npz`` + ``state.json`` in the
    directory ``path``: no pickle, readable without fastgd; written atomically."""
    os.makedirs(path, exist_ok=True)
    npz, js = _ckpt_paths(path)
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    scalars = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    with open(npz + ".tmp", "wb") as f:
        np.savez(f, **arrays)
    with open(js + ".tmp", "w") as f:
        json.dump({"format": CHECKPOINT_FORMAT, "meta": meta, "scalars": scalars}, f)
    os.replace(npz + ".tmp", npz)
    os.replace(js + ".tmp", js)


def load_checkpoint(path, meta):
    """The state saved by ``save_checkpoint`` for the same fit (``meta``), else None."""
    npz, js = _ckpt_paths(path)
    if not (os.path.exists(npz) and os.path.exists(js)):
        return None
    with open(js) as f:
        saved = json.load(f)
    if saved.get("format") != CHECKPOINT_FORMAT or saved["meta"] != meta:
        old = {**saved.get("meta", {}), **saved.get("meta", {}).get("params", {})}
        new = {**meta, **meta["params"]}
        differ = sorted(k for k in new if k != "params" and old.get(k) != new[k])
        raise ValueError(
            f"checkpoint {path!r} belongs to another fit (it differs in {differ}). "
            "Remove the directory or pass another checkpoint= path.")
    with np.load(npz, allow_pickle=False) as data:
        state = {k: data[k].copy() for k in data.files}
    state.update(saved["scalars"])
    return state


def _checkpoint_meta(ctx, state):
    """What a checkpoint must match to be resumed: the model's shape, the blocks and the
    parameters (all but RESUMABLE ones such as max_iter; ``random_state`` as the fit's
    integer seed, so that a ``RandomState`` in the same state matches)."""
    params = {k: repr(v) for k, v in sorted(ctx.params.get_params().items())
              if k not in RESUMABLE}
    params["random_state"] = repr(int(ctx.seed))
    return {"shape": list(state["W"].shape), "n_blocks": ctx.n_blocks,
            "n_rows": int(ctx.n_rows.sum()), "params": params}


def resumed(ctx, state):
    """(state, meta): the saved state of this fit when ``checkpoint=`` holds one, else
    ``state``."""
    meta = _checkpoint_meta(ctx, state)
    if ctx.params.checkpoint is not None:
        saved = load_checkpoint(ctx.params.checkpoint, meta)
        if saved is not None:
            return saved, meta
    return state, meta


def run_rounds(ctx, state, one_round, n_rounds):
    """Synchronous rounds ``one_round(state, r) -> stop?`` from state['round'] on, with
    the optional checkpoint every ``checkpoint_every`` rounds (and at the end)."""
    p = ctx.params
    state, meta = resumed(ctx, state)
    r = int(state["round"])
    stop = bool(state.get("stopped", False))
    while r < n_rounds and not stop:
        stop = bool(one_round(state, r))
        r += 1
        state["round"] = r
        state["stopped"] = stop
        if p.checkpoint is not None and (r % p.checkpoint_every == 0 or stop
                                         or r == n_rounds):
            save_checkpoint(p.checkpoint, meta, state)
    return state


def _objective_of(ctx, state, W, r):
    """What the stopping rule minimises after round r (only computed when tol is set):
    the objective, or with early_stopping minus the validation score."""
    if ctx.params.tol is None:
        return None
    if ctx.params.early_stopping:
        return -np.broadcast_to(ctx.validation_score(W, f"val-r{r}"), (W.shape[0],))
    return ctx.objective(W, f"obj-r{r}")


# ------------------------------------------------------------------ 'average'
def fit_average(ctx, W0, n_rounds):
    """BSP iterative parameter mixing (Zinkevich, Weimer, Smola, Li, NIPS 2010;
    McDonald, Hall, Mann, NAACL 2010): each round, every block runs ``local_epochs`` of
    the single-machine fit from the global model, and the client averages them weighted
    by rows, w <- sum_b n_b w_b / n; with optimizer='adagrad', per coordinate by the
    blocks' Adagrad G, as Vowpal Wabbit averages adaptive models."""
    p = ctx.params
    state = {"W": W0.copy(), "round": 0, **new_carry(ctx.n_blocks, per_block=False),
             **new_stopper(W0.shape[0], ctx.cfg)}

    def one_round(state, r):
        W, S = ctx.shared(state["W"], f"avg-r{r}-W"), ctx.shared(state["S"], f"avg-r{r}-S")
        results = ctx.map_blocks(
            tasks.local_fit, lambda b: (ctx.spec, W, (state["t"][b], S),
                                        tasks.task_seed(ctx.seed, r, b), p.local_epochs),
            name=f"avg-r{r}")
        Ws = [res["W"] for res in results]
        state["W"] = (adagrad_weighted_mean(Ws, [res["G"] for res in results], ctx.n_rows)
                      if ctx.spec["adagrad_weights"] else weighted_mean(Ws, ctx.n_rows))
        for b, res in enumerate(results):
            state["t"][b] = res["t"]
        if results[0]["S"] is not None:  # the rule states, averaged as the models are
            state["S"] = weighted_mean([res["S"] for res in results], ctx.n_rows)
        obj = _objective_of(ctx, state, state["W"], r)
        return stop_check(state, obj, ctx.cfg, p.tol, p.n_iter_no_change)

    return run_rounds(ctx, state, one_round, n_rounds)


# ------------------------------------------------------------------ 'gradient'
def step_size(cfg, eta, t):
    """eta_t of SPEC section 2's schedules (as the kernels' _step_size)."""
    if cfg.schedule == Schedule.OPTIMAL:
        return 1.0 / (cfg.schedule_alpha * (cfg.optimal_init + t - 1.0))
    if cfg.schedule == Schedule.INVSCALING:
        return cfg.eta0 / t ** cfg.power_t
    return eta


class FullBatchStep:
    """One step of the fit's rule on the full gradient, as the single-machine
    ``batch_size='full'`` path takes it (one batch of the kernels' optimizer_epoch):
    the L2 term added per coordinate as the rule wants it, the rule applied by the
    compiled ``apply_rule`` (the one copy of its formula), then the cumulative L1
    penalty (Tsuruoka et al.) on the coordinates stepped, then the intercept."""

    def __init__(self, cfg, kern, support, sparse):
        self.cfg, self.kern = cfg, kern
        d = support.shape[0]
        lazy_sparse = sparse and cfg.lazy and cfg.rule != Rule.SGD
        self.coords = np.flatnonzero(support) if lazy_sparse else np.arange(d)
        # rule 'sgd' shrinks every coordinate (the kernels' scale factor on CSR); L1
        # reaches the batch's support only there
        self.l1_coords = np.flatnonzero(support) if sparse else np.arange(d)
        if cfg.rule != Rule.SGD:
            self.l1_coords = self.coords

    def eval_point(self, W, S):
        """Where the margins are taken: NAG's look-ahead w - gamma v, else w."""
        if self.cfg.rule == Rule.NAG:
            return W - self.cfg.hp[0] * S[:, 0, :]
        return W

    def __call__(self, w, state, q, u, g, t, eta):
        """Step problem (w, state, q, u) with the mean loss gradient g (d + 1); returns u."""
        cfg, d = self.cfg, w.shape[0] - 1
        a2 = cfg.alpha * (1.0 - cfg.l1_ratio)
        a1 = cfg.alpha * cfg.l1_ratio
        hp = cfg.hp
        b1, b2 = hp[2], hp[3]
        c1, c2, c1n = 1.0 - b1 ** t, 1.0 - b2 ** t, 1.0 - b1 ** (t + 1.0)
        u += a1 * eta
        if cfg.rule == Rule.SGD:
            w[:d] -= eta * (g[:d] + a2 * w[:d])
        else:
            j = self.coords
            if cfg.rule == Rule.NAG:
                gl = g[j] + a2 * (w[j] - hp[0] * state[0, j])
            elif cfg.rule == Rule.ADAMW:
                w[j] *= 1.0 - eta * a2
                gl = g[j]
            else:
                gl = g[j] + a2 * w[j]
            for jj, gj in zip(j.tolist(), gl.tolist()):
                self.kern.apply_rule(cfg.rule, jj, gj, w, state, eta, hp, c1, c2, c1n)
        if a1 > 0.0:
            l1_truncate(w, q, self.l1_coords, u)
        if cfg.fit_intercept:
            if cfg.rule == Rule.SGD:
                w[d] -= eta * g[d]
            else:
                self.kern.apply_rule(cfg.rule, d, float(g[d]), w, state, eta, hp, c1, c2,
                                     c1n)
        return u


def l1_truncate(w, q, j, u):
    """Tsuruoka et al.'s cumulative L1 penalty on the coordinates j (in place)."""
    z = w[j]
    nz = np.where(z > 0, np.maximum(0.0, z - (u + q[j])),
                  np.where(z < 0, np.minimum(0.0, z + (u - q[j])), z))
    w[j] = nz
    q[j] += nz - z


def fit_gradient(ctx, W0, n_rounds, kern, n_slots):
    """Synchronous full-batch gradient descent by map-reduce (Spark MLlib's
    GradientDescent; with ``batch_fraction`` < 1 its sampled mini-batch): each block
    returns its loss-gradient sum at the model, the client sums them in block order and
    takes the single-machine ``batch_size='full'`` step of SPEC section 2."""
    p, cfg = ctx.params, ctx.cfg
    K, d1 = W0.shape
    step = FullBatchStep(cfg, kern, ctx.support, ctx.spec["sparse"])
    state = {"W": W0.copy(), "S": np.zeros((K, n_slots, d1)), "Q": np.zeros((K, d1 - 1)),
             "U": np.zeros(K), "t": 1.0, "round": 0, **new_stopper(K, cfg)}

    def one_round(state, r):
        W_eval = ctx.shared(step.eval_point(state["W"], state["S"]), f"grad-r{r}-W")
        results = ctx.map_blocks(
            tasks.gradient, lambda b: (W_eval, ctx.spec, tasks.task_seed(ctx.seed, r, b),
                                       p.batch_fraction, True), name=f"grad-r{r}")
        G = np.zeros_like(state["W"])
        loss = np.zeros(K)
        n = 0
        for res in results:  # block order
            G += res["G"]
            loss += res["loss"]
            n += res["n"]
        G /= n
        t = state["t"]
        for k in np.flatnonzero(state["active"]):
            eta = step_size(cfg, state["eta"][k], t)
            state["U"][k] = step(state["W"][k], state["S"][k], state["Q"][k],
                                 state["U"][k], G[k], t, eta)
        if not np.isfinite(state["W"]).all():
            raise ValueError(
                f"The fit diverged at round {r + 1} (the model is no longer finite): a "
                "smaller eta0 or a larger alpha might help, as might scaling X.")
        state["t"] = t + 1.0
        obj = (_objective_of(ctx, state, state["W"], r) if p.early_stopping
               else loss / n + penalty(cfg, state["W"]))
        return stop_check(state, obj, cfg, p.tol, p.n_iter_no_change)

    return run_rounds(ctx, state, one_round, n_rounds)


class _MapReduce:
    """One binary (or regression) problem's mean loss, gradient and (logistic)
    Hessian at theta (1, d + 1), each by one map-reduce pass summed in block order:
    what ``fastgd._newton.newton`` and L-BFGS read."""

    def __init__(self, ctx, spec, name, d1):
        self.ctx, self.spec, self.name, self.calls = ctx, spec, name, 0
        self.n = float(ctx.n_rows.sum())
        self.shape = (1, d1)

    def _pass(self, fn, theta, *args):
        name = f"{self.name}-e{self.calls}"
        self.calls += 1
        w = self.ctx.shared(np.asarray(theta, dtype=np.float64).reshape(self.shape), name)
        return self.ctx.map_blocks(fn, lambda b: (w, self.spec, *args), name=name)

    def value_grad(self, theta):
        loss, G = 0.0, np.zeros(self.shape)
        for res in self._pass(tasks.gradient, theta, 0, 1.0, True):  # block order
            loss += res["loss"][0]
            G += res["G"]
        return loss / self.n, G / self.n

    def hessian(self, theta, H):
        H[:] = 0.0
        for res in self._pass(tasks.hessian, theta):  # block order
            H += res["H"]
        H /= self.n

    def zero_loss(self):
        """F(0, 0), for the final check of an absurd F (``check_objective``)."""
        return self.value_grad(np.zeros(self.shape))[0]


def _one_vs_rest(ctx, W0, name, solve):
    """Each one-vs-rest problem k in turn (the two-class form of ``tasks.targets``
    gives its +-1 labels): ``solve(problem, theta)`` from W0[k] (intercept 0 without
    fit_intercept) returns (theta, iterations). Returns the state {'W', 'round'}, the
    most iterations any problem took."""
    spec = ctx.spec
    K, d1 = W0.shape
    W = W0.copy()
    n_iter = 0
    for k in range(K):
        spec_k = spec if K == 1 else dict(
            spec, classes=[spec["classes"][k]] * 2, pos_weight=[spec["pos_weight"][k]],
            neg_weight=[spec["neg_weight"][k]])
        theta = W[k].copy()
        if not ctx.cfg.fit_intercept:
            theta[-1] = 0.0
        W[k], it = solve(_MapReduce(ctx, spec_k, f"{name}-p{k}", d1), theta)
        n_iter = max(n_iter, it)
    return {"W": W, "round": n_iter}


def fit_lbfgs(ctx, W0):
    """strategy='gradient' with solver='lbfgs': SciPy's L-BFGS-B (Byrd, Lu, Nocedal, Zhu
    1995) with the single-machine solver's options (``fastgd._lbfgs``: scikit-learn's
    for its lbfgs) on the map-reduce loss and gradient, as Spark MLlib's LBFGS: each
    evaluation of F and its gradient is one pass over the blocks, summed in block order,

        F(w, b) = (1/n) sum_i s_i L(y_i, x_i.w + b) + alpha/2 ||w||^2.

    The one-vs-rest problems are solved one after another; ``n_iter_`` is the most
    L-BFGS iterations any took. No checkpoint (the curvature pairs would be lost)."""
    from fastgd._lbfgs import _minimize

    cfg = ctx.cfg

    def solve(problem, theta):
        def objective(x):
            x = x.copy()
            if not cfg.fit_intercept:
                x[-1] = 0.0
            loss, G = problem.value_grad(x)
            grad = G[0]
            grad[:-1] += cfg.alpha * x[:-1]
            if not cfg.fit_intercept:
                grad[-1] = 0.0
            return loss + 0.5 * cfg.alpha * float(x[:-1] @ x[:-1]), grad

        res, _ = _minimize(objective, theta, cfg, problem.zero_loss, None, None,
                           lambda x: (x[:-1], x[-1]))
        return res.x, int(res.nit)

    return _one_vs_rest(ctx, W0, "lbfgs", solve)


def fit_newton(ctx, W0):
    """strategy='gradient' with solver='newton-cholesky': the single-machine Newton's
    method (``fastgd._newton.newton``: the Hessian factored by Cholesky, scikit-learn's
    line search and stopping rule) on logistic regression, its gradient and Hessian
    H = (1/n) sum_i s_i p_i (1 - p_i) x~_i x~_i^T by map-reduce (each block's part
    by the compiled ``hessian_sum``), as Spark's IRLS solves GLMs by the normal
    equations. For few features: (d + 1)^2 numbers per block and round. The
    one-vs-rest problems one after another; ``n_iter_`` is the most iterations any
    took. No checkpoint."""
    from fastgd._newton import newton

    def solve(problem, theta):
        theta, it, _, _ = newton(problem, theta[None], ctx.cfg, problem.zero_loss)
        return theta[0], it

    return _one_vs_rest(ctx, W0, "newton", solve)


# ------------------------------------------------------------------ 'easgd' (sync)
def elastic_pull(x_local, centre, alpha):
    """EASGD's elastic move (Zhang, Choromanska, LeCun 2015, eq. 5-6):
    diff = alpha (x_i - x~); x_i <- x_i - diff; returns diff (x~ gains it)."""
    diff = alpha * (x_local - centre)
    x_local -= diff
    return diff


def easgd_alpha(ctx):
    """elastic_alpha='auto': beta = p alpha = 0.9, the paper's choice (p blocks)."""
    a = ctx.params.elastic_alpha
    return 0.9 / ctx.n_blocks if a == "auto" else float(a)


def fit_easgd_sync(ctx, W0, n_rounds):
    """Synchronous EASGD (Zhang, Choromanska, LeCun, NIPS 2015): every block keeps its
    own model x_i, runs ``tau`` local epochs, then x_i and the centre x~ attract each
    other, x_i -= alpha (x_i - x~), x~ += alpha sum_i (x_i - x~) (block order)."""
    p = ctx.params
    alpha = easgd_alpha(ctx)
    state = {"W": W0.copy(), "L": np.repeat(W0[None], ctx.n_blocks, axis=0), "round": 0,
             **new_carry(ctx.n_blocks, per_block=True), **new_stopper(W0.shape[0], ctx.cfg)}

    def one_round(state, r):
        results = ctx.map_blocks(
            tasks.local_fit, lambda b: (ctx.spec, state["L"][b], carry_of(state, b),
                                        tasks.task_seed(ctx.seed, r, b), p.tau),
            name=f"easgd-r{r}")
        centre = state["W"]
        moved = np.zeros_like(centre)
        for b, res in enumerate(results):
            carried(state, b, res)
            state["L"][b] = res["W"]
            moved += elastic_pull(state["L"][b], centre, alpha)
        state["W"] = centre + moved
        obj = _objective_of(ctx, state, state["W"], r)
        return stop_check(state, obj, ctx.cfg, p.tol, p.n_iter_no_change)

    return run_rounds(ctx, state, one_round, n_rounds)


# ------------------------------------------------------------------ asynchronous
def run_async(ctx, state, meta, launch, on_result, n_tasks, deterministic, gate=None):
    """The parameter-server loop: block b runs its tasks k = state['nxt'][b] ..
    n_tasks - 1 one after another. ``launch(b, k)`` submits one, ``on_result(b, k,
    result)`` applies its result to the client-side ``state``, and ``gate(b, k)``
    (default: always) says whether b may start task k now. Results are taken as they
    complete (``distributed.as_completed``) or, with ``deterministic``, in submission
    order (a fixed delay pattern, for tests). A result's tag is applied once.

    ``state['nxt'][b]`` counts block b's applied results; with ``checkpoint=`` the state
    is saved after every ``checkpoint_every`` x n_blocks applied results (a round's
    worth) and at the end. A fit resumed from it starts each block at its count: the
    tasks in flight at the save are run again, from the model as it was saved.

    With ``tol``, each round's worth of applied results ends a round r: the stopping
    rule of the synchronous strategies (``stop_check`` on the objective of W, or with
    ``early_stopping`` on the held-out score, one map-reduce pass) runs on the model as
    it is then. When it stops, the tasks still in flight are cancelled and their results
    dropped; state['round'] (the fit's n_iter_) is r."""
    from distributed import as_completed

    p = ctx.params
    pending, fifo, applied = {}, deque(), set()
    nxt = [int(k) for k in state["nxt"]]  # next task of each block
    busy = [False] * ctx.n_blocks
    every = max(1, int(p.checkpoint_every)) * ctx.n_blocks
    count, total = 0, int(np.sum(state["nxt"]))
    stopped = bool(state.get("stopped", False))
    ac = None if deterministic else as_completed(loop=ctx.client.loop)

    def start_ready():
        if stopped:
            return
        for b in range(ctx.n_blocks):
            if not busy[b] and nxt[b] < n_tasks and (gate is None or gate(b, nxt[b])):
                fut = launch(b, nxt[b])
                pending[fut.key] = (fut, b, nxt[b])
                busy[b] = True
                (fifo.append if deterministic else ac.add)(fut)

    start_ready()
    while pending:
        fut = fifo.popleft() if deterministic else next(ac)
        _, b, k = pending.pop(fut.key)
        result = fut.result()
        busy[b], nxt[b] = False, k + 1
        if result["tag"] not in applied:
            applied.add(result["tag"])
            on_result(b, k, result)
            state["nxt"][b] = k + 1
            count, total = count + 1, total + 1
            if p.tol is not None and total % ctx.n_blocks == 0:
                r = total // ctx.n_blocks
                obj = _objective_of(ctx, state, state["W"].copy(), r)
                stopped = state["stopped"] = bool(
                    stop_check(state, obj, ctx.cfg, p.tol, p.n_iter_no_change))
                state["round"] = r
            if p.checkpoint is not None and (count % every == 0 or stopped):
                save_checkpoint(p.checkpoint, meta, state)
        if stopped:
            ctx.client.cancel([f for f, _, _ in pending.values()])
            break
        start_ready()
    if not stopped:
        state["round"] = n_tasks
    if p.checkpoint is not None:
        save_checkpoint(p.checkpoint, meta, state)
    return applied


def _server_gradient(cfg, W, G, n):
    """Mean loss gradient of a task plus the penalty's (sub)gradient at W."""
    g = G / n
    a2 = cfg.alpha * (1.0 - cfg.l1_ratio)
    a1 = cfg.alpha * cfg.l1_ratio
    g[:, :-1] += a2 * W[:, :-1] + a1 * np.sign(W[:, :-1])
    if not cfg.fit_intercept:
        g[:, -1] = 0.0
    return g


class Adagrad:
    """Downpour's server rule (Dean et al. 2012, with Duchi et al.'s Adagrad):
    G += g^2; w -= eta g / (sqrt(G) + eps). Its arrays are ``ARRAYS``, kept (and
    checkpointed) in the client-side state as 'server_<name>'."""

    ARRAYS = ("G",)

    def __init__(self, shape, eta, eps):
        self.G, self.eta, self.eps = np.zeros(shape), eta, eps

    def read(self):
        return None

    def update(self, W, g, _read):
        self.G += g * g
        W -= self.eta * g / (np.sqrt(self.G) + self.eps)


class Sgd:
    """Plain server step w -= eta g."""

    ARRAYS = ()

    def __init__(self, shape, eta, eps):
        self.eta = eta

    def read(self):
        return None

    def update(self, W, g, _read):
        W -= self.eta * g


class AdaRevision:
    """Delay-tolerant Adagrad, AdaRevision (McMahan & Streeter, NIPS 2014, Alg. 2),
    per coordinate. A Read hands out z (the sum of gradients applied so far); the
    Update of g read at z_old, with g_bck = z - z_old the gradients applied meanwhile:

        eta_old = eta / sqrt(G'); z += g; G += g^2 + 2 g g_bck; A += g^2
        G' = max(G', G, A)
        w <- w - (eta / sqrt(G')) g + (eta_old - eta / sqrt(G')) g_bck

    i.e. the step of the g_bck gradients is revised to the new, smaller rate. One
    change to the paper's rule (its analysis projects onto a bounded set, which this
    unconstrained model has not): G' is at least Adagrad's A = sum g^2, so the rate is
    never above Adagrad's. Without that floor, delayed gradients that alternate in sign
    drive G below zero, the rate stays at its early, large value and the iterates
    oscillate with growing amplitude (seen on ``make_powerlaw(1e7)``, 8 blocks: F
    reached 1e38; ``test_dask.py::test_adarevision_rate_never_above_adagrads``)."""

    ARRAYS = ("z", "G", "A", "Gmax")

    def __init__(self, shape, eta, eps):
        self.z, self.G, self.A = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        self.Gmax = np.zeros(shape)
        self.eta, self.eps = eta, eps

    def read(self):
        return self.z.copy()

    def update(self, W, g, z_old):
        g_bck = self.z - z_old
        eta_old = self.eta / (np.sqrt(self.Gmax) + self.eps)
        self.z += g
        self.G += g * g + 2.0 * g * g_bck
        self.A += g * g
        np.maximum(self.Gmax, np.maximum(self.G, self.A), out=self.Gmax)
        eta_new = self.eta / (np.sqrt(self.Gmax) + self.eps)
        W -= eta_new * g - (eta_old - eta_new) * g_bck


SERVER_RULES = {"adagrad": Adagrad, "sgd": Sgd, "adarevision": AdaRevision}


def _async_state(ctx, W0, **arrays):
    """The client-side state of an asynchronous fit (the model W, each block's count of
    applied results 'nxt', ``arrays``), or the checkpointed one; and the meta."""
    state = {"W": W0.copy(), "nxt": np.zeros(ctx.n_blocks, np.int64), "round": 0,
             **new_stopper(W0.shape[0], ctx.cfg), **arrays}
    return resumed(ctx, state)


def fit_downpour(ctx, W0, n_tasks, rule):
    """Downpour SGD (Dean et al., NIPS 2012): asynchronous. Each block's task takes the
    loss gradient of its rows (a ``batch_fraction`` of them) at the latest model it was
    given; the server rule (``server_optimizer``, or AdaRevision) applies each result at
    once, and the block is resubmitted with the model as it is then. ``n_tasks`` tasks
    per block."""
    p, cfg = ctx.params, ctx.cfg
    server = SERVER_RULES[rule](W0.shape, float(p.server_eta), 1e-8)
    state, meta = _async_state(ctx, W0, **{f"server_{a}": getattr(server, a)
                                           for a in server.ARRAYS})
    W = state["W"]
    for a in server.ARRAYS:  # the server works on the state's arrays, in place
        setattr(server, a, state[f"server_{a}"])
    reads = {}

    def launch(b, k):
        reads[(b, k)] = server.read()
        return ctx.submit(tasks.gradient, b, W.copy(), ctx.spec,
                          tasks.task_seed(ctx.seed, k, b), p.batch_fraction, True,
                          name=f"{rule}-k{k}")

    def on_result(b, k, res):
        server.update(W, _server_gradient(cfg, W, res["G"], res["n"]), reads.pop((b, k)))

    run_async(ctx, state, meta, launch, on_result, n_tasks, p.deterministic)
    return state


def fit_ssp(ctx, W0, n_clocks):
    """Stale synchronous parallel (Ho et al., NIPS 2013): each block's clock is a task
    of ``local_epochs`` single-machine epochs from the model it reads; the server adds
    its weighted change, w += (n_b / n)(w_b - w_read), at once. A block may start clock
    c only while c - (slowest block's finished clocks) <= ``staleness``; with
    staleness=0 every clock reads the same model: BSP parameter mixing."""
    p = ctx.params
    frac = ctx.n_rows / float(ctx.n_rows.sum())
    state, meta = _async_state(ctx, W0, **new_carry(ctx.n_blocks, per_block=True))
    W, done = state["W"], state["nxt"]  # done[b]: block b's finished clocks
    snap = {}

    def launch(b, c):
        snap[(b, c)] = W.copy()
        return ctx.submit(tasks.local_fit, b, ctx.spec, snap[(b, c)],
                          carry_of(state, b),
                          tasks.task_seed(ctx.seed, c, b), p.local_epochs,
                          name=f"ssp-c{c}")

    def on_result(b, c, res):
        carried(state, b, res)
        W[...] += frac[b] * (res["W"] - snap.pop((b, c)))

    def gate(b, c):
        return c - done.min() <= p.staleness

    run_async(ctx, state, meta, launch, on_result, n_clocks, p.deterministic, gate)
    return state


def fit_easgd_async(ctx, W0, n_rounds):
    """Asynchronous EASGD (Zhang, Choromanska, LeCun 2015, Alg. 1): when block i's
    ``tau`` local epochs finish, x_i and the centre attract each other at once,
    x_i -= alpha (x_i - x~), x~ += alpha (x_i - x~), and the block continues from x_i."""
    p = ctx.params
    alpha = easgd_alpha(ctx)
    state, meta = _async_state(ctx, W0, L=np.repeat(W0[None], ctx.n_blocks, axis=0),
                               **new_carry(ctx.n_blocks, per_block=True))
    W, L = state["W"], state["L"]

    def launch(b, k):
        return ctx.submit(tasks.local_fit, b, ctx.spec, L[b].copy(),
                          carry_of(state, b),
                          tasks.task_seed(ctx.seed, k, b), p.tau,
                          name=f"aeasgd-k{k}")

    def on_result(b, k, res):
        carried(state, b, res)
        L[b] = res["W"]
        W[...] += elastic_pull(L[b], W, alpha)

    run_async(ctx, state, meta, launch, on_result, n_rounds, p.deterministic)
    return state


def finite_or_raise(ctx, W, strategy):
    """W, once it is finite and its objective not absurd: the single-machine rule,
    ``_engine.check_objective`` per problem, on F from one map-reduce pass (F(0, 0), a
    second pass, only when F is over DIVERGED_FACTOR)."""
    if not np.isfinite(W).all():
        raise ValueError(
            f"strategy={strategy!r}: the model is no longer finite (the fit diverged); "
            "a smaller eta0 / server_eta or a larger alpha might help, as might scaling X.")
    zero = functools.cache(lambda: ctx.objective(np.zeros_like(W), "zero"))
    for k, F in enumerate(ctx.objective(W, "final")):
        check_objective(int(ctx.params.max_iter), float(F), lambda k=k: float(zero()[k]))
    return W


"""A plain-NumPy reference of SPEC.md sections 2-3 (one step, sparse data).

Written straight from SPEC's formulas, for readability rather than speed: every step
is dense linear algebra over *all* coordinates, and the CSR semantics are expressed by
boolean masks (which coordinates a step updates, which ones it L1-truncates). The
intercept is the last entry of the extended vector ``w`` (``len(w) == d + 1``) and is
never penalised.

What SPEC leaves open is filled in as fastgd's documentation says:

- classification targets are +-1; the per-sample weight ``s_i`` is sample_weight x
  class_weight (the caller passes the product); dL/dp is clipped to +-1e12;
- the margins of a whole batch are taken at the current point before the step (NAG: at
  the look-ahead point ``w - gamma v``, intercept included);
- batches are consecutive chunks of the sample order (the last one may be smaller);
  ``batch_size='full'`` is a single batch of every sample; ``t`` counts steps from 1 and
  keeps counting across epochs (and across calls, via ``state``);
- AdamW has no alpha term in g; instead ``w_j <- w_j (1 - eta alpha (1 - l1_ratio))``
  just before its Adam step (only for coordinates the step updates);
- L1 (l1 / elasticnet) is Tsuruoka et al.'s cumulative penalty: ``u += alpha l1_ratio
  eta`` per step, then each coordinate the step touches is clipped towards zero by
  ``u`` minus what it already received (``q_j``);
- CSR: ``lazy=True`` updates only the union K of the batch rows' stored indices (stored
  zeros included), with the state of the other coordinates untouched; ``lazy=False``
  and dense input update every coordinate; rule 'sgd' on CSR is always exact for the L2
  part (scikit-learn's scale factor) but its L1 truncation only visits K (as
  scikit-learn does);
- ``intercept_decay`` (scikit-learn's 0.01 for sparse input in its plain SGD) scales
  the intercept's step; it only has a meaning for rule 'sgd'.

``loss_curve`` holds, per epoch, (1/n) sum_i s_i L(y_i, p_i) at the margins the steps
used, plus alpha R(w) at the end of the epoch (SPEC section 1's R).
"""

import math
from types import SimpleNamespace

import numpy as np

MAX_DLOSS = 1e12

# SPEC section 2's customary hyper-parameters (its table, "defaults in brackets").
DEFAULTS = {
    "sgd": {},
    "momentum": {"momentum": 0.9},
    "nag": {"momentum": 0.9},
    "adagrad": {"eps": 1e-8},
    "rmsprop": {"rho": 0.9, "eps": 1e-8},
    "adadelta": {"rho": 0.95, "eps": 1e-6},
    "adam": {"beta_1": 0.9, "beta_2": 0.999, "eps": 1e-8},
    "adamax": {"beta_1": 0.9, "beta_2": 0.999, "eps": 1e-8},
    "nadam": {"beta_1": 0.9, "beta_2": 0.999, "eps": 1e-8},
    "amsgrad": {"beta_1": 0.9, "beta_2": 0.999, "eps": 1e-8},
    "adamw": {"beta_1": 0.9, "beta_2": 0.999, "eps": 1e-8},
}

# The per-coordinate memory of each rule (all of it starts at zero).
SLOTS = {
    "sgd": (),
    "momentum": ("v",),
    "nag": ("v",),
    "adagrad": ("G",),
    "rmsprop": ("E",),
    "adadelta": ("E", "D"),
    "adam": ("m", "v"),
    "adamax": ("m", "u"),
    "nadam": ("m", "v"),
    "amsgrad": ("m", "v", "vmax"),
    "adamw": ("m", "v"),
}


# ------------------------------------------------------------------------ losses
def loss_value(loss, y, p):
    if loss == "squared_error":
        return 0.5 * (p - y) ** 2
    if loss == "log_loss":
        return np.logaddexp(0.0, -y * p)  # log(1 + exp(-y p))
    raise NotImplementedError(loss)


def loss_derivative(loss, y, p):
    """dL/dp, clipped to +-1e12."""
    if loss == "squared_error":
        d = p - y
    elif loss == "log_loss":
        d = -y / (1.0 + np.exp(y * p))
    else:
        raise NotImplementedError(loss)
    return np.clip(d, -MAX_DLOSS, MAX_DLOSS)


def penalty(w, alpha, l1_ratio):
    """alpha R(w), R(w) = (1 - l1_ratio)/2 ||w||^2 + l1_ratio ||w||_1."""
    return alpha * ((1.0 - l1_ratio) / 2.0 * np.sum(w * w) + l1_ratio * np.sum(np.abs(w)))


# ------------------------------------------------------------------------- rules
def rule_update(rule, w, g, S, eta, t, hp):
    """SPEC section 2's table, for every coordinate at once.

    Returns (new w, new state dict); nothing is modified in place (the caller keeps
    the old values where a coordinate is not updated).
    """
    if rule == "sgd":
        return w - eta * g, {}
    if rule in ("momentum", "nag"):
        v = hp["momentum"] * S["v"] + eta * g
        return w - v, {"v": v}
    if rule == "adagrad":
        G = S["G"] + g ** 2
        return w - eta * g / (np.sqrt(G) + hp["eps"]), {"G": G}
    if rule == "rmsprop":
        rho = hp["rho"]
        E = rho * S["E"] + (1.0 - rho) * g ** 2
        return w - eta * g / (np.sqrt(E) + hp["eps"]), {"E": E}
    if rule == "adadelta":
        rho, eps = hp["rho"], hp["eps"]
        E = rho * S["E"] + (1.0 - rho) * g ** 2
        delta = -np.sqrt(S["D"] + eps) / np.sqrt(E + eps) * g
        D = rho * S["D"] + (1.0 - rho) * delta ** 2
        return w + eta * delta, {"E": E, "D": D}

    b1, b2, eps = hp["beta_1"], hp["beta_2"], hp["eps"]
    m = b1 * S["m"] + (1.0 - b1) * g
    if rule == "adamax":
        u = np.maximum(b2 * S["u"], np.abs(g))
        return w - eta / (1.0 - b1 ** t) * m / (u + eps), {"m": m, "u": u}
    v = b2 * S["v"] + (1.0 - b2) * g ** 2
    v_hat = v / (1.0 - b2 ** t)
    if rule in ("adam", "adamw"):
        m_hat = m / (1.0 - b1 ** t)
        return w - eta * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v}
    if rule == "nadam":
        m_hat = m / (1.0 - b1 ** (t + 1))
        g_hat = g / (1.0 - b1 ** t)
        m_bar = (1.0 - b1) * g_hat + b1 * m_hat
        return w - eta * m_bar / (np.sqrt(v_hat) + eps), {"m": m, "v": v}
    if rule == "amsgrad":
        m_hat = m / (1.0 - b1 ** t)
        vmax = np.maximum(S["vmax"], v)
        return (w - eta * m_hat / (np.sqrt(vmax / (1.0 - b2 ** t)) + eps),
                {"m": m, "v": v, "vmax": vmax})
    raise NotImplementedError(f"the reference has no rule {rule!r}")


def cumulative_l1(w, q, u, mask):
    """Tsuruoka et al.: clip w_j (j in mask) towards 0 by u minus what it already got."""
    z = w
    shrunk = np.where(z > 0, np.maximum(0.0, z - (u + q)),
                      np.where(z < 0, np.minimum(0.0, z + (u - q)), z))
    new_w = np.where(mask, shrunk, w)
    return new_w, q + (new_w - z)


# -------------------------------------------------------------------------- fit
def new_state(rule, d):
    return SimpleNamespace(w=np.zeros(d + 1), S={k: np.zeros(d + 1) for k in SLOTS[rule]},
                           q=np.zeros(d), u=0.0, t=1)


# ------------------------------------------------------- SPEC section 7: the tools
_M32 = 0xFFFFFFFF


def _mix32(x):
    """The 32-bit xorshift-multiply hash of the kernels, on uint64 arrays."""
    x = np.asarray(x, dtype=np.uint64) & np.uint64(_M32)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(_M32)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x2C1B3C6D)) & np.uint64(_M32)
    x ^= x >> np.uint64(16)
    return x


def _zig_tables(n=128, r=3.442619855899, v=9.91256303526217e-3):
    """Strip edges x[0..n] of the ziggurat for exp(-x^2/2): equal areas v, x[1] = r, the
    base strip x[0] = v / f(r) (with the tail), x[n] = 0; and f(x), f = 1 at x[n]."""
    x = [v / math.exp(-r * r / 2), r]
    while len(x) < n:
        x.append(math.sqrt(-2.0 * math.log(v / x[-1] + math.exp(-x[-1] ** 2 / 2))))
    x = np.array(x + [0.0])
    f = np.exp(-x * x / 2)
    f[n] = 1.0
    return x, f


ZIG_X, ZIG_F = _zig_tables()


def _next32(h):
    return int(_mix32(np.uint64((h + 0x61C88647) & 0xFFFFFFFFFFFFFFFF)))


def _zig_slow(h):
    """The ziggurat from word h on, one draw at a time (rejections, the tail)."""
    u32 = lambda h: (h + 0.5) * 2.0 ** -32  # noqa: E731
    while True:
        i, neg = h & 127, bool(h & 128)
        x = ((h >> 8) + 0.5) * 2.0 ** -24 * ZIG_X[i]
        if x < ZIG_X[i + 1]:
            break
        h = _next32(h)
        if i == 0:  # Marsaglia's tail: x = r + a, a ~ Exp(r) accepted when 2b >= a^2
            while True:
                a = -math.log(u32(h)) / ZIG_X[1]
                h = _next32(h)
                b = -math.log(u32(h))
                h = _next32(h)
                if b + b >= a * a:
                    break
            x = ZIG_X[1] + a
            break
        if ZIG_F[i] + u32(h) * (ZIG_F[i + 1] - ZIG_F[i]) < math.exp(-0.5 * x * x):
            break
        h = _next32(h)
    return -x if neg else x


def noise_words(seed, t, n):
    """The first 32-bit words of coordinates 0..n-1 at step t under ``seed``: the
    counter-based hash of (seed, t, j) of SPEC section 7."""
    t = np.uint64(int(t))
    key = _mix32(np.uint64(seed) ^ _mix32((t & np.uint64(_M32)) ^ _mix32(t >> np.uint64(32))))
    return _mix32(key ^ _mix32(np.arange(n, dtype=np.uint64)))


def gaussian_noise(seed, t, n):
    """N(0, 1) deviates of coordinates 0..n-1 at step t under ``seed``: the ziggurat
    (Marsaglia & Tsang 2000, 128 strips) on each coordinate's word stream, vectorised
    where the first word lands inside its strip's rectangle."""
    h = noise_words(seed, t, n)
    i = (h & np.uint64(127)).astype(np.int64)
    x = ((h >> np.uint64(8)).astype(np.float64) + 0.5) * 2.0 ** -24 * ZIG_X[i]
    x = np.where((h & np.uint64(128)) != 0, -x, x)
    for k in np.flatnonzero(np.abs(x) >= ZIG_X[i + 1]):
        x[k] = _zig_slow(int(h[k]))
    return x


def tooled(g, update, t, *, clip_value=None, clip_norm=None, noise=0.0, noise_decay=0.55,
           seed=0):
    """SPEC section 7 on the step's gradient g (coordinates ``update`` only): noise
    N(0, noise / (1 + t)^noise_decay), then each component clipped to +-clip_value, then
    g rescaled to norm <= clip_norm (the norm over ``update``)."""
    g = g.copy()
    if noise > 0.0:
        g += np.sqrt(noise / (1.0 + t) ** noise_decay) * gaussian_noise(seed, t, g.size)
    if clip_value:
        g = np.clip(g, -clip_value, clip_value)
    if clip_norm:
        nrm = np.linalg.norm(g[update])
        if nrm > clip_norm:
            g *= clip_norm / nrm
    return np.where(update, g, 0.0)


def fit(X, y, s, *, rule, loss, alpha, l1_ratio=0.0, eta, batch_size, epochs,
        stored=None, lazy=True, fit_intercept=True, intercept_decay=1.0, hp=None,
        power_t=None, state=None, tools=None):
    """Run ``epochs`` passes over samples 0..n-1 (in order) and return the result.

    X: (n, d) dense float array (the values the estimator reads); y: targets (+-1 for
    classification); s: per-sample weights (sample_weight x class_weight).
    stored: None for dense input, else the (n, d) boolean pattern of the CSR's stored
    entries. ``state`` (from a previous result) continues a fit. The step size is the
    constant ``eta``, or ``eta / t**power_t`` (learning_rate='invscaling') when
    ``power_t`` is given, or ``eta(t)`` when ``eta`` is a callable (a schedule).
    ``tools``: the keywords of ``tooled`` (clipping, noise); rule 'sgd' on CSR then
    follows ``lazy`` as the other rules do.
    Returns a namespace with coef, intercept, t, loss_curve and state.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    n, d = X.shape
    hp = {**DEFAULTS[rule], **(hp or {})}
    st = new_state(rule, d) if state is None else SimpleNamespace(
        w=state.w.copy(), S={k: v.copy() for k, v in state.S.items()}, q=state.q.copy(),
        u=state.u, t=state.t)
    a2 = alpha * (1.0 - l1_ratio)
    a1 = alpha * l1_ratio
    size = n if batch_size == "full" else batch_size
    sparse = stored is not None
    if intercept_decay != 1.0:
        assert rule == "sgd", "intercept_decay belongs to scikit-learn's plain SGD"
    loss_curve = []

    for _ in range(epochs):
        loss_sum = 0.0
        for start in range(0, n, size):
            B = np.arange(start, min(start + size, n))
            if callable(eta):
                eta_t = float(eta(st.t))
            else:
                eta_t = eta if power_t is None else eta / st.t ** power_t
            w = st.w

            # which coordinates this step updates / L1-truncates
            everything = np.ones(d, dtype=bool)
            if not sparse:
                update, truncate = everything, everything
            else:
                support = stored[B].any(axis=0)
                if rule == "sgd" and not tools:
                    update, truncate = everything, support
                elif lazy:
                    update, truncate = support, support
                else:
                    update, truncate = everything, everything
            update = np.append(update, fit_intercept)

            # margins at the current point (NAG: at the look-ahead point)
            point = w - hp["momentum"] * st.S["v"] if rule == "nag" else w
            p = X[B] @ point[:d] + point[d]
            loss_sum += np.sum(s[B] * loss_value(loss, y[B], p))
            c = s[B] * loss_derivative(loss, y[B], p) / len(B)
            g = np.append(X[B].T @ c, np.sum(c))
            if intercept_decay != 1.0:
                g[d] *= intercept_decay

            if rule == "adamw":  # decoupled weight decay, then Adam on the loss gradient
                decayed = w.copy()
                decayed[:d] *= 1.0 - eta_t * a2
                w = np.where(update, decayed, w)
            else:
                g[:d] += a2 * point[:d]

            if tools:
                g = tooled(g, update, st.t, **tools)
            w_new, S_new = rule_update(rule, w, g, st.S, eta_t, st.t, hp)
            w = np.where(update, w_new, w)
            st.S = {k: np.where(update, S_new[k], st.S[k]) for k in st.S}

            if a1 > 0.0:
                st.u += a1 * eta_t
                coef, st.q = cumulative_l1(w[:d], st.q, st.u, truncate)
                w = np.append(coef, w[d])
            st.w = w
            st.t += 1
        loss_curve.append(loss_sum / n + penalty(st.w[:d], alpha, l1_ratio))

    return SimpleNamespace(coef=st.w[:d].copy(), intercept=st.w[d], t=st.t,
                           loss_curve=loss_curve, state=st)


def schedule_eta(name, t, **p):
    """SPEC section 7's schedules, eta_t of the steps t (from 1), written from the papers'
    formulas in NumPy (k = t - 1 steps done): the reference of fastgd.schedules."""
    t = np.asarray(t, dtype=np.float64)
    k = t - 1.0
    if name == "step":
        return p["eta0"] * p["gamma"] ** np.floor(k / p["step_size"])
    if name == "exponential":
        e = k / p["decay_steps"]
        return p["eta0"] * p["decay_rate"] ** (np.floor(e) if p["staircase"] else e)
    if name == "cosine":
        x = np.minimum(k, p["T_max"]) / p["T_max"]
        return p["eta_min"] + (p["eta0"] - p["eta_min"]) * (1 + np.cos(np.pi * x)) / 2
    if name == "cyclic":
        s = p["step_size"]
        cycle = np.floor(1 + k / (2 * s))
        x = np.abs(k / s - 2 * cycle + 1)
        scale = {"triangular": np.ones_like(k), "triangular2": 1 / 2.0 ** (cycle - 1),
                 "exp_range": p.get("gamma", 1.0) ** k}[p["mode"]]
        return p["base_lr"] + (p["max_lr"] - p["base_lr"]) * np.maximum(0, 1 - x) * scale
    if name == "sgdr":  # T_cur, T_i of Loshchilov & Hutter, by walking the cycles
        out = []
        for kk in k:
            period = p["T_0"]
            while kk >= period:
                kk -= period
                period *= p["T_mult"]
            out.append(p["eta_min"] + (p["eta0"] - p["eta_min"])
                       * (1 + np.cos(np.pi * kk / period)) / 2)
        return np.array(out)
    if name == "onecycle":  # PyTorch's OneCycleLR, cosine annealing
        initial = p["max_lr"] / p["div_factor"]
        low = initial / p["final_div_factor"]
        up = p["pct_start"] * p["total_steps"] - 1
        end = p["total_steps"] - 1
        kk = np.minimum(k, end)
        first = kk <= up
        pct = np.where(first, kk / up, (kk - up) / (end - up))
        start = np.where(first, initial, p["max_lr"])
        stop = np.where(first, p["max_lr"], low)
        return stop + (start - stop) * (1 + np.cos(np.pi * pct)) / 2
    raise ValueError(name)


def assert_fit_matches(est, res, dtype=np.float64, rtol=1e-10, atol=1e-12):
    """A fitted estimator's ``coef_`` and ``intercept_`` against ``fit``'s result ``res``.

    The kernels and this reference read the same values and both compute in float64, so
    only the order of sums differs: ``rtol``/``atol`` in float64. Float32 X stores
    ``coef_`` in float32, as scikit-learn: there it is the reference rounded to float32,
    to an ulp or two; the float64 intercept is held to 1e-9."""
    if dtype == np.float64:
        coef_tol = intercept_tol = dict(rtol=rtol, atol=atol)
    else:
        coef_tol = dict(rtol=2.4e-7, atol=max(atol, 1e-11))
        intercept_tol = dict(rtol=max(rtol, 1e-9), atol=max(atol, 1e-11))
    assert est.coef_.dtype == dtype and np.asarray(est.intercept_).dtype == np.float64
    np.testing.assert_allclose(np.ravel(est.coef_), res.coef.astype(dtype), **coef_tol)
    np.testing.assert_allclose(np.ravel(est.intercept_), [res.intercept], **intercept_tol)

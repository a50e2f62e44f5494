"""Plain-NumPy references of SAG, SAGA and SVRG (dense, one step at a time, no lag).

The algorithms of fastgd/_vr.py and kernels/_nb_vr.py written as directly as
possible: every coordinate is updated at every step.
"""

import math

import numpy as np


def dloss(loss, y, p, param=1.0):
    if loss == "squared_error":
        return p - y
    if loss == "log_loss":
        return -y / (1.0 + np.exp(y * p))
    if loss == "squared_hinge":
        z = param - p * y
        return -2.0 * y * z if z > 0 else 0.0
    if loss == "modified_huber":
        z = p * y
        if z >= 1.0:
            return 0.0
        if z >= -1.0:
            return -2.0 * (1.0 - z) * y
        return -4.0 * y
    if loss == "huber":
        r = p - y
        return r if abs(r) <= param else (param if r > 0 else -param)
    raise ValueError(loss)


def loss_value(loss, y, p, param=1.0):
    if loss == "squared_error":
        return 0.5 * (p - y) ** 2
    if loss == "log_loss":
        return np.logaddexp(0.0, -y * p)
    if loss == "squared_hinge":
        z = param - p * y
        return z * z if z > 0 else 0.0
    if loss == "modified_huber":
        z = p * y
        return 0.0 if z >= 1 else ((1 - z) ** 2 if z >= -1 else -4 * z)
    if loss == "huber":
        r = abs(y - p)
        return 0.5 * r * r if r <= param else param * (r - 0.5 * param)
    raise ValueError(loss)


def objective(X, y, sw, w, b, loss, alpha, l1_ratio, param=1.0):
    p = X @ w + b
    lv = np.array([loss_value(loss, yi, pi, param) for yi, pi in zip(y, p)])
    return (np.mean(sw * lv) + alpha * ((1 - l1_ratio) / 2 * w @ w
                                        + l1_ratio * np.abs(w).sum()))


def soft(x, th):
    return np.sign(x) * np.maximum(np.abs(x) - th, 0.0)


def sag_saga(X, y, sw, orders, eta, alpha, l1_ratio, loss, saga, fit_intercept=True,
             param=1.0, w0=None, b0=0.0, rw=None):
    """SAG (saga=False) / SAGA over the epochs in ``orders``; returns the iterates after
    each epoch as a list of (w, b). ``rw``: SAGA's importance weights r_i = 1/(n p_i)
    of samples drawn with probabilities p (the correction r_i (g_new - g_old) x_i)."""
    n, d = X.shape
    lam1, lam2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    w = np.zeros(d) if w0 is None else np.array(w0, float)
    b = float(b0)
    gmem = np.zeros(n)
    seen = np.zeros(n, bool)
    S = np.zeros(d)
    Sb = 0.0
    out = []
    for order in orders:
        for i in order:
            seen[i] = True
            m = seen.sum()
            g = sw[i] * dloss(loss, y[i], X[i] @ w + b, param)
            corr = g - gmem[i]
            gmem[i] = g
            if saga:
                r = 1.0 if rw is None else rw[i]
                step = r * corr * X[i] + S / m + lam2 * w
                stepb = r * corr + Sb / m
                S += corr * X[i]
                Sb += corr
                w = soft(w - eta * step, eta * lam1)
            else:
                S += corr * X[i]
                Sb += corr
                w = w - eta * (S / m + lam2 * w)
                stepb = Sb / m
            if fit_intercept:
                b -= eta * stepb
        out.append((w.copy(), b))
    return out


def svrg(X, y, sw, orders, eta, alpha, l1_ratio, loss, fit_intercept=True, param=1.0,
         w0=None, b0=0.0, rw=None):
    """Prox-SVRG, option I; each order is one inner loop; returns iterates per loop.
    ``rw``: importance weights r_i = 1/(n q_i) (Xiao & Zhang 2014, section 3)."""
    n, d = X.shape
    lam1, lam2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    w = np.zeros(d) if w0 is None else np.array(w0, float)
    b = float(b0)
    out = []
    for order in orders:
        ws, bs = w.copy(), b
        gs = np.array([sw[i] * dloss(loss, y[i], X[i] @ ws + bs, param) for i in range(n)])
        mu = X.T @ gs / n
        mub = gs.mean()
        for i in order:
            g = sw[i] * dloss(loss, y[i], X[i] @ w + b, param)
            corr = (g - gs[i]) * (1.0 if rw is None else rw[i])
            w = soft(w - eta * (corr * X[i] + mu + lam2 * w), eta * lam1)
            if fit_intercept:
                b -= eta * (corr + mub)
        out.append((w.copy(), b))
    return out


def dloss_kernel(loss, y, p):
    """dL/dp written as the kernels compute it (fastgd/kernels/_nb_sgd.py), clipped to
    ±1e12: the same floating-point operations, for bit-for-bit comparisons."""
    if loss == "log_loss":
        y01 = 0.5 * (y + 1.0)
        if p > -37.0:
            e = math.exp(-p)  # libm's exp, as the kernels (np.exp may differ by an ulp)
            d = ((1.0 - y01) - y01 * e) / (1.0 + e)
        else:
            d = math.exp(p) - y01
    elif loss == "squared_error":
        d = p - y
    else:
        raise ValueError(loss)
    return min(max(d, -1e12), 1e12)


def async_vr(X, y, sw, orders, eta, alpha, l1_ratio, loss, saga, fit_intercept=True,
             w0=None, b0=0.0, p=None):
    """ASAGA (saga=True) / AsySVRG with one thread (kernels/_nb_async_vr.py): sparse steps
    with the dense term reweighted by inv_p_j = n / nnz(column j) (1 for dense X).
    ``p``: the samples were drawn with these probabilities (Lipschitz sampling): the
    correction is weighted by r_i = 1/(n p_i) and inv_p_j = 1 / Σ_{i stores j} p_i.

    Each order is one epoch (SVRG: one inner loop after its snapshot). SAGA starts from
    zero memory and recomputes D from it after every epoch. Returns per epoch
    (w, b, D, D_b, gmem). Written to follow the kernel's operations exactly: ``X`` is a
    dense array (every column a step's support) or CSR (the stored columns).
    """
    n, d = X.shape
    lam1, lam2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    sparse = hasattr(X, "indptr")
    rw = None if p is None else 1.0 / (n * p)
    if sparse and p is not None:
        mass = np.bincount(X.indices, weights=np.repeat(p, np.diff(X.indptr)), minlength=d)
        inv_p = np.where(mass > 0, 1.0 / np.where(mass > 0, mass, 1.0), 0.0)
    if sparse:
        counts = np.bincount(X.indices, minlength=d).astype(float)
        if p is None:
            inv_p = np.where(counts > 0, n / np.maximum(counts, 1.0), 0.0)
        rows = [(X.indices[X.indptr[i]:X.indptr[i + 1]],
                 X.data[X.indptr[i]:X.indptr[i + 1]].astype(np.float64)) for i in range(n)]
    else:
        inv_p = np.ones(d)
        rows = [(np.arange(d), np.asarray(X[i], dtype=np.float64)) for i in range(n)]
    w = np.zeros(d) if w0 is None else np.array(w0, float)
    b = float(b0)
    D, Db, gmem = np.zeros(d), 0.0, np.zeros(n)

    def margin(S, x):
        p = 0.0
        for j, xj in zip(S, x):  # sequential, as the kernel sums
            p += w[j] * xj
        return p + b

    def mean_gradient(snapshot):
        acc, gb = np.zeros(d), 0.0
        for i, (S, x) in enumerate(rows):
            if snapshot:
                gmem[i] = sw[i] * dloss_kernel(loss, y[i], margin(S, x))
            acc[S] += gmem[i] * x
            gb += gmem[i]
        return acc / n, gb / n

    out = []
    for order in orders:
        if not saga:
            D, Db = mean_gradient(True)
        for i in order:
            S, x = rows[i]
            g = dloss_kernel(loss, y[i], margin(S, x)) * sw[i]
            e = g - gmem[i]
            if saga:
                gmem[i] = g
            er = e if rw is None else e * rw[i]
            ip = inv_p[S]
            v = w[S] - eta * (er * x + ip * D[S])
            w[S] = soft(v, eta * lam1 * ip) / (1.0 + eta * lam2 * ip)
            if fit_intercept:
                b -= eta * (er + Db)
            if saga:
                D[S] += e / n * x
                Db += e / n
        if saga:
            D, Db = mean_gradient(False)
        out.append((w.copy(), b, D.copy(), Db, gmem.copy()))
    return out


def softmax_dloss(p, yi):
    """dL/dp of the multinomial cross-entropy log Σ exp(p) - p_yi: softmax(p) - e_yi."""
    e = np.exp(p - p.max())
    g = e / e.sum()
    g[yi] -= 1.0
    return g


def multinomial_objective(X, y, sw, W, b, alpha, l1_ratio):
    """SPEC section 1 with the cross-entropy: mean s_i L_i + alpha R(W) (R over all of W)."""
    P = X @ W.T + b
    lse = np.logaddexp.reduce(P, axis=1)
    loss = lse - P[np.arange(X.shape[0]), y]
    return (np.mean(sw * loss) + alpha * ((1 - l1_ratio) / 2 * np.sum(W * W)
                                          + l1_ratio * np.abs(W).sum()))


def multinomial_sag_saga(X, y, sw, orders, eta, alpha, l1_ratio, saga, n_classes,
                         fit_intercept=True, W0=None, b0=None):
    """Multinomial SAG (saga=False) / SAGA: K memory scalars per sample, every coordinate
    of W (K, d) updated at every step; returns (W, b) after each epoch."""
    n, d = X.shape
    lam1, lam2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    W = np.zeros((n_classes, d)) if W0 is None else np.array(W0, float)
    b = np.zeros(n_classes) if b0 is None else np.array(b0, float)
    gmem = np.zeros((n, n_classes))
    seen = np.zeros(n, bool)
    S = np.zeros((n_classes, d))
    Sb = np.zeros(n_classes)
    out = []
    for order in orders:
        for i in order:
            seen[i] = True
            m = seen.sum()
            g = sw[i] * softmax_dloss(W @ X[i] + b, y[i])
            corr = g - gmem[i]
            gmem[i] = g
            if saga:
                step = np.outer(corr, X[i]) + S / m + lam2 * W
                stepb = corr + Sb / m
                S += np.outer(corr, X[i])
                Sb += corr
                W = soft(W - eta * step, eta * lam1)
            else:
                S += np.outer(corr, X[i])
                Sb += corr
                W = W - eta * (S / m + lam2 * W)
                stepb = Sb / m
            if fit_intercept:
                b = b - eta * stepb
        out.append((W.copy(), b.copy()))
    return out


def multinomial_svrg(X, y, sw, orders, eta, alpha, l1_ratio, n_classes,
                     fit_intercept=True, W0=None, b0=None):
    """Multinomial Prox-SVRG, option I; each order is one inner loop after a snapshot."""
    n, d = X.shape
    lam1, lam2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    W = np.zeros((n_classes, d)) if W0 is None else np.array(W0, float)
    b = np.zeros(n_classes) if b0 is None else np.array(b0, float)
    out = []
    for order in orders:
        G = np.array([sw[i] * softmax_dloss(W @ X[i] + b, y[i]) for i in range(n)])
        mu, mub = G.T @ X / n, G.mean(axis=0)
        for i in order:
            corr = sw[i] * softmax_dloss(W @ X[i] + b, y[i]) - G[i]
            W = soft(W - eta * (np.outer(corr, X[i]) + mu + lam2 * W), eta * lam1)
            if fit_intercept:
                b = b - eta * (corr + mub)
        out.append((W.copy(), b.copy()))
    return out

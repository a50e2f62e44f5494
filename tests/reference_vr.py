"""Plain-NumPy references of SAG, SAGA and SVRG (dense, one step at a time, no lag).

The algorithms of fastgd/_vr.py and kernels/_nb_vr.py written as directly as
possible: every coordinate is updated at every step.
"""

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
             param=1.0, w0=None, b0=0.0):
    """SAG (saga=False) / SAGA over the epochs in ``orders``; returns the iterates after
    each epoch as a list of (w, b)."""
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
                step = corr * X[i] + S / m + lam2 * w
                stepb = corr + Sb / m
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
         w0=None, b0=0.0):
    """Prox-SVRG, option I; each order is one inner loop; returns iterates per loop."""
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
            corr = g - gs[i]
            w = soft(w - eta * (corr * X[i] + mu + lam2 * w), eta * lam1)
            if fit_intercept:
                b -= eta * (corr + mub)
        out.append((w.copy(), b))
    return out

"""solver='sparse_cg' for least squares: SciPy's conjugate gradient (Hestenes & Stiefel
1952) on the normal equations of SPEC section 1's ridge objective,

    F(w, b) = (1/n) Σ s_i (x_i·w + b - y_i)²/2 + α/2 ||w||²,   ∇F = A (w, b) - r,

with A = (1/n) Σ s_i [x_i, 1][x_i, 1]ᵀ + diag(α, ..., α, 0) and r = (1/n) Σ s_i y_i [x_i, 1]
(the intercept's row and column only with ``fit_intercept``). A product A v is the
gradient at v with every target 0: one call of the compiled loss-and-gradient kernel,
one read of X (threaded with ``n_jobs``, deterministic, as ``_lbfgs``). scikit-learn's
``Ridge(solver='sparse_cg')`` runs the same SciPy routine on X and Xᵀ products, two reads
of X per iteration. Stopping is SciPy's: ||r - A v|| <= tol ||r|| or ``max_iter``
iterations (None: SciPy's 10 (d + 1)).
"""

import warnings

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg
from sklearn.exceptions import ConvergenceWarning

from fastgd import _engine
from fastgd._lbfgs import _checked_order, _gradient_kernel


def fit_cg(rows, y, sw, coef, intercept, cfg, *, train_idx, max_iter=None):
    """Solve one least-squares problem (squared_error loss, L2 penalty or none) by
    conjugate gradient from (coef, intercept); returns an ``_engine.Result``
    (``n_iter`` = CG iterations, ``loss_curve`` = [F at the solution])."""
    order = _checked_order(cfg, train_idx)
    n = order.shape[0]
    d = rows.n_features
    k = d + 1 if cfg.fit_intercept else d
    y = np.ascontiguousarray(y, dtype=np.float64)
    sw = np.ascontiguousarray(sw, dtype=np.float64)
    zeros = np.zeros_like(y)
    kernel, scratch, n_threads = _gradient_kernel(rows, cfg.n_jobs, n)
    ip, fp = cfg.records(rows.dense_d, n_threads=n_threads)
    w = np.zeros(d + 1)

    def gradient(v, target):
        """(loss sum, ∇F at v) for the targets ``target``."""
        w[:d] = v[:d]
        w[d] = v[d] if cfg.fit_intercept else 0.0
        loss_sum = kernel(rows.data, rows.indices, rows.indptr, target, sw, order, w, ip,
                          fp, *scratch)
        g = scratch[0] if scratch[0].ndim == 1 else scratch[0][0]
        out = g[:k] / n
        out[:d] += cfg.alpha * v[:d]
        return loss_sum, out

    rhs = -gradient(np.zeros(k), y)[1]
    A = LinearOperator((k, k), matvec=lambda v: gradient(np.ravel(v), zeros)[1],
                       dtype=np.float64)
    n_iter = [0]

    def count(_):
        n_iter[0] += 1

    x0 = np.append(np.asarray(coef, dtype=np.float64), float(intercept))[:k]
    x, info = cg(A, rhs, x0=x0, rtol=cfg.tol, atol=0.0, maxiter=max_iter, callback=count)
    if not np.all(np.isfinite(x)):
        raise _engine._divergence(n_iter[0])
    if info > 0:
        warnings.warn(f"sparse_cg did not converge after {n_iter[0]} iterations.",
                      ConvergenceWarning)  # scikit-learn's words
    loss_sum = gradient(x, y)[0]
    f = loss_sum / n + 0.5 * cfg.alpha * float(x[:d] @ x[:d])
    b = float(x[d]) if cfg.fit_intercept else 0.0
    return _engine.Result(x[:d].copy(), b, n_iter[0], 1.0 + n_iter[0], [f])

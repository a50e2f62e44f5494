"""solver='sparse_cg' for least squares: SciPy's preconditioned conjugate gradient
(Hestenes & Stiefel 1952) on the normal equations of SPEC section 1's ridge objective,

    F(w) = (1/n) Σ s_i (x_i·w - y_i)²/2 + α/2 ||w||²,   ∇F = A w - r,

with A = (1/n) Σ s_i x_i x_iᵀ + α I and r = (1/n) Σ s_i y_i x_i, on X centred (densely
by the caller, or implicitly here) when there is an intercept. A product A v is the
gradient at v with every target 0: one call of the compiled loss-and-gradient kernel,
one read of X (threaded with ``n_jobs``, deterministic, as ``_lbfgs``). scikit-learn's
``Ridge(solver='sparse_cg')`` runs the same SciPy routine on X and Xᵀ products, two reads
of X per iteration, and no preconditioner; fastgd's is Jacobi's with a penalty, A's
diagonal (the columns' weighted variances plus α), which costs one more read of X and
makes CG indifferent to the scale of the columns. Stopping is SciPy's: ||r - A w|| <= tol ||r||
or ``max_iter`` iterations (None: SciPy's 10 d).
"""

import warnings

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg
from sklearn.exceptions import ConvergenceWarning

from fastgd import _engine
from fastgd._lbfgs import _checked_order, _gradient_kernel


def weighted_column_squares(rows, s, chunk=1 << 20):
    """Σ_i s_i x_ij² for every column j, read in blocks of about ``chunk`` values (the
    temporaries stay that small, whatever the size of X)."""
    d, n = rows.n_features, rows.n_samples
    out = np.zeros(d)
    if rows.dense_d:
        X = rows.data.reshape(n, d)
        step = max(1, chunk // max(d, 1))
        for lo in range(0, n, step):
            block = np.asarray(X[lo:lo + step], dtype=np.float64)
            out += s[lo:lo + step] @ (block * block)
        return out
    indptr = rows.indptr
    lo = 0
    while lo < n:
        hi = int(np.searchsorted(indptr, indptr[lo] + chunk, side="right")) - 1
        hi = min(max(hi, lo + 1), n)
        a, b = int(indptr[lo]), int(indptr[hi])
        v = np.asarray(rows.data[a:b], dtype=np.float64)
        per_value = np.repeat(s[lo:hi], np.diff(indptr[lo:hi + 1]))
        out += np.bincount(rows.indices[a:b], weights=per_value * v * v, minlength=d)
        lo = hi
    return out


def fit_cg(rows, y, sw, coef, cfg, *, train_idx, max_iter=None, x_mean=None,
           shared=None):
    """Solve one least-squares problem (squared_error loss, L2 penalty or none) for w by
    conjugate gradient from ``coef``; returns an ``_engine.Result`` (intercept 0,
    ``n_iter`` = CG iterations, ``loss_curve`` = [F at the solution]).

    With ``x_mean`` (the weighted column means, and ``y`` centred by the caller) X is
    centred implicitly, as scikit-learn's sparse_cg does: the product by the centred X,
    (X - 1 x̄ᵀ) v, is the kernel's prediction with the intercept -x̄·v, and Xcᵀ S p =
    Xᵀ S p - x̄ Σ s_i p_i takes the kernel's intercept gradient, so it is still one read
    of sparse X, and the intercept is then ȳ - x̄·w exactly. (An uncentred intercept
    column would slow CG down by the conditioning it adds.)

    ``shared``: a dict kept by the caller across the targets of one X and one ``sw``;
    the preconditioner's column sums are read from X once and kept there."""
    order = _checked_order(cfg, train_idx)
    n = order.shape[0]
    d = rows.n_features
    y = np.ascontiguousarray(y, dtype=np.float64)
    sw = np.ascontiguousarray(sw, dtype=np.float64)
    zeros = np.zeros_like(y)
    kernel, scratch, n_threads = _gradient_kernel(rows, cfg.n_jobs, n)
    ip, fp = cfg.records(rows.dense_d, n_threads=n_threads)
    w = np.zeros(d + 1)

    def gradient(v, target):
        """(loss sum, ∇F at v) for the targets ``target`` (X centred by x_mean)."""
        w[:d] = v
        w[d] = 0.0 if x_mean is None else -float(x_mean @ v)
        loss_sum = kernel(rows.data, rows.indices, rows.indptr, target, sw, order, w, ip,
                          fp, *scratch)
        g = scratch[0] if scratch[0].ndim == 1 else scratch[0][0]
        out = g[:d] / n if x_mean is None else (g[:d] - g[d] * x_mean) / n
        out += cfg.alpha * v
        return loss_sum, out

    rhs = -gradient(np.zeros(d), y)[1]
    A = LinearOperator((d, d), matvec=lambda v: gradient(np.ravel(v), zeros)[1],
                       dtype=np.float64)
    n_iter = [0]

    def count(_):
        n_iter[0] += 1

    M = None
    if cfg.alpha > 0.0:
        # Jacobi's preconditioner, A's diagonal (1/n) Σ s_i (x_ij - x̄_j)² + α: one read
        # of X. Not without a penalty: A may then be singular, and CG from 0 reaches the
        # minimum-norm solution only unpreconditioned (LinearRegression promises it).
        shared = {} if shared is None else shared
        if "column_squares" not in shared:
            s = np.zeros(rows.n_samples)
            s[order] = sw[order]
            shared["column_squares"] = weighted_column_squares(rows, s)
        diag = shared["column_squares"] / n + cfg.alpha
        if x_mean is not None:
            diag -= x_mean * x_mean
        diag = np.maximum(diag, cfg.alpha)  # round-off of the centring
        M = LinearOperator((d, d), matvec=lambda r: np.ravel(r) / diag, dtype=np.float64)
    x0 = np.asarray(coef, dtype=np.float64)
    x, info = cg(A, rhs, x0=x0, rtol=cfg.tol, atol=0.0, maxiter=max_iter, M=M,
                 callback=count)
    if not np.all(np.isfinite(x)):
        raise _engine._divergence(n_iter[0])
    if info > 0:
        warnings.warn(f"sparse_cg did not converge after {n_iter[0]} iterations.",
                      ConvergenceWarning)  # scikit-learn's words
    f = gradient(x, y)[0] / n + 0.5 * cfg.alpha * float(x @ x)
    return _engine.Result(x.copy(), 0.0, n_iter[0], 1.0 + n_iter[0], [f])

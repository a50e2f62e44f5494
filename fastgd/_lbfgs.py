"""solver='lbfgs': SciPy's L-BFGS-B on fastgd's compiled, fused loss-and-gradient pass.

The objective is SPEC section 1 with an L2 penalty only (L-BFGS needs a smooth F):

    F(w, b) = (1/n) Σ s_i L(y_i, x_i·w + b) + α/2 ||w||²,
    ∇_w F = (1/n) Σ s_i L'(y_i, p_i) x_i + α w,   ∂_b F = (1/n) Σ s_i L'(y_i, p_i).

One call of the kernel ``loss_gradient`` (``sync_loss_gradient`` with ``n_jobs > 1``:
the rows split between the threads, their sums reduced in thread order, so the result
does not depend on timing) reads X once and returns Σ s_i L_i and the gradient sums.
SciPy's L-BFGS-B (Byrd, Lu, Nocedal, Zhu 1995) runs with scikit-learn's options for its
``LogisticRegression(solver='lbfgs')``: ``maxiter=max_iter``, ``gtol=tol``,
``ftol=64 eps``, ``maxls=50``; an iteration is one L-BFGS step (``n_iter_``), and
``loss_curve_`` holds F after each.
"""

import functools

import numpy as np
from scipy.optimize import minimize

from fastgd import _engine
from fastgd._rules import LOSSES, PAD, SYNC_MIN_BATCH


def _gradient_kernel(rows, n_jobs, n):
    """(kernel, scratch, threads): the threaded pass when there are threads and rows
    enough to share."""
    d = rows.n_features
    par = _engine._parallel_kernels(rows, n_jobs) if n >= SYNC_MIN_BATCH else None
    if par is None:
        return rows.kern.loss_gradient, (np.zeros(d + 1),), 1
    return par.sync_loss_gradient, (np.zeros((n_jobs, d + 1 + PAD)),
                                    np.zeros((n_jobs, PAD))), n_jobs


def _checked_order(cfg, train_idx):
    """The training rows (int64), after the errors of what L-BFGS cannot solve."""
    if cfg.l1_ratio > 0.0 and cfg.alpha > 0.0:
        raise ValueError("solver='lbfgs' supports penalty='l2' or None (L-BFGS needs a "
                         "smooth objective); for L1 or elasticnet use solver='saga'.")
    order = np.asarray(train_idx, dtype=np.int64)
    if order.shape[0] == 0:
        raise ValueError("No training samples.")
    return order


def fit_lbfgs(rows, y, sw, coef, intercept, cfg, *, t, train_idx, callback=None,
              stop=None):
    """Fit one binary (or regression) problem with L-BFGS-B; returns an
    ``_engine.Result`` (``n_iter`` = L-BFGS iterations)."""
    loss_name = next(name for name, spec in LOSSES.items() if spec.id == cfg.loss)
    if not LOSSES[loss_name].lipschitz:
        raise ValueError(f"solver='lbfgs' needs a smooth loss; got loss={loss_name!r}.")
    order = _checked_order(cfg, train_idx)
    n = order.shape[0]
    d = rows.n_features
    a2 = cfg.alpha
    y = np.ascontiguousarray(y, dtype=np.float64)
    sw = np.ascontiguousarray(sw, dtype=np.float64)
    kernel, scratch, n_threads = _gradient_kernel(rows, cfg.n_jobs, n)
    ip, fp = cfg.records(rows.dense_d, n_threads=n_threads)
    w = np.zeros(d + 1)
    grad = np.empty(d + 1)
    # F(0, 0), computed only if the final F is absurd (check_objective)
    reference = functools.partial(_engine.zero_model_objective, y, sw, order, cfg,
                                  rows.kern)

    def objective(x):
        w[:d] = x[:d]
        w[d] = x[d] if cfg.fit_intercept else 0.0
        loss_sum = kernel(rows.data, rows.indices, rows.indptr, y, sw, order, w, ip, fp,
                          *scratch)
        g = scratch[0] if scratch[0].ndim == 1 else scratch[0][0]
        grad[:d] = g[:d] / n + a2 * w[:d]
        grad[d] = g[d] / n if cfg.fit_intercept else 0.0
        return loss_sum / n + 0.5 * a2 * float(w[:d] @ w[:d]), grad.copy()

    x0 = np.append(np.asarray(coef, dtype=np.float64), float(intercept))
    res, loss_curve = _minimize(objective, x0, cfg, reference, callback, stop,
                                lambda x: (x[:d], x[d] if cfg.fit_intercept else 0.0))
    intercept_out = float(res.x[d]) if cfg.fit_intercept else 0.0
    return _engine.Result(res.x[:d].copy(), intercept_out, int(res.nit), t + res.nit,
                          loss_curve, state=_status(res))


def _minimize(objective, x0, cfg, reference, callback, stop, model):
    """SciPy's L-BFGS-B on ``objective`` (F and its gradient at x) from x0, with
    scikit-learn's options; returns (OptimizeResult, loss_curve). ``model(x)`` gives the
    (coef, intercept) the callback sees; a non-finite F is the divergence error."""
    loss_curve = []

    def after_iteration(intermediate_result):
        f = float(intermediate_result.fun)
        loss_curve.append(f)
        epoch = len(loss_curve)
        if not np.isfinite(f):
            raise _engine._divergence(epoch)
        if callback is not None:
            callback(epoch, *model(intermediate_result.x), f)
        if cfg.verbose:
            print(f"-- Iteration {epoch} (lbfgs): F {f:.6g}")
        if stop is not None and stop.is_set():
            raise _engine.Interrupted()

    res = minimize(objective, x0, jac=True, method="L-BFGS-B", callback=after_iteration,
                   options=dict(maxiter=cfg.max_iter, maxls=50,
                                gtol=max(cfg.tol, 0.0) if cfg.tol > -np.inf else 0.0,
                                ftol=64 * np.finfo(float).eps))
    if not np.all(np.isfinite(res.x)):
        raise _engine._divergence(len(loss_curve))
    _engine.check_objective(max(len(loss_curve), 1), float(res.fun), reference)
    return res, loss_curve


def fit_lbfgs_multinomial(rows, y, sw, coef, intercept, cfg, *, train_idx, callback=None,
                          stop=None):
    """The K-class softmax problem of ``fit_multinomial`` (``y`` int64 class indices,
    ``coef`` (K, d), ``intercept`` (K,), L2 penalty or none) by L-BFGS-B on the compiled
    full gradient ``multinomial_snapshot`` (serial):

        F(W) = (1/n) Σ s_i L_i(W) + α/2 ||W[:, :d]||²,  ∇F = μ(W) + α [W[:, :d], 0].

    Returns an ``_engine.Result`` (coef (K, d), intercepts centred to mean 0)."""
    order = _checked_order(cfg, train_idx)
    n = order.shape[0]
    coef = np.asarray(coef, dtype=np.float64)
    K, d = coef.shape
    a2 = cfg.alpha
    y = np.ascontiguousarray(y, dtype=np.int64)
    sw = np.ascontiguousarray(sw, dtype=np.float64)
    kern = rows.backend.multinomial
    W = np.zeros((K, d + 1))
    mu = np.zeros((K, d + 1))
    gsnap = np.zeros((rows.n_samples, K))
    buf = np.zeros((2, K))
    reference = float(sw[order].sum()) * np.log(K) / n

    def objective(x):
        W[:] = x.reshape(K, d + 1)
        if not cfg.fit_intercept:
            W[:, d] = 0.0
        total = kern.multinomial_snapshot(rows.data, rows.indices, rows.indptr,
                                          rows.dense_d, y, sw, order, W, mu, gsnap, buf)
        grad = mu.copy()
        grad[:, :d] += a2 * W[:, :d]
        if not cfg.fit_intercept:
            grad[:, d] = 0.0
        coefs = W[:, :d]
        return total / n + 0.5 * a2 * float(np.vdot(coefs, coefs)), grad.ravel()

    def model(x):
        w = x.reshape(K, d + 1)
        return w[:, :d], (w[:, d] if cfg.fit_intercept else np.zeros(K))

    x0 = np.hstack([coef, np.asarray(intercept, dtype=np.float64)[:, None]]).ravel()
    res, loss_curve = _minimize(objective, x0, cfg, reference, callback, stop, model)
    w = res.x.reshape(K, d + 1)
    b = w[:, d] - w[:, d].mean() if cfg.fit_intercept else np.zeros(K)
    return _engine.Result(w[:, :d].copy(), b, int(res.nit), 1.0 + res.nit, loss_curve,
                          state=_status(res))


def _status(res):
    """What ``warn_if_not_converged`` needs of SciPy's result."""
    return {"status": int(res.status), "message": str(res.message), "nit": int(res.nit)}


def warn_if_not_converged(state, max_iter):
    """scikit-learn's ConvergenceWarning for its lbfgs (the same words)."""
    if state["status"] == 0:
        return
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.warn(
        f"lbfgs failed to converge after {state['nit']} iteration(s) (status="
        f"{state['status']}):\n{state['message']}\n\nIncrease the number of iterations "
        f"to improve the convergence (max_iter={max_iter}).\nYou might also want to "
        "scale the data as shown in:\n    https://scikit-learn.org/stable/modules/"
        "preprocessing.html", ConvergenceWarning, stacklevel=3)

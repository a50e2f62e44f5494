"""solver='newton-cholesky': Newton's method with the Hessian assembled and factored.

The objective is the one ``fastgd._lbfgs`` minimises (L2 penalty or none), of the binary
logistic loss or the multinomial one over K classes (parameters θ = [W, b], (K, d + 1)):

    F(θ) = (1/n) Σ s_i L_i + α/2 ||W||²,   ∇F = (1/n) Σ s_i x̃_i ⊗ (p_i - y_i) + α [W, 0],
    ∇²F = (1/n) Σ s_i (diag(p_i) - p_i p_iᵀ) ⊗ x̃_i x̃_iᵀ + α [I, 0],   x̃_i = (x_i, 1)

(binary: p_i = σ(x̃_i·θ), the one block s_i p_i (1 - p_i)). One iteration is one
compiled loss-and-gradient pass and the Hessian: binary, one more pass computing the
curvature and the Gram sum together (``logistic_hessian_sum``, its rows split between
``n_jobs`` threads); multinomial, the margins and ``hessian_sum`` per class pair
(Σ_i nnz_i² / 2 products per pair: for few features, as in scikit-learn, where it "is a
good choice for n_samples >> n_features"). The Newton step
solves ∇²F Δ = -∇F by Cholesky (SciPy's LAPACK), then scikit-learn's backtracking line
search (Armijo, σ = 2⁻¹¹, halving). The softmax's loss does not change when the same
vector is added to every class: that direction gets the curvature 1 (the projection onto
it is added to ∇²F), so the step never moves along it and the matrix stays positive
definite, with an unpenalised intercept and without a penalty.

It stops as scikit-learn's NewtonCholeskySolver: max |∇F| <= tol and then half the
Newton decrement, Δᵀ ∇²F Δ / 2 <= tol; ``max_iter`` counts iterations (``n_iter_``).

solver='subsampled-newton' (fastgd's; Byrd, Chin, Neveitt & Nocedal, SIAM J. Optim.
2011; Roosta-Khorasani & Mahoney, Math. Program. 2019) is the same method with the exact
F and ∇F and the Hessian of the loss estimated from m rows drawn uniformly without
replacement anew at each iteration, (1/m) Σ_{i in S} s_i ..., unbiased; plus the exact
penalty term, so the matrix stays positive definite and the step a descent direction,
which the line search makes globally convergent. Its rate is linear (near the optimum
the error shrinks by a factor that falls as m grows) where Newton's is quadratic, and an
iteration's Hessian costs m/n of Newton's. m = HESSIAN_ROWS_PER_COEF (d + 1), at least
HESSIAN_ROWS_MIN; with m >= n it is Newton-Cholesky, iterate for iterate.
"""

import os
import warnings

import numpy as np
import scipy.linalg
from scipy.special import softmax

from fastgd import _engine
from fastgd._lbfgs import _checked_order
from fastgd._rules import SYNC_MIN_BATCH

ARMIJO = 2.0 ** -11  # scikit-learn's sufficient decrease
MAX_HALVINGS = 40
#: solver='subsampled-newton': the Hessian of this many rows per coefficient, at least
#: HESSIAN_ROWS_MIN (measured on the shared sets, benchmarks/bench_target.py,
#: 2026-12-07: with 100, ijcnn1, a9a and covtype take as many iterations to 1e-4 as
#: with the whole Hessian, and each costs a third to a half)
HESSIAN_ROWS_PER_COEF = 100
HESSIAN_ROWS_MIN = 1000
#: the threads' private Hessians (n_jobs > 1) take at most this much memory together
THREAD_HESSIANS_MAX_BYTES = 256 << 20


class _Binary:
    """F, ∇F and ∇²F of the binary problem (y as ±1) over the compiled kernels: the
    Hessian's curvature is computed in its own pass (``logistic_hessian_sum``), split
    between ``n_jobs`` threads, each summing into its own matrix, when that pays."""

    def __init__(self, rows, y, sw, order, cfg, sample=None):
        self.rows, self.y, self.sw, self.order = rows, y, sw, order
        d = rows.n_features
        self.shape = (1, d + 1)
        self.gbuf = np.zeros(d + 1)
        self.ip, self.fp = cfg.records(rows.dense_d)
        self.sample = sample  # (m, rng): the Hessian of m rows drawn anew each time
        m = order.shape[0] if sample is None else sample[0]
        threads = min(cfg.n_jobs, m // SYNC_MIN_BATCH)
        self.par = _engine._parallel_kernels(rows, threads) if \
            threads * (d + 1) ** 2 * 8 <= THREAD_HESSIANS_MAX_BYTES else None
        self.Hk = None if self.par is None else np.empty((threads, d + 1, d + 1))

    def value_grad(self, theta):
        r, n = self.rows, self.order.shape[0]
        total = r.kern.loss_gradient(r.data, r.indices, r.indptr, self.y, self.sw,
                                     self.order, theta[0], self.ip, self.fp, self.gbuf)
        return total / n, self.gbuf[None, :] / n

    def hessian(self, theta, H):
        r, w, order = self.rows, np.ascontiguousarray(theta[0]), _hessian_order(self)
        if self.par is None:
            H[:] = 0.0
            r.kern.logistic_hessian_sum(r.data, r.indices, r.indptr, r.dense_d, order,
                                        self.sw, w, H)
        else:
            self.Hk[:] = 0.0
            self.par.sync_logistic_hessian_sum(r.data, r.indices, r.indptr, r.dense_d,
                                               order, self.sw, w, self.Hk)
            H[:] = self.Hk[0]
        _symmetrised(H)
        H /= order.shape[0]


class _Multinomial:
    """F, ∇F and ∇²F of the K-class softmax problem (y as class indices)."""

    def __init__(self, rows, y, sw, order, K, sample=None):
        self.rows, self.y, self.sw, self.order = rows, y, sw, order
        self.sample = sample
        d = rows.n_features
        self.shape = (K, d + 1)
        self.mu = np.zeros(self.shape)
        self.gsnap = np.zeros((rows.n_samples, K))
        self.buf = np.zeros((2, K))

    def value_grad(self, theta):
        r, n = self.rows, self.order.shape[0]
        total = r.backend.multinomial.multinomial_snapshot(
            r.data, r.indices, r.indptr, r.dense_d, self.y, self.sw, self.order, theta,
            self.mu, self.gsnap, self.buf)
        return total / n, self.mu  # mu is already the mean

    def hessian(self, theta, H):
        r, (K, d1) = self.rows, self.shape
        Z = np.empty((r.n_samples, K))
        for k in range(K):
            r.kern.margins(r.data, r.indices, r.indptr, r.dense_d, r.n_samples,
                           theta[k, :-1], float(theta[k, -1]), Z[:, k])
        P = softmax(Z, axis=1)
        block = np.empty((d1, d1))
        order = _hessian_order(self)
        for k in range(K):
            for m in range(k, K):
                h = self.sw * P[:, k] * ((k == m) - P[:, m])
                hessian_block(r, order, h, block)
                H[k * d1:(k + 1) * d1, m * d1:(m + 1) * d1] = block
                H[m * d1:(m + 1) * d1, k * d1:(k + 1) * d1] = block.T
        H /= order.shape[0]


def hessian_rows(n, d):
    """m, the rows of solver='subsampled-newton''s Hessian for n training rows and d
    features: max(HESSIAN_ROWS_PER_COEF (d + 1), HESSIAN_ROWS_MIN), at most n (all n:
    Newton-Cholesky itself)."""
    return min(n, max(HESSIAN_ROWS_PER_COEF * (d + 1), HESSIAN_ROWS_MIN))


def hessian_sample(n, d, rng):
    """(m, Generator): ``hessian_rows`` and the generator of their draws, seeded from
    ``rng`` (a RandomState)."""
    return hessian_rows(n, d), np.random.default_rng(rng.randint(np.iinfo(np.int32).max))


def _hessian_order(problem):
    """The rows whose Hessian this iteration assembles: all of ``problem.order``, or m of
    them drawn uniformly without replacement (``problem.sample``), in row order."""
    if problem.sample is None or problem.sample[0] >= problem.order.shape[0]:
        return problem.order
    m, rng = problem.sample
    return np.sort(rng.choice(problem.order, m, replace=False))


def check_hessian_fits(dim):
    """A clear error, before anything is allocated, when the dim x dim Hessian would
    take more than half the memory available now (Linux; elsewhere nothing is checked)."""
    need = 8.0 * dim * dim
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not Linux
        return
    if need > 0.5 * available:
        raise ValueError(
            f"solver='newton-cholesky' needs the {dim:,} x {dim:,} Hessian "
            f"({need / 2**30:.1f} GiB; {available / 2**30:.1f} GiB of memory available): "
            "it is for many more samples than features x classes. Use solver='lbfgs' "
            "or 'saga' (or 'auto').")


def hessian_block(rows, order, h, out):
    """out = Σ_{i in order} h_i x̃_i x̃_iᵀ, symmetric (the kernel sums one triangle)."""
    out[:] = 0.0
    rows.kern.hessian_sum(rows.data, rows.indices, rows.indptr, rows.dense_d, order,
                          np.ascontiguousarray(h), out)
    _symmetrised(out)


def _symmetrised(H):
    """H + Hᵀ - diag(H) in place: the full matrix from the triangle the kernels sum."""
    diagonal = H.diagonal().copy()
    H += H.T
    H[np.diag_indices_from(H)] = diagonal


def fit_newton_cholesky(rows, y, sw, coef, intercept, cfg, *, train_idx, K=2,
                        hessian_sample=None):
    """Fit the binary (K = 2: ``y`` ±1, ``coef`` (d,)) or multinomial (``y`` class
    indices, ``coef`` (K, d)) logistic problem; returns an ``_engine.Result`` and
    ``state`` {'converged', 'nit'} for ``warn_if_not_converged``."""
    order = _checked_order(cfg, train_idx)
    n = order.shape[0]
    d = rows.n_features
    sw = np.ascontiguousarray(sw, dtype=np.float64)
    if K == 2:
        problem = _Binary(rows, np.ascontiguousarray(y, dtype=np.float64), sw, order, cfg,
                          hessian_sample)
    else:
        problem = _Multinomial(rows, np.ascontiguousarray(y, dtype=np.int64), sw, order, K,
                               hessian_sample)
    rows_, d1 = problem.shape
    theta = np.zeros(problem.shape)
    theta[:, :d] = np.reshape(coef, (rows_, d))
    theta[:, d] = np.reshape(intercept, rows_) if cfg.fit_intercept else 0.0

    def reference():  # F(0, 0), computed only if the final F is absurd (check_objective)
        if K == 2:
            return _engine.zero_model_objective(y, sw, order, cfg, rows.kern)
        return float(sw[order].sum()) * np.log(K) / n

    theta, it, loss_curve, converged = newton(problem, theta, cfg, reference)
    coef_out, intercept_out = _model(theta, K, d)
    if K > 2 and cfg.fit_intercept:
        intercept_out = intercept_out - intercept_out.mean()
    return _engine.Result(coef_out, intercept_out, it, 1.0 + it, loss_curve,
                          state={"converged": bool(converged), "nit": it})


def newton(problem, theta, cfg, reference):
    """Newton's method from ``theta`` on ``problem`` (``shape`` (K', d + 1);
    ``value_grad(theta)``: the mean loss and its gradient; ``hessian(theta, H)``: the
    mean loss's Hessian into H), with the L2 penalty of ``cfg``, scikit-learn's line
    search and stopping rule. Returns (theta, iterations, loss_curve, converged)."""
    rows_, d1 = problem.shape
    d = d1 - 1
    a2 = cfg.alpha
    mask = np.ones(d1)  # the coordinates that move: no intercept without fit_intercept
    mask[d] = float(cfg.fit_intercept)

    def F_grad(theta):
        loss, g = problem.value_grad(theta)
        W = theta[:, :d]
        g = g.copy()
        g[:, :d] += a2 * W
        g *= mask
        return loss + 0.5 * a2 * float(np.vdot(W, W)), g

    dim = rows_ * d1
    check_hessian_fits(dim)
    H = np.empty((dim, dim))
    fixed = np.flatnonzero(np.tile(mask == 0.0, rows_))
    # the directions F does not see: the same vector added to every class (softmax)
    same = np.kron(np.ones((rows_, rows_)) / rows_, np.eye(d1)) if rows_ > 1 else None
    F, g = F_grad(theta)
    loss_curve, converged, it = [], False, 0
    for it in range(1, cfg.max_iter + 1):
        problem.hessian(theta, H)
        H[np.diag_indices(dim)] += a2 * np.tile(np.r_[np.ones(d), 0.0], rows_)
        if same is not None:
            H += same
        H[fixed, :] = 0.0
        H[:, fixed] = 0.0
        H[fixed, fixed] = 1.0
        try:
            step = -scipy.linalg.cho_solve(scipy.linalg.cho_factor(H, check_finite=False),
                                           g.ravel(), check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            step = -scipy.linalg.lstsq(H, g.ravel(), check_finite=False)[0]
        step = step.reshape(problem.shape)
        if np.abs(g).max() <= cfg.tol and 0.5 * float(step.ravel() @ (H @ step.ravel())) \
                <= cfg.tol:
            converged, it = True, it - 1
            break
        slope = float(np.vdot(g, step))
        t = 1.0
        for _ in range(MAX_HALVINGS):
            trial = theta + t * step
            F_new, g_new = F_grad(trial)
            if F_new <= F + ARMIJO * t * slope or (
                    abs(F_new - F) <= 16 * np.finfo(float).eps * abs(F)
                    and np.abs(g_new).sum() < np.abs(g).sum()):
                break
            t *= 0.5
        else:  # no decrease left at round-off: as good as Newton gets
            converged = np.abs(g).max() <= max(cfg.tol, 1e-12)
            it -= 1
            break
        theta, F, g = trial, F_new, g_new
        if not np.isfinite(F):
            raise _engine._divergence(it)
        loss_curve.append(F)
        if cfg.verbose:
            print(f"-- Iteration {it} (newton-cholesky): F {F:.6g}, max |grad| "
                  f"{np.abs(g).max():.3g}")
    _engine.check_objective(max(it, 1), F, reference)
    return theta, it, loss_curve, converged


def _model(theta, K, d):
    if K == 2:
        return theta[0, :d].copy(), float(theta[0, d])
    return theta[:, :d].copy(), theta[:, d].copy()


def warn_if_not_converged(state, max_iter):
    """scikit-learn's ConvergenceWarning for its newton-cholesky."""
    if state is None or state["converged"]:  # None: solved without iterating
        return
    from sklearn.exceptions import ConvergenceWarning

    warnings.warn(f"Newton solver did not converge after {state['nit']} iterations "
                  f"(max_iter={max_iter}). Increase the number of iterations.",
                  ConvergenceWarning, stacklevel=3)

"""SAG, SAGA and SVRG (SPEC section 4): against a plain-NumPy reference step for step,
CSR against dense, against L-BFGS-B optima (smooth L2) and scikit-learn (L1/elastic-net),
on synthetic problems and on the real sets of ../shared/data (skipped when absent)."""

import importlib.util
import pathlib
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize

import fastgd
from fastgd import _engine
from fastgd._rules import LOSSES, Penalty, loss_param
from fastgd._vr import auto_step, fit_vr

_here = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("reference_vr", _here / "reference_vr.py")
R = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(R)

SOLVERS = ("sag", "saga", "svrg")
CLS_LOSSES = ("log_loss", "modified_huber", "squared_hinge")
REG_LOSSES = ("squared_error", "huber")


def make_cfg(solver, loss="log_loss", alpha=1e-2, l1_ratio=0.0, fit_intercept=True,
             eta0=None, max_iter=5, tol=None, shuffle=False, epsilon=0.1):
    penalty = Penalty.L2 if l1_ratio == 0 else (Penalty.L1 if l1_ratio == 1
                                                 else Penalty.ELASTICNET)
    return _engine.Config(
        rule=0, loss=int(LOSSES[loss].id), param=loss_param(loss, epsilon),
        penalty=int(penalty), alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
        schedule=1, eta0=0.0 if eta0 is None else eta0, power_t=0.5, hp=np.zeros(5),
        batch_size=1, lazy=True, average=0, max_iter=max_iter,
        tol=-np.inf if tol is None else tol, n_iter_no_change=5, early_stopping=False,
        shuffle=shuffle, solver=solver, eta0_auto=eta0 is None)


def run(X, y, cfg, sw=None, seed=0, coef=None, intercept=0.0):
    n, d = X.shape
    sw = np.ones(n) if sw is None else sw
    coef = np.zeros(d) if coef is None else coef
    return fit_vr(_engine.Rows.of(X), y, sw, coef, intercept, cfg, t=1.0,
                  rng=np.random.RandomState(seed), train_idx=np.arange(n, dtype=np.int64))


def orders_of(solver, n, epochs, shuffle, seed=0):
    """The sample orders that fit_vr draws (Python owns randomness)."""
    rng = np.random.RandomState(seed)
    out = []
    idx = np.arange(n)
    for _ in range(epochs):
        if solver == "svrg":
            out.append(np.r_[rng.permutation(idx), rng.permutation(idx)] if shuffle
                       else np.r_[idx, idx])
        elif not shuffle:
            out.append(idx)
        elif solver == "sag":
            out.append(rng.randint(0, n, size=n))
        else:
            out.append(rng.permutation(idx))
    return out


def reference(X, y, sw, solver, cfg, eta, epochs, loss, shuffle, seed=0, w0=None, b0=0.0):
    orders = orders_of(solver, X.shape[0], epochs, shuffle, seed)
    kw = dict(fit_intercept=cfg.fit_intercept, param=cfg.param, w0=w0, b0=b0)
    if solver == "svrg":
        return R.svrg(X, y, sw, orders, eta, cfg.alpha, cfg.l1_ratio, loss, **kw)
    return R.sag_saga(X, y, sw, orders, eta, cfg.alpha, cfg.l1_ratio, loss,
                      solver == "saga", **kw)


def sparse_problem(n=40, d=12, density=0.3, seed=0, loss="log_loss", dtype=np.float64):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d) * (rng.rand(n, d) < density)
    X[:, 0] *= 3.0
    w = rng.randn(d)
    p = X @ w + 0.5 * rng.randn(n)
    y = np.where(p > 0, 1.0, -1.0) if LOSSES[loss].classification else p + 1.0
    return X.astype(dtype), y


# --------------------------------------------------------------- step for step
CASES = ([(s, l, 0.0) for s in SOLVERS for l in CLS_LOSSES + REG_LOSSES]
         + [(s, "log_loss", r) for s in ("saga", "svrg") for r in (1.0, 0.5)]
         + [(s, "squared_error", r) for s in ("saga", "svrg") for r in (1.0, 0.5)])


@pytest.mark.parametrize("solver,loss,l1_ratio", CASES)
@pytest.mark.parametrize("shuffle", [False, True])
def test_matches_numpy_reference(solver, loss, l1_ratio, shuffle):
    X, y = sparse_problem(loss=loss)
    n = X.shape[0]
    sw = np.random.RandomState(1).uniform(0.5, 2.0, n)
    # alpha large enough that L1 zeroes some coefficients and they cross zero
    cfg = make_cfg(solver, loss, alpha=0.05, l1_ratio=l1_ratio, max_iter=4, shuffle=shuffle)
    r = run(X, y, cfg, sw=sw)
    eta = r.state["eta"]
    assert eta == pytest.approx(auto_step(_engine.Rows.of(X), sw, np.arange(n), cfg))
    ref = reference(X, y, sw, solver, cfg, eta, 4, loss, shuffle)
    np.testing.assert_allclose(r.coef, ref[-1][0], rtol=1e-10, atol=1e-12)
    assert r.intercept == pytest.approx(ref[-1][1], rel=1e-10, abs=1e-12)
    F = [R.objective(X, y, sw, w, b, loss, cfg.alpha, l1_ratio, cfg.param) for w, b in ref]
    np.testing.assert_allclose(r.loss_curve, F, rtol=1e-10)
    steps = 2 * n if solver == "svrg" else n
    assert r.n_iter == 4 and r.t == 1 + 4 * steps


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_no_intercept_and_rescale(solver):
    """User eta0, warm start, fit_intercept=False and eta*alpha large enough that the
    scale factor is folded back (s < 1e-9) many times within an epoch."""
    X, y = sparse_problem(n=60, loss="squared_error")
    rng = np.random.RandomState(3)
    w0 = rng.randn(X.shape[1])
    l1 = 0.0 if solver == "sag" else 0.3
    cfg = make_cfg(solver, "squared_error", alpha=3.0, l1_ratio=l1, fit_intercept=False,
                   eta0=0.1, max_iter=3, shuffle=True)
    sw = np.ones(X.shape[0])
    r = run(X, y, cfg, coef=w0, intercept=0.7, seed=5)
    ref = reference(X, y, sw, solver, cfg, 0.1, 3, "squared_error", True, seed=5, w0=w0,
                    b0=0.7)
    np.testing.assert_allclose(r.coef, ref[-1][0], rtol=1e-9, atol=1e-12)
    assert r.intercept == 0.7


# ------------------------------------------------------------------ CSR == dense
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("l1_ratio", [0.0, 1.0, 0.5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csr_equals_dense(solver, l1_ratio, dtype):
    if solver == "sag" and l1_ratio > 0:
        pytest.skip("sag has no L1")
    X, y = sparse_problem(n=300, d=60, density=0.05, seed=2, dtype=dtype)
    cfg = make_cfg(solver, "log_loss", alpha=2e-3, l1_ratio=l1_ratio, max_iter=6,
                   shuffle=True)
    rd = run(X, y, cfg, seed=7)
    rs = run(sp.csr_matrix(X), y, cfg, seed=7)
    scale = np.abs(rd.coef).max()
    assert np.abs(rd.coef - rs.coef).max() <= 1e-10 * max(scale, 1.0)
    assert rd.intercept == pytest.approx(rs.intercept, abs=1e-10)
    np.testing.assert_allclose(rd.loss_curve, rs.loss_curve, rtol=1e-10)
    if l1_ratio == 1.0:
        assert np.array_equal(rd.coef == 0, rs.coef == 0) and (rd.coef == 0).any()


def test_sag_l1_raises_and_divergence():
    X, y = sparse_problem()
    with pytest.raises(ValueError, match="use solver='saga'"):
        run(X, y, make_cfg("sag", l1_ratio=1.0))
    Xb = X * 1e3
    with pytest.raises(ValueError, match="Floating-point under-/overflow"):
        run(Xb, y * 1e3, make_cfg("saga", "squared_error", alpha=0.0, eta0=1e200,
                                  max_iter=50))


# ------------------------------------------------------------ optimum (smooth L2)
def smooth_objective(X, y, sw, loss, alpha, fit_intercept):
    n, d = X.shape

    def f(z):
        w, b = z[:d], (z[d] if fit_intercept else 0.0)
        p = X @ w + b
        if loss == "log_loss":
            yp = y * p
            val = np.logaddexp(0, -yp)
            g = -y * np.exp(-np.logaddexp(0, yp))
        else:  # squared_error
            val = 0.5 * (p - y) ** 2
            g = p - y
        g = sw * g / n
        F = float(sw @ val) / n + 0.5 * alpha * w @ w
        grad = np.empty_like(z)
        grad[:d] = X.T @ g + alpha * w
        if fit_intercept:
            grad[d] = g.sum()
        return F, grad

    return f


def lbfgs_optimum(X, y, sw, loss, alpha, fit_intercept=True):
    f = smooth_objective(X, y, sw, loss, alpha, fit_intercept)
    z0 = np.zeros(X.shape[1] + int(fit_intercept))
    res = minimize(f, z0, jac=True, method="L-BFGS-B",
                   options=dict(gtol=1e-12, ftol=0.0, maxiter=20000, maxcor=30))
    return res.fun, f


def check_optimum(X, y, loss, alpha, solver, max_iter, sw=None, fit_intercept=True,
                  estimator=False, tol=1e-12, F_opt=None):
    n = X.shape[0]
    sw = np.ones(n) if sw is None else sw
    if F_opt is None:
        F_opt, _ = lbfgs_optimum(X, y, sw, loss, alpha, fit_intercept)
    if estimator:
        Est = fastgd.SGDClassifier if loss == "log_loss" else fastgd.SGDRegressor
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = Est(loss=loss, solver=solver, alpha=alpha, tol=tol, max_iter=max_iter,
                      random_state=0, fit_intercept=fit_intercept).fit(
                X, y, sample_weight=sw)
        coef, b, curve = est.coef_.ravel(), float(np.ravel(est.intercept_)[0]), \
            est.loss_curve_
    else:
        cfg = make_cfg(solver, loss, alpha=alpha, max_iter=max_iter, tol=tol, shuffle=True,
                       fit_intercept=fit_intercept)
        r = run(X, y, cfg, sw=sw)
        coef, b, curve = r.coef, r.intercept, r.loss_curve
    F = R_objective_fast(X, y, sw, coef, b, loss, alpha)
    assert curve[-1] == pytest.approx(F, rel=1e-12)
    subopt = (F - F_opt) / abs(F_opt)
    assert subopt <= 1e-9, (solver, subopt, len(curve))
    return subopt


def R_objective_fast(X, y, sw, w, b, loss, alpha):
    p = X @ w + b
    if loss == "log_loss":
        val = np.logaddexp(0, -y * p)
    else:
        val = 0.5 * (p - y) ** 2
    return float(sw @ val) / X.shape[0] + 0.5 * alpha * w @ w


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_reaches_lbfgs_optimum_synthetic(solver, loss):
    X, y = sparse_problem(n=400, d=25, density=0.4, seed=4, loss=loss)
    sw = np.random.RandomState(2).uniform(0.5, 1.5, X.shape[0])
    check_optimum(X, y, loss, 1e-2, solver, 300, sw=sw)
    check_optimum(sp.csr_matrix(X), y, loss, 1e-2, solver, 300, sw=sw, estimator=True,
                  fit_intercept=False)


REAL = [("a9a.xz", "log_loss", 1e-3), ("reuters.trn.bz2", "log_loss", 1e-3),
        ("debian-size.svm.xz", "squared_error", 1e-2)]
_opt = {}


@pytest.mark.parametrize("name,loss,alpha", REAL)
@pytest.mark.parametrize("solver", SOLVERS)
def test_reaches_lbfgs_optimum_real(shared_data, name, loss, alpha, solver):
    X, y = shared_data(name)  # whole sets: debian-size is 63,540 x 48,057
    if name not in _opt:
        _opt[name] = lbfgs_optimum(X, y, np.ones(X.shape[0]), loss, alpha)[0]
    check_optimum(X, y, loss, alpha, solver, 400, estimator=(solver == "saga"),
                  F_opt=_opt[name])


# ------------------------------------------------------ L1 / elastic-net optimum
def kkt_violation(X, y, w, b, alpha, l1_ratio):
    n = X.shape[0]
    p = X @ w + b
    g = -y * np.exp(-np.logaddexp(0, y * p)) / n
    grad = X.T @ g + alpha * (1 - l1_ratio) * w
    lam1 = alpha * l1_ratio
    viol = np.where(w != 0, np.abs(grad + lam1 * np.sign(w)),
                    np.maximum(np.abs(grad) - lam1, 0.0))
    return max(viol.max(), abs(g.sum()))


@pytest.mark.parametrize("solver", ["saga", "svrg"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_l1_matches_sklearn(solver, l1_ratio):
    from sklearn.linear_model import LogisticRegression

    X, y = sparse_problem(n=400, d=30, density=0.5, seed=8)
    n = X.shape[0]
    alpha = 0.01
    penalty = "l1" if l1_ratio == 1 else "elasticnet"
    est = fastgd.SGDClassifier(loss="log_loss", solver=solver, penalty=penalty,
                               l1_ratio=l1_ratio, alpha=alpha, tol=1e-12, max_iter=2000,
                               random_state=0).fit(X, y)
    kw = dict(l1_ratio=l1_ratio) if penalty == "elasticnet" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sk = LogisticRegression(solver="saga", C=1.0 / (n * alpha), tol=1e-12,
                                    max_iter=20000, penalty=penalty, **kw).fit(X, y)
        except TypeError:  # penalty deprecated in favour of l1_ratio alone
            sk = LogisticRegression(solver="saga", C=1.0 / (n * alpha), tol=1e-12,
                                    max_iter=20000, l1_ratio=l1_ratio).fit(X, y)
    w, b = est.coef_.ravel(), est.intercept_[0]
    assert (w == 0).sum() >= 3
    assert np.array_equal(w == 0, np.abs(sk.coef_.ravel()) < 1e-8)
    np.testing.assert_allclose(w, sk.coef_.ravel(), rtol=1e-4, atol=1e-4 * np.abs(w).max())
    assert b == pytest.approx(sk.intercept_[0], rel=1e-4, abs=1e-6)
    assert kkt_violation(X, y, w, b, alpha, l1_ratio) < 1e-9


@pytest.mark.parametrize("solver", SOLVERS)
def test_estimator_tol_partial_fit_and_float32(solver):
    X, y = sparse_problem(n=200, d=10, seed=9)
    yc = (y > 0).astype(int)
    est = fastgd.SGDClassifier(loss="log_loss", solver=solver, alpha=1e-2, tol=1e-3,
                               max_iter=1000, random_state=0).fit(X, yc)
    assert 1 < est.n_iter_ < 1000  # scikit-learn sag's rule: max|Δw| / max|w| <= tol
    assert len(est.loss_curve_) == est.n_iter_
    e32 = fastgd.SGDClassifier(loss="log_loss", solver=solver, alpha=1e-2, tol=1e-10,
                               max_iter=300, random_state=0).fit(sp.csr_matrix(
                                   X.astype(np.float32)), yc)
    e64 = fastgd.SGDClassifier(loss="log_loss", solver=solver, alpha=1e-2, tol=1e-10,
                               max_iter=300, random_state=0).fit(X, yc)
    np.testing.assert_allclose(e32.coef_, e64.coef_, rtol=1e-5, atol=1e-6)
    if solver == "sag":  # it samples at random only: shuffle=False is refused
        reg = fastgd.SGDRegressor(loss="huber", solver=solver, alpha=1e-2, tol=None,
                                  random_state=0).partial_fit(X, y)
        seen_once = int(reg._opt_state[0]["m_seen"])
        reg.partial_fit(X, y)
        # the second call on the same data carries the gradient memory over
        assert reg._opt_state[0]["m_seen"] > seen_once
        return
    reg = fastgd.SGDRegressor(loss="huber", solver=solver, alpha=1e-2, tol=None,
                              max_iter=2, random_state=0, shuffle=False)
    reg.partial_fit(X, y)
    reg.partial_fit(X, y)
    ref = fastgd.SGDRegressor(loss="huber", solver=solver, alpha=1e-2, tol=None,
                              max_iter=2, random_state=0, shuffle=False).fit(X, y)
    # SAG/SAGA carry their gradient memory over between calls on the same data
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-12)


# --------------------------------------------------- Lipschitz (importance) sampling
_CURVATURE = {"log_loss": 0.25, "squared_error": 1.0, "huber": 1.0,
              "modified_huber": 2.0, "squared_hinge": 2.0}


SPREAD = 1.0


def uneven_problem(n=60, d=12, loss="log_loss", seed=11):
    """Rows whose norms span two orders of magnitude (max L_i >> mean L_i)."""
    X, y = sparse_problem(n=n, d=d, loss=loss, seed=seed)
    X *= np.exp(SPREAD * np.random.RandomState(seed + 1).randn(n))[:, None]
    return X, y


def lipschitz_reference(X, sw, cfg, loss, solver):
    """(p, r, eta) of SPEC's Lipschitz sampling, from the formulas: L_i, p_i = 1/2n +
    L_i / 2ΣL, r_i = 1/(n p_i), L_Q = max L_i r_i and the solver's step rule."""
    n = X.shape[0]
    lam2 = cfg.alpha * (1.0 - cfg.l1_ratio)
    Li = ((X ** 2).sum(axis=1) + cfg.fit_intercept) * _CURVATURE[loss] * sw + lam2
    p = 0.5 / n + 0.5 * Li / Li.sum()
    r = 1.0 / (n * p)
    LQ = (Li * r).max()
    eta = 1.0 / (2 * LQ + min(2 * n * lam2, LQ)) if solver == "saga" else 1.0 / (4 * LQ)
    return p, r, eta


def lipschitz_orders(p, solver, epochs, seed=0):
    rng = np.random.RandomState(seed)
    n = p.shape[0]
    cdf = np.cumsum(p)
    m = 2 * n if solver == "svrg" else n
    return [np.minimum(np.searchsorted(cdf, rng.random_sample(m) * cdf[-1], "right"),
                       n - 1) for _ in range(epochs)]


LIPSCHITZ_CASES = [(s, loss, r) for s in ("saga", "svrg")
                   for loss, r in (("log_loss", 0.0), ("squared_error", 0.0),
                                   ("huber", 0.0), ("log_loss", 0.5),
                                   ("squared_error", 1.0))]


@pytest.mark.parametrize("solver,loss,l1_ratio", LIPSCHITZ_CASES)
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_lipschitz_sampling_matches_numpy_reference(solver, loss, l1_ratio, layout):
    X, y = uneven_problem(loss=loss)
    n = X.shape[0]
    sw = np.random.RandomState(1).uniform(0.5, 2.0, n)
    cfg = make_cfg(solver, loss, alpha=0.05, l1_ratio=l1_ratio, max_iter=4, shuffle=True)
    cfg.sampling = "lipschitz"
    r = run(sp.csr_matrix(X) if layout == "csr" else X, y, cfg, sw=sw)
    p, rw, eta = lipschitz_reference(X, sw, cfg, loss, solver)
    assert r.state["eta"] == pytest.approx(eta, rel=1e-12)
    assert eta > 3 * auto_step(_engine.Rows.of(X), sw, np.arange(n), cfg)  # longer steps
    orders = lipschitz_orders(p, solver, 4)
    kw = dict(fit_intercept=True, param=cfg.param, rw=rw)
    if solver == "svrg":
        ref = R.svrg(X, y, sw, orders, eta, cfg.alpha, l1_ratio, loss, **kw)
    else:
        ref = R.sag_saga(X, y, sw, orders, eta, cfg.alpha, l1_ratio, loss, True, **kw)
    np.testing.assert_allclose(r.coef, ref[-1][0], rtol=1e-9, atol=1e-12)
    assert r.intercept == pytest.approx(ref[-1][1], rel=1e-9, abs=1e-12)
    F = [R.objective(X, y, sw, w, b, loss, cfg.alpha, l1_ratio, cfg.param) for w, b in ref]
    np.testing.assert_allclose(r.loss_curve, F, rtol=1e-9)


def test_lipschitz_draws_follow_p():
    """The epoch's draws have the frequencies p (chi-square test at 1e-6: it cannot fail
    by chance, and a wrong p, uniform or pure L_i, is rejected)."""
    from scipy.stats import chisquare

    from fastgd._vr import _order, importance

    X, y = uneven_problem(n=30)
    cfg = make_cfg("saga", shuffle=True)
    idx = np.arange(30, dtype=np.int64)
    p, _, ratio = importance(_engine.Rows.of(X), np.ones(30), idx, cfg)
    assert ratio > 3.0 and p.min() >= 0.5 / 30
    rng = np.random.RandomState(0)
    draws = np.concatenate([_order("saga", cfg, rng, idx, np.cumsum(p))
                            for _ in range(3000)])
    counts = np.bincount(draws, minlength=30)
    assert chisquare(counts, p * draws.size).pvalue > 1e-6
    assert chisquare(counts, np.full(30, draws.size / 30)).pvalue < 1e-6


@pytest.mark.parametrize("solver", ["saga", "svrg"])
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_lipschitz_sampling_reaches_the_optimum(solver, loss):
    X, y = uneven_problem(n=400, d=25, loss=loss, seed=4)
    sw = np.random.RandomState(2).uniform(0.5, 1.5, X.shape[0])
    F_opt, _ = lbfgs_optimum(X, y, sw, loss, 1e-2)
    for layout in (X, sp.csr_matrix(X)):
        cfg = make_cfg(solver, loss, alpha=1e-2, max_iter=300, tol=1e-12, shuffle=True)
        cfg.sampling = "lipschitz"
        r = run(layout, y, cfg, sw=sw)
        F = R_objective_fast(X, y, sw, r.coef, r.intercept, loss, 1e-2)
        assert (F - F_opt) / abs(F_opt) <= 1e-9


@pytest.mark.parametrize("name,loss", [("debian-size.svm.xz", "log_loss"),
                                       ("w8a.xz", "log_loss")])
def test_lipschitz_sampling_is_faster_on_uneven_rows(shared_data, name, loss):
    """The point of it, on the shared sets with uneven rows (max L_i = 29 and 9 mean
    L_i): after the same epochs, SAGA with Lipschitz sampling is far closer to F*."""
    X, y = shared_data(name)
    if name.startswith("debian"):
        y = np.where(y > np.median(y), 1.0, -1.0)
    alpha = 1e-4
    n = X.shape[0]
    best = fastgd.LogisticRegression(C=1.0 / (alpha * n), solver="lbfgs", tol=1e-12,
                                     max_iter=5000).fit(X, y)  # compiled, to gtol 1e-12
    F_opt = R_objective_fast(X, y, np.ones(n), best.coef_.ravel(), best.intercept_[0],
                             loss, alpha)
    gap = {}
    for sampling in ("uniform", "lipschitz", "auto"):
        cfg = make_cfg("saga", loss, alpha=alpha, max_iter=12, shuffle=True)
        cfg.sampling = sampling
        r = run(X, y, cfg)
        gap[sampling] = (R_objective_fast(X, y, np.ones(X.shape[0]), r.coef, r.intercept,
                                          loss, alpha) - F_opt) / F_opt
    assert gap["lipschitz"] < gap["uniform"] / 10, gap
    assert gap["auto"] == gap["lipschitz"]


def test_sampling_auto_is_uniform_on_even_rows():
    X, y = sparse_problem(n=80, d=10, density=1.0, seed=3)
    X /= np.linalg.norm(X, axis=1, keepdims=True)  # equal rows: nothing to gain
    res = {}
    for sampling in ("uniform", "auto"):
        cfg = make_cfg("saga", alpha=1e-2, max_iter=3, shuffle=True)
        cfg.sampling = sampling
        res[sampling] = run(X, y, cfg)
    np.testing.assert_array_equal(res["auto"].coef, res["uniform"].coef)


def test_sampling_errors():
    X, y = uneven_problem()
    yc = (y > 0).astype(int)
    with pytest.raises(ValueError, match="for solver='saga' and 'svrg'"):
        fastgd.SGDClassifier(loss="log_loss", solver="sag", sampling="lipschitz").fit(X, yc)
    with pytest.raises(ValueError, match="for solver='saga' and 'svrg'"):
        fastgd.SGDClassifier(loss="log_loss", sampling="lipschitz").fit(X, yc)
    with pytest.raises(ValueError, match="needs shuffle=True"):
        fastgd.SGDClassifier(loss="log_loss", solver="saga", sampling="lipschitz",
                             shuffle=False).fit(X, yc)
    y3 = np.arange(X.shape[0]) % 3
    with pytest.raises(ValueError, match="multinomial solvers sample uniformly"):
        fastgd.LogisticRegression(solver="saga", sampling="lipschitz").fit(X, y3)
    with pytest.raises(ValueError, match="sampling"):
        fastgd.Ridge(solver="saga", sampling="importance").fit(X, y)


def test_estimators_take_sampling():
    """SGD*: 'uniform' by default (scikit-learn's algorithm as written); the exact
    estimators: 'auto', which on these uneven rows draws by the Lipschitz constants
    and still reaches scikit-learn's optimum."""
    from sklearn.linear_model import LogisticRegression as SkLR

    X, y = uneven_problem(n=300, d=15, seed=6)
    yc = (y > 0).astype(int)
    assert fastgd.SGDClassifier().sampling == "uniform"
    for Est in (fastgd.LogisticRegression, fastgd.Ridge, fastgd.LinearRegression,
                fastgd.Lasso, fastgd.ElasticNet):
        assert Est().sampling == "auto"
    sk = SkLR(C=1.0, tol=1e-12, max_iter=10000).fit(X, yc)
    for sampling in ("auto", "lipschitz"):  # uniform: far from it after 3000 epochs
        est = fastgd.LogisticRegression(solver="saga", sampling=sampling, tol=1e-10,
                                        max_iter=3000, random_state=0).fit(X, yc)
        np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-5,
                                   atol=1e-6 * np.abs(sk.coef_).max())
    sgd = fastgd.SGDRegressor(solver="svrg", sampling="lipschitz", alpha=1e-3, tol=1e-10,
                              max_iter=500, random_state=0).fit(X, y)
    ridge = fastgd.Ridge(alpha=1e-3 * X.shape[0], solver="sparse_cg", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(sgd.coef_, ridge.coef_, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("solver", ["saga", "svrg"])
def test_lipschitz_sampling_with_threads_reaches_the_optimum(solver):
    """ASAGA / AsySVRG (n_jobs=2) under Lipschitz sampling: the dense term reweighted by
    1/P(j in the support) keeps the step unbiased; the fit gets to F* (racy, so to a
    tolerance, not bit for bit)."""
    X, y = uneven_problem(n=400, d=25, seed=4)
    X = sp.csr_matrix(X)
    sw = np.ones(X.shape[0])
    F_opt, _ = lbfgs_optimum(X, y, sw, "log_loss", 1e-2)
    cfg = make_cfg(solver, "log_loss", alpha=1e-2, max_iter=400, tol=1e-12, shuffle=True)
    cfg.sampling, cfg.n_jobs = "lipschitz", 2
    r = run(X, y, cfg, sw=sw)
    F = R_objective_fast(X, y, sw, r.coef, r.intercept, "log_loss", 1e-2)
    assert (F - F_opt) / abs(F_opt) <= 1e-7

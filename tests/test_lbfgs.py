"""solver='lbfgs': the fused loss-and-gradient kernels against NumPy (both backends,
serial and threaded, dense and CSR), and the fits against scikit-learn's exact solvers."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

import reference as ref  # tests/ (conftest.py)
from fastgd import SGDClassifier, SGDRegressor
from fastgd._backend import available_backends, get_backend, parallel_kernels
from fastgd._rules import LOSSES, PAD, records

BACKENDS = available_backends()
LOSS_NAMES = ["log_loss", "squared_error", "huber", "modified_huber", "squared_hinge"]


def _problem(n=300, d=12, seed=0, density=0.4):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d) * rng.uniform(0.1, 3.0, d)
    X[rng.rand(n, d) > density] = 0.0
    w = rng.randn(d)
    y_reg = X @ w + 0.5 + 0.3 * rng.randn(n)
    y_clf = (X @ w + 0.5 * rng.randn(n) > 0).astype(int)
    return X, y_reg, y_clf


HUBER_EPSILON = 1.35


def _loss_and_derivative(loss, y, p):
    """L and dL/dp of SPEC section 1 (scikit-learn's formulas for the last three)."""
    if loss in ("squared_error", "log_loss"):
        return ref.loss_value(loss, y, p), ref.loss_derivative(loss, y, p)
    if loss == "huber":
        r, e = p - y, HUBER_EPSILON
        small = np.abs(r) <= e
        return (np.where(small, 0.5 * r ** 2, e * (np.abs(r) - 0.5 * e)),
                np.where(small, r, e * np.sign(r)))
    z = y * p
    if loss == "squared_hinge":
        m = np.maximum(1.0 - z, 0.0)
        return m ** 2, -2.0 * y * m
    # modified_huber
    return (np.where(z >= 1, 0.0, np.where(z >= -1, (1 - z) ** 2, -4 * z)),
            np.where(z >= 1, 0.0, np.where(z >= -1, -2 * (1 - z) * y, -4 * y)))


def _reference(X, y, sw, w, b, loss):
    value, dl = _loss_and_derivative(loss, y, X @ w + b)
    return np.sum(sw * value), X.T @ (sw * dl), np.sum(sw * dl)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_loss_gradient_kernels_match_numpy(loss, dtype, layout, backend):
    X, y_reg, y_clf = _problem()
    y = np.where(y_clf == 1, 1.0, -1.0) if LOSSES[loss].classification else y_reg
    rng = np.random.RandomState(1)
    sw = rng.uniform(0.5, 2.0, X.shape[0])
    w = np.append(0.3 * rng.randn(X.shape[1]), 0.2)
    order = np.sort(rng.choice(X.shape[0], 250, replace=False)).astype(np.int64)
    Xc = X.astype(dtype)
    if layout == "dense":
        data, indices, indptr, dense_d = Xc.ravel(), np.zeros(0, np.int32), \
            np.zeros(0, np.int64), X.shape[1]
    else:
        csr = sp.csr_matrix(Xc)
        data, indices, indptr, dense_d = csr.data, csr.indices.astype(np.int32), \
            csr.indptr.astype(np.int64), 0
    param = HUBER_EPSILON if loss == "huber" else LOSSES[loss].threshold
    ip, fp = records(dense_d=dense_d, loss=int(LOSSES[loss].id), param=param)
    want_loss, want_g, want_b = _reference(
        Xc.astype(np.float64)[order], y[order], sw[order], w[:-1], w[-1], loss)
    kern = get_backend(backend).sgd
    gbuf = np.full(X.shape[1] + 1, np.nan)  # overwritten, whatever it held
    got = kern.loss_gradient(data, indices, indptr, y, sw, order, w, ip, fp, gbuf)
    np.testing.assert_allclose(got, want_loss, rtol=1e-12)
    np.testing.assert_allclose(gbuf, np.append(want_g, want_b), rtol=1e-11, atol=1e-12)
    par = parallel_kernels(backend)
    if par is None:
        return
    for K in (2, 3):
        ip_k, fp_k = records(dense_d=dense_d, loss=int(LOSSES[loss].id), param=param,
                             n_threads=K)
        g2 = np.full((K, X.shape[1] + 1 + PAD), np.nan)
        got2 = par.sync_loss_gradient(data, indices, indptr, y, sw, order, w, ip_k, fp_k,
                                      g2, np.zeros((K, PAD)))
        np.testing.assert_allclose(got2, want_loss, rtol=1e-12)
        np.testing.assert_allclose(g2[0, :X.shape[1] + 1], np.append(want_g, want_b),
                                   rtol=1e-11, atol=1e-12)


def _tight(**kw):
    return dict(solver="lbfgs", tol=1e-10, max_iter=2000, **kw)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_logistic_matches_scikit_learn(sparse, backend):
    X, _, y = _problem(n=400)
    Xf = sp.csr_matrix(X) if sparse else X
    alpha = 1e-2
    ours = SGDClassifier(loss="log_loss", alpha=alpha, backend=backend, **_tight()).fit(
        Xf, y)
    theirs = LogisticRegression(C=1.0 / (alpha * X.shape[0]), tol=1e-12,
                                max_iter=10_000).fit(Xf, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-5, atol=1e-6)
    assert np.all(np.diff(ours.loss_curve_) <= 1e-12)  # L-BFGS-B descends
    assert len(ours.loss_curve_) == ours.n_iter_ < 2000


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_least_squares_match_ridge_and_linear_regression(sparse):
    X, y, _ = _problem(n=400)
    Xf = sp.csr_matrix(X) if sparse else X
    n = X.shape[0]
    sw = np.random.RandomState(3).uniform(0.5, 2.0, n)
    ours = SGDRegressor(alpha=0.05, **_tight()).fit(Xf, y, sample_weight=sw)
    # F = (1/n) sum s_i (p_i - y_i)^2 / 2 + alpha/2 ||w||^2 is Ridge's objective / (2n)
    theirs = Ridge(alpha=0.05 * n, solver="cholesky").fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-6, atol=1e-7)
    plain = SGDRegressor(penalty=None, **_tight()).fit(Xf, y)
    ols = LinearRegression().fit(X, y)
    np.testing.assert_allclose(plain.coef_, ols.coef_, rtol=1e-6, atol=1e-7)


def test_threads_give_the_serial_fit():
    X, _, y = _problem(n=2000, d=30)
    one = SGDClassifier(loss="log_loss", alpha=1e-3, n_jobs=1, **_tight()).fit(X, y)
    two = SGDClassifier(loss="log_loss", alpha=1e-3, n_jobs=2, **_tight()).fit(X, y)
    np.testing.assert_allclose(two.coef_, one.coef_, rtol=1e-6, atol=1e-8)


def test_multiclass_one_vs_rest_and_warm_start():
    X, y_reg, _ = _problem(n=300)
    y = np.digitize(y_reg, np.quantile(y_reg, [1 / 3, 2 / 3]))
    est = SGDClassifier(loss="log_loss", alpha=1e-2, **_tight()).fit(X, y)
    assert est.coef_.shape == (3, X.shape[1])
    for k in range(3):
        binary = SGDClassifier(loss="log_loss", alpha=1e-2, **_tight()).fit(
            X, (y == k).astype(int))
        np.testing.assert_allclose(est.coef_[k], binary.coef_[0], rtol=1e-6, atol=1e-8)
    warm = SGDClassifier(loss="log_loss", alpha=1e-2, warm_start=True, **_tight())
    warm.fit(X, y)
    warm.fit(X, y)  # from the optimum: a few iterations at most
    assert max(np.atleast_1d(warm.n_iter_)) <= 3


def test_max_iter_warns_and_reports_iterations():
    X, _, y = _problem(n=400)
    with pytest.warns(ConvergenceWarning):
        est = SGDClassifier(loss="log_loss", solver="lbfgs", max_iter=3, tol=1e-12,
                            alpha=1e-4).fit(X, y)
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3


@pytest.mark.parametrize("params, message", [
    (dict(penalty="l1"), "penalty='l2' or None"),
    (dict(penalty="elasticnet"), "penalty='l2' or None"),
    (dict(loss="hinge"), "Lipschitz"),
    (dict(optimizer="adam"), "optimizer must be 'sgd'"),
    (dict(clip_norm=1.0), "clip_norm"),
])
def test_lbfgs_refuses_what_it_cannot_solve(params, message):
    X, _, y = _problem(n=100)
    kw = {"loss": "log_loss", "solver": "lbfgs", **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match=message):
            SGDClassifier(**kw).fit(X, y)


# ------------------------------------------------- LogisticRegression(solver='lbfgs')
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("C", [0.3, np.inf], ids=["C0.3", "noC"])
def test_logistic_lbfgs_matches_sklearn(backend, layout, n_classes, C):
    import fastgd

    X, y_reg, y_clf = _problem(n=300, d=8, seed=n_classes)
    y = (np.digitize(y_reg, np.quantile(y_reg, [1 / 3, 2 / 3])) if n_classes == 3
         else y_clf)
    sw = np.random.RandomState(1).uniform(0.2, 2.0, X.shape[0])
    Xf = sp.csr_matrix(X) if layout == "csr" else X
    ours = fastgd.LogisticRegression(C=C, solver="lbfgs", tol=1e-10, max_iter=2000,
                                     class_weight="balanced", backend=backend).fit(
        Xf, y, sample_weight=sw)
    theirs = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000,
                                class_weight="balanced").fit(X, y, sample_weight=sw)
    b = theirs.intercept_ - (theirs.intercept_.mean() if n_classes == 3 else 0.0)
    scale = np.abs(theirs.coef_).max()
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6 * scale)
    np.testing.assert_allclose(ours.intercept_, b, atol=1e-6 * max(scale, 1.0))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X),
                               atol=1e-7 if np.isfinite(C) else 1e-5)  # no C: large w
    assert ours.solver_ == "lbfgs" and ours.coef_.shape == theirs.coef_.shape
    assert ours.n_iter_[0] == len(ours.loss_curve_) < 2000
    assert np.all(np.diff(ours.loss_curve_) <= 1e-12)  # L-BFGS-B descends


def test_logistic_auto_picks_by_sag_condition():
    """'auto': SAGA while kappa = L_max / (alpha n) is small, L-BFGS once one long row (or
    no penalty) would make the safe step 1/L_max tiny; SAGA with an L1 part."""
    import fastgd
    from fastgd.linear_model import AUTO_LBFGS_KAPPA

    X, _, y = _problem(n=2000, d=10, seed=3)
    X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-12  # ||x_i|| <= 1
    n = X.shape[0]
    X = np.hstack([X, np.zeros((n, 250))])  # a Hessian too wide for Newton (below)
    # kappa = 0.25 (1 + 1) C: C below 2 AUTO_LBFGS_KAPPA is SAGA's, above it L-BFGS's
    C_sag, C_lbfgs = AUTO_LBFGS_KAPPA, 4 * AUTO_LBFGS_KAPPA
    assert fastgd.LogisticRegression(C=C_sag, tol=1e-6).fit(X, y).solver_ == "saga"
    assert fastgd.LogisticRegression(C=C_lbfgs, tol=1e-6).fit(X, y).solver_ == "lbfgs"
    assert fastgd.LogisticRegression(C=np.inf, tol=1e-6).fit(X, y).solver_ == "lbfgs"
    long_row = X.copy()
    long_row[0] *= np.sqrt(100 * n)  # one row of norm² 100 n: SAG's step 1/L_max crawls
    assert fastgd.LogisticRegression(C=C_sag, tol=1e-6).fit(long_row, y).solver_ == "lbfgs"
    assert fastgd.LogisticRegression(C=C_sag, l1_ratio=1.0, tol=1e-6).fit(
        X, y).solver_ == "saga"
    # whichever it picks, the answer is the optimum
    for Xf, C in ((X, C_sag), (X, C_lbfgs), (long_row, C_sag)):
        auto = fastgd.LogisticRegression(C=C, tol=1e-10, max_iter=5000).fit(Xf, y)
        exact = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12).fit(Xf, y)
        np.testing.assert_allclose(auto.coef_, exact.coef_, rtol=1e-5, atol=1e-7)


def test_logistic_auto_picks_newton_where_the_hessian_is_cheap():
    """'auto' on a binary penalised problem: Newton-Cholesky with at most
    AUTO_NEWTON_DIM coefficients and short rows (Σ nnz_i² / Σ nnz_i <= AUTO_NEWTON_ROW),
    else the kappa rule; multinomial problems never."""
    import fastgd
    from fastgd.linear_model import AUTO_NEWTON_DIM, AUTO_NEWTON_ROW

    X, y_reg, y = _problem(n=400, d=8, seed=4)
    auto = fastgd.LogisticRegression(C=0.5, tol=1e-10).fit(X, y)
    exact = LogisticRegression(C=0.5, solver="newton-cholesky", tol=1e-12).fit(X, y)
    assert auto.solver_ == "newton-cholesky"
    np.testing.assert_allclose(auto.coef_, exact.coef_, rtol=1e-8, atol=1e-10)
    y3 = np.digitize(y_reg, np.quantile(y_reg, [1 / 3, 2 / 3]))
    assert fastgd.LogisticRegression(C=0.5).fit(X, y3).solver_ != "newton-cholesky"
    assert fastgd.LogisticRegression(C=np.inf).fit(X, y).solver_ == "lbfgs"
    wide = sp.random(400, AUTO_NEWTON_DIM, density=0.02, format="csr", random_state=0)
    assert fastgd.LogisticRegression(C=0.5).fit(wide, y).solver_ != "newton-cholesky"
    rng = np.random.RandomState(0)
    short = sp.random(400, 100, density=0.05, format="csr", random_state=rng)  # rows of 5
    assert fastgd.LogisticRegression(C=0.5).fit(short, y).solver_ == "newton-cholesky"
    long_rows = short.tolil()
    long_rows[:40] = rng.rand(40, 100)  # a tenth of the rows full: Σ m² / Σ m ~ 70
    long_rows = long_rows.tocsr()
    lengths = np.diff(long_rows.indptr)
    assert (lengths ** 2).sum() > AUTO_NEWTON_ROW * lengths.sum()
    assert fastgd.LogisticRegression(C=0.5).fit(long_rows, y).solver_ != "newton-cholesky"


def test_logistic_auto_subsamples_the_hessian_of_many_rows():
    """Where Newton is cheap and its Hessian sample (100 (d + 1) rows, at least 1,000) is
    at most AUTO_SUBSAMPLE_SHARE of the rows, 'auto' is 'subsampled-newton'; the answer
    is the optimum all the same."""
    import fastgd
    from fastgd.linear_model import AUTO_SUBSAMPLE_SHARE

    X, _, y = _problem(n=5000, d=8, seed=4)
    assert 100 * 9 < 1000 <= AUTO_SUBSAMPLE_SHARE * 5000
    auto = fastgd.LogisticRegression(C=0.5, tol=1e-10, random_state=0).fit(X, y)
    exact = LogisticRegression(C=0.5, solver="newton-cholesky", tol=1e-12).fit(X, y)
    assert auto.solver_ == "subsampled-newton"
    np.testing.assert_allclose(auto.coef_, exact.coef_, rtol=1e-7, atol=1e-9)
    few = fastgd.LogisticRegression(C=0.5).fit(X[:1999], y[:1999])
    assert few.solver_ == "newton-cholesky"

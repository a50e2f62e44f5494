"""solver='newton-cholesky' of LogisticRegression (fastgd/_newton.py) against
scikit-learn's own newton-cholesky, and its Hessian kernel against NumPy, on both
backends, dense and CSR."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn import linear_model as sk
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning

import fastgd
from fastgd import _backend, _engine
from fastgd._newton import hessian_block

BACKENDS = ("numba", "cython")
TIGHT = dict(solver="newton-cholesky", tol=1e-10)


def _sklearn(**kw):
    return sk.LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000, **kw)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_hessian_sum_is_the_weighted_gram_matrix(backend, dtype, sparse):
    """Σ_{i in order} h_i x̃_i x̃_iᵀ, x̃ = (x, 1), over a subset of the rows in any order,
    with unsorted column indices and zero weights."""
    rng = np.random.RandomState(0)
    X = sp.random(40, 7, density=0.4, format="csr", random_state=1, dtype=dtype)
    X.indices[:] = X.indices.copy()  # scipy's are sorted: reverse each row's entries
    for i in range(X.shape[0]):
        a, b = X.indptr[i], X.indptr[i + 1]
        X.indices[a:b] = X.indices[a:b][::-1].copy()
        X.data[a:b] = X.data[a:b][::-1].copy()
    X.has_sorted_indices = False
    h = rng.uniform(0.1, 2.0, 40)
    h[::5] = 0.0
    order = rng.permutation(40)[:30].astype(np.int64)
    rows = _engine.Rows.of(X if sparse else X.toarray(), backend)
    H = np.empty((8, 8))
    hessian_block(rows, order, h, H)
    Xt = np.hstack([X.toarray().astype(np.float64), np.ones((40, 1))])[order]
    assert_allclose(H, Xt.T @ (h[order, None] * Xt), rtol=1e-12, atol=1e-13)
    assert (H == H.T).all()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_logistic_hessian_sum_is_the_curvature_weighted_gram_matrix(backend, dtype, sparse,
                                                                    threads):
    """Σ_{i in order} s_i σ(p_i)(1 - σ(p_i)) x̃_i x̃_iᵀ at p = Xw + b, serial and split
    between threads (each its own matrix, reduced in thread order), triangle a <= b."""
    rng = np.random.RandomState(2)
    X = sp.random(50, 6, density=0.5, format="csr", random_state=3, dtype=dtype)
    sw = rng.uniform(0.1, 2.0, 50)
    sw[::7] = 0.0
    w = rng.normal(0.0, 2.0, 7)
    w[-1] = 40.0 if threads == 3 else 0.3  # margins where the curvature is ~0 or underflows
    order = rng.permutation(50)[:41].astype(np.int64)
    rows = _engine.Rows.of(X if sparse else X.toarray(), backend)
    Xt = np.hstack([X.toarray().astype(np.float64), np.ones((50, 1))])
    e = np.exp(-np.abs(Xt @ w))  # σ(1 - σ) without 1 - σ rounding to 0 at large margins
    want = (Xt[order].T * (sw * e / (1.0 + e) ** 2)[order]) @ Xt[order]
    H = np.zeros((threads, 7, 7))
    if threads == 1:
        rows.kern.logistic_hessian_sum(rows.data, rows.indices, rows.indptr, rows.dense_d,
                                       order, sw, w, H[0])
    else:
        par = _backend.parallel_kernels(backend)
        par.sync_logistic_hessian_sum(rows.data, rows.indices, rows.indptr, rows.dense_d,
                                      order, sw, w, H)
    got = H[0]
    assert_allclose(np.triu(got + got.T - np.diag(got.diagonal())), np.triu(want),
                    rtol=1e-10, atol=1e-300)
    assert not np.tril(got, -1).any()  # sorted columns: the kernel sums a <= b only


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("kw", [dict(C=0.7), dict(C=np.inf), dict(fit_intercept=False),
                                dict(class_weight="balanced", C=3.0)],
                         ids=["C", "no-penalty", "no-intercept", "class-weight"])
def test_binary_equals_sklearn(backend, sparse, kw):
    X, y = make_classification(150, 6, n_informative=3, n_redundant=0, flip_y=0.2,
                               random_state=0)  # no collinear columns: one minimiser
    sw = np.random.RandomState(1).uniform(0.2, 3.0, X.shape[0])
    ours = fastgd.LogisticRegression(backend=backend, **TIGHT, **kw).fit(
        sp.csr_matrix(X) if sparse else X, y, sample_weight=sw)
    ref = _sklearn(**kw).fit(X, y, sample_weight=sw)
    assert ours.solver_ == "newton-cholesky" and 1 <= ours.n_iter_[0] <= 20
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-7, atol=1e-9)
    assert len(ours.loss_curve_) == ours.n_iter_[0]
    assert np.all(np.diff(ours.loss_curve_) <= 1e-15)  # descends (but at round-off)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("kw", [dict(C=1.0), dict(C=1e4), dict(C=1.0, fit_intercept=False)],
                         ids=["C", "weak-penalty", "no-intercept"])
def test_multinomial_equals_sklearn(backend, sparse, kw):
    X, y = load_iris(return_X_y=True)
    ours = fastgd.LogisticRegression(backend=backend, **TIGHT, **kw).fit(
        sp.csr_matrix(X) if sparse else X, y)
    ref = _sklearn(**kw).fit(X, y)
    assert ours.coef_.shape == (3, 4) and ours.n_iter_[0] <= 30
    rtol = 1e-5 if kw["C"] > 1 else 1e-7  # C = 1e4: condition number ~1e9
    assert_allclose(ours.coef_, ref.coef_, rtol=rtol, atol=1e-8)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=rtol, atol=1e-8)
    assert abs(ours.intercept_.sum()) < 1e-10  # the softmax's free direction not taken


def test_backends_and_float32_agree():
    X, y = make_classification(300, 12, n_classes=3, n_informative=6, random_state=3)
    Xs = sp.csr_matrix(X)
    fits = [fastgd.LogisticRegression(backend=b, **TIGHT).fit(Z, y)
            for b in BACKENDS for Z in (Xs, Xs.astype(np.float32))]
    assert_allclose(fits[0].coef_, fits[2].coef_, rtol=1e-12)  # numba = cython
    assert_allclose(fits[1].coef_, fits[3].coef_, rtol=1e-6)
    assert fits[1].coef_.dtype == np.float32
    assert_allclose(fits[0].coef_, fits[1].coef_, rtol=1e-5, atol=1e-6)


def test_shared_set_equals_sklearn(shared_data):
    X, y = shared_data("a9a.xz")
    ours = fastgd.LogisticRegression(solver="newton-cholesky", C=0.5, tol=1e-8).fit(X, y)
    ref = _sklearn(C=0.5).fit(X, y)
    assert ours.n_iter_[0] <= 15
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-6)


def test_stopping_rule_and_warning():
    X, y = make_classification(200, 5, random_state=2)
    loose = fastgd.LogisticRegression(solver="newton-cholesky", tol=1e-2).fit(X, y)
    tight = fastgd.LogisticRegression(**TIGHT).fit(X, y)
    assert loose.n_iter_[0] < tight.n_iter_[0]
    with pytest.warns(ConvergenceWarning, match="Newton solver did not converge after 1"):
        fastgd.LogisticRegression(solver="newton-cholesky", max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        start = fastgd.LogisticRegression(solver="newton-cholesky", max_iter=0).fit(X, y)
    assert (start.coef_ == 0).all() and start.n_iter_[0] == 0


def test_errors():
    X, y = make_classification(60, 5, random_state=2)
    with pytest.raises(ValueError, match="Solver newton-cholesky supports only 'l2' or None"):
        fastgd.LogisticRegression(solver="newton-cholesky", l1_ratio=1.0).fit(X, y)
    wide = sp.random(4, 300_000, density=1e-5, format="csr", random_state=0)
    with pytest.raises(ValueError, match=r"needs the 300,001 x 300,001 Hessian .*'lbfgs'"):
        fastgd.LogisticRegression(solver="newton-cholesky").fit(wide, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="solver='newton-cg' is one of scikit-learn's"):
        fastgd.LogisticRegression(solver="newton-cg").fit(X, y)


def test_warm_start_from_the_optimum_takes_no_step():
    X, y = make_classification(200, 5, random_state=2)
    est = fastgd.LogisticRegression(warm_start=True, **TIGHT).fit(X, y)
    coef = est.coef_.copy()
    est.fit(X, y)
    assert est.n_iter_[0] == 0 and est.loss_curve_ == []
    assert_allclose(est.coef_, coef, rtol=0, atol=0)


# ------------------------------------------------------------- SGDClassifier
@pytest.mark.parametrize("sparse", [False, True])
def test_sgd_classifier_newton_is_logistic_regression_one_vs_rest(sparse):
    """SGDClassifier(loss='log_loss', solver='newton-cholesky') minimises SPEC section
    1's objective, which is LogisticRegression's with C = 1 / (alpha n): binary, the
    same iterations; one-vs-rest, each class's binary problem with its class weight."""
    X, y = make_classification(300, 6, n_informative=4, n_redundant=0, n_classes=3,
                               random_state=4)
    X = sp.csr_matrix(X) if sparse else X
    alpha, n = 1e-3, X.shape[0]
    kw = dict(solver="newton-cholesky", tol=1e-10, max_iter=50)
    binary = fastgd.SGDClassifier(loss="log_loss", alpha=alpha, **kw).fit(X, y == 1)
    ref = fastgd.LogisticRegression(C=1.0 / (alpha * n), **kw).fit(X, y == 1)
    assert_allclose(binary.coef_, ref.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(binary.intercept_, ref.intercept_, rtol=1e-12)
    assert binary.n_iter_ == ref.n_iter_[0]
    weights = {0: 2.0, 1: 1.0, 2: 0.5}
    ovr = fastgd.SGDClassifier(loss="log_loss", alpha=alpha, class_weight=weights,
                               **kw).fit(X, y)
    for k in range(3):
        one = fastgd.LogisticRegression(C=1.0 / (alpha * n), **kw).fit(
            X, y == k, sample_weight=np.where(y == k, weights[k], 1.0))
        assert_allclose(ovr.coef_[k], one.coef_[0], rtol=1e-10, atol=1e-12)
        assert_allclose(ovr.intercept_[k], one.intercept_[0], rtol=1e-10, atol=1e-12)


def test_sgd_newton_errors():
    X, y = make_classification(60, 5, random_state=2)
    with pytest.raises(ValueError, match="needs SGDClassifier\\(loss='log_loss'\\)"):
        fastgd.SGDClassifier(solver="newton-cholesky").fit(X, y)  # hinge
    with pytest.raises(ValueError, match="needs SGDClassifier\\(loss='log_loss'\\)"):
        fastgd.SGDRegressor(solver="newton-cholesky").fit(X, y)
    with pytest.raises(ValueError, match="supports penalty='l2' or None"):
        fastgd.SGDClassifier(loss="log_loss", solver="newton-cholesky",
                             penalty="l1").fit(X, y)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_threads_share_the_hessian_and_give_the_same_fit(backend, sparse):
    """n_jobs=2 splits the Hessian's rows between two threads (enough rows: >= 2 x
    SYNC_MIN_BATCH); the fit is the serial one to round-off."""
    X, y = make_classification(1200, 8, n_informative=4, random_state=3)
    X = sp.csr_matrix(X) if sparse else X
    one = fastgd.LogisticRegression(backend=backend, **TIGHT).fit(X, y)
    two = fastgd.LogisticRegression(backend=backend, n_jobs=2, **TIGHT).fit(X, y)
    assert one.n_iter_[0] == two.n_iter_[0]
    assert_allclose(two.coef_, one.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(two.intercept_, one.intercept_, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------ subsampled-newton
SUBSAMPLED = dict(solver="subsampled-newton", tol=1e-10, max_iter=200)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("K", [2, 3])
def test_subsampled_newton_reaches_sklearns_optimum(backend, sparse, K):
    """The Hessian of HESSIAN_ROWS_MIN of the 4,000 rows (the gradient exact): the same
    minimiser as scikit-learn's newton-cholesky, and F descends at every iteration."""
    from fastgd._newton import HESSIAN_ROWS_MIN

    X, y = make_classification(4000, 6, n_informative=4, n_redundant=0, n_classes=K,
                               flip_y=0.1, random_state=5)
    sw = np.random.RandomState(2).uniform(0.2, 3.0, X.shape[0])
    assert HESSIAN_ROWS_MIN * 2 <= X.shape[0]
    ours = fastgd.LogisticRegression(backend=backend, C=0.3, random_state=0,
                                     **SUBSAMPLED).fit(
        sp.csr_matrix(X) if sparse else X, y, sample_weight=sw)
    ref = _sklearn(C=0.3).fit(X, y, sample_weight=sw)
    assert ours.solver_ == "subsampled-newton" and ours.n_iter_[0] < 200
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    curve = np.asarray(ours.loss_curve_)  # descends (the line search may take a step
    assert np.all(np.diff(curve) <= 16 * np.finfo(float).eps * curve[:-1])  # at round-off)


def test_subsampled_newton_draws_from_random_state():
    """The same random_state gives the same fit, bit for bit; another one other samples
    (other iterates) and the same minimiser; with m >= n rows it is Newton-Cholesky."""
    X, y = make_classification(3000, 5, flip_y=0.2, random_state=6)
    fit = lambda seed, **kw: fastgd.LogisticRegression(  # noqa: E731
        random_state=seed, **{**SUBSAMPLED, **kw}).fit(X, y)
    a, b, c = fit(0), fit(0), fit(1)
    assert_allclose(a.coef_, b.coef_, rtol=0, atol=0)
    assert a.loss_curve_ == b.loss_curve_ and a.loss_curve_ != c.loss_curve_
    assert_allclose(a.coef_, c.coef_, rtol=1e-7)
    few = X[:900], y[:900]  # fewer rows than HESSIAN_ROWS_MIN: every row, every time
    sub = fastgd.LogisticRegression(random_state=0, **SUBSAMPLED).fit(*few)
    full = fastgd.LogisticRegression(**TIGHT).fit(*few)
    assert_allclose(sub.coef_, full.coef_, rtol=0, atol=0)
    assert sub.loss_curve_ == full.loss_curve_


def test_subsampled_newton_errors_and_warning():
    X, y = make_classification(3000, 5, random_state=2)
    with pytest.raises(ValueError, match="Solver subsampled-newton supports only 'l2' or "
                                         "None"):
        fastgd.LogisticRegression(solver="subsampled-newton", l1_ratio=1.0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="Newton solver did not converge after 1"):
        fastgd.LogisticRegression(solver="subsampled-newton", max_iter=1).fit(X, y)

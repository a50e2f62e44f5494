"""The exact estimators (fastgd.LogisticRegression, Ridge, LinearRegression, Lasso,
ElasticNet): scikit-learn's objectives solved to ``tol`` by L-BFGS or SAG/SAGA/SVRG,
against scikit-learn's own solvers (cholesky / lstsq / lbfgs / newton-cholesky / saga /
coordinate descent) to tight tolerance, dense and CSR, with sample and class weights;
their parameters and errors; multinomial on digits."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn import linear_model as sk
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.multiclass import OneVsRestClassifier
from sklearn.utils.estimator_checks import (check_sample_weight_equivalence_on_dense_data,
                                            check_sample_weight_equivalence_on_sparse_data,
                                            parametrize_with_checks)

import fastgd

SOLVERS = ("sag", "saga", "svrg")
TIGHT = dict(tol=1e-10, max_iter=20000, random_state=0)


def _regression(n=80, d=6, n_targets=1, seed=0, shift=2.0):
    X, y = make_regression(n, d, n_targets=n_targets, noise=1.0, random_state=seed)
    return X + shift, y / np.std(y)


def _classification(n=120, d=6, n_classes=2, seed=0):
    return make_classification(n, d, n_informative=4, n_classes=n_classes,
                               random_state=seed)


def _weights(n, seed=1):
    return np.random.RandomState(seed).uniform(0.2, 3.0, n)


# --------------------------------------------------------------------------- Ridge
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("solver", SOLVERS + ("lbfgs", "sparse_cg", "auto"))
def test_ridge_matches_cholesky(solver, sparse):
    X, y = _regression(shift=0.5 if sparse else 2.0)
    sw = _weights(X.shape[0])
    ours = fastgd.Ridge(alpha=3.0, solver=solver, **TIGHT).fit(
        sp.csr_matrix(X) if sparse else X, y, sample_weight=sw)
    ref = sk.Ridge(alpha=3.0, solver="cholesky").fit(X, y, sample_weight=sw)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-6)
    assert ours.solver_ == ("sparse_cg" if solver == "auto" else solver)
    assert ours.n_iter_.shape == (1,)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_ridge_conjugate_gradient(sparse):
    """CG on the d + 1 normal equations: near finite termination, the same answer with
    the threaded Hessian-vector pass (deterministic), scikit-learn's warning when
    max_iter stops it."""
    X, y = _regression(n=3000, d=8, shift=0.5 if sparse else 2.0)
    Xf = sp.csr_matrix(X) if sparse else X
    one = fastgd.Ridge(alpha=3.0, solver="sparse_cg", tol=1e-12).fit(Xf, y)
    assert one.n_iter_[0] <= 2 * (X.shape[1] + 1)
    two = fastgd.Ridge(alpha=3.0, solver="sparse_cg", tol=1e-12, n_jobs=2).fit(Xf, y)
    assert_allclose(two.coef_, one.coef_, rtol=1e-12)
    with pytest.warns(ConvergenceWarning, match="sparse_cg did not converge after 2"):
        fastgd.Ridge(solver="sparse_cg", max_iter=2, tol=1e-12).fit(Xf, y)


def test_ridge_multi_output_alpha_per_target_and_no_intercept():
    X, Y = _regression(n_targets=3)
    alpha = np.array([0.1, 1.0, 10.0])
    for fit_intercept, Xf in ((True, X), (False, X), (True, sp.csr_matrix(X))):
        # CSR: implicit centring, one preconditioner shared by the three targets
        ours = fastgd.Ridge(alpha=alpha, fit_intercept=fit_intercept, **TIGHT).fit(Xf, Y)
        ref = sk.Ridge(alpha=alpha, fit_intercept=fit_intercept,
                       solver="cholesky").fit(X, Y)
        assert ours.coef_.shape == (3, X.shape[1]) and ours.n_iter_.shape == (3,)
        assert_allclose(ours.coef_, ref.coef_, rtol=1e-5)
        assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-6)
        assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-5, atol=1e-6)


def test_ridge_zero_weights_equal_removed_rows_and_float32():
    X, y = _regression()
    sw = _weights(X.shape[0])
    sw[::4] = 0.0
    a = fastgd.Ridge(**TIGHT).fit(X, y, sample_weight=sw)
    b = fastgd.Ridge(**TIGHT).fit(X[sw > 0], y[sw > 0], sample_weight=sw[sw > 0])
    assert_allclose(a.coef_, b.coef_, rtol=1e-6)
    c = fastgd.Ridge(**TIGHT).fit(X.astype(np.float32), y)
    assert c.coef_.dtype == np.float32
    assert_allclose(c.coef_, sk.Ridge(solver="cholesky").fit(X, y).coef_, rtol=1e-4)


def test_linear_regression_matches_lstsq():
    X, y = _regression()
    sw = _weights(X.shape[0])
    for Xf in (X, sp.csr_matrix(X - 1.5)):
        dense = np.asarray(Xf.todense()) if sp.issparse(Xf) else Xf
        ours = fastgd.LinearRegression(**TIGHT).fit(Xf, y, sample_weight=sw)
        ref = sk.LinearRegression().fit(dense, y, sample_weight=sw)
        assert_allclose(ours.coef_, ref.coef_, rtol=1e-5)
        assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-6)


def test_linear_regression_rank_deficient_is_minimum_norm():
    rng = np.random.RandomState(3)
    X = rng.randn(30, 4)
    X = np.c_[X, X[:, 0] + X[:, 1]]  # a dependent column
    y = X[:, :4] @ np.array([1.0, -1.0, 0.5, 2.0]) + 0.1 * rng.randn(30)
    ours = fastgd.LinearRegression(**TIGHT).fit(X, y)
    ref = sk.LinearRegression().fit(X, y)  # lstsq: the minimum-norm solution
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------- Lasso, ElasticNet
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("solver", ["saga", "svrg", "auto"])
@pytest.mark.parametrize("name,kw", [("Lasso", dict(alpha=0.05)),
                                     ("ElasticNet", dict(alpha=0.1, l1_ratio=0.4))])
def test_l1_models_match_coordinate_descent(name, kw, solver, sparse):
    X, y = _regression(n=120, d=12, shift=0.5 if sparse else 2.0)
    sw = _weights(X.shape[0])
    ours = getattr(fastgd, name)(solver=solver, **kw, **TIGHT).fit(
        sp.csr_matrix(X) if sparse else X, y, sample_weight=sw)
    ref = getattr(sk, name)(tol=1e-14, max_iter=100000, **kw).fit(X, y, sample_weight=sw)
    assert np.any(ref.coef_ == 0.0)  # the L1 part zeroes some weights
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)
    assert ours.solver_ == ("saga" if solver == "auto" else solver)
    assert np.array_equal(ours.sparse_coef_.toarray().ravel(), ours.coef_)


def test_l1_models_multi_output_no_intercept_float32_and_warm_start():
    X, Y = _regression(n_targets=2, d=8)
    for fit_intercept in (True, False):
        ours = fastgd.ElasticNet(alpha=0.05, fit_intercept=fit_intercept, **TIGHT).fit(X, Y)
        ref = sk.ElasticNet(alpha=0.05, fit_intercept=fit_intercept, tol=1e-14,
                            max_iter=100000).fit(X, Y)
        assert ours.coef_.shape == (2, 8)
        assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
        assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)
    f32 = fastgd.Lasso(alpha=0.05, **TIGHT).fit(X.astype(np.float32), Y[:, 0])
    assert f32.coef_.dtype == np.float32
    assert_allclose(f32.coef_, sk.Lasso(alpha=0.05, tol=1e-14).fit(X, Y[:, 0]).coef_,
                    rtol=1e-4, atol=1e-6)
    warm = fastgd.Lasso(alpha=0.05, warm_start=True, **TIGHT).fit(X, Y[:, 0])
    first, optimum = warm.n_iter_[0], warm.coef_.copy()
    warm.fit(X, Y[:, 0])  # starts at the optimum (with an empty gradient memory)
    assert warm.n_iter_[0] < first
    assert_allclose(warm.coef_, optimum, rtol=1e-7, atol=1e-9)
    with pytest.raises(ValueError, match="Initialization coef is of shape"):
        warm.fit(X[:, :4], Y[:, 0])


def test_strong_l1_gives_zero_weights_and_the_exact_intercept():
    """All weights held at 0: the intercept is the weighted mean of y, on CSR too (the
    solver fits it, then it is set to its exact minimiser given w)."""
    X, y = _regression()
    sw = _weights(X.shape[0])
    for Xf in (X, sp.csr_matrix(X)):
        est = fastgd.Lasso(alpha=100.0, random_state=0).fit(Xf, y, sample_weight=sw)
        assert not np.any(est.coef_)
        assert_allclose(est.intercept_, sw @ y / sw.sum(), rtol=1e-12)


def test_l1_model_errors():
    X, y = _regression()
    for solver in ("sag", "lbfgs", "sparse_cg"):
        with pytest.raises(ValueError, match=f"solver='{solver}' does not support an L1"):
            fastgd.Lasso(solver=solver).fit(X, y)
    fastgd.ElasticNet(l1_ratio=0.0, solver="lbfgs", tol=1e-3).fit(X, y)  # no L1 part
    with pytest.raises(ValueError, match="precompute=True"):
        fastgd.Lasso(precompute=True).fit(X, y)
    with pytest.raises(ValueError, match="positive=True"):
        fastgd.ElasticNet(positive=True).fit(X, y)
    with pytest.raises(ValueError, match="'l1_ratio' parameter"):
        fastgd.ElasticNet(l1_ratio=1.5).fit(X, y)
    assert "l1_ratio" not in fastgd.Lasso().get_params()


@pytest.mark.parametrize("Est", [fastgd.Ridge, fastgd.LinearRegression, fastgd.Lasso,
                                 fastgd.ElasticNet])
def test_regressor_errors(Est):
    X, y = _regression()
    with pytest.raises(ValueError, match="positive=True"):
        Est(positive=True).fit(X, y)
    with pytest.raises(ValueError, match="solver='cholesky' is one of scikit-learn's"):
        Est(solver="cholesky").fit(X, y)
    with pytest.raises(ValueError, match="'solver' parameter"):
        Est(solver="adam").fit(X, y)
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Est().fit(Xn, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Est().fit(X, y[:-1])
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        Est().fit(X, y, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match="at least one non-zero"):
        Est().fit(X, y, sample_weight=np.zeros(X.shape[0]))
    fitted = Est(tol=1e-3).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :3])


def test_ridge_alpha_per_target_shape_error():
    X, Y = _regression(n_targets=2)
    with pytest.raises(ValueError, match="Number of targets and number of penalties"):
        fastgd.Ridge(alpha=np.array([1.0, 2.0, 3.0])).fit(X, Y)


def test_max_iter_reached_warns():
    X, y = _regression()
    with pytest.warns(ConvergenceWarning, match="max_iter was reached"):
        fastgd.Ridge(solver="sag", max_iter=1, tol=1e-12).fit(X, y)


# -------------------------------------------------------- LogisticRegression, binary
def _lbfgs(**kw):
    return sk.LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000, **kw)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_logistic_l2_matches_sklearn(solver, sparse):
    X, y = _classification()
    sw = _weights(X.shape[0])
    ours = fastgd.LogisticRegression(C=0.7, solver=solver, **TIGHT).fit(
        sp.csr_matrix(X) if sparse else X, y, sample_weight=sw)
    ref = _lbfgs(C=0.7).fit(X, y, sample_weight=sw)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-5, atol=1e-8)
    assert ours.coef_.shape == (1, X.shape[1]) and ours.intercept_.shape == (1,)
    assert ours.n_iter_.shape == (1,) and ours.n_iter_[0] < TIGHT["max_iter"]


def test_logistic_lbfgs_default_and_class_weight_and_no_penalty():
    X, y = _classification(seed=2)
    for kw in ({"class_weight": "balanced"}, {"class_weight": {0: 0.3, 1: 2.0}},
               {"C": np.inf}, {"fit_intercept": False}):
        ours = fastgd.LogisticRegression(**TIGHT, **kw).fit(X, y)
        ref = sk.LogisticRegression(tol=1e-12, max_iter=10000, **kw).fit(X, y)
        assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-6)
        assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_logistic_l1_elasticnet_match_sklearn_saga(l1_ratio, sparse):
    X, y = _classification(d=10, seed=4)
    Xf = sp.csr_matrix(X) if sparse else X
    ref = sk.LogisticRegression(C=0.1, l1_ratio=l1_ratio, solver="saga", tol=1e-12,
                                max_iter=100000).fit(X, y)
    for solver in ("auto", "saga", "svrg"):
        ours = fastgd.LogisticRegression(C=0.1, l1_ratio=l1_ratio, solver=solver,
                                         **TIGHT).fit(Xf, y)
        assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-7)
        assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-4, atol=1e-7)
        assert ours.solver_ == ("saga" if solver == "auto" else solver)
    assert (ours.coef_ == 0).any()  # the L1 part does set coefficients to 0


def test_logistic_penalty_parameter_as_sklearn():
    X, y = _classification()
    with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
        a = fastgd.LogisticRegression(penalty="l1", C=0.2, solver="saga", **TIGHT).fit(X, y)
    b = fastgd.LogisticRegression(l1_ratio=1.0, C=0.2, solver="saga", **TIGHT).fit(X, y)
    assert_allclose(a.coef_, b.coef_)
    with pytest.raises(ValueError, match="Solver sag supports only 'l2' or None"):
        fastgd.LogisticRegression(l1_ratio=1.0, solver="sag").fit(X, y)
    with pytest.raises(ValueError, match="solver='liblinear' is one of scikit-learn's"):
        fastgd.LogisticRegression(solver="liblinear").fit(X, y)
    with pytest.raises(ValueError, match="Solver lbfgs supports only 'l2' or None"):
        fastgd.LogisticRegression(l1_ratio=1.0, solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="supports only dual=False"):
        fastgd.LogisticRegression(dual=True).fit(X, y)
    with pytest.warns(UserWarning, match="penalty=None will ignore the C"):
        with pytest.warns(FutureWarning):
            fastgd.LogisticRegression(penalty=None, C=3.0, tol=1e-3).fit(X, y)


def test_logistic_errors():
    X, y = _classification()
    with pytest.raises(ValueError, match="only one class"):
        fastgd.LogisticRegression().fit(X, np.zeros(X.shape[0]))
    with pytest.raises(ValueError, match="Unknown label type"):
        fastgd.LogisticRegression().fit(X, np.linspace(0, 1, X.shape[0]))
    Xn = X.copy()
    Xn[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        fastgd.LogisticRegression().fit(Xn, y)
    with pytest.raises(ValueError, match="'C' parameter"):
        fastgd.LogisticRegression(C=-1.0).fit(X, y)


def test_logistic_warm_start_continues():
    X, y = _classification()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = fastgd.LogisticRegression(warm_start=True, max_iter=2, tol=1e-12,
                                        random_state=0, solver="saga")
        curves = [est.fit(X, y).loss_curve_[-1] for _ in range(4)]
    assert curves[-1] < curves[0]  # each fit starts where the last ended
    full = fastgd.LogisticRegression(**TIGHT).fit(X, y)
    assert curves[-1] >= full.loss_curve_[-1] - 1e-12


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_warm_start_keeps_sag_memory_and_cold_fits_take_no_digest(n_classes):
    """With warm_start the SAG memory of a fit (and its data digest) carries over to the
    next fit on the same data; without it no digest of X is taken (a pass over all of X
    for nothing), and a later warm start begins with a fresh memory."""
    X, y = _classification(n=200, n_classes=n_classes, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold = fastgd.LogisticRegression(solver="sag", max_iter=2, random_state=0).fit(X, y)
        assert cold._vr_state["fingerprint"] is None
        warm = fastgd.LogisticRegression(solver="sag", max_iter=2, random_state=0,
                                         warm_start=True).fit(X, y)
        digest, seen = warm._vr_state["fingerprint"], warm._vr_state["m_seen"]
        assert digest is not None
        warm.set_params(random_state=1).fit(X, y)  # other draws: more samples seen
        assert warm._vr_state["fingerprint"] == digest
        assert warm._vr_state["m_seen"] > seen > 0  # the memory went on
        fresh = fastgd.LogisticRegression(solver="sag", max_iter=2, random_state=1).fit(X, y)
        cold.set_params(warm_start=True, random_state=1).fit(X, y)  # no digest: restart
        assert cold._vr_state["m_seen"] == fresh._vr_state["m_seen"] < 200


def test_logistic_deterministic_for_a_seed():
    X, y = _classification()
    a = fastgd.LogisticRegression(random_state=3, tol=1e-3).fit(X, y)
    b = fastgd.LogisticRegression(random_state=3, tol=1e-3).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.n_iter_, b.n_iter_)


# --------------------------------------------------------- LogisticRegression, K > 2
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_multinomial_matches_sklearn(solver, sparse):
    X, y = _classification(n=150, n_classes=3, seed=5)
    sw = _weights(X.shape[0])
    ours = fastgd.LogisticRegression(C=0.5, solver=solver, **TIGHT).fit(
        sp.csr_matrix(X) if sparse else X, y, sample_weight=sw)
    ref = _lbfgs(C=0.5).fit(X, y, sample_weight=sw)
    assert ours.coef_.shape == (3, X.shape[1]) and ours.intercept_.shape == (3,)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-8)
    assert_allclose(ours.intercept_ - ours.intercept_.mean(),
                    ref.intercept_ - ref.intercept_.mean(), rtol=1e-5, atol=1e-8)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-5, atol=1e-8)
    assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_multinomial_l1_matches_sklearn_saga(l1_ratio):
    X, y = _classification(n=150, n_classes=3, seed=6)
    ref = sk.LogisticRegression(C=0.2, l1_ratio=l1_ratio, solver="saga", tol=1e-12,
                                max_iter=100000).fit(X, y)
    for Xf in (X, sp.csr_matrix(X)):
        ours = fastgd.LogisticRegression(C=0.2, l1_ratio=l1_ratio, **TIGHT).fit(Xf, y)
        assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-7)
        assert_allclose(ours.intercept_ - ours.intercept_.mean(),
                        ref.intercept_ - ref.intercept_.mean(), rtol=1e-4, atol=1e-7)


def test_multinomial_digits_against_sklearn():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    ref = sk.LogisticRegression(C=0.05, tol=1e-10, max_iter=10000).fit(X, y)
    ours = fastgd.LogisticRegression(C=0.05, tol=1e-9, max_iter=5000,
                                     random_state=0).fit(X, y)
    assert ours.coef_.shape == (10, 64)
    scale = np.abs(ref.coef_).max()
    assert np.abs(ours.coef_ - ref.coef_).max() <= 1e-5 * scale
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert (ours.predict(X) == ref.predict(X)).all()


def _multiclass_from_shared(shared_data, name):
    """A multiclass problem from a shared regression set: abalone's rings in the classic
    three classes (<= 8, 9-10, >= 11; dense), debian-size's target in quartiles (first
    3,000 packages; sparse tf-idf and indicators)."""
    if name == "abalone":
        X, y = shared_data("abalone.trn.bz2")
        return X.toarray(), np.digitize(y, [8.5, 10.5])
    X, y = shared_data("debian-size.svm.xz", max_rows=3000)
    return X, np.digitize(y, np.quantile(y, [0.25, 0.5, 0.75]))


@pytest.mark.parametrize("solver", ["lbfgs", "saga", "auto"])
@pytest.mark.parametrize("name", ["abalone", "debian-size"])
def test_multinomial_on_shared_sets_against_sklearn(shared_data, name, solver):
    X, y = _multiclass_from_shared(shared_data, name)
    C = 10.0 / X.shape[0]  # alpha = 0.1: SAGA gets to 1e-9 in a few hundred epochs
    ref = sk.LogisticRegression(C=C, tol=1e-12, max_iter=20000).fit(X, y)
    ours = fastgd.LogisticRegression(C=C, solver=solver, tol=1e-12, max_iter=20000,
                                     random_state=0).fit(X, y)
    assert ours.coef_.shape == ref.coef_.shape == (len(np.unique(y)), X.shape[1])
    scale = np.abs(ref.coef_).max()
    assert np.abs(ours.coef_ - ref.coef_).max() <= 1e-5 * scale
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_one_vs_rest_via_sklearn_wrapper():
    X, y = _classification(n=150, n_classes=3, seed=7)
    ours = OneVsRestClassifier(fastgd.LogisticRegression(**TIGHT)).fit(X, y)
    ref = OneVsRestClassifier(_lbfgs()).fit(X, y)
    for a, b in zip(ours.estimators_, ref.estimators_):
        assert_allclose(a.coef_, b.coef_, rtol=1e-5)


def test_multinomial_string_labels_and_accuracy():
    X, y = _classification(n=600, d=10, n_classes=4, seed=8)
    labels = np.array(["a", "b", "c", "d"])[y]
    ours = fastgd.LogisticRegression(random_state=0).fit(X, labels)
    ref = sk.LogisticRegression().fit(X, labels)
    assert list(ours.classes_) == ["a", "b", "c", "d"]
    assert abs(ours.score(X, labels) - ref.score(X, labels)) <= 0.01


# ----------------------------------------------------------------- check_estimator
_SW_EQUIVALENCE = ("check_sample_weight_equivalence_on_dense_data",
                   "check_sample_weight_equivalence_on_sparse_data")


def _expected_failed_checks(estimator):
    """What scikit-learn marks for its own estimator of the same name (its
    PER_ESTIMATOR_XFAIL_CHECKS): the sample-weight checks of LogisticRegression. Ridge
    and LinearRegression pass them (their 'auto' solver, conjugate gradient, takes the
    same steps on integer weights as on repeated samples); so do Lasso and ElasticNet,
    as scikit-learn's."""
    if isinstance(estimator, fastgd.LogisticRegression):
        return dict.fromkeys(_SW_EQUIVALENCE,
                             "sample_weight is not equivalent to removing/repeating samples.")
    return {}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks([fastgd.LogisticRegression(),
                          fastgd.LogisticRegression(solver="subsampled-newton"), fastgd.Ridge(),
                          fastgd.LinearRegression(), fastgd.Lasso(), fastgd.ElasticNet()],
                         expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", [check_sample_weight_equivalence_on_dense_data,
                                   check_sample_weight_equivalence_on_sparse_data])
@pytest.mark.parametrize("solver", ["sag", "saga", "svrg"])
def test_sample_weight_equivalence_of_the_stochastic_solvers_at_a_tight_tol(check, solver):
    """The stochastic solvers visit weighted and repeated samples in other orders: their
    fits agree only near the optimum, where they both are at a tight tol."""
    check("Ridge", fastgd.Ridge(solver=solver, tol=1e-10, max_iter=100000))
    if check is check_sample_weight_equivalence_on_dense_data:
        check("LinearRegression", fastgd.LinearRegression(solver=solver, tol=1e-10,
                                                          max_iter=100000))


def test_zero_X_without_intercept_is_w_zero():
    """The minimiser is w = 0 (scikit-learn's sag raises ZeroDivisionError there)."""
    X = np.zeros((4, 3))
    y = np.array([0, 1, 0, 1])
    est = fastgd.LogisticRegression(fit_intercept=False).fit(X, y)
    assert np.array_equal(est.coef_, np.zeros((1, 3)))
    for Est in (fastgd.Ridge, fastgd.LinearRegression):
        reg = Est(fit_intercept=False).fit(X, y.astype(float))
        assert np.array_equal(reg.coef_, np.zeros(3)) and reg.intercept_ == 0.0
    one = fastgd.Ridge().fit(np.ones((1, 3)), [2.0])  # one sample: centred X is 0
    assert np.array_equal(one.coef_, np.zeros(3)) and one.intercept_ == 2.0

"""The exact estimators (fastgd.LogisticRegression, Ridge, LinearRegression): scikit-learn's
objectives solved to ``tol`` by SAG/SAGA/SVRG, against scikit-learn's own solvers
(cholesky / lstsq / lbfgs / newton-cholesky / saga) to tight tolerance, dense and CSR,
with sample and class weights; their parameters and errors; multinomial on digits."""

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
@pytest.mark.parametrize("solver", SOLVERS)
def test_ridge_matches_cholesky(solver, sparse):
    X, y = _regression(shift=0.5 if sparse else 2.0)
    sw = _weights(X.shape[0])
    ours = fastgd.Ridge(alpha=3.0, solver=solver, **TIGHT).fit(
        sp.csr_matrix(X) if sparse else X, y, sample_weight=sw)
    ref = sk.Ridge(alpha=3.0, solver="cholesky").fit(X, y, sample_weight=sw)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-6)
    assert ours.solver_ == solver and ours.n_iter_.shape == (1,)


def test_ridge_multi_output_alpha_per_target_and_no_intercept():
    X, Y = _regression(n_targets=3)
    alpha = np.array([0.1, 1.0, 10.0])
    for fit_intercept in (True, False):
        ours = fastgd.Ridge(alpha=alpha, fit_intercept=fit_intercept, **TIGHT).fit(X, Y)
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


@pytest.mark.parametrize("Est", [fastgd.Ridge, fastgd.LinearRegression])
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
        fastgd.Ridge(max_iter=1, tol=1e-12).fit(X, y)


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
                                        random_state=0)
        curves = [est.fit(X, y).loss_curve_[-1] for _ in range(4)]
    assert curves[-1] < curves[0]  # each fit starts where the last ended
    full = fastgd.LogisticRegression(**TIGHT).fit(X, y)
    assert curves[-1] >= full.loss_curve_[-1] - 1e-12


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
    """LogisticRegression: what scikit-learn marks for its own LogisticRegression (its
    PER_ESTIMATOR_XFAIL_CHECKS). Ridge and LinearRegression: scikit-learn's pass the
    sample-weight checks (at rtol 1e-7 on predictions) because its default solvers
    are direct (cholesky, lstsq); a stochastic solver stopped at the default tol (1e-4,
    1e-6) is that far from the optimum on the check's 15 x 30 problem, so the default
    instances fail them -- test_sample_weight_equivalence_at_a_tight_tol shows that
    the objective is the right one (they pass once tol is tight)."""
    if isinstance(estimator, fastgd.LogisticRegression):
        reason = "sample_weight is not equivalent to removing/repeating samples."
    else:
        reason = ("solved to tol (max|dw|/max|w| <= 1e-4 or 1e-6) by a stochastic "
                  "solver, not to the check's rtol 1e-7; passes at tol=1e-10")
    return dict.fromkeys(_SW_EQUIVALENCE, reason)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks([fastgd.LogisticRegression(), fastgd.Ridge(),
                          fastgd.LinearRegression()],
                         expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", [check_sample_weight_equivalence_on_dense_data,
                                   check_sample_weight_equivalence_on_sparse_data])
def test_sample_weight_equivalence_at_a_tight_tol(check):
    check("Ridge", fastgd.Ridge(tol=1e-10, max_iter=100000))
    if check is check_sample_weight_equivalence_on_dense_data:
        check("LinearRegression", fastgd.LinearRegression(tol=1e-10, max_iter=100000))


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

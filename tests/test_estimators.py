"""fastgd's estimators as scikit-learn estimators: API checks, meta-estimators, options."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastgd import SGDClassifier, SGDRegressor
from fastgd import _engine
from fastgd._rules import RULES

ESTIMATORS = [
    SGDClassifier(),
    SGDRegressor(),
    SGDClassifier(optimizer="adam", batch_size=8),
    SGDRegressor(optimizer="adam", batch_size=8),
]




def _expected_failed_checks(estimator):
    """Checks that cannot apply to stochastic gradient descent (scikit-learn marks the
    same two as expected failures for its own SGDClassifier and SGDRegressor)."""
    reason = ("sample_weight scales a sample's steps; it is not equivalent to repeating "
              "the sample in a stochastic fit (the order and number of steps differ, and "
              "F(w) divides by the number of rows), as in scikit-learn's SGD.")
    failed = {"check_sample_weight_equivalence_on_dense_data": reason,
              "check_sample_weight_equivalence_on_sparse_data": reason}
    if isinstance(estimator, SGDRegressor) and estimator.optimizer == "sgd":
        # X ~ N(100, 1), y ~ N(0, 1): scikit-learn's default schedule (invscaling,
        # eta0=0.01) runs away there and returns coef_ ~ 1e12 (objective ~ 1e26;
        # tests/test_reliability.py shows it), which fastgd refuses with its divergence
        # error instead (SPEC: never an absurd model)
        runaway = ("the check's unscaled X (mean 100) makes SGD's default schedule "
                   "diverge; fastgd raises its divergence error instead of returning "
                   "scikit-learn's runaway model")
        failed.update(dict.fromkeys(["check_fit_check_is_fitted", "check_n_features_in",
                                     "check_fit_idempotent"], runaway))
    return failed


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def separable():
    """A linearly separable 2-class problem and a 3-class one (well separated blobs)."""
    rng = np.random.RandomState(0)
    X = rng.randn(80, 5)
    w = np.array([1.5, -2.0, 1.0, 0.5, 0.0])
    y2 = (X @ w > 0).astype(int)
    centers = np.array([[3, 0, 0, 0, 0], [0, 3, 0, 0, 0], [0, 0, 3, 0, 0]], float)
    y3 = np.repeat([0, 1, 2], 30)
    X3 = centers[y3] + 0.5 * rng.randn(90, 5)
    return X, y2, X3, y3


def _reg_problem():
    rng = np.random.RandomState(1)
    X = rng.randn(60, 4)
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 + 0.01 * rng.randn(60)
    return X, y


# ------------------------------------------------------------- meta-estimators
@pytest.mark.parametrize("est", [SGDClassifier(random_state=0),
                                 SGDClassifier(loss="log_loss", random_state=0),
                                 SGDClassifier(optimizer="adam", batch_size=8,
                                               random_state=0)])
def test_pipeline_classifier(separable, est):
    X, y, _, _ = separable
    pipe = make_pipeline(StandardScaler(), est).fit(X * 10 + 3, y)
    assert pipe.score(X * 10 + 3, y) >= 0.9


@pytest.mark.parametrize("est", [SGDRegressor(random_state=0),
                                 SGDRegressor(random_state=0, alpha=0.0),
                                 SGDRegressor(optimizer="adam", batch_size=8,
                                              eta0=0.05, random_state=0)])
def test_pipeline_regressor(est):
    X, y = _reg_problem()
    pipe = make_pipeline(StandardScaler(), est).fit(X, y)
    assert pipe.score(X, y) >= 0.95


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search(separable):
    X, y, _, _ = separable
    grid = GridSearchCV(SGDClassifier(random_state=0, max_iter=50),
                        {"alpha": [1e-4, 1e-2], "optimizer": ["sgd", "adam"]}, cv=2)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"alpha", "optimizer"}
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_score_ >= 0.8
    assert grid.best_estimator_.optimizer in ("sgd", "adam")


@pytest.mark.parametrize("est", [SGDClassifier(optimizer="rmsprop", alpha=1e-3, eta0=0.02),
                                 SGDClassifier(loss="log_loss", batch_size=4),
                                 SGDRegressor(loss="huber", epsilon=0.3)])
def test_clone(est):
    cloned = clone(est)
    assert cloned is not est
    assert cloned.get_params() == est.get_params()


@pytest.mark.parametrize("make", [
    lambda: SGDClassifier(random_state=0, loss="log_loss"),
    lambda: SGDClassifier(random_state=0, optimizer="adam", batch_size=4),
    lambda: SGDClassifier(loss="log_loss", random_state=0, average=True),
    lambda: SGDRegressor(random_state=0),
    lambda: SGDRegressor(random_state=0, optimizer="nag", batch_size=4)])
def test_pickle_round_trip(separable, make):
    est = make()
    X, y, X3, y3 = separable
    if est._is_classifier:
        X, y = X3, y3
    else:
        X, y = _reg_problem()
    est.fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    np.testing.assert_array_equal(again.coef_, est.coef_)
    # it keeps learning exactly as the original would
    est.partial_fit(X, y)
    again.partial_fit(X, y)
    np.testing.assert_array_equal(again.coef_, est.coef_)
    assert again.t_ == est.t_


# ------------------------------------------------------- partial_fit, warm_start
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "momentum"])
def test_partial_fit_learns_and_counts(separable, optimizer):
    _, _, X, y = separable
    est = SGDClassifier(optimizer=optimizer, batch_size=1 if optimizer == "sgd" else 5,
                        random_state=0)
    ts = []
    for k in range(5):
        est.partial_fit(X, y, classes=[0, 1, 2])
        ts.append(est.t_)
        assert est.n_iter_ == 1
    assert est.score(X, y) >= 0.9
    assert np.all(np.diff(ts) > 0)
    with pytest.raises(ValueError, match="not the same as on last call"):
        est.partial_fit(X, y, classes=[0, 1])


def test_partial_fit_equals_fit_one_epoch(separable):
    """One partial_fit on fresh state is one epoch of fit (tol=None, max_iter=1)."""
    _, _, X, y = separable
    kw = dict(optimizer="adam", batch_size=7, random_state=3)
    a = SGDClassifier(**kw).partial_fit(X, y, classes=np.unique(y))
    b = SGDClassifier(max_iter=1, tol=None, **kw).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad"])
def test_warm_start(optimizer):
    X, y = _reg_problem()
    kw = dict(optimizer=optimizer, max_iter=3, tol=None, random_state=0, eta0=0.05)
    import warnings
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = SGDRegressor(warm_start=True, **kw).fit(X, y)
        first = warm.coef_.copy()
        warm.fit(X, y)
        cold = SGDRegressor(**kw).fit(X, y, coef_init=first,
                                      intercept_init=SGDRegressor(**kw).fit(X, y).intercept_)
        again = SGDRegressor(**kw).fit(X, y)
    np.testing.assert_array_equal(cold.coef_, warm.coef_)
    np.testing.assert_array_equal(again.coef_, first)  # no warm start: starts over
    assert not np.array_equal(warm.coef_, first)


# ------------------------------------------------------------------ predicting
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # log(0) on sure rows
@pytest.mark.parametrize("loss", ["log_loss", "modified_huber"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_proba(separable, loss, n_classes):
    X2, y2, X3, y3 = separable
    X, y = (X2, y2) if n_classes == 2 else (X3, y3)
    est = SGDClassifier(loss=loss, random_state=0).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (X.shape[0], n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], est.predict(X))
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba))


def test_predict_proba_log_loss_is_logistic(separable):
    X, y, _, _ = separable
    est = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    p1 = 1.0 / (1.0 + np.exp(-est.decision_function(X)))
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], p1, rtol=1e-12)


@pytest.mark.parametrize("loss", ["hinge", "perceptron", "squared_error"])
def test_no_predict_proba(loss):
    assert not hasattr(SGDClassifier(loss=loss), "predict_proba")
    assert hasattr(SGDClassifier(loss="log_loss"), "predict_proba")


@pytest.mark.parametrize("n_classes", [2, 3])
def test_decision_function_shapes(separable, n_classes):
    X2, y2, X3, y3 = separable
    X, y = (X2, y2) if n_classes == 2 else (X3, y3)
    est = SGDClassifier(random_state=0).fit(X, y)
    d = est.decision_function(X)
    assert d.shape == ((X.shape[0],) if n_classes == 2 else (X.shape[0], n_classes))
    assert est.coef_.shape == (1 if n_classes == 2 else n_classes, X.shape[1])
    assert est.intercept_.shape == (1 if n_classes == 2 else n_classes,)
    reg = SGDRegressor(random_state=0).fit(*_reg_problem())
    assert reg.predict(X[:, :4]).shape == (X.shape[0],)
    assert reg.coef_.shape == (4,) and reg.intercept_.shape == (1,)


@pytest.mark.parametrize("make", [
    lambda: SGDClassifier(random_state=0),
    lambda: SGDClassifier(random_state=0, optimizer="adam", batch_size=4),
    lambda: SGDRegressor(random_state=0),
    lambda: SGDRegressor(random_state=0, optimizer="rmsprop", batch_size="full",
                         max_iter=20)])
def test_loss_curve_length(separable, make):
    est = make()
    X, y, _, _ = separable
    if not est._is_classifier:
        X, y = _reg_problem()
    import warnings
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert len(est.loss_curve_) == est.n_iter_
    assert np.all(np.isfinite(est.loss_curve_))


# --------------------------------------------------------------- every optimizer
@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("optimizer", sorted(RULES))
def test_every_optimizer_fits_separable(separable, to_input, optimizer, kind):
    X, y, _, _ = separable
    Xk = to_input(X, kind)
    est = SGDClassifier(optimizer=optimizer, batch_size=1 if optimizer == "sgd" else 4,
                        random_state=0, max_iter=100)
    import warnings
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(Xk, y)
    assert est.score(Xk, y) >= 0.9, (optimizer, kind)


# ------------------------------------------------------------- SPEC 6 defaults
def test_auto_defaults_resolve():
    assert SGDClassifier()._resolved()[:2] == ("optimal", 0.01)
    assert SGDRegressor()._resolved()[:2] == ("invscaling", 0.01)
    assert SGDClassifier(optimizer="adam")._resolved()[:2] == ("constant", 1e-3)
    assert SGDRegressor(optimizer="adam")._resolved()[:2] == ("constant", 1e-3)
    lr, eta0, hp = SGDRegressor(optimizer="adam", beta_2=0.99)._resolved()
    assert (lr, eta0) == ("constant", 1e-3)
    assert list(hp[2:]) == [0.9, 0.99, 1e-8]
    # an explicit schedule or step is honoured
    assert SGDRegressor(optimizer="adam", learning_rate="invscaling",
                        eta0=0.1)._resolved()[:2] == ("invscaling", 0.1)


@pytest.mark.parametrize("Est", [SGDRegressor])
def test_adam_first_step_is_eta0_default(Est):
    """Adam's first step moves every coordinate with a nonzero gradient by ~eta = 1e-3."""
    X = np.array([[1.0, -2.0, 0.5]])
    y = np.array([3.0])
    est = Est(optimizer="adam", batch_size=1, alpha=0.0, penalty=None, shuffle=False,
              max_iter=1, tol=None).fit(X, y)
    # first Adam step: m_hat = g, v_hat = g^2 -> step eta * sign(g) (up to eps)
    np.testing.assert_allclose(est.coef_, 1e-3 * np.sign(X[0] * 3.0), rtol=1e-6)
    np.testing.assert_allclose(est.intercept_, [1e-3], rtol=1e-6)


# ----------------------------------------------------------- no copy of float32
def test_float32_csr_is_not_copied():
    rng = np.random.RandomState(0)
    X = sp.random(30, 8, density=0.4, format="csr", dtype=np.float32, random_state=rng)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    y = rng.randn(30)
    est = SGDRegressor()
    Xv, _ = est._validate_X_y(X, y, reset=True)
    assert Xv.dtype == np.float32
    rows = _engine.Rows.of(Xv)
    assert rows.data.dtype == np.float32
    assert np.shares_memory(rows.data, X.data)
    assert np.shares_memory(rows.indices, X.indices)

    seen = []
    original = _engine.Rows.of.__func__

    def spy(cls, data, backend="auto"):
        rows = original(cls, data, backend)
        seen.append(rows)
        return rows

    import unittest.mock as mock

    with mock.patch.object(_engine.Rows, "of", classmethod(spy)):
        SGDClassifier(max_iter=2, tol=None).fit(X, (y > 0).astype(int))
        SGDRegressor(optimizer="adam", batch_size=4, max_iter=2, tol=None).fit(X, y)
    assert seen and all(np.shares_memory(r.data, X.data) for r in seen)


def test_float32_dense_is_not_copied():
    X = np.random.RandomState(0).rand(20, 3).astype(np.float32)
    rows = _engine.Rows.of(SGDRegressor()._validate_X_y(X, np.ones(20), reset=True)[0])
    assert rows.data.dtype == np.float32 and np.shares_memory(rows.data, X)


@pytest.mark.parametrize("kw", [{}, {"optimizer": "adam"}, {"solver": "saga"},
                                {"solver": "svrg"}, {"solver": "sag"},
                                {"optimizer": "adagrad", "n_jobs": 2}])
@pytest.mark.parametrize("Est, n_classes", [(SGDClassifier, 2), (SGDClassifier, 3),
                                            (SGDRegressor, 0)])
def test_coef_init_is_never_written(Est, n_classes, kw):
    """Every solver fits a copy of coef_init / intercept_init (they are validated
    without a copy); the user's arrays, and a warm start's coef_, stay as they were."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = rng.randint(n_classes, size=60) if n_classes else X @ [1.0, -1.0, 2.0, 0.5]
    k = 1 if n_classes <= 2 else n_classes
    coef = rng.randn(k, 4) if Est is SGDClassifier else rng.randn(4)
    intercept = rng.randn(k)
    before = coef.copy(), intercept.copy()
    if Est is SGDClassifier and "solver" in kw:
        kw = dict(kw, loss="log_loss")
    est = Est(max_iter=3, tol=None, random_state=0, **kw)
    est.fit(X, y, coef_init=coef, intercept_init=intercept)
    np.testing.assert_array_equal(coef, before[0])
    np.testing.assert_array_equal(intercept, before[1])
    fitted = est.coef_.copy()
    est.set_params(warm_start=True).fit(X, y)
    assert not np.array_equal(est.coef_, fitted)
    est.coef_ = fitted_view = fitted.copy()
    est.partial_fit(X, y)
    np.testing.assert_array_equal(fitted_view, fitted)

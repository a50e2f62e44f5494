"""Bad input gives a precise ValueError, and a failed fit or partial_fit changes nothing."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from fastgd import SGDClassifier, SGDRegressor

RNG = np.random.RandomState(0)
X = RNG.randn(30, 3)
Y_CLF = (X[:, 0] > 0).astype(int)
Y_REG = 3.0 * X[:, 0] - X[:, 1]
# the exact estimators (LogisticRegression, Ridge, LinearRegression): tests/test_exact.py
CLASSIFIERS = [SGDClassifier]
REGRESSORS = [SGDRegressor]
ALL = CLASSIFIERS + REGRESSORS


def _y(Est):
    return Y_CLF if Est in CLASSIFIERS else Y_REG


def _with(value, where=(0, 0), A=X):
    A = A.copy()
    A[where] = value
    return A


# ------------------------------------------------------------------- X, y, weights
@pytest.mark.parametrize("fmt", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("value, msg", [(np.nan, "Input X contains NaN"),
                                        (np.inf, "Input X contains infinity"),
                                        (-np.inf, "Input X contains infinity")])
@pytest.mark.parametrize("Est", ALL)
def test_non_finite_X(Est, value, msg, fmt):
    Xb = fmt(_with(value, (3, 1)))
    with pytest.raises(ValueError, match=msg):
        Est().fit(Xb, _y(Est))
    est = Est().fit(X, _y(Est))
    with pytest.raises(ValueError, match=msg):
        est.predict(Xb)
    with pytest.raises(ValueError, match=msg):
        if Est in CLASSIFIERS:
            est.partial_fit(Xb, _y(Est))
        else:
            est.partial_fit(Xb, _y(Est))


@pytest.mark.parametrize("value, msg", [(np.nan, "Input y contains NaN"),
                                        (np.inf, "Input y contains infinity")])
@pytest.mark.parametrize("Est", REGRESSORS)
def test_non_finite_y_regression(Est, value, msg):
    with pytest.raises(ValueError, match=msg):
        Est().fit(X, _with(value, 2, Y_REG))
    with pytest.raises(ValueError, match=msg):
        Est().partial_fit(X, _with(value, 2, Y_REG))


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_nan_y_classification(Est):
    y = _with(np.nan, 2, Y_CLF.astype(float))
    with pytest.raises(ValueError, match="Input y contains NaN"):
        Est().fit(X, y)


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_continuous_y_classification(Est):
    with pytest.raises(ValueError, match="Unknown label type"):
        Est().fit(X, Y_REG)


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("Est", ALL)
def test_non_finite_sample_weight(Est, value):
    sw = _with(value, 4, np.ones(len(X)))
    msg = "sample_weight contains (NaN|infinity)"
    with pytest.raises(ValueError, match=msg):
        Est().fit(X, _y(Est), sample_weight=sw)


@pytest.mark.parametrize("Est", ALL)
def test_length_mismatch(Est):
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[30, 29\\]"):
        Est().fit(X, _y(Est)[:-1])
    with pytest.raises(ValueError, match="sample_weight.shape == \\(29,\\)"):
        Est().fit(X, _y(Est), sample_weight=np.ones(29))


@pytest.mark.parametrize("Est", ALL)
def test_wrong_n_features(Est):
    est = Est().fit(X, _y(Est))
    msg = "X has 2 features, but .* is expecting 3 features as input"
    with pytest.raises(ValueError, match=msg):
        est.predict(X[:, :2])
    with pytest.raises(ValueError, match=msg):
        est.partial_fit(X[:, :2], _y(Est))
    if Est in CLASSIFIERS:
        with pytest.raises(ValueError, match=msg):
            est.decision_function(sp.csr_matrix(X[:, :2]))


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_single_class(Est):
    with pytest.raises(ValueError, match="The number of classes has to be greater than one"):
        Est().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="The number of classes has to be greater than one"):
        Est().partial_fit(X, np.zeros(len(X)), classes=[0])


def test_partial_fit_needs_classes():
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        SGDClassifier().partial_fit(X, Y_CLF)


# --------------------------------------------------------------- parameters
@pytest.mark.parametrize("param, value, msg", [
    ("optimizer", "adamm", "'optimizer' parameter .* must be a str among"),
    ("solver", "newton-cg", "'solver' parameter .* must be a str among"),
    ("learning_rate", "cosine", "'learning_rate' parameter .* must be a str among"),
    ("backend", "cuda", "'backend' parameter .* must be a str among"),
    ("alpha", -0.1, "'alpha' parameter .* must be a float in the range \\[0.0, inf\\)"),
    ("eta0", 0.0, "'eta0' parameter .* range \\(0.0, inf\\)"),
    ("eta0", -1.0, "'eta0' parameter .* range \\(0.0, inf\\)"),
    ("momentum", 1.0, "'momentum' parameter .* range \\[0.0, 1.0\\)"),
    ("rho", 1.5, "'rho' parameter .* range \\[0.0, 1.0\\)"),
    ("beta_1", 1.0, "'beta_1' parameter .* range \\[0.0, 1.0\\)"),
    ("beta_2", 1.0, "'beta_2' parameter .* range \\[0.0, 1.0\\)"),
    ("eps", 0.0, "'eps' parameter .* range \\(0.0, inf\\)"),
    ("batch_size", 0, "'batch_size' parameter .* range \\[1, inf\\)"),
    ("batch_size", "half", "'batch_size' parameter"),
    ("l1_ratio", 1.5, "'l1_ratio' parameter .* range \\[0.0, 1.0\\]"),
    ("max_iter", 0, "'max_iter' parameter"),
    ("validation_fraction", 1.0, "'validation_fraction' parameter"),
])
@pytest.mark.parametrize("Est", ALL)
def test_invalid_parameter(Est, param, value, msg):
    with pytest.raises(ValueError, match=msg):
        Est(**{param: value}).fit(X, _y(Est))


@pytest.mark.parametrize("Est", [SGDClassifier, SGDRegressor])
def test_unknown_loss(Est):
    with pytest.raises(ValueError, match="'loss' parameter .* must be a str among"):
        Est(loss="logistic").fit(X, _y(Est))


def test_classification_loss_for_regressor():
    with pytest.raises(ValueError, match="'loss' parameter"):
        SGDRegressor(loss="hinge").fit(X, Y_REG)


def test_unavailable_backend(monkeypatch):
    import fastgd._backend as backend

    monkeypatch.setattr(backend, "available_backends", lambda: ["numba"])
    monkeypatch.setattr(backend, "_importable", lambda name: name == "numba", raising=False)
    with pytest.raises(ValueError, match="backend='cython' is not available"):
        SGDRegressor(backend="cython").fit(X, Y_REG)


@pytest.mark.parametrize("solver", ["sag", "saga", "svrg"])
@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
@pytest.mark.parametrize("Est", ALL)
def test_variance_reduced_solver_with_optimizer(Est, solver, optimizer):
    with pytest.raises(ValueError,
                       match="variance-reduced solvers .* use their own plain step"):
        Est(solver=solver, optimizer=optimizer).fit(X, _y(Est))


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_optimal_needs_alpha(Est):
    with pytest.raises(ValueError, match="alpha must be > 0 since learning_rate is 'optimal'"):
        Est(alpha=0.0).fit(X, Y_CLF)


def test_average_needs_plain_sgd():
    with pytest.raises(ValueError, match="average \\(ASGD\\) is implemented for"):
        SGDRegressor(average=True, optimizer="adam").fit(X, Y_REG)


def test_early_stopping_with_partial_fit():
    with pytest.raises(ValueError, match="early_stopping should be False with partial_fit"):
        SGDRegressor(early_stopping=True).partial_fit(X, Y_REG)


def test_balanced_partial_fit():
    with pytest.raises(ValueError, match="class_weight 'balanced' is not supported"):
        SGDClassifier(class_weight="balanced").partial_fit(X, Y_CLF, classes=[0, 1])


def test_coef_init_shape():
    with pytest.raises(ValueError, match="Provided coef_init does not match dataset"):
        SGDClassifier().fit(X, Y_CLF, coef_init=np.zeros(4))
    with pytest.raises(ValueError, match="Provided intercept_init does not match dataset"):
        SGDRegressor().fit(X, Y_REG, intercept_init=np.zeros(2))


# ---------------------------------------------------------------- divergence
DIVERGE_MSG = "diverged.*(StandardScaler|smaller eta0)"


@pytest.mark.parametrize("tol", [1e-3, None])
@pytest.mark.parametrize("Est, y", [(SGDRegressor, Y_REG), (SGDClassifier, Y_CLF)])
def test_diverging_plain_sgd(Est, y, tol):
    """Plain SGD (scikit-learn's algorithm, dloss clipped at 1e12) overflows on badly
    scaled data with a huge constant step: a ValueError with advice, not NaN coef_.
    With tol=None (the objective untracked but in the last epoch) and in partial_fit."""
    kw = {"loss": "squared_error"} if Est is SGDClassifier else {}
    est = Est(optimizer="sgd", learning_rate="constant", eta0=1e10, tol=tol, **kw)
    with pytest.raises(ValueError, match=DIVERGE_MSG):
        est.fit(X * 1e100, y)
    with pytest.raises(ValueError, match=DIVERGE_MSG):
        est.partial_fit(X * 1e100, y, **({"classes": [0, 1]} if Est is SGDClassifier
                                         else {}))


@pytest.mark.parametrize("tol", [1e-3, None])
def test_absurd_but_finite_plain_sgd(tol):
    """A plain fit whose weights stay finite but whose objective is absurd (over 1e6 times
    the zero model's) is a divergence error, tracked objective or not."""
    rng = np.random.RandomState(0)
    Xa = rng.randn(200, 3) * 1e3
    ya = Xa @ [1.0, -2.0, 3.0]
    est = SGDRegressor(learning_rate="constant", eta0=0.5, max_iter=3, tol=tol,
                       penalty=None)
    with pytest.raises(ValueError, match=DIVERGE_MSG):
        est.fit(Xa, ya)


@pytest.mark.parametrize("optimizer", ["momentum", "nag", "sgd"])
@pytest.mark.parametrize("Est", [SGDRegressor, SGDClassifier])
def test_diverging_optimizer(Est, optimizer):
    Xbig = np.tile(X, (4, 1)) * 1e6
    y = np.tile(_y(Est), 4)
    with pytest.raises(ValueError, match=DIVERGE_MSG):
        Est(optimizer=optimizer, batch_size=2, learning_rate="constant", eta0=1e10).fit(
            Xbig, y)


def _state(est):
    return (est.coef_.copy(), est.intercept_.copy(), est.t_, est.n_iter_)


def _assert_state(est, before):
    np.testing.assert_array_equal(est.coef_, before[0])
    np.testing.assert_array_equal(est.intercept_, before[1])
    assert est.t_ == before[2]
    assert est.n_iter_ == before[3]


@pytest.mark.parametrize("Est", ALL)
def test_failed_partial_fit_changes_nothing(Est):
    y = _y(Est)
    kw = {"classes": [0, 1]} if Est in CLASSIFIERS else {}
    est = Est(optimizer="momentum", batch_size=2, random_state=0)
    est.partial_fit(X, y, **kw).partial_fit(X, y)
    before = _state(est)
    # diverging epoch
    est.set_params(eta0=1e10)
    with pytest.raises(ValueError, match=DIVERGE_MSG):
        est.partial_fit(np.tile(X, (4, 1)) * 1e6, np.tile(y, 4))
    _assert_state(est, before)
    est.set_params(eta0="auto")
    # bad data: wrong width, NaN, bad labels
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :2], y)
    with pytest.raises(ValueError, match="NaN"):
        est.partial_fit(_with(np.nan), y)
    if Est in CLASSIFIERS:
        with pytest.raises(ValueError, match="y contains labels \\[7\\] not in classes"):
            est.partial_fit(X, np.where(y == 1, 7, 0))
    _assert_state(est, before)
    # and it still learns afterwards, from where it was
    est.partial_fit(X, y)
    assert est.t_ > before[2]


@pytest.mark.parametrize("Est", [SGDClassifier, SGDRegressor])
def test_failed_plain_partial_fit_changes_nothing(Est):
    y = _y(Est)
    kw = {"classes": [0, 1]} if Est is SGDClassifier else {}
    loss = {"loss": "squared_hinge"} if Est is SGDClassifier else {}  # unbounded dloss
    # a sane first call ('optimal' on squared_hinge here gives scikit-learn's own
    # runaway model, coef_ ~ 1e11, which fastgd refuses as diverged)
    est = Est(average=True, random_state=0, learning_rate="constant", eta0=0.01,
              **loss).partial_fit(X, y, **kw)
    before = _state(est)
    std = est._standard_coef.copy()
    est.set_params(learning_rate="constant", eta0=1e10)
    with pytest.raises(ValueError, match=DIVERGE_MSG):
        est.partial_fit(X * 1e100, y)
    _assert_state(est, before)
    np.testing.assert_array_equal(est._standard_coef, std)


@pytest.mark.parametrize("Est", ALL)
def test_failed_first_partial_fit_leaves_unfitted(Est):
    from sklearn.exceptions import NotFittedError

    est = Est(optimizer="momentum", eta0=1e10, batch_size=2)
    kw = {"classes": [0, 1]} if Est in CLASSIFIERS else {}
    with pytest.raises(ValueError, match=DIVERGE_MSG):
        est.partial_fit(np.tile(X, (4, 1)) * 1e6, np.tile(_y(Est), 4), **kw)
    for attr in ("coef_", "intercept_", "t_", "n_iter_"):
        assert not hasattr(est, attr)
    with pytest.raises(NotFittedError):
        est.predict(X)


@pytest.mark.parametrize("Est", ALL)
def test_failed_fit_keeps_previous_model(Est):
    est = Est(random_state=0).fit(X, _y(Est))
    before = _state(est)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(_with(np.nan), _y(Est))
    with pytest.raises(ValueError, match=DIVERGE_MSG):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.set_params(optimizer="momentum", eta0=1e10, batch_size=2).fit(
                np.tile(X, (4, 1)) * 1e6, np.tile(_y(Est), 4))
    _assert_state(est, before)

"""The losses of the kernels: values per SPEC section 1 / scikit-learn, exact derivatives,
and the gradient of the whole objective F(w, b) that one full-batch step follows."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime, check_grad

from fastgd import SGDClassifier, SGDRegressor
from fastgd._rules import LOSSES, loss_param
from fastgd.kernels._nb_sgd import loss_dloss, loss_value

EPSILON = 0.3  # of the huber-type losses
RNG = np.random.RandomState(42)


def _reference(name, y, p, eps=EPSILON):
    """SPEC section 1 and scikit-learn's definitions, written out."""
    z = y * p
    r = y - p
    return {
        "squared_error": 0.5 * (p - y) ** 2,
        "log_loss": np.log1p(np.exp(-z)),
        "hinge": max(0.0, 1.0 - z),
        "perceptron": max(0.0, -z),
        "squared_hinge": max(0.0, 1.0 - z) ** 2,
        "modified_huber": 0.0 if z >= 1 else ((1 - z) ** 2 if z >= -1 else -4.0 * z),
        "huber": 0.5 * r * r if abs(r) <= eps else eps * (abs(r) - 0.5 * eps),
        "epsilon_insensitive": max(0.0, abs(r) - eps),
        "squared_epsilon_insensitive": max(0.0, abs(r) - eps) ** 2,
    }[name]


def _kink_distance(name, y, p, eps=EPSILON):
    z = y * p
    r = abs(y - p)
    return {
        "squared_error": np.inf, "log_loss": np.inf,
        "hinge": abs(1 - z), "perceptron": abs(z), "squared_hinge": abs(1 - z),
        "modified_huber": min(abs(1 - z), abs(1 + z)),
        "huber": abs(r - eps), "epsilon_insensitive": min(abs(r - eps), r),
        "squared_epsilon_insensitive": min(abs(r - eps), r),
    }[name]


def _points(name, n=300):
    """Random (y, p) pairs, y = +-1 for classification losses, away from the kinks."""
    spec = LOSSES[name]
    out = []
    while len(out) < n:
        p = RNG.uniform(-4, 4)
        y = RNG.choice([-1.0, 1.0]) if spec.classification else RNG.uniform(-3, 3)
        if _kink_distance(name, y, p) > 1e-3:
            out.append((y, p))
    return out


def _kernel(name):
    return int(LOSSES[name].id), loss_param(name, EPSILON)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_value_matches_spec(name):
    lid, param = _kernel(name)
    for y, p in _points(name, 200):
        assert loss_value(lid, y, p, param) == pytest.approx(_reference(name, y, p),
                                                             rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_dloss_is_derivative_of_value(name):
    lid, param = _kernel(name)
    h = 1e-6
    for y, p in _points(name):
        fd = (loss_value(lid, y, p + h, param) - loss_value(lid, y, p - h, param)) / (2 * h)
        d = loss_dloss(lid, y, p, param)
        assert d == pytest.approx(fd, rel=1e-6, abs=1e-7), (y, p)


FLAT = {"hinge": (1.0, 2.0), "perceptron": (1.0, 0.5), "squared_hinge": (1.0, 1.5),
        "modified_huber": (-1.0, -3.0), "epsilon_insensitive": (0.5, 0.6),
        "squared_epsilon_insensitive": (0.5, 0.4)}


@pytest.mark.parametrize("name", sorted(FLAT))
def test_dloss_flat_region_is_zero(name):
    """Where the loss is flat its derivative is exactly zero (no update in scikit-learn)."""
    lid, param = _kernel(name)
    y, p = FLAT[name]
    assert loss_value(lid, y, p, param) == 0.0
    assert loss_dloss(lid, y, p, param) == 0.0


def test_log_loss_extremes_are_finite():
    lid, param = _kernel("log_loss")
    for y in (-1.0, 1.0):
        for p in (-800.0, -40.0, 40.0, 800.0):
            assert np.isfinite(loss_value(lid, y, p, param))
            d = loss_dloss(lid, y, p, param)
            assert np.isfinite(d) and abs(d) <= 1.0
    assert loss_value(lid, 1.0, 800.0, param) == pytest.approx(0.0, abs=1e-300)
    assert loss_value(lid, -1.0, 800.0, param) == pytest.approx(800.0)


# ------------------------------------------------------- against scikit-learn's objects
SGD_FAST = {"hinge": ("Hinge", 1.0), "perceptron": ("Hinge", 0.0),
            "squared_hinge": ("SquaredHinge", 1.0), "modified_huber": ("ModifiedHuber",),
            "epsilon_insensitive": ("EpsilonInsensitive", EPSILON),
            "squared_epsilon_insensitive": ("SquaredEpsilonInsensitive", EPSILON)}


@pytest.mark.parametrize("name", sorted(SGD_FAST))
def test_matches_sklearn_sgd_fast(name):
    sgd_fast = pytest.importorskip("sklearn.linear_model._sgd_fast")
    cls, *args = SGD_FAST[name]
    ref = getattr(sgd_fast, cls)(*args)
    lid, param = _kernel(name)
    for y, p in _points(name, 200):
        assert loss_value(lid, y, p, param) == pytest.approx(ref.py_loss(p, y), rel=1e-12,
                                                             abs=1e-14)
        assert loss_dloss(lid, y, p, param) == pytest.approx(ref.py_dloss(p, y), rel=1e-12,
                                                             abs=1e-14)


@pytest.mark.parametrize("name", ["log_loss", "squared_error", "huber"])
def test_matches_sklearn_loss_module(name):
    """scikit-learn's SGD uses sklearn._loss for these; log_loss with y in {0, 1}."""
    mod = pytest.importorskip("sklearn._loss._loss")
    ref = {"log_loss": lambda: mod.CyHalfBinomialLoss(),
           "squared_error": lambda: mod.CyHalfSquaredError(),
           "huber": lambda: mod.CyHuberLoss(EPSILON)}[name]()
    lid, param = _kernel(name)
    pts = _points(name, 200)
    y = np.array([q[0] for q in pts])
    p = np.array([q[1] for q in pts])
    y_ref = (y + 1.0) / 2.0 if name == "log_loss" else y
    loss, grad = np.empty_like(p), np.empty_like(p)
    ref.loss(y_ref, p, None, loss, 1)
    ref.gradient(y_ref, p, None, grad, 1)
    ours = np.array([loss_value(lid, a, b, param) for a, b in pts])
    dours = np.array([loss_dloss(lid, a, b, param) for a, b in pts])
    np.testing.assert_allclose(ours, loss, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dours, grad, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------- gradient of the objective
def _objective(loss, X, y, sw, alpha):
    lid, param = _kernel(loss)

    def F(theta):
        w, b = theta[:-1], theta[-1]
        p = X @ w + b
        data = np.mean(sw * np.array([loss_value(lid, yi, pi, param)
                                      for yi, pi in zip(y, p)]))
        return data + alpha * 0.5 * w @ w

    return F


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_full_batch_step_is_objective_gradient(loss, weighted):
    """One step of sgd, batch_size='full', constant eta: delta theta = -eta grad F (SPEC 1-2)."""
    rng = np.random.RandomState(3)
    n, d = 12, 4
    X = rng.randn(n, d)
    w0, b0 = 0.3 * rng.randn(d), 0.2
    sw = rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    alpha, eta = 0.05, 0.5
    kw = dict(optimizer="sgd", batch_size="full", learning_rate="constant", eta0=eta,
              alpha=alpha, penalty="l2", max_iter=1, tol=None, shuffle=False)
    if loss == "log_loss":
        y = (X @ w0 + 0.5 * rng.randn(n) > 0).astype(int)
        est = SGDClassifier(loss="log_loss", **kw)
        y_pm = np.where(y == 1, 1.0, -1.0)
    else:
        y = X @ rng.randn(d) + 0.1 * rng.randn(n)
        est = SGDRegressor(loss="squared_error", **kw)
        y_pm = y
    est.fit(X, y, coef_init=w0.copy(), intercept_init=np.array([b0]),
            sample_weight=sw)
    theta0 = np.r_[w0, b0]
    theta1 = np.r_[est.coef_.ravel(), est.intercept_[0]]
    g_step = (theta0 - theta1) / eta
    F = _objective(loss, X, y_pm, sw, alpha)
    g_fd = approx_fprime(theta0, F, 1e-7)
    np.testing.assert_allclose(g_step, g_fd, rtol=1e-5, atol=1e-7)
    # and scipy's own check of an analytic gradient built from loss_dloss
    lid, param = _kernel(loss)

    def grad(theta):
        w, b = theta[:-1], theta[-1]
        p = X @ w + b
        dl = sw * np.array([loss_dloss(lid, yi, pi, param) for yi, pi in zip(y_pm, p)]) / n
        return np.r_[X.T @ dl + alpha * w, dl.sum()]

    assert check_grad(F, grad, theta0) < 1e-6
    np.testing.assert_allclose(g_step, grad(theta0), rtol=1e-10, atol=1e-13)

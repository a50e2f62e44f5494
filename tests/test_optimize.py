"""fastgd.optimize: minimize runs the kernels' rules step for step as the NumPy reference
(with schedules, clipping and noise), reaches the test functions' minima, and measures
the textbook claims about the saddle; check_grad flags wrong gradients."""

import numpy as np
import pytest

import reference as ref  # tests/ (conftest.py)
from fastgd._backend import available_backends
from fastgd._rules import RULES
from fastgd.optimize import TEST_FUNCTIONS, check_grad, minimize
from fastgd.schedules import CosineAnnealing, OneCycle

BACKENDS = available_backends()


def _quadratic():
    rng = np.random.RandomState(0)
    A = rng.randn(5, 5)
    H = A @ A.T + np.eye(5)
    b = rng.randn(5)
    return (lambda x: 0.5 * x @ H @ x - b @ x), (lambda x: H @ x - b)


def _reference_path(rule, jac, x0, eta, n_steps, tools):
    hp = ref.DEFAULTS[rule]
    w = np.array(x0, dtype=float)
    S = {k: np.zeros_like(w) for k in ref.SLOTS[rule]}
    path = [w.copy()]
    everything = np.ones(w.size, dtype=bool)
    for t in range(1, n_steps + 1):
        point = w - hp["momentum"] * S["v"] if rule == "nag" else w
        g = ref.tooled(jac(point), everything, t, **tools)
        eta_t = eta(t) if callable(eta) else eta
        w, S = ref.rule_update(rule, w, g, S, eta_t, t, hp)
        path.append(w.copy())
    return np.array(path)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("tools", [
    {}, dict(clip_norm=0.5), dict(clip_value=0.2),
    dict(clip_norm=1.0, gradient_noise=0.3, noise_decay=0.55, random_state=4)],
    ids=["plain", "clip_norm", "clip_value", "noise"])
@pytest.mark.parametrize("rule", list(RULES))
def test_minimize_steps_as_the_reference(rule, tools, backend):
    fun, jac = _quadratic()
    x0 = np.linspace(-1.0, 1.0, 5)
    eta = 0.5 if rule == "adadelta" else 0.05
    res = minimize(fun, x0, jac, optimizer=rule, learning_rate=eta, max_iter=40, tol=0.0,
                   return_path=True, backend=backend, **tools)
    seed = (int(np.random.RandomState(tools["random_state"]).randint(
        0, 2**32, dtype=np.int64)) if "random_state" in tools else 0)
    path = _reference_path(rule, jac, x0, eta, 40, dict(
        clip_norm=tools.get("clip_norm"), clip_value=tools.get("clip_value"),
        noise=tools.get("gradient_noise", 0.0), noise_decay=tools.get("noise_decay", 0.55),
        seed=seed))
    np.testing.assert_allclose(res.path, path, rtol=1e-12, atol=1e-13)
    assert res.nit == 40 and res.status == 1 and not res.success
    np.testing.assert_allclose(res.x, path[-1])
    assert res.fun == pytest.approx(fun(res.x))


@pytest.mark.parametrize("schedule", [CosineAnnealing(0.1, T_max=30, eta_min=1e-3),
                                      OneCycle(0.2, total_steps=40)])
def test_minimize_follows_a_schedule(schedule):
    fun, jac = _quadratic()
    x0 = np.ones(5)
    res = minimize(fun, x0, jac, optimizer="momentum", learning_rate=schedule,
                   max_iter=40, tol=0.0, return_path=True)
    np.testing.assert_allclose(res.path, _reference_path("momentum", jac, x0, schedule,
                                                         40, {}), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name, x0, optimizer, lr, max_iter", [
    ("ellipse", [1.0, 1.0], "momentum", 1e-2, 5000),
    ("ellipse", [1.0, 1.0], "adagrad", 0.5, 5000),
    ("beale", [1.0, 1.0], "adam", 1e-2, 20000),
    ("beale", [1.0, 1.0], "nag", 1e-3, 20000),
    ("rosenbrock", [-1.5, 2.0], "adam", 1e-2, 20000),
    ("rosenbrock", [-1.5, 2.0], "momentum", 1e-3, 20000),
])
def test_minimize_reaches_the_known_minima(name, x0, optimizer, lr, max_iter):
    fun, jac, x_min = TEST_FUNCTIONS[name]
    res = minimize(fun, x0, jac, optimizer=optimizer, learning_rate=lr,
                   max_iter=max_iter, tol=1e-8)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, x_min, atol=1e-6)
    assert res.fun == pytest.approx(fun(x_min), abs=1e-12)


def test_minimize_without_jac_uses_difference_quotients():
    fun, jac, x_min = TEST_FUNCTIONS["ellipse"]
    res = minimize(fun, [1.0, 1.0], optimizer="adagrad", learning_rate=0.5,
                   max_iter=3000, tol=1e-6)
    np.testing.assert_allclose(res.x, x_min, atol=1e-5)
    assert res.njev == 0 and res.nfev > res.nit


SADDLE = TEST_FUNCTIONS["saddle"]


def _saddle_run(optimizer, x0, lr):
    fun, jac, _ = SADDLE
    return minimize(fun, x0, jac, optimizer=optimizer, learning_rate=lr, max_iter=300,
                    tol=0.0)


LEAVERS = [("momentum", 1e-2), ("nag", 1e-2), ("adagrad", 0.1), ("rmsprop", 1e-2),
           ("adam", 1e-2), ("adadelta", 1.0)]


def test_gradient_descent_on_the_ridge_converges_to_the_saddle():
    # started exactly on the ridge y = 0, every rule walks into the saddle point (0, 0)
    for optimizer, lr in [("sgd", 1e-2)] + LEAVERS:
        res = _saddle_run(optimizer, [1.0, 0.0], lr)
        assert res.x[1] == 0.0
        assert abs(res.x[0]) < 0.2


def test_sgd_stalls_at_the_saddle_while_momentum_and_adaptive_rules_leave():
    # a perturbation of 1e-6 off the ridge: after 300 steps plain SGD has hardly moved off
    # it (the escape grows as (1 + 2 eta)^t), momentum and the adaptive rules are gone
    start = [1.0, 1e-6]
    sgd = abs(_saddle_run("sgd", start, 1e-2).x[1])
    assert sgd < 1e-2
    for optimizer, lr in LEAVERS:
        escaped = abs(_saddle_run(optimizer, start, lr).x[1])
        assert escaped > 1.0, optimizer
        assert escaped > 100 * sgd


def test_divergence_is_reported_not_returned_silently():
    fun, jac, _ = TEST_FUNCTIONS["rosenbrock"]
    res = minimize(fun, [-1.5, 2.0], jac, optimizer="sgd", learning_rate=0.1,
                   max_iter=1000)
    assert res.status == 2 and not res.success and "Diverged" in res.message
    # clipping the norm tames the same step
    clipped = minimize(fun, [-1.5, 2.0], jac, optimizer="sgd", learning_rate=1e-3,
                       max_iter=1000, clip_norm=10.0)
    assert np.all(np.isfinite(clipped.x))


def test_callback_can_stop():
    fun, jac, _ = TEST_FUNCTIONS["ellipse"]
    seen = []
    res = minimize(fun, [1.0, 1.0], jac, optimizer="adam", learning_rate=0.01,
                   callback=lambda xk: seen.append(xk) or len(seen) == 7)
    assert res.nit == 7 and res.status == 3 and len(seen) == 7


@pytest.mark.parametrize("kwargs, message", [
    (dict(optimizer="lbfgs"), "optimizer"), (dict(learning_rate=-1.0), "learning_rate"),
    (dict(clip_norm=0.0), "clip_norm"), (dict(gradient_noise=-1.0), "gradient_noise"),
    (dict(max_iter=-1), "max_iter")])
def test_bad_arguments(kwargs, message):
    fun, jac, _ = TEST_FUNCTIONS["ellipse"]
    with pytest.raises(ValueError, match=message):
        minimize(fun, [1.0, 1.0], jac, **kwargs)
    with pytest.raises(TypeError, match="hyper"):
        minimize(fun, [1.0, 1.0], jac, betas=0.3)


@pytest.mark.parametrize("name", list(TEST_FUNCTIONS))
def test_check_grad_passes_true_and_flags_wrong_gradients(name):
    fun, jac, _ = TEST_FUNCTIONS[name]
    x0 = np.array([0.7, -1.3])
    assert check_grad(fun, jac, x0) < 1e-7
    assert check_grad(fun, lambda x: jac(x) * 1.05, x0) > 1e-2
    assert check_grad(fun, lambda x: jac(x)[::-1], x0) > 1e-2


def test_check_grad_on_a_model_objective():
    # the logistic objective of SPEC section 1 and its gradient, as a user would check it
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    y = np.sign(rng.randn(40))

    def f(w):
        return np.mean(np.logaddexp(0.0, -y * (X @ w))) + 0.5 * 0.1 * w @ w

    def g(w):
        return X.T @ (-y / (1.0 + np.exp(y * (X @ w)))) / 40 + 0.1 * w

    assert check_grad(f, g, rng.randn(3)) < 1e-7
    assert check_grad(f, lambda w: g(w) - 0.1 * w, rng.randn(3)) > 1e-2

"""fastgd.schedules: each schedule against its formula (tests/reference.py), and the
rate every kernel step uses equal to ``schedule(t)``: fits of every rule, dense and CSR,
float32 and float64, on both backends, step for step against the NumPy reference
driven by the same schedule."""

import numpy as np
import pytest
import scipy.sparse as sp

import reference as ref  # tests/ (conftest.py)
from fastgd import SGDClassifier, SGDRegressor
from fastgd._backend import available_backends
from fastgd._rules import RULES
from fastgd.schedules import (CosineAnnealing, CyclicLR, ExponentialDecay, LinearWarmup,
                              OneCycle, StepDecay, WarmRestarts)

T = np.arange(1, 301, dtype=np.float64)

# (schedule, reference name, its parameters)
CASES = [
    (StepDecay(0.1, step_size=7, gamma=0.5), "step",
     dict(eta0=0.1, step_size=7, gamma=0.5)),
    (ExponentialDecay(0.1, decay_rate=0.9, decay_steps=10), "exponential",
     dict(eta0=0.1, decay_rate=0.9, decay_steps=10, staircase=False)),
    (ExponentialDecay(0.1, decay_rate=0.9, decay_steps=10, staircase=True), "exponential",
     dict(eta0=0.1, decay_rate=0.9, decay_steps=10, staircase=True)),
    (CosineAnnealing(0.1, T_max=50, eta_min=1e-3), "cosine",
     dict(eta0=0.1, T_max=50, eta_min=1e-3)),
    (CyclicLR(1e-3, 0.1, step_size=20), "cyclic",
     dict(base_lr=1e-3, max_lr=0.1, step_size=20, mode="triangular")),
    (CyclicLR(1e-3, 0.1, step_size=20, mode="triangular2"), "cyclic",
     dict(base_lr=1e-3, max_lr=0.1, step_size=20, mode="triangular2")),
    (CyclicLR(1e-3, 0.1, step_size=20, mode="exp_range", gamma=0.99), "cyclic",
     dict(base_lr=1e-3, max_lr=0.1, step_size=20, mode="exp_range", gamma=0.99)),
    (WarmRestarts(0.1, T_0=15), "sgdr", dict(eta0=0.1, T_0=15, T_mult=1, eta_min=0.0)),
    (WarmRestarts(0.1, T_0=10, T_mult=2, eta_min=1e-4), "sgdr",
     dict(eta0=0.1, T_0=10, T_mult=2, eta_min=1e-4)),
    (OneCycle(0.1, total_steps=200), "onecycle",
     dict(max_lr=0.1, total_steps=200, pct_start=0.3, div_factor=25.0,
          final_div_factor=1e4)),
]
IDS = [f"{type(s).__name__}-{i}" for i, (s, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("schedule,name,params", CASES, ids=IDS)
def test_schedule_is_its_formula(schedule, name, params):
    np.testing.assert_allclose(schedule(T), ref.schedule_eta(name, T, **params),
                               rtol=1e-13, atol=1e-17)
    assert schedule(1) == pytest.approx(ref.schedule_eta(name, [1.0], **params)[0])
    assert isinstance(schedule(3), float) and schedule(T.reshape(20, 15)).shape == (20, 15)


def test_landmarks():
    """The values the papers' pictures show, at their steps."""
    cos = CosineAnnealing(1.0, T_max=10)
    assert (cos(1), cos(6), cos(11), cos(500)) == (1.0, pytest.approx(0.5), 0.0, 0.0)
    cyc = CyclicLR(0.0, 1.0, step_size=5)
    assert cyc(1) == 0.0 and cyc(6) == 1.0 and cyc(11) == 0.0
    tri2 = CyclicLR(0.0, 1.0, step_size=5, mode="triangular2")
    assert tri2(16) == 0.5  # the second cycle's peak is halved
    sgdr = WarmRestarts(1.0, T_0=10, T_mult=2)
    assert sgdr(11) == 1.0 and sgdr(31) == 1.0 and sgdr(21) == pytest.approx(0.5)
    one = OneCycle(1.0, total_steps=100)
    assert one(1) == pytest.approx(1 / 25) and one(30) == 1.0
    assert one(100) == pytest.approx(1 / 25 / 1e4) and one(10 ** 6) == one(100)
    assert StepDecay(1.0, 3)(4) == pytest.approx(0.1)
    warm = LinearWarmup(4, after=0.2)
    assert [warm(t) for t in (1, 2, 4, 5, 100)] == pytest.approx([0.05, 0.1, 0.2, 0.2, 0.2])
    warm_cos = LinearWarmup(5, after=CosineAnnealing(1.0, T_max=10))
    assert warm_cos(5) == 1.0 and warm_cos(11) == pytest.approx(0.5)
    np.testing.assert_allclose(warm_cos(T[5:]), CosineAnnealing(1.0, T_max=10)(T[:-5]))


@pytest.mark.parametrize("bad, match", [
    (lambda: StepDecay(0.1, step_size=0), "step_size"),
    (lambda: StepDecay(-1.0, step_size=3), "eta0"),
    (lambda: CyclicLR(0.0, 1.0, 5, mode="sine"), "mode"),
    (lambda: OneCycle(1.0, total_steps=10, pct_start=1.2), "pct_start"),
    (lambda: WarmRestarts(1.0, T_0=5, T_mult=1.5), "T_mult"),
    (lambda: LinearWarmup(3, after=LinearWarmup(2)), "one warm-up"),
    (lambda: LinearWarmup(3, after="cosine"), "after"),
])
def test_bad_parameters_are_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()
    with pytest.raises(ValueError, match="starts at 1"):
        CosineAnnealing(1.0, 10)(0)


# ------------------------------------------------------- inside the kernels
N, D, EPOCHS, ALPHA = 31, 6, 3, 0.01
FIT_SCHEDULES = {
    "cosine": CosineAnnealing(0.05, T_max=40, eta_min=1e-3),
    "cyclic2": CyclicLR(1e-3, 0.08, step_size=9, mode="triangular2"),
    "sgdr": WarmRestarts(0.05, T_0=7, T_mult=2),
    "onecycle": OneCycle(0.08, total_steps=60),
    "warmup-step": LinearWarmup(5, after=StepDecay(0.05, step_size=10, gamma=0.5)),
    "exp-stair": ExponentialDecay(0.05, 0.8, decay_steps=6, staircase=True),
}


def _data():
    rng = np.random.RandomState(3)
    X = 0.6 * rng.randn(N, D)
    X[rng.rand(N, D) < 0.4] = 0.0
    y = (X @ rng.randn(D) + 0.2 * rng.randn(N) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("schedule", list(FIT_SCHEDULES))
@pytest.mark.parametrize("rule", list(RULES))
def test_kernels_step_with_schedule_t(rule, schedule, layout, dtype, backend):
    sched = FIT_SCHEDULES[schedule]
    if rule == "adadelta":  # its customary rate is 1: scale the schedule up
        sched = LinearWarmup(1, after=CosineAnnealing(1.0, T_max=40))
    X, y = _data()
    X_fit = sp.csr_matrix(X.astype(dtype)) if layout == "csr" else X.astype(dtype)
    batch = 3 if rule != "sgd" else 1  # rule 'sgd' at batch 1: scikit-learn's plain SGD
    est = SGDClassifier(loss="log_loss", optimizer=rule, batch_size=batch, shuffle=False,
                        tol=None, max_iter=EPOCHS, learning_rate=sched, alpha=ALPHA,
                        backend=backend, random_state=0).fit(X_fit, y)
    plain_csr = rule == "sgd" and layout == "csr"
    res = ref.fit(X.astype(dtype).astype(np.float64), np.where(y == 1, 1.0, -1.0),
                  np.ones(N), rule=rule, loss="log_loss", alpha=ALPHA, eta=sched,
                  batch_size=batch, epochs=EPOCHS,
                  stored=(X != 0) if layout == "csr" else None,
                  intercept_decay=0.01 if plain_csr else 1.0)
    ref.assert_fit_matches(est, res, dtype)
    assert est.t_ == res.t


def test_partial_fit_continues_the_schedule():
    """t carries across partial_fit calls, and so does the schedule's position."""
    X, y = _data()
    kw = dict(loss="log_loss", optimizer="adam", batch_size=4, shuffle=False, tol=None,
              learning_rate=WarmRestarts(0.05, T_0=5), random_state=0)
    one = SGDClassifier(max_iter=2, **kw).fit(X, y)
    two = SGDClassifier(max_iter=1, **kw)
    two.partial_fit(X, y, classes=[0, 1])
    two.partial_fit(X, y)
    np.testing.assert_allclose(two.coef_, one.coef_, rtol=1e-12)
    assert two.t_ == one.t_


def test_schedule_needs_solver_sgd_and_clones():
    from sklearn.base import clone

    X, y = _data()
    est = SGDRegressor(solver="saga", learning_rate=CosineAnnealing(0.1, 10))
    with pytest.raises(ValueError, match="solver='sgd'"):
        est.fit(X, y.astype(float))
    c = clone(SGDRegressor(learning_rate=OneCycle(0.1, 100)))
    assert c.learning_rate == OneCycle(0.1, 100) and "OneCycle" in repr(c)

"""Every update rule of the compiled estimators, step for step against tests/reference.py.

The matrix is every rule of ``fastgd._rules.RULES`` x {dense, CSR lazy, CSR exact} x
batch_size {1, 3, 'full'} x {float64, float32} x {squared_error, log_loss}, fitted for a
few epochs with ``shuffle=False`` so that the reference can replay the same sample order.
optimizer='sgd' with batch_size=1 is scikit-learn's plain SGD (``plain_sgd_epoch``); it
computes the same §2 step except for scikit-learn's sparse intercept decay (0.01), which
the reference is told about.
"""

import importlib.util
import pathlib
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from fastgd import SGDClassifier, SGDRegressor
from fastgd._rules import RULES


def _load_reference():
    # pytest runs in importlib mode: tests/ is not on sys.path, load the file directly
    name = "_fastgd_tests_reference"
    if name not in sys.modules:
        path = pathlib.Path(__file__).with_name("reference.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


ref = _load_reference()

N, D = 31, 8  # 31 samples: batch_size=3 leaves a last batch of one sample
EPOCHS = 3
ALPHA = 0.01
CLASS_WEIGHT = {0: 0.6, 1: 1.7}


def _make_data():
    rng = np.random.RandomState(0)
    X = 0.6 * rng.randn(N, D)
    X[rng.rand(N, D) < 0.4] = 0.0
    # a CSR copy with the nonzeros of X plus a few explicitly stored zeros
    stored = X != 0
    extra = np.argwhere(~stored)[rng.choice(int((~stored).sum()), 6, replace=False)]
    stored[extra[:, 0], extra[:, 1]] = True
    rows, cols = np.nonzero(stored)  # row-major order: a canonical CSR
    indptr = np.concatenate([[0], np.cumsum(stored.sum(axis=1))])
    csr = sp.csr_matrix((X[rows, cols], cols, indptr), shape=(N, D))
    assert csr.nnz == stored.sum() and np.array_equal(csr.toarray(), X)
    w_true = rng.randn(D)
    y_reg = X @ w_true + 0.3 + 0.1 * rng.randn(N)
    y_clf = (X @ w_true + 0.2 * rng.randn(N) > 0).astype(int)
    sample_weight = rng.uniform(0.5, 2.0, N)
    return X, csr, stored, y_reg, y_clf, sample_weight


X, X_CSR, STORED, Y_REG, Y_CLF, SAMPLE_WEIGHT = _make_data()


def _inputs(layout, dtype):
    """(what the estimator gets, the values it reads as float64, stored pattern, lazy)."""
    X_read = X.astype(dtype).astype(np.float64)
    if layout == "dense":
        return X.astype(dtype), X_read, None, True
    csr = X_CSR.astype(dtype)
    assert csr.nnz == X_CSR.nnz  # the stored zeros survive the cast
    return csr, X_read, STORED, layout == "csr_lazy"


def _estimator(loss, rule, batch_size, lazy, epochs=EPOCHS, **params):
    kwargs = dict(optimizer=rule, batch_size=batch_size, lazy=lazy, shuffle=False,
                  tol=None, max_iter=epochs, learning_rate="constant",
                  eta0=1.0 if rule == "adadelta" else 0.05, alpha=ALPHA,
                  fit_intercept=True, random_state=0)
    kwargs.update(params)
    if loss == "log_loss":
        return SGDClassifier(loss="log_loss", class_weight=CLASS_WEIGHT, **kwargs)
    return SGDRegressor(loss="squared_error", **kwargs)


def _targets(loss, sample_weight):
    """(y for the estimator, y for the reference, s_i = sample_weight x class_weight)."""
    sw = np.ones(N) if sample_weight is None else sample_weight
    if loss == "log_loss":
        cw = np.where(Y_CLF == 1, CLASS_WEIGHT[1], CLASS_WEIGHT[0])
        return Y_CLF, np.where(Y_CLF == 1, 1.0, -1.0), sw * cw
    return Y_REG, Y_REG, sw


def _n_steps(batch_size, epochs):
    size = N if batch_size == "full" else batch_size
    return epochs * -(-N // size)


def _check(est, res, dtype, *, curve=True):
    ref.assert_fit_matches(est, res, dtype)
    assert est.t_ == res.t
    if curve:
        np.testing.assert_allclose(est.loss_curve_, res.loss_curve, rtol=1e-10, atol=1e-12)


def _run(rule, layout, batch_size, dtype, loss, *, sample_weight, penalty="l2",
         l1_ratio=0.0, fit_intercept=True, power_t=None):
    X_fit, X_read, stored, lazy = _inputs(layout, dtype)
    y_fit, y_ref, s = _targets(loss, sample_weight)
    schedule = {} if power_t is None else dict(learning_rate="invscaling", power_t=power_t)
    est = _estimator(loss, rule, batch_size, lazy, penalty=penalty,
                     l1_ratio=l1_ratio if penalty == "elasticnet" else 0.15,
                     fit_intercept=fit_intercept, **schedule)
    est.fit(X_fit, y_fit, sample_weight=sample_weight)
    plain = rule == "sgd" and batch_size == 1
    res = ref.fit(X_read, y_ref, s, rule=rule, loss=loss, alpha=ALPHA, l1_ratio=l1_ratio,
                  eta=1.0 if rule == "adadelta" else 0.05, batch_size=batch_size,
                  epochs=EPOCHS, stored=stored, lazy=lazy, fit_intercept=fit_intercept,
                  power_t=power_t,
                  intercept_decay=0.01 if (plain and stored is not None) else 1.0)
    assert res.t == 1 + _n_steps(batch_size, EPOCHS)
    # scikit-learn's plain SGD reports its own objective (penalty summed per step)
    _check(est, res, dtype, curve=not plain)
    assert est.n_iter_ == EPOCHS
    return est, res


# ------------------------------------------------------------------- the matrix
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("batch_size", [1, 3, "full"], ids=["b1", "b3", "bfull"])
@pytest.mark.parametrize("layout", ["dense", "csr_lazy", "csr_exact"])
@pytest.mark.parametrize("rule", list(RULES))
def test_rule_matches_reference(rule, layout, batch_size, dtype, loss):
    # non-uniform sample weights on float64 cells; the classifier always has class_weight
    sw = SAMPLE_WEIGHT if dtype == np.float64 else None
    _run(rule, layout, batch_size, dtype, loss, sample_weight=sw)


ENET_RULES = ["sgd", "momentum", "nag", "adagrad", "adadelta", "adam", "adamw"]


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
@pytest.mark.parametrize("batch_size", [1, 3], ids=["b1", "b3"])
@pytest.mark.parametrize("layout", ["dense", "csr_lazy", "csr_exact"])
@pytest.mark.parametrize("rule", ENET_RULES)
def test_elasticnet_matches_reference(rule, layout, batch_size, loss):
    est, res = _run(rule, layout, batch_size, np.float64, loss,
                    sample_weight=SAMPLE_WEIGHT, penalty="elasticnet", l1_ratio=0.3)
    assert np.any(res.state.q != 0)  # the cumulative L1 penalty did something


@pytest.mark.parametrize("layout", ["dense", "csr_lazy", "csr_exact"])
@pytest.mark.parametrize("rule", ["sgd", "momentum", "adam", "adamw"])
def test_l1_matches_reference(rule, layout):
    _run(rule, layout, 3, np.float64, "squared_error", sample_weight=SAMPLE_WEIGHT,
         penalty="l1", l1_ratio=1.0)


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
@pytest.mark.parametrize("layout", ["dense", "csr_lazy"])
@pytest.mark.parametrize("rule", ["sgd", "nag", "adam", "adadelta"])
def test_invscaling_matches_reference(rule, layout, loss):
    """eta_t = eta0 / t**power_t with the global step t (batch 3, so t != sample count)."""
    _run(rule, layout, 3, np.float64, loss, sample_weight=SAMPLE_WEIGHT, power_t=0.3)


@pytest.mark.parametrize("layout", ["dense", "csr_lazy", "csr_exact"])
@pytest.mark.parametrize("rule", ["sgd", "nag", "adam"])
def test_no_intercept_matches_reference(rule, layout):
    est, res = _run(rule, layout, 3, np.float64, "log_loss", sample_weight=SAMPLE_WEIGHT,
                    fit_intercept=False)
    assert est.intercept_[0] == 0.0


@pytest.mark.parametrize("layout", ["csr_lazy", "csr_exact"])
def test_sgd_csr_l1_with_negative_scale(layout):
    """eta alpha (1 - l1_ratio) > 1: the CSR scale factor of rule 'sgd' turns negative.

    SPEC's w <- w - eta g has no clipping (dense data does not clip either), so the
    cumulative L1 penalty must clip the true value scale * v, not the stored v.
    """
    X_fit, X_read, stored, lazy = _inputs(layout, np.float64)
    est = SGDRegressor(optimizer="sgd", batch_size=3, lazy=lazy, shuffle=False, tol=None,
                       max_iter=EPOCHS, learning_rate="constant", eta0=1.0, alpha=1.1,
                       penalty="elasticnet", l1_ratio=0.02).fit(X_fit, Y_REG)
    res = ref.fit(X_read, Y_REG, np.ones(N), rule="sgd", loss="squared_error", alpha=1.1,
                  l1_ratio=0.02, eta=1.0, batch_size=3, epochs=EPOCHS, stored=stored,
                  lazy=lazy)
    assert np.count_nonzero(res.coef) >= 2
    _check(est, res, np.float64)


def test_lazy_and_exact_differ():
    """Sanity check of the matrix itself: lazy CSR is not exact CSR for an adaptive rule."""
    lazy = _run("adam", "csr_lazy", 1, np.float64, "squared_error", sample_weight=None)[1]
    exact = _run("adam", "csr_exact", 1, np.float64, "squared_error", sample_weight=None)[1]
    assert not np.allclose(lazy.coef, exact.coef, rtol=1e-6)


# --------------------------------------------------------- state across calls
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
@pytest.mark.parametrize("layout", ["dense", "csr_lazy"])
@pytest.mark.parametrize("rule,batch_size", [("adam", 3), ("nag", 1), ("adagrad", "full"),
                                             ("sgd", 3), ("amsgrad", 1)])
def test_partial_fit_carries_step_and_state(rule, batch_size, layout, loss):
    X_fit, X_read, stored, lazy = _inputs(layout, np.float64)
    y_fit, y_ref, s = _targets(loss, SAMPLE_WEIGHT)
    # class_weight dicts are allowed in partial_fit
    pf = _estimator(loss, rule, batch_size, lazy, epochs=1)
    extra = {"classes": [0, 1]} if loss == "log_loss" else {}
    pf.partial_fit(X_fit, y_fit, sample_weight=SAMPLE_WEIGHT, **extra)
    assert pf.t_ == 1 + _n_steps(batch_size, 1)
    pf.partial_fit(X_fit, y_fit, sample_weight=SAMPLE_WEIGHT)
    assert pf.t_ == 1 + _n_steps(batch_size, 2)

    full = _estimator(loss, rule, batch_size, lazy, epochs=2)
    full.fit(X_fit, y_fit, sample_weight=SAMPLE_WEIGHT)
    np.testing.assert_allclose(pf.coef_, full.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(pf.intercept_, full.intercept_, rtol=1e-12, atol=1e-14)
    assert pf.t_ == full.t_

    # and both equal the reference continued from its own state after one epoch
    kw = dict(rule=rule, loss=loss, alpha=ALPHA, eta=0.05, batch_size=batch_size,
              stored=stored, lazy=lazy)
    first = ref.fit(X_read, y_ref, s, epochs=1, **kw)
    second = ref.fit(X_read, y_ref, s, epochs=1, state=first.state, **kw)
    np.testing.assert_allclose(np.ravel(pf.coef_), second.coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(pf.intercept_, [second.intercept], rtol=1e-10, atol=1e-12)
    assert pf.t_ == second.t
    np.testing.assert_allclose(pf.loss_curve_, second.loss_curve, rtol=1e-10)


@pytest.mark.parametrize("rule", ["adam", "momentum"])
def test_t_counts_steps(rule):
    for batch_size in (1, 2, 3, 7, 30, 31, 64, "full"):
        est = _estimator("squared_error", rule, batch_size, True).fit(X, Y_REG)
        assert est.t_ == 1 + _n_steps(min(batch_size, N) if batch_size != "full" else
                                      "full", EPOCHS)

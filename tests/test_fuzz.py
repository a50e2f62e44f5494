"""Property-based tests (hypothesis): random small problems, random estimators.

Over dense and CSR (float32/float64) problems of odd but valid shapes and scales, every
optimizer, solver, batch size, schedule, penalty, loss, ``n_jobs`` in {1, 2} and both
backends:

- a fit either succeeds with finite ``coef_``/``intercept_`` or raises a ValueError or
  TypeError (nothing else: no crash, no ZeroDivisionError, no IndexError);
- the input arrays are never modified;
- with ``n_jobs=1`` the Numba and Cython backends agree bit for bit (or both raise);
- a malformed CSR matrix is refused by fit, partial_fit and predict.

Bounded (``max_examples``; ``FASTGD_FUZZ_SCALE=k`` multiplies them) to stay within a
minute or two; derandomized and without an
example database under CI (``CI`` set), so a CI run is reproducible.
"""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastgd
from fastgd._backend import available_backends
from fastgd._rules import RULES, SCHEDULES

settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")
# FASTGD_FUZZ_SCALE=20 runs 20 times as many examples (a deeper search by hand)
SCALE = int(os.environ.get("FASTGD_FUZZ_SCALE", "1"))

BACKENDS = available_backends()
CLF_LOSSES = ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron",
              "squared_error", "huber"]
REG_LOSSES = ["squared_error", "huber", "epsilon_insensitive",
              "squared_epsilon_insensitive"]
VR_LOSSES = {"log_loss", "squared_error", "huber", "modified_huber", "squared_hinge"}
ALLOWED = (ValueError, TypeError)


@st.composite
def problems(draw, classification=None):
    """(X, y, sample_weight or None, is_classification)."""
    n = draw(st.integers(1, 14))
    d = draw(st.integers(1, 6))
    scale = draw(st.sampled_from([1.0, 1.0, 1e-3, 1e3, 1e-150]))
    values = draw(st.lists(st.floats(-3, 3, allow_nan=False), min_size=n * d,
                           max_size=n * d))
    X = np.array(values).reshape(n, d) * scale
    zeros = draw(st.lists(st.booleans(), min_size=n * d, max_size=n * d))
    X[np.array(zeros).reshape(n, d)] = 0.0
    X = X.astype(draw(st.sampled_from([np.float64, np.float32])))
    if draw(st.booleans()):
        X = sp.csr_matrix(X)
    if classification is None:
        classification = draw(st.booleans())
    if classification:
        k = draw(st.integers(1, 3))
        y = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    else:
        y = np.array(draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=n,
                                   max_size=n)))
    sw = None
    if draw(st.booleans()):
        sw = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=n,
                                    max_size=n)))
    return X, y, sw, classification


@st.composite
def estimator_params(draw, classification, n_jobs=(1, 2)):
    solver = draw(st.sampled_from(["sgd", "sgd", "sag", "saga", "svrg"]))
    losses = CLF_LOSSES if classification else REG_LOSSES
    if solver != "sgd":
        losses = [loss for loss in losses if loss in VR_LOSSES]
    params = dict(
        loss=draw(st.sampled_from(losses)),
        solver=solver,
        optimizer="sgd" if solver != "sgd" else draw(st.sampled_from(sorted(RULES))),
        penalty=draw(st.sampled_from(["l2", "l1", "elasticnet", None])),
        alpha=draw(st.sampled_from([1e-4, 1e-2, 1.0, 0.0])),
        fit_intercept=draw(st.booleans()),
        max_iter=draw(st.integers(1, 4)),
        tol=draw(st.sampled_from([None, 1e-3])),
        shuffle=draw(st.booleans()) if solver != "sag" else True,
        random_state=draw(st.integers(0, 2**16)),
        n_jobs=draw(st.sampled_from(n_jobs)),
        backend=draw(st.sampled_from(BACKENDS)),
    )
    if solver == "sgd":
        params["batch_size"] = draw(st.sampled_from([1, 2, 5, "full", 300]))
        params["learning_rate"] = draw(st.sampled_from(["auto", *sorted(SCHEDULES)]))
        if params["learning_rate"] != "auto":
            params["eta0"] = draw(st.sampled_from([1e-3, 0.01, 0.5]))
        if params["optimizer"] == "sgd" and params["batch_size"] == 1:
            params["average"] = draw(st.sampled_from([False, False, True, 3]))
        params["lazy"] = draw(st.booleans())
    if params["learning_rate" if solver == "sgd" else "solver"] == "optimal" and \
            params["alpha"] == 0.0:
        params["alpha"] = 1e-4
    return params


def _fit(X, y, sw, classification, params):
    Est = fastgd.SGDClassifier if classification else fastgd.SGDRegressor
    if not classification:
        params = {k: v for k, v in params.items() if k != "class_weight"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Est(**params).fit(X, y, sample_weight=sw)


def _snapshot(X, y, sw):
    arrays = [X.data, X.indices, X.indptr] if sp.issparse(X) else [X]
    return [a.copy() for a in arrays + [y] + ([] if sw is None else [sw])]


def _assert_unchanged(X, y, sw, before):
    arrays = [X.data, X.indices, X.indptr] if sp.issparse(X) else [X]
    for a, b in zip(arrays + [y] + ([] if sw is None else [sw]), before):
        np.testing.assert_array_equal(a, b)


@st.composite
def fits(draw):
    X, y, sw, classification = draw(problems())
    return X, y, sw, classification, draw(estimator_params(classification))


@settings(max_examples=150 * SCALE)
@given(fits())
def test_fit_is_finite_or_a_clear_error(case):
    X, y, sw, classification, params = case
    before = _snapshot(X, y, sw)
    try:
        est = _fit(X, y, sw, classification, params)
    except ALLOWED:
        pass
    else:
        assert np.isfinite(est.coef_).all()
        assert np.isfinite(est.intercept_).all()
        assert est.coef_.shape[-1] == X.shape[1]
        pred = est.predict(X)
        assert pred.shape == (X.shape[0],)
        if classification:
            assert set(np.unique(pred)) <= set(np.unique(y))
    _assert_unchanged(X, y, sw, before)


@st.composite
def serial_fits(draw):
    X, y, sw, classification = draw(problems())
    return X, y, sw, classification, draw(estimator_params(classification, n_jobs=(1,)))


@pytest.mark.skipif(len(BACKENDS) < 2, reason="needs both backends")
@settings(max_examples=100 * SCALE)
@given(serial_fits())
def test_backends_agree_bit_for_bit(case):
    X, y, sw, classification, params = case
    out = []
    for backend in BACKENDS:
        try:
            est = _fit(X, y, sw, classification, {**params, "backend": backend})
            out.append((est.coef_.tobytes(), est.intercept_.tobytes(), est.n_iter_))
        except ALLOWED as exc:
            out.append(type(exc))
    assert out[0] == out[1]


@st.composite
def partial_fits(draw):
    classification = draw(st.booleans())
    batches = [draw(problems(classification=classification))
               for _ in range(draw(st.integers(1, 4)))]
    d = batches[0][0].shape[1]
    batches = [b for b in batches if b[0].shape[1] == d]
    return batches, classification, draw(estimator_params(classification))


@settings(max_examples=60 * SCALE)
@given(partial_fits())
def test_partial_fit_sequences(case):
    batches, classification, params = case
    Est = fastgd.SGDClassifier if classification else fastgd.SGDRegressor
    params.pop("max_iter")
    est = Est(**params)
    classes = np.arange(3)
    for X, y, sw, _ in batches:
        before = _snapshot(X, y, sw)
        kw = {"classes": classes} if classification else {}
        fitted = hasattr(est, "coef_")
        old = est.coef_.copy() if fitted else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.partial_fit(X, y, sample_weight=sw, **kw)
        except ALLOWED:
            if fitted:  # a failed call leaves the model as it was
                np.testing.assert_array_equal(est.coef_, old)
            else:
                assert not hasattr(est, "coef_")
        else:
            assert np.isfinite(est.coef_).all() and np.isfinite(est.intercept_).all()
        _assert_unchanged(X, y, sw, before)


CORRUPTIONS = ["index too large", "negative index", "indptr decreasing",
               "indptr past nnz", "indptr not from 0"]


@st.composite
def malformed(draw):
    n = draw(st.integers(2, 8))
    d = draw(st.integers(1, 5))
    rs = np.random.RandomState(draw(st.integers(0, 1000)))
    dense = np.where(rs.rand(n, d) < 0.6, rs.randn(n, d) + 3.0, 0.0)
    dense[0, 0] = dense[n - 1, d - 1] = 1.0  # entries in the first and last rows
    X = sp.csr_matrix(dense)
    how = draw(st.sampled_from(CORRUPTIONS))
    k = draw(st.integers(0, X.nnz - 1))
    if how == "index too large":  # int64 indices too, past 2**31
        X.indices = X.indices.astype(np.int64)
        X.indices[k] = d + draw(st.integers(0, 2**40))
    elif how == "negative index":
        X.indices[k] = -draw(st.integers(1, 2**20))
    elif how == "indptr decreasing":
        i = draw(st.integers(1, n - 1))
        X.indptr[i] = X.indptr[i + 1] + 1
    elif how == "indptr past nnz":
        X.indptr[-1] += draw(st.integers(1, 1000))
    else:
        X.indptr[0] = draw(st.integers(1, 3))
    return X, how


@settings(max_examples=60 * SCALE)
@given(malformed(), st.sampled_from(BACKENDS),
       st.sampled_from([{}, {"solver": "saga", "loss": "log_loss"},
                        {"optimizer": "adam", "n_jobs": 2}]))
def test_malformed_csr_is_refused(case, backend, kw):
    X, how = case
    y = np.arange(X.shape[0]) % 2
    good = sp.csr_matrix(np.ones((2, X.shape[1])))
    est = fastgd.SGDClassifier(backend=backend, max_iter=2, tol=None, **kw)
    with pytest.raises(ValueError, match="Malformed CSR|out of range"):
        est.fit(X, y)
    with pytest.raises(ValueError, match="Malformed CSR|out of range"):
        fastgd.SGDClassifier(backend=backend, **kw).partial_fit(X, y, classes=[0, 1])
    est.fit(good, [0, 1])
    with pytest.raises(ValueError, match="Malformed CSR|out of range"):
        est.predict(X)

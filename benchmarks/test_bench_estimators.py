"""pytest-benchmark: estimators end to end (validation, fit to convergence, default tol).

    pytest benchmarks/test_bench_estimators.py --benchmark-only

Default parameters (tol=1e-3 stopping rule), a9a from ../shared/data (skipped when
absent) and the synthetic 1e6-nnz problem; scikit-learn's estimators side by side.
"""

import lzma
import os
import sys
import warnings

import numpy as np
import pytest
from sklearn import linear_model as sk

sys.path.insert(0, os.path.dirname(__file__))

import synthetic  # noqa: E402

import fastgd  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "a9a.xz")


def _a9a():
    from sklearn.datasets import load_svmlight_file

    if not os.path.exists(DATA):
        pytest.skip("../shared/data is not here")
    with lzma.open(DATA, "rb") as f:
        X, y = load_svmlight_file(f)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X, y


@pytest.fixture(scope="module", params=["a9a", "synth-1e6"])
def data(request):
    if request.param == "a9a":
        return request.param, _a9a()
    return request.param, synthetic.make_powerlaw(10**6, seed=0)


CASES = {
    "sklearn-SGDClassifier": lambda n: sk.SGDClassifier(loss="log_loss", random_state=0),
    "fastgd-SGDClassifier": lambda n: fastgd.SGDClassifier(loss="log_loss", random_state=0),
    "sklearn-LogisticRegression-sag": lambda n: sk.LogisticRegression(
        solver="sag", C=1.0 / (n * 1e-4), tol=1e-3, random_state=0),
    "fastgd-SGDClassifier-sag": lambda n: fastgd.SGDClassifier(
        loss="log_loss", solver="sag", tol=1e-3, random_state=0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fit(benchmark, data, case):
    name, (X, y) = data
    est = CASES[case](X.shape[0])
    warnings.simplefilter("ignore")
    try:
        est.fit(X[:200], y[:200])
    except (ValueError, TypeError) as exc:
        pytest.skip(f"{case} not available: {exc}")
    benchmark.group = f"fit-{name}"
    benchmark.pedantic(est.fit, args=(X, y), rounds=3, iterations=1)
    benchmark.extra_info["n_iter"] = int(np.max(est.n_iter_))

"""pytest-benchmark suite: one fit of a few epochs, fastgd vs scikit-learn, on a9a.

    pytest benchmarks/ --benchmark-only        (not part of the unit tests)

Kernels are compiled by a first untimed fit; compare the groups' means in one run.
"""

import lzma
import os
import warnings

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn.datasets import load_svmlight_file

import fastgd

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "a9a.xz")


@pytest.fixture(scope="module")
def a9a():
    if not os.path.exists(DATA):
        pytest.skip("../shared/data is not here")
    with lzma.open(DATA, "rb") as f:
        X, y = load_svmlight_file(f)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X, y


CASES = {
    "sklearn-sgd": lambda: sk.SGDClassifier(loss="log_loss"),
    "fastgd-sgd": lambda: fastgd.SGDClassifier(loss="log_loss"),
    "fastgd-adam": lambda: fastgd.SGDClassifier(loss="log_loss", optimizer="adam"),
    "fastgd-adam-b64": lambda: fastgd.SGDClassifier(loss="log_loss", optimizer="adam",
                                                    batch_size=64),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(CASES))
def test_five_epochs(benchmark, a9a, case, dtype):
    X, y = a9a
    X = X.astype(dtype)
    est = CASES[case]().set_params(max_iter=5, tol=None, random_state=0)
    warnings.simplefilter("ignore")
    est.fit(X[:100], y[:100])
    benchmark.group = f"a9a-{dtype}"
    benchmark(est.fit, X, y)
    assert est.n_iter_ == 5

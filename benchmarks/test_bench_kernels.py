"""pytest-benchmark: one epoch on the synthetic power-law problem (1e6 nnz), per solver.

    pytest benchmarks/test_bench_kernels.py --benchmark-only

Each case runs ``max_iter=1, tol=None`` on the same CSR data (float32 and float64),
after an untimed fit that compiles or loads the kernels. Compare the group's means in
one run (the ratio to sklearn-sgd is what carries over between machines).
"""

import os
import sys
import warnings

import numpy as np
import pytest
from sklearn import linear_model as sk

sys.path.insert(0, os.path.dirname(__file__))

import synthetic  # noqa: E402

import fastgd  # noqa: E402


@pytest.fixture(scope="module")
def problem():
    X, y = synthetic.make_powerlaw(10**6, task="clf", seed=0)
    return X, y


CASES = {
    "sklearn-sgd": lambda: sk.SGDClassifier(loss="log_loss"),
    "fastgd-sgd": lambda: fastgd.SGDClassifier(loss="log_loss"),
    "fastgd-adam": lambda: fastgd.SGDClassifier(loss="log_loss", optimizer="adam"),
    "fastgd-saga": lambda: fastgd.SGDClassifier(loss="log_loss", solver="saga"),
    "fastgd-svrg": lambda: fastgd.SGDClassifier(loss="log_loss", solver="svrg"),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(CASES))
def test_one_epoch(benchmark, problem, case, dtype):
    X, y = problem
    X = X.astype(dtype)
    est = CASES[case]().set_params(max_iter=1, tol=None, random_state=0, alpha=1e-4)
    warnings.simplefilter("ignore")
    try:
        est.fit(X[:200], y[:200])
    except (ValueError, TypeError) as exc:
        pytest.skip(f"{case} not available: {exc}")
    benchmark.group = f"epoch-synth-1e6-{dtype}"
    benchmark.extra_info["nnz"] = int(X.nnz)
    benchmark(est.fit, X, y)
    assert np.isfinite(est.coef_).all()

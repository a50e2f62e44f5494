"""The benchmark's objective and α mappings, on a tiny problem, scikit-learn peers only.

A wrong mapping of α to a library's parameter shows as a "converged" solution that is
not the optimum of F (SPEC section 1): its relative suboptimality and its gradient of F
stay large. No wall-clock thresholds.
"""

import os
import sys
import warnings

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

import peers  # noqa: E402
import synthetic  # noqa: E402


@pytest.fixture(scope="module")
def problems():
    out = {}
    for task in ("clf", "reg"):
        X, y = synthetic.make_powerlaw(6000, task=task, seed=0)
        out[task] = (X, y)
    return out


def test_objective_is_fastgd_objective_and_gradient_matches(problems):
    X, y = problems["clf"]
    rng = np.random.RandomState(0)
    w, b = rng.randn(X.shape[1]) * 0.1, 0.2
    f0 = peers.objective(X, y, w, b, "clf", 1e-2)
    p = X @ w + b
    assert f0 == pytest.approx(np.logaddexp(0, -y * p).mean() + 0.005 * w @ w, rel=1e-12)
    gw, gb = peers.gradient(X, y, w, b, "clf", 1e-2)
    h = 1e-6
    e = np.zeros_like(w)
    e[3] = h
    num = (peers.objective(X, y, w + e, b, "clf", 1e-2)
           - peers.objective(X, y, w - e, b, "clf", 1e-2)) / (2 * h)
    assert num == pytest.approx(gw[3], rel=1e-5, abs=1e-9)
    num_b = (peers.objective(X, y, w, b + h, "clf", 1e-2)
             - peers.objective(X, y, w, b - h, "clf", 1e-2)) / (2 * h)
    assert num_b == pytest.approx(gb, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("name,task,budget", [
    ("sklearn-logreg-lbfgs", "clf", 500),
    ("sklearn-logreg-sag", "clf", 300),
    ("sklearn-ridge-sparse_cg", "reg", 500),
    ("sklearn-ridge-sag", "reg", 500),
])
def test_sklearn_mapping_reaches_optimum_of_F(problems, name, task, budget):
    X, y = problems[task]
    warnings.simplefilter("ignore")
    r = peers.check_mapping(peers.get([name])[0], X, y, task, 1e-2, budget)
    assert r["rel_subopt"] < 1e-7, r
    assert r["grad_inf"] < 1e-5, r
    if name == "sklearn-ridge-sag":  # sparse X with an intercept: sparse_cg ran instead
        assert r["info"]["solver_ran"] == "sparse_cg"


def test_sklearn_sgd_is_scored_on_its_own_objective(problems):
    # SGDClassifier's alpha is F's alpha: a long run gets close to F*
    X, y = problems["clf"]
    warnings.simplefilter("ignore")
    r = peers.check_mapping(peers.get(["sklearn-sgd"])[0], X, y, "clf", 1e-2, 200)
    assert r["rel_subopt"] < 1e-2, r


def test_ridge_saga_with_intercept_on_sparse_raises(problems):
    X, y = problems["reg"]
    m = peers.get(["sklearn-ridge-saga"])[0]
    with pytest.raises(ValueError, match="intercept"):
        m.fit(m.prepare(X, y, "reg", 1e-2), "reg", 1e-2, 5)

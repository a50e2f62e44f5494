"""Curriculum ordering (Bengio et al. 2009): ``curriculum_epochs`` epochs from the
easiest sample (lowest ``difficulty``) to the hardest, then ``shuffle``'s order."""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastgd import SGDClassifier, SGDRegressor

X, Y = make_classification(120, 6, random_state=0)
DIFFICULTY = np.random.RandomState(1).rand(120).round(1)  # ties: kept in sample order
ORDER = np.argsort(DIFFICULTY, kind="stable")


@pytest.mark.parametrize("kw", [dict(), dict(optimizer="adam", batch_size=4),
                                dict(optimizer="nag", batch_size="full")],
                         ids=["plain-sgd", "adam-b4", "nag-full"])
def test_curriculum_epochs_visit_easiest_first(kw):
    """Every epoch a curriculum one: the fit of the samples sorted by difficulty."""
    common = dict(max_iter=3, tol=None, random_state=0, **kw)
    cur = SGDClassifier(curriculum_epochs=3, shuffle=True, **common).fit(
        X, Y, difficulty=DIFFICULTY)
    ref = SGDClassifier(shuffle=False, **common).fit(X[ORDER], Y[ORDER])
    assert np.array_equal(cur.coef_, ref.coef_)
    assert np.array_equal(cur.intercept_, ref.intercept_) and cur.t_ == ref.t_


def test_then_the_samples_follow_shuffle():
    """One curriculum epoch, then the sample order of shuffle=False."""
    kw = dict(optimizer="adam", batch_size=5, tol=None, shuffle=False, random_state=0)
    cur = SGDRegressor(curriculum_epochs=1, max_iter=2, **kw).fit(
        X, X[:, 0], difficulty=DIFFICULTY)
    step = SGDRegressor(max_iter=1, **kw).fit(X[ORDER], X[ORDER, 0])
    step.partial_fit(X, X[:, 0])
    np.testing.assert_allclose(cur.coef_, step.coef_, rtol=1e-12, atol=1e-15)
    assert cur.t_ == step.t_
    plain = SGDRegressor(max_iter=2, **kw).fit(X, X[:, 0])
    assert not np.allclose(cur.coef_, plain.coef_)


def test_curriculum_with_shuffle_draws_nothing_during_the_curriculum():
    """After one curriculum epoch, the shuffled epochs are the ones a plain fit starts
    with: the sorted samples, then the generator's first and second permutations."""
    kw = dict(optimizer="adam", batch_size=3, tol=None, random_state=0)
    cur = SGDClassifier(curriculum_epochs=1, max_iter=3, **kw).fit(
        X, Y, difficulty=DIFFICULTY)
    rng = np.random.RandomState(0)
    p1, p2 = rng.permutation(120), rng.permutation(120)
    step = SGDClassifier(max_iter=1, **{**kw, "shuffle": False})
    step.fit(X[ORDER], Y[ORDER])
    step.partial_fit(X[p1], Y[p1])
    step.partial_fit(X[p2], Y[p2])
    np.testing.assert_allclose(cur.coef_, step.coef_, rtol=1e-12, atol=1e-15)
    assert cur.t_ == step.t_ and cur.n_iter_ == 3


@pytest.mark.parametrize("make, match", [
    (lambda: SGDClassifier(curriculum_epochs=2).fit(X, Y), "pass fit"),
    (lambda: SGDClassifier(curriculum_epochs=2).fit(X, Y, difficulty=DIFFICULTY[:5]),
     "shape"),
    (lambda: SGDClassifier(curriculum_epochs=2).fit(
        X, Y, difficulty=np.where(ORDER == 3, np.nan, DIFFICULTY)), "NaN"),
    (lambda: SGDClassifier(curriculum_epochs=2, loss="log_loss", solver="saga").fit(
        X, Y, difficulty=DIFFICULTY), "solver='sgd'"),
    (lambda: SGDClassifier(curriculum_epochs=-1).fit(X, Y), "curriculum_epochs"),
])
def test_bad_curriculum_is_a_clear_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_difficulty_routes_through_a_pipeline():
    with sklearn.config_context(enable_metadata_routing=True):
        est = SGDClassifier(curriculum_epochs=2, max_iter=4, tol=None, random_state=0)
        pipe = make_pipeline(StandardScaler(), est.set_fit_request(difficulty=True))
        pipe.fit(X, Y, difficulty=DIFFICULTY)
    direct = SGDClassifier(curriculum_epochs=2, max_iter=4, tol=None, random_state=0).fit(
        StandardScaler().fit_transform(X), Y, difficulty=DIFFICULTY)
    assert np.array_equal(pipe[-1].coef_, direct.coef_)

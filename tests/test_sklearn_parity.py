"""fastgd with optimizer='sgd', batch_size=1 is scikit-learn's plain SGD, shuffle included.

SPEC section 2: the same coefficients, intercept, ``n_iter_`` and ``t_`` to round-off
(bit-exact in practice on float64 data; on float32 input fastgd computes in float64,
scikit-learn in float32, hence the looser tolerance there).
"""

import warnings

import numpy as np
import pytest
import sklearn.linear_model as sklm
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedShuffleSplit

import fastgd

CLF_LOSSES = ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron",
              "squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"]
REG_LOSSES = ["squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"]
PENALTIES = ["l2", "l1", "elasticnet", None]
SCHEDULES = {  # name -> extra parameters (the schedules other than 'optimal' need eta0)
    "optimal": {},
    "constant": {"eta0": 0.02},
    "invscaling": {"eta0": 0.05},
    "adaptive": {"eta0": 0.05},
}
KINDS = ["dense", "csr"]
RTOL64 = 1e-10


def _pair(kind_cls, **params):
    """(fastgd estimator, scikit-learn estimator) with the same parameters; shuffled
    (scikit-learn's default) with a fixed seed unless the test says otherwise."""
    params = {"shuffle": True, "random_state": 0, **params}
    fast = getattr(fastgd, kind_cls)(optimizer="sgd", batch_size=1, **params)
    ref = getattr(sklm, kind_cls)(**params)
    return fast, ref


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


def assert_same_fit(fast, ref, rtol=RTOL64, atol=0.0):
    assert fast.coef_.shape == ref.coef_.shape
    assert fast.intercept_.shape == ref.intercept_.shape
    assert_allclose(fast.coef_, ref.coef_, rtol=rtol, atol=atol)
    assert_allclose(fast.intercept_, ref.intercept_, rtol=rtol, atol=atol)
    assert fast.n_iter_ == ref.n_iter_
    assert fast.t_ == ref.t_


def _absurd(ref, X, y, sample_weight=None):
    """Whether scikit-learn's fitted ``ref`` is a runaway model, which fastgd refuses:
    some one-vs-rest problem's objective over 1e6 * max(F(0, 0), 1) (fastgd._engine)."""
    from fastgd._engine import DIVERGED_FACTOR
    from fastgd.objective import objective

    params = ref.get_params()
    l1_ratio = {"l2": 0.0, "l1": 1.0, None: 0.0}.get(params["penalty"],
                                                     params["l1_ratio"])
    alpha = 0.0 if params["penalty"] is None else params["alpha"]
    if hasattr(ref, "classes_"):
        classes = ref.classes_
        targets = [np.where(y == classes[1], 1.0, -1.0)] if len(classes) == 2 else [
            np.where(y == c, 1.0, -1.0) for c in classes]
    else:
        targets = [np.asarray(y, dtype=np.float64)]
    for k, yk in enumerate(targets):
        args = (X, yk)
        kw = dict(loss=params["loss"], epsilon=params["epsilon"],
                  sample_weight=sample_weight)
        f = objective(*args, ref.coef_.reshape(len(targets), -1)[k],
                      ref.intercept_[k], alpha=alpha, l1_ratio=l1_ratio, **kw)
        f0 = objective(*args, np.zeros(X.shape[1]), 0.0, alpha=0.0, **kw)
        if not f <= DIVERGED_FACTOR * max(f0, 1.0):
            return True
    return False


def _fit_pair(kind_cls, X, y, fit_kw=None, **params):
    """The two estimators fitted alike; None when scikit-learn's model is a runaway one
    (``_absurd``) and fastgd, as it must, raised its divergence error instead."""
    fast, ref = _pair(kind_cls, **params)
    fit_kw = fit_kw or {}
    _quiet(ref.fit, X, y, **fit_kw)
    if _absurd(ref, X, y, fit_kw.get("sample_weight")):
        with pytest.raises(ValueError, match="diverged"):
            _quiet(fast.fit, X, y, **fit_kw)
        return None
    _quiet(fast.fit, X, y, **fit_kw)
    return fast, ref


# ------------------------------------------------------- loss x penalty x schedule
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("loss", CLF_LOSSES)
@pytest.mark.parametrize("shuffle", [True, False])
def test_classifier_grid(clf_data, to_input, loss, penalty, schedule, n_classes, kind,
                         shuffle):
    X, y = clf_data[n_classes]
    pair = _fit_pair("SGDClassifier", to_input(X, kind), y, loss=loss, penalty=penalty,
                     learning_rate=schedule, max_iter=30, shuffle=shuffle,
                     **SCHEDULES[schedule])
    if pair is None:
        return
    fast, ref = pair
    assert_same_fit(fast, ref)
    assert_array_equal(fast.classes_, ref.classes_)
    assert_array_equal(fast.predict(to_input(X, kind)), ref.predict(to_input(X, kind)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("loss", REG_LOSSES)
def test_regressor_grid(reg_data, to_input, loss, penalty, schedule, kind):
    X, y = reg_data
    pair = _fit_pair("SGDRegressor", to_input(X, kind), y, loss=loss, penalty=penalty,
                     learning_rate=schedule, max_iter=30, **SCHEDULES[schedule])
    if pair is None:
        return
    fast, ref = pair
    assert_same_fit(fast, ref)


@pytest.mark.parametrize("kind", KINDS)
def test_defaults(clf_data, reg_data, to_input, kind):
    """learning_rate='auto', eta0='auto' resolve to scikit-learn's defaults."""
    X, y = clf_data[3]
    assert_same_fit(*_fit_pair("SGDClassifier", to_input(X, kind), y))
    X, y = reg_data
    assert_same_fit(*_fit_pair("SGDRegressor", to_input(X, kind), y))  # both sane


# ------------------------------------------------------------------ averaging
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("average", [True, 1, 30, 100, 10**6])
@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
@pytest.mark.parametrize("n_classes", [2, 3, "reg"])
def test_average(clf_data, reg_data, to_input, n_classes, penalty, average, kind):
    if n_classes == "reg":
        (X, y), cls, extra = reg_data, "SGDRegressor", {}
    else:
        (X, y), cls, extra = clf_data[n_classes], "SGDClassifier", {"loss": "log_loss"}
    pair = _fit_pair(cls, to_input(X, kind), y, penalty=penalty, average=average,
                     max_iter=8, **extra)
    if pair is None:
        return
    fast, ref = pair
    assert_same_fit(fast, ref)


# ------------------------------------------------------------- early stopping
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("loss", [l for l in CLF_LOSSES if l != "log_loss"])
def test_early_stopping_classifier(clf_data, to_input, loss, n_classes, kind):
    X, y = clf_data[n_classes]
    pair = _fit_pair("SGDClassifier", to_input(X, kind), y, loss=loss,
                     early_stopping=True, validation_fraction=0.25, n_iter_no_change=3,
                     random_state=7, max_iter=60)
    if pair is None:
        return
    fast, ref = pair
    assert_same_fit(fast, ref)
    scores = fast.validation_scores_
    assert len(scores if n_classes == 2 else scores[0]) >= 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loss", REG_LOSSES)
@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_early_stopping_regressor(reg_data, to_input, loss, schedule, kind):
    X, y = reg_data
    pair = _fit_pair("SGDRegressor", to_input(X, kind), y, loss=loss,
                     learning_rate=schedule, eta0=0.05, early_stopping=True,
                     validation_fraction=0.2, n_iter_no_change=3, random_state=3,
                     max_iter=60)
    if pair is None:
        return
    fast, ref = pair
    assert_same_fit(fast, ref)
    assert len(fast.validation_scores_) == fast.n_iter_


@pytest.mark.parametrize("n_classes", [2, 3])
def test_log_loss_early_stopping_trajectory_matches(clf_data, n_classes):
    """Early stopping does not change the steps: with tol=None both run max_iter epochs."""
    X, y = clf_data[n_classes]
    pair = _fit_pair("SGDClassifier", X, y, loss="log_loss", early_stopping=True,
                     tol=None, max_iter=7, random_state=0)
    if pair is None:
        return
    fast, ref = pair
    assert_same_fit(fast, ref)


def test_sklearn_log_loss_validation_score_quirk(clf_data):
    """KNOWN DIFFERENCE, documented: scikit-learn 1.9 scores log_loss early stopping wrongly.

    ``fit_binary`` label-encodes y_i to {0, 1} for CyHalfBinomialLoss but hands its
    ``_ValidationScoreCallback`` the classes [-1, 1]; the callback's ``score`` compares
    +-1 predictions with 0/1 labels, so every negative sample counts as an error and the
    "accuracy" is the fraction of validation samples that are positive and predicted
    positive. fastgd scores the true accuracy, so ``n_iter_`` of log_loss with
    early_stopping may differ from scikit-learn's (the trajectory is the same: see
    test_log_loss_early_stopping_trajectory_matches). If this test fails, scikit-learn
    fixed the quirk and the parity tests above can include log_loss.
    """
    from sklearn.linear_model._stochastic_gradient import _ValidationScoreCallback

    X, y = clf_data[2]
    est = sklm.SGDClassifier(loss="log_loss", max_iter=5, tol=None).fit(X, y)
    y01 = (y == est.classes_[1]).astype(np.float64)  # what fit_binary gives the callback
    cb = _ValidationScoreCallback(est, X, y01, np.ones(len(y)),
                                  classes=np.array([-1.0, 1.0]))
    score = cb(est.coef_.ravel(), est.intercept_[0])
    pred = est.decision_function(X) > 0
    true_accuracy = accuracy_score(y01, pred.astype(float))
    quirky = np.mean(pred & (y01 == 1))
    assert score == pytest.approx(quirky)
    assert true_accuracy > quirky  # i.e. scikit-learn's number is not the accuracy


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("epochs", [1, 3, 6])
def test_validation_scores_are_true_accuracy(clf_data, to_input, n_classes, epochs, kind):
    """fastgd's validation_scores_ are the accuracy of each one-vs-rest problem's model.

    penalty=None keeps scikit-learn's wscale at 1, so the raw weights that are scored
    (on purpose, for n_iter_ parity) are the model's weights.
    """
    X, y = clf_data[n_classes]
    Xk = to_input(X, kind)
    est = fastgd.SGDClassifier(loss="log_loss", penalty=None, early_stopping=True, tol=None,
                               max_iter=epochs, shuffle=False, random_state=11,
                               validation_fraction=0.25, learning_rate="constant",
                               eta0=0.05)
    _quiet(est.fit, Xk, y)
    assert est.n_iter_ == epochs
    classes = est.classes_
    problems = [1] if n_classes == 2 else list(range(n_classes))
    scores = [est.validation_scores_] if n_classes == 2 else est.validation_scores_
    # the split scikit-learn makes: stratified on the labels the problem sees
    split_y = np.where(y == classes[1], 1.0, -1.0) if n_classes == 2 else y
    _, val = next(StratifiedShuffleSplit(test_size=0.25, random_state=11).split(
        np.zeros((len(y), 1)), split_y))
    dec = est.decision_function(Xk[val])
    dec = dec[:, None] if dec.ndim == 1 else dec
    for k, cls_idx in enumerate(problems):
        assert len(scores[k]) == epochs
        truth = np.where(y[val] == classes[cls_idx], 1, -1)
        pred = np.where(dec[:, k] > 0, 1, -1)
        assert scores[k][-1] == pytest.approx(accuracy_score(truth, pred), abs=1e-12)


# ------------------------------------------------------ weights of samples, classes
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("class_weight", [{0: 0.3, 1: 2.0, 2: 1.5}, "balanced"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("loss", ["hinge", "log_loss", "modified_huber"])
def test_class_weight(clf_data, to_input, loss, n_classes, class_weight, kind):
    X, y = clf_data[n_classes]
    if isinstance(class_weight, dict):
        class_weight = {k: v for k, v in class_weight.items() if k < n_classes}
    # make the classes unbalanced so that 'balanced' matters
    keep = np.flatnonzero((y != 0) | (np.arange(len(y)) % 3 == 0))
    pair = _fit_pair("SGDClassifier", to_input(X[keep], kind), y[keep], loss=loss,
                     class_weight=class_weight, max_iter=20)
    if pair is None:
        return
    fast, ref = pair
    assert_same_fit(fast, ref)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("problem", [2, 3, "reg"])
@pytest.mark.parametrize("average", [False, True])
def test_sample_weight(clf_data, reg_data, to_input, problem, average, kind):
    if problem == "reg":
        (X, y), cls = reg_data, "SGDRegressor"
    else:
        (X, y), cls = clf_data[problem], "SGDClassifier"
    sw = np.random.RandomState(0).uniform(0.0, 3.0, size=len(y))
    sw[::7] = 0.0
    pair = _fit_pair(cls, to_input(X, kind), y, fit_kw={"sample_weight": sw},
                     average=average, max_iter=15)
    if pair is None:
        return
    fast, ref = pair
    assert_same_fit(fast, ref)


# ------------------------------------------------------------------ other options
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("problem", [2, 3, "reg"])
@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_no_intercept(clf_data, reg_data, to_input, problem, penalty, kind):
    if problem == "reg":
        (X, y), cls = reg_data, "SGDRegressor"
    else:
        (X, y), cls = clf_data[problem], "SGDClassifier"
    pair = _fit_pair(cls, to_input(X, kind), y, fit_intercept=False, penalty=penalty,
                     max_iter=20)
    if pair is None:
        return
    fast, ref = pair
    assert_same_fit(fast, ref)
    assert np.all(fast.intercept_ == 0.0)


@pytest.mark.parametrize("kind", ["dense32", "csr32"])
@pytest.mark.parametrize("problem", [2, 3, "reg"])
@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
def test_float32(clf_data, reg_data, to_input, problem, penalty, kind):
    """float32 X: both store float32 coef_; fastgd computes in float64, scikit-learn in
    float32 -> ~1e-4 agreement."""
    if problem == "reg":
        (X, y), cls = reg_data, "SGDRegressor"
    else:
        (X, y), cls = clf_data[problem], "SGDClassifier"
    pair = _fit_pair(cls, to_input(X, kind), y, penalty=penalty, tol=None, max_iter=6)
    if pair is None:
        return
    fast, ref = pair
    assert fast.coef_.dtype == ref.coef_.dtype == np.float32
    assert_same_fit(fast, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("problem", [2, 3, "reg"])
def test_warm_start(clf_data, reg_data, problem, average):
    if problem == "reg":
        (X, y), cls = reg_data, "SGDRegressor"
    else:
        (X, y), cls = clf_data[problem], "SGDClassifier"
    pair = _fit_pair(cls, X, y, warm_start=True, average=average, max_iter=5)
    if pair is None:
        return
    fast, ref = pair
    assert_same_fit(fast, ref)
    for est in (fast, ref):
        est.set_params(alpha=1e-3, max_iter=12)
        _quiet(est.fit, X[::-1], y[::-1])
    assert_same_fit(fast, ref)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("problem, average", [
    (p, a) for p in (2, 3, "reg") for a in (False, True, 60)
    if not (a is True and p != "reg")])
def test_partial_fit_sequence(clf_data, reg_data, to_input, problem, average, kind):
    """Call after call, fastgd's partial_fit is scikit-learn's.

    Except for classifiers with average=True (see the next two tests): scikit-learn
    loses the standard intercept between calls once averaging is on, so only the case
    where averaging switches on at the very last call (average=60) is compared.
    """
    if problem == "reg":
        (X, y), cls = reg_data, "SGDRegressor"
    else:
        (X, y), cls = clf_data[problem], "SGDClassifier"
    Xk = to_input(X, kind)
    fast, ref = _pair(cls, average=average, learning_rate="invscaling", eta0=0.05)
    classes = np.unique(y)
    chunks = [slice(0, 20), slice(20, 36), slice(36, 48), slice(0, 48)]
    for chunk in chunks:
        kw = {"classes": classes} if problem != "reg" else {}
        fast.partial_fit(Xk[chunk], y[chunk], **kw)
        ref.partial_fit(Xk[chunk], y[chunk], **kw)
        assert_same_fit(fast, ref)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("problem", [2, 3, "reg"])
def test_partial_fit_chunks_equal_one_epoch(clf_data, reg_data, to_input, problem, kind):
    """With shuffle=False, partial_fit(A); partial_fit(B) is one epoch over A then B.

    The reference is one scikit-learn partial_fit over the concatenation (a single
    call, so its averaged-intercept bookkeeping problem below does not arise).
    """
    if problem == "reg":
        (X, y), cls = reg_data, "SGDRegressor"
    else:
        (X, y), cls = clf_data[problem], "SGDClassifier"
    Xk = to_input(X, kind)
    kw = {"classes": np.unique(y)} if problem != "reg" else {}
    fast, ref = _pair(cls, average=True, learning_rate="invscaling", eta0=0.05,
                      shuffle=False)
    for chunk in (slice(0, 20), slice(20, 36), slice(36, 48)):
        fast.partial_fit(Xk[chunk], y[chunk], **kw)
    ref.partial_fit(Xk, y, **kw)
    assert_allclose(fast.coef_, ref.coef_, rtol=RTOL64)
    assert_allclose(fast.intercept_, ref.intercept_, rtol=RTOL64)
    assert fast.t_ == ref.t_


def test_sklearn_averaged_partial_fit_quirk(clf_data):
    """KNOWN DIFFERENCE, documented: scikit-learn 1.9's averaged SGDClassifier.partial_fit.

    In ``_fit_binary`` the standard intercept returned by ``_plain_sgd`` is stored only
    when averaging is not yet in use (``average > t_ - 1``); otherwise
    ``_standard_intercept`` keeps its initial 0, and the next partial_fit restarts the
    intercept from 0 (multiclass: the standard intercepts are written into
    ``intercept_``, which is then ``_average_intercept``). fastgd keeps both, so a
    sequence of averaged partial_fit calls equals one epoch over the concatenated data
    (test_partial_fit_chunks_equal_one_epoch) and differs from scikit-learn's sequence.
    If this test fails, scikit-learn fixed it and test_partial_fit_sequence can cover
    average=True for classifiers.
    """
    X, y = clf_data[2]
    ref = sklm.SGDClassifier(average=True, shuffle=False).partial_fit(X, y, classes=[0, 1])
    fast = fastgd.SGDClassifier(average=True, shuffle=False).partial_fit(X, y,
                                                                          classes=[0, 1])
    assert_allclose(fast.intercept_, ref.intercept_, rtol=RTOL64)
    assert_array_equal(ref._standard_intercept, [0.0])
    assert fast._standard_intercept[0] != 0.0


@pytest.mark.parametrize("problem", [2, 3, "reg"])
def test_coef_init(clf_data, reg_data, problem):
    rng = np.random.RandomState(5)
    if problem == "reg":
        (X, y), cls = reg_data, "SGDRegressor"
        n_out, shape = 1, (X.shape[1],)
    else:
        (X, y), cls = clf_data[problem], "SGDClassifier"
        n_out = 1 if problem == 2 else problem
        shape = (n_out, X.shape[1])
    coef_init = rng.randn(*shape)
    intercept_init = rng.randn(n_out)
    fast, ref = _pair(cls, max_iter=10)
    coef_copy, intercept_copy = coef_init.copy(), intercept_init.copy()
    _quiet(fast.fit, X, y, coef_init=coef_init, intercept_init=intercept_init)
    # fastgd leaves the user's arrays alone (scikit-learn fits them in place)
    assert_array_equal(coef_init, coef_copy)
    assert_array_equal(intercept_init, intercept_copy)
    _quiet(ref.fit, X, y, coef_init=coef_init, intercept_init=intercept_init)
    assert_same_fit(fast, ref)


@pytest.mark.parametrize("name,cls,params", [
    ("a9a", "SGDClassifier", {}),
    ("a9a", "SGDClassifier", {"loss": "log_loss", "average": 10, "max_iter": 5}),
    ("abalone", "SGDRegressor", {"penalty": "elasticnet", "max_iter": 50}),
])
def test_default_shuffled_fit_on_real_data(name, cls, params):
    """A user's unchanged code on real data: default shuffle, same coefficients."""
    from fastgd.datasets import load

    X, y = load(name)
    fast = getattr(fastgd, cls)(random_state=42, **params)
    ref = getattr(sklm, cls)(random_state=42, **params)
    _quiet(fast.fit, X, y)
    _quiet(ref.fit, X, y)
    assert_same_fit(fast, ref, rtol=1e-9, atol=1e-14)

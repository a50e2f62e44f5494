"""Clipping and gradient noise (SPEC section 7): fits of every rule, dense and CSR (lazy
and exact), float64 and float32, on both backends, step for step against the NumPy
reference extended with the tools (tests/reference.py: ``tooled``, ``gaussian_noise``)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import reference as ref  # tests/ (conftest.py)
from fastgd import SGDClassifier, SGDRegressor
from fastgd._backend import available_backends
from fastgd._rules import RULES

BACKENDS = available_backends()
N, D = 31, 8
ALPHA = 0.01
EPOCHS = 3
SEED = 7  # random_state of the fits; the noise key is drawn from it


def _data(n=N, d=D, seed=0):
    rng = np.random.RandomState(seed)
    X = 0.8 * rng.randn(n, d)
    X[rng.rand(n, d) < 0.4] = 0.0
    X[:, 3] = 0.0  # a column no step touches on CSR
    w = rng.randn(d)
    y_reg = X @ w + 0.3 + 0.1 * rng.randn(n)
    y_clf = (X @ w + 0.2 * rng.randn(n) > 0).astype(int)
    return X, sp.csr_matrix(X), y_reg, y_clf


X, X_CSR, Y_REG, Y_CLF = _data()


def _noise_seed(random_state):
    return int(np.random.RandomState(random_state).randint(0, 2**32, dtype=np.int64))


TOOLS = {
    "clip_norm": dict(clip_norm=0.3),
    "clip_value": dict(clip_value=0.05),
    "noise": dict(gradient_noise=0.05, noise_decay=0.55),
    "all": dict(clip_norm=0.4, clip_value=0.08, gradient_noise=0.02, noise_decay=0.3),
}


def _ref_tools(params):
    return dict(clip_norm=params.get("clip_norm"), clip_value=params.get("clip_value"),
                noise=params.get("gradient_noise", 0.0),
                noise_decay=params.get("noise_decay", 0.55), seed=_noise_seed(SEED))


def _fit_both(rule, layout, batch_size, loss, tools, backend, dtype=np.float64,
              fit_intercept=True, n_jobs=None, data=None, l1_ratio=0.0):
    Xd, Xs, y_reg, y_clf = data or (X, X_CSR, Y_REG, Y_CLF)
    eta = 1.0 if rule == "adadelta" else 0.05
    lazy = layout != "csr_exact"
    X_fit = (Xd if layout == "dense" else Xs).astype(dtype)
    X_read = Xd.astype(dtype).astype(np.float64)
    kw = dict(optimizer=rule, batch_size=batch_size, lazy=lazy, shuffle=False, tol=None,
              max_iter=EPOCHS, learning_rate="constant", eta0=eta, alpha=ALPHA,
              fit_intercept=fit_intercept, random_state=SEED, backend=backend,
              n_jobs=n_jobs, **tools)
    if l1_ratio:
        kw.update(penalty="elasticnet", l1_ratio=l1_ratio)
    if loss == "log_loss":
        est = SGDClassifier(loss="log_loss", **kw).fit(X_fit, y_clf)
        y_ref = np.where(y_clf == 1, 1.0, -1.0)
    else:
        est = SGDRegressor(**kw).fit(X_fit, y_reg)
        y_ref = y_reg
    stored = None if layout == "dense" else (Xs != 0).toarray()
    res = ref.fit(X_read, y_ref, np.ones(len(y_ref)), rule=rule, loss=loss, alpha=ALPHA,
                  eta=eta, batch_size=batch_size, epochs=EPOCHS, stored=stored, lazy=lazy,
                  l1_ratio=l1_ratio, fit_intercept=fit_intercept, tools=_ref_tools(tools))
    return est, res


def _check(est, res, rtol=1e-10, atol=1e-12, dtype=np.float64):
    ref.assert_fit_matches(est, res, dtype, rtol=rtol, atol=atol)
    assert est.t_ == res.t
    np.testing.assert_allclose(est.loss_curve_, res.loss_curve, rtol=rtol, atol=atol)


# every rule with all three tools at once; each tool alone on the rules whose gradient
# is formed differently (sgd's scale factor on CSR, nag's look-ahead, adamw's decay)
CELLS = ([(rule, "all") for rule in RULES]
         + [(rule, tool) for rule in ("sgd", "nag", "adam", "adamw")
            for tool in TOOLS if tool != "all"])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("batch_size", [1, 3], ids=["b1", "b3"])
@pytest.mark.parametrize("layout", ["dense", "csr_lazy", "csr_exact"])
@pytest.mark.parametrize("rule, tool", CELLS)
def test_tools_match_reference(rule, tool, layout, batch_size, backend):
    loss = "log_loss" if rule in ("sgd", "adam", "nag", "adagrad") else "squared_error"
    est, res = _fit_both(rule, layout, batch_size, loss, TOOLS[tool], backend)
    _check(est, res)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("batch_size", [1, 3], ids=["b1", "b3"])
@pytest.mark.parametrize("layout", ["dense", "csr_lazy"])
@pytest.mark.parametrize("tool", ["clip_norm", "noise", "all"])
def test_tools_with_l1_match_reference(tool, layout, batch_size, backend):
    # rule 'sgd' one sample at a time takes its own fused step (_sgd_tooled_step): the
    # cumulative L1 penalty after each coordinate's step, as the batched step does
    est, res = _fit_both("sgd", layout, batch_size, "log_loss", TOOLS[tool], backend,
                         l1_ratio=0.4)
    _check(est, res)
    without_l1, _ = _fit_both("sgd", layout, batch_size, "log_loss", TOOLS[tool], backend)
    assert not np.allclose(est.coef_, without_l1.coef_, rtol=1e-3)  # the L1 part acted


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["dense", "csr_lazy"])
@pytest.mark.parametrize("rule", ["sgd", "momentum", "adam", "adamw"])
def test_tools_float32_and_no_intercept(rule, layout, backend):
    est, res = _fit_both(rule, layout, 3, "squared_error", TOOLS["all"], backend,
                         dtype=np.float32, fit_intercept=False)
    _check(est, res, rtol=1e-9, atol=1e-11, dtype=np.float32)
    assert est.intercept_ == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["dense", "csr_lazy", "csr_exact"])
@pytest.mark.parametrize("rule", ["sgd", "nag", "adagrad", "adamw"])
def test_tools_synchronous_threads_match_reference(rule, layout, backend):
    # batches of >= 256 rows with n_jobs=2 run the synchronous data-parallel kernel, whose
    # clip norm is reduced over the threads' coordinate blocks
    from fastgd._backend import parallel_kernels

    if parallel_kernels(backend) is None:
        pytest.skip("no threaded kernels in this build")
    data = _data(n=600, d=D, seed=1)
    est, res = _fit_both(rule, layout, 300, "squared_error", TOOLS["all"], backend,
                         n_jobs=2, data=data)
    _check(est, res, rtol=1e-9, atol=1e-11)


def test_tools_leave_the_plain_path_and_change_the_fit():
    common = dict(shuffle=False, tol=None, max_iter=3, random_state=SEED)
    plain = SGDRegressor(**common).fit(X, Y_REG)
    for tool in TOOLS.values():
        tooled = SGDRegressor(**common, **tool).fit(X, Y_REG)
        assert not np.allclose(tooled.coef_, plain.coef_)


def test_lazy_noise_reaches_only_touched_coordinates():
    # column 3 is empty: on lazy CSR no step updates it, so neither noise nor penalty do
    est = SGDRegressor(optimizer="adam", gradient_noise=1.0, random_state=0, tol=None,
                       max_iter=3).fit(X_CSR, Y_REG)
    assert est.coef_[3] == 0.0
    dense = SGDRegressor(optimizer="adam", gradient_noise=1.0, random_state=0, tol=None,
                         max_iter=3).fit(X, Y_REG)
    assert dense.coef_[3] != 0.0


def test_noise_is_reproducible_from_random_state():
    def fit(rs):
        return SGDRegressor(optimizer="momentum", gradient_noise=0.1, random_state=rs,
                            shuffle=False, tol=None, max_iter=2).fit(X, Y_REG).coef_

    np.testing.assert_array_equal(fit(3), fit(3))
    assert not np.allclose(fit(3), fit(4))


def test_partial_fit_continues_the_noise_stream():
    kw = dict(optimizer="adam", gradient_noise=0.05, clip_norm=0.5, random_state=SEED,
              shuffle=False, tol=None, learning_rate="constant", eta0=0.05, alpha=ALPHA)
    once = SGDRegressor(max_iter=2, **kw).fit(X, Y_REG)
    twice = SGDRegressor(max_iter=1, **kw)
    twice.partial_fit(X, Y_REG)
    twice.partial_fit(X, Y_REG)
    np.testing.assert_allclose(twice.coef_, once.coef_, rtol=1e-12)


def test_ziggurat_of_the_kernels_is_the_references():
    """The kernels' normal generator (the ziggurat on the counter hash) draws exactly the
    reference's deviates, the rejected first words (wedge and tail) included, and their
    tables are the reference's, derived independently from the same recurrence."""
    numba = pytest.importorskip("numba")
    from fastgd import _rules
    from fastgd.kernels import _nb_common

    assert np.array_equal(_rules.ZIGGURAT_X, ref.ZIG_X)
    assert np.array_equal(_rules.ZIGGURAT_F, ref.ZIG_F)

    @numba.njit
    def draws(seed, t, out):
        key = _nb_common._noise_key(seed, t)
        for j in range(out.shape[0]):
            out[j] = _nb_common._gauss(key, j)
        return out

    for seed, t in [(0, 1), (12345, 77), (7, 2 ** 40 + 3)]:
        mine = draws(seed, float(t), np.empty(50_000))
        expected = ref.gaussian_noise(seed, t, 50_000)
        words = ref.noise_words(seed, t, 50_000)
        strip = (words & np.uint64(127)).astype(np.int64)
        slow = np.abs(expected) >= ref.ZIG_X[strip + 1]
        assert slow.sum() > 500 and (np.abs(expected) > ref.ZIG_X[1]).sum() > 10
        np.testing.assert_array_equal(mine, expected)


def test_gaussian_noise_generator_is_standard_normal():
    draws = np.concatenate([ref.gaussian_noise(12345, t, 2000) for t in range(1, 51)])
    assert abs(draws.mean()) < 5 / np.sqrt(draws.size)  # 5 standard errors
    assert abs(draws.std() - 1.0) < 0.01
    assert stats.kstest(draws, "norm").pvalue > 1e-4
    # neighbouring coordinates and steps are uncorrelated
    a = ref.gaussian_noise(1, 10, 50_000)
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 0.02
    assert abs(np.corrcoef(a, ref.gaussian_noise(1, 11, 50_000))[0, 1]) < 0.02


@pytest.mark.parametrize("params, message", [
    (dict(solver="saga", clip_norm=1.0), "clip_norm"),
    (dict(solver="svrg", gradient_noise=0.1), "gradient_noise"),
    (dict(clip_norm=0.0), "clip_norm"),
    (dict(clip_value=-1.0), "clip_value"),
    (dict(gradient_noise=-0.1), "gradient_noise"),
])
def test_bad_tool_parameters_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        SGDRegressor(**params).fit(X, Y_REG)

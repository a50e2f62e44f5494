"""Regression tests of the reliability issue: one test (or a few) per item.

Crashes are reproduced in subprocesses where a failure would take pytest down with it
(heap corruption, fork, SIGINT); their timeouts only catch hangs.
"""

import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge

import fastgd
from fastgd import SGDClassifier, SGDRegressor
from fastgd._backend import available_backends
from fastgd.objective import objective

BACKENDS = available_backends()
ROOT = pathlib.Path(__file__).resolve().parent.parent
# an empty cwd, from which `python -c` imports the installed package (in
# /tmp itself, a stray file such as nt.py would shadow the standard library)
OUTSIDE = tempfile.mkdtemp(prefix="fastgd-cwd-")
ADAPTIVE = ["adam", "adagrad", "rmsprop", "amsgrad", "nadam", "adadelta"]


def run_python(code, timeout=600, env=None):
    """Run ``code`` in a fresh interpreter; returns the CompletedProcess (a test failure
    when it is still running after ``timeout`` seconds: it hung)."""
    full_env = dict(os.environ, **(env or {}))
    try:  # run outside the checkout, so that the installed fastgd is imported
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=OUTSIDE,
                              capture_output=True, text=True, timeout=timeout,
                              env=full_env)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the subprocess hung ({timeout} s): {exc.stderr!r:.2000}")


@pytest.fixture(scope="module")
def problem():
    rs = np.random.RandomState(0)
    X = rs.randn(200, 5)
    y = X @ rs.randn(5) + 0.1 * rs.randn(200)
    return X, y, (y > 0).astype(int)


# ------------------------------------------------- 1. Hogwild! scratch on dense data
def test_dense_hogwild_scratch_in_bounds():
    """Numba with bounds checks on: the dense n_jobs=2 rule kernels stay in bounds
    (they once wrote mark[j] into a (n_threads, 0) array and corrupted the heap)."""
    out = run_python("""
        import numpy as np, fastgd
        X = np.random.RandomState(0).randn(300, 40)
        y = (X[:, 0] > 0).astype(int)
        for opt, batch in (("adam", 1), ("nag", 64)):
            est = fastgd.SGDClassifier(optimizer=opt, batch_size=batch, n_jobs=2,
                                       backend="numba", max_iter=2, tol=None).fit(X, y)
            assert np.isfinite(est.coef_).all()
        print("in bounds")
    """, env={"NUMBA_BOUNDSCHECK": "1",
              "NUMBA_CACHE_DIR": str(ROOT / "build" / "numba-boundscheck-cache")},
                     timeout=400)  # an IndexError inside a prange hangs rather than raise
    assert out.returncode == 0, out.stderr[-3000:]
    assert "in bounds" in out.stdout


# ------------------------------------------------------------- 2. malformed CSR
def _malformed():
    """(description, matrix) pairs that scipy accepts once their arrays are changed."""
    def csr(indices, indptr, shape=(2, 3), n=2):
        X = sp.csr_matrix((np.ones(n), np.arange(n) % shape[1], [0, 1, n]), shape=shape)
        X.indices = np.asarray(indices)
        X.indptr = np.asarray(indptr)
        return X

    return [
        ("index >= n_features", sp.csr_matrix((np.ones(2), [0, 50_000_000], [0, 1, 2]),
                                              shape=(2, 3)), "out of range"),
        ("indptr[-1] > nnz", csr([0, 1], [0, 1, 5]), "exceeds the stored entries"),
        ("negative index", csr([0, -1], [0, 1, 2]), "negative column index"),
        ("decreasing indptr", csr([0, 1], [0, 2, 1]), "indptr decreases"),
        ("int64 index >= 2**31", csr(np.array([0, 2**31 + 1], np.int64), [0, 1, 2]),
         "out of range"),
        ("indptr[0] != 0", csr([0, 1], [1, 1, 2]), r"indptr\[0\]"),
    ]


MALFORMED = _malformed()


@pytest.mark.parametrize("desc,X,msg", MALFORMED, ids=[m[0] for m in MALFORMED])
@pytest.mark.parametrize("kw", [{}, {"solver": "saga", "loss": "log_loss"},
                                {"n_jobs": 2, "optimizer": "adam"}],
                         ids=["sgd", "saga", "parallel"])
def test_malformed_csr_rejected_on_fit(desc, X, msg, kw):
    y = np.array([0, 1])
    for fit in (lambda e: e.fit(X, y), lambda e: e.partial_fit(X, y, classes=[0, 1])):
        with pytest.raises(ValueError, match=msg):
            fit(SGDClassifier(**kw))
    with pytest.raises(ValueError, match=msg):
        SGDRegressor(**{k: v for k, v in kw.items() if k != "loss"}).fit(X, [0.0, 1.0])


@pytest.mark.parametrize("desc,X,msg", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_csr_rejected_on_predict(desc, X, msg):
    good = sp.csr_matrix(np.eye(2, 3))
    clf = SGDClassifier(loss="log_loss", max_iter=2, tol=None).fit(good, [0, 1])
    reg = SGDRegressor(max_iter=2, tol=None).fit(good, [0.0, 1.0])
    for method in (clf.predict, clf.decision_function, clf.predict_proba, reg.predict):
        with pytest.raises(ValueError, match=msg):
            method(X)
    with pytest.raises(ValueError, match=msg):
        objective(X, np.array([1.0, -1.0]), np.zeros(3), 0.0, "log_loss", 1e-4)


def test_malformed_csc_rejected():
    X = sp.csc_matrix(np.eye(3))
    X.indices = np.array([0, 1, 7])
    with pytest.raises(ValueError, match="row index 7 is out of range"):
        SGDClassifier().fit(X, [0, 1, 0])


# -------------------------------------------------------------- 3. fork() safety
@pytest.mark.parametrize("backend", BACKENDS)
def test_forked_child_can_fit_after_parallel_fit(backend):
    out = run_python(f"""
        import multiprocessing as mp
        import numpy as np, fastgd
        X = np.random.RandomState(0).randn(500, 20)
        y = (X[:, 0] > 0).astype(int)

        def fit(_=None):
            for kw in ({{"optimizer": "adam"}}, {{}}, {{"solver": "saga",
                                                       "loss": "log_loss"}}):
                est = fastgd.SGDClassifier(n_jobs=2, backend="{backend}", max_iter=3,
                                           tol=None, **kw).fit(X, y)
            return est.score(X, y)

        fit()  # the parent starts its threads (OpenMP / TBB)
        with mp.get_context("fork").Pool(2) as pool:
            scores = pool.map(fit, range(2))
        assert min(scores) > 0.8, scores
        print("children fitted", scores)
    """, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "children fitted" in out.stdout


def test_numba_threading_layer_is_tbb_when_installed():
    """The tbb wheel's library is found and loaded: Numba runs TBB, not GNU OpenMP."""
    pytest.importorskip("numba")
    try:
        from importlib import metadata
        metadata.version("tbb")
    except Exception:
        pytest.skip("the tbb distribution is not installed here")
    out = run_python("""
        import numpy as np, fastgd, numba
        X = np.random.RandomState(0).randn(100, 5)
        fastgd.SGDClassifier(n_jobs=2, backend="numba", max_iter=1, tol=None).fit(
            X, (X[:, 0] > 0).astype(int))
        print(numba.threading_layer())
        print(fastgd._config.config_info()["numba threading layer"])
    """, env={"NUMBA_THREADING_LAYER": ""})
    assert out.returncode == 0, out.stderr[-3000:]
    layer, reported = out.stdout.split("\n")[:2]
    assert layer == "tbb"
    assert reported.startswith("tbb")


# ----------------------------------------------------- 4. CSR with duplicate entries
@pytest.mark.parametrize("solver", ["sag", "saga", "svrg"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_vr_duplicates_are_summed(solver, backend):
    rs = np.random.RandomState(3)
    dense = np.where(rs.rand(60, 8) < 0.4, rs.randn(60, 8), 0.0)
    y = (dense @ rs.randn(8) > 0).astype(int)
    # every row's entries stored twice, as two halves
    dense_csr = sp.csr_matrix(dense)
    indices, data, indptr = [], [], [0]
    for i in range(dense.shape[0]):
        lo, hi = dense_csr.indptr[i], dense_csr.indptr[i + 1]
        indices += [dense_csr.indices[lo:hi]] * 2
        data += [dense_csr.data[lo:hi] / 2] * 2
        indptr.append(indptr[-1] + 2 * (hi - lo))
    X = sp.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr),
                      shape=dense.shape)
    assert not X.has_canonical_format
    nnz_before = X.nnz
    kw = dict(loss="log_loss", solver=solver, backend=backend, max_iter=300, tol=1e-10,
              random_state=0, penalty="elasticnet" if solver != "sag" else "l2",
              l1_ratio=0.5, alpha=1e-2)
    dup = SGDClassifier(**kw).fit(X, y)
    ref = SGDClassifier(**kw).fit(dense_csr, y)
    np.testing.assert_allclose(dup.coef_, ref.coef_, atol=1e-6)
    assert X.nnz == nnz_before  # the user's matrix keeps its duplicates


# ------------------------------------- 5, 6. VR memory and draws across partial_fit
def _ridge_optimum(X, y, alpha):
    """w*, b* of (1/2n)||y - Xw - b||² + alpha/2 ||w||² (scikit-learn's Ridge)."""
    r = Ridge(alpha=alpha * X.shape[0], tol=1e-12, solver="cholesky").fit(X, y)
    return r.coef_, r.intercept_


@pytest.mark.parametrize("solver", ["sag", "saga"])
def test_vr_partial_fit_memory_is_not_reused_on_other_data(solver):
    """Two same-sized dense batches (the old fingerprint collided on them): moving to
    batch B, the memory of A is dropped and partial_fit converges to B's optimum."""
    rs = np.random.RandomState(0)
    A = rs.randn(50, 4)
    B = A[:, ::-1].copy()  # same n, nnz, y and weights; other data
    y = rs.randn(50)
    est = SGDRegressor(solver=solver, alpha=1e-2, random_state=0)
    for _ in range(5):
        est.partial_fit(A, y)
    for _ in range(300):
        est.partial_fit(B, y)
    w, b = _ridge_optimum(B, y, 1e-2)
    np.testing.assert_allclose(est.coef_, w, atol=1e-6)
    np.testing.assert_allclose(est.intercept_[0], b, atol=1e-6)


def test_sag_partial_fit_draws_fresh_samples():
    rs = np.random.RandomState(1)
    X, y = rs.randn(50, 3), rs.randn(50)
    est = SGDRegressor(solver="sag", random_state=0)
    for _ in range(12):
        est.partial_fit(X, y)
    assert est._opt_state[0]["seen"].all()  # every sample visited, none left out


def test_sag_in_fixed_order_is_refused(problem):
    X, y, _ = problem
    with pytest.raises(ValueError, match="shuffle=True"):
        SGDRegressor(solver="sag", shuffle=False).fit(X, y)


# ------------------------------------------------ 7. adaptive state overflow
@pytest.mark.parametrize("optimizer", ADAPTIVE)
@pytest.mark.parametrize("how", ["X", "sample_weight"])
def test_adaptive_state_overflow_is_an_error(problem, optimizer, how):
    X, _, y = problem
    kw = {"sample_weight": np.full(len(y), 1e300)} if how == "sample_weight" else {}
    Xf = X * 1e160 if how == "X" else X
    est = SGDClassifier(optimizer=optimizer, max_iter=5)
    with pytest.raises(ValueError, match="state overflowed"):
        est.fit(Xf, y, **kw)
    assert not hasattr(est, "coef_")


# ------------------------------------------------ 8. divergence to finite garbage
@pytest.mark.parametrize("kw", [dict(learning_rate="constant", eta0=1e6),
                                dict(learning_rate="constant", eta0=1e6, tol=1e-3),
                                dict(optimizer="adam", eta0=1e12)],
                         ids=["plain", "plain-tracked", "adam"])
def test_runaway_fit_is_an_error(problem, kw):
    X, y, _ = problem
    kw = {"max_iter": 20, "tol": None, **kw}
    with pytest.raises(ValueError, match="eta0.*scaling"):
        SGDRegressor(**kw).fit(X * 1e3, y)


def test_runaway_on_check_estimator_data_is_scikit_learns_too():
    """The three check_estimator checks fastgd's regressors are expected to fail
    (tests/test_estimators.py): scikit-learn's own SGDRegressor returns a runaway model
    on their data, and fastgd says so instead."""
    import sklearn.linear_model as sklm

    rng = np.random.RandomState(0)
    X = rng.normal(loc=100, size=(30, 2))
    y = rng.normal(size=30)
    ref = sklm.SGDRegressor(random_state=0).fit(X, y)
    assert ref.score(X, y) < -1e6
    with pytest.raises(ValueError, match="diverged"):
        SGDRegressor(random_state=0).fit(X, y)
    # scaled as the message says, the same fit is fine
    from sklearn.preprocessing import StandardScaler
    assert SGDRegressor(random_state=0).fit(StandardScaler().fit_transform(X), y).score(
        StandardScaler().fit_transform(X), y) > -0.5


# ------------------------------------------------ 9. clear messages, small breaks
@pytest.mark.parametrize("optimizer", ["adam", "momentum", "sgd"])
def test_optimal_schedule_without_penalty(problem, optimizer):
    X, _, y = problem
    est = SGDClassifier(optimizer=optimizer, learning_rate="optimal", penalty=None,
                        batch_size=4, max_iter=5, tol=None).fit(X, y)
    assert np.isfinite(est.coef_).all()
    assert est.score(X, y) > 0.8


def test_vr_step_on_all_zero_X():
    est = SGDRegressor(solver="sag", fit_intercept=False, penalty=None).fit(
        np.zeros((10, 3)), np.ones(10))
    np.testing.assert_array_equal(est.coef_, 0.0)


def test_penalty_none_means_no_penalty_for_vr():
    rs = np.random.RandomState(0)
    X = rs.randn(80, 3)
    y = X @ [1.0, -2.0, 3.0] + 0.1 * rs.randn(80)
    est = SGDRegressor(solver="saga", penalty=None, alpha=1.0, max_iter=500,
                       tol=1e-12, random_state=0).fit(X, y)
    w, _ = _ridge_optimum(X, y, 0.0)
    np.testing.assert_allclose(est.coef_, w, atol=1e-6)


@pytest.mark.parametrize("kw,msg", [
    (dict(coef_init=np.full(5, np.nan)), "coef_init contains NaN"),
    (dict(intercept_init=np.inf), "intercept_init contains NaN"),
])
def test_non_finite_init(problem, kw, msg):
    X, _, y = problem
    with pytest.raises(ValueError, match=msg):
        SGDClassifier().fit(X, y, **kw)


def test_non_finite_class_weight(problem):
    X, _, y = problem
    with pytest.raises(ValueError, match="class_weight must be finite"):
        SGDClassifier(class_weight={0: np.nan}).fit(X, y)


def test_negative_n_jobs_as_scikit_learn(problem):
    X, _, y = problem
    assert SGDClassifier(n_jobs=-2, max_iter=3, tol=None).fit(X, y).score(X, y) > 0.8
    with pytest.raises(ValueError, match="n_jobs == 0"):
        SGDClassifier(n_jobs=0).fit(X, y)


# ---------------------------------------------------- 10. Ctrl-C in one-vs-rest
@pytest.mark.parametrize("kw", [{"n_jobs": 2}, {"n_jobs": 2, "solver": "saga",
                                                "loss": "log_loss"}, {"n_jobs": 1}],
                         ids=["ovr-threads", "ovr-threads-saga", "serial"])
def test_sigint_stops_fit_and_rolls_back(kw):
    """A fit that would run for hours (max_iter=10**9, tol=None) ends on SIGINT and
    leaves the estimator as it was; the timeout only catches a fit that goes on."""
    code = f"""
        import signal, sys, numpy as np, fastgd
        # Ctrl-C as in an interactive Python, even when the test runs in a background
        # job, whose children inherit SIGINT ignored (then Python installs no handler)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        rs = np.random.RandomState(0)
        X = rs.randn(2000, 20)
        y = np.argmax(X[:, :3], axis=1)
        est = fastgd.SGDClassifier(max_iter=10**9, tol=None, verbose=1, **{kw!r})
        try:
            est.fit(X, y)
        except KeyboardInterrupt:
            print("INTERRUPTED fitted=%s" % hasattr(est, "coef_"), flush=True)
    """
    proc = subprocess.Popen([sys.executable, "-u", "-c", textwrap.dedent(code)], cwd=OUTSIDE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("-- Epoch"):
                break
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert "INTERRUPTED fitted=False" in rest, err[-3000:]


# ----------------------------------------- 11. concurrent fits of one estimator
def test_concurrent_fits_of_one_estimator_are_atomic():
    rs = np.random.RandomState(0)
    data = [(rs.randn(300, d), rs.randint(0, 2, 300)) for d in (5, 9)]
    est = SGDClassifier(max_iter=5, tol=None)
    for _ in range(20):
        threads = [threading.Thread(target=est.fit, args=xy) for xy in data]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert est.coef_.shape == (1, est.n_features_in_)

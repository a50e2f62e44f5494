"""n_jobs > 1: Hogwild!, synchronous data parallelism, parallel one-vs-rest (SPEC s. 5).

- every parallel kernel called with ``n_threads=1`` equals its serial kernel bit for bit
  (every rule, dense / CSR, lazy / exact CSR, batch 1 / 3 / full, L1 and L2);
- with ``n_jobs=2`` the objective after a fixed number of epochs is within 1 % of the
  serial one on real data from ``../shared/data`` (skipped when the folder is absent;
  covtype is read only for its first 100,000 rows to keep the test fast);
- concurrent fits from several Python threads (``n_jobs=2`` each, deterministic
  configurations) equal the same fits run one after another;
- one-vs-rest with ``n_jobs=2`` equals the sequential fit.

Only float64 data here: every parallel specialisation costs seconds of compilation.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.preprocessing import MaxAbsScaler

import fastgd
from fastgd import SGDClassifier, SGDRegressor
from fastgd._engine import Rows, hogwild_replicas, new_state
from fastgd._rules import FP_T, FP_U, HP_NAMES, RULES, Loss, Schedule, records
from fastgd.kernels import _nb_parallel as par
from fastgd.kernels import _nb_sgd as nb
from fastgd.objective import objective


def _problem(kind, n=40, d=7, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    X[rng.rand(n, d) > 0.5] = 0.0
    y = np.where(X @ rng.randn(d) + 0.3 * rng.randn(n) > 0, 1.0, -1.0)
    sw = rng.uniform(0.5, 1.5, n)
    Xk = sp.csr_matrix(X) if kind == "csr" else X
    return Rows.of(Xk, "numba"), y, sw


def _hp(name):
    spec = RULES[name]
    return np.array([spec.hyper.get(h, 0.0) for h in HP_NAMES])


def _orders(n, epochs, seed=1):
    rng = np.random.RandomState(seed)
    return [rng.permutation(n).astype(np.int64) for _ in range(epochs)]


# ------------------------------------------------------- n_threads=1 == serial, exactly
@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("batch", [1, 3, "full"])
@pytest.mark.parametrize("lazy", [True, False])
def test_optimizer_kernels_one_thread_equal_serial(rule, kind, batch, lazy):
    if kind == "dense" and not lazy:
        pytest.skip("lazy only matters on CSR")
    rows, y, sw = _problem(kind)
    d, n = rows.n_features, rows.n_samples
    bs = n if batch == "full" else batch
    hp = _hp(rule)
    rid = int(RULES[rule].id)
    eta0 = RULES[rule].eta0 if rule != "sgd" else 0.05
    common = dict(loss=int(Loss.LOG_LOSS), param=0.0, alpha=0.01, l1_ratio=0.3,
                  schedule=int(Schedule.INVSCALING), eta0=eta0, power_t=0.25)
    outs = {}
    for which in ("serial", "hogwild", "sync"):
        w = np.zeros(d + 1)
        st = new_state(None, d)
        t, u = 1.0, 0.0
        losses = []
        for order in _orders(n, 3):
            ip, fp = records(dense_d=rows.dense_d, batch_size=bs, rule=rid,
                             loss=common["loss"], param=common["param"],
                             alpha=common["alpha"], l1_ratio=common["l1_ratio"],
                             fit_intercept=1, lazy=int(lazy), schedule=common["schedule"],
                             eta=eta0, eta0=eta0, power_t=common["power_t"],
                             sched_alpha=common["alpha"], t=t, u=u, n_threads=1,
                             **dict(zip(HP_NAMES, hp)))
            args = (rows.data, rows.indices, rows.indptr, y, sw, order, w, st["state"],
                    st["q"], ip, fp)
            pad = par.PAD
            if which == "serial":
                ls = nb.optimizer_epoch(*args, np.zeros(d + 1), np.zeros(d, np.uint8),
                                        np.zeros(d, np.int64))
            elif which == "hogwild":
                ls = par.hogwild_optimizer_epoch(
                    *args, np.zeros((1, d + 1 + pad)), np.zeros((1, d), np.uint8),
                    np.zeros((1, d), np.int64),
                    np.zeros((1, 1 + st["state"].shape[0], pad)))
            else:
                ls = par.sync_optimizer_epoch(
                    *args, np.zeros((1, d + 1 + pad)), np.zeros((2, d), np.uint8),
                    np.zeros((2, d), np.int64), np.zeros((1, pad)))
            t, u = fp[FP_T], fp[FP_U]
            losses.append(ls)
        outs[which] = (w, st["state"], st["q"], t, u, losses)
    ref = outs["serial"]
    assert np.isfinite(ref[0]).all() and np.abs(ref[0]).sum() > 0
    for which in ("hogwild", "sync"):
        got = outs[which]
        for a, b in zip(ref[:3], got[:3]):
            assert np.array_equal(a, b), which
        assert ref[3:] == got[3:], which


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("penalty,l1_ratio", [(2, 0.0), (1, 1.0), (3, 0.3), (0, 0.0)])
@pytest.mark.parametrize("average", [0, 5])
def test_plain_kernel_one_thread_equal_serial(kind, penalty, l1_ratio, average):
    rows, y, sw = _problem(kind)
    d, n = rows.n_features, rows.n_samples
    alpha = 0.05  # strong: exercises the wscale rescale
    outs = []
    for parallel in (False, True):
        w, aw, q = np.zeros(d), np.zeros(d), np.zeros(d)
        st = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
        t = 1.0
        objs = []
        for order in _orders(n, 4):
            ip, fp = records(dense_d=rows.dense_d, loss=int(Loss.HINGE), param=1.0,
                             penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
                             fit_intercept=1,
                             intercept_decay=0.01 if kind == "csr" else 1.0,
                             schedule=int(Schedule.OPTIMAL), power_t=0.5,
                             sched_alpha=alpha, t0=10.0, t=t, average=average, track=1,
                             n_threads=1)
            args = (rows.data, rows.indices, rows.indptr, y, sw, order, w, aw, q, st, ip,
                    fp)
            if parallel:
                obj = par.hogwild_plain_epoch(*args, np.zeros((1, 11 + par.PAD)),
                                              hogwild_replicas(rows, 1))
            else:
                obj = nb.plain_sgd_epoch(*args)
            t = fp[FP_T]
            objs.append(obj)
        outs.append((w, aw, q, st, t, objs))
    (w0, aw0, q0, st0, t0, o0), (w1, aw1, q1, st1, t1, o1) = outs
    for a, b in ((w0, w1), (aw0, aw1), (q0, q1), (st0, st1)):
        assert np.array_equal(a, b)
    assert t0 == t1 and o0 == o1


# -------------------------------------------------- n_jobs=2 reaches the serial objective
def _rel_gap(X, y, est_cls, loss, epochs, seeds=(0, 1, 2, 3, 4), **kw):
    """|F(n_jobs=2) - F(n_jobs=1)| / F(n_jobs=1), F averaged over a few sample orders.

    Averaging over seeds: SGD's own order-to-order spread of F after a few epochs is
    itself ~1-3 % on these sets (measured on a9a), which is what a single Hogwild! run
    (a different trajectory) would otherwise be compared against.
    """
    yy = np.where(y == y.max(), 1.0, -1.0) if loss != "squared_error" else y
    objs = []
    for n_jobs in (1, 2):
        vals = []
        for seed in seeds:
            est = est_cls(loss=loss, max_iter=epochs, tol=None, random_state=seed,
                          n_jobs=n_jobs, alpha=1e-4, **kw).fit(X, y)
            vals.append(objective(X, yy, est.coef_.ravel(), est.intercept_[0], loss, 1e-4))
        objs.append(np.mean(vals))
    return abs(objs[1] - objs[0]) / abs(objs[0]), objs


@pytest.mark.parametrize("name,est,loss,kw", [
    # plain SGD on a9a: 20 epochs, since after 10 its Hogwild! objective still lands
    # 0.1-1.6 % from serial from run to run (measured); after 20 it is within 0.5 %
    ("a9a.xz", SGDClassifier, "log_loss", {"max_iter": 40}),  # see test_backends_parallel
    ("a9a.xz", SGDClassifier, "log_loss", {"optimizer": "adam", "eta0": 1e-3}),
    ("reuters.trn.bz2", SGDClassifier, "hinge", {}),
    ("reuters.trn.bz2", SGDClassifier, "log_loss", {"optimizer": "adagrad", "eta0": 0.1}),
    ("debian-size.svm.xz", SGDRegressor, "squared_error",
     {"learning_rate": "constant", "eta0": 0.01}),
    ("debian-size.svm.xz", SGDRegressor, "squared_error",
     {"optimizer": "adam", "eta0": 1e-3}),
])
def test_hogwild_objective_close_to_serial(shared_data, name, est, loss, kw):
    X, y = shared_data(name)
    kw = dict(kw)
    gap, objs = _rel_gap(X, y, est, loss, kw.pop("max_iter", 10), **kw)
    assert gap < 0.01, objs


@pytest.mark.parametrize("kw", [{}, {"optimizer": "adam", "eta0": 1e-3},
                                {"optimizer": "sgd", "batch_size": "full",
                                 "learning_rate": "constant", "eta0": 1.0}])
def test_covtype_objective_close_to_serial(shared_data, kw):
    X, y = shared_data("covtype.libsvm.binary.xz", max_rows=100_000)  # first 100k rows
    X = MaxAbsScaler().fit_transform(X).tocsr()
    gap, objs = _rel_gap(X, y, SGDClassifier, "log_loss", 5, **kw)
    assert gap < 0.01, objs


# ----------------------------------------------------------------- deterministic modes
def _fit_configs():
    X, y = make_classification(600, 30, n_informative=10, random_state=3)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    return [
        (SGDClassifier, Xs, y, dict(optimizer="adam", batch_size="full", eta0=0.05,
                                    loss="log_loss", max_iter=20, tol=None)),
        (SGDClassifier, X, y, dict(optimizer="momentum", batch_size=300, eta0=0.1,
                                   loss="hinge", max_iter=10, tol=None,
                                   penalty="elasticnet")),
        (SGDRegressor, Xs, X[:, 0], dict(optimizer="sgd", batch_size="full",
                                         learning_rate="constant", eta0=0.05, max_iter=15,
                                         tol=None, penalty="l1")),
        (SGDClassifier, Xs, y, dict(optimizer="nag", batch_size=256, lazy=False,
                                    eta0=0.05, max_iter=8, tol=None, random_state=2)),
    ]


def _run(cfg):
    cls, X, y, kw = cfg
    est = cls(n_jobs=2, **{"random_state": 0, **kw}).fit(X, y)
    return est.coef_.copy(), est.intercept_.copy(), est.loss_curve_


def test_sync_one_thread_kernel_path_matches_n_jobs_1():
    """batch_size='full': n_jobs=2 differs from n_jobs=1 only by summation order."""
    cls, X, y, kw = _fit_configs()[0]
    a = cls(n_jobs=1, random_state=0, **kw).fit(X, y)
    b = cls(n_jobs=2, random_state=0, **kw).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-12)


def test_concurrent_fits_equal_sequential():
    configs = _fit_configs() * 2
    sequential = [_run(c) for c in configs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(_run, configs))
    for (c0, b0, l0), (c1, b1, l1) in zip(sequential, concurrent):
        assert np.array_equal(c0, c1) and np.array_equal(b0, b1) and l0 == l1


@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_ovr_parallel_equals_sequential(average, kind):
    X, y = make_classification(300, 12, n_informative=6, n_classes=4, random_state=0)
    X = sp.csr_matrix(X) if kind == "csr" else X
    kw = dict(max_iter=5, tol=None, random_state=0, average=average)
    a = SGDClassifier(n_jobs=1, **kw).fit(X, y)
    b = SGDClassifier(n_jobs=2, **kw).fit(X, y)
    c = SGDClassifier(n_jobs=-1, optimizer="adam", **{**kw, "average": False}).fit(X, y)
    d = SGDClassifier(n_jobs=1, optimizer="adam", **{**kw, "average": False}).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    assert np.array_equal(c.coef_, d.coef_)


def test_average_with_hogwild_is_a_clear_error():
    X, y = make_classification(100, 5, random_state=0)
    with pytest.raises(ValueError, match="average"):
        SGDClassifier(average=True, n_jobs=2, max_iter=2, tol=None).fit(X, y)
    # no error with one thread, nor for one-vs-rest (classes in threads)
    SGDClassifier(average=True, n_jobs=1, max_iter=2, tol=None).fit(X, y)


def test_n_jobs_validation():
    X, y = make_classification(60, 5, random_state=0)
    with pytest.raises(ValueError, match="n_jobs"):
        SGDClassifier(n_jobs=0).fit(X, y)


def test_hogwild_runs_on_dense_and_every_rule():
    X, y = make_classification(400, 10, random_state=1)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    for rule in sorted(RULES):
        for data in (X, Xs):
            est = SGDClassifier(optimizer=rule, n_jobs=2, max_iter=3, tol=None,
                                loss="log_loss", random_state=0, batch_size=2,
                                penalty="elasticnet").fit(data, y)
            assert np.isfinite(est.coef_).all()
            assert est.score(data, y) > 0.6, rule


def test_show_config_reports_threading_layer():
    SGDClassifier(n_jobs=2, max_iter=1, tol=None).fit(*make_classification(50, 4))
    info = fastgd._config.config_info()
    layer = info["numba threading layer"]
    from numba import threading_layer
    assert layer.startswith(threading_layer())
    if par.preferred_threading_layer() == "tbb":
        assert threading_layer() == "tbb"



@pytest.mark.parametrize("name", ["w8a.xz", "ijcnn1.trn.bz2"])
def test_hogwild_replicas_keep_the_minimiser(shared_data, name):
    """With every column replicated (few CSR columns), the rounds' merge keeps F's
    minimiser: n_jobs=2 gets as close to F* as the serial fit. (A merge that averaged
    the threads' steps under the whole shrink stalled at relative suboptimality
    1.3e-2 on w8a and 9e-3 on ijcnn1, against 1.7e-3 and 1.4e-3 serial; measured.)"""
    X, y = shared_data(name)
    assert hogwild_replicas(Rows.of(X, "numba"), 2).shape == (2, 2, X.shape[1])
    alpha, n, yy = 1e-4, X.shape[0], np.where(y == y.max(), 1.0, -1.0)

    def F(est):
        return objective(X, yy, est.coef_.ravel(), est.intercept_[0], "log_loss", alpha)

    fstar = F(fastgd.LogisticRegression(C=1 / (alpha * n), tol=1e-12).fit(X, y))
    sub = [(F(SGDClassifier(loss="log_loss", alpha=alpha, n_jobs=n_jobs, max_iter=32,
                            tol=None, random_state=0).fit(X, y)) - fstar) / fstar
           for n_jobs in (1, 2)]
    assert sub[1] < 2 * sub[0], sub

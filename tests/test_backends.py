"""Numba and Cython kernels are twins: same functions, same signatures, same numbers.

The matrix is generated from the tables in ``fastgd/_rules.py``: every optimizer x
{dense, CSR lazy, CSR exact} x batch {1, 3, 'full'} x {float32, float64} x {l2,
elasticnet}, plus scikit-learn's plain SGD with every loss, schedule and option, is
fitted with ``backend='numba'`` and with ``backend='cython'``; ``coef_``,
``intercept_``, ``n_iter_`` and ``loss_curve_`` must agree to round-off (the two
backends apply the same operations in the same order, so in practice bit for bit).
A completeness test fails at once when a kernel or an id is missing from one side,
and a subprocess test checks that fastgd runs on Cython alone when Numba is absent.
"""

import ast
import inspect
import os
import pathlib
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from backend_pair import ATOL, RTOL, assert_same, fit_both  # tests/ (conftest.py)
from fastgd import SGDClassifier, SGDRegressor
from fastgd._backend import available_backends, kernels, resolve_backend
from fastgd._rules import (FP_T, FP_U, HP_NAMES, LOSSES, REGRESSION_LOSSES, RULES,
                           SCHEDULES, Loss, Penalty, Rule, Schedule, pxi_source, records)

cy = pytest.importorskip("fastgd.kernels._cy_sgd",
                         reason="the Cython kernels are not built in this installation")
nb = pytest.importorskip("fastgd.kernels._nb_sgd", reason="numba is not installed")

NB_SOURCE = pathlib.Path(nb.__file__)


# --------------------------------------------------------------------------- data
def _data(n_classes=2, n=40, d=7, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    X[rng.rand(n, d) < 0.5] = 0.0  # genuinely sparse rows for the CSR paths
    score = X @ rng.randn(d) + 0.3 * rng.randn(n)
    if n_classes == 0:  # regression
        return X, score / np.std(score)
    if n_classes == 2:
        return X, (score > 0).astype(int)
    return X, np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))


def _as(X, layout, dtype):
    X = X.astype(dtype)
    return sp.csr_matrix(X) if layout.startswith("csr") else X


# ------------------------------------------------------------- estimator matrix
# optimizer x layout x batch x dtype x penalty, from the rule table
LAYOUTS = ("dense", "csr-lazy", "csr-exact")
BATCHES = (1, 3, "full")
DTYPES = (np.float32, np.float64)
# a loss per optimizer, cycling through the table, so every loss meets the rules
_LOSS_CYCLE = [name for name in LOSSES if name not in REGRESSION_LOSSES]


@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("batch_size", BATCHES, ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("optimizer", list(RULES))
def test_optimizer_matrix_classifier(optimizer, layout, batch_size, dtype, penalty):
    X, y = _data()
    loss = _LOSS_CYCLE[list(RULES).index(optimizer) % len(_LOSS_CYCLE)]

    def make(backend):
        return SGDClassifier(loss=loss, optimizer=optimizer, batch_size=batch_size,
                             lazy=layout != "csr-exact", penalty=penalty, alpha=1e-3,
                             l1_ratio=0.3, max_iter=4, tol=None, random_state=0,
                             backend=backend)

    a, b = fit_both(make, _as(X, layout, dtype), y)
    assert_same(a, b)


@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("optimizer", list(RULES))
def test_optimizer_matrix_regressor(optimizer, layout, loss):
    X, y = _data(0)

    def make(backend):
        return SGDRegressor(loss=loss, optimizer=optimizer, batch_size=3,
                            lazy=layout != "csr-exact", alpha=1e-3, max_iter=4, tol=None,
                            random_state=1, backend=backend)

    a, b = fit_both(make, _as(X, layout, np.float64), y)
    assert_same(a, b)


@pytest.mark.parametrize("batch_size", [1, 3], ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_tools_matrix(optimizer, layout, batch_size):
    """Clipping and gradient noise (SPEC section 7), L1 included: the same numbers."""
    X, y = _data()

    def make(backend):
        return SGDClassifier(loss="log_loss", optimizer=optimizer, batch_size=batch_size,
                             lazy=layout != "csr-exact", penalty="elasticnet",
                             l1_ratio=0.3, alpha=1e-3, clip_norm=0.5, clip_value=0.2,
                             gradient_noise=0.05, max_iter=4, tol=None, random_state=0,
                             backend=backend)

    a, b = fit_both(make, _as(X, layout, np.float64), y)
    assert_same(a, b)


@pytest.mark.parametrize("optimizer", ["sgd", "nag", "adam", "adamw"])
def test_optimizer_multiclass_stopping_rule(optimizer):
    """One-vs-rest and the tol stopping rule give the same n_iter_ on both backends."""
    X, y = _data(3)

    def make(backend):
        return SGDClassifier(loss="log_loss", optimizer=optimizer, batch_size=4,
                             max_iter=50, tol=1e-3, n_iter_no_change=3, random_state=2,
                             backend=backend)

    for Xf in (X, sp.csr_matrix(X)):
        assert_same(*fit_both(make, Xf, y))


# -------------------------------------------------- scikit-learn's plain SGD path
PLAIN_CASES = {
    "default": {},
    "average": {"average": True},
    "average-late": {"average": 15},
    "l1": {"penalty": "l1", "alpha": 1e-2},
    "elasticnet": {"penalty": "elasticnet", "l1_ratio": 0.4, "alpha": 1e-2},
    "no-penalty": {"penalty": None, "learning_rate": "constant", "eta0": 0.05},
    "early-stopping": {"early_stopping": True, "validation_fraction": 0.25,
                       "n_iter_no_change": 2},
    "class-weight": {"class_weight": {0: 0.3, 1: 2.0}},
    "balanced": {"class_weight": "balanced"},
    "invscaling": {"learning_rate": "invscaling", "eta0": 0.1, "power_t": 0.3},
    "adaptive": {"learning_rate": "adaptive", "eta0": 0.1, "n_iter_no_change": 1},
    "no-intercept": {"fit_intercept": False},
    "no-shuffle": {"shuffle": False},
    "untracked": {"tol": None, "max_iter": 7},  # no running objective, no norms
    "tiny-wscale": {"alpha": 0.5, "learning_rate": "constant", "eta0": 1.9,
                    "average": True},
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("case", list(PLAIN_CASES))
def test_plain_sgd_classifier(case, layout, dtype):
    X, y = _data(2)
    kw = dict(loss="hinge", max_iter=20, tol=1e-4, random_state=3)
    kw.update(PLAIN_CASES[case])

    def make(backend):
        return SGDClassifier(backend=backend, **kw)

    sw = np.random.RandomState(4).uniform(0.5, 2.0, X.shape[0])
    assert_same(*fit_both(make, _as(X, layout, dtype), y, sample_weight=sw))


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("loss", [name for name in LOSSES if name not in REGRESSION_LOSSES])
def test_plain_sgd_classifier_losses(loss, layout):
    X, y = _data(3)

    def make(backend):
        return SGDClassifier(loss=loss, max_iter=10, tol=None, average=5,
                             penalty="elasticnet", random_state=5, backend=backend)

    assert_same(*fit_both(make, _as(X, layout, np.float64), y))


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_plain_sgd_regressor(loss, layout):
    X, y = _data(0)

    def make(backend):
        return SGDRegressor(loss=loss, max_iter=10, tol=1e-4, penalty="elasticnet",
                            average=True, random_state=6, backend=backend)

    assert_same(*fit_both(make, _as(X, layout, np.float32), y))


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_schedules(schedule):
    """Every schedule on the plain path and on a batched rule."""
    X, y = _data(2)
    for optimizer, batch in (("sgd", 1), ("momentum", 5)):
        def make(backend):
            return SGDClassifier(loss="modified_huber", optimizer=optimizer,
                                 batch_size=batch, learning_rate=schedule, eta0=0.05,
                                 max_iter=8, tol=1e-3, n_iter_no_change=1,
                                 random_state=7, backend=backend)

        assert_same(*fit_both(make, sp.csr_matrix(X), y))


def test_partial_fit_and_warm_start():
    X, y = _data(2)
    models = []
    for backend in ("numba", "cython"):
        m = SGDClassifier(optimizer="adam", batch_size=2, random_state=0, backend=backend)
        for _ in range(3):
            m.partial_fit(X, y, classes=[0, 1])
        m2 = SGDClassifier(average=True, warm_start=True, max_iter=3, tol=None,
                           random_state=0, backend=backend)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m2.fit(X, y)
            m2.fit(X, y)
        models.append((m, m2))
    assert_same(models[0][0], models[1][0])
    assert_same(models[0][1], models[1][1])


# ----------------------------------------------------------- kernels, one by one
def _rows(X, dtype):
    if sp.issparse(X):
        X = X.astype(dtype)
        return X.data, X.indices.astype(np.int32), X.indptr.astype(np.int64), 0
    X = np.ascontiguousarray(X, dtype=dtype)
    return X.reshape(-1), np.zeros(0, np.int32), np.zeros(0, np.int64), X.shape[1]


@pytest.mark.parametrize("loss", list(Loss))
def test_loss_functions(loss):
    ps = np.concatenate([np.linspace(-50, 50, 41), [-37.0, -36.9, -2.0, 18.0, 33.3, 0.0]])
    for y in (-1.0, 1.0, 0.3):
        for p in ps:
            for param in (0.0, 0.1, 1.0):
                assert cy.loss_value(loss, y, p, param) == nb.loss_value(loss, y, p, param)
                assert cy.loss_dloss(loss, y, p, param) == nb.loss_dloss(loss, y, p, param)


@pytest.mark.parametrize("rule", list(Rule))
def test_apply_rule(rule):
    rng = np.random.RandomState(int(rule))
    hp = np.array([0.9, 0.9, 0.9, 0.999, 1e-8])
    out = []
    for mod in (nb, cy):
        w = rng.randn(4)
        state = np.abs(rng.randn(3, 4))
        w0, s0 = w.copy(), state.copy()
        for step, g in enumerate((0.5, -2.0, 0.0, 1e-3), start=1):
            t = float(step)
            mod.apply_rule(int(rule), step % 4, g, w, state, 0.01, hp, 1 - 0.9 ** t,
                           1 - 0.999 ** t, 1 - 0.9 ** (t + 1))
        out.append((w, state))
        rng = np.random.RandomState(int(rule))  # same start for the twin
        assert w0.shape == w.shape and s0.shape == state.shape
    assert_array_equal(out[0][0], out[1][0])
    assert_array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_margins_and_weighted_loss(layout, dtype):
    X, y = _data(0, n=25, d=9)
    X = sp.csr_matrix(X) if layout == "csr" else X
    data, indices, indptr, dense_d = _rows(X, dtype)
    w = np.random.RandomState(0).randn(9)
    outs = []
    for mod in (nb, cy):
        out = np.empty(25)
        assert mod.margins(data, indices, indptr, dense_d, 25, w, 0.25, out) is None
        outs.append(out)
    assert_array_equal(outs[0], outs[1])
    sw = np.linspace(0.5, 1.5, 25)
    for loss in Loss:
        a = nb.weighted_loss_sum(y, outs[0], sw, int(loss), 0.1)
        b = cy.weighted_loss_sum(y, outs[0], sw, int(loss), 0.1)
        assert a == b and isinstance(b, float)


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_kernels_return_the_same_objects(layout):
    """Floats where Numba returns floats; read-only inputs are accepted."""
    X, y = _data(0, n=12, d=5)
    X = sp.csr_matrix(X) if layout == "csr" else X
    data, indices, indptr, dense_d = _rows(X, np.float64)
    for arr in (data, indices, indptr, y):
        arr.setflags(write=False)
    sw = np.ones(12)
    order = np.arange(12, dtype=np.int64)
    res = {}
    for name, mod in (("nb", nb), ("cy", cy)):
        w, aw, q = np.zeros(5), np.zeros(5), np.zeros(5)
        st = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
        ip, fp = records(dense_d=dense_d, loss=int(Loss.SQUARED_ERROR), param=0.0,
                         penalty=int(Penalty.ELASTICNET), alpha=1e-2, l1_ratio=0.5,
                         fit_intercept=1, intercept_decay=1.0,
                         schedule=int(Schedule.INVSCALING), eta=0.01, eta0=0.01,
                         power_t=0.25, sched_alpha=1e-2, t=1.0, average=3, track=1)
        r1 = mod.plain_sgd_epoch(data, indices, indptr, y, sw, order, w, aw, q, st, ip, fp)
        assert mod.plain_sgd_finish(w, aw, st, 3) is None
        ws = np.zeros(6)
        state = np.zeros((3, 6))
        ip2, fp2 = records(dense_d=dense_d, batch_size=4, rule=int(Rule.AMSGRAD),
                           loss=int(Loss.HUBER), param=0.5, alpha=1e-2, l1_ratio=0.5,
                           fit_intercept=1, lazy=1, schedule=int(Schedule.CONSTANT),
                           eta=0.01, eta0=0.01, power_t=0.25, sched_alpha=1e-2, t=1.0,
                           momentum=0.9, rho=0.9, beta_1=0.9, beta_2=0.999, eps=1e-8)
        r2 = mod.optimizer_epoch(data, indices, indptr, y, sw, order, ws, state,
                                 np.zeros(5), ip2, fp2, np.zeros(6),
                                 np.zeros(5, np.uint8), np.zeros(5, np.int64))
        assert isinstance(r1, float) and isinstance(r2, float)
        res[name] = ((r1, fp[FP_T]), (r2, fp2[FP_T], fp2[FP_U]), w, aw, st, ws, state)
    for a, b in zip(res["nb"], res["cy"]):
        if isinstance(a, tuple):
            assert tuple(map(float, a)) == tuple(map(float, b))
        else:
            assert_array_equal(a, b)


# ------------------------------------------------------------------ completeness
def _public_njit_functions():
    """Names of kernels/_nb_sgd.py's public functions decorated with njit (or an alias)."""
    tree = ast.parse(NB_SOURCE.read_text())
    aliases = {"njit"}
    for node in tree.body:  # _jit = njit(...), _inline = njit(...)
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "njit"):
            aliases.update(t.id for t in node.targets if isinstance(t, ast.Name))
    names = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        for dec in node.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            if isinstance(target, ast.Name) and target.id in aliases:
                names.append(node.name)
    return names


def test_every_numba_kernel_has_a_cython_twin():
    names = _public_njit_functions()
    assert {"plain_sgd_epoch", "optimizer_epoch", "margins", "loss_dloss"} <= set(names)
    missing = [name for name in names if not callable(getattr(cy, name, None))]
    assert not missing, f"kernels missing from fastgd.kernels._cy_sgd: {missing}"
    for name in names:
        nb_fn = getattr(nb, name)
        nb_params = list(inspect.signature(getattr(nb_fn, "py_func", nb_fn)).parameters)
        try:
            cy_params = list(inspect.signature(getattr(cy, name)).parameters)
        except (TypeError, ValueError):  # pragma: no cover - no introspectable signature
            continue
        assert cy_params == nb_params, f"{name}: argument names/order differ"


def test_every_id_is_in_the_generated_pxi():
    ids = {}
    for enum in (Rule, Loss, Schedule, Penalty):
        for member in enum:
            ids[f"{enum.__name__.upper()}_{member.name}"] = int(member)
    for i, name in enumerate(HP_NAMES):
        ids[f"HP_{name.upper()}"] = i
    assert {int(spec.id) for spec in RULES.values()} <= set(map(int, Rule))
    source = pxi_source()
    for name, value in ids.items():
        assert f"    {name} = {value}\n" in source
    pxi = pathlib.Path(cy.__file__).parent / "_ids.pxi"
    if not pxi.exists():
        pytest.skip("installed without kernels/_ids.pxi (a wheel): nothing to compare")
    assert pxi.read_text() == source, "kernels/_ids.pxi is stale: rebuild (setup.py)"
    # and the Cython kernels read every id through it, never a literal
    pyx = pathlib.Path(cy.__file__).parent / "_cy_sgd.pyx"
    if pyx.exists():
        assert 'include "_ids.pxi"' in pyx.read_text()


def test_backend_selection(monkeypatch):
    assert available_backends() == ["numba", "cython"]
    assert kernels("cython") is cy and kernels("numba") is nb
    monkeypatch.setenv("FASTGD_BACKEND", "cython")
    assert resolve_backend("auto") == "cython" and kernels() is cy
    monkeypatch.setenv("FASTGD_BACKEND", "numba")
    assert resolve_backend("auto") == "numba"
    monkeypatch.delenv("FASTGD_BACKEND")
    assert resolve_backend("auto") == "numba"
    with pytest.raises(ValueError, match="Unknown backend"):
        resolve_backend("fortran")


def test_openmp_flag_and_show_config(capsys):
    assert isinstance(cy.OPENMP, bool)
    from fastgd._config import config_info, show_config

    info = config_info()
    assert info["Cython kernels built with OpenMP"] is cy.OPENMP
    assert info["backends available"] == ["numba", "cython"]
    show_config()
    out = capsys.readouterr().out
    for key in ("fastgd", "numpy", "scipy", "scikit-learn", "numba", "Cython",
                "backends available", "numba threading layer", "OpenMP"):
        assert key in out


# ------------------------------------------------------------- without Numba
_BLOCK_NUMBA = """
import sys

class _BlockNumba:
    def find_spec(self, name, path=None, target=None):
        if name == "numba" or name.startswith("numba."):
            raise ImportError("numba is blocked for this test")
        return None

sys.meta_path.insert(0, _BlockNumba())
"""

_FIT = """
import sys
import numpy as np
import scipy.sparse as sp
import fastgd
from fastgd import SGDClassifier
from fastgd._backend import available_backends, resolve_backend

assert "numba" not in sys.modules, "importing fastgd imported numba"
rng = np.random.RandomState(0)
X = rng.randn(30, 4)
y = (X[:, 0] > 0).astype(int)
for data in (X, sp.csr_matrix(X)):
    for opt, batch in (("sgd", 1), ("adam", 4)):
        m = SGDClassifier(optimizer=opt, batch_size=batch, max_iter=3, tol=None,
                          random_state=0).fit(data, y)
        assert np.isfinite(m.coef_).all() and m.score(data, y) > 0.6
loaded = "numba" in sys.modules  # before available_backends(), which tries numba
print("AUTO", resolve_backend("auto"), "NUMBA_LOADED", loaded,
      "BACKENDS", ",".join(available_backends()))
"""


def _run(code, env_extra, tmp_path):
    env = dict(os.environ)
    env.pop("FASTGD_BACKEND", None)
    env.update(env_extra)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_runs_without_numba(tmp_path):
    out = _run(_BLOCK_NUMBA + _FIT, {}, tmp_path)
    assert "AUTO cython NUMBA_LOADED False BACKENDS cython\n" in out
    out = _run(_BLOCK_NUMBA + _FIT, {"FASTGD_BACKEND": "cython"}, tmp_path)
    assert "AUTO cython NUMBA_LOADED False" in out
    # asking for the missing backend by name is a clear error
    code = _BLOCK_NUMBA + textwrap.dedent("""
        import numpy as np
        from fastgd import SGDClassifier
        try:
            SGDClassifier(backend="numba").fit(np.eye(4), [0, 1, 0, 1])
        except ValueError as exc:
            assert "not available" in str(exc), exc
            print("REFUSED")
    """)
    assert "REFUSED" in _run(code, {}, tmp_path)


_HANDOFF = """
import os
import sys
import numpy as np
import scipy.sparse as sp
from fastgd import SGDClassifier, _backend

rng = np.random.RandomState(0)
X = rng.randn(300, 6)
y = (X[:, 0] + 0.3 * rng.randn(300) > 0).astype(int)
first = SGDClassifier(random_state=0, max_iter=5, tol=None).fit(X, y)
started = len(_backend._LOADER)
if os.fork() == 0:  # fork waits for the loader: the child can fit at once
    SGDClassifier(random_state=0, max_iter=5, tol=None).fit(sp.csr_matrix(X), y)
    os._exit(0)
_, status = os.wait()
loaded = _backend.wait_for_numba(timeout=120)
later = SGDClassifier(random_state=0, max_iter=5, tol=None).fit(X, y)
cy = SGDClassifier(random_state=0, max_iter=5, tol=None, backend="cython").fit(X, y)
nb = SGDClassifier(random_state=0, max_iter=5, tol=None, backend="numba").fit(X, y)
two = SGDClassifier(random_state=0, max_iter=2, tol=None, n_jobs=2).fit(X, y)
same = all(np.array_equal(first.coef_, m.coef_) for m in (later, cy, nb))
print("STARTED", started, "CHILD", status, "LOADED", loaded, "AUTO",
      _backend.resolve_backend("auto"), "SAME", same, "THREADS", np.isfinite(two.coef_).all())
"""


def test_auto_hands_off_to_numba_after_a_first_fit_on_cython(tmp_path):
    """A fresh process's first 'auto' fit runs on the compiled Cython kernels while a
    thread loads Numba's; then 'auto' is Numba; every result is the same bits."""
    out = _run(_HANDOFF, {}, tmp_path)
    assert "STARTED 1 CHILD 0 LOADED True AUTO numba SAME True THREADS True" in out, out
    out = _run(_HANDOFF, {"FASTGD_BACKEND": "numba"}, tmp_path)
    assert "STARTED 0 CHILD 0 LOADED True AUTO numba SAME True" in out, out  # no thread


_HANDOFF_IMPORTS = """
import sys
import numpy as np
from fastgd.objective import objective  # imports no scikit-learn estimator module

X = np.eye(3)
objective(X, np.ones(3), np.zeros(3), 0.0, "log_loss", 1e-4)  # starts the loader
import sklearn.linear_model  # at once, while the loader runs: must not deadlock
from fastgd import _backend
print("STARTED", len(_backend._LOADER), "LOADED", _backend.wait_for_numba(timeout=120))
"""


def test_hand_off_loader_does_not_race_the_callers_imports(tmp_path):
    """The loader thread imports only Numba's modules: what else it needs (scikit-learn
    through fastgd.linear_model) is imported in the caller's thread before it starts,
    so the caller importing scikit-learn meanwhile cannot deadlock with it (Python's
    _DeadlockError; it did, in benchmarks/bench_exact.py)."""
    for _ in range(3):
        assert "STARTED 1 LOADED True" in _run(_HANDOFF_IMPORTS, {}, tmp_path)


def test_fastgd_backend_env_selects_cython(tmp_path):
    """FASTGD_BACKEND=cython with Numba installed: fits on Cython, never imports Numba."""
    out = _run(_FIT, {"FASTGD_BACKEND": "cython"}, tmp_path)
    assert "AUTO cython NUMBA_LOADED False" in out

"""SAG, SAGA and SVRG: the Numba kernels (kernels/_nb_vr.py) and their Cython twin
(kernels/_cy_vr.pyx) are the same functions with the same signatures and the same numbers.

Every solver x Lipschitz loss x {dense, CSR} x {float32, float64} x penalty is fitted with
``backend='numba'`` and ``backend='cython'``; ``coef_``, ``intercept_``, ``n_iter_``,
``t_`` and ``loss_curve_`` must agree (the two backends apply the same operations in the
same order, so in practice bit for bit). The kernels are also compared one by one on
problems made to reach every branch of the lagged proximal update (dead zone, crossing
zero inside a lag, rescaling when the scale underflows), and a completeness test fails
at once when a public kernel of _nb_vr.py has no twin.
"""

import ast
import inspect
import pathlib
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from backend_pair import ATOL, RTOL, assert_same, fit_both  # tests/ (conftest.py)
from fastgd import SGDClassifier, SGDRegressor
from fastgd._backend import vr_kernels
from fastgd._rules import IP_M_SEEN, LOSSES, loss_param, records

cy = pytest.importorskip("fastgd.kernels._cy_vr",
                         reason="the Cython kernels are not built in this installation")
nb = pytest.importorskip("fastgd.kernels._nb_vr", reason="numba is not installed")

NB_SOURCE = pathlib.Path(nb.__file__)

SOLVERS = ("sag", "saga", "svrg")
CLS_LOSSES = ("log_loss", "modified_huber", "squared_hinge")
REG_LOSSES = ("squared_error", "huber")
DTYPES = (np.float32, np.float64)
LAYOUTS = ("dense", "csr")


# --------------------------------------------------------------------------- data
def _data(n_classes=2, n=50, d=9, density=0.5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    X[rng.rand(n, d) > density] = 0.0  # genuinely sparse rows for the CSR path
    score = X @ rng.randn(d) + 0.3 * rng.randn(n)
    if n_classes == 0:  # regression
        return X, score / np.std(score)
    if n_classes == 2:
        return X, (score > 0).astype(int)
    return X, np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))


def _as(X, layout, dtype):
    X = X.astype(dtype)
    return sp.csr_matrix(X) if layout == "csr" else X


def _penalties(solver):
    return ("l2",) if solver == "sag" else ("l2", "l1", "elasticnet")


# ------------------------------------------------------------- estimator matrix
_MATRIX = [(solver, penalty) for solver in SOLVERS for penalty in _penalties(solver)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("loss", CLS_LOSSES + REG_LOSSES)
@pytest.mark.parametrize("solver,penalty", _MATRIX, ids=lambda v: str(v))
def test_solver_matrix(solver, penalty, loss, layout, dtype):
    regression = loss in REG_LOSSES
    X, y = _data(0 if regression else 2, seed=len(loss))
    Est = SGDRegressor if regression else SGDClassifier

    def make(backend):
        return Est(loss=loss, solver=solver, penalty=penalty, alpha=3e-2, l1_ratio=0.4,
                   max_iter=6, tol=None, shuffle=True, random_state=11, backend=backend)

    a, b = fit_both(make, _as(X, layout, dtype), y)
    assert len(a.loss_curve_) == 6
    assert_same(a, b)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_options_no_shuffle_weights_no_intercept(solver, layout):
    """shuffle=False, sample and class weights, no intercept, a fixed eta0."""
    X, y = _data(2, seed=3)
    sw = np.random.RandomState(4).uniform(0.2, 3.0, X.shape[0])
    # SAG samples at random by design: shuffle=False is refused there
    for kw in ({"shuffle": solver == "sag"},
               {"class_weight": {0: 0.4, 1: 2.5}, "fit_intercept": False},
               {"eta0": 0.01, "penalty": "l2" if solver == "sag" else "elasticnet"}):
        def make(backend):
            return SGDClassifier(**{"loss": "log_loss", "solver": solver, "alpha": 1e-2,
                                    "max_iter": 5, "tol": None, "random_state": 5,
                                    "backend": backend, **kw})

        assert_same(*fit_both(make, _as(X, layout, np.float64), y, sample_weight=sw))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_multiclass_and_stopping_rule(solver, layout):
    """One-vs-rest and the tol stopping rule give the same n_iter_ on both backends."""
    X, y = _data(3, n=60, seed=6)

    def make(backend):
        return SGDClassifier(loss="modified_huber", solver=solver, alpha=1e-2,
                             penalty="l2" if solver == "sag" else "elasticnet",
                             max_iter=200, tol=1e-3, random_state=7, backend=backend)

    a, b = fit_both(make, _as(X, layout, np.float32), y)
    assert np.min(a.n_iter_) < 200  # the stopping rule did stop
    assert_same(a, b)


@pytest.mark.parametrize("solver", SOLVERS)
def test_tiny_scale_rescale_inside_an_epoch(solver):
    """alpha large enough that the scale s falls below 1e-9 inside an epoch (a flush)."""
    X, y = _data(2, n=200, d=6, seed=8)
    for penalty in _penalties(solver):
        def make(backend):
            return SGDClassifier(loss="log_loss", solver=solver, penalty=penalty,
                                 alpha=2.0, l1_ratio=0.5, eta0=0.4, max_iter=3, tol=None,
                                 random_state=9, backend=backend)

        a, b = fit_both(make, sp.csr_matrix(X), y)
        assert_same(a, b)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_fit_and_warm_start(solver, layout):
    X, y = _data(2, seed=10)
    Xf = _as(X, layout, np.float64)
    penalty = "l2" if solver == "sag" else "l1"
    models = []
    for backend in ("numba", "cython"):
        m = SGDClassifier(loss="log_loss", solver=solver, penalty=penalty, alpha=1e-2,
                          random_state=0, backend=backend)
        for _ in range(3):
            m.partial_fit(Xf, y, classes=[0, 1])
        m2 = SGDClassifier(loss="squared_hinge", solver=solver, penalty=penalty,
                           alpha=1e-2, warm_start=True, max_iter=3, tol=None,
                           random_state=0, backend=backend)
        r = SGDRegressor(solver=solver, penalty=penalty, alpha=1e-2, random_state=1,
                         backend=backend)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m2.fit(Xf, y)
            m2.fit(Xf, y)
            for _ in range(2):
                r.partial_fit(Xf, X[:, 0] - X[:, 1])
        models.append((m, m2, r))
    for a, b in zip(*models):
        assert_same(a, b)


# ----------------------------------------------------------- kernels, one by one
def _rows(X, dtype):
    if sp.issparse(X):
        X = X.astype(dtype)
        return X.data, X.indices.astype(np.int32), X.indptr.astype(np.int64), 0
    X = np.ascontiguousarray(X, dtype=dtype)
    return X.reshape(-1), np.zeros(0, np.int32), np.zeros(0, np.int64), X.shape[1]


# (solver id, eta, lam2, lam1): L1 strong enough that coordinates sit in the dead zone
# and cross zero inside a lag; the last case rescales (s < 1e-9) inside the call
_KERNEL_CASES = [(0, 0.05, 1e-2, 0.0), (1, 0.05, 1e-2, 0.0), (1, 0.05, 1e-3, 0.05),
                 (1, 0.2, 0.0, 0.3), (2, 0.05, 1e-3, 0.05), (2, 0.1, 0.0, 0.02),
                 (1, 0.5, 1.5, 0.1), (2, 0.5, 1.5, 0.1)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("weighted", [False, True], ids=["uniform", "rw"])
@pytest.mark.parametrize("case", _KERNEL_CASES, ids=str)
def test_vr_kernels_bit_for_bit(case, weighted, layout, dtype):
    """Numba == Cython bit for bit; ``rw``: SAGA/SVRG's importance weights."""
    solver, eta, lam2, lam1 = case
    if weighted and solver == 0:
        pytest.skip("SAG takes no importance weights")
    X, y01 = _data(2, n=80, d=30, density=0.1, seed=12)
    y = np.where(y01 > 0, 1.0, -1.0)
    Xf = sp.csr_matrix(X) if layout == "csr" else X
    data, indices, indptr, dense_d = _rows(Xf, dtype)
    n, d = X.shape
    sw = np.random.RandomState(13).uniform(0.5, 2.0, n)
    idx = np.arange(n, dtype=np.int64)
    loss = int(LOSSES["log_loss"].id)
    param = loss_param("log_loss", 0.1)
    rng = np.random.RandomState(14)
    steps = 2 * n if solver == 2 else n
    orders = [np.concatenate([rng.permutation(n), rng.permutation(n)])[:steps]
              .astype(np.int64) for _ in range(4)]
    rw = rng.uniform(0.3, 3.0, n) if weighted else np.empty(0)
    w0 = rng.randn(d + 1)
    out = []
    for mod in (nb, cy):
        w = w0.copy()
        D = np.zeros(d + 1)
        gmem = np.zeros(n)
        seen = np.zeros(n, np.uint8)
        last = np.zeros(d, np.int64)
        work = np.zeros((4, steps + 1))
        ip, fp = records(dense_d=dense_d, solver=solver, loss=loss, param=param, eta=eta,
                         lam2=lam2, lam1=lam1, fit_intercept=1)
        results = []
        for order in orders:
            if solver == 2:
                results.append(mod.svrg_snapshot(data, indices, indptr, dense_d, y, sw,
                                                 idx, w, D, gmem, loss, param))
            mod.vr_epoch(data, indices, indptr, y, sw, order, rw, w, D, gmem, seen, ip,
                         fp, last, work)
            results.append(int(ip[IP_M_SEEN]))
            results.append(mod.loss_sum(data, indices, indptr, dense_d, y, sw, idx, w,
                                        loss, param))
        assert np.isfinite(w).all()
        out.append((w, D, gmem, seen, results))
    for a, b in zip(*out):
        if isinstance(a, list):
            assert [type(v) for v in a] == [type(v) for v in b]
            assert a == b
        else:
            assert_array_equal(a, b)
    if lam1 > 0.0:  # the L1 cases do reach the dead zone
        assert (out[0][0][:d] == 0.0).any()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_row_sq_norms_and_loss_sum(layout, dtype):
    X, y = _data(0, n=25, d=9, seed=15)
    Xf = sp.csr_matrix(X) if layout == "csr" else X
    data, indices, indptr, dense_d = _rows(Xf, dtype)
    idx = np.array([3, 0, 7, 7, 24, 11], dtype=np.int64)
    a, b = np.empty(6), np.empty(6)
    nb.row_sq_norms(data, indptr, dense_d, idx, a)
    cy.row_sq_norms(data, indptr, dense_d, idx, b)
    assert_array_equal(a, b)
    Xd = np.asarray(X, dtype=dtype)[idx].astype(np.float64)
    assert_allclose(a, (Xd ** 2).sum(axis=1), rtol=1e-6 if dtype == np.float32 else 1e-13)
    w = np.random.RandomState(16).randn(10)
    sw = np.linspace(0.5, 1.5, 25)
    for name in CLS_LOSSES + REG_LOSSES:
        loss, param = int(LOSSES[name].id), loss_param(name, 0.3)
        a = nb.loss_sum(data, indices, indptr, dense_d, y, sw, idx, w, loss, param)
        b = cy.loss_sum(data, indices, indptr, dense_d, y, sw, idx, w, loss, param)
        assert a == b and isinstance(b, float)


def test_read_only_inputs():
    """Read-only data, targets and weights are accepted (const memoryviews)."""
    X, y = _data(0, n=12, d=5, seed=17)
    data, indices, indptr, dense_d = _rows(sp.csr_matrix(X), np.float64)
    sw = np.ones(12)
    idx = np.arange(12, dtype=np.int64)
    for arr in (data, indices, indptr, y, sw, idx):
        arr.setflags(write=False)
    loss = int(LOSSES["squared_error"].id)
    res = []
    for mod in (nb, cy):
        w, mu, g = np.zeros(6), np.zeros(6), np.zeros(12)
        total = mod.svrg_snapshot(data, indices, indptr, dense_d, y, sw, idx, w, mu, g,
                                  loss, 0.0)
        ip, fp = records(dense_d=dense_d, solver=0, loss=loss, param=0.0, eta=0.05,
                         lam2=1e-2, lam1=0.0, fit_intercept=1)
        mod.vr_epoch(data, indices, indptr, y, sw, idx, np.empty(0), w, mu, g,
                     np.zeros(12, np.uint8), ip, fp, np.zeros(5, np.int64),
                     np.zeros((4, 13)))
        m = int(ip[IP_M_SEEN])
        res.append((total, m, w))
    assert res[0][0] == res[1][0] and res[0][1] == res[1][1] == 12
    assert_array_equal(res[0][2], res[1][2])


# ------------------------------------------------------------------ completeness
def _public_njit_functions():
    """Names of kernels/_nb_vr.py's public functions decorated with njit (or an alias)."""
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


def test_every_numba_vr_kernel_has_a_cython_twin():
    names = _public_njit_functions()
    assert {"vr_epoch", "svrg_snapshot", "loss_sum", "row_sq_norms"} <= set(names)
    missing = [name for name in names if not callable(getattr(cy, name, None))]
    assert not missing, f"kernels missing from fastgd.kernels._cy_vr: {missing}"
    for name in names:
        nb_fn = getattr(nb, name)
        nb_params = list(inspect.signature(getattr(nb_fn, "py_func", nb_fn)).parameters)
        cy_params = list(inspect.signature(getattr(cy, name)).parameters)
        assert cy_params == nb_params, f"{name}: argument names/order differ"


def test_vr_backend_selection(monkeypatch):
    assert vr_kernels("numba") is nb and vr_kernels("cython") is cy
    monkeypatch.setenv("FASTGD_BACKEND", "cython")
    assert vr_kernels() is cy
    pyx = pathlib.Path(cy.__file__).parent / "_cy_vr.pyx"
    if pyx.exists():  # ids and losses come from the shared includes, never copied
        text = pyx.read_text()
        assert 'include "_ids.pxi"' in text and 'include "_losses.pxi"' in text

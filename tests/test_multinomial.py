"""Multinomial (softmax) SAG, SAGA and SVRG: the kernels of kernels/_nb_multinomial.py
(Numba) and their Cython twin _cy_multinomial, step for step against the plain-NumPy
references of tests/reference_vr.py (every coordinate updated at every step, no lag),
dense and CSR, float32 and float64, through every branch of the lagged updates (L2 sums,
the L1 dead zone and zero crossings inside a lag, the rescale when the scale falls below
1e-9); the two backends bit for bit; the estimator on both backends."""

import ast
import importlib.util
import inspect
import pathlib
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

import fastgd
from fastgd._backend import multinomial_kernels
from fastgd._rules import IP_M_SEEN, records

cy = pytest.importorskip("fastgd.kernels._cy_multinomial",
                         reason="the Cython kernels are not built in this installation")
nb = pytest.importorskip("fastgd.kernels._nb_multinomial", reason="numba is not installed")

_here = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("reference_vr", _here / "reference_vr.py")
R = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(R)

K = 4
DTYPES = (np.float32, np.float64)
LAYOUTS = ("dense", "csr")


def _problem(n=40, d=12, density=0.3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d) * (rng.rand(n, d) < density)
    X[:, 0] = rng.randn(n)  # one dense column, as a real data set
    W = rng.randn(K, d)
    y = np.argmax(X @ W.T + 0.5 * rng.randn(n, K), axis=1).astype(np.int64)
    sw = rng.uniform(0.5, 2.0, n)
    return X, y, sw


def _rows(X, layout, dtype):
    if layout == "csr":
        Xs = sp.csr_matrix(X.astype(dtype))
        return Xs.data, Xs.indices.astype(np.int32), Xs.indptr.astype(np.int64), 0
    Xd = np.ascontiguousarray(X, dtype=dtype)
    return Xd.reshape(-1), np.zeros(0, np.int32), np.zeros(0, np.int64), X.shape[1]


def _run_kernels(mod, X, y, sw, layout, dtype, solver, eta, lam2, lam1, orders, W0, b0,
                 fit_intercept=True):
    """Run ``orders`` (one epoch each) through ``mod``; return per-epoch (W, b) and the
    kernels' other outputs (loss sums, m_seen)."""
    data, indices, indptr, dense_d = _rows(X, layout, dtype)
    n, d = X.shape
    w = np.zeros((K, d + 1))
    w[:, :d] = W0
    w[:, d] = b0
    D = np.zeros((K, d + 1))
    gmem = np.zeros((n, K))
    seen = np.zeros(n, np.uint8)
    last = np.zeros(d, np.int64)
    work = np.zeros((4, max(len(o) for o in orders) + 1))
    buf = np.zeros((2, K))
    idx = np.arange(n, dtype=np.int64)
    ip, fp = records(dense_d=dense_d, solver=solver, eta=eta, lam2=lam2, lam1=lam1,
                     fit_intercept=int(fit_intercept))
    iterates, extra = [], []
    for order in orders:
        if solver == 2:
            extra.append(mod.multinomial_snapshot(data, indices, indptr, dense_d, y, sw,
                                                  idx, w, D, gmem, buf))
        mod.multinomial_epoch(data, indices, indptr, y, sw, np.asarray(order, np.int64),
                              w, D, gmem, seen, ip, fp, last, work, buf)
        iterates.append((w[:, :d].copy(), w[:, d].copy()))
        extra.append(int(ip[IP_M_SEEN]))
        extra.append(mod.multinomial_loss_sum(data, indices, indptr, dense_d, y, sw, idx,
                                              w, buf))
    return iterates, extra


# (solver id, eta, lam2, lam1): plain L2; L1 strong enough for the dead zone and zero
# crossings inside a lag; the last two shrink the scale below 1e-9 inside an epoch
_CASES = [(0, 0.05, 1e-2, 0.0), (1, 0.05, 1e-2, 0.0), (1, 0.05, 1e-3, 0.05),
          (1, 0.2, 0.0, 0.3), (2, 0.05, 1e-3, 0.05), (2, 0.05, 1e-2, 0.0),
          (1, 0.5, 1.5, 0.1), (0, 0.5, 1.5, 0.0)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", _CASES, ids=str)
def test_kernels_step_for_step_against_reference(case, layout, dtype):
    solver, eta, lam2, lam1 = case
    X, y, sw = _problem(seed=solver + 3)
    Xr = X.astype(dtype).astype(np.float64)  # the values the kernel reads
    n, d = X.shape
    rng = np.random.RandomState(1)
    steps = 2 * n if solver == 2 else n
    orders = [np.r_[rng.permutation(n), rng.permutation(n)][:steps] for _ in range(3)]
    W0, b0 = 0.3 * rng.randn(K, d), 0.1 * rng.randn(K)
    alpha = lam1 + lam2
    l1_ratio = lam1 / alpha
    if solver == 2:
        ref = R.multinomial_svrg(Xr, y, sw, orders, eta, alpha, l1_ratio, K, W0=W0, b0=b0)
    else:
        ref = R.multinomial_sag_saga(Xr, y, sw, orders, eta, alpha, l1_ratio, solver == 1,
                                     K, W0=W0, b0=b0)
    out = {}
    for name, mod in (("numba", nb), ("cython", cy)):
        out[name] = _run_kernels(mod, X, y, sw, layout, dtype, solver, eta, lam2, lam1,
                                 orders, W0, b0)
    for (W, b), (Wr, br) in zip(out["numba"][0], ref):
        assert_allclose(W, Wr, rtol=1e-9, atol=1e-12)
        assert_allclose(b, br, rtol=1e-9, atol=1e-12)
    # the loss sums are the references' objectives' loss parts
    Wl, bl = out["numba"][0][-1]
    lsum = out["numba"][1][-1]
    assert_allclose(lsum / n, R.multinomial_objective(Xr, y, sw, Wl, bl, 0.0, 0.0),
                    rtol=1e-10)
    # Numba and Cython: the same operations in the same order, bit for bit
    for (Wa, ba), (Wb, bb) in zip(out["numba"][0], out["cython"][0]):
        assert_array_equal(Wa, Wb)
        assert_array_equal(ba, bb)
    assert out["numba"][1] == out["cython"][1]
    if lam1 > 0.0:  # the L1 cases do reach the dead zone
        assert (out["numba"][0][-1][0] == 0.0).any()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_kernels_without_intercept(layout):
    X, y, sw = _problem(seed=9)
    n, d = X.shape
    orders = [np.random.RandomState(2).permutation(n)]
    ref = R.multinomial_sag_saga(X, y, sw, orders, 0.1, 0.02, 0.5, True, K,
                                 fit_intercept=False)
    (W, b), = _run_kernels(nb, X, y, sw, layout, np.float64, 1, 0.1, 0.01, 0.01, orders,
                           np.zeros((K, d)), np.zeros(K), fit_intercept=False)[0]
    assert_allclose(W, ref[0][0], rtol=1e-10, atol=1e-13)
    assert_array_equal(b, 0.0)


def test_kernel_argument_checks():
    """The Cython entry checks its work arrays (under Numba the entry is the jitted body
    itself, as vr_epoch's: fastgd._vr allocates them)."""
    X, y, sw = _problem(n=10)
    data, indices, indptr, dense_d = _rows(X, "dense", np.float64)
    ip, fp = records(dense_d=dense_d, solver=0, eta=0.1)
    args = (data, indices, indptr, y, sw, np.arange(10, dtype=np.int64),
            np.zeros((K, X.shape[1] + 1)), np.zeros((K, X.shape[1] + 1)),
            np.zeros((10, K)), np.zeros(10, np.uint8), ip, fp,
            np.zeros(X.shape[1], np.int64))
    with pytest.raises(ValueError, match="work needs shape"):
        cy.multinomial_epoch(*args, np.zeros((4, 5)), np.zeros((2, K)))
    with pytest.raises(ValueError, match="buf needs shape"):
        cy.multinomial_epoch(*args, np.zeros((4, 11)), np.zeros((2, K + 1)))


# ------------------------------------------------------------------- the estimator
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("solver,l1_ratio", [("sag", 0.0), ("saga", 0.0), ("saga", 0.6),
                                             ("svrg", 0.3)])
def test_estimator_same_on_both_backends(solver, l1_ratio, layout):
    X, y, sw = _problem(n=60, seed=11)
    Xf = sp.csr_matrix(X.astype(np.float32)) if layout == "csr" else X
    fits = []
    for backend in ("numba", "cython"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(fastgd.LogisticRegression(
                C=0.3, l1_ratio=l1_ratio, solver=solver, max_iter=8, tol=1e-3,
                random_state=4, backend=backend).fit(Xf, y, sample_weight=sw))
    a, b = fits
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.intercept_, b.intercept_)
    assert_array_equal(a.n_iter_, b.n_iter_)
    assert a.loss_curve_ == b.loss_curve_
    assert all(np.diff(a.loss_curve_[2:]) <= 1e-12) or solver == "svrg"


def test_objective_curve_is_the_reference_objective():
    X, y, sw = _problem(n=50, seed=12)
    est = fastgd.LogisticRegression(C=0.5, max_iter=5, tol=1e-12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, sample_weight=sw)
    F = R.multinomial_objective(X, y, sw, est.coef_, est.intercept_,
                                1.0 / (0.5 * X.shape[0]), 0.0)
    assert_allclose(est.loss_curve_[-1], F, rtol=1e-10)


# ------------------------------------------------------------------ completeness
def _public_njit_functions(source):
    tree = ast.parse(pathlib.Path(source).read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)
            and not node.name.startswith("_") and node.decorator_list]


def test_every_numba_kernel_has_a_cython_twin_and_backend_selection(monkeypatch):
    names = _public_njit_functions(nb.__file__)
    assert set(names) == {"multinomial_epoch", "multinomial_snapshot",
                          "multinomial_loss_sum"}
    for name in names:
        nb_fn = getattr(nb, name)
        nb_params = list(inspect.signature(getattr(nb_fn, "py_func", nb_fn)).parameters)
        assert list(inspect.signature(getattr(cy, name)).parameters) == nb_params
    assert multinomial_kernels("numba") is nb and multinomial_kernels("cython") is cy
    monkeypatch.setenv("FASTGD_BACKEND", "cython")
    assert multinomial_kernels() is cy

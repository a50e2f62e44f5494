"""Adapters that run every method on the SAME objective (SPEC section 1).

    F(w, b) = (1/n) Σ_i L(y_i, x_i·w + b) + α/2 ||w||²        (b is not penalised)

    L = log(1 + exp(-y p)), y ∈ {-1, +1}   (task 'clf', "log_loss")
    L = (p - y)² / 2                        (task 'reg', "squared_error")

Each ``Method`` maps α to its library's own regularisation parameter, runs a given
budget (epochs, or iterations for the deterministic solvers), and returns the linear
function it learned as ``(coef, intercept)``; the caller scores it with
``fastgd.objective.objective``. The mappings (checked numerically by
``check_mapping``: the library's converged solution must have a near-zero gradient of F,
see tests/test_bench_smoke.py):

* fastgd, scikit-learn ``SGDClassifier``/``SGDRegressor``: ``alpha = α`` (their objective
  is F itself).
* scikit-learn ``LogisticRegression``: ``C Σ L_i + ½||w||²`` ⇒ ``C = 1 / (n α)``.
* scikit-learn ``Ridge``: ``||y - Xw - b||² + alpha ||w||²`` = 2n [(1/n) Σ ½(p-y)² +
  alpha/(2n) ||w||²] ⇒ ``alpha = n α``. On sparse X with an intercept,
  ``Ridge(solver='sag')`` silently runs ``sparse_cg`` (see ``solver_``; recorded in the
  result's info) and ``Ridge(solver='saga')`` raises (recorded as the error).
* lightning ``SAGClassifier``/``SAGAClassifier``/``SAGRegressor``: ``(1/n) Σ L_i +
  alpha/2 ||w||²`` ⇒ ``alpha = α``, ``loss='log'`` / ``'squared'``. No intercept: a
  constant column of ones is appended, whose weight (the intercept) is then penalised
  too — a small bias of order α b²/2 that can keep them above 1e-6.
* tick ``ModelLogReg``/``ModelLinReg`` (``(1/n) Σ L_i``, intercept fitted) with
  ``ProxL2Sq(strength=α, range=(0, d))`` (``strength/2 ||w[range]||²``: intercept not
  penalised) ⇒ ``strength = α``. Solvers SVRG and SAGA, step 1/L_max, 1 thread.
* copt ``minimize_saga``/``minimize_svrg`` with ``LogLoss``/``SquareLoss``
  ``partial_deriv``: ``(1/n) Σ L_i + alpha/2 ||x||²`` (the gradient adds ``alpha x``)
  ⇒ ``alpha = α``; labels mapped to {0, 1}; no intercept: constant column appended
  (penalised, as lightning); step 1/(3 L_max) as copt's examples. copt builds (and
  Numba-compiles) its closures on every call: 1.5-3 s of every fit is compilation
  (see ``s_per_epoch_marginal`` in compare.py, which removes fixed costs).
  Checked on a 500 x 500 synthetic logistic problem (α = 1e-2): lightning-sag's gradient
  of its own objective (b penalised) is 1e-16 and tick-svrg reaches F* to 1e-15 (mappings
  right); copt-saga (logistic) is fine for a few epochs but diverged after 200 epochs at
  step 1/(3 L_max) (F ~ 1e243) -- not investigated; copt regression converges.
* Vowpal Wabbit: ``--loss_function logistic|squared --l2 λ`` with ``λ = α`` (VW adds
  λ w to each per-example gradient, i.e. (1/n) Σ (L_i + λ/2 ||w||²)); its constant is
  regularised too. Default VW updates (adaptive, normalized, invariant), ``--passes
  k`` over a cache file (the first pass parses the text file: included in the time).
  Its stored weights are not its prediction function under normalized updates, so the
  model is read back through predictions: b = f(empty example), w_j = f(e_j) - b.
  VW runs its own SGD with a decaying rate; it is not expected to reach 1e-4, and
  for the same reason the λ = α mapping could not be verified numerically (200 passes
  on a tiny problem stay ~10 % above F*, with λ ∈ {α/2, α, 2α} alike): treat VW's
  suboptimality as indicative only.
"""

import os
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp

LOSS = {"clf": "log_loss", "reg": "squared_error"}


# ----------------------------------------------------------------------- objective
def objective(X, y, coef, intercept, task, alpha):
    """F(w, b) of SPEC section 1, by fastgd's one objective function (float64)."""
    from fastgd.objective import objective as F

    return float(F(X, y, np.ravel(coef).astype(np.float64), float(intercept), LOSS[task],
                   alpha))


def gradient(X, y, coef, intercept, task, alpha):
    """(∇_w F, ∂_b F) in float64 (NumPy / SciPy)."""
    p = X @ coef + intercept
    if task == "clf":
        with np.errstate(over="ignore"):
            r = -y / (1.0 + np.exp(y * p))
    else:
        r = p - y
    n = X.shape[0]
    return np.asarray(X.T @ r).ravel() / n + alpha * coef, float(r.mean())


def _f_and_grad(X, y, task, alpha):
    d = X.shape[1]
    XT = X.T.tocsr()

    def fun(z):
        w, b = z[:d], z[d]
        p = X @ w + b
        if task == "clf":
            yp = y * p
            f = np.logaddexp(0.0, -yp).mean()
            with np.errstate(over="ignore"):
                r = -y / (1.0 + np.exp(yp))
        else:
            r = p - y
            f = 0.5 * np.mean(r * r)
        g = np.empty(d + 1)
        g[:d] = XT @ r / X.shape[0] + alpha * w
        g[d] = r.mean()
        return f + 0.5 * alpha * float(w @ w), g

    return fun


def optimum(X, y, task, alpha, gtol=1e-11, maxiter=50_000):
    """(F*, coef, intercept, ||∇F||_inf) by SciPy L-BFGS-B to high precision."""
    from scipy.optimize import minimize

    X = sp.csr_matrix(X, dtype=np.float64)
    d = X.shape[1]
    z0 = np.zeros(d + 1)
    if task == "reg":
        z0[d] = float(np.mean(y))
    res = minimize(_f_and_grad(X, y, task, alpha), z0, jac=True, method="L-BFGS-B",
                   options=dict(maxiter=maxiter, maxfun=2 * maxiter, gtol=gtol, ftol=0.0,
                                maxcor=30))
    w, b = res.x[:d], float(res.x[d])
    gw, gb = gradient(X, y, w, b, task, alpha)
    return objective(X, y, w, b, task, alpha), w, b, float(max(np.abs(gw).max(), abs(gb)))


# ------------------------------------------------------------------------ methods
class Fit:
    """What a fit returns: the linear function learned, and notes."""

    def __init__(self, coef, intercept, n_iter=None, **info):
        self.coef = np.ravel(np.asarray(coef, dtype=np.float64))
        self.intercept = float(np.ravel(intercept)[0]) if np.ndim(intercept) else float(
            intercept)
        self.n_iter = None if n_iter is None else int(np.max(n_iter))
        self.info = info


class Method:
    """One method of one library. ``unit``: what a budget counts ('epoch'|'iteration')."""

    library = ""
    unit = "epoch"
    tasks = ("clf", "reg")
    penalises_intercept = False  # True where the library cannot leave b unpenalised

    def __init__(self, name, dtype=None, **kw):
        self.name = name
        self.dtype = dtype  # e.g. np.float32: X is cast (untimed) before the fit
        self.kw = kw

    def available(self):
        """(ok, why-not)."""
        return True, ""

    def prepare(self, X, y, task, alpha):
        """Untimed data conversion; returns the object ``fit`` receives."""
        if self.dtype is not None:
            X = X.astype(self.dtype)
        return X, y

    def fit(self, data, task, alpha, budget):  # timed
        raise NotImplementedError


def _try_import(name, hint):
    try:
        __import__(name)
        return True, ""
    except Exception as exc:  # noqa: BLE001
        return False, f"{name} not importable ({type(exc).__name__}: {exc}); {hint}"


class FastGD(Method):
    library = "fastgd"

    def __init__(self, name, dtype=None, **kw):
        super().__init__(name, dtype=dtype, **kw)
        self.unit = "iteration" if kw.get("solver") == "lbfgs" else "epoch"

    def available(self):
        import fastgd

        X = sp.csr_matrix(np.eye(6, 3))
        y = np.array([-1.0, 1, -1, 1, 1, -1])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fastgd.SGDClassifier(loss="log_loss", max_iter=1, tol=None, **self.kw).fit(
                    X, y)
        except Exception as exc:  # noqa: BLE001
            return False, f"fastgd rejects {self.kw}: {type(exc).__name__}: {exc}"
        return True, ""

    def fit(self, data, task, alpha, budget):
        import fastgd

        X, y = data
        cls = fastgd.SGDClassifier if task == "clf" else fastgd.SGDRegressor
        est = cls(loss=LOSS[task], alpha=alpha, max_iter=budget, tol=None, random_state=0,
                  **self.kw)
        est.fit(X, y)
        return Fit(est.coef_, est.intercept_, est.n_iter_)


class SklearnSGD(Method):
    library = "scikit-learn"

    def fit(self, data, task, alpha, budget):
        from sklearn import linear_model as sk

        X, y = data
        cls = sk.SGDClassifier if task == "clf" else sk.SGDRegressor
        est = cls(loss=LOSS[task], alpha=alpha, max_iter=budget, tol=None, random_state=0,
                  **self.kw)
        est.fit(X, y)
        return Fit(est.coef_, est.intercept_, est.n_iter_)


class SklearnLogReg(Method):
    """LogisticRegression(C = 1/(n α)); tol=1e-14 so that the budget is what stops it."""

    library = "scikit-learn"
    tasks = ("clf",)

    def __init__(self, name, solver):
        super().__init__(name)
        self.solver = solver
        self.unit = "iteration" if solver == "lbfgs" else "epoch"

    def fit(self, data, task, alpha, budget):
        from sklearn.linear_model import LogisticRegression

        X, y = data
        est = LogisticRegression(C=1.0 / (X.shape[0] * alpha), solver=self.solver,
                                 max_iter=budget, tol=1e-14, random_state=0)
        est.fit(X, y)
        return Fit(est.coef_, est.intercept_, est.n_iter_)


class SklearnRidge(Method):
    """Ridge(alpha = n α), fit_intercept=True; records ``solver_`` (what actually ran)."""

    library = "scikit-learn"
    tasks = ("reg",)

    def __init__(self, name, solver):
        super().__init__(name)
        self.solver = solver
        self.unit = "iteration" if solver in ("sparse_cg", "lsqr") else "epoch"

    def fit(self, data, task, alpha, budget):
        from sklearn.linear_model import Ridge

        X, y = data
        est = Ridge(alpha=X.shape[0] * alpha, solver=self.solver, max_iter=budget,
                    tol=1e-14, random_state=0)
        est.fit(X, y)
        ran = getattr(est, "solver_", self.solver)
        n_iter = est.n_iter_ if getattr(est, "n_iter_", None) is not None else budget
        info = {"solver_ran": ran}
        if ran != self.solver:
            info["note"] = f"Ridge(solver={self.solver!r}) ran {ran!r}"
        return Fit(est.coef_, est.intercept_, n_iter, **info)


def _with_ones(X):
    X = sp.csr_matrix(X, dtype=np.float64)
    return sp.hstack([X, np.ones((X.shape[0], 1))], format="csr")


class Lightning(Method):
    library = "lightning"
    penalises_intercept = True

    def __init__(self, name, algo):
        super().__init__(name)
        self.algo = algo

    def available(self):
        return _try_import("lightning.classification",
                           "build it with benchmarks/install_peers.sh (needs setuptools<65)")

    def prepare(self, X, y, task, alpha):
        X1 = _with_ones(X)
        X1.indices = X1.indices.astype(np.int32)
        X1.indptr = X1.indptr.astype(np.int32)
        return X1, y

    def fit(self, data, task, alpha, budget):
        from lightning import classification as lc
        from lightning import regression as lr

        X1, y = data
        if task == "clf":
            cls = lc.SAGClassifier if self.algo == "sag" else lc.SAGAClassifier
            est = cls(eta="auto", alpha=alpha, loss="log", max_iter=budget, tol=0.0,
                      random_state=0)
        else:
            cls = lr.SAGRegressor if self.algo == "sag" else lr.SAGARegressor
            est = cls(eta="auto", alpha=alpha, loss="squared", max_iter=budget, tol=0.0,
                      random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X1, y)
        w = np.ravel(est.coef_)
        return Fit(w[:-1], w[-1], budget)


class Tick(Method):
    library = "tick"

    def __init__(self, name, algo, n_threads=1):
        super().__init__(name)
        self.algo = algo
        self.n_threads = n_threads

    def available(self):
        ok, why = _try_import("tick.solver", "pip install tick numpydoc")
        if not ok:
            return ok, why
        ok, why = _try_import("numpydoc", "tick fits fail without numpydoc")
        return ok, why

    def prepare(self, X, y, task, alpha):
        return sp.csr_matrix(X, dtype=np.float64), np.ascontiguousarray(y, np.float64)

    def fit(self, data, task, alpha, budget):
        from tick.linear_model import ModelLinReg, ModelLogReg
        from tick.prox import ProxL2Sq
        from tick.solver import SAGA, SVRG

        X, y = data
        d = X.shape[1]
        model = (ModelLogReg if task == "clf" else ModelLinReg)(fit_intercept=True)
        model.fit(X, y)
        step = 1.0 / model.get_lip_max()
        cls = SVRG if self.algo == "svrg" else SAGA
        solver = cls(step=step, max_iter=budget, tol=0.0, verbose=False, seed=0,
                     n_threads=self.n_threads, record_every=budget)
        solver.set_model(model).set_prox(ProxL2Sq(alpha, range=(0, d)))
        w = solver.solve()
        return Fit(w[:d], w[d], budget)


class Copt(Method):
    library = "copt"
    penalises_intercept = True

    def __init__(self, name, algo):
        super().__init__(name)
        self.algo = algo

    def available(self):
        return _try_import("copt", "pip install copt")

    def prepare(self, X, y, task, alpha):
        X1 = _with_ones(X)
        b = (y > 0).astype(np.float64) if task == "clf" else np.asarray(y, np.float64)
        return X1, b

    def fit(self, data, task, alpha, budget):
        import copt
        from copt.loss import LogLoss, SquareLoss

        X1, b = data
        f = (LogLoss if task == "clf" else SquareLoss)(X1, b, alpha)
        step = 1.0 / (3 * f.max_lipschitz)
        run = copt.minimize_saga if self.algo == "saga" else copt.minimize_svrg
        np.random.seed(0)
        res = run(f.partial_deriv, X1, b, np.zeros(X1.shape[1]), step_size=step,
                  alpha=alpha, max_iter=budget, tol=0.0)
        return Fit(res.x[:-1], res.x[-1], budget)


class VowpalWabbit(Method):
    library = "vowpalwabbit"
    penalises_intercept = True

    def available(self):
        return _try_import("vowpalwabbit", "pip install vowpalwabbit")

    def prepare(self, X, y, task, alpha):
        X = sp.csr_matrix(X)
        fd, path = tempfile.mkstemp(suffix=".vw", prefix="fastgd_bench_")
        with os.fdopen(fd, "w") as f:
            for i in range(X.shape[0]):
                lo, hi = X.indptr[i], X.indptr[i + 1]
                feats = " ".join(f"{j}:{v:.17g}" for j, v in
                                 zip(X.indices[lo:hi].tolist(), X.data[lo:hi].tolist()))
                f.write(f"{y[i]:.17g} |f {feats}\n")
        return {"path": path, "d": X.shape[1], "bits": max(18, int(np.ceil(np.log2(
            max(X.shape[1], 2)))) + 4)}

    def fit(self, data, task, alpha, budget):
        from vowpalwabbit import Workspace

        cache = data["path"] + ".cache"
        args = (f"--data {data['path']} --passes {budget} --cache_file {cache} "
                f"--kill_cache --holdout_off --loss_function "
                f"{'logistic' if task == 'clf' else 'squared'} --l2 {alpha!r} "
                f"-b {data['bits']} --random_seed 0 --quiet "
                "--min_prediction -1e30 --max_prediction 1e30")
        vw = Workspace(args)
        # read the prediction function back (not timed by the caller's clock? it is:
        # reading the model is part of getting the fitted function out of VW)
        coef, b = self._read_model(vw, data["d"])
        vw.finish()
        return Fit(coef, b, budget)

    @staticmethod
    def _read_model(vw, d):
        b = vw.predict("|f")
        coef = np.empty(d)
        for j in range(d):
            coef[j] = vw.predict(f"|f {j}:1") - b
        return coef, b

    @staticmethod
    def cleanup(data):
        for p in (data["path"], data["path"] + ".cache"):
            if os.path.exists(p):
                os.remove(p)


def all_methods():
    """Every method, in table order."""
    return [
        FastGD("fastgd-sgd"),
        FastGD("fastgd-sgd-2jobs", n_jobs=2),
        FastGD("fastgd-adam", optimizer="adam"),
        FastGD("fastgd-sag", solver="sag"),
        FastGD("fastgd-saga", solver="saga"),
        FastGD("fastgd-svrg", solver="svrg"),
        FastGD("fastgd-saga-2jobs", solver="saga", n_jobs=2),
        FastGD("fastgd-svrg-2jobs", solver="svrg", n_jobs=2),
        FastGD("fastgd-lbfgs", solver="lbfgs"),
        FastGD("fastgd-lbfgs-2jobs", solver="lbfgs", n_jobs=2),
        SklearnSGD("sklearn-sgd"),
        FastGD("fastgd-sgd-f32", dtype=np.float32),
        SklearnSGD("sklearn-sgd-f32", dtype=np.float32),
        SklearnLogReg("sklearn-logreg-sag", "sag"),
        SklearnLogReg("sklearn-logreg-saga", "saga"),
        SklearnLogReg("sklearn-logreg-lbfgs", "lbfgs"),
        SklearnRidge("sklearn-ridge-sag", "sag"),
        SklearnRidge("sklearn-ridge-saga", "saga"),
        SklearnRidge("sklearn-ridge-sparse_cg", "sparse_cg"),
        Lightning("lightning-sag", "sag"),
        Lightning("lightning-saga", "saga"),
        Tick("tick-svrg", "svrg"),
        Tick("tick-saga", "saga"),
        Copt("copt-saga", "saga"),
        Copt("copt-svrg", "svrg"),
        VowpalWabbit("vw"),
    ]


def get(names=None):
    """Methods by name (all when ``names`` is None); unknown names raise."""
    methods = all_methods()
    if names is None:
        return methods
    by = {m.name: m for m in methods}
    unknown = [n for n in names if n not in by and not any(m.library == n for m in methods)]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; known: {sorted(by)}")
    return [m for m in methods if m.name in names or m.library in names]


def check_mapping(method, X, y, task, alpha, budget, rel_tol=1e-3):
    """Run ``method`` for ``budget`` and compare with the L-BFGS optimum of F.

    Returns a dict with the relative suboptimality, the sup-norm of ∇F at the method's
    solution, and ``ok`` (relative suboptimality below ``rel_tol``): a wrong α mapping
    shows as a solution with a large gradient of F however long it runs.
    """
    fstar, _, _, gstar = optimum(X, y, task, alpha)
    data = method.prepare(X, y, task, alpha)
    t = time.perf_counter()
    fit = method.fit(data, task, alpha, budget)
    elapsed = time.perf_counter() - t
    if hasattr(method, "cleanup"):
        method.cleanup(data)
    f = objective(X, y, fit.coef, fit.intercept, task, alpha)
    gw, gb = gradient(sp.csr_matrix(X, dtype=np.float64), y, fit.coef, fit.intercept, task,
                      alpha)
    rel = (f - fstar) / abs(fstar)
    # the gradient of the objective the library itself solves (b penalised or not)
    gb_own = gb + (alpha * fit.intercept if method.penalises_intercept else 0.0)
    return dict(method=method.name, rel_subopt=rel, grad_inf=float(max(np.abs(gw).max(),
                abs(gb))), grad_inf_own=float(max(np.abs(gw).max(), abs(gb_own))),
                grad_inf_at_optimum=gstar, seconds=elapsed, ok=bool(rel < rel_tol),
                info=fit.info)

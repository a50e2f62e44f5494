"""Gradient descent on any differentiable function, with fastgd's own update rules.

``minimize(fun, x0, jac=None, optimizer='adam', ...)`` steps ``x`` with the compiled
kernels' ``rule_step``: the same code, and the only copy, of every rule of SPEC section
2, every schedule of ``fastgd.schedules`` and the clipping and gradient noise of SPEC
section 7 that the estimators' fits run. It is for the textbook pictures (the paths of
the optimizers on ``TEST_FUNCTIONS``) and for small smooth problems; for a linear model
use the estimators.

``check_grad(fun, jac, x0)`` compares ``jac`` with the two-sided difference quotient
(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) and returns the relative error
||g - g_hat|| / (||g|| + ||g_hat||): about 1e-7 or less for a correct gradient of a smooth
function in float64, 1e-2 or more for a wrong one (the customary thresholds).
"""

import numpy as np
from scipy.optimize import OptimizeResult, approx_fprime

from fastgd._backend import kernels
from fastgd._rules import HP_NAMES, RULES, Schedule, records
from fastgd.schedules import LRSchedule

__all__ = ["minimize", "check_grad", "TEST_FUNCTIONS"]


# ------------------------------------------------------------- the test functions
def _saddle(x):
    return x[0] ** 2 - x[1] ** 2


def _saddle_grad(x):
    return np.array([2.0 * x[0], -2.0 * x[1]])


_ELLIPSE_A = 1.0
_ELLIPSE_B = 100.0  # condition number 100: a long narrow valley along x


def _ellipse(x):
    return 0.5 * (_ELLIPSE_A * x[0] ** 2 + _ELLIPSE_B * x[1] ** 2)


def _ellipse_grad(x):
    return np.array([_ELLIPSE_A * x[0], _ELLIPSE_B * x[1]])


def _beale(x):
    a, b = x[0], x[1]
    return ((1.5 - a + a * b) ** 2 + (2.25 - a + a * b ** 2) ** 2
            + (2.625 - a + a * b ** 3) ** 2)


def _beale_grad(x):
    a, b = x[0], x[1]
    t1 = 1.5 - a + a * b
    t2 = 2.25 - a + a * b ** 2
    t3 = 2.625 - a + a * b ** 3
    return np.array([2 * t1 * (b - 1) + 2 * t2 * (b ** 2 - 1) + 2 * t3 * (b ** 3 - 1),
                     2 * t1 * a + 4 * t2 * a * b + 6 * t3 * a * b ** 2])


def _rosenbrock(x):
    return (1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2


def _rosenbrock_grad(x):
    return np.array([-2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] ** 2),
                     200.0 * (x[1] - x[0] ** 2)])


#: name -> (fun, jac, x_min): the saddle x^2 - y^2 (no minimum: None), the ellipse
#: (x^2 + 100 y^2) / 2, Beale's function (minimum at (3, 0.5)) and Rosenbrock's
#: (1 - x)^2 + 100 (y - x^2)^2 (minimum at (1, 1)), all of two variables.
TEST_FUNCTIONS = {
    "saddle": (_saddle, _saddle_grad, None),
    "ellipse": (_ellipse, _ellipse_grad, np.array([0.0, 0.0])),
    "beale": (_beale, _beale_grad, np.array([3.0, 0.5])),
    "rosenbrock": (_rosenbrock, _rosenbrock_grad, np.array([1.0, 1.0])),
}


# ------------------------------------------------------------------- checking
def check_grad(fun, jac, x0, eps=1e-6):
    """||g - g_hat|| / (||g|| + ||g_hat||) between ``jac(x0)`` and the two-sided
    difference quotient of ``fun`` with step ``eps`` (0 when both are 0)."""
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    g = np.asarray(jac(x0), dtype=np.float64).ravel()
    if g.shape != x0.shape:
        raise ValueError(f"jac(x0) has shape {g.shape}; expected {x0.shape}")
    g_hat = np.empty_like(x0)
    for i in range(x0.size):
        e = np.zeros_like(x0)
        e[i] = eps
        g_hat[i] = (float(fun(x0 + e)) - float(fun(x0 - e))) / (2.0 * eps)
    denom = np.linalg.norm(g) + np.linalg.norm(g_hat)
    return 0.0 if denom == 0.0 else float(np.linalg.norm(g - g_hat) / denom)


# ------------------------------------------------------------------ minimizing
def _records(optimizer, learning_rate, clip_norm, clip_value, gradient_noise, noise_decay,
             random_state, hyper):
    if optimizer not in RULES:
        raise ValueError(f"optimizer must be one of {sorted(RULES)}; got {optimizer!r}")
    spec = RULES[optimizer]
    unknown = set(hyper) - set(HP_NAMES)
    if unknown:
        raise TypeError(f"minimize() got unexpected hyper-parameters {sorted(unknown)}; "
                        f"the rules read {list(HP_NAMES)}")
    hp = {**{k: 0.0 for k in HP_NAMES}, **spec.hyper, **hyper}
    if isinstance(learning_rate, LRSchedule):
        slots = learning_rate.kernel_slots()
    else:
        eta = float(learning_rate)
        if not eta > 0.0 or not np.isfinite(eta):
            raise ValueError(f"learning_rate must be a positive float or a "
                             f"fastgd.schedules schedule; got {learning_rate!r}")
        slots = dict(schedule=int(Schedule.CONSTANT), eta=eta)
    for name, value in (("clip_norm", clip_norm), ("clip_value", clip_value)):
        if value is not None and not value > 0.0:
            raise ValueError(f"{name} must be None or > 0; got {value!r}")
    if gradient_noise < 0.0:
        raise ValueError(f"gradient_noise must be >= 0; got {gradient_noise!r}")
    seed = 0
    if gradient_noise:
        from sklearn.utils import check_random_state

        seed = int(check_random_state(random_state).randint(0, 2**32, dtype=np.int64))
    return spec, records(rule=int(spec.id), t=1.0, clip_norm=clip_norm or 0.0,
                         clip_value=clip_value or 0.0, noise=gradient_noise,
                         noise_decay=noise_decay, noise_seed=seed, **hp, **slots)


def minimize(fun, x0, jac=None, optimizer="adam", learning_rate=0.001, max_iter=1000,
             tol=1e-8, callback=None, return_path=False, clip_norm=None,
             gradient_noise=0.0, random_state=None, *, clip_value=None, noise_decay=0.55,
             backend="auto", **hyper):
    """Minimise ``fun`` from ``x0`` by ``max_iter`` steps of an update rule.

    Step t = 1, 2, ...: g = jac(x) (for 'nag' at the look-ahead point x - gamma v; with
    ``jac=None`` a forward difference quotient, scipy's ``approx_fprime``), then the
    kernels' ``rule_step``: gradient noise N(0, gradient_noise / (1 + t)^noise_decay),
    clipping (``clip_value`` per component, then ``clip_norm`` on the norm), and the
    rule with eta_t = ``learning_rate`` (a float or a ``fastgd.schedules`` schedule).
    ``hyper``: the rule's momentum, rho, beta_1, beta_2, eps (SPEC section 2 defaults).

    Stops when ||g|| <= ``tol`` (success) or after ``max_iter`` steps; a non-finite x or
    f stops it with ``success=False``. ``callback(xk)`` after each step; returning True
    stops. Returns a ``scipy.optimize.OptimizeResult``: x, fun, jac, nit, nfev, njev,
    success, status (0 converged, 1 max_iter, 2 diverged, 3 callback), message, and with
    ``return_path`` the iterates x_0, ..., x_nit as the rows of ``path``.
    """
    x = np.array(x0, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError("x0 must be finite")
    max_iter = int(max_iter)
    if max_iter < 0:
        raise ValueError(f"max_iter must be >= 0; got {max_iter}")
    spec, (ip, fp) = _records(optimizer, learning_rate, clip_norm, clip_value,
                              float(gradient_noise), float(noise_decay), random_state,
                              hyper)
    step = kernels(backend).rule_step
    state = np.zeros((spec.n_slots, x.size))
    gamma = fp[HP_NAMES.index("momentum")]
    nag = optimizer == "nag"
    counts = {"nfev": 0, "njev": 0}

    def gradient(z):
        if jac is None:
            counts["nfev"] += z.size + 1
            return approx_fprime(z, fun, 1.49e-8)
        counts["njev"] += 1
        g = np.array(jac(z), dtype=np.float64).ravel()
        if g.shape != z.shape:
            raise ValueError(f"jac returned shape {g.shape}; expected {z.shape}")
        return g

    path = [x.copy()] if return_path else None
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is the status
        g, status, message, nit = _run(x, gradient, step, state, ip, fp, gamma, nag, tol,
                                       max_iter, callback, path)
        counts["nfev"] += 1
        f = float(fun(x))
    if not np.isfinite(f) and status != 2:
        status, message = 2, "Diverged: fun(x) is not finite."
    result = OptimizeResult(x=x, fun=f, jac=g, nit=nit, status=status,
                            success=status == 0, message=message, **counts)
    if path is not None:
        result.path = np.array(path)
    return result


def _run(x, gradient, step, state, ip, fp, gamma, nag, tol, max_iter, callback, path):
    """The steps of minimize, in place on x; returns (g, status, message, nit)."""
    status, message = 1, "Maximum number of iterations reached."
    nit = 0
    g = gradient(x)
    while True:
        if not np.all(np.isfinite(g)):
            status, message = 2, "Diverged: the gradient is not finite."
            break
        if np.linalg.norm(g) <= tol:
            status, message = 0, "Optimization terminated: ||jac|| <= tol."
            break
        if nit >= max_iter:
            break
        if nag:
            g = gradient(x - gamma * state[0])
        step(x, g, state, ip, fp)
        nit += 1
        if path is not None:
            path.append(x.copy())
        if not np.all(np.isfinite(x)):
            status, message = 2, ("Diverged: x is not finite (try a smaller "
                                  "learning_rate, or clip_norm).")
            break
        if callback is not None and callback(x.copy()):
            status, message = 3, "Stopped by the callback."
            g = gradient(x)
            break
        g = gradient(x)
    return g, status, message, nit

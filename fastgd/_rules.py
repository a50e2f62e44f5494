"""The one source of truth for every update rule, loss, schedule and penalty.

The integer ids below are the only copy: the kernels read them by their C names
(``c_ids()``), as module globals under Numba and from ``kernels/_ids.pxi``, which
``setup.py`` writes from here, under Cython.
The formulas are those of SPEC.md (section 2) and of scikit-learn's ``_sgd_fast``.
"""

from dataclasses import dataclass, field
from enum import IntEnum


class Rule(IntEnum):
    """Update rules (SPEC section 2)."""

    SGD = 0
    MOMENTUM = 1
    NAG = 2
    ADAGRAD = 3
    RMSPROP = 4
    ADADELTA = 5
    ADAM = 6
    ADAMAX = 7
    NADAM = 8
    AMSGRAD = 9
    ADAMW = 10


class Loss(IntEnum):
    """Losses of scikit-learn's SGD (SPEC section 1); ``param`` is the threshold or epsilon."""

    SQUARED_ERROR = 0
    LOG_LOSS = 1
    HINGE = 2  # also 'perceptron' with threshold 0
    SQUARED_HINGE = 3
    MODIFIED_HUBER = 4
    HUBER = 5
    EPSILON_INSENSITIVE = 6
    SQUARED_EPSILON_INSENSITIVE = 7


class Schedule(IntEnum):
    """Learning-rate schedules, scikit-learn's meaning."""

    CONSTANT = 1
    OPTIMAL = 2
    INVSCALING = 3
    ADAPTIVE = 4


class Penalty(IntEnum):
    """Penalty types, scikit-learn's ids (``penalty_type >= L2`` means an L2 part)."""

    NONE = 0
    L1 = 1
    L2 = 2
    ELASTICNET = 3


# Order of the hyper-parameter vector ``hp`` handed to every kernel.
HP_NAMES = ("momentum", "rho", "beta_1", "beta_2", "eps")
HP_MOMENTUM, HP_RHO, HP_BETA1, HP_BETA2, HP_EPS = range(5)

# Slots of the learning-rate record ``lr_params`` handed to every SGD kernel: eta_t of
# step t is constant: eta; optimal: 1 / (alpha (t0 + t - 1)); invscaling: eta0 / t^power_t.
# ``alpha`` is the schedule's (the estimator's alpha, as scikit-learn, whatever the
# penalty), not the penalty's.
SCHED_NAMES = ("eta", "eta0", "power_t", "alpha", "t0")
SCHED_ETA, SCHED_ETA0, SCHED_POWER_T, SCHED_ALPHA, SCHED_T0 = range(5)


@dataclass(frozen=True)
class RuleSpec:
    """One row of the optimizer table."""

    name: str
    id: Rule
    slots: tuple  # names of the per-coordinate state rows
    hyper: dict  # customary defaults of the hyper-parameters it reads
    eta0: float  # customary step size (used when eta0='auto')
    lazy: bool = True  # has a lazy sparse form (SPEC section 3)
    formula: str = ""

    @property
    def n_slots(self):
        return len(self.slots)


_ADAM_HP = {"beta_1": 0.9, "beta_2": 0.999, "eps": 1e-8}

RULES = {
    r.name: r
    for r in [
        RuleSpec("sgd", Rule.SGD, (), {}, 0.01, formula="w -= eta g"),
        RuleSpec("momentum", Rule.MOMENTUM, ("v",), {"momentum": 0.9}, 0.01,
                 formula="v = gamma v + eta g; w -= v"),
        RuleSpec("nag", Rule.NAG, ("v",), {"momentum": 0.9}, 0.01,
                 formula="g at w - gamma v; v = gamma v + eta g; w -= v"),
        RuleSpec("adagrad", Rule.ADAGRAD, ("G",), {"eps": 1e-8}, 0.01,
                 formula="G += g^2; w -= eta g / (sqrt(G) + eps)"),
        RuleSpec("rmsprop", Rule.RMSPROP, ("E",), {"rho": 0.9, "eps": 1e-8}, 0.001,
                 formula="E = rho E + (1-rho) g^2; w -= eta g / (sqrt(E) + eps)"),
        RuleSpec("adadelta", Rule.ADADELTA, ("E", "D"), {"rho": 0.95, "eps": 1e-6}, 1.0,
                 formula="E = rho E + (1-rho) g^2; d = -sqrt(D+eps)/sqrt(E+eps) g; "
                         "D = rho D + (1-rho) d^2; w += eta d"),
        RuleSpec("adam", Rule.ADAM, ("m", "v"), _ADAM_HP, 0.001,
                 formula="m,v EMAs; w -= eta mhat / (sqrt(vhat) + eps)"),
        RuleSpec("adamax", Rule.ADAMAX, ("m", "u"), _ADAM_HP, 0.001,
                 formula="u = max(beta2 u, |g|); w -= eta/(1-beta1^t) m/(u+eps)"),
        RuleSpec("nadam", Rule.NADAM, ("m", "v"), _ADAM_HP, 0.001,
                 formula="mbar = (1-beta1) g/(1-beta1^t) + beta1 m/(1-beta1^(t+1))"),
        RuleSpec("amsgrad", Rule.AMSGRAD, ("m", "v", "vmax"), _ADAM_HP, 0.001,
                 formula="vmax = max(vmax, v); w -= eta mhat / (sqrt(vmax/(1-beta2^t)) + eps)"),
        RuleSpec("adamw", Rule.ADAMW, ("m", "v"), _ADAM_HP, 0.001,
                 formula="w *= 1 - eta alpha; adam on the loss gradient"),
    ]
}

MAX_SLOTS = max(r.n_slots for r in RULES.values())


@dataclass(frozen=True)
class LossSpec:
    name: str
    id: Loss
    param: str = ""  # 'epsilon' or a fixed threshold
    threshold: float = 0.0
    classification: bool = False
    lipschitz: bool = True  # smooth gradient (for the variance-reduced solvers)
    proba: bool = False
    extra: dict = field(default_factory=dict)


LOSSES = {
    s.name: s
    for s in [
        LossSpec("squared_error", Loss.SQUARED_ERROR),
        LossSpec("log_loss", Loss.LOG_LOSS, classification=True, proba=True),
        LossSpec("hinge", Loss.HINGE, threshold=1.0, classification=True, lipschitz=False),
        LossSpec("perceptron", Loss.HINGE, threshold=0.0, classification=True,
                 lipschitz=False),
        LossSpec("squared_hinge", Loss.SQUARED_HINGE, threshold=1.0, classification=True),
        LossSpec("modified_huber", Loss.MODIFIED_HUBER, classification=True, proba=True),
        LossSpec("huber", Loss.HUBER, param="epsilon"),
        LossSpec("epsilon_insensitive", Loss.EPSILON_INSENSITIVE, param="epsilon",
                 lipschitz=False),
        LossSpec("squared_epsilon_insensitive", Loss.SQUARED_EPSILON_INSENSITIVE,
                 param="epsilon"),
    ]
}

REGRESSION_LOSSES = ("squared_error", "huber", "epsilon_insensitive",
                     "squared_epsilon_insensitive")
CLASSIFICATION_LOSSES = tuple(LOSSES)

SCHEDULES = {s.name.lower(): s for s in Schedule}
PENALTIES = {"l2": Penalty.L2, "l1": Penalty.L1, "elasticnet": Penalty.ELASTICNET,
             None: Penalty.NONE, "none": Penalty.NONE}

SOLVERS = ("sgd", "sag", "saga", "svrg")


def loss_param(loss, epsilon):
    """The scalar a loss kernel reads: epsilon for huber-type losses, else the threshold."""
    spec = LOSSES[loss]
    return float(epsilon) if spec.param == "epsilon" else spec.threshold


def c_ids():
    """Every id above by its C name (``RULE_SGD``, ``LOSS_LOG_LOSS``, ``HP_BETA_1``, ...).

    The single-source kernels read these names: under Numba as constants of this module
    (``from fastgd._rules import RULE_SGD, ...``), under Cython as the enums of
    ``kernels/_ids.pxi`` that setup.py writes from ``pxi_source()``.
    """
    ids = {}
    for enum in (Rule, Loss, Schedule, Penalty):
        for member in enum:
            ids[f"{enum.__name__.upper()}_{member.name}"] = int(member)
    for i, name in enumerate(HP_NAMES):
        ids[f"HP_{name.upper()}"] = i
    for i, name in enumerate(SCHED_NAMES):
        ids[f"SCHED_{name.upper()}"] = i
    return ids


# The C names of every id (RULE_SGD, LOSS_LOG_LOSS, HP_BETA_1, ...) as constants of this
# module, which the Numba kernels import; under Cython they are the enums of _ids.pxi.
globals().update(c_ids())


def pxi_source():
    """Cython declarations of every id above (written to kernels/_ids.pxi by setup.py)."""
    lines = ["# Generated by setup.py from fastgd/_rules.py. Do not edit.\n"]
    for enum in (Rule, Loss, Schedule, Penalty):
        lines.append("cdef enum:\n")
        for member in enum:
            lines.append(f"    {enum.__name__.upper()}_{member.name} = {int(member)}\n")
    lines.append("cdef enum:\n")
    for i, name in enumerate(HP_NAMES):
        lines.append(f"    HP_{name.upper()} = {i}\n")
    lines.append("cdef enum:\n")
    for i, name in enumerate(SCHED_NAMES):
        lines.append(f"    SCHED_{name.upper()} = {i}\n")
    return "".join(lines)

"""The one source of truth for every update rule, loss, schedule and penalty.

The integer ids below are the only copy: the kernels read them by their C names
(``c_ids()``), as module globals under Numba and from ``kernels/_ids.pxi``, which
``setup.py`` writes from here, under Cython.
The formulas are those of SPEC.md (section 2) and of scikit-learn's ``_sgd_fast``.
"""

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


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
    """Learning-rate schedules: scikit-learn's four (by name), then fastgd.schedules'."""

    CONSTANT = 1
    OPTIMAL = 2
    INVSCALING = 3
    ADAPTIVE = 4
    STEP_DECAY = 5
    EXPONENTIAL_DECAY = 6
    COSINE_ANNEALING = 7
    CYCLIC = 8
    WARM_RESTARTS = 9
    ONE_CYCLE = 10


class Penalty(IntEnum):
    """Penalty types, scikit-learn's ids (``penalty_type >= L2`` means an L2 part)."""

    NONE = 0
    L1 = 1
    L2 = 2
    ELASTICNET = 3


class Solver(IntEnum):
    """Ids of the variance-reduced solvers (SPEC section 4) in the VR kernels."""

    SAG = 0
    SAGA = 1
    SVRG = 2


# ------------------------------------------------------------------ kernel records
# Every epoch kernel takes two records instead of a long list of scalars: ``ip``
# (int64) and ``fp`` (float64), one slot per (C name, key) below; ``records(**named)``
# builds them by key. In ``fp`` the SCHED_* slots are the learning-rate schedule's:
# eta_t of step t is constant: eta; optimal: 1 / (sched_alpha (t0 + t - 1));
# invscaling: eta0 / t^power_t (``sched_alpha`` is the estimator's alpha, as
# scikit-learn's, whatever the penalty); fastgd.schedules' in their docstrings; the HP_*
# slots the rules' hyper-parameters.
# The kernels update ``t`` (the step counter of SPEC section 2), ``u`` (the cumulative
# L1 clock) and ``m_seen`` (SAG's samples seen) in place.
FLOAT_RECORD = (
    ("HP_MOMENTUM", "momentum"), ("HP_RHO", "rho"), ("HP_BETA_1", "beta_1"),
    ("HP_BETA_2", "beta_2"), ("HP_EPS", "eps"),
    ("SCHED_ETA", "eta"), ("SCHED_ETA0", "eta0"), ("SCHED_POWER_T", "power_t"),
    ("SCHED_ALPHA", "sched_alpha"), ("SCHED_T0", "t0"),
    # a fastgd.schedules schedule's parameters, and its linear warm-up (steps; 0: none)
    ("SCHED_P0", "p0"), ("SCHED_P1", "p1"), ("SCHED_P2", "p2"), ("SCHED_P3", "p3"),
    ("SCHED_P4", "p4"), ("SCHED_WARMUP", "warmup"),
    ("FP_PARAM", "param"),  # the loss's threshold or epsilon
    ("FP_ALPHA", "alpha"), ("FP_L1_RATIO", "l1_ratio"),  # the penalty's
    ("FP_INTERCEPT_DECAY", "intercept_decay"),
    ("FP_LAM2", "lam2"), ("FP_LAM1", "lam1"),  # VR: alpha (1 - l1_ratio), alpha l1_ratio
    ("FP_T", "t"), ("FP_U", "u"),
    # SPEC section 7 (0: off): clipping of the step's gradient, annealed Gaussian noise
    ("FP_CLIP_VALUE", "clip_value"), ("FP_CLIP_NORM", "clip_norm"),
    ("FP_NOISE", "noise"), ("FP_NOISE_DECAY", "noise_decay"),
)
INT_RECORD = (
    ("IP_DENSE_D", "dense_d"),  # n_features for dense X (its flat view), 0 for CSR
    ("IP_RULE", "rule"), ("IP_LOSS", "loss"), ("IP_PENALTY", "penalty"),
    ("IP_SCHEDULE", "schedule"), ("IP_SOLVER", "solver"),
    ("IP_FIT_INTERCEPT", "fit_intercept"), ("IP_LAZY", "lazy"),
    ("IP_AVERAGE", "average"), ("IP_TRACK", "track"),  # plain SGD: track the objective
    ("IP_BATCH_SIZE", "batch_size"), ("IP_N_THREADS", "n_threads"),
    ("IP_N_TRAIN", "n_train"), ("IP_M_SEEN", "m_seen"),
    ("IP_NOISE_SEED", "noise_seed"),  # the gradient noise's key, in [0, 2**32)
)
HP_NAMES = tuple(key for c, key in FLOAT_RECORD if c.startswith("HP_"))
_FLOAT_SLOT = {key: i for i, (_, key) in enumerate(FLOAT_RECORD)}
_INT_SLOT = {key: i for i, (_, key) in enumerate(INT_RECORD)}


def records(**named):
    """(ip, fp): the kernels' int64 and float64 records, every slot set by its key
    (``rule=..., eta=..., momentum=...``); slots not named are 0."""
    ip = np.zeros(len(INT_RECORD), np.int64)
    fp = np.zeros(len(FLOAT_RECORD))
    for key, value in named.items():
        if key in _INT_SLOT:
            ip[_INT_SLOT[key]] = value
        elif key in _FLOAT_SLOT:
            fp[_FLOAT_SLOT[key]] = value
        else:
            raise TypeError(f"The kernel records have no slot {key!r}")
    return ip, fp


# Tuning constants of the kernels (the only copy; both backends read them from here)
MAX_DLOSS = 1e12  # |dL/dp| is clipped to this (scikit-learn's MAX_DLOSS)
WSCALE_MIN = 1e-9  # a scale factor below this is folded into the weights
PREFETCH_ROWS = 8  # rows ahead whose data (and CSR indices) are requested
PREFETCH_W = 3  # rows ahead whose coefficients w[indices] are requested (CSR)
PREFETCH_W_MIN = 1 << 16  # ... when w has this many features (smaller w stays cached)
ROUND_STEPS = 1024  # n_jobs > 1: batches per thread between two merges
SHRINK_KEEP = 0.99  # a Hogwild! thread ends its round once its scale falls below 0.99 S
SYNC_MIN_BATCH = 256  # batches at least this large use the synchronous kernel
PAD = 16  # float64 slots between per-thread rows (128 bytes: no shared cache line)
REPLICA_WORK = 0.125  # Hogwild! plain SGD and ASAGA/AsySVRG give each thread replicas of
# every column when copying and merging them in a round (2 d (n_threads + 1) numbers) is
# at most this share of the round's non-zero updates,
REPLICA_MAX_BYTES = 1 << 28  # ... and the replicas (n_threads x 2 x d float64) fit in this


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
    curvature: float = 0.0  # bound on d2L/dp2; 0: the gradient is not Lipschitz
    proba: bool = False  # predict_proba exists (log_loss, modified_huber)
    extra: dict = field(default_factory=dict)

    @property
    def lipschitz(self):
        """Smooth gradient: what the variance-reduced solvers need."""
        return self.curvature > 0.0


LOSSES = {
    s.name: s
    for s in [
        LossSpec("squared_error", Loss.SQUARED_ERROR, curvature=1.0),
        LossSpec("log_loss", Loss.LOG_LOSS, classification=True, proba=True,
                 curvature=0.25),
        LossSpec("hinge", Loss.HINGE, threshold=1.0, classification=True),
        LossSpec("perceptron", Loss.HINGE, threshold=0.0, classification=True),
        LossSpec("squared_hinge", Loss.SQUARED_HINGE, threshold=1.0, classification=True,
                 curvature=2.0),
        LossSpec("modified_huber", Loss.MODIFIED_HUBER, classification=True, proba=True,
                 curvature=2.0),
        LossSpec("huber", Loss.HUBER, param="epsilon", curvature=1.0),
        LossSpec("epsilon_insensitive", Loss.EPSILON_INSENSITIVE, param="epsilon"),
        LossSpec("squared_epsilon_insensitive", Loss.SQUARED_EPSILON_INSENSITIVE,
                 param="epsilon", curvature=2.0),
    ]
}

REGRESSION_LOSSES = ("squared_error", "huber", "epsilon_insensitive",
                     "squared_epsilon_insensitive")
CLASSIFICATION_LOSSES = tuple(LOSSES)

SCHEDULES = {s.name.lower(): s for s in Schedule if s <= Schedule.ADAPTIVE}
PENALTIES = {"l2": Penalty.L2, "l1": Penalty.L1, "elasticnet": Penalty.ELASTICNET,
             None: Penalty.NONE, "none": Penalty.NONE}

SOLVERS = ("sgd", "sag", "saga", "svrg", "lbfgs", "newton-cholesky")


def loss_param(loss, epsilon):
    """The scalar a loss kernel reads: epsilon for huber-type losses, else the threshold."""
    spec = LOSSES[loss]
    return float(epsilon) if spec.param == "epsilon" else spec.threshold


def c_ids():
    """Every id above by its C name (``RULE_SGD``, ``LOSS_LOG_LOSS``, ``SOLVER_SAGA``,
    ``HP_BETA_1``, ``IP_RULE``, ``FP_T``...).

    The single-source kernels read these names: under Numba as constants of this module
    (``from fastgd._rules import RULE_SGD, ...``), under Cython as the enums of
    ``kernels/_ids.pxi`` that setup.py writes from ``pxi_source()``.
    """
    ids = {}
    for enum in (Rule, Loss, Schedule, Penalty, Solver):
        for member in enum:
            ids[f"{enum.__name__.upper()}_{member.name}"] = int(member)
    for record in (FLOAT_RECORD, INT_RECORD):
        for i, (c_name, _) in enumerate(record):
            ids[c_name] = i
    return ids


# The C names of every id (RULE_SGD, LOSS_LOG_LOSS, HP_BETA_1, IP_RULE, ...) as constants
# of this module, which the Numba kernels import; under Cython they are the enums of
# _ids.pxi.
globals().update(c_ids())


def pxi_source():
    """Cython declarations of every id above (written to kernels/_ids.pxi by setup.py)."""
    lines = ["# Generated by setup.py from fastgd/_rules.py. Do not edit.\n", "cdef enum:\n"]
    lines += [f"    {name} = {value}\n" for name, value in c_ids().items()]
    return "".join(lines)


def ziggurat_tables(layers=128, r=3.442619855899, v=9.91256303526217e-3):
    """Marsaglia & Tsang's ziggurat for the half normal f(x) = exp(-x²/2) (J. Stat.
    Softw. 5(8), 2000; Doornik's ZIGNOR layout, 2005): ``layers`` strips of equal area
    ``v``; strip i spans [0, x[i]] × [f(x[i]), f(x[i + 1])], the base strip i = 0 (width
    x[0] = v / f(r)) holds the tail beyond r = x[1]. Returns (x, f(x)), layers + 1 values
    each, x[layers] = 0 and f = 1 there. Plain float64 math: the same bits on every
    backend and in the tests' reference."""
    import math

    x = np.zeros(layers + 1)
    x[0] = v / math.exp(-0.5 * r * r)
    x[1] = r
    for i in range(2, layers):
        x[i] = math.sqrt(-2.0 * math.log(v / x[i - 1] + math.exp(-0.5 * x[i - 1] ** 2)))
    f = np.exp(-0.5 * x * x)
    f[layers] = 1.0
    return x, f


# The kernels' normal generator reads these (Numba: frozen constants; Cython: module
# memoryviews of the same arrays).
ZIGGURAT_X, ZIGGURAT_F = ziggurat_tables()
ZIGGURAT_R = float(ZIGGURAT_X[1])

"""Learning-rate schedules (SPEC section 7): eta_t of the step counter t of SPEC section 2.

Each schedule is a callable ``schedule(t)``, vectorised over arrays, and any of them is
accepted by ``learning_rate=`` of every estimator, for every rule, with
``solver='sgd'``. ``t`` counts steps from 1 over the whole fit, across epochs and
``partial_fit`` calls; ``k = t - 1`` below is the number of steps taken before step t,
so every schedule starts at its initial rate (``schedule(1)``). Periods count steps: an
epoch is ``ceil(n_samples / batch_size)`` steps, so ``CosineAnnealing(0.1, T_max=10 *
steps_per_epoch)`` anneals over ten epochs.

One definition: a schedule is a kernel id and a few slots of the kernels' float record
(``fastgd._rules.FLOAT_RECORD``), and ``schedule(t)`` runs the kernels' own
``_step_size`` (``fastgd.kernels._nb_sgd.step_sizes``), so a fit uses exactly these
values, on both backends.

=====================  ==========================================================
StepDecay              eta0 gamma^floor(k / step_size)
ExponentialDecay       eta0 decay_rate^(k / decay_steps)   (staircase: floor of the power)
CosineAnnealing        eta_min + (eta0 - eta_min) (1 + cos(pi min(k, T_max) / T_max)) / 2
CyclicLR               Smith 2017: base_lr + (max_lr - base_lr) max(0, 1 - x) scale
WarmRestarts           SGDR (Loshchilov & Hutter 2017): cosine over cycles T_0, T_0 T_mult...
LinearWarmup           after(1) t / warmup_steps for t <= warmup_steps, then after(t - warmup)
OneCycle               Smith & Topin 2019: cosine up to max_lr, then down to its minimum
=====================  ==========================================================
"""

from dataclasses import dataclass, field, fields
from numbers import Integral, Real

import numpy as np

from fastgd._rules import Schedule as _Id
from fastgd._rules import records

__all__ = ["LRSchedule", "as_dict", "from_dict", "StepDecay", "ExponentialDecay", "CosineAnnealing", "CyclicLR",
           "WarmRestarts", "LinearWarmup", "OneCycle"]


def _positive(name, value, integer=False):
    kind = Integral if integer else Real
    if not isinstance(value, kind) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{name} must be a positive {'integer' if integer else 'number'}"
                         f"; got {value!r}.")
    return value


def _non_negative(name, value):
    if not isinstance(value, Real) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0; got {value!r}.")
    return value


class LRSchedule:
    """Base class: ``kernel_slots()`` gives the kernel id and the record slots."""

    def kernel_slots(self):
        """{'schedule': id, 'p0': ..., 'warmup': ...}: named slots of the kernel records."""
        raise NotImplementedError

    def __call__(self, t):
        """eta_t for the step counter(s) t >= 1 (a float for a scalar, else an array)."""
        from fastgd._backend import kernels

        ts = np.asarray(t, dtype=np.float64)
        if np.any(~(ts >= 1)):
            raise ValueError("the step counter t starts at 1")
        slots = self.kernel_slots()
        schedule = slots.pop("schedule")
        ip, fp = records(**slots)
        flat = np.ascontiguousarray(ts.ravel())
        out = np.empty_like(flat)
        kernels().step_sizes(schedule, fp, flat, out)
        return float(out[0]) if ts.ndim == 0 else out.reshape(ts.shape)


@dataclass(frozen=True)
class StepDecay(LRSchedule):
    """eta0 gamma^floor(k / step_size): times ``gamma`` every ``step_size`` steps."""

    eta0: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self):
        _positive("eta0", self.eta0)
        _positive("step_size", self.step_size, integer=True)
        _positive("gamma", self.gamma)

    def kernel_slots(self):
        return dict(schedule=int(_Id.STEP_DECAY), p0=self.eta0, p1=self.step_size,
                    p2=self.gamma)


@dataclass(frozen=True)
class ExponentialDecay(LRSchedule):
    """eta0 decay_rate^(k / decay_steps); ``staircase``: decay_rate^floor(k / decay_steps)."""

    eta0: float
    decay_rate: float
    decay_steps: int
    staircase: bool = False

    def __post_init__(self):
        _positive("eta0", self.eta0)
        _positive("decay_rate", self.decay_rate)
        _positive("decay_steps", self.decay_steps, integer=True)

    def kernel_slots(self):
        return dict(schedule=int(_Id.EXPONENTIAL_DECAY), p0=self.eta0, p1=self.decay_rate,
                    p2=self.decay_steps, p3=float(bool(self.staircase)))


@dataclass(frozen=True)
class CosineAnnealing(LRSchedule):
    """eta_min + (eta0 - eta_min) (1 + cos(pi k / T_max)) / 2 for k <= T_max, then eta_min
    (Loshchilov & Hutter 2017, without restarts; see WarmRestarts)."""

    eta0: float
    T_max: int
    eta_min: float = 0.0

    def __post_init__(self):
        _positive("eta0", self.eta0)
        _positive("T_max", self.T_max, integer=True)
        _non_negative("eta_min", self.eta_min)

    def kernel_slots(self):
        return dict(schedule=int(_Id.COSINE_ANNEALING), p0=self.eta0, p1=self.T_max,
                    p2=self.eta_min)


_CYCLIC_MODES = {"triangular": 0.0, "triangular2": 1.0, "exp_range": 2.0}


@dataclass(frozen=True)
class CyclicLR(LRSchedule):
    """Cyclical learning rates (Smith, WACV 2017): with cycle = floor(1 + k / (2
    step_size)) and x = |k / step_size - 2 cycle + 1|,
    eta = base_lr + (max_lr - base_lr) max(0, 1 - x) scale, where scale is 1
    ('triangular'), 1 / 2^(cycle - 1) ('triangular2') or gamma^k ('exp_range')."""

    base_lr: float
    max_lr: float
    step_size: int
    mode: str = "triangular"
    gamma: float = 1.0

    def __post_init__(self):
        _non_negative("base_lr", self.base_lr)
        _positive("max_lr", self.max_lr)
        _positive("step_size", self.step_size, integer=True)
        _positive("gamma", self.gamma)
        if self.mode not in _CYCLIC_MODES:
            raise ValueError(f"mode must be one of {sorted(_CYCLIC_MODES)}; got "
                             f"{self.mode!r}.")

    def kernel_slots(self):
        return dict(schedule=int(_Id.CYCLIC), p0=self.base_lr, p1=self.max_lr,
                    p2=self.step_size, p3=_CYCLIC_MODES[self.mode], p4=self.gamma)


@dataclass(frozen=True)
class WarmRestarts(LRSchedule):
    """SGDR (Loshchilov & Hutter, ICLR 2017): cosine annealing from eta0 to eta_min over
    T_i steps, restarted at eta0; T_0, then T_0 T_mult, T_0 T_mult^2, ..."""

    eta0: float
    T_0: int
    T_mult: int = 1
    eta_min: float = 0.0

    def __post_init__(self):
        _positive("eta0", self.eta0)
        _positive("T_0", self.T_0, integer=True)
        _positive("T_mult", self.T_mult, integer=True)
        _non_negative("eta_min", self.eta_min)

    def kernel_slots(self):
        return dict(schedule=int(_Id.WARM_RESTARTS), p0=self.eta0, p1=self.T_0,
                    p2=self.T_mult, p3=self.eta_min)


@dataclass(frozen=True)
class OneCycle(LRSchedule):
    """The 1cycle policy (Smith & Topin 2019; PyTorch's OneCycleLR with cosine
    annealing): from max_lr / div_factor up to max_lr over the first pct_start of
    ``total_steps``, then down to max_lr / (div_factor final_div_factor); it stays there
    after ``total_steps``."""

    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4

    def __post_init__(self):
        _positive("max_lr", self.max_lr)
        _positive("total_steps", self.total_steps, integer=True)
        _positive("div_factor", self.div_factor)
        _positive("final_div_factor", self.final_div_factor)
        up = self.pct_start * self.total_steps - 1.0
        if not (isinstance(self.pct_start, Real) and 0 < self.pct_start < 1
                and 0 < up < self.total_steps - 1):
            raise ValueError("pct_start must be in (0, 1) with at least two steps in each "
                             f"phase of total_steps={self.total_steps}; got "
                             f"pct_start={self.pct_start!r}.")

    def kernel_slots(self):
        initial = self.max_lr / self.div_factor
        return dict(schedule=int(_Id.ONE_CYCLE), p0=self.max_lr, p1=initial,
                    p2=initial / self.final_div_factor,
                    p3=self.pct_start * self.total_steps - 1.0, p4=self.total_steps - 1.0)


@dataclass(frozen=True)
class LinearWarmup(LRSchedule):
    """after(1) t / warmup_steps for t <= warmup_steps, then after(t - warmup_steps);
    ``after`` is a number (a constant rate) or another schedule (not a warm-up)."""

    warmup_steps: int
    after: object = field(default=0.01)

    def __post_init__(self):
        _positive("warmup_steps", self.warmup_steps, integer=True)
        if isinstance(self.after, LinearWarmup):
            raise ValueError("LinearWarmup(after=LinearWarmup(...)): one warm-up at most.")
        if not isinstance(self.after, LRSchedule):
            _positive("after", self.after)

    def kernel_slots(self):
        if isinstance(self.after, LRSchedule):
            slots = self.after.kernel_slots()
        else:
            slots = dict(schedule=int(_Id.CONSTANT), eta=float(self.after))
        slots["warmup"] = self.warmup_steps
        return slots


def as_dict(schedule):
    """{'schedule': class name, parameter: value...}: plain data (model files, JSON)."""
    out = {"schedule": type(schedule).__name__}
    for f in fields(schedule):
        value = getattr(schedule, f.name)
        out[f.name] = as_dict(value) if isinstance(value, LRSchedule) else value
    return out


def from_dict(data):
    """The schedule that ``as_dict`` described; a ValueError for anything else."""
    classes = {name: globals()[name] for name in __all__[3:]}
    data = dict(data)
    cls = classes.get(data.pop("schedule", None))
    if cls is None:
        raise ValueError(f"not a fastgd schedule: {data!r}")
    return cls(**{k: from_dict(v) if isinstance(v, dict) else v for k, v in data.items()})

r"""Learning-rate schedules: the step size alpha_t used in each epoch, stepped once per epoch.

Every optimizer of `gdcore.optimizers` updates theta -= alpha * direction with a direction that does not
depend on alpha, so a schedule is simply a per-epoch alpha. Epochs are counted from 0 as in
`torch.optim.lr_scheduler` (its `last_epoch`): epoch e = 0, 1, ..., K-1 is the pass that takes state e to
state e+1, and every update of that epoch (every mini-batch) uses

    alpha_e = schedule(alpha, e),    alpha being the run's base step (torch's `base_lr`).

That is a training loop calling `scheduler.step()` once after each epoch. The formulas are torch's
closed forms (`_get_closed_form_lr`) with the same parameter names; inverse time has no torch class and
follows Keras' `InverseTimeDecay` (staircase=False):

* constant:      alpha_e = alpha                                    (no scheduler)
* step:          alpha_e = alpha gamma^floor(e / step_size)          (StepLR)
* exponential:   alpha_e = alpha gamma^e                             (ExponentialLR)
* inverse_time:  alpha_e = alpha / (1 + decay_rate e / decay_steps)  (keras InverseTimeDecay)
* cosine:        alpha_e = eta_min + (alpha - eta_min) (1 + cos(pi e / T_max)) / 2   (CosineAnnealingLR;
                 after T_max epochs it rises again, period 2 T_max, as torch's does)
* linear:        alpha_e = alpha (start_factor + (end_factor - start_factor) min(e, total_iters) / total_iters)
                 (LinearLR: a linear warm-up with the defaults 1/3 -> 1 over 5 epochs)

`Schedule` is the hashable description a `RunSpec` carries (name + every parameter, defaults filled in);
`Schedule.alphas(alpha, epochs)` is the one place the per-epoch steps are computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from gdcore.validation import IntRange, RealRange, plain_scalar, refuse_unknown


@dataclass(frozen=True)
class ScheduleParameter:
    """One parameter of a schedule: its keyword (torch's or Keras'), default, valid range and meaning."""

    name: str
    default: float
    limits: IntRange | RealRange
    help: str


@dataclass(frozen=True)
class ScheduleKind:
    """A registry entry: `steps(alpha, e, **parameters)` gives alpha_e for an array of 0-based epochs e."""

    name: str
    display_name: str
    source: str  # the class whose formula and parameter names this follows
    equation: str  # LaTeX, alpha_e in terms of alpha and e
    parameters: tuple[ScheduleParameter, ...]
    steps: Callable[..., np.ndarray]

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.parameters}


def _constant(alpha: float, e: np.ndarray) -> np.ndarray:
    return np.full(e.shape, alpha)


def _step(alpha: float, e: np.ndarray, step_size: int, gamma: float) -> np.ndarray:
    return alpha * gamma ** (e // step_size)


def _exponential(alpha: float, e: np.ndarray, gamma: float) -> np.ndarray:
    return alpha * gamma**e


def _inverse_time(alpha: float, e: np.ndarray, decay_rate: float, decay_steps: float) -> np.ndarray:
    return alpha / (1.0 + decay_rate * e / decay_steps)


def _cosine(alpha: float, e: np.ndarray, T_max: int, eta_min: float) -> np.ndarray:
    return eta_min + (alpha - eta_min) * (1.0 + np.cos(math.pi * e / T_max)) / 2.0


def _linear(
    alpha: float, e: np.ndarray, start_factor: float, end_factor: float, total_iters: int
) -> np.ndarray:
    return alpha * (start_factor + (end_factor - start_factor) * np.minimum(e, total_iters) / total_iters)


_EPOCHS = IntRange(1, 1_000_000)
_FACTOR = RealRange(low=0.0, low_open=True, high=1.0)  # (0, 1]: a decay factor that never grows alpha

SCHEDULES: Mapping[str, ScheduleKind] = MappingProxyType(
    {
        "constant": ScheduleKind("constant", "Constant", "no scheduler", r"\alpha_e = \alpha", (), _constant),
        "step": ScheduleKind(
            "step",
            "Step decay",
            "torch.optim.lr_scheduler.StepLR",
            r"\alpha_e = \alpha\,\gamma^{\lfloor e / \mathrm{step\_size} \rfloor}",
            (
                ScheduleParameter("step_size", 30, _EPOCHS, "epochs between two decays"),
                ScheduleParameter("gamma", 0.1, _FACTOR, "factor alpha is multiplied by at each decay"),
            ),
            _step,
        ),
        "exponential": ScheduleKind(
            "exponential",
            "Exponential",
            "torch.optim.lr_scheduler.ExponentialLR",
            r"\alpha_e = \alpha\,\gamma^{e}",
            (ScheduleParameter("gamma", 0.95, _FACTOR, "factor alpha is multiplied by every epoch"),),
            _exponential,
        ),
        "inverse_time": ScheduleKind(
            "inverse_time",
            "Inverse time (1/t)",
            "keras.optimizers.schedules.InverseTimeDecay (staircase=False)",
            r"\alpha_e = \frac{\alpha}{1 + \mathrm{decay\_rate}\; e / \mathrm{decay\_steps}}",
            (
                ScheduleParameter("decay_rate", 1.0, RealRange(low=0.0, high=1e6), "how fast alpha decays"),
                ScheduleParameter(
                    "decay_steps",
                    10.0,
                    RealRange(low=0.0, low_open=True, high=1e6),
                    "epochs over which alpha falls to 1 / (1 + decay_rate) of its start",
                ),
            ),
            _inverse_time,
        ),
        "cosine": ScheduleKind(
            "cosine",
            "Cosine annealing",
            "torch.optim.lr_scheduler.CosineAnnealingLR",
            r"\alpha_e = \eta_{min} + \tfrac12(\alpha - \eta_{min})\left(1 + \cos\tfrac{\pi e}{T_{max}}\right)",
            (
                ScheduleParameter("T_max", 100, _EPOCHS, "epochs from alpha down to eta_min (then back up)"),
                ScheduleParameter("eta_min", 0.0, RealRange(low=0.0, high=1e6), "the smallest step"),
            ),
            _cosine,
        ),
        "linear": ScheduleKind(
            "linear",
            "Linear warm-up",
            "torch.optim.lr_scheduler.LinearLR",
            r"\alpha_e = \alpha\left(s + (f - s)\,\tfrac{\min(e,\ \mathrm{total\_iters})}{\mathrm{total\_iters}}\right)",
            (
                ScheduleParameter("start_factor", 1.0 / 3.0, _FACTOR, "s: the factor of the first epoch"),
                ScheduleParameter(
                    "end_factor", 1.0, RealRange(low=0.0, high=1.0), "f: the factor from total_iters on"
                ),
                ScheduleParameter("total_iters", 5, _EPOCHS, "epochs the factor takes to go from s to f"),
            ),
            _linear,
        ),
    }
)
SCHEDULE_PARAMETERS = frozenset(p.name for kind in SCHEDULES.values() for p in kind.parameters)


def get_schedule(name: object) -> ScheduleKind:
    """The registry entry called `name`, or a ValueError listing the valid names."""
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {name!r}")
    return SCHEDULES[name]


@dataclass(frozen=True)
class Schedule:
    """A schedule and all its parameters ((name, value) pairs in the registry's order, defaults filled
    in), validated when made: ValueError naming the bad value. Hashable, so a `RunSpec` can carry it.

    >>> Schedule.of("step", step_size=10).alphas(0.1, 25)[[0, 9, 10, 20]]   # gamma = 0.1 (StepLR's)
    array([0.1  , 0.1  , 0.01 , 0.001])
    """

    name: str = "constant"
    params: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        kind = get_schedule(self.name)
        given = dict(self.params)
        known = {p.name: p for p in kind.parameters}
        refuse_unknown(given, known, "parameter", f"schedule {self.name!r}")
        values = kind.defaults() | {
            name: known[name].limits.check(f"{name} ({self.name} schedule)", plain_scalar(value))
            for name, value in given.items()
        }
        object.__setattr__(self, "params", tuple((p.name, values[p.name]) for p in kind.parameters))

    @classmethod
    def of(cls, name: str = "constant", **params) -> Schedule:
        """Schedule.of("cosine", T_max=50): a schedule from keyword parameters."""
        return cls(name, tuple(params.items()))

    @property
    def kind(self) -> ScheduleKind:
        return SCHEDULES[self.name]

    @property
    def is_constant(self) -> bool:
        """Every epoch uses the base alpha: the constant-alpha theory (limits, forecasts) applies."""
        return self.name == "constant"

    @property
    def parameters(self) -> dict[str, float]:
        return dict(self.params)

    def changed(self) -> dict[str, float]:
        """The parameters that differ from the registry's defaults."""
        defaults = self.kind.defaults()
        return {name: value for name, value in self.params if value != defaults[name]}

    def alphas(self, alpha: float, epochs: int) -> np.ndarray:
        """(epochs,) float64: alpha_e for e = 0 .. epochs-1, the step of every update in epoch e."""
        e = np.arange(epochs, dtype=np.float64)
        return np.asarray(self.kind.steps(float(alpha), e, **self.parameters), dtype=np.float64)

    def describe(self) -> str:
        """'cosine (T_max=100, eta_min=0)': the name and every parameter."""
        if not self.params:
            return self.name
        return f"{self.name} ({', '.join(f'{k}={v:g}' for k, v in self.params)})"


CONSTANT = Schedule()  # the default: alpha in every epoch

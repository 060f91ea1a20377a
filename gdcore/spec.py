"""`RunSpec`: one gradient-descent run, described once and validated when it is made.

The dashboard, the learning-rate sweep, the reproduce snippet and the command line all describe a run
with this one frozen (hashable) dataclass and pass it whole; `gdcore.descend(X, y, **fields)` builds
one from its keyword arguments. The only thing a spec cannot check alone is how many weights `w0`
needs: that is settled by `start`, which needs the data's number of features.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from gdcore.optimizers import get_optimizer
from gdcore.schedules import CONSTANT, SCHEDULE_PARAMETERS, Schedule
from gdcore.validation import LIMITS, as_start_weights, check, check_optional, plain_scalar


@dataclass(frozen=True)
class RunSpec:
    """What to run: the optimizer and its hyperparameters, the step, the length, the start, the batches.

    * `alpha` > 0, `epochs` 0..1,000,000, `tol` in (0, 1) or None (stop when the relative loss change
      of an epoch falls below it), `w0` a number (every weight) or one number per feature, `b0`.
    * `batch_size`: rows per update; None is the full batch, and so is any size >= the number of rows
      (`is_full_batch` is that rule, written once). `shuffle_seed` seeds the per-epoch reshuffle.
    * `hyper`: the optimizer's hyperparameters as (name, value) pairs, all of them, in the registry's
      declared order (defaults filled in), e.g. (("beta", 0.9),) for momentum.
    * `schedule`: the learning-rate schedule (`gdcore.schedules.Schedule`; a name alone takes its default
      parameters): epoch e = 0, 1, ... uses alpha_e = schedule(alpha, e) for all its updates. The
      default, "constant", is alpha in every epoch.

    Construction validates every field and raises ValueError naming the bad value.
    """

    optimizer: str = "gd"
    alpha: float = 0.01
    epochs: int = 100
    w0: float | tuple[float, ...] = 1.0
    b0: float = 0.0
    tol: float | None = None
    batch_size: int | None = None
    shuffle_seed: int = 0
    hyper: tuple[tuple[str, float], ...] = ()
    schedule: Schedule = CONSTANT

    def __post_init__(self) -> None:
        entry = get_optimizer(self.optimizer)
        values = {
            "alpha": check("alpha", self.alpha),
            "epochs": check("epochs", self.epochs),
            "b0": check("b0", self.b0),
            "tol": check_optional("tol", self.tol),
            "batch_size": check_optional("batch_size", self.batch_size),
            "shuffle_seed": check("shuffle_seed", self.shuffle_seed),
            "w0": _checked_w0(self.w0),
            "hyper": tuple(entry.validate(dict(self.hyper)).items()),
            "schedule": _checked_schedule(self.schedule),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def of(cls, optimizer: str = "gd", **settings) -> RunSpec:
        """A spec from `descend`'s keyword form: RunSpec.of("momentum", alpha=0.1, beta=0.5), and
        RunSpec.of("gd", schedule="step", step_size=10, gamma=0.5): the schedule's parameters are
        keywords too (their names are not the optimizers')."""
        names = {f.name for f in fields(cls)} - {"hyper", "schedule"}
        schedule = settings.pop("schedule", "constant")
        scheduling = {key: value for key, value in settings.items() if key in SCHEDULE_PARAMETERS}
        hyper = {key: value for key, value in settings.items() if key not in names | scheduling.keys()}
        known = {key: value for key, value in settings.items() if key in names}
        if isinstance(schedule, Schedule):
            if scheduling:
                raise ValueError(
                    f"pass the schedule's parameters inside the Schedule, not as keywords; got "
                    f"{', '.join(sorted(scheduling))}"
                )
        else:
            schedule = Schedule(_schedule_name(schedule), tuple(scheduling.items()))
        return cls(optimizer=optimizer, hyper=tuple(hyper.items()), schedule=schedule, **known)

    @property
    def hyperparameters(self) -> dict[str, float]:
        """{name: value} for every hyperparameter of the optimizer."""
        return dict(self.hyper)

    def is_full_batch(self, n_samples: int) -> bool:
        """Every update sees all rows: no batch size, or one at least the number of rows."""
        return self.batch_size is None or self.batch_size >= n_samples

    def start(self, n_features: int) -> np.ndarray:
        """theta_0 = (w0 for each of the `n_features` weights, b0); ValueError if w0 has the wrong length."""
        return np.append(as_start_weights(self.w0, n_features), self.b0)

    def with_alpha(self, alpha: float) -> RunSpec:
        return replace(self, alpha=alpha)

    def alphas(self, epochs: int | None = None) -> np.ndarray:
        """(epochs,) the step of each epoch e = 0, 1, ... (the spec's epochs by default): alpha itself
        for the constant schedule, else `Schedule.alphas`."""
        return self.schedule.alphas(self.alpha, self.epochs if epochs is None else epochs)

    def changed(self) -> dict[str, object]:
        """The settings that differ from the defaults, in `descend`'s keyword form (hyperparameters and
        the schedule's parameters flattened): what a reproduce snippet or a share link needs to say."""
        default = RunSpec(optimizer=self.optimizer)
        out = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("hyper", "schedule") and getattr(self, f.name) != getattr(default, f.name)
        }
        defaults = default.hyperparameters
        out |= {name: value for name, value in self.hyper if value != defaults[name]}
        if not self.schedule.is_constant:
            out |= {"schedule": self.schedule.name, **self.schedule.changed()}
        return out


def _schedule_name(name: object) -> str:
    """A schedule's name as given (None: constant); `Schedule` checks it against the registry."""
    return "constant" if name is None else name


def _checked_schedule(schedule: object) -> Schedule:
    """A `Schedule`, or a registry name taken with its default parameters; ValueError otherwise."""
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, str):
        return Schedule(schedule)
    raise ValueError(f"schedule must be a schedule name or a gdcore.Schedule; got {schedule!r}")


def _checked_w0(w0: object) -> float | tuple[float, ...]:
    """A number, or a tuple of numbers (one per feature; the length is checked against the data later)."""
    if np.ndim(w0) == 0:
        return check("w0", plain_scalar(w0))
    values = list(np.asarray(w0, dtype=object).ravel())
    return tuple(LIMITS["w0"].check(f"w0[{i}]", plain_scalar(v)) for i, v in enumerate(values))

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
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def of(cls, optimizer: str = "gd", **settings) -> RunSpec:
        """A spec from `descend`'s keyword form: RunSpec.of("momentum", alpha=0.1, beta=0.5)."""
        names = {f.name for f in fields(cls)} - {"hyper"}
        hyper = {key: value for key, value in settings.items() if key not in names}
        known = {key: value for key, value in settings.items() if key in names}
        return cls(optimizer=optimizer, hyper=tuple(hyper.items()), **known)

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

    def changed(self) -> dict[str, object]:
        """The settings that differ from the defaults, in `descend`'s keyword form (hyperparameters
        flattened): what a reproduce snippet or a share link needs to say."""
        default = RunSpec(optimizer=self.optimizer)
        out = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "hyper" and getattr(self, f.name) != getattr(default, f.name)
        }
        defaults = default.hyperparameters
        out |= {name: value for name, value in self.hyper if value != defaults[name]}
        return out


def _checked_w0(w0: object) -> float | tuple[float, ...]:
    """A number, or a tuple of numbers (one per feature; the length is checked against the data later)."""
    if np.ndim(w0) == 0:
        return check("w0", plain_scalar(w0))
    values = list(np.asarray(w0, dtype=object).ravel())
    return tuple(LIMITS["w0"].check(f"w0[{i}]", plain_scalar(v)) for i, v in enumerate(values))

r"""What a run will cost the server, known before it starts, and what a shared server allows.

A hosted demo is one process on one small CPU shared by a whole class: one run of days (a million rows at
batch size 1, 100,000 epochs, six optimizers) would stop everyone. `estimate` prices a plan from the
size of its work, per run path of `gdcore.stepping.execute`, for N rows, d features (p = d + 1
parameters) and E epochs:

* full batch, GD / momentum / Nesterov (the linear optimizers): closed form, E x CLOSED_FORM_S;
* full batch, AdaGrad / RMSProp / Adam: one update per epoch, E x (EPOCH_S + update);
* mini-batches of B rows: every epoch draws a new order of the N rows and forms each batch's statistics,
  N x row(p), then makes ceil(N / B) updates:  E x (EPOCH_S + N x row(p) + ceil(N / B) x update),

where update is UPDATE_S[optimizer] on Python floats (d = 1) and ARRAY_UPDATE_S[optimizer] on numpy
arrays (d > 1), and row(p) = ROW_S + ROW_P2_S x p^2. The constants were measured on the development
machine (2 shared cores); `benchmarks/bench_app.py` prints estimate / measured for a grid of plans. A
learning-rate sweep runs each spec once per alpha, except full-batch GD, which the sweep evaluates for
every alpha at once in closed form.

`Budget` is the policy: a plan estimated above `ask_above_s` runs only when the user asks for it
(showing progress, cancellable); above `refuse_above_s` it does not run at all and the page says which
epochs would fit. Both come from the environment (GDLAB_ASK_ABOVE_S, GDLAB_REFUSE_ABOVE_S), so a hosted
demo and a laptop can differ.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gdcore.optimizers import OPTIMIZERS
from gdcore.spec import RunSpec

CLOSED_FORM_S = 0.3e-6  # seconds per epoch of a full-batch linear optimizer (closed form, any d)
EPOCH_S = 0.3e-6  # per epoch of a stepped run: the epoch's loss, bookkeeping
ROW_S, ROW_P2_S = 4.5e-8, 2.6e-10  # per row and epoch of a mini-batch run: shuffle, gather, statistics
UPDATE_S = {  # one update on Python floats (d = 1): gdcore.kernels, with its batch's share of the loop
    "gd": 0.45e-6,
    "momentum": 0.5e-6,
    "nesterov": 0.55e-6,
    "adagrad": 0.6e-6,
    "rmsprop": 0.6e-6,
    "adam": 0.7e-6,
}
ARRAY_UPDATE_S = {  # one update on numpy arrays (d > 1)
    "gd": 1.8e-6,
    "momentum": 2.2e-6,
    "nesterov": 2.5e-6,
    "adagrad": 3.5e-6,
    "rmsprop": 4.5e-6,
    "adam": 5.0e-6,
}
SWEEP_POINTS = 60  # alphas in the dashboard's learning-rate sweep

ASK_ABOVE_S = 5.0  # defaults for a demo shared by a class on one core
REFUSE_ABOVE_S = 60.0
BUDGET_VARIABLES = {"ask_above_s": "GDLAB_ASK_ABOVE_S", "refuse_above_s": "GDLAB_REFUSE_ABOVE_S"}


@dataclass(frozen=True)
class RunCost:
    """The estimated cost of one run: its optimizer, the path it takes, and seconds per epoch."""

    optimizer: str
    path: str  # "closed form", "one update per epoch" or "mini-batches"
    epochs: int
    seconds_per_epoch: float

    @property
    def seconds(self) -> float:
        return self.epochs * self.seconds_per_epoch


@dataclass(frozen=True)
class PlanCost:
    """The estimated cost of runs made one after the other (a plan, or a sweep's runs)."""

    runs: tuple[RunCost, ...]

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)

    @property
    def seconds_per_epoch(self) -> float:
        """Seconds one more epoch of every run adds (runs share their epochs)."""
        return sum(run.seconds_per_epoch for run in self.runs)

    def epochs_within(self, seconds: float) -> int:
        """The most epochs (each run's) whose estimate fits in `seconds`, at least 1."""
        if math.isinf(seconds):
            return max((run.epochs for run in self.runs), default=1)
        return max(1, int(seconds / self.seconds_per_epoch))


def run_path(spec: RunSpec, n_rows: int) -> str:
    """The path `gdcore.stepping.execute` takes for `spec` on `n_rows` rows (a learning-rate schedule
    takes a linear optimizer off the closed form)."""
    if not spec.is_full_batch(n_rows):
        return "mini-batches"
    closed = OPTIMIZERS[spec.optimizer].linear and spec.schedule.is_constant
    return "closed form" if closed else "one update per epoch"


def update_seconds(optimizer: str, n_features: int) -> float:
    """One optimizer update: on Python floats with one feature, on numpy arrays with more."""
    table = UPDATE_S if n_features == 1 else ARRAY_UPDATE_S
    return table[optimizer]


def run_cost(spec: RunSpec, n_rows: int, n_features: int) -> RunCost:
    """The estimate for one run of `spec` on n_rows x n_features data (see the module's cost model)."""
    if n_rows < 1 or n_features < 1:
        raise ValueError(f"the data must have at least one row and one feature; got {n_rows} x {n_features}")
    path = run_path(spec, n_rows)
    update = update_seconds(spec.optimizer, n_features)
    if path == "closed form":
        per_epoch = CLOSED_FORM_S
    elif path == "one update per epoch":
        per_epoch = EPOCH_S + update
    else:
        p = n_features + 1
        batches = -(-n_rows // spec.batch_size)
        per_epoch = EPOCH_S + n_rows * (ROW_S + ROW_P2_S * p * p) + batches * update
    return RunCost(spec.optimizer, path, spec.epochs, per_epoch)


def estimate(specs: Iterable[RunSpec], n_rows: int, n_features: int) -> PlanCost:
    """The estimated cost of running each spec once, one after the other."""
    return PlanCost(tuple(run_cost(spec, n_rows, n_features) for spec in specs))


def estimate_sweep(
    specs: Iterable[RunSpec], n_rows: int, n_features: int, points: int = SWEEP_POINTS
) -> PlanCost:
    """The estimated cost of sweeping each spec over `points` step sizes: one run per step size (full-batch
    GD evaluates them all at once in closed form, at the closed form's cost per epoch either way)."""
    return PlanCost(tuple(run_cost(spec, n_rows, n_features) for spec in specs for _ in range(points)))


def estimate_degree_sweep(spec: RunSpec, n_rows: int, degrees: Iterable[int]) -> PlanCost:
    """The estimated cost of running `spec` once per polynomial degree (the degree sweep): degree d has
    d features on the same `n_rows` training rows."""
    return PlanCost(tuple(run_cost(spec, n_rows, degree) for degree in degrees))


# The degree sweep's optima, degrees 1 to 12 (one expansion and split, then per degree the statistics,
# numpy's lstsq and the scores): seconds per row of the data, measured on the development machine
# while others' tests ran on it (12.6-21.8 s at 1,000,000 rows, 5.8 s at 200,000: 1.3e-5 to 2.9e-5).
DEGREE_FITS_ROW_S = 2.5e-5


def estimate_degree_fits(n_rows: int) -> float:
    """Seconds the degree sweep's twelve closed-form fits take on `n_rows` rows (before any run)."""
    return n_rows * DEGREE_FITS_ROW_S


@dataclass(frozen=True)
class Budget:
    """How much server time one request may take: above `ask_above_s` seconds (estimated) a run waits
    for the user to ask for it; above `refuse_above_s` it is not run."""

    ask_above_s: float = ASK_ABOVE_S
    refuse_above_s: float = REFUSE_ABOVE_S

    def __post_init__(self) -> None:
        for name in ("ask_above_s", "refuse_above_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and value > 0 and not math.isnan(value)):
                raise ValueError(
                    f"{BUDGET_VARIABLES[name]} must be a number of seconds > 0 (or inf); got {value!r}"
                )
        if self.refuse_above_s < self.ask_above_s:
            raise ValueError(
                f"GDLAB_REFUSE_ABOVE_S ({self.refuse_above_s:g}) must be at least "
                f"GDLAB_ASK_ABOVE_S ({self.ask_above_s:g})"
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Budget:
        """The budget set by GDLAB_ASK_ABOVE_S and GDLAB_REFUSE_ABOVE_S (seconds; "inf" for no limit),
        the defaults where unset. ValueError naming the variable for a value that is not seconds > 0."""
        values = {}
        for field, variable in BUDGET_VARIABLES.items():
            text = environ.get(variable, "").strip()
            if not text:
                continue
            try:
                values[field] = float(text)
            except ValueError:
                raise ValueError(
                    f"{variable} must be a number of seconds > 0 (or inf); got {text!r}"
                ) from None
        return cls(**values)

    def verdict(self, cost: PlanCost) -> str:
        """ "run" (within the budget), "ask" (run only when asked) or "refuse" (too long to run here)."""
        if cost.seconds > self.refuse_above_s:
            return "refuse"
        return "ask" if cost.seconds > self.ask_above_s else "run"

    def runs_unasked(self, cost: PlanCost, most: int) -> int:
        """How many runs of `cost` each, one after the other, fit in `ask_above_s` (the server time a
        request takes without asking its user), at most `most`: the work the page may add on its own, such
        as the trial runs behind a suggested step."""
        if cost.seconds <= 0 or math.isinf(self.ask_above_s):
            return most
        return min(most, int(self.ask_above_s // cost.seconds))


def describe_seconds(seconds: float) -> str:
    """A duration as people say it: "under a second", "about 40 s", "about 3 min", "about 2 h",
    "about 5 days"."""
    if seconds < 1:
        return "under a second"
    if seconds < 100:
        return f"about {seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"about {seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"about {seconds / 3600:.0f} h"
    return f"about {seconds / 86400:,.0f} days"

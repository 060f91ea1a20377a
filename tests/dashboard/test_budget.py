"""gdcore.dashboard.budget: a run's cost known before it starts, and the budget a shared server allows
(issue 10 §2b). How close the estimate comes to measured times is a benchmark (benchmarks/bench_app.py),
not a timed test; here: the path named is the path gdcore takes, the estimate grows the way the work
does, the epochs that fit really fit, and the settings are read as documented."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

import gdcore
from gdcore import stepping
from gdcore.dashboard.budget import (
    Budget,
    PlanCost,
    describe_seconds,
    estimate,
    estimate_sweep,
    run_cost,
    run_path,
)
from gdcore.model import Quadratic
from gdcore.optimizers import OPTIMIZERS
from gdcore.spec import RunSpec

CLOSED_FORMS = {"gd", "momentum", "nesterov"}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("batch_size", [None, 8, 40])
def test_the_path_named_is_the_path_gdcore_takes(monkeypatch, optimizer, batch_size):
    """Spy on stepping's three paths: the one `run_path` names is the one `execute` enters."""
    entered = []
    for name, path in (
        ("gd_chunks", "closed form"),
        ("linear_chunks", "closed form"),
        ("_looped_full_batch", "one update per epoch"),
        ("_minibatch_chunks", "mini-batches"),
    ):
        original = getattr(stepping, name)
        monkeypatch.setattr(
            stepping, name, lambda *a, _f=original, _p=path, **k: entered.append(_p) or _f(*a, **k)
        )
    data = gdcore.make_data(n_samples=40, noise=5.0, seed=3)
    spec = RunSpec(optimizer=optimizer, alpha=1e-3, epochs=5, batch_size=batch_size)
    stepping.execute(data.X, data.y, spec, Quadratic.from_data(data.X, data.y))
    assert entered == [run_path(spec, 40)]
    expected = "mini-batches" if batch_size == 8 else "closed form" if optimizer in CLOSED_FORMS else None
    assert run_path(spec, 40) == (expected or "one update per epoch")


def test_the_estimate_grows_as_the_work_does():
    base = RunSpec(optimizer="adam", epochs=100, batch_size=32)
    cost = run_cost(base, 10_000, 1)
    assert cost.seconds == pytest.approx(100 * cost.seconds_per_epoch)
    assert run_cost(replace(base, epochs=1000), 10_000, 1).seconds == pytest.approx(10 * cost.seconds)
    assert run_cost(base, 100_000, 1).seconds > 9 * cost.seconds  # ten times the rows and batches
    assert run_cost(replace(base, batch_size=1), 10_000, 1).seconds > 10 * cost.seconds  # 32x the updates
    assert run_cost(base, 10_000, 10).seconds > 2 * cost.seconds  # arrays of 11 parameters, not floats
    assert (
        run_cost(RunSpec(epochs=100, batch_size=32), 10_000, 1).seconds < cost.seconds
    )  # GD: a simpler update
    # Full batch: one update per epoch whatever the rows; the closed form is cheaper still.
    full = run_cost(replace(base, batch_size=None), 10_000, 1)
    assert full.seconds == run_cost(replace(base, batch_size=None), 1_000_000, 1).seconds < cost.seconds / 100
    closed = run_cost(RunSpec(epochs=100), 10_000, 1)
    assert closed.path == "closed form" and closed.seconds < full.seconds


def test_a_plan_costs_the_sum_of_its_runs_and_a_sweep_one_run_per_alpha():
    specs = [RunSpec(optimizer=name, epochs=200, batch_size=16) for name in ("gd", "momentum", "adam")]
    plan = estimate(specs, 5000, 2)
    assert plan.seconds == pytest.approx(sum(run_cost(s, 5000, 2).seconds for s in specs))
    assert [run.optimizer for run in plan.runs] == ["gd", "momentum", "adam"]
    assert estimate_sweep(specs, 5000, 2, points=60).seconds == pytest.approx(60 * plan.seconds)


@pytest.mark.parametrize("seconds", [0.05, 1.0, 7.5, 300.0])
def test_epochs_within_is_the_most_epochs_that_fit(seconds):
    specs = [RunSpec(optimizer=name, epochs=100_000, batch_size=1) for name in ("gd", "adam")]
    cost = estimate(specs, 20_000, 3)
    epochs = cost.epochs_within(seconds)

    def at(e: int) -> float:
        return estimate([replace(s, epochs=e) for s in specs], 20_000, 3).seconds

    assert epochs >= 1
    assert at(epochs) <= seconds * (1 + 1e-12) or epochs == 1
    assert at(epochs + 1) > seconds
    assert PlanCost(cost.runs).epochs_within(math.inf) == 100_000


def test_bad_data_sizes_are_refused():
    with pytest.raises(ValueError, match="at least one row"):
        run_cost(RunSpec(), 0, 1)


def test_budget_verdicts():
    budget = Budget(ask_above_s=5.0, refuse_above_s=60.0)
    cost = estimate([RunSpec(epochs=100)], 100, 1)
    assert budget.verdict(cost) == "run"
    per_epoch = estimate([RunSpec(epochs=1, batch_size=1)], 100_000, 1).seconds_per_epoch

    def plan(seconds: float) -> PlanCost:
        return estimate([RunSpec(epochs=max(1, round(seconds / per_epoch)), batch_size=1)], 100_000, 1)

    assert budget.verdict(plan(4.0)) == "run"
    assert budget.verdict(plan(30.0)) == "ask"
    assert budget.verdict(plan(600.0)) == "refuse"
    assert Budget(ask_above_s=math.inf, refuse_above_s=math.inf).verdict(plan(600.0)) == "run"


def test_budget_from_the_environment():
    assert Budget.from_environment({}) == Budget()
    assert Budget.from_environment({"GDLAB_ASK_ABOVE_S": "2", "GDLAB_REFUSE_ABOVE_S": " 30 "}) == Budget(
        2.0, 30.0
    )
    laptop = Budget.from_environment({"GDLAB_ASK_ABOVE_S": "inf", "GDLAB_REFUSE_ABOVE_S": "inf"})
    assert laptop.ask_above_s == laptop.refuse_above_s == math.inf
    for bad in ("soon", "-1", "0", "nan"):
        with pytest.raises(ValueError, match="GDLAB_ASK_ABOVE_S must be a number of seconds > 0"):
            Budget.from_environment({"GDLAB_ASK_ABOVE_S": bad})
    with pytest.raises(ValueError, match=r"GDLAB_REFUSE_ABOVE_S .* must be at least GDLAB_ASK_ABOVE_S"):
        Budget.from_environment({"GDLAB_ASK_ABOVE_S": "10", "GDLAB_REFUSE_ABOVE_S": "5"})


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "under a second"),
        (7.4, "about 7 s"),
        (99.0, "about 99 s"),
        (400.0, "about 7 min"),
        (3 * 3600.0, "about 3 h"),
        (5 * 86400.0, "about 5 days"),
        (np.float64(12.6), "about 13 s"),
    ],
)
def test_durations_read_as_people_say_them(seconds, text):
    assert describe_seconds(seconds) == text

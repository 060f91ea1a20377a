"""The step suggested after a divergence is found by trial runs of the whole plan (`experiment.safe_step`);
they are work the page does on its own, so they stay within the time a request takes without asking
(issue 10 §2b): `Budget.runs_unasked` says how many fit, and when not one does, the step is offered
untried and the page says so."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import gdcore
from gdcore.dashboard import experiment
from gdcore.dashboard.budget import Budget, PlanCost, RunCost, estimate
from gdcore.dashboard.settings import ALPHA_CHOICES
from gdcore.spec import RunSpec

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
# 1,000 rows at batch size 1, a step far too large: every run diverges within a few epochs
DIVERGING = {"samples": "1000", "batch_size": "1", "epochs": "50", "alpha": "1"}


def cost_of(seconds: float) -> PlanCost:
    return PlanCost((RunCost("gd", "closed form", 10, seconds / 10),))


@pytest.mark.parametrize(
    ("ask_above_s", "seconds", "fit"),
    [(5.0, 2.0, 2), (5.0, 1.0, 4), (100.0, 1.0, 4), (1.9, 2.0, 0), (8.0, 4.0, 2), (math.inf, 1e9, 4)],
)
def test_runs_unasked_counts_the_runs_that_fit_in_the_unasked_time(ask_above_s, seconds, fit):
    budget = Budget(ask_above_s=ask_above_s, refuse_above_s=math.inf)
    assert budget.runs_unasked(cost_of(seconds), most=4) == fit
    assert fit * seconds <= ask_above_s  # what it allows fits ...
    assert fit == 4 or (fit + 1) * seconds > ask_above_s  # ... and one more would not


def test_runs_unasked_of_free_work_is_the_most():
    assert Budget(ask_above_s=1.0).runs_unasked(PlanCost(()), most=3) == 3


def diverging_runs(trial):
    return {spec.optimizer: SimpleNamespace(diverged=True) for spec in trial.specs}


@pytest.mark.parametrize("tries", [0, 1, 2, 4])
def test_safe_step_runs_no_more_trials_than_allowed(tries):
    prepared = experiment.prepare(
        gdcore.make_data(n_samples=200, seed=4), standardized=True, test_fraction=0.0, split_seed=0
    )
    plan = experiment.RunPlan.compare(("gd",), alpha=1.0)
    tried = []

    def runner(trial):
        tried.append(trial.specs[0].alpha)
        return diverging_runs(trial)

    assert experiment.safe_step(prepared, plan, ALPHA_CHOICES, runner, tries) is None
    assert len(tried) == tries
    ceiling = experiment.step_ceiling(prepared, plan)
    assert all(alpha <= ceiling and alpha in ALPHA_CHOICES for alpha in tried)
    assert tried == sorted(tried, reverse=True) and len(set(tried)) == len(tried)


def test_step_ceiling_is_the_smallest_alpha_opt_or_a_hundredth_of_an_adaptive_alpha():
    prepared = experiment.prepare(
        gdcore.make_data(n_samples=200, seed=4), standardized=True, test_fraction=0.0, split_seed=0
    )
    X = prepared.train.X
    A = np.column_stack([X, np.ones(X.shape[0])])
    eigenvalues = np.linalg.eigvalsh(2.0 / X.shape[0] * A.T @ A)  # the loss's Hessian
    gd_opt = 2.0 / (eigenvalues.max() + eigenvalues.min())
    assert experiment.step_ceiling(prepared, experiment.RunPlan.compare(("gd",), alpha=1.0)) == pytest.approx(
        gd_opt, rel=1e-9
    )
    adam = experiment.RunPlan.compare(("gd", "adam"), alpha=1e-3)
    assert experiment.step_ceiling(prepared, adam) == pytest.approx(min(gd_opt, 1e-5), rel=1e-12)


# ------------------------------------------------------------------------------------------- the page


@pytest.fixture
def recorded(monkeypatch):
    """The alphas of every plan the page runs (through the cache or with progress)."""
    alphas: list[float] = []
    run = experiment.run_optimizers

    def recording(prepared, plan, *args, **kwargs):
        alphas.append(plan.specs[0].alpha)
        return run(prepared, plan, *args, **kwargs)

    monkeypatch.setattr(experiment, "run_optimizers", recording)
    return alphas


def page(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(query)
    return at.run()


def captions(at: AppTest) -> list[str]:
    return [str(c.value) for c in at.caption]


def test_over_the_budget_the_step_is_offered_untried(monkeypatch, recorded):
    monkeypatch.setenv("GDLAB_ASK_ABOVE_S", "0.005")
    at = page({**DIVERGING, "seed": "211"})
    assert not at.exception
    at.button(key="budget_run").click().run()  # the user asks for the long run
    assert not at.exception, [e.value for e in at.exception]
    assert any("diverge" in str(e.value).lower() for e in at.error)
    assert recorded == [1.0]  # the run asked for, and no trial run at another step
    [note] = [c for c in captions(at) if "It was not run" in c]
    step = float(at.button(key="suggested_alpha").label.removeprefix("Set α = "))
    assert step in ALPHA_CHOICES and f"α = {step:g} is the largest slider value" in note
    cost = estimate([RunSpec(alpha=1.0, epochs=50, batch_size=1)], 1000, 1)
    assert cost.seconds > 0.005 and "the page spends without asking" in note
    at.button(key="suggested_alpha").click().run()
    assert not at.exception
    assert at.session_state["alpha"] == step
    assert any("would take" in str(w.value) for w in at.warning)  # that run too waits to be asked for
    assert recorded == [1.0]


def test_within_the_budget_the_suggested_step_was_run(recorded):
    at = page({**DIVERGING, "seed": "212"})
    assert not at.exception, [e.value for e in at.exception]
    step = float(at.button(key="suggested_alpha").label.removeprefix("Set α = "))
    assert recorded[0] == 1.0 and step in recorded[1:]  # tried, through the cache
    assert 2 <= len(recorded) <= 1 + experiment.SAFE_STEP_TRIES
    assert any("and it was run" in c for c in captions(at))
    assert not any("It was not run" in c for c in captions(at))

"""The status texts and the math panel's numbers, checked against independent computations."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import gdcore
from gdcore.dashboard import experiment
from gdcore.dashboard.explain import describe_status, gap_closed, math_panel_numbers
from gdcore.sweep import measured_contraction


@pytest.fixture(scope="module")
def blog():
    data = gdcore.make_data()
    return data, gdcore.least_squares(data.X, data.y), gdcore.analyze(data.X, data.y)


def closed_after(data, fit, epochs: int, alpha: float = 0.01) -> float:
    run = gdcore.descend(data.X, data.y, alpha=alpha, epochs=epochs)
    return gap_closed(run, fit.loss)


def outlook_of(data, **fields) -> experiment.Outlook:
    """The dashboard's outlook (the optimizer's own limits and forecast) of one run on `data`."""
    prepared = experiment.prepare(data, standardized=False, test_fraction=0.0, split_seed=0)
    return experiment.outlook(prepared, gdcore.RunSpec(**fields))


def test_still_descending_predicts_the_epochs_left(blog):
    """The forecast of epochs left is checked by running them: 99.9% of the gap closes by then, and
    not one epoch earlier."""
    data, fit, _ = blog
    run = gdcore.descend(data.X, data.y)
    status = describe_status(run, fit, outlook_of(data))
    assert status.level == "info" and "Still descending" in status.text
    more = int(re.search(r"About ([\d,]+) more epochs", status.text).group(1).replace(",", ""))
    assert closed_after(data, fit, 100 + more) >= 0.999
    assert closed_after(data, fit, 100 + more - 2) < 0.999
    assert f"{gap_closed(run, fit.loss):.1%}" in status.text


def test_diverged_names_alpha_max_and_alpha_opt(blog):
    data, fit, theory = blog
    run = gdcore.descend(data.X, data.y, alpha=1.0)
    status = describe_status(run, fit, outlook_of(data, alpha=1.0))
    assert status.level == "error"
    assert "0.9536" in status.text and f"{theory.alpha_opt:.4g}" in status.text


def test_converged_at_alpha_opt(blog):
    data, fit, theory = blog
    run = gdcore.descend(data.X, data.y, alpha=theory.alpha_opt, epochs=50)
    status = describe_status(run, fit, outlook_of(data, alpha=theory.alpha_opt, epochs=50))
    assert status.level == "success" and f"{fit.loss:,.3f}" in status.text


def test_math_panel_gradients_match_finite_differences(blog):
    data, _, _ = blog
    run = gdcore.descend(data.X, data.y, w0=3.0, b0=-2.0)
    lines = math_panel_numbers(data.X, data.y, run, 0.01).equation_lines
    h = 1e-5
    dw = (gdcore.mse(data.X, data.y, 3.0 + h, -2.0) - gdcore.mse(data.X, data.y, 3.0 - h, -2.0)) / (2 * h)
    db = (gdcore.mse(data.X, data.y, 3.0, -2.0 + h) - gdcore.mse(data.X, data.y, 3.0, -2.0 - h)) / (2 * h)
    shown = [float(v.replace("{,}", "")) for v in re.findall(r"= (-?[\d.{},]+)", lines[2])]
    assert shown == pytest.approx([float(f"{dw:.4g}"), float(f"{db:.4g}")], rel=1e-3)
    # The first update line equals the engine's first step.
    assert f"= {float(run.weights[1, 0]):.4g}" in lines[3].replace("{,}", ",")


def test_measured_ratio_tends_to_theory_rate_squared(blog):
    data, fit, theory = blog
    # After 120 epochs the faster direction's share of the gap is (0.801 / 0.850)^120 ~ 8e-4 of the slow one.
    run = gdcore.descend(data.X, data.y, alpha=0.05, epochs=120)
    assert measured_contraction(run, fit)[-1] == pytest.approx(theory.loss_rate(0.05), rel=2e-3)
    at_optimum = gdcore.descend(data.X, data.y, alpha=theory.alpha_opt, epochs=500)
    assert math.isnan(measured_contraction(at_optimum, fit)[-1])  # the gap is round-off by then


def test_race_summary_names_the_first_to_reach_the_optimum(blog):
    data, fit, _ = blog
    prepared = experiment.prepare(data, standardized=False, test_fraction=0.0, split_seed=0)
    runs = experiment.run_optimizers(prepared, experiment.RunPlan.compare(("gd", "momentum"), alpha=0.1))
    reached = {name: run.epoch_reaching(fit.loss) for name, run in runs.items()}
    for name, run in runs.items():  # independent: the first epoch whose gap is <= 0.1% of the start's
        gaps = run.loss - fit.loss
        hits = np.flatnonzero(gaps <= 1e-3 * gaps[0])
        assert reached[name] == (int(hits[0]) if hits.size else None)
    winner = min((e, n) for n, e in reached.items() if e is not None)[1]
    assert experiment.race_summary(runs, fit.loss).startswith(f"**{winner}** reached the optimum first")


def test_run_plan_rejects_an_unknown_or_empty_choice(blog):
    data, _, _ = blog
    prepared = experiment.prepare(data, standardized=False, test_fraction=0.0, split_seed=0)
    with pytest.raises(ValueError, match="choose at least one optimizer"):
        experiment.run_optimizers(prepared, experiment.RunPlan.compare(()))
    with pytest.raises(ValueError, match="unknown optimizer 'sgdd'"):
        experiment.run_optimizers(prepared, experiment.RunPlan.compare(("sgdd",)))


def test_test_losses_equal_the_mse_on_held_out_rows():
    data = gdcore.make_data(n_samples=200, n_features=2, seed=3)
    prepared = experiment.prepare(data, standardized=True, test_fraction=0.25, split_seed=7)
    runs = experiment.run_optimizers(prepared, experiment.RunPlan.compare(("gd",), alpha=0.1, epochs=20))
    run = next(iter(runs.values()))
    test_loss = experiment.test_losses(prepared, runs)[next(iter(runs))]
    test = prepared.test
    direct = [gdcore.mse(test.X, test.y, run.weights[t], run.bias[t]) for t in range(run.loss.size)]
    np.testing.assert_allclose(test_loss, direct, rtol=1e-9)

"""The page keeps long runs from holding the server (issue 10 §2b), run headlessly with AppTest: a run
estimated above the budget waits to be asked for, one above the limit does not run and says which epochs
fit, and a run asked for is the run shown. The budget is set through the environment, as on a server
(small values here, so that small runs cross it). Cancelling and leaving mid-run need a real server: see
tests/browser/test_budget_browser.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import open_tab

import gdcore
from gdcore.dashboard.budget import Budget, estimate, estimate_sweep
from gdcore.spec import RunSpec

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
# 1,000 rows at batch size 1: a thousand updates an epoch, a few hundredths of a second for 50 epochs.
# Each test draws its own data (seed): finished runs are shared by every session of the process.
SMALL_BATCHES = {"samples": "1000", "batch_size": "1", "epochs": "50", "alpha": "0.001"}


def small_batches(seed: int) -> dict[str, str]:
    return {**SMALL_BATCHES, "seed": str(seed)}


def page(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(query)
    return at.run()


def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def alerts(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in at.get(kind)]


def charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def expected_run(epochs: int, seed: int) -> gdcore.Trajectory:
    data = gdcore.make_data(n_samples=1000, noise=20.0, seed=seed)
    return gdcore.descend(data.X, data.y, alpha=0.001, epochs=epochs, batch_size=1)


def fitting_epochs(seconds: float) -> int:
    return estimate([RunSpec(alpha=0.001, epochs=50, batch_size=1)], 1000, 1).epochs_within(seconds)


def test_a_run_over_the_budget_waits_until_asked_for_and_is_then_the_run_shown(monkeypatch):
    monkeypatch.setenv("GDLAB_ASK_ABOVE_S", "0.005")
    at = page(small_batches(101))
    assert_ok(at)
    [warning] = [w for w in alerts(at, "warning") if "would take" in w]
    assert "server's time, which everyone using the page shares" in warning
    assert "Gradient descent by mini-batches" in warning
    assert charts(at) == 0  # nothing ran
    assert at.session_state["epochs"] == 50 and at.query_params["epochs"] == "50"  # the settings kept
    assert at.button(key="budget_run").label.startswith("▶ Run it")
    at.button(key="budget_run").click().run()
    assert_ok(at)
    assert charts(at) == 4 and not [w for w in alerts(at, "warning") if "would take" in w]
    run = expected_run(50, 101)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Best epoch"] == f"{run.best_epoch:,}"
    assert shown["Error (MSE)"] == f"{run.best_loss:,.3f}"
    # A rerun of the same settings (a toggle) shows the finished run without asking again.
    at.toggle(key="log_loss").set_value(False).run()
    assert_ok(at)
    assert charts(at) == 4 and not [w for w in alerts(at, "warning") if "would take" in w]


def test_set_epochs_lowers_them_to_what_the_budget_runs_at_once(monkeypatch):
    monkeypatch.setenv("GDLAB_ASK_ABOVE_S", "0.005")
    at = page(small_batches(102))
    epochs = fitting_epochs(0.005)
    assert 1 <= epochs < 50
    assert at.button(key="budget_fit").label == f"Set epochs to {epochs:,}"
    at.button(key="budget_fit").click().run()
    assert_ok(at)
    assert at.session_state["epochs"] == epochs
    assert charts(at) == 4  # within the budget now: it ran without asking
    assert {m.label: m.value for m in at.metric}["Best epoch"] == f"{expected_run(epochs, 102).best_epoch:,}"


def test_a_run_over_the_limit_does_not_run_and_says_what_fits(monkeypatch):
    monkeypatch.setenv("GDLAB_ASK_ABOVE_S", "0.002")
    monkeypatch.setenv("GDLAB_REFUSE_ABOVE_S", "0.005")
    at = page(small_batches(103))
    assert_ok(at)
    [error] = [e for e in alerts(at, "error") if "would take" in e]
    epochs = fitting_epochs(0.005)
    assert f"Lower the epochs to {epochs:,} or fewer" in error
    assert "the most one run may take here is" in error
    assert charts(at) == 0
    assert "budget_run" not in {b.key for b in at.button}  # no way to run it anyway
    at.button(key="budget_set_epochs").click().run()
    assert_ok(at)
    assert at.session_state["epochs"] == epochs
    assert not [e for e in alerts(at, "error") if "would take" in e]


def test_a_bad_budget_setting_is_said_and_the_defaults_apply(monkeypatch):
    monkeypatch.setenv("GDLAB_ASK_ABOVE_S", "soon")
    at = page({})
    assert_ok(at)
    assert any("GDLAB_ASK_ABOVE_S must be a number of seconds > 0" in e for e in alerts(at, "error"))
    assert charts(at) == 4
    assert Budget() == Budget.from_environment({})


def test_a_sweep_over_the_budget_does_not_run_and_says_what_fits(monkeypatch):
    monkeypatch.setenv("GDLAB_ASK_ABOVE_S", "0.05")
    at = page({"epochs": "2000", "optimizers": "adam", "seed": "104"})  # full-batch Adam: cheap, once
    assert_ok(at)
    at = open_tab(at, "sweep")
    at.get_by_key("sweep").set_value(True).run()
    assert_ok(at)
    [info] = [i for i in alerts(at, "info") if "The sweep runs each optimizer 60 times" in i]
    sweep = estimate_sweep([RunSpec(optimizer="adam", epochs=2000)], 100, 1)
    epochs = sweep.epochs_within(0.05)
    assert f"It fits at {epochs:,} epochs or fewer" in info
    assert charts(at) == 4  # the page's own charts; no sweep
    at.button(key="budget_sweep_epochs").click().run()
    assert_ok(at)
    assert at.session_state["epochs"] == epochs
    assert charts(at) > 4  # the sweep is drawn

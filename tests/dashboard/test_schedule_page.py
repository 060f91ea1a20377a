"""Learning-rate schedules on the page (issue 14 §3): the share-link keys and the sidebar control, the chart
of the step each epoch used (read back and checked against the documented formulas), status texts that
claim no constant-step forecast for a scheduled run, and the guided experiment "A decaying step", whose
numbers are checked against a literal mini-batch loop with the schedule written here."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import design_matrix
from sklearn.datasets import make_regression
from streamlit.testing.v1 import AppTest

import gdcore
from gdcore.dashboard import explain, guided
from gdcore.dashboard.experiment import outlook, prepare
from gdcore.dashboard.settings import DEFAULTS, SCHEDULE_KEYS, parse_query, to_query

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


# ------------------------------------------------------------------ independent references
def blog_xy():
    return make_regression(n_samples=100, n_features=1, noise=20, random_state=42)


def literal_sgd(X, y, alphas, batch, seed=0, w0=1.0, b0=0.0) -> np.ndarray:
    """J(theta_t), t = 0..K: plain SGD, epoch e's batches (np.random.default_rng(seed).permutation) all
    at step alphas[e], gradient -(2/n) A_B^T (y_B - A_B theta)."""
    A = design_matrix(X)
    theta = np.append(np.full(A.shape[1] - 1, w0), b0)
    rng = np.random.default_rng(seed)
    n = len(y)
    losses = [np.mean((y - A @ theta) ** 2)]
    for alpha in alphas:
        order = rng.permutation(n)
        for start in range(0, n, batch):
            rows = order[start : start + batch]
            theta = theta + alpha * 2.0 / len(rows) * A[rows].T @ (y[rows] - A[rows] @ theta)
        losses.append(np.mean((y - A @ theta) ** 2))
    return np.array(losses)


def lstsq_loss(X, y) -> float:
    A = design_matrix(X)
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(np.mean((y - A @ theta) ** 2))


def number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, (pattern, text)
    return float(found.group(1).replace(",", ""))


# ------------------------------------------------------------------ settings and links
def test_a_link_with_a_schedule_round_trips():
    query = {"schedule": "step", "step_step_size": "10", "step_gamma": "0.5", "alpha": "0.1"}
    settings, notices = parse_query(query)
    assert notices == []
    assert settings.schedule == "step"
    assert settings.run_spec("gd").schedule == gdcore.Schedule.of("step", step_size=10, gamma=0.5)
    assert isinstance(dict(settings.schedule_params)["step_step_size"], int)
    assert to_query(settings) == query
    assert parse_query(to_query(settings))[0] == settings


def test_the_default_is_constant_and_old_links_are_unchanged():
    assert DEFAULTS.schedule == "constant"
    assert DEFAULTS.run_spec("gd").schedule.is_constant
    assert "schedule" not in to_query(DEFAULTS)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"schedule": "warmup"}, "schedule must be one of"),
        ({"schedule": "step", "step_gamma": "2"}, "step_gamma must be from"),
        ({"schedule": "step", "step_gamma": "0"}, "step_gamma must be from"),
        ({"schedule": "cosine", "cosine_T_max": "2.5"}, "cosine_T_max must be a whole number"),
        ({"schedule": "linear", "linear_total_iters": "x"}, "linear_total_iters must be a number"),
    ],
)
def test_a_bad_link_value_is_a_notice_and_the_default_is_used(query, fragment):
    settings, notices = parse_query(query)
    assert len(notices) == 1 and fragment in notices[0]
    key = next(k for k in query if k != "schedule" or len(query) == 1)
    if key == "schedule":
        assert settings.schedule == "constant"
    else:
        assert key not in dict(settings.schedule_params)
        assert settings.run_spec("gd").schedule.parameters[key.split("_", 1)[1]] == SCHEDULE_KEYS[key].default


# ------------------------------------------------------------------ texts for a scheduled run
def test_status_texts_claim_no_constant_step_forecast():
    """Full-batch GD, still descending: a constant step gets the exact forecast; the same run with a
    step decay says there is none, names the steps it used, and claims no step-limit verdict."""
    base = replace(DEFAULTS, alpha=0.01, epochs=30)
    data = gdcore.make_data()
    prepared = prepare(data, standardized=False, test_fraction=0.0, split_seed=0)
    for settings, forecast in (
        (base, True),
        (
            replace(base, schedule="step", schedule_params=(("step_step_size", 10), ("step_gamma", 0.5))),
            False,
        ),
    ):
        spec = settings.run_spec("gd")
        run = gdcore.run(data.X, data.y, spec)
        view = outlook(prepared, spec)
        status = explain.describe_status(run, prepared.fit, view)
        assert status.kind == "descending"
        assert ("more epochs at α" in status.text) == forecast
        assert ("no forecast with a learning-rate schedule" in status.text) == (not forecast)
        assert view.has_theory == forecast and (view.forecast is not None) == forecast
    # the steps it names are the schedule's: 0.01 in epoch 1, 0.01 * 0.5**2 in epoch 30
    assert "from 0.01 in epoch 1 to 0.0025 in epoch 30" in status.text
    caption = explain.step_limits_caption({"Gradient descent": view})
    assert "The limits are for a constant step" in caption and "every step is below them" in caption


def test_a_decaying_run_above_the_limit_is_not_told_it_diverges():
    """alpha = 1.5 just above alpha_max = 0.954 (numpy's eigenvalues), times 0.8 every epoch: the loss
    grows for two epochs and then the run converges, and the caption says the largest step is above the limit instead of 'it diverges'."""
    X, y = blog_xy()
    A = design_matrix(X)
    alpha_max = 2.0 / np.linalg.eigvalsh(2.0 / len(y) * A.T @ A).max()
    settings = replace(
        DEFAULTS, alpha=1.5, schedule="step", schedule_params=(("step_step_size", 1), ("step_gamma", 0.8))
    )
    prepared = prepare(gdcore.make_data(), standardized=False, test_fraction=0.0, split_seed=0)
    view = outlook(prepared, settings.run_spec("gd"))
    assert alpha_max < 1.5
    caption = explain.step_limits_caption({"Gradient descent": view})
    assert "it diverges there" not in caption
    assert "the largest step is at or above the limit of Gradient descent" in caption
    run = gdcore.run(prepared.train.X, prepared.train.y, settings.run_spec("gd"))
    assert not run.diverged
    status = explain.describe_status(run, prepared.fit, view)
    assert status.kind == "converged"
    reference = literal_sgd(X, y, 1.5 * 0.8 ** np.arange(100), batch=100)
    assert reference[2] > reference[1] > reference[0]  # the first steps, above the limit, overshoot
    np.testing.assert_allclose(run.loss, reference, rtol=1e-9)


# ------------------------------------------------------------------ the guided experiment
@pytest.fixture(scope="module")
def decay_guide():
    return guided.open_guide("decay", guided.direct_lab())


def test_the_decay_experiment_findings_hold_and_match_a_literal_loop(decay_guide):
    assert all(f.holds for f in decay_guide.findings)
    X, y = blog_xy()
    j_star = lstsq_loss(X, y)
    alpha = decay_guide.variants[0].settings.alpha
    schedules = {
        "constant": [alpha] * 100,
        "inverse_time": [alpha / (1 + 1.0 * e / 10.0) for e in range(100)],  # Keras InverseTimeDecay
        "cosine": [alpha * (1 + math.cos(math.pi * e / 100)) / 2 for e in range(100)],  # T_max 100
    }
    losses = {}
    for variant, finding in zip(decay_guide.variants, decay_guide.findings, strict=True):
        name = variant.settings.schedule
        loss = literal_sgd(X, y, schedules[name], batch=1)
        losses[name] = loss
        swing = 100 * (loss[51:].max() / j_star - 1)
        end = 100 * (loss[-1] / j_star - 1)
        assert number(r"up to \*\*([\d.e+-]+)%\*\*", finding.text) == pytest.approx(
            swing, rel=5e-3
        )  # 3 significant digits
        assert number(r"ends ([\d.e+-]+)% above", finding.text) == pytest.approx(
            end, rel=5e-3
        )  # 3 significant digits
        if name != "constant":
            assert number(r"α from ([\d.]+) in epoch 1", finding.text) == pytest.approx(alpha)
            last = number(r"to ([\d.e+-]+) in epoch 100", finding.text)
            assert last == pytest.approx(schedules[name][-1], rel=5e-3)  # 3 significant digits
    # the lesson itself, from the literal loops: the decaying steps end far closer than the fixed one
    assert losses["inverse_time"][-1] - j_star < 0.01 * (losses["constant"][-1] - j_star)
    assert losses["cosine"][-1] - j_star < 0.01 * (losses["constant"][-1] - j_star)


# ------------------------------------------------------------------ the page
def decode(arrow: bytes) -> pd.DataFrame:
    return pa.ipc.open_stream(arrow).read_all().to_pandas()


def chart_tables(at: AppTest, dataset: str) -> dict[str, pd.DataFrame] | None:
    for chart in at.get("vega_lite_chart"):
        names = [ds.name for ds in chart.proto.datasets]
        if dataset in names:
            json.loads(chart.proto.spec)
            return {ds.name: decode(ds.data.data) for ds in chart.proto.datasets}
    return None


def page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_draws_the_steps_of_a_scheduled_run():
    query = {"schedule": "cosine", "cosine_T_max": "40", "alpha": "0.1", "epochs": "60"}
    at = page(query)
    assert at.session_state["schedule"] == "cosine" and at.session_state["cosine_T_max"] == 40
    tables = chart_tables(at, "steps")
    assert tables is not None, "no step chart"
    steps = tables["steps"]
    expected = [0.1 * (1 + math.cos(math.pi * e / 40)) / 2 for e in range(60)]  # torch's closed form
    np.testing.assert_array_equal(steps["epoch"], np.arange(1, 61))
    np.testing.assert_allclose(steps["alpha"], expected, rtol=1e-12, atol=1e-15)
    # GD's constant-step limit on the blog's data, from numpy's eigenvalues
    X, _ = blog_xy()
    A = design_matrix(X)
    assert tables["limits"]["alpha"].tolist() == pytest.approx(
        [2.0 / np.linalg.eigvalsh(2.0 / 100 * A.T @ A).max()]
    )
    shown = "\n".join(str(c.value) for c in at.caption)
    assert "stepped once per epoch" in shown and "torch.optim.lr_scheduler.CosineAnnealingLR" in shown
    statuses = " ".join(
        str(e.value) for kind in ("success", "info", "warning", "error") for e in at.get(kind)
    )
    assert "more epochs at α" not in statuses
    assert dict(at.query_params) == query


def test_no_step_chart_for_a_constant_step_and_the_control_sets_the_link():
    at = page()
    assert chart_tables(at, "steps") is None
    assert at.selectbox(key="schedule").value == "constant"
    at.selectbox(key="schedule").set_value("step").run()
    assert not at.exception
    assert dict(at.query_params)["schedule"] == "step"
    at.number_input(key="step_step_size").set_value(20).run()
    assert dict(at.query_params)["step_step_size"] == "20"
    steps = chart_tables(at, "steps")["steps"]
    np.testing.assert_allclose(steps["alpha"], 0.01 * 0.1 ** (np.arange(100) // 20))


def test_a_bad_schedule_link_is_a_notice_not_an_error():
    at = page({"schedule": "step", "step_gamma": "7"})
    notices = " ".join(explain.plain_text(str(w.value)) for w in at.warning)
    assert "step_gamma must be from" in notices
    assert at.session_state["step_gamma"] == SCHEDULE_KEYS["step_gamma"].default


def test_the_tabs_work_with_a_schedule_and_say_the_theory_is_for_a_constant_step():
    from conftest import open_tab

    at = page({"schedule": "linear", "linear_start_factor": "0.5", "linear_total_iters": "4", "alpha": "0.1"})
    open_tab(at, "math")
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(explain.plain_text(str(m.value)) for m in at.markdown)
    assert "The prediction is for a constant step α = 0.1" in text
    # the first update's numbers use epoch 1's step, 0.5 * 0.1 (LinearLR's start_factor), not 0.1
    X, y = blog_xy()
    dw = -2.0 / 100 * np.sum(X[:, 0] * (y - X[:, 0] * 1.0))
    first = next(line for line in text.splitlines() if "First update" in line)
    assert f"= 1 - 0.05 \\times ({dw:.2f}) = {1 - 0.05 * dw:.3f}$" in first, first
    for tab in ("sweep", "data", "export"):
        open_tab(at, tab)
        assert not at.exception, (tab, [e.value for e in at.exception])
    code = "\n".join(str(c.value) for c in at.code)
    assert "schedule='linear'" in code and "alpha_at(epoch)" in code


def test_the_sweep_of_a_scheduled_plan_runs_the_schedule_and_says_so():
    from conftest import open_tab

    at = page({"schedule": "exponential", "exponential_gamma": "0.9", "epochs": "40"})
    open_tab(at, "sweep")
    at.toggle(key="sweep").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    captions = "\n".join(str(c.value) for c in at.caption)
    assert "each α on the axis is where its steps start" in captions
    assert "constant step" in captions
    tables = [decode(ds.data.data) for chart in at.get("vega_lite_chart") for ds in chart.proto.datasets]
    sweep = next(t for t in tables if "final_loss" in t.columns)
    X, y = blog_xy()
    for alpha, final in list(zip(sweep["alpha"], sweep["final_loss"], strict=True))[::15]:
        loss = literal_sgd(X, y, alpha * 0.9 ** np.arange(40), batch=100)
        assert final == pytest.approx(loss[-1], rel=1e-9), alpha


def test_the_results_table_names_the_schedule_only_for_a_scheduled_run():
    from gdcore.dashboard.compare import results_table

    data = gdcore.make_data()
    fit = prepare(data, standardized=False, test_fraction=0.0, split_seed=0).fit
    scheduled = {"GD": gdcore.descend(data.X, data.y, schedule="cosine", T_max=50)}
    assert results_table(scheduled, fit)["schedule"].tolist() == ["cosine (T_max=50, eta_min=0)"]
    assert "schedule" not in results_table({"GD": gdcore.descend(data.X, data.y)}, fit).columns


def test_the_report_names_the_schedule():
    from gdcore.dashboard.report import settings_rows

    settings, _ = parse_query({"schedule": "step", "step_step_size": "10"})
    rows = dict(settings_rows(settings))
    assert rows["Learning-rate schedule"] == "step (step_size=10, gamma=0.1), stepped once per epoch"
    assert "Learning-rate schedule" not in dict(settings_rows(DEFAULTS))


def test_the_budget_prices_a_scheduled_linear_run_as_one_update_per_epoch():
    from gdcore.dashboard.budget import run_path

    assert run_path(gdcore.RunSpec(optimizer="momentum"), 100) == "closed form"
    assert run_path(gdcore.RunSpec.of("momentum", schedule="cosine"), 100) == "one update per epoch"
    assert run_path(gdcore.RunSpec.of("gd", schedule="step", batch_size=10), 100) == "mini-batches"


def test_the_step_chart_names_the_limit_only_when_it_draws_it():
    from gdcore.dashboard import charts

    run = gdcore.descend(*blog_xy(), alpha=0.05, schedule="inverse_time")
    table = charts.step_size_table(run)
    np.testing.assert_allclose(table["alpha"], [0.05 / (1 + e / 10) for e in range(100)], rtol=1e-14)
    for limit, drawn in ((0.954, False), (0.3, True)):
        chart = charts.step_size_chart(table, {"Gradient descent": limit}, "Step α per epoch")
        chart.chart.to_dict()  # valid Vega-Lite
        assert len(chart.datasets["limits"]) == int(drawn)
        assert ("red dashed" in json.dumps(chart.vega_lite()["title"], ensure_ascii=False)) == drawn


def test_a_diverged_scheduled_run_names_its_steps_and_the_limit():
    X, y = blog_xy()
    A = design_matrix(X)
    alpha_max = 2.0 / np.linalg.eigvalsh(2.0 / len(y) * A.T @ A).max()
    settings = replace(
        DEFAULTS, alpha=1.5, schedule="exponential", schedule_params=(("exponential_gamma", 0.999),)
    )
    prepared = prepare(gdcore.make_data(), standardized=False, test_fraction=0.0, split_seed=0)
    spec = settings.run_spec("gd")
    run = gdcore.run(prepared.train.X, prepared.train.y, spec)
    status = explain.describe_status(run, prepared.fit, outlook(prepared, spec))
    literal = literal_sgd(X, y, 1.5 * 0.999 ** np.arange(100), batch=100)
    assert run.diverged and literal[-1] > 1e6 * literal[0]  # the literal loop blows up too
    last = 1.5 * 0.999**99
    assert status.kind == "diverged"
    assert f"steps α from 1.5 in epoch 1 to {last:.4g} in epoch 100 (largest 1.5)" in status.text
    assert (
        f"its largest step is at or above Gradient descent's step limit α_max = {alpha_max:.4g}"
        in status.text
    )


@pytest.mark.parametrize("schedule", ["step", "exponential", "inverse_time", "cosine", "linear"])
def test_the_step_chart_title_is_one_line_naming_the_schedule(schedule):
    """Each schedule's step chart names it in a title of one line, and its vertical axis title is short:
    a longer one ('Step α (learning rate), log scale') ran past the 260 px plot and pushed the chart's
    title out of its top (seen in a 1024 px screenshot)."""
    at = page({"schedule": schedule, "batch_size": "8"})  # mini-batch: no alpha_max rule, no subtitle
    titles = []
    for chart in at.get("vega_lite_chart"):
        if "steps" in [ds.name for ds in chart.proto.datasets]:
            spec = json.loads(chart.proto.spec)
            titles.append(spec["title"]["text"] if isinstance(spec["title"], dict) else spec["title"])
            assert len(spec["layer"][0]["encoding"]["y"]["title"]) <= 20, spec["layer"][0]["encoding"]["y"]
    assert len(titles) == 1, titles
    name = gdcore.schedules.SCHEDULES[schedule].display_name.lower()
    assert titles[0] == f"Step α per epoch: {name}"

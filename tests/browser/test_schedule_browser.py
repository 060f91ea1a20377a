"""A learning-rate schedule in headless Chromium (issue 14 §3): a share link with a schedule opens the page
with the schedule chosen in the sidebar, the chart of the step each epoch used drawn under the loss chart,
a status that claims no constant-step forecast, and no exception. Screenshots at 390 and 1440 px go to a
temporary directory (never the repository), to be looked at.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

SHOTS = Path(tempfile.gettempdir()) / "gdlab_schedule_browser"
SCHEDULED = {"schedule": "step", "step_step_size": 25, "step_gamma": 0.5, "alpha": 0.501, "epochs": 100}
TITLE = "Step α per epoch: step decay"


def chart_titled(app, title: str):
    chart = app.charts().filter(has_text=title).first
    chart.scroll_into_view_if_needed()
    chart.locator("svg").first.wait_for()
    return chart


def test_a_schedule_link_draws_the_steps(app_page_at):
    app = app_page_at(1024).open_until_charts(SCHEDULED)
    assert not app.exceptions()
    chart = chart_titled(app, TITLE)
    assert chart.is_visible()
    # the axis is the step's, and it reaches GD's alpha_max = 0.954 (the dashed rule): its top tick is 1
    texts = chart.locator("svg text").evaluate_all("(els) => els.map((e) => e.textContent)")
    labels = {t.strip() for t in texts}
    assert "Step α" in labels and "1" in labels, labels
    assert not any("more epochs at α" in alert for alert in app.alerts()), app.alerts()
    sidebar = app.page.locator("[data-testid='stSidebar']")
    assert "Step decay" in sidebar.inner_text()
    app.assert_no_console_errors()


@pytest.mark.parametrize("width", (390, 1440))
def test_screenshots_at_each_width(app_page_at, width):
    app = app_page_at(width).open_until_charts(SCHEDULED)
    assert not app.exceptions()
    chart_titled(app, TITLE)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = app.screenshot(SHOTS / f"schedule-{width}.png", full_dashboard=True)
    assert path.stat().st_size > 10_000
    assert not app.exceptions()


def test_the_decaying_step_experiment_opens_with_its_step_chart(app_page_at):
    app = app_page_at(1024).open_until_charts({"experiment": "decay"})
    assert not app.exceptions()
    app.page.get_by_text("A decaying step").first.wait_for()
    # the first variant is the fixed step: no step chart; the 1/t variant draws one
    app.page.get_by_role("button", name="Batch 1, 1/t decay").click()
    chart = chart_titled(app, "Step α per epoch: inverse time (1/t)")
    assert chart.is_visible() and not app.exceptions()
    SHOTS.mkdir(parents=True, exist_ok=True)
    app.screenshot(SHOTS / "decay-experiment-1024.png", full_dashboard=True)
    app.assert_no_console_errors()

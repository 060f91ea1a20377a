"""Curves and ridge in headless Chromium (issue 14): a polynomial fit on curve data draws its curve (a line
through the grid's points, not two ends), which the Epoch slider and Play move with no rerun; a ridge run
says "ridge" in its status and loss chart; neither shows an exception. Screenshots at 390, 1024 and 1440 px
go to a temporary directory (never the repository), to be looked at.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from tests.browser.test_browser_widths import assert_reads_fully, sidebar_shown

SHOTS = Path(tempfile.gettempdir()) / "gdlab_curves_browser"
WIDTHS = (390, 1024, 1440)
CURVE = {
    "source": "curve",
    "curve": "sine",
    "degree": 5,
    "standardize": "true",
    "alpha": 0.1,
    "epochs": 500,
    "test_fraction": 0.3,
}
RIDGE = {"l2": 0.5, "alpha": 0.1, "epochs": 300}
EPOCH_LABEL = re.compile(r"^epoch (\d[\d,]*):")


def chart_titled(app, title: str):
    chart = app.charts().filter(has_text=title).first
    chart.scroll_into_view_if_needed()
    chart.locator("svg").first.wait_for()
    return chart


def shown_epoch(chart) -> int:
    texts = chart.locator("svg text").evaluate_all("(els) => els.map((e) => e.textContent || '')")
    [epoch] = [int(m.group(1).replace(",", "")) for t in texts if (m := EPOCH_LABEL.match(t.strip()))]
    return epoch


def line_vertices(chart) -> list[int]:
    """How many vertices each drawn line of the chart has (Vega's SVG paths: M x,y L x,y ...)."""
    paths = chart.locator("path[aria-roledescription='line mark'], g.mark-line path").evaluate_all(
        "(els) => els.map((e) => (e.getAttribute('d') || '').split(/[ML]/).filter((s) => s.trim()).length)"
    )
    return paths


def set_slider(chart, value: int) -> None:
    chart.locator("input[type='range']").first.evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", value
    )


def test_a_curve_fit_draws_and_moves_its_polynomial(app_page_at):
    app = app_page_at(1024).open_until_charts(CURVE)
    assert not app.exceptions()
    chart = chart_titled(app, "The fitted polynomial of degree 5")
    # the optimum's curve (200 grid points) and the run's (60) are drawn as curves, not 2-point lines
    vertices = line_vertices(chart)
    assert any(v >= 150 for v in vertices) and any(50 <= v <= 60 for v in vertices), vertices
    runs_before = app.reruns()
    set_slider(chart, 0)
    app.page.wait_for_timeout(500)
    assert shown_epoch(chart) == 0
    at_start = chart.screenshot()
    set_slider(chart, 500)
    app.page.wait_for_timeout(500)
    assert shown_epoch(chart) == 500
    assert chart.screenshot() != at_start, "scrubbing moves the curve"
    set_slider(chart, 0)
    chart.locator("select").first.select_option(label="whole run in 5 s")
    chart.locator("input[type='checkbox']").first.check()
    app.page.wait_for_timeout(1500)
    assert shown_epoch(chart) > 0, "play moves the curve"
    chart.locator("input[type='checkbox']").first.uncheck()
    assert app.reruns() == runs_before, "scrubbing and playing are client-side"
    app.open_tab("Data & weights")
    sweep = chart_titled(app, "Train and test MSE per degree")
    assert sweep.is_visible() and not app.exceptions()
    app.assert_no_console_errors()


def test_a_ridge_run_says_ridge_and_draws_without_an_exception(app_page_at):
    app = app_page_at(1024).open_until_charts(RIDGE)
    assert not app.exceptions()
    assert any("against the ridge minimum" in alert for alert in app.alerts()), app.alerts()
    assert "Error (MSE + λ‖w‖²)" in app.metrics()
    loss = chart_titled(app, "Loss per epoch")
    assert "the ridge minimum" in loss.inner_text()
    # the landscape shows the bowl without the penalty (grey dashed) and both optima, named
    bowl = chart_titled(app, "Loss landscape")
    words = bowl.locator("svg text").evaluate_all("(els) => els.map((e) => e.textContent || '')")
    assert {"optimum", "λ = 0", "start"} <= {w.strip() for w in words}, words
    SHOTS.mkdir(parents=True, exist_ok=True)
    bowl.screenshot(path=str(SHOTS / "ridge-landscape-1024.png"))
    app.assert_no_console_errors()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "params"), [("curve", CURVE), ("ridge", {**RIDGE, "degree": 3})])
def test_screenshots_at_each_width(app_page_at, width, name, params):
    app = app_page_at(width).open_until_charts(params)
    assert not app.exceptions()
    if name == "curve":
        app.open_tab("Data & weights")
    assert_reads_fully(app, f"the {name} page", "stMain")  # the curve chart, the degree sweep's words
    path = app.screenshot(SHOTS / f"{name}-{width}.png", full_dashboard=True)
    assert path.stat().st_size > 10_000
    sidebar_shown(app)  # opened on a phone, where it starts collapsed
    assert_reads_fully(app, "the sidebar (curve controls)", "stSidebar")
    assert not app.exceptions()

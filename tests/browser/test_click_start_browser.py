"""Click on the loss landscape to set the start (issue 12 §1), in headless Chromium at 1024 px: the
click's point (read off the chart's own axis labels) becomes Start w and Start b, the run restarts there
(its start mark is drawn at that point, the share link carries it); a click beyond the fields' range is
clamped with a notice; and the play head's timer, which drives the animation, reruns nothing. The
click grid is made when the pointer first comes over the plot (a tap on a touch screen too).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from gdcore.dashboard.charts import CLICK_CELLS
from gdcore.dashboard.charts import COLORS as CHART_COLORS

NUMBER = re.compile(r"^[−-]?[\d,.]+[kM]?$")


def landscape(app):
    chart = app.charts().filter(has_text="Loss landscape").first
    chart.scroll_into_view_if_needed()
    app.page.wait_for_timeout(500)
    return chart


def axis_maps(chart) -> tuple:
    """(pixel -> w, pixel -> b) fitted to the positions of the axes' numeric labels (page pixels)."""
    labels = chart.evaluate(
        """(el) => [...el.querySelectorAll('svg g.role-axis')].map((axis) => [...axis.querySelectorAll(
             'g.role-axis-label text')].map((t) => { const r = t.getBoundingClientRect();
             return [t.textContent, r.x + r.width / 2, r.y + r.height / 2]; }))"""
    )
    maps = []
    for texts in labels:
        rows = [(float(t.replace("−", "-").replace(",", "")), x, y) for t, x, y in texts if NUMBER.match(t)]
        if len(rows) < 4:
            continue
        horizontal = abs(rows[-1][1] - rows[0][1]) > abs(rows[-1][2] - rows[0][2])
        # Inner labels only: those near an end are flush with it (labelFlush), not centred on their tick.
        (v0, x0, y0), (v1, x1, y1) = rows[1], rows[-2]
        p0, p1 = (x0, x1) if horizontal else (y0, y1)
        maps.append((horizontal, lambda p, v0=v0, v1=v1, p0=p0, p1=p1: v0 + (p - p0) * (v1 - v0) / (p1 - p0)))
    [to_w] = {m for h, m in maps if h} or [None]
    [to_b] = {m for h, m in maps if not h} or [None]
    return to_w, to_b


# The click grid's layer in a landscape element `el`: the rect marks with more than one item (the probe
# under it is one rectangle); undefined before the pointer first comes over the plot.
CELL_GROUP = "[...el.querySelectorAll('svg g.mark-rect.role-mark')].find((g) => g.childElementCount > 1)"


def cell_count(chart) -> int:
    """The click grid's cells drawn on the landscape now."""
    return chart.evaluate(f"(el) => {CELL_GROUP}?.childElementCount ?? 0")


def plot_box(chart) -> dict:
    """The plot area: the click grid's layer (it tiles exactly what the axes show), made by moving the
    pointer over the plot first, as any click does."""
    frame = chart.locator("svg").first.bounding_box()
    chart.page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    chart.page.wait_for_function(f"(el) => {CELL_GROUP} !== undefined", arg=chart.element_handle())
    box = chart.evaluate(
        f"""(el) => {{ const g = {CELL_GROUP}; const r = g.getBoundingClientRect();
             return {{x: r.x, y: r.y, width: r.width, height: r.height, cells: g.childElementCount}}; }}"""
    )
    assert box["cells"] == CLICK_CELLS**2
    return box


def start_mark(chart) -> tuple[float, float]:
    """The centre (page pixels) of the landscape's start mark (the dark circle)."""
    found = chart.evaluate(
        """(el, fill) => [...el.querySelectorAll('svg g.mark-symbol path')].filter((p) =>
             (p.getAttribute('fill') || '').toLowerCase() === fill.toLowerCase()).map((p) => {
             const r = p.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })""",
        CHART_COLORS["start"],
    )
    assert len(found) == 1, found
    return tuple(found[0])


def test_a_click_sets_the_start_and_the_run_restarts_there(app_page_at):
    app = app_page_at(1024).open_until_charts()
    assert (app.number_value("w0"), app.number_value("b0")) == ("1.00", "0.00")
    chart = landscape(app)
    assert cell_count(chart) == 0, "the click grid is made when the pointer first comes over the plot"
    to_w, to_b = axis_maps(chart)
    box = plot_box(chart)
    x, y = box["x"] + 0.33 * box["width"], box["y"] + 0.27 * box["height"]
    want_w, want_b = to_w(x), to_b(y)
    cell_w = abs(to_w(box["x"] + box["width"] / CLICK_CELLS) - to_w(box["x"]))
    cell_b = abs(to_b(box["y"] + box["height"] / CLICK_CELLS) - to_b(box["y"]))
    app.rerun_after(lambda: app.page.mouse.click(x, y))
    w0, b0 = float(app.number_value("w0")), float(app.number_value("b0"))
    # the centre of the cell clicked, rounded to the fields' 2 decimals
    assert abs(w0 - want_w) <= cell_w / 2 + 0.01 and abs(b0 - want_b) <= cell_b / 2 + 0.01, (
        w0,
        want_w,
        b0,
        want_b,
    )
    assert (w0, b0) != (1.0, 0.0)
    assert float(app.query()["w0"]) == w0 and float(app.query()["b0"]) == b0, "the share link carries it"
    assert any("Start set from your click" in text for text in app.alerts())
    # The run starts there: its start mark, read through the redrawn chart's own axes.
    chart = landscape(app)
    to_w, to_b = axis_maps(chart)
    sx, sy = start_mark(chart)
    box = plot_box(chart)
    tolerance_w = 2 * abs(to_w(box["x"] + 1) - to_w(box["x"]))  # two pixels
    tolerance_b = 2 * abs(to_b(box["y"] + 1) - to_b(box["y"]))
    assert abs(to_w(sx) - w0) <= tolerance_w and abs(to_b(sy) - b0) <= tolerance_b
    app.assert_no_console_errors()


def test_the_same_point_clicked_again_after_typing_sets_it_again(app_page_at):
    """After a click, the start typed back to the default (the same picture) and the same pixel clicked
    again: the click is handled again (a kept selection would make it no change, and no rerun)."""
    app = app_page_at(1024).open_until_charts()
    box = plot_box(landscape(app))
    x, y = box["x"] + 0.33 * box["width"], box["y"] + 0.27 * box["height"]
    app.rerun_after(lambda: app.page.mouse.click(x, y))
    clicked = (app.number_value("w0"), app.number_value("b0"))
    app.type_number("w0", 1)
    app.type_number("b0", 0)
    assert plot_box(landscape(app)) == box, "the same picture as before the click"
    app.rerun_after(lambda: app.page.mouse.click(x, y))
    assert (app.number_value("w0"), app.number_value("b0")) == clicked
    app.assert_no_console_errors()


def test_a_click_on_a_three_feature_landscape_sets_only_the_drawn_weight_and_b(app_page_at):
    app = app_page_at(1024).open_until_charts({"features": "3"})
    chart = landscape(app)
    to_w, to_b = axis_maps(chart)
    box = plot_box(chart)
    x, y = box["x"] + 0.63 * box["width"], box["y"] + 0.37 * box["height"]
    want_w, want_b = to_w(x), to_b(y)
    cell_w = abs(to_w(box["x"] + box["width"] / CLICK_CELLS) - to_w(box["x"]))
    cell_b = abs(to_b(box["y"] + box["height"] / CLICK_CELLS) - to_b(box["y"]))
    app.rerun_after(lambda: app.page.mouse.click(x, y))
    first, second, third = map(float, app.query()["w0_each"].split(","))
    assert (second, third) == (1.0, 1.0), "the weights not drawn keep their start"
    assert abs(first - want_w) <= cell_w / 2 + 0.01
    assert abs(float(app.number_value("b0")) - want_b) <= cell_b / 2 + 0.01
    assert app.number_value("w0") == "1.00"
    sidebar = app.page.get_by_test_id("stSidebar")
    assert sidebar.get_by_text("Start per weight").count() == 1
    app.page.screenshot(path="/tmp/h/cbr/three-features.png")
    app.assert_no_console_errors()


def test_a_click_beyond_the_range_is_clamped_with_a_notice(app_page_at):
    app = app_page_at(1024).open_until_charts({"w0": "-95"})
    chart = landscape(app)
    to_w, _ = axis_maps(chart)
    box = plot_box(chart)
    x = box["x"] + 0.02 * box["width"]
    assert to_w(x) < -100, "the view reaches past the field's range"
    app.rerun_after(lambda: app.page.mouse.click(x, box["y"] + box["height"] / 2))
    assert float(app.number_value("w0")) == -100.0
    assert any("outside -100 to 100, so -100 is used" in text for text in app.alerts())
    app.assert_no_console_errors()


def test_a_first_tap_on_a_touch_screen_sets_the_start(app_page_at):
    """A phone has no pointer hovering before the tap: the tap itself makes the grid and lands on it."""
    app = app_page_at(390, 844, has_touch=True, is_mobile=True).open_until_charts()
    chart = landscape(app)
    assert cell_count(chart) == 0
    frame = chart.locator("svg").first.bounding_box()
    x, y = frame["x"] + 0.5 * frame["width"], frame["y"] + 0.45 * frame["height"]
    app.rerun_after(lambda: app.page.touchscreen.tap(x, y))
    assert any("Start set from your click" in text for text in app.alerts())
    assert (app.number_value("w0"), app.number_value("b0")) != ("1.00", "0.00")
    app.assert_no_console_errors()


def test_playing_reruns_nothing_while_clicks_are_listened_to(app_page_at):
    app = app_page_at(1024).open_until_charts()
    chart = landscape(app)
    before = app.reruns()
    play = chart.locator("input[type='checkbox']").first
    play.check()
    app.page.wait_for_timeout(3000)  # 30 timer ticks
    play.uncheck()
    app.page.wait_for_timeout(500)
    assert app.reruns() == before, "the timer selection must not rerun the script"
    app.assert_no_console_errors()


@pytest.mark.parametrize("width", [390, 1440])
def test_single_step_at_other_widths(app_page_at, width):
    """Single step as a user meets it on a phone and a desktop: the arrows and the equations show."""
    app = app_page_at(width).open_until_charts()
    app.switch("single_step")
    app.rerun_after(lambda: app.widget("step_forward").locator("button").click())
    assert app.number_value("step_epoch") == "1"
    chart = landscape(app)
    assert chart.locator("svg text").filter(has_text="steepest descent").count() == 1
    assert app.page.get_by_text("4. Update").count() == 1
    app.page.screenshot(path=f"/tmp/h/cbr/step-{width}.png", full_page=False)
    app.assert_no_console_errors()


DOCS = Path(__file__).resolve().parents[2] / "docs"
STEP_SHOTS = {  # README's single-step sequence: (file, link, epoch)
    "single-step-1.png": ({"alpha": "0.3", "epochs": "20"}, 0),
    "single-step-2.png": ({"alpha": "0.3", "epochs": "20"}, 1),
    "single-step-3.png": ({"optimizers": "momentum", "alpha": "0.1", "epochs": "30"}, 3),
}


def stepped_region(app, path: Path) -> bytes:
    """A screenshot of the main column from the single-step toggle to the last line of the equations,
    the viewport first grown to the whole page (Streamlit scrolls inside its main area)."""
    height = app.page.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    app.page.set_viewport_size({"width": app.page.viewport_size["width"], "height": int(height) + 40})
    app.page.wait_for_timeout(1500)  # the charts re-render at the new size
    top = app.widget("single_step").bounding_box()
    bottom = app.page.get_by_text("The run's epoch").last.bounding_box()
    main = app.page.get_by_test_id("stMainBlockContainer").bounding_box()
    clip = {"x": main["x"], "y": top["y"] - 12, "width": main["width"]}
    clip["height"] = bottom["y"] + bottom["height"] + 12 - clip["y"]
    return app.page.screenshot(path=str(path), clip=clip)


@pytest.mark.parametrize("name", list(STEP_SHOTS))
def test_single_step_pictures(app_page_at, name):
    """Single step at 1024 px: the picture changes from one epoch to the next, the epoch is written on
    the chart, and with `UPDATE_DOCS_SCREENSHOT=1` (or a missing file) it is saved in docs/ for the README."""
    link, epoch = STEP_SHOTS[name]
    app = app_page_at(1024, 1400).open_until_charts(link)
    app.switch("single_step")
    for _ in range(epoch):
        app.rerun_after(lambda: app.widget("step_forward").locator("button").click())
    chart = landscape(app)
    labels = chart.locator("svg text").evaluate_all("(els) => els.map((e) => e.textContent)")
    assert f"epoch {epoch}" in labels
    shot = Path("/tmp/h/cbr") / name
    stepped_region(app, shot)
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1" or not (DOCS / name).exists():
        shutil.copyfile(shot, DOCS / name)
    app.assert_no_console_errors()

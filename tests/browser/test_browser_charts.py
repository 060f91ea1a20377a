"""Issue 13's chart defects as a user sees them: headless Chromium against `streamlit run`, at 390, 1024
and 1440 px wide.

The charts are read from the SVG Vega draws (axis labels and their positions, titles, legends, the
fit chart's label), and compared with gdcore-independent numbers: scikit-learn's data and gradient
descent stepped in a plain loop. Screenshots of each chart go to artifacts/screenshots/charts/.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.datasets import make_regression

import gdcore
from gdcore.dashboard import charts

WIDTHS = (390, 1024, 1440)
NUMBER = re.compile(r"^−?\d{1,3}(,\d{3})*(\.\d+)?$|^−?\d(\.\d{1,2})?e[+−]\d+$")


# ---------------------------------------------------------------- reading the page
def open_at(new_app_page, width: int, params: dict | None = None, height: int = 900):
    app = new_app_page()
    app.page.set_viewport_size({"width": width, "height": height})
    return app.open_until_charts(params)


def chart_titled(app, start: str):
    """The chart whose title starts with `start` (scrolled into view, drawn)."""
    for chart in app.charts().all():
        title = chart.locator(".role-title-text").first
        if title.count() and title.text_content().startswith(start):
            chart.scroll_into_view_if_needed()
            chart.locator("svg").first.wait_for()
            return chart
    raise AssertionError(f"no chart titled {start!r}: {[c.inner_text()[:40] for c in app.charts().all()]}")


def number(label: str) -> float:
    return float(label.replace("−", "-").replace(",", ""))


def axis(chart, which: str) -> list[tuple[str, float]]:
    """(label, pixel centre) of the X or Y axis' tick labels, as drawn."""
    return chart.evaluate(
        """(chart, which) => {
             const group = [...chart.querySelectorAll('g.role-axis')]
               .find(g => (g.getAttribute('aria-label') || '').startsWith(which + '-axis'));
             return [...group.querySelectorAll('.role-axis-label text')].map(t => {
               const r = t.getBoundingClientRect();
               return [t.textContent, which === 'X' ? r.x + r.width / 2 : r.y + r.height / 2];
             });
           }""",
        which,
    )


def pixels_per_unit(chart, which: str) -> float:
    """The axis' scale as drawn: the slope of tick position against tick value (least squares)."""
    ticks = axis(chart, which)
    values = np.array([number(label) for label, _ in ticks])
    pixels = np.array([p for _, p in ticks])
    assert len(values) >= 3, ticks
    slope, _ = np.polyfit(values, pixels, 1)
    return abs(slope)


def plot_box(chart) -> dict:
    """The data rectangle (the first background of the chart's scene), in page pixels."""
    return chart.evaluate(
        """chart => { const r = chart.querySelector('g.role-frame path.background').getBoundingClientRect();
                      return {left: r.x, right: r.x + r.width, top: r.y, bottom: r.y + r.height}; }"""
    )


def texts(chart, css: str) -> list[str]:
    return [t.strip() for t in chart.locator(css).all_text_contents()]


def blog_gd(alpha=0.01, epochs=100, features=1):
    """The blog's data from scikit-learn and gradient descent in a plain loop: rows (w..., b)."""
    X, y = make_regression(n_samples=100, n_features=features, noise=20.0, bias=0.0, random_state=42)
    X = X.reshape(100, features)
    A = np.column_stack([X, np.ones(100)])
    theta = np.append(np.ones(features), 0.0)
    rows = [theta]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            theta = theta + alpha * 2.0 / 100 * A.T @ (y - A @ theta)
            rows.append(theta)
    return np.array(rows)


# ---------------------------------------------------------------- item 2: equal scale, paths that leave
@pytest.mark.parametrize("width", WIDTHS)
def test_the_landscape_is_drawn_at_equal_scale(new_app_page, screenshots, width):
    """The blog's bowl is nearly round (condition number 1.35): one unit of w and one of b must be the
    same length on screen, or the round bowl is drawn as an ellipse."""
    app = open_at(new_app_page, width)
    chart = chart_titled(app, "Loss landscape")
    x_ppu, y_ppu = pixels_per_unit(chart, "X"), pixels_per_unit(chart, "Y")
    assert x_ppu == pytest.approx(y_ppu, rel=0.02), (x_ppu, y_ppu)
    box = plot_box(chart)
    assert box["bottom"] - box["top"] >= 200, box  # a plot, not a strip
    chart.screenshot(path=str(screenshots / "charts" / f"landscape-{width}.png"))
    app.assert_no_console_errors()


@pytest.mark.parametrize("width", (390, 1440))
def test_the_contours_are_the_level_sets_of_the_mse_where_the_axes_say(new_app_page, width):
    """The level sets are drawn by a map of their own (a projection, not the axes' scales): each closed
    one must be the literal MSE's ellipse, read through the axes' ticks. An ellipse J(w, b) = J* + h is
    centred on the least-squares optimum, and spans 2 sqrt(h (H^-1)_ww) in w and 2 sqrt(h (H^-1)_bb)
    in b (H = A^T A / n: J - J* = (z - z*)^T H (z - z*))."""
    app = open_at(new_app_page, width)
    chart = chart_titled(app, "Loss landscape")
    box = plot_box(chart)
    # The end labels are pulled inside the plot (labelFlush): read the others.
    x_ticks, y_ticks = axis(chart, "X")[1:-1], axis(chart, "Y")[1:-1]
    x_fit = np.polyfit([p for _, p in x_ticks], [number(t) for t, _ in x_ticks], 1)  # pixel -> w
    y_fit = np.polyfit([p for _, p in y_ticks], [number(t) for t, _ in y_ticks], 1)  # pixel -> b
    drawn = chart.evaluate(
        """chart => [...chart.querySelectorAll('g.mark-shape path')].map(p => {
             const r = p.getBoundingClientRect();
             return {left: r.x, right: r.x + r.width, top: r.y, bottom: r.y + r.height}; })"""
    )
    inside = [r for r in drawn if r["left"] > box["left"] + 1 and r["right"] < box["right"] - 1]
    inside = [r for r in inside if r["top"] > box["top"] + 1 and r["bottom"] < box["bottom"] - 1]
    assert len(inside) >= 3, (drawn, box)  # the blog's optimum is well inside: its small ellipses are whole
    X, y = make_regression(n_samples=100, n_features=1, noise=20.0, bias=0.0, random_state=42)
    A = np.column_stack([X, np.ones(100)])
    (w_star, b_star), *_ = np.linalg.lstsq(A, y, rcond=None)
    H_inv = np.linalg.inv(A.T @ A / 100)
    for r in inside:
        w_lo, w_hi = sorted(np.polyval(x_fit, [r["left"], r["right"]]))
        b_lo, b_hi = sorted(np.polyval(y_fit, [r["bottom"], r["top"]]))
        half_w, half_b = (w_hi - w_lo) / 2, (b_hi - b_lo) / 2
        one_pixel = abs(x_fit[0])  # units per pixel (the stroke and the bounding box are read to ~1 px)
        assert (w_lo + w_hi) / 2 == pytest.approx(w_star, abs=2 * one_pixel), r
        assert (b_lo + b_hi) / 2 == pytest.approx(b_star, abs=2 * one_pixel), r
        h = half_w**2 / H_inv[0, 0]  # the level, from the ellipse's width; its height must agree
        assert half_b == pytest.approx(np.sqrt(h * H_inv[1, 1]), abs=2 * one_pixel), (r, h)
    app.assert_no_console_errors()


@pytest.mark.parametrize("width", (390, 1440))
def test_a_path_that_leaves_the_landscape_gets_an_arrow_at_the_edge(new_app_page, screenshots, width):
    """alpha = 10: the label names the last epoch seen inside the picture; the literal loop's point at
    that epoch is inside the plotted region and the next one is outside."""
    app = open_at(new_app_page, width, {"alpha": 10})
    chart = chart_titled(app, "Loss landscape")
    chart.screenshot(path=str(screenshots / "charts" / f"landscape-alpha10-{width}.png"))
    labels = [t for t in texts(chart, "text") if t.startswith("off the chart after epoch")]
    assert labels, texts(chart, "text")
    epoch = int(labels[0].rsplit(" ", 1)[1].replace(",", ""))
    path = blog_gd(alpha=10.0)
    box = plot_box(chart)
    x_ticks, y_ticks = axis(chart, "X"), axis(chart, "Y")
    x_fit = np.polyfit([number(t) for t, _ in x_ticks], [p for _, p in x_ticks], 1)
    y_fit = np.polyfit([number(t) for t, _ in y_ticks], [p for _, p in y_ticks], 1)

    def on_screen(w, b):
        x, y = np.polyval(x_fit, w), np.polyval(y_fit, b)
        return box["left"] <= x <= box["right"] and box["top"] <= y <= box["bottom"]

    assert on_screen(*path[epoch]) and not on_screen(*path[epoch + 1]), (epoch, path[epoch : epoch + 2])
    notes = app.page.get_by_test_id("stCaptionContainer").all_inner_texts()
    assert any("went off the chart" in n for n in notes), notes
    app.assert_no_console_errors()


# ---------------------------------------------------------------- item 3: the epoch slider
def fit_label(chart) -> str:
    [label] = [t for t in texts(chart, "text") if t.startswith("epoch ")]
    return label


def set_range(slider, value: int) -> None:
    slider.evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", value
    )


def test_the_fit_slider_reads_and_moves_in_epochs(new_app_page, screenshots):
    app = open_at(new_app_page, 1024, {"epochs": 5000})
    chart = chart_titled(app, "Data and fitted line")
    slider = chart.locator("form.vega-bindings input[type='range']")
    data = gdcore.make_data()
    run = gdcore.descend(data.X, data.y, epochs=5000)
    assert (slider.get_attribute("min"), slider.get_attribute("max")) == ("0", "5000")
    assert slider.input_value() == str(run.best_epoch)
    assert fit_label(chart).startswith(f"epoch {run.best_epoch:,}:")
    slider.focus()
    app.page.keyboard.press("Home")
    assert fit_label(chart).startswith("epoch 0:  w = 1.000,  b = 0.000")
    app.page.keyboard.press("ArrowRight")
    path = blog_gd(epochs=5)
    assert slider.input_value() == "1"
    expected = f"epoch 1:  w = {path[1, 0]:,.3f},  b = {path[1, 1]:,.3f}".replace("-", "−")  # d3's minus
    assert fit_label(chart).startswith(expected)
    app.page.keyboard.press("End")
    assert fit_label(chart).startswith("epoch 5,000:")
    drawn = charts.sample_epochs(5001, charts.FIT_FRAMES, [run.best_epoch])
    for wanted in (1234, 2500, 4999):
        set_range(slider, wanted)
        nearest = int(drawn[np.argmin(np.abs(drawn - wanted) + 0.5 * (drawn > wanted))])
        assert fit_label(chart).startswith(f"epoch {nearest:,}:"), (wanted, nearest, fit_label(chart))
        epoch_bind = chart.locator("form.vega-bindings .vega-bind:has(input[type='range'])")
        assert epoch_bind.inner_text().strip().endswith(str(wanted))
    chart.screenshot(path=str(screenshots / "charts" / "fit-slider-5000.png"))
    app.assert_no_console_errors()


# ---------------------------------------------------------------- items 4-6: readable axes and series
def test_a_diverging_run_has_readable_parameter_and_loss_ticks(new_app_page, screenshots):
    app = open_at(new_app_page, 1024, {"alpha": 10})
    for title in ("Parameters per epoch", "Loss per epoch"):
        chart = chart_titled(app, title)
        labels = [label for label, _ in axis(chart, "Y")]
        assert len(labels) >= 3, labels
        for label in labels:
            assert NUMBER.match(label) and len(label) <= 9, (title, labels)
        chart.screenshot(path=str(screenshots / "charts" / f"{title.split()[0].lower()}-alpha10.png"))
    app.assert_no_console_errors()


def test_the_loss_axis_has_a_1000_tick(new_app_page):
    app = open_at(new_app_page, 1024)
    labels = [label for label, _ in axis(chart_titled(app, "Loss per epoch"), "Y")]
    assert "1,000" in labels and all(number(t) / 10 ** int(np.log10(number(t))) in (1, 2, 5) for t in labels)


def test_diabetes_parameters_each_have_a_legend_entry_that_fits(new_app_page, screenshots):
    app = open_at(new_app_page, 390, {"source": "diabetes"})
    chart = chart_titled(app, "Parameters per epoch")
    labels = chart.evaluate(
        """chart => [...chart.querySelectorAll('.role-legend-label text')].map(t => {
             const r = t.getBoundingClientRect(); return [t.textContent, r.x + r.width]; })"""
    )
    right = chart.bounding_box()["x"] + chart.bounding_box()["width"]
    names = [name for name, _ in labels]
    assert names == [
        "w[age]",
        "w[sex]",
        "w[bmi]",
        "w[bp]",
        "w[s1]",
        "w[s2]",
        "w[s3]",
        "w[s4]",
        "w[s5]",
        "w[s6]",
        "b",
    ]
    assert all(edge <= right for _, edge in labels), labels
    chart.screenshot(path=str(screenshots / "charts" / "parameters-diabetes-390.png"))


def test_a_log_epoch_axis_spreads_the_short_run(new_app_page, screenshots):
    app = open_at(new_app_page, 1024, {"optimizers": "momentum,adam", "epochs": 5000, "stop": "true"})
    chart = chart_titled(app, "Loss per epoch")
    before = [label for label, _ in axis(chart, "X")]
    app.switch("log_epochs")
    chart = chart_titled(app, "Loss per epoch")
    ticks = axis(chart, "X")
    assert [label for label, _ in ticks] == ["0", "1", "10", "100", "1,000"], (before, ticks)
    # Momentum stops at about epoch 108 (of 5,000): on the log axis its run fills over half the width.
    positions = dict(ticks)
    assert (positions["100"] - positions["0"]) > 0.5 * (positions["1,000"] - positions["0"])
    chart.screenshot(path=str(screenshots / "charts" / "loss-log-epochs.png"))
    app.assert_no_console_errors()


# ---------------------------------------------------------------- item 20: titles on a phone
@pytest.mark.parametrize(
    "params", [{}, {"source": "diabetes", "standardize": "true", "optimizers": "gd,momentum,nesterov,adam"}]
)
def test_chart_titles_and_legends_fit_a_phone(new_app_page, screenshots, params):
    app = open_at(new_app_page, 390, params)
    for k, chart in enumerate(app.charts().all()[:4]):
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        parts = chart.evaluate(
            """chart => [...chart.querySelectorAll('.role-title-text, .role-title-subtitle, .role-legend-label text, .role-legend-title')]
                 .map(t => { const r = t.getBoundingClientRect(); return [t.textContent, r.x, r.x + r.width]; })"""
        )
        assert parts, k
        for text, left, right in parts:
            assert "…" not in text, (k, text)
            assert box["x"] - 1 <= left and right <= box["x"] + box["width"] + 1, (k, text, left, right, box)
        chart.screenshot(path=str(screenshots / "charts" / f"phone-{len(params)}-{k}.png"))
    app.assert_no_console_errors()


# ---------------------------------------------------------------- item 21: keyboard
def test_one_tab_stop_skips_the_chart_toolbars(new_app_page):
    """The charts' toolbars hold 3-4 buttons each (Streamlit gives no way to leave them out of the tab
    order); a link after the axis toggles goes past all of them."""
    app = open_at(new_app_page, 1440)
    page = app.page
    app.widget("log_epochs").locator("input").first.focus()
    stops = []
    for _ in range(3):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.textContent || document.activeElement.ariaLabel"))
        if stops[-1].startswith("Skip past the charts"):
            break
    assert stops[-1].startswith("Skip past the charts"), stops
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    after = page.evaluate(
        """() => { const charts = [...document.querySelectorAll("[data-testid='stVegaLiteChart']")];
                   const last = charts[3]; const focused = document.activeElement;
                   return [!!focused.closest("[data-testid='stElementToolbar']"),
                           !!(last.compareDocumentPosition(focused) & Node.DOCUMENT_POSITION_FOLLOWING),
                           focused.outerHTML.slice(0, 80)]; }"""
    )
    assert after[0] is False and after[1] is True, after

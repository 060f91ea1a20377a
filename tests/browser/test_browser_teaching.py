"""Issue 12 in a real browser: guided experiments, the blog's code on the charts, the results table's CSV,
a chart saved as PNG, and the HTML report downloaded, opened with no network, and its charts saved as
SVG and PNG. Screenshots at 390, 1024 and 1440 px go to artifacts/screenshots/ (ignored by git)."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

import gdcore
from gdcore.dashboard import guided
from gdcore.dashboard.settings import to_query

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SEED_BLOG_BUG_LINE = "Best epoch: 1, Error: 213166.221, Weights: -0.41, Bias: -0.233"
WIDTHS = (390, 1024, 1440)


@pytest.fixture(scope="module")
def guides():
    lab = guided.direct_lab()
    return {slug: guided.open_guide(slug, lab) for slug in ("cliff", "ravine", "blog-bug")}


def panel(app):
    return app.page.locator(".st-key-experiment_panel")


def assert_fits(locator, width: int) -> None:
    """The element lies within the window and nothing inside it scrolls sideways."""
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (box, width)
    inner = locator.evaluate("el => el.scrollWidth - el.clientWidth")
    assert inner <= 1, f"{inner} px of it overflow at {width} px"


def query(app) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(app.page.url).query))


def test_a_link_opens_an_experiment_and_its_buttons_set_the_controls(app_page, guides, screenshots):
    cliff = guides["cliff"]
    app = app_page.open_until_charts({"experiment": "cliff"})
    panel(app).wait_for()
    text = panel(app).inner_text()
    assert f"Experiment 3 of {len(guided.EXPERIMENTS)}: Too big a step" in text
    assert "diverges" in text and "cliff is at α_max" in text
    assert query(app) == to_query(cliff.variants[0].settings) | {"experiment": "cliff"}
    assert any("Diverged" in alert for alert in app.alerts())
    below = cliff.variants[1]
    app.rerun_after(lambda: panel(app).get_by_role("button", name=below.label).click())
    assert app.slider_value("alpha") == f"{below.settings.alpha:g}"
    assert query(app) == to_query(below.settings) | {"experiment": "cliff"}
    assert any("Converged" in alert for alert in app.alerts())
    app.screenshot(screenshots / "teaching_experiment_cliff.png")
    app.assert_no_console_errors()


def test_the_menu_loads_an_experiment(app_page, guides):
    ravine = guides["ravine"]
    app = app_page.open_until_charts()
    menu = app.widget("experiment")
    menu.click()
    option = app.page.get_by_role("option", name=re.compile("Momentum in a ravine"))
    app.rerun_after(option.click)
    app.charts().nth(3).wait_for()
    app.wait_idle()
    panel(app).wait_for()
    assert f"Experiment 6 of {len(guided.EXPERIMENTS)}: Momentum in a ravine" in panel(app).inner_text()
    assert query(app) == to_query(ravine.variants[0].settings) | {"experiment": "ravine"}
    for finding in ravine.findings:  # the numbers shown are the ones computed (Markdown stripped)
        numbers = re.findall(r"\d[\d,.]*", finding.text)
        shown = panel(app).inner_text()
        assert all(n in shown for n in numbers), (numbers, shown)
    app.assert_no_console_errors()


def test_the_blog_code_is_drawn_and_labelled(app_page, screenshots):
    app = app_page.open_until_charts({"experiment": "blog-bug"})
    assert app.widget("blog_code").locator("input").is_checked()
    loss_chart = app.charts().first
    loss_chart.get_by_text("Blog's code (buggy)").first.wait_for()
    caption = app.page.get_by_test_id("stCaptionContainer").filter(has_text="Blog's code (buggy)").first
    assert SEED_BLOG_BUG_LINE in caption.inner_text()
    assert app.metrics()["Best epoch"] == "100"  # the headline stays on the fixed run
    app.screenshot(screenshots / "teaching_blog_code.png")
    app.assert_no_console_errors()


def test_all_runs_download_as_one_csv(app_page, tmp_path):
    app = app_page.open_until_charts({"optimizers": "gd,adam", "epochs": 30})
    with app.page.expect_download() as info:
        app.widget("download_runs_csv").locator("button").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert {row["run"] for row in rows} == {"Gradient descent", "Adam"} and len(rows) == 2 * 31
    data = gdcore.make_data()
    adam = gdcore.descend(data.X, data.y, optimizer="adam", epochs=30)
    last = [row for row in rows if row["run"] == "Adam"][-1]
    assert float(last["loss"]) == pytest.approx(float(adam.loss[-1]), rel=1e-12)


def test_a_chart_saves_as_png(app_page, tmp_path):
    app = app_page.open_until_charts()
    chart = app.page.get_by_test_id("stElementContainer").filter(has=app.charts().first).first
    chart.hover()
    button = app.page.get_by_role("button", name=re.compile("Download as PNG")).first
    with app.page.expect_download() as info:
        button.click()
    path = tmp_path / "chart.png"
    info.value.save_as(path)
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 5_000
    app.assert_no_console_errors()


def test_the_report_downloads_and_opens_offline(app_page, browser, tmp_path, screenshots):
    app = app_page.open_until_charts({"optimizers": "gd,momentum", "alpha": 0.1})
    metrics = app.metrics()
    app.open_tab("Export")
    with app.page.expect_download() as info:
        app.widget("download_report").locator("button").click()
    assert info.value.suggested_filename == "gradient_descent_report.html"
    report = tmp_path / "report.html"
    info.value.save_as(report)
    context = browser.new_context(
        viewport={"width": 1024, "height": 900}, offline=True, accept_downloads=True
    )
    try:
        page = context.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.locator(".chart svg.marks").nth(3).wait_for(timeout=30_000)
        assert page.locator(".chart svg.marks").count() == 4
        body = page.locator("body").inner_text()
        assert f"{metrics['Best epoch']} of" in body and metrics["Error (MSE)"] in body
        assert "Momentum" in body and "Learning rate α" in body
        page.screenshot(path=str(screenshots / "teaching_report_1024.png"), full_page=True)
        for label, suffix, magic in (("Save as SVG", ".svg", b"<svg"), ("Save as PNG", ".png", PNG_MAGIC)):
            menu = page.locator(".vega-embed details").first
            if not menu.evaluate("details => details.open"):
                menu.locator("summary").click()  # the chart's "…" menu
            with page.expect_download() as saved:
                menu.get_by_text(label).click()
            path = tmp_path / f"chart{suffix}"
            saved.value.save_as(path)
            assert path.read_bytes().startswith(magic), label
        assert errors == []
    finally:
        context.close()
    app.assert_no_console_errors()


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_an_experiment_and_the_export_tab(app_page, screenshots, width):
    app = app_page
    app.page.set_viewport_size({"width": width, "height": 900})
    app.open_until_charts({"experiment": "ravine"})
    panel(app).wait_for()
    assert_fits(panel(app), width)
    app.screenshot(screenshots / f"teaching_ravine_{width}.png", full_dashboard=True)
    app.open_tab("Export")
    app.widget("download_report").wait_for()
    assert_fits(app.widget("download_report"), width)
    app.screenshot(screenshots / f"teaching_export_{width}.png", full_dashboard=True)
    app.assert_no_console_errors()

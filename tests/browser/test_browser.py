"""The dashboard in a real browser: headless Chromium against a real `streamlit run` server.

What AppTest cannot see: the page as drawn (charts rendered by Vega in the browser), widgets driven by
keyboard and mouse, the URL the browser holds, a file arriving through the download button, an upload
through the file picker, console errors. Expected numbers come from gdcore directly (the blog's
experiment), never from the page itself. Screenshots of the main views go to artifacts/screenshots/
(ignored by git); `UPDATE_DOCS_SCREENSHOT=1` (or a missing docs/dashboard.png) refreshes the README's.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

import pytest

import gdcore
from gdcore.dashboard.settings import DEFAULTS

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"

GOOD_CSV = b"size,rooms,age,price\n50,2,10,150.5\n80,3,5,240\n65,2,30,170.25\n120,4,1,380\n95,3,12,290\n"


def expected_run(samples=DEFAULTS.samples, noise=DEFAULTS.noise, seed=DEFAULTS.seed, **descend):
    """The blog's experiment computed by gdcore directly: (data, run, theory)."""
    data = gdcore.make_data(n_samples=samples, noise=noise, seed=seed)
    kwargs = {
        "alpha": DEFAULTS.alpha,
        "epochs": DEFAULTS.epochs,
        "w0": DEFAULTS.w0,
        "b0": DEFAULTS.b0,
        **descend,
    }
    return data, gdcore.descend(data.X, data.y, **kwargs), gdcore.analyze(data.X, data.y)


def headline_of(run) -> dict[str, str]:
    """The four headline metrics as the dashboard formats them."""
    return {
        "Best epoch": f"{run.best_epoch:,}",
        "Error (MSE)": f"{run.best_loss:,.3f}",
        "Weight w": f"{float(run.best_weights[0]):,.3f}",
        "Bias b": f"{run.best_bias:,.3f}",
    }


def assert_headline(app, run) -> None:
    shown = app.metrics()
    for label, value in headline_of(run).items():
        assert shown.get(label) == value, f"metric {label!r}: shown {shown.get(label)!r}, expected {value!r}"


def assert_charts_drawn(app, at_least: int = 4) -> None:
    charts = app.charts()
    assert charts.count() >= at_least
    for i in range(at_least):
        chart = charts.nth(i)
        chart.locator("canvas, svg").first.wait_for()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100, f"chart {i} is {box}"


def test_first_load_shows_four_charts_metrics_and_status(app_page, screenshots):
    app = app_page.open_until_charts()
    _, run, _ = expected_run()
    assert_charts_drawn(app, 4)
    assert_headline(app, run)
    assert any("Still descending" in text for text in app.alerts()), app.alerts()
    assert app.exceptions() == []
    assert app.query() == {}, "the default view needs no query parameters"
    app.screenshot(screenshots / "default.png")
    full = app.screenshot(screenshots / "dashboard-full.png", full_dashboard=True)
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1" or not DOCS_SCREENSHOT.exists():
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(full, DOCS_SCREENSHOT)
    app.assert_no_console_errors()


def test_alpha_above_alpha_max_shows_the_diverged_status(app_page, screenshots):
    app = app_page.open_until_charts()
    assert app.slider_value("alpha") == f"{DEFAULTS.alpha:g}"
    app.press_on_slider("alpha", "End")  # the largest alpha offered, 10, far above alpha_max
    _, run, theory = expected_run(alpha=10.0)
    assert run.diverged and theory.alpha_max < 10
    assert app.slider_value("alpha") == "10"
    diverged = [text for text in app.alerts() if "Diverged" in text]
    assert diverged, app.alerts()
    assert f"{theory.alpha_max:.4g}" in diverged[0]  # names alpha_max for this data
    assert f"{theory.alpha_opt:.4g}" in diverged[0]  # and suggests alpha_opt
    assert app.exceptions() == []
    assert float(app.query()["alpha"]) == 10.0  # the URL follows the widget
    assert_charts_drawn(app, 4)  # nothing hidden: the diverging run is still drawn
    app.screenshot(screenshots / "diverged.png")
    # and back with the keyboard: Home is the smallest alpha, which cannot diverge
    app.press_on_slider("alpha", "Home")
    assert not [text for text in app.alerts() if "Diverged" in text]
    app.assert_no_console_errors()


def test_url_with_query_parameters_restores_that_view(app_page, new_app_page, screenshots):
    params = {"alpha": 0.1, "epochs": 50, "seed": 7}
    app = app_page.open_until_charts(params)
    _, run, _ = expected_run(alpha=0.1, epochs=50, seed=7)
    assert app.slider_value("alpha") == "0.1"
    assert app.number_value("epochs") == "50"
    assert app.number_value("seed") == "7"
    assert_headline(app, run)
    _, default_run, _ = expected_run()
    assert headline_of(run) != headline_of(default_run)
    assert not [text for text in app.alerts() if "Link ignored" in text]
    assert {k: float(v) for k, v in app.query().items()} == {k: float(v) for k, v in params.items()}
    app.screenshot(screenshots / "from-url.png")
    app.assert_no_console_errors()

    # A link with junk values keeps the others and says which ones it ignored, HTML shown as text.
    other = new_app_page().open_until_charts({"alpha": "abc", "b0": "<b>bold</b>", "epochs": 50})
    notices = [text for text in other.alerts() if "Link ignored" in text]
    assert len(notices) == 2, other.alerts()
    assert "alpha must be a number" in notices[0] or "alpha must be a number" in notices[1]
    assert any("got '<b>bold</b>'" in text for text in notices)
    assert other.page.get_by_test_id("stAlert").locator("b", has_text="bold").count() == 0
    assert other.number_value("epochs") == "50"
    assert other.slider_value("alpha") == f"{DEFAULTS.alpha:g}"
    assert other.exceptions() == []
    other.assert_no_console_errors()


def test_share_link_reopens_the_same_experiment(app_page, new_app_page):
    app = app_page.open_until_charts()
    app.press_on_slider("alpha", "ArrowRight")
    app.press_on_slider("alpha", "ArrowRight")
    app.type_number("epochs", 40)
    app.type_number("w0", -7)
    shown = {"alpha": app.slider_value("alpha"), "metrics": app.metrics()}  # with the first tab open
    app.open_tab("Export")
    link = app.page.get_by_test_id("stCode").filter(has_text="http").last.inner_text().strip()
    assert link.startswith(app.server.url.rstrip("/")) and "epochs=40" in link, link

    other = new_app_page()
    other.page.goto(link)
    other.wait_idle()
    other.charts().nth(3).wait_for()
    other.wait_idle()
    assert other.slider_value("alpha") == shown["alpha"] != f"{DEFAULTS.alpha:g}"
    assert other.number_value("epochs") == "40"
    assert float(other.number_value("w0")) == -7.0
    assert other.metrics() == shown["metrics"]
    assert not [text for text in other.alerts() if "Link ignored" in text]
    other.assert_no_console_errors()


def _download_csv(app, tmp_path) -> str:
    app.open_tab("Export")
    with app.page.expect_download() as download_info:
        app.widget("download_csv").locator("button").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".csv")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    return target.read_text(encoding="utf-8")


def test_csv_download_at_100000_epochs(app_page, tmp_path):
    """The largest trajectory the controls allow arrives whole (it is not downsampled like the charts)."""
    app = app_page.open_until_charts({"epochs": 100_000, "alpha": 0.501})
    text = _download_csv(app, tmp_path)
    data, run, _ = expected_run(epochs=100_000, alpha=0.501)
    lines = text.splitlines()
    assert len(lines) == 1 + 100_001 and lines[-1].startswith("100000,")
    assert text == gdcore.trajectory_csv(run, data.feature_names)
    app.assert_no_console_errors()


def test_csv_download_arrives_and_parses(app_page, tmp_path):
    app = app_page.open_until_charts({"epochs": 37})
    data, run, _ = expected_run(epochs=37)
    text = _download_csv(app, tmp_path)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 37 + 1  # epoch 0 (the start) .. 37
    assert [int(row["epoch"]) for row in rows] == list(range(38))
    assert set(rows[0]) >= {"epoch", "loss", "w", "bias"}
    assert float(rows[run.best_epoch]["loss"]) == pytest.approx(run.best_loss, rel=1e-12)
    assert text == gdcore.trajectory_csv(run, data.feature_names)
    app.assert_no_console_errors()


def _choose_csv_source(app) -> None:
    radio = app.widget("source").get_by_test_id("stRadioOption").filter(has_text="CSV")
    app.rerun_after(radio.click)


def _upload(app, name: str, content: bytes) -> None:
    chooser = app.page.locator("[data-testid='stFileUploader'] input[type='file']").first
    app.rerun_after(
        lambda: chooser.set_input_files(files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    )
    app.wait_idle()


def _wait_for_alert(app, text: str) -> list[str]:
    app.page.get_by_test_id("stAlert").filter(has_text=text).first.wait_for()
    return app.alerts()


def test_csv_upload_works_and_a_bad_csv_shows_its_message(app_page, screenshots):
    app = app_page.open_until_charts()
    _choose_csv_source(app)
    assert app.query().get("source") == "csv"
    _upload(app, "houses.csv", GOOD_CSV)
    app.charts().nth(3).wait_for()
    app.wait_idle()
    assert_charts_drawn(app, 4)
    assert app.page.get_by_text("5 rows, 4 columns").count() >= 1
    assert "Weights: largest |w − w*| of 3" in app.metrics()
    assert app.exceptions() == []
    app.screenshot(screenshots / "csv-upload.png")

    _upload(app, "cities.csv", b"name,city\nann,oslo\nbob,rome\n")
    alerts = _wait_for_alert(app, "no column of the file is numeric")
    message = next(text for text in alerts if "no column of the file is numeric" in text)
    assert "'name', 'city'" in message
    assert app.exceptions() == []
    assert app.charts().count() == 0
    app.screenshot(screenshots / "csv-bad.png")

    _upload(app, "latin1.csv", "size,café\n1,2\n3,4\n5,7\n".encode("latin-1"))
    app.page.get_by_text("Read as Windows-1252 (not UTF-8)").wait_for()
    assert app.exceptions() == []
    app.assert_no_console_errors()


def test_html_in_a_csv_column_name_shows_as_text(app_page):
    app = app_page.open_until_charts()
    names = ["<b>bold</b>", "<img src=x onerror=window.__xss=1>", "y"]
    content = (",".join(f'"{n}"' for n in names) + "\n1,2,3\n2,5,1\n3,4,8\n4,1,2\n").encode()
    _choose_csv_source(app)
    _upload(app, "html.csv", content)
    app.charts().first.wait_for()
    app.wait_idle()
    assert app.exceptions() == []
    # The names appear as literal text (the feature chips) ...
    chips = app.widget("csv_features").inner_text()
    assert "<b>bold</b>" in chips and "<img src=x onerror=window.__xss=1>" in chips
    app.open_tab("Data")
    # ... and nowhere as markup: no <b>bold</b> element, no injected image, no script ran.
    assert app.page.locator("b", has_text="bold").count() == 0
    assert app.page.locator("img[src='x']").count() == 0
    assert app.page.evaluate("window.__xss") is None
    app.assert_no_console_errors()


def test_odd_csv_column_names_draw_cleanly(app_page):
    """Dots, brackets and quotes (Vega-Lite field syntax), a 300-character name, an empty header cell:
    four charts, no console error (Vega reports bad field names there)."""
    app = app_page.open_until_charts({"standardize": "true"})
    names = ["a.b", "x[0]", 'c"d', "L" * 300, "", "y"]
    header = ",".join('"' + n.replace('"', '""') + '"' for n in names)
    rows = "\n".join(",".join(str((i * 7 + j * 3) % 11 + j) for j in range(len(names))) for i in range(12))
    _choose_csv_source(app)
    _upload(app, "odd.csv", f"{header}\n{rows}\n".encode())
    app.charts().nth(3).wait_for()
    app.wait_idle()
    assert_charts_drawn(app, 4)
    assert app.exceptions() == []
    assert not [text for text in app.alerts() if "cannot run" in text]
    app.assert_no_console_errors()


def test_markdown_in_a_csv_column_name_shows_as_text(app_page):
    """A backtick in a column name must not end the code span it is shown in and turn the rest into
    Markdown (here an image that the browser would fetch)."""
    app = app_page.open_until_charts({"standardize": "true"})
    target = "t`![i](http://127.0.0.1:9/t.png)`"
    content = f'x,z,"{target}"\n1,2,3\n2,1,5\n3,5,4\n4,4,1\n'.encode()
    _choose_csv_source(app)
    _upload(app, "md.csv", content)
    app.charts().first.wait_for()
    app.wait_idle()
    app.open_tab("Data")
    assert app.page.locator("img[src*='127.0.0.1:9']").count() == 0
    panel = app.page.get_by_test_id("stTabPanel").filter(has_text="rows,").first
    assert target in panel.inner_text()
    app.assert_no_console_errors()


def test_two_browser_sessions_do_not_share_state(app_page, new_app_page):
    first = app_page.open_until_charts({"alpha": 0.1})
    second = new_app_page().open_until_charts()
    first_headline = first.metrics()
    second.type_number("epochs", 20)
    assert second.number_value("epochs") == "20"
    _, run20, _ = expected_run(epochs=20)
    assert_headline(second, run20)
    first.type_number("seed", 7)
    assert first.number_value("epochs") == str(DEFAULTS.epochs)  # not the other session's 20
    assert first.slider_value("alpha") == "0.1"
    assert first.metrics() != first_headline
    _, run_first, _ = expected_run(alpha=0.1, seed=7)
    assert_headline(first, run_first)
    assert second.number_value("seed") == str(DEFAULTS.seed)  # not the other session's 7
    assert second.slider_value("alpha") == f"{DEFAULTS.alpha:g}"
    assert_headline(second, run20)
    assert first.query().get("epochs") is None and second.query().get("seed") is None


def test_an_early_change_keeps_the_optimizer_choice(app_page):
    """A slow device or connection: the Multiselect component's script arrives 4 s late, and the user
    moves the alpha slider as soon as the charts are drawn. Nothing but alpha may change."""
    page = app_page.page

    def late(route) -> None:
        page.wait_for_timeout(4000)
        route.continue_()

    page.route(re.compile(r"Multi[sS]elect[^/]*\.js$"), late)
    app = app_page.open()
    app.charts().nth(3).wait_for()
    app.press_on_slider("alpha", "ArrowRight")
    app.widget("optimizers").get_by_test_id("stMultiSelect").wait_for()
    page.wait_for_timeout(4500)  # the late script has arrived
    app.type_number("epochs", 50)
    assert app.charts().count() == 4, app.alerts()
    assert "Gradient descent" in app.widget("optimizers").inner_text()


def test_tour_of_the_dashboard_logs_no_console_errors(app_page, screenshots):
    """Every tab and the sweep opened, a few widgets changed: the console stays clean."""
    app = app_page.open_until_charts()
    app.switch("log_loss")
    app.press_on_slider("noise", "ArrowRight")
    assert app.slider_value("noise").startswith("21")
    for tab in ("Math", "Data", "Export", "sweep"):
        app.open_tab(tab)
    app.switch("sweep")
    app.charts().nth(5).wait_for()
    app.wait_idle()
    app.screenshot(screenshots / "sweep.png")
    app.open_tab("Math")
    app.page.locator("[data-testid='stMarkdownContainer'] .katex").first.wait_for()
    app.screenshot(screenshots / "math.png")
    assert app.exceptions() == []
    app.assert_no_console_errors()

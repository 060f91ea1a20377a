"""The sidebar's controls as a keyboard and mouse user meets them (issue 13, items 12, 19 and 21), in
headless Chromium against `streamlit run`. Expected runs come from gdcore directly, never from the page.
"""

from __future__ import annotations

import gdcore
from gdcore.dashboard.settings import DEFAULTS

GOOD_CSV = b"size,rooms,age,price\n50,2,10,150.5\n80,3,5,240\n65,2,30,170.25\n120,4,1,380\n95,3,12,290\n"


def test_typing_ada_and_enter_adds_one_optimizer(app_page):
    """The box offered "Select 2 matches" first, so "Ada" + Enter added Adam and AdaGrad."""
    app = app_page.open_until_charts()
    box = app.widget("optimizers").locator("input").first
    box.click()
    app.page.keyboard.type("Ada")
    options = app.page.get_by_role("option").all_inner_texts()
    assert not [o for o in options if "match" in o.lower() or "select all" in o.lower()], options
    app.rerun_after(lambda: app.page.keyboard.press("Enter"))
    app.page.keyboard.press("Escape")
    chosen = app.query()["optimizers"].split(",")
    assert len(chosen) == 2 and chosen[0] == "gd" and chosen[1] in ("adagrad", "adam"), chosen
    assert app.exceptions() == []
    app.assert_no_console_errors()


def test_an_out_of_range_number_is_replaced_by_the_value_the_run_uses(app_page, screenshots):
    """0 epochs typed: the field showed a red 0 while the runs used 100. Now the field shows what the
    run uses, the notice says why, and the range is in the label."""
    app = app_page.open_until_charts()
    assert "Epochs (1 to 100,000)" in app.widget("epochs").inner_text()
    app.type_number("epochs", 0)
    assert app.number_value("epochs") == "1"
    app.widget("epochs").page.get_by_text("Epochs: 0 is outside 1 to 100,000, so 1 is used.").wait_for()
    data = gdcore.make_data()
    run = gdcore.descend(data.X, data.y, alpha=DEFAULTS.alpha, epochs=1, w0=DEFAULTS.w0, b0=DEFAULTS.b0)
    assert app.metrics()["Error (MSE)"] == f"{run.best_loss:,.3f}"
    assert app.query()["epochs"] == "1"

    app.type_number("w0", "1e300")
    assert app.number_value("w0") == "100.00"
    app.page.get_by_text("Start w: 1e+300 is outside -100 to 100, so 100 is used.").wait_for()
    run = gdcore.descend(data.X, data.y, alpha=DEFAULTS.alpha, epochs=1, w0=100.0, b0=DEFAULTS.b0)
    assert app.metrics()["Error (MSE)"] == f"{run.best_loss:,.3f}"
    assert app.exceptions() == []
    app.assert_no_console_errors()


def test_press_enter_to_apply_stays_clear_of_the_digits(app_page, screenshots):
    app = app_page.open_until_charts()
    for key, typed in (("epochs", "100000000"), ("seed", "4294967295123")):
        field_ = app.widget(key).locator("input").first
        field_.fill(typed)
        hint = app.widget(key).get_by_test_id("InputInstructions")
        hint.wait_for()
        box, said = field_.bounding_box(), hint.bounding_box()
        assert said["y"] >= box["y"] + box["height"] - 1, (key, box, said)  # under the field, not over it
        app.widget(key).screenshot(path=str(screenshots / f"enter-to-apply-{key}.png"))
        field_.press("Escape")
    app.assert_no_console_errors()


def test_an_uploaded_file_is_still_there_after_visiting_another_source(app_page):
    app = app_page.open({"source": "csv", "alpha": "0.0001", "epochs": 40})
    chooser = app.page.locator("[data-testid='stFileUploader'] input[type='file']").first
    app.rerun_after(
        lambda: chooser.set_input_files(
            files=[{"name": "houses.csv", "mimeType": "text/csv", "buffer": GOOD_CSV}]
        )
    )
    app.charts().nth(3).wait_for()
    app.wait_idle()
    on_the_file = app.metrics()["Error (MSE)"]
    radios = app.widget("source")
    app.rerun_after(lambda: radios.get_by_text("Diabetes").click())
    app.charts().nth(3).wait_for()
    assert app.metrics()["Error (MSE)"] != on_the_file
    app.rerun_after(lambda: radios.get_by_text("Upload a CSV").click())
    app.charts().nth(3).wait_for()
    app.wait_idle()
    assert app.metrics()["Error (MSE)"] == on_the_file
    app.page.get_by_text("uploaded earlier").wait_for()
    assert app.exceptions() == []
    app.assert_no_console_errors()

"""The learning-rate sweep's section is a fragment (issue 10 §2): flipping its toggle reruns that section
only, not the page above it; a button in it that changes a setting of the whole page (the budget's
"Set epochs to ...") reruns the whole page. Which kind of run the server did is read from the protocol
(each run ends with a script_finished message that says whether it was a fragment's run). The log-axis
toggles are a fragment too (results.time_charts): a flip redraws the charts against epochs only, and the
report downloaded afterwards has the flipped axes. So is the landscape (results.landscape): single step
redraws it alone, and a click that sets the start reruns the whole page."""

from __future__ import annotations

import json
import re

from gdcore.dashboard.budget import Budget, estimate, estimate_sweep
from gdcore.dashboard.settings import Settings

# 10,000 rows at batch size 1 for 100 epochs: the run itself fits the default budget (5 s), its sweep
# (sixty runs) does not, so the sweep offers "Set epochs to ...".
SLOW_SWEEP = {"samples": 10_000, "batch_size": 1, "epochs": 100}
FULL, FRAGMENT = "full", "fragment"


def record_runs(app) -> list[str]:
    """The kind of every script run the server finishes for this page from now on (cut-short runs left out)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    kinds: list[str] = []

    def on_frame(payload) -> None:
        if not isinstance(payload, bytes | bytearray):
            return
        message = ForwardMsg()
        try:
            message.ParseFromString(bytes(payload))
        except Exception:  # not a ForwardMsg
            return
        if message.WhichOneof("type") == "script_finished":
            status = message.script_finished
            if status == ForwardMsg.FINISHED_SUCCESSFULLY:
                kinds.append(FULL)
            elif status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                kinds.append(FRAGMENT)

    app.page.on("websocket", lambda socket: socket.on("framereceived", on_frame))
    return kinds


def test_flipping_the_sweep_reruns_the_sweep_only(app_page):
    kinds = record_runs(app_page)
    app = app_page.open_until_charts()
    assert kinds == [FULL]
    above = app.charts().count()
    headline = app.metrics()
    app.switch("sweep")
    assert kinds == [FULL, FRAGMENT]
    app.charts().nth(above).wait_for()  # the sweep's chart, drawn under the others
    assert app.charts().count() > above
    assert app.metrics() == headline
    app.switch("sweep")
    assert kinds == [FULL, FRAGMENT, FRAGMENT]
    assert app.charts().count() == above
    assert app.exceptions() == []
    app.assert_no_console_errors()


def test_a_sweep_button_that_changes_the_epochs_reruns_the_whole_page(app_page):
    settings = Settings(samples=SLOW_SWEEP["samples"], batch_size=1, epochs=SLOW_SWEEP["epochs"])
    specs = settings.run_plan().specs
    budget = Budget()  # the default, as the test server has it
    assert estimate(specs, settings.samples, 1).seconds <= budget.ask_above_s
    assert estimate_sweep(specs, settings.samples, 1).seconds > budget.ask_above_s
    kinds = record_runs(app_page)
    app = app_page.open_until_charts(SLOW_SWEEP)
    assert app.number_value("epochs") == "100"
    app.switch("sweep")
    assert kinds[-1] == FRAGMENT
    button = app.widget("budget_sweep_epochs").locator("button")
    epochs = int(re.search(r"Set epochs to ([\d,]+)", button.inner_text()).group(1).replace(",", ""))
    assert epochs < SLOW_SWEEP["epochs"]
    runs_before = len(kinds)
    app.rerun_after(button.click)
    app.page.wait_for_timeout(500)  # a second run may follow the fragment's (the whole page's)
    app.wait_idle()
    assert FULL in kinds[runs_before:]
    # The page above the tabs was drawn again for the new epochs: the sidebar and the headline say them.
    assert app.number_value("epochs") == str(epochs)
    assert app.metrics()["Best epoch"] in {f"{e:,}" for e in range(epochs + 1)}
    assert app.exceptions() == []


def test_a_log_axis_flip_redraws_its_charts_only_and_the_report_follows(app_page, tmp_path):
    kinds = record_runs(app_page)
    app = app_page.open_until_charts()
    app.open_tab("Export")  # the report's button is drawn by the whole page's run, before the flip
    runs_before, charts, headline = len(kinds), app.charts().count(), app.metrics()
    app.switch("log_epochs")
    assert kinds[runs_before:] == [FRAGMENT]
    assert app.charts().count() == charts and app.metrics() == headline
    app.charts().first.locator("svg").filter(has_text="Epoch (log scale)").first.wait_for()
    with app.page.expect_download() as info:
        app.widget("download_report").locator("button").click()
    path = tmp_path / "report.html"
    info.value.save_as(path)
    found = re.search(
        r'<script type="application/json" id="chart-specs">(.*?)</script>',
        path.read_text(encoding="utf-8"),
        re.S,
    )
    specs = json.loads(found.group(1))
    assert len(specs) == 4
    for spec in map(json.dumps, list(specs.values())[:2]):  # the loss and parameter charts, as flipped
        assert '"title": "Epoch (log scale)"' in spec  # unflipped, no title of the chart says "log scale"
    assert app.exceptions() == []
    app.assert_no_console_errors()


def test_single_step_redraws_the_landscape_alone_and_a_click_reruns_the_page(app_page):
    kinds = record_runs(app_page)
    app = app_page.open_until_charts()
    headline = app.metrics()
    app.switch("single_step")
    app.rerun_after(lambda: app.widget("step_forward").locator("button").click())
    assert app.number_value("step_epoch") == "1"
    assert kinds == [FULL, FRAGMENT, FRAGMENT] and app.metrics() == headline
    chart = app.charts().filter(has_text="Loss landscape").first
    chart.scroll_into_view_if_needed()
    frame = chart.locator("svg").first.bounding_box()
    x, y = frame["x"] + 0.3 * frame["width"], frame["y"] + 0.3 * frame["height"]
    app.page.mouse.move(x, y)  # the click grid is made under the pointer
    app.page.wait_for_timeout(500)
    runs_before = len(kinds)
    app.rerun_after(lambda: app.page.mouse.click(x, y))
    app.page.wait_for_timeout(500)  # a second run may follow
    app.wait_idle()
    assert kinds[runs_before:] == [FULL]  # the fragment's own run ends early, for the whole page's
    assert (app.number_value("w0"), app.number_value("b0")) != ("1.00", "0.00")
    assert app.metrics() != headline, "the run starts at the point clicked"
    assert app.exceptions() == []
    app.assert_no_console_errors()

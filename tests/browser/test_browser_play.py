"""Play the descent (issue 12 §1) in headless Chromium, at 1024 px: ▶ Play under the fit chart and under
the loss landscape moves the line and every run's point with no rerun of the script; screenshots a moment
apart differ and the epoch written on the chart grows; after pause two screenshots are equal; the slider
sets where play starts; no console errors. `UPDATE_DOCS_SCREENSHOT=1` (or a missing docs/play-1.png)
saves the landscape's race at three moments as docs/play-1.png, play-2.png, play-3.png for the README.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
RACE = {"optimizers": "gd,momentum,adam"}
EPOCH_LABEL = re.compile(r"^epoch (\d[\d,]*)")


def shown_epoch(chart) -> int:
    """The epoch written on the chart (the fit chart's 'epoch 12: w = ...', the landscape's 'epoch 12')."""
    texts = chart.locator("svg text").evaluate_all("(els) => els.map((e) => e.textContent || '')")
    found = [EPOCH_LABEL.match(t.strip()) for t in texts]
    [epoch] = [int(m.group(1).replace(",", "")) for m in found if m]
    return epoch


def set_slider(chart, value: int) -> None:
    chart.locator("input[type='range']").first.evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", value
    )


def chart_titled(app, title: str):
    chart = app.charts().filter(has_text=title).first
    chart.scroll_into_view_if_needed()
    chart.locator("input[type='checkbox']").first.wait_for()
    return chart


def screenshot(chart, path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    return chart.screenshot(path=str(path))


@pytest.mark.parametrize("title", ["Data and fitted line", "Loss landscape"])
def test_play_moves_the_chart_and_pause_holds_it(app_page_at, screenshots, title):
    app = app_page_at(1024).open_until_charts(RACE)
    chart = chart_titled(app, title)
    set_slider(chart, 0)
    app.page.wait_for_timeout(400)
    assert shown_epoch(chart) == 0, "the slider sets where play starts"
    runs_before = app.reruns()
    chart.locator("select").first.select_option(label="whole run in 10 s")
    play = chart.locator("input[type='checkbox']").first
    play.check()
    shots, epochs = [], []
    update_docs = title == "Loss landscape" and (
        os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1" or not (DOCS / "play-3.png").exists()
    )
    for k in range(3):
        app.page.wait_for_timeout(1200)
        epochs.append(shown_epoch(chart))
        shots.append(screenshot(chart, screenshots / f"play-{title.split()[0].lower()}-{k + 1}.png"))
        if update_docs:
            shutil.copyfile(screenshots / f"play-loss-{k + 1}.png", DOCS / f"play-{k + 1}.png")
    assert 0 < epochs[0] < epochs[1] < epochs[2] < 100, epochs  # 100 epochs in 10 s: ~12 a shot
    assert shots[0] != shots[1] != shots[2]
    play.uncheck()
    app.page.wait_for_timeout(300)
    paused = shown_epoch(chart)
    first = screenshot(chart, screenshots / "play-paused-1.png")
    app.page.wait_for_timeout(1000)
    assert shown_epoch(chart) == paused and paused >= epochs[2]
    assert screenshot(chart, screenshots / "play-paused-2.png") == first, "pause holds the picture"
    assert app.reruns() == runs_before, "playing is client-side: no rerun of the script"
    app.assert_no_console_errors()

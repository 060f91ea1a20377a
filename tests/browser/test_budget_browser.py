"""A long run cannot hold the server hostage (issue 10 §2b), against a real `streamlit run`: it waits to
be asked for, shows its progress, and when the user changes a setting or closes the page mid-run the
server's CPU is back to idle within 2 s (read from /proc, the server's own process)."""

from __future__ import annotations

import os
import time

# 100,000 rows at batch size 1: an epoch is 100,000 updates (a tenth of a second or so), 300 epochs are
# priced at about 15 s: above the default budget (5 s), below the limit (60 s).
LONG_RUN = {"samples": 100_000, "batch_size": 1, "epochs": 300, "alpha": 0.0001}
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def busy_share(pid: int, window_s: float = 0.25) -> float:
    """The share of one core the process used over the next `window_s` seconds."""
    before, start = cpu_seconds(pid), time.monotonic()
    time.sleep(window_s)
    return (cpu_seconds(pid) - before) / (time.monotonic() - start)


def seconds_until_idle(pid: int, since: float, running_share: float, limit_s: float = 10.0) -> float:
    """Seconds from `since` until a quarter-second window in which the server used less than a third of
    what it used while the descent ran (`running_share`; the machine may be shared) and less than a
    quarter of a core: a cheap rerun may still be drawn in that window, a running descent may not."""
    idle_share = min(0.25, running_share / 3)
    while time.monotonic() - since < limit_s:
        if busy_share(pid) < idle_share:
            return time.monotonic() - since
    return limit_s


def wait_for_run_after(app, before: int) -> None:
    """Wait until a script run that started after `before` finished runs has finished, and the page is idle."""
    deadline = time.monotonic() + 60
    while app.finished_runs <= before:
        assert time.monotonic() < deadline, "no run finished after the change"
        app.page.wait_for_timeout(20)
    app.wait_idle()


def start_long_run(app) -> float:
    """Open the long run, ask for it, and wait until it is visibly running (progress drawn, CPU busy);
    the share of a core the server uses while it runs."""
    app.open(LONG_RUN)
    warning = next(text for text in app.alerts() if "would take" in text)
    assert "everyone using the page shares" in warning
    assert app.charts().count() == 0
    app.widget("budget_run").locator("button").click()
    progress = app.page.get_by_test_id("stProgress")
    progress.wait_for(timeout=30_000)
    app.page.wait_for_function(
        "() => /epoch [0-9,]+ of 300/.test(document.querySelector('[data-testid=stProgress]')?.innerText)",
        timeout=30_000,
    )
    running = busy_share(app.server.process.pid, 0.5)
    assert running > 0.1, running  # the descent is running
    return running


def test_a_long_run_stops_within_2_s_when_a_setting_changes(app_page, screenshots):
    app = app_page
    running = start_long_run(app)
    assert "left" in app.page.get_by_test_id("stProgress").inner_text()
    app.screenshot(screenshots / "long_run_progress.png")
    box = app.widget("stop").locator("input[type='checkbox']").first
    before, changed = app.finished_runs, time.monotonic()
    box.press("Space")  # a new setting: the running descent must stop
    idle_after = seconds_until_idle(app.server.process.pid, changed, running)
    assert idle_after <= 2.0, f"the server was still busy {idle_after:.1f} s after the change"
    wait_for_run_after(app, before)
    assert any("would take" in text for text in app.alerts())  # the new settings wait to be asked for
    assert app.exceptions() == []
    app.assert_no_console_errors()


def test_a_long_run_stops_within_2_s_when_the_page_closes(new_app_page, server):
    app = new_app_page()
    running = start_long_run(app)
    closed = time.monotonic()
    app.page.close()
    idle_after = seconds_until_idle(server.process.pid, closed, running)
    assert idle_after <= 2.0, f"the server was still busy {idle_after:.1f} s after the page closed"


def test_cancel_stops_the_run_and_offers_it_again(app_page):
    app = app_page
    running = start_long_run(app)
    before, clicked = app.finished_runs, time.monotonic()
    app.widget("budget_cancel").locator("button").click()
    idle_after = seconds_until_idle(app.server.process.pid, clicked, running)
    assert idle_after <= 2.0, f"the server was still busy {idle_after:.1f} s after Cancel"
    wait_for_run_after(app, before)
    assert any("You cancelled this run." in text for text in app.alerts())
    assert app.widget("budget_run").count() == 1
    app.assert_no_console_errors()

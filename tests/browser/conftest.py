"""Fixtures for the real-browser tests: a `streamlit run` server on a free loopback port and headless Chromium.

The browser is Debian's Chromium (`/usr/bin/chromium`, or `$CHROMIUM_PATH`), else Playwright's own
download if one is installed. Without Playwright or a browser every test here is skipped with the
reason, unless `REQUIRE_BROWSER=1` (CI), which turns that into a failure.

Each rerun is awaited the way Streamlit's own browser tests do it, on
`[data-testid='stApp'][data-test-script-state='notRunning']`, made race-free by counting the server's
`script_finished` messages on the page's websocket: after a widget change we wait until one more run has
finished and the page is `notRunning` again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest

from devtools.browser import CHROMIUM_ARGS, free_loopback_port, stop_process_group, streamlit_command

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
APP = "streamlit_app.py"

SERVER_START_TIMEOUT_S = 60.0
RERUN_TIMEOUT_MS = 60_000

APP_SELECTOR = "[data-testid='stApp']"
IDLE_SELECTOR = "[data-testid='stApp'][data-test-script-state='notRunning']"


def finished_run(payload: bytes | str) -> bool:
    """Whether a websocket frame from the server is the end of a script run (not one cut short by a
    newer rerun). Counted from the protocol, a fast rerun cannot be missed the way a DOM attribute
    that React flips twice in one batch can."""
    if not isinstance(payload, bytes | bytearray):
        return False
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    message = ForwardMsg()
    try:
        message.ParseFromString(bytes(payload))
    except Exception:  # not a ForwardMsg: not ours to count
        return False
    return (
        message.WhichOneof("type") == "script_finished"
        and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
    )


@dataclass
class StreamlitServer:
    """A running `streamlit run` process (its own process group) and where it answers."""

    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def url_with(self, params: dict[str, object] | None = None) -> str:
        return self.url + ("?" + urlencode(params) if params else "")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        stop_process_group(self.process)


def start_server(log_path: Path, env: dict[str, str] | None = None) -> StreamlitServer:
    """Start `streamlit run` on a free loopback port and wait until /_stcore/health answers."""
    port = free_loopback_port()
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        streamlit_command(port, APP),
        cwd=REPO_ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so stopping it takes every child with it
        env={**os.environ, **(env or {})},
    )
    log_file.close()
    server = StreamlitServer(process, port, log_path)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    health = f"http://127.0.0.1:{port}/_stcore/health"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(health, timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"streamlit did not answer {health} within {SERVER_START_TIMEOUT_S:.0f} s")
        time.sleep(0.1)


def chromium_executable() -> str | None:
    """Debian's Chromium (or $CHROMIUM_PATH); None means 'try Playwright's own browser'."""
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")]
    candidates.append(shutil.which("chromium-browser"))
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium for the whole session (skips, or fails with REQUIRE_BROWSER=1, without one)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("Playwright is not installed (pip install playwright)")
    executable = chromium_executable()
    manager = sync_playwright().start()
    try:
        try:
            if executable:
                launched = manager.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            else:
                launched = manager.chromium.launch(args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            where = executable or "Playwright's own Chromium"
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _skip_or_fail(
                f"no usable Chromium ({where}: {first_line}); install Debian's chromium "
                "or run `playwright install chromium`"
            )
        yield launched
        launched.close()
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def server(browser, tmp_path_factory) -> Iterator[StreamlitServer]:
    """`streamlit run streamlit_app.py` on a free loopback port, stopped (process group) afterwards."""
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    running = start_server(log_path)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@dataclass
class AppPage:
    """A Playwright page on the app, with the console errors it logged and rerun-aware helpers."""

    page: object
    server: StreamlitServer
    console_errors: list[str] = field(default_factory=list)
    finished_runs: int = 0

    def open(self, params: dict[str, object] | None = None) -> AppPage:
        """Load the app (with these URL query parameters) and wait for the first run to finish."""
        self.page.goto(self.server.url_with(params))
        self.page.wait_for_selector(IDLE_SELECTOR, state="attached", timeout=RERUN_TIMEOUT_MS)
        return self

    def open_until_charts(self, params: dict[str, object] | None = None, count: int = 4) -> AppPage:
        self.open(params)
        try:
            self.charts().nth(count - 1).wait_for(timeout=RERUN_TIMEOUT_MS)
        except Exception as exc:  # say what the page shows instead, and what the server logged
            raise AssertionError(
                f"{count} charts did not appear at {self.page.url}: {exc}\n"
                f"charts: {self.charts().count()}, alerts: {self.alerts()}, "
                f"exceptions: {self.exceptions()}, console: {self.console_errors}\n"
                f"server log (tail):\n{self.server.log()[-3000:]}"
            ) from None
        self.wait_idle()
        return self

    def reruns(self) -> int:
        """Script runs the server has finished for this page so far."""
        return self.finished_runs

    def wait_idle(self) -> None:
        self.page.wait_for_selector(IDLE_SELECTOR, state="attached", timeout=RERUN_TIMEOUT_MS)

    def rerun_after(self, action: Callable[[], object]) -> float:
        """Do `action` (a widget change) and wait until the rerun it starts has finished; seconds taken."""
        before = self.finished_runs
        start = time.perf_counter()
        action()
        deadline = start + RERUN_TIMEOUT_MS / 1000
        while self.finished_runs <= before:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no rerun finished within {RERUN_TIMEOUT_MS / 1000:.0f} s")
            self.page.wait_for_timeout(10)  # lets Playwright deliver the websocket events
        self.wait_idle()
        return time.perf_counter() - start

    # widgets, found by the `st-key-<key>` class Streamlit gives each keyed widget's container
    def widget(self, key: str):
        return self.page.locator(f".st-key-{key}")

    def slider_value(self, key: str) -> str:
        return self.widget(key).get_by_test_id("stSliderThumbValue").inner_text().strip()

    def number_value(self, key: str) -> str:
        return self.widget(key).locator("input").input_value()

    def press_on_slider(self, key: str, keys: str) -> float:
        """Focus a (select_)slider and press a key (End, Home, ArrowRight, ...); waits for the rerun."""
        thumb = self.widget(key).locator("input[type='range'], [role='slider']").first
        thumb.focus()
        return self.rerun_after(lambda: self.page.keyboard.press(keys))

    def type_number(self, key: str, value: object) -> float:
        field_ = self.widget(key).locator("input").first
        field_.fill(str(value))
        return self.rerun_after(lambda: field_.press("Enter"))

    def switch(self, key: str) -> float:
        """Flip a toggle or checkbox with the keyboard (Space on the focused input); waits for the rerun."""
        box = self.widget(key).locator("input[role='switch'], input[type='checkbox']").first
        return self.rerun_after(lambda: box.press("Space"))

    def charts(self):
        return self.page.get_by_test_id("stVegaLiteChart")

    def metrics(self) -> dict[str, str]:
        """{label: value} of every st.metric on the page (first one wins for a repeated label)."""
        out: dict[str, str] = {}
        for metric in self.page.get_by_test_id("stMetric").all():
            label = metric.get_by_test_id("stMetricLabel").inner_text().strip()
            out.setdefault(label, metric.get_by_test_id("stMetricValue").inner_text().strip())
        return out

    def alerts(self) -> list[str]:
        return [text.strip() for text in self.page.get_by_test_id("stAlert").all_inner_texts()]

    def exceptions(self) -> list[str]:
        return self.page.get_by_test_id("stException").all_inner_texts()

    def query(self) -> dict[str, str]:
        from urllib.parse import parse_qsl, urlsplit

        return dict(parse_qsl(urlsplit(self.page.url).query))

    def open_tab(self, name_part: str) -> None:
        """Click a tab and wait for the rerun that renders it (only the open tab is rendered)."""
        tab = self.page.get_by_test_id("stTab").filter(has_text=name_part).first
        if tab.get_attribute("aria-selected") != "true":
            self.rerun_after(tab.click)

    def screenshot(self, path: Path, full_dashboard: bool = False) -> Path:
        """Save a screenshot; with `full_dashboard` the viewport grows to the height of the scrolling
        main area (Streamlit scrolls inside [data-testid='stMain'], so a 'full page' shot alone would
        cut it off) and the charts get time to re-layout to the new size."""
        if full_dashboard:
            size = self.page.viewport_size or {"width": 1400, "height": 1000}
            height = self.page.evaluate(
                """() => Math.max(...["stMain", "stSidebarContent"].map((id) => {
                     const el = document.querySelector(`[data-testid='${id}']`);
                     return el ? el.scrollHeight : 0;
                   }))"""
            )
            self.page.set_viewport_size({"width": size["width"], "height": int(height) + 40})
            self.page.wait_for_timeout(1500)  # charts re-render at the new size
            self.wait_idle()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_no_console_errors(self) -> None:
        assert not self.console_errors, "browser console errors:\n" + "\n".join(self.console_errors)


def _new_app_page(browser, server: StreamlitServer, viewport: dict[str, int], **options):
    context = browser.new_context(viewport=viewport, accept_downloads=True, **options)
    page = context.new_page()
    page.set_default_timeout(RERUN_TIMEOUT_MS)
    app = AppPage(page, server)

    def on_frame(payload) -> None:
        if finished_run(payload):
            app.finished_runs += 1

    page.on("websocket", lambda socket: socket.on("framereceived", on_frame))

    def on_console(message) -> None:
        if message.type == "error":
            app.console_errors.append(f"console.error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: app.console_errors.append(f"page error: {error}"))
    return context, app


@pytest.fixture
def app_page(browser, server) -> Iterator[AppPage]:
    """A fresh browser context and page (its own Streamlit session) with a 1400 x 1000 viewport."""
    context, app = _new_app_page(browser, server, {"width": 1400, "height": 1000})
    yield app
    context.close()


@pytest.fixture
def app_page_at(browser, server) -> Iterator[Callable[[int], AppPage]]:
    """A factory of pages `width` px wide (390: a phone, 1024: a tablet or small laptop, 1440: a desktop),
    each in its own context (its own session), 900 px high; `options` go to the context (e.g. has_touch)."""
    contexts = []

    def make(width: int, height: int = 900, **options) -> AppPage:
        context, app = _new_app_page(browser, server, {"width": width, "height": height}, **options)
        contexts.append(context)
        return app

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def new_app_page(browser, server) -> Iterator[Callable[[], AppPage]]:
    """A factory of extra independent pages (separate contexts, hence separate sessions)."""
    contexts = []

    def make() -> AppPage:
        context, app = _new_app_page(browser, server, {"width": 1400, "height": 1000})
        contexts.append(context)
        return app

    yield make
    for context in contexts:
        context.close()

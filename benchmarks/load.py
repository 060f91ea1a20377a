"""Load and memory benchmark for the dashboard (issue 6), loopback only, bounded in count and time.

    python benchmarks/load.py            # 20 concurrent browser sessions x 10 widget changes, then the
                                         # largest settings on a fresh server (about 1-2 minutes)
    python benchmarks/load.py --quick    # 3 sessions x 3 changes, same checks (CI: proves it runs)

1. One `streamlit run streamlit_app.py` server on a free 127.0.0.1 port; one headless Chromium (Debian's
   /usr/bin/chromium or $CHROMIUM_PATH, else Playwright's own) with one browser context per session, all
   driven concurrently by asyncio Playwright. Each session opens the app, waits for its four charts, then
   makes its widget changes one after another (alpha and noise sliders and the log-scale toggle by
   keyboard, epochs / seed / start w typed), waiting for each rerun to finish, as Streamlit's own browser
   tests do, on `[data-testid='stApp'][data-test-script-state='notRunning']`, after the server's
   `script_finished` message for it has arrived on the page's websocket (so a fast rerun is not
   missed). Latency = widget change to rerun finished, seen by the browser. An error is a rerun that times out, an exception element on the page, a browser console
   error, a page that loses its charts, a change that also alters another sidebar widget, or a session
   that ends up showing another value than the one it set (isolation under load). Screenshots of the
   failures go to artifacts/load/.
   Prints p50 / p95 / max latency, the error count (target 0) and the server's peak RSS, sampled every
   20 ms from /proc/<pid>/status (VmRSS) and checked against the kernel's high-water mark (VmHWM).
2. A fresh server, one session at the largest settings the controls offer (samples 1,000,000, epochs
   100,000, via the URL) plus one alpha change there: the server's peak RSS, target <= 500 MB.

Prints PASS or FAIL for each target and always exits 0 (measurements are reported, never asserted);
it exits 2 only when it cannot run at all (no Playwright, no browser, server not starting).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from devtools.browser import CHROMIUM_ARGS, free_loopback_port, stop_process_group, streamlit_command

REPO_ROOT = Path(__file__).resolve().parents[1]
PEAK_RSS_LIMIT_MB = 500.0
RERUN_TIMEOUT_MS = 120_000
LARGE = {"samples": 1_000_000, "epochs": 100_000}

IDLE_SELECTOR = "[data-testid='stApp'][data-test-script-state='notRunning']"
# What every sidebar widget shows (its text and its inputs' values), by widget key.
SIDEBAR_JS = """() => Object.fromEntries([...document.querySelectorAll("[data-testid='stSidebar'] [class*='st-key-']")]
  .map((el) => [
    [...el.classList].find((c) => c.startsWith('st-key-')).slice(7),
    el.innerText.replace(/\\s+/g, ' ').trim() + ' ' + [...el.querySelectorAll('input')]
      .map((i) => (i.type === 'checkbox' ? String(i.checked) : i.value)).join(','),
  ]))"""


def finished_run(payload) -> bool:
    """Whether a websocket frame from the server ends a script run (one not cut short by a rerun).
    Counted from the protocol, a fast rerun cannot be missed (a DOM attribute that React flips to
    'running' and back within one batch never changes at all)."""
    if not isinstance(payload, bytes | bytearray):
        return False
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    message = ForwardMsg()
    try:
        message.ParseFromString(bytes(payload))
    except Exception:
        return False
    return (
        message.WhichOneof("type") == "script_finished"
        and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
    )


# ------------------------------------------------------------------------------------------------ server


class Server:
    """`streamlit run` in its own process group on a free loopback port, with an RSS sampler."""

    def __init__(self, log_dir: Path, name: str) -> None:
        self.port = free_loopback_port()
        self.log_path = log_dir / f"{name}.log"
        command = streamlit_command(self.port)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.peak_rss_kb = 0
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def wait_ready(self, timeout_s: float = 60.0) -> float:
        start = time.perf_counter()
        health = f"{self.url}_stcore/health"
        while time.perf_counter() - start < timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited ({self.process.returncode}): {self.log_tail()}")
            with (
                contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                urllib.request.urlopen(health, timeout=2) as response,
            ):
                if response.status == 200:
                    self._sampler.start()
                    return time.perf_counter() - start
            time.sleep(0.1)
        raise RuntimeError(f"streamlit did not answer {health} within {timeout_s:.0f} s")

    def _status_kb(self, field_name: str) -> int:
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith(field_name + ":"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def _sample(self) -> None:
        while not self._stop_sampling.is_set():
            self.peak_rss_kb = max(self.peak_rss_kb, self._status_kb("VmRSS"))
            self._stop_sampling.wait(0.02)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        try:
            with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return float("nan")

    def rss_mb(self) -> float:
        return self._status_kb("VmRSS") / 1024

    def peak_mb(self) -> tuple[float, float]:
        """(sampled peak VmRSS, kernel high-water mark VmHWM) in MB."""
        return self.peak_rss_kb / 1024, self._status_kb("VmHWM") / 1024

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        self._stop_sampling.set()
        stop_process_group(self.process)


def chromium_executable() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


# ------------------------------------------------------------------------------------------------ sessions


@dataclass
class SessionResult:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    first_load_s: float = float("nan")


class Session:
    """One browser context = one Streamlit session."""

    def __init__(self, page, index: int) -> None:
        self.page = page
        self.index = index
        self.result = SessionResult()
        self.failures = 0
        self.finished_runs = 0
        page.on("websocket", lambda socket: socket.on("framereceived", self._frame))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.result.errors.append(f"session {index}: page error: {error}"))

    def _frame(self, payload) -> None:
        if finished_run(payload):
            self.finished_runs += 1

    def _console(self, message) -> None:
        if message.type == "error":
            self.result.errors.append(f"session {self.index}: console error: {message.text}")

    def widget(self, key: str):
        return self.page.locator(f".st-key-{key}")

    async def open(self, url: str) -> None:
        start = time.perf_counter()
        await self.page.goto(url)
        await self.page.wait_for_selector(IDLE_SELECTOR, state="attached", timeout=RERUN_TIMEOUT_MS)
        await self.page.get_by_test_id("stVegaLiteChart").nth(3).wait_for(timeout=RERUN_TIMEOUT_MS)
        await self.page.wait_for_selector(IDLE_SELECTOR, state="attached", timeout=RERUN_TIMEOUT_MS)
        self.result.first_load_s = time.perf_counter() - start
        await self.check_page("first load")

    async def describe(self) -> str:
        """The page's state when something went wrong: connection, script state, reruns seen, charts,
        alerts; a screenshot goes to artifacts/load/."""
        try:
            state = await self.page.evaluate(
                """() => {
                  const app = document.querySelector("[data-testid='stApp']");
                  return {
                    connection: app && app.getAttribute('data-test-connection-state'),
                    script: app && app.getAttribute('data-test-script-state'),
                    charts: document.querySelectorAll("[data-testid='stVegaLiteChart']").length,
                    exceptions: document.querySelectorAll("[data-testid='stException']").length,
                    alerts: [...document.querySelectorAll("[data-testid='stAlert']")]
                      .map((e) => e.innerText.trim().slice(0, 80)).join(' | '),
                  };
                }"""
            )
            shots = REPO_ROOT / "artifacts" / "load"
            shots.mkdir(parents=True, exist_ok=True)
            self.failures += 1
            await self.page.screenshot(path=str(shots / f"session{self.index}-{self.failures}.png"))
            state["runs finished"] = self.finished_runs
            return ", ".join(f"{k}={v}" for k, v in state.items())
        except Exception as exc:
            return f"page state unavailable: {type(exc).__name__}"

    async def check_page(self, when: str) -> None:
        exceptions = await self.page.get_by_test_id("stException").count()
        if exceptions:
            self.result.errors.append(f"session {self.index}: exception on the page after {when}")

    async def rerun_after(self, action, label: str, key: str = "") -> None:
        sidebar = await self.page.evaluate(SIDEBAR_JS)
        before = self.finished_runs
        start = time.perf_counter()
        try:
            await action()
            deadline = start + RERUN_TIMEOUT_MS / 1000
            while self.finished_runs <= before:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"no rerun finished within {RERUN_TIMEOUT_MS / 1000:.0f} s")
                await asyncio.sleep(0.005)
            await self.page.wait_for_selector(IDLE_SELECTOR, state="attached", timeout=RERUN_TIMEOUT_MS)
        except Exception as exc:  # a timeout or a lost page: counted, reported, the session goes on
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            state = await self.describe()
            self.result.errors.append(
                f"session {self.index}: {label}: {type(exc).__name__}: {first_line} [{state}]"
            )
            return
        self.result.latencies.append(time.perf_counter() - start)
        await self.check_page(label)
        # The change touched one widget; every other sidebar widget must show what it showed before.
        after = await self.page.evaluate(SIDEBAR_JS)
        for other, shown in sidebar.items():
            if other != key and shown.strip() and after.get(other) != shown:  # (blank: still mounting)
                self.result.errors.append(
                    f"session {self.index}: {label} also changed widget {other!r}: "
                    f"{shown!r} -> {after.get(other)!r}"
                )

    async def press(self, key: str, keyboard_key: str) -> None:
        thumb = self.widget(key).locator("input[type='range'], [role='slider']").first
        await self.rerun_after(lambda: thumb.press(keyboard_key), f"{key} {keyboard_key}", key)

    async def type_number(self, key: str, value: object) -> None:
        box = self.widget(key).locator("input").first

        async def action() -> None:
            await box.fill(str(value))
            await box.press("Enter")

        await self.rerun_after(action, f"{key} = {value}", key)

    async def click_toggle(self, key: str) -> None:
        # Space on the focused switch, not a mouse click: a click can land beside a toggle that the
        # previous rerun is still moving (layout shifts while charts re-render on a loaded machine).
        switch = self.widget(key).locator("input[role='switch'], input[type='checkbox']").first
        await self.rerun_after(lambda: switch.press("Space"), f"toggle {key}", key)

    async def number_shown(self, key: str) -> str:
        return await self.widget(key).locator("input").first.input_value()


def change_plan(index: int, count: int) -> list[tuple[str, str, object]]:
    """`count` widget changes, different for every session (seeded by its index), each a real change."""
    rng = random.Random(index)
    plan: list[tuple[str, str, object]] = []
    used_numbers: dict[str, object] = {"epochs": 100, "seed": 42, "w0": 1.0}
    menu = ["alpha", "noise", "epochs", "seed", "w0", "log_loss"]
    alpha_moves = 0
    while len(plan) < count:
        kind = menu[len(plan) % len(menu)] if len(plan) < len(menu) else rng.choice(menu)
        if kind == "alpha":
            # stay on the slider's safe side: 0.01 +/- a few steps (alpha_max is 20 steps up)
            step = "ArrowRight" if alpha_moves <= 0 else "ArrowLeft"
            alpha_moves += 1 if step == "ArrowRight" else -1
            plan.append(("press", "alpha", step))
        elif kind == "noise":
            plan.append(("press", "noise", rng.choice(["ArrowRight", "ArrowLeft"])))
        elif kind == "log_loss":
            plan.append(("toggle", "log_loss", None))
        else:
            choices = {
                "epochs": [50, 150, 200, 300, 500, 1000, 2000],
                "seed": list(range(1, 200)),
                "w0": [-20.0, -5.0, 0.0, 3.0, 10.0, 25.0],
            }[kind]
            value = rng.choice([c for c in choices if c != used_numbers[kind]])
            used_numbers[kind] = value
            plan.append(("type", kind, value))
    return plan


async def run_session(browser, url: str, index: int, changes: int) -> SessionResult:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(RERUN_TIMEOUT_MS)
    session = Session(page, index)
    try:
        await session.open(url)
        expected: dict[str, str] = {}
        for action, key, value in change_plan(index, changes):
            if action == "press":
                await session.press(key, value)
            elif action == "toggle":
                await session.click_toggle(key)
            else:
                await session.type_number(key, value)
                expected[key] = value
            if await page.get_by_test_id("stVegaLiteChart").count() == 0:
                # The experiment is gone from the page (e.g. an emptied optimizer choice): one error,
                # and this session stops rather than timing out on widgets that are no longer drawn.
                state = await session.describe()
                session.result.errors.append(f"session {index}: the page lost its charts [{state}]")
                expected.clear()
                break
        for key, value in expected.items():  # this session shows what it set, not another session's
            shown = await session.number_shown(key)
            if float(shown) != float(value):
                session.result.errors.append(f"session {index}: {key} shows {shown}, it set {value}")
    except Exception as exc:
        session.result.errors.append(f"session {index}: {type(exc).__name__}: {exc}")
    finally:
        await context.close()
    return session.result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


async def load_phase(browser, server: Server, sessions: int, changes: int, budget_s: float) -> dict:
    start = time.perf_counter()
    tasks = [run_session(browser, server.url, i, changes) for i in range(sessions)]
    try:
        results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=budget_s)
    except TimeoutError:
        return {"timed_out": True, "wall_s": time.perf_counter() - start}
    latencies = [lat for r in results for lat in r.latencies]
    errors = [e for r in results for e in r.errors]
    expected = sessions * changes
    if len(latencies) < expected and not errors:
        errors.append(f"{expected - len(latencies)} reruns were not measured")
    return {
        "timed_out": False,
        "wall_s": time.perf_counter() - start,
        "latencies": latencies,
        "errors": errors,
        "first_loads": [r.first_load_s for r in results],
    }


async def large_phase(browser, server: Server) -> dict:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(180_000)
    session = Session(page, 0)
    try:
        await session.open(server.url + "?" + urlencode(LARGE))
        await session.press("alpha", "ArrowRight")  # a rerun with a new run at the largest size
        await session.press("alpha", "ArrowLeft")
        texts = await page.get_by_test_id("stAlert").all_inner_texts()
        errors = [t for t in texts if "cannot run" in t or "Link ignored" in t]
        session.result.errors.extend(f"alert: {t.strip()[:200]}" for t in errors)
    except Exception as exc:
        session.result.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        await context.close()
    return {
        "first_load_s": session.result.first_load_s,
        "latencies": session.result.latencies,
        "errors": session.result.errors,
    }


async def main_async(args) -> int:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        print("cannot run: Playwright is not installed (pip install playwright)")
        return 2
    sessions, changes = (3, 3) if args.quick else (args.sessions, args.changes)
    budget_s = 120.0 if args.quick else args.budget
    print(f"Gradient Descent Lab load benchmark ({'quick' if args.quick else 'full'} mode)")
    load1, load5, _ = os.getloadavg()
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load1:.1f} / {load5:.1f} (1 / 5 min) at start, loopback only"
    )
    executable = chromium_executable()
    log_dir = Path(tempfile.mkdtemp(prefix="gdlab-load-"))
    async with async_playwright() as pw:
        try:
            browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:
            print(f"cannot run: no usable Chromium ({executable or 'Playwright own'}): {exc}")
            return 2
        print(f"browser: {executable or 'Playwright Chromium'} {browser.version}")

        server = Server(log_dir, "load")
        try:
            ready = server.wait_ready()
            print(f"server up in {ready:.1f} s, pid {server.process.pid}, RSS {server.rss_mb():.0f} MB idle")
            print(f"\n1. {sessions} concurrent sessions x {changes} widget changes (budget {budget_s:.0f} s)")
            cpu_before = server.cpu_seconds()
            load = await load_phase(browser, server, sessions, changes, budget_s)
            sampled, hwm = server.peak_mb()
            server_cpu = server.cpu_seconds() - cpu_before
        finally:
            server.stop()
            server_log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
        if load["timed_out"]:
            print(f"   timed out after {load['wall_s']:.0f} s")
            errors, lat = [f"the load phase exceeded its {budget_s:.0f} s budget"], []
        else:
            errors, lat = load["errors"], load["latencies"]
            print(
                f"   wall time {load['wall_s']:.1f} s; first loads: median "
                f"{statistics.median(load['first_loads']):.2f} s, max {max(load['first_loads']):.2f} s"
            )
            print(f"   reruns measured: {len(lat)}")
            print(
                f"   server CPU {server_cpu:.1f} s over {load['wall_s']:.0f} s wall "
                f"({server_cpu / load['wall_s']:.0%} of one core; the browsers share the same "
                f"{os.cpu_count()} CPUs)"
            )
            print(
                f"   latency p50 {percentile(lat, 50) * 1000:.0f} ms, p95 {percentile(lat, 95) * 1000:.0f} ms, "
                f"max {max(lat, default=float('nan')) * 1000:.0f} ms"
            )
        print(f"   errors: {len(errors)}")
        for error in errors[:15]:
            print(f"     - {error[:400]}")
        if len(errors) > 15:
            print(f"     ... and {len(errors) - 15} more")
        logged = [line for line in server_log.splitlines() if "Error" in line or "Traceback" in line]
        if logged:
            print(f"   server log: {len(logged)} error line(s), e.g. {logged[0][:200]}")
        print(f"   server peak RSS: {sampled:.0f} MB sampled (VmHWM {hwm:.0f} MB)")
        print(f"   {'PASS' if not errors else 'FAIL'}: error count {len(errors)} (target 0)")

        print(
            f"\n2. largest settings on a fresh server: samples {LARGE['samples']:,}, "
            f"epochs {LARGE['epochs']:,} (URL), then two alpha changes"
        )
        server = Server(log_dir, "large")
        try:
            server.wait_ready()
            idle = server.rss_mb()
            large = await large_phase(browser, server)
            sampled, hwm = server.peak_mb()
        finally:
            server.stop()
        await browser.close()
    peak = max(sampled, hwm)
    print(
        f"   first load {large['first_load_s']:.2f} s; reruns after alpha changes: "
        + ", ".join(f"{x * 1000:.0f} ms" for x in large["latencies"])
    )
    for error in large["errors"]:
        print(f"     - {error[:300]}")
    print(f"   server RSS idle {idle:.0f} MB; peak {sampled:.0f} MB sampled (VmHWM {hwm:.0f} MB)")
    ok = peak <= PEAK_RSS_LIMIT_MB and not large["errors"]
    print(
        f"   {'PASS' if ok else 'FAIL'}: peak RSS {peak:.0f} MB (target <= {PEAK_RSS_LIMIT_MB:.0f} MB)"
        + ("" if not large["errors"] else f", {len(large['errors'])} error(s)")
    )
    shutil.rmtree(log_dir, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 sessions x 3 changes (CI)")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions (max 50)")
    parser.add_argument("--changes", type=int, default=10, help="widget changes per session (max 50)")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds allowed for the load phase")
    args = parser.parse_args()
    args.sessions = max(1, min(args.sessions, 50))  # bounded, whatever is asked
    args.changes = max(1, min(args.changes, 50))
    args.budget = max(10.0, min(args.budget, 900.0))
    try:
        return asyncio.run(main_async(args))
    except RuntimeError as exc:
        print(f"cannot run: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""`streamlit run serve.py`, the deployed entry (st.App with a warm-up as the server starts), serves the
same page: the blog's experiment with its four charts and the blog's corrected numbers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import gdcore
from devtools.browser import free_loopback_port, streamlit_command

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path):
    """`streamlit run serve.py` on a free port: (its URL, its log file)."""
    port = free_loopback_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            streamlit_command(port, "serve.py"),
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            with (
                contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                urllib.request.urlopen(url + "_stcore/health", timeout=2) as response,
            ):
                if response.status == 200:
                    break
            assert time.monotonic() < deadline, "serve.py did not answer its health check"
            time.sleep(0.1)
        yield url, log_path
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_serve_py_serves_the_page(browser, served):
    url, log_path = served
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_test_id("stVegaLiteChart").nth(3).wait_for(timeout=60_000)
        page.wait_for_selector(
            "[data-testid='stApp'][data-test-script-state='notRunning']", state="attached", timeout=60_000
        )
        metrics = {}
        for metric in page.get_by_test_id("stMetric").all():
            label = metric.get_by_test_id("stMetricLabel").inner_text().strip()
            metrics.setdefault(label, metric.get_by_test_id("stMetricValue").inner_text().strip())
        data = gdcore.make_data(n_samples=100, noise=20.0, seed=42)
        run = gdcore.descend(data.X, data.y)
        assert metrics["Best epoch"] == f"{run.best_epoch:,}"
        assert metrics["Error (MSE)"] == f"{run.best_loss:,.3f}"
        assert page.get_by_test_id("stException").count() == 0
        assert "Traceback" not in log_path.read_text(errors="replace")
    finally:
        context.close()

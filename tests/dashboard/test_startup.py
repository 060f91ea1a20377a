"""Once per server process the page freezes its start-up objects (ui/startup.py), so Streamlit's full
garbage collection after every script run walks only what was made since (issue 10 §2). The saving is
measured by benchmarks (server CPU per rerun); these tests check that it happens, once."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> str:
    """Run `code` in a fresh interpreter (a fresh process is what the freeze is about)."""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_freeze_imports_freezes_once_after_collecting_and_again_after_new_imports():
    out = run_python(
        "import gc, sys\n"
        "from ui.startup import freeze_imports\n"
        "cycle = []; cycle.append(cycle); del cycle\n"  # garbage made before: collected, not frozen
        "before = gc.get_freeze_count()\n"
        "first, frozen = freeze_imports(), gc.get_freeze_count()\n"
        "made_after = [[] for _ in range(100)]\n"  # objects made after the freeze stay with the collector
        "second, after = freeze_imports(), gc.get_freeze_count()\n"
        "assert 'colorsys' not in sys.modules\n"
        "import colorsys\n"  # a module imported later (as scikit-learn is, for other data): frozen too
        "third, later = freeze_imports(), gc.get_freeze_count()\n"
        "print(before, first, frozen, second, after, third, later)\n"
    )
    before, first, frozen, second, after, third, later = out.split()
    assert (before, first, second, third) == ("0", "True", "False", "True")
    assert int(frozen) > 1000 and after == frozen and int(later) > int(frozen)


def test_the_page_freezes_its_start_up_objects_on_its_first_run():
    out = run_python(
        "import gc, logging\n"
        "import streamlit as st\n"
        "st.logger.set_log_level(logging.CRITICAL)\n"
        "from streamlit.testing.v1 import AppTest\n"
        "before = gc.get_freeze_count()\n"
        "at = AppTest.from_file('streamlit_app.py', default_timeout=120).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "first = gc.get_freeze_count()\n"
        "at.get_by_key('alpha').set_value(0.02).run()\n"
        "print(before, first, gc.get_freeze_count())\n"
    )
    before, first, second = map(int, out.split())
    assert before == 0
    assert first > 50_000  # numpy, pandas, scikit-learn, altair and streamlit's objects
    # A rerun freezes nothing more (the count moves by a few hundred as frozen objects are freed).
    assert abs(second - first) < 0.01 * first


def test_the_warm_up_imports_the_page_and_runs_it_in_bare_mode():
    out = run_python(
        "import gc, sys\n"
        "from pathlib import Path\n"
        "from ui import startup\n"
        "startup.warm_page(Path('streamlit_app.py'))\n"
        "imported = all(m in sys.modules for m in ('sklearn.datasets', 'altair', 'ui.results', 'ui.sidebar'))\n"
        "from ui.chart_memo import PAYLOADS\n"
        "kinds = {key[0] for key in PAYLOADS._entries}\n"
        "sklearn_frozen = any(getattr(o, '__name__', '') == 'sklearn.datasets' for o in gc.get_objects())\n"
        "print(imported, {'loss', 'parameters', 'fit', 'landscape'} <= kinds, gc.get_freeze_count() > 50_000, "
        "sklearn_frozen)\n"
    )
    # imported, scikit-learn last; the default charts drawn, those in fragments too
    # (ui.startup.page_fragment); start-up frozen, scikit-learn's modules too (the collector no longer sees them)
    assert out.split() == ["True", "True", "True", "False"]


def test_a_session_that_connected_during_the_imports_stops_the_warm_up_before_its_page_run():
    """Two runs of the page on one core would each take twice as long: once a browser has connected, the
    warm-up only imports (the visitor's own run fills the caches)."""
    out = run_python(
        "import gc, sys, threading\n"
        "from pathlib import Path\n"
        "from ui import startup\n"
        "connected = threading.Event(); connected.set()\n"
        "startup.warm_page(Path('streamlit_app.py'), connected)\n"
        "imported = all(m in sys.modules for m in ('altair', 'ui.results'))\n"
        "from ui.chart_memo import PAYLOADS\n"
        "print(imported, 'sklearn' in sys.modules, len(PAYLOADS), gc.get_freeze_count())\n"
    )
    # the page's modules imported, scikit-learn not (the first page does not need it); no chart drawn,
    # nothing frozen: no page run
    assert out.split() == ["True", "False", "0", "0"]


def test_the_session_signal_is_set_by_a_websocket_and_passes_every_request_on():
    import threading

    from ui.startup import SessionSignal

    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    def run(coroutine) -> None:
        """Run a coroutine that awaits nothing that suspends, whatever event loop this thread holds."""
        with pytest.raises(StopIteration):
            coroutine.send(None)

    connected = threading.Event()
    signal = SessionSignal(app, connected)
    run(signal({"type": "http", "path": "/_stcore/health"}, None, None))
    assert not connected.is_set()  # a health check or a static file is no visitor's session
    run(signal({"type": "websocket", "path": "/_stcore/stream"}, None, None))
    assert connected.is_set() and seen == ["http", "websocket"]


def test_serve_py_gives_st_app_the_warm_up_and_the_session_signal_one_event():
    import ast

    tree = ast.parse((REPO_ROOT / "serve.py").read_text(encoding="utf-8"))
    [call] = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "st.App"]
    keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
    assert keywords["lifespan"] == "warm_up(PAGE, CONNECTED)"
    assert keywords["middleware"] == "[Middleware(SessionSignal, connected=CONNECTED)]"


def test_the_run_command_and_the_cloud_main_file_start_the_deployed_entry():
    """./scripts/run.sh, the README's run command and its Community Cloud main file name one entry,
    serve.py (the page warmed up as the server starts): what runs locally is what is deployed."""
    run_script = (REPO_ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    [command] = [line for line in run_script.splitlines() if "streamlit run" in line and "#" not in line]
    started = command.split("streamlit run", 1)[1].split()[0]
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    said = re.search(r"\./scripts/run\.sh +# [^\n]*\(streamlit run (\S+),", readme)
    cloud = re.search(r"Main file \*\*`([^`]+)`\*\*", readme)
    assert said and cloud, "the README no longer states the run command or the Cloud main file"
    assert started == said.group(1) == cloud.group(1) == "serve.py"
    assert "app = st.App(" in (REPO_ROOT / started).read_text(encoding="utf-8")

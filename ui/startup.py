"""Once per server process: a warm start, and Streamlit's garbage collection after every run kept cheap.

After each script run Streamlit calls `gc.collect(2)` (the `runner.postScriptGC` option, on by default),
a full collection that walks every object the garbage collector tracks. Once numpy, pandas,
scikit-learn/scipy, Altair and Streamlit are imported that is about 180,000 objects, 60-120 ms of CPU on
every rerun of every session: more than the rest of a rerun. `freeze_imports` collects once and then
moves every surviving object (modules, classes, functions, caches: they live as long as the process) into
the permanent generation that `gc.freeze` sets aside, so each later collection walks only what was made
since. Reference counting still frees frozen objects; only a reference cycle among them is never
collected, which for objects made at start-up costs nothing.

`warm_up` is the start-up hook `serve.py` gives `st.App`: as the server starts, a background thread
imports the page's modules and runs the page once (`warm_page`), so the first visitor does not wait
for the imports of pandas and Altair, nor for the first charts' templates. The first page does not
need scikit-learn (the blog's data is stored), so the warm-up imports it last, when nobody waits. Once a
browser has connected (`SessionSignal`, the middleware `serve.py` gives `st.App`), that run is skipped:
the visitor's own run does the same work, and two runs of the page on the server's one core would each
take twice as long.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import gc
import importlib
import logging
import runpy
import sys
import threading
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

_lock = threading.Lock()
_frozen_at: list[int] = []  # len(sys.modules) at each freeze of this process
# Not needed by the first page (the blog's data is stored: gdcore.blog_data), only by other data sets:
# the warm-up imports them last, when no one is waiting.
DEFERRED_IMPORTS = ("sklearn.datasets",)


def freeze_imports() -> bool:
    """Collect, then freeze every tracked object, the first time it is called in this process and again
    whenever modules have been imported since (scikit-learn, when someone first asks for other data);
    True if this call did it."""
    with _lock:
        if _frozen_at and len(sys.modules) <= _frozen_at[-1]:
            return False
        gc.collect()
        gc.freeze()
        _frozen_at.append(len(sys.modules))
        return True


def import_page_modules(page: Path) -> None:
    """Import every module the page script imports (read from its import statements): scikit-learn and
    scipy, pandas, Altair and the page's own sections, most of the time of a first run."""
    tree = ast.parse(page.read_text(encoding="utf-8"))
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    names += [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
    ]
    for name in dict.fromkeys(names):
        importlib.import_module(name)


class BareModeFilter(logging.Filter):
    """Drops Streamlit's 'missing ScriptRunContext' warning, which every element logs in bare mode."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "missing ScriptRunContext" not in record.getMessage()


class SessionSignal:
    """ASGI middleware that sets `connected` when a browser opens a websocket (a session starts), and
    otherwise passes every request on unchanged."""

    def __init__(self, app, connected: threading.Event) -> None:
        self.app = app
        self.connected = connected

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket":
            self.connected.set()
        await self.app(scope, receive, send)


def warm_page(page: Path, connected: threading.Event | None = None) -> None:
    """Import the page's modules, then, unless a session has `connected` by then, run the page once in
    Streamlit's bare mode (no session: its elements go nowhere), which puts the blog's default experiment
    in the shared caches and builds the charts' templates; a first real run then costs about what a
    rerun does. Last, still only if no session has connected, import DEFERRED_IMPORTS and freeze them
    too. A session that arrives during the imports waits only for the module being imported (Python's
    import lock); one that arrives during the bare run runs beside it."""
    quiet = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    bare_mode_warning = BareModeFilter()

    def waited_for() -> bool:
        return connected is not None and connected.is_set()

    try:
        import_page_modules(page)
        if waited_for():
            return
        quiet.addFilter(bare_mode_warning)
        runpy.run_path(str(page), run_name="__main__")
        if waited_for():
            return
        for name in DEFERRED_IMPORTS:
            importlib.import_module(name)
        freeze_imports()
    except Exception:  # only a warm-up: a real session shows whatever is wrong
        logging.getLogger(__name__).exception("warming up %s failed", page)
    finally:
        quiet.removeFilter(bare_mode_warning)


def page_fragment(func):
    """`st.fragment`, except with no script run, where Streamlit skips a fragment's body: in the warm-up's
    bare run (`warm_page`) the body runs as plain code, so the charts inside fragments are drawn (and
    kept) for the first visitor too."""
    fragment = st.fragment(func)

    @functools.wraps(func)
    def call(*args, **kwargs):
        if get_script_run_ctx() is None:
            return func(*args, **kwargs)
        return fragment(*args, **kwargs)

    return call


def warm_up(page: Path, connected: threading.Event | None = None):
    """An `st.App` lifespan that warms the page up (`warm_page`) in a background thread as the server
    starts: the server answers at once."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        thread = threading.Thread(target=warm_page, args=(page, connected), name="gdlab-warm-up", daemon=True)
        thread.start()
        yield

    return lifespan

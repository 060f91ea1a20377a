"""Once per server process: a warm start, and Streamlit's garbage collection after every run kept cheap.

After each script run Streamlit calls `gc.collect(2)` (the `runner.postScriptGC` option, on by default),
a full collection that walks every object the garbage collector tracks. Once numpy, pandas,
scikit-learn/scipy, Altair and Streamlit are imported that is about 180,000 objects, 60-120 ms of CPU on
every rerun of every session: more than the rest of a rerun. `freeze_imports` collects once and then
moves every surviving object (modules, classes, functions, caches: they live as long as the process) into
the permanent generation that `gc.freeze` sets aside, so each later collection walks only what was made
since. Reference counting still frees frozen objects; only a reference cycle among them is never
collected, which for objects made at start-up costs nothing.

`warm_up` is the start-up hook `serve.py` gives `st.App`: the page runs once in the background as the
server starts, so a cold start no longer waits for the imports after the first browser connects.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import runpy
import threading
from pathlib import Path

WARM_UP_THREAD = "gdlab-warm-up"
_lock = threading.Lock()
_done: list[bool] = []  # [True] once this process has frozen its start-up objects


def freeze_imports() -> bool:
    """Collect, then freeze every tracked object, the first time it is called in this process; True if
    this call did it."""
    with _lock:
        if _done:
            return False
        gc.collect()
        gc.freeze()
        _done.append(True)
        return True


_warming = threading.Event()  # set while the page runs in the warm-up thread
_warm = threading.Event()  # set when that run has finished


def wait_for_warm_up(timeout_s: float = 60.0) -> None:
    """Called first thing by the page: while the warm-up run is still going, a session waits for it
    rather than doing the same work beside it (two threads sharing one core would both be slower).
    Returns at once without a warm-up, after it, or in the warm-up thread itself."""
    if _warming.is_set() and not _warm.is_set() and threading.current_thread().name != WARM_UP_THREAD:
        _warm.wait(timeout_s)


def run_page_once(page: Path) -> None:
    """Run the page script once, in Streamlit's bare mode (no session: its elements go nowhere), so that
    everything its first real run needs is ready: the imports (scikit-learn and scipy, pandas, Altair:
    most of a cold start), the blog's default experiment in the shared caches, the charts' templates.
    Then freeze what that made (see `freeze_imports`)."""
    quiet = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    bare_mode_warning = BareModeFilter()
    quiet.addFilter(bare_mode_warning)
    _warming.set()
    try:
        runpy.run_path(str(page), run_name="__main__")
    except Exception:  # the page is run for its side effects; a real session will show any error
        logging.getLogger(__name__).exception("warming up %s failed", page)
    finally:
        quiet.removeFilter(bare_mode_warning)
        freeze_imports()
        _warm.set()


class BareModeFilter(logging.Filter):
    """Drops Streamlit's 'missing ScriptRunContext' warning, which every element logs in bare mode."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "missing ScriptRunContext" not in record.getMessage()


def warm_up(page: Path):
    """An `st.App` lifespan that runs the page once in a background thread as the server starts: the
    server answers at once, and the first visitor's browser loads the page while the imports happen."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        threading.Thread(target=run_page_once, args=(page,), name=WARM_UP_THREAD, daemon=True).start()
        yield

    return lifespan

"""Once per server process: keep Streamlit's garbage collection after every script run cheap.

After each script run Streamlit calls `gc.collect(2)` (the `runner.postScriptGC` option, on by default),
a full collection that walks every object the garbage collector tracks. Once numpy, pandas,
scikit-learn/scipy, Altair and Streamlit are imported that is about 180,000 objects, 60-120 ms of CPU on
every rerun of every session: more than the rest of a rerun. `freeze_imports` collects once and then
moves every surviving object (modules, classes, functions, caches: they live as long as the process) into
the permanent generation that `gc.freeze` sets aside, so each later collection walks only what was made
since. Reference counting still frees frozen objects; only a reference cycle among them is never
collected, which for objects made at start-up costs nothing.
"""

from __future__ import annotations

import gc
import threading

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

"""The tabs under the charts. Only the open one is rendered, and it stays open across reruns.

The tabs are keyed and stateful (`st.tabs(..., key=TAB_KEY, on_change="rerun")`): opening a tab reruns
the page, `st.session_state[TAB_KEY]` holds the open tab's label, and only that tab's section runs, so
the closed tabs cost a rerun nothing. Because the open tab lives in session state, a rerun that changes
what stands above the tabs (more features add the landscape's axis pickers) no longer sends the user
back to the first tab; a test opens a tab by setting that key, as a click does.

The page opens on the learning-rate sweep's tab (DEFAULT_TAB), whose first view is one toggle: the Math
tab's formulas (KaTeX) and code block (the browser's syntax highlighter, its largest script) are drawn
when a learner opens it. A first visit draws the first chart sooner that way: in Chromium the headline's
metrics and the charts appeared together, after the open tab's scripts had loaded and run, so a heavy
default tab held the first chart back (measured in benchmarks/bench_app.py, cold start).
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

TAB_KEY = "tab"
TABS = {
    "math": "🧮 Math & theory",
    "sweep": "📐 Learning-rate sweep",
    "data": "🗂️ Data & weights",
    "export": "⬇️ Export & share",
}
DEFAULT_TAB = "sweep"  # open at the first visit: the lightest to draw (see above)


def open_tab() -> tuple[str, DeltaGenerator]:
    """Draw the tab bar; return the open tab's name (a key of TABS) and its container."""
    containers = st.tabs(list(TABS.values()), default=TABS[DEFAULT_TAB], key=TAB_KEY, on_change="rerun")
    return next((name, tab) for name, tab in zip(TABS, containers, strict=True) if tab.open)

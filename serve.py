"""The server entry for a hosted demo: `streamlit run serve.py` serves the page (streamlit_app.py) and, as
the server starts, warms it up in the background (ui.startup.warm_up: the page's imports of pandas and
Altair, then one run of the blog's default experiment, then scikit-learn for other data), so that a
visitor who comes after the first few seconds gets the first page about as fast as a rerun (a visitor
who comes sooner stops the warm-up after the imports: ui.startup.SessionSignal). `st.App(..., lifespan=...)` is
Streamlit's supported start-up hook; the page itself is unchanged, and `streamlit run streamlit_app.py`
still works (every first visit after a start then waits for those imports).
"""

import threading
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from ui.startup import SessionSignal, warm_up

PAGE = Path(__file__).resolve().parent / "streamlit_app.py"
CONNECTED = threading.Event()  # set when the first browser session connects

app = st.App(
    PAGE, lifespan=warm_up(PAGE, CONNECTED), middleware=[Middleware(SessionSignal, connected=CONNECTED)]
)

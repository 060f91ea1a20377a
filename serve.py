"""The server entry for a hosted demo: `streamlit run serve.py` serves the page (streamlit_app.py) and, as
the server starts, runs it once in the background (ui.startup.warm_up), so the imports of scikit-learn,
scipy, pandas and Altair and the blog's default experiment are ready by the time the first visitor's
browser has loaded the page. `st.App(..., lifespan=...)` is Streamlit's supported start-up hook; the page
itself is unchanged, and `streamlit run streamlit_app.py` still works (it just starts cold).
"""

from pathlib import Path

import streamlit as st

from ui.startup import warm_up

PAGE = Path(__file__).resolve().parent / "streamlit_app.py"

app = st.App(PAGE, lifespan=warm_up(PAGE))

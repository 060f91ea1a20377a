"""The page's sections, in Streamlit: the only code besides `streamlit_app.py` that imports Streamlit.

`streamlit_app.py` composes them; each takes what gdcore computed and lays it out. Numbers and texts come
from `gdcore` and `gdcore.dashboard`; nothing here computes.
"""

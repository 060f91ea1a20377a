"""The smallest useful Streamlit app, the yardstick benchmarks/ws_load.py measures the dashboard against.

One select_slider (key `alpha`, the dashboard's log grid 1e-4 .. 10 at ten steps a decade, shown with
f"{v:g}", so a client changes it with exactly the value it sends to the dashboard), two small Altair line
charts, and the URL query kept in step with the slider as the dashboard does (`?alpha=...`, left out at
the default), so the same isolation check applies to both. Whatever a rerun costs beyond this is the
dashboard's own work.

    streamlit run benchmarks/minimal_app.py
"""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

DEFAULT_ALPHA = 0.01
ALPHAS = tuple(float(f"{10.0 ** (k / 10):.3g}") for k in range(-40, 11))  # 1e-4 .. 10, as the dashboard

alpha = st.sidebar.select_slider(
    "Learning rate α (log scale)",
    options=ALPHAS,
    value=DEFAULT_ALPHA,
    key="alpha",
    format_func=lambda v: f"{v:g}",
)
st.query_params.from_dict({} if alpha == DEFAULT_ALPHA else {"alpha": repr(alpha)})
epochs = np.arange(101)
table = pd.DataFrame({"epoch": epochs, "loss": 300 + 1700 * (1 - 2 * alpha) ** (2 * epochs)})
st.altair_chart(alt.Chart(table).mark_line().encode(x="epoch:Q", y="loss:Q"), width="stretch")
st.altair_chart(
    alt.Chart(table).mark_line().encode(x="epoch:Q", y=alt.Y("loss:Q", scale=alt.Scale(type="log"))),
    width="stretch",
)

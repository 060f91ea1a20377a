"""The Export & share tab: the trajectory as CSV, the reproduce snippet, the share link."""

from __future__ import annotations

import functools
from urllib.parse import urlencode

import streamlit as st

import gdcore
from gdcore.dashboard.settings import Settings, to_query


def export_section(prepared, runs, settings: Settings) -> None:
    main_name, main_run = next(iter(runs.items()))
    st.download_button(
        f"⬇️ Download the trajectory of {main_name} (CSV)",
        # A callable: the CSV (100,001 rows at the largest settings) is written only when clicked.
        functools.partial(gdcore.trajectory_csv, main_run, prepared.train.feature_names),
        file_name="gradient_descent_trajectory.csv",
        mime="text/csv",
        key="download_csv",
    )
    if settings.source == "synthetic" and settings.test_fraction == 0 and not settings.standardize:
        st.markdown("**Reproduce in Python** (prints the same best-epoch line)")
        st.code(gdcore.reproduce_code(settings.synthetic(), settings.run_plan().first), language="python")
    st.markdown("**Share this experiment**")
    base = st.context.url or "http://localhost:8501/"
    query = urlencode(to_query(settings))
    st.code(base + ("?" + query if query else ""), language=None)
    if settings.source == "csv":
        st.caption("An uploaded file is not part of the link: whoever opens it uploads the file again.")

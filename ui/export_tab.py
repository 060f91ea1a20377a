"""The Export & share tab: the trajectory as CSV, the reproduce code (from scratch and with gdcore), the
share link."""

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
    reproduce_section(settings, main_name)
    st.markdown("**Share this experiment**")
    base = st.context.url or "http://localhost:8501/"
    query = urlencode(to_query(settings))
    st.code(base + ("?" + query if query else ""), language=None)
    if settings.source == "csv":
        st.caption("An uploaded file is not part of the link: whoever opens it uploads the file again.")


def reproduce_section(settings: Settings, main_name: str) -> None:
    """The run as code a learner can keep: from scratch (numpy and scikit-learn only) and with gdcore."""
    st.markdown(f"**Reproduce in Python** ({main_name}; each prints the same best-epoch line as the page)")
    spec = settings.run_plan().first
    scratch, with_gdcore = st.tabs(["From scratch (numpy + scikit-learn)", "With gdcore"])
    with scratch:
        if settings.source == "csv":
            st.caption(
                "A from-scratch script rebuilds its data itself, so it covers the synthetic and diabetes "
                "data, not an uploaded file."
            )
        else:
            data = settings.synthetic() if settings.source == "synthetic" else settings.source
            script = gdcore.scratch_script(
                data,
                spec,
                standardized=settings.standardize,
                test_fraction=settings.test_fraction,
                split_seed=settings.seed,
            )
            st.caption("The blog's loop, fixed, for these settings: no gdcore needed.")
            st.code(script, language="python")
            st.download_button(
                "⬇️ Download descent_from_scratch.py",
                script,
                file_name="descent_from_scratch.py",
                mime="text/x-python",
                key="download_scratch",
            )
    with with_gdcore:
        if settings.source == "synthetic" and settings.test_fraction == 0 and not settings.standardize:
            st.code(gdcore.reproduce_code(settings.synthetic(), spec), language="python")
        else:
            st.caption(
                "The gdcore snippet covers the synthetic data without a test split or standardizing; "
                "the from-scratch script covers these settings."
            )

"""The Data & weights tab."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gdcore.dashboard import experiment
from gdcore.dashboard.explain import literal_markdown
from ui.results import parameter_names


def data_section(prepared, runs) -> None:
    source = prepared.source
    st.markdown(
        f"**{literal_markdown(source.name)}** — {source.n_samples:,} rows, {source.n_features} feature(s); "
        f"target: {literal_markdown(source.target_name)}"
    )
    raw_kappa, kappa = experiment.condition_summary(prepared)
    c1, c2, c3 = st.columns(3)
    c1.metric("Training rows", f"{prepared.train.n_samples:,}")
    c2.metric("Test rows", f"{prepared.test.n_samples if prepared.test is not None else 0:,}")
    c3.metric("Condition number (raw → as fitted)", f"{raw_kappa:.3g} → {kappa:.3g}")
    if prepared.scaler is not None:
        st.caption("Standardizing rounds the loss contours: compare the landscape with the toggle off.")
        if prepared.scaler.note:
            st.info(literal_markdown(prepared.scaler.note))
    main_name, main_run = next(iter(runs.items()))
    table = experiment.weights_in_units(prepared, main_run)
    index = parameter_names(prepared.train)
    st.markdown(f"**Best-epoch parameters of {main_name}**")
    st.dataframe(pd.DataFrame(table, index=index), width="stretch")

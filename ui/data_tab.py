"""The Data & weights tab."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gdcore.dashboard import experiment
from gdcore.dashboard.explain import literal_markdown
from ui.degree_sweep import degree_sweep_section
from ui.results import parameter_names


def data_section(prepared, runs, settings=None, prepared_key=None, csv_bytes=None) -> None:
    source = prepared.source
    st.markdown(
        f"**{literal_markdown(source.name)}** — {source.n_samples:,} rows, {source.n_features} feature(s); "
        f"target: {literal_markdown(source.target_name)}"
    )
    st.markdown(f"**The first {min(PREVIEW_ROWS, source.n_samples)} rows** (as loaded, before any split)")
    st.dataframe(data_preview(source), width="stretch")
    raw_kappa, kappa = experiment.condition_summary(prepared)
    row = st.container(horizontal=True, gap="medium")
    row.metric("Training rows", f"{prepared.train.n_samples:,}", width="content")
    row.metric(
        "Test rows", f"{prepared.test.n_samples if prepared.test is not None else 0:,}", width="content"
    )
    if prepared.scaler is not None:
        row.metric(
            CONDITION_LABEL,
            f"{raw_kappa:.3g} → {kappa:.3g}",
            "raw → standardized",
            delta_color="off",
            delta_arrow="off",
            width="content",
        )
        st.caption("Standardizing rounds the loss contours: compare the landscape with the toggle off.")
        if prepared.scaler.note:
            st.info(literal_markdown(prepared.scaler.note))
    else:
        row.metric(CONDITION_LABEL, f"{kappa:.3g}", width="content")
    main_name, main_run = next(iter(runs.items()))
    table = experiment.weights_in_units(prepared, main_run)
    index = parameter_names(prepared.train)
    optimum = f"ridge optimum (λ = {prepared.fit.l2:g})" if prepared.fit.l2 else "least-squares optimum"
    st.markdown(f"**Best-epoch parameters of {main_name}, beside the {optimum}**")
    st.dataframe(pd.DataFrame(table, index=index), width="stretch")
    if settings is not None and prepared_key is not None:
        degree_sweep_section(prepared, settings, prepared_key, csv_bytes)


PREVIEW_ROWS = 10
# Theory's condition number is of the rows gradient descent fits, so both values here are of those rows.
CONDITION_LABEL = "Condition number (training rows)"


def data_preview(source) -> pd.DataFrame:
    """The first rows of the data as loaded: one column per feature, then the target."""
    rows = slice(0, PREVIEW_ROWS)
    frame = pd.DataFrame(source.X[rows], columns=list(source.feature_names))
    label = f"{source.target_name} (target)"
    frame.insert(frame.shape[1], label if label not in frame else source.target_name, source.y[rows])
    return frame

"""An uploaded CSV file: its preview, and the target and feature columns chosen from it."""

from __future__ import annotations

import hashlib

import streamlit as st

import gdcore
from gdcore.dashboard.experiment import CsvSelection
from gdcore.dashboard.explain import literal_markdown
from ui.cache import preview_csv


def csv_choices(csv_bytes: bytes) -> CsvSelection | None:
    """Preview the upload and let the user pick target and features; None until a feature is chosen."""
    digest = hashlib.sha256(csv_bytes).hexdigest()
    preview = preview_csv(digest, csv_bytes)
    if len(preview.numeric_columns) < 2:
        # Nothing to choose from: read_csv raises the CsvError that names each column and why it is
        # not numbers, which the page shows like every other bad file.
        gdcore.read_csv(csv_bytes)
    if st.session_state.get("csv_digest") != digest:
        # A new file: its columns differ, so the previous file's choices must not carry over.
        for key in ("csv_target", "csv_features", "csv_drop"):
            st.session_state.pop(key, None)
        st.session_state["csv_digest"] = digest
    with st.expander(
        f"📄 {preview.n_rows:,} rows, {len(preview.columns)} columns — choose the columns", expanded=True
    ):
        st.dataframe(preview.head, width="stretch")
        st.caption(f"Read as {literal_markdown(preview.format_note)}.")
        for note in preview.notes:
            st.caption(literal_markdown(note))
        numeric = list(preview.numeric_columns)
        t_col, f_col = st.columns([1, 2])
        target = t_col.selectbox(
            "Target column (y)",
            numeric,
            index=numeric.index(preview.default_target),
            key="csv_target",
            persist_state="page",  # the choice survives a visit to another source
        )
        choices = [c for c in numeric if c != target]
        features = f_col.multiselect(
            "Feature columns (X)",
            choices,
            default=[c for c in preview.default_features if c in choices],
            key="csv_features",
            persist_state="page",
        )
        drop = False
        if preview.nonfinite_rows:
            drop = st.checkbox(
                f"Drop the {preview.nonfinite_rows:,} row(s) with empty, NaN or inf cells",
                key="csv_drop",
                persist_state="page",
            )
    if not features:
        st.info("Choose at least one feature column to fit.")
        return None
    return CsvSelection(digest, target, tuple(features), drop)

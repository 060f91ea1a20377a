"""The runs compared: one sortable row per run on the page, and all their trajectories as one CSV."""

from __future__ import annotations

import functools

import streamlit as st

import gdcore
from gdcore.dashboard import experiment
from gdcore.dashboard.compare import results_table


def compare_section(prepared, runs, parameter_names: list[str]) -> None:
    several = len(runs) > 1
    label = f"📋 Results table: the {len(runs)} runs compared" if several else "📋 Results table"
    with st.expander(label, expanded=several):
        table = results_table(runs, prepared.fit, experiment.test_losses(prepared, runs), parameter_names)
        if prepared.test is None:
            table = table.drop(columns="test MSE (best epoch)")
        numbers = {
            column: st.column_config.NumberColumn(format="%.6g")
            for column in table.columns
            if table[column].dtype.kind == "f"
        }
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            key="results_table",
            column_config={
                **numbers,
                "α": st.column_config.NumberColumn(format="%g"),
                "batch": st.column_config.NumberColumn(help="Rows per update; 0 = the full batch."),
                "reached optimum at epoch": st.column_config.NumberColumn(
                    help="First epoch that closed 99.9% of the starting loss gap to the least-squares "
                    "minimum; empty if the run did not get there (or diverged)."
                ),
            },
        )
        st.caption(
            "Click a column's header to sort. Parameters are at each run's best epoch; "
            "x − x* is the distance from the least-squares optimum."
        )
        st.download_button(
            f"⬇️ Download all {len(runs)} trajectories (one CSV, a run column)"
            if several
            else "⬇️ Download the trajectory (CSV with a run column)",
            # A callable: the CSV is written only when clicked.
            functools.partial(gdcore.runs_csv, runs, prepared.train.feature_names),
            file_name="gradient_descent_runs.csv",
            mime="text/csv",
            key="download_runs_csv",
        )

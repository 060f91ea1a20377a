"""The runs compared: one sortable row per run on the page, and all their trajectories as one CSV.

The table is built once per set of runs (cached like the runs themselves, as an Arrow table, which
Streamlit ships without converting it again), and only while its expander is open: a closed table costs
a rerun nothing.
"""

from __future__ import annotations

import functools

import pyarrow as pa
import streamlit as st

import gdcore
from gdcore.dashboard import experiment
from gdcore.dashboard.compare import results_table
from gdcore.dashboard.explain import optimum_name
from ui import cache


@st.cache_resource(max_entries=64, show_spinner=False)
def results_arrow(prepared_key: tuple, plan, names: tuple[str, ...], _csv_bytes=None) -> pa.Table:
    prepared = cache.prepare(*prepared_key, _csv_bytes)
    runs = cache.run(prepared_key, plan, _csv_bytes)
    table = results_table(runs, prepared.fit, experiment.test_losses(prepared, runs), names)
    if prepared.test is None:
        table = table.drop(columns="test MSE (best epoch)")
    return pa.Table.from_pandas(table, preserve_index=False)


def compare_section(prepared, runs, parameter_names: list[str], prepared_key, plan, csv_bytes) -> None:
    several = len(runs) > 1
    label = f"📋 Results table: the {len(runs)} runs compared" if several else "📋 Results table"
    section = st.expander(label, expanded=several, key="results_open", on_change="rerun")
    if not section.open:
        return
    with section:
        table = results_arrow(prepared_key, plan, tuple(parameter_names), csv_bytes)
        numbers = {
            field.name: st.column_config.NumberColumn(format="%.6g")
            for field in table.schema
            if pa.types.is_floating(field.type)
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
                    help="First epoch that closed 99.9% of the starting loss gap to the "
                    f"{optimum_name(prepared.fit.l2)} minimum; empty if the run did not get there (or diverged)."
                ),
            },
        )
        penalized = (
            f" With λ = {prepared.fit.l2:g}, best and final MSE are of the penalized loss MSE + λ‖w‖² (the test "
            "MSE is not)."
            if prepared.fit.l2
            else ""
        )
        st.caption(
            "Click a column's header to sort. Parameters are at each run's best epoch; "
            f"x − x* is the distance from the {optimum_name(prepared.fit.l2)} optimum.{penalized}"
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
            on_click="ignore",  # a download reruns nothing (a rerun could drop the file mid-download)
        )

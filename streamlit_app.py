"""Gradient Descent Lab: the dashboard. Composes the page's sections (`ui/`); every number comes from gdcore."""

from __future__ import annotations

import streamlit as st

import gdcore
from gdcore.dashboard.experiment import with_problem
from gdcore.dashboard.explain import literal_markdown, scale_warning, step_limits_caption
from gdcore.dashboard.settings import ALPHA_CHOICES
from ui.budget import budgeted_runs
from ui.cache import outlooks as cached_outlooks
from ui.cache import prepare
from ui.compare import compare_section
from ui.csv_picker import csv_choices
from ui.data_tab import data_section
from ui.export_tab import export_section
from ui.guided import experiment_panel, learning_controls, open_linked_experiment, overlay_runs, share_query
from ui.landscape_tools import fitted_start
from ui.math_tab import math_section
from ui.results import charts_section, headline, parameter_names
from ui.sidebar import data_controls, descent_controls
from ui.startup import freeze_imports
from ui.state import current_settings, initialise_state
from ui.sweep_tab import sweep_section
from ui.tabs import open_tab

st.set_page_config(page_title="Gradient Descent Lab", page_icon="📉", layout="wide")


def main() -> None:
    initialise_state()
    open_linked_experiment()
    st.title("📉 Gradient Descent Lab")
    st.caption(
        "Linear regression ŷ = w·x + b fitted by gradient descent on the mean squared error — "
        "the blog's experiment, done right. Change the settings on the left; everything updates at once."
    )
    for notice in st.session_state.get("url_notices", []):
        st.warning(literal_markdown(notice), icon="🔗")
    learning_controls(st.sidebar)
    csv_bytes = data_controls(st.sidebar)
    alpha_slot = descent_controls(st.sidebar)
    if st.session_state.pop("optimizer_kept", False):
        st.toast("At least one optimizer is needed, so the last choice is kept.", icon="ℹ️")
    settings = current_settings()
    st.query_params.from_dict(share_query(settings))
    experiment_panel(settings)
    if not settings.optimizers:
        st.warning("Choose at least one optimizer in the sidebar.")
        st.stop()
    try:
        if settings.source == "csv":
            if csv_bytes is None:
                st.info(
                    "Upload a CSV file in the sidebar: one header row, numeric columns. "
                    f"Up to {gdcore.MAX_UPLOAD_MB} MB.",
                    icon="📄",
                )
                st.stop()
            source = csv_choices(csv_bytes)
            if source is None:
                st.stop()
        else:
            source = settings.data()
        source = with_problem(source, settings.degree, settings.l2)
        prepared_key = (source, settings.standardize, settings.test_fraction, settings.seed)
        with st.spinner("Running gradient descent…"):
            prepared = prepare(*prepared_key, csv_bytes)
            settings = fitted_start(settings, prepared.train.n_features)
            runs = budgeted_runs(prepared_key, prepared, settings.run_plan(), csv_bytes)
    except ValueError as exc:
        # A bad CSV knows how to say its fix in the dashboard's words (the drop box, the column picker).
        message = exc.for_dashboard() if isinstance(exc, gdcore.CsvError) else str(exc)
        st.error(f"That cannot run: {literal_markdown(message)}", icon="⚠️")
        st.stop()
    outlooks = cached_outlooks(prepared_key, settings.run_plan(), csv_bytes)
    alpha_slot.caption(step_limits_caption(outlooks))
    with alpha_slot.expander("Why these limits?"):
        for name, outlook in outlooks.items():
            st.caption(f"**{name}**: {literal_markdown(outlook.limits.note)}")
    scales = scale_warning(prepared, ALPHA_CHOICES[0])
    if scales:
        st.warning(scales, icon="📏")
    headline(runs, prepared, settings, prepared_key, csv_bytes)
    charts_section(prepared, runs, settings, overlay_runs(settings, prepared_key, csv_bytes))
    compare_section(
        prepared, runs, parameter_names(prepared.train), prepared_key, settings.run_plan(), csv_bytes
    )
    tab, container = open_tab()  # only the open tab's section runs
    with container:
        if tab == "math":
            math_section(prepared, runs, settings, prepared_key, csv_bytes)
        elif tab == "sweep":
            start_loss = float(next(iter(runs.values())).loss[0])
            sweep_section(prepared_key, settings, prepared, start_loss, csv_bytes)
        elif tab == "data":
            data_section(prepared, runs, settings, prepared_key, csv_bytes)
        else:
            export_section(prepared, runs, settings)


try:
    main()
finally:
    freeze_imports()  # once per process: later post-run garbage collections skip start-up objects

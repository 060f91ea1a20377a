"""The learning-rate sweep tab (computed only when asked for)."""

from __future__ import annotations

import streamlit as st

from gdcore.dashboard import charts
from gdcore.dashboard.settings import Settings
from ui.cache import sweep
from ui.results import show_chart


def sweep_section(prepared_key, settings: Settings, prepared, start_loss: float, csv_bytes) -> None:
    if not st.toggle(
        "Compute the learning-rate sweep",
        key="sweep",
        value=False,
        help="60 values of α from 1e-4 to 2·α_max, each run for the chosen epochs.",
    ):
        st.caption("Turn the sweep on to see the final loss against α, with the stability cliff marked.")
        return
    with st.spinner("Sweeping α…"):
        results, rates = sweep(prepared_key, settings.run_plan(), csv_bytes)
    theory = prepared.theory
    table = charts.sweep_table(results, start_loss)
    show_chart(charts.sweep_chart(table, theory.alpha_max, theory.alpha_opt, settings.epochs))
    if settings.stop:
        show_chart(
            charts.sweep_chart(table, theory.alpha_max, theory.alpha_opt, settings.epochs, "epochs_to_tol")
        )
    else:
        st.caption("Turn on *Stop when the error stabilizes* to also see the epochs each α needs.")
    show_chart(charts.contraction_chart(rates, theory.alpha_max, theory.alpha_opt))
    st.caption(
        "Diverged runs are drawn as crosses at 10× the starting loss (their true last loss is in the tooltip). "
        "Past α_max plain GD's loss gap grows every epoch (factor > 1): the cliff. Adaptive optimizers "
        "(AdaGrad, RMSProp, Adam) normalise their steps and do not share GD's limit."
    )

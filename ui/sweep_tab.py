"""The learning-rate sweep tab (computed only when asked for)."""

from __future__ import annotations

import streamlit as st

from gdcore.dashboard import charts, experiment, explain
from gdcore.dashboard.settings import Settings
from gdcore.optimizers import OPTIMIZERS
from ui.budget import sweep_fits
from ui.cache import outlooks, sweep
from ui.results import show_chart
from ui.startup import page_fragment
from ui.state import rerun_page_if_settings_changed

SWEPT_ALPHA = 1.0  # the sweep replaces alpha: one cache entry whatever alpha the slider shows


@page_fragment
def sweep_section(prepared_key, settings: Settings, prepared, start_loss: float, csv_bytes) -> None:
    """The sweep's toggle and, when on, its charts. A fragment: flipping the toggle reruns this section
    only, not the page above it (half the server's CPU per flip, measured). A widget in it that changes
    a setting of the whole page (the budget's "Set epochs to ...") reruns the whole page, so nothing
    above is left drawn for the old settings."""
    rerun_page_if_settings_changed(settings)
    if not st.toggle(
        "Compute the learning-rate sweep",
        key="sweep",
        value=False,
        help="60 values of α from 1e-4 to 2·α_max of plain GD, each run for the chosen epochs.",
    ):
        st.caption("Turn the sweep on to see the final loss against α, with each optimizer's cliff marked.")
        return
    plan = settings.run_plan()
    swept = experiment.RunPlan(tuple(spec.with_alpha(SWEPT_ALPHA) for spec in plan.specs))
    if not sweep_fits(prepared, swept):  # sixty runs per optimizer: priced first (ui/budget.py)
        return
    with st.spinner("Sweeping α…"):
        results, rates = sweep(prepared_key, swept, csv_bytes)
    limits = {name: outlook.limits for name, outlook in outlooks(prepared_key, plan, csv_bytes).items()}
    marks = charts.step_marks_table(limits)
    table = charts.sweep_table(results, start_loss)
    show_chart(charts.sweep_chart(table, marks, settings.epochs))
    if settings.stop:
        show_chart(charts.sweep_chart(table, marks, settings.epochs, "epochs_to_tol"))
    else:
        st.caption("Turn on *Stop when the error stabilizes* to also see the epochs each α needs.")
    adaptive = [OPTIMIZERS[name].display_name for name in settings.optimizers if not OPTIMIZERS[name].linear]
    full_batch = plan.first.is_full_batch(prepared.train.n_samples)
    st.caption(
        "Diverged runs are drawn as crosses at 10× the starting loss (their true last loss is in the "
        "tooltip, with the epoch each α reached the optimum by the status line's definition). Each optimizer's own step limit α_max (dashed) and fastest step α_opt (dotted) are "
        "drawn in its colour"
        + (
            f"; {', '.join(adaptive)} "
            + ("has" if len(adaptive) == 1 else "have")
            + " no fixed limit (steps divided by running gradient sizes), so no line"
            if adaptive
            else ""
        )
        + "."
        + (
            ""
            if full_batch
            else f" The limits are for full-batch steps; with mini-batches of {plan.first.batch_size:,} "
            "each step's gradient is noisy, which lowers the edge."
        )
    )
    schedule = plan.first.schedule
    if not schedule.is_constant:
        st.caption(
            f"Every run here follows the {schedule.kind.display_name.lower()} schedule "
            f"(`{schedule.describe()}`): each α on the axis is where its steps start. The limits α_max "
            "and α_opt marked are for a constant step."
        )
    if prepared.fit.l2:
        st.caption(
            f"With the ridge penalty λ = {prepared.fit.l2:g}, every loss here is the penalized loss "
            "MSE + λ‖w‖², and α_max, α_opt and the rates are those of its Hessian (+ 2λ along the weights)."
        )
    if rates:
        show_chart(charts.contraction_chart(charts.contraction_table(rates), marks))
        st.caption(explain.rate_view_caption(rates, experiment.RATE_VIEW_EPOCHS))
    else:
        st.caption("No rate view: AdaGrad, RMSProp and Adam have no predicted rate to compare with.")

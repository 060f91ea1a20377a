"""The degree sweep on the Data tab: train and test MSE against the polynomial degree (issue 14)."""

from __future__ import annotations

import streamlit as st

from gdcore.dashboard import degrees, experiment
from gdcore.dashboard.budget import describe_seconds, estimate_degree_fits, estimate_degree_sweep
from gdcore.dashboard.explain import literal_markdown
from gdcore.dashboard.settings import Settings
from gdcore.optimizers import OPTIMIZERS
from ui import cache
from ui.budget import server_budget
from ui.results import show_chart


def degree_sweep_section(prepared, settings: Settings, prepared_key, csv_bytes) -> None:
    """The sweep for data with one input x: the optimum in closed form at every degree, and the first
    optimizer's run at the current settings when the twelve runs fit the server's budget."""
    st.markdown("**Degree sweep**: polynomials of degree 1 to 12 on these training rows")
    if prepared.source.n_features != prepared.degree:  # expanded from several inputs is refused earlier
        st.caption(
            "The degree sweep needs data with one input x: make_regression with one feature, curve data, "
            "or one CSV column."
        )
        return
    source, standardized, test_fraction, split_seed = prepared_key
    l2 = prepared.quadratic.l2
    spec = settings.run_plan().first
    name = OPTIMIZERS[spec.optimizer].display_name
    key = (
        experiment.with_problem(experiment.base_data(source), 1, l2),
        standardized,
        test_fraction,
        split_seed,
        l2,
    )
    budget = server_budget()
    if not fits_asked(key, estimate_degree_fits(prepared.source.n_samples), budget):
        return
    cost = estimate_degree_sweep(spec, prepared.train.n_samples, degrees.DEGREES)
    if cost.seconds > budget.ask_above_s:
        st.caption(
            f"{name} once per degree would take about {describe_seconds(cost.seconds)} of this server's time "
            f"(more than the {describe_seconds(budget.ask_above_s)} a run may take without asking), so only "
            "the optimum is drawn: lower the epochs or raise the batch size to see the runs too."
        )
        spec = None
    with st.spinner("Fitting degrees 1 to 12…"):
        sweep = cache.degree_sweep(key, spec, csv_bytes)
    show_chart(degrees.sweep_chart(degrees.sweep_table(sweep), prepared.degree, name, bool(l2)))
    for line in degrees.sweep_summary(sweep, l2, name):
        st.markdown(f"- {literal_markdown(line)}")
    if prepared.test is None:
        st.caption(
            "Set a **Test fraction** above 0 in the sidebar to see the held-out rows' MSE: overfitting shows there."
        )
    st.caption(
        "Every point is the plain MSE, mean((y − ŷ)²), without the penalty, so that train, test and every λ "
        "compare; the grey rule is the degree the page shows. Each degree uses the page's split and "
        "standardizing."
    )


ASKED_KEY = "degree_sweep_asked"  # session key: the sweep (by its cache key) the user asked for


def ask_for(key: tuple) -> None:
    st.session_state[ASKED_KEY] = key


def fits_asked(key: tuple, seconds: float, budget) -> bool:
    """Whether the twelve fits may run now: within `ask_above_s`, or asked for with the button up to
    `refuse_above_s`; above that never. Says why and what it would take otherwise."""
    if seconds > budget.refuse_above_s:
        st.info(
            f"Fitting degrees 1 to 12 to this many rows would take about {describe_seconds(seconds)} of this "
            f"server's time, more than one request may take here ({describe_seconds(budget.refuse_above_s)}): "
            "choose fewer samples to see the degree sweep.",
            icon="⏳",
        )
        return False
    if seconds <= budget.ask_above_s or st.session_state.get(ASKED_KEY) == key:
        return True
    st.info(
        f"Fitting degrees 1 to 12 to this many rows takes about {describe_seconds(seconds)} of this server's "
        "time, which everyone using the page shares.",
        icon="⏳",
    )
    st.button(
        f"Compute the degree sweep ({describe_seconds(seconds)})",
        key="degree_sweep_go",
        on_click=ask_for,
        args=(key,),
    )
    return False

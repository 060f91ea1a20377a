"""The Math & theory tab: the blog's equations with this run's numbers, the theory, the pitfall."""

from __future__ import annotations

import re

import streamlit as st

import gdcore
from gdcore.dashboard import charts, experiment
from gdcore.dashboard.blogcode import pitfall_pointer
from gdcore.dashboard.explain import (
    contraction_text,
    limits_table,
    literal_markdown,
    math_panel_numbers,
    momentum_caption,
)
from gdcore.dashboard.settings import Settings
from gdcore.optimizers import OPTIMIZERS
from ui import cache
from ui.results import show_chart


def math_section(prepared, runs, settings: Settings, prepared_key=None, csv_bytes=None) -> None:
    train = prepared.train
    main_run = next(iter(runs.values()))
    # The first update's step: epoch 1's alpha, which a schedule (a warm-up) may set below alpha.
    first_alpha = float(main_run.spec.alphas(1)[0]) if main_run.spec is not None else settings.alpha
    numbers = math_panel_numbers(train.X, train.y, main_run, first_alpha, l2=prepared.quadratic.l2)
    st.markdown(
        "**The blog's four equations, with this run's numbers** (the start and the first full-batch update)"
    )
    for line in numbers.equation_lines:
        st.markdown(line)
    if len(runs) > 1 or settings.optimizers != ("gd",):
        st.markdown("**The chosen optimizers' update rules** (g is the gradient of the batch)")
        for name in settings.optimizers:
            st.markdown(
                f"- **{OPTIMIZERS[name].display_name}** {update_rule_markdown(OPTIMIZERS[name].equation)}"
            )
    theory_section(prepared, runs, settings, prepared_key, csv_bytes)
    if prepared.degree > 1 and prepared_key is not None:
        degree_conditioning(prepared_key, csv_bytes)
    st.markdown("**The blog's shape pitfall**")
    st.markdown(numbers.pitfall_text)
    st.markdown(pitfall_pointer(settings.blog_code))
    st.code(numbers.pitfall_code, language="python", wrap_lines=True)


def degree_conditioning(prepared_key, csv_bytes) -> None:
    """kappa per polynomial degree, raw against standardized powers: why GD needs standardizing here."""
    table = cache.condition_by_degree(prepared_key, csv_bytes)
    raw, standardized = table.iloc[-1]["kappa_raw"], table.iloc[-1]["kappa_standardized"]
    st.markdown(
        "**Condition number κ = λ_max / λ_min per degree**, 1 to 12 (the Hessian's eigenvalues for the "
        "powers x, x², … of the training rows, without the penalty): raw powers against standardized ones"
    )
    st.dataframe(
        table.rename(columns={"kappa_raw": "κ raw", "kappa_standardized": "κ standardized"}),
        hide_index=True,
        column_config={
            "κ raw": st.column_config.NumberColumn(format="scientific"),
            "κ standardized": st.column_config.NumberColumn(format="scientific"),
        },
    )
    st.caption(
        f"At degree 12, κ is {raw:.3g} on the raw powers and {standardized:.3g} standardized. At its best "
        "step, plain GD shrinks the error along the slowest direction by (κ − 1)/(κ + 1) per epoch, so the "
        f"epochs it needs grow in proportion to κ: about {raw / standardized:.3g}× more on the raw powers."
    )


def update_rule_markdown(equation: str) -> str:
    """A registry equation ("a, \\quad b, \\quad c") as one inline formula per part, so that a long rule
    such as Adam's wraps between its parts instead of running off a narrow screen (each comma stays
    inside its formula: a line never starts with one)."""
    parts = [part.strip() for part in re.split(r",\s*\\quad", equation)]
    return " ".join([*(f"${part},$" for part in parts[:-1]), f"${parts[-1]}$"])


def theory_section(prepared, runs, settings: Settings, prepared_key, csv_bytes) -> None:
    """Each chosen optimizer's own step limit, best step and rate on this data, the predicted against
    the measured rate of each run, and momentum's rate over (α, β)."""
    theory = prepared.theory
    outlooks = cache.outlooks(prepared_key, settings.run_plan(), csv_bytes)
    hessian = "H = (2/N) AᵀA + 2λ·diag(1, …, 1, 0)" if prepared.quadratic.l2 else "H = (2/N) AᵀA"
    penalty = f", λ = {prepared.quadratic.l2:g}: the ridge loss's" if prepared.quadratic.l2 else ""
    st.markdown(f"**Theory for this data** (Hessian {hessian}, A = [X, 1]{penalty}; full-batch steps)")
    t1, t2 = st.columns(2)
    raw_kappa, kappa = experiment.condition_summary(prepared)
    t1.metric(
        "Condition number",
        f"{kappa:.4g}",
        f"{raw_kappa:.4g} before standardizing" if prepared.scaler is not None else None,
        delta_color="off",
        delta_arrow="off",
    )
    t2.metric("Eigenvalues λ", f"{theory.lambda_min:.3g} … {theory.lambda_max:.3g}")
    st.markdown(limits_table(outlooks))
    with st.expander("Where each limit comes from"):
        for name, outlook in outlooks.items():
            st.markdown(f"**{name}**: {literal_markdown(outlook.limits.note)}")
    for name, run in runs.items():
        factors = experiment.gap_factors(prepared, run, outlooks[name])
        st.markdown(f"- {contraction_text(factors, outlooks[name])}")
    if theory.note:
        st.info(theory.note)
    momentum_view(prepared, settings, prepared_key, csv_bytes)


def momentum_view(prepared, settings: Settings, prepared_key, csv_bytes) -> None:
    """The Distill "why momentum really works" picture on this data: computed when asked for (cached
    per data set), Polyak's numbers said either way."""
    beta = settings.hyperparameters("momentum").get("beta", OPTIMIZERS["momentum"].hyperparameters[0].default)
    current = gdcore.limits_for(prepared.quadratic, "momentum", beta=beta).rate(settings.alpha)
    gd = gdcore.limits_for(prepared.quadratic, "gd")
    shown = st.toggle(
        "Show momentum's rate over (α, β) for this data",
        key="momentum_map",
        value=False,
        help="A 60 × 60 grid of the predicted rate of heavy-ball momentum, full batch.",
    )
    rate_map = cache.momentum_map(prepared_key, csv_bytes) if shown else None
    if rate_map is not None:
        marks = charts.momentum_map_marks(rate_map, settings.alpha, beta, current)
        show_chart(charts.momentum_map_chart(charts.momentum_map_table(rate_map), marks))
    polyak = experiment.polyak_point(prepared)
    st.caption(momentum_caption(polyak, gd.rate(gd.alpha_opt), settings.alpha, beta, current, rate_map))

"""The Math & theory tab: the blog's equations with this run's numbers, the theory, the pitfall."""

from __future__ import annotations

import re

import streamlit as st

from gdcore.dashboard import experiment
from gdcore.dashboard.explain import contraction_text, math_panel_numbers
from gdcore.dashboard.settings import Settings
from gdcore.optimizers import OPTIMIZERS


def math_section(prepared, runs, settings: Settings) -> None:
    train, fit, theory = prepared.train, prepared.fit, prepared.theory
    main_run = next(iter(runs.values()))
    numbers = math_panel_numbers(train.X, train.y, main_run, settings.alpha)
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
    st.markdown("**Theory for this data** (Hessian H = (2/N) AᵀA, A = [X, 1])")
    t1, t2, t3, t4 = st.columns(4)
    t1.metric("α_max = 2/λ_max", f"{theory.alpha_max:.4g}")
    t2.metric("α_opt", f"{theory.alpha_opt:.4g}")
    raw_kappa, kappa = experiment.condition_summary(prepared)
    t3.metric(
        "Condition number",
        f"{kappa:.4g}",
        f"{raw_kappa:.4g} before standardizing" if prepared.scaler is not None else None,
        delta_color="off",
        delta_arrow="off",
    )
    t4.metric("Eigenvalues λ", f"{theory.lambda_min:.3g} … {theory.lambda_max:.3g}")
    st.markdown(contraction_text(main_run, fit, theory, settings.alpha))
    if theory.note:
        st.info(theory.note)
    st.markdown("**The blog's shape pitfall**")
    st.markdown(numbers.pitfall_text)
    st.code(numbers.pitfall_code, language="python", wrap_lines=True)


def update_rule_markdown(equation: str) -> str:
    """A registry equation ("a, \\quad b, \\quad c") as one inline formula per part, so that a long rule
    such as Adam's wraps between its parts instead of running off a narrow screen (each comma stays
    inside its formula: a line never starts with one)."""
    parts = [part.strip() for part in re.split(r",\s*\\quad", equation)]
    return " ".join([*(f"${part},$" for part in parts[:-1]), f"${parts[-1]}$"])

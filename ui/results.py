"""The results above the tabs: the status, the headline numbers and the four charts."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

import gdcore
from gdcore.dashboard import charts, experiment
from gdcore.dashboard.explain import describe_status
from gdcore.dashboard.settings import ALPHA_CHOICES, Settings
from ui import cache

DRAWN_CHARTS = "drawn_charts"  # session key: the charts this run drew above the tabs (for the report)


def show_chart(spec: charts.ChartSpec, **kwargs) -> None:
    st.session_state.setdefault(DRAWN_CHARTS, []).append(spec)
    st.vega_lite_chart(spec.vega_lite(), width="stretch", **kwargs)


def headline(runs, prepared, settings: Settings, prepared_key=None, csv_bytes=None) -> None:
    main_run = next(iter(runs.values()))
    run_status(runs, prepared, settings, prepared_key, csv_bytes)
    headline_metrics(main_run, prepared)


def headline_number(value: float, signed: bool = False) -> str:
    """A headline number: 3 decimals with thousands separators below 10^7, else 5 significant digits
    in e-notation, so that no value is too long for its metric (126,030,709.123 would be cut)."""
    if abs(value) < 1e7 or not math.isfinite(value):
        return f"{value:+,.3f}" if signed else f"{value:,.3f}"
    return f"{value:+.4e}" if signed else f"{value:.4e}"


def headline_metrics(main_run, prepared) -> None:
    """Best epoch, its error (and the held-out rows' error), w and b against the optimum. The metrics sit
    in a wrapping row and are as wide as their text: on a narrow screen they move to the next line
    instead of being cut."""
    fit = prepared.fit
    row = st.container(horizontal=True, gap="medium")
    quiet = {"delta_color": "off", "delta_arrow": "off", "width": "content"}
    row.metric("Best epoch", f"{main_run.best_epoch:,}", f"of {main_run.epochs_run:,} run", **quiet)
    row.metric(
        "Error (MSE)",
        headline_number(main_run.best_loss),
        f"{headline_number(main_run.best_loss - fit.loss, signed=True)} vs optimum",
        delta_color="inverse",
        delta_arrow="off",
        width="content",
    )
    if prepared.test_quadratic is not None:
        theta = np.append(main_run.best_weights, main_run.best_bias)
        test_loss = float(prepared.test_quadratic.loss(theta))
        row.metric(
            "Test MSE (held out)",
            headline_number(test_loss),
            f"at the best epoch, {prepared.test.n_samples:,} rows",
            **quiet,
        )
    if main_run.n_features == 1:
        w, w_star = float(main_run.best_weights[0]), float(fit.weights[0])
        row.metric(
            "Weight w",
            headline_number(w),
            f"{headline_number(w - w_star, signed=True)} vs w* = {headline_number(w_star)}",
            **quiet,
        )
    else:
        off = experiment.largest_weight_error(main_run, fit)
        row.metric(
            f"Weights: largest |w − w*| of {main_run.n_features}",
            f"{off:,.3g}",
            "see the parameter chart",
            **quiet,
        )
    b = main_run.best_bias
    row.metric(
        "Bias b",
        headline_number(b),
        f"{headline_number(b - fit.bias, signed=True)} vs b* = {headline_number(fit.bias)}",
        **quiet,
    )


def run_status(runs, prepared, settings: Settings, prepared_key, csv_bytes) -> None:
    """The first run's status in its own words and colour, a step to set after a divergence, the race."""
    plan = settings.run_plan()
    outlooks = cache.outlooks(prepared_key, plan, csv_bytes)
    main_name, main_run = next(iter(runs.items()))
    status = describe_status(main_run, prepared.fit, outlooks[main_name], parameter_names(prepared.train))
    show = {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[status.level]
    prefix = f"{main_name}: " if len(runs) > 1 else ""
    show(prefix + status.text, icon=status.icon)
    for name, run in list(runs.items())[1:]:  # a compared run that diverged is said too, in its words
        if run.diverged:
            other = describe_status(run, prepared.fit, outlooks[name], parameter_names(prepared.train))
            st.error(f"{name}: {other.text}", icon=other.icon)
    if any(run.diverged for run in runs.values()):
        suggest_step(prepared, plan, prepared_key, csv_bytes)
    if len(runs) > 1:
        st.info(experiment.race_summary(runs, prepared.fit.loss), icon="🏁")


def set_alpha(alpha: float) -> None:
    st.session_state["alpha"] = alpha


def suggest_step(prepared, plan: experiment.RunPlan, prepared_key, csv_bytes) -> None:
    """A button that sets a step the user can choose on the slider and that has been run, with every
    chosen optimizer, without diverging (`experiment.safe_step`; its runs are cached, so the click
    finds them ready). Says why when there is none."""
    step = experiment.safe_step(
        prepared, plan, ALPHA_CHOICES, lambda trial: cache.run(prepared_key, trial, csv_bytes)
    )
    several = len(plan.specs) > 1
    if step is not None:
        why = (
            f"α = {step:g} is at or below the fastest step α_opt of "
            + ("every chosen optimizer" if several else "this optimizer")
            + " for this data, and it was run: "
            + ("none of them diverges" if several else "it does not diverge")
            + " there."
        )
        button_col, why_col = st.columns([1, 4], vertical_alignment="center")
        button_col.button(f"Set α = {step:g}", key="suggested_alpha", on_click=set_alpha, args=(step,))
        why_col.caption(why)
        return
    lowest = ALPHA_CHOICES[0]
    needs = [
        o.limits.alpha_opt for o in cache.outlooks(prepared_key, plan, csv_bytes).values() if o.has_limit
    ]
    if needs and min(needs) < lowest:
        st.caption(
            f"No step to suggest: this data needs α ≤ {min(needs):.3g}, below the slider's smallest value "
            f"({lowest:g}). Turn on **Standardize features**."
        )
    else:
        st.caption(
            "No step to suggest: the slider's values below the chosen optimizers' fastest steps that were "
            "tried still diverged (mini-batch noise lowers the edge); try a larger batch size."
        )


def parameter_names(dataset: gdcore.Dataset) -> list[str]:
    if dataset.n_features == 1:
        return ["w", "b"]
    return [f"w[{name}]" for name in dataset.feature_names] + ["b"]


def charts_section(prepared, runs) -> None:
    fit, train = prepared.fit, prepared.train
    st.session_state[DRAWN_CHARTS] = []
    log_scale = st.toggle("Log-scale loss axis", value=True, key="log_loss")
    test = experiment.test_losses(prepared, runs)
    show_chart(charts.loss_chart(charts.loss_table(runs, test), fit.loss, log_scale))
    if test:
        st.caption("Solid: training loss (what GD minimises). Dashed: loss on the held-out test rows.")
    names = parameter_names(train)
    optimum = dict(zip(names, [*fit.weights.tolist(), fit.bias], strict=True))
    show_chart(charts.parameter_chart(charts.parameter_table(runs, names), optimum))
    main_run = next(iter(runs.values()))
    if train.n_features == 1:
        points, lines, best_line = charts.fit_tables(train.X[:, 0], train.y, main_run, fit)
        start_frame = int(lines.loc[lines["epoch"] == main_run.best_epoch, "frame"].iloc[0])
        show_chart(charts.fit_chart(points, lines, best_line, start_frame))
        st.caption("Drag the *Epoch frame* slider under the chart to watch the line move, epoch by epoch.")
    else:
        predicted = train.X @ main_run.best_weights + main_run.best_bias
        show_chart(
            charts.prediction_chart(
                charts.prediction_tables(train.y, predicted),
                f"Predicted against actual at the best epoch ({next(iter(runs))}); on the diagonal = perfect",
            )
        )
    landscape(prepared, runs, names)


def landscape(prepared, runs, names) -> None:
    i, j = 0, len(names) - 1
    if len(names) > 2:
        for key in ("landscape_u", "landscape_v"):  # fewer features than before: drop a stale axis
            if st.session_state.get(key, 0) >= len(names):
                del st.session_state[key]
        u_col, v_col = st.columns(2)
        i = u_col.selectbox(
            "Landscape: horizontal axis",
            range(len(names)),
            index=0,
            key="landscape_u",
            format_func=names.__getitem__,
        )
        j = v_col.selectbox(
            "Landscape: vertical axis",
            range(len(names)),
            index=len(names) - 1,
            key="landscape_v",
            format_func=names.__getitem__,
        )
        if i == j:
            st.warning("Choose two different parameters for the landscape's axes.")
            return
    view = experiment.landscape_view(prepared, runs, i, j)
    cells, path_table, marks = charts.landscape_tables(view.grid, view.paths, view.optimum, 800)
    title = f"Loss landscape J({names[i]}, {names[j]}) and the path taken"
    show_chart(charts.landscape_chart(cells, path_table, marks, names[i], names[j], title))
    if len(names) > 2:
        st.caption("The other parameters are held at their least-squares values.")

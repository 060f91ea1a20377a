"""The results above the tabs: the status, the headline numbers and the four charts."""

from __future__ import annotations

import contextlib
import math

import streamlit as st

import gdcore
from gdcore.dashboard import charts, curves, experiment, singlestep
from gdcore.dashboard.explain import (
    best_epoch_headline,
    describe_status,
    literal_markdown,
    optimum_name,
    schedule_phrase,
    step_bounds_phrase,
)
from gdcore.dashboard.settings import ALPHA_CHOICES, Settings
from ui import cache, landscape_tools
from ui.budget import trial_runs, untried_step_note
from ui.chart_memo import PAYLOADS, DrawnChart, drawn_chart
from ui.startup import page_fragment
from ui.state import rerun_page_if_settings_changed

AFTER_CHARTS = "after-charts"  # the anchor the skip link above the charts points to
DRAWN_CHARTS = "drawn_charts"  # session key: the charts this run drew above the tabs (for the report)


def show_chart(spec: charts.ChartSpec | DrawnChart, **kwargs) -> None:
    """The chart, named by its title for screen readers (the toolbar's buttons say "Show data: <title>").
    A `DrawnChart` (ui/chart_memo.py: kept per run) is shipped as it is, its tables already Arrow bytes."""
    payload = spec.payload if isinstance(spec, DrawnChart) else None
    spec = spec.spec if isinstance(spec, DrawnChart) else spec
    st.session_state.setdefault(DRAWN_CHARTS, []).append(spec)
    title = spec.template.spec.get("title", "")
    text = title.get("text", "") if isinstance(title, dict) else title
    alt = " ".join(text) if isinstance(text, list) else str(text)
    st.vega_lite_chart(
        payload or spec.vega_lite(), width="stretch", **({"alt": alt} if alt else {}), **kwargs
    )


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
    if prepared.quadratic.l2:
        st.caption(
            f"Ridge penalty λ = {prepared.quadratic.l2:g}: every loss on this page (the status's MSE, the "
            "error, the loss chart) is the penalized loss MSE + λ‖w‖², and its minimum and w*, b* are the "
            "ridge solution's, not least squares'."
        )
    row = st.container(horizontal=True, gap="medium")
    quiet = {"delta_color": "off", "delta_arrow": "off", "width": "content"}
    row.metric(*best_epoch_headline(main_run), **quiet)
    row.metric(
        "Error (MSE + λ‖w‖²)" if prepared.quadratic.l2 else "Error (MSE)",
        headline_number(main_run.best_loss),
        f"{headline_number(main_run.best_loss - fit.loss, signed=True)} vs optimum",
        delta_color="inverse",
        delta_arrow="off",
        width="content",
    )
    test_loss = experiment.best_test_loss(prepared, main_run)
    if test_loss is not None:
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
    finds them ready). Its trial runs stay within what the page spends without asking (`trial_runs`);
    when not one fits, the step is offered untried and the page says so. Says why when there is none."""
    tries, cost = trial_runs(prepared, plan)
    step = experiment.safe_step(
        prepared, plan, ALPHA_CHOICES, lambda trial: cache.run(prepared_key, trial, csv_bytes), tries
    )
    several = len(plan.specs) > 1
    bounds = step_bounds_phrase(experiment.step_bounds(prepared, plan))
    if step is not None:
        why = (
            f"α = {step:g} is at or below {bounds}, and it was run: "
            + ("none of them diverges" if several else "it does not diverge")
            + " there."
        )
        button_col, why_col = st.columns([1, 4], vertical_alignment="center")
        button_col.button(f"Set α = {step:g}", key="suggested_alpha", on_click=set_alpha, args=(step,))
        why_col.caption(why)
        return
    ceiling = experiment.step_ceiling(prepared, plan)
    untried = experiment.choice_at_most(ceiling, ALPHA_CHOICES) if tries == 0 else None
    if untried is not None:
        button_col, why_col = st.columns([1, 4], vertical_alignment="center")
        button_col.button(f"Set α = {untried:g}", key="suggested_alpha", on_click=set_alpha, args=(untried,))
        why_col.caption(untried_step_note(untried, ceiling, cost, bounds))
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
    elif ceiling < lowest:
        st.caption(f"No step to suggest: the slider's smallest value ({lowest:g}) is above {bounds}.")
    else:
        noisy = any(not spec.is_full_batch(prepared.train.n_samples) for spec in plan.specs)
        st.caption(
            f"No step to suggest: the slider's values at or below {bounds} that were tried still diverged"
            + ("; mini-batch noise lowers the edge: try a larger batch size." if noisy else ".")
        )


def parameter_names(dataset: gdcore.Dataset) -> list[str]:
    if dataset.n_features == 1:
        return ["w", "b"]
    return [f"w[{name}]" for name in dataset.feature_names] + ["b"]


@contextlib.contextmanager
def charts_in_place(key: str):
    """Charts shown inside go into the page's DRAWN_CHARTS list (what the report draws): appended in the
    whole page's run, and in a fragment's own rerun put in place of those the same section drew in it,
    so that the list (which the report's button holds) stays what the page shows. `key`: the session
    key where the section keeps (the list, where its charts start, how many)."""
    page_charts = st.session_state.setdefault(DRAWN_CHARTS, [])
    before = st.session_state.get(key)
    mine: list = []
    st.session_state[DRAWN_CHARTS] = mine
    try:
        yield
    finally:
        st.session_state[DRAWN_CHARTS] = page_charts
    # charts_section starts a new list for each run of the whole page: the same list is a fragment's rerun
    start, count = before[1:] if before is not None and before[0] is page_charts else (len(page_charts), 0)
    page_charts[start : start + count] = mine
    st.session_state[key] = (page_charts, start, len(mine))


@page_fragment
def time_charts(prepared, runs, charted) -> None:
    """The charts against epochs, under their two log-axis toggles: the loss, the step size (with a
    schedule) and the parameters. A fragment: flipping a toggle redraws these charts only, not the whole
    page (their entries in the report's list are replaced in place: `charts_in_place`)."""
    fit, train = prepared.fit, prepared.train
    with charts_in_place("time_charts_drawn"):
        loss_col, epoch_col = st.columns(2)
        log_scale = loss_col.toggle("Log-scale loss axis", value=True, key="log_loss")
        log_epochs = epoch_col.toggle(
            "Log-scale epoch axis",
            value=False,
            key="log_epochs",
            help="Spreads out the first epochs, so runs that stopped early are not squashed against the left.",
        )
        # Each chart's toolbar holds 3-4 buttons: keyboard users get a way past all of them in one step.
        st.markdown(f"[Skip past the charts' buttons ↓](#{AFTER_CHARTS})")
        lengths = [run.epochs_run for run in charted.values()]
        if not log_epochs and max(lengths) >= 10 * max(min(lengths), 1):
            st.caption(
                f"The runs stopped at very different epochs ({min(lengths):,} and {max(lengths):,}): turn on "
                "**Log-scale epoch axis** to see the short ones."
            )
        test = experiment.test_losses(prepared, runs)
        # Each chart is kept per run and view (ui/chart_memo.py): drawing runs drawn before rebuilds nothing.
        sources, shown = (prepared, *charted.values()), tuple(charted)
        show_chart(
            PAYLOADS.get(
                "loss",
                sources,
                (shown, log_scale, log_epochs),
                lambda: drawn_chart(
                    charts.loss_chart(
                        charts.loss_table(charted, test),
                        fit.loss,
                        log_scale,
                        log_epochs,
                        penalized=bool(fit.l2),
                    )
                ),
            )
        )
        if test:
            st.caption("Solid: training loss (what GD minimises). Dashed: loss on the held-out test rows.")
        step_sizes(prepared, runs)
        names = parameter_names(train)
        optimum = dict(zip(names, [*fit.weights.tolist(), fit.bias], strict=True))
        show_chart(
            PAYLOADS.get(
                "parameters",
                sources,
                (shown, log_epochs),
                lambda: drawn_chart(
                    charts.parameter_chart(
                        charts.parameter_table(charted, names), optimum, log_epochs, penalized=bool(fit.l2)
                    )
                ),
            )
        )


def charts_section(prepared, runs, settings, overlay=None) -> None:
    """The four charts of `runs` (run with the page's `settings`); `overlay` ({name: run}, e.g. the
    blog's code as published) is drawn beside them on the loss and parameter charts only."""
    fit, train = prepared.fit, prepared.train
    charted = {**runs, **(overlay or {})}
    st.session_state[DRAWN_CHARTS] = []
    time_charts(prepared, runs, charted)
    names = parameter_names(train)
    main_name, main_run = next(iter(runs.items()))
    target = train.target_name
    if train.n_features == 1:
        feature = train.feature_names[0] + (" (z-score)" if prepared.scaler is not None else "")
        fit_chart = PAYLOADS.get(
            "fit",
            (prepared, main_run),
            (),
            lambda: drawn_chart(
                charts.fit_chart(
                    *charts.fit_tables(train.X[:, 0], train.y, main_run, fit),
                    main_run.best_epoch,
                    feature,
                    target,
                    penalized=bool(fit.l2),
                )
            ),
        )
        show_chart(fit_chart)
        drawn = fit_chart.spec.datasets["lines"]["epoch"].nunique()
        if drawn == main_run.epochs_run + 1:
            st.caption(
                "Tick **▶ Play** under the chart to watch the line move (the **Speed** sets how long the "
                "whole run takes), or drag the **Epoch** slider, one epoch at a time; play starts from "
                "the slider's epoch, and the epoch shown is written on the chart."
            )
        else:
            st.caption(
                f"Tick **▶ Play** under the chart, or drag the **Epoch** slider, to watch the line move: "
                f"{drawn:,} of the {main_run.epochs_run + 1:,} epochs are drawn, and the line is the drawn "
                "epoch nearest the play head (its number is on the chart)."
            )
    elif prepared.degree > 1:
        show_chart(
            PAYLOADS.get(
                "curve",
                (prepared, main_run),
                (),
                lambda: drawn_chart(
                    curves.curve_chart(
                        *curves.curve_tables(prepared, main_run),
                        main_run.best_epoch,
                        prepared.degree,
                        target,
                        penalized=bool(prepared.quadratic.l2),
                    )
                ),
            )
        )
        st.caption(
            f"{literal_markdown(main_name)}'s polynomial over the data: tick **▶ Play** under the chart to "
            "watch the curve move, or drag the **Epoch** slider (the curve is that of the drawn epoch "
            "nearest it; the play starts at the best epoch)."
        )
    else:
        predicted = train.X @ main_run.best_weights + main_run.best_bias
        show_chart(
            charts.prediction_chart(
                charts.prediction_tables(train.y, predicted),
                f"Predicted against actual {target}",
                target,
                f"{main_name} at its best epoch; on the diagonal: a perfect fit",
            )
        )
        if prepared.scaler is not None:
            st.caption("The weights multiply the features' z-scores; the target keeps its units.")
    landscape(prepared, runs, names, settings)
    st.html('<div id="after-charts"></div>')  # AFTER_CHARTS: the skip link's target (literal HTML only)


def step_sizes(prepared, runs) -> None:
    """With a learning-rate schedule: the step α each epoch used (the first run's; every run shares the
    schedule), with each full-batch optimizer's constant-step limit. Nothing for a constant α."""
    main_run = next(iter(runs.values()))
    spec = main_run.spec
    if spec is None or spec.schedule.is_constant:
        return
    full_batch = spec.is_full_batch(prepared.train.n_samples)
    limits = (
        {name: experiment.optimizer_limits(prepared, run.spec).alpha_max for name, run in runs.items()}
        if full_batch
        else {}
    )
    title = f"Step α per epoch: {spec.schedule.kind.display_name.lower()}"  # one line: <= 38 characters
    show_chart(
        PAYLOADS.get(
            "steps",
            (prepared, main_run),
            tuple(runs),
            lambda: drawn_chart(charts.step_size_chart(charts.step_size_table(main_run), limits, title)),
        )
    )
    st.caption(
        f"Every update of an epoch uses that epoch's α (the schedule is stepped once per epoch, as "
        f"`{spec.schedule.kind.source}`): {schedule_phrase(spec)}."
    )


@page_fragment
def landscape(prepared, runs, names, settings) -> None:
    """The loss landscape, a fragment: its axis pickers, single step and a click that gives no point
    redraw it alone (its chart replaced in the report's list: `charts_in_place`); a click that sets the
    start changes the page's settings, so the whole page reruns, and its runs start there."""
    rerun_page_if_settings_changed(settings)
    with charts_in_place("landscape_drawn"):
        landscape_section(prepared, runs, names)


def landscape_section(prepared, runs, names) -> None:
    """The loss landscape over two parameters chosen by name: a choice that still exists survives a
    change of features, one that does not goes back to its default (set in session state before the
    widget is drawn, so the selector shows what the chart draws)."""
    u_name, v_name = names[0], names[-1]
    if len(names) > 2:
        for key, default in (("landscape_u", names[0]), ("landscape_v", names[-1])):
            if st.session_state.get(key) not in names:
                st.session_state[key] = default
        u_col, v_col = st.columns(2)
        u_name = u_col.selectbox("Landscape: horizontal axis", names, key="landscape_u")
        v_name = v_col.selectbox("Landscape: vertical axis", names, key="landscape_v")
        if u_name == v_name:
            st.warning("Choose two different parameters for the landscape's axes.")
            return
    i, j = names.index(u_name), names.index(v_name)

    stepped = landscape_tools.step_controls(runs)  # (run, epoch) in single step, else None
    step_epoch = None if stepped is None else stepped[1]
    clicks = landscape_tools.click_options(names, i, j)

    def tables():
        view = experiment.landscape_view(prepared, runs, i, j)
        return view, charts.landscape_tables(view, 800)

    def draw(view, tables, arrows=None):
        return drawn_chart(
            charts.landscape_chart(*tables, view.bounds, u_name, v_name, arrows, step_epoch, bool(clicks))
        )

    sources = (prepared, *runs.values())
    view, drawn = PAYLOADS.get("landscape_tables", sources, (tuple(runs), i, j), tables)
    if step_epoch is None:
        chart = PAYLOADS.get(
            "landscape", sources, (tuple(runs), i, j, u_name, v_name, bool(clicks)), lambda: draw(view, drawn)
        )
    else:  # one chart per epoch stepped through: drawn now, not kept
        step = singlestep.epoch_step(prepared, runs[stepped[0]], step_epoch)
        chart = draw(view, drawn, singlestep.step_arrows(step, i, j, view.bounds))
    show_chart(chart, **clicks)
    landscape_tools.click_notice(names, i, j)
    for name, off in view.off_chart.items():
        st.caption(literal_markdown(experiment.off_chart_note(name, off, u_name, v_name)))
    if step_epoch is not None:
        literal = [literal_markdown(name) for name in names]
        landscape_tools.step_panel(step, literal, i, j, stepped[0] if len(runs) > 1 else None)
    else:
        race = "every run's point moves at once, a race; " if len(runs) > 1 else ""
        st.caption(
            f"Tick **▶ Play** under the landscape to watch the descent: {race}the big dot is the latest drawn "
            "epoch at the play head, and the **Epoch** slider sets where play starts."
        )
    held = (
        f" The other parameters are held at their {optimum_name(prepared.fit.l2)} values."
        if len(names) > 2
        else ""
    )
    st.caption(
        f"{literal_markdown(u_name)} and {literal_markdown(v_name)} are drawn at the same scale, so the bowl's "
        "true shape shows: round contours "
        "mean every direction descends alike, long thin ellipses a narrow valley." + held
    )

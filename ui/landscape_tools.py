"""The landscape's two interactions: single step (one epoch forward / back, with the gradient, the step
and the blog's four equations of that epoch) and a click on the landscape that sets the start."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import replace

import streamlit as st

from gdcore.dashboard.charts import CLICK_SELECTION
from gdcore.dashboard.explain import literal_markdown
from gdcore.dashboard.settings import Settings, input_range
from gdcore.dashboard.singlestep import ARROW_FRACTION, equations
from gdcore.trajectory import Trajectory
from ui.state import keep_in_range, shown_number

STEPPING = "single_step"  # widget key: the single-step toggle
STEP_EPOCH = "step_epoch"  # widget key: the epoch single step shows (0 .. the first run's last)
STEP_RUN = "step_run"  # widget key: the run single step shows, when the page shows several
STEP_NOTICE = "step_notice"  # session key: an epoch typed outside the run, and what is shown instead
CLICK = "landscape_click"  # widget key of the landscape's click selection, before its number
CLICKS = "landscape_clicks"  # session key: clicks handled so far (a new widget key after each one)
CLICK_NOTICE = "click_notice"  # session key: what the last click on the landscape did
W0_EACH = "w0_each"  # session and URL key: one start per weight (Settings.w0_each), set by a click


def step_controls(runs: Mapping[str, Trajectory]) -> tuple[str, int] | None:
    """The single-step toggle and, when on, the run to step (with several) and its epoch control (0 .. the
    run's last, ±1 per click); returns (run name, epoch), or None when single step is off."""
    on = st.toggle(
        "Single step: one epoch forward / back",
        key=STEPPING,
        help="Shows, for one epoch, the gradient at the run's point, the step it took and the blog's four "
        "equations with that epoch's numbers. The chart's Play and Epoch controls give way to it.",
    )
    if not on:
        return None
    name = next(iter(runs))
    if len(runs) > 1:
        if st.session_state.get(STEP_RUN) not in runs:  # a run no longer on the page: the first
            st.session_state[STEP_RUN] = name
        name = st.selectbox("Run to step", list(runs), key=STEP_RUN)
    last_epoch = runs[name].epochs_run
    if st.session_state.get(STEP_EPOCH, 0) > last_epoch:  # a shorter run than the one stepped before
        st.session_state[STEP_EPOCH] = last_epoch
    row = st.container(horizontal=True, vertical_alignment="bottom")
    row.button("◀ Epoch back", key="step_back", on_click=_move, args=(-1, last_epoch))
    # The range is kept by _keep_epoch, not the widget's min/max: the browser would keep showing a red
    # out-of-range entry while the page showed the previous epoch (as the sidebar's number fields do).
    row.number_input(
        f"Epoch t (0 to {last_epoch:,})",
        step=1,  # whole epochs from 0; no default passed, as the buttons set it in session state
        key=STEP_EPOCH,
        on_change=_move,
        args=(0, last_epoch),
        width=170,
    )
    row.button("Epoch forward ▶", key="step_forward", on_click=_move, args=(1, last_epoch))
    notice = st.session_state.pop(STEP_NOTICE, None)
    if notice:
        st.caption(f":orange[{notice}]")
    return name, int(st.session_state[STEP_EPOCH])


def _move(by: int, last_epoch: int) -> None:
    """Step the epoch by `by` (0: an epoch typed), kept within 0 .. `last_epoch` with a notice if not."""
    typed = st.session_state.get(STEP_EPOCH)
    epoch = (0 if typed is None else int(typed)) + by
    kept = min(max(epoch, 0), last_epoch)
    if by == 0 and kept != epoch:
        st.session_state[STEP_NOTICE] = (
            f"Epoch t: {epoch:,} is outside 0 to {last_epoch:,}, so {kept:,} is shown."
        )
    st.session_state[STEP_EPOCH] = kept


def step_panel(step, names: list[str], i: int, j: int, run: str | None = None) -> None:
    """The four equations of the stepped epoch and what the arrows are; `run` names the run stepped when
    the page shows several."""
    whose = (
        f"{literal_markdown(run)}'s (the other runs' points stand at the same epoch)" if run else "the run's"
    )
    st.caption(
        f"Epoch {step.epoch:,}, {whose}: the pink arrow points along −∇J, the steepest way down (drawn "
        f"{ARROW_FRACTION:g} of the picture's longer side long whatever the gradient's size, which is "
        "written below), "
        "the dark arrow is the step the run took to epoch t + 1"
        + (
            "."
            if step.plain_gd
            else ", and the violet one −α∇J, the step full-batch GD would take from here."
        )
    )
    for line in equations(step, names, i, j):
        st.markdown(line)


def click_options(names: list[str], i: int, j: int) -> dict:
    """The landscape's `st.vega_lite_chart` options for a click that sets the start of the two parameters
    drawn, `names[i]` (horizontal) and `names[j]` (vertical); the other weights keep theirs."""
    if i == j:
        return {}
    # A fresh widget after each click: a kept selection would make a second click on the same point (after
    # the start was changed in the fields) no change, and no rerun.
    key = f"{CLICK}_{st.session_state.get(CLICKS, 0)}"
    return {
        "on_select": functools.partial(set_start_from_click, key, tuple(names), i, j),
        "selection_mode": [CLICK_SELECTION],
        "key": key,
    }


def set_start_from_click(key: str, names: tuple[str, ...], i: int, j: int) -> None:
    """on_select of the landscape (widget `key`): the clicked point's coordinates become the start of
    parameters i and j, rounded to what the number fields show (2 decimals) and kept in their allowed
    range like a typed value. One feature: Start w and Start b. Several: a weight's start goes into the
    per-weight start (`w0_each`, the others kept), the bias's into Start b."""
    state = st.session_state.get(key)
    points = (state or {}).get("selection", {}).get(CLICK_SELECTION) or []
    if not points:
        return
    st.session_state[CLICKS] = st.session_state.get(CLICKS, 0) + 1
    point = points[0]
    try:
        u, v = float(point["u"]), float(point["v"])
    except (KeyError, TypeError, ValueError):
        u = v = math.nan
    if not (math.isfinite(u) and math.isfinite(v)):
        st.session_state[CLICK_NOTICE] = (
            f"The click on the landscape gave no usable point (got {str(point)[:80]}); the start is unchanged."
        )
        return
    d = len(names) - 1
    weights = list(st.session_state.get(W0_EACH) or [float(st.session_state["w0"])] * d)
    low, high = input_range("w0")
    said, clamped = [], []
    for k, value in ((i, round(u, 2)), (j, round(v, 2))):
        if k == d or d == 1:  # Start b, or the one weight's Start w: as if typed
            field, label = ("b0", "Start b") if k == d else ("w0", "Start w")
            st.session_state[field] = value
            keep_in_range(field, label)
            clamped += [st.session_state.get("range_notices", {}).get(field)]
            value = st.session_state[field]
        else:
            kept = min(max(value, low), high)
            if kept != value:
                clamped.append(
                    f"{literal_markdown(names[k])}: {shown_number(value)} is outside {shown_number(low)} to "
                    f"{shown_number(high)}, so {shown_number(kept)} is used."
                )
            weights[k] = value = kept
        said.append(f"{literal_markdown(names[k])} = {value:g}")
    if d > 1:
        st.session_state[W0_EACH] = tuple(weights)
    others = "; the other weights keep their start" if d > 1 and (i < d) + (j < d) < d else ""
    st.session_state[CLICK_NOTICE] = (
        f"Start set from your click: {', '.join(said)}{others}; the run starts there now."
        + "".join(f" {notice}" for notice in clamped if notice)
    )


def click_notice(names: list[str], i: int, j: int) -> None:
    """Under the landscape: how to set the start with a click, or what the last click did."""
    notice = st.session_state.pop(CLICK_NOTICE, None)
    if notice:
        st.info(notice, icon="🎯")
    elif len(names) == 2:
        st.caption("Click anywhere on the landscape to start the run there (Start w and Start b follow).")
    elif i != j:
        u, v = literal_markdown(names[i]), literal_markdown(names[j])
        st.caption(
            f"Click anywhere on the landscape to start the run there: {u} and {v} start at the point "
            "clicked, the other weights keep their start (shown under Start w in the sidebar)."
        )


def fitted_start(settings: Settings, n_features: int) -> Settings:
    """These settings, without a per-weight start that does not fit the data (made for another number
    of features, before the data changed): every weight then starts at Start w again, and the page says so."""
    if settings.start_fits(n_features):
        return settings
    st.session_state[W0_EACH] = ()
    st.query_params.pop(W0_EACH, None)
    st.info(
        f"The per-weight start set by a click was for {len(settings.w0_each)} weights; this data has "
        f"{n_features}, so every weight starts at Start w = {settings.w0:g} again.",
        icon="🎯",
    )
    return replace(settings, w0_each=())


def per_weight_start(container) -> None:
    """Under Start w in the sidebar: the per-weight start a click set (if any), and a way back to one."""
    weights = st.session_state.get(W0_EACH)
    if not weights:
        return
    container.caption(
        "Start per weight (set by a click on the landscape; Start w is not used): "
        + ", ".join(f"{w:g}" for w in weights)
    )
    container.button("Use Start w for every weight", key="clear_w0_each", on_click=_clear_weights)


def _clear_weights() -> None:
    st.session_state[W0_EACH] = ()

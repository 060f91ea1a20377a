"""Runs priced before they start: quick runs just run; long ones wait to be asked for, show their
progress and can be cancelled; runs too long for a shared server do not run (issue 10 §2b).

The estimate and the policy are `gdcore.dashboard.budget` (seconds from the size of the work, and the
thresholds GDLAB_ASK_ABOVE_S / GDLAB_REFUSE_ABOVE_S). A run estimated above PROGRESS_ABOVE_S runs here,
outside `st.cache_resource`, because it draws: a progress bar updated after each chunk of epochs and
within a long mini-batch epoch (`gdcore.stepping.execute` reports about every PROGRESS_EVERY_S = 0.1 s),
with the epochs done and the time left. Each call is a Streamlit interrupt point, so when the session
moves on (a widget changed) or closes, Streamlit stops the run there, within a fraction of a second of
work. Its result goes to `ui.cache.FINISHED`, where `ui.cache.run` finds it: no rerun, and no other
section, pays for it twice. The trial runs behind a suggested step after a divergence are work the page
does on its own: `trial_runs` keeps them within GDLAB_ASK_ABOVE_S.
"""

from __future__ import annotations

import itertools
import os
import time

import streamlit as st

from gdcore.dashboard import experiment
from gdcore.dashboard.budget import SWEEP_POINTS, Budget, PlanCost, describe_seconds, estimate, estimate_sweep
from gdcore.optimizers import OPTIMIZERS
from ui import cache

PROGRESS_ABOVE_S = 1.0  # runs estimated longer than this show progress and a Cancel button
UPDATE_EVERY_S = 0.25  # the progress bar is redrawn at most this often
APPROVED_KEY, CANCELLED_KEY = "run_approved", "run_cancelled"


def server_budget(say: bool = True) -> Budget:
    """The budget this server allows, from its environment; a bad setting is said (unless `say` is False:
    a caller on a page that has said it already) and the defaults are used (the page still works)."""
    try:
        return Budget.from_environment(os.environ)
    except ValueError as exc:
        if say:
            st.error(f"Server setting ignored, defaults used: {exc}.", icon="⚙️")
        return Budget()


def trial_runs(prepared, plan: experiment.RunPlan) -> tuple[int, PlanCost]:
    """How many trial runs of `plan` at other steps (`experiment.safe_step`'s, for a suggested step) the
    page makes on its own: as many as fit in the time a request takes without asking (each costs what the
    plan costs: alpha changes no work), at most SAFE_STEP_TRIES; and the plan's cost."""
    train = prepared.train
    cost = estimate(plan.specs, train.n_samples, train.n_features)
    return server_budget(say=False).runs_unasked(cost, experiment.SAFE_STEP_TRIES), cost


def untried_step_note(step: float, ceiling: float, cost: PlanCost, bounds: str) -> str:
    """Why a suggested step is offered without having been run: one run costs more than the page spends
    without asking. `bounds` says what the ceiling was the smallest of (`step_bounds_phrase`)."""
    allowed = server_budget(say=False).ask_above_s

    def said(seconds: float) -> str:  # under a second (a small budget): the figure, so the two differ
        return f"{seconds:.2g} s" if seconds < 1 else describe_seconds(seconds)

    return (
        f"α = {step:g} is the largest slider value at or below {ceiling:.3g}, {bounds}. "
        "It was not run: "
        f"one run at these settings takes {said(cost.seconds)} of this server's time (estimated), more than "
        f"the {said(allowed)} the page spends without asking. Setting it runs it like any run, and a long "
        "one waits to be asked for."
    )


def approve(key: tuple) -> None:
    st.session_state[APPROVED_KEY] = key
    st.session_state.pop(CANCELLED_KEY, None)


def cancel(key: tuple) -> None:
    st.session_state[CANCELLED_KEY] = key


def set_epochs(epochs: int) -> None:
    st.session_state["epochs"] = epochs


def budgeted_runs(prepared_key: tuple, prepared, plan: experiment.RunPlan, csv_bytes) -> dict:
    """The runs of `plan` on `prepared`, if the budget allows them now; otherwise the page says why and
    what fits, and the script stops here (the sidebar keeps every setting)."""
    train = prepared.train
    cost = estimate(plan.specs, train.n_samples, train.n_features)
    budget = server_budget()
    verdict = budget.verdict(cost)
    key = (prepared_key, plan)
    if (verdict == "run" and cost.seconds <= PROGRESS_ABOVE_S) or cache.FINISHED.get(key) is not None:
        return cache.run(prepared_key, plan, csv_bytes)
    # One slot for the question and then the progress: a run asked for replaces the question at once.
    slot = st.empty()
    if verdict == "refuse":
        with slot.container():
            refuse(cost, budget)
        st.stop()
    if st.session_state.get(CANCELLED_KEY) == key:
        with slot.container():
            offer(cost, budget, key, "You cancelled this run.")
        st.stop()
    if verdict == "ask" and st.session_state.get(APPROVED_KEY) != key:
        with slot.container():
            offer(cost, budget, key, "")
        st.stop()
    cache.FINISHED.put(key, run_with_progress(slot, prepared, plan, cost, key))
    return cache.run(prepared_key, plan, csv_bytes)  # the same runs, now also in the cache


def refuse(cost: PlanCost, budget: Budget) -> None:
    longest = max(run.epochs for run in cost.runs)
    epochs = cost.epochs_within(budget.refuse_above_s)
    st.error(
        f"This run would take **{describe_seconds(cost.seconds)}** of this server's time, which everyone "
        f"using the page shares; the most one run may take here is {describe_seconds(budget.refuse_above_s)}. "
        f"{why(cost)} Lower the epochs to {epochs:,} or fewer, or use a larger batch size, fewer samples or "
        "fewer optimizers. (On your own machine, the Export tab's code runs it without a limit.)",
        icon="⏳",
    )
    if epochs < longest:
        st.button(f"Set epochs to {epochs:,}", on_click=set_epochs, args=(epochs,), key="budget_set_epochs")


def offer(cost: PlanCost, budget: Budget, key: tuple, reason: str) -> None:
    """Ask before a long run: run it anyway (with progress, cancellable), or lower the epochs to fit."""
    st.warning(
        (reason + " " if reason else "")
        + f"This run would take **{describe_seconds(cost.seconds)}** of this server's time, which everyone "
        f"using the page shares. {why(cost)} Run it (you will see its progress and can cancel it), or "
        f"lower the epochs to {cost.epochs_within(budget.ask_above_s):,} to have it at once.",
        icon="⏳",
    )
    run_col, fit_col = st.columns(2)
    run_col.button(
        f"▶ Run it ({describe_seconds(cost.seconds)})",
        on_click=approve,
        args=(key,),
        key="budget_run",
        type="primary",
        width="stretch",
    )
    epochs = cost.epochs_within(budget.ask_above_s)
    fit_col.button(
        f"Set epochs to {epochs:,}", on_click=set_epochs, args=(epochs,), key="budget_fit", width="stretch"
    )


def why(cost: PlanCost) -> str:
    """Which run costs the most, per epoch, and by which path."""
    worst = max(cost.runs, key=lambda run: run.seconds)
    per_epoch = worst.seconds_per_epoch
    each = f"{per_epoch:,.1f} s" if per_epoch >= 1 else f"{per_epoch * 1e3:,.3g} ms"
    name = OPTIMIZERS[worst.optimizer].display_name
    return f"The slowest, {name} by {worst.path}, costs {each} an epoch for {worst.epochs:,} epochs."


def run_with_progress(slot, prepared, plan: experiment.RunPlan, cost: PlanCost, key: tuple) -> dict:
    """Run the plan here, drawing its progress in `slot` (emptied when done); a Cancel click (or any
    other change of the page) stops it."""
    with slot.container():
        bar = st.progress(0.0, text=f"Starting: about {describe_seconds(cost.seconds)} of work…")
        st.button("✖ Cancel", on_click=cancel, args=(key,), key="budget_cancel")
    names = [OPTIMIZERS[spec.optimizer].display_name for spec in plan.specs]
    before = dict(
        zip(names, itertools.accumulate((run.seconds for run in cost.runs), initial=0.0), strict=False)
    )
    per_epoch = dict(zip(names, (run.seconds_per_epoch for run in cost.runs), strict=True))
    started = time.monotonic()
    drawn = [started]

    def on_progress(name: str, done: float, total: int) -> None:
        now = time.monotonic()
        if now - drawn[0] < UPDATE_EVERY_S:
            st.session_state.get(CANCELLED_KEY)  # an interrupt point: a rerun or stop request ends the run
            return
        drawn[0] = now
        fraction = min(1.0, (before[name] + per_epoch[name] * done) / cost.seconds)
        left = (now - started) * (1.0 - fraction) / fraction if fraction > 0 else cost.seconds
        bar.progress(
            fraction, text=f"{name}: epoch {int(done):,} of {total:,} · {describe_seconds(left)} left"
        )

    runs = experiment.run_optimizers(prepared, plan, on_progress)
    slot.empty()
    return runs


def sweep_fits(prepared, plan: experiment.RunPlan) -> bool:
    """Whether the learning-rate sweep of `plan` (SWEEP_POINTS runs of each spec) fits the budget; if
    not, the page says what it would cost and which epochs would fit. A sweep is not asked for: it is
    sixty runs at once, so above the budget it simply does not run."""
    train = prepared.train
    cost = estimate_sweep(plan.specs, train.n_samples, train.n_features)
    budget = server_budget()
    if cost.seconds <= budget.ask_above_s:
        return True
    epochs = cost.epochs_within(budget.ask_above_s)
    st.info(
        f"The sweep runs each optimizer {SWEEP_POINTS} times: **{describe_seconds(cost.seconds)}** of this "
        f"server's time, which everyone using the page shares (a sweep may take "
        f"{describe_seconds(budget.ask_above_s)} here). {why(cost)} It fits at {epochs:,} epochs or fewer, "
        "or with a larger batch size, fewer samples or fewer optimizers.",
        icon="⏳",
    )
    st.button(f"Set epochs to {epochs:,}", on_click=set_epochs, args=(epochs,), key="budget_sweep_epochs")
    return False

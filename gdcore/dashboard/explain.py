"""Words and equations about a run: its status, and the blog's equations with the run's numbers.

The dashboard shows these strings as they are, so every formula stays in gdcore.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gdcore.dashboard.experiment import (
    ADAPTIVE_STEP_SHARE,
    FORECAST_HORIZON,
    SLOWEST_SHARE,
    GapFactors,
    MomentumMap,
    Outlook,
    PolyakPoint,
    Prepared,
    StepBound,
    overflow_phrase,
)
from gdcore.data import make_data
from gdcore.limits import limits_for
from gdcore.model import gradient
from gdcore.optimizers import OPTIMIZERS
from gdcore.reference import blog_shape_pitfall
from gdcore.spec import RunSpec
from gdcore.theory import Fit
from gdcore.trajectory import GROWTH_EPOCHS, REACHED_FRACTION, Trajectory, growing_at_end

_PUNCTUATION = r"[!-/:-@\[-`{-~]"  # every ASCII punctuation mark: CommonMark lets each be escaped


def literal_markdown(text: object) -> str:
    """User-derived text (file and column names, URL values) made literal inside Markdown: each ASCII
    punctuation mark backslash-escaped and line breaks flattened, so a name cannot format, link or
    fetch anything."""
    return re.sub(f"({_PUNCTUATION})", r"\\\1", " ".join(str(text).splitlines()))


def plain_text(markdown: str) -> str:
    """What `literal_markdown` text reads as once rendered: the escapes removed."""
    return re.sub(f"\\\\({_PUNCTUATION})", r"\1", markdown)


@dataclass(frozen=True)
class Status:
    level: str  # "success", "info", "warning" or "error": the colour the page gives it
    icon: str
    text: str
    kind: str = ""  # "converged", "descending", "stopped early", "not converging" or "diverged"


# A loss within 0.1% of its minimum with more than this share of the start's distance to w* left is a
# flat valley: the loss says "done" while the weights are still far off.
FLAT_VALLEY_DISTANCE = 0.1

_LIMIT_FORMULAS = {
    "gd": "2/λ_max",
    "momentum": "2(1+β)/λ_max",
    "nesterov": "2(1+β)/((1+2β)·λ_max)",
}
_NO_LIMIT_REASON = "its steps are divided by a running size of the gradients, so there is no fixed cliff"


def gap_closed(run: Trajectory, optimum_loss: float) -> float:
    """(J_0 - J_best) / (J_0 - J*): how much of the starting gap to the optimum the run closed."""
    start_gap = run.loss[0] - optimum_loss
    if start_gap <= 0:
        return 1.0
    return float((run.loss[0] - run.best_loss) / start_gap)


def _closed_at_end(run: Trajectory, optimum_loss: float) -> float:
    start_gap = run.loss[0] - optimum_loss
    return 1.0 if start_gap <= 0 else float((run.loss[0] - run.loss[-1]) / start_gap)


def not_converging(run: Trajectory, optimum_loss: float) -> bool:
    """The "not converging" outcome, the core's one rule (`Trajectory.outcome`): finite and not diverged,
    not at the optimum at its end, and neither below its optimizer's limit on the full batch (theory says
    it converges) nor still finding new lows in its last tenth of epochs. That is an adaptive optimizer
    circling the optimum, or a mini-batch run bouncing on its noise."""
    return run.outcome(optimum_loss) == "not converging"


def parameter_names(n_features: int) -> list[str]:
    """w, b for one feature; w1..wd, b for several (the page passes its own, with column names)."""
    return ["w", "b"] if n_features == 1 else [f"w{k + 1}" for k in range(n_features)] + ["b"]


def _limit_phrase(outlook: Outlook) -> str:
    """'Momentum's step limit α_max = 1.812 (2(1+β)/λ_max at β = 0.9)', or why there is none."""
    name = OPTIMIZERS[outlook.spec.optimizer].display_name
    limits = outlook.limits
    if limits.alpha_max is None:
        return f"{name} has no fixed step limit ({_NO_LIMIT_REASON})"
    beta = dict(limits.hyper).get("beta")
    at_beta = f" at β = {beta:g}" if beta is not None else ""
    formula = _LIMIT_FORMULAS[outlook.spec.optimizer]
    return f"{name}'s step limit α_max = {limits.alpha_max:.4g} ({formula}{at_beta}, full batch)"


def schedule_phrase(spec: RunSpec) -> str:
    """'the cosine annealing schedule steps α from 0.1 in epoch 1 to 2.467e-05 in epoch 100 (largest
    0.1)': the planned steps of a scheduled spec (`RunSpec.alphas`), for sentences that must not claim
    constant-α theory."""
    alphas = spec.alphas()
    kind = f"the {spec.schedule.kind.display_name.lower()} schedule"
    if alphas.size == 0:
        return kind
    return (
        f"{kind} steps α from {alphas[0]:.4g} in epoch 1 to {alphas[-1]:.4g} in epoch {alphas.size:,} "
        f"(largest {alphas.max():.4g})"
    )


def _largest_step(outlook: Outlook) -> float:
    """The largest alpha the run's plan uses: alpha itself for a constant step."""
    alphas = outlook.spec.alphas()
    return float(alphas.max()) if alphas.size else outlook.alpha


def _batch_phrase(outlook: Outlook) -> str:
    return f"mini-batches of {outlook.spec.batch_size:,}"


def loss_name(l2: float) -> str:
    """What a run's loss is called: "MSE", or with a ridge penalty l2 = lambda > 0 the penalized loss."""
    return "MSE + λ‖w‖²" if l2 else "MSE"


def optimum_name(l2: float) -> str:
    """Whose minimum the runs approach: least squares', or with a ridge penalty the ridge solution's."""
    return "ridge" if l2 else "least-squares"


def describe_status(
    run: Trajectory, fit: Fit, outlook: Outlook, names: Sequence[str] | None = None
) -> Status:
    """What this run did, in one sentence the run and its optimizer's own theory make true.

    * Diverged: exactly `run.diverged` (the core's rule), naming alpha and this optimizer's own limit.
    * Converged: the run reached the optimum (`Trajectory.epoch_reaching`: 99.9% of the starting loss
      gap closed; the epoch it did, not the best epoch) and is there at its end, or converges by theory.
      When the weights are still far from w* there (`FLAT_VALLEY_DISTANCE`), it says so and by how much.
    * Converged by the tolerance rule ("stopped early"): the `tol` rule ended it before it reached the
      optimum; said so, with how much of the gap is closed and the forecast of the optimum.
    * Still descending: not there yet, with the exact epoch it will be (`Outlook.forecast`) where theory
      has one (full-batch GD, momentum, Nesterov), and says there is none otherwise.
    * Not converging: `not_converging` (adaptive optimizers circling, mini-batch noise), or a run that
      reached the optimum and left it again.
    """
    optimum = fit.loss
    name = OPTIMIZERS[outlook.spec.optimizer].display_name
    alpha = outlook.alpha
    if run.diverged:
        return _diverged(run, outlook)
    reached = run.epoch_reaching(optimum)
    closed_end = _closed_at_end(run, optimum)
    converges_by_theory = outlook.has_theory and outlook.limits.rate(alpha) < 1.0
    tol_stop = (
        f" The tolerance rule stopped it at epoch {run.epochs_run:,}."
        if run.stop_reason == "converged" and run.epochs_run
        else ""
    )
    if reached is not None and (closed_end >= REACHED_FRACTION or converges_by_theory):
        return _converged(run, fit, outlook, reached, names, tol_stop)
    if run.stop_reason == "converged" and reached is None:
        tol = run.spec.tol if run.spec is not None else None
        rule = f"relative change below {tol:g}" if tol is not None else "the tolerance rule"
        return Status(
            "success",
            "✅",
            f"**Converged** by the tolerance rule: the error stabilized ({rule}) at epoch "
            f"{run.epochs_run:,}, with {gap_closed(run, optimum):.1%} of the starting gap to the optimum "
            f"closed — short of the optimum itself (99.9% closed). Without the stop: "
            f"{_lowercase_first(_forecast_sentence(run, outlook, name))}",
            "stopped early",
        )
    if reached is not None:
        return Status(
            "warning",
            "〰️",
            f"**Not converging**: {name} reached the optimum (99.9% of the starting gap closed) at epoch "
            f"{reached:,} but did not stay there: at the end {_gap_open(1 - closed_end, 2)} is open "
            f"again ({loss_name(fit.l2)} {_loss_text(run.loss[-1])} against the minimum {optimum:,.3f}). "
            + _bounce_reason(run, outlook),
            "not converging",
        )
    if not_converging(run, optimum):
        return Status(
            "warning",
            "〰️",
            f"**Not converging**: after {run.epochs_run:,} epochs the loss is no longer getting lower (its "
            "last value is above its lowest before the last tenth of the run), with "
            f"{_gap_open(1 - closed_end, 1)} still open ({loss_name(fit.l2)} {_loss_text(run.loss[-1])} "
            "against the "
            f"minimum {optimum:,.3f}). {_bounce_reason(run, outlook)}",
            "not converging",
        )
    return Status(
        "info",
        "⏳",
        f"**Still descending**: {gap_closed(run, optimum):.1%} of the starting gap to the optimum is "
        f"closed after {run.epochs_run:,} epochs. {_forecast_sentence(run, outlook, name)}",
        "descending",
    )


def _loss_text(value: float) -> str:
    """A loss as '1,667.758', or as '1.068e+101' once its digits in full would not be readable (>= 1e9)."""
    return f"{value:,.3f}" if abs(value) < 1e9 else f"{value:.4g}"


def _gap_open(fraction: float, decimals: int) -> str:
    """'77.7% of the starting gap', or '6.13e+97 times the starting gap' for a gap beyond 10,000% of it."""
    if abs(fraction) < 100:
        return f"{fraction:.{decimals}%} of the starting gap"
    return f"{fraction:.3g} times the starting gap"


def _lowercase_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


def _what_grew(run: Trajectory) -> str:
    """What a diverged run's own numbers did, from the run: its loss growing in each of its last
    GROWTH_EPOCHS epochs (the rule that flags a run without an exact one, `growing_at_end`), with the
    mean factor per epoch (J_K / J_{K-k})^(1/k); or, for a run stopped on non-finite numbers (where:
    `overflow_phrase`, said after this), J_0 and the last finite J_K, or that no epoch finished."""
    loss, epochs, k = run.loss, run.epochs_run, GROWTH_EPOCHS
    if growing_at_end(loss):
        factor = (loss[-1] / loss[-k - 1]) ** (1.0 / k)
        return (
            f"its loss grew in each of its last {k} epochs, from {loss[-k - 1]:,.4g} at epoch "
            f"{epochs - k:,} to {loss[-1]:,.4g} at epoch {epochs:,} (×{factor:.3g} per epoch)"
        )
    if overflow_phrase(run) is not None and epochs == 0:
        return "it did not finish one epoch"
    if overflow_phrase(run) is not None:
        verb = "rose" if loss[-1] > loss[0] else "went"
        return f"its loss {verb} from {loss[0]:,.4g} at the start to {loss[-1]:,.4g} at epoch {epochs:,}"
    return "its loss grew"


def _diverged(run: Trajectory, outlook: Outlook) -> Status:
    """The "Diverged" status: what this run did (`_what_grew`, from its numbers) and the theory that
    holds for it. Only a full-batch GD, momentum or Nesterov run at a constant alpha gets the exact
    reason (alpha at or above its limit: the error along the steepest direction grows every epoch); a
    mini-batch run is compared with the full-batch limit, said to be exact only for steps on all rows;
    an adaptive optimizer has no fixed limit; a schedule's steps are named."""
    alpha, limits = outlook.alpha, outlook.limits
    name = OPTIMIZERS[outlook.spec.optimizer].display_name
    steps = schedule_phrase(outlook.spec)
    did = _what_grew(run)
    noisy = (
        ""
        if outlook.full_batch
        else f"with {_batch_phrase(outlook)} each step follows only its batch's noisy gradient"
    )
    if outlook.scheduled and limits.alpha_max is None:
        why = f"{steps}; {_limit_phrase(outlook)}, and {did}"
    elif outlook.scheduled and _largest_step(outlook) >= limits.alpha_max:
        why = f"{steps}; its largest step is at or above {_limit_phrase(outlook)}, and {did}"
    elif outlook.scheduled:
        noise = "" if outlook.full_batch else f" ({noisy})"
        why = f"{steps}; every step is below {_limit_phrase(outlook)}, yet {did}{noise}"
    elif limits.alpha_max is None:
        why = f"{_limit_phrase(outlook)}, but at α = {alpha:g} {did}"
    elif not outlook.full_batch:
        side = "above" if alpha > limits.alpha_max else "at" if alpha == limits.alpha_max else "below"
        why = (
            f"α = {alpha:g} is {side} {_limit_phrase(outlook)}, a limit exact only for steps on all rows: "
            f"{noisy}, and no formula gives this run's edge. What happened: {did}"
        )
    elif alpha >= limits.alpha_max:
        why = (
            f"α = {alpha:g} is above {_limit_phrase(outlook)} for this data, so the error along the "
            "steepest direction grows every epoch"
        )
    else:
        why = f"{did}, although α = {alpha:g} is below {_limit_phrase(outlook)}"
    overflow = overflow_phrase(run)
    kept = (
        "only the start, epoch 0" if run.epochs_run == 0 else f"epochs 0–{run.epochs_run:,}, the finite part"
    )
    stopped = f" The numbers {overflow}; the charts show {kept}." if overflow else ""
    fastest = (
        f" {name}'s fastest step for this data is α_opt = {limits.alpha_opt:.4g} (full batch)."
        if limits.alpha_opt is not None
        else ""
    )
    return Status("error", "💥", f"**Diverged**: {why}.{stopped}{fastest}", "diverged")


def _converged(
    run: Trajectory, fit: Fit, outlook: Outlook, reached: int, names: Sequence[str] | None, tol_stop: str
) -> Status:
    optimum = fit.loss
    if run.loss[0] - optimum <= 0 or reached == 0:
        text = (
            f"**Converged**: it started at the optimum ({loss_name(fit.l2)} {run.loss[0]:,.3f}, the "
            f"{optimum_name(fit.l2)} minimum {optimum:,.3f})."
        )
        return Status("success", "✅", text, "converged")
    lead = (
        f"**Converged**: reached the optimum (99.9% of the starting gap closed) at epoch {reached:,}; "
        f"{loss_name(fit.l2)} {run.loss[-1]:,.3f} at the end against the {optimum_name(fit.l2)} minimum "
        f"{optimum:,.3f}.{tol_stop}"
    )
    valley = _flat_valley(run, fit, outlook, names)
    if valley:
        return Status("info", "🏞️", f"{lead} {valley}", "converged")
    swings = (
        " The loss still swings on its way down (momentum overshoots), but theory says it converges."
        if _closed_at_end(run, optimum) < REACHED_FRACTION
        else ""
    )
    return Status("success", "✅", lead + swings, "converged")


def _flat_valley(run: Trajectory, fit: Fit, outlook: Outlook, names: Sequence[str] | None) -> str:
    """The ill-conditioning lesson, when it applies: loss at its minimum, weights not."""
    optimum_theta = np.append(fit.weights, fit.bias)
    start = np.append(run.weights[0], run.bias[0])
    end = np.append(run.weights[-1], run.bias[-1])
    start_distance = float(np.linalg.norm(start - optimum_theta))
    left = float(np.linalg.norm(end - optimum_theta))
    if start_distance == 0 or left <= FLAT_VALLEY_DISTANCE * start_distance:
        return ""
    names = list(names) if names is not None else parameter_names(run.n_features)
    worst = int(np.argmax(np.abs(end - optimum_theta)))
    moving = outlook.limits.moving_eigenvalues
    kappa = float(moving[-1] / moving[0])
    return (
        f"**But the weights are not there**: the loss has closed 99.9% of its gap to the minimum while "
        f"{names[worst]} = {end[worst]:,.4g} against {optimum_theta[worst]:,.4g} at the optimum, and "
        f"{left / start_distance:.0%} of the start's distance to the optimum is left. The loss valley is "
        f"nearly flat along some directions (condition number {kappa:,.4g}): moving along them barely "
        "changes the loss, so gradient descent crawls there — the lesson of ill-conditioning."
        + (
            f" At α = {outlook.alpha:g} the slowest direction's error shrinks "
            f"{factor_text(outlook.limits.rate(outlook.alpha))} per epoch."
            if outlook.has_theory
            else ""
        )
    )


def _forecast_sentence(run: Trajectory, outlook: Outlook, name: str) -> str:
    alpha = outlook.alpha
    if outlook.scheduled:
        return (
            f"There is no forecast with a learning-rate schedule: {schedule_phrase(outlook.spec)}, and "
            "the forecast is for a constant step."
        )
    if not outlook.has_limit:
        return (
            f"There is no forecast for {name}: {_NO_LIMIT_REASON}, and its steps are not a fixed "
            "linear map of the error."
        )
    if not outlook.full_batch:
        return (
            f"There is no forecast with {_batch_phrase(outlook)}: the theory and its forecast are for "
            "full-batch steps, and each mini-batch adds noise."
        )
    if outlook.limits.rate(alpha) >= 1.0:
        return f"At α = {alpha:g} the slowest direction does not shrink, so it never gets there."
    if outlook.forecast is None:
        return (
            f"At α = {alpha:g} it would need more than {FORECAST_HORIZON:,} epochs to close 99.9% "
            f"(the loss gap shrinks {factor_text(outlook.loss_rate())} per epoch in the long run)."
        )
    more = outlook.forecast - run.epochs_run
    if more <= 0:
        return f"Full batch at α = {alpha:g}, it reaches 99.9% at epoch {outlook.forecast:,}."
    return (
        f"About {more:,} more epochs at α = {alpha:g} would close 99.9% (at epoch {outlook.forecast:,}: "
        "the exact forecast from the loss gap along each eigen-direction of the Hessian)."
    )


def _bounce_reason(run: Trajectory, outlook: Outlook) -> str:
    """Why a finite run is not converging, for this optimizer; a run whose loss ended above its start is
    said to have moved away from the optimum (its numbers), not to bounce near it."""
    name = OPTIMIZERS[outlook.spec.optimizer].display_name
    away = (
        f"this run's loss ended above its start ({run.loss[-1]:,.4g} at epoch {run.epochs_run:,} against "
        f"{run.loss[0]:,.4g} at epoch 0): it has moved away from the optimum, not bounced near it."
    )
    above_start = bool(run.loss[-1] > run.loss[0])
    if not outlook.full_batch:
        lead = f"With {_batch_phrase(outlook)} each step follows a noisy gradient"
        if above_start:
            return f"{lead}; {away}"
        return f"{lead}, so the run bounces around the optimum; the bounce grows with α and shrinks with the batch size."
    if not outlook.has_limit:
        lead = f"{name} divides its step by a running size of the gradients, so the step does not shrink as the gradient does"
        if above_start:
            return f"{lead}; {away}"
        return f"{lead}: near the optimum it keeps overshooting."
    if outlook.scheduled:
        return (
            f"The step changes every epoch ({schedule_phrase(outlook.spec)}); {_limit_phrase(outlook)} "
            "is for a constant step, so theory does not say where this run ends"
            + (f"; {away}" if above_start else ".")
        )
    return (
        f"At α = {outlook.alpha:g} {name} is at its step limit, where the error along the steepest "
        "direction neither grows nor shrinks."
    )


def _largest_gap(rates: Mapping[str, Mapping[str, np.ndarray]], key: str) -> tuple[float, str, float] | None:
    """max over runs and alphas of |measured / rates[key] - 1| where both are finite and > 0, with the run
    and alpha it is at; None where there is no such pair."""
    worst = None
    for name, r in rates.items():
        measured, other = np.asarray(r["measured"]), np.asarray(r[key])
        usable = np.isfinite(measured) & np.isfinite(other) & (measured > 0) & (other > 0)
        if not usable.any():
            continue
        gap = np.where(usable, np.abs(measured / np.where(usable, other, 1.0) - 1.0), -1.0)
        k = int(np.argmax(gap))
        if worst is None or gap[k] > worst[0]:
            worst = (float(gap[k]), name, float(r["alpha"][k]))
    return worst


def rate_view_caption(rates: Mapping[str, Mapping[str, np.ndarray]], epochs: int) -> str:
    """The sweep's rate view, said as drawn (`experiment.contraction_by_optimizer`): what the dots, rings
    and line are, and how far the dots are from the rings and from the line on this data (the largest
    relative difference, computed here)."""
    text = (
        f"Per-epoch factor of the loss gap J − J* of full-batch runs from the origin at a constant α, "
        f"{epochs:,} epochs each. **Dots**: measured, fitted over each run's later epochs (the later half "
        "of those whose gap is above round-off). **Rings**: the exact gap model (the error along each "
        "eigen-direction of the Hessian, stepped by the optimizer's iteration matrix) fitted over the same "
        "epochs. **Line**: the long-run factor ρ(α)² (ρ the spectral radius of the iteration matrix), "
        "which the gap's factor reaches only once its slowest direction holds nearly all of it."
    )
    rings, line = _largest_gap(rates, "same_epochs"), _largest_gap(rates, "predicted")
    if rings is not None and line is not None:
        text += (
            f" Here every dot is within {rings[0]:.2g} (relative) of its ring; the line is up to "
            f"{line[0]:.2g} from a dot ({line[1]} at α = {line[2]:.4g})."
        )
    return (
        text + " Past an optimizer's α_max its line is above 1: the gap grows geometrically in the long run."
    )


def step_limits_caption(outlooks: Mapping[str, Outlook]) -> str:
    """Beside the α slider: every chosen optimizer's own limit for this data (markdown)."""
    lines = []
    for name, outlook in outlooks.items():
        limits = outlook.limits
        beta = dict(limits.hyper).get("beta")
        label = f"{name} (β = {beta:g})" if beta is not None else name
        if limits.alpha_max is None:
            lines.append(f"- {label}: no fixed limit")
        else:
            formula = _LIMIT_FORMULAS[outlook.spec.optimizer]
            lines.append(
                f"- {label}: α_max = **{limits.alpha_max:.4g}** ({formula}), α_opt = {limits.alpha_opt:.4g}"
            )
    first = next(iter(outlooks.values()))
    alpha = first.alpha
    above = [name for name, o in outlooks.items() if o.above_limit]
    verdict = (
        f"α = {alpha:g} is at or above the limit of {', '.join(above)}: "
        + ("it diverges there" if len(above) == 1 else "they diverge there")
        + ("." if first.full_batch else " with the full batch (mini-batch noise lowers the edge).")
        if above
        else ""
    )
    head = "**Step limits for this data** (full batch; above α_max a run diverges):"
    text = "\n".join([head, "", *lines])
    if first.scheduled:
        largest = _largest_step(first)
        above = [name for name, o in outlooks.items() if o.has_limit and largest >= o.limits.alpha_max]
        verdict = (
            f"With a learning-rate schedule α is where the steps start: {schedule_phrase(first.spec)}. "
            "The limits are for a constant step"
            + (
                f"; the largest step is at or above the limit of {', '.join(above)}."
                if above
                else "; every step is below them."
            )
        )
    if verdict:
        text += "\n\n" + verdict
    if not first.full_batch:
        text += (
            f"\n\nThese limits are for full-batch steps. With {_batch_phrase(first)} each step's "
            "gradient is noisy, which lowers the edge: a run can diverge below them."
        )
    return text


def factor_text(factor: float, decimals: int = 4) -> str:
    """A per-epoch factor as '×0.9691', or '×(1 − 3.8e-08)' when it is too close to 1 for `decimals`
    decimals to tell it from 1; large factors (a diverging run) with 4 significant digits."""
    if 0 < 1.0 - factor < 10.0**-decimals:
        return f"×(1 − {1.0 - factor:.2g})"
    return f"×{factor:.{decimals}f}" if factor < 1e4 else f"×{factor:.4g}"


ILL_CONDITIONED = 1e4  # condition numbers from here on get the "standardize" warning on raw data


def scale_warning(prepared: Prepared, smallest_alpha: float) -> str:
    """For raw (not standardized) data with a condition number >= ILL_CONDITIONED: why plain GD crawls
    here and what fixes it, with this data's numbers (GD's rate at its best step is (kappa-1)/(kappa+1));
    "" otherwise."""
    theory = prepared.theory
    if prepared.scaler is not None or not theory.condition_number >= ILL_CONDITIONED:
        return ""
    gd = limits_for(prepared.quadratic, "gd")
    reach = (
        f"the slider goes down to {smallest_alpha:g}"
        if smallest_alpha <= gd.alpha_opt
        else f"below the slider's smallest value, {smallest_alpha:g}"
    )
    return (
        f"This data's features have very different scales (condition number {theory.condition_number:.3g}): "
        f"plain GD needs α ≤ {gd.alpha_max:.3g} ({reach}), and even at its best step α_opt = "
        f"{gd.alpha_opt:.3g} the error along the flattest direction shrinks only "
        f"{factor_text(gd.rate(gd.alpha_opt))} per epoch. Turn on **Standardize features** to fix that."
    )


def limits_table(outlooks: Mapping[str, Outlook]) -> str:
    """A markdown table: each chosen optimizer's own step limit, fastest step, its rate there, and the
    predicted loss-gap factor at the chosen alpha (full batch; dashes where theory has nothing), then the
    limits' formulas. Four narrow columns, so that it reads on a phone."""
    first = next(iter(outlooks.values()))
    rows = [
        f"| Optimizer | Limit α_max | Fastest α_opt (rate ρ there) | ρ(α)² at α = {first.alpha:g} |",
        "| --- | --- | --- | --- |",
    ]
    formulas = {}
    for name, outlook in outlooks.items():
        limits = outlook.limits
        beta = dict(limits.hyper).get("beta")
        label = f"{name} (β = {beta:g})" if beta is not None else name
        if limits.alpha_max is None:
            rows.append(f"| {label} | no fixed limit | — | — |")
            continue
        formulas[name] = _LIMIT_FORMULAS[outlook.spec.optimizer]
        factor = outlook.loss_rate()
        rows.append(
            f"| {label} | {limits.alpha_max:.4g} | {limits.alpha_opt:.4g} "
            f"({factor_text(limits.rate(limits.alpha_opt))}) | "
            + (factor_text(factor, 5) if factor < 1 else f"{factor_text(factor)} (diverges)")
            + " |"
        )
    table = "\n".join(rows)
    if formulas:
        listed = "; ".join(f"{formula} for {name}" for name, formula in formulas.items())
        table += f"\n\nα_max = {listed}."
    return table


def momentum_caption(
    polyak: PolyakPoint, gd_rate: float, alpha: float, beta: float, rate: float, rate_map: MomentumMap | None
) -> str:
    """Polyak's optimum for this data against plain GD's best rate (`gd_rate`, GD's rate at its
    alpha_opt), and the current setting's rate (`rate`); whether it lies on the map, when one is shown."""
    outside = rate_map is not None and not (alpha <= rate_map.alphas[-1] and beta <= rate_map.betas[-1])
    verdict = "it diverges" if rate >= 1 else f"rate {factor_text(rate)} per epoch"
    return (
        f"Polyak's optimum for this data: α* = {polyak.alpha:.4g}, β* = {polyak.beta:.4g}, where the error "
        f"shrinks {factor_text(polyak.rate)} per epoch, (√κ − 1)/(√κ + 1), against {factor_text(gd_rate)}, "
        f"(κ − 1)/(κ + 1), for plain GD at its best step. Your setting α = {alpha:g}, β = {beta:g}"
        f"{' (outside the map)' if outside else ''}: {verdict}. The rate is the spectral radius of "
        "momentum's 2×2 iteration matrix, the largest over the Hessian's eigenvalues; full batch."
    )


@dataclass(frozen=True)
class MathNumbers:
    equation_lines: tuple[str, ...]  # Markdown with inline LaTeX ($...$), which wraps on a narrow screen
    pitfall_text: str  # Markdown
    pitfall_code: str  # Python, with the shapes of the data it describes


def _num(value: float) -> str:
    """A number for LaTeX, 4 significant digits: 2{,}056, 0.04921, or 1.23 \\times 10^{-7}."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    exponent = math.floor(math.log10(abs(value)))
    if -4 <= exponent < 7:
        text = f"{value:,.{max(0, 3 - exponent)}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return text.replace(",", "{,}")
    mantissa = f"{value / 10**exponent:.3f}".rstrip("0").rstrip(".")
    return rf"{mantissa} \times 10^{{{exponent}}}"


def math_panel_numbers(X, y, run: Trajectory, alpha: float, l2: float = 0.0) -> MathNumbers:
    """The blog's four equations, filled in with the start state and the first full-batch update of
    this run. With several features the numbers are those of the first weight, w_1. With a ridge
    penalty `l2` = lambda the loss and the weight's gradient carry its terms + lambda ||w||^2 and
    + 2 lambda w (the run's losses are of that penalized loss)."""
    w0, b0 = float(run.weights[0, 0]), float(run.bias[0])
    dw, db = gradient(X, y, run.weights[0], b0)
    dw0 = float(dw[0]) + 2.0 * l2 * w0
    w1, b1 = w0 - alpha * dw0, b0 - alpha * db
    n, d = X.shape
    w = "w" if d == 1 else "w_1"
    sign = "+" if run.best_bias >= 0 else "-"
    if d == 1:
        model = rf"\hat{{y}} = {_num(run.best_weights[0])}\,X {sign} {_num(abs(run.best_bias))}"
    else:
        model = rf"\hat{{y}} = {_num(run.best_weights[0])}\,X_1 + \dots {sign} {_num(abs(run.best_bias))}"
    # Markdown with short inline formulas, not display LaTeX: a display formula cannot wrap, so on a
    # phone (and at 1024 px) it was cut off on the right; KaTeX breaks inline math after = and +.
    residual = r"\sum_{i} {(y_i - \hat{y}_i)}"  # braced: a line break never splits the parenthesis
    penalty = r" + \lambda \lVert w \rVert^2" if l2 else ""
    penalty_grad = rf" + 2 \lambda {w}" if l2 else ""
    with_lambda = rf", $\lambda = {_num(l2)}$" if l2 else ""
    lines = (
        rf"**Model** $\hat{{y}} = w X + b$; at the best epoch ${model}$",
        rf"**Loss** $J(w, b) = \frac{{1}}{{N}} \sum_{{i=1}}^{{N}} {{(y_i - \hat{{y}}_i)}}^2{penalty}$; "
        rf"at the start $J = {_num(run.loss[0])}$ with $N = {_num(n)}${with_lambda}",
        rf"**Gradients** $\frac{{\partial J}}{{\partial {w}}} = -\frac{{2}}{{N}} {residual}\, X_i{penalty_grad} "
        rf"= {_num(dw0)}$ "
        rf"and $\frac{{\partial J}}{{\partial b}} = -\frac{{2}}{{N}} {residual} = {_num(db)}$",
        rf"**First update** ${w} := {w} - \alpha \frac{{\partial J}}{{\partial {w}}} = {_num(w0)} - "
        rf"{_num(alpha)} \times ({_num(dw0)}) = {_num(w1)}$ and $b := b - \alpha \frac{{\partial J}}{{\partial b}} "
        rf"= {_num(b0)} - {_num(alpha)} \times ({_num(db)}) = {_num(b1)}$",
    )
    return MathNumbers(lines, *shape_pitfall(X, y, w0, b0))


BLOG_DATA_CALL = "make_regression(n_samples=100, n_features=1, noise=20, random_state=42)"


def shape_pitfall(X, y, w0: float, b0: float) -> tuple[str, str]:
    """The blog's shape pitfall told on the data on screen: (Markdown, Python code).

    With one feature the blog's `Y - Y_pred`, (N,) - (N, 1), broadcasts to an N x N matrix; its numbers
    are this data's at the start (w0, b0). With d > 1 features the blog's line `X * weights + bias` (one
    scalar weight) is (N, d), and (N,) - (N, d) fails to broadcast unless N == d; the N x N numbers are
    then those of the blog's own data (`BLOG_DATA_CALL`, w = 1, b = 0), labelled so.
    """
    n, d = X.shape
    tail = (
        "; its gradients are just as wrong, and the run drifts away. The blog also records each error "
        "before the update but the weights after it, pairing numbers that never belonged together. "
        "Here every loss is paired with the parameters it was measured at."
    )
    fix = "# fix: keep y and the prediction both flat: X @ w + b  (X[:, 0] * w + b for one feature)"
    if d == 1:
        pit = blog_shape_pitfall(X, y, w0, b0)
        text = (
            f"On this data `X` has shape ({n:,}, 1) and `y` has shape ({n:,},), so the blog's "
            f"`Y - Y_pred` silently becomes a {n:,}×{n:,} matrix. At this run's start "
            f'(w = {w0:g}, b = {b0:g}) its "error", `np.sum(...) / N` over that matrix, is '
            f"{pit['blog_error']:,.1f}, while the true MSE is {pit['correct_error']:,.1f}" + tail
        )
        code = (
            f"X, y = ...                    # the data on screen: X ({n}, 1), y ({n},)\n"
            f"Y_pred = X * weights + bias   # ({n}, 1)\n"
            f"Y - Y_pred                    # ({n},) - ({n}, 1) broadcasts to ({n}, {n})!\n" + fix
        )
        return text, code
    pit = _blog_data_pitfall()
    here = f"silently becomes a {n:,}×{n:,} matrix" if n == d else "stops with numpy's broadcasting error"
    text = (
        f"The blog's code takes one feature. On this data, {n:,} rows × {d} features, its "
        f"`X * weights + bias` (one number as the weight) is a ({n:,}, {d}) array, and `Y - Y_pred`, "
        f"({n:,},) minus ({n:,}, {d}), {here}. **On the blog's own data** (`{BLOG_DATA_CALL}`), `X` "
        f"has shape (100, 1) and `y` has shape (100,), so `Y - Y_pred` silently becomes a 100×100 "
        f'matrix: at the blog\'s start (w = 1, b = 0) its "error", `np.sum(...) / N` over that matrix, '
        f"is {pit['blog_error']:,.1f}, while the true MSE is {pit['correct_error']:,.1f}" + tail
    )
    code = (
        f"X, y = {BLOG_DATA_CALL}  # the blog's data: X (100, 1), y (100,)\n"
        "Y_pred = X * weights + bias   # (100, 1)\n"
        "Y - Y_pred                    # (100,) - (100, 1) broadcasts to (100, 100)!\n"
        f"# the data on screen: X ({n}, {d}), so X * weights + bias is ({n}, {d}) and Y - Y_pred "
        + (f"is ({n}, {n})\n" if n == d else "raises a broadcasting error\n")
        + fix
    )
    return text, code


@functools.cache
def _blog_data_pitfall() -> dict:
    """`blog_shape_pitfall` on the blog's data at the blog's start (w = 1, b = 0), computed once."""
    data = make_data()
    return blog_shape_pitfall(data.X, data.y, 1.0, 0.0)


def contraction_text(factors: GapFactors, outlook: Outlook) -> str:
    """The per-epoch factor of the loss gap J − J*: measured on the run over its fitted epochs; for
    full-batch constant-α GD / momentum / Nesterov the exact gap model's factor over the same epochs
    beside it, and the long-run ρ(α)² apart from both (a sum over eigen-directions reaches it only once
    the slowest one dominates); otherwise the long-run factor with why the two need not agree."""
    name = OPTIMIZERS[outlook.spec.optimizer].display_name
    if factors.window is None:
        measured_text = (
            "measured: the run is at the optimum to rounding (or too short), so there is nothing to fit"
        )
        where = ""
    else:
        first, last = factors.window
        where = f" over epochs {first:,}–{last:,}"
        measured_text = f"measured on this run{where}: **{factor_text(factors.measured, 5)}**"
    if not outlook.has_limit:
        return (
            f"Per-epoch factor of the loss gap J − J*: no prediction for {name} ({_NO_LIMIT_REASON}); "
            f"{measured_text}."
        )
    how = (
        "max|1 − αλᵢ|²"
        if outlook.spec.optimizer == "gd"
        else "the largest squared root modulus of its 2×2 iteration matrix over the eigenvalues λᵢ"
    )
    long_run = f"ρ(α)² = {how} = **{factor_text(factors.long_run or outlook.loss_rate(), 5)}**"
    if factors.predicted is None:
        batch = (
            ""
            if outlook.full_batch
            else f" The prediction is for full-batch steps; with {_batch_phrase(outlook)} noise changes it."
        )
        if outlook.scheduled:
            batch += (
                f" The prediction is for a constant step α = {outlook.alpha:g}; this run's steps change every "
                f"epoch ({schedule_phrase(outlook.spec)}), so the two need not agree."
            )
        return (
            f"Per-epoch factor of the loss gap J − J* for {name}: predicted in the long run {long_run}; "
            f"{measured_text}.{batch}"
        )
    growing = (factors.long_run or 0.0) >= 1.0
    worst, verb = ("fastest-growing", "grows") if growing else ("slowest", "shrinks")
    if outlook.spec.optimizer == "gd":
        after = (
            f", from about epoch {factors.slowest_from:,} on (the {worst} directions then hold "
            f"{SLOWEST_SHARE:.0%} of the gap)"
            if factors.slowest_from is not None
            else ""
        )
        before = "before that, the other directions' share makes the factor over a window smaller"
    else:
        after = ""
        before = (
            "before that, the other directions and the swings of each 2×2 iteration make the factor "
            "over a window differ from it"
        )
    return (
        f"Per-epoch factor of the loss gap J − J* for {name}{where}: **{factor_text(factors.measured, 5)}** "
        f"measured on this run, **{factor_text(factors.predicted, 5)}** predicted for the same epochs from "
        "the exact gap ½ Σᵢ λᵢ eᵢ,ₜ², a sum over the Hessian's eigen-directions from this run's start. "
        f"The long-run factor {long_run} is the {worst} direction's: the gap {verb} by it once that "
        f"direction dominates{after}; {before}."
    )


def step_bounds_phrase(bounds: Sequence[StepBound]) -> str:
    """What a suggested step was held at or below, per chosen optimizer (`experiment.step_bounds`): its
    fastest full-batch step α_opt, or for AdaGrad / RMSProp / Adam, which have none, a hundredth of its α.
    E.g. "the smallest of Gradient descent's fastest full-batch step α_opt = 0.0123 on this data and
    Adam's α × 0.01 = 0.1 × 0.01 = 0.001 (Adam has no fastest step α_opt: ...)"."""
    parts = []
    for bound in bounds:
        name = OPTIMIZERS[bound.optimizer].display_name
        if bound.from_alpha_opt:
            parts.append(f"{name}'s fastest full-batch step α_opt = {bound.bound:.3g} on this data")
        else:
            parts.append(
                f"{name}'s α × {ADAPTIVE_STEP_SHARE:g} = {bound.alpha:g} × {ADAPTIVE_STEP_SHARE:g} = "
                f"{bound.bound:.3g} ({name} has no fastest step α_opt: {_NO_LIMIT_REASON})"
            )
    return parts[0] if len(parts) == 1 else "the smallest of " + ", ".join(parts[:-1]) + " and " + parts[-1]


def best_epoch_headline(run: Trajectory) -> tuple[str, str, str]:
    """(label, value, note) of the headline's best epoch: "Best epoch", N, "of K run"; a run that
    overflowed says how many epochs finished and where it overflowed, and one that overflowed in its
    first epoch has no best epoch of a run: its lowest loss is the start's (epoch 0)."""
    overflow = overflow_phrase(run)
    if overflow is None:
        return "Best epoch", f"{run.best_epoch:,}", f"of {run.epochs_run:,} run"
    if run.epochs_run == 0:
        return "Lowest loss at", "the start", f"(epoch 0): no epoch finished, it {overflow}"
    return "Best epoch", f"{run.best_epoch:,}", f"of {run.epochs_run:,} finished; then {overflow}"

"""Words and equations about a run: its status, and the blog's equations with the run's numbers.

The dashboard shows these strings as they are, so every formula stays in gdcore.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gdcore.model import gradient
from gdcore.reference import blog_shape_pitfall
from gdcore.sweep import measured_contraction
from gdcore.theory import Fit, Theory
from gdcore.trajectory import REACHED_FRACTION, Trajectory

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
    level: str  # "success", "info" or "error"
    icon: str
    text: str


def gap_closed(run: Trajectory, optimum_loss: float) -> float:
    """(J_0 - J_best) / (J_0 - J*): how much of the starting gap to the optimum the run closed."""
    start_gap = run.loss[0] - optimum_loss
    if start_gap <= 0:
        return 1.0
    return float((run.loss[0] - run.best_loss) / start_gap)


def describe_status(run: Trajectory, fit: Fit, theory: Theory, alpha: float) -> Status:
    """Converged / still descending (with a theory estimate of the epochs left) / diverged."""
    if run.diverged:
        where = (
            f"α = {alpha:g} is above α_max = {theory.alpha_max:.4g} for this data, so every step "
            "overshoots by more than it corrects"
            if alpha > theory.alpha_max
            else f"the loss ended above where it started (α = {alpha:g}, α_max = {theory.alpha_max:.4g})"
        )
        stopped = (
            f" The numbers overflowed after {run.epochs_run:,} epochs; the charts show the finite part."
            if run.spec is not None and run.epochs_run < run.spec.epochs
            else ""
        )
        return Status(
            "error",
            "💥",
            f"**Diverged**: {where}.{stopped} Try α_opt = {theory.alpha_opt:.4g}, the fastest safe step.",
        )
    closed = gap_closed(run, fit.loss)
    if closed >= REACHED_FRACTION or run.stop_reason == "converged":
        how = (
            "the error stabilized"
            if run.stop_reason == "converged"
            else f"{closed:.2%} of the starting gap closed"
        )
        return Status(
            "success",
            "✅",
            f"**Converged** at epoch {run.best_epoch:,} ({how}): MSE {run.best_loss:,.3f} against the "
            f"least-squares minimum {fit.loss:,.3f}.",
        )
    remaining = run.best_loss - fit.loss
    target = (1.0 - REACHED_FRACTION) * (run.loss[0] - fit.loss)
    more = theory.epochs_to_shrink(alpha, target / remaining) if remaining > 0 else 0.0
    estimate = (
        f"about {math.ceil(more):,} more epochs at α = {alpha:g} would close 99.9% "
        f"(theory: the gap shrinks ×{theory.loss_rate(alpha):.4f} per epoch)"
        if math.isfinite(more)
        else "at this α the slowest direction does not shrink"
    )
    return Status(
        "info",
        "⏳",
        f"**Still descending**: {closed:.1%} of the starting gap to the optimum is closed; {estimate}.",
    )


@dataclass(frozen=True)
class MathNumbers:
    latex_lines: tuple[str, ...]
    pitfall_text: str


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


def math_panel_numbers(X, y, run: Trajectory, alpha: float) -> MathNumbers:
    """The blog's four equations, filled in with the start state and the first full-batch update of
    this run. With several features the numbers are those of the first weight, w_1."""
    w0, b0 = float(run.weights[0, 0]), float(run.bias[0])
    dw, db = gradient(X, y, run.weights[0], b0)
    dw0 = float(dw[0])
    w1, b1 = w0 - alpha * dw0, b0 - alpha * db
    n, d = X.shape
    w = "w" if d == 1 else "w_1"
    sign = "+" if run.best_bias >= 0 else "-"
    if d == 1:
        model = rf"\hat{{y}} = {_num(run.best_weights[0])}\,X {sign} {_num(abs(run.best_bias))}"
    else:
        model = rf"\hat{{y}} = {_num(run.best_weights[0])}\,X_1 + \dots {sign} {_num(abs(run.best_bias))}"
    lines = (
        rf"\hat{{y}} = w X + b \quad\Rightarrow\quad {model} \text{{ at the best epoch}}",
        rf"J(w, b) = \frac{{1}}{{N}} \sum_{{i=1}}^{{N}} (y_i - \hat{{y}}_i)^2 "
        rf"\quad J \text{{ at the start}} = {_num(run.loss[0])} \text{{ with }} N = {_num(n)}",
        rf"\frac{{\partial J}}{{\partial {w}}} = -\frac{{2}}{{N}} \sum_{{i}} (y_i - \hat{{y}}_i) X_i = {_num(dw0)}"
        rf"\qquad \frac{{\partial J}}{{\partial b}} = -\frac{{2}}{{N}} \sum_{{i}} (y_i - \hat{{y}}_i) = {_num(db)}",
        rf"{w} := {w} - \alpha \frac{{\partial J}}{{\partial {w}}} = {_num(w0)} - {_num(alpha)} \times ({_num(dw0)})"
        rf" = {_num(w1)} \qquad b := {_num(b0)} - {_num(alpha)} \times ({_num(db)}) = {_num(b1)}",
    )
    pit = blog_shape_pitfall(X[:, :1], y, w0, b0)
    pitfall = (
        f"In the blog, `X` has shape {pit['x_shape']} and `y` has shape {pit['y_shape']}, so "
        f"`Y - Y_pred` silently becomes a {pit['residual_shape'][0]}×{pit['residual_shape'][1]} matrix. "
        f'At the start its "error" is {pit["blog_error"]:,.1f}, while the true MSE is '
        f"{pit['correct_error']:,.1f}; its gradients are just as wrong, and the run drifts away. "
        "The blog also records each error before the update but the weights after it, pairing numbers "
        "that never belonged together. Here every loss is paired with the parameters it was measured at."
    )
    return MathNumbers(lines, pitfall)


def contraction_text(run: Trajectory, fit: Fit, theory: Theory, alpha: float) -> str:
    """Predicted (theory) against measured per-epoch shrink factor of the loss gap."""
    predicted = theory.loss_rate(alpha)
    measured = float(measured_contraction(run, fit)[-1]) if run.epochs_run else math.nan
    measured_text = (
        f"measured over the last epoch: **×{measured:.5f}**"
        if math.isfinite(measured)
        else "measured: the run is already at the optimum to rounding, so the ratio is not meaningful"
    )
    return (
        f"Per-epoch shrink of the loss gap J − J*: predicted rate(α)² = max|1 − αλᵢ|² = "
        f"**×{predicted:.5f}**; {measured_text}."
    )

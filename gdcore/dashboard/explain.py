"""Words and equations about a run: its status, and the blog's equations with the run's numbers.

The dashboard shows these strings as they are, so every formula stays in gdcore.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from gdcore.data import make_data
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
    # Markdown with short inline formulas, not display LaTeX: a display formula cannot wrap, so on a
    # phone (and at 1024 px) it was cut off on the right; KaTeX breaks inline math after = and +.
    residual = r"\sum_{i} {(y_i - \hat{y}_i)}"  # braced: a line break never splits the parenthesis
    lines = (
        rf"**Model** $\hat{{y}} = w X + b$; at the best epoch ${model}$",
        rf"**Loss** $J(w, b) = \frac{{1}}{{N}} \sum_{{i=1}}^{{N}} {{(y_i - \hat{{y}}_i)}}^2$; "
        rf"at the start $J = {_num(run.loss[0])}$ with $N = {_num(n)}$",
        rf"**Gradients** $\frac{{\partial J}}{{\partial {w}}} = -\frac{{2}}{{N}} {residual}\, X_i = {_num(dw0)}$ "
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

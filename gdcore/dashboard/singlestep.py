"""One epoch of a run taken apart: the blog's four equations with that epoch's numbers, and the
arrows the landscape draws for it. No Streamlit here.

For the parameters theta_t = (w, b) a run recorded at epoch t, on the data (X, y) it was fitted to:

    1. prediction   y_hat = X w + b
    2. loss         J = (1/N) sum (y - y_hat)^2        (+ lambda ||w||^2 with a ridge penalty)
    3. gradient     dJ/dw = -(2/N) sum x (y - y_hat)    (+ 2 lambda w),   dJ/db = -(2/N) sum (y - y_hat)
    4. update       w := w - alpha_t dJ/dw,   b := b - alpha_t dJ/db

The gradient is the core's (`Quadratic.grad`, the ridge term included). The step the run actually took
is read from its record, theta_{t+1} - theta_t: it equals -alpha_t grad J(theta_t) only for plain
gradient descent on the full batch. Momentum, Nesterov, the adaptive methods and every mini-batch run
take another step, and the page says so and shows both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gdcore.dashboard.experiment import Prepared
from gdcore.optimizers import OPTIMIZERS
from gdcore.trajectory import Trajectory

SAMPLE_ROWS = 3  # rows of the data whose prediction the first equation spells out
ARROW_FRACTION = 0.15  # the -grad J arrow's length: this fraction of the view's longer side

# The arrows' names, as the chart's legend shows them.
GRADIENT_ARROW = "−∇J, steepest descent (direction)"
TAKEN_ARROW = "the run's step θₜ → θₜ₊₁"
GD_ARROW = "−α∇J, full-batch GD's step"


@dataclass(frozen=True)
class EpochStep:
    """Epoch t of a run: theta_t, J(theta_t), grad J(theta_t), the step size alpha_t of the epoch that
    starts there, plain GD's update theta_t - alpha_t grad J(theta_t), and the run's own theta_{t+1}
    (None at its last epoch). `plain_gd`: the run's update is that one (full-batch gradient descent)."""

    epoch: int
    last_epoch: int
    alpha: float
    theta: np.ndarray
    loss: float
    grad: np.ndarray
    gd_update: np.ndarray
    taken: np.ndarray | None
    plain_gd: bool
    optimizer: str
    full_batch: bool
    l2: float
    n_samples: int
    sample: tuple[np.ndarray, np.ndarray, np.ndarray] | None  # (x, y, y_hat) of SAMPLE_ROWS rows, d = 1
    # Full-batch momentum (v := beta v + grad J, theta := theta - alpha_t v): its step is
    # -alpha_t grad J(theta_t) + beta (alpha_t / alpha_{t-1}) (theta_t - theta_{t-1}); this is the second
    # term (zero at epoch 0, where v starts at 0), None for any other run.
    momentum_term: np.ndarray | None = None
    beta: float | None = None
    momentum_ratio: float = 1.0  # alpha_t / alpha_{t-1}: 1 without a schedule


def step_alpha(run: Trajectory, epoch: int) -> float:
    """alpha_t: the step size of the epoch that starts at state `epoch` (its schedule's, if it has one)."""
    schedule = run.spec.schedule
    if schedule.is_constant:
        return float(run.spec.alpha)
    return float(schedule.alphas(run.spec.alpha, epoch + 1)[epoch])


def epoch_step(prepared: Prepared, run: Trajectory, epoch: int) -> EpochStep:
    """Epoch `epoch` (0 .. the run's last) of `run`, fitted to `prepared.train`. ValueError otherwise."""
    if run.spec is None:
        raise ValueError("single step needs a run made from a RunSpec (its optimizer and step size)")
    if (
        isinstance(epoch, bool)
        or not isinstance(epoch, (int, np.integer))
        or not 0 <= epoch <= run.epochs_run
    ):
        raise ValueError(f"epoch must be a whole number from 0 to {run.epochs_run:,}; got {epoch!r}")
    epoch = int(epoch)
    train, quadratic = prepared.train, prepared.quadratic
    theta = np.append(run.weights[epoch], run.bias[epoch])
    with np.errstate(over="ignore", invalid="ignore"):
        grad = quadratic.grad(theta)
        alpha = step_alpha(run, epoch) if epoch < run.epochs_run else float(run.spec.alpha)
        gd_update = theta - alpha * grad
    taken = np.append(run.weights[epoch + 1], run.bias[epoch + 1]) if epoch < run.epochs_run else None
    full_batch = run.spec.is_full_batch(train.n_samples)
    sample = None
    if train.n_features == 1:
        x, y = train.X[:SAMPLE_ROWS, 0], train.y[:SAMPLE_ROWS]
        sample = (x.copy(), y.copy(), x * theta[0] + theta[1])
    return EpochStep(
        epoch=epoch,
        last_epoch=run.epochs_run,
        alpha=alpha,
        theta=theta,
        loss=float(run.loss[epoch]),
        grad=grad,
        gd_update=gd_update,
        taken=taken,
        plain_gd=run.spec.optimizer == "gd" and full_batch,
        optimizer=run.spec.optimizer,
        full_batch=full_batch,
        l2=float(quadratic.l2),
        n_samples=train.n_samples,
        sample=sample,
        **_momentum(run, epoch, theta, alpha, full_batch),
    )


def _momentum(run: Trajectory, epoch: int, theta: np.ndarray, alpha: float, full_batch: bool) -> dict:
    """{momentum_term, beta} of a full-batch heavy-ball run (see EpochStep), else {}."""
    if run.spec.optimizer != "momentum" or not full_batch or epoch == run.epochs_run:
        return {}
    beta = float(run.spec.hyperparameters["beta"])
    if epoch == 0:
        return {"momentum_term": np.zeros_like(theta), "beta": beta}
    previous = step_alpha(run, epoch - 1)
    if previous == 0:  # a schedule at 0 (cosine's eta_min = 0): the last move says nothing of v
        return {}
    before = np.append(run.weights[epoch - 1], run.bias[epoch - 1])
    ratio = alpha / previous
    with np.errstate(over="ignore", invalid="ignore"):
        term = beta * ratio * (theta - before)
    return {"momentum_term": term, "beta": beta, "momentum_ratio": ratio}


def _arrow(name: str, start: np.ndarray, end: np.ndarray) -> dict[str, object]:
    du, dv = float(end[0] - start[0]), float(end[1] - start[1])
    return {
        "arrow": name,
        "u": float(start[0]),
        "v": float(start[1]),
        "u2": float(end[0]),
        "v2": float(end[1]),
        # The tip's triangle (pointing right at 0 degrees) turned along the arrow; the chart's axes
        # have equal scale, so the data's angle is the screen's (screen y points down).
        "angle": (360.0 - math.degrees(math.atan2(dv, du))) % 360.0,
    }


def step_arrows(step: EpochStep, i: int, j: int, bounds: np.ndarray) -> pd.DataFrame:
    """The arrows of epoch t over parameters i (horizontal) and j (vertical), each a row (arrow, u, v,
    u2, v2, angle) from its tail (u, v) to its tip (u2, v2):

    * -grad J: from theta_t along -(dJ/dtheta_i, dJ/dtheta_j), ARROW_FRACTION of the longer side of
      `bounds` long (its direction is the point; its size is in the text), unless that is zero;
    * the step the run took, theta_t -> theta_{t+1} (not at the last epoch, nor when it did not move);
    * for a run whose update is not plain GD's: -alpha_t grad J, full-batch GD's step from theta_t.
    """
    at = step.theta[[i, j]]
    rows = []  # drawn in this order: -grad J last, on top (plain GD's step lies along it)
    if step.taken is not None and np.isfinite(step.taken).all() and (step.taken[[i, j]] != at).any():
        rows.append(_arrow(TAKEN_ARROW, at, step.taken[[i, j]]))
    if not step.plain_gd and step.taken is not None and np.isfinite(step.gd_update).all():
        rows.append(_arrow(GD_ARROW, at, step.gd_update[[i, j]]))
    direction = -step.grad[[i, j]]
    size = float(np.hypot(*direction)) if np.isfinite(direction).all() else 0.0
    if size > 0:
        length = ARROW_FRACTION * float(np.max(bounds[:, 1] - bounds[:, 0]))
        rows.append(_arrow(GRADIENT_ARROW, at, at + direction / size * length))
    return pd.DataFrame(rows, columns=["arrow", "u", "v", "u2", "v2", "angle"])


def _n(value: float) -> str:
    """A number in the equations: 6 significant digits, thousands separated."""
    return f"{value:,.6g}"


def _term(value: float) -> str:
    """A number inside a formula: in parentheses when negative (w − α·(−3) reads, w − α·-3 does not)."""
    return f"({_n(value)})" if value < 0 else _n(value)


def equations(step: EpochStep, names: list[str], i: int, j: int) -> list[str]:
    """The four equations of epoch t with its numbers, one Markdown line each, then what the run did:
    for parameters i and j (the landscape's axes; with one feature, w and b). `names` are the parameter
    names as the page writes them (already made literal for Markdown)."""
    t = step.epoch
    d = step.theta.size - 1
    shown = [k for k in dict.fromkeys((i, j))]
    lines = []
    if step.sample is not None:
        x, y, y_hat = step.sample
        rows = "; ".join(
            f"x = {_n(a)} → ŷ = {_n(c)} (y = {_n(b)})" for a, b, c in zip(x, y, y_hat, strict=True)
        )
        lines.append(
            f"**1. Prediction** ŷ = w·x + b = {_n(step.theta[0])}·x + {_term(step.theta[1])}. "
            f"The first rows: {rows}."
        )
    else:
        lines.append(
            f"**1. Prediction** ŷ = w₁x₁ + … + w{_sub(d)}x{_sub(d)} + b, with the {d} weights and b of "
            f"epoch {t:,}."
        )
    penalty = " + λ‖w‖²" if step.l2 else ""
    lines.append(
        f"**2. Loss** J = (1/N) Σ (y − ŷ)²{penalty} = {_n(step.loss)} at epoch {t:,}, over the "
        f"N = {step.n_samples:,} rows" + (f", λ = {step.l2:g}." if step.l2 else ".")
    )
    parts = []
    for k in shown:
        ridge = f" + 2λ·{names[k]}" if step.l2 and k < d else ""
        factor = ("x" if d == 1 else f"x{_sub(k + 1)}") + " · " if k < d else ""
        parts.append(f"∂J/∂{names[k]} = −(2/N) Σ {factor}(y − ŷ){ridge} = {_n(step.grad[k])}")
    lines.append("**3. Gradient** " + ";  ".join(parts) + ".")
    if step.taken is None:
        lines.append(f"**4. Update** none: epoch {t:,} is the run's last.")
        return lines
    updates = [
        f"{names[k]} := {names[k]} − α·∂J/∂{names[k]} = {_n(step.theta[k])} − {step.alpha:g} × {_term(step.grad[k])}"
        f" = {_n(step.gd_update[k])}"
        for k in shown
    ]
    lines.append(f"**4. Update** (α = {step.alpha:g}) " + ";  ".join(updates) + ".")
    recorded = ", ".join(f"{names[k]} = {_n(step.taken[k])}" for k in shown)
    if step.plain_gd:
        lines.append(
            f"The run's epoch {t + 1:,}: {recorded}. Full-batch gradient descent's step is exactly −α∇J, "
            "so the update above is the step it took (the dark arrow)."
        )
    else:
        lines.append(
            f"The run's epoch {t + 1:,}: {recorded}, **not** the update above: {not_plain_gd(step)} "
            "The landscape shows both: the step the run took and −α∇J."
        )
    if step.momentum_term is not None:
        ratio = "" if step.momentum_ratio == 1 else f"·(αₜ/αₜ₋₁ = {step.momentum_ratio:.6g})"
        sums = [
            f"{names[k]}: {_n(step.theta[k])} − {step.alpha:g} × {_term(step.grad[k])} + "
            f"{_term(step.momentum_term[k])} = {_n(step.gd_update[k] + step.momentum_term[k])}"
            for k in shown
        ]
        lines.append(
            f"Momentum's own update (v := βv + ∇J, then θ := θ − αv) is θₜ₊₁ = θₜ − α∇J + "
            f"β{ratio}(θₜ − θₜ₋₁), β = {step.beta:g}"
            + (" (v starts at 0: at epoch 0 the second term is 0)" if step.epoch == 0 else "")
            + ": "
            + ";  ".join(sums)
            + ", the run's epoch "
            + f"{t + 1:,}."
        )
    return lines


def not_plain_gd(step: EpochStep) -> str:
    """Why this run's step is not -alpha grad J(theta_t), in one or two sentences."""
    name = OPTIMIZERS[step.optimizer].display_name
    why = []
    if step.optimizer != "gd":
        why.append(f"{name}'s update combines the gradient with its own state (its rule is in the Math tab).")
    if not step.full_batch:
        why.append(
            "This run uses mini-batches: an epoch is several updates, each with one batch's gradient at "
            "the parameters of that moment, not the full data's gradient at θₜ."
        )
    return " ".join(why)


def _sub(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))

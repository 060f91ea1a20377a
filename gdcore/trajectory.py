"""The record of one run, and the rules that end a run (divergence, convergence, epochs)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

STOP_REASONS = ("epochs", "converged", "diverged")


@dataclass(frozen=True)
class Trajectory:
    """One gradient-descent run, state t being the parameters after t epochs.

    `loss[t] = J(theta_t)`: theta_0 is the start, so the loss is paired with the parameters it was
    measured at (the blog pairs the loss before an update with the parameters after it).
    """

    loss: np.ndarray  # (K+1,)
    weights: np.ndarray  # (K+1, d)
    bias: np.ndarray  # (K+1,)
    stop_reason: str
    diverged: bool
    settings: dict = field(default_factory=dict)
    steps: np.ndarray | None = None  # (S, d+1): parameters after each mini-batch step, if recorded

    @property
    def epochs_run(self) -> int:
        return int(self.loss.shape[0] - 1)

    @property
    def best_epoch(self) -> int:
        """argmin_t loss[t], the first one on ties."""
        return int(np.argmin(self.loss))

    @property
    def best_loss(self) -> float:
        return float(self.loss[self.best_epoch])

    @property
    def best_weights(self) -> np.ndarray:
        return self.weights[self.best_epoch]

    @property
    def best_bias(self) -> float:
        return float(self.bias[self.best_epoch])

    @property
    def n_features(self) -> int:
        return int(self.weights.shape[1])

    def summary_line(self) -> str:
        """The blog's printout, from the matching loss and parameters, to 3 decimals."""
        return (
            f"Best epoch: {self.best_epoch}, Error: {self.best_loss:.3f}, "
            f"Weights: {format_weights(self.best_weights)}, Bias: {self.best_bias:.3f}"
        )


def format_weights(weights: np.ndarray) -> str:
    """One weight as '38.184', several as '[38.184, -2.000]'."""
    if weights.shape[0] == 1:
        return f"{weights[0]:.3f}"
    return "[" + ", ".join(f"{w:.3f}" for w in weights) + "]"


def collect(
    start_loss: float,
    start_theta: np.ndarray,
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
    tol: float | None,
    settings: dict,
) -> Trajectory:
    """Assemble a Trajectory from chunks of (loss (c,), theta (c, p)) for consecutive epochs.

    Stops at the first non-finite loss or parameter ("diverged", keeping only the finite states), or,
    with `tol`, after the first epoch whose relative loss change |J_{t-1} - J_t| / J_{t-1} is below tol
    ("converged": the blog's "until the error stabilizes"). A run that ends above its starting loss is
    diverged too. Chunks are consumed lazily, so an early stop skips the rest of the work.
    """
    losses, thetas = [np.array([start_loss])], [start_theta[None, :]]
    reason, previous = "epochs", start_loss
    for loss, theta in chunks:
        stop = loss.shape[0]
        if stop == 0:  # an empty chunk (e.g. the reference loop at epochs=0) adds nothing
            continue
        finite = np.isfinite(loss) & np.isfinite(theta).all(axis=1)
        if not finite.all():
            stop, reason = int(np.argmin(finite)), "diverged"
        if tol is not None and stop > 0:
            before = np.concatenate(([previous], loss[: stop - 1]))
            with np.errstate(all="ignore"):
                change = np.abs(before - loss[:stop]) / before
            hits = np.flatnonzero((change < tol) | (before == 0.0))
            if hits.size:
                stop, reason = int(hits[0]) + 1, "converged"
        losses.append(loss[:stop])
        thetas.append(theta[:stop])
        if reason != "epochs":
            break
        previous = loss[-1]
    loss = np.concatenate(losses)
    theta = np.concatenate(thetas)
    diverged = reason == "diverged" or bool(loss[-1] > loss[0])
    if diverged:
        reason = "diverged"
    return Trajectory(
        loss=loss,
        weights=theta[:, :-1],
        bias=theta[:, -1].copy(),
        stop_reason=reason,
        diverged=diverged,
        settings=settings,
    )

"""The record of one run, and the rules about runs, each written once: what ends a run (divergence,
the `tol` rule, the epochs), what "reached the optimum" means, and how runs are produced in chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from gdcore.spec import RunSpec

STOP_REASONS = ("epochs", "converged", "diverged")
CHUNK_EPOCHS = 4096  # epochs a run path computes at once: bounds memory, lets tol/divergence stop early
REACHED_FRACTION = 0.999  # share of the starting loss gap whose closing counts as "reached the optimum"
# A diverging run is data, not a warning: numpy's overflow warnings are silenced where runs are computed.
QUIET = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


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
    spec: RunSpec | None = None  # what was run (None for a hand-made trajectory)
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

    def epoch_reaching(self, optimum_loss: float, fraction: float = REACHED_FRACTION) -> int | None:
        """First epoch t with J_0 - J_t >= fraction * (J_0 - J*): where the run "reached the optimum"
        (0 if it started there), or None if it never did within its epochs."""
        start_gap = self.loss[0] - optimum_loss
        if start_gap <= 0:
            return 0
        hits = np.flatnonzero(self.loss[0] - self.loss >= fraction * start_gap)
        return int(hits[0]) if hits.size else None

    def column_names(self, feature_names=None) -> list[str]:
        """Table columns: epoch, loss, one per weight (w, or w_<feature> / w1..wd), bias."""
        d = self.n_features
        if feature_names is None or len(feature_names) != d:
            weight_names = ["w"] if d == 1 else [f"w{i + 1}" for i in range(d)]
        else:
            weight_names = ["w"] if d == 1 else [f"w_{name}" for name in feature_names]
        return ["epoch", "loss", *weight_names, "bias"]

    def to_frame(self, feature_names=None) -> pd.DataFrame:
        """The run as a pandas table, one row per epoch: epoch, loss, one column per weight, bias."""
        import pandas as pd  # only this method needs pandas: keep `import gdcore` light

        columns = self.column_names(feature_names)
        data = {"epoch": np.arange(self.loss.shape[0]), "loss": self.loss}
        data |= {name: self.weights[:, k] for k, name in enumerate(columns[2:-1])}
        data["bias"] = self.bias
        return pd.DataFrame(data, columns=columns)

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


def tol_reached(before: np.ndarray, after: np.ndarray, tol: float) -> np.ndarray:
    """The `tol` stopping rule: |J_{t-1} - J_t| / J_{t-1} < tol, or J_{t-1} = 0 (nothing left to gain)."""
    with np.errstate(**QUIET):
        return (np.abs(before - after) / before < tol) | (before == 0.0)


def collect(
    start_loss: float,
    start_theta: np.ndarray,
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
    tol: float | None,
    spec: RunSpec | None = None,
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
            hits = np.flatnonzero(tol_reached(before, loss[:stop], tol))
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
        spec=spec,
    )

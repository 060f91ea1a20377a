"""The record of one run, and the rules about runs, each written once: what ends a run (divergence,
the `tol` rule, the epochs), what "diverged", "converged" and "reached the optimum" mean, and how runs
are produced in chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from gdcore.spec import RunSpec

STOP_REASONS = ("epochs", "converged", "diverged")
OUTCOMES = ("converged", "descending", "not converging", "diverged")
CHUNK_EPOCHS = 4096  # epochs a run path computes at once: bounds memory, lets tol/divergence stop early
REACHED_FRACTION = 0.999  # share of the starting loss gap whose closing counts as "reached the optimum"
GROWTH_EPOCHS = 10  # the growth rule of `growing_at_end` looks at the last this many epochs
# Parameters within this distance of the optimum, relative to |theta*|, count as "at the optimum": an error
# that small along an unstable direction does not make a full-batch GD/momentum/Nesterov run "diverged"...
AT_OPTIMUM = 1e-9
# ... until it has grown past this size (relative to |theta*|): then the run has visibly left the optimum.
LEFT_OPTIMUM = 1e-6
# A diverging run is data, not a warning: numpy's overflow warnings are silenced where runs are computed.
QUIET = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


@dataclass(frozen=True)
class Trajectory:
    """One gradient-descent run, state t being the parameters after t epochs (K = `epochs_run`).

    `loss[t] = J(theta_t)`, the full-data loss at the end of epoch t: theta_0 is the start, so the loss
    is paired with the parameters it was measured at (the blog pairs the loss before an update with the
    parameters after it).

    The outcome of a run, each rule written once (`outcome(J*)` names it):

    * diverged (`diverged`, and `stop_reason == "diverged"`): a loss or parameter became non-finite (the
      run stops there and keeps the finite states), or else
      - full-batch GD, momentum and Nesterov (`stability_known`): decided exactly from the iteration.
        Along each eigen-direction of the Hessian the error evolves by a fixed matrix; the run diverges
        iff some direction whose iteration has spectral radius > 1 (alpha above that direction's limit,
        see `gdcore.limits`) starts with an error above AT_OPTIMUM |theta*| (1e-9), or ends with one
        above LEFT_OPTIMUM |theta*| (1e-6). So a run above its optimizer's limit is diverged even when
        too short to show growth, a run below it never is, and a start within 1e-9 relative of the
        optimum is not, unless rounding along an unstable direction has grown a thousandfold past
        that, the parameters visibly leaving the optimum (or the numbers overflowed).
      - any other run (AdaGrad, RMSProp, Adam; mini-batches): `growing_at_end`, the loss growing
        geometrically over its last GROWTH_EPOCHS epochs. Merely ending above the start is not
        divergence (Adam started at the optimum first rises about 1% and then oscillates).
    * converged (`settled`): not diverged, and the `tol` rule stopped the run, or the final loss has
      closed REACHED_FRACTION (99.9%) of the starting gap J_0 - J* (a run that started at the optimum:
      its final loss is no higher than its start, to rounding).
    * descending: neither, and the run is still getting better: full-batch GD/momentum/Nesterov below
      their limit always are (every direction contracts); any other run if `descending_at_end`, its
      final loss below every loss before the last tenth of its epochs.
    * not converging: finite, not settled, not growing geometrically and not descending at the end: an
      adaptive method that oscillates, a mini-batch run bouncing around the optimum.

    "Reached the optimum" (`epoch_reaching`) is the first epoch that closed 99.9% of the starting gap,
    whatever happens after; the best epoch (`best_epoch`) is the blog's: the lowest loss.
    """

    loss: np.ndarray  # (K+1,)
    weights: np.ndarray  # (K+1, d)
    bias: np.ndarray  # (K+1,)
    stop_reason: str
    diverged: bool
    spec: RunSpec | None = None  # what was run (None for a hand-made trajectory)
    steps: np.ndarray | None = None  # (S, d+1): parameters after each mini-batch step, if recorded
    stability_known: bool = False  # `diverged` was decided exactly from the iteration (full-batch linear)
    # a mini-batch run whose parameters overflowed: (step, steps per epoch), the step of epoch
    # epochs_run + 1 after which they were first non-finite (1-based)
    overflow_step: tuple[int, int] | None = None

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

    @property
    def alphas(self) -> np.ndarray | None:
        """(K,) the step alpha_e each epoch e = 0 .. K-1 used (epoch e takes state e to state e+1): the
        spec's learning-rate schedule over the epochs run (constant alpha without one); None for a
        hand-made trajectory."""
        return None if self.spec is None else self.spec.alphas(self.epochs_run)

    def epoch_reaching(self, optimum_loss: float, fraction: float = REACHED_FRACTION) -> int | None:
        """First epoch t with J_0 - J_t >= fraction * (J_0 - J*): where the run "reached the optimum"
        (0 if it started there), or None if it never did within its epochs."""
        start_gap = self.loss[0] - optimum_loss
        if start_gap <= 0:
            return 0
        hits = np.flatnonzero(self.loss[0] - self.loss >= fraction * start_gap)
        return int(hits[0]) if hits.size else None

    @property
    def growing_at_end(self) -> bool:
        """The loss grows geometrically over the last GROWTH_EPOCHS epochs (see `growing_at_end`)."""
        return growing_at_end(self.loss)

    @property
    def descending_at_end(self) -> bool:
        """J_K is below every loss before the last tenth of the epochs (m = ceil(K / 10)): the run is
        still finding new lows. True for a run of 0 epochs (nothing has happened yet)."""
        epochs = self.epochs_run
        if epochs == 0:
            return True
        before = self.loss[: epochs + 1 - max(1, -(-epochs // 10))]
        return bool(self.loss[-1] < before.min())

    def settled(self, optimum_loss: float) -> bool:
        """The `tol` rule stopped the run, or J_K - J* <= (1 - REACHED_FRACTION) max(J_0 - J*, 0), allowing
        the loss's own rounding (1e-12 J_0): the run ended at the optimum."""
        if self.diverged:
            return False
        if self.stop_reason == "converged":
            return True
        start_gap = max(float(self.loss[0]) - optimum_loss, 0.0)
        end_gap = float(self.loss[-1]) - optimum_loss
        return end_gap <= (1.0 - REACHED_FRACTION) * start_gap + 1e-12 * abs(float(self.loss[0]))

    def outcome(self, optimum_loss: float) -> str:
        """One of OUTCOMES: "diverged", "converged", "descending" or "not converging" (rules in the class
        docstring); `optimum_loss` is J*, e.g. `Quadratic.loss_star` or `Fit.loss`."""
        if self.diverged:
            return "diverged"
        if self.settled(optimum_loss):
            return "converged"
        if self.stability_known or self.descending_at_end:
            return "descending"
        return "not converging"

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


def growing_at_end(loss: np.ndarray) -> bool:
    """The loss grows geometrically at the end (the divergence rule for runs without an exact one).

    With k = GROWTH_EPOCHS and K >= k epochs: each of the last k epochs raised the loss, the loss ended
    above its start, and the growth is not slowing down: over the last k/2 epochs the log of the loss grew
    at least half as much as over the k/2 before. Geometric growth (J_t ~ rho^(2t)) keeps its pace or,
    near the optimum, speeds up; the rise of an oscillation toward its top (an adaptive method swinging
    back) or of bounded steps away from a start at the optimum (adaptive steps are at most a few alpha)
    slows down, and a rise from exactly 0 is not geometric at all.
    """
    k = GROWTH_EPOCHS
    if loss.shape[0] <= k:
        return False
    tail = loss[-(k + 1) :]
    if not (np.all(np.diff(tail) > 0) and tail[-1] > loss[0]):
        return False
    middle = tail[k // 2]
    with np.errstate(**QUIET):
        earlier = np.log(middle / tail[0])
        later = np.log(tail[-1] / middle)
    return bool(later >= 0.5 * earlier)


def collect(
    start_loss: float,
    start_theta: np.ndarray,
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
    tol: float | None,
    spec: RunSpec | None = None,
    diverges: Callable[[np.ndarray], bool] | None = None,
) -> Trajectory:
    """Assemble a Trajectory from chunks of (loss (c,), theta (c, p)) for consecutive epochs.

    Stops at the first non-finite loss or parameter ("diverged", keeping only the finite states), or,
    with `tol`, after the first epoch whose relative loss change |J_{t-1} - J_t| / J_{t-1} is below tol
    ("converged": the blog's "until the error stabilizes"). A run that stays finite is diverged by
    `diverges(theta_K)`, the exact rule of a full-batch linear run, when given, or else by
    `growing_at_end` (see `Trajectory`). Chunks are consumed lazily, so an early stop skips the rest.
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
    diverged = reason == "diverged" or finite_run_diverges(loss, theta[-1], diverges)
    if diverged:
        reason = "diverged"
    return Trajectory(
        loss=loss,
        weights=theta[:, :-1],
        bias=theta[:, -1].copy(),
        stop_reason=reason,
        diverged=diverged,
        spec=spec,
        stability_known=diverges is not None,
    )


def finite_run_diverges(
    loss: np.ndarray, theta_end: np.ndarray, diverges: Callable[[np.ndarray], bool] | None
) -> bool:
    """Whether a run that stayed finite is diverged: the exact rule `diverges(theta_end)` when there is
    one, else `growing_at_end(loss)`."""
    return bool(diverges(theta_end)) if diverges is not None else growing_at_end(loss)

r"""Learning-rate sweeps and the measured convergence rate, for comparing runs with the step-size theory.

Plain full-batch GD is swept for all alphas at once: the closed form of `gdcore.closed_form` holds for a
vector of step sizes, each eigen-coordinate of the error shrinking by r_i(alpha) = 1 - alpha lambda_i per epoch,

    e_t(alpha) = r(alpha)^t * e_0,    J_t(alpha) = J* + 1/2 sum_i lambda_i e_{t,i}(alpha)^2,

so the sweep costs one (alphas x epochs x p) array computation instead of one run per alpha. Other
optimizers, mini-batches and runs with a learning-rate schedule (whose alpha_e = schedule(alpha, e) varies
by epoch) run once per alpha on the shared, already validated data and statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gdcore.closed_form import GDFamily
from gdcore.limits import forecast_epoch
from gdcore.model import Quadratic, StartPoint
from gdcore.spec import RunSpec
from gdcore.stepping import exact_divergence_rule, execute, measure_start
from gdcore.theory import Theory
from gdcore.trajectory import QUIET, REACHED_FRACTION, Trajectory, finite_run_diverges, tol_reached
from gdcore.validation import IntRange, as_regression_arrays, check

GRID_LOW = 1e-4  # the sweep grid's smallest alpha (when 2 alpha_max is well above it)
MAX_ALPHAS = 1000
GRID_POINTS = IntRange(2, MAX_ALPHAS)
GAP_FLOOR = 1e-9  # measured_contraction: relative gaps below this are round-off dominated
SWEEP_FLOATS = 1 << 21  # bound on the (alphas x epochs x p) block evaluated at once


@dataclass(frozen=True)
class SweepResult:
    """One run per alpha. For alphas[i]:

    * `final_loss[i]`: the loss after the chosen epochs (the last finite loss if the run diverged), as
      the run of `spec.with_alpha(alphas[i])` without tol gives it; `epochs_run[i]` the epochs that loss
      is from;
    * `diverged[i]`: as that run's `diverged` (the rules of `gdcore.Trajectory`: for plain full-batch GD,
      alpha above 2 / lambda_i along a direction i the run has error in, or an overflow);
    * `epochs_to_tol[i]`: the epoch at which the run with `spec.tol` stops with "converged", NaN if it
      never does within the epochs (or the spec has no tol, or that run is diverged);
    * `epochs_to_optimum[i]`: the epoch at which the run reached the optimum by the one shared
      definition (`Trajectory.epoch_reaching`: 99.9% of the starting gap to J* closed), NaN if it never
      does within the epochs. For plain full-batch GD it is read off the closed form's own losses,
      for all alphas at once (equal to the run's own epoch within one, tested).
    """

    alphas: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray
    epochs_run: np.ndarray
    epochs_to_tol: np.ndarray
    epochs_to_optimum: np.ndarray
    spec: RunSpec  # what was swept (its alpha is the first of `alphas`)

    @property
    def optimizer(self) -> str:
        return self.spec.optimizer


def alpha_grid(theory: Theory, n: int = 60, low: float = GRID_LOW) -> np.ndarray:
    """n step sizes evenly spaced in log scale from `low` to 2 alpha_max (past the GD stability cliff).

    When 2 alpha_max is not above `low` (data of a very large scale), the grid starts 1e4 times below
    2 alpha_max instead.
    """
    n = GRID_POINTS.check("n", n)
    low = check("alpha", low)
    high = 2.0 * theory.alpha_max
    if low >= high:
        low = high * 1e-4
    return np.geomspace(low, high, n)


def sweep(
    X, y, alphas, spec: RunSpec | None = None, *, quadratic: Quadratic | None = None, **run_settings
) -> SweepResult:
    """Run one spec once per step size in `alphas` from the same start; see `SweepResult`.

    The run is `spec`, or else described by `descend`'s keyword arguments (`optimizer`, `epochs`, `w0`,
    ...; not both). Plain full-batch GD is vectorised over alphas (closed form); other optimizers run
    once per alpha on the shared statistics. X and y are validated once, here.
    """
    X, y = as_regression_arrays(X, y)
    alphas = _check_alphas(alphas)
    if spec is None:
        spec = RunSpec.of(**{"alpha": float(alphas[0]), **run_settings})
    elif run_settings:
        raise ValueError(f"pass either a RunSpec or keyword settings, not both; got {sorted(run_settings)}")
    if quadratic is None:
        quadratic = Quadratic.from_checked(X, y)
    return sweep_checked(X, y, alphas, spec, quadratic)


def sweep_checked(X: np.ndarray, y: np.ndarray, alphas, spec: RunSpec, quadratic: Quadratic) -> SweepResult:
    """`sweep` for callers holding validated data and its statistics (X (N, d), y (N,) float64 from
    `as_regression_arrays`, `quadratic` = `Quadratic.from_checked(X, y)`): the data is not checked again.
    `alphas` and the start are (cheap)."""
    if not isinstance(spec, RunSpec):
        raise ValueError(f"spec must be a gdcore.RunSpec; got {type(spec).__name__}")
    alphas = _check_alphas(alphas)
    spec = spec.with_alpha(float(alphas[0]))
    start = measure_start(X, y, spec, quadratic)  # checked as a run checks it, measured once for all
    if spec.optimizer == "gd" and spec.is_full_batch(X.shape[0]) and spec.schedule.is_constant:
        columns = _gd_sweep(quadratic, start, alphas, spec.epochs, spec.tol)
    else:
        columns = _looped_sweep(X, y, quadratic, start, alphas, spec)
    return SweepResult(alphas, *columns, spec=spec)


def measured_contraction(trajectory: Trajectory, optimum) -> np.ndarray:
    r"""The measured per-epoch ratio of the loss gap, (J_{t+1} - J^*) / (J_t - J^*), for t = 0..K-1.

    For plain GD it tends to the theory's `rate(alpha)^2` (the slowest direction's factor). `optimum` is
    J* itself, a `Quadratic` (its `loss_star`) or a `Fit` (its `loss`). Where a gap is below
    GAP_FLOOR * |J*| the ratio is NaN: a loss carries round-off of about 1e-16 |J*|, so a ratio of
    smaller gaps would measure round-off rather than the optimizer.
    """
    loss_star = float(getattr(optimum, "loss_star", getattr(optimum, "loss", optimum)))
    gap = trajectory.loss - loss_star
    floor = GAP_FLOOR * abs(loss_star)
    with np.errstate(**QUIET):
        ratio = gap[1:] / gap[:-1]
    return np.where((gap[:-1] > floor) & (gap[1:] > floor), ratio, np.nan)


def fit_window(trajectory: Trajectory, optimum, min_epochs: int = 4) -> np.ndarray | None:
    """The epochs a per-epoch gap factor is fitted over: the later half of the run's leading measurable
    epochs (those whose ratio in `measured_contraction` is finite and above its round-off floor), so
    that the start's transient weighs less. None with fewer than 2 `min_epochs` measurable epochs."""
    measurable = np.isfinite(measured_contraction(trajectory, optimum))
    count = int(np.argmin(measurable)) if not measurable.all() else measurable.size  # ratios 0..count-1
    if count + 1 < 2 * min_epochs:
        return None
    return np.arange(count + 1)[(count + 1) // 2 :]


def fitted_factor(gap, epochs) -> float:
    """exp of the least-squares slope of log(gap_t) against t over `epochs` (gap holds gap_t for those
    t): the per-epoch factor of the gap there. A fitted slope, not one ratio, so that momentum's
    oscillating gap is averaged over its swings."""
    with np.errstate(**QUIET):
        return float(np.exp(np.polyfit(np.asarray(epochs, dtype=np.float64), np.log(gap), 1)[0]))


def _check_alphas(alphas) -> np.ndarray:
    """A 1-D float array of 1..MAX_ALPHAS step sizes, each finite and > 0 (ValueError otherwise)."""
    values = np.atleast_1d(np.asarray(alphas, dtype=object))
    if values.ndim != 1 or not 1 <= values.shape[0] <= MAX_ALPHAS:
        raise ValueError(f"alphas must be a list of 1 to {MAX_ALPHAS} step sizes; got shape {values.shape}")
    return np.array([check("alpha", a.item() if isinstance(a, np.generic) else a) for a in values])


def _looped_sweep(X, y, quadratic: Quadratic, start: StartPoint, alphas: np.ndarray, spec: RunSpec):
    """One run per alpha without tol; the epoch tol would stop at comes from the same run."""
    final, diverged, run, to_tol, to_optimum = [], [], [], [], []
    for alpha in alphas:
        alpha_spec = replace(spec, alpha=float(alpha), tol=None)
        trajectory = execute(X, y, alpha_spec, quadratic, start=start)
        final.append(trajectory.loss[-1])
        diverged.append(trajectory.diverged)
        run.append(trajectory.epochs_run)
        rule = exact_divergence_rule(quadratic, start, alpha_spec, X.shape[0])
        to_tol.append(_epochs_to_tol(trajectory, spec.tol, rule))
        reached = trajectory.epoch_reaching(quadratic.loss_star)
        to_optimum.append(np.nan if reached is None else float(reached))
    return (
        np.array(final),
        np.array(diverged),
        np.array(run),
        np.array(to_tol, dtype=np.float64),
        np.array(to_optimum, dtype=np.float64),
    )


def _epochs_to_tol(trajectory: Trajectory, tol: float | None, rule) -> float:
    """The epoch at which `collect` would stop this run with "converged" under `tol`, else NaN (no hit
    among its finite epochs, or the run stopped there would be diverged by `rule`, as `collect` says)."""
    loss = trajectory.loss
    if tol is None or loss.shape[0] < 2:
        return np.nan
    hits = np.flatnonzero(tol_reached(loss[:-1], loss[1:], tol))
    if not hits.size:
        return np.nan
    stop = int(hits[0]) + 1
    theta = np.append(trajectory.weights[stop], trajectory.bias[stop])
    if finite_run_diverges(loss[: stop + 1], theta, rule):
        return np.nan
    return float(stop)


def _gd_sweep(quadratic: Quadratic, start: StartPoint, alphas: np.ndarray, epochs: int, tol):
    """Plain full-batch GD for every alpha at once; each column equals `descend` run per alpha.

    Each coordinate of e_t = r^t e_0 grows or shrinks monotonically in t, so a run is finite up to some
    epoch and non-finite after it: its final state is at t = K or, if that is not finite, just before
    the first non-finite epoch, found by bisection (as `collect` keeps only the finite states).
    """
    family = GDFamily(quadratic, start, alphas)
    everyone = np.arange(alphas.shape[0])
    final_t = np.full(alphas.shape[0], epochs, dtype=np.int64)
    final_loss, finite = family.at(everyone, final_t)
    bad = everyone[~finite]
    if bad.size:
        final_t[bad] = _last_finite_epoch(family, bad, epochs)
        final_loss[bad] = family.at(bad, final_t[bad])[0]
    diverged = (final_t < epochs) | family.diverges(everyone, final_t)
    to_tol = _gd_epochs_to_tol(family, final_t, epochs, tol)
    to_optimum = _gd_epochs_reaching(family, alphas, final_t)
    return final_loss, diverged, final_t, to_tol, to_optimum


READ_EVERY_EPOCH_UP_TO = 4096  # an unstable run this long or shorter is read epoch by epoch


def _gd_epochs_reaching(family: GDFamily, alphas: np.ndarray, final_t: np.ndarray) -> np.ndarray:
    """`Trajectory.epoch_reaching` of every run, on the family's own losses: the first epoch t <= the
    run's last with J_0 - J_t >= REACHED_FRACTION (J_0 - J*), NaN if none.

    Without an unstable direction the gap J_t - J* = sum_i c_i (1 - alpha lam_i)^(2t) never rises, so a
    run whose last epoch hits has its first hit found by bisection, for all runs at once, and one whose
    last epoch misses never hits. With one, the gap is convex in t (it may dip, then rise): such a run
    is read epoch by epoch, or (when long) by `forecast_epoch`'s exact search.
    """
    start_gap = family.start_loss - family.quadratic.loss_star
    count = final_t.shape[0]
    if start_gap <= 0:
        return np.zeros(count)

    def hits(runs: np.ndarray, t: np.ndarray) -> np.ndarray:
        if runs.size == 0:
            return np.zeros(np.shape(t), dtype=bool)
        loss = family.at(runs, t)[0]
        with np.errstate(**QUIET):
            return family.start_loss - loss >= REACHED_FRACTION * start_gap

    reached = np.full(count, np.nan)
    unstable = family.unstable.any(axis=1)
    stable = np.flatnonzero(~unstable)
    runs = stable[hits(stable, final_t[stable])]
    low, high = np.zeros(runs.shape[0], dtype=np.int64), final_t[runs].copy()  # misses at low, hits at high
    while np.any(high - low > 1):
        middle = (low + high) // 2
        hit = hits(runs, middle)
        low, high = np.where(hit, low, middle), np.where(hit, middle, high)
    reached[runs] = high
    for run in np.flatnonzero(unstable):
        last = int(final_t[run])
        if last > READ_EVERY_EPOCH_UP_TO:
            epoch = forecast_epoch(family.quadratic, family.start.theta, float(alphas[run]), max_epochs=last)
            reached[run] = _nan_if_none(epoch)
            continue
        first = np.flatnonzero(hits(np.array([run]), np.arange(last + 1)[None, :])[0])
        reached[run] = first[0] if first.size else np.nan
    return reached


def _nan_if_none(epoch: int | None) -> float:
    return np.nan if epoch is None else float(epoch)


def _last_finite_epoch(family: GDFamily, runs: np.ndarray, epochs: int) -> np.ndarray:
    """For runs finite at t = 0 and not at t = K: the last finite epoch, by bisection on [0, K]."""
    low = np.zeros(runs.shape[0], dtype=np.int64)  # finite
    high = np.full(runs.shape[0], epochs, dtype=np.int64)  # not finite
    while np.any(high - low > 1):
        middle = (low + high) // 2
        finite = family.at(runs, middle)[1]
        low, high = np.where(finite, middle, low), np.where(finite, high, middle)
    return low


def _gd_epochs_to_tol(family: GDFamily, final_t: np.ndarray, epochs: int, tol) -> np.ndarray:
    """First epoch meeting `collect`'s tol rule for each run (NaN if none, or if the run stopped there
    would be diverged)."""
    n, p = family.log_rates.shape
    result = np.full(n, np.nan)
    if tol is None:
        return result
    active = np.arange(n)
    previous = np.full(n, family.start_loss)
    chunk = max(1, SWEEP_FLOATS // (n * p))
    for first in range(1, epochs + 1, chunk):
        t = np.arange(first, min(first + chunk, epochs + 1))
        loss = family.at(active, np.broadcast_to(t, (active.shape[0], t.shape[0])))[0]
        before = np.column_stack([previous, loss[:, :-1]])
        hits = tol_reached(before, loss, tol) & (t <= final_t[active, None])
        found = hits.any(axis=1)
        first_hit = hits.argmax(axis=1)
        stopped = t[first_hit[found]]
        result[active[found]] = np.where(family.diverges(active[found], stopped), np.nan, stopped)
        keep = ~found & (final_t[active] > t[-1])
        active, previous = active[keep], loss[keep, -1]
        if not active.size:
            break
    return result

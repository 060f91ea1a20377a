"""One dashboard experiment end to end: data source -> (standardize, split) -> runs -> summaries.

The dashboard calls these functions (cached) and only lays out what they return, so everything it
shows can be reproduced from a notebook with the same calls. Runs are `gdcore.RunSpec`s, passed whole.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from gdcore.csv_input import read_csv
from gdcore.data import CurveSpec, Dataset, SyntheticSpec
from gdcore.datasets import load_dataset, train_test_split
from gdcore.features import polynomial_features, polynomial_names
from gdcore.landscape import Contours, contours, inside, surround, window
from gdcore.limits import StepLimits, forecast_epoch, gap_path, limits_for, slowest_dominates_from
from gdcore.model import Quadratic
from gdcore.optimizers import OPTIMIZERS
from gdcore.scaling import Scaler, standardize
from gdcore.spec import RunSpec
from gdcore.stepping import execute, step_path
from gdcore.sweep import SweepResult, alpha_grid, fit_window, fitted_factor, sweep
from gdcore.theory import Fit, Theory, analyze_quadratic, least_squares, ridge_fit
from gdcore.trajectory import QUIET, REACHED_FRACTION, Trajectory
from gdcore.validation import check


@dataclass(frozen=True)
class Prepared:
    """The data as the runs see it, and what theory says about it.

    `train` is what gradient descent fits (standardized if asked); `test` the held-out rows (None with
    test_fraction 0); `raw_condition_number` the condition number of the training rows' Hessian before
    standardizing (the same rows as `theory`, so without standardizing the two are equal).
    """

    source: Dataset
    train: Dataset
    test: Dataset | None
    scaler: Scaler | None
    quadratic: Quadratic
    test_quadratic: Quadratic | None
    fit: Fit
    theory: Theory
    raw_condition_number: float
    degree: int = 1  # the features are x, x^2, ..., x^degree of one input when > 1


@dataclass(frozen=True)
class CsvSelection:
    """An uploaded CSV file, named by its SHA-256 digest, and the columns chosen from it."""

    digest: str
    target: str
    features: tuple[str, ...]
    drop_nonfinite: bool = False


@dataclass(frozen=True)
class Problem:
    """A data source with the model fitted to it: its one input expanded to x, ..., x^degree, and the
    ridge penalty l2 ||w||^2 added to the loss (see `prepare`)."""

    data: SyntheticSpec | CurveSpec | str | CsvSelection
    degree: int = 1
    l2: float = 0.0


# make_regression data, curve data, a named data set, a CSV file, or one of those with a polynomial degree and penalty
DataSource = SyntheticSpec | CurveSpec | str | CsvSelection | Problem


def with_problem(source: DataSource, degree: int, l2: float) -> DataSource:
    """`source` itself for the blog's model (degree 1, no penalty), else a `Problem` carrying both."""
    return source if (degree, l2) == (1, 0.0) else Problem(source, degree, l2)


def problem_shape(source: DataSource) -> tuple[int, float]:
    """(degree, l2) a source asks for: a `Problem`'s, else the blog's (1, 0.0)."""
    return (source.degree, source.l2) if isinstance(source, Problem) else (1, 0.0)


def base_data(source: DataSource) -> DataSource:
    """The data a source names without its model (a `Problem`'s data; any other source itself)."""
    return source.data if isinstance(source, Problem) else source


def load_source(source: DataSource, csv_bytes: bytes | None = None) -> Dataset:
    """The data set a source names: synthetic data, a bundled data set by name, or the uploaded CSV (a
    `Problem`'s data as loaded; `prepare` expands it)."""
    if isinstance(source, Problem):
        return load_source(source.data, csv_bytes)
    if isinstance(source, SyntheticSpec | CurveSpec):
        return source.make()
    if isinstance(source, CsvSelection):
        return read_csv(
            csv_bytes,
            target=source.target,
            features=list(source.features),
            drop_nonfinite=source.drop_nonfinite,
        )
    return load_dataset(source)


def prepare(
    dataset: Dataset,
    *,
    standardized: bool,
    test_fraction: float,
    split_seed: int,
    degree: int = 1,
    l2: float = 0.0,
) -> Prepared:
    """Expand one input into x, x^2, ..., x^degree (`polynomial_features`, degree > 1), split (seeded),
    then standardize with the training rows' statistics, then the theory of the loss the runs minimise:
    mean((y - X w - b)^2) + l2 ||w||^2, whose optimum `fit` is then the ridge solution (loss penalized)."""
    dataset = polynomial_dataset(dataset, degree)
    train, test = train_test_split(dataset, test_fraction, split_seed)
    raw_quadratic = Quadratic.from_data(train.X, train.y, l2)
    scaler = None
    if standardized:
        train, scaler = standardize(train)
        if test.n_samples:
            test, _ = standardize(test, scaler)
    quadratic = Quadratic.from_data(train.X, train.y, l2) if standardized else raw_quadratic
    test_quadratic = Quadratic.from_data(test.X, test.y) if test.n_samples >= 2 else None
    theory = analyze_quadratic(quadratic)
    return Prepared(
        source=dataset,
        train=train,
        test=test if test.n_samples else None,
        scaler=scaler,
        quadratic=quadratic,
        test_quadratic=test_quadratic,
        fit=least_squares(train.X, train.y) if not l2 else ridge_fit(quadratic),
        theory=theory,
        raw_condition_number=(analyze_quadratic(raw_quadratic) if standardized else theory).condition_number,
        degree=degree,
    )


def polynomial_dataset(dataset: Dataset, degree: int) -> Dataset:
    """The data set with its one input x replaced by x, x^2, ..., x^degree (unchanged for degree 1);
    ValueError saying so when it has several features."""
    if check("degree", degree) == 1:
        if dataset.coef.shape[0] == dataset.n_features:
            return dataset
        # curve data knows the coefficients of its powers (the cubic's x, x^2, x^3), not of a line in x
        return replace(dataset, coef=np.full(dataset.n_features, np.nan))
    if dataset.n_features != 1:
        raise ValueError(
            f"a polynomial of degree {degree} needs data with one input x; this data has "
            f"{dataset.n_features} features: choose degree 1, or one feature"
        )
    name = dataset.feature_names[0]
    # the true coefficients of x, x^2, ... when the data's are known and reach no higher power
    coef = np.full(degree, np.nan)
    if np.isfinite(dataset.coef).all() and dataset.coef.shape[0] <= degree:
        coef[:] = 0.0
        coef[: dataset.coef.shape[0]] = dataset.coef
    return replace(
        dataset,
        X=polynomial_features(dataset.X, degree),
        coef=coef,
        feature_names=polynomial_names(name, degree),
        name=f"{dataset.name}, degree {degree}",
    )


@dataclass(frozen=True)
class RunPlan:
    """The runs to compare on the prepared data: one `RunSpec` per optimizer, the same data and start.

    Hashable, so the dashboard caches runs by it.
    """

    specs: tuple[RunSpec, ...] = (RunSpec(),)

    def __post_init__(self) -> None:
        if not self.specs:
            raise ValueError("choose at least one optimizer; the choices are " + ", ".join(OPTIMIZERS))

    @classmethod
    def compare(cls, optimizers: tuple[str, ...], **shared) -> RunPlan:
        """One spec per optimizer, all with the same `shared` RunSpec fields (alpha, epochs, start...)."""
        for name in optimizers:
            if name not in OPTIMIZERS:
                raise ValueError(f"unknown optimizer {name!r}; the choices are {', '.join(OPTIMIZERS)}")
        return cls(tuple(RunSpec(optimizer=name, **shared) for name in optimizers))

    @property
    def first(self) -> RunSpec:
        """The headline run (the first optimizer chosen)."""
        return self.specs[0]


def run_optimizers(
    prepared: Prepared, plan: RunPlan, on_progress: Callable[[str, float, int], object] | None = None
) -> dict[str, Trajectory]:
    """One run per planned spec on the same (validated) data; keyed by the optimizer's display name.

    `on_progress(name, epochs_done, epochs_total)` is called as each run advances (after each chunk of
    epochs, and within a long mini-batch epoch with a fractional epochs_done: see
    `gdcore.stepping.execute`); an exception it raises abandons the runs (how the page cancels)."""
    X, y = prepared.train.X, prepared.train.y
    runs = {}
    for spec in plan.specs:
        name = OPTIMIZERS[spec.optimizer].display_name
        report = None if on_progress is None else functools.partial(on_progress, name)
        record_steps = not spec.is_full_batch(X.shape[0])
        runs[name] = execute(X, y, spec, prepared.quadratic, record_steps, on_progress=report)
    return runs


def best_test_loss(prepared: Prepared, run: Trajectory) -> float | None:
    """J_test at the run's best epoch (None without held-out rows): the loss on rows GD never saw."""
    if prepared.test_quadratic is None:
        return None
    return float(prepared.test_quadratic.loss(np.append(run.best_weights, run.best_bias)))


def test_losses(prepared: Prepared, runs: Mapping[str, Trajectory]) -> dict[str, np.ndarray]:
    """J_test(theta_t) for every epoch of every run (empty without a test set): O(K d^2) each."""
    if prepared.test_quadratic is None:
        return {}
    return {
        name: prepared.test_quadratic.loss(np.column_stack([run.weights, run.bias]))
        for name, run in runs.items()
    }


def run_outcome(run: Trajectory, optimum_loss: float) -> str:
    """How one run of a race ended, said as it is: "epoch N" (where it reached the optimum, the one
    definition `Trajectory.epoch_reaching`), "diverged", "stopped by the tolerance rule at epoch N
    before reaching it", or "not within the epochs" (it ran all its epochs without getting there)."""
    if run.diverged:
        overflow = overflow_phrase(run)
        return "diverged" + (f" ({overflow})" if overflow else "")
    epoch = run.epoch_reaching(optimum_loss)
    if epoch is not None:
        return f"epoch {epoch:,}"
    if run.stop_reason == "converged":
        return f"stopped by the tolerance rule at epoch {run.epochs_run:,} before reaching it"
    return "not within the epochs"


def overflow_phrase(run: Trajectory) -> str | None:
    """Where a diverged run stopped on non-finite numbers, as it happened: "overflowed during epoch E (at
    mini-batch step s of its m)" when the step is known (`Trajectory.overflow_step`), else "overflowed
    in epoch E"; E = epochs_run + 1, the first epoch not kept. None for a run that did not stop early."""
    if run.spec is None or not run.diverged or run.epochs_run >= run.spec.epochs:
        return None
    epoch = run.epochs_run + 1
    if run.overflow_step is None:
        return f"overflowed in epoch {epoch:,}"
    step, steps = run.overflow_step
    return f"overflowed during epoch {epoch:,} (at mini-batch step {step:,} of its {steps:,})"


def race_summary(runs: Mapping[str, Trajectory], optimum_loss: float) -> str:
    """Which run reached the optimum (99.9% of its starting gap closed) first, in epochs, for the headline
    when several are compared: a tie is said as a tie, every other run's outcome as `run_outcome` says."""
    outcomes = {name: run_outcome(run, optimum_loss) for name, run in runs.items()}
    reached = {
        name: epoch
        for name, run in runs.items()
        if not run.diverged and (epoch := run.epoch_reaching(optimum_loss)) is not None
    }
    if not reached:
        listed = "; ".join(f"{name}: {outcome}" for name, outcome in outcomes.items())
        return f"None of the runs reached the optimum (99.9% of the starting gap closed): {listed}."
    first = min(reached.values())
    winners = [name for name, epoch in reached.items() if epoch == first]
    others = "; ".join(f"{name}: {outcomes[name]}" for name in outcomes if name not in winners)
    if len(winners) == 1:
        lead = f"**{winners[0]}** reached the optimum first, at epoch {first:,}"
    else:
        named = ", ".join(f"**{name}**" for name in winners[:-1]) + f" and **{winners[-1]}**"
        lead = f"{named} reached the optimum at the same epoch, {first:,} (a tie)"
    return lead + (f" ({others})." if others else ".")


@dataclass(frozen=True)
class Outlook:
    """What theory says about one planned run before it runs (`gdcore.limits`, full-batch theory).

    `limits` are the optimizer's own (alpha_max None for the adaptive ones); `full_batch` whether every
    update sees all rows (the limits and the forecast hold only then); `forecast` the exact first epoch
    its loss gap J_t - J* is <= (1 - REACHED_FRACTION)(J_0 - J*), for full-batch GD, momentum and
    Nesterov; None when the run does not get there within FORECAST_HORIZON epochs or has no forecast.
    The limits, rates and forecast are for a constant alpha: a run with a learning-rate schedule
    (`scheduled`) has no forecast and `has_theory` is False for it.
    """

    spec: RunSpec
    limits: StepLimits
    full_batch: bool
    forecast: int | None

    @property
    def alpha(self) -> float:
        return self.spec.alpha

    @property
    def has_theory(self) -> bool:
        """Whether the limits, the rate and the forecast describe this run (full-batch GD, momentum or
        Nesterov) at a constant alpha; adaptive optimizers, mini-batches and scheduled runs have none."""
        return self.full_batch and self.limits.alpha_max is not None and not self.scheduled

    @property
    def scheduled(self) -> bool:
        """The run's alpha follows a learning-rate schedule (not constant): the constant-alpha theory
        does not describe it."""
        return not self.spec.schedule.is_constant

    @property
    def has_limit(self) -> bool:
        """Whether the optimizer has a fixed step limit at all (full batch): GD, momentum, Nesterov."""
        return self.limits.alpha_max is not None

    @property
    def above_limit(self) -> bool:
        return self.has_limit and self.spec.alpha >= self.limits.alpha_max

    def loss_rate(self) -> float | None:
        """The predicted per-epoch factor of the loss gap at this alpha (full batch), or None."""
        return self.limits.loss_rate(self.spec.alpha) if self.has_limit else None


FORECAST_HORIZON = 10_000_000  # epochs: a forecast further out is said as "more than" this


def optimizer_limits(prepared: Prepared, spec: RunSpec) -> StepLimits:
    """The step limits of `spec`'s optimizer with its hyperparameters on the prepared (training) data."""
    return limits_for(prepared.quadratic, spec.optimizer, **dict(spec.hyper))


def outlook(prepared: Prepared, spec: RunSpec) -> Outlook:
    """The `Outlook` of one planned run: its optimizer's limits and, where theory has one, the exact
    epoch it reaches the optimum (`gdcore.forecast_epoch`, from the same start and J*)."""
    limits = optimizer_limits(prepared, spec)
    full_batch = spec.is_full_batch(prepared.train.n_samples)
    forecast = None
    if full_batch and limits.alpha_max is not None and spec.schedule.is_constant:
        forecast = forecast_epoch(
            prepared.quadratic,
            spec.start(prepared.train.n_features),
            spec.alpha,
            spec.optimizer,
            fraction=REACHED_FRACTION,
            max_epochs=FORECAST_HORIZON,
            **dict(spec.hyper),
        )
    return Outlook(spec, limits, full_batch, forecast)


def outlooks(prepared: Prepared, plan: RunPlan) -> dict[str, Outlook]:
    """`outlook` of every planned run, keyed by the optimizer's display name like `run_optimizers`."""
    return {OPTIMIZERS[spec.optimizer].display_name: outlook(prepared, spec) for spec in plan.specs}


def choice_at_most(value: float, choices: Sequence[float]) -> float | None:
    """The largest of `choices` that is <= `value` (None if every choice is above it)."""
    below = [c for c in choices if c <= value]
    return max(below) if below else None


SAFE_STEP_TRIES = 4  # candidate steps `safe_step` runs at most


ADAPTIVE_STEP_SHARE = 0.01  # an adaptive optimizer's part in `step_ceiling`: this share of its alpha


class StepBound(NamedTuple):
    """One planned optimizer's part in `step_ceiling`: `bound` is its full-batch alpha_opt when it has
    one (`from_alpha_opt`), else (AdaGrad, RMSProp, Adam) ADAPTIVE_STEP_SHARE of its planned `alpha`."""

    optimizer: str
    alpha: float
    bound: float
    from_alpha_opt: bool


def step_bounds(prepared: Prepared, plan: RunPlan) -> tuple[StepBound, ...]:
    """`StepBound` of each planned spec, in the plan's order."""
    bounds = []
    for spec in plan.specs:
        alpha_opt = optimizer_limits(prepared, spec).alpha_opt
        bound = alpha_opt if alpha_opt is not None else ADAPTIVE_STEP_SHARE * spec.alpha
        bounds.append(StepBound(spec.optimizer, spec.alpha, bound, alpha_opt is not None))
    return tuple(bounds)


def step_ceiling(prepared: Prepared, plan: RunPlan) -> float:
    """The largest step `safe_step` considers: the smallest `StepBound.bound` of the chosen optimizers
    (alpha_opt, or for an adaptive optimizer, which has none, a hundredth of its alpha)."""
    return min(bound.bound for bound in step_bounds(prepared, plan))


def safe_step(
    prepared: Prepared,
    plan: RunPlan,
    choices: Sequence[float],
    runner: Callable[[RunPlan], Mapping[str, Trajectory]] | None = None,
    tries: int = SAFE_STEP_TRIES,
) -> float | None:
    """A step to suggest after a divergence: one of `choices` (values the user can set), at or below
    `step_ceiling`, that has been run with the whole plan and diverged for none of its optimizers. Up to
    `tries` candidates (each a run of the whole plan: a caller bounds its cost with it), halving, then a
    tenth each time; None if none passed (or none is below the limit, or tries is 0).

    `runner` runs a plan (the dashboard passes its cached runner, so that the click that sets the
    suggested step finds its runs ready); by default `run_optimizers` on `prepared`.
    """
    runner = runner or (lambda candidate: run_optimizers(prepared, candidate))
    ceiling = step_ceiling(prepared, plan)
    for attempt in range(tries):
        candidate = choice_at_most(ceiling, choices)
        if candidate is None:
            return None
        trial = RunPlan(tuple(spec.with_alpha(candidate) for spec in plan.specs))
        if not any(run.diverged for run in runner(trial).values()):
            return candidate
        ceiling = candidate / (2.0 if attempt == 0 else 10.0)
    return None


def weights_in_units(prepared: Prepared, run: Trajectory) -> dict[str, list[float]]:
    """The best epoch's weights and bias beside the optimum (w*, b*) of the loss minimised (least
    squares, or the ridge solution with a penalty), as fitted, and both again in the original units when
    the features were standardized."""
    pairs = {
        "best epoch": (run.best_weights, run.best_bias),
        f"{'ridge' if prepared.fit.l2 else 'least squares'} (w*, b*)": (
            prepared.fit.weights,
            prepared.fit.bias,
        ),
    }
    scaled = prepared.scaler is not None
    table = {
        f"{name} (z-scores)" if scaled else name: [*w.tolist(), float(b)] for name, (w, b) in pairs.items()
    }
    if scaled:
        for name, (w, b) in pairs.items():
            w_orig, b_orig = prepared.scaler.to_original(w, b)
            table[f"{name}, original units"] = [*np.asarray(w_orig).tolist(), float(b_orig)]
    return table


def largest_weight_error(run: Trajectory, fit: Fit) -> float:
    """max_k |w_k - w*_k| at the best epoch: how far the worst weight is from the optimum."""
    return float(np.max(np.abs(run.best_weights - fit.weights)))


def condition_summary(prepared: Prepared) -> tuple[float, float]:
    """(condition number of the raw data's Hessian, condition number of what GD actually sees)."""
    return prepared.raw_condition_number, prepared.theory.condition_number


def landscape_paths(
    prepared: Prepared, runs: Mapping[str, Trajectory], i: int, j: int
) -> dict[str, np.ndarray]:
    """Each run's path over parameters i and j: (S, 4) rows (epoch, theta_i, theta_j, J).

    Full-batch runs give every epoch; mini-batch runs their recorded steps (the zig-zag of the batches),
    placed at fractional epochs (step / steps per epoch, the recorded steps being evenly thinned).
    """
    paths = {}
    for name, run in runs.items():
        if run.steps is None:
            theta = np.column_stack([run.weights, run.bias])
            epoch = np.arange(theta.shape[0], dtype=np.float64)
        else:
            theta = step_path(run)
            epoch = np.linspace(0.0, run.epochs_run, theta.shape[0])
        with np.errstate(**QUIET):
            loss = prepared.quadratic.loss(theta)
        paths[name] = np.column_stack([epoch, theta[:, i], theta[:, j], loss])
    return paths


@dataclass(frozen=True)
class OffChart:
    """A run's path beyond the landscape's reach (outside every picture the chart can show).

    `first`: (epoch, u, v) of its first point beyond; `last`: (epoch, u, v, J) of its last finite point;
    `back`: whether that last point is within reach again.
    """

    first: np.ndarray
    last: np.ndarray
    back: bool


def off_chart(path: np.ndarray, reach: np.ndarray) -> OffChart | None:
    """Where the path (rows epoch, u, v, J) first goes beyond `reach`, if it does."""
    within = inside(path[:, 1:3], reach)
    if within.all():
        return None
    finite = np.flatnonzero(np.isfinite(path).all(axis=1))
    last = path[finite[-1]] if finite.size else np.full(4, np.nan)
    return OffChart(path[int(np.argmin(within)), :3], last, bool(finite.size and within[finite[-1]]))


@dataclass(frozen=True)
class LandscapeView:
    """What the landscape chart draws over parameters i and j (the others at their optimum).

    `bounds` is the box the chart must show (the runs' paths and the optimum, at most 4x the start's
    distance from the optimum on each side); `reach` the square around it that an equal-scale chart may
    show at any aspect, to which the `contours` (exact level sets of J) are clipped; `paths` each run's
    (epoch, theta_i, theta_j, J) rows; `off_chart` the runs whose path goes beyond `reach`.

    With a ridge penalty, `reference` holds the level sets of the loss without it (the plain MSE, the
    other parameters at their least-squares values) and `reference_optimum` the least-squares optimum,
    so the chart can show what the penalty did to the bowl; both None without a penalty.
    """

    bounds: np.ndarray
    reach: np.ndarray
    contours: Contours
    paths: dict[str, np.ndarray]
    optimum: np.ndarray
    off_chart: dict[str, OffChart]
    reference: Contours | None = None
    reference_optimum: np.ndarray | None = None


def landscape_view(prepared: Prepared, runs: Mapping[str, Trajectory], i: int, j: int) -> LandscapeView:
    """The window is centred on the optimum and at most 4x the start's distance from it on each side,
    so one diverging step does not flatten the picture; a path that goes beyond it is in `off_chart`."""
    quadratic = prepared.quadratic
    paths = landscape_paths(prepared, runs, i, j)
    optimum = quadratic.theta_star[[i, j]]
    start = next(iter(paths.values()))[0, 1:3]
    span = 4.0 * max(float(np.abs(start - optimum).max()), 1e-6 + 1e-3 * float(np.abs(optimum).max()))
    # The optimum's surroundings too (a square 0.6x the start's distance wide), so the innermost
    # contours are not cut off at the window's edge.
    around = optimum + 0.3 * float(np.hypot(*(start - optimum))) * np.array([[-1.0, -1.0], [1.0, 1.0]])
    # With a penalty, the unpenalized loss too (one more pass over the training rows), and its optimum
    # in the window: the two optima side by side show what the penalty does.
    plain = Quadratic.from_data(prepared.train.X, prepared.train.y) if quadratic.l2 else None
    others = [plain.theta_star[[i, j]]] if plain is not None else []
    points = np.vstack([optimum, around, *others, *(p[:, 1:3] for p in paths.values())])
    bounds = window(points, max_span=span)
    reach = surround(bounds)
    gone = {name: off for name, path in paths.items() if (off := off_chart(path, reach)) is not None}
    view = LandscapeView(bounds, reach, contours(quadratic, i, j, reach), paths, optimum, gone)
    if plain is None:
        return view
    return replace(view, reference=contours(plain, i, j, reach), reference_optimum=others[0])


def off_chart_note(run: str, off: OffChart, u_name: str, v_name: str) -> str:
    """One sentence: when the run's path went off the landscape chart, and where it ended."""
    epoch, u, v = off.first
    last_epoch, last_u, last_v, last_loss = off.last
    went = (
        f"{run} went off the chart (the arrow marks where): by epoch {epoch:,.4g} it was at "
        f"{u_name} = {u:.3g}, {v_name} = {v:.3g}"
    )
    if off.back:
        back = f", and it came back: at epoch {last_epoch:,.4g} it is at {u_name} = {last_u:,.4g}, "
        return went + back + f"{v_name} = {last_v:,.4g}."
    return (
        went + f"; its last point, epoch {last_epoch:,.4g}, is at {u_name} = {last_u:.3g}, "
        f"{v_name} = {last_v:.3g} (MSE {last_loss:.3g})."
    )


def sweep_runs(prepared: Prepared, plan: RunPlan, points: int = 60) -> dict[str, SweepResult]:
    """A learning-rate sweep per planned spec on a log grid from 1e-4 to 2 alpha_max (>= 50 values);
    the specs' alpha is the one thing not used."""
    alphas = alpha_grid(prepared.theory, n=points)
    return {
        OPTIMIZERS[spec.optimizer].display_name: sweep(
            prepared.train.X, prepared.train.y, alphas, spec, quadratic=prepared.quadratic
        )
        for spec in plan.specs
    }


RATE_VIEW_EPOCHS = 200  # the rate view's runs: this many full-batch epochs from the origin per alpha


def contraction_by_optimizer(
    prepared: Prepared, plan: RunPlan, alphas: np.ndarray, epochs: int = RATE_VIEW_EPOCHS
) -> dict[str, dict[str, np.ndarray]]:
    """Per planned GD / momentum / Nesterov (adaptive optimizers have no predicted rate and are left out),
    three per-epoch loss-gap factors per alpha, {"alpha", "predicted", "same_epochs", "measured"} by
    display name:

    * measured: each alpha runs full batch from the origin for `epochs` epochs with the spec's
      hyperparameters, and its factor is fitted over its `fit_window` (`window_factors`);
    * same_epochs: the exact gap model's factor (`gdcore.limits.gap_path`) fitted over those same
      epochs: what theory says the dot should be (NaN where the run has no window);
    * predicted: the long-run factor `StepLimits.loss_rate(alpha)` = rho(alpha)^2, which the gap's
      factor tends to only once its slowest direction holds nearly all of it.
    """
    X, y = prepared.train.X, prepared.train.y
    rates = {}
    for spec in plan.specs:
        limits = optimizer_limits(prepared, spec)
        if limits.alpha_max is None:
            continue
        from_origin = RunSpec(optimizer=spec.optimizer, hyper=spec.hyper, epochs=epochs, w0=0.0, b0=0.0)
        measured, same_epochs = np.full(len(alphas), np.nan), np.full(len(alphas), np.nan)
        for k, alpha in enumerate(alphas):
            run_spec = from_origin.with_alpha(float(alpha))
            run = execute(X, y, run_spec, prepared.quadratic)
            _, measured[k], same = window_factors(prepared.quadratic, run, run_spec, predict=True)
            same_epochs[k] = np.nan if same is None else same
        predicted = np.array([limits.loss_rate(float(alpha)) for alpha in alphas])
        rates[OPTIMIZERS[spec.optimizer].display_name] = {
            "alpha": np.asarray(alphas, dtype=np.float64),
            "predicted": predicted,
            "same_epochs": same_epochs,
            "measured": measured,
        }
    return rates


def window_factors(
    quadratic: Quadratic, run: Trajectory, spec: RunSpec, predict: bool
) -> tuple[np.ndarray | None, float, float | None]:
    """(epochs, measured, predicted) of a run of `spec`: its `fit_window`, the `fitted_factor` of its gaps
    J_t - J* there (NaN without a window), and, with `predict` (full-batch constant-alpha runs only), the
    same fit over the same epochs of the exact gap path from the same start (`gdcore.limits.gap_path`;
    None without a window or for an optimizer it has no model of)."""
    loss_star = quadratic.loss_star
    epochs = fit_window(run, loss_star)
    if epochs is None:
        return None, float("nan"), None
    measured = fitted_factor(run.loss[epochs] - loss_star, epochs)
    if not predict:
        return epochs, measured, None
    theta0 = spec.start(run.n_features)
    gaps = gap_path(quadratic, theta0, spec.alpha, epochs, spec.optimizer, **dict(spec.hyper))
    return epochs, measured, None if gaps is None else fitted_factor(gaps, epochs)


@dataclass(frozen=True)
class GapFactors:
    """The per-epoch factor of a run's loss gap J_t - J*, measured and, where theory has it, predicted.

    `window` the epochs (first, last) the measurement is fitted over (`fit_window`; None when too few);
    `measured` the run's own factor there (NaN without a window); `predicted` the same fit over the same
    epochs of the exact gap path (`gdcore.limits.gap_path`, full-batch constant-alpha GD, momentum and
    Nesterov only, else None); `long_run` rate(alpha)^2, what the gap's factor tends to once the slowest
    direction dominates (None without theory); `slowest_from` (plain GD) the epoch from which the
    slowest directions hold SLOWEST_SHARE of the gap (None if unknown or not within FORECAST_HORIZON).
    """

    window: tuple[int, int] | None
    measured: float
    predicted: float | None
    long_run: float | None
    slowest_from: int | None


SLOWEST_SHARE = 0.99  # GapFactors.slowest_from: the share of the gap the slowest directions hold


def gap_factors(prepared: Prepared, run: Trajectory, outlook: Outlook) -> GapFactors:
    """`GapFactors` of `run` (a run of `outlook.spec` on the prepared training data)."""
    spec, quadratic = outlook.spec, prepared.quadratic
    epochs, measured, predicted = window_factors(quadratic, run, spec, outlook.has_theory)
    window = None if epochs is None else (int(epochs[0]), int(epochs[-1]))
    if not outlook.has_theory:
        return GapFactors(window, measured, None, None, None)
    theta0 = spec.start(prepared.train.n_features)
    slowest_from = None
    if spec.optimizer == "gd":
        slowest_from = slowest_dominates_from(
            quadratic, theta0, spec.alpha, share=SLOWEST_SHARE, max_epochs=FORECAST_HORIZON
        )
    return GapFactors(window, measured, predicted, outlook.loss_rate(), slowest_from)


MOMENTUM_MAP_SIZE = (60, 60)  # (alphas, betas): 3,600 cells, under the charts' 5,000-row bound


class PolyakPoint(NamedTuple):
    """Polyak's best heavy-ball pair for this data and its rate sqrt(beta*) = (sqrt(kappa)-1)/(sqrt(kappa)+1)."""

    alpha: float
    beta: float
    rate: float


def polyak_point(prepared: Prepared) -> PolyakPoint:
    """(alpha*, beta*) from `limits_for(..., "momentum").polyak`, with `StepLimits.rate` there."""
    alpha, beta = limits_for(prepared.quadratic, "momentum").polyak
    return PolyakPoint(alpha, beta, limits_for(prepared.quadratic, "momentum", beta=beta).rate(alpha))


@dataclass(frozen=True)
class MomentumMap:
    """Heavy-ball momentum's predicted per-epoch contraction of ||theta - theta*|| (full batch) over a
    grid of (alpha, beta) on this data: `rate[j, i] = limits_for(quadratic, "momentum",
    beta=betas[j]).rate(alphas[i])` (>= 1: diverges), and Polyak's best pair (alpha*, beta*) with its
    rate sqrt(beta*) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)."""

    alphas: np.ndarray
    betas: np.ndarray
    rate: np.ndarray  # (betas, alphas)
    polyak: PolyakPoint


def momentum_rate_map(prepared: Prepared, size: tuple[int, int] = MOMENTUM_MAP_SIZE) -> MomentumMap:
    """The "why momentum works" picture on this data: alpha from 0 to 4 / lambda_max (momentum's limit
    2(1 + beta) / lambda_max for every beta < 1 lies inside), beta from 0 to 0.99, or past Polyak's beta*
    when that is higher (ill-conditioned data)."""
    quadratic = prepared.quadratic
    n_alpha, n_beta = size
    polyak = polyak_point(prepared)
    alpha_top = 4.0 / float(np.max(quadratic.eigenvalues))
    beta_top = max(0.99, min(polyak.beta + 0.5 * (1.0 - polyak.beta), 0.999999))
    alphas = np.linspace(alpha_top / n_alpha, alpha_top, n_alpha)
    betas = np.linspace(0.0, beta_top, n_beta)
    rate = np.empty((n_beta, n_alpha))
    for j, beta in enumerate(betas):
        limits = limits_for(quadratic, "momentum", beta=float(beta))
        rate[j] = [limits.rate(float(alpha)) for alpha in alphas]
    return MomentumMap(alphas, betas, rate, polyak)

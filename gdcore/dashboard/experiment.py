"""One dashboard experiment end to end: data source -> (standardize, split) -> runs -> summaries.

The dashboard calls these functions (cached) and only lays out what they return, so everything it
shows can be reproduced from a notebook with the same calls. Runs are `gdcore.RunSpec`s, passed whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gdcore.csv_input import read_csv
from gdcore.data import Dataset, SyntheticSpec
from gdcore.datasets import load_dataset, train_test_split
from gdcore.landscape import LossGrid, loss_grid, window
from gdcore.model import Quadratic
from gdcore.optimizers import OPTIMIZERS
from gdcore.scaling import Scaler, standardize
from gdcore.spec import RunSpec
from gdcore.stepping import execute, step_path
from gdcore.sweep import SweepResult, alpha_grid, measured_contraction, sweep
from gdcore.theory import Fit, Theory, analyze_quadratic, least_squares
from gdcore.trajectory import QUIET, Trajectory


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


@dataclass(frozen=True)
class CsvSelection:
    """An uploaded CSV file, named by its SHA-256 digest, and the columns chosen from it."""

    digest: str
    target: str
    features: tuple[str, ...]
    drop_nonfinite: bool = False


DataSource = SyntheticSpec | str | CsvSelection  # make_regression data, a named data set, or a CSV file


def load_source(source: DataSource, csv_bytes: bytes | None = None) -> Dataset:
    """The data set a source names: synthetic data, a bundled data set by name, or the uploaded CSV."""
    if isinstance(source, SyntheticSpec):
        return source.make()
    if isinstance(source, CsvSelection):
        return read_csv(
            csv_bytes,
            target=source.target,
            features=list(source.features),
            drop_nonfinite=source.drop_nonfinite,
        )
    return load_dataset(source)


def prepare(dataset: Dataset, *, standardized: bool, test_fraction: float, split_seed: int) -> Prepared:
    """Split (seeded), then standardize with the training rows' statistics, then the theory."""
    train, test = train_test_split(dataset, test_fraction, split_seed)
    raw_quadratic = Quadratic.from_data(train.X, train.y)
    scaler = None
    if standardized:
        train, scaler = standardize(train)
        if test.n_samples:
            test, _ = standardize(test, scaler)
    quadratic = Quadratic.from_data(train.X, train.y) if standardized else raw_quadratic
    test_quadratic = Quadratic.from_data(test.X, test.y) if test.n_samples >= 2 else None
    theory = analyze_quadratic(quadratic)
    return Prepared(
        source=dataset,
        train=train,
        test=test if test.n_samples else None,
        scaler=scaler,
        quadratic=quadratic,
        test_quadratic=test_quadratic,
        fit=least_squares(train.X, train.y),
        theory=theory,
        raw_condition_number=(analyze_quadratic(raw_quadratic) if standardized else theory).condition_number,
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


def run_optimizers(prepared: Prepared, plan: RunPlan) -> dict[str, Trajectory]:
    """One run per planned spec on the same (validated) data; keyed by the optimizer's display name."""
    X, y = prepared.train.X, prepared.train.y
    return {
        OPTIMIZERS[spec.optimizer].display_name: execute(
            X, y, spec, prepared.quadratic, record_steps=not spec.is_full_batch(X.shape[0])
        )
        for spec in plan.specs
    }


def test_losses(prepared: Prepared, runs: Mapping[str, Trajectory]) -> dict[str, np.ndarray]:
    """J_test(theta_t) for every epoch of every run (empty without a test set): O(K d^2) each."""
    if prepared.test_quadratic is None:
        return {}
    return {
        name: prepared.test_quadratic.loss(np.column_stack([run.weights, run.bias]))
        for name, run in runs.items()
    }


def race_summary(runs: Mapping[str, Trajectory], optimum_loss: float) -> str:
    """Which run reached the optimum first (in epochs), for the headline when several are compared."""
    reached = {name: run.epoch_reaching(optimum_loss) for name, run in runs.items()}
    finishers = sorted((epoch, name) for name, epoch in reached.items() if epoch is not None)
    if not finishers:
        return "None of the runs reached the optimum (99.9% of the starting gap) within the epochs."
    epoch, winner = finishers[0]
    others = ", ".join(
        f"{name}: {'epoch ' + format(e, ',') if e is not None else 'not within the epochs'}"
        for name, e in reached.items()
        if name != winner
    )
    return f"**{winner}** reached the optimum first, at epoch {epoch:,}" + (
        f" ({others})." if others else "."
    )


def weights_in_units(prepared: Prepared, run: Trajectory) -> dict[str, list[float]]:
    """The best epoch's weights and bias beside the least-squares optimum (w*, b*), as fitted, and both
    again in the original units when the features were standardized."""
    pairs = {
        "best epoch": (run.best_weights, run.best_bias),
        "least squares (w*, b*)": (prepared.fit.weights, prepared.fit.bias),
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
class LandscapeView:
    """What the landscape chart draws: J over parameters i and j (the others at their optimum), each
    run's path over them, and the optimum's (theta_i, theta_j)."""

    grid: LossGrid
    paths: dict[str, np.ndarray]
    optimum: np.ndarray


def landscape_view(prepared: Prepared, runs: Mapping[str, Trajectory], i: int, j: int) -> LandscapeView:
    """The window is centred on the optimum and at most 4x the start's distance from it on each side,
    so one diverging step does not flatten the picture."""
    quadratic = prepared.quadratic
    paths = landscape_paths(prepared, runs, i, j)
    optimum = quadratic.theta_star[[i, j]]
    start = next(iter(paths.values()))[0, 1:3]
    span = 4.0 * max(float(np.abs(start - optimum).max()), 1e-6 + 1e-3 * float(np.abs(optimum).max()))
    points = np.vstack([optimum, *(p[:, 1:3] for p in paths.values())])
    grid = loss_grid(quadratic, window(points, max_span=span), i, j)
    return LandscapeView(grid, paths, optimum)


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


def contraction_by_alpha(prepared: Prepared, alphas: np.ndarray, epochs: int = 200) -> dict[str, np.ndarray]:
    """Plain GD's per-epoch loss-gap ratio: theory rate(alpha)^2 against the measured one.

    The measured value is the median of (J_{t+1} - J*) / (J_t - J*) over the later half of the epochs
    of a run from the origin where that ratio is measurable (the gap above round-off, the run finite).
    """
    X, y = prepared.train.X, prepared.train.y
    predicted = np.array([prepared.theory.loss_rate(a) for a in alphas])
    measured = np.full(alphas.shape, np.nan)
    from_origin = RunSpec(epochs=epochs, w0=0.0, b0=0.0)
    for k, alpha in enumerate(alphas):
        run = execute(X, y, from_origin.with_alpha(float(alpha)), prepared.quadratic)
        ratios = measured_contraction(run, prepared.quadratic)
        ratios = ratios[np.isfinite(ratios)]
        ratios = ratios[ratios.size // 2 :]
        if ratios.size:
            measured[k] = float(np.median(ratios))
    return {"alpha": alphas, "predicted": predicted, "measured": measured}

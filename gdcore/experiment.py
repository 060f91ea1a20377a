"""One dashboard experiment end to end: data source -> (standardize, split) -> runs -> summaries.

The dashboard calls these functions (cached) and only lays out what they return, so everything it
shows can be reproduced from a notebook with the same calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gdcore.data import Dataset, make_data
from gdcore.datasets import train_test_split
from gdcore.engine import descend
from gdcore.explain import CLOSED_ENOUGH
from gdcore.model import Quadratic
from gdcore.optimizers import OPTIMIZERS
from gdcore.scaling import Scaler, standardize
from gdcore.stepping import step_path
from gdcore.sweep import SweepResult, alpha_grid, measured_contraction, sweep
from gdcore.theory import Fit, Theory, analyze_quadratic, least_squares
from gdcore.trajectory import Trajectory


@dataclass(frozen=True)
class Prepared:
    """The data as the runs see it, and what theory says about it.

    `train` is what gradient descent fits (standardized if asked); `test` the held-out rows (None with
    test_fraction 0); `raw_condition_number` the Hessian's condition number before standardizing.
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


def synthetic(n_samples: int, n_features: int, noise: float, seed: int, intercept: float) -> Dataset:
    """The blog's make_regression data (with an intercept so that b has something to find)."""
    return make_data(n_samples=n_samples, n_features=n_features, noise=noise, seed=seed, bias=intercept)


def prepare(dataset: Dataset, *, standardized: bool, test_fraction: float, split_seed: int) -> Prepared:
    """Split (seeded), then standardize with the training rows' statistics, then the theory."""
    raw_condition = analyze_quadratic(Quadratic.from_data(dataset.X, dataset.y)).condition_number
    train, test = train_test_split(dataset, test_fraction, split_seed)
    scaler = None
    if standardized:
        train, scaler = standardize(train)
        if test.n_samples:
            test, _ = standardize(test, scaler)
    quadratic = Quadratic.from_data(train.X, train.y)
    test_quadratic = Quadratic.from_data(test.X, test.y) if test.n_samples >= 2 else None
    return Prepared(
        source=dataset,
        train=train,
        test=test if test.n_samples else None,
        scaler=scaler,
        quadratic=quadratic,
        test_quadratic=test_quadratic,
        fit=least_squares(train.X, train.y),
        theory=analyze_quadratic(quadratic),
        raw_condition_number=raw_condition,
    )


@dataclass(frozen=True)
class RunPlan:
    """What to run on the prepared data: the optimizers to compare and the settings they share.

    Hashable, so the dashboard caches runs by it. `hyper` holds the changed hyperparameters as
    ("<optimizer>_<name>", value) pairs, e.g. ("momentum_beta", 0.8).
    """

    optimizers: tuple[str, ...] = ("gd",)
    alpha: float = 0.01
    epochs: int = 100
    w0: float = 1.0
    b0: float = 0.0
    tol: float | None = None
    batch_size: int | None = None
    shuffle_seed: int = 0
    hyper: tuple[tuple[str, float], ...] = ()

    def hyperparameters(self, optimizer: str) -> dict[str, float]:
        """This optimizer's changed hyperparameters, {name: value}."""
        prefix = f"{optimizer}_"
        return {key.removeprefix(prefix): value for key, value in self.hyper if key.startswith(prefix)}

    def descend_kwargs(self, optimizer: str) -> dict[str, object]:
        """`descend`'s arguments for one optimizer, all but the data and alpha."""
        return {
            "optimizer": optimizer,
            "epochs": self.epochs,
            "w0": self.w0,
            "b0": self.b0,
            "tol": self.tol,
            "batch_size": self.batch_size,
            "shuffle_seed": self.shuffle_seed,
            **self.hyperparameters(optimizer),
        }

    def check(self) -> None:
        if not self.optimizers:
            raise ValueError("choose at least one optimizer; the choices are " + ", ".join(OPTIMIZERS))
        for name in self.optimizers:
            if name not in OPTIMIZERS:
                raise ValueError(f"unknown optimizer {name!r}; the choices are {', '.join(OPTIMIZERS)}")


def run_optimizers(prepared: Prepared, plan: RunPlan) -> dict[str, Trajectory]:
    """One `descend` per planned optimizer on the same data and start; keyed by display name."""
    plan.check()
    X, y = prepared.train.X, prepared.train.y
    return {
        OPTIMIZERS[name].display_name: descend(
            X,
            y,
            alpha=plan.alpha,
            record_steps=plan.batch_size is not None,
            quadratic=prepared.quadratic,
            **plan.descend_kwargs(name),
        )
        for name in plan.optimizers
    }


def test_losses(prepared: Prepared, runs: Mapping[str, Trajectory]) -> dict[str, np.ndarray]:
    """J_test(theta_t) for every epoch of every run (empty without a test set): O(K d^2) each."""
    if prepared.test_quadratic is None:
        return {}
    return {
        name: prepared.test_quadratic.loss(np.column_stack([run.weights, run.bias]))
        for name, run in runs.items()
    }


def epoch_reaching_optimum(run: Trajectory, optimum_loss: float) -> int | None:
    """First epoch t with J_0 - J_t >= 99.9% of J_0 - J*, or None if the run never gets there."""
    start_gap = run.loss[0] - optimum_loss
    if start_gap <= 0:
        return 0
    hits = np.flatnonzero(run.loss[0] - run.loss >= CLOSED_ENOUGH * start_gap)
    return int(hits[0]) if hits.size else None


def race_summary(runs: Mapping[str, Trajectory], optimum_loss: float) -> str:
    """Which run reached the optimum first (in epochs), for the headline when several are compared."""
    reached = {name: epoch_reaching_optimum(run, optimum_loss) for name, run in runs.items()}
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
    """The best epoch's weights and bias as fitted, and in the original units when standardized."""
    weights, bias = run.best_weights, run.best_bias
    table = {"fitted": [*weights.tolist(), bias]}
    if prepared.scaler is not None:
        w_orig, b_orig = prepared.scaler.to_original(weights, bias)
        table["original units"] = [*np.asarray(w_orig).tolist(), float(b_orig)]
    return table


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
        with np.errstate(over="ignore", invalid="ignore"):
            loss = prepared.quadratic.loss(theta)
        paths[name] = np.column_stack([epoch, theta[:, i], theta[:, j], loss])
    return paths


def sweep_runs(prepared: Prepared, plan: RunPlan, points: int = 60) -> dict[str, SweepResult]:
    """A learning-rate sweep per planned optimizer on a log grid from 1e-4 to 2 alpha_max (>= 50 values);
    the plan's alpha is the one thing not used."""
    plan.check()
    alphas = alpha_grid(prepared.theory, n=points)
    return {
        OPTIMIZERS[name].display_name: sweep(
            prepared.train.X,
            prepared.train.y,
            alphas,
            quadratic=prepared.quadratic,
            **plan.descend_kwargs(name),
        )
        for name in plan.optimizers
    }


def contraction_by_alpha(prepared: Prepared, alphas: np.ndarray, epochs: int = 200) -> dict[str, np.ndarray]:
    """Plain GD's per-epoch loss-gap ratio: theory rate(alpha)^2 against the measured one.

    The measured value is the median of (J_{t+1} - J*) / (J_t - J*) over the later half of the epochs
    of a run from the origin where that ratio is measurable (the gap above round-off, the run finite).
    """
    predicted = np.array([prepared.theory.loss_rate(a) for a in alphas])
    measured = np.full(alphas.shape, np.nan)
    for k, alpha in enumerate(alphas):
        run = descend(
            prepared.train.X,
            prepared.train.y,
            alpha=alpha,
            epochs=epochs,
            w0=0.0,
            b0=0.0,
            quadratic=prepared.quadratic,
        )
        ratios = measured_contraction(run, prepared.quadratic)
        ratios = ratios[np.isfinite(ratios)]
        ratios = ratios[ratios.size // 2 :]
        if ratios.size:
            measured[k] = float(np.median(ratios))
    return {"alpha": alphas, "predicted": predicted, "measured": measured}

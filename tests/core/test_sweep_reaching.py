"""The sweep's "epoch it reached the optimum" is the runs' own, by the one shared definition."""

from __future__ import annotations

import numpy as np
import pytest

import gdcore


@pytest.mark.parametrize(("optimizer", "hyper"), [("gd", {}), ("momentum", {"beta": 0.5}), ("adam", {})])
def test_epochs_to_optimum_equal_each_runs_epoch_reaching(optimizer, hyper):
    data = gdcore.make_data(n_samples=60, n_features=2, seed=3)
    theory = gdcore.analyze(data.X, data.y)
    alphas = gdcore.alpha_grid(theory, n=12)
    result = gdcore.sweep(data.X, data.y, alphas, optimizer=optimizer, epochs=400, **hyper)
    optimum = gdcore.least_squares(data.X, data.y).loss
    for alpha, swept in zip(alphas, result.epochs_to_optimum, strict=True):
        run = gdcore.descend(data.X, data.y, alpha=float(alpha), epochs=400, optimizer=optimizer, **hyper)
        own = run.epoch_reaching(optimum)
        if own is None:
            assert np.isnan(swept), (alpha, swept)
        else:  # GD's column is the exact forecast: the run's own epoch within one
            assert abs(swept - own) <= (1 if optimizer == "gd" else 0), (alpha, swept, own)
    assert np.isfinite(result.epochs_to_optimum).any() and np.isnan(result.epochs_to_optimum).any()


@pytest.mark.parametrize(("seed", "n_features", "standardize"), [(0, 1, False), (5, 3, False), (8, 4, True)])
def test_gd_sweep_reaching_matches_every_runs_own_epoch(seed, n_features, standardize):
    """Plain GD's column is read off the closed form's losses for all alphas at once (bisection for the
    stable runs, every epoch for the unstable ones): each equals the run's own `epoch_reaching`, within
    one epoch of rounding, over a grid that crosses alpha_max (runs that reach, never reach, overshoot)."""
    data = gdcore.make_data(n_samples=80, n_features=n_features, seed=seed)
    X = (data.X - data.X.mean(axis=0)) / data.X.std(axis=0) if standardize else data.X
    alphas = gdcore.alpha_grid(gdcore.analyze(X, data.y), n=30)
    result = gdcore.sweep(X, data.y, alphas, epochs=300, w0=0.0)
    optimum = gdcore.least_squares(X, data.y).loss
    for alpha, swept in zip(alphas, result.epochs_to_optimum, strict=True):
        own = gdcore.descend(X, data.y, alpha=float(alpha), epochs=300, w0=0.0).epoch_reaching(optimum)
        if own is None:
            assert np.isnan(swept), (alpha, swept)
        else:
            assert abs(swept - own) <= 1, (alpha, swept, own)
    assert np.isfinite(result.epochs_to_optimum).any()


def test_gd_sweep_reaching_of_runs_that_reach_the_optimum_and_then_diverge():
    """Just above alpha_max, a start with almost no error along the steep direction closes 99.9% of the
    gap along the slow one before the steep error has grown: the run reaches the optimum, then diverges.
    The sweep's column (read epoch by epoch for unstable runs) gives the run's own epoch there too."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(0, 10, 200), rng.normal(0, 1, 200)]
    X -= X.mean(axis=0)
    X[:, 1] -= X[:, 0] * (X[:, 0] @ X[:, 1]) / (X[:, 0] @ X[:, 0])  # the eigen-directions are the axes
    y = X @ [3.0, 2.0] + rng.normal(0, 1, 200)
    fit = gdcore.least_squares(X, y)
    A = np.c_[X, np.ones(200)]
    alpha_max = 2 / np.linalg.eigvalsh(2 * A.T @ A / 200).max()
    alphas = alpha_max * np.array([0.5, 0.9, 1.001, 1.003, 1.01, 1.1])
    start = {"w0": (float(fit.weights[0]) + 1e-3, float(fit.weights[1]) + 5.0), "b0": float(fit.bias)}
    result = gdcore.sweep(X, y, alphas, epochs=400, **start)
    own = [gdcore.descend(X, y, alpha=float(a), epochs=400, **start).epoch_reaching(fit.loss) for a in alphas]
    reached_then_diverged = [i for i, epoch in enumerate(own) if epoch is not None and result.diverged[i]]
    assert reached_then_diverged, own  # the case this test is about happens
    for swept, epoch in zip(result.epochs_to_optimum, own, strict=True):
        assert (np.isnan(swept) and epoch is None) or abs(swept - epoch) <= 1, (swept, epoch)

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

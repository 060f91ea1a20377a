"""An absurd step (alpha = 1e308) is a diverging run, said plainly: no warning, no false forecast."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdcore


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov"])
def test_absurd_alpha_has_an_infinite_rate_and_no_forecast(optimizer):
    data = gdcore.make_data()
    limits = gdcore.step_limits(data.X, data.y, optimizer)
    assert math.isinf(limits.rate(1e308)) and math.isinf(limits.loss_rate(1e308))
    quadratic = gdcore.Quadratic.from_data(data.X, data.y)
    assert gdcore.forecast_epoch(quadratic, np.array([1.0, 0.0]), 1e308, optimizer) is None
    run = gdcore.descend(data.X, data.y, alpha=1e308, epochs=3, optimizer=optimizer)
    assert run.diverged

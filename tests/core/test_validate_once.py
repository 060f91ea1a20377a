"""Validate once, copy nothing (issue 9, section 4): the data is checked at the public entry point and
not again by the calls nested under it, and a mini-batch run allocates far less than a copy of the data
(tracemalloc sees numpy's allocations; this is a measure of memory, not of time)."""

from __future__ import annotations

import importlib
import tracemalloc

import numpy as np
import pytest

import gdcore
from gdcore import engine, model, theory
from gdcore.validation import as_regression_arrays

sweep = importlib.import_module("gdcore.sweep")  # the module (gdcore.sweep is also the function's name)


@pytest.fixture
def checks(monkeypatch):
    """Count the calls of `as_regression_arrays`, wherever the core calls it."""
    calls = []

    def counting(X, y):
        calls.append(np.shape(X))
        return as_regression_arrays(X, y)

    for module in (engine, model, sweep, theory):
        monkeypatch.setattr(module, "as_regression_arrays", counting)
    return calls


@pytest.fixture(scope="module")
def data():
    return gdcore.make_data(n_samples=300, n_features=3, seed=5)


@pytest.mark.parametrize(
    "entry",
    [
        lambda X, y: gdcore.descend(X, y, epochs=50),
        lambda X, y: gdcore.descend(X, y, optimizer="adam", epochs=50, batch_size=16),
        lambda X, y: gdcore.sweep(X, y, np.geomspace(1e-4, 0.1, 60), epochs=20),
        lambda X, y: gdcore.sweep(X, y, np.geomspace(1e-4, 0.1, 60), optimizer="momentum", epochs=20),
        lambda X, y: gdcore.sweep(X, y, [1e-3, 1e-2], optimizer="rmsprop", epochs=5, batch_size=50),
        lambda X, y: gdcore.analyze(X, y),
        lambda X, y: gdcore.least_squares(X, y),
        lambda X, y: gdcore.Quadratic.from_data(X, y),
    ],
)
def test_each_public_call_checks_the_data_once(checks, data, entry):
    entry(data.X, data.y)
    assert len(checks) == 1


def test_internal_callers_with_checked_data_skip_the_check(checks, data):
    """What the dashboard does with its prepared data: statistics, runs and sweeps without a check."""
    X, y = as_regression_arrays(data.X, data.y)
    quadratic = gdcore.Quadratic.from_checked(X, y)
    gdcore.analyze_quadratic(quadratic)
    from_origin = gdcore.RunSpec(epochs=30, w0=0.0, b0=0.0)
    for alpha in np.geomspace(1e-4, 0.1, 20):
        gdcore.measured_contraction(
            gdcore.stepping.execute(X, y, from_origin.with_alpha(alpha), quadratic), quadratic
        )
    result = sweep.sweep_checked(X, y, np.geomspace(1e-4, 0.1, 20), gdcore.RunSpec(epochs=30), quadratic)
    assert checks == []
    expected = gdcore.sweep(X, y, np.geomspace(1e-4, 0.1, 20), gdcore.RunSpec(epochs=30))
    np.testing.assert_array_equal(result.final_loss, expected.final_loss)
    np.testing.assert_array_equal(result.diverged, expected.diverged)


def test_sweep_checked_refuses_a_bad_spec_or_step(data):
    X, y = as_regression_arrays(data.X, data.y)
    quadratic = gdcore.Quadratic.from_checked(X, y)
    with pytest.raises(ValueError, match="RunSpec"):
        sweep.sweep_checked(X, y, [0.1], {"epochs": 3}, quadratic)
    with pytest.raises(ValueError, match="alpha"):
        sweep.sweep_checked(X, y, [0.1, -1.0], gdcore.RunSpec(), quadratic)


def peak_allocation(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["gd", "adam"])
def test_a_minibatch_run_allocates_well_under_a_copy_of_the_data(name):
    """Four times the rows: the run's peak allocation grows by less than half of the data's growth. The
    run needs a few vectors of N (the shuffled order, the start's residual) and buffers bounded by
    GROUP_FLOATS whatever N; a copy such as [X, 1] would grow with the data, (d + 1)/d times as fast."""
    rng = np.random.default_rng(0)
    peaks, sizes = [], []
    for n in (100_000, 400_000):
        X, y = rng.normal(size=(n, 10)), rng.normal(size=n)
        peaks.append(
            peak_allocation(lambda X=X, y=y: gdcore.descend(X, y, optimizer=name, epochs=2, batch_size=32))
        )
        sizes.append(X.nbytes + y.nbytes)
    assert peaks[1] - peaks[0] < 0.5 * (sizes[1] - sizes[0])

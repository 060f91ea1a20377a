"""Learning-rate sweeps (vectorised plain GD, looped other optimizers) against one `descend` per alpha,
the GD stability cliff at alpha_max, the grid, and the measured contraction against rate(alpha)^2."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BLOG_ALPHA_MAX, problems
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
from gdcore.sweep import MAX_ALPHAS


def expected_columns(X, y, alphas, tol, **kwargs):
    """One `descend` per alpha: final loss, diverged, epochs run (tol=None) and epochs to tol."""
    final, diverged, run, to_tol = [], [], [], []
    for alpha in alphas:
        plain = gdcore.descend(X, y, alpha=alpha, **kwargs)
        final.append(plain.loss[-1])
        diverged.append(plain.diverged)
        run.append(plain.epochs_run)
        stopped = gdcore.descend(X, y, alpha=alpha, tol=tol, **kwargs) if tol else None
        to_tol.append(stopped.epochs_run if stopped and stopped.stop_reason == "converged" else np.nan)
    return np.array(final), np.array(diverged), np.array(run), np.array(to_tol, dtype=float)


def assert_sweep_matches(result, expected, rel=1e-12):
    final, diverged, run, to_tol = expected
    np.testing.assert_allclose(result.final_loss, final, rtol=rel)
    np.testing.assert_array_equal(result.diverged, diverged)
    np.testing.assert_array_equal(result.epochs_run, run)
    np.testing.assert_array_equal(result.epochs_to_tol, to_tol)


@pytest.fixture(scope="module")
def blog():
    return gdcore.make_data()


@pytest.mark.parametrize("tol", [None, 1e-6])
@pytest.mark.parametrize("epochs", [0, 1, 100, 3000])
def test_gd_sweep_equals_one_descend_per_alpha(blog, tol, epochs):
    alphas = gdcore.alpha_grid(gdcore.analyze(blog.X, blog.y), n=50)
    result = gdcore.sweep(blog.X, blog.y, alphas, epochs=epochs, tol=tol)
    assert result.optimizer == "gd"
    np.testing.assert_array_equal(result.alphas, alphas)
    assert_sweep_matches(result, expected_columns(blog.X, blog.y, alphas, tol, epochs=epochs))


@settings(max_examples=20, deadline=None)
@given(
    problem=problems(max_features=4),
    epochs=st.integers(1, 400),
    tol=st.sampled_from([None, 1e-3, 1e-8]),
    w0=st.floats(-20, 20),
)
def test_gd_sweep_equals_descend_on_random_data(problem, epochs, tol, w0):
    theory = gdcore.analyze(problem.X, problem.y)
    alphas = gdcore.alpha_grid(theory, n=12)
    result = gdcore.sweep(problem.X, problem.y, alphas, epochs=epochs, tol=tol, w0=w0)
    expected = expected_columns(problem.X, problem.y, alphas, tol, epochs=epochs, w0=w0)
    assert_sweep_matches(result, expected, rel=1e-10)


@pytest.mark.parametrize(
    ("optimizer", "kwargs"),
    [
        ("momentum", {"beta": 0.8}),
        ("adam", {}),
        ("gd", {"batch_size": 10, "shuffle_seed": 3}),
        ("rmsprop", {"batch_size": 32}),
    ],
)
def test_looped_sweep_equals_one_descend_per_alpha(blog, optimizer, kwargs):
    alphas = [1e-3, 0.05, 0.5, 3.0]
    result = gdcore.sweep(blog.X, blog.y, alphas, optimizer=optimizer, epochs=60, tol=1e-5, **kwargs)
    expected = expected_columns(blog.X, blog.y, alphas, 1e-5, optimizer=optimizer, epochs=60, **kwargs)
    assert_sweep_matches(result, expected, rel=0.0)
    assert result.spec.optimizer == optimizer


def test_gd_cliff_is_just_above_alpha_max(blog):
    theory = gdcore.analyze(blog.X, blog.y)
    assert theory.alpha_max == pytest.approx(BLOG_ALPHA_MAX, abs=5e-4)
    alphas = gdcore.alpha_grid(theory, n=60)
    result = gdcore.sweep(blog.X, blog.y, alphas, epochs=100)
    below, above = alphas < theory.alpha_max, alphas >= 1.05 * theory.alpha_max
    assert not result.diverged[below].any() and result.diverged[above].all()
    assert np.isfinite(result.final_loss).all()
    assert result.final_loss[above].min() > 100 * result.final_loss[below].max()  # the cliff, in the data
    edge = gdcore.sweep(blog.X, blog.y, [0.99 * theory.alpha_max, 1.01 * theory.alpha_max], epochs=3000)
    np.testing.assert_array_equal(edge.diverged, [False, True])


def test_epochs_to_tol_falls_then_rises_with_alpha(blog):
    """Fastest near alpha_opt, NaN for tiny steps (not converged in time) and past the cliff."""
    theory = gdcore.analyze(blog.X, blog.y)
    alphas = gdcore.alpha_grid(theory, n=60)
    result = gdcore.sweep(blog.X, blog.y, alphas, epochs=100, tol=1e-6)
    assert np.isnan(result.epochs_to_tol[0]) and np.isnan(result.epochs_to_tol[-1])
    fastest = alphas[np.nanargmin(result.epochs_to_tol)]
    assert 0.5 * theory.alpha_opt < fastest < theory.alpha_max


def test_without_tol_epochs_to_tol_is_nan(blog):
    result = gdcore.sweep(blog.X, blog.y, [0.1, 0.5])
    assert np.isnan(result.epochs_to_tol).all()


def test_alpha_grid(blog):
    theory = gdcore.analyze(blog.X, blog.y)
    grid = gdcore.alpha_grid(theory)
    assert grid.shape == (60,)
    assert grid[0] == pytest.approx(1e-4) and grid[-1] == pytest.approx(2 * theory.alpha_max)
    np.testing.assert_allclose(np.diff(np.log(grid)), np.log(grid[1] / grid[0]))
    assert gdcore.alpha_grid(theory, n=50).shape == (50,)


def test_alpha_grid_for_a_tiny_alpha_max():
    X = np.arange(10.0) * 1e4
    theory = gdcore.analyze(X, X)
    grid = gdcore.alpha_grid(theory)
    assert grid[-1] == pytest.approx(2 * theory.alpha_max) and grid[0] < grid[-1]


@pytest.mark.parametrize(("n", "message"), [(1, "got 1"), (10**6, "got 1,000,000"), (2.5, "got 2.5")])
def test_alpha_grid_rejects_a_bad_size(blog, n, message):
    with pytest.raises(ValueError, match=f"n must be an integer from 2 to {MAX_ALPHAS:,}; {message}"):
        gdcore.alpha_grid(gdcore.analyze(blog.X, blog.y), n=n)


@pytest.mark.parametrize(
    ("alphas", "kwargs", "message"),
    [
        ([0.1, -1.0], {}, r"alpha must be a finite number > 0; got -1.0"),
        ([0.1, float("nan")], {}, r"alpha must be a finite number > 0; got nan"),
        ([], {}, "alphas must be a list of 1 to 1000 step sizes"),
        ([[0.1, 0.2]], {}, "alphas must be a list"),
        ([0.1], {"epochs": -1}, "epochs must be an integer from 0 to 1,000,000; got -1"),
        ([0.1], {"tol": 2.0}, "tol must be"),
        ([0.1], {"optimizer": "sgd"}, "optimizer must be one of"),
        ([0.1], {"optimizer": "momentum", "beta": 2.0}, r"beta \(momentum\) must be"),
        ([0.1], {"beta": 0.5}, "unknown hyperparameter"),
        ([0.1], {"w0": float("inf")}, "w0 must be"),
        ([0.1], {"batch_size": 0}, "batch_size must be"),
    ],
)
def test_sweep_validation(blog, alphas, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gdcore.sweep(blog.X, blog.y, alphas, **kwargs)


def test_sweep_of_a_diverging_gd_keeps_the_last_finite_loss(blog):
    result = gdcore.sweep(blog.X, blog.y, [1e3, 1e6], epochs=10_000)
    for i, alpha in enumerate([1e3, 1e6]):
        run = gdcore.descend(blog.X, blog.y, alpha=alpha, epochs=10_000)
        assert result.diverged[i] and result.epochs_run[i] == run.epochs_run < 10_000
        assert result.final_loss[i] == pytest.approx(run.loss[-1], rel=1e-12)


# --- the measured convergence rate --------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.8])
def test_measured_contraction_tends_to_rate_squared(blog, fraction):
    theory = gdcore.analyze(blog.X, blog.y)
    alpha = fraction * theory.alpha_max
    run = gdcore.descend(blog.X, blog.y, alpha=alpha, epochs=60)
    ratio = gdcore.measured_contraction(run, gdcore.least_squares(blog.X, blog.y))
    assert ratio.shape == (60,)
    settled = ratio[np.isfinite(ratio)][-1]
    assert settled == pytest.approx(theory.loss_rate(alpha), rel=1e-4)
    assert (ratio[np.isfinite(ratio)] <= theory.loss_rate(alpha) * (1 + 1e-6)).all()


def test_measured_contraction_accepts_j_star_or_a_quadratic(blog):
    run = gdcore.descend(blog.X, blog.y, alpha=0.2, epochs=20)
    quadratic = gdcore.Quadratic.from_data(blog.X, blog.y)
    by_quadratic = gdcore.measured_contraction(run, quadratic)
    np.testing.assert_array_equal(by_quadratic, gdcore.measured_contraction(run, quadratic.loss_star))


def test_measured_contraction_is_nan_at_rounding_level(blog):
    """At alpha_opt on one feature the gap falls to round-off within a few dozen epochs: NaN from there."""
    theory = gdcore.analyze(blog.X, blog.y)
    run = gdcore.descend(blog.X, blog.y, alpha=theory.alpha_opt, epochs=200)
    ratio = gdcore.measured_contraction(run, gdcore.least_squares(blog.X, blog.y))
    assert np.isnan(ratio[-1]) and np.isfinite(ratio[0])

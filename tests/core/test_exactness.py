"""Numbers that stay exact at the edges (issue 9, section 3), each against an independent reference:
the data's own mean((y - Xw - b)^2), literal loops written here, numpy's lstsq and matrix_rank.

* every reported loss is the data loss of the parameters reported with it, never negative;
* the closed forms agree with the literal loop at tiny alpha lambda and at any data scale;
* `least_squares` with an affine copy of a column: numpy's rank, lstsq's loss, the minimum-norm (w, b);
* no RuntimeWarning at absurd settings; complex data is refused by name; a foreign `quadratic` too.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import design_matrix, lstsq_optimum, problems
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore

NAMES = tuple(gdcore.OPTIMIZERS)
LINEAR = ("gd", "momentum", "nesterov")
FAST = settings(max_examples=40, deadline=None)


def data_loss(X, y, weights, bias) -> np.ndarray:
    """mean((y - X w - b)^2) for every row of (weights (K, d), bias (K,)), straight from the data."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run's last losses may overflow here
        residual = y[None, :] - (weights @ X.T + bias[:, None])
        return np.mean(residual * residual, axis=1)


def assert_losses_are_data_losses(run, X, y) -> None:
    """Each reported loss equals the data loss of its own parameters within 1e-9 relative or
    1e-12 J_0 absolute, and none is negative."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    direct = data_loss(X, y, run.weights, run.bias)
    assert (run.loss >= 0).all() and np.isfinite(run.loss).all()
    floor = 1e-12 * direct[0]
    comparable = np.isfinite(direct)
    np.testing.assert_allclose(run.loss[comparable], direct[comparable], rtol=1e-9, atol=floor)


def exact_fit(seed: int, n: int = 40, d: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """y = X w + b exactly (no noise): the minimum loss is 0."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-1, 1, size=d) + rng.uniform(-3, 3, size=d)
    w, b = rng.uniform(-5, 5, size=d), float(rng.uniform(-5, 5))
    return X, X @ w + b, w, b


def step_for(name: str, X, y, fraction: float) -> float:
    """A fraction of the optimizer's own step limit (linear ones), a parameter-sized step otherwise."""
    limit = gdcore.step_limits(X, y, name).alpha_max
    return fraction * limit if limit is not None else fraction * 0.5


# --- (a) every reported loss is the data loss of its parameters ----------------------------------------


@FAST
@given(
    problem=problems(max_rows=50),
    name=st.sampled_from(NAMES),
    fraction=st.sampled_from([1e-3, 0.3, 0.9, 0.999, 1.3]),
    batch=st.sampled_from([None, 7]),
    epochs=st.integers(0, 300),
)
def test_every_reported_loss_is_the_data_loss_of_its_parameters(problem, name, fraction, batch, epochs):
    alpha = step_for(name, problem.X, problem.y, fraction)
    run = gdcore.descend(problem.X, problem.y, optimizer=name, alpha=alpha, epochs=epochs, batch_size=batch)
    assert_losses_are_data_losses(run, problem.X, problem.y)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch", [None, 5])
def test_exact_fit_data_never_reports_a_negative_or_wrong_loss(name, batch):
    """Exact-fit data (J* = 0), runs long enough to reach round-off: every loss is the data loss of its
    parameters (found: Adam and RMSProp reported a negative MSE with fewer rows than parameters)."""
    for seed in range(40):
        rows = 2 + seed % 5 if seed % 2 else 3 + seed % 37  # half of them with rows <= parameters
        X, y, w, b = exact_fit(seed, n=rows, d=1 + seed % 4)
        rng = np.random.default_rng(100 + seed)
        w0 = w + rng.normal(size=w.shape) * 10.0 ** rng.uniform(-3, 1)
        limits = gdcore.step_limits(X, y, name)
        alpha = limits.alpha_opt if limits.alpha_opt and batch is None else step_for(name, X, y, 0.05)
        run = gdcore.descend(
            X, y, optimizer=name, alpha=alpha, epochs=1500, w0=w0, b0=b + 1.0, batch_size=batch
        )
        assert_losses_are_data_losses(run, X, y)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch", [None, 5])
def test_a_start_at_the_exact_fit_is_zero_loss_and_converges_at_once(name, batch):
    """Started on the exact solution the data gradient is exactly zero: loss[0] = 0 and every update
    keeps it there, so the tol rule's "J_{t-1} = 0" fires at epoch 1."""
    X, y, w, b = exact_fit(7)
    assert data_loss(X, y, w[None, :], np.array([b]))[0] == 0.0  # the premise: an exact zero
    run = gdcore.descend(X, y, optimizer=name, alpha=step_for(name, X, y, 0.5), epochs=50, w0=w, b0=b)
    assert run.loss[0] == 0.0 and (run.loss == 0.0).all()
    np.testing.assert_array_equal(run.weights[-1], w)
    stopped = gdcore.descend(
        X, y, optimizer=name, alpha=0.01, epochs=50, w0=w, b0=b, tol=1e-6, batch_size=batch
    )
    assert stopped.stop_reason == "converged" and stopped.epochs_run == 1 and not stopped.diverged


@pytest.mark.parametrize("name", NAMES)
def test_losses_stay_exact_on_nearly_flat_data(name):
    """Two rows with almost the same x (condition number ~1e9; found by hypothesis): the optimum is far
    out along a nearly flat direction, where the expansion around theta* cancels in its last 8 digits;
    the run's losses still equal the data loss of their parameters."""
    X = np.array([[-4.78932159], [-4.78874467]])
    y = np.array([224.70761753, 228.21249871])
    run = gdcore.descend(X, y, optimizer=name, alpha=step_for(name, X, y, 0.5), epochs=40)
    assert_losses_are_data_losses(run, X, y)


@FAST
@given(problem=problems(max_rows=50), seed=st.integers(0, 2**32 - 1), near=st.booleans())
def test_quadratic_loss_is_the_data_loss(problem, seed, near):
    """Quadratic.loss, from sufficient statistics, at random parameters and at parameters near the
    optimum (where the linear term J* leaves out matters), against the data."""
    quadratic = gdcore.Quadratic.from_data(problem.X, problem.y)
    rng = np.random.default_rng(seed)
    w_star, b_star, _ = lstsq_optimum(problem.X, problem.y)
    spread = 1e-4 if near else 30.0
    thetas = np.append(w_star, b_star) + rng.normal(size=(20, problem.n_params)) * spread
    direct = data_loss(problem.X, problem.y, thetas[:, :-1], thetas[:, -1])
    computed = quadratic.loss(thetas)
    assert (computed >= 0).all()
    scale = np.mean(problem.y**2)
    np.testing.assert_allclose(computed, direct, rtol=1e-9, atol=1e-13 * scale)


# --- (b) closed forms at tiny alpha lambda, at any scale -----------------------------------------------


def literal_linear(X, y, name, alpha, epochs, w0, b0, beta=0.9):
    """GD / heavy ball / Nesterov from the data, written out: g = -(2/N) [X^T r, sum r]."""
    n = X.shape[0]
    theta = np.append(np.full(X.shape[1], w0, dtype=np.float64), b0)
    velocity = np.zeros_like(theta)
    thetas = [theta]
    for _ in range(epochs):
        residual = y - (X @ theta[:-1] + theta[-1])
        g = (-2.0 / n) * np.append(X.T @ residual, residual.sum())
        if name == "gd":
            theta = theta - alpha * g
        else:
            velocity = beta * velocity + g
            theta = theta - alpha * (velocity if name == "momentum" else g + beta * velocity)
        thetas.append(theta)
    thetas = np.array(thetas)
    return thetas, data_loss(X, y, thetas[:, :-1], thetas[:, -1])


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1.0, 1e3, 1e6])
@pytest.mark.parametrize("fraction", [1e-12, 1e-8, 1e-4, 0.3])
@pytest.mark.parametrize("name", LINEAR)
def test_closed_forms_match_the_literal_loop_at_any_scale_and_tiny_steps(scale, fraction, name):
    data = gdcore.make_data(n_samples=50, n_features=2, noise=5.0, seed=11)
    X, y = data.X * scale, data.y
    alpha = fraction * gdcore.step_limits(X, y, name).alpha_max
    epochs = 150
    run = gdcore.descend(X, y, optimizer=name, alpha=alpha, epochs=epochs, w0=1.0, b0=0.5)
    thetas, losses = literal_linear(X, y, name, alpha, epochs, 1.0, 0.5)
    got = np.column_stack([run.weights, run.bias])
    np.testing.assert_allclose(got, thetas, rtol=1e-9, atol=1e-9 * np.abs(thetas).max())
    np.testing.assert_allclose(run.loss, losses, rtol=1e-9, atol=1e-12 * losses[0])


# --- (c) least squares with an affine copy of a column -------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_least_squares_with_an_affine_copy_of_a_column(seed):
    """x' = a x + c adds no direction to [X, 1]: numpy's rank, lstsq's loss, and (w, b) of least norm."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(5, 80)), int(rng.integers(1, 4))
    X = rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-2, 2, size=d) + rng.uniform(-50, 50, size=d)
    a, c = rng.uniform(-20, 20), rng.uniform(-1e3, 1e3)
    X = np.column_stack([X, a * X[:, 0] + c])
    y = X[:, :d] @ rng.uniform(-5, 5, size=d) + rng.normal(size=n) * rng.choice([0.0, 1.0])
    A = design_matrix(X)
    theta_np, *_ = np.linalg.lstsq(A, y, rcond=None)
    loss_np = float(np.mean((y - A @ theta_np) ** 2))
    fit = gdcore.least_squares(X, y)
    assert fit.rank == np.linalg.matrix_rank(A)
    assert fit.loss >= loss_np * (1 - 1e-12) - 1e-15 * np.mean(y**2)
    scale = np.abs(theta_np).max()
    np.testing.assert_allclose(np.append(fit.weights, fit.bias), theta_np, rtol=1e-8, atol=1e-8 * scale)
    assert fit.note


def test_least_squares_is_the_minimum_norm_solution_over_weights_and_bias():
    """Two identical columns and a constant one: of all the (w, b) with the least loss, the one with the
    smallest ||(w, b)||, as numpy's lstsq on [X, 1] returns it (not the centred problem's)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=30) + 3.0
    X = np.column_stack([x, x, np.full(30, 2.0)])
    y = 4.0 * x + 1.0
    fit = gdcore.least_squares(X, y)
    theta = np.append(fit.weights, fit.bias)
    A = design_matrix(X)
    null = np.linalg.svd(A)[2][np.linalg.matrix_rank(A) :]  # directions that leave A theta unchanged
    np.testing.assert_allclose(null @ theta, 0.0, atol=1e-10)  # nothing of theta lies along them
    np.testing.assert_allclose(fit.weights[0], fit.weights[1], rtol=1e-10)
    assert fit.loss == pytest.approx(0.0, abs=1e-20)


# --- (d) no RuntimeWarning, (e) complex data, (f) a foreign quadratic ---------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch", [None, 7])
@pytest.mark.parametrize("epochs", [0, 1, 3, 200])
def test_absurd_steps_raise_no_runtime_warning(name, batch, epochs):
    X, y = gdcore.make_data().X, gdcore.make_data().y
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for alpha in (1e308, 1.7e308, 1e-308, 5e-324):
            run = gdcore.descend(X, y, optimizer=name, alpha=alpha, epochs=epochs, batch_size=batch)
            assert np.isfinite(run.loss).all()
        gdcore.sweep(X, y, [1e-300, 1e-3, 1e308], optimizer=name, epochs=epochs, batch_size=batch, tol=1e-6)


def test_theory_and_the_blog_formulas_raise_no_runtime_warning_at_absurd_values():
    X, y = gdcore.make_data().X, gdcore.make_data().y
    theory = gdcore.analyze(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert theory.rate(1e308) == theory.loss_rate(1e308) == np.inf
        assert theory.epochs_to_shrink(1e308, 1e-3) == np.inf
        assert gdcore.mse(X, y, 1e200, 0.0) == np.inf
        gdcore.gradient(X, y, 1e308, 0.0)  # overflows to inf quietly


@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize(
    "entry",
    [
        lambda X, y: gdcore.descend(X, y),
        lambda X, y: gdcore.Quadratic.from_data(X, y),
        lambda X, y: gdcore.least_squares(X, y),
        lambda X, y: gdcore.analyze(X, y),
        lambda X, y: gdcore.sweep(X, y, [0.01]),
        lambda X, y: gdcore.mse(X, y, 1.0, 0.0),
        lambda X, y: gdcore.gradient(X, y, 1.0, 0.0),
    ],
)
def test_complex_data_is_refused_by_name(where, entry):
    X, y = gdcore.make_data().X, gdcore.make_data().y
    if where == "X":
        X = X + 1e-3j
    else:
        y = y.astype(complex)  # even a zero imaginary part is refused: the dtype says complex
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=f"{where} .*complex"):
            entry(X, y)


def test_descend_checks_a_passed_quadratic_against_the_data():
    data = gdcore.make_data(n_samples=60, n_features=2, seed=1)
    other = gdcore.make_data(n_samples=60, n_features=2, seed=2)
    own = gdcore.Quadratic.from_data(data.X, data.y)
    np.testing.assert_array_equal(
        gdcore.descend(data.X, data.y, quadratic=own).loss, gdcore.descend(data.X, data.y).loss
    )
    with pytest.raises(ValueError, match="does not belong"):
        gdcore.descend(data.X, data.y, quadratic=gdcore.Quadratic.from_data(other.X, other.y))
    with pytest.raises(ValueError, match="rows"):
        gdcore.descend(data.X[:50], data.y[:50], quadratic=own)
    with pytest.raises(ValueError, match="Quadratic"):
        gdcore.descend(data.X, data.y, quadratic="not a quadratic")

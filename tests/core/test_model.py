"""`gdcore.mse`, `gdcore.gradient` and the sufficient-statistics `Quadratic` against direct formulas,
central finite differences and scikit-learn; the blog's shape pitfall shown in numbers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import design_matrix, direct_mse, lstsq_optimum, problems
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_squared_error

import gdcore

FAST = settings(max_examples=40, deadline=None)


def random_parameters(d: int, draw_seed: int) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(draw_seed)
    return rng.uniform(-30.0, 30.0, size=d), float(rng.uniform(-30.0, 30.0))


def central_difference(f, theta: np.ndarray) -> np.ndarray:
    """Central differences with a step scaled to each coordinate. J is quadratic, so the only error is
    rounding, of order eps * J / h."""
    grad = np.empty_like(theta)
    for i in range(theta.size):
        h = 1e-5 * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (up[i] - down[i])
    return grad


@FAST
@given(problem=problems(), seed=st.integers(0, 2**32 - 1))
def test_gradient_matches_central_finite_differences(problem, seed):
    w, b = random_parameters(problem.X.shape[1], seed)
    dw, db = gdcore.gradient(problem.X, problem.y, w, b)
    numeric = central_difference(lambda t: direct_mse(problem.X, problem.y, t[:-1], t[-1]), np.append(w, b))
    scale = float(np.max(np.abs(numeric))) + 1.0
    np.testing.assert_allclose(np.append(dw, db), numeric, rtol=1e-6, atol=1e-6 * scale)
    assert dw.shape == (problem.X.shape[1],) and isinstance(db, float)


@FAST
@given(problem=problems(), seed=st.integers(0, 2**32 - 1))
def test_mse_matches_sklearn_mean_squared_error(problem, seed):
    w, b = random_parameters(problem.X.shape[1], seed)
    expected = mean_squared_error(problem.y, problem.X @ w + b)
    assert gdcore.mse(problem.X, problem.y, w, b) == pytest.approx(expected, rel=1e-12)


@FAST
@given(problem=problems(), seed=st.integers(0, 2**32 - 1))
def test_quadratic_form_matches_data_loss_and_gradient(problem, seed):
    """The sufficient-statistics view J = J* + e^T M e gives the same loss and gradient as the data."""
    w, b = random_parameters(problem.X.shape[1], seed)
    quadratic = gdcore.Quadratic.from_data(problem.X, problem.y)
    theta = np.append(w, b)
    data_loss = direct_mse(problem.X, problem.y, w, b)
    assert float(quadratic.loss(theta)) == pytest.approx(
        data_loss, rel=1e-9, abs=1e-9 * np.mean(problem.y**2)
    )
    A = design_matrix(problem.X)
    data_grad = -2.0 / len(A) * A.T @ (problem.y - A @ theta)
    scale = float(np.max(np.abs(data_grad))) + 1.0
    np.testing.assert_allclose(quadratic.grad(theta), data_grad, rtol=1e-9, atol=1e-9 * scale)


def test_gradient_vanishes_at_the_least_squares_optimum():
    data = gdcore.make_data(n_samples=150, n_features=4, seed=9)
    w_star, b_star, _ = lstsq_optimum(data.X, data.y)
    dw, db = gdcore.gradient(data.X, data.y, w_star, b_star)
    scale = np.max(np.abs(gdcore.gradient(data.X, data.y, np.zeros(4), 0.0)[0]))
    assert np.max(np.abs(dw)) < 1e-10 * scale and abs(db) < 1e-10 * scale


def test_blog_gradient_formula_on_the_blog_data(blog_data):
    """dJ/dw = -(2/N) sum (y - y_hat) x and dJ/db = -(2/N) sum (y - y_hat), written as loops."""
    x, y = blog_data.X[:, 0], blog_data.y
    w, b = 1.0, 0.0
    n = len(x)
    dw_loop = -2.0 / n * sum((yi - (w * xi + b)) * xi for xi, yi in zip(x, y, strict=True))
    db_loop = -2.0 / n * sum(yi - (w * xi + b) for xi, yi in zip(x, y, strict=True))
    dw, db = gdcore.gradient(blog_data.X, blog_data.y, w, b)
    assert dw[0] == pytest.approx(dw_loop, rel=1e-12)
    assert db == pytest.approx(db_loop, rel=1e-12)


@pytest.mark.parametrize(
    ("x_shape", "y_shape"), [((100,), (100,)), ((100, 1), (100,)), ((100, 1), (100, 1)), ((100,), (100, 1))]
)
def test_mse_and_gradient_are_shape_safe(blog_data, x_shape, y_shape):
    """Every accepted shape pairing gives the (N,)-vector answer, never the (N, N) broadcast."""
    X, y = blog_data.X.reshape(x_shape), blog_data.y.reshape(y_shape)
    expected_loss = mean_squared_error(blog_data.y, blog_data.X[:, 0] * 2.0 + 1.0)
    assert gdcore.mse(X, y, 2.0, 1.0) == pytest.approx(expected_loss, rel=1e-12)
    dw, db = gdcore.gradient(X, y, 2.0, 1.0)
    reference_dw, reference_db = gdcore.gradient(blog_data.X[:, 0], blog_data.y, 2.0, 1.0)
    assert dw.shape == (1,)
    assert dw[0] == pytest.approx(reference_dw[0], rel=1e-12) and db == pytest.approx(reference_db, rel=1e-12)


def test_blog_shape_pitfall_shows_the_100_by_100_broadcast(blog_data):
    """The blog's `Y - Y_pred` with X (100, 1) and y (100,) is a (100, 100) matrix, and its 'error'
    is not the MSE."""
    pitfall = gdcore.blog_shape_pitfall(blog_data.X, blog_data.y)
    assert pitfall["x_shape"] == (100, 1) and pitfall["y_shape"] == (100,)
    assert pitfall["residual_shape"] == (100, 100)
    assert (blog_data.y - (blog_data.X * 1.0 + 0.0)).shape == (100, 100)  # numpy's own behaviour
    broadcast = blog_data.y[None, :] - (blog_data.X * 1.0 + 0.0)
    assert pitfall["blog_error"] == pytest.approx(float(np.sum(broadcast**2) / 100), rel=1e-12)
    correct = mean_squared_error(blog_data.y, blog_data.X[:, 0])
    assert pitfall["correct_error"] == pytest.approx(correct, rel=1e-12)
    assert pitfall["blog_error"] > 10 * pitfall["correct_error"]

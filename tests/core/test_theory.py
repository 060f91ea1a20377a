"""`least_squares` and `analyze` against numpy lstsq, scikit-learn's LinearRegression and the Hessian's
eigenvalues computed from the explicit design matrix; degenerate data (constant feature, fewer rows than
parameters) must give meaningful answers, not crashes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import (
    BLOG_ALPHA_MAX,
    BLOG_B_STAR,
    BLOG_MSE_STAR,
    BLOG_W_STAR,
    design_matrix,
    lstsq_optimum,
    problems,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

import gdcore

FAST = settings(max_examples=40, deadline=None)


def explicit_hessian_eigenvalues(X) -> np.ndarray:
    A = design_matrix(X)
    return np.linalg.eigvalsh(2.0 / len(A) * A.T @ A)


# --- least squares ----------------------------------------------------------------------------------


def test_blog_optimum_is_the_issues_figure(blog_data):
    fit = gdcore.least_squares(blog_data.X, blog_data.y)
    assert round(float(fit.weights[0]), 3) == BLOG_W_STAR
    assert round(fit.bias, 3) == BLOG_B_STAR
    assert round(fit.loss, 3) == BLOG_MSE_STAR


@FAST
@given(problem=problems(min_rows=8))
def test_least_squares_matches_numpy_lstsq_and_sklearn(problem):
    """With at least as many rows as parameters the optimum is unique: all three agree."""
    w_np, b_np, mse_np = lstsq_optimum(problem.X, problem.y)
    sk = LinearRegression().fit(problem.X, problem.y)
    fit = gdcore.least_squares(problem.X, problem.y)
    scale = max(1.0, float(np.max(np.abs(w_np))), abs(b_np))
    np.testing.assert_allclose(fit.weights, w_np, rtol=1e-7, atol=1e-7 * scale)
    np.testing.assert_allclose(fit.weights, sk.coef_, rtol=1e-7, atol=1e-7 * scale)
    assert fit.bias == pytest.approx(b_np, rel=1e-7, abs=1e-7 * scale)
    assert fit.bias == pytest.approx(sk.intercept_, rel=1e-7, abs=1e-7 * scale)
    assert fit.loss == pytest.approx(mse_np, rel=1e-7, abs=1e-9 * np.mean(problem.y**2))
    assert fit.weights.shape == (problem.X.shape[1],)


def test_least_squares_accepts_a_column_or_flat_feature(blog_data):
    flat = gdcore.least_squares(blog_data.X[:, 0], blog_data.y)
    column = gdcore.least_squares(blog_data.X, blog_data.y[:, None])
    np.testing.assert_allclose(flat.weights, column.weights, rtol=1e-14)
    assert flat.bias == pytest.approx(column.bias, rel=1e-14)


def test_constant_feature_does_not_crash_least_squares():
    """A constant column duplicates the intercept: the loss is that of the other features alone."""
    data = gdcore.make_data(n_samples=60, n_features=2, seed=3)
    X = np.column_stack([data.X, np.full(60, 4.0)])
    fit = gdcore.least_squares(X, data.y)
    _, _, mse_without = lstsq_optimum(data.X, data.y)
    assert fit.loss == pytest.approx(mse_without, rel=1e-9)
    assert np.isfinite(fit.weights).all() and math.isfinite(fit.bias)
    assert fit.note  # says the minimiser is not unique
    assert fit.rank < X.shape[1] + 1


def test_fewer_rows_than_parameters_interpolates_exactly():
    """3 rows, 5 features: infinitely many exact fits; least_squares returns one with zero loss."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(3, 5)), rng.normal(size=3)
    fit = gdcore.least_squares(X, y)
    np.testing.assert_allclose(X @ fit.weights + fit.bias, y, atol=1e-10)
    assert fit.loss == pytest.approx(0.0, abs=1e-20)
    assert fit.note


# --- Hessian theory ----------------------------------------------------------------------------------


def test_blog_alpha_max_is_the_issues_figure(blog_data):
    assert round(gdcore.analyze(blog_data.X, blog_data.y).alpha_max, 3) == BLOG_ALPHA_MAX


@FAST
@given(problem=problems(min_rows=8))
def test_analyze_matches_explicit_hessian_eigenvalues(problem):
    lam = explicit_hessian_eigenvalues(problem.X)
    theory = gdcore.analyze(problem.X, problem.y)
    np.testing.assert_allclose(theory.eigenvalues, lam, rtol=1e-9, atol=1e-12 * lam[-1])
    assert theory.alpha_max == pytest.approx(2.0 / lam[-1], rel=1e-12)
    assert theory.alpha_opt == pytest.approx(2.0 / (lam[0] + lam[-1]), rel=1e-9)
    assert theory.condition_number == pytest.approx(lam[-1] / lam[0], rel=1e-6)
    assert theory.flat_directions == 0
    assert theory.lambda_min == theory.eigenvalues[0] and theory.lambda_max == theory.eigenvalues[-1]


@FAST
@given(problem=problems(min_rows=8), alpha_fraction=st.floats(0.01, 3.0))
def test_rate_is_the_largest_contraction_factor(problem, alpha_fraction):
    lam = explicit_hessian_eigenvalues(problem.X)
    alpha = alpha_fraction * 2.0 / lam[-1]
    theory = gdcore.analyze(problem.X, problem.y)
    assert theory.rate(alpha) == pytest.approx(float(np.max(np.abs(1.0 - alpha * lam))), rel=1e-9, abs=1e-12)
    assert theory.loss_rate(alpha) == pytest.approx(theory.rate(alpha) ** 2, rel=1e-12)


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.9])
def test_rate_predicts_the_observed_error_contraction(fraction):
    """Over many epochs ||theta_t - theta*|| shrinks like rate^t in the literal loop."""
    data = gdcore.make_data(n_samples=120, n_features=2, seed=8)
    X = data.X * [1.0, 3.0] + 0.5
    theory = gdcore.analyze(X, data.y)
    alpha = fraction * theory.alpha_max
    run = gdcore.reference_descend(X, data.y, alpha=alpha, epochs=60)
    w_star, b_star, _ = lstsq_optimum(X, data.y)
    error = np.linalg.norm(np.column_stack([run.weights - w_star, run.bias - b_star]), axis=1)
    observed = (error[60] / error[40]) ** (1 / 20)
    assert observed == pytest.approx(theory.rate(alpha), rel=1e-3)


def test_epochs_to_shrink_matches_the_loss_rate():
    data = gdcore.make_data(n_samples=50, n_features=2, seed=1)
    theory = gdcore.analyze(data.X, data.y)
    alpha = 0.5 * theory.alpha_max
    epochs = theory.epochs_to_shrink(alpha, 1e-6)
    assert theory.loss_rate(alpha) ** epochs == pytest.approx(1e-6, rel=1e-9)
    assert theory.epochs_to_shrink(1.5 * theory.alpha_max, 1e-6) == math.inf


def test_constant_feature_gives_a_flat_direction():
    """A constant column makes A rank-deficient: lambda_min = 0, condition number inf, and alpha_opt
    uses the smallest non-zero eigenvalue."""
    data = gdcore.make_data(n_samples=60, n_features=1, seed=3)
    X = np.column_stack([data.X, np.full(60, -2.0)])
    theory = gdcore.analyze(X, data.y)
    lam = explicit_hessian_eigenvalues(X)
    assert theory.lambda_min == 0.0
    assert theory.flat_directions == 1
    assert theory.condition_number == math.inf
    assert theory.alpha_max == pytest.approx(2.0 / lam[-1], rel=1e-12)
    assert theory.alpha_opt == pytest.approx(2.0 / (lam[1] + lam[-1]), rel=1e-9)
    assert "flat" in theory.note


def test_fewer_rows_than_parameters_gives_flat_directions():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(3, 5)), rng.normal(size=3)
    theory = gdcore.analyze(X, y)
    assert theory.flat_directions == 6 - 3
    assert theory.lambda_min == 0.0
    assert np.isfinite(theory.alpha_max) and np.isfinite(theory.alpha_opt)


@pytest.mark.parametrize("shape", [(3, 5), (4, 3)])
def test_descend_on_degenerate_data_matches_reference_and_reaches_the_optimum_loss(shape):
    """GD does not move along flat directions, and the fast path agrees with the literal loop there."""
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=shape), rng.normal(size=shape[0])
    if shape == (4, 3):
        X[:, 1] = 7.0  # a constant feature
    lam = explicit_hessian_eigenvalues(X)
    moving = lam[lam > 1e-12 * lam[-1]]
    alpha_opt = 2.0 / (moving[0] + moving[-1])
    assert gdcore.analyze(X, y).alpha_opt == pytest.approx(alpha_opt, rel=1e-9)
    slowest = (moving[-1] - moving[0]) / (moving[-1] + moving[0])
    kwargs = {"alpha": alpha_opt, "epochs": math.ceil(math.log(1e-14) / (2 * math.log(slowest)))}
    fast = gdcore.descend(X, y, **kwargs)
    reference = gdcore.reference_descend(X, y, **kwargs)
    np.testing.assert_allclose(fast.loss, reference.loss, rtol=1e-9, atol=1e-12 * reference.loss[0])
    np.testing.assert_allclose(fast.weights, reference.weights, rtol=1e-9, atol=1e-9)
    _, _, mse_star = lstsq_optimum(X, y)
    assert fast.loss[-1] == pytest.approx(mse_star, abs=1e-9 * reference.loss[0])


def test_loss_rate_ignores_flat_directions_and_matches_the_observed_loss_gap():
    """With a constant feature the loss gap still shrinks (flat directions add nothing to it): the
    predicted factor is max |1 - alpha lambda|^2 over lambda > 0, as the literal loop shows."""
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.normal(size=50), np.full(50, 3.0), rng.normal(size=50) * 2.0])
    y = X @ [2.0, 1.0, -1.0] + rng.normal(size=50)
    theory = gdcore.analyze(X, y)
    assert theory.flat_directions == 1 and theory.rate(theory.alpha_opt) == pytest.approx(1.0)
    alpha = 0.6 * theory.alpha_max
    lam = explicit_hessian_eigenvalues(X)
    moving = lam[lam > 1e-12 * lam[-1]]
    assert theory.loss_rate(alpha) == pytest.approx(np.max(np.abs(1.0 - alpha * moving)) ** 2, rel=1e-9)
    run = gdcore.reference_descend(X, y, alpha=alpha, epochs=80)
    gap = run.loss - lstsq_optimum(X, y)[2]
    observed = (gap[80] / gap[60]) ** (1 / 20)
    assert observed == pytest.approx(theory.loss_rate(alpha), rel=1e-3)
    assert math.isfinite(theory.epochs_to_shrink(alpha, 1e-6))

"""`gdcore.descend` (the closed-form fast path) against the literal loop, the closed-form optimum and
the stability theory computed independently from the Hessian's eigenvalues."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from conftest import (
    BLOG_LINE,
    REL,
    assert_trajectories_match,
    design_matrix,
    direct_mse,
    lstsq_optimum,
    problems,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
from gdcore.trajectory import CHUNK_EPOCHS, Trajectory

FAST = settings(max_examples=40, deadline=None)


def hessian_eigenvalues(X) -> np.ndarray:
    """Eigenvalues of H = (2/N) A^T A from the explicit design matrix (independent of gdcore.theory)."""
    A = design_matrix(X)
    return np.linalg.eigvalsh(2.0 / len(A) * A.T @ A)


def independent_alpha_max(X) -> float:
    return 2.0 / float(hessian_eigenvalues(X)[-1])


def blog_loop(X, y, alpha=0.01, epochs=100, weights=1.0, bias=0.0):
    """The blog's code as published, with only the shape fixed (X flattened): returns the loss before
    each update and the parameters after it, exactly as the blog records them."""
    X = np.asarray(X, dtype=np.float64).ravel()
    N = len(X)
    errors, weights_after, bias_after = [], [], []
    for _ in range(epochs):
        Y_pred = X * weights + bias
        error = float(np.sum((y - Y_pred) ** 2) / N)
        dw = (-2 / N) * np.sum((y - Y_pred) * X)
        db = (-2 / N) * np.sum(y - Y_pred)
        weights = weights - alpha * dw
        bias = bias - alpha * db
        errors.append(error)
        weights_after.append(weights)
        bias_after.append(bias)
    return np.array(errors), np.array(weights_after), np.array(bias_after)


# --- the blog's run --------------------------------------------------------------------------------


def test_blog_settings_print_the_blog_line(blog_data):
    """Default settings on the blog's data give the line issue 2 states."""
    run = gdcore.descend(blog_data.X, blog_data.y)
    assert run.summary_line() == BLOG_LINE
    assert run.epochs_run == 100
    assert run.stop_reason == "epochs"
    assert not run.diverged


def test_blog_line_follows_from_the_blogs_own_loop(blog_data):
    """The blog's loop (shape fixed) reproduces the same figures once each loss is paired with the
    parameters it was measured at: the best state is the one after the 100th update."""
    _, w_after, b_after = blog_loop(blog_data.X, blog_data.y)
    final_loss = direct_mse(blog_data.X, blog_data.y, w_after[-1], b_after[-1])
    line = f"Best epoch: 100, Error: {final_loss:.3f}, Weights: {w_after[-1]:.3f}, Bias: {b_after[-1]:.3f}"
    assert line == BLOG_LINE


def test_reference_loop_is_the_blogs_loop_with_loss_paired_to_its_parameters(blog_data):
    """reference_descend records loss[t] at theta_t; the blog records loss[t] with theta_{t+1}."""
    errors, w_after, b_after = blog_loop(blog_data.X, blog_data.y, epochs=50)
    ref = gdcore.reference_descend(blog_data.X, blog_data.y, epochs=50)
    np.testing.assert_allclose(ref.loss[:-1], errors, rtol=1e-12)
    np.testing.assert_allclose(ref.weights[1:, 0], w_after, rtol=1e-12)
    np.testing.assert_allclose(ref.bias[1:], b_after, rtol=1e-12, atol=1e-12)


# --- fast path equals the literal loop -------------------------------------------------------------


@FAST
@given(
    problem=problems(),
    fraction=st.floats(0.01, 0.999),
    epochs=st.integers(0, 300),
    w0=st.floats(-20.0, 20.0),
    b0=st.floats(-20.0, 20.0),
)
def test_fast_path_matches_reference_loop(problem, fraction, epochs, w0, b0):
    """descend == reference_descend within 1e-9 relative, d = 1..5, any alpha below alpha_max."""
    alpha = fraction * independent_alpha_max(problem.X)
    kwargs = {"alpha": alpha, "epochs": epochs, "w0": w0, "b0": b0}
    fast = gdcore.descend(problem.X, problem.y, **kwargs)
    reference = gdcore.reference_descend(problem.X, problem.y, **kwargs)
    assert_trajectories_match(fast, reference)


@FAST
@given(problem=problems(min_features=2), data=st.data())
def test_per_feature_start_weights_match_reference_loop(problem, data):
    """w0 given as d values starts each weight at its own value, as in the literal loop."""
    d = problem.X.shape[1]
    w0 = data.draw(st.lists(st.floats(-10.0, 10.0), min_size=d, max_size=d))
    alpha = 0.5 * independent_alpha_max(problem.X)
    fast = gdcore.descend(problem.X, problem.y, alpha=alpha, epochs=50, w0=w0)
    reference = gdcore.reference_descend(problem.X, problem.y, alpha=alpha, epochs=50, w0=w0)
    np.testing.assert_array_equal(fast.weights[0], w0)
    assert_trajectories_match(fast, reference)


def test_scalar_w0_equals_the_same_value_for_every_weight():
    data = gdcore.make_data(n_samples=50, n_features=3, seed=1)
    scalar = gdcore.descend(data.X, data.y, epochs=20, w0=2.5)
    vector = gdcore.descend(data.X, data.y, epochs=20, w0=[2.5, 2.5, 2.5])
    np.testing.assert_array_equal(scalar.weights, vector.weights)
    np.testing.assert_array_equal(scalar.loss, vector.loss)


def test_column_X_with_flat_y_equals_flat_X(blog_data):
    """The blog's pitfall: X (N, 1) with y (N,) must not broadcast; it equals X (N,) and y (N, 1)."""
    X_col, y_flat = blog_data.X, blog_data.y
    assert X_col.shape == (100, 1) and y_flat.shape == (100,)
    base = gdcore.descend(X_col, y_flat)
    for X, y in [(X_col[:, 0], y_flat), (X_col, y_flat[:, None]), (X_col[:, 0], y_flat[:, None])]:
        other = gdcore.descend(X, y)
        np.testing.assert_allclose(other.loss, base.loss, rtol=1e-14)
        np.testing.assert_allclose(other.weights, base.weights, rtol=1e-14)
        np.testing.assert_allclose(other.bias, base.bias, rtol=1e-14)
    # and the reference loop agrees with the corrected numbers, not the (N, N) broadcast ones
    reference = gdcore.reference_descend(X_col[:, 0], y_flat)
    assert_trajectories_match(base, reference)


@FAST
@given(problem=problems(), fraction=st.floats(0.05, 0.99))
def test_each_loss_is_the_mse_of_the_parameters_it_is_stored_with(problem, fraction):
    """loss[t] = J(theta_t), computed directly from the data at the stored weights and bias."""
    run = gdcore.descend(problem.X, problem.y, alpha=fraction * independent_alpha_max(problem.X), epochs=40)
    direct = [direct_mse(problem.X, problem.y, w, b) for w, b in zip(run.weights, run.bias, strict=True)]
    np.testing.assert_allclose(run.loss, direct, rtol=REL, atol=REL * 1e-3 * run.loss[0])


def test_one_epoch_is_one_gradient_step(blog_data):
    """theta_1 = theta_0 - alpha * gradient(theta_0), with the gradient from central differences."""
    alpha, w0, b0, h = 0.1, 3.0, -2.0, 1e-4

    def loss(w: float, b: float) -> float:
        return direct_mse(blog_data.X, blog_data.y, w, b)

    dw = (loss(w0 + h, b0) - loss(w0 - h, b0)) / (2 * h)
    db = (loss(w0, b0 + h) - loss(w0, b0 - h)) / (2 * h)
    run = gdcore.descend(blog_data.X, blog_data.y, alpha=alpha, epochs=1, w0=w0, b0=b0)
    np.testing.assert_allclose(run.weights[1, 0], w0 - alpha * dw, rtol=1e-8)
    np.testing.assert_allclose(run.bias[1], b0 - alpha * db, rtol=1e-8)


# --- convergence, monotonicity, divergence ---------------------------------------------------------


@pytest.mark.parametrize("n_features", [1, 2, 3, 5])
@pytest.mark.parametrize("seed", [0, 7])
def test_converges_to_least_squares_at_alpha_opt(n_features, seed):
    """At alpha_opt = 2/(lambda_min + lambda_max) the loss reaches the lstsq optimum within 1e-9."""
    data = gdcore.make_data(n_samples=200, n_features=n_features, seed=seed)
    X = data.X * np.linspace(0.5, 3.0, n_features) + 1.5  # unequal scales and an offset: kappa > 1
    w_star, b_star, mse_star = lstsq_optimum(X, data.y)
    lam = hessian_eigenvalues(X)
    alpha_opt = 2.0 / (lam[0] + lam[-1])
    assert gdcore.analyze(X, data.y).alpha_opt == pytest.approx(alpha_opt, rel=1e-9)
    rate = (lam[-1] - lam[0]) / (lam[-1] + lam[0])
    start_gap = direct_mse(X, data.y, 1.0, 0.0) - mse_star
    epochs = math.ceil(math.log(1e-12 * mse_star / start_gap) / (2 * math.log(rate))) + 10
    run = gdcore.descend(X, data.y, alpha=alpha_opt, epochs=epochs)
    assert run.loss[-1] == pytest.approx(mse_star, rel=1e-9)
    np.testing.assert_allclose(run.weights[-1], w_star, rtol=1e-5, atol=1e-5)
    assert run.bias[-1] == pytest.approx(b_star, rel=1e-5, abs=1e-5)
    assert run.stop_reason == "epochs" and not run.diverged


@FAST
@given(problem=problems(), fraction=st.floats(0.01, 0.999), epochs=st.integers(1, 500))
def test_loss_never_increases_below_alpha_max(problem, fraction, epochs):
    """For alpha < alpha_max every eigen-direction contracts, so J(theta_t) is non-increasing
    (up to rounding of the loss itself)."""
    alpha = fraction * independent_alpha_max(problem.X)
    run = gdcore.descend(problem.X, problem.y, alpha=alpha, epochs=epochs)
    assert run.epochs_run == epochs and not run.diverged
    assert np.all(np.diff(run.loss) <= 1e-13 * run.loss[0])


@pytest.mark.parametrize("factor", [1.02, 1.2, 2.0, 10.0])
@pytest.mark.parametrize("n_features", [1, 3])
def test_diverges_above_alpha_max(factor, n_features):
    """Above alpha_max the top eigen-direction grows by |1 - alpha lambda_max| > 1 each epoch."""
    data = gdcore.make_data(n_samples=80, n_features=n_features, seed=3)
    alpha = factor * independent_alpha_max(data.X)
    run = gdcore.descend(data.X, data.y, alpha=alpha, epochs=5000)
    assert run.diverged
    assert run.stop_reason == "diverged"
    assert np.isfinite(run.loss).all() and np.isfinite(run.weights).all() and np.isfinite(run.bias).all()


@pytest.mark.parametrize(("n_features", "seed"), [(1, 42), (2, 5), (4, 11)])
def test_observed_stability_edge_is_within_one_percent_of_alpha_max(n_features, seed):
    """Bisect alpha on 'does a 10,000-epoch run diverge?': the edge sits at 2 / lambda_max."""
    data = gdcore.make_data(n_samples=100, n_features=n_features, seed=seed)
    alpha_max = independent_alpha_max(data.X)

    def diverges(alpha: float) -> bool:
        return gdcore.descend(data.X, data.y, alpha=alpha, epochs=10_000).diverged

    low, high = 0.5 * alpha_max, 2.0 * alpha_max
    assert not diverges(low) and diverges(high)
    for _ in range(30):
        middle = 0.5 * (low + high)
        low, high = (low, middle) if diverges(middle) else (middle, high)
    assert abs(0.5 * (low + high) / alpha_max - 1.0) < 0.01
    assert gdcore.analyze(data.X, data.y).alpha_max == pytest.approx(alpha_max, rel=1e-9)


def test_blog_data_alpha_max_is_the_issues_figure(blog_data):
    assert round(independent_alpha_max(blog_data.X), 3) == 0.954
    assert round(gdcore.analyze(blog_data.X, blog_data.y).alpha_max, 3) == 0.954


# --- stopping rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-7])
def test_tol_stops_at_the_first_small_relative_decrease(blog_data, tol):
    """With tol the run stops after the first epoch whose relative decrease, measured on the literal
    loop's losses, is below tol, and says "converged"."""
    reference = gdcore.reference_descend(blog_data.X, blog_data.y, epochs=5000)
    decrease = -np.diff(reference.loss) / reference.loss[:-1]
    expected_epochs = int(np.flatnonzero(decrease < tol)[0]) + 1
    run = gdcore.descend(blog_data.X, blog_data.y, epochs=5000, tol=tol)
    assert run.stop_reason == "converged"
    assert not run.diverged
    assert run.epochs_run == expected_epochs
    np.testing.assert_allclose(run.loss, reference.loss[: expected_epochs + 1], rtol=REL)


def test_tol_not_reached_runs_every_epoch(blog_data):
    run = gdcore.descend(blog_data.X, blog_data.y, epochs=10, tol=1e-12)
    assert run.stop_reason == "epochs" and run.epochs_run == 10


def test_zero_epochs_gives_only_the_start_state(blog_data):
    run = gdcore.descend(blog_data.X, blog_data.y, epochs=0, w0=2.0, b0=-1.0)
    assert run.epochs_run == 0 and run.best_epoch == 0
    assert run.loss.shape == (1,) and run.weights.shape == (1, 1) and run.bias.shape == (1,)
    assert run.loss[0] == pytest.approx(direct_mse(blog_data.X, blog_data.y, 2.0, -1.0), rel=1e-12)
    assert run.weights[0, 0] == 2.0 and run.bias[0] == -1.0
    assert run.stop_reason == "epochs" and not run.diverged


def test_huge_alpha_stops_cleanly_with_only_finite_states(blog_data):
    """alpha = 1e6 for 10,000 epochs: stops at the first overflow, keeps the finite prefix (the same
    states as the literal loop), and no RuntimeWarning escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = gdcore.descend(blog_data.X, blog_data.y, alpha=1e6, epochs=10_000)
        reference = gdcore.reference_descend(blog_data.X, blog_data.y, alpha=1e6, epochs=10_000)
    assert run.diverged and run.stop_reason == "diverged"
    assert 0 < run.epochs_run < 10_000
    for values in (run.loss, run.weights, run.bias):
        assert np.isfinite(values).all()
    assert_trajectories_match(run, reference)


def test_huge_alpha_with_several_features_stops_cleanly():
    data = gdcore.make_data(n_samples=100, n_features=4, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = gdcore.descend(data.X, data.y, alpha=1e6, epochs=10_000, tol=1e-6)
    assert run.diverged and run.stop_reason == "diverged"
    assert np.isfinite(run.loss).all() and np.isfinite(run.weights).all()


def test_start_with_overflowing_loss_is_rejected(blog_data):
    with pytest.raises(ValueError, match="1e\\+200"):
        gdcore.descend(blog_data.X, blog_data.y, w0=1e200)


# --- the Trajectory record ---------------------------------------------------------------------------


def test_trajectory_shapes_for_several_features():
    data = gdcore.make_data(n_samples=30, n_features=3, seed=4)
    run = gdcore.descend(data.X, data.y, epochs=25)
    assert run.loss.shape == (26,) and run.weights.shape == (26, 3) and run.bias.shape == (26,)
    assert run.n_features == 3
    assert run.best_epoch == int(np.argmin(run.loss))
    assert run.best_loss == run.loss[run.best_epoch]
    assert run.summary_line().startswith(f"Best epoch: {run.best_epoch}, Error: ")
    assert "Weights: [" in run.summary_line()


def test_best_epoch_is_the_first_on_ties():
    run = Trajectory(
        loss=np.array([3.0, 1.0, 1.0, 2.0]),
        weights=np.zeros((4, 1)),
        bias=np.zeros(4),
        stop_reason="epochs",
        diverged=False,
    )
    assert run.best_epoch == 1


# --- long runs: the fast path works in chunks of epochs; stops must not care where a chunk ends ------


@pytest.fixture(scope="module")
def slow_problem():
    data = gdcore.make_data(n_samples=60, n_features=2, seed=6)
    return data.X, data.y, independent_alpha_max(data.X)


def test_long_run_across_chunks_matches_reference(slow_problem):
    X, y, alpha_max = slow_problem
    kwargs = {"alpha": 0.0005 * alpha_max, "epochs": 3 * CHUNK_EPOCHS + 17}
    assert_trajectories_match(gdcore.descend(X, y, **kwargs), gdcore.reference_descend(X, y, **kwargs))


def test_tol_stop_after_the_first_chunk_matches_reference(slow_problem):
    X, y, alpha_max = slow_problem
    alpha, epochs, tol = 0.0005 * alpha_max, 3 * CHUNK_EPOCHS, 1e-5
    reference = gdcore.reference_descend(X, y, alpha=alpha, epochs=epochs)
    decrease = -np.diff(reference.loss) / reference.loss[:-1]
    expected_epochs = int(np.flatnonzero(decrease < tol)[0]) + 1
    assert CHUNK_EPOCHS < expected_epochs < epochs  # the stop is in a later chunk
    run = gdcore.descend(X, y, alpha=alpha, epochs=epochs, tol=tol)
    assert run.stop_reason == "converged" and run.epochs_run == expected_epochs


def test_overflow_after_the_first_chunk_keeps_every_finite_state(slow_problem):
    """alpha 3% above alpha_max overflows after about 6,000 epochs. The literal loop stops a few epochs
    earlier, when its sum of N squared residuals overflows (before the division by N); the fast path
    keeps going until the mean itself overflows: at most log(N) / log(r^2) epochs more. On the common
    prefix both agree."""
    X, y, alpha_max = slow_problem
    alpha, epochs = 1.03 * alpha_max, 3 * CHUNK_EPOCHS
    run = gdcore.descend(X, y, alpha=alpha, epochs=epochs)
    reference = gdcore.reference_descend(X, y, alpha=alpha, epochs=epochs)
    assert CHUNK_EPOCHS < reference.epochs_run < epochs
    assert run.stop_reason == reference.stop_reason == "diverged"
    growth = (alpha * float(hessian_eigenvalues(X)[-1]) - 1.0) ** 2  # loss factor per epoch
    extra = math.ceil(math.log(len(X)) / math.log(growth)) + 1
    assert reference.epochs_run <= run.epochs_run <= reference.epochs_run + extra
    assert np.isfinite(run.loss).all() and np.isfinite(run.weights).all() and np.isfinite(run.bias).all()
    prefix = reference.epochs_run + 1
    np.testing.assert_allclose(run.loss[:prefix], reference.loss, rtol=1e-8)
    np.testing.assert_allclose(run.weights[:prefix], reference.weights, rtol=1e-8)
    np.testing.assert_allclose(
        run.bias[:prefix], reference.bias, rtol=1e-8, atol=1e-8 * np.abs(reference.bias).max()
    )

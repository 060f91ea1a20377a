"""The ridge penalty lambda ||w||^2: checked against scikit-learn's Ridge, finite differences, numpy
eigenvalues and literal loops that add the penalty's gradient 2 lambda w by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import design_matrix
from sklearn.linear_model import Ridge

import gdcore
from gdcore.data import make_curve
from gdcore.features import polynomial_features, standardized_columns
from gdcore.model import Quadratic


def penalized_loss(X, y, w, b, l2):
    """mean((y - X w - b)^2) + l2 ||w||^2, summed one row at a time."""
    total = 0.0
    for i in range(len(y)):
        total += (y[i] - (float(X[i] @ w) + b)) ** 2
    return total / len(y) + l2 * float(w @ w)


def penalized_gradient(X, y, w, b, l2):
    """dJ/dw = -(2/n) sum r_i x_i + 2 l2 w,  dJ/db = -(2/n) sum r_i (the bias is not penalized)."""
    n = len(y)
    grad_w, grad_b = np.zeros_like(w), 0.0
    for i in range(n):
        r = y[i] - (float(X[i] @ w) + b)
        grad_w += -2.0 / n * r * X[i]
        grad_b += -2.0 / n * r
    return grad_w + 2.0 * l2 * w, grad_b


def literal_gd(X, y, alpha, epochs, w0, b0, l2, batch_size=None, seed=0, beta=0.0):
    """GD (with heavy-ball momentum beta) on the penalized loss; mini-batches over a fresh
    np.random.default_rng(seed) permutation each epoch, the last batch smaller. Returns (w, b, losses)."""
    n, d = X.shape
    w, b = np.full(d, float(w0)), float(b0)
    v_w, v_b = np.zeros(d), 0.0
    rng = np.random.default_rng(seed)
    losses = [penalized_loss(X, y, w, b, l2)]
    for _ in range(epochs):
        if batch_size is None:
            batches = [np.arange(n)]
        else:
            order = rng.permutation(n)
            batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
        for rows in batches:
            grad_w, grad_b = penalized_gradient(X[rows], y[rows], w, b, l2)
            v_w, v_b = beta * v_w + grad_w, beta * v_b + grad_b
            w, b = w - alpha * v_w, b - alpha * v_b
        losses.append(penalized_loss(X, y, w, b, l2))
    return w, b, np.array(losses)


@pytest.mark.parametrize("l2", [0.0, 0.01, 0.5, 20.0])
@pytest.mark.parametrize("n_features", [1, 3])
def test_optimum_is_scikit_learns_ridge_with_alpha_n_lambda(l2, n_features):
    data = gdcore.make_data(n_samples=60, n_features=n_features, noise=5.0, seed=3, intercept=2.0)
    quadratic = Quadratic.from_data(data.X, data.y, l2=l2)
    ridge = Ridge(alpha=60 * l2, solver="cholesky").fit(data.X, data.y)
    np.testing.assert_allclose(quadratic.theta_star, [*ridge.coef_, ridge.intercept_], rtol=1e-8, atol=1e-9)
    w, b = quadratic.theta_star[:-1], quadratic.theta_star[-1]
    assert quadratic.loss_star == pytest.approx(penalized_loss(data.X, data.y, w, b, l2), rel=1e-10)


def test_ridge_on_polynomial_features_matches_scikit_learn():
    data = make_curve("sine", n_samples=40, noise=0.3, seed=9)
    X = standardized_columns(polynomial_features(data.X, 9))
    quadratic = Quadratic.from_data(X, data.y, l2=0.05)
    ridge = Ridge(alpha=40 * 0.05, solver="cholesky").fit(X, data.y)
    np.testing.assert_allclose(quadratic.theta_star, [*ridge.coef_, ridge.intercept_], rtol=1e-7, atol=1e-9)


def test_penalized_loss_and_gradient_match_literal_formulas_and_finite_differences():
    data = gdcore.make_data(n_samples=30, n_features=2, noise=3.0, seed=4)
    quadratic = Quadratic.from_data(data.X, data.y, l2=0.3)
    rng = np.random.default_rng(0)
    for theta in rng.normal(0, 30, (5, 3)):
        w, b = theta[:2], theta[2]
        assert quadratic.loss(theta) == pytest.approx(penalized_loss(data.X, data.y, w, b, 0.3), rel=1e-10)
        grad_w, grad_b = penalized_gradient(data.X, data.y, w, b, 0.3)
        np.testing.assert_allclose(quadratic.grad(theta), [*grad_w, grad_b], rtol=1e-9, atol=1e-9)
        h = 1e-4
        central = [
            (quadratic.loss(theta + h * e) - quadratic.loss(theta - h * e)) / (2 * h) for e in np.eye(3)
        ]
        np.testing.assert_allclose(central, [*grad_w, grad_b], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("n_features", "optimizer", "beta"), [(1, "gd", 0.0), (3, "gd", 0.0), (2, "momentum", 0.5)]
)
def test_full_batch_runs_match_a_literal_loop_with_the_penalty(n_features, optimizer, beta):
    data = gdcore.make_data(n_samples=40, n_features=n_features, noise=10.0, seed=5)
    hyper = {"beta": beta} if optimizer == "momentum" else {}
    run = gdcore.descend(
        data.X, data.y, alpha=0.05, epochs=60, w0=2.0, b0=1.0, l2=0.7, optimizer=optimizer, **hyper
    )
    w, b, losses = literal_gd(data.X, data.y, 0.05, 60, 2.0, 1.0, 0.7, beta=beta)
    np.testing.assert_allclose(run.weights[-1], w, rtol=1e-9)
    np.testing.assert_allclose(run.bias[-1], b, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(run.loss, losses, rtol=1e-9)  # the trajectory's losses are penalized


@pytest.mark.parametrize("n_features", [1, 3])
def test_minibatch_runs_match_a_literal_loop_with_the_penalty(n_features):
    data = gdcore.make_data(n_samples=23, n_features=n_features, noise=10.0, seed=6)
    run = gdcore.descend(
        data.X, data.y, alpha=0.02, epochs=15, w0=1.0, b0=-1.0, l2=0.4, batch_size=5, shuffle_seed=8
    )
    w, b, losses = literal_gd(data.X, data.y, 0.02, 15, 1.0, -1.0, 0.4, batch_size=5, seed=8)
    np.testing.assert_allclose(run.weights[-1], w, rtol=1e-9)
    np.testing.assert_allclose(run.bias[-1], b, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(run.loss, losses, rtol=1e-9)


def test_adam_with_the_penalty_ends_at_the_ridge_optimum():
    data = gdcore.make_data(n_samples=50, n_features=2, noise=5.0, seed=7)
    run = gdcore.descend(data.X, data.y, optimizer="adam", alpha=0.5, epochs=4000, l2=1.0, w0=0.0)
    ridge = Ridge(alpha=50 * 1.0, solver="cholesky").fit(data.X, data.y)
    np.testing.assert_allclose(run.weights[-1], ridge.coef_, rtol=1e-4)


def test_theory_follows_the_penalized_hessian():
    data = make_curve("cubic", n_samples=80, noise=1.0, seed=2)
    X = polynomial_features(data.X, 6)
    A = design_matrix(X)
    penalty = np.diag([1.0] * 6 + [0.0])
    kappas, alpha_maxes = [], []
    for l2 in (0.0, 0.1, 1.0, 10.0):
        quadratic = Quadratic.from_data(X, data.y, l2=l2)
        expected = np.linalg.eigvalsh(2 * A.T @ A / 80 + 2 * l2 * penalty)
        np.testing.assert_allclose(
            np.sort(quadratic.eigenvalues), expected, rtol=1e-6, atol=1e-9 * expected.max()
        )
        limits = gdcore.limits_for(quadratic, "gd")
        assert limits.alpha_max == pytest.approx(2.0 / expected.max(), rel=1e-9)
        assert limits.alpha_opt == pytest.approx(2.0 / (expected.min() + expected.max()), rel=1e-6)
        kappas.append(expected.max() / expected.min())
        alpha_maxes.append(limits.alpha_max)
    assert (np.diff(kappas) < 0).all()  # kappa shrinks as lambda grows
    assert (np.diff(alpha_maxes) < 0).all()  # and so does alpha_max


def test_forecast_epoch_with_the_penalty_is_the_literal_loops_epoch():
    data = gdcore.make_data(n_samples=30, n_features=2, noise=8.0, seed=1)
    quadratic = Quadratic.from_data(data.X, data.y, l2=2.0)
    _, _, losses = literal_gd(data.X, data.y, 0.05, 400, 1.0, 0.0, 2.0)
    gap = losses[0] - quadratic.loss_star
    literal_epoch = int(np.flatnonzero(losses[0] - losses >= 0.999 * gap)[0])
    assert gdcore.forecast_epoch(quadratic, np.array([1.0, 1.0, 0.0]), 0.05, "gd") == literal_epoch


def test_degree_and_l2_in_descend_are_validated_and_expand_the_features():
    data = make_curve(n_samples=30, seed=3)
    expanded = gdcore.descend(polynomial_features(data.X, 3), data.y, alpha=1e-3, epochs=20, l2=0.1)
    direct = gdcore.descend(data.X, data.y, alpha=1e-3, epochs=20, degree=3, l2=0.1)
    np.testing.assert_array_equal(direct.weights, expanded.weights)
    for bad in (-0.1, float("nan"), "1", 2e6):
        with pytest.raises(ValueError, match=r"l2 must be a finite number >= 0 and <= 1e\+06; got"):
            gdcore.descend(data.X, data.y, l2=bad)
    with pytest.raises(ValueError, match=r"degree must be an integer from 1 to 12; got 13"):
        gdcore.descend(data.X, data.y, degree=13)
    quadratic = Quadratic.from_data(data.X, data.y, l2=0.5)
    with pytest.raises(ValueError, match=r"l2=0.2 but the quadratic passed was made with l2=0.5"):
        gdcore.descend(data.X, data.y, quadratic=quadratic, l2=0.2)
    same = gdcore.descend(data.X, data.y, quadratic=quadratic)  # takes the quadratic's penalty
    np.testing.assert_array_equal(same.weights, gdcore.descend(data.X, data.y, l2=0.5).weights)


def cli_json(argv, capsys):
    from gdcore.cli import main

    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_json_optimum_is_the_ridge_solution_of_the_polynomial(capsys):
    out = cli_json(["--curve", "sine", "--degree", "4", "--l2", "0.2", "--alpha", "0.001"], capsys)
    data = make_curve("sine", n_samples=100, noise=1.0, seed=42)
    powers = np.column_stack([data.X[:, 0] ** k for k in range(1, 5)])
    ridge = Ridge(alpha=100 * 0.2, solver="cholesky").fit(powers, data.y)
    assert out["features"] == ["x", "x^2", "x^3", "x^4"]
    np.testing.assert_allclose(out["optimum"]["weights"], ridge.coef_, rtol=1e-8)
    assert out["optimum"]["bias"] == pytest.approx(ridge.intercept_, rel=1e-8)
    w = np.array(out["optimum"]["weights"])
    expected = penalized_loss(powers, data.y, w, out["optimum"]["bias"], 0.2)
    assert out["optimum"]["error"] == pytest.approx(expected, rel=1e-9)
    w, b, losses = literal_gd(powers, data.y, 0.001, 100, 1.0, 0.0, 0.2)
    np.testing.assert_allclose(out["weights"], w, rtol=1e-9)
    assert out["bias"] == pytest.approx(b, rel=1e-9, abs=1e-12)
    assert out["error"] == pytest.approx(losses.min(), rel=1e-9)


def test_cli_without_l2_keeps_the_least_squares_optimum_and_the_blog_line(capsys):
    from gdcore.cli import main

    out = cli_json(["--degree", "2"], capsys)
    data = gdcore.make_data()
    A = design_matrix(np.column_stack([data.X[:, 0], data.X[:, 0] ** 2]))
    expected, *_ = np.linalg.lstsq(A, data.y, rcond=None)
    np.testing.assert_allclose([*out["optimum"]["weights"], out["optimum"]["bias"]], expected, rtol=1e-8)
    assert main([]) == 0
    assert (
        capsys.readouterr().out.splitlines()[0]
        == "Best epoch: 100, Error: 378.512, Weights: 38.184, Bias: 0.451"
    )


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--degree", "0"], "degree must be an integer from 1 to 12; got 0"),
        (["--l2", "-1"], "l2 must be a finite number >= 0"),
        (["--features", "2", "--degree", "2"], "one input column"),
        (["--curve", "cubic", "--features", "3"], "--curve data has one input x"),
        (["--blog-bug", "--l2", "1"], "--blog-bug prints the blog's own line"),
    ],
)
def test_cli_bad_degree_or_l2_is_one_line_and_exit_2(capsys, flags, fragment):
    from gdcore.cli import main

    assert main(flags) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: ") and fragment in err and err.count("\n") == 1

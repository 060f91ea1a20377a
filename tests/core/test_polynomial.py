"""Polynomial features and curve data, checked against literal loops, numpy lstsq and numpy SVD."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import design_matrix

import gdcore
from gdcore.data import CUBIC_COEF, CUBIC_INTERCEPT, CurveSpec, make_curve
from gdcore.features import condition_by_degree, polynomial_features, standardized_columns
from gdcore.model import Quadratic


def literal_powers(x, degree):
    """x, x^2, ..., x^degree, one multiplication at a time."""
    rows = []
    for value in np.ravel(x):
        row, power = [], 1.0
        for _ in range(degree):
            power = power * float(value)
            row.append(power)
        rows.append(row)
    return np.array(rows)


def literal_gd(X, y, alpha, epochs, w0, b0):
    """Plain gradient descent with the blog's formulas, one row at a time; the last (w, b) and losses."""
    n, d = X.shape
    w, b = np.full(d, float(w0)), float(b0)
    losses = []
    for _ in range(epochs):
        grad_w, grad_b = np.zeros(d), 0.0
        for i in range(n):
            error = y[i] - (sum(X[i, j] * w[j] for j in range(d)) + b)
            for j in range(d):
                grad_w[j] += -2.0 / n * error * X[i, j]
            grad_b += -2.0 / n * error
        w, b = w - alpha * grad_w, b - alpha * grad_b
        losses.append(sum((y[i] - (X[i] @ w + b)) ** 2 for i in range(n)) / n)
    return w, b, np.array(losses)


@pytest.mark.parametrize("degree", [1, 2, 5, 12])
def test_polynomial_features_match_a_literal_loop(degree):
    x = make_curve(n_samples=37, seed=3).X
    np.testing.assert_allclose(polynomial_features(x, degree), literal_powers(x, degree), rtol=1e-14)
    np.testing.assert_allclose(polynomial_features(x[:, 0], degree), literal_powers(x, degree), rtol=1e-14)


@pytest.mark.parametrize("bad", [0, 13, 2.5, True, "3", None])
def test_degree_outside_1_to_12_is_refused_with_the_value(bad):
    with pytest.raises(ValueError, match=r"degree must be an integer from 1 to 12; got"):
        polynomial_features(np.arange(5.0), bad)


def test_polynomial_features_refuse_several_columns_and_overflow():
    with pytest.raises(ValueError, match=r"one input column.*shape \(4, 2\)"):
        polynomial_features(np.ones((4, 2)), 2)
    with pytest.raises(ValueError, match=r"overflows"):
        polynomial_features(np.array([1.0, 1e60]), 12)


@pytest.mark.parametrize("degree", [2, 3, 6])
def test_optimum_on_expanded_features_is_numpy_lstsq(degree):
    data = make_curve("sine", n_samples=80, noise=0.3, seed=5)
    X = polynomial_features(data.X, degree)
    expected, *_ = np.linalg.lstsq(design_matrix(X), data.y, rcond=None)
    np.testing.assert_allclose(Quadratic.from_data(X, data.y).theta_star, expected, rtol=1e-7, atol=1e-9)


def test_noiseless_cubic_recovers_its_true_coefficients():
    data = make_curve("cubic", n_samples=50, noise=0.0, seed=1)
    expected, *_ = np.linalg.lstsq(design_matrix(polynomial_features(data.X, 3)), data.y, rcond=None)
    np.testing.assert_allclose(expected, [*CUBIC_COEF, CUBIC_INTERCEPT], atol=1e-10)
    np.testing.assert_allclose(data.coef, CUBIC_COEF)


def test_engine_runs_unchanged_on_expanded_features_like_a_literal_loop():
    data = make_curve("cubic", n_samples=30, noise=0.5, seed=2)
    X = polynomial_features(data.X, 3)
    run = gdcore.descend(X, data.y, alpha=0.001, epochs=40, w0=0.5, b0=0.0)
    w, b, losses = literal_gd(X, data.y, 0.001, 40, 0.5, 0.0)
    np.testing.assert_allclose(run.weights[-1], w, rtol=1e-9)
    np.testing.assert_allclose(run.bias[-1], b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(run.loss[1:], losses, rtol=1e-9)


def test_gd_on_standardized_degree_5_reaches_the_lstsq_optimum():
    data = make_curve("sine", n_samples=100, noise=0.2, seed=7)
    Z = standardized_columns(polynomial_features(data.X, 5))
    expected, *_ = np.linalg.lstsq(design_matrix(Z), data.y, rcond=None)
    kappa = condition_by_degree(data.X, 5)["kappa_standardized"].iloc[-1]
    run = gdcore.descend(
        Z,
        data.y,
        alpha=0.5 / np.linalg.eigvalsh(2 * design_matrix(Z).T @ design_matrix(Z) / 100).max(),
        epochs=int(40 * kappa),
        w0=0.0,
    )
    np.testing.assert_allclose(np.append(run.weights[-1], run.bias[-1]), expected, rtol=1e-6, atol=1e-8)


def test_condition_by_degree_matches_numpy_singular_values():
    x = make_curve(n_samples=120, seed=11).X
    table = condition_by_degree(x)
    assert list(table["degree"]) == list(range(1, 13))
    for degree, raw, standardized in table.itertuples(index=False):
        powers = literal_powers(x, degree)
        z = (powers - powers.mean(axis=0)) / powers.std(axis=0)
        # kappa(A^T A) = (sigma_max / sigma_min)^2 of A = [X, 1], from numpy's SVD of A itself.
        for value, columns in ((raw, powers), (standardized, z)):
            sigma = np.linalg.svd(design_matrix(columns), compute_uv=False)
            assert value == pytest.approx((sigma[0] / sigma[-1]) ** 2, rel=1e-2)
    assert (np.diff(table["kappa_raw"]) > 0).all()  # explodes with the degree ...
    assert (table["kappa_standardized"] < table["kappa_raw"]).iloc[1:].all()  # ... and standardizing helps
    assert table["kappa_raw"].iloc[-1] / table["kappa_standardized"].iloc[-1] > 1e3


def test_curve_data_is_seeded_and_validated():
    a, b = CurveSpec(seed=4).make(), CurveSpec(seed=4).make()
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.y, CurveSpec(seed=5).make().y)
    assert CurveSpec(shape="sine", noise=0.5).changed() == {"shape": "sine", "noise": 0.5}
    assert np.isnan(make_curve("sine").coef).all()
    with pytest.raises(ValueError, match=r"shape must be one of cubic, sine; got 'square'"):
        make_curve("square")
    with pytest.raises(ValueError, match=r"noise must be"):
        make_curve(noise=-1)

"""The dashboard's data preparation with a polynomial degree and a ridge penalty, checked against
numpy lstsq and scikit-learn's Ridge on features expanded by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from gdcore.dashboard import experiment
from gdcore.data import CUBIC_COEF, make_curve, make_data


def powers(x, degree):
    return np.column_stack([np.ravel(x) ** k for k in range(1, degree + 1)])


def test_prepare_expands_the_input_and_fits_least_squares_on_the_powers():
    data = make_curve("cubic", n_samples=60, noise=0.5, seed=4)
    prepared = experiment.prepare(data, standardized=False, test_fraction=0.0, split_seed=0, degree=4)
    assert prepared.train.feature_names == ("x", "x^2", "x^3", "x^4")
    np.testing.assert_allclose(prepared.train.X, powers(data.X, 4), rtol=1e-14)
    A = np.column_stack([powers(data.X, 4), np.ones(60)])
    expected, *_ = np.linalg.lstsq(A, data.y, rcond=None)
    np.testing.assert_allclose([*prepared.fit.weights, prepared.fit.bias], expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(prepared.train.coef, [*CUBIC_COEF, 0.0])


def test_prepare_with_l2_has_the_ridge_optimum_and_the_penalized_loss():
    data = make_curve("sine", n_samples=50, noise=0.3, seed=5)
    prepared = experiment.prepare(data, standardized=True, test_fraction=0.2, split_seed=1, degree=6, l2=0.1)
    train = prepared.train
    ridge = Ridge(alpha=train.n_samples * 0.1, solver="cholesky").fit(train.X, train.y)
    np.testing.assert_allclose(prepared.fit.weights, ridge.coef_, rtol=1e-8)
    assert prepared.fit.bias == pytest.approx(ridge.intercept_, rel=1e-8)
    residual = train.y - ridge.predict(train.X)
    penalized = residual @ residual / train.n_samples + 0.1 * ridge.coef_ @ ridge.coef_
    assert prepared.fit.loss == pytest.approx(penalized, rel=1e-9)
    assert prepared.quadratic.l2 == 0.1
    # standardizing the powers shrinks kappa by orders of magnitude (the raw one is measured before)
    assert prepared.raw_condition_number > 1e3 * prepared.theory.condition_number


def test_prepare_refuses_a_degree_on_several_features_with_the_reason():
    with pytest.raises(ValueError, match=r"degree 3 needs data with one input x; this data has 2 features"):
        experiment.prepare(
            make_data(n_features=2), standardized=False, test_fraction=0.0, split_seed=0, degree=3
        )
    with pytest.raises(ValueError, match=r"l2 must be a finite number >= 0"):
        experiment.prepare(make_data(), standardized=False, test_fraction=0.0, split_seed=0, l2=-1.0)


def test_prepare_defaults_are_the_blogs_line():
    data = make_data()
    plain = experiment.prepare(data, standardized=False, test_fraction=0.0, split_seed=0)
    assert plain.quadratic.l2 == 0.0
    assert plain.train.feature_names == ("x",)
    assert (round(float(plain.fit.weights[0]), 3), round(plain.fit.bias, 3)) == (47.133, 2.33)

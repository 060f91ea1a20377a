"""`make_data`: the blog's make_regression data, reproducible from its seed."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_regression

import gdcore


def test_default_data_is_the_blogs_make_regression_call():
    """make_regression(n_samples=100, n_features=1, noise=20, random_state=42), as in the blog."""
    X, y, coef = make_regression(n_samples=100, n_features=1, noise=20, coef=True, random_state=42)
    data = gdcore.make_data()
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.coef, np.atleast_1d(coef))


def test_the_blogs_data_comes_without_importing_scikit_learn():
    """The default data is make_regression's stored output (gdcore.blog_data, compared bit for bit
    above): a fresh process makes it without importing scikit-learn; any other arguments import it."""
    script = (
        "import sys, gdcore\n"
        "gdcore.make_data()\n"
        "before = 'sklearn' in sys.modules\n"
        "gdcore.make_data(intercept=0.5)\n"
        "print(before, 'sklearn' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("change", [{"intercept": 0.5}, {"seed": 7}, {"noise": 5.0}, {"n_samples": 99}])
def test_any_other_arguments_call_make_regression(change):
    arguments = {"n_samples": 100, "n_features": 1, "noise": 20.0, "bias": 0.0, "random_state": 42}
    renamed = {"intercept": "bias", "seed": "random_state"}
    arguments |= {renamed.get(k, k): v for k, v in change.items()}
    X, y = make_regression(**arguments)
    data = gdcore.make_data(**change)
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.y, y)


def test_the_stored_data_is_a_fresh_copy_each_time():
    first = gdcore.make_data()
    first.X[0, 0] = 1e9
    assert gdcore.make_data().X[0, 0] != 1e9


@pytest.mark.parametrize(("n_samples", "n_features"), [(2, 1), (37, 4), (200, 50)])
def test_shapes_dtypes_and_names(n_samples, n_features):
    data = gdcore.make_data(n_samples=n_samples, n_features=n_features, seed=3)
    assert data.X.shape == (n_samples, n_features) and data.X.dtype == np.float64
    assert data.y.shape == (n_samples,) and data.y.dtype == np.float64
    assert data.coef.shape == (n_features,)
    assert len(data.feature_names) == n_features
    assert data.n_samples == n_samples and data.n_features == n_features
    assert "make_regression" in data.name


def test_feature_names_are_x_or_numbered():
    assert gdcore.make_data().feature_names == ("x",)
    assert gdcore.make_data(n_features=3).feature_names == ("x1", "x2", "x3")


@pytest.mark.parametrize("n_features", [1, 5])
def test_coef_is_the_true_coefficient_vector(n_features):
    """Without noise y = X @ coef exactly; with noise coef is what make_regression returns."""
    data = gdcore.make_data(n_samples=50, n_features=n_features, noise=0.0, seed=11)
    np.testing.assert_allclose(data.y, data.X @ data.coef, rtol=1e-12, atol=1e-12)
    _, _, coef = make_regression(n_samples=50, n_features=n_features, noise=20.0, coef=True, random_state=11)
    np.testing.assert_array_equal(gdcore.make_data(50, n_features, 20.0, 11).coef, np.atleast_1d(coef))


def test_same_seed_gives_the_same_data():
    first = gdcore.make_data(n_samples=80, n_features=3, noise=5.0, seed=123)
    second = gdcore.make_data(n_samples=80, n_features=3, noise=5.0, seed=123)
    np.testing.assert_array_equal(first.X, second.X)
    np.testing.assert_array_equal(first.y, second.y)
    np.testing.assert_array_equal(first.coef, second.coef)


def test_different_seeds_give_different_data():
    first = gdcore.make_data(n_samples=80, n_features=3, seed=1)
    second = gdcore.make_data(n_samples=80, n_features=3, seed=2)
    assert not np.array_equal(first.X, second.X)
    assert not np.array_equal(first.y, second.y)


def test_make_data_does_not_touch_the_global_rng():
    """Randomness comes only from the explicit seed: numpy's legacy global state is left alone."""
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (the global state is what is checked)
    gdcore.make_data(seed=9)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_noise_controls_the_scatter_around_the_true_line():
    """The residual spread around the true coefficients is about the noise level."""
    data = gdcore.make_data(n_samples=20_000, n_features=2, noise=7.0, seed=4)
    residual = data.y - data.X @ data.coef
    assert np.std(residual) == pytest.approx(7.0, rel=0.05)

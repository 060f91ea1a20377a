"""Every validation rule of issue 2, at every public entry point that takes the setting: a ValueError
whose message names the setting, states the allowed range and carries the bad value."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdcore
from gdcore.validation import LIMITS, check

X_OK = np.arange(10.0).reshape(-1, 1)
Y_OK = 3.0 * np.arange(10.0) + 1.0


def descend_with(**settings):
    return gdcore.descend(X_OK, Y_OK, **settings)


def reference_with(**settings):
    return gdcore.reference_descend(X_OK, Y_OK, **settings)


# (what is called, with which bad setting, and the fragments its message must contain)
SETTING_CASES = [
    # alpha: finite and > 0
    (descend_with, {"alpha": 0.0}, ["alpha", "> 0", "0.0"]),
    (descend_with, {"alpha": -0.5}, ["alpha", "> 0", "-0.5"]),
    (descend_with, {"alpha": math.nan}, ["alpha", "finite", "nan"]),
    (descend_with, {"alpha": math.inf}, ["alpha", "finite", "inf"]),
    (descend_with, {"alpha": "0.1"}, ["alpha", "> 0", "'0.1'"]),
    (descend_with, {"alpha": None}, ["alpha", "> 0", "None"]),
    (reference_with, {"alpha": -1e-3}, ["alpha", "> 0", "-0.001"]),
    # epochs: an integer 0..1,000,000
    (descend_with, {"epochs": -1}, ["epochs", "0 to 1,000,000", "-1"]),
    (descend_with, {"epochs": 1_000_001}, ["epochs", "0 to 1,000,000", "1,000,001"]),
    (descend_with, {"epochs": 2.5}, ["epochs", "integer", "2.5"]),
    (descend_with, {"epochs": math.nan}, ["epochs", "integer", "nan"]),
    (descend_with, {"epochs": True}, ["epochs", "integer", "True"]),
    (reference_with, {"epochs": -3}, ["epochs", "0 to 1,000,000", "-3"]),
    # w0 / b0: finite
    (descend_with, {"w0": math.nan}, ["w0", "finite", "nan"]),
    (descend_with, {"w0": -math.inf}, ["w0", "finite", "-inf"]),
    (descend_with, {"b0": math.inf}, ["b0", "finite", "inf"]),
    (descend_with, {"b0": "zero"}, ["b0", "finite", "'zero'"]),
    (reference_with, {"w0": math.nan}, ["w0", "finite", "nan"]),
    (reference_with, {"b0": math.nan}, ["b0", "finite", "nan"]),
    (descend_with, {"w0": [1.0, 2.0]}, ["w0", "1 entries", "2"]),
    # tol: optional, strictly between 0 and 1
    (descend_with, {"tol": 0.0}, ["tol", "> 0", "0.0"]),
    (descend_with, {"tol": 1.0}, ["tol", "< 1", "1.0"]),
    (descend_with, {"tol": math.nan}, ["tol", "finite", "nan"]),
    # make_data: n_samples 2..2,000,000; n_features 1..50; noise finite >= 0; seed 0..2**32-1
    (gdcore.make_data, {"n_samples": 1}, ["n_samples", "2 to 2,000,000", "1"]),
    (gdcore.make_data, {"n_samples": 2_000_001}, ["n_samples", "2 to 2,000,000", "2,000,001"]),
    (gdcore.make_data, {"n_samples": 10.5}, ["n_samples", "integer", "10.5"]),
    (gdcore.make_data, {"n_features": 0}, ["n_features", "1 to 50", "0"]),
    (gdcore.make_data, {"n_features": 51}, ["n_features", "1 to 50", "51"]),
    (gdcore.make_data, {"noise": -0.1}, ["noise", ">= 0", "-0.1"]),
    (gdcore.make_data, {"noise": math.nan}, ["noise", "finite", "nan"]),
    (gdcore.make_data, {"noise": math.inf}, ["noise", "finite", "inf"]),
    (gdcore.make_data, {"seed": -1}, ["seed", "0 to 4,294,967,295", "-1"]),
    (gdcore.make_data, {"seed": 2**32}, ["seed", "0 to 4,294,967,295", "4,294,967,296"]),
    (gdcore.make_data, {"seed": 1.5}, ["seed", "integer", "1.5"]),
]


@pytest.mark.parametrize(
    ("call", "settings", "fragments"),
    SETTING_CASES,
    ids=[f"{call.__name__}-{next(iter(kw))}={next(iter(kw.values()))!r}" for call, kw, _ in SETTING_CASES],
)
def test_bad_setting_is_rejected_with_its_value_and_range(call, settings, fragments):
    with pytest.raises(ValueError) as caught:
        call(**settings)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


def test_bad_entry_of_a_start_weight_vector_is_named():
    X = np.column_stack([X_OK[:, 0], X_OK[:, 0] ** 2])
    with pytest.raises(ValueError, match=r"w0\[1\] must be a finite number; got nan"):
        gdcore.descend(X, Y_OK, w0=[1.0, math.nan])


def test_theory_rate_validates_alpha():
    theory = gdcore.analyze(X_OK, Y_OK)
    with pytest.raises(ValueError, match=r"alpha must be a finite number > 0; got -1\.0"):
        theory.rate(-1.0)


# --- data arrays: finite, same length, >= 2 rows, accepted shapes ------------------------------------

ARRAY_ENTRY_POINTS = {
    "descend": lambda X, y: gdcore.descend(X, y),
    "reference_descend": lambda X, y: gdcore.reference_descend(X, y),
    "least_squares": gdcore.least_squares,
    "analyze": gdcore.analyze,
    "mse": lambda X, y: gdcore.mse(X, y, 1.0, 0.0),
    "gradient": lambda X, y: gdcore.gradient(X, y, 1.0, 0.0),
}


def with_nan_in_X():
    X = X_OK.copy()
    X[3, 0] = math.nan
    return X, Y_OK


def with_inf_in_y():
    y = Y_OK.copy()
    y[[1, 5]] = math.inf
    return X_OK, y


ARRAY_CASES = {
    "nan in X": (with_nan_in_X, ["finite", "1 row(s) of X"]),
    "inf in y": (with_inf_in_y, ["finite", "2 value(s) of y"]),
    "lengths differ": (lambda: (X_OK, Y_OK[:7]), ["same number of rows", "10 and 7"]),
    "one row": (lambda: (X_OK[:1], Y_OK[:1]), ["at least 2 rows", "got 1"]),
    "3-d X": (lambda: (X_OK.reshape(10, 1, 1), Y_OK), ["X must have shape", "(10, 1, 1)"]),
    "2-d y": (lambda: (X_OK, np.column_stack([Y_OK, Y_OK])), ["y must have shape", "(10, 2)"]),
    "text X": (lambda: (["a"] * 10, Y_OK), ["numeric"]),
}


@pytest.mark.parametrize("entry", list(ARRAY_ENTRY_POINTS))
@pytest.mark.parametrize("case", list(ARRAY_CASES))
def test_bad_data_is_rejected_at_every_entry_point(entry, case):
    make_arrays, fragments = ARRAY_CASES[case]
    X, y = make_arrays()
    with pytest.raises(ValueError) as caught:
        ARRAY_ENTRY_POINTS[entry](X, y)
    for fragment in fragments:
        assert fragment in str(caught.value), f"{fragment!r} missing from {caught.value!r}"


# --- what is allowed is accepted ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("epochs", 0),
        ("epochs", 1_000_000),
        ("n_samples", 2),
        ("n_samples", 2_000_000),
        ("n_features", 1),
        ("n_features", 50),
        ("seed", 0),
        ("seed", 2**32 - 1),
        ("noise", 0.0),
        ("alpha", 1e-12),
        ("alpha", 1e6),
    ],
)
def test_range_ends_are_accepted(name, value):
    assert check(name, value) == value


def test_numpy_scalars_are_accepted_as_settings():
    run = gdcore.descend(
        X_OK, Y_OK, alpha=np.float32(0.001), epochs=np.int64(5), w0=np.array(2.0), b0=np.float64(0)
    )
    assert run.epochs_run == 5 and run.weights[0, 0] == 2.0


def test_smallest_and_widest_data_sets_are_made():
    assert gdcore.make_data(n_samples=2, n_features=50, noise=0.0, seed=2**32 - 1).X.shape == (2, 50)


def test_limits_table_matches_the_issue():
    """The single table of allowed values states issue 2's ranges."""
    assert (LIMITS["epochs"].low, LIMITS["epochs"].high) == (0, 1_000_000)
    assert (LIMITS["n_samples"].low, LIMITS["n_samples"].high) == (2, 2_000_000)
    assert (LIMITS["n_features"].low, LIMITS["n_features"].high) == (1, 50)
    assert (LIMITS["seed"].low, LIMITS["seed"].high) == (0, 2**32 - 1)
    assert LIMITS["alpha"].low == 0.0 and LIMITS["alpha"].low_open
    assert LIMITS["noise"].low == 0.0 and not LIMITS["noise"].low_open


@pytest.mark.parametrize("entry", list(ARRAY_ENTRY_POINTS))
@pytest.mark.parametrize(
    ("X", "y", "fragment"),
    [
        ([1e200, 2e200, 3e200], [1.0, 2.0, 3.0], "max |X| = 3e+200"),
        ([1.0, 2.0, 3.0], [1e160, 0.0, 1.0], "max |y| = 1e+160"),
    ],
)
def test_data_too_large_to_square_is_rejected_not_overflowed(entry, X, y, fragment):
    """Finite but huge values would overflow X^T X (a RuntimeWarning, then an IndexError in analyze):
    they are rejected up front with the size found."""
    with pytest.raises(ValueError) as caught:
        ARRAY_ENTRY_POINTS[entry](X, y)
    assert "at most 1e+100" in str(caught.value) and fragment in str(caught.value)


def test_data_at_the_magnitude_limit_is_analyzed_without_warnings():
    X = np.array([1e100, -1e100, 5e99])
    theory = gdcore.analyze(X, [1.0, 2.0, 3.0])
    assert np.isfinite(theory.eigenvalues).all()

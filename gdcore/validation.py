"""Allowed values, declared once, and the checks that enforce them.

Every public entry point of gdcore validates through this module, so the dashboard, the command line
and a notebook all get the same `ValueError` messages, each carrying the bad value and the allowed range.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class IntRange:
    """An integer in [low, high]."""

    low: int
    high: int

    def describe(self) -> str:
        return f"an integer from {self.low:,} to {self.high:,}"

    def check(self, name: str, value: object) -> int:
        whole_real = isinstance(value, numbers.Real) and float(value).is_integer()
        if isinstance(value, bool | np.bool_) or not (isinstance(value, numbers.Integral) or whole_real):
            raise ValueError(f"{name} must be {self.describe()}; got {value!r}")
        value = int(value)
        if not self.low <= value <= self.high:
            raise ValueError(f"{name} must be {self.describe()}; got {value:,}")
        return value


@dataclass(frozen=True)
class RealRange:
    """A finite real number between low and high; open ends are excluded."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return "a finite number" + (" " + " and ".join(parts) if parts else "")

    def check(self, name: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be {self.describe()}; got {value!r}")
        value = float(value)
        ok = math.isfinite(value)
        if ok and self.low is not None:
            ok = value > self.low if self.low_open else value >= self.low
        if ok and self.high is not None:
            ok = value < self.high if self.high_open else value <= self.high
        if not ok:
            raise ValueError(f"{name} must be {self.describe()}; got {value!r}")
        return value


# The single table of allowed values (compare scikit-learn's `_parameter_constraints`).
LIMITS: dict[str, IntRange | RealRange] = {
    "alpha": RealRange(low=0.0, low_open=True),
    "epochs": IntRange(0, 1_000_000),
    "n_samples": IntRange(2, 2_000_000),
    "n_features": IntRange(1, 50),
    "noise": RealRange(low=0.0),
    "seed": IntRange(0, 2**32 - 1),
    "w0": RealRange(),
    "b0": RealRange(),
    "tol": RealRange(low=0.0, low_open=True, high=1.0, high_open=True),
    "intercept": RealRange(),
    "batch_size": IntRange(1, 2_000_000),
    "shuffle_seed": IntRange(0, 2**32 - 1),
    "degree": IntRange(1, 12),
    "l2": RealRange(low=0.0, high=1e6),
}

MAX_FEATURES = LIMITS["n_features"].high
# Largest |value| allowed in X and y: 2,000,000 rows of squares of it still sum to a finite float64.
MAX_ABS_DATA = 1e100


def check(name: str, value: object):
    """Validate `value` against LIMITS[name]; return it as int or float, or raise ValueError."""
    return LIMITS[name].check(name, plain_scalar(value))


def check_optional(name: str, value: object):
    """Like `check`, but None passes through (an optional setting left unset)."""
    return None if value is None else check(name, value)


def as_regression_arrays(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Return X as float64 (N, d) and y as float64 (N,), or raise ValueError saying what is wrong.

    Accepts X of shape (N,), (N, 1) or (N, d) and y of shape (N,) or (N, 1). A flat y is what keeps
    `y - X @ w` an (N,) vector: the blog's (N, 1) minus (N,) broadcasts to an (N, N) matrix.
    """
    X, y = _real_array("X", X), _real_array("y", y)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N,), (N, 1) or (N, d); got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must have shape (N,) or (N, 1); got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows; got {X.shape[0]} and {y.shape[0]}")
    if X.shape[0] < 2:
        raise ValueError(f"at least 2 rows of data are needed; got {X.shape[0]}")
    if X.shape[1] < 1:
        raise ValueError("X must have at least one feature column; got 0")
    # Read-only reductions, no temporaries: NaN propagates through max/min and fails the comparison.
    largest_x = float(max(X.max(), -X.min()))
    largest_y = float(max(y.max(), -y.min()))
    if largest_x <= MAX_ABS_DATA and largest_y <= MAX_ABS_DATA:
        return X, y
    bad_x = int(np.count_nonzero(~np.isfinite(X).all(axis=1)))
    bad_y = int(np.count_nonzero(~np.isfinite(y)))
    if bad_x or bad_y:
        raise ValueError(
            "X and y must be finite (no NaN or inf); "
            f"got {bad_x} row(s) of X and {bad_y} value(s) of y that are not"
        )
    raise ValueError(
        f"X and y values must be at most {MAX_ABS_DATA:g} in magnitude (rescale the data: sums of "
        f"squares would overflow); got max |X| = {largest_x:g}, max |y| = {largest_y:g}"
    )


def _real_array(name: str, values: object) -> np.ndarray:
    """`values` as a float64 array; ValueError for text, ragged lists or complex numbers (numpy would
    drop an imaginary part with only a warning)."""
    try:
        array = np.asarray(values)
        complex_values = np.iscomplexobj(array)
        if not complex_values:
            return array.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X and y must be numeric arrays; {exc}") from None
    raise ValueError(f"{name} has complex values (dtype {array.dtype}); only real numbers are allowed")


def as_start_weights(w0: object, n_features: int) -> np.ndarray:
    """Return the starting weights as a float64 (d,) array: a scalar is repeated for every weight."""
    if np.ndim(w0) == 0:
        return np.full(n_features, check("w0", plain_scalar(w0)))
    values = list(np.asarray(w0, dtype=object).ravel())
    if len(values) != n_features:
        raise ValueError(f"w0 must be a scalar or have {n_features} entries; got {len(values)}")
    out = np.empty(n_features)
    for i, v in enumerate(values):
        out[i] = LIMITS["w0"].check(f"w0[{i}]", plain_scalar(v))
    return out


def refuse_unknown(given: Iterable[str], known: Iterable[str], kind: str, owner: str) -> None:
    """ValueError naming every name in `given` that is not in `known`, and what `owner` takes: a typo
    must not silently run with the default ("unknown {kind}(s) ... for {owner}; it takes ...")."""
    known = list(known)
    unknown = sorted(set(given) - set(known))
    if unknown:
        takes = ", ".join(known) if known else f"no {kind}s"
        raise ValueError(f"unknown {kind}(s) {', '.join(unknown)} for {owner}; it takes {takes}")


def plain_scalar(value: object) -> object:
    """A numpy scalar or 0-d array as the Python number it holds; anything else unchanged."""
    if isinstance(value, np.generic | np.ndarray) and np.ndim(value) == 0:
        return value.item()
    return value

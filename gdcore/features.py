"""Polynomial features: one input x expanded into x, x^2, ..., x^d, and how that conditions the loss.

The model stays linear in its parameters, y_hat = w_1 x + w_2 x^2 + ... + w_d x^d + b, so the loss is
still a quadratic in theta = (w, b) and every run path of the engine applies unchanged to the expanded
columns. What changes is the Hessian H = (2/N) A^T A, A = [x, x^2, ..., x^d, 1]: the powers of x are
nearly collinear and of very different sizes, so its condition number kappa = lambda_max / lambda_min
grows by orders of magnitude per degree; standardizing the expanded columns removes most of that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gdcore.model import Quadratic
from gdcore.validation import as_regression_arrays, check


def polynomial_features(x, degree: int) -> np.ndarray:
    """The (N, degree) matrix [x, x^2, ..., x^degree] of one input x, given as (N,) or (N, 1).

    `degree` is an integer from 1 to 12 (`LIMITS["degree"]`); ValueError for anything else, for x with
    more than one column, or for values whose powers overflow.
    """
    degree = check("degree", degree)
    shape = np.shape(x)
    if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
        raise ValueError(
            f"polynomial features expand one input column, x of shape (N,) or (N, 1); got shape {shape} "
            "(use degree 1 for several features)"
        )
    x, _ = as_regression_arrays(x, np.zeros(shape[0]))
    with np.errstate(over="ignore", invalid="ignore"):
        powers = x ** np.arange(1, degree + 1)
    if not np.isfinite(powers).all():
        raise ValueError(
            f"x^{degree} overflows for max |x| = {float(np.abs(x).max()):g}: rescale x or lower the degree"
        )
    return powers


def standardized_columns(X: np.ndarray) -> np.ndarray:
    """Each column as z = (x - mean) / std (population std, as scikit-learn's StandardScaler); a constant
    column becomes zeros."""
    scale = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)


def condition_number(X: np.ndarray) -> float:
    """kappa = lambda_max / lambda_min of H = (2/N) A^T A, A = [X, 1]; inf when H is singular to rounding
    (an eigenvalue `Quadratic` sets to 0: a flat direction)."""
    eigenvalues = Quadratic.from_data(X, np.zeros(X.shape[0])).eigenvalues
    smallest = float(eigenvalues.min())
    return float(eigenvalues.max()) / smallest if smallest > 0 else float("inf")


def condition_by_degree(x, max_degree: int = 12) -> pd.DataFrame:
    """kappa of the loss for each degree 1..max_degree, on the raw powers of x and on the same powers
    standardized column by column: columns `degree`, `kappa_raw`, `kappa_standardized`."""
    max_degree = check("degree", max_degree)
    powers = polynomial_features(x, max_degree)
    rows = []
    for degree in range(1, max_degree + 1):
        raw = powers[:, :degree]
        rows.append((degree, condition_number(raw), condition_number(standardized_columns(raw))))
    return pd.DataFrame(rows, columns=["degree", "kappa_raw", "kappa_standardized"])


def polynomial_names(name: str, degree: int) -> tuple[str, ...]:
    """The expanded columns' names: ("x", "x^2", ..., "x^degree") for name "x"."""
    return (name, *(f"{name}^{k}" for k in range(2, check("degree", degree) + 1)))

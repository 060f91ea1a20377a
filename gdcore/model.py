"""The model y_hat = X w + b, its MSE cost and gradients, and the cost as a quadratic form.

Two views of the same cost:

* `mse` and `gradient` read the data directly: the blog's formulas, vectorised and shape-safe.
* `Quadratic` keeps only the sufficient statistics of the data. With A = [X, 1] and theta = (w, b),

      J(theta) = J* + (theta - theta*)^T M (theta - theta*),     M = A^T A / N,

  so after one O(N d^2) pass every loss, gradient and Hessian costs O(d^2), whatever N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcore.validation import as_regression_arrays


def mse(X, y, w, b) -> float:
    """J(w, b) = (1/N) * sum_i (y_i - (x_i . w + b))^2."""
    X, y = as_regression_arrays(X, y)
    residual = y - (X @ np.broadcast_to(np.asarray(w, dtype=np.float64), X.shape[1:]) + b)
    return float(residual @ residual / y.shape[0])


def gradient(X, y, w, b) -> tuple[np.ndarray, float]:
    """dJ/dw = -(2/N) * sum_i (y_i - y_hat_i) x_i  and  dJ/db = -(2/N) * sum_i (y_i - y_hat_i)."""
    X, y = as_regression_arrays(X, y)
    n = y.shape[0]
    residual = y - (X @ np.broadcast_to(np.asarray(w, dtype=np.float64), X.shape[1:]) + b)
    return (-2.0 / n) * (X.T @ residual), float((-2.0 / n) * residual.sum())


@dataclass(frozen=True)
class Quadratic:
    """The MSE of one data set as a quadratic in theta = (w_1..w_d, b).

    Attributes: `moment` M = A^T A / N, `cross` c = A^T y / N, `theta_star` the minimum-norm minimiser,
    `loss_star` J(theta_star), and the eigen-decomposition H = Q diag(lam) Q^T of the Hessian
    H = (2/N) A^T A, with eigenvalues below a rounding threshold set to exactly 0 (flat directions).
    """

    n_samples: int
    moment: np.ndarray
    cross: np.ndarray
    theta_star: np.ndarray
    loss_star: float
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray

    @property
    def n_params(self) -> int:
        return int(self.moment.shape[0])

    @classmethod
    def from_data(cls, X, y) -> Quadratic:
        """One pass over the data: X^T X, X^T 1, X^T y, 1^T y (A = [X, 1] is never built)."""
        X, y = as_regression_arrays(X, y)
        n, d = X.shape
        x_sum = X.sum(axis=0)
        moment = np.empty((d + 1, d + 1))
        moment[:d, :d] = X.T @ X
        moment[:d, d] = moment[d, :d] = x_sum
        moment[d, d] = n
        moment /= n
        cross = np.append(X.T @ y, y.sum()) / n
        eigenvalues, eigenvectors = np.linalg.eigh(2.0 * moment)
        cutoff = eigenvalues.max() * (d + 1) * np.finfo(np.float64).eps * 16
        eigenvalues = np.where(eigenvalues > cutoff, eigenvalues, 0.0)
        # theta* = H^+ (2c): the minimum-norm solution of the normal equations.
        inverse = np.divide(1.0, eigenvalues, out=np.zeros_like(eigenvalues), where=eigenvalues > 0)
        theta_star = eigenvectors @ (inverse * (eigenvectors.T @ (2.0 * cross)))
        residual = y - (X @ theta_star[:d] + theta_star[d])
        loss_star = float(residual @ residual / n)
        return cls(n, moment, cross, theta_star, loss_star, eigenvalues, eigenvectors)

    def loss(self, theta: np.ndarray) -> np.ndarray:
        """J(theta) = J* + e^T M e with e = theta - theta*; theta may be (p,) or (..., p)."""
        error = np.asarray(theta, dtype=np.float64) - self.theta_star
        return self.loss_star + np.einsum("...i,ij,...j->...", error, self.moment, error)

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """dJ/dtheta = 2 (M theta - c); theta may be (p,) or (..., p)."""
        return 2.0 * (np.asarray(theta, dtype=np.float64) @ self.moment - self.cross)

"""The model y_hat = X w + b, its MSE cost and gradients, and the cost as a quadratic form.

Two views of the same cost:

* `mse` and `gradient` read the data directly: the blog's formulas, vectorised and shape-safe.
* `Quadratic` keeps only the sufficient statistics of the data. With A = [X, 1], theta = (w, b) and any
  reference point theta_r with residual r = y - A theta_r, the loss is exactly

      J(theta_r + delta) = J(theta_r) - 2 (A^T r / N)^T delta + delta^T M delta,     M = A^T A / N,

  so after one O(N d^2) pass every loss, gradient and Hessian costs O(d^2), whatever N. The linear term
  vanishes only in exact arithmetic at the optimum; it is kept, so a loss from the statistics is the
  data loss of its parameters to rounding.
* `StartPoint` is a run's start measured on the data itself (J_0, the gradient, the residual): runs move
  relative to it, so a start on an exact fit has loss 0 and gradient 0 exactly, as in the literal loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcore.validation import as_regression_arrays, check


def mse(X, y, w, b) -> float:
    """J(w, b) = (1/N) * sum_i (y_i - (x_i . w + b))^2 (inf when it overflows)."""
    X, y = as_regression_arrays(X, y)
    with np.errstate(over="ignore", invalid="ignore"):
        residual = y - (X @ np.broadcast_to(np.asarray(w, dtype=np.float64), X.shape[1:]) + b)
        return float(residual @ residual / y.shape[0])


def gradient(X, y, w, b) -> tuple[np.ndarray, float]:
    """dJ/dw = -(2/N) * sum_i (y_i - y_hat_i) x_i  and  dJ/db = -(2/N) * sum_i (y_i - y_hat_i)."""
    X, y = as_regression_arrays(X, y)
    n = y.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        residual = y - (X @ np.broadcast_to(np.asarray(w, dtype=np.float64), X.shape[1:]) + b)
        return (-2.0 / n) * (X.T @ residual), float((-2.0 / n) * residual.sum())


@dataclass(frozen=True)
class Quadratic:
    """The MSE of one data set as a quadratic in theta = (w_1..w_d, b), plus an optional ridge penalty.

    With `l2` = lambda > 0 the loss is J(w, b) = mean((y - X w - b)^2) + lambda ||w||^2 (the bias is not
    penalized): the penalty lives in the moment matrix, M = A^T A / N + lambda P with P = diag(1, ..., 1, 0),
    and in theta*, J*, and the eigenvalues, so every closed form, limit and forecast built on them is that
    of the penalized loss. theta* is then the ridge solution; it equals scikit-learn's
    `Ridge(alpha=N * lambda)` (which minimises ||y - X w - b||^2 + alpha ||w||^2, N times our J).

    Attributes: `moment` M = A^T A / N, `cross` c = A^T y / N, `theta_star` the minimum-norm minimiser,
    `loss_star` J(theta_star) and `residual_cross` A^T r* / N (r* = y - A theta*), both measured on the
    data, `y_mean_square` mean(y^2) = J(0), and the eigen-decomposition H = Q diag(lam) Q^T of the Hessian
    H = (2/N) A^T A, with eigenvalues below a rounding threshold set to exactly 0 (flat directions).
    """

    n_samples: int
    moment: np.ndarray
    cross: np.ndarray
    theta_star: np.ndarray
    loss_star: float
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    residual_cross: np.ndarray
    y_mean_square: float
    l2: float = 0.0

    @property
    def n_params(self) -> int:
        return int(self.moment.shape[0])

    @classmethod
    def from_data(cls, X, y, l2: float = 0.0) -> Quadratic:
        """One pass over the data: X^T X, X^T 1, X^T y, 1^T y (A = [X, 1] is never built); `l2` = lambda
        >= 0 adds lambda ||w||^2 to the loss (ValueError for a bad value)."""
        X, y = as_regression_arrays(X, y)
        return cls.from_checked(X, y, check("l2", l2))

    @classmethod
    def from_checked(cls, X: np.ndarray, y: np.ndarray, l2: float = 0.0) -> Quadratic:
        """`from_data` for X (N, d) and y (N,) float64 already validated (`as_regression_arrays`).
        Passes over X: X^T X, y^T X, the column sums, X theta*, r*^T X; no array of N rows but r*."""
        n, d = X.shape
        moment = np.empty((d + 1, d + 1))
        moment[:d, :d] = X.T @ X
        moment[:d, d] = moment[d, :d] = column_sums(X)
        moment[d, d] = n
        moment /= n
        moment[np.arange(d), np.arange(d)] += l2  # the ridge penalty's lambda P (0 without one)
        cross = np.append(y @ X, y.sum()) / n
        eigenvalues, eigenvectors = np.linalg.eigh(2.0 * moment)
        cutoff = eigenvalues.max() * (d + 1) * np.finfo(np.float64).eps * 16
        eigenvalues = np.where(eigenvalues > cutoff, eigenvalues, 0.0)
        # theta* = H^+ (2c): the minimum-norm solution of the normal equations.
        inverse = np.divide(1.0, eigenvalues, out=np.zeros_like(eigenvalues), where=eigenvalues > 0)
        theta_star = eigenvectors @ (inverse * (eigenvectors.T @ (2.0 * cross)))
        residual = residual_of(X, y, theta_star)
        loss_star = float(residual @ residual / n + l2 * (theta_star[:d] @ theta_star[:d]))
        residual_cross = np.append(residual @ X, residual.sum()) / n
        residual_cross[:d] -= l2 * theta_star[:d]  # -(1/2) dJ/dtheta at theta*, penalty included
        return cls(
            n,
            moment,
            cross,
            theta_star,
            loss_star,
            eigenvalues,
            eigenvectors,
            residual_cross,
            float(y @ y / n),
            l2,
        )

    def loss(self, theta: np.ndarray) -> np.ndarray:
        """J(theta) = J* - 2 (A^T r*/N)^T e + e^T M e with e = theta - theta*, never below 0 (a clamp that
        only rounding can reach); theta may be (p,) or (..., p)."""
        error = np.asarray(theta, dtype=np.float64) - self.theta_star
        quadratic = ((error @ self.moment) * error).sum(axis=-1)
        return np.maximum(self.loss_star - 2.0 * (error @ self.residual_cross) + quadratic, 0.0)

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """dJ/dtheta = 2 (M e - A^T r*/N) with e = theta - theta*; theta may be (p,) or (..., p)."""
        error = np.asarray(theta, dtype=np.float64) - self.theta_star
        return 2.0 * (error @ self.moment - self.residual_cross)


@dataclass(frozen=True, eq=False)
class StartPoint:
    """A run's start theta_0, measured on the data: residual r_0 = y - A theta_0 (N,), loss
    J_0 = mean(r_0^2) and gradient g_0 = -(2/N) A^T r_0 (plus lambda ||w_0||^2 and 2 lambda w_0 with the
    quadratic's ridge penalty).

    Runs move relative to it: a batch's gradient after a move delta is H_B delta - (2/n_B) A_B^T r_0,B,
    the full batch's g_0 + H delta. On an exact fit r_0 = 0 exactly, so J_0 = 0 and nothing moves, as in
    the literal loop.
    """

    theta: np.ndarray
    residual: np.ndarray
    loss: float
    grad: np.ndarray

    @classmethod
    def measure(cls, X: np.ndarray, y: np.ndarray, quadratic: Quadratic, theta0: np.ndarray) -> StartPoint:
        """One O(N d) pass over validated data; none at theta_0 = 0, where r_0 = y and the rest is known."""
        theta0 = np.asarray(theta0, dtype=np.float64)
        if not theta0.any():
            return cls(theta0, y, quadratic.y_mean_square, -2.0 * quadratic.cross)
        n = X.shape[0]
        with np.errstate(over="ignore", invalid="ignore"):
            residual = residual_of(X, y, theta0)
            loss = float(residual @ residual / n)
            grad = (-2.0 / n) * np.append(residual @ X, residual.sum())
            if quadratic.l2:  # the ridge penalty lambda ||w_0||^2 and its gradient 2 lambda w_0
                loss += quadratic.l2 * float(theta0[:-1] @ theta0[:-1])
                grad[:-1] += 2.0 * quadratic.l2 * theta0[:-1]
        return cls(theta0, residual, loss, grad)

    def loss_at(self, quadratic: Quadratic, delta: np.ndarray) -> np.ndarray:
        """J(theta_0 + delta) for moves delta (..., p), never below 0, from whichever expansion rounds
        less there: around the start, J_0 + g_0^T delta + delta^T M delta, or around the optimum
        (`Quadratic.loss`). Each rounds in proportion to the size of its terms, |J| + |g||e| + |e|^T|M||e|
        for its own e, so near the start (or far out along a nearly flat direction) the first is exact
        where the second cancels, and near the optimum the other way round. Exactly J_0 where delta = 0.
        """
        magnitude = np.abs(quadratic.moment)
        with np.errstate(over="ignore", invalid="ignore"):
            from_start = self.loss + delta @ self.grad + ((delta @ quadratic.moment) * delta).sum(axis=-1)
            size = np.abs(delta)
            start_rounding = self.loss + size @ np.abs(self.grad) + ((size @ magnitude) * size).sum(axis=-1)
            error = (self.theta + delta) - quadratic.theta_star
            size = np.abs(error)
            optimum_rounding = (
                quadratic.loss_star
                + 2.0 * (size @ np.abs(quadratic.residual_cross))
                + ((size @ magnitude) * size).sum(axis=-1)
            )
            loss = np.where(
                start_rounding <= optimum_rounding, from_start, quadratic.loss(self.theta + delta)
            )
        return np.where((delta == 0.0).all(axis=-1), self.loss, np.maximum(loss, 0.0))


SUM_BLOCK_ROWS = 1 << 16  # column_sums: rows summed per matrix-vector product


def column_sums(X: np.ndarray) -> np.ndarray:
    """1^T X in blocks of SUM_BLOCK_ROWS rows: a fast matrix-vector product per block (X.sum(axis=0) is
    several times slower on C-ordered data) without a vector of N ones."""
    ones = np.ones(min(X.shape[0], SUM_BLOCK_ROWS))
    total = np.zeros(X.shape[1])
    for begin in range(0, X.shape[0], SUM_BLOCK_ROWS):
        block = X[begin : begin + SUM_BLOCK_ROWS]
        total += ones[: block.shape[0]] @ block
    return total


def residual_of(X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """r = y - X w - b for theta = (w, b), built in one array of N (no temporaries of that size)."""
    residual = X @ theta[:-1]
    residual += theta[-1]
    np.subtract(y, residual, out=residual)
    return residual

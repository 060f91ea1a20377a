"""What can be known before running: the least-squares optimum and the step-size theory of plain GD."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdcore.model import Quadratic
from gdcore.validation import as_regression_arrays, check


@dataclass(frozen=True)
class Fit:
    """The closed-form optimum: weights (d,), bias, and its loss: the least-squares fit and its MSE, or
    with a ridge penalty `l2` = lambda > 0 (`ridge_fit`) the ridge solution and its penalized loss
    MSE + lambda ||w||^2."""

    weights: np.ndarray
    bias: float
    loss: float
    rank: int
    note: str = ""
    l2: float = 0.0


def least_squares(X, y) -> Fit:
    """argmin_{w,b} mean((y - X w - b)^2): numpy's lstsq on A = [X, 1].

    When the minimiser is not unique (a constant feature, a column that is an affine copy a x + c of
    another, fewer rows than parameters) this is the one of least norm ||(w, b)||, the bias counted like a
    weight, which is also `Quadratic.theta_star`. (Centring first would give another one: the least
    ||w||, with the bias then fixed by the means, and it counts the centring's rounding of an affine copy
    as one more direction.) `rank` is that of A, as `numpy.linalg.matrix_rank` counts it, and `loss` the
    data's MSE at (w, b).
    """
    X, y = as_regression_arrays(X, y)
    n, d = X.shape
    A = np.empty((n, d + 1))
    A[:, :d] = X
    A[:, d] = 1.0
    theta, _, rank, _ = np.linalg.lstsq(A, y, rcond=None)
    weights, bias = theta[:d], float(theta[d])
    residual = y - (X @ weights + bias)
    note = ""
    if rank < d + 1:
        note = (
            f"the features and the intercept span only {rank} of {d + 1} directions (a constant or "
            "repeated feature, one that is a multiple of another plus a constant, or fewer rows than "
            "parameters): many lines fit equally well; this is the one with the smallest (w, b)"
        )
    return Fit(weights, bias, float(residual @ residual / n), int(rank), note)


@dataclass(frozen=True)
class Theory:
    """Step-size theory of full-batch GD on this data, from the Hessian H = (2/N) A^T A (A = [X, 1]).

    Plain GD satisfies theta_t - theta* = (I - alpha H)^t (theta_0 - theta*), so each eigen-direction
    of the error is multiplied by (1 - alpha lambda_i) per epoch.
    """

    eigenvalues: np.ndarray
    alpha_max: float
    alpha_opt: float
    condition_number: float
    flat_directions: int

    @property
    def lambda_min(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def lambda_max(self) -> float:
        return float(self.eigenvalues[-1])

    def rate(self, alpha: float) -> float:
        """max_i |1 - alpha lambda_i|: the per-epoch contraction of the parameter error (< 1 converges);
        inf where alpha lambda overflows."""
        alpha = check("alpha", alpha)
        with np.errstate(over="ignore"):
            return float(np.max(np.abs(1.0 - alpha * self.eigenvalues)))

    def loss_rate(self, alpha: float) -> float:
        """Per-epoch factor of the loss gap J_t - J* in the slowest direction: max |1 - alpha lambda_i|^2
        over lambda_i > 0 (= rate(alpha)^2 without flat directions, which add nothing to the loss gap)."""
        alpha = check("alpha", alpha)
        moving = self.eigenvalues[self.eigenvalues > 0]
        with np.errstate(over="ignore"):
            return float(np.square(np.max(np.abs(1.0 - alpha * moving))))

    def epochs_to_shrink(self, alpha: float, factor: float) -> float:
        """Epochs t with rate^(2t) = factor: how long the loss gap takes to shrink by `factor` (< 1).

        inf when the run does not converge at this alpha (rate >= 1).
        """
        loss_rate = self.loss_rate(alpha)
        if loss_rate >= 1.0:
            return math.inf
        if loss_rate == 0.0:
            return 1.0
        return math.log(factor) / math.log(loss_rate)

    @property
    def note(self) -> str:
        if self.flat_directions == 0:
            return ""
        return (
            f"{self.flat_directions} flat direction(s) (λ = 0): the loss does not change along "
            "them, so GD never moves there and the optimum is not unique."
        )


def ridge_fit(quadratic: Quadratic) -> Fit:
    """The optimum of the loss a `Quadratic` describes, penalty included: with l2 = lambda, the ridge
    solution argmin mean((y - X w - b)^2) + lambda ||w||^2 (scikit-learn's `Ridge(alpha=N * lambda)`),
    `loss` its penalized J*; `rank` counts the Hessian's nonzero eigenvalues."""
    theta = quadratic.theta_star
    rank = int(np.count_nonzero(quadratic.eigenvalues))
    return Fit(theta[:-1].copy(), float(theta[-1]), quadratic.loss_star, rank, l2=quadratic.l2)


def analyze(X, y) -> Theory:
    """Hessian eigenvalues, alpha_max = 2 / lambda_max, alpha_opt = 2 / (lambda_min + lambda_max).

    With flat directions (lambda = 0) the condition number is infinite and alpha_opt uses the smallest
    non-zero eigenvalue, the slowest direction that GD can still move along.
    """
    return analyze_quadratic(Quadratic.from_data(X, y))


def analyze_quadratic(quadratic: Quadratic) -> Theory:
    """`analyze` from the sufficient statistics already computed."""
    eigenvalues = np.sort(quadratic.eigenvalues)
    lam_max = float(eigenvalues[-1])
    positive = eigenvalues[eigenvalues > 0]
    flat = int(eigenvalues.size - positive.size)
    lam_min_moving = float(positive[0])
    return Theory(
        eigenvalues=eigenvalues,
        alpha_max=2.0 / lam_max,
        alpha_opt=2.0 / (lam_min_moving + lam_max),
        condition_number=math.inf if flat else lam_max / float(eigenvalues[0]),
        flat_directions=flat,
    )

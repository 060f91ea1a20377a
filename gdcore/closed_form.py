r"""Full-batch GD, momentum and Nesterov in closed form: each is a linear recurrence on a quadratic loss.

In the eigenbasis of the Hessian H = Q diag(lambda) Q^T the error e = Q^T (theta - theta*) splits into
independent coordinates. Plain GD multiplies coordinate i by r_i = 1 - alpha lambda_i every epoch,

    e_t = r^t * e_0,    theta_t = theta* + Q e_t,    J(theta_t) = J* + 1/2 sum_i lambda_i e_{t,i}^2,

and momentum/Nesterov move each (velocity, error) pair by a constant 2x2 matrix T_i, so
(v, e)_t = T_i^t (v, e)_0. A run therefore costs O(K d^2) after one O(N d^2) pass over the data, and
equals the literal loop of `gdcore.reference` (tested to 1e-9). This is the one home of those formulas:
`gdcore.stepping` runs them in chunks of epochs, `gdcore.sweep` evaluates GD's for many alphas at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from gdcore.model import Quadratic
from gdcore.trajectory import CHUNK_EPOCHS, QUIET


def gd_error(rates: np.ndarray, error0: np.ndarray, t: np.ndarray) -> np.ndarray:
    """e_t = r^t * e_0 per eigen-coordinate; `rates` (..., p) broadcasts against `t` (..., 1).

    An exactly-zero coordinate of e_0 stays zero even where r^t overflows (0 * inf would be NaN).
    """
    with np.errstate(**QUIET):
        return np.where(error0 != 0.0, np.power(rates, t) * error0, 0.0)


def state_at(quadratic: Quadratic, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(J, theta) from eigen-coordinate errors (..., p): theta = theta* + Q e, J = J* + 1/2 sum lambda e^2."""
    with np.errstate(**QUIET):
        theta = quadratic.theta_star + error @ quadratic.eigenvectors.T
        loss = quadratic.loss_star + 0.5 * (error * error) @ quadratic.eigenvalues
    return loss, theta


def start_error(quadratic: Quadratic, theta0: np.ndarray) -> np.ndarray:
    """e_0 = Q^T (theta_0 - theta*)."""
    return quadratic.eigenvectors.T @ (theta0 - quadratic.theta_star)


def gd_chunks(
    quadratic: Quadratic, theta0: np.ndarray, alpha: float, epochs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) of plain GD for epochs 1..K in chunks of CHUNK_EPOCHS: e_t = r^t e_0."""
    rates = 1.0 - alpha * quadratic.eigenvalues
    error0 = start_error(quadratic, theta0)
    for first in range(1, epochs + 1, CHUNK_EPOCHS):
        t = np.arange(first, min(first + CHUNK_EPOCHS, epochs + 1), dtype=np.float64)
        yield state_at(quadratic, gd_error(rates, error0, t[:, None]))


def transition_matrices(lam: np.ndarray, alpha: float, beta: float, nesterov: bool) -> np.ndarray:
    r"""T_i (p, 2, 2) acting on (v_i, e_i), the velocity and error in the eigenbasis of H (g_i = lam_i e_i).

    Momentum: v' = \beta v + \lambda e,  e' = e - \alpha v' = (1 - \alpha\lambda) e - \alpha\beta v.
    Nesterov: v' = \beta v + \lambda e,  e' = e - \alpha(\lambda e + \beta v')
                                            = (1 - \alpha\lambda(1 + \beta)) e - \alpha\beta^2 v.
    """
    T = np.empty((lam.shape[0], 2, 2))
    T[:, 0, 0] = beta
    T[:, 0, 1] = lam
    if nesterov:
        T[:, 1, 0] = -alpha * beta * beta
        T[:, 1, 1] = 1.0 - alpha * lam * (1.0 + beta)
    else:
        T[:, 1, 0] = -alpha * beta
        T[:, 1, 1] = 1.0 - alpha * lam
    return T


def matrix_powers(T: np.ndarray, count: int) -> np.ndarray:
    """P (count, p, 2, 2) with P[k] = T^(k+1), by doubling: T^(n+j+1) = T^(j+1) T^n (log2(count) products)."""
    P = np.empty((count, *T.shape))
    P[0] = T
    done = 1
    with np.errstate(**QUIET):
        while done < count:
            more = min(done, count - done)
            P[done : done + more] = _times_2x2(P[:more], P[done - 1])
            done += more
    return P


def _times_2x2(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B for stacks of 2x2 matrices, (C)_ik = A_i0 B_0k + A_i1 B_1k, written out: numpy's matmul
    loops over tiny matrices one at a time."""
    return A[..., :, :1] * B[..., :1, :] + A[..., :, 1:] * B[..., 1:, :]


def linear_chunks(
    quadratic: Quadratic, theta0: np.ndarray, transition: np.ndarray, epochs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) for epochs 1..K in chunks: (v, e)_t = T^t (v, e)_0 per eigen-coordinate, v_0 = 0."""
    velocity = np.zeros(quadratic.eigenvalues.shape[0])
    error = start_error(quadratic, theta0)
    moving = error != 0.0  # a coordinate with zero error and velocity stays zero
    powers = matrix_powers(transition, min(CHUNK_EPOCHS, epochs)) if epochs else None
    for first in range(0, epochs, CHUNK_EPOCHS):
        P = powers[: min(CHUNK_EPOCHS, epochs - first)]
        with np.errstate(**QUIET):
            errors = np.where(moving, P[:, :, 1, 0] * velocity + P[:, :, 1, 1] * error, 0.0)
            velocity = np.where(moving, P[-1, :, 0, 0] * velocity + P[-1, :, 0, 1] * error, 0.0)
        error = errors[-1]
        yield state_at(quadratic, errors)


class GDFamily:
    """Plain full-batch GD for a vector of step sizes at once: the formula of `gd_chunks`, per alpha."""

    def __init__(self, quadratic: Quadratic, theta0: np.ndarray, alphas: np.ndarray):
        self.quadratic = quadratic
        self.rates = 1.0 - alphas[:, None] * quadratic.eigenvalues  # (n, p): r_i(alpha)
        self.error0 = start_error(quadratic, theta0)
        self.start_loss = float(quadratic.loss(theta0))

    def at(self, runs: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(J_t, finite) of runs `runs` (m,) at epochs t, shape (m,) or (m, c): J_0 is the start loss."""
        t = np.asarray(t)
        rates = self.rates[runs].reshape(runs.shape[0], *[1] * (t.ndim - 1), -1)
        loss, theta = state_at(self.quadratic, gd_error(rates, self.error0, t[..., None].astype(np.float64)))
        finite = np.isfinite(loss) & np.isfinite(theta).all(axis=-1)
        return np.where(t == 0, self.start_loss, loss), finite

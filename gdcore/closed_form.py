r"""Full-batch GD, momentum and Nesterov in closed form: each is a linear recurrence on a quadratic loss.

A run moves relative to its start theta_0, measured on the data (`gdcore.model.StartPoint`: loss J_0,
gradient g_0). In the eigenbasis of the Hessian H = Q diag(lambda) Q^T write the start's gradient as
G = Q^T g_0 and its error as e_0 = G / lambda (0 along flat directions, where GD never moves), and the
move as theta_t = theta_0 + Q u_t. Plain GD multiplies each error coordinate by r_i = 1 - alpha lambda_i per
epoch, so

    u_t = (r^t - 1) e_0,

with r^t - 1 = expm1(t log|r|) (sign^t for r < 0) and log|r| = log1p(-alpha lambda): exact to rounding
however small alpha lambda is (1 - alpha lambda itself would round). Momentum/Nesterov move each (velocity,
move) pair s = (v_i, u_i) by a constant 2x2 matrix T_i plus a constant drive c_i,

    s_{t+1} = T_i s_t + c_i,  s_0 = 0   =>   s_t = (I + T_i + ... + T_i^{t-1}) c_i,

and each loss is that of the parameters reported with it, from the statistics (`StartPoint.loss_at`). A
run therefore costs O(K d^2) after one O(N d^2) pass over the data, equals the literal loop of
`gdcore.reference` to rounding, and a start on an exact fit (g_0 = 0) does not move at all. This is the one home of those formulas: `gdcore.stepping` runs them in
chunks of epochs, `gdcore.sweep` evaluates GD's for many alphas at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from gdcore.model import Quadratic, StartPoint
from gdcore.trajectory import AT_OPTIMUM, CHUNK_EPOCHS, LEFT_OPTIMUM, QUIET


class EigenStart(NamedTuple):
    """The start in the Hessian's eigenbasis: gradient G = Q^T g_0 and error e_0 = G / lambda, both 0 along
    flat directions (lambda = 0)."""

    gradient: np.ndarray
    error: np.ndarray


def eigen_start(quadratic: Quadratic, start: StartPoint) -> EigenStart:
    lam = quadratic.eigenvalues
    moving = lam > 0
    gradient = np.where(moving, quadratic.eigenvectors.T @ start.grad, 0.0)
    return EigenStart(gradient, np.divide(gradient, lam, out=np.zeros_like(lam), where=moving))


def state_at(quadratic: Quadratic, start: StartPoint, move: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(loss, theta) with theta = theta_0 + Q u for eigen-coordinate moves u (..., p)."""
    with np.errstate(**QUIET):
        delta = move @ quadratic.eigenvectors.T
        return start.loss_at(quadratic, delta), start.theta + delta


# --- plain GD -----------------------------------------------------------------------------------------


def gd_log_rates(step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log|r|, r < 0) for r = 1 - step, step = alpha lambda >= 0, without forming 1 - step: log1p(-step)
    up to step 1, log1p(step - 2) above (|r| = step - 1)."""
    with np.errstate(**QUIET):
        log_rate = np.where(
            step <= 1.0, np.log1p(-np.minimum(step, 1.0)), np.log1p(np.maximum(step, 1.0) - 2.0)
        )
    return log_rate, step > 1.0


def gd_moves(log_rate: np.ndarray, negative: np.ndarray, t: np.ndarray) -> np.ndarray:
    """r^t - 1 for epochs t >= 1 (broadcasting), from log|r| and the sign of r."""
    with np.errstate(**QUIET):
        scaled = t * log_rate
        odd = negative & (np.fmod(t, 2.0) == 1.0)
        return np.where(odd, -np.exp(scaled) - 1.0, np.expm1(scaled))


def gd_chunks(
    quadratic: Quadratic, start: StartPoint, alpha: float, epochs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) of plain GD for epochs 1..K in chunks of CHUNK_EPOCHS (module docstring)."""
    eigen = eigen_start(quadratic, start)
    with np.errstate(**QUIET):
        log_rate, negative = gd_log_rates(alpha * quadratic.eigenvalues)
    for first in range(1, epochs + 1, CHUNK_EPOCHS):
        t = np.arange(first, min(first + CHUNK_EPOCHS, epochs + 1), dtype=np.float64)[:, None]
        with np.errstate(**QUIET):
            move = np.where(eigen.error != 0.0, gd_moves(log_rate, negative, t) * eigen.error, 0.0)
        yield state_at(quadratic, start, move)


# --- momentum and Nesterov ----------------------------------------------------------------------------


def transition_matrices(lam: np.ndarray, alpha: float, beta: float, nesterov: bool) -> np.ndarray:
    r"""T_i (p, 2, 2) acting on (v_i, e_i), the velocity and error in the eigenbasis of H (g_i = lam_i e_i).

    Momentum: v' = \beta v + \lambda e,  e' = e - \alpha v' = (1 - \alpha\lambda) e - \alpha\beta v.
    Nesterov: v' = \beta v + \lambda e,  e' = e - \alpha(\lambda e + \beta v')
                                            = (1 - \alpha\lambda(1 + \beta)) e - \alpha\beta^2 v.
    The move u = e - e_0 follows the same T plus the drive (lambda e_0, (T_11 - 1) e_0) (`drive`).
    """
    T = np.empty((lam.shape[0], 2, 2))
    with np.errstate(**QUIET):
        T[:, 0, 0] = beta
        T[:, 0, 1] = lam
        if nesterov:
            T[:, 1, 0] = -alpha * beta * beta
            T[:, 1, 1] = 1.0 - alpha * lam * (1.0 + beta)
        else:
            T[:, 1, 0] = -alpha * beta
            T[:, 1, 1] = 1.0 - alpha * lam
    return T


def drive(gradient: np.ndarray, alpha: float, beta: float, nesterov: bool) -> np.ndarray:
    """c (p, 2) = (G, -alpha G) for momentum, (G, -alpha (1 + beta) G) for Nesterov: the first epoch's
    (velocity, move), written without 1 - alpha lambda so that a tiny step stays exact."""
    with np.errstate(**QUIET):
        step = alpha * (1.0 + beta) if nesterov else alpha
        return np.stack([gradient, -step * gradient], axis=1)


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


def power_sums(P: np.ndarray) -> np.ndarray:
    """S (count, p, 2, 2) with S[k] = I + T + ... + T^k, from P[k] = T^(k+1)."""
    S = np.empty_like(P)
    S[0] = np.eye(2)
    with np.errstate(**QUIET):
        np.cumsum(P[:-1], axis=0, out=S[1:])
        S[1:] += np.eye(2)
    return S


def _times_2x2(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B for stacks of 2x2 matrices, (C)_ik = A_i0 B_0k + A_i1 B_1k, written out: numpy's matmul
    loops over tiny matrices one at a time."""
    return A[..., :, :1] * B[..., :1, :] + A[..., :, 1:] * B[..., 1:, :]


def linear_chunks(
    quadratic: Quadratic, start: StartPoint, alpha: float, beta: float, nesterov: bool, epochs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) of momentum or Nesterov for epochs 1..K in chunks: per eigen-direction
    s_{t0+k} = T^k s_{t0} + (I + ... + T^(k-1)) c, s = (v, u), s_0 = 0."""
    if epochs == 0:
        return
    lam = quadratic.eigenvalues
    gradient = eigen_start(quadratic, start).gradient
    c = drive(gradient, alpha, beta, nesterov)
    moving = gradient != 0.0  # a direction with no gradient at the start never moves
    count = min(CHUNK_EPOCHS, epochs)
    P = matrix_powers(transition_matrices(lam, alpha, beta, nesterov), count)
    S = power_sums(P)
    velocity, move = np.zeros_like(lam), np.zeros_like(lam)
    for first in range(0, epochs, CHUNK_EPOCHS):
        k = min(CHUNK_EPOCHS, epochs - first)
        with np.errstate(**QUIET):
            moves = (
                P[:k, :, 1, 0] * velocity
                + P[:k, :, 1, 1] * move
                + S[:k, :, 1, 0] * c[:, 0]
                + S[:k, :, 1, 1] * c[:, 1]
            )
            velocity = (
                P[k - 1, :, 0, 0] * velocity
                + P[k - 1, :, 0, 1] * move
                + S[k - 1, :, 0, 0] * c[:, 0]
                + S[k - 1, :, 0, 1] * c[:, 1]
            )
            moves = np.where(moving, moves, 0.0)
            velocity = np.where(moving, velocity, 0.0)
        move = moves[-1]
        yield state_at(quadratic, start, moves)


# --- divergence, decided from the iteration -----------------------------------------------------------


def unstable_directions(lam: np.ndarray, alpha: float, optimizer: str, beta: float = 0.0) -> np.ndarray:
    r"""Eigen-directions whose iteration has spectral radius > 1 at this alpha: alpha > limit(lambda_i),
    the optimizer's step limit for that eigenvalue (derived in `gdcore.limits`, and written here as
    `limits_for` writes alpha_max, so that alpha = alpha_max itself is not unstable):

    GD 2 / lambda,  momentum 2(1 + beta) / lambda,  Nesterov 2(1 + beta) / ((1 + 2 beta) lambda).
    Flat directions (lambda = 0) never are.
    """
    moving = lam > 0
    safe = np.where(moving, lam, 1.0)
    if optimizer == "nesterov":
        limit = 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * safe)
    elif optimizer == "momentum":
        limit = 2.0 * (1.0 + beta) / safe
    else:
        limit = 2.0 / safe
    return moving & (alpha > limit)


def error_floors(quadratic: Quadratic) -> tuple[float, float]:
    """(AT_OPTIMUM |theta*|, LEFT_OPTIMUM |theta*|): errors along a direction that count as none at the
    start, and as having left the optimum at the end."""
    scale = float(np.linalg.norm(quadratic.theta_star))
    return AT_OPTIMUM * scale, LEFT_OPTIMUM * scale


def divergence_rule(
    quadratic: Quadratic, start: StartPoint, optimizer: str, alpha: float, beta: float = 0.0
) -> Callable[[np.ndarray], bool]:
    """The exact divergence rule of a full-batch GD / momentum / Nesterov run (see `Trajectory`):
    diverges(theta_K) iff some unstable direction (`unstable_directions`) has an error |e_0| above the
    start floor or |e_0 + Q^T (theta_K - theta_0)| above the end floor (`error_floors`)."""
    unstable = unstable_directions(quadratic.eigenvalues, alpha, optimizer, beta)
    error0 = eigen_start(quadratic, start).error
    at_start, at_end = error_floors(quadratic)

    def diverges(theta_end: np.ndarray) -> bool:
        if not unstable.any():
            return False
        with np.errstate(**QUIET):
            error_end = error0 + quadratic.eigenvectors.T @ (theta_end - start.theta)
            off = (np.abs(error0) > at_start) | (np.abs(error_end) > at_end)
        return bool(np.any(unstable & off))

    return diverges


# --- GD for many step sizes at once -------------------------------------------------------------------


class GDFamily:
    """Plain full-batch GD for a vector of step sizes at once: the formulas of `gd_chunks`, per alpha."""

    def __init__(self, quadratic: Quadratic, start: StartPoint, alphas: np.ndarray):
        self.quadratic, self.start = quadratic, start
        eigen = eigen_start(quadratic, start)
        self.error0 = eigen.error
        lam = quadratic.eigenvalues
        with np.errstate(**QUIET):
            self.log_rates, self.negative = gd_log_rates(alphas[:, None] * lam)  # (n, p)
        self.unstable = np.stack([unstable_directions(lam, float(a), "gd") for a in alphas])
        self.floors = error_floors(quadratic)
        self.start_loss = start.loss

    @property
    def n_params(self) -> int:
        return int(self.error0.shape[0])

    def at(self, runs: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(J_t, finite) of runs `runs` (m,) at epochs t, shape (m,) or (m, c): J_0 is the start loss."""
        t = np.asarray(t)
        shape = (runs.shape[0], *[1] * (t.ndim - 1), -1)
        times = t[..., None].astype(np.float64)
        moved = gd_moves(self.log_rates[runs].reshape(shape), self.negative[runs].reshape(shape), times)
        with np.errstate(**QUIET):
            move = np.where(self.error0 != 0.0, moved * self.error0, 0.0)
        loss, theta = state_at(self.quadratic, self.start, move)
        finite = np.isfinite(loss) & np.isfinite(theta).all(axis=-1)
        return np.where(t == 0, self.start_loss, loss), finite | (t == 0)

    def diverges(self, runs: np.ndarray, t: np.ndarray) -> np.ndarray:
        """`divergence_rule` for runs (m,) stopped after t (m,) finite epochs: an unstable direction whose
        error |e_0| is above the start floor, or |e_0| |r|^t (|r| > 1) above the end floor."""
        at_start, at_end = self.floors
        with np.errstate(**QUIET):
            log_error = np.log(np.abs(self.error0))
            off = (np.abs(self.error0) > at_start) | (
                log_error + t[:, None] * self.log_rates[runs] > np.log(at_end)
            )
        return np.any(self.unstable[runs] & off, axis=1)

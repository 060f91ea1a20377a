r"""Step-size theory for every optimizer: stability limits, best steps, rates and exact forecasts.

With the full batch, write the error in the eigenbasis of the Hessian H = Q diag(lam) Q^T as
e = Q^T (theta - theta*) and the velocity likewise as v. The gradient is g_i = lam_i e_i, so every
eigen-direction evolves on its own, by a scalar for GD and a 2x2 matrix T acting on (v_i, e_i) otherwise:

* GD:        e' = (1 - alpha lam) e.
* momentum:  v' = beta v + g, theta' = theta - alpha v'
             =>  T = [[beta, lam], [-alpha beta, 1 - alpha lam]].
* Nesterov:  v' = beta v + g, theta' = theta - alpha (g + beta v')
             =>  T = [[beta, lam], [-alpha beta^2, 1 - alpha lam (1 + beta)]].

T has the characteristic polynomial p(z) = z^2 - tau z + delta with

* momentum:  tau = 1 + beta - alpha lam,        delta = beta,
* Nesterov:  tau = (1 + beta)(1 - alpha lam),   delta = beta (1 - alpha lam),

(beta = 0 gives GD's single root 1 - alpha lam). A direction converges iff both roots lie inside the unit
circle, which for a real quadratic are Jury's conditions |delta| < 1, p(1) > 0, p(-1) > 0. In both forms
p(1) = alpha lam > 0, and

* momentum:  p(-1) = 2(1 + beta) - alpha lam > 0               =>  alpha < 2(1 + beta) / lam_max,
* Nesterov:  p(-1) = 2(1 + beta) - (1 + 2 beta) alpha lam > 0
             =>  alpha < 2(1 + beta) / ((1 + 2 beta) lam_max),

and |delta| < 1 holds for all 0 <= beta < 1 below those limits (Nesterov needs alpha lam < 1 + 1/beta, a
weaker bound). Flat directions (lam = 0) never move and add nothing to the loss; they are left out everywhere.

AdaGrad, RMSProp and Adam divide the step by running gradient magnitudes: they are not linear, have no fixed
stability limit and no forecast here (their fields are None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gdcore.model import Quadratic
from gdcore.optimizers import get_optimizer
from gdcore.trajectory import CHUNK_EPOCHS, QUIET
from gdcore.validation import IntRange, RealRange, check

FRACTION = RealRange(low=0.0, low_open=True, high=1.0, high_open=True)
MAX_EPOCHS = IntRange(0, 10**12)
FIRST_CHUNK_EPOCHS = 64
# A skip proven by the lower bound is trusted to this relative accuracy of the bound's own arithmetic.
BOUND_SAFETY = 1e-6
# |z2 / z1| < 1 - DISTINCT_ROOTS for a direction to get a lower bound (see `_envelope`).
DISTINCT_ROOTS = 1e-6
# exp(LOG_VANISHED * t) is 0.0 in float64 for every t >= 1: a direction solved exactly in one epoch.
LOG_VANISHED = -2000.0

_ADAPTIVE_NOTES = {
    "adagrad": (
        "AdaGrad divides each step by the root of the running sum of squared gradients, so alpha sets the "
        "size of a step, not a stability limit: there is no fixed cliff like plain GD's 2/lambda_max."
    ),
    "rmsprop": (
        "RMSProp divides each step by a running root-mean-square of recent gradients, so alpha sets the "
        "size of a step, not a stability limit: there is no fixed cliff like plain GD's 2/lambda_max."
    ),
    "adam": (
        "Adam divides its averaged gradient by a running root-mean-square of recent gradients, so alpha sets "
        "the size of a step, not a stability limit: there is no fixed cliff like plain GD's 2/lambda_max."
    ),
}


@dataclass(frozen=True, eq=False)
class StepLimits:
    """What the Hessian's eigenvalues say about one optimizer with given hyperparameters, full batch.

    `hyper` holds every hyperparameter (validated, defaults filled in) as (name, value) pairs;
    `eigenvalues` are all of H's, sorted, zeros (flat directions) included. `alpha_max` is the supremum of
    the stable alphas, `alpha_opt` the alpha with the smallest `rate`, `polyak` (momentum only) Polyak's
    best pair (alpha*, beta*). All are None for the adaptive optimizers, which have no such theory.
    """

    optimizer: str
    hyper: tuple[tuple[str, float], ...]
    eigenvalues: np.ndarray
    alpha_max: float | None
    alpha_opt: float | None
    note: str
    polyak: tuple[float, float] | None = None

    @property
    def moving_eigenvalues(self) -> np.ndarray:
        """The eigenvalues > 0: the directions the optimizer moves along."""
        return self.eigenvalues[self.eigenvalues > 0]

    @property
    def flat_directions(self) -> int:
        return int(np.count_nonzero(self.eigenvalues == 0))

    def rate(self, alpha: float) -> float | None:
        """Predicted per-epoch contraction of ||theta - theta*||: max_i rho(T_i(alpha)) over lam_i > 0.

        rho is the spectral radius of the iteration matrix: |1 - alpha lam| for GD, the larger root modulus
        of z^2 - tau z + delta for momentum and Nesterov, i.e. (|tau| + sqrt(tau^2 - 4 delta)) / 2 for real
        roots and sqrt(delta) for a complex pair. Flat directions (lam = 0) never move and add nothing to
        the loss, so they are left out. >= 1 means divergence; None for adaptive optimizers.
        """
        alpha = check("alpha", alpha)
        if self.alpha_max is None:
            return None
        beta = dict(self.hyper).get("beta", 0.0)
        with np.errstate(**QUIET):  # an absurd alpha (1e308) gives an infinite rate, not a warning
            radius = _spectral_radius(_characteristic(self.optimizer, self.moving_eigenvalues, alpha, beta))
        return float(np.max(radius))

    def loss_rate(self, alpha: float) -> float | None:
        """rate(alpha)^2: the per-epoch factor of the loss gap J_t - J* in the long run."""
        rate = self.rate(alpha)
        return None if rate is None else rate * rate


def step_limits(X, y, optimizer: str = "gd", **hyper) -> StepLimits:
    """`limits_for` the MSE of (X, y): X (N, d) or (N,), y (N,). ValueError for bad data or settings."""
    get_optimizer(optimizer).validate(hyper)  # fail before the pass over the data
    return limits_for(Quadratic.from_data(X, y), optimizer, **hyper)


def limits_for(quadratic: Quadratic, optimizer: str = "gd", **hyper) -> StepLimits:
    """The `StepLimits` of `optimizer` with `hyper` on statistics already computed.

    * GD: alpha_max = 2 / lam_max; alpha_opt = 2 / (lam_min + lam_max) balances |1 - alpha lam| at both ends.
    * momentum: alpha_max = 2(1 + beta) / lam_max; alpha_opt = 2(1 + beta) / (lam_min + lam_max). The root
      modulus is a function of |tau| alone (sqrt(beta) while the roots are complex, increasing in |tau| once
      they are real), so the worst direction is lam_min or lam_max and the best alpha makes their
      tau = 1 + beta - alpha lam opposite. For beta >= Polyak's beta* every alpha of an interval reaches the
      floor sqrt(beta); this alpha is the one in the middle, in tau.
    * Nesterov: alpha_max = 2(1 + beta) / ((1 + 2 beta) lam_max). The root modulus is increasing in
      |x|, x = 1 - alpha lam (zero at x = 0), on each side of 0, so again only lam_min and lam_max count;
      alpha_opt is where their moduli cross, in [1 / lam_max, 1 / lam_min], found by bisection.
    * Polyak (momentum): alpha* = 4 / (sqrt(lam_max) + sqrt(lam_min))^2,
      beta* = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, which puts both ends at a double root sqrt(beta*).

    lam_min is the smallest non-zero eigenvalue. ValueError for an unknown optimizer or hyperparameter.
    """
    entry = get_optimizer(optimizer)
    values = entry.validate(hyper)
    eigenvalues = np.sort(quadratic.eigenvalues)
    hyper_pairs = tuple(values.items())
    if not entry.linear:
        return StepLimits(entry.name, hyper_pairs, eigenvalues, None, None, _ADAPTIVE_NOTES[entry.name])
    moving = eigenvalues[eigenvalues > 0]
    lam_min, lam_max = float(moving[0]), float(moving[-1])
    beta = values.get("beta", 0.0)
    if entry.name == "gd":
        alpha_max, alpha_opt = 2.0 / lam_max, 2.0 / (lam_min + lam_max)
        note = (
            "Plain GD multiplies the error along each eigen-direction by 1 - alpha lambda per epoch: stable "
            f"for alpha < 2/lambda_max = {alpha_max:.4g}, fastest at 2/(lambda_min + lambda_max) = "
            f"{alpha_opt:.4g}."
        )
    elif entry.name == "momentum":
        alpha_max, alpha_opt = 2.0 * (1.0 + beta) / lam_max, 2.0 * (1.0 + beta) / (lam_min + lam_max)
        note = (
            "With momentum the limit depends on beta: stable for alpha < 2(1 + beta)/lambda_max = "
            f"{alpha_max:.4g} at beta = {beta:g}, (1 + beta) times plain GD's 2/lambda_max."
        )
    else:
        alpha_max = 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * lam_max)
        alpha_opt = _nesterov_alpha_opt(lam_min, lam_max, beta)
        note = (
            "With Nesterov momentum the limit depends on beta: stable for alpha < 2(1 + beta)/((1 + 2 beta) "
            f"lambda_max) = {alpha_max:.4g} at beta = {beta:g}, up to a third below plain GD's 2/lambda_max."
        )
    polyak = _polyak_pair(lam_min, lam_max) if entry.name == "momentum" else None
    return StepLimits(entry.name, hyper_pairs, eigenvalues, alpha_max, alpha_opt, note, polyak)


def forecast_epoch(
    quadratic: Quadratic,
    theta0,
    alpha: float,
    optimizer: str = "gd",
    fraction: float = 0.999,
    max_epochs: int = 10**7,
    **hyper,
) -> int | None:
    """First epoch t >= 0 of a full-batch run with J_t - J* <= (1 - fraction)(J_0 - J*), computed exactly.

    That is the first t with J_0 - J_t >= fraction (J_0 - J*), the run "reaching the optimum". With
    e_0 = Q^T (theta0 - theta*) the gap is gap_t = 1/2 sum_i lam_i e_{t,i}^2, where
    e_t = (1 - alpha lam)^t e_0 for GD and (v, e)_t = T^t (0, e_0) for momentum and Nesterov (v_0 = 0).
    theta0 = (w_1..w_d, b), e.g. np.append(w0, b0). GD takes O(p log t) (`_first_epoch_gd`); momentum and
    Nesterov look at every epoch that a lower bound cannot rule out (`_first_epoch_momentum`).
    0 when theta0 is already optimal; None when the gap does not get there within `max_epochs` (a diverging
    or too slow run) and for the adaptive optimizers, which have no forecast. ValueError for bad settings.
    """
    entry = get_optimizer(optimizer)
    values = entry.validate(hyper)
    alpha = check("alpha", alpha)
    fraction = FRACTION.check("fraction", fraction)
    max_epochs = MAX_EPOCHS.check("max_epochs", max_epochs)
    theta0 = _start(quadratic, theta0)
    if not entry.linear:
        return None
    error0 = quadratic.eigenvectors.T @ (theta0 - quadratic.theta_star)
    lam = quadratic.eigenvalues
    active = (lam > 0) & (error0 != 0)
    lam, error0 = lam[active], error0[active]
    weights = 0.5 * lam * error0 * error0
    start_gap = float(weights.sum())
    if start_gap <= 0:
        return 0
    target = (1.0 - fraction) * start_gap
    with np.errstate(**QUIET):  # an absurd alpha (1e308) diverges: None, not a warning
        if entry.name == "gd":
            return _first_epoch_gd(alpha * lam, weights, target, max_epochs)
        return _first_epoch_momentum(entry.name, lam, error0, alpha, values["beta"], target, max_epochs)


# --- the iteration matrices --------------------------------------------------------------------------


class _Characteristic(NamedTuple):
    """p(z) = z^2 - trace z + det of T per eigenvalue, with what solving it accurately needs."""

    trace: np.ndarray
    det: np.ndarray
    discriminant: np.ndarray  # trace^2 - 4 det, factored so that it does not cancel
    at_one: np.ndarray  # p(1) = (1 - z1)(1 - z2)
    at_minus_one: np.ndarray  # p(-1) = (1 + z1)(1 + z2)
    corner: np.ndarray  # T[1, 1], how the error feeds itself


def _characteristic(optimizer: str, lam: np.ndarray, alpha: float, beta: float) -> _Characteristic:
    """tau, delta and tau^2 - 4 delta: momentum ((1 - sqrt b)^2 - alpha lam)((1 + sqrt b)^2 - alpha lam),
    Nesterov x((1 + beta)^2 x - 4 beta) with x = 1 - alpha lam. GD is momentum with beta = 0."""
    step = alpha * lam
    if optimizer == "nesterov":
        x = 1.0 - step
        return _Characteristic(
            (1.0 + beta) * x,
            beta * x,
            x * ((1.0 + beta) ** 2 * x - 4.0 * beta),
            step,
            2.0 * (1.0 + beta) - (1.0 + 2.0 * beta) * step,
            1.0 - step * (1.0 + beta),
        )
    root = math.sqrt(beta)
    return _Characteristic(
        1.0 + beta - step,
        np.full_like(step, beta),
        ((1.0 - root) ** 2 - step) * ((1.0 + root) ** 2 - step),
        step,
        2.0 * (1.0 + beta) - step,
        1.0 - step,
    )


def _transition_matrices(optimizer: str, lam: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """T (n, 2, 2) acting on (v, e) per eigenvalue, as in the module docstring."""
    T = np.empty((lam.shape[0], 2, 2))
    T[:, 0, 0] = beta
    T[:, 0, 1] = lam
    nesterov = optimizer == "nesterov"
    T[:, 1, 0] = -alpha * beta * (beta if nesterov else 1.0)
    T[:, 1, 1] = 1.0 - alpha * lam * ((1.0 + beta) if nesterov else 1.0)
    return T


def _spectral_radius(char: _Characteristic) -> np.ndarray:
    """max |z| over the roots of z^2 - tau z + delta: (|tau| + sqrt(disc)) / 2 if real, sqrt(delta) if not."""
    real = char.discriminant >= 0
    return np.where(
        real, 0.5 * (np.abs(char.trace) + np.sqrt(np.abs(char.discriminant))), np.sqrt(np.abs(char.det))
    )


def _nesterov_alpha_opt(lam_min: float, lam_max: float, beta: float) -> float:
    """The alpha in [1/lam_max, 1/lam_min] where rho(lam_min) (decreasing) meets rho(lam_max) (increasing)."""
    low, high = 1.0 / lam_max, 1.0 / lam_min
    ends = np.array([lam_min, lam_max])
    for _ in range(200):
        middle = 0.5 * (low + high)
        if not low < middle < high:
            break
        slow, fast = _spectral_radius(_characteristic("nesterov", ends, middle, beta))
        if slow > fast:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def _polyak_pair(lam_min: float, lam_max: float) -> tuple[float, float]:
    """alpha* = 4 / (sqrt(lam_max) + sqrt(lam_min))^2, beta* = ((sqrt(lam_max) - sqrt(lam_min))
    / (sqrt(lam_max) + sqrt(lam_min)))^2."""
    low, high = math.sqrt(lam_min), math.sqrt(lam_max)
    return 4.0 / (high + low) ** 2, ((high - low) / (high + low)) ** 2


def _start(quadratic: Quadratic, theta0) -> np.ndarray:
    try:
        theta0 = np.asarray(theta0, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"theta0 must be numeric; {exc}") from None
    if theta0.shape != (quadratic.n_params,):
        raise ValueError(
            f"theta0 must have {quadratic.n_params} entries (the weights, then the bias); "
            f"got shape {theta0.shape}"
        )
    if not np.all(np.isfinite(theta0)):
        raise ValueError(f"theta0 must be finite; got {theta0.tolist()!r}")
    return theta0


# --- forecasts -----------------------------------------------------------------------------------------


def _first_epoch_gd(step: np.ndarray, weights: np.ndarray, target: float, max_epochs: int) -> int | None:
    """First t with gap_t = sum_i w_i exp(k_i t) <= target, k_i = 2 log|1 - alpha lam_i| (via log1p).

    A sum of exponentials is convex in t: it falls until its minimum (the end, if no k_i > 0) and rises
    after, so the first hit is found by bisection before the minimum, in O(p log t).
    """
    with np.errstate(**QUIET):
        log_factor = np.where(
            step <= 1.0, np.log1p(-np.minimum(step, 1.0)), np.log1p(np.maximum(step, 1.0) - 2.0)
        )
    # Finite at both ends: an infinite exponent would make gap(0) = inf * 0 = NaN (alpha = 1e308).
    exponents = np.clip(2.0 * log_factor, LOG_VANISHED, 1e300)

    def gap(t: float) -> float:
        with np.errstate(**QUIET):
            return float(weights @ np.exp(exponents * t))

    def slope(t: float) -> float:
        with np.errstate(**QUIET):
            return float((weights * exponents) @ np.exp(exponents * t))

    lowest = max_epochs
    if np.any(exponents > 0) and slope(max_epochs) > 0:
        low, high = 0.0, float(max_epochs)
        while high - low > 0.5:
            middle = 0.5 * (low + high)
            low, high = (middle, high) if slope(middle) < 0 else (low, middle)
        lowest = min(range(math.floor(low), min(math.ceil(high), max_epochs) + 1), key=gap)
    if gap(lowest) > target:
        return None
    before, hit = 0, lowest  # gap(0) > target >= gap(lowest), and the gap does not rise in between
    while hit - before > 1:
        middle = (before + hit) // 2
        before, hit = (before, middle) if gap(middle) <= target else (middle, hit)
    return hit


class _Envelope(NamedTuple):
    r"""Per direction i, |e_t| >= |z1|^t (|a| - |b| |q|^t0) |e_0| for t >= t0, as e_t / e_0 = a z1^t + b z2^t.

    `usable` marks real, distinct roots with |q| = |z2 / z1| < 1; other directions get no bound (0).
    """

    usable: np.ndarray
    log_root: np.ndarray  # log |z1|
    coef_main: np.ndarray  # |a|
    coef_other: np.ndarray  # |b|
    log_ratio: np.ndarray  # log |q|


def _envelope(char: _Characteristic) -> _Envelope:
    r"""Roots z1 (larger modulus), z2 = delta / z1, and e_t = a z1^t + b z2^t with a = (T11 - z2) / (z1 - z2),
    a + b = 1 (from T^t = (z1^t (T - z2) - z2^t (T - z1)) / (z1 - z2)). log|z1| uses 1 - z1 = p(1) / (1 - z2)
    or 1 + z1 = p(-1) / (1 + z2), accurate when z1 is within alpha lam of +-1."""
    with np.errstate(**QUIET):
        real = char.discriminant >= 0
        split = np.where(char.trace >= 0, 1.0, -1.0) * np.sqrt(np.where(real, char.discriminant, 0.0))
        z1 = 0.5 * (char.trace + split)
        z2 = char.det / z1
        ratio = z2 / z1
        # nearly double roots make a and b huge and inaccurate: those directions get no bound
        usable = real & (z1 != 0) & (np.abs(ratio) < 1.0 - DISTINCT_ROOTS)
        log_root = np.log(np.abs(z1))
        from_one = (z1 > 0) & (1.0 - z2 > 0)
        from_minus_one = (z1 < 0) & (1.0 + z2 > 0)
        log_root = np.where(from_one, np.log1p(-char.at_one / (1.0 - z2)), log_root)
        log_root = np.where(from_minus_one, np.log1p(-char.at_minus_one / (1.0 + z2)), log_root)
        coef_main = (char.corner - z2) / split
        coef_other = 1.0 - coef_main
        zero = np.zeros_like(z1)
        return _Envelope(
            usable,
            np.where(usable, log_root, zero),
            np.where(usable, np.abs(coef_main), zero),
            np.where(usable, np.abs(coef_other), zero),
            np.where(usable, np.log(np.abs(ratio)), zero),
        )


def _first_epoch_momentum(
    optimizer: str,
    lam: np.ndarray,
    error0: np.ndarray,
    alpha: float,
    beta: float,
    target: float,
    max_epochs: int,
) -> int | None:
    """First t with gap_t = 1/2 sum_i lam_i e_{t,i}^2 <= target, (v, e)_t = T_i^t (0, e_0,i).

    The gap oscillates, so any epoch may be the first; stretches that `_last_proven_miss` rules out are
    skipped (T^k by repeated squaring), the others evaluated epoch by epoch in chunks of precomputed powers
    T^1..T^chunk, the chunk growing from FIRST_CHUNK_EPOCHS to CHUNK_EPOCHS (most hits come early).
    """
    transition = _transition_matrices(optimizer, lam, alpha, beta)
    envelope = _envelope(_characteristic(optimizer, lam, alpha, beta))
    weights = 0.5 * lam * error0 * error0
    state = np.stack([np.zeros_like(error0), error0], axis=1)  # (v, e) per direction
    powers = np.empty((0, *transition.shape))
    chunk = FIRST_CHUNK_EPOCHS
    t = 0
    with np.errstate(**QUIET):
        while True:
            if 0.5 * float(lam @ (state[:, 1] * state[:, 1])) <= target:
                return t
            if t >= max_epochs or not np.all(np.isfinite(state)):
                return None
            last_miss = _last_proven_miss(envelope, weights, target, t, max_epochs)
            if last_miss >= max_epochs:
                return None
            if last_miss - t >= chunk:
                state = _apply_power(transition, last_miss + 1 - t, state)
                t = last_miss + 1
                continue
            count = min(chunk, max_epochs - t)
            if powers.shape[0] < count:
                powers = _matrix_powers(transition, count)
            hit = _first_hit_in_chunk(powers[:count], state, lam, target)
            if hit is not None:
                return t + hit
            state = np.einsum("nij,nj->ni", powers[count - 1], state)
            t += count
            chunk = min(2 * chunk, CHUNK_EPOCHS)


def _last_proven_miss(
    envelope: _Envelope, weights: np.ndarray, target: float, t: int, max_epochs: int
) -> int:
    """The last epoch s such that the lower bound proves gap > target on all of [t, s] (t - 1 if none).

    From epoch t on, gap_s >= L(s) = sum_i w_i m_i^2 |z1_i|^(2s) with m_i = |a_i| - |b_i| |q_i|^t
    (`_Envelope`). Its decaying terms D(s) fall and its growing terms G(s) rise with s, so
    gap_s >= D(s') + G(t) on [t, s']. Returns max_epochs when that covers every epoch left, in particular
    when G(t) > target alone: the run then never gets there.
    """
    coef_main, coef_other = envelope.coef_main, envelope.coef_other
    rounding = 1e-12 * (coef_main + coef_other)
    margin = np.maximum(coef_main - coef_other * np.exp(envelope.log_ratio * t) - rounding, 0.0)
    scale = (1.0 - BOUND_SAFETY) * weights * margin * margin
    growing = envelope.log_root > 0
    risen = float(scale[growing] @ np.exp(2.0 * envelope.log_root[growing] * t))
    if risen > target:
        return max_epochs
    decaying_scale, decaying_log = scale[~growing], 2.0 * envelope.log_root[~growing]
    return _last_above(
        lambda s: float(decaying_scale @ np.exp(decaying_log * s)), target - risen, t, max_epochs
    )


def _first_hit_in_chunk(powers: np.ndarray, state: np.ndarray, lam: np.ndarray, target: float) -> int | None:
    """The first k >= 1 with gap <= target at T^k state, for the k covered by powers[k - 1] = T^k."""
    errors = powers[:, :, 1, 0] * state[:, 0] + powers[:, :, 1, 1] * state[:, 1]
    hits = np.flatnonzero(0.5 * ((errors * errors) @ lam) <= target)
    return int(hits[0]) + 1 if hits.size else None


def _last_above(bound, level: float, first: int, last: int) -> int:
    """The largest s in [first, last] with bound(s) > level for a non-increasing bound; first - 1 if none."""
    if bound(first) <= level:
        return first - 1
    if bound(last) > level:
        return last
    low, high = first, last  # bound(low) > level >= bound(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if bound(middle) > level else (low, middle)
    return low


def _times_2x2(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B for stacks of 2x2 matrices, written out (matmul loops over tiny matrices one at a time)."""
    return A[..., :, :1] * B[..., :1, :] + A[..., :, 1:] * B[..., 1:, :]


def _matrix_powers(T: np.ndarray, count: int) -> np.ndarray:
    """P (count, n, 2, 2) with P[k] = T^(k+1), by doubling: T^(m+j+1) = T^(j+1) T^m."""
    P = np.empty((count, *T.shape))
    P[0] = T
    done = 1
    while done < count:
        more = min(done, count - done)
        P[done : done + more] = _times_2x2(P[:more], P[done - 1])
        done += more
    return P


def _apply_power(T: np.ndarray, exponent: int, state: np.ndarray) -> np.ndarray:
    """T^exponent applied to state (n, 2), by repeated squaring."""
    base = T
    while exponent:
        if exponent & 1:
            state = np.einsum("nij,nj->ni", base, state)
        exponent >>= 1
        if exponent:
            base = _times_2x2(base, base)
    return state


# --- the exact gap path --------------------------------------------------------------------------------


def gap_path(
    quadratic: Quadratic, theta0, alpha: float, epochs, optimizer: str = "gd", **hyper
) -> np.ndarray | None:
    """J_t - J* of a full-batch constant-alpha run from theta0 (v_0 = 0) at each epoch t of `epochs`
    (consecutive non-negative integers), computed exactly from the eigen-decomposition:

        gap_t = 1/2 sum_i lam_i e_{t,i}^2,  e_t = (1 - alpha lam)^t e_0 (GD),  (v, e)_t = T_i^t (0, e_0,i)

    (momentum, Nesterov), with e_0 = Q^T (theta0 - theta*). It is a sum over eigen-directions, so while
    fast directions still hold part of the gap its per-epoch factor differs from the long-run rate(alpha)^2
    of the slowest one. None for the adaptive optimizers, which have no such model. ValueError for bad
    settings or epochs that are not consecutive integers >= 0.
    """
    entry = get_optimizer(optimizer)
    values = entry.validate(hyper)
    alpha = check("alpha", alpha)
    theta0 = _start(quadratic, theta0)
    epochs = np.asarray(epochs)
    if (
        epochs.ndim != 1
        or epochs.size == 0
        or not np.issubdtype(epochs.dtype, np.integer)
        or epochs[0] < 0
        or np.any(np.diff(epochs) != 1)
    ):
        raise ValueError(f"epochs must be consecutive integers >= 0; got {epochs.tolist()!r}")
    if not entry.linear:
        return None
    lam = quadratic.eigenvalues
    error0 = quadratic.eigenvectors.T @ (theta0 - quadratic.theta_star)
    moving = lam > 0
    lam, error0 = lam[moving], error0[moving]
    first, count = int(epochs[0]), epochs.size
    with np.errstate(**QUIET):  # a diverging alpha overflows to inf, as the run does
        if entry.name == "gd":
            factor = 1.0 - alpha * lam
            errors = np.power(factor[None, :], epochs[:, None].astype(np.float64)) * error0
            return 0.5 * (errors * errors) @ lam
        transition = _transition_matrices(entry.name, lam, alpha, values["beta"])
        state = _apply_power(transition, first, np.stack([np.zeros_like(error0), error0], axis=1))
        gaps = np.empty(count)
        gaps[0] = 0.5 * float(lam @ (state[:, 1] * state[:, 1]))
        done = 1
        while done < count:
            more = min(CHUNK_EPOCHS, count - done)
            powers = _matrix_powers(transition, more)
            gaps[done : done + more] = _chunk_gaps(powers, state, lam)
            state = np.einsum("nij,nj->ni", powers[more - 1], state)
            done += more
        return gaps


def _chunk_gaps(powers: np.ndarray, state: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The gap at T^k state for k = 1..len(powers), powers[k - 1] = T^k."""
    errors = powers[:, :, 1, 0] * state[:, 0] + powers[:, :, 1, 1] * state[:, 1]
    return 0.5 * ((errors * errors) @ lam)


def slowest_dominates_from(
    quadratic: Quadratic, theta0, alpha: float, share: float = 0.99, max_epochs: int = 10**7
) -> int | None:
    """Plain GD: the first epoch t from which the slowest moving directions (those with the largest
    |1 - alpha lam_i|, the long-run factor's) hold at least `share` of the gap J_t - J*.

    With w_i = 1/2 lam_i e_{0,i}^2 and r_i = |1 - alpha lam_i|, the rest over the slowest part,
    sum_{r_i < r} w_i (r_i / r)^(2t) / sum_{r_i = r} w_i, falls with t, so the first t is found by
    bisection. 0 if they already do at the start; None if the start has no error along them, or not
    within `max_epochs`. ValueError for bad settings.
    """
    alpha = check("alpha", alpha)
    share = FRACTION.check("share", share)
    max_epochs = MAX_EPOCHS.check("max_epochs", max_epochs)
    theta0 = _start(quadratic, theta0)
    lam = quadratic.eigenvalues
    error0 = quadratic.eigenvectors.T @ (theta0 - quadratic.theta_star)
    moving = lam > 0
    lam, error0 = lam[moving], error0[moving]
    weights = 0.5 * lam * error0 * error0
    radius = np.abs(1.0 - alpha * lam)
    top = float(np.max(radius))
    slowest = radius >= top * (1.0 - 1e-12)
    slow_weight = float(weights[slowest].sum())
    if slow_weight <= 0 or top == 0:
        return None
    with np.errstate(**QUIET):
        log_ratio = 2.0 * np.log(radius[~slowest] / top)
    rest_weights = weights[~slowest]
    level = (1.0 - share) / share * slow_weight

    def rest(t: int) -> float:
        with np.errstate(**QUIET):
            return float(rest_weights @ np.exp(log_ratio * t))

    if rest(0) <= level:
        return 0
    if rest(max_epochs) > level:
        return None
    low, high = 0, max_epochs  # rest(low) > level >= rest(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if rest(middle) > level else (low, middle)
    return high

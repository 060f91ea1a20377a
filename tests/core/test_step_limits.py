"""`gdcore.limits` against independent references: literal full-batch loops on the explicit design
matrix A = [X, 1], numpy's eigenvalues of (2/N) A^T A, iteration matrices read off the literal update
rule, and brute-force grids. Random problems come from seeded numpy generators."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from gdcore.limits import StepLimits, forecast_epoch, limits_for, step_limits
from gdcore.model import Quadratic

LINEAR_CONFIGS = [
    ("gd", {}),
    ("momentum", {"beta": 0.5}),
    ("momentum", {"beta": 0.9}),
    ("nesterov", {"beta": 0.5}),
    ("nesterov", {"beta": 0.9}),
]
CONFIG_IDS = ["gd", "momentum-0.5", "momentum-0.9", "nesterov-0.5", "nesterov-0.9"]
ADAPTIVE = ["adagrad", "rmsprop", "adam"]


# --- independent references ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    X: np.ndarray
    y: np.ndarray

    @property
    def design(self) -> np.ndarray:
        return np.column_stack([self.X, np.ones(len(self.X))])

    @property
    def quadratic(self) -> Quadratic:
        return Quadratic.from_data(self.X, self.y)


def make_problem(rng: np.random.Generator, ill: bool = False, spread: float = 0.7) -> Problem:
    """d in 1..4, N in 20..80, features of scales 10^U(-spread, spread) around offsets in [-3, 3].

    `ill` makes it ill-conditioned: a feature far from zero relative to its spread (nearly collinear with
    the bias column) and, with d >= 2, a near-copy of another feature.
    """
    d, n = int(rng.integers(1, 5)), int(rng.integers(20, 81))
    X = rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-spread, spread, d) + rng.uniform(-3.0, 3.0, d)
    if ill:
        X[:, 0] = rng.uniform(3.0, 6.0) + 0.5 * rng.normal(size=n)
        if d >= 2:
            X[:, 1] = X[:, -1] + rng.uniform(0.2, 0.5) * rng.normal(size=n)
    y = (
        X @ rng.uniform(-20.0, 20.0, d)
        + rng.uniform(-10.0, 10.0)
        + rng.uniform(0.0, 5.0) * rng.normal(size=n)
    )
    return Problem(X, y)


def hessian_eigenvalues(problem: Problem) -> np.ndarray:
    A = problem.design
    return np.linalg.eigvalsh(2.0 / len(A) * A.T @ A)


def least_squares(problem: Problem) -> tuple[np.ndarray, float]:
    """theta* (weights then bias) and J* from numpy lstsq on A."""
    theta, *_ = np.linalg.lstsq(problem.design, problem.y, rcond=None)
    residual = problem.y - problem.design @ theta
    return theta, float(residual @ residual / len(residual))


def literal_update(optimizer: str, theta, velocity, grad, alpha: float, beta: float):
    """One step of the textbook rules: GD theta -= alpha g; momentum v = beta v + g, theta -= alpha v;
    Nesterov v = beta v + g, theta -= alpha (g + beta v)."""
    if optimizer == "gd":
        return theta - alpha * grad, velocity
    velocity = beta * velocity + grad
    if optimizer == "momentum":
        return theta - alpha * velocity, velocity
    return theta - alpha * (grad + beta * velocity), velocity


def iteration_matrices(optimizer: str, lam, alpha, beta: float) -> np.ndarray:
    """The matrices (..., k, k) of the literal update for the 1-d loss lam e^2 / 2 (gradient lam e), read
    off column by column by stepping from the unit states: on (v, e), or on e alone for GD (which keeps
    no velocity). lam and alpha broadcast."""
    lam, alpha = np.broadcast_arrays(np.asarray(lam, dtype=float), np.asarray(alpha, dtype=float))
    if optimizer == "gd":
        return literal_update("gd", 1.0, 0.0, lam, alpha, beta)[0][..., None, None]
    columns = []
    for velocity, error in ((1.0, 0.0), (0.0, 1.0)):
        error_next, velocity_next = literal_update(optimizer, error, velocity, lam * error, alpha, beta)
        columns.append(np.stack(np.broadcast_arrays(velocity_next, error_next), axis=-1))
    return np.stack(columns, axis=-1)


def brute_force_rates(optimizer: str, lam: np.ndarray, alphas, beta: float) -> np.ndarray:
    """Per alpha, the max over non-zero eigenvalues of the largest |eigenvalue| of the literal matrix."""
    moving = lam[lam > 1e-10 * lam.max()]
    matrices = iteration_matrices(optimizer, moving, np.asarray(alphas, dtype=float)[..., None], beta)
    return np.abs(np.linalg.eigvals(matrices)).max(axis=(-2, -1))


def brute_force_rate(optimizer: str, lam: np.ndarray, alpha: float, beta: float) -> float:
    return float(brute_force_rates(optimizer, lam, alpha, beta))


class LiteralBatch:
    """Many literal full-batch runs of one optimizer in lock-step: problem k's A and y zero-padded to
    common shapes. Padded rows have zero residual and padded columns zero gradient, so no run is changed
    by the padding. Each run has its own alpha, beta and start."""

    def __init__(self, problems, optimizer: str, alphas, betas, starts):
        rows, cols = max(len(p.y) for p in problems), max(p.design.shape[1] for p in problems)
        self.design = np.zeros((len(problems), rows, cols))
        self.targets = np.zeros((len(problems), rows))
        self.theta = np.zeros((len(problems), cols))
        for k, (problem, start) in enumerate(zip(problems, starts, strict=True)):
            self.design[k, : len(problem.y), : problem.design.shape[1]] = problem.design
            self.targets[k, : len(problem.y)] = problem.y
            self.theta[k, : len(start)] = start
        self.transposed = self.design.transpose(0, 2, 1).copy()
        self.rows = np.array([len(p.y) for p in problems], dtype=float)
        self.optimizer = optimizer
        self.alpha = np.asarray(alphas, dtype=float)[:, None]
        self.beta = np.asarray(betas, dtype=float)[:, None]

    def chunks(self, epochs: int, size: int = 2048, record_theta: bool = False):
        """Yield (loss (k, B), theta (k, B, p) or None) for epochs 0..epochs in order, k <= size."""
        theta, velocity = self.theta, np.zeros_like(self.theta)
        done = 0
        with np.errstate(all="ignore"):  # diverging runs overflow
            while done <= epochs:
                count = min(size, epochs + 1 - done)
                losses = np.empty((count, len(theta)))
                thetas = np.empty((count, *theta.shape)) if record_theta else None
                for i in range(count):
                    residual = (self.design @ theta[..., None])[..., 0] - self.targets
                    losses[i] = np.einsum("bn,bn->b", residual, residual) / self.rows
                    if record_theta:
                        thetas[i] = theta
                    grad = (2.0 / self.rows)[:, None] * (self.transposed @ residual[..., None])[..., 0]
                    theta, velocity = literal_update(
                        self.optimizer, theta, velocity, grad, self.alpha, self.beta
                    )
                done += count
                yield losses, thetas

    def losses(self, epochs: int) -> np.ndarray:
        """(epochs + 1, B) losses J_0..J_epochs."""
        return np.concatenate([losses for losses, _ in self.chunks(epochs)])

    def first_reaching(
        self, epochs: int, optimum_losses: np.ndarray, fractions=(0.999,)
    ) -> list[list[int | None]]:
        """Per fraction and run, the first t <= epochs with J_0 - J_t >= fraction (J_0 - J*), as the
        dashboard defines reaching the optimum."""
        first = np.full((len(fractions), len(optimum_losses)), -1)
        start = None
        offset = 0
        for losses, _ in self.chunks(epochs):
            start = losses[0] if start is None else start
            for row, fraction in enumerate(fractions):
                reached = start - losses >= fraction * (start - optimum_losses)
                epoch_of_hit = np.where(reached.any(axis=0), reached.argmax(axis=0) + offset, -1)
                first[row] = np.where((first[row] < 0) & (epoch_of_hit >= 0), epoch_of_hit, first[row])
            offset += len(losses)
        return [[None if t < 0 else int(t) for t in row] for row in first]


def random_start(rng: np.random.Generator, problem: Problem) -> np.ndarray:
    theta_star, _ = least_squares(problem)
    return theta_star + rng.normal(size=theta_star.shape) * rng.uniform(1.0, 20.0)


def start_slow_too(rng: np.random.Generator, problem: Problem) -> np.ndarray:
    """A start whose error puts about as much loss gap along the slow eigen-directions as the fast ones
    (e_i ~ 1 / sqrt(lam_i)), so reaching the optimum takes as long as the slowest direction."""
    A = problem.design
    lam, Q = np.linalg.eigh(2.0 / len(A) * A.T @ A)
    theta_star, _ = least_squares(problem)
    return theta_star + Q @ (rng.normal(size=len(lam)) * 10.0 / np.sqrt(lam))


# --- alpha_max ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("optimizer", "hyper"), LINEAR_CONFIGS, ids=CONFIG_IDS)
def test_alpha_max_is_the_closed_form_from_numpy_eigenvalues(optimizer, hyper):
    rng = np.random.default_rng(11)
    for _ in range(20):
        problem = make_problem(rng, ill=bool(rng.integers(2)))
        lam_max = hessian_eigenvalues(problem).max()
        beta = hyper.get("beta", 0.0)
        expected = {
            "gd": 2.0 / lam_max,
            "momentum": 2.0 * (1.0 + beta) / lam_max,
            "nesterov": 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * lam_max),
        }[optimizer]
        limits = step_limits(problem.X, problem.y, optimizer, **hyper)
        assert limits.alpha_max == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov"])
def test_beta_zero_reduces_to_gd(optimizer):
    rng = np.random.default_rng(12)
    for _ in range(10):
        quadratic = make_problem(rng).quadratic
        gd, beta_zero = limits_for(quadratic), limits_for(quadratic, optimizer, beta=0.0)
        assert beta_zero.alpha_max == pytest.approx(gd.alpha_max, rel=1e-14)
        assert beta_zero.alpha_opt == pytest.approx(gd.alpha_opt, rel=1e-9)
        for alpha in gd.alpha_max * np.array([0.1, 0.5, 0.99, 1.3]):
            assert beta_zero.rate(alpha) == pytest.approx(gd.rate(alpha), rel=1e-12)


@pytest.mark.parametrize(("optimizer", "hyper"), LINEAR_CONFIGS, ids=CONFIG_IDS)
def test_literal_runs_converge_just_below_alpha_max_and_diverge_just_above(optimizer, hyper):
    rng = np.random.default_rng(13)
    problems = [make_problem(rng, spread=0.4) for _ in range(20)]
    limits = [step_limits(p.X, p.y, optimizer, **hyper) for p in problems]
    starts = [random_start(rng, p) for p in problems]
    optimum = np.array([least_squares(p)[1] for p in problems])
    for factor, converges in ((0.98, True), (1.02, False)):
        alphas = [factor * lim.alpha_max for lim in limits]
        rates = np.array([lim.rate(a) for lim, a in zip(limits, alphas, strict=True)])
        assert np.all(rates < 1.0) if converges else np.all(rates > 1.0)
        # rate^K = e^-15 (or e^+15): far past any transient
        epochs = np.ceil(15.0 / np.abs(np.log(rates))).astype(int)
        batch = LiteralBatch(problems, optimizer, alphas, [hyper.get("beta", 0.0)] * 20, starts)
        losses = batch.losses(int(epochs.max()))
        gap_start = losses[0] - optimum
        gap_end = losses[epochs, np.arange(20)] - optimum
        if converges:
            assert np.all(gap_end <= 1e-4 * gap_start), gap_end / gap_start
        else:
            assert not np.any(gap_end <= 1e4 * gap_start), gap_end / gap_start  # NaN/inf count as grown


# --- rates ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("optimizer", "hyper"), LINEAR_CONFIGS, ids=CONFIG_IDS)
def test_rate_is_the_spectral_radius_of_the_literal_iteration_matrices(optimizer, hyper):
    rng = np.random.default_rng(14)
    for _ in range(10):
        problem = make_problem(rng, ill=bool(rng.integers(2)))
        limits = step_limits(problem.X, problem.y, optimizer, **hyper)
        lam = hessian_eigenvalues(problem)
        for alpha in limits.alpha_max * np.array([0.01, 0.2, 0.5, 0.8, 0.999, 1.1]):
            expected = brute_force_rate(optimizer, lam, alpha, hyper.get("beta", 0.0))
            # eigvals of a (near-)defective 2x2 is accurate to sqrt(machine epsilon)
            assert limits.rate(alpha) == pytest.approx(expected, rel=1e-7, abs=1e-7)
            assert limits.loss_rate(alpha) == pytest.approx(limits.rate(alpha) ** 2, rel=1e-14)


@pytest.mark.parametrize(("optimizer", "hyper"), LINEAR_CONFIGS, ids=CONFIG_IDS)
def test_rate_is_the_measured_contraction_of_a_literal_run(optimizer, hyper):
    rng = np.random.default_rng(15)
    problems = [make_problem(rng, spread=0.4) for _ in range(8)]
    limits = [step_limits(p.X, p.y, optimizer, **hyper) for p in problems]
    alphas = [lim.alpha_max * u for lim, u in zip(limits, rng.uniform(0.2, 0.9, 8), strict=True)]
    rates = np.array([lim.rate(a) for lim, a in zip(limits, alphas, strict=True)])
    # ||theta_t - theta*|| from about 1e-2 down to 1e-9 of the start: asymptotic, above rounding
    horizon = np.ceil(20.0 / -np.log(rates)).astype(int)
    starts = [random_start(rng, p) for p in problems]
    batch = LiteralBatch(problems, optimizer, alphas, [hyper.get("beta", 0.0)] * 8, starts)
    thetas = np.concatenate([t for _, t in batch.chunks(int(horizon.max()), record_theta=True)])
    for k, problem in enumerate(problems):
        theta_star, _ = least_squares(problem)
        p = len(theta_star)
        distance = np.linalg.norm(thetas[: horizon[k] + 1, k, :p] - theta_star, axis=1)
        # the error may oscillate: compare the peaks of two windows, half the horizon apart
        t_end, width = horizon[k], max(horizon[k] // 4, 1)
        early = distance[t_end // 2 - width : t_end // 2 + 1].max()
        late = distance[t_end - width : t_end + 1].max()
        measured = (late / early) ** (1.0 / (t_end - t_end // 2))
        assert measured == pytest.approx(rates[k], rel=0.02)
        assert -math.log(measured) == pytest.approx(-math.log(rates[k]), rel=0.2)


@pytest.mark.parametrize(("optimizer", "hyper"), LINEAR_CONFIGS, ids=CONFIG_IDS)
def test_alpha_opt_minimises_the_rate_on_a_dense_grid(optimizer, hyper):
    rng = np.random.default_rng(16)
    beta = hyper.get("beta", 0.0)
    for _ in range(6):
        problem = make_problem(rng, ill=bool(rng.integers(2)))
        limits = step_limits(problem.X, problem.y, optimizer, **hyper)
        lam = hessian_eigenvalues(problem)
        coarse = np.linspace(0.0, limits.alpha_max, 2001)[1:-1]
        coarse_rates = brute_force_rates(optimizer, lam, coarse, beta)
        best = int(np.argmin(coarse_rates))
        fine = np.linspace(coarse[max(best - 1, 0)], coarse[min(best + 1, len(coarse) - 1)], 401)
        grid_min = min(coarse_rates.min(), brute_force_rates(optimizer, lam, fine, beta).min())
        assert 0.0 < limits.alpha_opt < limits.alpha_max
        assert limits.rate(limits.alpha_opt) == pytest.approx(grid_min, rel=1e-4)
        assert limits.rate(limits.alpha_opt) <= grid_min * (1.0 + 1e-7)


def test_gd_alpha_opt_is_two_over_the_sum_of_the_extreme_eigenvalues():
    rng = np.random.default_rng(17)
    for _ in range(20):
        problem = make_problem(rng, ill=bool(rng.integers(2)))
        lam = hessian_eigenvalues(problem)
        limits = step_limits(problem.X, problem.y)
        assert limits.alpha_opt == pytest.approx(2.0 / (lam.min() + lam.max()), rel=1e-9)
        assert limits.polyak is None


def test_polyak_pair_is_the_best_momentum_setting():
    rng = np.random.default_rng(18)
    for _ in range(10):
        problem = make_problem(rng, ill=bool(rng.integers(2)))
        lam = hessian_eigenvalues(problem)
        kappa = lam.max() / lam.min()
        alpha_star, beta_star = step_limits(problem.X, problem.y, "momentum").polyak
        assert alpha_star == pytest.approx(4.0 / (math.sqrt(lam.max()) + math.sqrt(lam.min())) ** 2, rel=1e-9)
        assert beta_star == pytest.approx(((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2, rel=1e-9)
        best = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
        quadratic = problem.quadratic
        assert limits_for(quadratic, "momentum", beta=beta_star).rate(alpha_star) == pytest.approx(
            best, rel=1e-6
        )
        assert brute_force_rate("momentum", lam, alpha_star, beta_star) == pytest.approx(best, rel=1e-6)
        for d_alpha, d_beta in (
            (1.02, 0.0),
            (0.98, 0.0),
            (1.0, 0.02),
            (1.0, -0.02),
            (1.02, 0.02),
            (0.98, -0.02),
        ):
            beta = min(max(beta_star + d_beta, 0.0), 0.999)
            nearby = limits_for(quadratic, "momentum", beta=beta).rate(alpha_star * d_alpha)
            assert nearby >= best * (1.0 - 1e-9)
    assert step_limits(problem.X, problem.y, "nesterov").polyak is None


@pytest.mark.parametrize("optimizer", ADAPTIVE)
def test_adaptive_optimizers_have_no_fixed_limit(optimizer):
    problem = make_problem(np.random.default_rng(19))
    limits = step_limits(problem.X, problem.y, optimizer)
    assert isinstance(limits, StepLimits)
    assert limits.optimizer == optimizer
    assert limits.alpha_max is None and limits.alpha_opt is None and limits.polyak is None
    assert limits.rate(0.1) is None and limits.loss_rate(0.1) is None
    assert "step" in limits.note and "limit" in limits.note
    assert (
        forecast_epoch(problem.quadratic, random_start(np.random.default_rng(0), problem), 0.1, optimizer)
        is None
    )


def test_limits_record_the_full_validated_hyperparameters_and_all_eigenvalues():
    problem = make_problem(np.random.default_rng(20))
    assert step_limits(problem.X, problem.y, "adam", beta1=0.8).hyper == (
        ("beta1", 0.8),
        ("beta2", 0.999),
        ("eps", 1e-8),
    )
    limits = step_limits(problem.X, problem.y, "momentum")
    assert limits.hyper == (("beta", 0.9),)
    np.testing.assert_allclose(limits.eigenvalues, hessian_eigenvalues(problem), rtol=1e-9)
    assert "beta" in limits.note and step_limits(problem.X, problem.y).note


def test_flat_directions_are_left_out():
    """A repeated feature makes a flat direction (lambda = 0): it never moves, so it cannot slow the rate."""
    rng = np.random.default_rng(21)
    x = rng.normal(size=40) * 2.0 + 1.0
    problem = Problem(np.column_stack([x, x, rng.normal(size=40)]), 3.0 * x + rng.normal(size=40))
    lam = hessian_eigenvalues(problem)
    moving = lam[lam > 1e-9 * lam.max()]
    for optimizer, hyper in LINEAR_CONFIGS:
        limits = step_limits(problem.X, problem.y, optimizer, **hyper)
        assert limits.flat_directions == 1
        assert limits.rate(limits.alpha_opt) < 1.0
        assert limits.rate(0.5 * limits.alpha_max) == pytest.approx(
            brute_force_rate(optimizer, moving, 0.5 * limits.alpha_max, hyper.get("beta", 0.0)), rel=1e-7
        )
    assert step_limits(problem.X, problem.y).alpha_opt == pytest.approx(
        2.0 / (moving.min() + moving.max()), rel=1e-9
    )


# --- forecasts ------------------------------------------------------------------------------------------


def hyper_of(optimizer: str, beta: float) -> dict:
    return {} if optimizer == "gd" else {"beta": beta}


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov"])
def test_forecast_is_the_epoch_a_literal_run_reaches_the_optimum(optimizer):
    rng = np.random.default_rng({"gd": 31, "momentum": 32, "nesterov": 33}[optimizer])
    problems = [make_problem(rng, ill=k % 3 == 0) for k in range(30)]
    betas = [float(rng.choice([0.5, 0.9])) if optimizer != "gd" else 0.0 for _ in problems]
    limits = [
        limits_for(p.quadratic, optimizer, **hyper_of(optimizer, b))
        for p, b in zip(problems, betas, strict=True)
    ]
    alphas = [lim.alpha_max * 10.0 ** rng.uniform(-2.0, -0.005) for lim in limits]
    if optimizer == "momentum":  # Polyak's pair: both extreme directions at a double (defective) root
        for k in (1, 2):
            alphas[k], betas[k] = limits[k].polyak
    starts = [start_slow_too(rng, p) if k % 2 else random_start(rng, p) for k, p in enumerate(problems)]
    cap, fractions = 60_000, (0.999, 0.99)
    forecasts = [
        [
            forecast_epoch(
                p.quadratic, s, a, optimizer, fraction=fraction, max_epochs=cap, **hyper_of(optimizer, b)
            )
            for p, s, a, b in zip(problems, starts, alphas, betas, strict=True)
        ]
        for fraction in fractions
    ]
    assert sum(f is not None and f > 5000 for f in forecasts[0]) >= 3  # long runs are covered
    horizon = max((f + 2 if f is not None else cap) for f in forecasts[0])
    optimum = np.array([least_squares(p)[1] for p in problems])
    batch = LiteralBatch(problems, optimizer, alphas, betas, starts)
    reached = batch.first_reaching(min(horizon, cap), optimum, fractions)
    for fraction, predicted, literal in zip(fractions, forecasts, reached, strict=True):
        for k, (forecast, truth) in enumerate(zip(predicted, literal, strict=True)):
            assert (forecast is None) == (truth is None), (fraction, k, forecast, truth)
            if forecast is not None:
                assert abs(forecast - truth) <= 1, (fraction, k, forecast, truth)


@pytest.mark.parametrize(("optimizer", "hyper"), LINEAR_CONFIGS, ids=CONFIG_IDS)
def test_forecast_is_none_beyond_alpha_max(optimizer, hyper):
    rng = np.random.default_rng(34)
    problems = [make_problem(rng, ill=k % 3 == 0) for k in range(10)]
    limits = [step_limits(p.X, p.y, optimizer, **hyper) for p in problems]
    alphas = [lim.alpha_max * factor for lim, factor in zip(limits, rng.uniform(1.02, 1.5, 10), strict=True)]
    starts = [random_start(rng, p) for p in problems]
    for problem, start, alpha in zip(problems, starts, alphas, strict=True):
        assert forecast_epoch(problem.quadratic, start, alpha, optimizer, **hyper) is None
    batch = LiteralBatch(problems, optimizer, alphas, [hyper.get("beta", 0.0)] * 10, starts)
    optimum = np.array([least_squares(p)[1] for p in problems])
    assert batch.first_reaching(3000, optimum) == [[None] * 10]


def test_forecast_is_zero_at_the_optimum_and_none_with_no_epochs():
    problem = make_problem(np.random.default_rng(35))
    quadratic = problem.quadratic
    for optimizer in ("gd", "momentum", "nesterov"):
        assert forecast_epoch(quadratic, quadratic.theta_star, 0.01, optimizer) == 0
    assert forecast_epoch(quadratic, quadratic.theta_star + 1.0, 1e-9, max_epochs=0) is None


def test_forecast_of_a_very_long_gd_run_needs_no_loop():
    """GD's gap is a sum of exponentials exp(2 t log|1 - alpha lam|); with one direction moved, the
    first t is ceil(log(1 - fraction) / (2 log|1 - alpha lam|)), even at a billion epochs."""
    problem = make_problem(np.random.default_rng(36))
    quadratic = problem.quadratic
    top = int(np.argmax(quadratic.eigenvalues))
    start = quadratic.theta_star + quadratic.eigenvectors[:, top]
    lam = float(quadratic.eigenvalues[top])
    alpha = 1e-9 / lam
    expected = math.ceil(math.log(1e-3) / (2.0 * math.log1p(-alpha * lam)))
    forecast = forecast_epoch(quadratic, start, alpha, max_epochs=10**10)
    assert abs(forecast - expected) <= 1
    assert forecast_epoch(quadratic, start, alpha) is None  # beyond the default max_epochs


# --- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        (lambda q: limits_for(q, "sgd"), "sgd"),
        (lambda q: limits_for(q, "momentum", beta=1.5), "1.5"),
        (lambda q: limits_for(q, "nesterov", beta=-0.25), "-0.25"),
        (lambda q: limits_for(q, "momentum", gamma=0.5), "gamma"),
        (lambda q: limits_for(q, "gd", beta=0.5), "beta"),
        (lambda q: limits_for(q, "adam", eps=0.0), "0.0"),
        (lambda q: limits_for(q).rate(-0.125), "-0.125"),
        (lambda q: forecast_epoch(q, q.theta_star, 0.1, "adagrad2"), "adagrad2"),
        (lambda q: forecast_epoch(q, q.theta_star, 0.1, "momentum", beta=2.5), "2.5"),
        (lambda q: forecast_epoch(q, q.theta_star, -3.5), "-3.5"),
        (lambda q: forecast_epoch(q, q.theta_star, 0.1, fraction=1.5), "1.5"),
        (lambda q: forecast_epoch(q, q.theta_star, 0.1, max_epochs=-7), "-7"),
        (lambda q: forecast_epoch(q, np.zeros(q.n_params + 1), 0.1), "(4,)"),
        (lambda q: forecast_epoch(q, np.full(q.n_params, np.nan), 0.1), "nan"),
    ],
)
def test_bad_settings_raise_value_error_naming_the_value(call, bad):
    problem = Problem(np.arange(6.0).reshape(3, 2) ** 1.5, np.array([1.0, 2.0, 4.0]))
    with pytest.raises(ValueError) as info:
        call(problem.quadratic)
    assert bad in str(info.value)


def test_step_limits_rejects_bad_data():
    with pytest.raises(ValueError, match="rows"):
        step_limits(np.ones((3, 1)), np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        step_limits(np.array([1.0, np.nan, 3.0]), np.ones(3))

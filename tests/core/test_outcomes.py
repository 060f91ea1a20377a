"""What a run's outcome means (issue 9, section 2): diverged / converged / descending / not converging,
each rule of `gdcore.Trajectory` checked against an independent reference (numpy's eigenvalues and
lstsq, the step limits derived by hand, loss sequences written out here)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import design_matrix

import gdcore
from gdcore.trajectory import GROWTH_EPOCHS, Trajectory, growing_at_end

LINEAR = ("gd", "momentum", "nesterov")
ADAPTIVE = ("adagrad", "rmsprop", "adam")
BETA = 0.9


def random_problem(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(5, 80)), int(rng.integers(1, 5))
    X = rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-1, 1, size=d) + rng.uniform(-3, 3, size=d)
    y = X @ rng.uniform(-20, 20, size=d) + rng.uniform(-5, 5) + rng.normal(size=n) * rng.choice([0.5, 5.0])
    return X, y


def numpy_limit(X, y, name: str) -> float:
    """The largest stable step from numpy's eigenvalues of H = (2/N) A^T A: 2 / lam_max for GD,
    2(1 + beta) / lam_max for heavy ball, 2(1 + beta) / ((1 + 2 beta) lam_max) for Nesterov."""
    A = design_matrix(X)
    lam_max = np.linalg.eigvalsh(2.0 / len(A) * A.T @ A)[-1]
    factor = {"gd": 1.0, "momentum": 1.0 + BETA, "nesterov": (1.0 + BETA) / (1.0 + 2.0 * BETA)}[name]
    return 2.0 * factor / lam_max


def lstsq_theta(X, y) -> np.ndarray:
    return np.linalg.lstsq(design_matrix(X), y, rcond=None)[0]


def hyper(name: str) -> dict:
    return {"beta": BETA} if name in ("momentum", "nesterov") else {}


# --- diverged: full-batch GD, momentum, Nesterov, decided from the iteration -----------------------


@pytest.mark.parametrize("name", LINEAR)
def test_just_above_the_limit_is_diverged_even_after_one_epoch_and_just_below_never(name):
    """0.98x the optimizer's own limit never diverges, however long; 1.02x always does, even when far
    too short for the loss to show it (on >= 20 random problems, limits from numpy's eigenvalues)."""
    for seed in range(24):
        X, y = random_problem(seed)
        limit = numpy_limit(X, y, name)
        for epochs in (1, 3, 40, 3000):
            below = gdcore.descend(X, y, optimizer=name, alpha=0.98 * limit, epochs=epochs, **hyper(name))
            above = gdcore.descend(X, y, optimizer=name, alpha=1.02 * limit, epochs=epochs, **hyper(name))
            assert not below.diverged and below.stop_reason == "epochs", (seed, epochs)
            assert above.diverged and above.stop_reason == "diverged", (seed, epochs)
            assert below.stability_known and above.stability_known


def test_the_old_rule_mislabelled_runs_that_end_above_their_start():
    """Momentum below its limit often ends a short run above its start (it overshoots first): it is not
    diverged. Seen on these problems; the rule used to call each of them diverged."""
    seen = 0
    for seed in range(30):
        X, y = random_problem(seed)
        w0 = lstsq_theta(X, y)[:-1] + 0.01
        run = gdcore.descend(
            X, y, optimizer="momentum", alpha=0.9 * numpy_limit(X, y, "momentum"), epochs=3, w0=w0, beta=BETA
        )
        seen += bool(run.loss[-1] > run.loss[0])
        assert not run.diverged
    assert seen >= 3


@pytest.mark.parametrize("name", LINEAR)
def test_a_start_at_the_optimum_is_not_diverged_above_the_limit(name):
    """Started at lstsq's optimum, or within 1e-9 relative of it, a run above the limit has (next to) no
    error along the unstable direction: not diverged while that error stays below 1e-6 |theta*|, e.g. for
    the epochs in which the iteration's spectral radius rho (numpy's eigenvalues) grows it at most 5x."""
    for seed in range(20):
        X, y = random_problem(seed)
        theta = lstsq_theta(X, y)
        alpha = 1.02 * numpy_limit(X, y, name)
        A = design_matrix(X)
        lam = np.linalg.eigvalsh(2.0 / len(A) * A.T @ A)[-1]
        beta = hyper(name).get("beta", 0.0)
        T = [[beta, lam], [-alpha * beta * (beta if name == "nesterov" else 1.0), 0.0]]
        T[1][1] = 1.0 - alpha * lam * ((1.0 + beta) if name == "nesterov" else 1.0)
        rho = np.abs(np.linalg.eigvals(np.array(T))).max()
        epochs = max(1, int(np.log(5.0) / np.log(rho)))
        nudge = np.random.default_rng(seed).normal(size=theta.shape)
        nudge *= 1e-9 * np.linalg.norm(theta) / np.linalg.norm(nudge)
        for start in (theta, theta + nudge):
            run = gdcore.descend(
                X, y, optimizer=name, alpha=alpha, epochs=epochs, w0=start[:-1], b0=start[-1], **hyper(name)
            )
            assert not run.diverged, (seed, epochs)


def test_rounding_that_grows_past_the_floor_along_an_unstable_direction_is_divergence():
    """At the optimum but far above the limit, rounding is multiplied by |1 - alpha lam| = 9 per epoch:
    after a few epochs the parameters have left the optimum for good, and the run says so."""
    X, y = random_problem(3)
    theta = lstsq_theta(X, y)
    alpha = 5.0 * numpy_limit(X, y, "gd")
    short = gdcore.descend(X, y, alpha=alpha, epochs=2, w0=theta[:-1], b0=theta[-1])
    long = gdcore.descend(X, y, alpha=alpha, epochs=200, w0=theta[:-1], b0=theta[-1])
    assert not short.diverged
    assert long.diverged and not np.allclose(np.append(long.weights[-1], long.bias[-1]), theta)


def test_an_error_only_along_stable_directions_does_not_diverge():
    """alpha between 2/lam_max and 2/lam_min: only the top direction is unstable. A start whose error
    lies along the other directions is not diverged; add error along the top one and it is."""
    X, y = random_problem(5)
    A = design_matrix(X)
    lam, Q = np.linalg.eigh(2.0 / len(A) * A.T @ A)
    theta = lstsq_theta(X, y)
    alpha = 2.0 / np.sqrt(lam[-1] * lam[-2])  # unstable for lam_max only
    assert alpha * lam[-1] > 2 > alpha * lam[-2]
    stable_start = theta + Q[:, :-1] @ np.ones(len(lam) - 1)
    run = gdcore.descend(X, y, alpha=alpha, epochs=30, w0=stable_start[:-1], b0=stable_start[-1])
    assert not run.diverged
    both = stable_start + 1e-3 * Q[:, -1]
    assert gdcore.descend(X, y, alpha=alpha, epochs=30, w0=both[:-1], b0=both[-1]).diverged


def test_an_overflow_is_diverged_whatever_the_optimizer():
    X, y = random_problem(1)
    for name, batch in [("gd", None), ("gd", 4), ("momentum", 4), ("adam", None)]:
        alpha = 1e300 if name == "adam" else 1e6
        run = gdcore.descend(X, y, optimizer=name, alpha=alpha, epochs=5000, batch_size=batch)
        if run.epochs_run < 5000:  # it overflowed: the finite part is kept
            assert run.diverged and run.stop_reason == "diverged"
    assert gdcore.descend(X, y, alpha=1e6, epochs=5000, batch_size=4).epochs_run < 5000


# --- diverged: every other run, from its losses ----------------------------------------------------


def literal_growth(loss) -> bool:
    """The rule, written out: the last 10 losses each rose, the last is above the first of the run, and
    the log-growth of the last 5 epochs is at least half that of the 5 before."""
    loss = [float(value) for value in loss]
    if len(loss) < 11:
        return False
    tail = loss[-11:]
    if any(tail[i + 1] <= tail[i] for i in range(10)) or tail[-1] <= loss[0] or tail[0] <= 0:
        return False
    return bool(np.log(tail[10] / tail[5]) >= 0.5 * np.log(tail[5] / tail[0]))


@pytest.mark.parametrize(
    ("loss", "growing"),
    [
        (1.0 + 1e-3 * 1.5 ** np.arange(40), True),  # geometric growth from near the optimum speeds up
        (3.0 * 2.0 ** np.arange(30), True),  # geometric growth keeps its pace
        (np.r_[100.0, 1e-30, (np.arange(1, 15) * 0.01) ** 2], False),  # from exactly ~0: a bounded step
        (np.r_[0.5, np.arange(1, 13) ** 2.0], False),  # bounded steps away from the start: slowing
        (1.0 - 0.5 * np.cos(np.linspace(0, np.pi, 25)), False),  # an oscillation's rise slows to its top
        (np.r_[1e6, 2.0 ** np.arange(12)], False),  # growing, but still below the start
        (2.0 ** np.arange(GROWTH_EPOCHS), False),  # too short to judge
        (np.r_[2.0 ** np.arange(20), 1.0], False),  # fell at the very end
    ],
)
def test_growing_at_end_against_sequences_written_out(loss, growing):
    assert growing_at_end(np.asarray(loss, dtype=float)) is growing
    assert literal_growth(loss) is growing


@pytest.mark.parametrize("name", ADAPTIVE)
def test_adaptive_methods_started_at_the_optimum_are_not_diverged(name):
    """Adam, RMSProp and AdaGrad started exactly at the optimum first move away (their step is about alpha
    whatever the gradient), so the loss rises above the start: not diverged, and not "converged" either."""
    for seed in range(20):
        X, y = random_problem(seed)
        theta = lstsq_theta(X, y)
        run = gdcore.descend(X, y, optimizer=name, alpha=0.05, epochs=100, w0=theta[:-1], b0=theta[-1])
        assert not run.diverged and not run.stability_known, seed
        assert run.growing_at_end == literal_growth(run.loss) is False


def test_minibatch_runs_above_the_edge_diverge_and_bouncing_runs_do_not():
    X, y = random_problem(2)
    limit = numpy_limit(X, y, "gd")
    exploding = gdcore.descend(X, y, alpha=3.0 * limit, epochs=400, batch_size=2)
    assert exploding.diverged and not exploding.stability_known
    theta = lstsq_theta(X, y)
    for seed in range(10):
        bouncing = gdcore.descend(
            X, y, alpha=0.3 * limit, epochs=300, batch_size=1, w0=theta[:-1], b0=theta[-1], shuffle_seed=seed
        )
        assert not bouncing.diverged and bouncing.loss[-1] > bouncing.loss[0]
        assert bouncing.outcome(float(np.mean((y - design_matrix(X) @ theta) ** 2))) == "not converging"


def test_random_runs_are_labelled_by_the_rule_not_by_their_last_loss():
    """Across random problems, optimizers, steps and batches: `diverged` is exactly the rule written out
    here (an overflow, the exact linear rule, or the growth rule), whatever the last loss is."""
    rng = np.random.default_rng(0)
    ended_above_but_not_diverged = 0
    for seed in range(60):
        X, y = random_problem(seed)
        name = str(rng.choice(LINEAR + ADAPTIVE))
        batch = None if rng.random() < 0.5 else int(rng.integers(1, len(y)))
        limit = numpy_limit(X, y, name) if name in LINEAR else 0.5
        alpha = float(limit * 10 ** rng.uniform(-2, 0.3))
        epochs = int(rng.integers(1, 60))
        run = gdcore.descend(
            X, y, optimizer=name, alpha=alpha, epochs=epochs, batch_size=batch, **hyper(name)
        )
        full = batch is None or batch >= len(y)
        if run.epochs_run < epochs:
            expected = True
        elif name in LINEAR and full:
            expected = alpha > limit  # the random starts carry error along every direction
        else:
            expected = literal_growth(run.loss)
        assert run.diverged == expected, (seed, name, batch, alpha / limit)
        ended_above_but_not_diverged += bool(run.loss[-1] > run.loss[0] and not run.diverged)
    assert ended_above_but_not_diverged > 0


# --- converged / descending / not converging --------------------------------------------------------


def test_outcomes_of_full_batch_gd():
    X, y = random_problem(4)
    optimum = gdcore.least_squares(X, y).loss
    limit = numpy_limit(X, y, "gd")
    assert gdcore.descend(X, y, alpha=0.5 * limit, epochs=20_000).outcome(optimum) == "converged"
    assert gdcore.descend(X, y, alpha=1e-4 * limit, epochs=10).outcome(optimum) == "descending"
    assert gdcore.descend(X, y, alpha=1.5 * limit, epochs=10).outcome(optimum) == "diverged"
    stopped = gdcore.descend(X, y, alpha=1e-4 * limit, epochs=10_000, tol=1e-3)
    assert stopped.stop_reason == "converged" and stopped.outcome(optimum) == "converged"


def test_settled_means_the_final_loss_closed_99_9_percent_of_the_gap():
    """Written out on a hand-made run: J* = 1, J_0 = 101, so the band is J <= 1.1."""

    def run(*loss):
        return Trajectory(np.array(loss), np.zeros((len(loss), 1)), np.zeros(len(loss)), "epochs", False)

    assert run(101.0, 50.0, 1.1).settled(1.0) and run(101.0, 1.1).outcome(1.0) == "converged"
    assert not run(101.0, 1.0, 1.2).settled(1.0)
    assert run(101.0, 1.0, 1.2).epoch_reaching(1.0) == 1  # reached at epoch 1, but did not stay
    assert run(101.0, 1.0, 1.2).outcome(1.0) == "not converging"  # no new low at the end
    assert run(101.0, 60.0, 50.0).outcome(1.0) == "descending"  # a new low at the end
    assert run(1.0, 1.0).outcome(1.0) == "converged"  # started at the optimum and stayed
    assert run(1.0, 1.01).outcome(1.0) == "not converging"  # started there and moved away


def test_momentum_below_its_limit_is_descending_even_while_its_loss_rises():
    """Heavy ball's loss oscillates on its way down: at the end of a short run it may be rising, yet
    every direction contracts, so the outcome is "descending", not "not converging"."""
    for seed in range(30):
        X, y = random_problem(seed)
        run = gdcore.descend(
            X, y, optimizer="momentum", alpha=0.5 * numpy_limit(X, y, "momentum"), epochs=25, beta=BETA
        )
        optimum = gdcore.least_squares(X, y).loss
        assert run.outcome(optimum) in ("descending", "converged")


# --- the sweep follows the same rule -----------------------------------------------------------------


def test_sweep_diverged_is_the_rule_for_gd():
    """GD's vectorised sweep: alpha above 2 / lam_max (with error along that direction) is diverged,
    whatever the epochs, and each alpha agrees with its own run."""
    for seed in range(20):
        X, y = random_problem(seed)
        limit = numpy_limit(X, y, "gd")
        alphas = limit * np.array([0.5, 0.98, 1.02, 1.5, 4.0])
        for epochs in (1, 50):
            result = gdcore.sweep(X, y, alphas, epochs=epochs)
            np.testing.assert_array_equal(result.diverged, [False, False, True, True, True])
            runs = [gdcore.descend(X, y, alpha=a, epochs=epochs).diverged for a in alphas]
            np.testing.assert_array_equal(result.diverged, runs)
        theta = lstsq_theta(X, y)
        at_optimum = gdcore.sweep(X, y, limit * np.array([0.5, 1.02]), epochs=50, w0=theta[:-1], b0=theta[-1])
        assert not at_optimum.diverged.any()


def test_sweep_of_other_optimizers_follows_each_run():
    X, y = random_problem(6)
    alphas = numpy_limit(X, y, "nesterov") * np.array([0.5, 0.98, 1.02, 2.0])
    result = gdcore.sweep(X, y, alphas, optimizer="nesterov", epochs=5, beta=BETA)
    np.testing.assert_array_equal(result.diverged, [False, False, True, True])
    adam = gdcore.sweep(X, y, [1e-3, 1.0, 1e3], optimizer="adam", epochs=30)
    runs = [gdcore.descend(X, y, optimizer="adam", alpha=a, epochs=30).diverged for a in (1e-3, 1.0, 1e3)]
    np.testing.assert_array_equal(adam.diverged, runs)

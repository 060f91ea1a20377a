"""The "Diverged" status says what this run did and the theory that holds for this optimizer (issue 9).

Only a full-batch GD/momentum/Nesterov run at a constant alpha gets the exact full-batch reason ("the
error along the steepest direction grows every epoch"); a mini-batch run, an adaptive optimizer or a
scheduled run gets its own numbers (the loss's growth over its last epochs, or its rise before the
overflow), checked here against mini-batch loops written out with the engine's reshuffle.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import gdcore
from gdcore.dashboard import experiment
from gdcore.dashboard.explain import describe_status
from gdcore.schedules import Schedule
from gdcore.trajectory import Trajectory

FULL_BATCH_REASON = "steepest direction grows every epoch"
GROWTH = re.compile(
    r"its loss grew in each of its last 10 epochs, from ([0-9.,e+-]+) at epoch ([0-9,]+) to "
    r"([0-9.,e+-]+) at epoch ([0-9,]+) \(×([0-9.e+-]+) per epoch\)"
)


@pytest.fixture(scope="module")
def blog() -> experiment.Prepared:
    return experiment.prepare(
        experiment.load_source(gdcore.SyntheticSpec()), standardized=False, test_fraction=0.0, split_seed=42
    )


def literal_losses(X, y, spec: gdcore.RunSpec, epochs: int) -> np.ndarray:
    """MSE at the end of each epoch 0..epochs of GD or momentum (v = βv + g, θ -= α_e v) written out: the
    same reshuffle as the engine (default_rng(shuffle_seed).permutation per epoch), α_e from the spec."""
    n = X.shape[0]
    A = np.column_stack([X, np.ones(n)])
    theta = spec.start(X.shape[1]).astype(np.float64)
    v = np.zeros_like(theta)
    beta = dict(spec.hyper).get("beta", 0.0)
    batch = spec.batch_size or n
    rng = np.random.default_rng(spec.shuffle_seed)
    alphas = spec.alphas(epochs)
    losses = [np.mean((A @ theta - y) ** 2)]
    with np.errstate(all="ignore"):
        for epoch in range(epochs):
            order = rng.permutation(n) if batch < n else np.arange(n)
            for begin in range(0, n, batch):
                rows = order[begin : begin + batch]
                g = 2.0 / rows.size * A[rows].T @ (A[rows] @ theta - y[rows])
                v = beta * v + g
                theta = theta - alphas[epoch] * v
            losses.append(np.mean((A @ theta - y) ** 2))
    return np.array(losses)


def full_batch_limit(X, optimizer: str, beta: float = 0.9) -> float:
    A = np.column_stack([X, np.ones(X.shape[0])])
    lam = np.linalg.eigvalsh(2.0 / X.shape[0] * A.T @ A).max()
    return {"gd": 2.0 / lam, "momentum": 2.0 * (1.0 + beta) / lam}[optimizer]


def status_of(prepared, optimizer: str, **fields):
    plan = experiment.RunPlan.compare((optimizer,), **fields)
    run = next(iter(experiment.run_optimizers(prepared, plan).values()))
    return run, plan.first, describe_status(run, prepared.fit, experiment.outlook(prepared, plan.first))


def number(text: str) -> float:
    return float(text.replace(",", ""))


def check_growth_numbers(text: str, reference: np.ndarray) -> None:
    """The growth the status states is the written-out loop's: its last 10 epochs each raised the loss,
    the two losses named are the loop's and the factor is their 10th root, to the digits shown."""
    match = GROWTH.search(text)
    assert match, text
    first, epoch_first, last, epoch_last, factor = match.groups()
    i, k = int(epoch_first.replace(",", "")), int(epoch_last.replace(",", ""))
    assert k - i == 10
    assert np.all(np.diff(reference[i : k + 1]) > 0)
    assert (first, last) == (f"{reference[i]:,.4g}", f"{reference[k]:,.4g}")
    assert factor == f"{(reference[k] / reference[i]) ** 0.1:.3g}"


def test_full_batch_gd_above_its_limit_keeps_the_exact_reason(blog):
    X, y = blog.train.X, blog.train.y
    _, spec, status = status_of(blog, "gd", alpha=1.0)
    assert spec.alpha > full_batch_limit(X, "gd")
    assert status.kind == "diverged" and FULL_BATCH_REASON in status.text and "is above" in status.text
    loss = literal_losses(X, y, spec, 100)
    assert np.all(np.diff(loss[50:]) > 0)  # the loop does grow every epoch


@pytest.mark.parametrize(
    ("optimizer", "alpha", "batch_size", "epochs", "side"),
    [("gd", 2.0, 8, 100, "above"), ("gd", 1.5, 8, 30, "above"), ("momentum", 1.0, 8, 200, "below")],
)
def test_a_mini_batch_run_says_its_growth_not_the_full_batch_reason(
    blog, optimizer, alpha, batch_size, epochs, side
):
    X, y = blog.train.X, blog.train.y
    hyper = {"hyper": (("beta", 0.9),)} if optimizer == "momentum" else {}
    run, spec, status = status_of(blog, optimizer, alpha=alpha, batch_size=batch_size, epochs=epochs, **hyper)
    assert run.diverged and status.kind == "diverged"
    assert FULL_BATCH_REASON not in status.text
    limit = full_batch_limit(X, optimizer)
    assert (alpha > limit) == (side == "above")
    named = float(re.search(r"α_max = ([0-9.e+-]+) \(", status.text).group(1))
    assert named == pytest.approx(limit, rel=5e-4)
    assert f"α = {alpha:g} is {side} " in status.text
    assert (
        "exact only for steps on all rows" in status.text and f"mini-batches of {batch_size}" in status.text
    )
    reference = literal_losses(X, y, spec, run.epochs_run)
    np.testing.assert_allclose(run.loss, reference, rtol=1e-6)
    check_growth_numbers(status.text, reference)


def test_a_mini_batch_run_that_overflows_says_how_its_loss_rose(blog):
    X, y = blog.train.X, blog.train.y
    run, spec, status = status_of(blog, "gd", alpha=10.0, batch_size=1)
    reference = literal_losses(X, y, spec, 3)
    first_bad = int(np.flatnonzero(~np.isfinite(reference))[0])
    assert run.diverged and run.epochs_run == first_bad - 1 == 1
    assert FULL_BATCH_REASON not in status.text
    rose = re.search(
        r"its loss rose from ([0-9.,e+-]+) at the start to ([0-9.,e+-]+) at epoch 1\.", status.text
    )
    assert rose, status.text
    assert number(rose.group(1)) == pytest.approx(reference[0], rel=1e-3)
    assert number(rose.group(2)) == pytest.approx(reference[1], rel=1e-3)
    assert "The numbers overflowed in epoch 2" in status.text


def test_a_run_that_overflows_in_its_first_epoch_says_no_epoch_finished():
    data = gdcore.make_data(n_samples=600, seed=7)
    prepared = experiment.prepare(
        gdcore.Dataset(data.X, data.y, np.full(1, np.nan), ("x",), "600 rows"),
        standardized=False,
        test_fraction=0.0,
        split_seed=0,
    )
    run, spec, status = status_of(prepared, "gd", alpha=10.0, batch_size=1, epochs=20)
    assert not np.isfinite(literal_losses(data.X, data.y, spec, 1)[1])  # the loop overflows in epoch 1
    assert run.epochs_run == 0 and run.overflow_step is not None
    step, steps = run.overflow_step
    assert (
        f"What happened: it did not finish one epoch. The numbers overflowed during epoch 1 (at mini-batch "
        f"step {step:,} of its {steps:,}); the charts show only the start, epoch 0." in status.text
    )
    assert FULL_BATCH_REASON not in status.text


def test_a_scheduled_run_names_its_steps_and_its_growth(blog):
    X, y = blog.train.X, blog.train.y
    schedule = Schedule("exponential", (("gamma", 0.99),))
    run, spec, status = status_of(blog, "gd", alpha=3.0, schedule=schedule)
    assert run.diverged and not run.stability_known
    assert FULL_BATCH_REASON not in status.text
    assert "the exponential schedule steps α from 3 in epoch 1 to " in status.text
    assert spec.alphas().max() >= full_batch_limit(X, "gd")
    assert "its largest step is at or above" in status.text
    check_growth_numbers(status.text, literal_losses(X, y, spec, run.epochs_run))


def test_an_adaptive_run_has_no_limit_and_says_its_growth(blog):
    """Adam's steps are bounded by about α, so a real run hardly grows geometrically: a hand-made Adam
    trajectory whose loss grows ×1.5 per epoch stands for one; the status states those numbers."""
    spec = gdcore.RunSpec(optimizer="adam", alpha=5.0, epochs=30, hyper=gdcore.RunSpec.of("adam").hyper)
    loss = 100.0 * 1.5 ** np.arange(31)
    weights = np.arange(31, dtype=np.float64)[:, None]
    run = Trajectory(loss, weights, np.zeros(31), "epochs", True, spec=spec)
    status = describe_status(run, blog.fit, experiment.outlook(blog, spec))
    assert status.kind == "diverged" and FULL_BATCH_REASON not in status.text
    assert "Adam has no fixed step limit" in status.text and "at α = 5" in status.text
    check_growth_numbers(status.text, loss)
    assert "α_max" not in status.text


# A finite mini-batch or adaptive run that is "not converging": "bounces around the optimum" only when its
# loss ended below its start; one that ended above it is said to have moved away, with its numbers.
@pytest.mark.parametrize(("alpha", "away"), [(0.5, True), (0.1, False)])
def test_not_converging_says_bouncing_only_when_the_run_stayed_below_its_start(blog, alpha, away):
    X, y = blog.train.X, blog.train.y
    run, spec, status = status_of(blog, "gd", alpha=alpha, batch_size=1)
    assert status.kind == "not converging"
    reference = literal_losses(X, y, spec, run.epochs_run)
    np.testing.assert_allclose(run.loss, reference, rtol=1e-6)
    assert (reference[-1] > reference[0]) == away
    if away:
        assert "bounces" not in status.text
        assert (
            f"this run's loss ended above its start ({reference[-1]:,.4g} at epoch {run.epochs_run:,} against "
            f"{reference[0]:,.4g} at epoch 0): it has moved away from the optimum, not bounced near it."
        ) in status.text
    else:
        assert "so the run bounces around the optimum" in status.text and "moved away" not in status.text


def test_a_scheduled_mini_batch_run_far_above_its_start_is_said_readably(blog):
    """Momentum, batches of 8, exponential schedule from α = 0.9: its loss ends near 1e101 without growing
    geometrically at the end. The gap and the loss are said as 6.13e+97 times and 1.068e+101, not with
    a hundred digits, and the run is not said to bounce near the optimum."""
    X, y = blog.train.X, blog.train.y
    schedule = Schedule("exponential", (("gamma", 0.999),))
    run, spec, status = status_of(
        blog, "momentum", alpha=0.9, batch_size=8, epochs=200, schedule=schedule, hyper=(("beta", 0.9),)
    )
    assert status.kind == "not converging"
    reference = literal_losses(X, y, spec, 200)
    np.testing.assert_allclose(run.loss, reference, rtol=1e-6)
    optimum = lstsq_mse(X, y)
    times = (reference[-1] - optimum) / (reference[0] - optimum)
    assert times > 1e6
    assert (
        f"with {times:.3g} times the starting gap still open (MSE {reference[-1]:.4g} against" in status.text
    )
    assert "moved away from the optimum" in status.text and "bounces" not in status.text
    assert max(len(word) for word in status.text.split()) < 40  # no number printed in full


def test_a_full_batch_scheduled_run_above_its_start_says_so(blog):
    X, y = blog.train.X, blog.train.y
    run, spec, status = status_of(blog, "gd", alpha=3.0, schedule=Schedule("cosine"))
    assert status.kind == "not converging"
    reference = literal_losses(X, y, spec, run.epochs_run)
    np.testing.assert_allclose(run.loss, reference, rtol=1e-6)
    assert reference[-1] > reference[0]
    assert "theory does not say where this run ends; this run's loss ended above its start (" in status.text
    assert f"({reference[-1]:,.4g} at epoch 100 against {reference[0]:,.4g} at epoch 0)" in status.text


def lstsq_mse(X, y) -> float:
    A = np.column_stack([X, np.ones(X.shape[0])])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    return float(np.mean((A @ theta - y) ** 2))

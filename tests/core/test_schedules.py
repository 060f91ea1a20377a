"""Learning-rate schedules (gdcore.schedules): each schedule's steps against its formula written out here
and against the values torch's and Keras' documentation print; every optimizer, full batch and
mini-batch, with a schedule against a literal loop written here; the constant schedule is today's run
bit for bit; the constant-alpha theory is not claimed for a scheduled run; bad values are refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdcore
from gdcore.schedules import SCHEDULES, Schedule

NAMES = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
HYPER = {  # torch.optim's defaults, written out here
    "gd": {},
    "momentum": {"beta": 0.9},
    "nesterov": {"beta": 0.9},
    "adagrad": {"eps": 1e-10},
    "rmsprop": {"rho": 0.99, "eps": 1e-8},
    "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}
# One example of every schedule, with parameters away from the defaults.
EXAMPLES = {
    "constant": {},
    "step": {"step_size": 7, "gamma": 0.5},
    "exponential": {"gamma": 0.9},
    "inverse_time": {"decay_rate": 0.5, "decay_steps": 3.0},
    "cosine": {"T_max": 12, "eta_min": 0.001},
    "linear": {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 8},
}


def literal_alpha(name: str, alpha: float, e: int, p: dict) -> float:
    """alpha in (0-based) epoch e, one epoch at a time with the math module: the formulas as documented."""
    if name == "constant":
        return alpha
    if name == "step":
        return alpha * p["gamma"] ** (e // p["step_size"])
    if name == "exponential":
        return alpha * p["gamma"] ** e
    if name == "inverse_time":
        return alpha / (1 + p["decay_rate"] * e / p["decay_steps"])
    if name == "cosine":
        return p["eta_min"] + (alpha - p["eta_min"]) * (1 + math.cos(math.pi * e / p["T_max"])) / 2
    factor = (
        p["start_factor"]
        + (p["end_factor"] - p["start_factor"]) * min(e, p["total_iters"]) / p["total_iters"]
    )
    return alpha * factor


def data(n=40, d=1, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.arange(1, d + 1)
    y = X @ np.arange(2.0, 2.0 + d) + 1.5 + rng.normal(scale=0.3, size=n)
    return X, y


def literal_scheduled(X, y, name, alphas, *, batch_size=None, shuffle_seed=0, w0=1.0, b0=0.0):
    """The run from the data, epoch by epoch: shuffle (mini-batch), per batch of rows B the gradient
    g = -(2/n_B) [X_B, 1]^T (y_B - X_B w - b), then torch.optim's update at this epoch's alpha."""
    n, d = X.shape
    h = HYPER[name]
    theta = np.append(np.full(d, w0), b0)
    v, G, s, m, u = (np.zeros(d + 1) for _ in range(5))
    t = 0
    rng = np.random.default_rng(shuffle_seed)
    size = n if batch_size is None else batch_size
    thetas = [theta]
    for alpha in alphas:
        order = rng.permutation(n) if size < n else np.arange(n)
        for begin in range(0, n, size):
            rows = order[begin : begin + size]
            r = y[rows] - X[rows] @ theta[:-1] - theta[-1]
            g = -2.0 / len(rows) * np.append(X[rows].T @ r, r.sum())
            if name == "gd":
                theta = theta - alpha * g
            elif name == "momentum":
                v = h["beta"] * v + g
                theta = theta - alpha * v
            elif name == "nesterov":
                v = h["beta"] * v + g
                theta = theta - alpha * (g + h["beta"] * v)
            elif name == "adagrad":
                G = G + g * g
                theta = theta - alpha * g / (np.sqrt(G) + h["eps"])
            elif name == "rmsprop":
                s = h["rho"] * s + (1 - h["rho"]) * g * g
                theta = theta - alpha * g / (np.sqrt(s) + h["eps"])
            else:
                t += 1
                m = h["beta1"] * m + (1 - h["beta1"]) * g
                u = h["beta2"] * u + (1 - h["beta2"]) * g * g
                theta = theta - alpha * (m / (1 - h["beta1"] ** t)) / (
                    np.sqrt(u / (1 - h["beta2"] ** t)) + h["eps"]
                )
        thetas.append(theta)
    thetas = np.array(thetas)
    losses = np.mean((y[None, :] - thetas[:, :-1] @ X.T - thetas[:, -1:]) ** 2, axis=1)
    return losses, thetas


# --- the steps ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_steps_match_the_formula_epoch_by_epoch(name):
    p = Schedule.of(name, **EXAMPLES[name]).parameters
    got = Schedule.of(name, **EXAMPLES[name]).alphas(0.2, 60)
    expected = [literal_alpha(name, 0.2, e, p) for e in range(60)]
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)


def test_every_registry_schedule_is_covered_here():
    assert set(SCHEDULES) == set(EXAMPLES)


def test_documented_values():
    """The numbers printed in the libraries' own documentation."""
    # torch StepLR docstring: lr = 0.05 for epoch < 30, 0.005 for 30 <= epoch < 60, 0.0005 for 60 <= epoch < 90
    steps = Schedule.of("step", step_size=30, gamma=0.1).alphas(0.05, 90)
    np.testing.assert_allclose(steps[[0, 29, 30, 59, 60, 89]], [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005])
    # torch LinearLR docstring: lr = 0.025, 0.03125, 0.0375, 0.04375, then 0.05 from epoch 4 on
    linear = Schedule.of("linear", start_factor=0.5, total_iters=4).alphas(0.05, 7)
    np.testing.assert_allclose(linear, [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05, 0.05])
    # CosineAnnealingLR(T_max=2) from lr 0.1, stepped six times: 0.05, 0, 0.05, 0.1, 0.05, 0 (periodic)
    cosine = Schedule.of("cosine", T_max=2).alphas(0.1, 7)
    np.testing.assert_allclose(cosine[1:], [0.05, 0.0, 0.05, 0.1, 0.05, 0.0], atol=1e-17)
    # ExponentialLR(gamma=0.9) from 0.1: 0.1, 0.09, 0.081 (by hand)
    np.testing.assert_allclose(Schedule.of("exponential", gamma=0.9).alphas(0.1, 3), [0.1, 0.09, 0.081])
    # keras InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5): 0.1, 0.1/1.5, 0.1/2 at steps 0, 1, 2
    inverse = Schedule.of("inverse_time", decay_rate=0.5, decay_steps=1).alphas(0.1, 3)
    np.testing.assert_allclose(inverse, [0.1, 0.1 / 1.5, 0.05])


def test_torch_defaults_where_torch_has_them():
    assert Schedule("step").parameters["gamma"] == 0.1
    assert Schedule("cosine").parameters["eta_min"] == 0.0
    assert Schedule("linear").parameters == {"start_factor": 1 / 3, "end_factor": 1.0, "total_iters": 5}


# --- runs against the literal loop ----------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", NAMES)
@pytest.mark.parametrize("batch_size", [None, 7])
@pytest.mark.parametrize("d", [1, 3])
def test_scheduled_run_matches_the_literal_loop(optimizer, batch_size, d):
    X, y = data(d=d)
    alpha = 0.02 if optimizer in ("gd", "momentum", "nesterov") else 0.3
    for name in ("step", "cosine", "linear"):
        run = gdcore.descend(
            X,
            y,
            alpha=alpha,
            epochs=30,
            optimizer=optimizer,
            batch_size=batch_size,
            shuffle_seed=5,
            schedule=name,
            **EXAMPLES[name],
        )
        p = run.spec.schedule.parameters
        alphas = [literal_alpha(name, alpha, e, p) for e in range(30)]
        losses, thetas = literal_scheduled(X, y, optimizer, alphas, batch_size=batch_size, shuffle_seed=5)
        np.testing.assert_allclose(run.alphas, alphas, rtol=1e-14)
        scale = float(np.abs(thetas).max())
        np.testing.assert_allclose(
            np.column_stack([run.weights, run.bias]), thetas, rtol=1e-10, atol=1e-10 * scale
        )
        np.testing.assert_allclose(run.loss, losses, rtol=1e-10, atol=1e-13 * losses[0])
        assert not run.stability_known


@pytest.mark.parametrize("optimizer", NAMES)
@pytest.mark.parametrize("batch_size", [None, 16])
def test_constant_schedule_is_todays_run_bit_for_bit(optimizer, batch_size):
    X, y = data(d=2)
    plain = gdcore.descend(X, y, alpha=0.05, epochs=50, optimizer=optimizer, batch_size=batch_size)
    constant = gdcore.descend(
        X, y, alpha=0.05, epochs=50, optimizer=optimizer, batch_size=batch_size, schedule="constant"
    )
    assert np.array_equal(plain.loss, constant.loss)
    assert np.array_equal(plain.weights, constant.weights)
    assert plain.stability_known == constant.stability_known
    np.testing.assert_array_equal(constant.alphas, np.full(50, 0.05))


def test_schedule_object_and_keywords_are_the_same_run():
    X, y = data()
    a = gdcore.descend(X, y, alpha=0.1, epochs=20, schedule="exponential", gamma=0.8)
    b = gdcore.descend(X, y, alpha=0.1, epochs=20, schedule=Schedule.of("exponential", gamma=0.8))
    assert a.spec == b.spec
    assert np.array_equal(a.loss, b.loss)


def test_changed_and_hash_carry_the_schedule():
    spec = gdcore.RunSpec.of("gd", alpha=0.1, schedule="step", step_size=5)
    assert spec.changed() == {"alpha": 0.1, "schedule": "step", "step_size": 5}
    assert gdcore.RunSpec.of("gd", **spec.changed()) == spec
    assert hash(spec) != hash(gdcore.RunSpec.of("gd", alpha=0.1))
    assert "schedule" not in gdcore.RunSpec.of("gd", alpha=0.1).changed()
    assert "step_size=5" in gdcore.reproduce_code(gdcore.SyntheticSpec(), spec)


def test_alphas_cover_the_epochs_run_only():
    X, y = data()
    run = gdcore.descend(X, y, alpha=0.1, epochs=500, tol=1e-3, schedule="cosine", T_max=400)
    assert run.stop_reason == "converged" and run.epochs_run < 500
    assert run.alphas.shape == (run.epochs_run,)


# --- theory is not claimed for a scheduled run ----------------------------------------------------------


def test_a_step_above_the_limit_that_decays_is_not_called_diverged():
    """alpha_0 = 1.5 alpha_max would diverge at a constant step (the exact rule says so); decayed by
    half every epoch it is below alpha_max from epoch 1 and the run converges. The literal loop agrees."""
    X, y = data(d=2)
    A = np.column_stack([X, np.ones(len(X))])
    alpha_max = 2.0 / np.linalg.eigvalsh(2.0 / len(X) * A.T @ A).max()
    alpha = 1.5 * alpha_max
    constant = gdcore.descend(X, y, alpha=alpha, epochs=200)
    assert constant.diverged and constant.stability_known
    run = gdcore.descend(X, y, alpha=alpha, epochs=200, schedule="step", step_size=1, gamma=0.5)
    assert not run.diverged and not run.stability_known
    losses, _ = literal_scheduled(X, y, "gd", run.alphas)
    np.testing.assert_allclose(run.loss, losses, rtol=1e-10)
    assert losses[1] > losses[0]  # the first, too-big step did overshoot ...
    run2 = gdcore.descend(
        X, y, alpha=alpha, epochs=2000, schedule="inverse_time", decay_rate=5.0, decay_steps=1
    )
    assert not run2.diverged
    optimum = np.linalg.lstsq(A, y, rcond=None)[0]
    j_star = float(np.mean((y - A @ optimum) ** 2))
    assert run2.outcome(j_star) in ("converged", "descending")


def test_sweep_of_a_scheduled_gd_is_the_scheduled_runs():
    X, y = data()
    alphas = np.array([0.01, 0.1, 0.5])
    result = gdcore.sweep(X, y, alphas, epochs=40, schedule="step", step_size=10, gamma=0.5)
    for i, a in enumerate(alphas):
        run = gdcore.descend(X, y, alpha=float(a), epochs=40, schedule="step", step_size=10, gamma=0.5)
        assert result.final_loss[i] == pytest.approx(run.loss[-1], rel=1e-12)


# --- bad values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"schedule": "warm"}, "'warm'"),
        ({"schedule": 3}, "3"),
        ({"schedule": "step", "step_size": 0}, "step_size"),
        ({"schedule": "step", "step_size": 2.5}, "2.5"),
        ({"schedule": "step", "gamma": 0.0}, "gamma"),
        ({"schedule": "exponential", "gamma": 1.5}, "1.5"),
        ({"schedule": "cosine", "T_max": -1}, "-1"),
        ({"schedule": "cosine", "eta_min": float("nan")}, "nan"),
        ({"schedule": "linear", "start_factor": 0.0}, "start_factor"),
        ({"schedule": "linear", "end_factor": 2.0}, "end_factor"),
        ({"schedule": "inverse_time", "decay_steps": 0}, "decay_steps"),
        ({"schedule": "constant", "gamma": 0.5}, "gamma"),
        ({"schedule": "cosine", "step_size": 5}, "step_size"),
        ({"schedule": Schedule("step"), "gamma": 0.5}, "gamma"),
    ],
)
def test_bad_values_are_refused_with_the_value(kwargs, fragment):
    X, y = data()
    with pytest.raises(ValueError, match="schedule|" + fragment) as info:
        gdcore.descend(X, y, **kwargs)
    assert fragment in str(info.value)


# --- the from-scratch script ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in SCHEDULES if n != "constant"])
def test_scratch_script_runs_the_schedule(name, tmp_path):
    """The exported from-scratch program (numpy + scikit-learn) prints the same line as the lab's run."""
    import subprocess
    import sys

    from gdcore.scratch import scratch_script

    spec = gdcore.RunSpec.of(
        "momentum", alpha=0.05, epochs=30, batch_size=16, schedule=name, **EXAMPLES[name]
    )
    data = gdcore.SyntheticSpec()
    path = tmp_path / "scratch.py"
    path.write_text(scratch_script(data, spec))
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=True)
    made = data.make()
    assert gdcore.run(made.X, made.y, spec).summary_line() in out.stdout
    assert "alpha = alpha_at(epoch)" in path.read_text()


def test_schedule_keywords_never_shadow_an_optimizer_hyperparameter():
    """descend(**kwargs) routes a schedule parameter's name to the schedule: no optimizer may use one."""
    from gdcore.schedules import SCHEDULE_PARAMETERS

    hyper = {h.name for entry in gdcore.OPTIMIZERS.values() for h in entry.hyperparameters}
    assert not hyper & SCHEDULE_PARAMETERS
    spec = gdcore.RunSpec.of("momentum", beta=0.5, schedule="exponential", gamma=0.9)
    assert spec.hyperparameters == {"beta": 0.5} and spec.schedule.parameters == {"gamma": 0.9}


@pytest.mark.parametrize(
    ("name", "params", "said"),
    [
        (
            "constant",
            {"gamma": 0.5},
            "unknown parameter(s) gamma for schedule 'constant'; it takes no parameters",
        ),
        (
            "cosine",
            {"step_size": 5, "a": 1},
            "unknown parameter(s) a, step_size for schedule 'cosine'; it takes ",
        ),
    ],
)
def test_unknown_parameters_are_named_with_what_the_schedule_takes(name, params, said):
    with pytest.raises(ValueError) as info:
        Schedule(name, tuple(params.items()))
    assert str(info.value).startswith(said)
    if name == "cosine":
        assert str(info.value).endswith(
            "it takes " + ", ".join(p.name for p in SCHEDULES["cosine"].parameters)
        )

"""Every optimizer in `gdcore.OPTIMIZERS`, full batch and mini-batch, against a literal loop written here
from the data (torch.optim's definitions), the least-squares optimum, and the shared rules of a run."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import assert_trajectories_match, lstsq_optimum, problems
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
from gdcore.kernels import KERNELS_D1
from gdcore.optimizers import adam_init, adam_update
from gdcore.stepping import MAX_STEP_ROWS, Stepper

NAMES = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
LINEAR = ("gd", "momentum", "nesterov")  # no adaptive scaling: a large step overflows
# torch.optim's defaults (SGD momentum 0.9 as the common choice), written out independently of gdcore.
TORCH_DEFAULTS = {
    "gd": {},
    "momentum": {"beta": 0.9},
    "nesterov": {"beta": 0.9},
    "adagrad": {"eps": 1e-10},
    "rmsprop": {"rho": 0.99, "eps": 1e-8},
    "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}
FEW = settings(max_examples=25, deadline=None)


# --- the literal reference ----------------------------------------------------------------------------


def literal_step(name, g, s, theta, alpha, h):
    """One update, written out as in torch.optim; `s` is a dict of numpy state, mutated."""
    if name == "gd":
        return theta - alpha * g
    if name in ("momentum", "nesterov"):
        s["v"] = h["beta"] * s["v"] + g
        if name == "momentum":
            return theta - alpha * s["v"]
        return theta - alpha * (g + h["beta"] * s["v"])
    if name == "adagrad":
        s["G"] = s["G"] + g**2
        return theta - alpha * g / (np.sqrt(s["G"]) + h["eps"])
    if name == "rmsprop":
        s["s"] = h["rho"] * s["s"] + (1 - h["rho"]) * g**2
        return theta - alpha * g / (np.sqrt(s["s"]) + h["eps"])
    s["t"] += 1
    s["m"] = h["beta1"] * s["m"] + (1 - h["beta1"]) * g
    s["v"] = h["beta2"] * s["v"] + (1 - h["beta2"]) * g**2
    m_hat = s["m"] / (1 - h["beta1"] ** s["t"])
    v_hat = s["v"] / (1 - h["beta2"] ** s["t"])
    return theta - alpha * m_hat / (np.sqrt(v_hat) + h["eps"])


def literal_descend(X, y, name, *, alpha, epochs, w0=1.0, b0=0.0, batch_size=None, shuffle_seed=0, **hyper):
    """Epoch by epoch from the data: shuffle (mini-batch only), then per batch of rows B
    g = (-(2/n_B) X_B^T r_B, -(2/n_B) sum r_B) with r_B = y_B - (X_B w + b), then the literal update.
    Returns a trajectory-like namespace and every step's parameters."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    y = np.asarray(y, dtype=np.float64).ravel()
    n, d = X.shape
    h = {**TORCH_DEFAULTS[name], **hyper}
    theta = np.append(np.full(d, float(w0)), float(b0))
    zeros = np.zeros(d + 1)
    state = {"v": zeros, "G": zeros, "s": zeros, "m": zeros, "t": 0}
    rng = np.random.default_rng(shuffle_seed)
    size = n if batch_size is None or batch_size >= n else batch_size

    def loss(th):
        return float(np.mean((y - X @ th[:-1] - th[-1]) ** 2))

    losses, thetas, steps = [loss(theta)], [theta], [theta]
    for _ in range(epochs):
        order = rng.permutation(n) if size < n else np.arange(n)
        for start in range(0, n, size):
            rows = order[start : start + size]
            residual = y[rows] - (X[rows] @ theta[:-1] + theta[-1])
            g = np.append(-2.0 / len(rows) * X[rows].T @ residual, -2.0 / len(rows) * residual.sum())
            theta = literal_step(name, g, state, theta, alpha, h)
            steps.append(theta)
        losses.append(loss(theta))
        thetas.append(theta)
    loss_arr, theta_arr = np.array(losses), np.array(thetas)
    if name in LINEAR and size == n:
        diverged = literal_linear_diverges(X, y, name, alpha, h.get("beta", 0.0), theta_arr)
    else:
        diverged = literal_growing_at_end(loss_arr)
    run = SimpleNamespace(
        loss=loss_arr,
        weights=theta_arr[:, :-1],
        bias=theta_arr[:, -1],
        epochs_run=epochs,
        stop_reason="diverged" if diverged else "epochs",
        diverged=diverged,
    )
    return run, np.array(steps)


def literal_linear_diverges(X, y, name, alpha, beta, thetas) -> bool:
    """Full-batch GD/momentum/Nesterov diverge iff alpha exceeds the step limit of an eigen-direction of
    H = (2/N) A^T A (2/lam, 2(1+beta)/lam, 2(1+beta)/((1+2beta) lam)) whose error against lstsq's optimum
    is above 1e-9 |theta*| at the start or at the end (gdcore.Trajectory's rule, from numpy here)."""
    A = np.column_stack([X, np.ones(len(X))])
    lam, Q = np.linalg.eigh(2.0 / len(X) * A.T @ A)
    theta_star = np.linalg.lstsq(A, y, rcond=None)[0]
    factor = {"gd": 1.0, "momentum": 1.0 + beta, "nesterov": (1.0 + beta) / (1.0 + 2.0 * beta)}[name]
    moving = lam > 1e-10 * lam.max()
    unstable = moving & (alpha * np.where(moving, lam, 1.0) > 2.0 * factor)
    size = np.maximum(np.abs(Q.T @ (thetas[0] - theta_star)), np.abs(Q.T @ (thetas[-1] - theta_star)))
    return bool(np.any(unstable & (size > 1e-9 * np.linalg.norm(theta_star))))


def literal_growing_at_end(loss) -> bool:
    """The loss rose in each of the last 10 epochs, ended above its start, and its log grew over the last
    5 epochs at least half as much as over the 5 before (gdcore.Trajectory's rule, written out here)."""
    if len(loss) < 11:
        return False
    tail = loss[-11:]
    rising = bool(np.all(np.diff(tail) > 0)) and tail[-1] > loss[0]
    return rising and tail[0] > 0 and np.log(tail[-1] / tail[5]) >= 0.5 * np.log(tail[5] / tail[0])


def well_conditioned(n=200, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, X @ [3.0, -2.0] + 1.5 + 0.5 * rng.normal(size=n)


def step_alpha(name, X, draw_fraction):
    """A step size that keeps each optimizer well-behaved: a fraction of alpha_max for the linear ones
    (stable for momentum too, whose limit is (1 + beta) times larger), a parameter-scale step otherwise."""
    if name in LINEAR:
        return draw_fraction * gdcore.analyze(X, np.zeros(len(X))).alpha_max
    return 3.0 * draw_fraction


# --- the registry -------------------------------------------------------------------------------------


def test_registry_lists_the_six_optimizers():
    assert tuple(gdcore.OPTIMIZERS) == NAMES
    assert gdcore.get_optimizer("adam") is gdcore.OPTIMIZERS["adam"]


@pytest.mark.parametrize("name", NAMES)
def test_entry_documents_its_update(name):
    entry = gdcore.OPTIMIZERS[name]
    assert entry.name == name and entry.display_name
    assert r"\theta_{t+1}" in entry.equation
    assert r"\theta_{t+1}" in entry.update.__doc__
    assert entry.defaults() == TORCH_DEFAULTS[name]
    for hyper in entry.hyperparameters:
        assert hyper.limits.check(hyper.name, hyper.default) == hyper.default
        assert hyper.symbol and hyper.help and hyper.name in hyper.describe()


@pytest.mark.parametrize("name", NAMES)
def test_update_signature_matches_the_registry(name):
    """The stepping loop passes hyperparameters positionally, in the registry's order."""
    entry = gdcore.OPTIMIZERS[name]
    parameters = list(inspect.signature(entry.update).parameters.values())
    assert [p.name for p in parameters[:4]] == ["grads", "state", "params", "alpha"]
    assert [(p.name, p.default) for p in parameters[4:]] == list(entry.defaults().items())


@pytest.mark.parametrize("name", NAMES)
def test_update_is_pure_and_works_on_floats_and_arrays(name):
    entry = gdcore.OPTIMIZERS[name]
    params, grads = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    state = entry.init(params)
    snapshot = [np.copy(field) for field in state]
    new_params, new_state = entry.update(grads, state, params, 0.1)
    assert np.array_equal(params, [1.0, -2.0])  # inputs untouched
    assert all(np.array_equal(a, b) for a, b in zip(state, snapshot, strict=True))
    for i in range(2):
        p_i, s_i = entry.update(float(grads[i]), entry.init(float(params[i])), float(params[i]), 0.1)
        assert p_i == pytest.approx(new_params[i], rel=1e-15)
        assert isinstance(p_i, float)
        for field_i, field in zip(s_i, new_state, strict=True):
            assert np.ndim(field_i) == 0 and field_i == pytest.approx(
                np.asarray(field).flat[i if np.ndim(field) else 0]
            )
    assert type(new_state) is type(state)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("hyper", [{}, {"beta": 0.5, "rho": 0.5, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3}])
def test_fused_kernel_equals_the_registry_update_bit_for_bit(name, hyper):
    """d = 1 runs use the fused loops of gdcore.kernels; the registry's update, called per parameter,
    must give exactly the same numbers (same operations in the same order)."""
    assert name in KERNELS_D1
    entry = gdcore.OPTIMIZERS[name]
    values = entry.validate({k: v for k, v in hyper.items() if k in entry.defaults()})
    rng = np.random.default_rng(1)
    H = rng.uniform(0.5, 2.0, size=(300, 2, 2))
    H[:, 1, 0] = H[:, 0, 1]
    q = rng.normal(size=(300, 2)) * 10
    fused = Stepper(entry, 0.05, values, np.array([3.0, -1.0]))
    generic = Stepper(entry, 0.05, values, np.array([3.0, -1.0]), fused=False)
    assert fused.kernel is not None and generic.kernel is None
    np.testing.assert_array_equal(fused.run(fused.batches(H, q)), generic.run(generic.batches(H, q)))
    assert fused.carry == generic.carry


def test_unknown_optimizer_is_a_clear_error():
    X, y = well_conditioned()
    with pytest.raises(ValueError, match=r"optimizer must be one of gd, momentum, .* adam; got 'sgd'"):
        gdcore.descend(X, y, optimizer="sgd")
    with pytest.raises(ValueError, match="got 'sgd'"):
        gdcore.descend(X, y, optimizer="sgd", batch_size=10)


@pytest.mark.parametrize(
    ("name", "hyper", "message"),
    [
        ("momentum", {"beta": 1.0}, r"beta \(momentum\) must be a finite number >= 0 and < 1; got 1.0"),
        ("nesterov", {"beta": -0.1}, r"beta \(nesterov\) must be a finite number >= 0 and < 1; got -0.1"),
        ("momentum", {"beta": float("nan")}, r"beta \(momentum\) must be .*; got nan"),
        ("momentum", {"beta": "0.9"}, r"beta \(momentum\) must be .*; got '0.9'"),
        ("adam", {"beta2": 1.5}, r"beta2 \(adam\) must be a finite number >= 0 and < 1; got 1.5"),
        ("adam", {"eps": 0.0}, r"eps \(adam\) must be a finite number > 0 and <= 1; got 0.0"),
        ("rmsprop", {"rho": float("inf")}, r"rho \(rmsprop\) must be .*; got inf"),
        ("adagrad", {"eps": -1e-8}, r"eps \(adagrad\) must be .*; got -1e-08"),
        (
            "gd",
            {"beta": 0.9},
            r"unknown hyperparameter\(s\) beta for optimizer 'gd'; it takes no hyperparameters",
        ),
        (
            "adam",
            {"beta": 0.9},
            r"unknown hyperparameter\(s\) beta for optimizer 'adam'; it takes beta1, beta2, eps",
        ),
    ],
)
@pytest.mark.parametrize("batch_size", [None, 10])
def test_bad_hyperparameters_are_clear_errors(name, hyper, message, batch_size):
    X, y = well_conditioned()
    with pytest.raises(ValueError, match=message):
        gdcore.descend(X, y, optimizer=name, batch_size=batch_size, **hyper)


def test_numpy_scalar_hyperparameters_are_accepted():
    X, y = well_conditioned()
    a = gdcore.descend(X, y, optimizer="momentum", beta=np.float32(0.5), epochs=5)
    b = gdcore.descend(X, y, optimizer="momentum", beta=0.5, epochs=5)
    assert a.spec.hyperparameters["beta"] == 0.5
    np.testing.assert_array_equal(a.loss, b.loss)


# --- against the literal loop -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@FEW
@given(problem=problems(max_features=3), fraction=st.floats(0.05, 0.9), epochs=st.integers(0, 8))
def test_full_batch_matches_literal_loop(name, problem, fraction, epochs):
    alpha = step_alpha(name, problem.X, fraction)
    fast = gdcore.descend(problem.X, problem.y, optimizer=name, alpha=alpha, epochs=epochs, w0=2.0, b0=-1.0)
    reference, _ = literal_descend(problem.X, problem.y, name, alpha=alpha, epochs=epochs, w0=2.0, b0=-1.0)
    assert_trajectories_match(fast, reference)


@pytest.mark.parametrize("name", NAMES)
@FEW
@given(
    problem=problems(max_features=3, min_rows=3),
    fraction=st.floats(0.05, 0.5),
    epochs=st.integers(1, 5),
    batch_fraction=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_minibatch_matches_literal_loop(name, problem, fraction, epochs, batch_fraction, seed):
    n = len(problem.y)
    batch_size = 1 + int(batch_fraction * (n - 2))  # 1 .. N-1: a real mini-batch run
    alpha = step_alpha(name, problem.X, fraction) * (batch_size / n if name in LINEAR else 1.0)
    kwargs = {"alpha": alpha, "epochs": epochs, "batch_size": batch_size, "shuffle_seed": seed}
    fast = gdcore.descend(problem.X, problem.y, optimizer=name, record_steps=True, **kwargs)
    reference, steps = literal_descend(problem.X, problem.y, name, **kwargs)
    assert_trajectories_match(fast, reference)
    np.testing.assert_allclose(fast.steps, steps, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(steps).max()))


@pytest.mark.parametrize("name", ["momentum", "nesterov"])
@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
def test_closed_form_momentum_matches_literal_loop_over_many_epochs(name, beta):
    """Full-batch momentum is evaluated from matrix powers, in chunks: check across a chunk boundary."""
    X, y = gdcore.make_data().X, gdcore.make_data().y
    alpha = 0.5 * gdcore.analyze(X, y).alpha_max
    fast = gdcore.descend(X, y, optimizer=name, alpha=alpha, epochs=5000, beta=beta)
    reference, _ = literal_descend(X, y, name, alpha=alpha, epochs=5000, beta=beta)
    assert_trajectories_match(fast, reference)


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_stepped_full_batch_matches_literal_loop_with_several_features(name):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(50, 4)) * [1.0, 3.0, 0.3, 2.0]
    y = X @ [1.0, -2.0, 4.0, 0.5] + 3.0 + rng.normal(size=50)
    fast = gdcore.descend(X, y, optimizer=name, alpha=0.05, epochs=30)
    reference, _ = literal_descend(X, y, name, alpha=0.05, epochs=30)
    assert_trajectories_match(fast, reference)


# --- special cases ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["momentum", "nesterov"])
@pytest.mark.parametrize("batch_size", [None, 7])
def test_zero_momentum_is_exactly_gradient_descent(name, batch_size):
    X, y = well_conditioned()
    kwargs = {"alpha": 0.3, "epochs": 40, "batch_size": batch_size, "shuffle_seed": 5}
    gd = gdcore.descend(X, y, **kwargs)
    zero = gdcore.descend(X, y, optimizer=name, beta=0.0, **kwargs)
    np.testing.assert_array_equal(zero.loss, gd.loss)
    np.testing.assert_array_equal(zero.weights, gd.weights)
    np.testing.assert_array_equal(zero.bias, gd.bias)


def test_adam_bias_correction_by_hand():
    """Two steps with g_1 = 2, g_2 = -1, alpha = 0.1 and the default betas, worked out on paper:
    m_1 = 0.1 * 2 = 0.2, v_1 = 0.001 * 4 = 0.004, m_hat = 0.2 / 0.1 = 2, v_hat = 0.004 / 0.001 = 4,
    theta_1 = 1 - 0.1 * 2 / (2 + 1e-8);
    m_2 = 0.9 * 0.2 + 0.1 * (-1) = 0.08, v_2 = 0.999 * 0.004 + 0.001 * 1 = 0.004996,
    m_hat = 0.08 / (1 - 0.81) = 8/19, v_hat = 0.004996 / (1 - 0.998001) = 4996/1999,
    theta_2 = theta_1 - 0.1 * (8/19) / (sqrt(4996/1999) + 1e-8)."""
    theta, state = 1.0, adam_init(1.0)
    theta, state = adam_update(2.0, state, theta, 0.1)
    assert state.count == 1
    assert state.mu == pytest.approx(0.2, rel=1e-15) and state.nu == pytest.approx(0.004, rel=1e-12)
    theta_1 = 1.0 - 0.1 * 2.0 / (2.0 + 1e-8)
    assert theta == pytest.approx(theta_1, rel=1e-15)
    theta, state = adam_update(-1.0, state, theta, 0.1)
    assert state.count == 2
    assert state.mu == pytest.approx(0.08, rel=1e-12) and state.nu == pytest.approx(0.004996, rel=1e-12)
    assert theta == pytest.approx(theta_1 - 0.1 * (8 / 19) / (np.sqrt(4996 / 1999) + 1e-8), rel=1e-14)


def test_adam_first_step_moves_every_parameter_by_alpha():
    """Bias correction makes the first step alpha * g / (|g| + eps): alpha in the direction of -g."""
    data = gdcore.make_data()
    run = gdcore.descend(data.X, data.y, optimizer="adam", alpha=0.25, epochs=1)
    grad_w, grad_b = gdcore.gradient(data.X, data.y, 1.0, 0.0)
    step_w, step_b = -0.25 * grad_w / (np.abs(grad_w) + 1e-8), -0.25 * grad_b / (abs(grad_b) + 1e-8)
    np.testing.assert_allclose(run.weights[1] - run.weights[0], step_w, rtol=1e-12)
    assert run.bias[1] - run.bias[0] == pytest.approx(step_b, rel=1e-12)
    assert abs(step_b) == pytest.approx(0.25, rel=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_batch_size_n_is_full_batch(name):
    X, y = well_conditioned()
    full = gdcore.descend(X, y, optimizer=name, alpha=0.05, epochs=30)
    for batch_size in (len(y), len(y) + 5):
        same = gdcore.descend(X, y, optimizer=name, alpha=0.05, epochs=30, batch_size=batch_size)
        np.testing.assert_array_equal(same.loss, full.loss)
        np.testing.assert_array_equal(same.weights, full.weights)


@pytest.mark.parametrize("name", NAMES)
def test_shuffling_is_reproducible_by_seed(name):
    X, y = well_conditioned()
    kwargs = {"optimizer": name, "alpha": 0.01, "epochs": 5, "batch_size": 16}
    first = gdcore.descend(X, y, shuffle_seed=11, **kwargs)
    again = gdcore.descend(X, y, shuffle_seed=11, **kwargs)
    other = gdcore.descend(X, y, shuffle_seed=12, **kwargs)
    np.testing.assert_array_equal(first.loss, again.loss)
    np.testing.assert_array_equal(first.weights, again.weights)
    assert not np.array_equal(first.weights, other.weights)


def test_each_epoch_is_reshuffled():
    """With one row per batch, epoch 2 visits the rows in a new order: different from epoch 1's."""
    X, y = well_conditioned(n=20)
    run = gdcore.descend(X, y, alpha=0.01, epochs=2, batch_size=1, shuffle_seed=0, record_steps=True)
    _, steps = literal_descend(X, y, "gd", alpha=0.01, epochs=2, batch_size=1, shuffle_seed=0)
    np.testing.assert_allclose(run.steps, steps, rtol=1e-12)
    rng = np.random.default_rng(0)
    assert not np.array_equal(rng.permutation(20), rng.permutation(20))


# --- convergence, divergence, tol ---------------------------------------------------------------------

FULL_BATCH_SETUPS = {  # alpha, epochs, relative loss gap reached
    "gd": (0.5, 200, 1e-12),
    "momentum": (0.1, 2000, 1e-12),
    "nesterov": (0.1, 2000, 1e-12),
    "adagrad": (1.0, 2000, 1e-12),
    "rmsprop": (1e-4, 50_000, 1e-7),  # a constant step keeps RMSProp circling within ~alpha of theta*
    "adam": (0.01, 3000, 1e-12),
}
MINIBATCH_SETUPS = {
    "gd": 0.01,
    "momentum": 0.001,
    "nesterov": 0.001,
    "adagrad": 0.1,
    "rmsprop": 0.001,
    "adam": 0.003,
}


@pytest.mark.parametrize("name", NAMES)
def test_full_batch_converges_to_least_squares(name):
    X, y = well_conditioned()
    w_star, b_star, mse_star = lstsq_optimum(X, y)
    alpha, epochs, gap = FULL_BATCH_SETUPS[name]
    run = gdcore.descend(X, y, optimizer=name, alpha=alpha, epochs=epochs, w0=0.0)
    assert run.loss[-1] <= mse_star * (1 + gap) + 1e-12
    np.testing.assert_allclose(run.weights[-1], w_star, atol=30 * np.sqrt(gap) + 1e-6)
    assert run.bias[-1] == pytest.approx(b_star, abs=30 * np.sqrt(gap) + 1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_minibatch_converges_near_least_squares(name):
    """A constant step leaves mini-batch noise: the loss settles within 1e-4 relative of the optimum."""
    X, y = well_conditioned()
    _, _, mse_star = lstsq_optimum(X, y)
    run = gdcore.descend(
        X, y, optimizer=name, alpha=MINIBATCH_SETUPS[name], epochs=500, batch_size=20, w0=0.0
    )
    assert mse_star <= run.loss[-1] <= mse_star * (1 + 1e-4)


@pytest.mark.parametrize("name", LINEAR)
@pytest.mark.parametrize("batch_size", [None, 20])
def test_a_huge_step_diverges_cleanly(name, batch_size):
    X, y = well_conditioned()
    run = gdcore.descend(X, y, optimizer=name, alpha=1e6, epochs=10_000, batch_size=batch_size)
    assert run.diverged and run.stop_reason == "diverged"
    assert run.epochs_run < 100
    assert np.isfinite(run.loss).all() and np.isfinite(run.weights).all() and np.isfinite(run.bias).all()


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam"])
@pytest.mark.parametrize("batch_size", [None, 20])
def test_adaptive_steps_stay_finite_and_follow_the_divergence_rule(name, batch_size):
    """Adaptive steps are bounded by about alpha, so a huge alpha never overflows and the loss cannot grow
    geometrically: such a run is not "diverged", even when it ends far above its start (Adam at 1e6 swings
    around a loss of 1e12), but "not converging" unless it settled."""
    X, y = well_conditioned()
    optimum = gdcore.least_squares(X, y).loss
    for epochs in (5, 50):
        run = gdcore.descend(X, y, optimizer=name, alpha=1e6, epochs=epochs, batch_size=batch_size)
        assert np.isfinite(run.loss).all() and run.epochs_run == epochs
        assert not literal_growing_at_end(run.loss) and not run.diverged
        assert run.stop_reason == "epochs"
        assert run.outcome(optimum) in ("converged", "not converging")
    swinging = gdcore.descend(X, y, optimizer="adam", alpha=1e6, epochs=50)
    assert swinging.loss[-1] > 1e6 * swinging.loss[0] and swinging.outcome(optimum) == "not converging"


@pytest.mark.parametrize(
    ("name", "limit"),
    [("momentum", lambda b: 2 * (1 + b)), ("nesterov", lambda b: 2 * (1 + b) / (1 + 2 * b))],
)
@pytest.mark.parametrize("beta", [0.5, 0.9])
def test_momentum_stability_edge(name, limit, beta):
    """Heavy ball is stable iff alpha lambda_max < 2(1 + beta); Nesterov iff < 2(1 + beta)/(1 + 2 beta)."""
    X, y = gdcore.make_data().X, gdcore.make_data().y
    edge = limit(beta) / gdcore.analyze(X, y).lambda_max
    below = gdcore.descend(X, y, optimizer=name, alpha=0.99 * edge, epochs=5000, beta=beta)
    above = gdcore.descend(X, y, optimizer=name, alpha=1.01 * edge, epochs=5000, beta=beta)
    assert not below.diverged and below.loss[-1] < below.loss[0]
    assert above.diverged


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch_size", [None, 50])
def test_tol_stops_when_the_loss_stabilizes(name, batch_size):
    X, y = well_conditioned()
    tol = 1e-4
    alpha = MINIBATCH_SETUPS[name] if batch_size else FULL_BATCH_SETUPS[name][0]
    run = gdcore.descend(
        X, y, optimizer=name, alpha=max(alpha, 1e-3), epochs=50_000, tol=tol, batch_size=batch_size
    )
    assert run.stop_reason == "converged" and run.epochs_run < 50_000
    change = np.abs(np.diff(run.loss)) / run.loss[:-1]
    assert change[-1] < tol and (change[:-1] >= tol).all()


# --- recorded steps -----------------------------------------------------------------------------------


def test_recorded_steps_are_bounded_and_end_at_the_final_state():
    X, y = well_conditioned(n=1000)
    run = gdcore.descend(X, y, optimizer="adam", alpha=0.01, epochs=50, batch_size=1, record_steps=True)
    assert run.steps.shape[1] == 3 and run.steps.shape[0] <= MAX_STEP_ROWS + 2
    np.testing.assert_array_equal(run.steps[0], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(run.steps[-1], np.append(run.weights[-1], run.bias[-1]))
    np.testing.assert_array_equal(gdcore.step_path(run), run.steps)


def test_recorded_steps_stop_with_a_diverging_run():
    X, y = well_conditioned()
    run = gdcore.descend(X, y, alpha=1e3, epochs=100, batch_size=10, record_steps=True)
    assert run.diverged and np.isfinite(run.steps).all()
    np.testing.assert_array_equal(run.steps[-1], np.append(run.weights[-1], run.bias[-1]))
    assert run.steps.shape[0] == run.epochs_run * 20 + 1


@pytest.mark.parametrize("name", NAMES)
def test_full_batch_steps_are_the_epochs(name):
    X, y = well_conditioned()
    run = gdcore.descend(X, y, optimizer=name, alpha=0.01, epochs=30, record_steps=True)
    assert run.steps is None
    np.testing.assert_array_equal(gdcore.step_path(run), np.column_stack([run.weights, run.bias]))


def test_no_runtime_warning_escapes_any_optimizer(recwarn):
    X, y = well_conditioned()
    for name in NAMES:
        for batch_size in (None, 1, 30):
            gdcore.descend(X, y, optimizer=name, alpha=1e9, epochs=200, batch_size=batch_size)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]

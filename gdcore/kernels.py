r"""Fused update loops, the speed path of mini-batch runs: the registry's arithmetic written out.

`gdcore.optimizers` defines each update once, as a pure function; `gdcore.stepping` can run any of them
one call per step. Those calls (and their NamedTuple states, and the new arrays each operation makes)
cost several times the arithmetic on the few parameters of a linear model, so for the registry's
optimizers the same arithmetic is also written out here, in the same order, giving the same numbers
(tested bit for bit against the registry path). An optimizer without a kernel here still runs, on the
generic path.

* `KERNELS_D1`, one feature (d = 1, parameters w and b) on Python floats: each kernel takes batches of
  (h00, h01, h11, q0, q1), the gradient being

      g_w = h00 w + h01 b - q0,    g_b = h01 w + h11 b - q1,

  and the carry ((w, b), (state_w, state_b)) with the registry's per-parameter states.
* `KERNELS_ARRAY`, any d, on numpy arrays updated in place (no array made per step):
  each kernel takes batches of augmented matrices [H, -q] (p, p + 1), the gradient being
  g = [H, -q] (theta, 1) = H theta - q in one call, and the carry (theta, state) with the registry's
  state of arrays.

Each returns the new carry and appends each step's parameters to `trace` unless that is None.
"""

from __future__ import annotations

import numpy as np

from gdcore.optimizers import AdaGradState, AdamState, MomentumState, NesterovState, RMSPropState


def gd_d1(batches, carry, alpha, hyper, trace):
    r"""\theta_{t+1} = \theta_t - \alpha g_t."""
    (w, b), states = carry
    for h00, h01, h11, q0, q1 in batches:
        grad_w = h00 * w + h01 * b - q0
        grad_b = h01 * w + h11 * b - q1
        w = w - alpha * grad_w
        b = b - alpha * grad_b
        if trace is not None:
            trace.append((w, b))
    return (w, b), states


def momentum_d1(batches, carry, alpha, hyper, trace):
    r"""v_{t+1} = \beta v_t + g_t,  \theta_{t+1} = \theta_t - \alpha v_{t+1}."""
    (beta,) = hyper
    (w, b), (state_w, state_b) = carry
    v_w, v_b = state_w.velocity, state_b.velocity
    for h00, h01, h11, q0, q1 in batches:
        grad_w = h00 * w + h01 * b - q0
        grad_b = h01 * w + h11 * b - q1
        v_w = beta * v_w + grad_w
        v_b = beta * v_b + grad_b
        w = w - alpha * v_w
        b = b - alpha * v_b
        if trace is not None:
            trace.append((w, b))
    return (w, b), (MomentumState(v_w), MomentumState(v_b))


def nesterov_d1(batches, carry, alpha, hyper, trace):
    r"""v_{t+1} = \beta v_t + g_t,  \theta_{t+1} = \theta_t - \alpha (g_t + \beta v_{t+1})."""
    (beta,) = hyper
    (w, b), (state_w, state_b) = carry
    v_w, v_b = state_w.velocity, state_b.velocity
    for h00, h01, h11, q0, q1 in batches:
        grad_w = h00 * w + h01 * b - q0
        grad_b = h01 * w + h11 * b - q1
        v_w = beta * v_w + grad_w
        v_b = beta * v_b + grad_b
        w = w - alpha * (grad_w + beta * v_w)
        b = b - alpha * (grad_b + beta * v_b)
        if trace is not None:
            trace.append((w, b))
    return (w, b), (NesterovState(v_w), NesterovState(v_b))


def adagrad_d1(batches, carry, alpha, hyper, trace):
    r"""G_{t+1} = G_t + g_t^2,  \theta_{t+1} = \theta_t - \alpha g_t / (\sqrt{G_{t+1}} + \epsilon)."""
    (eps,) = hyper
    (w, b), (state_w, state_b) = carry
    s_w, s_b = state_w.sum_of_squares, state_b.sum_of_squares
    for h00, h01, h11, q0, q1 in batches:
        grad_w = h00 * w + h01 * b - q0
        grad_b = h01 * w + h11 * b - q1
        s_w = s_w + grad_w * grad_w
        s_b = s_b + grad_b * grad_b
        w = w - alpha * grad_w / (s_w**0.5 + eps)
        b = b - alpha * grad_b / (s_b**0.5 + eps)
        if trace is not None:
            trace.append((w, b))
    return (w, b), (AdaGradState(s_w), AdaGradState(s_b))


def rmsprop_d1(batches, carry, alpha, hyper, trace):
    r"""s_{t+1} = \rho s_t + (1 - \rho) g_t^2,
    \theta_{t+1} = \theta_t - \alpha g_t / (\sqrt{s_{t+1}} + \epsilon)."""
    rho, eps = hyper
    (w, b), (state_w, state_b) = carry
    s_w, s_b = state_w.mean_square, state_b.mean_square
    for h00, h01, h11, q0, q1 in batches:
        grad_w = h00 * w + h01 * b - q0
        grad_b = h01 * w + h11 * b - q1
        s_w = rho * s_w + (1.0 - rho) * (grad_w * grad_w)
        s_b = rho * s_b + (1.0 - rho) * (grad_b * grad_b)
        w = w - alpha * grad_w / (s_w**0.5 + eps)
        b = b - alpha * grad_b / (s_b**0.5 + eps)
        if trace is not None:
            trace.append((w, b))
    return (w, b), (RMSPropState(s_w), RMSPropState(s_b))


def adam_d1(batches, carry, alpha, hyper, trace):
    r"""m_{t+1} = \beta_1 m_t + (1 - \beta_1) g_t,  v_{t+1} = \beta_2 v_t + (1 - \beta_2) g_t^2,
    \theta_{t+1} = \theta_t - \alpha \hat m / (\sqrt{\hat v} + \epsilon) with the bias-corrected
    \hat m = m_{t+1} / (1 - \beta_1^{t+1}),  \hat v = v_{t+1} / (1 - \beta_2^{t+1})."""
    beta1, beta2, eps = hyper
    (w, b), (state_w, state_b) = carry
    count, m_w, v_w = state_w
    _, m_b, v_b = state_b
    for h00, h01, h11, q0, q1 in batches:
        grad_w = h00 * w + h01 * b - q0
        grad_b = h01 * w + h11 * b - q1
        count += 1
        m_w = beta1 * m_w + (1.0 - beta1) * grad_w
        m_b = beta1 * m_b + (1.0 - beta1) * grad_b
        v_w = beta2 * v_w + (1.0 - beta2) * (grad_w * grad_w)
        v_b = beta2 * v_b + (1.0 - beta2) * (grad_b * grad_b)
        correction1, correction2 = 1.0 - beta1**count, 1.0 - beta2**count
        w = w - alpha * (m_w / correction1) / ((v_w / correction2) ** 0.5 + eps)
        b = b - alpha * (m_b / correction1) / ((v_b / correction2) ** 0.5 + eps)
        if trace is not None:
            trace.append((w, b))
    return (w, b), (AdamState(count, m_w, v_w), AdamState(count, m_b, v_b))


KERNELS_D1 = {
    "gd": gd_d1,
    "momentum": momentum_d1,
    "nesterov": nesterov_d1,
    "adagrad": adagrad_d1,
    "rmsprop": rmsprop_d1,
    "adam": adam_d1,
}


# --- any d, numpy arrays updated in place -------------------------------------------------------------


def _augmented(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(theta_1, theta): a copy of theta with a 1 appended, and theta as a view of its first p entries,
    so that updating theta in place keeps [H, -q] theta_1 the gradient."""
    extended = np.append(theta, 1.0)
    return extended, extended[:-1]


def _scalar(value: float) -> np.ndarray:
    """value as a 0-d float64 array: a numpy call with it as an operand skips the scalar conversion a
    Python float costs on every call, and computes the same product."""
    return np.array(value, dtype=np.float64)


# These loops are all numpy calls on 5-20 numbers, so each call's own overhead is the cost: ufuncs and
# array methods bound once and given out= positionally, and scalars as 0-d arrays (`_scalar`). The
# arithmetic is the registry's, in its order.


def gd_array(batches, carry, alpha, hyper, trace):
    r"""\theta_{t+1} = \theta_t - \alpha g_t."""
    theta, state = carry
    extended, theta = _augmented(theta)
    g, alpha = np.empty_like(theta), _scalar(alpha)
    multiply, subtract = np.multiply, np.subtract
    for augmented in batches:
        augmented.dot(extended, g)
        multiply(g, alpha, g)
        subtract(theta, g, theta)
        if trace is not None:
            trace.append(theta.copy())
    return theta, state


def momentum_array(batches, carry, alpha, hyper, trace):
    r"""v_{t+1} = \beta v_t + g_t,  \theta_{t+1} = \theta_t - \alpha v_{t+1}."""
    (beta,) = hyper
    theta, state = carry
    (extended, theta), velocity = _augmented(theta), np.array(state.velocity, dtype=np.float64)
    g, step, alpha, beta = np.empty_like(theta), np.empty_like(theta), _scalar(alpha), _scalar(beta)
    multiply, add, subtract = np.multiply, np.add, np.subtract
    for augmented in batches:
        augmented.dot(extended, g)
        multiply(velocity, beta, velocity)
        add(velocity, g, velocity)
        multiply(velocity, alpha, step)
        subtract(theta, step, theta)
        if trace is not None:
            trace.append(theta.copy())
    return theta, MomentumState(velocity)


def nesterov_array(batches, carry, alpha, hyper, trace):
    r"""v_{t+1} = \beta v_t + g_t,  \theta_{t+1} = \theta_t - \alpha (g_t + \beta v_{t+1})."""
    (beta,) = hyper
    theta, state = carry
    (extended, theta), velocity = _augmented(theta), np.array(state.velocity, dtype=np.float64)
    g, step, alpha, beta = np.empty_like(theta), np.empty_like(theta), _scalar(alpha), _scalar(beta)
    multiply, add, subtract = np.multiply, np.add, np.subtract
    for augmented in batches:
        augmented.dot(extended, g)
        multiply(velocity, beta, velocity)
        add(velocity, g, velocity)
        multiply(velocity, beta, step)
        add(step, g, step)
        multiply(step, alpha, step)
        subtract(theta, step, theta)
        if trace is not None:
            trace.append(theta.copy())
    return theta, NesterovState(velocity)


def adagrad_array(batches, carry, alpha, hyper, trace):
    r"""G_{t+1} = G_t + g_t^2,  \theta_{t+1} = \theta_t - \alpha g_t / (\sqrt{G_{t+1}} + \epsilon)."""
    (eps,) = hyper
    theta, state = carry
    theta, total = _root_scaled(batches, theta, state.sum_of_squares, None, alpha, eps, trace)
    return theta, AdaGradState(total)


def rmsprop_array(batches, carry, alpha, hyper, trace):
    r"""s_{t+1} = \rho s_t + (1 - \rho) g_t^2,
    \theta_{t+1} = \theta_t - \alpha g_t / (\sqrt{s_{t+1}} + \epsilon)."""
    rho, eps = hyper
    theta, state = carry
    theta, mean_square = _root_scaled(batches, theta, state.mean_square, rho, alpha, eps, trace)
    return theta, RMSPropState(mean_square)


def _root_scaled(batches, theta, accumulator, rho, alpha, eps, trace):
    r"""AdaGrad's and RMSProp's shared loop: s_{t+1} = s_t + g_t^2 (rho None) or
    \rho s_t + (1 - \rho) g_t^2, then \theta_{t+1} = \theta_t - \alpha g_t / (\sqrt{s_{t+1}} + \epsilon).
    Returns (theta, s), new arrays."""
    extended, theta = _augmented(theta)
    accumulator = np.array(accumulator, dtype=np.float64)
    g, step, root = np.empty_like(theta), np.empty_like(theta), np.empty_like(theta)
    floor, alpha = _scalar(eps), _scalar(alpha)
    keep = None if rho is None else _scalar(1.0 - rho)
    rho = None if rho is None else _scalar(rho)
    multiply, add, sqrt, divide, subtract = np.multiply, np.add, np.sqrt, np.divide, np.subtract
    for augmented in batches:
        augmented.dot(extended, g)
        multiply(g, g, step)
        if keep is not None:
            multiply(step, keep, step)
            multiply(accumulator, rho, accumulator)
        add(accumulator, step, accumulator)
        sqrt(accumulator, root)
        add(root, floor, root)
        multiply(g, alpha, step)
        divide(step, root, step)
        subtract(theta, step, theta)
        if trace is not None:
            trace.append(theta.copy())
    return theta, accumulator


def adam_array(batches, carry, alpha, hyper, trace):
    r"""m_{t+1} = \beta_1 m_t + (1 - \beta_1) g_t,  v_{t+1} = \beta_2 v_t + (1 - \beta_2) g_t^2,
    \theta_{t+1} = \theta_t - \alpha \hat m / (\sqrt{\hat v} + \epsilon) with the bias-corrected
    \hat m = m_{t+1} / (1 - \beta_1^{t+1}),  \hat v = v_{t+1} / (1 - \beta_2^{t+1}).

    Rearranged to take 7 numpy calls a step (Adam's speed path at d > 1): the corrections move into the
    step size, \theta_{t+1} = \theta_t - \alpha_t m_{t+1} / (\sqrt{v_{t+1}} + \hat\epsilon_t) with
    \alpha_t = \alpha \sqrt{c_2} / c_1 and \hat\epsilon_t = \epsilon \sqrt{c_2} (Kingma & Ba, section 2),
    and m_{t+1}, v_{t+1} and \alpha_t m_{t+1} come from one product W (m, v, alpha_t m, g, g^2) with
    W = [[b1, 0, 0, 1-b1, 0], [0, b2, 0, 0, 1-b2], alpha_t [b1, 0, 0, 1-b1, 0]]. The same update as the
    registry's to rounding (not bit for bit, unlike the other kernels)."""
    beta1, beta2, _ = hyper
    theta, (count, mu, nu) = carry
    extended, theta = _augmented(theta)
    p = theta.shape[0]
    stacks = [np.zeros((5, p)), np.zeros((5, p))]  # (m, v, alpha_t m, g, g^2): this step's, the next's
    stacks[0][0], stacks[0][1] = mu, nu
    weights = np.zeros((3, 5))
    weights[0, 0], weights[0, 3] = beta1, 1.0 - beta1
    weights[1, 1], weights[1, 4] = beta2, 1.0 - beta2
    root, step, floor = np.empty(p), np.empty(p), _scalar(0.0)  # floor: this step's epsilon_t
    # the rows each step uses, as views made once: (whole, g, g^2) of this step's stack and
    # (m v alpha_t-m, v, alpha_t m) of the next one's, for both ways round
    views = [
        (stacks[i], stacks[i][3], stacks[i][4], stacks[1 - i][:3], stacks[1 - i][1], stacks[1 - i][2])
        for i in (0, 1)
    ]
    current = 0
    schedule = _adam_schedule(count, alpha, beta1, beta2, hyper[2])
    multiply, sqrt, add, divide, subtract = np.multiply, np.sqrt, np.add, np.divide, np.subtract
    for augmented, (w_m, w_g, eps_t) in zip(batches, schedule, strict=False):  # the schedule never ends
        now, g, g_squared, moments_after, v_after, step_after = views[current]
        augmented.dot(extended, g)
        multiply(g, g, g_squared)
        weights[2, 0] = w_m
        weights[2, 3] = w_g
        weights.dot(now, moments_after)
        sqrt(v_after, root)
        floor[()] = eps_t
        add(root, floor, root)
        divide(step_after, root, step)
        subtract(theta, step, theta)
        current = 1 - current
        count += 1
        if trace is not None:
            trace.append(theta.copy())
    moments = stacks[current]
    return theta, AdamState(count, moments[0].copy(), moments[1].copy())


def _adam_schedule(count: int, alpha: float, beta1: float, beta2: float, eps: float):
    """(alpha_t beta1, alpha_t (1 - beta1), epsilon_t) for updates count+1, count+2, ...: with
    alpha_t = alpha sqrt(c2) / c1 and epsilon_t = epsilon sqrt(c2), c_i = 1 - beta_i^t, computed a block
    of steps at a time (64 first, then 512: a call of a few steps computes few)."""
    block = 64
    while True:
        t = np.arange(count + 1, count + 1 + block, dtype=np.float64)
        root = np.sqrt(1.0 - beta2**t)
        step_size = alpha * root / (1.0 - beta1**t)
        columns = (step_size * beta1).tolist(), (step_size * (1.0 - beta1)).tolist(), (eps * root).tolist()
        yield from zip(*columns, strict=True)
        count += block
        block = 512


KERNELS_ARRAY = {
    "gd": gd_array,
    "momentum": momentum_array,
    "nesterov": nesterov_array,
    "adagrad": adagrad_array,
    "rmsprop": rmsprop_array,
    "adam": adam_array,
}

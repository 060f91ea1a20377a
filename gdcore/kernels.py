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
* `KERNELS_ARRAY`, any d, on numpy arrays updated in place (no array made per step): each kernel takes
  batches of (H, q), the gradient being g = H theta - q, and the carry (theta, state) with the registry's
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


def _gradient(H: np.ndarray, q: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """g = H theta - q (ndarray.dot: the cheapest call for a small matrix times a vector)."""
    g = H.dot(theta)
    g -= q
    return g


def gd_array(batches, carry, alpha, hyper, trace):
    r"""\theta_{t+1} = \theta_t - \alpha g_t."""
    theta, state = carry
    theta = theta.copy()
    for H, q in batches:
        g = _gradient(H, q, theta)
        g *= alpha
        theta -= g
        if trace is not None:
            trace.append(theta.copy())
    return theta, state


def momentum_array(batches, carry, alpha, hyper, trace):
    r"""v_{t+1} = \beta v_t + g_t,  \theta_{t+1} = \theta_t - \alpha v_{t+1}."""
    (beta,) = hyper
    theta, state = carry
    theta, velocity = theta.copy(), np.array(state.velocity, dtype=np.float64)
    step = np.empty_like(theta)
    for H, q in batches:
        g = _gradient(H, q, theta)
        velocity *= beta
        velocity += g
        np.multiply(velocity, alpha, out=step)
        theta -= step
        if trace is not None:
            trace.append(theta.copy())
    return theta, MomentumState(velocity)


def nesterov_array(batches, carry, alpha, hyper, trace):
    r"""v_{t+1} = \beta v_t + g_t,  \theta_{t+1} = \theta_t - \alpha (g_t + \beta v_{t+1})."""
    (beta,) = hyper
    theta, state = carry
    theta, velocity = theta.copy(), np.array(state.velocity, dtype=np.float64)
    step = np.empty_like(theta)
    for H, q in batches:
        g = _gradient(H, q, theta)
        velocity *= beta
        velocity += g
        np.multiply(velocity, beta, out=step)
        step += g
        step *= alpha
        theta -= step
        if trace is not None:
            trace.append(theta.copy())
    return theta, NesterovState(velocity)


def adagrad_array(batches, carry, alpha, hyper, trace):
    r"""G_{t+1} = G_t + g_t^2,  \theta_{t+1} = \theta_t - \alpha g_t / (\sqrt{G_{t+1}} + \epsilon)."""
    (eps,) = hyper
    theta, state = carry
    theta, total = theta.copy(), np.array(state.sum_of_squares, dtype=np.float64)
    step, root = np.empty_like(theta), np.empty_like(theta)
    for H, q in batches:
        g = _gradient(H, q, theta)
        np.multiply(g, g, out=step)
        total += step
        np.sqrt(total, out=root)
        root += eps
        np.multiply(g, alpha, out=step)
        step /= root
        theta -= step
        if trace is not None:
            trace.append(theta.copy())
    return theta, AdaGradState(total)


def rmsprop_array(batches, carry, alpha, hyper, trace):
    r"""s_{t+1} = \rho s_t + (1 - \rho) g_t^2,
    \theta_{t+1} = \theta_t - \alpha g_t / (\sqrt{s_{t+1}} + \epsilon)."""
    rho, eps = hyper
    theta, state = carry
    theta, mean_square = theta.copy(), np.array(state.mean_square, dtype=np.float64)
    step, root = np.empty_like(theta), np.empty_like(theta)
    keep = 1.0 - rho
    for H, q in batches:
        g = _gradient(H, q, theta)
        np.multiply(g, g, out=step)
        step *= keep
        mean_square *= rho
        mean_square += step
        np.sqrt(mean_square, out=root)
        root += eps
        np.multiply(g, alpha, out=step)
        step /= root
        theta -= step
        if trace is not None:
            trace.append(theta.copy())
    return theta, RMSPropState(mean_square)


def adam_array(batches, carry, alpha, hyper, trace):
    r"""m_{t+1} = \beta_1 m_t + (1 - \beta_1) g_t,  v_{t+1} = \beta_2 v_t + (1 - \beta_2) g_t^2,
    \theta_{t+1} = \theta_t - \alpha \hat m / (\sqrt{\hat v} + \epsilon) with the bias-corrected
    \hat m = m_{t+1} / (1 - \beta_1^{t+1}),  \hat v = v_{t+1} / (1 - \beta_2^{t+1}).

    The two moments are the rows of one (2, p) array, updated together: (beta_1, beta_2) times the
    moments plus (1 - beta_1, 1 - beta_2) times (g, g^2), then divided by the two corrections."""
    beta1, beta2, eps = hyper
    theta, (count, mu, nu) = carry
    theta = theta.copy()
    moments = np.array([mu, nu], dtype=np.float64).reshape(2, -1)
    grads, corrected = np.empty_like(moments), np.empty_like(moments)
    g, g_squared = grads
    m_hat, v_hat = corrected
    decay = np.array([[beta1], [beta2]])
    keep = np.array([[1.0 - beta1], [1.0 - beta2]])
    corrections = np.empty((2, 1))
    for H, q in batches:
        np.dot(H, theta, out=g)
        g -= q
        np.multiply(g, g, out=g_squared)
        grads *= keep
        moments *= decay
        moments += grads
        count += 1
        corrections[0, 0] = 1.0 - beta1**count
        corrections[1, 0] = 1.0 - beta2**count
        np.divide(moments, corrections, out=corrected)
        np.sqrt(v_hat, out=v_hat)
        v_hat += eps
        m_hat *= alpha
        m_hat /= v_hat
        theta -= m_hat
        if trace is not None:
            trace.append(theta.copy())
    return theta, AdamState(count, moments[0].copy(), moments[1].copy())


KERNELS_ARRAY = {
    "gd": gd_array,
    "momentum": momentum_array,
    "nesterov": nesterov_array,
    "adagrad": adagrad_array,
    "rmsprop": rmsprop_array,
    "adam": adam_array,
}

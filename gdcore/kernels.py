r"""Fused update loops for one feature (d = 1, parameters w and b) on Python floats: the speed path.

`gdcore.optimizers` defines each update once, as a pure function; `gdcore.stepping` can run any of them
on floats, one call per parameter per step. Those calls (and their NamedTuple states) cost about
0.3 us each, several times the arithmetic, so for the registry's optimizers the same arithmetic is also
written out here for both parameters in one loop body, in the same order, giving the same numbers
(tested bit for bit against the registry path). An optimizer without a kernel here still runs, on the
generic path. Each kernel takes batches of (h00, h01, h11, q0, q1), the gradient being

    g_w = h00 w + h01 b - q0,    g_b = h01 w + h11 b - q1,

and the carry ((w, b), (state_w, state_b)) with the registry's per-parameter states; it returns the new
carry and appends each step's (w, b) to `trace` unless that is None.
"""

from __future__ import annotations

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

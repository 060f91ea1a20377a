r"""The optimizer registry: one entry per update rule, each a pair of pure functions (optax style).

    init(params) -> state
    update(grads, state, params, alpha, **hyperparameters) -> (params, state)

`grads` is the gradient g_t of the (batch) loss at `params`; the update returns the new parameters and
state and changes nothing in place. States are small NamedTuples. Every function uses arithmetic
operators only, so it works the same on numpy arrays (one call for all parameters) and on Python floats
(one call per parameter, which is what `gdcore.stepping` does for d = 1, where numpy's per-call overhead
would dominate). Definitions follow `torch.optim` (momentum without dampening, Nesterov as in
`SGD(nesterov=True)`, eps added outside the square root).

`OPTIMIZERS` maps a name to an `Optimizer` entry (display name, LaTeX equation, hyperparameters with
defaults and valid ranges); it drives both the dashboard's list and the parameterised tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from gdcore.validation import RealRange, plain_scalar, refuse_unknown

UNIT_INTERVAL = RealRange(low=0.0, high=1.0, high_open=True)  # [0, 1): a decay factor
EPS_RANGE = RealRange(low=0.0, low_open=True, high=1.0)  # (0, 1]: a denominator guard


def _zeros_like(params):
    """0.0 for a float, an array of zeros for an array."""
    return np.zeros_like(params) if isinstance(params, np.ndarray) else 0.0


# --- plain gradient descent -------------------------------------------------------------------------


class GDState(NamedTuple):
    """Plain gradient descent keeps no state."""


def gd_init(params) -> GDState:
    return GDState()


def gd_update(grads, state: GDState, params, alpha):
    r"""\theta_{t+1} = \theta_t - \alpha g_t."""
    return params - alpha * grads, state


# --- heavy-ball momentum ----------------------------------------------------------------------------


class MomentumState(NamedTuple):
    velocity: object  # v_t, like params


def momentum_init(params) -> MomentumState:
    return MomentumState(_zeros_like(params))


def momentum_update(grads, state: MomentumState, params, alpha, beta=0.9):
    r"""v_{t+1} = \beta v_t + g_t,  \theta_{t+1} = \theta_t - \alpha v_{t+1}  (v_0 = 0; beta = 0 is GD)."""
    velocity = beta * state.velocity + grads
    return params - alpha * velocity, MomentumState(velocity)


# --- Nesterov momentum ------------------------------------------------------------------------------


class NesterovState(NamedTuple):
    velocity: object  # v_t, like params


def nesterov_init(params) -> NesterovState:
    return NesterovState(_zeros_like(params))


def nesterov_update(grads, state: NesterovState, params, alpha, beta=0.9):
    r"""v_{t+1} = \beta v_t + g_t,  \theta_{t+1} = \theta_t - \alpha (g_t + \beta v_{t+1})  (v_0 = 0)."""
    velocity = beta * state.velocity + grads
    return params - alpha * (grads + beta * velocity), NesterovState(velocity)


# --- AdaGrad ----------------------------------------------------------------------------------------


class AdaGradState(NamedTuple):
    sum_of_squares: object  # G_t, like params


def adagrad_init(params) -> AdaGradState:
    return AdaGradState(_zeros_like(params))


def adagrad_update(grads, state: AdaGradState, params, alpha, eps=1e-10):
    r"""G_{t+1} = G_t + g_t^2,  \theta_{t+1} = \theta_t - \alpha g_t / (\sqrt{G_{t+1}} + \epsilon)
    (G_0 = 0)."""
    sum_of_squares = state.sum_of_squares + grads * grads
    return params - alpha * grads / (sum_of_squares**0.5 + eps), AdaGradState(sum_of_squares)


# --- RMSProp ----------------------------------------------------------------------------------------


class RMSPropState(NamedTuple):
    mean_square: object  # s_t, like params


def rmsprop_init(params) -> RMSPropState:
    return RMSPropState(_zeros_like(params))


def rmsprop_update(grads, state: RMSPropState, params, alpha, rho=0.99, eps=1e-8):
    r"""s_{t+1} = \rho s_t + (1 - \rho) g_t^2,
    \theta_{t+1} = \theta_t - \alpha g_t / (\sqrt{s_{t+1}} + \epsilon)  (s_0 = 0)."""
    mean_square = rho * state.mean_square + (1.0 - rho) * (grads * grads)
    return params - alpha * grads / (mean_square**0.5 + eps), RMSPropState(mean_square)


# --- Adam -------------------------------------------------------------------------------------------


class AdamState(NamedTuple):
    count: int  # t, the number of updates so far
    mu: object  # m_t, first-moment estimate, like params
    nu: object  # v_t, second-moment estimate, like params


def adam_init(params) -> AdamState:
    return AdamState(0, _zeros_like(params), _zeros_like(params))


def adam_update(grads, state: AdamState, params, alpha, beta1=0.9, beta2=0.999, eps=1e-8):
    r"""m_{t+1} = \beta_1 m_t + (1 - \beta_1) g_t,  v_{t+1} = \beta_2 v_t + (1 - \beta_2) g_t^2,
    \hat m = m_{t+1} / (1 - \beta_1^{t+1}),  \hat v = v_{t+1} / (1 - \beta_2^{t+1}),
    \theta_{t+1} = \theta_t - \alpha \hat m / (\sqrt{\hat v} + \epsilon).
    """
    count = state.count + 1
    mu = beta1 * state.mu + (1.0 - beta1) * grads
    nu = beta2 * state.nu + (1.0 - beta2) * (grads * grads)
    mu_hat = mu / (1.0 - beta1**count)
    nu_hat = nu / (1.0 - beta2**count)
    return params - alpha * mu_hat / (nu_hat**0.5 + eps), AdamState(count, mu, nu)


# --- the registry -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter of an optimizer: its keyword, default, valid range, LaTeX symbol and meaning."""

    name: str
    default: float
    limits: RealRange
    symbol: str
    help: str

    def describe(self) -> str:
        """E.g. 'beta: a finite number >= 0 and < 1 (default 0.9)'."""
        return f"{self.name}: {self.limits.describe()} (default {self.default:g})"


@dataclass(frozen=True)
class Optimizer:
    """A registry entry: `update(grads, state, params, alpha, **hyperparameters) -> (params, state)`.

    `linear` says the update is linear in (params, state, grads) with constant coefficients, so on a
    quadratic loss with the full batch the whole run has a closed form (see `gdcore.stepping`).
    """

    name: str
    display_name: str
    equation: str  # LaTeX
    hyperparameters: tuple[Hyperparameter, ...]
    init: Callable
    update: Callable
    linear: bool = False

    def defaults(self) -> dict[str, float]:
        """{name: default} for every hyperparameter."""
        return {h.name: h.default for h in self.hyperparameters}

    def validate(self, hyperparameters: Mapping[str, object]) -> dict[str, float]:
        """Defaults overridden by `hyperparameters`, each checked against its range; ValueError otherwise.

        Unknown names are errors too (a typo must not silently run with the default).
        """
        known = {h.name: h for h in self.hyperparameters}
        refuse_unknown(hyperparameters, known, "hyperparameter", f"optimizer {self.name!r}")
        values = self.defaults()
        for name, value in hyperparameters.items():
            values[name] = known[name].limits.check(f"{name} ({self.name})", plain_scalar(value))
        return values


def _decay(name: str, default: float, symbol: str, help_text: str) -> Hyperparameter:
    return Hyperparameter(name, default, UNIT_INTERVAL, symbol, help_text)


def _eps(default: float) -> Hyperparameter:
    return Hyperparameter("eps", default, EPS_RANGE, r"\epsilon", "added to the denominator for stability")


_ENTRIES = (
    Optimizer(
        name="gd",
        display_name="Gradient descent",
        equation=r"\theta_{t+1} = \theta_t - \alpha\, g_t",
        hyperparameters=(),
        init=gd_init,
        update=gd_update,
        linear=True,
    ),
    Optimizer(
        name="momentum",
        display_name="Momentum",
        equation=r"v_{t+1} = \beta v_t + g_t, \quad \theta_{t+1} = \theta_t - \alpha\, v_{t+1}",
        hyperparameters=(_decay("beta", 0.9, r"\beta", "momentum: the fraction of the velocity kept"),),
        init=momentum_init,
        update=momentum_update,
        linear=True,
    ),
    Optimizer(
        name="nesterov",
        display_name="Nesterov momentum",
        equation=(
            r"v_{t+1} = \beta v_t + g_t, \quad "
            r"\theta_{t+1} = \theta_t - \alpha\,(g_t + \beta v_{t+1})"
        ),
        hyperparameters=(_decay("beta", 0.9, r"\beta", "momentum: the fraction of the velocity kept"),),
        init=nesterov_init,
        update=nesterov_update,
        linear=True,
    ),
    Optimizer(
        name="adagrad",
        display_name="AdaGrad",
        equation=(
            r"G_{t+1} = G_t + g_t^2, \quad "
            r"\theta_{t+1} = \theta_t - \frac{\alpha\, g_t}{\sqrt{G_{t+1}} + \epsilon}"
        ),
        hyperparameters=(_eps(1e-10),),
        init=adagrad_init,
        update=adagrad_update,
    ),
    Optimizer(
        name="rmsprop",
        display_name="RMSProp",
        equation=(
            r"s_{t+1} = \rho s_t + (1 - \rho)\, g_t^2, \quad "
            r"\theta_{t+1} = \theta_t - \frac{\alpha\, g_t}{\sqrt{s_{t+1}} + \epsilon}"
        ),
        hyperparameters=(
            _decay("rho", 0.99, r"\rho", "decay of the running mean of squared gradients"),
            _eps(1e-8),
        ),
        init=rmsprop_init,
        update=rmsprop_update,
    ),
    Optimizer(
        name="adam",
        display_name="Adam",
        equation=(
            r"m_{t+1} = \beta_1 m_t + (1 - \beta_1)\, g_t, \quad "
            r"v_{t+1} = \beta_2 v_t + (1 - \beta_2)\, g_t^2, \quad "
            r"\hat m = \frac{m_{t+1}}{1 - \beta_1^{t+1}}, \quad "
            r"\hat v = \frac{v_{t+1}}{1 - \beta_2^{t+1}}, \quad "
            r"\theta_{t+1} = \theta_t - \frac{\alpha\, \hat m}{\sqrt{\hat v} + \epsilon}"
        ),
        hyperparameters=(
            _decay("beta1", 0.9, r"\beta_1", "decay of the running mean of gradients"),
            _decay("beta2", 0.999, r"\beta_2", "decay of the running mean of squared gradients"),
            _eps(1e-8),
        ),
        init=adam_init,
        update=adam_update,
    ),
)

OPTIMIZERS: Mapping[str, Optimizer] = MappingProxyType({entry.name: entry for entry in _ENTRIES})


def get_optimizer(name: object) -> Optimizer:
    """The registry entry called `name`, or a ValueError listing the valid names."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
    return OPTIMIZERS[name]

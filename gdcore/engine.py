"""`run` and `descend`: the public entry points of a gradient-descent run. Validate once, hand over.

Both check the data once (`as_regression_arrays`) and the settings once (`RunSpec`), then hand the
validated pieces to `gdcore.stepping.execute`, which picks the run path (closed form, stepped loop or
mini-batches). Nothing here computes; internal callers that already hold checked data skip this layer.
"""

from __future__ import annotations

import numpy as np

from gdcore.features import polynomial_features
from gdcore.model import Quadratic
from gdcore.schedules import Schedule
from gdcore.spec import RunSpec
from gdcore.stepping import Progress, execute
from gdcore.trajectory import Trajectory
from gdcore.validation import as_regression_arrays, check


def run(
    X,
    y,
    spec: RunSpec,
    *,
    record_steps: bool = False,
    quadratic: Quadratic | None = None,
    on_progress: Progress | None = None,
    l2: float | None = None,
) -> Trajectory:
    """Run `spec` on X (N,), (N, 1) or (N, d) and y (N,) or (N, 1); see `descend` for the loss and rule.

    `quadratic` may pass the data's precomputed sufficient statistics (`Quadratic.from_data(X, y)`); it
    is checked against X and y (shape, and the means it holds) and a ValueError says when it does not
    belong to them. With `record_steps`, a mini-batch run keeps its steps (`Trajectory.steps`).
    `on_progress(epochs_done, epochs_total)` is called after each chunk of epochs, and within a long
    mini-batch epoch about every `gdcore.stepping.PROGRESS_EVERY_S` seconds (a fractional epochs_done);
    an exception it raises propagates and abandons the run (a caller that no longer wants it cancels it
    that way).
    `l2` = lambda >= 0 minimises J + lambda ||w||^2 instead (see `descend`); None takes the penalty of
    `quadratic` when one is passed, else 0.
    """
    X, y = as_regression_arrays(X, y)
    if not isinstance(spec, RunSpec):
        raise ValueError(f"spec must be a gdcore.RunSpec; got {type(spec).__name__}")
    l2 = None if l2 is None else check("l2", l2)
    if quadratic is None:
        quadratic = Quadratic.from_checked(X, y, l2 or 0.0)
    else:
        _check_belongs(quadratic, X, y)
        if l2 is not None and l2 != quadratic.l2:
            raise ValueError(
                f"l2={l2:g} but the quadratic passed was made with l2={quadratic.l2:g}: pass "
                "Quadratic.from_data(X, y, l2) with the same penalty"
            )
    return execute(X, y, spec, quadratic, record_steps, on_progress=on_progress)


def descend(
    X,
    y,
    *,
    alpha: float = 0.01,
    epochs: int = 100,
    w0=1.0,
    b0: float = 0.0,
    tol: float | None = None,
    optimizer: str = "gd",
    batch_size: int | None = None,
    shuffle_seed: int = 0,
    record_steps: bool = False,
    quadratic: Quadratic | None = None,
    degree: int = 1,
    l2: float | None = None,
    schedule: str | Schedule = "constant",
    **hyperparameters,
) -> Trajectory:
    """Minimise J(w, b) = mean((y - X w - b)^2) + l2 ||w||^2 by gradient descent from (w0, b0).

    Update (plain GD, `optimizer="gd"`):  w := w - alpha dJ/dw,  b := b - alpha dJ/db.
    `X` may be (N,), (N, 1) or (N, d); `y` (N,) or (N, 1); `w0` a scalar or d values. `tol` stops once
    the relative loss change of an epoch falls below it. `optimizer`, `batch_size` (None = full batch),
    `shuffle_seed` and `**hyperparameters` choose another optimizer from `gdcore.OPTIMIZERS`.
    The keyword arguments are the fields of `gdcore.RunSpec`; `run(X, y, spec)` takes one whole.

    Conventions (README, "Optimizer conventions"): momentum is v = beta v + g, theta -= alpha v (as
    PyTorch's and optax's SGD; steady steps alpha / (1 - beta) g), Nesterov theta -= alpha (g + beta v);
    AdaGrad starts its sum at 0 with eps = 1e-10 outside the root (as PyTorch; optax and Keras start at 0.1
    with eps inside); RMSProp's rho = 0.99 is PyTorch's alpha, eps outside the root (optax and Keras: 0.9,
    eps inside); Adam corrects both moments at every step, eps added to sqrt(v_hat) (as PyTorch and optax;
    Keras adds it before the correction). Mini-batches reshuffle every epoch and keep a smaller last batch.
    `loss[t]` is the full-data loss at the end of epoch t, not the mean of the epoch's batch losses that
    PyTorch and Keras training loops usually log.

    `degree` d (1..12) fits a polynomial of one input x: X becomes [x, x^2, ..., x^d]
    (`gdcore.features.polynomial_features`) and the weights are the coefficients of those powers.
    `l2` = lambda >= 0 is the ridge penalty lambda ||w||^2 (the bias is not penalized): the optimum is the
    ridge solution, scikit-learn's `Ridge(alpha=N * lambda)`, and the trajectory's losses are of the
    penalized loss. It is a property of the problem, so it lives in the `Quadratic`, not the `RunSpec`
    (None: the penalty of `quadratic` if one is passed, else 0).

    `schedule` is a learning-rate schedule of `gdcore.schedules` ("constant", "step", "exponential",
    "inverse_time", "cosine", "linear"), its parameters passed as keywords with torch's names, e.g.
    `descend(X, y, alpha=0.1, schedule="step", step_size=10, gamma=0.5)`, or a whole `gdcore.Schedule`.
    It is stepped once per epoch: every update of epoch e = 0, 1, ... uses alpha_e = schedule(alpha, e),
    and `Trajectory.alphas` holds them. A scheduled full-batch run loops once per epoch (the closed form
    needs a fixed alpha), and the constant-alpha theory (step limits, forecasts, the exact divergence
    rule) does not describe it.
    """
    if check("degree", degree) > 1:
        X = polynomial_features(X, degree)
    spec = RunSpec.of(
        optimizer,
        alpha=alpha,
        epochs=epochs,
        w0=w0,
        b0=b0,
        tol=tol,
        batch_size=batch_size,
        shuffle_seed=shuffle_seed,
        schedule=schedule,
        **hyperparameters,
    )
    return run(X, y, spec, record_steps=record_steps, quadratic=quadratic, l2=l2)


def _check_belongs(quadratic: Quadratic, X: np.ndarray, y: np.ndarray) -> None:
    """A cheap O(N d) check that `quadratic` was computed from X and y: sizes, mean(X) and mean(y)."""
    if not isinstance(quadratic, Quadratic):
        raise ValueError(f"quadratic must be a gdcore.Quadratic; got {type(quadratic).__name__}")
    n, d = X.shape
    if quadratic.n_samples != n or quadratic.n_params != d + 1:
        raise ValueError(
            f"quadratic was computed from {quadratic.n_samples} rows and {quadratic.n_params - 1} "
            f"feature(s), but X has {n} rows and {d}: pass Quadratic.from_data(X, y) of this data"
        )
    means = np.append(X.mean(axis=0), y.mean())
    stored = np.append(quadratic.moment[d, :d], quadratic.cross[d])
    if not np.allclose(means, stored, rtol=1e-9, atol=1e-12 * max(1.0, float(np.abs(means).max()))):
        raise ValueError(
            "quadratic does not belong to this X and y (their means differ from the ones it holds): "
            "pass Quadratic.from_data(X, y) of this data"
        )

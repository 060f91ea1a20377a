"""`descend`: gradient descent on the MSE of a linear model, fast at any data size.

Plain full-batch GD is a linear recurrence, theta_{t+1} - theta* = (I - alpha H)(theta_t - theta*), so in
the eigenbasis of H = Q diag(lambda) Q^T every epoch multiplies error coordinate i by r_i = 1 - alpha
lambda_i. The run is therefore evaluated in closed form, in bounded chunks of epochs:

    theta_t = theta* + Q (r^t * Q^T (theta_0 - theta*)),   J(theta_t) = J* + 1/2 sum_i lambda_i (r_i^t e_i)^2

which costs O(K d^2) after one O(N d^2) pass over the data, and equals the literal loop of
`gdcore.reference` (tested to 1e-9). Other optimizers and mini-batches go through `gdcore.stepping`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from gdcore.model import Quadratic
from gdcore.trajectory import Trajectory, collect
from gdcore.validation import as_regression_arrays, as_start_weights, check, check_optional

CHUNK_EPOCHS = 4096  # epochs evaluated at once: bounds memory, lets tol/divergence stop early


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
    **hyperparameters,
) -> Trajectory:
    """Minimise J(w, b) = mean((y - X w - b)^2) by gradient descent from (w0, b0).

    Update (plain GD, `optimizer="gd"`):  w := w - alpha dJ/dw,  b := b - alpha dJ/db.
    `X` may be (N,), (N, 1) or (N, d); `y` (N,) or (N, 1); `w0` a scalar or d values. `tol` stops once
    the relative loss change of an epoch falls below it. `optimizer`, `batch_size` (None = full batch),
    `shuffle_seed` and `**hyperparameters` choose another optimizer from `gdcore.OPTIMIZERS`.
    `quadratic` may pass the data's precomputed sufficient statistics (it must come from X and y).
    """
    X, y = as_regression_arrays(X, y)
    alpha = check("alpha", alpha)
    epochs = check("epochs", epochs)
    tol = check_optional("tol", tol)
    b0 = check("b0", b0)
    theta0 = np.append(as_start_weights(w0, X.shape[1]), b0)
    batch_size = check_optional("batch_size", batch_size)
    shuffle_seed = check("shuffle_seed", shuffle_seed)
    if quadratic is None:
        quadratic = Quadratic.from_data(X, y)
    with np.errstate(over="ignore", invalid="ignore"):
        start_loss = float(quadratic.loss(theta0))
    if not np.isfinite(start_loss):
        raise ValueError(
            f"the start w0={w0!r}, b0={b0!r} gives an infinite loss on this data; "
            "choose start values of a size comparable to the data"
        )
    settings = {
        "optimizer": optimizer,
        "alpha": alpha,
        "epochs": epochs,
        "w0": w0,
        "b0": b0,
        "tol": tol,
        "batch_size": batch_size,
        "shuffle_seed": shuffle_seed,
        **hyperparameters,
    }
    full_batch = batch_size is None or batch_size >= X.shape[0]
    if optimizer == "gd" and full_batch and not hyperparameters:
        chunks = _closed_form_gd(quadratic, theta0, alpha, epochs)
        return collect(start_loss, theta0, chunks, tol, settings)
    from gdcore.stepping import run_optimizer

    return run_optimizer(
        X,
        y,
        quadratic=quadratic,
        theta0=theta0,
        start_loss=start_loss,
        alpha=alpha,
        epochs=epochs,
        tol=tol,
        optimizer=optimizer,
        batch_size=None if full_batch else batch_size,
        shuffle_seed=shuffle_seed,
        record_steps=record_steps,
        settings=settings,
        hyperparameters=hyperparameters,
    )


def _closed_form_gd(
    quadratic: Quadratic, theta0: np.ndarray, alpha: float, epochs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) for epochs 1..K in chunks: theta_t = theta* + Q (r^t * e_0)."""
    lam, Q = quadratic.eigenvalues, quadratic.eigenvectors
    rates = 1.0 - alpha * lam
    error0 = Q.T @ (theta0 - quadratic.theta_star)
    moving = error0 != 0.0  # an exactly-zero error stays zero even where r^t overflows
    for first in range(1, epochs + 1, CHUNK_EPOCHS):
        t = np.arange(first, min(first + CHUNK_EPOCHS, epochs + 1), dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            error = np.where(moving, np.power(rates, t[:, None]) * error0, 0.0)
            theta = quadratic.theta_star + error @ Q.T
            loss = quadratic.loss_star + 0.5 * (error * error) @ lam
        yield loss, theta

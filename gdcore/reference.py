"""The blog's loop, literally: the readable reference that the fast engine is tested against.

`reference_descend` is the blog's code with its two bugs fixed: y is kept flat so `y - y_pred` is an
(N,) vector, and each loss is recorded with the parameters it was measured at. `blog_shape_pitfall`
reproduces the original shape bug for teaching.
"""

from __future__ import annotations

import numpy as np

from gdcore.spec import RunSpec
from gdcore.trajectory import Trajectory, collect
from gdcore.validation import as_regression_arrays, as_start_weights, check


def reference_descend(X, y, *, alpha=0.01, epochs=100, w0=1.0, b0=0.0) -> Trajectory:
    """One epoch at a time, from the data:  y_pred = X w + b,  J = mean((y - y_pred)^2),
    dJ/dw = -(2/N) X^T (y - y_pred),  dJ/db = -(2/N) sum(y - y_pred),  w -= alpha dJ/dw,  b -= alpha dJ/db.
    """
    X, y = as_regression_arrays(X, y)
    alpha, epochs, b = check("alpha", alpha), check("epochs", epochs), check("b0", b0)
    w = as_start_weights(w0, X.shape[1])
    n = X.shape[0]
    states = [np.append(w, b)]
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            residual = y - (X @ w + b)
            losses.append(residual @ residual / n)
            dw = (-2.0 / n) * (X.T @ residual)
            db = (-2.0 / n) * residual.sum()
            w = w - alpha * dw
            b = b - alpha * db
            states.append(np.append(w, b))
        residual = y - (X @ w + b)
        losses.append(residual @ residual / n)
    loss, theta = np.array(losses), np.array(states)
    spec = RunSpec(alpha=alpha, epochs=epochs, w0=w0, b0=b0)
    return collect(float(loss[0]), theta[0], [(loss[1:], theta[1:])], None, spec)


def blog_shape_pitfall(X, y, w: float = 1.0, b: float = 0.0) -> dict:
    """What the blog's `Y - Y_pred` does with X of shape (N, 1) and y of shape (N,).

    The broadcast residual R[i, j] = y_j - (x_i w + b) is N x N; the blog's "error" is sum(R^2) / N.
    It is computed without building R (N = 1,000,000 would need 7 TiB), from
    sum_ij (y_j - p_i)^2 = N sum(y^2) - 2 sum(y) sum(p) + N sum(p^2),  p = x w + b.
    Returns the shapes, that "error", and the correct MSE at the same (w, b).
    """
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)[:, :1]
    y = np.asarray(y, dtype=np.float64).ravel()
    n = len(X)
    predicted = X[:, 0] * w + b
    correct_residual = y - predicted
    blog_sum = n * (y @ y) - 2.0 * y.sum() * predicted.sum() + n * (predicted @ predicted)
    return {
        "x_shape": X.shape,
        "y_shape": y.shape,
        "residual_shape": (n, n),
        "blog_error": float(blog_sum / n),
        "correct_error": float(correct_residual @ correct_residual / n),
    }

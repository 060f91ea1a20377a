"""The blog's loop, literally: the readable reference that the fast engine is tested against.

`reference_descend` is the blog's code with its two bugs fixed: y is kept flat so `y - y_pred` is an
(N,) vector, and each loss is recorded with the parameters it was measured at. `blog_shape_pitfall`
reproduces the original shape bug for teaching; `blog_code_run` runs the published loop, bugs and all,
and `blog_printout` prints its result the way the blog does.
"""

from __future__ import annotations

import numpy as np

from gdcore.spec import RunSpec
from gdcore.trajectory import QUIET, Trajectory, collect
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


BLOG_CODE_NAME = "Blog's code (buggy)"  # how the published loop's run is labelled wherever it is shown


def blog_code_run(X, y, *, alpha=0.01, epochs=100, w0=1.0, b0=0.0) -> Trajectory:
    """The blog's loop as published, both bugs kept, for X with one feature (N, 1) and y (N,).

    The blog computes `Y - Y_pred` with Y (N,) and Y_pred = X * w + b (N, 1): the broadcast residual is
    R[i, j] = y_j - p_i, p = x w + b, an N x N matrix, and every sum runs over it:

        error = sum_ij R_ij^2 / N,   dw = -(2/N) sum_ij R_ij x_i,   db = -(2/N) sum_ij R_ij,

    which, with S_y = sum y and S_p = sum p, are  error = sum y^2 - 2 S_y S_p / N + sum p^2,
    dw = -(2/N) (S_y sum x - N sum x p)  and  db = -2 (S_y - S_p): O(1) per epoch from the data's sums,
    never the N x N matrix (tested against the literal broadcast). Then w -= alpha dw, b -= alpha db.

    The returned Trajectory holds the blog's own lists, unrounded, in the blog's pairing (not the
    Trajectory convention): `loss[i]` is its error_mat[i], measured *before* update i, while
    `weights[i]`, `bias[i]` are its weights_mat[i], bias_mat[i], the parameters *after* update i; so
    there are `epochs` entries, not epochs + 1. The run stops at the first value that is not finite
    (the blog's code would go on printing nan); it is "diverged" then, or if its error ends above the
    first one. `spec` is None: this is not a run of any optimizer. ValueError for bad settings or for X
    with more than one column (the blog's code only runs with one).
    """
    X, y = as_regression_arrays(X, y)
    if X.shape[1] != 1:
        raise ValueError(
            f"the blog's code runs on one feature only (its weight is a single number); X has {X.shape[1]}"
        )
    alpha, b = check("alpha", alpha), float(check("b0", b0))
    epochs = check("epochs", epochs)
    if epochs < 1:
        raise ValueError(f"the blog's code needs at least 1 epoch to print a best epoch; got {epochs}")
    w = float(as_start_weights(w0, 1)[0])
    x = X[:, 0]
    n = float(x.shape[0])
    sum_x, sum_xx, sum_y, sum_yy = float(x.sum()), float(x @ x), float(y.sum()), float(y @ y)
    errors, ws, bs = [], [], []
    with np.errstate(**QUIET):
        for _ in range(epochs):
            sum_p = w * sum_x + n * b  # sum of the predictions p_i = x_i w + b
            sum_pp = w * w * sum_xx + 2.0 * w * b * sum_x + n * b * b
            sum_xp = w * sum_xx + b * sum_x
            error = sum_yy - 2.0 * sum_y * sum_p / n + sum_pp
            dw = (-2.0 / n) * (sum_y * sum_x - n * sum_xp)
            db = -2.0 * (sum_y - sum_p)
            w, b = w - alpha * dw, b - alpha * db
            if not (np.isfinite(error) and np.isfinite(w) and np.isfinite(b)):
                break
            errors.append(error)
            ws.append(w)
            bs.append(b)
    if not errors:
        raise ValueError(f"the blog's code overflows in its first epoch at alpha={alpha!r} on this data")
    loss = np.array(errors, dtype=np.float64)
    diverged = len(errors) < epochs or bool(loss[-1] > loss[0])
    return Trajectory(
        loss=loss,
        weights=np.array(ws, dtype=np.float64)[:, None],
        bias=np.array(bs, dtype=np.float64),
        stop_reason="diverged" if diverged else "epochs",
        diverged=diverged,
    )


def blog_printout(run: Trajectory) -> str:
    """The blog's last line for a `blog_code_run`: each number rounded to 3 decimals first, the best
    epoch the first minimum of the rounded errors (as `error_mat.index(min(error_mat))` finds it)."""
    errors = [round(float(e), 3) for e in run.loss]
    i = errors.index(min(errors))
    weight, bias = round(float(run.weights[i, 0]), 3), round(float(run.bias[i]), 3)
    return f"Best epoch: {i}, Error: {errors[i]}, Weights: {weight}, Bias: {bias}"

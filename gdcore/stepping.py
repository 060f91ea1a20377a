r"""Runs of any registered optimizer, full batch or mini-batch, fast at any data size.

Every gradient comes from sufficient statistics. For a batch B of n_B rows of A = [X, 1],

    g(\theta) = H_B \theta - q_B,    H_B = (2/n_B) A_B^T A_B,    q_B = (2/n_B) A_B^T y_B,

which is the blog's -(2/n_B) A_B^T (y_B - A_B \theta) rearranged. So:

* Full batch: H and q come from the `Quadratic` once; an epoch costs O(d^2), whatever N. The linear
  optimizers (momentum, Nesterov; plain GD lives in `gdcore.engine`) are linear recurrences: in the
  eigenbasis of H each error coordinate e_i and its velocity v_i evolve by a constant 2x2 matrix T_i, so
  the whole run is evaluated from the matrix powers T_i^t, in chunks, without a Python loop.
* Mini-batches: an epoch is one pass over the data in an order reshuffled every epoch by
  `np.random.default_rng(shuffle_seed)`. The statistics of all batches of an epoch are computed at once
  (batched matrix products over the shuffled rows), so the Python loop only does the tiny updates; with
  d = 1 they run on Python floats (fused loops of `gdcore.kernels`), far cheaper than numpy calls on
  length-2 arrays.
* The loss of each epoch is the full-data loss at the epoch's end state, from the `Quadratic`.

Divergence, `tol` and the `Trajectory` are exactly those of plain GD (`gdcore.trajectory.collect`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from gdcore.engine import _closed_form_gd
from gdcore.kernels import KERNELS_D1
from gdcore.model import Quadratic
from gdcore.optimizers import Optimizer, get_optimizer
from gdcore.trajectory import Trajectory, collect

CHUNK_EPOCHS = 4096  # full batch: epochs evaluated per chunk (bounds memory, lets tol/divergence stop early)
CHUNK_STEPS = 1 << 16  # mini-batch: about this many steps per chunk of epochs
GROUP_FLOATS = 1 << 22  # mini-batch: bound on the floats gathered at once for batch statistics
MAX_STEP_ROWS = 20_000  # recorded steps are thinned evenly to at most this many rows (plus start and end)
_QUIET = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}  # a diverging run is data, not a warning


def run_optimizer(
    X: np.ndarray,
    y: np.ndarray,
    *,
    quadratic: Quadratic,
    theta0: np.ndarray,
    start_loss: float,
    alpha: float,
    epochs: int,
    tol: float | None,
    optimizer: str,
    batch_size: int | None,
    shuffle_seed: int,
    record_steps: bool,
    settings: dict,
    hyperparameters: dict,
) -> Trajectory:
    """Run `optimizer` from theta0 = (w0, b0) for `epochs` passes over validated data X (N, d), y (N,).

    Called by `gdcore.descend`, which validates the data and the common settings; the optimizer's name
    and hyperparameters are validated here (ValueError). `batch_size` None or >= N is full batch.
    With `record_steps`, a mini-batch run also keeps the parameters after each step in
    `Trajectory.steps` (start first, thinned evenly to about MAX_STEP_ROWS rows); full-batch runs leave it
    None, since their steps are the epochs (see `step_path`).
    """
    entry = get_optimizer(optimizer)
    hyper = entry.validate(hyperparameters)
    settings = {**settings, **hyper}
    if batch_size is None or batch_size >= X.shape[0]:
        chunks = _full_batch_chunks(quadratic, theta0, entry, alpha, hyper, epochs)
        return collect(start_loss, theta0, chunks, tol, settings)
    recorder = _StepRecorder(theta0, epochs * _n_batches(X.shape[0], batch_size)) if record_steps else None
    chunks = _minibatch_chunks(
        X, y, quadratic, theta0, entry, alpha, hyper, epochs, batch_size, shuffle_seed, recorder
    )
    trajectory = collect(start_loss, theta0, chunks, tol, settings)
    if recorder is None:
        return trajectory
    return replace(trajectory, steps=recorder.rows(trajectory, _n_batches(X.shape[0], batch_size)))


def step_path(trajectory: Trajectory) -> np.ndarray:
    """The parameters (w..., b) along the run, (S, d+1): a mini-batch run's recorded steps (start first,
    thinned evenly), or else the epochs themselves, row t = epoch t (every full-batch step is an epoch)."""
    if trajectory.steps is not None:
        return trajectory.steps
    return np.column_stack([trajectory.weights, trajectory.bias])


# --- full batch ---------------------------------------------------------------------------------------


def _full_batch_chunks(
    quadratic: Quadratic, theta0: np.ndarray, entry: Optimizer, alpha: float, hyper: dict, epochs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(loss, theta) chunks of a full-batch run: closed form for the linear optimizers, else a loop."""
    beta = hyper.get("beta", 0.0)
    if entry.name == "gd" or (entry.linear and beta == 0.0):  # momentum with beta = 0 is GD, exactly
        return _closed_form_gd(quadratic, theta0, alpha, epochs)
    if entry.linear:
        transition = _transition_matrices(
            quadratic.eigenvalues, alpha, beta, nesterov=entry.name == "nesterov"
        )
        return _closed_form_linear(quadratic, theta0, transition, epochs)
    return _looped_full_batch(quadratic, theta0, entry, alpha, hyper, epochs)


def _transition_matrices(lam: np.ndarray, alpha: float, beta: float, nesterov: bool) -> np.ndarray:
    r"""T_i (p, 2, 2) acting on (v_i, e_i), the velocity and error in the eigenbasis of H (g_i = lam_i e_i).

    Momentum: v' = \beta v + \lambda e,  e' = e - \alpha v' = (1 - \alpha\lambda) e - \alpha\beta v.
    Nesterov: v' = \beta v + \lambda e,  e' = e - \alpha(\lambda e + \beta v')
                                            = (1 - \alpha\lambda(1 + \beta)) e - \alpha\beta^2 v.
    """
    T = np.empty((lam.shape[0], 2, 2))
    T[:, 0, 0] = beta
    T[:, 0, 1] = lam
    if nesterov:
        T[:, 1, 0] = -alpha * beta * beta
        T[:, 1, 1] = 1.0 - alpha * lam * (1.0 + beta)
    else:
        T[:, 1, 0] = -alpha * beta
        T[:, 1, 1] = 1.0 - alpha * lam
    return T


def _matrix_powers(T: np.ndarray, count: int) -> np.ndarray:
    """P (count, p, 2, 2) with P[k] = T^(k+1), by doubling: T^(n+j+1) = T^(j+1) T^n (log2(count) products)."""
    P = np.empty((count, *T.shape))
    P[0] = T
    done = 1
    with np.errstate(**_QUIET):
        while done < count:
            more = min(done, count - done)
            P[done : done + more] = _times_2x2(P[:more], P[done - 1])
            done += more
    return P


def _times_2x2(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B for stacks of 2x2 matrices, (C)_ik = A_i0 B_0k + A_i1 B_1k, written out: numpy's matmul
    loops over tiny matrices one at a time."""
    return A[..., :, :1] * B[..., :1, :] + A[..., :, 1:] * B[..., 1:, :]


def _closed_form_linear(
    quadratic: Quadratic, theta0: np.ndarray, transition: np.ndarray, epochs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) for epochs 1..K in chunks: (v, e)_t = T^t (v, e)_0 per eigen-coordinate.

    theta_t = theta* + Q e_t and J(theta_t) = J* + 1/2 sum_i lam_i e_{t,i}^2, as for plain GD.
    """
    lam, Q = quadratic.eigenvalues, quadratic.eigenvectors
    velocity = np.zeros(lam.shape[0])  # v_0 = 0
    error = Q.T @ (theta0 - quadratic.theta_star)  # e_0
    moving = error != 0.0  # a coordinate with zero error and velocity stays zero
    powers = _matrix_powers(transition, min(CHUNK_EPOCHS, epochs)) if epochs else None
    for first in range(0, epochs, CHUNK_EPOCHS):
        P = powers[: min(CHUNK_EPOCHS, epochs - first)]
        with np.errstate(**_QUIET):
            errors = np.where(moving, P[:, :, 1, 0] * velocity + P[:, :, 1, 1] * error, 0.0)
            theta = quadratic.theta_star + errors @ Q.T
            loss = quadratic.loss_star + 0.5 * (errors * errors) @ lam
            velocity = np.where(moving, P[-1, :, 0, 0] * velocity + P[-1, :, 0, 1] * error, 0.0)
        error = errors[-1]
        yield loss, theta


def _looped_full_batch(
    quadratic: Quadratic, theta0: np.ndarray, entry: Optimizer, alpha: float, hyper: dict, epochs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) chunks of a stepped full-batch run: one update per epoch, g = H theta - q."""
    H, q = 2.0 * quadratic.moment, 2.0 * quadratic.cross
    stepper = _Stepper(entry, alpha, hyper, theta0)
    batch = next(stepper.batches(H[None], q[None]))
    for first in range(0, epochs, CHUNK_EPOCHS):
        count = min(CHUNK_EPOCHS, epochs - first)
        theta = stepper.run(itertools.repeat(batch, count))
        yield _with_loss(quadratic, theta)
        if not np.isfinite(theta[-1]).all():
            return


def _with_loss(quadratic: Quadratic, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(J(theta_t) for each row, theta): the full-data loss of each recorded state."""
    with np.errstate(**_QUIET):
        return quadratic.loss(theta), theta


# --- the update loop ----------------------------------------------------------------------------------


class _Stepper:
    """Applies a registry update once per batch, carrying (params, state) between calls.

    With 2 parameters (d = 1) the loop works on Python floats: a fused loop of `gdcore.kernels` when the
    optimizer has one (`fused`), else the registry's `update` called once per parameter. Otherwise it
    works on numpy arrays, calling `update` once per step.
    """

    def __init__(self, entry: Optimizer, alpha: float, hyper: dict, theta0: np.ndarray, fused: bool = True):
        self.update, self.alpha = entry.update, alpha
        self.hyper = tuple(hyper[h.name] for h in entry.hyperparameters)  # positional, in declared order
        self.floats = theta0.shape[0] == 2
        self.kernel = KERNELS_D1.get(entry.name) if self.floats and fused else None
        if self.floats:
            params = tuple(float(v) for v in theta0)
            self.carry = (params, tuple(entry.init(v) for v in params))
        else:
            self.carry = (theta0.copy(), entry.init(theta0.copy()))

    def batches(self, H: np.ndarray, q: np.ndarray) -> Iterator[tuple]:
        """Per-batch (H_B, q_B), lazily, in the loop's format: (h00, h01, h11, q0, q1) floats for d = 1."""
        if self.floats:
            columns = (H[:, 0, 0], H[:, 0, 1], H[:, 1, 1], q[:, 0], q[:, 1])
            return zip(*(column.tolist() for column in columns), strict=True)
        return zip(H, q, strict=True)

    def run(self, batches, record: bool = True) -> np.ndarray | None:
        """One update per batch; returns the parameters after each step, (steps, p), if `record`."""
        trace: list | None = [] if record else None
        if self.kernel is not None:
            self.carry = self.kernel(batches, self.carry, self.alpha, self.hyper, trace)
        else:
            step = _float_steps if self.floats else _array_steps
            self.carry = step(batches, self.carry, self.update, self.alpha, self.hyper, trace)
        return None if trace is None else np.array(trace, dtype=np.float64).reshape(len(trace), -1)

    @property
    def theta(self) -> np.ndarray:
        return np.array(self.carry[0], dtype=np.float64)


def _float_steps(batches, carry, update, alpha, hyper, trace):
    """d = 1 on Python floats: g = (h00 w + h01 b - q0, h01 w + h11 b - q1), then w and b are each
    updated by the registry's `update(g, state, param, alpha, *hyper)`. Appends each new (w, b) to
    `trace` unless it is None."""
    (w, b), (state_w, state_b) = carry
    for h00, h01, h11, q0, q1 in batches:
        grad_w = h00 * w + h01 * b - q0
        grad_b = h01 * w + h11 * b - q1
        w, state_w = update(grad_w, state_w, w, alpha, *hyper)
        b, state_b = update(grad_b, state_b, b, alpha, *hyper)
        if trace is not None:
            trace.append((w, b))
    return (w, b), (state_w, state_b)


def _array_steps(batches, carry, update, alpha, hyper, trace):
    """Numpy arrays: g = H_B theta - q_B, then (theta, state) = update(g, state, theta, alpha, *hyper)."""
    theta, state = carry
    with np.errstate(**_QUIET):
        for H, q in batches:
            theta, state = update(H @ theta - q, state, theta, alpha, *hyper)
            if trace is not None:
                trace.append(theta)
    return theta, state


# --- mini-batches -------------------------------------------------------------------------------------


def _n_batches(n_samples: int, batch_size: int) -> int:
    return -(-n_samples // batch_size)


def _minibatch_chunks(
    X: np.ndarray,
    y: np.ndarray,
    quadratic: Quadratic,
    theta0: np.ndarray,
    entry: Optimizer,
    alpha: float,
    hyper: dict,
    epochs: int,
    batch_size: int,
    shuffle_seed: int,
    recorder: _StepRecorder | None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) chunks of epochs; each epoch is ceil(N / batch_size) steps over a fresh shuffle."""
    rng = np.random.default_rng(shuffle_seed)
    A = np.column_stack([X, np.ones(X.shape[0])])
    stepper = _Stepper(entry, alpha, hyper, theta0)
    per_chunk = max(1, CHUNK_STEPS // _n_batches(X.shape[0], batch_size))
    for first in range(0, epochs, per_chunk):
        ends, finite = [], True
        for _ in range(min(per_chunk, epochs - first)):
            order = rng.permutation(X.shape[0])
            for H, q in _batch_statistics(A, y, order, batch_size):
                steps = stepper.run(stepper.batches(H, q), record=recorder is not None)
                if recorder is not None:
                    recorder.add(steps)
            ends.append(stepper.theta)
            finite = bool(np.isfinite(ends[-1]).all())
            if not finite:
                break
        yield _with_loss(quadratic, np.array(ends))
        if not finite:
            return


def _batch_statistics(
    A: np.ndarray, y: np.ndarray, order: np.ndarray, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (H, q) for consecutive groups of batches of rows `order`: H_B = (2/n_B) A_B^T A_B,
    q_B = (2/n_B) A_B^T y_B, shapes (batches, p, p) and (batches, p); the last batch may be smaller."""
    n, p = A.shape
    group_rows = batch_size * max(1, GROUP_FLOATS // (batch_size * p + p * p))
    for start in range(0, n, group_rows):
        rows = order[start : start + group_rows]
        A_g, y_g = np.take(A, rows, axis=0), np.take(y, rows)
        full = rows.shape[0] // batch_size * batch_size
        parts = []
        if full:
            parts.append(_stats(A_g[:full].reshape(-1, batch_size, p), y_g[:full].reshape(-1, batch_size)))
        if full < rows.shape[0]:
            parts.append(_stats(A_g[None, full:], y_g[None, full:]))
        if len(parts) == 1:
            yield parts[0]
        else:
            yield np.concatenate([parts[0][0], parts[1][0]]), np.concatenate([parts[0][1], parts[1][1]])


def _stats(A_b: np.ndarray, y_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For batches stacked as A_b (k, n_B, p), y_b (k, n_B): (2/n_B) A_B^T A_B and (2/n_B) A_B^T y_B."""
    scale = 2.0 / A_b.shape[1]
    A_t = A_b.transpose(0, 2, 1)
    return (A_t @ A_b) * scale, (A_t @ y_b[:, :, None])[:, :, 0] * scale


# --- recorded steps -----------------------------------------------------------------------------------


class _StepRecorder:
    """Keeps every `stride`-th step of a run (stride = ceil(total steps / MAX_STEP_ROWS)), bounded in size."""

    def __init__(self, theta0: np.ndarray, total_steps: int):
        self.stride = max(1, math.ceil(total_steps / MAX_STEP_ROWS))
        self.seen = 0  # steps so far
        self.index: list[np.ndarray] = []
        self.kept: list[np.ndarray] = [theta0[None, :]]

    def add(self, steps: np.ndarray) -> None:
        """Record the parameters after steps seen+1 .. seen+len(steps) whose number divides by stride."""
        numbers = np.arange(self.seen + 1, self.seen + 1 + steps.shape[0])
        keep = numbers % self.stride == 0
        self.index.append(numbers[keep])
        self.kept.append(steps[keep])
        self.seen += steps.shape[0]

    def rows(self, trajectory: Trajectory, n_batches: int) -> np.ndarray:
        """Start, kept steps within the epochs the trajectory kept, and its final state: (S, p)."""
        last = trajectory.epochs_run * n_batches
        index = np.concatenate([np.zeros(1, dtype=np.int64), *self.index])
        theta = np.concatenate(self.kept)[index <= last]
        if index[index <= last][-1] != last:
            end = np.append(trajectory.weights[-1], trajectory.bias[-1])
            theta = np.vstack([theta, end])
        return theta

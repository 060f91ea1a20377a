r"""Runs of any registered optimizer, full batch or mini-batch, fast at any data size.

Every gradient comes from sufficient statistics. For a batch B of n_B rows of A = [X, 1],

    g(\theta) = H_B \theta - q_B,    H_B = (2/n_B) A_B^T A_B,    q_B = (2/n_B) A_B^T y_B,

which is the blog's -(2/n_B) A_B^T (y_B - A_B \theta) rearranged. So:

* Full batch: H and q come from the `Quadratic` once; an epoch costs O(d^2), whatever N. The linear
  optimizers (GD, momentum, Nesterov) are linear recurrences, evaluated in closed form by
  `gdcore.closed_form`; the others loop once per epoch.
* Mini-batches: an epoch is one pass over the data in an order reshuffled every epoch by
  `np.random.default_rng(shuffle_seed)`. The statistics of all batches of an epoch are computed at once
  (batched matrix products over the shuffled rows), so the Python loop only does the tiny updates; with
  d = 1 they run on Python floats (fused loops of `gdcore.kernels`), far cheaper than numpy calls on
  length-2 arrays.
* The loss of each epoch is the full-data loss at the epoch's end state, from the `Quadratic`.

`execute` is the one dispatcher over these paths; divergence, `tol` and the `Trajectory` are those of
`gdcore.trajectory.collect` for every path.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from gdcore.closed_form import gd_chunks, linear_chunks, transition_matrices
from gdcore.kernels import KERNELS_D1
from gdcore.model import Quadratic
from gdcore.optimizers import Optimizer, get_optimizer
from gdcore.spec import RunSpec
from gdcore.trajectory import CHUNK_EPOCHS, QUIET, Trajectory, collect

CHUNK_STEPS = 1 << 16  # mini-batch: about this many steps per chunk of epochs
GROUP_FLOATS = 1 << 22  # mini-batch: bound on the floats gathered at once for batch statistics
MAX_STEP_ROWS = 20_000  # recorded steps are thinned evenly to at most this many rows (plus start and end)


def execute(
    X: np.ndarray, y: np.ndarray, spec: RunSpec, quadratic: Quadratic, record_steps: bool = False
) -> Trajectory:
    """Run `spec` on data already validated (X (N, d), y (N,) float64, `quadratic` their statistics).

    `gdcore.run` and `gdcore.descend` validate and call this; internal callers holding checked data
    (the sweep, the dashboard) call it directly. ValueError if the start is infinite on this data or
    w0 has the wrong length. With `record_steps`, a mini-batch run also keeps the parameters after each
    step in `Trajectory.steps` (start first, thinned evenly to about MAX_STEP_ROWS rows); full-batch runs
    leave it None, since their steps are the epochs (see `step_path`).
    """
    theta0 = spec.start(X.shape[1])
    with np.errstate(**QUIET):
        start_loss = float(quadratic.loss(theta0))
    if not np.isfinite(start_loss):
        raise ValueError(
            f"the start w0={spec.w0!r}, b0={spec.b0!r} gives an infinite loss on this data; "
            "choose start values of a size comparable to the data"
        )
    entry = get_optimizer(spec.optimizer)
    if spec.is_full_batch(X.shape[0]):
        chunks = _full_batch_chunks(quadratic, theta0, entry, spec)
        return collect(start_loss, theta0, chunks, spec.tol, spec)
    n_batches = _n_batches(X.shape[0], spec.batch_size)
    recorder = StepRecorder(theta0, spec.epochs * n_batches) if record_steps else None
    chunks = _minibatch_chunks(X, y, quadratic, theta0, entry, spec, recorder)
    trajectory = collect(start_loss, theta0, chunks, spec.tol, spec)
    if recorder is None:
        return trajectory
    return replace(trajectory, steps=recorder.rows(trajectory, n_batches))


def step_path(trajectory: Trajectory) -> np.ndarray:
    """The parameters (w..., b) along the run, (S, d+1): a mini-batch run's recorded steps (start first,
    thinned evenly), or else the epochs themselves, row t = epoch t (every full-batch step is an epoch)."""
    if trajectory.steps is not None:
        return trajectory.steps
    return np.column_stack([trajectory.weights, trajectory.bias])


# --- full batch ---------------------------------------------------------------------------------------


def _full_batch_chunks(
    quadratic: Quadratic, theta0: np.ndarray, entry: Optimizer, spec: RunSpec
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(loss, theta) chunks of a full-batch run: closed form for the linear optimizers, else a loop."""
    beta = spec.hyperparameters.get("beta", 0.0)
    if entry.name == "gd" or (entry.linear and beta == 0.0):  # momentum with beta = 0 is GD, exactly
        return gd_chunks(quadratic, theta0, spec.alpha, spec.epochs)
    if entry.linear:
        transition = transition_matrices(
            quadratic.eigenvalues, spec.alpha, beta, nesterov=entry.name == "nesterov"
        )
        return linear_chunks(quadratic, theta0, transition, spec.epochs)
    return _looped_full_batch(quadratic, theta0, entry, spec)


def _looped_full_batch(
    quadratic: Quadratic, theta0: np.ndarray, entry: Optimizer, spec: RunSpec
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) chunks of a stepped full-batch run: one update per epoch, g = H theta - q."""
    H, q = 2.0 * quadratic.moment, 2.0 * quadratic.cross
    stepper = Stepper(entry, spec.alpha, spec.hyperparameters, theta0)
    batch = next(stepper.batches(H[None], q[None]))
    for first in range(0, spec.epochs, CHUNK_EPOCHS):
        count = min(CHUNK_EPOCHS, spec.epochs - first)
        theta = stepper.run(itertools.repeat(batch, count))
        yield _with_loss(quadratic, theta)
        if not np.isfinite(theta[-1]).all():
            return


def _with_loss(quadratic: Quadratic, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(J(theta_t) for each row, theta): the full-data loss of each recorded state."""
    with np.errstate(**QUIET):
        return quadratic.loss(theta), theta


# --- the update loop ----------------------------------------------------------------------------------


class Stepper:
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
    with np.errstate(**QUIET):
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
    spec: RunSpec,
    recorder: StepRecorder | None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) chunks of epochs; each epoch is ceil(N / batch_size) steps over a fresh shuffle."""
    batch_size = spec.batch_size
    rng = np.random.default_rng(spec.shuffle_seed)
    A = np.column_stack([X, np.ones(X.shape[0])])
    stepper = Stepper(entry, spec.alpha, spec.hyperparameters, theta0)
    per_chunk = max(1, CHUNK_STEPS // _n_batches(X.shape[0], batch_size))
    for first in range(0, spec.epochs, per_chunk):
        ends, finite = [], True
        for _ in range(min(per_chunk, spec.epochs - first)):
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


class StepRecorder:
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

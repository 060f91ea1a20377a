r"""Runs of any registered optimizer, full batch or mini-batch, fast at any data size.

Every gradient comes from sufficient statistics. For a batch B of n_B rows of A = [X, 1],

    g(\theta) = H_B \theta - q_B,    H_B = (2/n_B) A_B^T A_B,    q_B = (2/n_B) A_B^T y_B,

which is the blog's -(2/n_B) A_B^T (y_B - A_B \theta) rearranged. So:

* Every run moves relative to its start theta_0, measured once on the data (`StartPoint`: residual r_0,
  loss J_0, gradient g_0): the optimizer updates the move delta = theta - theta_0, with gradient
  g_0 + H delta (full batch) or H_B delta - (2/n_B) A_B^T r_0,B (batch B). That is the same update, but
  a start on an exact fit has gradient exactly 0 and stays there, as in the literal loop.
* Full batch: H comes from the `Quadratic` once; an epoch costs O(d^2), whatever N. The linear
  optimizers (GD, momentum, Nesterov) are linear recurrences, evaluated in closed form by
  `gdcore.closed_form`; the others loop once per epoch, and so does every run with a learning-rate
  schedule (`gdcore.schedules`: a step that changes per epoch breaks the closed form's fixed matrix).
* A schedule sets the step of each epoch: every update of epoch e uses alpha_e (`RunSpec.alphas`).
* Mini-batches: an epoch is one pass over the data in an order reshuffled every epoch by
  `np.random.default_rng(shuffle_seed)`. The statistics of all batches of a group are computed at once
  (`BatchStatistics`: batched matrix products over the gathered rows of X and r_0; [X, 1] is never
  built), so the Python loop only does the tiny updates; with d = 1 they run on Python floats (fused loops of
  `gdcore.kernels`), far cheaper than numpy calls on length-2 arrays.
* The loss of each epoch is the full-data loss at the epoch's end state (`StartPoint.loss_at`).

`execute` is the one dispatcher over these paths; divergence, `tol` and the `Trajectory` are those of
`gdcore.trajectory.collect` for every path (full-batch GD, momentum and Nesterov with the exact
divergence rule of `gdcore.closed_form.divergence_rule`).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

import numpy as np

from gdcore.closed_form import divergence_rule, gd_chunks, linear_chunks
from gdcore.kernels import KERNELS_ARRAY, KERNELS_D1
from gdcore.model import Quadratic, StartPoint
from gdcore.optimizers import Optimizer, get_optimizer
from gdcore.spec import RunSpec
from gdcore.trajectory import CHUNK_EPOCHS, QUIET, Trajectory, collect

Progress = Callable[[float, int], object]  # on_progress(epochs_done, epochs_total); see `execute`

CHUNK_STEPS = 1 << 16  # mini-batch: about this many steps per chunk of epochs
GROUP_FLOATS = 1 << 18  # mini-batch: bound on the floats gathered at once for batch statistics
MAX_STEP_ROWS = 20_000  # recorded steps are thinned evenly to at most this many rows (plus start and end)
PROGRESS_EVERY_S = 0.1  # mini-batch: within an epoch, on_progress is called about this often


def execute(
    X: np.ndarray,
    y: np.ndarray,
    spec: RunSpec,
    quadratic: Quadratic,
    record_steps: bool = False,
    *,
    on_progress: Progress | None = None,
    start: StartPoint | None = None,
) -> Trajectory:
    """Run `spec` on data already validated (X (N, d), y (N,) float64, `quadratic` their statistics).

    `gdcore.run` and `gdcore.descend` validate and call this; internal callers holding checked data
    (the sweep, the dashboard) call it directly. ValueError if the start is infinite on this data or
    w0 has the wrong length. With `record_steps`, a mini-batch run also keeps the parameters after each
    step in `Trajectory.steps` (start first, thinned evenly to about MAX_STEP_ROWS rows); full-batch runs
    leave it None, since their steps are the epochs (see `step_path`).

    `on_progress(epochs_done, epochs_total)` is called after each chunk of epochs is computed (an int
    epochs_done), and in a mini-batch run also within an epoch, after a group of batches once
    PROGRESS_EVERY_S seconds have passed since its last call there (a float epochs_done strictly between
    two whole epochs: epoch e plus the fraction of its batches done), so that an epoch of a million
    steps reports and can be cancelled. An exception it raises propagates and abandons the run (how a
    caller cancels a long one). The numbers of a run do not depend on it. `start` may
    pass the `StartPoint` of spec's start already measured on this data (runs that share it: a sweep).
    """
    theta0 = spec.start(X.shape[1])
    if start is None or not np.array_equal(start.theta, theta0):
        start = measure_start(X, y, spec, quadratic)
    entry = get_optimizer(spec.optimizer)
    if spec.is_full_batch(X.shape[0]):
        chunks = _full_batch_chunks(quadratic, start, entry, spec)
        rule = exact_divergence_rule(quadratic, start, spec, X.shape[0])
        return collect(start.loss, theta0, _reporting(chunks, on_progress, spec.epochs), spec.tol, spec, rule)
    n_batches = _n_batches(X.shape[0], spec.batch_size)
    recorder = StepRecorder(theta0, spec.epochs * n_batches) if record_steps else None
    within = None if on_progress is None else _throttled(on_progress, spec.epochs)
    overflow: list[tuple[int, int]] = []
    chunks = _minibatch_chunks(X, quadratic, start, entry, spec, recorder, within, overflow)
    trajectory = collect(start.loss, theta0, _reporting(chunks, on_progress, spec.epochs), spec.tol, spec)
    if overflow and trajectory.stop_reason == "diverged" and overflow[0][0] == trajectory.epochs_run + 1:
        trajectory = replace(trajectory, overflow_step=(overflow[0][1], n_batches))
    if recorder is None:
        return trajectory
    return replace(trajectory, steps=recorder.rows(trajectory, n_batches))


def measure_start(X: np.ndarray, y: np.ndarray, spec: RunSpec, quadratic: Quadratic) -> StartPoint:
    """The `StartPoint` of spec's start on validated data; ValueError if w0 has the wrong length for X or
    the start's loss is infinite."""
    start = StartPoint.measure(X, y, quadratic, spec.start(X.shape[1]))
    if not np.isfinite(start.loss):
        raise ValueError(
            f"the start w0={spec.w0!r}, b0={spec.b0!r} gives an infinite loss on this data; "
            "choose start values of a size comparable to the data"
        )
    return start


def exact_divergence_rule(
    quadratic: Quadratic, start: StartPoint, spec: RunSpec, n_samples: int
) -> Callable[[np.ndarray], bool] | None:
    """The exact divergence rule (`gdcore.closed_form.divergence_rule`) of a full-batch GD, momentum or
    Nesterov run at a constant alpha; None for the others, whose `diverged` comes from their losses
    (`growing_at_end`): that rule is for one fixed iteration matrix, which a schedule does not have."""
    entry = get_optimizer(spec.optimizer)
    if not (entry.linear and spec.is_full_batch(n_samples) and spec.schedule.is_constant):
        return None
    beta = spec.hyperparameters.get("beta", 0.0)
    return divergence_rule(quadratic, start, entry.name, spec.alpha, beta)


def _reporting(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]], on_progress: Progress | None, total: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The chunks, calling on_progress(epochs done, total) as each one is computed."""
    done = 0
    for loss, theta in chunks:
        done += loss.shape[0]
        if on_progress is not None:
            on_progress(done, total)
        yield loss, theta


def _throttled(on_progress: Progress, total: int) -> Callable[[float], None]:
    """within(epochs_done): on_progress(epochs_done, total) if PROGRESS_EVERY_S seconds have passed since
    the last call made through it (or since it was made), else nothing."""
    last = [time.monotonic()]

    def within(done: float) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            on_progress(done, total)

    return within


def step_path(trajectory: Trajectory) -> np.ndarray:
    """The parameters (w..., b) along the run, (S, d+1): a mini-batch run's recorded steps (start first,
    thinned evenly), or else the epochs themselves, row t = epoch t (every full-batch step is an epoch)."""
    if trajectory.steps is not None:
        return trajectory.steps
    return np.column_stack([trajectory.weights, trajectory.bias])


# --- full batch ---------------------------------------------------------------------------------------


def _full_batch_chunks(
    quadratic: Quadratic, start: StartPoint, entry: Optimizer, spec: RunSpec
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(loss, theta) chunks of a full-batch run: closed form for the linear optimizers at a constant
    alpha, else a loop."""
    if not spec.schedule.is_constant:
        return _looped_full_batch(quadratic, start, entry, spec)
    beta = spec.hyperparameters.get("beta", 0.0)
    if entry.name == "gd" or (entry.linear and beta == 0.0):  # momentum with beta = 0 is GD, exactly
        return gd_chunks(quadratic, start, spec.alpha, spec.epochs)
    if entry.linear:
        return linear_chunks(quadratic, start, spec.alpha, beta, entry.name == "nesterov", spec.epochs)
    return _looped_full_batch(quadratic, start, entry, spec)


def _looped_full_batch(
    quadratic: Quadratic, start: StartPoint, entry: Optimizer, spec: RunSpec
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) chunks of a stepped full-batch run: one update of the move delta per epoch,
    with gradient g = H delta + g_0 (H delta - q, q = -g_0, in the loop's form), at epoch e's alpha_e."""
    H = 2.0 * quadratic.moment
    stepper = Stepper(entry, spec.alpha, spec.hyperparameters, np.zeros_like(start.theta))
    batch = next(stepper.batches(H[None], -start.grad[None]))
    alphas = None if spec.schedule.is_constant else spec.alphas()
    for first in range(0, spec.epochs, CHUNK_EPOCHS):
        count = min(CHUNK_EPOCHS, spec.epochs - first)
        steps = None if alphas is None else alphas[first : first + count].tolist()
        moves = stepper.run(itertools.repeat(batch, count), alphas=steps)
        yield _with_loss(quadratic, start, moves)
        if not np.isfinite(moves[-1]).all():
            return


def _with_loss(quadratic: Quadratic, start: StartPoint, moves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(J(theta_0 + delta) for each row, theta_0 + delta): the full-data loss of each recorded state."""
    with np.errstate(**QUIET):
        return start.loss_at(quadratic, moves), start.theta + moves


# --- the update loop ----------------------------------------------------------------------------------


class Stepper:
    """Applies a registry update once per batch, carrying (params, state) between calls.

    With 2 parameters (d = 1) the loop works on Python floats: a fused loop of `gdcore.kernels` when the
    optimizer has one (`fused`), else the registry's `update` called once per parameter. Otherwise it
    works on numpy arrays: a fused loop updating them in place when there is one, else the registry's
    `update` once per step.
    """

    def __init__(self, entry: Optimizer, alpha: float, hyper: dict, theta0: np.ndarray, fused: bool = True):
        self.update, self.alpha = entry.update, alpha
        self.hyper = tuple(hyper[h.name] for h in entry.hyperparameters)  # positional, in declared order
        self.floats = theta0.shape[0] == 2
        kernels = KERNELS_D1 if self.floats else KERNELS_ARRAY
        self.kernel = kernels.get(entry.name) if fused else None
        if self.floats:
            params = tuple(float(v) for v in theta0)
            self.carry = (params, tuple(entry.init(v) for v in params))
        else:
            self.carry = (theta0.copy(), entry.init(theta0.copy()))

    def batches(self, H: np.ndarray, q: np.ndarray) -> Iterator:
        """Per-batch (H_B, q_B), stacked (k, p, p) and (k, p), in the loop's format (`augmented_batches`)."""
        p = H.shape[1]
        augmented = np.empty((H.shape[0], p, p + 1))
        augmented[:, :, :p] = H
        np.negative(q, out=augmented[:, :, p])
        return self.augmented_batches(augmented)

    def augmented_batches(self, augmented: np.ndarray) -> Iterator:
        """Per-batch [H_B, -q_B], stacked (k, p, p + 1), in the loop's format: (h00, h01, h11, q0, q1)
        floats for d = 1, else the augmented matrices themselves, whose product with (theta, 1) is the
        gradient H_B theta - q_B in one call."""
        if self.floats:
            columns = [augmented[:, 0, 0].tolist(), augmented[:, 0, 1].tolist(), augmented[:, 1, 1].tolist()]
            columns += [(-augmented[:, 0, 2]).tolist(), (-augmented[:, 1, 2]).tolist()]
            return zip(*columns, strict=True)
        return iter(augmented)

    def run(self, batches, record: bool = True, alphas: list[float] | None = None) -> np.ndarray | None:
        """One update per batch, at step `self.alpha`, or batch i at `alphas[i]` when given (a scheduled
        full-batch run: one batch per epoch); returns the parameters after each step, (steps, p), if
        `record`."""
        trace: list | None = [] if record else None
        with np.errstate(**QUIET):
            if alphas is None:
                self.carry = self._apply(batches, self.alpha, trace)
            elif self.floats:
                for batch, alpha in zip(batches, alphas, strict=True):
                    self.carry = self._apply((batch,), alpha, trace)
            else:  # one step per call: the registry's update costs less than a fused kernel's set-up
                theta, state = self.carry
                for augmented, alpha in zip(batches, alphas, strict=True):
                    theta, state = self.update(
                        augmented.dot(np.append(theta, 1.0)), state, theta, alpha, *self.hyper
                    )
                    if trace is not None:
                        trace.append(theta)
                self.carry = (theta, state)
        return None if trace is None else np.array(trace, dtype=np.float64).reshape(len(trace), -1)

    def _apply(self, batches, alpha: float, trace: list | None):
        """The new carry after one update per batch at step alpha: the fused kernel, or the registry."""
        if self.kernel is not None:
            return self.kernel(batches, self.carry, alpha, self.hyper, trace)
        step = _float_steps if self.floats else _array_steps
        return step(batches, self.carry, self.update, alpha, self.hyper, trace)

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
    """Numpy arrays: g = [H_B, -q_B] (theta, 1) = H_B theta - q_B, then
    (theta, state) = update(g, state, theta, alpha, *hyper)."""
    theta, state = carry
    with np.errstate(**QUIET):
        for augmented in batches:
            theta, state = update(augmented.dot(np.append(theta, 1.0)), state, theta, alpha, *hyper)
            if trace is not None:
                trace.append(theta)
    return theta, state


# --- mini-batches -------------------------------------------------------------------------------------


def _n_batches(n_samples: int, batch_size: int) -> int:
    return -(-n_samples // batch_size)


def _minibatch_chunks(
    X: np.ndarray,
    quadratic: Quadratic,
    start: StartPoint,
    entry: Optimizer,
    spec: RunSpec,
    recorder: StepRecorder | None,
    within: Callable[[float], object] | None = None,
    overflow: list[tuple[int, int]] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (loss, theta) chunks of epochs; each epoch is ceil(N / batch_size) steps over a fresh shuffle,
    all at that epoch's alpha_e. The optimizer works on the move delta = theta - theta_0; the batch
    gradients come from X and r_0. `within(e + k / n_batches)` is called after each group of batches
    that leaves epoch e unfinished (k of its n_batches done). When the parameters end an epoch
    non-finite, (epoch, step) (1-based, the step within that epoch after which they first were) is
    appended to `overflow`: that epoch is replayed from its saved start, every step kept, to find it."""
    batch_size = spec.batch_size
    rng = np.random.default_rng(spec.shuffle_seed)
    stepper = Stepper(entry, spec.alpha, spec.hyperparameters, np.zeros_like(start.theta))
    n_batches = _n_batches(X.shape[0], batch_size)
    per_chunk = max(1, CHUNK_STEPS // n_batches)
    statistics = BatchStatistics(X, start.residual, batch_size)
    alphas = None if spec.schedule.is_constant else spec.alphas().tolist()
    for first in range(0, spec.epochs, per_chunk):
        ends, finite = [], True
        for epoch in range(first, min(first + per_chunk, spec.epochs)):
            if alphas is not None:
                stepper.alpha = alphas[epoch]
            order = rng.permutation(X.shape[0])
            done = 0
            # the epoch's start, for finding the step that overflows (a float carry is immutable)
            before = stepper.carry if overflow is None or stepper.floats else _snapshot(stepper.carry)
            for augmented in _penalized(statistics.groups(order), quadratic, start):
                steps = stepper.run(stepper.augmented_batches(augmented), record=recorder is not None)
                if recorder is not None:
                    recorder.add(steps)
                done += augmented.shape[0]
                if within is not None and done < n_batches:
                    within(epoch + done / n_batches)
            ends.append(stepper.theta)
            finite = bool(np.isfinite(ends[-1]).all())
            if not finite:
                if overflow is not None:
                    groups = _penalized(statistics.groups(order), quadratic, start)
                    overflow.append((epoch + 1, _first_nonfinite(stepper, before, groups)))
                break
        yield _with_loss(quadratic, start, np.array(ends))
        if not finite:
            return


def _penalized(groups: Iterator[np.ndarray], quadratic: Quadratic, start: StartPoint) -> Iterator[np.ndarray]:
    """The batch statistics [H_B, -q_B] with the quadratic's ridge penalty lambda ||w||^2 added to each
    batch's loss: its gradient 2 lambda P (theta_0 + delta), P = diag(1, ..., 1, 0), is H_B += 2 lambda P
    and q_B -= 2 lambda P theta_0 (in place: the arrays are rebuilt for every group). Unchanged without
    one."""
    if not quadratic.l2:
        yield from groups
        return
    d = start.theta.shape[0] - 1
    for augmented in groups:
        augmented[:, np.arange(d), np.arange(d)] += 2.0 * quadratic.l2
        augmented[:, :d, d + 1] += 2.0 * quadratic.l2 * start.theta[:d]
        yield augmented


class BatchStatistics:
    """[H_B, -q_B] of the batches of a shuffled epoch, a group of batches at a time:
    H_B = (2/n_B) A_B^T A_B, q_B = (2/n_B) A_B^T r_B with A_B = [X_B, 1] and r the start's residual.

    A group's rows are gathered into G = [X_B, 1, -r_B] (about GROUP_FLOATS numbers at a time, never the
    whole data), and one batched product (2/n_B) G^T G holds both: its first p rows are [H_B, -q_B]. The
    buffers are made once per run and reused: a group's array is valid until the next is asked for.
    """

    def __init__(self, X: np.ndarray, residual: np.ndarray, batch_size: int):
        self.X, self.residual, self.batch_size = X, residual, batch_size
        n, d = X.shape
        p = d + 1
        rows = min(n, batch_size * max(1, GROUP_FLOATS // (batch_size * (p + 1) + (p + 1) ** 2)))
        self.group_rows = rows
        self.gathered = np.empty((rows, p + 1))
        self.gathered[:, d] = 1.0
        self.rows_of_X = np.empty((rows, d))  # a contiguous gather, then one copy: faster than a strided one
        self.transposed = np.empty((-(-rows // batch_size), p + 1, batch_size))
        self.products = np.empty((self.transposed.shape[0], p + 1, p + 1))

    def groups(self, order: np.ndarray) -> Iterator[np.ndarray]:
        """Yield [H_B, -q_B] (k, p, p + 1) for consecutive groups of k batches of the rows `order` (each
        batch's block contiguous); the last batch may be smaller."""
        d = self.X.shape[1]
        p, size = d + 1, self.batch_size
        for begin in range(0, order.shape[0], self.group_rows):
            rows = order[begin : begin + self.group_rows]
            m = rows.shape[0]
            gathered = self.gathered[:m]
            # mode="clip" (the rows are a permutation, always in range): with the default "raise" numpy
            # gathers into a temporary and then copies it to out
            gathered[:, :d] = np.take(self.X, rows, axis=0, out=self.rows_of_X[:m], mode="clip")
            np.take(self.residual, rows, out=gathered[:, p], mode="clip")
            np.negative(gathered[:, p], out=gathered[:, p])
            full = m // size
            if full:
                self._products(gathered[: full * size].reshape(full, size, p + 1), 0)
            if full * size < m:
                self._products(gathered[None, full * size :], full)
            yield self.products[: -(-m // size), :p, :]

    def _products(self, G: np.ndarray, first: int) -> None:
        """products[first : first + k] = (2/n_B) G_B^T G_B for batches stacked as G (k, n_B, p + 1)."""
        k, n_b = G.shape[0], G.shape[1]
        transposed = self.transposed[:k, :, :n_b] if n_b == self.batch_size else G.transpose(0, 2, 1).copy()
        if n_b == self.batch_size:
            np.copyto(transposed, G.transpose(0, 2, 1))
        out = self.products[first : first + k]
        np.matmul(transposed, G, out=out)
        out *= 2.0 / n_b


def _snapshot(carry):
    """A copy of an optimizer's carry (floats, arrays, tuples and NamedTuples of them) that later steps do
    not change."""
    if isinstance(carry, np.ndarray):
        return carry.copy()
    if isinstance(carry, (tuple, list)):
        parts = [_snapshot(part) for part in carry]
        return type(carry)(*parts) if hasattr(carry, "_fields") else type(carry)(parts)  # a NamedTuple state
    return carry


def _first_nonfinite(stepper: Stepper, before, groups: Iterable[np.ndarray]) -> int:
    """The 1-based step of an epoch after which the parameters were first non-finite: the epoch's groups
    of batches replayed from its start `before` with every step kept (the stepper's carry is restored)."""
    after, stepper.carry = stepper.carry, before
    done = 0
    for augmented in groups:
        steps = stepper.run(stepper.augmented_batches(augmented), record=True)
        bad = ~np.isfinite(steps).all(axis=1)
        if bad.any():
            done += int(np.argmax(bad)) + 1
            break
        done += steps.shape[0]
    stepper.carry = after
    return done


# --- recorded steps -----------------------------------------------------------------------------------


class StepRecorder:
    """Keeps every `stride`-th step of a run (stride = ceil(total steps / MAX_STEP_ROWS)), bounded in size.
    Steps arrive as moves from theta_0; `rows` gives the parameters."""

    def __init__(self, theta0: np.ndarray, total_steps: int):
        self.theta0 = theta0
        self.stride = max(1, math.ceil(total_steps / MAX_STEP_ROWS))
        self.seen = 0  # steps so far
        self.index: list[np.ndarray] = []
        self.kept: list[np.ndarray] = [np.zeros((1, theta0.shape[0]))]

    def add(self, steps: np.ndarray) -> None:
        """Record the moves after steps seen+1 .. seen+len(steps) whose number divides by stride."""
        numbers = np.arange(self.seen + 1, self.seen + 1 + steps.shape[0])
        keep = numbers % self.stride == 0
        self.index.append(numbers[keep])
        self.kept.append(steps[keep])
        self.seen += steps.shape[0]

    def rows(self, trajectory: Trajectory, n_batches: int) -> np.ndarray:
        """Start, kept steps within the epochs the trajectory kept, and its final state: (S, p)."""
        last = trajectory.epochs_run * n_batches
        index = np.concatenate([np.zeros(1, dtype=np.int64), *self.index])
        with np.errstate(**QUIET):
            theta = self.theta0 + np.concatenate(self.kept)[index <= last]
        theta[0] = self.theta0
        if index[index <= last][-1] != last:
            end = np.append(trajectory.weights[-1], trajectory.bias[-1])
            theta = np.vstack([theta, end])
        return theta

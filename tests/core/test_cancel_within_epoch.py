"""Progress and cancellation within a mini-batch epoch (issue 10 §2b): at a million rows and batch size 1
an epoch is a million steps, so `execute` also calls on_progress between groups of batches, about every
PROGRESS_EVERY_S seconds, with a fractional epochs_done; raising there stops the run mid-epoch, and the
calls change no number of a run that goes on."""

from __future__ import annotations

import time

import numpy as np
import pytest

import gdcore
from gdcore import stepping
from gdcore.stepping import BatchStatistics, execute


class Cancelled(Exception):
    pass


def checked(data):
    X, y = np.asarray(data.X, dtype=float), np.asarray(data.y, dtype=float)
    return X, y, gdcore.Quadratic.from_data(X, y)


@pytest.fixture
def small_groups(monkeypatch):
    """Groups of a few batches (many per epoch), chunks of two epochs, and a call after every group."""
    monkeypatch.setattr(stepping, "GROUP_FLOATS", 256)
    monkeypatch.setattr(stepping, "PROGRESS_EVERY_S", 0.0)
    n_batches = 400 // 4
    monkeypatch.setattr(stepping, "CHUNK_STEPS", 2 * n_batches)


def expected_calls(n_rows: int, batch: int, features: int, epochs: int, per_chunk: int) -> list[float]:
    """The calls a run must make with a call after every group: within epoch e, e + k / n_batches after
    each group that leaves it unfinished (k batches done), then the whole epochs at each chunk's end."""
    n_batches = -(-n_rows // batch)
    X = np.zeros((n_rows, features))
    per_group = BatchStatistics(X, np.zeros(n_rows), batch).group_rows // batch
    calls: list[float] = []
    for e in range(epochs):
        calls += [e + k / n_batches for k in range(per_group, n_batches, per_group)]
        if (e + 1) % per_chunk == 0 or e + 1 == epochs:
            calls.append(e + 1)
    return calls


@pytest.mark.parametrize("features", [1, 3])  # floats (d = 1) and arrays
@pytest.mark.parametrize("name", ["gd", "momentum", "adam", "rmsprop"])
def test_calls_within_epochs_change_no_number(small_groups, features, name):
    data = gdcore.make_data(n_samples=400, n_features=features, noise=5.0, seed=3)
    X, y, quadratic = checked(data)
    spec = gdcore.RunSpec(optimizer=name, alpha=1e-3, epochs=5, batch_size=4, shuffle_seed=2)
    calls: list[tuple[float, int]] = []
    reported = execute(
        X, y, spec, quadratic, True, on_progress=lambda done, total: calls.append((done, total))
    )
    plain = execute(X, y, spec, quadratic, True)
    for field in ("loss", "weights", "bias", "steps"):
        np.testing.assert_array_equal(getattr(reported, field), getattr(plain, field))
    done = [d for d, _ in calls]
    assert all(total == 5 for _, total in calls)
    assert BatchStatistics(X, y, 4).group_rows // 4 < 100  # several groups per epoch, so calls within
    assert done == expected_calls(400, 4, features, 5, per_chunk=2)
    assert any(0 < d < 1 for d in done) and done == sorted(set(done))


def test_a_cancel_within_an_epoch_stops_there(small_groups, monkeypatch):
    data = gdcore.make_data(n_samples=400, n_features=3, noise=5.0, seed=3)
    X, y, quadratic = checked(data)
    spec = gdcore.RunSpec(optimizer="adam", alpha=1e-3, epochs=3, batch_size=4)
    stepped: list[int] = []
    run = stepping.Stepper.run

    def counting(self, batches, record=True, **kwargs):
        batches = list(batches)
        stepped.append(len(batches))
        return run(self, iter(batches), record, **kwargs)

    monkeypatch.setattr(stepping.Stepper, "run", counting)
    calls: list[float] = []

    def cancel_at_third(done, total):
        calls.append(done)
        if len(calls) == 3:
            raise Cancelled

    with pytest.raises(Cancelled):
        execute(X, y, spec, quadratic, on_progress=cancel_at_third)
    per_group = BatchStatistics(X, y, 4).group_rows // 4
    assert calls == [per_group / 100, 2 * per_group / 100, 3 * per_group / 100]  # all within epoch 0
    assert sum(stepped) == 3 * per_group  # not a batch more was stepped after the cancel


def test_a_long_epoch_reports_every_tenth_of_a_second_or_so():
    """A million rows at batch size 1 (a million steps, about 0.7 s on the machine this was written on):
    calls come within the epoch, at least PROGRESS_EVERY_S apart (wall clock, the throttle's) and with
    never much more than that of work between them (CPU time: a loaded machine may pause the process)."""
    data = gdcore.make_data(n_samples=1_000_000, n_features=1, noise=5.0, seed=1)
    X, y, quadratic = checked(data)
    spec = gdcore.RunSpec(optimizer="adam", alpha=1e-4, epochs=1, batch_size=1)
    walls: list[float] = []
    works: list[float] = []
    calls: list[float] = []

    def record(done, total):
        walls.append(time.monotonic())
        works.append(time.process_time())
        calls.append(done)

    started = time.process_time()
    execute(X, y, spec, quadratic, on_progress=record)
    work = time.process_time() - started
    within = calls[:-1]
    assert calls[-1] == 1 and within and all(0 < d < 1 for d in within)
    assert (np.diff(walls[:-1]) >= stepping.PROGRESS_EVERY_S - 1e-3).all()  # read in the hook, just after
    gaps = np.diff(works[:-1])
    assert gaps.max(initial=0.0) < 0.5, gaps  # a group of batches is a few ms of work
    assert len(within) >= work / 0.5 - 2  # the epoch's calls cover it, not just its start


def test_cancelling_a_million_step_epoch_returns_within_a_fraction_of_it():
    data = gdcore.make_data(n_samples=1_000_000, n_features=1, noise=5.0, seed=1)
    X, y, quadratic = checked(data)
    spec = gdcore.RunSpec(optimizer="momentum", alpha=1e-4, epochs=2, batch_size=1)
    calls: list[float] = []

    def cancel(done, total):
        calls.append(done)
        raise Cancelled

    with pytest.raises(Cancelled):
        execute(X, y, spec, quadratic, on_progress=cancel)
    assert len(calls) == 1 and 0 < calls[0] < 1  # the first call, early in the first epoch

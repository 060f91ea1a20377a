"""The progress/cancel hook of `gdcore.run` and `gdcore.stepping.execute`: on_progress(epochs done, epochs
total) after each chunk of epochs, on every run path; an exception it raises abandons the run."""

from __future__ import annotations

import numpy as np
import pytest

import gdcore
from gdcore import stepping
from gdcore.stepping import execute
from gdcore.trajectory import CHUNK_EPOCHS

SMALL_CHUNK_STEPS = 1024  # mini-batch chunks of a few epochs here, so that a test needs few steps

PATHS = [
    ("gd", None),  # closed form
    ("nesterov", None),  # closed form, 2x2 matrices
    ("adam", None),  # stepped full batch
    ("momentum", 50),  # mini-batches
    ("adagrad", 1),
]


class Cancelled(Exception):
    pass


@pytest.fixture(scope="module")
def data():
    return gdcore.make_data(n_samples=400, n_features=2, seed=8)


@pytest.fixture(autouse=True)
def small_minibatch_chunks(monkeypatch):
    monkeypatch.setattr(stepping, "CHUNK_STEPS", SMALL_CHUNK_STEPS)


def epochs_for(batch, n):
    """Enough epochs for several chunks on each path."""
    if batch is None:
        return 3 * CHUNK_EPOCHS + 5
    return 3 * max(1, SMALL_CHUNK_STEPS // -(-n // batch)) + 2


@pytest.mark.parametrize(("name", "batch"), PATHS)
def test_progress_is_reported_after_each_chunk_up_to_the_total(data, name, batch):
    epochs = epochs_for(batch, len(data.y))
    spec = gdcore.RunSpec(optimizer=name, alpha=1e-4, epochs=epochs, batch_size=batch)
    calls = []
    run = gdcore.run(data.X, data.y, spec, on_progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 3
    assert all(total == epochs for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(set(done)) and done[-1] == epochs == run.epochs_run
    plain = gdcore.run(data.X, data.y, spec)
    np.testing.assert_array_equal(run.loss, plain.loss)


@pytest.mark.parametrize(("name", "batch"), PATHS)
def test_an_exception_from_the_hook_abandons_the_run(data, name, batch):
    epochs = epochs_for(batch, len(data.y))
    spec = gdcore.RunSpec(optimizer=name, alpha=1e-4, epochs=epochs, batch_size=batch)
    calls = []

    def cancel_at_second(done, total):
        calls.append(done)
        if len(calls) == 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        gdcore.run(data.X, data.y, spec, on_progress=cancel_at_second)
    assert len(calls) == 2 and calls[-1] < epochs  # nothing computed after the cancel
    quadratic = gdcore.Quadratic.from_data(data.X, data.y)
    X, y = np.asarray(data.X, dtype=float), np.asarray(data.y, dtype=float)
    with pytest.raises(Cancelled):
        execute(X, y, spec, quadratic, on_progress=lambda done, total: (_ for _ in ()).throw(Cancelled()))


def test_no_call_for_zero_epochs_and_a_stop_ends_the_calls(data):
    calls = []
    gdcore.run(data.X, data.y, gdcore.RunSpec(epochs=0), on_progress=lambda *a: calls.append(a))
    assert calls == []
    spec = gdcore.RunSpec(alpha=0.1, epochs=5 * CHUNK_EPOCHS, tol=1e-6)
    run = gdcore.run(data.X, data.y, spec, on_progress=lambda *a: calls.append(a))
    assert run.stop_reason == "converged" and len(calls) == 1  # stopped within the first chunk

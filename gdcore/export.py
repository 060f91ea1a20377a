"""Plain-text exports of a run: CSV of the trajectory and a Python snippet that reproduces it."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

import numpy as np

from gdcore.data import SyntheticSpec
from gdcore.spec import RunSpec
from gdcore.trajectory import Trajectory


def trajectory_table(trajectory: Trajectory) -> np.ndarray:
    """(K+1, d+3) array: epoch, loss, weights..., bias."""
    epochs = np.arange(trajectory.loss.shape[0], dtype=np.float64)
    return np.column_stack([epochs, trajectory.loss, trajectory.weights, trajectory.bias])


def trajectory_csv(trajectory: Trajectory, feature_names=None) -> str:
    """The whole trajectory as CSV text, full float precision (repr), epochs as integers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(trajectory.column_names(feature_names))
    for row in trajectory_table(trajectory):
        writer.writerow([int(row[0]), *(repr(float(v)) for v in row[1:])])
    return buffer.getvalue()


def runs_csv(runs: Mapping[str, Trajectory], feature_names=None) -> str:
    """Every run's whole trajectory in one CSV: a `run` column (its name), then each run's
    `trajectory_csv` columns (epoch, loss, weights..., bias), the runs one after another.
    ValueError if the runs do not have the same number of weights (they are runs on one data set)."""
    runs = dict(runs)
    if not runs:
        raise ValueError("no runs to write")
    widths = {run.n_features for run in runs.values()}
    if len(widths) > 1:
        raise ValueError(f"runs on one data set have the same number of weights; got {sorted(widths)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run", *next(iter(runs.values())).column_names(feature_names)])
    for name, trajectory in runs.items():
        for row in trajectory_table(trajectory):
            writer.writerow([name, int(row[0]), *(repr(float(v)) for v in row[1:])])
    return buffer.getvalue()


def reproduce_code(data: SyntheticSpec, spec: RunSpec) -> str:
    """A short, runnable Python script that rebuilds the data and the run and prints the blog's line.

    Only settings that differ from the defaults are written, so the blog's own run reads as the blog does.
    """
    data_args = ", ".join(f"{k}={v!r}" for k, v in data.changed().items())
    run_settings = spec.changed()
    if spec.optimizer != "gd":
        run_settings = {"optimizer": spec.optimizer} | run_settings
    run_args = "".join(f", {k}={v!r}" for k, v in run_settings.items())
    return (
        "try:\n"
        "    import gdcore\n"
        "except ImportError:  # gdcore is this project's library: install it once\n"
        "    raise SystemExit(\n"
        '        "gdcore is not installed. In a clone of the Gradient Descent Lab repository: pip install .  "\n'
        "        \"(or pip install 'gdcore @ git+<the repository URL>'); see its README.\"\n"
        "    ) from None\n\n"
        f"data = gdcore.make_data({data_args})\n"
        f"run = gdcore.descend(data.X, data.y{run_args})\n"
        "print(run.summary_line())\n"
    )

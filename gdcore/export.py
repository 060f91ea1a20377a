"""Plain-text exports of a run: CSV of the trajectory and a Python snippet that reproduces it."""

from __future__ import annotations

import csv
import io

import numpy as np

from gdcore.trajectory import Trajectory


def trajectory_columns(trajectory: Trajectory, feature_names=None) -> list[str]:
    """Column names: epoch, loss, one per weight (w or w_<feature>), bias."""
    d = trajectory.n_features
    if feature_names is None or len(feature_names) != d:
        weight_names = ["w"] if d == 1 else [f"w{i + 1}" for i in range(d)]
    else:
        weight_names = ["w"] if d == 1 else [f"w_{name}" for name in feature_names]
    return ["epoch", "loss", *weight_names, "bias"]


def trajectory_table(trajectory: Trajectory) -> np.ndarray:
    """(K+1, d+3) array: epoch, loss, weights..., bias."""
    epochs = np.arange(trajectory.loss.shape[0], dtype=np.float64)
    return np.column_stack([epochs, trajectory.loss, trajectory.weights, trajectory.bias])


def trajectory_csv(trajectory: Trajectory, feature_names=None) -> str:
    """The whole trajectory as CSV text, full float precision (repr), epochs as integers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(trajectory_columns(trajectory, feature_names))
    for row in trajectory_table(trajectory):
        writer.writerow([int(row[0]), *(repr(float(v)) for v in row[1:])])
    return buffer.getvalue()


def reproduce_code(data_kwargs: dict, descend_kwargs: dict) -> str:
    """A short, runnable Python script that rebuilds the data and the run and prints the blog's line."""
    data_args = ", ".join(f"{k}={v!r}" for k, v in data_kwargs.items())
    run_args = ", ".join(f"{k}={v!r}" for k, v in descend_kwargs.items())
    return (
        "import gdcore\n\n"
        f"data = gdcore.make_data({data_args})\n"
        f"run = gdcore.descend(data.X, data.y, {run_args})\n"
        "print(run.summary_line())\n"
    )

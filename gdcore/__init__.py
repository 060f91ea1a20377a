"""Gradient Descent Lab's library: data, losses and gradients, optimizers, runs, theory, exports.

The numerical core needs numpy, scikit-learn and pandas only. What the dashboard adds on top (settings,
experiments, status texts, Altair charts) lives in `gdcore.dashboard`, which the core never imports.

>>> import gdcore
>>> data = gdcore.make_data()                  # the blog's make_regression data
>>> run = gdcore.descend(data.X, data.y)       # alpha=0.01, 100 epochs, w0=1, b0=0
>>> run.summary_line()
'Best epoch: 100, Error: 378.512, Weights: 38.184, Bias: 0.451'
"""

from gdcore.csv_input import MAX_UPLOAD_MB, CsvError, CsvPreview, inspect_csv, read_csv
from gdcore.data import Dataset, SyntheticSpec, make_data
from gdcore.datasets import DATASET_NAMES, load_dataset, train_test_indices, train_test_split
from gdcore.engine import descend, run
from gdcore.export import reproduce_code, runs_csv, trajectory_csv
from gdcore.limits import StepLimits, forecast_epoch, limits_for, step_limits
from gdcore.model import Quadratic, gradient, mse
from gdcore.optimizers import OPTIMIZERS, Hyperparameter, Optimizer, get_optimizer
from gdcore.reference import blog_code_run, blog_printout, blog_shape_pitfall, reference_descend
from gdcore.scaling import Scaler, standardize
from gdcore.schedules import SCHEDULES, Schedule
from gdcore.scratch import scratch_script
from gdcore.spec import RunSpec
from gdcore.stepping import step_path
from gdcore.sweep import SweepResult, alpha_grid, measured_contraction, sweep
from gdcore.theory import Fit, Theory, analyze, analyze_quadratic, least_squares
from gdcore.trajectory import Trajectory

__all__ = [
    "DATASET_NAMES",
    "MAX_UPLOAD_MB",
    "OPTIMIZERS",
    "SCHEDULES",
    "CsvError",
    "CsvPreview",
    "Dataset",
    "Fit",
    "Hyperparameter",
    "Optimizer",
    "Quadratic",
    "RunSpec",
    "Scaler",
    "Schedule",
    "StepLimits",
    "SweepResult",
    "SyntheticSpec",
    "Theory",
    "Trajectory",
    "alpha_grid",
    "analyze",
    "analyze_quadratic",
    "blog_code_run",
    "blog_printout",
    "blog_shape_pitfall",
    "descend",
    "forecast_epoch",
    "get_optimizer",
    "gradient",
    "inspect_csv",
    "least_squares",
    "limits_for",
    "load_dataset",
    "make_data",
    "measured_contraction",
    "mse",
    "read_csv",
    "reference_descend",
    "reproduce_code",
    "run",
    "runs_csv",
    "scratch_script",
    "standardize",
    "step_limits",
    "step_path",
    "sweep",
    "train_test_indices",
    "train_test_split",
    "trajectory_csv",
]

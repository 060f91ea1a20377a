"""Several runs side by side: one row per run, the numbers a comparison needs. No Streamlit here.

The headline speaks for the first run; this table is where runs are compared, so every column is a plain
number (or text) that sorts: the optimizer and its settings, best and final loss, the test loss, the epoch
it reached the optimum (`Trajectory.epoch_reaching`, the one definition), why it stopped, and its
parameters against the least-squares optimum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gdcore.optimizers import OPTIMIZERS
from gdcore.theory import Fit
from gdcore.trajectory import Trajectory

STOP_WORDS = {
    "epochs": "ran all its epochs",
    "converged": "error stabilized (tol)",
    "diverged": "diverged",
}


def hyperparameter_text(run: Trajectory) -> str:
    """The optimizer's hyperparameters as 'beta=0.9' ('' for plain GD or a hand-made trajectory)."""
    if run.spec is None:
        return ""
    return ", ".join(f"{name}={value:g}" for name, value in run.spec.hyper)


def results_table(
    runs: Mapping[str, Trajectory],
    fit: Fit,
    test_losses: Mapping[str, np.ndarray] | None = None,
    parameter_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per run (in the runs' order), numeric columns as numbers so that the table sorts:

    run, optimizer, hyperparameters, alpha, the learning-rate schedule (only for a scheduled run), batch
    (0 = full batch), epochs run, best epoch, best MSE,
    final MSE, test MSE at the best epoch (NaN without a test set), the epoch it reached the optimum
    (closed 99.9% of its starting gap, `Trajectory.epoch_reaching`; NaN if it did not or it diverged),
    stop reason, and per parameter its best-epoch value and the difference from the optimum
    ("w", "w − w*", ..., "b", "b − b*"; names from `parameter_names`, default w1..wd and b).
    """
    test_losses = test_losses or {}
    optimum = np.append(fit.weights, fit.bias)
    rows = []
    for name, run in runs.items():
        spec = run.spec
        reached = None if run.diverged else run.epoch_reaching(fit.loss)
        names = list(parameter_names) if parameter_names else _default_names(run.n_features)
        row = {
            "run": name,
            "optimizer": OPTIMIZERS[spec.optimizer].display_name if spec is not None else name,
            "hyperparameters": hyperparameter_text(run),
            "α": spec.alpha if spec is not None else np.nan,
            # the steps a scheduled run took start at α: the schedule says the rest
            **(
                {"schedule": spec.schedule.describe()}
                if spec is not None and not spec.schedule.is_constant
                else {}
            ),
            "batch": (spec.batch_size or 0) if spec is not None else 0,
            "epochs run": run.epochs_run,
            "best epoch": run.best_epoch,
            "best MSE": run.best_loss,
            "final MSE": float(run.loss[-1]),
            "test MSE (best epoch)": (
                float(test_losses[name][run.best_epoch]) if name in test_losses else np.nan
            ),
            "reached optimum at epoch": np.nan if reached is None else reached,
            "stop reason": STOP_WORDS.get(run.stop_reason, run.stop_reason),
        }
        best = np.append(run.best_weights, run.best_bias)
        for k, parameter in enumerate(names):
            row[parameter] = float(best[k])
            row[f"{parameter} − {parameter}*"] = float(best[k] - optimum[k])
        rows.append(row)
    table = pd.DataFrame(rows)
    table["reached optimum at epoch"] = table["reached optimum at epoch"].astype("Int64")
    return table


def _default_names(n_features: int) -> list[str]:
    return (["w"] if n_features == 1 else [f"w{k + 1}" for k in range(n_features)]) + ["b"]

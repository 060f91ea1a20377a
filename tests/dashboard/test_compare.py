"""The results table and the all-runs CSV (issue 12 §4): one row per run, numbers that agree with literal
loops and numpy least squares, and one CSV with a run column that holds every run's whole trajectory."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import design_matrix
from sklearn.datasets import make_regression
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

import gdcore
from gdcore.dashboard import experiment
from gdcore.dashboard.compare import results_table

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
THREE = "gd,momentum,adam"


def literal_run(X, y, name, *, alpha, epochs, w0=1.0, b0=0.0, **hyper) -> tuple[np.ndarray, np.ndarray]:
    """(theta_t rows, loss_t) for t = 0..epochs: the registry's update rule in a plain loop on numpy's
    full-batch gradient -(2/N) A^T (y - A theta)."""
    entry = gdcore.OPTIMIZERS[name]
    A = design_matrix(X)
    theta = np.append(np.full(A.shape[1] - 1, w0), b0)
    state, rows = entry.init(theta), [theta]
    for _ in range(epochs):
        theta, state = entry.update(-2.0 / len(y) * A.T @ (y - A @ theta), state, theta, alpha, **hyper)
        rows.append(theta)
    theta = np.array(rows)
    return theta, np.mean((y[None, :] - theta @ A.T) ** 2, axis=1)


def lstsq(X, y) -> tuple[np.ndarray, float]:
    A = design_matrix(X)
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    return theta, float(np.mean((y - A @ theta) ** 2))


def first_epoch_closing(loss: np.ndarray, optimum: float, fraction: float = 0.999) -> float:
    """Written out: the first t with J_0 - J_t >= fraction (J_0 - J*), NaN if none."""
    for t, value in enumerate(loss):
        if loss[0] - value >= fraction * (loss[0] - optimum):
            return float(t)
    return float("nan")


@pytest.fixture(scope="module")
def blog_prepared():
    dataset = gdcore.make_data()
    return experiment.prepare(dataset, standardized=False, test_fraction=0.25, split_seed=42)


def test_one_row_per_run_matching_literal_loops(blog_prepared):
    prepared = blog_prepared
    plan = experiment.RunPlan.compare(("gd", "momentum", "adam"), alpha=0.1, epochs=200)
    runs = experiment.run_optimizers(prepared, plan)
    table = results_table(runs, prepared.fit, experiment.test_losses(prepared, runs), ["w", "b"])
    assert table["run"].tolist() == list(runs)
    assert table["optimizer"].tolist() == ["Gradient descent", "Momentum", "Adam"]
    assert table["hyperparameters"].tolist() == ["", "beta=0.9", "beta1=0.9, beta2=0.999, eps=1e-08"]
    X, y = prepared.train.X, prepared.train.y
    Xt, yt = prepared.test.X, prepared.test.y
    theta_star, mse_star = lstsq(X, y)
    for name in ("gd", "momentum", "adam"):
        theta, loss = literal_run(X, y, name, alpha=0.1, epochs=200)
        values = table.loc[table["optimizer"] == gdcore.OPTIMIZERS[name].display_name].iloc[0]
        best = int(values["best epoch"])  # converged to round-off, argmin may pick a neighbour: check J
        assert loss[best] == pytest.approx(loss.min(), rel=1e-9)
        assert values["best MSE"] == pytest.approx(loss[best], rel=1e-9)
        assert values["final MSE"] == pytest.approx(loss[-1], rel=1e-9)
        test_mse = float(np.mean((yt - design_matrix(Xt) @ theta[best]) ** 2))
        assert values["test MSE (best epoch)"] == pytest.approx(test_mse, rel=1e-9)
        expected_reach = first_epoch_closing(loss, mse_star)
        got = values["reached optimum at epoch"]
        assert (pd.isna(got) and np.isnan(expected_reach)) or got == expected_reach
        assert values["w"] == pytest.approx(theta[best, 0], rel=1e-9)
        assert values["w − w*"] == pytest.approx(theta[best, 0] - theta_star[0], rel=1e-6, abs=1e-9)
        assert values["b − b*"] == pytest.approx(theta[best, 1] - theta_star[1], rel=1e-6, abs=1e-9)
        assert values["stop reason"] == "ran all its epochs"
        assert values["α"] == 0.1 and values["batch"] == 0 and values["epochs run"] == 200


def test_a_diverged_run_says_so_and_has_no_reach_epoch(blog_prepared):
    prepared = blog_prepared
    alpha = 1.5 * prepared.theory.alpha_max
    runs = experiment.run_optimizers(prepared, experiment.RunPlan.compare(("gd",), alpha=alpha, epochs=50))
    table = results_table(runs, prepared.fit)
    assert table["stop reason"].iloc[0] == "diverged"
    assert pd.isna(table["reached optimum at epoch"].iloc[0])
    assert np.isnan(table["test MSE (best epoch)"].iloc[0])


def test_the_table_sorts_by_numbers(blog_prepared):
    prepared = blog_prepared
    plan = experiment.RunPlan.compare(("gd", "momentum", "nesterov"), alpha=0.3, epochs=100)
    table = results_table(experiment.run_optimizers(prepared, plan), prepared.fit)
    for column in ("best MSE", "final MSE", "best epoch", "α", "w − w*"):
        assert table[column].dtype.kind in "fi", column
    assert table["reached optimum at epoch"].dtype == "Int64"


def test_runs_csv_holds_every_trajectory(blog_prepared):
    prepared = blog_prepared
    plan = experiment.RunPlan.compare(("gd", "nesterov"), alpha=0.05, epochs=30)
    runs = experiment.run_optimizers(prepared, plan)
    table = pd.read_csv(io.StringIO(gdcore.runs_csv(runs)))
    assert list(table.columns) == ["run", "epoch", "loss", "w", "bias"]
    assert table["run"].unique().tolist() == list(runs)
    for name, rows in table.groupby("run", sort=False):
        _, loss = literal_run(
            prepared.train.X,
            prepared.train.y,
            "gd" if name == "Gradient descent" else "nesterov",
            alpha=0.05,
            epochs=30,
        )
        assert rows["epoch"].tolist() == list(range(31))
        np.testing.assert_allclose(rows["loss"], loss, rtol=1e-9)
        np.testing.assert_array_equal(rows["w"], runs[name].weights[:, 0])  # full precision, repr


def test_runs_csv_names_the_weights_of_several_features():
    dataset = gdcore.make_data(n_features=2)
    prepared = experiment.prepare(dataset, standardized=False, test_fraction=0.0, split_seed=0)
    runs = experiment.run_optimizers(prepared, experiment.RunPlan.compare(("gd", "adam"), epochs=3))
    table = pd.read_csv(io.StringIO(gdcore.runs_csv(runs, dataset.feature_names)))
    assert list(table.columns) == ["run", "epoch", "loss", *(f"w_{n}" for n in dataset.feature_names), "bias"]
    assert len(table) == 8


def test_runs_csv_refuses_nothing_to_write():
    with pytest.raises(ValueError, match="no runs"):
        gdcore.runs_csv({})


# ---------------------------------------------------------------- the page
@pytest.fixture(scope="module")
def deferred():
    files = {}
    original = MediaFileManager.add_deferred

    def recording(self, data_callable, *args, **kwargs):
        file_id = original(self, data_callable, *args, **kwargs)
        files[file_id] = data_callable
        return file_id

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MediaFileManager, "add_deferred", recording)
        yield files


def page(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def results_frame(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "reached optimum at epoch" in d.value.columns)


def open_results(at: AppTest) -> AppTest:
    """Open the results table's expander, as a click does (closed, it is not built)."""
    at.session_state["results_open"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_table_and_download_cover_every_run(deferred):
    at = page({"optimizers": THREE, "alpha": "0.1", "epochs": "300"})
    table = results_frame(at)
    assert table["optimizer"].tolist() == ["Gradient descent", "Momentum", "Adam"]
    assert "test MSE (best epoch)" not in table.columns  # no test rows: no empty column
    X, y = make_regression(n_samples=100, n_features=1, noise=20, random_state=42)
    _, mse_star = lstsq(X, y)
    for name, (_, row) in zip(("gd", "momentum", "adam"), table.iterrows(), strict=True):
        _, loss = literal_run(X, y, name, alpha=0.1, epochs=300)
        assert row["best MSE"] == pytest.approx(loss.min(), rel=1e-9)
        expected = first_epoch_closing(loss, mse_star)
        assert (pd.isna(row["reached optimum at epoch"]) and np.isnan(expected)) or (
            row["reached optimum at epoch"] == expected
        )
    button = at.get_by_key("download_runs_csv").proto
    content = deferred[button.deferred_file_id]()
    content = content if isinstance(content, str) else content.decode()
    csv = pd.read_csv(io.StringIO(content))
    assert csv["run"].unique().tolist() == ["Gradient descent", "Momentum", "Adam"]
    assert len(csv) == 3 * 301


def test_a_single_run_keeps_its_table_closed_until_opened():
    at = page({})
    assert not [d for d in at.dataframe if "reached optimum at epoch" in d.value.columns]
    assert len(results_frame(open_results(at))) == 1


def test_page_table_has_the_test_column_with_a_split():
    at = open_results(page({"test_fraction": "0.2"}))
    table = results_frame(at)
    assert len(table) == 1 and not pd.isna(table["test MSE (best epoch)"].iloc[0])

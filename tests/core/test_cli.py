"""`python -m gdcore`, run as a user runs it (a subprocess with this interpreter): the blog's line first,
--csv and --json whose numbers match `descend`, and bad input that exits 2 with one line, no traceback."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import BLOG_LINE, REPO_ROOT, gdcore_cli, lstsq_optimum

import gdcore
from gdcore.cli import main

# (flags, a fragment of the one-line error: usually the bad value)
BAD_INVOCATIONS = {
    "negative alpha": (["--alpha", "-1"], "-1.0"),
    "zero alpha": (["--alpha", "0"], "0.0"),
    "nan alpha": (["--alpha", "nan"], "nan"),
    "text alpha": (["--alpha", "fast"], "'fast'"),
    "negative epochs": (["--epochs", "-5"], "-5"),
    "fractional epochs": (["--epochs", "1.5"], "'1.5'"),
    "too many epochs": (["--epochs", "1000001"], "1,000,001"),
    "one sample": (["--samples", "1"], "got 1"),
    "too many features": (["--features", "51"], "51"),
    "negative noise": (["--noise", "-1"], "-1.0"),
    "negative seed": (["--seed", "-1"], "-1"),
    "seed too large": (["--seed", "4294967296"], "4,294,967,296"),
    "zero tol": (["--tol", "0"], "0.0"),
    "infinite w0": (["--w0", "inf"], "inf"),
    "nan b0": (["--b0", "nan"], "nan"),
    "overflowing start": (["--w0", "1e200"], "1e+200"),
    "unknown flag": (["--bogus"], "--bogus"),
    "stray argument": (["extra"], "extra"),
    "missing value": (["--alpha"], "--alpha"),
    "unwritable csv": (["--csv", "/nonexistent-dir/run.csv"], "/nonexistent-dir/run.csv"),
}


# One of each kind of failure, run as real subprocesses (each costs an interpreter start-up).
SUBPROCESS_CASES = [
    "negative alpha",
    "fractional epochs",
    "one sample",
    "overflowing start",
    "unknown flag",
    "unwritable csv",
]


@pytest.fixture(scope="module")
def bad_invocation_results() -> dict[str, tuple[int, str, str]]:
    """Run the subprocess cases at once, in parallel."""
    running = {
        name: subprocess.Popen(
            [sys.executable, "-m", "gdcore", *BAD_INVOCATIONS[name][0]],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in SUBPROCESS_CASES
    }
    results = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=120)
        results[name] = (process.returncode, stdout, stderr)
    return results


def main_in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    """gdcore.cli.main as `python -m gdcore` calls it: the exit code, stdout and stderr."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(returncode: int, stdout: str, stderr: str, fragment: str) -> None:
    assert returncode == 2
    assert stdout == ""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]


@pytest.fixture(scope="module")
def default_run() -> subprocess.CompletedProcess:
    return gdcore_cli()


def test_default_output_starts_with_the_blog_line(default_run):
    assert default_run.returncode == 0, default_run.stderr
    assert default_run.stdout.splitlines()[0] == BLOG_LINE
    assert default_run.stderr == ""


def test_default_output_reports_optimum_stop_reason_and_alpha_max(default_run, blog_data):
    lines = default_run.stdout.splitlines()
    w_star, b_star, mse_star = lstsq_optimum(blog_data.X, blog_data.y)
    assert lines[1] == f"Least squares: Error: {mse_star:.3f}, Weights: {w_star[0]:.3f}, Bias: {b_star:.3f}"
    assert "Error: 312.217, Weights: 47.133, Bias: 2.330" in lines[1]
    assert lines[2] == "Stopped: epochs after 100 epochs"
    assert lines[3].startswith("alpha_max: 0.954")


def test_several_features_print_a_list_of_weights():
    result = gdcore_cli("--features", "3", "--seed", "5", "--epochs", "30")
    assert result.returncode == 0, result.stderr
    data = gdcore.make_data(n_features=3, seed=5)
    run = gdcore.descend(data.X, data.y, epochs=30)
    weights = ", ".join(f"{w:.3f}" for w in run.best_weights)
    assert result.stdout.splitlines()[0] == (
        f"Best epoch: {run.best_epoch}, Error: {run.best_loss:.3f}, Weights: [{weights}], Bias: {run.best_bias:.3f}"
    )


def test_tol_flag_stops_with_converged():
    result = gdcore_cli("--tol", "1e-6", "--epochs", "100000")
    data = gdcore.make_data()
    run = gdcore.descend(data.X, data.y, epochs=100_000, tol=1e-6)
    assert result.returncode == 0, result.stderr
    assert f"Stopped: converged after {run.epochs_run} epochs" in result.stdout


def test_large_alpha_reports_divergence_and_exits_0():
    result = gdcore_cli("--alpha", "1.5", "--epochs", "10000")
    assert result.returncode == 0, result.stderr
    assert "Stopped: diverged" in result.stdout
    assert "Warning" not in result.stderr


@pytest.mark.parametrize("n_features", [1, 2])
def test_csv_rows_match_descend(tmp_path, n_features):
    path = tmp_path / "run.csv"
    result = gdcore_cli(
        "--csv", str(path), "--features", str(n_features), "--epochs", "40", "--alpha", "0.05"
    )
    assert result.returncode == 0, result.stderr
    assert str(path) in result.stdout.splitlines()[-1]
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    weight_columns = ["w"] if n_features == 1 else [f"w_x{i + 1}" for i in range(n_features)]
    assert rows[0] == ["epoch", "loss", *weight_columns, "bias"]
    table = np.array(rows[1:], dtype=np.float64)
    data = gdcore.make_data(n_features=n_features)
    run = gdcore.descend(data.X, data.y, epochs=40, alpha=0.05)
    np.testing.assert_array_equal(table[:, 0], np.arange(41))
    np.testing.assert_allclose(table[:, 1], run.loss, rtol=1e-15)
    np.testing.assert_allclose(table[:, 2:-1], run.weights, rtol=1e-15)
    np.testing.assert_allclose(table[:, -1], run.bias, rtol=1e-15)


def test_json_is_one_object_matching_descend_and_theory(blog_data):
    result = gdcore_cli("--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    run = gdcore.descend(blog_data.X, blog_data.y)
    assert report["best_epoch"] == 100 and report["epochs_run"] == 100
    assert report["error"] == pytest.approx(run.best_loss, rel=1e-15)
    assert report["weights"] == pytest.approx(run.best_weights.tolist(), rel=1e-15)
    assert report["bias"] == pytest.approx(run.best_bias, rel=1e-15)
    assert report["stop_reason"] == "epochs" and report["diverged"] is False
    w_star, b_star, mse_star = lstsq_optimum(blog_data.X, blog_data.y)
    assert report["optimum"]["weights"] == pytest.approx(w_star.tolist(), rel=1e-9)
    assert report["optimum"]["bias"] == pytest.approx(b_star, rel=1e-9)
    assert report["optimum"]["error"] == pytest.approx(mse_star, rel=1e-9)
    assert round(report["alpha_max"], 3) == 0.954


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_bad_input_exits_2_with_one_line_and_no_traceback(bad_invocation_results, case):
    assert_one_line_error(*bad_invocation_results[case], BAD_INVOCATIONS[case][1])


@pytest.mark.parametrize("case", list(BAD_INVOCATIONS))
def test_every_bad_input_gives_exit_code_2_and_one_line_in_process(capsys, case):
    flags, fragment = BAD_INVOCATIONS[case]
    assert_one_line_error(*main_in_process(flags, capsys), fragment)


def test_help_exits_0(capsys):
    code, out, _ = main_in_process(["--help"], capsys)
    assert code == 0
    assert "--alpha" in out and "--csv" in out and "--json" in out

"""The from-scratch script (issue 12 §5): run as a learner runs it, in a fresh interpreter where only numpy
and scikit-learn (and what they need) can be imported, it prints the lab's best-epoch line.

The script is an independent implementation (residuals on the rows, an update loop per batch); the lab
computes the same runs from sufficient statistics and closed forms. They must agree.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

import pytest
from conftest import BLOG_LINE

import gdcore
from gdcore.scratch import scratch_script

# Runs the script at argv[1] with every import of gdcore, pandas and the dashboard's packages refused.
BLOCKED_RUNNER = textwrap.dedent(
    """
    import runpy, sys

    BLOCKED = {"gdcore", "pandas", "streamlit", "altair", "pyarrow"}

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"{name} is not available to a from-scratch script")
            return None

    sys.meta_path.insert(0, Refuse())
    runpy.run_path(sys.argv[1], run_name="__main__")
    """
)


def run_script(text: str, tmp_path) -> list[str]:
    path = tmp_path / "descent_from_scratch.py"
    path.write_text(text)
    done = subprocess.run(
        [sys.executable, "-I", "-c", BLOCKED_RUNNER, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,  # not the repository: gdcore is not on the path
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def lab_run(data, spec: gdcore.RunSpec, standardized=False, test_fraction=0.0, split_seed=0):
    """The lab's run of the same experiment, from gdcore's public functions: (trajectory, test set)."""
    dataset = data.make() if isinstance(data, gdcore.SyntheticSpec) else gdcore.load_dataset(data)
    train, test = gdcore.train_test_split(dataset, test_fraction, split_seed)
    if standardized:
        train, scaler = gdcore.standardize(train)
        if test.n_samples:
            test, _ = gdcore.standardize(test, scaler)
    return gdcore.run(train.X, train.y, spec), test


BLOG = gdcore.SyntheticSpec()
CASES = {
    "blog, GD": (BLOG, gdcore.RunSpec()),
    "momentum": (BLOG, gdcore.RunSpec(optimizer="momentum", alpha=0.1, epochs=60)),
    "nesterov": (BLOG, gdcore.RunSpec(optimizer="nesterov", alpha=0.05, epochs=60, hyper=(("beta", 0.8),))),
    "adagrad": (BLOG, gdcore.RunSpec(optimizer="adagrad", alpha=1.0, epochs=100)),
    "rmsprop": (BLOG, gdcore.RunSpec(optimizer="rmsprop", alpha=0.1, epochs=100)),
    "adam": (BLOG, gdcore.RunSpec(optimizer="adam", alpha=0.5, epochs=100)),
    "GD, batch 32": (BLOG, gdcore.RunSpec(alpha=0.05, epochs=20, batch_size=32)),
    "GD, batch 1": (BLOG, gdcore.RunSpec(alpha=0.01, epochs=10, batch_size=1, shuffle_seed=7)),
    "momentum, batch 32": (BLOG, gdcore.RunSpec(optimizer="momentum", alpha=0.01, epochs=20, batch_size=32)),
    "nesterov, batch 16": (BLOG, gdcore.RunSpec(optimizer="nesterov", alpha=0.01, epochs=20, batch_size=16)),
    "adam, batch 32": (BLOG, gdcore.RunSpec(optimizer="adam", alpha=0.1, epochs=30, batch_size=32)),
    "three features, start per weight": (
        gdcore.SyntheticSpec(n_samples=200, n_features=3, noise=5.0, seed=3, intercept=7.0),
        gdcore.RunSpec(alpha=0.2, epochs=40, w0=(1.0, -2.0, 0.5), b0=3.0),
    ),
    "diverges and overflows": (BLOG, gdcore.RunSpec(alpha=5.0, epochs=1000)),
    "stops by tol": (BLOG, gdcore.RunSpec(alpha=0.1, epochs=1000, tol=1e-4)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_script_prints_the_labs_line(case, tmp_path):
    data, spec = CASES[case]
    lines = run_script(scratch_script(data, spec), tmp_path)
    run, _ = lab_run(data, spec)
    assert lines[-1] == run.summary_line()
    if run.stop_reason == "diverged" and run.epochs_run < spec.epochs:
        # Where float64 overflows depends on how J is summed (residuals here, statistics in the lab).
        assert lines[0].startswith("Diverged: the numbers overflowed in epoch ")
        assert abs(int(lines[0].rsplit(" ", 1)[1]) - (run.epochs_run + 1)) <= 1
    if run.stop_reason == "converged":
        assert lines[0] == f"The error stabilized after epoch {run.epochs_run}"


def test_the_blog_settings_print_the_blog_line(tmp_path):
    assert run_script(scratch_script(BLOG, gdcore.RunSpec()), tmp_path) == [BLOG_LINE]


def test_diabetes_standardized_with_a_test_split(tmp_path):
    spec = gdcore.RunSpec(optimizer="momentum", alpha=0.1, epochs=500, tol=1e-6)
    text = scratch_script("diabetes", spec, standardized=True, test_fraction=0.2, split_seed=42)
    lines = run_script(text, tmp_path)
    run, test = lab_run("diabetes", spec, standardized=True, test_fraction=0.2, split_seed=42)
    assert lines[-2] == run.summary_line()
    test_mse = gdcore.mse(test.X, test.y, run.best_weights, run.best_bias)
    assert lines[-1] == f"Test MSE at the best epoch: {test_mse:.3f}"


def test_the_script_imports_only_numpy_and_scikit_learn():
    for data, spec in CASES.values():
        tree = ast.parse(scratch_script(data, spec))
        roots = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots.add(node.module.partition(".")[0])
        assert roots <= {"numpy", "sklearn"}, roots


def test_an_uploaded_file_cannot_be_rebuilt():
    with pytest.raises(ValueError, match="not an uploaded file"):
        scratch_script("my.csv", gdcore.RunSpec())


def test_bad_test_fraction_is_refused():
    with pytest.raises(ValueError, match="test_fraction"):
        scratch_script(BLOG, gdcore.RunSpec(), test_fraction=0.9)

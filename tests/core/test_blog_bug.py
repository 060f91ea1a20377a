"""The blog's code as published, bugs kept: `gdcore.reference.blog_code_run` and `python -m gdcore --blog-bug`.

The reference is the blog post's own code block, copied below character for character and run in a
subprocess as the post publishes it; `blog_code_run` (which never builds the N x N matrix) is checked
against it and against a literal broadcast loop on random data.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
from gdcore.reference import blog_code_run, blog_printout

# The seed's printout of its own code (the issue quotes it; the subprocess below reproduces it).
BLOG_BUG_LINE = "Best epoch: 1, Error: 213166.221, Weights: -0.41, Bias: -0.233"

# The code block of "Understanding Gradient Descent from Scratch", exactly as published.
BLOG_CODE = """import numpy as np
from sklearn.datasets import make_regression

# Generate synthetic linear data
X, y = make_regression(n_samples=100, n_features=1, noise=20, random_state=42)

# Hyperparameters
alpha = 0.01  # learning rate
epochs = range(100)
weights = 1
bias = 0

# Track progress
error_mat = []
weights_mat = []
bias_mat = []

def weight_bias_derivative(alpha, X, Y, weights, bias):
    N = len(X)
    Y_pred = X * weights + bias
    error = float(np.sum((Y - Y_pred)**2) / N)

    # Gradients
    dw = (-2 / N) * np.sum((Y - Y_pred) * X)
    db = (-2 / N) * np.sum(Y - Y_pred)

    # Update parameters
    weights = weights - alpha * dw
    bias = bias - alpha * db

    return error, weights, bias

# Run gradient descent
for i in epochs:
    error, weights, bias = weight_bias_derivative(alpha, X, y, weights, bias)
    error_mat.append(round(error, 3))
    weights_mat.append(round(weights, 3))
    bias_mat.append(round(bias, 3))

# Best result
i = error_mat.index(min(error_mat))
print(f"Best epoch: {i}, Error: {error_mat[i]}, Weights: {weights_mat[i]}, Bias: {bias_mat[i]}")
"""


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True, cwd=REPO_ROOT
    )
    return done.stdout


@pytest.fixture(scope="module")
def published_lists() -> dict[str, list[float]]:
    """The blog's code run as published, with its three lists (unrounded) printed after its own line."""
    unrounded = BLOG_CODE.replace(
        "    error_mat.append(round(error, 3))",
        "    raw.append((error, float(weights), float(bias)))\n    error_mat.append(round(error, 3))",
    ).replace("# Track progress\n", "# Track progress\nraw = []\n")
    lines = run_python(unrounded + "print(repr(raw))\n").splitlines()
    raw = ast.literal_eval(lines[1])  # our own printout of three lists of floats
    return {
        "line": lines[0],
        "error": [r[0] for r in raw],
        "w": [r[1] for r in raw],
        "b": [r[2] for r in raw],
    }


def literal_broadcast_run(X, y, alpha, epochs, w, b):
    """The blog's function body, numpy broadcast and all, kept apart from gdcore: (errors, ws, bs)."""
    errors, ws, bs = [], [], []
    Y = y
    N = len(X)
    for _ in range(epochs):
        Y_pred = X * w + b
        errors.append(float(np.sum((Y - Y_pred) ** 2) / N))
        dw = (-2 / N) * np.sum((Y - Y_pred) * X)
        db = (-2 / N) * np.sum(Y - Y_pred)
        w, b = w - alpha * dw, b - alpha * db
        ws.append(float(w))
        bs.append(float(b))
    return errors, ws, bs


def test_the_published_code_prints_the_seed_line():
    assert run_python(BLOG_CODE).strip() == BLOG_BUG_LINE


def test_blog_code_run_reproduces_the_published_run(published_lists):
    data = gdcore.make_data()
    run = blog_code_run(data.X, data.y)
    assert blog_printout(run) == published_lists["line"] == BLOG_BUG_LINE
    assert run.loss.shape == (100,) and run.weights.shape == (100, 1) and run.bias.shape == (100,)
    np.testing.assert_allclose(run.loss, published_lists["error"], rtol=1e-12)
    np.testing.assert_allclose(run.weights[:, 0], published_lists["w"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(run.bias, published_lists["b"], rtol=1e-10, atol=1e-12)


def test_the_pairing_is_the_blogs():
    """error_mat[i] is measured at the parameters before update i; weights_mat[i] is after it."""
    data = gdcore.make_data()
    run = blog_code_run(data.X, data.y, epochs=5)
    x, y = data.X[:, 0], data.y
    for i in range(1, 5):
        w, b = run.weights[i - 1, 0], run.bias[i - 1]  # the parameters after update i - 1
        broadcast_error = np.mean((y[None, :] - (x * w + b)[:, None]) ** 2) * len(x)
        assert run.loss[i] == pytest.approx(broadcast_error, rel=1e-12)


def test_the_blog_error_is_not_the_mse():
    data = gdcore.make_data()
    run = blog_code_run(data.X, data.y, epochs=1)
    assert run.loss[0] > 100 * gdcore.mse(data.X, data.y, np.array([1.0]), 0.0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 40),
    seed=st.integers(0, 10_000),
    alpha=st.floats(1e-4, 0.05),
    w0=st.floats(-5, 5),
    b0=st.floats(-5, 5),
    epochs=st.integers(1, 30),
)
def test_matches_the_literal_broadcast(n, seed, alpha, w0, b0, epochs):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 1))
    y = 3.0 * X[:, 0] + rng.normal(size=n)
    errors, ws, bs = literal_broadcast_run(X, y, alpha, epochs, w0, b0)
    if not np.isfinite([*errors, *ws, *bs]).all():
        return
    run = blog_code_run(X, y, alpha=alpha, epochs=epochs, w0=w0, b0=b0)
    scale = max(1.0, *np.abs(ws), *np.abs(bs))
    np.testing.assert_allclose(run.loss, errors, rtol=1e-9, atol=1e-9 * max(errors))
    np.testing.assert_allclose(run.weights[:, 0], ws, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(run.bias, bs, rtol=1e-9, atol=1e-9 * scale)


def test_a_long_run_stops_at_the_first_overflow():
    data = gdcore.make_data()
    run = blog_code_run(data.X, data.y, epochs=100_000)
    assert run.diverged and run.stop_reason == "diverged"
    assert 100 < run.loss.size < 100_000
    assert np.isfinite(run.loss).all() and np.isfinite(run.weights).all() and np.isfinite(run.bias).all()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"epochs": 0}, "at least 1 epoch"), ({"alpha": -1.0}, "-1.0"), ({"w0": float("nan")}, "nan")],
)
def test_bad_settings_say_what_was_wrong(kwargs, fragment):
    data = gdcore.make_data()
    with pytest.raises(ValueError, match=fragment):
        blog_code_run(data.X, data.y, **kwargs)


def test_more_than_one_feature_is_refused():
    data = gdcore.make_data(n_features=2)
    with pytest.raises(ValueError, match="one feature only"):
        blog_code_run(data.X, data.y)


def test_command_line_prints_the_blog_line():
    done = subprocess.run(
        [sys.executable, "-m", "gdcore", "--blog-bug"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == BLOG_BUG_LINE


@pytest.mark.parametrize("extra", [["--features", "2"], ["--json"], ["--tol", "1e-6"]])
def test_command_line_refuses_what_it_cannot_do(extra, capsys):
    from gdcore.cli import main

    assert main(["--blog-bug", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1

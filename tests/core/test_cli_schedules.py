"""`python -m gdcore --schedule NAME --<parameter> ...`, run as a user runs it: the JSON's run and steps
match a literal loop with the schedule written here; bad schedule flags exit 2 with one line naming the
value, no traceback."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import gdcore_cli
from sklearn.datasets import make_regression


def literal_gd(alphas, w=1.0, b=0.0):
    """The blog's data (make_regression, 100 rows, noise 20, seed 42) and plain GD, epoch e at alphas[e]."""
    X, y = make_regression(n_samples=100, n_features=1, noise=20, random_state=42)
    x = X[:, 0]
    losses = [float(np.mean((y - x * w - b) ** 2))]
    for alpha in alphas:
        r = y - (x * w + b)
        w, b = w + alpha * 2 * np.mean(x * r), b + alpha * 2 * np.mean(r)
        losses.append(float(np.mean((y - x * w - b) ** 2)))
    return w, b, losses


def test_json_reports_the_scheduled_run():
    out = gdcore_cli("--json", "--alpha", "0.3", "--epochs", "40", "--schedule", "cosine", "--T-max", "40")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["schedule"] == {"name": "cosine", "T_max": 40, "eta_min": 0.0}
    alphas = [0.3 * (1 + math.cos(math.pi * e / 40)) / 2 for e in range(40)]
    w, b, losses = literal_gd(alphas)
    assert result["weights"][0] == pytest.approx(w, rel=1e-10)
    assert result["bias"] == pytest.approx(b, rel=1e-9, abs=1e-12)
    assert result["error"] == pytest.approx(min(losses), rel=1e-10)
    assert result["alphas"]["first"] == pytest.approx(0.3)
    assert result["alphas"]["last"] == pytest.approx(alphas[-1], rel=1e-12)
    assert result["alphas"]["min"] == pytest.approx(min(alphas), rel=1e-12)


def test_step_decay_flags_and_default_schedule():
    out = gdcore_cli("--json", "--epochs", "25", "--schedule", "step", "--step-size", "10", "--gamma", "0.5")
    result = json.loads(out.stdout)
    alphas = [0.01 * 0.5 ** (e // 10) for e in range(25)]
    w, _, _ = literal_gd(alphas)
    assert result["weights"][0] == pytest.approx(w, rel=1e-10)
    assert result["alphas"]["last"] == pytest.approx(0.0025)
    plain = json.loads(gdcore_cli("--json").stdout)
    assert plain["schedule"] == {"name": "constant"}
    assert plain["alphas"]["first"] == plain["alphas"]["last"] == 0.01


def test_text_output_names_the_schedule_and_what_alpha_max_is_for():
    out = gdcore_cli("--schedule", "linear", "--start-factor", "0.5", "--total-iters", "4", "--epochs", "10")
    assert out.returncode == 0, out.stderr
    assert "Schedule: linear (start_factor=0.5, end_factor=1, total_iters=4)" in out.stdout
    assert "alpha from 0.005 (epoch 1) to 0.01 (epoch 10)" in out.stdout
    assert "for a constant step" in out.stdout
    assert "Schedule" not in gdcore_cli("--epochs", "3").stdout


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--schedule", "warmup"], "'warmup'"),
        (["--schedule", "step", "--step-size", "0"], "got 0"),
        (["--schedule", "step", "--step-size", "2.5"], "2.5"),
        (["--schedule", "exponential", "--gamma", "1.5"], "1.5"),
        (["--schedule", "cosine", "--gamma", "0.5"], "gamma"),
        (["--gamma", "0.5"], "gamma"),  # a parameter without its schedule
        (["--schedule", "cosine", "--eta-min", "nan"], "nan"),
        (["--schedule", "linear", "--end-factor", "2"], "2.0"),
        (["--schedule", "step", "--gamma", "half"], "'half'"),
        (["--blog-bug", "--schedule", "step"], "--schedule"),
    ],
)
def test_bad_schedule_flags_exit_2_with_one_line(flags, fragment):
    out = gdcore_cli(*flags)
    assert out.returncode == 2
    assert out.stdout == ""
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert fragment in out.stderr

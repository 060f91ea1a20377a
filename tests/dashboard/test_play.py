"""Play the descent (issue 12 §1), without a browser: the fit chart and the landscape carry the play
controls (Play, Speed, the epoch slider that is also where play starts) and a timer-driven play head;
their frames are bounded and keep every run's first, best and last epoch; the landscape's moving points
are where a literal gradient-descent loop puts them. tests/browser/test_browser_play.py watches them move.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import literal_gd

import gdcore
from gdcore.dashboard import charts, experiment


@pytest.fixture(scope="module")
def blog():
    return experiment.prepare(gdcore.make_data(), standardized=False, test_fraction=0.0, split_seed=42)


def params(spec: charts.ChartSpec) -> dict[str, dict]:
    return {p["name"]: p for p in spec.vega_lite()["params"]}


def assert_play_controls(spec: charts.ChartSpec, last: int) -> None:
    p = params(spec)
    assert p["playing"]["bind"]["input"] == "checkbox" and p["playing"]["value"] is False
    assert p["seconds"]["bind"]["options"] == list(charts.PLAY_SECONDS)
    assert p["epoch"]["bind"]["input"] == "range" and p["epoch"]["bind"]["max"] == last
    assert p["last_epoch"]["value"] == last
    clock = p["clock"]["select"]
    assert clock["on"]["stream"] == {"type": "timer"} and clock["on"]["throttle"] == charts.PLAY_TICK_MS
    assert "playing" in clock["toggle"] and "epoch" in clock["toggle"]
    spec.chart.to_dict()  # the template passes Vega-Lite's schema


def test_both_charts_carry_play_controls(blog):
    runs = {
        name: gdcore.descend(blog.train.X, blog.train.y, optimizer=name, epochs=300)
        for name in ("gd", "momentum", "adam")
    }
    first = runs["gd"]
    points, lines, best_line = charts.fit_tables(blog.train.X[:, 0], blog.train.y, first, blog.fit)
    assert_play_controls(charts.fit_chart(points, lines, best_line, first.best_epoch), 300)
    view = experiment.landscape_view(blog, runs, 0, 1)
    contours, path, marks = charts.landscape_tables(view, 800)
    landscape = charts.landscape_chart(contours, path, marks, view.bounds, "w", "b")
    assert_play_controls(landscape, 300)
    assert params(landscape)["epoch"]["value"] == 300  # the whole path, the point at its end


@pytest.mark.parametrize("epochs", [100, 20_000])
def test_frames_are_bounded_and_keep_first_best_last(blog, epochs):
    names = ("gd", "momentum", "nesterov", "adam")
    runs = {n: gdcore.descend(blog.train.X, blog.train.y, optimizer=n, epochs=epochs) for n in names}
    view = experiment.landscape_view(blog, runs, 0, 1)
    _, path, _ = charts.landscape_tables(view, 800)
    assert len(path) <= charts.MAX_CHART_ROWS
    for name, run in runs.items():
        drawn = set(path.loc[(path["run"] == name) & path["dot"], "epoch"].astype(int))
        assert {0, run.best_epoch, run.epochs_run} <= drawn, name
    first = runs["gd"]
    _, lines, _ = charts.fit_tables(blog.train.X[:, 0], blog.train.y, first, blog.fit)
    assert len(lines) <= charts.MAX_CHART_ROWS
    assert {0, first.best_epoch, first.epochs_run} <= set(lines["epoch"])


def test_the_moving_point_is_where_a_literal_loop_puts_it(blog):
    run = gdcore.descend(blog.train.X, blog.train.y, epochs=100)
    view = experiment.landscape_view(blog, {"GD": run}, 0, 1)
    _, path, _ = charts.landscape_tables(view, 800)
    dots = path[path["dot"]].set_index(path.loc[path["dot"], "epoch"].astype(int))
    literal = literal_gd(blog.train.X[:, 0], blog.train.y, 0.01, 100)
    np.testing.assert_allclose(dots["u"], literal[dots.index, 0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dots["v"], literal[dots.index, 1], rtol=1e-9, atol=1e-9)
    # the fit chart's line at each frame: w x + b of the same loop
    _, lines, _ = charts.fit_tables(blog.train.X[:, 0], blog.train.y, run, blog.fit)
    left = lines[lines["left"]].set_index("epoch")
    x0 = blog.train.X[:, 0].min()
    np.testing.assert_allclose(left["y"], literal[left.index, 0] * x0 + literal[left.index, 1], rtol=1e-9)

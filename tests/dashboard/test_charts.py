"""Chart tables and Altair charts (gdcore.charts), without a server.

`ChartSpec.vega_lite()` skips Altair's schema validation to keep reruns fast, so the schema is checked
here: every chart, built from real runs (one and three overlaid), must pass `to_dict(validate=True)`.
Every table must stay under MAX_CHART_ROWS whatever the epochs, keeping each run's first, last and best.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
from gdcore.dashboard import charts, experiment

LIMIT = 5000


# ---------------------------------------------------------------- sample_epochs
def test_the_limit_is_5000():
    assert charts.MAX_CHART_ROWS == LIMIT


@settings(max_examples=400, deadline=None)
@given(
    n_states=st.integers(1, 300_000),
    max_points=st.integers(8, 6000),  # room for 0, last and five kept epochs (the small case: below)
    keep_fractions=st.lists(st.floats(0.0, 1.0), max_size=5),
)
def test_sample_epochs_keeps_first_last_best_and_is_bounded(n_states, max_points, keep_fractions):
    keep = [round(f * (n_states - 1)) for f in keep_fractions]
    idx = charts.sample_epochs(n_states, max_points, keep)
    must = {0, n_states - 1, *keep}
    assert must <= set(idx.tolist())
    assert idx.dtype.kind == "i"
    assert np.all(np.diff(idx) > 0), "sorted, no repeats"
    assert idx[0] == 0 and idx[-1] == n_states - 1
    assert idx.size <= max(max_points, len(must))
    if n_states <= max_points:
        np.testing.assert_array_equal(idx, np.arange(n_states))


def test_sample_epochs_keeps_the_shape_of_a_long_run():
    idx = charts.sample_epochs(100_001, LIMIT, [1226])
    assert idx.size <= LIMIT
    assert set(range(11)) <= set(idx.tolist()), "the fast early drop: every one of the first epochs"
    gaps = np.diff(idx)
    assert gaps.max() <= 2 * 100_000 / (LIMIT / 2), "the long tail: evenly covered"


def test_sample_epochs_small_cases():
    np.testing.assert_array_equal(charts.sample_epochs(1, 5), [0])
    np.testing.assert_array_equal(charts.sample_epochs(2, 5, [1]), [0, 1])
    np.testing.assert_array_equal(charts.sample_epochs(1000, 3, [500]), [0, 500, 999])


def test_sample_epochs_with_more_to_keep_than_the_budget():
    """The docstring promises max(max_points, len(keep) + 2) indices: the kept epochs win."""
    idx = charts.sample_epochs(1000, 3, [10, 20, 30, 40])
    assert {0, 10, 20, 30, 40, 999} == set(idx.tolist())


# ---------------------------------------------------------------- real runs
@pytest.fixture(scope="module")
def blog():
    """The blog's data as the app prepares it: (data, quadratic, least-squares fit, prepared)."""
    prepared = experiment.prepare(gdcore.make_data(), standardized=False, test_fraction=0.0, split_seed=42)
    return prepared.train, prepared.quadratic, prepared.fit, prepared


def runs_for(blog, alphas, epochs):
    data, quadratic, *_ = blog
    return {
        f"α = {a:g}": gdcore.descend(data.X, data.y, alpha=a, epochs=epochs, quadratic=quadratic)
        for a in alphas
    }


def all_specs(blog, runs, log_scale=True) -> dict[str, charts.ChartSpec]:
    """The four dashboard charts (plus the prediction chart) as the app builds them."""
    data, _quadratic, fit, prepared = blog
    first = next(iter(runs.values()))
    specs = {
        "loss": charts.loss_chart(charts.loss_table(runs), fit.loss, log_scale),
        "parameters": charts.parameter_chart(
            charts.parameter_table(runs, ["w", "b"]), {"w": float(fit.weights[0]), "b": fit.bias}
        ),
    }
    points, lines, best_line = charts.fit_tables(data.X[:, 0], data.y, first, fit)
    specs["fit"] = charts.fit_chart(points, lines, best_line, first.best_epoch)
    predicted = data.X @ first.best_weights + first.best_bias
    specs["prediction"] = charts.prediction_chart(charts.prediction_tables(data.y, predicted), "Predicted")
    view = experiment.landscape_view(prepared, runs, 0, 1)  # as the app builds it
    contours, path, marks = charts.landscape_tables(view, 800)
    specs["landscape"] = charts.landscape_chart(contours, path, marks, view.bounds, "w", "b")
    return specs


CASES = {
    "one run": ([0.01], 100),
    "three runs": ([0.01, 0.1, 0.5], 100),
    "diverged run": ([2.0], 100),
    "three runs, 100,000 epochs": ([0.01, 0.1, 0.5], 100_000),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request, blog):
    alphas, epochs = CASES[request.param]
    runs = runs_for(blog, alphas, epochs)
    return runs, all_specs(blog, runs)


def test_every_chart_passes_altair_validation(case, blog):
    runs, specs = case
    for name, spec in specs.items():
        spec.chart.to_dict(validate=True)  # the chart without its data
        spec.altair().to_dict(validate=True)  # self-contained, the data inline
        vl = spec.vega_lite()
        assert set(vl["datasets"]) == set(spec.datasets), name
        assert "config" not in vl
    # The linear-axis variant of the loss chart as well.
    charts.loss_chart(charts.loss_table(runs), blog[2].loss, log_scale=False).chart.to_dict(validate=True)


def test_every_chart_names_only_data_it_carries(case):
    """A layer reading a data set that the spec does not ship would draw nothing in the browser."""
    _, specs = case
    for name, spec in specs.items():
        used = set()

        def walk(node, used=used):
            if isinstance(node, dict):
                if isinstance(node.get("data"), dict) and "name" in node["data"]:
                    used.add(node["data"]["name"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(spec.chart.to_dict(validate=False))
        assert used and used <= set(spec.datasets), (name, used, set(spec.datasets))


def test_tables_are_bounded_and_keep_first_last_best(case, blog):
    runs, specs = case
    for name, spec in specs.items():
        rows = sum(len(table) for table in spec.datasets.values())
        assert rows <= LIMIT, f"{name}: {rows:,} rows"
    loss = specs["loss"].datasets["loss"]
    params = specs["parameters"].datasets["parameters"]
    for run_name, run in runs.items():
        ends = {0, run.epochs_run, run.best_epoch}
        mine = loss[loss["run"] == run_name]
        assert ends <= set(mine["epoch"])
        assert mine.loc[mine["best"], "epoch"].tolist() == [run.best_epoch]
        np.testing.assert_array_equal(mine["loss"], run.loss[mine["epoch"]])
        assert ends <= set(params.loc[params["run"] == run_name, "epoch"])
    path = specs["landscape"].datasets["path"]
    gone = experiment.landscape_view(blog[3], runs, 0, 1).off_chart
    for run_name, run in runs.items():
        # The last epoch, unless the path went beyond the landscape's reach (then the last one within).
        last = run.epochs_run if run_name not in gone else gone[run_name].first[0] - 1
        assert path.loc[path["run"] == run_name, "epoch"].max() == last


def test_fit_tables_show_the_run_and_the_least_squares_line(blog):
    data, _, fit, _ = blog
    run = runs_for(blog, [0.01], 100)["α = 0.01"]
    points, lines, optimum = charts.fit_tables(data.X[:, 0], data.y, run, fit)
    assert len(points) == 100
    assert lines["epoch"].nunique() <= charts.FIT_FRAMES
    assert lines["epoch"].tolist() == np.repeat(np.arange(101), 2).tolist()  # 100 epochs: every one drawn
    at_best = lines[lines["epoch"] == run.best_epoch]
    np.testing.assert_allclose(at_best["y"], run.best_weights[0] * at_best["x"] + run.best_bias)
    np.testing.assert_allclose(optimum["y"], fit.weights[0] * optimum["x"] + fit.bias)


def test_a_million_points_are_sampled():
    x = np.linspace(0, 1, 1_000_000)
    table = charts.prediction_tables(x, x)
    assert len(table) == charts.MAX_SCATTER_POINTS
    assert table["actual"].is_monotonic_increasing  # a sorted sample, stable across reruns
    pd.testing.assert_frame_equal(table, charts.prediction_tables(x, x))


def test_many_runs_and_a_test_series_stay_bounded(blog):
    runs = runs_for(blog, [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.9], 100_000)
    test_loss = {name: run.loss * 1.1 for name, run in runs.items()}
    table = charts.loss_table(runs, test_loss)
    assert len(table) <= LIMIT
    assert set(table["series"]) == {"train", "test"}
    charts.loss_chart(table, blog[2].loss).altair().to_dict(validate=True)
    params = charts.parameter_table(runs, ["w", "b"])
    assert len(params) <= LIMIT


def test_sweep_and_contraction_charts_validate(blog):
    if not hasattr(charts, "sweep_chart"):
        pytest.skip("no sweep chart in this version")
    from gdcore.sweep import alpha_grid, sweep

    data, quadratic, *_ = blog
    theory = gdcore.analyze_quadratic(quadratic)
    alphas = alpha_grid(theory)
    results = {
        name: sweep(data.X, data.y, alphas, optimizer=name, epochs=100, quadratic=quadratic)
        for name in ("gd", "momentum", "adam")
    }
    start_loss = float(quadratic.loss(np.array([1.0, 0.0])))
    table = charts.sweep_table(results, start_loss)
    assert table["shown_loss"].max() <= 10 * start_loss  # a diverged run does not flatten the chart
    marks = charts.step_marks_table({name: gdcore.limits_for(quadratic, name) for name in results})
    for measure in ("final_loss", "epochs_to_tol"):
        spec = charts.sweep_chart(table, marks, 100, measure)
        spec.altair().to_dict(validate=True)
    assert sum(len(t) for t in spec.datasets.values()) <= LIMIT
    rates = {
        "gd": {
            "alpha": alphas,
            "predicted": np.array([theory.loss_rate(a) for a in alphas]),
            "measured": np.full(alphas.shape, np.nan),
        }
    }
    charts.contraction_chart(charts.contraction_table(rates), marks).altair().to_dict(validate=True)


def test_notebook_charts_take_runs_and_return_valid_altair_charts():
    data = gdcore.make_data()
    run = gdcore.descend(data.X, data.y)
    fit = gdcore.least_squares(data.X, data.y)
    loss = charts.plot_loss({"GD": run}, fit.loss).to_dict()  # to_dict() validates against the schema
    rows = max(loss["datasets"].values(), key=len)  # the curve; the others hold the rule and marks
    np.testing.assert_allclose([r["loss"] for r in rows], run.loss[[r["epoch"] for r in rows]])
    assert len(rows) == run.loss.size
    params = charts.plot_parameters(run, fit).to_dict()
    optimum = [
        rows for rows in params["datasets"].values() if rows and "parameter" in rows[0] and len(rows) == 2
    ]
    assert {r["parameter"]: r["value"] for r in optimum[0]} == pytest.approx(
        {"w": fit.weights[0], "b": fit.bias}
    )
    assert charts.plot_fit(data.X, data.y, run, fit).to_dict()["datasets"]


def test_a_trajectory_becomes_a_table():
    data = gdcore.make_data(n_features=2)
    run = gdcore.descend(data.X, data.y, epochs=5)
    frame = run.to_frame(data.feature_names)
    assert list(frame.columns) == ["epoch", "loss", "w_x1", "w_x2", "bias"]
    np.testing.assert_array_equal(frame["epoch"], np.arange(6))
    np.testing.assert_array_equal(frame[["w_x1", "w_x2"]].to_numpy(), run.weights)
    direct = [gdcore.mse(data.X, data.y, run.weights[t], run.bias[t]) for t in range(6)]
    np.testing.assert_allclose(frame["loss"], direct, rtol=1e-9)


def test_a_template_is_built_once_when_two_threads_ask_for_it_at_once():
    """The warm-up and a first visitor draw the same charts: the second waits for the first's build."""
    import threading
    import time

    import altair as alt

    builds = []

    @charts.template
    def slow(kind: str):
        builds.append(kind)
        time.sleep(0.2)
        return alt.Chart().mark_point()

    results = []
    threads = [threading.Thread(target=lambda: results.append(slow("a"))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == ["a"] and len(results) == 3 and all(r is results[0] for r in results)
    slow("b")
    assert builds == ["a", "b"]

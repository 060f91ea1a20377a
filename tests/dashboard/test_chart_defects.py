"""Issue 13's chart defects (items 1-6, 13), driven headlessly with AppTest.

Each test reads the Vega-Lite spec and the data sets the page ships and checks them against an
independent computation: scikit-learn's data, numpy least squares and eigenvalues, gradient descent
stepped in a plain loop. What only a browser can show (equal scale as drawn, tick labels as rendered,
titles at 390 px, the keyboard path past the charts) is in tests/browser/test_browser_charts.py.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import design_matrix
from sklearn.datasets import load_diabetes, make_regression
from streamlit.testing.v1 import AppTest

import gdcore
from gdcore.dashboard import charts
from gdcore.dashboard.explain import plain_text
from gdcore.landscape import REACH_FACTOR

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
TIMEOUT = 120
MAX_ROWS = 5000


# ---------------------------------------------------------------- helpers
def run_app(query: dict[str, str] | None = None, **widgets) -> AppTest:
    """A fresh session (with URL query parameters), then each widget set in turn, one rerun each."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for key, value in widgets.items():
        set_widget(at, key, value)
    return at


def set_widget(at: AppTest, key: str, value) -> AppTest:
    at.get_by_key(key).set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def decode(arrow: bytes) -> pd.DataFrame:
    return pa.ipc.open_stream(arrow).read_all().to_pandas()


def chart(at: AppTest, dataset: str) -> tuple[dict[str, pd.DataFrame], dict]:
    """({data set: table}, Vega-Lite spec) of the one chart that ships a data set named `dataset`."""
    found = [c for c in at.get("vega_lite_chart") if dataset in {ds.name for ds in c.proto.datasets}]
    assert len(found) == 1, f"{len(found)} charts with a data set {dataset!r}"
    return {ds.name: decode(ds.data.data) for ds in found[0].proto.datasets}, json.loads(found[0].proto.spec)


def params(spec: dict) -> dict[str, dict]:
    return {p["name"]: p for p in spec.get("params", [])}


def layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def layers_reading(spec: dict, dataset: str) -> list[dict]:
    """The layers drawing the named data set (a layer without data of its own reads the chart's)."""
    return [layer for layer in layers(spec) if layer.get("data", spec.get("data", {})).get("name") == dataset]


def title_text(spec: dict) -> str:
    text = spec["title"]["text"] if isinstance(spec["title"], dict) else spec["title"]
    return " ".join(text) if isinstance(text, list) else text


def captions(at: AppTest) -> list[str]:
    return [plain_text(str(c.value)) for c in at.caption]


def gd_loop(X, y, alpha=0.01, epochs=100, w0=1.0, b0=0.0) -> np.ndarray:
    """Plain gradient descent on the MSE, written out: rows theta_t = (w..., b), t = 0..epochs."""
    A = design_matrix(X)
    theta = np.append(np.full(A.shape[1] - 1, w0), b0)
    rows = [theta]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            theta = theta + alpha * 2.0 / len(y) * A.T @ (y - A @ theta)
            rows.append(theta)
    return np.array(rows)


def synthetic(features=1):
    X, y = make_regression(n_samples=100, n_features=features, noise=20.0, bias=0.0, random_state=42)
    return X.reshape(100, features), y


def lstsq(X, y):
    A = design_matrix(X)
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    return theta, float(np.mean((y - A @ theta) ** 2))


def is_power_of_ten(value: float) -> bool:
    return value != 0 and math.isclose(10 ** round(math.log10(abs(value))), abs(value), rel_tol=1e-12)


def is_one_two_five(value: float) -> bool:
    mantissa = value / 10 ** math.floor(math.log10(value) + 1e-12)
    return any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 5))


# ---------------------------------------------------------------- item 1: landscape axes
def landscape_axes(spec: dict) -> tuple[str, str]:
    [path] = [layer for layer in layers_reading(spec, "path") if layer["mark"]["type"] == "line"]
    return path["encoding"]["x"]["title"], path["encoding"]["y"]["title"]


def test_landscape_axes_are_what_the_selectors_say_after_1_2_3_features():
    """1 -> 2 -> 3 features used to show "b" in the vertical selector while drawing w[x3]."""
    at = run_app()
    set_widget(at, "features", 2)
    set_widget(at, "features", 3)
    u, v = at.get_by_key("landscape_u"), at.get_by_key("landscape_v")
    assert (u.value, v.value) == ("w[x1]", "b")
    assert u.options == v.options == ["w[x1]", "w[x2]", "w[x3]", "b"]
    data, spec = chart(at, "path")
    assert landscape_axes(spec) == ("w[x1]", "b")
    assert "J(w[x1], b)" in title_text(spec)
    literal = gd_loop(*synthetic(3))
    path = data["path"][data["path"]["dot"]]
    epochs = path["epoch"].astype(int).to_numpy()
    np.testing.assert_allclose(path["u"], literal[epochs, 0], rtol=1e-9)
    np.testing.assert_allclose(path["v"], literal[epochs, 3], rtol=1e-9, atol=1e-9)


def test_a_landscape_choice_that_disappears_falls_back_and_the_selector_says_so():
    at = run_app(features=3)
    set_widget(at, "landscape_u", "w[x2]")
    set_widget(at, "landscape_v", "w[x3]")
    assert landscape_axes(chart(at, "path")[1]) == ("w[x2]", "w[x3]")
    set_widget(at, "features", 2)  # w[x3] is gone; w[x2] is still there
    u, v = at.get_by_key("landscape_u"), at.get_by_key("landscape_v")
    assert (u.value, v.value) == ("w[x2]", "b")
    data, spec = chart(at, "path")
    assert landscape_axes(spec) == ("w[x2]", "b")
    literal = gd_loop(*synthetic(2))
    path = data["path"][data["path"]["dot"]]
    epochs = path["epoch"].astype(int).to_numpy()
    np.testing.assert_allclose(path[["u", "v"]], literal[epochs][:, [1, 2]], rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- item 2: landscape geometry
@pytest.fixture(scope="module")
def default_app() -> AppTest:
    return run_app()


def test_landscape_draws_contour_lines_of_the_mse_not_a_grid(default_app):
    data, spec = chart(default_app, "path")
    assert "cells" not in data
    contours = data["contours"]
    [level_layer] = layers_reading(spec, "contours")
    # One line per level set (the browser gathers each piece's points in order into a GeoJSON line),
    # placed by the axes' own map (see the equal-scale test below): pixel x = (u - u_lo) / per_pixel,
    # pixel y = (v_hi - v) / per_pixel.
    assert level_layer["mark"]["type"] == "geoshape" and level_layer["mark"]["filled"] is False
    assert level_layer["mark"]["fill"] is None  # a click inside an ellipse reaches the click grid
    assert level_layer["projection"] == {
        "type": "identity",
        "reflectY": True,
        "scale": {"expr": "1 / per_pixel"},
        "translate": {"expr": "[-u_lo / per_pixel, v_hi / per_pixel]"},
    }
    steps = level_layer["transform"]
    assert steps[0] == {"calculate": "[datum.u, datum.v]", "as": "xy"}
    assert steps[1] == {
        "aggregate": [{"op": "values", "as": "points"}],
        "groupby": ["piece", "level", "loss"],
    }
    assert {
        "calculate": "{type: 'LineString', coordinates: pluck(datum.points, 'xy')}",
        "as": "geometry",
    } in steps
    # the table's order within each piece is the line's order
    assert (contours.groupby("piece")["order"].diff().dropna() > 0).all()
    X, y = synthetic(1)
    _, floor = lstsq(X, y)
    # Every sampled point lies on its level set of the literal MSE (points where a line was cut at the
    # edge of the drawn region lie on a chord; they are at the extremes of u or v and left out).
    interior = contours[
        contours["u"].between(contours["u"].min(), contours["u"].max(), inclusive="neither")
        & contours["v"].between(contours["v"].min(), contours["v"].max(), inclusive="neither")
    ]
    assert len(interior) > 0.8 * len(contours)
    A = design_matrix(X)
    grid = np.column_stack([interior["u"], interior["v"]])
    mse = np.mean((y[None, :] - grid @ A.T) ** 2, axis=1)
    np.testing.assert_allclose(mse, interior["loss"], rtol=1e-9)
    np.testing.assert_allclose(interior["loss"] - floor, interior["level"], rtol=1e-6)
    # Levels at 1, 2, 5 x 10^k above the minimum; each level's pieces are closed ellipses around w*, b*.
    assert all(is_one_two_five(h) for h in contours["level"].unique())
    assert contours["level"].nunique() >= 8
    assert sum(len(t) for t in data.values()) <= MAX_ROWS


def test_landscape_axes_are_at_equal_scale(default_app):
    """Both axes' domains are the box's centre +- (one units-per-pixel figure) x (the plot's width or
    height): equal scale whatever the screen. The browser test measures it as drawn."""
    _, spec = chart(default_app, "path")
    p = params(spec)
    assert re.fullmatch(
        r"max\(2 \* hu / max\(width, 1\), 2 \* hv / max\(height, 1\)\)", p["per_pixel"]["expr"]
    )
    assert (
        p["u_lo"]["expr"] == "cu - per_pixel * width / 2"
        and p["u_hi"]["expr"] == "cu + per_pixel * width / 2"
    )
    assert (
        p["v_lo"]["expr"] == "cv - per_pixel * height / 2"
        and p["v_hi"]["expr"] == "cv + per_pixel * height / 2"
    )
    for layer in layers(spec):
        for channel, axis in (("x", "u"), ("y", "v")):
            scale = layer.get("encoding", {}).get(channel, {}).get("scale")
            if scale is not None:
                assert scale["domainMin"] == {"expr": f"{axis}_lo"} and scale["domainMax"] == {
                    "expr": f"{axis}_hi"
                }
    # The box to show holds the whole path and the optimum.
    X, y = synthetic(1)
    literal, (theta, _) = gd_loop(X, y), lstsq(X, y)
    cu, cv, hu, hv = (p[name]["value"] for name in ("cu", "cv", "hu", "hv"))
    for u, v in [*literal, theta]:
        assert abs(u - cu) <= hu and abs(v - cv) <= hv
    assert any("same scale" in c for c in captions(default_app))
    # So no step can leave the picture (it shows at least the box): no layers for arrows at the edge.
    assert not [layer for layer in layers(spec) if "off the chart" in json.dumps(layer)]


def test_a_path_that_leaves_says_where_it_went():
    """alpha = 10 diverges: the caption names the first epoch beyond anything the chart can show and the
    last point, as the literal loop computes them; the chart has the arrow layer for the browser."""
    at = run_app(alpha=10.0)
    data, spec = chart(at, "path")
    literal = gd_loop(*synthetic(1), alpha=10.0)
    p = params(spec)
    cu, cv, hu, hv = (p[name]["value"] for name in ("cu", "cv", "hu", "hv"))
    # No plot aspect up to REACH_FACTOR : 1 shows more than the centre +- REACH_FACTOR max(hu, hv).
    reach = REACH_FACTOR * max(hu, hv)
    beyond = (np.abs(literal[:, 0] - cu) > reach) | (np.abs(literal[:, 1] - cv) > reach)
    first = int(np.argmax(beyond))
    assert beyond.any() and not beyond[:first].any()
    [note] = [c for c in captions(at) if "went off the chart" in c]
    assert f"by epoch {first} it was at w = {literal[first, 0]:.3g}, b = {literal[first, 1]:.3g}" in note
    assert f"epoch 100, is at w = {literal[100, 0]:.3g}, b = {literal[100, 1]:.3g}" in note
    # Nothing beyond is shipped: the path's last real row is the last epoch within reach.
    assert data["path"]["epoch"].max() == first - 1
    assert [layer for layer in layers(spec) if "off the chart" in json.dumps(layer)]
    arrows = [
        layer for layer in layers_reading(spec, "path") if layer["mark"].get("shape") == "triangle-right"
    ]
    assert len(arrows) == 1 and arrows[0]["encoding"]["angle"] == {
        "field": "angle",
        "type": "quantitative",
        "scale": None,
    }


def test_landscape_stays_bounded_with_ten_features_and_six_optimizers():
    at = run_app(
        {"features": "10", "optimizers": "gd,momentum,nesterov,adagrad,rmsprop,adam", "epochs": "20000"}
    )
    for c in at.get("vega_lite_chart"):
        rows = sum(len(decode(ds.data.data)) for ds in c.proto.datasets)
        assert rows <= MAX_ROWS, f"{[ds.name for ds in c.proto.datasets]}: {rows:,} rows"


# ---------------------------------------------------------------- item 3: the epoch slider
def epoch_slider(spec: dict) -> dict:
    [slider] = [p for p in spec["params"] if p["name"] == "epoch"]  # (beside it: Play and Speed)
    return slider


def test_the_fit_slider_moves_in_epochs():
    at = run_app(epochs=300)
    data, spec = chart(at, "points")
    slider = epoch_slider(spec)
    assert slider["bind"]["input"] == "range"
    assert (slider["bind"]["min"], slider["bind"]["max"], slider["bind"]["step"]) == (0, 300, 1)
    assert "frame" not in slider["bind"]["name"].lower() and "Epoch" in slider["bind"]["name"]
    literal = gd_loop(*synthetic(1), epochs=300)
    best = int(
        np.argmin(np.mean((synthetic(1)[1][None, :] - literal @ design_matrix(synthetic(1)[0]).T) ** 2, 1))
    )
    assert slider["value"] == best
    lines = data["lines"]
    assert sorted(lines["epoch"].unique()) == list(range(301))  # every epoch is there to show
    left = lines[lines["left"]].set_index("epoch")
    x_left = synthetic(1)[0].min()
    np.testing.assert_allclose(left["y"], literal[left.index, 0] * x_left + literal[left.index, 1], rtol=1e-9)
    assert not any("epoch by epoch" in c for c in captions(at))
    assert any("one epoch at a time" in c for c in captions(at))


def test_long_runs_snap_to_the_nearest_drawn_epoch():
    at = run_app(epochs=5000)
    data, spec = chart(at, "points")
    slider = epoch_slider(spec)
    best = gdcore.descend(*synthetic(1), epochs=5000).best_epoch  # the headline's best epoch
    assert (slider["bind"]["min"], slider["bind"]["max"]) == (0, 5000) and slider["value"] == best
    drawn = data["lines"]["epoch"].nunique()
    assert 300 <= drawn <= charts.FIT_FRAMES and {0, best, 5000} <= set(data["lines"]["epoch"])
    assert any(f"{drawn:,} of the 5,001 epochs are drawn" in c for c in captions(at))
    # The line and its label are the drawn epoch nearest the slider (the browser test moves it).
    for layer in layers_reading(spec, "lines"):
        assert {"filter": "datum.distance == datum.nearest"} in layer["transform"]


def test_six_optimizers_the_slider_reads_the_first_runs_epochs():
    at = run_app(
        {"optimizers": "gd,momentum,nesterov,adagrad,rmsprop,adam", "epochs": "5000", "stop": "true"}
    )
    X, y = synthetic(1)
    first = gdcore.descend(X, y, alpha=0.01, epochs=5000, tol=1e-6)  # the headline run, plain GD
    literal = gd_loop(X, y, epochs=first.epochs_run)
    np.testing.assert_allclose(first.weights[:, 0], literal[:, 0], rtol=1e-9)
    data, spec = chart(at, "points")
    slider = epoch_slider(spec)
    assert slider["bind"]["max"] == first.epochs_run and slider["value"] == first.best_epoch
    assert sorted(data["lines"]["epoch"].unique()) == list(range(first.epochs_run + 1))


# ---------------------------------------------------------------- item 4: the parameter chart
def rule_layers(spec: dict) -> list[dict]:
    return [layer for layer in layers_reading(spec, "optimum") if layer["mark"]["type"] == "rule"]


@pytest.mark.parametrize("query", [{}, {"optimizers": "gd,momentum,adam"}])
def test_dashed_never_means_the_optimum(query):
    at = run_app(query)
    _, spec = chart(at, "parameters")
    [rule] = rule_layers(spec)
    assert "strokeDash" not in rule["mark"] and "strokeDash" not in rule.get("encoding", {})
    dash = [layer["encoding"]["strokeDash"] for layer in layers_reading(spec, "parameters")]
    if query:  # several runs: dashes name parameters, and only parameters
        assert dash[0]["field"] == "parameter" and dash[0]["legend"]["title"] == "Parameter"
    labels = [layer for layer in layers_reading(spec, "optimum") if layer["mark"]["type"] == "text"]
    assert labels and labels[0]["encoding"]["text"]["field"] == "label"


def test_every_diabetes_parameter_has_its_own_colour_and_dash():
    """Diabetes, one run: 11 series; w[bmi], w[s6] and b used to be the same green."""
    at = run_app(source="diabetes")
    data, spec = chart(at, "parameters")
    names = [f"w[{n}]" for n in load_diabetes().feature_names] + ["b"]
    [line] = layers_reading(spec, "parameters")
    colour, dash = line["encoding"]["color"], line["encoding"]["strokeDash"]
    assert colour["field"] == dash["field"] == "parameter"
    assert colour["scale"]["domain"] == dash["scale"]["domain"] == names
    styles = list(zip(colour["scale"]["range"], map(tuple, dash["scale"]["range"]), strict=True))
    assert len(set(styles)) == len(names)
    assert len(set(colour["scale"]["range"])) == len(names)  # ten weights and b: eleven colours
    assert set(data["parameters"]["parameter"]) == set(names)


def test_fifty_weights_stay_distinguishable():
    names = [f"w[x{k}]" for k in range(50)] + ["b"]
    colours, dashes = charts.parameter_styles(names)
    assert len(set(zip(colours, map(tuple, dashes), strict=True))) == 51


def test_several_runs_and_many_parameters_show_one_parameter_at_a_time():
    at = run_app({"source": "diabetes", "standardize": "true", "optimizers": "gd,momentum,adam"})
    _, spec = chart(at, "parameters")
    pick = params(spec)["shown_parameter"]
    assert pick["bind"]["input"] == "select"
    assert pick["bind"]["options"] == [f"w[{n}]" for n in load_diabetes().feature_names] + ["b"]
    [line] = layers_reading(spec, "parameters")
    assert {"filter": {"expr": "(datum.parameter === shown_parameter)"}} in line["transform"] or any(
        "shown_parameter" in json.dumps(t) for t in line["transform"]
    )


def test_a_diverging_run_gets_readable_value_ticks():
    """alpha = 10: the symmetric log axis used to label ticks "1.0000000000000...": now 0 and +-10^k,
    formatted by READABLE_NUMBER (e-notation past a million)."""
    at = run_app(alpha=10.0)
    data, spec = chart(at, "parameters")
    [line] = layers_reading(spec, "parameters")
    y = line["encoding"]["y"]
    assert y["scale"]["type"] == "symlog"
    assert y["axis"]["values"] == {"expr": "value_ticks"} and y["axis"]["labelExpr"] == charts.READABLE_NUMBER
    ticks = params(spec)["value_ticks"]["value"]
    assert 0.0 in ticks and 3 <= len(ticks) <= 9
    assert all(t == 0 or is_power_of_ten(t) for t in ticks)
    exponents = sorted({round(math.log10(abs(t))) for t in ticks if t})
    assert len({b - a for a, b in itertools.pairwise(exponents)}) <= 1  # evenly spaced
    values = data["parameters"]["value"]
    assert max(ticks) <= values.max() and min(ticks) >= values.min()


# ---------------------------------------------------------------- item 5: runs of very different lengths
def test_a_log_epoch_axis_shows_short_and_long_runs():
    at = run_app({"optimizers": "momentum,adam", "epochs": "5000", "stop": "true"})
    X, y = synthetic(1)
    lengths = [
        gdcore.descend(X, y, optimizer=o, epochs=5000, tol=1e-6).epochs_run for o in ("momentum", "adam")
    ]
    assert max(lengths) >= 10 * min(lengths)
    assert any("very different epochs" in c and "Log-scale epoch axis" in c for c in captions(at))
    set_widget(at, "log_epochs", True)
    assert not any("very different epochs" in c for c in captions(at))
    for dataset in ("loss", "parameters"):
        _, spec = chart(at, dataset)
        [line] = [layer for layer in layers_reading(spec, dataset) if layer["mark"]["type"] == "line"]
        x = line["encoding"]["x"]
        assert x["scale"]["type"] == "symlog" and x["axis"]["values"] == {"expr": "epoch_ticks"}
        assert params(spec)["epoch_ticks"]["value"] == [0, 1, 10, 100, 1000]
    loss = chart(at, "loss")[0]["loss"]
    assert loss.groupby("run")["epoch"].max().to_dict() == dict(
        zip(["Momentum", "Adam"], lengths, strict=True)
    )


# ---------------------------------------------------------------- item 6: loss ticks
def test_log_loss_ticks_are_one_two_five_and_include_1000(default_app):
    data, spec = chart(default_app, "loss")
    [line] = [layer for layer in layers_reading(spec, "loss") if layer["mark"]["type"] == "line"]
    assert line["encoding"]["y"]["axis"]["values"] == {"expr": "loss_ticks"}
    ticks = params(spec)["loss_ticks"]["value"]
    assert 1000.0 in ticks and all(is_one_two_five(t) for t in ticks)
    loss = data["loss"]["loss"]
    # They cover the losses drawn: the blog's run starts at 2,055 and its minimum is 312.
    assert min(ticks) <= data["minimum"]["loss"].iloc[0] and max(ticks) >= loss.max()


# ---------------------------------------------------------------- item 13: names, z-scores
CSV = pd.DataFrame({"floor_area": [50.0, 80, 65, 120, 95, 70], "price": [150.5, 240, 170.25, 380, 290, 205]})


def upload(at: AppTest, frame: pd.DataFrame) -> AppTest:
    at.get_by_key("upload").set_value(("homes.csv", frame.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def fit_axes(spec: dict) -> tuple[str, str]:
    [dots] = layers_reading(spec, "points")
    return dots["encoding"]["x"]["title"], dots["encoding"]["y"]["title"]


def test_the_fit_chart_names_the_columns_and_says_z_scores():
    at = upload(run_app(source="csv"), CSV)
    data, spec = chart(at, "points")
    assert fit_axes(spec) == ("floor_area", "price")
    np.testing.assert_allclose(data["points"]["x"], CSV["floor_area"])
    set_widget(at, "standardize", True)
    data, spec = chart(at, "points")
    assert fit_axes(spec) == ("floor_area (z-score)", "price")
    x = CSV["floor_area"].to_numpy()
    np.testing.assert_allclose(data["points"]["x"], (x - x.mean()) / x.std(), rtol=1e-12)
    np.testing.assert_allclose(data["points"]["y"], CSV["price"])


def test_the_prediction_chart_names_the_target():
    at = run_app(source="diabetes")
    _, spec = chart(at, "predictions")
    [dots] = layers_reading(spec, "predictions")
    assert dots["encoding"]["x"]["title"] == "Actual progression"
    assert dots["encoding"]["y"]["title"] == "Predicted progression"

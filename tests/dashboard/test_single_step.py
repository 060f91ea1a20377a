"""Single step and click-to-start on the landscape (issue 12 §1), without a browser.

The numbers single step shows are checked against independent references: the gradient against central
finite differences of a literal loss (mean((y - Xw - b)^2) + lambda ||w||^2) and against the blog's sums;
plain GD's update against the run's next recorded parameters and a literal loop; the arrows' endpoints in
the chart's data against theta_t, theta_{t+1} and the direction of -grad J. The page is driven with
AppTest; a click on the landscape is simulated by sending the chart's selection state with the rerun, as
the browser does (AppTest cannot click a chart: tests/browser/test_click_start_browser.py clicks it in
Chromium), and the click's handler alone with a stand-in for the session state.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import literal_gd
from streamlit.testing.v1 import AppTest

import gdcore
from gdcore.dashboard import charts, experiment, singlestep

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
NUMBER = r"(-?[\d,]*\.?\d+(?:e[+-]?\d+)?)"


def literal_loss(X: np.ndarray, y: np.ndarray, theta: np.ndarray, l2: float = 0.0) -> float:
    total = 0.0
    for row, target in zip(X, y, strict=True):
        total += (target - (row @ theta[:-1] + theta[-1])) ** 2
    return total / len(y) + l2 * float(theta[:-1] @ theta[:-1])


def finite_differences(X, y, theta, l2=0.0) -> np.ndarray:
    """Central differences of the literal loss, step scaled to each parameter."""
    grad = np.empty_like(theta)
    for k in range(theta.size):
        h = 1e-5 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        grad[k] = (literal_loss(X, y, up, l2) - literal_loss(X, y, down, l2)) / (2 * h)
    return grad


def prepared(data: gdcore.Dataset, l2: float = 0.0, standardized: bool = False) -> experiment.Prepared:
    return experiment.prepare(data, standardized=standardized, test_fraction=0.0, split_seed=42, l2=l2)


@pytest.fixture(scope="module")
def blog():
    return prepared(gdcore.make_data())


def shown_numbers(line: str, label: str) -> list[float]:
    """The number after '= ' that ends each 'label ... = number' part of an equation line."""
    found = re.findall(
        re.escape(label) + r"[^;]*= " + NUMBER + r"\.?(?:;|$)", line.replace("(", "").replace(")", "")
    )
    return [float(v.replace(",", "")) for v in found]


@pytest.mark.parametrize(
    "case",
    [
        ("blog", 0.0, 1),
        ("ridge", 0.5, 1),
        ("three features, ridge", 0.1, 3),
    ],
)
@pytest.mark.parametrize("epoch", [0, 7, 40])
def test_gradient_matches_finite_differences_and_the_blogs_sums(case, epoch):
    _, l2, features = case
    data = prepared(gdcore.make_data(n_features=features, noise=10.0, seed=3), l2=l2)
    run = gdcore.run(data.train.X, data.train.y, gdcore.RunSpec(alpha=0.02, epochs=50), l2=l2)
    step = singlestep.epoch_step(data, run, epoch)
    X, y = data.train.X, data.train.y
    theta = np.append(run.weights[epoch], run.bias[epoch])
    np.testing.assert_array_equal(step.theta, theta)
    fd = finite_differences(X, y, theta, l2)
    np.testing.assert_allclose(step.grad, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())
    # the blog's sums, -(2/N) sum x (y - y_hat) (+ 2 lambda w) and -(2/N) sum (y - y_hat), as loops
    residual = [t - (row @ theta[:-1] + theta[-1]) for row, t in zip(X, y, strict=True)]
    sums = [
        -2 / len(y) * sum(r * row[k] for r, row in zip(residual, X, strict=True)) for k in range(features)
    ]
    sums = [s + 2 * l2 * theta[k] for k, s in enumerate(sums)] + [-2 / len(y) * sum(residual)]
    np.testing.assert_allclose(step.grad, sums, rtol=1e-9, atol=1e-9 * np.abs(sums).max())
    assert step.loss == pytest.approx(literal_loss(X, y, theta, l2), rel=1e-9)
    # ...and the page's own text says those numbers (6 significant digits)
    names = [f"w{k}" for k in range(features)] + ["b"]
    i, j = 0, features
    lines = singlestep.equations(step, names, i, j)
    gradient_line = next(line for line in lines if line.startswith("**3. Gradient**"))
    for k in (i, j):
        [value] = shown_numbers(gradient_line, f"∂J/∂{names[k]} =")
        assert value == pytest.approx(fd[k], rel=1e-5, abs=1e-9 * np.abs(fd).max())
    if l2:
        assert "+ 2λ·w0" in gradient_line and "λ‖w‖²" in lines[1]


@pytest.mark.parametrize("epoch", [0, 1, 13, 99])
def test_plain_gd_update_reproduces_the_next_recorded_parameters(blog, epoch):
    run = gdcore.run(blog.train.X, blog.train.y, gdcore.RunSpec(alpha=0.01, epochs=100))
    step = singlestep.epoch_step(blog, run, epoch)
    assert step.plain_gd
    np.testing.assert_allclose(step.gd_update, step.taken, rtol=1e-9, atol=1e-12)
    loop = literal_gd(blog.train.X[:, 0], blog.train.y, 0.01, epoch + 1)
    np.testing.assert_allclose(step.taken, loop[epoch + 1], rtol=1e-9)
    lines = singlestep.equations(step, ["w", "b"], 0, 1)
    update = next(line for line in lines if line.startswith("**4. Update**"))
    assert shown_numbers(update, "w := ") == pytest.approx([loop[epoch + 1][0]], rel=1e-5)
    assert shown_numbers(update, "b := ") == pytest.approx([loop[epoch + 1][1]], rel=1e-5, abs=1e-6)
    assert "exactly −α∇J" in lines[-1] and "not" not in lines[-1].split(":")[0]
    # the prediction line: y_hat of the first rows, from theta_t
    x, y = blog.train.X[:3, 0], blog.train.y[:3]
    for xi, yi in zip(x, y, strict=True):
        assert f"ŷ = {step.theta[0] * xi + step.theta[1]:,.6g} (y = {yi:,.6g})" in lines[0]


@pytest.mark.parametrize(
    "spec",
    [
        gdcore.RunSpec(optimizer="momentum", alpha=0.01, epochs=30),
        gdcore.RunSpec(optimizer="adam", alpha=0.5, epochs=30),
        gdcore.RunSpec(optimizer="gd", alpha=0.01, epochs=30, batch_size=8),
    ],
    ids=["momentum", "adam", "gd-minibatch"],
)
def test_other_runs_say_their_step_is_not_minus_alpha_gradient(blog, spec):
    run = gdcore.run(blog.train.X, blog.train.y, spec)
    step = singlestep.epoch_step(blog, run, 5)
    assert not step.plain_gd
    np.testing.assert_allclose(step.taken, np.append(run.weights[6], run.bias[6]))
    assert np.abs(step.taken - step.gd_update).max() > 1e-6 * np.abs(step.taken).max()
    lines = singlestep.equations(step, ["w", "b"], 0, 1)
    [said] = [line for line in lines if line.startswith("The run's epoch 6")]
    assert "**not** the update above" in said
    assert ("mini-batches" in said) == (spec.batch_size is not None)
    assert lines[-1].startswith("Momentum's own update") == (spec.optimizer == "momentum")
    arrows = singlestep.step_arrows(step, 0, 1, np.array([[-10.0, 60.0], [-20.0, 20.0]]))
    assert list(arrows["arrow"]) == [singlestep.TAKEN_ARROW, singlestep.GD_ARROW, singlestep.GRADIENT_ARROW]
    gd = arrows.set_index("arrow").loc[singlestep.GD_ARROW]
    np.testing.assert_allclose([gd.u2, gd.v2], step.theta - spec.alpha * step.grad)


def test_arrows_in_the_chart_data(blog):
    runs = {"GD": gdcore.run(blog.train.X, blog.train.y, gdcore.RunSpec(alpha=0.01, epochs=100))}
    view = experiment.landscape_view(blog, runs, 0, 1)
    step = singlestep.epoch_step(blog, runs["GD"], 10)
    arrows = singlestep.step_arrows(step, 0, 1, view.bounds)
    spec = charts.landscape_chart(
        *charts.landscape_tables(view, 800), view.bounds, "w", "b", arrows, 10, True
    )
    spec.chart.to_dict()  # the template passes Vega-Lite's schema
    drawn = spec.datasets["arrows"].set_index("arrow")
    assert list(drawn.index) == [singlestep.TAKEN_ARROW, singlestep.GRADIENT_ARROW]  # GD: its step is −α∇J
    loop = literal_gd(blog.train.X[:, 0], blog.train.y, 0.01, 11)
    taken = drawn.loc[singlestep.TAKEN_ARROW]
    np.testing.assert_allclose([taken.u, taken.v, taken.u2, taken.v2], [*loop[10], *loop[11]], rtol=1e-9)
    gradient = drawn.loc[singlestep.GRADIENT_ARROW]
    tail_to_tip = np.array([gradient.u2 - gradient.u, gradient.v2 - gradient.v])
    fd = finite_differences(blog.train.X, blog.train.y, np.array(loop[10]))
    cross = tail_to_tip[0] * -fd[1] - tail_to_tip[1] * -fd[0]  # parallel to -grad J: zero
    assert cross == pytest.approx(0.0, abs=1e-6 * np.hypot(*fd) * np.hypot(*tail_to_tip))
    assert tail_to_tip @ -fd > 0, "the arrow points down the slope"
    longer = float(np.max(view.bounds[:, 1] - view.bounds[:, 0]))
    assert np.hypot(*tail_to_tip) == pytest.approx(singlestep.ARROW_FRACTION * longer)
    for row in drawn.itertuples():  # the tip's triangle points along the arrow (screen y is down)
        angle = np.degrees(np.arctan2(row.v2 - row.v, row.u2 - row.u))
        assert row.angle == pytest.approx((360 - angle) % 360)
    params = {p["name"]: p for p in spec.vega_lite()["params"]}
    assert params["epoch"]["value"] == 10 and "bind" not in params["epoch"], "one epoch control: the page's"
    assert "bind" not in params["playing"]
    assert params[charts.CLICK_SELECTION]["select"]["on"] == "click"


def test_the_click_grid_is_made_when_the_pointer_first_comes_over_the_plot(blog):
    """The 1,600 cells wait for the probe's selection (set on the first mouseover, a tap included): a
    page opens without them; without clicks there is neither layer."""
    runs = {"GD": gdcore.run(blog.train.X, blog.train.y, gdcore.RunSpec(alpha=0.01, epochs=10))}
    view = experiment.landscape_view(blog, runs, 0, 1)
    tables = charts.landscape_tables(view, 800)
    spec = charts.landscape_chart(*tables, view.bounds, "w", "b", clickable=True).vega_lite()
    layers = spec["layer"]
    probe, cells = layers[0], layers[1]
    selections = {p["name"]: p for p in spec["params"] if "select" in p}
    assert selections[charts.CLICK_PROBE]["views"] == [probe["name"]]
    assert selections[charts.CLICK_PROBE]["select"] == {
        "type": "point", "fields": ["probe"], "on": "mouseover", "clear": False
    }  # fmt: skip
    assert selections[charts.CLICK_SELECTION]["views"] == [cells["name"]]
    assert probe["data"]["sequence"]["stop"] == 1, "one rectangle over the plot"
    assert cells["data"]["sequence"]["stop"] == charts.CLICK_CELLS**2
    assert cells["transform"][0] == {"filter": f"length(data('{charts.CLICK_PROBE}_store')) > 0"}
    plain = charts.landscape_chart(*tables, view.bounds, "w", "b").vega_lite()
    assert not any("sequence" in (layer.get("data") or {}) for layer in plain["layer"])
    assert len(plain["layer"]) == len(layers) - 2


def test_epochs_outside_the_run_are_refused(blog):
    run = gdcore.run(blog.train.X, blog.train.y, gdcore.RunSpec(epochs=5))
    for bad in (-1, 6, 2.5, True):
        with pytest.raises(ValueError, match=f"epoch must be a whole number from 0 to 5; got {bad!r}"):
            singlestep.epoch_step(blog, run, bad)
    last = singlestep.epoch_step(blog, run, 5)
    assert last.taken is None and "the run's last" in singlestep.equations(last, ["w", "b"], 0, 1)[-1]
    assert list(singlestep.step_arrows(last, 0, 1, np.array([[0.0, 1.0], [0.0, 1.0]]))["arrow"]) == [
        singlestep.GRADIENT_ARROW
    ]


# --- the page ----------------------------------------------------------------------------------------------


def landscape_datasets(at: AppTest) -> dict[str, object]:
    for chart in at.get("vega_lite_chart"):
        names = {ds.name for ds in chart.proto.datasets}
        if "contours" in names:
            return {"names": names, "proto": chart.proto, "spec": json.loads(chart.proto.spec)}
    raise AssertionError("no landscape")


def step_markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**") and ". " in m.value[:8]]


def test_the_page_steps_one_epoch_at_a_time():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception
    chart = landscape_datasets(at)
    assert "arrows" not in chart["names"]
    assert list(chart["proto"].selection_mode) == [charts.CLICK_SELECTION], "the timer is not a rerun"
    at.toggle(key="single_step").set_value(True).run()
    assert not at.exception and at.number_input(key="step_epoch").value == 0
    at.button(key="step_forward").click().run()
    at.button(key="step_forward").click().run()
    assert at.number_input(key="step_epoch").value == 2
    at.button(key="step_back").click().run()
    assert at.number_input(key="step_epoch").value == 1
    loop = literal_gd(gdcore.make_data().X[:, 0], gdcore.make_data().y, 0.01, 2)
    lines = step_markdown(at)
    update = next(line for line in lines if line.startswith("**4. Update**"))
    assert shown_numbers(update, "w := ") == pytest.approx([loop[2][0]], rel=1e-5)
    assert "arrows" in landscape_datasets(at)["names"]
    params = {p["name"]: p for p in landscape_datasets(at)["spec"]["params"]}
    assert params["epoch"]["value"] == 1 and "bind" not in params["epoch"]
    # an epoch typed outside the run: the last one, said
    at.number_input(key="step_epoch").set_value(500).run()
    assert at.number_input(key="step_epoch").value == 100
    assert any("500 is outside 0 to 100, so 100 is shown" in c.value for c in at.caption)
    at.number_input(key="step_epoch").set_value(-3).run()
    assert at.number_input(key="step_epoch").value == 0
    # a shorter run: the stepped epoch follows it back into range
    at.number_input(key="step_epoch").set_value(90).run()
    at.number_input(key="epochs").set_value(20).run()
    assert not at.exception and at.number_input(key="step_epoch").value == 20
    assert any(line.startswith("**4. Update** none") for line in step_markdown(at))
    at.toggle(key="single_step").set_value(False).run()
    assert "arrows" not in landscape_datasets(at)["names"] and not step_markdown(at)


class FakeState(dict):
    """The session state as the click handler and keep_in_range read and write it."""


def clicked(monkeypatch, state: dict, names: list[str], i: int, j: int, point: dict) -> None:
    """The click handler run on `state` as the page's on_select would run it."""
    from ui import landscape_tools

    monkeypatch.setattr(landscape_tools.st, "session_state", state)
    options = landscape_tools.click_options(names, i, j)
    assert options["selection_mode"] == [charts.CLICK_SELECTION]
    state[options["key"]] = {"selection": {charts.CLICK_SELECTION: [point]}}
    options["on_select"]()
    assert landscape_tools.click_options(names, i, j)["key"] != options["key"], "a fresh widget next time"


@pytest.mark.parametrize(
    ("point", "w0", "b0", "clamped"),
    [
        ({"u": 12.3456, "v": -3.21987}, 12.35, -3.22, False),
        ({"u": -250.0, "v": 7.0}, -100.0, 7.0, True),
    ],
)
def test_a_click_sets_start_w_and_b(monkeypatch, point, w0, b0, clamped):
    from ui import landscape_tools

    state = FakeState(w0=1.0, b0=0.0, w0_each=())
    clicked(monkeypatch, state, ["w", "b"], 0, 1, point)
    assert (state["w0"], state["b0"], state["w0_each"]) == (w0, b0, ())
    notice = state[landscape_tools.CLICK_NOTICE]
    assert f"w = {w0:g}, b = {b0:g}" in notice
    assert ("outside -100 to 100, so -100 is used" in notice) == clamped


@pytest.mark.parametrize(
    ("i", "j", "point", "each", "b0", "clamped"),
    [  # three weights and b: only the two drawn change
        (0, 3, {"u": 2.345, "v": 50.0}, (2.35, 1.0, 1.0), 50.0, False),
        (2, 0, {"u": -7.0, "v": 0.5}, (0.5, 1.0, -7.0), 0.0, False),
        (1, 2, {"u": 300.0, "v": 4.0}, (1.0, 100.0, 4.0), 0.0, True),
    ],
)
def test_a_click_on_two_of_several_weights_sets_only_those(monkeypatch, i, j, point, each, b0, clamped):
    from ui import landscape_tools

    names = ["w[x0]", "w[x1]", "w[x2]", "b"]
    state = FakeState(w0=1.0, b0=0.0, w0_each=())
    clicked(monkeypatch, state, names, i, j, point)
    assert (state["w0_each"], state["b0"], state["w0"]) == (each, b0, 1.0)
    notice = state[landscape_tools.CLICK_NOTICE]
    assert ("the other weights keep their start" in notice) == (j != 3 or i != 3)
    assert ("300 is outside -100 to 100, so 100 is used" in notice) == clamped
    # a second click keeps what the first set on the weights it does not move
    clicked(monkeypatch, state, names, 1, 3, {"u": -1.0, "v": 9.0})
    assert state["w0_each"] == (each[0], -1.0, each[2]) and state["b0"] == 9.0


@pytest.mark.parametrize("point", [{}, {"u": "x", "v": 1}, {"u": float("nan"), "v": 0.0}])
def test_a_click_without_a_usable_point_changes_nothing(monkeypatch, point):
    from ui import landscape_tools

    state = FakeState(w0=1.0, b0=0.0, w0_each=())
    clicked(monkeypatch, state, ["w", "b"], 0, 1, point)
    assert (state["w0"], state["b0"]) == (1.0, 0.0)
    assert "the start is unchanged" in state[landscape_tools.CLICK_NOTICE]


def test_click_needs_two_different_axes():
    from ui import landscape_tools

    assert landscape_tools.click_options(["w[x0]", "w[x1]", "b"], 1, 1) == {}


def test_per_weight_start_in_links_and_runs():
    from gdcore.dashboard.settings import parse_query, to_query

    settings, notices = parse_query({"features": "3", "w0_each": "1.5,-2,3"})
    assert settings.w0_each == (1.5, -2.0, 3.0) and not notices
    assert to_query(settings)["w0_each"] == "1.5,-2.0,3.0"
    assert settings.run_spec("gd").w0 == (1.5, -2.0, 3.0)
    assert settings.start_fits(3) and not settings.start_fits(2)
    data = prepared(gdcore.make_data(n_features=3, seed=1))
    run = gdcore.run(data.train.X, data.train.y, settings.run_spec("gd"))
    np.testing.assert_array_equal(run.weights[0], [1.5, -2.0, 3.0])
    for bad in ("1,500", "a,b", ""):
        kept, said = parse_query({"w0_each": bad})
        assert kept.w0_each == () and len(said) == 1 and "w0_each" in said[0]
    from gdcore.dashboard.report import settings_rows

    assert ("Start (w₀, b₀)", "((1.5, -2, 3), 0)") in settings_rows(settings)


@pytest.mark.parametrize("epoch", [0, 2, 3, 7])
def test_a_scheduled_step_uses_that_epochs_alpha(blog, epoch):
    """Step schedule alpha_e = 0.02 * 0.5^floor(e / 3): epoch e's update uses alpha_e."""
    spec = gdcore.RunSpec.of("gd", alpha=0.02, epochs=10, schedule="step", step_size=3, gamma=0.5)
    run = gdcore.run(blog.train.X, blog.train.y, spec)
    step = singlestep.epoch_step(blog, run, epoch)
    alpha = 0.02 * 0.5 ** (epoch // 3)
    assert step.alpha == pytest.approx(alpha, rel=1e-15)
    w, b = 1.0, 0.0
    x, y = blog.train.X[:, 0], blog.train.y
    for e in range(epoch + 1):  # the literal loop, alpha per epoch
        r = y - (w * x + b)
        a = 0.02 * 0.5 ** (e // 3)
        w, b = w + a * 2 * np.mean(x * r), b + a * 2 * np.mean(r)
    np.testing.assert_allclose(step.gd_update, [w, b], rtol=1e-9)
    np.testing.assert_allclose(step.taken, [w, b], rtol=1e-9)
    assert f"(α = {alpha:g})" in singlestep.equations(step, ["w", "b"], 0, 1)[3]


@pytest.mark.parametrize("gamma", [None, 0.7])
@pytest.mark.parametrize("epoch", [0, 1, 9])
def test_momentums_step_is_minus_alpha_gradient_plus_beta_times_the_last_step(blog, epoch, gamma):
    """Heavy ball as torch writes it, v := beta v + g, theta := theta - alpha_e v (alpha_e = 0.05 gamma^e
    with an exponential schedule), as a literal loop: its theta_{t+1} is what the page's decomposition
    adds up to, and what the run recorded."""
    schedule = {} if gamma is None else {"schedule": "exponential", "gamma": gamma}
    spec = gdcore.RunSpec.of("momentum", alpha=0.05, epochs=12, beta=0.8, **schedule)
    run = gdcore.run(blog.train.X, blog.train.y, spec)
    x, y = blog.train.X[:, 0], blog.train.y
    theta, velocity, states = np.array([1.0, 0.0]), np.zeros(2), [np.array([1.0, 0.0])]
    for e in range(epoch + 1):
        r = y - (theta[0] * x + theta[1])
        velocity = 0.8 * velocity + np.array([-2 * np.mean(x * r), -2 * np.mean(r)])
        theta = theta - 0.05 * (gamma or 1.0) ** e * velocity
        states.append(theta)
    step = singlestep.epoch_step(blog, run, epoch)
    np.testing.assert_allclose(step.taken, states[epoch + 1], rtol=1e-9)
    np.testing.assert_allclose(step.gd_update + step.momentum_term, states[epoch + 1], rtol=1e-9)
    line = singlestep.equations(step, ["w", "b"], 0, 1)[-1]
    assert line.startswith("Momentum's own update") and "β = 0.8" in line
    for k, name in enumerate(["w", "b"]):
        [value] = shown_numbers(line.replace(", the run's epoch", ";"), f"{name}: ")
        assert value == pytest.approx(states[epoch + 1][k], rel=1e-5, abs=1e-6)


def click_landscape(at: AppTest, u: float, v: float) -> None:
    """Rerun as the browser does after a click on the landscape: the widget states AppTest sends, plus
    the chart's selection state (AppTest cannot click a chart itself)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from streamlit.testing.v1.element_tree import ElementTree

    chart_id = landscape_datasets(at)["proto"].id
    selection = json.dumps({"selection": {charts.CLICK_SELECTION: [{"u": u, "v": v}]}})
    sent = ElementTree.get_widget_states

    def with_click(tree):
        states = sent(tree)
        states.widgets.append(WidgetState(id=chart_id, string_value=selection))
        return states

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ElementTree, "get_widget_states", with_click)
        at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_a_click_on_the_page_restarts_the_run_there():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    click_landscape(at, 20.123, -7.5)
    assert (at.number_input(key="w0").value, at.number_input(key="b0").value) == (20.12, -7.5)
    assert at.query_params["w0"] == "20.12" and at.query_params["b0"] == "-7.5", "the share link carries it"
    marks = decode_marks(at)
    assert tuple(marks.loc["start", ["u", "v"]]) == (20.12, -7.5), "the landscape's start is the click"
    assert any("Start set from your click" in info.value for info in at.info)
    # a second click on the same point, after typing the start back: handled again
    at.number_input(key="w0").set_value(1.0).run()
    at.number_input(key="b0").set_value(0.0).run()
    click_landscape(at, 20.123, -7.5)
    assert (at.number_input(key="w0").value, at.number_input(key="b0").value) == (20.12, -7.5)
    click_landscape(at, 500.0, 0.0)
    assert at.number_input(key="w0").value == 100.0
    assert any("outside -100 to 100, so 100 is used" in info.value for info in at.info)


def decode_marks(at: AppTest):
    import pyarrow as pa

    for ds in landscape_datasets(at)["proto"].datasets:
        if ds.name == "marks":
            return pa.ipc.open_stream(ds.data.data).read_all().to_pandas().set_index("what")
    raise AssertionError("no marks")


def test_in_a_race_any_run_can_be_stepped():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"optimizers": "gd,momentum"})
    at.run()
    at.toggle(key="single_step").set_value(True).run()
    assert at.selectbox(key="step_run").options == ["Gradient descent", "Momentum"]
    assert step_markdown(at)[-1].startswith("**4. Update**")  # GD: no momentum line
    at.selectbox(key="step_run").set_value("Momentum").run()
    at.number_input(key="step_epoch").set_value(2).run()
    assert not at.exception
    data = prepared(gdcore.make_data())
    run = gdcore.run(data.train.X, data.train.y, gdcore.RunSpec(optimizer="momentum", epochs=100))
    step = singlestep.epoch_step(data, run, 2)
    lines = [m.value for m in at.markdown]
    assert singlestep.equations(step, ["w", "b"], 0, 1)[-1] in lines
    assert any(c.value.startswith("Epoch 2, Momentum's") for c in at.caption)
    arrows = landscape_datasets(at)["proto"].datasets
    assert "arrows" in {ds.name for ds in arrows}


def test_a_click_on_a_three_feature_landscape_moves_only_the_two_drawn():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"features": "3"})
    at.run()
    names = at.selectbox(key="landscape_u").options
    assert len(names) == 4
    at.selectbox(key="landscape_v").set_value(names[1]).run()  # w of the first two features
    click_landscape(at, 2.5, -3.0)
    assert at.session_state["w0_each"] == (2.5, -3.0, 1.0) and at.session_state["b0"] == 0.0
    assert at.query_params["w0_each"] == "2.5,-3.0,1.0", "the share link carries it"
    marks = decode_marks(at)
    assert tuple(marks.loc["start", ["u", "v"]]) == (2.5, -3.0), "the run starts at the click"
    assert any("Start per weight" in c.value for c in at.sidebar.caption)
    assert any("the other weights keep their start" in info.value for info in at.info)
    # the data changes to two features: that start no longer fits, and the page says so
    at.slider(key="features").set_value(2).run()
    assert not at.exception and at.session_state["w0_each"] == ()
    assert any("was for 3 weights; this data has 2" in info.value for info in at.info)
    # back to one start for every weight by the sidebar's button
    at.slider(key="features").set_value(3).run()
    at.selectbox(key="landscape_v").set_value(at.selectbox(key="landscape_u").options[1]).run()
    click_landscape(at, 4.0, 5.0)
    assert at.session_state["w0_each"] == (4.0, 5.0, 1.0)
    at.button(key="clear_w0_each").click().run()
    assert at.session_state["w0_each"] == () and "w0_each" not in at.query_params


def test_momentum_after_an_epoch_at_alpha_zero_says_no_decomposition(blog):
    """Cosine to eta_min = 0 at epoch T_max = 4: epoch 5 follows a step of alpha 0, whose move (none)
    cannot tell the velocity, so no decomposition is claimed; the step still reads as not -alpha grad J."""
    spec = gdcore.RunSpec.of("momentum", alpha=0.05, epochs=8, schedule="cosine", T_max=4, eta_min=0.0)
    run = gdcore.run(blog.train.X, blog.train.y, spec)
    assert singlestep.step_alpha(run, 4) == 0.0
    step = singlestep.epoch_step(blog, run, 5)
    assert step.momentum_term is None
    lines = singlestep.equations(step, ["w", "b"], 0, 1)
    assert "**not** the update above" in lines[-1]

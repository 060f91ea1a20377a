"""The dashboard's optimizer lab and bring-your-own-data features, driven headlessly with AppTest.

Widgets are found by key, charts by the names of their data sets, and every number is checked against
an independent computation: scikit-learn's data and fits, numpy eigenvalues and least squares, the
optimizers' update rules stepped literally, or `gdcore` called directly on the same data (never the
app's own output copied back).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import design_matrix, open_tab
from sklearn.datasets import load_diabetes, make_regression
from sklearn.linear_model import LinearRegression
from streamlit.testing.v1 import AppTest

import gdcore
from gdcore.dashboard.explain import plain_text
from gdcore.dashboard.settings import ALPHA_CHOICES, DEFAULTS

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
TIMEOUT = 60
THREE = ["gd", "momentum", "adam"]
NAMES = {name: gdcore.OPTIMIZERS[name].display_name for name in gdcore.OPTIMIZERS}


# ---------------------------------------------------------------- helpers
def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def run_app(**widgets) -> AppTest:
    """A fresh session at the defaults, then each widget set in turn (one rerun each)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert_ok(at)
    for key, value in widgets.items():
        at.get_by_key(key).set_value(value).run()
        assert_ok(at)
    return at


def decode(arrow: bytes) -> pd.DataFrame:
    return pa.ipc.open_stream(arrow).read_all().to_pandas()


def charts(at: AppTest) -> dict[str, tuple[dict[str, pd.DataFrame], dict]]:
    """{name of the chart's first data set: ({data set: table}, Vega-Lite spec)} for every chart."""
    found = {}
    for chart in at.get("vega_lite_chart"):
        tables = {ds.name: decode(ds.data.data) for ds in chart.proto.datasets}
        first = chart.proto.datasets[0].name
        assert first not in found, f"two charts whose first data set is {first}"
        found[first] = (tables, json.loads(chart.proto.spec))
    return found


def tables(at: AppTest, chart: str) -> dict[str, pd.DataFrame]:
    return charts(at)[chart][0]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest, kind: str) -> list[str]:
    """The messages of one kind as they read on the page (user-derived text is Markdown-escaped)."""
    return [plain_text(str(el.value)) for el in at.get(kind)]


def encodings(spec: dict, channel: str, field: str) -> list[dict]:
    """Every `channel` encoding on `field` in the spec's layers."""
    layers = spec.get("layer", [spec])
    return [
        layer["encoding"][channel]
        for layer in layers
        if layer.get("encoding", {}).get(channel, {}).get("field") == field
    ]


def blog_data(samples=100, features=1, noise=20.0, seed=42, intercept=0.0):
    """The synthetic source straight from scikit-learn: X (N, d), y (N,)."""
    X, y = make_regression(
        n_samples=samples, n_features=features, noise=noise, bias=intercept, random_state=seed
    )
    return X.reshape(samples, features), y


def lstsq(X, y) -> tuple[np.ndarray, float]:
    """(theta* = (w*, b*), J*) by numpy least squares on A = [X, 1]."""
    A = design_matrix(X)
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    residual = y - A @ theta
    return theta, float(residual @ residual / len(y))


def hessian_eigenvalues(X) -> np.ndarray:
    A = design_matrix(X)
    return np.linalg.eigvalsh(2.0 / len(A) * A.T @ A)


def literal_run(X, y, name, *, alpha=0.01, epochs=100, w0=1.0, b0=0.0, **hyper) -> np.ndarray:
    """The optimizer's registered update rule stepped in a plain loop on numpy's full-batch gradient.

    Returns theta_t = (w..., b) for t = 0..epochs as rows, and the loss per row as the last column.
    """
    entry = gdcore.OPTIMIZERS[name]
    A = design_matrix(X)
    theta = np.append(np.full(A.shape[1] - 1, w0), b0)
    state = entry.init(theta)
    rows = [theta]
    for _ in range(epochs):
        grads = -2.0 / len(y) * A.T @ (y - A @ theta)
        theta, state = entry.update(grads, state, theta, alpha, **hyper)
        rows.append(theta)
    theta = np.array(rows)
    loss = np.mean((y[None, :] - theta @ A.T) ** 2, axis=1)
    return np.column_stack([theta, loss])


def descend_like_app(X, y, **kwargs) -> gdcore.Trajectory:
    """gdcore.descend with the dashboard's default descent settings, overridden by kwargs."""
    settings = {"alpha": DEFAULTS.alpha, "epochs": DEFAULTS.epochs, "w0": DEFAULTS.w0, "b0": DEFAULTS.b0}
    return gdcore.descend(X, y, **{**settings, "shuffle_seed": 0, **kwargs})


def runs_of(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {name: rows.sort_values("epoch") for name, rows in table.groupby("run", sort=False)}


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, float_format="%.9g").encode()


def upload(at: AppTest, content: bytes, name: str = "data.csv") -> AppTest:
    at.get_by_key("upload").set_value((name, content, "text/csv")).run()
    assert_ok(at)
    return at


def csv_app(content: bytes, **widgets) -> AppTest:
    at = upload(run_app(source="csv"), content)
    for key, value in widgets.items():
        at.get_by_key(key).set_value(value).run()
        assert_ok(at)
    return at


def _good_csv() -> bytes:
    rng = np.random.default_rng(5)
    a, b, c = rng.normal(size=60), 3.0 * rng.normal(size=60), rng.uniform(-2.0, 2.0, size=60)
    y = 2.0 * a - 1.5 * b + 4.0 * c + 7.0 + rng.normal(size=60)
    return csv_bytes(pd.DataFrame({"a": a, "b": b, "c": c, "y": y}))


GOOD_CSV = _good_csv()
GOOD = pd.read_csv(io.BytesIO(GOOD_CSV))  # the file as pandas reads it: the reference values


# ---------------------------------------------------------------- optimizers
@pytest.fixture(scope="module")
def three_app() -> AppTest:
    """Plain GD, momentum and Adam on the blog's data, compared side by side."""
    return run_app(optimizers=THREE)


@pytest.fixture(scope="module")
def blog_runs() -> dict[str, np.ndarray]:
    """Each of THREE stepped literally on the blog's data, by display name."""
    X, y = blog_data()
    return {NAMES[name]: literal_run(X, y, name) for name in THREE}


@pytest.mark.parametrize("chart", ["loss", "parameters", "contours"])
def test_three_optimizers_are_overlaid_in_every_chart(three_app, chart):
    data, spec = charts(three_app)[chart]
    table = data["path"] if chart == "contours" else data[chart]
    expected = [NAMES[name] for name in THREE]
    assert list(dict.fromkeys(table["run"])) == expected
    if chart == "parameters":
        # Several runs: a colour per run, as in every chart, and a line pattern per parameter.
        [dash] = encodings(spec, "strokeDash", "parameter")
        assert dash["legend"]["title"] == "Parameter"
    [colour, *_] = encodings(spec, "color", "run")
    assert colour["scale"]["domain"] == expected
    assert len(set(colour["scale"]["range"])) == 3  # one colour per run
    assert colour["legend"]["title"] == "Run"


def test_three_optimizers_match_their_update_rules(three_app, blog_runs):
    loss = runs_of(tables(three_app, "loss")["loss"])
    params = tables(three_app, "parameters")["parameters"]
    path = runs_of(tables(three_app, "contours")["path"])
    for name, literal in blog_runs.items():
        epochs = loss[name]["epoch"].to_numpy()
        assert epochs[0] == 0 and epochs[-1] == 100
        np.testing.assert_allclose(loss[name]["loss"], literal[epochs, -1], rtol=1e-8)
        for column, parameter in ((0, "w"), (1, "b")):
            rows = params[(params["run"] == name) & (params["parameter"] == parameter)].sort_values("epoch")
            np.testing.assert_allclose(
                rows["value"], literal[rows["epoch"].to_numpy(), column], rtol=1e-8, atol=1e-9
            )
        # Full batch: every landscape path point is an epoch, at (w_t, b_t).
        steps = path[name]["epoch"].to_numpy()
        assert np.array_equal(steps, np.round(steps))
        np.testing.assert_allclose(
            path[name][["u", "v"]], literal[steps.astype(int), :2], rtol=1e-8, atol=1e-9
        )


def test_headline_names_the_first_to_reach_the_optimum(three_app):
    X, y = blog_data()
    _, optimum = lstsq(X, y)
    reached = {NAMES[name]: descend_like_app(X, y, optimizer=name).epoch_reaching(optimum) for name in THREE}
    finishers = sorted((e, n) for n, e in reached.items() if e is not None)
    assert finishers, reached  # momentum gets there within 100 epochs on the blog's data
    epoch, winner = finishers[0]
    [race] = [t for t in texts(three_app, "info") if "reached the optimum first" in t]
    assert race.startswith(f"**{winner}** reached the optimum first, at epoch {epoch:,}")
    for name, e in reached.items():
        if name != winner:
            assert f"{name}: " + (f"epoch {e:,}" if e is not None else "not within the epochs") in race


def test_hyperparameter_inputs_follow_the_chosen_optimizers(three_app):
    shown = {w.key for w in three_app.number_input}
    for name in THREE:
        for hp in gdcore.OPTIMIZERS[name].hyperparameters:
            key = f"{name}_{hp.name}"
            assert key in shown, key
            assert three_app.get_by_key(key).value == hp.default
    others = {
        f"{n}_{hp.name}" for n, o in gdcore.OPTIMIZERS.items() if n not in THREE for hp in o.hyperparameters
    }
    assert others and not others & shown
    assert {"momentum_beta", "adam_beta1", "adam_beta2", "adam_eps"} <= shown


def test_changing_a_hyperparameter_changes_the_run():
    at = run_app(optimizers=["gd", "momentum"], momentum_beta=0.5)
    X, y = blog_data()
    loss = runs_of(tables(at, "loss")["loss"])["Momentum"]
    epochs = loss["epoch"].to_numpy()
    changed = descend_like_app(X, y, optimizer="momentum", beta=0.5)
    default = descend_like_app(X, y, optimizer="momentum")
    np.testing.assert_allclose(loss["loss"], changed.loss[epochs], rtol=1e-9)
    np.testing.assert_allclose(loss["loss"], literal_run(X, y, "momentum", beta=0.5)[epochs, -1], rtol=1e-8)
    assert not np.allclose(loss["loss"], default.loss[epochs], rtol=1e-3)
    assert at.query_params.get("momentum_beta") == "0.5"


def test_removing_every_optimizer_keeps_the_last_choice_with_a_notice():
    """An empty choice cannot run; it also arrives, with no user action, when another widget changes
    while the multiselect is still loading in the browser. Either way the last choice comes back."""
    at = run_app(optimizers=["momentum", "adam"])
    at.get_by_key("optimizers").set_value([]).run()
    assert_ok(at)
    assert list(at.get_by_key("optimizers").value) == ["momentum", "adam"]
    assert any("At least one optimizer" in t.value for t in at.toast)
    assert list(tables(at, "loss")["loss"]["run"].unique()) == [NAMES["momentum"], NAMES["adam"]]
    at.get_by_key("optimizers").set_value(["adam"]).run()  # a real change still applies
    assert_ok(at)
    assert list(tables(at, "loss")["loss"]["run"].unique()) == [NAMES["adam"]]


# ---------------------------------------------------------------- batch size
def test_batch_32_matches_descend_and_the_path_has_fractional_epochs():
    at = run_app(batch_size=32)
    X, y = blog_data()
    expected = descend_like_app(X, y, batch_size=32, record_steps=True)
    loss = tables(at, "loss")["loss"].sort_values("epoch")
    epochs = loss["epoch"].to_numpy()
    np.testing.assert_allclose(loss["loss"], expected.loss[epochs], rtol=1e-9)
    full = descend_like_app(X, y)
    assert not np.allclose(loss["loss"], full.loss[epochs], rtol=1e-3)  # mini-batches change the run
    # Independent: the batch epoch losses are the MSE of the parameters the run reports.
    direct = np.mean((y[None, :] - expected.weights @ X.T - expected.bias[:, None]) ** 2, axis=1)
    np.testing.assert_allclose(expected.loss, direct, rtol=1e-9)
    path = tables(at, "contours")["path"].sort_values("epoch")
    steps_per_epoch = -(-100 // 32)
    assert path["epoch"].min() == 0 and path["epoch"].max() == 100
    fractional = path["epoch"] % 1 != 0
    assert fractional.any()
    # Step k sits at epoch k / steps_per_epoch, at the parameters after that step.
    k = np.round(path["epoch"].to_numpy() * steps_per_epoch).astype(int)
    np.testing.assert_allclose(k / steps_per_epoch, path["epoch"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(path[["u", "v"]], expected.steps[k], rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- learning-rate sweep
@pytest.fixture(scope="module")
def sweep_app() -> AppTest:
    at = open_tab(run_app(optimizers=THREE), "sweep")
    at.get_by_key("sweep").set_value(True).run()
    assert_ok(at)
    return at


def test_sweep_is_off_until_toggled(three_app):
    assert "sweep" not in charts(three_app) and "contraction" not in charts(three_app)


def test_sweep_grid_and_alpha_marks(sweep_app):
    data = tables(sweep_app, "sweep")
    X, _ = blog_data()
    lam = hessian_eigenvalues(X)
    alpha_max, alpha_opt = 2.0 / lam.max(), 2.0 / (lam.min() + lam.max())
    runs = runs_of(data["sweep"].rename(columns={"alpha": "epoch"}))  # sorted by alpha
    assert list(runs) == [NAMES[name] for name in THREE]
    for name, rows in runs.items():
        alphas = rows["epoch"].to_numpy()
        assert len(alphas) >= 50, name
        assert alphas[0] == pytest.approx(1e-4, rel=1e-12)
        assert alphas[-1] == pytest.approx(2.0 * alpha_max, rel=1e-9)
        ratios = alphas[1:] / alphas[:-1]
        np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)  # a log grid
    marks = data["alpha_marks"]  # each optimizer's own marks; plain GD's are 2/λmax, 2/(λmin + λmax)
    gd_marks = marks[marks["run"] == NAMES["gd"]]
    by_kind = dict(zip(gd_marks["kind"], gd_marks["alpha"], strict=True))
    [max_kind] = [k for k in by_kind if "α_max" in k]
    [opt_kind] = [k for k in by_kind if "α_opt" in k]
    assert by_kind[max_kind] == pytest.approx(alpha_max, rel=1e-9)
    assert by_kind[opt_kind] == pytest.approx(alpha_opt, rel=1e-9)


def test_sweep_shows_the_cliff_of_plain_gd(sweep_app):
    rows = tables(sweep_app, "sweep")["sweep"].query("run == @NAMES['gd']").sort_values("alpha")
    X, y = blog_data()
    alpha_max = 2.0 / hessian_eigenvalues(X).max()
    below, above = rows[rows["alpha"] < alpha_max], rows[rows["alpha"] > alpha_max]
    assert not below["diverged"].any()
    assert above["diverged"].all() and len(above) >= 1
    start = np.mean((y - X[:, 0]) ** 2)  # w0 = 1, b0 = 0
    first_above = above.iloc[0]
    assert first_above["final_loss"] > start  # above the start: diverged
    assert first_above["final_loss"] > 1000 * below["final_loss"].iloc[-1]  # the jump
    # Each alpha's final loss is the literal loop's at that alpha (a few spot checks across the grid).
    for index in [0, len(below) // 2, len(below) - 1]:
        alpha = float(below["alpha"].iloc[index])
        literal = gdcore.reference_descend(X, y, alpha=alpha, epochs=100, w0=1.0, b0=0.0)
        assert below["final_loss"].iloc[index] == pytest.approx(literal.loss[-1], rel=1e-9)
    literal = gdcore.reference_descend(X, y, alpha=float(first_above["alpha"]), epochs=100)
    assert first_above["final_loss"] == pytest.approx(literal.loss[-1], rel=1e-6)


def test_contraction_chart_matches_the_theory(sweep_app):
    table = tables(sweep_app, "contraction")["contraction"]
    gd = table[table["run"] == NAMES["gd"]]  # plain GD's rows (each linear optimizer has its own)
    factors = gd.pivot(index="alpha", columns="kind", values="factor")
    X, _ = blog_data()
    lam = hessian_eigenvalues(X)
    alpha_max = 2.0 / lam.max()
    alphas = factors.index.to_numpy()
    predicted = np.max(np.abs(1.0 - alphas[:, None] * lam[None, :]), axis=1) ** 2
    np.testing.assert_allclose(factors["predicted"], predicted, rtol=1e-9)
    stable = factors[(factors.index < alpha_max) & factors["measured"].notna()]
    assert len(stable) >= 30
    np.testing.assert_allclose(stable["measured"], stable["predicted"], rtol=1e-3)
    unstable = factors[factors.index > alpha_max]
    assert (unstable["measured"] > 1).all() and len(unstable) >= 1


# ---------------------------------------------------------------- diabetes and standardization
@pytest.fixture(scope="module")
def diabetes_app() -> AppTest:
    return run_app(source="diabetes")


def test_diabetes_shows_ten_weights_and_the_scaling_warning(diabetes_app):
    at = diabetes_app
    bunch = load_diabetes(scaled=False)
    names = tables(at, "parameters")["optimum"]["parameter"].tolist()
    assert names == [f"w[{n}]" for n in bunch.feature_names] + ["b"]
    assert set(tables(at, "parameters")["parameters"]["parameter"]) == set(names)
    assert "predictions" in charts(at) and "points" not in charts(at)
    [warning] = [w for w in texts(at, "warning") if "slider" in w]
    assert "Standardize" in warning
    shown = float(re.search(r"α ≤ ([0-9.e+-]+)", warning).group(1))
    alpha_max = 2.0 / hessian_eigenvalues(bunch.data).max()
    assert shown == pytest.approx(alpha_max, rel=5e-3)
    assert ALPHA_CHOICES[0] < alpha_max  # the slider reaches a step that converges on the raw data
    theta, _ = lstsq(bunch.data, bunch.target)
    optimum = tables(at, "parameters")["optimum"]["value"].to_numpy()
    np.testing.assert_allclose(optimum, theta, rtol=1e-6)


def test_diabetes_standardized_converges_and_shows_both_condition_numbers():
    bunch = load_diabetes(scaled=False)
    raw = gdcore.Dataset(bunch.data, bunch.target, np.full(10, np.nan), tuple(bunch.feature_names), "raw")
    z, _ = gdcore.standardize(raw)
    raw_kappa = gdcore.analyze(raw.X, raw.y).condition_number
    kappa = gdcore.analyze(z.X, z.y).condition_number
    alpha = 0.2
    assert alpha < gdcore.analyze(z.X, z.y).alpha_opt  # a converging step for the standardized data
    at = run_app(source="diabetes", standardize=True, alpha=alpha, epochs=20_000)
    assert not [w for w in texts(at, "warning") if "slider" in w]
    assert metrics(open_tab(at, "math"))["Condition number"] == f"{kappa:.4g}"  # the Math & theory tab
    [delta] = [x.proto.delta for x in at.metric if x.label == "Condition number"]
    assert delta == f"{raw_kappa:.4g} before standardizing"
    assert kappa < 1e3 < 1e7 < raw_kappa
    assert any("**Converged**" in s for s in texts(at, "success"))
    open_tab(at, "data")
    assert metrics(at)["Condition number (training rows)"] == f"{raw_kappa:.3g} → {kappa:.3g}"
    # The weights in original units are scikit-learn's least-squares coefficients.
    table = next(d.value for d in at.dataframe if "best epoch, original units" in d.value.columns)
    reference = LinearRegression().fit(bunch.data, bunch.target)
    np.testing.assert_allclose(
        table["best epoch, original units"], [*reference.coef_, reference.intercept_], rtol=1e-6
    )


# ---------------------------------------------------------------- several features, the test split
@pytest.fixture(scope="module")
def three_features_app() -> AppTest:
    return run_app(features=3)


def test_several_features_show_predicted_against_actual(three_features_app):
    at = three_features_app
    assert "points" not in charts(at)
    predictions = tables(at, "predictions")["predictions"]
    X, y = blog_data(features=3)
    run = descend_like_app(X, y)
    literal = literal_run(X, y, "gd")
    best = int(np.argmin(literal[:, -1]))
    assert run.best_epoch == best
    np.testing.assert_allclose(predictions["actual"], y, rtol=1e-12)
    np.testing.assert_allclose(predictions["predicted"], X @ literal[best, :3] + literal[best, 3], rtol=1e-8)
    assert tables(at, "parameters")["optimum"]["parameter"].tolist() == ["w[x1]", "w[x2]", "w[x3]", "b"]


def test_landscape_axes_can_be_chosen(three_features_app):
    at = three_features_app
    u, v = at.get_by_key("landscape_u"), at.get_by_key("landscape_v")
    assert (u.value, v.value) == ("w[x1]", "b")
    assert any("held at their least-squares values" in c for c in texts(at, "caption"))
    at.get_by_key("landscape_u").set_value("w[x2]")
    at.get_by_key("landscape_v").set_value("w[x3]").run()
    assert_ok(at)
    data, spec = charts(at)["contours"]
    assert "J(w[x2], w[x3])" in json.dumps(spec["title"])
    X, y = blog_data(features=3)
    literal = literal_run(X, y, "gd")
    path = data["path"].sort_values("epoch")
    np.testing.assert_allclose(path[["u", "v"]], literal[path["epoch"].astype(int), 1:3], rtol=1e-8)
    theta, _ = lstsq(X, y)
    optimum = data["marks"].set_index("what").loc["least-squares optimum"]
    np.testing.assert_allclose([optimum["u"], optimum["v"]], theta[1:3], rtol=1e-9)
    at.get_by_key("landscape_v").set_value("w[x2]").run()
    assert_ok(at)
    assert any("two different parameters" in w for w in texts(at, "warning"))
    assert "contours" not in charts(at)


def test_test_fraction_adds_the_held_out_loss():
    at = run_app(test_fraction=0.2)
    loss = tables(at, "loss")["loss"]
    assert set(loss["series"]) == {"train", "test"}
    X, y = blog_data()
    data = gdcore.Dataset(X, y, np.full(1, np.nan), ("x",), "blog")
    train, test = gdcore.train_test_split(data, 0.2, seed=DEFAULTS.seed)  # the app splits with the seed
    assert (train.n_samples, test.n_samples) == (80, 20)
    assert metrics(open_tab(at, "data"))["Test rows"] == "20" and metrics(at)["Training rows"] == "80"
    literal = literal_run(train.X, train.y, "gd")
    rows = loss.query("series == 'train'").sort_values("epoch")
    epochs = rows["epoch"].to_numpy()
    np.testing.assert_allclose(rows["loss"], literal[epochs, -1], rtol=1e-8)
    held_out = loss.query("series == 'test'").sort_values("epoch")
    assert held_out["epoch"].tolist() == epochs.tolist()
    theta = literal[epochs, :2]
    expected = np.mean((test.y[None, :] - theta[:, :1] * test.X[:, 0][None, :] - theta[:, 1:]) ** 2, axis=1)
    np.testing.assert_allclose(held_out["loss"], expected, rtol=1e-8)


# ---------------------------------------------------------------- CSV upload
@pytest.fixture(scope="module")
def good_csv_app() -> AppTest:
    return csv_app(GOOD_CSV)


def check_csv_run(at: AppTest, target: str, features: list[str]) -> None:
    """The page shows the run of gdcore.read_csv + gdcore.descend, and numpy's least squares."""
    dataset = gdcore.read_csv(GOOD_CSV, target=target, features=features)
    np.testing.assert_allclose(dataset.X, GOOD[features].to_numpy(), rtol=1e-15)
    run = descend_like_app(dataset.X, dataset.y)
    m = metrics(at)
    assert m["Best epoch"] == f"{run.best_epoch:,}"
    assert m["Error (MSE)"] == f"{run.best_loss:,.3f}"
    assert m["Bias b"] == f"{run.best_bias:,.3f}"
    theta, optimum = lstsq(GOOD[features].to_numpy(), GOOD[target].to_numpy())
    if len(features) > 1:
        off = np.max(np.abs(run.best_weights - theta[:-1]))
        assert m[f"Weights: largest |w − w*| of {len(features)}"] == f"{off:,.3g}"
    loss = tables(at, "loss")
    epochs = loss["loss"]["epoch"].to_numpy()
    np.testing.assert_allclose(loss["loss"]["loss"], run.loss[epochs], rtol=1e-9)
    assert loss["minimum"]["loss"].iloc[0] == pytest.approx(optimum, rel=1e-9)


def test_csv_upload_runs_on_the_file(good_csv_app):
    at = good_csv_app
    assert at.get_by_key("csv_target").value == "y"
    assert at.get_by_key("csv_features").value == ["a", "b", "c"]
    assert at.dataframe[0].value.shape == (5, 4)  # the first rows, shown before the run
    check_csv_run(at, "y", ["a", "b", "c"])
    open_tab(at, "export")
    assert any("uploaded file is not part of the link" in c for c in texts(at, "caption"))


def test_csv_target_and_feature_choices():
    at = csv_app(GOOD_CSV, csv_target="c")
    assert at.get_by_key("csv_target").value == "c"
    assert at.get_by_key("csv_features").options == ["a", "b", "y"]
    check_csv_run(at, "c", list(at.get_by_key("csv_features").value))
    at.get_by_key("csv_features").set_value(["y"]).run()
    assert_ok(at)
    check_csv_run(at, "c", ["y"])
    points = tables(at, "points")["points"]  # d = 1: the fit chart is the data and the line again
    np.testing.assert_allclose(points["x"], GOOD["y"], rtol=1e-15)
    np.testing.assert_allclose(points["y"], GOOD["c"], rtol=1e-15)


def test_a_second_upload_uses_its_own_columns():
    """A new file with other column names starts from its own default target and features."""
    other = pd.DataFrame({"p": GOOD["a"], "q": GOOD["b"], "r": GOOD["y"]})
    at = csv_app(GOOD_CSV)
    upload(at, csv_bytes(other), "other.csv")
    assert at.get_by_key("csv_target").value == "r"
    assert list(at.get_by_key("csv_features").value) == ["p", "q"], texts(at, "info")
    assert "loss" in charts(at)


def expected_message(content: bytes, **kwargs) -> str:
    """gdcore's message as the dashboard words it (a CsvError names the dashboard's controls)."""
    with pytest.raises(ValueError) as caught:
        gdcore.read_csv(content, **kwargs)
    error = caught.value
    return error.for_dashboard() if isinstance(error, gdcore.CsvError) else str(error)


BAD_CSVS = {
    "empty": (b"", {}),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", {}),
    "not utf-8": ("a,y\n1,2\n3,4\ncafé,5\n".encode("latin-1"), {}),
    "nan cells": (b"a,y\n1,2\n,3\n4,5\n6,nan\n7,8\n", {"target": "y", "features": ["a"]}),
    "duplicate names": (b"a,a,y\n1,2,3\n4,5,6\n7,8,10\n", {}),
    "html in a column name": (
        b"<img src=x onerror=alert(1)>,<img src=x onerror=alert(1)>,y\n1,2,3\n4,5,6\n7,8,10\n",
        {},
    ),
}


@pytest.mark.parametrize("case", BAD_CSVS)
def test_a_bad_csv_shows_the_reason(case):
    content, kwargs = BAD_CSVS[case]
    at = csv_app(content)
    message = expected_message(content, **kwargs)
    assert texts(at, "error") == [f"That cannot run: {message}"]
    assert not at.get("vega_lite_chart")
    if case == "html in a column name":
        assert "'<img src=x onerror=alert(1)>'" in message
        assert not [h for h in at.get("html") if "<img" in h.proto.body]  # only the page's own style
        assert all(not md.proto.allow_html for md in at.markdown if "<img" in md.value)


def test_html_column_names_stay_text():
    frame = pd.DataFrame({"<b>bold</b>": GOOD["a"], "<i>z</i>": GOOD["b"], "y": GOOD["y"]})
    at = csv_app(csv_bytes(frame))
    assert at.get_by_key("csv_features").value == ["<b>bold</b>", "<i>z</i>"]
    names = tables(at, "parameters")["optimum"]["parameter"].tolist()
    assert names == ["w[<b>bold</b>]", "w[<i>z</i>]", "b"]
    assert not [h for h in at.get("html") if "<b>" in h.proto.body or "<i>" in h.proto.body]
    assert all(not md.proto.allow_html for md in at.markdown if "<b>" in md.value or "<i>" in md.value)


def test_nan_rows_can_be_dropped():
    content, kwargs = BAD_CSVS["nan cells"]
    at = csv_app(content)
    drop = at.get_by_key("csv_drop")
    assert drop.value is False and "Drop the 2 row(s)" in drop.label
    drop.set_value(True).run()
    assert_ok(at)
    assert not texts(at, "error")
    dataset = gdcore.read_csv(content, drop_nonfinite=True, **kwargs)
    assert dataset.n_samples == 3
    np.testing.assert_allclose(dataset.X[:, 0], [1.0, 4.0, 7.0])
    run = descend_like_app(dataset.X, dataset.y)
    m = metrics(open_tab(at, "data"))
    assert m["Training rows"] == "3"
    assert (m["Best epoch"], m["Error (MSE)"]) == (f"{run.best_epoch:,}", f"{run.best_loss:,.3f}")
    literal = literal_run(dataset.X, dataset.y, "gd")
    assert m["Weight w"] == f"{literal[run.best_epoch, 0]:,.3f}"


# ---------------------------------------------------------------- source switch
def test_switching_source_and_back_keeps_the_synthetic_settings():
    at = run_app(samples=200, seed=7, noise=5.0, features=2)
    at.get_by_key("source").set_value("diabetes").run()
    assert_ok(at)
    assert len(tables(at, "predictions")["predictions"]) == 442
    at.get_by_key("source").set_value("synthetic").run()
    assert_ok(at)
    assert at.get_by_key("samples").value == 200
    assert at.get_by_key("seed").value == 7
    assert at.get_by_key("noise").value == 5.0
    assert at.get_by_key("features").value == 2
    X, y = blog_data(samples=200, seed=7, noise=5.0, features=2)
    run = descend_like_app(X, y)
    predictions = tables(at, "predictions")["predictions"]
    np.testing.assert_allclose(predictions["actual"], y, rtol=1e-12)
    assert metrics(at)["Error (MSE)"] == f"{run.best_loss:,.3f}"
    query = dict(at.query_params)
    assert (query.get("samples"), query.get("seed"), query.get("features")) == ("200", "7", "2")

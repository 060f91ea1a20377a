"""Issue 13, "page and controls": what a learner and a teacher met on the page, driven with AppTest.

Each test reproduces one defect as the user met it (a control changed, a tab opened) and checks the page
against an independent computation: numpy on the same rows (the literal N x N broadcast of the blog, the
split rows' MSE, eigenvalues, least squares), never the page's own output copied back.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO_ROOT, design_matrix, open_tab
from sklearn.datasets import load_diabetes, make_regression
from streamlit.testing.v1 import AppTest

import gdcore
from gdcore.dashboard.explain import plain_text
from gdcore.dashboard.settings import DEFAULTS, HYPER_KEYS, HYPER_RANGES, UI_RANGES

APP = str(Path(REPO_ROOT) / "streamlit_app.py")
TIMEOUT = 60


# ---------------------------------------------------------------- helpers
def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "cannot run" in e.value]


def run_app(query: dict[str, str] | None = None, **widgets) -> AppTest:
    """A fresh session (with URL query parameters), then each widget set in turn, one rerun each."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    assert_ok(at)
    for key, value in widgets.items():
        at.get_by_key(key).set_value(value).run()
        assert_ok(at)
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def deltas(at: AppTest) -> dict[str, str]:
    return {m.label: m.proto.delta for m in at.metric}


def texts(at: AppTest, kind: str) -> list[str]:
    return [plain_text(str(el.value)) for el in at.get(kind)]


def literal_gd(X, y, *, alpha=DEFAULTS.alpha, epochs=DEFAULTS.epochs, w0=DEFAULTS.w0, b0=DEFAULTS.b0):
    """Full-batch GD in a plain loop on A = [X, 1]: the parameters theta_t as rows, and the losses."""
    A = design_matrix(X)
    theta = np.append(np.full(A.shape[1] - 1, w0), b0)
    rows = [theta]
    for _ in range(epochs):
        theta = theta + alpha * 2.0 / len(y) * A.T @ (y - A @ theta)
        rows.append(theta)
    thetas = np.array(rows)
    return thetas, np.mean((y[None, :] - thetas @ A.T) ** 2, axis=1)


def blog_broadcast_error(x: np.ndarray, y: np.ndarray, w: float, b: float) -> float:
    """The blog's "error" built literally: (N,) - (N, 1) broadcast to N x N, np.sum(...) / N."""
    residual = y - (x.reshape(-1, 1) * w + b)
    assert residual.shape == (len(y), len(y))
    return float(np.sum(residual**2) / len(y))


GOOD_CSV = b"size,rooms,age,price\n50,2,10,150.5\n80,3,5,240\n65,2,30,170.25\n120,4,1,380\n95,3,12,290\n"


# ---------------------------------------------------------------- 12: the uploaded file is kept
def test_an_uploaded_csv_survives_a_visit_to_another_source():
    at = run_app({"epochs": "40", "alpha": "0.0001"}, source="csv")
    at.get_by_key("upload").set_value(("houses.csv", GOOD_CSV, "text/csv")).run()
    assert_ok(at)
    at.get_by_key("csv_features").set_value(["size"]).run()
    assert_ok(at)
    frame = pd.read_csv(io.BytesIO(GOOD_CSV))
    _, loss = literal_gd(
        frame[["size"]].to_numpy(float), frame["price"].to_numpy(float), alpha=1e-4, epochs=40
    )
    on_the_file = metrics(at)["Error (MSE)"]
    assert on_the_file == f"{loss.min():,.3f}"

    at.get_by_key("source").set_value("diabetes").run()
    assert_ok(at)
    at.get_by_key("source").set_value("csv").run()
    assert_ok(at)
    assert not [i for i in texts(at, "info") if "Upload a CSV file" in i], texts(at, "info")
    assert any("houses.csv" in c and "uploaded earlier" in c for c in texts(at, "caption"))
    assert at.get_by_key("csv_features").value == ["size"]  # the column choice is kept too
    assert metrics(at)["Error (MSE)"] == on_the_file


def test_removing_the_uploaded_file_forgets_it():
    at = run_app(source="csv")
    at.get_by_key("upload").set_value(("houses.csv", GOOD_CSV, "text/csv")).run()
    assert_ok(at)
    assert "Error (MSE)" in metrics(at)
    at.get_by_key("upload").set_value(None).run()  # the user clicks the file's ✕
    assert_ok(at)
    assert any("Upload a CSV file" in i for i in texts(at, "info"))
    assert "Error (MSE)" not in metrics(at)


# ---------------------------------------------------------------- 14: the shape pitfall tells the data on screen
def pitfall(at: AppTest) -> tuple[str, str]:
    """(the pitfall's paragraph, its code block) in the Math tab."""
    open_tab(at, "math")
    assert_ok(at)
    heading = next(i for i, md in enumerate(at.markdown) if "shape pitfall" in md.value)
    [code] = [c.value for c in at.code if "Y_pred" in c.value]
    return at.markdown[heading + 1].value, code


def test_pitfall_uses_the_shapes_and_numbers_of_the_data_on_screen():
    at = run_app(samples=200, seed=7)
    text, code = pitfall(at)
    X, y = make_regression(n_samples=200, n_features=1, noise=20.0, random_state=7)
    assert "(200, 1)" in text and "(200,)" in text and "200×200" in text
    assert "(100, 1)" not in text and "(100, 1)" not in code
    assert "(200,) - (200, 1) broadcasts to (200, 200)" in code
    blog = blog_broadcast_error(X[:, 0], y, DEFAULTS.w0, DEFAULTS.b0)
    true = float(np.mean((y - (X[:, 0] * DEFAULTS.w0 + DEFAULTS.b0)) ** 2))
    assert f"{blog:,.1f}" in text and f"{true:,.1f}" in text


def test_pitfall_on_diabetes_says_its_shape_and_labels_the_blogs_data():
    at = run_app(source="diabetes")
    text, code = pitfall(at)
    assert "(442, 1)" not in text and "(442, 1)" not in code
    assert "442 rows × 10 features" in text and "(442, 10)" in text
    assert "broadcasting error" in text
    with pytest.raises(ValueError):  # what the text says numpy does with the blog's line on this data
        np.zeros(442) - (load_diabetes().data * 1.0 + 0.0)
    # The N x N numbers are the blog's own data's, and say so.
    assert "blog's own data" in text and "make_regression(n_samples=100, n_features=1" in text
    assert code.startswith("X, y = make_regression(n_samples=100, n_features=1, noise=20, random_state=42)")
    assert "(442, 10)" in code
    X, y = make_regression(n_samples=100, n_features=1, noise=20, random_state=42)
    assert f"{blog_broadcast_error(X[:, 0], y, 1.0, 0.0):,.1f}" in text


# ---------------------------------------------------------------- 15: hyperparameters bounded by the registry
def test_hyperparameter_ranges_are_the_registrys_with_open_ends_inside():
    for key, hp in HYPER_KEYS.items():
        low, high = HYPER_RANGES[key]
        assert hp.limits.check(key, low) == low and hp.limits.check(key, high) == high
        assert low <= hp.default <= high
        if hp.limits.high_open:
            with pytest.raises(ValueError):
                hp.limits.check(key, hp.limits.high)
            assert high == pytest.approx(hp.limits.high - 1e-4)  # 0.9999: 4 digits, as typed
        if hp.limits.low_open:
            with pytest.raises(ValueError):
                hp.limits.check(key, hp.limits.low)


def test_momentum_beta_1_is_kept_inside_its_range_and_every_bad_value_is_said():
    """β = 1 replaced the whole page with an error (for every optimizer), and with several bad values
    only the first was shown. Now each input keeps inside the registry's range and says so."""
    at = run_app(optimizers=["gd", "momentum", "adam"], epochs=30)
    at.number_input(key="momentum_beta").set_value(1.0)
    at.number_input(key="adam_beta1").set_value(1.5)
    at.number_input(key="adam_eps").set_value(0.0)
    at.run()
    assert_ok(at)
    labels = {key: at.number_input(key=key).label for key in ("momentum_beta", "adam_beta1", "adam_eps")}
    assert "(0 to 0.9999)" in labels["momentum_beta"] and "(0 to 0.9999)" in labels["adam_beta1"]
    assert "(1e-16 to 1)" in labels["adam_eps"]
    assert len(at.get("vega_lite_chart")) >= 4
    notices = [c for c in texts(at, "caption") if "is outside" in c]
    assert len(notices) == 3, notices
    assert any("Momentum: beta: 1 is outside 0 to 0.9999, so 0.9999 is used." in n for n in notices)
    assert any("Adam: beta1: 1.5 is outside 0 to 0.9999" in n for n in notices)
    assert any("Adam: eps: 0 is outside 1e-16 to 1, so 1e-16 is used." in n for n in notices)
    assert at.number_input(key="momentum_beta").value == 0.9999
    assert dict(at.query_params)["momentum_beta"] == "0.9999"
    # The momentum run is the update rule with beta = 0.9999, stepped literally.
    X, y = make_regression(n_samples=100, n_features=1, noise=20, random_state=42)
    A = design_matrix(X)
    theta, velocity = np.array([1.0, 0.0]), np.zeros(2)
    losses = [np.mean((y - A @ theta) ** 2)]
    for _ in range(30):
        velocity = 0.9999 * velocity + (-2.0 / 100) * A.T @ (y - A @ theta)
        theta = theta - 0.01 * velocity
        losses.append(np.mean((y - A @ theta) ** 2))
    shown = at.get("vega_lite_chart")[0]
    [table] = [ds for ds in shown.proto.datasets if ds.name == "loss"]
    import pyarrow as pa

    rows = pa.ipc.open_stream(table.data.data).read_all().to_pandas()
    momentum = rows[rows["run"] == "Momentum"].sort_values("epoch")
    np.testing.assert_allclose(momentum["loss"], np.array(losses)[momentum["epoch"]], rtol=1e-9)


def test_a_link_with_beta_1_gets_the_notice_every_junk_value_gets():
    at = run_app({"optimizers": "momentum", "momentum_beta": "1", "epochs": "30"})
    [notice] = [w for w in texts(at, "warning") if "Link ignored" in w]
    assert "momentum_beta must be from 0 to 0.9999; got '1': using the default 0.9 instead." in notice
    assert at.number_input(key="momentum_beta").value == 0.9
    assert at.number_input(key="epochs").value == 30


# ---------------------------------------------------------------- 19: an out-of-range entry: field and run agree
@pytest.mark.parametrize(
    ("key", "typed", "used", "notice"),
    [
        ("epochs", 0, 1, "Epochs: 0 is outside 1 to 100,000, so 1 is used."),
        ("epochs", 250_000, 100_000, "Epochs: 250,000 is outside 1 to 100,000, so 100,000 is used."),
        ("w0", 1e300, 100.0, "Start w: 1e+300 is outside -100 to 100, so 100 is used."),
        ("seed", -5, 0, "Seed: -5 is outside 0 to 4,294,967,295, so 0 is used."),
    ],
)
def test_an_out_of_range_number_becomes_the_nearest_allowed_one_in_the_field_and_the_run(
    key, typed, used, notice
):
    at = run_app({"alpha": "0.1"})
    low, high = UI_RANGES[key]
    span = f"±{high:,.0f}" if low == -high else f"{low:,.0f} to {high:,.0f}"
    assert f"({span})" in at.number_input(key=key).label  # the range is in the label, not a tooltip
    at.number_input(key=key).set_value(typed).run()
    assert_ok(at)
    assert at.number_input(key=key).value == used  # what the field shows ...
    assert any(notice in caption for caption in texts(at, "caption")), texts(at, "caption")
    shown = metrics(at)
    assert at.get_by_key("alpha").value == 0.1  # nothing else changed
    if key == "epochs":  # ... is what the run used
        assert deltas(at)["Best epoch"] == f"of {used:,} run"
    if key == "w0":
        X, y = make_regression(n_samples=100, n_features=1, noise=20, random_state=42)
        _, loss = literal_gd(X, y, alpha=0.1, w0=used)
        assert shown["Error (MSE)"] == f"{loss.min():,.3f}"


# ---------------------------------------------------------------- 17: test MSE; condition numbers of the same rows
def split_rows(fraction: float, seed: int = DEFAULTS.seed):
    X, y = make_regression(n_samples=100, n_features=1, noise=20, random_state=42)
    data = gdcore.Dataset(X, y, np.full(1, np.nan), ("x",), "blog")
    train, test = gdcore.train_test_split(data, fraction, seed=seed)  # the app splits with the seed
    return train, test


def test_headline_shows_the_test_mse_at_the_best_epoch():
    at = run_app(test_fraction=0.2)
    train, test = split_rows(0.2)
    thetas, loss = literal_gd(train.X, train.y)
    best = int(np.argmin(loss))
    held_out = float(np.mean((test.y - design_matrix(test.X) @ thetas[best]) ** 2))
    assert metrics(at)["Test MSE (held out)"] == f"{held_out:,.3f}"
    assert deltas(at)["Test MSE (held out)"] == f"at the best epoch, {test.n_samples} rows"
    assert "Test MSE (held out)" not in metrics(run_app())  # no split, no test MSE


def condition_number(X) -> float:
    eigenvalues = np.linalg.eigvalsh(2.0 / len(X) * design_matrix(X).T @ design_matrix(X))
    return float(eigenvalues.max() / eigenvalues.min())


def test_condition_number_compares_the_training_rows_with_themselves():
    """With a split and no standardizing nothing was transformed: one number, that of the training rows
    (it read "1.35 → 1.31": all rows against the training rows)."""
    at = open_tab(run_app(test_fraction=0.2), "data")
    assert_ok(at)
    train, _ = split_rows(0.2)
    assert metrics(at)["Condition number (training rows)"] == f"{condition_number(train.X):.3g}"
    assert "→" not in metrics(at)["Condition number (training rows)"]


def test_condition_number_raw_and_standardized_are_of_the_same_rows():
    at = open_tab(run_app(source="diabetes", standardize=True, test_fraction=0.3), "data")
    assert_ok(at)
    bunch = load_diabetes(scaled=False)
    data = gdcore.Dataset(bunch.data, bunch.target, np.full(10, np.nan), tuple(bunch.feature_names), "d")
    train, _ = gdcore.train_test_split(data, 0.3, seed=DEFAULTS.seed)
    z = (train.X - train.X.mean(axis=0)) / train.X.std(axis=0)
    label = "Condition number (training rows)"
    assert metrics(at)[label] == f"{condition_number(train.X):.3g} → {condition_number(z):.3g}"
    assert deltas(at)[label] == "raw → standardized"


# ---------------------------------------------------------------- 18: the Data tab's preview and w*
def test_data_tab_previews_the_rows_and_puts_w_star_beside_the_best_epoch():
    at = open_tab(run_app(features=2, test_fraction=0.2), "data")
    assert_ok(at)
    X, y = make_regression(n_samples=100, n_features=2, noise=20, random_state=42)
    [preview] = [d.value for d in at.dataframe if "y (target)" in d.value.columns]
    assert list(preview.columns) == ["x1", "x2", "y (target)"]
    np.testing.assert_allclose(preview[["x1", "x2"]].to_numpy(), X[:10], rtol=1e-15)
    np.testing.assert_allclose(preview["y (target)"], y[:10], rtol=1e-15)
    [weights] = [d.value for d in at.dataframe if "least squares (w*, b*)" in d.value.columns]
    assert list(weights.index) == ["w[x1]", "w[x2]", "b"]
    data = gdcore.Dataset(X, y, np.full(2, np.nan), ("x1", "x2"), "blog")
    train, _ = gdcore.train_test_split(data, 0.2, seed=DEFAULTS.seed)
    theta, *_ = np.linalg.lstsq(design_matrix(train.X), train.y, rcond=None)
    np.testing.assert_allclose(weights["least squares (w*, b*)"], theta, rtol=1e-9)
    thetas, loss = literal_gd(train.X, train.y)
    np.testing.assert_allclose(weights["best epoch"], thetas[int(np.argmin(loss))], rtol=1e-9)


def test_standardized_weights_table_has_w_star_in_both_units():
    at = open_tab(run_app(source="diabetes", standardize=True, alpha=0.2, epochs=2000), "data")
    assert_ok(at)
    bunch = load_diabetes(scaled=False)
    [weights] = [d.value for d in at.dataframe if "least squares (w*, b*), original units" in d.value.columns]
    theta, *_ = np.linalg.lstsq(design_matrix(bunch.data), bunch.target, rcond=None)
    np.testing.assert_allclose(weights["least squares (w*, b*), original units"], theta, rtol=1e-6)
    z = (bunch.data - bunch.data.mean(axis=0)) / bunch.data.std(axis=0)
    theta_z, *_ = np.linalg.lstsq(design_matrix(z), bunch.target, rcond=None)
    np.testing.assert_allclose(weights["least squares (w*, b*) (z-scores)"], theta_z, rtol=1e-6)


# ---------------------------------------------------------------- 20: headline numbers that fit their metric
def test_a_huge_error_is_shown_short_enough_to_read():
    """MSE 126,030,709.… was cut off in its metric: from 10^7 on it is written in e-notation."""
    rows = "\n".join(f"{i / 40},{3e4 * i / 40 + 1e4 * (-1) ** i}" for i in range(1, 41))
    at = run_app(source="csv")
    at.get_by_key("upload").set_value(("big.csv", f"x,price\n{rows}\n".encode(), "text/csv")).run()
    assert_ok(at)
    frame = pd.read_csv(io.StringIO(f"x,price\n{rows}\n"))
    _, loss = literal_gd(frame[["x"]].to_numpy(float), frame["price"].to_numpy(float))
    assert loss.min() > 1e7
    shown = metrics(at)["Error (MSE)"]
    assert shown == f"{loss.min():.4e}" and len(shown) <= 11
    for label, value in metrics(at).items():
        assert len(value) <= 15, (label, value)
        assert len(deltas(at)[label] or "") <= 40, (label, deltas(at)[label])


# ---------------------------------------------------------------- 22: wording
def test_flat_directions_are_named_with_lambda_as_the_page_writes_it():
    twice = b"a,a_again,y\n1,1,2.5\n2,2,3.9\n3,3,6.2\n4,4,8.1\n5,5,9.8\n"
    at = run_app(source="csv")
    at.get_by_key("upload").set_value(("twice.csv", twice, "text/csv")).run()
    at.get_by_key("csv_features").set_value(["a", "a_again"]).run()
    open_tab(at, "math")
    assert_ok(at)
    [note] = [i for i in texts(at, "info") if "flat direction" in i]
    assert "(λ = 0)" in note and "lambda" not in note


def test_readme_says_what_the_blogs_error_computes():
    readme = (Path(REPO_ROOT) / "README.md").read_text()
    section = readme[readme.index("## The blog's bug") : readme.index("## Command line")]
    assert "a mean over a 100×100 matrix" not in section
    assert "np.sum((Y - Y_pred)**2) / N" in section and "divides by N = 100" in section
    X, y = make_regression(n_samples=100, n_features=1, noise=20, random_state=42)
    square_sum = np.sum((y - (X * 1 + 0)) ** 2)  # the blog's line, literally: (100,) - (100, 1)
    assert blog_broadcast_error(X[:, 0], y, 1.0, 0.0) == pytest.approx(square_sum / 100, rel=1e-12)
    assert not math.isclose(square_sum / 100, square_sum / 10_000)


def test_the_optimizer_choice_has_no_select_all_entry():
    """Typing "Ada" + Enter chose the first entry, "Select 2 matches", adding Adam and AdaGrad (the
    browser test types it); the entry is gone and the filter matches substrings."""
    at = run_app()
    proto = at.multiselect(key="optimizers").proto
    assert proto.select_all == 0

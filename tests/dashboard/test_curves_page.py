"""The dashboard's data preparation with a polynomial degree and a ridge penalty, checked against
numpy lstsq and scikit-learn's Ridge on features expanded by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import open_tab
from sklearn.linear_model import Ridge
from streamlit.testing.v1 import AppTest

import gdcore
from gdcore.dashboard import curves, experiment
from gdcore.dashboard.explain import plain_text
from gdcore.dashboard.settings import Settings, parse_query, to_query
from gdcore.data import CUBIC_COEF, make_curve, make_data


def powers(x, degree):
    return np.column_stack([np.ravel(x) ** k for k in range(1, degree + 1)])


def test_prepare_expands_the_input_and_fits_least_squares_on_the_powers():
    data = make_curve("cubic", n_samples=60, noise=0.5, seed=4)
    prepared = experiment.prepare(data, standardized=False, test_fraction=0.0, split_seed=0, degree=4)
    assert prepared.train.feature_names == ("x", "x^2", "x^3", "x^4")
    np.testing.assert_allclose(prepared.train.X, powers(data.X, 4), rtol=1e-14)
    A = np.column_stack([powers(data.X, 4), np.ones(60)])
    expected, *_ = np.linalg.lstsq(A, data.y, rcond=None)
    np.testing.assert_allclose([*prepared.fit.weights, prepared.fit.bias], expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(prepared.train.coef, [*CUBIC_COEF, 0.0])


def test_prepare_with_l2_has_the_ridge_optimum_and_the_penalized_loss():
    data = make_curve("sine", n_samples=50, noise=0.3, seed=5)
    prepared = experiment.prepare(data, standardized=True, test_fraction=0.2, split_seed=1, degree=6, l2=0.1)
    train = prepared.train
    ridge = Ridge(alpha=train.n_samples * 0.1, solver="cholesky").fit(train.X, train.y)
    np.testing.assert_allclose(prepared.fit.weights, ridge.coef_, rtol=1e-8)
    assert prepared.fit.bias == pytest.approx(ridge.intercept_, rel=1e-8)
    residual = train.y - ridge.predict(train.X)
    penalized = residual @ residual / train.n_samples + 0.1 * ridge.coef_ @ ridge.coef_
    assert prepared.fit.loss == pytest.approx(penalized, rel=1e-9)
    assert prepared.quadratic.l2 == 0.1
    # standardizing the powers shrinks kappa by orders of magnitude (the raw one is measured before)
    assert prepared.raw_condition_number > 1e3 * prepared.theory.condition_number


def test_prepare_refuses_a_degree_on_several_features_with_the_reason():
    with pytest.raises(ValueError, match=r"degree 3 needs data with one input x; this data has 2 features"):
        experiment.prepare(
            make_data(n_features=2), standardized=False, test_fraction=0.0, split_seed=0, degree=3
        )
    with pytest.raises(ValueError, match=r"l2 must be a finite number >= 0"):
        experiment.prepare(make_data(), standardized=False, test_fraction=0.0, split_seed=0, l2=-1.0)


def test_prepare_defaults_are_the_blogs_line():
    data = make_data()
    plain = experiment.prepare(data, standardized=False, test_fraction=0.0, split_seed=0)
    assert plain.quadratic.l2 == 0.0
    assert plain.train.feature_names == ("x",)
    assert (round(float(plain.fit.weights[0]), 3), round(plain.fit.bias, 3)) == (47.133, 2.33)


# ---------------------------------------------------------------- the page (AppTest)
APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def open_page(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, prefix: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(prefix))


def test_a_link_with_degree_and_l2_runs_the_penalized_polynomial_like_a_literal_loop():
    at = open_page({"degree": "3", "l2": "0.5", "alpha": "0.1"})
    assert at.get_by_key("degree").value == 3
    assert at.get_by_key("l2").value == 0.5
    data = make_data()
    X = powers(data.X, 3)
    n = len(data.y)
    w, b = np.ones(3), 0.0
    losses = []
    for _ in range(100):  # the blog's loop on x, x^2, x^3 with the penalty's gradient 2 lambda w
        r = data.y - (X @ w + b)
        w, b = w - 0.1 * ((-2 / n) * (X.T @ r) + 2 * 0.5 * w), b - 0.1 * (-2 / n) * r.sum()
        r = data.y - (X @ w + b)
        losses.append(r @ r / n + 0.5 * w @ w)
    labels = [m.label for m in at.metric]
    assert "Error (MSE + λ‖w‖²)" in labels and "Error (MSE)" not in labels
    assert float(metric(at, "Error (MSE + λ‖w‖²)").replace(",", "")) == pytest.approx(min(losses), abs=5e-4)
    ridge = Ridge(alpha=n * 0.5, solver="cholesky").fit(X, data.y)
    assert float(metric(at, "Bias b")) == pytest.approx(b, abs=5e-4)
    assert ridge.intercept_ == pytest.approx(0.1415, abs=1e-4)  # the optimum the page's deltas use
    equations = " ".join(m.value for m in open_tab(at, "math").markdown)
    assert r"\lambda \lVert w \rVert^2" in equations and r"+ 2 \lambda w_1" in equations
    assert dict(at.query_params) == {"alpha": "0.1", "degree": "3", "l2": "0.5"}
    captions = " ".join(c.value for c in at.caption)
    assert "Ridge penalty λ = 0.5: every loss on this page" in captions
    assert "Ridge penalty" not in " ".join(c.value for c in open_page({"degree": "3"}).caption)


def test_a_degree_on_data_with_several_features_says_why_and_keeps_the_settings():
    at = open_page({"source": "diabetes", "degree": "4"})
    messages = " ".join(plain_text(e.value) for e in at.error)
    assert "a polynomial of degree 4 needs data with one input x; this data has 10 features" in messages
    assert at.get_by_key("degree").value == 4 and at.get_by_key("source").value == "diabetes"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"degree": "13"}, "degree must be from 1 to 12; got '13'"),
        ({"l2": "-1"}, "l2 must be from 0 to 1,000"),
    ],
)
def test_a_bad_degree_or_l2_in_a_link_is_a_notice_and_the_default(query, fragment):
    settings, notices = parse_query(query)
    assert (settings.degree, settings.l2) == (1, 0.0)
    assert len(notices) == 1 and fragment in notices[0]
    assert parse_query({"degree": "2.5"})[1][0].startswith(
        "Link ignored a value: degree must be a whole number"
    )


def test_default_settings_keep_every_link_unchanged():
    assert to_query(Settings()) == {}
    assert to_query(Settings(degree=5, l2=0.25)) == {"degree": "5", "l2": "0.25"}
    assert parse_query({"degree": "5", "l2": "0.25"})[0] == Settings(degree=5, l2=0.25)


# ---------------------------------------------------------------- the fitted curve
def test_the_optimum_curve_is_the_lstsq_polynomial_in_xs_own_units():
    data = make_curve("cubic", n_samples=70, noise=0.8, seed=12)
    prepared = experiment.prepare(data, standardized=True, test_fraction=0.0, split_seed=0, degree=4)
    run = gdcore.descend(prepared.train.X, prepared.train.y, alpha=0.1, epochs=50)
    points, table, optimum = curves.curve_tables(prepared, run)
    np.testing.assert_allclose(points["x"], data.X[:, 0], rtol=1e-12, atol=1e-12)
    # least squares does not depend on the columns' scaling: the raw powers' lstsq polynomial
    coef, *_ = np.linalg.lstsq(np.column_stack([powers(data.X, 4), np.ones(70)]), data.y, rcond=None)
    literal = [sum(coef[k] * x ** (k + 1) for k in range(4)) + coef[4] for x in optimum["x"]]
    np.testing.assert_allclose(optimum["y_hat"], literal, rtol=1e-8, atol=1e-8)
    assert len(optimum) == curves.CURVE_POINTS
    # the run's curve at every epoch (50 epochs: all drawn): its weights times the powers standardized
    # with the training rows' mean and std
    assert sorted(set(table["epoch"])) == list(range(51))
    raw = powers(data.X, 4)
    for epoch in (0, 7, 50):
        rows = table[table["epoch"] == epoch]
        grid = rows["x"].to_numpy()
        z = (powers(grid, 4) - raw.mean(axis=0)) / raw.std(axis=0)
        expected = z @ run.weights[epoch] + run.bias[epoch]
        np.testing.assert_allclose(rows["y_hat"], expected, rtol=1e-10)
        assert rows["loss"].eq(run.loss[epoch]).all() and rows["first"].sum() == 1
        assert grid.min() == data.X.min() and grid.max() == data.X.max()


def test_the_page_draws_the_curve_for_a_degree_above_1_and_not_for_the_blogs_line():
    at = open_page({"degree": "5", "standardize": "true", "alpha": "0.1", "epochs": "2000"})
    titles = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any("The fitted polynomial of degree 5" in spec for spec in titles)
    names = {ds.name for c in at.get("vega_lite_chart") for ds in c.proto.datasets}
    assert {"curve_points", "curves", "optimum_curve"} <= names
    blog = open_page({})
    assert not any("fitted polynomial" in c.proto.spec for c in blog.get("vega_lite_chart"))


def test_the_math_tab_shows_kappa_per_degree_from_numpy_singular_values():
    at = open_tab(open_page({"degree": "4", "standardize": "true"}), "math")
    assert not at.exception
    frames = [df.value for df in at.dataframe if "κ raw" in df.value.columns]
    assert len(frames) == 1
    table = frames[0]
    assert list(table["degree"]) == list(range(1, 13))
    x = make_data().X[:, 0]
    for degree, raw, standardized in table.itertuples(index=False):
        p = powers(x, degree)
        for value, columns in ((raw, p), (standardized, (p - p.mean(axis=0)) / p.std(axis=0))):
            sigma = np.linalg.svd(np.column_stack([columns, np.ones(len(x))]), compute_uv=False)
            kappa = (sigma[0] / sigma[-1]) ** 2
            # the Hessian's smallest eigenvalue (from A^T A) is good to about kappa * eps of its size
            assert value == pytest.approx(kappa, rel=1e-6 + 50 * kappa * np.finfo(float).eps)
    blog = open_tab(open_page({}), "math")
    assert not [df for df in blog.dataframe if "κ raw" in df.value.columns]

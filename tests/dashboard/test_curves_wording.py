"""Penalty-aware words (issue 14 §2): with a ridge penalty lambda > 0 every text and chart about the run
names the penalized loss MSE + lambda ||w||^2 and the ridge optimum, and its numbers are those of that
loss (checked against scikit-learn's Ridge and literal loops); without one, nothing says "ridge"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import open_tab
from sklearn.linear_model import Ridge
from streamlit.testing.v1 import AppTest

from gdcore.dashboard import charts, experiment, report
from gdcore.dashboard.explain import describe_status, math_panel_numbers, plain_text
from gdcore.dashboard.settings import Settings
from gdcore.data import make_curve, make_data
from gdcore.spec import RunSpec

LAM = 0.5


def prepared_ridge(l2=LAM):
    return experiment.prepare(make_data(), standardized=False, test_fraction=0.0, split_seed=0, l2=l2)


def ridge_objective(X, y, lam):
    """(w, b, J*) of mean((y - Xw - b)^2) + lam ||w||^2 from scikit-learn's Ridge(alpha = N lam)."""
    model = Ridge(alpha=len(y) * lam, solver="svd").fit(X, y)
    r = y - model.predict(X)
    return model.coef_, model.intercept_, r @ r / len(y) + lam * model.coef_ @ model.coef_


def words(spec: dict) -> str:
    """A chart's words (its spec without the data)."""
    return json.dumps({key: value for key, value in spec.items() if key != "datasets"}, ensure_ascii=False)


def test_the_status_of_a_ridge_run_names_the_penalized_loss_and_the_ridge_minimum():
    prepared = prepared_ridge()
    spec = RunSpec(alpha=0.1, epochs=300)
    run = experiment.run_optimizers(prepared, experiment.RunPlan((spec,)))["Gradient descent"]
    data = make_data()
    _, _, j_star = ridge_objective(data.X, data.y, LAM)
    assert prepared.fit.loss == pytest.approx(j_star, rel=1e-9)
    status = describe_status(run, prepared.fit, experiment.outlook(prepared, spec), ["w", "b"])
    assert status.kind == "converged"
    # the literal loop's last penalized loss (the status says the run's last loss)
    w, b, n = 1.0, 0.0, len(data.y)
    x = data.X[:, 0]
    for _ in range(300):
        r = data.y - (w * x + b)
        w, b = w - 0.1 * ((-2 / n) * (r @ x) + 2 * LAM * w), b - 0.1 * (-2 / n) * r.sum()
    last = np.mean((data.y - w * x - b) ** 2) + LAM * w * w
    assert f"MSE + λ‖w‖² {last:,.3f} at the end against the ridge minimum {j_star:,.3f}" in status.text
    assert "least-squares" not in status.text
    plain = experiment.prepare(make_data(), standardized=False, test_fraction=0.0, split_seed=0)
    plain_run = experiment.run_optimizers(plain, experiment.RunPlan((spec,)))["Gradient descent"]
    text = describe_status(plain_run, plain.fit, experiment.outlook(plain, spec), ["w", "b"]).text
    assert "against the least-squares minimum 312.217" in text and "ridge" not in text and "λ" not in text


def test_the_loss_parameter_and_fit_charts_say_ridge_only_with_a_penalty():
    for l2 in (LAM, 0.0):
        prepared = prepared_ridge(l2)
        runs = experiment.run_optimizers(prepared, experiment.RunPlan((RunSpec(alpha=0.1),)))
        fit, penalized = prepared.fit, bool(prepared.fit.l2)
        loss = charts.loss_chart(charts.loss_table(runs), fit.loss, penalized=penalized)
        params = charts.parameter_chart(
            charts.parameter_table(runs, ["w", "b"]),
            {"w": fit.weights[0], "b": fit.bias},
            penalized=penalized,
        )
        line = charts.fit_chart(
            *charts.fit_tables(prepared.train.X[:, 0], prepared.train.y, runs["Gradient descent"], fit),
            0,
            penalized=penalized,
        )
        every = words(loss.vega_lite()) + words(params.vega_lite()) + words(line.vega_lite())
        minimum = loss.datasets["minimum"]
        assert minimum["loss"].iloc[0] == fit.loss
        if l2:
            assert minimum["label"].iloc[0] == "ridge minimum"
            assert "the ridge minimum" in every and "the ridge values" in every and "red: ridge" in every
            assert "MSE + λ‖w‖² (loss)" in every and "least-squares" not in every
        else:
            assert minimum["label"].iloc[0] == "least-squares minimum"
            assert "ridge" not in every and "λ" not in every
        for chart in (loss, params, line):
            chart.chart.to_dict()  # the templates validate against the Vega-Lite schema


def test_the_equations_carry_2_lambda_w_with_its_number():
    data = make_curve("cubic", n_samples=50, noise=1.0, seed=3)
    prepared = experiment.prepare(data, standardized=True, test_fraction=0.0, split_seed=0, degree=3, l2=LAM)
    run = experiment.run_optimizers(prepared, experiment.RunPlan((RunSpec(alpha=0.05, w0=0.5),)))[
        "Gradient descent"
    ]
    X, y = prepared.train.X, prepared.train.y
    lines = math_panel_numbers(X, y, run, 0.05, l2=LAM).equation_lines
    r = y - (X @ np.full(3, 0.5) + 0.0)
    dw1 = (-2 / len(y)) * (r @ X[:, 0]) + 2 * LAM * 0.5  # the first weight's gradient, penalty included
    j0 = r @ r / len(y) + LAM * 3 * 0.25
    assert r"+ 2 \lambda w_1 = " in lines[2]
    shown = float(re.search(r"2 \\lambda w_1 = (-?[\d.{},]+)\$", lines[2]).group(1).replace("{,}", ""))
    assert shown == pytest.approx(dw1, rel=1e-3)
    start = float(re.search(r"at the start \$J = (-?[\d.{},]+)\$", lines[1]).group(1).replace("{,}", ""))
    assert start == pytest.approx(j0, rel=1e-3)
    assert rf"\lambda = {LAM:g}" in lines[1]


def test_the_report_says_the_penalty_and_the_ridge_optimum():
    prepared = prepared_ridge()
    run = experiment.run_optimizers(prepared, experiment.RunPlan((RunSpec(alpha=0.1),)))["Gradient descent"]
    rows = dict(report.headline_rows("GD", run, prepared.fit, prepared.fit.l2))
    assert rows["Error (MSE + λ‖w‖²)"] == f"{run.best_loss:,.3f} (ridge optimum {prepared.fit.loss:,.3f})"
    settings_rows = dict(report.settings_rows(Settings(l2=LAM, degree=3)))
    assert settings_rows["Ridge penalty λ"].startswith("0.5 (loss MSE + λ‖w‖²")
    assert settings_rows["Polynomial degree"].startswith("3")
    assert "Error (MSE)" in dict(report.headline_rows("GD", run, prepared_ridge(0.0).fit))


# ---------------------------------------------------------------- the page (AppTest)
APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def open_page(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_ridge_page_says_ridge_wherever_it_names_the_optimum():
    at = open_page({"l2": "0.5", "alpha": "0.1", "epochs": "300"})
    data = make_data()
    w_star, b_star, j_star = ridge_objective(data.X, data.y, LAM)
    statuses = " ".join(plain_text(s.value) for s in at.success)
    assert f"against the ridge minimum {j_star:,.3f}" in statuses
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    titles = {spec["title"]["text"]: spec["title"].get("subtitle") for spec in specs}
    assert titles["Loss per epoch"] == "red dashed: the ridge minimum"
    assert titles["Parameters per epoch"] == "thin lines: the ridge values"
    math_tab = open_tab(at, "math")
    theory = " ".join(m.value for m in math_tab.markdown if m.value.startswith("**Theory for this data**"))
    assert "2λ·diag(1, …, 1, 0)" in theory and "λ = 0.5" in theory
    data_tab = open_tab(at, "data")
    text = " ".join(m.value for m in data_tab.markdown)
    assert "beside the ridge optimum (λ = 0.5)" in text
    table = next(df.value for df in data_tab.dataframe if "ridge (w*, b*)" in df.value.columns)
    np.testing.assert_allclose(table["ridge (w*, b*)"], [w_star[0], b_star], rtol=1e-8)


def test_the_blogs_page_never_says_ridge():
    at = open_tab(open_page({}), "math")  # the Math tab's words too
    everything = " ".join(
        [s.value for s in at.success]
        + [m.value for m in at.markdown]
        + [c.value for c in at.caption]
        + [words(json.loads(c.proto.spec)) for c in at.get("vega_lite_chart")]
    )
    assert "ridge" not in everything.lower() and "λ‖w‖²" not in everything
    assert "least-squares minimum" in everything


# ---------------------------------------------------------------- ridge on the landscape
@pytest.mark.parametrize(("features", "i", "j"), [(1, 0, 1), (3, 0, 3), (3, 1, 2)])
def test_the_ridge_landscape_draws_both_bowls_exactly_and_both_optima(features, i, j):
    data = make_data(n_features=features)
    prepared = experiment.prepare(data, standardized=False, test_fraction=0.0, split_seed=0, l2=LAM)
    runs = experiment.run_optimizers(prepared, experiment.RunPlan((RunSpec(alpha=0.1, epochs=50),)))
    view = experiment.landscape_view(prepared, runs, i, j)
    X, y = data.X, data.y
    A = np.column_stack([X, np.ones(len(y))])
    plain_star, *_ = np.linalg.lstsq(A, y, rcond=None)
    w_ridge, b_ridge, _ = ridge_objective(X, y, LAM)
    ridge_star = np.append(w_ridge, b_ridge)
    np.testing.assert_allclose(view.reference_optimum, plain_star[[i, j]], rtol=1e-9)
    np.testing.assert_allclose(view.optimum, ridge_star[[i, j]], rtol=1e-8)
    contours, _, marks = charts.landscape_tables(view, 800)
    assert contours["reference"].any() and (~contours["reference"]).any()
    # every drawn point lies exactly on its level: the plain MSE (others at least squares) for the grey
    # contours, MSE + lambda ||w||^2 (others at the ridge solution) for the others, measured on the data
    # (but the points where a contour is cut at the picture's edge: there the line ends on a chord)
    (u_lo, u_hi), (v_lo, v_hi) = view.reach
    on_edge = np.isclose(contours["u"], u_lo) | np.isclose(contours["u"], u_hi)
    on_edge |= np.isclose(contours["v"], v_lo) | np.isclose(contours["v"], v_hi)
    for reference, star in ((True, plain_star), (False, ridge_star)):
        rows = contours[(contours["reference"] == reference) & ~on_edge].dropna(subset=["u", "v"])
        assert len(rows) > 500
        for row in rows.iloc[::7].itertuples():
            theta = star.copy()
            theta[[i, j]] = row.u, row.v
            r = y - A @ theta
            value = r @ r / len(y) + (0.0 if reference else LAM * theta[:-1] @ theta[:-1])
            assert value == pytest.approx(row.loss, abs=1e-8 * row.level + 1e-10 * row.loss)
    assert list(marks["what"]) == ["start", "ridge optimum", charts.REFERENCE_MARK]
    np.testing.assert_allclose(marks[["u", "v"]].iloc[2], plain_star[[i, j]], rtol=1e-9)
    chart = charts.landscape_chart(contours, *charts.landscape_tables(view, 800)[1:], view.bounds, "u", "v")
    chart.chart.to_dict()
    text = words(chart.vega_lite())
    assert "grey dashed: the MSE" in text and "MSE + λ‖w‖² on this line" in text


def test_without_a_penalty_the_landscape_has_one_bowl_and_says_mse():
    prepared = experiment.prepare(make_data(), standardized=False, test_fraction=0.0, split_seed=0)
    runs = experiment.run_optimizers(prepared, experiment.RunPlan((RunSpec(alpha=0.1, epochs=50),)))
    view = experiment.landscape_view(prepared, runs, 0, 1)
    assert view.reference is None and view.reference_optimum is None
    contours, path, marks = charts.landscape_tables(view, 800)
    assert not contours["reference"].any()
    assert list(marks["what"]) == ["start", "least-squares optimum"]
    text = words(charts.landscape_chart(contours, path, marks, view.bounds, "w", "b").vega_lite())
    assert "contours of the MSE" in text and "λ" not in text


@pytest.mark.parametrize("query", [{"source": "curve"}, {"degree": "3"}, {"l2": "0.5"}])
def test_the_export_tab_offers_no_code_that_would_fit_another_model(query):
    at = open_tab(open_page(query), "export")
    assert not at.exception
    code = " ".join(c.value for c in at.code)
    assert "make_regression(" not in code and "gdcore.descend" not in code
    captions = " ".join(c.value for c in at.caption)
    assert "not an uploaded file, curve data, a polynomial degree or λ" in captions
    assert "neither covers curve data, a polynomial degree or λ." in captions

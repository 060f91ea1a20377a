"""The degree sweep (issue 14): train and test MSE against the polynomial degree, for the optimum and for a
GD run, checked against numpy's lstsq on powers expanded by hand, scikit-learn's Ridge and StandardScaler,
and a literal gradient-descent loop; and the curve data as a source of the page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import open_tab
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler
from streamlit.testing.v1 import AppTest

from gdcore.dashboard import degrees
from gdcore.dashboard.budget import (
    DEGREE_FITS_ROW_S,
    describe_seconds,
    estimate_degree_fits,
    estimate_degree_sweep,
    run_cost,
)
from gdcore.dashboard.explain import plain_text
from gdcore.dashboard.settings import Settings, parse_query, to_query
from gdcore.data import make_curve, make_data
from gdcore.datasets import train_test_indices
from gdcore.spec import RunSpec


def powers(x, degree):
    return np.column_stack([np.ravel(x) ** k for k in range(1, degree + 1)])


def plain_mse(X, y, w, b):
    return float(np.mean((y - X @ w - b) ** 2))


def split(data, fraction, seed):
    train, test = train_test_indices(len(data.y), fraction, seed)
    return data.X[train, 0], data.y[train], data.X[test, 0], data.y[test]


def test_the_optimum_per_degree_is_numpys_lstsq_on_the_raw_powers():
    data = make_curve("sine", n_samples=60, noise=0.4, seed=3)
    sweep = degrees.degree_sweep(
        data, None, standardized=False, test_fraction=0.25, split_seed=7, degrees=tuple(range(1, 9))
    )
    assert list(sweep["degree"]) == list(range(1, 9))
    x, y, x_test, y_test = split(data, 0.25, 7)
    for row in sweep.itertuples():
        A = np.column_stack([powers(x, row.degree), np.ones(len(x))])
        theta, *_ = np.linalg.lstsq(A, y, rcond=None)
        w, b = theta[:-1], theta[-1]
        assert row.optimum_train == pytest.approx(plain_mse(powers(x, row.degree), y, w, b), rel=1e-7)
        assert row.optimum_test == pytest.approx(
            plain_mse(powers(x_test, row.degree), y_test, w, b), rel=1e-6
        )
        assert np.isnan(row.run_train) and np.isnan(row.run_test) and not row.run_diverged
    # nested models: least squares' training MSE never rises with the degree
    assert np.all(np.diff(sweep["optimum_train"]) <= 1e-12)


def test_the_ridge_optimum_per_degree_is_sklearns_ridge_on_the_standardized_powers():
    data = make_curve("cubic", n_samples=80, noise=2.0, seed=11)
    lam = 0.05
    sweep = degrees.degree_sweep(data, None, standardized=True, test_fraction=0.3, split_seed=2, l2=lam)
    assert list(sweep["degree"]) == list(range(1, 13))
    x, y, x_test, y_test = split(data, 0.3, 2)
    for row in sweep.itertuples():
        scaler = StandardScaler().fit(powers(x, row.degree))
        Z, Z_test = scaler.transform(powers(x, row.degree)), scaler.transform(powers(x_test, row.degree))
        ridge = Ridge(alpha=len(y) * lam, solver="svd").fit(Z, y)  # our lambda is Ridge's alpha / N
        expected_train = np.mean((y - ridge.predict(Z)) ** 2)
        expected_test = np.mean((y_test - ridge.predict(Z_test)) ** 2)
        assert row.optimum_train == pytest.approx(expected_train, rel=1e-6)
        assert row.optimum_test == pytest.approx(expected_test, rel=1e-6)


def test_the_run_per_degree_is_a_literal_gd_loop_at_its_best_epoch():
    data = make_curve("sine", n_samples=40, noise=0.3, seed=5)
    spec = RunSpec(alpha=0.05, epochs=300, w0=0.5, b0=-1.0)
    lam = 0.01
    sweep = degrees.degree_sweep(
        data, spec, standardized=True, test_fraction=0.2, split_seed=1, l2=lam, degrees=(1, 3, 6)
    )
    x, y, x_test, y_test = split(data, 0.2, 1)
    n = len(y)
    for row in sweep.itertuples():
        mean, std = powers(x, row.degree).mean(axis=0), powers(x, row.degree).std(axis=0)
        Z, Z_test = (powers(x, row.degree) - mean) / std, (powers(x_test, row.degree) - mean) / std
        w, b = np.full(row.degree, 0.5), -1.0
        states = [(np.mean((y - Z @ w - b) ** 2) + lam * w @ w, w.copy(), b)]
        for _ in range(300):  # the blog's loop, fixed, with the penalty's gradient 2 lambda w
            r = y - (Z @ w + b)
            w, b = w - 0.05 * ((-2 / n) * (Z.T @ r) + 2 * lam * w), b - 0.05 * (-2 / n) * r.sum()
            states.append((np.mean((y - Z @ w - b) ** 2) + lam * w @ w, w.copy(), b))
        losses = np.array([state[0] for state in states])
        assert not row.run_diverged
        # the best epoch: the lowest loss, to rounding (the loss is flat to ~1e-15 there, so the epoch
        # itself may differ by a few from the loop's argmin)
        assert losses[row.run_epoch] == pytest.approx(losses.min(), rel=1e-12)
        _, w_best, b_best = states[row.run_epoch]
        assert row.run_train == pytest.approx(plain_mse(Z, y, w_best, b_best), rel=1e-8)
        assert row.run_test == pytest.approx(plain_mse(Z_test, y_test, w_best, b_best), rel=1e-8)


def test_a_step_too_large_for_the_raw_high_degrees_is_said_as_diverged_there():
    data = make_curve("cubic", n_samples=50, noise=1.0, seed=0)
    sweep = degrees.degree_sweep(
        data, RunSpec(alpha=0.01, epochs=50), standardized=False, test_fraction=0.0, split_seed=0
    )
    x = data.X[:, 0]
    # GD diverges where alpha is above 2 / lambda_max of that degree's Hessian (2/N) A^T A
    for row in sweep.itertuples():
        A = np.column_stack([powers(x, row.degree), np.ones(len(x))])
        lam_max = np.linalg.eigvalsh(2 * A.T @ A / len(x)).max()
        assert row.run_diverged == (2 / lam_max < 0.01)
    assert sweep["run_diverged"].any() and not sweep["run_diverged"].all()
    lines = degrees.sweep_summary(sweep, 0.0, "Gradient descent")
    listed = ", ".join(str(d) for d in sweep.loc[sweep["run_diverged"], "degree"])
    assert f"Gradient descent diverged at degree {listed} with these settings" in lines[-1]
    assert len(lines) == 2  # no test rows: no test sentence


def test_the_summary_says_overfitting_only_from_the_numbers():
    data = make_curve("sine", n_samples=40, noise=0.5, seed=1)
    plain = degrees.degree_sweep(data, None, standardized=True, test_fraction=0.3, split_seed=42)
    lines = degrees.sweep_summary(plain, 0.0, "GD")
    first, last = plain.iloc[0], plain.iloc[-1]
    assert lines[0] == (
        f"The least-squares optimum: its training MSE falls from {first['optimum_train']:,.4g} at degree 1 "
        f"to {last['optimum_train']:,.4g} at degree 12."
    )
    k = int(np.argmin(plain["optimum_test"]))
    ratio = last["optimum_test"] / plain["optimum_test"].iloc[k]
    assert ratio >= degrees.OVERFIT_RATIO  # this data overfits at degree 12 without a penalty
    assert lines[1].startswith(
        f"Its test MSE is lowest at degree {k + 1} ({plain['optimum_test'].iloc[k]:,.4g}) and "
        f"{last['optimum_test']:,.4g} at degree 12, {ratio:,.3g}× its lowest"
    )
    assert "(overfitting). Raise λ to tame it." in lines[1]
    # the penalty tames the test MSE at the high degrees: no overfitting said, and the numbers agree
    tamed = degrees.degree_sweep(data, None, standardized=True, test_fraction=0.3, split_seed=42, l2=0.01)
    assert tamed["optimum_test"].iloc[-1] < plain["optimum_test"].iloc[-1] / 1.5
    tamed_lines = degrees.sweep_summary(tamed, 0.01, "GD")
    assert tamed_lines[0].startswith("The ridge optimum (λ = 0.01): its training MSE falls")
    assert "overfitting" not in tamed_lines[1] and tamed_lines[1].endswith(
        f"within {degrees.OVERFIT_RATIO:g}× its lowest."
    )
    # on the cubic, lambda = 0.01 leaves the test MSE lowest at degree 12 itself: said as such
    cubic = degrees.degree_sweep(
        make_curve("cubic"), None, standardized=True, test_fraction=0.3, split_seed=42, l2=0.01
    )
    assert int(np.argmin(cubic["optimum_test"])) == 11
    assert degrees.sweep_summary(cubic, 0.01, "GD")[1] == (
        f"Its test MSE is lowest at the highest degree, 12 ({cubic['optimum_test'].iloc[-1]:,.4g}): no "
        "overfitting up to degree 12."
    )


def test_the_chart_table_has_every_finite_number_and_the_chart_validates():
    data = make_curve("cubic", n_samples=30, noise=1.0, seed=2)
    sweep = degrees.degree_sweep(
        data, RunSpec(alpha=0.1, epochs=20), standardized=True, test_fraction=0.0, split_seed=0
    )
    table = degrees.sweep_table(sweep)
    assert len(table) == 2 * 12  # train rows of the optimum and of the run; no test rows without a split
    assert set(table["rows"]) == {"train"} and set(table["fit"]) == set(degrees.FITS)
    run_rows = table[table["fit"] == "GD run"].sort_values("degree")
    np.testing.assert_array_equal(run_rows["mse"], sweep["run_train"])
    chart = degrees.sweep_chart(table, 3, "Gradient descent", penalized=True)
    chart.chart.to_dict()  # validates against the Vega-Lite schema
    spec = chart.vega_lite()
    assert spec["params"][0] == {"name": "current_degree", "value": 3}
    words = json.dumps({key: value for key, value in spec.items() if key != "datasets"}, ensure_ascii=False)
    assert "ridge optimum" in words and "least squares" not in words
    # the legend lists the series drawn: no test rows here, so no "test" entries
    legend = next(
        layer for layer in spec["layer"] if layer["mark"]["type"] == "line" and "color" in layer["encoding"]
    )
    assert legend["encoding"]["color"]["scale"]["domain"] == [
        "ridge optimum, train",
        "Gradient descent (best epoch), train",
    ]


def test_the_runs_per_degree_are_priced_by_their_own_feature_counts():
    spec = RunSpec(optimizer="adam", batch_size=8, epochs=100)
    cost = estimate_degree_sweep(spec, 1000, degrees.DEGREES)
    assert [run.seconds for run in cost.runs] == [run_cost(spec, 1000, d).seconds for d in range(1, 13)]
    assert cost.seconds == pytest.approx(sum(run_cost(spec, 1000, d).seconds for d in range(1, 13)))


# ---------------------------------------------------------------- the page (AppTest)
APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def open_page(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts_of(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def test_curve_data_is_a_source_with_its_own_link_keys():
    settings, notices = parse_query(
        {"source": "curve", "curve": "sine", "curve_noise": "0.5", "samples": "200"}
    )
    assert not notices
    spec = settings.data()
    assert (spec.shape, spec.n_samples, spec.noise, spec.seed) == ("sine", 200, 0.5, 42)
    np.testing.assert_array_equal(spec.make().y, make_curve("sine", n_samples=200, noise=0.5, seed=42).y)
    assert to_query(settings) == {"samples": "200", "source": "curve", "curve": "sine", "curve_noise": "0.5"}
    assert Settings().data().make().name == make_data().name  # the blog's data stays the default
    bad, notices = parse_query({"curve": "parabola"})
    assert bad.curve == "cubic" and "curve must be one of cubic, sine; got 'parabola'" in notices[0]
    assert "curve_noise must be from 0 to 10" in parse_query({"curve_noise": "11"})[1][0]


def test_the_page_fits_a_curve_from_a_link_and_draws_the_sweep_in_the_data_tab():
    query = {"source": "curve", "curve": "sine", "degree": "5", "standardize": "true", "alpha": "0.1"}
    at = open_page({**query, "epochs": "500", "test_fraction": "0.3"})
    assert at.get_by_key("source").value == "curve" and at.get_by_key("curve").value == "sine"
    names = {ds.name for c in at.get("vega_lite_chart") for ds in c.proto.datasets}
    assert {"curve_points", "curves", "optimum_curve"} <= names
    assert "degree_sweep" not in names  # drawn only in its tab
    at = open_tab(at, "data")
    assert not at.exception
    sweep_chart = next(c for c in at.get("vega_lite_chart") if "degree_sweep" in c.proto.spec)
    assert "degree_sweep" in {ds.name for ds in sweep_chart.proto.datasets}
    data = make_curve("sine", n_samples=100, noise=1.0, seed=42)
    expected = degrees.degree_sweep(
        data, RunSpec(alpha=0.1, epochs=500), standardized=True, test_fraction=0.3, split_seed=42
    )
    text = " ".join(plain_text(m.value) for m in at.markdown)
    for line in degrees.sweep_summary(expected, 0.0, "Gradient descent"):
        assert line in text


def test_the_sweep_on_data_with_several_features_says_why_not():
    at = open_tab(open_page({"features": "3"}), "data")
    assert not at.exception
    assert any("The degree sweep needs data with one input x" in c.value for c in at.caption)
    assert not any("degree_sweep" in c.proto.spec for c in at.get("vega_lite_chart"))


def test_runs_over_the_budget_leave_the_optimum_only(monkeypatch):
    # the main run: 3e-5 s (closed form); the twelve fits on 100 rows: 2.5e-3 s; the twelve runs 4e-4 s
    monkeypatch.setenv("GDLAB_ASK_ABOVE_S", "0.0001")
    monkeypatch.setenv("GDLAB_REFUSE_ABOVE_S", "1000")
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params.update({"source": "curve", "degree": "3", "test_fraction": "0.2", "epochs": "100"})
    at.run()
    at = open_tab(at, "data")
    assert not at.exception
    # the fits wait to be asked for, with their estimate
    seconds = estimate_degree_fits(100)
    info = " ".join(i.value for i in at.info)
    assert f"takes about {describe_seconds(seconds)} of this server's time" in info
    assert not any("degree_sweep" in c.proto.spec for c in at.get("vega_lite_chart"))
    at.button(key="degree_sweep_go").click().run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "Gradient descent once per degree would take about" in captions
    assert "only the optimum is drawn" in captions
    sweep_chart = next(c for c in at.get("vega_lite_chart") if "degree_sweep" in c.proto.spec)
    assert "degree_sweep" in {ds.name for ds in sweep_chart.proto.datasets}
    text = " ".join(plain_text(m.value) for m in at.markdown)
    assert "at its best epoch" not in text and "The least-squares optimum: its training MSE" in text


def test_fits_over_the_refusal_limit_are_not_offered(monkeypatch):
    monkeypatch.setenv("GDLAB_ASK_ABOVE_S", "0.0001")
    monkeypatch.setenv("GDLAB_REFUSE_ABOVE_S", "0.001")  # below the fits' 2.5e-3 s on 100 rows
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params.update({"source": "curve", "degree": "3"})
    at.run()
    at = open_tab(at, "data")
    assert not at.exception
    info = " ".join(i.value for i in at.info)
    assert "more than one request may take here" in info and "choose fewer samples" in info
    assert not [b for b in at.button if b.key == "degree_sweep_go"]
    assert not any("degree_sweep" in c.proto.spec for c in at.get("vega_lite_chart"))


def test_the_fits_estimate_is_per_row():
    assert estimate_degree_fits(1_000_000) == pytest.approx(1_000_000 * DEGREE_FITS_ROW_S)
    assert estimate_degree_fits(200) == pytest.approx(2 * estimate_degree_fits(100))


def test_kappa_per_degree_is_that_of_the_hessians_eigenvalues():
    from gdcore.dashboard import curves, experiment

    data = make_curve("cubic", n_samples=80, noise=1.0, seed=9)
    prepared = experiment.prepare(data, standardized=True, test_fraction=0.25, split_seed=3, degree=4)
    table = curves.condition_table(prepared)
    assert list(table["degree"]) == list(range(1, 13))
    x = split(data, 0.25, 3)[0]
    for row in table.itertuples():
        raw = np.column_stack([powers(x, row.degree), np.ones(len(x))])
        eigenvalues = np.linalg.eigvalsh(2 * raw.T @ raw / len(x))
        kappa = eigenvalues.max() / eigenvalues.min()
        tolerance = 1e-6 + 50 * kappa * np.finfo(float).eps  # the smallest eigenvalue's rounding
        assert row.kappa_raw == pytest.approx(kappa, rel=tolerance)
        z = StandardScaler().fit_transform(powers(x, row.degree))
        standardized = np.linalg.cond(np.column_stack([z, np.ones(len(x))])) ** 2  # kappa(A^T A) = cond(A)^2
        tolerance = 1e-6 + 50 * standardized * np.finfo(float).eps
        assert row.kappa_standardized == pytest.approx(standardized, rel=tolerance)
    assert table["kappa_raw"].iloc[-1] > 1e4 * table["kappa_standardized"].iloc[-1]


def test_the_sweep_tab_says_its_losses_are_penalized():
    at = open_tab(open_page({"l2": "0.5"}), "sweep")
    at.toggle(key="sweep").set_value(True).run()
    assert not at.exception
    assert any("every loss here is the penalized loss MSE + λ‖w‖²" in c.value for c in at.caption)
    plain = open_tab(open_page({}), "sweep")
    plain.toggle(key="sweep").set_value(True).run()
    assert not any("penalized" in c.value for c in plain.caption)


def test_switching_to_curve_data_keeps_samples_and_seed_and_the_curve_settings_persist():
    at = open_page({"samples": "200", "seed": "7"})
    at.radio(key="source").set_value("curve").run()
    assert not at.exception
    assert (at.session_state["samples"], at.session_state["seed"]) == (200, 7)
    at.radio(key="curve").set_value("sine").run()
    at.slider(key="curve_noise").set_value(0.5).run()
    assert dict(at.query_params) == {
        "samples": "200",
        "seed": "7",
        "source": "curve",
        "curve": "sine",
        "curve_noise": "0.5",
    }
    data = make_curve("sine", n_samples=200, noise=0.5, seed=7)
    at.radio(key="source").set_value("synthetic").run()
    at.radio(key="source").set_value("curve").run()  # away and back: the curve's own settings kept
    assert not at.exception
    assert (at.session_state["curve"], at.session_state["curve_noise"]) == ("sine", 0.5)
    at = open_tab(at, "data")
    shown = " ".join(m.value for m in at.markdown)
    assert plain_text(data.name) in plain_text(shown)

"""The dashboard as a user meets it, run headlessly with `streamlit.testing.v1.AppTest`.

Widgets are found by key (never by position), charts by the names of their data sets, and numbers are
checked against the blog's corrected figures or an independent computation (numpy on the shipped data,
`gdcore.descend` / the literal loop `gdcore.reference_descend`).
"""

from __future__ import annotations

import io
import math
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import BLOG_LINE, REPO_ROOT, design_matrix, open_tab
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import gdcore
from gdcore.dashboard.explain import plain_text
from gdcore.dashboard.settings import DEFAULTS, parse_query

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
TIMEOUT = 60
MAX_ROWS = 5000
BLOG_METRICS = {"Best epoch": "100", "Error (MSE)": "378.512", "Weight w": "38.184", "Bias b": "0.451"}
# The data set that names each of the four main charts.
CHART_KINDS = {"loss": "loss", "parameters": "parameters", "fit": "points", "landscape": "contours"}
STATUS = re.compile(r"\*\*(Converged|Still descending|Diverged)\*\*")


# ---------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def media():
    """Every file the app hands to Streamlit's media manager (downloads), by file id: the bytes of an
    eager download, or the callable of a deferred one (`st.download_button(data=callable)`)."""
    files: dict[str, bytes | Callable] = {}
    original = MemoryMediaFileStorage.load_and_get_id
    original_deferred = MediaFileManager.add_deferred

    def recording(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        files[file_id] = path_or_data if isinstance(path_or_data, bytes) else Path(path_or_data).read_bytes()
        return file_id

    def recording_deferred(self, data_callable, *args, **kwargs):
        file_id = original_deferred(self, data_callable, *args, **kwargs)
        files[file_id] = data_callable
        return file_id

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
        patch.setattr(MediaFileManager, "add_deferred", recording_deferred)
        yield files


def run_app(query: dict[str, str] | None = None, **widgets) -> AppTest:
    """A fresh session: open the app (with URL query parameters), then change widgets one at a time."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    assert_ok(at)
    for key, value in widgets.items():
        at.get_by_key(key).set_value(value).run()
        assert_ok(at)
    return at


def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture(scope="module")
def default_app(media) -> AppTest:
    """One default session shared by the read-only tests."""
    return run_app()


def decode(arrow: bytes) -> pd.DataFrame:
    """A chart data set as Streamlit ships it: Arrow IPC stream bytes."""
    return pa.ipc.open_stream(arrow).read_all().to_pandas()


def chart_data(at: AppTest) -> dict[str, dict[str, pd.DataFrame]]:
    """{kind: {data set name: table}} for every Vega-Lite chart; kind from CHART_KINDS, else the first name."""
    found = {}
    for chart in at.get("vega_lite_chart"):
        tables = {ds.name: decode(ds.data.data) for ds in chart.proto.datasets}
        kind = next((k for k, name in CHART_KINDS.items() if name in tables), next(iter(tables), "?"))
        if kind == "?" and "predictions" in tables:
            kind = "fit"
        assert kind not in found, f"two charts of kind {kind}"
        found[kind] = tables
    return found


def chart_spec(at: AppTest, kind: str) -> str:
    for chart in at.get("vega_lite_chart"):
        if CHART_KINDS[kind] in {ds.name for ds in chart.proto.datasets}:
            return chart.proto.spec
    raise AssertionError(f"no {kind} chart")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def status(at: AppTest) -> tuple[str, str]:
    """(element type, text) of the run's status message."""
    found = [
        (kind, el.value)
        for kind in ("success", "info", "error")
        for el in at.get(kind)
        if STATUS.search(str(el.value))
    ]
    assert len(found) == 1, found
    return found[0]


def code_blocks(at: AppTest) -> list[str]:
    """The code blocks of the Export & share tab: the reproduce snippet and the share link."""
    open_tab(at, "export")
    return [c.value for c in at.code]


def reproduce_block(at: AppTest) -> str:
    blocks = [c for c in code_blocks(at) if "gdcore.descend" in c]
    assert len(blocks) == 1, code_blocks(at)
    return blocks[0]


def share_url(at: AppTest) -> str:
    urls = [c for c in code_blocks(at) if c.startswith("http")]
    assert len(urls) == 1, code_blocks(at)
    return urls[0]


def metric_line(at: AppTest) -> str:
    """The metrics in the blog's printout format (the metrics show thousands separators)."""
    m = {k: v.replace(",", "") for k, v in metrics(at).items()}
    return (
        f"Best epoch: {m['Best epoch']}, Error: {m['Error (MSE)']}, "
        f"Weights: {m['Weight w']}, Bias: {m['Bias b']}"
    )


def blog_run(**changes) -> gdcore.Trajectory:
    """gdcore.descend on make_data, for settings = the defaults with `changes` (Settings field names)."""
    settings = replace(DEFAULTS, **changes)
    data = gdcore.make_data(n_samples=settings.samples, noise=settings.noise, seed=settings.seed)
    return gdcore.descend(
        data.X,
        data.y,
        alpha=settings.alpha,
        epochs=settings.epochs,
        w0=settings.w0,
        b0=settings.b0,
        tol=settings.tol if settings.stop else None,
    )


def assert_bounded(at: AppTest, best_epoch: int, last_epoch: int) -> None:
    """Every chart ships <= MAX_ROWS rows in all; the loss and parameter data hold first, best, last."""
    tables = chart_data(at)
    assert set(CHART_KINDS) <= set(tables)
    for kind, chart in tables.items():
        rows = sum(len(t) for t in chart.values())
        assert rows <= MAX_ROWS, f"the {kind} chart ships {rows:,} rows"
    loss = tables["loss"]["loss"]
    for run_name, run_rows in loss.groupby("run"):
        epochs = set(run_rows["epoch"])
        assert {0, best_epoch, last_epoch} <= epochs, run_name
        flagged = run_rows.loc[run_rows["best"], "epoch"].tolist()
        assert flagged == [best_epoch], run_name
        assert run_rows.loc[run_rows["epoch"] == best_epoch, "loss"].iloc[0] == run_rows["loss"].min()
    params = tables["parameters"]["parameters"]
    assert {0, best_epoch, last_epoch} <= set(params["epoch"])


# ---------------------------------------------------------------- the default run
def test_default_run_shows_charts_metrics_and_status(default_app):
    at = default_app
    assert_ok(at)
    tables = chart_data(at)
    assert set(CHART_KINDS) <= set(tables), sorted(tables)
    for label, value in BLOG_METRICS.items():
        assert metrics(at)[label] == value, label
    assert metric_line(at) == BLOG_LINE
    kind, text = status(at)
    # 96% of the gap to the optimum is closed after 100 epochs at alpha 0.01: still descending.
    assert kind == "info" and "Still descending" in text
    assert [plain_text(w.value) for w in at.warning] == []  # no URL notice on a clean start
    assert dict(at.query_params) == {}


def test_default_charts_hold_the_run(default_app):
    tables = chart_data(default_app)
    loss = tables["loss"]["loss"]
    assert loss["epoch"].tolist() == list(range(101))  # 101 states: nothing to downsample
    points = tables["fit"]["points"]
    assert len(points) == 100
    # Independent check: the first loss is the MSE of the blog's start line on the shipped data.
    start = np.mean((points["y"] - (1.0 * points["x"] + 0.0)) ** 2)
    assert loss["loss"].iloc[0] == pytest.approx(start, rel=1e-12)
    # The least-squares minimum drawn as a rule is numpy's lstsq optimum of the same points.
    theta, *_ = np.linalg.lstsq(design_matrix(points[["x"]].to_numpy()), points["y"].to_numpy(), rcond=None)
    residual = points["y"] - design_matrix(points[["x"]].to_numpy()) @ theta
    assert tables["loss"]["minimum"]["loss"].iloc[0] == pytest.approx(np.mean(residual**2), rel=1e-9)
    optimum = tables["parameters"]["optimum"].set_index("parameter")["value"]
    assert optimum["w"] == pytest.approx(theta[0], rel=1e-9)
    assert optimum["b"] == pytest.approx(theta[1], rel=1e-9)
    assert len(tables["landscape"]["path"]) > 0 and set(tables["landscape"]["marks"]["what"]) >= {"start"}


def test_alpha_max_is_shown_next_to_alpha(default_app):
    captions = [c.value for c in default_app.sidebar.get("caption") if "α_max" in c.value]
    assert captions, "alpha_max for the current data belongs beside the alpha slider"
    shown = float(re.search(r"α_max = \**([0-9.]+)", captions[0]).group(1))
    data = gdcore.make_data()
    hessian = 2.0 / data.n_samples * design_matrix(data.X).T @ design_matrix(data.X)
    assert shown == pytest.approx(2.0 / np.linalg.eigvalsh(hessian).max(), rel=1e-3)


# ---------------------------------------------------------------- each widget alone
def test_samples_changes_the_data_shown():
    at = run_app(samples=200)
    assert len(chart_data(at)["fit"]["points"]) == 200
    assert metrics(at)["Error (MSE)"] != BLOG_METRICS["Error (MSE)"]


def test_seed_changes_the_data(default_app):
    at = run_app(seed=7)
    before, after = chart_data(default_app)["fit"]["points"], chart_data(at)["fit"]["points"]
    assert len(after) == 100 and not np.allclose(np.sort(before["x"]), np.sort(after["x"]))
    assert metric_line(at) == blog_run(seed=7).summary_line()


def test_noise_zero_puts_the_points_on_a_line():
    at = run_app(noise=0.0)
    tables = chart_data(at)
    assert tables["loss"]["minimum"]["loss"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    points = tables["fit"]["points"]
    slope, intercept = np.polyfit(points["x"], points["y"], 1)
    np.testing.assert_allclose(points["y"], slope * points["x"] + intercept, atol=1e-9)


def test_alpha_changes_the_metrics():
    at = run_app(alpha=0.1)
    m = metrics(at)
    assert m["Best epoch"] == "100"
    # A larger (still stable) step ends closer to the least-squares optimum 312.217.
    assert 312.0 < float(m["Error (MSE)"]) < 378.512
    assert metric_line(at) == blog_run(alpha=0.1).summary_line()
    assert status(at)[0] == "success"


def test_epochs_changes_the_best_epoch():
    at = run_app(epochs=50)
    assert metrics(at)["Best epoch"] == "50"
    assert chart_data(at)["loss"]["loss"]["epoch"].max() == 50
    assert metric_line(at) == blog_run(epochs=50).summary_line()


@pytest.mark.parametrize(("key", "value"), [("w0", 10.0), ("w0", -100.0), ("b0", 5.0), ("b0", 100.0)])
def test_start_changes_the_first_loss_row(key, value):
    at = run_app(**{key: value})
    tables = chart_data(at)
    first = tables["loss"]["loss"].sort_values("epoch").iloc[0]
    points = tables["fit"]["points"]
    w0, b0 = (value, 0.0) if key == "w0" else (1.0, value)
    assert first["epoch"] == 0
    assert first["loss"] == pytest.approx(np.mean((points["y"] - (w0 * points["x"] + b0)) ** 2), rel=1e-12)
    start = tables["parameters"]["parameters"].query("epoch == 0").set_index("parameter")["value"]
    assert (start["w"], start["b"]) == (w0, b0)


def test_stop_enables_its_tolerance():
    at = run_app()
    assert at.get_by_key("tol").disabled
    at.get_by_key("stop").set_value(True).run()
    assert_ok(at)
    assert not at.get_by_key("tol").disabled
    assert metrics(at)["Best epoch"] == "100"  # tol 1e-6 is not reached within 100 epochs


def test_stop_and_tol_stop_early():
    at = run_app(epochs=1000, stop=True, tol=1e-3)
    expected = blog_run(epochs=1000, stop=True, tol=1e-3)
    assert expected.stop_reason == "converged" and expected.epochs_run < 1000
    assert chart_data(at)["loss"]["loss"]["epoch"].max() == expected.epochs_run
    assert metric_line(at) == expected.summary_line()
    kind, text = status(at)
    assert kind == "success" and "stabilized" in text


def test_tol_sets_how_early_the_run_stops():
    at = run_app(epochs=1000, stop=True, tol=1e-3)
    early = chart_data(at)["loss"]["loss"]["epoch"].max()
    at.get_by_key("tol").set_value(1e-4).run()
    assert_ok(at)
    expected = blog_run(epochs=1000, stop=True, tol=1e-4)
    assert early < expected.epochs_run < 1000  # a smaller tolerance runs longer
    assert chart_data(at)["loss"]["loss"]["epoch"].max() == expected.epochs_run
    assert metric_line(at) == expected.summary_line()
    assert "stop=true" in share_url(at) and "tol=0.0001" in share_url(at)


def test_log_scale_toggle():
    at = run_app()
    assert '"log"' in chart_spec(at, "loss")
    at.get_by_key("log_loss").set_value(False).run()
    assert_ok(at)
    assert '"log"' not in chart_spec(at, "loss")


def test_reset_and_new_seed_buttons():
    at = run_app(alpha=0.1, epochs=50, w0=5.0)
    [reset] = [b for b in at.button if "Reset" in str(b.label)]
    reset.click().run()
    assert_ok(at)
    assert metric_line(at) == BLOG_LINE
    [new_seed] = [b for b in at.button if "seed" in str(b.label).lower()]
    new_seed.click().run()
    assert_ok(at)
    assert at.get_by_key("seed").value != 42


# ---------------------------------------------------------------- divergence
@pytest.mark.parametrize(("alpha", "epochs"), [(1.0, 100), (2.0, 100), (10.0, 1000)])
def test_alpha_above_alpha_max_shows_diverged(alpha, epochs):
    at = run_app(alpha=alpha, epochs=epochs)
    kind, text = status(at)
    assert kind == "error" and "Diverged" in text
    assert f"α = {alpha:g}" in text
    named = float(re.search(r"α_max = ([0-9.]+)", text).group(1))
    assert named == pytest.approx(0.954, abs=5e-4)  # the blog data's alpha_max, 0.9536
    assert "α_opt" in text  # and what to try instead
    tables = chart_data(at)
    assert set(CHART_KINDS) <= set(tables)  # nothing hidden
    loss = tables["loss"]["loss"]
    assert np.isfinite(loss["loss"]).all() and loss["loss"].iloc[-1] > loss["loss"].iloc[0]  # not clamped
    if epochs == 1000:
        assert "overflowed" in text and loss["epoch"].max() < 1000


# ---------------------------------------------------------------- size of what is shipped
def test_100000_epochs_ship_bounded_charts_with_the_best_epoch():
    at = run_app(epochs=100_000)
    expected = blog_run(epochs=100_000)
    assert metrics(at)["Best epoch"] == f"{expected.best_epoch:,}"
    assert_bounded(at, expected.best_epoch, 100_000)


def test_landscape_path_epochs_are_epochs_on_a_long_run():
    """The path's tooltips say "Epoch": at 100,000 epochs the last point is epoch 100,000."""
    at = run_app(epochs=100_000)
    path = chart_data(at)["landscape"]["path"]
    assert path["epoch"].min() == 0
    assert path["epoch"].max() == 100_000


def test_a_million_samples_and_100000_epochs_ship_bounded_charts():
    at = run_app({"samples": "1000000", "epochs": "100000"})
    expected = blog_run(samples=1_000_000, epochs=100_000)
    assert metrics(at)["Best epoch"] == f"{expected.best_epoch:,}"
    assert_bounded(at, expected.best_epoch, 100_000)


def test_three_runs_overlaid_stay_bounded():
    at = run_app(epochs=100_000)
    try:
        optimizers = at.get_by_key("optimizers")
    except KeyError:
        pytest.skip("no optimizer choice in this version of the app")
    chosen = list(optimizers.options)[:3]
    optimizers.set_value(chosen).run()
    assert_ok(at)
    tables = chart_data(at)
    assert tables["loss"]["loss"]["run"].nunique() == 3
    for kind, chart in tables.items():
        assert sum(len(t) for t in chart.values()) <= MAX_ROWS, kind
    for _, run_rows in tables["loss"]["loss"].groupby("run"):
        best = run_rows.loc[run_rows["best"], "epoch"].tolist()
        assert len(best) == 1 and {0, best[0]} <= set(run_rows["epoch"])
        assert run_rows.loc[run_rows["epoch"] == best[0], "loss"].iloc[0] == run_rows["loss"].min()


# ---------------------------------------------------------------- export
CHANGED = {"alpha": "0.1", "epochs": "37", "w0": "-3.0", "b0": "2.0", "seed": "7", "samples": "500"}


@pytest.fixture(scope="module")
def changed_app(media) -> AppTest:
    return run_app(CHANGED)


def downloaded_csv(at: AppTest, media: dict) -> pd.DataFrame:
    """The CSV a click on the download button delivers (eager: the stored bytes; deferred: the callable's)."""
    button = open_tab(at, "export").get_by_key("download_csv").proto
    if button.url:
        content = media[Path(urlsplit(button.url).path).stem]
    else:
        content = media[button.deferred_file_id]()
        content = content.read() if hasattr(content, "read") else content
    if isinstance(content, str):
        content = content.encode()
    return pd.read_csv(io.BytesIO(content))


@pytest.mark.parametrize("which", ["default", "changed"])
def test_csv_download_matches_descend(which, default_app, changed_app, media):
    at, changes = (
        (default_app, {}) if which == "default" else (changed_app, parse_query(CHANGED)[0].changed())
    )
    table = downloaded_csv(at, media)
    expected = blog_run(**changes)
    assert list(table.columns) == ["epoch", "loss", "w", "bias"]
    assert table["epoch"].tolist() == list(range(expected.epochs_run + 1))
    np.testing.assert_allclose(table["loss"], expected.loss, rtol=1e-12)
    np.testing.assert_allclose(table["w"], expected.weights[:, 0], rtol=1e-12)
    np.testing.assert_allclose(table["bias"], expected.bias, rtol=1e-12, atol=1e-12)
    # And against the blog's loop, written out literally (independent of the fast path).
    s = replace(DEFAULTS, **changes)
    data = gdcore.make_data(n_samples=s.samples, noise=s.noise, seed=s.seed)
    literal = gdcore.reference_descend(data.X, data.y, alpha=s.alpha, epochs=s.epochs, w0=s.w0, b0=s.b0)
    np.testing.assert_allclose(table["loss"], literal.loss, rtol=1e-9)
    np.testing.assert_allclose(table["w"], literal.weights[:, 0], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("which", ["default", "changed"])
def test_reproduce_code_prints_the_metrics_line(which, default_app, changed_app):
    at = default_app if which == "default" else changed_app
    result = subprocess.run(
        [sys.executable, "-c", reproduce_block(at)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == metric_line(at)
    if which == "default":
        assert metric_line(at) == BLOG_LINE


def test_share_url_carries_the_changed_settings(default_app, changed_app):
    assert "?" not in share_url(default_app)  # the blog's settings need no query
    query = dict(parse_qsl(urlsplit(share_url(changed_app)).query))
    assert parse_query(query) == parse_query(CHANGED)
    assert {k: float(v) for k, v in query.items() if k in CHANGED} == {
        k: float(v) for k, v in CHANGED.items()
    }
    # The browser's address bar carries the same settings.
    assert parse_query(dict(changed_app.query_params)) == parse_query(CHANGED)


# ---------------------------------------------------------------- URL
def test_query_params_restore_a_view(changed_app):
    at = changed_app
    expected = parse_query(CHANGED)[0]
    assert [plain_text(w.value) for w in at.warning] == []
    for key in CHANGED:
        assert at.get_by_key(key).value == getattr(expected, key), key
    assert metric_line(at) == blog_run(**expected.changed()).summary_line()
    assert len(chart_data(at)["fit"]["points"]) == 500


def test_query_params_restore_stop_and_tol():
    at = run_app({"stop": "true", "tol": "0.001", "epochs": "1000"})
    assert [plain_text(w.value) for w in at.warning] == []
    assert at.get_by_key("stop").value is True
    assert at.get_by_key("tol").value == 1e-3
    assert metric_line(at) == blog_run(stop=True, tol=1e-3, epochs=1000).summary_line()


JUNK_QUERIES = {
    "samples": "7",
    "noise": "nan",
    "seed": "1.5",
    "alpha": "junk",
    "epochs": "0",
    "w0": "1e9",
    "b0": "-inf",
    "stop": "maybe",
    "tol": "0.5",
}


@pytest.mark.parametrize(("key", "raw"), JUNK_QUERIES.items())
def test_junk_query_param_falls_back_with_a_notice(key, raw):
    at = run_app({key: raw})
    warnings = [plain_text(w.value) for w in at.warning]
    assert len(warnings) == 1 and key in warnings[0] and repr(raw) in warnings[0], warnings
    assert at.get_by_key(key).value == getattr(DEFAULTS, key)
    assert metric_line(at) == BLOG_LINE
    assert key not in at.query_params  # the address bar no longer carries the junk


def test_all_junk_at_once_and_unknown_keys():
    at = run_app({**JUNK_QUERIES, "utm_source": "newsletter", "alpha": "1e300"})
    warnings = [plain_text(w.value) for w in at.warning]
    assert len(warnings) == len(JUNK_QUERIES)
    assert not any("utm_source" in w for w in warnings)
    assert metric_line(at) == BLOG_LINE


def test_out_of_range_alpha_in_the_url_is_not_clamped_silently():
    at = run_app({"alpha": "50"})
    assert any("alpha" in plain_text(w.value) for w in at.warning)
    assert at.get_by_key("alpha").value == DEFAULTS.alpha
    assert not math.isclose(at.get_by_key("alpha").value, 10.0)

"""The HTML report (issue 12 §6): one file with the settings, the headline, every run, the charts as
Vega-Lite and the share link; its text is escaped, its specs are the page's, its chart scripts are inline."""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import open_tab
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

import gdcore
from gdcore.dashboard import charts, report
from gdcore.dashboard.settings import DEFAULTS

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def blog_charts():
    data = gdcore.make_data()
    run = gdcore.descend(data.X, data.y)
    fit = gdcore.least_squares(data.X, data.y)
    loss = charts.loss_chart(charts.loss_table({"GD": run}), fit.loss)
    parameters = charts.parameter_chart(charts.parameter_table({"GD": run}, ["w", "b"]), {"w": 1.0, "b": 0.0})
    return run, fit, [("Loss", loss), ("Parameters", parameters)]


def specs_of(document: str) -> dict:
    found = re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', document, re.S)
    return json.loads(found.group(1))


def test_vega_embed_is_found_and_its_imports_are_named():
    modules = report.vega_modules()
    assert modules, "the installed Streamlit ships vega-embed as ES modules"
    entry = report.entry_module(modules)
    assert re.search(r"export\{[^}]*\bas t\b", modules[entry])  # vega-embed's default function is `t`
    for source in modules.values():
        assert not re.search(r"""(from|import)\s*["']\./""", source)  # every relative import rewritten
        for name in re.findall(r"""["']gdlab-vega/([^"']+)["']""", source):
            assert name in modules


def test_the_report_holds_settings_numbers_and_specs():
    run, fit, drawn = blog_charts()
    document = report.report_html(
        title="Report <1>",
        summary="a & b",
        settings=report.settings_rows(DEFAULTS),
        headline=report.headline_rows("GD", run, fit),
        runs=[("GD", "best MSE 378.512")],
        charts=drawn,
        share_link="http://host/?alpha=0.5&x=<y>",
        modules=report.vega_modules(),
    )
    assert "<title>Report &lt;1&gt;</title>" in document and "a &amp; b" in document
    assert "Best epoch: 100, Error: 378.512, Weights: 38.184, Bias: 0.451" in document
    assert "<th>Learning rate α</th><td>0.01</td>" in document
    assert 'href="http://host/?alpha=0.5&amp;x=&lt;y&gt;"' in document
    specs = specs_of(document)
    assert list(specs) == ["chart-0", "chart-1"]
    loss = specs["chart-0"]["datasets"]["loss"]
    assert [row["loss"] for row in loss] == pytest.approx(run.loss.tolist(), rel=1e-14)
    assert '<script type="importmap">' in document
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', document, re.S).group(1))
    entry = imports["imports"][f"gdlab-vega/{report.entry_module(report.vega_modules())}"]
    assert "Save as SVG" in base64.b64decode(entry.split(",", 1)[1]).decode()  # vega-embed's menu
    assert document.count('<div class="chart"') == 2


def test_text_cannot_end_a_script_or_inject_markup():
    _, _, drawn = blog_charts()
    table = drawn[0][1].datasets["loss"].assign(run="</script><script>alert(1)</script>")
    hostile = replace(drawn[0][1], datasets={**drawn[0][1].datasets, "loss": table})
    document = report.report_html(
        title="t",
        summary="<img src=x onerror=alert(1)>",
        settings=[("<b>", "</td>")],
        headline=[],
        runs=[],
        charts=[("<h1>", hostile)],
        share_link="javascript:alert(1)",
        modules=None,
    )
    assert "<img" not in document and "<b>" not in document and "<h3>&lt;h1&gt;</h3>" in document
    body = re.search(r'id="chart-specs">(.*?)</script>', document, re.S).group(1)
    assert "</script" not in body
    assert specs_of(document)["chart-0"]["datasets"]["loss"][0]["run"] == table["run"].iloc[0]


def test_without_the_scripts_the_report_says_so_and_keeps_the_specs():
    _, _, drawn = blog_charts()
    document = report.report_html(
        title="t", summary="s", settings=[], headline=[], runs=[], charts=drawn, share_link="x", modules=None
    )
    assert "importmap" not in document
    assert document.count("not drawn here; its Vega-Lite spec is in this file") == 2
    assert set(specs_of(document)) == {"chart-0", "chart-1"}


def test_non_finite_numbers_become_null():
    _, _, drawn = blog_charts()
    table = drawn[0][1].datasets["loss"].copy()
    table.loc[0, "loss"] = float("inf")
    table.loc[1, "loss"] = float("nan")
    spec = json.loads(
        report.chart_json(replace(drawn[0][1], datasets={**drawn[0][1].datasets, "loss": table}))
    )
    assert spec["datasets"]["loss"][0]["loss"] is None and spec["datasets"]["loss"][1]["loss"] is None
    assert spec["width"] == "container"


def test_settings_rows_name_every_choice():
    settings = replace(
        DEFAULTS, optimizers=("gd", "adam"), batch_size=32, stop=True, hyper=(("adam_beta1", 0.8),)
    )
    rows = dict(report.settings_rows(settings))
    assert rows["Optimizers"] == "Gradient descent, Adam"
    assert rows["Batch size"] == "32"
    assert rows["Stop when the error stabilizes"] == "yes, relative change below 1e-06"
    assert rows["Hyperparameter adam_beta1"] == "0.8"


@pytest.fixture(scope="module")
def deferred():
    files = {}
    original = MediaFileManager.add_deferred

    def recording(self, data_callable, *args, **kwargs):
        file_id = original(self, data_callable, *args, **kwargs)
        files[file_id] = data_callable
        return file_id

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MediaFileManager, "add_deferred", recording)
        yield files


def test_the_page_report_is_what_the_page_shows(deferred):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"optimizers": "gd,momentum", "alpha": "0.1", "test_fraction": "0.2"})
    at.run()
    main_charts = [json.loads(c.proto.spec).get("title") for c in at.get("vega_lite_chart")]
    open_tab(at, "export")
    assert not at.exception, [e.value for e in at.exception]
    document = deferred[at.get_by_key("download_report").proto.deferred_file_id]()
    metrics = {m.label: m.value for m in at.metric}
    assert f"<th>Best epoch</th><td>{metrics['Best epoch']} of" in document
    assert f"<td>{metrics['Error (MSE)']} (optimum" in document
    specs = specs_of(document)
    assert len(specs) == len(main_charts) == 4
    for spec, title in zip(specs.values(), main_charts, strict=True):
        assert spec.get("title") == title
    [link] = [c.value for c in at.code if c.value.startswith("http")]
    assert html.escape(link) in document
    assert "<th>Gradient descent</th>" in document and "<th>Momentum</th>" in document


def test_the_report_has_the_epoch_axes_the_page_shows(deferred):
    """AppTest reruns the whole page for a toggle in a fragment (a browser reruns only the fragment:
    tests/browser/test_fragments_browser.py), so here the report comes from the button drawn after it."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    open_tab(at, "export")

    def x_title(spec):
        """The first horizontal axis title in a (layered) chart spec."""
        if isinstance(spec, dict):
            x = spec.get("encoding", {}).get("x", {})
            if "title" in x:
                return x["title"]
            spec = list(spec.values())
        for part in spec if isinstance(spec, list) else []:
            found = x_title(part)
            if found:
                return found
        return None

    def epoch_axes() -> list[str]:
        specs = specs_of(deferred[at.get_by_key("download_report").proto.deferred_file_id]())
        return [x_title(spec) for spec in list(specs.values())[:2]]

    assert epoch_axes() == ["Epoch", "Epoch"]
    at.toggle(key="log_epochs").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert epoch_axes() == ["Epoch (log scale)", "Epoch (log scale)"]

"""Charts kept per run (ui/chart_memo.py, issue 10 §2): a chart is built once per (data, runs, view) and
shipped as stored Arrow bytes after that; never handed out for other objects or another view."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from gdcore.dashboard import charts
from ui.chart_memo import PAYLOADS, PayloadMemo, drawn_chart, vega_lite_payload

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


class Source:
    """A stand-in for a cached run: compared by identity, like the memo compares them."""

    def __eq__(self, other) -> bool:
        return isinstance(other, Source)  # equal to every other Source, yet not the same object

    __hash__ = object.__hash__


def test_a_value_is_built_once_per_sources_and_view():
    memo, built = PayloadMemo(max_entries=8), []

    def build(tag):
        return lambda: built.append(tag) or tag

    a, b = Source(), Source()
    assert memo.get("loss", (a, b), ("log",), build(1)) == 1
    assert memo.get("loss", (a, b), ("log",), build(2)) == 1  # kept
    assert memo.get("loss", (a, b), ("linear",), build(3)) == 3  # another view
    assert memo.get("parameters", (a, b), ("log",), build(4)) == 4  # another chart
    assert memo.get("loss", (b, a), ("log",), build(5)) == 5  # other runs (order matters)
    assert memo.get("loss", (a, Source()), ("log",), build(6)) == 6  # an equal but other object
    assert built == [1, 3, 4, 5, 6]


def test_the_oldest_values_are_dropped_beyond_the_bound():
    memo, sources = PayloadMemo(max_entries=3), [Source() for _ in range(5)]
    for k, source in enumerate(sources):
        memo.get("fit", (source,), (), lambda k=k: k)
    assert len(memo) == 3
    assert memo.get("fit", (sources[0],), (), lambda: "rebuilt") == "rebuilt"
    assert memo.get("fit", (sources[4],), (), lambda: "rebuilt") == 4


def test_the_payload_ships_the_charts_tables_as_arrow_bytes():
    table = pd.DataFrame({"run": ["GD"] * 3, "epoch": [0, 1, 2], "loss": [3.0, 2.0, 1.5], "series": "loss"})
    table["best"] = table["epoch"] == 2
    spec = charts.loss_chart(table, 1.0, True)
    payload = vega_lite_payload(spec)
    assert set(payload["datasets"]) == set(spec.datasets)
    for name, data in payload["datasets"].items():
        assert isinstance(data, bytes)
        decoded = pa.ipc.open_stream(data).read_all().to_pandas()
        pd.testing.assert_frame_equal(decoded[list(spec.datasets[name].columns)], spec.datasets[name])
    assert {k: v for k, v in payload.items() if k != "datasets"} == {
        k: v for k, v in spec.vega_lite().items() if k != "datasets"
    }
    assert drawn_chart(spec).spec is spec


def chart_bytes(at: AppTest) -> list[list[bytes]]:
    return [[d.data.data for d in chart.proto.datasets] for chart in at.get("vega_lite_chart")]


def test_a_revisited_setting_ships_the_same_charts_and_a_new_one_new_charts():
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.select_slider(key="alpha").set_value(0.0501).run()
    first = chart_bytes(at)
    at.select_slider(key="alpha").set_value(0.00794).run()
    other = chart_bytes(at)
    at.select_slider(key="alpha").set_value(0.0501).run()
    assert not at.exception
    assert chart_bytes(at) == first  # the kept charts: identical to the ones built for this run
    assert all(a != b for a, b in zip(first, other, strict=True))  # another run: every chart differs
    PAYLOADS.clear()  # a new session now builds the charts again: the same bytes as the kept ones
    fresh = AppTest.from_file(str(APP), default_timeout=60)
    fresh.query_params["alpha"] = "0.0501"
    assert chart_bytes(fresh.run()) == first

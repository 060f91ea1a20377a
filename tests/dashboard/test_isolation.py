"""Two users at once: sessions with different settings never see each other's state.

AppTest runs every session in this one process, so the sessions share what a real server shares: the
`st.cache_resource` caches (results are shared, not copied, between sessions) and module state. A
session that mutated a cached result, or kept settings anywhere but its own session state, would leak
into the other one here. The browser version (two pages on one server) is in tests/browser/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import gdcore
from gdcore.dashboard.settings import DEFAULTS

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def session(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def view(at: AppTest) -> dict:
    """What a user sees of the experiment: metrics, alerts, chart data, the download, the link."""
    assert not at.exception, [e.message for e in at.exception]
    charts = at.get("vega_lite_chart")
    return {
        "metrics": [(m.label, m.value, m.delta) for m in at.metric],
        "alerts": [str(e.value) for kind in ("error", "warning", "info", "success") for e in at.get(kind)],
        "charts": [c.proto.spec for c in charts],
        "chart_data": [[d.data.SerializeToString() for d in c.proto.datasets] for c in charts],
        "code": [str(c.value) for c in at.code],
        "query": dict(at.query_params),
    }


def headline(run) -> dict[str, str]:
    return {
        "Best epoch": f"{run.best_epoch:,}",
        "Error (MSE)": f"{run.best_loss:,.3f}",
        "Weight w": f"{float(run.best_weights[0]):,.3f}",
        "Bias b": f"{run.best_bias:,.3f}",
    }


def expected(samples=100, noise=20.0, seed=42, **descend):
    data = gdcore.make_data(n_samples=samples, noise=noise, seed=seed)
    return headline(gdcore.descend(data.X, data.y, **descend))


def shown_headline(at: AppTest) -> dict[str, str]:
    return {
        m.label: m.value for m in at.metric if m.label in ("Best epoch", "Error (MSE)", "Weight w", "Bias b")
    }


def test_two_sessions_with_different_settings_do_not_leak():
    a = session({"alpha": "0.1", "epochs": "50", "seed": "7"})
    b = session()
    a_first, b_first = view(a), view(b)
    assert a_first != b_first
    assert shown_headline(a) == expected(seed=7, alpha=0.1, epochs=50)
    assert shown_headline(b) == expected()

    # b changes many things; a is untouched and, rerun, shows exactly what it showed before.
    b.select_slider(key="alpha").set_value(1.0).run()  # diverges
    b.number_input(key="epochs").set_value(20).run()
    b.number_input(key="seed").set_value(7).run()  # same data as a: the cached data set is shared
    b.number_input(key="w0").set_value(-50.0).run()
    a.run()
    assert view(a) == a_first
    assert a.session_state["alpha"] == 0.1 and a.session_state["epochs"] == 50
    assert a.session_state["w0"] == DEFAULTS.w0

    # a changes; b keeps its own settings and results.
    b_view = view(b)
    a.slider(key="noise").set_value(55.0).run()
    a.checkbox(key="stop").check().run()
    b.run()
    assert view(b) == b_view
    assert b.session_state["noise"] == DEFAULTS.noise and b.session_state["stop"] is DEFAULTS.stop
    assert shown_headline(b) == expected(seed=7, alpha=1.0, epochs=20, w0=-50.0)
    assert b.query_params["alpha"] == "1.0" and "noise" not in b.query_params
    assert "alpha" in a.query_params and a.query_params["noise"] == "55.0"


def test_same_settings_in_two_sessions_see_identical_results_and_stay_correct():
    """A cache hit hands the second session the first one's objects; neither may alter them."""
    a = session({"epochs": "80"})
    a_view = view(a)
    b = session({"epochs": "80"})
    assert view(b) == a_view
    b.select_slider(key="alpha").set_value(0.1).run()
    b.toggle(key="log_loss").set_value(False).run()
    b.select_slider(key="alpha").set_value(0.01).run()
    b.toggle(key="log_loss").set_value(True).run()
    assert view(b) == a_view
    a.run()
    assert view(a) == a_view
    assert shown_headline(a) == expected(epochs=80)


def test_uploads_stay_in_their_session():
    csv = b"size,rooms,price\n50,2,150.5\n80,3,240\n65,2,170.25\n120,4,380\n95,3,290\n"
    a = session({"source": "csv", "standardize": "true"})
    a.file_uploader(key="upload").set_value(("houses.csv", csv, "text/csv")).run()
    a_view = view(a)
    assert len(a_view["charts"]) == 4
    b = session({"source": "csv", "standardize": "true"})
    b_view = view(b)
    assert len(b_view["charts"]) == 0  # b has uploaded nothing and sees nothing of a's file
    assert not any("houses" in text or "size" in text for text in b_view["alerts"] + b_view["code"])
    b.file_uploader(key="upload").set_value(("other.csv", b"x,y\n1,2\n2,4\n3,7\n", "text/csv")).run()
    a.run()
    assert view(a) == a_view
    assert view(b)["metrics"] != a_view["metrics"]

"""The tabs under the charts (issue 10 §2, issue 13 item 16): only the open tab is rendered, and the open
tab stays open when a rerun changes what stands above the tabs (more features add the landscape's axis
pickers, which used to send the user back to the first tab)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import open_tab

from ui.tabs import DEFAULT_TAB, TAB_KEY, TABS

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def shown_tabs(at: AppTest) -> set[str]:
    """The tabs whose section is on the page (a closed tab is an empty block)."""
    return {name for name, label in TABS.items() for tab in at.tabs if tab.label == label and tab.children}


@pytest.fixture(scope="module")
def app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert_ok(at)
    return at


def test_the_default_tab_is_open_at_start_and_the_others_are_not_rendered(app):
    assert [tab.label for tab in app.tabs] == list(TABS.values())
    # The lightest tab to draw (its first view is the sweep's toggle): the Math tab opens on demand.
    assert DEFAULT_TAB == "sweep"
    assert app.session_state[TAB_KEY] == TABS["sweep"]
    assert shown_tabs(app) == {"sweep"}
    assert app.get_by_key("sweep").value is False


@pytest.mark.parametrize("name", list(TABS))
def test_opening_a_tab_renders_that_tab_only(app, name):
    open_tab(app, name)
    assert_ok(app)
    assert shown_tabs(app) == {name}
    marker = {"sweep": "sweep", "export": "download_csv"}.get(name)  # a keyed widget the section draws
    if marker:
        assert app.get_by_key(marker) is not None


def test_changing_features_keeps_the_open_tab():
    at = open_tab(AppTest.from_file(str(APP), default_timeout=60).run(), "data")
    assert shown_tabs(at) == {"data"}
    at.get_by_key("features").set_value(3).run()
    assert_ok(at)
    assert at.get_by_key("landscape_u") is not None  # the widgets above the tabs did change
    assert at.session_state[TAB_KEY] == TABS["data"]
    assert shown_tabs(at) == {"data"}
    assert [m.value for m in at.metric if m.label == "Training rows"] == ["100"]

"""The tabs in a real browser (issue 13 item 16): a rerun that changes what stands above the tabs keeps
the tab the user opened, and each tab draws its content when opened (only the open tab is rendered)."""

from __future__ import annotations


def selected_tab(app) -> str:
    return app.page.locator("[data-testid='stTab'][aria-selected='true']").inner_text().strip()


def test_changing_features_keeps_the_open_tab(app_page):
    app = app_page.open_until_charts()
    app.open_tab("Data")
    assert "Data & weights" in selected_tab(app)
    assert app.metrics()["Training rows"] == "100"
    app.press_on_slider("features", "ArrowRight")  # 2 features: the landscape's axis pickers appear
    assert app.widget("landscape_u").count() == 1
    assert "Data & weights" in selected_tab(app)
    assert app.metrics()["Training rows"] == "100"
    assert app.exceptions() == []
    app.assert_no_console_errors()


def test_each_tab_draws_its_content_when_opened(app_page):
    app = app_page.open_until_charts()
    app.open_tab("Export")
    assert app.widget("download_csv").count() == 1
    assert "Training rows" not in app.metrics()
    app.open_tab("sweep")
    assert app.widget("sweep").count() == 1
    assert app.widget("download_csv").count() == 0
    app.open_tab("Math")
    assert app.page.get_by_text("α_max", exact=False).count() > 0  # the limits table of the Math tab
    assert app.widget("sweep").count() == 0
    app.assert_no_console_errors()

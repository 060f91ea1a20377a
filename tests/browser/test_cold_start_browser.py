"""The first page is light to draw (issue 10 §3): it opens on the sweep's tab, so a first visit loads
neither the Math tab's formula renderer (KaTeX) nor the syntax highlighter of its code block, the
browser's largest script; both are loaded when the learner opens the Math tab, which then shows its
formulas and code. The time this saves is measured by benchmarks/bench_app.py (cold start), not here."""

from __future__ import annotations

MATH_ONLY_SCRIPTS = ("rehype-katex", "StreamlitSyntaxHighlighter")  # Streamlit's lazily loaded chunks


def loaded_scripts(app) -> list[str]:
    """The file names of every script the page has loaded so far (Resource Timing)."""
    names = app.page.evaluate("performance.getEntriesByType('resource').map((entry) => entry.name)")
    return [name.rsplit("/", 1)[-1] for name in names if name.endswith(".js")]


def math_scripts(app) -> set[str]:
    return {prefix for prefix in MATH_ONLY_SCRIPTS for name in loaded_scripts(app) if name.startswith(prefix)}


def test_the_first_page_draws_its_charts_without_the_math_tabs_scripts_until_the_tab_is_opened(app_page):
    app = app_page.open_until_charts()
    # The charts' own script was loaded and is found by name: the check below can see a chunk.
    assert any(name.startswith("embed.") for name in loaded_scripts(app))
    assert math_scripts(app) == set()
    selected = app.page.locator("[data-testid='stTab'][aria-selected='true']").inner_text()
    assert "Learning-rate sweep" in selected
    assert app.page.locator(".katex").count() == 0
    assert app.widget("sweep").count() == 1  # the sweep tab's first view: its toggle

    app.open_tab("Math")
    app.page.locator("[data-testid='stMarkdownContainer'] .katex").first.wait_for()
    app.page.get_by_test_id("stCode").filter(has_text="Y_pred").first.wait_for()
    assert math_scripts(app) == set(MATH_ONLY_SCRIPTS)
    assert app.exceptions() == []
    app.assert_no_console_errors()

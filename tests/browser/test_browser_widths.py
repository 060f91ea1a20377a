"""The page reads fully on a phone (390 px), a tablet or small laptop (1024 px) and a desktop (1440 px).

"Reads fully" is measured, not eyeballed: every text node on the page (its glyphs' boxes, from a DOM
Range) must lie inside each ancestor that clips it (overflow hidden or clip, or text-overflow: ellipsis),
which is how a button reads "🎲 New s…", a metric "126,030,709,…" and a display formula loses its right
end. Horizontally scrollable boxes (the tab bar, tables) are not clipping. The charts are checked by
their own tests. Screenshots of each width go to artifacts/screenshots/; `UPDATE_DOCS_SCREENSHOT=1` (or a
missing file) refreshes docs/dashboard-phone.png, the README's phone view.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

DOCS_PHONE = Path(__file__).resolve().parents[2] / "docs" / "dashboard-phone.png"
WIDTHS = {"phone": 390, "tablet": 1024, "desktop": 1440}

# Every optimizer (Adam's update rule is the longest formula), a test split (a fifth headline metric).
BUSY = {"optimizers": "gd,momentum,nesterov,adagrad,rmsprop,adam", "test_fraction": 0.2}
# A house-price-like file: the error is ~10^8, the number that was cut off in its metric.
BIG_CSV = (
    "size,price\n" + "\n".join(f"{i / 40},{3e4 * i / 40 + 1e4 * (-1) ** i}" for i in range(1, 41)) + "\n"
).encode()

CUT_TEXT = """
(rootIds) => {
  const clips = (el) => {
    const style = getComputedStyle(el);
    return ["hidden", "clip"].includes(style.overflowX) || style.textOverflow === "ellipsis";
  };
  const name = (el) => {  // the nearest Streamlit element around el, e.g. stMetricDelta, stButton
    const block = el.closest("[data-testid]:not([data-testid='stMarkdownContainer'])");
    return block ? block.getAttribute("data-testid") : el.tagName.toLowerCase();
  };
  const cut = new Map();
  for (const id of rootIds) {
    const root = document.querySelector(`[data-testid='${id}']`);
    if (!root) continue;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const parent = node.parentElement;
      if (parent.closest("[data-testid='stVegaLiteChart'], .katex-mathml, style, script")) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const boxes = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
      if (!boxes.length) continue;  // not displayed (a closed expander, a collapsed sidebar)
      const right = Math.max(...boxes.map((r) => r.right));
      const left = Math.min(...boxes.map((r) => r.left));
      for (let el = parent; el && el !== root.parentElement; el = el.parentElement) {
        if (!clips(el)) continue;
        const box = el.getBoundingClientRect();
        const over = Math.max(right - box.right, box.left - left);
        if (over > 1) {
          const text = (parent.closest("[data-testid]") || parent).textContent.trim().slice(0, 60);
          const key = `${name(el)}: ${text}`;
          cut.set(key, Math.max(cut.get(key) || 0, Math.round(over)));
        }
        break;
      }
    }
  }
  return [...cut].map(([where, px]) => `${where} (${px} px cut)`);
}
"""


def cut_text(app, *roots: str) -> list[str]:
    """The text blocks cut off on the right (or left) by a clipping box, with how many pixels are cut."""
    return app.page.evaluate(CUT_TEXT, list(roots or ["stMain", "stSidebar"]))


def sidebar_shown(app):
    """Open the sidebar if it is collapsed (as it is on a phone); True if it had to be opened."""
    if app.page.get_by_test_id("stExpandSidebarButton").is_visible():
        app.page.get_by_test_id("stExpandSidebarButton").click()
        app.page.get_by_test_id("stSidebarContent").wait_for()
        app.page.wait_for_timeout(500)  # the slide-in
        return True
    return False


def assert_reads_fully(app, where: str, *roots: str) -> None:
    cut = cut_text(app, *roots)
    assert cut == [], f"{where} at {app.page.viewport_size['width']} px: text cut off:\n" + "\n".join(cut)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_every_text_reads_fully(app_page_at, screenshots, width):
    app = app_page_at(width).open_until_charts(BUSY)
    assert "Test MSE (held out)" in app.metrics()
    assert_reads_fully(app, "the results", "stMain")
    app.screenshot(screenshots / f"width-{width}.png", full_dashboard=True)
    app.page.set_viewport_size({"width": width, "height": 900})

    opened = sidebar_shown(app)
    assert_reads_fully(app, "the sidebar", "stSidebar")
    app.page.get_by_text("Optimizer hyperparameters").click()  # the expander's long labels
    app.page.wait_for_timeout(300)
    assert_reads_fully(app, "the hyperparameter inputs", "stSidebar")
    if width == WIDTHS["phone"]:
        app.screenshot(screenshots / "width-390-sidebar.png")
    if opened:
        app.page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        app.page.wait_for_timeout(500)

    for tab in ("Math", "Data"):
        app.open_tab(tab)
        app.page.wait_for_timeout(500)  # KaTeX lays out after the rerun
        assert_reads_fully(app, f"the {tab} tab", "stMain")
        app.screenshot(screenshots / f"width-{width}-{tab.lower()}.png", full_dashboard=True)
        app.page.set_viewport_size({"width": width, "height": 900})
    assert app.exceptions() == []
    app.assert_no_console_errors()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_large_numbers_and_many_weights_read_fully(app_page_at, width):
    app = app_page_at(width).open({"source": "csv", "alpha": 1})
    chooser = app.page.locator("[data-testid='stFileUploader'] input[type='file']").first
    app.rerun_after(
        lambda: chooser.set_input_files(
            files=[{"name": "big.csv", "mimeType": "text/csv", "buffer": BIG_CSV}]
        )
    )
    app.charts().nth(3).wait_for()
    app.wait_idle()
    error = app.metrics()["Error (MSE)"]
    assert "e+08" in error, error
    assert_reads_fully(app, "a run with an error of 10^8", "stMain")

    diabetes = app_page_at(width).open_until_charts({"source": "diabetes", "standardize": "true"})
    assert "Weights: largest |w − w*| of 10" in diabetes.metrics()
    assert_reads_fully(diabetes, "ten weights", "stMain")


def test_docs_phone_screenshot(app_page_at, screenshots):
    """The README's phone view: the default page at 390 px."""
    app = app_page_at(WIDTHS["phone"]).open_until_charts()
    shot = app.screenshot(screenshots / "dashboard-phone.png", full_dashboard=True)
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1" or not DOCS_PHONE.exists():
        shutil.copyfile(shot, DOCS_PHONE)

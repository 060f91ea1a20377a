"""The Export & share tab's code a learner can keep (issue 12 §5), on the page: the from-scratch script
runs where only numpy and scikit-learn can be imported and prints the page's best-epoch line; the gdcore
snippet says how to install gdcore when it is missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import BLOG_LINE, open_tab
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
BLOCKED_RUNNER = textwrap.dedent(
    """
    import runpy, sys

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in {"gdcore", "pandas", "streamlit", "altair", "pyarrow"}:
                raise ImportError(f"{name} is not available to a from-scratch script")
            return None

    sys.meta_path.insert(0, Refuse())
    runpy.run_path(sys.argv[1], run_name="__main__")
    """
)


def export_tab(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    at.run()
    open_tab(at, "export")
    assert not at.exception, [e.value for e in at.exception]
    return at


def code_blocks(at: AppTest) -> list[str]:
    return [block.value for block in at.code]


def metric_line(at: AppTest) -> str:
    """The headline's numbers in the blog's format (the page's own line)."""
    values = {m.label: m.value for m in at.metric}
    weights = values.get("Weight w")
    return (
        f"Best epoch: {values['Best epoch']}, Error: {values['Error (MSE)']}, "
        f"Weights: {weights}, Bias: {values['Bias b']}"
    )


def run_blocked(script: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "descent_from_scratch.py"
    path.write_text(script)
    done = subprocess.run(
        [sys.executable, "-I", "-c", BLOCKED_RUNNER, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"optimizers": "adam,gd", "alpha": "0.1", "batch_size": "32", "epochs": "40"},
        {"optimizers": "nesterov", "alpha": "0.05", "epochs": "80", "w0": "-20", "b0": "5"},
    ],
    ids=["blog", "adam batch 32", "nesterov"],
)
def test_the_scratch_script_prints_the_page_line(query, tmp_path):
    at = export_tab(query)
    [script] = [c for c in code_blocks(at) if c.startswith('"""Gradient descent from scratch')]
    lines = run_blocked(script, tmp_path)
    assert lines[-1].replace(",", "") == metric_line(at).replace(",", "")  # the page writes 1,234.5
    if not query:
        assert lines == [BLOG_LINE]
    download = at.get_by_key("download_scratch")
    assert download is not None


def test_diabetes_standardized_gets_a_script_but_no_gdcore_snippet(tmp_path):
    at = export_tab({"source": "diabetes", "standardize": "true", "alpha": "0.1", "epochs": "300"})
    [script] = [c for c in code_blocks(at) if c.startswith('"""Gradient descent from scratch')]
    assert "load_diabetes" in script
    assert not [c for c in code_blocks(at) if "gdcore.descend" in c]
    assert any("the from-scratch script covers these settings" in c.value for c in at.caption)
    lines = run_blocked(script, tmp_path)
    assert lines[-1].startswith(f"Best epoch: {next(m.value for m in at.metric if m.label == 'Best epoch')},")


def test_the_gdcore_snippet_says_how_to_install_gdcore(tmp_path):
    at = export_tab({})
    [snippet] = [c for c in code_blocks(at) if "gdcore.descend" in c]
    path = tmp_path / "reproduce.py"
    path.write_text(snippet)
    done = subprocess.run(
        [sys.executable, "-I", "-c", BLOCKED_RUNNER, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "gdcore is not installed" in done.stderr and "pip install" in done.stderr

"""The plan of the package, checked from the code's own imports (parsed, not run).

* The core (`gdcore/*.py`) never imports the dashboard support (`gdcore.dashboard`), Streamlit or Altair;
  the dashboard support never imports Streamlit (only `streamlit_app.py` does).
* No import circle between gdcore's modules, counting imports inside functions too.
* No module takes a private name (leading underscore) from another module.
* Each module-level constant is defined in one module only (one home per rule: CHUNK_EPOCHS, QUIET...).
* The page holds no arithmetic library: `streamlit_app.py` and `ui/` do not import numpy.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "gdcore"
MODULES = {
    ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__"): path
    for path in sorted(PACKAGE.rglob("*.py"))
}
FACES = {"gdcore", "gdcore.__main__", "gdcore.dashboard"}  # package faces: they import their contents


def imports_of(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names taken) for every import statement anywhere in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, tuple(alias.name for alias in node.names)))
    return found


def gdcore_edges() -> dict[str, set[str]]:
    """module -> the gdcore modules it imports (`from gdcore.x import y` names module gdcore.x, or the
    submodule gdcore.x.y when y is one)."""
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for module, taken in imports_of(path):
            if not module.startswith("gdcore"):
                continue
            targets = {f"{module}.{t}" for t in taken if f"{module}.{t}" in MODULES} or {module}
            edges[name] |= targets & MODULES.keys()
    return edges


def test_the_core_never_imports_the_dashboard_streamlit_or_altair():
    for name, path in MODULES.items():
        roots = {module.split(".")[0] for module, _ in imports_of(path)}
        if name.startswith("gdcore.dashboard"):
            assert "streamlit" not in roots, name
            continue
        assert not roots & {"streamlit", "altair"}, name
        assert not any(m.startswith("gdcore.dashboard") for m, _ in imports_of(path)), name


def test_no_import_circle():
    edges = {name: targets - FACES for name, targets in gdcore_edges().items() if name not in FACES}
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            pytest.fail("import circle: " + " -> ".join([*stack[stack.index(name) :], name]))
        if name in done:
            return
        for target in sorted(edges.get(name, ())):
            visit(target, [*stack, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])


def test_modules_do_not_import_the_package_face():
    """`from gdcore import x` inside gdcore would make every module depend on all the others."""
    for name, path in MODULES.items():
        if name in FACES:
            continue
        for module, _ in imports_of(path):
            assert module not in FACES, (name, module)


def test_no_private_name_crosses_a_module():
    for name, path in MODULES.items():
        for module, taken in imports_of(path):
            if module.startswith("gdcore"):
                assert not [t for t in taken if t.startswith("_")], (name, module, taken)


def test_each_constant_has_one_home():
    homes = Counter()
    for path in MODULES.values():
        names = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            targets += [node.target] if isinstance(node, ast.AnnAssign) else []
            names |= {
                t.id.lstrip("_") for t in targets if isinstance(t, ast.Name) and t.id.lstrip("_").isupper()
            }
        homes.update(names)
    assert [name for name, count in homes.items() if count > 1] == []


def test_the_page_imports_no_numerics():
    for path in [REPO_ROOT / "streamlit_app.py", *sorted((REPO_ROOT / "ui").glob("*.py"))]:
        roots = {module.split(".")[0] for module, _ in imports_of(path)}
        assert "numpy" not in roots, path.name


def test_ui_sections_import_no_other_ui_section_upward():
    """ui/ modules may use ui.cache, ui.state and ui.results (shared helpers), never the page itself."""
    for path in sorted((REPO_ROOT / "ui").glob("*.py")):
        for module, _ in imports_of(path):
            assert module != "streamlit_app", path.name

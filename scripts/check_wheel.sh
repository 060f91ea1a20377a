#!/usr/bin/env bash
# Build gdcore's wheel, install it into a fresh virtualenv outside the checkout, and use it the way a
# notebook user would: `python -m gdcore`, a tiny script, then the `dashboard` extra from the git repo.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --quiet --disable-pip-version-check)
"${pip[@]}" install --upgrade pip  # older pips refuse a git+file:// direct reference
"${pip[@]}" wheel --no-deps --wheel-dir "$work/dist" "$repo"
wheel=("$work"/dist/gdcore-*.whl)
echo "== built ${wheel[0]##*/}"
"$work/venv/bin/python" - "${wheel[0]}" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
stray = [n for n in names if not n.startswith(("gdcore/", "gdcore-"))]
assert not stray, f"the wheel must hold gdcore only; it also holds {stray}"
print(f"   {len(names)} files, all gdcore")
PY
"${pip[@]}" install "${wheel[0]}"
cd "$work"  # away from the checkout: gdcore must come from the wheel
"$work/venv/bin/python" -m gdcore
"$work/venv/bin/python" - <<'PY'
import gdcore

assert "site-packages" in gdcore.__file__, gdcore.__file__
data = gdcore.make_data()
run = gdcore.run(data.X, data.y, gdcore.RunSpec(alpha=0.1, epochs=50))
frame = run.to_frame()
assert frame.shape == (51, 4), frame.shape
print("notebook-style script:", run.summary_line(), f"(table {frame.shape[0]} rows)")
PY
echo "== pip install \"gdcore[dashboard] @ git+file://...\""
"${pip[@]}" install "gdcore[dashboard] @ git+file://$repo"
"$work/venv/bin/python" - <<'PY'
import gdcore
from gdcore.dashboard import charts

data = gdcore.make_data()
run = gdcore.descend(data.X, data.y)
charts.plot_loss({"GD": run}, gdcore.least_squares(data.X, data.y).loss).to_dict()
print("dashboard extra: an Altair loss chart built from the installed package")
PY

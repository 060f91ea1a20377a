"""One self-contained HTML report of an experiment: its settings, headline numbers, the charts as Vega-Lite
and the share link, readable offline. No Streamlit here.

The numbers and settings are plain HTML (they read with no script at all). The charts are drawn by
vega-embed, which the report carries inline: the ES-module build that the installed Streamlit package
ships for its own charts (found among its static files without importing Streamlit), each module turned
into a `data:` URL named in an import map. That same vega-embed adds the "…" menu to every chart, with
"Save as SVG" and "Save as PNG". Without that build (another Streamlit, or none), the report says so
where the charts would be and keeps each chart's Vega-Lite spec in the file.
"""

from __future__ import annotations

import base64
import functools
import html
import importlib.util
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from gdcore.dashboard.charts import ChartSpec
from gdcore.dashboard.explain import best_epoch_headline
from gdcore.dashboard.settings import Settings
from gdcore.optimizers import OPTIMIZERS
from gdcore.theory import Fit
from gdcore.trajectory import Trajectory

VEGA_ENTRY = "embed"  # the chunk whose export `t` is vega-embed's default function
MODULE_PREFIX = "gdlab-vega/"  # bare specifiers of the inlined modules in the report's import map
IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*)(["'`])\./([A-Za-z0-9_.\-]+\.js)\2""")


@functools.cache
def vega_modules() -> dict[str, str] | None:
    """{file name: source} of vega-embed (with vega and vega-lite) as the installed Streamlit ships it:
    its `embed.<hash>.js` chunk and every chunk that chunk imports, relative imports rewritten to the
    bare names `gdlab-vega/<file>`. None if the files are not where this Streamlit keeps them."""
    spec = importlib.util.find_spec("streamlit")  # locates the package; does not import it
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "static" / "js"
    entries = sorted(folder.glob(f"{VEGA_ENTRY}.*.js"))
    if len(entries) != 1:
        return None
    modules: dict[str, str] = {}
    todo = [entries[0].name]
    while todo:
        name = todo.pop()
        if name in modules:
            continue
        path = folder / name
        if not path.is_file():
            return None
        source = path.read_text(encoding="utf-8")
        todo += [match.group(3) for match in IMPORT.finditer(source)]
        modules[name] = IMPORT.sub(
            lambda m: f"{m.group(1)}{m.group(2)}{MODULE_PREFIX}{m.group(3)}{m.group(2)}", source
        )
    if "import(" in "".join(modules.values()):  # a lazy import we did not rewrite: do not ship it broken
        return None
    return modules


def entry_module(modules: Mapping[str, str]) -> str:
    return next(name for name in modules if name.startswith(f"{VEGA_ENTRY}."))


def chart_json(chart: ChartSpec) -> str:
    """A chart's Vega-Lite spec as JSON with its data sets inline as records (pandas writes them: 15
    significant digits, NaN and infinities as null), sized to the report's width."""
    spec = chart.vega_lite()
    spec.pop("datasets", None)
    spec.setdefault("width", "container")
    data = ",".join(
        f"{json.dumps(name)}:{table.to_json(orient='records', double_precision=15)}"
        for name, table in chart.datasets.items()
    )
    return json.dumps(spec, ensure_ascii=False, allow_nan=False)[:-1] + f',"datasets":{{{data}}}}}'


@functools.cache
def data_url(source: str) -> str:
    """A JavaScript module as a base64 `data:` URL (cached: the same modules go into every report)."""
    return "data:text/javascript;base64," + base64.b64encode(source.encode("utf-8")).decode("ascii")


def script_json(value) -> str:
    """JSON to place inside <script>: '</' cannot end the script element early."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False).replace("</", "<\\/")


def table_html(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1.5rem;color:#1f2633;line-height:1.45}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
table{border-collapse:collapse;margin:.25rem 0}th,td{text-align:left;padding:.25rem .9rem .25rem 0;
border-bottom:1px solid #e5e7eb;vertical-align:top}th{font-weight:600;white-space:nowrap}
.chart{margin:1rem 0 2rem;width:100%}.chart .vega-embed{width:100%}
.note{color:#6b7280;font-size:.9rem}code,a{word-break:break-all}
.missing{border:1px dashed #9ca3af;padding:.75rem;color:#4b5563}
details pre{white-space:pre-wrap;font-size:.75rem;max-height:20rem;overflow:auto}
"""


def report_html(
    *,
    title: str,
    summary: str,
    settings: Sequence[tuple[str, str]],
    headline: Sequence[tuple[str, str]],
    runs: Sequence[tuple[str, str]],
    charts: Sequence[tuple[str, ChartSpec]],
    share_link: str,
    modules: Mapping[str, str] | None = None,
) -> str:
    """The report as one HTML document.

    `settings`, `headline` and `runs` are (label, value) rows shown as tables; `charts` are (heading,
    chart) pairs; `modules` is `vega_modules()` (None: the charts are described, not drawn). Every text is
    escaped; the specs are JSON inside <script type="application/json">.
    """
    specs = "{" + ",".join(f'"chart-{k}":{chart_json(chart)}' for k, (_, chart) in enumerate(charts)) + "}"
    chart_blocks = "".join(
        f'<h3>{html.escape(name)}</h3><div class="chart" id="chart-{k}">'
        + (
            '<p class="missing">Drawing this chart needs JavaScript (vega-embed, inlined in this file).</p>'
            if modules
            else '<p class="missing">This report was made without the Vega-Lite scripts, so the chart is '
            "not drawn here; its Vega-Lite spec is in this file (paste it into any Vega-Lite viewer).</p>"
        )
        + "</div>"
        for k, (name, _) in enumerate(charts)
    )
    specs = specs.replace("</", "<\\/")  # inside <script>: "</" cannot end the element early
    scripts = f'<script type="application/json" id="chart-specs">{specs}</script>'
    if modules:
        imports = {f"{MODULE_PREFIX}{name}": data_url(source) for name, source in modules.items()}
        scripts += f'<script type="importmap">{script_json({"imports": imports})}</script>'
        scripts += (
            '<script type="module">'
            f'import {{ t as embed }} from "{MODULE_PREFIX}{entry_module(modules)}";'
            'const specs = JSON.parse(document.getElementById("chart-specs").textContent);'
            "for (const [id, spec] of Object.entries(specs)) {"
            "  const slot = document.getElementById(id);"
            "  slot.innerHTML = '';"
            "  embed(slot, spec, {actions: {export: true, source: true, compiled: false, editor: false},"
            "    renderer: 'svg'}).catch((error) => {"
            "    slot.innerHTML = '<p class=\"missing\">This chart could not be drawn: ' +"
            "      String(error).replace(/[<&]/g, '') + '</p>'; });"
            "}"
            "</script>"
        )
    link = html.escape(share_link)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(summary)}</p>"
        f"<h2>Headline (first run)</h2>{table_html(headline)}"
        f"<h2>Runs</h2>{table_html(runs)}"
        f"<h2>Settings</h2>{table_html(settings)}"
        f'<h2>Share link</h2><p><a href="{link}">{link}</a></p>'
        "<h2>Charts</h2>"
        + ('<p class="note">Each chart\'s “…” menu saves it as SVG or PNG.</p>' if modules else "")
        + chart_blocks
        + scripts
        + "</body></html>"
    )


def settings_rows(settings: Settings) -> list[tuple[str, str]]:
    """Every setting that shapes the runs, as a reader would say it."""
    rows = [
        (
            "Data",
            {
                "synthetic": "make_regression (synthetic)",
                "curve": f"{settings.curve} curve (synthetic)",
                "diabetes": "diabetes (scikit-learn)",
            }.get(settings.source, "an uploaded CSV file"),
        )
    ]
    if settings.source == "curve":
        rows += [
            ("Samples", f"{settings.samples:,}"),
            ("Noise", f"{settings.curve_noise:g}"),
            ("Seed", str(settings.seed)),
        ]
    if settings.source == "synthetic":
        rows += [
            ("Samples", f"{settings.samples:,}"),
            ("Features", str(settings.features)),
            ("Noise", f"{settings.noise:g}"),
            ("True intercept", f"{settings.intercept:g}"),
            ("Seed", str(settings.seed)),
        ]
    if settings.degree > 1:
        rows.append(("Polynomial degree", f"{settings.degree} (x, x², …, x^{settings.degree})"))
    if settings.l2:
        rows.append(("Ridge penalty λ", f"{settings.l2:g} (loss MSE + λ‖w‖², bias not penalized)"))
    rows += [
        ("Standardized features", "yes" if settings.standardize else "no"),
        (
            "Test fraction",
            f"{settings.test_fraction:g}"
            + (f" (split seed {settings.seed})" if settings.test_fraction else ""),
        ),
        ("Optimizers", ", ".join(OPTIMIZERS[name].display_name for name in settings.optimizers)),
        ("Batch size", "full batch" if settings.batch_size is None else f"{settings.batch_size:,}"),
        ("Learning rate α", f"{settings.alpha:g}"),
        *(
            [("Learning-rate schedule", f"{settings.schedule_spec().describe()}, stepped once per epoch")]
            if settings.schedule != "constant"
            else []
        ),
        ("Epochs", f"{settings.epochs:,}"),
        (
            "Start (w₀, b₀)",
            f"(({', '.join(f'{w:g}' for w in settings.w0_each)}), {settings.b0:g})"
            if settings.w0_each
            else f"({settings.w0:g}, {settings.b0:g})",
        ),
        (
            "Stop when the error stabilizes",
            f"yes, relative change below {settings.tol:g}" if settings.stop else "no",
        ),
    ]
    rows += [(f"Hyperparameter {name}", f"{value:g}") for name, value in settings.hyper]
    if settings.blog_code:
        rows.append(("Blog's code (buggy) drawn", "yes"))
    return rows


def headline_rows(name: str, run: Trajectory, fit: Fit, l2: float = 0.0) -> list[tuple[str, str]]:
    """The first run's best epoch against the optimum of its loss (least squares, or with a ridge
    penalty `l2` > 0 the ridge solution, the error then penalized), and the blog's line for it."""
    label, value, note = best_epoch_headline(run)
    rows = [
        ("Run", name),
        (label, f"{value} {note} ({run.stop_reason})"),
        (
            "Error (MSE + λ‖w‖²)" if l2 else "Error (MSE)",
            f"{run.best_loss:,.3f} ({'ridge ' if l2 else ''}optimum {fit.loss:,.3f})",
        ),
    ]
    for k, (w, w_star) in enumerate(zip(run.best_weights, fit.weights, strict=True)):
        label = "Weight w" if run.n_features == 1 else f"Weight w{k + 1}"
        rows.append((label, f"{w:,.3f} (w* = {w_star:,.3f})"))
    rows += [
        ("Bias b", f"{run.best_bias:,.3f} (b* = {fit.bias:,.3f})"),
        ("The blog's line", run.summary_line()),
    ]
    return rows


def run_rows(table: pd.DataFrame) -> list[tuple[str, str]]:
    """One line per run of a `compare.results_table`: best MSE, where it reached the optimum, why it stopped."""
    rows = []
    for _, row in table.iterrows():
        reached = row["reached optimum at epoch"]
        where = "not reached" if pd.isna(reached) else f"reached the optimum at epoch {int(reached):,}"
        rows.append(
            (
                str(row["run"]),
                f"best MSE {row['best MSE']:,.3f} at epoch {int(row['best epoch']):,}; {where}; "
                f"{row['stop reason']}",
            )
        )
    return rows


def chart_heading(chart: ChartSpec) -> str:
    """A chart's own title (its subtitle's text dropped), or the name of its first data set."""
    title = chart.template.spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return str(title) if title else next(iter(chart.datasets), "Chart")

"""Chart-ready tables (pandas) and the dashboard's Altair charts. No Streamlit here.

Every table is bounded: `st.altair_chart` ships each row to the browser, so long trajectories are
downsampled to at most MAX_CHART_ROWS rows per chart, always keeping each run's first, last and best
epoch.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd

from gdcore.dashboard.experiment import LandscapeView, MomentumMap
from gdcore.dashboard.explain import loss_name, optimum_name
from gdcore.dashboard.singlestep import GD_ARROW, GRADIENT_ARROW, TAKEN_ARROW
from gdcore.landscape import clip_polyline
from gdcore.limits import StepLimits
from gdcore.theory import Fit
from gdcore.trajectory import Trajectory

MAX_CHART_ROWS = 5000
MAX_SCATTER_POINTS = 1000
FIT_FRAMES = 501  # the fit chart draws every epoch of a run up to 500 epochs long

# One colour per quantity, the same in every chart.
COLORS = {
    "loss": "#4C6EF5",
    "test loss": "#AE3EC9",
    "w": "#F08C00",
    "b": "#2F9E44",
    "optimum": "#E03131",
    "data": "#868E96",
    "start": "#1F2633",
}
RUN_PALETTE = ["#4C6EF5", "#F08C00", "#2F9E44", "#E03131", "#AE3EC9", "#1098AD", "#5C940D"]


@dataclass(frozen=True)
class Template:
    """A data-free chart: its layers read named data sets, and every data-dependent number (a scale's
    ends, a slider's start) is a top-level Vega-Lite parameter. Built and serialised once per shape."""

    chart: alt.TopLevelMixin
    spec: dict


def template(builder):
    """Cache a chart builder by its (hashable, structural) arguments: Altair's object construction and
    serialisation cost ~5-20 ms a layer (the landscape's first build ~0.3 s), so each chart shape is
    built once and only its data changes. One build at a time per builder: a second thread that asks
    while one is being built waits for it instead of building it again beside it (a visitor's first run
    and the server's warm-up, which draw the same charts in the same order, share one core)."""

    @functools.lru_cache(maxsize=128)
    def build(*args) -> Template:
        chart = builder(*args)
        spec = chart.to_dict(validate=False)
        spec.pop("config", None)  # Altair's default theme; the dashboard's theme applies instead
        return Template(chart, spec)

    one_at_a_time = threading.RLock()

    @functools.wraps(builder)
    def cached(*args) -> Template:
        with one_at_a_time:
            return build(*args)

    return cached


@dataclass(frozen=True)
class ChartSpec:
    """A chart template, the named data sets it reads, and the values of its parameters.

    `vega_lite()` fills the template's serialised spec without going through Altair again (no schema
    validation, no deep copies: most of a rerun's time otherwise); the tests validate every template
    against the schema once (`spec.chart.to_dict()`). `bindings` sets a bound parameter's input
    properties (a slider's `max`), which Vega-Lite cannot take from an expression.
    """

    template: Template
    datasets: dict[str, pd.DataFrame]
    params: Mapping[str, object] = field(default_factory=dict)
    bindings: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    @property
    def chart(self) -> alt.TopLevelMixin:
        return self.template.chart

    def vega_lite(self) -> dict:
        """The Vega-Lite spec with the data sets attached and the parameters set (for st.vega_lite_chart)."""
        spec = dict(self.template.spec)
        if "params" in spec:
            spec["params"] = [self._filled(p) for p in spec["params"]]
        spec["datasets"] = dict(self.datasets)
        return spec

    def _filled(self, param: dict) -> dict:
        name = param.get("name")
        if name in self.params:
            param = {**param, "value": self.params[name]}
        if name in self.bindings:
            param = {**param, "bind": {**param["bind"], **self.bindings[name]}}
        return param

    def altair(self) -> alt.TopLevelMixin:
        """A self-contained Altair chart (data inline, parameters set), e.g. to show in a notebook."""
        spec = self.vega_lite()
        spec["datasets"] = {name: table.to_dict("records") for name, table in self.datasets.items()}
        return (
            alt.Chart.from_dict(spec, validate=False)
            if "mark" in spec
            else alt.LayerChart.from_dict(spec, validate=False)
        )


def _value(name: str, value: float = 0.0) -> alt.Parameter:
    return alt.param(name=name, value=value)


def _data(name: str) -> alt.NamedData:
    return alt.NamedData(name=name)


def sample_epochs(n_states: int, max_points: int, keep: Sequence[int] = ()) -> np.ndarray:
    """Sorted indices into 0..n_states-1, at most max(max_points, len(keep) + 2) of them.

    Always holds 0, n_states - 1 and `keep`; the rest is half evenly spaced and half geometric, so both
    the fast early drop and the long tail keep their shape.
    """
    last = n_states - 1
    must = np.unique(np.clip(np.array([0, last, *keep], dtype=np.int64), 0, last))
    if n_states <= max_points:
        return np.arange(n_states)
    budget = max(max_points - must.size, 0)
    linear = np.linspace(0, last, budget // 2 + 2).round().astype(np.int64)
    geometric = np.geomspace(1, last, budget - budget // 2 + 2).round().astype(np.int64)
    indices = np.unique(np.concatenate([must, linear, geometric]))
    if indices.size > max(max_points, must.size):
        extra = np.setdiff1d(indices, must)
        n_extra = max(max_points - must.size, 0)
        chosen = extra[np.linspace(0, extra.size - 1, n_extra).round().astype(np.int64)]
        indices = np.unique(np.concatenate([must, chosen]))
    return indices


def _per_run_budget(n_runs: int, series: int = 1) -> int:
    return max(MAX_CHART_ROWS // max(n_runs * series, 1), 3)


def loss_table(runs: Mapping[str, Trajectory], test_loss: Mapping[str, np.ndarray] | None = None):
    """Rows (run, epoch, loss, series, best) for every run, downsampled, best epoch flagged."""
    test_loss = test_loss or {}
    series_count = 2 if test_loss else 1
    frames = []
    for name, run in runs.items():
        idx = sample_epochs(run.loss.size, _per_run_budget(len(runs), series_count), [run.best_epoch])
        frames.append(
            pd.DataFrame(
                {
                    "run": name,
                    "epoch": idx,
                    "loss": run.loss[idx],
                    "series": "train" if name in test_loss else "loss",
                    "best": idx == run.best_epoch,
                }
            )
        )
        if name in test_loss:
            frames.append(
                pd.DataFrame(
                    {
                        "run": name,
                        "epoch": idx,
                        "loss": test_loss[name][idx],
                        "series": "test",
                        "best": False,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def legend_columns(labels: Sequence[str], width: float = 300.0) -> int:
    """Entries per row of a legend over the chart, so that its rows fit `width` pixels (on a phone a chart
    is about 360 px wide, its plot starts 60-100 px in, and a legend wider than that is cut off): about
    6.5 px a character plus 34 px for the symbol and the gaps."""
    widest = max((len(str(label)) for label in labels), default=1)
    return int(max(1, min(len(labels), width // (34 + 6.5 * widest))))


def _color(field: str, domain: Sequence[str], palette: Sequence[str], title: str):
    return alt.Color(
        f"{field}:N",
        scale=alt.Scale(domain=list(domain), range=list(palette[: len(domain)])),
        legend=alt.Legend(title=title, orient="top", columns=legend_columns(domain))
        if len(domain) > 1
        else None,
    )


def loss_chart(
    table: pd.DataFrame,
    optimum_loss: float,
    log_scale: bool = True,
    log_epochs: bool = False,
    penalized: bool = False,
) -> ChartSpec:
    """Loss per epoch for each run, the least-squares minimum as a dashed rule, best epochs marked
    (`penalized`: the losses are of MSE + lambda ||w||^2 and the rule is the ridge minimum, said so).

    The log loss axis has ticks at 1, 2, 5 x 10^k (or powers of ten over many decades: `log_ticks`) up
    to the power of ten above the largest loss; `log_epochs` puts the epochs on a log axis too (symlog,
    so epoch 0 stays), which keeps a run that stopped early from being squashed against the left edge.
    """
    runs = tuple(dict.fromkeys(table["run"]))
    positive = table["loss"][np.isfinite(table["loss"]) & (table["loss"] > 0)]
    lows = [float(positive.min())] if len(positive) else []
    lows += [optimum_loss] if optimum_loss > 0 else []
    log_scale = log_scale and bool(lows)
    two_series = table["series"].nunique() > 1
    minimum = pd.DataFrame({"loss": [optimum_loss], "label": [f"{optimum_name(penalized)} minimum"]})
    params: dict[str, object] = {}
    if log_scale:
        floor = 0.9 * min(lows)
        top = max(float(positive.max()) if len(positive) else floor, optimum_loss, floor)
        # Vega rounds a log axis out to powers of ten ("nice"): the ticks cover that whole range.
        params["loss_floor"] = floor
        # Exponents clamped to float64's range: a diverging run can end near 1.8e308.
        params["loss_ticks"] = log_ticks(
            10.0 ** max(math.floor(math.log10(floor)), -307), 10.0 ** min(math.ceil(math.log10(top)), 308)
        )
    if log_epochs:
        params["epoch_ticks"] = epoch_ticks(int(table["epoch"].max()))
    return ChartSpec(
        _loss_template(runs, log_scale, two_series, log_epochs, penalized),
        {"loss": table, "minimum": minimum},
        params,
    )


# Axis labels that read at a glance: thousands separators, e-notation past a million, never 17 digits.
READABLE_NUMBER = "abs(datum.value) >= 1e6 ? format(datum.value, '.2~e') : format(datum.value, ',.6~g')"


def epoch_ticks(last: int) -> list[int]:
    """Ticks of a log epoch axis from 0 to `last`: 0 and 1, 2, 5 x 10^k, or 0 and the powers of ten when
    that would be more than ten ticks."""
    ticks = [0] + [m * 10**e for e in range(0, 7) for m in (1, 2, 5) if m * 10**e <= max(last, 1)]
    if len(ticks) > 10:
        ticks = [0] + [10**e for e in range(0, 7) if 10**e <= last]
    return ticks


def symlog_ticks(low: float, high: float, per_side: int = 4) -> list[float]:
    """Ticks of a symmetric log axis over [low, high]: 0 and +-10^k, at most `per_side` powers on each
    side, k a multiple of 1, 2, 3, 5, 10, ... so that they are evenly spaced on the axis."""
    ticks = [0.0]
    for sign, reach in ((1.0, high), (-1.0, -low)):
        reach = min(reach, 1e300)
        if not reach >= 1.0:
            continue
        top = math.floor(math.log10(reach))
        step = next(s for s in (1, 2, 3, 5, 10, 20, 25, 50, 100) if top // s <= per_side)
        # +-1 sits next to 0 on the axis: kept only when the powers are one decade apart.
        ticks += [sign * 10.0**e for e in range(0 if step == 1 else step, top + 1, step)]
    return sorted(ticks)


def _epoch_axis(log_epochs: bool) -> alt.X:
    if not log_epochs:
        return alt.X("epoch:Q", title="Epoch", axis=alt.Axis(format=",d"))
    return alt.X(
        "epoch:Q",
        title="Epoch (log scale)",
        scale=alt.Scale(type="symlog", constant=1),
        axis=alt.Axis(values=alt.ExprRef("epoch_ticks"), format=",d"),
    )


def _title(text: str, subtitle: str = "") -> alt.Title:
    """A title that fits a phone: Streamlit cuts a chart's title and subtitle at the chart's width less
    40 px (about 40 title or 50 subtitle characters on a 390 px screen), so longer text is split into
    lines at spaces."""

    def lines(words: str, width: int) -> list[str] | str:
        out: list[str] = []
        for word in words.split(" "):
            if out and len(out[-1]) + 1 + len(word) <= width:
                out[-1] += " " + word
            else:
                out.append(word)
        return out if len(out) > 1 else words

    title = lines(text, 38)
    return alt.Title(title, subtitle=lines(subtitle, 48)) if subtitle else alt.Title(title)


@template
def _loss_template(
    runs: tuple[str, ...],
    log_scale: bool,
    two_series: bool,
    log_epochs: bool = False,
    penalized: bool = False,
) -> alt.TopLevelMixin:
    loss = loss_name(penalized)
    y_scale = (
        alt.Scale(type="log", domainMin=alt.ExprRef("loss_floor")) if log_scale else alt.Scale(zero=False)
    )
    y_axis = (
        alt.Axis(values=alt.ExprRef("loss_ticks"), labelExpr=READABLE_NUMBER)
        if log_scale
        else alt.Axis(labelExpr=READABLE_NUMBER)
    )
    x = _epoch_axis(log_epochs)
    color = _color("run", runs, RUN_PALETTE if len(runs) > 1 else [COLORS["loss"]], "Run")
    base = alt.Chart(_data("loss"))
    line = base.mark_line(strokeWidth=2.5, clip=True).encode(
        x=x,
        y=alt.Y(
            "loss:Q",
            title=f"{loss} (loss)" + (", log scale" if log_scale else ""),
            scale=y_scale,
            axis=y_axis,
        ),
        color=color,
        strokeDash=alt.StrokeDash(
            "series:N",
            scale=alt.Scale(domain=["train", "test"], range=[[1, 0], [6, 3]])
            if two_series
            else alt.Scale(domain=["loss"], range=[[1, 0]]),
            legend=alt.Legend(title=None, orient="top") if two_series else None,
        ),
        detail="series:N",
        tooltip=[
            alt.Tooltip("run:N", title="Run"),
            alt.Tooltip("series:N", title="Series"),
            alt.Tooltip("epoch:Q", title="Epoch", format=","),
            alt.Tooltip("loss:Q", title=loss, format=",.4f"),
        ],
    )
    best = (
        base.transform_filter(alt.datum.best)
        .mark_point(size=120, filled=True, shape="diamond", clip=True)
        .encode(
            x=x,
            y=alt.Y("loss:Q", scale=y_scale),
            color=color,
            tooltip=[
                alt.Tooltip("run:N", title="Run"),
                alt.Tooltip("epoch:Q", title="Best epoch", format=","),
                alt.Tooltip("loss:Q", title=f"Best {loss}", format=",.4f"),
            ],
        )
    )
    rule = (
        alt.Chart(_data("minimum"))
        .mark_rule(color=COLORS["optimum"], strokeDash=[6, 4], strokeWidth=2)
        .encode(
            y="loss:Q",
            tooltip=[
                alt.Tooltip("label:N", title=" "),
                alt.Tooltip("loss:Q", title=f"{loss} *", format=",.4f"),
            ],
        )
    )
    chart = (line + best + rule).properties(
        title=_title("Loss per epoch", f"red dashed: the {optimum_name(penalized)} minimum"), height=320
    )
    params = [_value("loss_floor", 1.0), _value("loss_ticks", [1.0])] if log_scale else []
    params += [_value("epoch_ticks", [0])] if log_epochs else []
    return chart.add_params(*params) if params else chart


def step_size_table(run: Trajectory) -> pd.DataFrame:
    """Rows (epoch, alpha) of the step each epoch used (`Trajectory.alphas`): epoch t = 1..K is the pass
    that produced state t, so the row sits at the loss chart's epoch it led to. Downsampled like the loss
    (first and last epoch kept)."""
    alphas = run.alphas if run.alphas is not None else np.zeros(0)
    idx = sample_epochs(alphas.size, MAX_CHART_ROWS) if alphas.size else np.zeros(0, dtype=np.int64)
    return pd.DataFrame({"epoch": idx + 1, "alpha": alphas[idx]})


def step_size_chart(table: pd.DataFrame, limits: Mapping[str, float], title: str) -> ChartSpec:
    """The step alpha_e used in each epoch as a step line (log axis when it spans more than two decades),
    with each optimizer's constant-step limit alpha_max in `limits` ({label: alpha_max}) as a dashed rule
    where it lies within 10x of the steps (the subtitle names the rule only when one is drawn)."""
    positive = table["alpha"][table["alpha"] > 0]
    log_scale = bool(len(positive)) and float(positive.max()) > 100.0 * float(positive.min())
    top = float(table["alpha"].max()) if len(table) else 1.0
    shown = {label: value for label, value in limits.items() if value is not None and value <= 10.0 * top}
    rules = pd.DataFrame({"label": list(shown), "alpha": list(shown.values())})
    return ChartSpec(_step_size_template(log_scale, title, bool(shown)), {"steps": table, "limits": rules})


@template
def _step_size_template(log_scale: bool, title: str, with_limits: bool = True) -> alt.TopLevelMixin:
    y = alt.Y(
        "alpha:Q",
        # Short: a vertical axis title longer than the plot pushed the chart's title out of its top.
        title="Step α" + (", log scale" if log_scale else ""),
        scale=alt.Scale(type="log") if log_scale else alt.Scale(zero=True),
        axis=alt.Axis(labelExpr=READABLE_NUMBER),
    )
    line = (
        alt.Chart(_data("steps"))
        .mark_line(interpolate="step-before", strokeWidth=2.5, color=COLORS["loss"], clip=True)
        .encode(
            x=alt.X("epoch:Q", title="Epoch", axis=alt.Axis(format=",d")),
            y=y,
            tooltip=[
                alt.Tooltip("epoch:Q", title="Epoch", format=","),
                alt.Tooltip("alpha:Q", title="α used", format=".4~g"),
            ],
        )
    )
    rules = (
        alt.Chart(_data("limits"))
        .mark_rule(color=COLORS["optimum"], strokeDash=[6, 4], strokeWidth=2)
        .encode(
            y="alpha:Q",
            tooltip=[
                alt.Tooltip("label:N", title="Constant-step limit"),
                alt.Tooltip("alpha:Q", title="α_max", format=".4~g"),
            ],
        )
    )
    subtitle = "red dashed: α_max of a constant step" if with_limits else ""
    return (line + rules).properties(title=_title(title, subtitle), height=260)


def parameter_table(runs: Mapping[str, Trajectory], names: Sequence[str]) -> pd.DataFrame:
    """Rows (run, epoch, parameter, value) for every weight and the bias, downsampled."""
    frames = []
    n_params = len(names)
    for run_name, run in runs.items():
        idx = sample_epochs(run.loss.size, _per_run_budget(len(runs), n_params), [run.best_epoch])
        values = np.column_stack([run.weights[idx], run.bias[idx]])
        for k, name in enumerate(names):
            frames.append(
                pd.DataFrame({"run": run_name, "epoch": idx, "parameter": name, "value": values[:, k]})
            )
    return pd.concat(frames, ignore_index=True)


# Weights' colours (the bias keeps COLORS["b"]); past ten weights the colours repeat with another dash.
PARAMETER_PALETTE = [
    "#1F77B4", "#FF7F0E", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#17BECF", "#1F2633", "#C29B00",
]  # fmt: skip
DASHES = [[1, 0], [2, 3], [8, 4], [12, 3, 3, 3], [5, 2]]
# Several runs with more parameters than this: one parameter at a time, picked under the chart.
MAX_DASHED_PARAMETERS = 4


def parameter_styles(names: Sequence[str]) -> tuple[list[str], list[list[int]]]:
    """(colour, dash) per parameter for one run: w orange and b green with one feature; else each weight
    one of ten colours, solid for the first ten and another dash pattern for each further ten; b green,
    solid. No two parameters share both (up to 50 weights)."""
    if len(names) == 2:
        return [COLORS["w"], COLORS["b"]], [DASHES[0], DASHES[0]]
    n = len(names) - 1
    colours = [PARAMETER_PALETTE[k % len(PARAMETER_PALETTE)] for k in range(n)] + [COLORS["b"]]
    dashes = [DASHES[(k // len(PARAMETER_PALETTE)) % len(DASHES)] for k in range(n)] + [DASHES[0]]
    return colours, dashes


def parameter_chart(
    table: pd.DataFrame, optimum: Mapping[str, float], log_epochs: bool = False, penalized: bool = False
) -> ChartSpec:
    """Each parameter per epoch, with a thin line at its least-squares value (labelled "w*", "b*"; the
    ridge solution's, said so, when `penalized`).

    A run that diverges grows geometrically: the value axis becomes a symmetric log axis with ticks at
    0 and powers of ten, labelled in e-notation past a million.
    """
    names = tuple(optimum)
    targets = pd.DataFrame(
        {"parameter": names, "value": [optimum[n] for n in names], "label": [f"{n}*" for n in names]}
    )
    finite = table["value"][np.isfinite(table["value"])]
    spread = float(np.max(np.abs(finite))) if len(finite) else 0.0
    reach = max(abs(v) for v in optimum.values()) if optimum else 0.0
    symlog = spread > 100.0 * max(reach, 1.0)
    runs = tuple(dict.fromkeys(table["run"]))
    params: dict[str, object] = {}
    if symlog:
        params["value_ticks"] = symlog_ticks(float(finite.min()), float(finite.max()))
    if log_epochs:
        params["epoch_ticks"] = epoch_ticks(int(table["epoch"].max()))
    if len(runs) > 1 and len(names) > MAX_DASHED_PARAMETERS:
        params["shown_parameter"] = names[0]
    template = _parameter_template(names, runs, symlog, log_epochs, penalized)
    return ChartSpec(template, {"parameters": table, "optimum": targets}, params)


@template
def _parameter_template(
    names: tuple[str, ...],
    runs: tuple[str, ...],
    symlog: bool,
    log_epochs: bool = False,
    penalized: bool = False,
) -> alt.TopLevelMixin:
    """One run: a colour (and past ten weights a dash) per parameter. Several runs: a colour per run (as
    in every other chart) and a dash pattern per parameter, or, with more than MAX_DASHED_PARAMETERS,
    one parameter at a time chosen in a drop-down under the chart. Least-squares values: thin solid
    lines with their name at the right edge, never dashed (dashes name parameters)."""
    several = len(runs) > 1
    pick = several and len(names) > MAX_DASHED_PARAMETERS
    if several:
        color = _color("run", runs, RUN_PALETTE, "Run")
        dash = (
            alt.value([1, 0])
            if pick
            else alt.StrokeDash(
                "parameter:N",
                scale=alt.Scale(domain=list(names), range=DASHES[: len(names)]),
                legend=alt.Legend(title="Parameter", orient="bottom", symbolSize=500, symbolStrokeWidth=2.5),
            )
        )
        rule_color = alt.value(COLORS["data"])
    else:
        colours, dashes = parameter_styles(names)
        # One legend for colour and dash (same field and title), in rows that fit a phone.
        legend = alt.Legend(
            title="Parameter",
            orient="top",
            columns=legend_columns(names, 250),
            symbolSize=400,
            symbolStrokeWidth=2.5,
        )
        color = alt.Color("parameter:N", scale=alt.Scale(domain=list(names), range=colours), legend=legend)
        dash = alt.StrokeDash("parameter:N", scale=alt.Scale(domain=list(names), range=dashes), legend=legend)
        rule_color = color.legend(None)
    y = alt.Y(
        "value:Q",
        title="Parameter value" + (" (symmetric log)" if symlog else ""),
        scale=alt.Scale(type="symlog") if symlog else alt.Scale(),
        axis=alt.Axis(values=alt.ExprRef("value_ticks"), labelExpr=READABLE_NUMBER)
        if symlog
        else alt.Axis(labelExpr=READABLE_NUMBER),
    )
    shown = alt.param(
        name="shown_parameter",
        value=names[0],
        bind=alt.binding_select(options=list(names), name="Parameter "),
    )
    lines = alt.Chart(_data("parameters"))
    rules = alt.Chart(_data("optimum"))
    if pick:
        lines = lines.transform_filter(alt.datum.parameter == shown)
        rules = rules.transform_filter(alt.datum.parameter == shown)
    lines = lines.mark_line(strokeWidth=2.5, clip=True).encode(
        x=_epoch_axis(log_epochs),
        y=y,
        color=color,
        strokeDash=dash,
        detail="parameter:N",
        tooltip=[
            alt.Tooltip("run:N", title="Run"),
            alt.Tooltip("parameter:N", title="Parameter"),
            alt.Tooltip("epoch:Q", title="Epoch", format=","),
            alt.Tooltip("value:Q", title="Value", format=",.4f"),
        ],
    )
    tooltip = [
        alt.Tooltip("parameter:N", title="Least-squares"),
        alt.Tooltip("value:Q", title="Value", format=",.4f"),
    ]
    rule = rules.mark_rule(strokeWidth=1.2, opacity=0.8).encode(
        y=alt.Y("value:Q"), color=rule_color, tooltip=tooltip
    )
    layers = [lines, rule]
    if pick or len(names) <= MAX_DASHED_PARAMETERS:  # more names than that at the edge would overlap
        layers.append(
            rules.mark_text(align="right", baseline="bottom", dy=-2, fontSize=12).encode(
                x=alt.value("width"), y=alt.Y("value:Q"), text="label:N", color=rule_color, tooltip=tooltip
            )
        )
    subtitle = "thin " + ("grey " if several else "") + f"lines: the {optimum_name(penalized)} values"
    top_legend = runs if several else names  # (several runs: the dash legend is under the chart)
    legend_rows = math.ceil(len(top_legend) / legend_columns(top_legend, 300 if several else 250))
    bottom_legend = 45 if several and not pick else 0
    chart = alt.layer(*layers).properties(
        title=_title("Parameters per epoch", subtitle), height=300 + 22 * (legend_rows - 1) + bottom_legend
    )
    params = [shown] if pick else []
    params += [_value("value_ticks", [0.0])] if symlog else []
    params += [_value("epoch_ticks", [0])] if log_epochs else []
    return chart.add_params(*params) if params else chart


def _scatter_sample(n: int, seed: int = 0) -> np.ndarray:
    if n <= MAX_SCATTER_POINTS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, MAX_SCATTER_POINTS, replace=False))


def fit_tables(x: np.ndarray, y: np.ndarray, run: Trajectory, fit: Fit):
    """(points, lines, optimum): a sample of the data; the fitted line's two ends at every epoch, or at
    FIT_FRAMES of them (first, last and best kept) for longer runs; the least-squares line's two ends."""
    idx = _scatter_sample(x.size)
    points = pd.DataFrame({"x": x[idx], "y": y[idx]})
    x_ends = np.array([x.min(), x.max()])
    epochs = sample_epochs(run.loss.size, FIT_FRAMES, [run.best_epoch])
    w, b = run.weights[epochs, 0], run.bias[epochs]
    lines = pd.DataFrame(
        {
            "epoch": np.repeat(epochs, 2),
            "x": np.tile(x_ends, epochs.size),
            "left": np.tile([True, False], epochs.size),
            "y": (w[:, None] * x_ends[None, :] + b[:, None]).ravel(),
            "w": np.repeat(w, 2),
            "b": np.repeat(b, 2),
            "loss": np.repeat(run.loss[epochs], 2),
        }
    )
    optimum = pd.DataFrame({"x": x_ends, "y": fit.weights[0] * x_ends + fit.bias})
    return points, lines, optimum


# --- Play the descent, in the browser ------------------------------------------------------------------
# Vega-Lite's own frame animation (a `time` encoding with a timer selection) refuses layered charts, so the
# play head is a point selection whose events are a timer stream (a derived stream: Vega-Lite does not
# take it for its animation) and whose `toggle` expression, evaluated on every tick, is the play head's
# state {e: epoch shown, s: slider value last seen}. Moving the slider moves the play head there; while
# "Play" is ticked it advances, through the whole run in the chosen number of seconds, holds at the last
# epoch for a tenth of that, and starts again; unticked, it stays where it is (returning the same object,
# so nothing is redrawn). No rerun: the server is not involved.
PLAY_TICK_MS = 100
PLAY_SECONDS = (5, 10, 20, 40)  # the whole run, in seconds: the speeds offered
PLAY_HOLD = 0.1  # of the run's length: how long the last epoch stays before starting again
# The slider's value at once when it has just moved (the next tick takes it up), else the play head's.
PLAYHEAD = "(clock_toggle && clock_toggle.s === epoch ? min(clock_toggle.e, last_epoch) : epoch)"


def at_play_head(chart: alt.Chart) -> alt.Chart:
    """Only the rows of the drawn epoch nearest the play head (the earlier one on a tie)."""
    return (
        chart.transform_calculate(
            distance=f"abs(datum.epoch - {PLAYHEAD}) + (datum.epoch > {PLAYHEAD} ? 0.5 : 0)"
        )
        .transform_joinaggregate(nearest="min(distance)")
        .transform_filter("datum.distance == datum.nearest")
    )


def play_params(start: int = 0, bound: bool = True) -> list[alt.Parameter]:
    """The controls under a chart: Play (a checkbox), the speed, and the epoch slider (its end set per
    run through ChartSpec.bindings); `last_epoch` is the run's last epoch. Not `bound`: the same
    parameters without controls (the page's single-step control sets `epoch`, and nothing plays)."""
    if not bound:
        return [
            _value("playing", False),
            _value("seconds", PLAY_SECONDS[1]),
            _value("epoch", start),
            _value("last_epoch", 1),
        ]
    return [
        alt.param(name="playing", value=False, bind=alt.binding_checkbox(name="▶ Play ")),
        alt.param(
            name="seconds",
            value=PLAY_SECONDS[1],
            bind=alt.binding_select(
                options=list(PLAY_SECONDS),
                labels=[f"whole run in {s} s" for s in PLAY_SECONDS],
                name="Speed ",
            ),
        ),
        alt.param(name="epoch", value=start, bind=alt.binding_range(min=0, max=1, step=1, name="Epoch ")),
        _value("last_epoch", 1),
    ]


def play_clock() -> alt.Parameter:
    """The play head (see above): attach it to one layer of the chart."""
    advance = f"clock_toggle.e + last_epoch * {PLAY_TICK_MS} / (1000 * seconds)"
    state = (
        "!clock_toggle || clock_toggle.s !== epoch ? {e: epoch, s: epoch} : "
        f"playing ? {{e: clock_toggle.e >= last_epoch * {1 + PLAY_HOLD} ? 0 : {advance}, s: epoch}} : "
        "clock_toggle"
    )
    return alt.param(
        name="clock",
        select=alt.PointSelectionConfig(
            type="point", on={"stream": {"type": "timer"}, "throttle": PLAY_TICK_MS}, toggle=state
        ),
    )


def fit_chart(
    points: pd.DataFrame,
    lines: pd.DataFrame,
    optimum: pd.DataFrame,
    start_epoch: int,
    x_title: str = "x",
    y_title: str = "y",
    penalized: bool = False,
) -> ChartSpec:
    """The data, the least-squares line (the ridge line when `penalized`), and the fitted line at the
    epoch chosen with the slider under the chart (a client-side Vega-Lite parameter: scrubbing needs no
    rerun). The slider runs over the epochs, 0 to the last, one at a time; when only some epochs are
    drawn (long runs), the line and its label are those of the drawn epoch nearest the slider."""
    y_lo = float(min(points["y"].min(), optimum["y"].min()))
    y_hi = float(max(points["y"].max(), optimum["y"].max()))
    pad = 0.1 * (y_hi - y_lo or 1.0)
    return ChartSpec(
        _fit_template(x_title, y_title, penalized),
        {"points": points, "lines": lines, "least_squares": optimum},
        {
            "epoch": int(start_epoch),
            "last_epoch": int(lines["epoch"].max()),
            "y_lo": y_lo - pad,
            "y_hi": y_hi + pad,
        },
        {"epoch": {"max": int(lines["epoch"].max())}},
    )


@template
def _fit_template(x_title: str = "x", y_title: str = "y", penalized: bool = False) -> alt.TopLevelMixin:
    loss = loss_name(penalized)
    # The slider's end is set per run (ChartSpec.bindings): one template for every number of epochs.
    y_scale = alt.Scale(domainMin=alt.ExprRef("y_lo"), domainMax=alt.ExprRef("y_hi"))
    dots = (
        alt.Chart(_data("points"))
        .mark_circle(size=36, opacity=0.55, color=COLORS["data"])
        .encode(
            x=alt.X("x:Q", title=x_title),
            y=alt.Y("y:Q", title=y_title, scale=y_scale),
            tooltip=[
                alt.Tooltip("x:Q", title=x_title, format=",.3f"),
                alt.Tooltip("y:Q", title=y_title, format=",.3f"),
            ],
        )
    )
    best_line = (
        alt.Chart(_data("least_squares"))
        .mark_line(color=COLORS["optimum"], strokeDash=[6, 4], strokeWidth=2)
        .encode(x="x:Q", y=alt.Y("y:Q", scale=y_scale))
    )
    # The drawn epoch nearest the slider (the earlier one on a tie): its two rows, the line's ends.
    current = at_play_head(alt.Chart(_data("lines")))
    fitted = (
        current.mark_line(color=COLORS["loss"], strokeWidth=3, clip=True)
        .add_params(play_clock())
        .encode(
            x="x:Q",
            y=alt.Y("y:Q", scale=y_scale),
            tooltip=[
                alt.Tooltip("epoch:Q", title="Epoch", format=","),
                alt.Tooltip("w:Q", format=",.4f"),
                alt.Tooltip("b:Q", format=",.4f"),
                alt.Tooltip("loss:Q", title=loss, format=",.4f"),
            ],
        )
    )
    label = (
        current.transform_filter(alt.datum.left)
        .transform_calculate(
            text="'epoch ' + format(datum.epoch, ',') + ':  w = ' + format(datum.w, ',.3f') + ',  b = '"
            f" + format(datum.b, ',.3f') + ',  {loss} = ' + format(datum.loss, ',.2f')"
        )
        .mark_text(align="left", baseline="top", dx=6, dy=6, fontSize=13, color=COLORS["loss"])
        .encode(x=alt.value(0), y=alt.value(0), text="text:N")
    )
    return (
        alt.layer(dots, best_line, fitted, label)
        .add_params(*play_params(), _value("y_lo"), _value("y_hi", 1.0))
        .properties(
            title=_title(
                "Data and fitted line",
                f"blue: the epoch shown, red: {'ridge' if penalized else 'least squares'}",
            ),
            height=340,
        )
    )


def prediction_tables(y: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """A sample of (actual, predicted) pairs for the d > 1 fit chart."""
    idx = _scatter_sample(y.size)
    return pd.DataFrame({"actual": y[idx], "predicted": predicted[idx]})


def prediction_chart(table: pd.DataFrame, title: str, target: str = "y", subtitle: str = "") -> ChartSpec:
    """Predicted against actual, with the y = x diagonal (a perfect fit lies on it)."""
    lo = float(min(table["actual"].min(), table["predicted"].min()))
    hi = float(max(table["actual"].max(), table["predicted"].max()))
    diagonal = pd.DataFrame({"actual": [lo, hi], "predicted": [lo, hi]})
    return ChartSpec(
        _prediction_template(title, target, subtitle),
        {"predictions": table, "diagonal": diagonal},
        {"lo": lo, "hi": hi},
    )


@template
def _prediction_template(title: str, target: str = "y", subtitle: str = "") -> alt.TopLevelMixin:
    scale = alt.Scale(domainMin=alt.ExprRef("lo"), domainMax=alt.ExprRef("hi"))
    dots = (
        alt.Chart(_data("predictions"))
        .mark_circle(size=36, opacity=0.55, color=COLORS["loss"])
        .encode(
            x=alt.X("actual:Q", title=f"Actual {target}", scale=scale),
            y=alt.Y("predicted:Q", title=f"Predicted {target}", scale=scale),
            tooltip=[
                alt.Tooltip("actual:Q", title=f"Actual {target}", format=",.3f"),
                alt.Tooltip("predicted:Q", title=f"Predicted {target}", format=",.3f"),
            ],
        )
    )
    diagonal = (
        alt.Chart(_data("diagonal"))
        .mark_line(color=COLORS["optimum"], strokeDash=[6, 4])
        .encode(x="actual:Q", y="predicted:Q")
    )
    return (
        (dots + diagonal)
        .add_params(_value("lo"), _value("hi", 1.0))
        .properties(title=_title(title, subtitle), height=340)
    )


def landscape_tables(view: LandscapeView, max_path_rows: int):
    """(contours, path, marks) for `landscape_chart` from an `experiment.LandscapeView`.

    contours: the level sets' points (level = height above J*, loss = J, piece = one polyline, order).
    path: each run's path, downsampled (first, last and best kept) and clipped to the view's reach (a
    step between two points beyond it is not drawn), each row with the previous one of its piece
    (prev_u, prev_v, prev_epoch: the chart finds where a path leaves the picture from them); `dot` marks
    the real epochs (the other rows are where a step crosses the reach's edge). marks: start, optimum.

    With a ridge penalty (`view.reference`), the unpenalized loss's level sets follow in `contours` as
    rows with `reference` true (their own pieces), and marks gain its optimum, REFERENCE_MARK.
    """
    c = view.contours
    contours = contour_rows(c, reference=False)
    if view.reference is not None:
        reference = contour_rows(view.reference, reference=True)
        reference["piece"] += int(c.piece.max()) + 1 if c.piece.size else 0
        contours = pd.concat([contours, reference], ignore_index=True)
        contours["order"] = np.arange(len(contours))
    frames = []
    budget = max(max_path_rows // max(len(view.paths), 1), 3)
    for name, path in view.paths.items():
        best = int(np.argmin(np.where(np.isfinite(path[:, 3]), path[:, 3], np.inf)))
        idx = sample_epochs(path.shape[0], budget, [best])
        xy, piece, source, _ = clip_polyline(path[idx, 1:3], view.reach, through=False)
        real = source >= 0
        rows = idx[np.where(real, source, 0)]
        epoch = np.where(real, path[rows, 0], np.nan)
        starts = np.append(True, piece[1:] != piece[:-1])

        def previous(values: np.ndarray, starts=starts) -> np.ndarray:
            return np.where(starts, np.nan, np.roll(values, 1))

        frames.append(
            pd.DataFrame(
                {
                    "run": name,
                    "epoch": epoch,
                    "u": xy[:, 0],
                    "v": xy[:, 1],
                    "loss": np.where(real, path[rows, 3], np.nan),
                    "piece": piece,
                    "order": np.arange(piece.size),
                    "dot": real,
                    "prev_u": previous(xy[:, 0]),
                    "prev_v": previous(xy[:, 1]),
                    "prev_epoch": previous(epoch),
                }
            )
        )
    path_table = pd.concat(frames, ignore_index=True)
    first = next(iter(view.paths.values()))
    penalized = view.reference_optimum is not None
    marks = pd.DataFrame(
        {
            "what": ["start", f"{optimum_name(penalized)} optimum"],
            "u": [first[0, 1], view.optimum[0]],
            "v": [first[0, 2], view.optimum[1]],
        }
    )
    if penalized:
        extra = {"what": REFERENCE_MARK, "u": view.reference_optimum[0], "v": view.reference_optimum[1]}
        marks = pd.concat([marks, pd.DataFrame([extra])], ignore_index=True)
    return contours, path_table, marks


REFERENCE_MARK = "least squares (λ = 0)"  # the unpenalized optimum, marked beside the ridge one


def contour_rows(c, reference: bool) -> pd.DataFrame:
    """One `Contours`' points as chart rows (level = height above its minimum, loss = J on the line)."""
    return pd.DataFrame(
        {
            "u": c.xy[:, 0],
            "v": c.xy[:, 1],
            "piece": c.piece,
            "order": np.arange(c.piece.size),
            "level": c.height,
            "loss": c.loss_star + c.height,
            "reference": reference,
        }
    )


def landscape_chart(
    contours: pd.DataFrame,
    path: pd.DataFrame,
    marks: pd.DataFrame,
    bounds: np.ndarray,
    u_title: str,
    v_title: str,
    arrows: pd.DataFrame | None = None,
    step_epoch: int | None = None,
    clickable: bool = False,
) -> ChartSpec:
    """J(u, v)'s level sets (exact ellipses, 1-2-5 steps of height above the minimum) and each run's
    path over them, u and v at equal scale: the box `bounds` is always shown, and the browser widens
    whichever side the plot's aspect leaves room for (Vega-Lite expressions of the plot's width and
    height), so a round bowl is drawn round at any screen width. Where a path leaves the picture, an
    arrow at the edge points the way it went, labelled with the last epoch seen (those layers only when
    some point of a path lies outside the box).

    Single step (`arrows`, `singlestep.step_arrows`'s table, and `step_epoch`): the play head stays at
    that epoch (no play controls: the page's step control is the one epoch control) and the arrows are
    drawn from it. `clickable`: a click anywhere on the plot selects the point under it (the selection
    CLICK_SELECTION, a grid of CLICK_CELLS x CLICK_CELLS invisible cells over whatever the plot shows,
    made when the pointer first comes over the plot: `_click_cells`), for the page to make it the start."""
    centre = bounds.mean(axis=1)
    half = (bounds[:, 1] - bounds[:, 0]) / 2
    runs = tuple(dict.fromkeys(path["run"]))
    params = {"cu": float(centre[0]), "cv": float(centre[1]), "hu": float(half[0]), "hv": float(half[1])}
    epochs = path["epoch"][path["dot"]]
    last = int(epochs.max()) if len(epochs) else 0
    stepping = arrows is not None
    params |= {"epoch": int(step_epoch) if stepping and step_epoch is not None else last, "last_epoch": last}
    datasets = {"contours": contours, "path": path, "marks": marks}
    penalized = bool((marks["what"] == REFERENCE_MARK).any())  # a ridge landscape (`landscape_tables`)
    # The plot always shows the box (it only widens it), so a path with every point in the box never
    # leaves the picture: no layers for the arrows at the edge (five layers less for the browser to draw).
    (u_lo, u_hi), (v_lo, v_hi) = bounds
    leaves = not bool((path["u"].between(u_lo, u_hi) & path["v"].between(v_lo, v_hi)).all())
    return ChartSpec(
        _landscape_template(
            runs,
            u_title,
            v_title,
            stepping,
            clickable,
            tuple(name for name in STEP_ARROW_COLORS if stepping and name in set(arrows["arrow"])),
            penalized,
            leaves,
        ),
        datasets | ({"arrows": arrows} if stepping else {}),
        params,
        {} if stepping else {"epoch": {"max": last}},
    )


def _in_view(u: str, v: str) -> str:
    return f"({u} >= u_lo && {u} <= u_hi && {v} >= v_lo && {v} <= v_hi)"


@template
def _landscape_template(
    runs: tuple[str, ...],
    u_title: str,
    v_title: str,
    stepping: bool = False,
    clickable: bool = False,
    arrow_names: tuple[str, ...] = (),
    penalized: bool = False,
    leaves: bool = True,
) -> alt.TopLevelMixin:
    loss = loss_name(penalized)
    kinds = ["start", f"{optimum_name(penalized)} optimum"] + ([REFERENCE_MARK] if penalized else [])
    # Units per pixel, the same on both axes: the larger of what each side of the box needs; the domain
    # of each axis is then its centre +- half the plot's size in pixels times that.
    scale_params = [
        alt.param(name="per_pixel", expr="max(2 * hu / max(width, 1), 2 * hv / max(height, 1))"),
        alt.param(name="u_lo", expr="cu - per_pixel * width / 2"),
        alt.param(name="u_hi", expr="cu + per_pixel * width / 2"),
        alt.param(name="v_lo", expr="cv - per_pixel * height / 2"),
        alt.param(name="v_hi", expr="cv + per_pixel * height / 2"),
    ]

    def scale(axis: str) -> alt.Scale:
        return alt.Scale(
            domainMin=alt.ExprRef(f"{axis}_lo"), domainMax=alt.ExprRef(f"{axis}_hi"), nice=False, zero=False
        )

    # labelFlush: labels within 30 px of an end sit inside the plot (the domain ends anywhere).
    axis = alt.Axis(labelExpr=READABLE_NUMBER, labelFlush=30)
    x = alt.X("u:Q", title=u_title, scale=scale("u"), axis=axis)
    y = alt.Y("v:Q", title=v_title, scale=scale("v"), axis=axis)

    # Each level set is drawn as one GeoJSON line, not as a line mark's item per point (the items, each
    # with its encodings interpreted, were most of the browser's work to draw the landscape): the
    # browser gathers each piece's points, in the table's order, into a LineString, placed by a
    # projection that is the axes' own map: pixel = (u - u_lo) / per_pixel across, (v_hi - v) /
    # per_pixel down. No fill (not even a transparent one): a click inside an ellipse must reach the
    # click grid under it.
    def level_lines(reference: bool) -> alt.Chart:
        chart = alt.Chart(_data("contours"))
        if penalized:  # only a ridge landscape has the reference rows to tell apart
            chart = chart.transform_filter(f"{'' if reference else '!'}datum.reference")
        return (
            chart.transform_calculate(xy="[datum.u, datum.v]")
            .transform_aggregate([{"op": "values", "as": "points"}], groupby=["piece", "level", "loss"])
            .transform_calculate(type="'Feature'")
            .transform_calculate(geometry="{type: 'LineString', coordinates: pluck(datum.points, 'xy')}")
            .mark_geoshape(filled=False, fill=None, clip=True)
            .project(
                type="identity",
                reflectY=True,
                scale=alt.ExprRef("1 / per_pixel"),
                translate=alt.ExprRef("[-u_lo / per_pixel, v_hi / per_pixel]"),
            )
        )

    levels = level_lines(reference=False).encode(
        color=alt.Color(
            "level:Q",
            title=[f"{loss} above", "the minimum"],
            scale=alt.Scale(type="log", scheme={"name": "blues", "extent": [1.0, 0.25]}),
            legend=alt.Legend(orient="bottom", format="~s", gradientLength=140),
        ),
        strokeWidth=alt.value(1.3),
        tooltip=[
            alt.Tooltip("loss:Q", title=f"{loss} on this line", format=",.4~f"),
            alt.Tooltip("level:Q", title="above the minimum", format=",~g"),
        ],
    )
    # A ridge landscape: the bowl without the penalty, faint, for comparison (its own exact ellipses).
    plain_levels = level_lines(reference=True).encode(
        stroke=alt.value(COLORS["data"]),
        strokeWidth=alt.value(1),
        strokeDash=alt.value([4, 3]),
        opacity=alt.value(0.8),
        tooltip=[
            alt.Tooltip("loss:Q", title="MSE on this line (no penalty)", format=",.4~f"),
            alt.Tooltip("level:Q", title="above its minimum", format=",~g"),
        ],
    )
    reference = [plain_levels] if penalized else []
    palette = RUN_PALETTE if len(runs) > 1 else [COLORS["w"]]
    color = alt.Color(
        "run:N",
        scale=alt.Scale(domain=list(runs), range=palette[: len(runs)]),
        legend=alt.Legend(title="Run", orient="top", columns=legend_columns(runs)) if len(runs) > 1 else None,
    )
    path = alt.Chart(_data("path"))
    trail = path.mark_line(strokeWidth=2, clip=True).encode(
        x=x, y=y, color=color, detail="piece:N", order="order:Q"
    )
    dots = (
        path.transform_filter(alt.datum.dot)
        .mark_circle(size=40, clip=True, opacity=0.9)
        .encode(
            x=x,
            y=y,
            color=color.legend(None),
            tooltip=[
                alt.Tooltip("run:N", title="Run"),
                alt.Tooltip("epoch:Q", title="Epoch", format=",.4~f"),
                alt.Tooltip("u:Q", title=u_title, format=",.4f"),
                alt.Tooltip("v:Q", title=v_title, format=",.4f"),
                alt.Tooltip("loss:Q", title=loss, format=",.3f"),
            ],
        )
    )
    # The play head: each run's latest drawn epoch at or before it (all runs move together: a race).
    now = (
        path.transform_filter(f"datum.dot && datum.epoch <= {PLAYHEAD} + 1e-9")
        .transform_joinaggregate(now="max(epoch)", groupby=["run"])
        .transform_filter("datum.epoch == datum.now")
    )
    now_dots = now.mark_circle(size=260, opacity=1, stroke="white", strokeWidth=2, clip=True).encode(
        x=x,
        y=y,
        color=color.legend(None),
        tooltip=[
            alt.Tooltip("run:N", title="Run"),
            alt.Tooltip("epoch:Q", title="Epoch", format=","),
            alt.Tooltip("loss:Q", title=loss, format=",.3f"),
        ],
    )
    now_label = (
        alt.Chart(_data("marks"))
        .transform_filter("datum.what == 'start'")
        .transform_calculate(text=f"'epoch ' + format(floor({PLAYHEAD}), ',')")
        .mark_text(
            align="left", baseline="top", dx=6, dy=6, fontSize=13, fontWeight="bold", color=COLORS["start"]
        )
        .encode(x=alt.value(0), y=alt.value(0), text="text:N")
        .add_params(play_clock())
    )
    # Where a step goes from inside the picture to outside: the point where it crosses the edge (the
    # first edge met, Liang-Barsky), pulled 12 px back inside; the arrow points along the step.
    exits = (
        path.transform_filter(
            _in_view("datum.prev_u", "datum.prev_v") + " && !" + _in_view("datum.u", "datum.v")
        )
        .transform_calculate(
            du="datum.u - datum.prev_u",
            dv="datum.v - datum.prev_v",
        )
        .transform_calculate(
            t_u="datum.du > 0 ? (u_hi - datum.prev_u) / datum.du : datum.du < 0 ? "
            "(u_lo - datum.prev_u) / datum.du : 1",
            t_v="datum.dv > 0 ? (v_hi - datum.prev_v) / datum.dv : datum.dv < 0 ? "
            "(v_lo - datum.prev_v) / datum.dv : 1",
            length="sqrt(datum.du * datum.du + datum.dv * datum.dv)",
            angle="(360 - atan2(datum.dv, datum.du) * 180 / PI) % 360",
            label="isValid(datum.prev_epoch) && isFinite(datum.prev_epoch) ? "
            "'off the chart after epoch ' + format(datum.prev_epoch, ',') : 'off the chart'",
        )
        .transform_calculate(
            edge_u="datum.prev_u + min(datum.t_u, datum.t_v) * datum.du - 12 * per_pixel * datum.du / datum.length",
            edge_v="datum.prev_v + min(datum.t_u, datum.t_v) * datum.dv - 12 * per_pixel * datum.dv / datum.length",
            text_u="datum.prev_u + min(datum.t_u, datum.t_v) * datum.du - 26 * per_pixel * datum.du / datum.length",
            text_v="datum.prev_v + min(datum.t_u, datum.t_v) * datum.dv - 26 * per_pixel * datum.dv / datum.length",
        )
    )  # fmt: skip
    at_edge = {"x": alt.X("edge_u:Q", scale=scale("u")), "y": alt.Y("edge_v:Q", scale=scale("v"))}
    at_text = {"x": alt.X("text_u:Q", scale=scale("u")), "y": alt.Y("text_v:Q", scale=scale("v"))}
    arrows = exits.mark_point(shape="triangle-right", size=360, filled=True, opacity=1).encode(
        **at_edge,
        angle=alt.Angle("angle:Q", scale=None),
        color=color.legend(None),
        tooltip=[alt.Tooltip("run:N", title="Run"), alt.Tooltip("label:N", title=" ")],
    )
    labels = [  # a white halo under each label keeps it readable over the contours
        exits.transform_filter(rightwards)
        .mark_text(align=align, baseline="middle", fontSize=12, fontWeight="bold", **halo)
        .encode(**at_text, text="label:N", color=color.legend(None) if not halo else alt.value("white"))
        for rightwards, align in (("datum.du >= 0", "right"), ("datum.du < 0", "left"))
        for halo in ({"stroke": "white", "strokeWidth": 4, "strokeJoin": "round"}, {})
    ]
    marks_color = alt.Color(
        "what:N",
        scale=alt.Scale(
            domain=kinds,
            range=[COLORS["start"], COLORS["optimum"], COLORS["data"]][: len(kinds)],
        ),
        legend=None,
    )
    points = (
        alt.Chart(_data("marks"))
        .mark_point(size=220, filled=True, strokeWidth=1.5, stroke="white", opacity=1)
        .encode(
            x=x,
            y=y,
            shape=alt.Shape(
                "what:N",
                scale=alt.Scale(domain=kinds, range=["circle", "diamond", "square"][: len(kinds)]),
                legend=None,
            ),
            color=marks_color,
            tooltip=[
                alt.Tooltip("what:N", title=" "),
                alt.Tooltip("u:Q", title=u_title, format=",.4f"),
                alt.Tooltip("v:Q", title=v_title, format=",.4f"),
            ],
        )
    )
    # Named where they are (a legend beside the contours' would not fit a phone): the start's name
    # under it, the optimum's above, so that they do not collide when the two are close.
    names = [
        alt.Chart(_data("marks"))
        .transform_filter(f"datum.what {'==' if start else '!='} 'start'")
        .transform_calculate(
            name="datum.what == 'start' ? 'start' : "
            + (f"datum.what == '{REFERENCE_MARK}' ? 'λ = 0' : " if penalized else "")
            + "'optimum'"
        )
        .mark_text(
            align="left", baseline="top" if start else "bottom", dx=9, dy=7 if start else -7,
            fontSize=12, fontWeight="bold", **halo,
        )
        .encode(x=x, y=y, text="name:N", color=alt.value("white") if halo else marks_color)
        for start in (True, False)
        for halo in ({"stroke": "white", "strokeWidth": 4, "strokeJoin": "round"}, {})
    ]  # fmt: skip
    clicks = _click_cells(scale, axis, u_title, v_title) if clickable else []
    steps = _step_arrows(scale, u_title, v_title, arrow_names) if arrow_names else []
    return (
        alt.layer(
            *clicks,
            levels,
            *reference,
            trail,
            dots,
            *([arrows, *labels] if leaves else []),
            points,
            *names,
            now_dots,
            *steps,
            now_label,
        )
        .resolve_scale(color="independent")
        .add_params(*(_value(name) for name in ("cu", "cv")), _value("hu", 1.0), _value("hv", 1.0))
        .add_params(*play_params(bound=not stepping))
        .add_params(*scale_params)
        .properties(
            title=_title(
                f"Loss landscape J({u_title}, {v_title})",
                f"contours of {'MSE + λ‖w‖² (grey dashed: the MSE alone)' if penalized else 'the MSE'}, "
                "axes at equal scale",
            ),
            height=520,
        )
    )


CLICK_SELECTION = "start_click"  # the landscape's click selection: the only one that reruns the page
CLICK_CELLS = 40  # the click grid's cells per side: a click picks the centre of the cell under it
CLICK_PROBE = "start_click_probe"  # set by the pointer's first move over the plot: the grid is made then
# The single-step arrows and their colours, in the legend's order.
STEP_ARROW_COLORS = {GRADIENT_ARROW: "#C2255C", TAKEN_ARROW: COLORS["start"], GD_ARROW: "#7048E8"}
# Shaft widths: the step taken widest, under the others, so that an arrow along it stays visible.
STEP_ARROW_WIDTHS = {GRADIENT_ARROW: 2.5, TAKEN_ARROW: 6.0, GD_ARROW: 3.5}


def _click_cells(scale, axis, u_title: str, v_title: str) -> list[alt.Chart]:
    """Two layers under every other one: one invisible rectangle over the whole plot, whose selection
    CLICK_PROBE is set the first time the pointer comes over it (a tap too), and the click grid, made
    then: CLICK_CELLS x CLICK_CELLS invisible cells tiling the plot (computed in the browser from the
    axes' current ends, so they cover whatever the plot shows at any width); a click selects the centre
    (u, v) of the cell under the pointer.

    Made at once, the grid was about a third of the landscape's drawing time as the page opens (1,600
    marks, six expressions each), and a first visit waits for every chart on the page to be drawn."""
    n = CLICK_CELLS

    def over_plot(chart: alt.Chart, u_a: str, u_b: str, v_a: str, v_b: str) -> alt.Chart:
        return chart.mark_rect(opacity=0, cursor="crosshair").encode(
            x=alt.X(f"{u_a}:Q", title=u_title, scale=scale("u"), axis=axis),
            x2=f"{u_b}:Q",
            y=alt.Y(f"{v_a}:Q", title=v_title, scale=scale("v"), axis=axis),
            y2=f"{v_b}:Q",
        )

    probe = over_plot(
        alt.Chart(alt.sequence(0, 1, as_="probe")).transform_calculate(
            u_a="u_lo", u_b="u_hi", v_a="v_lo", v_b="v_hi"
        ),
        "u_a", "u_b", "v_a", "v_b",
    ).add_params(alt.selection_point(name=CLICK_PROBE, fields=["probe"], on="mouseover", clear=False))  # fmt: skip
    cells = (
        alt.Chart(alt.sequence(0, n * n, as_="cell"))
        .transform_filter(f"length(data('{CLICK_PROBE}_store')) > 0")
        .transform_calculate(
            u=f"u_lo + (datum.cell % {n} + 0.5) * (u_hi - u_lo) / {n}",
            v=f"v_lo + (floor(datum.cell / {n}) + 0.5) * (v_hi - v_lo) / {n}",
        )
        .transform_calculate(
            u_a=f"datum.u - (u_hi - u_lo) / {2 * n}",
            u_b=f"datum.u + (u_hi - u_lo) / {2 * n}",
            v_a=f"datum.v - (v_hi - v_lo) / {2 * n}",
            v_b=f"datum.v + (v_hi - v_lo) / {2 * n}",
        )
    )
    cells = over_plot(cells, "u_a", "u_b", "v_a", "v_b").add_params(
        alt.selection_point(name=CLICK_SELECTION, fields=["u", "v"], on="click", clear=False)
    )
    return [probe, cells]


def _step_arrows(scale, u_title: str, v_title: str, names: tuple[str, ...]) -> list[alt.Chart]:
    """The single-step arrows `names` (data set "arrows": tail u, v, tip u2, v2, the tip's angle): a
    shaft and a triangle at the tip, coloured by arrow, named in a legend above the plot (only the
    arrows drawn: plain GD's step is its -alpha grad J, drawn once)."""
    color = alt.Color(
        "arrow:N",
        scale=alt.Scale(domain=list(names), range=[STEP_ARROW_COLORS[name] for name in names]),
        legend=alt.Legend(title=None, orient="top", direction="vertical", labelLimit=360),
    )
    tooltip = [
        alt.Tooltip("arrow:N", title="Arrow"),
        alt.Tooltip("u:Q", title=f"from {u_title}", format=",.6g"),
        alt.Tooltip("v:Q", title=f"from {v_title}", format=",.6g"),
        alt.Tooltip("u2:Q", title=f"to {u_title}", format=",.6g"),
        alt.Tooltip("v2:Q", title=f"to {v_title}", format=",.6g"),
    ]
    arrows = alt.Chart(_data("arrows"))
    width = alt.StrokeWidth(
        "arrow:N",
        scale=alt.Scale(domain=list(names), range=[STEP_ARROW_WIDTHS[name] for name in names]),
        legend=None,
    )
    shafts = arrows.mark_rule(clip=True).encode(
        x=alt.X("u:Q", scale=scale("u")), x2="u2:Q", y=alt.Y("v:Q", scale=scale("v")), y2="v2:Q",
        color=color, strokeWidth=width, tooltip=tooltip,
    )  # fmt: skip
    tips = arrows.mark_point(shape="triangle-right", size=170, filled=True, opacity=1, clip=True).encode(
        x=alt.X("u2:Q", scale=scale("u")),
        y=alt.Y("v2:Q", scale=scale("v")),
        angle=alt.Angle("angle:Q", scale=None),
        color=color.legend(None),
        tooltip=tooltip,
    )
    # theta_t itself, where every arrow starts (in a long run the run's big dot is the nearest drawn epoch)
    tail = arrows.mark_point(shape="circle", size=70, filled=True, opacity=1, clip=True).encode(
        x=alt.X("u:Q", scale=scale("u")),
        y=alt.Y("v:Q", scale=scale("v")),
        color=alt.value(STEP_ARROW_COLORS[TAKEN_ARROW]),
        tooltip=[
            alt.Tooltip("u:Q", title=f"θₜ: {u_title}", format=",.6g"),
            alt.Tooltip("v:Q", title=f"θₜ: {v_title}", format=",.6g"),
        ],
    )
    return [shafts, tips, tail]


def sweep_table(results: Mapping[str, object], start_loss: float) -> pd.DataFrame:
    """Rows (run, alpha, final_loss, shown_loss, diverged, epochs_to_tol, epochs_to_optimum) from
    `gdcore.sweep` results.

    `shown_loss` caps the loss at 10x the starting loss, so one diverged run (its last finite loss can be
    1e300) does not flatten the whole chart; the tooltip keeps the true value.
    """
    cap = 10.0 * start_loss
    frames = [
        pd.DataFrame(
            {
                "run": name,
                "alpha": r.alphas,
                "final_loss": r.final_loss,
                "shown_loss": np.minimum(r.final_loss, cap),
                "diverged": r.diverged,
                "epochs_to_tol": r.epochs_to_tol,
                "epochs_to_optimum": r.epochs_to_optimum,
            }
        )
        for name, r in results.items()
    ]
    return pd.concat(frames, ignore_index=True)


STEP_MARK_KINDS = ("α_max: diverges above", "α_opt: fastest")
SWEEP_MEASURES = ("final_loss", "epochs_to_optimum", "epochs_to_tol")


def step_marks_table(limits: Mapping[str, StepLimits]) -> pd.DataFrame:
    """Rows (run, kind, alpha) of each run's own alpha_max and alpha_opt (full batch); none for the
    adaptive optimizers, which have no fixed limit."""
    rows = [
        (name, kind, value)
        for name, lim in limits.items()
        if lim.alpha_max is not None
        for kind, value in zip(STEP_MARK_KINDS, (lim.alpha_max, lim.alpha_opt), strict=True)
    ]
    return pd.DataFrame(rows, columns=["run", "kind", "alpha"])


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values for a log axis from `low` to `high` (> 0) that read at a glance: 1, 2, 5 times each
    power of ten when the range spans at most three decades, else the powers of ten (every k-th one
    when there are more than eight), always at least two."""
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 or high <= 0:
        return [1.0]
    low, high = min(low, high), max(low, high)
    first, last = max(math.floor(math.log10(low)), -307), min(math.ceil(math.log10(high)), 308)
    if last - first <= 3:
        ticks = [m * 10.0**e for e in range(first, last + 1) for m in (1, 2, 5)]
        inside = [t for t in ticks if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]
        if len(inside) >= 2:
            return inside
    step = max(1, math.ceil((last - first + 1) / 8))
    return [10.0**e for e in range(first, last + 1, step)]


def _step_rules(x: alt.X, runs: tuple[str, ...]) -> alt.Chart:
    """Each run's alpha_max (dashed) and alpha_opt (dotted) in the run's colour."""
    return (
        alt.Chart(_data("alpha_marks"))
        .mark_rule(strokeWidth=2, clip=True)
        .encode(
            x=x,
            color=_color("run", runs, RUN_PALETTE, "Run").legend(None),
            strokeDash=alt.StrokeDash(
                "kind:N",
                scale=alt.Scale(domain=list(STEP_MARK_KINDS), range=[[6, 4], [2, 3]]),
                # below the plot, one entry a line: beside the run legend it would not fit a phone
                legend=alt.Legend(title=None, orient="bottom", direction="vertical", symbolStrokeWidth=2),
            ),
            tooltip=[
                alt.Tooltip("run:N", title="Run"),
                alt.Tooltip("kind:N", title=" "),
                alt.Tooltip("alpha:Q", title="α", format=".4g"),
            ],
        )
    )


def _alpha_x() -> alt.X:
    """log alpha, from the first to the last alpha computed (no 'nice' rounding past them), ticks from
    `log_ticks`."""
    return alt.X(
        "alpha:Q",
        title="Learning rate α (log scale)",
        scale=alt.Scale(
            type="log", domainMin=alt.ExprRef("alpha_lo"), domainMax=alt.ExprRef("alpha_hi"), nice=False
        ),
        axis=alt.Axis(values=alt.ExprRef("alpha_ticks"), format=",~g"),
    )


def _alpha_axis_params(alphas) -> dict[str, object]:
    alphas = np.asarray(alphas, dtype=np.float64)
    low, high = float(alphas.min()), float(alphas.max())
    return {"alpha_lo": low, "alpha_hi": high, "alpha_ticks": log_ticks(low, high)}


def _alpha_params() -> list[alt.Parameter]:
    """The parameters of the alpha charts: the alpha axis's ends and ticks, the y axis's ticks."""
    return [
        _value("alpha_lo", 1e-4),
        _value("alpha_hi", 1.0),
        _value("alpha_ticks", [1.0]),
        _value("y_ticks", [1.0]),
    ]


def sweep_chart(
    table: pd.DataFrame, marks: pd.DataFrame, epochs: int, measure: str = "final_loss"
) -> ChartSpec:
    """`measure` ("final_loss"; "epochs_to_optimum": the epoch each run reached the optimum, the page's one
    definition; or "epochs_to_tol": epochs needed to reach the tolerance) against alpha,
    log-log, one line per run; diverged runs drawn as crosses; each run's own alpha_max and alpha_opt
    (`step_marks_table`) as rules in its colour, so every optimizer's cliff shows where it is. The alpha
    axis runs exactly over the swept alphas; the y axis has 1-2-5 (or power-of-ten) ticks."""
    if measure not in SWEEP_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(SWEEP_MEASURES)}; got {measure!r}")
    column = "shown_loss" if measure == "final_loss" else measure
    values = table[column][np.isfinite(table[column]) & (table[column] > 0)]
    ticks = log_ticks(float(values.min()), float(values.max())) if len(values) else [1.0]
    template = _sweep_template(tuple(dict.fromkeys(table["run"])), epochs, measure)
    return ChartSpec(
        template,
        {"sweep": table, "alpha_marks": marks},
        {**_alpha_axis_params(table["alpha"]), "y_ticks": ticks},
    )


@template
def _sweep_template(runs: tuple[str, ...], epochs: int, measure: str) -> alt.TopLevelMixin:
    x = _alpha_x()
    color = _color("run", runs, RUN_PALETTE, "Run")
    base = alt.Chart(_data("sweep"))
    tooltip = [
        alt.Tooltip("run:N", title="Run"),
        alt.Tooltip("alpha:Q", title="α", format=".4g"),
        alt.Tooltip("final_loss:Q", title="Final MSE", format=",.4g"),
        alt.Tooltip("diverged:N", title="Diverged"),
        alt.Tooltip("epochs_to_optimum:Q", title="Epoch it reached the optimum", format=",.0f"),
        alt.Tooltip("epochs_to_tol:Q", title="Epochs to tol", format=",.0f"),
    ]
    if measure == "final_loss":
        y_title = f"MSE after {epochs:,} epochs (log)"
        title = "Learning-rate sweep: final loss"
    elif measure == "epochs_to_optimum":
        y_title, title = (
            "Epoch it reached the optimum: 99.9% of the gap closed (log)",
            "Learning-rate sweep: epochs to the optimum",
        )
    else:
        y_title, title = (
            "Epochs to reach the tolerance (log scale)",
            "Learning-rate sweep: epochs to converge",
        )
    y = alt.Y(
        "shown_loss:Q" if measure == "final_loss" else f"{measure}:Q",
        title=y_title,
        scale=alt.Scale(type="log"),
        axis=alt.Axis(values=alt.ExprRef("y_ticks"), format=",~g"),
    )
    line = (
        base.transform_filter(~alt.datum.diverged)
        .mark_line(point=True, clip=True)
        .encode(x=x, y=y, color=color, tooltip=tooltip)
    )
    crosses = (
        base.transform_filter(alt.datum.diverged)
        .mark_point(shape="cross", size=80, filled=True, clip=True)
        .encode(x=x, y=y, color=color.legend(None), tooltip=tooltip)
    )
    return (
        (line + crosses + _step_rules(x, runs))
        .add_params(*_alpha_params())
        .properties(title=f"{title} (crosses: diverged)", height=560)
    )


# The rate view's kinds of factor (`experiment.contraction_by_optimizer`'s keys) and what each is called
CONTRACTION_KINDS = {
    "predicted": "long run ρ(α)²",
    "same epochs": "exact model, same epochs",
    "measured": "measured",
}


def contraction_table(rates: Mapping[str, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """Rows (run, alpha, kind, label, factor): each run's loss-gap factors per alpha
    (`experiment.contraction_by_optimizer`): the long-run prediction ("predicted"), the exact gap model
    over the measured run's own epochs ("same epochs", when given) and the measured one, finite and > 0
    only (a log axis); `label` is what the tooltip calls the kind (CONTRACTION_KINDS)."""
    frames = [
        pd.DataFrame(
            {
                "run": name,
                "alpha": r["alpha"],
                "kind": kind,
                "label": CONTRACTION_KINDS[kind],
                "factor": r[kind.replace(" ", "_")],
            }
        )
        for name, r in rates.items()
        for kind in CONTRACTION_KINDS
        if kind.replace(" ", "_") in r
    ]
    if not frames:
        return pd.DataFrame({"run": [], "alpha": [], "kind": [], "label": [], "factor": []})
    table = pd.concat(frames, ignore_index=True)
    return table[np.isfinite(table["factor"]) & (table["factor"] > 0)].reset_index(drop=True)


def contraction_chart(table: pd.DataFrame, marks: pd.DataFrame) -> ChartSpec:
    """Each GD / momentum / Nesterov run's per-epoch loss-gap factor against alpha: the long-run
    prediction (line, `StepLimits.loss_rate`), the exact gap model over each measured run's own epochs
    (rings) and the measured factor (dots, inside their rings when theory holds), its own alpha_max and
    alpha_opt as rules, and a grey rule at 1 (above it the gap grows). Readable 1-2-5 / power-of-ten
    ticks on the factor axis."""
    runs = tuple(dict.fromkeys(table["run"]))
    factors = table["factor"]
    ticks = log_ticks(float(factors.min()), max(float(factors.max()), 1.0)) if len(table) else [1.0]
    alphas = table["alpha"] if len(table) else pd.Series([1e-4, 1.0])
    return ChartSpec(
        _contraction_template(runs),
        {
            "contraction": table,
            "alpha_marks": marks[marks["run"].isin(runs)],
            "one": pd.DataFrame({"factor": [1.0]}),
        },
        {**_alpha_axis_params(alphas), "y_ticks": ticks},
    )


@template
def _contraction_template(runs: tuple[str, ...]) -> alt.TopLevelMixin:
    x = _alpha_x()
    y = alt.Y(
        "factor:Q",
        title="Loss-gap factor per epoch (log)",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(values=alt.ExprRef("y_ticks"), format=",~g"),
    )
    color = _color("run", runs, RUN_PALETTE, "Run")
    base = alt.Chart(_data("contraction"))
    tooltip = [
        alt.Tooltip("run:N", title="Run"),
        alt.Tooltip("label:N", title=" "),
        alt.Tooltip("alpha:Q", title="α", format=".4g"),
        alt.Tooltip("factor:Q", title="Factor", format=".5g"),
    ]
    predicted = (
        base.transform_filter(alt.datum.kind == "predicted")
        .mark_line(strokeWidth=2.5, clip=True)
        .encode(x=x, y=y, color=color, tooltip=tooltip)
    )
    same_epochs = (
        base.transform_filter(alt.datum.kind == "same epochs")
        .mark_point(shape="circle", filled=False, size=150, strokeWidth=1.5, clip=True)
        .encode(x=x, y=y, color=color.legend(None), tooltip=tooltip)
    )
    measured = (
        base.transform_filter(alt.datum.kind == "measured")
        .mark_circle(size=45, opacity=0.85, clip=True)
        .encode(x=x, y=y, color=color.legend(None), tooltip=tooltip)
    )
    one = (
        alt.Chart(_data("one"))
        .mark_rule(color=COLORS["data"], strokeWidth=1)
        .encode(y=alt.Y("factor:Q", scale=alt.Scale(type="log")))
    )
    return (
        (one + predicted + same_epochs + measured + _step_rules(x, runs))
        .add_params(*_alpha_params())
        .properties(
            title=alt.Title(
                "Loss-gap factor per epoch",
                subtitle=[
                    "Lines: long run ρ(α)². Dots: measured",
                    "(full batch, from the origin). Rings:",
                    "exact model over each dot's epochs.",
                    "Above 1 the gap grows.",
                ],
            ),
            height=520,
        )
    )


def momentum_map_table(rate_map: MomentumMap) -> pd.DataFrame:
    """Cells (alpha, alpha2, beta, beta2, rate) of `experiment.MomentumMap`, one per grid point,
    centred on it; `stable` is rate < 1."""
    alphas, betas = rate_map.alphas, rate_map.betas
    da = (alphas[1] - alphas[0]) / 2 if alphas.size > 1 else alphas[0] / 2
    db = (betas[1] - betas[0]) / 2 if betas.size > 1 else 0.005
    aa, bb = np.meshgrid(alphas, betas)
    return pd.DataFrame(
        {
            "alpha": aa.ravel() - da,
            "alpha2": aa.ravel() + da,
            "beta": np.clip(bb.ravel() - db, 0.0, None),
            "beta2": bb.ravel() + db,
            "at_alpha": aa.ravel(),
            "at_beta": bb.ravel(),
            "rate": rate_map.rate.ravel(),
            "stable": rate_map.rate.ravel() < 1.0,
        }
    )


def momentum_map_marks(rate_map: MomentumMap, alpha: float, beta: float, rate: float) -> pd.DataFrame:
    """Polyak's optimum (alpha*, beta*) and the current setting, each with its predicted rate."""
    return pd.DataFrame(
        {
            "what": ["Polyak's optimum (α*, β*)", "your setting (α, β)"],
            "alpha": [rate_map.polyak.alpha, alpha],
            "beta": [rate_map.polyak.beta, beta],
            "rate": [rate_map.polyak.rate, rate],
        }
    )


def momentum_map_chart(cells: pd.DataFrame, marks: pd.DataFrame) -> ChartSpec:
    """Momentum's predicted rate over (alpha, beta) as a heat map (grey: diverges), with Polyak's
    optimum and the current setting marked (the current one only when it lies inside the map)."""
    domain = {
        "a_lo": 0.0,
        "a_hi": float(cells["alpha2"].max()),
        "b_lo": 0.0,
        "b_hi": float(cells["beta2"].max()),
        "rate_lo": float(cells["rate"].min()),
    }
    inside = (marks["alpha"] <= domain["a_hi"]) & (marks["beta"] <= domain["b_hi"])
    return ChartSpec(_momentum_map_template(), {"rate_cells": cells, "rate_marks": marks[inside]}, domain)


@template
def _momentum_map_template() -> alt.TopLevelMixin:
    x_scale = alt.Scale(domainMin=alt.ExprRef("a_lo"), domainMax=alt.ExprRef("a_hi"), nice=False, zero=False)
    y_scale = alt.Scale(domainMin=alt.ExprRef("b_lo"), domainMax=alt.ExprRef("b_hi"), nice=False, zero=False)
    x = alt.X("alpha:Q", title="Learning rate α", scale=x_scale)
    y = alt.Y("beta:Q", title="Momentum β", scale=y_scale)
    tooltip = [
        alt.Tooltip("at_alpha:Q", title="α", format=".4g"),
        alt.Tooltip("at_beta:Q", title="β", format=".3f"),
        alt.Tooltip("rate:Q", title="Rate per epoch", format=".4f"),
    ]
    cells = alt.Chart(_data("rate_cells"))
    rate_scale = alt.Scale(scheme="viridis", domainMin=alt.ExprRef("rate_lo"), domainMax=1.0)
    stable = (
        cells.transform_filter(alt.datum.stable)
        .mark_rect(strokeWidth=0.6)  # a stroke in the cell's own colour closes the antialiasing seams
        .encode(
            x=x,
            x2="alpha2:Q",
            y=y,
            y2="beta2:Q",
            color=alt.Color(
                "rate:Q",
                title=["Rate per epoch", "(lower: faster)"],
                scale=rate_scale,
                legend=alt.Legend(orient="right"),
            ),
            stroke=alt.Stroke("rate:Q", scale=rate_scale, legend=None),
            tooltip=tooltip,
        )
    )
    unstable = (
        cells.transform_filter(~alt.datum.stable)
        .mark_rect(color="#DEE2E6", stroke="#DEE2E6", strokeWidth=0.6)
        .encode(x=x, x2="alpha2:Q", y=y, y2="beta2:Q", tooltip=tooltip)
    )
    what = ["Polyak's optimum (α*, β*)", "your setting (α, β)"]
    points = (
        alt.Chart(_data("rate_marks"))
        .mark_point(size=260, filled=True, stroke="white", strokeWidth=1.5, opacity=1)
        .encode(
            x=x,
            y=y,
            shape=alt.Shape(
                "what:N",
                scale=alt.Scale(domain=what, range=["diamond", "circle"]),
                legend=alt.Legend(title=None, orient="top", columns=1, symbolSize=160),
            ),
            # a condition, not a scale: the heat map owns this layer chart's colour scale
            color=alt.condition(
                alt.datum.what == what[0], alt.value(COLORS["optimum"]), alt.value(COLORS["start"])
            ),
            tooltip=[
                alt.Tooltip("what:N", title=" "),
                alt.Tooltip("alpha:Q", title="α", format=".4g"),
                alt.Tooltip("beta:Q", title="β", format=".4f"),
                alt.Tooltip("rate:Q", title="Rate per epoch", format=".4f"),
            ],
        )
    )
    return (
        (stable + unstable + points)
        .add_params(*(_value(n) for n in ("a_lo", "a_hi", "b_lo", "b_hi", "rate_lo")))
        .properties(
            title=alt.Title(
                "Momentum's rate over (α, β)",
                subtitle=[
                    "Predicted per epoch on this data, full batch.",
                    "Grey: diverges, α ≥ 2(1+β)/λ_max.",
                ],
            ),
            height=460,
        )
    )


# --- for notebooks: runs in, Altair charts out ------------------------------------------------------


def _as_runs(runs: Mapping[str, Trajectory] | Trajectory) -> Mapping[str, Trajectory]:
    return {"run": runs} if isinstance(runs, Trajectory) else runs


def plot_loss(
    runs: Mapping[str, Trajectory] | Trajectory, optimum_loss: float | None = None, log_scale: bool = True
) -> alt.TopLevelMixin:
    """Loss per epoch of one run or of {name: run}, the minimum J* as a rule (its best loss if not given).

    >>> plot_loss({"GD": gdcore.descend(X, y)}, gdcore.least_squares(X, y).loss)   # in a notebook cell
    """
    runs = _as_runs(runs)
    if optimum_loss is None:
        optimum_loss = min(run.best_loss for run in runs.values())
    return loss_chart(loss_table(runs), optimum_loss, log_scale).altair()


def plot_parameters(
    runs: Mapping[str, Trajectory] | Trajectory, fit: Fit, names: Sequence[str] | None = None
) -> alt.TopLevelMixin:
    """Every weight and the bias per epoch, with thin lines at the least-squares values of `fit`."""
    runs = _as_runs(runs)
    d = fit.weights.shape[0]
    names = (
        list(names)
        if names is not None
        else (["w", "b"] if d == 1 else [f"w{k + 1}" for k in range(d)] + ["b"])
    )
    optimum = dict(zip(names, [*fit.weights.tolist(), fit.bias], strict=True))
    return parameter_chart(parameter_table(runs, names), optimum).altair()


def plot_fit(x: np.ndarray, y: np.ndarray, run: Trajectory, fit: Fit) -> alt.TopLevelMixin:
    """One-feature data with the least-squares line and the run's line at its best epoch (a slider
    under the chart moves it through the epochs)."""
    points, lines, optimum = fit_tables(np.asarray(x, dtype=np.float64).ravel(), np.asarray(y), run, fit)
    return fit_chart(points, lines, optimum, run.best_epoch).altair()

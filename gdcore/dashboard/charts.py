"""Chart-ready tables (pandas) and the dashboard's Altair charts. No Streamlit here.

Every table is bounded: `st.altair_chart` ships each row to the browser, so long trajectories are
downsampled to at most MAX_CHART_ROWS rows per chart, always keeping each run's first, last and best
epoch.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd

from gdcore.dashboard.experiment import MomentumMap
from gdcore.landscape import LossGrid
from gdcore.limits import StepLimits
from gdcore.theory import Fit
from gdcore.trajectory import Trajectory

MAX_CHART_ROWS = 5000
MAX_SCATTER_POINTS = 1000
FIT_FRAMES = 101

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
    serialisation cost ~5 ms a layer, so each chart shape is built once and only its data changes."""

    @functools.lru_cache(maxsize=128)
    def cached(*args) -> Template:
        chart = builder(*args)
        spec = chart.to_dict(validate=False)
        spec.pop("config", None)  # Altair's default theme; the dashboard's theme applies instead
        return Template(chart, spec)

    cached.__doc__ = builder.__doc__
    return cached


@dataclass(frozen=True)
class ChartSpec:
    """A chart template, the named data sets it reads, and the values of its parameters.

    `vega_lite()` fills the template's serialised spec without going through Altair again (no schema
    validation, no deep copies: most of a rerun's time otherwise); the tests validate every template
    against the schema once (`spec.chart.to_dict()`).
    """

    template: Template
    datasets: dict[str, pd.DataFrame]
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def chart(self) -> alt.TopLevelMixin:
        return self.template.chart

    def vega_lite(self) -> dict:
        """The Vega-Lite spec with the data sets attached and the parameters set (for st.vega_lite_chart)."""
        spec = dict(self.template.spec)
        if "params" in spec:
            spec["params"] = [
                {**p, "value": self.params[p["name"]]} if p.get("name") in self.params else p
                for p in spec["params"]
            ]
        spec["datasets"] = dict(self.datasets)
        return spec

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


def _color(field: str, domain: Sequence[str], palette: Sequence[str], title: str):
    return alt.Color(
        f"{field}:N",
        scale=alt.Scale(domain=list(domain), range=list(palette[: len(domain)])),
        legend=alt.Legend(title=title, orient="top") if len(domain) > 1 else None,
    )


def loss_chart(table: pd.DataFrame, optimum_loss: float, log_scale: bool = True) -> ChartSpec:
    """Loss per epoch for each run, the least-squares minimum as a dashed rule, best epochs marked."""
    runs = tuple(dict.fromkeys(table["run"]))
    positive = table["loss"][table["loss"] > 0]
    lows = [float(positive.min())] if len(positive) else []
    lows += [optimum_loss] if optimum_loss > 0 else []
    log_scale = log_scale and bool(lows)
    two_series = table["series"].nunique() > 1
    minimum = pd.DataFrame({"loss": [optimum_loss], "label": ["least-squares minimum"]})
    return ChartSpec(
        _loss_template(runs, log_scale, two_series),
        {"loss": table, "minimum": minimum},
        {"loss_floor": 0.9 * min(lows)} if log_scale else {},
    )


@template
def _loss_template(runs: tuple[str, ...], log_scale: bool, two_series: bool) -> alt.TopLevelMixin:
    y_scale = (
        alt.Scale(type="log", domainMin=alt.ExprRef("loss_floor")) if log_scale else alt.Scale(zero=False)
    )
    color = _color("run", runs, RUN_PALETTE if len(runs) > 1 else [COLORS["loss"]], "Run")
    base = alt.Chart(_data("loss"))
    line = base.mark_line(strokeWidth=2.5, clip=True).encode(
        x=alt.X("epoch:Q", title="Epoch"),
        y=alt.Y("loss:Q", title="MSE (loss)", scale=y_scale),
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
            alt.Tooltip("epoch:Q", title="Epoch"),
            alt.Tooltip("loss:Q", title="MSE", format=",.4f"),
        ],
    )
    best = (
        base.transform_filter(alt.datum.best)
        .mark_point(size=120, filled=True, shape="diamond")
        .encode(
            x="epoch:Q",
            y=alt.Y("loss:Q", scale=y_scale),
            color=color,
            tooltip=[
                alt.Tooltip("run:N", title="Run"),
                alt.Tooltip("epoch:Q", title="Best epoch"),
                alt.Tooltip("loss:Q", title="Best MSE", format=",.4f"),
            ],
        )
    )
    rule = (
        alt.Chart(_data("minimum"))
        .mark_rule(color=COLORS["optimum"], strokeDash=[6, 4], strokeWidth=2)
        .encode(
            y="loss:Q",
            tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("loss:Q", title="MSE*", format=",.4f")],
        )
    )
    chart = (line + best + rule).properties(title="Loss per epoch", height=320)
    return chart.add_params(_value("loss_floor", 1.0)) if log_scale else chart


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


def parameter_chart(table: pd.DataFrame, optimum: Mapping[str, float]) -> ChartSpec:
    """Each parameter per epoch, with a dashed line at its least-squares value."""
    names = tuple(optimum)
    targets = pd.DataFrame({"parameter": names, "value": [optimum[n] for n in names]})
    # A diverging run grows geometrically: a symmetric log axis keeps its oscillation visible.
    spread = float(np.nanmax(np.abs(table["value"]))) if len(table) else 0.0
    reach = max(abs(v) for v in optimum.values()) if optimum else 0.0
    symlog = spread > 100.0 * max(reach, 1.0)
    template = _parameter_template(names, tuple(dict.fromkeys(table["run"])), symlog)
    return ChartSpec(template, {"parameters": table, "optimum": targets})


@template
def _parameter_template(names: tuple[str, ...], runs: tuple[str, ...], symlog: bool) -> alt.TopLevelMixin:
    """One run: a colour per parameter. Several runs: a colour per run (as in every other chart) and a
    line pattern per parameter; the optimum's rules are then grey."""
    several = len(runs) > 1
    if several:
        color = _color("run", runs, RUN_PALETTE, "Run")
        patterns = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 4], [12, 4]]
        dash = alt.StrokeDash(
            "parameter:N",
            scale=alt.Scale(
                domain=list(names), range=[patterns[k % len(patterns)] for k in range(len(names))]
            ),
            legend=alt.Legend(title="Parameter", orient="top"),
        )
        rule_color = alt.value(COLORS["data"])
    else:
        palette = (
            [COLORS["w"], COLORS["b"]]
            if len(names) == 2
            else [*(RUN_PALETTE * 8)[: len(names) - 1], COLORS["b"]]
        )
        color = _color("parameter", names, palette, "Parameter")
        dash = alt.value([1, 0])
        rule_color = color
    lines = (
        alt.Chart(_data("parameters"))
        .mark_line(strokeWidth=2.5, clip=True)
        .encode(
            x=alt.X("epoch:Q", title="Epoch"),
            y=alt.Y(
                "value:Q",
                title="Parameter value" + (" (symmetric log scale)" if symlog else ""),
                scale=alt.Scale(type="symlog") if symlog else alt.Scale(),
            ),
            color=color,
            strokeDash=dash,
            detail="parameter:N",
            tooltip=[
                alt.Tooltip("run:N", title="Run"),
                alt.Tooltip("parameter:N", title="Parameter"),
                alt.Tooltip("epoch:Q", title="Epoch"),
                alt.Tooltip("value:Q", title="Value", format=",.4f"),
            ],
        )
    )
    rules = (
        alt.Chart(_data("optimum"))
        .mark_rule(strokeDash=[6, 4], strokeWidth=1.5, opacity=0.9)
        .encode(
            y="value:Q",
            color=rule_color,
            tooltip=[
                alt.Tooltip("parameter:N", title="Least-squares"),
                alt.Tooltip("value:Q", title="Value", format=",.4f"),
            ],
        )
    )
    title = "Parameters per epoch (" + ("grey " if several else "") + "dashed: least-squares optimum)"
    return (lines + rules).properties(title=title, height=300)


def _scatter_sample(n: int, seed: int = 0) -> np.ndarray:
    if n <= MAX_SCATTER_POINTS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, MAX_SCATTER_POINTS, replace=False))


def fit_tables(x: np.ndarray, y: np.ndarray, run: Trajectory, fit: Fit):
    """(points, lines): a sample of the data, and the fitted line's two ends at up to FIT_FRAMES epochs
    (frame f is the f-th chosen epoch) plus the least-squares line as frame -1."""
    idx = _scatter_sample(x.size)
    points = pd.DataFrame({"x": x[idx], "y": y[idx]})
    x_ends = np.array([x.min(), x.max()])
    epochs = sample_epochs(run.loss.size, FIT_FRAMES, [run.best_epoch])
    w, b = run.weights[epochs, 0], run.bias[epochs]
    lines = pd.DataFrame(
        {
            "frame": np.repeat(np.arange(epochs.size), 2),
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


def fit_chart(
    points: pd.DataFrame, lines: pd.DataFrame, optimum: pd.DataFrame, start_frame: int
) -> ChartSpec:
    """The data, the least-squares line, and the fitted line at the epoch chosen with the slider
    (a client-side Altair parameter: scrubbing needs no rerun)."""
    y_lo = float(min(points["y"].min(), optimum["y"].min()))
    y_hi = float(max(points["y"].max(), optimum["y"].max()))
    pad = 0.1 * (y_hi - y_lo or 1.0)
    return ChartSpec(
        _fit_template(int(lines["frame"].max()) + 1),
        {"points": points, "lines": lines, "least_squares": optimum},
        {"frame": int(start_frame), "y_lo": y_lo - pad, "y_hi": y_hi + pad},
    )


@template
def _fit_template(n_frames: int) -> alt.TopLevelMixin:
    frame = alt.param(
        name="frame",
        value=n_frames - 1,
        bind=alt.binding_range(min=0, max=n_frames - 1, step=1, name="Epoch frame "),
    )
    y_scale = alt.Scale(domainMin=alt.ExprRef("y_lo"), domainMax=alt.ExprRef("y_hi"))
    dots = (
        alt.Chart(_data("points"))
        .mark_circle(size=36, opacity=0.55, color=COLORS["data"])
        .encode(
            x=alt.X("x:Q", title="x (feature)"),
            y=alt.Y("y:Q", title="y (target)", scale=y_scale),
            tooltip=[alt.Tooltip("x:Q", format=",.3f"), alt.Tooltip("y:Q", format=",.3f")],
        )
    )
    best_line = (
        alt.Chart(_data("least_squares"))
        .mark_line(color=COLORS["optimum"], strokeDash=[6, 4], strokeWidth=2)
        .encode(x="x:Q", y=alt.Y("y:Q", scale=y_scale))
    )
    current = alt.Chart(_data("lines")).transform_filter(alt.datum.frame == frame)
    fitted = current.mark_line(color=COLORS["loss"], strokeWidth=3, clip=True).encode(
        x="x:Q",
        y=alt.Y("y:Q", scale=y_scale),
        tooltip=[
            alt.Tooltip("epoch:Q", title="Epoch"),
            alt.Tooltip("w:Q", format=",.4f"),
            alt.Tooltip("b:Q", format=",.4f"),
            alt.Tooltip("loss:Q", title="MSE", format=",.4f"),
        ],
    )
    label = (
        current.transform_filter(alt.datum.left)
        .transform_calculate(
            text="'epoch ' + datum.epoch + ':  w = ' + format(datum.w, ',.3f') + ',  b = '"
            " + format(datum.b, ',.3f') + ',  MSE = ' + format(datum.loss, ',.2f')"
        )
        .mark_text(align="left", baseline="top", dx=6, dy=6, fontSize=13, color=COLORS["loss"])
        .encode(x=alt.value(0), y=alt.value(0), text="text:N")
    )
    return (
        (dots + best_line + fitted + label)
        .add_params(frame, _value("y_lo"), _value("y_hi", 1.0))
        .properties(title="Data and fitted line (blue: this epoch, red dashed: least squares)", height=340)
    )


def prediction_tables(y: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """A sample of (actual, predicted) pairs for the d > 1 fit chart."""
    idx = _scatter_sample(y.size)
    return pd.DataFrame({"actual": y[idx], "predicted": predicted[idx]})


def prediction_chart(table: pd.DataFrame, title: str) -> ChartSpec:
    """Predicted against actual, with the y = x diagonal (a perfect fit lies on it)."""
    lo = float(min(table["actual"].min(), table["predicted"].min()))
    hi = float(max(table["actual"].max(), table["predicted"].max()))
    diagonal = pd.DataFrame({"actual": [lo, hi], "predicted": [lo, hi]})
    return ChartSpec(
        _prediction_template(title), {"predictions": table, "diagonal": diagonal}, {"lo": lo, "hi": hi}
    )


@template
def _prediction_template(title: str) -> alt.TopLevelMixin:
    scale = alt.Scale(domainMin=alt.ExprRef("lo"), domainMax=alt.ExprRef("hi"))
    dots = (
        alt.Chart(_data("predictions"))
        .mark_circle(size=36, opacity=0.55, color=COLORS["loss"])
        .encode(
            x=alt.X("actual:Q", title="Actual y", scale=scale),
            y=alt.Y("predicted:Q", title="Predicted y", scale=scale),
            tooltip=[alt.Tooltip("actual:Q", format=",.3f"), alt.Tooltip("predicted:Q", format=",.3f")],
        )
    )
    diagonal = (
        alt.Chart(_data("diagonal"))
        .mark_line(color=COLORS["optimum"], strokeDash=[6, 4])
        .encode(x="actual:Q", y="predicted:Q")
    )
    return (dots + diagonal).add_params(_value("lo"), _value("hi", 1.0)).properties(title=title, height=340)


def landscape_tables(
    grid: LossGrid, paths: Mapping[str, np.ndarray], optimum: np.ndarray, max_path_rows: int
):
    """(cells, path, marks): grid cells with J, each run's path, start and optimum.

    `paths` holds (S, 4) rows (epoch, u, v, loss) per run; each is downsampled keeping first, last and best.
    """
    du = (grid.u[1] - grid.u[0]) / 2
    dv = (grid.v[1] - grid.v[0]) / 2
    uu, vv = np.meshgrid(grid.u, grid.v)
    excess = grid.loss.ravel() - grid.loss.min()
    cells = pd.DataFrame(
        {
            "u": uu.ravel() - du,
            "u2": uu.ravel() + du,
            "v": vv.ravel() - dv,
            "v2": vv.ravel() + dv,
            "loss": grid.loss.ravel(),
            # log10 of the height above the minimum: equal colour bands read as contour lines.
            "level": np.log10(excess + 1e-3 * max(excess.max(), 1e-300)),
        }
    )
    (u_lo, u_hi), (v_lo, v_hi) = (grid.u[[0, -1]] + [-du, du]), (grid.v[[0, -1]] + [-dv, dv])
    frames = []
    budget = max(max_path_rows // max(len(paths), 1), 3)
    for name, path in paths.items():
        idx = sample_epochs(
            path.shape[0], budget, [int(np.argmin(np.where(np.isfinite(path[:, 3]), path[:, 3], np.inf)))]
        )
        u, v = path[idx, 1], path[idx, 2]
        inside = (u >= u_lo) & (u <= u_hi) & (v >= v_lo) & (v <= v_hi)
        frames.append(
            pd.DataFrame(
                {"run": name, "epoch": path[idx, 0], "u": u, "v": v, "loss": path[idx, 3], "inside": inside}
            )
        )
    path_table = pd.concat(frames, ignore_index=True)
    first = next(iter(paths.values()))
    marks = pd.DataFrame(
        {
            "what": ["start", "least-squares optimum"],
            "u": [first[0, 1], optimum[0]],
            "v": [first[0, 2], optimum[1]],
        }
    )
    return cells, path_table, marks


def landscape_chart(
    cells: pd.DataFrame, path: pd.DataFrame, marks: pd.DataFrame, u_title: str, v_title: str, title: str
) -> ChartSpec:
    """J(u, v) as a heat map with banded (contour-like) log colours, each run's path drawn over it."""
    domain = {
        "u_lo": float(cells["u"].min()),
        "u_hi": float(cells["u2"].max()),
        "v_lo": float(cells["v"].min()),
        "v_hi": float(cells["v2"].max()),
    }
    runs = tuple(dict.fromkeys(path["run"]))
    return ChartSpec(
        _landscape_template(runs, u_title, v_title, title),
        {"cells": cells, "path": path, "marks": marks},
        domain,
    )


@template
def _landscape_template(runs: tuple[str, ...], u_title: str, v_title: str, title: str) -> alt.TopLevelMixin:
    def scale(axis: str) -> alt.Scale:
        return alt.Scale(
            domainMin=alt.ExprRef(f"{axis}_lo"), domainMax=alt.ExprRef(f"{axis}_hi"), nice=False, zero=False
        )

    x = alt.X("u:Q", title=u_title, scale=scale("u"))
    y = alt.Y("v:Q", title=v_title, scale=scale("v"))
    heat = (
        alt.Chart(_data("cells"))
        .mark_rect(opacity=0.9)
        .encode(
            x=x,
            x2="u2:Q",
            y=y,
            y2="v2:Q",
            color=alt.Color(
                "level:Q",
                title=["log₁₀ height", "above the floor"],
                scale=alt.Scale(type="quantize", scheme="blues", reverse=True, nice=True, zero=False),
                legend=alt.Legend(orient="right", format=".1f"),
            ),
            tooltip=[alt.Tooltip("loss:Q", title="MSE", format=",.2f")],
        )
    )
    color = _color("run", runs, RUN_PALETTE if len(runs) > 1 else [COLORS["w"]], "Run")
    visible = alt.Chart(_data("path")).transform_filter(alt.datum.inside)
    trail = visible.mark_line(strokeWidth=2, clip=True).encode(x=x, y=y, color=color, order="epoch:Q")
    dots = visible.mark_circle(size=40, clip=True, opacity=0.9).encode(
        x=x,
        y=y,
        color=_color("run", runs, RUN_PALETTE if len(runs) > 1 else [COLORS["w"]], "Run").legend(None),
        tooltip=[
            alt.Tooltip("run:N", title="Run"),
            alt.Tooltip("epoch:Q", title="Epoch", format=",.4~f"),
            alt.Tooltip("u:Q", title=u_title, format=",.4f"),
            alt.Tooltip("v:Q", title=v_title, format=",.4f"),
            alt.Tooltip("loss:Q", title="MSE", format=",.3f"),
        ],
    )
    points = (
        alt.Chart(_data("marks"))
        .mark_point(size=220, filled=True, strokeWidth=1.5, stroke="white")
        .encode(
            x=x,
            y=y,
            shape=alt.Shape(
                "what:N",
                scale=alt.Scale(domain=["start", "least-squares optimum"], range=["circle", "diamond"]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            color=alt.Color(
                "what:N",
                scale=alt.Scale(
                    domain=["start", "least-squares optimum"], range=[COLORS["start"], COLORS["optimum"]]
                ),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("what:N", title=" "),
                alt.Tooltip("u:Q", title=u_title, format=",.4f"),
                alt.Tooltip("v:Q", title=v_title, format=",.4f"),
            ],
        )
    )
    return (
        (heat + trail + dots + points)
        .resolve_scale(color="independent")
        .add_params(*(_value(name) for name in ("u_lo", "u_hi", "v_lo", "v_hi")))
        .properties(title=title, height=420)
    )


def sweep_table(results: Mapping[str, object], start_loss: float) -> pd.DataFrame:
    """Rows (run, alpha, final_loss, shown_loss, diverged, epochs_to_tol) from `gdcore.sweep` results.

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
            }
        )
        for name, r in results.items()
    ]
    return pd.concat(frames, ignore_index=True)


STEP_MARK_KINDS = ("α_max: diverges above", "α_opt: fastest")


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
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
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
    """`measure` ("final_loss", or "epochs_to_tol": epochs needed to reach the tolerance) against alpha,
    log-log, one line per run; diverged runs drawn as crosses; each run's own alpha_max and alpha_opt
    (`step_marks_table`) as rules in its colour, so every optimizer's cliff shows where it is. The alpha
    axis runs exactly over the swept alphas; the y axis has 1-2-5 (or power-of-ten) ticks."""
    if measure not in ("final_loss", "epochs_to_tol"):
        raise ValueError(f"measure must be 'final_loss' or 'epochs_to_tol'; got {measure!r}")
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
        alt.Tooltip("epochs_to_tol:Q", title="Epochs to tol", format=",.0f"),
    ]
    if measure == "final_loss":
        y_title = f"MSE after {epochs:,} epochs (log)"
        title = "Learning-rate sweep: final loss"
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


def contraction_table(rates: Mapping[str, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """Rows (run, alpha, kind, factor): each run's predicted and measured loss-gap factor per alpha
    (`experiment.contraction_by_optimizer`), finite and > 0 only (a log axis)."""
    frames = [
        pd.DataFrame({"run": name, "alpha": r["alpha"], "kind": kind, "factor": r[kind]})
        for name, r in rates.items()
        for kind in ("predicted", "measured")
    ]
    if not frames:
        return pd.DataFrame({"run": [], "alpha": [], "kind": [], "factor": []})
    table = pd.concat(frames, ignore_index=True)
    return table[np.isfinite(table["factor"]) & (table["factor"] > 0)].reset_index(drop=True)


def contraction_chart(table: pd.DataFrame, marks: pd.DataFrame) -> ChartSpec:
    """Each GD / momentum / Nesterov run's per-epoch loss-gap factor against alpha: predicted (line,
    `StepLimits.loss_rate`) and measured (dots), its own alpha_max and alpha_opt as rules, and a grey
    rule at 1 (above it the gap grows). Readable 1-2-5 / power-of-ten ticks on the factor axis."""
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
        alt.Tooltip("kind:N", title=" "),
        alt.Tooltip("alpha:Q", title="α", format=".4g"),
        alt.Tooltip("factor:Q", title="Factor", format=".5g"),
    ]
    predicted = (
        base.transform_filter(alt.datum.kind == "predicted")
        .mark_line(strokeWidth=2.5, clip=True)
        .encode(x=x, y=y, color=color, tooltip=tooltip)
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
        (one + predicted + measured + _step_rules(x, runs))
        .add_params(*_alpha_params())
        .properties(
            title=alt.Title(
                "Loss-gap factor per epoch",
                subtitle=[
                    "Lines: predicted. Dots: measured",
                    "(full batch, from the origin).",
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
    """Every weight and the bias per epoch, with dashed rules at the least-squares values of `fit`."""
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
    start = int(lines.loc[lines["epoch"] == run.best_epoch, "frame"].iloc[0])
    return fit_chart(points, lines, optimum, start).altair()

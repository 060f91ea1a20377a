"""The degree sweep: train and test MSE against the polynomial degree, for the optimum and for a GD run.

For each degree d = 1..12 the data's one input x is expanded into x, ..., x^d and prepared exactly as the
page prepares it (`experiment.prepare`: the same split, the same standardizing, the same ridge penalty
lambda), then two fits are measured on the training rows and on the held-out test rows:

* the optimum of the loss minimised, in closed form: least squares, or with lambda > 0 the ridge solution
  argmin mean((y - X w - b)^2) + lambda ||w||^2 (`Prepared.fit`);
* a run of the current settings' first optimizer (`RunSpec`, through `gdcore.stepping.execute`), at its
  best epoch.

Both are scored by the plain mean squared error, mean((y - X w - b)^2), without the penalty, so that the
train and test columns, and every lambda, are comparable. Rising degree lowers the training MSE of the
least-squares optimum (its models are nested); the test MSE typically falls, then rises: overfitting. A
penalty lambda > 0 trades training error for a smaller test error at high degree.
"""

from __future__ import annotations

from dataclasses import replace

import altair as alt
import numpy as np
import pandas as pd

from gdcore.dashboard.charts import COLORS, ChartSpec, template
from gdcore.dashboard.experiment import prepare
from gdcore.data import Dataset
from gdcore.model import mse
from gdcore.spec import RunSpec
from gdcore.stepping import execute
from gdcore.validation import LIMITS

DEGREES = tuple(range(1, LIMITS["degree"].high + 1))  # every degree the page offers: 1..12
FITS = ("optimum", "GD run")  # the two fits of each degree
SETS = ("train", "test")  # the rows each is scored on


def degree_sweep(
    dataset: Dataset,
    spec: RunSpec | None,
    *,
    standardized: bool,
    test_fraction: float,
    split_seed: int,
    l2: float = 0.0,
    degrees: tuple[int, ...] = DEGREES,
) -> pd.DataFrame:
    """One row per degree (data with one input x; ValueError otherwise, from `prepare`): columns
    `degree`, `optimum_train`, `optimum_test`, `run_train`, `run_test` (plain MSE; test NaN without a
    split, run columns NaN when `spec` is None: no run asked for), `run_epoch` (the run's best epoch),
    `run_diverged`. Degrees whose powers of x overflow are left out (`polynomial_features` refuses them).

    The data is prepared once, at the highest degree (expanded, split, standardized: `prepare`); degree d
    takes its first d columns, which is what preparing degree d gives (the split does not depend on the
    columns, and each column is standardized on its own), and `prepare` then fits those columns as they
    are. One expansion and one split instead of twelve."""
    top, full = _top_prepared(dataset, standardized, test_fraction, split_seed, l2, max(degrees))
    rows = []
    for degree in (d for d in degrees if d <= top):
        train = replace(full.train, X=full.train.X[:, :degree])
        test = None if full.test is None else replace(full.test, X=full.test.X[:, :degree])
        prepared = prepare(train, standardized=False, test_fraction=0.0, split_seed=split_seed, l2=l2)
        fit = prepared.fit

        def scores(weights, bias, train=train, test=test) -> tuple[float, float]:
            on_test = mse(test.X, test.y, weights, bias) if test is not None else float("nan")
            return mse(train.X, train.y, weights, bias), on_test

        row = {"degree": degree}
        row["optimum_train"], row["optimum_test"] = scores(fit.weights, fit.bias)
        row["run_train"] = row["run_test"] = float("nan")
        row["run_epoch"], row["run_diverged"] = -1, False
        if spec is not None:
            run = execute(train.X, train.y, spec, prepared.quadratic)
            row["run_train"], row["run_test"] = scores(run.best_weights, run.best_bias)
            row["run_epoch"], row["run_diverged"] = run.best_epoch, run.diverged
        rows.append(row)
    return pd.DataFrame(rows)


def _top_prepared(dataset, standardized, test_fraction, split_seed, l2, degree):
    """(degree, Prepared) at the highest degree <= `degree` whose powers of x do not overflow."""
    while True:
        try:
            return degree, prepare(
                dataset,
                standardized=standardized,
                test_fraction=test_fraction,
                split_seed=split_seed,
                degree=degree,
                l2=l2,
            )
        except ValueError as exc:
            if degree == 1 or "overflows" not in str(exc):
                raise
            degree -= 1


OVERFIT_RATIO = 1.2  # test MSE at the top degree at least this many times its lowest: said as overfitting


def sweep_summary(sweep: pd.DataFrame, l2: float, run_name: str) -> list[str]:
    """Sentences about the sweep, each computed from its numbers: the optimum's training and test MSE
    from the lowest degree to the highest, where the test MSE is lowest (overfitting said when the top
    degree's test MSE is at least OVERFIT_RATIO times that while its training MSE is lower), and how far
    the run's best epoch is from the optimum, or where it diverged."""
    optimum = f"The ridge optimum (λ = {l2:g})" if l2 else "The least-squares optimum"
    first, last = sweep.iloc[0], sweep.iloc[-1]
    top = int(last["degree"])
    verb = "falls" if last["optimum_train"] < first["optimum_train"] else "rises"
    lines = [
        f"{optimum}: its training MSE {verb} from {first['optimum_train']:,.4g} at degree "
        f"{int(first['degree'])} to {last['optimum_train']:,.4g} at degree {top}."
    ]
    test = sweep["optimum_test"].to_numpy(dtype=np.float64)
    if np.isfinite(test).all():
        k = int(np.argmin(test))
        best = sweep.iloc[k]
        if k == len(sweep) - 1:
            lines.append(
                f"Its test MSE is lowest at the highest degree, {top} ({best['optimum_test']:,.4g}): no "
                f"overfitting up to degree {top}."
            )
            return lines + _run_lines(sweep, run_name)
        text = (
            f"Its test MSE is lowest at degree {int(best['degree'])} ({best['optimum_test']:,.4g}) and "
            f"{last['optimum_test']:,.4g} at degree {top}"
        )
        ratio = last["optimum_test"] / best["optimum_test"] if best["optimum_test"] > 0 else float("inf")
        if ratio >= OVERFIT_RATIO and last["optimum_train"] < best["optimum_train"]:
            text += (
                f", {ratio:,.3g}× its lowest while the training MSE is lower there: the high degrees fit the "
                "noise of the training rows (overfitting)" + (". Raise λ to tame it." if not l2 else ".")
            )
        else:
            text += f", within {OVERFIT_RATIO:g}× its lowest."
        lines.append(text)
    return lines + _run_lines(sweep, run_name)


def _run_lines(sweep: pd.DataFrame, run_name: str) -> list[str]:
    """The run's sentence: where it diverged, or how far its best epoch is from the optimum."""
    lines = []
    if sweep["run_epoch"].ge(0).all():
        diverged = [int(d) for d in sweep.loc[sweep["run_diverged"], "degree"]]
        if diverged:
            lines.append(
                f"{run_name} diverged at degree {', '.join(map(str, diverged))} with these settings (the "
                "step is too large for those degrees' Hessians: try standardizing, or a smaller α); its points "
                "there are crosses, at its best epoch."
            )
        else:
            excess = (sweep["run_train"] - sweep["optimum_train"]) / sweep["optimum_train"]
            worst = int(np.argmax(excess.to_numpy()))
            lines.append(
                f"{run_name} at its best epoch: its training MSE is above the optimum's by at most "
                f"{max(float(excess.iloc[worst]), 0.0):.2%} (at degree {int(sweep.iloc[worst]['degree'])})."
            )
    return lines


def sweep_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """The sweep in long form for the chart: degree, fit ("optimum" / "GD run"), rows ("train" /
    "test"), mse; rows without a number (no split, no run, an overflow) left out."""
    frames = []
    for fit, prefix in zip(FITS, ("optimum", "run"), strict=True):
        for rows in SETS:
            frames.append(
                pd.DataFrame(
                    {
                        "degree": sweep["degree"],
                        "fit": fit,
                        "rows": rows,
                        "mse": sweep[f"{prefix}_{rows}"],
                        "diverged": sweep["run_diverged"] if prefix == "run" else False,
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True)
    return table[np.isfinite(table["mse"].to_numpy(dtype=np.float64))].reset_index(drop=True)


def sweep_chart(table: pd.DataFrame, degree: int, run_name: str, penalized: bool) -> ChartSpec:
    """MSE (log scale) against the degree: train solid, test dashed; the optimum in red, the run in blue
    (a diverged run's points as crosses); the page's current degree as a grey rule. The legend lists
    only the series the table has (no run, no test rows: not listed)."""
    shown = tuple(sorted(set(zip(table["fit"], table["rows"], strict=True)), key=_series_order))
    return ChartSpec(
        _sweep_template(run_name, penalized, shown), {"degree_sweep": table}, {"current_degree": int(degree)}
    )


def _series_order(series: tuple[str, str]) -> tuple[int, int]:
    return FITS.index(series[0]), SETS.index(series[1])


@template
def _sweep_template(run_name: str, penalized: bool, shown: tuple[tuple[str, str], ...]) -> alt.TopLevelMixin:
    optimum = "ridge optimum" if penalized else "least squares"
    labels = {"optimum": optimum, "GD run": f"{run_name} (best epoch)"}
    x = alt.X("degree:Q", title="Polynomial degree", scale=alt.Scale(domain=[1, DEGREES[-1]], nice=False))
    x = x.axis(values=list(DEGREES), format="d")
    base = alt.Chart(alt.NamedData(name="degree_sweep")).transform_calculate(
        label=f"datum.fit == 'optimum' ? '{optimum}' : '{labels['GD run']}'",
        series="datum.label + ', ' + datum.rows",
    )
    # One legend, one entry a line (two legends side by side run off a phone's width): the fit by colour,
    # the rows by dash.
    series = [f"{labels[fit]}, {rows}" for fit, rows in shown]
    legend = alt.Legend(
        orient="bottom", direction="vertical", labelLimit=300, symbolType="stroke", symbolStrokeWidth=2.5
    )
    color = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(
            domain=series,
            range=[COLORS["optimum"] if fit == "optimum" else COLORS["loss"] for fit, _ in shown],
        ),
        legend=legend,
    )
    dash = alt.StrokeDash(
        "series:N",
        title=None,
        scale=alt.Scale(domain=series, range=[[1, 0] if rows == "train" else [6, 4] for _, rows in shown]),
        legend=legend,
    )
    y = alt.Y("mse:Q", title="MSE (no penalty)", scale=alt.Scale(type="log", nice=False, padding=10))
    tooltip = [
        alt.Tooltip("label:N", title="fit"),
        alt.Tooltip("rows:N", title="rows"),
        alt.Tooltip("degree:Q", title="degree"),
        alt.Tooltip("mse:Q", title="MSE", format=",.5~g"),
        alt.Tooltip("diverged:N", title="run diverged"),
    ]
    lines = base.mark_line(strokeWidth=2.2).encode(x=x, y=y, color=color, strokeDash=dash)
    dots = base.mark_point(filled=True, size=45).encode(
        x=x,
        y=y,
        color=color.legend(None),
        shape=alt.Shape(
            "diverged:N", scale=alt.Scale(domain=[False, True], range=["circle", "cross"]), legend=None
        ),
        tooltip=tooltip,
    )
    current = (
        alt.Chart(alt.NamedData(name="degree_sweep"))
        .transform_aggregate(count="count()")
        .transform_calculate(degree="current_degree")
        .mark_rule(color=COLORS["data"], strokeWidth=1.5)
        .encode(x=alt.X("degree:Q"))
    )
    return (
        alt.layer(current, lines, dots)
        .add_params(alt.param(name="current_degree", value=1))
        .properties(
            title=alt.Title(
                "Train and test MSE per degree", subtitle="solid: training rows, dashed: held-out rows"
            ),
            height=440,  # the plot, the title, the axis and a four-line legend (Streamlit fits them all)
        )
    )

"""The fitted polynomial drawn as a curve over the data: y_hat(x) = w_1 x + w_2 x^2 + ... + w_d x^d + b,
evaluated on a grid of the one input x in its own units (the runs' weights may multiply standardized
powers: the grid's powers are standardized with the same scaler before the product)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from gdcore.dashboard.charts import (
    COLORS,
    MAX_CHART_ROWS,
    ChartSpec,
    at_play_head,
    play_clock,
    play_params,
    sample_epochs,
    template,
)
from gdcore.dashboard.experiment import Prepared
from gdcore.dashboard.explain import loss_name
from gdcore.features import condition_by_degree, polynomial_features
from gdcore.trajectory import Trajectory

CURVE_POINTS = 200  # grid points of the optimum's curve
PLAY_POINTS = 60  # grid points of the run's curve at each drawn epoch
CURVE_FRAMES = MAX_CHART_ROWS // PLAY_POINTS  # epochs drawn (first, last and best kept): <= 5,000 rows


def input_values(prepared: Prepared) -> np.ndarray:
    """The training rows' one input x in its own units (undoing standardization of the first column)."""
    x = prepared.train.X[:, 0]
    if prepared.scaler is None:
        return x.copy()
    return x * prepared.scaler.scale[0] + prepared.scaler.mean[0]


def curve_values(prepared: Prepared, weights: np.ndarray, bias, x: np.ndarray) -> np.ndarray:
    """y_hat at inputs x (G,) of the polynomial whose coefficients (w, b) act on the prepared features:
    (G,) for one (d,) w and a float b, (G, K) for K of them, w (K, d) and b (K,)."""
    powers = polynomial_features(x, prepared.train.n_features)
    if prepared.scaler is not None:
        powers = prepared.scaler.transform(powers)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run's curves overflow: drawn clipped
        return powers @ np.asarray(weights, dtype=np.float64).T + bias


def curve_tables(prepared: Prepared, run: Trajectory, frames: int = CURVE_FRAMES):
    """(points, curves, optimum): the training rows (x, y); the run's curve y_hat(x) on an even grid of
    PLAY_POINTS over x's range at up to `frames` epochs (first, last and best kept), rows (epoch, x,
    y_hat, first: the grid's first point, loss: J at that epoch); the optimum's curve on CURVE_POINTS."""
    x = input_values(prepared)
    lo, hi = float(x.min()), float(x.max())
    epochs = sample_epochs(run.loss.size, frames, [run.best_epoch])
    grid = np.linspace(lo, hi, PLAY_POINTS)
    y_hat = curve_values(prepared, run.weights[epochs], run.bias[epochs], grid)  # (points, epochs)
    curves = pd.DataFrame(
        {
            "epoch": np.repeat(epochs, PLAY_POINTS),
            "x": np.tile(grid, epochs.size),
            "y_hat": y_hat.T.ravel(),
            "first": np.tile(np.arange(PLAY_POINTS) == 0, epochs.size),
            "loss": np.repeat(run.loss[epochs], PLAY_POINTS),
        }
    )
    fine = np.linspace(lo, hi, CURVE_POINTS)
    fit = prepared.fit
    optimum = pd.DataFrame({"x": fine, "y_hat": curve_values(prepared, fit.weights, fit.bias, fine)})
    return pd.DataFrame({"x": x, "y": prepared.train.y}), curves, optimum


def curve_chart(
    points: pd.DataFrame,
    curves: pd.DataFrame,
    optimum: pd.DataFrame,
    start_epoch: int,
    degree: int,
    target: str = "y",
    penalized: bool = False,
) -> ChartSpec:
    """The data as dots, the optimum's curve (dashed), and the run's curve at the epoch of the slider
    under the chart, which Play moves (client-side, as the line chart's: no rerun). The y axis spans the
    data and the optimum's curve; a run's curve beyond it (early or diverging epochs) is clipped."""
    y = np.concatenate([points["y"].to_numpy(), optimum["y_hat"].to_numpy()])
    y = y[np.isfinite(y)]
    lo, hi = float(y.min()), float(y.max())
    pad = 0.1 * (hi - lo or 1.0)
    last = int(curves["epoch"].max())
    return ChartSpec(
        _curve_template(degree, target, penalized),
        {"curve_points": points, "curves": curves, "optimum_curve": optimum},
        {"lo": lo - pad, "hi": hi + pad, "epoch": int(start_epoch), "last_epoch": last},
        {"epoch": {"max": last}},
    )


@template
def _curve_template(degree: int, target: str, penalized: bool) -> alt.TopLevelMixin:
    scale = alt.Scale(domainMin=alt.ExprRef("lo"), domainMax=alt.ExprRef("hi"), nice=False)
    loss = loss_name(penalized)
    optimum_name = "ridge optimum" if penalized else "least squares"
    dots = (
        alt.Chart(alt.NamedData(name="curve_points"))
        .mark_circle(size=30, opacity=0.5, color=COLORS["data"])
        .encode(x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title=target, scale=scale))
    )
    best = (
        alt.Chart(alt.NamedData(name="optimum_curve"))
        .mark_line(color=COLORS["optimum"], strokeDash=[6, 4], strokeWidth=2, clip=True)
        .encode(x="x:Q", y=alt.Y("y_hat:Q", scale=scale))
    )
    # The drawn epoch nearest the play head (the earlier one on a tie): its grid, the curve.
    current = at_play_head(alt.Chart(alt.NamedData(name="curves")))
    fitted = (
        current.mark_line(color=COLORS["loss"], strokeWidth=3, clip=True)
        .add_params(play_clock())
        .encode(
            x="x:Q",
            y=alt.Y("y_hat:Q", scale=scale),
            order="x:Q",
            tooltip=[
                alt.Tooltip("epoch:Q", title="Epoch", format=","),
                alt.Tooltip("x:Q", format=",.3f"),
                alt.Tooltip("y_hat:Q", title="ŷ", format=",.3f"),
                alt.Tooltip("loss:Q", title=loss, format=",.4f"),
            ],
        )
    )
    label = (
        current.transform_filter(alt.datum.first)
        .transform_calculate(
            text=f"'epoch ' + format(datum.epoch, ',') + ':  {loss} = ' + format(datum.loss, ',.4~g')"
        )
        .mark_text(align="left", baseline="top", dx=6, dy=6, fontSize=13, color=COLORS["loss"])
        .encode(x=alt.value(0), y=alt.value(0), text="text:N")
    )
    return (
        alt.layer(dots, best, fitted, label)
        .add_params(*play_params(), alt.param(name="lo", value=0.0), alt.param(name="hi", value=1.0))
        .properties(
            # both lines short enough for a phone's chart width (charts.py's titles say why)
            title=alt.Title(
                f"The fitted polynomial of degree {degree}",
                subtitle=f"blue: the epoch shown, red: {optimum_name}",
            ),
            height=340,
        )
    )


def condition_table(prepared: Prepared) -> pd.DataFrame:
    """kappa of the (unpenalized) loss for every degree the page offers, 1..12, on the training rows'
    raw powers of x and on the same powers standardized (`gdcore.features.condition_by_degree`)."""
    return condition_by_degree(input_values(prepared))

"""The fitted polynomial drawn as a curve over the data: y_hat(x) = w_1 x + w_2 x^2 + ... + w_d x^d + b,
evaluated on a grid of the one input x in its own units (the runs' weights may multiply standardized
powers: the grid's powers are standardized with the same scaler before the product)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from gdcore.dashboard.charts import COLORS, ChartSpec, template
from gdcore.dashboard.experiment import Prepared
from gdcore.features import condition_by_degree, polynomial_features
from gdcore.trajectory import Trajectory

CURVE_POINTS = 200  # grid points of each drawn curve


def input_values(prepared: Prepared) -> np.ndarray:
    """The training rows' one input x in its own units (undoing standardization of the first column)."""
    x = prepared.train.X[:, 0]
    if prepared.scaler is None:
        return x.copy()
    return x * prepared.scaler.scale[0] + prepared.scaler.mean[0]


def curve_values(prepared: Prepared, weights: np.ndarray, bias: float, x: np.ndarray) -> np.ndarray:
    """y_hat at inputs x of the polynomial whose coefficients (w, b) act on the prepared features."""
    powers = polynomial_features(x, prepared.train.n_features)
    if prepared.scaler is not None:
        powers = prepared.scaler.transform(powers)
    return powers @ np.asarray(weights, dtype=np.float64) + bias


def curve_tables(prepared: Prepared, run: Trajectory, name: str, points: int = CURVE_POINTS):
    """(points, curves): the training rows (x, y), and two curves on an even grid over x's range, the
    run at its best epoch and the optimum of the loss minimised (column `curve` names each)."""
    x = input_values(prepared)
    grid = np.linspace(float(x.min()), float(x.max()), points)
    fit = prepared.fit
    curves = pd.concat(
        [
            pd.DataFrame(
                {
                    "x": grid,
                    "y_hat": curve_values(prepared, run.best_weights, run.best_bias, grid),
                    "curve": f"{name}, best epoch {run.best_epoch:,}",
                }
            ),
            pd.DataFrame(
                {"x": grid, "y_hat": curve_values(prepared, fit.weights, fit.bias, grid), "curve": "optimum"}
            ),
        ],
        ignore_index=True,
    )
    return pd.DataFrame({"x": x, "y": prepared.train.y}), curves


def curve_chart(points: pd.DataFrame, curves: pd.DataFrame, degree: int, target: str = "y") -> ChartSpec:
    """The data as dots and the fitted curves as lines (the optimum dashed)."""
    finite = curves["y_hat"][np.isfinite(curves["y_hat"])]
    lo = float(min(points["y"].min(), finite.min() if finite.size else points["y"].min()))
    hi = float(max(points["y"].max(), finite.max() if finite.size else points["y"].max()))
    return ChartSpec(
        _curve_template(degree, target), {"curve_points": points, "curves": curves}, {"lo": lo, "hi": hi}
    )


@template
def _curve_template(degree: int, target: str) -> alt.TopLevelMixin:
    scale = alt.Scale(domainMin=alt.ExprRef("lo"), domainMax=alt.ExprRef("hi"), clamp=True)
    dots = (
        alt.Chart(alt.NamedData(name="curve_points"))
        .mark_circle(size=30, opacity=0.5, color=COLORS["loss"])
        .encode(x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title=target, scale=scale))
    )
    lines = (
        alt.Chart(alt.NamedData(name="curves"))
        .mark_line(strokeWidth=2.5)
        .encode(
            x="x:Q",
            y=alt.Y("y_hat:Q", scale=scale),
            color=alt.Color("curve:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=360)),
            strokeDash=alt.StrokeDash("curve:N", legend=None),
            tooltip=[
                alt.Tooltip("curve:N"),
                alt.Tooltip("x:Q", format=",.3f"),
                alt.Tooltip("y_hat:Q", format=",.3f"),
            ],
        )
    )
    return (
        (dots + lines)
        .add_params(alt.param(name="lo", value=0.0), alt.param(name="hi", value=1.0))
        .properties(title=f"The fitted polynomial of degree {degree}", height=340)
    )


def condition_table(prepared: Prepared) -> pd.DataFrame:
    """kappa of the (unpenalized) loss for each degree 1..prepared.degree, on the training rows' raw
    powers of x and on the same powers standardized (`gdcore.features.condition_by_degree`)."""
    return condition_by_degree(input_values(prepared), prepared.degree)

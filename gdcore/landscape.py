"""The loss surface J over two chosen parameters, computed from the sufficient statistics.

J(theta) = J* + e^T M e with e = theta - theta*, so a G x G grid costs O(G^2 d^2), whatever N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcore.model import Quadratic


@dataclass(frozen=True)
class LossGrid:
    """J on a grid over parameters `i` and `j` (indices into theta = (w_1..w_d, b)); the others held."""

    u: np.ndarray  # (G,) values of parameter i
    v: np.ndarray  # (G,) values of parameter j
    loss: np.ndarray  # (G, G): loss[a, b] = J at (u[b], v[a])
    i: int
    j: int
    held: np.ndarray  # the full theta the other parameters are held at


def window(points: np.ndarray, margin: float = 0.15, max_span: float | None = None) -> np.ndarray:
    """[[lo_u, hi_u], [lo_v, hi_v]] covering the finite 2-D points with a margin on each side.

    With `max_span`, each side is at most that wide around the points' centre of attention (the first
    point listed, e.g. the optimum), so one diverging step does not flatten the picture.
    """
    points = points[np.isfinite(points).all(axis=1)]
    lo, hi = points.min(axis=0), points.max(axis=0)
    if max_span is not None:
        anchor = points[0]
        lo = np.maximum(lo, anchor - max_span)
        hi = np.minimum(hi, anchor + max_span)
    span = np.maximum(hi - lo, np.maximum(np.abs(hi), 1.0) * 1e-3)
    # Keep the picture roughly square so the bowl's shape shows: no side under half the other.
    grow = np.maximum(span.max() / 2 - span, 0.0)
    lo, hi, span = lo - grow / 2, hi + grow / 2, span + grow
    return np.stack([lo - margin * span, hi + margin * span], axis=1)


def loss_grid(
    quadratic: Quadratic, bounds: np.ndarray, i: int, j: int, held=None, resolution: int = 60
) -> LossGrid:
    """J(theta) for theta[i] in bounds[0], theta[j] in bounds[1], the rest at `held` (default theta*)."""
    held = quadratic.theta_star.copy() if held is None else np.asarray(held, dtype=np.float64)
    u = np.linspace(bounds[0, 0], bounds[0, 1], resolution)
    v = np.linspace(bounds[1, 0], bounds[1, 1], resolution)
    theta = np.broadcast_to(held, (resolution, resolution, held.shape[0])).copy()
    theta[:, :, i] = u[None, :]
    theta[:, :, j] = v[:, None]
    return LossGrid(u, v, quadratic.loss(theta), i, j, held)

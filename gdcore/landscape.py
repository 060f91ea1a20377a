"""The loss surface J over two chosen parameters, exactly: its level sets, the window to draw, clipping.

With e = theta - theta* and every parameter but i and j held at theta*, J is a quadratic in (u, v):

    J(u, v) = J* + [du dv] B [du dv]^T,    B = the 2 x 2 block of M = A^T A / N at rows and columns i, j,

so its level sets J = J* + h are ellipses, sampled here from B's eigen-decomposition B = Q diag(l) Q^T as
(du, dv) = Q (sqrt(h / l_1) cos t, sqrt(h / l_2) sin t), or pairs of parallel lines when B is singular (a
flat direction, e.g. a constant feature). No grid, no marching squares; O(1) in N.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gdcore.model import Quadratic

# B's eigenvalues below this fraction of the largest count as zero: a flat direction, drawn as lines.
FLAT = 1e-14
# The landscape is computed over a square this many times the window's longer side: enough for an
# equal-scale plot up to 6:1 wide (a 1,400 px wide chart of a 280 px high plot is 5:1).
REACH_FACTOR = 6.0


def window(points: np.ndarray, margin: float = 0.15, max_span: float | None = None) -> np.ndarray:
    """[[lo_u, hi_u], [lo_v, hi_v]]: the box the chart must show, covering the finite 2-D points with a
    margin on each side.

    With `max_span`, each side is at most that far from the first point listed (the optimum), so one
    diverging step does not flatten the picture. The chart widens one side to draw u and v at equal scale.
    """
    points = points[np.isfinite(points).all(axis=1)]
    lo, hi = points.min(axis=0), points.max(axis=0)
    if max_span is not None:
        anchor = points[0]
        lo = np.maximum(lo, anchor - max_span)
        hi = np.minimum(hi, anchor + max_span)
    span = np.maximum(hi - lo, np.maximum(np.abs(hi), 1.0) * 1e-3)
    return np.stack([lo - margin * span, hi + margin * span], axis=1)


def surround(bounds: np.ndarray, factor: float = REACH_FACTOR) -> np.ndarray:
    """A square box around `bounds`' centre, `factor` times its longer side: all that an equal-scale
    chart of `bounds` can show at any plot aspect between 1:factor and factor:1."""
    centre = bounds.mean(axis=1)
    half = 0.5 * factor * float(np.max(bounds[:, 1] - bounds[:, 0]))
    return np.stack([centre - half, centre + half], axis=1)


def pair_block(quadratic: Quadratic, i: int, j: int) -> np.ndarray:
    """B: the 2 x 2 block of M = A^T A / N for parameters i and j (J - J* = e^T B e on that slice)."""
    return quadratic.moment[np.ix_([i, j], [i, j])]


def nice_heights(top: float, count: int = 12) -> np.ndarray:
    """Up to `count` heights 1, 2, 5 x 10^k, descending from the largest one <= top."""
    if not np.isfinite(top) or top <= 0:
        return np.empty(0)
    exponent = int(np.floor(np.log10(top)))
    ladder = [m * 10.0**e for e in range(exponent, exponent - count - 1, -1) for m in (5, 2, 1)]
    return np.array([h for h in ladder if h <= top][:count])


def contour_heights(quadratic: Quadratic, i: int, j: int, box: np.ndarray, count: int = 12) -> np.ndarray:
    """Heights h above J* (1-2-5 steps) whose level sets cross `box`: the largest is at most the height
    at the box's farthest corner (a convex quadratic peaks on a box at a corner)."""
    centre = quadratic.theta_star[[i, j]]
    corners = np.array([[u, v] for u in box[0] for v in box[1]]) - centre
    block = pair_block(quadratic, i, j)
    top = float(np.max(np.einsum("ki,ij,kj->k", corners, block, corners)))
    return nice_heights(top, count)


def level_curves(
    quadratic: Quadratic, i: int, j: int, height: float, reach: float, points: int = 120
) -> list[np.ndarray]:
    """The level set J = J* + height over (theta_i, theta_j), the rest at theta*: (K, 2) polylines of
    (u, v) points lying exactly on it.

    An ellipse is one closed polyline (first point repeated; K a multiple of 4, so the ends of both axes
    are sampled). A flat direction (eigenvalue <= FLAT x the largest) makes two parallel lines,
    each `reach` long on either side of the optimum; with B = 0 the loss is flat and there is nothing.
    """
    centre = quadratic.theta_star[[i, j]]
    eigenvalues, vectors = np.linalg.eigh(pair_block(quadratic, i, j))
    if eigenvalues[1] <= 0:
        return []
    if eigenvalues[0] <= FLAT * eigenvalues[1]:
        # l_2 (q_2 . e)^2 = h: the lines q_2 . e = +-sqrt(h / l_2), running along q_1.
        offset = np.sqrt(height / eigenvalues[1]) * vectors[:, 1]
        along = np.linspace(-reach, reach, 2)[:, None] * vectors[:, 0]
        return [centre + side * offset + along for side in (1.0, -1.0)]
    steps = 4 * max(points // 4, 1)
    t = np.linspace(0.0, 2.0 * np.pi, steps + 1)
    t[-1] = 0.0  # closed exactly
    radii = np.sqrt(height / eigenvalues)
    local = np.column_stack([radii[0] * np.cos(t), radii[1] * np.sin(t)])
    return [centre + local @ vectors.T]


class Clipped(NamedTuple):
    """A polyline clipped to a box: the points to draw in order (`xy`), the connected `piece` each one
    belongs to, the index of the input point each one is (`source`; -1 where a segment crosses the box's
    edge), and the input `segment` (k: from point k to k + 1) each one lies on."""

    xy: np.ndarray
    piece: np.ndarray
    source: np.ndarray
    segment: np.ndarray


def clip_polyline(points: np.ndarray, box: np.ndarray, through: bool = True) -> Clipped:
    """The parts of a polyline inside `box` ([[u_lo, u_hi], [v_lo, v_hi]]), by Liang-Barsky clipping
    of each segment. A segment outside the box breaks the line into pieces; so does a non-finite point
    (NaN rows separate several polylines clipped in one call). With `through=False` segments with both
    ends outside the box are dropped too (a path's step between two far points is not drawn across the
    picture; clipping it would also lose every digit to cancellation).
    """
    points = np.asarray(points, dtype=np.float64)
    if points.shape[0] < 2:
        keep = np.flatnonzero(inside(points, box))
        return Clipped(points[keep], np.zeros(keep.size, dtype=np.int64), keep, np.zeros(keep.size, np.int64))
    start, delta = points[:-1], np.diff(points, axis=0)
    finite = np.isfinite(points[:-1]).all(axis=1) & np.isfinite(points[1:]).all(axis=1)
    t0 = np.zeros(start.shape[0])
    t1 = np.ones(start.shape[0])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for axis in (0, 1):
            for edge, sign in ((box[axis, 0], -1.0), (box[axis, 1], 1.0)):
                p = sign * delta[:, axis]
                q = sign * (edge - start[:, axis])
                ratio = np.where(p != 0, q / p, 0.0)
                t0 = np.where(p < 0, np.maximum(t0, ratio), t0)
                t1 = np.where(p > 0, np.minimum(t1, ratio), t1)
                t1 = np.where((p == 0) & (q < 0), -1.0, t1)  # parallel to this edge and outside it
    kept = finite & (t0 <= t1)
    if not through:
        ends_inside = _inside(points, box)
        kept &= ends_inside[:-1] | ends_inside[1:]
    index = np.flatnonzero(kept)
    if index.size == 0:
        none = np.empty(0, dtype=np.int64)
        return Clipped(np.empty((0, 2)), none, none, none)
    # A segment continues the previous piece when that one was kept whole to its end and this one
    # starts at its first point.
    continues = np.zeros(index.size, dtype=bool)
    continues[1:] = (np.diff(index) == 1) & (t1[index[:-1]] == 1.0) & (t0[index[1:]] == 0.0)
    piece = np.cumsum(~continues) - 1
    last_of_piece = np.append(~continues[1:], True)
    # The input points themselves where a segment is not cut (start + 1 * delta can differ from the end).
    a = np.where(t0[index, None] == 0.0, start[index], start[index] + t0[index, None] * delta[index])
    b = np.where(t1[index, None] == 1.0, points[index + 1], start[index] + t1[index, None] * delta[index])
    # Each kept segment emits its (clipped) start; the last one of a piece its end as well.
    at_a = np.arange(index.size) + np.concatenate([[0], np.cumsum(last_of_piece)[:-1]])
    at_b = at_a[last_of_piece] + 1
    size = index.size + int(last_of_piece.sum())
    xy = np.empty((size, 2))
    pieces = np.empty(size, dtype=np.int64)
    source = np.empty(size, dtype=np.int64)
    segment = np.empty(size, dtype=np.int64)
    xy[at_a], pieces[at_a], segment[at_a] = a, piece, index
    source[at_a] = np.where(t0[index] == 0.0, index, -1)
    ends = index[last_of_piece]
    xy[at_b], pieces[at_b], segment[at_b] = b[last_of_piece], piece[last_of_piece], ends
    source[at_b] = np.where(t1[ends] == 1.0, ends + 1, -1)
    return Clipped(xy, pieces, source, segment)


def _inside(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    return (
        (points[:, 0] >= box[0, 0])
        & (points[:, 0] <= box[0, 1])
        & (points[:, 1] >= box[1, 0])
        & (points[:, 1] <= box[1, 1])
    )


def inside(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Whether each (u, v) point lies in `box` (non-finite points do not)."""
    points = np.asarray(points, dtype=np.float64)
    return np.isfinite(points).all(axis=1) & _inside(points, box)


@dataclass(frozen=True)
class Contours:
    """Level sets of J over parameters i and j (the others at theta*), clipped to a box.

    Rows of `xy` (u, v) with their `piece` (one connected polyline) and the `height` above J* of the level
    set each piece belongs to; `loss_star` is J*.
    """

    xy: np.ndarray
    piece: np.ndarray
    height: np.ndarray
    loss_star: float
    i: int
    j: int


def contours(quadratic: Quadratic, i: int, j: int, box: np.ndarray, count: int = 12, points: int = 120):
    """The level sets at `contour_heights` that cross `box`, clipped to it (in one clipping pass: the
    curves are stacked with a NaN row between them)."""
    reach = float(np.hypot(*(box[:, 1] - box[:, 0])))
    curves = [
        (h, curve) for h in contour_heights(quadratic, i, j, box, count)
        for curve in level_curves(quadratic, i, j, float(h), reach, points)
    ]  # fmt: skip
    if not curves:
        return Contours(np.empty((0, 2)), np.empty(0, np.int64), np.empty(0), quadratic.loss_star, i, j)
    gap = np.full((1, 2), np.nan)
    stacked = np.concatenate([part for _, curve in curves for part in (curve, gap)])
    height = np.concatenate([np.full(curve.shape[0] + 1, h) for h, curve in curves])
    clipped = clip_polyline(stacked, box)
    return Contours(clipped.xy, clipped.piece, height[clipped.segment], quadratic.loss_star, i, j)

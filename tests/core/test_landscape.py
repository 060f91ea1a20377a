"""The loss landscape's geometry (gdcore.landscape): exact level sets, their heights, clipping.

References are independent of gdcore: the MSE written out on A = [X, 1], numpy least squares and matrix
inverses, and brute-force sampling of the polylines being clipped.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import design_matrix
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
from gdcore.landscape import (
    clip_polyline,
    contour_heights,
    contours,
    level_curves,
    nice_heights,
    surround,
    window,
)


def problem(seed: int, n: int = 80, d: int = 3, scales=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * (np.ones(d) if scales is None else np.asarray(scales))
    y = X @ rng.normal(size=d) * 3 + 5 + rng.normal(size=n)
    return X, y


def literal_mse(X, y, theta_rows):
    A = design_matrix(X)
    return np.mean((y[None, :] - np.asarray(theta_rows) @ A.T) ** 2, axis=1)


def optimum(X, y):
    theta, *_ = np.linalg.lstsq(design_matrix(X), y, rcond=None)
    return theta, float(literal_mse(X, y, [theta])[0])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("i", "j"), [(0, 3), (1, 2), (2, 0)])
def test_level_curves_lie_on_the_level_set_of_the_mse(seed, i, j):
    X, y = problem(seed, scales=[1.0, 5.0, 0.2])
    quadratic = gdcore.Quadratic.from_data(X, y)
    theta, floor = optimum(X, y)
    for height in (0.1, 3.0, 250.0):
        [curve] = level_curves(quadratic, i, j, height, reach=100.0)
        assert np.array_equal(curve[0], curve[-1]), "closed"
        rows = np.tile(theta, (curve.shape[0], 1))
        rows[:, i], rows[:, j] = curve[:, 0], curve[:, 1]
        np.testing.assert_allclose(literal_mse(X, y, rows), floor + height, rtol=1e-9)
        # Its reach along u is the ellipse's: |du| <= sqrt(h (B^-1)_uu), with B the 2 x 2 block of A^T A / N.
        A = design_matrix(X)
        block = (A.T @ A / len(y))[np.ix_([i, j], [i, j])]
        half_width = np.sqrt(height * np.linalg.inv(block)[0, 0])
        assert np.max(np.abs(curve[:, 0] - theta[i])) == pytest.approx(half_width, rel=2e-3)


def test_a_flat_direction_gives_two_parallel_lines():
    """x2 = 2 x1: along (2, -1) in (w1, w2) nothing changes, so a level set is two lines."""
    X, y = problem(7, d=2)
    X[:, 1] = 2.0 * X[:, 0]
    quadratic = gdcore.Quadratic.from_data(X, y)
    theta, floor = optimum(X, y)  # numpy's minimum-norm solution, as the Quadratic's
    np.testing.assert_allclose(quadratic.theta_star, theta, rtol=1e-7, atol=1e-9)
    lines = level_curves(quadratic, 0, 1, 4.0, reach=30.0)
    assert len(lines) == 2
    for line in lines:
        rows = np.tile(theta, (line.shape[0], 1))
        rows[:, :2] = line
        np.testing.assert_allclose(literal_mse(X, y, rows), floor + 4.0, rtol=1e-7)
        direction = line[1] - line[0]
        assert abs(direction @ np.array([1.0, 2.0])) < 1e-9 * np.linalg.norm(direction)  # along (2, -1)


def test_heights_are_one_two_five_and_reach_the_box():
    assert nice_heights(7300.0, 5).tolist() == [5000.0, 2000.0, 1000.0, 500.0, 200.0]
    assert nice_heights(0.0).size == 0 and nice_heights(float("inf")).size == 0
    X, y = problem(3)
    quadratic = gdcore.Quadratic.from_data(X, y)
    theta, floor = optimum(X, y)
    box = np.array([[theta[0] - 4, theta[0] + 9], [theta[3] - 2, theta[3] + 3]])
    heights = contour_heights(quadratic, 0, 3, box, count=12)
    corners = [[u, v] for u in box[0] for v in box[1]]
    rows = np.tile(theta, (4, 1))
    rows[:, [0, 3]] = corners
    top = literal_mse(X, y, rows).max() - floor
    assert heights[0] <= top < 2.5 * heights[0]  # the largest 1-2-5 step below the farthest corner
    assert len(heights) == 12 and np.all(np.diff(heights) < 0)


def test_nan_rows_separate_polylines():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [np.nan, np.nan], [2.0, 0.0], [3.0, 1.0]])
    clipped = clip_polyline(points, np.array([[-5.0, 5.0], [-5.0, 5.0]]))
    assert clipped.piece.tolist() == [0, 0, 1, 1] and clipped.source.tolist() == [0, 1, 3, 4]
    assert clipped.segment.tolist() == [0, 0, 3, 3]


def test_contours_are_clipped_to_the_box_and_bounded():
    X, y = problem(5)
    quadratic = gdcore.Quadratic.from_data(X, y)
    theta, _ = optimum(X, y)
    box = surround(window(np.array([theta[[0, 3]], [1.0, 0.0]])))
    found = contours(quadratic, 0, 3, box)
    assert found.xy.shape[0] <= 12 * 121 + 2 * 12 * 4
    assert np.all(found.xy >= box[:, 0] - 1e-9) and np.all(found.xy <= box[:, 1] + 1e-9)
    assert len(np.unique(found.height)) >= 8
    # Each point carries the height of its own level set (the literal MSE there, away from the cuts).
    theta, floor = optimum(X, y)
    away = np.all((found.xy > box[:, 0] + 1e-6) & (found.xy < box[:, 1] - 1e-6), axis=1)
    rows = np.tile(theta, (int(away.sum()), 1))
    rows[:, [0, 3]] = found.xy[away]
    np.testing.assert_allclose(literal_mse(X, y, rows) - floor, found.height[away], rtol=1e-6)


def test_surround_holds_any_equal_scale_view_of_the_box():
    box = np.array([[0.0, 10.0], [5.0, 6.0]])
    reach = surround(box, 4.0)
    centre, half = box.mean(axis=1), 2.0 * 10.0
    np.testing.assert_allclose(
        reach, [[centre[0] - half, centre[0] + half], [centre[1] - half, centre[1] + half]]
    )


# ---------------------------------------------------------------- clipping
def on_segment(point, a, b, tol):
    ab = b - a
    t = np.clip(((point - a) @ ab) / max(ab @ ab, 1e-300), 0.0, 1.0)
    return np.linalg.norm(a + t * ab - point) <= tol


coordinate = st.floats(-20.0, 20.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(points=st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=12), through=st.booleans())
def test_clipping_keeps_exactly_the_parts_inside(points, through):
    points = np.array(points)
    box = np.array([[-5.0, 5.0], [-3.0, 4.0]])
    xy, piece, source, segment = clip_polyline(points, box, through=through)
    tol = 1e-9 * 40
    assert np.all(xy >= box[:, 0] - tol) and np.all(xy <= box[:, 1] + tol)
    real = source >= 0
    np.testing.assert_array_equal(xy[real], points[source[real]])
    for point, k in zip(xy, segment, strict=True):  # each drawn point lies on the segment it names
        assert on_segment(point, points[k], points[min(k + 1, len(points) - 1)], tol)
    inside = np.all((points >= box[:, 0]) & (points <= box[:, 1]), axis=1)
    # Every drawn step lies on one input segment; with through=False one of its ends is inside.
    drawn = [(xy[k], xy[k + 1]) for k in range(len(xy) - 1) if piece[k] == piece[k + 1]]
    for a, b in drawn:
        hosts = [
            s
            for s in range(len(points) - 1)
            if on_segment(a, points[s], points[s + 1], tol) and on_segment(b, points[s], points[s + 1], tol)
        ]
        assert hosts
        if not through:
            assert any(inside[s] or inside[s + 1] for s in hosts)
    # Brute force: every sampled point of a kept input segment that lies well inside the box is drawn.
    for s in range(len(points) - 1):
        if not through and not (inside[s] or inside[s + 1]):
            continue
        for t in np.linspace(0.0, 1.0, 41):
            p = points[s] + t * (points[s + 1] - points[s])
            if np.all(p > box[:, 0] + 1e-6) and np.all(p < box[:, 1] - 1e-6):
                assert any(on_segment(p, a, b, 1e-7) for a, b in drawn) or any(
                    np.allclose(p, q) for q in xy
                ), (p, s, t)


def test_clipping_far_points_keeps_the_digits():
    """A diverging step to 1e130 is cut where it leaves the box, exactly on the segment; a step between
    two far points is not drawn across the box with through=False."""
    points = np.array([[1.0, 0.5], [-3e130, 1e130], [4e131, -2e131]])
    box = np.array([[-10.0, 10.0], [-10.0, 10.0]])
    xy, piece, source, _ = clip_polyline(points, box, through=False)
    assert source.tolist() == [0, -1] and piece.tolist() == [0, 0]
    direction = points[1] - points[0]
    t = (-10.0 - points[0, 0]) / direction[0]
    np.testing.assert_allclose(xy[1], points[0] + t * direction, rtol=1e-12)
    assert xy[1, 0] == pytest.approx(-10.0)

"""Outlines of mask groups as simplified polygons, with numpy only (no skimage import).

The outline follows the pixel edges (vertices on pixel corners), so the unsimplified
polygon covers exactly the pixels of the group; the Douglas-Peucker simplification
then moves it by at most its tolerance.
"""

from __future__ import annotations

import numpy as np

__all__ = ["outline_polygon", "simplify_closed"]


def outline_polygon(mask: np.ndarray) -> np.ndarray:
    """Trace the outer boundary of the pixels of a mask along the pixel edges.

    Parameters
    ----------
    mask : numpy.ndarray
        Boolean array holding one connected group (holes are ignored; with several
        groups the longest boundary is returned).

    Returns
    -------
    numpy.ndarray
        (N, 2) corner coordinates (x, y): pixel (row r, column c) spans x in [c, c+1]
        and y in [r, r+1], so subtract 0.5 for 0-based pixel-centre coordinates.
        Empty (0, 2) for an empty mask.
    """
    mask = np.asarray(mask, bool)
    if not mask.any():
        return np.zeros((0, 2))
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1]
    rows, cols = np.nonzero(inner)
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    # Directed edges, interior on the right when x goes right and y goes down.
    sides = (
        (~padded[:-2, 1:-1], (0, 0), (1, 0)),  # top: (c, r) -> (c+1, r)
        (~padded[1:-1, 2:], (1, 0), (1, 1)),  # right
        (~padded[2:, 1:-1], (1, 1), (0, 1)),  # bottom
        (~padded[1:-1, :-2], (0, 1), (0, 0)),  # left
    )
    for open_side, (sx, sy), (ex, ey) in sides:
        on = open_side[rows, cols]
        r, c = rows[on], cols[on]
        starts.append(np.column_stack([c + sx, r + sy]))
        ends.append(np.column_stack([c + ex, r + ey]))
    start = np.concatenate(starts)
    end = np.concatenate(ends)
    outgoing: dict[tuple[int, int], list[int]] = {}
    for index, (x, y) in enumerate(start.tolist()):
        outgoing.setdefault((x, y), []).append(index)
    used = np.zeros(len(start), bool)
    best: list[tuple[int, int]] = []
    for first in range(len(start)):
        if used[first]:
            continue
        loop = []
        edge = first
        while not used[edge]:
            used[edge] = True
            loop.append(tuple(start[edge]))
            here = tuple(end[edge])
            choices = [e for e in outgoing[here] if not used[e]]
            if not choices:
                break
            if len(choices) > 1:
                # A pinch corner (pixels touching diagonally): turn so that the
                # diagonal neighbours stay in one outline (8-connectivity).
                incoming = end[edge] - start[edge]
                choices.sort(key=lambda e: _turn(incoming, end[e] - start[e]))
            edge = choices[0]
        if len(loop) > len(best):
            best = loop
    return _drop_collinear(np.asarray(best, dtype=float))


def _turn(incoming: np.ndarray, outgoing: np.ndarray) -> float:
    # Prefer the left turn (negative cross in y-down coordinates means left).
    return float(incoming[0] * outgoing[1] - incoming[1] * outgoing[0])


def _drop_collinear(points: np.ndarray) -> np.ndarray:
    if len(points) < 4:
        return points
    before = np.roll(points, 1, axis=0)
    after = np.roll(points, -1, axis=0)
    cross = (points[:, 0] - before[:, 0]) * (after[:, 1] - points[:, 1]) - (
        points[:, 1] - before[:, 1]
    ) * (after[:, 0] - points[:, 0])
    return points[cross != 0]


def simplify_closed(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker simplification of a closed polygon.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 2) vertices of a closed polygon (the last is not repeated).
    tolerance : float
        Largest distance a removed vertex may lie from the simplified outline.

    Returns
    -------
    numpy.ndarray
        The kept vertices, in order (at least 3 when the input has 3).
    """
    points = np.asarray(points, dtype=float)
    if len(points) <= 3:
        return points
    # Split the loop at the vertex farthest from the first one.
    far = int(np.argmax(np.hypot(*(points - points[0]).T)))
    keep = np.zeros(len(points), bool)
    keep[0] = keep[far] = True
    closed = np.vstack([points, points[:1]])
    for a, b in ((0, far), (far, len(points))):
        _mark(closed, a, b, tolerance, keep)
    if keep.sum() < 3:
        # Keep a polygon: add the vertex farthest from the chord between the two kept.
        d = points[far] - points[0]
        rel = points - points[0]
        keep[int(np.argmax(np.abs(d[0] * rel[:, 1] - d[1] * rel[:, 0])))] = True
    return points[keep]


def _mark(points: np.ndarray, first: int, last: int, tolerance: float, keep: np.ndarray) -> None:
    stack = [(first, last)]
    n = len(keep)
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        segment = points[a + 1 : b]
        p, q = points[a], points[b]
        d = q - p
        length = float(np.hypot(*d))
        if length == 0:
            dist = np.hypot(*(segment - p).T)
        else:
            dist = np.abs(d[0] * (segment[:, 1] - p[1]) - d[1] * (segment[:, 0] - p[0])) / length
        worst = int(np.argmax(dist))
        if dist[worst] > tolerance:
            middle = a + 1 + worst
            keep[middle % n] = True
            stack.append((a, middle))
            stack.append((middle, b))

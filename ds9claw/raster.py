"""Rasterising pixel-coordinate polygons and ellipses with bounded memory.

The rule is the one of ``regions``' ``to_mask(mode="center")``: a pixel belongs to a
shape when its centre does; a centre exactly on a polygon edge (zero cross product) is
outside.  Polygons are filled with an even-odd edge table: each edge gives its
crossings with the pixel rows it spans, a crossing toggles the parity from the first
column at or past it, and a running parity along each row gives the inside.  The
vertices are ordered and paired as ``regions`` does and every crossing and cross
product is the same floating-point expression, so even centres that lie on an edge
only to rounding get the same answer (tests compare the two on random polygons).

Edges are processed in chunks of at most `CHUNK_CROSSINGS` crossings, so memory is a
few bytes per pixel of the shape's bounding box (clipped to the image) plus a fixed
amount per chunk, whatever the number of vertices; time is proportional to pixels +
crossings.  Ellipses are evaluated in
bands of rows for the same reason.

`polygon_cost` and `ellipse_cost` give the work a shape will take (pixel and crossing
evaluations) before any of it is done, so callers can refuse what exceeds a budget.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "CHUNK_CROSSINGS",
    "CROSSING_COST",
    "MAX_COORDINATE",
    "ellipse_cost",
    "fill_ellipse",
    "fill_polygon",
    "polygon_cost",
]

#: Largest number of edge/row crossings computed at once (about 50 bytes each).
CHUNK_CROSSINGS = 1 << 22
#: Cost of one edge/row crossing in units of one pixel evaluation (measured: a crossing
#: takes about twice as long as a pixel of an ellipse).
CROSSING_COST = 2
#: Largest coordinate (pixels) `fill_polygon` accepts: its rounding stays below NEAR.
MAX_COORDINATE = 1e8
#: Distance (pixels) from a crossing within which a centre is tested for lying on the edge.
NEAR = 1e-6
#: Pixels of an ellipse evaluated at once (about 50 bytes each).
_ELLIPSE_BAND_PIXELS = 1 << 20


def _clip_int(values: np.ndarray, low: int, high: int) -> np.ndarray:
    """Clip floats to [low, high] and convert to int64 (safe for huge values)."""
    return np.clip(values, low, high).astype(np.int64)


def _polygon_window(vertices: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(row0, row1, col0, col1), inclusive, of the image part a polygon can touch.

    ``row1 < row0`` when it touches none.
    """
    ny, nx = shape
    x, y = vertices[:, 0], vertices[:, 1]
    row0 = int(max(0, math.ceil(y.min())))
    row1 = int(min(ny - 1, math.floor(y.max())))
    if x.max() < 0 or x.min() > nx - 1:
        return 0, -1, 0, -1
    col0 = int(max(0, math.floor(x.min())))
    col1 = int(min(nx - 1, math.ceil(x.max())))
    return row0, row1, col0, col1


def _edge_rows(
    y: np.ndarray, y2: np.ndarray, row0: int, row1: int
) -> tuple[np.ndarray, np.ndarray]:
    """First row and number of rows (within row0..row1) each edge's y-range contains."""
    low, high = np.minimum(y, y2), np.maximum(y, y2)
    first = _clip_int(np.ceil(low), row0, row1 + 1)
    last = _clip_int(np.floor(high), row0 - 1, row1)
    return first, np.maximum(last - first + 1, 0)


def polygon_cost(vertices: np.ndarray, shape: tuple[int, int]) -> int:
    """Work of `fill_polygon`: clipped bounding-box pixels + CROSSING_COST x crossings.

    Parameters
    ----------
    vertices : numpy.ndarray
        (N, 2) array of finite 0-based (x, y) vertices.
    shape : tuple of int
        Image shape (ny, nx).

    Returns
    -------
    int
        Number of elementary evaluations; 0 when the polygon misses the image.
    """
    vertices = np.asarray(vertices, np.float64)
    row0, row1, col0, col1 = _polygon_window(vertices, shape)
    if row1 < row0:
        return 0
    y = vertices[:, 1]
    _, count = _edge_rows(y, np.roll(y, 1), row0, row1)
    return (row1 - row0 + 1) * (col1 - col0 + 2) + CROSSING_COST * int(count.sum())


def fill_polygon(mask: np.ndarray, vertices: np.ndarray) -> None:
    """Set the pixels of ``mask`` whose centres lie inside a polygon (even-odd rule).

    Parameters
    ----------
    mask : numpy.ndarray
        2-D boolean array, changed in place (pixels are only ever set).
    vertices : numpy.ndarray
        (N, 2) array of finite 0-based (x, y) vertices below `MAX_COORDINATE` in
        magnitude; the polygon is closed implicitly and may intersect itself or extend
        beyond the image.

    Raises
    ------
    ValueError
        For a vertex that is not finite or exceeds `MAX_COORDINATE`.
    """
    vertices = np.asarray(vertices, np.float64)
    if vertices.size and not np.abs(vertices).max() <= MAX_COORDINATE:
        raise ValueError(f"polygon vertices must be finite and below {MAX_COORDINATE:g}")
    row0, row1, col0, col1 = _polygon_window(vertices, mask.shape)
    if row1 < row0:
        return
    n_rows, width = row1 - row0 + 1, col1 - col0 + 1
    # regions orders the vertices counter-clockwise (by the sign of the shoelace sum,
    # accumulated in order) and pairs each vertex with the one before it; the same
    # pairing gives the same floating-point crossings and on-edge tests
    x, y = vertices[:, 0], vertices[:, 1]
    if np.cumsum(x * np.roll(y, -1) - np.roll(x, -1) * y)[-1] < 0:
        x, y = x[::-1].copy(), y[::-1].copy()
    x2, y2 = np.roll(x, 1), np.roll(y, 1)
    first, count = _edge_rows(y, y2, row0, row1)
    horizontal = y == y2
    # toggles[c, r] counts the crossings of row r that start the parity at column c;
    # column-major, so that the many consecutive rows of a long edge, whose crossings
    # move slowly across columns, land next to each other in memory
    toggles = np.zeros((width + 1) * n_rows, np.uint8)
    on_edge = np.zeros(n_rows * width, bool)
    sloped = np.flatnonzero(~horizontal & (count > 0))
    for edges in _chunks(sloped, count[sloped]):
        _sloped_edges(edges, x, y, x2, y2, first, count, row0, col0, width, toggles, on_edge)
    flat = np.flatnonzero(horizontal & (count > 0))
    if flat.size:
        on_edge |= _horizontal_edges(flat, x, x2, first, n_rows, row0, col0, col1, width)
    inside = np.cumsum(toggles.reshape(width + 1, n_rows)[:width], axis=0, dtype=np.uint8).T
    inside &= 1
    inside = inside.view(bool)
    inside &= ~on_edge.reshape(n_rows, width)
    mask[row0 : row1 + 1, col0 : col1 + 1] |= inside


def _chunks(edges: np.ndarray, counts: np.ndarray):
    """Split ``edges`` into consecutive groups of about CHUNK_CROSSINGS crossings.

    A single edge spans at most one image height, so a group exceeds it by that at most.
    """
    if edges.size == 0:
        return
    ends = np.cumsum(counts)
    start = 0
    while start < edges.size:
        base = ends[start - 1] if start else 0
        stop = int(np.searchsorted(ends, base + CHUNK_CROSSINGS, side="right"))
        stop = max(stop, start + 1)
        yield edges[start:stop]
        start = stop


def _sloped_edges(
    edges: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    x2: np.ndarray,
    y2: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    row0: int,
    col0: int,
    width: int,
    toggles: np.ndarray,
    on_edge: np.ndarray,
) -> None:
    """Add the crossings of non-horizontal edges to ``toggles`` and ``on_edge``.

    Edge ``e`` runs from vertex ``(x2, y2)[e]`` to ``(x, y)[e]``; the arithmetic is the
    one of regions' point-in-polygon test, evaluated in the same order.
    """
    n_rows = toggles.size // (width + 1)
    n = count[edges]
    total = int(n.sum())
    ends = np.cumsum(n)
    # window row of each crossing: the edge's first row plus the position in the edge
    local = np.repeat(first[edges] - row0 - (ends - n), n)
    local += np.arange(total, dtype=np.int64)
    ex, ey = x[edges], y[edges]
    dx, dy = x2[edges] - ex, y2[edges] - ey  # per edge: the same values as per crossing
    # xs = dx * (row - ey) / dy + ex, in place and in that order
    xs = local.astype(np.float64)
    xs += row0
    xs -= np.repeat(ey, n)
    xs *= np.repeat(dx, n)
    xs /= np.repeat(dy, n)
    xs += np.repeat(ex, n)
    # rows run from ceil(low) to floor(high): the edge crosses each of them (one end
    # above the row centre, the other not) except a last row equal to its upper end
    high = np.maximum(ey, y2[edges])
    crosses = None
    at_high = first[edges] + n - 1 == high
    if at_high.any():
        crosses = np.ones(total, bool)
        crosses[(ends - 1)[at_high]] = False
    # a centre (c, row) is inside when an odd number of crossings lie right of it
    # (c < x); a row has an even number of crossings, so that is an odd number at or
    # left of it: toggle at the first column c >= x of each crossing (counts add up
    # modulo 256 in uint8, which keeps the parity)
    start = np.ceil(xs)
    start -= col0
    index = _clip_int(start, 0, width)
    del start
    index *= n_rows
    index += local
    if crosses is not None:
        index = index[crosses]
    toggles += np.bincount(index, minlength=toggles.size).astype(np.uint8)
    del index, crosses
    # a centre on an edge (zero cross product, within the edge's x-range) is outside;
    # only a column within rounding of the crossing can be (coordinates are below
    # MAX_COORDINATE, so rounding stays far below NEAR)
    distance = np.rint(xs)
    distance -= xs
    np.abs(distance, out=distance)
    near = np.flatnonzero(distance < NEAR)
    del distance
    if near.size == 0:
        return
    column, local = np.rint(xs[near]), local[near]
    rows = (local + row0).astype(np.float64)
    edge = np.searchsorted(ends, near, side="right")
    ex, ey, ex2, ey2 = ex[edge], ey[edge], x2[edges][edge], y2[edges][edge]
    cross = (ex2 - ex) * (rows - ey) - (ey2 - ey) * (column - ex)
    on = (cross == 0.0) & (column >= np.minimum(ex, ex2)) & (column <= np.maximum(ex, ex2))
    on &= (column >= col0) & (column < col0 + width)
    on_edge[local[on] * width + column[on].astype(np.int64) - col0] = True


def _horizontal_edges(
    edges: np.ndarray,
    x: np.ndarray,
    x2: np.ndarray,
    first: np.ndarray,
    n_rows: int,
    row0: int,
    col0: int,
    col1: int,
    width: int,
) -> np.ndarray:
    """Centres on horizontal edges lying on an integer row, as a flat window mask.

    Each edge adds +1 at its first covered column and -1 past its last one; a running
    sum along the row is positive on covered centres (memory: one count per pixel).
    """
    lo = _clip_int(np.ceil(np.minimum(x[edges], x2[edges])), col0, col1 + 1) - col0
    hi = _clip_int(np.floor(np.maximum(x[edges], x2[edges])), col0 - 1, col1) - col0
    keep = lo <= hi
    local = first[edges][keep] - row0
    lo, hi = lo[keep], hi[keep]
    size = n_rows * (width + 1)
    cover = np.bincount(local * (width + 1) + lo, minlength=size)
    cover -= np.bincount(local * (width + 1) + hi + 1, minlength=size)
    covered = np.cumsum(cover.reshape(n_rows, width + 1)[:, :width], axis=1) > 0
    return covered.ravel()


def ellipse_cost(params: np.ndarray, shape: tuple[int, int]) -> int:
    """Pixels `fill_ellipse` evaluates (its bounding box clipped to the image).

    Parameters
    ----------
    params : numpy.ndarray
        (x, y, semi-axis along x, semi-axis along y, angle in degrees), 0-based pixels.
    shape : tuple of int
        Image shape (ny, nx).

    Returns
    -------
    int
        Number of pixels; 0 when the ellipse misses the image or is empty.
    """
    window = _ellipse_window(np.asarray(params, np.float64), shape)
    if window is None:
        return 0
    r0, r1, c0, c1 = window
    return (r1 - r0 + 1) * (c1 - c0 + 1)


def _ellipse_window(params: np.ndarray, shape: tuple[int, int]):
    ny, nx = shape
    cx, cy, a, b, _ = params
    if not (a > 0 and b > 0):
        return None
    reach = max(a, b)
    r0, r1 = max(0, math.floor(cy - reach)), min(ny - 1, math.ceil(cy + reach))
    c0, c1 = max(0, math.floor(cx - reach)), min(nx - 1, math.ceil(cx + reach))
    if r1 < r0 or c1 < c0:
        return None
    return int(r0), int(r1), int(c0), int(c1)


def fill_ellipse(mask: np.ndarray, params: np.ndarray) -> None:
    """Set the pixels of ``mask`` whose centres lie strictly inside an ellipse.

    Parameters
    ----------
    mask : numpy.ndarray
        2-D boolean array, changed in place.
    params : numpy.ndarray
        (x, y, semi-axis along x, semi-axis along y, angle in degrees), 0-based pixels.
    """
    params = np.asarray(params, np.float64)
    window = _ellipse_window(params, mask.shape)
    if window is None:
        return
    r0, r1, c0, c1 = window
    cx, cy, a, b, angle = params
    t = math.radians(angle)
    cos_t, sin_t = math.cos(t), math.sin(t)
    band = max(1, _ELLIPSE_BAND_PIXELS // (c1 - c0 + 1))
    for top in range(r0, r1 + 1, band):
        bottom = min(r1, top + band - 1)
        yy, xx = np.mgrid[top : bottom + 1, c0 : c1 + 1].astype(np.float64)
        dx, dy = xx - cx, yy - cy
        u = dx * cos_t + dy * sin_t
        v = -dx * sin_t + dy * cos_t
        mask[top : bottom + 1, c0 : c1 + 1] |= (u / a) ** 2 + (v / b) ** 2 < 1.0

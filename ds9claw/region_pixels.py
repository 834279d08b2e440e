"""Image and physical shapes -> pixels, rasterised here without the ``regions`` package.

``physical`` shapes are converted to ``image`` with the exposure's ``LTV``/``LTM``
keywords (identity when absent): the ``regions`` package skips physical shapes with
only a warning, which silently gave empty masks before.  ``image`` polygons, boxes,
circles and ellipses are filled by `ds9claw.raster` with the rule of ``regions``'
``to_mask(mode="center")``: a pixel belongs to a shape when its centre does.  This
avoids importing ``regions`` (half a second) on the hot path; the test suite checks
pixel-for-pixel agreement with ``regions`` on every real region file.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import RegionError
from .raster import MAX_COORDINATE, ellipse_cost, fill_ellipse, fill_polygon, polygon_cost
from .region_limits import RasterBudget
from .region_parse import RegionShape

__all__ = [
    "DIRECT_SHAPES",
    "fill_shape",
    "physical_to_image",
    "pixel_shape_params",
    "rasterize_shape",
]

#: Shapes rasterised here when written with plain numbers in a pixel system.
DIRECT_SHAPES = frozenset({"polygon", "box", "circle", "ellipse"})
#: Largest coordinate or size (pixels) of a shape.
_MAX_COORDINATE = MAX_COORDINATE


def physical_to_image(header) -> np.ndarray | None:
    """Affine matrix [[a, b, c], [d, e, f]] mapping physical (x, y) to image, or None."""
    if header is None:
        return None
    ltm = np.array(
        [
            [float(header.get("LTM1_1", 1.0)), float(header.get("LTM1_2", 0.0))],
            [float(header.get("LTM2_1", 0.0)), float(header.get("LTM2_2", 1.0))],
        ]
    )
    ltv = np.array([float(header.get("LTV1", 0.0)), float(header.get("LTV2", 0.0))])
    return np.column_stack([ltm, ltv])


def pixel_shape_params(shape: RegionShape, header) -> tuple[str, np.ndarray]:
    """Shape in 0-based image pixels: (kind, parameters)."""
    try:
        values = np.array(shape.args, dtype=np.float64)
    except ValueError:
        raise RegionError(f"non-numeric argument in {shape.ds9()}") from None
    if values.size and not np.abs(values).max() <= _MAX_COORDINATE:  # also inf, NaN
        raise RegionError(
            f"a coordinate of {shape.ds9()[:60]}... is not a finite number below "
            f"{_MAX_COORDINATE:.0e} pixels"
        )
    affine = None
    scale = 1.0
    if shape.system == "physical":
        affine = physical_to_image(header)
        if affine is not None:
            scale = math.sqrt(abs(np.linalg.det(affine[:, :2])))

    def points(xy: np.ndarray) -> np.ndarray:
        xy = xy.reshape(-1, 2)
        if affine is not None:
            xy = xy @ affine[:, :2].T + affine[:, 2]
        return xy - 1.0  # DS9 pixels are 1-based

    if shape.name == "polygon":
        if values.size < 6 or values.size % 2:
            raise RegionError(f"polygon needs at least 3 vertex pairs: {shape.ds9()}")
        return "polygon", points(values)
    if shape.name == "circle" and values.size == 3:
        return "ellipse", np.r_[points(values[:2])[0], values[2] * scale, values[2] * scale, 0.0]
    if shape.name == "ellipse" and values.size in (4, 5):
        angle = values[4] if values.size == 5 else 0.0
        return "ellipse", np.r_[points(values[:2])[0], values[2:4] * scale, angle]
    if shape.name == "box" and values.size in (4, 5):
        angle = values[4] if values.size == 5 else 0.0
        cx, cy = points(values[:2])[0]
        w, h = values[2] * scale / 2, values[3] * scale / 2
        t = math.radians(angle)
        corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]])
        rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
        return "polygon", corners @ rot.T + [cx, cy]
    raise RegionError(f"cannot use {shape.ds9()}: wrong number of arguments for a {shape.name}")


def rasterize_shape(kind: str, params: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centres lie inside a pixel-coordinate shape.

    Parameters
    ----------
    kind : {"polygon", "ellipse"}
        ``polygon``: ``params`` is an (N, 2) array of 0-based (x, y) vertices.
        ``ellipse``: ``params`` is (x, y, semi-axis along x, semi-axis along y, angle deg).
    params : numpy.ndarray
        Shape parameters.
    shape : tuple of int
        Image shape (ny, nx).

    Returns
    -------
    numpy.ndarray
        Boolean mask of ``shape``; parts outside the image are dropped.
    """
    mask = np.zeros(shape, bool)
    if kind == "polygon":
        fill_polygon(mask, np.asarray(params, np.float64))
    else:
        fill_ellipse(mask, np.asarray(params, np.float64))
    return mask


def fill_shape(
    target: np.ndarray, kind: str, params: np.ndarray, budget: RasterBudget, where: str
) -> None:
    """Charge the shape's work to ``budget``, then set its pixels in ``target``."""
    if not np.abs(params).max() <= _MAX_COORDINATE:  # also NaN (sky points behind the WCS)
        raise RegionError(
            f"{where}: the shape does not fit on this image (a coordinate is beyond "
            f"{_MAX_COORDINATE:g} pixels or undefined)"
        )
    if kind == "polygon":
        budget.charge(polygon_cost(params, target.shape), where)
        fill_polygon(target, params)
    else:
        budget.charge(ellipse_cost(params, target.shape), where)
        fill_ellipse(target, params)

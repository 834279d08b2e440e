"""Masks -> DS9 polygons: trace the outline of each group of pixels, write region text.

``scipy`` and ``scikit-image`` are imported only when a mask is traced.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["mask_to_polygons", "polygons_to_ds9"]


def mask_to_polygons(
    mask: np.ndarray, *, tolerance: float = 0.75, min_pixels: int = 4, margin: int = 0
) -> list[np.ndarray]:
    """Trace the outlines of a 0/1 mask into polygons.

    Each 8-connected group of at least ``min_pixels`` pixels gives one polygon around
    its outer boundary (holes are not traced), simplified with a Douglas-Peucker
    tolerance in pixels.

    Parameters
    ----------
    mask : numpy.ndarray
        Boolean or 0/1 array.
    tolerance : float
        Largest distance (pixels) the simplified outline may depart from the traced one.
    min_pixels : int
        Smaller groups are ignored.
    margin : int
        Grow the mask by this many pixels (8-connected) before tracing, so that the
        polygons hold the masked pixels with some sky around them: a detection run
        again inside them has background pixels to measure the noise on, and nearby
        specks become one polygon instead of many.

    Returns
    -------
    list of numpy.ndarray
        (N, 2) arrays of 0-based (x, y) vertices, largest group first.
    """
    from scipy import ndimage
    from skimage.measure import approximate_polygon, find_contours

    mask = np.asarray(mask) > 0
    if margin > 0:
        mask = ndimage.binary_dilation(mask, structure=np.ones((3, 3), bool), iterations=margin)
    labels, _count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    polygons: list[tuple[int, np.ndarray]] = []
    for index, region in enumerate(ndimage.find_objects(labels), start=1):
        if region is None:
            continue
        component = labels[region] == index
        area = int(component.sum())
        if area < min_pixels:
            continue
        filled = ndimage.binary_fill_holes(component)
        padded = np.pad(filled, 1).astype(np.float64)
        contours = find_contours(padded, 0.5)
        if not contours:
            continue
        outline = max(contours, key=len)
        outline = approximate_polygon(outline, tolerance=tolerance)
        if outline.shape[0] > 3 and np.allclose(outline[0], outline[-1]):
            outline = outline[:-1]
        rows = outline[:, 0] - 1 + region[0].start
        cols = outline[:, 1] - 1 + region[1].start
        polygons.append((area, np.column_stack([cols, rows])))
    polygons.sort(key=lambda item: -item[0])
    return [p for _, p in polygons]


def polygons_to_ds9(
    polygons: Sequence[np.ndarray], *, exclude: bool = False, color: str = "magenta"
) -> str:
    """Write polygons as DS9 region text (format 4.1, image coordinates, 1-based).

    Parameters
    ----------
    polygons : sequence of numpy.ndarray
        (N, 2) arrays of 0-based (x, y) vertices.
    exclude : bool
        Write them as exclusion shapes (``-polygon``).
    color : str
        DS9 colour of the shapes.

    Returns
    -------
    str
        Region file text.
    """
    lines = [
        "# Region file format: DS9 version 4.1",
        f'global color={color} dashlist=8 3 width=1 font="helvetica 10 normal roman" '
        "select=1 highlite=1 dash=0 fixed=0 edit=1 move=1 delete=1 include=1 source=1",
        "image",
    ]
    sign = "-" if exclude else ""
    for polygon in polygons:
        coords = ",".join(f"{v + 1:.2f}" for xy in np.asarray(polygon) for v in xy)
        lines.append(f"{sign}polygon({coords}) # text={{ds9claw}}")
    return "\n".join(lines) + "\n"

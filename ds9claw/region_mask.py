"""DS9 region sources -> boolean include and exclude masks on an image grid.

Each source is parsed (`ds9claw.region_parse`); pixel shapes are rasterised directly
(`ds9claw.region_pixels`), everything else with an area through the ``regions`` package
(`ds9claw.region_bridge`).  What a region may cost is bounded by the limits of
`ds9claw.region_limits` (shapes, vertices, rasterising work); memory follows the image,
not the number of vertices.

Shapes without area (point, line, text, vector, ruler, compass, projection) are
skipped with a warning; an include set left empty by that, or lying entirely outside
the image, or in a sky system on an image without WCS, is a `RegionError` naming the
source and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import RegionError
from .region_bridge import regions_package_masks
from .region_limits import RasterBudget
from .region_parse import PIXEL_SYSTEMS, RegionShape, RegionSource, parse_region_text
from .region_pixels import DIRECT_SHAPES, fill_shape, pixel_shape_params

__all__ = ["region_masks"]

_log = logging.getLogger(__name__)


def region_masks(
    shape: tuple[int, int],
    include: Sequence[RegionSource | str | Path] = (),
    exclude: Sequence[RegionSource | str | Path] = (),
    *,
    header=None,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Rasterise include and exclude region sources on an image grid.

    Shapes written with DS9's ``-`` sign count as exclusions wherever they appear.

    Parameters
    ----------
    shape : tuple of int
        Image shape (ny, nx).
    include, exclude : sequence of RegionSource, str or pathlib.Path
        Region sources (paths are read as DS9 region files).
    header : astropy.io.fits.Header, optional
        Header of the image: its WCS converts sky shapes, its LTV/LTM keywords physical
        shapes.

    Returns
    -------
    include_mask, exclude_mask : numpy.ndarray or None
        Boolean masks, or ``None`` when there was nothing of that kind.

    Raises
    ------
    RegionError
        When a source cannot be read, has no usable include shape, lies outside the
        image, or needs a WCS the image lacks.
    """
    include_mask = np.zeros(shape, bool) if include else None
    exclude_mask = np.zeros(shape, bool)
    any_exclude = False
    budget = RasterBudget(shape)
    for sources, as_exclude in ((include, False), (exclude, True)):
        for value in sources:
            source = RegionSource.coerce(value)
            plus, minus, n_plus = _source_masks(source, shape, header, budget)
            if as_exclude:
                exclude_mask |= plus | minus
                any_exclude = any_exclude or n_plus > 0 or minus.any()
                continue
            if n_plus == 0:
                what = "only exclusion shapes" if minus.any() else "no shape with an area"
                raise RegionError(
                    f"{source.name}: {what} to include; draw a polygon around the claw "
                    "(include=1, not '-polygon')"
                )
            if not plus.any():
                raise RegionError(
                    f"{source.name}: the include shapes lie entirely outside the "
                    f"{shape[1]}x{shape[0]} image: were they drawn on another exposure?"
                )
            assert include_mask is not None
            include_mask |= plus
            if minus.any():
                exclude_mask |= minus
                any_exclude = True
    return include_mask, (exclude_mask if any_exclude else None)


def _source_masks(
    source: RegionSource, shape: tuple[int, int], header, budget: RasterBudget
) -> tuple[np.ndarray, np.ndarray, int]:
    """(include mask, exclusion-shape mask, number of include shapes with area)."""
    shapes = parse_region_text(source)
    plus = np.zeros(shape, bool)
    minus = np.zeros(shape, bool)
    n_plus = 0
    via_regions: list[RegionShape] = []
    for item in shapes:
        if not item.has_area:
            _log.warning(
                "%s, line %d: skipping %s (it has no area)", source.name, item.line, item.name
            )
            continue
        if item.system in PIXEL_SYSTEMS and item.name in DIRECT_SHAPES and item.numeric:
            try:
                kind, params = pixel_shape_params(item, header)
            except RegionError as error:
                raise RegionError(f"{source.name}, line {item.line}: {error}") from None
            where = f"{source.name}, line {item.line}"
            fill_shape(plus if item.include else minus, kind, params, budget, where)
        elif item.system in {"linear", "amplifier", "detector"}:
            raise RegionError(
                f"{source.name}, line {item.line}: {item.system} coordinates are not supported;"
                " save the regions in image or fk5 coordinates"
            )
        else:
            via_regions.append(item)
        n_plus += item.include
    if via_regions:
        regions_package_masks(via_regions, source, shape, header, plus, minus, budget)
    return plus, minus, n_plus

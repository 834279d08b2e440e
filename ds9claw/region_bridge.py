"""The bridge to the ``regions`` package: sky shapes, annuli and other rare shapes.

Shapes in sky systems (``fk5``, ``icrs``, ``galactic``, ``ecliptic`` ...) and shapes with
an area other than polygons, boxes, circles and ellipses (annuli, pandas) go through ``regions``
(``Regions.parse(..., format="ds9")`` and ``to_pixel(wcs)``); polygons converted to
pixels are then filled by `ds9claw.raster` like image polygons, other shapes by
``regions``' ``to_mask`` after a check of their bounding box.  ``regions`` and
``astropy.wcs`` are imported only when such a shape is met.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import RegionError
from .region_limits import MAX_REGIONS_BOX, RasterBudget
from .region_parse import SKY_SYSTEMS, RegionShape, RegionSource
from .region_pixels import fill_shape, physical_to_image

__all__ = ["regions_package_masks"]


def regions_package_masks(
    shapes: list[RegionShape],
    source: RegionSource,
    shape: tuple[int, int],
    header,
    plus: np.ndarray,
    minus: np.ndarray,
    budget: RasterBudget,
) -> None:
    """Rasterise shapes that need the ``regions`` package (sky systems, annuli ...).

    Polygons converted to pixels are filled by `ds9claw.raster` (same rule, bounded
    memory); other shapes by ``regions``, after a check of their bounding box.
    """
    import warnings

    from regions import PixelRegion, PolygonPixelRegion, Regions

    wcs = None
    for item in shapes:
        if item.system in SKY_SYSTEMS and wcs is None:
            wcs = _celestial_wcs(header, source, item)
        system = item.system
        text = item.ds9()
        if system == "physical":
            # regions skips physical shapes; they are simple enough to move to image
            affine = physical_to_image(header)
            text = _physical_text_to_image(item, affine)
            system = "image"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                parsed = Regions.parse(f"{system}\n{text}", format="ds9")
            except Exception as error:
                raise RegionError(
                    f"{source.name}, line {item.line}: cannot read {text[:60]!r} ({error})"
                ) from None
        if len(parsed) == 0:
            reason = "; ".join(str(w.message) for w in caught) or "unsupported shape"
            raise RegionError(f"{source.name}, line {item.line}: {reason}")
        where = f"{source.name}, line {item.line}"
        target = plus if item.include else minus
        for region in parsed:
            if not isinstance(region, PixelRegion):
                region = region.to_pixel(wcs)
            if isinstance(region, PolygonPixelRegion):
                vertices = np.column_stack([region.vertices.x, region.vertices.y])
                fill_shape(target, "polygon", vertices, budget, where)
                continue
            try:
                box = region.bounding_box.shape[0] * region.bounding_box.shape[1]
            except (ValueError, OverflowError) as error:  # e.g. an infinite radius
                raise RegionError(f"{where}: cannot place {text[:60]!r} ({error})") from None
            if box > MAX_REGIONS_BOX:
                shown = f"{box:,}" if box < 10**12 else "over 10^12"
                raise RegionError(
                    f"{where}: the {item.name} spans {shown} pixels on this image, more than "
                    f"the limit of {MAX_REGIONS_BOX} for this kind of shape: make it smaller"
                    " or save it in image coordinates"
                )
            budget.charge(2 * box, where)
            region_mask = region.to_mask(mode="center").to_image(shape)
            if region_mask is not None:
                target |= region_mask.astype(bool)


def _physical_text_to_image(item: RegionShape, affine: np.ndarray | None) -> str:
    if affine is None or not item.numeric:
        return item.ds9()
    values = [float(a) for a in item.args]
    scale = math.sqrt(abs(np.linalg.det(affine[:, :2])))
    if item.name in {"annulus"}:
        xy = np.array(values[:2]) @ affine[:, :2].T + affine[:, 2]
        values = [*xy, *(v * scale for v in values[2:])]
    args = ",".join(f"{v:.10g}" for v in values)
    sign = "" if item.include else "-"
    return f"{sign}{item.name}({args})"


def _celestial_wcs(header, source: RegionSource, item: RegionShape):
    if header is None:
        raise RegionError(
            f"{source.name}, line {item.line}: {item.system} (sky) coordinates need an image "
            "with a WCS; this image has none: save the regions in image coordinates"
        )
    import warnings

    from astropy.wcs import WCS, FITSFixedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            wcs = WCS(header, naxis=2)
        except Exception as error:
            raise RegionError(f"{source.name}: the image WCS cannot be read ({error})") from None
    if not wcs.has_celestial:
        raise RegionError(
            f"{source.name}, line {item.line}: {item.system} (sky) coordinates need an image "
            "with a celestial WCS; this image has none: save the regions in image coordinates"
        )
    return wcs

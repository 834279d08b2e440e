"""Holes that masking leaves in a mosaic: pure functions on numpy arrays.

A *hole* is a mosaic pixel that some exposure covered before the claw masks were
applied and that no exposure covers after (drizzle weight > 0 before, 0 after).  With
enough dithers the other exposures fill the masked sky and there is none; otherwise
the final image3 mosaic shows them as empty (NaN or zero) pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "FILL_HOLES_SUGGESTION",
    "HoleArea",
    "HoleReport",
    "changed_most",
    "describe_holes",
    "find_holes",
]

#: What the preview tells the observer when the masks leave holes.
FILL_HOLES_SUGGESTION = (
    "to fill them, make the masks smaller (ds9claw detect with less --smooth or a higher "
    "--sigma) or add dithers that cover those areas"
)


@dataclass(frozen=True)
class HoleArea:
    """One connected group of hole pixels (8-connected).

    Attributes
    ----------
    label : int
        1-based number of the area, largest first.
    n_pixels : int
        Mosaic pixels in it.
    area_arcsec2 : float
        Its area on the sky.
    centre : tuple of float
        0-based mosaic ``(x, y)`` of its centroid.
    bbox : tuple of int
        ``(x0, y0, x1, y1)``, 0-based, inclusive.
    """

    label: int
    n_pixels: int
    area_arcsec2: float
    centre: tuple[float, float]
    bbox: tuple[int, int, int, int]


@dataclass
class HoleReport:
    """What the masks leave uncovered in one mosaic.

    Attributes
    ----------
    n_pixels : int
        Hole pixels in total.
    area_arcsec2 : float
        Their area on the sky.
    pixel_area_arcsec2 : float
        Area of one mosaic pixel.
    areas : list of HoleArea
        Connected areas, largest first.
    by_mask : dict
        Mask file name -> hole pixels that lie on that mask (one hole pixel can lie on
        several masks).
    """

    n_pixels: int
    area_arcsec2: float
    pixel_area_arcsec2: float
    areas: list[HoleArea] = field(default_factory=list)
    by_mask: dict[str, int] = field(default_factory=dict)

    @property
    def largest(self) -> HoleArea | None:
        """The largest area, or None without holes."""
        return self.areas[0] if self.areas else None

    def summary(self) -> str:
        """One line: the number of hole pixels, their area, the largest and the masks."""
        if not self.n_pixels:
            return "no holes: the other dithers cover every masked pixel"
        big = self.largest
        assert big is not None
        text = (
            f"holes: {self.n_pixels} mosaic pixels ({self.area_arcsec2:.3g} arcsec^2) in "
            f"{len(self.areas)} area{'s' if len(self.areas) != 1 else ''}; largest "
            f"{big.n_pixels} pixels ({big.area_arcsec2:.3g} arcsec^2) at x={big.centre[0] + 1:.0f}"
            f" y={big.centre[1] + 1:.0f}"
        )
        if self.by_mask:
            names = ", ".join(f"{name} ({n})" for name, n in self.by_mask.items())
            text += f"; from masks {names}"
        return text


def find_holes(weight_before: np.ndarray, weight_after: np.ndarray) -> np.ndarray:
    """Mosaic pixels covered before masking and not after.

    Parameters
    ----------
    weight_before, weight_after : numpy.ndarray
        Drizzle weight maps (``wht``) of the two mosaics, on the same grid.

    Returns
    -------
    numpy.ndarray
        Boolean, True on the holes.

    Raises
    ------
    ValueError
        When the shapes differ.
    """
    before = np.asarray(weight_before)
    after = np.asarray(weight_after)
    if before.shape != after.shape:
        raise ValueError(f"weight maps differ in shape: {before.shape} and {after.shape}")
    with np.errstate(invalid="ignore"):
        return (before > 0) & ~(after > 0)


def describe_holes(
    holes: np.ndarray,
    pixel_area_arcsec2: float,
    mask_hits: Mapping[str, np.ndarray] | None = None,
) -> HoleReport:
    """Count the hole pixels, group them into connected areas and name their masks.

    Parameters
    ----------
    holes : numpy.ndarray
        Boolean hole image (`find_holes`).
    pixel_area_arcsec2 : float
        Sky area of one mosaic pixel.
    mask_hits : mapping of str to numpy.ndarray, optional
        Mask name -> boolean array over the hole pixels (in the order of
        ``np.flatnonzero(holes)``), True where the hole pixel lies on that mask.

    Returns
    -------
    HoleReport
    """
    from scipy import ndimage

    holes = np.asarray(holes, dtype=bool)
    n_total = int(np.count_nonzero(holes))
    report = HoleReport(
        n_pixels=n_total,
        area_arcsec2=n_total * pixel_area_arcsec2,
        pixel_area_arcsec2=pixel_area_arcsec2,
    )
    if not n_total:
        return report
    labels, n_labels = ndimage.label(holes, structure=np.ones((3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel(), minlength=n_labels + 1)[1:]
    slices = ndimage.find_objects(labels)
    centres = ndimage.center_of_mass(holes, labels, range(1, n_labels + 1))
    order = np.argsort(-sizes, kind="stable")
    for rank, index in enumerate(order, start=1):
        rows, cols = slices[index]
        cy, cx = centres[index]
        report.areas.append(
            HoleArea(
                label=rank,
                n_pixels=int(sizes[index]),
                area_arcsec2=float(sizes[index]) * pixel_area_arcsec2,
                centre=(float(cx), float(cy)),
                bbox=(cols.start, rows.start, cols.stop - 1, rows.stop - 1),
            )
        )
    for name, hits in (mask_hits or {}).items():
        count = int(np.count_nonzero(hits))
        if count:
            report.by_mask[name] = count
    report.by_mask = dict(sorted(report.by_mask.items(), key=lambda item: -item[1]))
    return report


def changed_most(
    before: np.ndarray, after: np.ndarray, box: int, *, holes: np.ndarray | None = None
) -> tuple[int, int, int, int]:
    """The square of ``box`` pixels centred where the two mosaics differ most.

    The centre is the peak of ``|after - before|`` smoothed with a Gaussian of a sixth
    of the box.

    Pixels covered in one mosaic and not the other count as changed by the largest
    finite difference, so that holes draw the zoom too.

    Parameters
    ----------
    before, after : numpy.ndarray
        The two mosaics on one grid.
    box : int
        Side of the square (clipped to the image).
    holes : numpy.ndarray, optional
        Hole pixels, counted as maximally changed.

    Returns
    -------
    tuple of int
        ``(x0, y0, x1, y1)``: 0-based, end exclusive.
    """
    from scipy import ndimage

    diff = np.abs(np.asarray(after, float) - np.asarray(before, float))
    finite = np.isfinite(diff)
    top = float(diff[finite].max()) if finite.any() else 1.0
    diff[~finite] = 0.0
    if holes is not None:
        diff[holes] = top
    ny, nx = diff.shape
    side_y, side_x = min(box, ny), min(box, nx)
    # a Gaussian rather than a box sum: every box holding all of a small change has
    # the same sum, the Gaussian peaks where the change is centred
    smoothed = ndimage.gaussian_filter(diff, sigma=(side_y / 6, side_x / 6), mode="constant")
    cy, cx = np.unravel_index(int(np.argmax(smoothed)), smoothed.shape)
    y0 = int(np.clip(cy - side_y // 2, 0, ny - side_y))
    x0 = int(np.clip(cx - side_x // 2, 0, nx - side_x))
    return x0, y0, x0 + side_x, y0 + side_y

"""Claw candidates from the dithers of a visit: a pure function on arrays.

Claws (and wisps) stay at the same place on the detector from dither to dither, while
the sky moves by the dither offsets.  `find_candidates` uses that twice:

1. every exposure is binned (``bin_factor`` x ``bin_factor``, valid pixels only) and
   put in units of its own noise, so exposures of different depth weigh alike;
2. the sky of exposure *i* is modelled by the median of the *other* exposures moved
   onto *i*'s pixels by the dither offsets; subtracting it removes stars, galaxies and
   real extended emission (all fixed on the sky) and keeps what is fixed on the
   detector.  Where that sky model is bright (a source), and wider around very bright
   ones (their wings), the pixels are masked, since small registration errors leave
   residuals there;
3. the residuals are smoothed (a Gaussian in binned pixels, weighted by the valid
   pixels) into significance maps: one per exposure, and one of their median in
   detector coordinates (the stack), which is what claws present in every dither add
   up in;
4. a candidate starts where the stack is significant and this exposure supports it,
   or where this exposure alone is very significant (an arc seen in one dither only),
   and grows to where either map stays above a lower threshold; candidates are
   filled, grown by a margin, traced into polygons of at most ``max_vertices``
   vertices, scored by their median significance and labelled ``claw`` (thin arcs) or
   ``wisp`` (compact blobs).

Without offsets (a single exposure) step 2 is skipped: every bright extended thing is
proposed, galaxies and diffuse light included.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from .errors import ParameterError
from .find_maps import (
    bin_mean,
    median_ignoring_nan,
    significance_map,
    sky_subtracted_residuals,
    standardise,
)

__all__ = ["Candidate", "FindParameters", "FindResult", "find_candidates"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FindParameters:
    """Parameters of `find_candidates`; lengths are pixels of a 2048-pixel detector.

    Lengths given at full size scale with ``image side / 2048`` (so the scaled
    examples behave like full frames); ``bin_factor`` does too.

    Attributes
    ----------
    bin_factor : int or None
        Side of the bins the search works on (None: ``round(side / 512)``, 4 at 2048).
    smooth : float
        Gaussian stddev of the significance maps, in bins.
    threshold : float
        Stack significance that starts a candidate.
    unique_threshold : float
        Significance in one exposure alone that starts a candidate (arcs in one dither).
    grow_threshold : float
        Significance down to which a candidate grows.
    support : float
        Smallest median significance of a stack candidate in the exposure itself.
    source_threshold : float
        Sky-model significance per bin above which pixels are masked as sources.
    margin : float
        Growth of the candidates (pixels at 2048) so that ``detect`` inside them finds
        the whole claw.
    min_area : float
        Smallest candidate core, in pixels at 2048.
    max_vertices : int
        Most vertices per polygon.
    border : int
        Pixels at each edge never used (the reference border).
    wisp_fill : float
        Fraction of its bounding box's square diagonal a candidate fills above which it
        is labelled a wisp (compact) rather than a claw (a thin arc).
    """

    bin_factor: int | None = None
    smooth: float = 1.5
    threshold: float = 5.0
    unique_threshold: float = 6.0
    grow_threshold: float = 2.5
    support: float = 2.0
    source_threshold: float = 6.0
    margin: float = 12.0
    min_area: float = 3000.0
    max_vertices: int = 60
    border: int = 4
    wisp_fill: float = 0.15

    def validate(self) -> FindParameters:
        """Check the values; return self.

        Raises
        ------
        ParameterError
            For a value out of range.
        """
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            if isinstance(value, bool) or not np.isfinite(value) or value < 0:
                raise ParameterError(f"find parameter {item.name}={value!r} must be >= 0")
        if self.bin_factor is not None and int(self.bin_factor) < 1:
            raise ParameterError("bin_factor must be at least 1")
        if self.max_vertices < 4:
            raise ParameterError(f"max_vertices={self.max_vertices} must be at least 4")
        if self.grow_threshold > self.threshold:
            raise ParameterError("grow_threshold must not exceed threshold")
        return self


@dataclass(frozen=True)
class Candidate:
    """One proposed claw or wisp region of one exposure.

    Attributes
    ----------
    polygon : numpy.ndarray
        (N, 2) 0-based (x, y) vertices in the exposure's pixels.
    score : float
        Median significance of its core (smoothed noise units).
    kind : str
        ``"claw"`` or ``"wisp"``.
    area : int
        Pixels of its core (before the margin).
    """

    polygon: np.ndarray
    score: float
    kind: str
    area: int

    @property
    def label(self) -> str:
        """Text shown with the polygon: kind and score."""
        return f"{self.kind} {self.score:.1f}"


@dataclass
class FindResult:
    """Candidates of every exposure, with the maps they come from.

    Attributes
    ----------
    candidates : list of list of Candidate
        One list per exposure, strongest first.
    masks : list of numpy.ndarray
        Boolean full-size masks (the grown candidates) per exposure.
    stack_significance : numpy.ndarray
        Binned significance of the median stack.
    significance : list of numpy.ndarray
        Binned significance of each exposure's sky-subtracted residual.
    bin_factor : int
        The bin side used.
    """

    candidates: list[list[Candidate]]
    masks: list[np.ndarray]
    stack_significance: np.ndarray
    significance: list[np.ndarray] = field(default_factory=list)
    bin_factor: int = 1


def find_candidates(
    images: Sequence[np.ndarray],
    valid: Sequence[np.ndarray],
    offsets: np.ndarray | Sequence[Sequence[float]] | None = None,
    params: FindParameters | None = None,
) -> FindResult:
    """Find claw and wisp candidates in the dithers of one detector.

    Parameters
    ----------
    images : sequence of numpy.ndarray
        The exposures (2-D, same shape), any flux unit; a smooth background may remain.
    valid : sequence of numpy.ndarray
        Boolean masks of usable pixels (DQ and NaN already applied), one per image.
    offsets : array-like of shape (N, 2), optional
        (x, y) pixels by which the sky moves on the detector from exposure 0 to each
        exposure (a sky point at pixel p of exposure 0 is at p + offset in exposure i).
        Required for more than one exposure; None only for a single exposure.
    params : FindParameters, optional
        Parameters (defaults if omitted).

    Returns
    -------
    FindResult

    Raises
    ------
    ParameterError
        For inconsistent shapes, missing offsets or bad parameters.
    """
    params = (params or FindParameters()).validate()
    images, valid = _check_inputs(images, valid, offsets)
    n_images = len(images)
    ny, nx = np.shape(images[0])
    scale = nx / 2048
    factor = int(params.bin_factor or max(1, round(nx / 512)))
    binned = [bin_mean(images[i], valid[i], factor, params.border) for i in range(n_images)]
    if offsets is None:
        residuals = [standardise(mean * np.sqrt(n)) for mean, n in binned]
    else:
        shifts = np.asarray(offsets, dtype=float) / factor
        residuals = sky_subtracted_residuals(binned, shifts, params.source_threshold)
    significance = [significance_map(r, params.smooth) for r in residuals]
    median_stack = median_ignoring_nan(np.stack(residuals))
    stack_sig = significance_map(median_stack, params.smooth)
    core_area = params.min_area * scale**2 / factor**2
    margin_bins = params.margin * scale / factor
    candidates: list[list[Candidate]] = []
    masks: list[np.ndarray] = []
    for index in range(n_images):
        core, combined = _cores(stack_sig, significance[index], params, single=n_images == 1)
        found, grown = _candidates_of(core, combined, core_area, margin_bins, factor, params)
        candidates.append(found)
        full = np.zeros((ny, nx), bool)
        up = np.repeat(np.repeat(grown, factor, axis=0), factor, axis=1)
        full[: up.shape[0], : up.shape[1]] = up[:ny, :nx]
        masks.append(full)
        _log.debug("exposure %d: %d candidates", index, len(found))
    return FindResult(candidates, masks, stack_sig, significance, factor)


def _check_inputs(images, valid, offsets) -> tuple[list, list]:
    if len(images) == 0 or len(images) != len(valid):
        raise ParameterError(
            f"give one valid mask per image ({len(images)} images, {len(valid)} masks)"
        )
    shape = np.shape(images[0])
    if len(shape) != 2:
        raise ParameterError(f"images must be 2-D, not of shape {shape}")
    for image, mask in zip(images, valid, strict=True):
        if np.shape(image) != shape or np.shape(mask) != shape:
            raise ParameterError(
                f"every image and mask must have the shape {shape}; got {np.shape(image)} "
                f"and {np.shape(mask)}: group exposures of one detector and subarray"
            )
    if offsets is None and len(images) > 1:
        raise ParameterError("several exposures need their dither offsets (from their WCS)")
    if offsets is not None and np.shape(offsets) != (len(images), 2):
        raise ParameterError(f"offsets must have shape ({len(images)}, 2), not {np.shape(offsets)}")
    return list(images), list(valid)


def _cores(stack_sig, own_sig, params: FindParameters, *, single: bool):
    """Pixels of the candidates of one exposure (before filling and the margin)."""
    from scipy import ndimage

    stack = np.nan_to_num(stack_sig, nan=-np.inf)
    own = np.nan_to_num(own_sig, nan=-np.inf)
    own_known = np.isfinite(own_sig)
    combined = np.maximum(stack, own)
    if single:
        seeds = own >= params.threshold
    else:
        supported = ~own_known | (own >= params.grow_threshold)
        seeds = ((stack >= params.threshold) & supported) | (own >= params.unique_threshold)
    region = combined >= params.grow_threshold
    labels, count = ndimage.label(region, structure=np.ones((3, 3), bool))
    if count == 0:
        return np.zeros_like(region), combined
    keep = np.zeros(count + 1, bool)
    keep[np.unique(labels[seeds & region])] = True
    keep[0] = False
    core = keep[labels]
    if not single and core.any():
        # A stack candidate this exposure does not show (a claw of other dithers) is dropped.
        # Support: this exposure's median significance where the stack is significant
        # (over the whole candidate when it was started by this exposure alone).
        labels, count = ndimage.label(core, structure=np.ones((3, 3), bool))
        index = np.arange(1, count + 1)
        strong = np.where(own_known & (stack >= params.threshold), own_sig, np.nan)
        medians = ndimage.labeled_comprehension(
            strong, labels, index, _finite_median, float, np.nan
        )
        anywhere = np.where(own_known, own_sig, np.nan)
        overall = ndimage.labeled_comprehension(
            anywhere, labels, index, _finite_median, float, np.nan
        )
        medians = np.where(np.isnan(medians), overall, medians)
        good = np.concatenate([[False], ~(medians < params.support)])
        core = good[labels]
    return core, combined


def _finite_median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size >= 4 else np.nan


def _candidates_of(core, combined, core_area, margin_bins, factor, params):
    from scipy import ndimage

    from .region_pixels import rasterize_shape

    filled = ndimage.binary_fill_holes(ndimage.binary_closing(core, iterations=2) | core)
    labels, count = ndimage.label(filled, structure=np.ones((3, 3), bool))
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    big = areas >= max(core_area, 4)
    big[0] = False
    filled = big[labels]
    if margin_bins > 0 and filled.any():
        radius = int(np.ceil(margin_bins))
        yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
        disc = xx * xx + yy * yy <= margin_bins * margin_bins
        grown = ndimage.binary_dilation(filled, structure=disc)
    else:
        grown = filled
    found = []
    for corners in _polygons(grown, params.max_vertices):
        inside = rasterize_shape("polygon", corners - 0.5, grown.shape) & filled
        if not inside.any():
            continue
        score = float(np.median(combined[inside]))
        kind = _kind(inside, params.wisp_fill)
        full = corners * factor - 0.5
        found.append(Candidate(full, score, kind, int(inside.sum()) * factor * factor))
    found.sort(key=lambda c: -c.score)
    return found, grown


def _polygons(mask: np.ndarray, max_vertices: int) -> list[np.ndarray]:
    """Outline each group (corner coordinates), simplified to ``max_vertices`` at most."""
    from scipy import ndimage

    from .outline import outline_polygon, simplify_closed

    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), bool))
    result = []
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        part = labels[box] == index
        outline = outline_polygon(part)
        if len(outline) < 3:
            continue
        tolerance = 0.75
        simple = simplify_closed(outline, tolerance)
        while len(simple) > max_vertices:
            tolerance *= 1.4
            simple = simplify_closed(outline, tolerance)
        result.append(simple + np.array([box[1].start, box[0].start]))
    return result


def _kind(inside: np.ndarray, wisp_fill: float) -> str:
    rows, cols = np.nonzero(inside)
    diagonal2 = float((np.ptp(rows) + 1) ** 2 + (np.ptp(cols) + 1) ** 2)
    return "wisp" if inside.sum() / diagonal2 > wisp_fill else "claw"

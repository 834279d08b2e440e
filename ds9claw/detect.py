"""Claw detection: pure functions on numpy arrays (no files, no DS9, no data models).

The algorithm keeps the meaning of the observers' script
``util_detect_source_and_create_seed_image.py`` (Crab.Toolkit.JWST) so that its
commands carry over, and fixes what that script gets wrong:

1. Valid pixels are finite and free of the invalid DQ bits (the caller passes them).
2. Background and noise:

   * ``ignore_background=True``: the background is zero and the noise is the
     sigma-clipped standard deviation of the valid pixels inside the include region,
     measured twice, the second time without the pixels beyond ``lsigma``/``usigma``
     times the first estimate (as the old script does).
   * otherwise: a 2-D background estimated from the valid pixels *around* the region
     (its bounding box grown by a margin), in two passes, the second one with the
     bright pixels of the first pass and their surroundings masked: box medians and
     MAD noise, sparse boxes filled from their neighbours, a 3 x 3 median filter and
     bilinear interpolation, as ``photutils.background.Background2D`` does (a test
     compares the two) at a fraction of its cost (photutils alone takes over half a
     second to import).  The old script crashed here whenever an include region was
     used.

3. A pixel is detected when it is valid, above background + ``usigma`` x noise, inside
   the include region and outside the exclude region.  (The old script ignored DQ
   inside the include region; on a cal file, where DO_NOT_USE pixels are NaN, the two
   agree pixel for pixel, which a test checks.)
4. ``median_filter`` (size; 1 is a no-op), then ``minpixarea``: a detected pixel is kept
   only when at least that many of its 8 neighbours are detected (the old script's
   meaning), then ``min_area``: connected groups (8-connectivity) smaller than that
   many pixels are dropped (what the name suggests).
5. ``smooth``: the 0/1 map is convolved with a normalised Gaussian of that standard
   deviation (pixels), values below ``smooth_cutoff`` are set to zero; this float map
   is the *seed image*, and ``seed > 0`` is the *zero-one mask*.

Everything is computed on the bounding box of the include region plus a margin and
placed in a full-size array, so the cost follows the region, not the frame.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .background import clipped_std, estimate_background
from .errors import ParameterError
from .filters import neighbour_filter, remove_small_groups
from .parameters import MAX_MEDIAN_FILTER, MAX_SMOOTH, DetectionParameters
from .smoothing import gaussian_kernel_1d, smooth_image, smooth_mask

__all__ = [
    "MAX_MEDIAN_FILTER",
    "MAX_SMOOTH",
    "DetectionParameters",
    "DetectionResult",
    "NoDetectionWarning",
    "detect_claws",
    "gaussian_kernel_1d",
    "neighbour_filter",
    "remove_small_groups",
    "smooth_mask",
]

_log = logging.getLogger(__name__)

#: Extra pixels around the include region's bounding box used for the background
#: estimate when ``box_size`` does not ask for more.
BACKGROUND_MARGIN = 64
class NoDetectionWarning(UserWarning):
    """Nothing was detected: the mask is empty (this is not an error)."""


@dataclass
class DetectionResult:
    """What `detect_claws` found.

    Attributes
    ----------
    seed : numpy.ndarray
        Full-frame float32 seed image (0..1 after smoothing; 0/1 without).
    mask : numpy.ndarray
        Full-frame boolean mask (``seed > 0``).
    window : tuple of slice
        The part of the frame that was computed (include bounding box plus margin).
    rms_value : float
        The noise value used in the threshold.
    background : numpy.ndarray or None
        Background over ``window`` (float32), or ``None`` when ignored.
    rms : numpy.ndarray or None
        Noise map over ``window`` (float32), or ``None`` when ignored.
    valid : numpy.ndarray
        Valid pixels used for the statistics, over ``window``.
    params : DetectionParameters
        The parameters used.
    """

    seed: np.ndarray
    mask: np.ndarray
    window: tuple[slice, slice]
    rms_value: float
    background: np.ndarray | None
    rms: np.ndarray | None
    valid: np.ndarray
    params: DetectionParameters = field(default_factory=DetectionParameters)

    @property
    def n_masked(self) -> int:
        """Number of pixels in the mask."""
        return int(np.count_nonzero(self.mask[self.window]))

    def full_frame(self, window_array: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Place an array computed over ``window`` into a full-frame array.

        Parameters
        ----------
        window_array : numpy.ndarray
            Array of the window's shape (e.g. ``background``).
        fill : float
            Value outside the window.

        Returns
        -------
        numpy.ndarray
            Array of the frame's shape.
        """
        out = np.full(self.mask.shape, fill, dtype=window_array.dtype)
        out[self.window] = window_array
        return out


def detect_claws(
    image: np.ndarray,
    *,
    valid: np.ndarray | None = None,
    include: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    params: DetectionParameters | None = None,
    diagnostics: bool = False,
) -> DetectionResult:
    """Detect a claw (or any faint extended emission) inside an include region.

    Parameters
    ----------
    image : numpy.ndarray
        2-D science image.
    valid : numpy.ndarray, optional
        Boolean array, ``True`` for pixels usable in statistics (default: finite pixels).
    include : numpy.ndarray, optional
        Boolean array of the region to search (default: the whole frame).
    exclude : numpy.ndarray, optional
        Boolean array of pixels never to detect nor use.
    params : DetectionParameters, optional
        Detection parameters (defaults as in the old script).
    diagnostics : bool
        Also compute the full noise map of the background mode (slower).

    Returns
    -------
    DetectionResult
        Seed image, mask and the statistics used.

    Raises
    ------
    ParameterError
        For a bad parameter, shapes that differ, a non-2-D image, an empty include
        region, or a region without any valid pixel.

    Warns
    -----
    NoDetectionWarning
        When the mask is empty.
    """
    params = (params or DetectionParameters()).validate()
    image = np.asarray(image)
    if image.ndim != 2:
        raise ParameterError(f"the image must be 2-D, got {image.ndim}-D with shape {image.shape}")
    for name, array in (("valid", valid), ("include", include), ("exclude", exclude)):
        if array is not None and np.shape(array) != image.shape:
            raise ParameterError(
                f"{name} mask shape {np.shape(array)} differs from image shape {image.shape}"
            )
    if include is not None and not include.any():
        raise ParameterError("the include region is empty: it covers no pixel of the image")
    return _detect(image, valid, include, exclude, params, diagnostics)


def _detect(
    image: np.ndarray,
    valid: np.ndarray | None,
    include: np.ndarray | None,
    exclude: np.ndarray | None,
    params: DetectionParameters,
    diagnostics: bool,
) -> DetectionResult:
    box_sizes = _box_sizes(image.shape, params)
    margin = _window_margin(params, box_sizes)
    window = _window(include, image.shape, margin)
    img = np.asarray(image[window], dtype=np.float64)
    ok = np.isfinite(img) if valid is None else (valid[window] & np.isfinite(img))
    allowed = np.ones(img.shape, bool) if include is None else include[window].copy()
    if exclude is not None:
        allowed &= ~exclude[window]
        ok &= ~exclude[window]
    in_region = ok & allowed
    if not in_region.any():
        raise ParameterError(
            "no valid pixel inside the include region (all NaN or flagged in DQ): "
            "check the DQ flags or draw the region on good pixels"
        )
    if params.smooth_in_advance > 0:
        img = smooth_image(img, ok, params.smooth_in_advance)

    upper = params.upper_sigma
    if params.ignore_background:
        background = None
        rms_map = None
        rms_value = _noise_without_background(img[in_region], params)
        threshold: np.ndarray | float = upper * rms_value
    else:
        background, rms_map, rms_value = estimate_background(
            img, ok, box_sizes, upper, want_rms_map=diagnostics
        )
        threshold = background + upper * rms_value
    if not math.isfinite(rms_value) or rms_value <= 0:
        raise ParameterError(
            "the noise inside the region is zero or undefined: the image is constant or has "
            "too few valid pixels there"
        )
    _log.debug("noise %.6g, threshold %.3g sigma", rms_value, upper)

    # only valid pixels can be detected: a flagged (hot, saturated, jump ...) pixel that
    # happens to be finite says nothing about the claw
    seed_window = _seed_from_detected((img > threshold) & in_region, params)
    if exclude is not None:
        seed_window[exclude[window]] = 0.0  # excluded pixels stay out, smoothing or not
    seed = np.zeros(image.shape, np.float32)
    seed[window] = seed_window
    mask = np.zeros(image.shape, bool)
    mask[window] = seed_window > 0
    result = DetectionResult(
        seed=seed,
        mask=mask,
        window=window,
        rms_value=float(rms_value),
        background=None if background is None else background.astype(np.float32),
        rms=None if rms_map is None else rms_map.astype(np.float32),
        valid=in_region,
        params=params,
    )
    if result.n_masked == 0:
        warnings.warn(
            f"nothing detected above {upper:g} sigma in the region: the mask is empty "
            "(lower `sigma` to find fainter emission)",
            NoDetectionWarning,
            stacklevel=2,
        )
    return result


def _noise_without_background(region_values: np.ndarray, params: DetectionParameters) -> float:
    """Noise of a sky-subtracted region, from its pixels near zero (`ignore_background`)."""
    lower, upper = params.lower_sigma, params.upper_sigma
    rms1 = clipped_std(region_values)
    nonbright = (region_values > -lower * rms1) & (region_values < upper * rms1)
    rms_value = clipped_std(region_values[nonbright])
    level = float(np.median(region_values))
    if not math.isfinite(rms_value) or level > upper * rms1:
        _log.warning(
            "the region's median (%.4g) is %.1f times its noise above zero: this image "
            "does not look sky-subtracted, so `ignore_background=True` will flag most of the "
            "region; drop `ignore_background` to estimate the background",
            level,
            level / rms1 if rms1 > 0 else float("inf"),
        )
    if not math.isfinite(rms_value):
        rms_value = rms1  # no pixel near zero to refine the estimate with
    return rms_value


def _seed_from_detected(detected: np.ndarray, params: DetectionParameters) -> np.ndarray:
    """Clean the pixels above threshold (median, neighbours, small groups), then smooth."""
    if params.median_filter > 1:
        from .filters import binary_median_filter

        detected = binary_median_filter(detected, params.median_filter)
    if params.minpixarea > 0:
        detected = neighbour_filter(detected, params.minpixarea)
    if params.min_area > 1:
        detected = remove_small_groups(detected, params.min_area)
    if params.smooth > 0:
        return smooth_mask(detected, params.smooth, cutoff=params.smooth_cutoff)
    return detected.astype(np.float64)


def _box_sizes(shape: tuple[int, ...], params: DetectionParameters) -> tuple[int, int]:
    side = min(shape)
    if params.box_size is not None:
        return params.box_size, params.box_size
    if params.box_frac is not None:
        size = max(4, round(params.box_frac * side))
        return size, size
    return max(4, side // 10), max(4, side // 30)


def _window_margin(params: DetectionParameters, box_sizes: tuple[int, int]) -> int:
    margin = 2 + params.median_filter
    if params.smooth > 0:
        margin += gaussian_kernel_1d(params.smooth).size // 2 + 1
    if params.smooth_in_advance > 0:
        margin += gaussian_kernel_1d(params.smooth_in_advance).size // 2 + 1
    if not params.ignore_background:
        margin = max(margin, BACKGROUND_MARGIN, box_sizes[1])
    return margin


def _window(include: np.ndarray | None, shape: tuple[int, ...], margin: int) -> tuple[slice, slice]:
    if include is None:
        return slice(0, shape[0]), slice(0, shape[1])
    rows = np.flatnonzero(include.any(axis=1))
    cols = np.flatnonzero(include.any(axis=0))
    return (
        slice(max(0, rows[0] - margin), min(shape[0], rows[-1] + 1 + margin)),
        slice(max(0, cols[0] - margin), min(shape[1], cols[-1] + 1 + margin)),
    )


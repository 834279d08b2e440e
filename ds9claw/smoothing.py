"""Gaussian smoothing of images and 0/1 maps, separable and in pure numpy.

One ``np.convolve`` per axis (`gaussian_kernel_1d`), so scipy is not imported on the
detection path.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["gaussian_kernel_1d", "smooth_image", "smooth_mask"]


def smooth_image(img: np.ndarray, ok: np.ndarray, stddev: float) -> np.ndarray:
    """Gaussian-smooth ``img`` using only ``ok`` pixels (normalised convolution)."""
    kernel = gaussian_kernel_1d(stddev)
    num = _correlate_separable(np.where(ok, img, 0.0), kernel)
    weights = _correlate_separable(ok.astype(np.float64), kernel)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / weights
    out[~ok] = np.nan
    return out


def gaussian_kernel_1d(stddev: float) -> np.ndarray:
    """Normalised 1-D Gaussian sampled at pixel centres.

    Its outer product with itself is ``astropy.convolution.Gaussian2DKernel(stddev)``
    normalised to a sum of one: the same width rule (``8 * stddev`` rounded up to an
    odd integer) and the same sampling.

    Parameters
    ----------
    stddev : float
        Standard deviation in pixels (> 0).

    Returns
    -------
    numpy.ndarray
        1-D kernel summing to 1.
    """
    size = math.ceil(8 * stddev)
    if size % 2 == 0:
        size += 1
    half = size // 2
    x = np.arange(-half, half + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / stddev) ** 2)
    return kernel / kernel.sum()


def smooth_mask(detected: np.ndarray, stddev: float, *, cutoff: float = 1e-3) -> np.ndarray:
    """Smooth a 0/1 map with a normalised Gaussian; zero the values below ``cutoff``.

    Outside the array counts as zero (as ``astropy.convolution.convolve`` with its
    default ``boundary='fill'``).

    Parameters
    ----------
    detected : numpy.ndarray
        Boolean or 0/1 array.
    stddev : float
        Gaussian standard deviation in pixels.
    cutoff : float
        Values below this become 0.

    Returns
    -------
    numpy.ndarray
        float64 seed map.
    """
    kernel = gaussian_kernel_1d(stddev)
    detected = np.asarray(detected, bool)
    out = np.zeros(detected.shape, np.float64)
    rows = np.flatnonzero(detected.any(axis=1))
    if rows.size == 0:
        return out
    cols = np.flatnonzero(detected.any(axis=0))
    half = kernel.size // 2
    # only the part the kernel reaches from a detected pixel needs computing
    box = (
        slice(max(0, rows[0] - half), min(out.shape[0], rows[-1] + half + 1)),
        slice(max(0, cols[0] - half), min(out.shape[1], cols[-1] + half + 1)),
    )
    smoothed = _correlate_separable(detected[box].astype(np.float64), kernel)
    smoothed[smoothed < cutoff] = 0.0
    out[box] = smoothed
    return out


def _correlate_separable(array: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate a 2-D array with ``kernel`` along both axes; outside counts as zero."""
    columns = _correlate_rows(np.ascontiguousarray(array.T), kernel).T
    return _correlate_rows(np.ascontiguousarray(columns), kernel)


def _correlate_rows(array: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate each row with ``kernel`` as one 1-D ``np.convolve`` over all rows.

    Every row is padded with ``len(kernel) // 2`` zeros on both sides, so no row reaches
    into the next; one call into numpy's C loop replaces a Python loop over the taps.
    """
    half = kernel.size // 2
    ny, nx = array.shape
    padded = np.zeros((ny, nx + 2 * half))
    padded[:, half : half + nx] = array
    flat = np.convolve(padded.ravel(), kernel[::-1], mode="same")
    return flat.reshape(ny, nx + 2 * half)[:, half : half + nx]

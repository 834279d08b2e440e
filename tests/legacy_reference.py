"""The observers' old detection, re-expressed step by step for parity tests.

This follows the published behaviour of ``util_detect_source_and_create_seed_image.py``
(Crab.Toolkit.JWST) in its ``--ignore-background`` mode, computed on the full frame with
the library calls it makes (``sigma_clipped_stats``, ``Gaussian2DKernel`` +
``astropy.convolution.convolve``), so that a test can compare ds9claw's zero-one mask with
what observers get today.  It is written for the tests, not copied.
"""

from __future__ import annotations

import numpy as np


def legacy_zero_one_mask(
    image: np.ndarray,
    include: np.ndarray,
    *,
    sigma: float,
    minpixarea: int,
    smooth: float,
    cutoff: float = 1e-3,
) -> np.ndarray:
    """Zero-one mask of the old script with ``--ignore-background`` and one include region."""
    from astropy.convolution import Gaussian2DKernel, convolve
    from astropy.stats import sigma_clipped_stats

    valid = include & np.isfinite(image)
    rms1 = sigma_clipped_stats(image, mask=~valid)[2]
    nonbright = (image > -sigma * rms1) & (image < sigma * rms1)
    rms2 = sigma_clipped_stats(image, mask=~(valid & nonbright))[2]
    detected = (image > sigma * rms2) & include
    arr = detected.astype(int)
    if minpixarea > 0:
        padded = np.pad(arr, 1)
        ny, nx = arr.shape
        neighbours = sum(
            padded[dy : dy + ny, dx : dx + nx]
            for dy in range(3)
            for dx in range(3)
            if (dy, dx) != (1, 1)
        )
        arr = arr * (neighbours >= minpixarea)
    arr = arr.astype(float)
    if smooth > 0:
        arr = convolve(arr, Gaussian2DKernel(x_stddev=smooth))
        arr[arr < cutoff] = 0.0
    return arr > 0

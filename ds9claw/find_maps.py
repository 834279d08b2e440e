"""The maps `ds9claw.find.find_candidates` works on: binned, sky-subtracted, significant.

Pure numpy (and ``scipy.ndimage``) functions; see `ds9claw.find` for the method.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "bin_mean",
    "finite_median_value",
    "median_ignoring_nan",
    "significance_map",
    "sky_subtracted_residuals",
    "standardise",
]

_MAD_TO_SIGMA = 1.4826


def bin_mean(
    image: np.ndarray, valid: np.ndarray, factor: int, border: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bin means of the usable pixels less the median level, and the usable counts.

    Bins with fewer than half their pixels usable are NaN.
    """
    ny, nx = np.shape(image)
    by, bx = -(-ny // factor), -(-nx // factor)
    usable = np.zeros((by * factor, bx * factor), bool)
    usable[:ny, :nx] = np.asarray(valid, bool) & np.isfinite(image)
    if border:
        usable[:border] = usable[ny - border :] = False
        usable[:, :border] = usable[:, nx - border :] = False
    values = np.zeros(usable.shape, np.float32)
    np.copyto(values[:ny, :nx], image, where=usable[:ny, :nx], casting="unsafe")
    sums = values.reshape(by * factor, bx, factor).sum(axis=2, dtype=np.float64)
    sums = sums.reshape(by, factor, bx).sum(axis=1)
    n = usable.reshape(by * factor, bx, factor).sum(axis=2, dtype=np.int32)
    n = n.reshape(by, factor, bx).sum(axis=1)
    enough = n >= max(1, factor * factor // 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(enough, sums / n, np.nan)
    level = finite_median_value(mean[enough]) if enough.any() else 0.0
    return mean - level, n


def standardise(values: np.ndarray) -> np.ndarray:
    """Divide by the robust standard deviation (MAD) of the finite values."""
    finite = values[np.isfinite(values)]
    if finite.size < 16:
        return values
    centre = np.median(finite)
    spread = _MAD_TO_SIGMA * np.median(np.abs(finite - centre))
    return (values - centre) / spread if spread > 0 else values - centre


def finite_median_value(values: np.ndarray) -> float:
    """Median of the finite values (0 when there are none)."""
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else 0.0


def median_ignoring_nan(cube: np.ndarray) -> np.ndarray:
    """Median over axis 0 ignoring NaN (NaN where all are NaN), without warnings."""
    ordered = np.sort(cube, axis=0)  # NaN sort last
    count = np.isfinite(cube).sum(axis=0)
    low = np.clip((count - 1) // 2, 0, None)
    high = np.clip(count // 2, 0, None)
    lo = np.take_along_axis(ordered, low[None], axis=0)[0]
    hi = np.take_along_axis(ordered, high[None], axis=0)[0]
    return np.where(count > 0, 0.5 * (lo + hi), np.nan)


def sky_subtracted_residuals(
    binned, shifts: np.ndarray, source_threshold: float
) -> list[np.ndarray]:
    """Each exposure minus the median of the others moved onto it, sources masked.

    The subtraction is in flux, so that the sky cancels whatever the depths; the
    residual is then put in units of its own noise.
    """
    from scipy import ndimage

    residuals = []
    for i, (target, counts) in enumerate(binned):
        moved = []
        for j, (other, _) in enumerate(binned):
            if j == i:
                continue
            dx, dy = shifts[i] - shifts[j]
            moved.append(
                ndimage.shift(
                    other, (dy, dx), order=1, mode="constant", cval=np.nan, prefilter=False
                )
            )
        weight = np.sqrt(counts)
        if not moved:
            residuals.append(standardise(target * weight))
            continue
        sky_flux = median_ignoring_nan(np.stack(moved))
        sky = standardise(sky_flux * weight)  # significance of the sky model
        bright = np.nan_to_num(sky, nan=0.0) > source_threshold
        masked = ndimage.binary_dilation(bright, iterations=1)
        very = np.nan_to_num(sky, nan=0.0) > 10 * source_threshold
        if very.any():
            masked |= ndimage.binary_dilation(very, iterations=4)
        residual = standardise(np.where(masked, np.nan, (target - sky_flux) * weight))
        target = standardise(target * weight)
        uncovered = np.isnan(sky) & np.isfinite(target)
        if uncovered.any():
            # No other exposure sees this sky: keep the exposure itself, without its
            # compact sources (what stands out of its 7 x 7 surroundings).
            rows, cols = np.nonzero(uncovered)
            box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
            local = np.nan_to_num(target[box], nan=0.0)
            compact = local - ndimage.uniform_filter(local, size=7) > source_threshold
            compact = ndimage.binary_dilation(compact, iterations=2)
            alone = np.where(compact, np.nan, target[box])
            residual[box] = np.where(uncovered[box], alone, residual[box])
        residuals.append(standardise(residual))
    return residuals


def significance_map(residual: np.ndarray, smooth: float) -> np.ndarray:
    """Weighted Gaussian smoothing, in units of its own noise (NaN where no data)."""
    from scipy import ndimage

    finite = np.isfinite(residual)
    if smooth <= 0:
        return residual
    weight = finite.astype(np.float64)
    numerator = ndimage.gaussian_filter(np.where(finite, residual, 0.0), smooth, mode="constant")
    coverage = ndimage.gaussian_filter(weight, smooth, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        sig = np.where(coverage > 0.3, numerator / np.sqrt(coverage), np.nan)
    return standardise(sig)

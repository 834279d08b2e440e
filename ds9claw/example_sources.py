"""Stars and galaxies of the synthetic example: profiles, stamps and the source field.

Pure numpy, drawn from the ``numpy.random.Generator`` given; `ds9claw.example_scene`
(one exposure) and `ds9claw.example_visit` (the dithered visit) place them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .example_scene import Claw

__all__ = [
    "MIN_SOURCES",
    "N_BRIGHT",
    "N_SOURCES",
    "STAR_SIGMA",
    "add_sources",
    "add_stamp",
    "galaxy_profile",
    "star_profile",
]

# Numbers of sources at 2048 pixels; they scale with the frame area.
#: Sources (stars and galaxies) on a 2048-pixel frame.
N_SOURCES = 320
#: Fewest sources on any frame.
MIN_SOURCES = 10
#: Bright stars (500 to 3000 background sigma) on a 2048-pixel frame.
N_BRIGHT = 4
_N_CROSSING = 3  # stars placed on the claw
#: Gaussian sigma of a star (pixels); both channels are about Nyquist sampled.
STAR_SIGMA = 0.9


def add_stamp(
    image: np.ndarray, xc: float, yc: float, half: int, profile: Callable[..., np.ndarray]
) -> None:
    """Add ``profile(dx, dy)`` on a (2 half + 1)^2 stamp around (xc, yc), clipped.

    Parameters
    ----------
    image : numpy.ndarray
        2-D image, changed in place.
    xc, yc : float
        0-based centre of the source.
    half : int
        Half-width of the stamp (pixels).
    profile : callable
        ``profile(dx, dy)`` -> values at offsets from the centre (`star_profile`,
        `galaxy_profile`).
    """
    ny, nx = image.shape
    ix, iy = round(xc), round(yc)
    x0, x1 = max(ix - half, 0), min(ix + half + 1, nx)
    y0, y1 = max(iy - half, 0), min(iy + half + 1, ny)
    if x0 >= x1 or y0 >= y1:
        return
    y, x = np.mgrid[y0:y1, x0:x1]
    image[y0:y1, x0:x1] += profile(x - xc, y - yc)


def star_profile(peak: float, sigma: float) -> Callable[..., np.ndarray]:
    """Make a star: a Gaussian core with a 5 % halo four times wider, ``peak`` high.

    Parameters
    ----------
    peak : float
        Value at the centre.
    sigma : float
        Gaussian sigma of the core (pixels), e.g. `STAR_SIGMA`.

    Returns
    -------
    callable
        ``profile(dx, dy)`` for `add_stamp`.
    """

    def profile(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        r2 = dx * dx + dy * dy
        core = np.exp(-0.5 * r2 / sigma**2)
        halo = 0.05 * np.exp(-0.5 * r2 / (4 * sigma) ** 2)
        return peak * (core + halo) / 1.05

    return profile


def galaxy_profile(
    peak: float, r_eff: float, n: float, q: float, theta: float
) -> Callable[..., np.ndarray]:
    """Make a galaxy: an elliptical Sersic profile, ``peak`` high at its centre.

    Parameters
    ----------
    peak : float
        Value at the centre.
    r_eff : float
        Effective radius along the major axis (pixels).
    n : float
        Sersic index.
    q : float
        Axis ratio (minor / major).
    theta : float
        Position angle of the major axis (radians from +x).

    Returns
    -------
    callable
        ``profile(dx, dy)`` for `add_stamp`.
    """
    b_n = 2 * n - 1 / 3 + 4 / (405 * n)
    cos_t, sin_t = math.cos(theta), math.sin(theta)

    def profile(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        u = dx * cos_t + dy * sin_t
        v = (-dx * sin_t + dy * cos_t) / q
        r = np.hypot(u, v) / r_eff
        return peak * np.exp(-b_n * r ** (1 / n))

    return profile


def add_sources(
    image: np.ndarray,
    rng: np.random.Generator,
    claw: Claw,
    scale: float,
    *,
    sigma: float,
    star_sigma: float = STAR_SIGMA,
) -> None:
    """Stars and galaxies: a power law of faint ones, a few bright ones, some on the claw.

    Parameters
    ----------
    image : numpy.ndarray
        Square image, changed in place.
    rng : numpy.random.Generator
        Source of positions, brightnesses and shapes.
    claw : ds9claw.example_scene.Claw
        The claw; a few stars are placed on it, as real claws cross sources.
    scale : float
        ``size / 2048``: the numbers of sources scale with its square.
    sigma : float
        Background noise (MJy/sr); peaks are drawn in units of it.
    star_sigma : float
        Gaussian sigma of the stars (pixels).
    """
    size = image.shape[0]
    n_sources = max(round(N_SOURCES * scale**2), MIN_SOURCES)
    n_bright = max(round(N_BRIGHT * scale**2), 1)
    xs = rng.uniform(0, size - 1, n_sources)
    ys = rng.uniform(0, size - 1, n_sources)
    peaks = sigma * 3.0 * (1 - rng.uniform(0, 1, n_sources)) ** (-1 / 1.3)
    peaks = np.minimum(peaks, 300 * sigma)
    peaks[:n_bright] = sigma * np.exp(rng.uniform(np.log(500), np.log(3000), n_bright))
    is_star = rng.uniform(0, 1, n_sources) < 0.35
    is_star[:n_bright] = True
    for x, y, peak, star in zip(xs, ys, peaks, is_star, strict=True):
        if star:
            half = 30 if peak > 300 * sigma else 10
            add_stamp(image, x, y, half, star_profile(peak, star_sigma))
        else:
            r_eff = float(np.exp(rng.uniform(np.log(1.5), np.log(12.0))))
            n = float(rng.uniform(0.6, 4.0))
            q = float(rng.uniform(0.3, 1.0))
            theta = float(rng.uniform(0, np.pi))
            half = min(math.ceil(6 * r_eff) + 3, 80)
            add_stamp(image, x, y, half, galaxy_profile(peak, r_eff, n, q, theta))
    # A few stars on the claw, so that it crosses sources as real claws do.
    n_cross = max(round(_N_CROSSING * scale), 2)
    t = claw.length * (np.arange(n_cross) + rng.uniform(0.2, 0.8, n_cross)) / n_cross
    offset = rng.uniform(-claw.width / 3, claw.width / 3, n_cross)
    cross_peaks = sigma * np.exp(rng.uniform(np.log(20), np.log(300), n_cross))
    for (x, y), peak in zip(claw.point(t, offset), cross_peaks, strict=True):
        add_stamp(image, x, y, 12, star_profile(peak, star_sigma))

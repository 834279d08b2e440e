"""The sky and the claws of the example visit: one catalog on the sky, one scene a dither.

Pure numpy apart from the WCS (`ds9claw.example_wcs`) that renders the catalog through
each exposure's pointing; `ds9claw.example_visit` names and writes the files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .example_scene import (
    BACKGROUND_SIGMA,
    CLAW_LENGTH,
    FLAT_ERROR,
    NOMINAL_SKY,
    POISSON_VARIANCE_PER_MJYSR,
    READ_NOISE,
    REFERENCE_BORDER,
    Claw,
    Scene,
    bad_pixels,
    render_claw,
)
from .example_sources import (
    MIN_SOURCES,
    N_BRIGHT,
    N_SOURCES,
    STAR_SIGMA,
    add_stamp,
    galaxy_profile,
    star_profile,
)
from .example_wcs import tan_wcs

__all__ = ["SkySource", "exposure_scene", "sky_catalog", "unique_arc"]

_ARC_FRACTION = 0.35  # length of the one-dither arc, relative to the main claw
_DIFFUSE_R_EFF = 140.0  # px at 2048: the extended sky emission
_DIFFUSE_PEAK = 1.5  # in BACKGROUND_SIGMA


@dataclass(frozen=True)
class SkySource:
    """One star or galaxy of the visit's sky, in exposure-1 pixels."""

    x: float  # 0-based pixel of exposure 1
    y: float
    peak: float
    star: bool
    shape: tuple[float, float, float, float]  # r_eff, n, q, theta (galaxies)


def unique_arc(rng: np.random.Generator, size: int, scale: float, main: Claw) -> Claw:
    """A shorter arc elsewhere on the detector that does not touch the main claw.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the arc's shape and position.
    size : int
        Pixels on a side.
    scale : float
        ``size / MAX_SIZE``.
    main : ds9claw.example_scene.Claw
        The claw of every dither.

    Returns
    -------
    ds9claw.example_scene.Claw
        An arc 35 % as long, at least two claw widths from the main claw.
    """
    _, _, main_truth = render_claw(main, size)
    box, _, _ = render_claw(main, size)
    occupied = np.zeros((size, size), bool)
    occupied[box] = main_truth
    length = CLAW_LENGTH * scale * _ARC_FRACTION
    clearance = REFERENCE_BORDER + main.width + 8 * scale + 6
    for _ in range(500):
        span = rng.uniform(0.8, 1.2)
        radius = length / span
        start = rng.uniform(0, 2 * np.pi)
        cx, cy = rng.uniform(-0.3 * size, 1.3 * size, 2)
        arc = Claw(cx, cy, radius, start, span, main.width * 0.8, main.edge * 0.8, main.brightness)
        xy = arc.point(np.linspace(0.0, length, 64))
        if xy.min() < clearance or xy.max() > size - 1 - clearance:
            continue
        arc_box, _, arc_truth = render_claw(arc, size)
        grown = np.zeros((size, size), bool)
        grown[arc_box] = arc_truth
        if not (occupied & _grow(grown, int(2 * main.width))).any():
            return arc
    raise RuntimeError("no room for the one-dither arc")


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    from scipy import ndimage

    return ndimage.binary_dilation(mask, iterations=max(pixels, 1))


def sky_catalog(
    rng: np.random.Generator, size: int, scale: float, *, pad: float
) -> list[SkySource]:
    """Sources over the frame plus the dither margin, in exposure-1 pixels.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of positions, brightnesses and shapes.
    size : int
        Pixels on a side.
    scale : float
        ``size / MAX_SIZE``: source counts scale with its square.
    pad : float
        Margin (pixels) around the frame that some dither sees.

    Returns
    -------
    list of SkySource
        Stars and galaxies, then one large, faint diffuse patch.
    """
    area = ((size + 2 * pad) / size) ** 2
    n_sources = max(round(N_SOURCES * scale**2 * area), MIN_SOURCES)
    n_bright = max(round(N_BRIGHT * scale**2 * area), 1)
    sigma = BACKGROUND_SIGMA
    xs = rng.uniform(-pad, size - 1 + pad, n_sources)
    ys = rng.uniform(-pad, size - 1 + pad, n_sources)
    peaks = sigma * 3.0 * (1 - rng.uniform(0, 1, n_sources)) ** (-1 / 1.3)
    peaks = np.minimum(peaks, 300 * sigma)
    peaks[:n_bright] = sigma * np.exp(rng.uniform(np.log(500), np.log(3000), n_bright))
    is_star = rng.uniform(0, 1, n_sources) < 0.35
    is_star[:n_bright] = True
    catalog = []
    for x, y, peak, star in zip(xs, ys, peaks, is_star, strict=True):
        shape = (
            float(np.exp(rng.uniform(np.log(1.5), np.log(12.0)))),
            float(rng.uniform(0.6, 4.0)),
            float(rng.uniform(0.3, 1.0)),
            float(rng.uniform(0, np.pi)),
        )
        catalog.append(SkySource(float(x), float(y), float(peak), bool(star), shape))
    # Real extended emission, fixed on the sky: a large faint exponential disc.
    r_eff = _DIFFUSE_R_EFF * scale
    catalog.append(
        SkySource(
            float(rng.uniform(0.3, 0.7) * size),
            float(rng.uniform(0.3, 0.7) * size),
            _DIFFUSE_PEAK * sigma,
            False,
            (r_eff, 1.0, 0.7, float(rng.uniform(0, np.pi))),
        )
    )
    return catalog


def _render_sources(image: np.ndarray, catalog: list[SkySource], wcs, reference) -> None:
    """Render the catalog (exposure-1 pixels, through exposure 1's WCS to RA/Dec) here."""
    sigma = BACKGROUND_SIGMA
    ra, dec = reference.all_pix2world([s.x for s in catalog], [s.y for s in catalog], 0)
    xs, ys = wcs.all_world2pix(ra, dec, 0)
    for source, x, y in zip(catalog, xs, ys, strict=True):
        if source.star:
            half = 30 if source.peak > 300 * sigma else 10
            add_stamp(image, x, y, half, star_profile(source.peak, STAR_SIGMA))
        else:
            r_eff, n, q, theta = source.shape
            half = min(math.ceil(6 * r_eff) + 3, max(80, math.ceil(4 * r_eff)))
            add_stamp(image, x, y, half, galaxy_profile(source.peak, r_eff, n, q, theta))


def exposure_scene(
    rng: np.random.Generator,
    *,
    size: int,
    catalog: list[SkySource],
    offset: np.ndarray,
    claws: list[tuple[Claw, float]],
    claw_snr: float,
    depth: float,
    main_claw: Claw,
) -> Scene:
    """One dither: the sky seen through this exposure's pointing, its claws and noise.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of this exposure's noise and bad pixels.
    size : int
        Pixels on a side.
    catalog : list of SkySource
        The sky (`sky_catalog`).
    offset : numpy.ndarray
        (x, y) pixels by which this exposure's sky is moved from exposure 1's.
    claws : list of (Claw, float)
        The claws shown and their relative brightness.
    claw_snr : float
        Claw peak over ``BACKGROUND_SIGMA``.
    depth : float
        Noise factor of this exposure.
    main_claw : ds9claw.example_scene.Claw
        The claw named in the truth header.

    Returns
    -------
    ds9claw.example_scene.Scene
        With an empty region polygon (the visit has no region files).
    """
    astro = np.zeros((size, size))
    truth = np.zeros((size, size), dtype=bool)
    amplitude = claw_snr * BACKGROUND_SIGMA
    for claw, brightness in claws:
        box, value, claw_truth = render_claw(claw, size)
        astro[box] += amplitude * brightness * value
        truth[box] |= claw_truth
    _render_sources(astro, catalog, tan_wcs(size, offset), tan_wcs(size, np.zeros(2)))
    signal = np.maximum(astro + NOMINAL_SKY, 0.0)
    var_poisson = POISSON_VARIANCE_PER_MJYSR * signal * depth**2
    var_rnoise = np.full((size, size), READ_NOISE**2 * depth**2)
    var_flat = (FLAT_ERROR * signal) ** 2
    noise = rng.standard_normal((size, size)) * np.sqrt(var_poisson + var_rnoise + var_flat)
    hot, dead = bad_pixels(rng, size)
    hot_rate = np.exp(rng.uniform(np.log(20.0), np.log(2000.0), hot[0].size))
    return Scene(
        science=astro + noise,
        var_poisson=var_poisson,
        var_rnoise=var_rnoise,
        var_flat=var_flat,
        hot=hot,
        dead=dead,
        hot_rate=hot_rate,
        truth=truth,
        claw=main_claw,
        claw_amplitude=amplitude,
        polygon=np.zeros((0, 2)),
        sky=0.0,
    )

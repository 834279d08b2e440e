"""The pure synthetic scene of the example: numpy arrays of one NIRCam exposure with a claw.

The scene is a sky-subtracted (or, with ``sky > 0``, sky-added) field of stars and
galaxies with Gaussian noise, a 4-pixel reference-pixel border, hot and dead pixels, and
one faint curved claw: an arc of a circle with a flat-topped cross-profile, soft edges
and a brightness that varies slowly along it, and the loose polygon an observer would
draw around it.  Everything is drawn from the ``numpy.random.Generator`` given, so the
same seed gives the same pixels.  No files, no data models: `ds9claw.example_products`
turns a `Scene` into the JWST models, the truth image and the region text.

Noise model (cal units, MJy/sr): read noise `READ_NOISE` per pixel, photon noise of
variance `POISSON_VARIANCE_PER_MJYSR` times the signal (the sky that was subtracted,
`NOMINAL_SKY`, when ``sky == 0``; the sky map itself otherwise; plus the sources and the
claw) and a flat-field error of `FLAT_ERROR` times the signal.  On an empty patch of a
``sky=0`` exposure this gives `BACKGROUND_SIGMA` (about 0.015 MJy/sr); the claw's
brightest point is ``claw_snr * BACKGROUND_SIGMA``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .example_sources import add_sources

__all__ = [
    "BACKGROUND_SIGMA",
    "CLAW_LENGTH",
    "FLAT_ERROR",
    "MAX_SIZE",
    "MIN_SIZE",
    "NOMINAL_SKY",
    "POISSON_VARIANCE_PER_MJYSR",
    "READ_NOISE",
    "REFERENCE_BORDER",
    "Claw",
    "Scene",
    "bad_pixels",
    "claw_geometry",
    "make_scene",
    "render_claw",
]

#: Smallest and largest frame size (pixels on a side).
MIN_SIZE = 256
MAX_SIZE = 2048
#: Width of the reference-pixel border (pixels), as on the real detectors.
REFERENCE_BORDER = 4
#: Sky level (MJy/sr) whose photon noise remains in sky-subtracted (``sky=0``) data.
NOMINAL_SKY = 0.25
#: Read noise per pixel (MJy/sr).
READ_NOISE = 0.009
#: Photon-noise variance ((MJy/sr)^2) per MJy/sr of signal: 0.012 MJy/sr at NOMINAL_SKY.
POISSON_VARIANCE_PER_MJYSR = 0.012**2 / NOMINAL_SKY
#: Relative flat-field error per pixel.
FLAT_ERROR = 0.005
#: Noise (MJy/sr) of an empty pixel in a sky-subtracted exposure.
BACKGROUND_SIGMA = math.sqrt(
    READ_NOISE**2 + POISSON_VARIANCE_PER_MJYSR * NOMINAL_SKY + (FLAT_ERROR * NOMINAL_SKY) ** 2
)

# Geometry at 2048 pixels; everything scales with size / 2048.
CLAW_LENGTH = 1500.0  # along the arc, between the 50 % points of the end tapers
_CLAW_WIDTH = 40.0  # full width at 50 % of the local peak
_CLAW_MIN_WIDTH = 8.0
_CLAW_EDGE_FRACTION = 0.4  # soft edge (cosine taper, 100 % -> 0 %) over this x width
_POLYGON_MARGIN = (15.0, 40.0)  # region margin around the truth
_POLYGON_MIN_MARGIN = (3.0, 8.0)
_BAD_PIXEL_FRACTION = 0.001  # hot, and again dead


@dataclass(frozen=True)
class Claw:
    """An arc of a circle: centre, radius, start angle and angular span (radians)."""

    cx: float
    cy: float
    radius: float
    start: float
    span: float
    width: float
    edge: float
    brightness: tuple[float, ...]  # amplitudes, frequencies and phases of two sines

    @property
    def length(self) -> float:
        """Length of the arc (pixels)."""
        return self.radius * self.span

    def point(self, t: np.ndarray, offset: np.ndarray | float = 0.0) -> np.ndarray:
        """(x, y) of arc length ``t`` at ``offset`` pixels outward from the centre line."""
        angle = self.start + np.asarray(t) / self.radius
        r = self.radius + np.asarray(offset)
        return np.stack([self.cx + r * np.cos(angle), self.cy + r * np.sin(angle)], axis=-1)

    def extent(self) -> float:
        """Largest distance of any claw light from the centre line (pixels)."""
        return self.width / 2 + self.edge / 2


@dataclass(frozen=True)
class Scene:
    """Every drawn quantity; arrays in cal units (MJy/sr), float64, before NaN masking."""

    science: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    var_flat: np.ndarray
    hot: tuple[np.ndarray, np.ndarray]  # (rows, columns)
    dead: tuple[np.ndarray, np.ndarray]
    hot_rate: np.ndarray  # DN/s of the hot pixels in the rate file
    truth: np.ndarray
    claw: Claw
    claw_amplitude: float  # MJy/sr at the claw's brightest point
    polygon: np.ndarray  # (N, 2) 0-based x, y
    sky: float


def make_scene(rng: np.random.Generator, *, size: int, sky: float, claw_snr: float) -> Scene:
    """Draw every pixel (cal units, float64), the claw's truth and its region polygon.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every random number, used in a fixed order.
    size : int
        Pixels on a side (`MIN_SIZE` to `MAX_SIZE`); geometry and source counts scale
        with ``size / MAX_SIZE``.
    sky : float
        Sky level (MJy/sr); 0 for sky-subtracted data.
    claw_snr : float
        Claw peak over `BACKGROUND_SIGMA`.

    Returns
    -------
    Scene
    """
    scale = size / MAX_SIZE
    claw = claw_geometry(rng, size, scale)
    astro = np.zeros((size, size))
    claw_box, claw_value, claw_truth = render_claw(claw, size)
    amplitude = claw_snr * BACKGROUND_SIGMA
    astro[claw_box] += amplitude * claw_value
    truth = np.zeros((size, size), dtype=bool)
    truth[claw_box] = claw_truth
    add_sources(astro, rng, claw, scale, sigma=BACKGROUND_SIGMA)

    sky_map = _sky_map(rng, size, sky)
    noise_sky = sky_map if sky > 0 else NOMINAL_SKY
    signal = np.maximum(astro + noise_sky, 0.0)
    var_poisson = POISSON_VARIANCE_PER_MJYSR * signal
    var_rnoise = np.full((size, size), READ_NOISE**2)
    var_flat = (FLAT_ERROR * signal) ** 2
    noise = rng.standard_normal((size, size)) * np.sqrt(var_poisson + var_rnoise + var_flat)
    science = astro + sky_map + noise

    hot, dead = bad_pixels(rng, size)
    # Rate values of the bad pixels: hot ones bright (20 to 2000 DN/s), dead ones 0.
    hot_rate = np.exp(rng.uniform(np.log(20.0), np.log(2000.0), hot[0].size))
    polygon = _region_polygon(rng, claw, scale)
    return Scene(
        science=science,
        var_poisson=var_poisson,
        var_rnoise=var_rnoise,
        var_flat=var_flat,
        hot=hot,
        dead=dead,
        hot_rate=hot_rate,
        truth=truth,
        claw=claw,
        claw_amplitude=amplitude,
        polygon=polygon,
        sky=sky,
    )


def _soft(x: np.ndarray, edge: float) -> np.ndarray:
    """1 for x <= 0, cosine taper to 0 at x = edge, 0 beyond."""
    return np.where(x <= 0, 1.0, np.where(x >= edge, 0.0, 0.5 * (1 + np.cos(np.pi * x / edge))))


def claw_geometry(rng: np.random.Generator, size: int, scale: float) -> Claw:
    """Place an arc of the scaled length and width fully inside the frame.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the random shape, brightness and position.
    size : int
        Pixels on a side.
    scale : float
        ``size / MAX_SIZE``: length, width and margins scale with it.

    Returns
    -------
    Claw
        An arc that, with its soft edges and region margins, stays inside the frame.
    """
    width = max(_CLAW_WIDTH * scale, _CLAW_MIN_WIDTH)
    edge = _CLAW_EDGE_FRACTION * width
    length = CLAW_LENGTH * scale
    margin = max(_POLYGON_MARGIN[1] * scale, _POLYGON_MIN_MARGIN[1])
    # Room kept free at each frame edge: border, soft edge, region margin, chord sag.
    clearance = REFERENCE_BORDER + width / 2 + edge + 2 * margin + 4
    brightness = (
        rng.uniform(0.5, 1.0),
        rng.uniform(0.4, 1.0),
        rng.uniform(0, 2 * np.pi),
        rng.uniform(0.2, 0.6),
        rng.uniform(1.5, 2.5),
        rng.uniform(0, 2 * np.pi),
    )
    t = np.linspace(-edge, length + edge, 256)
    for _ in range(200):
        span = rng.uniform(1.0, 1.4)
        radius = length / span
        start = rng.uniform(0, 2 * np.pi)
        trial = Claw(0.0, 0.0, radius, start, span, width, edge, brightness)
        xy = trial.point(t)
        low = clearance - xy.min(axis=0)
        high = size - 1 - clearance - xy.max(axis=0)
        if np.all(high > low):
            cx, cy = rng.uniform(low, high)
            return Claw(float(cx), float(cy), radius, start, span, width, edge, brightness)
    raise RuntimeError(f"no room for a {length:.0f}-pixel claw in a {size}-pixel frame")


def _brightness(claw: Claw, t: np.ndarray) -> np.ndarray:
    """Relative peak brightness along the arc, 0.6 to 1.0, slowly varying."""
    a1, f1, p1, a2, f2, p2 = claw.brightness
    grid = np.linspace(0.0, claw.length, 1024)

    def wave(s: np.ndarray) -> np.ndarray:
        phase = 2 * np.pi * s / claw.length
        return a1 * np.sin(f1 * phase + p1) + a2 * np.sin(f2 * phase + p2)

    w = wave(grid)
    low, high = w.min(), w.max()
    return 0.6 + 0.4 * (wave(np.clip(t, 0.0, claw.length)) - low) / (high - low)


def render_claw(claw: Claw, size: int) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
    """Claw light relative to its peak, and its truth mask, on the claw's bounding box.

    Parameters
    ----------
    claw : Claw
        The arc.
    size : int
        Pixels on a side of the frame (the box is clipped to it).

    Returns
    -------
    box : tuple of slice
        (rows, columns) of the bounding box in the frame.
    value : numpy.ndarray
        Claw light on the box, relative to the claw's brightest point.
    truth : numpy.ndarray
        Boolean, where the claw is at least half its local peak.
    """
    reach = claw.extent() + 2
    xy = claw.point(np.linspace(-claw.edge, claw.length + claw.edge, 512))
    x0, y0 = np.maximum(np.floor(xy.min(axis=0) - reach), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(xy.max(axis=0) + reach) + 1, size).astype(int)
    y, x = np.mgrid[y0:y1, x0:x1]
    dx, dy = x - claw.cx, y - claw.cy
    across = np.hypot(dx, dy) - claw.radius
    middle = claw.start + claw.span / 2
    angle = np.angle(np.exp(1j * (np.arctan2(dy, dx) - middle)))  # in (-pi, pi]
    t = claw.radius * (angle + claw.span / 2)
    half_core = claw.width / 2 - claw.edge / 2
    profile_across = _soft(np.abs(across) - half_core, claw.edge)
    outside = np.maximum(claw.edge / 2 - t, t - (claw.length - claw.edge / 2))
    profile_along = _soft(outside, claw.edge)
    relative = profile_across * profile_along  # claw / local peak
    value = relative * _brightness(claw, t)
    return (slice(y0, y1), slice(x0, x1)), value, relative >= 0.5


def _sky_map(rng: np.random.Generator, size: int, sky: float) -> np.ndarray | float:
    """``sky`` times (1 + a linear gradient of +-5 % + a small quadratic term)."""
    direction = rng.uniform(0, 2 * np.pi)
    curvature = rng.uniform(-0.01, 0.01)
    if sky == 0:
        return 0.0
    u = np.linspace(-1.0, 1.0, size)
    gradient = 0.05 * (math.cos(direction) * u[None, :] + math.sin(direction) * u[:, None])
    quadratic = curvature * (u[None, :] ** 2 + u[:, None] ** 2 - 2 / 3)
    return sky * (1.0 + gradient + quadratic)


def bad_pixels(rng: np.random.Generator, size: int) -> tuple[tuple[np.ndarray, ...], ...]:
    """Hot and dead pixel positions (row, column) inside the reference border.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the positions.
    size : int
        Pixels on a side.

    Returns
    -------
    hot, dead : tuple of numpy.ndarray
        (rows, columns) of 0.1 % of the inner pixels each, never the same pixel.
    """
    inner = size - 2 * REFERENCE_BORDER
    count = round(_BAD_PIXEL_FRACTION * inner * inner)
    flat = rng.choice(inner * inner, size=2 * count, replace=False)
    rows, cols = np.divmod(flat, inner)
    rows += REFERENCE_BORDER
    cols += REFERENCE_BORDER
    return (rows[:count], cols[:count]), (rows[count:], cols[count:])


def _region_polygon(rng: np.random.Generator, claw: Claw, scale: float) -> np.ndarray:
    """Draw a loose, slightly irregular polygon around the truth (0-based x, y vertices).

    An outer chain of vertices (7 to 10) and an inner one (4 to 7) follow the arc
    beyond the truth's edges, with an end cap past each end.  The straight edges of
    the outer chain cut towards the arc; the margins of their vertices are raised
    until every edge keeps at least the smallest margin from the truth.
    """
    low = max(_POLYGON_MARGIN[0] * scale, _POLYGON_MIN_MARGIN[0])
    high = max(_POLYGON_MARGIN[1] * scale, _POLYGON_MIN_MARGIN[1])
    half = claw.width / 2
    center = np.array([claw.cx, claw.cy])
    chains = []
    for count, sign in ((int(rng.integers(7, 11)), 1.0), (int(rng.integers(4, 8)), -1.0)):
        ends = rng.uniform(low, high, 2)
        t = np.linspace(-ends[0], claw.length + ends[1], count)
        t[1:-1] += rng.uniform(-0.15, 0.15, count - 2) * (t[1] - t[0])
        margin = rng.uniform(low, high, count)
        for _ in range(50):
            chain = claw.point(t, sign * (half + margin))
            # Closest approach of each outer edge to the arc's centre of curvature.
            deficit = claw.radius + half + low - _segment_distances(chain, center)
            if sign < 0 or deficit.max() <= 0:
                break
            raise_by = np.maximum(deficit, 0) + 0.5
            margin[:-1] += raise_by
            margin[1:] += raise_by
        chains.append(chain)
    caps = rng.uniform(low, high, 2)
    cap_offsets = rng.uniform(-half / 2, half / 2, 2)
    start_cap = claw.point(-caps[0] - high, cap_offsets[0])
    end_cap = claw.point(claw.length + caps[1] + high, cap_offsets[1])
    outer, inner = chains
    return np.vstack([outer, end_cap[None, :], inner[::-1], start_cap[None, :]])


def _segment_distances(chain: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Distance from ``point`` to each segment between consecutive vertices of ``chain``."""
    a, b = chain[:-1] - point, chain[1:] - point
    d = b - a
    s = np.clip(-np.einsum("ij,ij->i", a, d) / np.einsum("ij,ij->i", d, d), 0.0, 1.0)
    return np.hypot(*(a + s[:, None] * d).T)

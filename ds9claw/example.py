"""A synthetic NIRCam exposure pair with one injected claw, for demos, tests and benchmarks.

`make_example` writes, into one directory,

* ``<dataset>_cal.fits``: a calibrated JWST ``ImageModel`` (MJy/sr) with SCI, ERR, DQ,
  VAR_POISSON, VAR_RNOISE and VAR_FLAT, and a celestial TAN WCS as FITS keywords in
  the SCI header;
* ``<dataset>_rate.fits``: the matching count-rate ``ImageModel`` (DN/s) with SCI, ERR,
  DQ, VAR_POISSON and VAR_RNOISE; wherever the cal SCI is finite,
  ``cal == rate * PHOTMJSR`` exactly;
* ``<dataset>_cal_claws.pix.reg``: a DS9 polygon drawn loosely around the claw, as an
  observer would draw it;
* ``<dataset>_claw_truth.fits``: the 0/1 mask of the injected claw.

The scene is a sky-subtracted (or, with ``sky > 0``, sky-added) field of stars and
galaxies with Gaussian noise, a 4-pixel reference-pixel border, hot and dead pixels, and
one faint curved claw: an arc of a circle with a flat-topped cross-profile, soft edges
and a brightness that varies slowly along it.  Everything is drawn from
``numpy.random.default_rng(seed)``, so the same arguments give the same pixels.

Noise model (cal units, MJy/sr): read noise `READ_NOISE` per pixel, photon noise of
variance `POISSON_VARIANCE_PER_MJYSR` times the signal (the sky that was subtracted,
`NOMINAL_SKY`, when ``sky == 0``; the sky map itself otherwise; plus the sources and the
claw) and a flat-field error of `FLAT_ERROR` times the signal.  On an empty patch of a
``sky=0`` exposure this gives `BACKGROUND_SIGMA` (about 0.015 MJy/sr); the claw's
brightest point is ``claw_snr * BACKGROUND_SIGMA``.  ERR is drawn from the same
variances that the noise was drawn from.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .dq import PIXEL_FLAGS
from .errors import InputError, OutputExistsError, ParameterError
from .safeio import atomic_write

__all__ = [
    "BACKGROUND_SIGMA",
    "DEFAULT_CLAW_SNR",
    "DEFAULT_DATASET",
    "FLAT_ERROR",
    "MAX_SIZE",
    "MIN_SIZE",
    "NOMINAL_SKY",
    "PHOTMJSR",
    "POISSON_VARIANCE_PER_MJYSR",
    "READ_NOISE",
    "REFERENCE_BORDER",
    "ExampleFiles",
    "example_paths",
    "make_example",
]

_log = logging.getLogger(__name__)

#: Dataset name used when none is given (program 9999 does not exist).
DEFAULT_DATASET = "jw09999001001_02101_00001_nrcb1"
#: Peak signal-to-noise per pixel of the claw's brightest point.
DEFAULT_CLAW_SNR = 3.5
#: Smallest and largest frame size (pixels on a side).
MIN_SIZE = 256
MAX_SIZE = 2048
#: Width of the reference-pixel border (pixels), as on the real detectors.
REFERENCE_BORDER = 4
#: Calibration factor (MJy/sr per DN/s): cal = rate * PHOTMJSR.  A power of two, so the
#: relation holds exactly in float32.
PHOTMJSR = 0.5
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
_CLAW_LENGTH = 1500.0  # along the arc, between the 50 % points of the end tapers
_CLAW_WIDTH = 40.0  # full width at 50 % of the local peak
_CLAW_MIN_WIDTH = 8.0
_CLAW_EDGE_FRACTION = 0.4  # soft edge (cosine taper, 100 % -> 0 %) over this x width
_POLYGON_MARGIN = (15.0, 40.0)  # region margin around the truth
_POLYGON_MIN_MARGIN = (3.0, 8.0)
_N_SOURCES = 320
_MIN_SOURCES = 10
_N_BRIGHT = 4
_N_CROSSING = 3  # stars placed on the claw
_BAD_PIXEL_FRACTION = 0.001  # hot, and again dead
_PIXEL_SCALE = {"SHORT": 0.031, "LONG": 0.063}  # arcsec / pixel
_FILTER = {"SHORT": "F200W", "LONG": "F444W"}
_STAR_SIGMA = 0.9  # pixels; both channels are about Nyquist sampled
_DS9_GLOBAL = (
    'global color=green dashlist=8 3 width=1 font="helvetica 10 normal roman" select=1 '
    "highlite=1 dash=0 fixed=0 edit=1 move=1 delete=1 include=1 source=1"
)
_DETECTOR_RE = re.compile(r"_(nrc[ab](?:[1-4]|long))$", re.IGNORECASE)
_JWST_NAME_RE = re.compile(
    r"^jw(\d{5})(\d{3})(\d{3})_(\d{2})(\d)(\d{2})_(\d{5})_nrc[ab](?:[1-4]|long)$", re.IGNORECASE
)


@dataclass(frozen=True)
class ExampleFiles:
    """The files written by `make_example`.

    Attributes
    ----------
    dataset : str
        Dataset name (the file-name stem without the ``_cal``/``_rate`` suffix).
    cal, rate : pathlib.Path
        The calibrated (MJy/sr) and count-rate (DN/s) exposures.
    region : pathlib.Path
        DS9 region file with one polygon drawn loosely around the claw.
    truth : pathlib.Path
        0/1 FITS image of the pixels where the claw is at least half its local peak.
    """

    dataset: str
    cal: Path
    rate: Path
    region: Path
    truth: Path

    def load_truth(self) -> np.ndarray:
        """Read the claw truth mask.

        Returns
        -------
        numpy.ndarray
            Boolean array, ``True`` on the claw.
        """
        from astropy.io import fits

        return np.asarray(fits.getdata(self.truth)) > 0

    @property
    def paths(self) -> tuple[Path, Path, Path, Path]:
        """The four files: cal, rate, region, truth."""
        return (self.cal, self.rate, self.region, self.truth)


@dataclass(frozen=True)
class _Claw:
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
class _Scene:
    """Every drawn quantity; arrays in cal units (MJy/sr), float64, before NaN masking."""

    science: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    var_flat: np.ndarray
    hot: tuple[np.ndarray, np.ndarray]  # (rows, columns)
    dead: tuple[np.ndarray, np.ndarray]
    hot_rate: np.ndarray  # DN/s of the hot pixels in the rate file
    truth: np.ndarray
    claw: _Claw
    claw_amplitude: float  # MJy/sr at the claw's brightest point
    polygon: np.ndarray  # (N, 2) 0-based x, y
    sky: float


def example_paths(
    output_dir: str | os.PathLike[str], dataset: str = DEFAULT_DATASET
) -> ExampleFiles:
    """Return the file names `make_example` uses, without writing anything.

    Parameters
    ----------
    output_dir : str or os.PathLike
        Directory of the files.
    dataset : str
        Dataset name.

    Returns
    -------
    ExampleFiles
        The four paths.
    """
    folder = Path(output_dir)
    return ExampleFiles(
        dataset=dataset,
        cal=folder / f"{dataset}_cal.fits",
        rate=folder / f"{dataset}_rate.fits",
        region=folder / f"{dataset}_cal_claws.pix.reg",
        truth=folder / f"{dataset}_claw_truth.fits",
    )


def make_example(
    output_dir: str | os.PathLike[str],
    *,
    size: int = MAX_SIZE,
    sky: float = 0.0,
    seed: int = 0,
    dataset: str = DEFAULT_DATASET,
    claw_snr: float = DEFAULT_CLAW_SNR,
    overwrite: bool = False,
) -> ExampleFiles:
    """Write a synthetic NIRCam cal/rate pair with one claw, its region and its truth.

    Parameters
    ----------
    output_dir : str or os.PathLike
        Directory for the four files; created if missing.
    size : int
        Pixels on a side, `MIN_SIZE` to `MAX_SIZE` (2048: a full short-wave detector).
        The claw's length (1500 px at 2048) and width (40 px at 2048, at least 8), the
        region margins and the number of sources (320 at 2048) scale with it.
    sky : float
        Sky level in MJy/sr.  0 gives sky-subtracted data (noise around 0, with the
        photon noise of `NOMINAL_SKY`); a positive level (a real F200W sky is about
        0.25) adds a sky with a gentle gradient, about 10 % across the frame, whose
        median is ``sky``.
    seed : int
        Seed of ``numpy.random.default_rng``: the same arguments give the same pixels.
    dataset : str
        Dataset name; it must end with a NIRCam detector (``_nrcb1``, ``_nrcalong``),
        which sets the detector, channel, filter and pixel scale.  A full JWST name
        (``jw<program><obs><visit>_<group><seq><act>_<exposure>_<detector>``) also sets
        the program, observation and visit numbers.
    claw_snr : float
        Signal-to-noise per pixel of the claw's brightest point, relative to
        `BACKGROUND_SIGMA`.  The brightness along the arc varies between 60 % and 100 %
        of that peak.
    overwrite : bool
        Replace existing files.  Without it an existing file is an error and nothing is
        written.

    Returns
    -------
    ExampleFiles
        The paths written.

    Raises
    ------
    ParameterError
        For a size, sky, seed, claw_snr or dataset name that cannot be used.
    OutputExistsError
        When a file exists and ``overwrite`` is false.
    InputError
        When ``output_dir`` exists and is not a directory.
    """
    size, sky, seed, claw_snr = _validate(size, sky, seed, claw_snr, dataset)
    channel = "LONG" if dataset.lower().endswith("long") else "SHORT"
    files = example_paths(output_dir, dataset)
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise InputError(
            f"{folder} exists and is not a directory: give a directory for the example"
        )
    if not overwrite:
        for path in files.paths:
            if path.exists():
                raise OutputExistsError(
                    f"{path} exists: pass overwrite=True (--overwrite) to replace it"
                )

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    scene = _make_scene(rng, size=size, sky=sky, claw_snr=claw_snr)
    from stdatamodels.jwst.datamodels import ImageModel

    cal = _cal_model(ImageModel, scene, files, channel)
    rate = _rate_model(ImageModel, scene, files, channel)
    truth_hdul = _truth_hdulist(scene, files, seed=seed, claw_snr=claw_snr)
    region_text = _region_text(scene.polygon)
    folder.mkdir(parents=True, exist_ok=True)
    # A Path (not a str) keeps stdatamodels from renaming meta.filename after the temp file.
    _write_all(
        [
            (files.cal, partial(cal.to_fits, overwrite=True)),
            (files.rate, partial(rate.to_fits, overwrite=True)),
            (files.truth, partial(truth_hdul.writeto, overwrite=True)),
            (files.region, lambda temp: temp.write_text(region_text, encoding="ascii")),
        ],
        overwrite=overwrite,
    )
    cal.close()
    rate.close()
    _log.info(
        "example %s (%d x %d, seed %d) written to %s in %.2f s",
        dataset,
        size,
        size,
        seed,
        folder,
        time.perf_counter() - started,
    )
    return files


def _validate(
    size: Any, sky: Any, seed: Any, claw_snr: Any, dataset: Any
) -> tuple[int, float, int, float]:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise ParameterError(f"size must be an integer number of pixels, not {size!r}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ParameterError(f"size {size} is out of range: give {MIN_SIZE} to {MAX_SIZE} pixels")
    try:
        sky = float(sky)
        claw_snr = float(claw_snr)
    except (TypeError, ValueError):
        raise ParameterError(
            f"sky and claw_snr must be numbers, not {sky!r}, {claw_snr!r}"
        ) from None
    if not (math.isfinite(sky) and sky >= 0):
        raise ParameterError(
            f"sky {sky} MJy/sr is not usable: give 0 (sky-subtracted) or a level > 0"
        )
    if not (math.isfinite(claw_snr) and 0 < claw_snr <= 1000):
        raise ParameterError(f"claw_snr {claw_snr} is not usable: give a number in (0, 1000]")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, not {seed!r}")
    usable = isinstance(dataset, str) and _DETECTOR_RE.search(dataset) is not None
    if not usable or Path(dataset).name != dataset:
        raise ParameterError(
            f"dataset {dataset!r} must be a file-name stem ending with a NIRCam detector, "
            f"e.g. {DEFAULT_DATASET!r}"
        )
    return int(size), sky, int(seed), claw_snr


# --------------------------------------------------------------------------- scene


def _make_scene(rng: np.random.Generator, *, size: int, sky: float, claw_snr: float) -> _Scene:
    """Draw every pixel (cal units, float64), the claw's truth and its region polygon."""
    scale = size / MAX_SIZE
    claw = _claw_geometry(rng, size, scale)
    astro = np.zeros((size, size))
    claw_box, claw_value, claw_truth = _render_claw(claw, size)
    amplitude = claw_snr * BACKGROUND_SIGMA
    astro[claw_box] += amplitude * claw_value
    truth = np.zeros((size, size), dtype=bool)
    truth[claw_box] = claw_truth
    _add_sources(astro, rng, claw, scale, _STAR_SIGMA)

    sky_map = _sky_map(rng, size, sky)
    noise_sky = sky_map if sky > 0 else NOMINAL_SKY
    signal = np.maximum(astro + noise_sky, 0.0)
    var_poisson = POISSON_VARIANCE_PER_MJYSR * signal
    var_rnoise = np.full((size, size), READ_NOISE**2)
    var_flat = (FLAT_ERROR * signal) ** 2
    noise = rng.standard_normal((size, size)) * np.sqrt(var_poisson + var_rnoise + var_flat)
    science = astro + sky_map + noise

    hot, dead = _bad_pixels(rng, size)
    # Rate values of the bad pixels: hot ones bright (20 to 2000 DN/s), dead ones 0.
    hot_rate = np.exp(rng.uniform(np.log(20.0), np.log(2000.0), hot[0].size))
    polygon = _region_polygon(rng, claw, scale)
    return _Scene(
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


def _claw_geometry(rng: np.random.Generator, size: int, scale: float) -> _Claw:
    """Place an arc of the scaled length and width fully inside the frame."""
    width = max(_CLAW_WIDTH * scale, _CLAW_MIN_WIDTH)
    edge = _CLAW_EDGE_FRACTION * width
    length = _CLAW_LENGTH * scale
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
        trial = _Claw(0.0, 0.0, radius, start, span, width, edge, brightness)
        xy = trial.point(t)
        low = clearance - xy.min(axis=0)
        high = size - 1 - clearance - xy.max(axis=0)
        if np.all(high > low):
            cx, cy = rng.uniform(low, high)
            return _Claw(float(cx), float(cy), radius, start, span, width, edge, brightness)
    raise RuntimeError(f"no room for a {length:.0f}-pixel claw in a {size}-pixel frame")


def _brightness(claw: _Claw, t: np.ndarray) -> np.ndarray:
    """Relative peak brightness along the arc, 0.6 to 1.0, slowly varying."""
    a1, f1, p1, a2, f2, p2 = claw.brightness
    grid = np.linspace(0.0, claw.length, 1024)

    def wave(s: np.ndarray) -> np.ndarray:
        phase = 2 * np.pi * s / claw.length
        return a1 * np.sin(f1 * phase + p1) + a2 * np.sin(f2 * phase + p2)

    w = wave(grid)
    low, high = w.min(), w.max()
    return 0.6 + 0.4 * (wave(np.clip(t, 0.0, claw.length)) - low) / (high - low)


def _render_claw(claw: _Claw, size: int) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
    """Claw light relative to its peak, and its truth mask, on the claw's bounding box."""
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


def _add_stamp(
    image: np.ndarray, xc: float, yc: float, half: int, profile: Callable[..., np.ndarray]
) -> None:
    """Add ``profile(dx, dy)`` on a (2 half + 1)^2 stamp around (xc, yc), clipped."""
    ny, nx = image.shape
    ix, iy = round(xc), round(yc)
    x0, x1 = max(ix - half, 0), min(ix + half + 1, nx)
    y0, y1 = max(iy - half, 0), min(iy + half + 1, ny)
    if x0 >= x1 or y0 >= y1:
        return
    y, x = np.mgrid[y0:y1, x0:x1]
    image[y0:y1, x0:x1] += profile(x - xc, y - yc)


def _star(peak: float, sigma: float) -> Callable[..., np.ndarray]:
    """Make a star: a Gaussian core with a 5 % halo four times wider, ``peak`` high."""

    def profile(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        r2 = dx * dx + dy * dy
        core = np.exp(-0.5 * r2 / sigma**2)
        halo = 0.05 * np.exp(-0.5 * r2 / (4 * sigma) ** 2)
        return peak * (core + halo) / 1.05

    return profile


def _galaxy(
    peak: float, r_eff: float, n: float, q: float, theta: float
) -> Callable[..., np.ndarray]:
    """Make a galaxy: an elliptical Sersic profile, ``peak`` high at its centre."""
    b_n = 2 * n - 1 / 3 + 4 / (405 * n)
    cos_t, sin_t = math.cos(theta), math.sin(theta)

    def profile(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        u = dx * cos_t + dy * sin_t
        v = (-dx * sin_t + dy * cos_t) / q
        r = np.hypot(u, v) / r_eff
        return peak * np.exp(-b_n * r ** (1 / n))

    return profile


def _add_sources(
    image: np.ndarray, rng: np.random.Generator, claw: _Claw, scale: float, star_sigma: float
) -> None:
    """Stars and galaxies: a power law of faint ones, a few bright ones, some on the claw."""
    size = image.shape[0]
    n_sources = max(round(_N_SOURCES * scale**2), _MIN_SOURCES)
    n_bright = max(round(_N_BRIGHT * scale**2), 1)
    sigma = BACKGROUND_SIGMA
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
            _add_stamp(image, x, y, half, _star(peak, star_sigma))
        else:
            r_eff = float(np.exp(rng.uniform(np.log(1.5), np.log(12.0))))
            n = float(rng.uniform(0.6, 4.0))
            q = float(rng.uniform(0.3, 1.0))
            theta = float(rng.uniform(0, np.pi))
            half = min(math.ceil(6 * r_eff) + 3, 80)
            _add_stamp(image, x, y, half, _galaxy(peak, r_eff, n, q, theta))
    # A few stars on the claw, so that it crosses sources as real claws do.
    n_cross = max(round(_N_CROSSING * scale), 2)
    t = claw.length * (np.arange(n_cross) + rng.uniform(0.2, 0.8, n_cross)) / n_cross
    offset = rng.uniform(-claw.width / 3, claw.width / 3, n_cross)
    cross_peaks = sigma * np.exp(rng.uniform(np.log(20), np.log(300), n_cross))
    for (x, y), peak in zip(claw.point(t, offset), cross_peaks, strict=True):
        _add_stamp(image, x, y, 12, _star(peak, star_sigma))


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


def _bad_pixels(rng: np.random.Generator, size: int) -> tuple[tuple[np.ndarray, ...], ...]:
    """Hot and dead pixel positions (row, column) inside the reference border."""
    inner = size - 2 * REFERENCE_BORDER
    count = round(_BAD_PIXEL_FRACTION * inner * inner)
    flat = rng.choice(inner * inner, size=2 * count, replace=False)
    rows, cols = np.divmod(flat, inner)
    rows += REFERENCE_BORDER
    cols += REFERENCE_BORDER
    return (rows[:count], cols[:count]), (rows[count:], cols[count:])


def _region_polygon(rng: np.random.Generator, claw: _Claw, scale: float) -> np.ndarray:
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


def _region_text(polygon: np.ndarray) -> str:
    """DS9 region file text (format 4.1) as DS9 saves one polygon in image coordinates."""
    coords = ",".join(format(float(v) + 1, ".8g") for v in polygon.ravel())
    lines = ["# Region file format: DS9 version 4.1", _DS9_GLOBAL, "image", f"polygon({coords})"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- models


def _dq(scene: _Scene) -> np.ndarray:
    size = scene.science.shape[0]
    dq = np.zeros((size, size), dtype=np.uint32)
    border = np.ones((size, size), dtype=bool)
    b = REFERENCE_BORDER
    border[b:-b, b:-b] = False
    dq[border] = PIXEL_FLAGS["REFERENCE_PIXEL"] | PIXEL_FLAGS["DO_NOT_USE"]
    dq[scene.hot] = PIXEL_FLAGS["HOT"] | PIXEL_FLAGS["DO_NOT_USE"]
    dq[scene.dead] = PIXEL_FLAGS["DEAD"] | PIXEL_FLAGS["DO_NOT_USE"]
    return dq


def _fill_meta(model: Any, files: ExampleFiles, channel: str, *, filename: Path, unit: str) -> None:
    from astropy import units as u
    from astropy.time import Time

    meta = model.meta
    dataset = files.dataset
    detector = _DETECTOR_RE.search(dataset).group(1).upper()
    meta.filename = filename.name
    meta.telescope = "JWST"
    meta.instrument.name = "NIRCAM"
    meta.instrument.detector = detector
    meta.instrument.module = detector[3]
    meta.instrument.channel = channel
    meta.instrument.filter = _FILTER[channel]
    meta.instrument.pupil = "CLEAR"
    meta.exposure.type = "NRC_IMAGE"
    # A full-frame MEDIUM8 exposure of 6 groups, starting 2024-01-01 12:00 UTC.
    frame_time = 10.73677
    ngroups, nframes, groupgap = 6, 8, 2
    group_time = (nframes + groupgap) * frame_time
    duration = (ngroups * (nframes + groupgap) - groupgap) * frame_time
    meta.exposure.readpatt = "MEDIUM8"
    meta.exposure.nints = 1
    meta.exposure.ngroups = ngroups
    meta.exposure.nframes = nframes
    meta.exposure.groupgap = groupgap
    meta.exposure.frame_time = frame_time
    meta.exposure.group_time = group_time
    meta.exposure.duration = duration
    meta.exposure.exposure_time = (ngroups - 1) * group_time
    meta.exposure.effective_exposure_time = (ngroups - 1) * group_time
    start = Time("2024-01-01T12:00:00", scale="utc")
    end = start + duration * u.s
    meta.exposure.start_time = start.mjd
    meta.exposure.mid_time = (start + duration / 2 * u.s).mjd
    meta.exposure.end_time = end.mjd
    meta.observation.date, meta.observation.time = start.isot.split("T")
    meta.observation.date_beg = start.isot
    meta.observation.date_end = end.isot
    match = _JWST_NAME_RE.match(dataset)
    if match:
        program, obs, visit, group, parallel, activity, exposure = match.groups()
        meta.observation.program_number = program
        meta.observation.observation_number = obs
        meta.observation.visit_number = visit
        meta.observation.visit_group = group
        meta.observation.sequence_id = parallel
        meta.observation.activity_id = activity
        meta.observation.exposure_number = exposure
        meta.observation.visit_id = dataset[2:13]
    size = model.data.shape[0]
    meta.subarray.name = "FULL" if size == MAX_SIZE else f"SUB{size}"
    meta.subarray.xstart = meta.subarray.ystart = 1
    meta.subarray.xsize = meta.subarray.ysize = size
    meta.bunit_data = unit
    meta.bunit_err = unit
    _fill_wcsinfo(meta.wcsinfo, size, _PIXEL_SCALE[channel])


def _fill_wcsinfo(wcsinfo: Any, size: int, pixel_scale: float) -> None:
    """Set a TAN projection rotated by 7 degrees from north up, east to the left."""
    rotation = math.radians(7.0)
    cos_r, sin_r = math.cos(rotation), math.sin(rotation)
    wcsinfo.wcsaxes = 2
    wcsinfo.ctype1, wcsinfo.ctype2 = "RA---TAN", "DEC--TAN"
    wcsinfo.cunit1 = wcsinfo.cunit2 = "deg"
    wcsinfo.crpix1 = wcsinfo.crpix2 = (size + 1) / 2
    wcsinfo.crval1, wcsinfo.crval2 = 53.16, -27.78  # GOODS-S
    wcsinfo.cdelt1 = wcsinfo.cdelt2 = pixel_scale / 3600
    wcsinfo.pc1_1, wcsinfo.pc1_2 = -cos_r, sin_r
    wcsinfo.pc2_1, wcsinfo.pc2_2 = sin_r, cos_r
    wcsinfo.ra_ref, wcsinfo.dec_ref = 53.16, -27.78
    wcsinfo.roll_ref = 7.0
    wcsinfo.v3yangle = 0.0
    wcsinfo.vparity = -1


def _cal_model(model_class: type, scene: _Scene, files: ExampleFiles, channel: str) -> Any:
    dq = _dq(scene)
    bad = (dq & PIXEL_FLAGS["DO_NOT_USE"]) != 0
    arrays = {
        "data": scene.science,
        "var_poisson": scene.var_poisson,
        "var_rnoise": scene.var_rnoise,
        "var_flat": scene.var_flat,
    }
    arrays = {name: value.astype(np.float32) for name, value in arrays.items()}
    arrays["err"] = np.sqrt(arrays["var_poisson"] + arrays["var_rnoise"] + arrays["var_flat"])
    for value in arrays.values():
        value[bad] = np.nan
    model = model_class(dq=dq, **arrays)
    _fill_meta(model, files, channel, filename=files.cal, unit="MJy/sr")
    pixel_sr = (_PIXEL_SCALE[channel] / 206264.806) ** 2
    model.meta.photometry.conversion_megajanskys = PHOTMJSR
    model.meta.photometry.conversion_microjanskys = PHOTMJSR * pixel_sr * 1e12
    model.meta.photometry.pixelarea_steradians = pixel_sr
    model.meta.photometry.pixelarea_arcsecsq = _PIXEL_SCALE[channel] ** 2
    for step in ("dq_init", "saturation", "ramp_fit", "flat_field", "photom"):
        setattr(model.meta.cal_step, step, "COMPLETE")
    return model


def _rate_model(model_class: type, scene: _Scene, files: ExampleFiles, channel: str) -> Any:
    # Divide in float32 so that cal == rate * PHOTMJSR exactly (PHOTMJSR is a power of 2).
    data = scene.science.astype(np.float32) / np.float32(PHOTMJSR)
    var_poisson = scene.var_poisson.astype(np.float32) / np.float32(PHOTMJSR**2)
    var_rnoise = scene.var_rnoise.astype(np.float32) / np.float32(PHOTMJSR**2)
    data[scene.hot] = scene.hot_rate
    data[scene.dead] = 0.0
    gain_variance = POISSON_VARIANCE_PER_MJYSR / PHOTMJSR  # (DN/s)^2 per DN/s
    var_poisson[scene.hot] = gain_variance * scene.hot_rate
    var_poisson[scene.dead] = 0.0
    model = model_class(
        data=data,
        dq=_dq(scene),
        err=np.sqrt(var_poisson + var_rnoise),
        var_poisson=var_poisson,
        var_rnoise=var_rnoise,
    )
    _fill_meta(model, files, channel, filename=files.rate, unit="DN/s")
    for step in ("dq_init", "saturation", "ramp_fit"):
        setattr(model.meta.cal_step, step, "COMPLETE")
    return model


def _truth_hdulist(scene: _Scene, files: ExampleFiles, *, seed: int, claw_snr: float) -> Any:
    from astropy.io import fits

    claw = scene.claw
    header = fits.Header()
    header["DATASET"] = (files.dataset, "exposure with the claw")
    header["CONTENT"] = ("claw truth", "1: claw >= 50% of its local peak")
    header["SEED"] = (seed, "numpy default_rng seed")
    header["SKY"] = (scene.sky, "[MJy/sr] sky level (0: sky-subtracted)")
    header["CLAWSNR"] = (claw_snr, "claw peak / background sigma per pixel")
    header["CLAWPEAK"] = (scene.claw_amplitude, "[MJy/sr] claw peak")
    header["BKGSIGMA"] = (BACKGROUND_SIGMA, "[MJy/sr] noise of an empty pixel")
    header["CLAWLEN"] = (claw.length, "[pix] claw length along the arc")
    header["CLAWWID"] = (claw.width, "[pix] claw full width at half peak")
    header["CLAWRAD"] = (claw.radius, "[pix] radius of the arc")
    header["CLAWCX"] = (claw.cx + 1, "[pix] x of the arc centre, 1-based")
    header["CLAWCY"] = (claw.cy + 1, "[pix] y of the arc centre, 1-based")
    header["NTRUTH"] = (int(scene.truth.sum()), "number of claw pixels")
    return fits.HDUList([fits.PrimaryHDU(scene.truth.astype(np.uint8), header=header)])


# --------------------------------------------------------------------------- writing


def _write_all(writers: list[tuple[Path, Callable[[Path], Any]]], *, overwrite: bool) -> None:
    """Write every file to a temporary name beside it, then rename them all into place.

    Each ``writer(temp_path)`` writes one complete file.  The renames happen only after
    all four are written; an error before that removes the temporary files and leaves
    existing files as they were (`ds9claw.safeio.atomic_write`).
    """
    with contextlib.ExitStack() as stack:
        for path, write in writers:
            write(stack.enter_context(atomic_write(path, overwrite=overwrite)))

"""A synthetic dithered visit: N exposures of one detector on one common sky, with claws.

`make_example_visit` writes, for each of ``n_exposures`` dithers ``k = 1 .. N``,

* ``jw09999001001_02101_0000k_nrcb1_cal.fits``: a calibrated ``ImageModel`` (MJy/sr)
  with a gwcs in ``meta.wcs`` (detector -> world) and the matching
  ``meta.wcsinfo`` keywords;
* ``..._rate.fits``: the count-rate model (cal = rate * PHOTMJSR where finite);
* ``..._claw_truth.fits``: the 0/1 mask of that exposure's claw pixels (all zero for
  ``claws=False``).

The sky is one source catalog in RA/Dec (stars, galaxies and one large, faint diffuse
patch of real extended emission) rendered through each exposure's own WCS; the
dithers move the sky by tens to hundreds of pixels.  The claws stay on the detector:
one long arc in every exposure whose position, width and brightness change a little
from dither to dither, and one shorter arc present in a single dither only.  The noise
differs slightly between exposures (their depth differs).  No region file is written:
the candidates are for ``ds9claw find`` to propose.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from . import example as _ex
from .errors import InputError, OutputExistsError, ParameterError
from .example_wcs import set_pointing, tan_wcs
from .safeio import atomic_write

__all__ = [
    "DEFAULT_VISIT_EXPOSURES",
    "UNIQUE_ARC_EXPOSURE",
    "VisitExposure",
    "VisitFiles",
    "dither_offsets",
    "make_example_visit",
    "visit_paths",
]

_log = logging.getLogger(__name__)

#: Number of dithers written by default.
DEFAULT_VISIT_EXPOSURES = 4
#: Index (0-based) of the exposure that alone shows the extra arc.
UNIQUE_ARC_EXPOSURE = 2
_VISIT_PREFIX = "jw09999001001_02101"
# Dither pattern at 2048 px (x, y offsets of the sky on the detector); scaled with size.
_DITHERS = np.array(
    [[0.0, 0.0], [173.4, 61.7], [-88.2, 214.9], [251.6, -132.3], [-190.7, -75.4], [95.3, -240.1]]
)
_DEPTH = (1.0, 1.08, 0.93, 1.04, 0.97, 1.1)  # noise factor of each exposure
_CLAW_JITTER = 3.0  # px at 2048: centre shift of the claw between dithers
_ARC_FRACTION = 0.35  # length of the one-dither arc, relative to the main claw
_DIFFUSE_R_EFF = 140.0  # px at 2048: the extended sky emission
_DIFFUSE_PEAK = 1.5  # in BACKGROUND_SIGMA


@dataclass(frozen=True)
class VisitExposure:
    """The files of one dither of the example visit.

    Attributes
    ----------
    dataset : str
        Dataset name (file-name stem without ``_cal``).
    cal, rate, truth : pathlib.Path
        Calibrated and count-rate exposures, and the 0/1 claw truth.
    offset : tuple of float
        (x, y) pixels by which the sky is moved on the detector relative to exposure 1.
    """

    dataset: str
    cal: Path
    rate: Path
    truth: Path
    offset: tuple[float, float]

    def load_truth(self) -> np.ndarray:
        """Read the claw truth mask (boolean, ``True`` on a claw)."""
        from astropy.io import fits

        return np.asarray(fits.getdata(self.truth)) > 0


@dataclass(frozen=True)
class VisitFiles:
    """Every exposure of `make_example_visit`, in dither order."""

    exposures: tuple[VisitExposure, ...]

    @property
    def cal_files(self) -> list[Path]:
        """The calibrated exposures."""
        return [e.cal for e in self.exposures]

    @property
    def paths(self) -> list[Path]:
        """Every file written."""
        return [p for e in self.exposures for p in (e.cal, e.rate, e.truth)]


def dither_offsets(n_exposures: int, size: int) -> np.ndarray:
    """(x, y) sky offsets in pixels of each dither, scaled to a ``size``-pixel frame.

    Parameters
    ----------
    n_exposures : int
        Number of dithers (1 to 6).
    size : int
        Frame side in pixels.

    Returns
    -------
    numpy.ndarray
        (N, 2) offsets; the first is (0, 0).
    """
    return _DITHERS[:n_exposures] * (size / _ex.MAX_SIZE)


def visit_paths(output_dir: str | os.PathLike[str], n_exposures: int, size: int) -> VisitFiles:
    """Return the file names `make_example_visit` uses, without writing anything."""
    folder = Path(output_dir)
    exposures = []
    for k, offset in enumerate(dither_offsets(n_exposures, size), start=1):
        dataset = f"{_VISIT_PREFIX}_{k:05d}_nrcb1"
        exposures.append(
            VisitExposure(
                dataset=dataset,
                cal=folder / f"{dataset}_cal.fits",
                rate=folder / f"{dataset}_rate.fits",
                truth=folder / f"{dataset}_claw_truth.fits",
                offset=(float(offset[0]), float(offset[1])),
            )
        )
    return VisitFiles(tuple(exposures))


def make_example_visit(
    output_dir: str | os.PathLike[str],
    *,
    n_exposures: int = DEFAULT_VISIT_EXPOSURES,
    size: int = _ex.MAX_SIZE,
    seed: int = 0,
    claw_snr: float = _ex.DEFAULT_CLAW_SNR,
    claws: bool = True,
    overwrite: bool = False,
) -> VisitFiles:
    """Write a dithered visit of one NIRCam detector with claws fixed on the detector.

    Parameters
    ----------
    output_dir : str or os.PathLike
        Directory for the files; created if missing.
    n_exposures : int
        Number of dithers, 1 to 6 (default 4).
    size : int
        Pixels on a side (`ds9claw.example.MIN_SIZE` to ``MAX_SIZE``); the claw, the
        dither offsets and the sources scale with ``size / 2048``.
    seed : int
        Seed of ``numpy.random.default_rng``.
    claw_snr : float
        Peak signal-to-noise per pixel of the claws in a exposure of nominal depth.
    claws : bool
        False writes the same visit (same sky, same noise) without any claw.
    overwrite : bool
        Replace existing files; without it an existing file is an error, nothing written.

    Returns
    -------
    VisitFiles
        The paths written.

    Raises
    ------
    ParameterError
        For arguments that cannot be used.
    OutputExistsError
        When a file exists and ``overwrite`` is false.
    """
    if isinstance(n_exposures, bool) or not isinstance(n_exposures, (int, np.integer)):
        raise ParameterError(f"n_exposures must be an integer, not {n_exposures!r}")
    if not 1 <= n_exposures <= len(_DITHERS):
        raise ParameterError(
            f"a visit of {n_exposures} exposures cannot be made: give 1 to {len(_DITHERS)}"
        )
    size, _, seed, claw_snr = _ex._validate(size, 0.0, seed, claw_snr, _ex.DEFAULT_DATASET)
    files = visit_paths(output_dir, int(n_exposures), size)
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} exists and is not a directory: give a directory")
    if not overwrite:
        for path in files.paths:
            if path.exists():
                raise OutputExistsError(f"{path} exists: pass --overwrite to replace it")
    from stdatamodels.jwst.datamodels import ImageModel

    rng = np.random.default_rng(seed)
    scale = size / _ex.MAX_SIZE
    main_claw = _ex._claw_geometry(rng, size, scale)
    arc = _unique_arc(rng, size, scale, main_claw)
    catalog = _sky_catalog(rng, size, scale, main_claw)
    jitter = rng.normal(0.0, _CLAW_JITTER * scale, (n_exposures, 2))
    changes = rng.uniform(0.9, 1.1, (n_exposures, 2))  # brightness, width
    noise_seeds = np.random.SeedSequence(seed).spawn(n_exposures)
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        for index, exposure in enumerate(files.exposures):
            claw = dataclasses.replace(
                main_claw,
                cx=main_claw.cx + jitter[index, 0],
                cy=main_claw.cy + jitter[index, 1],
                width=main_claw.width * changes[index, 1],
            )
            shown = [(claw, changes[index, 0])]
            if index == UNIQUE_ARC_EXPOSURE or (n_exposures <= UNIQUE_ARC_EXPOSURE and index == 0):
                shown.append((arc, 1.0))
            scene = _exposure_scene(
                np.random.default_rng(noise_seeds[index]),
                size=size,
                catalog=catalog,
                offset=np.asarray(exposure.offset),
                claws=shown if claws else [],
                claw_snr=claw_snr,
                depth=_DEPTH[index],
                main_claw=claw,
            )
            as_files = _ex.ExampleFiles(
                exposure.dataset, exposure.cal, exposure.rate, exposure.cal, exposure.truth
            )
            cal = _ex._cal_model(ImageModel, scene, as_files, "SHORT")
            rate = _ex._rate_model(ImageModel, scene, as_files, "SHORT")
            for model in (cal, rate):
                set_pointing(model, size, np.asarray(exposure.offset))
            truth = _ex._truth_hdulist(scene, as_files, seed=seed, claw_snr=claw_snr)
            truth[0].header["DITHERX"] = (exposure.offset[0], "[pix] sky offset x vs exposure 1")
            truth[0].header["DITHERY"] = (exposure.offset[1], "[pix] sky offset y vs exposure 1")
            for path, write in (
                (exposure.cal, partial(cal.to_fits, overwrite=True)),
                (exposure.rate, partial(rate.to_fits, overwrite=True)),
                (exposure.truth, partial(truth.writeto, overwrite=True)),
            ):
                write(stack.enter_context(atomic_write(path, overwrite=overwrite)))
            cal.close()
            rate.close()
    _log.info("example visit of %d exposures (%d px) written to %s", n_exposures, size, folder)
    return files


# --------------------------------------------------------------------------- the scene


@dataclass(frozen=True)
class _Source:
    x: float  # 0-based pixel of exposure 1
    y: float
    peak: float
    star: bool
    shape: tuple[float, float, float, float]  # r_eff, n, q, theta (galaxies)


def _unique_arc(rng: np.random.Generator, size: int, scale: float, main: _ex._Claw) -> _ex._Claw:
    """A shorter arc elsewhere on the detector that does not touch the main claw."""
    _, _, main_truth = _ex._render_claw(main, size)
    box, _, _ = _ex._render_claw(main, size)
    occupied = np.zeros((size, size), bool)
    occupied[box] = main_truth
    length = _ex._CLAW_LENGTH * scale * _ARC_FRACTION
    clearance = _ex.REFERENCE_BORDER + main.width + 8 * scale + 6
    for _ in range(500):
        span = rng.uniform(0.8, 1.2)
        radius = length / span
        start = rng.uniform(0, 2 * np.pi)
        cx, cy = rng.uniform(-0.3 * size, 1.3 * size, 2)
        arc = _ex._Claw(
            cx, cy, radius, start, span, main.width * 0.8, main.edge * 0.8, main.brightness
        )
        xy = arc.point(np.linspace(0.0, length, 64))
        if xy.min() < clearance or xy.max() > size - 1 - clearance:
            continue
        arc_box, _, arc_truth = _ex._render_claw(arc, size)
        grown = np.zeros((size, size), bool)
        grown[arc_box] = arc_truth
        if not (occupied & _grow(grown, int(2 * main.width))).any():
            return arc
    raise RuntimeError("no room for the one-dither arc")


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    from scipy import ndimage

    return ndimage.binary_dilation(mask, iterations=max(pixels, 1))


def _sky_catalog(
    rng: np.random.Generator, size: int, scale: float, claw: _ex._Claw
) -> list[_Source]:
    """Sources over the frame plus the dither margin, in exposure-1 pixels."""
    pad = float(np.abs(_DITHERS).max() * scale) + 20
    area = ((size + 2 * pad) / size) ** 2
    n_sources = max(round(_ex._N_SOURCES * scale**2 * area), _ex._MIN_SOURCES)
    n_bright = max(round(_ex._N_BRIGHT * scale**2 * area), 1)
    sigma = _ex.BACKGROUND_SIGMA
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
        catalog.append(_Source(float(x), float(y), float(peak), bool(star), shape))
    # Real extended emission, fixed on the sky: a large faint exponential disc.
    r_eff = _DIFFUSE_R_EFF * scale
    catalog.append(
        _Source(
            float(rng.uniform(0.3, 0.7) * size),
            float(rng.uniform(0.3, 0.7) * size),
            _DIFFUSE_PEAK * sigma,
            False,
            (r_eff, 1.0, 0.7, float(rng.uniform(0, np.pi))),
        )
    )
    return catalog


def _render_sources(image: np.ndarray, catalog: list[_Source], wcs, reference) -> None:
    """Render the catalog (exposure-1 pixels, through exposure 1's WCS to RA/Dec) here."""
    sigma = _ex.BACKGROUND_SIGMA
    ra, dec = reference.all_pix2world([s.x for s in catalog], [s.y for s in catalog], 0)
    xs, ys = wcs.all_world2pix(ra, dec, 0)
    for source, x, y in zip(catalog, xs, ys, strict=True):
        if source.star:
            half = 30 if source.peak > 300 * sigma else 10
            _ex._add_stamp(image, x, y, half, _ex._star(source.peak, _ex._STAR_SIGMA))
        else:
            r_eff, n, q, theta = source.shape
            half = min(math.ceil(6 * r_eff) + 3, max(80, math.ceil(4 * r_eff)))
            _ex._add_stamp(image, x, y, half, _ex._galaxy(source.peak, r_eff, n, q, theta))


def _exposure_scene(
    rng: np.random.Generator,
    *,
    size: int,
    catalog: list[_Source],
    offset: np.ndarray,
    claws: list[tuple[_ex._Claw, float]],
    claw_snr: float,
    depth: float,
    main_claw: _ex._Claw,
) -> _ex._Scene:
    """One dither: the sky seen through this exposure's pointing, its claws and noise."""
    astro = np.zeros((size, size))
    truth = np.zeros((size, size), dtype=bool)
    amplitude = claw_snr * _ex.BACKGROUND_SIGMA
    for claw, brightness in claws:
        box, value, claw_truth = _ex._render_claw(claw, size)
        astro[box] += amplitude * brightness * value
        truth[box] |= claw_truth
    _render_sources(astro, catalog, tan_wcs(size, offset), tan_wcs(size, np.zeros(2)))
    signal = np.maximum(astro + _ex.NOMINAL_SKY, 0.0)
    var_poisson = _ex.POISSON_VARIANCE_PER_MJYSR * signal * depth**2
    var_rnoise = np.full((size, size), _ex.READ_NOISE**2 * depth**2)
    var_flat = (_ex.FLAT_ERROR * signal) ** 2
    noise = rng.standard_normal((size, size)) * np.sqrt(var_poisson + var_rnoise + var_flat)
    hot, dead = _ex._bad_pixels(rng, size)
    hot_rate = np.exp(rng.uniform(np.log(20.0), np.log(2000.0), hot[0].size))
    return _ex._Scene(
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

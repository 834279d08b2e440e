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
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .errors import InputError, OutputExistsError, ParameterError
from .example import DEFAULT_CLAW_SNR, DEFAULT_DATASET, validate_example_arguments
from .example_products import cal_model, rate_model, truth_hdulist
from .example_scene import MAX_SIZE, claw_geometry
from .example_visit_scene import exposure_scene, sky_catalog, unique_arc
from .example_wcs import set_pointing
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
    return _DITHERS[:n_exposures] * (size / MAX_SIZE)


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
    size: int = MAX_SIZE,
    seed: int = 0,
    claw_snr: float = DEFAULT_CLAW_SNR,
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
        Pixels on a side (`ds9claw.example_scene.MIN_SIZE` to ``MAX_SIZE``); the claw, the
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
    size, _, seed, claw_snr = validate_example_arguments(size, 0.0, seed, claw_snr, DEFAULT_DATASET)
    files = visit_paths(output_dir, int(n_exposures), size)
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} exists and is not a directory: give a directory")
    if not overwrite:
        for path in files.paths:
            if path.exists():
                raise OutputExistsError(f"{path} exists: pass `overwrite=True` to replace it")
    from stdatamodels.jwst.datamodels import ImageModel

    rng = np.random.default_rng(seed)
    scale = size / MAX_SIZE
    main_claw = claw_geometry(rng, size, scale)
    arc = unique_arc(rng, size, scale, main_claw)
    pad = float(np.abs(_DITHERS).max() * scale) + 20
    catalog = sky_catalog(rng, size, scale, pad=pad)
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
            scene = exposure_scene(
                np.random.default_rng(noise_seeds[index]),
                size=size,
                catalog=catalog,
                offset=np.asarray(exposure.offset),
                claws=shown if claws else [],
                claw_snr=claw_snr,
                depth=_DEPTH[index],
                main_claw=claw,
            )
            names = {"dataset": exposure.dataset, "channel": "SHORT"}
            cal = cal_model(ImageModel, scene, filename=exposure.cal, **names)
            rate = rate_model(ImageModel, scene, filename=exposure.rate, **names)
            for model in (cal, rate):
                set_pointing(model, size, np.asarray(exposure.offset))
            truth = truth_hdulist(scene, exposure.dataset, seed=seed, claw_snr=claw_snr)
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

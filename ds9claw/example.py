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

The rooms: `ds9claw.example_scene` draws the pixels (pure numpy, with the stars and
galaxies of `ds9claw.example_sources`), `ds9claw.example_products` turns them into the
JWST models, the truth image and the region text, `ds9claw.example_wcs` holds the WCS;
this module names the files and writes them.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, OutputExistsError, ParameterError
from .example_products import (
    PHOTMJSR,
    cal_model,
    detector_of,
    rate_model,
    region_text,
    truth_hdulist,
)
from .example_scene import (
    BACKGROUND_SIGMA,
    FLAT_ERROR,
    MAX_SIZE,
    MIN_SIZE,
    NOMINAL_SKY,
    POISSON_VARIANCE_PER_MJYSR,
    READ_NOISE,
    REFERENCE_BORDER,
    make_scene,
)
from .safeio import atomic_write

# The noise-model and size constants are documented with make_example (its arguments
# and its files), so they are named here too.
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
    "validate_example_arguments",
]

_log = logging.getLogger(__name__)

#: Dataset name used when none is given (program 9999 does not exist).
DEFAULT_DATASET = "jw09999001001_02101_00001_nrcb1"
#: Peak signal-to-noise per pixel of the claw's brightest point.
DEFAULT_CLAW_SNR = 3.5


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
    size, sky, seed, claw_snr = validate_example_arguments(size, sky, seed, claw_snr, dataset)
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
                    f"{path} exists: pass `overwrite=True` to replace it"
                )

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    scene = make_scene(rng, size=size, sky=sky, claw_snr=claw_snr)
    from stdatamodels.jwst.datamodels import ImageModel

    cal = cal_model(ImageModel, scene, dataset=dataset, filename=files.cal, channel=channel)
    rate = rate_model(ImageModel, scene, dataset=dataset, filename=files.rate, channel=channel)
    truth_hdul = truth_hdulist(scene, dataset, seed=seed, claw_snr=claw_snr)
    text = region_text(scene.polygon)
    folder.mkdir(parents=True, exist_ok=True)
    # A Path (not a str) keeps stdatamodels from renaming meta.filename after the temp file.
    _write_all(
        [
            (files.cal, partial(cal.to_fits, overwrite=True)),
            (files.rate, partial(rate.to_fits, overwrite=True)),
            (files.truth, partial(truth_hdul.writeto, overwrite=True)),
            (files.region, lambda temp: temp.write_text(text, encoding="ascii")),
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


def validate_example_arguments(
    size: Any, sky: Any, seed: Any, claw_snr: Any, dataset: Any
) -> tuple[int, float, int, float]:
    """Check the arguments of `make_example` (and of the example visit).

    Parameters
    ----------
    size, sky, seed, claw_snr, dataset
        As given to `make_example`.

    Returns
    -------
    size, sky, seed, claw_snr : int, float, int, float
        The values, converted.

    Raises
    ------
    ParameterError
        For a value that cannot be used, naming it and the range it must be in.
    """
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
    usable = isinstance(dataset, str) and detector_of(dataset) is not None
    if not usable or Path(dataset).name != dataset:
        raise ParameterError(
            f"dataset {dataset!r} must be a file-name stem ending with a NIRCam detector, "
            f"e.g. {DEFAULT_DATASET!r}"
        )
    return int(size), sky, int(seed), claw_snr


def _write_all(writers: list[tuple[Path, Callable[[Path], Any]]], *, overwrite: bool) -> None:
    """Write every file to a temporary name beside it, then rename them all into place.

    Each ``writer(temp_path)`` writes one complete file.  The renames happen only after
    all four are written; an error before that removes the temporary files and leaves
    existing files as they were (`ds9claw.safeio.atomic_write`).
    """
    with contextlib.ExitStack() as stack:
        for path, write in writers:
            write(stack.enter_context(atomic_write(path, overwrite=overwrite)))

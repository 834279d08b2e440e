"""The detection products: their names, their headers with provenance, the all-or-nothing write.

``<stem><suffix>.fits`` (float seed image) and ``<stem><suffix>_zeroonemask.fits``, as
the old ``util_detect_source_and_create_seed_image.py`` names them, and with
diagnostics the valid-pixel, background and rms images.  Each header carries the input
image's WCS and context and the provenance cards (`provenance_cards`), derived from the
one definition of the parameters (`ds9claw.parameters.PARAMETERS`).  Only
``astropy.io.fits`` is used, imported when a header is built or a file written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from . import __version__
from .detect import DetectionParameters, DetectionResult
from .errors import InputError, OutputExistsError
from .fitsio import Exposure
from .names import printable_name, product_names, stem_of
from .parameters import PARAMETERS
from .region_parse import RegionSource

__all__ = [
    "DEFAULT_SUFFIX",
    "output_paths",
    "product_header",
    "provenance_cards",
    "refuse_existing",
    "write_fits_atomically",
    "write_products",
]

#: Product suffix: ``X_cal.fits`` -> ``X_cal_claws_seed_image.fits``.
DEFAULT_SUFFIX = "_claws_seed_image"

_STRUCTURAL = {
    "SIMPLE",
    "XTENSION",
    "BITPIX",
    "NAXIS",
    "NAXIS1",
    "NAXIS2",
    "NAXIS3",
    "EXTEND",
    "PCOUNT",
    "GCOUNT",
    "EXTNAME",
    "EXTVER",
    "BZERO",
    "BSCALE",
    "CHECKSUM",
    "DATASUM",
    "BUNIT",
}
_CONTEXT_KEYS = (
    "TELESCOP",
    "INSTRUME",
    "DETECTOR",
    "FILTER",
    "PUPIL",
    "DATE-OBS",
    "TIME-OBS",
    "PROGRAM",
    "OBSERVTN",
    "VISIT",
    "EXPOSURE",
    "FILENAME",
)


def output_paths(
    source: str | Path,
    suffix: str,
    *,
    output_dir: str | Path | None = None,
    gzip: bool = False,
    diagnostics: bool = False,
) -> dict[str, Path]:
    """Names of the products for ``source``, as the old script names them.

    Parameters
    ----------
    source : str or pathlib.Path
        The input file (``dir/X_cal.fits``).
    suffix : str
        Product suffix (``"_claws_seed_image"``).
    output_dir : str or pathlib.Path, optional
        Directory of the products (default: the input's directory).
    gzip : bool
        Name them ``.fits.gz``.
    diagnostics : bool
        Include the diagnostic images (valid pixels, background, rms).

    Returns
    -------
    dict of str to pathlib.Path
        Keys ``seed`` and ``mask``, and with diagnostics ``valid``, ``background``, ``rms``.
    """
    source = Path(source)
    directory = Path(output_dir) if output_dir is not None else source.parent
    base = stem_of(source) + suffix
    ext = ".fits.gz" if gzip else ".fits"
    seed, mask = product_names(stem_of(source), suffix, ext)
    paths = {"seed": directory / seed, "mask": directory / mask}
    if diagnostics:
        paths["valid"] = directory / f"{base}_valid_pixels{ext}"
        paths["background"] = directory / f"{base}_bkg2d{ext}"
        paths["rms"] = directory / f"{base}_rms2d{ext}"
    return paths


def product_header(exposure: Exposure, provenance: Sequence[tuple[str, object, str]] = ()):
    """Header for a product: the image header's WCS and context, plus provenance cards.

    Parameters
    ----------
    exposure : Exposure
        The input image.
    provenance : sequence of (keyword, value, comment)
        Cards to add (keywords of at most 8 characters).

    Returns
    -------
    astropy.io.fits.Header
    """
    from astropy.io import fits

    header = fits.Header()
    for key in _CONTEXT_KEYS:
        if key in exposure.primary_header and key not in exposure.header:
            header[key] = (exposure.primary_header[key], exposure.primary_header.comments[key])
    for card in exposure.header.cards:
        if card.keyword in _STRUCTURAL or card.keyword in ("", "COMMENT", "HISTORY"):
            continue
        try:
            header.append(card, end=True)
        except (ValueError, KeyError):  # a malformed card is not worth failing for
            continue
    for key, value, comment in provenance:
        if isinstance(value, str):
            value = value[:68]
            if len(value) + len(comment) > 60:
                comment = ""  # a long value keeps the card within 80 characters
        header[key] = (value, comment)
    return header


def refuse_existing(paths: Iterable[Path]) -> None:
    """Raise `OutputExistsError` when any of ``paths`` exists (before anything is written).

    Parameters
    ----------
    paths : iterable of pathlib.Path
        Planned output files.

    Raises
    ------
    OutputExistsError
        Naming the first existing file and what to do.
    """
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise OutputExistsError(
            f"{existing[0]} exists: pass `overwrite=True` to replace it, or choose another "
            "`output_dir`"
        )


def write_fits_atomically(
    items: Iterable[tuple[Path, np.ndarray, object]], *, overwrite: bool
) -> None:
    """Write several single-HDU FITS files, all or nothing.

    Each file is written to a temporary name in its target directory, flushed and
    fsynced; only when all are written are they renamed into place.  Nothing is left
    behind on failure.

    Parameters
    ----------
    items : iterable of (path, data, header)
        Files to write (``.gz`` names are compressed).
    overwrite : bool
        Replace any existing file; otherwise only ds9claw's own earlier products are
        replaced and any other file is an error before anything is written
        (`ds9claw.overwrite.refuse_to_replace`).

    Raises
    ------
    OutputExistsError
        When a target may not be replaced (`ds9claw.overwrite.refuse_to_replace`).
    InputError
        When a directory is missing or not writable (nothing is written).
    """
    from astropy.io import fits

    from .overwrite import refuse_to_replace

    items = list(items)
    refuse_to_replace((p for p, _, _ in items), overwrite=overwrite)
    for directory in {p.parent for p, _, _ in items}:
        if not directory.is_dir():
            raise InputError(f"output directory {directory} does not exist: create it first")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise InputError(
                f"output directory {directory} is not writable: choose another `output_dir`"
            )
    from contextlib import ExitStack

    from .safeio import atomic_write, remove_stale_temps

    for p, _, _ in items:  # temporaries of a writer killed earlier (a dead worker's)
        remove_stale_temps(p)
    try:
        with ExitStack() as stack:
            # every file is complete on disk before the first one is renamed into place;
            # an error in any of them removes all the temporary files
            temporaries = [
                stack.enter_context(atomic_write(p, overwrite=True)) for p, _, _ in items
            ]
            for temp, (_, data, header) in zip(temporaries, items, strict=True):
                fits.PrimaryHDU(data=data, header=header).writeto(temp, overwrite=True)
    except OSError as error:
        where = error.filename or items[0][0].parent
        raise InputError(
            f"cannot write the products in {Path(where).parent if error.filename else where}: "
            f"{error.strerror or error}; free some space or choose another `output_dir`"
        ) from None


def provenance_cards(
    params: DetectionParameters,
    *,
    source: str,
    include: Sequence[RegionSource] = (),
    exclude: Sequence[RegionSource] = (),
    result: DetectionResult | None = None,
) -> list[tuple[str, object, str]]:
    """FITS cards that record how a product was made.

    Parameters
    ----------
    params : DetectionParameters
        Parameters used.
    source : str
        Input file name (recorded with tabs and non-ASCII characters escaped, see
        `ds9claw.names.printable_name`, since FITS cards hold printable ASCII only).
    include, exclude : sequence of RegionSource
        Region sources used (names and sha256 are recorded).
    result : DetectionResult, optional
        Adds the noise and the number of masked pixels.

    Returns
    -------
    list of (keyword, value, comment)
    """
    none = "none"
    cards: list[tuple[str, object, str]] = [
        ("CLAWSOFT", "ds9claw", "software that made this file"),
        ("CLAWVER", __version__, "ds9claw version"),
        ("CLAWINP", printable_name(Path(source).name), "input image"),
    ]
    for description in PARAMETERS:
        value = getattr(params, description.name)
        keyword, comment = description.fits
        cards.append((keyword, none if value is None else value, comment))
    for prefix, sources in (("CLAWI", include), ("CLAWX", exclude)):
        for number, region in enumerate(sources, start=1):
            name = printable_name(Path(region.name).name)
            cards.append((f"{prefix}R{number:02d}"[:8], name, "region"))
            cards.append((f"{prefix}S{number:02d}"[:8], region.sha256, ""))
    if result is not None:
        cards.append(("CLAWRMS", result.rms_value, "noise used in the threshold"))
        cards.append(("CLAWNPIX", result.n_masked, "pixels in the mask"))
    return cards


def write_products(
    exposure: Exposure,
    result: DetectionResult,
    *,
    source: str | Path,
    include: Sequence[RegionSource] = (),
    exclude: Sequence[RegionSource] = (),
    output_dir: str | Path | None = None,
    suffix: str = DEFAULT_SUFFIX,
    overwrite: bool = False,
    gzip: bool = False,
    save_diagnostics: bool = False,
) -> dict[str, Path]:
    """Write the seed image, the zero-one mask and, if asked, diagnostic images.

    All files are written, or none (see `write_fits_atomically`).

    Parameters
    ----------
    exposure : Exposure
        The input image (its header and WCS go into the products).
    result : DetectionResult
        What to write.
    source : str or pathlib.Path
        The input file name the products are named after.
    include, exclude : sequence of RegionSource
        Regions used, for the provenance keywords.
    output_dir : str or pathlib.Path, optional
        Where to write (default: beside ``source``).
    suffix : str
        Product suffix.
    overwrite : bool
        Replace existing products.
    gzip : bool
        Write ``.fits.gz``.
    save_diagnostics : bool
        Also write valid-pixel, background and rms images.

    Returns
    -------
    dict of str to pathlib.Path
        Paths written, keyed ``seed``, ``mask`` (and ``valid``, ``background``, ``rms``).
    """
    if not suffix or "/" in suffix or "\\" in suffix:
        raise InputError(f"output suffix {suffix!r} must be a non-empty name without '/'")
    paths = output_paths(
        source, suffix, output_dir=output_dir, gzip=gzip, diagnostics=save_diagnostics
    )
    header = product_header(
        exposure,
        provenance_cards(
            result.params, source=str(source), include=include, exclude=exclude, result=result
        ),
    )
    items: list[tuple[Path, np.ndarray, object]] = [
        (paths["seed"], result.seed, header),
        (paths["mask"], result.mask.astype(np.uint8), header),
    ]
    if save_diagnostics:
        nan = np.float32(np.nan)
        background = (
            result.full_frame(result.background, nan)
            if result.background is not None
            else np.zeros(result.mask.shape, np.float32)
        )
        rms = (
            result.full_frame(result.rms, nan)
            if result.rms is not None
            else np.full(result.mask.shape, np.float32(result.rms_value))
        )
        items += [
            (paths["valid"], result.full_frame(result.valid.astype(np.uint8)), header),
            (paths["background"], background, header),
            (paths["rms"], rms, header),
        ]
    write_fits_atomically(items, overwrite=overwrite)
    return paths

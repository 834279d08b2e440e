"""Reading exposures and writing the seed, mask and diagnostic products.

Only ``astropy.io.fits`` is used here: a JWST cal or rate file is read as FITS (SCI,
DQ, and the WCS keywords of the SCI header), which is several times faster than opening
it as a data model and gives the same pixels.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError, OutputExistsError
from .names import product_names, stem_of

__all__ = [
    "Exposure",
    "exposure_from_bytes",
    "output_paths",
    "product_header",
    "read_exposure",
    "refuse_existing",
    "stem_of",
    "write_fits_atomically",
]

_log = logging.getLogger(__name__)

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


@dataclass
class Exposure:
    """A 2-D image with what detection needs from its file.

    Attributes
    ----------
    image : numpy.ndarray
        Science pixels (float32).
    dq : numpy.ndarray or None
        DQ array (uint32) when the file has a DQ extension of the same shape.
    header : astropy.io.fits.Header
        Header of the image HDU (with its WCS keywords).
    primary_header : astropy.io.fits.Header
        Primary header of the file (equal to ``header`` for a primary-HDU image).
    path : pathlib.Path or None
        The file it came from (``None`` for bytes from DS9 or SAMP).
    extname : str
        Which HDU the image came from (``"SCI"``, ``"PRIMARY"``, ``"1"`` ...).
    name : str
        Name used in messages.
    """

    image: np.ndarray
    dq: np.ndarray | None
    header: object
    primary_header: object
    path: Path | None = None
    extname: str = "PRIMARY"
    name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.name:
            self.name = str(self.path) if self.path is not None else "<image>"

    @property
    def shape(self) -> tuple[int, int]:
        """Image shape (ny, nx)."""
        return self.image.shape  # type: ignore[return-value]


def read_exposure(path: str | Path, *, read_dq: bool = True) -> Exposure:
    """Read the 2-D science image (and DQ) of a FITS file.

    The image is the ``SCI`` extension when there is one (JWST cal/rate), else the
    primary HDU when it holds a 2-D image, else the first 2-D image extension.
    ``.fits.gz`` files are read the same way.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    read_dq : bool
        Also read the ``DQ`` extension when present.

    Returns
    -------
    Exposure

    Raises
    ------
    InputError
        When the file is missing, not FITS, cut short (`ds9claw.fitscheck`), holds no
        image, or holds a cube.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist: check the file name")
    if path.is_dir():
        raise InputError(f"{path} is a directory: give a FITS file such as X_cal.fits")
    from astropy.io import fits

    from .fitscheck import check_complete

    layout = check_complete(path)  # a file cut short is refused before astropy reads it
    try:
        with fits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
            exposure = _exposure_from_hdul(hdul, name=str(path), path=path, read_dq=read_dq)
    except InputError:
        raise
    except (OSError, ValueError, TypeError, EOFError) as error:
        raise InputError(f"{path} is not a readable FITS file ({_short(error)})") from None
    if read_dq and layout.datamodel and "DQ" not in layout.extnames:
        _log.warning(
            "%s: a JWST %s file without a DQ extension (damaged?): every finite pixel is "
            "taken as valid",
            path,
            layout.datamodel,
        )
    return exposure


def exposure_from_bytes(data: bytes, *, name: str = "DS9 frame", read_dq: bool = True) -> Exposure:
    """Read an image sent as FITS bytes (DS9's ``fits`` answer, a SAMP download).

    Parameters
    ----------
    data : bytes
        A complete FITS file.
    name : str
        Name used in messages.
    read_dq : bool
        Also read a ``DQ`` extension when present.

    Returns
    -------
    Exposure

    Raises
    ------
    InputError
        When the bytes are not FITS or hold no 2-D image.
    """
    if not data:
        raise InputError(f"{name} is empty: no image is loaded")
    from astropy.io import fits

    from .fitscheck import check_complete

    check_complete(data, name=name)
    try:
        with fits.open(io.BytesIO(data), memmap=False) as hdul:
            return _exposure_from_hdul(hdul, name=name, path=None, read_dq=read_dq)
    except InputError:
        raise
    except (OSError, ValueError, TypeError, EOFError) as error:
        raise InputError(f"{name} is not a readable FITS image ({_short(error)})") from None


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:120] if text else type(error).__name__


def _exposure_from_hdul(hdul, *, name: str, path: Path | None, read_dq: bool) -> Exposure:
    index = _image_hdu_index(hdul, name)
    hdu = hdul[index]
    data = hdu.data
    image = np.asarray(data, dtype=np.float32)
    if image.ndim != 2:
        raise InputError(f"{name}: HDU {index} is {image.ndim}-D; give a 2-D image")
    dq = None
    if read_dq and "DQ" in hdul and index != hdul.index_of("DQ"):
        dq_data = hdul["DQ"].data
        if dq_data is not None and dq_data.shape == image.shape:
            dq = np.asarray(dq_data).astype(np.uint32, copy=False)
        elif dq_data is not None:
            _log.warning(
                "%s: DQ shape %s differs from SCI %s; DQ ignored", name, dq_data.shape, image.shape
            )
    extname = "PRIMARY" if index == 0 else str(hdu.header.get("EXTNAME", index))
    return Exposure(
        image=image,
        dq=dq,
        header=hdu.header.copy(),
        primary_header=hdul[0].header.copy(),
        path=path,
        extname=extname,
        name=name,
    )


def _image_hdu_index(hdul, name: str) -> int:
    shapes = []
    for index, hdu in enumerate(hdul):
        naxis = int(hdu.header.get("NAXIS", 0))
        is_image = hdu.header.get("XTENSION", "IMAGE") in ("IMAGE", "") or index == 0
        shapes.append((index, naxis if is_image else 0, hdu.header.get("EXTNAME", "")))
    for index, naxis, extname in shapes:
        if str(extname).upper() == "SCI" and naxis == 2:
            return index
    for index, naxis, _ in shapes:
        if naxis == 2:
            return index
    cubes = [(i, n) for i, n, _ in shapes if n >= 3]
    if cubes:
        index, naxis = cubes[0]
        dims = "x".join(str(hdul[index].header.get(f"NAXIS{k}")) for k in range(1, naxis + 1))
        raise InputError(
            f"{name}: HDU {index} is a {naxis}-D cube ({dims}), not a 2-D image; "
            "give a cal/rate file or one plane of the cube"
        )
    raise InputError(f"{name} has no 2-D image in any HDU")


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
            f"{existing[0]} exists: pass --overwrite to replace it, or choose --output-dir"
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
                f"output directory {directory} is not writable: choose another --output-dir"
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
            f"{error.strerror or error}; free some space or choose another --output-dir"
        ) from None

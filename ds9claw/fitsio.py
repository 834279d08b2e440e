"""Reading exposures: a cal or rate file, or FITS bytes from DS9, as an `Exposure`.

Only ``astropy.io.fits`` is used here: a JWST cal or rate file is read as FITS (SCI,
DQ, and the WCS keywords of the SCI header), which is several times faster than opening
it as a data model and gives the same pixels.  The products are written by
`ds9claw.products`.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError

__all__ = ["Exposure", "exposure_from_bytes", "read_exposure"]

_log = logging.getLogger(__name__)


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

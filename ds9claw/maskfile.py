"""Read claw masks from FITS files by what they hold, and put them on a rate file's pixel grid.

A mask is told from an exposure by its content, not by its name or an ``EXTNAME``:

* an **exposure** (refused) has a ``DATAMODL`` keyword, a ``DQ`` array, or a ``SCI``
  *extension* holding science values (outside 0..1);
* a **ds9claw product** is a single image written by ``ds9claw detect`` (``CLAWSOFT``);
* an **old-script product** of ``util_detect_source_and_create_seed_image.py``
  (Crab.Toolkit.JWST) is a *primary* HDU whose header is the cal's SCI header copied whole
  (so ``EXTNAME = 'SCI'`` and the real WCS are there), holding 0/1 integers (the zero-one
  mask) or 0..1 floats (the seed image);
* anything else with one 2-D image is a **plain image**.

Every mask holds 0/1 (or other whole numbers >= 0) or 0..1 seed values; pixels > 0 are
masked.  A negative value or a fraction above 1 means a science image was given as a mask,
which is refused.

A mask on another pixel grid (made on another exposure or on a mosaic) is reprojected onto
the rate's grid through the two celestial WCSs with the ``reproject`` package (imported
only then): a rate pixel is masked where the 0/1 mask, interpolated bilinearly at its
centre, is above `TOUCH_THRESHOLD` (a pixel whose centre lies within one mask pixel of a
masked one is masked: the mask grows rather than lets claw pixels through).
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError

__all__ = [
    "EXPOSURE_MESSAGE",
    "MASK_KINDS",
    "TOUCH_THRESHOLD",
    "MaskImage",
    "celestial_wcs",
    "read_fits_mask",
    "reproject_mask",
]

_log = logging.getLogger(__name__)

#: What each kind of mask file is, for the user.
MASK_KINDS: dict[str, str] = {
    "ds9claw": "ds9claw detect product",
    "old-zero-one": "zero-one mask of the old util_detect_source_and_create_seed_image.py",
    "old-seed": "seed image of the old util_detect_source_and_create_seed_image.py",
    "image": "plain 2-D FITS image",
}
#: The refusal of an exposure given as a mask (``{path}`` is the file).
EXPOSURE_MESSAGE = (
    "mask {path} is an exposure (it has a SCI extension or a DATAMODL keyword), not a mask: "
    "give the _zeroonemask or seed image file"
)
_FITS_MAGIC = b"SIMPLE  ="
_SEED_TOLERANCE = 1e-6
#: A reprojected pixel is masked where the bilinear interpolation of the 0/1 mask exceeds
#: this: it touches a masked pixel (rounding in the WCS transforms stays below it).
TOUCH_THRESHOLD = 1e-3  # float32 smoothing may overshoot 1 by a rounding error


@dataclass(frozen=True)
class MaskImage:
    """The image of a FITS mask file, with what it is.

    Attributes
    ----------
    data : numpy.ndarray
        The 2-D image as stored (0/1, whole numbers or 0..1 seed values).
    header : astropy.io.fits.Header
        The header of the HDU that holds it (its WCS places the mask on the sky).
    kind : str
        A key of `MASK_KINDS`.
    context : dict of str
        ``DETECTOR`` and ``FILENAME`` of the exposure it was made from, where recorded.
    """

    data: np.ndarray = field(repr=False)
    header: object = field(repr=False)
    kind: str
    context: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """What the file is, in words."""
        return MASK_KINDS[self.kind]


def _finite_range(data: np.ndarray) -> tuple[float, float] | None:
    if data.dtype.kind == "b" or data.size == 0:
        return None
    if data.dtype.kind == "f":
        finite = data[np.isfinite(data)]
        if finite.size == 0:
            return None
        return float(finite.min()), float(finite.max())
    return float(data.min()), float(data.max())


def _science_values(data: np.ndarray) -> str:
    """'' for mask values, else a description of the values that no mask holds."""
    span = _finite_range(data)
    if span is None:
        return ""
    low, high = span
    if low < 0:
        return f"it has negative values (down to {low:.4g})"
    if data.dtype.kind == "f" and high > 1 + _SEED_TOLERANCE:
        above = data[np.isfinite(data) & (data > 1 + _SEED_TOLERANCE)]
        if np.any(above != np.round(above)):
            return f"it has fractional values above 1 (up to {high:.4g})"
    return ""


def _is_exposure(hdul) -> bool:
    if "DATAMODL" in hdul[0].header:
        return True
    for index, hdu in enumerate(hdul):
        name = str(hdu.header.get("EXTNAME", "")).strip().upper()
        if name == "DQ" and hdu.header.get("NAXIS", 0) >= 2:
            return True
        science = index > 0 and name == "SCI" and hdu.is_image
        if science and hdu.header.get("NAXIS", 0) >= 2 and _science_values(np.asarray(hdu.data)):
            return True
    return False


def _kind(hdul, index: int, data: np.ndarray) -> str:
    header = hdul[index].header
    software = str(header.get("CLAWSOFT", hdul[0].header.get("CLAWSOFT", ""))).strip()
    if software == "ds9claw":
        return "ds9claw"
    if index == 0 and str(header.get("EXTNAME", "")).strip().upper() == "SCI":
        if data.dtype.kind in "biu":
            return "old-zero-one"
        with np.errstate(invalid="ignore"):
            values = data[np.isfinite(data)]
        return "old-zero-one" if np.all((values == 0) | (values == 1)) else "old-seed"
    return "image"


def read_fits_mask(path: Path, data: bytes) -> MaskImage:
    """Read the mask image of a FITS file (already decompressed) and tell what it is.

    Parameters
    ----------
    path : pathlib.Path
        The file (for messages).
    data : bytes
        Its uncompressed bytes.

    Returns
    -------
    MaskImage

    Raises
    ------
    InputError
        For an exposure (a rate or cal: `EXPOSURE_MESSAGE`), a file that is not FITS, is
        damaged or truncated, holds no 2-D image, or holds science values.
    """
    from astropy.io import fits

    if not data.startswith(_FITS_MAGIC):
        raise InputError(f"mask {path} is not a FITS file: give a FITS mask or a DS9 region file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with fits.open(io.BytesIO(data), memmap=False) as hdul:
                if _is_exposure(hdul):
                    raise InputError(EXPOSURE_MESSAGE.format(path=path))
                found = None
                for index, hdu in enumerate(hdul):
                    if hdu.is_image and hdu.header.get("NAXIS", 0) >= 2:
                        found = index, np.asarray(hdu.data), hdu.header.copy()
                        break
                if found is None:
                    raise InputError(f"mask {path} has no image in any HDU")
                index, image, header = found
                context: dict[str, str] = {}
                for key in ("DETECTOR", "FILENAME"):
                    value = header.get(key, hdul[0].header.get(key))
                    if value is not None:
                        context[key] = str(value).strip()
                image = np.squeeze(image) if image.ndim > 2 else image
                if image.ndim != 2:
                    raise InputError(
                        f"mask {path} is {image.ndim}-D {image.shape}: give a 2-D mask"
                    )
                kind = _kind(hdul, index, image)
    except InputError:
        raise
    except Exception as error:
        raise InputError(
            f"mask {path} is damaged or truncated ({type(error).__name__}: {error}): write it "
            "again with ds9claw detect"
        ) from None
    problem = _science_values(image)
    if problem:
        raise InputError(
            f"mask {path} is not a mask: {problem}, but a mask holds 0/1 or 0..1 seed values "
            "(was a science image given as the mask?)"
        )
    return MaskImage(data=image, header=header, kind=kind, context=context)


def celestial_wcs(header):
    """The celestial WCS of a header, or None when it has none (or a broken one).

    Parameters
    ----------
    header : astropy.io.fits.Header or None

    Returns
    -------
    astropy.wcs.WCS or None
        A 2-D celestial WCS.
    """
    if header is None:
        return None
    from astropy.wcs import WCS, FITSFixedWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header, naxis=2)
    except Exception as error:
        _log.debug("no usable WCS: %s", error)
        return None
    if not wcs.has_celestial or wcs.naxis != 2:
        return None
    return wcs.celestial


def reproject_mask(
    mask: np.ndarray, mask_header, target_header, shape: tuple[int, int]
) -> np.ndarray:
    """Put a mask made on another pixel grid onto the target grid through the two WCSs.

    Parameters
    ----------
    mask : numpy.ndarray
        The 2-D mask (boolean, or 0..1 seed values: pixels > 0 are masked).
    mask_header, target_header : astropy.io.fits.Header
        Headers with the celestial WCS of the mask and of the target SCI.
    shape : tuple of int
        The target SCI shape (ny, nx).

    Returns
    -------
    numpy.ndarray
        Boolean mask of ``shape``: True where the mask, interpolated bilinearly at the
        pixel centre, is above `TOUCH_THRESHOLD` (pixels outside the mask's footprint are
        not masked).

    Raises
    ------
    InputError
        When either header has no celestial WCS (the message says which).
    """
    source_wcs = celestial_wcs(mask_header)
    target_wcs = celestial_wcs(target_header)
    missing = [
        name for name, wcs in (("the mask", source_wcs), ("the rate", target_wcs)) if wcs is None
    ]
    if missing:
        raise InputError(
            f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} no celestial "
            "WCS, so a mask of another shape cannot be reprojected"
        )
    from reproject import reproject_interp

    with np.errstate(invalid="ignore"):
        values = (np.asarray(mask) > 0).astype(np.float32)
    with warnings.catch_warnings():
        # reproject and astropy.wcs warn about e.g. SIP with a non-SIP CTYPE: not our input
        warnings.simplefilter("ignore")
        result, footprint = reproject_interp(
            (values, source_wcs),
            target_wcs,
            shape_out=tuple(shape),
            order="bilinear",
            return_footprint=True,
        )
    with np.errstate(invalid="ignore"):
        return np.asarray((result > TOUCH_THRESHOLD) & (footprint > 0))

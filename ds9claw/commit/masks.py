"""Loading the masks of a commit: FITS masks, region files, templates, reprojection.

See `ds9claw.commit` for how a commit keeps the file safe.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..names import FITS_SUFFIX, resolve_template
from .reports import (
    _FITS_MAGIC,
    _GZIP_MAGIC,
    MaskInput,
)

__all__ = [
    "expand_mask_template",
    "load_masks",
]

_log = logging.getLogger(__name__)


def expand_mask_template(template: str, rate: str | Path) -> Path:
    """The mask path for ``rate`` from a template such as ``{dataset}_cal_claws_seed_image.fits``.

    The rule of every template (`ds9claw.names.resolve_template`): ``{dataset}``,
    ``{stem}``, ``{name}`` and ``{dir}`` are filled in for ``rate``; a relative result is
    beside ``rate``; ``{{`` and ``}}`` are literal braces; a template without fields, or
    one naming an existing file as it is (``brace{x}_mask.fits``), is that file.

    Parameters
    ----------
    template : str
        The mask name or template.
    rate : str or pathlib.Path
        The rate file.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ParameterError
        For an unknown field or a malformed template.
    """
    return resolve_template(template, rate, what="mask")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_fits_mask(path: Path, raw: bytes):
    from ..maskfile import read_fits_mask

    data = raw
    if raw[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise InputError(
                f"mask {path} is a damaged or truncated gzip file ({error}): write it again"
            ) from None
    return read_fits_mask(path, data)


def load_masks(
    paths: Sequence[str | Path], shape: tuple[int, int], *, header=None
) -> list[MaskInput]:
    """Read mask files (FITS or DS9 regions) as boolean masks of a given shape.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        FITS masks (``.fits``/``.fits.gz``; 0/1 masks or float seed images from
        ``ds9claw detect``: pixels > 0 are masked) or DS9 region files (shapes become
        masks; ``-`` shapes are cut out).
    shape : tuple of int
        The target SCI shape (ny, nx).
    header : astropy.io.fits.Header, optional
        The target SCI header: its WCS places sky-coordinate regions.

    Returns
    -------
    list of MaskInput

    Raises
    ------
    InputError
        For a missing, unreadable, truncated or non-FITS mask, an exposure given as a
        mask, or one whose shape is not ``shape`` and that cannot be reprojected (no
        celestial WCS in it or in ``header``; the message names both shapes).

    Notes
    -----
    FITS masks are told from exposures by content (`ds9claw.maskfile`); a FITS mask of
    another shape is reprojected onto the target grid through its WCS and ``header``'s
    (`ds9claw.maskfile.reproject_mask`).
    """
    if not paths:
        raise InputError("no mask given: name a mask FITS file or a DS9 region file")
    out: list[MaskInput] = []
    for value in paths:
        path = Path(value)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"mask {path} does not exist: check the name") from None
        except IsADirectoryError:
            raise InputError(f"mask {path} is a directory, not a file") from None
        except OSError as error:
            raise InputError(f"cannot read mask {path}: {error.strerror}") from None
        if not raw:
            raise InputError(f"mask {path} is empty (0 bytes): write it again")
        is_fits = raw.startswith(_FITS_MAGIC) or raw[:2] == _GZIP_MAGIC
        description, reprojected_from = "", None
        if is_fits or FITS_SUFFIX.search(path.name):
            image = _read_fits_mask(path, raw)
            with np.errstate(invalid="ignore"):
                mask = np.asarray(image.data > 0)
            kind, context, description = "fits", image.context, image.description
            if mask.shape != tuple(shape):
                reprojected_from = mask.shape
                mask = _reproject(path, image, mask, shape, header)
        else:
            from ..region_mask import region_masks
            from ..region_parse import RegionSource

            source = RegionSource.from_file(path)
            try:
                include, exclude = region_masks(shape, include=[source], header=header)
            except (ValueError, OverflowError) as error:
                # e.g. sky shapes that the image's WCS cannot place (another field)
                raise InputError(
                    f"region file {path} cannot be placed on the {shape[1]}x{shape[0]} image "
                    f"({type(error).__name__}: {error}): is it for another exposure or field?"
                ) from None
            assert include is not None
            mask = include if exclude is None else include & ~exclude
            kind = "region"
            context = {}
        if mask.shape != tuple(shape):
            raise InputError(
                f"mask {path} is {mask.shape[1]}x{mask.shape[0]} (shape {mask.shape}) but the "
                f"SCI image is {shape[1]}x{shape[0]} (shape {tuple(shape)}): was it made from "
                "another exposure?"
            )
        out.append(
            MaskInput(
                path=path,
                kind=kind,
                sha256=_sha256(raw),
                mask=mask,
                detector=context.get("DETECTOR", ""),
                source_file=context.get("FILENAME", ""),
                description=description,
                reprojected_from=reprojected_from,
            )
        )
    return out


def _reproject(path: Path, image, mask: np.ndarray, shape, header) -> np.ndarray:
    """The mask of another shape on the target grid, or the shape error without WCSs."""
    from ..maskfile import celestial_wcs, reproject_mask

    missing = [
        name
        for name, wcs in (
            ("the mask", celestial_wcs(image.header)),
            ("the rate", celestial_wcs(header)),
        )
        if wcs is None
    ]
    if missing:
        which = "neither file has a" if len(missing) == 2 else f"{missing[0]} has no"
        raise InputError(
            f"mask {path} is {mask.shape[1]}x{mask.shape[0]} (shape {mask.shape}) but the "
            f"SCI image is {shape[1]}x{shape[0]} (shape {tuple(shape)}) and {which} "
            "celestial WCS to reproject it: was it made from another exposure?"
        )
    _log.info("reprojecting mask %s from %s onto %s", path.name, mask.shape, tuple(shape))
    return reproject_mask(image.data, image.header, header, shape)

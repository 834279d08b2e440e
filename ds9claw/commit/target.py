"""Inspecting the file to commit into, from its header only (fast: no data read).

See `ds9claw.commit` for how a commit keeps the file safe.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import CommitError, InputError
from ..names import (
    BACKUP_SUFFIX,
    dataset_name,
)
from .reports import (
    _FITS_MAGIC,
)

__all__ = [
]

_log = logging.getLogger(__name__)


@dataclass
class _Target:
    path: Path
    shape: tuple[int, ...]
    instrument: str
    datamodel: str
    is_cal: bool
    has_dq: bool
    sci_header: object
    history_text: str
    detector: str = ""
    filename: str = ""


def _inspect_target(path: Path, *, force: bool) -> _Target:
    """Header-level checks of the target (fast: no data read)."""
    _check_target_file(path, force=force)
    target = _read_target_headers(path)
    _check_target_kind(target, force=force)
    return target


def _check_target_file(path: Path, *, force: bool) -> None:
    """The target is an existing, plain, complete FITS file and not a ds9claw backup."""
    if not path.exists():
        raise InputError(f"{path} does not exist: check the file name")
    if not path.is_file():
        raise InputError(f"{path} is not a regular file")
    if path.name.lower().endswith(".gz"):
        raise InputError(
            f"{path} is compressed: gunzip it first (calwebb_image2 reads plain .fits)"
        )
    if BACKUP_SUFFIX in path.name and not force:
        raise InputError(
            f"{path} is a ds9claw backup: commit to the rate file itself (or pass `force=True`)"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_FITS_MAGIC))
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}") from None
    if head != _FITS_MAGIC:
        raise InputError(f"{path} is not a FITS file: give a JWST *_rate.fits or *_cal.fits")
    from ..fitscheck import check_complete

    check_complete(path)  # a file cut short (in an HDU or before ASDF) is refused


def _read_target_headers(path: Path) -> _Target:
    """What a commit needs from the primary and SCI headers (SCI is required)."""
    from astropy.io import fits

    try:
        with fits.open(path, memmap=True, lazy_load_hdus=True) as hdul:
            primary = hdul[0].header
            try:
                sci = hdul["SCI"].header
            except KeyError:
                raise InputError(
                    f"{path} has no SCI extension: give a JWST *_rate.fits or *_cal.fits"
                ) from None
            try:
                hdul["DQ"]
                has_dq = True
            except KeyError:
                has_dq = False
            shape = tuple(int(sci.get(f"NAXIS{i}", 0)) for i in range(sci.get("NAXIS", 0), 0, -1))
            history = "".join(str(v) for v in primary.get("HISTORY", []))
            return _Target(
                path=path,
                shape=shape,
                instrument=str(primary.get("INSTRUME", "")).strip().upper(),
                datamodel=str(primary.get("DATAMODL", "")).strip(),
                is_cal=(
                    str(primary.get("S_PHOTOM", "")).strip().upper() == "COMPLETE"
                    or dataset_name(path) + "_cal" in path.name
                ),
                has_dq=has_dq,
                sci_header=sci.copy(),
                history_text=history,
                detector=str(primary.get("DETECTOR", "")).strip().upper(),
                filename=str(primary.get("FILENAME", "")).strip() or path.name,
            )
    except InputError:
        raise
    except (OSError, ValueError, TypeError, IndexError) as error:
        raise InputError(f"cannot read {path} as FITS: {error}") from None


def _check_target_kind(target: _Target, *, force: bool) -> None:
    """The target is a 2-D NIRCam ImageModel (only the 2-D check ignores ``force``)."""
    path = target.path
    if len(target.shape) != 2:
        raise InputError(
            f"{path}: SCI is {len(target.shape)}-D {target.shape}; commit to a 2-D *_rate.fits "
            "(not *_rateints)"
        )
    if not target.datamodel and not force:
        raise InputError(
            f"{path} has no DATAMODL keyword: not a JWST datamodel file (pass `force=True` to try)"
        )
    if target.instrument != "NIRCAM" and not force:
        raise InputError(
            f"{path} is a {target.instrument or 'non-JWST'} file, not NIRCam: ds9claw commits "
            "claw masks into NIRCam files (pass `force=True` to commit anyway)"
        )
    if target.datamodel != "ImageModel" and not force:
        raise InputError(
            f"{path} is a {target.datamodel or 'plain FITS'} file, not an ImageModel: give a "
            "*_rate.fits or *_cal.fits (pass `force=True` to commit anyway)"
        )


def _read_only(path: Path) -> bool:
    """True if ``path`` cannot be written, or has no write bit at all (even for root)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _check_writable(target: Path, dest: Path, in_place: bool) -> None:
    directory = dest.parent
    if not directory.is_dir():
        raise CommitError(f"directory {directory} does not exist: create it first")
    if in_place and _read_only(target):
        raise CommitError(
            f"{target} is read-only: make it writable (chmod u+w) to commit in place, or write "
            "a new file with `output`; nothing was changed"
        )
    if _read_only(directory) or not os.access(directory, os.W_OK | os.X_OK):
        raise CommitError(
            f"directory {directory} is read-only: ds9claw writes a temporary file and a backup "
            "there; use an `output` in a writable directory; nothing was changed"
        )

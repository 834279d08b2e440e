"""Commit a claw mask into the DQ of a JWST rate (or cal) file, and undo it.

`commit_mask` ORs DQ bits (default ``DO_NOT_USE+UNRELIABLE_DARK+UNRELIABLE_FLAT+
OTHER_BAD_PIXEL``) into the DQ array where the mask is set, sets the science pixels
there to a fill value, and adds one history entry (with a software record, through
stdatamodels' ``add_history_entry``).  Rerunning calwebb_image2 and calwebb_image3 then
leaves those pixels out of the mosaic: resample skips pixels with ``DO_NOT_USE``.

The file is never lost or left half-written:

1. Everything that can be checked is checked first (target is a JWST datamodel with a
   2-D SCI, NIRCam ImageModel unless ``force``; masks readable and of the SCI shape;
   file and directory writable).  Nothing is written before.
2. An exclusive lock on the target (`ds9claw.safeio.file_lock`) serialises commits.
3. The datamodel is opened, changed in memory and saved to a temporary file in the same
   directory, which is fsynced and then **verified** by reading it back with astropy
   and comparing it with the original file on disk: DQ equals ``old | bits`` exactly on
   the mask and nowhere else, SCI changed only on the mask, every other image extension
   (ERR, VAR_POISSON, VAR_RNOISE, VAR_FLAT, ...) bit-identical, the history entry
   present.
4. Only then is the backup ``<stem>_before_removing_claws.fits`` made (never
   overwritten; a hard link to the original, which the rename below leaves untouched,
   or a copy where links are not possible) and the temporary file renamed over the
   target (atomic), and the directory fsynced.

`revert` puts the backup back after checking that it is the file the commit started from
(the sha256 recorded in the history, the same exposure) and that nothing but the commits
would be thrown away (`ds9claw.revertcheck`).

Masks are told from exposures by content and reprojected from another pixel grid
(`ds9claw.maskfile`).  Rates the old tools (Crab.Toolkit.JWST) already cleaned carry their
``Removed claws with <tool> (<time>)`` entry and the same backup name
(`ds9claw.history`): a commit refuses them unless ``force``, and keeps their backup, the
true original.

History: each commit adds exactly one entry, ``Removed claws with ds9claw <version>: mask
<file> (sha256 <hex>); DQ flags <names> (<int>) ORed into <n> pixels (<m> newly flagged);
SCI set to <fill> there. Original file (backup <name>): sha256 <hex>.`` (the last
sentence with a backup), with the software record `SOFTWARE`, in the ASDF extension
and as FITS ``HISTORY`` cards (72 characters each, so one entry spans several cards).
Note that stdatamodels rebuilds the history from the ``HISTORY`` cards whenever it opens
a FITS file, one entry per card and without software records; this is its behaviour for
every tool (and the pipeline), and ds9claw reads its earlier entries from the joined
cards.

Speed: the pixels go through one stdatamodels open and save (about 0.1 s each for a
2048 x 2048 file once the ASDF schemas are loaded), the check reads both files back
with astropy, and the backup is a hard link (no copy); see ``benchmarks/bench_commit.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import filecmp
import gzip
import hashlib
import logging
import math
import os
import stat
import time
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .dq import DEFAULT_COMMIT_FLAGS, flag_names, interpret_flags
from .errors import CommitError, Ds9ClawError, InputError, OutputExistsError, ParameterError
from .history import ORIGINAL_SHA_TEXT, old_tool_entries, original_sha256
from .names import (
    BACKUP_SUFFIX,
    FITS_SUFFIX,
    backup_path_for,
    dataset_name,
    expand_name_template,
    printable_name,
    template_fields,
)
from .safeio import (
    atomic_write,
    copy_file_into,
    file_lock,
    fsync_file,
    make_backup,
    refuse_link,
    remove_stale_temps,
)

__all__ = [
    "BACKUP_SUFFIX",
    "HISTORY_PREFIX",
    "SOFTWARE",
    "CommitReport",
    "MaskInput",
    "RevertReport",
    "backup_path_for",
    "commit_mask",
    "dataset_name",
    "expand_mask_template",
    "load_masks",
    "revert",
]

_log = logging.getLogger(__name__)

#: Every history entry written by `commit_mask` starts with this and the version.
HISTORY_PREFIX = "Removed claws with ds9claw"
#: The software record of the history entry (the ASDF ``software`` schema keys).
SOFTWARE: dict[str, str] = {
    "name": "ds9claw",
    "author": "The ds9claw developers",
    "version": __version__,
    "homepage": "https://github.com/ds9claw/ds9claw",
}
#: Seconds a commit waits for another commit of the same file before giving up.
DEFAULT_LOCK_TIMEOUT = 60.0

_FITS_MAGIC = b"SIMPLE  ="
_GZIP_MAGIC = b"\x1f\x8b"
_SPACE_ERRNOS = {28, 27, 122}  # ENOSPC, EFBIG, EDQUOT


@dataclass(frozen=True)
class MaskInput:
    """One mask read from a FITS file or a DS9 region file.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    kind : str
        ``"fits"`` or ``"region"``.
    sha256 : str
        Checksum of the file's bytes.
    mask : numpy.ndarray
        Boolean mask with the target's SCI shape.
    detector : str
        ``DETECTOR`` of the exposure the mask was made from (FITS masks written by
        ``ds9claw detect``), or ``""``.
    source_file : str
        ``FILENAME`` of that exposure, or ``""``.
    description : str
        What a FITS mask file is (`ds9claw.maskfile.MASK_KINDS`), or ``""``.
    reprojected_from : tuple of int or None
        The shape of a FITS mask made on another pixel grid and reprojected onto the
        target's through the two WCSs; None when it was on the target's grid.
    """

    path: Path
    kind: str
    sha256: str
    mask: np.ndarray = field(repr=False)
    detector: str = ""
    source_file: str = ""
    description: str = ""
    reprojected_from: tuple[int, int] | None = None

    @property
    def n_pixels(self) -> int:
        """Number of masked pixels."""
        return int(np.count_nonzero(self.mask))


@dataclass
class CommitReport:
    """What `commit_mask` did (or, for a dry run, would do).

    Attributes
    ----------
    target : pathlib.Path
        The rate (or cal) file the mask was committed to.
    output : pathlib.Path
        The file written (``target`` itself when in place).
    status : str
        ``"committed"``, ``"already-committed"`` (every masked pixel already had the
        bits and the fill value: nothing written), ``"empty"`` (the masks have no
        pixel: nothing written) or ``"dry-run"`` (nothing written).
    flags : int
        The DQ bits ORed in.
    fill_value : float
        The SCI value of masked pixels.
    masks : tuple of pathlib.Path
        The mask files.
    mask_sha256 : tuple of str
        Their checksums.
    n_masked : int
        Pixels in the combined mask (all carry ``flags`` after the commit).
    n_flagged : int
        Masked pixels that lacked at least one of the bits before (newly flagged).
    n_filled : int
        Masked pixels whose SCI value changed.
    backup : pathlib.Path or None
        The backup of the pre-commit file (made now or kept from an earlier commit);
        None with ``backup=False`` or ``output``.
    backup_created : bool
        True if this call made the backup.
    history : str
        The history entry written (or that would be written).
    notes : list of str
        Remarks for the user (cal file, existing backup ...).
    elapsed : float
        Wall-clock seconds.
    original_sha256 : str
        The sha256 of the original file, which the backup holds (recorded in the
        history entry so that `revert` can check the backup); ``""`` without a backup.
    old_tools : tuple of str
        Earlier claw removals by the old tools found in the file's history.
    """

    target: Path
    output: Path
    status: str
    flags: int
    fill_value: float
    masks: tuple[Path, ...] = ()
    mask_sha256: tuple[str, ...] = ()
    n_masked: int = 0
    n_flagged: int = 0
    n_filled: int = 0
    backup: Path | None = None
    backup_created: bool = False
    history: str = ""
    notes: list[str] = dataclasses.field(default_factory=list)
    elapsed: float = 0.0
    original_sha256: str = ""
    old_tools: tuple[str, ...] = ()

    @property
    def flag_string(self) -> str:
        """The flags as names joined by ``+``."""
        return "+".join(flag_names(self.flags)) or str(self.flags)

    def summary(self) -> str:
        """One line describing the outcome."""
        name = self.output
        if self.status == "committed":
            text = (
                f"{name}: flagged {self.n_masked} pixels ({self.n_flagged} newly) with "
                f"{self.flag_string}"
            )
            if self.backup is not None:
                text += f"; backup {self.backup.name}"
        elif self.status == "already-committed":
            text = f"{name}: already committed: all {self.n_masked} masked pixels have the flags"
        elif self.status == "empty":
            text = f"{self.target}: the mask has no pixels, nothing to commit"
        else:
            text = (
                f"{name}: would flag {self.n_masked} pixels ({self.n_flagged} newly) with "
                f"{self.flag_string}"
            )
        return text


@dataclass
class RevertReport:
    """What `revert` did.

    Attributes
    ----------
    target : pathlib.Path
        The file restored.
    backup : pathlib.Path
        The backup it was restored from (kept).
    status : str
        ``"reverted"``, ``"already-reverted"`` (the file equals its backup) or
        ``"dry-run"``.
    n_restored : int
        Pixels whose DQ or SCI value goes back to the backup's.
    notes : list of str
        Remarks for the user.
    elapsed : float
        Wall-clock seconds.
    old_tool : str
        The old tool's claw removal that restoring the backup undoes (the backup is that
        tool's, from before it), or ``""``.
    """

    target: Path
    backup: Path
    status: str
    n_restored: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)
    elapsed: float = 0.0
    old_tool: str = ""

    def summary(self) -> str:
        """One line describing the outcome."""
        origin = f"; it is the old-tool backup from before {self.old_tool}" if self.old_tool else ""
        if self.status == "reverted":
            return (
                f"{self.target}: restored from {self.backup.name} ({self.n_restored} pixels)"
                f"{origin}"
            )
        if self.status == "already-reverted":
            return f"{self.target}: already identical to {self.backup.name}, nothing to do"
        return (
            f"{self.target}: would restore {self.n_restored} pixels from {self.backup.name}{origin}"
        )


# --------------------------------------------------------------------------- names


def expand_mask_template(template: str, rate: str | Path) -> Path:
    """The mask path for ``rate`` from a template such as ``{dataset}_cal_claws_seed_image.fits``.

    Parameters
    ----------
    template : str
        A path with optional fields: ``{dataset}`` (`dataset_name`), ``{stem}`` (file
        name without ``.fits``), ``{name}`` (file name) and ``{dir}`` (the rate file's
        directory); ``{{`` and ``}}`` are literal braces.  A template without fields,
        or one naming an existing file as it is (``brace{x}_mask.fits``), is the same
        mask for every file.
    rate : str or pathlib.Path
        The rate file.

    Returns
    -------
    pathlib.Path
        The mask path (relative paths are relative to the current directory).

    Raises
    ------
    ParameterError
        For an unknown field or a malformed template.
    """
    try:
        return Path(expand_name_template(template, template_fields(rate))[0])
    except KeyError as error:
        raise ParameterError(
            f"unknown field {{{error.args[0]}}} in mask template {template!r} and no file has "
            "that name; use {dataset}, {stem}, {name} or {dir}, and {{ }} for literal braces"
        ) from None
    except (ValueError, IndexError) as error:
        raise ParameterError(
            f"malformed mask template {template!r} ({error}) and no file has that name; write "
            "{{ and }} for literal braces"
        ) from None


# --------------------------------------------------------------------------- target


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


def _inspect_target(path: Path, *, force: bool) -> _Target:  # noqa: C901 (to split: see issue 12, part 3)
    """Header-level checks of the target (fast: no data read)."""
    from astropy.io import fits

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
            f"{path} is a ds9claw backup: commit to the rate file itself (or pass --force)"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_FITS_MAGIC))
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}") from None
    if head != _FITS_MAGIC:
        raise InputError(f"{path} is not a FITS file: give a JWST *_rate.fits or *_cal.fits")
    from .fitscheck import check_complete

    check_complete(path)  # a file cut short (in an HDU or before ASDF) is refused
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
            target = _Target(
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
    if len(target.shape) != 2:
        raise InputError(
            f"{path}: SCI is {len(target.shape)}-D {target.shape}; commit to a 2-D *_rate.fits "
            "(not *_rateints)"
        )
    if not target.datamodel and not force:
        raise InputError(
            f"{path} has no DATAMODL keyword: not a JWST datamodel file (pass --force to try)"
        )
    if target.instrument != "NIRCAM" and not force:
        raise InputError(
            f"{path} is a {target.instrument or 'non-JWST'} file, not NIRCam: ds9claw commits "
            "claw masks into NIRCam files (pass --force to commit anyway)"
        )
    if target.datamodel != "ImageModel" and not force:
        raise InputError(
            f"{path} is a {target.datamodel or 'plain FITS'} file, not an ImageModel: give a "
            "*_rate.fits or *_cal.fits (pass --force to commit anyway)"
        )
    return target


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
            "a new file with --output; nothing was changed"
        )
    if _read_only(directory) or not os.access(directory, os.W_OK | os.X_OK):
        raise CommitError(
            f"directory {directory} is read-only: ds9claw writes a temporary file and a backup "
            "there; use --output in a writable directory; nothing was changed"
        )


# --------------------------------------------------------------------------- masks


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_fits_mask(path: Path, raw: bytes):
    from .maskfile import read_fits_mask

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
            from .regions import RegionSource, region_masks

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
    from .maskfile import celestial_wcs, reproject_mask

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


# --------------------------------------------------------------------------- commit


def _parse_fill(fill_value: float | str) -> float:
    try:
        value = float(fill_value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"fill value {fill_value!r} is not a number: give e.g. 0 or nan"
        ) from None
    if math.isinf(value):
        raise ParameterError("fill value must be finite or nan, not infinity")
    return value


def _describe(
    masks: Sequence[MaskInput],
    bits: int,
    fill: float,
    n_masked: int,
    n_flagged: int,
    original: tuple[str, str] | None = None,
) -> str:
    # FITS HISTORY cards take printable ASCII only: tabs and non-ASCII letters are escaped
    names = ", ".join(f"{printable_name(m.path.name)} (sha256 {m.sha256})" for m in masks)
    label = "mask" if len(masks) == 1 else "masks"
    flags = "+".join(flag_names(bits)) or str(bits)
    text = (
        f"{HISTORY_PREFIX} {__version__}: {label} {names}; DQ flags {flags} ({bits}) ORed "
        f"into {n_masked} pixels ({n_flagged} newly flagged); SCI set to {fill:g} there."
    )
    if original is not None and original[1]:
        text += " " + ORIGINAL_SHA_TEXT.format(
            backup=printable_name(original[0]), sha256=original[1]
        )
    return text


def _original(report) -> tuple[str, str] | None:
    if report.backup is None or not report.original_sha256:
        return None
    return report.backup.name, report.original_sha256


def _record_original(rate: Path, target: _Target, report) -> None:
    """The sha256 of the original: the existing backup, or the file that is backed up now."""
    if report.backup is None:
        return
    existing = os.path.lexists(report.backup)
    from .revertcheck import sha256_of_file

    report.original_sha256 = sha256_of_file(report.backup if existing else rate)
    recorded = original_sha256(target.history_text)
    if existing and recorded and recorded[0] != report.original_sha256:
        report.notes.append(
            f"backup {report.backup.name} is not the file the first commit recorded (its "
            "sha256 differs): `ds9claw revert` will refuse it"
        )


class _Captured:
    """Collect third-party warnings and log them instead of raising or printing them."""

    def __init__(self, where: Path):
        self.where = where
        self._cm = warnings.catch_warnings(record=True)

    def __enter__(self):
        self._records = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)
        seen = set()
        for record in self._records:
            text = f"{record.category.__name__}: {record.message}"
            if text not in seen:
                seen.add(text)
                _log.warning("%s: %s", self.where.name, text)
        return False


def _open_model(path: Path, datamodel: str):
    from stdatamodels.jwst import datamodels

    try:
        with _Captured(path):
            if datamodel == "ImageModel":
                return datamodels.ImageModel(str(path))
            return datamodels.open(str(path))
    except Exception as error:
        first = (str(error).strip().splitlines() or [""])[0][:200]
        raise InputError(
            f"stdatamodels cannot open {path} ({type(error).__name__}: {first}): the file is "
            "damaged (an extension removed or changed?); nothing was written"
        ) from None


def _space_hint(error: OSError) -> str:
    # numpy's tofile reports a short write as "N requested and M written" without errno
    short_write = error.errno is None and "requested and" in str(error)
    if error.errno in _SPACE_ERRNOS or short_write:
        return " (disk full, quota or file size limit reached)"
    return ""


def commit_mask(  # noqa: C901 (to split: see issue 12, part 3)
    rate: str | Path,
    masks: Sequence[str | Path],
    *,
    flags: str | int = DEFAULT_COMMIT_FLAGS,
    fill_value: float | str = 0.0,
    backup: bool = True,
    output: str | Path | None = None,
    overwrite: bool = False,
    dry_run: bool = False,
    force: bool = False,
    lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
) -> CommitReport:
    """OR DQ bits into a rate file where the masks are set, safely.

    Parameters
    ----------
    rate : str or pathlib.Path
        The ``*_rate.fits`` (or ``*_cal.fits``) file.
    masks : sequence of str or pathlib.Path
        Mask FITS files and/or DS9 region files (see `load_masks`); they are ORed.
    flags : str or int
        DQ bits to OR in: JWST flag names joined by ``+`` or an integer (see
        `ds9claw.dq.interpret_flags`).  Existing bits are never cleared.
    fill_value : float or str
        Value given to the masked SCI pixels (``nan`` allowed).  ERR and VAR_* are not
        changed.
    backup : bool
        In place: first keep the original as ``<stem>_before_removing_claws.fits``
        (an existing backup is kept as it is, never overwritten).
    output : str or pathlib.Path, optional
        Write the result to this new file and leave ``rate`` untouched.
    overwrite : bool
        Allow ``output`` to replace an existing file.
    dry_run : bool
        Check everything and count, but write nothing.
    force : bool
        Accept non-NIRCam files, models other than ImageModel and backups as targets.
    lock_timeout : float or None
        Seconds to wait for another commit of the same file (None: wait for ever).

    Returns
    -------
    CommitReport

    Raises
    ------
    InputError
        Bad target or mask (missing, not FITS, wrong shape, wrong instrument ...);
        nothing was written.
    ParameterError
        Bad flags or fill value.
    OutputExistsError
        ``output`` exists and ``overwrite`` is False.
    CommitError
        The file could not be written, locked or verified; the target is unchanged.
    """
    t0 = time.perf_counter()
    rate = given = Path(rate)
    bits = interpret_flags(flags)
    if bits == 0:
        raise ParameterError("no DQ flags to commit: give e.g. --flags DO_NOT_USE")
    fill = _parse_fill(fill_value)
    target = _inspect_target(rate, force=force)
    # work on the real file: a symbolic link keeps pointing to it, and the backup, the
    # temporary file and the lock sit next to the file they belong to
    rate = rate.resolve()
    dest = Path(output).resolve() if output is not None else rate
    in_place = output is None or _same_file(dest, rate)
    if in_place:
        dest = rate
    else:
        _refuse_output_among_masks(dest, masks)
        if dest.exists() and not overwrite:
            raise OutputExistsError(f"{dest} exists: choose another --output or pass --overwrite")
    loaded = load_masks(masks, target.shape, header=target.sci_header)  # type: ignore[arg-type]
    provenance_notes = _check_provenance(target, loaded, force=force) + _mask_notes(
        loaded, target.shape
    )
    mask = loaded[0].mask.copy()
    for item in loaded[1:]:
        mask |= item.mask
    backup_path = backup_path_for(rate) if (in_place and backup) else None
    report = CommitReport(
        target=given,
        output=given if in_place else Path(output),  # type: ignore[arg-type]
        status="dry-run" if dry_run else "committed",
        flags=bits,
        fill_value=fill,
        masks=tuple(m.path for m in loaded),
        mask_sha256=tuple(m.sha256 for m in loaded),
        n_masked=int(np.count_nonzero(mask)),
        backup=backup_path,
    )
    report.notes.extend(provenance_notes)
    if target.is_cal:
        report.notes.append(
            f"{rate.name} is a cal file: calwebb_image2 need not be rerun, only calwebb_image3"
        )
    if not target.has_dq:
        report.notes.append(f"{rate.name} has no DQ extension: one is created")
    _check_old_tools(rate, target, backup_path, report, force=force)
    if report.n_masked == 0:
        report.status = "empty"
        report.notes.append("the mask has no pixel set: nothing to commit")
        report.backup = None
        report.elapsed = time.perf_counter() - t0
        return report
    if dry_run:
        _record_original(rate, target, report)
        _dry_run_counts(rate, target, loaded, mask, bits, fill, report)
        report.elapsed = time.perf_counter() - t0
        return report
    _check_writable(rate, dest, in_place)
    if backup_path is not None:
        refuse_link(backup_path, "backup", "move it away; nothing was changed")
    try:
        with file_lock(dest, timeout=lock_timeout):
            for leftover in remove_stale_temps(dest):
                report.notes.append(f"removed {leftover.name} left by an interrupted commit")
            # the file may have changed while we waited for the lock
            target = _inspect_target(rate, force=force)
            _check_backup_policy(rate, target, backup_path, report)
            _record_original(rate, target, report)
            _commit_locked(rate, dest, target, loaded, mask, bits, fill, report)
    except TimeoutError as error:
        raise CommitError(str(error)) from None
    except Ds9ClawError:
        raise
    except OSError as error:
        where = error.filename or dest
        raise CommitError(
            f"could not write {where}: {error.strerror or error}{_space_hint(error)}; "
            f"{rate} is unchanged"
        ) from None
    report.elapsed = time.perf_counter() - t0
    for note in report.notes:
        _log.debug("%s", note)
    return report


def _mask_notes(loaded: Sequence[MaskInput], shape) -> list[str]:
    """Say which masks are old-script products and which were reprojected (with counts)."""
    notes = []
    for item in loaded:
        if item.reprojected_from is not None:
            ny, nx = item.reprojected_from
            notes.append(
                f"mask {item.path.name} ({nx}x{ny}, {item.description}) was reprojected "
                f"onto the {shape[1]}x{shape[0]} grid through the two WCSs: {item.n_pixels} "
                "pixels"
            )
        elif item.description.startswith(("zero-one mask of the old", "seed image of the old")):
            notes.append(f"mask {item.path.name} is the {item.description}")
    return notes


def _check_provenance(target: _Target, loaded: Sequence[MaskInput], *, force: bool) -> list[str]:
    """Refuse masks made on another detector; note masks made from another exposure."""
    notes = []
    for item in loaded:
        if item.detector and target.detector and item.detector.upper() != target.detector:
            if not force:
                raise InputError(
                    f"mask {item.path} was made from a {item.detector} exposure but "
                    f"{target.path.name} is {target.detector}: wrong mask for this file? "
                    "(pass --force to commit it anyway)"
                )
            notes.append(
                f"mask {item.path.name} is from {item.detector}, the file is "
                f"{target.detector} (committed because of --force)"
            )
        if item.source_file and dataset_name(item.source_file) != dataset_name(target.filename):
            notes.append(
                f"mask {item.path.name} was made from {item.source_file}, not from "
                f"{dataset_name(target.filename)}"
            )
    return notes


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and a.samefile(b))
    except OSError:
        return False


def _refuse_output_among_masks(dest: Path, masks: Sequence[str | Path]) -> None:
    """``--output`` must never be an input: not a mask, nor a link to one."""
    for value in masks:
        if _same_file(dest, Path(value)):
            raise InputError(
                f"--output {dest} is the mask {value}: the output must never be an input; "
                "choose another --output; nothing was written"
            )


def _check_old_tools(rate: Path, target: _Target, backup_path, report, *, force: bool) -> None:
    """Notice an earlier claw removal by the old tools; go on only with ``force``."""
    from .history import check_old_tool_commits

    report.old_tools, notes = check_old_tool_commits(
        rate, target.history_text, backup_path, force=force
    )
    report.notes.extend(notes)


def _check_backup_policy(rate: Path, target: _Target, backup_path: Path | None, report) -> None:
    if backup_path is None or not os.path.lexists(backup_path):
        return
    if HISTORY_PREFIX in target.history_text:
        report.notes.append(f"backup {backup_path.name} from the first commit is kept as it is")
        return
    if old_tool_entries(target.history_text):
        return  # the old tool's backup of the original (see _check_old_tools)
    # No ds9claw commit in the file: the backup belongs to this file only if they are equal
    # (e.g. after `ds9claw revert`); otherwise it is another version that must not be lost
    # and this file would be changed without a backup of its own.
    if filecmp.cmp(rate, backup_path, shallow=False):
        report.notes.append(f"backup {backup_path.name} equals the file and is kept")
        return
    raise CommitError(
        f"{backup_path} exists but {rate.name} has no ds9claw commit in its history: the "
        "backup belongs to another version of the file; move it away (or use --no-backup "
        "or --output); nothing was changed"
    )


def _dq_as_uint32(dq: np.ndarray | None, shape) -> np.ndarray:
    if dq is None:
        return np.zeros(shape, np.uint32)
    return np.asarray(dq).astype(np.uint32, copy=False)


def _dry_run_counts(rate, target, loaded, mask, bits, fill, report) -> None:
    from astropy.io import fits

    with fits.open(rate, memmap=False) as hdul:
        sci = hdul["SCI"].data
        dq = _dq_as_uint32(hdul["DQ"].data if target.has_dq else None, sci.shape)
        n_flagged, n_filled = _change_counts(sci, dq, mask, bits, fill)
    report.n_flagged, report.n_filled = n_flagged, n_filled
    report.history = _describe(loaded, bits, fill, report.n_masked, n_flagged, _original(report))


def _change_counts(sci, dq, mask, bits, fill) -> tuple[int, int]:
    b = np.uint32(bits)
    lacking = ((dq & b) != b) & mask
    if math.isnan(fill):
        differs = ~np.isnan(sci) & mask
    else:
        differs = (np.isnan(sci) | (sci != np.asarray(fill, sci.dtype))) & mask
    return int(np.count_nonzero(lacking)), int(np.count_nonzero(differs))


def _commit_locked(rate, dest, target, loaded, mask, bits, fill, report) -> None:
    model = _open_model(rate, target.datamodel)
    try:
        with _Captured(rate):
            sci = model.data
            dq = model.dq
        if sci is None or sci.shape != mask.shape:
            raise CommitError(f"{rate}: the datamodel's SCI does not have the header's shape")
        if dq.dtype != np.uint32:
            raise CommitError(f"{rate}: DQ has type {dq.dtype}, expected uint32")
        report.n_flagged, report.n_filled = _change_counts(sci, dq, mask, bits, fill)
        if report.n_flagged == 0 and report.n_filled == 0:
            report.status = "already-committed"
            recorded = all(m.sha256 in target.history_text for m in loaded)
            report.notes.append(
                "nothing to do: every masked pixel already has the flags and the fill value"
                + (" (this mask is in the file's history)" if recorded else "")
            )
            if report.backup is not None and not report.backup.exists():
                report.backup = None
            return
        np.bitwise_or(dq, np.uint32(bits), out=dq, where=mask)
        sci[mask] = np.asarray(fill, sci.dtype)
        report.history = _describe(
            loaded, bits, fill, report.n_masked, report.n_flagged, _original(report)
        )
        with _Captured(rate):
            if hasattr(model, "add_history_entry"):
                model.add_history_entry(report.history, software=dict(SOFTWARE))
            else:  # pragma: no cover - stdatamodels < 2.1 has only the history list
                from stdatamodels.util import create_history_entry

                model.history.append(create_history_entry(report.history, dict(SOFTWARE)))
            # stdatamodels set it to the file's name; FITS cards hold printable ASCII only
            model.meta.filename = printable_name(dest.name)
        with atomic_write(dest) as tmp:
            try:
                with _Captured(rate):
                    # a Path (not str) keeps meta.filename: the temporary name is not recorded
                    model.to_fits(tmp, overwrite=True)
            except OSError:
                raise
            except Exception as error:
                raise CommitError(
                    f"stdatamodels could not save {rate.name}: {type(error).__name__}: {error}; "
                    f"{rate} is unchanged"
                ) from None
            fsync_file(tmp)
            _verify(rate, tmp, mask, bits, fill, report.history)
            if report.backup is not None:
                report.backup_created = make_backup(rate, report.backup, link=True)
    finally:
        model.close()


def _squash(text: str) -> str:
    return "".join(text.split())


def _image_hdus(hdul) -> dict[tuple[str, int], object]:
    out = {}
    for index, hdu in enumerate(hdul):
        if index == 0 or not hdu.is_image or hdu.header.get("NAXIS", 0) == 0:
            continue
        key = (str(hdu.header.get("EXTNAME", index)).upper(), int(hdu.header.get("EXTVER", 1)))
        out[key] = hdu
    return out


def _bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype == b.dtype:
        if a.dtype.kind == "f":
            return bool(np.array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}")))
        return bool(np.array_equal(a, b))
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f"))


def _verify(rate: Path, tmp: Path, mask, bits, fill, history: str) -> None:  # noqa: C901 (to split: see issue 12, part 3)
    """Read the written file back and compare it with the original, pixel by pixel."""
    from astropy.io import fits

    def fail(what: str):
        raise CommitError(
            f"verification of the new {rate.name} failed: {what}; {rate} is unchanged "
            "(please report this)"
        )

    try:
        with fits.open(rate, memmap=False) as old, fits.open(tmp, memmap=False) as new:
            old_hdus, new_hdus = _image_hdus(old), _image_hdus(new)
            missing = sorted(set(old_hdus) - set(new_hdus))
            if missing:
                fail(f"extension(s) {', '.join(n for n, _ in missing)} missing")
            if ("SCI", 1) not in new_hdus or ("DQ", 1) not in new_hdus:
                fail("SCI or DQ missing")
            for key, old_hdu in old_hdus.items():
                name = key[0]
                old_data, new_data = old_hdu.data, new_hdus[key].data
                if old_data.shape != new_data.shape:
                    fail(f"{name} shape {new_data.shape} differs from {old_data.shape}")
                if name == "DQ":
                    continue
                if name == "SCI":
                    if not _bits_equal(old_data[~mask], new_data[~mask]):
                        fail("SCI changed outside the mask")
                    inside = new_data[mask]
                    ok = np.isnan(inside) if math.isnan(fill) else inside == fill
                    if not ok.all():
                        fail("SCI is not the fill value on the mask")
                elif not _bits_equal(old_data, new_data):
                    fail(f"{name} changed")
            old_dq = _dq_as_uint32(
                old_hdus[("DQ", 1)].data if ("DQ", 1) in old_hdus else None, mask.shape
            )
            expected = old_dq.copy()
            np.bitwise_or(expected, np.uint32(bits), out=expected, where=mask)
            new_dq = np.asarray(new_hdus[("DQ", 1)].data)
            if new_dq.dtype != np.uint32 or not np.array_equal(new_dq, expected):
                fail("DQ is not the old DQ with the flags ORed in exactly on the mask")
            written = "".join(str(v) for v in new[0].header.get("HISTORY", []))
            # long entries span several 72-character HISTORY cards, whose trailing blanks
            # FITS does not keep: compare without white space
            if _squash(history) not in _squash(written):
                fail("the history entry is missing from the primary header")
            if "ASDF" in old and "ASDF" not in new:
                fail("the ASDF extension is missing")
    except CommitError:
        raise
    except (OSError, ValueError, TypeError, KeyError) as error:
        fail(f"cannot read it back ({error})")


# --------------------------------------------------------------------------- revert


def revert(
    rate: str | Path,
    *,
    force: bool = False,
    dry_run: bool = False,
    lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
) -> RevertReport:
    """Restore a rate file from its ``_before_removing_claws`` backup, after checking it.

    The backup must be the file the commit started from: its sha256 the one the commit
    recorded in its history entry, its header naming the same instrument, detector and
    exposure, the same extensions and shapes.  And the revert must throw away nothing but
    the commits: no DQ bits cleared or set other than the committed flags, SCI changed
    only on the committed pixels (to the fill value), ERR/VAR_* and the header keywords
    unchanged (`ds9claw.revertcheck.check_backup`).  An old-tool backup (the old scripts
    use the same name, and record no sha256) is named as such; restoring it undoes that
    tool's claw removal too.  Each of these refuses unless ``force``.  The file is
    replaced atomically; the backup is kept.

    Parameters
    ----------
    rate : str or pathlib.Path
        The committed file.
    force : bool
        Restore even if the checks fail or the file has no ds9claw history entry.
    dry_run : bool
        Check and count only.
    lock_timeout : float or None
        Seconds to wait for a commit of the same file.

    Returns
    -------
    RevertReport

    Raises
    ------
    InputError
        No backup, or the file has no ds9claw commit (an old-tool backup is named).
    CommitError
        The backup is not the original, the revert would throw away later changes, or
        the file could not be written (it is unchanged).
    """
    t0 = time.perf_counter()
    rate = Path(rate)
    if not rate.exists():
        raise InputError(f"{rate} does not exist: check the file name")
    rate = rate.resolve()
    backup = backup_path_for(rate)
    refuse_link(backup, "backup", f"it is not a backup ds9claw made; {rate.name} is unchanged")
    if not backup.exists():
        raise InputError(
            f"no backup {backup.name} next to {rate.name}: nothing to revert to (was the "
            "commit made with --output or --no-backup?)"
        )
    report = RevertReport(target=rate, backup=backup, status="dry-run" if dry_run else "reverted")
    if not dry_run:
        _check_writable(rate, rate, True)
    try:
        lock = file_lock(rate, timeout=lock_timeout) if not dry_run else contextlib.nullcontext()
        with lock:
            if filecmp.cmp(rate, backup, shallow=False):
                report.status = "already-reverted"
                report.elapsed = time.perf_counter() - t0
                return report
            target = _inspect_target(rate, force=True)
            _check_revert(rate, backup, target, report, force=force)
            if dry_run:
                report.elapsed = time.perf_counter() - t0
                return report
            with atomic_write(rate) as tmp:
                copy_file_into(backup, tmp)
                if not filecmp.cmp(backup, tmp, shallow=False):
                    raise CommitError(
                        f"the copy of {backup.name} differs from it; {rate} is unchanged"
                    )
    except TimeoutError as error:
        raise CommitError(str(error)) from None
    except Ds9ClawError:
        raise
    except OSError as error:
        raise CommitError(
            f"could not write {error.filename or rate}: {error.strerror or error}"
            f"{_space_hint(error)}; {rate} is unchanged"
        ) from None
    report.elapsed = time.perf_counter() - t0
    return report


def _check_revert(rate: Path, backup: Path, target: _Target, report, *, force: bool) -> None:
    """Refuse (unless ``force``) a backup that is not the original or a revert that loses work."""
    from .revertcheck import verify_revert

    check = verify_revert(
        rate, backup, committed=HISTORY_PREFIX in target.history_text, force=force
    )
    report.n_restored = check.n_restored
    report.notes.extend(check.notes)
    if check.old_tools:
        report.old_tool = str(check.old_tools[0])

"""The commit itself: checks, then the locked write with backup and verification.

See `ds9claw.commit` for how a commit keeps the file safe.
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import __version__
from ..backup import make_backup
from ..dq import DEFAULT_COMMIT_FLAGS, flag_names, interpret_flags
from ..errors import CommitError, Ds9ClawError, InputError, OutputExistsError, ParameterError
from ..filelock import file_lock
from ..history import ORIGINAL_SHA_TEXT, original_sha256
from ..names import (
    backup_path_for,
    printable_name,
)
from ..nofollow import refuse_link
from ..safeio import atomic_write, fsync_file, remove_stale_temps
from .checks import (
    _check_backup_policy,
    _check_old_tools,
    _check_provenance,
    _mask_notes,
    _refuse_output_among_masks,
    _same_file,
)
from .masks import load_masks
from .reports import (
    _SPACE_ERRNOS,
    DEFAULT_LOCK_TIMEOUT,
    HISTORY_PREFIX,
    SOFTWARE,
    CommitReport,
    MaskInput,
)
from .target import _check_writable, _inspect_target, _Target
from .verify import _dq_as_uint32, _verify

__all__ = [
    "commit_mask",
]

_log = logging.getLogger(__name__)


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
    from ..revertcheck import sha256_of_file

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


def commit_mask(
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
        raise ParameterError("no DQ flags to commit: give e.g. `flags=DO_NOT_USE`")
    fill = _parse_fill(fill_value)
    target = _inspect_target(rate, force=force)
    # work on the real file: a symbolic link keeps pointing to it, and the backup, the
    # temporary file and the lock sit next to the file they belong to
    rate = rate.resolve()
    dest, in_place = _destination(rate, output, masks, overwrite=overwrite)
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
    _note_target_kind(rate, target, report)
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
    _commit_with_lock(
        rate, dest, backup_path, loaded, mask, bits, fill, report,
        force=force, lock_timeout=lock_timeout,
    )
    report.elapsed = time.perf_counter() - t0
    for note in report.notes:
        _log.debug("%s", note)
    return report


def _destination(rate: Path, output, masks, *, overwrite: bool) -> tuple[Path, bool]:
    """The file to write (resolved) and whether that is ``rate`` itself."""
    dest = Path(output).resolve() if output is not None else rate
    in_place = output is None or _same_file(dest, rate)
    if in_place:
        return rate, True
    _refuse_output_among_masks(dest, masks)
    if dest.exists() and not overwrite:
        raise OutputExistsError(f"{dest} exists: choose another `output` or pass `overwrite=True`")
    return dest, False


def _note_target_kind(rate: Path, target: _Target, report: CommitReport) -> None:
    if target.is_cal:
        report.notes.append(
            f"{rate.name} is a cal file: calwebb_image2 need not be rerun, only calwebb_image3"
        )
    if not target.has_dq:
        report.notes.append(f"{rate.name} has no DQ extension: one is created")


def _commit_with_lock(
    rate, dest, backup_path, loaded, mask, bits, fill, report, *, force, lock_timeout
) -> None:
    """Take the lock, check the file again, and commit; OS errors become a CommitError."""
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

"""Check a ``_before_removing_claws`` backup before `ds9claw.commit.revert` puts it back.

A revert must restore the file the commit started from and throw away only what the
commits did.  `check_backup` finds

* **reasons the backup is not that file**: its sha256 is not the one the commits recorded
  (`ds9claw.history.original_sha256`), its header names another instrument, detector or
  exposure, it has other extensions or shapes;
* **what a revert would throw away besides the commits**: DQ bits cleared, or set other
  than the committed flags; SCI changed outside the committed pixels or away from the fill
  value on them; ERR/VAR_* changed; header keywords changed after the commit; and, for a
  backup the old tools made before their own claw removal, that removal too.

Both refuse the revert unless ``--force``.  An old-tool backup (no recorded sha256) is
named as such, with the tool whose work restoring it undoes.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dq import flag_names
from .errors import CommitError, InputError
from .history import (
    OldToolEntry,
    committed_fill_values,
    committed_flags,
    old_tool_entries,
    original_sha256,
)

__all__ = ["IDENTITY_KEYWORDS", "BackupCheck", "check_backup", "sha256_of_file", "verify_revert"]

#: Primary-header keywords that name the exposure: a backup must agree on each.
IDENTITY_KEYWORDS = (
    "TELESCOP",
    "INSTRUME",
    "DETECTOR",
    "MODULE",
    "CHANNEL",
    "FILTER",
    "PUPIL",
    "EXP_TYPE",
    "PROGRAM",
    "OBSERVTN",
    "VISIT",
    "VISITGRP",
    "SEQ_ID",
    "ACT_ID",
    "EXPOSURE",
    "DATE-OBS",
    "TIME-OBS",
)
# keywords a commit itself changes: stdatamodels stamps DATE on every save and sets
# FILENAME to the name the file was opened under (a renamed exposure gets its new name)
_IGNORED_KEYWORDS = {"DATE", "FILENAME", "HISTORY", "COMMENT", "", "CHECKSUM", "DATASUM"}


@dataclass
class BackupCheck:
    """What `check_backup` found.

    Attributes
    ----------
    not_original : list of str
        Reasons the backup is not the file the commit started from.
    discarded : list of str
        What restoring it would throw away besides the commits.
    notes : list of str
        Remarks (how the backup was verified, whose backup it is).
    old_tools : list of OldToolEntry
        Claw removals of the old tools that restoring the backup undoes (it predates
        them: an old-tool backup).
    n_restored : int
        Pixels whose DQ or SCI goes back to the backup's.
    """

    not_original: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    old_tools: list[OldToolEntry] = field(default_factory=list)
    n_restored: int = 0


def sha256_of_file(path: Path) -> str:
    """The sha256 of a file's bytes (hexadecimal), read in blocks.

    Parameters
    ----------
    path : pathlib.Path

    Returns
    -------
    str
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _history(header) -> str:
    return "".join(str(v) for v in header.get("HISTORY", []))


def _image_hdus(hdul) -> dict[tuple[str, int], object]:
    out = {}
    for index, hdu in enumerate(hdul):
        if index == 0 or not hdu.is_image or hdu.header.get("NAXIS", 0) == 0:
            continue
        key = (str(hdu.header.get("EXTNAME", index)).upper(), int(hdu.header.get("EXTVER", 1)))
        out[key] = hdu
    return out


def _differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pixels that differ, NaN equal to NaN (bit patterns of floats compared)."""
    if a.dtype == b.dtype and a.dtype.kind == "f":
        return a.view(f"u{a.itemsize}") != b.view(f"u{b.itemsize}")
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return ~((a == b) | (np.isnan(a) & np.isnan(b)))
    return a != b


def _flag_text(bits: int) -> str:
    return "+".join(flag_names(bits)) or str(bits)


def _identity(old_header, cur_header) -> list[str]:
    out = []
    for key in IDENTITY_KEYWORDS:
        old, cur = old_header.get(key), cur_header.get(key)
        if old is None and cur is None:
            continue
        if str(old).strip().upper() != str(cur).strip().upper():
            out.append(f"{key} {old} (the file: {cur})")
    return out


def _changed_keywords(old_hdul, cur_hdul) -> list[str]:
    changed = []
    pairs = [("primary", old_hdul[0].header, cur_hdul[0].header)]
    old_ext, cur_ext = _image_hdus(old_hdul), _image_hdus(cur_hdul)
    pairs += [
        (key[0], old_ext[key].header, cur_ext[key].header) for key in old_ext if key in cur_ext
    ]
    for where, old, cur in pairs:
        for key in sorted(set(old) | set(cur)):
            if key in _IGNORED_KEYWORDS:
                continue
            if old.get(key) != cur.get(key):
                changed.append(key if where == "primary" else f"{where}.{key}")
    return changed


def _pixels(n: int) -> str:
    return f"{n} pixel{'s' if n != 1 else ''}"


def _compare_pixels(old_hdus, cur_hdus, history: str, check: BackupCheck) -> None:
    shape = old_hdus[("SCI", 1)].data.shape
    old_dq = old_hdus[("DQ", 1)].data if ("DQ", 1) in old_hdus else None
    cur_dq = cur_hdus[("DQ", 1)].data if ("DQ", 1) in cur_hdus else None
    old_dq = np.zeros(shape, np.uint32) if old_dq is None else old_dq.astype(np.uint32)
    cur_dq = np.zeros(shape, np.uint32) if cur_dq is None else cur_dq.astype(np.uint32)
    committed = np.uint32(committed_flags(history))
    cleared = old_dq & ~cur_dq
    if cleared.any():
        bits = int(np.bitwise_or.reduce(cleared.ravel()))
        check.discarded.append(
            f"DQ bits {_flag_text(bits)} cleared in {_pixels(int(np.count_nonzero(cleared)))}"
        )
    extra = cur_dq & ~old_dq & ~committed
    if extra.any():
        bits = int(np.bitwise_or.reduce(extra.ravel()))
        check.discarded.append(
            f"DQ bits {_flag_text(bits)} (not committed flags) set in "
            f"{_pixels(int(np.count_nonzero(extra)))}"
        )
    touched = old_dq != cur_dq
    old_sci, cur_sci = old_hdus[("SCI", 1)].data, cur_hdus[("SCI", 1)].data
    sci_changed = _differ(old_sci, cur_sci)
    outside = int(np.count_nonzero(sci_changed & ~touched))
    if outside:
        check.discarded.append(f"SCI changed in {_pixels(outside)} outside the committed pixels")
    fills = committed_fill_values(history)
    if fills:
        on_fill = np.zeros(shape, bool)
        for value in fills:
            on_fill |= np.isnan(cur_sci) if math.isnan(value) else cur_sci == value
        refilled = int(np.count_nonzero(touched & sci_changed & ~on_fill))
        if refilled:
            check.discarded.append(
                f"SCI changed after the commit in {_pixels(refilled)} of the committed pixels"
            )
    for key, hdu in old_hdus.items():
        if key[0] in ("SCI", "DQ") or key not in cur_hdus:
            continue
        n = int(np.count_nonzero(_differ(hdu.data, cur_hdus[key].data)))
        if n:
            check.discarded.append(f"{key[0]} differs in {_pixels(n)}")
    check.n_restored = int(np.count_nonzero(touched | sci_changed))


def check_backup(rate: Path, backup: Path) -> BackupCheck:
    """Compare a committed file with its backup: is it the original, what would be lost.

    Parameters
    ----------
    rate : pathlib.Path
        The committed rate (or cal) file.
    backup : pathlib.Path
        Its ``_before_removing_claws`` backup.

    Returns
    -------
    BackupCheck
        Empty ``not_original`` and ``discarded`` when the backup is the file the commits
        started from and the file holds nothing but the commits.
    """
    from astropy.io import fits

    check = BackupCheck()
    try:
        with fits.open(rate, memmap=False) as cur, fits.open(backup, memmap=False) as old:
            history = _history(cur[0].header)
            recorded = set(original_sha256(history))
            if recorded:
                actual = sha256_of_file(backup)
                if actual in recorded and len(recorded) == 1:
                    check.notes.append(
                        f"{backup.name} is the file the commit started from (sha256 "
                        f"{actual[:16]}... as recorded)"
                    )
                else:
                    check.not_original.append(
                        f"its sha256 {actual[:16]}... is not the "
                        f"{'/'.join(sorted(r[:16] for r in recorded))}... the commit recorded"
                    )
            identity = _identity(old[0].header, cur[0].header)
            if identity:
                check.not_original.append(
                    "its header names another exposure: " + ", ".join(identity)
                )
            done_before = {str(e) for e in old_tool_entries(_history(old[0].header))}
            check.old_tools = [e for e in old_tool_entries(history) if str(e) not in done_before]
            if check.old_tools and not recorded:
                check.notes.append(
                    f"{backup.name} is an old-tool backup (no recorded sha256): the file as it "
                    f"was before {check.old_tools[0]}"
                )
            cur_hdus, old_hdus = _image_hdus(cur), _image_hdus(old)
            created_dq = {("DQ", 1)} if committed_flags(history) else set()
            only_file = set(cur_hdus) - set(old_hdus) - created_dq
            only_backup = set(old_hdus) - set(cur_hdus)
            if only_file or only_backup:
                names = [f"{k[0]} only in the file" for k in sorted(only_file)]
                names += [f"{k[0]} only in the backup" for k in sorted(only_backup)]
                check.not_original.append("it has other extensions (" + ", ".join(names) + ")")
                return check
            for key, hdu in old_hdus.items():
                if hdu.data.shape != cur_hdus[key].data.shape:
                    check.not_original.append(
                        f"its {key[0]} is {hdu.data.shape}, the file's {cur_hdus[key].data.shape}"
                    )
                    return check
            if ("SCI", 1) not in old_hdus:
                check.not_original.append("it has no SCI")
                return check
            _compare_pixels(old_hdus, cur_hdus, history, check)
            keywords = _changed_keywords(old, cur)
            if keywords:
                check.discarded.append("header keyword(s) " + ", ".join(keywords) + " changed")
            for entry in check.old_tools:
                check.discarded.append(
                    f"the claw removal by the old tool {entry} ({backup.name} is from before it)"
                )
    except (OSError, ValueError, TypeError, KeyError) as error:
        check.not_original.append(f"it cannot be read ({error})")
    return check


def verify_revert(rate: Path, backup: Path, *, committed: bool, force: bool) -> BackupCheck:
    """`check_backup`, and refuse what it found unless ``force``.

    Parameters
    ----------
    rate : pathlib.Path
        The file to restore.
    backup : pathlib.Path
        Its backup.
    committed : bool
        The file has a ds9claw commit in its history.
    force : bool
        Restore anyway; what was found becomes a note ``restored despite: ...``.

    Returns
    -------
    BackupCheck

    Raises
    ------
    InputError
        The file has no ds9claw commit (an old-tool backup is named as such).
    CommitError
        The backup is not the original, or the revert would throw away later changes.
    """
    check = check_backup(rate, backup)
    if not committed and not force:
        if check.old_tools:
            raise InputError(
                f"{rate.name} has no ds9claw commit: its claws were removed by the old tool "
                f"{check.old_tools[0]}, and {backup} is that tool's backup of the file from "
                "before it (an old-tool backup: no sha256 was recorded, so it cannot be "
                "verified); pass `force=True` to restore it, which undoes that tool's claw "
                "removal; nothing was changed"
            )
        raise InputError(
            f"{rate.name} has no ds9claw commit in its history: not reverting to "
            f"{backup.name} (pass `force=True` to restore it anyway)"
        )
    if check.not_original and not force:
        raise CommitError(
            f"{backup.name} is not the pre-commit version of {rate.name}: "
            f"{'; '.join(check.not_original + check.discarded)}; nothing was changed (pass "
            "`force=True` to restore it anyway)"
        )
    if check.discarded and not force:
        raise CommitError(
            f"reverting {rate.name} to {backup.name} would also throw away what was done "
            f"after the commit: {'; '.join(check.discarded)}; nothing was changed (pass "
            "`force=True` to restore it anyway)"
        )
    problems = check.not_original + check.discarded
    if problems:
        check.notes.append(f"restored despite: {'; '.join(problems)}")
    return check

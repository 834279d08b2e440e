"""The checks a commit makes before it writes: provenance, old tools, backup, output.

See `ds9claw.commit` for how a commit keeps the file safe.
"""

from __future__ import annotations

import filecmp
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import CommitError, InputError
from ..history import old_tool_entries
from ..names import (
    dataset_name,
)
from .reports import (
    HISTORY_PREFIX,
    MaskInput,
)
from .target import _Target

__all__ = [
]

_log = logging.getLogger(__name__)


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
                    "(pass `force=True` to commit it anyway)"
                )
            notes.append(
                f"mask {item.path.name} is from {item.detector}, the file is "
                f"{target.detector} (committed because of `force=True`)"
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
                f"`output` {dest} is the mask {value}: the output must never be an input; "
                "choose another `output`; nothing was written"
            )


def _check_old_tools(rate: Path, target: _Target, backup_path, report, *, force: bool) -> None:
    """Notice an earlier claw removal by the old tools; go on only with ``force``."""
    from ..history import check_old_tool_commits

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
        "backup belongs to another version of the file; move it away (or use `backup=False` "
        "or an `output`); nothing was changed"
    )

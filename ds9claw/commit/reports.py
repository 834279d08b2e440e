"""What a commit or a revert reports, and the constants they share.

See `ds9claw.commit` for how a commit keeps the file safe.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..dq import flag_names

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "HISTORY_PREFIX",
    "SOFTWARE",
    "CommitReport",
    "MaskInput",
    "RevertReport",
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

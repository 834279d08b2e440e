"""The Commit mask action: commit the mask shown into the DQ of <dataset>_rate.fits.

See `ds9claw.ds9.actions` for the DS9 facts these rely on.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..names import dataset_name
from .frames import FrameRef, _frames, _goto, _product_frames, _text, image_frame, split_file_spec
from .transport import Transport

__all__ = ["CommitOutcome", "commit", "find_rate_file"]

_log = logging.getLogger(__name__)


def find_rate_file(cal: Path, rate_dir: str | Path | None = None) -> Path:
    """The ``<dataset>_rate.fits`` of a cal file.

    Parameters
    ----------
    cal : pathlib.Path
        The ``*_cal.fits`` file shown in DS9.
    rate_dir : str or pathlib.Path, optional
        Directory of the rate files (default: the cal file's directory).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        When no such rate file exists (the message says where it looked).
    """
    dataset = dataset_name(cal)
    directories = [Path(rate_dir).expanduser()] if rate_dir else [cal.parent]
    tried = []
    for directory in directories:
        for name in (f"{dataset}_rate.fits", f"{dataset}_rate.fits.gz"):
            candidate = directory / name
            tried.append(str(candidate))
            if candidate.is_file():
                return candidate
    where = "the rate directory" if rate_dir else "the cal file's directory"
    raise InputError(
        f"no rate file for {cal.name}: {tried[0]} does not exist; put {dataset}_rate.fits in "
        f"{where} or set the rate directory (Claws > Commit mask to rate DQ (rate directory)"
        "... or --rate-dir DIR)"
    )


@dataclass
class CommitOutcome:
    """What `commit` did.

    Attributes
    ----------
    image : FrameRef
        The image frame.
    mask_frame : int
        The frame holding the mask that was committed.
    mask_path : pathlib.Path
        The mask file committed.
    report : ds9claw.commit.CommitReport
        The commit engine's report.
    """

    image: FrameRef
    mask_frame: int
    mask_path: Path
    report: object

    def summary(self) -> str:
        """Lines telling the observer what happened."""
        r = self.report
        lines = [f"ds9claw: {r.summary()}"]
        if r.status == "committed":
            lines = [
                f"ds9claw: flagged {r.n_masked} pixels ({r.n_flagged} newly) "
                f"in {r.output.name}",
                f"  {r.summary()}",
                f"  mask {self.mask_path.name}, frame {self.mask_frame}",
            ]
            if r.backup is not None:
                lines.append(f"  backup: {r.backup}")
        lines += [f"  note: {n}" for n in r.notes]
        return "\n".join(lines)


def commit(
    transport: Transport,
    *,
    rate_dir: str | Path | None = None,
    flags: str | int | None = None,
    dry_run: bool = False,
) -> CommitOutcome:
    """Commit the mask shown for DS9's image frame into the matching rate file's DQ.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    rate_dir : str or pathlib.Path, optional
        Directory of the rate files (default: beside the cal file).
    flags : str or int, optional
        DQ bits to OR in (default `ds9claw.dq.DEFAULT_COMMIT_FLAGS`).
    dry_run : bool
        Count only; write nothing.

    Returns
    -------
    CommitOutcome

    Raises
    ------
    InputError
        The frame has no file, no mask was made yet, the mask file is gone or differs
        from the one shown, or the rate file is missing.
    CommitError
        The rate file could not be written (it is unchanged).
    """
    from ..commit import commit_mask
    from ..dq import DEFAULT_COMMIT_FLAGS

    ref = image_frame(transport)
    if ref.path is None:
        what = f"from {ref.spec!r}, which is not a file on disk" if ref.spec else "without a file"
        raise InputError(
            f"DS9 {ref.label} was loaded {what}: the commit needs the cal file on disk to find "
            "its rate file; open X_cal.fits from disk, run Detect claws, then commit"
        )
    found = _product_frames(transport, ref, _frames(transport))
    if "mask" not in found:
        raise InputError(
            f"no mask yet for {ref.label}: run Claws > Detect claws first, then commit"
        )
    _goto(transport, found["mask"])
    mask_spec = _text(transport, "file")
    mask_path = Path(split_file_spec(mask_spec)[0])
    if not mask_path.is_absolute() or not mask_path.is_file():
        _goto(transport, ref.frame)
        raise InputError(
            f"the mask in frame {found['mask']} has no file on disk ({mask_spec or 'no name'}): "
            "run Claws > Detect claws again to write it"
        )
    shown = transport.get("fits")
    _goto(transport, ref.frame)
    _check_same_mask(shown, mask_path)
    rate = find_rate_file(ref.path, rate_dir)
    report = commit_mask(
        rate,
        [mask_path],
        flags=DEFAULT_COMMIT_FLAGS if flags is None else flags,
        dry_run=dry_run,
    )
    return CommitOutcome(image=ref, mask_frame=found["mask"], mask_path=mask_path, report=report)


def _check_same_mask(shown: bytes, path: Path) -> None:
    import numpy as np
    from astropy.io import fits

    with fits.open(io.BytesIO(shown), memmap=False) as hdul:
        in_ds9 = np.asarray(hdul[0].data) > 0
    with fits.open(path, memmap=False) as hdul:
        on_disk = np.asarray(hdul[0].data) > 0
    if in_ds9.shape != on_disk.shape or not np.array_equal(in_ds9, on_disk):
        raise InputError(
            f"{path.name} on disk differs from the mask shown in DS9 (changed since?): "
            "run Claws > Detect claws again, then commit"
        )

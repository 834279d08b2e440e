"""Undoing a commit: restoring the backup after checking it is the pre-commit file.

See `ds9claw.commit` for how a commit keeps the file safe.
"""

from __future__ import annotations

import contextlib
import filecmp
import logging
import time
from pathlib import Path

from ..errors import CommitError, Ds9ClawError, InputError
from ..filelock import file_lock
from ..names import (
    backup_path_for,
)
from ..nofollow import copy_file_into, refuse_link
from ..safeio import atomic_write
from .engine import (
    _space_hint,
)
from .reports import (
    DEFAULT_LOCK_TIMEOUT,
    HISTORY_PREFIX,
    RevertReport,
)
from .target import _check_writable, _inspect_target, _Target

__all__ = [
    "revert",
]

_log = logging.getLogger(__name__)


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
            "commit made with an `output` or `backup=False`?)"
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
    from ..revertcheck import verify_revert

    check = verify_revert(
        rate, backup, committed=HISTORY_PREFIX in target.history_text, force=force
    )
    report.n_restored = check.n_restored
    report.notes.extend(check.notes)
    if check.old_tools:
        report.old_tool = str(check.old_tools[0])

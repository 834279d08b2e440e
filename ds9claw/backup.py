"""Backups that are never overwritten: `make_backup`.

The copy goes to a temporary file next to the backup name, is fsynced and then
hard-linked to that name (``link()`` fails when the name exists), so an existing backup
is never replaced or modified and a half-written backup never has the backup name.  A
link or a non-file at the backup name is an `~ds9claw.errors.UnsafePathError`, never
followed.  Backup *names* are `ds9claw.names`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from .errors import UnsafePathError
from .nofollow import (
    NO_LINK_ERRNOS,
    copy_file_into,
    create_exclusive,
    file_kind,
    link_error,
    link_no_clobber,
    seal_temp,
    shown,
)
from .safeio import fsync_directory, temp_path_for

__all__ = ["make_backup"]

_log = logging.getLogger(__name__)


def make_backup(path: str | Path, backup_path: str | Path, *, link: bool = False) -> bool:
    """Save a copy of ``path`` as ``backup_path`` unless a backup already exists.

    An existing ``backup_path`` is never overwritten or modified.  The copy goes to a
    temporary file first, is fsynced and then hard-linked to ``backup_path`` (which
    fails atomically if the name exists), so a half-written backup never has the backup
    name.

    Parameters
    ----------
    path : str or pathlib.Path
        The file to back up.
    backup_path : str or pathlib.Path
        The backup name; best in the same directory (hard links and renames do not
        cross file systems).
    link : bool
        Make the backup a hard link to ``path`` instead of a copy (instant, no space).
        **Only** safe when ``path`` is afterwards replaced by rename (`atomic_write`)
        and never modified in place: the two names share the same data until then.
        Falls back to a copy where hard links are not possible.

    Returns
    -------
    bool
        True if the backup was made now, False if ``backup_path`` already existed.

    Raises
    ------
    UnsafePathError
        When ``backup_path`` is a symbolic link or not a regular file (it is not
        followed; nothing is written).
    OSError
        When the copy cannot be made (``path`` is intact; no partial backup is left).
    """
    path = Path(path)
    backup_path = Path(backup_path)
    if _existing_backup(backup_path):
        return False
    if link:
        try:
            os.link(path, backup_path)
        except FileExistsError:
            _existing_backup(backup_path)  # a link planted meanwhile is refused
            return False
        except OSError as error:
            if error.errno not in NO_LINK_ERRNOS:
                raise
            _log.debug("hard link %s -> %s not possible (%s): copying", path, backup_path, error)
        else:
            fsync_directory(backup_path.parent)
            return True
    tmp = temp_path_for(backup_path)
    try:
        create_exclusive(tmp)
        copy_file_into(path, tmp)
        seal_temp(tmp, None)
        try:
            link_no_clobber(tmp, backup_path)
        except FileExistsError:
            _existing_backup(backup_path)
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_directory(backup_path.parent)
    return True


def _existing_backup(backup_path: Path) -> bool:
    """True if a backup exists; a link or a non-file at its name is an `UnsafePathError`."""
    try:
        st = os.lstat(backup_path)
    except FileNotFoundError:
        return False
    advice = "move it away; nothing was changed"
    if stat.S_ISLNK(st.st_mode):
        raise link_error(backup_path, "backup", advice)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePathError(
            f"backup {shown(backup_path)} is a {file_kind(st.st_mode)}, not a file: {advice}"
        )
    return True

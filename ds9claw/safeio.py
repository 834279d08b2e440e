"""Crash-safe file writing: atomic replace through a temporary file, stale temporaries.

Everything here is generic (no FITS, no numpy) and is used by every ds9claw module that
writes a file the user cares about.  Backups that are never overwritten are
`ds9claw.backup`; the lock on a file being changed is `ds9claw.filelock`.

* `atomic_write` gives a temporary path **in the same directory** as the target; when the
  ``with`` block ends normally the temporary file is fsynced, renamed over the target
  (``os.replace``, atomic on POSIX) and the directory is fsynced, so after a crash, a
  ``kill -9`` or a full disk the target is either the complete old file or the complete
  new one.  When the block raises, the temporary file is removed and the target is
  untouched.  `write_atomically` is the same as a function taking a ``write_fn(path)``.
* `remove_stale_temps` deletes temporary files left behind by a killed writer (same host,
  process gone).

Temporary names are ``.<name>.tmp-<host>-<pid>-<random><suffixes>``: hidden (shell
globs such as ``jw*_rate.fits`` never match them) and ending with the target's suffixes
(``.fits``, ``.fits.gz``) so that writers choosing a format by extension still work.

Links: the names ds9claw creates itself (lock, temporary file, backup) are never
followed.  They are created with ``O_CREAT | O_EXCL | O_NOFOLLOW``; an existing lock
file is opened with ``O_NOFOLLOW`` and the opened descriptor must be a regular file
with one link (and, to be written, owned by this user); a temporary file must still be
such a file, checked on a descriptor opened with ``O_NOFOLLOW``, before it is renamed
into place; an existing backup name that is a link is refused.  A planted link is an
`~ds9claw.errors.UnsafePathError` saying what was found (``lock file d/.X.lock is a
symbolic link to /home/u/victim.txt: remove it ...``) and the file it points to is not
touched.  Renaming over a target never writes through a link at the target's name
either: the link itself is replaced.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from .errors import OutputExistsError
from .lockholder import host_tag, pid_alive
from .nofollow import (
    NOFOLLOW,
    create_exclusive,
    link_no_clobber,
    open_temp_for_writing,
    seal_temp,
)

__all__ = [
    "atomic_write",
    "fsync_directory",
    "fsync_file",
    "remove_stale_temps",
    "temp_path_for",
    "write_atomically",
    "write_text_atomically",
]

_log = logging.getLogger(__name__)

T = TypeVar("T")


def _suffixes(name: str) -> str:
    """``.fits.gz`` for ``x.fits.gz``, ``.fits`` for ``x_rate.fits``, ``""`` without one."""
    suffixes = Path(name).suffixes
    # keep only short, extension-like suffixes ("x.v1.2.fits" keeps ".fits")
    kept: list[str] = []
    for suffix in reversed(suffixes):
        if len(suffix) > 6 or not suffix[1:].isalnum():
            break
        kept.insert(0, suffix)
        if len(kept) == 2:
            break
    return "".join(kept)


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def temp_path_for(path: str | Path) -> Path:
    """A fresh temporary name next to ``path`` (the file is not created).

    Parameters
    ----------
    path : str or pathlib.Path
        The target file.

    Returns
    -------
    pathlib.Path
        ``<dir>/.<name>.tmp-<host>-<pid>-<random><suffixes>``.
    """
    path = Path(path)
    token = secrets.token_hex(4)
    name = f"{_temp_prefix(path)}{host_tag()}-{os.getpid()}-{token}{_suffixes(path.name)}"
    return path.with_name(name)


def fsync_file(path: str | Path) -> None:
    """Flush a file's data and metadata to disk.

    Parameters
    ----------
    path : str or pathlib.Path
        The file (it may have been written through another descriptor).
    """
    fd = os.open(path, os.O_RDONLY | NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(directory: str | Path) -> None:
    """Flush a directory entry change (create, rename, unlink) to disk.

    Parameters
    ----------
    directory : str or pathlib.Path
        The directory. File systems that cannot fsync a directory are ignored.
    """
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(fd)
    except OSError as error:  # pragma: no cover - e.g. some network file systems
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(
    path: str | Path, *, overwrite: bool = True, keep_mode: bool = True
) -> Iterator[Path]:
    """Write a file through a temporary file in the same directory, then rename it.

    The body of the ``with`` block writes the complete new content to the yielded path
    (it may also fsync and check it there).  On normal exit the temporary file is
    fsynced, renamed over ``path`` and the directory fsynced.  If the body raises, the
    temporary file is removed and ``path`` is not touched.

    Parameters
    ----------
    path : str or pathlib.Path
        The final file.
    overwrite : bool
        Replace an existing ``path``.  When False, an existing file is an
        `~ds9claw.errors.OutputExistsError` (checked again at the final step, atomically
        where the file system has hard links).
    keep_mode : bool
        Give the new file the permission bits (and owner, when allowed) of the file it
        replaces; a new file gets ``0o666`` less the umask.

    Yields
    ------
    pathlib.Path
        The temporary path to write to (already created, empty, never a link; write
        through `open_temp_for_writing` to be sure the name is not swapped under you).

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is False.
    UnsafePathError
        If the temporary name was replaced by a link or another kind of file while the
        body wrote it (nothing is renamed into place; a link is removed, never followed).
    OSError
        From creating, writing, syncing or renaming the file (the target is intact).

    Examples
    --------
    >>> with atomic_write("out.fits") as tmp:  # doctest: +SKIP
    ...     hdulist.writeto(tmp)
    """
    path = Path(path)
    if not overwrite and os.path.lexists(path):
        raise OutputExistsError(f"{path} exists: give another name or allow overwriting")
    tmp = temp_path_for(path)
    create_exclusive(tmp)
    try:
        yield tmp
        seal_temp(tmp, path if keep_mode else None)
        if overwrite:
            tmp.replace(path)
        else:
            try:
                link_no_clobber(tmp, path)
            except FileExistsError:
                raise OutputExistsError(
                    f"{path} appeared while it was being written: give another name or allow "
                    "overwriting"
                ) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_directory(path.parent)


def write_atomically(
    path: str | Path, write_fn: Callable[[Path], T], *, overwrite: bool = True
) -> T:
    """Call ``write_fn(tmp_path)`` and move the result to ``path`` atomically.

    Parameters
    ----------
    path : str or pathlib.Path
        The final file.
    write_fn : callable
        Writes the complete content to the temporary path it is given (which exists
        and is empty: writers that refuse to overwrite need ``overwrite=True`` of their
        own).
    overwrite : bool
        See `atomic_write`.

    Returns
    -------
    object
        What ``write_fn`` returned.
    """
    with atomic_write(path, overwrite=overwrite) as tmp:
        result = write_fn(tmp)
    return result


def write_text_atomically(path: str | Path, text: str, *, make_parents: bool = False) -> Path:
    """Write a small text file through `atomic_write` (temporary file, fsync, rename).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    text : str
        Its complete content (UTF-8).
    make_parents : bool
        Create missing parent directories first.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp, open_temp_for_writing(tmp) as handle:
        handle.write(text.encode("utf-8"))
    return path


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Remove temporary files of ``path`` left by writers that were killed.

    Only files named by `temp_path_for` for this exact target, written on this host by
    a process that no longer exists, are removed.  Call it while holding `file_lock`.

    Parameters
    ----------
    path : str or pathlib.Path
        The target whose leftovers to clean.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    path = Path(path)
    prefix = f"{_temp_prefix(path)}{host_tag()}-"
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid_text = entry.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or pid_alive(int(pid_text)):
            continue
        if not entry.is_file(follow_symlinks=False) and not entry.is_symlink():
            _log.warning(
                "%s looks like a leftover temporary file but is not a file: kept", entry.path
            )
            continue
        with contextlib.suppress(FileNotFoundError):
            Path(entry.path).unlink()  # removes a link itself, never what it points to
            removed.append(Path(entry.path))
            _log.info("removed %s left by an interrupted write", entry.path)
    return removed

"""Crash-safe file writing: atomic replace, backups that are never overwritten, file locks.

Everything here is generic (no FITS, no numpy) and is used by every ds9claw module that
writes a file the user cares about.

* `atomic_write` gives a temporary path **in the same directory** as the target; when the
  ``with`` block ends normally the temporary file is fsynced, renamed over the target
  (``os.replace``, atomic on POSIX) and the directory is fsynced, so after a crash, a
  ``kill -9`` or a full disk the target is either the complete old file or the complete
  new one.  When the block raises, the temporary file is removed and the target is
  untouched.  `write_atomically` is the same as a function taking a ``write_fn(path)``.
* `make_backup` copies (or hard-links) a file to a backup name and never replaces an
  existing backup (the last step is ``link()``, which fails when the name exists).
* `file_lock` is an exclusive ``fcntl.flock`` on a hidden sidecar ``.<name>.lock`` next to
  the file, removed on release with the usual "re-check the inode" protocol so that a
  waiting process never holds a lock on a deleted file.
* `remove_stale_temps` deletes temporary files left behind by a killed writer (same host,
  process gone).

Temporary names are ``.<name>.tmp-<host>-<pid>-<random><suffixes>``: hidden (shell
globs such as ``jw*_rate.fits`` never match them) and ending with the target's suffixes
(``.fits``, ``.fits.gz``) so that writers choosing a format by extension still work.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from .errors import OutputExistsError

__all__ = [
    "atomic_write",
    "file_lock",
    "fsync_directory",
    "fsync_file",
    "lock_path_for",
    "make_backup",
    "pid_alive",
    "remove_stale_temps",
    "temp_path_for",
    "write_atomically",
    "write_text_atomically",
]

_log = logging.getLogger(__name__)

T = TypeVar("T")

#: errno values meaning "hard links are not possible here" (fall back to a copy).
_NO_LINK_ERRNOS = {
    errno.EPERM,
    errno.ENOTSUP,
    errno.EOPNOTSUPP,
    errno.EXDEV,
    errno.EMLINK,
    errno.ENOSYS,
}


def _host_tag() -> str:
    host = socket.gethostname().split(".")[0] or "host"
    return "".join(c if c.isalnum() else "_" for c in host)[:32]


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
    name = f"{_temp_prefix(path)}{_host_tag()}-{os.getpid()}-{token}{_suffixes(path.name)}"
    return path.with_name(name)


def lock_path_for(path: str | Path) -> Path:
    """The sidecar lock file used by `file_lock` for ``path`` (``<dir>/.<name>.lock``).

    Parameters
    ----------
    path : str or pathlib.Path
        The file to lock.

    Returns
    -------
    pathlib.Path
        The lock file name.
    """
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


def fsync_file(path: str | Path) -> None:
    """Flush a file's data and metadata to disk.

    Parameters
    ----------
    path : str or pathlib.Path
        The file (it may have been written through another descriptor).
    """
    fd = os.open(path, os.O_RDONLY)
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


def _create_exclusive(path: Path) -> None:
    """Create an empty file that must not exist, with the mode the umask gives."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    os.close(fd)


def _copy_mode(source: Path, target: Path) -> None:
    try:
        st = source.stat()
    except FileNotFoundError:
        return
    target.chmod(st.st_mode & 0o7777)
    if (st.st_uid, st.st_gid) != (target.stat().st_uid, target.stat().st_gid):
        with contextlib.suppress(OSError):
            os.chown(target, st.st_uid, st.st_gid)


def _link_no_clobber(source: Path, target: Path) -> None:
    """Give ``source`` the name ``target``; fail with FileExistsError when it exists."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in _NO_LINK_ERRNOS:
            raise
        # No hard links here (some network or FAT file systems): check, then rename.
        # This leaves a tiny race window that the link() path does not have.
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        source.rename(target)
        return
    source.unlink()


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
        The temporary path to write to (already created, empty).

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is False.
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
    _create_exclusive(tmp)
    try:
        yield tmp
        if keep_mode:
            _copy_mode(path, tmp)
        fsync_file(tmp)
        if overwrite:
            tmp.replace(path)
        else:
            try:
                _link_no_clobber(tmp, path)
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
    OSError
        When the copy cannot be made (``path`` is intact; no partial backup is left).
    """
    path = Path(path)
    backup_path = Path(backup_path)
    if os.path.lexists(backup_path):
        return False
    if link:
        try:
            os.link(path, backup_path)
        except FileExistsError:
            return False
        except OSError as error:
            if error.errno not in _NO_LINK_ERRNOS:
                raise
            _log.debug("hard link %s -> %s not possible (%s): copying", path, backup_path, error)
        else:
            fsync_directory(backup_path.parent)
            return True
    tmp = temp_path_for(backup_path)
    try:
        shutil.copyfile(path, tmp)
        shutil.copystat(path, tmp)
        fsync_file(tmp)
        try:
            _link_no_clobber(tmp, backup_path)
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_directory(backup_path.parent)
    return True


@contextlib.contextmanager
def file_lock(
    path: str | Path, timeout: float | None = None, *, poll: float = 0.05
) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` (via its sidecar ``.<name>.lock``).

    Advisory: it stops other ds9claw processes (any host sharing the file system where
    ``flock`` works over it), not arbitrary programs.  The lock is released by the
    kernel when the process dies, even on ``kill -9``; a lock file left behind then is
    harmless and is reused and removed by the next holder.

    Parameters
    ----------
    path : str or pathlib.Path
        The file to lock (it need not exist).
    timeout : float or None
        Seconds to wait for another holder: ``None`` waits for ever, ``0`` fails at once.
    poll : float
        Seconds between attempts while waiting.

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    TimeoutError
        When the lock is still held by another process after ``timeout`` seconds.
    OSError
        When the lock file cannot be created (read-only directory ...).
    """
    lock = lock_path_for(path)
    deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _acquire(fd, lock, deadline, poll, path)
            # The previous holder may have removed the lock file while we waited: then
            # our lock is on a deleted inode and does not exclude anyone; try again.
            try:
                same = lock.stat().st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            break
        os.close(fd)
    try:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{_host_tag()} {os.getpid()}\n".encode())
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        os.close(fd)  # releases the flock


def _acquire(fd: int, lock: Path, deadline: float | None, poll: float, path) -> None:
    if deadline is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = ""
                with contextlib.suppress(OSError):
                    holder = lock.read_text().strip()
                who = f" (held by {holder})" if holder else ""
                raise TimeoutError(
                    f"{path} is locked by another ds9claw process{who}; wait for it to finish "
                    f"or remove {lock} if no such process runs"
                ) from None
            time.sleep(poll)


def pid_alive(pid: int) -> bool:
    """Whether a process of this host with this id runs (zombies count as gone).

    Parameters
    ----------
    pid : int
        Process id.

    Returns
    -------
    bool
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0); look at its state where /proc tells it
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False  # gone between the two looks
    except (OSError, IndexError):
        return True  # no /proc here: kill(0) answered, so take it as running
    return state != "Z"


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
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
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
    prefix = f"{_temp_prefix(path)}{_host_tag()}-"
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
        with contextlib.suppress(FileNotFoundError):
            Path(entry.path).unlink()
            removed.append(Path(entry.path))
            _log.info("removed %s left by an interrupted write", entry.path)
    return removed

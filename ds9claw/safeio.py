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
import fcntl
import logging
import os
import secrets
import socket
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from .errors import OutputExistsError, UnsafePathError
from .lockholder import LockHolder, foreign_holder_message, read_holder
from .nofollow import (
    NOFOLLOW,
    check_descriptor,
    copy_file_into,
    file_kind,
    link_error,
    open_temp_for_writing,
    refuse_link,
    seal_temp,
    shown,
)

__all__ = [
    "atomic_write",
    "copy_file_into",
    "file_lock",
    "fsync_directory",
    "fsync_file",
    "lock_path_for",
    "make_backup",
    "open_temp_for_writing",
    "pid_alive",
    "refuse_link",
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


def _create_exclusive(path: Path) -> None:
    """Create an empty file that must not exist (nor be a link), mode 0o666 less the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o666)
    os.close(fd)


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
    _create_exclusive(tmp)
    try:
        yield tmp
        seal_temp(tmp, path if keep_mode else None)
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
            if error.errno not in _NO_LINK_ERRNOS:
                raise
            _log.debug("hard link %s -> %s not possible (%s): copying", path, backup_path, error)
        else:
            fsync_directory(backup_path.parent)
            return True
    tmp = temp_path_for(backup_path)
    try:
        _create_exclusive(tmp)
        copy_file_into(path, tmp)
        seal_temp(tmp, None)
        try:
            _link_no_clobber(tmp, backup_path)
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


@contextlib.contextmanager
def file_lock(
    path: str | Path, timeout: float | None = None, *, poll: float = 0.05
) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` (via its sidecar ``.<name>.lock``).

    Advisory: it stops other ds9claw processes, not arbitrary programs.  On one host the
    ``flock`` decides, and it is released by the kernel when the process dies, even on
    ``kill -9``; a lock file left behind by a dead process of this host is stale for
    certain and is taken over with a warning naming the pid.  A lock file naming another
    host is never taken over (``flock`` need not reach across hosts): it is waited for and
    reported at the timeout.  See `ds9claw.lockholder` for what the lock promises.

    The lock file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW``; one left behind is
    opened with ``O_NOFOLLOW`` and must be a regular file with a single name.  The
    holder writes ``<host> <pid>`` into it (only into a file of its own user), so a
    waiting process can say who holds it.  A symbolic link, a hard link or anything
    but a regular file at the lock name is an `~ds9claw.errors.UnsafePathError` and is
    neither followed nor written.

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
    UnsafePathError
        When the lock name is a link or not a regular file (nothing is written).
    OSError
        When the lock file cannot be created (read-only directory ...).
    """
    lock = lock_path_for(path)
    deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
    while True:
        fd = _open_lock(lock)
        try:
            _acquire(fd, lock, deadline, poll, path)
            # The previous holder may have removed the lock file while we waited: then
            # our lock is on a deleted inode and does not exclude anyone; try again.
            same = _same_inode(lock, fd)
            foreign = _foreign_holder(fd, lock) if same else None
        except BaseException:
            os.close(fd)
            raise
        if same and foreign is None:
            break
        if foreign is not None:
            # another host's lock: flock may not reach it, so never take it over
            if deadline is not None and time.monotonic() >= deadline:
                message = foreign_holder_message(path, lock, foreign, fd)
                os.close(fd)
                raise TimeoutError(message)
            os.close(fd)
            time.sleep(poll)
            continue
        os.close(fd)
    try:
        st = os.fstat(fd)
        if st.st_uid == os.geteuid() and st.st_nlink == 1:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{_host_tag()} {os.getpid()}\n".encode(), 0)
        yield lock
    finally:
        # remove the name only while it is still our file (never a link put there since)
        if _same_inode(lock, fd):
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
        os.close(fd)  # releases the flock


_LOCK_ADVICE = "remove it (no ds9claw lock is made like this); nothing was changed"


def _open_lock(lock: Path) -> int:
    """Create the lock file, or open the one left behind, never through a link."""
    flags = os.O_RDWR | NOFOLLOW | os.O_NONBLOCK
    while True:
        try:
            fd = os.open(lock, flags | os.O_CREAT | os.O_EXCL, 0o666)
            # name the holder at once: a waiter of another host must never see it empty
            os.pwrite(fd, f"{_host_tag()} {os.getpid()}\n".encode(), 0)
        except FileExistsError:
            try:
                fd = os.open(lock, flags)
            except FileNotFoundError:
                continue  # removed by its holder between the two calls: create it
            except OSError as error:
                if error.errno == errno.ELOOP:
                    raise link_error(lock, "lock file", _LOCK_ADVICE) from None
                if error.errno in (errno.EISDIR, errno.ENXIO, errno.ENODEV):
                    kind = "directory" if error.errno == errno.EISDIR else "special file"
                    raise UnsafePathError(
                        f"lock file {shown(lock)} is a {kind}, not a regular file: {_LOCK_ADVICE}"
                    ) from None
                raise
        try:
            check_descriptor(fd, lock, "lock file", _LOCK_ADVICE)
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd


def _foreign_holder(fd: int, lock: Path) -> LockHolder | None:
    """Another host's holder named in the lock we hold the flock of; warn on a stale one."""
    holder = read_holder(fd)
    if holder is None or (holder.pid == os.getpid() and holder.host == _host_tag()):
        return None
    if holder.host != _host_tag():
        return holder
    if not pid_alive(holder.pid):
        _log.warning(
            "%s was left by pid %d of this host, which no longer runs (killed?): "
            "stale, taken over",
            lock,
            holder.pid,
        )
    return None


def _same_inode(path: Path, fd: int) -> bool:
    try:
        named = os.lstat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


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
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    # read through our descriptor: the name may be anything by now
                    holder = os.pread(fd, 200, 0).decode("ascii").strip()
                who = f" (held by {shown(holder)})" if holder else ""
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

"""The exclusive lock on a file ds9claw changes: a hidden sidecar ``.<name>.lock``.

`file_lock` takes an ``fcntl.flock`` on ``<dir>/.<name>.lock`` and removes the file on
release with the usual "re-check the inode" protocol, so that a waiting process never
holds a lock on a deleted file.  The lock file is created with ``O_CREAT | O_EXCL |
O_NOFOLLOW``, an existing one is opened with ``O_NOFOLLOW`` and must be a regular file
with one name: a planted link is an `~ds9claw.errors.UnsafePathError` and is never
followed.  Who holds a lock, and when a lock is stale, is `ds9claw.lockholder`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import UnsafePathError
from .lockholder import LockHolder, foreign_holder_message, host_tag, pid_alive, read_holder
from .nofollow import NOFOLLOW, check_descriptor, link_error, shown

__all__ = ["file_lock", "lock_path_for"]

_log = logging.getLogger(__name__)


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
                os.pwrite(fd, f"{host_tag()} {os.getpid()}\n".encode(), 0)
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
            os.pwrite(fd, f"{host_tag()} {os.getpid()}\n".encode(), 0)
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
    if holder is None or (holder.pid == os.getpid() and holder.host == host_tag()):
        return None
    if holder.host != host_tag():
        return holder
    if not pid_alive(holder.pid):
        _log.warning(
            "%s was left by pid %d of this host, which no longer runs (killed?): stale, taken over",
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

"""Who holds a ds9claw lock file, and whether it is stale: the cross-host part of the lock.

`ds9claw.filelock.file_lock` makes ``<dir>/.<name>.lock`` with ``O_CREAT | O_EXCL |
O_NOFOLLOW`` and writes ``<host> <pid>`` into it at once, then takes an ``flock`` on it.

What the lock promises
----------------------
* Two ds9claw processes never both write the same file while both hold the lock, on
  one host or on several hosts sharing the file system: on one host the ``flock``
  decides; across hosts a lock file naming **another host** is never taken over, even
  when ``flock`` does not reach across hosts on that file system (Lustre mounted
  without ``flock``, old NFS): the waiter waits for the file to go away, then gives up
  after ``--lock-timeout`` with a message naming the host and pid.
* A lock left by a process of **this host** that no longer runs (``kill -9``, a crashed
  worker) is stale for certain (the pid is not running and nobody holds the ``flock``):
  it is taken over, and a warning names the dead pid, so a rerun finishes the work.
* A lock left by **another host** cannot be checked from here (its processes are not
  visible): it is reported, never broken; the message says how old it is and to remove
  it once no ds9claw runs on that host.  `describe_lock` tells the same to ``ds9claw
  survey status``.

It is advisory: it stops ds9claw processes, not other programs writing the files.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LockHolder",
    "describe_lock",
    "foreign_holder_message",
    "host_tag",
    "parse_holder",
    "pid_alive",
    "read_holder",
]


@dataclass(frozen=True)
class LockHolder:
    """The ``<host> <pid>`` written in a lock file.

    Attributes
    ----------
    host : str
        Host tag (`host_tag`: the host name, sanitised).
    pid : int
        Process id on that host.
    """

    host: str
    pid: int

    def __str__(self) -> str:
        return f"host {self.host} pid {self.pid}"


def parse_holder(text: str) -> LockHolder | None:
    """The holder named by a lock file's text, or None when it names none.

    Parameters
    ----------
    text : str
        The file's content.

    Returns
    -------
    LockHolder or None
    """
    parts = text.split()
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    return LockHolder(parts[0][:64], int(parts[1]))


def read_holder(fd: int) -> LockHolder | None:
    """The holder written in the open lock file ``fd`` (read through the descriptor).

    Parameters
    ----------
    fd : int
        Open lock file.

    Returns
    -------
    LockHolder or None
    """
    try:
        text = os.pread(fd, 200, 0).decode("ascii", "replace")
    except OSError:
        return None
    return parse_holder(text)


def describe_lock(lock: str | Path) -> str:
    """One line saying who holds ``lock`` and whether it looks stale (for status reports).

    Parameters
    ----------
    lock : str or pathlib.Path
        A ``.<name>.lock`` file.

    Returns
    -------
    str
    """
    lock = Path(lock)
    try:
        text = lock.read_text("ascii", "replace")
        age = time.time() - lock.lstat().st_mtime
    except OSError as error:
        return f"{lock}: cannot read ({error.strerror})"
    holder = parse_holder(text)
    if holder is None:
        return f"{lock}: names no holder (made {age:.0f} s ago)"
    if holder.host == host_tag():
        state = "running" if pid_alive(holder.pid) else "no longer running: stale"
        return f"{lock}: {holder} (this host, {state}; made {age:.0f} s ago)"
    return (
        f"{lock}: {holder} (another host, made {age:.0f} s ago): if no ds9claw runs on "
        f"{holder.host}, remove it"
    )


def foreign_holder_message(path, lock: Path, holder: LockHolder, fd: int) -> str:
    """The error when a lock of another host is still there at the deadline.

    Parameters
    ----------
    path : path-like
        The locked file.
    lock : pathlib.Path
        Its lock file.
    holder : LockHolder
        Who the lock file names.
    fd : int
        The open lock file (for its age).

    Returns
    -------
    str
    """
    age = ""
    with contextlib.suppress(OSError):
        age = f", made {time.time() - os.fstat(fd).st_mtime:.0f} s ago"
    return (
        f"{path} is locked by ds9claw on {holder}{age}; ds9claw cannot see the processes "
        f"of another host, so it never breaks this lock: wait for it, or remove {lock} "
        f"once no ds9claw runs on {holder.host}"
    )


def host_tag() -> str:
    """The name of this host as lock and temporary file names carry it (short, alphanumeric).

    Returns
    -------
    str
        The first label of the host name, other characters replaced by ``_``, at most 32.
    """
    host = socket.gethostname().split(".")[0] or "host"
    return "".join(c if c.isalnum() else "_" for c in host)[:32]


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

"""Opening files ds9claw creates itself without ever following a link.

The primitives under `ds9claw.safeio`, `ds9claw.backup` and `ds9claw.filelock`: no-follow
open flags, exclusive creation and no-clobber renaming of a name, the checks made on an
opened descriptor (a regular file with one name, of this user), and one-line
`~ds9claw.errors.UnsafePathError` messages that say what was found at a name
(``lock file d/.X.lock is a symbolic link to ~/victim.txt: ...``).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import stat
from pathlib import Path

from .errors import UnsafePathError

__all__ = [
    "NOFOLLOW",
    "NO_LINK_ERRNOS",
    "check_descriptor",
    "copy_file_into",
    "copy_mode",
    "create_exclusive",
    "file_kind",
    "link_error",
    "link_no_clobber",
    "open_temp_for_writing",
    "refuse_link",
    "seal_temp",
    "shown",
]

#: Open flags that never follow a symbolic link at the last path component.
NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def shown(path: str | Path) -> str:
    """A path for a one-line message (home as ``~``, control characters escaped)."""
    from .names import printable_name

    text = str(path)
    home = str(Path("~").expanduser())
    if home not in ("", "/", "~") and (text == home or text.startswith(home + os.sep)):
        text = "~" + text[len(home) :]
    return printable_name(text)


def link_error(path: Path, what: str, advice: str) -> UnsafePathError:
    """The error for a symbolic link found at ``path`` (it names what the link points to)."""
    try:
        target = str(Path(path).readlink())
    except OSError:
        target = "?"
    return UnsafePathError(
        f"{what} {shown(path)} is a symbolic link to {shown(target)}, which ds9claw does "
        f"not follow: {advice}"
    )


def file_kind(mode: int) -> str:
    """``"directory"``, ``"named pipe"`` ... for an ``st_mode`` that is not a regular file."""
    for test, name in (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "named pipe"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISLNK, "symbolic link"),
    ):
        if test(mode):
            return name
    return "special file"


def check_descriptor(fd: int, path: Path, what: str, advice: str) -> os.stat_result:
    """Check that an opened file is a regular file with exactly one name.

    Parameters
    ----------
    fd : int
        The descriptor (opened with `NOFOLLOW`).
    path : pathlib.Path
        Its name, for the message.
    what, advice : str
        What the file is and what the user should do, for the message.

    Returns
    -------
    os.stat_result
        The descriptor's ``fstat``.

    Raises
    ------
    UnsafePathError
        For a directory, pipe, device ... or a file with more than one hard link.
    """
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePathError(
            f"{what} {shown(path)} is a {file_kind(st.st_mode)}, not a regular file: {advice}"
        )
    if st.st_nlink > 1:
        raise UnsafePathError(
            f"{what} {shown(path)} has {st.st_nlink} hard links (another name shares its "
            f"data), which ds9claw does not write through: {advice}"
        )
    return st


def refuse_link(path: str | Path, what: str, advice: str = "remove it") -> None:
    """Raise `UnsafePathError` when ``path`` is a symbolic link (a missing name is fine).

    Parameters
    ----------
    path : str or pathlib.Path
        A name ds9claw is about to create, write or read as its own (lock, backup).
    what : str
        What the name is, for the message (``"backup"``).
    advice : str
        What the user should do, for the message.

    Raises
    ------
    UnsafePathError
        Naming the link and what it points to.
    """
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise link_error(path, what, advice)


def open_temp_for_writing(tmp: str | Path) -> io.BufferedWriter:
    """Open a temporary file made by `atomic_write` for writing, never through a link.

    Parameters
    ----------
    tmp : str or pathlib.Path
        The temporary path (it exists).

    Returns
    -------
    io.BufferedWriter
        A binary file, truncated, on a descriptor checked to be a regular file with
        one name.

    Raises
    ------
    UnsafePathError
        When the name has become a link or another kind of file.
    """
    tmp = Path(tmp)
    try:
        fd = os.open(tmp, os.O_WRONLY | NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise link_error(
                tmp, "temporary file", "remove it and try again; nothing was changed"
            ) from None
        raise
    try:
        check_descriptor(fd, tmp, "temporary file", "remove it and try again; nothing was changed")
        os.set_blocking(fd, True)
        os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb")


def copy_file_into(source: str | Path, tmp: str | Path) -> None:
    """Copy ``source``'s bytes, mode and times into a temporary file, never through a link.

    Parameters
    ----------
    source : str or pathlib.Path
        The file to copy (read only; a symbolic link is refused, not followed: callers
        resolve a link the user gave before).
    tmp : str or pathlib.Path
        A temporary file from `atomic_write` (see `open_temp_for_writing`).

    Raises
    ------
    UnsafePathError
        When ``source`` is a symbolic link or ``tmp`` is no longer a plain file.
    """
    try:
        source_fd = os.open(source, os.O_RDONLY | NOFOLLOW)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise link_error(Path(source), "file", "nothing was changed") from None
        raise
    with os.fdopen(source_fd, "rb") as src, open_temp_for_writing(tmp) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        st = os.fstat(src.fileno())
        os.fchmod(dst.fileno(), stat.S_IMODE(st.st_mode))
        os.utime(dst.fileno(), ns=(st.st_atime_ns, st.st_mtime_ns))
        os.fsync(dst.fileno())


def seal_temp(tmp: Path, keep_mode_of: Path | None) -> None:
    """Check the written temporary file on a no-follow descriptor, copy the mode, fsync."""
    advice = "nothing was renamed into place; remove it and try again"
    try:
        fd = os.open(tmp, os.O_RDONLY | NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise link_error(tmp, "temporary file", advice) from None
        raise
    try:
        st = check_descriptor(fd, tmp, "temporary file", advice)
        if st.st_uid != os.geteuid():
            raise UnsafePathError(
                f"temporary file {shown(tmp)} belongs to user id {st.st_uid}, not to this "
                f"user: {advice}"
            )
        if keep_mode_of is not None:
            copy_mode(keep_mode_of, fd)
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_mode(source: Path, fd: int) -> None:
    """Give the file open as ``fd`` the mode (and owner, when allowed) of ``source``.

    ``source`` is looked at with ``lstat``: a link at the target's name lends nothing.
    """
    try:
        st = os.lstat(source)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        return
    os.fchmod(fd, st.st_mode & 0o7777)
    mine = os.fstat(fd)
    if (st.st_uid, st.st_gid) != (mine.st_uid, mine.st_gid):
        with contextlib.suppress(OSError):
            os.fchown(fd, st.st_uid, st.st_gid)


#: errno values meaning "hard links are not possible here" (fall back to a copy).
NO_LINK_ERRNOS = {
    errno.EPERM,
    errno.ENOTSUP,
    errno.EOPNOTSUPP,
    errno.EXDEV,
    errno.EMLINK,
    errno.ENOSYS,
}


def create_exclusive(path: Path) -> None:
    """Create an empty file that must not exist (nor be a link), mode 0o666 less the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o666)
    os.close(fd)


def link_no_clobber(source: Path, target: Path) -> None:
    """Give ``source`` the name ``target``; fail with FileExistsError when it exists."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in NO_LINK_ERRNOS:
            raise
        # No hard links here (some network or FAT file systems): check, then rename.
        # This leaves a tiny race window that the link() path does not have.
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        source.rename(target)
        return
    source.unlink()

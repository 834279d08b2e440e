"""The processes around a DS9 this package starts: find them, end them, and Xvfb.

Linux only (``/proc``).  Every wait is bounded: a process that outlives its grace
period after SIGTERM is killed.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from ..errors import TransportError
from ..safeio import pid_alive

__all__ = ["child_pids", "command_line", "end_process_group", "kill_pid", "start_xvfb"]


def child_pids(pid: int) -> list[int]:
    """Return the ids of the live processes whose parent is ``pid`` (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: split after it
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def command_line(pid: int) -> list[str]:
    """Return the arguments ``pid`` was started with ([] when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def end_process_group(proc: subprocess.Popen | None, *, grace: float) -> None:
    """Terminate ``proc``'s process group, then kill it if it outlives ``grace`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
        return
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


def kill_pid(pid: int, *, grace: float) -> None:
    """Terminate ``pid``, then kill it if it outlives ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.02)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def start_xvfb(
    env: Mapping[str, str], *, timeout: float, screen: str
) -> tuple[subprocess.Popen, str]:
    """Start ``Xvfb`` on a free display (``-displayfd``) and wait until it is ready."""
    xvfb = shutil.which("Xvfb", path=env.get("PATH"))
    if xvfb is None:
        raise TransportError(
            "cannot start a virtual display: Xvfb is not installed "
            "(Debian: apt-get install xvfb), or set DISPLAY to a running X server"
        )
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [xvfb, "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            start_new_session=True,
        )
    except BaseException:
        os.close(read_fd)
        os.close(write_fd)
        raise
    os.close(write_fd)
    text = b""
    deadline = time.monotonic() + timeout
    try:
        while not text.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                break
            ready, _, _ = select.select([read_fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(read_fd, 64)
                if not chunk:
                    break
                text += chunk
    finally:
        os.close(read_fd)
    number = text.strip().decode(errors="replace")
    if not number.isdigit():
        end_process_group(proc, grace=2.0)
        raise TransportError(
            f"Xvfb did not report a display within {timeout:g} s "
            "(is another X server misbehaving? try again, or set DISPLAY)"
        )
    return proc, f":{number}"

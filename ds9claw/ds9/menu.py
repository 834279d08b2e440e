"""The Analysis-menu machinery: list DS9's analysis tasks and run one as a menu click does.

See `ds9claw.ds9.actions` for the DS9 facts these rely on.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from ..errors import InputError, TransportError
from .names import ds9_word
from .report_window import RULE
from .transport import Transport

__all__ = [
    "analysis_tasks",
    "new_text",
    "run_analysis_task",
    "task_windows",
    "wait_for_analysis_task",
]

_log = logging.getLogger(__name__)


def analysis_tasks(transport: Transport) -> list[str]:
    """Names of the Analysis-menu tasks DS9 has loaded, in DS9's task order.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    list of str
        Task names; ``analysis task <i>`` runs ``names[i]``.
    """
    try:
        listing = transport.get("analysis task").decode(errors="replace")
    except TransportError:
        transport.get("version")  # DS9 8.4 fails on this while no task is loaded
        return []
    names: list[str] = []
    for line in listing.splitlines():
        number, _, label = line.partition(" ")
        if number.isdigit():
            names.append(label.strip())
    return names


def _tcl_value(transport: Transport, expression: str, scratch: Path) -> str:
    """Evaluate a Tcl expression in DS9 and return its value (DS9 writes it to a file).

    DS9 writes the value to a temporary name and renames it, so the file appears
    complete.  A DS9 busy inside a snapshot or a task start has been seen to acknowledge
    the request a moment before running it, so the file is awaited briefly, and the
    request sent once more before giving up with a `TransportError`.
    """
    out = scratch / f".ds9claw-tcl-{os.getpid()}-{time.monotonic_ns()}.out"
    part = out.with_suffix(".part")
    part_word, out_word = ds9_word(part, what="scratch file"), ds9_word(out, what="scratch file")
    script = (
        f"set __ds9claw [open {part_word} w]; puts -nonewline $__ds9claw [{expression}]; "
        f"close $__ds9claw; file rename -force {part_word} {out_word}"
    )
    try:
        for _attempt in range(2):
            transport.set("tcl", script.encode())
            deadline = time.monotonic() + 2.0
            while not out.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            if out.exists():
                return out.read_text()
        raise TransportError(
            f"DS9 {transport.target!r} acknowledged a Tcl request but did not run it; "
            "close its dialogs and try again"
        )
    finally:
        out.unlink(missing_ok=True)
        part.unlink(missing_ok=True)


def run_analysis_task(
    transport: Transport, name: str, *, timeout: float = 120.0, scratch: Path | None = None
) -> str:
    """Run an Analysis-menu entry as a click would (``analysis task <n>``), wait, return its text.

    Only for entries without a parameter dialog: DS9 serves no XPA request while an
    XPA-started task shows a dialog.

    Parameters
    ----------
    transport : Transport
        Connection to DS9 (on this machine: DS9 writes the task state to ``scratch``).
    name : str
        The entry's label (``"Detect claws"``).
    timeout : float
        Seconds to wait for the task to end.
    scratch : pathlib.Path, optional
        Directory DS9 and this process share (default: a new private temporary directory).

    Returns
    -------
    str
        The task's text output as DS9 shows it.

    Raises
    ------
    InputError
        No such entry is loaded.
    TransportError
        The task did not end within ``timeout``.
    """
    import tempfile

    if scratch is None:
        # DS9 writes the answers by name: in a private directory nobody can plant a link
        with tempfile.TemporaryDirectory(prefix="ds9claw-task-") as private:
            return run_analysis_task(transport, name, timeout=timeout, scratch=Path(private))
    names = analysis_tasks(transport)
    if name not in names:
        raise InputError(
            f"DS9 has no analysis task {name!r}: load the analysis file first "
            "(ds9claw analysis install)"
        )
    index = names.index(name)
    windows = task_windows(index)
    before = [_window_text(transport, w, scratch) for w in windows]
    transport.set(f"analysis task {index}")
    wait_for_analysis_task(transport, index, timeout=timeout, scratch=scratch, name=name)
    after = [_window_text(transport, w, scratch) for w in windows]
    return new_text(before, after)


def task_windows(index: int) -> tuple[str, str]:
    """The text widgets a task's report can be in: the shared ds9claw window, its own.

    Parameters
    ----------
    index : int
        The task's number.

    Returns
    -------
    tuple of str
        Tk paths of the shared window's text widget and of DS9's per-task one (which
        shows stderr, and the report when the shared window could not be reached).
    """
    from .report_window import WINDOW

    return f"{WINDOW}.text", f".atmenu{index}txt.text"


def new_text(before: list[str], after: list[str]) -> str:
    """What the windows gained: ``after`` minus ``before``, window by window, joined.

    Parameters
    ----------
    before, after : list of str
        Texts of the same windows before and after a task.

    Returns
    -------
    str
        The new text of each window (stripped, without the rule that separates it
        from the report before), joined with newlines.
    """
    parts = []
    for old, new in zip(before, after, strict=True):
        old = old.rstrip("\n")
        part = new[len(old) :] if new.startswith(old) else new
        part = part.strip().removeprefix(RULE).strip()
        if part:
            parts.append(part)
    return "\n".join(parts)


def _window_text(transport: Transport, window: str, scratch: Path) -> str:
    if _tcl_value(transport, f"winfo exists {window}", scratch) != "1":
        return ""
    return _tcl_value(transport, f"{window} get 1.0 end", scratch)


def wait_for_analysis_task(
    transport: Transport,
    index: int,
    *,
    timeout: float = 120.0,
    scratch: Path,
    name: str | None = None,
) -> None:
    """Wait for the Analysis-menu task ``index``, started a moment ago, to end.

    DS9 is asked once for the task's process ids; then this waits on those processes
    without a word to DS9, and asks DS9 again only once they have ended.  Polling DS9
    over XPA while the task itself talks to DS9 (a snapshot's ``saveimage`` grabs the
    window and runs Tk's event loop inside the task's request) has been seen to hang the
    poll for XPA's whole timeout, or to make DS9 drop the task's request.

    Parameters
    ----------
    transport : Transport
        Connection to DS9 (on this machine: the task's processes are looked at here).
    index : int
        The task's number (``analysis task <index>``).
    timeout : float
        Seconds to wait.
    scratch : pathlib.Path
        Directory DS9 and this process share.
    name : str, optional
        The entry's label, for the message.

    Raises
    ------
    TransportError
        The task did not end within ``timeout``.
    """
    from ..lockholder import pid_alive

    label = repr(name) if name else str(index)
    deadline = time.monotonic() + timeout
    key = f"ianalysis(menu,{index},pid)"
    words = _tcl_value(
        transport, f"expr {{[info exists {key}] ? [set {key}] : {{}}}}", scratch
    ).split()
    pids = [int(w) for w in words if w.isdigit() and int(w) > 0]
    while any(pid_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            raise TransportError(f"analysis task {label} still running after {timeout:g} s")
        time.sleep(0.02)
    # the processes have ended; DS9 reads the rest of their output and ends the task
    while _tcl_value(transport, f"info exists {key}", scratch) == "1":
        if time.monotonic() > deadline:
            raise TransportError(f"analysis task {label} still running after {timeout:g} s")
        time.sleep(0.02)

"""One shared, reused DS9 text window for every Claws-menu report.

DS9 gives each analysis task its own text window (``|& $text`` opens
``.atmenu<i>txt``), so a sitting used to leave one window per entry.  With
``--report-window`` a ``ds9claw ds9 ...`` command instead posts its report over the
transport into one DS9 text dialog (DS9's own ``SimpleTextDialog``, window
`WINDOW`, title ``ds9claw``), appending to what is there with a rule between reports,
and prints nothing on stdout, so DS9 keeps the task's own window closed (DS9 opens it
only for non-empty output).  Errors still go to stderr, which ``|&`` shows in the task's
own window, and so does the report when DS9 cannot be reached to post it.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable

from ..errors import Ds9ClawError, TransportError
from .report_text import wrap_report
from .transport import Transport

__all__ = [
    "RULE",
    "TITLE",
    "WINDOW",
    "WINDOW_VARIABLE",
    "ReportWindowStream",
    "post_script",
    "report_to_window",
    "run_reported",
    "tcl_string",
]

_log = logging.getLogger(__name__)

#: The Tcl variable of the shared dialog; its window is ``.`` + this name.
WINDOW_VARIABLE = "ds9clawtxt"
#: The shared window's Tk path (its text widget is ``WINDOW + ".text"``).
WINDOW = "." + WINDOW_VARIABLE
#: The shared window's title.
TITLE = "ds9claw"
#: The line between two reports.
RULE = "-" * 40

_PLAIN = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:=-_/()+*%<>!?'@~^|&"
)


def tcl_string(text: str) -> str:
    r"""Quote ``text`` as one Tcl word that Tcl reads back unchanged.

    Every character outside a small plain set (letters, digits, space and harmless
    punctuation) is written as a ``\uXXXX`` escape inside double quotes, so brackets,
    braces, dollars, backslashes and newlines never reach Tcl's parser.  Characters
    beyond the Basic Multilingual Plane, which DS9's Tcl 8.6 cannot escape, become
    U+FFFD (the replacement character).

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The quoted word.
    """
    parts = []
    for char in text:
        code = ord(char)
        if char in _PLAIN:
            parts.append(char)
        else:  # Tcl 8.6 (DS9's) has no escape beyond the BMP: shown as U+FFFD
            parts.append(f"\\u{code if code <= 0xFFFF else 0xFFFD:04x}")
    return '"' + "".join(parts) + '"'


def post_script(text: str, *, first: bool) -> str:
    """The Tcl script that appends ``text`` to the shared window (opening it if need be).

    ``first`` marks the first piece of one report: a rule goes before it when the window
    already holds an earlier report.
    """
    word = tcl_string(text)
    rule = tcl_string(RULE + "\n")
    script = f"set __ds9claw_text {word}; set __ds9claw_rule {{}}; "
    if first:
        script += (
            f"if {{[winfo exists {WINDOW}.text] && [{WINDOW}.text get 1.0 end-1c] ne {{}}}} "
            f"{{set __ds9claw_rule {rule}}}; "
        )
    return script + (
        f"SimpleTextDialog {WINDOW_VARIABLE} {TITLE} 80 20 append bottom "
        "$__ds9claw_rule$__ds9claw_text"
    )


class ReportWindowStream(io.TextIOBase):
    """A stdout stand-in that sends what is written to the shared window at each flush.

    Lines are wrapped at about 80 columns (`ds9claw.ds9.report_text.wrap_report`).
    The transport is opened at the first flush that has text, by ``connect``.

    Parameters
    ----------
    connect : callable
        Returns an open `Transport` to the DS9 that gets the report.
    """

    def __init__(self, connect: Callable[[], Transport]):
        super().__init__()
        self._connect = connect
        self._transport: Transport | None = None
        self._pending: list[str] = []
        self._posted = False
        self.unposted = ""  # what could not be posted, for stdout

    def writable(self) -> bool:  # noqa: D102 - io protocol
        return True

    def write(self, text: str) -> int:  # noqa: D102 - io protocol
        self._pending.append(text)
        return len(text)

    def flush(self) -> None:
        """Post the complete lines written since the last flush."""
        text = "".join(self._pending)
        if "\n" not in text:
            return
        complete, _, rest = text.rpartition("\n")
        self._pending = [rest] if rest else []
        self._post(complete + "\n")

    def finish(self) -> None:
        """Post everything left and close the transport; text not posted stays in ``unposted``."""
        text = "".join(self._pending)
        self._pending = []
        if text.strip():
            self._post(text)
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _post(self, text: str) -> None:
        wrapped = wrap_report(text)
        if self.unposted:  # DS9 was out of reach once: keep the report in one place
            self.unposted += wrapped
            return
        try:
            if self._transport is None:
                self._transport = self._connect()
            self._transport.set("tcl", post_script(wrapped, first=not self._posted).encode())
            self._posted = True
        except TransportError as err:
            _log.warning("could not show the report in DS9's ds9claw window: %s", err)
            self.unposted = wrapped


def run_reported(run: Callable[[], int], connect: Callable[[], Transport]) -> int:
    """Run ``run()`` with its stdout going to DS9's shared ds9claw window.

    Parameters
    ----------
    run : callable
        The command; what it prints is the report.
    connect : callable
        Opens a `Transport` to the DS9 that shows the report.

    Returns
    -------
    int
        ``run()``'s exit status.

    Notes
    -----
    When ``run()`` raises, the report so far is posted before the error propagates (the
    error itself goes to stderr: DS9's per-task window shows it).  A report that cannot be
    posted is printed on the real stdout instead.
    """
    stream = ReportWindowStream(connect)
    real_stdout = sys.stdout
    sys.stdout = stream
    try:
        return run()
    finally:
        sys.stdout = real_stdout
        try:
            stream.finish()
        except Ds9ClawError as err:  # pragma: no cover - close() failing
            _log.warning("closing the report window's connection: %s", err)
        if stream.unposted:
            real_stdout.write(stream.unposted)
            real_stdout.flush()


def report_to_window(args, run: Callable[[object], int]) -> int:
    """Run the command ``run(args)`` with its report in DS9's shared window.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``ds9claw ds9`` arguments (``--target``, ``--samp``, ``--hub``,
        ``--timeout`` say where DS9 is); ``report_window`` is turned off before ``run``.
    run : callable
        The command.

    Returns
    -------
    int
        The command's exit status.
    """
    from .connect import open_transport

    args.report_window = False

    def connect() -> Transport:
        return open_transport(args.target, samp=args.samp, hub=args.hub, timeout=args.timeout)

    return run_reported(lambda: run(args), connect)

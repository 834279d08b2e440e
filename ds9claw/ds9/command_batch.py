"""Many DS9 commands in one request: a batch run by DS9's own command dispatcher.

Each XPA request is a new ``xpaget``/``xpaset`` process (5-20 ms), and each ``set``
that changes what is shown makes DS9 redraw at once.  A `CommandBatch` sends a list of
``set`` and ``get`` commands as one Tcl script (``xpaset tcl``): DS9 runs each through
the dispatcher its SAMP interface uses (``CommSet``/``CommGet`` in DS9's
``library/comm.tcl``, which parses every command exactly as XPA does), redraws once at
the end, and writes the answers of the ``get`` steps to a private file.

DS9 facts these rely on (checked against DS9 8.4.1):

* a command DS9 refuses leaves its message in ``ds9(msg)`` (level ``error``) or, for a
  Tcl error, in ``errorInfo``; ``InitError`` clears both.  A refused ``set`` or ``get``
  stops the batch: DS9 answers the request with ``<command>: <DS9's message>``, and the
  steps before it have run.  A `CommandBatch.get` with ``may_fail=True`` answers
  ``None`` instead (``fits header`` of an empty frame).
* ``CommGet`` hands a ``get`` answer to a callback, as the SAMP ``ds9.get`` does.

The answers go through a file, so DS9 must run on this machine (as for every ``tcl``
request ds9claw sends).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TransportError
from .names import ds9_word
from .transport import Transport

__all__ = ["BATCH_MARKER", "CommandBatch"]

#: First line of every batch script (the test fake recognises batches by it).
BATCH_MARKER = "# ds9claw command batch"

_PRELUDE = r"""
namespace eval ::ds9claw {}
proc ::ds9claw::keep {id msg {fn {}}} {set ::ds9claw::answer $msg}
proc ::ds9claw::step {verb hex {data {}}} {
    global ds9 errorInfo
    set cmd [encoding convertfrom utf-8 [binary decode hex $hex]]
    set src $ds9(msg,src)
    InitError $src
    set ::ds9claw::answer {}
    if {$verb eq "value"} {lappend ::ds9claw::answers [list ok [uplevel #0 $cmd]]; return}
    if {$verb eq "set"} {
        CommSet {} $cmd
    } elseif {$verb eq "setfile"} {
        CommSet [encoding convertfrom utf-8 [binary decode hex $data]] $cmd
    } else {
        CommGet ::ds9claw::keep {} $cmd {}
    }
    set failed {}
    if {$ds9(msg) ne {} && $ds9(msg,level) in {error fatal}} {
        set failed $ds9(msg)
    } elseif {$errorInfo ne {}} {
        set failed [lindex [split $errorInfo "\n"] 0]
    }
    InitError $src
    if {$failed ne {}} {
        if {$verb eq "tryget"} {lappend ::ds9claw::answers [list err $failed]; return}
        if {[string length $cmd] > 60} {set cmd "[string range $cmd 0 56]..."}
        error "$cmd: $failed"
    }
    if {$verb in {get tryget}} {lappend ::ds9claw::answers [list ok $::ds9claw::answer]}
}
set ::ds9claw::answers {}
"""

_WRITE_ANSWERS = r"""
set __ds9claw [open {part} w]
foreach __a $::ds9claw::answers {{
    puts $__ds9claw "[lindex $__a 0] [binary encode hex [encoding convertto utf-8 [lindex $__a 1]]]"
}}
close $__ds9claw
file rename -force {part} {out}
"""


#: The steps that answer (one line each in the answers file).
_ANSWERING = ("get", "tryget", "value")


def _hex(command: str) -> str:
    return command.encode().hex()


@dataclass
class CommandBatch:
    """DS9 commands to run in one request, in order.

    Examples
    --------
    >>> batch = CommandBatch()
    >>> batch.set("frame 2")
    >>> size = batch.get("fits size")
    >>> answers = batch.run(transport)  # doctest: +SKIP
    >>> answers[size]  # doctest: +SKIP
    '2048 2048'
    """

    steps: list[tuple[str, str]] = field(default_factory=list)
    payloads: dict[int, bytes] = field(default_factory=dict, repr=False)

    @property
    def _n_answers(self) -> int:
        return sum(verb in _ANSWERING for verb, _ in self.steps)

    def set(self, command: str, data: bytes | None = None) -> None:
        """Add a ``set`` command (as typed after ``xpaset -p ds9``).

        ``data`` is what ``xpaset`` would send on standard input (FITS bytes for
        ``fits NAME``): DS9 reads it from a private file, as for a SAMP ``ds9.set``
        with a URL, which is faster than the XPA pipe for an image.
        """
        if data is not None:
            self.payloads[len(self.steps)] = bytes(data)
            self.steps.append(("setfile", command))
        else:
            self.steps.append(("set", command))

    def get(self, command: str, *, may_fail: bool = False) -> int:
        """Add a ``get`` command; return the index of its answer in `run`'s list.

        With ``may_fail=True`` a refusal answers ``None`` instead of stopping the batch.
        """
        self.steps.append(("tryget" if may_fail else "get", command))
        return self._n_answers - 1

    def tcl_value(self, expression: str) -> int:
        """Add a Tcl expression evaluated in DS9 (``set ::x``); return its answer's index."""
        self.steps.append(("value", expression))
        return self._n_answers - 1

    def script(self, out: Path | None, files: dict[int, Path] | None = None) -> str:
        """The Tcl script; the answers are written to ``out`` (when there are any).

        ``files`` holds, by step, the file each data payload was written to.
        """
        lines = [BATCH_MARKER, _PRELUDE]
        for index, (verb, command) in enumerate(self.steps):
            step = f"::ds9claw::step {verb} {_hex(command)}"
            if verb == "setfile":
                step += " " + _hex(str((files or {})[index]))
            lines.append(step)
        if out is not None:
            part = ds9_word(out.with_suffix(".part"), what="scratch file")
            lines.append(_WRITE_ANSWERS.format(part=part, out=ds9_word(out, what="scratch file")))
        return "\n".join(lines) + "\n"

    def run(self, transport: Transport) -> list[str | None]:
        """Send the batch; return the answers of its ``get`` steps, stripped, in order.

        Parameters
        ----------
        transport : Transport
            Connection to DS9 (on this machine).

        Returns
        -------
        list of str or None
            One per `get`; ``None`` where a ``may_fail`` get was refused.

        Raises
        ------
        TransportError
            DS9 refused a step (the message names it) or did not write the answers.
        """
        if not self.steps:
            return []
        if not self._n_answers and not self.payloads:
            transport.set("tcl", self.script(None).encode())
            return []
        scratch = Path(tempfile.mkdtemp(prefix="ds9claw-batch-"))
        out = scratch / "answers.txt"
        try:
            files = {}
            for index, payload in self.payloads.items():
                files[index] = scratch / f"payload-{index}.fits"
                files[index].write_bytes(payload)
            transport.set("tcl", self.script(out, files).encode())
            # DS9 answers a request once it has run it; a DS9 busy starting a task has
            # been seen to acknowledge a moment before: wait, never send it again
            deadline = time.monotonic() + max(2.0, float(getattr(transport, "timeout", 2.0)))
            while not out.exists():
                if time.monotonic() > deadline:
                    raise TransportError(
                        f"DS9 {transport.target!r} acknowledged a batch of "
                        f"{len(self.steps)} commands but did not run it; close its dialogs "
                        "and try again"
                    )
                time.sleep(0.005)
            return _parse_answers(out.read_text(), self._n_answers, transport)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _parse_answers(text: str, expected: int, transport: Transport) -> list[str | None]:
    answers: list[str | None] = []
    for line in text.splitlines():
        status, _, payload = line.partition(" ")
        value = bytes.fromhex(payload.strip()).decode(errors="replace").strip()
        answers.append(value if status == "ok" else None)
    if len(answers) != expected:
        raise TransportError(
            f"DS9 {transport.target!r} answered {len(answers)} of the {expected} queries of "
            "a batch; is it still running?"
        )
    return answers

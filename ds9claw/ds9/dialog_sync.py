"""The Claws dialogs show what Detect will use, however the menu was loaded.

DS9 reads a parameter dialog's defaults from the analysis file when it loads it, and
keeps the values shown in ``ianalysis(param,<i>,<j>,<k>,last|value)``.  Two places can
disagree with ``settings.json`` (which plain Detect uses): a copy of the user file
installed as ``~/.ds9.ans`` (only the copy under the config directory was rewritten),
and a DS9 running with the menu loaded before the values changed.  `refresh_copies`
rewrites the defaults (and only them) in every ds9claw copy; `sync_running_dialogs`
sets the values inside a running DS9.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..safeio import write_text_atomically
from .transport import Transport

__all__ = ["refresh_copies", "rewrite_defaults", "sync_running_dialogs"]

_log = logging.getLogger(__name__)

#: The first line of ds9claw's parameter block: today's (its name is the dialog's
#: title) and the one of menus installed before it had a human title.
_PARAM_BLOCK_LINES = ("param {Detect claws with parameters}", "param ds9claw")


def rewrite_defaults(text: str, defaults: dict[str, str]) -> str:
    """Replace the default of each ``cl_*`` parameter line; keep every other line.

    Parameters
    ----------
    text : str
        An analysis file.
    defaults : dict of str to str
        ``cl_*`` name -> value (`ds9claw.commands.analysis.dialog_defaults`).

    Returns
    -------
    str
    """
    from ..commands.analysis import _PARAM_LINE, _tcl_word

    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        match = _PARAM_LINE.match(body)
        if match and match.group(1) in defaults:
            body = (
                match.group(1)
                + match.group(2)
                + _tcl_word(defaults[match.group(1)])
                + match.group(4)
            )
            line = body + line[len(line.rstrip("\r\n")) :]
        out.append(line)
    return "".join(out)


def refresh_copies(settings, *, home: Path | None = None) -> list[Path]:
    """Rewrite the dialog defaults in ``~/.ds9.ans`` when it holds the ds9claw menu.

    Only a file with ds9claw's parameter block (``param {Detect claws with parameters}``,
    or ``param ds9claw`` in older copies) is changed, and in it
    only the ``cl_*`` default values: entries the observer added stay as they are.

    Parameters
    ----------
    settings : ds9claw.ds9.settings.Ds9Settings
        The remembered values.
    home : pathlib.Path, optional
        Home directory (default ``~``).

    Returns
    -------
    list of pathlib.Path
        Files rewritten.
    """
    from ..commands.analysis import dialog_defaults

    home = home or Path.home()
    written = []
    path = home / ".ds9.ans"
    if path.is_file() and not path.is_symlink() and path.resolve() != _user_copy(settings):
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(line.strip() in _PARAM_BLOCK_LINES for line in text.splitlines()):
            new = rewrite_defaults(text, dialog_defaults(settings))
            if new != text:
                write_text_atomically(path, new)
                written.append(path)
    return written


def _user_copy(settings) -> Path | None:
    return Path(settings.analysis_file).resolve() if settings.analysis_file else None


def sync_running_dialogs(transport: Transport, settings) -> None:
    """Set the Claws dialogs of a running DS9 to the remembered values.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    settings : ds9claw.ds9.settings.Ds9Settings
        The remembered values.
    """
    from ..commands.analysis import dialog_defaults
    from .names import DS9_REFUSED_CHARACTERS

    pairs = []
    for name, value in dialog_defaults(settings).items():
        if any(c in DS9_REFUSED_CHARACTERS for c in value):
            continue  # cannot be put in a Tcl word safely; the dialog keeps its value
        pairs.append(f"{name} {{{value}}}")
    script = (
        f"array set ::ds9claw_defaults [list {' '.join(pairs)}]\n"
        "if {[info exists ::ianalysis(param,count)]} {\n"
        " for {set i 0} {$i < $::ianalysis(param,count)} {incr i} {\n"
        "  for {set j 0} {$j < $::ianalysis(param,$i,count)} {incr j} {\n"
        "   for {set k 0} {$k < $::ianalysis(param,$i,$j,count)} {incr k} {\n"
        "    set v $::ianalysis(param,$i,$j,$k,var)\n"
        "    if {[info exists ::ds9claw_defaults($v)]} {\n"
        "     set ::ianalysis(param,$i,$j,$k,last) $::ds9claw_defaults($v)\n"
        "     set ::ianalysis(param,$i,$j,$k,value) $::ds9claw_defaults($v)\n"
        "}}}}}\n"
    )
    transport.set("tcl", script.encode())

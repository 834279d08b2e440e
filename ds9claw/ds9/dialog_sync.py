"""The Claws dialogs show what Detect will use, however the menu was loaded.

DS9 reads a parameter dialog's defaults from the analysis file when it loads it, and
keeps the values shown in ``ianalysis(param,<i>,<j>,<k>,last|value)``.  Two places can
disagree with ``settings.json`` (which plain Detect uses): a copy of the user file
installed as ``~/.ds9.ans`` (only the copy under the config directory was rewritten),
and a DS9 running with the menu loaded before the values changed.  `remember_parameters`
saves new values and rewrites the user copy; `refresh_copies` rewrites the defaults (and
only them) in every other ds9claw copy; `sync_running_dialogs` sets the values inside a
running DS9.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..safeio import write_text_atomically
from .transport import Transport

__all__ = ["refresh_copies", "remember_parameters", "rewrite_defaults", "sync_running_dialogs"]

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
        ``cl_*`` name -> value (`ds9claw.ds9.analysis_file.dialog_defaults`).

    Returns
    -------
    str
    """
    from .analysis_file import dialog_default_line

    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        with_default = dialog_default_line(body, defaults)
        if with_default is not None:
            line = with_default + line[len(body) :]
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
    from .analysis_file import dialog_defaults

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
    from .analysis_file import dialog_defaults
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


def remember_parameters(
    settings, params, *, suffix: str | None = None, overwrite: bool | None = None
) -> Path:
    """Remember detection parameters as the new defaults, in every place DS9 reads them.

    ``settings.json`` first, then the user copy of the analysis file
    (`ds9claw.ds9.analysis_file.refresh_user_copy`) and `refresh_copies`.

    Parameters
    ----------
    settings : ds9claw.ds9.settings.Ds9Settings
        The remembered values; changed in place.
    params : ds9claw.detect.DetectionParameters
        The validated parameters; those DS9's dialog offers are remembered.
    suffix : str, optional
        A new product suffix (None or empty: keep the remembered one).
    overwrite : bool, optional
        A new "replace files not written by ds9claw" setting (None: keep it).

    Returns
    -------
    pathlib.Path
        The settings file written.
    """
    from ..parameters import DIALOG_PARAMETERS
    from .analysis_file import refresh_user_copy
    from .settings import save_settings

    for description in DIALOG_PARAMETERS:
        setattr(settings, description.name, getattr(params, description.name))
    if suffix:
        settings.suffix = suffix
    if overwrite is not None:
        settings.overwrite = overwrite
    path = save_settings(settings)
    if settings.analysis_file:
        refresh_user_copy(settings)
    refresh_copies(settings)
    return path

"""The Claws menu's analysis file: find the shipped one, write the user copy, load it.

DS9 reads its Analysis menu from an analysis file (``ds9_analysis/ds9claw.ans``).  The
user copy written here differs from the shipped file in two ways: its commands call
this Python by absolute path when ``ds9claw`` is not on the PATH a desktop-launched DS9
sees (the cause of DS9's "An error has occurred invoking the Analysis task"), and its
parameter dialogs default to the values last remembered (``settings.json``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from ..errors import InputError, TransportError
from ..parameters import DIALOG_PARAMETERS, dialog_text
from ..safeio import write_text_atomically
from .names import ds9_word
from .transport import Transport

__all__ = [
    "DESKTOP_PATH",
    "MENU_MARKER",
    "claws_menu_loaded",
    "desktop_command",
    "dialog_default_line",
    "dialog_defaults",
    "load_claws_menu",
    "refresh_user_copy",
    "render_analysis_file",
    "shipped_analysis_file",
    "tcl_word",
    "write_user_copy",
]

#: The PATH of a DS9 started from a desktop menu or dock (no shell start-up files).
DESKTOP_PATH = os.pathsep.join(
    [
        "/usr/local/bin",
        "/usr/bin",
        "/bin",
        "/usr/local/sbin",
        "/usr/sbin",
        "/sbin",
        "/opt/local/bin",
        "/opt/homebrew/bin",
    ]
)
#: The label of the first Claws entry: DS9 lists it when the menu is loaded.
MENU_MARKER = "Detect claws"
_PARAM_LINE = re.compile(r"^(cl_[a-z]+)(\s+\S+\s+\{[^}]*\}\s+)(\{[^}]*\}|\S+)(.*)$")


def shipped_analysis_file() -> Path:
    """Location of the analysis file shipped with ds9claw.

    Returns
    -------
    pathlib.Path
        ``ds9_analysis/ds9claw.ans``.

    Raises
    ------
    InputError
        When the file is not where this installation keeps it.
    """
    here = Path(__file__).resolve().parent.parent
    candidates = [
        here / "data" / "ds9claw.ans",
        here.parent / "ds9_analysis" / "ds9claw.ans",
        Path(sys.prefix) / "share" / "ds9claw" / "ds9claw.ans",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise InputError(
        "the analysis file ds9claw.ans is missing from this installation (looked in "
        + ", ".join(str(c) for c in candidates)
        + "): reinstall ds9claw"
    )


def _interpreter_of(script: Path) -> str | None:
    try:
        with open(script, "rb") as handle:
            first = handle.readline(512).decode(errors="replace").strip()
    except OSError:
        return None
    return first[2:].strip().split()[0] if first.startswith("#!") else None


def desktop_command(*, force_absolute: bool = False) -> str:
    """The command prefix the analysis file should use to run ds9claw.

    ``ds9claw`` when a desktop-launched DS9 finds this very installation on its PATH,
    else this interpreter by absolute path with ``-m ds9claw``.

    Parameters
    ----------
    force_absolute : bool
        Always use the absolute interpreter path.

    Returns
    -------
    str
        ``"ds9claw"`` or ``"{/path/to/python} -m ds9claw"`` (braced for DS9's Tcl).
    """
    if not force_absolute:
        found = shutil.which("ds9claw", path=DESKTOP_PATH)
        if found is not None:
            interpreter = _interpreter_of(Path(found))
            if interpreter and Path(interpreter).resolve() == Path(sys.executable).resolve():
                return "ds9claw"
    return "{" + sys.executable + "} -m ds9claw"


def tcl_word(value: str) -> str:
    """``value`` as one Tcl word: bare when it can be, else braced (braces dropped).

    Parameters
    ----------
    value : str
        A dialog value.

    Returns
    -------
    str
    """
    text = str(value)
    if text and all(c not in text for c in ' \t{}\\"[]$;#'):
        return text
    return "{" + text.replace("{", "").replace("}", "") + "}"


def dialog_default_line(line: str, defaults: dict[str, str]) -> str | None:
    """``line`` with its default replaced, when it is a ``cl_*`` parameter in ``defaults``.

    Parameters
    ----------
    line : str
        One line of an analysis file, without its line end.
    defaults : dict of str to str
        ``cl_*`` name -> value (`dialog_defaults`).

    Returns
    -------
    str or None
        The new line; None when ``line`` is not such a parameter line.
    """
    match = _PARAM_LINE.match(line)
    if not match or match.group(1) not in defaults:
        return None
    return match.group(1) + match.group(2) + tcl_word(defaults[match.group(1)]) + match.group(4)


def dialog_defaults(settings) -> dict[str, str]:
    """The parameter dialogs' values for the remembered settings (``cl_*`` -> text).

    Parameters
    ----------
    settings : ds9claw.ds9.settings.Ds9Settings
        Remembered values.

    Returns
    -------
    dict of str to str
    """
    defaults = {
        p.dialog.variable: dialog_text(p, getattr(settings, p.name))
        for p in DIALOG_PARAMETERS
        if p.dialog is not None
    }
    defaults |= {
        "cl_suffix": settings.suffix,
        "cl_overwrite": "1" if getattr(settings, "overwrite", False) else "0",
        "cl_ratedir": settings.rate_dir or "",
    }
    return defaults


def render_analysis_file(template: str, *, command: str, settings) -> str:
    """Make the user copy of the analysis file.

    Parameters
    ----------
    template : str
        The shipped file's text.
    command : str
        Command prefix replacing ``ds9claw`` at the start of commands (`desktop_command`).
    settings : ds9claw.ds9.settings.Ds9Settings
        Remembered values used as the parameter dialogs' defaults.

    Returns
    -------
    str
        The analysis file text.
    """
    defaults = dialog_defaults(settings)
    out = []
    for line in template.splitlines():
        with_default = dialog_default_line(line, defaults)
        if with_default is not None:
            line = with_default
        elif " ds9claw ds9 " in f" {line} " and not line.lstrip().startswith("#"):
            line = re.sub(r"(^|; )ds9claw ds9 ", lambda m: f"{m.group(1)}{command} ds9 ", line)
        out.append(line)
    header = (
        "# User copy written by `ds9claw analysis install`; rewritten when parameters are\n"
        "# remembered.  Edit the shipped file instead: " + str(shipped_analysis_file()) + "\n"
    )
    return header + "\n".join(out) + "\n"


def write_user_copy(path: Path, *, command: str, settings) -> Path:
    """Write the user copy of the shipped analysis file to ``path`` (atomically).

    Parameters
    ----------
    path : pathlib.Path
        Where the copy goes (parent directories are made).
    command : str
        Command prefix (`desktop_command`).
    settings : ds9claw.ds9.settings.Ds9Settings
        Remembered values used as the parameter dialogs' defaults.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    text = render_analysis_file(
        shipped_analysis_file().read_text(encoding="utf-8"), command=command, settings=settings
    )
    write_text_atomically(path, text, make_parents=True)
    return path


def refresh_user_copy(settings) -> Path | None:
    """Rewrite the installed user copy so its dialogs default to the remembered values.

    Parameters
    ----------
    settings : ds9claw.ds9.settings.Ds9Settings
        Remembered settings (``analysis_file`` names the user copy).

    Returns
    -------
    pathlib.Path or None
        The file rewritten (None when there is no user copy, or it is not ours).
    """
    if not settings.analysis_file:
        return None
    path = Path(settings.analysis_file)
    try:
        current = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if "ds9claw analysis install" not in current.splitlines()[0]:
        return None  # replaced by something else: leave it alone
    command = settings.extra.get("command") or desktop_command()
    return write_user_copy(path, command=command, settings=settings)


def claws_menu_loaded(transport: Transport) -> bool:
    """Return True when the DS9 behind ``transport`` has a Claws menu loaded.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    bool
    """
    try:
        listing = transport.get("analysis task").decode(errors="replace")
    except TransportError:
        # DS9 8.4 fails on 'analysis task' while no task is loaded ("result": no such
        # variable); make sure it is still there, then take it as "nothing loaded"
        transport.get("version")
        return False
    return any(line.split(" ", 1)[-1].strip() == MENU_MARKER for line in listing.splitlines())


def load_claws_menu(transport: Transport, path: Path, *, replace: bool = False) -> bool:
    """Load the analysis file ``path`` into DS9's Analysis menu.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    path : pathlib.Path
        The analysis file.
    replace : bool
        When a Claws menu is already loaded, clear DS9's analysis commands first
        (``analysis clear``) and load; otherwise leave that DS9 as it is.

    Returns
    -------
    bool
        True when the file was loaded; False when a Claws menu was there and kept.
    """
    if claws_menu_loaded(transport):
        if not replace:
            return False
        transport.set("analysis clear")
    transport.set("analysis load " + ds9_word(path, what="analysis file"))
    return True

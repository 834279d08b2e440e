"""``ds9claw analysis install|path``: put the Claws menu into DS9's Analysis menu.

``install`` writes a user copy of ``ds9_analysis/ds9claw.ans`` (default
``<config dir>/ds9claw.ans``) whose commands call this Python by absolute path when
``ds9claw`` is not on the PATH a desktop-launched DS9 sees (the cause of DS9's "An error
has occurred invoking the Analysis task"), with the parameter dialog's defaults set to
the values last used, loads it into the running DS9s over XPA (``analysis load``), and
says how to have DS9 load it at start.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
from pathlib import Path

from ..errors import InputError
from ..parameters import DIALOG_PARAMETERS, dialog_text
from ..safeio import write_text_atomically

__all__ = [
    "desktop_command",
    "dialog_defaults",
    "refresh_user_copy",
    "register",
    "render_analysis_file",
    "run",
    "shipped_analysis_file",
]

_log = logging.getLogger(__name__)

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


def _tcl_word(value: str) -> str:
    text = str(value)
    if text and all(c not in text for c in ' \t{}\\"[]$;#'):
        return text
    return "{" + text.replace("{", "").replace("}", "") + "}"


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
        match = _PARAM_LINE.match(line)
        if match and match.group(1) in defaults:
            line = (
                match.group(1)
                + match.group(2)
                + _tcl_word(defaults[match.group(1)])
                + match.group(4)
            )
        elif " ds9claw ds9 " in f" {line} " and not line.lstrip().startswith("#"):
            line = re.sub(r"(^|; )ds9claw ds9 ", lambda m: f"{m.group(1)}{command} ds9 ", line)
        out.append(line)
    header = (
        "# User copy written by `ds9claw analysis install`; rewritten when parameters are\n"
        "# remembered.  Edit the shipped file instead: " + str(shipped_analysis_file()) + "\n"
    )
    return header + "\n".join(out) + "\n"


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
    text = render_analysis_file(
        shipped_analysis_file().read_text(encoding="utf-8"), command=command, settings=settings
    )
    write_text_atomically(path, text, make_parents=True)
    return path


def register(subparsers, parents=()) -> None:
    """Add the ``analysis`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``ds9claw`` subparsers.
    parents : sequence of argparse.ArgumentParser
        Parsers with the common options.
    """
    parser = subparsers.add_parser(
        "analysis",
        parents=list(parents),
        help="install the Claws menu into DS9's Analysis menu",
        description="Install or locate the DS9 analysis file that adds the Claws menu.",
    )
    actions = parser.add_subparsers(dest="analysis_action", metavar="ACTION")
    actions.required = True
    p = actions.add_parser(
        "install",
        parents=list(parents),
        help="write a user copy, load it into running DS9s, say how to load it at start",
    )
    p.add_argument(
        "--dest",
        default=None,
        metavar="FILE",
        help="where to write the user copy (default <config dir>/ds9claw.ans)",
    )
    p.add_argument(
        "--target",
        default=None,
        help="load only into this DS9 (title or XPA address); default: all found",
    )
    p.add_argument("--no-load", action="store_true", help="do not load it into running DS9s")
    p.add_argument(
        "--reload",
        action="store_true",
        help="clear DS9's analysis menu first when a Claws menu is already loaded",
    )
    p.add_argument(
        "--absolute", action="store_true", help="always call this Python by absolute path"
    )
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per DS9 request")
    p = actions.add_parser(
        "path", parents=list(parents), help="print where the shipped analysis file is"
    )
    parser.set_defaults(func=run)
    for name in ("install", "path"):
        actions.choices[name].set_defaults(func=run)


def _loaded(transport) -> bool:
    from ..errors import TransportError

    try:
        listing = transport.get("analysis task").decode(errors="replace")
    except TransportError:
        # DS9 8.4 fails on 'analysis task' while no task is loaded ("result": no such
        # variable); make sure it is still there, then take it as "nothing loaded"
        transport.get("version")
        return False
    return any(line.split(" ", 1)[-1].strip() == MENU_MARKER for line in listing.splitlines())


def run(args: argparse.Namespace) -> int:
    """Run ``ds9claw analysis install|path``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit status.
    """
    shipped = shipped_analysis_file()
    if args.analysis_action == "path":
        print(shipped)
        return 0

    from ..ds9.settings import config_dir, load_settings, save_settings

    settings = load_settings()
    command = desktop_command(force_absolute=args.absolute)
    dest = Path(args.dest).expanduser().resolve() if args.dest else config_dir() / "ds9claw.ans"
    settings.analysis_file = str(dest)
    settings.extra["command"] = command
    text = render_analysis_file(
        shipped.read_text(encoding="utf-8"), command=command, settings=settings
    )
    write_text_atomically(dest, text, make_parents=True)
    save_settings(settings)
    print(f"wrote {dest}")
    if command != "ds9claw":
        print(
            f"  its commands run {command.strip('{}').replace('} ', ' ')} (ds9claw is not on "
            "the PATH a desktop-launched DS9 sees)"
        )

    if not args.no_load:
        from ..ds9.names import ds9_word
        from ..ds9.xpa import XpaTransport, connect, find_targets

        if args.target:
            targets = [args.target]
        else:
            targets = [t.address for t in find_targets(timeout=args.timeout)]
        if not targets:
            print(
                "no running DS9 found over XPA: start DS9, then Analysis > Load Analysis "
                f"Commands... > {dest}"
            )
        for target in targets:
            transport = (
                connect(target, timeout=args.timeout)
                if args.target
                else XpaTransport(target, timeout=args.timeout)
            )
            if _loaded(transport):
                if not args.reload:
                    print(
                        f"DS9 {target}: a Claws menu is already loaded (use --reload to "
                        "replace DS9's analysis commands with this file)"
                    )
                    continue
                transport.set("analysis clear")
            transport.set("analysis load " + ds9_word(dest, what="analysis file"))
            print(f"DS9 {target}: loaded; see Analysis > Claws")
    print(
        "To have DS9 load it at start: copy it to ~/.ds9.ans "
        f"(cp {dest} ~/.ds9.ans), or set Edit > Preferences > Analysis > Analysis File to "
        f"{dest} and save the preferences, or start DS9 with: ds9 -analysis load {dest}"
    )
    return 0

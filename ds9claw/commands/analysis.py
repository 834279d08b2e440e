"""``ds9claw analysis install|path``: put the Claws menu into DS9's Analysis menu.

``install`` writes a user copy of ``ds9_analysis/ds9claw.ans`` (default
``<config dir>/ds9claw.ans``; see `ds9claw.ds9.analysis_file` for how it differs from
the shipped file), loads it into the running DS9s over XPA (``analysis load``), and
says how to have DS9 load it at start.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register", "run"]


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
    from ..ds9.analysis_file import desktop_command, shipped_analysis_file, write_user_copy

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
    write_user_copy(dest, command=command, settings=settings)
    save_settings(settings)
    print(f"wrote {dest}")
    if command != "ds9claw":
        print(
            f"  its commands run {command.strip('{}').replace('} ', ' ')} (ds9claw is not on "
            "the PATH a desktop-launched DS9 sees)"
        )

    if not args.no_load:
        _load_into_running_ds9s(dest, target=args.target, timeout=args.timeout, reload=args.reload)
    print(
        "To have DS9 load it at start: copy it to ~/.ds9.ans "
        f"(cp {dest} ~/.ds9.ans), or set Edit > Preferences > Analysis > Analysis File to "
        f"{dest} and save the preferences, or start DS9 with: ds9 -analysis load {dest}"
    )
    return 0


def _load_into_running_ds9s(dest: Path, *, target: str | None, timeout: float, reload: bool):
    """Load ``dest`` into the DS9 named ``target``, else into every DS9 found over XPA."""
    from ..ds9.analysis_file import load_claws_menu
    from ..ds9.xpa import XpaTransport, connect, find_targets

    targets = [target] if target else [t.address for t in find_targets(timeout=timeout)]
    if not targets:
        print(
            "no running DS9 found over XPA: start DS9, then Analysis > Load Analysis "
            f"Commands... > {dest}"
        )
    for address in targets:
        transport = (
            connect(address, timeout=timeout) if target else XpaTransport(address, timeout=timeout)
        )
        if load_claws_menu(transport, dest, replace=reload):
            print(f"DS9 {address}: loaded; see Analysis > Claws")
        else:
            print(
                f"DS9 {address}: a Claws menu is already loaded (use --reload to "
                "replace DS9's analysis commands with this file)"
            )

"""The ``ds9claw`` command line: subcommands, logging and error reporting.

This is the only module that configures logging.  Each subcommand lives in
``ds9claw/commands/<name>.py`` with ``register(subparsers)`` and ``run(args) -> int``;
this module only wires them together and turns `ds9claw.errors.Ds9ClawError` into a
one-line message and a non-zero exit status (a traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .commands.wording import (
    CliWordingFormatter,
    FlagTable,
    cli_wording,
    flag_table,
    use_flags,
)
from .errors import Ds9ClawError

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

#: Subcommand modules under ``ds9claw.commands``, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "detect",
    "find",
    "example",
    "commit",
    "preview",
    "survey",
    "regions",
    "samp",
    "ds9",
    "analysis",
    "demo",
)

_log = logging.getLogger("ds9claw")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered.

    Parameters
    ----------
    only : str, optional
        Register just this subcommand (the one the command line names), so that a
        command imports only its own module: a DS9 menu click starts a new process.

    Returns
    -------
    argparse.ArgumentParser
        The top-level parser.
    """
    parser = argparse.ArgumentParser(
        prog="ds9claw",
        description=(
            "Find JWST NIRCam claws (stray-light arcs) inside DS9 regions, write a seed image "
            "and a 0/1 mask, and commit the mask into the rate-file DQ."
        ),
    )
    parser.add_argument("--version", action="version", version=f"ds9claw {__version__}")
    _add_common(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES if only is None else (only,):
        module = importlib.import_module(f"ds9claw.commands.{name}")
        module.register(subparsers, parents=[_common_parent()])
    return parser


def _add_common(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default if suppress else 0,
        help="more messages (-vv for debug messages)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default if suppress else False,
        help="only warnings and errors",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default if suppress else False,
        help="show the full traceback on errors",
    )


def _common_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    _add_common(parent, suppress=True)
    return parent


def _command_named(argv: Sequence[str]) -> str | None:
    """The subcommand the command line names (None for none, or a word that is not one)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMAND_MODULES else None
    return None


def _configure_logging(verbose: int, quiet: bool, flags: FlagTable) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose >= 2 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(CliWordingFormatter("ds9claw: %(message)s", flags))
    root = logging.getLogger("ds9claw")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ds9claw`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 success, 1 bad input or failed action, 2 bad usage.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_named(argv))
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    flags = flag_table(parser, args)
    use_flags(flags)  # commands that print library messages say them with these flags
    _configure_logging(args.verbose, args.quiet, flags)
    try:
        return int(args.func(args) or 0)
    except Ds9ClawError as error:
        if args.debug:
            raise
        print(f"ds9claw: error: {cli_wording(str(error), flags)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("ds9claw: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        if args.debug:
            raise
        print(
            "ds9claw: error: out of memory: give fewer files at a time or a lower --jobs, "
            "or raise the memory limit of this process (ulimit -v); nothing was replaced",
            file=sys.stderr,
        )
        return 1
    except OSError as error:
        if args.debug:
            raise
        print(
            f"ds9claw: error: {error.strerror or error}: {error.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 1

"""Command-line options: derived from `ds9claw.parameters`, or shared by the subcommands.

No option is typed twice: the detection parameters come from their one description,
and the subcommand boilerplate (common options, raw epilog, ``--jobs``/``--scheduler``,
``--progress``) from the helpers here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence

from ..errors import ParameterError
from ..parameters import PARAMETERS, ParameterSpec

__all__ = [
    "add_actions",
    "add_jobs_options",
    "add_parameter_options",
    "add_progress_option",
    "add_subcommand",
    "argument_type",
    "given_values",
]


def argument_type(description: ParameterSpec) -> Callable[[str], object]:
    """An argparse ``type`` reading text with the parameter's converter.

    Parameters
    ----------
    description : ParameterSpec
        The parameter.

    Returns
    -------
    callable
        Raises `argparse.ArgumentTypeError` (a usage error, exit status 2) on bad text;
        the range is checked later by `DetectionParameters.validate` (exit status 1).
    """

    def convert(text: str) -> object:
        try:
            return description.convert(text)
        except ParameterError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = description.kind  # argparse names the type in its message
    return convert


def add_parameter_options(
    group: argparse._ActionsContainer,
    descriptions: Iterable[ParameterSpec] = PARAMETERS,
    *,
    remembered: bool = False,
) -> None:
    """Add one option per parameter.

    Parameters
    ----------
    group : argparse parser or argument group
        Where the options go.
    descriptions : iterable of ParameterSpec
        Which parameters (default: all).
    remembered : bool
        The defaults are the values DS9 remembered: every option defaults to ``None``
        (not given) and a boolean takes ``yes``/``no`` (``--ignore-background no``);
        otherwise a boolean is a plain switch and the defaults are the parameters'.
    """
    for description in descriptions:
        if description.kind == "bool" and not remembered:
            group.add_argument(
                *description.flags, dest=description.name, action="store_true",
                help=description.help,
            )  # fmt: skip
            continue
        extra: dict[str, object] = {}
        if description.kind == "bool":
            extra = {"nargs": "?", "const": True, "metavar": "yes|no"}
        group.add_argument(
            *description.flags,
            dest=description.name,
            type=argument_type(description),
            default=None if remembered else description.default,
            help=description.help,
            **extra,
        )


def given_values(args: argparse.Namespace, descriptions: Iterable[ParameterSpec]) -> dict:
    """The parameters given on the command line (``None`` means not given)."""
    values = {}
    for description in descriptions:
        value = getattr(args, description.name, None)
        if value is not None:
            values[description.name] = value
    return values


def add_subcommand(
    subparsers: argparse._SubParsersAction,
    name: str,
    parents: Sequence[argparse.ArgumentParser] = (),
    *,
    help: str,
    description: str | None = None,
    epilog: str | None = None,
    func: Callable | None = None,
) -> argparse.ArgumentParser:
    """Add one subcommand (or action) parser with the common options.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        Where it goes (``ds9claw``'s subcommands, or a subcommand's actions).
    name : str
        Its name on the command line.
    parents : sequence of argparse.ArgumentParser
        Parsers with the common options (``-v``, ``-q``, ``--debug``).
    help : str
        The line in the list of subcommands.
    description : str, optional
        The text of its ``--help``.
    epilog : str, optional
        Text after the options, printed as written (examples keep their lines).
    func : callable, optional
        What runs it (``args.func``).

    Returns
    -------
    argparse.ArgumentParser
    """
    extra: dict[str, object] = {}
    if epilog is not None:
        extra = {"epilog": epilog, "formatter_class": argparse.RawDescriptionHelpFormatter}
    parser = subparsers.add_parser(
        name, parents=list(parents), help=help, description=description, **extra
    )
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def add_actions(parser: argparse.ArgumentParser, dest: str) -> argparse._SubParsersAction:
    """Give ``parser`` required actions (``ds9claw regions copy ...``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand.
    dest : str
        Attribute of the parsed arguments naming the action chosen.

    Returns
    -------
    argparse._SubParsersAction
        Add the actions to it (`add_subcommand`).
    """
    return parser.add_subparsers(dest=dest, metavar="ACTION", required=True)


def add_jobs_options(
    parser: argparse.ArgumentParser, help: str, *, short: bool = True, metavar: str | None = None
) -> None:
    """Add ``--jobs N`` (``-j``; at least 1, default 1) and ``--scheduler``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand.
    help : str
        What ``--jobs`` counts.
    short : bool
        Also offer ``-j``.
    metavar : str, optional
        How ``--help`` names the number.
    """
    from ..batch import add_scheduler_argument
    from ._types import whole_number

    flags = ("--jobs", "-j") if short else ("--jobs",)
    parser.add_argument(*flags, type=whole_number(1), default=1, metavar=metavar, help=help)
    add_scheduler_argument(parser)


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--progress``/``--no-progress`` (default: when stderr is a terminal).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand.
    """
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress on stderr (default: when stderr is a terminal)",
    )

"""Command-line options derived from `ds9claw.parameters` (no option is typed twice)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable

from ..errors import ParameterError
from ..parameters import PARAMETERS, ParameterSpec

__all__ = ["add_parameter_options", "argument_type", "given_values"]


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

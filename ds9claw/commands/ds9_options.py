"""The options the ``ds9claw ds9`` actions share: the connection to DS9, the parameters.

`ds9claw.commands.ds9` and `ds9claw.commands.ds9_visit` give them to their actions.
"""

from __future__ import annotations

import argparse

from ..convert import to_bool, to_int
from ..errors import ParameterError
from ..parameters import DIALOG_PARAMETERS
from ._types import number
from .options import add_parameter_options

__all__ = ["add_connection_options", "add_detection_options", "integer_value", "yes_no"]


def yes_no(text: str) -> bool:
    """An argparse ``type`` for ``yes``/``no`` (the spellings of `ds9claw.convert.to_bool`)."""
    try:
        return to_bool(text, "the value")
    except ParameterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def integer_value(text: str) -> int:
    """An argparse ``type`` for an integer (`ds9claw.convert.to_int`)."""
    try:
        return to_int(text, "the value")
    except ParameterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--target``, ``--timeout``, ``--samp``/``--xpa``, ``--hub`` and ``--report-window``."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--target",
        default=None,
        help="DS9 title or XPA address ($xpa_method); default: the single running DS9",
    )
    group.add_argument(
        "--timeout",
        type=number(0, above=True),
        default=15.0,
        help="seconds each DS9 request may take (default 15)",
    )
    transport = group.add_mutually_exclusive_group()
    transport.add_argument(
        "--samp",
        dest="samp",
        action="store_const",
        const=True,
        default=None,
        help="talk to DS9 over SAMP only (default: XPA, then SAMP if no XPA target answers)",
    )
    transport.add_argument(
        "--xpa",
        dest="samp",
        action="store_const",
        const=False,
        help="talk to DS9 over XPA only",
    )
    group.add_argument(
        "--hub",
        default=None,
        metavar="LOCKFILE",
        help="SAMP hub lockfile (default: $SAMP_HUB, else ~/.samp)",
    )
    group.add_argument(
        "--report-window",
        action="store_true",
        help="show the report in DS9's one shared ds9claw text window, not on stdout "
        "(the Claws menu does)",
    )


def add_detection_options(parser: argparse.ArgumentParser) -> None:
    """Add the DS9 dialog's detection parameters, ``--output-suffix`` and ``--overwrite``."""
    group = parser.add_argument_group(
        "detection parameters (default: the values last remembered, see 'params')"
    )
    add_parameter_options(group, DIALOG_PARAMETERS, remembered=True)
    group.add_argument(
        "--output-suffix",
        "--suffix",
        dest="suffix",
        default=None,
        help="product suffix (default _claws_seed_image)",
    )
    group.add_argument(
        "--overwrite",
        type=yes_no,
        nargs="?",
        const=True,
        default=None,
        metavar="yes|no",
        help="also replace files ds9claw did not write at the product paths (its own "
        "earlier products are always replaced; default: the remembered setting, no)",
    )

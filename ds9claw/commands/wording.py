"""Library messages in the words of the command line: parameter names become flags.

The library names parameters as the Python API, SAMP and DS9 settings know them, in
backticks: "pass `overwrite=True` to replace it", "lower `sigma`", "choose another
`output_dir`".  The command line prints the same message with its own flags ("pass
--overwrite to replace it", "lower --sigma", "choose another --output-dir"), read off
the options of the subcommand that ran, so a flag is never typed twice.  A name the
subcommand has no option for keeps its Python spelling, without the backticks.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Mapping

__all__ = ["CliWordingFormatter", "FlagTable", "cli_wording", "flag_table", "say", "use_flags"]

#: ```name``` or ```name=value``` as library messages write a parameter.
_PARAMETER = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)(?:=([^`]*))?`")


class FlagTable(dict):
    """Parameter name -> (long flag, whether the flag takes no value, the ``--no-`` flag)."""


def _subcommand_parsers(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> list[argparse.ArgumentParser]:
    chain = [parser]
    while True:
        current = chain[-1]
        nested = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if not nested:
            return chain
        chosen = getattr(args, nested[0].dest or "", None)
        if chosen not in nested[0].choices:
            return chain
        chain.append(nested[0].choices[chosen])


def flag_table(parser: argparse.ArgumentParser, args: argparse.Namespace) -> FlagTable:
    """The flags of the subcommand ``args`` ran, by parameter name.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The top-level parser.
    args : argparse.Namespace
        What it parsed (it names the subcommand, and any nested one).

    Returns
    -------
    FlagTable
    """
    table = FlagTable()
    negatives: dict[str, str] = {}
    for sub in _subcommand_parsers(parser, args):
        for action in sub._actions:
            longs = [o for o in action.option_strings if o.startswith("--")]
            if not longs or action.dest in (argparse.SUPPRESS, "help"):
                continue
            flag = longs[0]
            takes_no_value = action.nargs == 0
            if flag.startswith("--no-") and isinstance(action, argparse._StoreFalseAction):
                negatives[action.dest] = flag
                continue
            table[action.dest] = (flag, takes_no_value, None)
            if isinstance(action, argparse.BooleanOptionalAction):
                table[action.dest] = (flag, True, f"--no-{flag[2:]}")
    for dest, flag in negatives.items():
        if dest in table:
            positive, no_value, _ = table[dest]
            table[dest] = (positive, no_value, flag)
        else:
            table[dest] = (flag, True, flag)  # only the negative flag exists
    return table


def cli_wording(message: str, table: Mapping[str, tuple[str, bool, str | None]]) -> str:
    """Say ``message`` with the flags of ``table`` for the parameters it names.

    Parameters
    ----------
    message : str
        A library message, parameters written as ```name``` or ```name=value```.
    table : mapping
        `flag_table` of the subcommand.

    Returns
    -------
    str
    """

    def replace(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        if name not in table:
            return name if value is None else f"{name}={value}"
        flag, no_value, negative = table[name]
        if value is None:
            return flag
        if no_value and value == "True":
            return flag if flag != negative else name + "=True"
        if no_value and value == "False":
            return negative or f"{name}=False"
        return f"{flag} {value}"

    return _PARAMETER.sub(replace, message)


#: The flags of the subcommand running now (`use_flags`; `ds9claw.cli.main` sets them).
_current: dict[str, FlagTable] = {"table": FlagTable()}


def use_flags(table: FlagTable) -> None:
    """Make ``table`` the flags `say` uses (the CLI calls this once per command)."""
    _current["table"] = table


def say(message: object) -> str:
    """``message`` in the words of the running subcommand (see `cli_wording`).

    Parameters
    ----------
    message : object
        A library message or exception.

    Returns
    -------
    str
    """
    return cli_wording(str(message), _current["table"])


class CliWordingFormatter(logging.Formatter):
    """A log formatter that says parameter names with the subcommand's flags."""

    def __init__(self, fmt: str, table: Mapping[str, tuple[str, bool, str | None]]) -> None:
        super().__init__(fmt)
        self._table = table

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` as `logging.Formatter` does, with the flags put in."""
        return cli_wording(super().format(record), self._table)

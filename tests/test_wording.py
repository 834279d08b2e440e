"""Library messages name parameters; the command line says them with its own flags."""

from __future__ import annotations

import logging

from ds9claw.cli import build_parser
from ds9claw.commands.wording import CliWordingFormatter, cli_wording, flag_table


def _table(*argv: str):
    parser = build_parser()
    return flag_table(parser, parser.parse_args(list(argv)))


def test_flags_are_read_off_the_subcommand_that_ran():
    table = _table("commit", "a_rate.fits", "m.fits")
    message = (
        "x exists: choose another `output` or pass `overwrite=True`; or `backup=False`; "
        "give e.g. `flags=DO_NOT_USE`; `jobs` must be 1 or more; `sigma` is unknown here"
    )
    assert cli_wording(message, table) == (
        "x exists: choose another --output or pass --overwrite; or --no-backup; "
        "give e.g. --flags DO_NOT_USE; --jobs must be 1 or more; sigma is unknown here"
    )


def test_detection_parameters_become_detect_flags():
    table = _table("detect", "x_cal.fits", "--include-region", "r.reg")
    assert cli_wording("lower `sigma`; drop `ignore_background`", table) == (
        "lower --sigma; drop --ignore-background"
    )
    assert cli_wording("or a smaller `box_size`", table) == "or a smaller --box-size"
    # a message without parameters is untouched, backticks elsewhere too
    assert cli_wording("plain text, no `` marks", table) == "plain text, no `` marks"


def test_log_records_are_worded_for_the_command_line():
    formatter = CliWordingFormatter("ds9claw: %(message)s", _table("find", "a_cal.fits"))
    record = logging.LogRecord(
        "ds9claw", logging.WARNING, __file__, 1, "searching %s alone (`single=True`)", ("a",), None
    )
    assert formatter.format(record) == "ds9claw: searching a alone (--single)"

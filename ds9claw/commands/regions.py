"""``ds9claw regions copy SRC... DST_DIR``: carry region files to another visit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..batch import resolve_scheduler
from .options import add_actions, add_jobs_options, add_subcommand

__all__ = ["register", "run"]

_EPILOG = """\
Pairs are made by exposure group, exposure number and detector, so
  SRC/jw01837003021_08201_00001_nrca3_bad_area.pix.reg
goes to the exposure jw01837003022_08201_00001_nrca3_cal.fits in DST_DIR as
  DST_DIR/jw01837003022_08201_00001_nrca3_cal_claws.pix.reg
(the name Claws > Load regions for all frames and 'ds9claw ds9 load' look for).
Region files of one exposure are merged into one.  Existing files are refused
unless --overwrite (then each is kept as <name>.bak).
Example: ds9claw regions copy visit21/ visit22/ --dry-run
"""


def register(subparsers: argparse._SubParsersAction, parents: Sequence = ()) -> None:
    """Add the ``regions`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``ds9claw`` subcommand collection.
    parents : sequence of argparse.ArgumentParser
        Parsers with the common options.
    """
    parser = add_subcommand(
        subparsers,
        "regions",
        parents,
        help="copy region files between visits (same exposure and detector)",
        description="Work with region files of whole visits, without DS9.",
        func=run,
    )
    p = add_subcommand(
        add_actions(parser, "regions_action"),
        "copy",
        parents,
        help="copy region files of one visit to the exposures of another",
        description="Copy each region file to the exposure of another visit with the same "
        "exposure group, exposure number and detector.",
        epilog=_EPILOG,
        func=run,
    )
    p.add_argument(
        "sources", nargs="+", type=Path, metavar="SRC", help="region files or a directory of them"
    )
    p.add_argument("destination", type=Path, metavar="DST_DIR", help="the other visit's directory")
    p.add_argument(
        "--overwrite", action="store_true", help="replace existing files (kept as <name>.bak)"
    )
    p.add_argument("--dry-run", action="store_true", help="print the pairs, write nothing")
    add_jobs_options(
        p, "write the files with N local processes (default 1)", short=False, metavar="N"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``ds9claw regions copy``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit status.
    """
    from ..region_copy import plan_copies, write_copies

    plan = plan_copies(args.sources, args.destination)
    for line in plan.lines():
        sys.stdout.write(line + "\n")
    if args.dry_run:
        sys.stdout.write(f"dry run: {len(plan.pairs)} region file(s) would be written\n")
        return 0
    backups = write_copies(
        plan,
        overwrite=args.overwrite,
        jobs=args.jobs,
        scheduler=resolve_scheduler(args.scheduler),
        show=False if args.quiet else None,
    )
    for backup in backups:
        sys.stdout.write(f"kept the earlier file as {backup}\n")
    sys.stdout.write(f"wrote {len(plan.pairs)} region file(s)\n")
    return 0

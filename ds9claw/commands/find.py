"""``ds9claw find``: propose claw regions from the dithers of a visit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..batch import add_scheduler_argument
from ._types import number, whole_number
from .wording import say

__all__ = ["register", "run"]

_EPILOG = """\
How it works: claws stay on the detector while the sky moves with the dithers. Each
exposure minus the median of the others (lined up on the sky by the WCS) keeps only
what is fixed on the detector; the median of these residuals over the exposures adds
the claws up, and each residual alone shows an arc seen in one dither. See docs/find.md.

Files written beside each exposure X_cal.fits:
  X_cal_claws.pix.reg   DS9 polygons (image coordinates), dashed, cyan,
                        tag={ds9claw candidate}, text={claw <score>} or {wisp <score>}
An existing region file is kept unless --overwrite (then saved as <name>.bak first).

Typical use:
  ds9claw find visit/jw01727044001_04101_*_nrcb1_cal.fits
  ds9claw detect visit/*_nrcb1_cal.fits --include-region '{stem}_claws.pix.reg' \\
      --sigma 2 --smooth 1 --minpixarea 1 --ignore-background
"""


def register(subparsers: argparse._SubParsersAction, parents=()) -> None:
    """Add the ``find`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``ds9claw`` subcommand collection.
    parents : sequence of argparse.ArgumentParser
        Parsers whose shared options every subcommand takes.
    """
    from ..find import FindParameters
    from ..find_files import DEFAULT_REGION_SUFFIX, MIN_EXPOSURES

    defaults = FindParameters()
    parser = subparsers.add_parser(
        "find",
        parents=list(parents),
        help="propose claw regions from the dithers of a visit (one region file each)",
        description=(
            "Find claw (and wisp) candidates in the dithered exposures of a visit and write "
            "a DS9 region file of candidate polygons beside each exposure, for the observer "
            f"to accept, edit or delete. Needs at least {MIN_EXPOSURES} exposures of each "
            "detector and filter."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="JWST cal files of a visit")
    parser.add_argument(
        "--output-suffix",
        default=DEFAULT_REGION_SUFFIX,
        metavar="SUFFIX",
        help=f"region file name ending (default {DEFAULT_REGION_SUFFIX})",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing region files (each old one is kept as <name>.bak)",
    )
    parser.add_argument(
        "--single",
        action="store_true",
        help=f"allow fewer than {MIN_EXPOSURES} exposures per detector: each is searched "
        "alone, and large galaxies and diffuse light are proposed too",
    )
    parser.add_argument(
        "--dq-invalid",
        default=None,
        metavar="FLAGS",
        help="DQ flags that make a pixel unusable (default: as detect)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=whole_number(1),
        default=1,
        help="detector/filter groups searched in parallel (default 1); then each group's "
        "region files are written all or none, group by group",
    )
    add_scheduler_argument(parser)
    group = parser.add_argument_group("finder parameters (lengths in pixels of a 2048 frame)")
    group.add_argument(
        "--threshold",
        type=number(0, above=True),
        default=defaults.threshold,
        help=f"stack significance that starts a candidate (default {defaults.threshold})",
    )
    group.add_argument(
        "--unique-threshold",
        type=number(0, above=True),
        default=defaults.unique_threshold,
        help="significance in one exposure alone that starts a candidate "
        f"(default {defaults.unique_threshold})",
    )
    group.add_argument(
        "--margin",
        type=number(0),
        default=defaults.margin,
        help=f"growth of the polygons in pixels (default {defaults.margin})",
    )
    group.add_argument(
        "--max-vertices",
        type=whole_number(4),
        default=defaults.max_vertices,
        help=f"most vertices per polygon (default {defaults.max_vertices})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``ds9claw find``; print a table of candidates per exposure.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit status (0).
    """
    from dataclasses import replace

    from ..batch import resolve_scheduler
    from ..dq import interpret_flags
    from ..find import FindParameters
    from ..find_batch import FoundRecord
    from ..find_files import find_files
    from ..progress import Progress

    if args.dq_invalid is not None:
        interpret_flags(args.dq_invalid)
    params = replace(
        FindParameters(),
        threshold=args.threshold,
        unique_threshold=args.unique_threshold,
        grow_threshold=min(FindParameters().grow_threshold, args.threshold),
        margin=args.margin,
        max_vertices=args.max_vertices,
    ).validate()
    options = {
        "params": params,
        "suffix": args.output_suffix,
        "overwrite": args.overwrite,
        "single": args.single,
        "invalid_flags": args.dq_invalid,
    }
    scheduler = resolve_scheduler(args.scheduler)
    if args.jobs > 1 or scheduler is not None:
        return _run_groups(args, options, scheduler)
    with Progress(total=None, desc="find", enabled=not args.quiet) as progress:
        found = find_files(
            args.files, **options, on_exposure=lambda note: progress.update(note=note)
        )
    records = [
        FoundRecord(f.path, f.region_path, f.group, tuple(c.label for c in f.candidates), f.backup)
        for f in found
    ]
    _print_table(records)
    return 0


def _run_groups(args: argparse.Namespace, options: dict, scheduler: str | None) -> int:
    from ..batch import run_batch
    from ..find_batch import find_group_task, plan_find_groups

    groups = plan_find_groups(args.files, suffix=args.output_suffix, overwrite=args.overwrite)
    items = [(tuple(str(p) for p in group), options) for group in groups]
    results = run_batch(
        find_group_task, items, jobs=args.jobs, scheduler=scheduler, desc="find",
        show=not args.quiet,
    )  # fmt: skip
    by_path = {Path(rec.path): rec for r in results if r.ok for rec in r.value}
    _print_table([by_path[Path(p)] for p in args.files if Path(p) in by_path])
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(f"ds9claw: error: group of {result.name}: {say(result.error)}", file=sys.stderr)
    return 1 if failed else 0


def _print_table(records) -> None:
    if not records:
        return
    width = max(len(str(item.path)) for item in records)
    out = sys.stdout
    out.write(f"{'exposure':<{width}}  {'group':<18}  {'cand':>4}  scores  region file\n")
    for item in records:
        scores = " ".join(item.labels) or "-"
        out.write(
            f"{item.path!s:<{width}}  {item.group:<18}  {len(item.labels):>4}  "
            f"{scores}  {item.region_path}\n"
        )
        if item.backup is not None:
            out.write(f"  old region file kept as {item.backup}\n")

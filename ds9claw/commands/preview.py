"""``ds9claw preview``: before/after mosaics with jwst's ResampleStep, and the holes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._types import number
from .options import add_jobs_options, add_progress_option, add_subcommand
from .wording import say

__all__ = ["register", "run"]

_EPILOG = """\
Runs jwst's ResampleStep (the drizzle of calwebb_image3; no reference files, no CRDS
parameters) twice in memory: on the cal files as they are, and with the masked pixels
flagged (DO_NOT_USE and the other commit flags) and set to NaN, as a commit and a
calwebb_image2 rerun would leave them.  The cal files are only read.  Files of
different filters are grouped, one product per filter.

Files written in --output-dir (default: the first cal file's directory):
  <product>_before_i2d.fits   mosaic without the masks (a jwst i2d ImageModel)
  <product>_after_i2d.fits    mosaic with the masks
  <product>_holes.fits        1 on mosaic pixels covered before and not after
  <product>_preview.png       before | after, same stretch, holes in red, a zoom

Examples:
  ds9claw preview visit/*_cal.fits --mask '{dir}/{stem}_claws_seed_image_zeroonemask.fits'
  ds9claw preview visit/*_cal.fits --mask '{dir}/{stem}_claws.pix.reg' --quick
Template fields: {dataset}, {stem}, {name}, {dir} (the cal file's directory), as for
ds9claw commit; relative paths are relative to the current directory.
Note: --pixel-scale-ratio is ResampleStep's ratio of output to input pixel scale, so a
value above 1 gives bigger pixels and a faster mosaic, below 1 a finer, slower one.
"""


def register(subparsers: argparse._SubParsersAction, parents: Sequence = ()) -> None:
    """Add the ``preview`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``ds9claw`` subcommand collection.
    parents : sequence of argparse.ArgumentParser
        Parsers whose options (``-v``, ``-q``, ``--debug``) every subcommand shares.
    """
    from ..dq import DEFAULT_COMMIT_FLAGS

    parser = add_subcommand(
        subparsers,
        "preview",
        parents,
        help="before/after mosaics (jwst ResampleStep) and the holes the masks leave",
        description=(
            "Drizzle cal files with jwst's ResampleStep with and without their claw masks, "
            "before anything is committed, and report the mosaic pixels that no dither "
            "covers once the masks are applied."
        ),
        epilog=_EPILOG,
        func=run,
    )
    parser.add_argument("files", nargs="+", metavar="CAL", help="*_cal.fits files with a gwcs")
    parser.add_argument(
        "--mask",
        action="append",
        required=True,
        metavar="TEMPLATE",
        help="mask of every CAL: a path or a template such as "
        "'{dir}/{stem}_claws_seed_image_zeroonemask.fits' (FITS or DS9 region file); "
        "repeatable (masks are ORed)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="directory of the files written (default: the first CAL's directory)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="quick look: --pixel-scale-ratio 2 --pixmap-stepsize 4 (unless given) and no "
        "ERR/VAR/CON arrays or header blending in the mosaics",
    )
    parser.add_argument(
        "--pixel-scale-ratio",
        type=number(0, 10, above=True),
        default=None,
        metavar="R",
        help="output over input pixel scale (default 1, or 2 with --quick; 2 = pixels "
        "twice as big, faster)",
    )
    parser.add_argument(
        "--pixmap-stepsize",
        type=number(1, 64),
        default=None,
        metavar="S",
        help="ResampleStep's pixmap_stepsize: > 1 interpolates the pixel map (faster; "
        "default 1, or 4 with --quick)",
    )
    parser.add_argument(
        "--sky-box",
        nargs=4,
        type=number(),
        default=None,
        metavar=("RA", "DEC", "WIDTH", "HEIGHT"),
        help="limit the mosaic to this north-up rectangle: centre in degrees, size in arcsec",
    )
    parser.add_argument(
        "--flags",
        default=DEFAULT_COMMIT_FLAGS,
        help=f"DQ flags the commit would set (default {DEFAULT_COMMIT_FLAGS}); must "
        "include DO_NOT_USE",
    )
    parser.add_argument(
        "--single-filter",
        action="store_true",
        help="refuse cal files of several filters instead of making one product per filter",
    )
    parser.add_argument("--no-png", dest="png", action="store_false", help="skip the PNG")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing output files (atomically)"
    )
    add_progress_option(parser)
    add_jobs_options(parser, "filter groups drizzled in parallel (default 1)")


def run(args: argparse.Namespace) -> int:
    """Run ``ds9claw preview``: write the files and print the holes of each product.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit status (0; errors are raised as `ds9claw.errors.Ds9ClawError`).
    """
    from ..batch import resolve_scheduler, run_batch
    from ..preview import (
        QUICK_LOOK,
        SkyBox,
        plan_groups,
        preview_mosaics,
        require_preview_packages,
    )
    from ..preview_batch import preview_group_task, record_of
    from ..preview_io import preview_paths, write_preview
    from ..products import refuse_existing
    from ..progress import Progress

    require_preview_packages(png=args.png)
    groups = plan_groups(args.files, by_filter=not args.single_filter)
    output_dir = args.output_dir if args.output_dir is not None else Path(args.files[0]).parent
    if not args.overwrite:
        for group in groups:
            refuse_existing(preview_paths(group.product, output_dir, png=args.png).paths)
    if output_dir.exists() and not output_dir.is_dir():
        from ..errors import InputError

        raise InputError(f"--output-dir {output_dir} is not a directory")
    sky_box = SkyBox(*args.sky_box) if args.sky_box else None
    defaults = QUICK_LOOK if args.quick else {"pixel_scale_ratio": 1.0, "pixmap_stepsize": 1.0}
    ratio = args.pixel_scale_ratio or defaults["pixel_scale_ratio"]
    stepsize = args.pixmap_stepsize or defaults["pixmap_stepsize"]
    scheduler = resolve_scheduler(args.scheduler)
    if args.jobs > 1 or scheduler is not None:
        options = {
            "pixel_scale_ratio": ratio,
            "pixmap_stepsize": stepsize,
            "quick": args.quick,
            "sky_box": sky_box,
            "flags": args.flags,
            "by_filter": not args.single_filter,
        }
        items = [
            (
                tuple(str(p) for p in g.paths),
                args.mask,
                options,
                str(output_dir),
                args.png,
                args.overwrite,
            )
            for g in groups
        ]
        results = run_batch(
            preview_group_task,
            items,
            jobs=args.jobs,
            scheduler=scheduler,
            desc="preview",
            show=args.progress,
        )
        failed = [r for r in results if not r.ok]
        for result in failed:
            print(
                f"ds9claw: error: preview of {result.name} failed: {say(result.error)}",
                file=sys.stderr,
            )
        _print_records([rec for r in results if r.ok for rec in r.value])
        return 1 if failed else 0
    steps = sum(len(g.paths) + 3 for g in groups)
    with Progress(total=steps, desc="preview", enabled=args.progress) as bar:
        pairs = preview_mosaics(
            args.files,
            args.mask,
            pixel_scale_ratio=ratio,
            pixmap_stepsize=stepsize,
            quick=args.quick,
            sky_box=sky_box,
            flags=args.flags,
            by_filter=not args.single_filter,
            progress=lambda text: bar.update(note=text),
        )
        written = []
        for pair in pairs:
            bar.update(note=f"writing {pair.product}")
            written.append(write_preview(pair, output_dir, png=args.png, overwrite=args.overwrite))
    _print_records([record_of(p, f) for p, f in zip(pairs, written, strict=True)])
    return 0


def _print_records(records) -> None:
    from ..holes import FILL_HOLES_SUGGESTION

    out = sys.stdout
    for record in records:
        shape = record.shape
        out.write(
            f"{record.product} ({record.filter}, {record.n_inputs} exposures, mosaic "
            f"{shape[1]} x {shape[0]}, {record.elapsed:.1f} s)\n"
        )
        labels = ("before", "after", "holes", "png")
        for label, path in zip(labels, record.paths, strict=False):
            out.write(f"  {label:<7}{path}\n")
        out.write(f"  {record.summary}\n")
        if record.n_pixels:
            out.write(f"  suggestion: {FILL_HOLES_SUGGESTION}\n")


def add_ds9_preview_parsers(actions, parents, add_connection) -> None:
    """Add ``ds9claw ds9 preview`` and ``ds9claw ds9 close-preview``.

    Parameters
    ----------
    actions : argparse._SubParsersAction
        The ``ds9claw ds9`` actions.
    parents : sequence of argparse.ArgumentParser
        Parsers with the common options.
    add_connection : callable
        Adds the DS9 connection options (``--target`` ...) to a parser.
    """
    p = actions.add_parser(
        "preview",
        parents=list(parents),
        help="before/after mosaics of the exposures in the frames with their masks",
    )
    add_connection(p)
    p.add_argument(
        "--quick",
        action="store_true",
        help="quick look (pixel scale ratio 2, pixmap stepsize 4, no ERR/VAR arrays)",
    )
    p.add_argument("--pixel-scale-ratio", type=number(0, 10, above=True), default=None, metavar="R")
    p.add_argument("--pixmap-stepsize", type=number(1, 64), default=None, metavar="S")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress on stderr (default: when stderr is a terminal)",
    )
    p = actions.add_parser(
        "close-preview",
        parents=list(parents),
        help="delete the two preview frames and show the other frames again",
    )
    add_connection(p)


def run_ds9_preview(args: argparse.Namespace, transport) -> None:
    """Run ``ds9claw ds9 preview`` or ``close-preview`` on an open DS9 transport.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.
    transport : ds9claw.ds9.transport.Transport
        Connection to DS9.
    """
    from ..ds9.preview import close_preview, show_preview

    if args.action == "close-preview":
        print(close_preview(transport).summary())
        return
    from ..preview import QUICK_LOOK, require_preview_packages
    from ..progress import Progress

    require_preview_packages(png=False)
    defaults = QUICK_LOOK if args.quick else {"pixel_scale_ratio": 1.0, "pixmap_stepsize": 1.0}
    with Progress(desc="preview", enabled=args.progress) as bar:
        outcome = show_preview(
            transport,
            pixel_scale_ratio=args.pixel_scale_ratio or defaults["pixel_scale_ratio"],
            pixmap_stepsize=args.pixmap_stepsize or defaults["pixmap_stepsize"],
            quick=args.quick,
            progress=lambda text: bar.update(note=text),
        )
    print(outcome.summary())

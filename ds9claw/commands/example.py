"""``ds9claw example``: write a synthetic NIRCam cal/rate pair with one claw."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._types import number, whole_number
from .options import add_subcommand

__all__ = ["register", "run"]

_EPILOG = """\
Files written in OUTPUT_DIR (created if missing):
  <dataset>_cal.fits              calibrated exposure (MJy/sr), JWST ImageModel with a TAN WCS
  <dataset>_rate.fits             count-rate exposure (DN/s): cal = rate * PHOTMJSR
  <dataset>_cal_claws.pix.reg     DS9 polygon drawn loosely around the claw
  <dataset>_claw_truth.fits       0/1 mask of the injected claw

Try the whole chain on it:
  ds9claw example demo --size 512
  ds9claw detect demo/*_cal.fits --include-region '{stem}_claws.pix.reg' --ignore-background
"""


def register(subparsers: argparse._SubParsersAction, parents: Sequence = ()) -> None:
    """Add the ``example`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``ds9claw`` subcommand collection.
    parents : sequence of argparse.ArgumentParser
        Parsers whose options (``-v``, ``-q``, ``--debug``) every subcommand shares.
    """
    from ..example import DEFAULT_CLAW_SNR, DEFAULT_DATASET, MAX_SIZE, MIN_SIZE

    parser = add_subcommand(
        subparsers,
        "example",
        parents,
        help="write a synthetic NIRCam cal/rate pair with one claw, its region and truth",
        description=(
            "Write a seeded, reproducible NIRCam-like exposure pair (JWST ImageModel files "
            "written through stdatamodels) with stars, galaxies, hot and dead pixels, noise "
            "and one faint curved claw, plus a DS9 region drawn around the claw and the "
            "claw's 0/1 truth mask."
        ),
        epilog=_EPILOG,
        func=run,
    )
    parser.add_argument(
        "output_dir",
        type=Path,
        metavar="OUTPUT_DIR",
        help="directory for the four files (created if missing)",
    )
    parser.add_argument(
        "--size",
        type=whole_number(MIN_SIZE, MAX_SIZE),
        default=2048,
        metavar="N",
        help="pixels on a side, 256..2048 (default 2048, a full detector)",
    )
    parser.add_argument(
        "--sky",
        type=number(0),
        default=0.0,
        metavar="MJYSR",
        help="sky level in MJy/sr with a ~10%% gradient; 0 (default) gives "
        "sky-subtracted data; a real F200W sky is about 0.25",
    )
    parser.add_argument(
        "--seed",
        type=whole_number(0),
        default=0,
        metavar="N",
        help="random seed (default 0); the same options give the same pixels",
    )
    parser.add_argument(
        "--dataset",
        default=DEFAULT_DATASET,
        metavar="NAME",
        help=f"dataset name ending with a NIRCam detector (default {DEFAULT_DATASET})",
    )
    parser.add_argument(
        "--claw-snr",
        type=number(0, above=True),
        default=DEFAULT_CLAW_SNR,
        metavar="SNR",
        help=f"signal-to-noise per pixel of the claw's "
        f"brightest point (default {DEFAULT_CLAW_SNR})",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing files (atomically)"
    )
    parser.add_argument(
        "--visit",
        type=whole_number(1, 6),
        nargs="?",
        const=4,
        default=None,
        metavar="N",
        help="write a dithered visit of N exposures (default 4) of one detector with claws "
        "fixed on the detector and a gwcs in each cal file, for `ds9claw find`",
    )
    parser.add_argument(
        "--no-claws", action="store_true", help="with --visit: the same visit without claws"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``ds9claw example``; print the paths written.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit status (0).
    """
    from ..example import make_example

    if args.visit is not None or args.no_claws:
        from .example_visit import run_visit

        return run_visit(args)
    files = make_example(
        args.output_dir,
        size=args.size,
        sky=args.sky,
        seed=args.seed,
        dataset=args.dataset,
        claw_snr=args.claw_snr,
        overwrite=args.overwrite,
    )
    labels = ("cal", "rate", "region", "truth")
    width = max(map(len, labels))
    for label, path in zip(labels, files.paths, strict=True):
        sys.stdout.write(f"{label:<{width}}  {path}\n")
    return 0

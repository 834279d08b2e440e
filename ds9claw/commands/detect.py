"""``ds9claw detect``: seed image and zero-one mask for one or many exposures."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..batch import add_scheduler_argument
from ..errors import Ds9ClawError, ParameterError
from ._types import whole_number
from .wording import say

__all__ = ["add_detection_arguments", "parameters_from_args", "register", "run"]

_log = logging.getLogger(__name__)

_EPILOG = """\
--minpixarea and --min-area:
  --minpixarea N  keeps a detected pixel only when at least N of its 8 neighbours are
                  detected (the old script's meaning, kept so commands carry over);
  --min-area N    drops connected groups (8-connectivity) of fewer than N pixels.

Which background mode?
  --ignore-background  for sky-subtracted images (background taken as 0; the noise
                       comes from the pixels inside the region).
  (default)            for images that keep their sky level: a 2-D background is
                       estimated from the valid pixels around the region.

Example (the observers' old command, with the command name replaced):
  ds9claw detect X_nrcb1_cal.fits --include-region X_nrcb1_cal_claws.pix.reg \\
      --output-suffix _claws_seed_image --minpixarea 1 --ignore-background \\
      --sigma 2 --smooth 1 --overwrite
A whole visit: ds9claw detect *_cal.fits --include-region '{stem}_claws.pix.reg' --jobs 2
"""


def add_detection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the detection parameters (the old script's names) to a parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Parser or argument group to extend.
    """
    from .options import add_parameter_options

    group = parser.add_argument_group("detection parameters")
    add_parameter_options(group)
    group.add_argument(
        "--dq-invalid",
        default=None,
        metavar="FLAGS",
        help="DQ flags that make a pixel unusable (default "
        "DO_NOT_USE+SATURATED+NON_SCIENCE+JUMP_DET+OUTLIER+PERSISTENCE+"
        "OTHER_BAD_PIXEL)",
    )


def parameters_from_args(args: argparse.Namespace):
    """Build `ds9claw.detect.DetectionParameters` from parsed arguments.

    Parameters
    ----------
    args : argparse.Namespace
        Arguments parsed with `add_detection_arguments`.

    Returns
    -------
    DetectionParameters
        Validated parameters.
    """
    from ..parameters import PARAMETERS, DetectionParameters
    from .options import given_values

    return DetectionParameters(**given_values(args, PARAMETERS)).validate()


def register(subparsers, parents=()) -> None:
    """Add the ``detect`` subcommand."""
    parser = subparsers.add_parser(
        "detect",
        parents=list(parents),
        help="detect claws inside DS9 regions; write seed image and zero-one mask",
        description=(
            "Detect claws (faint stray-light arcs) inside DS9 regions and write "
            "<stem><suffix>.fits (seed image, 0..1) and <stem><suffix>_zeroonemask.fits "
            "(0/1) beside each input."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="JWST cal/rate files or 2-D FITS images (.fits, .fits.gz)",
    )
    parser.add_argument(
        "--include-region",
        action="append",
        default=[],
        metavar="REG",
        help="DS9 region file to search in; repeatable; may be a template "
        "such as '{stem}_claws.pix.reg' ({stem}, {dataset}, {name}, {dir}; '{{' and '}}' "
        "are literal braces; an existing file is used as named)",
    )
    parser.add_argument(
        "--exclude-region",
        action="append",
        default=[],
        metavar="REG",
        help="DS9 region file never to flag; repeatable; templates allowed",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="write products here (default: beside each input)",
    )
    parser.add_argument(
        "--output-suffix",
        default="_claws_seed_image",
        help="product suffix (default _claws_seed_image)",
    )
    parser.add_argument(
        "--overwrite",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also replace files ds9claw did not write at the product paths, atomically "
        "(its own earlier products are always replaced)",
    )
    parser.add_argument("--gzip", action="store_true", help="write .fits.gz products")
    parser.add_argument(
        "--save-diagnostics",
        action="store_true",
        help="also write valid-pixel, background and rms images",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=whole_number(1),
        default=1,
        help="files processed in parallel (default 1)",
    )
    add_scheduler_argument(parser)
    add_detection_arguments(parser)
    parser.set_defaults(func=run)


def _detect_one(path: str, options: dict) -> tuple[str, int, str, str]:
    """Process one file; return (file, pixels, status, message). Runs in workers too."""
    import warnings

    from ..api import detect_file

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            products = detect_file(path, **options)
    except Ds9ClawError as error:
        return path, -1, "failed", str(error)
    return path, products.result.n_masked, "ok", f"{products.seed_path} {products.mask_path}"


def run(args: argparse.Namespace) -> int:
    """Run ``ds9claw detect``; return the exit status."""
    from ..dq import DEFAULT_INVALID_FLAGS, interpret_flags

    params = parameters_from_args(args)
    invalid = args.dq_invalid if args.dq_invalid is not None else DEFAULT_INVALID_FLAGS
    interpret_flags(invalid)
    if args.jobs < 1:
        raise ParameterError(f"--jobs must be 1 or more, got {args.jobs}")
    if args.output_dir is not None and not args.output_dir.is_dir():
        raise ParameterError(f"output directory {args.output_dir} does not exist: create it first")
    options = {
        "include": list(args.include_region),
        "exclude": list(args.exclude_region),
        "params": params,
        "output_dir": args.output_dir,
        "suffix": args.output_suffix,
        "overwrite": args.overwrite,
        "gzip": args.gzip,
        "save_diagnostics": args.save_diagnostics,
        "invalid_flags": invalid,
    }
    files = list(args.files)
    if len(files) == 1:
        from ..api import detect_file

        products = detect_file(files[0], **options)
        print(
            f"{files[0]}: {products.result.n_masked} pixels masked "
            f"(noise {products.result.rms_value:.4g})"
        )
        print(f"  seed image: {products.seed_path}")
        print(f"  zero-one mask: {products.mask_path}")
        for path in products.diagnostics.values():
            print(f"  diagnostic: {path}")
        return 0
    return _run_batch(files, options, args.jobs, quiet=args.quiet, scheduler=args.scheduler)


def _run_batch(
    files: list[str], options: dict, jobs: int, *, quiet: bool, scheduler: str | None = None
) -> int:
    from ..batch import resolve_scheduler, run_batch

    results = run_batch(
        _detect_one,
        [(path, options) for path in files],
        jobs=jobs,
        scheduler=resolve_scheduler(scheduler),
        desc="detect",
        show=not quiet,
    )
    rows = [r.value if r.ok else (r.name, -1, "failed", say(r.error)) for r in results]
    order = {path: i for i, path in enumerate(files)}
    rows.sort(key=lambda row: order[row[0]])
    width = max(len(row[0]) for row in rows)
    print(f"{'file':<{width}}  {'pixels':>8}  status")
    for path, pixels, status, message in rows:
        shown = str(pixels) if pixels >= 0 else "-"
        extra = f"  {message}" if status != "ok" else ""
        print(f"{path:<{width}}  {shown:>8}  {status}{extra}")
    failed = sum(row[2] != "ok" for row in rows)
    if failed:
        print(f"ds9claw: {failed} of {len(rows)} files failed", file=sys.stderr)
        return 1
    return 0

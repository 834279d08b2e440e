"""``ds9claw commit`` and ``ds9claw revert``: put a claw mask into rate-file DQ, or undo it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from ._types import number
from .options import add_jobs_options, add_progress_option, add_subcommand
from .wording import say

__all__ = ["register", "run_commit", "run_revert"]

_log = logging.getLogger(__name__)

_COMMIT_EPILOG = """\
Masks are 0/1 or seed FITS images from `ds9claw detect` (pixels > 0 are masked) or DS9
region files (their shapes become the mask); several are ORed.  The rate file is changed
in place after keeping the original as <stem>_before_removing_claws.fits (never
overwritten), through a verified temporary file renamed over it; --output writes a new
file instead.  Then rerun calwebb_image2 and calwebb_image3: resample leaves out pixels
flagged DO_NOT_USE.

Masks are told from exposures by content: the old util_detect_source_and_create_seed_image.py
products (a primary HDU with EXTNAME = 'SCI') work as they are; a rate or cal is refused.  A
mask of another shape is reprojected onto the rate's grid through the two WCSs.  --mask-dir
DIR replaces the old tool's --template-dir: each RATE gets every <dataset>*.fits,
<dataset>*.fits.gz and <dataset>*.reg in DIR (ORed); a RATE with none is skipped.  A rate
the old tools already cleaned is refused unless --force (their backup is kept).

Examples:
  ds9claw commit X_nrcb1_rate.fits X_nrcb1_cal_claws_seed_image_zeroonemask.fits.gz
  ds9claw commit jw*_rate.fits --mask-dir claw_masks/
  ds9claw commit X_nrcb1_rate.fits snowball.pix.reg --flags OTHER_BAD_PIXEL
  ds9claw commit jw*_rate.fits --mask '{dataset}_cal_claws_seed_image_zeroonemask.fits.gz' -j 2
  ds9claw revert X_nrcb1_rate.fits
Template fields: {dataset} (name without _rate/_cal and .fits), {stem} (name without
.fits), {name}, {dir} (the rate file's directory).
"""


def register(subparsers, parents=()) -> None:
    """Add the ``commit`` and ``revert`` subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``ds9claw`` subcommand set.
    parents : sequence of argparse.ArgumentParser
        Parsers with the common options.
    """
    from ..commit import DEFAULT_LOCK_TIMEOUT
    from ..parameters import COMMIT_OPTIONS

    DEFAULT_COMMIT_FLAGS = COMMIT_OPTIONS["flags"][0]

    parser = add_subcommand(
        subparsers,
        "commit",
        parents,
        help="OR a claw mask into the DQ of rate files (with backup; see also revert)",
        description=(
            "OR DQ flags into a JWST rate (or cal) file where a mask is set, set those SCI "
            "pixels to a fill value and record it in the file's history."
        ),
        epilog=_COMMIT_EPILOG,
        func=run_commit,
    )
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="RATE MASK... (one rate file and its masks), or RATE... with --mask",
    )
    parser.add_argument(
        "--mask",
        action="append",
        default=[],
        metavar="TEMPLATE",
        help="mask for every RATE: a path or a template such as "
        "'{dataset}_cal_claws_seed_image_zeroonemask.fits.gz' ('{{' and '}}' are literal "
        "braces; an existing file is used as named); repeatable (masks are ORed)",
    )
    parser.add_argument(
        "--mask-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="for every RATE, OR every mask and region file named after its dataset in DIR "
        "(<dataset>*.fits, <dataset>*.fits.gz, <dataset>*.reg); a RATE with none is skipped",
    )
    parser.add_argument(
        "--flags",
        default=DEFAULT_COMMIT_FLAGS,
        help=f"{COMMIT_OPTIONS['flags'][1]} "
        f"(default {DEFAULT_COMMIT_FLAGS}; OTHER_BAD_PIXEL alone flags but still drizzles)",
    )
    parser.add_argument(
        "--fill-value",
        default=COMMIT_OPTIONS["fill_value"][0],
        metavar="VALUE",
        help=COMMIT_OPTIONS["fill_value"][1],
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        default=None,
        metavar="NEW",
        help="write the result to NEW and leave RATE untouched (one RATE only)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="write each result into DIR under its own name; the inputs stay untouched",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="let --output/--output-dir replace existing files"
    )
    parser.add_argument(
        "--no-backup",
        dest="backup",
        action="store_false",
        help="change the file in place without keeping <stem>_before_removing_claws.fits",
    )
    parser.add_argument(
        "--dry-run",
        "-n",
        action="store_true",
        help="check and show what would change; write nothing",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="also commit into non-NIRCam files, models other than ImageModel, and files the "
        "old tools already cleaned",
    )
    add_jobs_options(parser, "files committed in parallel (default 1)")
    parser.add_argument(
        "--lock-timeout",
        type=number(0, what="a number of seconds"),
        default=DEFAULT_LOCK_TIMEOUT,
        metavar="SECONDS",
        help="wait this long for another commit of the same file "
        f"(default {DEFAULT_LOCK_TIMEOUT:g})",
    )
    add_progress_option(parser)
    parser.set_defaults(_parser=parser)

    rparser = add_subcommand(
        subparsers,
        "revert",
        parents,
        help="restore rate files from their _before_removing_claws backup",
        description=(
            "Put back the pre-commit version of rate files from <stem>_before_removing_claws"
            ".fits, after checking that it is the same file without the committed flags. "
            "The backup is kept."
        ),
        func=run_revert,
    )
    rparser.add_argument("files", nargs="+", metavar="RATE", help="committed rate (or cal) files")
    rparser.add_argument(
        "--dry-run",
        "-n",
        action="store_true",
        help="check and show what would be restored; write nothing",
    )
    rparser.add_argument(
        "--force",
        action="store_true",
        help="restore even if the backup does not look like the pre-commit file",
    )
    rparser.add_argument(
        "--lock-timeout",
        type=number(0, what="a number of seconds"),
        default=DEFAULT_LOCK_TIMEOUT,
        metavar="SECONDS",
        help=f"wait this long for a commit of the same file (default {DEFAULT_LOCK_TIMEOUT:g})",
    )
    rparser.set_defaults(_parser=rparser)


def _masks_from_directory(rates: list[str], directory: Path) -> tuple[list[str], list[list[str]]]:
    """The rates that have masks in ``directory`` and their masks; report the others."""
    from ..maskdir import find_masks

    kept, masks = [], []
    for rate in rates:
        lookup = find_masks(rate, directory)
        for path, reason in lookup.skipped:
            _log.info("%s: left out %s (%s)", rate, path.name, reason)
        if not lookup.masks:
            print(f"{rate}: no mask or region file named {lookup.dataset}* in {directory}: skipped")
            continue
        kept.append(rate)
        masks.append([str(p) for p in lookup.masks])
    return kept, masks


def _plan(args) -> list[tuple[str, list[str], Path | None]]:
    """(rate, masks, output) for each target, or a usage error."""
    from ..commit import expand_mask_template

    parser = args._parser
    files = [str(f) for f in args.files]
    if args.output is not None and args.output_dir is not None:
        parser.error("give --output or --output-dir, not both")
    if args.mask_dir is not None and args.mask:
        parser.error("give --mask or --mask-dir, not both")
    if args.mask_dir is not None:
        if args.output is not None and len(files) > 1:
            parser.error("--output takes one rate file; use --output-dir for several")
        rates, masks = _masks_from_directory(files, args.mask_dir)
    elif not args.mask:
        if len(files) < 2:
            parser.error("give a rate file and at least one mask (or --mask TEMPLATE)")
        rates, masks = files[:1], [files[1:]]
    else:
        rates = files
        masks = [[str(expand_mask_template(t, rate)) for t in args.mask] for rate in rates]
    if args.output is not None and len(rates) > 1:
        parser.error("--output takes one rate file; use --output-dir for several")
    if len(set(rates)) != len(rates):
        parser.error("a rate file is named twice")
    outputs: list[Path | None] = []
    for rate in rates:
        if args.output is not None:
            outputs.append(args.output)
        elif args.output_dir is not None:
            outputs.append(args.output_dir / Path(rate).name)
        else:
            outputs.append(None)
    return list(zip(rates, masks, outputs, strict=True))


def _table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("file", "pixels", "new", "status")
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(3)]
    print(f"{header[0]:<{widths[0]}}  {header[1]:>{widths[1]}}  {header[2]:>{widths[2]}}  status")
    for name, pixels, new, status in rows:
        print(f"{name:<{widths[0]}}  {pixels:>{widths[1]}}  {new:>{widths[2]}}  {status}")


def run_commit(args) -> int:
    """Run ``ds9claw commit``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 when every file was committed (or needed nothing), 1 when any failed.
    """
    from ..commit import _parse_fill
    from ..dq import interpret_flags

    # bad flags or fill value: one error before touching any file
    interpret_flags(args.flags)
    _parse_fill(args.fill_value)
    plan = _plan(args)
    if not plan:
        print(f"no rate file had a mask in {args.mask_dir}: nothing to commit")
        return 0
    options = {
        "flags": args.flags,
        "fill_value": args.fill_value,
        "backup": args.backup,
        "overwrite": args.overwrite,
        "dry_run": args.dry_run,
        "force": args.force,
        "lock_timeout": args.lock_timeout,
    }
    if len(plan) == 1:
        return _commit_single(*plan[0], options)
    from ..commit.batch import commit_files

    show = args.progress if args.progress is not None else (None if not args.quiet else False)
    results = commit_files(plan, options, jobs=args.jobs, scheduler=args.scheduler, show=show)
    return _print_commit_table(results)


def _commit_single(rate: str, masks: list[str], output: Path | None, options: dict) -> int:
    from ..commit import commit_mask

    report = commit_mask(rate, masks, output=output, **options)
    print(report.summary())
    if report.status == "dry-run":
        print(f"  would write: {report.output}")
        if report.backup is not None:
            print(
                f"  backup: {report.backup}"
                + (" (exists, kept)" if report.backup.exists() else " (would be made)")
            )
    for note in report.notes:
        print(f"  note: {say(note)}")
    _next_step_hint([report])
    return 0


def _print_commit_table(results: list[tuple]) -> int:
    from ..commit.batch import BATCH_NOTE_MARKERS, count_statuses

    rows, reports, failed = [], [], 0
    for rate, report, error in results:
        if report is None:
            failed += 1
            rows.append((rate, "-", "-", f"FAILED: {say(error)}"))
            continue
        reports.append(report)
        status = report.status
        if report.backup_created:
            status += f" (backup {report.backup.name})"
        rows.append((str(report.output), str(report.n_masked), str(report.n_flagged), status))
    _table(rows)
    for report in reports:  # what a batch user must not miss
        for note in report.notes:
            if any(marker in note for marker in BATCH_NOTE_MARKERS):
                print(f"  note: {report.output}: {say(note)}")
    parts = [f"{n} {status}" for status, n in count_statuses(reports).items()] + (
        [f"{failed} failed"] if failed else []
    )
    print(f"{len(results)} files: " + ", ".join(parts))
    _next_step_hint(reports)
    return _failure_status(failed, len(results))


def _failure_status(failed: int, total: int) -> int:
    if not failed:
        return 0
    print(f"ds9claw: error: {failed} of {total} files failed (see the table)", file=sys.stderr)
    return 1


def _next_step_hint(reports) -> None:
    committed = [r for r in reports if r.status == "committed"]
    if not committed:
        return
    if all(any("cal file" in n for n in r.notes) for r in committed):
        _log.info("next: rerun calwebb_image3 with the committed cal files")
    else:
        _log.info("next: rerun calwebb_image2 on the committed rate files, then calwebb_image3")


def run_revert(args) -> int:
    """Run ``ds9claw revert``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 when every file was restored (or already was), 1 when any failed.
    """
    from ..commit import revert
    from ..commit.batch import revert_files

    files = [str(f) for f in args.files]
    options = {"force": args.force, "dry_run": args.dry_run, "lock_timeout": args.lock_timeout}
    if len(files) == 1:
        report = revert(files[0], **options)
        print(report.summary())
        for note in report.notes:
            print(f"  note: {say(note)}")
        return 0
    rows, failed = [], 0
    for path, report, error in revert_files(files, options):
        if report is None:
            failed += 1
            rows.append((path, "-", "-", f"FAILED: {say(error)}"))
            continue
        status = report.status + (
            f" (old-tool backup, {report.old_tool})" if report.old_tool else ""
        )
        rows.append((path, str(report.n_restored), "-", status))
    _table(rows)
    return _failure_status(failed, len(files))

"""``ds9claw survey plan|run|status``: a resumable manifest of a whole survey."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import add_actions, add_jobs_options, add_subcommand
from .wording import say

__all__ = ["register", "run_plan", "run_run", "run_status"]

_EPILOG = """\
A survey in three commands:
  ds9claw survey plan 'visits/**/jw*_cal.fits' -o survey.ecsv
  ds9claw survey run survey.ecsv --steps find,detect,commit --jobs 2
  ds9claw survey run survey.ecsv --scheduler tcp://head-node:8786     # on a Dask cluster
  ds9claw survey status survey.ecsv
Every finished task is recorded at once (a fsynced line in MANIFEST.journal, folded into
the astropy ECSV manifest, rewritten atomically, every 30 s and after each step):
a killed run loses nothing done, and running it again does only what is not done.
See docs/survey.md.
"""


def register(subparsers, parents=()) -> None:
    """Add the ``survey`` subcommand and its ``plan``, ``run`` and ``status`` actions.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``ds9claw`` subcommand set.
    parents : sequence of argparse.ArgumentParser
        Parsers with the common options.
    """
    from ..survey import DEFAULT_MASK_TEMPLATE, DEFAULT_REGION_TEMPLATE
    from ..survey_manifest import STEPS
    from .detect import add_detection_arguments

    parser = add_subcommand(
        subparsers,
        "survey",
        parents,
        help="plan, run (locally or on a Dask cluster) and follow a whole survey",
        description="Run find, detect and commit over thousands of exposures, resumably.",
        epilog=_EPILOG,
    )
    actions = add_actions(parser, "survey_action")
    plan = add_subcommand(actions, "plan", parents, help="write a survey manifest", func=run_plan)
    plan.add_argument("patterns", nargs="+", metavar="PATTERN", help="cal/rate file patterns")
    plan.add_argument("-o", "--output", type=Path, required=True, metavar="MANIFEST")
    plan.add_argument(
        "--region",
        default=DEFAULT_REGION_TEMPLATE,
        metavar="TEMPLATE",
        help=f"each exposure's region file (default {DEFAULT_REGION_TEMPLATE})",
    )
    plan.add_argument(
        "--mask",
        default=DEFAULT_MASK_TEMPLATE,
        metavar="TEMPLATE",
        help=f"each exposure's zero-one mask (default {DEFAULT_MASK_TEMPLATE})",
    )
    plan.add_argument("--overwrite", action="store_true", help="replace an existing manifest")

    run = add_subcommand(actions, "run", parents, help="run the steps not yet done", func=run_run)
    run.add_argument("manifest", type=Path, metavar="MANIFEST")
    run.add_argument(
        "--steps",
        default=",".join(STEPS),
        help=f"comma-separated steps (default {','.join(STEPS)})",
    )
    add_jobs_options(run, "local processes (default 1)")
    add_detection_arguments(run)

    status = add_subcommand(
        actions, "status", parents, help="summarise a manifest", func=run_status
    )
    status.add_argument("manifest", type=Path, metavar="MANIFEST")


def run_plan(args: argparse.Namespace) -> int:
    """Run ``ds9claw survey plan``; return the exit status."""
    from ..errors import OutputExistsError
    from ..survey import plan_survey
    from ..survey_manifest import write_manifest

    if args.output.exists() and not args.overwrite:
        raise OutputExistsError(f"{args.output} exists: pass --overwrite to plan it anew")
    table = plan_survey(args.patterns, region_template=args.region, mask_template=args.mask)
    write_manifest(table, args.output)
    groups = len(set(table["group"]))
    given = sum(s == "done" for s in table["find_status"])
    print(
        f"{args.output}: {len(table)} exposures in {groups} groups "
        f"({given} with a region file already)"
    )
    return 0


def run_run(args: argparse.Namespace) -> int:
    """Run ``ds9claw survey run``; return 0 when no step failed."""
    from ..batch import resolve_scheduler
    from ..survey import run_survey
    from .detect import parameters_from_args

    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    options = {
        "detect": {"params": parameters_from_args(args)},
        "commit": {},
    }
    if args.dq_invalid is not None:
        options["detect"]["invalid_flags"] = args.dq_invalid
    table = run_survey(
        args.manifest,
        steps=steps,
        jobs=args.jobs,
        scheduler=resolve_scheduler(args.scheduler),
        options=options,
        show=not args.quiet,
    )
    return _print_status(table, args.manifest, steps)


def run_status(args: argparse.Namespace) -> int:
    """Run ``ds9claw survey status``; return 0 when nothing failed."""
    from ..survey_manifest import STEPS, read_manifest

    return _print_status(read_manifest(args.manifest), args.manifest, STEPS)


def _print_status(table, manifest: Path, steps) -> int:
    from ..survey import stale_locks, survey_summary

    summary = survey_summary(table)
    print(f"{manifest}: {len(table)} exposures")
    print(f"{'step':<8}  {'done':>6}  {'failed':>6}  {'to do':>6}")
    for step, counts in summary.items():
        print(f"{step:<8}  {counts['done']:>6}  {counts['failed']:>6}  {counts['todo']:>6}")
    failed = 0
    for row in table:
        for step in summary:
            if row[f"{step}_status"] == "failed":
                failed += step in steps
                print(f"  {step} failed: {row['path']}: {say(row[f'{step}_error'])}")
    for line in stale_locks(table):
        print(f"  lock left: {line}")
    if failed:
        print(f"ds9claw: {failed} step(s) failed (see above)", file=sys.stderr)
        return 1
    return 0

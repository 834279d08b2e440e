"""``ds9claw ds9 <action>``: the DS9 Analysis menu's actions, run against a running DS9.

Each action prints what it did (DS9's analysis text window shows it when the action was
started from the Claws menu); errors end in one ``ds9claw: error: ...`` line and a
non-zero exit status.
"""

from __future__ import annotations

import argparse
import logging

from ..errors import ParameterError
from ..parameters import COMMIT_OPTIONS, DIALOG_PARAMETERS
from ._types import number
from .ds9_options import (
    add_connection_options,
    add_detection_options,
    integer_value,
)
from .options import add_actions, add_subcommand, given_values

__all__ = ["register", "run"]

_log = logging.getLogger(__name__)

_EPILOG = """\
Actions (the entries of DS9's Analysis > Claws menu):
  detect      detect claws in the current frame inside its regions; show the seed and
              the 0/1 mask in the next two frames; write them beside the file
  params      remember detection parameters (the "with parameters..." dialog), then detect
  commit      commit the mask shown into the DQ of <dataset>_rate.fits
  to-regions  trace the mask into polygon regions on the image frame
  snapshot    save the three-panel view as <stem>_claws.png and .eps
  clear       delete the seed and mask frames
  find        find claw candidates in the exposures of all frames (3+ dithers of a
              detector) and draw them, dashed cyan, tag {ds9claw candidate}
  remove-candidates  delete every {ds9claw candidate} region (nothing else)
  preview     before/after mosaics of the exposures in the frames with their masks
              (jwst ResampleStep), side by side, holes in red
  close-preview  delete the two preview frames, show the other frames again

Target: --target takes DS9's title or its XPA address ($xpa_method in an analysis
file); without it the single running DS9 is used.
Example: ds9claw ds9 detect --sigma 2 --smooth 1 --ignore-background
"""


def _action(actions, name: str, parents, text: str) -> argparse.ArgumentParser:
    """One ``ds9claw ds9`` action with the connection options; `run` runs it."""
    parser = add_subcommand(actions, name, parents, help=text, func=run)
    add_connection_options(parser)
    return parser


def register(subparsers, parents=()) -> None:
    """Add the ``ds9`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``ds9claw`` subparsers.
    parents : sequence of argparse.ArgumentParser
        Parsers with the common options.
    """
    parser = add_subcommand(
        subparsers,
        "ds9",
        parents,
        help="run an Analysis-menu action against a running DS9 (detect, commit ...)",
        description="Run one of the DS9 Analysis > Claws actions against a running DS9.",
        epilog=_EPILOG,
        func=run,
    )
    actions = add_actions(parser, "action")

    p = _action(
        actions, "detect", parents, "detect claws in the current frame and show seed and mask"
    )
    add_detection_options(p)
    p.add_argument(
        "--remember", action="store_true", help="remember the parameters given as the new defaults"
    )
    p.add_argument(
        "--no-write", action="store_true", help="only show seed and mask in DS9, write no files"
    )
    p.add_argument(
        "--regions-file",
        default=None,
        metavar="FILE",
        help="use the regions of this DS9 region file instead of the frame's",
    )

    p = _action(actions, "params", parents, "remember detection parameters, then detect with them")
    add_detection_options(p)
    p.add_argument("--no-detect", action="store_true", help="only remember, do not detect")
    p.add_argument("--show", action="store_true", help="print the remembered parameters")

    p = _action(actions, "commit", parents, "commit the mask shown into <dataset>_rate.fits DQ")
    p.add_argument(
        "--rate-dir",
        default=None,
        metavar="DIR",
        help="directory of the rate files (default: remembered, else beside "
        "the cal file); an empty value forgets the remembered one",
    )
    p.add_argument("--remember", action="store_true", help="remember --rate-dir")
    p.add_argument(
        "--flags",
        default=None,
        help=f"{COMMIT_OPTIONS['flags'][1]} (default {COMMIT_OPTIONS['flags'][0]})",
    )
    p.add_argument("--dry-run", action="store_true", help="count only, write nothing")

    p = _action(
        actions, "to-regions", parents, "trace the mask into polygon regions on the image frame"
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="remove the frame's other regions first (saved to a .reg file)",
    )
    p.add_argument(
        "--tolerance",
        type=number(),
        default=0.75,
        help="outline simplification in pixels (default 0.75)",
    )

    p = _action(actions, "snapshot", parents, "save the three-panel view as PNG and EPS")
    p.add_argument(
        "--output",
        default=None,
        metavar="BASE",
        help="file name without extension (default <dir>/<stem>_claws)",
    )
    p.add_argument("--format", default="png,eps", help="comma-separated formats (default png,eps)")
    p.add_argument("--width", type=integer_value, default=1200, help="canvas width (default 1200)")
    p.add_argument("--height", type=integer_value, default=350, help="canvas height (default 350)")

    _action(actions, "clear", parents, "delete the ds9claw frames")
    _action(actions, "find", parents, "draw claw candidates on every frame (ds9claw find)")
    _action(actions, "remove-candidates", parents, "delete the drawn claw candidates")
    from .preview import add_ds9_preview_parsers

    add_ds9_preview_parsers(actions, parents, add_connection_options)
    for name in ("preview", "close-preview"):
        actions.choices[name].set_defaults(func=run)
    from .ds9_visit import register_actions  # issue 13: the whole-visit entries

    register_actions(actions, parents, add_connection_options, add_detection_options)


def _parameters(args: argparse.Namespace, settings):
    from ..parameters import DetectionParameters

    values = settings.detection_kwargs()
    values.update(given_values(args, DIALOG_PARAMETERS))
    try:
        return DetectionParameters(**values).validate()
    except (TypeError, ValueError) as error:
        raise ParameterError(f"bad detection parameter: {error}") from None


def _remember_parameters(args: argparse.Namespace, settings, params) -> None:
    from ..ds9.dialog_sync import remember_parameters

    path = remember_parameters(settings, params, suffix=args.suffix, overwrite=args.overwrite)
    _log.info("remembered the parameters in %s", path)


def run(args: argparse.Namespace) -> int:
    """Run ``ds9claw ds9 <action>``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit status (0 on success).
    """
    if getattr(args, "report_window", False):
        from ..ds9.report_window import report_to_window

        return report_to_window(args, run)
    from ..ds9.connect import open_transport
    from ..ds9.settings import load_settings

    settings = load_settings()
    if _settings_only(args, settings):
        return 0
    params = None
    if args.action in ("detect", "params"):
        params = _parameters(args, settings)  # bad values fail before DS9 is asked anything
    transport = open_transport(args.target, samp=args.samp, hub=args.hub, timeout=args.timeout)
    try:
        _RUNNERS[args.action](args, transport, settings, params)
    finally:
        transport.close()
    return 0


def _settings_only(args: argparse.Namespace, settings) -> bool:
    """Show or remember settings before DS9 is asked anything; True when that is all."""
    from ..ds9.settings import save_settings

    if args.action == "params":
        params = _parameters(args, settings)
        if args.show:
            print(_describe(params, settings.suffix) + f", overwrite={_yes(settings.overwrite)}")
            return True
        _remember_parameters(args, settings, params)
        if args.no_detect:
            print(
                "ds9claw: remembered "
                + _describe(params, settings.suffix)
                + f", overwrite={_yes(settings.overwrite)}"
            )
            return True
    if args.action == "commit" and args.rate_dir is not None and args.remember:
        settings.rate_dir = args.rate_dir or None
        save_settings(settings)
    return False


def _run_detect(args: argparse.Namespace, transport, settings, params) -> None:
    from ..ds9 import actions, visit_detect
    from ..ds9.dialog_sync import sync_running_dialogs

    if args.action == "detect" and args.remember:
        _remember_parameters(args, settings, params)
    regions_text = None
    if getattr(args, "regions_file", None):
        from ..region_parse import RegionSource

        regions_text = RegionSource.from_file(args.regions_file).text
    view = visit_detect.before_detect(transport)  # issue 13: detect this exposure, review it
    report = actions.detect(
        transport,
        params=params,
        suffix=args.suffix or settings.suffix,
        write=not getattr(args, "no_write", False),
        regions_text=regions_text,
        overwrite=settings.overwrite if args.overwrite is None else args.overwrite,
        label=True,
    )
    visit_detect.after_detect(transport, report.image.frame, view)
    sync_running_dialogs(transport, settings)
    print(report.summary())
    _log.debug("timings: %s", {k: round(v, 3) for k, v in report.timings.items()})


def _run_commit(args: argparse.Namespace, transport, settings, params) -> None:
    from ..ds9 import actions

    rate_dir = args.rate_dir if args.rate_dir is not None else settings.rate_dir
    outcome = actions.commit(
        transport, rate_dir=rate_dir or None, flags=args.flags, dry_run=args.dry_run
    )
    print(outcome.summary())


def _run_to_regions(args: argparse.Namespace, transport, settings, params) -> None:
    from ..ds9 import actions

    report = actions.mask_to_regions(transport, replace=args.replace, tolerance=args.tolerance)
    print(report.summary())


_SNAPSHOT_FORMATS = ("png", "eps", "jpeg", "gif", "tiff")


def _run_snapshot(args: argparse.Namespace, transport, settings, params) -> None:
    from ..ds9 import actions

    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in _SNAPSHOT_FORMATS]
    if bad or not formats:
        raise ParameterError(
            f"unknown snapshot format(s) {', '.join(bad) or '(none)'}: use png, eps, "
            "jpeg, gif or tiff"
        )
    report = actions.snapshot(
        transport, output=args.output, formats=formats, width=args.width, height=args.height
    )
    print(report.summary())


def _run_clear(args: argparse.Namespace, transport, settings, params) -> None:

    from ..ds9.clear import clear_for_menu  # in a visit: this exposure only

    print(clear_for_menu(transport).summary())


def _run_find(args: argparse.Namespace, transport, settings, params) -> None:
    from ..ds9 import candidates

    print(candidates.find_in_frames(transport).summary())


def _run_remove_candidates(args: argparse.Namespace, transport, settings, params) -> None:
    from ..ds9 import candidates

    print(candidates.remove_candidates(transport).summary())


def _run_preview(args: argparse.Namespace, transport, settings, params) -> None:
    from .preview import run_ds9_preview

    run_ds9_preview(args, transport)


#: What runs each action once DS9 is connected.
_RUNNERS = {
    "detect": _run_detect,
    "params": _run_detect,
    "commit": _run_commit,
    "to-regions": _run_to_regions,
    "snapshot": _run_snapshot,
    "clear": _run_clear,
    "find": _run_find,
    "remove-candidates": _run_remove_candidates,
    "preview": _run_preview,
    "close-preview": _run_preview,
}


def _describe(params, suffix: str) -> str:
    from ..parameters import describe

    return f"{describe(params)}, suffix={suffix}"


def _yes(value: bool) -> str:
    return "yes" if value else "no"

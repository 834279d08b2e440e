"""``ds9claw ds9 <action>``: the DS9 Analysis menu's actions, run against a running DS9.

Each action prints what it did (DS9's analysis text window shows it when the action was
started from the Claws menu); errors end in one ``ds9claw: error: ...`` line and a
non-zero exit status.
"""

from __future__ import annotations

import argparse
import logging

from ..convert import to_bool, to_int
from ..errors import ParameterError
from ..parameters import COMMIT_OPTIONS, DIALOG_PARAMETERS
from ._types import number
from .options import add_parameter_options, given_values

__all__ = ["register", "run"]

_log = logging.getLogger(__name__)

_ACTIONS = (
    "detect",
    "params",
    "commit",
    "to-regions",
    "snapshot",
    "clear",
    "find",
    "remove-candidates",
    "preview",
    "close-preview",
)

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


def _yes_no(text: str) -> bool:
    try:
        return to_bool(text, "the value")
    except ParameterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


_float = number()


def _int(text: str) -> int:
    try:
        return to_int(text, "the value")
    except ParameterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_connection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--target",
        default=None,
        help="DS9 title or XPA address ($xpa_method); default: the single running DS9",
    )
    group.add_argument(
        "--timeout",
        type=number(0, above=True),
        default=15.0,
        help="seconds each DS9 request may take (default 15)",
    )
    transport = group.add_mutually_exclusive_group()
    transport.add_argument(
        "--samp",
        dest="samp",
        action="store_const",
        const=True,
        default=None,
        help="talk to DS9 over SAMP only (default: XPA, then SAMP if no XPA target answers)",
    )
    transport.add_argument(
        "--xpa",
        dest="samp",
        action="store_const",
        const=False,
        help="talk to DS9 over XPA only",
    )
    group.add_argument(
        "--hub",
        default=None,
        metavar="LOCKFILE",
        help="SAMP hub lockfile (default: $SAMP_HUB, else ~/.samp)",
    )
    group.add_argument(
        "--report-window",
        action="store_true",
        help="show the report in DS9's one shared ds9claw text window, not on stdout "
        "(the Claws menu does)",
    )


def _add_parameters(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "detection parameters (default: the values last remembered, see 'params')"
    )
    add_parameter_options(group, DIALOG_PARAMETERS, remembered=True)
    group.add_argument(
        "--output-suffix",
        "--suffix",
        dest="suffix",
        default=None,
        help="product suffix (default _claws_seed_image)",
    )
    group.add_argument(
        "--overwrite",
        type=_yes_no,
        nargs="?",
        const=True,
        default=None,
        metavar="yes|no",
        help="also replace files ds9claw did not write at the product paths (its own "
        "earlier products are always replaced; default: the remembered setting, no)",
    )


def register(subparsers, parents=()) -> None:
    """Add the ``ds9`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``ds9claw`` subparsers.
    parents : sequence of argparse.ArgumentParser
        Parsers with the common options.
    """
    parser = subparsers.add_parser(
        "ds9",
        parents=list(parents),
        help="run an Analysis-menu action against a running DS9 (detect, commit ...)",
        description="Run one of the DS9 Analysis > Claws actions against a running DS9.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    p = actions.add_parser(
        "detect",
        parents=list(parents),
        help="detect claws in the current frame and show seed and mask",
    )
    _add_connection(p)
    _add_parameters(p)
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

    p = actions.add_parser(
        "params", parents=list(parents), help="remember detection parameters, then detect with them"
    )
    _add_connection(p)
    _add_parameters(p)
    p.add_argument("--no-detect", action="store_true", help="only remember, do not detect")
    p.add_argument("--show", action="store_true", help="print the remembered parameters")

    p = actions.add_parser(
        "commit", parents=list(parents), help="commit the mask shown into <dataset>_rate.fits DQ"
    )
    _add_connection(p)
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

    p = actions.add_parser(
        "to-regions",
        parents=list(parents),
        help="trace the mask into polygon regions on the image frame",
    )
    _add_connection(p)
    p.add_argument(
        "--replace",
        action="store_true",
        help="remove the frame's other regions first (saved to a .reg file)",
    )
    p.add_argument(
        "--tolerance",
        type=_float,
        default=0.75,
        help="outline simplification in pixels (default 0.75)",
    )

    p = actions.add_parser(
        "snapshot", parents=list(parents), help="save the three-panel view as PNG and EPS"
    )
    _add_connection(p)
    p.add_argument(
        "--output",
        default=None,
        metavar="BASE",
        help="file name without extension (default <dir>/<stem>_claws)",
    )
    p.add_argument("--format", default="png,eps", help="comma-separated formats (default png,eps)")
    p.add_argument("--width", type=_int, default=1200, help="canvas width (default 1200)")
    p.add_argument("--height", type=_int, default=350, help="canvas height (default 350)")

    p = actions.add_parser("clear", parents=list(parents), help="delete the ds9claw frames")
    _add_connection(p)

    p = actions.add_parser(
        "find", parents=list(parents), help="draw claw candidates on every frame (ds9claw find)"
    )
    _add_connection(p)
    p = actions.add_parser(
        "remove-candidates", parents=list(parents), help="delete the drawn claw candidates"
    )
    _add_connection(p)
    from .preview import add_ds9_preview_parsers

    add_ds9_preview_parsers(actions, parents, _add_connection)

    for name in _ACTIONS:
        actions.choices[name].set_defaults(func=run)
    parser.set_defaults(func=run)
    from .ds9_visit import register_actions  # issue 13: the whole-visit entries

    register_actions(actions, parents, _add_connection, _add_parameters)


def _parameters(args: argparse.Namespace, settings):
    from ..parameters import DetectionParameters

    values = settings.detection_kwargs()
    values.update(given_values(args, DIALOG_PARAMETERS))
    try:
        return DetectionParameters(**values).validate()
    except (TypeError, ValueError) as error:
        raise ParameterError(f"bad detection parameter: {error}") from None


def _remember_parameters(args: argparse.Namespace, settings, params) -> None:
    from ..ds9.settings import save_settings

    for description in DIALOG_PARAMETERS:
        setattr(settings, description.name, getattr(params, description.name))
    if args.suffix:
        settings.suffix = args.suffix
    if args.overwrite is not None:
        settings.overwrite = args.overwrite
    path = save_settings(settings)
    _log.info("remembered the parameters in %s", path)
    if settings.analysis_file:
        from .analysis import refresh_user_copy

        refresh_user_copy(settings)
    from ..ds9.dialog_sync import refresh_copies  # issue 13: ~/.ds9.ans copies too

    refresh_copies(settings)


def run(args: argparse.Namespace) -> int:  # noqa: C901 (to split: see issue 12, part 3)
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
    from ..ds9 import actions
    from ..ds9.connect import open_transport
    from ..ds9.settings import load_settings, save_settings

    settings = load_settings()
    action = args.action

    if action == "params" and args.show:
        params = _parameters(args, settings)
        print(_describe(params, settings.suffix) + f", overwrite={_yes(settings.overwrite)}")
        return 0
    if action == "params":
        params = _parameters(args, settings)
        _remember_parameters(args, settings, params)
        if args.no_detect:
            print(
                "ds9claw: remembered "
                + _describe(params, settings.suffix)
                + f", overwrite={_yes(settings.overwrite)}"
            )
            return 0

    if action == "commit" and args.rate_dir is not None and args.remember:
        settings.rate_dir = args.rate_dir or None
        save_settings(settings)

    if action in ("detect", "params"):
        params = _parameters(args, settings)  # bad values fail before DS9 is asked anything
    transport = open_transport(args.target, samp=args.samp, hub=args.hub, timeout=args.timeout)
    try:
        if action in ("detect", "params"):
            if action == "detect" and args.remember:
                _remember_parameters(args, settings, params)
            regions_text = None
            if getattr(args, "regions_file", None):
                from ..regions import RegionSource

                regions_text = RegionSource.from_file(args.regions_file).text
            from ..ds9 import visit_detect  # issue 13: detect this exposure, review it

            view = visit_detect.before_detect(transport)
            report = actions.detect(
                transport,
                params=params,
                suffix=args.suffix or settings.suffix,
                write=not getattr(args, "no_write", False),
                regions_text=regions_text,
                overwrite=settings.overwrite if args.overwrite is None else args.overwrite,
            )
            visit_detect.after_detect(transport, report.image.frame, view)
            from ..ds9.dialog_sync import sync_running_dialogs

            sync_running_dialogs(transport, settings)
            print(report.summary())
            _log.debug("timings: %s", {k: round(v, 3) for k, v in report.timings.items()})
        elif action == "commit":
            rate_dir = args.rate_dir if args.rate_dir is not None else settings.rate_dir
            outcome = actions.commit(
                transport, rate_dir=rate_dir or None, flags=args.flags, dry_run=args.dry_run
            )
            print(outcome.summary())
        elif action == "to-regions":
            print(
                actions.mask_to_regions(
                    transport, replace=args.replace, tolerance=args.tolerance
                ).summary()
            )
        elif action == "snapshot":
            formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
            bad = [f for f in formats if f not in ("png", "eps", "jpeg", "gif", "tiff")]
            if bad or not formats:
                raise ParameterError(
                    f"unknown snapshot format(s) {', '.join(bad) or '(none)'}: use png, eps, "
                    "jpeg, gif or tiff"
                )
            print(
                actions.snapshot(
                    transport,
                    output=args.output,
                    formats=formats,
                    width=args.width,
                    height=args.height,
                ).summary()
            )
        elif action == "clear":
            from ..ds9.clear import clear_for_menu  # in a visit: this exposure only

            print(clear_for_menu(transport).summary())
        elif action in ("find", "remove-candidates"):
            from ..ds9 import candidates

            if action == "find":
                print(candidates.find_in_frames(transport).summary())
            else:
                print(candidates.remove_candidates(transport).summary())
        elif action in ("preview", "close-preview"):
            from .preview import run_ds9_preview

            run_ds9_preview(args, transport)
    finally:
        transport.close()
    return 0


def _describe(params, suffix: str) -> str:
    from ..parameters import describe

    return f"{describe(params)}, suffix={suffix}"


def _yes(value: bool) -> str:
    return "yes" if value else "no"

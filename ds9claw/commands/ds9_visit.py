"""``ds9claw ds9 <visit action>``: the whole-visit entries of the Claws menu.

Registered into ``ds9claw ds9`` by `register_actions`; each prints its verdict first,
then one short line per exposure (as it goes, for the long ones).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["VISIT_ACTIONS", "register_actions", "run_visit"]

#: action -> help line.
VISIT_ACTIONS = {
    "review-next": "review the next exposure: its image, seed and mask side by side",
    "review-previous": "review the previous exposure",
    "review-this": "review the current frame's exposure",
    "whole-visit": "show every exposure again, as they were before the review",
    "detect-all": "detect claws in every frame with a region (one process); review the first",
    "commit-all": "commit the mask of every exposure into its rate file's DQ",
    "save-regions": "save each frame's regions as <stem>_claws.pix.reg (earlier file kept)",
    "load-regions": "load <stem>_claws.pix.reg into each frame that has one",
    "copy-regions": "copy the current frame's regions to the other frames of its detector",
    "clear-exposure": "delete the seed and mask frames of the current exposure",
    "clear-all": "delete every ds9claw frame and show the whole visit",
    "load": "open exposures in DS9 as a visit (one frame each, lock, zscale, regions)",
}


def register_actions(actions, parents, add_connection, add_parameters) -> None:
    """Add the visit actions to the ``ds9claw ds9`` subparsers.

    Parameters
    ----------
    actions : argparse._SubParsersAction
        The ``ds9`` action subparsers.
    parents : sequence of argparse.ArgumentParser
        Parsers with the common options.
    add_connection, add_parameters : callable
        Add the connection and detection-parameter options to a parser.
    """
    for name, text in VISIT_ACTIONS.items():
        p = actions.add_parser(name, parents=list(parents), help=text, description=text + ".")
        add_connection(p)
        if name == "detect-all":
            add_parameters(p)
        elif name == "commit-all":
            p.add_argument("--rate-dir", default=None, metavar="DIR", help="rate directory")
            p.add_argument("--flags", default=None, help="DQ flags to OR in")
            p.add_argument("--dry-run", action="store_true", help="count only, write nothing")
        elif name == "copy-regions":
            p.add_argument(
                "--sky",
                action="store_true",
                help="copy in sky coordinates (features fixed on the sky); default image pixels",
            )
        elif name == "load":
            p.add_argument("files", nargs="+", metavar="FILE", help="the exposures (X_cal.fits)")
            p.add_argument(
                "--extension", default="SCI", help="extension to show (default SCI; '' primary)"
            )
            p.add_argument(
                "--no-regions", action="store_true", help="do not load <stem>_claws.pix.reg"
            )
        p.set_defaults(func=run_visit)


def _print(line: str) -> None:
    from ..ds9.report_text import wrap_report

    sys.stdout.write(wrap_report(line))
    sys.stdout.flush()


def run_visit(args: argparse.Namespace) -> int:
    """Run one visit action.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0, or 1 when an exposure failed.
    """
    if getattr(args, "report_window", False):
        from ..ds9.report_window import report_to_window

        return report_to_window(args, run_visit)
    from ..ds9 import visit, visit_actions, visit_regions
    from ..ds9.connect import open_transport

    action = args.action
    params = settings = None
    if action == "detect-all":
        from ..ds9.settings import load_settings
        from .ds9 import _parameters

        settings = load_settings()
        params = _parameters(args, settings)
    transport = open_transport(args.target, samp=args.samp, hub=args.hub, timeout=args.timeout)
    try:
        if action in ("review-next", "review-previous", "review-this"):
            step = {"review-next": 1, "review-previous": -1, "review-this": 0}[action]
            exposure, state = visit.review_step(transport, step)
            number = state.exposures.index(exposure) + 1
            panels = ["image"] + (["seed", "0/1 mask"] if exposure.seed else [])
            _print(f"ds9claw: reviewing exposure {number} of {len(state.exposures)}")
            _print(f"  {exposure.name}")
            _print(f"  frames {', '.join(map(str, exposure.frames))}: {', '.join(panels)}")
            return 0
        if action == "whole-visit":
            state = visit.whole_visit(transport)
            _print(f"ds9claw: showing the whole visit ({len(state.exposures)} exposures)")
            return 0
        if action == "load":
            from ..ds9.load import load_visit

            print(
                load_visit(
                    transport,
                    args.files,
                    extension=args.extension,
                    regions=not args.no_regions,
                ).summary()
            )
            return 0
        if action == "detect-all":
            _print("ds9claw: detecting claws in every frame with a region ...")
            report = visit_actions.detect_all(
                transport,
                params=params,
                suffix=args.suffix or settings.suffix,
                overwrite=settings.overwrite if args.overwrite is None else args.overwrite,
                progress=_print,
            )
            _print(report.summary().splitlines()[0])
            _print(report.lines[-1])
            return 1 if report.failed else 0
        if action == "commit-all":
            from ..ds9.settings import load_settings

            rate_dir = args.rate_dir if args.rate_dir is not None else load_settings().rate_dir
            report = visit_actions.commit_all(
                transport, rate_dir=rate_dir or None, flags=args.flags, dry_run=args.dry_run
            )
        elif action == "save-regions":
            report = visit_regions.save_regions_all(transport)
        elif action == "load-regions":
            report = visit_regions.load_regions_all(transport)
        elif action == "copy-regions":
            report = visit_regions.copy_regions(transport, sky=args.sky)
        elif action == "clear-exposure":
            report = visit_actions.clear_exposure(transport)
        else:
            report = visit_actions.clear_all(transport)
        _print(report.summary())
        return 1 if report.failed else 0
    finally:
        transport.close()

"""The whole-visit entries of the Claws menu: detect, commit, regions of every frame.

Each entry works on the visit `ds9claw.ds9.visit` finds (one exposure per image
frame) in one process, so Python and numpy start once, and reports one short line
per exposure as it goes (``progress``).  The observer's regions on the image frames
are only ever read, or added to: copies carry the tag ``ds9claw copy`` so that a new
copy replaces only the earlier copy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Ds9ClawError, InputError, NoIncludeRegionError
from . import actions
from .actions import _goto, _text
from .transport import Transport
from .visit import current_exposure, review, whole_visit
from .visit_state import Exposure, scan_visit, visit_state

__all__ = [
    "VisitReport",
    "clear_all",
    "clear_exposure",
    "commit_all",
    "detect_all",
]

_log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class VisitReport:
    """Lines of a whole-visit entry, and how many exposures failed."""

    title: str
    lines: list[str] = field(default_factory=list)
    failed: int = 0

    def summary(self) -> str:
        """The verdict first, then one line per exposure."""
        verdict = f"ds9claw: {self.title}" + (f" ({self.failed} failed)" if self.failed else "")
        return "\n".join([verdict, *self.lines])


def _quiet(_line: str) -> None:
    return None


def _regions(transport: Transport, system: str = "image") -> str:
    command = (
        "regions -format ds9 -system image"
        if system == "image"
        else "regions -format ds9 -system wcs -sky fk5"
    )
    return transport.get(command).decode(errors="replace")


# --------------------------------------------------------------------------- detect


def _warm_worker_and_visit(transport: Transport):
    """The detecting worker, already importing, and the visit (asked meanwhile)."""
    from concurrent.futures import ThreadPoolExecutor

    from .detect_compute import import_detection

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ds9claw-detect")
    pool.submit(import_detection)
    try:
        return pool, visit_state(transport)
    except BaseException:
        pool.shutdown(cancel_futures=True)
        raise


def _plan(transport: Transport, exposure: Exposure, **options):
    """Read one exposure's frame for Detect: (planned detection or None, line to say)."""
    from .detect_action import read_frame

    try:
        planned = read_frame(transport, goto=exposure.image, **options)
    except NoIncludeRegionError:
        return None, "skipped, no region drawn"
    except Ds9ClawError as error:
        return None, f"error: {error}"
    return planned, ""


def detect_all(
    transport: Transport,
    *,
    params=None,
    suffix: str | None = None,
    overwrite: bool = False,
    progress: Progress = _quiet,
) -> VisitReport:
    """Detect claws in every image frame that has an include region; review the first.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    params : ds9claw.detect.DetectionParameters, optional
        Detection parameters.
    suffix : str, optional
        Product suffix.
    overwrite : bool
        Allow replacing files ds9claw did not write at the product paths.
    progress : callable
        Called with one line per exposure as it is done.

    Returns
    -------
    VisitReport
    """
    from .detect_action import show_detection
    from .detect_compute import compute_detection

    pool, state = _warm_worker_and_visit(transport)
    view = state.view
    report = VisitReport(title="")
    done: list[int] = []
    total = len(state.exposures)
    if state.screen is not None and state.screen.tile == "yes":
        transport.set("tile no")  # one frame drawn at a time until the review

    def say(line: str) -> None:
        report.lines.append(line)
        progress(line)

    def finish(number: int, exposure: Exposure, planned, computing) -> None:
        head = f"[{number}/{total}] {exposure.name}\n      "
        try:
            known = {r: f for r, f in (("seed", exposure.seed), ("mask", exposure.mask)) if f}
            result = show_detection(
                transport, planned, computing.result(), layout=False, label=True, known=known
            )
        except Ds9ClawError as error:
            report.failed += 1
            say(f"{head}error: {error}")
        else:
            done.append(exposure.image)
            exposure.seed, exposure.mask = result.seed_frame, result.mask_frame
            say(
                f"{head}{result.n_masked} pixels masked in {result.n_regions} region(s), "
                f"rms {result.rms:.3g}"
            )

    # one exposure is computed (a worker thread) while DS9 shows the one before it
    pending = None
    with pool:
        for number, exposure in enumerate(state.exposures, start=1):
            head = f"[{number}/{total}] {exposure.name}\n      "
            planned, line = _plan(
                transport, exposure, params=params, suffix=suffix, overwrite=overwrite
            )
            if line.startswith("error"):
                report.failed += 1
            line = head + line if line else ""
            computing = pool.submit(compute_detection, planned) if planned else None
            if pending is not None:
                finish(*pending)
            pending = (number, exposure, planned, computing) if planned else None
            if line:
                say(line)
        if pending is not None:
            finish(*pending)
    report.title = f"detected claws in {len(done)} of {total} exposure(s)"
    _show_after_detect(transport, state, view, done, report)
    return report


def _show_after_detect(transport: Transport, state, view, done: list[int], report) -> None:
    """End of Detect claws in all frames: review the first exposure done (or the visit)."""
    if report.failed:  # a failed exposure may have left frames behind: look again
        state = scan_visit(transport)
    else:  # the exposures know their products: only DS9's frame order is asked again
        state.frames = [int(x) for x in _text(transport, "frame all").split() if x.isdigit()]
    state.view = view
    if done:
        first = state.exposure_of(done[0])
        assert first is not None
        review(transport, state, first)
        report.lines.append(f"reviewing {first.name} (Claws > Review next exposure for the next)")
    else:
        whole_visit(transport, state)
        report.lines.append(
            "no exposure has a region: draw a polygon around each claw (Edit > Region, then "
            "Region > Shape > Polygon, click and drag), then run this again"
        )


# --------------------------------------------------------------------------- commit


def commit_all(
    transport: Transport,
    *,
    rate_dir: str | Path | None = None,
    flags: str | int | None = None,
    dry_run: bool = False,
    progress: Progress = _quiet,
) -> VisitReport:
    """Commit the mask of every exposure that has one into its rate file's DQ.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    rate_dir : str or pathlib.Path, optional
        Directory of the rate files.
    flags : str or int, optional
        DQ bits.
    dry_run : bool
        Count only.
    progress : callable
        Called with one line per exposure.

    Returns
    -------
    VisitReport
        One table row per exposure: rate file, pixels flagged, backup.
    """
    state = visit_state(transport)
    here = current_exposure(transport, state)
    report = VisitReport(title="")
    committed = 0
    for exposure in state.exposures:
        if exposure.mask is None:
            line = f"{exposure.name}: no mask (run Detect first)"
        else:
            _goto(transport, exposure.image)
            try:
                outcome = actions.commit(transport, rate_dir=rate_dir, flags=flags, dry_run=dry_run)
            except Ds9ClawError as error:
                report.failed += 1
                line = f"{exposure.name}: error: {error}"
            else:
                r = outcome.report
                committed += r.status == "committed"
                backup = getattr(r, "backup", None)
                line = f"{Path(r.output).name}: {r.n_masked} pixels flagged ({r.status})" + (
                    f", backup {Path(backup).name}" if backup else ""
                )
        report.lines.append(line)
        progress(line)
    report.title = f"committed {committed} mask(s) of {len(state.exposures)} exposure(s)"
    restore_view(transport, state, here)
    return report


def restore_view(transport: Transport, state, here: Exposure) -> None:
    """Put back what was shown: the review of ``here`` or the whole visit."""
    fresh = scan_visit(transport)
    fresh.view = state.view
    if state.reviewing is not None:
        exposure = fresh.exposure_of(here.image) or fresh.exposures[0]
        review(transport, fresh, exposure)
    else:
        whole_visit(transport, fresh)


# --------------------------------------------------------------------------- clear


def clear_exposure(transport: Transport) -> VisitReport:
    """Delete the seed and mask frames of the current exposure; show the whole visit.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    VisitReport
    """
    state = visit_state(transport)
    exposure = current_exposure(transport, state)
    products = [f for f in (exposure.seed, exposure.mask) if f is not None]
    _goto(transport, exposure.image)
    for frame in products:
        transport.set(f"frame delete {frame}")
    fresh = scan_visit(transport)
    fresh.view = state.view
    if fresh.view is not None:
        fresh.view.current = exposure.image
    whole_visit(transport, fresh)
    listing = ", ".join(str(f) for f in products) or "none"
    return VisitReport(title=f"deleted the ds9claw frames of {exposure.name}: {listing}")


def clear_all(transport: Transport) -> VisitReport:
    """Delete every ds9claw frame; show the whole visit as the observer had it.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    VisitReport
    """
    try:
        state = visit_state(transport)
    except InputError:
        state = None
    cleared = actions.clear_frames(transport)
    line = cleared.summary().removeprefix("ds9claw: ")
    if state is not None and _text(transport, "frame all").split():
        fresh = scan_visit(transport)
        if fresh.exposures:
            fresh.view = state.view
            whole_visit(transport, fresh)
    return VisitReport(title=line)

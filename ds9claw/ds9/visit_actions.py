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

from ..errors import Ds9ClawError, InputError
from . import actions
from .actions import _count_shapes, _goto, _text
from .transport import Transport
from .visit import current_exposure, review, whole_visit
from .visit_detect import label_products
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


class _NoRelayout:
    """A transport that drops the tiling and zoom requests of single-frame Detect.

    During Detect claws in all frames DS9 is untiled and the layout is made once, by
    the review at the end: each ``tile``/``zoom to fit`` request of every exposure
    would re-lay out and redraw every frame of the visit.
    """

    _DROPPED = ("tile ", "zoom to fit", "tcl {update idletasks}")

    def __init__(self, transport: Transport):
        self._transport = transport
        self.target = getattr(transport, "target", "")

    def get(self, command: str) -> bytes:
        return self._transport.get(command)

    def set(self, command: str, data: bytes | None = None) -> None:
        if data is None and command.startswith(self._DROPPED):
            return
        self._transport.set(command, data)

    def close(self) -> None:  # the caller closes the real transport
        return None


def _regions(transport: Transport, system: str = "image") -> str:
    command = (
        "regions -format ds9 -system image"
        if system == "image"
        else "regions -format ds9 -system wcs -sky fk5"
    )
    return transport.get(command).decode(errors="replace")


# --------------------------------------------------------------------------- detect


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
    state = visit_state(transport)
    view = state.view
    report = VisitReport(title="")
    done: list[int] = []
    total = len(state.exposures)
    if _text(transport, "tile") == "yes":
        transport.set("tile no")  # one frame drawn at a time until the review
    quiet = _NoRelayout(transport)
    for number, exposure in enumerate(state.exposures, start=1):
        _goto(transport, exposure.image)
        n_include, _ = _count_shapes(_regions(transport))
        if n_include == 0:
            line = f"[{number}/{total}] {exposure.name}\n      skipped, no region drawn"
        else:
            try:
                result = actions.detect(quiet, params=params, suffix=suffix, overwrite=overwrite)
            except Ds9ClawError as error:
                report.failed += 1
                line = f"[{number}/{total}] {exposure.name}\n      error: {error}"
            else:
                done.append(exposure.image)
                line = (
                    f"[{number}/{total}] {exposure.name}\n      {result.n_masked} pixels "
                    f"masked in {result.n_regions} region(s), rms {result.rms:.3g}"
                )
        report.lines.append(line)
        progress(line)
    state = scan_visit(transport)
    state.view = view
    for exposure in state.exposures:
        if exposure.image in done:
            label_products(transport, exposure)
    report.title = f"detected claws in {len(done)} of {total} exposure(s)"
    if done:
        first = state.exposure_of(done[0])
        assert first is not None
        _goto(transport, first.image)
        review(transport, state, first)
        report.lines.append(f"reviewing {first.name} (Claws > Review next exposure for the next)")
    else:
        whole_visit(transport, state)
        report.lines.append(
            "no exposure has a region: draw a polygon around each claw (Edit > Region, then "
            "Region > Shape > Polygon, click and drag), then run this again"
        )
    return report


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

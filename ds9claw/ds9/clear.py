"""The Clear action: delete the seed and mask frames ds9claw made.

See `ds9claw.ds9.actions` for the DS9 facts these rely on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .frames import _current, _describe_frame, _frames, _goto, _role
from .transport import Transport

__all__ = ["ClearReport", "clear_for_menu", "clear_frames"]

_log = logging.getLogger(__name__)


@dataclass
class ClearReport:
    """What `clear_frames` did.

    Attributes
    ----------
    deleted : list of int
        Frames deleted.
    current : int or None
        The frame current afterwards.
    """

    deleted: list[int]
    current: int | None

    def summary(self) -> str:
        """One line telling the observer what happened."""
        if not self.deleted:
            return "ds9claw: no ds9claw frame to clear"
        listing = ", ".join(str(f) for f in self.deleted)
        return f"ds9claw: deleted {len(self.deleted)} ds9claw frame(s): {listing}"


def clear_frames(transport: Transport) -> ClearReport:
    """Delete every seed and mask frame made by ds9claw; untile when one frame is left.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    ClearReport
    """
    frames = _frames(transport)
    if not frames:
        return ClearReport(deleted=[], current=None)
    start = _current(transport)
    role, source = _role(transport)
    deleted: list[int] = []
    back = start
    for frame in frames:
        _goto(transport, frame)
        this_role, _this_source = _role(transport)
        if this_role in ("seed", "mask"):
            transport.set(f"frame delete {frame}")
            deleted.append(frame)
        elif (
            role in ("seed", "mask")
            and this_role is None
            and source
            and (_describe_frame(transport, frame).source_id == source)
        ):
            back = frame
    remaining = _frames(transport)
    current = None
    if remaining:
        current = back if back in remaining else remaining[0]
        _goto(transport, current)
        if len(remaining) == 1:
            transport.set("tile no")
    return ClearReport(deleted=deleted, current=current)


def clear_for_menu(transport: Transport):
    """The Clear entry: in a visit, the current exposure's frames only; else all of them.

    With several exposures open, deleting every exposure's seed and mask would undo a
    whole visit's detections at once: only the reviewed (current) exposure's are
    deleted (`ds9claw.ds9.visit_actions.clear_exposure`), and the observer's view of
    the visit comes back.  With one exposure this is `clear_frames`.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    ClearReport or ds9claw.ds9.visit_actions.VisitReport
        What was deleted (``summary()`` tells the observer).
    """
    from .visit_actions import clear_exposure
    from .visit_state import load_state

    # the visit ds9claw keeps in DS9 (every review and Detect saves it); reading it
    # visits no frame, and visiting a hidden frame would show it
    kept = load_state(transport)
    several = kept is not None and len(kept.exposures) > 1 and kept.frames == _frames(transport)
    return clear_exposure(transport) if several else clear_frames(transport)

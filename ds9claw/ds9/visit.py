"""The visit in DS9: which frames are exposures, which are their products, what is shown.

A visit is every image frame of a DS9 (one exposure per frame, as observers open
them: ``ds9 -lock frame image X1_cal.fits X2_cal.fits ...``).  The seed and mask
frames ds9claw makes (`ds9claw.ds9.actions`) belong to the exposure whose file they
came from (``CLAWSRCH``).  Product frames are kept out of the visit's tiling with
DS9's *active* frames (``frame hide``/``frame show``: an inactive frame is neither shown
nor tiled), except while one exposure is *reviewed*: then its image, seed and mask are
the only active frames, tiled side by side (``tile mode column``, three frames in one
row) and locked on the image.  `whole_visit` puts back what the observer had: the
active image frames, tile mode, zoom, pan, lock and current frame, saved the first
time a review started.

DS9 facts these rely on (checked against DS9 8.4.1):

* ``frame active`` answers the active frames; ``frame hide N``/``frame show N`` change
  them; ``frame N`` makes a hidden frame active again (so any action that visits the
  frames, as `ds9claw.ds9.actions` does, shows every frame: the visit view is applied
  again afterwards).
* ``tile grid layout 3 1`` makes DS9 exit when it has more than three frames, even with
  three active: ``tile mode column`` gives the 3 x 1 row instead.

The state (frames of each exposure, the observer's view, the exposure reviewed) is
kept inside DS9 (`ds9claw.ds9.visit_state`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from .actions import _goto, _text
from .transport import Transport
from .visit_state import (
    Exposure,
    VisitState,
    active_frames,
    save_state,
    visit_state,
)

__all__ = [
    "current_exposure",
    "review",
    "review_step",
    "whole_visit",
]

_log = logging.getLogger(__name__)


def _set_active(transport: Transport, wanted: Sequence[int], current: int) -> None:
    """Make exactly ``wanted`` active, with ``current`` (in ``wanted``) the current frame."""
    _goto(transport, current)
    active = set(active_frames(transport))
    for frame in wanted:
        if frame not in active:
            transport.set(f"frame show {frame}")
    for frame in sorted(active - set(wanted)):
        transport.set(f"frame hide {frame}")
    _goto(transport, current)


# --------------------------------------------------------------------------- views


def current_exposure(transport: Transport, state: VisitState) -> Exposure:
    """The exposure of the current frame (the first one when the frame is not in the visit).

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    state : VisitState
        The visit.

    Returns
    -------
    Exposure
    """
    answer = _text(transport, "frame")
    exposure = state.exposure_of(int(answer)) if answer.isdigit() else None
    return exposure or state.exposures[0]


def review(transport: Transport, state: VisitState, exposure: Exposure) -> None:
    """Show one exposure's image, seed and mask side by side; hide every other frame.

    The observer's view (``state.view``, see `visit_state`) is kept in DS9 with it.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    state : VisitState
        The visit (updated and kept in DS9).
    exposure : Exposure
        The exposure to review.
    """
    _set_active(transport, exposure.frames, exposure.image)
    if len(state.frames) <= 3:
        # a single exposure: the 3 x 1 grid Detect lays out (safe with three frames)
        if not (
            _text(transport, "tile mode") == "grid"
            and _text(transport, "tile grid mode") == "manual"
            and _text(transport, "tile grid layout") == "1"
        ):
            transport.set("tile mode grid")
            transport.set("tile grid mode manual")
            transport.set(f"tile grid layout {len(exposure.frames)} 1")
    elif _text(transport, "tile mode") != "column":
        transport.set("tile mode column")
    if _text(transport, "tile") != "yes":
        transport.set("tile yes")
    if _text(transport, "lock frame") != "image":
        transport.set("lock frame image")
    transport.set("tcl {update idletasks}")
    transport.set("zoom to fit")
    state.reviewing = exposure.image
    save_state(transport, state)


def review_step(transport: Transport, step: int) -> tuple[Exposure, VisitState]:
    """Review the next (``step=1``) or previous (``-1``) exposure of the visit.

    From the whole-visit view the review starts with the current frame's exposure.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    step : int
        +1 or -1; the visit wraps around.

    Returns
    -------
    tuple of (Exposure, VisitState)
        The exposure now reviewed.
    """
    state = visit_state(transport)
    here = current_exposure(transport, state)
    index = state.exposures.index(here)
    if state.reviewing is not None:
        index = (index + step) % len(state.exposures)
    exposure = state.exposures[index]
    review(transport, state, exposure)
    return exposure, state


def whole_visit(transport: Transport, state: VisitState | None = None) -> VisitState:
    """Show every image frame again, as the observer had them before the review.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    state : VisitState, optional
        The visit, when already known.

    Returns
    -------
    VisitState
    """
    state = state or visit_state(transport)
    images = [e.image for e in state.exposures]
    view = state.view
    current = view.current if view is not None and view.current in images else images[0]
    wanted = images
    if view is not None:
        # frames the observer had active and that are not products (e.g. an empty one)
        kept = [f for f in view.active if f in state.frames and f not in state.products]
        wanted = [f for f in state.frames if f in set(kept) | set(images)]
    _set_active(transport, wanted, current)
    if view is None:
        if _text(transport, "tile grid mode") != "automatic":
            transport.set("tile grid mode automatic")  # a manual 3 x 1 cannot hold them
        if _text(transport, "tile") != "yes":
            transport.set("tile yes")
        if _text(transport, "lock frame") != "image":
            transport.set("lock frame image")
    else:
        if _text(transport, "tile mode") != view.tile_mode:
            transport.set(f"tile mode {view.tile_mode}")
        if _text(transport, "tile grid mode") != view.grid_mode:
            transport.set(f"tile grid mode {view.grid_mode}")
        if _text(transport, "tile") != view.tile:
            transport.set(f"tile {view.tile}")
        if _text(transport, "lock frame") != view.lock:
            transport.set(f"lock frame {view.lock}")
        transport.set("tcl {update idletasks}")
        transport.set(f"zoom to {view.zoom}")
        if len(view.pan.split()) == 2:
            transport.set(f"pan to {view.pan} image")
    state.reviewing = None
    save_state(transport, state)
    return state

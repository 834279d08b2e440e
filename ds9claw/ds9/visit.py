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

from .command_batch import CommandBatch
from .transport import Transport
from .visit_state import (
    Exposure,
    View,
    VisitState,
    capture_view,
    save_state_command,
    visit_state,
)

__all__ = [
    "current_exposure",
    "review",
    "review_step",
    "whole_visit",
]

_log = logging.getLogger(__name__)


def _set_active(batch: CommandBatch, active: Sequence[int], wanted: Sequence[int], current: int):
    """Add to ``batch``: make exactly ``wanted`` active, ``current`` (in it) the current frame.

    ``active`` is DS9's active frames before; going to a hidden frame shows it.
    """
    batch.set(f"frame {current}")
    shown = set(active) | {current}
    for frame in wanted:
        if frame not in shown:
            batch.set(f"frame show {frame}")
    for frame in sorted(shown - set(wanted)):
        batch.set(f"frame hide {frame}")
    batch.set(f"frame {current}")


# --------------------------------------------------------------------------- views


def current_exposure(
    transport: Transport, state: VisitState, screen: View | None = None
) -> Exposure:
    """The exposure of the current frame (the first one when the frame is not in the visit).

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    state : VisitState
        The visit.
    screen : View, optional
        What DS9 shows, when already known (its current frame is used).

    Returns
    -------
    Exposure
    """
    if screen is not None:
        current = screen.current
    else:
        answer = transport.get("frame").decode(errors="replace").strip()
        current = int(answer) if answer.isdigit() else 0
    return state.exposure_of(current) or state.exposures[0]


def review(
    transport: Transport, state: VisitState, exposure: Exposure, screen: View | None = None
) -> None:
    """Show one exposure's image, seed and mask side by side; hide every other frame.

    One request (`CommandBatch`).  The observer's view (``state.view``, see
    `visit_state`) is kept in DS9 with it.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    state : VisitState
        The visit (updated and kept in DS9).
    exposure : Exposure
        The exposure to review.
    screen : View, optional
        What DS9 shows now, when just read (else it is asked).
    """
    screen = screen or capture_view(transport)
    batch = CommandBatch()
    _set_active(batch, screen.active, exposure.frames, exposure.image)
    if len(state.frames) <= 3:
        # a single exposure: the 3 x 1 grid Detect lays out (safe with three frames)
        if not (
            screen.tile_mode == "grid"
            and screen.grid_mode == "manual"
            and screen.grid_layout == "1"
        ):
            batch.set("tile mode grid")
            batch.set("tile grid mode manual")
            batch.set(f"tile grid layout {len(exposure.frames)} 1")
    elif screen.tile_mode != "column":
        batch.set("tile mode column")
    if screen.tile != "yes":
        batch.set("tile yes")
    if screen.lock != "image":
        batch.set("lock frame image")
    batch.set("tcl {update idletasks}")
    batch.set("zoom to fit")
    state.reviewing = exposure.image
    state.screen = None
    batch.set(save_state_command(state))
    batch.run(transport)


def review_step(transport: Transport, step: int) -> tuple[Exposure, VisitState]:
    """Review the next (``step=1``) or previous (``-1``) exposure of the visit.

    From the whole-visit view the review starts with the current frame's exposure.
    Two requests when DS9's frames are those the kept state describes.

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
    screen = state.screen
    here = current_exposure(transport, state, screen)
    index = state.exposures.index(here)
    if state.reviewing is not None:
        index = (index + step) % len(state.exposures)
    exposure = state.exposures[index]
    review(transport, state, exposure, screen)
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
    screen = capture_view(transport)
    images = [e.image for e in state.exposures]
    view = state.view
    current = view.current if view is not None and view.current in images else images[0]
    wanted = images
    if view is not None:
        # frames the observer had active and that are not products (e.g. an empty one)
        kept = [f for f in view.active if f in state.frames and f not in state.products]
        wanted = [f for f in state.frames if f in set(kept) | set(images)]
    batch = CommandBatch()
    _set_active(batch, screen.active, wanted, current)
    if view is None:
        if screen.grid_mode != "automatic":
            batch.set("tile grid mode automatic")  # a manual 3 x 1 cannot hold them
        if screen.tile != "yes":
            batch.set("tile yes")
        if screen.lock != "image":
            batch.set("lock frame image")
    else:
        if screen.tile_mode != view.tile_mode:
            batch.set(f"tile mode {view.tile_mode}")
        if screen.grid_mode != view.grid_mode:
            batch.set(f"tile grid mode {view.grid_mode}")
        if screen.tile != view.tile:
            batch.set(f"tile {view.tile}")
        if screen.lock != view.lock:
            batch.set(f"lock frame {view.lock}")
        batch.set("tcl {update idletasks}")
        batch.set(f"zoom to {view.zoom}")
        if len(view.pan.split()) == 2:
            batch.set(f"pan to {view.pan} image")
    state.reviewing = None
    state.screen = None
    batch.set(save_state_command(state))
    batch.run(transport)
    return state

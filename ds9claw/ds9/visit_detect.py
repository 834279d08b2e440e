"""The single-frame Detect in a visit: remember the view, review the exposure.

`before_detect` and `after_detect` are the hook the ``detect`` action calls around
`ds9claw.ds9.actions.detect`, so that "Detect claws" detects this exposure and
reviews it (`ds9claw.ds9.visit.review`).
"""

from __future__ import annotations

from ..errors import InputError
from .product_frames import LABEL_TAG
from .transport import Transport
from .visit import review
from .visit_state import Exposure, View, is_reviewing, read_screen, scan_visit

__all__ = ["LABEL_TAG", "after_detect", "before_detect"]


def before_detect(transport: Transport) -> View:
    """The observer's view, taken before a single-frame Detect changes the tiling.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    View
        What to go back to (the one saved when a review is on screen).
    """
    kept, _, screen = read_screen(transport)  # one request
    if kept is not None and kept.view is not None and is_reviewing(transport, kept, screen.active):
        return kept.view
    return screen


def after_detect(transport: Transport, image_frame: int, view: View | None) -> Exposure:
    """After a single-frame Detect: label its products and review that exposure.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    image_frame : int
        The frame detected in.
    view : View or None
        The observer's view saved by `before_detect`.

    Returns
    -------
    Exposure
        The exposure reviewed.
    """
    state = scan_visit(transport)
    state.view = view
    exposure = state.exposure_of(image_frame)
    if exposure is None:  # pragma: no cover - detect just used this frame
        raise InputError(f"frame {image_frame} is not an exposure of the visit")
    review(transport, state, exposure)
    return exposure

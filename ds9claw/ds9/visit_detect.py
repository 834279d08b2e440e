"""The single-frame Detect in a visit: remember the view, label the products, review.

`before_detect` and `after_detect` are the hook the ``detect`` action calls around
`ds9claw.ds9.actions.detect`, so that "Detect claws" detects this exposure and
reviews it (`ds9claw.ds9.visit.review`).
"""

from __future__ import annotations

from ..errors import InputError
from .actions import _goto, _text
from .transport import Transport
from .visit import review
from .visit_state import Exposure, View, capture_view, is_reviewing, load_state, scan_visit

__all__ = ["LABEL_TAG", "after_detect", "before_detect", "label_products"]

LABEL_TAG = "ds9claw label"


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
    kept = load_state(transport)
    if kept is not None and kept.view is not None and is_reviewing(transport, kept):
        return kept.view
    return capture_view(transport)


def label_products(transport: Transport, exposure: Exposure) -> None:
    """Write the exposure's name and the panel name into its seed and mask frames.

    A text region (tag ``ds9claw label``) at the top of each product frame; it is in
    snapshots too.  Regions of the image frame are not touched.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    exposure : Exposure
        With its seed and mask frames.
    """
    for frame, panel in ((exposure.seed, "seed"), (exposure.mask, "0/1 mask")):
        if frame is None:
            continue
        _goto(transport, frame)
        size = _text(transport, "fits size").split()
        if len(size) < 2 or not size[0].isdigit():
            continue
        width, height = int(size[0]), int(size[1])
        from ..names import stem_of

        name = stem_of(exposure.path) if exposure.path else exposure.name
        name = name.replace("{", "").replace("}", "")
        transport.set(f"regions group {{{LABEL_TAG}}} delete")
        common = f"color=yellow tag={{{LABEL_TAG}}} select=0 edit=0 move=0 delete=1"
        # two lines, so that the file name fits a tile of a 3 x 1 row
        region = (
            f"image; text({width / 2:.1f},{height * 0.96:.1f}) # text={{{panel}}} "
            f"font={{helvetica 10 bold roman}} {common}\n"
            f"image; text({width / 2:.1f},{height * 0.91:.1f}) # text={{{name}}} "
            f"font={{helvetica 8 normal roman}} {common}\n"
        )
        transport.set("regions", region.encode())


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
    label_products(transport, exposure)
    review(transport, state, exposure)
    return exposure

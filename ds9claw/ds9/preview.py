"""DS9's **Preview mosaic (before / after)** and **Close preview** entries.

`show_preview` collects the exposures shown in DS9's frames (frames loaded from a file
on disk that are not ds9claw frames) and, for each, the mask in its ds9claw mask frame
(the ``_zeroonemask`` file that Detect claws wrote; an exposure without a mask frame is
resampled as it is).  It runs `ds9claw.preview.preview_mosaics` and shows the before
and after mosaics in two new frames, tiled side by side (the other frames are hidden,
not closed), locked on WCS, with the zscale limits of the before mosaic in both, and
the holes drawn as red polygons.  The two frames carry ``CLAWROLE`` =
``preview-before`` / ``preview-after``; `close_preview` deletes them and shows the
hidden frames again.

DS9 8.4.1 facts used here: ``frame all`` lists hidden frames too, ``frame active``
only the shown ones; ``frame show`` into a full manual tile grid fails (``xx(2)``), so
the grid is made automatic first.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from .actions import (
    ROLE_KEY,
    SOURCE_NAME_KEY,
    FrameRef,
    _check_same_mask,
    _current,
    _describe_frame,
    _frames,
    _goto,
    _header_cards,
    _text,
    split_file_spec,
)
from .names import ds9_word
from .transport import Transport

__all__ = [
    "HOLES_TAG",
    "PREVIEW_ROLES",
    "ClosePreviewReport",
    "PreviewOutcome",
    "close_preview",
    "exposures_in_frames",
    "show_preview",
]

_log = logging.getLogger(__name__)

#: ``CLAWROLE`` of the two preview frames.
PREVIEW_ROLES = ("preview-before", "preview-after")
#: Region tag of the hole outlines.
HOLES_TAG = "ds9claw-holes"


@dataclass
class PreviewOutcome:
    """What `show_preview` showed.

    Attributes
    ----------
    frames : tuple of int
        The before and after frames.
    exposures : list of tuple
        ``(FrameRef, mask path or None)`` of every exposure resampled.
    pair : ds9claw.preview.MosaicPair
        The mosaics and the holes (the first filter's when there are several).
    notes : list of str
        Frames left out and why, other filters.
    """

    frames: tuple[int, int]
    exposures: list[tuple[FrameRef, Path | None]]
    pair: Any
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Lines for DS9's text window."""
        from ..holes import FILL_HOLES_SUGGESTION

        pair = self.pair
        ny, nx = pair.before.data.shape
        n_masked = sum(1 for _, mask in self.exposures if mask is not None)
        lines = [
            f"ds9claw: preview of {len(self.exposures)} exposures ({n_masked} with a mask)",
            f"  before in frame {self.frames[0]}, after in frame {self.frames[1]}",
            f"  {pair.product}, mosaic {nx} x {ny}, in {pair.elapsed:.1f} s",
            f"  {pair.report.summary()}",
        ]
        if pair.report.n_pixels:
            lines.append(f"  suggestion: {FILL_HOLES_SUGGESTION}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass
class ClosePreviewReport:
    """What `close_preview` did.

    Attributes
    ----------
    deleted : list of int
        Preview frames deleted.
    shown : list of int
        Hidden frames shown again.
    """

    deleted: list[int]
    shown: list[int]

    def summary(self) -> str:
        """One line for DS9's text window."""
        if not self.deleted:
            return "ds9claw: no preview frames to close"
        listing = ", ".join(map(str, self.deleted))
        return f"ds9claw: closed the preview (frames {listing}); {len(self.shown)} frames shown"


def exposures_in_frames(
    transport: Transport,
) -> tuple[list[tuple[FrameRef, Path | None]], list[str]]:
    """The exposures in DS9's frames and the mask file of each.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    exposures : list of tuple
        ``(FrameRef, mask path or None)`` in frame order.
    notes : list of str
        Frames left out and why.

    Raises
    ------
    InputError
        A mask frame has no file on disk, or its file differs from what it shows.
    """
    start = _current(transport) if _frames(transport) else None
    images: list[FrameRef] = []
    masks: dict[str, int] = {}
    notes: list[str] = []
    for frame in _frames(transport):
        _goto(transport, frame)
        cards = _header_cards(transport)
        role = cards.get(ROLE_KEY)
        if role == "mask" and cards.get("CLAWSRCH"):
            masks[cards["CLAWSRCH"]] = frame
        if role is not None:
            continue
        ref = _describe_frame(transport, frame)
        if ref.path is None:
            if ref.spec:
                notes.append(f"frame {frame} ({ref.spec}) is not a file on disk: left out")
            continue
        images.append(ref)
    exposures: list[tuple[FrameRef, Path | None]] = []
    for ref in images:
        mask_frame = masks.get(ref.source_id)
        mask_path = None
        if mask_frame is not None:
            _goto(transport, mask_frame)
            spec = _text(transport, "file")
            mask_path = Path(split_file_spec(spec)[0])
            if not mask_path.is_absolute() or not mask_path.is_file():
                raise InputError(
                    f"the mask of {ref.label} (frame {mask_frame}) has no file on disk: run "
                    "Claws > Detect claws again to write it"
                )
            _check_same_mask(transport.get("fits"), mask_path)
        else:
            notes.append(f"{ref.label} has no mask frame: resampled as it is")
        exposures.append((ref, mask_path))
    if start is not None:
        _goto(transport, start)
    return exposures, notes


def show_preview(
    transport: Transport,
    *,
    pixel_scale_ratio: float = 1.0,
    pixmap_stepsize: float = 1.0,
    quick: bool = False,
    progress=None,
) -> PreviewOutcome:
    """Resample the exposures in DS9's frames with and without their masks; show both.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    pixel_scale_ratio, pixmap_stepsize, quick
        As for `ds9claw.preview.preview_mosaics`.
    progress : callable, optional
        Called with a description of each step.

    Returns
    -------
    PreviewOutcome

    Raises
    ------
    InputError
        No exposure in the frames, none with a mask, or the cal files cannot be
        resampled (no gwcs ...).
    """
    from ..preview import preview_mosaics

    close_preview(transport, show_hidden=False)
    exposures, notes = exposures_in_frames(transport)
    if not exposures:
        raise InputError(
            "no exposure in DS9's frames: open the *_cal.fits files of the visit (File > Open)"
        )
    if all(mask is None for _, mask in exposures):
        raise InputError(
            "no exposure in DS9 has a claw mask yet: run Claws > Detect claws on them first"
        )
    mapping = {ref.path: [mask] if mask else [] for ref, mask in exposures}
    pairs = preview_mosaics(
        [ref.path for ref, _ in exposures],
        mapping,
        pixel_scale_ratio=pixel_scale_ratio,
        pixmap_stepsize=pixmap_stepsize,
        quick=quick,
        progress=progress,
    )
    pair = pairs[0]
    for other in pairs[1:]:
        notes.append(
            f"{len(other.inputs)} exposures of {other.filter} not shown (one filter at a time): "
            f"{other.report.summary()}"
        )
    frames = _show_pair(transport, pair)
    return PreviewOutcome(frames=frames, exposures=exposures, pair=pair, notes=notes)


def _active(transport: Transport) -> set[int]:
    return {int(x) for x in _text(transport, "frame active").split() if x.isdigit()}


def _mosaic_fits(model: Any, role: str, product: str) -> bytes:
    import numpy as np
    from astropy.io import fits

    from ..preview_io import mosaic_header

    header = mosaic_header(model)
    header[ROLE_KEY] = (role, "ds9claw preview frame")
    header[SOURCE_NAME_KEY] = (product[:68], "mosaic product")
    buffer = io.BytesIO()
    fits.PrimaryHDU(np.asarray(model.data, dtype=np.float32), header=header).writeto(buffer)
    return buffer.getvalue()


def _show_pair(transport: Transport, pair: Any) -> tuple[int, int]:
    from ..region_trace import mask_to_polygons, polygons_to_ds9

    if _text(transport, "tile") == "yes":
        transport.set("tile grid mode automatic")  # a full manual grid breaks 'frame new'
    made = []
    for role, model in zip(PREVIEW_ROLES, (pair.before, pair.after), strict=True):
        transport.set("frame new")
        frame = _current(transport)
        made.append(frame)
        name = f"{pair.product}_{role.split('-')[1]}_i2d.fits"
        transport.set(
            f"fits {ds9_word(name, what=f'{role} frame')}", _mosaic_fits(model, role, pair.product)
        )
    for frame in sorted(_active(transport)):
        if frame not in made:
            transport.set(f"frame hide {frame}")
    transport.set("tile mode grid")
    transport.set("tile grid mode manual")
    transport.set("tile grid layout 2 1")
    transport.set("tile yes")
    holes_text = ""
    if pair.report.n_pixels:
        polygons = mask_to_polygons(pair.holes, tolerance=0.5, min_pixels=1)
        holes_text = polygons_to_ds9(polygons, color="red").replace(
            "# text={ds9claw}", f"# tag={{{HOLES_TAG}}}"
        )
    for frame in made:
        _goto(transport, frame)
        transport.set("scale linear")
        transport.set("scale mode zscale")
        if holes_text:
            transport.set("regions", holes_text.encode())
    _goto(transport, made[0])
    transport.set("lock scalelimits yes")  # the after frame takes the before's limits
    transport.set("lock frame wcs")
    transport.set("tcl {update idletasks}")
    transport.set("zoom to fit")
    return made[0], made[1]


def close_preview(transport: Transport, *, show_hidden: bool = True) -> ClosePreviewReport:
    """Delete the preview frames and show the frames the preview hid.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    show_hidden : bool
        Show the hidden frames again (False: only delete the preview frames).

    Returns
    -------
    ClosePreviewReport
    """
    frames = _frames(transport)
    if not frames:
        return ClosePreviewReport(deleted=[], shown=[])
    start = _current(transport)
    # going to a hidden frame (to read its header) shows it: note which were hidden
    hidden = set(frames) - _active(transport)
    deleted = []
    if _text(transport, "tile") == "yes":
        transport.set("tile grid mode automatic")  # 'frame show' into a full grid fails
    for frame in frames:
        _goto(transport, frame)
        if _header_cards(transport).get(ROLE_KEY) in PREVIEW_ROLES:
            transport.set(f"frame delete {frame}")
            deleted.append(frame)
    shown: list[int] = []
    if deleted:
        transport.set("lock scalelimits no")
        transport.set("lock frame none")
        shown = sorted(hidden - set(deleted))
        if show_hidden:
            active = _active(transport)
            for frame in shown:
                if frame not in active:
                    transport.set(f"frame show {frame}")
        else:
            shown = []
    remaining = _frames(transport)
    if remaining:
        _goto(transport, start if start in remaining else remaining[0])
        if len(remaining) == 1 and show_hidden:
            transport.set("tile no")
    return ClosePreviewReport(deleted=deleted, shown=shown)

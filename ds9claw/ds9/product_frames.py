"""Seed and mask frames: where they go (right after their image), how they are tiled and shown.

Used by the Detect claws action (`ds9claw.ds9.detect_action`).  See `ds9claw.ds9.actions`
for the DS9 facts these rely on.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from .frames import (
    ROLE_KEY,
    SOURCE_KEY,
    SOURCE_NAME_KEY,
    FrameRef,
    _current,
    _frames,
    _goto,
    _move,
    _product_frames,
    _text,
)
from .names import ds9_word
from .transport import Transport

__all__ = ["show_products"]


def _frame_fits(data, header, role: str, ref: FrameRef) -> bytes:
    from astropy.io import fits

    hdr = fits.Header()
    if header is not None:
        for card in header.cards:
            if card.keyword in ("", "COMMENT", "HISTORY"):
                continue
            try:
                hdr.append(card)
            except (ValueError, KeyError):  # pragma: no cover - odd cards
                continue
    hdr[ROLE_KEY] = (role, "ds9claw frame: seed or mask")
    hdr[SOURCE_KEY] = (ref.source_id, "ds9claw: id of the image frame's file")
    hdr[SOURCE_NAME_KEY] = (ref.path.name if ref.path else ref.spec or f"frame {ref.frame}")[:60]
    hdu = fits.PrimaryHDU(data=data, header=hdr)
    buffer = io.BytesIO()
    hdu.writeto(buffer, output_verify="silentfix")
    return buffer.getvalue()


def _place_product_frames(
    transport: Transport, ref: FrameRef, order: list[int], found: dict[str, int], tiled: bool
) -> list[int]:
    """Make the missing seed/mask frames and put them right after the image; new order."""
    if len(found) != 2 and tiled:
        # DS9 fails to lay out a new frame in a manual grid that is full (xx(3) error)
        transport.set("tile grid mode automatic")
    for role in ("seed", "mask"):
        if role not in found:
            transport.set("frame new")
            found[role] = _current(transport)
            order.append(found[role])
    for frame, after in ((found["seed"], ref.frame), (found["mask"], found["seed"])):
        if order.index(frame) != order.index(after) + 1:
            _move(transport, frame, after)
            order = _frames(transport)
    return order


def _tile(transport: Transport, n_frames: int, *, reused: bool, tiled: bool) -> tuple[bool, str]:
    """Tile 3 x 1 (or automatically with more frames); return (laid out again, grid mode).

    Each tile command re-lays out and redraws every frame (30-40 ms for three
    2048 x 2048 frames): they are sent only when the layout is not already ours.
    """
    grid = "manual" if n_frames == 3 else "automatic"
    if (
        reused
        and tiled
        and _text(transport, "tile mode") == "grid"
        and _text(transport, "tile grid mode") == grid
        # DS9 answers only the row count of 'tile grid layout'
        and (grid == "automatic" or _text(transport, "tile grid layout") == "1")
    ):
        return False, grid
    transport.set("tile mode grid")
    transport.set(f"tile grid mode {grid}")
    if grid == "manual":
        transport.set("tile grid layout 3 1")
    transport.set("tile yes")
    return True, grid


def _load_products(
    transport: Transport,
    found: dict[str, int],
    payloads: tuple[bytes, bytes],
    names: tuple[str, str],
    *,
    reused: bool,
) -> None:
    for role, payload, name in zip(("seed", "mask"), payloads, names, strict=True):
        _goto(transport, found[role])
        # scale an empty new frame first, so DS9 draws the data once; a reused frame
        # keeps the scale it was given (each change redraws 2048 x 2048 pixels)
        if not reused or _text(transport, "scale mode") != "minmax":
            transport.set("scale linear")
            transport.set("scale mode minmax")
        transport.set(f"fits {ds9_word(name, what=f'{role} frame')}", payload)


def _back_to_image(transport: Transport, ref: FrameRef, *, relaid: bool) -> None:
    _goto(transport, ref.frame)
    if _text(transport, "scale mode") != "zscale":
        transport.set("scale mode zscale")
    if _text(transport, "lock frame") != "image":
        transport.set("lock frame image")
    if relaid:
        # let DS9 lay the frames out before it computes the zoom that fits them
        transport.set("tcl {update idletasks}")
    transport.set("zoom to fit")


def show_products(
    transport: Transport,
    ref: FrameRef,
    seed_bytes: bytes,
    mask_bytes: bytes,
    *,
    names: tuple[str, str],
    frames: Sequence[int] | None = None,
) -> tuple[int, int, bool, list[str]]:
    """Show seed and mask in the two frames after the image frame; return to the image frame.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    ref : FrameRef
        The image frame.
    seed_bytes, mask_bytes : bytes
        FITS files to show (with ``CLAWROLE``/``CLAWSRCH`` keywords).
    names : tuple of str
        File names DS9 shows for the two frames.
    frames : sequence of int, optional
        DS9's frame order if already known.

    Returns
    -------
    seed_frame, mask_frame : int
    reused : bool
    notes : list of str
    """
    notes: list[str] = []
    order = list(frames) if frames is not None else _frames(transport)
    found = _product_frames(transport, ref, order)
    reused = len(found) == 2
    tiled = _text(transport, "tile") == "yes"
    order = _place_product_frames(transport, ref, order, found, tiled)
    relaid, grid = _tile(transport, len(order), reused=reused, tiled=tiled)
    relaid = relaid or not reused
    if grid == "automatic":
        notes.append(
            f"DS9 has {len(order)} frames: tiled automatically (the 3 x 1 layout needs exactly 3)"
        )
    _load_products(transport, found, (seed_bytes, mask_bytes), names, reused=reused)
    _back_to_image(transport, ref, relaid=relaid)
    return found["seed"], found["mask"], reused, notes

"""Seed and mask frames: where they go (right after their image), how they are tiled and shown.

Used by the Detect claws action (`ds9claw.ds9.detect_action`).  See `ds9claw.ds9.actions`
for the DS9 facts these rely on.  Everything is sent in three requests
(`ds9claw.ds9.command_batch`): what DS9 shows and where the frames are; the new
frames, when needed; then their order, the tiling, the two images and the view.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from ..errors import TransportError
from .command_batch import CommandBatch
from .frames import (
    ROLE_KEY,
    SOURCE_KEY,
    SOURCE_NAME_KEY,
    FrameRef,
    _frames,
    found_products,
    product_queries,
)
from .names import ds9_word
from .transport import Transport

__all__ = ["LABEL_TAG", "label_region", "show_products"]

#: Tag of the labels in seed and mask frames (``regions group {ds9claw label} delete``).
LABEL_TAG = "ds9claw label"


def label_region(width: int, height: int, panel: str, name: str) -> str:
    """DS9 region text labelling a product frame: the panel name, the exposure's name.

    Two text regions at the top of a ``width`` x ``height`` frame (tag `LABEL_TAG`,
    not selectable); they are in snapshots too.
    """
    name = name.replace("{", "").replace("}", "")
    common = f"color=yellow tag={{{LABEL_TAG}}} select=0 edit=0 move=0 delete=1"
    # two lines, so that the file name fits a tile of a 3 x 1 row
    return (
        f"image; text({width / 2:.1f},{height * 0.96:.1f}) # text={{{panel}}} "
        f"font={{helvetica 10 bold roman}} {common}\n"
        f"image; text({width / 2:.1f},{height * 0.91:.1f}) # text={{{name}}} "
        f"font={{helvetica 8 normal roman}} {common}\n"
    )


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


def _ints(answer: str | None) -> list[int]:
    return [int(x) for x in (answer or "").split() if x.isdigit()]


def _move_steps(batch: CommandBatch, order: list[int], frame: int, after: int) -> list[int]:
    """Add the moves that put ``frame`` right after ``after``; return the order then.

    DS9's own Frame > Move Frame procedures (the XPA ``frame move`` only goes to a frame)
    move the current frame one place.
    """
    order = list(order)
    while order.index(frame) != order.index(after) + 1:
        i, j = order.index(frame), order.index(after)
        step = -1 if i > j + 1 else 1
        batch.set(f"frame {frame}")
        batch.set("tcl {MovePrevFrame}" if step < 0 else "tcl {MoveNextFrame}")
        order[i], order[i + step] = order[i + step], order[i]
    return order


def _new_frames(transport: Transport, missing: list[str], *, tiled: bool) -> tuple[dict, list]:
    """Make a frame for each missing role (one request); return them and DS9's order."""
    batch = CommandBatch()
    if tiled:
        # DS9 fails to lay out a new frame in a manual grid that is full (xx(3) error)
        batch.set("tile grid mode automatic")
    made = {}
    for role in missing:
        batch.set("frame new")
        made[role] = batch.get("frame")
    order = batch.get("frame all")
    answers = batch.run(transport)
    return {role: int(answers[i] or 0) for role, i in made.items()}, _ints(answers[order])


def _layout_steps(batch: CommandBatch, screen: dict[str, str], n_frames: int, reused: bool):
    """Add the 3 x 1 tiling (or automatic with more frames); return (laid out, grid mode).

    Each tile command re-lays out and redraws every frame: they are sent only when the
    layout is not already ours.
    """
    grid = "manual" if n_frames == 3 else "automatic"
    if (
        reused
        and screen["tile"] == "yes"
        and screen["tile mode"] == "grid"
        and screen["tile grid mode"] == grid
        # DS9 answers only the row count of 'tile grid layout'
        and (grid == "automatic" or screen["tile grid layout"] == "1")
    ):
        return False, grid
    batch.set("tile mode grid")
    batch.set(f"tile grid mode {grid}")
    if grid == "manual":
        batch.set("tile grid layout 3 1")
    batch.set("tile yes")
    return True, grid


def show_products(
    transport: Transport,
    ref: FrameRef,
    seed_bytes: bytes,
    mask_bytes: bytes,
    *,
    names: tuple[str, str],
    frames: Sequence[int] | None = None,
    layout: bool = True,
    label: tuple[int, int, str] | None = None,
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
    layout : bool
        Tile 3 x 1 and zoom to fit (off while a whole visit is detected: the review at
        the end lays it out once).
    label : tuple of (int, int, str), optional
        Width, height and exposure name: write `label_region` into both frames.

    Returns
    -------
    seed_frame, mask_frame : int
    reused : bool
    notes : list of str
    """
    notes: list[str] = []
    order = list(frames) if frames is not None else _frames(transport)
    ask = CommandBatch()
    keys = ("tile", "tile mode", "tile grid mode", "tile grid layout", "lock frame")
    asked_screen = {key: ask.get(key) for key in keys}
    asked = product_queries(ask, ref, order)
    product_scales = {frame: ask.get("scale mode") for frame, _, _ in asked}
    ask.set(f"frame {ref.frame}")
    image_scale = ask.get("scale mode")
    answers = ask.run(transport)
    screen = {key: answers[i] or "" for key, i in asked_screen.items()}
    found = found_products(answers, asked, ref)
    reused = len(found) == 2
    missing = [role for role in ("seed", "mask") if role not in found]
    if missing:
        made, order = _new_frames(transport, missing, tiled=screen["tile"] == "yes")
        found.update(made)
    batch = CommandBatch()
    expected = _move_steps(batch, order, found["seed"], ref.frame)
    expected = _move_steps(batch, expected, found["mask"], found["seed"])
    relaid, grid = (False, "") if not layout else _layout_steps(batch, screen, len(order), reused)
    relaid = relaid or not reused
    if grid == "automatic":
        notes.append(
            f"DS9 has {len(order)} frames: tiled automatically (the 3 x 1 layout needs exactly 3)"
        )
    for role, payload, name in zip(("seed", "mask"), (seed_bytes, mask_bytes), names, strict=True):
        batch.set(f"frame {found[role]}")
        # scale an empty new frame first, so DS9 draws the data once; a reused frame
        # keeps the scale it was given
        scale = product_scales.get(found[role])
        if not reused or scale is None or answers[scale] != "minmax":
            batch.set("scale linear")
            batch.set("scale mode minmax")
        batch.set(f"fits {ds9_word(name, what=f'{role} frame')}", payload)
        if label is not None:
            width, height, exposure_name = label
            panel = "seed" if role == "seed" else "0/1 mask"
            batch.set(f"regions group {{{LABEL_TAG}}} delete")
            batch.set("regions", label_region(width, height, panel, exposure_name).encode())
    batch.set(f"frame {ref.frame}")
    if answers[image_scale] != "zscale":
        batch.set("scale mode zscale")
    if screen["lock frame"] != "image":
        batch.set("lock frame image")
    if layout:
        if relaid:
            # let DS9 lay the frames out before it computes the zoom that fits them
            batch.set("tcl {update idletasks}")
        batch.set("zoom to fit")
    final = batch.get("frame all")
    got = _ints(batch.run(transport)[final])
    if got != expected:
        raise TransportError(
            f"DS9 put the seed and mask frames of {ref.label} at {got}, not {expected}; "
            "was a frame added or deleted meanwhile? Run Detect claws again"
        )
    return found["seed"], found["mask"], reused, notes

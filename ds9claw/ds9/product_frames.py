"""Seed and mask frames: where they go (right after their image), how they are tiled and shown.

Used by the Detect claws action (`ds9claw.ds9.detect_action`).  See `ds9claw.ds9.actions`
for the DS9 facts these rely on.  Everything is sent in two requests
(`ds9claw.ds9.command_batch`): what DS9 shows and where the frames are; then the new
frames (numbered as DS9 numbers them, checked), their order, the tiling, the two images
and the view.
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


def _order_with_products(order: Sequence[int], image: int, seed: int, mask: int) -> list[int]:
    """DS9's frame order with seed and mask moved right after the image frame."""
    rest = [f for f in order if f not in (seed, mask)]
    at = rest.index(image) + 1
    return [*rest[:at], seed, mask, *rest[at:]]


def _reorder_command(order: Sequence[int]) -> str:
    """The ``tcl`` command that gives DS9's frames ``order`` in one step.

    What DS9's own Frame > Move Frame procedures (``MovePrevFrame``) do one place at a
    time: rewrite the frame list ``ds9(frames)`` (frame N is ``FrameN``), then update the
    Frame menu and the active frames.  It refuses when DS9's frames are not the ones
    expected (a frame was added or deleted meanwhile).
    """
    names = " ".join(f"Frame{f}" for f in order)
    return (
        f"tcl {{set __ds9claw_order {{{names}}}; "
        "if {[lsort $::ds9(frames)] ne [lsort $__ds9claw_order]} "
        "{error {DS9's frames changed meanwhile: run Detect claws again}}; "
        "set ::ds9(frames) $__ds9claw_order; UpdateFrameMenuItems; UpdateActiveFrames}"
    )


#: DS9 names a new frame ``Frame$ds9(seq)`` and then counts ``ds9(seq)`` up
#: (``CreateNamedFrame`` in DS9's library/frame.tcl): the next frame numbers are known.
_NEXT_FRAME = "set ::ds9(seq)"


def _new_frame_steps(
    batch: CommandBatch, missing: list[str], next_frame: int, *, tiled: bool
) -> dict[str, int]:
    """Add a new frame for each missing role; return the numbers DS9 will give them.

    Each new frame is checked in DS9 before anything is loaded into it: the batch stops
    if DS9 numbered it otherwise.
    """
    if tiled and missing:
        # DS9 fails to lay out a new frame in a manual grid that is full (xx(3) error)
        batch.set("tile grid mode automatic")
    made = {}
    for offset, role in enumerate(missing):
        made[role] = number = next_frame + offset
        batch.set("frame new")
        batch.set(
            f'tcl {{if {{$::current(frame) ne "Frame{number}"}} {{error "DS9 numbered the '
            f'new {role} frame [string range $::current(frame) 5 end], not {number}: '
            'delete it (Claws > Clear ds9claw frames) and run Detect claws again"}}'
        )
    return made


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


def _ask_frames(
    transport: Transport, ref: FrameRef, order: list[int], known: dict[str, int] | None
) -> tuple[dict[str, str], dict[str, int], dict[int, str]]:
    """One request: what DS9 shows, the image's seed and mask frames, their scale modes.

    Returns (screen settings, found frames by role, scale mode by frame); the image
    frame is the current frame afterwards.
    """
    ask = CommandBatch()
    keys = ("tile", "tile mode", "tile grid mode", "tile grid layout", "lock frame")
    asked_screen = {key: ask.get(key) for key in keys}
    asked_screen["next frame"] = ask.tcl_value(_NEXT_FRAME)
    # the order now: in a visit, the frames of the exposure before were made meanwhile
    asked_screen["frame all"] = ask.get("frame all")
    if known is None:
        asked = product_queries(ask, ref, order)
        asked_scales = {frame: ask.get("scale mode") for frame, _, _ in asked}
    else:
        asked, asked_scales = [], {}
        for frame in known.values():
            ask.set(f"frame {frame}")
            asked_scales[frame] = ask.get("scale mode")
    ask.set(f"frame {ref.frame}")
    asked_scales[ref.frame] = ask.get("scale mode")
    answers = ask.run(transport)
    screen = {key: answers[i] or "" for key, i in asked_screen.items()}
    found = found_products(answers, asked, ref) if known is None else dict(known)
    return screen, found, {frame: answers[i] or "" for frame, i in asked_scales.items()}


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
    known: dict[str, int] | None = None,
) -> tuple[int, int, bool, list[str]]:
    """Show seed and mask in the two frames after the image frame; return to the image frame.

    Without ``layout`` the mask frame may stay the current frame.

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
    known : dict, optional
        The image's seed and mask frames when the caller knows them (``{}``: none yet),
        so that the other frames need not be asked.

    Returns
    -------
    seed_frame, mask_frame : int
    reused : bool
    notes : list of str
    """
    notes: list[str] = []
    order = list(frames) if frames is not None else _frames(transport)
    screen, found, scales = _ask_frames(transport, ref, order, known)
    reused = len(found) == 2
    missing = [role for role in ("seed", "mask") if role not in found]
    batch = CommandBatch()
    made = _new_frame_steps(
        batch, missing, int(screen["next frame"] or 0), tiled=screen["tile"] == "yes"
    )
    found.update(made)
    order = _ints(screen["frame all"]) + [made[role] for role in missing]
    expected = _order_with_products(order, ref.frame, found["seed"], found["mask"])
    if expected != order:
        batch.set(_reorder_command(expected))
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
        if not reused or scales.get(found[role]) != "minmax":
            batch.set("scale linear")
            batch.set("scale mode minmax")
        batch.set(f"fits {ds9_word(name, what=f'{role} frame')}", payload)
        if label is not None:
            width, height, exposure_name = label
            panel = "seed" if role == "seed" else "0/1 mask"
            batch.set(f"regions group {{{LABEL_TAG}}} delete")
            batch.set("regions", label_region(width, height, panel, exposure_name).encode())
    if layout or scales[ref.frame] != "zscale":
        # without the layout (a whole visit) the next exposure's frame comes next: going
        # back would only make DS9 draw this image again
        batch.set(f"frame {ref.frame}")
    if scales[ref.frame] != "zscale":
        batch.set("scale mode zscale")
    if screen["lock frame"] != "image":
        batch.set("lock frame image")
    if layout:
        if relaid:
            # let DS9 lay the frames out before it computes the zoom that fits them
            batch.set("tcl {update idletasks}")
        batch.set("zoom to fit")
    final = batch.get("frame all")
    answers = batch.run(transport)
    got = _ints(answers[final])
    if got != expected:
        raise TransportError(
            f"DS9 put the seed and mask frames of {ref.label} at {got}, not {expected}; "
            "was a frame added or deleted meanwhile? Run Detect claws again"
        )
    return found["seed"], found["mask"], reused, notes

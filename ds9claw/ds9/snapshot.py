"""The Save snapshot action: the three-panel view as PNG and EPS, with labels.

In a visit (several exposures open) only the exposure of the current frame is saved:
it is reviewed for the snapshot (its image, seed and mask alone) and the view the
observer had comes back afterwards.  Each panel carries a label while DS9 saves it
(text regions tagged ``ds9claw-label``: the file name over the image, ``seed``,
``0/1 mask``); the labels are deleted afterwards, other regions are left as they are.

See `ds9claw.ds9.actions` for the DS9 facts these rely on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, TransportError
from ..names import snapshot_base
from ..safeio import atomic_write
from .frames import FrameRef, _frames, _goto, _product_frames, _text, image_frame
from .names import check_ds9_name, ds9_word
from .transport import Transport

__all__ = ["LABEL_TAG", "SnapshotReport", "snapshot"]

#: Tag of the label regions drawn for the snapshot (deleted right after it).
LABEL_TAG = "ds9claw-label"  # one word: DS9's "regions group TAG delete" takes no braces

_log = logging.getLogger(__name__)


@dataclass
class SnapshotReport:
    """What `snapshot` wrote.

    Attributes
    ----------
    image : FrameRef
        The image frame.
    paths : list of pathlib.Path
        Files written (PNG, EPS).
    """

    image: FrameRef
    paths: list[Path]

    def summary(self) -> str:
        """Lines telling the observer what happened."""
        return (
            "ds9claw: saved the view of "
            + self.image.label
            + "\n"
            + "\n".join(f"  wrote {p}" for p in self.paths)
        )


def snapshot(
    transport: Transport,
    *,
    output: str | Path | None = None,
    formats: Sequence[str] = ("png", "eps"),
    width: int = 1200,
    height: int = 350,
) -> SnapshotReport:
    """Save the three-panel view as ``<stem>_claws.png`` (and ``.eps``) beside the image.

    DS9's canvas is set to ``width`` x ``height`` for the snapshot (the size of the
    command this replaces) and put back afterwards.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    output : str or pathlib.Path, optional
        Base name (without extension) of the files; default ``<dir>/<stem>_claws``
        beside the image file.
    formats : sequence of str
        ``png``, ``eps`` (any of DS9's ``saveimage`` formats but ``fits``).
    width, height : int
        Canvas size for the snapshot in screen pixels.

    Returns
    -------
    SnapshotReport

    Raises
    ------
    InputError
        No file to name the snapshot after and no ``output``, or no seed/mask frames.
    """
    ref = image_frame(transport)
    found = _product_frames(transport, ref, _frames(transport))  # ends on the image frame
    if len(found) < 2:
        raise InputError(f"no seed and mask frames for {ref.label}: run Claws > Detect claws first")
    if output is None:
        if ref.path is None:
            raise InputError(
                f"DS9 {ref.label} has no file to name the snapshot after: give --output BASE"
            )
        base = snapshot_base(ref.path)
    else:
        base = Path(output).expanduser()
        if base.suffix.lower() in {"." + f for f in formats}:
            base = base.with_suffix("")
    check_ds9_name(base, what="snapshot file")  # DS9 is given its name to write it
    base.parent.mkdir(parents=True, exist_ok=True)
    panels = [
        (ref.frame, f"image: {ref.path.name}{ref.ext}" if ref.path else ref.label),
        (found["seed"], "seed"),
        (found["mask"], "0/1 mask"),
    ]
    with _only_this_exposure(transport, ref.frame), _labels(transport, panels):
        paths = _save(transport, base, formats, width=width, height=height)
    _goto(transport, ref.frame)
    return SnapshotReport(image=ref, paths=paths)


def _save(
    transport: Transport, base: Path, formats: Sequence[str], *, width: int, height: int
) -> list[Path]:
    old_w, old_h = _text(transport, "width"), _text(transport, "height")
    paths: list[Path] = []
    try:
        transport.set(f"width {int(width)}")
        transport.set(f"height {int(height)}")
        # lay the canvas out at its new size before fitting; bring DS9 to the front so
        # that the window grab of 'saveimage png' sees no other window over it
        transport.set("tcl", b"update idletasks\nraise $ds9(top)\nupdate idletasks\n")
        transport.set("zoom to fit")
        for fmt in formats:
            fmt = fmt.lower()
            if fmt == "png":
                # Debian's DS9 does not load the Tk package that grabs the window
                transport.set("tcl {catch {package require img::window}}")
            path = base.parent / f"{base.name}.{fmt}"
            # DS9 writes into a temporary file ds9claw created (O_EXCL, random name, never
            # a link), which is checked again before it is renamed into place
            with atomic_write(path) as tmp:
                transport.set(f"saveimage {fmt} {ds9_word(tmp, what='snapshot file')}")
                if not tmp.is_file() or tmp.stat().st_size == 0:
                    raise TransportError(f"DS9 did not write the {fmt} snapshot {path}")
            paths.append(path)
    finally:
        if old_w.isdigit() and old_h.isdigit():
            transport.set(f"width {old_w}")
            transport.set(f"height {old_h}")
            transport.set("tcl {update idletasks}")
            transport.set("zoom to fit")
    return paths


@contextmanager
def _only_this_exposure(transport: Transport, image: int) -> Iterator[None]:
    """In a visit, review the exposure of ``image`` for the snapshot; then put the view back."""
    from .visit import review, whole_visit
    from .visit_state import visit_state

    if len(_frames(transport)) <= 3:  # one exposure: the view is already its three panels
        yield
        return
    state = visit_state(transport)
    exposure = state.exposure_of(image)
    before = state.reviewing
    if exposure is None or before == exposure.image:
        yield
        return
    review(transport, state, exposure)
    try:
        yield
    finally:
        if before is None:
            whole_visit(transport, state)
        else:
            earlier = state.exposure_of(before)
            if earlier is not None:
                review(transport, state, earlier)


@contextmanager
def _labels(transport: Transport, panels: Sequence[tuple[int, str]]) -> Iterator[None]:
    """Draw a label near the top of each panel's frame; delete the labels afterwards."""
    drawn: list[int] = []
    try:
        for frame, text in panels:
            _goto(transport, frame)
            size = _text(transport, "fits size").split()
            if len(size) != 2 or not all(v.isdigit() for v in size):
                continue
            width, height = int(size[0]), int(size[1])
            safe = "".join(c if c.isprintable() and c not in '{}"' else "?" for c in text)
            transport.set(
                "regions",
                (
                    f"image; text {width / 2 + 0.5:g} {height * 0.94 + 0.5:g} "
                    f'# text={{{safe}}} color=yellow font="helvetica 16 bold roman" '
                    f"tag={{{LABEL_TAG}}} select=0 edit=0 move=0 delete=1\n"
                ).encode(),
            )
            drawn.append(frame)
        yield
    finally:
        for frame in drawn:
            _goto(transport, frame)
            transport.set(f"regions group {LABEL_TAG} delete")

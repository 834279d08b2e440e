"""Frame bookkeeping: which frame is the image, which are ds9claw's seed and mask frames.

See `ds9claw.ds9.actions` for the DS9 facts these rely on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, TransportError
from .command_batch import CommandBatch
from .transport import Transport

__all__ = ["FrameRef", "image_frame", "split_file_spec"]

_log = logging.getLogger(__name__)


_log = logging.getLogger(__name__)

ROLE_KEY = "CLAWROLE"
SOURCE_KEY = "CLAWSRCH"
SOURCE_NAME_KEY = "CLAWSRCN"
REGION_TAG = "ds9claw"

#: What a refused product tells the observer in DS9 (`ds9claw.overwrite.refuse_to_replace`).
OVERWRITE_HINT = (
    "ds9claw replaces only its own earlier products; move that file away, or allow "
    "replacing it (Claws > Detect claws with parameters... > Replace files not written by "
    "ds9claw; ds9claw ds9 detect --overwrite)"
)


def split_file_spec(spec: str) -> tuple[str, str]:
    """Split DS9's ``file`` answer into the file name and the extension spec.

    Parameters
    ----------
    spec : str
        ``"dir/X_cal.fits[SCI]"``, ``"X.fits"`` or ``""``.

    Returns
    -------
    tuple of str
        ``("dir/X_cal.fits", "[SCI]")``; the second item is ``""`` without brackets.
    """
    spec = spec.strip()
    if spec.endswith("]") and "[" in spec:
        cut = spec.index("[")
        return spec[:cut], spec[cut:]
    return spec, ""


@dataclass
class FrameRef:
    """The image frame an action works on.

    Attributes
    ----------
    frame : int
        DS9 frame number.
    spec : str
        DS9's ``file`` answer (``""`` for an image sent without a name).
    path : pathlib.Path or None
        The file on disk, when the frame came from one that exists.
    ext : str
        Extension spec (``"[SCI]"``) or ``""``.
    source_id : str
        Hash that ds9claw frames made from this image carry in ``CLAWSRCH``.
    """

    frame: int
    spec: str
    path: Path | None
    ext: str
    source_id: str

    @property
    def label(self) -> str:
        """Name of the image for messages."""
        if self.path is not None:
            return f"frame {self.frame} ({self.path.name}{self.ext})"
        return f"frame {self.frame}" + (f" ({self.spec})" if self.spec else "")


def _text(transport: Transport, command: str) -> str:
    return transport.get(command).decode(errors="replace").strip()


def _frames(transport: Transport) -> list[int]:
    return [int(x) for x in _text(transport, "frame all").split() if x.isdigit()]


def _current(transport: Transport) -> int:
    answer = _text(transport, "frame")
    if not answer.isdigit():
        raise InputError(f"DS9 has no current frame ({answer!r}): load an image first")
    return int(answer)


def _goto(transport: Transport, frame: int) -> None:
    transport.set(f"frame {frame}")


def _header_cards(transport: Transport) -> dict[str, str]:
    """Keyword -> raw value string of the current frame's header ({} for an empty frame)."""
    try:
        raw = transport.get("fits header")
    except TransportError:
        # DS9 refuses 'fits header' for an empty frame; make sure it is still there
        transport.get("version")
        return {}
    text = raw.decode("ascii", errors="replace")
    cards: dict[str, str] = {}
    lines = (
        text.splitlines() if "\n" in text else [text[i : i + 80] for i in range(0, len(text), 80)]
    )
    for line in lines:
        key = line[:8].strip()
        if key in (ROLE_KEY, SOURCE_KEY, SOURCE_NAME_KEY) and line[8:10] == "= ":
            value = line[10:].split("/")[0].strip().strip("'").strip()
            cards[key] = value
    return cards


def _role(transport: Transport) -> tuple[str | None, str | None]:
    cards = _header_cards(transport)
    return cards.get(ROLE_KEY), cards.get(SOURCE_KEY)


def _ds9_cwd(transport: Transport) -> Path | None:
    try:
        answer = _text(transport, "cd")
    except TransportError:
        transport.get("version")
        return None
    return Path(answer) if answer else None


def _source_id(frame: int, spec: str, path: Path | None) -> str:
    key = f"{path}{split_file_spec(spec)[1]}" if path is not None else f"frame:{frame}:{spec}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def _describe_frame(transport: Transport, frame: int) -> FrameRef:
    return _frame_ref(frame, _text(transport, "file"), lambda: _ds9_cwd(transport))


def _frame_ref(frame: int, spec: str, ds9_cwd: Callable[[], Path | None]) -> FrameRef:
    """The `FrameRef` of a frame showing ``spec`` (DS9's ``file`` answer).

    ``ds9_cwd`` is asked for DS9's directory only when the file name is relative.
    """
    name, ext = split_file_spec(spec)
    path: Path | None = None
    if name and name.lower() not in ("stdin",):
        candidate = Path(name).expanduser()
        if not candidate.is_absolute():
            cwd = ds9_cwd()
            if cwd is not None:
                candidate = cwd / candidate
        if candidate.is_file():
            path = candidate.resolve()
    return FrameRef(
        frame=frame, spec=spec, path=path, ext=ext, source_id=_source_id(frame, spec, path)
    )


def image_frame(transport: Transport) -> FrameRef:
    """Find the image frame to work on and make it the current frame.

    The current frame, unless it is a ds9claw seed or mask frame: then the image frame
    it was made from.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    FrameRef

    Raises
    ------
    InputError
        DS9 has no frame, the current frame is empty, or it holds a cube.
    """
    return _image_frame(transport)[0]


def _image_frame(transport: Transport) -> tuple[FrameRef, list[int]]:
    """`image_frame`, also returning DS9's frame order (one request for an image frame)."""
    ref, frames, _ = _image_frame_and_regions(transport)
    return ref, frames


def _image_frame_and_regions(
    transport: Transport, goto: int | None = None, regions: bool = False
) -> tuple[FrameRef, list[int], str | None]:
    """`_image_frame` after going to frame ``goto``; with its regions when asked for.

    One request for an image frame.  The regions are DS9's, in image coordinates.
    """
    batch = CommandBatch()
    if goto is not None:
        batch.set(f"frame {goto}")
    asked = {
        "frames": batch.get("frame all"),
        "current": batch.get("frame"),
        "role": batch.get(f"fits header keyword {ROLE_KEY}", may_fail=True),
        "source": batch.get(f"fits header keyword {SOURCE_KEY}", may_fail=True),
        "size": batch.get("fits size", may_fail=True),  # "0 0" when empty; "w h d": a cube
        "depth": batch.get("fits depth", may_fail=True),
        "file": batch.get("file", may_fail=True),
        "cd": batch.get("cd", may_fail=True),
    }
    if regions:
        asked["regions"] = batch.get("regions -format ds9 -system image")
    answers = batch.run(transport)
    said = {key: (answers[index] or "").strip("'").strip() for key, index in asked.items()}
    frames = [int(x) for x in said["frames"].split() if x.isdigit()]
    if not frames:
        raise InputError("DS9 has no frame: load an exposure (File > Open, X_cal.fits) first")
    if not said["current"].isdigit():
        raise InputError(f"DS9 has no current frame ({said['current']!r}): load an image first")
    current = int(said["current"])
    if said["role"] in ("seed", "mask") and said["source"]:
        _goto_image_of(transport, frames, current, said["role"], said["source"])
        return _image_frame_and_regions(transport, regions=regions)
    size = said["size"].split()
    if not size or all(s == "0" for s in size):
        raise InputError(
            f"frame {current} is empty: load an exposure (File > Open, e.g. X_cal.fits) "
            "and draw a polygon around the claw"
        )
    if len(size) >= 3 and size[2].isdigit() and int(size[2]) > 1:
        raise InputError(
            f"frame {current} holds a 3-D cube ({' x '.join(size)}): ds9claw works on a 2-D "
            "image; open the 2-D SCI extension of a cal file (X_cal.fits[SCI])"
        )
    depth = said["depth"]
    if depth.isdigit() and int(depth) > 1:
        raise InputError(
            f"frame {current} holds a 3-D cube (depth {depth}): ds9claw works on a 2-D "
            "image; open the 2-D SCI extension of a cal file (X_cal.fits[SCI])"
        )
    cwd = said["cd"]
    ref = _frame_ref(current, said["file"], lambda: Path(cwd) if cwd else None)
    # the region text as DS9 sent it (not stripped of quotes)
    return ref, frames, answers[asked["regions"]] if regions else None


def _goto_image_of(
    transport: Transport, frames: Sequence[int], current: int, role: str, source: str
) -> None:
    """Make the image frame a seed or mask frame came from the current frame."""
    for frame in frames:
        if frame == current:
            continue
        _goto(transport, frame)
        if _role(transport)[0] is None and _describe_frame(transport, frame).source_id == source:
            return
    _goto(transport, current)
    raise InputError(
        f"frame {current} is a ds9claw {role} frame whose image frame is gone: "
        "select the frame with the exposure"
    )


def _product_frames(transport: Transport, ref: FrameRef, frames: Sequence[int]) -> dict[str, int]:
    """Frames holding this image's seed and mask (``{"seed": 2, "mask": 3}``, maybe partial).

    One request: every other frame is asked for its ds9claw keywords; the image frame is
    the current frame afterwards.
    """
    batch = CommandBatch()
    asked = product_queries(batch, ref, frames)
    batch.set(f"frame {ref.frame}")
    return found_products(batch.run(transport), asked, ref)


def product_queries(
    batch: CommandBatch, ref: FrameRef, frames: Sequence[int]
) -> list[tuple[int, int, int]]:
    """Add to ``batch`` the queries that find ``ref``'s seed and mask frames.

    Returns ``(frame, role answer, source answer)`` for `found_products`.  Visiting a
    frame makes it the current (and an active) frame.
    """
    order = list(frames)
    start = order.index(ref.frame) if ref.frame in order else 0
    asked = []
    # right after the image frame first: that is where an earlier run put them
    for frame in order[start + 1 :] + order[:start]:
        if frame == ref.frame:
            continue
        batch.set(f"frame {frame}")
        role = batch.get(f"fits header keyword {ROLE_KEY}", may_fail=True)
        source = batch.get(f"fits header keyword {SOURCE_KEY}", may_fail=True)
        asked.append((frame, role, source))
    return asked


def found_products(
    answers: Sequence[str | None], asked: Sequence[tuple[int, int, int]], ref: FrameRef
) -> dict[str, int]:
    """The seed and mask frames of ``ref`` from the answers to `product_queries`."""
    found: dict[str, int] = {}
    for frame, role_answer, source_answer in asked:
        role = (answers[role_answer] or "").strip("'").strip()
        source = (answers[source_answer] or "").strip("'").strip()
        if role in ("seed", "mask") and source == ref.source_id and role not in found:
            found[role] = frame
    return found


def _move(transport: Transport, frame: int, after: int) -> None:
    """Put ``frame`` right after ``after`` in DS9's frame order."""
    for _ in range(64):
        order = _frames(transport)
        i, j = order.index(frame), order.index(after)
        if i == j + 1:
            return
        _goto(transport, frame)
        # DS9's own Frame > Move Frame procedures (the XPA 'frame move' only goes to a frame)
        transport.set("tcl {MovePrevFrame}" if i > j + 1 else "tcl {MoveNextFrame}")
    raise TransportError(f"could not move DS9 frame {frame} after frame {after}")

"""The visit's state in DS9: which frames are exposures, which are their products.

A visit is every image frame of a DS9 (one exposure per frame); the seed and mask frames
ds9claw makes belong to the exposure whose file they came from (``CLAWSRCH``).  The state
(frames of each exposure, the observer's view, the exposure reviewed) is kept inside DS9
as a Tcl variable, so each menu click (a new process) finds it, and it goes away with
DS9.  It is checked against ``frame all`` and rebuilt when the frames changed.  What is
shown (reviewing one exposure, the whole visit) is `ds9claw.ds9.visit`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import InputError
from .command_batch import CommandBatch
from .frames import ROLE_KEY, SOURCE_KEY, _frame_ref
from .transport import Transport

__all__ = [
    "STATE_VARIABLE",
    "Exposure",
    "View",
    "VisitState",
    "active_frames",
    "capture_view",
    "is_reviewing",
    "load_state",
    "read_screen",
    "save_state_command",
    "scan_visit",
    "visit_state",
]

_log = logging.getLogger(__name__)

STATE_VARIABLE = "::ds9claw_visit"


@dataclass
class Exposure:
    """One image frame of the visit and its product frames.

    Attributes
    ----------
    image : int
        The frame showing the exposure.
    name : str
        Its file name (or DS9's ``file`` answer).
    source : str
        The id its products carry in ``CLAWSRCH``.
    detector : str
        ``DETECTOR`` of its header (``""`` when absent).
    path : str or None
        The file on disk.
    seed, mask : int or None
        Frames of its seed and mask, once made.
    """

    image: int
    name: str
    source: str
    detector: str = ""
    path: str | None = None
    seed: int | None = None
    mask: int | None = None

    @property
    def frames(self) -> list[int]:
        """The frames reviewed together: image, seed, mask (those that exist)."""
        return [f for f in (self.image, self.seed, self.mask) if f is not None]


@dataclass
class View:
    """What the observer had on screen before a review."""

    tile: str
    tile_mode: str
    grid_mode: str
    zoom: str
    pan: str
    lock: str
    current: int
    active: list[int]
    grid_layout: str = ""


@dataclass
class VisitState:
    """The visit as DS9 holds it."""

    frames: list[int]
    exposures: list[Exposure] = field(default_factory=list)
    view: View | None = None
    reviewing: int | None = None
    #: What DS9 showed when the state was read (not kept in DS9).
    screen: View | None = field(default=None, repr=False, compare=False)

    def exposure_of(self, frame: int) -> Exposure | None:
        """The exposure a frame (image, seed or mask) belongs to."""
        for exposure in self.exposures:
            if frame in exposure.frames:
                return exposure
        return None

    @property
    def products(self) -> list[int]:
        """Every seed and mask frame."""
        return [f for e in self.exposures for f in (e.seed, e.mask) if f is not None]


# --------------------------------------------------------------------------- state

#: The Tcl expression answering the kept state ("" when there is none).
_STATE_VALUE = f"if {{[info exists {STATE_VARIABLE}]}} {{set {STATE_VARIABLE}}} else {{list}}"


def _decode_state(raw: str | None) -> VisitState | None:
    if not raw:
        return None
    try:
        data = json.loads(bytes.fromhex(raw).decode())
        view = View(**data["view"]) if data.get("view") else None
        return VisitState(
            frames=list(data["frames"]),
            exposures=[Exposure(**e) for e in data["exposures"]],
            view=view,
            reviewing=data.get("reviewing"),
        )
    except (ValueError, KeyError, TypeError) as error:
        _log.warning("ignoring an unreadable visit state in DS9 (%s)", error)
        return None


def load_state(transport: Transport) -> VisitState | None:
    """The state kept in DS9 (None when there is none or it is unreadable).

    Parameters
    ----------
    transport : Transport
        Connection to DS9 (on this machine: DS9 writes the value to a private file).

    Returns
    -------
    VisitState or None
    """
    batch = CommandBatch()
    raw = batch.tcl_value(_STATE_VALUE)
    return _decode_state(batch.run(transport)[raw])


def save_state_command(state: VisitState) -> str:
    """The ``tcl`` set command that keeps ``state`` in DS9 (for a `CommandBatch`)."""
    data = asdict(state)
    data.pop("screen", None)
    encoded = json.dumps(data).encode().hex()
    return f"tcl {{set {STATE_VARIABLE} {encoded}}}"


def _detector_of(path: Path | None) -> str:
    """DETECTOR of a file whose SCI header (what DS9 shows) does not carry it."""
    if path is None:
        return ""
    from ..region_copy import exposure_key

    key = exposure_key(path)
    if key is not None:
        return key[2].upper()
    try:
        from astropy.io import fits

        return str(fits.getheader(path, 0).get("DETECTOR", "")).upper()
    except (OSError, ValueError):
        return ""


def scan_visit(
    transport: Transport, frames: list[int] | None = None, current: int | None = None
) -> VisitState:
    """Look at every frame: which are exposures, which are whose products.

    One request (`CommandBatch`): each frame is visited, which makes it active; the
    caller applies the view it wants afterwards.  The current frame is the same
    afterwards.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    frames : list of int, optional
        DS9's frames (``frame all``), when already known.
    current : int, optional
        DS9's current frame, when already known.

    Returns
    -------
    VisitState
        Without a view (the caller keeps the one it had).
    """
    if frames is None:
        ask = CommandBatch()
        order = ask.get("frame all")
        frames = [int(x) for x in (ask.run(transport)[order] or "").split() if x.isdigit()]
    batch = CommandBatch()
    start = batch.get("frame") if current is None else None
    cwd = batch.get("cd", may_fail=True)
    asked = []
    keys = (ROLE_KEY, SOURCE_KEY, "DETECTOR")
    for frame in frames:
        batch.set(f"frame {frame}")
        cards = {key: batch.get(f"fits header keyword {key}", may_fail=True) for key in keys}
        asked.append((frame, cards, batch.get("fits size"), batch.get("file")))
    if current is not None and current in frames:
        batch.set(f"frame {current}")
    answers = batch.run(transport)
    images: list[Exposure] = []
    products: list[tuple[int, str, str]] = []
    ds9_cwd = answers[cwd]
    for frame, asked_cards, size_answer, file_answer in asked:
        cards = {key: (answers[i] or "").strip("'").strip() for key, i in asked_cards.items()}
        role = cards.get(ROLE_KEY)
        if role in ("seed", "mask"):
            products.append((frame, role, cards.get(SOURCE_KEY, "")))
            continue
        size = (answers[size_answer] or "").split()
        if not size or all(s == "0" for s in size):
            continue  # an empty frame is not an exposure
        ref = _frame_ref(frame, answers[file_answer] or "", lambda: _as_path(ds9_cwd))
        name = ref.path.name if ref.path is not None else (ref.spec or f"frame {frame}")
        images.append(
            Exposure(
                image=frame,
                name=name + (ref.ext if ref.path is not None else ""),
                source=ref.source_id,
                detector=cards.get("DETECTOR", "").upper() or _detector_of(ref.path),
                path=str(ref.path) if ref.path is not None else None,
            )
        )
    by_source = {e.source: e for e in images}
    for frame, role, source in products:
        owner = by_source.get(source)
        if owner is not None and getattr(owner, role) is None:
            setattr(owner, role, frame)
    here = (answers[start] or "") if start is not None else ""
    if here.isdigit() and int(here) in frames:
        transport.set(f"frame {here}")
    return VisitState(frames=frames, exposures=images)


def _as_path(answer: str | None) -> Path | None:
    return Path(answer) if answer else None


def _ask_screen(batch: CommandBatch):
    """Add the queries of `capture_view` to ``batch``; return what reads their answers."""
    asked = {
        key: batch.get(command)
        for key, command in (
            ("tile", "tile"),
            ("tile_mode", "tile mode"),
            ("grid_mode", "tile grid mode"),
            ("grid_layout", "tile grid layout"),
            ("zoom", "zoom"),
            ("pan", "pan image"),
            ("lock", "lock frame"),
            ("current", "frame"),
            ("active", "frame active"),
        )
    }

    def read(answers: list[str | None]) -> View:
        text = {key: answers[index] or "" for key, index in asked.items()}
        return View(
            tile=text["tile"],
            tile_mode=text["tile_mode"],
            grid_mode=text["grid_mode"],
            grid_layout=text["grid_layout"],
            zoom=text["zoom"],
            pan=text["pan"],
            lock=text["lock"],
            current=int(text["current"]) if text["current"].isdigit() else 0,
            active=[int(x) for x in text["active"].split() if x.isdigit()],
        )

    return read


def read_screen(transport: Transport) -> tuple[VisitState | None, list[int], View]:
    """In one request: the kept state, DS9's frames, and what DS9 shows now.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    kept : VisitState or None
    frames : list of int
    screen : View
    """
    batch = CommandBatch()
    raw = batch.tcl_value(_STATE_VALUE)
    order = batch.get("frame all")
    screen = _ask_screen(batch)
    answers = batch.run(transport)
    frames = [int(x) for x in (answers[order] or "").split() if x.isdigit()]
    return _decode_state(answers[raw]), frames, screen(answers)


def visit_state(transport: Transport) -> VisitState:
    """The kept state when DS9's frames are the ones it describes, else a new scan.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    VisitState
        With ``screen``, what DS9 showed before anything was changed.

    Raises
    ------
    InputError
        DS9 shows no exposure.
    """
    kept, frames, screen = read_screen(transport)
    reviewing = kept is not None and is_reviewing(transport, kept, screen.active)
    # the observer's view is what is on screen unless a review is: taken before a
    # scan visits (and so shows) every frame
    view = kept.view if reviewing and kept is not None else screen
    state = (
        kept
        if kept is not None and kept.frames == frames
        else scan_visit(transport, frames, screen.current)
    )
    state.view = view
    state.screen = screen
    state.reviewing = kept.reviewing if reviewing and kept is not None else None
    if not state.exposures:
        raise InputError(
            "DS9 shows no exposure: open the cal files of the visit, one per frame "
            "(ds9claw ds9 load X1_cal.fits X2_cal.fits ...)"
        )
    return state


def active_frames(transport: Transport) -> list[int]:
    """DS9's active frames (``frame active``), in DS9's order."""
    answer = transport.get("frame active").decode(errors="replace")
    return [int(x) for x in answer.split() if x.isdigit()]


def capture_view(transport: Transport) -> View:
    """What DS9 shows now: tiling, zoom, pan, lock, current and active frames (one request)."""
    batch = CommandBatch()
    screen = _ask_screen(batch)
    return screen(batch.run(transport))


def is_reviewing(
    transport: Transport, state: VisitState, active: list[int] | None = None
) -> bool:
    """True when DS9 still shows the review the state records (not changed by hand).

    ``active`` is DS9's active frames when already known.
    """
    if state.reviewing is None:
        return False
    exposure = state.exposure_of(state.reviewing)
    if exposure is None:
        return False
    return (active if active is not None else active_frames(transport)) == exposure.frames

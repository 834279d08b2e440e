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
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import InputError, TransportError
from .actions import ROLE_KEY, SOURCE_KEY, _describe_frame, _frames, _goto, _tcl_value, _text
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
    "save_state",
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


@dataclass
class VisitState:
    """The visit as DS9 holds it."""

    frames: list[int]
    exposures: list[Exposure] = field(default_factory=list)
    view: View | None = None
    reviewing: int | None = None

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


def _scratch() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="ds9claw-visit-")


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
    with _scratch() as scratch:
        raw = _tcl_value(
            transport,
            f"if {{[info exists {STATE_VARIABLE}]}} {{set {STATE_VARIABLE}}} else {{list}}",
            Path(scratch),
        ).strip()
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


def save_state(transport: Transport, state: VisitState) -> None:
    """Keep the state in DS9 (a Tcl variable holding hex-encoded JSON).

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    state : VisitState
        What to keep.
    """
    data = asdict(state)
    encoded = json.dumps(data).encode().hex()
    transport.set("tcl", f"set {STATE_VARIABLE} {encoded}".encode())


def _header(transport: Transport) -> dict[str, str]:
    try:
        raw = transport.get("fits header").decode("ascii", errors="replace")
    except TransportError:
        transport.get("version")  # an empty frame: make sure DS9 is still there
        return {}
    lines = raw.splitlines() if "\n" in raw else [raw[i : i + 80] for i in range(0, len(raw), 80)]
    cards = {}
    for line in lines:
        key = line[:8].strip()
        if key in (ROLE_KEY, SOURCE_KEY, "DETECTOR") and line[8:10] == "= ":
            cards[key] = line[10:].split("/")[0].strip().strip("'").strip()
    return cards


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


def scan_visit(transport: Transport) -> VisitState:
    """Look at every frame: which are exposures, which are whose products.

    Visiting a frame makes it active; the caller applies the view it wants afterwards.
    The current frame is the same afterwards.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    VisitState
        Without a view (the caller keeps the one it had).
    """
    frames = _frames(transport)
    start = _text(transport, "frame")
    images: list[Exposure] = []
    products: list[tuple[int, str, str]] = []
    for frame in frames:
        _goto(transport, frame)
        cards = _header(transport)
        role = cards.get(ROLE_KEY)
        if role in ("seed", "mask"):
            products.append((frame, role, cards.get(SOURCE_KEY, "")))
            continue
        size = _text(transport, "fits size").split()
        if not size or all(s == "0" for s in size):
            continue  # an empty frame is not an exposure
        ref = _describe_frame(transport, frame)
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
    if start.isdigit() and int(start) in frames:
        _goto(transport, int(start))
    return VisitState(frames=frames, exposures=images)


def visit_state(transport: Transport) -> VisitState:
    """The kept state when DS9's frames are the ones it describes, else a new scan.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    VisitState

    Raises
    ------
    InputError
        DS9 shows no exposure.
    """
    kept = load_state(transport)
    frames = _frames(transport)
    reviewing = kept is not None and is_reviewing(transport, kept)
    # the observer's view is what is on screen unless a review is: take it before a
    # scan visits (and so shows) every frame
    view = kept.view if reviewing and kept is not None else capture_view(transport)
    state = kept if kept is not None and kept.frames == frames else scan_visit(transport)
    state.view = view
    state.reviewing = kept.reviewing if reviewing and kept is not None else None
    if not state.exposures:
        raise InputError(
            "DS9 shows no exposure: open the cal files of the visit, one per frame "
            "(ds9claw ds9 load X1_cal.fits X2_cal.fits ...)"
        )
    return state


def active_frames(transport: Transport) -> list[int]:
    """DS9's active frames (``frame active``), in DS9's order."""
    return [int(x) for x in _text(transport, "frame active").split() if x.isdigit()]


def capture_view(transport: Transport) -> View:
    """What DS9 shows now: tiling, zoom, pan, lock, current and active frames."""
    return View(
        tile=_text(transport, "tile"),
        tile_mode=_text(transport, "tile mode"),
        grid_mode=_text(transport, "tile grid mode"),
        zoom=_text(transport, "zoom"),
        pan=_text(transport, "pan image"),
        lock=_text(transport, "lock frame"),
        current=int(_text(transport, "frame") or 0),
        active=active_frames(transport),
    )


def is_reviewing(transport: Transport, state: VisitState) -> bool:
    """True when DS9 still shows the review the state records (not changed by hand)."""
    if state.reviewing is None:
        return False
    exposure = state.exposure_of(state.reviewing)
    return exposure is not None and active_frames(transport) == exposure.frames



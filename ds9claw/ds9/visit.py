"""The visit in DS9: which frames are exposures, which are their products, what is shown.

A visit is every image frame of a DS9 (one exposure per frame, as observers open
them: ``ds9 -lock frame image X1_cal.fits X2_cal.fits ...``).  The seed and mask
frames ds9claw makes (`ds9claw.ds9.actions`) belong to the exposure whose file they
came from (``CLAWSRCH``).  Product frames are kept out of the visit's tiling with
DS9's *active* frames (``frame hide``/``frame show``: an inactive frame is neither shown
nor tiled), except while one exposure is *reviewed*: then its image, seed and mask are
the only active frames, tiled side by side (``tile mode column``, three frames in one
row) and locked on the image.  `whole_visit` puts back what the observer had: the
active image frames, tile mode, zoom, pan, lock and current frame, saved the first
time a review started.

DS9 facts these rely on (checked against DS9 8.4.1):

* ``frame active`` answers the active frames; ``frame hide N``/``frame show N`` change
  them; ``frame N`` makes a hidden frame active again (so any action that visits the
  frames, as `ds9claw.ds9.actions` does, shows every frame: the visit view is applied
  again afterwards).
* ``tile grid layout 3 1`` makes DS9 exit when it has more than three frames, even with
  three active: ``tile mode column`` gives the 3 x 1 row instead.

The state (frames of each exposure, the observer's view, the exposure reviewed) is
kept inside DS9 as a Tcl variable, so each menu click (a new process) finds it, and
it goes away with DS9.  It is checked against ``frame all`` and rebuilt when the
frames changed.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import InputError, TransportError
from .actions import ROLE_KEY, SOURCE_KEY, _describe_frame, _frames, _goto, _tcl_value, _text
from .transport import Transport

__all__ = [
    "Exposure",
    "View",
    "VisitState",
    "current_exposure",
    "load_state",
    "review",
    "review_step",
    "save_state",
    "scan_visit",
    "visit_state",
    "whole_visit",
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
    reviewing = kept is not None and _is_reviewing(transport, kept)
    # the observer's view is what is on screen unless a review is: take it before a
    # scan visits (and so shows) every frame
    view = kept.view if reviewing and kept is not None else _capture_view(transport)
    state = kept if kept is not None and kept.frames == frames else scan_visit(transport)
    state.view = view
    state.reviewing = kept.reviewing if reviewing and kept is not None else None
    if not state.exposures:
        raise InputError(
            "DS9 shows no exposure: open the cal files of the visit, one per frame "
            "(ds9claw ds9 load X1_cal.fits X2_cal.fits ...)"
        )
    return state


def _active(transport: Transport) -> list[int]:
    return [int(x) for x in _text(transport, "frame active").split() if x.isdigit()]


def _capture_view(transport: Transport) -> View:
    return View(
        tile=_text(transport, "tile"),
        tile_mode=_text(transport, "tile mode"),
        grid_mode=_text(transport, "tile grid mode"),
        zoom=_text(transport, "zoom"),
        pan=_text(transport, "pan image"),
        lock=_text(transport, "lock frame"),
        current=int(_text(transport, "frame") or 0),
        active=_active(transport),
    )


def _is_reviewing(transport: Transport, state: VisitState) -> bool:
    """True when DS9 still shows the review the state records (not changed by hand)."""
    if state.reviewing is None:
        return False
    exposure = state.exposure_of(state.reviewing)
    return exposure is not None and _active(transport) == exposure.frames


def _set_active(transport: Transport, wanted: Sequence[int], current: int) -> None:
    """Make exactly ``wanted`` active, with ``current`` (in ``wanted``) the current frame."""
    _goto(transport, current)
    active = set(_active(transport))
    for frame in wanted:
        if frame not in active:
            transport.set(f"frame show {frame}")
    for frame in sorted(active - set(wanted)):
        transport.set(f"frame hide {frame}")
    _goto(transport, current)


# --------------------------------------------------------------------------- views


def current_exposure(transport: Transport, state: VisitState) -> Exposure:
    """The exposure of the current frame (the first one when the frame is not in the visit).

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    state : VisitState
        The visit.

    Returns
    -------
    Exposure
    """
    answer = _text(transport, "frame")
    exposure = state.exposure_of(int(answer)) if answer.isdigit() else None
    return exposure or state.exposures[0]


def review(transport: Transport, state: VisitState, exposure: Exposure) -> None:
    """Show one exposure's image, seed and mask side by side; hide every other frame.

    The observer's view (``state.view``, see `visit_state`) is kept in DS9 with it.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    state : VisitState
        The visit (updated and kept in DS9).
    exposure : Exposure
        The exposure to review.
    """
    _set_active(transport, exposure.frames, exposure.image)
    if len(state.frames) <= 3:
        # a single exposure: the 3 x 1 grid Detect lays out (safe with three frames)
        if not (
            _text(transport, "tile mode") == "grid"
            and _text(transport, "tile grid mode") == "manual"
            and _text(transport, "tile grid layout") == "1"
        ):
            transport.set("tile mode grid")
            transport.set("tile grid mode manual")
            transport.set(f"tile grid layout {len(exposure.frames)} 1")
    elif _text(transport, "tile mode") != "column":
        transport.set("tile mode column")
    if _text(transport, "tile") != "yes":
        transport.set("tile yes")
    if _text(transport, "lock frame") != "image":
        transport.set("lock frame image")
    transport.set("tcl {update idletasks}")
    transport.set("zoom to fit")
    state.reviewing = exposure.image
    save_state(transport, state)


def review_step(transport: Transport, step: int) -> tuple[Exposure, VisitState]:
    """Review the next (``step=1``) or previous (``-1``) exposure of the visit.

    From the whole-visit view the review starts with the current frame's exposure.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    step : int
        +1 or -1; the visit wraps around.

    Returns
    -------
    tuple of (Exposure, VisitState)
        The exposure now reviewed.
    """
    state = visit_state(transport)
    here = current_exposure(transport, state)
    index = state.exposures.index(here)
    if state.reviewing is not None:
        index = (index + step) % len(state.exposures)
    exposure = state.exposures[index]
    review(transport, state, exposure)
    return exposure, state


def whole_visit(transport: Transport, state: VisitState | None = None) -> VisitState:
    """Show every image frame again, as the observer had them before the review.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    state : VisitState, optional
        The visit, when already known.

    Returns
    -------
    VisitState
    """
    state = state or visit_state(transport)
    images = [e.image for e in state.exposures]
    view = state.view
    current = view.current if view is not None and view.current in images else images[0]
    wanted = images
    if view is not None:
        # frames the observer had active and that are not products (e.g. an empty one)
        kept = [f for f in view.active if f in state.frames and f not in state.products]
        wanted = [f for f in state.frames if f in set(kept) | set(images)]
    _set_active(transport, wanted, current)
    if view is None:
        if _text(transport, "tile grid mode") != "automatic":
            transport.set("tile grid mode automatic")  # a manual 3 x 1 cannot hold them
        if _text(transport, "tile") != "yes":
            transport.set("tile yes")
        if _text(transport, "lock frame") != "image":
            transport.set("lock frame image")
    else:
        if _text(transport, "tile mode") != view.tile_mode:
            transport.set(f"tile mode {view.tile_mode}")
        if _text(transport, "tile grid mode") != view.grid_mode:
            transport.set(f"tile grid mode {view.grid_mode}")
        if _text(transport, "tile") != view.tile:
            transport.set(f"tile {view.tile}")
        if _text(transport, "lock frame") != view.lock:
            transport.set(f"lock frame {view.lock}")
        transport.set("tcl {update idletasks}")
        transport.set(f"zoom to {view.zoom}")
        if len(view.pan.split()) == 2:
            transport.set(f"pan to {view.pan} image")
    state.reviewing = None
    save_state(transport, state)
    return state

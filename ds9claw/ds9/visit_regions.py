"""The region entries of a visit: save, load and copy the regions of every frame.

The observer's regions on the image frames are only ever read, or added to: copies
carry the tag ``ds9claw copy`` so that a new copy replaces only the earlier copy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from ..backup import make_backup
from ..errors import RegionError
from ..names import free_backup_name
from ..safeio import write_text_atomically
from .actions import _count_shapes, _goto
from .transport import Transport
from .visit import current_exposure
from .visit_actions import Progress, VisitReport, _quiet, _regions, restore_view
from .visit_state import Exposure, visit_state

__all__ = ["COPY_TAG", "copy_regions", "load_regions_all", "save_regions_all"]

COPY_TAG = "ds9claw copy"

#: One exposure's step: its report line, and whether it changed something.
ExposureStep = Callable[[Exposure], tuple[str, bool]]


def _each_exposure(
    exposures: Iterable[Exposure], step: ExposureStep, progress: Progress
) -> tuple[VisitReport, int]:
    """Run ``step`` on each exposure; return the report of their lines and the changes."""
    report = VisitReport(title="")
    changed = 0
    for exposure in exposures:
        line, did_change = step(exposure)
        changed += did_change
        report.lines.append(line)
        progress(line)
    return report, changed


def save_regions_all(transport: Transport, *, progress: Progress = _quiet) -> VisitReport:
    """Save each image frame's regions as ``<stem>_claws.pix.reg`` beside its file.

    An existing different file is kept as ``<name>.bak`` (``.bak1`` ...) first; an
    identical one is left as it is.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    progress : callable
        Called with one line per exposure.

    Returns
    -------
    VisitReport
    """
    state = visit_state(transport)
    here = current_exposure(transport, state)
    report, saved = _each_exposure(
        state.exposures, lambda exposure: _save_regions_of(transport, exposure), progress
    )
    report.title = f"saved the regions of {saved} frame(s)"
    _goto(transport, here.image)
    restore_view(transport, state, here)
    return report


def _save_regions_of(transport: Transport, exposure: Exposure) -> tuple[str, bool]:
    from ..region_copy import region_path_for

    _goto(transport, exposure.image)
    text = _regions(transport)
    n_inc, n_exc = _count_shapes(text)
    if exposure.path is None:
        return f"{exposure.name}: not saved, the frame has no file on disk", False
    if n_inc + n_exc == 0:
        return f"{exposure.name}: no region", False
    out = region_path_for(exposure.path)
    text = text if text.endswith("\n") else text + "\n"
    if out.is_file() and _shape_lines(out.read_text(errors="replace")) == _shape_lines(text):
        return f"{out.name}: unchanged", False
    kept = ""
    if os.path.lexists(out):
        backup = free_backup_name(out)
        make_backup(out, backup)
        kept = f" (the earlier file kept as {backup.name})"
    write_text_atomically(out, text)
    return f"{out.name}: {n_inc + n_exc} region(s) saved{kept}", True


def _shape_lines(text: str) -> list[str]:
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.startswith(("#", "global")) and "(" in line
    ]


def load_regions_all(transport: Transport, *, progress: Progress = _quiet) -> VisitReport:
    """Load ``<stem>_claws.pix.reg`` into each image frame that has one.

    Regions already on the frame stay; a file whose shapes are all on the frame
    already is not loaded twice.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    progress : callable
        Called with one line per exposure.

    Returns
    -------
    VisitReport
    """
    state = visit_state(transport)
    here = current_exposure(transport, state)
    report, loaded = _each_exposure(
        state.exposures, lambda exposure: _load_regions_of(transport, exposure), progress
    )
    report.title = f"loaded region files into {loaded} frame(s)"
    restore_view(transport, state, here)
    return report


def _load_regions_of(transport: Transport, exposure: Exposure) -> tuple[str, bool]:
    from ..region_copy import region_path_for

    if exposure.path is None:
        return f"{exposure.name}: the frame has no file on disk", False
    path = region_path_for(exposure.path)
    if not path.is_file():
        return f"{exposure.name}: no {path.name}", False
    text = path.read_text(errors="replace")
    _goto(transport, exposure.image)
    on_frame = set(_shape_lines(_regions(transport)))
    wanted = _shape_lines(text)
    if wanted and all(shape in on_frame for shape in wanted):
        return f"{path.name}: already on frame {exposure.image}", False
    transport.set("regions", text.encode())
    return f"{path.name}: loaded into frame {exposure.image}", True


def _tagged(text: str) -> str:
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "global")) or "(" not in stripped:
            out.append(line)
            continue
        if "tag={" in line:  # ds9claw's own tags (candidates) are not copied as such
            line = line.split(" tag={")[0]
        out.append(line + (f" tag={{{COPY_TAG}}}" if "#" in line else f" # tag={{{COPY_TAG}}}"))
    return "\n".join(out) + "\n"


def copy_regions(
    transport: Transport, *, sky: bool = False, progress: Progress = _quiet
) -> VisitReport:
    """Copy the current frame's regions to every other frame of the same detector.

    In image coordinates (claws stay on the detector within a visit), or on the sky
    (``sky=True``, for features fixed on the sky).  Earlier copies (tag
    ``ds9claw copy``) on the other frames are replaced; their own regions stay.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    sky : bool
        Copy in fk5 sky coordinates instead of image pixels.
    progress : callable
        Called with one line per frame.

    Returns
    -------
    VisitReport

    Raises
    ------
    RegionError
        The current frame has no region.
    """
    state = visit_state(transport)
    source = current_exposure(transport, state)
    _goto(transport, source.image)
    text = _regions(transport, "sky" if sky else "image")
    shapes = [line for line in _shape_lines(text) if f"tag={{{COPY_TAG}}}" not in line]
    if not shapes:
        raise RegionError(
            f"no region on frame {source.image} ({source.name}): draw one first (Edit > "
            "Region, then Region > Shape > Polygon, click and drag)"
        )
    header = [line for line in text.splitlines() if line.strip() and "(" not in line]
    payload = _tagged("\n".join(header + shapes))

    def copy_to(exposure: Exposure) -> tuple[str, bool]:
        if exposure.detector != source.detector:
            return (
                f"{exposure.name}: other detector ({exposure.detector or '?'}), not copied",
                False,
            )
        _goto(transport, exposure.image)
        transport.set(f"regions group {{{COPY_TAG}}} delete")
        transport.set("regions", payload.encode())
        return f"{exposure.name}: {len(shapes)} region(s) copied (frame {exposure.image})", True

    others = [e for e in state.exposures if e.image != source.image]
    report, copied = _each_exposure(others, copy_to, progress)
    coords = "sky (fk5)" if sky else "image"
    report.title = (
        f"copied {len(shapes)} region(s) of {source.name} to {copied} frame(s) of detector "
        f"{source.detector or '?'} in {coords} coordinates"
    )
    _goto(transport, source.image)
    restore_view(transport, state, source)
    return report

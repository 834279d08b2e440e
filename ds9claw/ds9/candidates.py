"""DS9 menu actions for ``ds9claw find``: draw claw candidates on every frame, remove them.

`find_in_frames` looks at every image frame of a DS9 (ds9claw's own seed and mask
frames aside), reads each exposure (from its file, with its DQ, when the frame came
from one; else from DS9's pixels), groups the exposures by detector and filter, runs
`ds9claw.find.find_candidates` on each group of at least three, and draws the
candidates on their frames as dashed cyan polygons tagged ``{ds9claw candidate}``
with their score as text.  Only shapes with that tag are ever deleted: the
observer's own regions stay as they are.  `remove_candidates` deletes them all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..errors import InputError
from .frames import FrameRef, _describe_frame, _frames, _goto, _role, _text
from .transport import Transport

__all__ = ["CandidatesReport", "find_in_frames", "remove_candidates"]

_log = logging.getLogger(__name__)


@dataclass
class CandidatesReport:
    """What `find_in_frames` or `remove_candidates` did, frame by frame.

    Attributes
    ----------
    drawn : dict of int to int
        Candidates drawn (or removed) on each frame.
    labels : dict of int to str
        The frame's description (``frame 2 (X_cal.fits[SCI])``).
    notes : dict of int to str
        Why a frame got nothing (too few exposures of its group, empty frame ...).
    removed : bool
        True for a `remove_candidates` report.
    """

    drawn: dict[int, int] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    removed: bool = False

    def summary(self) -> str:
        """Lines for DS9's text window: one per frame, then the total."""
        verb = "removed" if self.removed else "drew"
        lines = []
        for frame in sorted(set(self.drawn) | set(self.notes)):
            label = self.labels.get(frame, f"frame {frame}")
            if frame in self.drawn:
                lines.append(f"  {label}: {self.drawn[frame]} candidate(s)")
            if frame in self.notes:
                lines.append(f"  {label}: {self.notes[frame]}")
        total = sum(self.drawn.values())
        head = f"ds9claw: {verb} {total} claw candidate(s) on {len(self.drawn)} frame(s)"
        if not self.removed:
            head += " (dashed cyan, tag 'ds9claw candidate'): edit or delete them, then detect"
        return "\n".join([head, *lines])


def _tag_command(action: str) -> str:
    from ..find_files import CANDIDATE_TAG

    return f"regions group {{{CANDIDATE_TAG}}} {action}"


def _count_candidates(transport: Transport) -> int:
    from ..find_files import CANDIDATE_TAG

    text = transport.get("regions -format ds9 -system image").decode(errors="replace")
    return sum(1 for line in text.splitlines() if f"tag={{{CANDIDATE_TAG}}}" in line)


def _image_frames(transport: Transport, report: CandidatesReport) -> list[FrameRef]:
    refs = []
    for frame in _frames(transport):
        _goto(transport, frame)
        if _role(transport)[0] is not None:
            continue  # a ds9claw seed or mask frame
        size = _text(transport, "fits size").split()
        if not size or all(s == "0" for s in size):
            continue
        ref = _describe_frame(transport, frame)
        report.labels[frame] = ref.label
        if len(size) >= 3 and size[2].isdigit() and int(size[2]) > 1:
            report.notes[frame] = "a 3-D cube: not searched"
            continue
        refs.append(ref)
    return refs


def _exposure(transport: Transport, ref: FrameRef):
    from ..fitsio import exposure_from_bytes, read_exposure

    if ref.path is not None and ref.ext.upper() in ("", "[SCI]", "[1]", "[SCI,1]"):
        return read_exposure(ref.path)
    _goto(transport, ref.frame)
    return exposure_from_bytes(transport.get("fits"), name=ref.label)


def find_in_frames(transport: Transport, params=None) -> CandidatesReport:
    """Find claw candidates in the exposures shown and draw them on their frames.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    params : ds9claw.find.FindParameters, optional
        Finder parameters.

    Returns
    -------
    CandidatesReport

    Raises
    ------
    InputError
        When DS9 shows no image, or no detector group has three exposures.
    """
    from ..dq import valid_pixel_mask
    from ..find import find_candidates
    from ..find_files import (
        MIN_EXPOSURES,
        candidate_region_text,
        dither_offsets_from_headers,
        group_key,
    )

    report = CandidatesReport()
    start = _text(transport, "frame")
    refs = _image_frames(transport, report)
    if not refs:
        raise InputError("DS9 shows no exposure: open the cal files of a visit, one per frame")
    groups: dict[str, list] = {}
    for ref in refs:
        exposure = _exposure(transport, ref)
        key = group_key(exposure.primary_header, exposure.shape)
        groups.setdefault(key, []).append((ref, exposure))
    searched = 0
    for key, members in groups.items():
        if len(members) < MIN_EXPOSURES:
            for ref, _ in members:
                report.notes[ref.frame] = (
                    f"not searched: {len(members)} exposure(s) of {key} shown, "
                    f"{MIN_EXPOSURES} needed (open the other dithers)"
                )
            continue
        searched += 1
        images = [e.image for _, e in members]
        valid = [valid_pixel_mask(e.image, e.dq) for _, e in members]
        offsets = dither_offsets_from_headers([e.header for _, e in members], images[0].shape)
        result = find_candidates(images, valid, offsets, params)
        for (ref, exposure), candidates in zip(members, result.candidates, strict=True):
            _goto(transport, ref.frame)
            transport.set(_tag_command("delete"))
            if candidates:
                text = candidate_region_text(candidates, source_name=exposure.name)
                transport.set("regions", text.encode())
            report.drawn[ref.frame] = _count_candidates(transport)
    if start.isdigit():
        _goto(transport, int(start))
    if not searched:
        raise InputError(
            f"no detector and filter has {MIN_EXPOSURES} exposures shown ("
            + "; ".join(f"{k}: {len(m)}" for k, m in groups.items())
            + "): open the other dithers of the visit in more frames"
        )
    return report


def remove_candidates(transport: Transport) -> CandidatesReport:
    """Delete every ``{ds9claw candidate}`` region from every frame (nothing else).

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    CandidatesReport
        Candidates removed per frame.
    """
    report = CandidatesReport(removed=True)
    start = _text(transport, "frame")
    for frame in _frames(transport):
        _goto(transport, frame)
        size = _text(transport, "fits size").split()
        if not size or all(s == "0" for s in size):
            continue
        before = _count_candidates(transport)
        if before:
            transport.set(_tag_command("delete"))
            report.drawn[frame] = before - _count_candidates(transport)
    if start.isdigit():
        _goto(transport, int(start))
    return report

"""``ds9claw ds9 load FILES...``: open a visit in DS9 the way observers do.

Each file's SCI extension in its own frame, ``lock frame image``, zscale, tiled, and
the region file of each exposure (``<stem>_claws.pix.reg`` beside it) when there is
one, like ``ds9 -lock frame image -scale zscale X1_cal.fits ... -regions load ...``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .actions import _frames, _text
from .names import ds9_word
from .transport import Transport
from .visit import whole_visit
from .visit_state import scan_visit

__all__ = ["LoadReport", "load_visit"]

_log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    """What `load_visit` opened."""

    frames: list[int] = field(default_factory=list)
    regions: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The verdict first, then one line per file."""
        head = (
            f"ds9claw: opened {len(self.frames)} exposure(s) in frames "
            f"{', '.join(str(f) for f in self.frames)}; {len(self.regions)} region file(s) loaded"
        )
        return "\n".join([head, *self.lines])


def _empty(transport: Transport) -> bool:
    size = _text(transport, "fits size").split()
    return not size or all(s == "0" for s in size)


def load_visit(
    transport: Transport,
    files: Sequence[str | os.PathLike[str]],
    *,
    extension: str = "SCI",
    regions: bool = True,
    progress=None,
) -> LoadReport:
    """Open each file in a new frame (the empty first frame is reused).

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    files : sequence of path-like
        The exposures (``*_cal.fits``).
    extension : str
        The extension shown (``SCI``; ``""`` for the primary HDU).
    regions : bool
        Load ``<stem>_claws.pix.reg`` beside each file when it exists.
    progress : callable, optional
        Called with one line per file.

    Returns
    -------
    LoadReport

    Raises
    ------
    InputError
        A file does not exist, or its name cannot be given to DS9 (checked for every
        file before DS9 is changed).
    """
    from ..region_copy import region_path_for

    paths = [Path(f).expanduser().resolve() for f in files]
    if not paths:
        raise InputError("no file given: ds9claw ds9 load X1_cal.fits X2_cal.fits ...")
    words = []
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path} does not exist: give the cal files of the visit")
        spec = f"{path}[{extension}]" if extension else str(path)
        ds9_word(path, what="exposure")  # the name itself must be one DS9 can load
        words.append("{" + spec + "}")
    report = LoadReport()
    # each frame gets its own zscale, as `ds9 -scale zscale` gives: scale limits locked
    # across frames (say by an earlier preview) would turn every frame's mode to "user"
    transport.set("lock scalelimits no")
    transport.set("lock scale no")
    frames = _frames(transport)
    reuse = len(frames) == 1 and _empty(transport)
    for path, word in zip(paths, words, strict=True):
        if not reuse:
            transport.set("frame new")
        reuse = False
        transport.set(f"file {word}")
        transport.set("scale mode zscale")
        frame = int(_text(transport, "frame"))
        report.frames.append(frame)
        line = f"frame {frame}: {path.name}"
        reg = region_path_for(path)
        if regions and reg.is_file():
            transport.set("regions", reg.read_bytes())
            report.regions.append(reg)
            line += f" + {reg.name}"
        report.lines.append(line)
        if progress is not None:
            progress(line)
    transport.set("lock frame image")
    transport.set("tile mode grid")
    # a manual grid laid out for fewer frames makes DS9 fail (xx(3)): DS9's default
    transport.set("tile grid mode automatic")
    transport.set("tile yes")
    transport.set(f"frame {report.frames[0]}")
    transport.set("zoom to fit")
    state = scan_visit(transport)
    whole_visit(transport, state)
    return report

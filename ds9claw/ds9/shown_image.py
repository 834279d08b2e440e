"""Find or load an image in DS9 and run the menu's detection on it (for the SAMP listener).

The listener (`ds9claw.listener.image_handler.detect_in_ds9`) checks names and the
overwrite policy; the DS9 side, which frame shows the image and what is sent to DS9,
lives here with the other DS9 actions.
"""

from __future__ import annotations

import time
from pathlib import Path

from .detect_action import DetectReport, detect
from .frames import split_file_spec
from .names import ds9_word
from .transport import Transport

__all__ = ["detect_in_frame_of", "frame_showing"]


def frame_showing(transport: Transport, image: Path, wait: float) -> int | None:
    """Return the DS9 frame showing ``image`` (DS9 may still be loading it), or None.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    image : pathlib.Path
        The image file.
    wait : float
        Seconds DS9 gets to show it.
    """
    target = image.resolve()
    deadline = time.monotonic() + wait
    while True:
        frames = transport.get("frame all").split()
        for frame in frames:
            transport.set(f"frame {int(frame)}")
            name = split_file_spec(transport.get("file").decode(errors="replace").strip())[0]
            if name and name.startswith("/") and Path(name).resolve() == target:
                return int(frame)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def _current_frame_is_empty(transport: Transport) -> bool:
    if not transport.get("frame all").split():
        return False
    size = transport.get("fits size").split()
    return not size or all(s == b"0" for s in size)


def detect_in_frame_of(
    transport: Transport,
    image: Path,
    region_text: str,
    *,
    params=None,
    wait: float = 1.0,
    overwrite: bool = False,
) -> DetectReport:
    """Show ``image`` in DS9 (its frame, the empty current one or a new one) and detect.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    image : pathlib.Path
        A checked local image file whose name DS9 can load.
    region_text : str
        DS9 region text, loaded into the frame when it shows no region.
    params : DetectionParameters, optional
        Detection parameters.
    wait : float
        Seconds DS9 gets to show a broadcast image itself.
    overwrite : bool
        Passed to `ds9claw.ds9.actions.detect`.

    Returns
    -------
    ds9claw.ds9.actions.DetectReport
    """
    if frame_showing(transport, image, wait) is None:
        if not _current_frame_is_empty(transport):
            transport.set("frame new")
        transport.set(f"fits {ds9_word(image, what='image')}")
    shown = transport.get("regions -format ds9 -system image").decode(errors="replace")
    if not any(
        line.strip() and not line.lstrip().startswith(("#", "global", "image"))
        for line in shown.splitlines()
    ):
        transport.set("regions", region_text.encode())
    return detect(transport, params=params, regions_text=region_text, overwrite=overwrite)

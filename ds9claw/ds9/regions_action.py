"""The Mask to regions action: trace the mask shown into polygon regions.

See `ds9claw.ds9.actions` for the DS9 facts these rely on.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..names import free_backup_name
from ..safeio import write_text_atomically
from .detect_action import _count_shapes
from .frames import REGION_TAG, FrameRef, _frames, _goto, _product_frames, image_frame
from .transport import Transport

__all__ = ["ToRegionsReport", "mask_to_regions"]

#: Pixels the mask is grown by before it is traced: detecting again inside the traced
#: polygons then finds the same claw (in the example: 99.6 % of the mask with 2 pixels,
#: 83 % in 295 polygons without), in a handful of polygons an observer can edit.
TRACE_MARGIN = 2

_log = logging.getLogger(__name__)


@dataclass
class ToRegionsReport:
    """What `mask_to_regions` did.

    Attributes
    ----------
    image : FrameRef
        The image frame that received the polygons.
    n_polygons : int
        Polygons added.
    replaced : int
        Regions removed first (``replace=True``).
    backup : pathlib.Path or None
        Where the removed regions were saved.
    """

    image: FrameRef
    n_polygons: int
    replaced: int = 0
    backup: Path | None = None

    def summary(self) -> str:
        """Lines telling the observer what happened."""
        text = (
            f"ds9claw: traced the mask into {self.n_polygons} polygon region(s) on "
            f"{self.image.label} (tag {REGION_TAG}): edit them and run Detect claws again"
        )
        if self.replaced:
            text += f"\n  replaced {self.replaced} earlier region(s), saved to {self.backup}"
        return text


def mask_to_regions(
    transport: Transport,
    *,
    replace: bool = False,
    tolerance: float = 0.75,
    backup_dir: Path | None = None,
) -> ToRegionsReport:
    """Trace the 0/1 mask of DS9's image frame into polygon regions on the image frame.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    replace : bool
        Remove the frame's other regions first (they are saved to a region file
        beside the image, or in ``backup_dir``).  Earlier traced polygons (tag
        ``ds9claw``) are always replaced.
    tolerance : float
        Outline simplification in pixels.
    backup_dir : pathlib.Path, optional
        Where removed regions are saved when the frame has no file.

    Returns
    -------
    ToRegionsReport

    Raises
    ------
    InputError
        No mask was made yet, or it is empty.
    """
    import numpy as np
    from astropy.io import fits

    from ..region_trace import mask_to_polygons, polygons_to_ds9

    ref = image_frame(transport)
    found = _product_frames(transport, ref, _frames(transport))
    if "mask" not in found:
        raise InputError(f"no mask yet for {ref.label}: run Claws > Detect claws first")
    _goto(transport, found["mask"])
    with fits.open(io.BytesIO(transport.get("fits")), memmap=False) as hdul:
        mask = np.asarray(hdul[0].data) > 0
    _goto(transport, ref.frame)
    if not mask.any():
        raise InputError(f"the mask of {ref.label} is empty: nothing to trace")
    # a thin group simplifies to a line (two vertices): no area, and DS9's region
    # parser (and Detect's) refuses it, so it is left out
    polygons = [
        p
        for p in mask_to_polygons(mask, tolerance=tolerance, margin=TRACE_MARGIN)
        if len(np.unique(np.asarray(p, dtype=float), axis=0)) >= 3
    ]
    if not polygons:
        raise InputError(f"the mask of {ref.label} has no group large enough to trace")
    text = polygons_to_ds9(polygons).replace("# text={ds9claw}", f"# tag={{{REGION_TAG}}}")
    replaced = 0
    backup = None
    transport.set(f"regions group {REGION_TAG} delete")
    if replace:
        current = transport.get("regions -format ds9 -system image").decode(errors="replace")
        n_inc, n_exc = _count_shapes(current)
        replaced = n_inc + n_exc
        if replaced:
            if ref.path is not None:
                directory = ref.path.parent
                stem = ref.path.name.split(".fits")[0]
            else:
                from .settings import config_dir

                directory = backup_dir or config_dir()
                stem = f"frame{ref.frame}"
            directory.mkdir(parents=True, exist_ok=True)
            backup = directory / f"{stem}_claws_regions_before_trace.reg"
            if os.path.lexists(backup):  # an earlier trace's backup is kept too
                backup = free_backup_name(backup)
            write_text_atomically(backup, current)
            transport.set("regions delete all")
    transport.set("regions", text.encode())
    return ToRegionsReport(image=ref, n_polygons=len(polygons), replaced=replaced, backup=backup)

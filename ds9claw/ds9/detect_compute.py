"""The computing half of the DS9 Detect claws action: no DS9 request, safe in a thread.

`ds9claw.ds9.detect_action.detect` reads the frame from DS9 (``read_frame``), computes
here, then shows and writes (``show_detection``); Detect claws in all frames
(`ds9claw.ds9.visit_actions.detect_all`) computes one exposure here while DS9 shows the
one before.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .product_frames import _frame_fits

if TYPE_CHECKING:
    from .detect_action import PlannedDetection

__all__ = ["ComputedDetection", "compute_detection", "import_detection"]

_log = logging.getLogger(__name__)


def _read_dq(path: Path, shape: tuple[int, int], ext: str):
    """DQ array of the file an image frame came from (None when it has none)."""
    import numpy as np
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
            if "DQ" not in hdul:
                return None
            dq = hdul["DQ"].data
    except (OSError, ValueError, KeyError) as error:
        _log.warning("cannot read the DQ of %s (%s): all pixels taken as valid", path, error)
        return None
    if dq is None or dq.shape != tuple(shape):
        return None
    return np.asarray(dq).astype(np.uint32, copy=False)


@dataclass
class ComputedDetection:
    """What `compute_detection` made: the result, and the frames' FITS bytes."""

    exposure: object
    result: object
    include: list
    seed_fits: bytes
    mask_fits: bytes


def compute_detection(planned: PlannedDetection) -> ComputedDetection:
    """The computing half of `detect` (no DS9 request): safe in a worker thread.

    Parameters
    ----------
    planned : PlannedDetection
        From `read_frame` (its image bytes are released).

    Returns
    -------
    ComputedDetection
    """
    import numpy as np

    from ..api import detect_exposure, provenance_cards
    from ..fitsio import exposure_from_bytes
    from ..products import product_header
    from ..region_parse import RegionSource

    ref, timings = planned.ref, planned.timings
    t = time.perf_counter()
    exposure = exposure_from_bytes(planned.image_bytes, name=f"DS9 {ref.label}", read_dq=False)
    planned.image_bytes = b""
    if ref.path is not None:
        exposure.dq = _read_dq(ref.path, exposure.shape, ref.ext)
        exposure.path = ref.path
    timings["read image"] = time.perf_counter() - t

    t = time.perf_counter()
    source = RegionSource.from_text(planned.regions_text, name=planned.region_name)
    result = detect_exposure(exposure, include=[source], params=planned.params)
    timings["detect"] = time.perf_counter() - t

    t = time.perf_counter()
    header = product_header(
        exposure,
        provenance_cards(
            planned.params,
            source=str(ref.path or ref.spec or f"frame {ref.frame}"),
            include=[source],
            result=result,
        ),
    )
    seed_fits = _frame_fits(np.asarray(result.seed, dtype=np.float32), header, "seed", ref)
    mask_fits = _frame_fits(np.asarray(result.mask, dtype=np.uint8), header, "mask", ref)
    timings["encode"] = time.perf_counter() - t
    return ComputedDetection(exposure, result, [source], seed_fits, mask_fits)


def import_detection() -> None:
    """Import what `compute_detection` needs (a worker warms up while DS9 answers)."""
    from .. import api, fitsio, products, region_parse  # noqa: F401

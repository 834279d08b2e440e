"""The Detect claws action: detect in the image frame, show seed and mask, write them.

See `ds9claw.ds9.actions` for the DS9 facts these rely on.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, NoIncludeRegionError
from ..names import product_names, stem_of
from ..parameters import describe
from .detect_compute import ComputedDetection, compute_detection
from .frames import (
    OVERWRITE_HINT,
    FrameRef,
    _image_frame_and_regions,
    split_file_spec,
)
from .names import check_ds9_name
from .product_frames import show_products
from .transport import Transport

__all__ = [
    "ComputedDetection",
    "DetectReport",
    "PlannedDetection",
    "compute_detection",
    "detect",
    "read_frame",
    "show_detection",
]

_log = logging.getLogger(__name__)


@dataclass
class DetectReport:
    """What `detect` did.

    Attributes
    ----------
    image : FrameRef
        The image frame.
    seed_frame, mask_frame : int
        Frames showing the seed and the mask.
    reused : bool
        True when the frames of an earlier run were reused.
    n_masked : int
        Pixels in the mask.
    n_regions : int
        Include shapes used.
    n_exclude : int
        Exclusion shapes honoured.
    rms : float
        Noise used in the threshold.
    seed_path, mask_path : pathlib.Path or None
        Products written beside the image file (None when the frame has no file).
    params : object
        The `ds9claw.detect.DetectionParameters` used.
    timings : dict of str to float
        Seconds per step.
    notes : list of str
        Remarks for the observer.
    """

    image: FrameRef
    seed_frame: int
    mask_frame: int
    reused: bool
    n_masked: int
    n_regions: int
    n_exclude: int
    rms: float
    seed_path: Path | None
    mask_path: Path | None
    params: object
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Lines telling the observer what happened."""
        p = self.params
        name = f"{self.image.path.name}{self.image.ext}" if self.image.path else None
        lines = [
            f"ds9claw: detected claws in frame {self.image.frame}: {self.n_masked} pixels masked",
            f"  {name or self.image.label}",
            f"  inside {self.n_regions} region(s)"
            + (f" minus {self.n_exclude} excluded" if self.n_exclude else "")
            + f"; rms={self.rms:.4g}",
            f"  {describe(p)}",
            f"  seed in frame {self.seed_frame}, 0/1 mask in frame {self.mask_frame}"
            + (" (frames reused)" if self.reused else " (new frames)"),
        ]
        if self.seed_path is not None and self.mask_path is not None:
            lines.append(f"  wrote {self.seed_path}")
            lines.append(f"  wrote {self.mask_path}")
        else:
            lines.append("  nothing written: the frame has no file on disk")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _count_shapes(text: str) -> tuple[int, int]:
    from ..region_parse import RegionSource, parse_region_text

    shapes = parse_region_text(RegionSource.from_text(text, name="DS9"))
    include = sum(1 for s in shapes if s.has_area and s.include)
    exclude = sum(1 for s in shapes if s.has_area and not s.include)
    return include, exclude


def detect(
    transport: Transport,
    *,
    params=None,
    suffix: str | None = None,
    write: bool = True,
    regions_text: str | None = None,
    overwrite: bool = False,
    layout: bool = True,
    label: bool = False,
) -> DetectReport:
    """Detect claws in DS9's image frame inside its regions, and show seed and mask.

    The image and regions are read from DS9 while the numerical modules load, and the
    products are written to disk while DS9 loads the seed and mask frames.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    params : ds9claw.detect.DetectionParameters, optional
        Detection parameters (default: the defaults).
    suffix : str, optional
        Product suffix (default ``_claws_seed_image``).
    write : bool
        Write the products beside the image file when the frame came from one.
    regions_text : str, optional
        DS9 region text to use instead of the frame's regions (for example from a
        region file).
    overwrite : bool
        The operator allows replacing files ds9claw did not write at the product paths
        (its own earlier products are always replaced; see
        `ds9claw.overwrite.refuse_to_replace`).
    layout : bool
        Tile image, seed and mask 3 x 1 and zoom to fit (`show_products`).
    label : bool
        Write the panel and exposure names into the seed and mask frames.

    Returns
    -------
    DetectReport

    Raises
    ------
    InputError
        No image, a cube, no include region, a sky region without WCS, bad parameters,
        product names DS9 cannot load (`ds9claw.ds9.names`).
    OutputExistsError
        A file ds9claw did not write is at a product path and ``overwrite`` is false
        (checked before anything is computed or shown).
    TransportError
        DS9 stopped answering.
    """
    planned = read_frame(
        transport, params=params, suffix=suffix, write=write, regions_text=regions_text,
        overwrite=overwrite,
    )  # fmt: skip
    computed = compute_detection(planned)
    return show_detection(transport, planned, computed, layout=layout, label=label)


@dataclass
class PlannedDetection:
    """What `read_frame` took from DS9, checked; input of `compute_detection`."""

    ref: FrameRef
    frames: list[int]
    params: object
    suffix: str
    names: tuple[str, str]
    writing: bool
    overwrite: bool
    regions_text: str
    region_name: str
    n_include: int
    n_exclude: int
    image_bytes: bytes
    timings: dict[str, float]


def read_frame(
    transport: Transport,
    *,
    params=None,
    suffix: str | None = None,
    write: bool = True,
    regions_text: str | None = None,
    overwrite: bool = False,
    region_name: str = "regions given",
    goto: int | None = None,
) -> PlannedDetection:
    """The DS9 half before `detect` computes: the image frame, its regions and pixels.

    Everything that can be refused is refused here, before anything is computed, shown
    or written.  Parameters as for `detect` (``region_name`` names ``regions_text`` in
    messages; ``goto``: the frame to make current first).

    Returns
    -------
    PlannedDetection
    """
    from concurrent.futures import ThreadPoolExecutor

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ref, frames, fetched_regions = _image_frame_and_regions(
        transport, goto=goto, regions=regions_text is None
    )
    timings["ds9 query"] = time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ds9claw-io") as pool:
        # DS9 sends the pixels (a few tens of ms) while this thread imports numpy/astropy
        fetched = pool.submit(transport.get, "fits")
        t = time.perf_counter()
        import numpy as np  # noqa: F401
        from astropy.io import fits  # noqa: F401  (imported here to overlap with DS9's reply)

        from ..api import DEFAULT_SUFFIX
        from ..detect import DetectionParameters
        from ..overwrite import refuse_to_replace
        from ..products import output_paths

        params = (params or DetectionParameters()).validate()
        suffix = suffix or DEFAULT_SUFFIX
        if not suffix or "/" in suffix or os.sep in suffix:
            raise InputError(f"output suffix {suffix!r} must be a name without '/'")
        writing = write and ref.path is not None
        if writing:
            assert ref.path is not None
            planned = output_paths(ref.path, suffix)
            names = (str(planned["seed"]), str(planned["mask"]))
        else:
            stem = stem_of(split_file_spec(ref.spec)[0]) if ref.spec else f"frame{ref.frame}"
            names = product_names(stem, suffix)
        # both checks come before anything is computed, shown or written
        for role, name in zip(("seed", "mask"), names, strict=True):
            check_ds9_name(name, what=f"{role} frame")
        if writing:
            refuse_to_replace(planned.values(), overwrite=overwrite, hint=OVERWRITE_HINT)
        timings["imports"] = time.perf_counter() - t
        image_bytes = fetched.result()

    if regions_text is None:
        regions_text = fetched_regions or ""
        region_name = f"DS9 frame {ref.frame} regions"
    n_include, n_exclude = _count_shapes(regions_text)
    if n_include == 0:
        if n_exclude:
            raise NoIncludeRegionError(
                f"{region_name}: only exclusion shapes ({n_exclude}); draw an include polygon "
                "around the claw (Region > Shape > Polygon; uncheck Region > Properties > "
                "Exclude), then run Detect claws again"
            )
        raise NoIncludeRegionError(
            f"no region drawn on DS9 {ref.label}: draw a polygon around the claw "
            "(Edit > Region, then Region > Shape > Polygon, click and drag), then run "
            "Detect claws again"
        )
    return PlannedDetection(
        ref=ref, frames=frames, params=params, suffix=suffix, names=names, writing=writing,
        overwrite=overwrite, regions_text=regions_text, region_name=region_name,
        n_include=n_include, n_exclude=n_exclude, image_bytes=image_bytes, timings=timings,
    )  # fmt: skip


def _label(planned: PlannedDetection, computed: ComputedDetection) -> tuple[int, int, str]:
    ref = planned.ref
    height, width = computed.exposure.shape
    name = stem_of(ref.path) if ref.path is not None else (ref.spec or f"frame {ref.frame}")
    return width, height, name


def show_detection(
    transport: Transport,
    planned: PlannedDetection,
    computed: ComputedDetection,
    *,
    layout: bool = True,
    label: bool = False,
    known: dict[str, int] | None = None,
) -> DetectReport:
    """The DS9 half after `detect` computes: show seed and mask, write the products.

    The products go to disk while DS9 loads the frames.  ``known``: the seed and mask
    frames when the caller knows them (`show_products`).

    Returns
    -------
    DetectReport
    """
    from concurrent.futures import ThreadPoolExecutor

    from ..api import write_products

    ref, result, timings = planned.ref, computed.result, planned.timings
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ds9claw-write") as pool:
        written = (
            pool.submit(
                write_products,
                computed.exposure,
                result,
                source=ref.path,
                include=computed.include,
                suffix=planned.suffix,
                overwrite=planned.overwrite,
            )
            if planned.writing
            else None
        )
        seed_frame, mask_frame, reused, notes = show_products(
            transport, ref, computed.seed_fits, computed.mask_fits, names=planned.names,
            frames=planned.frames, layout=layout,
            label=_label(planned, computed) if label else None, known=known,
        )  # fmt: skip
        timings["display"] = time.perf_counter() - t
        seed_path = mask_path = None
        if written is not None:
            paths = written.result()
            seed_path, mask_path = paths["seed"], paths["mask"]
    timings["total"] = sum(timings.values())
    return DetectReport(
        image=ref,
        seed_frame=seed_frame,
        mask_frame=mask_frame,
        reused=reused,
        n_masked=int(result.n_masked),
        n_regions=planned.n_include,
        n_exclude=planned.n_exclude,
        rms=float(result.rms_value),
        seed_path=seed_path,
        mask_path=mask_path,
        params=planned.params,
        timings=timings,
        notes=notes,
    )

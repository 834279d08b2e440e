"""What the DS9 Analysis menu does: each action takes a `Transport` and talks to one DS9.

The actions never care whether the transport is XPA or SAMP.  They work on the
*image frame*: the current frame, or, when the current frame is a seed or mask frame
made by ds9claw, the image frame it belongs to.  Frames made by ds9claw carry two
header keywords, ``CLAWROLE`` (``seed`` or ``mask``) and ``CLAWSRCH`` (a hash naming the
image they came from), so a later run on the same image reuses them, and "Clear"
removes exactly them.

DS9 facts these rely on (checked against DS9 8.4.1):

* ``file`` answers ``path/X_cal.fits[SCI]``; the ``[...]`` extension spec is kept apart,
  and a relative path is relative to DS9's working directory (``cd``).
* ``regions`` defaults to the *physical* system: always ask ``-system image``.
* ``fits`` answers the displayed HDU as a single FITS file with its header (and WCS).
* ``frame move ...`` over XPA only moves to another frame (a DS9 bug), so the two
  product frames are put after the image frame with DS9's own ``MoveNextFrame``/
  ``MovePrevFrame`` procedures through the ``tcl`` command.
* ``tile grid layout 3 1`` with more than three frames makes DS9 fail (``xx(3)``), so
  with more frames the grid is laid out automatically.
* Debian's DS9 does not load the ``img::window`` Tk package that ``saveimage png`` needs;
  `snapshot` loads it first.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, RegionError, TransportError
from ..safeio import atomic_write, write_text_atomically
from .names import check_ds9_name, ds9_word
from .transport import Transport

__all__ = [
    "ClearReport",
    "CommitOutcome",
    "DetectReport",
    "FrameRef",
    "SnapshotReport",
    "ToRegionsReport",
    "clear_frames",
    "commit",
    "detect",
    "find_rate_file",
    "image_frame",
    "mask_to_regions",
    "run_analysis_task",
    "analysis_tasks",
    "show_products",
    "snapshot",
    "split_file_spec",
]

_log = logging.getLogger(__name__)

ROLE_KEY = "CLAWROLE"
SOURCE_KEY = "CLAWSRCH"
SOURCE_NAME_KEY = "CLAWSRCN"
REGION_TAG = "ds9claw"
SNAPSHOT_SUFFIX = "_claws"

#: What a refused product tells the observer in DS9 (`ds9claw.overwrite.refuse_to_replace`).
OVERWRITE_HINT = (
    "ds9claw replaces only its own earlier products; move that file away, or allow "
    "replacing it (Claws > Detect claws with parameters... > Replace files not written by "
    "ds9claw; ds9claw ds9 detect --overwrite)"
)


# --------------------------------------------------------------------------- frames


def split_file_spec(spec: str) -> tuple[str, str]:
    """Split DS9's ``file`` answer into the file name and the extension spec.

    Parameters
    ----------
    spec : str
        ``"dir/X_cal.fits[SCI]"``, ``"X.fits"`` or ``""``.

    Returns
    -------
    tuple of str
        ``("dir/X_cal.fits", "[SCI]")``; the second item is ``""`` without brackets.
    """
    spec = spec.strip()
    if spec.endswith("]") and "[" in spec:
        cut = spec.index("[")
        return spec[:cut], spec[cut:]
    return spec, ""


@dataclass
class FrameRef:
    """The image frame an action works on.

    Attributes
    ----------
    frame : int
        DS9 frame number.
    spec : str
        DS9's ``file`` answer (``""`` for an image sent without a name).
    path : pathlib.Path or None
        The file on disk, when the frame came from one that exists.
    ext : str
        Extension spec (``"[SCI]"``) or ``""``.
    source_id : str
        Hash that ds9claw frames made from this image carry in ``CLAWSRCH``.
    """

    frame: int
    spec: str
    path: Path | None
    ext: str
    source_id: str

    @property
    def label(self) -> str:
        """Name of the image for messages."""
        if self.path is not None:
            return f"frame {self.frame} ({self.path.name}{self.ext})"
        return f"frame {self.frame}" + (f" ({self.spec})" if self.spec else "")


def _text(transport: Transport, command: str) -> str:
    return transport.get(command).decode(errors="replace").strip()


def _frames(transport: Transport) -> list[int]:
    return [int(x) for x in _text(transport, "frame all").split() if x.isdigit()]


def _current(transport: Transport) -> int:
    answer = _text(transport, "frame")
    if not answer.isdigit():
        raise InputError(f"DS9 has no current frame ({answer!r}): load an image first")
    return int(answer)


def _goto(transport: Transport, frame: int) -> None:
    transport.set(f"frame {frame}")


def _header_cards(transport: Transport) -> dict[str, str]:
    """Keyword -> raw value string of the current frame's header ({} for an empty frame)."""
    try:
        raw = transport.get("fits header")
    except TransportError:
        # DS9 refuses 'fits header' for an empty frame; make sure it is still there
        transport.get("version")
        return {}
    text = raw.decode("ascii", errors="replace")
    cards: dict[str, str] = {}
    lines = (
        text.splitlines() if "\n" in text else [text[i : i + 80] for i in range(0, len(text), 80)]
    )
    for line in lines:
        key = line[:8].strip()
        if key in (ROLE_KEY, SOURCE_KEY, SOURCE_NAME_KEY) and line[8:10] == "= ":
            value = line[10:].split("/")[0].strip().strip("'").strip()
            cards[key] = value
    return cards


def _role(transport: Transport) -> tuple[str | None, str | None]:
    cards = _header_cards(transport)
    return cards.get(ROLE_KEY), cards.get(SOURCE_KEY)


def _ds9_cwd(transport: Transport) -> Path | None:
    try:
        answer = _text(transport, "cd")
    except TransportError:
        transport.get("version")
        return None
    return Path(answer) if answer else None


def _source_id(frame: int, spec: str, path: Path | None) -> str:
    key = f"{path}{split_file_spec(spec)[1]}" if path is not None else f"frame:{frame}:{spec}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def _describe_frame(transport: Transport, frame: int) -> FrameRef:
    spec = _text(transport, "file")
    name, ext = split_file_spec(spec)
    path: Path | None = None
    if name and name.lower() not in ("stdin",):
        candidate = Path(name).expanduser()
        if not candidate.is_absolute():
            cwd = _ds9_cwd(transport)
            if cwd is not None:
                candidate = cwd / candidate
        if candidate.is_file():
            path = candidate.resolve()
    return FrameRef(
        frame=frame, spec=spec, path=path, ext=ext, source_id=_source_id(frame, spec, path)
    )


def image_frame(transport: Transport) -> FrameRef:
    """Find the image frame to work on and make it the current frame.

    The current frame, unless it is a ds9claw seed or mask frame: then the image frame
    it was made from.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    FrameRef

    Raises
    ------
    InputError
        DS9 has no frame, the current frame is empty, or it holds a cube.
    """
    return _image_frame(transport)[0]


def _image_frame(transport: Transport) -> tuple[FrameRef, list[int]]:
    """`image_frame`, also returning DS9's frame order."""
    frames = _frames(transport)
    if not frames:
        raise InputError("DS9 has no frame: load an exposure (File > Open, X_cal.fits) first")
    current = _current(transport)
    role, source = _role(transport)
    if role in ("seed", "mask") and source:
        for frame in frames:
            if frame == current:
                continue
            _goto(transport, frame)
            if (
                _role(transport)[0] is None
                and _describe_frame(transport, frame).source_id == source
            ):
                current = frame
                break
        else:
            _goto(transport, current)
            raise InputError(
                f"frame {current} is a ds9claw {role} frame whose image frame is gone: "
                "select the frame with the exposure"
            )
    size = _text(transport, "fits size").split()  # "0 0" when empty; "w h d" for a cube
    if not size or all(s == "0" for s in size):
        raise InputError(
            f"frame {current} is empty: load an exposure (File > Open, e.g. X_cal.fits) "
            "and draw a polygon around the claw"
        )
    if len(size) >= 3 and size[2].isdigit() and int(size[2]) > 1:
        raise InputError(
            f"frame {current} holds a 3-D cube ({' x '.join(size)}): ds9claw works on a 2-D "
            "image; open the 2-D SCI extension of a cal file (X_cal.fits[SCI])"
        )
    depth = _text(transport, "fits depth")
    if depth.isdigit() and int(depth) > 1:
        raise InputError(
            f"frame {current} holds a 3-D cube (depth {depth}): ds9claw works on a 2-D "
            "image; open the 2-D SCI extension of a cal file (X_cal.fits[SCI])"
        )
    return _describe_frame(transport, current), frames


def _product_frames(transport: Transport, ref: FrameRef, frames: Sequence[int]) -> dict[str, int]:
    """Frames holding this image's seed and mask (``{"seed": 2, "mask": 3}``, maybe partial)."""
    found: dict[str, int] = {}
    order = list(frames)
    start = order.index(ref.frame) if ref.frame in order else 0
    # look right after the image frame first: that is where an earlier run put them
    for frame in order[start + 1 :] + order[:start]:
        if frame == ref.frame:
            continue
        _goto(transport, frame)
        role, source = _role(transport)
        if role in ("seed", "mask") and source == ref.source_id and role not in found:
            found[role] = frame
        if len(found) == 2:
            break
    return found


def _move(transport: Transport, frame: int, after: int) -> None:
    """Put ``frame`` right after ``after`` in DS9's frame order."""
    for _ in range(64):
        order = _frames(transport)
        i, j = order.index(frame), order.index(after)
        if i == j + 1:
            return
        _goto(transport, frame)
        # DS9's own Frame > Move Frame procedures (the XPA 'frame move' only goes to a frame)
        transport.set("tcl {MovePrevFrame}" if i > j + 1 else "tcl {MoveNextFrame}")
    raise TransportError(f"could not move DS9 frame {frame} after frame {after}")


# --------------------------------------------------------------------------- detect


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
        lines = [
            f"ds9claw: detected claws in {self.image.label}: {self.n_masked} pixels masked "
            f"inside {self.n_regions} region(s)"
            + (f" minus {self.n_exclude} excluded" if self.n_exclude else "")
            + f" (sigma={p.sigma:g}, smooth={p.smooth:g}, minpixarea={p.minpixarea}, "
            f"median filter={p.median_filter}, ignore background="
            f"{'yes' if p.ignore_background else 'no'}; rms={self.rms:.4g})",
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
    from ..regions import RegionSource, parse_region_text

    shapes = parse_region_text(RegionSource.from_text(text, name="DS9"))
    include = sum(1 for s in shapes if s.has_area and s.include)
    exclude = sum(1 for s in shapes if s.has_area and not s.include)
    return include, exclude


def _frame_fits(data, header, role: str, ref: FrameRef) -> bytes:
    from astropy.io import fits

    hdr = fits.Header()
    if header is not None:
        for card in header.cards:
            if card.keyword in ("", "COMMENT", "HISTORY"):
                continue
            try:
                hdr.append(card)
            except (ValueError, KeyError):  # pragma: no cover - odd cards
                continue
    hdr[ROLE_KEY] = (role, "ds9claw frame: seed or mask")
    hdr[SOURCE_KEY] = (ref.source_id, "ds9claw: id of the image frame's file")
    hdr[SOURCE_NAME_KEY] = (ref.path.name if ref.path else ref.spec or f"frame {ref.frame}")[:60]
    hdu = fits.PrimaryHDU(data=data, header=hdr)
    buffer = io.BytesIO()
    hdu.writeto(buffer, output_verify="silentfix")
    return buffer.getvalue()


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


def show_products(
    transport: Transport,
    ref: FrameRef,
    seed_bytes: bytes,
    mask_bytes: bytes,
    *,
    names: tuple[str, str],
    frames: Sequence[int] | None = None,
) -> tuple[int, int, bool, list[str]]:
    """Show seed and mask in the two frames after the image frame; return to the image frame.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    ref : FrameRef
        The image frame.
    seed_bytes, mask_bytes : bytes
        FITS files to show (with ``CLAWROLE``/``CLAWSRCH`` keywords).
    names : tuple of str
        File names DS9 shows for the two frames.
    frames : sequence of int, optional
        DS9's frame order if already known.

    Returns
    -------
    seed_frame, mask_frame : int
    reused : bool
    notes : list of str
    """
    notes: list[str] = []
    order = list(frames) if frames is not None else _frames(transport)
    found = _product_frames(transport, ref, order)
    reused = len(found) == 2
    tiled = _text(transport, "tile") == "yes"
    if not reused and tiled:
        # DS9 fails to lay out a new frame in a manual grid that is full (xx(3) error)
        transport.set("tile grid mode automatic")
    for role in ("seed", "mask"):
        if role not in found:
            transport.set("frame new")
            found[role] = _current(transport)
            order.append(found[role])
    for frame, after in ((found["seed"], ref.frame), (found["mask"], found["seed"])):
        if order.index(frame) != order.index(after) + 1:
            _move(transport, frame, after)
            order = _frames(transport)

    # each tile command re-lays out and redraws every frame (30-40 ms for three
    # 2048 x 2048 frames): send them only when the layout is not already ours
    grid = "manual" if len(order) == 3 else "automatic"
    relaid = not reused
    if not (
        reused
        and tiled
        and _text(transport, "tile mode") == "grid"
        and _text(transport, "tile grid mode") == grid
        # DS9 answers only the row count of 'tile grid layout'
        and (grid == "automatic" or _text(transport, "tile grid layout") == "1")
    ):
        relaid = True
        transport.set("tile mode grid")
        transport.set(f"tile grid mode {grid}")
        if grid == "manual":
            transport.set("tile grid layout 3 1")
        transport.set("tile yes")
    if grid == "automatic":
        notes.append(
            f"DS9 has {len(order)} frames: tiled automatically (the 3 x 1 layout needs exactly 3)"
        )

    for role, payload, name in (("seed", seed_bytes, names[0]), ("mask", mask_bytes, names[1])):
        _goto(transport, found[role])
        # scale an empty new frame first, so DS9 draws the data once; a reused frame
        # keeps the scale it was given (each change redraws 2048 x 2048 pixels)
        if not reused or _text(transport, "scale mode") != "minmax":
            transport.set("scale linear")
            transport.set("scale mode minmax")
        transport.set(f"fits {ds9_word(name, what=f'{role} frame')}", payload)
    _goto(transport, ref.frame)
    if _text(transport, "scale mode") != "zscale":
        transport.set("scale mode zscale")
    if _text(transport, "lock frame") != "image":
        transport.set("lock frame image")
    if relaid:
        # let DS9 lay the frames out before it computes the zoom that fits them
        transport.set("tcl {update idletasks}")
    transport.set("zoom to fit")
    return found["seed"], found["mask"], reused, notes


def _fetch_inputs(transport: Transport, want_regions: bool) -> tuple[str | None, bytes]:
    regions = None
    if want_regions:
        regions = transport.get("regions -format ds9 -system image").decode(errors="replace")
    return regions, transport.get("fits")


def detect(
    transport: Transport,
    *,
    params=None,
    suffix: str | None = None,
    write: bool = True,
    regions_text: str | None = None,
    overwrite: bool = False,
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
    from concurrent.futures import ThreadPoolExecutor

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ref, frames = _image_frame(transport)
    timings["ds9 query"] = time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ds9claw-io") as pool:
        # DS9 answers (a few tens of ms) while this thread imports numpy/astropy/scipy
        fetched = pool.submit(_fetch_inputs, transport, regions_text is None)
        t = time.perf_counter()
        import numpy as np
        from astropy.io import fits  # noqa: F401  (imported here to overlap with DS9's reply)

        from ..api import DEFAULT_SUFFIX, detect_exposure, provenance_cards, write_products
        from ..detect import DetectionParameters
        from ..fitsio import exposure_from_bytes, output_paths, product_header
        from ..overwrite import refuse_to_replace
        from ..regions import RegionSource

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
            stem = _stem(split_file_spec(ref.spec)[0]) if ref.spec else f"frame{ref.frame}"
            names = (f"{stem}{suffix}.fits", f"{stem}{suffix}_zeroonemask.fits")
        # both checks come before anything is computed, shown or written
        for role, name in zip(("seed", "mask"), names, strict=True):
            check_ds9_name(name, what=f"{role} frame")
        if writing:
            refuse_to_replace(planned.values(), overwrite=overwrite, hint=OVERWRITE_HINT)
        timings["imports"] = time.perf_counter() - t
        fetched_regions, image_bytes = fetched.result()

    if regions_text is None:
        regions_text = fetched_regions or ""
        region_name = f"DS9 frame {ref.frame} regions"
    else:
        region_name = "regions given"
    n_include, n_exclude = _count_shapes(regions_text)
    if n_include == 0:
        if n_exclude:
            raise RegionError(
                f"{region_name}: only exclusion shapes ({n_exclude}); draw an include polygon "
                "around the claw (Region > Shape > Polygon; uncheck Region > Properties > "
                "Exclude), then run Detect claws again"
            )
        raise RegionError(
            f"no region drawn on DS9 {ref.label}: draw a polygon around the claw "
            "(Edit > Region, then Region > Shape > Polygon, click and drag), then run "
            "Detect claws again"
        )

    t = time.perf_counter()
    exposure = exposure_from_bytes(image_bytes, name=f"DS9 {ref.label}", read_dq=False)
    del image_bytes
    if ref.path is not None:
        exposure.dq = _read_dq(ref.path, exposure.shape, ref.ext)
        exposure.path = ref.path
    timings["read image"] = time.perf_counter() - t

    t = time.perf_counter()
    source = RegionSource.from_text(regions_text, name=region_name)
    result = detect_exposure(exposure, include=[source], params=params)
    timings["detect"] = time.perf_counter() - t

    t = time.perf_counter()
    header = product_header(
        exposure,
        provenance_cards(
            params,
            source=str(ref.path or ref.spec or f"frame {ref.frame}"),
            include=[source],
            result=result,
        ),
    )
    seed_fits = _frame_fits(np.asarray(result.seed, dtype=np.float32), header, "seed", ref)
    mask_fits = _frame_fits(np.asarray(result.mask, dtype=np.uint8), header, "mask", ref)
    timings["encode"] = time.perf_counter() - t

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ds9claw-write") as pool:
        # the products go to disk while DS9 loads the frames
        written = (
            pool.submit(
                write_products,
                exposure,
                result,
                source=ref.path,
                include=[source],
                suffix=suffix,
                overwrite=overwrite,
            )
            if writing
            else None
        )
        seed_frame, mask_frame, reused, notes = show_products(
            transport, ref, seed_fits, mask_fits, names=names, frames=frames
        )
        timings["display"] = time.perf_counter() - t
        seed_path = mask_path = None
        if written is not None:
            paths = written.result()
            seed_path, mask_path = paths["seed"], paths["mask"]
    timings["total"] = time.perf_counter() - t0
    return DetectReport(
        image=ref,
        seed_frame=seed_frame,
        mask_frame=mask_frame,
        reused=reused,
        n_masked=int(result.n_masked),
        n_regions=n_include,
        n_exclude=n_exclude,
        rms=float(result.rms_value),
        seed_path=seed_path,
        mask_path=mask_path,
        params=params,
        timings=timings,
        notes=notes,
    )


def _stem(name: str) -> str:
    from ..fitsio import stem_of

    return stem_of(name)


# --------------------------------------------------------------------------- commit


def find_rate_file(cal: Path, rate_dir: str | Path | None = None) -> Path:
    """The ``<dataset>_rate.fits`` of a cal file.

    Parameters
    ----------
    cal : pathlib.Path
        The ``*_cal.fits`` file shown in DS9.
    rate_dir : str or pathlib.Path, optional
        Directory of the rate files (default: the cal file's directory).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        When no such rate file exists (the message says where it looked).
    """
    from ..commit import dataset_name

    dataset = dataset_name(cal)
    directories = [Path(rate_dir).expanduser()] if rate_dir else [cal.parent]
    tried = []
    for directory in directories:
        for name in (f"{dataset}_rate.fits", f"{dataset}_rate.fits.gz"):
            candidate = directory / name
            tried.append(str(candidate))
            if candidate.is_file():
                return candidate
    where = "the rate directory" if rate_dir else "the cal file's directory"
    raise InputError(
        f"no rate file for {cal.name}: {tried[0]} does not exist; put {dataset}_rate.fits in "
        f"{where} or set the rate directory (Claws > Commit mask to rate DQ (rate directory)"
        "... or --rate-dir DIR)"
    )


@dataclass
class CommitOutcome:
    """What `commit` did.

    Attributes
    ----------
    image : FrameRef
        The image frame.
    mask_frame : int
        The frame holding the mask that was committed.
    mask_path : pathlib.Path
        The mask file committed.
    report : ds9claw.commit.CommitReport
        The commit engine's report.
    """

    image: FrameRef
    mask_frame: int
    mask_path: Path
    report: object

    def summary(self) -> str:
        """Lines telling the observer what happened."""
        r = self.report
        lines = [f"ds9claw: {r.summary()}"]
        if r.status == "committed":
            lines.append(
                f"  {r.n_masked} pixels of {r.output.name} now carry {r.flag_string} "
                f"(mask {self.mask_path.name}, frame {self.mask_frame})"
            )
            if r.backup is not None:
                lines.append(f"  backup: {r.backup}")
        lines += [f"  note: {n}" for n in r.notes]
        return "\n".join(lines)


def commit(
    transport: Transport,
    *,
    rate_dir: str | Path | None = None,
    flags: str | int | None = None,
    dry_run: bool = False,
) -> CommitOutcome:
    """Commit the mask shown for DS9's image frame into the matching rate file's DQ.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    rate_dir : str or pathlib.Path, optional
        Directory of the rate files (default: beside the cal file).
    flags : str or int, optional
        DQ bits to OR in (default `ds9claw.dq.DEFAULT_COMMIT_FLAGS`).
    dry_run : bool
        Count only; write nothing.

    Returns
    -------
    CommitOutcome

    Raises
    ------
    InputError
        The frame has no file, no mask was made yet, the mask file is gone or differs
        from the one shown, or the rate file is missing.
    CommitError
        The rate file could not be written (it is unchanged).
    """
    from ..commit import commit_mask
    from ..dq import DEFAULT_COMMIT_FLAGS

    ref = image_frame(transport)
    if ref.path is None:
        what = f"from {ref.spec!r}, which is not a file on disk" if ref.spec else "without a file"
        raise InputError(
            f"DS9 {ref.label} was loaded {what}: the commit needs the cal file on disk to find "
            "its rate file; open X_cal.fits from disk, run Detect claws, then commit"
        )
    found = _product_frames(transport, ref, _frames(transport))
    if "mask" not in found:
        _goto(transport, ref.frame)
        raise InputError(
            f"no mask yet for {ref.label}: run Claws > Detect claws first, then commit"
        )
    _goto(transport, found["mask"])
    mask_spec = _text(transport, "file")
    mask_path = Path(split_file_spec(mask_spec)[0])
    if not mask_path.is_absolute() or not mask_path.is_file():
        _goto(transport, ref.frame)
        raise InputError(
            f"the mask in frame {found['mask']} has no file on disk ({mask_spec or 'no name'}): "
            "run Claws > Detect claws again to write it"
        )
    shown = transport.get("fits")
    _goto(transport, ref.frame)
    _check_same_mask(shown, mask_path)
    rate = find_rate_file(ref.path, rate_dir)
    report = commit_mask(
        rate,
        [mask_path],
        flags=DEFAULT_COMMIT_FLAGS if flags is None else flags,
        dry_run=dry_run,
    )
    return CommitOutcome(image=ref, mask_frame=found["mask"], mask_path=mask_path, report=report)


def _check_same_mask(shown: bytes, path: Path) -> None:
    import numpy as np
    from astropy.io import fits

    with fits.open(io.BytesIO(shown), memmap=False) as hdul:
        in_ds9 = np.asarray(hdul[0].data) > 0
    with fits.open(path, memmap=False) as hdul:
        on_disk = np.asarray(hdul[0].data) > 0
    if in_ds9.shape != on_disk.shape or not np.array_equal(in_ds9, on_disk):
        raise InputError(
            f"{path.name} on disk differs from the mask shown in DS9 (changed since?): "
            "run Claws > Detect claws again, then commit"
        )


# --------------------------------------------------------------------------- mask to regions


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

    from ..regions import mask_to_polygons, polygons_to_ds9

    ref = image_frame(transport)
    found = _product_frames(transport, ref, _frames(transport))
    if "mask" not in found:
        _goto(transport, ref.frame)
        raise InputError(f"no mask yet for {ref.label}: run Claws > Detect claws first")
    _goto(transport, found["mask"])
    with fits.open(io.BytesIO(transport.get("fits")), memmap=False) as hdul:
        mask = np.asarray(hdul[0].data) > 0
    _goto(transport, ref.frame)
    if not mask.any():
        raise InputError(f"the mask of {ref.label} is empty: nothing to trace")
    polygons = mask_to_polygons(mask, tolerance=tolerance)
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
            write_text_atomically(backup, current)
            transport.set("regions delete all")
    transport.set("regions", text.encode())
    return ToRegionsReport(image=ref, n_polygons=len(polygons), replaced=replaced, backup=backup)


# --------------------------------------------------------------------------- snapshot


@dataclass
class SnapshotReport:
    """What `snapshot` wrote.

    Attributes
    ----------
    image : FrameRef
        The image frame.
    paths : list of pathlib.Path
        Files written (PNG, EPS).
    """

    image: FrameRef
    paths: list[Path]

    def summary(self) -> str:
        """Lines telling the observer what happened."""
        return (
            "ds9claw: saved the view of "
            + self.image.label
            + "\n"
            + "\n".join(f"  wrote {p}" for p in self.paths)
        )


def snapshot(
    transport: Transport,
    *,
    output: str | Path | None = None,
    formats: Sequence[str] = ("png", "eps"),
    width: int = 1200,
    height: int = 350,
) -> SnapshotReport:
    """Save the three-panel view as ``<stem>_claws.png`` (and ``.eps``) beside the image.

    DS9's canvas is set to ``width`` x ``height`` for the snapshot (the size of the
    command this replaces) and put back afterwards.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    output : str or pathlib.Path, optional
        Base name (without extension) of the files; default ``<dir>/<stem>_claws``
        beside the image file.
    formats : sequence of str
        ``png``, ``eps`` (any of DS9's ``saveimage`` formats but ``fits``).
    width, height : int
        Canvas size for the snapshot in screen pixels.

    Returns
    -------
    SnapshotReport

    Raises
    ------
    InputError
        No file to name the snapshot after and no ``output``, or no seed/mask frames.
    """
    from ..fitsio import stem_of

    ref = image_frame(transport)
    found = _product_frames(transport, ref, _frames(transport))
    _goto(transport, ref.frame)
    if len(found) < 2:
        raise InputError(f"no seed and mask frames for {ref.label}: run Claws > Detect claws first")
    if output is None:
        if ref.path is None:
            raise InputError(
                f"DS9 {ref.label} has no file to name the snapshot after: give --output BASE"
            )
        base = ref.path.parent / f"{stem_of(ref.path)}{SNAPSHOT_SUFFIX}"
    else:
        base = Path(output).expanduser()
        if base.suffix.lower() in {"." + f for f in formats}:
            base = base.with_suffix("")
    check_ds9_name(base, what="snapshot file")  # DS9 is given its name to write it
    base.parent.mkdir(parents=True, exist_ok=True)
    old_w, old_h = _text(transport, "width"), _text(transport, "height")
    paths: list[Path] = []
    try:
        transport.set(f"width {int(width)}")
        transport.set(f"height {int(height)}")
        # lay the canvas out at its new size before fitting; bring DS9 to the front so
        # that the window grab of 'saveimage png' sees no other window over it
        transport.set("tcl", b"update idletasks\nraise $ds9(top)\nupdate idletasks\n")
        transport.set("zoom to fit")
        for fmt in formats:
            fmt = fmt.lower()
            if fmt == "png":
                # Debian's DS9 does not load the Tk package that grabs the window
                transport.set("tcl {catch {package require img::window}}")
            path = base.parent / f"{base.name}.{fmt}"
            # DS9 writes into a temporary file ds9claw created (O_EXCL, random name, never
            # a link), which is checked again before it is renamed into place
            with atomic_write(path) as tmp:
                transport.set(f"saveimage {fmt} {ds9_word(tmp, what='snapshot file')}")
                if not tmp.is_file() or tmp.stat().st_size == 0:
                    raise TransportError(f"DS9 did not write the {fmt} snapshot {path}")
            paths.append(path)
    finally:
        if old_w.isdigit() and old_h.isdigit():
            transport.set(f"width {old_w}")
            transport.set(f"height {old_h}")
            transport.set("tcl {update idletasks}")
            transport.set("zoom to fit")
    return SnapshotReport(image=ref, paths=paths)


# --------------------------------------------------------------------------- clear


@dataclass
class ClearReport:
    """What `clear_frames` did.

    Attributes
    ----------
    deleted : list of int
        Frames deleted.
    current : int or None
        The frame current afterwards.
    """

    deleted: list[int]
    current: int | None

    def summary(self) -> str:
        """One line telling the observer what happened."""
        if not self.deleted:
            return "ds9claw: no ds9claw frame to clear"
        listing = ", ".join(str(f) for f in self.deleted)
        return f"ds9claw: deleted {len(self.deleted)} ds9claw frame(s): {listing}"


def clear_frames(transport: Transport) -> ClearReport:
    """Delete every seed and mask frame made by ds9claw; untile when one frame is left.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    ClearReport
    """
    frames = _frames(transport)
    if not frames:
        return ClearReport(deleted=[], current=None)
    start = _current(transport)
    role, source = _role(transport)
    deleted: list[int] = []
    back = start
    for frame in frames:
        _goto(transport, frame)
        this_role, this_source = _role(transport)
        if this_role in ("seed", "mask"):
            transport.set(f"frame delete {frame}")
            deleted.append(frame)
        elif (
            role in ("seed", "mask")
            and this_role is None
            and source
            and (_describe_frame(transport, frame).source_id == source)
        ):
            back = frame
    remaining = _frames(transport)
    current = None
    if remaining:
        current = back if back in remaining else remaining[0]
        _goto(transport, current)
        if len(remaining) == 1:
            transport.set("tile no")
    return ClearReport(deleted=deleted, current=current)


# --------------------------------------------------------------------------- menu machinery


def analysis_tasks(transport: Transport) -> list[str]:
    """Names of the Analysis-menu tasks DS9 has loaded, in DS9's task order.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.

    Returns
    -------
    list of str
        Task names; ``analysis task <i>`` runs ``names[i]``.
    """
    try:
        listing = transport.get("analysis task").decode(errors="replace")
    except TransportError:
        transport.get("version")  # DS9 8.4 fails on this while no task is loaded
        return []
    names: list[str] = []
    for line in listing.splitlines():
        number, _, label = line.partition(" ")
        if number.isdigit():
            names.append(label.strip())
    return names


def _tcl_value(transport: Transport, expression: str, scratch: Path) -> str:
    """Evaluate a Tcl expression in DS9 and return its value (DS9 writes it to a file).

    DS9 writes the value to a temporary name and renames it, so the file appears
    complete.  A DS9 busy inside a snapshot or a task start has been seen to acknowledge
    the request a moment before running it, so the file is awaited briefly, and the
    request sent once more before giving up with a `TransportError`.
    """
    out = scratch / f".ds9claw-tcl-{os.getpid()}-{time.monotonic_ns()}.out"
    part = out.with_suffix(".part")
    part_word, out_word = ds9_word(part, what="scratch file"), ds9_word(out, what="scratch file")
    script = (
        f"set __ds9claw [open {part_word} w]; puts -nonewline $__ds9claw [{expression}]; "
        f"close $__ds9claw; file rename -force {part_word} {out_word}"
    )
    try:
        for _attempt in range(2):
            transport.set("tcl", script.encode())
            deadline = time.monotonic() + 2.0
            while not out.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            if out.exists():
                return out.read_text()
        raise TransportError(
            f"DS9 {transport.target!r} acknowledged a Tcl request but did not run it; "
            "close its dialogs and try again"
        )
    finally:
        out.unlink(missing_ok=True)
        part.unlink(missing_ok=True)


def run_analysis_task(
    transport: Transport, name: str, *, timeout: float = 120.0, scratch: Path | None = None
) -> str:
    """Run an Analysis-menu entry as a click would (``analysis task <n>``), wait, return its text.

    Only for entries without a parameter dialog: DS9 serves no XPA request while an
    XPA-started task shows a dialog.

    Parameters
    ----------
    transport : Transport
        Connection to DS9 (on this machine: DS9 writes the task state to ``scratch``).
    name : str
        The entry's label (``"Detect claws"``).
    timeout : float
        Seconds to wait for the task to end.
    scratch : pathlib.Path, optional
        Directory DS9 and this process share (default: a new private temporary directory).

    Returns
    -------
    str
        The task's text output as DS9 shows it.

    Raises
    ------
    InputError
        No such entry is loaded.
    TransportError
        The task did not end within ``timeout``.
    """
    import tempfile

    if scratch is None:
        # DS9 writes the answers by name: in a private directory nobody can plant a link
        with tempfile.TemporaryDirectory(prefix="ds9claw-task-") as private:
            return run_analysis_task(transport, name, timeout=timeout, scratch=Path(private))
    names = analysis_tasks(transport)
    if name not in names:
        raise InputError(
            f"DS9 has no analysis task {name!r}: load the analysis file first "
            "(ds9claw analysis install)"
        )
    index = names.index(name)
    window = f".atmenu{index}txt.text"
    before = ""
    if _tcl_value(transport, f"winfo exists {window}", scratch) == "1":
        before = _tcl_value(transport, f"{window} get 1.0 end", scratch)
    transport.set(f"analysis task {index}")
    deadline = time.monotonic() + timeout
    while _tcl_value(transport, f"info exists ianalysis(menu,{index},pid)", scratch) == "1":
        if time.monotonic() > deadline:
            raise TransportError(f"analysis task {name!r} still running after {timeout:g} s")
        time.sleep(0.02)
    if _tcl_value(transport, f"winfo exists {window}", scratch) != "1":
        return ""
    text = _tcl_value(transport, f"{window} get 1.0 end", scratch)
    return (
        text[len(before.rstrip("\n")) :].strip() if text.startswith(before.rstrip("\n")) else text
    )

"""DS9 region files and strings -> boolean pixel masks, and masks -> DS9 polygons.

Region text is read with a small DS9 tokenizer that keeps each shape's coordinate
system, its include/exclude sign (``-polygon(...)``) and its line number.  Then:

* ``physical`` shapes are converted to ``image`` with the exposure's ``LTV``/``LTM``
  keywords (identity when absent): the ``regions`` package skips physical shapes with
  only a warning, which silently gave empty masks before.
* ``image`` polygons, boxes, circles and ellipses are rasterised here, with the rule of
  ``regions``' ``to_mask(mode="center")``: a pixel belongs to a shape when its centre
  does.  This avoids importing ``regions`` (half a second) on the hot path; the test
  suite checks pixel-for-pixel agreement with ``regions`` on every real region file.
* everything else that has an area (sky systems such as ``fk5``, ``icrs``,
  ``galactic``, ``ecliptic``; annuli; ...) goes through ``regions``
  (``Regions.parse(..., format="ds9")`` and ``to_pixel(wcs)``); polygons converted to
  pixels are then filled by `ds9claw.raster` like image polygons, other shapes by
  ``regions``' ``to_mask`` after a check of their bounding box.

What a region may cost is bounded by the limits of `ds9claw.region_limits` (shapes,
vertices, rasterising work); memory follows the image, not the number of vertices.

Shapes without area (point, line, text, vector, ruler, compass, projection) are
skipped with a warning; an include set left empty by that, or lying entirely outside
the image, or in a sky system on an image without WCS, is a `RegionError` naming the
source and the reason.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import RegionError
from .raster import MAX_COORDINATE, ellipse_cost, fill_ellipse, fill_polygon, polygon_cost
from .region_limits import (
    MAX_REGION_SHAPES,
    MAX_REGION_VERTICES,
    MAX_REGIONS_BOX,
    MAX_SKY_VERTICES,
    RasterBudget,
)

__all__ = [
    "RegionShape",
    "RegionSource",
    "mask_to_polygons",
    "parse_region_text",
    "polygons_to_ds9",
    "rasterize_shape",
    "region_masks",
]

_log = logging.getLogger(__name__)

_PIXEL_SYSTEMS = {"image", "physical"}
_SKY_SYSTEMS = {"fk4", "fk5", "icrs", "galactic", "ecliptic", "j2000", "b1950", "wcs"}
_ALL_SYSTEMS = _PIXEL_SYSTEMS | _SKY_SYSTEMS | {"linear", "amplifier", "detector"}
_FAST_SHAPES = {"polygon", "box", "circle", "ellipse"}
_NO_AREA_SHAPES = {
    "point",
    "line",
    "text",
    "vector",
    "ruler",
    "compass",
    "projection",
    "segment",
    "# composite",
    "composite",
}
_AREA_SHAPES = _FAST_SHAPES | {"annulus", "panda", "epanda", "bpanda"}
_SHAPE_RE = re.compile(r"^\s*([+-]?)\s*([a-zA-Z]+)\s*\((.*?)\)\s*(.*)$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
#: A character no plain number has: on the alphabet left, float() accepts exactly what
#: _NUMBER_RE does, so a long argument list is checked with one scan.
_NOT_NUMBER_CHAR_RE = re.compile(r"[^0-9eE+\-.,]")
#: Characters that matter when splitting a line (everything else is skipped in C).
_SPLIT_CHAR_RE = re.compile(r"[\"'(){}\[\];#]")
#: Largest region text accepted (a hand-drawn file is a few kB).
MAX_REGION_TEXT = 8 * 1024 * 1024
#: Largest coordinate or size (pixels) of a shape.
_MAX_COORDINATE = MAX_COORDINATE


@dataclass(frozen=True)
class RegionSource:
    """Region text with the name used in messages (a file path or "DS9 frame 1").

    Attributes
    ----------
    text : str
        DS9 region text.
    name : str
        Where the text came from.
    sha256 : str
        Checksum of the text (bytes of the file when read from one).
    """

    text: str
    name: str
    sha256: str = ""

    @classmethod
    def from_file(cls, path: str | Path) -> RegionSource:
        """Read a DS9 region file.

        Parameters
        ----------
        path : str or pathlib.Path
            The file.

        Returns
        -------
        RegionSource

        Raises
        ------
        RegionError
            When the file is missing, unreadable, too large or not text.
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise RegionError(f"region file {path} does not exist: check the name") from None
        except IsADirectoryError:
            raise RegionError(f"region file {path} is a directory, not a file") from None
        except OSError as error:
            raise RegionError(f"cannot read region file {path}: {error.strerror}") from None
        if len(raw) > MAX_REGION_TEXT:
            raise RegionError(
                f"region file {path} is {len(raw)} bytes, more than the {MAX_REGION_TEXT}-byte "
                "limit: a DS9 region file is a few kB (simplify the shapes)"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("latin-1")
            except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes anything
                raise RegionError(f"region file {path} is not text") from None
        if "\x00" in text:
            raise RegionError(f"region file {path} is binary, not a DS9 region file")
        return cls(text=text, name=str(path), sha256=hashlib.sha256(raw).hexdigest())

    @classmethod
    def from_text(cls, text: str, name: str = "<region text>") -> RegionSource:
        """Wrap region text (from DS9, SAMP or a string).

        Parameters
        ----------
        text : str
            DS9 region text.
        name : str
            Name used in messages.

        Returns
        -------
        RegionSource
        """
        if len(text) > MAX_REGION_TEXT:
            raise RegionError(
                f"region text from {name} is {len(text)} characters, more than the "
                f"{MAX_REGION_TEXT}-character limit (simplify the shapes)"
            )
        return cls(text=text, name=name, sha256=hashlib.sha256(text.encode()).hexdigest())

    @classmethod
    def coerce(cls, value: RegionSource | str | Path) -> RegionSource:
        """A `RegionSource` from a source, a path, or a path string."""
        if isinstance(value, RegionSource):
            return value
        return cls.from_file(value)


@dataclass(frozen=True)
class RegionShape:
    """One shape of a DS9 region file, as written.

    Attributes
    ----------
    name : str
        Shape name in lower case (``polygon``, ``circle`` ...).
    args : tuple of str
        Arguments as written.
    system : str
        Coordinate system in effect (``image``, ``physical``, ``fk5`` ...).
    include : bool
        ``False`` for DS9 exclusion shapes (``-polygon(...)``).
    line : int
        1-based line number in the source.
    """

    name: str
    args: tuple[str, ...]
    system: str
    include: bool = True
    line: int = 0
    properties: str = field(default="", compare=False)

    @property
    def has_area(self) -> bool:
        """Whether the shape encloses pixels."""
        return self.name in _AREA_SHAPES

    @property
    def numeric(self) -> bool:
        """Whether every argument is a plain number (no units, no sexagesimal)."""
        if len(self.args) <= 16:
            return all(_NUMBER_RE.match(a) for a in self.args)
        # polygons: one scan; a malformed number then fails float() with a RegionError
        return _NOT_NUMBER_CHAR_RE.search(",".join(self.args)) is None

    def ds9(self) -> str:
        """The shape as a DS9 line (system not included)."""
        sign = "" if self.include else "-"
        return f"{sign}{self.name}({','.join(self.args)})"


def parse_region_text(source: RegionSource) -> list[RegionShape]:
    """Tokenize DS9 region text into shapes with their coordinate systems.

    Parameters
    ----------
    source : RegionSource
        The text and its name.

    Returns
    -------
    list of RegionShape
        Every shape, in order.

    Raises
    ------
    RegionError
        When a line is neither a comment, a global line, a coordinate system, nor a
        shape, or when the text passes a limit of `ds9claw.region_limits`.
    """
    shapes: list[RegionShape] = []
    system = "physical"  # DS9's default when a file names no system
    vertices = sky_vertices = 0
    for number, raw_line in enumerate(source.text.splitlines(), start=1):
        for part in _split_line(raw_line):
            lower = part.lower()
            if not part or part.startswith("#") or lower.startswith("global"):
                continue
            if lower in _ALL_SYSTEMS:
                system = lower
                continue
            if lower.startswith("tile ") or lower == "tile":
                continue
            match = _SHAPE_RE.match(part)
            if not match:
                raise RegionError(
                    f"{source.name}, line {number}: cannot read {part[:60]!r} as a DS9 region "
                    "(save regions from DS9 with Region > Save, format ds9)"
                )
            sign, name, args, rest = match.groups()
            if len(shapes) >= MAX_REGION_SHAPES:
                raise RegionError(
                    f"{source.name}, line {number}: more than {MAX_REGION_SHAPES} shapes, the "
                    "limit for one region file: merge shapes or split the file"
                )
            if name.lower() == "polygon":
                count = (args.count(",") + 1) // 2
                vertices += count
                sky_vertices += count if system in _SKY_SYSTEMS else 0
                _check_vertices(source, number, vertices, sky_vertices)
            shapes.append(
                RegionShape(
                    name=name.lower(),
                    args=tuple(a.strip() for a in args.split(",") if a.strip()),
                    system=system,
                    include=sign != "-",
                    line=number,
                    properties=rest,
                )
            )
    return shapes


def _check_vertices(source: RegionSource, line: int, vertices: int, sky_vertices: int) -> None:
    """Refuse polygons with more vertices than the limits (counted as they are read)."""
    if vertices > MAX_REGION_VERTICES:
        raise RegionError(
            f"{source.name}, line {line}: polygons with more than {MAX_REGION_VERTICES} "
            "vertices in all, the limit for one region file: simplify the outlines "
            "(a vertex every pixel or two is plenty)"
        )
    if sky_vertices > MAX_SKY_VERTICES:
        raise RegionError(
            f"{source.name}, line {line}: sky-coordinate polygons with more than "
            f"{MAX_SKY_VERTICES} vertices in all, the limit for sky coordinates: save the "
            f"regions in image coordinates (limit {MAX_REGION_VERTICES}) or simplify them"
        )


def _split_line(line: str) -> Iterable[str]:
    """Split a DS9 line on ';' outside parentheses, braces and quotes; drop comments."""
    line = line.strip()
    if line.startswith("#"):
        # "# shape(...)" lines are DS9's commented-out shapes (e.g. text, composite)
        return [line]
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for found in _SPLIT_CHAR_RE.finditer(line):
        i, char = found.start(), found.group()
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif char == ";" and depth == 0:
            parts.append(line[start:i].strip())
            start = i + 1
        elif char == "#" and depth == 0:
            parts.append(line[start:i].strip() + " " + line[i:])
            start = len(line)
            break
    parts.append(line[start:].strip())
    return [p.strip() for p in parts if p.strip()]


def _physical_to_image(header) -> np.ndarray | None:
    """Affine matrix [[a, b, c], [d, e, f]] mapping physical (x, y) to image, or None."""
    if header is None:
        return None
    ltm = np.array(
        [
            [float(header.get("LTM1_1", 1.0)), float(header.get("LTM1_2", 0.0))],
            [float(header.get("LTM2_1", 0.0)), float(header.get("LTM2_2", 1.0))],
        ]
    )
    ltv = np.array([float(header.get("LTV1", 0.0)), float(header.get("LTV2", 0.0))])
    return np.column_stack([ltm, ltv])


def _pixel_shape_params(shape: RegionShape, header) -> tuple[str, np.ndarray]:
    """Shape in 0-based image pixels: (kind, parameters)."""
    try:
        values = np.array(shape.args, dtype=np.float64)
    except ValueError:
        raise RegionError(f"non-numeric argument in {shape.ds9()}") from None
    if values.size and not np.abs(values).max() <= _MAX_COORDINATE:  # also inf, NaN
        raise RegionError(
            f"a coordinate of {shape.ds9()[:60]}... is not a finite number below "
            f"{_MAX_COORDINATE:.0e} pixels"
        )
    affine = None
    scale = 1.0
    if shape.system == "physical":
        affine = _physical_to_image(header)
        if affine is not None:
            scale = math.sqrt(abs(np.linalg.det(affine[:, :2])))

    def points(xy: np.ndarray) -> np.ndarray:
        xy = xy.reshape(-1, 2)
        if affine is not None:
            xy = xy @ affine[:, :2].T + affine[:, 2]
        return xy - 1.0  # DS9 pixels are 1-based

    if shape.name == "polygon":
        if values.size < 6 or values.size % 2:
            raise RegionError(f"polygon needs at least 3 vertex pairs: {shape.ds9()}")
        return "polygon", points(values)
    if shape.name == "circle" and values.size == 3:
        return "ellipse", np.r_[points(values[:2])[0], values[2] * scale, values[2] * scale, 0.0]
    if shape.name == "ellipse" and values.size in (4, 5):
        angle = values[4] if values.size == 5 else 0.0
        return "ellipse", np.r_[points(values[:2])[0], values[2:4] * scale, angle]
    if shape.name == "box" and values.size in (4, 5):
        angle = values[4] if values.size == 5 else 0.0
        cx, cy = points(values[:2])[0]
        w, h = values[2] * scale / 2, values[3] * scale / 2
        t = math.radians(angle)
        corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]])
        rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
        return "polygon", corners @ rot.T + [cx, cy]
    raise RegionError(f"cannot use {shape.ds9()}: wrong number of arguments for a {shape.name}")


def rasterize_shape(kind: str, params: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centres lie inside a pixel-coordinate shape.

    Parameters
    ----------
    kind : {"polygon", "ellipse"}
        ``polygon``: ``params`` is an (N, 2) array of 0-based (x, y) vertices.
        ``ellipse``: ``params`` is (x, y, semi-axis along x, semi-axis along y, angle deg).
    params : numpy.ndarray
        Shape parameters.
    shape : tuple of int
        Image shape (ny, nx).

    Returns
    -------
    numpy.ndarray
        Boolean mask of ``shape``; parts outside the image are dropped.
    """
    mask = np.zeros(shape, bool)
    if kind == "polygon":
        fill_polygon(mask, np.asarray(params, np.float64))
    else:
        fill_ellipse(mask, np.asarray(params, np.float64))
    return mask


def region_masks(
    shape: tuple[int, int],
    include: Sequence[RegionSource | str | Path] = (),
    exclude: Sequence[RegionSource | str | Path] = (),
    *,
    header=None,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Rasterise include and exclude region sources on an image grid.

    Shapes written with DS9's ``-`` sign count as exclusions wherever they appear.

    Parameters
    ----------
    shape : tuple of int
        Image shape (ny, nx).
    include, exclude : sequence of RegionSource, str or pathlib.Path
        Region sources (paths are read as DS9 region files).
    header : astropy.io.fits.Header, optional
        Header of the image: its WCS converts sky shapes, its LTV/LTM keywords physical
        shapes.

    Returns
    -------
    include_mask, exclude_mask : numpy.ndarray or None
        Boolean masks, or ``None`` when there was nothing of that kind.

    Raises
    ------
    RegionError
        When a source cannot be read, has no usable include shape, lies outside the
        image, or needs a WCS the image lacks.
    """
    include_mask = np.zeros(shape, bool) if include else None
    exclude_mask = np.zeros(shape, bool)
    any_exclude = False
    budget = RasterBudget(shape)
    for sources, as_exclude in ((include, False), (exclude, True)):
        for value in sources:
            source = RegionSource.coerce(value)
            plus, minus, n_plus = _source_masks(source, shape, header, budget)
            if as_exclude:
                exclude_mask |= plus | minus
                any_exclude = any_exclude or n_plus > 0 or minus.any()
                continue
            if n_plus == 0:
                what = "only exclusion shapes" if minus.any() else "no shape with an area"
                raise RegionError(
                    f"{source.name}: {what} to include; draw a polygon around the claw "
                    "(include=1, not '-polygon')"
                )
            if not plus.any():
                raise RegionError(
                    f"{source.name}: the include shapes lie entirely outside the "
                    f"{shape[1]}x{shape[0]} image: were they drawn on another exposure?"
                )
            assert include_mask is not None
            include_mask |= plus
            if minus.any():
                exclude_mask |= minus
                any_exclude = True
    return include_mask, (exclude_mask if any_exclude else None)


def _source_masks(
    source: RegionSource, shape: tuple[int, int], header, budget: RasterBudget
) -> tuple[np.ndarray, np.ndarray, int]:
    """(include mask, exclusion-shape mask, number of include shapes with area)."""
    shapes = parse_region_text(source)
    plus = np.zeros(shape, bool)
    minus = np.zeros(shape, bool)
    n_plus = 0
    via_regions: list[RegionShape] = []
    for item in shapes:
        if not item.has_area:
            _log.warning(
                "%s, line %d: skipping %s (it has no area)", source.name, item.line, item.name
            )
            continue
        if item.system in _PIXEL_SYSTEMS and item.name in _FAST_SHAPES and item.numeric:
            try:
                kind, params = _pixel_shape_params(item, header)
            except RegionError as error:
                raise RegionError(f"{source.name}, line {item.line}: {error}") from None
            where = f"{source.name}, line {item.line}"
            _fill_shape(plus if item.include else minus, kind, params, budget, where)
        elif item.system in {"linear", "amplifier", "detector"}:
            raise RegionError(
                f"{source.name}, line {item.line}: {item.system} coordinates are not supported;"
                " save the regions in image or fk5 coordinates"
            )
        else:
            via_regions.append(item)
        n_plus += item.include
    if via_regions:
        _regions_package_masks(via_regions, source, shape, header, plus, minus, budget)
    return plus, minus, n_plus


def _fill_shape(
    target: np.ndarray, kind: str, params: np.ndarray, budget: RasterBudget, where: str
) -> None:
    """Charge the shape's work to ``budget``, then set its pixels in ``target``."""
    if not np.abs(params).max() <= _MAX_COORDINATE:  # also NaN (sky points behind the WCS)
        raise RegionError(
            f"{where}: the shape does not fit on this image (a coordinate is beyond "
            f"{_MAX_COORDINATE:g} pixels or undefined)"
        )
    if kind == "polygon":
        budget.charge(polygon_cost(params, target.shape), where)
        fill_polygon(target, params)
    else:
        budget.charge(ellipse_cost(params, target.shape), where)
        fill_ellipse(target, params)


def _regions_package_masks(
    shapes: list[RegionShape],
    source: RegionSource,
    shape: tuple[int, int],
    header,
    plus: np.ndarray,
    minus: np.ndarray,
    budget: RasterBudget,
) -> None:
    """Rasterise shapes that need the ``regions`` package (sky systems, annuli ...).

    Polygons converted to pixels are filled by `ds9claw.raster` (same rule, bounded
    memory); other shapes by ``regions``, after a check of their bounding box.
    """
    import warnings

    from regions import PixelRegion, PolygonPixelRegion, Regions

    wcs = None
    for item in shapes:
        if item.system in _SKY_SYSTEMS and wcs is None:
            wcs = _celestial_wcs(header, source, item)
        system = item.system
        text = item.ds9()
        if system == "physical":
            # regions skips physical shapes; they are simple enough to move to image
            affine = _physical_to_image(header)
            text = _physical_text_to_image(item, affine)
            system = "image"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                parsed = Regions.parse(f"{system}\n{text}", format="ds9")
            except Exception as error:
                raise RegionError(
                    f"{source.name}, line {item.line}: cannot read {text[:60]!r} ({error})"
                ) from None
        if len(parsed) == 0:
            reason = "; ".join(str(w.message) for w in caught) or "unsupported shape"
            raise RegionError(f"{source.name}, line {item.line}: {reason}")
        where = f"{source.name}, line {item.line}"
        target = plus if item.include else minus
        for region in parsed:
            if not isinstance(region, PixelRegion):
                region = region.to_pixel(wcs)
            if isinstance(region, PolygonPixelRegion):
                vertices = np.column_stack([region.vertices.x, region.vertices.y])
                _fill_shape(target, "polygon", vertices, budget, where)
                continue
            try:
                box = region.bounding_box.shape[0] * region.bounding_box.shape[1]
            except (ValueError, OverflowError) as error:  # e.g. an infinite radius
                raise RegionError(f"{where}: cannot place {text[:60]!r} ({error})") from None
            if box > MAX_REGIONS_BOX:
                shown = f"{box:,}" if box < 10**12 else "over 10^12"
                raise RegionError(
                    f"{where}: the {item.name} spans {shown} pixels on this image, more than "
                    f"the limit of {MAX_REGIONS_BOX} for this kind of shape: make it smaller"
                    " or save it in image coordinates"
                )
            budget.charge(2 * box, where)
            region_mask = region.to_mask(mode="center").to_image(shape)
            if region_mask is not None:
                target |= region_mask.astype(bool)


def _physical_text_to_image(item: RegionShape, affine: np.ndarray | None) -> str:
    if affine is None or not item.numeric:
        return item.ds9()
    values = [float(a) for a in item.args]
    scale = math.sqrt(abs(np.linalg.det(affine[:, :2])))
    if item.name in {"annulus"}:
        xy = np.array(values[:2]) @ affine[:, :2].T + affine[:, 2]
        values = [*xy, *(v * scale for v in values[2:])]
    args = ",".join(f"{v:.10g}" for v in values)
    sign = "" if item.include else "-"
    return f"{sign}{item.name}({args})"


def _celestial_wcs(header, source: RegionSource, item: RegionShape):
    if header is None:
        raise RegionError(
            f"{source.name}, line {item.line}: {item.system} (sky) coordinates need an image "
            "with a WCS; this image has none: save the regions in image coordinates"
        )
    import warnings

    from astropy.wcs import WCS, FITSFixedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            wcs = WCS(header, naxis=2)
        except Exception as error:
            raise RegionError(f"{source.name}: the image WCS cannot be read ({error})") from None
    if not wcs.has_celestial:
        raise RegionError(
            f"{source.name}, line {item.line}: {item.system} (sky) coordinates need an image "
            "with a celestial WCS; this image has none: save the regions in image coordinates"
        )
    return wcs


def mask_to_polygons(
    mask: np.ndarray, *, tolerance: float = 0.75, min_pixels: int = 4
) -> list[np.ndarray]:
    """Trace the outlines of a 0/1 mask into polygons.

    Each 8-connected group of at least ``min_pixels`` pixels gives one polygon around
    its outer boundary (holes are not traced), simplified with a Douglas-Peucker
    tolerance in pixels.

    Parameters
    ----------
    mask : numpy.ndarray
        Boolean or 0/1 array.
    tolerance : float
        Largest distance (pixels) the simplified outline may depart from the traced one.
    min_pixels : int
        Smaller groups are ignored.

    Returns
    -------
    list of numpy.ndarray
        (N, 2) arrays of 0-based (x, y) vertices, largest group first.
    """
    from scipy import ndimage
    from skimage.measure import approximate_polygon, find_contours

    mask = np.asarray(mask) > 0
    labels, _count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    polygons: list[tuple[int, np.ndarray]] = []
    for index, region in enumerate(ndimage.find_objects(labels), start=1):
        if region is None:
            continue
        component = labels[region] == index
        area = int(component.sum())
        if area < min_pixels:
            continue
        filled = ndimage.binary_fill_holes(component)
        padded = np.pad(filled, 1).astype(np.float64)
        contours = find_contours(padded, 0.5)
        if not contours:
            continue
        outline = max(contours, key=len)
        outline = approximate_polygon(outline, tolerance=tolerance)
        if outline.shape[0] > 3 and np.allclose(outline[0], outline[-1]):
            outline = outline[:-1]
        rows = outline[:, 0] - 1 + region[0].start
        cols = outline[:, 1] - 1 + region[1].start
        polygons.append((area, np.column_stack([cols, rows])))
    polygons.sort(key=lambda item: -item[0])
    return [p for _, p in polygons]


def polygons_to_ds9(
    polygons: Sequence[np.ndarray], *, exclude: bool = False, color: str = "magenta"
) -> str:
    """Write polygons as DS9 region text (format 4.1, image coordinates, 1-based).

    Parameters
    ----------
    polygons : sequence of numpy.ndarray
        (N, 2) arrays of 0-based (x, y) vertices.
    exclude : bool
        Write them as exclusion shapes (``-polygon``).
    color : str
        DS9 colour of the shapes.

    Returns
    -------
    str
        Region file text.
    """
    lines = [
        "# Region file format: DS9 version 4.1",
        f'global color={color} dashlist=8 3 width=1 font="helvetica 10 normal roman" '
        "select=1 highlite=1 dash=0 fixed=0 edit=1 move=1 delete=1 include=1 source=1",
        "image",
    ]
    sign = "-" if exclude else ""
    for polygon in polygons:
        coords = ",".join(f"{v + 1:.2f}" for xy in np.asarray(polygon) for v in xy)
        lines.append(f"{sign}polygon({coords}) # text={{ds9claw}}")
    return "\n".join(lines) + "\n"

"""DS9 region text -> shapes: the tokenizer, with each shape's system, sign and line.

Region text (a file, a DS9 frame's regions, a SAMP message) is read with a small DS9
tokenizer that keeps each shape's coordinate system, its include/exclude sign
(``-polygon(...)``) and its line number; `ds9claw.region_mask` turns the shapes into
pixel masks.  What a text may hold is bounded by the limits of `ds9claw.region_limits`
(size, shapes, vertices), checked as the text is read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RegionError
from .region_limits import MAX_REGION_SHAPES, MAX_REGION_VERTICES, MAX_SKY_VERTICES

__all__ = [
    "MAX_REGION_TEXT",
    "PIXEL_SYSTEMS",
    "SKY_SYSTEMS",
    "RegionShape",
    "RegionSource",
    "parse_region_text",
]

#: Pixel coordinate systems (``physical`` is moved to ``image`` with LTV/LTM).
PIXEL_SYSTEMS = frozenset({"image", "physical"})
#: Sky coordinate systems (they need the image's celestial WCS).
SKY_SYSTEMS = frozenset({"fk4", "fk5", "icrs", "galactic", "ecliptic", "j2000", "b1950", "wcs"})
_ALL_SYSTEMS = PIXEL_SYSTEMS | SKY_SYSTEMS | {"linear", "amplifier", "detector"}
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
_AREA_SHAPES = {"polygon", "box", "circle", "ellipse", "annulus", "panda", "epanda", "bpanda"}
_SHAPE_RE = re.compile(r"^\s*([+-]?)\s*([a-zA-Z]+)\s*\((.*?)\)\s*(.*)$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
#: A character no plain number has: on the alphabet left, float() accepts exactly what
#: _NUMBER_RE does, so a long argument list is checked with one scan.
_NOT_NUMBER_CHAR_RE = re.compile(r"[^0-9eE+\-.,]")
#: Characters that matter when splitting a line (everything else is skipped in C).
_SPLIT_CHAR_RE = re.compile(r"[\"'(){}\[\];#]")
#: Largest region text accepted (a hand-drawn file is a few kB).
MAX_REGION_TEXT = 8 * 1024 * 1024


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
                sky_vertices += count if system in SKY_SYSTEMS else 0
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

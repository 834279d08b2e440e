"""Is a FITS file complete?  A scan of its headers against its size, before it is used.

A FITS file is a sequence of HDUs; each is a header (2880-byte blocks of 80-character
cards ending with ``END``) followed by its data, padded to a whole number of blocks.
The header says how many data bytes follow (``BITPIX``, ``NAXISn``, ``PCOUNT``,
``GCOUNT``), so a file cut short, in a header or in the data, is recognised from the
headers alone: `scan_fits` reads only the headers (a few blocks per HDU) and seeks over
the data.  astropy only warns about such a file ("File may have been truncated") and
then fails or returns partial data later; ds9claw refuses it before reading a pixel.

A file cut exactly between two HDUs looks complete to any reader.  JWST datamodel files
(``DATAMODL`` in the primary header) always end with their ``ASDF`` extension, so
`check_complete` also refuses such a file without it.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import InputError

__all__ = ["FitsLayout", "check_complete", "scan_fits"]

_BLOCK = 2880
_CARD = 80
#: Headers longer than this many blocks are taken as damage, not as a header.
_MAX_HEADER_BLOCKS = 10_000


@dataclass(frozen=True)
class FitsLayout:
    """What the headers of a complete FITS file describe.

    Attributes
    ----------
    extnames : tuple of str
        ``EXTNAME`` of every HDU (``"PRIMARY"`` for the first, ``""`` when absent).
    size : int
        Bytes the headers account for (the file size, or less with trailing bytes).
    datamodel : str
        The primary header's ``DATAMODL`` (``""`` when absent).
    """

    extnames: tuple[str, ...]
    size: int
    datamodel: str = ""


class _Truncated(Exception):
    """The scan ran out of bytes (message: where)."""


def _value(card: bytes) -> str:
    text = card[10:].decode("ascii", errors="replace")
    if text.lstrip().startswith("'"):
        inner = text.lstrip()[1:]
        return inner.split("'", 1)[0].strip()
    return text.split("/", 1)[0].strip()


def _read_header(stream: _Reader, index: int) -> dict[str, str]:
    cards: dict[str, str] = {}
    for _ in range(_MAX_HEADER_BLOCKS):
        block = stream.read(_BLOCK)
        if len(block) < _BLOCK:
            raise _Truncated(f"in the header of HDU {index}")
        for start in range(0, _BLOCK, _CARD):
            card = block[start : start + _CARD]
            keyword = card[:8].decode("ascii", errors="replace").strip()
            if keyword == "END":
                return cards
            if card[8:10] == b"= " and keyword not in cards:
                cards[keyword] = _value(card)
    raise ValueError(f"HDU {index} has no END card in {_MAX_HEADER_BLOCKS} header blocks")


def _int(cards: dict[str, str], key: str, default: int) -> int:
    text = cards.get(key)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{key} = {text!r} is not an integer") from None


def _data_bytes(cards: dict[str, str], primary: bool) -> int:
    bitpix = abs(_int(cards, "BITPIX", 8))
    naxis = _int(cards, "NAXIS", 0)
    if naxis < 0 or naxis > 999 or bitpix not in (8, 16, 32, 64):
        raise ValueError(f"BITPIX {bitpix} / NAXIS {naxis} are not valid")
    if naxis == 0:
        return 0
    dims = [_int(cards, f"NAXIS{i}", 0) for i in range(1, naxis + 1)]
    if any(d < 0 for d in dims):
        raise ValueError(f"negative axis length in {dims}")
    random_groups = primary and dims[0] == 0 and cards.get("GROUPS") == "T"
    count = 1
    for d in dims[1:] if random_groups else dims:
        count *= d
    if primary and not random_groups:
        return count * bitpix // 8
    pcount, gcount = _int(cards, "PCOUNT", 0), _int(cards, "GCOUNT", 1)
    return (bitpix // 8) * gcount * (pcount + count)


def scan_fits(stream: BinaryIO, size: int | None = None) -> FitsLayout:
    """Walk the HDUs of a FITS stream and check that all their bytes are present.

    Parameters
    ----------
    stream : binary file object
        Positioned at the start of the FITS data.
    size : int, optional
        Total bytes of a seekable stream (data is then skipped with ``seek``);
        ``None`` reads the data through (gzip streams).

    Returns
    -------
    FitsLayout
        With no HDUs when the stream does not start like a FITS file (``SIMPLE  =``):
        saying what else it is is left to the reader.

    Raises
    ------
    ValueError
        When the file is cut short (the message says where) or a header is malformed.
    """
    reader = _Reader(stream, size)
    if reader.peek(9) != b"SIMPLE  =":
        return FitsLayout(extnames=(), size=0)
    extnames: list[str] = []
    datamodel = ""
    while True:
        index = len(extnames)
        if index:
            first = reader.peek(8)
            if first != b"XTENSION":
                break  # end of file, padding or trailing bytes after the last HDU
        try:
            cards = _read_header(reader, index)
        except _Truncated as cut:
            raise ValueError(f"the file ends {cut}") from None
        if index == 0:
            datamodel = cards.get("DATAMODL", "")
        data = _data_bytes(cards, primary=index == 0)
        padded = -(-data // _BLOCK) * _BLOCK
        name = "PRIMARY" if index == 0 else cards.get("EXTNAME", "")
        label = f"HDU {index}" + (f" ({name})" if name else "")
        left = reader.skip(padded)
        if left:
            raise ValueError(
                f"the data of {label} needs {padded} bytes but only {padded - left} are there"
            )
        extnames.append(name)
    return FitsLayout(extnames=tuple(extnames), size=reader.position, datamodel=datamodel)


class _Reader:
    """Sequential reads with look-ahead, and skips by seek (known size) or by reading."""

    def __init__(self, stream: BinaryIO, size: int | None):
        self._stream = stream
        self._size = size
        self._ahead = b""
        self.position = 0

    def peek(self, n: int) -> bytes:
        if len(self._ahead) < n:
            self._ahead += self._stream.read(n - len(self._ahead))
        return self._ahead[:n]

    def read(self, n: int) -> bytes:
        out = self._ahead[:n]
        self._ahead = self._ahead[n:]
        if len(out) < n:
            out += self._stream.read(n - len(out))
        self.position += len(out)
        return out

    def skip(self, n: int) -> int:
        """Skip ``n`` bytes; return how many were missing (0 when all were there)."""
        if self._size is not None and not self._ahead:
            available = max(0, self._size - self.position)
            step = min(n, available)
            self.position += step
            self._stream.seek(self.position)
            return n - step
        left = n
        while left:
            chunk = self.read(min(left, 1 << 20))
            if not chunk:
                break
            left -= len(chunk)
        return left


def check_complete(source: str | Path | bytes, *, what: str = "", name: str = "") -> FitsLayout:
    """Refuse a FITS file (plain or gzip) whose HDUs are not all complete.

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        The file, or its content (an image sent by DS9 or over SAMP).
    what : str
        Word put before the name in messages (``"mask"``).
    name : str
        Name of ``source`` in messages when it is bytes.

    Returns
    -------
    FitsLayout
        No HDUs for data that does not start like FITS (the caller says what it is).

    Raises
    ------
    InputError
        When the file is cut short (in a header or in the data), its headers are
        malformed, it is a damaged gzip file, or it is a JWST datamodel file without
        its closing ``ASDF`` extension.  The message names the file and where it ends.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        shown = name or "the FITS data"
    else:
        shown = name or str(source)
    label = f"{what} {shown}" if what else shown
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            layout = _scan_stream(io.BytesIO(bytes(source)))
        else:
            with Path(source).open("rb") as raw:
                layout = _scan_stream(raw)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise InputError(
            f"{label} is a damaged or truncated gzip file ({error}): copy or write it again"
        ) from None
    except ValueError as error:
        raise InputError(
            f"{label} is truncated or damaged: {error}; nothing was written (copy or "
            "download the file again)"
        ) from None
    except OSError as error:
        raise InputError(f"cannot read {label}: {error.strerror or error}") from None
    if layout.datamodel and "ASDF" not in layout.extnames:
        raise InputError(
            f"{label} is a JWST {layout.datamodel} file without its last HDU (ASDF, "
            f"after {', '.join(n or '?' for n in layout.extnames)}): it was cut short; "
            "nothing was written (copy or download the file again)"
        )
    return layout


def _scan_stream(raw: BinaryIO) -> FitsLayout:
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        with gzip.GzipFile(fileobj=raw) as stream:
            return scan_fits(stream, None)  # type: ignore[arg-type]
    size = raw.seek(0, io.SEEK_END)
    raw.seek(0)
    return scan_fits(raw, size)

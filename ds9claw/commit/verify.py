"""Reading a written file back and comparing it with the original, pixel by pixel.

See `ds9claw.commit` for how a commit keeps the file safe.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np

from ..errors import CommitError

__all__ = [
]

_log = logging.getLogger(__name__)

#: Raises the CommitError that says what did not verify.
_Fail = Callable[[str], NoReturn]


def _dq_as_uint32(dq: np.ndarray | None, shape) -> np.ndarray:
    if dq is None:
        return np.zeros(shape, np.uint32)
    return np.asarray(dq).astype(np.uint32, copy=False)


def _squash(text: str) -> str:
    return "".join(text.split())


def _image_hdus(hdul) -> dict[tuple[str, int], object]:
    out = {}
    for index, hdu in enumerate(hdul):
        if index == 0 or not hdu.is_image or hdu.header.get("NAXIS", 0) == 0:
            continue
        key = (str(hdu.header.get("EXTNAME", index)).upper(), int(hdu.header.get("EXTVER", 1)))
        out[key] = hdu
    return out


def _bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype == b.dtype:
        if a.dtype.kind == "f":
            return bool(np.array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}")))
        return bool(np.array_equal(a, b))
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f"))


def _verify(rate: Path, tmp: Path, mask, bits, fill, history: str) -> None:
    """Read the written file back and compare it with the original, pixel by pixel."""
    from astropy.io import fits

    def fail(what: str) -> NoReturn:
        raise CommitError(
            f"verification of the new {rate.name} failed: {what}; {rate} is unchanged "
            "(please report this)"
        )

    try:
        with fits.open(rate, memmap=False) as old, fits.open(tmp, memmap=False) as new:
            old_hdus, new_hdus = _image_hdus(old), _image_hdus(new)
            _check_extensions_present(old_hdus, new_hdus, fail)
            for key, old_hdu in old_hdus.items():
                _check_image(key[0], old_hdu.data, new_hdus[key].data, mask, fill, fail)
            _check_dq_ored(old_hdus, new_hdus, mask, bits, fail)
            written = "".join(str(v) for v in new[0].header.get("HISTORY", []))
            # long entries span several 72-character HISTORY cards, whose trailing blanks
            # FITS does not keep: compare without white space
            if _squash(history) not in _squash(written):
                fail("the history entry is missing from the primary header")
            if "ASDF" in old and "ASDF" not in new:
                fail("the ASDF extension is missing")
    except CommitError:
        raise
    except (OSError, ValueError, TypeError, KeyError) as error:
        fail(f"cannot read it back ({error})")


def _check_extensions_present(old_hdus: dict, new_hdus: dict, fail: _Fail) -> None:
    """Every image extension of the original, and SCI and DQ, are in the new file."""
    missing = sorted(set(old_hdus) - set(new_hdus))
    if missing:
        fail(f"extension(s) {', '.join(n for n, _ in missing)} missing")
    if ("SCI", 1) not in new_hdus or ("DQ", 1) not in new_hdus:
        fail("SCI or DQ missing")


def _check_image(
    name: str, old_data: np.ndarray, new_data: np.ndarray, mask, fill, fail: _Fail
) -> None:
    """One extension keeps its shape; SCI holds the fill on the mask only, others are equal."""
    if old_data.shape != new_data.shape:
        fail(f"{name} shape {new_data.shape} differs from {old_data.shape}")
    if name == "DQ":
        return
    if name == "SCI":
        if not _bits_equal(old_data[~mask], new_data[~mask]):
            fail("SCI changed outside the mask")
        inside = new_data[mask]
        ok = np.isnan(inside) if math.isnan(fill) else inside == fill
        if not ok.all():
            fail("SCI is not the fill value on the mask")
    elif not _bits_equal(old_data, new_data):
        fail(f"{name} changed")


def _check_dq_ored(old_hdus: dict, new_hdus: dict, mask, bits, fail: _Fail) -> None:
    """The new DQ is the old one (or zeros) with ``bits`` ORed in exactly on the mask."""
    old_dq = _dq_as_uint32(
        old_hdus[("DQ", 1)].data if ("DQ", 1) in old_hdus else None, mask.shape
    )
    expected = old_dq.copy()
    np.bitwise_or(expected, np.uint32(bits), out=expected, where=mask)
    new_dq = np.asarray(new_hdus[("DQ", 1)].data)
    if new_dq.dtype != np.uint32 or not np.array_equal(new_dq, expected):
        fail("DQ is not the old DQ with the flags ORed in exactly on the mask")

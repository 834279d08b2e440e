"""JWST pixel DQ flags: names <-> bits, bit-flag strings, valid-pixel masks.

The flag table is the JWST pixel flag definition (``jwst.datamodels.dqflags.pixel``,
identical in ``stdatamodels.jwst.datamodels.dqflags.pixel``); it is kept here so that
the detection path does not import the data-model stack (over half a second).  A test
checks it against stdatamodels' own table.
"""

from __future__ import annotations

import re

import numpy as np

from .errors import ParameterError
from .parameters import COMMIT_OPTIONS

__all__ = [
    "DEFAULT_COMMIT_FLAGS",
    "DEFAULT_INVALID_FLAGS",
    "PIXEL_FLAGS",
    "flag_names",
    "interpret_flags",
    "valid_pixel_mask",
]

#: JWST pixel DQ flag names and their bit values.
PIXEL_FLAGS: dict[str, int] = {
    "GOOD": 0,
    "DO_NOT_USE": 1 << 0,
    "SATURATED": 1 << 1,
    "JUMP_DET": 1 << 2,
    "DROPOUT": 1 << 3,
    "OUTLIER": 1 << 4,
    "PERSISTENCE": 1 << 5,
    "AD_FLOOR": 1 << 6,
    "CHARGELOSS": 1 << 7,
    "RESERVED": 1 << 8,
    "NON_SCIENCE": 1 << 9,
    "DEAD": 1 << 10,
    "HOT": 1 << 11,
    "WARM": 1 << 12,
    "LOW_QE": 1 << 13,
    "RC": 1 << 14,
    "TELEGRAPH": 1 << 15,
    "NONLINEAR": 1 << 16,
    "BAD_REF_PIXEL": 1 << 17,
    "NO_FLAT_FIELD": 1 << 18,
    "NO_GAIN_VALUE": 1 << 19,
    "NO_LIN_CORR": 1 << 20,
    "NO_SAT_CHECK": 1 << 21,
    "UNRELIABLE_BIAS": 1 << 22,
    "UNRELIABLE_DARK": 1 << 23,
    "UNRELIABLE_SLOPE": 1 << 24,
    "UNRELIABLE_FLAT": 1 << 25,
    "OPEN": 1 << 26,
    "ADJ_OPEN": 1 << 27,
    "FLUX_ESTIMATED": 1 << 28,
    "MSA_FAILED_OPEN": 1 << 29,
    "OTHER_BAD_PIXEL": 1 << 30,
    "REFERENCE_PIXEL": 1 << 31,
}

#: Pixels carrying any of these bits are not used by the detection.
DEFAULT_INVALID_FLAGS = (
    "DO_NOT_USE+SATURATED+NON_SCIENCE+JUMP_DET+OUTLIER+PERSISTENCE+OTHER_BAD_PIXEL"
)

#: Bits ORed into the rate DQ by ``ds9claw commit``: DO_NOT_USE is what resample,
#: outlier_detection and skymatch in calwebb_image3 skip.
DEFAULT_COMMIT_FLAGS = str(COMMIT_OPTIONS["flags"][0])

_ALL_BITS = (1 << 32) - 1
_SPLIT = re.compile(r"[+,|]")


def interpret_flags(flags: str | int | None) -> int:
    """Turn a bit-flag value or string into an unsigned 32-bit integer.

    Accepts what ``astropy.nddata.bitmask.interpret_bit_flags`` accepts with the JWST
    pixel flag names: an integer, a string of an integer, or names and integers joined
    by ``+`` or ``,`` (``"DO_NOT_USE+OTHER_BAD_PIXEL"``), optionally negated as a
    whole with a leading ``~`` and wrapped in parentheses.  Names are case-insensitive.

    Parameters
    ----------
    flags : str, int or None
        The flags. ``None`` and ``""`` mean no bits.

    Returns
    -------
    int
        The bits, in ``0 .. 2**32 - 1``.

    Raises
    ------
    ParameterError
        For an unknown flag name, a negative integer, or a value above 32 bits.
    """
    if flags is None:
        return 0
    if isinstance(flags, (bool, np.bool_)):
        raise ParameterError(f"DQ flags must be a name or an integer, not {flags!r}")
    if isinstance(flags, (int, np.integer)):
        value = int(flags)
        if not 0 <= value <= _ALL_BITS:
            raise ParameterError(
                f"DQ flag value {value} is outside 0..{_ALL_BITS}: give a 32-bit unsigned integer"
            )
        return value
    text = str(flags).strip()
    if not text:
        return 0
    negate = text.startswith("~")
    if negate:
        text = text[1:].strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    value = 0
    for token in (t.strip() for t in _SPLIT.split(text)):
        if not token:
            raise ParameterError(
                f"empty flag name in {flags!r}: join names with '+', "
                "e.g. 'DO_NOT_USE+OTHER_BAD_PIXEL'"
            )
        value |= _token_bits(token, flags)
    return (~value & _ALL_BITS) if negate else value


def _token_bits(token: str, original: object) -> int:
    if token.lstrip("-").isdigit():
        return interpret_flags(int(token))
    bits = PIXEL_FLAGS.get(token.upper())
    if bits is None:
        known = ", ".join(n for n in PIXEL_FLAGS if n != "GOOD")
        raise ParameterError(f"unknown DQ flag {token!r} in {original!r}; known flags: {known}")
    return bits


def flag_names(bits: int) -> list[str]:
    """Names of the flags set in ``bits``, lowest bit first.

    Parameters
    ----------
    bits : int
        A DQ value.

    Returns
    -------
    list of str
        Flag names (``[]`` for 0).
    """
    return [name for name, value in PIXEL_FLAGS.items() if value and bits & value]


def valid_pixel_mask(
    image: np.ndarray,
    dq: np.ndarray | None = None,
    *,
    invalid_flags: str | int = DEFAULT_INVALID_FLAGS,
) -> np.ndarray:
    """Pixels usable for detection: finite and without any of ``invalid_flags`` in DQ.

    Parameters
    ----------
    image : numpy.ndarray
        2-D science array.
    dq : numpy.ndarray or None
        DQ array of the same shape, or ``None`` when the file has none.
    invalid_flags : str or int
        Bits that make a pixel invalid (see `interpret_flags`).

    Returns
    -------
    numpy.ndarray
        Boolean array, ``True`` where the pixel can be used.
    """
    valid = np.isfinite(image)
    if dq is not None:
        if dq.shape != image.shape:
            raise ParameterError(f"DQ shape {dq.shape} differs from image shape {image.shape}")
        bad_bits = interpret_flags(invalid_flags)
        if bad_bits:
            valid &= (
                dq & np.array(bad_bits, dtype=np.uint32).astype(dq.dtype, casting="unsafe")
            ) == 0
    return valid

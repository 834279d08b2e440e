"""One converter each for booleans, whole numbers and numbers given as text.

The command line, SAMP messages and the remembered DS9 settings all turn text into
values with these three functions, so they accept the same spellings:

* booleans: ``1 yes y true on`` and ``0 no n false off`` (any case; the empty text is
  *no*, as DS9's unticked checkbox sends it);
* whole numbers: ``3``, ``+3``, ``3.0`` (a number with no fraction);
* numbers: anything Python's ``float`` reads except ``nan`` and ``inf``.

A wrong value raises `ds9claw.errors.ParameterError` naming the parameter (the caller
says how it is named: ``sigma``, ``parameter 'sigma'`` ...).
"""

from __future__ import annotations

import math

from .errors import ParameterError

__all__ = ["FALSE_WORDS", "TRUE_WORDS", "to_bool", "to_float", "to_int"]

#: Spellings of *yes* (compared in lower case, surrounding blanks ignored).
TRUE_WORDS = frozenset({"1", "yes", "y", "true", "on"})
#: Spellings of *no* (the empty text is *no*: an unticked DS9 checkbox).
FALSE_WORDS = frozenset({"0", "no", "n", "false", "off", ""})


def to_bool(value: object, name: str) -> bool:
    """Read a yes/no value.

    Parameters
    ----------
    value : str, bool or int
        The value (`TRUE_WORDS`, `FALSE_WORDS`; a bool, or the integers 0 and 1).
    name : str
        How the parameter is named in the message.

    Returns
    -------
    bool

    Raises
    ------
    ParameterError
        Any other value.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
    raise ParameterError(
        f"{name} must be 1 or 0 (yes/no, true/false, on/off), got {str(value)[:40]!r}"
    )


def to_float(value: object, name: str) -> float:
    """Read a finite number.

    Parameters
    ----------
    value : str, int or float
        The value (a bool is refused).
    name : str
        How the parameter is named in the message.

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        Not a number, or not finite.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParameterError(f"{name} must be a number, got {str(value)[:40]!r}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        raise ParameterError(f"{name} must be a number, got {str(value)[:40]!r}") from None
    if not math.isfinite(number):
        raise ParameterError(f"{name} must be finite, got {str(value)[:40]!r}")
    return number


def to_int(value: object, name: str) -> int:
    """Read a whole number (``3.0`` is accepted as 3, ``3.5`` is not).

    Parameters
    ----------
    value : str, int or float
        The value (a bool is refused).
    name : str
        How the parameter is named in the message.

    Returns
    -------
    int

    Raises
    ------
    ParameterError
        Not a number, not finite, or with a fraction.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = to_float(value, name)
    if number != int(number):
        raise ParameterError(f"{name} must be a whole number, got {str(value)[:40]!r}")
    return int(number)

"""Argument types shared by the subcommands: numbers with bounds, clear messages."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["number", "whole_number"]


def number(
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    above: bool = False,
    what: str = "a number",
) -> Callable[[str], float]:
    """An argparse ``type`` accepting a finite float within bounds.

    Parameters
    ----------
    minimum, maximum : float, optional
        Bounds (inclusive unless ``above``).
    above : bool
        The value must be strictly greater than ``minimum``.
    what : str
        How the value is named in the message.

    Returns
    -------
    callable
        Converter raising `argparse.ArgumentTypeError` with a one-line message.
    """

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if minimum is not None and (value <= minimum if above else value < minimum):
            sign = ">" if above else ">="
            raise argparse.ArgumentTypeError(f"{text} is not {sign} {minimum:g}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{text} is more than {maximum:g}")
        return value

    return convert


def whole_number(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` accepting an integer within inclusive bounds.

    Parameters
    ----------
    minimum, maximum : int, optional
        Inclusive bounds.

    Returns
    -------
    callable
        Converter raising `argparse.ArgumentTypeError` with a one-line message.
    """

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        low = minimum is not None and value < minimum
        high = maximum is not None and value > maximum
        if (low or high) and minimum is not None and maximum is not None:
            raise argparse.ArgumentTypeError(f"{value} is outside {minimum}..{maximum}")
        if low:
            raise argparse.ArgumentTypeError(f"{value}: must be at least {minimum}")
        if high:
            raise argparse.ArgumentTypeError(f"{value}: must be at most {maximum}")
        return value

    return convert

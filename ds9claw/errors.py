"""One exception hierarchy for everything ds9claw raises on purpose.

Every message says what is wrong and what to do about it, in one line, so the
command line can print it as it is (``ds9claw: error: <message>``).
"""

from __future__ import annotations

__all__ = [
    "CommitError",
    "Ds9ClawError",
    "InputError",
    "NoIncludeRegionError",
    "OutputExistsError",
    "ParameterError",
    "RegionError",
    "TransportError",
    "UnsafePathError",
]


class Ds9ClawError(Exception):
    """Base class of every error ds9claw raises on purpose.

    Attributes
    ----------
    exit_code : int
        Exit status the command line uses for this error (1: bad input or a
        failed action; usage errors are 2 and come from argparse).
    """

    exit_code: int = 1


class InputError(Ds9ClawError):
    """An input file or value cannot be used (missing, not FITS, wrong shape ...)."""


class ParameterError(InputError):
    """A detection or commit parameter is out of range."""


class RegionError(InputError):
    """A DS9 region file or string cannot be turned into a pixel mask."""


class NoIncludeRegionError(RegionError):
    """The regions hold no include shape (none drawn, or only exclusions)."""


class OutputExistsError(InputError):
    """An output file exists and ``overwrite`` was not asked for."""


class UnsafePathError(InputError):
    """A lock, temporary file or backup name is a symbolic link, a hard link or not a file.

    ds9claw never writes through such a name (someone may have planted it to make
    ds9claw overwrite another file); the message says what was found and what to do.
    """


class TransportError(Ds9ClawError):
    """DS9 (over XPA or SAMP) cannot be reached or did not answer in time."""


class CommitError(Ds9ClawError):
    """A mask could not be committed into a rate file's DQ (the target is unchanged)."""

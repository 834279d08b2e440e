"""The one overwrite policy of every detection path: ds9claw replaces only its own products.

`ds9claw detect`, the SAMP listener (``image.load.fits`` and ``ds9claw.detect``),
``ds9claw ds9 detect`` and the DS9 Claws menu all call `refuse_to_replace` before they
read, compute, show or write anything, and again when they write.  A product ds9claw
wrote earlier (`is_ds9claw_product`) is replaced; any other file or link at a product
path is refused unless the *operator* allowed it (``--overwrite`` of ``ds9claw detect``
and ``ds9claw samp listen``, ``ds9claw ds9 detect --overwrite`` or the DS9 setting).  A
SAMP message cannot allow it (see `ds9claw.listener.handler_settings`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .errors import OutputExistsError

__all__ = ["REPLACE_HINT", "is_ds9claw_product", "refuse_to_replace"]

#: What the default refusal of `refuse_to_replace` tells the user to do.
REPLACE_HINT = "pass `overwrite=True` to replace it, or choose another `output_dir`"


def is_ds9claw_product(path: str | Path) -> bool:
    """True when ``path`` is a regular file (not a link) that ds9claw wrote.

    ds9claw's products carry ``CLAWSOFT = 'ds9claw'`` and ``CLAWVER`` in their primary
    header (see `ds9claw.api.provenance_cards`).

    Parameters
    ----------
    path : str or pathlib.Path
        An existing file.

    Returns
    -------
    bool
        False for links, directories, unreadable or non-FITS files and FITS files
        without those keywords.
    """
    import stat
    import warnings

    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        from astropy.io import fits

        with warnings.catch_warnings():  # a damaged file is simply not ours
            warnings.simplefilter("ignore")
            header = fits.getheader(path, 0)
    except (OSError, ValueError, TypeError, EOFError, KeyError, IndexError):
        return False
    return header.get("CLAWSOFT") == "ds9claw" and bool(header.get("CLAWVER"))


def refuse_to_replace(
    paths: Iterable[str | Path], *, overwrite: bool, hint: str = REPLACE_HINT
) -> None:
    """The one overwrite policy of every detection path (CLI, SAMP listener, DS9 menu).

    A product ds9claw wrote earlier (`is_ds9claw_product`) may be replaced; any other
    file (or link) at a product path is refused unless the operator allowed it
    (``overwrite``: ``ds9claw detect --overwrite``, ``ds9claw samp listen --overwrite``,
    the DS9 setting).  A SAMP message cannot set ``overwrite``.

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        Planned output files.
    overwrite : bool
        The operator allowed replacing any file.
    hint : str
        What the refusal tells the user to do.

    Raises
    ------
    OutputExistsError
        Naming the first file that may not be replaced, before anything is written.
    """
    if overwrite:
        return
    for path in paths:
        if not os.path.lexists(path) or is_ds9claw_product(path):
            continue
        what = "is a symbolic link" if Path(path).is_symlink() else "was not written by ds9claw"
        raise OutputExistsError(f"{path} exists and {what}: {hint}")

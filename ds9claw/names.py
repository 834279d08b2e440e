r"""Every name ds9claw derives from a file name, and file names as it stores them.

* One FITS-suffix rule, `FITS_SUFFIX`: ``.fits``, ``.fit`` and ``.fts``, each also with
  ``.gz`` (any case).  `split_fits_name` splits a name at it.
* `stem_of` (``dir/X_cal.fits.gz`` -> ``X_cal``) and `dataset_name` (``X``: the stem
  without the JWST product tail ``_rate``, ``_cal``, ``_rateints``, ``_calints``,
  ``_i2d`` or ``_crf``).
* Templates: `template_fields` gives ``{stem}``, ``{dataset}``, ``{name}`` and ``{dir}``
  of a file; `resolve_template` is the one rule for region, mask and every other
  template: fields filled in, and a relative result taken beside the file it was filled
  for (wherever the process runs: a shell, DS9, a SAMP client, a cluster worker).
* Product names (`product_names`: ``<stem><suffix>.fits`` and
  ``<stem><suffix>_zeroonemask.fits``), the backup name (`backup_path_for`), the
  snapshot base name (`snapshot_base`).

* `printable_name` escapes a name so that it can go into a FITS card (which allows only
  printable ASCII): a tab becomes ``\t``, ``é`` becomes ``\xe9`` and a backslash
  ``\\``, as Python's ``unicode_escape`` writes them; a plain ASCII name is unchanged.
* `expand_name_template` fills ``{placeholder}`` fields of a template with
  `str.format` rules: ``{{`` and ``}}`` stand for literal braces.  A template that
  names an existing file as it is (``brace{x}_cal.fits``) is that file, not a template.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "BACKUP_SUFFIX",
    "DATASET_TAILS",
    "FITS_SUFFIX",
    "MASK_TAIL",
    "SNAPSHOT_SUFFIX",
    "backup_path_for",
    "dataset_name",
    "expand_name_template",
    "free_backup_name",
    "printable_name",
    "product_names",
    "resolve_template",
    "snapshot_base",
    "split_fits_name",
    "stem_of",
    "template_fields",
]

#: The one FITS file-name ending: ``.fits``, ``.fit``, ``.fts``, each with ``.gz`` or not.
FITS_SUFFIX = re.compile(r"\.(fits|fit|fts)(\.gz)?$", re.IGNORECASE)
#: JWST product tails removed from a stem to give the dataset name (longest first).
DATASET_TAILS = ("_rateints", "_calints", "_rate", "_cal", "_i2d", "_crf")
#: Added to the product base name to name the zero-one mask.
MASK_TAIL = "_zeroonemask"
#: Added to the file stem to name the backup
#: (``X_rate.fits`` -> ``X_rate_before_removing_claws.fits``).
BACKUP_SUFFIX = "_before_removing_claws"
#: Added to the stem of the image to name the DS9 snapshot (``X_cal_claws.png``).
SNAPSHOT_SUFFIX = "_claws"


def split_fits_name(name: str) -> tuple[str, str]:
    """Split a file name at its FITS suffix: ``X_cal.fits.gz`` -> (``X_cal``, ``.fits.gz``).

    A name without a FITS suffix gives ``(name, "")``.
    """
    match = FITS_SUFFIX.search(name)
    return (name[: match.start()], match.group(0)) if match else (name, "")


def stem_of(path: str | Path) -> str:
    """File name without directory and without its FITS suffix.

    Parameters
    ----------
    path : str or pathlib.Path
        A file name.

    Returns
    -------
    str
        ``"dir/X_cal.fits.gz"`` -> ``"X_cal"``.
    """
    return split_fits_name(Path(path).name)[0]


def dataset_name(path: str | Path) -> str:
    """The dataset name of a JWST file: its stem without the product tail.

    Parameters
    ----------
    path : str or pathlib.Path
        ``dir/jw01345001001_02201_00001_nrca1_rate.fits``.

    Returns
    -------
    str
        ``jw01345001001_02201_00001_nrca1`` (the stem itself without a known tail).
    """
    stem = stem_of(path)
    for tail in DATASET_TAILS:
        if stem.endswith(tail):
            return stem[: -len(tail)]
    return stem


def template_fields(path: str | Path) -> dict[str, str]:
    """The template placeholders of a file: ``stem``, ``dataset``, ``name`` and ``dir``."""
    path = Path(path)
    return {
        "stem": stem_of(path),
        "dataset": dataset_name(path),
        "name": path.name,
        "dir": str(path.parent),
    }


def product_names(stem: str, suffix: str, ext: str = ".fits") -> tuple[str, str]:
    """The names of the seed image and the zero-one mask made from ``stem``.

    Parameters
    ----------
    stem : str
        `stem_of` the input (``X_cal``).
    suffix : str
        Product suffix (``_claws_seed_image``).
    ext : str
        ``.fits`` or ``.fits.gz``.

    Returns
    -------
    (str, str)
        ``X_cal_claws_seed_image.fits`` and ``X_cal_claws_seed_image_zeroonemask.fits``.
    """
    return f"{stem}{suffix}{ext}", f"{stem}{suffix}{MASK_TAIL}{ext}"


def backup_path_for(path: str | Path) -> Path:
    """The backup name of a rate file: ``<stem>_before_removing_claws.fits``.

    Parameters
    ----------
    path : str or pathlib.Path
        The rate (or cal) file.

    Returns
    -------
    pathlib.Path
        Same directory, ``X_rate.fits`` -> ``X_rate_before_removing_claws.fits``.
    """
    path = Path(path)
    stem, ext = split_fits_name(path.name)
    return path.with_name(f"{stem}{BACKUP_SUFFIX}{ext or '.fits'}")


def snapshot_base(path: str | Path) -> Path:
    """The snapshot name (without extension) for an image: ``dir/<stem>_claws``."""
    path = Path(path)
    return path.parent / f"{stem_of(path)}{SNAPSHOT_SUFFIX}"


def printable_name(name: str) -> str:
    r"""A file name with every character outside printable ASCII escaped.

    Parameters
    ----------
    name : str
        Any file name (tabs, newlines, non-ASCII letters, undecodable bytes as
        surrogates).

    Returns
    -------
    str
        ``name`` itself when it is printable ASCII without a backslash; otherwise the
        ``unicode_escape`` form (``\t``, ``\xe9``, ``\u2013``, ``\\``), which
        ``codecs.decode(text, "unicode_escape")`` turns back into the name.
    """
    if name.isascii() and name.isprintable() and "\\" not in name:
        return name
    return name.encode("unicode_escape", errors="backslashreplace").decode("ascii")


def expand_name_template(template: str, fields: Mapping[str, str]) -> tuple[str, bool]:
    """Fill the placeholders of a file-name template.

    Parameters
    ----------
    template : str
        A path with ``{field}`` placeholders; ``{{`` and ``}}`` are literal braces.
    fields : mapping of str to str
        The values of the placeholders.

    Returns
    -------
    (str, bool)
        The name, and whether it was expanded (False: ``template`` has no braces or
        names an existing file as it is, and is returned unchanged).

    Raises
    ------
    KeyError
        For a placeholder not in ``fields`` (its name is the argument).
    ValueError, IndexError
        For a malformed template (a single ``{`` or ``}``, a positional ``{}``).
    """
    if "{" not in template and "}" not in template:
        return template, False
    if Path(template).exists():
        return template, False
    return template.format_map(dict(fields)), True


def free_backup_name(path: str | Path) -> Path:
    """The first unused backup name of a text file ds9claw is about to replace.

    ``X.reg`` -> ``X.reg.bak``, then ``X.reg.bak1``, ``X.reg.bak2`` ... so that an earlier
    backup (perhaps of a region file an observer drew) is never overwritten.  A name
    that exists as a dangling link counts as used.

    Parameters
    ----------
    path : str or pathlib.Path
        The file that will be replaced.

    Returns
    -------
    pathlib.Path
        A name beside it that does not exist yet.
    """
    path = Path(path)
    candidate = path.with_name(path.name + ".bak")
    number = 1
    while os.path.lexists(candidate):
        candidate = path.with_name(f"{path.name}.bak{number}")
        number += 1
    return candidate


def resolve_template(template: str | Path, path: str | Path, *, what: str = "file") -> Path:
    """Turn a name or template into the path it gives for one file.

    A template with ``{stem}``, ``{dataset}``, ``{name}`` or ``{dir}`` (`template_fields`)
    is filled in for ``path``, and a relative result is taken beside ``path`` (in its
    directory; a template with ``{dir}`` places it itself), so that a template means the
    same file whatever the current directory.
    ``{{`` and ``}}`` stand for literal braces.  A name without fields, or one naming an
    existing file as it is (``brace{x}_claws.pix.reg``), is that file, as any path is.

    Parameters
    ----------
    template : str or pathlib.Path
        The name or template.
    path : str or pathlib.Path
        The file it is filled in for.
    what : str
        What the template names (``"region"``, ``"mask"``), for the message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ds9claw.errors.ParameterError
        For an unknown field or a malformed template (a lone brace).
    """
    from .errors import ParameterError

    text, path = str(template), Path(path)
    try:
        filled, expanded = expand_name_template(text, template_fields(path))
    except KeyError as error:
        raise ParameterError(
            f"unknown field {{{error.args[0]}}} in {what} template {text!r} and no file has "
            "that name; use {dataset}, {stem}, {name} or {dir}, and {{ }} for literal braces"
        ) from None
    except (ValueError, IndexError) as error:
        raise ParameterError(
            f"malformed {what} template {text!r} ({error}) and no file has that name; write "
            "{{ and }} for literal braces"
        ) from None
    result = Path(filled)
    if not expanded or result.is_absolute() or "{dir}" in text:
        return result  # a template with {dir} places the file itself
    return path.parent / result

r"""File names as ds9claw stores and expands them.

* `printable_name` escapes a name so that it can go into a FITS card (which allows only
  printable ASCII): a tab becomes ``\t``, ``é`` becomes ``\xe9`` and a backslash
  ``\\``, as Python's ``unicode_escape`` writes them; a plain ASCII name is unchanged.
* `expand_name_template` fills ``{placeholder}`` fields of a template with
  `str.format` rules: ``{{`` and ``}}`` stand for literal braces.  A template that
  names an existing file as it is (``brace{x}_cal.fits``) is that file, not a template.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["expand_name_template", "printable_name"]


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

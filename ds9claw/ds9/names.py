"""The one gate for file names that go into a DS9 command, over XPA or over SAMP.

ds9claw puts a file name into DS9 command text in a few places only: ``fits {name}``
(loading an image, or naming the seed and mask frames whose bytes come as data),
``saveimage png {path}``, ``analysis load {path}``, the scratch files of a Tcl round
trip, and the ``file://`` url of a SAMP payload.  Every one of them goes through
`ds9_word` (or `check_ds9_name`), which lets a name through only when DS9 8.4.1 loads it
and shows it back unchanged, and otherwise raises an `InputError` saying what DS9 cannot
take.  The name is then sent between braces, so nothing in it is substituted.

What DS9 8.4.1 does with names (tried over XPA ``fits {...}``, SAMP ``ds9.set`` and
SAMP ``image.load.fits``; see tests/ds9/test_hostile_names.py):

* loads and shows unchanged: letters, digits, spaces, ``$`` (``x$(touch p).fits`` is
  only a name: nothing runs), ``'``, ``%``, ``&``, ``*``, ``(``, ``)``, ``!``, ``,``,
  ``=``, ``+``, ``@``, ``~``, ``:``, ``-``, ``_``, ``.``;
* cannot load: ``[`` and ``]`` (read as an extension or filter: "Unable to load fits"),
  ``{`` and ``}`` (they end the braced word: "unmatched open brace", or over SAMP no
  answer at all), ``"`` and ``;`` (XPA: syntax error), newlines and tabs (parse error),
  ``#`` (over SAMP urls it ends the path);
* loads but shows differently: backslashes (DS9's SAMP answers drop them, so the frame
  could not be found again) and non-ASCII letters (DS9's SAMP handler stops answering).

Those names are refused here, before DS9 gets anything.
"""

from __future__ import annotations

import os

from ..errors import InputError

__all__ = ["DS9_REFUSED_CHARACTERS", "check_ds9_name", "ds9_word"]

#: Printable ASCII characters DS9 8.4.1 cannot take in a file name (see the module notes).
DS9_REFUSED_CHARACTERS = frozenset('{}[]";#\\')


def _describe(char: str) -> str:
    names = {"\n": "a newline", "\t": "a tab", "\r": "a carriage return", "\\": "a backslash"}
    if char in names:
        return names[char]
    if ord(char) < 32 or ord(char) == 127:
        return f"the control character {char!r}"
    if ord(char) > 126:
        return f"the non-ASCII character {char!r}"
    return f"'{char}'"


def check_ds9_name(name: str | os.PathLike[str], *, what: str = "file") -> str:
    """Return ``name`` as text when DS9 can be given it in a command; else raise.

    Parameters
    ----------
    name : str or path-like
        The file name or path.
    what : str
        What the name is, for the message ("image", "seed frame" ...).

    Returns
    -------
    str
        The name, unchanged.

    Raises
    ------
    InputError
        The name is empty or holds a character DS9 cannot load (braces, brackets,
        double quote, semicolon, ``#``, backslash, control or non-ASCII characters);
        the message names the character and what to do.
    """
    text = os.fspath(name)
    if not text or not text.strip():
        raise InputError(f"empty {what} name: DS9 cannot load it")
    for char in text:
        if char in DS9_REFUSED_CHARACTERS or not (32 <= ord(char) <= 126):
            raise InputError(
                f"DS9 cannot load the {what} {text!r}: its name holds {_describe(char)}; "
                'DS9 8.4.1 cannot load names with { } [ ] " ; # \\, control or non-ASCII '
                "characters: rename it (letters, digits, spaces and ._-+,=@%~:$'&()! are fine)"
            )
    return text


def ds9_word(name: str | os.PathLike[str], *, what: str = "file") -> str:
    """Return ``{name}``: the name as one word of a DS9 command, after `check_ds9_name`.

    Parameters
    ----------
    name : str or path-like
        The file name or path.
    what : str
        What the name is, for the message.

    Returns
    -------
    str
        ``"{" + name + "}"``.

    Raises
    ------
    InputError
        As for `check_ds9_name`.
    """
    return "{" + check_ds9_name(name, what=what) + "}"

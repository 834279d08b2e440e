"""Reports as DS9's text window shows them: about 80 columns, each ending in a newline."""

from __future__ import annotations

import re
import textwrap

__all__ = ["WIDTH", "wrap_report"]

#: DS9's analysis text window is 80 characters wide.
WIDTH = 80

#: A space inside a multi-word key (``ignore background=yes``): never a line break.
_KEY_SPACE = re.compile(r"(?<=[A-Za-z]) (?=[A-Za-z_]+=)")
#: A line is kept whole when breaking it could only separate a long word (40+
#: characters) from its label: a path (``wrote PATH``, ``backup: PATH``) or a file
#: name tied to the words after it (``(X_cal.fits[SCI]) has no mask``, ``NAME: ...``).
_LONG_WORD = re.compile(r"(?:\S*/\S*|\S+[):,])(?<=\S{40})(?!\S)")
_GLUE = "\u00a0"  # textwrap breaks at ASCII whitespace only


def wrap_report(text: str, width: int = WIDTH) -> str:
    """Wrap every line of a report at ``width``; continuation lines are indented.

    Lines break at spaces only, never inside a word or a ``key=value`` token, nor
    between the words of a multi-word key (``ignore background=yes``).  A line with a
    path of 40 characters or more, or a long file name ending in ``)``, ``:`` or ``,``
    (tied to the words after it), is kept whole: breaking it would only separate the
    name from its label (``backup: PATH``, ``PATH: flagged ...``).

    Parameters
    ----------
    text : str
        A report (first line the verdict).
    width : int
        Columns.

    Returns
    -------
    str
        The wrapped report, ending with exactly one newline.
    """
    out = []
    for line in text.rstrip("\n").splitlines():
        if _LONG_WORD.search(line):
            out.append(line.rstrip())
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        more = indent + "    "
        out.extend(
            textwrap.wrap(
                _KEY_SPACE.sub(_GLUE, line),
                width=width,
                subsequent_indent=more,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [""]
        )
    return "\n".join(out).replace(_GLUE, " ") + "\n"

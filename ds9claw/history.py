"""Read the claw-removal history of a rate file: ds9claw's own entries and the old tools'.

The primary header's ``HISTORY`` cards are joined (an entry longer than 72 characters
spans several cards, and FITS keeps no trailing blanks, so the patterns below allow for
missing white space).

* ds9claw writes ``Removed claws with ds9claw <version>: mask ... DQ flags <names> (<int>)
  ORed into ...; SCI set to <fill> there. Original file (backup <name>): sha256 <hex>.``
  (the last sentence since the original's checksum is recorded, see `ORIGINAL_SHA_TEXT`).
* The old tools of the observers' workflow (Crab.Toolkit.JWST) write ``Removed claws with
  util_remove_claws_for_specific_data_sets.py (<date time>)`` and, from the snippet in the
  workflow notes, ``Removed claws with <CODE_NAME> (<date time>)``; they keep the original
  as ``<stem>_before_removing_claws.fits``, ds9claw's backup name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

__all__ = [
    "ORIGINAL_SHA_TEXT",
    "OldToolEntry",
    "check_old_tool_commits",
    "committed_fill_values",
    "committed_flags",
    "ds9claw_after_old_tools",
    "old_tool_entries",
    "original_sha256",
]

#: The sentence each ds9claw history entry ends with (``{backup}``, ``{sha256}``).
ORIGINAL_SHA_TEXT = "Original file (backup {backup}): sha256 {sha256}."

_SPACE = re.compile(r"\s+")
_OLD_TOOL = re.compile(r"Removed\s*claws\s*with\s*(?!ds9claw)([^\s(]+)\s*\(([^()]*)\)")
_ORIGINAL = re.compile(r"Originalfile\(backup[^)]*\):sha256([0-9a-f]{64})")
_FLAGS = re.compile(r"Removedclawswithds9claw.*?DQflags[^()]*\((\d+)\)ORed")
_FILL = re.compile(r"Removedclawswithds9claw.*?SCIsetto([-+0-9.eEnaif]+?)there")


@dataclass(frozen=True)
class OldToolEntry:
    """A claw removal by one of the old tools, found in a file's history.

    Attributes
    ----------
    tool : str
        The tool's name (``util_remove_claws_for_specific_data_sets.py``).
    when : str
        What the entry gives in parentheses (the time stamp).
    """

    tool: str
    when: str

    def __str__(self) -> str:
        return f"{self.tool} ({self.when})" if self.when else self.tool


def _squash(text: str) -> str:
    return _SPACE.sub("", text)


def old_tool_entries(history: str) -> list[OldToolEntry]:
    """The old tools' claw removals recorded in a history text.

    Parameters
    ----------
    history : str
        The joined ``HISTORY`` cards.

    Returns
    -------
    list of OldToolEntry
        In the order of the history; ds9claw's own entries are not included.
    """
    return [
        OldToolEntry(tool=m.group(1), when=_SPACE.sub(" ", m.group(2)).strip())
        for m in _OLD_TOOL.finditer(history)
    ]


def ds9claw_after_old_tools(history: str) -> bool:
    """True when a ds9claw commit follows the last old-tool claw removal in the history.

    Parameters
    ----------
    history : str
        The joined ``HISTORY`` cards.

    Returns
    -------
    bool
        False when there is no old-tool entry, or no ds9claw entry after the last one.
    """
    matches = list(_OLD_TOOL.finditer(history))
    if not matches:
        return False
    return "Removedclawswithds9claw" in _squash(history[matches[-1].end() :])


def original_sha256(history: str) -> list[str]:
    """The checksums of the original file recorded by ds9claw commits, oldest first.

    Parameters
    ----------
    history : str
        The joined ``HISTORY`` cards.

    Returns
    -------
    list of str
        One hexadecimal sha256 per ds9claw entry that recorded one (older ds9claw
        versions did not).
    """
    return _ORIGINAL.findall(_squash(history))


def committed_flags(history: str) -> int:
    """The DQ bits ds9claw commits ORed in, all entries together.

    Parameters
    ----------
    history : str
        The joined ``HISTORY`` cards.

    Returns
    -------
    int
        The union of the flags of every ds9claw entry (0 without one).
    """
    bits = 0
    for entry in _entries(history):
        match = _FLAGS.search(entry)
        if match:
            bits |= int(match.group(1))
    return bits


def committed_fill_values(history: str) -> list[float]:
    """The SCI fill values of ds9claw's commits.

    Parameters
    ----------
    history : str
        The joined ``HISTORY`` cards.

    Returns
    -------
    list of float
        One per ds9claw entry (``nan`` included).
    """
    values = []
    for entry in _entries(history):
        match = _FILL.search(entry)
        if match:
            try:
                values.append(float(match.group(1)))
            except ValueError:
                continue
    return values


def _entries(history: str) -> list[str]:
    """The squashed history cut into ds9claw entries (each from its prefix on)."""
    squashed = _squash(history)
    marker = "Removedclawswithds9claw"
    return [marker + part for part in squashed.split(marker)[1:]]


def check_old_tool_commits(
    rate: Path, history: str, backup: Path | None, *, force: bool
) -> tuple[tuple[str, ...], list[str]]:
    """Notice an earlier claw removal by the old tools before a commit.

    Parameters
    ----------
    rate : pathlib.Path
        The file to commit into.
    history : str
        Its joined ``HISTORY`` cards.
    backup : pathlib.Path or None
        Its backup path (None: no backup is kept).
    force : bool
        Commit on top of an old tool's removal.

    Returns
    -------
    tuple of str, list of str
        The old tools' removals found, and notes for the user.

    Raises
    ------
    InputError
        An old tool cleaned the file and no ds9claw commit followed (one with ``force``
        accepts it for the later ones), without ``force``.
    """
    entries = old_tool_entries(history)
    if not entries:
        return (), []
    found = tuple(str(e) for e in entries)
    done = "; ".join(found)
    if ds9claw_after_old_tools(history):
        return found, [f"claws were removed earlier by the old tool {done}"]
    has_backup = backup is not None and os.path.lexists(backup)
    if not force:
        keep = (
            f"the existing backup {backup.name}, the original from before that tool, will be kept"
            if has_backup
            else "no backup from before that tool exists"
        )
        raise InputError(
            f"{rate.name} already had claws removed by the old tool {done}: pass `force=True` to "
            f"commit this mask on top of it ({keep}); nothing was changed"
        )
    notes = [f"claws already removed by the old tool {done}: committed on top"]
    if has_backup:
        notes.append(
            f"backup {backup.name} (made by the old tool, the original from before it) is "
            "kept as it is"
        )
    elif backup is not None:
        notes.append(
            f"no backup from before {entries[-1].tool}: the backup made now holds the file as "
            "that tool left it"
        )
    return found, notes

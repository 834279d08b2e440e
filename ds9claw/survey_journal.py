"""The survey journal: one fsynced line per finished task, folded into the manifest.

Rewriting a 10,000-row ECSV manifest takes about 2 s, far too long to do after each of
30,000 tasks.  So `ds9claw survey run` appends each outcome as one JSON line to
``<manifest>.journal`` (``O_APPEND``, then ``fsync``: a killed run keeps every line it
finished writing; a line cut short by the kill is ignored) and rewrites the manifest
atomically every `CHECKPOINT_SECONDS` and at the end of each step, after which the
journal is removed.  `ds9claw.survey_manifest.read_manifest` applies a journal it
finds, so ``survey status`` and a rerun see every finished task.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from .nofollow import NOFOLLOW

__all__ = ["CHECKPOINT_SECONDS", "append_entries", "apply_journal", "journal_path"]

_log = logging.getLogger(__name__)

#: Seconds between two full rewrites of the manifest during a run.
CHECKPOINT_SECONDS = 30.0

_FIELDS = ("status", "count", "products", "error")


def journal_path(manifest: str | Path) -> Path:
    """``<manifest>.journal``.

    Parameters
    ----------
    manifest : str or pathlib.Path
        The manifest.

    Returns
    -------
    pathlib.Path
    """
    manifest = Path(manifest)
    return manifest.with_name(manifest.name + ".journal")


def append_entries(manifest: str | Path, step: str, entries: Iterable[tuple]) -> None:
    """Append ``(path, status, count, products, error)`` outcomes of ``step``; fsync.

    Parameters
    ----------
    manifest : str or pathlib.Path
        The manifest the journal belongs to.
    step : str
        The step.
    entries : iterable of tuple
        One per manifest row (by its ``path``).
    """
    lines = "".join(
        json.dumps({"step": step, "path": str(e[0]), **dict(zip(_FIELDS, e[1:], strict=True))})
        + "\n"
        for e in entries
    )
    fd = os.open(journal_path(manifest), os.O_WRONLY | os.O_APPEND | os.O_CREAT | NOFOLLOW, 0o644)
    try:
        os.write(fd, lines.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def apply_journal(table, manifest: str | Path) -> int:
    """Apply the journal of ``manifest`` (if any) to ``table``; return the lines applied.

    Parameters
    ----------
    table : astropy.table.Table
        The manifest as read.
    manifest : str or pathlib.Path
        Its file.

    Returns
    -------
    int
    """
    path = journal_path(manifest)
    try:
        text = path.read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return 0
    rows = {str(p): i for i, p in enumerate(table["path"])}
    applied = 0
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            index = rows[entry["path"]]
            step = entry["step"]
            values = [entry[f] for f in _FIELDS]
        except (ValueError, KeyError, TypeError):
            _log.warning("%s: ignored a line cut short or not for this manifest", path)
            continue
        for field, value in zip(_FIELDS, values, strict=True):
            table[f"{step}_{field}"][index] = value
        applied += 1
    return applied

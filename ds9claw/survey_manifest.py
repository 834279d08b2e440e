"""The survey manifest: one row per exposure, its grouping, and per step its outcome.

The manifest is an astropy table written as ECSV, always through
`ds9claw.safeio.atomic_write` (temporary file, fsync, rename), so a run killed at any
moment leaves either the previous or the next complete manifest.

Columns
-------
``path``, ``dataset``, ``program``, ``observation``, ``visit``, ``exposure``,
``detector``, ``filter``, ``group`` (visit, detector and filter: what `ds9claw find`
searches together), ``rate`` (the rate file commit writes), ``region`` and ``mask``
(paired by template), and for each step in `STEPS`: ``<step>_status`` (`TODO`,
`DONE`, `FAILED`), ``<step>_count`` (candidates, masked pixels or flagged pixels; -1
when not known), ``<step>_products`` and ``<step>_error`` (its one-line reason).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .errors import InputError

__all__ = [
    "DONE",
    "FAILED",
    "STEPS",
    "TODO",
    "new_manifest",
    "parse_exposure_name",
    "read_manifest",
    "write_manifest",
]

#: The steps a survey runs, in order.
STEPS: tuple[str, ...] = ("find", "detect", "commit")

TODO, DONE, FAILED = "todo", "done", "failed"

_TEXT_COLUMNS = (
    "path",
    "dataset",
    "program",
    "observation",
    "visit",
    "exposure",
    "detector",
    "filter",
    "group",
    "rate",
    "region",
    "mask",
)

# jw<program 5><observation 3><visit 3>_<visit group 2><parallel 1><activity 2>_<exposure 5>_<det>
_NAME = re.compile(
    r"jw(?P<program>\d{5})(?P<observation>\d{3})(?P<visit>\d{3})_(?P<group>\d{5})_"
    r"(?P<exposure>\d{5})_(?P<detector>[a-z0-9]+)",
    re.IGNORECASE,
)


def parse_exposure_name(name: str) -> dict[str, str]:
    """Program, observation, visit, exposure and detector from a JWST file name.

    Parameters
    ----------
    name : str
        A file name such as ``jw01727044001_04101_00001_nrcb1_cal.fits``.

    Returns
    -------
    dict
        The fields (empty strings when the name does not follow the JWST pattern).
    """
    match = _NAME.search(name)
    if match is None:
        return dict.fromkeys(("program", "observation", "visit", "exposure", "detector"), "")
    fields = match.groupdict()
    fields["visit"] = f"jw{fields['program']}{fields['observation']}{fields['visit']}"
    fields["exposure"] = f"{fields.pop('group')}_{fields['exposure']}"
    fields["detector"] = fields["detector"].upper()
    return fields


def new_manifest(rows: Sequence[dict]):
    """An astropy table of exposures (dicts with the text columns), every step to do.

    Parameters
    ----------
    rows : sequence of dict
        One dict per exposure with the keys of the text columns.

    Returns
    -------
    astropy.table.Table
    """
    from astropy.table import Table

    table = Table()
    for column in _TEXT_COLUMNS:
        table[column] = [str(row.get(column, "")) for row in rows]
    for step in STEPS:
        table[f"{step}_status"] = [TODO] * len(rows)
        table[f"{step}_count"] = [-1] * len(rows)
        table[f"{step}_products"] = [""] * len(rows)
        table[f"{step}_error"] = [""] * len(rows)
    for column in table.colnames:
        if table[column].dtype.kind == "U":  # room for any later value
            table[column] = table[column].astype(object)
    table.meta["ds9claw_manifest"] = 1
    return table


def read_manifest(path: str | Path):
    """Read a survey manifest written by `write_manifest`.

    Parameters
    ----------
    path : str or pathlib.Path
        The ECSV file.

    Returns
    -------
    astropy.table.Table

    Raises
    ------
    InputError
        When the file is missing or is not a ds9claw survey manifest.
    """
    from astropy.table import Table

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such manifest: make one with 'ds9claw survey plan'")
    try:
        table = Table.read(path, format="ascii.ecsv")
    except Exception as error:
        raise InputError(f"{path} is not a readable ECSV survey manifest ({error})") from None
    missing = [f"{s}_status" for s in STEPS if f"{s}_status" not in table.colnames]
    if "path" not in table.colnames or missing:
        raise InputError(f"{path} is not a ds9claw survey manifest (no path/status columns)")
    for column in table.colnames:
        values = table[column]
        if getattr(values, "mask", None) is not None and values.dtype.kind in "UOS":
            values = values.filled("")
        if values.dtype.kind in "US":
            table[column] = [str(v) for v in values]
            table[column] = table[column].astype(object)
    from .survey_journal import apply_journal

    apply_journal(table, path)
    return table


def write_manifest(table, path: str | Path) -> Path:
    """Write the manifest atomically (temporary file, fsync, rename); drop its journal.

    Parameters
    ----------
    table : astropy.table.Table
        The manifest.
    path : str or pathlib.Path
        Where to write it.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import io

    from .safeio import write_text_atomically

    out = io.StringIO()
    copy = table.copy(copy_data=False)
    for column in copy.colnames:
        if copy[column].dtype.kind == "O":
            copy[column] = [str(v) for v in copy[column]]
    copy.write(out, format="ascii.ecsv")
    write_text_atomically(path, out.getvalue())
    from .survey_journal import journal_path

    # every line of the journal is in the table just written
    journal_path(path).unlink(missing_ok=True)
    return Path(path)

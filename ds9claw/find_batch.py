"""``ds9claw find`` on the batch runner: one task per detector/filter group.

Used for ``--jobs N`` (N > 1) and ``--scheduler``.  Before any task starts, every file
is checked and grouped here and the region files that would be replaced are refused
(without ``--overwrite``), as `ds9claw.find_files.find_files` does; then each group is
searched and written by one task, all or nothing for that group.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputExistsError

__all__ = ["FoundRecord", "find_group_task", "plan_find_groups"]


@dataclass(frozen=True)
class FoundRecord:
    """The small record of one exposure a find task did (see `FoundExposure`).

    Attributes
    ----------
    path, region_path : pathlib.Path
        The exposure and its region file.
    group : str
        Detector and filter.
    labels : tuple of str
        Candidate labels (``claw 12.3``), strongest first.
    backup : pathlib.Path or None
        The replaced region file's backup.
    """

    path: Path
    region_path: Path
    group: str
    labels: tuple[str, ...]
    backup: Path | None


def plan_find_groups(
    paths: list[str | os.PathLike[str]], *, suffix: str, overwrite: bool
) -> list[list[Path]]:
    """The files grouped as `find_files` groups them; refuse region files in the way.

    Parameters
    ----------
    paths : list of path-like
        The exposures.
    suffix : str
        Region file name ending.
    overwrite : bool
        Region files may be replaced.

    Returns
    -------
    list of list of pathlib.Path
        The groups, in the order of their first file.

    Raises
    ------
    InputError, OutputExistsError
        As `ds9claw.find_files.find_files`, before anything is written.
    """
    from .errors import InputError
    from .find_files import _group_headers, region_path_for

    files = [Path(p) for p in paths]
    if len(set(files)) != len(files):
        raise InputError("an exposure is named twice: give each file once")
    if not overwrite:
        for path in files:
            target = region_path_for(path, suffix)
            if target.exists():
                raise OutputExistsError(
                    f"{target} exists (it may be drawn by hand): pass `overwrite=True` to replace "
                    "it (the old file is kept as a .bak backup)"
                )
    return list(_group_headers(files).values())


def find_group_task(paths: tuple[str, ...], options: dict) -> list[FoundRecord]:
    """Find candidates in one group and write its region files; runs in a worker.

    Parameters
    ----------
    paths : tuple of str
        The exposures of one group.
    options : dict
        Keyword arguments of `ds9claw.find_files.find_files`.

    Returns
    -------
    list of FoundRecord
    """
    from .find_files import find_files

    found = find_files(list(paths), **options)
    return [
        FoundRecord(f.path, f.region_path, f.group, tuple(c.label for c in f.candidates), f.backup)
        for f in found
    ]

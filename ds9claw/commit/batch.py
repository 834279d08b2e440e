"""Commit or revert many files: one result per file, a failure as one line of text.

The ``ds9claw commit`` and ``ds9claw revert`` commands print a table from these
results; the commits run on the one batch runner (`ds9claw.batch.run_batch`), so a
crashed worker or an unexpected exception fails only its own file.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ..errors import Ds9ClawError

__all__ = [
    "BATCH_NOTE_MARKERS",
    "commit_files",
    "commit_one",
    "count_statuses",
    "revert_files",
]

_log = logging.getLogger(__name__)

#: Notes a batch table repeats below it: what a batch user must not miss.
BATCH_NOTE_MARKERS = ("was reprojected", "by the old tool")


def commit_one(rate: str, masks: list[str], output: Path | None, options: dict):
    """Commit ``masks`` into ``rate``; never raise.

    Parameters
    ----------
    rate : str
        The rate (or cal) file.
    masks : list of str
        Its mask and region files (ORed).
    output : pathlib.Path or None
        Where the result goes (None: in place).
    options : dict
        Keyword arguments of `ds9claw.commit.commit_mask`.

    Returns
    -------
    tuple
        ``(rate, report, "")``, or ``(rate, None, message)`` when it failed.
    """
    from . import commit_mask

    try:
        report = commit_mask(rate, masks, output=output, **options)
    except Ds9ClawError as error:
        return rate, None, str(error)
    except Exception as error:
        _log.debug("unexpected error on %s", rate, exc_info=True)
        return rate, None, f"unexpected {type(error).__name__}: {error}"
    return rate, report, ""


def commit_files(
    plan: Sequence[tuple[str, list[str], Path | None]],
    options: dict,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    show: bool | None = None,
) -> list[tuple]:
    """Run `commit_one` on every ``(rate, masks, output)`` of ``plan``.

    Parameters
    ----------
    plan : sequence of tuple
        ``(rate, masks, output)`` per file.
    options : dict
        Keyword arguments of `ds9claw.commit.commit_mask`.
    jobs : int
        Local processes.
    scheduler : str or None
        Dask scheduler address (``--scheduler``; `ds9claw.batch.resolve_scheduler`).
    show : bool or None
        Progress on stderr (None: when stderr is a terminal).

    Returns
    -------
    list of tuple
        ``(rate, report or None, error)`` per file, in the order of ``plan``.
    """
    from ..batch import resolve_scheduler, run_batch

    items = [(rate, masks, output, options) for rate, masks, output in plan]
    results = run_batch(
        commit_one,
        items,
        jobs=jobs,
        scheduler=resolve_scheduler(scheduler),
        desc="commit",
        show=show,
    )
    return [r.value if r.ok else (r.name, None, f"worker failed: {r.error}") for r in results]


def revert_files(files: Sequence[str], options: dict) -> list[tuple]:
    """Revert every file of ``files``, one after the other.

    Parameters
    ----------
    files : sequence of str
        Committed rate (or cal) files.
    options : dict
        Keyword arguments of `ds9claw.commit.revert`.

    Returns
    -------
    list of tuple
        ``(path, report, "")``, or ``(path, None, message)`` when it failed.
    """
    from . import revert

    results = []
    for path in files:
        try:
            results.append((path, revert(path, **options), ""))
        except Ds9ClawError as error:
            results.append((path, None, str(error)))
    return results


def count_statuses(reports: Sequence) -> dict[str, int]:
    """How many reports have each status, in the order the statuses first appear.

    Parameters
    ----------
    reports : sequence of CommitReport or RevertReport

    Returns
    -------
    dict of str to int
    """
    counts: dict[str, int] = {}
    for report in reports:
        counts[report.status] = counts.get(report.status, 0) + 1
    return counts

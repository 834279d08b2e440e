"""The one batch runner behind every batch command: a local process pool or a Dask cluster.

`run_batch` calls a function on many items and returns one `TaskResult` per item, in the
order of the items, whatever ran them:

* ``jobs == 1`` and no scheduler: in this process, one after the other;
* ``jobs > 1``: a local `concurrent.futures.ProcessPoolExecutor`;
* a scheduler address (``--scheduler`` or ``DASK_SCHEDULER_ADDRESS``): a
  ``dask.distributed`` cluster (imported only then; install ``ds9claw[cluster]``).

Tasks carry file paths and small options, never arrays: the workers read the shared
file system and send back small records.  The function must be importable at module
level (workers unpickle it by name).

Faults are handled the same way by every engine:

* an exception raised by the function (a `~ds9claw.errors.Ds9ClawError` or anything
  unexpected) makes that item ``failed`` with a one-line reason; the others go on;
* a worker that dies in the middle of a task (killed, out of memory) has its task
  run again, on another worker; a task whose worker dies twice is ``failed``
  ("worker died twice running it").  On a Dask cluster the scheduler does the retry;
  its ``distributed.scheduler.allowed-failures`` setting says how often (ds9claw's
  tests use 1, i.e. one retry);
* losing the Dask scheduler raises `BatchError` after the results already received
  were handed to ``on_result``, so a caller that records them (the survey manifest)
  keeps everything done so far.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Ds9ClawError, InputError

__all__ = [
    "SCHEDULER_ENVIRONMENT",
    "BatchError",
    "TaskResult",
    "add_scheduler_argument",
    "resolve_scheduler",
    "run_batch",
]

_log = logging.getLogger(__name__)

#: Environment variable naming the Dask scheduler when ``--scheduler`` is not given.
SCHEDULER_ENVIRONMENT = "DASK_SCHEDULER_ADDRESS"

#: How many times a task may lose its worker before it is recorded as failed.
WORKER_DEATHS_ALLOWED = 2


class BatchError(Ds9ClawError):
    """The batch could not go on (the Dask scheduler went away or cannot be reached)."""


@dataclass(frozen=True)
class TaskResult:
    """What one task gave.

    Attributes
    ----------
    index : int
        Position of the item in the batch.
    name : str
        The item's first element (usually a file path), for tables and messages.
    ok : bool
        The function returned.
    value : object
        What it returned (``None`` when it failed).
    error : str
        One-line reason when it failed, else ``""``.
    """

    index: int
    name: str
    ok: bool
    value: Any = None
    error: str = ""


def add_scheduler_argument(parser) -> None:
    """Add ``--scheduler ADDRESS`` (next to ``--jobs``) to a subcommand parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the files on this Dask scheduler (tcp://host:8786) instead of --jobs "
        f"local processes (default: ${SCHEDULER_ENVIRONMENT} if set; needs ds9claw[cluster])",
    )


def resolve_scheduler(address: str | None) -> str | None:
    """The scheduler address to use: ``address``, else ``$DASK_SCHEDULER_ADDRESS``, else None.

    Parameters
    ----------
    address : str or None
        What ``--scheduler`` gave.

    Returns
    -------
    str or None
        The address, or None for the local engine.
    """
    chosen = address if address else os.environ.get(SCHEDULER_ENVIRONMENT, "").strip()
    return chosen or None


def call_task(func: Callable, item: tuple) -> tuple[bool, Any, str]:
    """Run ``func(*item)`` and turn any exception into a one-line reason (runs in workers).

    Parameters
    ----------
    func : callable
        The task function.
    item : tuple
        Its arguments.

    Returns
    -------
    tuple
        ``(ok, value, error)``.
    """
    try:
        return True, func(*item), ""
    except Ds9ClawError as error:
        return False, None, str(error)
    except Exception as error:
        _log.debug("unexpected error on %s", item[:1], exc_info=True)
        return False, None, f"unexpected {type(error).__name__}: {error}"


def _name(item: tuple) -> str:
    if not item:
        return ""
    first = item[0]
    if isinstance(first, (tuple, list)):  # a group of files: named by its first
        return str(first[0]) if first else ""
    return str(first)


def run_batch(
    func: Callable,
    items: Sequence[tuple],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    desc: str = "",
    show: bool | None = None,
    on_result: Callable[[TaskResult], None] | None = None,
) -> list[TaskResult]:
    """Call ``func(*item)`` for every item on the chosen engine.

    Parameters
    ----------
    func : callable
        Module-level function (picklable by name) returning a small, picklable record.
    items : sequence of tuple
        Its arguments, one tuple per task; the first element names the task.
    jobs : int
        Local worker processes when no scheduler is given (1: in this process).
    scheduler : str or None
        Dask scheduler address; see `resolve_scheduler`.
    desc : str
        Progress label.
    show : bool or None
        Show progress on standard error (None: when it is a terminal).
    on_result : callable, optional
        Called in this process with each `TaskResult` as soon as it is known.

    Returns
    -------
    list of TaskResult
        In the order of ``items``.

    Raises
    ------
    BatchError
        When the scheduler cannot be reached or goes away (results received so far
        were passed to ``on_result``).
    """
    from .progress import Progress

    items = [tuple(item) for item in items]
    results: dict[int, TaskResult] = {}

    with Progress(total=len(items), desc=desc, enabled=show) as bar:

        def record(result: TaskResult) -> None:
            results[result.index] = result
            if on_result is not None:
                on_result(result)
            bar.update(note=Path(result.name).name)

        if scheduler is not None:
            from .batch_dask import run_on_scheduler

            run_on_scheduler(func, items, scheduler, record)
        elif jobs <= 1 or len(items) <= 1:
            for index, item in enumerate(items):
                ok, value, error = call_task(func, item)
                record(TaskResult(index, _name(item), ok, value, error))
        else:
            _run_pool(func, items, min(jobs, len(items)), record)
    return [results[i] for i in range(len(items))]


def _run_pool(func: Callable, items: list[tuple], jobs: int, record) -> None:
    """Local process pool.

    A worker that dies breaks the whole pool and every task in it, so the tasks lost
    that way are run again each in a pool of its own (``jobs`` at a time): there a
    death is that task's own, and a task whose worker dies twice on its own is failed.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    lost: list[int] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(call_task, func, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            index = futures[future]
            try:
                ok, value, error = future.result()
            except BrokenProcessPool:
                lost.append(index)
                continue
            record(TaskResult(index, _name(items[index]), ok, value, error))
    deaths = dict.fromkeys(lost, 0)
    pending = sorted(lost)
    if pending:
        _log.warning("a worker died: running its %d lost task(s) again", len(pending))
    while pending:
        chunk, pending = pending[:jobs], pending[jobs:]
        pools = {i: ProcessPoolExecutor(max_workers=1) for i in chunk}
        try:
            futures = {pools[i].submit(call_task, func, items[i]): i for i in chunk}
            for future in as_completed(futures):
                index = futures[future]
                try:
                    ok, value, error = future.result()
                except BrokenProcessPool:
                    deaths[index] += 1
                    if deaths[index] < WORKER_DEATHS_ALLOWED:
                        pending.append(index)
                        continue
                    ok, value = False, None
                    error = "worker died twice running it (out of memory? killed?)"
                record(TaskResult(index, _name(items[index]), ok, value, error))
        finally:
            for single in pools.values():
                single.shutdown(wait=True)


def check_jobs(jobs: int) -> int:
    """``jobs`` when it is 1 or more, else an `InputError`.

    Parameters
    ----------
    jobs : int
        What ``--jobs`` gave.

    Returns
    -------
    int
    """
    if jobs < 1:
        raise InputError(f"`jobs` must be 1 or more, got {jobs}")
    return jobs

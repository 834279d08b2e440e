"""The Dask engine of `ds9claw.batch.run_batch` (imported only when a scheduler is given)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from .batch import BatchError, TaskResult, call_task

__all__ = ["run_on_scheduler"]

_log = logging.getLogger(__name__)

#: Seconds to wait for the scheduler when connecting.
CONNECT_TIMEOUT = 20.0


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise BatchError(
            "`scheduler` needs dask.distributed: pip install 'ds9claw[cluster]'"
        ) from None
    return distributed


def run_on_scheduler(
    func: Callable, items: list[tuple], address: str, record: Callable[[TaskResult], None]
) -> None:
    """Submit every item to the Dask scheduler at ``address``; ``record`` each result.

    Parameters
    ----------
    func : callable
        Module-level task function.
    items : list of tuple
        Its arguments.
    address : str
        Scheduler address (``tcp://host:port``).
    record : callable
        Called with each `TaskResult` as it arrives.

    Raises
    ------
    BatchError
        When the scheduler cannot be reached or goes away during the batch.
    """
    distributed = _import_distributed()
    done = 0
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise BatchError(
            f"cannot reach the Dask scheduler at {address} ({error}): start it, or check "
            "`scheduler` / $DASK_SCHEDULER_ADDRESS"
        ) from None
    try:
        batch = uuid.uuid4().hex[:12]
        futures = {}
        for index, item in enumerate(items):
            future = client.submit(
                call_task, func, item, pure=False, key=f"ds9claw-{batch}-{index}"
            )
            futures[future] = index
        for future in distributed.as_completed(futures, loop=client.loop):
            index = futures[future]
            name = str(items[index][0])
            try:
                ok, value, error = future.result()
            except distributed.KilledWorker:
                record(
                    TaskResult(
                        index,
                        name,
                        False,
                        None,
                        "worker died twice running it (out of memory? killed?)",
                    )
                )
                done += 1
                continue
            except _CANCELLED:
                # ds9claw never cancels its tasks: the client lost the scheduler
                raise _lost(address, done, len(items)) from None
            except Exception as error:
                if not _scheduler_alive(client):
                    raise _lost(address, done, len(items)) from None
                record(
                    TaskResult(
                        index,
                        name,
                        False,
                        None,
                        f"unexpected {type(error).__name__}: "
                        f"{str(error).splitlines()[0] if str(error) else ''}",
                    )
                )
                done += 1
                continue
            record(TaskResult(index, name, ok, value, error))
            done += 1
    except (OSError, TimeoutError) as error:
        _log.debug("scheduler connection lost", exc_info=True)
        raise _lost(address, done, len(items), error) from None
    finally:
        try:
            client.close(timeout=2)
        except Exception:
            _log.debug("closing the Dask client failed", exc_info=True)


def _cancelled_errors() -> tuple[type[BaseException], ...]:
    import asyncio
    import concurrent.futures

    return (asyncio.CancelledError, concurrent.futures.CancelledError)


_CANCELLED = _cancelled_errors()


def _scheduler_alive(client) -> bool:
    try:
        client.scheduler_info()
    except Exception:
        return False
    return True


def _lost(address: str, done: int, total: int, error: Exception | None = None) -> BatchError:
    why = f" ({error})" if error else ""
    return BatchError(
        f"lost the Dask scheduler at {address}{why}: {done} of {total} tasks finished and "
        "were kept; start the scheduler again and rerun to do the rest"
    )

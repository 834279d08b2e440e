"""A tiny progress reporter on standard error (no dependency).

``desc: k/N`` is redrawn in place on a terminal; when standard error is not a terminal
nothing is printed unless asked for, and then one line per step (so logs of cluster jobs
stay readable).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

__all__ = ["Progress", "progress"]

T = TypeVar("T")


class Progress:
    """Counts steps and shows ``desc: k/N`` on standard error.

    Parameters
    ----------
    total : int or None
        Number of steps, if known.
    desc : str
        Label in front of the count.
    enabled : bool or None
        Show progress: ``None`` means only when ``stream`` is a terminal.
    stream : file-like, optional
        Where to write (default: ``sys.stderr`` at construction time).
    min_interval : float
        Smallest time in seconds between two redraws on a terminal.

    Examples
    --------
    >>> with Progress(total=3, desc="commit", enabled=False) as bar:
    ...     for _ in range(3):
    ...         bar.update()
    >>> bar.count
    3
    """

    def __init__(
        self,
        total: int | None = None,
        desc: str = "",
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        min_interval: float = 0.1,
    ):
        self.total = total
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        isatty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = isatty if enabled is None else bool(enabled)
        self.inplace = isatty
        self.min_interval = min_interval
        self.count = 0
        self._last = 0.0
        self._drawn = False

    def _text(self, note: str = "") -> str:
        total = f"/{self.total}" if self.total is not None else ""
        label = f"{self.desc}: " if self.desc else ""
        return f"{label}{self.count}{total}" + (f" {note}" if note else "")

    def update(self, n: int = 1, note: str = "") -> None:
        """Advance by ``n`` steps and redraw.

        Parameters
        ----------
        n : int
            Steps done.
        note : str
            Short text shown after the count (e.g. the file just finished).
        """
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        last_step = self.total is not None and self.count >= self.total
        if self.inplace:
            if now - self._last < self.min_interval and not last_step:
                return
            self.stream.write("\r\x1b[K" + self._text(note))
            self._drawn = True
        else:
            self.stream.write(self._text(note) + "\n")
        self._last = now
        self.stream.flush()

    def advance(self, n: int = 1, note: str = "") -> None:
        """Same as `update` (advance by ``n`` steps and redraw)."""
        self.update(n, note)

    def close(self) -> None:
        """End the line on a terminal."""
        if self.enabled and self.inplace and self._drawn:
            self.stream.write("\r\x1b[K" + self._text() + "\n")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def progress(
    iterable: Iterable[T],
    total: int | None = None,
    desc: str = "",
    enabled: bool | None = None,
    *,
    stream: TextIO | None = None,
) -> Iterator[T]:
    """Yield the items of ``iterable`` while showing ``desc: k/N`` on standard error.

    Parameters
    ----------
    iterable : iterable
        The steps.
    total : int, optional
        Number of steps (default: ``len(iterable)`` when it has one).
    desc : str
        Label.
    enabled : bool or None
        Show progress: ``None`` means only when standard error is a terminal.
    stream : file-like, optional
        Where to write (default ``sys.stderr``).

    Yields
    ------
    object
        The items, unchanged.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, desc, enabled=enabled, stream=stream) as bar:
        for item in iterable:
            yield item
            bar.update()

"""Images other tools broadcast (``image.load.fits``): remember, wait, detect, show.

`BroadcastImageWatch` is the part of `~ds9claw.listener.listen.Ds9ClawListener` that
remembers every broadcast image, looks for its region file by the configured template
(at once, then while it waits for up to ``watch_seconds``), runs the detection and shows
image, seed and mask in DS9 as the DS9 menu entry does (`ShowSettings`).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Ds9ClawError, InputError, TransportError
from .handler_settings import HandlerSettings
from .image_handler import (
    RememberedImage,
    detect_in_ds9,
    detect_remembered,
    image_load_message,
    region_for,
)
from .messages import path_to_file_url

__all__ = ["BroadcastImageWatch", "ShowSettings"]

_log = logging.getLogger(__name__)


@dataclass
class ShowSettings:
    """Where and whether broadcast images are shown.

    Attributes
    ----------
    enabled : bool
        Show image, seed and mask in DS9 after a broadcast image was processed.
    target : str or None
        DS9 title (or XPA address); None: the only DS9 around.
    samp : bool or None
        True: reach DS9 over SAMP only; False: XPA only; None: XPA, else SAMP.
    timeout : float
        Seconds each DS9 request may take.
    """

    enabled: bool = True
    target: str | None = None
    samp: bool | None = None
    timeout: float = 15.0


class BroadcastImageWatch:
    """Mixin: broadcast images of other tools, and showing them in DS9.

    The listener provides the attributes used here (``settings``, ``show``, ``hub``,
    ``watch_seconds``, ``recent``, ``shown``, ``_waiting``, the DS9 connection ``_ds9``
    and its lock, ``_executor``, ``_pending``, ``_lock``) and ``_work``
    (`~ds9claw.listener.dispatch.MessageDispatch`).
    """

    settings: HandlerSettings
    show: ShowSettings
    hub: Any
    watch_seconds: float
    recent: collections.deque[RememberedImage]
    shown: list[dict[str, str]]
    _waiting: list[RememberedImage]
    _executor: ThreadPoolExecutor | None
    _pending: int
    _lock: threading.Lock
    _ds9_lock: threading.Lock
    _ds9: Any
    _ds9_problem: str

    def _last_image(self) -> Path | None:
        for image in reversed(self.recent):
            if image.path is not None:
                return image.path
        return None

    def _image_load(self, params: Any, sender: str) -> dict[str, str]:
        try:
            image = image_load_message(params, self.settings, sender=sender)
        except Ds9ClawError as exc:
            url = params.get("url") if isinstance(params, Mapping) else None
            refused = RememberedImage(
                url=str(url)[:200], path=None, sender=sender, status="refused", message=str(exc)
            )
            self.recent.append(refused)
            raise
        self.recent.append(image)
        return self._process_image(image)

    def _process_image(self, image: RememberedImage) -> dict[str, str]:
        assert image.path is not None
        try:
            region = region_for(image.path, self.settings)
            if region is None:
                if self.watch_seconds > 0:
                    image.status = "waiting"
                    with self._lock:
                        self._waiting.append(image)
                else:
                    image.status = "expired"
                image.message = "no region file yet"
                _log.info(
                    "%s: no region file (template %r) yet",
                    image.path,
                    self.settings.region_template,
                )
                return {"status": image.status}
            result = self._detect_in_ds9(image.path, region) if self.show.enabled else None
            if result is None:
                products = detect_remembered(image, self.settings)
                if products is None:  # the region file vanished meanwhile
                    raise InputError(f"region file {region} disappeared")
                products = products[0]
                result = {
                    "seed-url": path_to_file_url(products.seed_path),
                    "mask-url": path_to_file_url(products.mask_path),
                    "n-masked": str(int(products.result.n_masked)),
                    "shown": "no" if not self.show.enabled else self._ds9_problem,
                }
        except Ds9ClawError as exc:
            image.status, image.message = "failed", str(exc)
            raise
        image.status = "done"
        image.message = f"{result['n-masked']} pixels masked; shown: {result['shown']}"
        _log.info("%s: %s", image.path, image.message)
        return {"status": "done", **result}

    def _check_waiting(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
        keep = []
        now = time.time()
        for image in waiting:
            if now - image.received > self.watch_seconds:
                image.status, image.message = "expired", "no region file appeared"
                continue
            assert image.path is not None
            try:
                region = region_for(image.path, self.settings)
            except Ds9ClawError:
                continue
            if region is None:
                keep.append(image)
                continue
            executor = self._executor
            if executor is None:
                continue
            with self._lock:
                self._pending += 1
            executor.submit(
                self._work,
                None,
                None,
                "",
                "image.load.fits (watched)",
                lambda _p, _s, image=image: self._process_image(image),
                None,
            )
        with self._lock:
            self._waiting = keep + self._waiting

    def _detect_in_ds9(self, image: Path, region: Path) -> dict[str, str] | None:
        """Run the DS9 menu's detection on ``image`` in DS9; None when DS9 is unreachable."""
        from ..ds9.connect import open_transport

        with self._ds9_lock:
            for attempt in (1, 2):
                try:
                    if self._ds9 is None:
                        self._ds9 = open_transport(
                            self.show.target,
                            samp=self.show.samp,
                            hub=self.hub.lockfile if self.hub is not None else None,
                            timeout=self.show.timeout,
                        )
                    report = detect_in_ds9(
                        self._ds9,
                        image,
                        region,
                        params=self.settings.params,
                        overwrite=self.settings.overwrite,
                    )
                except TransportError as exc:
                    if self._ds9 is not None:
                        with contextlib.suppress(Exception):
                            self._ds9.close()
                        self._ds9 = None
                    if attempt == 2:
                        self._ds9_problem = f"no: {exc}"
                        _log.warning("%s not shown in DS9: %s", image, exc)
                        return None
                    continue
                frames = f"{report.image.frame} {report.seed_frame} {report.mask_frame}"
                self.shown.append({"image": str(image), "frames": frames})
                result = {
                    "n-masked": str(int(report.n_masked)),
                    "shown": f"DS9 {self._ds9.target} frames {frames}",
                }
                if report.seed_path is not None and report.mask_path is not None:
                    result["seed-url"] = path_to_file_url(report.seed_path)
                    result["mask-url"] = path_to_file_url(report.mask_path)
                return result
        return None

"""The resident SAMP client ``ds9claw samp listen``: serve other tools' messages.

`Ds9ClawListener` registers on a SAMP hub as ``ds9claw`` and

* remembers every image another tool broadcasts with ``image.load.fits``; when a region
  file is found for it by the configured template (``{stem}_claws.pix.reg``), at once or
  later while it waits, it runs the detection and shows the image, seed and mask in DS9
  as the DS9 menu entry does;
* answers ``ds9claw.detect`` (detection on a local file; reply: urls of the seed and mask
  files and pixel counts) and ``ds9claw.commit`` (DQ commit into a rate file; reply:
  pixels flagged, backup url), see `ds9claw.listener.handlers`.

Safety: standard profile only (pyvo's client, never the web profile; every MType is
declared ``x-samp.mostly-harmless=0`` so hubs keep web-profile clients away from it);
``client.env.get`` (which pyvo would answer with any environment variable) is not
offered; only ``file://`` urls of readable local files are accepted; a message never
chooses a DS9 command; parameters are validated and oversized values refused; every
failure becomes a ``samp.error`` reply and the listener keeps running.  Work runs on a
small thread pool, so a burst of messages is queued (up to ``max_pending``) and every
one is answered.

The listener notices the hub going away (``samp.hub.event.shutdown``, or a failed ping
every ``heartbeat`` seconds) and then ends, or with ``reconnect=True`` waits for a hub
to come back and registers again.  It is usable in-process (tests, benchmarks)::

    with Ds9ClawListener(hub=lockfile) as listener:
        listener.run(stop_event)
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
import traceback
import xmlrpc.client
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Ds9ClawError, InputError, TransportError
from ..sampclient.bounded_proxy import BoundedHubProxy, samp_module
from ..sampclient.hub_lockfile import locate_hub
from .handlers import (
    HandlerSettings,
    RememberedImage,
    commit_message,
    detect_in_ds9,
    detect_message,
    detect_remembered,
    image_load_message,
    region_for,
)
from .messages import path_to_file_url

__all__ = ["HOMEPAGE", "MTYPES", "Ds9ClawListener", "ShowSettings"]

_log = logging.getLogger(__name__)

HOMEPAGE = "https://github.com/ds9claw/ds9claw"

#: The MTypes the listener subscribes to, with their subscription metadata.
MTYPES: dict[str, dict[str, str]] = {
    "ds9claw.detect": {"x-samp.mostly-harmless": "0"},
    "ds9claw.commit": {"x-samp.mostly-harmless": "0"},
    "image.load.fits": {"x-samp.mostly-harmless": "0"},
    "samp.app.ping": {"x-samp.mostly-harmless": "1"},
    "samp.hub.event.shutdown": {},
    "samp.hub.disconnect": {},
}

#: Seconds every call to the hub may take (register, reply, ping ...).
_HUB_CALL_TIMEOUT = 5.0


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


def _client_class() -> type:
    """Subclass of pyvo's `SAMPClient` whose dispatch is done by the listener."""
    base = samp_module().SAMPClient

    class _ListenerClient(base):  # type: ignore[misc, valid-type]
        listener: Ds9ClawListener

        def receive_call(self, private_key, sender_id, msg_id, message):
            if private_key == self.get_private_key():
                self.listener._on_call(self, sender_id, msg_id, message)
            return ""

        def receive_notification(self, private_key, sender_id, message):
            if private_key == self.get_private_key():
                self.listener._on_notification(self, sender_id, message)
            return ""

        def receive_response(self, private_key, responder_id, msg_tag, response):
            return ""

    return _ListenerClient


def _ok(result: Mapping[str, str]) -> dict[str, Any]:
    return {"samp.status": "samp.ok", "samp.result": dict(result)}


def _error(text: str, code: str, *, debug: str = "") -> dict[str, Any]:
    error = {"samp.errortxt": text, "samp.code": code}
    if debug:
        error["samp.debugtxt"] = debug
    return {"samp.status": "samp.error", "samp.result": {}, "samp.error": error}


class Ds9ClawListener:
    """The resident ``ds9claw`` SAMP client.

    Parameters
    ----------
    hub : str, path-like or None
        Hub lockfile (see `ds9claw.sampclient.hub_lockfile.locate_hub`); default ``SAMP_HUB`` or
        ``~/.samp``.
    settings : HandlerSettings, optional
        Region template, detection parameters, output directory, overwrite, limits.
    show : ShowSettings, optional
        How broadcast images are shown in DS9.
    workers : int
        Messages processed at the same time.
    max_pending : int
        Messages queued at most; beyond that a call gets a "busy" error reply.
    reconnect : bool
        When the hub goes away, wait for a new one instead of ending.
    heartbeat : float
        Seconds between pings of the hub.
    watch_seconds : float
        How long a broadcast image without region file keeps being watched for one
        (0: only checked when it arrives).
    name : str
        ``samp.name`` to register with.
    """

    def __init__(
        self,
        *,
        hub: Any = None,
        settings: HandlerSettings | None = None,
        show: ShowSettings | None = None,
        workers: int = 2,
        max_pending: int = 1000,
        reconnect: bool = False,
        heartbeat: float = 2.0,
        watch_seconds: float = 600.0,
        name: str = "ds9claw",
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.hub_spec = hub
        self.settings = settings or HandlerSettings()
        self.show = show or ShowSettings()
        self.workers = workers
        self.max_pending = max_pending
        self.reconnect = reconnect
        self.heartbeat = heartbeat
        self.watch_seconds = watch_seconds
        self.name = name
        self.hub = None
        self.stats: collections.Counter[str] = collections.Counter()
        self.recent: collections.deque[RememberedImage] = collections.deque(maxlen=50)
        self.shown: list[dict[str, str]] = []
        self._waiting: list[RememberedImage] = []
        self._client: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._futures: dict[Future[Any], tuple[Any, str | None]] = {}
        self._lock = threading.Lock()
        self._ds9_lock = threading.Lock()
        self._ds9: Any = None
        self._pending = 0
        self._ds9_problem = "no"
        self._stop = threading.Event()
        self._hub_gone = threading.Event()
        self._registered = threading.Event()

    # --- life cycle -------------------------------------------------------------------
    @property
    def public_id(self) -> str | None:
        """The listener's id on the hub (None while not registered)."""
        client = self._client
        return None if client is None else client.get_public_id()

    @property
    def registered(self) -> bool:
        """True while registered on a hub."""
        return self._registered.is_set()

    def start(self) -> Ds9ClawListener:
        """Register on the hub and start serving (non-blocking).

        Returns
        -------
        Ds9ClawListener
            ``self``.

        Raises
        ------
        TransportError
            No hub, or it refuses the registration.
        """
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.workers, thread_name_prefix="ds9claw-samp"
            )
        self._connect()
        return self

    def _connect(self) -> None:
        samp = samp_module()
        info = locate_hub(self.hub_spec)
        proxy = BoundedHubProxy(_HUB_CALL_TIMEOUT)
        proxy.connect(hub_params=info.params, pool_size=8)
        metadata = {
            "samp.name": self.name,
            "samp.description.text": (
                "ds9claw: finds JWST NIRCam claws inside DS9 regions (seed image, 0/1 mask) "
                "and commits masks into rate-file DQ"
            ),
            "samp.documentation.url": HOMEPAGE,
            "home.page": HOMEPAGE,
            "author.name": "The ds9claw developers",
            "ds9claw.version": __version__,
            "x-samp.release.version": __version__,
        }
        conf = getattr(samp, "conf", None)
        quiet = conf.set_temp("use_internet", False) if conf else contextlib.nullcontext()
        with quiet:
            client = _client_class()(proxy, metadata=metadata, addr="127.0.0.1", callable=True)
        client.listener = self
        with contextlib.suppress(KeyError, AttributeError):
            # pyvo answers client.env.get with any environment variable: not offered here
            client.unbind_receive_call("client.env.get", declare=False)
        # a burst of calls arrives as a burst of connections: a longer listen queue
        with contextlib.suppress(OSError):
            client.client.socket.listen(128)
        client.start()
        try:
            client.register()
            proxy.declare_subscriptions(client.get_private_key(), MTYPES)
        except (OSError, xmlrpc.client.Error, Exception) as exc:
            with contextlib.suppress(Exception):
                client.stop()
            proxy.disconnect()
            raise TransportError(f"cannot register ds9claw on {info}: {exc}") from None
        self.hub = info
        self._client = client
        self._hub_gone.clear()
        self._registered.set()
        _log.info("ds9claw registered on %s as %s", info, client.get_public_id())

    def _disconnect(self, *, unregister: bool) -> None:
        client, self._client = self._client, None
        self._registered.clear()
        if client is None:
            return
        if unregister:
            with contextlib.suppress(Exception):
                client.unregister()
        with contextlib.suppress(Exception):
            client.stop(timeout=5.0)
        with contextlib.suppress(Exception):
            client.hub.disconnect()

    def stop(self) -> None:
        """Ask `run` to return (thread-safe, idempotent)."""
        self._stop.set()

    def close(self) -> None:
        """Unregister, stop serving, end the workers (pending calls get an error reply)."""
        self._stop.set()
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
            with self._lock:
                leftovers = [(f, dest) for f, dest in self._futures.items() if f.cancelled()]
                self._futures.clear()
            for _future, (client, msg_id) in leftovers:
                if msg_id is not None:
                    self._reply(client, msg_id, _error("ds9claw listener stopped", "Stopped"))
        self._disconnect(unregister=not self._hub_gone.is_set())
        with self._ds9_lock:
            if self._ds9 is not None:
                with contextlib.suppress(Exception):
                    self._ds9.close()
                self._ds9 = None

    def __enter__(self) -> Ds9ClawListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, stop_event: threading.Event | None = None) -> str:
        """Serve until stopped, interrupted or (without ``reconnect``) the hub goes away.

        Parameters
        ----------
        stop_event : threading.Event, optional
            Set it (or call `stop`) to end the loop.

        Returns
        -------
        str
            ``"stopped"``, ``"interrupted"`` (Ctrl-C) or ``"hub-stopped"``.
        """
        if self._executor is None:
            self.start()
        last_ping = time.monotonic()
        try:
            while True:
                if self._stop.is_set() or (stop_event is not None and stop_event.is_set()):
                    return "stopped"
                self._hub_gone.wait(0.25)
                if self._hub_gone.is_set():
                    _log.warning("the SAMP hub %s has gone away", self.hub)
                    self._disconnect(unregister=False)
                    if not self.reconnect:
                        return "hub-stopped"
                    if not self._wait_for_hub(stop_event):
                        return "stopped"
                    last_ping = time.monotonic()
                    continue
                if time.monotonic() - last_ping >= self.heartbeat:
                    last_ping = time.monotonic()
                    if not self._ping_hub():
                        self._hub_gone.set()
                        continue
                self._check_waiting()
        except KeyboardInterrupt:
            return "interrupted"

    def _ping_hub(self) -> bool:
        client = self._client
        if client is None:
            return False
        try:
            client.hub.ping()
        except (OSError, xmlrpc.client.Error):
            return False
        return True

    def _wait_for_hub(self, stop_event: threading.Event | None) -> bool:
        _log.info("waiting for a SAMP hub to come back (Ctrl-C to end)")
        while not (self._stop.is_set() or (stop_event is not None and stop_event.is_set())):
            try:
                self._connect()
                return True
            except TransportError as exc:
                _log.debug("no hub yet: %s", exc)
            self._stop.wait(1.0)
        return False

    def _count(self, what: str) -> None:
        with self._lock:
            self.stats[what] += 1

    # --- dispatch (runs in the XML-RPC server threads) ---------------------------------
    def _on_call(self, client: Any, sender: str, msg_id: str, message: Any) -> None:
        try:
            self._count("received")
            mtype, params = self._split(message)
            if mtype == "samp.app.ping":
                self._reply(client, msg_id, _ok({}))
                return
            handler = self._handler_for(mtype)
            if handler is None:
                self._reply(client, msg_id, _error(f"ds9claw does not handle {mtype!r}", "NoMType"))
                return
            self._submit(client, msg_id, sender, mtype, handler, params)
        except Exception as exc:  # never let an exception reach pyvo (the hub would retry)
            _log.exception("cannot dispatch a SAMP call")
            self._reply(client, msg_id, _error(f"ds9claw internal error: {exc}", "Internal"))

    def _on_notification(self, client: Any, sender: str, message: Any) -> None:
        try:
            self._count("notifications")
            mtype, params = self._split(message)
            if mtype in ("samp.hub.event.shutdown", "samp.hub.disconnect"):
                self._hub_gone.set()
                return
            handler = self._handler_for(mtype)
            if handler is not None and mtype == "image.load.fits":
                self._submit(client, None, sender, mtype, handler, params)
        except Exception:
            _log.exception("cannot dispatch a SAMP notification")

    @staticmethod
    def _split(message: Any) -> tuple[str, Any]:
        if not isinstance(message, Mapping):
            return "", {}
        mtype = message.get("samp.mtype")
        params = message.get("samp.params", {})
        return (mtype if isinstance(mtype, str) else ""), params

    def _handler_for(self, mtype: str) -> Callable[[Any, str], dict[str, str]] | None:
        return {
            "ds9claw.detect": self._detect,
            "ds9claw.commit": self._commit,
            "image.load.fits": self._image_load,
        }.get(mtype)

    def _submit(
        self,
        client: Any,
        msg_id: str | None,
        sender: str,
        mtype: str,
        handler: Callable[[Any, str], dict[str, str]],
        params: Any,
    ) -> None:
        executor = self._executor
        with self._lock:
            busy = self._pending >= self.max_pending
            if not busy and executor is not None:
                self._pending += 1
        if executor is None or busy:
            if msg_id is not None:
                reason = "busy" if busy else "stopping"
                self._reply(
                    client,
                    msg_id,
                    _error(f"ds9claw is {reason}: {self._pending} messages queued", "Busy"),
                )
            return
        try:
            future = executor.submit(self._work, client, msg_id, sender, mtype, handler, params)
        except RuntimeError:  # shut down meanwhile
            with self._lock:
                self._pending -= 1
            if msg_id is not None:
                self._reply(client, msg_id, _error("ds9claw listener stopped", "Stopped"))
            return
        with self._lock:
            if not future.done():
                self._futures[future] = (client, msg_id)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._futures.pop(future, None)

    # --- work (runs in the worker threads) --------------------------------------------
    def _work(
        self,
        client: Any,
        msg_id: str | None,
        sender: str,
        mtype: str,
        handler: Callable[[Any, str], dict[str, str]],
        params: Any,
    ) -> None:
        try:
            try:
                response = _ok(handler(params, sender))
                self._count("ok")
            except Ds9ClawError as exc:
                self._count("refused")
                _log.warning("%s from %s refused: %s", mtype, sender, exc)
                response = _error(str(exc), type(exc).__name__)
            except Exception as exc:  # a bug: answer, log, keep running
                self._count("internal-error")
                _log.exception("%s from %s failed", mtype, sender)
                response = _error(
                    f"ds9claw internal error: {type(exc).__name__}: {exc}",
                    "Internal",
                    debug=traceback.format_exc(limit=5),
                )
            if msg_id is not None:
                self._reply(client, msg_id, response)
        finally:
            with self._lock:
                self._pending -= 1

    def _reply(self, client: Any, msg_id: str, response: dict[str, Any]) -> None:
        try:
            client.hub.reply(client.get_private_key(), msg_id, response)
            self._count("replied")
        except (OSError, xmlrpc.client.Error, AttributeError) as exc:
            self._count("reply-failed")
            _log.warning("cannot reply to SAMP message %s: %s", msg_id, exc)

    def _detect(self, params: Any, sender: str) -> dict[str, str]:
        return detect_message(params, self.settings, sender=sender, last_image=self._last_image)

    def _commit(self, params: Any, sender: str) -> dict[str, str]:
        return commit_message(params, self.settings)

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

    # --- DS9 --------------------------------------------------------------------------
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

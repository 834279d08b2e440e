"""The resident SAMP client ``ds9claw samp listen``: serve other tools' messages.

`Ds9ClawListener` registers on a SAMP hub as ``ds9claw`` and

* remembers every image another tool broadcasts with ``image.load.fits``; when a region
  file is found for it by the configured template (``{stem}_claws.pix.reg``), at once or
  later while it waits, it runs the detection and shows the image, seed and mask in DS9
  as the DS9 menu entry does;
* answers ``ds9claw.detect`` (detection on a local file; reply: urls of the seed and mask
  files and pixel counts) and ``ds9claw.commit`` (DQ commit into a rate file; reply:
  pixels flagged, backup url), see `ds9claw.listener.detect_handler` and
  `ds9claw.listener.commit_handler`.

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
import xmlrpc.client
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .. import __version__
from ..errors import TransportError
from ..sampclient.bounded_proxy import BoundedHubProxy, samp_module
from ..sampclient.hub_lockfile import locate_hub
from .commit_handler import commit_message
from .detect_handler import detect_message
from .dispatch import MessageDispatch, error_reply
from .handler_settings import HandlerSettings
from .image_handler import RememberedImage
from .image_watch import BroadcastImageWatch, ShowSettings

__all__ = ["HOMEPAGE", "MTYPES", "Ds9ClawListener"]

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


class Ds9ClawListener(MessageDispatch, BroadcastImageWatch):
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
                    self._reply(client, msg_id, error_reply("ds9claw listener stopped", "Stopped"))
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

    def _handler_for(self, mtype: str) -> Callable[[Any, str], dict[str, str]] | None:
        return {
            "ds9claw.detect": self._detect,
            "ds9claw.commit": self._commit,
            "image.load.fits": self._image_load,
        }.get(mtype)

    def _detect(self, params: Any, sender: str) -> dict[str, str]:
        return detect_message(params, self.settings, sender=sender, last_image=self._last_image)

    def _commit(self, params: Any, sender: str) -> dict[str, str]:
        return commit_message(params, self.settings)

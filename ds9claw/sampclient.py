"""Finding and talking to a SAMP hub (standard profile only), every call bounded in time.

`pyvo.samp` does the protocol work (astropy 8 deprecated ``astropy.samp`` in its favour;
``astropy.samp`` is used only when pyvo is not installed).  What this module adds:

* `locate_hub` reads the hub's lockfile named by an explicit argument, by ``SAMP_HUB``
  (``std-lockurl:file://...``) or ``~/.samp``; only local lockfiles are accepted and
  nothing else is looked at or touched (no scan of ``~/.samp-1``, no clean-up of other
  hubs' lockfiles);
* `BoundedHubProxy` is a `pyvo.samp.SAMPHubProxy` whose XML-RPC connections carry a
  socket timeout, so no call hangs when the hub dies or stalls;
* `HubSession` is a non-callable client (it only sends ``callAndWait`` requests) used by
  the DS9 transport and by tests playing "another tool";
* `start_hub` / `run_hub` start a private hub with its own lockfile and without the web
  profile (``ds9claw samp hub``, test fixtures).

Nothing here changes the process environment, and no module-level code runs on import
beyond definitions.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import uuid
import warnings
import xmlrpc.client
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlparse

from .errors import TransportError

__all__ = [
    "SAMP_STATUS_ERROR",
    "SAMP_STATUS_OK",
    "SAMP_STATUS_WARNING",
    "BoundedHubProxy",
    "HubFailure",
    "HubInfo",
    "HubSession",
    "default_lockfile",
    "locate_hub",
    "run_hub",
    "samp_module",
    "start_hub",
]

_log = logging.getLogger(__name__)

SAMP_STATUS_OK = "samp.ok"
SAMP_STATUS_WARNING = "samp.warning"
SAMP_STATUS_ERROR = "samp.error"

#: Seconds added to a ``callAndWait`` timeout for the socket that carries it.
_SOCKET_SLACK = 5.0


def samp_module() -> ModuleType:
    """Return `pyvo.samp`, or ``astropy.samp`` when pyvo is not installed.

    Returns
    -------
    module
        The SAMP implementation.

    Raises
    ------
    TransportError
        Neither is available.
    """
    try:
        import pyvo.samp as samp
    except ImportError:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=r"astropy\.samp was deprecated")
                import astropy.samp as samp
        except ImportError as exc:
            raise TransportError(
                "SAMP needs pyvo (pip install pyvo) or an astropy that still has astropy.samp"
            ) from exc
    return samp


def _safe_parser_factory() -> Any:
    """Return pyvo's XXE-safe XML-RPC parser factory, or None."""
    for name in ("pyvo.samp.utils", "astropy.samp.utils"):
        with contextlib.suppress(ImportError), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"astropy\.samp was deprecated")
            module = __import__(name, fromlist=["get_safe_parser"])
            factory = getattr(module, "get_safe_parser", None)
            if factory is not None:
                return factory
    return None


class _BoundedTransport(xmlrpc.client.Transport):
    """XML-RPC over HTTP whose sockets time out after ``timeout`` seconds."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout
        self._parser_factory = _safe_parser_factory()

    def make_connection(self, host: Any) -> Any:
        connection = super().make_connection(host)
        connection.timeout = self._timeout
        if connection.sock is not None:
            connection.sock.settimeout(self._timeout)
        return connection

    def getparser(self) -> Any:
        if self._parser_factory is None:
            return super().getparser()
        return self._parser_factory(self._use_datetime, self._use_builtin_types)


@dataclass(frozen=True)
class HubInfo:
    """A running hub as described by its lockfile.

    Attributes
    ----------
    lockfile : pathlib.Path
        The lockfile that names it.
    params : dict of str to str
        The lockfile's keys (``samp.secret``, ``samp.hub.xmlrpc.url`` ...).
    """

    lockfile: Path
    params: Mapping[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        """The hub's XML-RPC address."""
        return self.params["samp.hub.xmlrpc.url"].replace("\\", "")

    def __str__(self) -> str:
        return f"SAMP hub {self.url} (lockfile {self.lockfile})"


def _lockfile_path(
    hub: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None
) -> Path:
    if hub is None:
        environ = os.environ if env is None else env
        spec = environ.get("SAMP_HUB", "")
        if not spec:
            home = environ.get("HOME")
            return (Path(home) if home else Path.home()) / ".samp"
    else:
        spec = os.fspath(hub)
    if spec.startswith("std-lockurl:"):
        spec = spec[len("std-lockurl:") :]
    elif "://" not in spec:
        return Path(spec).expanduser()
    parsed = urlparse(spec)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost", "127.0.0.1"):
        raise TransportError(
            f"SAMP hub lockfile {spec!r} is not a local file: only file:// lockfiles are used "
            "(set SAMP_HUB=std-lockurl:file:///path/to/lockfile or unset it)"
        )
    return Path(unquote(parsed.path))


def default_lockfile() -> Path:
    """Return the lockfile ``SAMP_HUB`` names, else ``~/.samp``.

    Returns
    -------
    pathlib.Path
        Where a hub's lockfile is looked for.
    """
    return _lockfile_path(None)


def _read_lockfile(path: Path) -> dict[str, str]:
    params: dict[str, str] = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            params[key.strip()] = value.strip()
    return params


def locate_hub(
    hub: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> HubInfo:
    """Read the lockfile of the SAMP hub to use.

    Parameters
    ----------
    hub : str, path-like or None
        A lockfile path, a ``file://`` url or a ``std-lockurl:file://...`` string.  None:
        ``SAMP_HUB`` when set, else ``$HOME/.samp``.
    env : mapping or None
        The environment ``SAMP_HUB`` and ``HOME`` are read from (default: this process's).

    Returns
    -------
    HubInfo
        The lockfile and its contents (the hub is not contacted).

    Raises
    ------
    TransportError
        No lockfile there, or it does not describe a standard-profile hub.
    """
    path = _lockfile_path(hub, env)
    try:
        params = _read_lockfile(path)
    except FileNotFoundError:
        raise TransportError(
            f"no SAMP hub: lockfile {path} does not exist (start a hub: TOPCAT, Aladin or "
            "`ds9claw samp hub`; or point SAMP_HUB / --hub at its lockfile)"
        ) from None
    except OSError as exc:
        raise TransportError(f"cannot read SAMP hub lockfile {path}: {exc.strerror}") from None
    missing = [k for k in ("samp.secret", "samp.hub.xmlrpc.url") if not params.get(k)]
    if missing:
        raise TransportError(
            f"SAMP hub lockfile {path} lacks {', '.join(missing)}: not a standard-profile hub"
        )
    return HubInfo(lockfile=path, params=params)


def _pyvo_quiet_conf(samp: ModuleType) -> Any:
    """Context manager telling pyvo not to probe the internet for a host name."""
    conf = getattr(samp, "conf", None)
    if conf is None:
        return contextlib.nullcontext()
    return conf.set_temp("use_internet", False)


def _proxy_base() -> type:
    return samp_module().SAMPHubProxy


class BoundedHubProxy(_proxy_base()):  # type: ignore[misc]
    """`pyvo.samp.SAMPHubProxy` whose calls time out instead of hanging.

    Parameters
    ----------
    timeout : float
        Socket timeout (seconds) of every XML-RPC call to the hub.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = float(timeout)

    def connect(
        self,
        hub: Any = None,
        hub_params: Mapping[str, str] | None = None,
        pool_size: int = 4,
    ) -> None:
        """Connect to the hub described by ``hub_params`` (a lockfile's contents).

        Parameters
        ----------
        hub_params : mapping
            The hub's lockfile keys.
        pool_size : int
            Number of XML-RPC connections kept for concurrent calls.

        Raises
        ------
        TransportError
            The hub does not answer a ping within the timeout.
        """
        if hub_params is None:
            raise TransportError("internal error: BoundedHubProxy needs the hub's lockfile")
        utils = __import__(samp_module().__name__ + ".utils", fromlist=["ServerProxyPool"])
        url = hub_params["samp.hub.xmlrpc.url"].replace("\\", "")
        timeout = self.timeout

        def make_proxy(address: str) -> xmlrpc.client.ServerProxy:
            return xmlrpc.client.ServerProxy(
                address, allow_none=True, transport=_BoundedTransport(timeout)
            )

        self._connected = False
        self.lockfile = {}
        self.proxy = utils.ServerProxyPool(pool_size, make_proxy, url)
        try:
            self.ping()
        except (OSError, xmlrpc.client.Error) as exc:
            self.proxy.shutdown()
            self.proxy = None
            raise TransportError(
                f"SAMP hub at {url} does not answer ({_describe(exc)}): its lockfile may be "
                "stale; start a hub or point SAMP_HUB / --hub at a running one"
            ) from None
        self.lockfile = dict(hub_params)
        self._connected = True


class HubFailure(TransportError):
    """The hub itself failed (stopped, restarted, unreachable), not the client called."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, xmlrpc.client.Fault):
        return exc.faultString
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def is_timeout_fault(exc: BaseException) -> bool:
    """Return True when ``exc`` is the hub's "Timeout expired" answer to ``callAndWait``."""
    return isinstance(exc, xmlrpc.client.Fault) and "timeout" in exc.faultString.lower()


#: XML-RPC connections of a `HubSession`: calls it can have in flight at once.
SESSION_CONNECTIONS = 16


class HubSession:
    """A non-callable client registered on a hub, for synchronous calls to other clients.

    Parameters
    ----------
    hub : HubInfo
        The hub (`locate_hub`).
    name : str
        ``samp.name`` declared to the hub.
    timeout : float
        Default seconds a call may take.
    metadata : mapping, optional
        More metadata to declare.

    Raises
    ------
    TransportError
        The hub does not answer or refuses the registration.
    """

    def __init__(
        self,
        hub: HubInfo,
        *,
        name: str = "ds9claw",
        timeout: float = 15.0,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self.hub = hub
        self.timeout = float(timeout)
        self._lock = threading.Lock()
        self._proxy = BoundedHubProxy(self.timeout + _SOCKET_SLACK)
        # one connection per parallel call (`ds9claw.ds9.samp_discovery.list_ds9` probes the DS9s
        # on the hub at once, so that dead ones cost one timeout in all, not one each)
        self._proxy.connect(hub_params=hub.params, pool_size=SESSION_CONNECTIONS)
        try:
            result = self._proxy.register(hub.params["samp.secret"])
            self.private_key: str = result["samp.private-key"]
            self.public_id: str = result["samp.self-id"]
            meta = {"samp.name": name, **(metadata or {})}
            self._proxy.declare_metadata(self.private_key, meta)
        except (OSError, xmlrpc.client.Error) as exc:
            self._proxy.disconnect()
            raise TransportError(f"{hub} refused to register ds9claw: {_describe(exc)}") from None
        self._closed = False

    # --- queries ---------------------------------------------------------------------
    def _hub_call(self, method: str, *args: Any) -> Any:
        if self._closed:
            raise TransportError("the SAMP connection is closed")
        try:
            return getattr(self._proxy, method)(self.private_key, *args)
        except (OSError, xmlrpc.client.Error) as exc:
            raise self._hub_error(exc) from None

    def _hub_error(self, exc: BaseException) -> HubFailure:
        if isinstance(exc, xmlrpc.client.Fault) and "private-key" in exc.faultString.lower():
            return HubFailure(
                f"{self.hub} no longer knows ds9claw (the hub was restarted): connect again"
            )
        return HubFailure(f"{self.hub} failed: {_describe(exc)} (did the hub stop?)")

    def registered_clients(self) -> list[str]:
        """Return the public ids of the other clients on the hub (the hub itself excluded).

        Returns
        -------
        list of str
            Client ids such as ``"cli#2"``.
        """
        return list(self._hub_call("get_registered_clients"))

    def subscribed_clients(self, mtype: str) -> list[str]:
        """Return the ids of the clients subscribed to ``mtype``.

        Parameters
        ----------
        mtype : str
            The MType.

        Returns
        -------
        list of str
            Client ids.
        """
        return sorted(self._hub_call("get_subscribed_clients", mtype), key=_id_key)

    def metadata(self, client_id: str) -> dict[str, Any]:
        """Return a client's metadata (``samp.name`` ...).

        Parameters
        ----------
        client_id : str
            Public id of the client.

        Returns
        -------
        dict
            Its declared metadata.
        """
        return dict(self._hub_call("get_metadata", client_id))

    def call_and_wait(
        self, recipient: str, mtype: str, params: Mapping[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send ``mtype`` to ``recipient`` and wait for its response.

        Parameters
        ----------
        recipient : str
            Public id of the recipient.
        mtype : str
            The MType.
        params : mapping
            ``samp.params`` (strings, lists and maps only).
        timeout : float or None
            Seconds to wait (default: the session's).

        Returns
        -------
        dict
            The SAMP response (``samp.status``, ``samp.result`` / ``samp.error``).

        Raises
        ------
        TransportError
            Hub unreachable; recipient unknown or not subscribed (the `xmlrpc.client.Fault`
            is chained); no response in time (message contains "did not answer").
        """
        wait = self.timeout if timeout is None else float(timeout)
        # the hub takes whole seconds, and 0 would mean "forever"
        hub_timeout = str(max(1, math.ceil(wait)))
        message = {"samp.mtype": mtype, "samp.params": dict(params)}
        if self._closed:
            raise TransportError("the SAMP connection is closed")
        try:
            return dict(
                self._proxy.call_and_wait(self.private_key, recipient, message, hub_timeout)
            )
        except xmlrpc.client.Fault as exc:
            if is_timeout_fault(exc):
                raise TransportError(
                    f"client {recipient} did not answer {mtype} within {wait:g} s"
                ) from exc
            if "private-key" in exc.faultString.lower():
                raise self._hub_error(exc) from None
            raise TransportError(
                f"{self.hub} refused {mtype} to {recipient}: {exc.faultString}"
            ) from exc
        except TimeoutError:
            raise HubFailure(
                f"client {recipient} did not answer {mtype} within {wait:g} s "
                f"and {self.hub} did not time the call out either: is the hub stuck?"
            ) from None
        except OSError as exc:
            raise self._hub_error(exc) from None

    def notify_all(self, mtype: str, params: Mapping[str, Any]) -> list[str]:
        """Broadcast a notification; return the ids it was sent to.

        Parameters
        ----------
        mtype : str
            The MType.
        params : mapping
            ``samp.params``.

        Returns
        -------
        list of str
            Recipients.
        """
        message = {"samp.mtype": mtype, "samp.params": dict(params)}
        return list(self._hub_call("notify_all", message))

    def ping(self) -> bool:
        """Return True when the hub answers a ping."""
        try:
            self._proxy.ping()
        except (OSError, xmlrpc.client.Error):
            return False
        return True

    def close(self) -> None:
        """Unregister from the hub (best effort, bounded) and close the connections."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError, xmlrpc.client.Error, AttributeError):
            self._proxy.unregister(self.private_key)
        with contextlib.suppress(OSError, xmlrpc.client.Error, AttributeError):
            self._proxy.disconnect()

    def __enter__(self) -> HubSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _id_key(client_id: str) -> tuple[int, str]:
    tail = client_id.rpartition("#")[2]
    return (int(tail), client_id) if tail.isdigit() else (1 << 30, client_id)


# --- a private hub ----------------------------------------------------------------------


def _hub_class() -> type:
    """`pyvo.samp.SAMPHubServer` without two races that lose messages to DS9.

    * pyvo's hub delivers the call in a thread and only then makes the slot that the
      reply goes into; a recipient that answers at once (DS9 answering ``get frame``
      while this machine is busy) can reply before the slot exists, and its reply is
      dropped: the caller waits the whole timeout for an answer that came.  Here the
      slot is made before the call is delivered.
    * Every delivery to a client runs in its own thread, but all of them share that
      client's one XML-RPC proxy (one HTTP connection), which is not thread-safe: a
      call delivered while the hub tells DS9 about a client that just registered was
      seen to vanish (DS9 then "does not answer").  Here deliveries to one client take
      turns.
    """
    import time

    samp = samp_module()
    errors = __import__(samp.__name__ + ".errors", fromlist=["SAMPProxyError"])

    class _Hub(samp.SAMPHubServer):  # type: ignore[misc, valid-type]
        _delivery_locks: dict[str, threading.Lock]
        _delivery_guard = threading.Lock()

        def _retry_method(self, recipient_private_key, recipient_public_id, *args):
            with self._delivery_guard:
                if not hasattr(self, "_delivery_locks"):
                    self._delivery_locks = {}
                lock = self._delivery_locks.setdefault(recipient_public_id, threading.Lock())
            with lock:  # one delivery at a time through the client's proxy
                return super()._retry_method(recipient_private_key, recipient_public_id, *args)

        def _get_new_hub_msg_id(self, sender_public_id, sender_msg_id):
            msg_id = super()._get_new_hub_msg_id(sender_public_id, sender_msg_id)
            if sender_msg_id == "samp::sync::call":
                self._sync_msg_ids_heap[msg_id] = None  # before the call goes out
            return msg_id

        def _call_and_wait(self, private_key, recipient_id, message, timeout):
            self._update_last_activity_time(private_key)
            if private_key not in self._private_keys:
                raise errors.SAMPProxyError(5, f"Private-key {private_key} expired or invalid.")
            timeout = int(timeout)
            start = time.time()
            msg_id = self._call(private_key, recipient_id, "samp::sync::call", message)
            try:
                while self._is_running:
                    response = self._sync_msg_ids_heap.get(msg_id)
                    if response is not None:
                        return dict(response)
                    if 0 < timeout <= time.time() - start:
                        raise errors.SAMPProxyTimeoutError(1, "Timeout expired!")
                    time.sleep(0.01)
                return {}
            finally:
                self._sync_msg_ids_heap.pop(msg_id, None)

    return _Hub


def start_hub(lockfile: str | os.PathLike[str], *, label: str = "ds9claw private hub") -> Any:
    """Start a standard-profile SAMP hub (no web profile) writing ``lockfile``.

    The hub runs in threads of this process; stop it with its ``stop()`` method.  Note
    that `pyvo.samp.SAMPHubServer` honours ``SAMP_HUB`` over ``lockfile`` and cleans up
    dead hubs' lockfiles in ``~/.samp*``: run it in a process whose environment says
    where (``run_hub`` in a subprocess with ``HOME`` pointed elsewhere does both).

    Parameters
    ----------
    lockfile : path-like
        Where the lockfile goes (an existing lockfile of a live hub is an error).
    label : str
        ``hub.label`` in the lockfile.

    Returns
    -------
    pyvo.samp.SAMPHubServer
        The running hub.

    Raises
    ------
    TransportError
        The hub could not start (another live hub owns the lockfile).
    """
    samp = samp_module()
    path = Path(lockfile)
    env_spec = os.environ.get("SAMP_HUB")
    if env_spec and _lockfile_path(env_spec).absolute() != path.absolute():
        # pyvo's hub would silently use SAMP_HUB instead of the lockfile asked for
        raise TransportError(
            f"SAMP_HUB={env_spec} names another lockfile than {path}: unset SAMP_HUB or "
            "use the lockfile it names"
        )
    with _pyvo_quiet_conf(samp), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hub = _hub_class()(
            web_profile=False,
            lockfile=str(path),
            addr="127.0.0.1",
            label=label,
            secret=uuid.uuid4().hex,
        )
        hub.start(wait=False)
    if not path.exists():
        hub.stop()
        reasons = "; ".join(str(w.message) for w in caught) or "no lockfile was written"
        raise TransportError(f"cannot start a SAMP hub with lockfile {path}: {reasons}")
    return hub


def run_hub(
    lockfile: str | os.PathLike[str],
    *,
    label: str = "ds9claw private hub",
    stop_event: threading.Event | None = None,
) -> int:
    """Run a private hub until interrupted (Ctrl-C, SIGTERM via the caller, ``stop_event``).

    Parameters
    ----------
    lockfile : path-like
        Where the lockfile goes.
    label : str
        ``hub.label``.
    stop_event : threading.Event, optional
        Set it to stop the hub.

    Returns
    -------
    int
        0 once the hub has stopped and its lockfile is gone.
    """
    hub = start_hub(lockfile, label=label)
    _log.info("SAMP hub running at %s, lockfile %s", hub.params["samp.hub.xmlrpc.url"], lockfile)
    event = stop_event or threading.Event()
    try:
        while not event.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hub.stop()
    return 0

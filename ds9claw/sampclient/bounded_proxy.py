"""The SAMP implementation and a hub proxy whose every XML-RPC call is bounded in time.

`samp_module` is `pyvo.samp` (astropy 8 deprecated ``astropy.samp`` in its favour;
``astropy.samp`` is used only when pyvo is not installed).  `BoundedHubProxy` is a
`pyvo.samp.SAMPHubProxy` whose XML-RPC connections carry a socket timeout, so no call
hangs when the hub dies or stalls.
"""

from __future__ import annotations

import contextlib
import warnings
import xmlrpc.client
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..errors import TransportError

__all__ = [
    "SAMP_STATUS_ERROR",
    "SAMP_STATUS_OK",
    "SAMP_STATUS_WARNING",
    "BoundedHubProxy",
    "is_timeout_fault",
    "samp_module",
]

SAMP_STATUS_OK = "samp.ok"
SAMP_STATUS_WARNING = "samp.warning"
SAMP_STATUS_ERROR = "samp.error"


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

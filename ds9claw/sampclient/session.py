"""`HubSession`: a non-callable SAMP client for synchronous calls to other clients.

It only sends ``callAndWait`` requests (and notifications), every call bounded in time;
the DS9 transport uses it, and so do tests playing "another tool".
"""

from __future__ import annotations

import contextlib
import math
import threading
import xmlrpc.client
from collections.abc import Mapping
from typing import Any

from ..errors import TransportError
from .bounded_proxy import BoundedHubProxy, _describe, is_timeout_fault
from .hub_lockfile import HubInfo

__all__ = ["SESSION_CONNECTIONS", "HubFailure", "HubSession"]

#: Seconds added to a ``callAndWait`` timeout for the socket that carries it.
_SOCKET_SLACK = 5.0


class HubFailure(TransportError):
    """The hub itself failed (stopped, restarted, unreachable), not the client called."""


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

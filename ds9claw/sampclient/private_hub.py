"""A private SAMP hub with its own lockfile and without the web profile.

`start_hub` / `run_hub` serve ``ds9claw samp hub`` and the test fixtures.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
import warnings
from pathlib import Path
from typing import Any

from ..errors import TransportError
from .bounded_proxy import _pyvo_quiet_conf, samp_module
from .hub_lockfile import _lockfile_path

__all__ = ["run_hub", "start_hub"]

_log = logging.getLogger(__name__)


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

"""How the listener turns SAMP calls and notifications into work and replies.

`MessageDispatch` is the part of `~ds9claw.listener.listen.Ds9ClawListener` that runs
in pyvo's XML-RPC server threads (split the message, pick the handler, queue it on the
worker pool or answer "busy") and in the worker threads (run the handler, turn its
result or its error into a ``samp.ok`` / ``samp.error`` reply).  No exception ever
reaches pyvo: the hub would retry the call.
"""

from __future__ import annotations

import logging
import threading
import traceback
import xmlrpc.client
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..errors import Ds9ClawError

__all__ = ["MessageDispatch", "error_reply", "ok_reply"]

_log = logging.getLogger(__name__)

Handler = Callable[[Any, str], dict[str, str]]


def ok_reply(result: Mapping[str, str]) -> dict[str, Any]:
    """A ``samp.ok`` response carrying ``result``.

    Parameters
    ----------
    result : mapping
        The ``samp.result`` keys.

    Returns
    -------
    dict
    """
    return {"samp.status": "samp.ok", "samp.result": dict(result)}


def error_reply(text: str, code: str, *, debug: str = "") -> dict[str, Any]:
    """A ``samp.error`` response.

    Parameters
    ----------
    text : str
        ``samp.errortxt``: what went wrong, for the sender's user.
    code : str
        ``samp.code``: the error's kind (``Busy``, ``Internal``, an exception name ...).
    debug : str
        ``samp.debugtxt`` (a traceback), left out when empty.

    Returns
    -------
    dict
    """
    error = {"samp.errortxt": text, "samp.code": code}
    if debug:
        error["samp.debugtxt"] = debug
    return {"samp.status": "samp.error", "samp.result": {}, "samp.error": error}


class MessageDispatch:
    """Mixin: receive, queue, run and answer SAMP messages (see the module docstring).

    The listener provides the attributes used here (``stats``, ``max_pending``, the
    worker pool ``_executor``, ``_futures``, ``_pending``, ``_lock``, ``_hub_gone``)
    and `_handler_for`.
    """

    stats: Counter[str]
    max_pending: int
    _executor: ThreadPoolExecutor | None
    _futures: dict[Future[Any], tuple[Any, str | None]]
    _pending: int
    _lock: threading.Lock
    _hub_gone: threading.Event

    def _handler_for(self, mtype: str) -> Handler | None:
        raise NotImplementedError

    def _count(self, what: str) -> None:
        with self._lock:
            self.stats[what] += 1

    def _on_call(self, client: Any, sender: str, msg_id: str, message: Any) -> None:
        try:
            self._count("received")
            mtype, params = self._split(message)
            if mtype == "samp.app.ping":
                self._reply(client, msg_id, ok_reply({}))
                return
            handler = self._handler_for(mtype)
            if handler is None:
                refusal = error_reply(f"ds9claw does not handle {mtype!r}", "NoMType")
                self._reply(client, msg_id, refusal)
                return
            self._submit(client, msg_id, sender, mtype, handler, params)
        except Exception as exc:  # never let an exception reach pyvo (the hub would retry)
            _log.exception("cannot dispatch a SAMP call")
            self._reply(client, msg_id, error_reply(f"ds9claw internal error: {exc}", "Internal"))

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

    def _submit(
        self,
        client: Any,
        msg_id: str | None,
        sender: str,
        mtype: str,
        handler: Handler,
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
                    error_reply(f"ds9claw is {reason}: {self._pending} messages queued", "Busy"),
                )
            return
        try:
            future = executor.submit(self._work, client, msg_id, sender, mtype, handler, params)
        except RuntimeError:  # shut down meanwhile
            with self._lock:
                self._pending -= 1
            if msg_id is not None:
                self._reply(client, msg_id, error_reply("ds9claw listener stopped", "Stopped"))
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
        handler: Handler,
        params: Any,
    ) -> None:
        try:
            try:
                response = ok_reply(handler(params, sender))
                self._count("ok")
            except Ds9ClawError as exc:
                self._count("refused")
                _log.warning("%s from %s refused: %s", mtype, sender, exc)
                response = error_reply(str(exc), type(exc).__name__)
            except Exception as exc:  # a bug: answer, log, keep running
                self._count("internal-error")
                _log.exception("%s from %s failed", mtype, sender)
                response = error_reply(
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

"""DS9 over SAMP: a `ds9claw.ds9.transport.Transport` that sends ``ds9.get`` / ``ds9.set``.

DS9 (8.x) registers on a SAMP hub as ``SAOImageDS9`` when started with ``-samp connect``
(or File > SAMP > Connect) and answers two MTypes with the same commands as XPA:

``ds9.get {cmd}``
    reply ``samp.result`` = ``{"value": text}`` for short text answers (DS9 turns newlines
    into spaces and drops backslashes), or ``{"url": "file://localhost//tmp/ds9NNN.xpa"}``
    for binary or long answers (``fits``, ``regions``, ``array``, ``png`` ...): a temporary
    file DS9 wrote, which this transport reads at once and then removes.
``ds9.set {cmd, url}``
    there is no standard input over SAMP: a payload (FITS bytes, region text) is written to
    a private temporary file (directory mode 0700) and its ``file://`` url sent with the
    command; DS9 reads it before it replies, and the file is removed after the reply.

Several DS9s can share a hub; `ds9claw.ds9.samp_discovery` tells them apart by their
title.  Every call is bounded by the transport's timeout, and every failure is a
`ds9claw.errors.TransportError` that says what happened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..errors import InputError, TransportError
from .names import check_ds9_name
from .samp_discovery import Ds9OnHub, ask_version, choose_ds9, list_ds9
from .transport import DEFAULT_TIMEOUT

__all__ = ["SampTransport", "connect_samp"]

_log = logging.getLogger(__name__)

#: ``get`` commands DS9 8.4.1 accepts but never answers over SAMP (its CommGet maps them
#: to nothing): asking would only wait for the timeout.
_UNANSWERED_GETS = frozenset(
    {
        "console", "cursor", "envi", "exit", "export", "header", "lower", "match", "memf",
        "movie", "multiframe", "quit", "raise", "save", "savefits", "saveimage", "savempeg",
        "sfits", "smosaic", "smosaiciraf", "smosaicwcs", "source", "srgbcube", "tcl",
        "update", "url",
    }
)  # fmt: skip

#: Name of DS9's own temporary answer files (``tmpnam``: ``ds9<clicks>.xpa[.ext]``).
_DS9_TMPFILE = re.compile(r"^ds9-?\d+\.xpa(\.[A-Za-z0-9]+)?$")

#: Largest answer file read into memory (bytes).
_MAX_ANSWER = 4 << 30

_SUFFIXES = {"fits": ".fits", "regions": ".reg", "region": ".reg", "mecube": ".fits"}


def _first_word(command: str) -> str:
    return command.strip().split(None, 1)[0].lower() if command.strip() else ""


def _local_path(url: str) -> Path:
    """Return the path of a ``file://`` url as DS9 writes them (``file://localhost//tmp/x``)."""
    parsed = urlparse(url)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost", "127.0.0.1"):
        raise TransportError(f"DS9 answered with a url that is not a local file: {url!r}")
    raw = "/" + parsed.path.lstrip("/")
    path = Path(raw)
    if not path.exists() and "%" in raw:
        path = Path(unquote(raw))
    return path


class SampTransport:
    """A connection to one DS9 over a SAMP hub (implements `Transport`).

    Use `connect_samp` to make one.

    Parameters
    ----------
    session : ds9claw.sampclient.session.HubSession
        The registered client this transport sends through.
    ds9 : Ds9OnHub
        The DS9 to talk to.
    timeout : float
        Seconds each request may take.
    owns_session : bool
        Whether `close` also unregisters ``session`` from the hub.
    """

    def __init__(
        self, session: Any, ds9: Ds9OnHub, *, timeout: float, owns_session: bool = True
    ) -> None:
        self.session = session
        self.ds9 = ds9
        self.timeout = float(timeout)
        self.target = f"{ds9.title or ds9.client_id} (SAMP {ds9.client_id})"
        self._owns_session = owns_session
        self._lock = threading.Lock()
        self._tmpdir: Path | None = None
        self._counter = 0
        self._closed = False

    # --- Transport --------------------------------------------------------------------
    def get(self, command: str) -> bytes:
        """Send ``ds9.get`` with ``command``; return the answer (file contents or text).

        Parameters
        ----------
        command : str
            The command as typed after ``xpaget ds9``.

        Returns
        -------
        bytes
            File contents for url answers (FITS bytes, region text ...), else the text
            value (no trailing newline).

        Raises
        ------
        TransportError
            DS9 gone, hub gone, no answer in time, DS9 reports an error, or DS9 8.4.1
            never answers this command over SAMP.
        """
        word = _first_word(command)
        if word in _UNANSWERED_GETS:
            raise TransportError(
                f"DS9 does not answer 'get {word}' over SAMP (DS9 8.4.1 ignores it there); "
                "use XPA for it"
            )
        result = self._call("ds9.get", {"cmd": command}, command=f"get {command}")
        url = result.get("url")
        if url:
            return self._read_answer(str(url), command)
        value = result.get("value")
        return b"" if value is None else str(value).encode("utf-8")

    def set(self, command: str, data: bytes | None = None) -> None:
        """Send ``ds9.set`` with ``command`` and, when given, ``data`` through a temp file.

        Parameters
        ----------
        command : str
            The command as typed after ``xpaset -p ds9``.
        data : bytes or None
            Payload DS9 would read from standard input over XPA.

        Raises
        ------
        TransportError
            As for `get`, or the payload cannot be written to a temporary file.
        """
        if data is None:
            self._call("ds9.set", {"cmd": command}, command=f"set {command}")
            return
        path = self._write_payload(command, data)
        try:
            url = "file://localhost" + str(path)
            self._call("ds9.set", {"cmd": command, "url": url}, command=f"set {command}")
        finally:
            with contextlib.suppress(OSError):
                path.unlink()

    def close(self) -> None:
        """Remove the payload directory and, if owned, unregister from the hub."""
        if self._closed:
            return
        self._closed = True
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> SampTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SampTransport {self.target} via {self.session.hub.url}>"

    # --- helpers ----------------------------------------------------------------------
    def _call(self, mtype: str, params: Mapping[str, str], *, command: str) -> dict[str, Any]:
        if self._closed:
            raise TransportError(f"the SAMP connection to DS9 {self.target} is closed")
        with self._lock:
            try:
                reply = self.session.call_and_wait(self.ds9.client_id, mtype, params, self.timeout)
            except TransportError as exc:
                raise self._explain(exc, command) from None
        status = reply.get("samp.status")
        if status == "samp.error":
            error = reply.get("samp.error") or {}
            text = str(error.get("samp.errortxt", "")).strip() or "no reason given"
            raise TransportError(f"DS9 {self.target} refused '{command}': {text}")
        result = reply.get("samp.result") or {}
        if status == "samp.warning":
            error = reply.get("samp.error") or {}
            _log.warning("DS9 %s: '%s': %s", self.target, command, error.get("samp.errortxt"))
        elif status != "samp.ok":
            raise TransportError(
                f"DS9 {self.target} gave an unreadable SAMP reply to '{command}': {reply!r}"
            )
        return dict(result)

    def _explain(self, exc: TransportError, command: str) -> TransportError:
        """Turn a failed call into a message saying whether DS9 is still there."""
        from ..sampclient.session import HubFailure

        text = str(exc)
        if isinstance(exc, HubFailure):
            return TransportError(f"'{command}' to DS9 {self.target} failed: {text}")
        try:
            present = self.ds9.client_id in self.session.registered_clients()
        except TransportError as hub_exc:
            return TransportError(f"'{command}' to DS9 {self.target} failed: {hub_exc}")
        if not present:
            return TransportError(
                f"DS9 {self.target} has left the SAMP hub (it quit or disconnected): "
                f"'{command}' not sent; restart DS9 with -samp connect, then retry"
            )
        if "did not answer" in text:
            alive = True
            try:
                self.session.call_and_wait(self.ds9.client_id, "samp.app.ping", {}, 1.0)
            except TransportError:
                alive = False
            hint = (
                "it is registered but does not answer pings either: it probably died "
                "without leaving the hub"
                if not alive
                else "DS9 is still there: it may be busy, or the command has no answer over SAMP"
            )
            return TransportError(
                f"DS9 {self.target} did not answer '{command}' within {self.timeout:g} s "
                f"over SAMP ({hint})"
            )
        return TransportError(f"'{command}' to DS9 {self.target} failed: {text}")

    def _read_answer(self, url: str, command: str) -> bytes:
        path = _local_path(url)
        try:
            size = path.stat().st_size
            if size > _MAX_ANSWER:
                raise TransportError(f"DS9's answer to 'get {command}' is too large ({size} B)")
            data = path.read_bytes()
        except FileNotFoundError:
            # DS9 names the file before writing it and skips writing when there is nothing
            # to send (empty frame): the same empty answer XPA gives.
            _log.debug("DS9 answer file %s for 'get %s' does not exist", path, command)
            return b""
        except OSError as exc:
            raise TransportError(
                f"cannot read DS9's answer to 'get {command}' from {path}: {exc.strerror}"
            ) from None
        self._discard_answer(path)
        return data

    @staticmethod
    def _discard_answer(path: Path) -> None:
        """Remove DS9's temporary answer file (only DS9's own temp names, owned by us)."""
        if not _DS9_TMPFILE.match(path.name):
            return
        with contextlib.suppress(OSError):
            if path.stat().st_uid == os.getuid():
                path.unlink()

    def _write_payload(self, command: str, data: bytes) -> Path:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"payload must be bytes, not {type(data).__name__}")
        try:
            if self._tmpdir is None:
                self._tmpdir = Path(tempfile.mkdtemp(prefix="ds9claw-samp-"))
            self._counter += 1
            suffix = _SUFFIXES.get(_first_word(command), ".dat")
            path = self._tmpdir / f"payload-{os.getpid()}-{self._counter}{suffix}"
            try:  # DS9 reads the path from the url as it is: it must be a name DS9 loads
                check_ds9_name(path, what="SAMP payload file")
            except InputError as exc:
                raise TransportError(
                    f"{exc}; point TMPDIR at a directory with a plain name (such as /tmp)"
                ) from None
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise TransportError(
                f"cannot write the payload of 'set {command}' for DS9 to a temporary file: "
                f"{exc.strerror}"
            ) from None
        return path


def connect_samp(
    name: str | None = None,
    *,
    hub: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    session: Any = None,
) -> SampTransport:
    """Connect to a DS9 registered on a SAMP hub.

    Parameters
    ----------
    name : str or None
        DS9's title (``-title``) or its SAMP client id (``cli#3``).  None: the only DS9 on
        the hub.
    hub : str, path-like or None
        Lockfile of the hub (path, ``file://`` url or ``std-lockurl:...``); default
        ``SAMP_HUB``, else ``~/.samp``.
    timeout : float
        Seconds each request may take.
    session : ds9claw.sampclient.session.HubSession, optional
        Use this registered client instead of registering a new one (it is then not
        closed with the transport).

    Returns
    -------
    SampTransport
        The connection; close it (or use ``with``) to leave the hub.

    Raises
    ------
    TransportError
        No hub, no DS9 on it, no DS9 with that name, or several DS9s and no name: the
        message lists the DS9s found.
    """
    from ..sampclient.hub_lockfile import locate_hub
    from ..sampclient.session import HubSession

    own = session is None
    if own:
        info = locate_hub(hub)
        session = HubSession(
            info,
            name="ds9claw (DS9 control)",
            timeout=timeout,
            metadata={"samp.description.text": "ds9claw talking to DS9"},
        )
    try:
        probe = min(timeout, 5.0)
        if name is not None and name in session.subscribed_clients("ds9.get"):
            found = [ask_version(session, name, probe)]  # a SAMP id: ask only that one
        else:
            found = list_ds9(session, timeout=probe)
        chosen = choose_ds9(found, name, session)
    except BaseException:
        if own:
            session.close()
        raise
    _log.debug("SAMP: using DS9 %s", chosen.describe())
    return SampTransport(session, chosen, timeout=timeout, owns_session=own)

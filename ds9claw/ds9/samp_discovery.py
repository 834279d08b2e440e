"""The DS9s on a SAMP hub: who they are (title, version) and which one a name means.

DS9 (8.x) registers on a SAMP hub as ``SAOImageDS9`` when started with ``-samp connect``
(or File > SAMP > Connect).  Several DS9s can share a hub; they are told apart by their
title (``-title``), which DS9 reports as the first word of ``get version``.
`ds9claw.ds9.samp_transport` talks to the one chosen here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import TransportError

__all__ = ["DS9_SAMP_NAME", "Ds9OnHub", "ask_version", "choose_ds9", "list_ds9"]

#: ``samp.name`` DS9 declares on the hub.
DS9_SAMP_NAME = "SAOImageDS9"


@dataclass(frozen=True)
class Ds9OnHub:
    """A DS9 registered on a SAMP hub.

    Attributes
    ----------
    client_id : str
        Its public id on the hub (``"cli#1"``).
    title : str or None
        Its title (``-title``); None when it did not answer ``get version``.
    version : str or None
        Its version (``"8.4.1"``).
    """

    client_id: str
    title: str | None
    version: str | None

    def describe(self) -> str:
        """One line for error messages: ``'title' (SAMP cli#1, DS9 8.4.1)``."""
        if self.title is None:
            return f"(SAMP {self.client_id}, not answering)"
        return f"{self.title!r} (SAMP {self.client_id}, DS9 {self.version})"


def ask_version(session: Any, client_id: str, timeout: float) -> Ds9OnHub:
    """Ask one SAMP client ``get version``; a client that does not answer has no title."""
    try:
        reply = session.call_and_wait(client_id, "ds9.get", {"cmd": "version"}, timeout)
    except TransportError:
        return Ds9OnHub(client_id, None, None)
    value = str((reply.get("samp.result") or {}).get("value", "")).strip()
    title, _, version = value.rpartition(" ")
    if not title:
        title, version = value, ""
    return Ds9OnHub(client_id, title or None, version or None)


def list_ds9(session: Any, *, timeout: float = 5.0) -> list[Ds9OnHub]:
    """List the DS9s registered on the hub of ``session`` with their titles.

    Every DS9 is asked ``get version`` at the same time (up to
    `ds9claw.sampclient.SESSION_CONNECTIONS` at once), so DS9s that died without leaving
    the hub (they stay registered and never answer) cost one ``timeout`` in all, not one
    each.

    Parameters
    ----------
    session : ds9claw.sampclient.HubSession
        A client registered on the hub.
    timeout : float
        Seconds each DS9 gets to answer ``get version``.

    Returns
    -------
    list of Ds9OnHub
        In registration order.
    """
    from concurrent.futures import ThreadPoolExecutor

    from ..sampclient.session import SESSION_CONNECTIONS

    ids = [c for c in session.subscribed_clients("ds9.get") if c != session.public_id]
    if len(ids) <= 1:
        return [ask_version(session, client_id, timeout) for client_id in ids]
    workers = min(len(ids), SESSION_CONNECTIONS)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ds9claw-probe") as pool:
        return list(pool.map(lambda client_id: ask_version(session, client_id, timeout), ids))


def choose_ds9(found: list[Ds9OnHub], name: str | None, session: Any) -> Ds9OnHub:
    """Pick the DS9 ``name`` names among ``found`` (or the only one); else say why not.

    Parameters
    ----------
    found : list of Ds9OnHub
        The DS9s on the hub (`list_ds9`).
    name : str or None
        A title or SAMP client id; None: the only (answering) DS9.
    session : ds9claw.sampclient.HubSession
        The client (its hub is named in messages).

    Returns
    -------
    Ds9OnHub

    Raises
    ------
    TransportError
        No DS9, no DS9 with that name, or several and no way to choose: the message lists them.
    """
    where = str(session.hub)
    listing = "; ".join(d.describe() for d in found)
    if not found:
        raise TransportError(
            f"no DS9 is registered on {where}: start DS9 with -samp connect "
            "(or File > SAMP > Connect in DS9)"
        )
    if name is None:
        answering = [d for d in found if d.title is not None]
        if len(found) == 1 or len(answering) == 1:
            return (answering or found)[0]
        raise TransportError(
            f"{len(found)} DS9s are registered on {where}: {listing}; "
            "choose one by title (--target TITLE)"
        )
    matches = [d for d in found if name in (d.title, d.client_id)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise TransportError(f"no DS9 titled {name!r} on {where}; registered DS9s: {listing}")
    raise TransportError(
        f"{len(matches)} DS9s titled {name!r} on {where}: {listing}; "
        "choose one by SAMP id (--target cli#N) or give them different -title"
    )

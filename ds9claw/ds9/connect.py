"""Choosing how to reach DS9: XPA first, SAMP when XPA finds nothing (or when asked).

XPA is not always available (DS9 started with ``-xpa no``, locked-down machines, macOS
hosts where XPA stalls in name lookup), while SAMP needs a hub.  `open_transport` tries
what it is allowed to and reports every failure together, never falling back silently
to something else: the caller gets a working `Transport` or one `TransportError`.
"""

from __future__ import annotations

import logging
import os

from ..errors import TransportError
from .transport import DEFAULT_TIMEOUT, Transport

__all__ = ["open_transport"]

_log = logging.getLogger(__name__)


def open_transport(
    target: str | None = None,
    *,
    samp: bool | None = None,
    hub: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Transport:
    """Connect to DS9 over XPA or SAMP.

    Parameters
    ----------
    target : str or None
        DS9's title (XPA name or ``-title``), an XPA address, or a SAMP client id
        (``cli#2``).  None: the only DS9 that can be found.
    samp : bool or None
        None: XPA, and SAMP when no XPA target answers; True: SAMP only (``--samp``);
        False: XPA only.
    hub : str, path-like or None
        SAMP hub lockfile (default ``SAMP_HUB``, else ``~/.samp``).
    timeout : float
        Seconds each request may take.

    Returns
    -------
    Transport
        An open connection; close it when done.

    Raises
    ------
    TransportError
        DS9 cannot be reached the allowed ways; the message says why for each.
    """
    from .samp_transport import connect_samp

    if samp is True:
        return connect_samp(target, hub=hub, timeout=timeout)
    try:
        from .xpa import connect as connect_xpa

        return connect_xpa(target, timeout=timeout)
    except TransportError as exc:
        if samp is False:
            raise
        xpa_error = exc
    except ImportError as exc:  # pragma: no cover - xpa module missing in a broken install
        if samp is False:
            raise TransportError(f"XPA support is not available: {exc}") from None
        xpa_error = TransportError(f"XPA support is not available: {exc}")
    _log.debug("XPA: %s; trying SAMP", xpa_error)
    try:
        transport = connect_samp(target, hub=hub, timeout=timeout)
    except TransportError as exc:
        raise TransportError(f"cannot reach DS9: over XPA: {xpa_error}; over SAMP: {exc}") from None
    _log.info("no DS9 answers over XPA; using %s over SAMP", transport.target)
    return transport

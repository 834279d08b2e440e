"""The one interface every DS9 connection implements.

Actions (``ds9claw.ds9.actions``) take a `Transport` and never care whether the bytes
travel over XPA or SAMP.  Implementations raise `ds9claw.errors.TransportError` when
DS9 cannot be reached or does not answer within their timeout; they never fall back
to anything silently.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_TIMEOUT", "Transport"]

#: Seconds any single DS9 request may take before it is given up.
DEFAULT_TIMEOUT = 15.0


@runtime_checkable
class Transport(Protocol):
    """A connection to one running DS9.

    Attributes
    ----------
    target : str
        Human-readable name of the DS9 this talks to (title, XPA address or SAMP id),
        used in error messages.
    timeout : float
        Seconds each request may take.
    """

    target: str
    timeout: float

    def get(self, command: str) -> bytes:
        """Send a DS9 ``get`` command (``"fits"``, ``"regions -format ds9"``, ``"frame"`` ...).

        Parameters
        ----------
        command : str
            The command as typed after ``xpaget ds9``.

        Returns
        -------
        bytes
            DS9's answer, raw (FITS bytes for ``fits``; text otherwise, undecoded).
        """
        ...

    def set(self, command: str, data: bytes | None = None) -> None:
        """Send a DS9 ``set`` command, optionally with a data payload (FITS bytes, region text).

        Parameters
        ----------
        command : str
            The command as typed after ``xpaset -p ds9``.
        data : bytes or None
            Payload sent as standard input of the command (``xpaset ds9 fits < file``).
        """
        ...

    def close(self) -> None:
        """Release the connection (a no-op where there is nothing to release)."""
        ...

"""Finding a SAMP hub (standard profile): its lockfile, and nothing else.

`locate_hub` reads the hub's lockfile named by an explicit argument, by ``SAMP_HUB``
(``std-lockurl:file://...``) or ``~/.samp``; only local lockfiles are accepted and nothing
else is looked at or touched (no scan of ``~/.samp-1``, no clean-up of other hubs'
lockfiles).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import TransportError

__all__ = ["HubInfo", "default_lockfile", "locate_hub"]


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

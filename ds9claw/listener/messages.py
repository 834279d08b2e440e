"""Checking what arrives over SAMP before anything is done with it.

Every value in a SAMP message comes from another program; these functions accept only
what ds9claw needs and refuse everything else with a `ds9claw.errors.InputError`
(``ParameterError`` for parameter values) whose message goes back in the
``samp.error`` reply:

* urls must be ``file://`` urls (host empty or ``localhost``) of existing, readable,
  regular local files below a size limit: no ``http://``, no directories, devices or
  FIFOs, no query or fragment;
* text values have a length limit; unknown parameter names are refused, so a typo is
  not silently ignored;
* numbers must be finite; flags must be DQ flag names or integers.

Pure functions: no SAMP, no DS9, no files written.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..convert import to_bool
from ..errors import InputError, ParameterError
from ..parameters import PARAMETERS, DetectionParameters

__all__ = [
    "DETECTION_KEYS",
    "Limits",
    "detection_parameters",
    "file_url_to_path",
    "normalise_keys",
    "path_to_file_url",
    "text_value",
    "truth_value",
]

_LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass(frozen=True)
class Limits:
    """Size limits of what a message may carry or point to.

    Attributes
    ----------
    max_url : int
        Characters in a url.
    max_region_text : int
        Characters of region text sent inline (a hand-drawn region file is a few kB).
    max_region_file : int
        Bytes of a region file given by url.
    max_image_file : int
        Bytes of an image or mask file given by url.
    max_value : int
        Characters of any other value (numbers, flags).
    max_params : int
        Number of parameters in one message.
    """

    max_url: int = 4096
    max_region_text: int = 1 << 20
    max_region_file: int = 1 << 20
    max_image_file: int = 4 << 30
    max_value: int = 256
    max_params: int = 64


def text_value(
    params: Mapping[str, Any], key: str, *, limit: int, required: bool = False
) -> str | None:
    """Return ``params[key]`` as a string, checking its type and length.

    Parameters
    ----------
    params : mapping
        ``samp.params``.
    key : str
        Parameter name.
    limit : int
        Largest accepted length.
    required : bool
        Refuse a missing value.

    Returns
    -------
    str or None
        The value (None when absent and not required).

    Raises
    ------
    ParameterError
        Wrong type, too long, or missing when required.
    """
    value = params.get(key)
    if value is None:
        if required:
            raise ParameterError(f"parameter '{key}' is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParameterError(f"parameter '{key}' must be a string, not a {type(value).__name__}")
    text = str(value)
    if len(text) > limit:
        raise ParameterError(
            f"parameter '{key}' is {len(text)} characters long: the limit is {limit}"
        )
    if "\x00" in text:
        raise ParameterError(f"parameter '{key}' contains a NUL character")
    return text


def truth_value(text: str, key: str) -> bool:
    """Parse a SAMP boolean (the spellings of `ds9claw.convert.to_bool`).

    Parameters
    ----------
    text : str
        The value.
    key : str
        Parameter name, for the message.

    Returns
    -------
    bool

    Raises
    ------
    ParameterError
        Anything else.
    """
    return to_bool(text, f"parameter '{key}'")


def file_url_to_path(url: str, *, what: str, max_bytes: int) -> Path:
    """Turn a ``file://`` url into the path of an existing, readable, regular local file.

    Parameters
    ----------
    url : str
        The url (``file:///data/x.fits``, ``file://localhost/data/x.fits``; DS9's
        ``file://localhost//tmp/x`` is accepted too).
    what : str
        What the file is, for messages ("image", "region file").
    max_bytes : int
        Largest accepted file size.

    Returns
    -------
    pathlib.Path
        The absolute path.

    Raises
    ------
    InputError
        Not a local ``file://`` url, or the file is missing, not a regular file,
        unreadable or too large.
    """
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme != "file":
        shown = scheme or "none"
        raise InputError(
            f"{what} url must be a file:// url of a local file (scheme {shown!r} refused): "
            f"{url[:200]}"
        )
    if parsed.netloc.lower() not in _LOCAL_HOSTS:
        raise InputError(
            f"{what} url names host {parsed.netloc!r}: only local files (file:///path or "
            "file://localhost/path) are accepted"
        )
    if parsed.query or parsed.fragment or parsed.params:
        raise InputError(f"{what} url must not have a query or fragment: {url[:200]}")
    raw = unquote(parsed.path)
    if "\x00" in raw or not raw.startswith("/"):
        raise InputError(f"{what} url does not hold an absolute path: {url[:200]}")
    path = Path("/" + raw.lstrip("/"))
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot look at {what} {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{what} {path} is not readable")
    if info.st_size > max_bytes:
        raise InputError(
            f"{what} {path} is {info.st_size} bytes: larger than the {max_bytes}-byte limit"
        )
    return path


def path_to_file_url(path: str | os.PathLike[str]) -> str:
    """Return the ``file://localhost/...`` url of a local path (percent-encoded).

    Parameters
    ----------
    path : path-like
        An absolute or relative path.

    Returns
    -------
    str
        The url.
    """
    absolute = Path(path).absolute()
    return "file://localhost" + absolute.as_uri()[len("file://") :]


#: Detection parameters a message may carry: key -> (field of DetectionParameters, kind),
#: derived from `ds9claw.parameters.PARAMETERS`.
DETECTION_KEYS: dict[str, tuple[str, str]] = {p.key: (p.name, p.kind) for p in PARAMETERS}


def detection_parameters(
    params: Mapping[str, Any], *, base: Any = None, limits: Limits | None = None
) -> Any:
    """Build `ds9claw.detect.DetectionParameters` from the detection keys of a message.

    Parameters
    ----------
    params : mapping
        ``samp.params``; only the `DETECTION_KEYS` (``_`` may stand for ``-``) are used.
    base : DetectionParameters, optional
        Values for the keys the message does not give (default: the defaults).
    limits : Limits, optional
        Size limits.

    Returns
    -------
    DetectionParameters
        Validated parameters.

    Raises
    ------
    ParameterError
        A value is malformed or out of range.
    """
    from dataclasses import replace

    limits = limits or Limits()
    changes: dict[str, Any] = {}
    for description in PARAMETERS:
        text = text_value(params, description.key, limit=limits.max_value)
        if text is not None:
            changes[description.name] = description.convert(text, f"parameter '{description.key}'")
    result = replace(base or DetectionParameters(), **changes)
    try:
        return result.validate()
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"bad detection parameters: {exc}") from None


def normalise_keys(
    params: Mapping[str, Any], allowed: set[str], *, limits: Limits
) -> dict[str, Any]:
    """Return ``params`` with ``_`` turned into ``-`` in the names; refuse unknown names.

    Parameters
    ----------
    params : mapping
        ``samp.params``.
    allowed : set of str
        Accepted names (hyphenated).
    limits : Limits
        ``max_params`` is enforced.

    Returns
    -------
    dict
        The parameters under their hyphenated names.

    Raises
    ------
    ParameterError
        Not a map, too many entries, or an unknown name.
    """
    if not isinstance(params, Mapping):
        raise ParameterError(f"samp.params must be a map, not a {type(params).__name__}")
    if len(params) > limits.max_params:
        raise ParameterError(f"{len(params)} parameters: the limit is {limits.max_params}")
    out: dict[str, Any] = {}
    for key, value in params.items():
        if not isinstance(key, str) or len(key) > 64:
            raise ParameterError(f"parameter name {str(key)[:64]!r} is not accepted")
        name = key.replace("_", "-").lower()
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise ParameterError(f"unknown parameter {key[:64]!r}; known: {known}")
        out[name] = value
    return out

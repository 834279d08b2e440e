"""What the observer last used from DS9: detection parameters, rate directory, analysis file.

Kept as a small JSON file, ``settings.json``, in the ds9claw configuration directory:
``$DS9CLAW_CONFIG_DIR`` if set, else ``$XDG_CONFIG_HOME/ds9claw``, else
``~/.config/ds9claw``.  Nothing is read or written at import; the file is written only
when an action is asked to remember something (atomically: temporary file, fsync,
rename).  A missing or damaged file gives the defaults (a damaged one is reported with
a warning, and replaced only when something new is remembered).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..convert import to_bool
from ..errors import ParameterError
from ..parameters import DIALOG_PARAMETERS, spec
from ..safeio import write_text_atomically

__all__ = ["DS9_PARAMETER_NAMES", "Ds9Settings", "config_dir", "load_settings", "save_settings"]

_log = logging.getLogger(__name__)

#: Detection parameters offered in DS9's parameter dialog (`ds9claw.parameters`).
DS9_PARAMETER_NAMES = tuple(p.name for p in DIALOG_PARAMETERS)

_FILE = "settings.json"


def config_dir() -> Path:
    """The ds9claw configuration directory (not created here).

    Returns
    -------
    pathlib.Path
        ``$DS9CLAW_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/ds9claw``, else
        ``~/.config/ds9claw``.
    """
    explicit = os.environ.get("DS9CLAW_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "ds9claw"


@dataclass
class Ds9Settings:
    """Settings remembered between DS9 sessions.

    Attributes
    ----------
    sigma, smooth, minpixarea, ignore_background, median_filter
        Detection parameters last used from DS9's parameter dialog: one field per
        `ds9claw.parameters.DIALOG_PARAMETERS` entry, with its default (a test checks
        that the two agree).
    suffix : str
        Product suffix last used.
    rate_dir : str or None
        Directory holding the ``*_rate.fits`` files (None: beside the cal file).
    analysis_file : str or None
        The user copy of the analysis file written by ``ds9claw analysis install``.
    overwrite : bool
        The observer allows Detect claws to replace files ds9claw did not write at the
        product paths (its own earlier products are always replaced).
    """

    sigma: float = spec("sigma").default  # type: ignore[assignment]
    smooth: float = spec("smooth").default  # type: ignore[assignment]
    minpixarea: int = spec("minpixarea").default  # type: ignore[assignment]
    ignore_background: bool = spec("ignore_background").default  # type: ignore[assignment]
    median_filter: int = spec("median_filter").default  # type: ignore[assignment]
    suffix: str = "_claws_seed_image"
    rate_dir: str | None = None
    analysis_file: str | None = None
    overwrite: bool = False
    extra: dict = field(default_factory=dict)

    def detection_kwargs(self) -> dict:
        """The detection parameters as `ds9claw.detect.DetectionParameters` keywords."""
        return {name: getattr(self, name) for name in DS9_PARAMETER_NAMES}


def _coerce_one(name: str, value: object) -> object:
    if name in DS9_PARAMETER_NAMES:
        return spec(name).convert(value)
    if name == "overwrite":
        return to_bool(value, name)
    if name == "suffix":
        return str(value)
    if name in ("rate_dir", "analysis_file"):
        return None if value in (None, "") else str(value)
    if name == "extra":
        return dict(value)  # type: ignore[call-overload]
    return value


def _coerce(settings: Ds9Settings, data: dict) -> Ds9Settings:
    for f in fields(Ds9Settings):
        if f.name not in data:
            continue
        value = data[f.name]
        try:
            setattr(settings, f.name, _coerce_one(f.name, value))
        except (TypeError, ValueError, ParameterError):
            _log.warning("settings: ignoring bad value %r for %s", value, f.name)
    return settings


def load_settings(directory: Path | None = None) -> Ds9Settings:
    """Read the remembered settings (defaults for whatever is missing).

    Parameters
    ----------
    directory : pathlib.Path or None
        Configuration directory (default `config_dir`).

    Returns
    -------
    Ds9Settings
    """
    path = (directory or config_dir()) / _FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Ds9Settings()
    except (OSError, ValueError) as error:
        _log.warning("cannot read %s (%s): using default settings", path, error)
        return Ds9Settings()
    if not isinstance(data, dict):
        _log.warning("%s does not hold a JSON object: using default settings", path)
        return Ds9Settings()
    return _coerce(Ds9Settings(), data)


def save_settings(settings: Ds9Settings, directory: Path | None = None) -> Path:
    """Write the settings atomically.

    Parameters
    ----------
    settings : Ds9Settings
        What to remember.
    directory : pathlib.Path or None
        Configuration directory (default `config_dir`); created if needed.

    Returns
    -------
    pathlib.Path
        The settings file.
    """
    directory = directory or config_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / _FILE
    text = json.dumps(asdict(settings), indent=2, sort_keys=True) + "\n"
    write_text_atomically(path, text)
    return path

"""Every detection parameter described once: `PARAMETERS`, and `DetectionParameters`.

Each `ParameterSpec` holds what the rest of ds9claw needs to know about one parameter
(in the spirit of the ``spec`` strings of jwst/stpipe steps): its name, type, default,
valid range and the message when a value is outside it, its help text, its command-line
flags, its SAMP key, its FITS provenance keyword, and whether (and how) DS9's parameter
dialog shows it.  Everything else is derived from this table:

* the ``ds9claw detect`` and ``ds9claw ds9`` options (`ds9claw.commands.options`),
* the detection keys a SAMP message may carry (`ds9claw.listener.messages`),
* the parameters remembered from DS9 (`ds9claw.ds9.settings`) and the defaults of the
  analysis file's dialog (a test checks ``ds9_analysis/ds9claw.ans`` against it),
* the provenance cards of the products (`ds9claw.api.provenance_cards`),
* the one-line summaries (`describe`),
* `DetectionParameters.validate`.

Adding a parameter: one `ParameterSpec` here, one field in `DetectionParameters`, and its
use in the algorithm (CONTRIBUTING.md shows a worked example).  This module imports
nothing heavy (no numpy), so the command line can build parameters cheaply.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace

from .convert import to_bool, to_float, to_int
from .errors import ParameterError

__all__ = [
    "COMMIT_OPTIONS",
    "DIALOG_PARAMETERS",
    "MAX_MEDIAN_FILTER",
    "MAX_SMOOTH",
    "PARAMETERS",
    "DetectionParameters",
    "ParameterSpec",
    "describe",
    "dialog_text",
    "spec",
]

#: Largest median filter size (pixels); its cost does not depend on the size
#: (`ds9claw.filters`), the limit keeps the window margin sensible.
MAX_MEDIAN_FILTER = 101
#: Largest smoothing standard deviation (pixels) of ``smooth`` and ``smooth_in_advance``;
#: the cost grows with it (benchmarks/bench_limits.py measures the worst case).
MAX_SMOOTH = 50.0

_CONVERTERS = {"float": to_float, "int": to_int, "bool": to_bool}


@dataclass(frozen=True)
class Dialog:
    """How DS9's parameter dialog (the ``param`` block of the analysis file) shows one."""

    variable: str
    widget: str  # "entry" or "checkbox"
    label: str
    hint: str


@dataclass(frozen=True)
class ParameterSpec:
    """The one description of a parameter.

    Attributes
    ----------
    name : str
        Python name (field of `DetectionParameters`, keyword of the API).
    kind : {"float", "int", "bool"}
        Type; `convert` reads text with the matching `ds9claw.convert` function.
    default : object
        Default value (``None``: not set, see ``optional``).
    help : str
        One-line help (command line and docs).
    optional : bool
        ``None`` is a valid value.
    minimum, maximum : float or None
        Valid range; ``open_minimum``/``open_maximum`` exclude the bound itself.
    message : str
        The error when the value is outside the range, a format string with ``{name}``,
        ``{value!r}``, ``{minimum}`` and ``{maximum}``.
    aliases : tuple of str
        Other Python names accepted by the command line (``smooth_after``).
    fits : (str, str)
        Provenance keyword and its comment.
    dialog : Dialog or None
        How DS9's parameter dialog shows it (None: not shown).
    """

    name: str
    kind: str
    default: object
    help: str
    fits: tuple[str, str]
    optional: bool = False
    minimum: float | None = None
    maximum: float | None = None
    open_minimum: bool = False
    open_maximum: bool = False
    message: str = "{name} must be between {minimum} and {maximum}, got {value!r}"
    aliases: tuple[str, ...] = ()
    dialog: Dialog | None = None

    @property
    def key(self) -> str:
        """The SAMP key (``box-size``; ``box_size`` is accepted too)."""
        return self.name.replace("_", "-")

    @property
    def flags(self) -> tuple[str, ...]:
        """Command-line flags (``--box-size``, then the aliases)."""
        return tuple("--" + n.replace("_", "-") for n in (self.name, *self.aliases))

    def convert(self, value: object, what: str | None = None) -> object:
        """Turn text (or a value) into this parameter's type; no range check.

        Parameters
        ----------
        value : object
            Text from the command line, a SAMP message or the settings file.
        what : str, optional
            How the parameter is named in the message (default its name).
        """
        return _CONVERTERS[self.kind](value, what or self.name)

    def check(self, value: object) -> None:
        """Raise `ParameterError` (with ``message``) when ``value`` is out of range."""
        if value is None and self.optional:
            return
        if not self._in_range(value):
            raise ParameterError(
                self.message.format(
                    name=self.name, value=value, minimum=self.minimum, maximum=self.maximum
                )
            )

    def _in_range(self, value: object) -> bool:
        if self.kind == "bool":
            return isinstance(value, bool)
        if isinstance(value, float) and not math.isfinite(value):
            return False
        low, high = self.minimum, self.maximum
        if low is not None and (value <= low if self.open_minimum else value < low):
            return False
        return not (high is not None and (value >= high if self.open_maximum else value > high))


_POSITIVE = "{name} must be a positive number, got {value!r}"
_SMOOTHING = (
    "{name} must be between 0 and {maximum:g} pixels (the limit), got {value!r}: a claw "
    "needs a few pixels at most"
)

#: Every detection parameter, in the order of `DetectionParameters`.
PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "sigma", "float", 3.0, "detection threshold in noise units (default 3)",
        ("CLAWSIG", "detection sigma"), minimum=0, open_minimum=True, message=_POSITIVE,
        dialog=Dialog("cl_sigma", "entry", "Detection threshold (sigma)",
                      "pixels above sigma x noise are detected"),
    ),
    ParameterSpec(
        "lsigma", "float", None, "lower clipping threshold (default: sigma)",
        ("CLAWLSIG", "lower sigma"), optional=True, minimum=0, open_minimum=True,
        message=_POSITIVE,
    ),
    ParameterSpec(
        "usigma", "float", None, "upper threshold = detection threshold (default: sigma)",
        ("CLAWUSIG", "upper sigma"), optional=True, minimum=0, open_minimum=True,
        message=_POSITIVE,
    ),
    ParameterSpec(
        "box_size", "int", None, "2-D background box in pixels (default: image side/10, then /30)",
        ("CLAWBOX", "background box"), optional=True, minimum=4,
        message="{name} must be at least {minimum} pixels, got {value!r}",
    ),
    ParameterSpec(
        "box_frac", "float", None, "background box as a fraction of the image side",
        ("CLAWBFRC", "box fraction"), optional=True, minimum=0, maximum=1, open_minimum=True,
        message="{name} must be in (0, 1], got {value!r}",
    ),
    ParameterSpec(
        "median_filter", "int", 1, "median filter size on the detection map (1 = off)",
        ("CLAWMEDF", "median filter size"), minimum=1, maximum=MAX_MEDIAN_FILTER,
        message="{name} is a size in pixels (1 = off, at most {maximum}, the limit), got "
        "{value!r}: use a size between 1 and {maximum} (3 to 9 removes isolated noise pixels)",
        dialog=Dialog("cl_medfilt", "entry", "Median filter size (pixels)",
                      "1 for no median filter"),
    ),
    ParameterSpec(
        "minpixarea", "int", 1, "keep pixels with at least N detected 8-neighbours (default 1)",
        ("MPIXAREA", "min. detected neighbours"), minimum=0, maximum=8,
        message="{name} counts neighbours (0..8), got {value!r}; for a minimum group size "
        "use min_area",
        dialog=Dialog("cl_minpix", "entry", "Min. detected neighbours (minpixarea)",
                      "a pixel is kept when at least this many of its 8 neighbours are detected"),
    ),
    ParameterSpec(
        "min_area", "int", 0, "drop connected groups smaller than N pixels (default 0 = off)",
        ("CLAWMINA", "minimum connected area (pixels)"), minimum=0,
        message="{name} must be 0 or more pixels, got {value!r}",
    ),
    ParameterSpec(
        "smooth_in_advance", "float", 0.0,
        "Gaussian stddev (pixels) smoothing the image before detection",
        ("CLAWSMIA", "image smoothing stddev (pixels)"), minimum=0, maximum=MAX_SMOOTH,
        message=_SMOOTHING,
    ),
    ParameterSpec(
        "smooth", "float", 0.0,
        "Gaussian stddev (pixels) smoothing the mask into the seed image (default 0 = off)",
        ("SMOOTH", "Gaussian2DKernel stddev in pixel"), minimum=0, maximum=MAX_SMOOTH,
        message=_SMOOTHING, aliases=("smooth_after",),
        dialog=Dialog("cl_smooth", "entry", "Smoothing (Gaussian stddev, pixels)",
                      "0 for no smoothing of the seed"),
    ),
    ParameterSpec(
        "smooth_cutoff", "float", 1e-3, "seed values below this become 0 (default 1e-3)",
        ("CLAWSCUT", "seed values below this set to 0"), minimum=0, maximum=1,
        open_maximum=True, message="{name} must be in [0, 1), got {value!r}",
    ),
    ParameterSpec(
        "ignore_background", "bool", False, "take the background as 0 (sky-subtracted images)",
        ("CLAWIGNB", "background taken as zero"),
        dialog=Dialog("cl_nobg", "checkbox", "Ignore background (sky-subtracted image)",
                      "take the background as zero"),
    ),
)

_BY_NAME = {p.name: p for p in PARAMETERS}

#: The parameters DS9's dialog shows (and ``ds9claw ds9`` remembers), in dialog order.
DIALOG_PARAMETERS: tuple[ParameterSpec, ...] = tuple(
    _BY_NAME[name] for name in ("sigma", "smooth", "minpixarea", "ignore_background",
                                "median_filter")
)  # fmt: skip


def spec(name: str) -> ParameterSpec:
    """The description of one detection parameter (by Python name)."""
    return _BY_NAME[name]


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def dialog_text(description: ParameterSpec, value: object) -> str:
    """A value as DS9's parameter dialog shows it (a checkbox: ``1``/``0``)."""
    if description.kind == "bool":
        return "1" if value else "0"
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(values: object, names: Iterable[str] | None = None) -> str:
    """The one summary format: ``sigma=2, smooth=1, ..., ignore background=yes``.

    Parameters
    ----------
    values : DetectionParameters or object with the same attributes
        The values to show.
    names : iterable of str, optional
        Which parameters (default: those of DS9's dialog).
    """
    chosen = names if names is not None else [p.name for p in DIALOG_PARAMETERS]
    return ", ".join(f"{n.replace('_', ' ')}={_show(getattr(values, n))}" for n in chosen)


@dataclass(frozen=True)
class DetectionParameters:
    """Parameters of `ds9claw.detect.detect_claws`, named as in the observers' old script.

    Each field is described (type, default, range, help) by its `ParameterSpec` in
    `PARAMETERS`.

    Parameters
    ----------
    sigma : float
        Detection threshold in units of the noise (default for both ``lsigma`` and
        ``usigma``).
    lsigma, usigma : float or None
        Lower / upper clipping thresholds; ``usigma`` is the detection threshold.
    box_size : int or None
        Box size (pixels) of the 2-D background.  ``None``: the old script's rule, a
        tenth of the smaller image side for the first pass and a thirtieth for the
        second (or ``box_frac`` if given).
    box_frac : float or None
        Box size as a fraction of the smaller image side, for both passes, when
        ``box_size`` is not given.  (The old script accepted this option and ignored it.)
    median_filter : int
        Size of the median filter applied to the 0/1 detection map (1: none).
    minpixarea : int
        Keep a detected pixel only when at least this many of its 8 neighbours are
        detected (0: keep all).  This is the old script's meaning of the option.
    min_area : int
        Drop connected groups (8-connectivity) of fewer pixels than this (0: keep all).
    smooth_in_advance : float
        Standard deviation (pixels) of a Gaussian that smooths the *image* before
        detection (0: none).  Invalid pixels do not contribute.
    smooth : float
        Standard deviation (pixels) of the Gaussian that smooths the 0/1 detection map
        into the seed image (0: none; alias ``smooth_after``).
    smooth_cutoff : float
        Seed values below this are set to zero after smoothing.
    ignore_background : bool
        Take the background as zero (right for sky-subtracted images); otherwise
        estimate a 2-D background around the region (right for images that keep their
        sky level).
    """

    sigma: float = _BY_NAME["sigma"].default  # type: ignore[assignment]
    lsigma: float | None = None
    usigma: float | None = None
    box_size: int | None = None
    box_frac: float | None = None
    median_filter: int = _BY_NAME["median_filter"].default  # type: ignore[assignment]
    minpixarea: int = _BY_NAME["minpixarea"].default  # type: ignore[assignment]
    min_area: int = _BY_NAME["min_area"].default  # type: ignore[assignment]
    smooth_in_advance: float = _BY_NAME["smooth_in_advance"].default  # type: ignore[assignment]
    smooth: float = _BY_NAME["smooth"].default  # type: ignore[assignment]
    smooth_cutoff: float = _BY_NAME["smooth_cutoff"].default  # type: ignore[assignment]
    ignore_background: bool = _BY_NAME["ignore_background"].default  # type: ignore[assignment]

    @property
    def smooth_after(self) -> float:
        """Alias of ``smooth`` (the old script's second name for it)."""
        return self.smooth

    @property
    def lower_sigma(self) -> float:
        """The lower clipping threshold in effect."""
        return self.sigma if self.lsigma is None else self.lsigma

    @property
    def upper_sigma(self) -> float:
        """The upper clipping threshold in effect (the detection threshold)."""
        return self.sigma if self.usigma is None else self.usigma

    def validate(self) -> DetectionParameters:
        """Check every value against its `ParameterSpec`; return ``self`` for chaining.

        Raises
        ------
        ParameterError
            Naming the parameter, its value and the allowed range.
        """
        for description in PARAMETERS:
            description.check(getattr(self, description.name))
        return self

    def as_dict(self) -> dict[str, object]:
        """All parameters as a plain dict (for provenance keywords and replies)."""
        return asdict(self)

    def updated(self, **changes: object) -> DetectionParameters:
        """A copy with some values changed (``smooth_after`` is accepted for ``smooth``)."""
        if "smooth_after" in changes:
            changes["smooth"] = changes.pop("smooth_after")
        return replace(self, **changes)  # type: ignore[arg-type]


#: Commit options shared by ``ds9claw commit``, ``ds9claw ds9 commit`` and the SAMP
#: ``ds9claw.commit`` message: name -> (default, help).  ``flags`` and ``fill_value`` are
#: text read by `ds9claw.dq.interpret_flags` and `ds9claw.commit` (``nan`` is allowed).
COMMIT_OPTIONS: dict[str, tuple[object, str]] = {
    "flags": (
        "DO_NOT_USE+UNRELIABLE_DARK+UNRELIABLE_FLAT+OTHER_BAD_PIXEL",
        "DQ flags to OR in: JWST flag names joined by '+', or an integer",
    ),
    "fill_value": (
        "0.0",
        "SCI value of masked pixels, a number or nan (default 0.0); ERR/VAR_* unchanged",
    ),
    "dry_run": (False, "count only, write nothing"),
}

"""What the resident listener does with each message, independent of SAMP plumbing.

Each handler takes the message's ``samp.params`` (already a plain dict), checks it with
`ds9claw.listener.messages`, does the work through the public API
(`ds9claw.api.detect_file`, `ds9claw.commit.commit_mask`) and returns the
``samp.result`` map (strings only).  Errors are raised as `ds9claw.errors.Ds9ClawError`;
`ds9claw.listener.listen` turns them into ``samp.error`` replies.

Nothing a message carries becomes a DS9 command, with one checked exception: a broadcast
image that DS9 does not show already is opened with ``fits {path}``, and only when the
path is an existing regular local file whose name passes `ds9claw.ds9.names`, the one
gate for every file name sent to DS9 (no braces, brackets, double quotes, ``;``, ``#``,
backslashes, control or non-ASCII characters).  Everything else DS9 gets is a fixed
command or data (FITS bytes, region text) sent through `ds9claw.ds9.actions`.

What a sender cannot do: choose the output directory, a DS9 command, or widen the
listener's overwrite policy (`ds9claw.overwrite.refuse_to_replace`: ds9claw's own earlier
products are replaced, other files only when the listener was started with
``--overwrite``); ``overwrite=0`` in a message narrows it (nothing existing is replaced),
``overwrite=1`` changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, ParameterError
from ..parameters import COMMIT_OPTIONS
from .messages import (
    DETECTION_KEYS,
    Limits,
    detection_parameters,
    file_url_to_path,
    normalise_keys,
    path_to_file_url,
    text_value,
    truth_value,
)

__all__ = [
    "COMMIT_KEYS",
    "DETECT_KEYS",
    "HandlerSettings",
    "RememberedImage",
    "commit_message",
    "detect_in_ds9",
    "detect_message",
    "detect_remembered",
    "image_load_message",
    "region_for",
]

_log = logging.getLogger(__name__)

#: Parameters of ``ds9claw.detect``.
DETECT_KEYS = frozenset(
    {
        "image-url",
        "region",
        "region-url",
        "exclude-region",
        "exclude-region-url",
        "overwrite",
        "dq-invalid",
        *DETECTION_KEYS,
    }
)

#: Parameters of ``ds9claw.commit``.
COMMIT_KEYS = frozenset({"rate-url", "mask-url"} | {k.replace("_", "-") for k in COMMIT_OPTIONS})

#: What a refused product tells the sender (`ds9claw.overwrite.refuse_to_replace`).
LISTENER_OVERWRITE_HINT = (
    "the listener replaces only ds9claw's own earlier products; move that file away, "
    "or start the listener with --overwrite (a message cannot allow it)"
)

#: Seconds a commit waits for another commit of the same file before giving up.
_COMMIT_LOCK_TIMEOUT = 20.0


@dataclass
class HandlerSettings:
    """What the listener was started with (the user's choices, not the sender's).

    Attributes
    ----------
    region_template : str
        Region file name for an image, e.g. ``"{stem}_claws.pix.reg"`` (relative to the
        image's directory; see `ds9claw.api.resolve_region_template`).
    params : DetectionParameters or None
        Detection parameters for broadcast images, and defaults for ``ds9claw.detect``.
    output_dir : pathlib.Path or None
        Where products go (default: beside each input).  Senders cannot choose.
    overwrite : bool
        Also replace files ds9claw did not write at the product paths (``--overwrite``);
        a sender cannot ask for it, only narrow the policy with ``overwrite=0``.
    limits : Limits
        Size limits on messages.
    invalid_flags : str, int or None
        DQ bits that make a pixel unusable (None: ds9claw's default); a
        ``ds9claw.detect`` sender may give ``dq-invalid``.
    """

    region_template: str = "{stem}_claws.pix.reg"
    params: Any = None
    output_dir: Path | None = None
    overwrite: bool = False
    limits: Limits = field(default_factory=Limits)
    invalid_flags: str | int | None = None


@dataclass
class RememberedImage:
    """An image another tool broadcast with ``image.load.fits``.

    Attributes
    ----------
    url : str
        The url as sent.
    path : pathlib.Path or None
        Its local path (None when the url was refused).
    name : str
        ``name`` parameter, if any.
    sender : str
        SAMP id of the sender.
    received : float
        ``time.time()`` at arrival.
    status : str
        ``"waiting"`` (no region file yet), ``"done"``, ``"failed"``, ``"refused"``,
        ``"expired"``.
    message : str
        Outcome (products, pixel count or error).
    """

    url: str
    path: Path | None
    name: str = ""
    sender: str = ""
    received: float = field(default_factory=time.time)
    status: str = "waiting"
    message: str = ""


_product_locks: dict[Path, threading.Lock] = {}
_product_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    """One lock per product file, so two requests for one image do not race."""
    with _product_locks_guard:
        lock = _product_locks.get(path)
        if lock is None:
            lock = _product_locks[path] = threading.Lock()
        return lock


def _region_sources(
    params: Mapping[str, Any], text_key: str, url_key: str, *, sender: str, limits: Limits
) -> list[Any]:
    from ..region_parse import RegionSource, parse_region_text

    sources = []
    text = text_value(params, text_key, limit=limits.max_region_text)
    if text is not None:
        sources.append(RegionSource.from_text(text, name=f"{text_key} from SAMP client {sender}"))
    url = text_value(params, url_key, limit=limits.max_url)
    if url is not None:
        path = file_url_to_path(url, what="region file", max_bytes=limits.max_region_file)
        sources.append(RegionSource.from_file(path))
    for source in sources:
        parse_region_text(source)  # refuses unreadable text and what passes a region limit
    return sources


def _template_region(image: Path, settings: HandlerSettings) -> Path:
    from ..api import resolve_region_template

    return resolve_region_template(settings.region_template, image)


def _run_detection(
    image: Path,
    *,
    include: list[Any],
    exclude: list[Any],
    params: Any,
    settings: HandlerSettings,
    replace_nothing: bool = False,
    invalid_flags: str | int | None = None,
) -> Any:
    from ..api import DEFAULT_SUFFIX, detect_file
    from ..errors import OutputExistsError
    from ..overwrite import refuse_to_replace
    from ..products import output_paths

    options: dict[str, Any] = {}
    if invalid_flags is None:
        invalid_flags = settings.invalid_flags
    if invalid_flags is not None:
        options["invalid_flags"] = invalid_flags
    planned = output_paths(image, DEFAULT_SUFFIX, output_dir=settings.output_dir)
    with _lock_for(planned["seed"].resolve()):
        if replace_nothing:  # the sender narrowed the policy: nothing existing is replaced
            for path in planned.values():
                if path.exists() or path.is_symlink():
                    raise OutputExistsError(
                        f"{path} exists and the message asked not to replace anything (overwrite=0)"
                    )
        refuse_to_replace(
            planned.values(), overwrite=settings.overwrite, hint=LISTENER_OVERWRITE_HINT
        )
        return detect_file(
            image,
            include=include,
            exclude=exclude,
            params=params,
            output_dir=settings.output_dir,
            overwrite=settings.overwrite,
            **options,
        )


def _products_result(products: Any, image: Path) -> dict[str, str]:
    result = products.result
    return {
        "image-url": path_to_file_url(image),
        "seed-url": path_to_file_url(products.seed_path),
        "mask-url": path_to_file_url(products.mask_path),
        # DS9 does not percent-decode urls: plain paths for a sender that shows them there
        "seed-path": str(products.seed_path),
        "mask-path": str(products.mask_path),
        "n-masked": str(int(result.n_masked)),
        "n-pixels": str(int(result.mask.size)),
        "rms": repr(float(result.rms_value)),
    }


def detect_message(
    params: Mapping[str, Any],
    settings: HandlerSettings,
    *,
    sender: str = "?",
    last_image: Callable[[], Path | None] | None = None,
) -> dict[str, str]:
    """Handle ``ds9claw.detect``: detection on a local file, products written.

    Parameters
    ----------
    params : mapping
        ``image-url`` (file url; default: the last broadcast image), ``region`` (DS9
        region text) and/or ``region-url`` (file url; default: the listener's region
        template), ``exclude-region`` / ``exclude-region-url``, detection parameters
        (``sigma``, ``smooth``, ``ignore-background`` ... as in ``ds9claw detect``),
        ``dq-invalid`` (flags), ``overwrite`` (``"0"``: replace nothing that exists;
        ``"1"`` cannot widen the listener's policy, see `HandlerSettings`).
    settings : HandlerSettings
        The listener's settings.
    sender : str
        SAMP id of the sender (for region names in messages).
    last_image : callable, optional
        Returns the last broadcast image, used when ``image-url`` is absent.

    Returns
    -------
    dict of str to str
        ``seed-url``, ``mask-url``, ``image-url`` (standard percent-encoded file urls),
        ``seed-path``, ``mask-path`` (plain paths: DS9 does not decode urls, so
        ``file://localhost`` + a path is what to send it), ``n-masked``, ``n-pixels``,
        ``rms``.

    Raises
    ------
    InputError
        Malformed or refused parameters, missing files, detection errors.
    """
    limits = settings.limits
    p = normalise_keys(params, set(DETECT_KEYS), limits=limits)
    url = text_value(p, "image-url", limit=limits.max_url)
    if url is None:
        image = last_image() if last_image is not None else None
        if image is None:
            raise ParameterError(
                "parameter 'image-url' is missing (and no image was broadcast yet)"
            )
    else:
        image = file_url_to_path(url, what="image", max_bytes=limits.max_image_file)
    include = _region_sources(p, "region", "region-url", sender=sender, limits=limits)
    exclude = _region_sources(
        p, "exclude-region", "exclude-region-url", sender=sender, limits=limits
    )
    if not include:
        region = _template_region(image, settings)
        if not region.is_file():
            raise InputError(
                f"no region given ('region' or 'region-url') and no region file {region} "
                f"(listener template {settings.region_template!r})"
            )
        include = [str(region)]
    detection = detection_parameters(p, base=settings.params, limits=limits)
    overwrite_text = text_value(p, "overwrite", limit=limits.max_value)
    # a message may only narrow the operator's policy, never widen it
    replace_nothing = overwrite_text is not None and not truth_value(overwrite_text, "overwrite")
    flags = text_value(p, "dq-invalid", limit=limits.max_value)
    if flags is not None:
        from ..dq import interpret_flags

        interpret_flags(flags)
    products = _run_detection(
        image,
        include=include,
        exclude=exclude,
        params=detection,
        settings=settings,
        replace_nothing=replace_nothing,
        invalid_flags=flags,
    )
    return _products_result(products, image)


def commit_message(params: Mapping[str, Any], settings: HandlerSettings) -> dict[str, str]:
    """Handle ``ds9claw.commit``: OR DQ bits into a rate file where a mask is set.

    The rate file is changed in place after a backup (``<stem>_before_removing_claws``),
    as ``ds9claw commit`` does; a sender cannot choose another output or force
    non-NIRCam targets.

    Parameters
    ----------
    params : mapping
        ``rate-url`` and ``mask-url`` (file urls; the mask may be a 0/1 FITS image or a
        DS9 region file), ``flags`` (default ``DO_NOT_USE+...``), ``fill-value``
        (default 0), ``dry-run`` (``"1"``: count only).
    settings : HandlerSettings
        The listener's settings (limits).

    Returns
    -------
    dict of str to str
        ``status``, ``n-flagged`` (pixels newly flagged), ``n-masked``, ``n-filled``,
        ``flags`` (integer), ``rate-url``, ``backup-url`` (empty without backup).

    Raises
    ------
    InputError
        Malformed parameters, missing or mismatched files.
    CommitError
        The file could not be written; it is unchanged.
    """
    from ..commit import commit_mask
    from ..dq import DEFAULT_COMMIT_FLAGS

    limits = settings.limits
    p = normalise_keys(params, set(COMMIT_KEYS), limits=limits)
    rate_url = text_value(p, "rate-url", limit=limits.max_url, required=True)
    mask_url = text_value(p, "mask-url", limit=limits.max_url, required=True)
    assert rate_url is not None and mask_url is not None
    rate = file_url_to_path(rate_url, what="rate file", max_bytes=limits.max_image_file)
    mask = file_url_to_path(mask_url, what="mask", max_bytes=limits.max_image_file)
    flags = text_value(p, "flags", limit=limits.max_value) or DEFAULT_COMMIT_FLAGS
    fill = text_value(p, "fill-value", limit=limits.max_value)
    dry = text_value(p, "dry-run", limit=limits.max_value)
    options: dict[str, Any] = {"flags": flags, "lock_timeout": _COMMIT_LOCK_TIMEOUT}
    if fill is not None:
        options["fill_value"] = fill
    if dry is not None:
        options["dry_run"] = truth_value(dry, "dry-run")
    report = commit_mask(rate, [mask], **options)
    return {
        "status": report.status,
        "n-flagged": str(int(report.n_flagged)),
        "n-masked": str(int(report.n_masked)),
        "n-filled": str(int(report.n_filled)),
        "flags": str(int(report.flags)),
        "rate-url": path_to_file_url(report.output),
        "backup-url": path_to_file_url(report.backup) if report.backup is not None else "",
        "summary": report.summary(),
    }


def image_load_message(
    params: Mapping[str, Any], settings: HandlerSettings, *, sender: str = "?"
) -> RememberedImage:
    """Check an ``image.load.fits`` message and remember the image it names.

    Parameters
    ----------
    params : mapping
        ``url`` (required), ``name``, ``image-id`` (other keys are ignored, as the
        MType allows extensions).
    settings : HandlerSettings
        The listener's settings (limits).
    sender : str
        SAMP id of the sender.

    Returns
    -------
    RememberedImage
        ``status="waiting"`` with its local path, or ``"refused"`` with the reason.
    """
    limits = settings.limits
    if not isinstance(params, Mapping):
        raise ParameterError(f"samp.params must be a map, not a {type(params).__name__}")
    url = text_value(params, "url", limit=limits.max_url, required=True)
    assert url is not None
    name = text_value(params, "name", limit=limits.max_value) or ""
    path = file_url_to_path(url, what="image", max_bytes=limits.max_image_file)
    return RememberedImage(url=url, path=path, name=name, sender=sender)


def region_for(image: Path, settings: HandlerSettings) -> Path | None:
    """Return the region file the listener's template names for ``image``, if it exists.

    Parameters
    ----------
    image : pathlib.Path
        The image.
    settings : HandlerSettings
        ``region_template``.

    Returns
    -------
    pathlib.Path or None
        The region file, or None while there is none.
    """
    region = _template_region(image, settings)
    return region if region.is_file() else None


def detect_remembered(image: RememberedImage, settings: HandlerSettings) -> Any | None:
    """Run the detection for a broadcast image once its region file exists (no DS9).

    Parameters
    ----------
    image : RememberedImage
        The image (``path`` set).
    settings : HandlerSettings
        Template, detection parameters, output directory, overwrite.

    Returns
    -------
    tuple (DetectionProducts, pathlib.Path) or None
        The products and the region file, or None while there is no region file.
    """
    assert image.path is not None
    region = region_for(image.path, settings)
    if region is None:
        return None
    products = _run_detection(
        image.path,
        include=[str(region)],
        exclude=[],
        params=settings.params,
        settings=settings,
    )
    return products, region


def detect_in_ds9(
    transport: Any,
    image: Path,
    region: Path,
    *,
    params: Any = None,
    wait: float = 1.0,
    overwrite: bool = False,
) -> Any:
    """Show ``image`` with ``region`` in DS9 and run the DS9 menu's detection on it.

    The frame showing the image is used when there is one (DS9 itself loads images
    broadcast with ``image.load.fits``; it gets ``wait`` seconds to do so), else the
    image is loaded into the current frame when that is empty, or into a new frame.
    Then `ds9claw.ds9.actions.detect` does what the Analysis menu entry does: seed and
    mask in the two frames after the image, products written beside the image.

    Parameters
    ----------
    transport : Transport
        Connection to DS9.
    image : pathlib.Path
        A checked local image file.
    region : pathlib.Path
        Its region file.
    params : DetectionParameters, optional
        Detection parameters.
    wait : float
        Seconds DS9 gets to show a broadcast image itself.
    overwrite : bool
        The listener's ``--overwrite`` (`ds9claw.overwrite.refuse_to_replace`).

    Returns
    -------
    ds9claw.ds9.actions.DetectReport
        What the action did.

    Raises
    ------
    InputError
        DS9 cannot load the image's name (`ds9claw.ds9.names`), or the region is
        unusable.
    OutputExistsError
        A file ds9claw did not write is at a product path and ``overwrite`` is false.
    TransportError
        DS9 stopped answering.
    """
    from ..api import DEFAULT_SUFFIX
    from ..ds9.names import check_ds9_name
    from ..ds9.shown_image import detect_in_frame_of
    from ..overwrite import refuse_to_replace
    from ..products import output_paths
    from ..region_parse import RegionSource

    text = RegionSource.from_file(region).text
    # before DS9 is asked anything: the image and product names DS9 can load, and the
    # files at the product paths that may be replaced
    check_ds9_name(image, what="image")
    planned = output_paths(image, DEFAULT_SUFFIX)
    for role in ("seed", "mask"):
        check_ds9_name(planned[role], what=f"{role} frame")
    refuse_to_replace(planned.values(), overwrite=overwrite, hint=LISTENER_OVERWRITE_HINT)
    return detect_in_frame_of(
        transport, image, text, params=params, wait=wait, overwrite=overwrite
    )

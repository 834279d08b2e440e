"""``image.load.fits``: images other tools broadcast, their region files, DS9.

Nothing a message carries becomes a DS9 command, with one checked exception: a broadcast
image that DS9 does not show already is opened with ``fits {path}``, and only when the
path is an existing regular local file whose name passes `ds9claw.ds9.names`, the one
gate for every file name sent to DS9 (no braces, brackets, double quotes, ``;``, ``#``,
backslashes, control or non-ASCII characters).  Everything else DS9 gets is a fixed
command or data (FITS bytes, region text) sent through `ds9claw.ds9.actions`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .detect_handler import run_detection
from .handler_settings import LISTENER_OVERWRITE_HINT, HandlerSettings, template_region
from .messages import file_url_to_path, text_value

__all__ = [
    "RememberedImage",
    "detect_in_ds9",
    "detect_remembered",
    "image_load_message",
    "region_for",
]


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
    region = template_region(image, settings)
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
    products = run_detection(
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
    return detect_in_frame_of(transport, image, text, params=params, wait=wait, overwrite=overwrite)

"""``ds9claw.detect``: detection on a local file, products written beside it.

Also the one detection runner of the listener (`run_detection`), which broadcast images
use too: one lock per product file, and the listener's overwrite policy, which a message
may only narrow.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError, ParameterError
from .handler_settings import LISTENER_OVERWRITE_HINT, HandlerSettings, template_region
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

__all__ = ["DETECT_KEYS", "detect_message", "run_detection"]

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


def run_detection(
    image: Path,
    *,
    include: list[Any],
    exclude: list[Any],
    params: Any,
    settings: HandlerSettings,
    replace_nothing: bool = False,
    invalid_flags: str | int | None = None,
) -> Any:
    """Detect in ``image`` and write its products under the listener's policy.

    Parameters
    ----------
    image : pathlib.Path
        A checked local image.
    include, exclude : list
        Region sources (`ds9claw.region_parse.RegionSource` or file names).
    params : DetectionParameters or None
        Detection parameters.
    settings : HandlerSettings
        Output directory, overwrite policy, default DQ flags.
    replace_nothing : bool
        The sender said ``overwrite=0``: no existing file is replaced.
    invalid_flags : str, int or None
        DQ bits that make a pixel unusable (None: the listener's).

    Returns
    -------
    ds9claw.api.DetectionProducts
    """
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
        region = template_region(image, settings)
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
    products = run_detection(
        image,
        include=include,
        exclude=exclude,
        params=detection,
        settings=settings,
        replace_nothing=replace_nothing,
        invalid_flags=flags,
    )
    return _products_result(products, image)

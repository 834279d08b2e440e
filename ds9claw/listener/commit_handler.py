"""``ds9claw.commit``: OR DQ bits into a rate file where a mask is set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..parameters import COMMIT_OPTIONS
from .handler_settings import HandlerSettings
from .messages import file_url_to_path, normalise_keys, path_to_file_url, text_value, truth_value

__all__ = ["COMMIT_KEYS", "commit_message"]

#: Parameters of ``ds9claw.commit``.
COMMIT_KEYS = frozenset({"rate-url", "mask-url"} | {k.replace("_", "-") for k in COMMIT_OPTIONS})

#: Seconds a commit waits for another commit of the same file before giving up.
_COMMIT_LOCK_TIMEOUT = 20.0


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

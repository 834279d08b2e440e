"""What the listener was started with, shared by every message handler.

The handlers, one module per message family (`ds9claw.listener.detect_handler` for
``ds9claw.detect``, `ds9claw.listener.commit_handler` for ``ds9claw.commit``,
`ds9claw.listener.image_handler` for ``image.load.fits``), take the message's
``samp.params`` (already a plain dict), check it with `ds9claw.listener.messages`, do the
work through the public API (`ds9claw.api.detect_file`, `ds9claw.commit.commit_mask`) and
return the ``samp.result`` map (strings only).  Errors are raised as
`ds9claw.errors.Ds9ClawError`; `ds9claw.listener.dispatch` turns them into
``samp.error`` replies.

What a sender cannot do: choose the output directory, a DS9 command, or widen the
listener's overwrite policy (`ds9claw.overwrite.refuse_to_replace`: ds9claw's own earlier
products are replaced, other files only when the listener was started with
``--overwrite``); ``overwrite=0`` in a message narrows it (nothing existing is replaced),
``overwrite=1`` changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .messages import Limits

__all__ = ["LISTENER_OVERWRITE_HINT", "HandlerSettings", "template_region"]

#: What a refused product tells the sender (`ds9claw.overwrite.refuse_to_replace`).
LISTENER_OVERWRITE_HINT = (
    "the listener replaces only ds9claw's own earlier products; move that file away, "
    "or start the listener with --overwrite (a message cannot allow it)"
)


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


def template_region(image: Path, settings: HandlerSettings) -> Path:
    """The region file the listener's template names for ``image`` (it may not exist).

    Parameters
    ----------
    image : pathlib.Path
        The image.
    settings : HandlerSettings
        ``region_template``.

    Returns
    -------
    pathlib.Path
    """
    from ..api import resolve_region_template

    return resolve_region_template(settings.region_template, image)

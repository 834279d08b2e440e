"""What the DS9 Analysis menu does: each action takes a `Transport` and talks to one DS9.

This module gathers the actions from their own modules: `ds9claw.ds9.frames` (frame
bookkeeping), `detect_action` (Detect claws), `commit_action` (Commit mask to rate DQ),
`regions_action` (Mask to regions), `snapshot`, `clear` and `menu` (listing and
running the Analysis-menu tasks as a click does).

The actions never care whether the transport is XPA or SAMP.  They work on the
*image frame*: the current frame, or, when the current frame is a seed or mask frame
made by ds9claw, the image frame it belongs to.  Frames made by ds9claw carry two
header keywords, ``CLAWROLE`` (``seed`` or ``mask``) and ``CLAWSRCH`` (a hash naming the
image they came from), so a later run on the same image reuses them, and "Clear"
removes exactly them.

DS9 facts these rely on (checked against DS9 8.4.1):

* ``file`` answers ``path/X_cal.fits[SCI]``; the ``[...]`` extension spec is kept apart,
  and a relative path is relative to DS9's working directory (``cd``).
* ``regions`` defaults to the *physical* system: always ask ``-system image``.
* ``fits`` answers the displayed HDU as a single FITS file with its header (and WCS).
* ``frame move ...`` over XPA only moves to another frame (a DS9 bug), so the two
  product frames are put after the image frame with DS9's own ``MoveNextFrame``/
  ``MovePrevFrame`` procedures through the ``tcl`` command.
* ``tile grid layout 3 1`` with more than three frames makes DS9 fail (``xx(3)``), so
  with more frames the grid is laid out automatically.
* Debian's DS9 does not load the ``img::window`` Tk package that ``saveimage png`` needs;
  `snapshot` loads it first.
"""

from __future__ import annotations

from .clear import (
    ClearReport,
    clear_frames,
)
from .commit_action import (  # noqa: F401
    CommitOutcome,
    _check_same_mask,
    commit,
    find_rate_file,
)
from .detect_action import (  # noqa: F401
    DetectReport,
    _count_shapes,
    detect,
)
from .frames import (  # noqa: F401
    OVERWRITE_HINT,
    REGION_TAG,
    ROLE_KEY,
    SOURCE_KEY,
    SOURCE_NAME_KEY,
    FrameRef,
    _current,
    _describe_frame,
    _ds9_cwd,
    _frames,
    _goto,
    _header_cards,
    _image_frame,
    _move,
    _product_frames,
    _role,
    _source_id,
    _text,
    image_frame,
    split_file_spec,
)
from .menu import (  # noqa: F401
    _tcl_value,
    analysis_tasks,
    run_analysis_task,
)
from .product_frames import _frame_fits, show_products  # noqa: F401
from .regions_action import (
    ToRegionsReport,
    mask_to_regions,
)
from .snapshot import (
    SnapshotReport,
    snapshot,
)

__all__ = [
    "ClearReport",
    "CommitOutcome",
    "DetectReport",
    "FrameRef",
    "SnapshotReport",
    "ToRegionsReport",
    "analysis_tasks",
    "clear_frames",
    "commit",
    "detect",
    "find_rate_file",
    "image_frame",
    "mask_to_regions",
    "run_analysis_task",
    "show_products",
    "snapshot",
    "split_file_spec",
]

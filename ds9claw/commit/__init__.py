"""Commit a claw mask into the DQ of a JWST rate (or cal) file, and undo it.

`commit_mask` ORs DQ bits (default ``DO_NOT_USE+UNRELIABLE_DARK+UNRELIABLE_FLAT+
OTHER_BAD_PIXEL``) into the DQ array where the mask is set, sets the science pixels
there to a fill value, and adds one history entry (with a software record, through
stdatamodels' ``add_history_entry``).  Rerunning calwebb_image2 and calwebb_image3 then
leaves those pixels out of the mosaic: resample skips pixels with ``DO_NOT_USE``.

The file is never lost or left half-written:

1. Everything that can be checked is checked first (target is a JWST datamodel with a
   2-D SCI, NIRCam ImageModel unless ``force``; masks readable and of the SCI shape;
   file and directory writable).  Nothing is written before.
2. An exclusive lock on the target (`ds9claw.filelock.file_lock`) serialises commits.
3. The datamodel is opened, changed in memory and saved to a temporary file in the same
   directory, which is fsynced and then **verified** by reading it back with astropy
   and comparing it with the original file on disk: DQ equals ``old | bits`` exactly on
   the mask and nowhere else, SCI changed only on the mask, every other image extension
   (ERR, VAR_POISSON, VAR_RNOISE, VAR_FLAT, ...) bit-identical, the history entry
   present.
4. Only then is the backup ``<stem>_before_removing_claws.fits`` made (never
   overwritten; a hard link to the original, which the rename below leaves untouched,
   or a copy where links are not possible) and the temporary file renamed over the
   target (atomic), and the directory fsynced.

`revert` puts the backup back after checking that it is the file the commit started from
(the sha256 recorded in the history, the same exposure) and that nothing but the commits
would be thrown away (`ds9claw.revertcheck`).

Masks are told from exposures by content and reprojected from another pixel grid
(`ds9claw.maskfile`).  Rates the old tools (Crab.Toolkit.JWST) already cleaned carry their
``Removed claws with <tool> (<time>)`` entry and the same backup name
(`ds9claw.history`): a commit refuses them unless ``force``, and keeps their backup, the
true original.

History: each commit adds exactly one entry, ``Removed claws with ds9claw <version>: mask
<file> (sha256 <hex>); DQ flags <names> (<int>) ORed into <n> pixels (<m> newly flagged);
SCI set to <fill> there. Original file (backup <name>): sha256 <hex>.`` (the last
sentence with a backup), with the software record `SOFTWARE`, in the ASDF extension
and as FITS ``HISTORY`` cards (72 characters each, so one entry spans several cards).
Note that stdatamodels rebuilds the history from the ``HISTORY`` cards whenever it opens
a FITS file, one entry per card and without software records; this is its behaviour for
every tool (and the pipeline), and ds9claw reads its earlier entries from the joined
cards.

Speed: the pixels go through one stdatamodels open and save (about 0.1 s each for a
2048 x 2048 file once the ASDF schemas are loaded), the check reads both files back
with astropy, and the backup is a hard link (no copy); see ``benchmarks/bench_commit.py``.
"""

from __future__ import annotations

from ..names import BACKUP_SUFFIX, backup_path_for, dataset_name
from .checks import (  # noqa: F401
    _check_backup_policy,
    _check_old_tools,
    _check_provenance,
    _mask_notes,
    _refuse_output_among_masks,
    _same_file,
)
from .engine import (  # noqa: F401
    _Captured,
    _change_counts,
    _commit_locked,
    _describe,
    _dry_run_counts,
    _open_model,
    _original,
    _parse_fill,
    _record_original,
    _space_hint,
    commit_mask,
)
from .masks import (  # noqa: F401
    _read_fits_mask,
    _reproject,
    _sha256,
    expand_mask_template,
    load_masks,
)
from .reports import (  # noqa: F401
    _FITS_MAGIC,
    _GZIP_MAGIC,
    _SPACE_ERRNOS,
    DEFAULT_LOCK_TIMEOUT,
    HISTORY_PREFIX,
    SOFTWARE,
    CommitReport,
    MaskInput,
    RevertReport,
)
from .restore import (  # noqa: F401
    _check_revert,
    revert,
)
from .target import (  # noqa: F401
    _check_writable,
    _inspect_target,
    _read_only,
    _Target,
)
from .verify import (  # noqa: F401
    _bits_equal,
    _dq_as_uint32,
    _image_hdus,
    _squash,
    _verify,
)

__all__ = [
    "BACKUP_SUFFIX",
    "HISTORY_PREFIX",
    "SOFTWARE",
    "CommitReport",
    "MaskInput",
    "RevertReport",
    "backup_path_for",
    "commit_mask",
    "dataset_name",
    "expand_mask_template",
    "load_masks",
    "revert",
]

"""Find the masks of a rate file in a directory by its dataset name (``commit --mask-dir``).

The old ``util_remove_claws_for_specific_data_sets.py`` looks in its ``--template-dir``
for the region files named after each dataset.  `find_masks` does the same for every kind
of mask ds9claw commits: ``<dataset>*.fits``, ``<dataset>*.fits.gz`` and
``<dataset>*.reg`` in the directory (and, when none is there, one level of
subdirectories below it, as the old tool does).  It leaves out what is no mask: the rate
itself and its backup, exposures (a cal or rate of the same dataset: told by content,
see `ds9claw.maskfile`) and the auxiliary products of ``ds9claw detect --save-all``
(valid pixels, background, rms).
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

__all__ = ["MaskLookup", "find_masks"]

_log = logging.getLogger(__name__)

_PATTERNS = ("{dataset}*.fits", "{dataset}*.fits.gz", "{dataset}*.reg")
_AUXILIARY = ("_valid_pixels", "_bkg2d", "_rms2d")
_HEADER_BYTES = 2880 * 40  # enough for every primary header the tools write


@dataclass
class MaskLookup:
    """The masks found for one rate file.

    Attributes
    ----------
    rate : pathlib.Path
        The rate file.
    dataset : str
        Its dataset name, the prefix looked for.
    masks : list of pathlib.Path
        Mask FITS files and region files, sorted by name.
    skipped : list of tuple(pathlib.Path, str)
        Files with the dataset's name that are not masks, with the reason.
    """

    rate: Path
    dataset: str
    masks: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _primary_header_text(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read(_HEADER_BYTES)
        with path.open("rb") as handle:
            return handle.read(_HEADER_BYTES)
    except (OSError, EOFError):
        return b""


def _is_exposure_by_header(path: Path) -> bool:
    """True for a JWST datamodel file (``DATAMODL`` in its primary header)."""
    text = _primary_header_text(path)
    end = text.find(b"END" + b" " * 77)
    cards = text[: end if end >= 0 else len(text)]
    return any(cards[i : i + 8] == b"DATAMODL" for i in range(0, len(cards), 80))


def _candidates(directory: Path, dataset: str) -> list[Path]:
    found: set[Path] = set()
    for pattern in _PATTERNS:
        found.update(p for p in directory.glob(pattern.format(dataset=dataset)) if p.is_file())
    return sorted(found)


def find_masks(rate: str | Path, directory: str | Path) -> MaskLookup:
    """The mask and region files named after ``rate``'s dataset in ``directory``.

    Parameters
    ----------
    rate : str or pathlib.Path
        The rate (or cal) file.
    directory : str or pathlib.Path
        Where the masks are.

    Returns
    -------
    MaskLookup
        ``masks`` is empty when nothing matches (the caller reports and skips the rate).

    Raises
    ------
    InputError
        When ``directory`` does not exist or is not a directory.
    """
    from .names import backup_path_for, dataset_name

    rate, directory = Path(rate), Path(directory)
    if not directory.is_dir():
        raise InputError(
            f"`mask_dir` {directory} is not a directory: give the directory that holds the "
            "masks and region files"
        )
    dataset = dataset_name(rate)
    lookup = MaskLookup(rate=rate, dataset=dataset)
    candidates = _candidates(directory, dataset)
    if not candidates:
        for sub in sorted(p for p in directory.iterdir() if p.is_dir()):
            candidates += _candidates(sub, dataset)
    not_masks = {rate.resolve(), backup_path_for(rate).resolve()}
    for path in candidates:
        if path.resolve() in not_masks:
            lookup.skipped.append((path, "the rate file or its backup"))
        elif any(tag in path.name for tag in _AUXILIARY):
            lookup.skipped.append((path, "an auxiliary product of ds9claw detect, not a mask"))
        elif not path.name.lower().endswith(".reg") and _is_exposure_by_header(path):
            lookup.skipped.append((path, "an exposure, not a mask"))
        else:
            lookup.masks.append(path)
    _log.debug("masks of %s in %s: %s", rate.name, directory, [p.name for p in lookup.masks])
    return lookup

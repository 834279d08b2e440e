"""``ds9claw find`` on files: group the exposures, run the finder, write region files.

Each exposure ``dir/<stem>.fits`` gets ``dir/<stem>_claws.pix.reg`` (DS9 format 4.1,
``image`` coordinates): one dashed polygon per candidate, tagged
``{ds9claw candidate}`` and labelled with its kind and score, which
``ds9claw detect --include-region '{stem}_claws.pix.reg'`` reads as it is.  An existing
region file (observers draw theirs by hand) is only replaced with ``overwrite=True``,
and then its old content is first saved as ``<name>.bak`` (``.bak1``, ``.bak2`` ... when
that exists).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError, OutputExistsError
from .find import Candidate, FindParameters, find_candidates
from .names import free_backup_name

__all__ = [
    "CANDIDATE_COLOR",
    "CANDIDATE_TAG",
    "DEFAULT_REGION_SUFFIX",
    "MIN_EXPOSURES",
    "FoundExposure",
    "candidate_region_text",
    "dither_offsets_from_headers",
    "find_files",
    "group_key",
    "region_path_for",
]

_log = logging.getLogger(__name__)

#: Name of the region file written beside ``<stem>.fits``.
DEFAULT_REGION_SUFFIX = "_claws.pix.reg"
#: Fewest exposures of one detector and filter that tell claws from the sky.
MIN_EXPOSURES = 3
#: DS9 tag and colour of the candidate polygons.
CANDIDATE_TAG = "ds9claw candidate"
CANDIDATE_COLOR = "cyan"

_SINGLE_WARNING = (
    "searching %s alone (`single=True`): without other dithers large galaxies and real "
    "diffuse light are proposed too; check every candidate"
)


@dataclass(frozen=True)
class FoundExposure:
    """What `find_files` did for one exposure.

    Attributes
    ----------
    path : pathlib.Path
        The exposure.
    region_path : pathlib.Path
        The region file written.
    candidates : list of Candidate
        Its candidates, strongest first.
    group : str
        Detector and filter it was grouped by (``"NRCB1 F200W"``).
    backup : pathlib.Path or None
        Where the region file it replaced was saved, if any.
    """

    path: Path
    region_path: Path
    candidates: list[Candidate]
    group: str
    backup: Path | None = None


def region_path_for(path: str | os.PathLike[str], suffix: str = DEFAULT_REGION_SUFFIX) -> Path:
    """``dir/<stem><suffix>`` for ``dir/<stem>.fits`` (``.fits.gz`` too)."""
    from .names import stem_of

    if not suffix or "/" in suffix or os.sep in suffix:
        raise InputError(f"output suffix {suffix!r} must be a file-name ending such as .reg")
    path = Path(path)
    return path.parent / f"{stem_of(path)}{suffix}"


def group_key(primary_header, shape: tuple[int, ...]) -> str:
    """Detector, filter and pupil (and frame size) that exposures are grouped by."""
    parts = [str(primary_header.get(key, "")).strip().upper() for key in ("DETECTOR", "FILTER")]
    pupil = str(primary_header.get("PUPIL", "")).strip().upper()
    if pupil and pupil != "CLEAR":
        parts.append(pupil)
    label = " ".join(p for p in parts if p) or "unknown detector"
    return f"{label} {shape[1]}x{shape[0]}"


def dither_offsets_from_headers(headers: Sequence, shape: tuple[int, int]) -> np.ndarray:
    """Sky offsets (x, y pixels) of each exposure relative to the first, from the WCS.

    The centre of the first exposure is taken to the sky and back into each
    exposure's pixels through the FITS WCS keywords of its image header.

    Raises
    ------
    InputError
        When a header has no celestial WCS.
    """
    import warnings

    from astropy.wcs import WCS, FITSFixedWarning

    ny, nx = shape
    centre = np.array([[(nx - 1) / 2, (ny - 1) / 2]])
    offsets = []
    sky = None
    for header in headers:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header).celestial
        if not wcs.has_celestial:
            raise InputError(
                f"{header.get('FILENAME', 'an exposure')} has no celestial WCS: find needs "
                "the WCS of every exposure to line up the dithers"
            )
        if sky is None:
            sky = wcs.all_pix2world(centre, 0)
        offsets.append(wcs.all_world2pix(sky, 0)[0] - centre[0])
    return np.asarray(offsets)


def candidate_region_text(candidates: Sequence[Candidate], *, source_name: str = "") -> str:
    """DS9 region text (4.1, image, 1-based) of candidate polygons: dashed, tagged, scored.

    Parameters
    ----------
    candidates : sequence of Candidate
        The polygons (0-based vertices).
    source_name : str
        Exposure named in the comment line.

    Returns
    -------
    str
    """
    lines = [
        "# Region file format: DS9 version 4.1",
        f"# ds9claw find: {len(candidates)} claw candidate(s) for {source_name or 'this image'} "
        "(text: kind and median significance), edit or delete them",
        f'global color={CANDIDATE_COLOR} dashlist=8 3 width=2 font="helvetica 10 normal roman" '
        "select=1 highlite=1 dash=1 fixed=0 edit=1 move=1 delete=1 include=1 source=1",
        "image",
    ]
    for candidate in candidates:
        coords = ",".join(f"{v + 1:.2f}" for xy in candidate.polygon for v in xy)
        lines.append(
            f"polygon({coords}) # dash=1 tag={{{CANDIDATE_TAG}}} text={{{candidate.label}}}"
        )
    return "\n".join(lines) + "\n"


def find_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    params: FindParameters | None = None,
    suffix: str = DEFAULT_REGION_SUFFIX,
    overwrite: bool = False,
    single: bool = False,
    invalid_flags: str | int | None = None,
    on_exposure: Callable[[str], None] | None = None,
) -> list[FoundExposure]:
    """Find claw candidates in exposures and write one region file per exposure.

    Parameters
    ----------
    paths : sequence of path-like
        JWST cal (or rate) files; grouped by detector, filter and size.
    params : FindParameters, optional
        Finder parameters.
    suffix : str
        Region file name ending (default ``_claws.pix.reg``).
    overwrite : bool
        Replace existing region files, after saving each as a backup.
    single : bool
        Allow groups of fewer than `MIN_EXPOSURES`: each of their exposures is searched
        alone (with a warning).
    invalid_flags : str or int, optional
        DQ flags that make a pixel unusable (default: detection's).
    on_exposure : callable, optional
        Called with a short note after each exposure is read and after each group.

    Returns
    -------
    list of FoundExposure
        In the order of ``paths``.

    Raises
    ------
    InputError
        Unreadable files, a group too small without ``single``, no WCS.
    OutputExistsError
        A region file exists and ``overwrite`` is false (nothing is written).
    """
    from .dq import DEFAULT_INVALID_FLAGS

    params = (params or FindParameters()).validate()
    flags = DEFAULT_INVALID_FLAGS if invalid_flags is None else invalid_flags
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no exposures given: name the cal files of a visit")
    if len(set(paths)) != len(paths):
        raise InputError("an exposure is named twice: give each file once")
    targets = {path: region_path_for(path, suffix) for path in paths}
    if not overwrite:
        _refuse_existing_regions(targets.values())
    groups = _group_headers(paths)
    _refuse_small_groups(groups, single=single)
    # Every group is searched before anything is written: an unreadable file in a later
    # group leaves no region file behind.
    searched: list[tuple[str, list[Path], list[list[Candidate]]]] = []
    for key, members in groups.items():
        results = _search_group(members, params, flags, on_exposure)
        searched.append((key, members, results))
        if on_exposure is not None:
            on_exposure(f"{key}: {sum(len(c) for c in results)} candidate(s)")
    found: dict[Path, FoundExposure] = {}
    for key, members, results in searched:
        for path, candidates in zip(members, results, strict=True):
            backup = _write_region(targets[path], candidates, path.name, overwrite=overwrite)
            found[path] = FoundExposure(path, targets[path], candidates, key, backup)
    return [found[path] for path in paths]


def _refuse_existing_regions(region_paths) -> None:
    """Refuse to go on when a region file to write exists already."""
    for target in region_paths:
        if target.exists():
            raise OutputExistsError(
                f"{target} exists (it may be drawn by hand): pass `overwrite=True` to replace "
                "it (the old file is kept as a .bak backup)"
            )


def _refuse_small_groups(groups: dict[str, list[Path]], *, single: bool) -> None:
    """Refuse groups of fewer than `MIN_EXPOSURES` exposures unless ``single``."""
    for key, members in groups.items():
        if len(members) < MIN_EXPOSURES and not single:
            names = ", ".join(p.name for p in members)
            raise InputError(
                f"{key}: {len(members)} exposure(s) ({names}); at least {MIN_EXPOSURES} dithers "
                "of one detector and filter are needed to tell claws from the sky: add the "
                "other exposures of the visit, or pass `single=True` to search them one by one"
            )


def _search_group(
    members: list[Path],
    params: FindParameters,
    flags: str | int,
    on_exposure: Callable[[str], None] | None,
) -> list[list[Candidate]]:
    """Candidates of each exposure of one group: together, or one by one in a small group."""
    from .dq import valid_pixel_mask
    from .fitsio import read_exposure

    exposures = []
    for path in members:
        exposures.append(read_exposure(path))
        if on_exposure is not None:
            on_exposure(f"read {path.name}")
    images = [e.image for e in exposures]
    valid = [valid_pixel_mask(e.image, e.dq, invalid_flags=flags) for e in exposures]
    if len(members) < MIN_EXPOSURES:
        results = []
        for path, image, mask in zip(members, images, valid, strict=True):
            _log.warning(_SINGLE_WARNING, path.name)
            results.append(find_candidates([image], [mask], None, params).candidates[0])
        return results
    offsets = dither_offsets_from_headers([e.header for e in exposures], images[0].shape)
    return find_candidates(images, valid, offsets, params).candidates


def _group_headers(paths: list[Path]) -> dict[str, list[Path]]:
    import warnings

    from astropy.io import fits

    groups: dict[str, list[Path]] = {}
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path} does not exist: check the file name")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with fits.open(path, lazy_load_hdus=True) as hdul:
                    primary = hdul[0].header
                    image = hdul["SCI"] if "SCI" in hdul else hdul[0]
                    shape = tuple(image.shape)
                    len(hdul)  # read every header: a truncated file says so here
        except (OSError, ValueError, KeyError) as error:
            raise InputError(f"{path} is not a readable FITS file ({error})") from None
        if any("truncated" in str(w.message) for w in caught):
            raise InputError(f"{path} is truncated (shorter than its headers say): copy it again")
        if len(shape) != 2:
            raise InputError(f"{path}: the science image has shape {shape}; give 2-D exposures")
        groups.setdefault(group_key(primary, shape), []).append(path)
    return groups


def _write_region(
    target: Path, candidates: list[Candidate], source_name: str, *, overwrite: bool
) -> Path | None:
    from .backup import make_backup
    from .safeio import atomic_write

    backup = None
    if target.exists():
        if not overwrite:
            raise OutputExistsError(
                f"{target} appeared meanwhile: pass `overwrite=True` to replace it"
            )
        backup = free_backup_name(target)
        make_backup(target, backup)
        _log.info("kept the old %s as %s", target.name, backup.name)
    text = candidate_region_text(candidates, source_name=source_name)
    with atomic_write(target, overwrite=overwrite) as temp:
        temp.write_text(text, encoding="ascii")
    return backup

"""Carry region files from one visit to the next: pair them by exposure and detector.

Observers draw a polygon per frame in one visit and save it as
``<dataset>_<what>.pix.reg``; the next visit with the same pattern has the claws on
the same detector pixels, so the files are copied to the matching exposure of the
other visit (``jw01837003021_08201_00001_nrca3_*`` ->
``jw01837003022_08201_00001_nrca3_*``).  This module plans the pairs from the file
names only (`plan_copies`) and writes them without ever replacing a file silently
(`write_copies`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .backup import make_backup
from .errors import InputError, OutputExistsError
from .names import free_backup_name
from .safeio import write_text_atomically

__all__ = [
    "REGION_TEMPLATE",
    "CopyPair",
    "CopyPlan",
    "exposure_key",
    "plan_copies",
    "region_path_for",
    "write_copies",
]

_log = logging.getLogger(__name__)

#: Where the region file of an exposure lives: ``<stem>_claws.pix.reg`` beside it.
REGION_TEMPLATE = "{stem}_claws.pix.reg"

_DATASET = re.compile(
    r"jw(?P<program>\d{5})(?P<observation>\d{3})(?P<visit>\d{3})_"
    r"(?P<group>\d{5})_(?P<exposure>\d{5})_(?P<detector>nrc(?:a|b)(?:[1-5]|long))",
    re.IGNORECASE,
)
_EXPOSURE_SUFFIXES = (".fits", ".fits.gz", ".fit")


def exposure_key(name: str | os.PathLike[str]) -> tuple[str, str, str] | None:
    """What pairs files of two visits: (visit group/activity, exposure number, detector).

    Parameters
    ----------
    name : str or os.PathLike
        A file name such as ``jw01837003021_08201_00001_nrca3_bad_area.pix.reg``.

    Returns
    -------
    tuple of str or None
        ``("08201", "00001", "nrca3")``, or None when the name is not a JWST dataset name.
    """
    match = _DATASET.search(Path(name).name)
    if match is None:
        return None
    return match["group"], match["exposure"], match["detector"].lower()


def region_path_for(exposure: str | os.PathLike[str]) -> Path:
    """The region file of an exposure by the template: ``<dir>/<stem>_claws.pix.reg``.

    Parameters
    ----------
    exposure : str or os.PathLike
        The exposure file (``X_cal.fits``).

    Returns
    -------
    pathlib.Path
    """
    from .names import stem_of

    path = Path(exposure)
    return path.parent / REGION_TEMPLATE.format(stem=stem_of(path))


@dataclass
class CopyPair:
    """One destination exposure and the source region files copied to it."""

    sources: list[Path]
    exposure: Path
    output: Path

    @property
    def exists(self) -> bool:
        """True when a file is already at the output name."""
        return os.path.lexists(self.output)


@dataclass
class CopyPlan:
    """Pairs of a copy, and what found no partner."""

    pairs: list[CopyPair] = field(default_factory=list)
    unpaired_sources: list[Path] = field(default_factory=list)
    unpaired_exposures: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per pair, then what was left unpaired."""
        out = []
        for pair in self.pairs:
            names = " + ".join(s.name for s in pair.sources)
            out.append(f"{names} -> {pair.output}")
        out += [
            f"no exposure for {p.name} (same exposure number and detector)"
            for p in self.unpaired_sources
        ]
        out += [f"no region file for {p.name}" for p in self.unpaired_exposures]
        return out


def _expand(items: Iterable[str | os.PathLike[str]], *, want: str) -> list[Path]:
    found: list[Path] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            for child in sorted(path.iterdir()):
                is_region = want == "regions" and child.name.endswith(".reg") and child.is_file()
                is_exposure = want == "exposures" and child.name.lower().endswith(
                    _EXPOSURE_SUFFIXES
                )
                if is_region or is_exposure:
                    found.append(child)
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path} does not exist: give region files or a directory of them")
    return found


def _visit_of(path: Path) -> str:
    match = _DATASET.search(path.name)
    assert match is not None
    return f"jw{match['program']}{match['observation']}{match['visit']}"


def _is_exposure(path: Path) -> bool:
    return path.name.lower().endswith(_EXPOSURE_SUFFIXES) and "_claws" not in path.name


def plan_copies(
    sources: Sequence[str | os.PathLike[str]], destination: str | os.PathLike[str]
) -> CopyPlan:
    """Pair the region files of one visit with the exposures of another.

    Parameters
    ----------
    sources : sequence of str or os.PathLike
        Region files, or directories holding them (``*.reg``).
    destination : str or os.PathLike
        Directory holding the other visit's exposures (``*_cal.fits``; when there are
        none, its ``*_rate.fits`` or other dataset FITS files).

    Returns
    -------
    CopyPlan

    Raises
    ------
    InputError
        A source or the destination does not exist, or nothing pairs.
    """
    dest = Path(destination).expanduser()
    if not dest.is_dir():
        raise InputError(f"{dest} is not a directory: give the directory of the other visit")
    regions = [p for p in _expand(sources, want="regions") if exposure_key(p) is not None]
    if not regions:
        raise InputError(
            "no region file with a JWST dataset name (jwPPPPPOOOVVV_GGGGG_EEEEE_nrcXX_...) "
            "among the sources"
        )
    visits = sorted({_visit_of(p) for p in regions})
    if len(visits) > 1:
        raise InputError(
            f"the region files come from {len(visits)} visits ({', '.join(visits[:4])}"
            + (", ..." if len(visits) > 4 else "")
            + "): give the files of one visit (e.g. SRC/jw01837003021_*.reg)"
        )
    exposures = [p for p in _expand([dest], want="exposures") if _is_exposure(p)]
    by_key: dict[tuple[str, str, str], Path] = {}
    for exposure in sorted(exposures, key=lambda p: ("_cal" not in p.name, p.name)):
        key = exposure_key(exposure)
        if key is not None and key not in by_key:
            by_key[key] = exposure  # a cal file is preferred over the rate file
    plan = CopyPlan()
    grouped: dict[tuple[str, str, str], list[Path]] = {}
    for region in regions:
        key = exposure_key(region)
        assert key is not None
        if key in by_key:
            grouped.setdefault(key, []).append(region)
        else:
            plan.unpaired_sources.append(region)
    for key, exposure in sorted(by_key.items(), key=lambda kv: kv[1].name):
        if key in grouped:
            plan.pairs.append(
                CopyPair(sources=grouped[key], exposure=exposure, output=region_path_for(exposure))
            )
        else:
            plan.unpaired_exposures.append(exposure)
    if not plan.pairs:
        raise InputError(
            f"no region file pairs with an exposure in {dest} (pairs need the same "
            "exposure group, exposure number and detector, e.g. _08201_00001_nrca3)"
        )
    return plan


def _merged_text(sources: Sequence[Path]) -> str:
    if len(sources) == 1:
        text = sources[0].read_text(encoding="utf-8", errors="strict")
        return text if text.endswith("\n") else text + "\n"
    parts = []
    for source in sources:
        text = source.read_text(encoding="utf-8", errors="strict").rstrip("\n")
        parts.append(f"# ds9claw: regions of {source.name}\n{text}\n")
    return "".join(parts)


def copy_region_files(output: str, sources: Sequence[str]) -> str | None:
    """Write one merged region file; an existing one is kept as a backup first.

    One task of `write_copies` (module level, so a local pool or a Dask worker can run
    it: it takes and returns only file names).

    Parameters
    ----------
    output : str
        The region file to write.
    sources : sequence of str
        The region files merged into it.

    Returns
    -------
    str or None
        The backup made, if ``output`` existed.
    """
    output_path = Path(output)
    text = _merged_text([Path(s) for s in sources])
    backup = None
    if os.path.lexists(output_path):
        if output_path.is_symlink():
            raise OutputExistsError(f"{output_path} is a symbolic link: move it away")
        backup = free_backup_name(output_path)
        make_backup(output_path, backup)
    write_text_atomically(output_path, text)
    _log.info("wrote %s", output_path)
    return None if backup is None else str(backup)


def write_copies(
    plan: CopyPlan,
    *,
    overwrite: bool = False,
    jobs: int = 1,
    scheduler: str | None = None,
    show: bool | None = False,
) -> list[Path]:
    """Write every pair's region file; an existing one is backed up first.

    Every output name is checked before anything is written.  The files are written by
    the one batch runner (`ds9claw.batch.run_batch`): in this process, ``jobs`` local
    processes, or a Dask ``scheduler``.

    Parameters
    ----------
    plan : CopyPlan
        From `plan_copies`.
    overwrite : bool
        Replace existing region files (each kept as ``<name>.bak`` first).
    jobs : int
        Local worker processes when no scheduler is given.
    scheduler : str or None
        Dask scheduler address.
    show : bool or None
        Show progress on standard error (None: when it is a terminal).

    Returns
    -------
    list of pathlib.Path
        Backups made.

    Raises
    ------
    OutputExistsError
        An output exists and ``overwrite`` is false (nothing is written).
    InputError
        A region file could not be written (the others are written; the message names it).
    """
    from .batch import run_batch

    existing = [pair.output for pair in plan.pairs if pair.exists]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{existing[0]} exists ({len(existing)} of the {len(plan.pairs)} region files "
            "would be replaced): nothing written; pass `overwrite=True` to replace them (each is "
            "kept as <name>.bak)"
        )
    for pair in plan.pairs:
        if pair.exists and Path(pair.output).is_symlink():
            raise OutputExistsError(f"{pair.output} is a symbolic link: move it away")
    items = [(str(pair.output), [str(s) for s in pair.sources]) for pair in plan.pairs]
    results = run_batch(
        copy_region_files, items, jobs=jobs, scheduler=scheduler, desc="regions", show=show
    )
    failed = [r for r in results if not r.ok]
    if failed:
        raise InputError(
            f"{len(failed)} of {len(results)} region files could not be written, first "
            f"{failed[0].name}: {failed[0].error}"
        )
    return [Path(r.value) for r in results if r.value is not None]

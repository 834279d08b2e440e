"""``ds9claw preview`` on the batch runner: one task per filter group, small records back.

The mosaics stay in the worker that drizzled them (they are written there, on the shared
file system); the task returns a `PreviewRecord`, so ``--jobs N`` and ``--scheduler``
move only file names and a few numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PreviewRecord", "preview_group_task", "record_of"]


@dataclass(frozen=True)
class PreviewRecord:
    """What the command prints about one product.

    Attributes
    ----------
    product, filter : str
        Product stem and filter.
    n_inputs : int
        Exposures drizzled.
    shape : tuple of int
        Mosaic shape (ny, nx).
    elapsed : float
        Seconds spent drizzling.
    paths : tuple of pathlib.Path
        Files written (before, after, holes and the PNG if any).
    summary : str
        `ds9claw.holes.HoleReport.summary`.
    n_pixels : int
        Pixels of the holes.
    """

    product: str
    filter: str
    n_inputs: int
    shape: tuple[int, ...]
    elapsed: float
    paths: tuple[Path, ...]
    summary: str
    n_pixels: int


def record_of(pair: Any, files: Any) -> PreviewRecord:
    """The small record of a `ds9claw.preview.MosaicPair` and its `PreviewFiles`.

    Parameters
    ----------
    pair : ds9claw.preview.MosaicPair
        The mosaics.
    files : ds9claw.preview_io.PreviewFiles
        What was written.

    Returns
    -------
    PreviewRecord
    """
    return PreviewRecord(
        product=pair.product,
        filter=pair.filter,
        n_inputs=len(pair.inputs),
        shape=tuple(int(n) for n in pair.before.data.shape),
        elapsed=float(pair.elapsed),
        paths=tuple(files.paths),
        summary=pair.report.summary(),
        n_pixels=int(pair.report.n_pixels),
    )


def preview_group_task(
    paths: tuple[str, ...], masks: Any, options: dict, output_dir: str, png: bool, overwrite: bool
) -> list[PreviewRecord]:
    """Drizzle one filter group and write its files; runs in a worker.

    Parameters
    ----------
    paths : tuple of str
        The cal files of the group.
    masks : str, list or mapping
        As `ds9claw.preview.preview_mosaics`.
    options : dict
        Further keyword arguments of `ds9claw.preview.preview_mosaics`.
    output_dir : str
        Where to write.
    png, overwrite : bool
        As `ds9claw.preview_io.write_preview`.

    Returns
    -------
    list of PreviewRecord
    """
    from .preview import preview_mosaics
    from .preview_io import write_preview

    pairs = preview_mosaics(list(paths), masks, **options)
    records = []
    for pair in pairs:
        files = write_preview(pair, output_dir, png=png, overwrite=overwrite)
        records.append(record_of(pair, files))
        del pair
    return records

"""Write the files of ``ds9claw preview``: the two i2d mosaics, the holes, the PNG.

Every file goes through a temporary file renamed into place (`ds9claw.safeio`);
existing files are refused unless ``overwrite``, and that is checked for all of them
before the first one is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .products import refuse_existing
from .safeio import atomic_write

__all__ = [
    "PreviewFiles",
    "holes_hdulist",
    "mosaic_header",
    "preview_paths",
    "write_preview",
]

_log = logging.getLogger(__name__)

_WCS_KEYS = (
    "wcsaxes", "ctype1", "ctype2", "cunit1", "cunit2", "crpix1", "crpix2", "crval1", "crval2",
    "cdelt1", "cdelt2", "pc1_1", "pc1_2", "pc2_1", "pc2_2",
)  # fmt: skip


@dataclass(frozen=True)
class PreviewFiles:
    """The files of one product.

    Attributes
    ----------
    before, after : pathlib.Path
        ``<product>_before_i2d.fits`` and ``<product>_after_i2d.fits``.
    holes : pathlib.Path
        ``<product>_holes.fits``: 1 on mosaic pixels covered before and not after.
    png : pathlib.Path or None
        ``<product>_preview.png`` (None when not asked for).
    """

    before: Path
    after: Path
    holes: Path
    png: Path | None

    @property
    def paths(self) -> tuple[Path, ...]:
        """The files, PNG last when there is one."""
        return (self.before, self.after, self.holes) + ((self.png,) if self.png else ())


def preview_paths(product: str, output_dir: str | Path, *, png: bool = True) -> PreviewFiles:
    """The file names of a product in ``output_dir``.

    Parameters
    ----------
    product : str
        Product name.
    output_dir : str or pathlib.Path
        Directory.
    png : bool
        Include the PNG.

    Returns
    -------
    PreviewFiles
    """
    folder = Path(output_dir)
    return PreviewFiles(
        before=folder / f"{product}_before_i2d.fits",
        after=folder / f"{product}_after_i2d.fits",
        holes=folder / f"{product}_holes.fits",
        png=folder / f"{product}_preview.png" if png else None,
    )


def mosaic_header(model: Any) -> Any:
    """A FITS header with the celestial WCS of a resampled (i2d) model.

    Parameters
    ----------
    model : stdatamodels.jwst.datamodels.ImageModel
        The mosaic (its ``meta.wcsinfo``, which resample fills).

    Returns
    -------
    astropy.io.fits.Header
    """
    from astropy.io import fits

    header = fits.Header()
    info = model.meta.wcsinfo
    for key in _WCS_KEYS:
        value = getattr(info, key, None)
        if value is not None:
            header[key.upper()] = value
    return header


def holes_hdulist(pair: Any) -> Any:
    """The holes image as FITS: uint8, the mosaic's WCS, counts in the header.

    Parameters
    ----------
    pair : ds9claw.preview.MosaicPair
        The preview.

    Returns
    -------
    astropy.io.fits.HDUList
    """
    from astropy.io import fits

    header = mosaic_header(pair.before)
    report = pair.report
    header["PRODUCT"] = (pair.product, "mosaic product")
    header["FILTER"] = (pair.filter, "filter of the exposures")
    header["CONTENT"] = ("preview holes", "1: covered before masking, not after")
    header["NHOLES"] = (report.n_pixels, "hole pixels")
    header["HOLEAREA"] = (round(report.area_arcsec2, 6), "[arcsec2] area of the holes")
    header["NAREAS"] = (len(report.areas), "connected hole areas")
    header["NINPUTS"] = (len(pair.inputs), "cal files resampled")
    header["CREATOR"] = (f"ds9claw {__version__}", "software")
    for path in pair.inputs:
        header.add_history(f"input {path.name}")
    for path, masks in pair.masks.items():
        for mask in masks:
            header.add_history(f"mask {mask.name} on {path.name}")
    return fits.HDUList([fits.PrimaryHDU(pair.holes.astype(np.uint8), header=header)])


def write_preview(
    pair: Any, output_dir: str | Path, *, png: bool = True, overwrite: bool = False
) -> PreviewFiles:
    """Write the before and after i2d models, the holes FITS and (optionally) the PNG.

    Parameters
    ----------
    pair : ds9claw.preview.MosaicPair
        The preview.
    output_dir : str or pathlib.Path
        Directory (created if missing).
    png : bool
        Also draw ``<product>_preview.png`` (`ds9claw.preview_plot`).
    overwrite : bool
        Replace existing files.

    Returns
    -------
    PreviewFiles

    Raises
    ------
    OutputExistsError
        A file exists and ``overwrite`` is False; nothing was written.
    """
    files = preview_paths(pair.product, output_dir, png=png)
    if not overwrite:
        refuse_existing(files.paths)
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    for model, path in ((pair.before, files.before), (pair.after, files.after)):
        model.meta.filename = path.name
        with atomic_write(path, overwrite=overwrite) as temp:
            # a Path (not str) keeps meta.filename: the temporary name is not recorded
            model.to_fits(temp, overwrite=True)
    with atomic_write(files.holes, overwrite=overwrite) as temp:
        holes_hdulist(pair).writeto(temp, overwrite=True)
    if files.png is not None:
        from .preview_plot import draw_preview

        with atomic_write(files.png, overwrite=overwrite) as temp:
            draw_preview(pair, temp)
    _log.debug("wrote %s", ", ".join(p.name for p in files.paths))
    return files

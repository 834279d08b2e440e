"""The headless Python API: detection on exposures and files, no DS9 needed.

>>> from ds9claw.api import detect_file
>>> from ds9claw.detect import DetectionParameters
>>> products = detect_file("X_nrcb1_cal.fits", include=["X_nrcb1_cal_claws.pix.reg"],
...                        params=DetectionParameters(sigma=2, smooth=1, ignore_background=True))
>>> products.mask_path, products.result.n_masked  # doctest: +SKIP

The same products as the old ``util_detect_source_and_create_seed_image.py``:
``<stem><suffix>.fits`` (float seed image) and ``<stem><suffix>_zeroonemask.fits``;
`write_products`, `provenance_cards` and `DEFAULT_SUFFIX` live in `ds9claw.products`
and are part of this API too.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .detect import DetectionParameters, DetectionResult, NoDetectionWarning, detect_claws
from .dq import DEFAULT_INVALID_FLAGS, valid_pixel_mask
from .errors import InputError
from .fitsio import Exposure, read_exposure
from .overwrite import refuse_to_replace
from .products import DEFAULT_SUFFIX, output_paths, provenance_cards, write_products
from .region_mask import region_masks
from .region_parse import RegionSource

__all__ = [
    "DEFAULT_SUFFIX",
    "DetectionProducts",
    "detect_exposure",
    "detect_file",
    "provenance_cards",
    "resolve_region_template",
    "write_products",
]

_log = logging.getLogger(__name__)

RegionInput = RegionSource | str | Path


@dataclass
class DetectionProducts:
    """Result of `detect_file`.

    Attributes
    ----------
    result : DetectionResult
        Seed, mask and statistics.
    seed_path, mask_path : pathlib.Path or None
        Files written (``None`` when nothing was written).
    diagnostics : dict of str to pathlib.Path
        Diagnostic images written (valid pixels, background, rms).
    source : pathlib.Path or None
        The input file.
    """

    result: DetectionResult
    seed_path: Path | None = None
    mask_path: Path | None = None
    diagnostics: dict[str, Path] = field(default_factory=dict)
    source: Path | None = None


def detect_exposure(
    exposure: Exposure,
    *,
    include: Sequence[RegionInput] = (),
    exclude: Sequence[RegionInput] = (),
    params: DetectionParameters | None = None,
    invalid_flags: str | int = DEFAULT_INVALID_FLAGS,
    diagnostics: bool = False,
) -> DetectionResult:
    """Detect claws in an exposure inside its include regions.

    Parameters
    ----------
    exposure : Exposure
        The image (from `ds9claw.fitsio.read_exposure` or DS9).
    include, exclude : sequence of RegionSource, str or pathlib.Path
        DS9 region sources; with no include source the whole frame is searched.
    params : DetectionParameters, optional
        Detection parameters.
    invalid_flags : str or int
        DQ bits that make a pixel unusable.
    diagnostics : bool
        Also compute the full noise map (for ``save_diagnostics``).

    Returns
    -------
    DetectionResult

    Raises
    ------
    InputError
        For an image without any finite pixel, bad regions or bad parameters.
    """
    params = (params or DetectionParameters()).validate()
    image = exposure.image
    if not np.isfinite(image).any():
        raise InputError(f"{exposure.name} has no finite pixel (all NaN or infinite)")
    include_mask, exclude_mask = region_masks(
        exposure.shape, include, exclude, header=exposure.header
    )
    valid = valid_pixel_mask(image, exposure.dq, invalid_flags=invalid_flags)
    return detect_claws(
        image,
        valid=valid,
        include=include_mask,
        exclude=exclude_mask,
        params=params,
        diagnostics=diagnostics,
    )


def resolve_region_template(template: str | Path, image_path: str | Path) -> Path:
    """Turn a region name or template into a path for one image.

    A name with ``{stem}`` (``X_cal``), ``{dataset}`` (``X``: the stem without
    ``_cal``/``_rate``/``_i2d``), ``{name}`` (file name) or ``{dir}`` (its directory)
    is filled in for the image (`ds9claw.names.template_fields`); a relative template
    is taken relative to the image's directory (the one rule of every template:
    `ds9claw.names.resolve_template`).  ``{{`` and ``}}`` stand for literal
    braces (as in `str.format`).  A name without placeholders, or one naming an
    existing file as it is (a file called ``brace{x}_claws.pix.reg``), is used as it is.

    Parameters
    ----------
    template : str or pathlib.Path
        The region name or template.
    image_path : str or pathlib.Path
        The image it is for.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        For an unknown placeholder or a malformed template (a lone brace).
    """
    from .names import resolve_template

    return resolve_template(template, image_path, what="region")


def detect_file(
    path: str | Path,
    *,
    include: Sequence[RegionInput] = (),
    exclude: Sequence[RegionInput] = (),
    params: DetectionParameters | None = None,
    output_dir: str | Path | None = None,
    suffix: str = DEFAULT_SUFFIX,
    overwrite: bool = False,
    gzip: bool = False,
    save_diagnostics: bool = False,
    invalid_flags: str | int = DEFAULT_INVALID_FLAGS,
    write: bool = True,
) -> DetectionProducts:
    """Detect claws in a FITS file and write the seed and zero-one mask beside it.

    Parameters
    ----------
    path : str or pathlib.Path
        JWST cal/rate file, or any FITS file with a 2-D image.
    include, exclude : sequence of RegionSource, str or pathlib.Path
        DS9 region files (or sources); names may be templates such as
        ``"{stem}_claws.pix.reg"`` (see `resolve_region_template`).
    params : DetectionParameters, optional
        Detection parameters.
    output_dir : str or pathlib.Path, optional
        Where to write (default: beside the input).
    suffix : str
        Product suffix (default ``"_claws_seed_image"``).
    overwrite : bool
        Replace any existing file at a product path (atomically); otherwise only
        ds9claw's own earlier products are replaced, and any other file is an error
        before anything is written (`ds9claw.overwrite.refuse_to_replace`).
    gzip : bool
        Write ``.fits.gz`` products.
    save_diagnostics : bool
        Also write valid-pixel, background and rms images.
    invalid_flags : str or int
        DQ bits that make a pixel unusable.
    write : bool
        Write the products (``False``: only compute).

    Returns
    -------
    DetectionProducts
    """
    path = Path(path)
    params = (params or DetectionParameters()).validate()
    include_sources = [_source_for(item, path) for item in include]
    exclude_sources = [_source_for(item, path) for item in exclude]
    if write:
        planned = output_paths(
            path, suffix, output_dir=output_dir, gzip=gzip, diagnostics=save_diagnostics
        )
        refuse_to_replace(planned.values(), overwrite=overwrite)  # before the input is read
    exposure = read_exposure(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NoDetectionWarning)
        result = detect_exposure(
            exposure,
            include=include_sources,
            exclude=exclude_sources,
            params=params,
            invalid_flags=invalid_flags,
            diagnostics=save_diagnostics,
        )
    for warning in caught:
        if issubclass(warning.category, NoDetectionWarning):
            _log.warning("%s: %s", path.name, warning.message)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    products = DetectionProducts(result=result, source=path)
    if write:
        paths = write_products(
            exposure,
            result,
            source=path,
            include=include_sources,
            exclude=exclude_sources,
            output_dir=output_dir,
            suffix=suffix,
            overwrite=overwrite,
            gzip=gzip,
            save_diagnostics=save_diagnostics,
        )
        products.seed_path = paths.pop("seed")
        products.mask_path = paths.pop("mask")
        products.diagnostics = paths
    return products


def _source_for(item: RegionInput, image_path: Path) -> RegionSource:
    if isinstance(item, RegionSource):
        return item
    return RegionSource.from_file(resolve_region_template(item, image_path))

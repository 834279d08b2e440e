"""Before/after mosaics with jwst's own ``ResampleStep``, and the holes the masks leave.

`preview_mosaics` reads cal files (each with the gwcs that ``assign_wcs`` gave it), and
drizzles them twice with ``jwst.resample.ResampleStep`` (the step calwebb_image3 runs),
in memory: as they are, and with the claw masks applied as a commit followed by
calwebb_image2 would leave them (the commit's DQ bits, which include ``DO_NOT_USE``,
ORed into DQ and NaN in SCI).  The cal files are only read.  The step is instantiated
here and run with its default parameters plus the ones given: no CRDS parameter
reference file is looked up, so it runs offline.

Files of different filters (or pupils) are grouped, one `MosaicPair` per group.  The
holes are the mosaic pixels with drizzle weight before and none after
(`ds9claw.holes`).

jwst, stcal, gwcs and scipy are imported inside the functions: importing this module is
cheap, and no other command pays for them.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .dq import DEFAULT_COMMIT_FLAGS, interpret_flags
from .errors import Ds9ClawError, InputError, ParameterError
from .holes import HoleReport, describe_holes, find_holes
from .preview_inputs import (
    CalExposure,
    MaskSpec,
    PreviewGroup,
    mask_files_for,
    plan_groups,
    product_name,
    read_exposure,
)

__all__ = [
    "MaskSpec",
    "QUICK_LOOK",
    "QUICK_LOOK_STEP",
    "MosaicPair",
    "PreviewGroup",
    "SkyBox",
    "apply_masks",
    "plan_groups",
    "preview_mosaics",
    "product_name",
    "require_preview_packages",
]

_log = logging.getLogger(__name__)

#: ``pixel_scale_ratio`` and ``pixmap_stepsize`` of ``ds9claw preview --quick``.
QUICK_LOOK: dict[str, float] = {"pixel_scale_ratio": 2.0, "pixmap_stepsize": 4.0}
#: ResampleStep parameters a quick look adds: no ERR/VAR_*/CON arrays, no header blending.
QUICK_LOOK_STEP: dict[str, bool] = {"enable_err": False, "enable_ctx": False, "blendheaders": False}
#: Called with a short description of the step that starts.
ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class SkyBox:
    """A rectangle of the sky (north up) to limit the mosaic to.

    Attributes
    ----------
    ra, dec : float
        Centre in degrees (ICRS).
    width, height : float
        Size in arcseconds.
    """

    ra: float
    dec: float
    width: float
    height: float

    def __post_init__(self) -> None:
        values = (self.ra, self.dec, self.width, self.height)
        if not all(math.isfinite(v) for v in values):
            raise ParameterError(f"sky box {values} must be four finite numbers")
        if not (-90 <= self.dec <= 90) or self.width <= 0 or self.height <= 0:
            raise ParameterError(
                f"sky box: give RA, Dec (degrees, |Dec| <= 90) and a positive width and height "
                f"(arcsec), not {values}"
            )


@dataclass
class MosaicPair:
    """The two mosaics of one filter and what changed between them.

    Attributes
    ----------
    product : str
        Product name (the stem of the ``*_i2d.fits`` files).
    filter : str
        ``FILTER`` (and ``PUPIL`` when not ``CLEAR``) of the group.
    before, after : stdatamodels.jwst.datamodels.ImageModel
        The i2d mosaics without and with the masks, on the same grid.
    holes : numpy.ndarray
        Boolean mosaic image: covered before, not after.
    report : HoleReport
        The holes counted, grouped and attributed to masks.
    inputs : tuple of pathlib.Path
        The cal files.
    masks : dict
        Cal file -> the mask files applied to it.
    elapsed : float
        Wall-clock seconds for this group.
    """

    product: str
    filter: str
    before: Any
    after: Any
    holes: np.ndarray
    report: HoleReport
    inputs: tuple[Path, ...]
    masks: dict[Path, tuple[Path, ...]] = field(default_factory=dict)
    elapsed: float = 0.0


def preview_mosaics(
    cal_files: Sequence[str | Path],
    masks: MaskSpec,
    *,
    pixel_scale_ratio: float = 1.0,
    pixmap_stepsize: float = 1.0,
    sky_box: SkyBox | None = None,
    resample_parameters: Mapping[str, Any] | None = None,
    flags: str | int = DEFAULT_COMMIT_FLAGS,
    by_filter: bool = True,
    quick: bool = False,
    progress: ProgressCallback | None = None,
) -> list[MosaicPair]:
    """Drizzle cal files with and without their claw masks; nothing is written.

    Parameters
    ----------
    cal_files : sequence of str or pathlib.Path
        ``*_cal.fits`` files with a gwcs (``meta.wcs``).
    masks : str, sequence of str, or mapping
        Mask templates as for ``ds9claw commit`` (e.g.
        ``{stem}_claws_seed_image_zeroonemask.fits``; several are ORed), or a mapping
        from cal file to its mask files (an empty list: no mask for that file).  Masks
        are FITS (0/1 or seed images) or DS9 region files.
    pixel_scale_ratio : float
        ResampleStep's ratio of output to input pixel scale (2: pixels twice as big,
        a quarter as many: a quick look; 0.5 samples each input pixel with four).
    pixmap_stepsize : float
        ResampleStep's ``pixmap_stepsize`` (> 1 interpolates the pixel map: faster).
    sky_box : SkyBox, optional
        Limit the mosaic to this rectangle of the sky (north up).
    resample_parameters : mapping, optional
        Further ``ResampleStep`` parameters (``crpix``, ``crval``, ``rotation``,
        ``pixel_scale``, ``output_shape``, ``pixfrac``, ``kernel``, ...).
    flags : str or int
        DQ bits the commit would OR in (must include ``DO_NOT_USE`` for resample to
        leave the pixels out).
    by_filter : bool
        Group files per filter; False refuses a mix of filters instead.
    quick : bool
        A quick look: also skip what the preview does not show (`QUICK_LOOK_STEP`:
        the error, variance and context arrays and the header blending).  The data
        and weights are the same as without it; combine it with a
        ``pixel_scale_ratio`` of 2 and a ``pixmap_stepsize`` of 4 (`QUICK_LOOK`).
    progress : callable, optional
        Called with a description of each step as it starts.

    Returns
    -------
    list of MosaicPair
        One per filter group, in the order the groups first appear.

    Raises
    ------
    InputError
        A cal file is missing, not a 2-D image or has no gwcs; a mask is missing or
        does not match; filters differ and ``by_filter`` is False.
    ParameterError
        Bad resample parameters or flags.
    """
    from .dq import PIXEL_FLAGS

    require_preview_packages(png=False)
    bits = interpret_flags(flags)
    if not bits & PIXEL_FLAGS["DO_NOT_USE"]:
        raise ParameterError("the preview flags must include DO_NOT_USE, which resample skips")
    parameters = _step_parameters(pixel_scale_ratio, pixmap_stepsize, resample_parameters)
    if quick:
        parameters = {**QUICK_LOOK_STEP, **parameters}
    note = progress or (lambda text: None)
    groups = plan_groups(cal_files, by_filter=by_filter)
    mask_files = mask_files_for(cal_files, masks)
    pairs = []
    for group in groups:
        label = f" ({group.filter})" if len(groups) > 1 else ""
        members = []
        try:
            for index, path in enumerate(group.paths, start=1):
                note(f"reading {path.name} ({index}/{len(group.paths)}){label}")
                members.append(read_exposure(path, mask_files[path]))
            pairs.append(_preview_group(group, members, parameters, bits, sky_box, note, label))
        finally:
            for exposure in members:
                exposure.model.close()
    return pairs


def _preview_group(group, members, parameters, bits, sky_box, note, label) -> MosaicPair:
    started = time.perf_counter()
    parameters = dict(parameters)
    if sky_box is not None:
        ratio = parameters["pixel_scale_ratio"]
        parameters.update(_sky_box_parameters(sky_box, members[0].model, ratio))
    # copies first: ResampleStep marks NaN and DO_NOT_USE consistently in its inputs
    after_models = [apply_masks(e.model.copy(), e.mask, bits) for e in members]
    try:
        note(f"resampling {len(members)} exposures as they are{label}")
        before = _resample([e.model for e in members], parameters)
        note(f"resampling {len(members)} exposures with the masks{label}")
        after = _resample(after_models, parameters)
    finally:
        for model in after_models:
            model.close()
    if not np.any(before.wht > 0):
        raise InputError(
            f"the mosaic of {group.filter} has no pixel covered by the exposures: does the "
            "sky box (or the custom grid) overlap them?"
        )
    holes = find_holes(before.wht, after.wht)
    report = describe_holes(holes, _pixel_area(before), _mask_hits(holes, before, members))
    return MosaicPair(
        product=group.product,
        filter=group.filter,
        before=before,
        after=after,
        holes=holes,
        report=report,
        inputs=group.paths,
        masks={e.path: e.mask_files for e in members},
        elapsed=time.perf_counter() - started,
    )


def require_preview_packages(*, png: bool = True) -> None:
    """Check that jwst (and, for the PNG, matplotlib) can be imported.

    Parameters
    ----------
    png : bool
        Also require matplotlib.

    Raises
    ------
    Ds9ClawError
        Naming what is missing and how to install it.
    """
    import importlib.util

    missing = [name for name in ("jwst",) + (("matplotlib",) if png else ())
               if importlib.util.find_spec(name) is None]  # fmt: skip
    if missing:
        raise Ds9ClawError(
            f"ds9claw preview needs {' and '.join(missing)}: pip install 'ds9claw[preview]'"
        )


def apply_masks(model: Any, mask: np.ndarray | None, bits: int) -> Any:
    """Apply a claw mask to a cal model as a commit and calwebb_image2 would leave it.

    Parameters
    ----------
    model : stdatamodels.jwst.datamodels.ImageModel
        The cal model (changed in place).
    mask : numpy.ndarray or None
        Boolean mask of the SCI shape (None: nothing to do).
    bits : int
        DQ bits ORed in where the mask is set; SCI becomes NaN there.

    Returns
    -------
    stdatamodels.jwst.datamodels.ImageModel
        The same model.
    """
    if mask is None or not mask.any():
        return model
    np.bitwise_or(model.dq, np.uint32(bits), out=model.dq, where=mask)
    model.data[mask] = np.nan
    return model


# --------------------------------------------------------------------------- resample


def _step_parameters(
    pixel_scale_ratio: float, pixmap_stepsize: float, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    if not (math.isfinite(pixel_scale_ratio) and 0 < pixel_scale_ratio <= 10):
        raise ParameterError(f"pixel scale ratio {pixel_scale_ratio} must be in (0, 10]")
    if not (math.isfinite(pixmap_stepsize) and 1 <= pixmap_stepsize <= 64):
        raise ParameterError(f"pixmap stepsize {pixmap_stepsize} must be in [1, 64]")
    parameters: dict[str, Any] = {
        "pixel_scale_ratio": float(pixel_scale_ratio),
        "pixmap_stepsize": float(pixmap_stepsize),
        "in_memory": True,
    }
    parameters.update(extra or {})
    return parameters


def _sky_box_parameters(box: SkyBox, model: Any, ratio: float) -> dict[str, Any]:
    wcs = model.meta.wcs
    ny, nx = model.data.shape
    x, y = (nx - 1) / 2, (ny - 1) / 2
    ra0, dec0 = wcs(x, y)
    ra1, dec1 = wcs(x + 1, y)
    cos_dec = math.cos(math.radians(dec0))
    scale = 3600 * math.hypot((ra1 - ra0) * cos_dec, dec1 - dec0) * ratio  # arcsec / px
    shape = [max(2, math.ceil(box.width / scale)), max(2, math.ceil(box.height / scale))]
    return {
        "crval": [box.ra, box.dec],
        "rotation": 0.0,
        "pixel_scale": scale,
        "output_shape": shape,
        "crpix": [(shape[0] - 1) / 2, (shape[1] - 1) / 2],
    }


def _resample(models: list[Any], parameters: Mapping[str, Any]) -> Any:
    from jwst.datamodels import ModelLibrary
    from jwst.resample import ResampleStep

    try:
        step = ResampleStep(**parameters)
    except Exception as error:  # noqa: BLE001 - stpipe's config validation
        raise ParameterError(f"ResampleStep refused the parameters: {error}") from None
    library = ModelLibrary(models, on_disk=False)
    quiet = logging.getLogger("stpipe")
    level = quiet.level
    if not _log.isEnabledFor(logging.DEBUG):
        quiet.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = step.run(library)
    except ValueError as error:
        raise InputError(f"ResampleStep could not make a mosaic: {error}") from None
    finally:
        quiet.setLevel(level)
    for text in sorted({f"{r.category.__name__}: {r.message}" for r in caught}):
        _log.debug("ResampleStep: %s", text)
    return result


# --------------------------------------------------------------------------- holes


def _pixel_area(mosaic: Any) -> float:
    area = mosaic.meta.photometry.pixelarea_arcsecsq
    if area:
        return float(area)
    ny, nx = mosaic.data.shape
    ra, dec = mosaic.meta.wcs([nx / 2, nx / 2 + 1, nx / 2], [ny / 2, ny / 2, ny / 2 + 1])
    cos_dec = math.cos(math.radians(dec[0]))
    dx = np.array([(ra[1] - ra[0]) * cos_dec, dec[1] - dec[0]]) * 3600
    dy = np.array([(ra[2] - ra[0]) * cos_dec, dec[2] - dec[0]]) * 3600
    return float(abs(dx[0] * dy[1] - dx[1] * dy[0]))


def _mask_hits(holes: np.ndarray, mosaic: Any, members: list[CalExposure]) -> dict[str, np.ndarray]:
    """For each mask, which hole pixels lie on it (hole centre mapped to the exposure)."""
    rows, cols = np.nonzero(holes)
    hits: dict[str, np.ndarray] = {}
    if not rows.size:
        return hits
    ra, dec = mosaic.meta.wcs(cols.astype(float), rows.astype(float))
    for exposure in members:
        if exposure.mask is None:
            continue
        x, y = exposure.model.meta.wcs.invert(ra, dec, with_bounding_box=False)
        ny, nx = exposure.mask.shape
        xi = np.rint(np.nan_to_num(x, nan=-1)).astype(int)
        yi = np.rint(np.nan_to_num(y, nan=-1)).astype(int)
        inside = (xi >= 0) & (xi < nx) & (yi >= 0) & (yi < ny)
        on_mask = np.zeros(rows.size, dtype=bool)
        on_mask[inside] = exposure.mask[yi[inside], xi[inside]]
        for mask_file in exposure.mask_files:
            name = mask_file.name
            hits[name] = hits[name] | on_mask if name in hits else on_mask
    return hits

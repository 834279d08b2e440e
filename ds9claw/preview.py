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
from .errors import InputError, ParameterError
from .holes import HoleReport, describe_holes, find_holes

__all__ = ["MaskSpec", "MosaicPair", "SkyBox", "apply_masks", "preview_mosaics", "product_name"]

_log = logging.getLogger(__name__)

#: Masks: one template or several (``{dataset}``, ``{stem}``, ``{name}``, ``{dir}``,
#: see `ds9claw.commit.expand_mask_template`), or cal file -> mask files.
MaskSpec = str | Sequence[str] | Mapping[str | Path, Sequence[str | Path]]
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


@dataclass
class _Exposure:
    path: Path
    model: Any
    header: Any
    mask: np.ndarray | None
    mask_files: tuple[Path, ...]


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

    bits = interpret_flags(flags)
    if not bits & PIXEL_FLAGS["DO_NOT_USE"]:
        raise ParameterError("the preview flags must include DO_NOT_USE, which resample skips")
    if not cal_files:
        raise InputError("no cal files given: name the *_cal.fits files of the visit")
    parameters = _step_parameters(pixel_scale_ratio, pixmap_stepsize, resample_parameters)
    note = progress or (lambda text: None)
    mask_files = _mask_files(cal_files, masks)
    exposures = []
    for index, path in enumerate(cal_files, start=1):
        note(f"reading {Path(path).name} ({index}/{len(cal_files)})")
        exposures.append(_read_exposure(Path(path), mask_files[Path(path)], bits))
    groups = _group(exposures, by_filter=by_filter)
    pairs = []
    for name, members in groups.items():
        started = time.perf_counter()
        group_parameters = dict(parameters)
        if sky_box is not None:
            group_parameters.update(
                _sky_box_parameters(sky_box, members[0].model, pixel_scale_ratio)
            )
        after_models = [apply_masks(e.model.copy(), e.mask, bits) for e in members]
        label = f" ({name})" if len(groups) > 1 else ""
        note(f"resampling {len(members)} exposures as they are{label}")
        before = _resample([e.model for e in members], group_parameters)
        note(f"resampling {len(members)} exposures with the masks{label}")
        after = _resample(after_models, group_parameters)
        holes = find_holes(before.wht, after.wht)
        report = describe_holes(holes, _pixel_area(before), _mask_hits(holes, before, members))
        pairs.append(
            MosaicPair(
                product=product_name([e.model for e in members]),
                filter=name,
                before=before,
                after=after,
                holes=holes,
                report=report,
                inputs=tuple(e.path for e in members),
                masks={e.path: e.mask_files for e in members},
                elapsed=time.perf_counter() - started,
            )
        )
        for model in after_models:
            model.close()
    for exposure in exposures:
        exposure.model.close()
    return pairs


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


def product_name(models: Sequence[Any]) -> str:
    """An image3-like product name: ``jw<program>-o<obs>_nircam_<pupil>-<filter>``.

    Parameters
    ----------
    models : sequence of ImageModel
        The exposures of one filter.

    Returns
    -------
    str
        Program and observation are left out when the files do not share them.
    """
    meta = models[0].meta
    programs = {m.meta.observation.program_number for m in models}
    observations = {m.meta.observation.observation_number for m in models}
    instrument = (meta.instrument.name or "nircam").lower()
    optics = "-".join(str(v).lower() for v in (meta.instrument.pupil, meta.instrument.filter) if v)
    name = f"{instrument}_{optics}" if optics else instrument
    if len(programs) == 1 and None not in programs:
        prefix = f"jw{programs.pop()}"
        if len(observations) == 1 and None not in observations:
            prefix += f"-o{observations.pop()}"
        name = f"{prefix}_{name}"
    return name


# --------------------------------------------------------------------------- inputs


def _mask_files(cal_files: Sequence[str | Path], masks: MaskSpec) -> dict[Path, tuple[Path, ...]]:
    from .commit import expand_mask_template

    out: dict[Path, tuple[Path, ...]] = {}
    if isinstance(masks, Mapping):
        given = {Path(k).resolve(): tuple(Path(v) for v in values) for k, values in masks.items()}
        for path in cal_files:
            key = Path(path).resolve()
            if key not in given:
                raise InputError(f"no masks given for {path}: add it to the mapping")
            out[Path(path)] = given[key]
        return out
    templates = [masks] if isinstance(masks, str) else list(masks)
    if not templates:
        raise InputError("no mask given: name a mask template such as {stem}_claws.pix.reg")
    for path in cal_files:
        out[Path(path)] = tuple(expand_mask_template(t, path) for t in templates)
    return out


def _read_exposure(path: Path, mask_files: tuple[Path, ...], bits: int) -> _Exposure:
    from astropy.io import fits

    from .commit import load_masks

    if not path.is_file():
        raise InputError(f"cal file {path} does not exist: check the name")
    try:
        header = fits.getheader(path, "SCI")
    except (OSError, KeyError) as error:
        raise InputError(f"{path} is not a FITS file with a SCI extension ({error})") from None
    model = _open_cal(path)
    if model.data.ndim != 2:
        model.close()
        raise InputError(f"{path} has a {model.data.ndim}-D SCI: preview needs 2-D cal images")
    if model.meta.wcs is None:
        model.close()
        raise InputError(
            f"{path} has no gwcs (meta.wcs): run calwebb_image2 (assign_wcs) on it first; "
            "preview needs the pipeline's WCS to drizzle"
        )
    mask = None
    if mask_files:
        loaded = load_masks(mask_files, model.data.shape, header=header)
        mask = np.logical_or.reduce([m.mask for m in loaded])
    _log.debug("%s: %d masked pixels", path.name, 0 if mask is None else int(mask.sum()))
    return _Exposure(path=path, model=model, header=header, mask=mask, mask_files=mask_files)


def _open_cal(path: Path) -> Any:
    from stdatamodels.jwst import datamodels

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = datamodels.ImageModel(str(path))
            _ = model.data, model.dq
    except Exception as error:  # noqa: BLE001 - stdatamodels raises many kinds on bad files
        raise InputError(
            f"{path} cannot be read as a JWST ImageModel ({type(error).__name__}: {error})"
        ) from None
    for record in caught:
        _log.debug("%s: %s", path.name, record.message)
    return model


def _filter_name(model: Any) -> str:
    inst = model.meta.instrument
    pupil = (inst.pupil or "").upper()
    name = (inst.filter or "unknown").upper()
    return name if pupil in ("", "CLEAR") else f"{pupil}+{name}"


def _group(exposures: list[_Exposure], *, by_filter: bool) -> dict[str, list[_Exposure]]:
    groups: dict[str, list[_Exposure]] = {}
    for exposure in exposures:
        groups.setdefault(_filter_name(exposure.model), []).append(exposure)
    if len(groups) > 1 and not by_filter:
        listing = "; ".join(f"{k}: {', '.join(e.path.name for e in v)}" for k, v in groups.items())
        raise InputError(
            f"the cal files are of {len(groups)} filters ({listing}): give one filter at a "
            "time or let them be grouped per filter"
        )
    return groups


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


def _mask_hits(holes: np.ndarray, mosaic: Any, members: list[_Exposure]) -> dict[str, np.ndarray]:
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

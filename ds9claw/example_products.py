"""The example's files as objects ready to write: JWST cal/rate models, truth, region.

`cal_model` and `rate_model` fill a JWST ``ImageModel`` (the class is passed in, so the
data-model stack is imported only by the caller that writes) from a
`ds9claw.example_scene.Scene`; `truth_hdulist` is the 0/1 image of the injected claw
and `region_text` the DS9 region file of the polygon drawn around it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from .dq import PIXEL_FLAGS
from .example_scene import (
    BACKGROUND_SIGMA,
    MAX_SIZE,
    POISSON_VARIANCE_PER_MJYSR,
    REFERENCE_BORDER,
    Scene,
)
from .example_wcs import PIXEL_SCALE, fill_wcsinfo

__all__ = [
    "PHOTMJSR",
    "cal_model",
    "detector_of",
    "rate_model",
    "region_text",
    "truth_hdulist",
]

#: Calibration factor (MJy/sr per DN/s): cal = rate * PHOTMJSR.  A power of two, so the
#: relation holds exactly in float32.
PHOTMJSR = 0.5
_FILTER = {"SHORT": "F200W", "LONG": "F444W"}
_DS9_GLOBAL = (
    'global color=green dashlist=8 3 width=1 font="helvetica 10 normal roman" select=1 '
    "highlite=1 dash=0 fixed=0 edit=1 move=1 delete=1 include=1 source=1"
)
_DETECTOR_RE = re.compile(r"_(nrc[ab](?:[1-4]|long))$", re.IGNORECASE)
_JWST_NAME_RE = re.compile(
    r"^jw(\d{5})(\d{3})(\d{3})_(\d{2})(\d)(\d{2})_(\d{5})_nrc[ab](?:[1-4]|long)$", re.IGNORECASE
)


def detector_of(dataset: str) -> str | None:
    """The NIRCam detector a dataset name ends with.

    Parameters
    ----------
    dataset : str
        Dataset name (file-name stem), e.g. ``jw09999001001_02101_00001_nrcb1``.

    Returns
    -------
    str or None
        The detector in upper case (``NRCB1``, ``NRCALONG``), or ``None`` when the name
        does not end with one.
    """
    match = _DETECTOR_RE.search(dataset)
    return match.group(1).upper() if match else None


def _dq(scene: Scene) -> np.ndarray:
    """DQ of the scene: reference border, hot and dead pixels, all DO_NOT_USE."""
    size = scene.science.shape[0]
    dq = np.zeros((size, size), dtype=np.uint32)
    border = np.ones((size, size), dtype=bool)
    b = REFERENCE_BORDER
    border[b:-b, b:-b] = False
    dq[border] = PIXEL_FLAGS["REFERENCE_PIXEL"] | PIXEL_FLAGS["DO_NOT_USE"]
    dq[scene.hot] = PIXEL_FLAGS["HOT"] | PIXEL_FLAGS["DO_NOT_USE"]
    dq[scene.dead] = PIXEL_FLAGS["DEAD"] | PIXEL_FLAGS["DO_NOT_USE"]
    return dq


def _fill_meta(model: Any, dataset: str, channel: str, *, filename: Path, unit: str) -> None:
    """Fill the metadata of a NIRCam imaging exposure named ``dataset``."""
    from astropy import units as u
    from astropy.time import Time

    meta = model.meta
    detector = detector_of(dataset)
    meta.filename = filename.name
    meta.telescope = "JWST"
    meta.instrument.name = "NIRCAM"
    meta.instrument.detector = detector
    meta.instrument.module = detector[3]
    meta.instrument.channel = channel
    meta.instrument.filter = _FILTER[channel]
    meta.instrument.pupil = "CLEAR"
    meta.exposure.type = "NRC_IMAGE"
    # A full-frame MEDIUM8 exposure of 6 groups, starting 2024-01-01 12:00 UTC.
    frame_time = 10.73677
    ngroups, nframes, groupgap = 6, 8, 2
    group_time = (nframes + groupgap) * frame_time
    duration = (ngroups * (nframes + groupgap) - groupgap) * frame_time
    meta.exposure.readpatt = "MEDIUM8"
    meta.exposure.nints = 1
    meta.exposure.ngroups = ngroups
    meta.exposure.nframes = nframes
    meta.exposure.groupgap = groupgap
    meta.exposure.frame_time = frame_time
    meta.exposure.group_time = group_time
    meta.exposure.duration = duration
    meta.exposure.exposure_time = (ngroups - 1) * group_time
    meta.exposure.effective_exposure_time = (ngroups - 1) * group_time
    start = Time("2024-01-01T12:00:00", scale="utc")
    end = start + duration * u.s
    meta.exposure.start_time = start.mjd
    meta.exposure.mid_time = (start + duration / 2 * u.s).mjd
    meta.exposure.end_time = end.mjd
    meta.observation.date, meta.observation.time = start.isot.split("T")
    meta.observation.date_beg = start.isot
    meta.observation.date_end = end.isot
    match = _JWST_NAME_RE.match(dataset)
    if match:
        program, obs, visit, group, parallel, activity, exposure = match.groups()
        meta.observation.program_number = program
        meta.observation.observation_number = obs
        meta.observation.visit_number = visit
        meta.observation.visit_group = group
        meta.observation.sequence_id = parallel
        meta.observation.activity_id = activity
        meta.observation.exposure_number = exposure
        meta.observation.visit_id = dataset[2:13]
    size = model.data.shape[0]
    meta.subarray.name = "FULL" if size == MAX_SIZE else f"SUB{size}"
    meta.subarray.xstart = meta.subarray.ystart = 1
    meta.subarray.xsize = meta.subarray.ysize = size
    meta.bunit_data = unit
    meta.bunit_err = unit
    fill_wcsinfo(meta.wcsinfo, size, PIXEL_SCALE[channel])


def cal_model(
    model_class: type, scene: Scene, *, dataset: str, filename: Path, channel: str
) -> Any:
    """The calibrated (MJy/sr) exposure of a scene, NaN where DQ says DO_NOT_USE.

    Parameters
    ----------
    model_class : type
        The JWST data-model class (``stdatamodels.jwst.datamodels.ImageModel``).
    scene : ds9claw.example_scene.Scene
        The drawn scene.
    dataset : str
        Dataset name; it must end with a NIRCam detector (`detector_of`).
    filename : pathlib.Path
        The file the model will be written to (its name goes into the metadata).
    channel : {"SHORT", "LONG"}
        NIRCam channel: sets the filter and the pixel scale.

    Returns
    -------
    object
        A ``model_class`` instance with SCI, ERR, DQ and the three variances.
    """
    dq = _dq(scene)
    bad = (dq & PIXEL_FLAGS["DO_NOT_USE"]) != 0
    arrays = {
        "data": scene.science,
        "var_poisson": scene.var_poisson,
        "var_rnoise": scene.var_rnoise,
        "var_flat": scene.var_flat,
    }
    arrays = {name: value.astype(np.float32) for name, value in arrays.items()}
    arrays["err"] = np.sqrt(arrays["var_poisson"] + arrays["var_rnoise"] + arrays["var_flat"])
    for value in arrays.values():
        value[bad] = np.nan
    model = model_class(dq=dq, **arrays)
    _fill_meta(model, dataset, channel, filename=filename, unit="MJy/sr")
    pixel_sr = (PIXEL_SCALE[channel] / 206264.806) ** 2
    model.meta.photometry.conversion_megajanskys = PHOTMJSR
    model.meta.photometry.conversion_microjanskys = PHOTMJSR * pixel_sr * 1e12
    model.meta.photometry.pixelarea_steradians = pixel_sr
    model.meta.photometry.pixelarea_arcsecsq = PIXEL_SCALE[channel] ** 2
    for step in ("dq_init", "saturation", "ramp_fit", "flat_field", "photom"):
        setattr(model.meta.cal_step, step, "COMPLETE")
    return model


def rate_model(
    model_class: type, scene: Scene, *, dataset: str, filename: Path, channel: str
) -> Any:
    """The count-rate (DN/s) exposure of a scene: cal == rate * `PHOTMJSR` where finite.

    Parameters are those of `cal_model`; hot pixels get their bright rates, dead ones 0.

    Returns
    -------
    object
        A ``model_class`` instance with SCI, ERR, DQ, VAR_POISSON and VAR_RNOISE.
    """
    # Divide in float32 so that cal == rate * PHOTMJSR exactly (PHOTMJSR is a power of 2).
    data = scene.science.astype(np.float32) / np.float32(PHOTMJSR)
    var_poisson = scene.var_poisson.astype(np.float32) / np.float32(PHOTMJSR**2)
    var_rnoise = scene.var_rnoise.astype(np.float32) / np.float32(PHOTMJSR**2)
    data[scene.hot] = scene.hot_rate
    data[scene.dead] = 0.0
    gain_variance = POISSON_VARIANCE_PER_MJYSR / PHOTMJSR  # (DN/s)^2 per DN/s
    var_poisson[scene.hot] = gain_variance * scene.hot_rate
    var_poisson[scene.dead] = 0.0
    model = model_class(
        data=data,
        dq=_dq(scene),
        err=np.sqrt(var_poisson + var_rnoise),
        var_poisson=var_poisson,
        var_rnoise=var_rnoise,
    )
    _fill_meta(model, dataset, channel, filename=filename, unit="DN/s")
    for step in ("dq_init", "saturation", "ramp_fit"):
        setattr(model.meta.cal_step, step, "COMPLETE")
    return model


def truth_hdulist(scene: Scene, dataset: str, *, seed: int, claw_snr: float) -> Any:
    """The 0/1 image of the injected claw, with the scene's parameters in its header.

    Parameters
    ----------
    scene : ds9claw.example_scene.Scene
        The drawn scene.
    dataset : str
        Dataset name of the exposure the claw is in.
    seed : int
        Seed the scene was drawn with.
    claw_snr : float
        Peak signal-to-noise of the claw.

    Returns
    -------
    astropy.io.fits.HDUList
        One primary HDU of uint8, 1 where the claw is at least half its local peak.
    """
    from astropy.io import fits

    claw = scene.claw
    header = fits.Header()
    header["DATASET"] = (dataset, "exposure with the claw")
    header["CONTENT"] = ("claw truth", "1: claw >= 50% of its local peak")
    header["SEED"] = (seed, "numpy default_rng seed")
    header["SKY"] = (scene.sky, "[MJy/sr] sky level (0: sky-subtracted)")
    header["CLAWSNR"] = (claw_snr, "claw peak / background sigma per pixel")
    header["CLAWPEAK"] = (scene.claw_amplitude, "[MJy/sr] claw peak")
    header["BKGSIGMA"] = (BACKGROUND_SIGMA, "[MJy/sr] noise of an empty pixel")
    header["CLAWLEN"] = (claw.length, "[pix] claw length along the arc")
    header["CLAWWID"] = (claw.width, "[pix] claw full width at half peak")
    header["CLAWRAD"] = (claw.radius, "[pix] radius of the arc")
    header["CLAWCX"] = (claw.cx + 1, "[pix] x of the arc centre, 1-based")
    header["CLAWCY"] = (claw.cy + 1, "[pix] y of the arc centre, 1-based")
    header["NTRUTH"] = (int(scene.truth.sum()), "number of claw pixels")
    return fits.HDUList([fits.PrimaryHDU(scene.truth.astype(np.uint8), header=header)])


def region_text(polygon: np.ndarray) -> str:
    """DS9 region file text (format 4.1) as DS9 saves one polygon in image coordinates.

    Parameters
    ----------
    polygon : numpy.ndarray
        (N, 2) array of 0-based (x, y) vertices.

    Returns
    -------
    str
        The region file's text, 1-based coordinates.
    """
    coords = ",".join(format(float(v) + 1, ".8g") for v in polygon.ravel())
    lines = ["# Region file format: DS9 version 4.1", _DS9_GLOBAL, "image", f"polygon({coords})"]
    return "\n".join(lines) + "\n"

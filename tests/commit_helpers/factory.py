"""Small real JWST datamodel files for the commit tests (written through stdatamodels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

REFERENCE_PIXEL = 1 << 31
NON_SCIENCE = 1 << 9
HOT = 1 << 11


def make_rate(
    path: str | Path,
    shape: tuple[int, int] = (256, 256),
    *,
    seed: int = 0,
    instrument: str = "NIRCAM",
    detector: str = "NRCB1",
    cal: bool = False,
    model: str = "ImageModel",
) -> Path:
    """Write a rate (or cal) file with SCI, ERR, DQ and VAR_* through stdatamodels."""
    from stdatamodels.jwst import datamodels

    path = Path(path)
    rng = np.random.default_rng(seed)
    ny, nx = shape
    dq = np.zeros(shape, np.uint32)
    dq[:4, :] |= REFERENCE_PIXEL | NON_SCIENCE
    dq[-4:, :] |= REFERENCE_PIXEL | NON_SCIENCE
    dq[:, :4] |= REFERENCE_PIXEL | NON_SCIENCE
    dq[:, -4:] |= REFERENCE_PIXEL | NON_SCIENCE
    hot = rng.integers(4, min(shape) - 4, size=(2, max(4, ny * nx // 4000)))
    dq[hot[0], hot[1]] |= HOT
    sci = rng.normal(0.5, 0.05, shape).astype(np.float32)
    sci[hot[0][:3], hot[1][:3]] = np.nan
    if model == "CubeModel":
        m = datamodels.CubeModel((2, ny, nx))
        m.data = np.stack([sci, sci])
    else:
        m = getattr(datamodels, model)(shape)
        m.data = sci
        m.dq = dq
        m.err = rng.uniform(0.01, 0.02, shape).astype(np.float32)
        m.var_poisson = rng.uniform(1e-4, 2e-4, shape).astype(np.float32)
        m.var_rnoise = rng.uniform(1e-5, 2e-5, shape).astype(np.float32)
        if cal:
            m.var_flat = rng.uniform(1e-6, 2e-6, shape).astype(np.float32)
    m.meta.instrument.name = instrument
    m.meta.instrument.detector = detector if instrument == "NIRCAM" else "MIRIMAGE"
    if instrument == "NIRCAM":
        m.meta.instrument.channel = "SHORT"
        m.meta.instrument.filter = "F200W"
        m.meta.instrument.pupil = "CLEAR"
        m.meta.exposure.type = "NRC_IMAGE"
    else:
        m.meta.instrument.filter = "F770W"
        m.meta.exposure.type = "MIR_IMAGE"
    m.meta.observation.date = "2022-12-20"
    m.meta.observation.time = "01:02:03.000"
    m.meta.telescope = "JWST"
    m.meta.bunit_data = "MJy/sr" if cal else "DN/s"
    if cal:
        m.meta.cal_step.photom = "COMPLETE"
    m.meta.filename = path.name
    m.save(str(path))
    m.close()
    return path


def write_mask(path: str | Path, mask: np.ndarray, *, dtype=np.uint8, **cards) -> Path:
    """Write a 0/1 mask (or a float seed image when ``dtype`` is float) as a primary HDU.

    Keyword arguments become header cards (``DETECTOR="NRCA1"``, ``FILENAME=...``).
    """
    path = Path(path)
    header = fits.Header()
    for key, value in cards.items():
        header[key] = value
    fits.PrimaryHDU(np.asarray(mask).astype(dtype), header=header).writeto(path, overwrite=True)
    return path


def read_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every image extension of a FITS file, by EXTNAME (astropy, no datamodel)."""
    out = {}
    with fits.open(path, memmap=False) as hdul:
        for hdu in hdul[1:]:
            if hdu.is_image and hdu.data is not None:
                out[hdu.name] = np.array(hdu.data)
    return out


def history_text(path: str | Path) -> str:
    """The primary header's HISTORY cards joined."""
    with fits.open(path) as hdul:
        return "".join(str(v) for v in hdul[0].header.get("HISTORY", []))

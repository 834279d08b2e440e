"""WCS of the example visit's exposures: TAN pointings and the pipeline-style gwcs."""

from __future__ import annotations

import numpy as np

from . import example as _ex

__all__ = ["pipeline_gwcs", "set_pointing", "tan_wcs"]


def tan_wcs(size: int, offset: np.ndarray):
    """Astropy WCS of the exposure whose sky sits ``offset`` pixels from exposure 1's."""
    from types import SimpleNamespace

    from astropy.wcs import WCS

    info = SimpleNamespace()
    _ex._fill_wcsinfo(info, size, _ex._PIXEL_SCALE["SHORT"])
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crpix = [info.crpix1, info.crpix2]
    wcs.wcs.crval = [info.crval1, info.crval2]
    wcs.wcs.cdelt = [info.cdelt1, info.cdelt2]
    wcs.wcs.pc = [[info.pc1_1, info.pc1_2], [info.pc2_1, info.pc2_2]]
    # The sky at pixel p of exposure 1 is at p + offset here, so the reference pixel
    # of this exposure sees what exposure 1 sees at crpix - offset.
    crval = wcs.wcs_pix2world([[info.crpix1 - offset[0], info.crpix2 - offset[1]]], 1)[0]
    wcs.wcs.crval = list(crval)
    return wcs


def set_pointing(model, size: int, offset: np.ndarray) -> None:
    """Point this exposure so that the sky sits ``offset`` pixels from exposure 1's."""
    info = model.meta.wcsinfo
    ra, dec = tan_wcs(size, offset).wcs.crval
    info.crval1 = info.ra_ref = float(ra)
    info.crval2 = info.dec_ref = float(dec)
    info.v2_ref, info.v3_ref = 0.0, 0.0
    model.meta.wcs = pipeline_gwcs(info, (size, size))
    low, high = -0.5, size - 0.5
    ra, dec = model.meta.wcs(np.array([low, high, high, low]), np.array([low, low, high, high]))
    info.s_region = "POLYGON ICRS " + " ".join(
        f"{a:.9f} {d:.9f}" for a, d in zip(ra, dec, strict=True)
    )


def pipeline_gwcs(info, shape: tuple[int, int]):
    """A gwcs detector -> world (ICRS) for a TAN projection given by ``meta.wcsinfo``."""
    from astropy import coordinates
    from astropy import units as u
    from astropy.modeling import models
    from gwcs import coordinate_frames as cf
    from gwcs import wcs

    matrix = np.array([[info.pc1_1, info.pc1_2], [info.pc2_1, info.pc2_2]]) * np.array(
        [[info.cdelt1], [info.cdelt2]]
    )
    transform = (
        (models.Shift(-(info.crpix1 - 1)) & models.Shift(-(info.crpix2 - 1)))
        | models.AffineTransformation2D(matrix=matrix)
        | models.Pix2Sky_TAN()
        | models.RotateNative2Celestial(info.crval1, info.crval2, 180.0)
    )
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    world = cf.CelestialFrame(reference_frame=coordinates.ICRS(), name="world", unit=(u.deg, u.deg))
    result = wcs.WCS([(detector, transform), (world, None)])
    ny, nx = shape
    result.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    return result

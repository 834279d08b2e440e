"""WCS of the example's exposures: the TAN projection, the visit's pointings, their gwcs.

The gwcs and ``S_REGION`` come from `ds9claw.gwcs_from_fits`, the one gwcs builder.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .gwcs_from_fits import gwcs_from_wcsinfo, s_region

__all__ = ["PIXEL_SCALE", "fill_wcsinfo", "set_pointing", "tan_wcs"]

#: Pixel scale (arcsec per pixel) of the short- and long-wave channels.
PIXEL_SCALE = {"SHORT": 0.031, "LONG": 0.063}


def fill_wcsinfo(wcsinfo: Any, size: int, pixel_scale: float) -> None:
    """Set a TAN projection rotated by 7 degrees from north up, east to the left.

    Parameters
    ----------
    wcsinfo : object
        A JWST ``meta.wcsinfo`` node, or any object taking the same attributes.
    size : int
        Pixels on a side; the reference pixel is the frame centre.
    pixel_scale : float
        Arcseconds per pixel (`PIXEL_SCALE` of the channel).
    """
    rotation = math.radians(7.0)
    cos_r, sin_r = math.cos(rotation), math.sin(rotation)
    wcsinfo.wcsaxes = 2
    wcsinfo.ctype1, wcsinfo.ctype2 = "RA---TAN", "DEC--TAN"
    wcsinfo.cunit1 = wcsinfo.cunit2 = "deg"
    wcsinfo.crpix1 = wcsinfo.crpix2 = (size + 1) / 2
    wcsinfo.crval1, wcsinfo.crval2 = 53.16, -27.78  # GOODS-S
    wcsinfo.cdelt1 = wcsinfo.cdelt2 = pixel_scale / 3600
    wcsinfo.pc1_1, wcsinfo.pc1_2 = -cos_r, sin_r
    wcsinfo.pc2_1, wcsinfo.pc2_2 = sin_r, cos_r
    wcsinfo.ra_ref, wcsinfo.dec_ref = 53.16, -27.78
    wcsinfo.roll_ref = 7.0
    wcsinfo.v3yangle = 0.0
    wcsinfo.vparity = -1


def tan_wcs(size: int, offset: np.ndarray):
    """Astropy WCS of the exposure whose sky sits ``offset`` pixels from exposure 1's."""
    from types import SimpleNamespace

    from astropy.wcs import WCS

    info = SimpleNamespace()
    fill_wcsinfo(info, size, PIXEL_SCALE["SHORT"])
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
    model.meta.wcs = gwcs_from_wcsinfo(info, (size, size))
    info.s_region = s_region(model.meta.wcs)

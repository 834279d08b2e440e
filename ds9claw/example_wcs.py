"""WCS of the example visit's exposures: TAN pointings and their gwcs.

The gwcs and ``S_REGION`` come from `ds9claw.gwcs_from_fits`, the one gwcs builder.
"""

from __future__ import annotations

import numpy as np

from . import example as _ex
from .gwcs_from_fits import gwcs_from_wcsinfo, s_region

__all__ = ["set_pointing", "tan_wcs"]


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
    model.meta.wcs = gwcs_from_wcsinfo(info, (size, size))
    info.s_region = s_region(model.meta.wcs)

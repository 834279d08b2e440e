"""Give a JWST ImageModel a gwcs built from the celestial FITS WCS of its SCI header.

Real cal files carry the gwcs that calwebb_image2's ``assign_wcs`` made from the
telescope's distortion reference files; the synthetic examples of ds9claw have only a
FITS TAN WCS.  `attach_fits_gwcs` turns that FITS WCS into a two-frame gwcs
(``detector`` -> ``world``, ICRS) with the detector's bounding box, marks
``assign_wcs`` complete and updates ``S_REGION``, so that jwst's ``ResampleStep`` can
drizzle the model.  It is meant for examples and tests; ``ds9claw preview`` itself
never invents a WCS (a cal file without a gwcs is an error there).

gwcs, astropy.coordinates and jwst are imported inside the functions.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["attach_fits_gwcs", "gwcs_from_header"]

_log = logging.getLogger(__name__)


def gwcs_from_header(header: Any, shape: tuple[int, int]) -> Any:
    """A gwcs (detector -> ICRS world) equal to the celestial FITS WCS of ``header``.

    Parameters
    ----------
    header : astropy.io.fits.Header
        A header with a celestial FITS WCS (``CTYPE``, ``CRPIX``, ``CRVAL``, ``PC`` or
        ``CD``, ``CDELT``).
    shape : tuple of int
        ``(ny, nx)`` of the image: the bounding box is the whole detector.

    Returns
    -------
    gwcs.wcs.WCS
        With frames ``detector`` and ``world`` and ``bounding_box`` set.
    """
    from astropy import coordinates
    from astropy import units as u
    from gwcs import coordinate_frames as cf
    from gwcs import wcs as gwcs_wcs
    from gwcs.utils import make_fitswcs_transform

    transform = make_fitswcs_transform(header)
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    world = cf.CelestialFrame(reference_frame=coordinates.ICRS(), name="world", unit=(u.deg, u.deg))
    wcs = gwcs_wcs.WCS([(detector, transform), (world, None)])
    ny, nx = shape
    wcs.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    wcs.pixel_shape = (nx, ny)
    return wcs


def attach_fits_gwcs(model: Any) -> Any:
    """Set ``model.meta.wcs`` from the model's FITS WCS keywords (``meta.wcsinfo``).

    Parameters
    ----------
    model : stdatamodels.jwst.datamodels.ImageModel
        A 2-D image with ``meta.wcsinfo`` filled (as the SCI header keywords).

    Returns
    -------
    stdatamodels.jwst.datamodels.ImageModel
        The same model, with ``meta.wcs``, ``meta.cal_step.assign_wcs = "COMPLETE"`` and
        ``meta.wcsinfo.s_region``.
    """
    from astropy.io import fits
    from jwst.assign_wcs.util import update_s_region_imaging

    info = model.meta.wcsinfo
    header = fits.Header()
    for key in (
        "ctype1", "ctype2", "cunit1", "cunit2", "crpix1", "crpix2", "crval1", "crval2",
        "cdelt1", "cdelt2", "pc1_1", "pc1_2", "pc2_1", "pc2_2",
    ):  # fmt: skip
        value = getattr(info, key, None)
        if value is not None:
            header[key.upper()] = value
    header["WCSAXES"] = 2
    model.meta.wcs = gwcs_from_header(header, model.data.shape)
    model.meta.cal_step.assign_wcs = "COMPLETE"
    update_s_region_imaging(model)
    _log.debug("attached a FITS-derived gwcs to %s", model.meta.filename)
    return model

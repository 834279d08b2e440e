"""Give a JWST ImageModel a gwcs built from the celestial FITS WCS of its SCI header.

Real cal files carry the gwcs that calwebb_image2's ``assign_wcs`` made from the
telescope's distortion reference files; the synthetic examples of ds9claw have only a
FITS TAN WCS.  `attach_fits_gwcs` turns that FITS WCS into a two-frame gwcs
(``detector`` -> ``world``, ICRS) with the detector's bounding box, marks
``assign_wcs`` complete and updates ``S_REGION``, so that jwst's ``ResampleStep`` can
drizzle the model.  It is meant for examples and tests; ``ds9claw preview`` itself
never invents a WCS (a cal file without a gwcs is an error there).

This is the one gwcs builder of ds9claw: `gwcs_from_wcsinfo` serves the example visit
(`ds9claw.example_visit`) and `attach_fits_gwcs` the preview tests.  `s_region` writes
``S_REGION`` the way jwst's ``assign_wcs`` does, without needing jwst (an optional
extra).

gwcs and astropy are imported inside the functions.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["attach_fits_gwcs", "gwcs_from_header", "gwcs_from_wcsinfo", "s_region"]

_log = logging.getLogger(__name__)

#: The ``meta.wcsinfo`` keywords of a celestial FITS WCS that `gwcs_from_wcsinfo` reads.
_WCSINFO_KEYS = (
    "ctype1", "ctype2", "cunit1", "cunit2", "crpix1", "crpix2", "crval1", "crval2",
    "cdelt1", "cdelt2", "pc1_1", "pc1_2", "pc2_1", "pc2_2",
)  # fmt: skip


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


def gwcs_from_wcsinfo(info: Any, shape: tuple[int, int]) -> Any:
    """A gwcs (detector -> ICRS world) from FITS WCS keywords held as attributes.

    Parameters
    ----------
    info : object
        ``model.meta.wcsinfo`` or any object with the attributes ``ctype1`` ...
        ``pc2_2`` (lower-case FITS keywords); missing or ``None`` ones are left out.
    shape : tuple of int
        ``(ny, nx)`` of the image.

    Returns
    -------
    gwcs.wcs.WCS
        As `gwcs_from_header`.
    """
    from astropy.io import fits

    header = fits.Header()
    for key in _WCSINFO_KEYS:
        value = getattr(info, key, None)
        if value is not None:
            header[key.upper()] = value
    header["WCSAXES"] = 2
    return gwcs_from_header(header, shape)


def s_region(wcs: Any) -> str:
    """The ``S_REGION`` polygon of a 2-D imaging gwcs: the corners of its bounding box.

    The same string as jwst's ``assign_wcs`` writes for imaging (the pixel-edge corners
    of the bounding box, clockwise from the bottom left, RA in 0..360, 9 decimals).

    Parameters
    ----------
    wcs : gwcs.wcs.WCS
        With ``bounding_box`` set and celestial output.

    Returns
    -------
    str
        ``"POLYGON ICRS  ra1 dec1 ... ra4 dec4"``.

    Raises
    ------
    InputError
        When a corner has no sky position (jwst would leave ``S_REGION`` as it was).
    """
    import numpy as np

    from .errors import InputError

    (x0, x1), (y0, y1) = wcs.bounding_box.bounding_box(order="F")
    ra, dec = wcs(np.array([x0, x0, x1, x1]), np.array([y0, y1, y1, y0]), with_bounding_box=False)
    ra = np.mod(ra, 360.0)
    if not (np.isfinite(ra).all() and np.isfinite(dec).all()):
        raise InputError(
            "a corner of the detector has no sky position: check the WCS keywords (meta.wcsinfo)"
        )
    corners = " ".join(f"{a:.9f} {d:.9f}" for a, d in zip(ra, dec, strict=True))
    return f"POLYGON ICRS  {corners}"


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
    model.meta.wcs = gwcs_from_wcsinfo(model.meta.wcsinfo, model.data.shape)
    model.meta.cal_step.assign_wcs = "COMPLETE"
    model.meta.wcsinfo.s_region = s_region(model.meta.wcs)
    _log.debug("attached a FITS-derived gwcs to %s", model.meta.filename)
    return model

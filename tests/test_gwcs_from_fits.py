"""The one gwcs builder (`ds9claw.gwcs_from_fits`): the FITS WCS as a gwcs, and S_REGION."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from ds9claw.example_wcs import tan_wcs
from ds9claw.gwcs_from_fits import attach_fits_gwcs, gwcs_from_wcsinfo, s_region

SIZE = 512


def _model(offset=(43.35, -33.1)):
    from stdatamodels.jwst.datamodels import ImageModel

    model = ImageModel((SIZE, SIZE))
    fits_wcs = tan_wcs(SIZE, np.array(offset))
    info = model.meta.wcsinfo
    info.ctype1, info.ctype2 = fits_wcs.wcs.ctype
    info.crpix1, info.crpix2 = (float(v) for v in fits_wcs.wcs.crpix)
    info.crval1, info.crval2 = (float(v) for v in fits_wcs.wcs.crval)
    info.cdelt1, info.cdelt2 = (float(v) for v in fits_wcs.wcs.cdelt)
    (info.pc1_1, info.pc1_2), (info.pc2_1, info.pc2_2) = fits_wcs.wcs.pc.tolist()
    return model, fits_wcs


def test_the_gwcs_is_the_fits_wcs_both_ways():
    model, fits_wcs = _model()
    wcs = gwcs_from_wcsinfo(model.meta.wcsinfo, (SIZE, SIZE))
    assert wcs.input_frame.name == "detector" and wcs.output_frame.name == "world"
    x, y = np.meshgrid(np.linspace(-0.5, SIZE - 0.5, 9), np.linspace(-0.5, SIZE - 0.5, 9))
    ra, dec = wcs(x, y)
    fits_ra, fits_dec = fits_wcs.all_pix2world(x, y, 0)
    np.testing.assert_allclose(ra, fits_ra, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dec, fits_dec, rtol=0, atol=1e-10)
    back_x, back_y = wcs.invert(ra, dec, with_bounding_box=False)
    np.testing.assert_allclose(back_x, x, atol=1e-6)
    np.testing.assert_allclose(back_y, y, atol=1e-6)
    # outside the detector there is no sky
    assert np.isnan(wcs(SIZE + 5.0, 10.0)[0])


def test_s_region_is_what_jwst_assign_wcs_writes():
    from jwst.assign_wcs.util import compute_s_region_imaging

    model, fits_wcs = _model()
    wcs = gwcs_from_wcsinfo(model.meta.wcsinfo, (SIZE, SIZE))
    assert s_region(wcs) == compute_s_region_imaging(wcs, center=False)
    values = np.array(s_region(wcs).split()[2:], float).reshape(4, 2)
    edge = SIZE - 0.5
    corners = [[-0.5, -0.5], [-0.5, edge], [edge, edge], [edge, -0.5]]
    np.testing.assert_allclose(values, fits_wcs.all_pix2world(corners, 0), rtol=0, atol=2e-9)


def test_attach_fits_gwcs_needs_no_jwst():
    code = (
        "import sys\n"
        "from stdatamodels.jwst.datamodels import ImageModel\n"
        "from ds9claw.example_wcs import fill_wcsinfo\n"
        "from ds9claw.gwcs_from_fits import attach_fits_gwcs\n"
        "model = ImageModel((64, 64))\n"
        "fill_wcsinfo(model.meta.wcsinfo, 64, 0.031)\n"
        "model = attach_fits_gwcs(model)\n"
        "assert model.meta.cal_step.assign_wcs == 'COMPLETE'\n"
        "assert model.meta.wcsinfo.s_region.startswith('POLYGON ICRS  ')\n"
        "print(sorted(m for m in sys.modules if m == 'jwst' or m.startswith('jwst.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_attach_fits_gwcs_marks_the_model_ready_to_resample():
    model, _ = _model()
    same = attach_fits_gwcs(model)
    assert same is model
    assert model.meta.cal_step.assign_wcs == "COMPLETE"
    assert model.meta.wcsinfo.s_region == s_region(model.meta.wcs)
    assert model.meta.wcs.pixel_shape == (SIZE, SIZE)

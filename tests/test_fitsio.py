"""Reading every kind of input image the tool accepts."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.errors import InputError
from ds9claw.fitsio import exposure_from_bytes, read_exposure
from ds9claw.names import stem_of
from ds9claw.products import output_paths


def test_jwst_cal_reads_sci_dq_and_wcs(example_small):
    exposure = read_exposure(example_small.cal)
    sci = fits.getdata(example_small.cal, "SCI")
    dq = fits.getdata(example_small.cal, "DQ")
    assert exposure.extname == "SCI"
    np.testing.assert_array_equal(exposure.image, sci)
    np.testing.assert_array_equal(exposure.dq, dq)
    assert exposure.header["CTYPE1"].startswith("RA---TAN")
    assert exposure.primary_header["INSTRUME"] == "NIRCAM"


def test_gzipped_cal_gives_the_same_pixels(example_small, tmp_path):
    target = tmp_path / (example_small.cal.name + ".gz")
    with open(example_small.cal, "rb") as source, gzip.open(target, "wb") as zipped:
        shutil.copyfileobj(source, zipped)
    plain = read_exposure(example_small.cal)
    packed = read_exposure(target)
    np.testing.assert_array_equal(plain.image, packed.image)
    np.testing.assert_array_equal(plain.dq, packed.dq)
    assert stem_of(target) == example_small.cal.name.removesuffix(".fits")
    assert output_paths(target, "_s")["mask"].name == stem_of(target) + "_s_zeroonemask.fits"


def test_plain_primary_and_first_2d_extension(tmp_path):
    data = np.arange(20.0).reshape(4, 5)
    primary = tmp_path / "primary.fits"
    fits.PrimaryHDU(data).writeto(primary)
    exposure = read_exposure(primary)
    assert exposure.extname == "PRIMARY" and exposure.dq is None
    np.testing.assert_array_equal(exposure.image, data)
    extension = tmp_path / "ext.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data * 2, name="IMG")]).writeto(extension)
    exposure = read_exposure(extension)
    assert exposure.extname == "IMG"
    np.testing.assert_array_equal(exposure.image, data * 2)
    raw = extension.read_bytes()
    from_bytes = exposure_from_bytes(raw, name="DS9 frame 1")
    np.testing.assert_array_equal(from_bytes.image, data * 2)
    assert from_bytes.path is None and from_bytes.name == "DS9 frame 1"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"garbage" * 100, "not a readable FITS")],
)
def test_bad_bytes(content, message):
    with pytest.raises(InputError, match=message):
        exposure_from_bytes(content, name="DS9 frame 2")


def test_cube_and_directory(tmp_path):
    cube = tmp_path / "cube.fits"
    fits.PrimaryHDU(np.zeros((2, 3, 4))).writeto(cube)
    with pytest.raises(InputError, match=r"3-D cube \(4x3x2\)"):
        read_exposure(cube)
    with pytest.raises(InputError, match="is a directory"):
        read_exposure(tmp_path)

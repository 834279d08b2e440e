"""Each kind of mask file commit accepts, told from exposures by content (ds9claw.maskfile)."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from commit_helpers.factory import make_rate, read_arrays

from ds9claw.commit import commit_mask, load_masks
from ds9claw.dq import DEFAULT_COMMIT_FLAGS, interpret_flags
from ds9claw.errors import InputError
from ds9claw.maskfile import EXPOSURE_MESSAGE, MASK_KINDS

BITS = interpret_flags(DEFAULT_COMMIT_FLAGS)
REPO = Path(__file__).resolve().parents[1]


def _claws(shape) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[40:90, 100:300] = True
    mask[300:320, 20:60] = True
    return mask


def _sci_header(path: Path) -> fits.Header:
    with fits.open(path) as hdul:
        return hdul["SCI"].header.copy()


def _old_script_product(path: Path, data: np.ndarray, cal: Path) -> Path:
    """As util_detect_source_and_create_seed_image.py writes it: the cal's SCI header whole."""
    header = _sci_header(cal)
    header["SMOOTH"] = (1.0, "Gaussian2DKernel stddev in pixel")
    fits.PrimaryHDU(data=data, header=header).writeto(path)
    return path


def _assert_committed_exactly(rate: Path, before: dict, mask: np.ndarray, report) -> None:
    assert report.status == "committed" and report.n_masked == int(mask.sum())
    after = read_arrays(rate)
    expected = before["DQ"].copy()
    expected[mask] |= np.uint32(BITS)
    np.testing.assert_array_equal(after["DQ"], expected)
    assert np.all(after["SCI"][mask] == 0.0)
    np.testing.assert_array_equal(after["SCI"][~mask], before["SCI"][~mask])


def test_old_script_zero_one_mask(example_copy, tmp_path):
    rate = example_copy.rate
    claws = _claws((512, 512))
    path = _old_script_product(
        tmp_path / "x_cal_claws_seed_image_zeroonemask.fits",
        claws.astype(np.int64),
        example_copy.cal,
    )
    with fits.open(path) as hdul:  # what makes the old check refuse it
        assert hdul[0].header["EXTNAME"] == "SCI" and hdul[0].data.dtype.kind == "i"
    before = read_arrays(rate)
    loaded = load_masks([path], (512, 512), header=_sci_header(rate))
    assert loaded[0].description == MASK_KINDS["old-zero-one"]
    report = commit_mask(rate, [path])
    _assert_committed_exactly(rate, before, claws, report)
    assert f"mask {path.name} is the {MASK_KINDS['old-zero-one']}" in report.notes


def test_old_script_seed_image_gzipped(example_copy, tmp_path):
    rate = example_copy.rate
    claws = _claws((512, 512))
    seed = np.zeros((512, 512))
    seed[claws] = np.linspace(0.002, 1.0, int(claws.sum()))
    plain = _old_script_product(tmp_path / "seed.fits", seed, example_copy.cal)
    path = tmp_path / "x_cal_claws_seed_image.fits.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    before = read_arrays(rate)
    loaded = load_masks([path], (512, 512))
    assert loaded[0].description == MASK_KINDS["old-seed"]
    np.testing.assert_array_equal(loaded[0].mask, claws)
    _assert_committed_exactly(rate, before, claws, commit_mask(rate, [path]))


@pytest.mark.parametrize("product", ["mask", "seed"])
def test_ds9claw_detect_products(example_copy, tmp_path, product):
    from ds9claw.api import detect_file

    (tmp_path / "products").mkdir()
    products = detect_file(
        example_copy.cal, include=[example_copy.region], output_dir=tmp_path / "products"
    )
    path = products.mask_path if product == "mask" else products.seed_path
    expected = products.result.mask
    assert expected.sum() > 100
    before = read_arrays(example_copy.rate)
    loaded = load_masks([path], expected.shape)
    assert loaded[0].description == MASK_KINDS["ds9claw"]
    report = commit_mask(example_copy.rate, [path])
    _assert_committed_exactly(example_copy.rate, before, expected, report)


@pytest.mark.parametrize("where", ["primary", "extension"])
def test_plain_2d_fits_image(tmp_path, where):
    shape = (256, 256)
    rate = make_rate(tmp_path / "jw01345001001_02201_00001_nrcb1_rate.fits", shape)
    claws = _claws(shape)
    path = tmp_path / "hand_made_mask.fits"
    data = claws.astype(np.uint8) * 255  # any whole numbers >= 0: > 0 is masked
    if where == "primary":
        fits.PrimaryHDU(data).writeto(path)
    else:
        fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="MASK")]).writeto(path)
    before = read_arrays(rate)
    assert load_masks([path], shape)[0].description == MASK_KINDS["image"]
    _assert_committed_exactly(rate, before, claws, commit_mask(rate, [path]))


@pytest.mark.parametrize("which", ["rate", "cal"])
def test_rate_or_cal_as_mask_is_refused_with_the_same_message(example_copy, which):
    target = example_copy.rate
    given = example_copy.rate if which == "rate" else example_copy.cal
    before = target.read_bytes()
    listing = sorted(target.parent.iterdir())
    with pytest.raises(InputError) as info:
        commit_mask(target, [given])
    assert str(info.value) == EXPOSURE_MESSAGE.format(path=given)
    assert str(info.value) == (
        f"mask {given} is an exposure (it has a SCI extension or a DATAMODL keyword), not a "
        "mask: give the _zeroonemask or seed image file"
    )
    assert target.read_bytes() == before and sorted(target.parent.iterdir()) == listing


def test_exposures_without_datamodl_are_refused(tmp_path):
    shape = (64, 64)
    sci = np.random.default_rng(1).normal(0.0, 0.1, shape).astype(np.float32)
    with_dq = tmp_path / "with_dq.fits"
    fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.ImageHDU(sci, name="SCI"),
            fits.ImageHDU(np.zeros(shape, "u4"), name="DQ"),
        ]
    ).writeto(with_dq)
    sci_only = tmp_path / "sci_only.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(sci, name="SCI")]).writeto(sci_only)
    for path in (with_dq, sci_only):
        with pytest.raises(InputError) as info:
            load_masks([path], shape)
        assert str(info.value) == EXPOSURE_MESSAGE.format(path=path)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (np.array([-0.2, 0.0, 3.0]), "negative values (down to -0.2)"),
        (np.array([0.0, 0.5, 37.25]), "fractional values above 1 (up to 37.25)"),
    ],
)
def test_science_images_are_not_masks(tmp_path, values, reason):
    shape = (32, 32)
    data = np.zeros(shape, np.float32)
    data[0, : values.size] = values
    path = tmp_path / "image.fits"
    fits.PrimaryHDU(data).writeto(path)
    with pytest.raises(InputError, match="is not a mask: it has " + re.escape(reason)):
        load_masks([path], shape)


def test_exposure_as_mask_on_the_command_line(example_copy):
    rate, cal = example_copy.rate, example_copy.cal
    before = rate.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "ds9claw", "commit", rate.name, cal.name],
        cwd=rate.parent,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "ds9claw: error: " + EXPOSURE_MESSAGE.format(path=cal.name)
    assert rate.read_bytes() == before

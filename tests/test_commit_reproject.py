"""Masks made on another pixel grid are reprojected onto the rate's through the two WCSs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from commit_helpers.factory import make_rate, read_arrays, write_mask

from ds9claw.commit import commit_mask, load_masks
from ds9claw.dq import DEFAULT_COMMIT_FLAGS, interpret_flags
from ds9claw.errors import InputError

BITS = interpret_flags(DEFAULT_COMMIT_FLAGS)
REPO = Path(__file__).resolve().parents[1]


def _wcs_of(path: Path) -> WCS:
    with fits.open(path) as hdul:
        return WCS(hdul["SCI"].header)


def _shifted_mask(example, tmp_path, dx=30, dy=40, shape=(600, 580)):
    """A mask on a bigger grid whose pixel (x + dx, y + dy) is the rate's pixel (x, y)."""
    header = _wcs_of(example.rate).to_header()
    header["CRPIX1"] += dx
    header["CRPIX2"] += dy
    mask = np.zeros(shape, np.uint8)
    mask[100:180, 60:400] = 1  # on the rate
    mask[500:590, 500:570] = 1  # off the rate: lost
    path = tmp_path / f"mosaic_{shape[0]}_claws_zeroonemask.fits"
    fits.PrimaryHDU(mask, header=header).writeto(path)
    expected = mask[dy : dy + 512, dx : dx + 512].astype(bool)
    return path, expected


def test_shifted_grid_is_reprojected_exactly(example_copy, tmp_path):
    path, expected = _shifted_mask(example_copy, tmp_path)
    rate = example_copy.rate
    before = read_arrays(rate)
    with fits.open(rate) as hdul:
        header = hdul["SCI"].header
    loaded = load_masks([path], (512, 512), header=header)
    assert loaded[0].reprojected_from == (600, 580)
    np.testing.assert_array_equal(loaded[0].mask, expected)

    report = commit_mask(rate, [path])
    assert report.status == "committed" and report.n_masked == int(expected.sum()) > 1000
    note = (
        f"mask {path.name} (580x600, plain 2-D FITS image) was reprojected onto the 512x512 "
        f"grid through the two WCSs: {int(expected.sum())} pixels"
    )
    assert note in report.notes
    after = read_arrays(rate)
    dq = before["DQ"].copy()
    dq[expected] |= np.uint32(BITS)
    np.testing.assert_array_equal(after["DQ"], dq)


def test_coarser_rotated_mosaic_mask(example_copy, tmp_path):
    """A mask on a mosaic with twice the pixel size, rotated by 20 degrees."""
    target_wcs = _wcs_of(example_copy.rate)
    centre = target_wcs.pixel_to_world(300.0, 200.0)
    mosaic = target_wcs.deepcopy()
    angle = np.radians(20.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mosaic.wcs.pc = rotation @ target_wcs.wcs.get_pc()
    mosaic.wcs.cdelt = target_wcs.wcs.cdelt * 2
    mosaic.wcs.crpix = [200.5, 200.5]
    cx, cy = mosaic.world_to_pixel(centre)
    yy, xx = np.mgrid[0:400, 0:400]
    disk = np.hypot(xx - cx, yy - cy) <= 20.0  # 20 mosaic pixels = 40 rate pixels
    path = tmp_path / "mosaic_seed.fits"
    fits.PrimaryHDU(disk.astype(np.float32) * 0.8, header=mosaic.to_header()).writeto(path)

    report = commit_mask(example_copy.rate, [path])
    dq = read_arrays(example_copy.rate)["DQ"]
    flagged = (dq & BITS) == BITS
    ty, tx = np.mgrid[0:512, 0:512]
    distance = np.hypot(tx - 300.0, ty - 200.0)
    assert flagged[distance <= 37.0].all()  # the disk, less one mosaic pixel
    assert not flagged[distance > 44.0].any()  # at most one mosaic pixel more (touching)
    assert abs(report.n_masked - np.pi * 40**2) < 0.15 * np.pi * 40**2
    assert any("was reprojected onto the 512x512 grid" in n for n in report.notes)


def test_another_shape_without_wcs_stays_an_error(example_copy, tmp_path):
    no_wcs = write_mask(tmp_path / "small_mask.fits", np.ones((128, 100), np.uint8))
    rate = example_copy.rate
    before = rate.read_bytes()
    with pytest.raises(InputError) as info:
        commit_mask(rate, [no_wcs])
    message = str(info.value)
    assert "100x128" in message and "512x512" in message
    assert "the mask has no celestial WCS to reproject it" in message
    assert rate.read_bytes() == before
    # a rate without WCS (the factory's) and a mask with one
    plain_rate = make_rate(tmp_path / "jw01345001001_02201_00001_nrcb1_rate.fits", (256, 256))
    with_wcs, _ = _shifted_mask(example_copy, tmp_path, shape=(600, 600))
    with pytest.raises(InputError, match="and the rate has no celestial WCS to reproject it"):
        commit_mask(plain_rate, [with_wcs])
    with pytest.raises(InputError, match="and neither file has a celestial WCS"):
        commit_mask(plain_rate, [no_wcs])


def test_reprojection_is_reported_on_the_command_line(example_copy, tmp_path):
    path, expected = _shifted_mask(example_copy, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "ds9claw", "commit", str(example_copy.rate), str(path)],
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"flagged {int(expected.sum())} pixels" in done.stdout
    assert f"was reprojected onto the 512x512 grid through the two WCSs: {int(expected.sum())}" in (
        done.stdout
    )


def test_reproject_is_imported_only_when_needed(example_copy):
    code = (
        "import sys; from ds9claw.commit import commit_mask; "
        f"commit_mask({str(example_copy.rate)!r}, [{str(example_copy.truth)!r}]); "
        "print('reproject' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_reprojection_is_reported_in_a_batch(example_copy, tmp_path):
    path, expected = _shifted_mask(example_copy, tmp_path)
    rates = []
    for name in (
        "jw09999001001_02101_00001_nrcb1_rate.fits",
        "jw09999001001_02101_00002_nrcb1_rate.fits",
    ):
        target = tmp_path / "batch" / name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(example_copy.rate.read_bytes())
        rates.append(target)
    done = subprocess.run(
        [sys.executable, "-m", "ds9claw", "commit", *map(str, rates), "--mask", str(path)],
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2 files: 2 committed" in done.stdout
    for rate in rates:
        assert (
            f"  note: {rate}: mask {path.name} (580x600, plain 2-D FITS image) was reprojected "
            f"onto the 512x512 grid through the two WCSs: {int(expected.sum())} pixels"
        ) in done.stdout

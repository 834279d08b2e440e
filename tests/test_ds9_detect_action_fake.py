"""Detect claws (`ds9claw.ds9.detect_action.detect`) against the recording fake Transport.

One exposure in frame 1: the exact XPA commands, and the seed and mask FITS sent to DS9.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from astropy.io import fits
from fakes import IMAGE_FRAME_QUERIES, expected_claw_mask, one_exposure

from ds9claw.detect import DetectionParameters, NoDetectionWarning
from ds9claw.ds9.actions import detect
from ds9claw.errors import RegionError

PARAMS = DetectionParameters(ignore_background=True)

#: What DS9 is asked before anything is shown: the image frame, its file, regions, pixels.
QUESTIONS = [
    *IMAGE_FRAME_QUERIES,
    ("get", "regions -format ds9 -system image"),
    ("get", "fits"),
]

#: What DS9 shows, asked in the first request of `show_products`.
SCREEN_QUESTIONS = [
    ("get", "tile"),
    ("get", "tile mode"),
    ("get", "tile grid mode"),
    ("get", "tile grid layout"),
    ("get", "lock frame"),
    ("get", "frame all"),
]


def _sent_fits(ds9, name: str) -> fits.PrimaryHDU:
    with fits.open(io.BytesIO(ds9.payload(f"fits {{{name}}}"))) as hdul:
        return fits.PrimaryHDU(hdul[0].data.copy(), hdul[0].header.copy())


def test_first_detect_makes_two_frames_and_sends_seed_and_mask(tmp_path):
    ds9, cal = one_exposure(tmp_path)
    seed_name = str(tmp_path.resolve() / "X_nrcb1_cal_claws_seed_image.fits")
    mask_name = str(tmp_path.resolve() / "X_nrcb1_cal_claws_seed_image_zeroonemask.fits")

    report = detect(ds9, params=PARAMS)

    # each new frame is checked in DS9 to be the one expected before anything goes in
    checks = [c for k, c in ds9.sent if c.startswith("tcl {if {$::current(frame) ne ")]
    assert [c.split('"')[1] for c in checks] == ["Frame2", "Frame3"]
    assert [c for c in ds9.sent if c[1] not in checks] == [
        *QUESTIONS,
        # one request: what DS9 shows, and the scale of the image frame
        *SCREEN_QUESTIONS,
        ("set", "frame 1"),
        ("get", "scale mode"),
        # one request: two new frames, the layout, seed and mask (from files DS9 reads),
        # back to the image
        ("set", "frame new"),
        ("set", "frame new"),
        ("set", "tile mode grid"),
        ("set", "tile grid mode manual"),
        ("set", "tile grid layout 3 1"),
        ("set", "tile yes"),
        ("set", "frame 2"),
        ("set", "scale linear"),
        ("set", "scale mode minmax"),
        ("set", f"fits {{{seed_name}}}"),
        ("set", "frame 3"),
        ("set", "scale linear"),
        ("set", "scale mode minmax"),
        ("set", f"fits {{{mask_name}}}"),
        ("set", "frame 1"),
        ("set", "scale mode zscale"),
        ("set", "lock frame image"),
        ("set", "tcl {update idletasks}"),
        ("set", "zoom to fit"),
        ("get", "frame all"),
    ]
    # the claw inside the region, without the pixel DQ flags DO_NOT_USE (read from the file)
    mask = _sent_fits(ds9, mask_name)
    assert mask.data.dtype.type is np.uint8
    np.testing.assert_array_equal(mask.data, expected_claw_mask())
    assert int(mask.data.sum()) == 47
    seed = _sent_fits(ds9, seed_name)
    assert seed.data.dtype.newbyteorder("=") == np.float32
    np.testing.assert_array_equal(seed.data, expected_claw_mask().astype(np.float32))
    source = hashlib.sha1(f"{cal}[SCI]".encode()).hexdigest()[:16]
    for hdu, role in ((seed, "seed"), (mask, "mask")):
        assert (hdu.header["CLAWROLE"], hdu.header["CLAWSRCH"]) == (role, source)
        assert hdu.header["CLAWSRCN"] == "X_nrcb1_cal.fits"
        assert hdu.header["CLAWNPIX"] == 47
        assert hdu.header["CLAWRMS"] == 1.0
    # the products on disk hold the pixels DS9 shows
    np.testing.assert_array_equal(fits.getdata(mask_name), mask.data)
    np.testing.assert_array_equal(fits.getdata(seed_name), seed.data)
    assert (report.seed_frame, report.mask_frame, report.reused) == (2, 3, False)
    assert (report.n_masked, report.n_regions, report.n_exclude) == (47, 1, 0)
    assert ds9.current == 1 and sorted(ds9.frames) == [1, 2, 3]
    assert ds9.settings["tile grid layout"] == "1"


def test_second_detect_reuses_the_frames_and_leaves_the_layout(tmp_path):
    ds9, _ = one_exposure(tmp_path)
    detect(ds9, params=PARAMS)
    first = len(ds9.sent)

    with pytest.warns(NoDetectionWarning):
        report = detect(ds9, params=DetectionParameters(ignore_background=True, sigma=100))

    seed_name = str(tmp_path.resolve() / "X_nrcb1_cal_claws_seed_image.fits")
    mask_name = str(tmp_path.resolve() / "X_nrcb1_cal_claws_seed_image_zeroonemask.fits")
    assert ds9.sent[first:] == [
        *QUESTIONS,
        *SCREEN_QUESTIONS,
        ("set", "frame 2"),
        ("get", "fits header keyword CLAWROLE"),
        ("get", "fits header keyword CLAWSRCH"),
        ("set", "frame 3"),
        ("get", "fits header keyword CLAWROLE"),
        ("get", "fits header keyword CLAWSRCH"),
        ("get", "scale mode"),
        ("get", "scale mode"),
        ("set", "frame 1"),
        ("get", "scale mode"),
        # the frames are where they belong and the layout is Detect's: only the images
        ("set", "frame 2"),
        ("set", f"fits {{{seed_name}}}"),
        ("set", "frame 3"),
        ("set", f"fits {{{mask_name}}}"),
        ("set", "frame 1"),
        ("set", "zoom to fit"),
        ("get", "frame all"),
    ]
    assert (report.seed_frame, report.mask_frame, report.reused) == (2, 3, True)
    # a threshold of 100 sigma leaves nothing: the empty mask replaces the first one
    assert report.n_masked == 0
    assert ds9.frames[3].cards["CLAWROLE"] == "mask"
    with fits.open(io.BytesIO(ds9.frames[3].fits)) as hdul:
        assert int(hdul[0].data.sum()) == 0


def test_detect_without_writing_names_the_frames_only(tmp_path):
    ds9, _ = one_exposure(tmp_path)
    report = detect(ds9, params=PARAMS, write=False, suffix="_trial")
    assert [c for c in ds9.sets() if c.startswith("fits ")] == [
        "fits {X_nrcb1_cal_trial.fits}",
        "fits {X_nrcb1_cal_trial_zeroonemask.fits}",
    ]
    assert (report.seed_path, report.mask_path) == (None, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X_nrcb1_cal.fits"]
    with fits.open(io.BytesIO(ds9.payload("fits {X_nrcb1_cal_trial_zeroonemask"))) as hdul:
        np.testing.assert_array_equal(hdul[0].data, expected_claw_mask())


def test_detect_with_given_regions_does_not_ask_for_the_frames(tmp_path):
    ds9, _ = one_exposure(tmp_path)
    ds9.frames[1].regions = ""
    report = detect(
        ds9,
        params=PARAMS,
        write=False,
        regions_text="image\nbox(30.5,30.5,40,40,0)\n",
    )
    assert ("get", "regions -format ds9 -system image") not in ds9.sent
    assert report.n_masked == 47


def test_detect_without_a_region_shows_nothing(tmp_path):
    ds9, _ = one_exposure(tmp_path)
    ds9.frames[1].regions = "# Region file format: DS9 version 4.1\nimage\n"
    with pytest.raises(RegionError, match="no region drawn on DS9 frame 1"):
        detect(ds9, params=PARAMS)
    assert ds9.sent == QUESTIONS
    assert sorted(ds9.frames) == [1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X_nrcb1_cal.fits"]


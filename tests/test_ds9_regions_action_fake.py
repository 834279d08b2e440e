"""Mask to regions (`ds9claw.ds9.regions_action.mask_to_regions`) against the fake DS9."""

from __future__ import annotations

import pytest
from fakes import (
    IMAGE_FRAME_QUERIES,
    PRODUCT_FRAME_QUERIES,
    REGION_AROUND_CLAW,
    RecordingTransport,
    one_exposure,
)

from ds9claw.detect import DetectionParameters
from ds9claw.ds9.actions import detect, mask_to_regions
from ds9claw.errors import InputError

#: The claw of `one_exposure` (x 31-38, y 21-26, 1-based), grown by the 2-pixel margin and
#: traced with the default tolerance (0.75 pixels).
TRACED = (
    "# Region file format: DS9 version 4.1\n"
    'global color=magenta dashlist=8 3 width=1 font="helvetica 10 normal roman" select=1 '
    "highlite=1 dash=0 fixed=0 edit=1 move=1 delete=1 include=1 source=1\n"
    "image\n"
    "polygon(40.00,28.50,29.00,28.50,28.50,19.00,40.00,18.50) # tag={ds9claw}\n"
)

#: Finding the image frame and its products, then reading the mask frame.
READ_MASK = [
    *IMAGE_FRAME_QUERIES,
    *PRODUCT_FRAME_QUERIES,
    ("set", "frame 3"),
    ("get", "fits"),
    ("set", "frame 1"),
]


def _detected(tmp_path) -> RecordingTransport:
    ds9, _ = one_exposure(tmp_path)
    detect(ds9, params=DetectionParameters(ignore_background=True), write=False)
    ds9.frames[1].regions += "circle(5,5,2) # tag={mine}\n"
    del ds9.sent[:]
    return ds9


def test_traced_polygons_join_the_observers_regions(tmp_path):
    ds9 = _detected(tmp_path)
    report = mask_to_regions(ds9)
    assert ds9.sent == [
        *READ_MASK,
        ("set", "regions group ds9claw delete"),
        ("set", "regions"),
    ]
    assert ds9.payload("regions").decode() == TRACED
    assert ds9.frames[1].regions == REGION_AROUND_CLAW + "circle(5,5,2) # tag={mine}\n" + TRACED
    assert (report.n_polygons, report.replaced, report.backup) == (1, 0, None)


def test_tracing_again_replaces_only_the_earlier_trace(tmp_path):
    ds9 = _detected(tmp_path)
    mask_to_regions(ds9)
    mask_to_regions(ds9)
    assert ds9.frames[1].regions.count("tag={ds9claw}") == 1
    assert "circle(5,5,2) # tag={mine}" in ds9.frames[1].regions


def test_replace_saves_the_observers_regions_first(tmp_path):
    ds9 = _detected(tmp_path)
    before = ds9.frames[1].regions
    report = mask_to_regions(ds9, replace=True)
    assert ds9.sent == [
        *READ_MASK,
        ("set", "regions group ds9claw delete"),
        ("get", "regions -format ds9 -system image"),
        ("set", "regions delete all"),
        ("set", "regions"),
    ]
    backup = tmp_path.resolve() / "X_nrcb1_cal_claws_regions_before_trace.reg"
    assert (report.replaced, report.backup) == (2, backup)
    assert backup.read_text() == before
    assert ds9.frames[1].regions == TRACED
    # only the earlier trace there: nothing to keep
    assert mask_to_regions(ds9, replace=True).backup is None
    # a new region of the observer goes to the next free name, the first backup stays
    ds9.frames[1].regions += "circle(7,7,1) # tag={later}\n"
    second = mask_to_regions(ds9, replace=True)
    assert second.backup == backup.with_name(backup.name + ".bak")
    assert "circle(7,7,1) # tag={later}" in second.backup.read_text()
    assert backup.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".fits") == [
        "X_nrcb1_cal_claws_regions_before_trace.reg",
        "X_nrcb1_cal_claws_regions_before_trace.reg.bak",
    ]


def test_no_mask_yet_sends_no_region(tmp_path):
    ds9, _ = one_exposure(tmp_path)
    with pytest.raises(InputError, match="no mask yet for frame 1"):
        mask_to_regions(ds9)
    assert ds9.sets() == ["frame 1"]
    assert ds9.frames[1].regions == REGION_AROUND_CLAW

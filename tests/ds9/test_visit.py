"""The visit in DS9 (issue 13): four exposures at once, review one at a time, regions carried.

Real DS9, real menu clicks, the example visit of ``ds9claw example --visit 4`` (256 px).
After each entry: the active frames and their order, the tiling, the current frame, the
lock, each product frame's pixels against its files, the observer's regions.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.ds9.load import load_visit
from ds9claw.example_visit import make_example_visit

pytestmark = pytest.mark.ds9

SEED = "_claws_seed_image.fits"
MASK = "_claws_seed_image_zeroonemask.fits"


def _box_region(truth: np.ndarray) -> str:
    ys, xs = np.nonzero(truth)
    x0, x1 = xs.min() - 2 + 1, xs.max() + 2 + 1
    y0, y1 = ys.min() - 2 + 1, ys.max() + 2 + 1
    return f"image\npolygon({x0},{y0},{x1},{y0},{x1},{y1},{x0},{y1})\n"


@pytest.fixture(scope="module")
def visit_master(tmp_path_factory):
    directory = tmp_path_factory.mktemp("visit4")
    return make_example_visit(directory, n_exposures=4, size=256, seed=13)


@pytest.fixture
def visit(visit_master, tmp_path):
    """A private copy of the four-exposure visit, with a region file for each exposure."""
    cals = []
    for exposure in visit_master.exposures:
        for path in (exposure.cal, exposure.rate):
            shutil.copy2(path, tmp_path / path.name)
        cal = tmp_path / exposure.cal.name
        region = cal.with_name(cal.name.replace(".fits", "_claws.pix.reg"))
        region.write_text(_box_region(exposure.load_truth()))
        cals.append(cal)
    return cals


def _shapes(text: str) -> list[str]:
    return sorted(line for line in text.splitlines() if "(" in line and "tag={ds9claw" not in line)


def _active(ds9) -> list[int]:
    return [int(x) for x in ds9.get("frame active").split()]


def _view(ds9) -> dict:
    return {
        "active": _active(ds9),
        "current": ds9.get("frame"),
        "tile": ds9.get("tile"),
        "mode": ds9.get("tile mode"),
        "lock": ds9.get("lock frame"),
        "zoom": round(float(ds9.get("zoom")), 4),
    }


def _open(ds9, cals):
    report = load_visit(ds9.t, cals)
    assert report.frames == [1, 2, 3, 4]
    return report


def _observer_view(ds9):
    """The observer tiles the visit 2 x 2, zooms out and works on frame 2."""
    ds9.set("tile grid mode automatic")
    ds9.set("frame 2")
    ds9.set("zoom to 0.5")
    return _view(ds9)


def _regions_of(ds9, frames):
    out = {}
    for frame in frames:
        ds9.set(f"frame {frame}")
        out[frame] = _shapes(ds9.regions())
    return out


def _products_match_files(ds9, cal, seed_frame, mask_frame):
    stem = cal.name[: -len(".fits")]
    seed = fits.getdata(cal.with_name(stem + SEED))
    mask = fits.getdata(cal.with_name(stem + MASK))
    np.testing.assert_array_equal(ds9.frame_data(seed_frame), seed)
    np.testing.assert_array_equal(ds9.frame_data(mask_frame), mask)
    assert mask.sum() > 0
    header = ds9.frame_header(seed_frame)
    assert header["CLAWSRCN"] == cal.name


def test_load_opens_the_visit_like_the_notes(ds9, visit):
    report = _open(ds9, visit)
    assert len(report.regions) == 4
    assert _active(ds9) == [1, 2, 3, 4]
    assert ds9.get("lock frame") == "image" and ds9.get("tile") == "yes"
    assert ds9.get("frame") == "1"
    for frame, cal in zip(report.frames, visit, strict=True):
        ds9.set(f"frame {frame}")
        assert ds9.get("scale mode") == "zscale"
        np.testing.assert_array_equal(ds9.frame_data(frame), fits.getdata(cal, "SCI"))
        expected = _shapes(cal.with_name(cal.name.replace(".fits", "_claws.pix.reg")).read_text())
        assert _shapes(ds9.regions()) == expected


def test_detect_all_then_review_round_trip(ds9, visit):
    _open(ds9, visit)
    observer = _observer_view(ds9)
    regions_before = _regions_of(ds9, [1, 2, 3, 4])
    ds9.set("frame 2")
    ds9.set("zoom to 0.5")
    assert _view(ds9) == observer

    text = ds9.task("Detect claws in all frames", timeout=180)
    lines = text.splitlines()
    for number, cal in enumerate(visit, start=1):
        assert f"[{number}/4] {cal.name}[SCI]" in lines, text
    assert "detected claws in 4 of 4 exposure(s)" in text
    assert all(len(line) <= 80 for line in lines), text

    # products are frames 5..12 (seed, mask of each exposure), put after their image
    assert ds9.frames() == [1, 5, 6, 2, 7, 8, 3, 9, 10, 4, 11, 12]
    # review of the first exposure: only its three frames, one row, locked, current 1
    assert _active(ds9) == [1, 5, 6]
    assert ds9.get("frame") == "1"
    assert ds9.get("tile") == "yes" and ds9.get("tile mode") == "column"
    assert ds9.get("lock frame") == "image"

    # next, next, next, next: each exposure in turn, then back to the first
    expected = [[2, 7, 8], [3, 9, 10], [4, 11, 12], [1, 5, 6]]
    for frames in expected:
        out = ds9.task("Review next exposure")
        assert _active(ds9) == frames, out
        assert ds9.get("frame") == str(frames[0])
        assert ds9.get("tile mode") == "column" and ds9.get("lock frame") == "image"
        assert out.startswith("ds9claw: reviewing exposure")
    out = ds9.task("Review previous exposure")
    assert _active(ds9) == [4, 11, 12], out

    # the whole visit, exactly as the observer had it
    out = ds9.task("Show the whole visit")
    assert _view(ds9) == observer, out
    # and again after another review: the same
    ds9.task("Review next exposure")
    ds9.task("Show the whole visit")
    assert _view(ds9) == observer

    assert _regions_of(ds9, [1, 2, 3, 4]) == regions_before
    for image, seed, mask in ([1, 5, 6], [2, 7, 8], [3, 9, 10], [4, 11, 12]):
        _products_match_files(ds9, visit[image - 1], seed, mask)
        ds9.set(f"frame {seed}")
        stem = visit[image - 1].name[: -len(".fits")]
        labels = ds9.get("regions -format ds9 -system image")
        assert "text={seed}" in labels and f"text={{{stem}}}" in labels


def test_single_detect_reviews_this_exposure(ds9, visit):
    _open(ds9, visit)
    ds9.set("frame 3")
    before = _view(ds9)
    regions_before = _regions_of(ds9, [1, 2, 3, 4])
    ds9.set("frame 3")
    text = ds9.task("Detect claws")
    assert "pixels masked" in text, text
    assert _active(ds9) == [3, 5, 6]
    assert ds9.get("frame") == "3" and ds9.get("lock frame") == "image"
    ds9.task("Show the whole visit")
    assert _view(ds9) == before
    # the product frames stay out of the visit's tiling
    assert 5 not in _active(ds9) and 6 not in _active(ds9)
    assert _regions_of(ds9, [1, 2, 3, 4]) == regions_before
    _products_match_files(ds9, visit[2], 5, 6)


def test_clear_exposure_and_clear_all_restore_the_view(ds9, visit):
    _open(ds9, visit)
    observer = _observer_view(ds9)
    ds9.task("Detect claws in all frames", timeout=180)
    ds9.task("Review next exposure")  # exposure 2: frames 2, 7, 8
    text = ds9.task("Clear this exposure's ds9claw frames")
    assert "7, 8" in text, text
    assert ds9.frames() == [1, 5, 6, 2, 3, 9, 10, 4, 11, 12]
    view = _view(ds9)
    assert view["active"] == [1, 2, 3, 4] and view["zoom"] == observer["zoom"]
    assert view["mode"] == observer["mode"] and view["lock"] == "image"
    assert view["current"] == "2"
    ds9.task("Clear all ds9claw frames")
    assert ds9.frames() == [1, 2, 3, 4]
    assert _view(ds9)["zoom"] == observer["zoom"]


def test_save_load_and_copy_regions(ds9, visit):
    _open(ds9, visit)
    regions = {p: p.with_name(p.name.replace(".fits", "_claws.pix.reg")) for p in visit}
    originals = {p: regions[p].read_text() for p in visit}
    # the observer adds a circle on frame 1 and saves all frames
    ds9.set("frame 1")
    ds9.draw("image; circle(100,100,10)")
    text = ds9.task("Save regions of all frames")
    assert "saved the regions of 1 frame(s)" in text, text
    saved = regions[visit[0]].read_text()
    assert "circle(100,100,10)" in saved
    assert (regions[visit[0]].with_name(regions[visit[0]].name + ".bak")).read_text() == (
        originals[visit[0]]
    )
    for cal in visit[1:]:
        assert regions[cal].read_text() == originals[cal]  # unchanged, no backup
        assert not regions[cal].with_name(regions[cal].name + ".bak").exists()

    # copy frame 1's regions to the other frames of the detector, twice: no duplicates
    ds9.set("frame 1")
    before = _regions_of(ds9, [2, 3, 4])
    for _ in range(2):
        ds9.set("frame 1")
        text = ds9.task("Copy regions to the other frames")
        assert "to 3 frame(s) of detector NRCB1" in " ".join(text.split()), text
    for frame in (2, 3, 4):
        ds9.set(f"frame {frame}")
        everything = ds9.regions()
        copies = [line for line in everything.splitlines() if "tag={ds9claw copy}" in line]
        assert len(copies) == 2 and any("circle(100,100,10)" in c for c in copies)
        assert _shapes(everything) == before[frame]  # the frame's own regions stay

    # load into a fresh DS9 view of the same visit
    ds9.reset()
    load_visit(ds9.t, visit, regions=False)
    text = ds9.task("Load regions for all frames")
    assert "loaded region files into 4 frame(s)" in text, text
    ds9.task("Load regions for all frames")  # not loaded twice
    for frame, cal in enumerate(visit, start=1):
        ds9.set(f"frame {frame}")
        assert _shapes(ds9.regions()) == _shapes(regions[cal].read_text())


def test_twenty_exposures_keep_working(ds9, visit_master, tmp_path):
    # twenty exposures: the four of the example visit, each five times under its own name
    cals = []
    for number in range(1, 21):
        exposure = visit_master.exposures[(number - 1) % 4]
        name = exposure.cal.name.replace(exposure.cal.name[20:25], f"{number:05d}")
        cal = tmp_path / name
        shutil.copy2(exposure.cal, cal)
        cal.with_name(name.replace(".fits", "_claws.pix.reg")).write_text(
            _box_region(exposure.load_truth())
        )
        cals.append(cal)
    assert len({c.name for c in cals}) == 20
    load_visit(ds9.t, cals)
    assert _active(ds9) == list(range(1, 21))
    text = ds9.task("Detect claws in all frames", timeout=600)
    assert "detected claws in 20 of 20 exposure(s)" in text, text
    assert len(ds9.frames()) == 60
    assert _active(ds9) == [1, 21, 22]
    ds9.task("Review previous exposure")
    assert _active(ds9) == [20, 59, 60]
    ds9.task("Show the whole visit")
    assert _active(ds9) == list(range(1, 21))
    assert ds9.get("tile") == "yes" and ds9.get("lock frame") == "image"


def test_keys_n_and_p_are_bound_to_review(ds9):
    count = int(ds9.tcl("set ianalysis(bind,count)"))
    bound = {
        ds9.tcl(f"set ianalysis(bind,{i},item)"): ds9.tcl(f"set ianalysis(bind,{i},cmd)")
        for i in range(count)
    }
    assert "ds9 review-next" in bound["<n>"] and "ds9 review-previous" in bound["<p>"], bound

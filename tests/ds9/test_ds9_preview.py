"""Preview mosaic (before / after) and Close preview against a real DS9."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from preview_helpers.visit import make_visit

from ds9claw.ds9.actions import _source_id
from ds9claw.preview import QUICK_LOOK, preview_mosaics

pytestmark = pytest.mark.ds9

MASK = "_claws_seed_image_zeroonemask.fits"


@pytest.fixture(scope="module")
def visit_dir(tmp_path_factory):
    return make_visit(tmp_path_factory.mktemp("ds9_visit"))


def _load_visit(ds9, visit):
    for index, cal in enumerate(visit.cal):
        if index:
            ds9.set("frame new")
        ds9.load(cal)


def _mask_frame(ds9, cal, mask, path):
    """A mask frame as Detect claws leaves it: the file beside the cal, the role cards."""
    header = fits.Header()
    header["CLAWROLE"] = "mask"
    header["CLAWSRCH"] = _source_id(0, f"{cal}[SCI]", cal.resolve())
    fits.PrimaryHDU(mask.astype(np.uint8), header=header).writeto(path, overwrite=True)
    ds9.set("frame new")
    ds9.set(f"file {{{path}}}")


def _same(a, b):
    return np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(
        np.nan_to_num(a, nan=0.0), np.nan_to_num(b, nan=0.0)
    )


def test_preview_shows_both_mosaics_side_by_side_with_the_holes(ds9, visit_dir, tmp_path):
    visit = visit_dir
    _load_visit(ds9, visit)
    masks = {}
    for cal, (dx, dy) in zip(visit.cal, visit.offsets, strict=True):
        mask = np.zeros((visit.size, visit.size), bool)
        mask[200 + dy : 230 + dy, 100 + dx : 140 + dx] = True  # one sky patch in all
        path = tmp_path / f"{cal.stem}{MASK}"
        _mask_frame(ds9, cal, mask, path)
        masks[cal] = [path]
    assert ds9.frames() == list(range(1, 9))

    text = ds9.task("Preview mosaic (before / after)", timeout=240)

    assert "preview of 4 exposures (4 with a mask)" in text, text
    assert "holes: " in text and "suggestion:" in text, text
    assert ds9.frames() == list(range(1, 11))
    assert ds9.get("frame active").split() == ["9", "10"]
    assert ds9.get("tile") == "yes"
    assert ds9.tcl("list $tile(grid,col) $tile(grid,row) $tile(grid,mode)") == "2 1 manual"
    assert ds9.get("lock frame") == "wcs"
    # the menu entry is the quick look
    (expected,) = preview_mosaics(visit.cal, masks, quick=True, **QUICK_LOOK)
    assert "before in frame 9, after in frame 10" in text
    assert _same(ds9.frame_data(9), expected.before.data)
    assert _same(ds9.frame_data(10), expected.after.data)
    assert ds9.frame_header(10)["CLAWROLE"] == "preview-after"
    limits = []
    assert ds9.get("lock scalelimits") == "yes"
    for frame in (9, 10):
        ds9.set(f"frame {frame}")
        limits.append(ds9.get("scale limits"))
        regions = ds9.regions()
        assert regions.count("polygon(") == len(expected.report.areas) == 1
        assert "ds9claw-holes" in regions and "color=red" in regions
    assert limits[0] == limits[1]
    # they are DS9's zscale limits of the before mosaic
    ds9.set("frame 9")
    ds9.set("scale mode zscale")
    assert ds9.get("scale limits") == limits[0]
    # the outline encloses the hole pixels
    x0, y0, x1, y1 = expected.report.largest.bbox
    coords = regions.split("polygon(")[1].split(")")[0].split(",")
    xs, ys = np.array(coords[0::2], float), np.array(coords[1::2], float)
    assert xs.min() <= x0 + 1 and xs.max() >= x1 + 1 and ys.min() <= y0 + 1 and ys.max() >= y1 + 1

    text = ds9.task("Close preview")
    assert "closed the preview (frames 9, 10); 8 frames shown" in text, text
    assert ds9.frames() == list(range(1, 9))
    assert ds9.get("frame active").split() == [str(f) for f in range(1, 9)]
    assert ds9.get("lock frame") == "none"


def test_preview_uses_the_mask_detect_made_and_notes_exposures_without(ds9, visit_dir, tmp_path):
    import shutil

    cals = []
    for cal, region in zip(visit_dir.cal[:2], visit_dir.region[:2], strict=True):
        shutil.copy(cal, tmp_path / cal.name)
        shutil.copy(region, tmp_path / region.name)
        cals.append(tmp_path / cal.name)
    ds9.load(cals[0])
    ds9.draw((tmp_path / visit_dir.region[0].name).read_text())
    assert "pixels masked" in ds9.task("Detect claws")
    ds9.set("tile grid mode automatic")  # DS9 cannot add a frame to the full 3 x 1 grid
    ds9.set("frame new")
    ds9.load(cals[1])
    text = ds9.task("Preview mosaic (before / after)", timeout=240)
    assert "preview of 2 exposures (1 with a mask)" in text, text
    assert f"{cals[1].name}[SCI]) has no mask frame: resampled as it is" in text, text
    mask_file = cals[0].with_name(cals[0].stem + MASK)
    (expected,) = preview_mosaics(
        cals, {cals[0]: [mask_file], cals[1]: []}, quick=True, **QUICK_LOOK
    )
    frames = [int(f) for f in ds9.get("frame active").split()]
    assert len(frames) == 2
    assert _same(ds9.frame_data(frames[1]), expected.after.data)
    assert "no holes" in text or "holes: " in text


def test_preview_without_masks_is_a_clear_error(ds9, visit_dir):
    ds9.load(visit_dir.cal[0])
    text = ds9.task("Preview mosaic (before / after)")
    assert "error: no exposure in DS9 has a claw mask yet: run Claws > Detect claws" in text
    assert ds9.frames() == [1]


def test_close_preview_without_preview_changes_nothing(ds9, visit_dir):
    ds9.load(visit_dir.cal[0])
    assert "no preview frames to close" in ds9.task("Close preview")
    assert ds9.frames() == [1]

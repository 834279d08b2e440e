"""The Claws menu against a real DS9: frames, pixels, layout, regions, files, DQ bits."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

pytestmark = pytest.mark.ds9

SEED = "_claws_seed_image.fits"
MASK = "_claws_seed_image_zeroonemask.fits"


def _products(example):
    stem = example.cal.name[: -len(".fits")]
    return example.cal.with_name(stem + SEED), example.cal.with_name(stem + MASK)


def test_menu_is_installed(ds9_session, ds9):
    names = [line.partition(" ")[2] for line in ds9.get("analysis task").splitlines()]
    for entry in (
        "Detect claws",
        "Detect claws with parameters...",
        "Commit mask to rate DQ",
        "Mask to regions",
        "Save snapshot",
        "Clear ds9claw frames",
    ):
        assert entry in names
    assert "loaded" in ds9_session.install_output


def test_detect_from_menu_shows_three_frames(ds9, example_copy):
    ds9.load(example_copy.cal)
    region_text = example_copy.region.read_text()
    ds9.draw(region_text)
    before = ds9.regions()

    text = ds9.task("Detect claws")

    seed_path, mask_path = _products(example_copy)
    assert "pixels masked" in text, text
    assert seed_path.exists() and mask_path.exists(), text
    assert ds9.frames() == [1, 2, 3]
    with fits.open(example_copy.cal) as hdul:
        sci = hdul["SCI"].data
    np.testing.assert_array_equal(ds9.frame_data(1), sci)
    seed_on_disk = fits.getdata(seed_path)
    mask_on_disk = fits.getdata(mask_path)
    np.testing.assert_array_equal(ds9.frame_data(2), seed_on_disk)
    np.testing.assert_array_equal(ds9.frame_data(3), mask_on_disk)
    assert mask_on_disk.dtype == np.uint8 and set(np.unique(mask_on_disk)) <= {0, 1}
    n = int(mask_on_disk.sum())
    assert n > 0 and f"{n} pixels masked" in text
    # the mask follows the truth of the example
    truth = example_copy.load_truth()
    overlap = np.logical_and(mask_on_disk > 0, truth).sum()
    assert overlap > 0.5 * n
    # layout
    ds9.set("frame 1")
    assert ds9.get("frame") == "1"
    assert ds9.get("tile") == "yes"
    assert ds9.get("tile mode") == "grid"
    assert ds9.tcl("list $tile(grid,col) $tile(grid,row) $tile(grid,mode)") == "3 1 manual"
    assert ds9.get("lock frame") == "image"
    assert ds9.get("scale mode") == "zscale"
    ds9.set("frame 2")
    assert ds9.get("scale mode") == "minmax"
    ds9.set("frame 3")
    assert ds9.get("scale mode") == "minmax"
    ds9.set("frame 1")
    assert ds9.regions() == before


def test_second_run_reuses_frames(ds9, example_copy):
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    first = ds9.task("Detect claws")
    assert "(new frames)" in first
    seed_path, _ = _products(example_copy)
    mtime = seed_path.stat().st_mtime_ns
    ds9.set("frame 3")  # started from the mask frame: works on its image frame
    second = ds9.task("Detect claws")
    assert "(frames reused)" in second.split("ds9claw: detected")[-1]
    assert ds9.frames() == [1, 2, 3]
    assert seed_path.stat().st_mtime_ns >= mtime
    assert ds9.get("frame") == "1"


def test_parameters_dialog_runs_and_is_remembered(ds9, ds9_session, example_copy):
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    text = ds9.click_with_dialog(
        "Detect claws with parameters...",
        {0: "2.5", 1: "1", 2: "2", 3: "1", 4: "1", 5: "_test_suffix"},
    )
    assert "sigma=2.5, smooth=1, minpixarea=2" in text, text
    assert "ignore background=yes" in text
    stem = example_copy.cal.name[: -len(".fits")]
    seed = example_copy.cal.with_name(stem + "_test_suffix.fits")
    mask = example_copy.cal.with_name(stem + "_test_suffix_zeroonemask.fits")
    assert seed.exists() and mask.exists()
    header = fits.getheader(seed)
    assert header["CLAWSIG"] == 2.5 and header["SMOOTH"] == 1 and header["MPIXAREA"] == 2
    # remembered: the plain entry now uses them, and the user copy's dialog defaults too
    plain = ds9.task("Detect claws")
    assert "sigma=2.5, smooth=1, minpixarea=2" in plain.split("ds9claw: detected")[-1]
    user_copy = (ds9_session.config_dir / "ds9claw.ans").read_text()
    assert "cl_sigma entry {Detection threshold (sigma)} 2.5 " in user_copy
    assert "cl_nobg checkbox {Ignore background (sky-subtracted image)} 1 " in user_copy
    assert "cl_suffix entry {Output suffix} _test_suffix " in user_copy


def test_dialog_entry_works_when_the_window_system_is_slow(ds9, example_copy):
    # On a slow X server DS9 is still in 'tkwait visibility' when the dialog's window
    # exists; an OK pressed then was lost and the dialog never returned (seen in CI).
    # Make every dialog wait 1.5 s after becoming visible and run an entry through it.
    ds9.tcl(
        "rename tkwait __ds9claw_tkwait; proc tkwait {what name} {"
        "uplevel 1 [list __ds9claw_tkwait $what $name]; "
        "if {$what eq {visibility}} {after 1500 {set ::__ds9claw_slow 1}; "
        "vwait ::__ds9claw_slow}}; set ok 1"
    )
    try:
        ds9.load(example_copy.cal)
        text = ds9.click_with_dialog(
            "Detect claws in regions from a file...", {0: str(example_copy.region)}
        )
    finally:
        ds9.tcl("rename tkwait {}; rename __ds9claw_tkwait tkwait; set ok 1")
    assert "ds9claw: detected" in text, text
    _, mask_path = _products(example_copy)
    assert int((fits.getdata(mask_path) > 0).sum()) > 1000
    assert ds9.frames() == [1, 2, 3]


def test_commit_from_menu_sets_dq_bits(ds9, example_copy):
    from ds9claw.dq import DEFAULT_COMMIT_FLAGS, interpret_flags

    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    ds9.task("Detect claws")
    _, mask_path = _products(example_copy)
    mask = fits.getdata(mask_path) > 0
    with fits.open(example_copy.rate) as hdul:
        dq_before = hdul["DQ"].data.copy()
    text = ds9.task("Commit mask to rate DQ")
    bits = interpret_flags(DEFAULT_COMMIT_FLAGS)
    with fits.open(example_copy.rate) as hdul:
        dq_after = hdul["DQ"].data
        assert np.all((dq_after[mask] & bits) == bits)
        np.testing.assert_array_equal(dq_after[~mask], dq_before[~mask])
    assert f"flagged {int(mask.sum())} pixels" in text, text
    backup = example_copy.rate.with_name(
        example_copy.rate.name.replace("_rate.fits", "_rate_before_removing_claws.fits")
    )
    assert backup.exists() and f"backup: {backup}" in text
    np.testing.assert_array_equal(fits.getdata(backup, "DQ"), dq_before)


def test_commit_uses_the_rate_directory_set_once(ds9, example_copy, tmp_path):
    rate_dir = tmp_path / "rates"
    rate_dir.mkdir()
    moved = rate_dir / example_copy.rate.name
    example_copy.rate.rename(moved)
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    ds9.task("Detect claws")
    refused = ds9.task("Commit mask to rate DQ")
    assert "no rate file for" in refused and "does not exist" in refused
    text = ds9.click_with_dialog("Commit mask to rate DQ (rate directory)...", {0: str(rate_dir)})
    assert f"{moved}: flagged" in text, text
    assert fits.getdata(moved, "DQ").any()


def test_commit_refuses_without_mask(ds9, example_copy):
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    text = ds9.task("Commit mask to rate DQ")
    assert "no mask yet" in text and "Detect claws first" in text
    assert not example_copy.rate.with_name(
        example_copy.rate.name.replace("_rate.fits", "_rate_before_removing_claws.fits")
    ).exists()


def test_mask_to_regions_traces_polygons(ds9, example_copy):
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    ds9.task("Detect claws")
    text = ds9.task("Mask to regions")
    assert "polygon region(s)" in text, text
    regions = ds9.regions()
    polygons = [line for line in regions.splitlines() if line.startswith("polygon(")]
    assert polygons and all("tag={ds9claw}" in line for line in polygons)
    # the hand-drawn region was replaced, and saved beside the cal file
    backup = example_copy.cal.with_name(
        example_copy.cal.name[: -len(".fits")] + "_claws_regions_before_trace.reg"
    )
    assert backup.exists() and "polygon(" in backup.read_text()
    assert example_copy.region.read_text().splitlines()[-1][:20] in backup.read_text()
    # detecting again inside the traced polygons keeps (most of) the mask
    _, mask_path = _products(example_copy)
    first = fits.getdata(mask_path) > 0
    again = ds9.task("Detect claws")
    assert "pixels masked" in again.split("ds9claw: detected")[-1]
    second = fits.getdata(mask_path) > 0
    assert np.logical_and(first, second).sum() > 0.5 * first.sum()
    # a second trace over newly drawn regions keeps the first backup and adds one
    first_backup = backup.read_text()
    ds9.draw("image\ncircle(100,100,20)\n")
    assert "polygon region(s)" in ds9.task("Mask to regions")
    assert backup.read_text() == first_backup
    second_backup = backup.with_name(backup.name + ".bak")
    assert "circle(100,100,20)" in second_backup.read_text()


def test_snapshot_is_a_three_panel_png(ds9, example_copy):
    from .helpers import read_png

    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    ds9.task("Detect claws")
    text = ds9.task("Save snapshot")
    stem = example_copy.cal.name[: -len(".fits")]
    png = example_copy.cal.with_name(stem + "_claws.png")
    eps = example_copy.cal.with_name(stem + "_claws.eps")
    assert png.exists() and eps.exists(), text
    assert eps.read_bytes().startswith(b"%!PS")
    image = read_png(png)
    assert image.shape[:2] == (350, 1200)
    # three panels: the middle of each third shows the frame, not the white background
    grey = image[..., :3].astype(int).sum(axis=2)
    row = grey[120]
    thirds = [row[i * 400 : (i + 1) * 400] for i in range(3)]
    for part in thirds:
        assert (part[150:250] < 3 * 250).any(), "a panel is empty"
    # the canvas size is put back
    assert ds9.get("width") == "800"


def test_clear_removes_only_ds9claw_frames(ds9, example_copy):
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    ds9.task("Detect claws")
    assert ds9.frames() == [1, 2, 3]
    text = ds9.task("Clear ds9claw frames")
    assert "deleted 2 ds9claw frame(s): 2, 3" in text
    assert ds9.frames() == [1]
    assert ds9.get("tile") == "no"
    assert ds9.get("file").endswith(example_copy.cal.name + "[SCI]")


def test_exclude_regions_are_honoured(ds9, example_copy):
    ds9.load(example_copy.cal)
    include = example_copy.region.read_text()
    ds9.draw(include)
    ds9.task("Detect claws")
    _, mask_path = _products(example_copy)
    full = fits.getdata(mask_path) > 0
    ys, xs = np.nonzero(full)
    cx, cy = float(np.median(xs)), float(np.median(ys))
    ds9.draw(f"image\n-circle({cx + 1:.1f},{cy + 1:.1f},60)\n")
    text = ds9.task("Detect claws")
    assert "minus 1 excluded" in text.split("ds9claw: detected")[-1]
    cut = fits.getdata(mask_path) > 0
    yy, xx = np.mgrid[: full.shape[0], : full.shape[1]]
    inside = (xx - cx) ** 2 + (yy - cy) ** 2 < 55**2
    assert full[inside].any() and not cut[inside].any()
    np.testing.assert_array_equal(ds9.frame_data(3) > 0, cut)

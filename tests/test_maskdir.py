"""``ds9claw commit RATE... --mask-dir DIR``: the old tool's --template-dir lookup."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from commit_helpers.factory import make_rate, read_arrays, write_mask
from conftest import REAL_REGIONS

from ds9claw.commit import backup_path_for
from ds9claw.dq import DEFAULT_COMMIT_FLAGS, interpret_flags
from ds9claw.errors import InputError
from ds9claw.maskdir import find_masks
from ds9claw.region_mask import region_masks
from ds9claw.region_parse import RegionSource

BITS = interpret_flags(DEFAULT_COMMIT_FLAGS)
REPO = Path(__file__).resolve().parents[1]
SHAPE = (2048, 2048)  # the real region files are drawn on full frames
WITH_REGION = "jw01837003021_08201_00001_nrcb4"
WITH_TWO = "jw01837003021_08201_00001_nrca4"
WITHOUT = "jw01837003021_08201_00001_nrcb1"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ds9claw", *args],
        cwd=cwd,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _region_mask(path: Path) -> np.ndarray:
    include, exclude = region_masks(SHAPE, include=[RegionSource.from_file(path)])
    return include if exclude is None else include & ~exclude


@pytest.fixture(scope="module")
def rates_template(tmp_path_factory):
    directory = tmp_path_factory.mktemp("rates")
    for i, dataset in enumerate((WITH_REGION, WITH_TWO, WITHOUT)):
        make_rate(directory / f"{dataset}_rate.fits", SHAPE, seed=i, detector=dataset[-5:].upper())
    return directory


@pytest.fixture
def visit(rates_template, tmp_path):
    """Three rates and a mask directory: one region; a region and a FITS mask; nothing."""
    work = tmp_path / "work"
    shutil.copytree(rates_template, work)
    masks = tmp_path / "claw_masks"
    masks.mkdir()
    shutil.copy2(REAL_REGIONS / f"{WITH_REGION}_bad_area.pix.reg", masks)
    shutil.copy2(REAL_REGIONS / f"{WITH_TWO}_bad_area.pix.reg", masks)
    box = np.zeros(SHAPE, bool)
    box[1500:1600, 100:400] = True
    write_mask(masks / f"{WITH_TWO}_cal_claws_seed_image_zeroonemask.fits.gz", box)
    # not masks: a rate of the same dataset (an exposure) and ds9claw's auxiliary product
    shutil.copy2(work / f"{WITH_REGION}_rate.fits", masks / f"{WITH_REGION}_cal.fits")
    write_mask(masks / f"{WITH_REGION}_cal_claws_seed_image_bkg2d.fits", np.ones(SHAPE))
    # another dataset's mask is not picked up
    write_mask(masks / "jw01837003021_08201_00002_nrcb1_zeroonemask.fits", np.ones(SHAPE))
    return work, masks, box


def test_find_masks_by_dataset_name(visit):
    work, masks, _ = visit
    lookup = find_masks(work / f"{WITH_TWO}_rate.fits", masks)
    assert lookup.dataset == WITH_TWO
    assert [p.name for p in lookup.masks] == [
        f"{WITH_TWO}_bad_area.pix.reg",
        f"{WITH_TWO}_cal_claws_seed_image_zeroonemask.fits.gz",
    ]
    lookup = find_masks(work / f"{WITH_REGION}_rate.fits", masks)
    assert [p.name for p in lookup.masks] == [f"{WITH_REGION}_bad_area.pix.reg"]
    reasons = {p.name: reason for p, reason in lookup.skipped}
    assert reasons == {
        f"{WITH_REGION}_cal.fits": "an exposure, not a mask",
        f"{WITH_REGION}_cal_claws_seed_image_bkg2d.fits": (
            "an auxiliary product of ds9claw detect, not a mask"
        ),
    }
    assert find_masks(work / f"{WITHOUT}_rate.fits", masks).masks == []
    with pytest.raises(InputError, match="is not a directory"):
        find_masks(work / f"{WITHOUT}_rate.fits", masks / "missing")


def test_one_level_of_subdirectories_as_the_old_tool(visit, tmp_path):
    work, masks, _ = visit
    nested = tmp_path / "nested"
    (nested / "program1837").mkdir(parents=True)
    shutil.copy2(masks / f"{WITH_REGION}_bad_area.pix.reg", nested / "program1837")
    lookup = find_masks(work / f"{WITH_REGION}_rate.fits", nested)
    assert lookup.masks == [nested / "program1837" / f"{WITH_REGION}_bad_area.pix.reg"]


def test_commit_mask_dir_ors_every_file_and_skips_rates_without(visit):
    work, masks, box = visit
    rates = [work / f"{d}_rate.fits" for d in (WITH_REGION, WITH_TWO, WITHOUT)]
    before = {r.name: read_arrays(r) for r in rates}
    untouched = rates[2].read_bytes()
    done = _cli("commit", *[r.name for r in rates], "--mask-dir", str(masks), cwd=work)
    assert done.returncode == 0, done.stderr
    assert (
        f"{rates[2].name}: no mask or region file named {WITHOUT}* in {masks}: skipped"
        in done.stdout
    )
    assert "2 files: 2 committed" in done.stdout
    expected = {
        rates[0].name: _region_mask(masks / f"{WITH_REGION}_bad_area.pix.reg"),
        rates[1].name: _region_mask(masks / f"{WITH_TWO}_bad_area.pix.reg") | box,
    }
    for rate in rates[:2]:
        mask = expected[rate.name]
        assert mask.sum() > 1000
        dq = before[rate.name]["DQ"].copy()
        dq[mask] |= np.uint32(BITS)
        np.testing.assert_array_equal(read_arrays(rate)["DQ"], dq)
        assert backup_path_for(rate).exists()
    assert rates[2].read_bytes() == untouched and not backup_path_for(rates[2]).exists()


def test_mask_dir_usage_errors(visit):
    work, masks, _ = visit
    rate = f"{WITH_REGION}_rate.fits"
    both = _cli("commit", rate, "--mask-dir", str(masks), "--mask", "x.fits", cwd=work)
    assert both.returncode == 2 and "give --mask or --mask-dir, not both" in both.stderr
    missing = _cli("commit", rate, "--mask-dir", "no_such_dir", cwd=work)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "ds9claw: error: --mask-dir no_such_dir is not a directory: give the directory that "
        "holds the masks and region files"
    )
    nothing = _cli("commit", f"{WITHOUT}_rate.fits", "--mask-dir", str(masks), cwd=work)
    assert nothing.returncode == 0
    assert "skipped" in nothing.stdout and "nothing to commit" in nothing.stdout

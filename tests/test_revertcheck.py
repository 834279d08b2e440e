"""``--output`` is never an input; revert checks the backup is the original and what it loses."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from commit_helpers.factory import HOT, history_text, make_rate, write_mask

from ds9claw.commit import backup_path_for, commit_mask, revert
from ds9claw.dq import PIXEL_FLAGS
from ds9claw.errors import CommitError, InputError
from ds9claw.history import original_sha256

SHAPE = (256, 256)
REPO = Path(__file__).resolve().parents[1]


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _box(rows=(60, 120), cols=(30, 200)) -> np.ndarray:
    mask = np.zeros(SHAPE, bool)
    mask[rows[0] : rows[1], cols[0] : cols[1]] = True
    return mask


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ds9claw", *args],
        cwd=cwd,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def rate(tmp_path):
    return make_rate(tmp_path / "jw01345001001_02201_00001_nrcb1_rate.fits", SHAPE)


@pytest.fixture
def mask_file(tmp_path):
    return write_mask(tmp_path / "jw01345001001_02201_00001_nrcb1_zeroonemask.fits", _box())


# ------------------------------------------------------------------ --output


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "relative"])
def test_output_equal_to_a_mask_is_refused_before_anything(rate, mask_file, tmp_path, how):
    region = tmp_path / "claws.reg"
    region.write_text("image\nbox(100,100,20,20,0)\n")
    if how == "same":
        output = mask_file
    elif how == "symlink":
        output = tmp_path / "link_to_mask.fits"
        output.symlink_to(mask_file)
    elif how == "hardlink":
        output = tmp_path / "hard_link_to_mask.fits"
        os.link(mask_file, output)
    else:
        output = Path(os.path.relpath(region))
    mask_bytes, region_bytes, rate_bytes = (
        mask_file.read_bytes(),
        region.read_bytes(),
        rate.read_bytes(),
    )
    names = _listing(tmp_path)
    for overwrite in (False, True):
        with pytest.raises(InputError, match="the output must never be an input"):
            commit_mask(rate, [mask_file, region], output=output, overwrite=overwrite)
    assert mask_file.read_bytes() == mask_bytes and region.read_bytes() == region_bytes
    assert rate.read_bytes() == rate_bytes and _listing(tmp_path) == names


def test_output_equal_to_a_mask_on_the_command_line(rate, mask_file, tmp_path):
    link = tmp_path / "new_rate.fits"
    os.link(mask_file, link)
    before = mask_file.read_bytes()
    done = _cli(
        "commit", rate.name, mask_file.name, "--output", link.name, "--overwrite", cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"ds9claw: error: --output {link} is the mask {mask_file.name}: the output must never "
        "be an input; choose another --output; nothing was written"
    )
    assert mask_file.read_bytes() == before


# ------------------------------------------------------------------ revert


def test_commit_records_the_original_sha256(rate, mask_file, tmp_path):
    original = hashlib.sha256(rate.read_bytes()).hexdigest()
    first = commit_mask(rate, [mask_file])
    assert first.original_sha256 == original
    second = write_mask(tmp_path / "second_mask.fits", _box(rows=(200, 220)))
    assert commit_mask(rate, [second]).original_sha256 == original
    assert original_sha256(history_text(rate)) == [original, original]
    report = revert(rate)
    assert report.status == "reverted"
    assert (
        f"is the file the commit started from (sha256 {original[:16]}... as recorded)"
        in (report.notes[0])
    )
    assert hashlib.sha256(rate.read_bytes()).hexdigest() == original


def test_backup_of_another_exposure_is_refused(rate, mask_file, tmp_path):
    commit_mask(rate, [mask_file])
    backup = backup_path_for(rate)
    committed = rate.read_bytes()
    # the backup replaced by another detector's file of the same shape
    make_rate(tmp_path / "other.fits", SHAPE, detector="NRCA1")
    shutil.copyfile(tmp_path / "other.fits", backup)
    with pytest.raises(CommitError) as info:
        revert(rate)
    message = str(info.value)
    assert f"{backup.name} is not the pre-commit version of {rate.name}" in message
    assert "is not the" in message and "the commit recorded" in message  # sha256
    assert "its header names another exposure: DETECTOR NRCA1 (the file: NRCB1)" in message
    assert rate.read_bytes() == committed
    with pytest.raises(CommitError, match="names another exposure"):
        revert(rate, dry_run=True)
    report = revert(rate, force=True)
    assert report.status == "reverted"
    assert any(n.startswith("restored despite: its sha256") for n in report.notes)


def test_backup_with_a_changed_header_only_is_refused_by_its_sha256(rate, mask_file):
    commit_mask(rate, [mask_file])
    backup = backup_path_for(rate)
    with fits.open(backup, mode="update") as hdul:
        hdul[0].header["OBSERVER"] = "someone else"
    committed = rate.read_bytes()
    with pytest.raises(CommitError, match=r"its sha256 [0-9a-f]{16}\.\.\. is not the"):
        revert(rate)
    assert rate.read_bytes() == committed


def _change(path: Path, what: str) -> None:
    with fits.open(path, mode="update") as hdul:
        if what == "dq-added":
            hdul["DQ"].data[200:202, 10:15] |= np.uint32(PIXEL_FLAGS["JUMP_DET"])
        elif what == "dq-cleared":
            rows, cols = np.nonzero(hdul["DQ"].data & HOT)
            hdul["DQ"].data[rows[:3], cols[:3]] &= ~np.uint32(HOT)
        elif what == "sci":
            hdul["SCI"].data[230, 100:105] += 1.0
        elif what == "sci-committed":
            hdul["SCI"].data[70, 40:42] = 5.0
        elif what == "err":
            hdul["ERR"].data[5, 5] *= 2
        elif what == "header":
            hdul[0].header["S_SKYMAT"] = "COMPLETE"


@pytest.mark.parametrize(
    ("what", "lost"),
    [
        ("dq-added", "DQ bits JUMP_DET (not committed flags) set in 10 pixels"),
        ("dq-cleared", "DQ bits HOT cleared in 3 pixels"),
        ("sci", "SCI changed in 5 pixels outside the committed pixels"),
        ("sci-committed", "SCI changed after the commit in 2 pixels of the committed pixels"),
        ("err", "ERR differs in 1 pixel"),
        ("header", "header keyword(s) S_SKYMAT changed"),
    ],
)
def test_revert_reports_what_it_would_throw_away(rate, mask_file, what, lost):
    original = rate.read_bytes()
    commit_mask(rate, [mask_file])
    _change(rate, what)
    changed = rate.read_bytes()
    with pytest.raises(CommitError) as info:
        revert(rate)
    message = str(info.value)
    assert message.startswith(
        f"reverting {rate.name} to {backup_path_for(rate).name} would also throw away what "
        "was done after the commit: "
    )
    assert lost in message and message.endswith("(pass `force=True` to restore it anyway)")
    assert rate.read_bytes() == changed
    report = revert(rate, force=True)
    assert report.status == "reverted" and rate.read_bytes() == original
    assert any(lost in n for n in report.notes)


def test_a_clean_commit_reverts_without_force(rate, mask_file):
    """Nothing but the commit in the file: no false alarm (DATE and the ASDF history change)."""
    original = rate.read_bytes()
    commit_mask(rate, [mask_file], fill_value="nan")
    dry = revert(rate, dry_run=True)
    assert dry.n_restored == int(_box().sum())
    assert revert(rate).status == "reverted" and rate.read_bytes() == original


def test_a_renamed_cal_reverts_without_force(example_copy, tmp_path):
    """stdatamodels writes the current name into FILENAME: that is the commit's own change."""
    renamed = tmp_path / "renamed" / "my_copy_cal.fits"
    renamed.parent.mkdir()
    shutil.copy2(example_copy.cal, renamed)
    original = renamed.read_bytes()
    commit_mask(renamed, [example_copy.truth])
    with fits.open(renamed) as hdul:
        assert hdul[0].header["FILENAME"] == "my_copy_cal.fits"
    report = revert(renamed)
    assert report.status == "reverted" and renamed.read_bytes() == original


def test_revert_refusal_on_the_command_line(rate, mask_file, tmp_path):
    commit_mask(rate, [mask_file])
    _change(rate, "dq-added")
    changed = rate.read_bytes()
    done = _cli("revert", rate.name, cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ds9claw: error: reverting ")
    assert "JUMP_DET" in lines[0] and rate.read_bytes() == changed
    forced = _cli("revert", rate.name, "--force", cwd=tmp_path)
    assert forced.returncode == 0 and "restored despite" in forced.stdout


def test_a_later_commit_notices_a_replaced_backup(rate, mask_file, tmp_path):
    commit_mask(rate, [mask_file])
    backup = backup_path_for(rate)
    with fits.open(backup, mode="update") as hdul:
        hdul[0].header["OBSERVER"] = "someone else"
    second = write_mask(tmp_path / "second_mask.fits", _box(rows=(200, 220)))
    report = commit_mask(rate, [second])
    assert report.status == "committed"
    assert (
        f"backup {backup.name} is not the file the first commit recorded (its sha256 differs): "
        "`ds9claw revert` will refuse it"
    ) in report.notes
    with pytest.raises(CommitError, match="is not the pre-commit version"):
        revert(rate)

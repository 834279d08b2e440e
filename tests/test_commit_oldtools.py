"""Real files of the old tools: the PRIMER old-script mask, rates the old tools already cleaned."""

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
from commit_helpers.factory import history_text, make_rate, read_arrays, write_mask
from conftest import REAL_MASKS

from ds9claw.commit import HISTORY_PREFIX, backup_path_for, commit_mask, revert
from ds9claw.dq import DEFAULT_COMMIT_FLAGS, interpret_flags
from ds9claw.errors import CommitError, InputError
from ds9claw.history import old_tool_entries, original_sha256

BITS = interpret_flags(DEFAULT_COMMIT_FLAGS)
REAL_DATASET = "jw01837004002_08201_00002_nrcb1"
REAL_MASK = REAL_MASKS / f"{REAL_DATASET}_cal_claws_seed_image_zeroonemask.fits.gz"
OLD_TOOL = "util_remove_claws_for_specific_data_sets.py"
OLD_WHEN = "2023-01-05 12:34:56"
SHAPE = (256, 256)
REPO = Path(__file__).resolve().parents[1]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "ds9claw", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def real_grid_example(tmp_path_factory):
    """A 2048 x 2048 example exposure named after the real mask's dataset (its grid)."""
    from ds9claw.example import make_example

    return make_example(tmp_path_factory.mktemp("real_grid"), size=2048, dataset=REAL_DATASET)


@pytest.fixture
def real_rate(real_grid_example, tmp_path):
    rate = tmp_path / real_grid_example.rate.name
    shutil.copy2(real_grid_example.rate, rate)
    return rate


def test_the_real_mask_is_what_the_old_script_writes():
    with fits.open(REAL_MASK) as hdul:
        assert len(hdul) == 1
        header, data = hdul[0].header, hdul[0].data
        assert header["EXTNAME"] == "SCI" and "DATAMODL" not in header
        assert header["CTYPE1"] == "RA---TAN-SIP" and header["SMOOTH"] == 1.0
        assert data.dtype == np.dtype(">i8") and data.shape == (2048, 2048)
        assert set(np.unique(data)) == {0, 1}
        assert int(np.count_nonzero(data)) == 73626


def test_real_old_script_mask_commits_into_a_rate_of_its_grid(real_rate):
    original = real_rate.read_bytes()
    before = read_arrays(real_rate)
    with fits.open(REAL_MASK) as hdul:
        claws = np.asarray(hdul[0].data) != 0

    report = commit_mask(real_rate, [REAL_MASK])

    assert report.status == "committed"
    assert report.n_masked == int(claws.sum()) == 73626
    assert report.n_flagged == 73626  # no claw pixel had the four bits before
    after = read_arrays(real_rate)
    expected_dq = before["DQ"].copy()
    expected_dq[claws] |= np.uint32(BITS)
    np.testing.assert_array_equal(after["DQ"], expected_dq)  # flags exactly on the mask
    assert np.all(after["SCI"][claws] == 0.0)
    np.testing.assert_array_equal(after["SCI"][~claws], before["SCI"][~claws])
    for name in ("ERR", "VAR_POISSON", "VAR_RNOISE"):
        np.testing.assert_array_equal(after[name], before[name])
    # history as for ds9claw's own masks: the mask file and its sha256, the original's sha256
    history = history_text(real_rate)
    squashed = "".join(history.split())
    assert "".join(f"{HISTORY_PREFIX}".split()) in squashed
    assert REAL_MASK.name in squashed and _sha(REAL_MASK) in squashed
    assert "ORedinto73626pixels(73626newlyflagged)" in squashed
    assert original_sha256(history) == [hashlib.sha256(original).hexdigest()]
    # backup: the untouched original
    backup = backup_path_for(real_rate)
    assert report.backup == backup and report.backup_created
    assert backup.read_bytes() == original
    assert any("zero-one mask of the old util_detect_source" in n for n in report.notes)


def test_real_mask_on_the_command_line(real_rate):
    original = real_rate.read_bytes()
    directory = real_rate.parent
    mask = directory / REAL_MASK.name
    shutil.copy2(REAL_MASK, mask)
    done = _cli("commit", real_rate.name, mask.name, cwd=directory)
    assert done.returncode == 0, done.stderr
    assert f"{real_rate.name}: flagged 73626 pixels (73626 newly)" in done.stdout
    assert "zero-one mask of the old util_detect_source_and_create_seed_image.py" in done.stdout
    assert "Traceback" not in done.stderr
    assert backup_path_for(real_rate).read_bytes() == original
    undone = _cli("revert", real_rate.name, cwd=directory)
    assert undone.returncode == 0, undone.stderr
    assert "restored from" in undone.stdout and "73626 pixels" in undone.stdout
    assert real_rate.read_bytes() == original


# ------------------------------------------------------------------ old-tool history


def _old_tool_clean(path: Path, *, tool: str = OLD_TOOL, when: str = OLD_WHEN) -> None:
    """Do what the old tool does: change SCI and add its history entry, through stdatamodels."""
    from stdatamodels.jwst.datamodels import ImageModel

    with ImageModel(str(path)) as model:
        model.data[100:140, 20:200] -= 0.25  # its claw subtraction
        model.add_history_entry(
            f"Removed claws with {tool} ({when})",
            software={"name": tool, "author": "Daizhong Liu", "version": "20230105"},
        )
        model.save(str(path))


@pytest.fixture
def old_cleaned(tmp_path):
    """A rate the old tool cleaned in place, with its backup of the original."""
    rate = make_rate(tmp_path / "jw01837004002_08201_00002_nrcb1_rate.fits", SHAPE)
    backup = backup_path_for(rate)
    shutil.copy2(rate, backup)  # the old tool: shutil.copy2 to <stem>_before_removing_claws
    _old_tool_clean(rate)
    return rate, backup


@pytest.fixture
def box_mask(tmp_path):
    mask = np.zeros(SHAPE, bool)
    mask[30:60, 50:90] = True
    return write_mask(tmp_path / "claws_zeroonemask.fits", mask), mask


def test_history_entries_of_the_old_tools_are_read(old_cleaned):
    rate, _ = old_cleaned
    history = history_text(rate)
    # the entry is longer than one HISTORY card
    assert len(f"Removed claws with {OLD_TOOL} ({OLD_WHEN})") > 72
    entries = old_tool_entries(history)
    assert [(e.tool, e.when) for e in entries] == [(OLD_TOOL, OLD_WHEN)]
    assert old_tool_entries(f"{HISTORY_PREFIX} 0.1: mask m.fits (sha256 ab)") == []


def test_commit_notices_an_old_tool_commit_and_goes_on_only_with_force(old_cleaned, box_mask):
    rate, backup = old_cleaned
    mask_file, mask = box_mask
    cleaned, original = rate.read_bytes(), backup.read_bytes()
    names = _listing(rate.parent)
    with pytest.raises(InputError) as info:
        commit_mask(rate, [mask_file])
    message = str(info.value)
    assert f"already had claws removed by the old tool {OLD_TOOL} ({OLD_WHEN})" in message
    assert f"the existing backup {backup.name}, the original from before that tool" in message
    assert "`force=True`" in message and "nothing was changed" in message
    assert rate.read_bytes() == cleaned and backup.read_bytes() == original
    assert _listing(rate.parent) == names
    # a dry run says the same
    with pytest.raises(InputError, match="already had claws removed"):
        commit_mask(rate, [mask_file], dry_run=True)

    report = commit_mask(rate, [mask_file], force=True)
    assert report.status == "committed" and report.n_masked == int(mask.sum())
    assert report.old_tools == (f"{OLD_TOOL} ({OLD_WHEN})",)
    assert not report.backup_created
    assert backup.read_bytes() == original  # the true original is kept
    assert report.original_sha256 == hashlib.sha256(original).hexdigest()
    assert any("claws already removed by the old tool" in n for n in report.notes)
    assert any("made by the old tool, the original from before it" in n for n in report.notes)
    history = history_text(rate)
    assert old_tool_entries(history)[0].tool == OLD_TOOL and HISTORY_PREFIX in history
    dq = read_arrays(rate)["DQ"]
    assert np.all(dq[mask] & BITS == BITS) and not np.any(dq[~mask] & BITS == BITS)
    # a second ds9claw commit needs no --force again, the backup still stays
    other = np.zeros(SHAPE, bool)
    other[200:210, 200:210] = True
    second = write_mask(rate.parent / "second_mask.fits", other)
    again = commit_mask(rate, [second])
    assert again.status == "committed" and backup.read_bytes() == original
    assert any("removed earlier by the old tool" in n for n in again.notes)


def test_revert_after_an_old_tool_commit_says_it_restores_the_old_backup(old_cleaned, box_mask):
    rate, backup = old_cleaned
    mask_file, _ = box_mask
    original = backup.read_bytes()
    commit_mask(rate, [mask_file], force=True)
    committed = rate.read_bytes()
    with pytest.raises(CommitError) as info:
        revert(rate)
    message = str(info.value)
    assert "would also throw away" in message
    assert f"the claw removal by the old tool {OLD_TOOL} ({OLD_WHEN})" in message
    assert f"{backup.name} is from before it" in message
    assert rate.read_bytes() == committed
    report = revert(rate, force=True)
    assert report.status == "reverted" and report.old_tool == f"{OLD_TOOL} ({OLD_WHEN})"
    assert f"it is the old-tool backup from before {OLD_TOOL}" in report.summary()
    assert rate.read_bytes() == original


def test_revert_of_a_file_only_the_old_tool_cleaned(old_cleaned, tmp_path):
    rate, backup = old_cleaned
    cleaned, original = rate.read_bytes(), backup.read_bytes()
    shutil.copy2(rate, tmp_path / "cleaned.fits")
    with pytest.raises(InputError) as info:
        revert(rate)
    message = str(info.value)
    assert f"its claws were removed by the old tool {OLD_TOOL} ({OLD_WHEN})" in message
    assert f"{backup} is that tool's backup" in message and "old-tool backup" in message
    assert "no sha256 was recorded" in message and "`force=True`" in message
    assert rate.read_bytes() == cleaned
    report = revert(rate, force=True)
    assert report.status == "reverted"
    assert report.summary() == (
        f"{rate}: restored from {backup.name} ({report.n_restored} pixels); it is the "
        f"old-tool backup from before {OLD_TOOL} ({OLD_WHEN})"
    )
    # the old tool's subtraction (a NaN pixel stays NaN)
    a, b = read_arrays(backup)["SCI"], read_arrays(tmp_path / "cleaned.fits")["SCI"]
    changed = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    assert report.n_restored == int(np.count_nonzero(changed)) > 7000
    assert any("is an old-tool backup (no recorded sha256)" in n for n in report.notes)
    assert rate.read_bytes() == original


def test_code_name_entry_without_a_backup(tmp_path, box_mask):
    mask_file, _ = box_mask
    rate = make_rate(tmp_path / "jw01837004002_08201_00002_nrcb1_rate.fits", SHAPE)
    _old_tool_clean(rate, tool="remove_claws_snippet.py", when="2024-02-03 10:00:00")
    cleaned = rate.read_bytes()
    with pytest.raises(InputError, match="no backup from before that tool exists"):
        commit_mask(rate, [mask_file])
    report = commit_mask(rate, [mask_file], force=True)
    assert report.backup_created and report.backup.read_bytes() == cleaned
    assert any("the backup made now holds the file as that tool left it" in n for n in report.notes)


def test_old_tool_refusal_on_the_command_line(old_cleaned, box_mask):
    rate, _backup = old_cleaned
    mask_file, _ = box_mask
    cleaned = rate.read_bytes()
    done = _cli("commit", rate.name, mask_file.name, cwd=rate.parent)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ds9claw: error: ")
    assert f"old tool {OLD_TOOL}" in lines[0] and "Traceback" not in done.stderr
    assert rate.read_bytes() == cleaned
    forced = _cli("commit", rate.name, mask_file.name, "--force", cwd=rate.parent)
    assert forced.returncode == 0, forced.stderr
    assert "claws already removed by the old tool" in forced.stdout
    refused = _cli("revert", rate.name, cwd=rate.parent)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "the claw removal by the old tool" in refused.stderr

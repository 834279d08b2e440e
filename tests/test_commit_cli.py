"""``ds9claw commit`` / ``ds9claw revert`` on the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from commit_helpers.factory import make_rate, read_arrays, write_mask

from ds9claw.cli import main
from ds9claw.commit import backup_path_for
from ds9claw.dq import DEFAULT_COMMIT_FLAGS, interpret_flags

BITS = interpret_flags(DEFAULT_COMMIT_FLAGS)
SHAPE = (256, 256)
TEMPLATE = "{dataset}_cal_claws_seed_image_zeroonemask.fits.gz"


def _box(i: int) -> np.ndarray:
    mask = np.zeros(SHAPE, bool)
    mask[10 + 20 * i : 30 + 20 * i, 40 : 90 + i] = True
    return mask


@pytest.fixture
def visit(tmp_path):
    """Three rate files of one visit, each with its own mask named after its dataset."""
    rates, masks = [], []
    for i, det in enumerate(("nrca1", "nrca2", "nrcb1")):
        rate = make_rate(tmp_path / f"jw01345001001_02201_00001_{det}_rate.fits", SHAPE, seed=i)
        mask = _box(i)
        write_mask(
            tmp_path / f"jw01345001001_02201_00001_{det}_cal_claws_seed_image_zeroonemask.fits.gz",
            mask,
        )
        rates.append(rate)
        masks.append(mask)
    return tmp_path, rates, masks


def _listing(directory: Path):
    return sorted(p.name for p in directory.iterdir())


def test_single_commit_and_revert(visit, capsys):
    directory, rates, masks = visit
    rate = rates[0]
    original = rate.read_bytes()
    mask_file = (
        directory / "jw01345001001_02201_00001_nrca1_cal_claws_seed_image_zeroonemask.fits.gz"
    )
    assert main(["commit", str(rate), str(mask_file)]) == 0
    out = capsys.readouterr().out
    n = int(masks[0].sum())
    assert f"flagged {n} pixels ({n} newly)" in out and "backup" in out
    assert np.all(read_arrays(rate)["DQ"][masks[0]] & BITS == BITS)

    assert main(["commit", str(rate), str(mask_file)]) == 0
    assert "already committed" in capsys.readouterr().out

    assert main(["revert", str(rate)]) == 0
    assert f"restored from {backup_path_for(rate).name} ({n} pixels)" in capsys.readouterr().out
    assert rate.read_bytes() == original


def test_batch_with_template_jobs_and_a_failure(visit, capsys):
    directory, rates, masks = visit
    # the third mask is missing: that file fails, the others are committed
    (
        directory / "jw01345001001_02201_00001_nrcb1_cal_claws_seed_image_zeroonemask.fits.gz"
    ).unlink()
    third = rates[2].read_bytes()
    cwd = Path.cwd()
    os.chdir(directory)
    try:
        code = main(
            ["commit", *[r.name for r in rates], "--mask", TEMPLATE, "--jobs", "2", "--progress"]
        )
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.out.splitlines()
    assert lines[0].split() == ["file", "pixels", "new", "status"]
    rows = {line.split()[0]: line for line in lines[1:4]}
    for rate, mask in zip(rates[:2], masks[:2], strict=True):
        row = rows[rate.name].split()
        assert row[1] == row[2] == str(int(mask.sum()))
        assert row[3] == "committed"
        assert np.all(read_arrays(rate)["DQ"][mask] & BITS == BITS)
    assert "FAILED: mask" in rows[rates[2].name] and "does not exist" in rows[rates[2].name]
    assert lines[4] == "3 files: 2 committed, 1 failed"
    assert "1 of 3 files failed" in captured.err
    progress_lines = [x for x in captured.err.splitlines() if x.startswith("commit: ")]
    assert [x.split()[1] for x in progress_lines] == ["1/3", "2/3", "3/3"]
    assert rates[2].read_bytes() == third


def test_batch_dry_run_writes_nothing(visit, capsys):
    directory, rates, masks = visit
    before = {r: r.read_bytes() for r in rates}
    names = _listing(directory)
    template = str(directory / TEMPLATE)
    assert main(["commit", *map(str, rates), "--mask", template, "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[-1] for line in lines[1:4]] == ["dry-run"] * 3
    assert [line.split()[1] for line in lines[1:4]] == [str(int(m.sum())) for m in masks]
    assert lines[4] == "3 files: 3 dry-run"
    assert all(r.read_bytes() == b for r, b in before.items())
    assert _listing(directory) == names


def test_output_dir_keeps_inputs(visit, capsys, tmp_path_factory):
    _directory, rates, masks = visit
    out_dir = tmp_path_factory.mktemp("committed")
    before = {r: r.read_bytes() for r in rates}
    template = "{dir}/" + TEMPLATE
    assert (
        main(
            [
                "commit",
                *map(str, rates),
                "--mask",
                template,
                "--output-dir",
                str(out_dir),
                "--flags",
                "DO_NOT_USE",
                "--fill-value",
                "nan",
            ]
        )
        == 0
    )
    assert all(r.read_bytes() == b for r, b in before.items())
    assert _listing(out_dir) == sorted(r.name for r in rates)
    for rate, mask in zip(rates, masks, strict=True):
        arrays = read_arrays(out_dir / rate.name)
        assert np.all(arrays["DQ"][mask] & 1) and np.isnan(arrays["SCI"][mask]).all()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["commit", "a_rate.fits"], "at least one mask"),
        (
            ["commit", "a_rate.fits", "b_rate.fits", "--mask", "m.fits", "--output", "x.fits"],
            "--output takes one rate file",
        ),
        (["commit", "a_rate.fits", "m.fits", "--jobs", "0"], "at least 1"),
        (["commit", "a_rate.fits", "m.fits", "--output", "x", "--output-dir", "d"], "not both"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_input_one_line_exit_1(visit, capsys):
    directory, rates, _ = visit
    wrong = write_mask(directory / "wrong.fits", np.ones((100, 100), np.uint8))
    names = _listing(directory)
    assert main(["commit", str(rates[0]), str(wrong)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ds9claw: error: mask ")
    assert "100x100" in err[0] and "256x256" in err[0]
    assert main(["commit", str(rates[0]), str(wrong), "--flags", "NOPE"]) == 1
    assert "unknown DQ flag 'NOPE'" in capsys.readouterr().err
    assert main(["revert", str(rates[1])]) == 1
    assert "no backup" in capsys.readouterr().err
    assert _listing(directory) == names


def test_whole_process_command(visit):
    directory, rates, masks = visit
    mask_file = (
        directory / "jw01345001001_02201_00001_nrca2_cal_claws_seed_image_zeroonemask.fits.gz"
    )
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-m", "ds9claw", "commit", str(rates[1]), str(mask_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    n = int(masks[1].sum())
    assert f"flagged {n} pixels" in result.stdout
    assert "next: rerun calwebb_image2" in result.stderr
    assert np.all(read_arrays(rates[1])["DQ"][masks[1]] & BITS == BITS)
    help_text = subprocess.run(
        [sys.executable, "-m", "ds9claw", "revert", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert help_text.returncode == 0 and "_before_removing_claws" in help_text.stdout


def test_detect_then_commit_visit_by_template(example_copy, capsys):
    """The observer's flow: detect on the cal with the region, commit into the rate."""
    from ds9claw.api import detect_file

    products = detect_file(example_copy.cal, include=[example_copy.region], gzip=True)
    assert products.mask_path.name == (
        f"{example_copy.dataset}_cal_claws_seed_image_zeroonemask.fits.gz"
    )
    detected = products.result.mask
    assert products.result.n_masked == int(detected.sum()) > 0
    before = read_arrays(example_copy.rate)["DQ"]
    directory = example_copy.rate.parent
    code = main(["commit", str(example_copy.rate), "--mask", "{dir}/" + TEMPLATE, "--dry-run"])
    assert code == 0 and f"would flag {int(detected.sum())} pixels" in capsys.readouterr().out
    assert main(["commit", str(example_copy.rate), "--mask", "{dir}/" + TEMPLATE]) == 0
    out = capsys.readouterr().out
    assert f"flagged {int(detected.sum())} pixels" in out and "note:" not in out
    after = read_arrays(example_copy.rate)["DQ"]
    expected = before.copy()
    expected[detected] |= np.uint32(BITS)
    np.testing.assert_array_equal(after, expected)
    assert backup_path_for(example_copy.rate).exists()
    assert sorted(p.name for p in directory.iterdir() if p.name.startswith(".")) == []

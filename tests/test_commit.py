"""ds9claw.commit: commit_mask / revert on real stdatamodels rate files."""

from __future__ import annotations

import gzip
import os
import shutil

import numpy as np
import pytest
from astropy.io import fits
from commit_helpers.factory import HOT, history_text, make_rate, read_arrays, write_mask

from ds9claw import __version__
from ds9claw.commit import (
    BACKUP_SUFFIX,
    HISTORY_PREFIX,
    backup_path_for,
    commit_mask,
    dataset_name,
    expand_mask_template,
    load_masks,
    revert,
)
from ds9claw.dq import DEFAULT_COMMIT_FLAGS, PIXEL_FLAGS, interpret_flags
from ds9claw.errors import CommitError, InputError, OutputExistsError, ParameterError
from ds9claw.filelock import file_lock, lock_path_for
from ds9claw.safeio import temp_path_for

BITS = interpret_flags(DEFAULT_COMMIT_FLAGS)
SHAPE = (256, 256)


def _listing(directory):
    return sorted(p.name for p in directory.iterdir())


def _box(shape=SHAPE, rows=(60, 120), cols=(30, 200)):
    mask = np.zeros(shape, bool)
    mask[rows[0] : rows[1], cols[0] : cols[1]] = True
    return mask


@pytest.fixture
def rate(tmp_path):
    return make_rate(tmp_path / "jw01345001001_02201_00001_nrcb1_rate.fits", SHAPE)


@pytest.fixture
def mask_file(tmp_path):
    return write_mask(
        tmp_path / "jw01345001001_02201_00001_nrcb1_cal_claws_seed_image_zeroonemask.fits", _box()
    )


def _asdf_history(path):
    from stdatamodels.fits_support import from_fits_asdf

    with fits.open(path) as hdul:
        tree = from_fits_asdf(hdul).tree
    return list(tree.get("history", {}).get("entries", []))


def test_names():
    assert backup_path_for("/d/X_nrcb1_rate.fits").name == f"X_nrcb1_rate{BACKUP_SUFFIX}.fits"
    assert dataset_name("/d/jw01_02201_00001_nrca1_rate.fits") == "jw01_02201_00001_nrca1"
    assert dataset_name("jw01_nrca1_cal.fits.gz") == "jw01_nrca1"
    # a relative template is beside the rate file, wherever the process runs
    assert str(expand_mask_template("m/{dataset}_cal_x.fits.gz", "/d/jw9_nrcb1_rate.fits")) == (
        "/d/m/jw9_nrcb1_cal_x.fits.gz"
    )
    assert str(expand_mask_template("{dir}/{stem}.reg", "/d/a_rate.fits")) == "/d/a_rate.reg"
    with pytest.raises(ParameterError, match="unknown field"):
        expand_mask_template("{visit}.fits", "a_rate.fits")


def test_commit_example_rate_with_truth_mask(example_copy):
    rate = example_copy.rate
    before_bytes = rate.read_bytes()
    before = read_arrays(rate)
    truth = example_copy.load_truth()
    report = commit_mask(rate, [example_copy.truth])

    assert report.status == "committed"
    assert report.n_masked == int(truth.sum()) > 50
    assert report.n_flagged == report.n_masked  # no claw pixel had all four bits before
    after = read_arrays(rate)
    expected_dq = before["DQ"].copy()
    expected_dq[truth] |= np.uint32(BITS)
    np.testing.assert_array_equal(after["DQ"], expected_dq)
    assert after["DQ"].dtype == np.uint32
    assert np.all(after["SCI"][truth] == 0.0)
    np.testing.assert_array_equal(after["SCI"][~truth], before["SCI"][~truth])
    for name in ("ERR", "VAR_POISSON", "VAR_RNOISE"):
        np.testing.assert_array_equal(after[name], before[name])
    # backup: the untouched original, bit for bit
    assert report.backup == backup_path_for(rate) and report.backup_created
    assert report.backup.read_bytes() == before_bytes
    # nothing else left in the directory
    assert not any(n.startswith(".") for n in _listing(rate.parent))


def test_history_entry_through_stdatamodels(rate, mask_file, caplog):
    import logging

    from stdatamodels.jwst.datamodels import ImageModel

    # third-party warnings are logged by commit_mask: none may come (e.g. no deprecated
    # history API); attach the handler directly, the CLI may have stopped propagation
    logger = logging.getLogger("ds9claw.commit")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="ds9claw.commit"):
            report = commit_mask(rate, [mask_file])
    finally:
        logger.removeHandler(caplog.handler)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    sha = report.mask_sha256[0]
    assert report.history.startswith(f"{HISTORY_PREFIX} {__version__}: mask {mask_file.name}")
    assert (
        sha in report.history
        and "DO_NOT_USE+UNRELIABLE_DARK+UNRELIABLE_FLAT+OTHER_BAD_PIXEL" in (report.history)
    )
    assert f"into {report.n_masked} pixels" in report.history
    entries = _asdf_history(rate)
    ours = [e for e in entries if str(e["description"]).startswith(HISTORY_PREFIX)]
    assert len(ours) == 1
    assert ours[0]["description"] == report.history
    software = ours[0]["software"]
    assert software["name"] == "ds9claw" and software["version"] == __version__
    assert software["author"] and software["homepage"].startswith("https://")
    # the FITS HISTORY cards carry the same text (split over 72-character cards)
    assert "".join(report.history.split()) in "".join(history_text(rate).split())
    # the file is still a valid ImageModel (no warning: pytest turns them into errors)
    with ImageModel(str(rate)) as model:
        assert model.meta.filename == rate.name
        assert int(model.dq[100, 100]) & BITS == BITS


def test_masked_pixels_leave_image3_resampling(example_copy):
    from astropy.nddata.bitmask import bitfield_to_boolean_mask
    from jwst.resample.resample_step import GOOD_BITS
    from jwst.resample.resample_utils import build_mask

    rate = example_copy.rate
    truth = example_copy.load_truth()
    dq_before = read_arrays(rate)["DQ"]
    used_before = build_mask(dq_before, GOOD_BITS).astype(bool)
    # the claw is drizzled before the commit (except the example's few dead pixels)
    assert used_before[truth].sum() > 0.99 * truth.sum()

    commit_mask(rate, [example_copy.truth])
    dq_after = read_arrays(rate)["DQ"]
    used_after = build_mask(dq_after, GOOD_BITS).astype(bool)
    assert GOOD_BITS == "~DO_NOT_USE+NON_SCIENCE"
    assert not used_after[truth].any()  # every masked pixel is left out
    np.testing.assert_array_equal(used_after[~truth], used_before[~truth])  # the rest kept
    # the same with astropy's rule as resample states it
    good = bitfield_to_boolean_mask(
        dq_after, GOOD_BITS, good_mask_value=True, flag_name_map=PIXEL_FLAGS
    )
    np.testing.assert_array_equal(good, used_after)


def test_other_bad_pixel_alone_still_drizzles(rate, mask_file):
    from jwst.resample.resample_step import GOOD_BITS
    from jwst.resample.resample_utils import build_mask

    commit_mask(rate, [mask_file], flags="OTHER_BAD_PIXEL")
    dq = read_arrays(rate)["DQ"]
    mask = _box()
    assert np.all(dq[mask] & PIXEL_FLAGS["OTHER_BAD_PIXEL"])
    assert not np.any(dq[mask] & PIXEL_FLAGS["DO_NOT_USE"])
    assert build_mask(dq, GOOD_BITS).astype(bool)[mask].all()


def test_same_mask_again_is_a_noop_and_new_mask_adds(rate, mask_file, tmp_path):
    original = rate.read_bytes()
    first = commit_mask(rate, [mask_file])
    committed = rate.read_bytes()
    inode = rate.stat().st_ino

    again = commit_mask(rate, [mask_file])
    assert again.status == "already-committed"
    assert again.n_flagged == 0 and again.n_filled == 0 and again.n_masked == first.n_masked
    assert any("in the file's history" in n for n in again.notes)
    assert rate.read_bytes() == committed and rate.stat().st_ino == inode

    second_mask = _box(rows=(100, 180), cols=(150, 250))  # overlaps the first
    other = write_mask(tmp_path / "snowball_mask.fits", second_mask)
    report = commit_mask(rate, [other], flags="DO_NOT_USE+PERSISTENCE")
    assert report.status == "committed"
    assert report.n_masked == int(second_mask.sum())
    # overlap pixels lacked PERSISTENCE, so every pixel of the new mask is newly flagged
    assert report.n_flagged == report.n_masked
    assert not report.backup_created
    assert backup_path_for(rate).read_bytes() == original  # first backup kept
    dq = read_arrays(rate)["DQ"]
    both = _box() & second_mask
    assert np.all(
        dq[both] & (BITS | PIXEL_FLAGS["PERSISTENCE"]) == (BITS | PIXEL_FLAGS["PERSISTENCE"])
    )
    only_second = second_mask & ~_box()
    assert np.all(dq[only_second] & BITS == PIXEL_FLAGS["DO_NOT_USE"])
    history = "".join(history_text(rate).split())
    assert history.count("".join(HISTORY_PREFIX.split())) == 2
    assert first.mask_sha256[0] in history and report.mask_sha256[0] in history
    ours = [e for e in _asdf_history(rate) if "software" in e]
    assert [e["description"] for e in ours] == [report.history]


def test_existing_bits_kept_flags_int_and_fill_nan(rate, mask_file):
    before = read_arrays(rate)
    mask = _box()
    hot_in_mask = (before["DQ"] & HOT).astype(bool) & mask
    assert hot_in_mask.any()
    report = commit_mask(rate, [mask_file], flags=PIXEL_FLAGS["DO_NOT_USE"], fill_value="nan")
    after = read_arrays(rate)
    assert np.all(after["DQ"][hot_in_mask] & HOT)
    np.testing.assert_array_equal(after["DQ"], before["DQ"] | (mask * np.uint32(1)))
    assert np.isnan(after["SCI"][mask]).all()
    # pixels already NaN in the mask do not count as filled
    assert report.n_filled == int(np.count_nonzero(mask & ~np.isnan(before["SCI"])))
    assert "SCI set to nan" in report.history
    for name in ("ERR", "VAR_POISSON", "VAR_RNOISE"):
        np.testing.assert_array_equal(after[name], before[name])


def test_region_file_and_float_seed_masks_are_ored(example_copy, tmp_path):
    from ds9claw.region_mask import region_masks
    from ds9claw.region_parse import RegionSource

    rate = example_copy.rate
    with fits.open(rate) as hdul:
        header = hdul["SCI"].header
        shape = hdul["SCI"].data.shape
    region_mask, _ = region_masks(
        shape, include=[RegionSource.from_file(example_copy.region)], header=header
    )
    seed = np.zeros(shape, np.float32)
    seed[10:20, 10:40] = np.linspace(0.0, 1.0, 30, dtype=np.float32)  # 0 stays unmasked
    seed_file = write_mask(tmp_path / "seed.fits.gz", seed, dtype=np.float32)
    loaded = load_masks([example_copy.region, seed_file], shape, header=header)
    assert [m.kind for m in loaded] == ["region", "fits"]
    assert loaded[1].n_pixels == 10 * 29
    report = commit_mask(rate, [example_copy.region, seed_file])
    union = region_mask | (seed > 0)
    assert report.n_masked == int(union.sum())
    assert report.masks == (example_copy.region, seed_file)
    dq = read_arrays(rate)["DQ"]
    flagged = (dq & BITS) == BITS
    np.testing.assert_array_equal(flagged & ~union, np.zeros(shape, bool) & ~union)
    assert flagged[union].all()
    assert "masks " + example_copy.region.name in report.history


def test_shape_mismatch_is_refused_before_anything(rate, tmp_path):
    small = write_mask(tmp_path / "small_mask.fits", np.ones((128, 100), np.uint8))
    before = rate.read_bytes()
    names = _listing(tmp_path)
    with pytest.raises(InputError) as info:
        commit_mask(rate, [small])
    message = str(info.value)
    assert "100x128" in message and "256x256" in message
    assert rate.read_bytes() == before and _listing(tmp_path) == names


@pytest.mark.parametrize("damage", ["truncated", "truncated-gz", "not-fits", "empty", "missing"])
def test_bad_masks_refused_before_anything(rate, tmp_path, damage):
    good = write_mask(tmp_path / "good.fits", _box())
    raw = good.read_bytes()
    if damage == "truncated":
        bad = tmp_path / "bad_mask.fits"
        bad.write_bytes(raw[: len(raw) - 20000])
        pattern = "damaged or truncated"
    elif damage == "truncated-gz":
        bad = tmp_path / "bad_mask.fits.gz"
        zipped = gzip.compress(raw)
        bad.write_bytes(zipped[: len(zipped) // 2])
        pattern = "truncated gzip"
    elif damage == "not-fits":
        bad = tmp_path / "bad_mask.fits"
        bad.write_text("this is a text file, not FITS\n")
        pattern = "not a FITS file"
    elif damage == "empty":
        bad = tmp_path / "bad_mask.fits"
        bad.write_bytes(b"")
        pattern = "empty"
    else:
        bad = tmp_path / "bad_mask.fits"
        pattern = "does not exist"
    before = rate.read_bytes()
    names = _listing(tmp_path)
    with pytest.raises(InputError, match=pattern):
        commit_mask(rate, [good, bad])
    assert rate.read_bytes() == before and _listing(tmp_path) == names


def test_cal_file_with_note(tmp_path, mask_file):
    cal = make_rate(tmp_path / "jw01345001001_02201_00001_nrcb1_cal.fits", SHAPE, cal=True)
    report = commit_mask(cal, [mask_file])
    assert report.status == "committed"
    assert any("calwebb_image2 need not be rerun" in n for n in report.notes)
    after = read_arrays(cal)
    assert "VAR_FLAT" in after and np.all(after["DQ"][_box()] & BITS == BITS)


def test_non_nircam_and_non_imagemodel_need_force(tmp_path, mask_file):
    miri = make_rate(tmp_path / "jw0_mirimage_rate.fits", SHAPE, instrument="MIRI")
    before = miri.read_bytes()
    with pytest.raises(InputError, match=r"MIRI file, not NIRCam.*`force=True`"):
        commit_mask(miri, [mask_file])
    assert miri.read_bytes() == before
    report = commit_mask(miri, [mask_file], force=True)
    assert report.n_masked == int(_box().sum())
    assert np.all(read_arrays(miri)["DQ"][_box()] & BITS == BITS)

    ifu = make_rate(tmp_path / "jw0_nrcb1_ifu_rate.fits", SHAPE, model="IFUImageModel")
    with pytest.raises(InputError, match="IFUImageModel file, not an ImageModel"):
        commit_mask(ifu, [mask_file])
    assert commit_mask(ifu, [mask_file], force=True).status == "committed"
    assert np.all(read_arrays(ifu)["DQ"][_box()] & BITS == BITS)
    cube = make_rate(tmp_path / "jw0_nrcb1_rateints.fits", SHAPE, model="CubeModel")
    for force in (False, True):
        with pytest.raises(InputError, match=r"SCI is 3-D.*not \*_rateints"):
            commit_mask(cube, [mask_file], force=force)
    backup = backup_path_for(miri)
    with pytest.raises(InputError, match="is a ds9claw backup"):
        commit_mask(backup, [mask_file])
    plain = tmp_path / "plain_rate.fits"
    plain.write_text("SIMPLE? no\n")
    with pytest.raises(InputError, match="not a FITS file"):
        commit_mask(plain, [mask_file])


def test_output_leaves_input_untouched(rate, mask_file, tmp_path):
    before = rate.read_bytes()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "new_rate.fits"
    report = commit_mask(rate, [mask_file], output=out)
    assert report.output == out and report.backup is None
    assert rate.read_bytes() == before
    assert not backup_path_for(rate).exists()
    assert np.all(read_arrays(out)["DQ"][_box()] & BITS == BITS)
    with fits.open(out) as hdul:
        assert hdul[0].header["FILENAME"] == "new_rate.fits"
    with pytest.raises(OutputExistsError, match="`overwrite=True`"):
        commit_mask(rate, [mask_file], output=out)
    assert commit_mask(rate, [mask_file], output=out, overwrite=True).status == "committed"
    assert _listing(out_dir) == ["new_rate.fits"]


def test_dry_run_writes_nothing(rate, mask_file, tmp_path):
    before = rate.read_bytes()
    names = _listing(tmp_path)
    report = commit_mask(rate, [mask_file], dry_run=True)
    assert report.status == "dry-run"
    assert report.n_masked == report.n_flagged == int(_box().sum())
    assert rate.read_bytes() == before and _listing(tmp_path) == names


def test_read_only_target_and_directory(rate, mask_file, tmp_path):
    before = rate.read_bytes()
    rate.chmod(0o444)
    try:
        with pytest.raises(CommitError, match=r"read-only.*`output`"):
            commit_mask(rate, [mask_file])
    finally:
        rate.chmod(0o644)
    assert rate.read_bytes() == before
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(CommitError, match=f"directory {tmp_path} is read-only"):
            commit_mask(rate, [mask_file])
        names = _listing(tmp_path)
    finally:
        tmp_path.chmod(0o755)
    assert rate.read_bytes() == before
    assert names == sorted([rate.name, mask_file.name])


def test_foreign_backup_is_not_overwritten_or_reused(rate, mask_file):
    backup = backup_path_for(rate)
    backup.write_bytes(b"an older version of this exposure")
    before = rate.read_bytes()
    with pytest.raises(CommitError, match="belongs to another version"):
        commit_mask(rate, [mask_file])
    assert rate.read_bytes() == before
    assert backup.read_bytes() == b"an older version of this exposure"
    # explicitly without backup it works, and the foreign backup is still untouched
    assert commit_mask(rate, [mask_file], backup=False).status == "committed"
    assert backup.read_bytes() == b"an older version of this exposure"


def test_verification_catches_a_bad_write(rate, mask_file, monkeypatch, tmp_path):
    """A writer that corrupts ERR is caught before the rename; the target is untouched."""
    from stdatamodels.jwst.datamodels import ImageModel

    real_to_fits = ImageModel.to_fits

    def corrupting_to_fits(self, init, *args, **kwargs):
        self.err[5, 5] += 1.0
        return real_to_fits(self, init, *args, **kwargs)

    monkeypatch.setattr(ImageModel, "to_fits", corrupting_to_fits)
    before = rate.read_bytes()
    names = _listing(tmp_path)
    with pytest.raises(CommitError, match=r"verification .* failed: ERR changed"):
        commit_mask(rate, [mask_file])
    assert rate.read_bytes() == before and _listing(tmp_path) == names


def test_locked_file_fails_clearly(rate, mask_file):
    before = rate.read_bytes()
    with file_lock(rate), pytest.raises(CommitError, match="locked by another ds9claw process"):
        commit_mask(rate, [mask_file], lock_timeout=0.3)
    assert rate.read_bytes() == before
    assert not lock_path_for(rate).exists()


def test_stale_temporary_is_removed(rate, mask_file):
    import subprocess
    import sys

    dead_pid = int(
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    stale = temp_path_for(rate)
    stale = stale.with_name(stale.name.replace(f"-{os.getpid()}-", f"-{dead_pid}-"))
    stale.write_bytes(b"half a file from a killed commit")
    report = commit_mask(rate, [mask_file])
    assert not stale.exists()
    assert any(stale.name in n for n in report.notes)


def test_empty_mask_is_nothing_to_do(rate, tmp_path):
    empty = write_mask(tmp_path / "empty_mask.fits", np.zeros(SHAPE, bool))
    before = rate.read_bytes()
    report = commit_mask(rate, [empty])
    assert report.status == "empty" and report.n_masked == 0
    assert rate.read_bytes() == before and not backup_path_for(rate).exists()


def test_bad_parameters(rate, mask_file):
    with pytest.raises(ParameterError, match="unknown DQ flag"):
        commit_mask(rate, [mask_file], flags="DO_NOT_USE+CLAW")
    with pytest.raises(ParameterError, match="no DQ flags"):
        commit_mask(rate, [mask_file], flags=0)
    with pytest.raises(ParameterError, match="not a number"):
        commit_mask(rate, [mask_file], fill_value="zero")
    with pytest.raises(InputError, match="no mask given"):
        commit_mask(rate, [])


def test_revert_restores_the_original(rate, mask_file, tmp_path):
    original = rate.read_bytes()
    commit_mask(rate, [mask_file])
    second = write_mask(tmp_path / "second_mask.fits", _box(rows=(200, 220)))
    commit_mask(rate, [second])
    dry = revert(rate, dry_run=True)
    assert dry.status == "dry-run"
    assert dry.n_restored == int((_box() | _box(rows=(200, 220))).sum())
    assert rate.read_bytes() != original
    report = revert(rate)
    assert report.status == "reverted" and report.n_restored == dry.n_restored
    assert rate.read_bytes() == original
    assert backup_path_for(rate).read_bytes() == original  # backup kept
    assert revert(rate).status == "already-reverted"
    # after a revert a new commit works and keeps the same backup
    assert commit_mask(rate, [second]).status == "committed"
    assert backup_path_for(rate).read_bytes() == original


def test_revert_checks_the_backup(rate, mask_file, tmp_path):
    with pytest.raises(InputError, match="no backup"):
        revert(rate)
    commit_mask(rate, [mask_file])
    backup = backup_path_for(rate)
    committed = rate.read_bytes()
    # a backup whose ERR differs is not the pre-commit file
    with fits.open(backup) as hdul:
        hdul["ERR"].data[0, 0] += 1.0
        tampered = tmp_path / "tampered.fits"
        hdul.writeto(tampered)
    shutil.copyfile(tampered, backup)
    with pytest.raises(CommitError, match=r"not the pre-commit version.*ERR differs"):
        revert(rate)
    assert rate.read_bytes() == committed
    report = revert(rate, force=True)
    assert report.status == "reverted" and report.notes
    assert rate.read_bytes() == backup.read_bytes()


def test_revert_refuses_uncommitted_file(rate):
    backup = backup_path_for(rate)
    shutil.copyfile(rate, backup)
    with fits.open(backup, mode="update") as hdul:
        hdul["SCI"].data[0, 0] = 42.0
    with pytest.raises(InputError, match="no ds9claw commit in its history"):
        revert(rate)


def test_mask_from_another_detector_or_an_exposure_is_refused(rate, tmp_path):
    before = rate.read_bytes()
    names = _listing(tmp_path)
    other = write_mask(
        tmp_path / "a1_mask.fits",
        _box(),
        DETECTOR="NRCA1",
        FILENAME="jw01345001001_02201_00001_nrca1_cal.fits",
    )
    names = _listing(tmp_path)
    with pytest.raises(InputError, match=r"made from a NRCA1 exposure but .* is NRCB1"):
        commit_mask(rate, [other])
    exposure = make_rate(tmp_path / "other_rate.fits", SHAPE, seed=9)
    names = _listing(tmp_path)
    with pytest.raises(InputError, match=r"is an exposure .*not a mask"):
        commit_mask(rate, [exposure])
    assert rate.read_bytes() == before and _listing(tmp_path) == names
    # same detector, another dataset: committed, with a note saying so
    dithered = write_mask(
        tmp_path / "b1_mask.fits",
        _box(),
        DETECTOR="NRCB1",
        FILENAME="jw01345001001_02201_00002_nrcb1_cal.fits",
    )
    report = commit_mask(rate, [dithered])
    assert report.status == "committed"
    assert any("made from jw01345001001_02201_00002_nrcb1_cal.fits" in n for n in report.notes)
    forced = commit_mask(rate, [other], force=True, flags="PERSISTENCE")
    assert forced.status == "committed"
    assert any("committed because of `force=True`" in n for n in forced.notes)


def test_symlinked_target_commits_the_real_file(rate, mask_file, tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    link = links / rate.name
    link.symlink_to(rate)
    original = rate.read_bytes()
    report = commit_mask(link, [mask_file])
    assert report.target == link and report.output == link
    assert link.is_symlink() and link.resolve() == rate
    assert np.all(read_arrays(rate)["DQ"][_box()] & BITS == BITS)
    assert backup_path_for(rate).read_bytes() == original
    assert _listing(links) == [rate.name]
    assert revert(link).status == "reverted"
    assert link.is_symlink() and rate.read_bytes() == original

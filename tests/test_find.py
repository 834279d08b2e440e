"""``ds9claw find`` on the example visit: the accuracy figures of issue 9, files and CLI."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest
from astropy.io import fits
from scipy import ndimage

from ds9claw.cli import main
from ds9claw.errors import InputError, OutputExistsError
from ds9claw.example_visit import UNIQUE_ARC_EXPOSURE
from ds9claw.find_files import CANDIDATE_TAG, find_files
from ds9claw.region_pixels import rasterize_shape

OBSERVERS = ["--sigma", "2", "--smooth", "1", "--minpixarea", "1", "--ignore-background"]


@pytest.fixture
def restore_ds9claw_logging():
    """``main`` attaches a handler to the ``ds9claw`` logger; put it back afterwards."""
    logger = logging.getLogger("ds9claw")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


def _copy_visit(visit, target, count=None):
    target.mkdir(exist_ok=True)
    exposures = visit.exposures[:count] if count else visit.exposures
    cals = []
    for exposure in exposures:
        for path in (exposure.cal, exposure.truth):
            shutil.copy2(path, target / path.name)
        cals.append(target / exposure.cal.name)
    return cals


@pytest.fixture(scope="module")
def found(example_visit_small, tmp_path_factory):
    """The visit copied and searched once with the defaults."""
    cals = _copy_visit(example_visit_small, tmp_path_factory.mktemp("found"))
    return cals, find_files(cals)


def _polygon_mask(candidates, shape):
    mask = np.zeros(shape, bool)
    for candidate in candidates:
        mask |= rasterize_shape("polygon", candidate.polygon, shape)
    return mask


def _truth(cal):
    return fits.getdata(str(cal).replace("_cal.fits", "_claw_truth.fits")) > 0


# ----------------------------------------------------------------------------- accuracy


def test_candidates_hold_95_percent_of_every_exposure_claw(found):
    cals, results = found
    recalls = []
    for cal, result in zip(cals, results, strict=True):
        truth = _truth(cal)
        inside = _polygon_mask(result.candidates, truth.shape)
        recalls.append((inside & truth).sum() / truth.sum())
    assert min(recalls) >= 0.95, recalls
    # The exposure with the one-dither arc has one candidate more than the others.
    counts = [len(r.candidates) for r in results]
    assert counts[UNIQUE_ARC_EXPOSURE] == max(counts) == min(counts) + 1


def test_candidates_cover_at_most_three_times_the_claw(found):
    cals, results = found
    for cal, result in zip(cals, results, strict=True):
        truth = _truth(cal)
        area = _polygon_mask(result.candidates, truth.shape).sum()
        assert truth.sum() < area <= 3 * truth.sum()


def test_polygons_are_simplified_to_tens_of_vertices(found):
    _, results = found
    vertices = [len(c.polygon) for r in results for c in r.candidates]
    assert vertices and all(8 <= n <= 60 for n in vertices), vertices
    kinds = {c.kind for r in results for c in r.candidates}
    assert kinds == {"claw"}
    assert all(c.score > 5 for r in results for c in r.candidates)


def test_no_claws_visit_gets_almost_no_candidates(example_visit_small_no_claws, tmp_path):
    cals = _copy_visit(example_visit_small_no_claws, tmp_path)
    results = find_files(cals)
    for result in results:
        shape = fits.getdata(result.path, "SCI").shape
        covered = _polygon_mask(result.candidates, shape).mean()
        assert covered <= 0.001
        text = result.region_path.read_text()
        assert "polygon" not in text and "0 claw candidate(s)" in text


def test_detect_inside_the_candidates_recovers_the_claw(found, capsys, restore_ds9claw_logging):
    cals, _ = found
    args = ["detect", *map(str, cals), "--include-region", "{stem}_claws.pix.reg", "-q"]
    assert main([*args, *OBSERVERS, "--overwrite"]) == 0
    capsys.readouterr()
    for cal in cals:
        truth = _truth(cal)
        mask = fits.getdata(str(cal).replace(".fits", "_claws_seed_image_zeroonemask.fits")) > 0
        kept = (mask & truth).sum() / truth.sum()
        far = (ndimage.distance_transform_edt(~truth) > 6) & mask
        assert kept >= 0.95
        assert far.sum() <= 0.03 * mask.sum()


# ----------------------------------------------------------------------------- region files


def test_region_file_is_ds9_4_1_image_polygons_with_tag_and_score(found):
    from regions import PolygonPixelRegion, Regions

    _, results = found
    result = results[UNIQUE_ARC_EXPOSURE]
    lines = result.region_path.read_text().splitlines()
    assert lines[0] == "# Region file format: DS9 version 4.1"
    assert "image" in lines
    shapes = [line for line in lines if line.startswith("polygon(")]
    assert len(shapes) == len(result.candidates) == 2
    for line, candidate in zip(shapes, result.candidates, strict=True):
        assert f"tag={{{CANDIDATE_TAG}}}" in line
        assert f"text={{claw {candidate.score:.1f}}}" in line
        assert "dash=1" in line
    parsed = Regions.read(str(result.region_path), format="ds9")
    assert all(isinstance(r, PolygonPixelRegion) for r in parsed)
    assert parsed[0].meta["tag"] == [CANDIDATE_TAG]
    np.testing.assert_allclose(parsed[0].vertices.x, result.candidates[0].polygon[:, 0], atol=0.01)


def test_fewer_than_three_exposures_is_a_clear_error(
    example_visit_small, tmp_path, capsys, restore_ds9claw_logging
):
    cals = _copy_visit(example_visit_small, tmp_path, count=2)
    assert main(["find", *map(str, cals)]) == 1
    err = capsys.readouterr().err
    assert "NRCB1 F200W" in err and "at least 3" in err and "--single" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not list(tmp_path.glob("*.reg"))


def test_single_warns_and_proposes(example_visit_small, tmp_path, capsys, restore_ds9claw_logging):
    cals = _copy_visit(example_visit_small, tmp_path, count=1)
    assert main(["find", str(cals[0]), "--single"]) == 0
    captured = capsys.readouterr()
    assert "--single" in captured.err and "galaxies" in captured.err
    region = tmp_path / cals[0].name.replace(".fits", "_claws.pix.reg")
    assert region.read_text().count("polygon(") >= 1
    assert str(region) in captured.out


def test_existing_region_file_is_kept_and_overwrite_keeps_a_backup(
    example_visit_small, tmp_path, capsys, restore_ds9claw_logging
):
    cals = _copy_visit(example_visit_small, tmp_path, count=3)
    drawn = tmp_path / cals[1].name.replace(".fits", "_claws.pix.reg")
    hand = b"# Region file format: DS9 version 4.1\nimage\npolygon(10,10,60,10,60,60)\n"
    drawn.write_bytes(hand)
    assert main(["find", *map(str, cals)]) == 1
    err = capsys.readouterr().err
    assert "exists" in err and "--overwrite" in err
    assert drawn.read_bytes() == hand
    assert sorted(p.name for p in tmp_path.glob("*.reg*")) == [drawn.name]  # nothing written

    assert main(["find", *map(str, cals), "--overwrite"]) == 0
    out = capsys.readouterr().out
    backup = drawn.with_name(drawn.name + ".bak")
    assert backup.read_bytes() == hand and f"kept as {backup}" in out
    assert CANDIDATE_TAG in drawn.read_text()
    second = drawn.read_bytes()
    assert main(["find", *map(str, cals), "--overwrite", "-q"]) == 0
    assert backup.read_bytes() == hand  # an older backup is never replaced
    assert drawn.with_name(drawn.name + ".bak1").read_bytes() == second


def test_output_suffix_and_table(example_visit_small, tmp_path, capsys, restore_ds9claw_logging):
    cals = _copy_visit(example_visit_small, tmp_path, count=3)
    assert main(["find", *map(str, cals), "--output-suffix", "_auto.reg"]) == 0
    captured = capsys.readouterr()
    rows = captured.out.splitlines()
    assert rows[0].split()[:3] == ["exposure", "group", "cand"]
    assert len(rows) == 4 and all("NRCB1 F200W 512x512" in row for row in rows[1:])
    assert len(list(tmp_path.glob("*_cal_auto.reg"))) == 3
    assert "read " in captured.err  # progress per exposure


def test_bad_input_is_one_line_and_nothing_written(tmp_path, capsys, restore_ds9claw_logging):
    missing = tmp_path / "nothing_cal.fits"
    assert main(["find", str(missing), str(missing), str(missing)]) == 1
    assert "named twice" in capsys.readouterr().err
    with pytest.raises(InputError, match="does not exist"):
        find_files([tmp_path / "a.fits", tmp_path / "b.fits", tmp_path / "c.fits"])
    with pytest.raises(SystemExit):
        main(["find", "--help"])
    assert "tag={ds9claw candidate}" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_overwrite_is_refused_before_any_work(example_visit_small, tmp_path):
    cals = _copy_visit(example_visit_small, tmp_path, count=3)
    target = tmp_path / cals[2].name.replace(".fits", "_claws.pix.reg")
    target.write_text("hand drawn\n")
    with pytest.raises(OutputExistsError, match="drawn by hand"):
        find_files(cals)
    assert not (tmp_path / cals[0].name.replace(".fits", "_claws.pix.reg")).exists()


def test_an_unreadable_exposure_writes_nothing(example_visit_small, tmp_path):
    cals = _copy_visit(example_visit_small, tmp_path, count=3)
    other = tmp_path / "other"
    other.mkdir()
    more = _copy_visit(example_visit_small, other, count=3)
    for path in more:  # a second group: another filter
        with fits.open(path, mode="update") as hdul:
            hdul[0].header["FILTER"] = "F150W"
    whole = more[2].read_bytes()
    more[2].write_bytes(whole[: len(whole) // 3])  # headers readable, pixels cut short
    with pytest.raises(InputError, match="truncated"):
        find_files([*cals, *more])
    assert not list(tmp_path.rglob("*.reg"))
    more[2].write_bytes(whole)
    with fits.open(more[1], mode="update") as hdul:  # read fine, but no WCS to line it up
        saved = {key: hdul["SCI"].header.pop(key) for key in ("CTYPE1", "CTYPE2")}
    with pytest.raises(InputError, match="no celestial WCS"):
        find_files([*cals, *more])  # the first group was searched, nothing written
    assert not list(tmp_path.rglob("*.reg"))
    with fits.open(more[1], mode="update") as hdul:
        hdul["SCI"].header.update(saved)
    results = find_files([*cals, *more])
    assert {r.group for r in results} == {"NRCB1 F200W 512x512", "NRCB1 F150W 512x512"}
    assert all(r.region_path.exists() for r in results)

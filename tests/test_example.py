"""The synthetic NIRCam example: real JWST files, exact DQ, a faint curved claw, its region."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from astropy.io import fits
from scipy import ndimage

from ds9claw.cli import main
from ds9claw.errors import InputError, OutputExistsError, ParameterError
from ds9claw.example import (
    BACKGROUND_SIGMA,
    DEFAULT_CLAW_SNR,
    DEFAULT_DATASET,
    PHOTMJSR,
    REFERENCE_BORDER,
    example_paths,
    make_example,
)


def _dqflags():
    from stdatamodels.jwst.datamodels import dqflags

    return dqflags.pixel


def _read(path, name):
    return fits.getdata(path, name)


def _region_mask(files, shape):
    from regions import PolygonPixelRegion, Regions

    shapes = Regions.read(str(files.region), format="ds9")
    assert len(shapes) == 1
    polygon = shapes[0]
    assert isinstance(polygon, PolygonPixelRegion)
    return polygon, polygon.to_mask(mode="center").to_image(shape).astype(bool)


def _truth_header(files):
    return fits.getheader(files.truth)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 256 x 256 example with the default arguments."""
    return make_example(tmp_path_factory.mktemp("tiny"), size=256)


# ----------------------------------------------------------------------------- files


def test_files_are_jwst_image_models(example_small):
    from stdatamodels.jwst.datamodels import ImageModel

    files = example_small
    assert files.dataset == DEFAULT_DATASET
    assert files.cal.name == f"{DEFAULT_DATASET}_cal.fits"
    assert files.rate.name == f"{DEFAULT_DATASET}_rate.fits"
    assert files.region.name == f"{DEFAULT_DATASET}_cal_claws.pix.reg"
    assert files.truth.name == f"{DEFAULT_DATASET}_claw_truth.fits"
    for path, unit in ((files.cal, "MJy/sr"), (files.rate, "DN/s")):
        with ImageModel(str(path)) as model:
            assert model.data.shape == (512, 512)
            assert model.data.dtype.type is np.float32
            assert model.dq.dtype.type is np.uint32
            for name in ("err", "var_poisson", "var_rnoise"):
                assert getattr(model, name).shape == (512, 512)
            meta = model.meta
            assert meta.filename == path.name
            assert meta.instrument.name == "NIRCAM"
            assert meta.instrument.detector == "NRCB1"
            assert meta.instrument.module == "B"
            assert meta.instrument.channel == "SHORT"
            assert meta.instrument.filter == "F200W"
            assert meta.instrument.pupil == "CLEAR"
            assert meta.exposure.type == "NRC_IMAGE"
            assert meta.observation.date == "2024-01-01"
            assert meta.observation.time == "12:00:00.000"
            assert meta.observation.program_number == "09999"
            assert meta.exposure.start_time < meta.exposure.end_time
            assert meta.bunit_data == unit
            assert meta.bunit_err == unit
    with ImageModel(str(files.cal)) as cal:
        assert cal.meta.photometry.conversion_megajanskys == PHOTMJSR
        assert cal.var_flat.shape == (512, 512)


def test_fits_extensions(example_small):
    with fits.open(example_small.cal) as hdul:
        assert [h.name for h in hdul] == [
            "PRIMARY", "SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT", "ASDF",
        ]  # fmt: skip
        assert hdul["SCI"].header["BUNIT"] == "MJy/sr"
    with fits.open(example_small.rate) as hdul:
        assert [h.name for h in hdul] == [
            "PRIMARY", "SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE", "ASDF",
        ]  # fmt: skip
        assert hdul["SCI"].header["BUNIT"] == "DN/s"
        assert hdul[0].header["FILENAME"] == example_small.rate.name


def test_sci_header_has_celestial_tan_wcs(example_small):
    from astropy.wcs import WCS
    from astropy.wcs.utils import proj_plane_pixel_scales

    header = fits.getheader(example_small.cal, "SCI")
    assert header["CTYPE1"] == "RA---TAN"
    assert header["CTYPE2"] == "DEC--TAN"
    wcs = WCS(header)
    assert wcs.has_celestial
    assert wcs.celestial.naxis == 2
    scales = proj_plane_pixel_scales(wcs.celestial) * 3600
    np.testing.assert_allclose(scales, [0.031, 0.031], rtol=1e-6)
    pc = wcs.wcs.get_pc()
    assert pc[0, 1] != 0  # rotated
    assert np.linalg.det(pc) < 0  # east to the left of north, as on the sky
    ra, dec = wcs.celestial.pixel_to_world_values(255.5, 255.5)
    assert ra == pytest.approx(53.16, abs=1e-6)
    assert dec == pytest.approx(-27.78, abs=1e-6)


# ----------------------------------------------------------------------------- DQ


def test_dq_border_and_bad_pixels_exact(example_small):
    flags = _dqflags()
    border_value = flags["REFERENCE_PIXEL"] | flags["DO_NOT_USE"]
    hot_value = flags["HOT"] | flags["DO_NOT_USE"]
    dead_value = flags["DEAD"] | flags["DO_NOT_USE"]
    b = REFERENCE_BORDER
    dq_cal = _read(example_small.cal, "DQ")
    dq_rate = _read(example_small.rate, "DQ")
    np.testing.assert_array_equal(dq_cal, dq_rate)
    border = np.ones(dq_cal.shape, bool)
    border[b:-b, b:-b] = False
    assert np.all(dq_cal[border] == border_value)
    assert border.sum() == 512 * 512 - 504 * 504
    inner = dq_cal[b:-b, b:-b]
    values, counts = np.unique(inner, return_counts=True)
    found = dict(zip(values.tolist(), counts.tolist(), strict=True))
    expected_each = round(0.001 * 504 * 504)
    assert found == {0: 504 * 504 - 2 * expected_each, hot_value: expected_each,
                     dead_value: expected_each}  # fmt: skip


def test_cal_is_nan_exactly_where_do_not_use(example_small):
    do_not_use = _dqflags()["DO_NOT_USE"]
    bad = (_read(example_small.cal, "DQ") & do_not_use) != 0
    for name in ("SCI", "ERR", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT"):
        array = _read(example_small.cal, name)
        np.testing.assert_array_equal(np.isnan(array), bad, err_msg=name)
    for name in ("SCI", "ERR", "VAR_POISSON", "VAR_RNOISE"):
        assert np.all(np.isfinite(_read(example_small.rate, name))), name


def test_rate_and_cal_agree_pixel_for_pixel(example_small):
    flags = _dqflags()
    cal = _read(example_small.cal, "SCI")
    rate = _read(example_small.rate, "SCI")
    dq = _read(example_small.rate, "DQ")
    finite = np.isfinite(cal)
    np.testing.assert_array_equal(cal[finite], rate[finite] * np.float32(PHOTMJSR))
    for name in ("VAR_POISSON", "VAR_RNOISE"):
        cal_var = _read(example_small.cal, name)
        rate_var = _read(example_small.rate, name)
        np.testing.assert_allclose(cal_var[finite], rate_var[finite] * PHOTMJSR**2, rtol=1e-6)
    hot = (dq & flags["HOT"]) != 0
    dead = (dq & flags["DEAD"]) != 0
    assert np.all(rate[hot] >= 20.0)
    assert np.all(rate[dead] == 0.0)


def test_err_is_the_root_of_the_variances(example_small):
    cal = {n: _read(example_small.cal, n) for n in ("ERR", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT")}
    finite = np.isfinite(cal["ERR"])
    total = cal["VAR_POISSON"] + cal["VAR_RNOISE"] + cal["VAR_FLAT"]
    np.testing.assert_allclose(cal["ERR"][finite] ** 2, total[finite], rtol=1e-5)
    rate = {n: _read(example_small.rate, n) for n in ("ERR", "VAR_POISSON", "VAR_RNOISE")}
    np.testing.assert_allclose(
        rate["ERR"] ** 2, rate["VAR_POISSON"] + rate["VAR_RNOISE"], rtol=1e-5
    )


def test_noise_matches_err_on_empty_sky(example_small):
    from astropy.stats import sigma_clipped_stats

    sci = _read(example_small.cal, "SCI")
    err = _read(example_small.cal, "ERR")
    truth = example_small.load_truth()
    empty = np.isfinite(sci) & ~ndimage.binary_dilation(truth, iterations=10)
    _, median, std = sigma_clipped_stats(sci[empty], sigma=3.0)
    assert abs(median) < 0.1 * BACKGROUND_SIGMA
    assert std == pytest.approx(BACKGROUND_SIGMA, rel=0.03)
    assert np.nanmedian(err[empty]) == pytest.approx(BACKGROUND_SIGMA, rel=0.01)
    # The normalised residuals of empty pixels are unit Gaussian.
    _, _, pull = sigma_clipped_stats((sci / err)[empty], sigma=3.0)
    assert pull == pytest.approx(1.0, rel=0.03)


# ----------------------------------------------------------------------------- claw


def test_truth_is_one_long_curved_arc(example_small):
    truth = example_small.load_truth()
    header = _truth_header(example_small)
    scale = 512 / 2048
    assert header["CLAWLEN"] == pytest.approx(1500 * scale)
    assert header["CLAWWID"] == pytest.approx(40 * scale)
    _labels, count = ndimage.label(truth, structure=np.ones((3, 3)))
    assert count == 1
    area = int(truth.sum())
    assert area == header["NTRUTH"]
    # An annular sector of that length and width.
    assert area == pytest.approx(1500 * scale * 40 * scale, rel=0.02)
    rows, cols = np.nonzero(truth)
    bbox = (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
    assert bbox > 5 * area
    assert max(np.ptp(rows), np.ptp(cols)) > 15 * 40 * scale  # much longer than wide
    # Curved: across its best straight line it spreads over several widths.
    xy = np.column_stack([cols, rows]).astype(float)
    xy -= xy.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov(xy.T))
    across = xy @ vectors[:, 0]
    assert np.ptp(across) > 3 * 40 * scale
    # ... and a circle fits it (an algebraic fit, slightly biased by the thickness).
    x, y = xy.T
    design = np.column_stack([x, y, np.ones_like(x)])
    (a, b, c), *_ = np.linalg.lstsq(design, x**2 + y**2, rcond=None)
    assert np.sqrt(c + (a / 2) ** 2 + (b / 2) ** 2) == pytest.approx(header["CLAWRAD"], rel=0.05)
    # Every truth pixel lies in the annulus the header describes, filling its width evenly.
    r = np.hypot(cols - (header["CLAWCX"] - 1), rows - (header["CLAWCY"] - 1))
    offset = r - header["CLAWRAD"]
    assert np.abs(offset).max() <= 40 * scale / 2
    assert np.std(offset) == pytest.approx(40 * scale / np.sqrt(12), rel=0.05)


def test_truth_stays_off_the_reference_border(example_small):
    truth = example_small.load_truth()
    margin = REFERENCE_BORDER + 10
    assert not truth[:margin].any() and not truth[-margin:].any()
    assert not truth[:, :margin].any() and not truth[:, -margin:].any()


def test_claw_is_faint(example_small):
    sci = _read(example_small.cal, "SCI")
    truth = example_small.load_truth()
    header = _truth_header(example_small)
    peak = header["CLAWPEAK"]
    assert peak == pytest.approx(DEFAULT_CLAW_SNR * BACKGROUND_SIGMA)
    assert header["BKGSIGMA"] == pytest.approx(BACKGROUND_SIGMA)
    on_claw = np.nanmedian(sci[truth])
    # Inside the truth the claw is 50-100 % of a local peak that is 60-100 % of the peak.
    assert 0.4 * peak < on_claw < 0.9 * peak
    assert 1.0 < on_claw / BACKGROUND_SIGMA < 3.5  # a few sigma per pixel, not more
    # Just outside the soft edges the image is back to the sky.
    ring = ndimage.binary_dilation(truth, iterations=12) & ~ndimage.binary_dilation(
        truth, iterations=8
    )
    assert abs(np.nanmedian(sci[ring])) < 0.1 * peak


def test_claw_crosses_stars(example_small):
    sci = _read(example_small.cal, "SCI")
    truth = example_small.load_truth()
    peak = _truth_header(example_small)["CLAWPEAK"]
    bright = np.nan_to_num(sci) > peak + 10 * BACKGROUND_SIGMA
    _, count = ndimage.label(bright & truth)
    assert count >= 2


def test_claw_snr_sets_the_claw_brightness(tmp_path, tiny):
    brighter = make_example(tmp_path, size=256, claw_snr=2 * DEFAULT_CLAW_SNR)
    truth = tiny.load_truth()
    np.testing.assert_array_equal(brighter.load_truth(), truth)
    difference = _read(brighter.cal, "SCI") - _read(tiny.cal, "SCI")
    ratio = np.nanmedian(difference[truth]) / np.nanmedian(_read(tiny.cal, "SCI")[truth])
    assert ratio == pytest.approx(1.0, abs=0.1)
    assert np.nanmax(np.abs(difference[~ndimage.binary_dilation(truth, iterations=8)])) < 1e-3


# ----------------------------------------------------------------------------- region


def test_region_file_is_ds9_format(example_small):
    lines = example_small.region.read_text().splitlines()
    assert lines[0] == "# Region file format: DS9 version 4.1"
    assert lines[1].startswith("global color=green dashlist=8 3 width=1 ")
    assert lines[2] == "image"
    assert lines[3].startswith("polygon(") and lines[3].endswith(")")
    assert len(lines) == 4


def test_region_encloses_the_truth_loosely(example_small):
    truth = example_small.load_truth()
    polygon, inside = _region_mask(example_small, truth.shape)
    assert 12 <= len(polygon.vertices) <= 20
    assert not (truth & ~inside).any()
    # A margin of a few pixels everywhere (15-40 px at 2048), but no blanket over the frame.
    distance = ndimage.distance_transform_edt(inside)
    assert distance[truth].min() >= 0.25 * 15 - 0.5
    assert 1.5 * truth.sum() < inside.sum() < 5 * truth.sum()
    # Drawn by hand: the vertices sit at different distances from the claw.
    vertex_rows = np.clip(np.round(polygon.vertices.y).astype(int), 0, 511)
    vertex_cols = np.clip(np.round(polygon.vertices.x).astype(int), 0, 511)
    from_truth = ndimage.distance_transform_edt(~truth)[vertex_rows, vertex_cols]
    assert np.ptp(from_truth) > 2


def test_region_mask_agrees_with_ds9claw_regions(example_small):
    from ds9claw.region_mask import region_masks
    from ds9claw.region_parse import RegionSource

    truth = example_small.load_truth()
    include, exclude = region_masks(
        truth.shape, include=[RegionSource.from_file(example_small.region)]
    )
    assert exclude is None
    _, inside = _region_mask(example_small, truth.shape)
    np.testing.assert_array_equal(include, inside)


# ----------------------------------------------------------------------------- sky


def test_sky_zero_is_sky_subtracted_and_sky_level_adds_a_gentle_gradient(
    example_small, example_small_sky
):
    flat = _read(example_small.cal, "SCI")
    sky = _read(example_small_sky.cal, "SCI")
    assert abs(np.nanmedian(flat)) < 0.05 * BACKGROUND_SIGMA
    assert np.nanmedian(sky) == pytest.approx(0.25, abs=0.003)
    # The same scene and noise draws: the difference is the sky map (plus a slight change
    # of the photon noise with the local sky level).
    blocks = (sky - flat).reshape(8, 64, 8, 64)
    block_medians = np.nanmedian(blocks, axis=(1, 3))
    spread = np.ptp(block_medians) / 0.25
    assert 0.05 < spread < 0.18
    np.testing.assert_array_equal(example_small.load_truth(), example_small_sky.load_truth())
    rate_sky = _read(example_small_sky.rate, "SCI")
    assert np.median(rate_sky) == pytest.approx(0.25 / PHOTMJSR, abs=0.006)


# ----------------------------------------------------------------------------- behaviour


def test_same_seed_same_pixels_other_seed_other_pixels(tmp_path, tiny):
    again = make_example(tmp_path / "again", size=256)
    other = make_example(tmp_path / "other", size=256, seed=1)
    for path_name in ("cal", "rate"):
        for ext in ("SCI", "ERR", "DQ", "VAR_POISSON"):
            first = _read(getattr(tiny, path_name), ext)
            np.testing.assert_array_equal(first, _read(getattr(again, path_name), ext))
    np.testing.assert_array_equal(tiny.load_truth(), again.load_truth())
    assert tiny.region.read_bytes() == again.region.read_bytes()
    sci, other_sci = _read(tiny.cal, "SCI"), _read(other.cal, "SCI")
    both = np.isfinite(sci) & np.isfinite(other_sci)
    assert np.mean(sci[both] != other_sci[both]) > 0.99
    assert not np.array_equal(tiny.load_truth(), other.load_truth())
    assert tiny.region.read_bytes() != other.region.read_bytes()


def test_refuses_to_overwrite_and_writes_nothing(tmp_path):
    first = make_example(tmp_path, size=256)
    before = {p: p.read_bytes() for p in first.paths}
    with pytest.raises(OutputExistsError, match="exists: pass `overwrite=True`"):
        make_example(tmp_path, size=256, seed=5)
    assert {p: p.read_bytes() for p in first.paths} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first.paths)
    # One existing file is enough to refuse, and nothing else appears.
    lone = tmp_path / "lone"
    lone.mkdir()
    files = example_paths(lone)
    files.region.write_text("# mine\n")
    with pytest.raises(OutputExistsError, match=files.region.name):
        make_example(lone, size=256)
    assert [p.name for p in lone.iterdir()] == [files.region.name]
    assert files.region.read_text() == "# mine\n"


def test_overwrite_replaces_files(tmp_path):
    first = make_example(tmp_path, size=256)
    old_sci = _read(first.cal, "SCI")
    second = make_example(tmp_path, size=256, seed=3, overwrite=True)
    assert second == first
    assert not np.array_equal(_read(second.cal, "SCI"), old_sci, equal_nan=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first.paths)


def test_failed_write_leaves_the_old_files(tmp_path, monkeypatch):
    import pathlib

    first = make_example(tmp_path, size=256)
    before = {p: p.read_bytes() for p in first.paths}

    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device", str(self))

    # The region is written last: the cal, rate and truth are complete temp files by then.
    monkeypatch.setattr(pathlib.Path, "write_text", disk_full)
    with pytest.raises(OSError, match="No space left"):
        make_example(tmp_path, size=256, seed=7, overwrite=True)
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in first.paths} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first.paths)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 100}, "size 100 is out of range"),
        ({"size": 4096}, "size 4096 is out of range"),
        ({"size": 300.0}, "size must be an integer"),
        ({"sky": -0.1}, "sky -0.1 MJy/sr is not usable"),
        ({"sky": float("nan")}, "sky nan MJy/sr is not usable"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"claw_snr": 0}, "claw_snr 0.0 is not usable"),
        ({"dataset": "foo"}, "must be a file-name stem ending with a NIRCam detector"),
        ({"dataset": "../jw01_nrcb1"}, "must be a file-name stem"),
        ({"dataset": "jw01_nrcb5"}, "ending with a NIRCam detector"),
    ],
)
def test_bad_arguments_are_refused_before_writing(tmp_path, kwargs, message):
    target = tmp_path / "out"
    with pytest.raises(ParameterError, match=message):
        make_example(target, **{"size": 256, **kwargs})
    assert not target.exists()


def test_output_dir_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(InputError, match="is not a directory"):
        make_example(target, size=256)
    assert target.read_text() == "x"


def test_dataset_name_sets_detector_and_ids(tmp_path):
    from stdatamodels.jwst.datamodels import ImageModel

    files = make_example(tmp_path, size=256, dataset="jw01234005001_03101_00002_nrcalong")
    assert files.cal.name == "jw01234005001_03101_00002_nrcalong_cal.fits"
    with ImageModel(str(files.cal)) as model:
        assert model.meta.instrument.detector == "NRCALONG"
        assert model.meta.instrument.module == "A"
        assert model.meta.instrument.channel == "LONG"
        assert model.meta.instrument.filter == "F444W"
        assert model.meta.observation.program_number == "01234"
        assert model.meta.observation.observation_number == "005"
        assert model.meta.observation.exposure_number == "00002"
        assert model.meta.wcsinfo.cdelt1 * 3600 == pytest.approx(0.063)


# ----------------------------------------------------------------------------- CLI


@pytest.fixture
def restore_ds9claw_logging():
    """``main`` attaches a handler to the ``ds9claw`` logger; put it back afterwards."""
    logger = logging.getLogger("ds9claw")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


def test_cli_writes_and_prints_the_paths(tmp_path, capsys, restore_ds9claw_logging, tiny):
    assert main(["example", str(tmp_path), "--size", "256", "-q"]) == 0
    out = capsys.readouterr().out.splitlines()
    files = example_paths(tmp_path)
    assert out == [
        f"cal     {files.cal}",
        f"rate    {files.rate}",
        f"region  {files.region}",
        f"truth   {files.truth}",
    ]
    np.testing.assert_array_equal(_read(files.cal, "SCI"), _read(tiny.cal, "SCI"))
    before = files.cal.read_bytes()
    assert main(["example", str(tmp_path), "--size", "256", "--seed", "2", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("ds9claw: error: ") and "--overwrite" in err[0]
    assert files.cal.read_bytes() == before


def test_cli_options_reach_the_files(tmp_path, capsys, restore_ds9claw_logging):
    argv = ["example", str(tmp_path), "--size", "256", "--sky", "0.25", "--seed", "4",
            "--dataset", "jw01234005001_03101_00002_nrcb3", "--claw-snr", "5", "-q"]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    files = example_paths(tmp_path, "jw01234005001_03101_00002_nrcb3")
    header = _truth_header(files)
    assert header["SEED"] == 4
    assert header["SKY"] == 0.25
    assert header["CLAWSNR"] == 5.0
    assert np.nanmedian(_read(files.cal, "SCI")) == pytest.approx(0.25, abs=0.005)
    assert fits.getheader(files.cal)["DETECTOR"] == "NRCB3"


def test_cli_bad_size_is_a_usage_error(tmp_path, capsys, restore_ds9claw_logging):
    with pytest.raises(SystemExit) as exit_info:
        main(["example", str(tmp_path / "out"), "--size", "100"])
    assert exit_info.value.code == 2
    assert "--size: 100 is outside 256..2048" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- full size


@pytest.mark.slow
def test_full_frame_example(example_full):
    from stdatamodels.jwst.datamodels import ImageModel

    flags = _dqflags()
    truth = example_full.load_truth()
    assert truth.shape == (2048, 2048)
    with ImageModel(str(example_full.cal)) as model:
        assert model.data.shape == (2048, 2048)
        assert model.meta.subarray.name == "FULL"
        b = REFERENCE_BORDER
        border = np.ones(model.dq.shape, bool)
        border[b:-b, b:-b] = False
        assert np.all(model.dq[border] == flags["REFERENCE_PIXEL"] | flags["DO_NOT_USE"])
        assert not np.any(model.dq[~border] & flags["REFERENCE_PIXEL"])
        hot = np.count_nonzero(model.dq & flags["HOT"])
        assert hot == round(0.001 * 2040 * 2040)
    # ~1500 px long, ~40 px wide, one piece.
    area = int(truth.sum())
    assert area == pytest.approx(1500 * 40, rel=0.01)
    assert ndimage.label(truth, structure=np.ones((3, 3)))[1] == 1
    rows, cols = np.nonzero(truth)
    assert (np.ptp(rows) + 1) * (np.ptp(cols) + 1) > 5 * area
    _, inside = _region_mask(example_full, truth.shape)
    assert not (truth & ~inside).any()
    distance = ndimage.distance_transform_edt(inside)
    assert distance[truth].min() >= 15 - 0.5
    header = fits.getheader(example_full.cal, "SCI")
    from astropy.wcs import WCS

    assert WCS(header).has_celestial

"""The dithered example visit: one sky through each exposure's WCS, claws fixed on the detector."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from scipy import ndimage

from ds9claw.cli import main
from ds9claw.errors import OutputExistsError, ParameterError
from ds9claw.example_visit import UNIQUE_ARC_EXPOSURE, make_example_visit

SIZE = 512


@pytest.fixture
def restore_ds9claw_logging():
    """``main`` attaches a handler to the ``ds9claw`` logger; put it back afterwards."""
    logger = logging.getLogger("ds9claw")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture
def visit(example_visit_small):
    return example_visit_small


@pytest.fixture
def visit_without_claws(example_visit_small_no_claws):
    return example_visit_small_no_claws


def test_four_exposures_of_one_detector_with_offsets(visit):
    assert len(visit.exposures) == 4
    names = [e.cal.name for e in visit.exposures]
    assert names[0] == "jw09999001001_02101_00001_nrcb1_cal.fits"
    offsets = np.array([e.offset for e in visit.exposures])
    assert np.all(offsets[0] == 0)
    moves = np.hypot(*offsets[1:].T)
    assert moves.min() > 10 and moves.max() < SIZE / 4  # tens to hundreds of px at 2048
    for exposure in visit.exposures:
        assert fits.getheader(exposure.cal)["DETECTOR"] == "NRCB1"
        assert exposure.rate.exists() and exposure.truth.exists()


def test_gwcs_is_the_pipeline_wcs_and_agrees_with_the_fits_keywords(visit):
    from gwcs import WCS as GWCS
    from stdatamodels.jwst.datamodels import ImageModel

    x = np.array([0.0, 100.5, SIZE - 1.0])
    y = np.array([5.0, 200.0, SIZE - 3.0])
    for exposure in visit.exposures:
        with ImageModel(exposure.cal) as model:
            assert isinstance(model.meta.wcs, GWCS)
            assert model.meta.wcs.output_frame.name == "world"
            assert model.meta.wcsinfo.s_region.startswith("POLYGON ICRS")
            ra, dec = model.meta.wcs(x, y)
        fits_wcs = WCS(fits.getheader(exposure.cal, "SCI"))
        px, py = fits_wcs.all_world2pix(ra, dec, 0)
        np.testing.assert_allclose(px, x, atol=1e-6)
        np.testing.assert_allclose(py, y, atol=1e-6)


def test_the_sky_moves_by_the_dither_offsets(visit):
    first = visit.exposures[0]
    ra, dec = WCS(fits.getheader(first.cal, "SCI")).all_pix2world([[150.0, 170.0]], 0)[0]
    for exposure in visit.exposures:
        px = WCS(fits.getheader(exposure.cal, "SCI")).all_world2pix([[ra, dec]], 0)[0]
        # A TAN projection: the shift is the nominal offset to a thousandth of a pixel.
        np.testing.assert_allclose(px - [150.0, 170.0], exposure.offset, atol=1e-3)
    # The pixels follow: the brightest star of exposure 1 is found at p + offset.
    data = [np.nan_to_num(fits.getdata(e.cal, "SCI"), nan=0.0) for e in visit.exposures]
    margin = 80
    inner = data[0][margin:-margin, margin:-margin]
    y0, x0 = np.unravel_index(np.argmax(inner), inner.shape)
    y0, x0 = y0 + margin, x0 + margin
    for image, exposure in zip(data[1:], visit.exposures[1:], strict=True):
        dx, dy = exposure.offset
        yy, xx = round(y0 + dy), round(x0 + dx)
        stamp = image[yy - 3 : yy + 4, xx - 3 : xx + 4]
        assert stamp.max() > 0.5 * data[0][y0, x0]


def test_claws_stay_on_the_detector_and_one_arc_is_in_one_dither(visit):
    truths = [e.load_truth() for e in visit.exposures]
    counts = []
    centroids = []
    for truth in truths:
        labels, count = ndimage.label(truth, structure=np.ones((3, 3)))
        counts.append(count)
        biggest = np.argmax(np.bincount(labels.ravel())[1:]) + 1
        centroids.append(ndimage.center_of_mass(labels == biggest))
    expected = [1] * 4
    expected[UNIQUE_ARC_EXPOSURE] = 2
    assert counts == expected
    spread = np.ptp(np.array(centroids), axis=0)
    assert spread.max() < 6  # the main claw moves by a few pixels only
    areas = [t.sum() for t in truths]
    assert min(areas) > 0.8 * max(a for i, a in enumerate(areas) if i != UNIQUE_ARC_EXPOSURE)


def test_no_claws_visit_is_the_same_sky_and_noise_without_claws(visit, visit_without_claws):
    for with_claws, without in zip(visit.exposures, visit_without_claws.exposures, strict=True):
        assert not without.load_truth().any()
        a = fits.getdata(with_claws.cal, "SCI")
        b = fits.getdata(without.cal, "SCI")
        far = ~ndimage.binary_dilation(with_claws.load_truth(), iterations=12)
        both = far & np.isfinite(a)
        np.testing.assert_array_equal(a[both], b[both])
        near = with_claws.load_truth() & np.isfinite(a)
        assert np.nanmean(a[near] - b[near]) > 0.02  # the claw light


def test_resample_runs_on_the_visit_offline(visit, monkeypatch):
    from jwst.datamodels import ModelLibrary
    from jwst.resample import ResampleStep
    from stdatamodels.jwst.datamodels import ImageModel

    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "True")
    models = [ImageModel(e.cal) for e in visit.exposures]
    result = ResampleStep.call(ModelLibrary(models, on_disk=False), save_results=False)
    ny, nx = result.data.shape
    # The mosaic spans the dither pattern: larger than one exposure on both axes.
    offsets = np.array([e.offset for e in visit.exposures])
    assert nx >= SIZE + np.ptp(offsets[:, 0]) - 4 and ny >= SIZE + np.ptp(offsets[:, 1]) - 4
    assert np.isfinite(result.data).mean() > 0.8
    result.close()
    for model in models:
        model.close()


def test_refuses_to_overwrite_and_bad_arguments(tmp_path):
    make_example_visit(tmp_path, size=256, n_exposures=3)
    before = (tmp_path / "jw09999001001_02101_00001_nrcb1_cal.fits").read_bytes()
    with pytest.raises(OutputExistsError, match="`overwrite=True`"):
        make_example_visit(tmp_path, size=256, n_exposures=3)
    assert (tmp_path / "jw09999001001_02101_00001_nrcb1_cal.fits").read_bytes() == before
    with pytest.raises(ParameterError, match="1 to 6"):
        make_example_visit(tmp_path / "x", n_exposures=7)
    assert not (tmp_path / "x").exists()


def test_cli_visit_and_no_claws(tmp_path, capsys, restore_ds9claw_logging):
    assert main(["example", str(tmp_path / "v"), "--visit", "3", "--size", "256", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "dither (+0.0, +0.0) px" in lines[0]
    assert len(list((tmp_path / "v").glob("*_cal.fits"))) == 3
    assert main(["example", str(tmp_path / "n"), "--visit", "--no-claws", "--size", "256"]) == 0
    truths = sorted((tmp_path / "n").glob("*_claw_truth.fits"))
    assert len(truths) == 4 and not any(fits.getdata(t).any() for t in truths)
    assert main(["example", str(tmp_path / "s"), "--visit", "--sky", "0.2"]) == 1
    assert "do not apply to --visit" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()

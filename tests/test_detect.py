"""The detection engine on real example exposures and on small arrays."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from legacy_reference import legacy_zero_one_mask
from scipy import ndimage

from ds9claw.api import detect_exposure, detect_file
from ds9claw.detect import (
    DetectionParameters,
    NoDetectionWarning,
    detect_claws,
    gaussian_kernel_1d,
    neighbour_filter,
    remove_small_groups,
    smooth_mask,
)
from ds9claw.errors import ParameterError
from ds9claw.fitsio import read_exposure
from ds9claw.region_mask import region_masks
from ds9claw.region_parse import RegionSource

SEED_PARAMS = DetectionParameters(sigma=2, minpixarea=1, smooth=1, ignore_background=True)


def _footprint(stddev: float, cutoff: float = 1e-3) -> int:
    """How far (pixels) smoothing can grow a mask past a detected pixel."""
    kernel = gaussian_kernel_1d(stddev)
    two_d = np.outer(kernel, kernel)
    yy, xx = np.nonzero(two_d >= cutoff)
    half = kernel.size // 2
    return int(np.ceil(np.hypot(yy - half, xx - half).max()))


def _check_claw_mask(
    mask, truth, include, params, *, recall=0.99, near_fraction=0.97, max_growth=1.3
):
    found = (mask & truth).sum() / truth.sum()
    assert found >= recall, f"recall {found:.4f}"
    # detections start only inside the include region; smoothing may grow the mask past
    # its edge by the smoothing footprint and no further
    reach = _footprint(params.smooth) if params.smooth else 0
    grown = ndimage.binary_dilation(include, iterations=reach + 1) if reach else include
    assert not (mask & ~grown).any()
    # the mask stays on the claw: nearly all of it within a few pixels of the truth
    distance = ndimage.distance_transform_edt(~truth)
    near = (distance[mask] <= reach + 3).mean()
    assert near >= near_fraction, f"only {near:.3f} of the mask lies near the claw"
    # and it does not fill the region
    assert mask.sum() < max_growth * truth.sum()


def test_seed_parameters_find_the_claw(example_full):
    exposure = read_exposure(example_full.cal)
    source = RegionSource.from_file(example_full.region)
    result = detect_exposure(exposure, include=[source], params=SEED_PARAMS)
    include, _ = region_masks(exposure.shape, [source])
    truth = example_full.load_truth()
    _check_claw_mask(result.mask, truth, include, SEED_PARAMS)
    assert result.seed.dtype == np.float32
    assert 0 < result.seed.max() <= 1.0
    assert np.array_equal(result.mask, result.seed > 0)
    # cost follows the work: the computed window is the region's box plus a margin
    rows, cols = result.window
    assert (rows.stop - rows.start) * (cols.stop - cols.start) < 0.6 * include.size


def test_parity_with_the_old_script(example_full):
    """Same parameters, same exposure: the old script's zero-one mask, pixel for pixel."""
    exposure = read_exposure(example_full.cal)
    source = RegionSource.from_file(example_full.region)
    include, _ = region_masks(exposure.shape, [source])
    ours = detect_exposure(exposure, include=[source], params=SEED_PARAMS).mask
    legacy = legacy_zero_one_mask(exposure.image, include, sigma=2, minpixarea=1, smooth=1)
    assert legacy.sum() > 10000
    assert np.array_equal(ours, legacy)


def test_sky_level_default_background_mode(example_full_sky):
    """With a sky level the default mode gives a claw-shaped mask, not the whole region.

    Here the noise is measured around the region without the claw, so at sigma 2 the
    noise itself leaves small specks (about 0.4% of pixels pass the 2-sigma plus one
    neighbour rule); --min-area removes them without touching the claw.
    """
    exposure = read_exposure(example_full_sky.cal)
    assert np.nanmedian(exposure.image) > 0.1
    source = RegionSource.from_file(example_full_sky.region)
    include, _ = region_masks(exposure.shape, [source])
    truth = example_full_sky.load_truth()
    params = DetectionParameters(sigma=2, minpixarea=1, smooth=1)
    result = detect_exposure(exposure, include=[source], params=params)
    _check_claw_mask(result.mask, truth, include, params, near_fraction=0.85, max_growth=1.6)
    assert result.mask.sum() < 0.6 * include.sum()
    assert result.background is not None
    valid = np.isfinite(exposure.image[result.window])
    sky = np.median(exposure.image[result.window][valid])
    assert abs(np.median(result.background) - sky) < 0.01
    cleaned_params = params.updated(min_area=20)
    cleaned = detect_exposure(exposure, include=[source], params=cleaned_params)
    _check_claw_mask(cleaned.mask, truth, include, cleaned_params, recall=0.995)


def test_ignore_background_on_sky_level_flags_the_whole_region(example_small_sky, caplog):
    """The old script's failure mode is reproduced when asked for: that is why the docs
    say to use the default mode on images that keep their sky."""
    exposure = read_exposure(example_small_sky.cal)
    source = RegionSource.from_file(example_small_sky.region)
    include, _ = region_masks(exposure.shape, [source])
    with caplog.at_level("WARNING", logger="ds9claw"):
        result = detect_exposure(exposure, include=[source], params=SEED_PARAMS)
    valid = include & np.isfinite(exposure.image)
    assert (result.mask & valid).sum() > 0.97 * valid.sum()
    assert "does not look sky-subtracted" in caplog.text


def test_small_example_both_modes(example_small, example_small_sky):
    for example, params, near, growth in (
        # the small example's claw is narrow: smoothing adds relatively more around it
        (example_small, SEED_PARAMS, 0.97, 1.7),
        (example_small_sky, DetectionParameters(sigma=2, minpixarea=1, smooth=1), 0.85, 2.0),
    ):
        exposure = read_exposure(example.cal)
        source = RegionSource.from_file(example.region)
        include, _ = region_masks(exposure.shape, [source])
        result = detect_exposure(exposure, include=[source], params=params)
        _check_claw_mask(
            result.mask,
            example.load_truth(),
            include,
            params,
            near_fraction=near,
            max_growth=growth,
        )


def test_exclude_region_is_never_flagged(example_small, tmp_path):
    exposure = read_exposure(example_small.cal)
    truth = example_small.load_truth()
    ys, xs = np.nonzero(truth)
    cx, cy = xs[len(xs) // 2] + 1, ys[len(ys) // 2] + 1
    veto = tmp_path / "veto.reg"
    veto.write_text(f"image\ncircle({cx},{cy},15)\n")
    result = detect_exposure(
        exposure, include=[example_small.region], exclude=[veto], params=SEED_PARAMS
    )
    _, exclude = region_masks(exposure.shape, [], [RegionSource.from_file(veto)])
    assert exclude.sum() > 600
    assert not (result.mask & exclude).any()
    assert (result.mask & truth).sum() > 0.9 * (truth & ~exclude).sum()


def test_min_area_and_minpixarea_meanings():
    detected = np.zeros((20, 20), bool)
    detected[2, 2] = True  # isolated pixel
    detected[5, 5:7] = True  # a pair
    detected[10:14, 10:14] = True  # a 4x4 block
    kept = neighbour_filter(detected, 1)
    assert kept.sum() == 2 + 16  # the pair keeps each other; the lone pixel goes
    assert neighbour_filter(detected, 3).sum() == 16  # every block pixel has >= 3
    assert neighbour_filter(detected, 8).sum() == 4  # only the block's inside
    assert remove_small_groups(detected, 2).sum() == 18
    assert remove_small_groups(detected, 5).sum() == 16
    diagonal = np.eye(6, dtype=bool)  # 8-connectivity joins diagonal neighbours
    assert remove_small_groups(diagonal, 6).sum() == 6


def test_smooth_matches_astropy_gaussian_kernel_and_cutoff_is_honoured():
    from astropy.convolution import Gaussian2DKernel, convolve

    rng = np.random.default_rng(1)
    detected = rng.random((60, 70)) > 0.97
    for stddev in (0.7, 1.0, 2.5):
        reference = convolve(detected.astype(float), Gaussian2DKernel(x_stddev=stddev))
        ours = smooth_mask(detected, stddev, cutoff=0.0)
        np.testing.assert_allclose(ours, reference, atol=1e-12)
    loose = smooth_mask(detected, 1.0, cutoff=1e-3)
    tight = smooth_mask(detected, 1.0, cutoff=0.1)
    assert (tight > 0).sum() < (loose > 0).sum()
    assert tight[tight > 0].min() >= 0.1


def test_smooth_cutoff_changes_the_mask(example_small):
    exposure = read_exposure(example_small.cal)
    base = dict(sigma=2, minpixarea=1, smooth=1, ignore_background=True)
    loose = detect_exposure(
        exposure,
        include=[example_small.region],
        params=DetectionParameters(**base, smooth_cutoff=1e-3),
    )
    tight = detect_exposure(
        exposure,
        include=[example_small.region],
        params=DetectionParameters(**base, smooth_cutoff=0.2),
    )
    assert tight.n_masked < loose.n_masked
    assert not (tight.mask & ~loose.mask).any()


def test_smooth_in_advance_and_median_filter_reduce_noise_detections(example_small):
    exposure = read_exposure(example_small.cal)
    truth = example_small.load_truth()
    plain = detect_exposure(
        exposure,
        include=[example_small.region],
        params=DetectionParameters(sigma=1.5, minpixarea=0, ignore_background=True),
    )
    pre = detect_exposure(
        exposure,
        include=[example_small.region],
        params=DetectionParameters(
            sigma=1.5, minpixarea=0, ignore_background=True, smooth_in_advance=1.5
        ),
    )
    med = detect_exposure(
        exposure,
        include=[example_small.region],
        params=DetectionParameters(
            sigma=1.5, minpixarea=0, ignore_background=True, median_filter=3
        ),
    )
    far = ndimage.distance_transform_edt(~truth) > 4
    assert (plain.mask & far).sum() > 20
    for better in (pre, med):
        assert (better.mask & truth).sum() > 0.9 * truth.sum()
        assert (better.mask & far).sum() < 0.5 * (plain.mask & far).sum()


def test_no_detection_is_a_warning_and_an_empty_mask():
    rng = np.random.default_rng(0)
    image = rng.normal(0, 1, (64, 64))
    include = np.zeros(image.shape, bool)
    include[10:50, 10:50] = True
    with pytest.warns(NoDetectionWarning, match="nothing detected"):
        result = detect_claws(
            image, include=include, params=DetectionParameters(sigma=8, ignore_background=True)
        )
    assert result.n_masked == 0
    assert not result.seed.any()


def test_no_region_searches_the_whole_frame():
    rng = np.random.default_rng(2)
    image = rng.normal(0, 1, (80, 80))
    image[30:40, 5:75] += 6
    result = detect_claws(image, params=DetectionParameters(sigma=3, ignore_background=True))
    assert result.mask[30:40, 5:75].mean() > 0.99
    assert result.mask.sum() < 800


@pytest.mark.parametrize(
    "changes",
    [
        {"sigma": -1},
        {"sigma": 0},
        {"sigma": float("nan")},
        {"minpixarea": -1},
        {"minpixarea": 9},
        {"min_area": -3},
        {"smooth": -0.5},
        {"smooth_cutoff": 1.5},
        {"median_filter": 0},
        {"box_size": 2},
    ],
)
def test_bad_parameters_are_refused(changes):
    with pytest.raises(ParameterError):
        DetectionParameters(**changes).validate()


def test_bad_arrays_are_refused():
    image = np.zeros((10, 10))
    with pytest.raises(ParameterError, match="2-D"):
        detect_claws(np.zeros((2, 10, 10)))
    with pytest.raises(ParameterError, match="shape"):
        detect_claws(image, include=np.ones((5, 5), bool))
    with pytest.raises(ParameterError, match="empty"):
        detect_claws(image, include=np.zeros((10, 10), bool))
    with pytest.raises(ParameterError, match="no valid pixel"):
        detect_claws(np.full((10, 10), np.nan), include=np.ones((10, 10), bool))
    with pytest.raises(ParameterError, match="noise"):
        detect_claws(
            image,
            include=np.ones((10, 10), bool),
            params=DetectionParameters(ignore_background=True),
        )


def test_background_mode_with_include_region_works_where_the_old_script_crashed(
    example_small_sky,
):
    products = detect_file(
        example_small_sky.cal,
        include=[example_small_sky.region],
        params=DetectionParameters(sigma=2, minpixarea=1, smooth=1),
        write=False,
    )
    truth = example_small_sky.load_truth()
    assert (products.result.mask & truth).sum() >= 0.99 * truth.sum()
    assert products.seed_path is None


def test_input_is_left_unchanged(example_small):
    exposure = read_exposure(example_small.cal)
    before = exposure.image.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDetectionWarning)
        detect_exposure(exposure, include=[example_small.region], params=SEED_PARAMS)
    np.testing.assert_array_equal(exposure.image, before)


def test_box_background_agrees_with_photutils():
    """The built-in box background gives what photutils' Background2D gives."""
    from photutils.background import Background2D, MADStdBackgroundRMS, MedianBackground

    from ds9claw.background import box_statistics
    from ds9claw.background import interpolate_mesh as _interpolate_mesh

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:300, 0:420]
    sky = 0.25 + 0.02 * xx / 420 - 0.01 * (yy / 300) ** 2
    image = sky + rng.normal(0, 0.015, sky.shape)
    usable = rng.random(sky.shape) > 0.05
    usable[100:140, 200:260] = False  # a masked source
    mesh, noise = box_statistics(image, usable, 30)
    reference = Background2D(
        image,
        30,
        mask=~usable,
        exclude_percentile=50.0,
        bkg_estimator=MedianBackground(),
        bkg_rms_estimator=MADStdBackgroundRMS(),
        sigma_clip=None,
    )
    np.testing.assert_allclose(mesh, reference.background_mesh, atol=0.002)
    np.testing.assert_allclose(noise, reference.background_rms_mesh, rtol=0.1)
    ours = _interpolate_mesh(mesh, image.shape, 30)
    assert np.abs(ours - reference.background)[15:-15, 15:-15].max() < 0.003
    assert np.abs(ours - sky).max() < 0.006


def test_flagged_pixels_are_never_detected():
    """A finite but flagged pixel (a rate file's hot pixel) is neither used nor detected."""
    rng = np.random.default_rng(4)
    image = rng.normal(0, 1, (60, 60))
    image[30, 30] = 500.0  # hot pixel, flagged DO_NOT_USE but finite (as in rate files)
    valid = np.ones(image.shape, bool)
    valid[30, 30] = False
    include = np.zeros(image.shape, bool)
    include[10:50, 10:50] = True
    params = DetectionParameters(sigma=5, minpixarea=0, smooth=1, ignore_background=True)
    with pytest.warns(NoDetectionWarning):
        result = detect_claws(image, valid=valid, include=include, params=params)
    assert not result.mask.any()
    unflagged = detect_claws(image, include=include, params=params)
    assert unflagged.mask[30, 30] and unflagged.mask[25:36, 25:36].sum() > 9


def test_clipped_std_is_astropys_sigma_clipped_std():
    from astropy.stats import sigma_clipped_stats

    from ds9claw.background import clipped_std as _clipped_std

    rng = np.random.default_rng(5)
    for case in range(60):
        values = rng.normal(0.0, 1.0, int(rng.integers(10, 5000)))
        if case % 3 == 0:  # a bright tail, as a claw inside its region gives
            values[: values.size // 8] += rng.uniform(3, 30, values.size // 8)
        if case % 4 == 0:  # ties at the bounds
            values = np.round(values, 1)
        values[::50] = np.nan
        finite = values[np.isfinite(values)]  # astropy warns about NaN; ours drops them
        expected = sigma_clipped_stats(finite, sigma=3.0, maxiters=5)[2]
        assert _clipped_std(values) == pytest.approx(expected, rel=1e-12, abs=0)

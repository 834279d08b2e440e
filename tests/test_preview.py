"""``ds9claw.preview``: the after mosaic is image3's resample of the committed data,
the holes are exactly the sky no unmasked pixel covers, and the claw is gone."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from astropy.io import fits
from preview_helpers.visit import make_visit

from ds9claw.dq import DEFAULT_COMMIT_FLAGS, PIXEL_FLAGS, interpret_flags
from ds9claw.errors import InputError
from ds9claw.example import BACKGROUND_SIGMA
from ds9claw.preview import QUICK_LOOK, SkyBox, preview_mosaics

REGION_TEMPLATE = "{dir}/{stem}_claws.pix.reg"
PIXEL_SCALE = 0.031  # arcsec, the example's short-wave pixels
DNU = PIXEL_FLAGS["DO_NOT_USE"]


@pytest.fixture(scope="module")
def visit(tmp_path_factory):
    return make_visit(tmp_path_factory.mktemp("visit"))


@pytest.fixture(scope="module")
def clean_visit(tmp_path_factory):
    """The same visit without the claw (same sources and noise draws)."""
    return make_visit(tmp_path_factory.mktemp("clean_visit"), claw_snr=1e-9)


@pytest.fixture(scope="module")
def claw_preview(visit):
    (pair,) = preview_mosaics(visit.cal, REGION_TEMPLATE)
    return pair


def _sha(paths):
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def _resample_files(paths, **parameters):
    from jwst.datamodels import ModelLibrary
    from jwst.resample import ResampleStep

    library = ModelLibrary([str(p) for p in paths], on_disk=False)
    return ResampleStep(**parameters).run(library)


def test_after_mosaic_equals_resample_of_the_committed_cal_files(visit, claw_preview, tmp_path):
    """Commit the region masks into the rate files, make the cal files that commit
    implies (rate DQ carried into the cal DQ, SCI NaN where DO_NOT_USE, as
    calwebb_image2's flat field leaves it) and drizzle them with ResampleStep."""
    import shutil

    from stdatamodels.jwst import datamodels

    from ds9claw.commit import commit_mask

    implied = []
    for cal, rate, region in zip(visit.cal, visit.rate, visit.region, strict=True):
        rate_copy = tmp_path / rate.name
        shutil.copy(rate, rate_copy)
        report = commit_mask(rate_copy, [region], backup=False)
        assert report.status == "committed" and report.n_masked > 1000
        with (
            datamodels.ImageModel(str(rate_copy)) as committed,
            datamodels.ImageModel(str(cal)) as model,
        ):
            model.dq |= committed.dq
            model.data[(model.dq & DNU) != 0] = np.nan
            target = tmp_path / cal.name
            model.to_fits(target, overwrite=True)
        implied.append(target)
    direct = _resample_files(implied)
    after = claw_preview.after
    assert after.data.shape == direct.data.shape
    for key in (
        "crpix1",
        "crpix2",
        "crval1",
        "crval2",
        "cdelt1",
        "cdelt2",
        "pc1_1",
        "pc1_2",
        "pc2_1",
        "pc2_2",
        "ctype1",
        "ctype2",
    ):
        assert getattr(after.meta.wcsinfo, key) == getattr(direct.meta.wcsinfo, key), key
    ny, nx = after.data.shape
    x, y = np.meshgrid(np.linspace(0, nx - 1, 7), np.linspace(0, ny - 1, 7))
    np.testing.assert_array_equal(np.array(after.meta.wcs(x, y)), np.array(direct.meta.wcs(x, y)))
    assert np.array_equal(np.isnan(after.data), np.isnan(direct.data))
    np.testing.assert_array_equal(after.data, direct.data)
    np.testing.assert_array_equal(after.wht, direct.wht)
    for name in ("err", "var_rnoise", "var_poisson", "var_flat", "con"):
        np.testing.assert_array_equal(getattr(after, name), getattr(direct, name), err_msg=name)
    # the masks changed the mosaic: the claw's pixels lost weight
    assert np.count_nonzero(after.wht < claw_preview.before.wht) > 5000


def test_preview_reads_the_cal_files_and_writes_nothing(visit, tmp_path):
    before = _sha(visit.cal + visit.region)
    listing = sorted(p.name for p in visit.cal[0].parent.iterdir())
    (pair,) = preview_mosaics(visit.cal, REGION_TEMPLATE, pixmap_stepsize=4)
    assert _sha(visit.cal + visit.region) == before
    assert sorted(p.name for p in visit.cal[0].parent.iterdir()) == listing
    assert pair.product == "jw09999-o001_nircam_clear-f200w"
    assert pair.filter == "F200W"
    assert pair.inputs == tuple(visit.cal)


def test_before_mosaic_equals_plain_resample(visit, claw_preview):
    direct = _resample_files(visit.cal)
    np.testing.assert_array_equal(claw_preview.before.data, direct.data)
    np.testing.assert_array_equal(claw_preview.before.wht, direct.wht)


def _aligned_grid(visit):
    """ResampleStep parameters of a mosaic grid shifted by half a pixel from every input
    (the dithers are whole pixels): each mosaic pixel overlaps exactly 2 x 2 pixels of
    each exposure, half a pixel away from any other, so coverage is exact."""
    ox = max(dx for dx, _ in visit.offsets)
    oy = max(dy for _, dy in visit.offsets)
    centre = (visit.size - 1) / 2
    nx, ny = visit.size + ox, visit.size + oy
    return {
        "crval": [53.16, -27.78],
        "crpix": [centre + ox + 0.5, centre + oy + 0.5],
        "pixel_scale": PIXEL_SCALE,
        "output_shape": [nx, ny],
    }, (ox, oy, nx, ny)


def _expected_coverage(visit, masks, shifts):
    """Mosaic pixels with at least one usable input pixel, from the inputs alone."""
    from stdatamodels.jwst import datamodels

    ox, oy, nx, ny = shifts
    covered = np.zeros((ny, nx), dtype=bool)
    u, v = np.meshgrid(np.arange(nx), np.arange(ny))
    bad = DNU | PIXEL_FLAGS["NON_SCIENCE"]
    for cal, mask, (dx, dy) in zip(visit.cal, masks, visit.offsets, strict=True):
        with datamodels.ImageModel(str(cal)) as model:
            usable = np.isfinite(model.data) & ((model.dq & bad) == 0)
            usable &= np.isfinite(model.var_rnoise) & (model.var_rnoise > 0)
        if mask is not None:
            usable &= ~mask
        for ex in (0, 1):
            for ey in (0, 1):
                # mosaic pixel u overlaps grid-0 pixels u - ox - 1 + ex; exposure k's
                # pixel index is the grid-0 index + dx
                xi = u - ox - 1 + ex + dx
                yi = v - oy - 1 + ey + dy
                inside = (xi >= 0) & (xi < visit.size) & (yi >= 0) & (yi < visit.size)
                hit = np.zeros_like(covered)
                hit[inside] = usable[yi[inside], xi[inside]]
                covered |= hit
    return covered


def _write_masks(visit, masks, directory):
    mapping = {}
    for cal, mask in zip(visit.cal, masks, strict=True):
        path = directory / f"{cal.stem}_box_zeroonemask.fits"
        fits.PrimaryHDU(mask.astype(np.uint8)).writeto(path)
        mapping[cal] = [path]
    return mapping


def test_holes_are_exactly_the_sky_no_dither_covers(visit, tmp_path):
    grid, shifts = _aligned_grid(visit)
    shape = (visit.size, visit.size)
    # every exposure masks the same 30 x 20 pixel patch of sky (grid-0 x 200..229,
    # y 300..319), and exposure 0 also masks a corner only it covers
    masks = []
    for index, (dx, dy) in enumerate(visit.offsets):
        mask = np.zeros(shape, dtype=bool)
        mask[300 + dy : 320 + dy, 200 + dx : 230 + dx] = True
        if index == 0:
            mask[:25, 490:] = True
        masks.append(mask)
    mapping = _write_masks(visit, masks, tmp_path)
    (pair,) = preview_mosaics(visit.cal, mapping, resample_parameters=grid)
    expected_before = _expected_coverage(visit, [None] * len(masks), shifts)
    expected_after = _expected_coverage(visit, masks, shifts)
    np.testing.assert_array_equal(pair.before.wht > 0, expected_before)
    np.testing.assert_array_equal(pair.after.wht > 0, expected_after)
    expected = expected_before & ~expected_after
    # the sky patch loses 29 x 19 mosaic pixels (the border ones still overlap an
    # unmasked neighbour); of the corner, only the strip x 503..507 (grid 0) is covered
    # by no other dither (x 508..511 is reference border, DO_NOT_USE anyway)
    assert np.count_nonzero(expected) > 29 * 19 + 100
    np.testing.assert_array_equal(pair.holes, expected)
    report = pair.report
    assert report.n_pixels == int(expected.sum())
    assert report.area_arcsec2 == pytest.approx(expected.sum() * PIXEL_SCALE**2, rel=1e-6)
    assert len(report.areas) == 2
    assert report.largest.n_pixels == 29 * 19
    assert set(report.by_mask) == {mapping[c][0].name for c in visit.cal}
    assert "holes: " in report.summary() and f"{report.n_pixels} mosaic pixels" in report.summary()


def test_masks_that_the_dithers_fill_leave_no_holes(visit, tmp_path):
    grid, shifts = _aligned_grid(visit)
    shape = (visit.size, visit.size)
    # the same 8 x 8 detector patch in every exposure: the dithers (at least 9 pixels
    # apart) put it on different sky, which the other exposures cover
    mask = np.zeros(shape, dtype=bool)
    mask[250:258, 250:258] = True
    masks = [mask] * len(visit.cal)
    mapping = _write_masks(visit, masks, tmp_path)
    (pair,) = preview_mosaics(visit.cal, mapping, resample_parameters=grid)
    assert not pair.holes.any()
    assert pair.report.n_pixels == 0 and pair.report.areas == []
    assert pair.report.summary().startswith("no holes")
    lost = pair.after.wht < pair.before.wht
    assert np.count_nonzero(lost) >= 4 * 8 * 8
    np.testing.assert_array_equal(pair.after.wht > 0, _expected_coverage(visit, masks, shifts))


def _truth_footprint(visit, mosaic):
    """Mosaic pixels whose centre falls on the claw truth of some exposure (no noise in it)."""
    from stdatamodels.jwst import datamodels

    ny, nx = mosaic.data.shape
    u, v = np.meshgrid(np.arange(nx, dtype=float), np.arange(ny, dtype=float))
    ra, dec = mosaic.meta.wcs(u.ravel(), v.ravel())
    footprint = np.zeros(u.size, dtype=bool)
    for cal, truth in zip(visit.cal, visit.truth, strict=True):
        claw = fits.getdata(truth) > 0
        with datamodels.ImageModel(str(cal)) as model:
            x, y = model.meta.wcs.invert(ra, dec, with_bounding_box=False)
        xi, yi = np.rint(x).astype(int), np.rint(y).astype(int)
        inside = (xi >= 0) & (xi < visit.size) & (yi >= 0) & (yi < visit.size)
        footprint[inside] |= claw[yi[inside], xi[inside]]
    return footprint.reshape(ny, nx)


def test_the_claw_residual_drops_to_the_noise(visit, clean_visit, claw_preview):
    (clean,) = preview_mosaics(clean_visit.cal, REGION_TEMPLATE)
    clean_before = _resample_files(clean_visit.cal)
    footprint = _truth_footprint(visit, claw_preview.before)
    footprint &= np.isfinite(claw_preview.after.data) & np.isfinite(clean_before.data)
    n = int(footprint.sum())
    assert n > 3000
    before_residual = float(np.mean((claw_preview.before.data - clean_before.data)[footprint]))
    # what the masks leave of the claw: same pixels and weights, with and without claw
    left = float(np.mean((claw_preview.after.data - clean.after.data)[footprint]))
    # the noise of a mean over the footprint, from the after mosaic's own ERR (pixels
    # taken as independent: drizzle correlates them, so the true noise is larger)
    standard_error = float(np.sqrt(np.mean(claw_preview.after.err[footprint] ** 2) / n))
    print(
        f"claw footprint {n} px: claw mean before {before_residual / BACKGROUND_SIGMA:.3f} "
        f"sigma/px = {before_residual / standard_error:.0f} standard errors of the mean; "
        f"after {left / BACKGROUND_SIGMA:.5f} sigma/px = {left / standard_error:.3f} "
        "standard errors"
    )
    assert before_residual > 0.3 * BACKGROUND_SIGMA
    assert before_residual > 20 * standard_error
    assert abs(left) < 0.01 * BACKGROUND_SIGMA
    assert abs(left) < 0.5 * standard_error


def test_cal_without_gwcs_is_a_clear_error(example_small):
    with pytest.raises(InputError, match=r"no gwcs \(meta\.wcs\).*assign_wcs"):
        preview_mosaics([example_small.cal], [str(example_small.region)])


def test_missing_mask_names_the_file(visit):
    with pytest.raises(InputError, match=r"mask .*nothere.* does not exist"):
        preview_mosaics(visit.cal, "{dir}/{stem}_nothere.fits")


def test_filters_are_grouped_or_refused(visit, tmp_path):
    from stdatamodels.jwst import datamodels

    other = tmp_path / "jw09999001001_02101_00009_nrcb1_cal.fits"
    with datamodels.ImageModel(str(visit.cal[1])) as model:
        model.meta.instrument.filter = "F150W"
        model.to_fits(other, overwrite=True)
    region = tmp_path / f"{other.stem}_claws.pix.reg"
    region.write_bytes(visit.region[1].read_bytes())
    files = [visit.cal[0], other, visit.cal[2]]
    with pytest.raises(InputError, match=r"2 filters \(F200W: .*; F150W: .*\)"):
        preview_mosaics(files, REGION_TEMPLATE, by_filter=False, pixmap_stepsize=8)
    pairs = preview_mosaics(files, REGION_TEMPLATE, pixmap_stepsize=8)
    assert [p.filter for p in pairs] == ["F200W", "F150W"]
    assert [len(p.inputs) for p in pairs] == [2, 1]
    assert pairs[1].product.endswith("clear-f150w")


def test_quick_look_and_sky_box(visit):
    # jwst's pixel_scale_ratio is output over input pixel scale: 2 makes pixels twice
    # as big (a quarter of the pixels)
    (quick,) = preview_mosaics(visit.cal, REGION_TEMPLATE, quick=True, **QUICK_LOOK)
    full_shape = np.array([564, 558])
    assert np.all(np.abs(np.array(quick.before.data.shape) - full_shape / 2) <= 2)
    assert quick.after.err is None or not np.any(quick.after.err)
    # the quick look only leaves out what the preview does not show
    (same_grid,) = preview_mosaics(visit.cal, REGION_TEMPLATE, **QUICK_LOOK)
    np.testing.assert_array_equal(quick.after.data, same_grid.after.data)
    np.testing.assert_array_equal(quick.after.wht, same_grid.after.wht)
    np.testing.assert_array_equal(quick.holes, same_grid.holes)
    assert np.isfinite(same_grid.after.err).any()
    box = SkyBox(ra=53.16, dec=-27.78, width=4.0, height=3.0)
    (boxed,) = preview_mosaics(visit.cal, REGION_TEMPLATE, sky_box=box)
    ny, nx = boxed.before.data.shape
    assert (nx, ny) == (round(4.0 / PIXEL_SCALE + 0.5), round(3.0 / PIXEL_SCALE + 0.5))
    ra, dec = boxed.before.meta.wcs((nx - 1) / 2, (ny - 1) / 2)
    assert ra == pytest.approx(53.16, abs=1e-9) and dec == pytest.approx(-27.78, abs=1e-9)
    assert np.isfinite(boxed.before.data).mean() > 0.99


def test_flags_without_do_not_use_are_refused(visit):
    from ds9claw.errors import ParameterError

    assert interpret_flags(DEFAULT_COMMIT_FLAGS) & DNU
    with pytest.raises(ParameterError, match="DO_NOT_USE"):
        preview_mosaics(visit.cal, REGION_TEMPLATE, flags="OTHER_BAD_PIXEL")


def test_no_crds_lookup_and_no_network(visit, tmp_path, monkeypatch):
    """An unreachable CRDS server and an empty cache: a lookup would fail or fill it."""
    cache = tmp_path / "crds_cache"
    cache.mkdir()
    monkeypatch.setenv("CRDS_SERVER_URL", "https://127.0.0.1:9")
    monkeypatch.setenv("CRDS_PATH", str(cache))
    (pair,) = preview_mosaics(visit.cal, REGION_TEMPLATE, pixmap_stepsize=8)
    assert np.isfinite(pair.after.data).sum() > 0.8 * pair.after.data.size
    assert list(cache.rglob("*")) == []


def test_a_sky_box_off_the_exposures_is_a_clear_error(visit):
    box = SkyBox(ra=10.0, dec=20.0, width=3.0, height=3.0)
    with pytest.raises(InputError, match="no pixel covered by the exposures.*sky box"):
        preview_mosaics(visit.cal, REGION_TEMPLATE, sky_box=box, quick=True)


def test_masks_from_detect_take_the_claw_down_to_the_noise(
    visit, clean_visit, claw_preview, tmp_path
):
    """The observers' workflow: ds9claw detect's zero-one masks (their parameters)."""
    from ds9claw.api import detect_file
    from ds9claw.detect import DetectionParameters

    params = DetectionParameters(sigma=2, minpixarea=1, smooth=1, ignore_background=True)
    masks = {}
    for cal, region in zip(visit.cal, visit.region, strict=True):
        products = detect_file(cal, include=[region], params=params, output_dir=tmp_path)
        masks[cal] = [products.mask_path]
    clean_masks = dict(zip(clean_visit.cal, masks.values(), strict=True))
    (pair,) = preview_mosaics(visit.cal, masks)
    (clean,) = preview_mosaics(clean_visit.cal, clean_masks)
    clean_before = _resample_files(clean_visit.cal)
    footprint = _truth_footprint(visit, pair.before)
    footprint &= np.isfinite(pair.after.data) & np.isfinite(clean_before.data)
    n = int(footprint.sum())
    before = float(np.mean((claw_preview.before.data - clean_before.data)[footprint]))
    left = float(np.mean((pair.after.data - clean.after.data)[footprint]))
    standard_error = float(np.sqrt(np.mean(pair.after.err[footprint] ** 2) / n))
    print(
        f"detect masks: claw footprint {n} px: before {before / BACKGROUND_SIGMA:.3f} sigma/px, "
        f"after {left / BACKGROUND_SIGMA:.4f} sigma/px = {left / standard_error:.2f} standard "
        f"errors; holes {pair.report.n_pixels}"
    )
    assert before > 20 * standard_error
    assert abs(left) < 3 * standard_error

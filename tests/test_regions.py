"""Region files and strings -> masks: real observer files, every coordinate system."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ds9claw.errors import RegionError
from ds9claw.region_mask import region_masks
from ds9claw.region_parse import RegionSource, parse_region_text
from ds9claw.region_trace import mask_to_polygons, polygons_to_ds9

FULL = (2048, 2048)


def _regions_package_mask(text: str, shape, wcs=None) -> tuple[np.ndarray, int]:
    """Reference: the regions package's own masks (mode='center'); count of shapes."""
    from regions import PixelRegion, Regions

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a skipped shape would warn: make it fail
        parsed = Regions.parse(text, format="ds9")
    mask = np.zeros(shape, bool)
    for region in parsed:
        if not isinstance(region, PixelRegion):
            region = region.to_pixel(wcs)
        image = region.to_mask(mode="center").to_image(shape)
        if image is not None:
            mask |= image.astype(bool)
    return mask, len(parsed)


def _nircam_wcs_around(ra: float, dec: float):
    from astropy.wcs import WCS

    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [1024.5, 1024.5]
    wcs.wcs.cdelt = [-0.031 / 3600, 0.031 / 3600]
    return wcs


def test_every_real_region_file_parses_with_no_shape_skipped(real_region_files):
    """Each observer file gives the same pixels as the regions package, shape for shape."""
    checked = 0
    for path in real_region_files:
        source = RegionSource.from_file(path)
        shapes = parse_region_text(source)
        assert shapes, path.name
        assert all(s.has_area for s in shapes), path.name
        systems = {s.system for s in shapes}
        header = None
        wcs = None
        if systems & {"fk5", "icrs"}:
            # the one sky file: build a NIRCam-like WCS centred on its shapes
            from astropy.coordinates import SkyCoord
            from regions import Regions

            centres = [r.vertices for r in Regions.read(path, format="ds9")]
            coords = SkyCoord([c for v in centres for c in v])
            wcs = _nircam_wcs_around(coords.ra.deg.mean(), coords.dec.deg.mean())
            header = wcs.to_header()
        include, exclude = region_masks(FULL, [source], header=header)
        reference, n_parsed = _regions_package_mask(source.text, FULL, wcs)
        assert n_parsed == len(shapes), f"{path.name}: regions skipped a shape"
        assert exclude is None
        assert include.sum() > 0, path.name
        assert np.array_equal(include, reference), f"{path.name}: masks differ"
        checked += 1
    assert checked == len(real_region_files)


def test_real_files_cover_the_documented_cases(real_region_files):
    multi = [p for p in real_region_files if len(parse_region_text(RegionSource.from_file(p))) > 1]
    sky = [
        p
        for p in real_region_files
        if any(s.system == "fk5" for s in parse_region_text(RegionSource.from_file(p)))
    ]
    outside = []
    for path in real_region_files:
        for shape in parse_region_text(RegionSource.from_file(path)):
            values = [float(a) for a in shape.args] if shape.numeric else []
            if values and (min(values) < 0 or max(values) > 2048):
                outside.append(path)
                break
    assert len(multi) >= 3 and len(sky) == 1 and len(outside) >= 10


def test_polygon_partly_outside_uses_the_part_inside():
    text = "image\npolygon(-50,-50,100,-50,100,100,-50,100)"
    include, _ = region_masks((64, 64), [RegionSource.from_text(text)])
    # pixel centres with 1-based coordinates -50 < x < 100 inside a 64x64 image: all of them
    assert include.sum() == 64 * 64
    text = "image\npolygon(-10,10.5,20.5,10.5,20.5,20.5,-10,20.5)"
    include, _ = region_masks((64, 64), [RegionSource.from_text(text)])
    # 1-based centres x = 1..20, y = 11..20
    assert include.sum() == 20 * 10
    assert include[10:20, 0:20].all()


def test_shapes_match_the_regions_package():
    text = (
        "# Region file format: DS9 version 4.1\nimage\n"
        "circle(100.3,80.7,20.2)\nellipse(200,150,30,12,33)\nbox(60,200,40,18,25)\n"
        "polygon(300,20,380,40,360,120,310,90)\n-circle(330,60,8)\n"
    )
    shape = (256, 400)
    source = RegionSource.from_text(text)
    include, exclude = region_masks(shape, [source])
    from regions import Regions

    plus = np.zeros(shape, bool)
    minus = np.zeros(shape, bool)
    for region in Regions.parse(text, format="ds9"):
        target = plus if region.meta.get("include", True) else minus
        target |= region.to_mask(mode="center").to_image(shape).astype(bool)
    assert np.array_equal(include, plus)
    assert np.array_equal(exclude, minus)
    assert exclude.sum() > 100


def test_physical_coordinates_use_ltv_ltm():
    from astropy.io import fits

    header = fits.Header()
    header["LTV1"] = -100.0
    header["LTV2"] = -50.0
    header["LTM1_1"] = 1.0
    header["LTM2_2"] = 1.0
    image_text = "image\npolygon(10,10,60,12,55,70,12,50)"
    physical_text = "physical\npolygon(110,60,160,62,155,120,112,100)"
    shape = (128, 128)
    expected, _ = region_masks(shape, [RegionSource.from_text(image_text)], header=header)
    got, _ = region_masks(shape, [RegionSource.from_text(physical_text)], header=header)
    assert expected.sum() > 1000
    assert np.array_equal(got, expected)
    # without LTV/LTM keywords physical is image (DS9's own rule)
    same, _ = region_masks(shape, [RegionSource.from_text(image_text.replace("image", "physical"))])
    assert np.array_equal(same, expected)
    # a file naming no system is physical (DS9's default)
    bare, _ = region_masks(shape, [RegionSource.from_text("polygon(10,10,60,12,55,70,12,50)")])
    assert np.array_equal(bare, expected)


def test_physical_annulus_goes_through_regions_after_conversion():
    from astropy.io import fits

    header = fits.Header({"LTV1": -10.0, "LTV2": -10.0})
    image, _ = region_masks((80, 80), [RegionSource.from_text("image\nannulus(40,40,5,15)")])
    physical, _ = region_masks(
        (80, 80), [RegionSource.from_text("physical\nannulus(50,50,5,15)")], header=header
    )
    assert image.sum() > 500
    assert np.array_equal(image, physical)


def test_sky_image_and_physical_give_the_same_mask(example_small):
    """The example region written in fk5 and galactic gives the image mask within a pixel."""
    from astropy.io import fits
    from astropy.wcs import WCS
    from scipy import ndimage

    header = fits.getheader(example_small.cal, "SCI")
    wcs = WCS(header)
    source = RegionSource.from_file(example_small.region)
    image_mask, _ = region_masks((512, 512), [source], header=header)
    polygon = next(s for s in parse_region_text(source) if s.name == "polygon")
    xy = np.array([float(a) for a in polygon.args]).reshape(-1, 2)
    sky = wcs.pixel_to_world(xy[:, 0] - 1, xy[:, 1] - 1)
    for frame, text in (
        ("fk5", ",".join(f"{c.ra.deg:.9f},{c.dec.deg:.9f}" for c in sky.fk5)),
        ("galactic", ",".join(f"{c.l.deg:.9f},{c.b.deg:.9f}" for c in sky.galactic)),
    ):
        sky_mask, _ = region_masks(
            (512, 512), [RegionSource.from_text(f"{frame}\npolygon({text})")], header=header
        )
        differ = sky_mask ^ image_mask
        assert differ.sum() < 0.01 * image_mask.sum()
        edge = image_mask ^ ndimage.binary_erosion(image_mask)
        near_edge = ndimage.binary_dilation(edge, iterations=1)
        assert not (differ & ~near_edge).any(), frame


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no shape with an area"),
        ("# Region file format: DS9 version 4.1\nglobal color=green\nimage\n", "no shape"),
        ("this is not a region file", "cannot read"),
        ("image\npoint(10,10)\ntext(20,20) # text={hi}", "no shape with an area"),
        ("image\n-polygon(1,1,10,1,10,10)", "only exclusion shapes"),
        ("image\npolygon(5000,5000,5100,5000,5100,5100)", "entirely outside"),
        ('fk5\ncircle(53.1,-27.8,2")', "need an image with a WCS"),
        ("image\npolygon(1,2,3,4)", "at least 3 vertex"),
    ],
)
def test_bad_regions_name_the_source_and_reason(text, message):
    with pytest.raises(RegionError, match=message) as info:
        region_masks((64, 64), [RegionSource.from_text(text, name="my.reg")])
    assert "my.reg" in str(info.value)


def test_missing_and_binary_region_files(tmp_path):
    with pytest.raises(RegionError, match="does not exist"):
        RegionSource.from_file(tmp_path / "nope.reg")
    binary = tmp_path / "binary.reg"
    binary.write_bytes(b"SIMPLE  =\x00\x00\x01")
    with pytest.raises(RegionError, match="binary"):
        RegionSource.from_file(binary)


def test_sky_region_on_image_without_celestial_wcs():
    from astropy.io import fits

    header = fits.Header({"CTYPE1": "X", "CTYPE2": "Y"})
    with pytest.raises(RegionError, match="celestial WCS"):
        region_masks(
            (64, 64), [RegionSource.from_text('fk5\ncircle(53.1,-27.8,2")')], header=header
        )


def test_several_include_and_exclude_sources_are_combined(tmp_path):
    first = tmp_path / "a.reg"
    first.write_text("image\nbox(20.5,20.5,10,10,0)\n")
    second = tmp_path / "b.reg"
    second.write_text("image; box(50.5,50.5,10,10,0); -box(50.5,50.5,4,4,0)\n")
    veto = tmp_path / "veto.reg"
    veto.write_text("image\nbox(20.5,20.5,4,4,0)\n")
    include, exclude = region_masks((64, 64), [first, second], [veto])
    assert include.sum() == 200
    assert exclude.sum() == 32
    assert exclude[18:22, 18:22].all() and exclude[48:52, 48:52].all()


def test_mask_to_polygons_round_trip():
    yy, xx = np.mgrid[0:200, 0:300]
    arc = np.abs(np.hypot(xx - 150, yy + 50) - 160) < 12
    blob = (xx - 40) ** 2 + (yy - 180) ** 2 < 64
    mask = arc | blob
    polygons = mask_to_polygons(mask)
    assert len(polygons) == 2
    text = polygons_to_ds9(polygons)
    assert text.startswith("# Region file format: DS9 version 4.1")
    back, _ = region_masks(mask.shape, [RegionSource.from_text(text)])
    overlap = (back & mask).sum() / (back | mask).sum()
    assert overlap > 0.95
    excluded = polygons_to_ds9(polygons, exclude=True)
    assert excluded.count("-polygon(") == 2


def test_trace_margin_grows_the_mask_before_tracing():
    """``margin`` traces the mask grown by that many pixels: one polygon for close specks."""
    from ds9claw.region_trace import mask_to_polygons

    mask = np.zeros((40, 40), bool)
    mask[10:14, 10:14] = True
    mask[10:14, 17:21] = True  # a 3-pixel gap: two groups
    assert len(mask_to_polygons(mask)) == 2
    (grown,) = mask_to_polygons(mask, margin=2)
    xs, ys = grown[:, 0], grown[:, 1]
    # the grown box covers pixels x 8..22, y 8..15 (0-based): its outline runs along
    # their outer edges, within the 0.75-pixel simplification tolerance
    bounds = (xs.min(), xs.max(), ys.min(), ys.max())
    assert np.allclose(bounds, (7.5, 22.5, 7.5, 15.5), atol=0.75), bounds

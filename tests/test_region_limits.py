"""Rasterising with bounded memory, and the limits on what a region may cost (issue 14)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ds9claw import raster
from ds9claw.errors import RegionError
from ds9claw.region_limits import (
    MAX_RASTER_WORK,
    MAX_REGION_SHAPES,
    MAX_REGION_VERTICES,
    MAX_SKY_VERTICES,
)
from ds9claw.region_mask import region_masks
from ds9claw.region_parse import RegionSource


def _regions_polygon(vertices: np.ndarray, shape) -> np.ndarray:
    """The regions package's own mask (mode='center') of a 0-based pixel polygon."""
    from regions import PixCoord, PolygonPixelRegion

    region = PolygonPixelRegion(PixCoord(vertices[:, 0], vertices[:, 1]))
    image = region.to_mask(mode="center").to_image(shape)
    return np.zeros(shape, bool) if image is None else image.astype(bool)


def _ours(vertices: np.ndarray, shape) -> np.ndarray:
    mask = np.zeros(shape, bool)
    raster.fill_polygon(mask, vertices)
    return mask


def _random_polygon(rng, kind: str, shape) -> np.ndarray:
    _ny, nx = shape
    n = int(rng.integers(3, 40))
    if kind == "self-intersecting":  # random vertices: edges cross each other
        return rng.uniform(-0.2 * nx, 1.2 * nx, (n, 2))
    if kind == "outside":  # most vertices beyond the image on every side
        return rng.uniform(-3 * nx, 4 * nx, (n, 2))
    if kind == "centres":  # vertices exactly on pixel centres: edges through centres
        return rng.integers(-3, nx + 3, (n, 2)).astype(np.float64)
    if kind == "collinear":  # repeated, collinear and horizontal/vertical edges
        base = rng.integers(0, nx, (max(3, n // 3), 2)).astype(np.float64)
        steps = np.linspace(0, 1, 4)[:-1]
        edges = [
            a + t * (b - a) for a, b in zip(base, np.roll(base, -1, 0), strict=True) for t in steps
        ]
        return np.array(edges)
    # half-pixel grid: vertices and crossings on pixel edges
    return rng.integers(-6, 2 * nx + 6, (n, 2)) / 2.0


@pytest.mark.parametrize(
    "kind", ["self-intersecting", "outside", "centres", "collinear", "half-pixels"]
)
def test_polygons_match_the_regions_package(kind):
    """Pixel for pixel equal to regions' to_mask(mode='center') on random polygons."""
    rng = np.random.default_rng(sum(map(ord, kind)))
    checked = 0
    for _ in range(60):
        shape = (int(rng.integers(8, 70)), int(rng.integers(8, 70)))
        vertices = _random_polygon(rng, kind, shape)
        expected = _regions_polygon(vertices, shape)
        assert np.array_equal(_ours(vertices, shape), expected), vertices.tolist()
        checked += expected.any()
    assert checked > 20  # most polygons cover pixels: the comparison means something


def test_chunked_edges_give_the_same_mask(monkeypatch):
    """Edges split over many small chunks fill exactly what one chunk fills."""
    rng = np.random.default_rng(5)
    vertices = rng.uniform(-20, 220, (300, 2))
    whole = _ours(vertices, (200, 200))
    monkeypatch.setattr(raster, "CHUNK_CROSSINGS", 7)
    assert np.array_equal(_ours(vertices, (200, 200)), whole)
    assert np.array_equal(whole, _regions_polygon(vertices, (200, 200)))


def test_ellipses_circles_and_boxes_match_the_regions_package():
    """Random shapes, some far larger than the image, some mostly outside it."""
    from regions import Regions

    rng = np.random.default_rng(11)
    shape = (90, 120)
    lines = ["image"]
    for _ in range(40):
        x, y = rng.uniform(-40, 160, 2)
        a, b = rng.uniform(0.5, 30, 2)
        angle = rng.uniform(0, 360)
        lines.append(f"circle({x:.3f},{y:.3f},{a:.3f})")
        lines.append(f"ellipse({x:.3f},{y:.3f},{a:.3f},{b:.3f},{angle:.2f})")
        lines.append(f"box({x:.3f},{y:.3f},{2 * a:.3f},{b:.3f},{angle:.2f})")
    lines.append("ellipse(60,45,5000,3000,20)")  # covers the image many times over
    for line in lines[1:]:
        text = f"image\n{line}"
        expected = Regions.parse(text, format="ds9")[0].to_mask(mode="center").to_image(shape)
        expected = np.zeros(shape, bool) if expected is None else expected.astype(bool)
        plus = np.zeros(shape, bool)
        # region_masks refuses sources lying outside the image: rasterise directly
        from ds9claw.region_parse import parse_region_text
        from ds9claw.region_pixels import pixel_shape_params

        kind, params = pixel_shape_params(parse_region_text(RegionSource.from_text(text))[0], None)
        (raster.fill_polygon if kind == "polygon" else raster.fill_ellipse)(plus, params)
        assert np.array_equal(plus, expected), line
    assert plus.all()  # the last ellipse covers every pixel


def test_sky_polygons_are_filled_like_the_regions_package(example_small):
    """A sky polygon, converted by regions and filled by ds9claw.raster, gives regions' mask."""
    from astropy.io import fits
    from astropy.wcs import WCS
    from regions import Regions

    header = fits.getheader(example_small.cal, "SCI")
    wcs = WCS(header)
    rng = np.random.default_rng(3)
    xy = rng.uniform(-50, 560, (25, 2))  # self-intersecting, partly outside
    sky = wcs.pixel_to_world(xy[:, 0], xy[:, 1])
    text = "fk5\npolygon(" + ",".join(f"{c.ra.deg:.9f},{c.dec.deg:.9f}" for c in sky) + ")"
    ours, _ = region_masks((512, 512), [RegionSource.from_text(text)], header=header)
    region = Regions.parse(text, format="ds9")[0].to_pixel(wcs)
    expected = region.to_mask(mode="center").to_image((512, 512)).astype(bool)
    assert expected.sum() > 1000
    assert np.array_equal(ours, expected)


def _star_polygon(n: int, size: int) -> np.ndarray:
    """An n-vertex wavy ring around the image centre, radius 0.36..0.45 x size (+-3 px)."""
    rng = np.random.default_rng(1)
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = size * 0.45 * (0.8 + 0.2 * np.sin(37 * t)) + rng.uniform(-3, 3, n)
    return np.column_stack([size / 2 + r * np.cos(t), size / 2 + r * np.sin(t)])


def _region_file(path: Path, vertices: np.ndarray, system: str = "image") -> Path:
    coords = ",".join(f"{v:.4f}" for v in vertices.ravel())
    path.write_text(f"# Region file format: DS9 version 4.1\n{system}\npolygon({coords})\n")
    return path


def _limited_python(code: str, address_space: int, cwd: Path) -> subprocess.CompletedProcess:
    """Run Python code in a child whose address space is limited with setrlimit."""
    prelude = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({address_space}, {address_space}))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XPA_", "SAMP_"))}
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_giant_polygon_detect_runs_in_limited_memory(example_full, tmp_path):
    """A real ds9claw detect with a 400,000-vertex polygon (7.6 MB) under RLIMIT_AS 1.5 GiB.

    Before the edge-table rasteriser this needed 17.8 GB and two minutes.
    """
    region = _region_file(tmp_path / "giant.reg", _star_polygon(400_000, 2048))
    assert 6_000_000 < region.stat().st_size < 8 * 1024 * 1024
    code = textwrap.dedent(
        f"""
        import sys
        from ds9claw.cli import main
        status = main(["detect", {str(example_full.cal)!r}, "--include-region",
                       {str(region)!r}, "--ignore-background", "--sigma", "2",
                       "--output-dir", {str(tmp_path)!r}, "-q"])
        # VmHWM: this process's own peak; ru_maxrss would include the RSS of the pytest
        # process it was forked from (Linux carries the parent's high-water mark over exec)
        with open("/proc/self/status") as proc_status:
            peak = [line.split()[1] for line in proc_status if line.startswith("VmHWM:")][0]
        print("peak", peak)
        sys.exit(status)
        """
    )
    result = _limited_python(code, int(1.5 * 2**30), tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) < 1024 * 1024  # peak RSS in KiB: under 1 GiB
    from astropy.io import fits

    masks = list(tmp_path.glob("*zeroonemask.fits"))
    assert len(masks) == 1
    mask = fits.getdata(masks[0]) > 0
    assert mask.sum() > 1000  # the example's claw lies inside the ring
    yy, xx = np.indices(mask.shape)
    radius = np.hypot(xx - 1023.5, yy - 1023.5)[mask]
    assert radius.max() < 0.45 * 2048 + 4  # nothing outside the polygon


def test_the_rasteriser_itself_stays_small_for_giant_polygons(tmp_path):
    """fill_polygon on 400,000 vertices at 2048 x 2048 under RLIMIT_AS 1 GiB."""
    code = textwrap.dedent(
        """
        import numpy as np
        from ds9claw import raster
        rng = np.random.default_rng(2)
        vertices = rng.uniform(-100, 2148, (400_000, 2))  # long, crossing edges
        vertices = vertices[: raster.CHUNK_CROSSINGS // 1000]  # many chunks, bounded time
        mask = np.zeros((2048, 2048), bool)
        raster.fill_polygon(mask, vertices)
        print(int(mask.sum()))
        """
    )
    result = _limited_python(code, 2**30, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 0 < int(result.stdout) < 2048 * 2048


def test_work_limit_refuses_polygons_of_many_long_edges():
    """A zig-zag whose edges each span the image costs vertices x rows: refused before."""
    n = MAX_RASTER_WORK // (raster.CROSSING_COST * 2048) + 100  # just over the limit
    xs = np.linspace(1, 2048, n)
    ys = np.where(np.arange(n) % 2, 0.5, 2048.5)
    text = "image\npolygon(" + ",".join(f"{x:.3f},{y}" for x, y in zip(xs, ys, strict=True)) + ")"
    with pytest.raises(RegionError, match="more than the limit of 100 million") as info:
        region_masks((2048, 2048), [RegionSource.from_text(text, name="zigzag.reg")])
    assert str(info.value).startswith("zigzag.reg, line 2: ")
    assert "\n" not in str(info.value)


def test_shape_and_vertex_limits_name_the_limit():
    many = "image\n" + "circle(10,10,2)\n" * (MAX_REGION_SHAPES + 1)
    with pytest.raises(RegionError, match=f"more than {MAX_REGION_SHAPES} shapes"):
        region_masks((64, 64), [RegionSource.from_text(many, name="many.reg")])
    ring = _star_polygon(MAX_REGION_VERTICES + 1, 64)
    text = "image\npolygon(" + ",".join(f"{v:.1f}" for v in ring.ravel()) + ")"
    with pytest.raises(RegionError, match=f"more than {MAX_REGION_VERTICES} vertices"):
        region_masks((64, 64), [RegionSource.from_text(text, name="ring.reg")])
    sky = "fk5\npolygon(" + ",".join(["53.1,-27.8"] * (MAX_SKY_VERTICES + 1)) + ")"
    with pytest.raises(RegionError, match="save the regions in image coordinates"):
        region_masks((64, 64), [RegionSource.from_text(sky, name="sky.reg")])


def test_huge_shapes_for_the_regions_package_are_refused():
    text = "image\nannulus(1024,1024,100,3000)"
    with pytest.raises(RegionError, match="annulus spans 36,012,001 pixels on this image, more"):
        region_masks((2048, 2048), [RegionSource.from_text(text, name="big.reg")])
    text = "image\nannulus(1024,1024,100,1e300)"
    with pytest.raises(RegionError, match="annulus spans over 10\\^12 pixels"):
        region_masks((2048, 2048), [RegionSource.from_text(text, name="big.reg")])
    with pytest.raises(RegionError, match="cannot place 'circle\\(1,2,inf\\)'"):
        region_masks((64, 64), [RegionSource.from_text("image\ncircle(1,2,inf)")])


def test_non_finite_and_far_coordinates_are_refused():
    from astropy.io import fits

    with pytest.raises(RegionError, match="not a finite number"):
        region_masks((64, 64), [RegionSource.from_text("image\ncircle(10,10,1e400)")])
    with pytest.raises(RegionError, match="not a finite number below"):
        region_masks((64, 64), [RegionSource.from_text("image\npolygon(1,1,9,1,1e9,9)")])
    header = fits.Header({"LTM1_1": 1e9, "LTM2_2": 1e9})  # physical -> image far away
    with pytest.raises(RegionError, match="the shape does not fit on this image"):
        region_masks(
            (64, 64), [RegionSource.from_text("physical\npolygon(1,1,9,1,9,9)")], header=header
        )


def test_cli_refuses_an_over_limit_region_in_one_line(example_small, tmp_path):
    n = MAX_REGION_VERTICES + 10
    region = tmp_path / "huge.reg"
    coords = ",".join(f"{v:.0f}" for v in _star_polygon(n, 512).ravel())
    region.write_text(f"image\npolygon({coords})\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XPA_", "SAMP_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ds9claw",
            "detect",
            str(example_small.cal),
            "--include-region",
            str(region),
            "--output-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"more than {MAX_REGION_VERTICES} vertices in all, the limit" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.reg"]

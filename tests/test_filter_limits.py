"""The median filter of the 0/1 map and the limits of the detection parameters (issue 14)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from ds9claw.detect import MAX_MEDIAN_FILTER, MAX_SMOOTH, DetectionParameters
from ds9claw.errors import ParameterError, RegionError
from ds9claw.filters import binary_median_filter, box_counts
from ds9claw.region_limits import MAX_REGION_SHAPES


def test_binary_median_filter_equals_scipy():
    """Odd and even sizes, sparse and dense maps, windows up to twice the array."""
    from scipy import ndimage

    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(300):
        ny, nx = (int(v) for v in rng.integers(1, 45, 2))
        size = int(rng.integers(1, 2 * min(ny, nx) + 2))
        flags = rng.random((ny, nx)) < rng.uniform(0.05, 0.95)
        expected = ndimage.median_filter(flags.astype(np.uint8), size=size) > 0
        assert np.array_equal(binary_median_filter(flags, size), expected), (ny, nx, size)
        checked += 0 < expected.sum() < expected.size
    assert checked > 100


def test_box_counts_count_the_window():
    flags = np.zeros((9, 9), bool)
    flags[4, 4] = True
    counts = box_counts(flags, 3)
    assert counts[3:6, 3:6].tolist() == [[1] * 3] * 3
    assert counts.sum() == 9
    assert box_counts(np.ones((5, 7), bool), 4).min() == 16  # mirrored edges stay full


def test_detection_with_a_large_median_filter_is_the_scipy_result(example_small):
    """median_filter=101 through detect_claws equals scipy's filter on the same map."""
    from astropy.io import fits
    from scipy import ndimage

    from ds9claw.detect import detect_claws

    image = fits.getdata(example_small.cal, "SCI")
    params = DetectionParameters(sigma=1.0, minpixarea=0, ignore_background=True)
    raw = detect_claws(image, params=params)
    filtered = detect_claws(image, params=params.updated(median_filter=31))
    expected = ndimage.median_filter(raw.mask.astype(np.uint8), size=31) > 0
    assert np.array_equal(filtered.mask, expected)
    assert 0 < filtered.n_masked < raw.n_masked


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"median_filter": MAX_MEDIAN_FILTER + 1}, f"at most {MAX_MEDIAN_FILTER}, the limit"),
        ({"median_filter": 0}, "use a size between 1 and"),
        ({"smooth": MAX_SMOOTH + 1}, f"between 0 and {MAX_SMOOTH:g} pixels \\(the limit\\)"),
        ({"smooth_in_advance": float("inf")}, "smooth_in_advance must be between 0 and"),
    ],
)
def test_parameter_limits_name_the_limit(changes, message):
    with pytest.raises(ParameterError, match=message):
        DetectionParameters(**changes).validate()
    DetectionParameters(median_filter=MAX_MEDIAN_FILTER, smooth=MAX_SMOOTH).validate()


def test_cli_median_filter_over_the_limit_is_one_line(example_small, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XPA_", "SAMP_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ds9claw",
            "detect",
            str(example_small.cal),
            "--include-region",
            str(example_small.region),
            "--median-filter",
            "151",
            "--output-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "ds9claw: error: median_filter is a size in pixels (1 = off, at most 101, the limit), "
        "got 151: use a size between 1 and 101 (3 to 9 removes isolated noise pixels)"
    ]
    assert list(tmp_path.iterdir()) == []


def test_samp_detect_refuses_an_over_limit_region(example_copy):
    """ds9claw.detect with region text over a limit: refused while checking the message,
    before any product is written (the listener answers it with samp.error)."""
    from ds9claw.listener.detect_handler import detect_message
    from ds9claw.listener.handler_settings import HandlerSettings
    from ds9claw.listener.messages import path_to_file_url

    directory = example_copy.cal.parent
    before = sorted(p.name for p in directory.iterdir())
    text = "image\n" + "circle(100,100,3)\n" * (MAX_REGION_SHAPES + 1)
    assert len(text) < HandlerSettings().limits.max_region_text  # under the SAMP size limit
    params = {"image-url": path_to_file_url(example_copy.cal), "region": text}
    with pytest.raises(RegionError, match=f"more than {MAX_REGION_SHAPES} shapes") as info:
        detect_message(params, HandlerSettings(overwrite=True), sender="c9")
    assert str(info.value).startswith("region from SAMP client c9, line ")
    assert sorted(p.name for p in directory.iterdir()) == before


def test_samp_detect_refuses_a_region_over_the_rasterising_budget(example_full, tmp_path):
    """60,000 vertices fit in SAMP's 1 MiB, but as a zig-zag of full-height edges on a
    2048 x 2048 image they would cost 123 million crossings: refused, nothing written."""
    from ds9claw.listener.detect_handler import detect_message
    from ds9claw.listener.handler_settings import HandlerSettings
    from ds9claw.listener.messages import path_to_file_url

    n = 60_000
    xs = np.linspace(1, 2048, n)
    ys = np.where(np.arange(n) % 2, 0.5, 2048.5)
    text = "image\npolygon(" + ",".join(f"{x:.2f},{y}" for x, y in zip(xs, ys, strict=True))
    params = {"image-url": path_to_file_url(example_full.cal), "region": text + ")"}
    settings = HandlerSettings(output_dir=tmp_path, overwrite=True)
    assert len(params["region"]) < settings.limits.max_region_text
    with pytest.raises(RegionError, match="more than the limit of 100 million"):
        detect_message(params, settings, sender="c9")
    assert list(tmp_path.iterdir()) == []

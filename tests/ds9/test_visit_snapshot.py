"""Issue 13: in a visit, Save snapshot and Clear act on the current exposure only."""

from __future__ import annotations

import numpy as np
import pytest

from .helpers import read_png
from .test_visit import _observer_view, _open, _regions_of, _view, visit, visit_master

pytestmark = pytest.mark.ds9

__all__ = ["visit", "visit_master"]  # the fixtures, used by name


def _yellow(part: np.ndarray) -> int:
    rgb = part[..., :3].astype(int)
    return int(((rgb[..., 0] > 200) & (rgb[..., 1] > 200) & (rgb[..., 2] < 80)).sum())


def test_snapshot_of_one_exposure_of_the_visit_with_labels(ds9, visit):
    _open(ds9, visit)
    ds9.task("Detect claws in all frames", timeout=180)
    frames = ds9.frames()
    regions = _regions_of(ds9, frames)  # (visiting a hidden frame shows it: before the view)
    data = {f: ds9.frame_data(f) for f in (2, 7, 8)}
    ds9.task("Show the whole visit")
    observer = _observer_view(ds9)  # whole visit, frame 2 (exposure 2: frames 2, 7, 8)

    text = ds9.task("Save snapshot")

    stem = visit[1].name[: -len(".fits")]
    png = visit[1].with_name(stem + "_claws.png")
    assert png.exists() and visit[1].with_name(stem + "_claws.eps").exists(), text
    assert stem in text
    for other in (visit[0], visit[2], visit[3]):
        assert not other.with_name(other.name[: -len(".fits")] + "_claws.png").exists()
    image = read_png(png)
    assert image.shape[:2] == (350, 1200)
    # three panels (image, seed, mask of exposure 2), each with its yellow label on top,
    # and nothing yellow in the lower part (no label of another exposure)
    for third in range(3):
        panel = image[:, third * 400 : (third + 1) * 400]
        assert _yellow(panel[:175]) > 20, f"panel {third} has no label"
        assert _yellow(panel[175:]) == 0
    # afterwards: the view, the labels gone, every frame as it was
    assert _view(ds9) == observer
    assert ds9.frames() == frames
    assert _regions_of(ds9, frames) == regions
    for frame in frames:
        ds9.set(f"frame {frame}")
        assert "ds9claw-label" not in ds9.regions()
    for frame, pixels in data.items():
        np.testing.assert_array_equal(ds9.frame_data(frame), pixels)


def test_single_clear_in_a_visit_clears_the_reviewed_exposure_only(ds9, visit):
    _open(ds9, visit)
    observer = _observer_view(ds9)
    ds9.task("Detect claws in all frames", timeout=180)
    ds9.task("Review next exposure")  # exposure 2: frames 2, 7, 8
    assert _view(ds9)["active"] == [2, 7, 8]

    text = ds9.task("Clear ds9claw frames")

    assert visit[1].name in text and "7, 8" in text, text
    assert ds9.frames() == [1, 5, 6, 2, 3, 9, 10, 4, 11, 12]
    view = _view(ds9)
    assert view["active"] == [1, 2, 3, 4] and view["current"] == "2"
    assert view["zoom"] == observer["zoom"] and view["mode"] == observer["mode"]
    # from the whole visit the review starts at the current exposure, now alone; the
    # next one kept its products
    ds9.task("Review next exposure")
    assert _view(ds9)["active"] == [2]
    ds9.task("Review next exposure")
    assert _view(ds9)["active"] == [3, 9, 10]

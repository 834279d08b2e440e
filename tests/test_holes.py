"""Pure hole functions: which pixels, how many, where, and the zoom on the change."""

from __future__ import annotations

import numpy as np
import pytest

from ds9claw.holes import changed_most, describe_holes, find_holes


def test_find_holes_is_covered_before_and_not_after():
    before = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, np.nan]])
    after = np.array([[0.0, 0.0, 2.0], [0.5, 0.0, 0.0]])
    np.testing.assert_array_equal(
        find_holes(before, after), [[False, True, False], [False, False, False]]
    )
    with pytest.raises(ValueError, match="differ in shape"):
        find_holes(before, after[:, :2])


def test_describe_holes_counts_groups_and_names_the_masks():
    holes = np.zeros((50, 60), bool)
    holes[10:20, 5:15] = True  # 100 px
    holes[30:33, 40:44] = True  # 12 px
    holes[33, 44] = True  # touches diagonally: same area (8-connected)
    hits = {
        "a.fits": np.ones(113, bool),
        "b.fits": np.arange(113) < 13,
        "c.fits": np.zeros(113, bool),
    }
    report = describe_holes(holes, 0.001, hits)
    assert report.n_pixels == 113
    assert report.area_arcsec2 == pytest.approx(0.113)
    assert [a.n_pixels for a in report.areas] == [100, 13]
    big = report.largest
    assert big.bbox == (5, 10, 14, 19) and big.centre == pytest.approx((9.5, 14.5))
    assert report.by_mask == {"a.fits": 113, "b.fits": 13}
    assert report.summary().startswith("holes: 113 mosaic pixels (0.113 arcsec^2) in 2 areas")
    assert describe_holes(np.zeros((4, 4), bool), 1.0).summary().startswith("no holes")


@pytest.mark.parametrize(("cx", "cy"), [(30, 40), (150, 90), (5, 5), (195, 115)])
def test_changed_most_centres_the_zoom_on_a_small_change(cx, cy):
    rng = np.random.default_rng(1)
    before = rng.normal(0, 1, (120, 200))
    after = before.copy()
    after[cy - 3 : cy + 3, cx - 4 : cx + 4] -= 5.0
    x0, y0, x1, y1 = changed_most(before, after, 40)
    assert (x1 - x0, y1 - y0) == (40, 40)
    assert 0 <= x0 and x1 <= 200 and 0 <= y0 and y1 <= 120
    # centred unless the image edge is in the way
    assert abs((x0 + x1) / 2 - np.clip(cx, 20, 180)) <= 2
    assert abs((y0 + y1) / 2 - np.clip(cy, 20, 100)) <= 2

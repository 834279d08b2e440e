"""The preview PNG: before | after with one stretch, holes outlined, zoom on the change."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from preview_helpers.visit import make_visit

from ds9claw.preview import preview_mosaics
from ds9claw.preview_plot import draw_preview, make_figure, stretch_limits


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """A preview with one hole (a sky patch masked in every exposure) and one without."""
    directory = tmp_path_factory.mktemp("plot_visit")
    visit = make_visit(directory)
    mapping = {}
    for cal, (dx, dy) in zip(visit.cal, visit.offsets, strict=True):
        mask = np.zeros((visit.size, visit.size), np.uint8)
        mask[100 + dy : 130 + dy, 300 + dx : 340 + dx] = 1
        path = directory / f"{cal.stem}_hole.fits"
        fits.PrimaryHDU(mask).writeto(path)
        mapping[cal] = [path]
    (with_hole,) = preview_mosaics(visit.cal, mapping, pixmap_stepsize=4)
    (without,) = preview_mosaics(visit.cal, "{dir}/{stem}_claws.pix.reg", pixmap_stepsize=4)
    return with_hole, without


def _red_pixels(png):
    import matplotlib.image

    rgb = matplotlib.image.imread(png)[..., :3]
    return int(np.count_nonzero((rgb[..., 0] > 0.9) & (rgb[..., 1] < 0.15) & (rgb[..., 2] < 0.15)))


def test_both_mosaics_share_one_stretch(pairs):
    pair = pairs[0]
    figure = make_figure(pair)
    limits = {axes.images[0].get_clim() for axes in figure.axes}
    assert len(limits) == 1
    assert limits.pop() == stretch_limits(np.asarray(pair.before.data, float))
    low, high = stretch_limits(pair.before.data)
    assert low < 0 < high < 0.2  # sky-subtracted: zscale around the noise


def test_the_zoom_is_on_the_hole_and_the_hole_is_outlined(pairs, tmp_path):
    pair = pairs[0]
    assert pair.report.n_pixels > 500
    x0, y0, x1, y1 = pair.report.largest.bbox
    figure = make_figure(pair)
    zoom = figure.axes[2]
    (zx0, zx1), (zy0, zy1) = zoom.get_xlim(), zoom.get_ylim()
    assert zx0 <= x0 and x1 <= zx1 and zy0 <= y0 and y1 <= zy1
    assert zoom.get_xlim() == figure.axes[3].get_xlim()
    hx, hy = pair.report.largest.centre
    assert abs((zx0 + zx1) / 2 - hx) < 3 and abs((zy0 + zy1) / 2 - hy) < 3
    assert all(axes.collections for axes in figure.axes)  # the hole contour on every panel
    png = draw_preview(pair, tmp_path / "hole.png")
    assert _red_pixels(png) > 100


def test_without_holes_nothing_is_outlined(pairs, tmp_path):
    pair = pairs[1]
    assert pair.report.n_pixels == 0
    figure = make_figure(pair)
    assert not any(axes.collections for axes in figure.axes)
    png = draw_preview(pair, tmp_path / "clean.png")
    assert _red_pixels(png) == 0
    # the zoom is where the claw was removed: the before zoom is brighter than the after
    x0, x1 = (int(v + 0.5) for v in figure.axes[2].get_xlim())
    y0, y1 = (int(v + 0.5) for v in figure.axes[2].get_ylim())
    box = (slice(y0, y1), slice(x0, x1))
    change = pair.before.data - pair.after.data
    assert np.nanmean(change[box]) > 3 * np.nanmean(np.abs(change))
    assert np.nanmean(change[box]) > 0.003  # MJy/sr of claw light taken out

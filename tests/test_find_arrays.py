"""The pure finder on arrays: claws and wisps fixed on the detector, the sky moving."""

from __future__ import annotations

import numpy as np
import pytest

from ds9claw.errors import ParameterError
from ds9claw.find import FindParameters, find_candidates
from ds9claw.outline import outline_polygon, simplify_closed
from ds9claw.region_pixels import rasterize_shape

SIZE = 512
OFFSETS = np.array([[0.0, 0.0], [41.3, 17.8], [-23.6, 50.2], [60.4, -31.7]])


def _gauss(x, y, x0, y0, sigma, peak):
    return peak * np.exp(-0.5 * ((x - x0) ** 2 + (y - y0) ** 2) / sigma**2)


def _scene(seed=1, *, claw=True, wisp=True, depth=(1.0, 1.3, 0.8, 1.0)):
    """Four noisy dithers (noise `depth`), sky sources moving, a claw and a wisp fixed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    radius = np.hypot(x - 60, y - 40)
    arc = (np.abs(radius - 330) < 6) & (np.arctan2(y - 40, x - 60) > 0.35)
    arc &= np.arctan2(y - 40, x - 60) < 1.2
    blob = _gauss(x, y, 400, 110, 22, 1.0)
    stars = rng.uniform(-60, SIZE + 60, (60, 2))
    peaks = rng.uniform(3, 300, 60)
    images, truths = [], []
    for (dx, dy), noise in zip(OFFSETS, depth, strict=True):
        sky = _gauss(x, y, 250 + dx, 300 + dy, 55, 1.6)  # extended emission on the sky
        for (sx, sy), peak in zip(stars, peaks, strict=True):
            sky += _gauss(x, y, sx + dx, sy + dy, 1.2, peak)
        image = sky + noise * rng.standard_normal((SIZE, SIZE))
        if claw:
            image += 3.0 * arc
        if wisp:
            image += blob
        images.append(image.astype(np.float32))
        truths.append(arc.copy())
    valid = [np.ones((SIZE, SIZE), bool) for _ in images]
    return images, valid, arc, blob > 0.5


def _covered(candidates, kind=None):
    mask = np.zeros((SIZE, SIZE), bool)
    for candidate in candidates:
        if kind is None or candidate.kind == kind:
            mask |= rasterize_shape("polygon", candidate.polygon, mask.shape)
    return mask


def test_claw_and_wisp_found_and_labelled_sky_not_proposed():
    images, valid, arc, wisp = _scene()
    result = find_candidates(images, valid, OFFSETS)
    from scipy import ndimage

    extended = np.zeros((SIZE, SIZE), bool)
    extended[240:360, 190:310] = True  # around the extended emission in every dither
    near_arc = ndimage.binary_dilation(arc, iterations=20)
    for candidates in result.candidates:
        claws = _covered(candidates, "claw")
        wisps = _covered(candidates, "wisp")
        assert (claws & arc).sum() >= 0.95 * arc.sum()
        assert (wisps & wisp).sum() >= 0.9 * wisp.sum()
        everything = _covered(candidates)
        assert everything.sum() < 3 * (arc.sum() + wisp.sum())
        assert not (everything & extended & ~near_arc).any()


def test_depth_is_normalised_and_invalid_pixels_ignored():
    images, valid, arc, _ = _scene(wisp=False, depth=(1.0, 2.0, 1.0, 0.7))
    hole = np.zeros((SIZE, SIZE), bool)
    hole[:, 150:170] = True
    for image, mask in zip(images, valid, strict=True):
        image[hole] = 1e6  # garbage that only the valid mask says to ignore
        mask[hole] = False
    images[1][300:310, :] = np.nan
    result = find_candidates(images, valid, OFFSETS)
    for candidates in result.candidates:
        claws = _covered(candidates)
        assert (claws & arc & ~hole).sum() >= 0.9 * (arc & ~hole).sum()
        assert len(candidates) == 1


def test_claw_absent_from_one_dither_is_not_proposed_there():
    images, valid, arc, _ = _scene(wisp=False)
    images[3] = images[3] - 3.0 * arc.astype(np.float32)
    result = find_candidates(images, valid, OFFSETS)
    assert all(len(c) == 1 for c in result.candidates[:3])
    assert result.candidates[3] == []
    assert not result.masks[3].any() and result.masks[0][arc].mean() > 0.95


def test_no_claws_no_candidates():
    images, valid, _, _ = _scene(claw=False, wisp=False)
    result = find_candidates(images, valid, OFFSETS)
    assert all(c == [] for c in result.candidates)


def test_single_exposure_proposes_the_sky_too():
    images, valid, arc, _ = _scene(wisp=False)
    result = find_candidates(images[:1], valid[:1])
    covered = _covered(result.candidates[0])
    assert (covered & arc).sum() >= 0.9 * arc.sum()
    assert covered[300, 250]  # the extended emission: why --single warns


def test_bad_inputs():
    images, valid, _, _ = _scene(claw=False, wisp=False)
    with pytest.raises(ParameterError, match="offsets"):
        find_candidates(images, valid)
    with pytest.raises(ParameterError, match="shape"):
        find_candidates([images[0], images[1][:-1]], valid[:2], OFFSETS[:2])
    with pytest.raises(ParameterError, match="one valid mask per image"):
        find_candidates(images, valid[:2], OFFSETS)
    with pytest.raises(ParameterError, match="grow_threshold"):
        find_candidates(images, valid, OFFSETS, FindParameters(threshold=2.0))


def test_outline_covers_exactly_the_pixels_and_simplification_is_bounded():
    rng = np.random.default_rng(3)
    from scipy import ndimage

    for _ in range(30):
        noise = ndimage.gaussian_filter(rng.standard_normal((60, 60)), 3)
        mask = ndimage.binary_fill_holes(noise > 0.05)
        labels, _ = ndimage.label(mask, structure=np.ones((3, 3)))
        if labels.max() == 0:
            continue
        biggest = labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1
        biggest = ndimage.binary_fill_holes(biggest)
        outline = outline_polygon(biggest)
        np.testing.assert_array_equal(
            rasterize_shape("polygon", outline - 0.5, mask.shape), biggest
        )
        simple = simplify_closed(outline, 2.0)
        assert 3 <= len(simple) <= len(outline)
        grown = ndimage.binary_dilation(biggest, iterations=3)
        assert not (rasterize_shape("polygon", simple - 0.5, mask.shape) & ~grown).any()

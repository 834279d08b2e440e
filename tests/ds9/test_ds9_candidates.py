"""Find claw candidates (all frames) and Remove claw candidates, against a real DS9."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from ds9claw.find_files import CANDIDATE_TAG, find_files

pytestmark = pytest.mark.ds9

OWN_REGION = "# Region file format: DS9 version 4.1\nimage\ncircle(100,120,30) # color=green\n"


def _copy(visit, target, count):
    cals = []
    for exposure in visit.exposures[:count]:
        shutil.copy2(exposure.cal, target / exposure.cal.name)
        cals.append(target / exposure.cal.name)
    return cals


def _show(ds9, cals):
    for index, cal in enumerate(cals):
        if index:
            ds9.set("frame new")
        ds9.load(cal)


def _candidate_lines(ds9, frame):
    ds9.set(f"frame {frame}")
    return [line for line in ds9.regions().splitlines() if f"tag={{{CANDIDATE_TAG}}}" in line]


def _vertices(line):
    return np.array([float(v) for v in re.search(r"polygon\(([^)]*)\)", line).group(1).split(",")])


def test_find_draws_the_candidates_of_every_frame_and_keeps_own_regions(
    ds9, example_visit_small, tmp_path
):
    cals = _copy(example_visit_small, tmp_path, 4)
    _show(ds9, cals)
    ds9.set("frame 1")
    ds9.draw(OWN_REGION)
    own_before = [line for line in ds9.regions().splitlines() if line.startswith("circle")]
    assert len(own_before) == 1

    text = ds9.task("Find claw candidates (all frames)")

    reference = tmp_path / "ref"
    reference.mkdir()
    expected = find_files(_copy(example_visit_small, reference, 4))
    counts = [len(item.candidates) for item in expected]
    assert counts == [1, 1, 2, 1]
    assert f"drew {sum(counts)} claw candidate(s) on 4 frame(s)" in text, text
    for frame, (count, item) in enumerate(zip(counts, expected, strict=True), start=1):
        assert f"frame {frame} ({cals[frame - 1].name}[SCI]): {count} candidate(s)" in text
        lines = _candidate_lines(ds9, frame)
        assert len(lines) == count
        for line, candidate in zip(lines, item.candidates, strict=True):
            np.testing.assert_allclose(_vertices(line), candidate.polygon.ravel() + 1, atol=0.01)
            assert f"text={{{candidate.label}}}" in line
    # dashed and cyan: as DS9 itself reports the shape's properties
    ds9.set("frame 3")
    listing = ds9.regions()
    assert "dash=1" in listing and "cyan" in listing
    ds9.set("frame 1")
    assert [line for line in ds9.regions().splitlines() if line.startswith("circle")] == own_before

    # A second run replaces the candidates instead of adding more.
    ds9.task("Find claw candidates (all frames)")
    assert [len(_candidate_lines(ds9, f)) for f in (1, 2, 3, 4)] == counts

    removed = ds9.task("Remove claw candidates")
    assert f"removed {sum(counts)} claw candidate(s) on 4 frame(s)" in removed, removed
    assert all(_candidate_lines(ds9, f) == [] for f in (1, 2, 3, 4))
    ds9.set("frame 1")
    assert [line for line in ds9.regions().splitlines() if line.startswith("circle")] == own_before
    assert not list(tmp_path.glob("*.reg"))  # the menu entry writes no region files


def test_too_few_frames_say_why(ds9, example_visit_small, tmp_path):
    cals = _copy(example_visit_small, tmp_path, 2)
    _show(ds9, cals)
    text = ds9.task("Find claw candidates (all frames)")
    assert "3 exposures" in text and "open the other dithers" in text, text
    assert all(_candidate_lines(ds9, f) == [] for f in (1, 2))

"""Issue 13, section 5: one reused report window, short lines, human dialog titles."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.ds9


def _toplevels(ds9) -> list[str]:
    return ds9.tcl("winfo children .").split()


def test_reports_share_one_window_with_short_lines(ds9, example_copy):
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())

    first = ds9.task("Detect claws")
    second = ds9.task("Detect claws")
    cleared = ds9.task("Clear ds9claw frames")

    # one window, titled ds9claw; DS9's per-task windows stay closed
    assert ".ds9clawtxt" in _toplevels(ds9)
    assert not [w for w in _toplevels(ds9) if w.startswith(".atmenu")], _toplevels(ds9)
    assert ds9.tcl("wm title .ds9clawtxt") == "ds9claw"
    shown = ds9.tcl(".ds9clawtxt.text get 1.0 end-1c")
    # the verdict first, then the details; every report ends with a newline, a rule between
    assert first.splitlines()[0].startswith("ds9claw: detected claws in frame 1: ")
    assert first.splitlines()[0].endswith(" pixels masked")
    assert "(new frames)" in first and "(frames reused)" in second
    assert "ignore background=no" in first
    reports = shown.split("-" * 40 + "\n")
    assert len(reports) == 3, shown
    assert [r.strip() for r in reports] == [first, second, cleared]
    assert all(r.endswith("\n") and not r.endswith("\n\n") for r in reports), reports
    # short lines, except the lines with a path (kept whole, with their label)
    for line in shown.splitlines():
        assert len(line) <= 80 or any(len(word) >= 40 for word in line.split()), line
    assert any(line.startswith("  wrote /") for line in first.splitlines()), first


def test_dialog_titles_are_human(ds9, example_copy):
    ds9.load(example_copy.cal)
    expected = {
        "Detect claws with parameters...": "Detect claws with parameters",
        "Detect claws in regions from a file...": "Detect claws in regions from a file",
        "Commit mask to rate DQ (rate directory)...": "Commit mask to rate DQ, rate directory",
    }
    for entry, title in expected.items():
        index = ds9.task_index(entry)
        parent = ds9.tcl(f"set ianalysis(menu,{index},parent)")
        label = ds9.tcl(f"set ianalysis(menu,{index},item)")
        ds9.tcl(f"after 0 [list {parent} invoke [{parent} index {{{label}}}]]")
        deadline = time.monotonic() + 30
        while ds9.tcl("grab current") != ".param":
            assert time.monotonic() < deadline, "the dialog did not open"
            time.sleep(0.05)
        assert ds9.tcl("wm title .param") == title
        ds9.tcl("after 0 {set ::ed(ok) 0}")  # Cancel: the task does not run
        while ds9.tcl("winfo exists .param") == "1":
            assert time.monotonic() < deadline, "the dialog did not close"
            time.sleep(0.05)
    assert ds9.frames() == [1]

"""Save snapshot (`ds9claw.ds9.snapshot.snapshot`) against the recording fake Transport."""

from __future__ import annotations

import re

import pytest
from fakes import IMAGE_FRAME_QUERIES, PRODUCT_FRAME_QUERIES, one_exposure

from ds9claw.detect import DetectionParameters
from ds9claw.ds9.actions import detect, snapshot
from ds9claw.errors import InputError

#: How the image frame and its seed and mask frames are found (three frames shown).
FIND_FRAMES = [*IMAGE_FRAME_QUERIES, *PRODUCT_FRAME_QUERIES]


def LABEL(frame: int) -> list[tuple[str, str]]:
    """What labelling one panel sends."""
    return [("set", f"frame {frame}"), ("get", "fits size"), ("set", "regions")]


def UNLABEL(frame: int) -> list[tuple[str, str]]:
    """What taking one panel's label away sends."""
    return [("set", f"frame {frame}"), ("set", "regions group ds9claw-label delete")]


def _detected(tmp_path):
    ds9, cal = one_exposure(tmp_path)
    detect(ds9, params=DetectionParameters(ignore_background=True), write=False)
    return ds9, cal


def test_snapshot_saves_png_and_eps_at_the_snapshot_size_and_puts_the_canvas_back(tmp_path):
    ds9, _ = _detected(tmp_path)
    start = len(ds9.sent)

    report = snapshot(ds9)

    sent = ds9.sent[start:]
    saves = [command for kind, command in sent if command.startswith("saveimage")]
    assert sent == [
        *FIND_FRAMES,
        ("get", "frame all"),
        # each panel is labelled (a text region tagged ds9claw-label) while DS9 saves it
        *[step for frame in (1, 2, 3) for step in LABEL(frame)],
        ("get", "width"),
        ("get", "height"),
        ("set", "width 1200"),
        ("set", "height 350"),
        ("set", "tcl"),
        ("set", "zoom to fit"),
        ("set", "tcl {catch {package require img::window}}"),
        ("set", saves[0]),
        ("set", saves[1]),
        ("set", "width 738"),
        ("set", "height 488"),
        ("set", "tcl {update idletasks}"),
        ("set", "zoom to fit"),
        *[step for frame in (1, 2, 3) for step in UNLABEL(frame)],
        ("set", "frame 1"),
    ]
    labels = [data.decode() for command, data in ds9.payloads if command == "regions"][-3:]
    assert len(labels) == 3
    assert "image: " in labels[0] and "X_nrcb1_cal.fits[SCI]" in labels[0]
    assert "{seed}" in labels[1] and "{0/1 mask}" in labels[2]
    assert all("tag={ds9claw-label}" in text for text in labels)
    assert ds9.payload("tcl") == b"update idletasks\nraise $ds9(top)\nupdate idletasks\n"
    # DS9 writes each into a fresh temporary file beside the target, renamed into place
    directory = re.escape(str(tmp_path.resolve()))
    assert re.fullmatch(
        rf"saveimage png \{{{directory}/\.X_nrcb1_cal_claws\.png\.tmp-\S+\.png\}}", saves[0]
    )
    assert re.fullmatch(
        rf"saveimage eps \{{{directory}/\.X_nrcb1_cal_claws\.eps\.tmp-\S+\.eps\}}", saves[1]
    )
    png, eps = (
        tmp_path.resolve() / "X_nrcb1_cal_claws.png",
        tmp_path.resolve() / "X_nrcb1_cal_claws.eps",
    )
    assert report.paths == [png, eps]
    assert (png.read_bytes(), eps.read_bytes()) == (b"fake png", b"fake eps")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "X_nrcb1_cal.fits",
        "X_nrcb1_cal_claws.eps",
        "X_nrcb1_cal_claws.png",
    ]
    assert (ds9.settings["width"], ds9.settings["height"], ds9.current) == ("738", "488", 1)


def test_snapshot_to_a_given_base_in_one_format(tmp_path):
    ds9, _ = _detected(tmp_path)
    start = len(ds9.sent)
    report = snapshot(ds9, output=tmp_path / "views" / "claw.eps", formats=["eps"], width=800)
    sets = [command for kind, command in ds9.sent[start:] if kind == "set"]
    assert "width 800" in sets and "tcl {catch {package require img::window}}" not in sets
    assert report.paths == [tmp_path / "views" / "claw.eps"]
    assert report.paths[0].read_bytes() == b"fake eps"


def test_snapshot_before_detect_asks_for_detect_and_saves_nothing(tmp_path):
    ds9, _ = one_exposure(tmp_path)
    with pytest.raises(InputError, match="no seed and mask frames for frame 1"):
        snapshot(ds9)
    assert ds9.sets() == ["frame 1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X_nrcb1_cal.fits"]

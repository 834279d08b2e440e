"""The DS9 actions against a recording fake Transport: the exact commands they send."""

from __future__ import annotations

from fakes import FakeFrame, RecordingTransport

from ds9claw.ds9.actions import ROLE_KEY, analysis_tasks, clear_frames
from ds9claw.ds9.transport import Transport


def _three_frames() -> RecordingTransport:
    return RecordingTransport(
        frames={
            1: FakeFrame(file="/data/X_cal.fits[SCI]"),
            2: FakeFrame(cards={ROLE_KEY: "seed"}, file="stdin"),
            3: FakeFrame(cards={ROLE_KEY: "mask"}, file="stdin"),
        },
        current=1,
    )


def test_the_fake_is_a_transport():
    assert isinstance(RecordingTransport(), Transport)


def test_clear_deletes_seed_and_mask_frames_and_untiles():
    ds9 = _three_frames()
    report = clear_frames(ds9)
    assert (report.deleted, report.current) == ([2, 3], 1)
    assert ds9.sent == [
        ("get", "frame all"),
        ("get", "frame"),
        ("get", "fits header"),
        ("set", "frame 1"),
        ("get", "fits header"),
        ("set", "frame 2"),
        ("get", "fits header"),
        ("set", "frame delete 2"),
        ("set", "frame 3"),
        ("get", "fits header"),
        ("set", "frame delete 3"),
        ("get", "frame all"),
        ("set", "frame 1"),
        ("set", "tile no"),
    ]
    assert sorted(ds9.frames) == [1]
    assert report.summary() == "ds9claw: deleted 2 ds9claw frame(s): 2, 3"


def test_clear_without_frames_sends_one_question():
    ds9 = RecordingTransport()
    report = clear_frames(ds9)
    assert (report.deleted, report.current) == ([], None)
    assert ds9.sent == [("get", "frame all")]
    assert report.summary() == "ds9claw: no ds9claw frame to clear"


def test_clear_leaves_image_frames_and_keeps_tiling_with_two_left():
    ds9 = _three_frames()
    ds9.frames[4] = FakeFrame(file="/data/Y_cal.fits[SCI]")
    clear_frames(ds9)
    assert sorted(ds9.frames) == [1, 4]
    assert "tile no" not in ds9.sets()
    assert ds9.sets()[-1] == "frame 1"


def test_analysis_tasks_reads_the_task_list():
    ds9 = RecordingTransport(tasks=["Detect claws", "Detect claws with parameters..."])
    assert analysis_tasks(ds9) == ["Detect claws", "Detect claws with parameters..."]
    assert ds9.sent == [("get", "analysis task")]

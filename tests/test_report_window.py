"""The shared ds9claw report window, without DS9: Tcl quoting, wrapping, fallbacks."""

from __future__ import annotations

import tkinter

import pytest

from ds9claw.ds9.report_text import wrap_report
from ds9claw.ds9.report_window import (
    ReportWindowStream,
    post_script,
    run_reported,
    tcl_string,
)
from ds9claw.errors import TransportError


@pytest.mark.parametrize(
    "text",
    [
        "plain words, key=value; 100%",
        'brackets [exit 1] braces {x} dollar $env(HOME) back\\slash "quoted"',
        "lines\nand\ttabs\n# not a comment; nor a command\n",
        "non-ASCII: µJy, Ångström, ✓",
    ],
)
def test_tcl_string_reads_back_unchanged(text):
    interp = tkinter.Tcl()
    assert interp.eval(f"set x {tcl_string(text)}") == text
    assert interp.eval("string length $x") == str(len(text))


def test_tcl_string_beyond_the_bmp_is_the_replacement_character():
    assert tkinter.Tcl().eval(f"set x {tcl_string('ok 🙂')}") == "ok \ufffd"


def test_wrap_keeps_key_value_tokens_and_multi_word_keys():
    line = (
        "  sigma=2.5, smooth=1, minpixarea=2, ignore background=yes, median filter=3, "
        "suffix=_claws_seed_image, overwrite=no"
    )
    wrapped = wrap_report("ds9claw: verdict\n" + line)
    lines = wrapped.split("\n")
    assert wrapped.endswith("\n") and not wrapped.endswith("\n\n")
    assert lines[0] == "ds9claw: verdict"
    assert all(len(x) <= 80 for x in lines), lines
    assert len(lines) == 4  # verdict, two lines of parameters, the final ""
    assert "ignore background=yes" in wrapped and "median filter=3" in wrapped
    assert lines[2].startswith("      ")  # continuation: indent + 4
    assert " ".join(wrapped.split()) == " ".join(("ds9claw: verdict " + line).split())


def test_wrap_keeps_a_line_with_a_path_whole():
    path = "/tmp/some/where/deep/jw01837003021_08201_00001_nrca3_rate_before_removing_claws.fits"
    line = f"  backup: {path} (kept as it was, never overwritten by a later commit)"
    assert wrap_report(line) == line + "\n"


class _Recorder:
    def __init__(self, fail: bool = False):
        self.scripts: list[str] = []
        self.fail = fail
        self.closed = False

    def set(self, command, data=None):
        if self.fail:
            raise TransportError("DS9 is gone")
        assert command == "tcl"
        self.scripts.append(data.decode())

    def close(self):
        self.closed = True


def _eval_posts(scripts: list[str]) -> str:
    """Run the posted scripts in a Tcl with a stand-in SimpleTextDialog; return its text."""
    interp = tkinter.Tcl()
    interp.eval(
        "set shown {}; proc winfo {what w} {global shown; expr {$shown ne {}}}\n"
        "proc SimpleTextDialog {var title w h action pos txt} "
        "{global shown; if {$title ne {ds9claw} || $action ne {append}} {error bad}; "
        "append shown $txt}"
    )
    interp.createcommand(".ds9clawtxt.text", lambda *a: interp.eval("set shown"))
    for script in scripts:
        interp.eval(script)
    return interp.eval("set shown")


def test_reports_go_to_the_window_with_a_rule_between_them(capsys):
    recorder = _Recorder()

    def first():
        print("ds9claw: first verdict")
        print("  detail [1]")
        return 0

    def second():
        print("ds9claw: second verdict")
        return 3

    assert run_reported(first, lambda: recorder) == 0
    assert run_reported(second, lambda: recorder) == 3
    assert capsys.readouterr().out == ""
    assert recorder.closed
    assert _eval_posts(recorder.scripts) == (
        "ds9claw: first verdict\n  detail [1]\n" + "-" * 40 + "\nds9claw: second verdict\n"
    )


def test_progress_lines_are_posted_at_each_flush():
    recorder = _Recorder()
    stream = ReportWindowStream(lambda: recorder)
    stream.write("ds9claw: working ...\n")
    stream.flush()
    assert len(recorder.scripts) == 1
    stream.write("  exposure 1 done")  # no newline yet: kept
    stream.flush()
    assert len(recorder.scripts) == 1
    stream.finish()
    assert len(recorder.scripts) == 2
    # the rule goes only before a report's first piece
    assert "ds9claw: working" in recorder.scripts[0] and "----" in recorder.scripts[0]
    assert "----" not in recorder.scripts[1]
    assert recorder.scripts[1] == post_script("  exposure 1 done\n", first=False)


def test_unreachable_ds9_gets_the_report_on_stdout(capsys):
    def report():
        print("ds9claw: verdict with a " + "long " * 20 + "line")
        return 0

    assert run_reported(report, lambda: _Recorder(fail=True)) == 0
    out = capsys.readouterr().out
    assert out.startswith("ds9claw: verdict with a long") and out.endswith("line\n")
    assert all(len(x) <= 80 for x in out.splitlines())


def test_a_crash_still_shows_what_was_reported_before_it(capsys):
    recorder = _Recorder()

    def crash():
        print("ds9claw: half way")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_reported(crash, lambda: recorder)
    assert _eval_posts(recorder.scripts) == "ds9claw: half way\n"
    assert capsys.readouterr().out == ""


def test_wrap_breaks_a_line_with_a_plain_file_name_but_not_a_tied_one():
    name = "jw09999001001_02101_00001_nrcb1_cal.fits[SCI]"
    review = f"reviewing {name} (Claws > Review next exposure for the next)"
    assert wrap_report(review) == (
        f"reviewing {name} (Claws > Review next\n    exposure for the next)\n"
    )
    note = f"  note: frame 4 ({name}) has no mask frame: resampled as it is"
    assert wrap_report(note) == note + "\n"

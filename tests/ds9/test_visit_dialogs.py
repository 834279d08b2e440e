"""Issue 13, section 5: the dialogs show what Detect will use, however the menu was loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ds9claw.ds9.dialog_sync import sync_running_dialogs
from ds9claw.ds9.settings import Ds9Settings

from .conftest import run_cli

pytestmark = pytest.mark.ds9


def _dialog_value(ds9, var: str) -> str:
    """The value DS9's parameter dialog shows for ``var`` (``ianalysis(param,...)``)."""
    return ds9.tcl(
        "set r {}; for {set i 0} {$i < $::ianalysis(param,count)} {incr i} {"
        " for {set j 0} {$j < $::ianalysis(param,$i,count)} {incr j} {"
        "  for {set k 0} {$k < $::ianalysis(param,$i,$j,count)} {incr k} {"
        f"   if {{$::ianalysis(param,$i,$j,$k,var) == {{{var}}}}} "
        "{set r $::ianalysis(param,$i,$j,$k,value)}}}}; set r"
    )


def test_ds9_ans_copy_gets_the_remembered_values(ds9_session, ds9, cli_env):
    home = Path(cli_env["HOME"])
    installed = Path(
        json.loads((ds9_session.config_dir / "settings.json").read_text())["analysis_file"]
    )
    ds9_ans = home / ".ds9.ans"
    # the README's first suggestion: cp <user copy> ~/.ds9.ans, plus an entry of the observer
    own = "\nMy own task\n*\nmenu\necho hello | $text\n"
    ds9_ans.write_text(installed.read_text() + own)
    try:
        done = run_cli(["ds9", "params", "--no-detect", "--sigma", "2.5", "--smooth", "1"], cli_env)
        assert done.returncode == 0, done.stderr
        text = ds9_ans.read_text()
        sigma = [line for line in text.splitlines() if line.startswith("cl_sigma ")]
        assert sigma and " 2.5 " in sigma[0], sigma
        assert next(x for x in text.splitlines() if x.startswith("cl_smooth ")).split("}")[
            1
        ].split()[0] == "1"
        assert text.endswith(own)  # the observer's entry is kept
        # apart from the defaults, the file is the copy it was
        assert len(text.splitlines()) == len((installed.read_text() + own).splitlines())
    finally:
        ds9_ans.unlink()


def test_running_dialog_shows_the_values_detect_uses(ds9, cli_env, example_copy):
    sync_running_dialogs(ds9.t, Ds9Settings())  # what other tests typed is forgotten
    assert _dialog_value(ds9, "cl_sigma") == "3"
    done = run_cli(["ds9", "params", "--no-detect", "--sigma", "2.5"], cli_env)
    assert done.returncode == 0, done.stderr
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    try:
        text = ds9.task("Detect claws")
        assert "sigma=2.5" in text, text
        assert _dialog_value(ds9, "cl_sigma") == "2.5"
    finally:  # the session's DS9 goes on with the default values for the other tests
        sync_running_dialogs(ds9.t, Ds9Settings())
    assert _dialog_value(ds9, "cl_sigma") == "3"

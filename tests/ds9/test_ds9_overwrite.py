"""`ds9claw ds9 detect` and the Claws menu follow the one overwrite policy (real DS9)."""

from __future__ import annotations

import json

import pytest
from astropy.io import fits

from .conftest import run_cli

pytestmark = pytest.mark.ds9

USERS = b"SIMPLE  = T / the observer's own file, not a ds9claw product\n"


def _products(example):
    stem = example.cal.name[: -len(".fits")]
    return (
        example.cal.with_name(stem + "_claws_seed_image.fits"),
        example.cal.with_name(stem + "_claws_seed_image_zeroonemask.fits"),
    )


def _detect_cli(ds9, cli_env, *args):
    return run_cli(["ds9", "detect", "--target", ds9.proc.xpa_target, *args], cli_env)


def test_cli_refuses_a_users_file_and_replaces_its_own(ds9, cli_env, example_copy):
    seed, mask = _products(example_copy)
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    mask.write_bytes(USERS)

    proc = _detect_cli(ds9, cli_env, "--sigma", "2")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{mask} exists and was not written by ds9claw" in lines[0]
    assert "ds9claw ds9 detect --overwrite" in lines[0]
    assert mask.read_bytes() == USERS and not seed.exists()
    assert ds9.frames() == [1]  # refused before anything was shown

    proc = _detect_cli(ds9, cli_env, "--sigma", "2", "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert fits.getheader(mask)["CLAWSOFT"] == "ds9claw"
    assert ds9.frames() == [1, 2, 3]

    # ds9claw's own earlier products: replaced without being asked
    proc = _detect_cli(ds9, cli_env, "--sigma", "3")
    assert proc.returncode == 0, proc.stderr
    assert fits.getheader(mask)["CLAWSIG"] == 3.0
    assert fits.getheader(seed)["CLAWSIG"] == 3.0


def test_menu_refuses_unless_the_ds9_setting_allows(ds9, ds9_session, cli_env, example_copy):
    seed, mask = _products(example_copy)
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    seed.write_bytes(USERS)

    text = ds9.task("Detect claws")
    assert f"{seed} exists and was not written by ds9claw" in text, text
    assert "Replace files not written by ds9claw" in text
    assert seed.read_bytes() == USERS and not mask.exists()
    assert ds9.frames() == [1]

    # the DS9 setting, ticked in the parameter dialog (item 6), is remembered
    text = ds9.click_with_dialog(
        "Detect claws with parameters...",
        {0: "2", 1: "1", 2: "1", 3: "1", 4: "1", 5: "_claws_seed_image", 6: "1"},
    )
    assert "ds9claw: detected" in text, text
    assert fits.getheader(seed)["CLAWSOFT"] == "ds9claw"
    settings = json.loads((ds9_session.config_dir / "settings.json").read_text())
    assert settings["overwrite"] is True
    user_copy = (ds9_session.config_dir / "ds9claw.ans").read_text()
    assert "cl_overwrite checkbox {Replace files not written by ds9claw} 1 " in user_copy

    seed.write_bytes(USERS)
    text = ds9.task("Detect claws")  # the plain entry uses the remembered setting
    assert "ds9claw: detected" in text, text
    assert fits.getheader(seed)["CLAWSIG"] == 2.0

    # unticked again: refused again
    seed.write_bytes(USERS)
    text = ds9.click_with_dialog(
        "Detect claws with parameters...",
        {0: "2", 1: "1", 2: "1", 3: "1", 4: "1", 5: "_claws_seed_image", 6: "0"},
    )
    assert f"{seed} exists and was not written by ds9claw" in text, text
    assert seed.read_bytes() == USERS

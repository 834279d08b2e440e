"""Bad cases: each ends in a clear message in DS9 (the task's text window) and, run from
the command line, in one error line and a non-zero exit status."""

from __future__ import annotations

import io

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.errors import TransportError

from .conftest import run_cli

pytestmark = pytest.mark.ds9


def _cli(ds9, cli_env, *args):
    return run_cli(["ds9", *args, "--target", ds9.proc.xpa_target], cli_env)


def _assert_refused(ds9, cli_env, menu_entry, action, expected, *extra):
    text = ds9.task(menu_entry)
    assert "ds9claw: error:" in text and expected in text, text
    proc = _cli(ds9, cli_env, action, *extra)
    assert proc.returncode == 1, proc
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr  # one line
    return text


def test_no_image_loaded(ds9, cli_env):
    _assert_refused(ds9, cli_env, "Detect claws", "detect", "frame 1 is empty")
    assert ds9.frames() == [1]


def test_no_regions_drawn(ds9, cli_env, example_copy):
    ds9.load(example_copy.cal)
    _assert_refused(ds9, cli_env, "Detect claws", "detect", "no region drawn on DS9 frame 1")
    assert ds9.frames() == [1]
    assert not list(example_copy.cal.parent.glob("*_claws_seed_image*.fits"))


def test_only_exclude_regions(ds9, cli_env, example_copy):
    ds9.load(example_copy.cal)
    ds9.draw("image\n-circle(200,200,40)\n-box(300,300,20,20,0)\n")
    _assert_refused(ds9, cli_env, "Detect claws", "detect", "only exclusion shapes (2)")
    assert ds9.frames() == [1]


def test_cube_in_frame(ds9, cli_env, tmp_path):
    cube = tmp_path / "cube.fits"
    fits.writeto(cube, np.zeros((3, 40, 50), np.float32))
    ds9.load(cube, ext="")
    ds9.draw("image\ncircle(20,20,5)\n")
    _assert_refused(ds9, cli_env, "Detect claws", "detect", "holds a 3-D cube")


def test_sky_region_on_image_without_wcs(ds9, cli_env, tmp_path):
    image = tmp_path / "nowcs.fits"
    rng = np.random.default_rng(1)
    fits.writeto(image, rng.normal(0, 1, (100, 120)).astype(np.float32))
    region = tmp_path / "sky.reg"
    region.write_text("fk5\npolygon(10.0,20.0,10.01,20.0,10.01,20.01)\n")
    ds9.load(image, ext="")
    text = ds9.click_with_dialog("Detect claws in regions from a file...", {0: str(region)})
    assert "ds9claw: error:" in text and "WCS" in text, text
    proc = _cli(ds9, cli_env, "detect", "--regions-file", str(region))
    assert proc.returncode == 1 and "WCS" in proc.stderr, proc.stderr
    assert ds9.frames() == [1]


def test_commit_on_frame_without_file(ds9, cli_env, example_copy):
    with fits.open(example_copy.cal) as hdul:
        buffer = io.BytesIO()
        fits.PrimaryHDU(hdul["SCI"].data, hdul["SCI"].header).writeto(buffer)
    ds9.set("fits", buffer.getvalue())  # sent as bytes: no file behind the frame
    ds9.draw(example_copy.region.read_text())
    shown = ds9.task("Detect claws")
    assert "nothing written: the frame has no file on disk" in shown, shown
    assert ds9.frames() == [1, 2, 3]
    _assert_refused(
        ds9, cli_env, "Commit mask to rate DQ", "commit", "the commit needs the cal file on disk"
    )


def test_commit_without_rate_file(ds9, cli_env, example_copy):
    example_copy.rate.unlink()
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    ds9.task("Detect claws")
    _assert_refused(ds9, cli_env, "Commit mask to rate DQ", "commit", "no rate file for")


def test_ds9_closed_in_the_middle(example_copy, tmp_path, cli_env):
    """A second DS9 that is killed after the action has read the image."""
    from ds9claw.ds9 import actions
    from ds9claw.ds9.launch import start_ds9
    from ds9claw.ds9.xpa import XpaTransport

    class KillingTransport(XpaTransport):
        def get(self, command):
            answer = super().get(command)
            if command == "fits":
                victim.process.kill()
                victim.process.wait(10)
            return answer

    env = {k: v for k, v in cli_env.items() if k != "DISPLAY"}
    with start_ds9(xvfb=True, env=env, timeout=60, cwd=tmp_path) as victim:
        t = KillingTransport(victim.xpa_target, timeout=5)
        t.set(f"file {{{example_copy.cal}[SCI]}}")
        t.set("regions", example_copy.region.read_bytes())
        with pytest.raises(TransportError) as info:
            actions.detect(t)
        message = str(info.value)
        assert victim.xpa_target in message
        assert "XPA_METHOD=local" in message
        assert "was it closed?" in message or "not reachable" in message
        target = victim.xpa_target
    # and from the command line, against the DS9 that is gone
    proc = run_cli(["ds9", "detect", "--target", target], cli_env)
    assert proc.returncode == 1
    assert "is not reachable over XPA" in proc.stderr and "--target" in proc.stderr


def test_no_ds9_at_all(tmp_path, cli_env):
    env = dict(cli_env, XPA_METHOD="local", XPA_TMPDIR=str(tmp_path))
    proc = run_cli(["ds9", "detect"], env)
    assert proc.returncode == 1
    assert "no running DS9 found over XPA (XPA_METHOD=local" in proc.stderr

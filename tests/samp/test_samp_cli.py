"""``ds9claw ds9 ...`` from a terminal reaches a DS9 that has no XPA, over SAMP."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.ds9.samp_transport import connect_samp

from .conftest import clean_env

pytestmark = [pytest.mark.samp, pytest.mark.ds9]


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ds9claw", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("choose", ["--samp", "automatic"])
def test_ds9_detect_over_samp_from_the_command_line(
    choose, hub, ds9_samp_only, example_small, tmp_path
):
    samp = connect_samp(ds9_samp_only.title, hub=hub.lockfile, timeout=20)
    try:
        samp.set("frame delete all")
        samp.set("frame new")
        samp.set(f"fits {{{example_small.cal}}}")
        samp.set("regions", example_small.region.read_bytes())
        env = clean_env(DS9CLAW_CONFIG_DIR=str(tmp_path / "config"))
        flags = ["--samp"] if choose == "--samp" else []
        result = _cli(
            "ds9",
            "detect",
            "--target",
            ds9_samp_only.title,
            "--hub",
            str(hub.lockfile),
            *flags,
            "--sigma",
            "2",
            "--smooth",
            "1",
            "--ignore-background",
            "yes",
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert "pixels masked" in result.stdout
        frames = samp.get("frame all").split()
        assert len(frames) == 3
        samp.set(f"frame {int(frames[2])}")
        shown_mask = fits.getdata(io.BytesIO(samp.get("fits")))
        samp.set(f"frame {int(frames[0])}")
        from ds9claw.api import detect_file
        from ds9claw.detect import DetectionParameters

        expected = detect_file(
            example_small.cal,
            include=[example_small.region],
            write=False,
            params=DetectionParameters(sigma=2, smooth=1, ignore_background=True),
        ).result.mask
        assert expected.sum() > 1000
        np.testing.assert_array_equal(np.asarray(shown_mask) > 0, expected)
    finally:
        samp.close()


def test_ds9_detect_with_xpa_only_names_the_xpa_failure(hub, ds9_samp_only, tmp_path):
    env = clean_env(DS9CLAW_CONFIG_DIR=str(tmp_path / "config"))
    result = _cli(
        "ds9", "detect", "--target", ds9_samp_only.title, "--xpa", "--timeout", "3", env=env
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "XPA" in lines[0] and "Traceback" not in result.stderr

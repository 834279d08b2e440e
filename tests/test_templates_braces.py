"""Braces in real file names are not template placeholders; ``{{`` and ``}}`` escape them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from commit_helpers.factory import make_rate, write_mask

from ds9claw.api import resolve_region_template
from ds9claw.commit import expand_mask_template
from ds9claw.errors import InputError, ParameterError
from ds9claw.names import expand_name_template


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "-m", "ds9claw", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=cwd,
    )


def test_expand_name_template_rules(tmp_path):
    fields = {"stem": "X_cal", "dataset": "X"}
    assert expand_name_template("{stem}_claws.pix.reg", fields) == ("X_cal_claws.pix.reg", True)
    assert expand_name_template("{{lit}}_{dataset}.reg", fields) == ("{lit}_X.reg", True)
    assert expand_name_template("plain.reg", fields) == ("plain.reg", False)
    existing = tmp_path / "brace{x}_cal_claws.pix.reg"
    existing.write_text("circle(1,1,1)\n")
    assert expand_name_template(str(existing), fields) == (str(existing), False)
    with pytest.raises(KeyError, match="'x'"):
        expand_name_template(str(tmp_path / "missing{x}.reg"), fields)
    with pytest.raises(ValueError, match="Single '}'"):
        expand_name_template("a}b.reg", fields)


def test_region_template_literal_and_escape(tmp_path):
    image = tmp_path / "brace{x}_cal.fits"
    region = tmp_path / "brace{x}_cal_claws.pix.reg"
    region.write_text("circle(10,10,5)\n")
    assert resolve_region_template(str(region), image) == region
    # the field's value may contain braces: it is not read again
    assert resolve_region_template("{stem}_claws.pix.reg", image) == region
    assert resolve_region_template("{{v2}}_{dataset}.reg", image) == tmp_path / "{v2}_brace{x}.reg"
    with pytest.raises(InputError) as error:
        resolve_region_template(str(tmp_path / "other{x}.reg"), image)
    assert str(error.value) == (
        f"unknown field {{x}} in region template {str(tmp_path / 'other{x}.reg')!r} and "
        "no file has that name; use {dataset}, {stem}, {name} or {dir}, and {{ }} for literal "
        "braces"
    )
    with pytest.raises(InputError, match=r"write {{ and }} for literal braces"):
        resolve_region_template("lone}brace.reg", image)


def test_mask_template_literal_and_escape(tmp_path):
    rate = tmp_path / "brace{x}_rate.fits"
    mask = tmp_path / "brace{x}_mask.fits"
    mask.write_bytes(b"")
    assert expand_mask_template(str(mask), rate) == mask
    assert expand_mask_template("{dir}/{dataset}_mask.fits", rate) == mask
    assert expand_mask_template("{{a}}{dataset}.fits", rate) == rate.parent / "{a}brace{x}.fits"
    with pytest.raises(ParameterError, match=r"unknown field \{x\} in mask template .* no file"):
        expand_mask_template(str(tmp_path / "gone{x}.fits"), rate)


def test_cli_detect_and_commit_on_brace_names(example_small, tmp_path):
    cal = tmp_path / "brace{x}_cal.fits"
    shutil.copy(example_small.cal, cal)
    region = tmp_path / "brace{x}_cal_claws.pix.reg"
    shutil.copy(example_small.region, region)
    for include in (str(region), "{stem}_claws.pix.reg"):
        result = _run("detect", str(cal), "--include-region", include, "--sigma", "2",
                      "--smooth", "1", "--overwrite")  # fmt: skip
        assert result.returncode == 0, result.stderr
    seed = tmp_path / "brace{x}_cal_claws_seed_image_zeroonemask.fits"
    n_detected = int(np.count_nonzero(fits.getdata(seed)))
    assert n_detected > 100

    rate = make_rate(tmp_path / "brace{y}_rate.fits", (64, 64))
    mask = np.zeros((64, 64), bool)
    mask[10:20, 10:30] = True
    write_mask(tmp_path / "brace{y}_claws.fits", mask)
    result = _run("commit", str(rate), "--mask", str(tmp_path / "brace{y}_claws.fits"))
    assert result.returncode == 0, result.stderr
    with fits.open(rate) as hdul:
        assert int(np.count_nonzero(hdul["DQ"].data & 1)) >= 200
        assert np.all(hdul["DQ"].data[10:20, 10:30] & 1)
    result = _run("commit", str(rate), "--mask", "{dir}/brace{z}_claws.fits")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "ds9claw: error: unknown field {z} in mask template '{dir}/brace{z}_claws.fits' and "
        "no file has that name; use {dataset}, {stem}, {name} or {dir}, and {{ }} for literal "
        "braces"
    ]

"""``ds9claw regions copy``: real region files of visit 021 carried to a visit 023."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.cli import main
from ds9claw.region_copy import exposure_key, plan_copies, write_copies

REAL = Path(__file__).parent / "data" / "real_regions"
SOURCES = sorted(REAL.glob("jw01837003021_08201_*_bad_area.pix.reg"))


def _exposures(directory: Path, names):
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        fits.HDUList(
            [fits.PrimaryHDU(), fits.ImageHDU(np.zeros((4, 4), np.float32), name="SCI")]
        ).writeto(directory / name)


def _visit99(tmp_path: Path) -> Path:
    names = [
        p.name.replace("jw01837003021", "jw01837003099").replace("_bad_area.pix.reg", "_cal.fits")
        for p in SOURCES
    ]
    dest = tmp_path / "visit99"
    # one exposure more, without a region file, and one region file's detector missing
    _exposures(dest, [*names[1:], "jw01837003099_08201_00003_nrca3_cal.fits"])
    return dest


def test_exposure_key_pairs_same_exposure_and_detector():
    assert exposure_key("jw01837003021_08201_00001_nrca3_bad_area.pix.reg") == (
        "08201",
        "00001",
        "nrca3",
    )
    assert exposure_key("jw01837003022_08201_00001_nrca3_cal.fits") == ("08201", "00001", "nrca3")
    assert exposure_key("jw01837003022_08201_00001_nrcalong_cal.fits")[2] == "nrcalong"
    assert exposure_key("notes.reg") is None


def test_plan_pairs_the_right_files(tmp_path):
    assert len(SOURCES) == 12
    dest = _visit99(tmp_path)
    plan = plan_copies(SOURCES, dest)
    # every visit-023 exposure that has a visit-021 partner, and only those
    pairs = {p.exposure.name: [s.name for s in p.sources] for p in plan.pairs}
    assert len(pairs) == 11
    for exposure, sources in pairs.items():
        assert len(sources) == 1
        assert (
            sources[0]
            .replace("jw01837003021", "jw01837003099")
            .replace("_bad_area.pix.reg", "_cal.fits")
            == exposure
        )
    assert [p.name for p in plan.unpaired_exposures] == ["jw01837003099_08201_00003_nrca3_cal.fits"]
    assert SOURCES[0] in plan.unpaired_sources
    for pair in plan.pairs:
        assert pair.output == dest / pair.exposure.name.replace(".fits", "_claws.pix.reg")


def test_cli_copies_refuses_overwrite_prints_pairs(tmp_path):
    src = tmp_path / "visit21"
    src.mkdir()
    for p in SOURCES:
        shutil.copy(p, src / p.name)
    dest = _visit99(tmp_path)
    cmd = [sys.executable, "-m", "ds9claw", "regions", "copy", str(src), str(dest)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum(" -> " in line for line in lines) == 11
    for source in SOURCES[1:]:
        out = dest / source.name.replace("jw01837003021", "jw01837003099").replace(
            "_bad_area.pix.reg", "_cal_claws.pix.reg"
        )
        assert out.read_bytes() == source.read_bytes()
        assert f"{source.name} -> {out}" in lines
    assert any("no region file for jw01837003099_08201_00003_nrca3_cal.fits" in x for x in lines)

    # an observer edits one copy; a second run refuses and writes nothing
    edited = dest / "jw01837003099_08201_00002_nrca3_cal_claws.pix.reg"
    edited.write_text("# edited\nimage\ncircle(1,1,1)\n")
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode != 0
    assert "--overwrite" in again.stderr and "Traceback" not in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before

    # --overwrite replaces, keeping the edited file as a backup
    third = subprocess.run(
        [*cmd, "--overwrite"], capture_output=True, text=True, timeout=60, check=False
    )
    assert third.returncode == 0, third.stderr
    assert (dest / (edited.name + ".bak")).read_text() == "# edited\nimage\ncircle(1,1,1)\n"
    assert (
        edited.read_bytes()
        == (src / "jw01837003021_08201_00002_nrca3_bad_area.pix.reg").read_bytes()
    )

    # edited again and replaced again: the first backup is kept, the new one beside it
    edited.write_text("# edited twice\nimage\ncircle(2,2,2)\n")
    fourth = subprocess.run(
        [*cmd, "--overwrite"], capture_output=True, text=True, timeout=60, check=False
    )
    assert fourth.returncode == 0, fourth.stderr
    assert (dest / (edited.name + ".bak")).read_text() == "# edited\nimage\ncircle(1,1,1)\n"
    assert (dest / (edited.name + ".bak1")).read_text() == "# edited twice\nimage\ncircle(2,2,2)\n"


def test_two_sources_of_one_exposure_are_merged(tmp_path):
    a = SOURCES[1]
    b = tmp_path / a.name.replace("_bad_area", "_big_snowball")
    b.write_text("# Region file format: DS9 version 4.1\nimage\ncircle(10,10,5)\n")
    dest = tmp_path / "v"
    _exposures(
        dest,
        [
            a.name.replace("jw01837003021", "jw01837003024").replace(
                "_bad_area.pix.reg", "_cal.fits"
            )
        ],
    )
    plan = plan_copies([a, b], dest)
    assert len(plan.pairs) == 1 and len(plan.pairs[0].sources) == 2
    write_copies(plan)
    text = plan.pairs[0].output.read_text()
    assert a.read_text().strip() in text and "circle(10,10,5)" in text


def test_nothing_pairs_is_an_error(tmp_path):
    from ds9claw.errors import InputError

    dest = tmp_path / "empty"
    dest.mkdir()
    with pytest.raises(InputError, match="no region file pairs"):
        plan_copies(SOURCES, dest)
    # the test data holds several visits: refused, it cannot say which to copy
    with pytest.raises(InputError, match="visits"):
        plan_copies([REAL], dest)


@pytest.mark.parametrize("engine", ["jobs", "scheduler"])
def test_copies_on_the_batch_runner_are_the_same(tmp_path, engine):
    """--jobs 2 and a real Dask LocalCluster write the same files as the plain run."""
    src = tmp_path / "visit21"
    src.mkdir()
    for p in SOURCES:
        shutil.copy(p, src / p.name)
    plain = _visit99(tmp_path / "plain")
    assert main(["regions", "copy", str(src), str(plain), "-q"]) == 0
    batch = _visit99(tmp_path / "batch")
    if engine == "jobs":
        assert main(["regions", "copy", str(src), str(batch), "--jobs", "2", "-q"]) == 0
    else:
        from cluster_helpers import local_cluster

        with local_cluster() as cluster:
            address = cluster.scheduler_address
            argv = ["regions", "copy", str(src), str(batch), "--scheduler", address, "-q"]
            assert main(argv) == 0
    written = sorted(p.name for p in plain.glob("*.reg"))
    assert len(written) == 11
    assert sorted(p.name for p in batch.glob("*.reg")) == written
    for name in written:
        assert (batch / name).read_bytes() == (plain / name).read_bytes()

"""ds9claw survey plan/run/status: a resumable manifest, locally and on a LocalCluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cluster_helpers import (
    assert_same_fits,
    copy_tree,
    history_entries,
    local_cluster,
    make_visits,
)

from ds9claw.batch import BatchError
from ds9claw.cli import main
from ds9claw.errors import InputError
from ds9claw.survey import plan_survey, run_survey
from ds9claw.survey_journal import journal_path
from ds9claw.survey_manifest import read_manifest, write_manifest

N_VISITS = 2
DETECT = ["--sigma", "2", "--smooth", "1", "--ignore-background"]
WORKTREE = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def visits(tmp_path_factory):
    root = tmp_path_factory.mktemp("survey_visits") / "data"
    make_visits(root, N_VISITS)
    return root


def _plan(root: Path) -> Path:
    manifest = root / "survey.ecsv"
    assert main(["-q", "survey", "plan", f"{root}/v*/jw*_cal.fits", "-o", str(manifest)]) == 0
    return manifest


def _rows(manifest: Path, root: Path) -> list[tuple]:
    table = read_manifest(manifest)
    return [tuple(str(v).replace(str(root), "ROOT") for v in row) for row in table]


def test_plan_groups_exposures_and_pairs_regions(visits, tmp_path, capsys):
    root = copy_tree(visits, tmp_path / "data")
    given = root / "v1" / "jw09999001002_02101_00002_nrcb1_cal_claws.pix.reg"
    given.write_text("# Region file format: DS9\nimage\nbox(100,100,50,50,0)\n")
    manifest = _plan(root)
    assert "8 exposures in 2 groups (1 with a region file already)" in capsys.readouterr().out
    table = read_manifest(manifest)
    assert len(table) == 4 * N_VISITS
    row = table[list(table["region"]).index(str(given))]
    assert (row["program"], row["observation"], row["visit"]) == ("09999", "001", "jw09999001002")
    assert (row["exposure"], row["detector"], row["filter"]) == ("02101_00002", "NRCB1", "F200W")
    assert row["rate"] == str(root / "v1" / "jw09999001002_02101_00002_nrcb1_rate.fits")
    assert row["find_status"] == "done" and row["find_count"] == 0
    assert sorted(set(table["find_status"])) == ["done", "todo"]
    assert set(table["detect_status"]) == set(table["commit_status"]) == {"todo"}
    assert set(table["group"]) == {"jw09999001001 NRCB1 F200W", "jw09999001002 NRCB1 F200W"}
    with pytest.raises(InputError, match=r"no \*_cal\.fits or \*_rate\.fits file matches"):
        plan_survey([str(root / "nothing*.fits")])
    assert main(["-q", "survey", "plan", f"{root}/v*/jw*_cal.fits", "-o", str(manifest)]) == 1
    assert "exists: pass --overwrite" in capsys.readouterr().err


def test_survey_on_scheduler_gives_the_same_products_and_manifest(visits, tmp_path, capsys):
    local = copy_tree(visits, tmp_path / "jobs")  # names of one length
    remote = copy_tree(visits, tmp_path / "dask")
    steps = ["--steps", "find,detect,commit", *DETECT]
    assert main(["-q", "survey", "run", str(_plan(local)), "--jobs", "1", *steps]) == 0
    with local_cluster() as cluster:
        assert (
            main(
                [
                    "-q",
                    "survey",
                    "run",
                    str(_plan(remote)),
                    "--scheduler",
                    cluster.scheduler_address,
                    *steps,
                ]
            )
            == 0
        )
    out = capsys.readouterr().out
    assert out.count(f"find           {4 * N_VISITS}       0       0") == 2
    rows = _rows(local / "survey.ecsv", local)
    assert rows == _rows(remote / "survey.ecsv", remote)
    table = read_manifest(local / "survey.ecsv")
    assert set(table["commit_products"]) == {"committed"}
    assert all(n > 0 for n in table["detect_count"]) and all(n >= 0 for n in table["find_count"])
    assert list(table["commit_count"]) == list(table["detect_count"])
    for cal in sorted(local.glob("v*/*_cal.fits")):
        twin = remote / cal.relative_to(local)
        region = cal.with_name(cal.name.replace(".fits", "_claws.pix.reg"))
        assert region.read_text() == twin.with_name(region.name).read_text()
        for name in (
            cal.name.replace(".fits", "_claws_seed_image_zeroonemask.fits"),
            cal.name.replace("_cal", "_rate"),
        ):
            assert_same_fits(cal.with_name(name), twin.with_name(name))
    for rate in local.glob("v*/*_rate.fits"):
        assert history_entries(rate) == 1


def _done(manifest: Path, step: str) -> int:
    """Finished tasks of ``step`` as a rerun sees them (manifest and journal)."""
    return list(read_manifest(manifest)[f"{step}_status"]).count("done")


def test_killed_run_resumes_and_does_nothing_twice(visits, tmp_path):
    root = copy_tree(visits, tmp_path / "data")
    manifest = _plan(root)
    command = [sys.executable, "-m", "ds9claw", "-q", "survey", "run", str(manifest), *DETECT]
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while _done(manifest, "commit") < 2 and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    # the manifest is complete (written atomically), the journal has every finished task
    assert journal_path(manifest).is_file()
    table = read_manifest(manifest)
    done_before = [
        r for r, s in zip(table["rate"], table["commit_status"], strict=True) if s == "done"
    ]
    assert 2 <= len(done_before) < len(table), "kill -9 must come in the middle of the commits"
    stamps = {r: Path(r).stat().st_mtime_ns for r in done_before}
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert not journal_path(manifest).exists()  # folded into the manifest at the end
    table = read_manifest(manifest)
    assert {s for step in ("find", "detect", "commit") for s in table[f"{step}_status"]} == {"done"}
    for rate in table["rate"]:
        assert history_entries(Path(rate)) == 1, rate
        backups = list(Path(rate).parent.glob(Path(rate).stem + "_before_removing_claws.fits"))
        assert len(backups) == 1
    assert {r: Path(r).stat().st_mtime_ns for r in done_before} == stamps  # not touched again
    assert not list(root.rglob(".*.tmp-*")), "a temporary file was left behind"


def test_scheduler_going_away_ends_the_run_and_keeps_the_manifest(visits, tmp_path, monkeypatch):
    import ds9claw.batch_dask as batch_dask

    monkeypatch.setattr(batch_dask, "CONNECT_TIMEOUT", 3.0)
    root = copy_tree(visits, tmp_path / "data")
    manifest = _plan(root)
    options = {"detect": {"params": None}}
    run_survey(manifest, steps=["find"])
    with local_cluster() as cluster:
        stop = threading.Event()

        def close_after_the_first_detection():
            while not stop.is_set():
                if _done(manifest, "detect") >= 1:
                    cluster.close()
                    return
                stop.wait(0.01)

        closer = threading.Thread(target=close_after_the_first_detection)
        closer.start()
        try:
            with pytest.raises(
                BatchError, match=r"lost the Dask scheduler at tcp://127\.0\.0\.1:"
            ) as e:
                run_survey(
                    manifest, steps=["detect"], scheduler=cluster.scheduler_address, options=options
                )
        finally:
            stop.set()
            closer.join()
    assert "finished and were kept; start the scheduler again and rerun" in str(e.value)
    table = read_manifest(manifest)
    done = [
        p
        for p, s in zip(table["detect_products"], table["detect_status"], strict=True)
        if s == "done"
    ]
    assert 1 <= len(done) < len(table)
    assert all(Path(p).is_file() for p in done)
    assert set(table["detect_status"]) == {"done", "todo"}  # nothing marked failed
    table = run_survey(manifest, steps=["detect"], options=options)
    assert set(table["detect_status"]) == {"done"}


def test_status_reports_failures_and_rerun_retries_only_them(visits, tmp_path, capsys):
    root = copy_tree(visits, tmp_path / "data")
    lonely = root / "v1" / "jw09999001002_02101_00003_nrcb1_cal.fits"
    manifest = _plan(root)
    table = read_manifest(manifest)
    table["group"][list(table["path"]).index(str(lonely))] = "alone"
    write_manifest(table, manifest)
    assert main(["-q", "survey", "run", str(manifest), "--steps", "find,detect", *DETECT]) == 1
    capsys.readouterr()
    assert main(["survey", "status", str(manifest)]) == 1
    out = capsys.readouterr().out
    assert "find           7       1       0" in out
    assert "detect         7       1       0" in out
    assert "commit         0       0       8" in out
    assert f"find failed: {lonely}: " in out and "at least 3 dithers" in out
    assert f"detect failed: {lonely}: " in out and "no region file" in out


def test_a_second_run_of_the_same_manifest_is_refused(visits, tmp_path):
    from ds9claw.filelock import file_lock

    root = copy_tree(visits, tmp_path / "data")
    manifest = _plan(root)
    before = manifest.read_bytes()
    with file_lock(manifest), pytest.raises(InputError, match="another survey run is using"):
        run_survey(manifest, steps=["detect"])
    assert manifest.read_bytes() == before

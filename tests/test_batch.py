"""The one batch runner: local pool and a real dask.distributed LocalCluster give the same."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cluster_helpers import (
    assert_same_fits,
    copy_tree,
    history_entries,
    local_cluster,
    make_visits,
    write_box_regions,
)

from ds9claw.batch import BatchError, resolve_scheduler, run_batch
from ds9claw.cli import main

N_VISITS = 2  # 8 exposures of 256 x 256


@pytest.fixture(scope="module")
def cluster():
    with local_cluster() as running:
        yield running


@pytest.fixture(scope="module")
def visits(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch_visits") / "data"
    cals = make_visits(root, N_VISITS)
    write_box_regions(cals)
    return root


def _cals(root: Path) -> list[str]:
    return sorted(str(p) for p in root.glob("v*/*_cal.fits"))


def _products(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*_claws_seed_image*.fits"))


def _detect(root: Path, *extra: str) -> int:
    return main(
        [
            "-q",
            "detect",
            *_cals(root),
            "--include-region",
            "{stem}_box.reg",
            "--sigma",
            "2",
            "--smooth",
            "1",
            "--ignore-background",
            *extra,
        ]
    )


def _commit(root: Path, *extra: str) -> int:
    rates = sorted(str(p) for p in root.glob("v*/*_rate.fits"))
    return main(
        [
            "-q",
            "commit",
            *rates,
            "--mask",
            "{dir}/{dataset}_cal_claws_seed_image_zeroonemask.fits",
            *extra,
        ]
    )


def test_scheduler_gives_the_same_products_and_table_as_jobs_1(visits, cluster, tmp_path, capsys):
    local = copy_tree(visits, tmp_path / "jobs")  # names of one length: same table widths
    remote = copy_tree(visits, tmp_path / "dask")
    assert _detect(local, "--jobs", "1") == 0
    table_local = capsys.readouterr().out.replace(str(local), "ROOT")
    assert _detect(remote, "--scheduler", cluster.scheduler_address) == 0
    table_remote = capsys.readouterr().out.replace(str(remote), "ROOT")
    assert table_local == table_remote and table_local.count("  ok") == 4 * N_VISITS
    names = [p.relative_to(local) for p in _products(local)]
    assert names == [p.relative_to(remote) for p in _products(remote)]
    assert len(names) == 2 * 4 * N_VISITS
    for name in names:
        assert_same_fits(local / name, remote / name)
    assert _commit(local, "-j", "1") == 0
    commit_local = capsys.readouterr().out.replace(str(local), "ROOT")
    assert _commit(remote, "--scheduler", cluster.scheduler_address) == 0
    commit_remote = capsys.readouterr().out.replace(str(remote), "ROOT")
    assert commit_local == commit_remote and f"{4 * N_VISITS} committed" in commit_local
    for rate in sorted(local.glob("v*/*_rate.fits")):
        twin = remote / rate.relative_to(local)
        assert_same_fits(rate, twin)
        assert history_entries(rate) == history_entries(twin) == 1


def test_environment_variable_names_the_scheduler(monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:1")
    assert resolve_scheduler(None) == "tcp://127.0.0.1:1"
    assert resolve_scheduler("tcp://h:2") == "tcp://h:2"
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    assert resolve_scheduler(None) is None


def _worker_pids(cluster) -> list[int]:
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        return sorted(client.run(os.getpid).values())


def test_worker_killed_mid_batch_leaves_no_corrupt_file(visits, cluster, tmp_path, capsys):
    reference = copy_tree(visits, tmp_path / "reference")
    assert _detect(reference, "--jobs", "1") == 0
    table_reference = capsys.readouterr().out.replace(str(reference), "ROOT")
    root = copy_tree(visits, tmp_path / "killed___")
    pids = _worker_pids(cluster)
    assert len(pids) == 2
    killed = threading.Event()
    stop = threading.Event()

    def kill_a_worker_after_the_first_product():
        while not stop.is_set():
            if _products(root):
                os.kill(pids[0], signal.SIGKILL)
                killed.set()
                return
            stop.wait(0.005)

    killer = threading.Thread(target=kill_a_worker_after_the_first_product)
    killer.start()
    try:
        status = _detect(root, "--scheduler", cluster.scheduler_address)
    finally:
        stop.set()
        killer.join()
    assert killed.is_set() and status == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)
    assert capsys.readouterr().out.replace(str(root), "ROOT") == table_reference
    names = [p.relative_to(root) for p in _products(root)]
    assert names == [p.relative_to(reference) for p in _products(reference)]
    for name in names:
        assert_same_fits(root / name, reference / name)
    visible = sorted(p.name for p in root.rglob("*") if not p.name.startswith("."))
    assert visible == sorted(p.name for p in reference.rglob("*") if not p.name.startswith("."))


def crash_once(marker: str, value: int) -> int:
    """Kill the worker process the first time (a worker dying mid-task), then answer."""
    if not Path(marker).exists():
        Path(marker).write_text("crashed")
        os._exit(9)
    return value * 10


def crash_always(value: int) -> int:
    os._exit(9)


def fail(value: int) -> int:
    if value == 2:
        raise ValueError("two is bad")
    return value


@pytest.mark.parametrize("engine", ["pool", "dask"])
def test_crashed_worker_and_unexpected_exception_are_handled_the_same(engine, cluster, tmp_path):
    kwargs = {"jobs": 2} if engine == "pool" else {"scheduler": cluster.scheduler_address}
    if engine == "dask":  # the workers cannot import this test module: send it by value
        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    marker = tmp_path / "crashed"
    fine = tmp_path / "already-crashed"
    fine.write_text("")
    results = run_batch(crash_once, [(str(marker), 1), (str(fine), 2)], **kwargs)
    assert marker.read_text() == "crashed"
    assert [(r.ok, r.value) for r in results] == [(True, 10), (True, 20)], results
    results = run_batch(fail, [(1,), (2,), (3,)], **kwargs)
    assert [(r.ok, r.value, r.error) for r in results] == [
        (True, 1, ""),
        (False, None, "unexpected ValueError: two is bad"),
        (True, 3, ""),
    ]
    results = run_batch(crash_always, [(5,), (6,)], **kwargs)
    assert [r.ok for r in results] == [False, False]
    assert all("worker died twice" in r.error for r in results), results


def test_unreachable_scheduler_is_one_clear_error(tmp_path):
    with pytest.raises(BatchError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        run_batch(fail, [(1,)], scheduler="tcp://127.0.0.1:9")


def test_detect_cli_does_not_import_dask():
    code = (
        "import sys\nfrom ds9claw.cli import build_parser\n"
        "build_parser().parse_args(['detect', 'x.fits'])\n"
        "import ds9claw.batch\n"
        "print(','.join(m for m in ('dask', 'distributed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

"""ds9claw.safeio (atomic write, backups, locks, stale temporaries) and ds9claw.progress."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time

import pytest

from ds9claw.backup import make_backup
from ds9claw.errors import OutputExistsError
from ds9claw.filelock import file_lock, lock_path_for
from ds9claw.progress import Progress, progress
from ds9claw.safeio import (
    atomic_write,
    remove_stale_temps,
    temp_path_for,
    write_atomically,
)


def _listing(directory):
    return sorted(p.name for p in directory.iterdir())


def test_atomic_write_replaces_and_keeps_mode(tmp_path):
    target = tmp_path / "x_rate.fits"
    target.write_bytes(b"old")
    target.chmod(0o640)
    with atomic_write(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".x_rate.fits.tmp-") and tmp.name.endswith(".fits")
        assert tmp.exists() and tmp.stat().st_size == 0
        tmp.write_bytes(b"new content")
        assert target.read_bytes() == b"old"  # nothing visible before the end
    assert target.read_bytes() == b"new content"
    assert target.stat().st_mode & 0o777 == 0o640
    assert _listing(tmp_path) == ["x_rate.fits"]


def test_atomic_write_failure_leaves_target_and_no_temp(tmp_path):
    target = tmp_path / "x.fits"
    target.write_bytes(b"precious")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"precious"
    assert _listing(tmp_path) == ["x.fits"]


def test_atomic_write_no_overwrite(tmp_path):
    target = tmp_path / "mask.fits.gz"
    target.write_bytes(b"keep")
    with pytest.raises(OutputExistsError, match="exists"), atomic_write(target, overwrite=False):
        pass
    assert target.read_bytes() == b"keep"
    # a file appearing while writing is detected at the final, atomic step
    other = tmp_path / "new.fits"
    with pytest.raises(OutputExistsError, match="appeared"):
        with atomic_write(other, overwrite=False) as tmp:
            tmp.write_bytes(b"mine")
            other.write_bytes(b"theirs")
    assert other.read_bytes() == b"theirs"
    assert _listing(tmp_path) == ["mask.fits.gz", "new.fits"]
    assert write_atomically(tmp_path / "w.txt", lambda p: p.write_text("abc")) == 3
    assert (tmp_path / "w.txt").read_text() == "abc"


def test_temp_names_keep_suffixes():
    assert temp_path_for("/d/a_mask.fits.gz").name.endswith(".fits.gz")
    assert temp_path_for("/d/a.v1.2.fits").name.endswith(".fits")
    assert lock_path_for("/d/a_rate.fits").name == ".a_rate.fits.lock"


def test_make_backup_copy_never_overwrites(tmp_path):
    original = tmp_path / "a.fits"
    backup = tmp_path / "a_before.fits"
    original.write_bytes(b"version 1")
    assert make_backup(original, backup) is True
    assert backup.read_bytes() == b"version 1"
    assert backup.stat().st_ino != original.stat().st_ino
    original.write_bytes(b"version 2")
    assert make_backup(original, backup) is False
    assert make_backup(original, backup, link=True) is False
    assert backup.read_bytes() == b"version 1"
    assert _listing(tmp_path) == ["a.fits", "a_before.fits"]


def test_make_backup_link_survives_atomic_replace(tmp_path):
    original = tmp_path / "a.fits"
    backup = tmp_path / "a_before.fits"
    original.write_bytes(b"original bytes")
    assert make_backup(original, backup, link=True) is True
    assert backup.stat().st_ino == original.stat().st_ino
    with atomic_write(original) as tmp:
        tmp.write_bytes(b"committed")
    assert original.read_bytes() == b"committed"
    assert backup.read_bytes() == b"original bytes"
    assert backup.stat().st_nlink == 1


def test_file_lock_excludes_and_cleans_up(tmp_path):
    target = tmp_path / "r.fits"
    target.write_bytes(b"x")
    lock = lock_path_for(target)
    with file_lock(target, timeout=0) as held:
        assert held == lock and lock.exists()
        assert lock.read_text().split()[1] == str(os.getpid())
        # flock conflicts between two descriptors even in one process
        with pytest.raises(TimeoutError, match="locked by another ds9claw process"):
            with file_lock(target, timeout=0.2):
                pass
    assert not lock.exists()
    with file_lock(target, timeout=0):
        pass


def test_file_lock_waiter_gets_it_after_release(tmp_path):
    target = tmp_path / "r.fits"
    order: list[str] = []
    entered = threading.Event()

    def second():
        entered.set()
        with file_lock(target, timeout=10):
            order.append("second")

    with file_lock(target):
        worker = threading.Thread(target=second)
        worker.start()
        entered.wait(5)
        time.sleep(0.2)
        order.append("first done")
    worker.join(10)
    assert order == ["first done", "second"]
    assert not lock_path_for(target).exists()


def test_remove_stale_temps_only_dead_writers(tmp_path):
    target = tmp_path / "r_rate.fits"
    target.write_bytes(b"x")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    alive = temp_path_for(target)
    alive.write_bytes(b"in progress")
    stale = alive.with_name(alive.name.replace(f"-{os.getpid()}-", f"-{dead_pid}-"))
    stale.write_bytes(b"left by kill -9")
    unrelated = tmp_path / ".other_rate.fits.tmp-x-1-ab.fits"
    unrelated.write_bytes(b"not ours")
    removed = remove_stale_temps(target)
    assert removed == [stale]
    assert alive.exists() and unrelated.exists() and not stale.exists()


def test_progress_lines_when_enabled_and_silent_otherwise():
    stream = io.StringIO()
    assert list(progress(["a", "b", "c"], desc="commit", enabled=True, stream=stream)) == [
        "a",
        "b",
        "c",
    ]
    assert stream.getvalue().splitlines() == ["commit: 1/3", "commit: 2/3", "commit: 3/3"]
    quiet = io.StringIO()  # not a terminal, not enabled: nothing
    with Progress(total=2, desc="x", stream=quiet) as bar:
        bar.update()
        bar.advance(note="f.fits")
    assert bar.count == 2 and quiet.getvalue() == ""

"""Never lose data: kill -9 mid-commit, a full disk, concurrent commits (real processes)."""

from __future__ import annotations

import contextlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from commit_helpers.factory import make_rate, read_arrays, write_mask

from ds9claw.commit import HISTORY_PREFIX, backup_path_for
from ds9claw.dq import DEFAULT_COMMIT_FLAGS, interpret_flags
from ds9claw.filelock import file_lock, lock_path_for

BITS = interpret_flags(DEFAULT_COMMIT_FLAGS)
HELPERS = Path(__file__).resolve().parent / "commit_helpers"
KILL_TRIALS = 30


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ds9claw", *args]


def _mask(shape, rows, cols):
    mask = np.zeros(shape, bool)
    mask[rows[0] : rows[1], cols[0] : cols[1]] = True
    return mask


def _state(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """DQ and SCI after opening the file as an ImageModel (it must open cleanly)."""
    from stdatamodels.jwst.datamodels import ImageModel

    with ImageModel(str(path)) as model:
        return np.array(model.dq), np.array(model.data)


class _ForkServer:
    def __init__(self, warmup: Path):
        self.proc = subprocess.Popen(
            [sys.executable, str(HELPERS / "forkserver.py"), str(warmup)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=_env(),
        )
        assert self._read() == "ready"

    def _read(self) -> str:
        line = self.proc.stdout.readline().strip()
        if not line:
            raise RuntimeError("fork server died")
        return line

    def commit(self, rate: Path, mask: Path, kill_after: float | None) -> tuple[float, int]:
        """Start a commit; SIGKILL it after ``kill_after`` s; return (elapsed, status)."""
        self.proc.stdin.write(f"{rate}\t{mask}\n")
        self.proc.stdin.flush()
        pid = int(self._read().split()[1])
        start = time.perf_counter()
        if kill_after is not None:
            time.sleep(kill_after)
            os.kill(pid, signal.SIGKILL)  # our child; a zombie at worst, never reused
        else:
            # wait until the child is a zombie (finished) before asking to reap it
            while Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z":
                time.sleep(0.002)
        elapsed = time.perf_counter() - start
        self.proc.stdin.write("reap\n")
        self.proc.stdin.flush()
        status = int(self._read().split()[1])
        return elapsed, status

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(10)
        finally:
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()


@pytest.mark.slow
def test_kill_9_at_random_moments_never_corrupts(tmp_path):
    shape = (1024, 1024)
    rate = make_rate(tmp_path / "jw01_nrcb1_rate.fits", shape, seed=3)
    pristine = tmp_path / "pristine" / rate.name
    pristine.parent.mkdir()
    shutil.copy2(rate, pristine)
    mask = write_mask(tmp_path / "claws_mask.fits", _mask(shape, (200, 700), (100, 900)))
    backup = backup_path_for(rate)
    old_dq, old_sci = _state(pristine)
    original_bytes = pristine.read_bytes()

    def reset():
        fresh = tmp_path / "fresh.fits"
        shutil.copyfile(pristine, fresh)
        fresh.replace(rate)  # a new inode: never write into a possible backup link
        if backup.exists():
            backup.unlink()

    server = _ForkServer(pristine)
    try:
        duration, status = server.commit(rate, mask, None)
        assert status == 0
        new_dq, new_sci = _state(rate)
        assert np.array_equal(new_dq[200:700, 100:900] & BITS, np.full((500, 800), BITS, np.uint32))
        rng = random.Random(12345)
        outcomes = {"old": 0, "new": 0}
        interrupted_writes = 0
        for _trial in range(KILL_TRIALS):
            reset()
            _, status = server.commit(rate, mask, rng.uniform(0.0, 1.2 * duration))
            leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(f".{rate.name}.tmp-")]
            interrupted_writes += bool(leftovers)
            dq, sci = _state(rate)  # opens cleanly as an ImageModel
            if np.array_equal(dq, old_dq):
                assert np.array_equal(sci, old_sci, equal_nan=True)
                assert rate.read_bytes() == original_bytes
                outcomes["old"] += 1
            else:
                assert np.array_equal(dq, new_dq), "DQ is neither the old nor the new one"
                assert np.array_equal(sci, new_sci, equal_nan=True)
                assert backup.exists(), "committed in place without a backup"
                outcomes["new"] += 1
            if backup.exists():
                assert backup.read_bytes() == original_bytes
        # the kills landed before, inside and after the write
        assert outcomes["old"] >= 1 and outcomes["new"] >= 1, outcomes
        assert interrupted_writes >= 1, "no kill hit the temporary-file phase"
        # a last, complete commit cleans every leftover of the killed ones
        reset()
        assert server.commit(rate, mask, None)[1] == 0
        assert np.array_equal(_state(rate)[0], new_dq)
    finally:
        server.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([rate.name, backup.name, mask.name, "pristine"])


def _limit_file_size(limit: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return apply


def test_out_of_space_leaves_original_intact(tmp_path):
    shape = (512, 512)
    rate = make_rate(tmp_path / "jw02_nrcb1_rate.fits", shape)
    mask = write_mask(tmp_path / "m.fits", _mask(shape, (10, 100), (10, 100)))
    before = rate.read_bytes()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(before) > 3_000_000
    result = subprocess.run(
        _cli("commit", str(rate), str(mask)),
        capture_output=True,
        text=True,
        env=_env(),
        preexec_fn=_limit_file_size(2_000_000),
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert "disk full, quota or file size limit reached" in result.stderr
    assert f"{rate} is unchanged" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert rate.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def _wait_for_lock_waiters(pids: list[int], lock: Path, timeout: float = 90.0) -> None:
    """Block until every process has the lock file open (it waits in flock)."""
    deadline = time.monotonic() + timeout
    pending = set(pids)
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except FileNotFoundError:
                pytest.fail(f"process {pid} ended before reaching the lock")
            for fd in fds:
                try:
                    if fd.readlink() == lock:
                        pending.discard(pid)
                        break
                except OSError:
                    continue
        time.sleep(0.05)
    assert not pending, f"processes {pending} never waited for the lock"


def test_concurrent_commits_both_applied_or_refused(tmp_path):
    shape = (512, 512)
    rate = make_rate(tmp_path / "jw03_nrcb1_rate.fits", shape)
    original = rate.read_bytes()
    old_dq = read_arrays(rate)["DQ"]
    m1 = _mask(shape, (20, 200), (20, 200))
    m2 = _mask(shape, (150, 400), (150, 400))
    f1 = write_mask(tmp_path / "claw_mask.fits", m1)
    f2 = write_mask(tmp_path / "snowball_mask.fits", m2)
    lock = lock_path_for(rate)

    # 1. both wait while the lock is held, then race for it: both are applied
    with file_lock(rate):
        procs = [
            subprocess.Popen(
                _cli("commit", str(rate), str(f), "--lock-timeout", "120"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(),
            )
            for f in (f1, f2)
        ]
        try:
            _wait_for_lock_waiters([p.pid for p in procs], lock)
        except BaseException:
            for p in procs:
                p.kill()
                p.wait()
            raise
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    dq = _state(rate)[0]
    expected = old_dq.copy()
    expected[m1 | m2] |= np.uint32(BITS)
    np.testing.assert_array_equal(dq, expected)
    with fits.open(rate) as hdul:
        history = "".join(str(v) for v in hdul[0].header["HISTORY"])
    assert history.count(HISTORY_PREFIX) == 2
    assert backup_path_for(rate).read_bytes() == original
    committed = rate.read_bytes()

    # 2. with --lock-timeout 0 while another holds the lock: refused clearly, no change
    f3 = write_mask(tmp_path / "third_mask.fits", _mask(shape, (450, 500), (450, 500)))
    with file_lock(rate):
        result = subprocess.run(
            _cli("commit", str(rate), str(f3), "--lock-timeout", "0"),
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
        )
    assert result.returncode == 1
    assert "is locked by another ds9claw process" in result.stderr
    assert "Traceback" not in result.stderr
    assert rate.read_bytes() == committed
    assert not lock.exists()


def test_lock_left_by_kill_9_then_replaced_by_a_symlink(tmp_path):
    """A holder killed with -9 leaves its lock file; a link put in its place is refused."""
    shape = (256, 256)
    rate = make_rate(tmp_path / "jw04_nrcb1_rate.fits", shape)
    mask = write_mask(tmp_path / "m.fits", _mask(shape, (30, 90), (30, 90)))
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"not ds9claw's file\n")
    original = rate.read_bytes()
    lock = lock_path_for(rate)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom ds9claw.filelock import file_lock\n"
         f"with file_lock({str(rate)!r}):\n    print('held', flush=True)\n    time.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        os.kill(holder.pid, signal.SIGKILL)  # our child, still running
        holder.wait(30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(30)
        holder.stdout.close()
    host, pid = lock.read_text().split()
    assert int(pid) == holder.pid and host  # the lock names its holder's host and pid
    lock.unlink()
    lock.symlink_to(victim)
    result = subprocess.run(
        _cli("commit", str(rate), str(mask)), capture_output=True, text=True, env=_env(),
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"lock file {lock} is a symbolic link to {victim}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert victim.read_bytes() == b"not ds9claw's file\n"
    assert rate.read_bytes() == original
    assert not backup_path_for(rate).exists()
    # the killed holder's own (regular) lock file is simply reused by the next commit
    lock.unlink()
    lock.write_text(f"{host} {pid}\n")
    done = subprocess.run(
        _cli("commit", str(rate), str(mask)), capture_output=True, text=True, env=_env(),
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not lock.exists()
    assert backup_path_for(rate).read_bytes() == original
    assert victim.read_bytes() == b"not ds9claw's file\n"

"""The commit lock across hosts: another host's lock is never broken, a dead local pid's is."""

from __future__ import annotations

import logging
import os
import socket

import numpy as np
import pytest
from commit_helpers.factory import make_rate, write_mask

from ds9claw.batch import run_batch
from ds9claw.commit import commit_mask
from ds9claw.errors import CommitError
from ds9claw.filelock import lock_path_for
from ds9claw.lockholder import describe_lock
from ds9claw.survey import commit_task

DEAD_PID = 99_999_999  # above any pid_max: never a running process


def _tag() -> str:
    host = socket.gethostname().split(".")[0]
    return "".join(c if c.isalnum() else "_" for c in host)[:32]


@pytest.fixture
def rate_and_mask(tmp_path):
    rate = make_rate(tmp_path / "jw01_nrcb1_rate.fits", (64, 64))
    mask = np.zeros((64, 64), np.uint8)
    mask[20:30, 20:40] = 1
    return rate, write_mask(tmp_path / "m.fits", mask)


def _history(path) -> str:
    from astropy.io import fits

    with fits.open(path) as hdul:
        return "".join(str(v) for v in hdul[0].header.get("HISTORY", []))


def test_lock_of_another_host_is_reported_not_broken(rate_and_mask):
    rate, mask = rate_and_mask
    lock = lock_path_for(rate)
    lock.write_text("nodeb042 4242\n")
    before = rate.read_bytes()
    with pytest.raises(CommitError) as caught:
        commit_mask(rate, [mask], lock_timeout=0.3)
    message = str(caught.value)
    assert "host nodeb042 pid 4242" in message and "never breaks" in message
    assert str(lock) in message and "\n" not in message
    assert rate.read_bytes() == before
    assert lock.read_text() == "nodeb042 4242\n"  # left as it was
    assert not list(rate.parent.glob("*before_removing_claws*"))
    line = describe_lock(lock)
    assert "another host" in line and "nodeb042" in line and "remove it" in line


def test_lock_of_a_dead_local_pid_is_taken_over_with_a_warning(rate_and_mask, caplog):
    rate, mask = rate_and_mask
    lock = lock_path_for(rate)
    lock.write_text(f"{_tag()} {DEAD_PID}\n")
    assert "no longer running: stale" in describe_lock(lock)
    with caplog.at_level(logging.WARNING, logger="ds9claw.filelock"):
        report = commit_mask(rate, [mask], lock_timeout=0.3)
    assert report.status == "committed" and report.n_flagged == 200
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(DEAD_PID) in m and "stale" in m for m in warned), warned
    assert not lock.exists()
    assert _history(rate).count("Removed claws with ds9claw") == 1


def test_lock_of_a_live_local_process_is_waited_for(rate_and_mask):
    rate, mask = rate_and_mask
    from ds9claw.filelock import file_lock

    before = rate.read_bytes()
    with file_lock(rate), pytest.raises(CommitError, match=f"held by {_tag()} {os.getpid()}"):
        commit_mask(rate, [mask], lock_timeout=0.2)
    assert rate.read_bytes() == before


def test_two_workers_committing_the_same_rate_write_once(rate_and_mask):
    rate, mask = rate_and_mask
    items = [(str(rate), str(mask), {})] * 4
    results = run_batch(commit_task, items, jobs=2)
    statuses = sorted(r.value[2] for r in results)
    assert all(r.ok for r in results)
    assert statuses == ["already-committed"] * 3 + ["committed"]
    assert _history(rate).count("Removed claws with ds9claw") == 1
    assert not lock_path_for(rate).exists()

"""Planted links: locks, temporary files and backups never follow or write through one.

Every test plants a symbolic link (or a hard link, a pipe) where ds9claw creates a file
of its own, points it at a "victim" file, and checks that the victim's bytes are the
same afterwards, that the command failed with one line naming what it found, and that
the directory holds nothing new.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from commit_helpers.factory import make_rate, write_mask

from ds9claw.backup import make_backup
from ds9claw.commit import backup_path_for, commit_mask, revert
from ds9claw.errors import UnsafePathError
from ds9claw.filelock import file_lock, lock_path_for
from ds9claw.safeio import atomic_write, write_text_atomically

VICTIM_BYTES = b"the user's own file: must never change\n"


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env["HOME"] = str(home)
    return env


def _run(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ds9claw", *args],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=180,
    )


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def setup(tmp_path):
    """A rate file, a mask, and a victim file in a separate 'home' directory."""
    home = tmp_path / "home"
    home.mkdir()
    victim = home / "victim.txt"
    victim.write_bytes(VICTIM_BYTES)
    data = tmp_path / "data"
    data.mkdir()
    rate = make_rate(data / "jw01_nrcb1_rate.fits", (128, 128))
    mask = np.zeros((128, 128), bool)
    mask[30:60, 40:90] = True
    mask_file = write_mask(data / "claws_mask.fits", mask)
    return home, victim, rate, mask_file


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_commit_refuses_a_lock_symlink_and_leaves_the_victim(setup):
    home, victim, rate, mask = setup
    lock = lock_path_for(rate)
    lock.symlink_to(victim)
    before, names = rate.read_bytes(), _listing(rate.parent)
    result = _run(home, "commit", str(rate), str(mask))
    assert result.returncode == 1
    line = _one_line(result.stderr)
    assert line == (
        f"ds9claw: error: lock file {lock} is a symbolic link to ~/victim.txt, which ds9claw "
        "does not follow: remove it (no ds9claw lock is made like this); nothing was changed"
    )
    assert victim.read_bytes() == VICTIM_BYTES
    assert rate.read_bytes() == before
    assert _listing(rate.parent) == names  # no backup, no temporary file
    assert lock.is_symlink()  # ds9claw does not remove what it did not make


def test_revert_refuses_a_lock_symlink(setup):
    home, victim, rate, mask = setup
    assert commit_mask(rate, [mask]).status == "committed"
    committed, names = rate.read_bytes(), _listing(rate.parent)
    lock_path_for(rate).symlink_to(victim)
    result = _run(home, "revert", str(rate))
    assert result.returncode == 1
    assert "is a symbolic link to ~/victim.txt" in _one_line(result.stderr)
    assert victim.read_bytes() == VICTIM_BYTES
    assert rate.read_bytes() == committed
    assert _listing(rate.parent) == sorted([*names, lock_path_for(rate).name])


def test_failing_commit_with_a_lock_symlink_leaves_the_victim(setup):
    """A commit that would fail inside the lock (a foreign backup) fails at the lock."""
    home, victim, rate, mask = setup
    foreign = backup_path_for(rate)
    foreign.write_bytes(b"another version of the file")
    lock_path_for(rate).symlink_to(victim)
    result = _run(home, "commit", str(rate), str(mask))
    assert result.returncode == 1
    assert "lock file" in _one_line(result.stderr)
    assert victim.read_bytes() == VICTIM_BYTES
    assert foreign.read_bytes() == b"another version of the file"
    # without the link the same commit fails for its own reason, the victim still intact
    lock_path_for(rate).unlink()
    again = _run(home, "commit", str(rate), str(mask))
    assert again.returncode == 1
    assert "belongs to another version" in _one_line(again.stderr)
    assert not lock_path_for(rate).exists()


@pytest.mark.parametrize("kind", ["hard link", "named pipe", "directory", "dangling link"])
def test_lock_names_that_are_not_a_plain_file_are_refused(setup, kind):
    _home, victim, rate, mask = setup
    lock = lock_path_for(rate)
    if kind == "hard link":
        os.link(victim, lock)
        expected = "has 2 hard links"
    elif kind == "named pipe":
        os.mkfifo(lock)
        expected = "is a named pipe, not a regular file"
    elif kind == "directory":
        lock.mkdir()
        expected = "is a directory, not a regular file"
    else:
        lock.symlink_to(victim.parent / "not-yet-there.txt")
        expected = "is a symbolic link to"
    before = rate.read_bytes()
    with pytest.raises(UnsafePathError, match=expected):
        commit_mask(rate, [mask], lock_timeout=0)
    assert victim.read_bytes() == VICTIM_BYTES
    assert not (victim.parent / "not-yet-there.txt").exists()  # not created through the link
    assert rate.read_bytes() == before


def test_lock_is_created_exclusively_and_names_host_and_pid(tmp_path):
    target = tmp_path / "x_rate.fits"
    with file_lock(target) as lock:
        host = socket.gethostname().split(".")[0]
        tag = "".join(c if c.isalnum() else "_" for c in host)[:32]
        assert lock.read_text() == f"{tag} {os.getpid()}\n"
        assert lock.stat().st_nlink == 1 and not lock.is_symlink()
    assert not lock.exists()
    # a regular lock file left behind by a killed holder of this host is reused and rewritten
    # (another host's is never taken over: tests/test_lock_hosts.py)
    lock.write_text(f"{tag} 99999999 and more text\n")
    with file_lock(target, timeout=0):
        assert lock.read_text() == f"{tag} {os.getpid()}\n"
    assert not lock.exists()


def test_backup_symlink_is_refused_by_commit_and_revert(setup):
    home, victim, rate, mask = setup
    backup = backup_path_for(rate)
    backup.symlink_to(victim)
    before = rate.read_bytes()
    result = _run(home, "commit", str(rate), str(mask))
    assert result.returncode == 1
    assert f"backup {backup} is a symbolic link to ~/victim.txt" in _one_line(result.stderr)
    assert rate.read_bytes() == before and victim.read_bytes() == VICTIM_BYTES
    # revert must not restore the victim's bytes into the rate file either
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        revert(rate)
    assert rate.read_bytes() == before
    assert sorted(_listing(rate.parent)) == sorted([rate.name, "claws_mask.fits", backup.name])


def test_make_backup_copy_never_writes_through_a_link(tmp_path):
    source = tmp_path / "a_rate.fits"
    source.write_bytes(b"original")
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM_BYTES)
    backup = tmp_path / "a_rate_before_removing_claws.fits"
    backup.symlink_to(victim)
    for link in (False, True):
        with pytest.raises(UnsafePathError, match=r"backup .* is a symbolic link"):
            make_backup(source, backup, link=link)
    assert victim.read_bytes() == VICTIM_BYTES
    backup.unlink()
    assert make_backup(source, backup) is True
    assert backup.read_bytes() == b"original" and not backup.is_symlink()


def test_temporary_file_swapped_for_a_link_is_not_renamed(tmp_path):
    target = tmp_path / "x_claws_seed_image.fits"
    target.write_bytes(b"old product")
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM_BYTES)
    with pytest.raises(UnsafePathError, match=r"temporary file .* is a symbolic link"):
        with atomic_write(target) as tmp:
            tmp.unlink()
            tmp.symlink_to(victim)  # what another user with write access could do
    assert target.read_bytes() == b"old product"
    assert victim.read_bytes() == VICTIM_BYTES
    assert _listing(tmp_path) == ["victim.txt", "x_claws_seed_image.fits"]


def test_text_writer_replaces_a_link_at_the_target_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM_BYTES)
    victim.chmod(0o600)
    settings = tmp_path / "settings.json"
    settings.symlink_to(victim)
    write_text_atomically(settings, '{"sigma": 2}\n')
    assert victim.read_bytes() == VICTIM_BYTES
    assert not settings.is_symlink() and settings.read_text() == '{"sigma": 2}\n'
    assert _listing(tmp_path) == ["settings.json", "victim.txt"]


def test_detect_products_never_follow_a_link_at_their_name(example_copy, tmp_path):
    """--overwrite replaces a link at a product name with the product; the victim stays."""
    home = tmp_path / "home"
    home.mkdir()
    victim = home / "victim.txt"
    victim.write_bytes(VICTIM_BYTES)
    seed = example_copy.cal.with_name(
        example_copy.cal.name.replace(".fits", "_claws_seed_image.fits")
    )
    seed.symlink_to(victim)
    refused = _run(home, "detect", str(example_copy.cal), "--include-region",
                   str(example_copy.region), "--sigma", "2", "--smooth", "1")  # fmt: skip
    assert refused.returncode == 1 and "exists" in _one_line(refused.stderr)
    done = _run(home, "detect", str(example_copy.cal), "--include-region",
                str(example_copy.region), "--sigma", "2", "--smooth", "1",
                "--overwrite")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert victim.read_bytes() == VICTIM_BYTES
    assert not seed.is_symlink() and seed.read_bytes()[:9] == b"SIMPLE  ="


def test_planted_leftover_temporaries_are_removed_as_links_or_kept(setup):
    """Names that look like a killed writer's temporaries: links removed, never followed."""
    _home, victim, rate, mask = setup
    from ds9claw.safeio import remove_stale_temps, temp_path_for

    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    fake = temp_path_for(rate)
    prefix, _, rest = fake.name.partition(f"-{os.getpid()}-")
    as_link = rate.with_name(f"{prefix}-{dead_pid}-{rest}")
    as_dir = rate.with_name(f"{prefix}-{dead_pid}-0000abcd.fits")
    as_link.symlink_to(victim)
    as_dir.mkdir()
    assert remove_stale_temps(rate) == [as_link]
    assert victim.read_bytes() == VICTIM_BYTES
    assert as_dir.is_dir() and not os.path.lexists(as_link)
    assert commit_mask(rate, [mask]).status == "committed"
    assert victim.read_bytes() == VICTIM_BYTES


def test_copy_file_into_refuses_a_linked_source_and_a_swapped_temporary(tmp_path):
    from ds9claw.nofollow import copy_file_into

    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM_BYTES)
    source = tmp_path / "backup.fits"
    source.symlink_to(victim)
    target = tmp_path / "x_rate.fits"
    target.write_bytes(b"committed")
    with pytest.raises(UnsafePathError, match=r"file .*backup.fits is a symbolic link"):
        with atomic_write(target) as tmp:
            copy_file_into(source, tmp)
    assert target.read_bytes() == b"committed"
    source.unlink()
    source.write_bytes(b"pre-commit")
    with pytest.raises(UnsafePathError, match=r"temporary file .* is a symbolic link"):
        with atomic_write(target) as tmp:
            tmp.unlink()
            tmp.symlink_to(victim)
            copy_file_into(source, tmp)
    assert victim.read_bytes() == VICTIM_BYTES and target.read_bytes() == b"committed"
    with atomic_write(target) as tmp:
        copy_file_into(source, tmp)
    assert target.read_bytes() == b"pre-commit"
    assert _listing(tmp_path) == ["backup.fits", "victim.txt", "x_rate.fits"]

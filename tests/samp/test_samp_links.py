"""A SAMP sender cannot make the listener write through a planted link (real hub)."""

from __future__ import annotations

import numpy as np
import pytest
from commit_helpers.factory import make_rate, write_mask

from ds9claw.commit import backup_path_for
from ds9claw.filelock import lock_path_for
from ds9claw.listener.handler_settings import HandlerSettings
from ds9claw.listener.messages import path_to_file_url

from .conftest import RunningListener, make_listener

pytestmark = pytest.mark.samp

VICTIM_BYTES = b"any file the user can write\n"


@pytest.fixture
def listener(hub):
    with RunningListener(make_listener(hub.lockfile, settings=HandlerSettings())) as running:
        yield running


def test_commit_message_refuses_planted_lock_and_backup_links(listener, session, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM_BYTES)
    data = tmp_path / "data"
    data.mkdir()
    rate = make_rate(data / "jw05_nrcb1_rate.fits", (96, 96))
    mask = np.zeros((96, 96), bool)
    mask[10:40, 20:50] = True
    mask_file = write_mask(data / "m.fits", mask)
    before = rate.read_bytes()
    params = {"rate-url": path_to_file_url(rate), "mask-url": path_to_file_url(mask_file)}
    names = sorted(p.name for p in data.iterdir())

    lock = lock_path_for(rate)
    lock.symlink_to(victim)
    reply = session.call_and_wait(listener.public_id, "ds9claw.commit", params, 60)
    assert reply["samp.status"] == "samp.error", reply
    text = reply["samp.error"]["samp.errortxt"]
    assert f"lock file {lock} is a symbolic link to {victim}" in text
    assert "\n" not in text.strip()
    assert victim.read_bytes() == VICTIM_BYTES
    assert rate.read_bytes() == before
    lock.unlink()

    backup = backup_path_for(rate)
    backup.symlink_to(victim)
    reply = session.call_and_wait(listener.public_id, "ds9claw.commit", params, 60)
    assert reply["samp.status"] == "samp.error", reply
    assert f"backup {backup} is a symbolic link" in reply["samp.error"]["samp.errortxt"]
    assert victim.read_bytes() == VICTIM_BYTES
    assert rate.read_bytes() == before
    backup.unlink()
    assert sorted(p.name for p in data.iterdir()) == names

    # the same message without links commits (the handler is not simply refusing)
    reply = session.call_and_wait(listener.public_id, "ds9claw.commit", params, 60)
    assert reply["samp.status"] == "samp.ok", reply
    assert int(reply["samp.result"]["n-flagged"]) == int(mask.sum())
    assert backup.read_bytes() == before and not backup.is_symlink()
    assert victim.read_bytes() == VICTIM_BYTES

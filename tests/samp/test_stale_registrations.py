"""DS9s that died without leaving the hub cost one timeout in all, not one each (item 5).

A real hub holds a real DS9 and ten clients that register as ``SAOImageDS9`` and
subscribe to ``ds9.get``: five are killed with SIGKILL (the hub keeps them, delivery
fails), five stay alive and never answer.  ``ds9claw samp status`` and ``ds9claw ds9
detect --samp --target T`` are timed before and after; the bound (two timeouts) is
generous for one timeout and far below the ten that probing one by one costs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from .conftest import clean_env, start_samp_ds9, wait_for

pytestmark = [pytest.mark.samp, pytest.mark.ds9]

TIMEOUT = 3.0
N_DEAD = 10

_FAKE_DS9 = """
import sys, time
from ds9claw.sampclient.bounded_proxy import samp_module
from ds9claw.sampclient.hub_lockfile import locate_hub
samp = samp_module()
with samp.conf.set_temp("use_internet", False):
    client = samp.SAMPIntegratedClient(
        name="SAOImageDS9", metadata={"ds9.version": "8.4"}, addr="127.0.0.1"
    )
client.connect(hub_params=dict(locate_hub(sys.argv[1]).params))
for mtype in ("ds9.get", "ds9.set"):
    client.bind_receive_call(mtype, lambda *args: None)  # never replies
print(client.get_public_id(), flush=True)
time.sleep(600)
"""


def _fake_ds9s(hub, n: int) -> list[tuple[subprocess.Popen, str]]:
    started = []
    env = clean_env(HOME=str(hub.home))
    for _ in range(n):
        proc = subprocess.Popen(
            [sys.executable, "-c", _FAKE_DS9, str(hub.lockfile)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        started.append(proc)
    out = []
    for proc in started:
        client_id = proc.stdout.readline().strip()
        assert client_id.startswith("cli#"), f"a fake DS9 did not register ({client_id!r})"
        out.append((proc, client_id))
    return out


def _timed(args, env) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "ds9claw", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return time.monotonic() - t0, proc


def test_dead_ds9_registrations_cost_one_timeout(own_hub, example_small, tmp_path):
    from ds9claw.ds9.xpa import XpaTransport
    from ds9claw.sampclient.hub_lockfile import locate_hub
    from ds9claw.sampclient.session import HubSession

    ds9 = start_samp_ds9(own_hub)
    fakes: list[tuple[subprocess.Popen, str]] = []
    try:
        cal = tmp_path / example_small.cal.name
        shutil.copy2(example_small.cal, cal)
        xpa = XpaTransport(ds9.xpa_target, timeout=20)
        xpa.set(f"fits {{{cal}}}")
        xpa.set("regions", example_small.region.read_bytes())
        config = tmp_path / "config"
        env = clean_env(
            SAMP_HUB=own_hub.samp_hub, HOME=str(own_hub.home), DS9CLAW_CONFIG_DIR=str(config)
        )
        status = ["samp", "status", "--timeout", f"{TIMEOUT:g}"]
        detect = ["ds9", "detect", "--samp", "--target", ds9.title, "--timeout", f"{TIMEOUT:g}"]
        detect += ["--sigma", "2", "--smooth", "1", "--ignore-background"]
        base_status, proc = _timed(status, env)
        assert proc.returncode == 0, proc.stderr
        base_detect, proc = _timed(detect, env)
        assert proc.returncode == 0 and "pixels masked" in proc.stdout, proc.stderr

        fakes = _fake_ds9s(own_hub, N_DEAD)
        for proc, _ in fakes[: N_DEAD // 2]:
            proc.kill()  # died without unregistering
            proc.wait(timeout=10)
        dead_ids = {client_id for _, client_id in fakes}
        with HubSession(locate_hub(own_hub.lockfile), name="check", timeout=5) as session:
            wait_for(
                lambda: dead_ids <= set(session.subscribed_clients("ds9.get")),
                10,
                "the hub to list the dead DS9s",
            )

        with_dead_status, proc = _timed(status, env)
        assert proc.returncode == 0, proc.stderr
        for client_id in dead_ids:
            assert f"{client_id} " in proc.stdout and "not answering" in proc.stdout
        assert f"'{ds9.title}' (SAMP" in proc.stdout, proc.stdout
        with_dead_detect, proc = _timed(detect, env)
        assert proc.returncode == 0, proc.stderr
        assert "pixels masked" in proc.stdout and "(frames reused)" in proc.stdout

        # one probe round for all ten (~1 timeout), far from ten timeouts one after another
        assert with_dead_status - base_status < 2 * TIMEOUT, (base_status, with_dead_status)
        assert with_dead_detect - base_detect < 2 * TIMEOUT, (base_detect, with_dead_detect)
    finally:
        for proc, _ in fakes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            proc.stdout.close()
        ds9.stop()

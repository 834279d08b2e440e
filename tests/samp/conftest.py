"""Fixtures for the SAMP tests: a real hub with its own lockfile, real DS9s, the listener.

* The hub runs in a subprocess (``python -m ds9claw samp hub --lockfile ...``) with
  ``HOME`` pointed into the test directory, so neither its lockfile nor pyvo's clean-up
  of dead hubs' lockfiles ever touches the user's ``~/.samp``.  ``SAMP_HUB`` is set only
  in the environment of the subprocesses under test, never in this process.
* DS9 8.4.1 runs under Xvfb (`ds9claw.ds9.launch.start_ds9`) with ``-samp connect`` and
  ``SAMP_HUB`` naming the test lockfile; ``-xpa no`` for the SAMP-only DS9.
* The listener runs in-process (`Ds9ClawListener`) in a thread.
* "Another tool" is a `HubSession` (synchronous calls) or a callable pyvo client.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from ds9claw.errors import TransportError

pytestmark = pytest.mark.samp


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without SAMP/XPA settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("XPA_") or k == "SAMP_HUB" or k.startswith("CRDS_"))
    }
    env.update(extra)
    return env


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll ``predicate`` until it returns a true value; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class HubProcess:
    """A private SAMP hub in a subprocess, restartable on the same lockfile."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.home = directory / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.lockfile = directory / "samp-lockfile"
        self.log = directory / "hub.log"
        self.process: subprocess.Popen | None = None

    @property
    def samp_hub(self) -> str:
        """The ``SAMP_HUB`` value naming this hub."""
        return "std-lockurl:" + self.lockfile.as_uri()

    def start(self, timeout: float = 20.0) -> HubProcess:
        from ds9claw.sampclient.bounded_proxy import BoundedHubProxy
        from ds9claw.sampclient.hub_lockfile import locate_hub

        env = clean_env(HOME=str(self.home))
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ds9claw", "samp", "hub", "--lockfile", str(self.lockfile)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def answering():
            if self.process.poll() is not None:
                pytest.fail(f"the hub exited: {self.log.read_text(errors='replace')[-800:]}")
            if not self.lockfile.exists():
                return False
            try:
                proxy = BoundedHubProxy(2.0)
                proxy.connect(hub_params=locate_hub(self.lockfile).params, pool_size=1)
            except TransportError:
                return False
            proxy.disconnect()
            return True

        wait_for(answering, timeout, "the SAMP hub to answer")
        return self

    def stop(self, *, kill: bool = False, grace: float = 15.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        if kill:
            with contextlib.suppress(FileNotFoundError):
                self.lockfile.unlink()


def start_samp_ds9(
    hub: HubProcess, *, title: str | None = None, xpa: bool = True, timeout: float = 40.0
):
    """Start DS9 joined to ``hub``; return it once it is registered there."""
    from ds9claw.ds9.launch import start_ds9
    from ds9claw.ds9.samp_discovery import list_ds9
    from ds9claw.sampclient.hub_lockfile import locate_hub
    from ds9claw.sampclient.session import HubSession

    title = title or f"ds9claw-samp-{uuid.uuid4().hex[:6]}"
    env = clean_env(SAMP_HUB=hub.samp_hub, HOME=str(hub.home))
    ds9 = start_ds9(title, xpa=xpa, samp=True, env=env, timeout=timeout)
    try:
        with HubSession(locate_hub(hub.lockfile), name="fixture", timeout=5) as session:
            wait_for(
                lambda: any(d.title == title for d in list_ds9(session, timeout=2)),
                timeout,
                f"DS9 {title!r} on the SAMP hub",
                interval=0.2,
            )
    except BaseException:
        ds9.stop()
        raise
    return ds9


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A running private hub shared by a test module."""
    process = HubProcess(tmp_path_factory.mktemp("samp-hub")).start()
    yield process
    process.stop()


@pytest.fixture
def own_hub(tmp_path):
    """A private hub for one test (it may stop and restart it)."""
    process = HubProcess(tmp_path / "hub").start()
    yield process
    process.stop(kill=True)


@pytest.fixture(scope="module")
def ds9(hub):
    """DS9 8.4.1 under Xvfb with XPA and ``-samp connect``, registered on ``hub``."""
    process = start_samp_ds9(hub)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def ds9_samp_only(hub):
    """A second DS9, started with ``-xpa no``: reachable over SAMP only."""
    process = start_samp_ds9(hub, xpa=False)
    yield process
    process.stop()


@pytest.fixture
def session(hub):
    """'Another tool': a client on ``hub`` sending synchronous calls."""
    from ds9claw.sampclient.hub_lockfile import locate_hub
    from ds9claw.sampclient.session import HubSession

    with HubSession(locate_hub(hub.lockfile), name="another tool", timeout=30) as s:
        yield s


class RunningListener:
    """A `Ds9ClawListener` serving in a background thread."""

    def __init__(self, listener) -> None:
        self.listener = listener
        self.stop_event = threading.Event()
        self.result: list[str] = []
        self.thread = threading.Thread(
            target=lambda: self.result.append(listener.run(self.stop_event)),
            name="ds9claw-listener-test",
            daemon=True,
        )

    def __enter__(self) -> RunningListener:
        self.listener.start()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        self.thread.join(timeout=15)
        self.listener.close()
        assert not self.thread.is_alive(), "the listener did not stop"

    @property
    def public_id(self) -> str:
        return self.listener.public_id


def make_listener(lockfile, **kwargs):
    from ds9claw.listener.listen import Ds9ClawListener

    return Ds9ClawListener(hub=lockfile, heartbeat=0.5, **kwargs)

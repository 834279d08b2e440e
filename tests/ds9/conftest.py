"""One real DS9 8.x under its own Xvfb for the whole session; every test resets it.

DS9 runs with ``XPA_METHOD=local`` in a private ``XPA_TMPDIR`` (its own ``xpans``), a
private ``HOME`` (no user preferences or ``~/.ds9.ans``), a private ds9claw
configuration directory (``DS9CLAW_CONFIG_DIR``) and the Claws menu installed with
``ds9claw analysis install``.  Every wait is bounded; DS9, xpans and Xvfb are stopped
at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ds9claw.ds9.launch import start_ds9
from ds9claw.ds9.xpa import XpaTransport

from .helpers import Ds9Driver

pytestmark = pytest.mark.ds9


def _clean_env(home: Path, config: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XPA_", "CRDS_")) and k not in ("SAMP_HUB", "DISPLAY")
    }
    env["HOME"] = str(home)
    env["DS9CLAW_CONFIG_DIR"] = str(config)
    env.pop("XDG_CONFIG_HOME", None)
    return env


@pytest.fixture(scope="session")
def ds9_session(tmp_path_factory):
    """The session's DS9 (a `Ds9Process`) with the Claws menu loaded."""
    for tool in ("ds9", "Xvfb", "xpaget", "xpaset", "xpaaccess"):
        assert shutil.which(tool), (
            f"{tool} is needed for the DS9 tests (apt-get install saods9 xpa-tools xvfb)"
        )
    base = tmp_path_factory.mktemp("ds9session")
    home, config, cwd = base / "home", base / "config", base / "cwd"
    for d in (home, config, cwd):
        d.mkdir()
    env = _clean_env(home, config)
    proc = start_ds9(
        f"ds9claw-test-{uuid.uuid4().hex[:8]}",
        xvfb=True,
        env=env,
        timeout=60,
        cwd=cwd,
        extra_args=("-geometry", "+0+420"),
    )
    try:
        install = subprocess.run(
            [
                sys.executable,
                "-m",
                "ds9claw",
                "analysis",
                "install",
                "--absolute",
                "--target",
                proc.xpa_target,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert install.returncode == 0, install.stderr
        proc.install_output = install.stdout
        proc.config_dir = config
        proc.client_env = env
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def ds9(ds9_session, tmp_path):
    """A reset DS9: one empty frame, no tiling; remembered settings back to defaults."""
    settings = ds9_session.config_dir / "settings.json"
    saved = settings.read_text() if settings.exists() else None
    transport = XpaTransport(ds9_session.xpa_target, timeout=20)
    driver = Ds9Driver(ds9_session, transport, tmp_path)
    driver.reset()
    # keep the install record (analysis_file) but forget remembered parameters
    if saved is not None:
        import json

        data = json.loads(saved)
        settings.write_text(
            json.dumps({k: data[k] for k in ("analysis_file", "extra") if k in data})
        )
    yield driver
    if ds9_session.alive():
        driver.reset()


@pytest.fixture
def cli_env(ds9_session):
    """Environment for running ``python -m ds9claw`` against the session DS9."""
    return dict(ds9_session.client_env)


def run_cli(args, env, timeout=120):
    """Run ``python -m ds9claw ARGS``; return the CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, "-m", "ds9claw", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

"""XPA transport, target discovery, DS9 start/stop, settings and the analysis command."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ds9claw.ds9.analysis_file import desktop_command, render_analysis_file
from ds9claw.ds9.launch import start_ds9
from ds9claw.ds9.settings import Ds9Settings, config_dir, load_settings, save_settings
from ds9claw.ds9.xpa import XpaTransport, connect, find_targets
from ds9claw.errors import TransportError

from .conftest import run_cli
from .helpers import message_boxes

pytestmark = pytest.mark.ds9


def _fake_tool(directory: Path, name: str, script: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_timeout_is_a_clear_transport_error(tmp_path):
    # a fake DS9 that never answers: only the error handling is under test here
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("xpaget", "xpaset"):
        _fake_tool(bin_dir, name, "exec /bin/sleep 30")
    env = {"PATH": str(bin_dir), "XPA_METHOD": "local"}
    transport = XpaTransport("/tmp/somewhere/DS9_ds9.1", timeout=0.5, env=env)
    t0 = time.monotonic()
    with pytest.raises(TransportError) as info:
        transport.get("frame")
    assert time.monotonic() - t0 < 5
    message = str(info.value)
    assert "/tmp/somewhere/DS9_ds9.1" in message and "did not answer within 1.5 s" in message
    assert "XPA_METHOD=local" in message and "XPA_TMPDIR=/tmp/somewhere" in message


def test_missing_xpa_tools(tmp_path):
    with pytest.raises(TransportError, match="xpa-tools"):
        XpaTransport("ds9", env={"PATH": str(tmp_path)})


def test_connect_to_the_single_ds9_by_discovery(ds9_session):
    env = dict(ds9_session.client_env, **ds9_session.xpa_env)
    targets = find_targets(env=env)
    assert [t.name for t in targets] == [ds9_session.title]
    assert targets[0].address == ds9_session.xpa_target
    transport = connect(None, env=env)
    assert transport.get("version").decode().split()[0] == ds9_session.title
    # by title, with the XPA environment
    assert (
        XpaTransport(ds9_session.title, env=env)
        .get("version")
        .startswith(ds9_session.title.encode())
    )


def test_several_ds9s_are_listed(cli_env):
    shared = Path(tempfile.mkdtemp(prefix="ds9claw-xpa-"))
    env = {k: v for k, v in cli_env.items() if k != "DISPLAY"}
    env.update(XPA_METHOD="local", XPA_TMPDIR=str(shared))
    first = start_ds9(xvfb=True, env=env, private_xpa=False, timeout=60)
    try:
        second = start_ds9(xvfb=True, env=env, private_xpa=False, timeout=60)
        try:
            with pytest.raises(TransportError) as info:
                connect(None, env=env)
            message = str(info.value)
            assert "2 DS9s are running" in message and "--target" in message
            assert first.title in message and second.title in message
            proc = run_cli(["ds9", "detect"], env)
            assert proc.returncode == 1 and "2 DS9s are running" in proc.stderr
        finally:
            second.stop()
    finally:
        first.stop()
        _stop_xpans_of(shared)  # the shared name server belongs to this test
        shutil.rmtree(shared, ignore_errors=True)


def _stop_xpans_of(shared: Path) -> None:
    """Stop the xpans serving ``shared`` (found by its own directory in its command line)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"xpans") and any(str(shared).encode() in c for c in cmd):
            os.kill(int(entry.name), signal.SIGTERM)


def test_stop_ends_every_process(tmp_path, cli_env):
    env = {k: v for k, v in cli_env.items() if k != "DISPLAY"}
    proc = start_ds9(env=env, timeout=60)  # no DISPLAY: its own Xvfb
    assert proc.xvfb is not None and proc.display.startswith(":")
    helpers = set(proc._helpers)
    assert helpers, "DS9 should have started its own xpans"
    pids = [proc.pid, proc.xvfb.pid, *helpers]
    workdir = proc.workdir
    proc.stop()
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in pids if _running(p)]
        time.sleep(0.05)
    assert not alive
    assert not workdir.exists()
    proc.stop()  # idempotent


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_settings_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("DS9CLAW_CONFIG_DIR", str(tmp_path / "cfg"))
    assert config_dir() == tmp_path / "cfg"
    assert load_settings() == Ds9Settings()
    assert not (tmp_path / "cfg").exists()  # reading creates nothing
    save_settings(Ds9Settings(sigma=2.0, rate_dir="/data/rates"))
    again = load_settings()
    assert again.sigma == 2.0 and again.rate_dir == "/data/rates"
    (tmp_path / "cfg" / "settings.json").write_text("{not json")
    assert load_settings() == Ds9Settings()
    monkeypatch.delenv("DS9CLAW_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "ds9claw"


def test_analysis_path_and_user_copy(tmp_path, cli_env):
    proc = run_cli(["analysis", "path"], cli_env)
    assert proc.returncode == 0
    shipped = Path(proc.stdout.strip())
    assert shipped.name == "ds9claw.ans" and shipped.is_file()
    text = render_analysis_file(
        shipped.read_text(),
        command="{/opt/py/bin/python} -m ds9claw",
        settings=Ds9Settings(sigma=2.5, ignore_background=True, rate_dir="/data/my rates"),
    )
    commands = [line for line in text.splitlines() if " ds9 " in line and "--target" in line]
    assert commands and all(
        line.startswith("{/opt/py/bin/python} -m ds9claw ds9 ")
        or "; {/opt/py/bin/python} -m ds9claw ds9 " in line
        for line in commands
    )
    assert all("|& $text" in line for line in commands)
    assert "$null" not in text
    assert "cl_sigma entry {Detection threshold (sigma)} 2.5 " in text
    assert "cl_nobg checkbox {Ignore background (sky-subtracted image)} 1 " in text
    assert "{Directory of the *_rate.fits files} {/data/my rates} " in text
    # this test's interpreter is a virtualenv's, not on a desktop PATH: absolute path
    assert desktop_command() == "{" + sys.executable + "} -m ds9claw"


def test_install_writes_user_copy_without_ds9(tmp_path, cli_env):
    env = dict(
        cli_env,
        DS9CLAW_CONFIG_DIR=str(tmp_path / "cfg"),
        XPA_METHOD="local",
        XPA_TMPDIR=str(tmp_path),
    )
    proc = run_cli(["analysis", "install"], env)
    assert proc.returncode == 0, proc.stderr
    copy = tmp_path / "cfg" / "ds9claw.ans"
    assert copy.is_file() and f"wrote {copy}" in proc.stdout
    assert "no running DS9 found" in proc.stdout and "~/.ds9.ans" in proc.stdout
    settings = json.loads((tmp_path / "cfg" / "settings.json").read_text())
    assert settings["analysis_file"] == str(copy)


def test_demo_runs_end_to_end(tmp_path, cli_env):
    env = {k: v for k, v in cli_env.items() if k != "DISPLAY"}
    out = tmp_path / "demo"
    proc = run_cli(["demo", "--output-dir", str(out), "--size", "512"], env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(missing!)" not in proc.stdout
    for suffix in (
        "_cal_claws_seed_image.fits",
        "_cal_claws.png",
        "_rate_before_removing_claws.fits",
    ):
        assert list((out / "data").glob("*" + suffix)), suffix
    assert "flagged" in proc.stdout


def test_session_ds9_starts_without_an_error_box(ds9):
    # DS9 8.4.1's own '-samp no' opened a modal "SAMP: not connected" box that held the
    # grab over every later dialog; start_ds9 must leave DS9 quiet and off SAMP
    assert message_boxes(ds9.t, ds9.scratch) == []
    assert ds9.tcl("grab current") == ""
    assert ds9.get("samp") == "no"


def test_samp_default_starts_quietly_without_a_hub(tmp_path, cli_env):
    env = {k: v for k, v in cli_env.items() if k != "DISPLAY"}
    with start_ds9(xvfb=True, env=env, samp=None, timeout=60, cwd=tmp_path) as proc:
        transport = XpaTransport(proc.xpa_target, timeout=20)
        assert message_boxes(transport, tmp_path) == []
        assert transport.get("samp").decode().strip() == "no"


def test_samp_required_but_no_hub_is_refused_before_start(tmp_path, cli_env):
    env = {k: v for k, v in cli_env.items() if k != "DISPLAY"}
    env["SAMP_HUB"] = f"std-lockurl:{(tmp_path / 'absent.lock').as_uri()}"
    # a PATH with DS9 and xpaaccess but no Xvfb: starting Xvfb first would fail otherwise
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ds9", "xpaaccess"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    env["PATH"] = str(bin_dir)
    with pytest.raises(TransportError) as info:
        start_ds9(xvfb=True, env=env, samp=True, timeout=60, cwd=tmp_path)
    assert "no SAMP hub" in str(info.value) and "absent.lock" in str(info.value)

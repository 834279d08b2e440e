"""The DS9 transport over SAMP against a real hub and a real DS9 8.4.1."""

from __future__ import annotations

import io
import subprocess
import time

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.ds9.samp_transport import SampTransport, connect_samp
from ds9claw.ds9.transport import Transport
from ds9claw.errors import TransportError

from .conftest import start_samp_ds9, wait_for

pytestmark = [pytest.mark.samp, pytest.mark.ds9]


def _fits_bytes(data: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    fits.PrimaryHDU(data).writeto(buffer)
    return buffer.getvalue()


@pytest.fixture
def transport(hub, ds9):
    with connect_samp(ds9.title, hub=hub.lockfile, timeout=10) as t:
        t.set("frame delete all")
        t.set("frame new")
        yield t


def test_is_a_transport(transport, ds9):
    assert isinstance(transport, Transport)
    assert isinstance(transport, SampTransport)
    assert ds9.title in transport.target
    assert transport.get("version") == f"{ds9.title} 8.4.1".encode()


def test_fits_round_trip_through_temp_files(transport, tmp_path):
    rng = np.random.default_rng(1)
    image = rng.normal(size=(90, 130)).astype(np.float32)
    transport.set("fits", _fits_bytes(image))
    answer = transport.get("fits")
    back = fits.getdata(io.BytesIO(answer))
    assert back.shape == (90, 130)
    np.testing.assert_array_equal(back, image)
    # the payload files of set() are gone, and so are DS9's answer files we read
    assert transport._tmpdir is not None
    assert list(transport._tmpdir.iterdir()) == []


def test_regions_text_round_trip_and_frames(transport):
    transport.set("fits", _fits_bytes(np.zeros((60, 80), np.float32)))
    transport.set("regions", b"image\npolygon(10,10,50,10,50,40,10,40)\n")
    transport.set("regions command {circle 30 30 5}")
    text = transport.get("regions -format ds9 -system image").decode()
    assert "polygon(10,10,50,10,50,40,10,40)" in text
    assert "circle(30,30,5)" in text
    transport.set("frame new")
    transport.set("frame new")
    assert transport.get("frame all").split() == [b"1", b"2", b"3"]
    assert transport.get("frame") == b"3"
    transport.set("frame 1")
    assert transport.get("frame") == b"1"


def test_errors_are_transport_errors_quickly(transport):
    start = time.monotonic()
    with pytest.raises(TransportError, match="Unknown command: nonsense"):
        transport.set("nonsense")
    with pytest.raises(TransportError, match="refused 'get nonsense'"):
        transport.get("nonsense")
    # DS9 8.4.1 never answers 'get header' over SAMP: refused at once, no timeout
    with pytest.raises(TransportError, match="does not answer 'get header' over SAMP"):
        transport.get("header")
    assert time.monotonic() - start < 3


def test_empty_frame_gives_empty_fits(transport):
    assert transport.get("fits") == b""


def test_choose_by_name_and_ambiguity(hub, ds9, ds9_samp_only):
    with pytest.raises(TransportError) as info:
        connect_samp(None, hub=hub.lockfile, timeout=5)
    text = str(info.value)
    assert "2 DS9s are registered" in text
    assert ds9.title in text and ds9_samp_only.title in text
    with pytest.raises(TransportError, match="no DS9 titled 'nobody'") as info:
        connect_samp("nobody", hub=hub.lockfile, timeout=5)
    assert ds9_samp_only.title in str(info.value)
    with connect_samp(ds9_samp_only.title, hub=hub.lockfile, timeout=5) as t:
        assert t.get("version").split()[0].decode() == ds9_samp_only.title


def test_open_transport_uses_samp_when_xpa_is_off(hub, ds9_samp_only):
    from ds9claw.ds9.connect import open_transport

    t = open_transport(ds9_samp_only.title, hub=hub.lockfile, timeout=5)
    try:
        assert isinstance(t, SampTransport)
        assert t.get("version").split()[0].decode() == ds9_samp_only.title
    finally:
        t.close()
    with pytest.raises(TransportError, match=r"over XPA: .*over SAMP: no DS9 titled"):
        open_transport("nobody-here", hub=hub.lockfile, timeout=3)
    with pytest.raises(TransportError):
        open_transport(ds9_samp_only.title, samp=False, timeout=3)


def test_no_hub_is_a_clear_error(tmp_path):
    with pytest.raises(TransportError, match=r"no SAMP hub: lockfile .* does not exist"):
        connect_samp(hub=tmp_path / "missing-lockfile")
    stale = tmp_path / "stale"
    stale.write_text("samp.secret=x\nsamp.hub.xmlrpc.url=http://127.0.0.1:9/\n")
    with pytest.raises(TransportError, match="does not answer"):
        connect_samp(hub=stale, timeout=2)
    with pytest.raises(TransportError, match="not a local file"):
        connect_samp(hub="std-lockurl:http://example.org/lock", timeout=2)


def test_ds9_leaving_the_hub_gives_clear_errors(hub):
    ds9 = start_samp_ds9(hub, xpa=True)
    try:
        env = {**ds9.env, **ds9.xpa_env}
        t = connect_samp(ds9.title, hub=hub.lockfile, timeout=3)
        assert t.get("frame") == b"1"
        subprocess.run(
            ["xpaset", "-p", ds9.title, "samp", "disconnect"], env=env, check=True, timeout=10
        )
        start = time.monotonic()
        with pytest.raises(TransportError, match="has left the SAMP hub"):
            t.get("frame")
        assert time.monotonic() - start < 2
        t.close()

        # back on the hub, then killed without leaving it: a bounded, explained error
        subprocess.run(
            ["xpaset", "-p", ds9.title, "samp", "connect"], env=env, check=True, timeout=10
        )
        t = wait_for(lambda: _try_connect(ds9.title, hub), 15, "DS9 back on the hub")
        ds9.process.kill()
        ds9.process.wait(timeout=10)
        start = time.monotonic()
        with pytest.raises(TransportError, match="did not answer 'get frame' within 2 s") as info:
            t.timeout = 2.0
            t.get("frame")
        assert "does not answer pings" in str(info.value)
        assert time.monotonic() - start < 8
        t.close()
    finally:
        ds9.stop()


def _try_connect(title, hub):
    try:
        return connect_samp(title, hub=hub.lockfile, timeout=3)
    except TransportError:
        return None


def test_hub_gone_is_a_clear_error(own_hub):
    ds9 = start_samp_ds9(own_hub, xpa=False)
    try:
        t = connect_samp(ds9.title, hub=own_hub.lockfile, timeout=3)
        assert t.get("frame") == b"1"
        own_hub.stop(kill=True)
        start = time.monotonic()
        with pytest.raises(TransportError, match="did the hub stop"):
            t.get("frame")
        assert time.monotonic() - start < 3
        t.close()
    finally:
        ds9.stop()
    assert not own_hub.lockfile.exists()


def test_status_command_lists_ds9_by_title(hub, ds9):
    import sys

    from .conftest import clean_env

    proc = subprocess.run(
        [sys.executable, "-m", "ds9claw", "samp", "status", "--hub", str(hub.lockfile)],
        env=clean_env(), capture_output=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert str(hub.lockfile) in out
    line = next(line for line in out.splitlines() if "SAOImageDS9" in line)
    assert f"'{ds9.title}'" in line and "DS9 8.4.1" in line


def test_ds9_joined_with_samp_shows_no_error_box(ds9, tmp_path):
    from ds9.helpers import message_boxes  # tests/ds9/helpers.py

    from ds9claw.ds9.xpa import XpaTransport

    xpa = XpaTransport(ds9.xpa_target, timeout=20)
    assert message_boxes(xpa, tmp_path) == []
    assert xpa.get("samp").decode().strip() == "yes"

"""The resident listener against a real hub: ds9claw.detect, ds9claw.commit, robustness."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.listener.handler_settings import HandlerSettings
from ds9claw.listener.listen import MTYPES
from ds9claw.listener.messages import file_url_to_path, path_to_file_url

from .conftest import RunningListener, clean_env, make_listener, wait_for

pytestmark = pytest.mark.samp

PARAMS = {"sigma": "2", "smooth": "1", "ignore-background": "1", "minpixarea": "1"}


@pytest.fixture
def listener(hub, tmp_path):
    out = tmp_path / "listener-out"
    out.mkdir()
    settings = HandlerSettings(output_dir=out, overwrite=False)
    with RunningListener(make_listener(hub.lockfile, settings=settings)) as running:
        yield running


def _path(url: str):
    return file_url_to_path(url, what="product", max_bytes=1 << 34)


def test_registration_metadata_and_subscriptions(listener, session):
    meta = session.metadata(listener.public_id)
    assert meta["samp.name"] == "ds9claw"
    assert meta["samp.description.text"].startswith("ds9claw")
    assert meta["ds9claw.version"]
    assert meta["home.page"].startswith("https://")
    subscribed = set(session._hub_call("get_subscriptions", listener.public_id))
    assert subscribed == set(MTYPES)
    assert "client.env.get" not in subscribed
    assert session._hub_call("get_subscriptions", listener.public_id)["ds9claw.commit"] == {
        "x-samp.mostly-harmless": "0"
    }


def test_detect_call_equals_the_command_line(listener, session, example_small, tmp_path):
    params = {
        "image-url": path_to_file_url(example_small.cal),
        "region-url": path_to_file_url(example_small.region),
        **PARAMS,
    }
    reply = session.call_and_wait(listener.public_id, "ds9claw.detect", params, 60)
    assert reply["samp.status"] == "samp.ok", reply
    result = reply["samp.result"]
    seed, mask = _path(result["seed-url"]), _path(result["mask-url"])
    assert seed.parent == tmp_path / "listener-out"

    cli_out = tmp_path / "cli-out"
    cli_out.mkdir()
    subprocess.run(
        [sys.executable, "-m", "ds9claw", "detect", str(example_small.cal),
         "--include-region", str(example_small.region), "--output-dir", str(cli_out),
         "--sigma", "2", "--smooth", "1", "--ignore-background", "--minpixarea", "1"],
        check=True, env=clean_env(), capture_output=True, timeout=120,
    )  # fmt: skip
    cli_seed = cli_out / seed.name
    cli_mask = cli_out / mask.name
    for ours, theirs in ((seed, cli_seed), (mask, cli_mask)):
        with fits.open(ours) as a, fits.open(theirs) as b:
            np.testing.assert_array_equal(a[0].data, b[0].data)
            assert a[0].header["CLAWNPIX"] == b[0].header["CLAWNPIX"]
    n_mask = int(np.count_nonzero(fits.getdata(cli_mask)))
    assert int(result["n-masked"]) == n_mask > 100
    assert int(result["n-pixels"]) == 512 * 512
    # the truth overlaps what was found
    truth = fits.getdata(example_small.truth) > 0
    found = fits.getdata(mask) > 0
    assert np.count_nonzero(truth & found) > 0.5 * np.count_nonzero(found)

    # products exist now: ds9claw's own products are replaced; overwrite=0 narrows that
    again = session.call_and_wait(listener.public_id, "ds9claw.detect", params, 60)
    assert again["samp.status"] == "samp.ok", again
    again = session.call_and_wait(
        listener.public_id, "ds9claw.detect", {**params, "overwrite": "0"}, 60
    )
    assert again["samp.status"] == "samp.error"
    assert "asked not to replace anything" in again["samp.error"]["samp.errortxt"]


def test_detect_with_region_text_and_template(hub, session, example_copy):
    text = example_copy.region.read_text()
    settings = HandlerSettings(overwrite=True, region_template="{stem}_claws.pix.reg")
    with RunningListener(make_listener(hub.lockfile, settings=settings)) as running:
        url = path_to_file_url(example_copy.cal)
        by_text = session.call_and_wait(
            running.public_id, "ds9claw.detect", {"image-url": url, "region": text, **PARAMS}, 60
        )
        by_template = session.call_and_wait(
            running.public_id, "ds9claw.detect", {"image-url": url, **PARAMS}, 60
        )
    assert by_text["samp.status"] == by_template["samp.status"] == "samp.ok"
    assert by_text["samp.result"]["n-masked"] == by_template["samp.result"]["n-masked"]
    assert int(by_text["samp.result"]["n-masked"]) > 100


def test_commit_call_sets_dq_bits(listener, session, example_copy):
    from ds9claw.dq import DEFAULT_COMMIT_FLAGS, interpret_flags

    detect = session.call_and_wait(
        listener.public_id,
        "ds9claw.detect",
        {"image-url": path_to_file_url(example_copy.cal),
         "region-url": path_to_file_url(example_copy.region), **PARAMS},
        60,
    )  # fmt: skip
    assert detect["samp.status"] == "samp.ok", detect
    mask_path = _path(detect["samp.result"]["mask-url"])
    mask = fits.getdata(mask_path) > 0
    with fits.open(example_copy.rate) as hdul:
        dq_before = hdul["DQ"].data.copy()
    bits = interpret_flags(DEFAULT_COMMIT_FLAGS)

    reply = session.call_and_wait(
        listener.public_id,
        "ds9claw.commit",
        {"rate-url": path_to_file_url(example_copy.rate),
         "mask-url": detect["samp.result"]["mask-url"]},
        60,
    )  # fmt: skip
    assert reply["samp.status"] == "samp.ok", reply
    result = reply["samp.result"]
    with fits.open(example_copy.rate) as hdul:
        dq_after = hdul["DQ"].data
        assert np.all((dq_after[mask] & bits) == bits)
        np.testing.assert_array_equal(dq_after[~mask], dq_before[~mask])
    expected_new = int(np.count_nonzero((dq_before[mask] & bits) != bits))
    assert int(result["n-flagged"]) == expected_new > 0
    assert int(result["n-masked"]) == int(np.count_nonzero(mask))
    backup = _path(result["backup-url"])
    with fits.open(backup) as hdul:
        np.testing.assert_array_equal(hdul["DQ"].data, dq_before)


BAD_MESSAGES = [
    ("ds9claw.detect", {"image-url": "http://example.org/x_cal.fits"}, "scheme 'http' refused"),
    ("ds9claw.detect", {"image-url": "file:///no/such/file_cal.fits"}, "does not exist"),
    ("ds9claw.detect", {"image-url": "file://otherhost/x_cal.fits"}, "only local files"),
    ("ds9claw.detect", {"image-url": "file:///tmp"}, "not a regular file"),
    ("ds9claw.detect", {"image-url": "CAL", "sigma": "two"}, "must be a number"),
    ("ds9claw.detect", {"image-url": "CAL", "sigma": "-1"}, "sigma must be a positive"),
    ("ds9claw.detect", {"image-url": "CAL", "colour": "red"}, "unknown parameter 'colour'"),
    ("ds9claw.detect", {"image-url": "CAL", "region": "x" * 3_000_000}, "the limit is"),
    ("ds9claw.detect", {"image-url": "CAL", "region": "circle(a,b,c"}, "region"),
    ("ds9claw.detect", {"image-url": ["CAL"]}, "must be a string"),
    ("ds9claw.detect", {}, "'image-url' is missing"),
    ("ds9claw.commit", {"rate-url": "RATE"}, "'mask-url' is missing"),
    ("ds9claw.commit", {"rate-url": "RATE", "mask-url": "CAL", "flags": "NOPE"}, "NOPE"),
    ("ds9claw.commit", {"rate-url": "RATE", "mask-url": "CAL", "output": "/tmp/x"},
     "unknown parameter 'output'"),
]  # fmt: skip


@pytest.mark.parametrize(("mtype", "params", "message"), BAD_MESSAGES)
def test_bad_messages_get_error_replies(listener, session, example_small, mtype, params, message):
    urls = {
        "CAL": path_to_file_url(example_small.cal),
        "RATE": path_to_file_url(example_small.rate),
    }
    params = {k: urls.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    reply = session.call_and_wait(listener.public_id, mtype, params, 30)
    assert reply["samp.status"] == "samp.error", reply
    assert message in reply["samp.error"]["samp.errortxt"]
    # still serving
    assert session.call_and_wait(listener.public_id, "samp.app.ping", {}, 5)["samp.status"] == (
        "samp.ok"
    )


def test_burst_of_100_calls_all_answered(listener, hub, example_small):
    """100 asynchronous calls at once (half valid, half refused): 100 correct replies."""
    from ds9claw.sampclient.bounded_proxy import samp_module
    from ds9claw.sampclient.hub_lockfile import locate_hub

    samp = samp_module()
    with samp.conf.set_temp("use_internet", False):
        tool = samp.SAMPIntegratedClient(name="burst tool", addr="127.0.0.1")
    tool.connect(hub_params=dict(locate_hub(hub.lockfile).params))
    replies: dict[str, dict] = {}
    done = threading.Event()

    def on_response(private_key, responder_id, msg_tag, response):
        replies[msg_tag] = response
        if len(replies) == 100:
            done.set()

    good = {
        "image-url": path_to_file_url(example_small.cal),
        "region-url": path_to_file_url(example_small.region),
        "overwrite": "1",
        **PARAMS,
    }
    bad = {"image-url": "http://example.org/x.fits"}
    try:
        for i in range(100):
            tag = f"burst-{i}"
            tool.bind_receive_response(tag, on_response)
            message = {"samp.mtype": "ds9claw.detect", "samp.params": good if i % 2 else bad}
            tool.call(listener.public_id, tag, message)
        assert done.wait(90), f"only {len(replies)} of 100 replies arrived"
    finally:
        tool.disconnect()
    for i in range(100):
        response = replies[f"burst-{i}"]
        if i % 2:
            assert response["samp.status"] == "samp.ok", response
            assert int(response["samp.result"]["n-masked"]) > 100
        else:
            assert response["samp.status"] == "samp.error"
    counts = {
        r["samp.result"]["n-masked"]
        for i, r in enumerate(replies.values())
        if r["samp.status"] == "samp.ok"
    }
    assert len(counts) == 1
    assert listener.listener.stats["replied"] >= 100


def test_hub_stop_ends_the_listener(own_hub):
    running = RunningListener(make_listener(own_hub.lockfile))
    with running:
        assert running.listener.registered
        start = time.monotonic()
        own_hub.stop()
        running.thread.join(timeout=10)
        assert not running.thread.is_alive(), "the listener hangs after the hub stopped"
        assert running.result == ["hub-stopped"]
        assert time.monotonic() - start < 10


def test_hub_killed_and_restarted_listener_reconnects(own_hub, example_copy):
    from ds9claw.sampclient.hub_lockfile import locate_hub
    from ds9claw.sampclient.session import HubSession

    settings = HandlerSettings(overwrite=True)
    with RunningListener(
        make_listener(own_hub.lockfile, settings=settings, reconnect=True)
    ) as running:
        first_id = running.public_id
        own_hub.stop(kill=True)  # no shutdown message: only the heartbeat notices
        wait_for(lambda: not running.listener.registered, 10, "the listener to notice")
        own_hub.start()
        wait_for(lambda: running.listener.registered, 15, "the listener to register again")
        assert running.thread.is_alive()
        with HubSession(locate_hub(own_hub.lockfile), name="tool", timeout=30) as s:
            reply = s.call_and_wait(
                running.public_id,
                "ds9claw.detect",
                {"image-url": path_to_file_url(example_copy.cal), **PARAMS},
                60,
            )
        assert reply["samp.status"] == "samp.ok", reply
        assert int(reply["samp.result"]["n-masked"]) > 100
        assert first_id is not None


def _ds9claw_ids(session):
    return [
        c for c in session.registered_clients()
        if session.metadata(c).get("samp.name") == "ds9claw"
    ]  # fmt: skip


def test_listen_command_ctrl_c_and_hub_stop(own_hub):
    """``ds9claw samp listen`` as a process: Ctrl-C unregisters; a hub stop ends it."""
    import signal

    from ds9claw.sampclient.hub_lockfile import locate_hub
    from ds9claw.sampclient.session import HubSession

    env = clean_env(SAMP_HUB=own_hub.samp_hub, HOME=str(own_hub.home))
    cmd = [sys.executable, "-m", "ds9claw", "samp", "listen", "--no-show"]
    for ending in ("ctrl-c", "hub stop"):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            with HubSession(locate_hub(own_hub.lockfile), name="observer", timeout=5) as s:
                wait_for(lambda s=s: _ds9claw_ids(s), 30, "ds9claw samp listen to register")
                if ending == "ctrl-c":
                    proc.send_signal(signal.SIGINT)
                    out, _ = proc.communicate(timeout=15)
                    assert _ds9claw_ids(s) == []
            if ending == "hub stop":
                own_hub.stop()
                out, _ = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, out
        assert b"Traceback" not in out
        if ending == "ctrl-c":
            assert b"interrupted, unregistered" in out
        else:
            assert b"hub stopped" in out


def test_listen_without_hub_is_a_one_line_error(tmp_path):
    env = clean_env(SAMP_HUB="std-lockurl:" + (tmp_path / "none").as_uri(), HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "ds9claw", "samp", "listen"],
        env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    lines = proc.stderr.decode().strip().splitlines()
    assert lines[-1].startswith("ds9claw: error: no SAMP hub: lockfile")
    assert b"Traceback" not in proc.stderr
    shutil.rmtree(tmp_path / "home", ignore_errors=True)


def test_broadcast_image_is_remembered_and_processed_when_its_region_appears(
    hub, session, example_copy, tmp_path
):
    """image.load.fits without a region file waits; the file appears; products follow."""
    region = example_copy.region
    hidden = tmp_path / "hidden.reg"
    region.rename(hidden)
    out = tmp_path / "out"
    out.mkdir()
    settings = HandlerSettings(output_dir=out, region_template="{stem}_claws.pix.reg")
    from ds9claw.listener.image_watch import ShowSettings

    listener = make_listener(
        hub.lockfile, settings=settings, show=ShowSettings(enabled=False), watch_seconds=60
    )
    with RunningListener(listener) as running:
        url = path_to_file_url(example_copy.cal)
        sent_to = session.notify_all("image.load.fits", {"url": url, "name": "exposure"})
        assert running.public_id in sent_to
        image = wait_for(
            lambda: next((i for i in running.listener.recent if i.url == url), None),
            10, "the broadcast image to be remembered",
        )  # fmt: skip
        wait_for(lambda: image.status == "waiting", 10, "the image to wait for its region")
        assert list(out.iterdir()) == []
        hidden.rename(region)
        wait_for(lambda: image.status == "done", 20, "the detection after the region appeared")
        masks = sorted(out.glob("*_zeroonemask.fits"))
        assert [m.name for m in masks] == [
            example_copy.cal.name.replace(".fits", "_claws_seed_image_zeroonemask.fits")
        ]
        assert int(np.count_nonzero(fits.getdata(masks[0]))) > 100

        # a refused url is remembered as refused, and the listener goes on
        session.notify_all("image.load.fits", {"url": "http://example.org/x.fits"})
        wait_for(
            lambda: any(i.status == "refused" for i in running.listener.recent),
            10, "the http url to be refused",
        )  # fmt: skip
        assert running.thread.is_alive()


def test_malformed_message_structure_gets_an_error_reply(listener, session):
    """samp.params that is not a map, or missing: an error reply, not a silent drop."""
    for message in (
        {"samp.mtype": "ds9claw.detect", "samp.params": "junk"},
        {"samp.mtype": "ds9claw.commit"},
    ):
        reply = session._proxy.call_and_wait(session.private_key, listener.public_id, message, "10")
        assert reply["samp.status"] == "samp.error", reply
        assert reply["samp.error"]["samp.errortxt"]
    assert listener.thread.is_alive()

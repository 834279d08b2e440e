"""The listener's overwrite policy: its own products are replaced, a sender cannot widen it."""

from __future__ import annotations

import pytest
from astropy.io import fits

from ds9claw.listener.handler_settings import HandlerSettings
from ds9claw.listener.image_watch import ShowSettings
from ds9claw.listener.messages import path_to_file_url
from ds9claw.products import output_paths

from .conftest import RunningListener, make_listener

pytestmark = pytest.mark.samp

PARAMS = {"sigma": "2", "smooth": "1", "ignore-background": "1", "minpixarea": "1"}
USERS = b"SIMPLE  = T / the observer's own file, not a ds9claw product\n"


def _listener(hub, *, overwrite: bool):
    settings = HandlerSettings(overwrite=overwrite, region_template="{stem}_claws.pix.reg")
    return RunningListener(
        make_listener(hub.lockfile, settings=settings, show=ShowSettings(enabled=False))
    )


def _detect(session, running, example, **extra):
    params = {"image-url": path_to_file_url(example.cal), **PARAMS, **extra}
    return session.call_and_wait(running.public_id, "ds9claw.detect", params, 60)


def _error(reply) -> str:
    assert reply["samp.status"] == "samp.error", reply
    return reply["samp.error"]["samp.errortxt"]


def test_detect_message_cannot_widen_the_listeners_policy(hub, session, example_copy):
    paths = output_paths(example_copy.cal, "_claws_seed_image")
    with _listener(hub, overwrite=False) as running:
        assert _detect(session, running, example_copy)["samp.status"] == "samp.ok"
        # ds9claw's own earlier products: replaced
        reply = _detect(session, running, example_copy, sigma="3")
        assert reply["samp.status"] == "samp.ok", reply
        assert fits.getheader(paths["seed"])["CLAWSIG"] == 3.0
        # overwrite=0 narrows the policy: not even ds9claw's own products
        text = _error(_detect(session, running, example_copy, overwrite="0"))
        assert "asked not to replace anything (overwrite=0)" in text
        # the observer's own file at the mask path: refused, whatever the sender says
        paths["mask"].write_bytes(USERS)
        seed_before = paths["seed"].read_bytes()
        for extra in ({}, {"overwrite": "yes"}, {"overwrite": "1"}):
            text = _error(_detect(session, running, example_copy, **extra))
            assert f"{paths['mask']} exists and was not written by ds9claw" in text
            assert "start the listener with --overwrite" in text
            assert paths["mask"].read_bytes() == USERS
            assert paths["seed"].read_bytes() == seed_before


def test_listener_started_with_overwrite_replaces_other_files(hub, session, example_copy):
    paths = output_paths(example_copy.cal, "_claws_seed_image")
    paths["mask"].write_bytes(USERS)
    with _listener(hub, overwrite=True) as running:
        text = _error(_detect(session, running, example_copy, overwrite="0"))
        assert "asked not to replace anything" in text
        assert paths["mask"].read_bytes() == USERS
        reply = _detect(session, running, example_copy)
    assert reply["samp.status"] == "samp.ok", reply
    with fits.open(paths["mask"]) as hdul:
        assert hdul[0].header["CLAWSOFT"] == "ds9claw"
        assert int(hdul[0].data.sum()) == int(reply["samp.result"]["n-masked"]) > 100


def test_image_load_follows_the_same_policy(hub, session, example_copy):
    paths = output_paths(example_copy.cal, "_claws_seed_image")
    paths["seed"].write_bytes(USERS)
    url = path_to_file_url(example_copy.cal)
    with _listener(hub, overwrite=False) as running:
        reply = session.call_and_wait(running.public_id, "image.load.fits", {"url": url}, 60)
        text = _error(reply)
        assert f"{paths['seed']} exists and was not written by ds9claw" in text
        assert paths["seed"].read_bytes() == USERS
        assert not paths["mask"].exists()
        image = running.listener.recent[-1]
        assert image.status == "failed" and "not written by ds9claw" in image.message

        # once the observer's file is gone, the products are written, then replaced
        paths["seed"].unlink()
        for _ in range(2):
            reply = session.call_and_wait(running.public_id, "image.load.fits", {"url": url}, 60)
            assert reply["samp.status"] == "samp.ok", reply
            assert reply["samp.result"]["status"] == "done"
    with fits.open(paths["seed"]) as hdul:
        assert hdul[0].header["CLAWSOFT"] == "ds9claw"


@pytest.mark.ds9
def test_image_load_shown_in_ds9_follows_the_same_policy(hub, ds9, session, example_copy):
    from ds9claw.detect import DetectionParameters
    from ds9claw.ds9.samp_transport import connect_samp

    paths = output_paths(example_copy.cal, "_claws_seed_image")
    paths["mask"].write_bytes(USERS)
    settings = HandlerSettings(
        params=DetectionParameters(sigma=2, smooth=1, ignore_background=True),
        region_template="{stem}_claws.pix.reg",
    )
    show = ShowSettings(target=ds9.title, samp=True, timeout=20)
    url = path_to_file_url(example_copy.cal)
    with connect_samp(ds9.title, hub=hub.lockfile, timeout=20) as t:
        t.set("frame delete all")
        t.set("frame new")
        t.set("tile no")
        with RunningListener(make_listener(hub.lockfile, settings=settings, show=show)) as run:
            # a call to the listener only: DS9 does not load the image by itself
            text = _error(session.call_and_wait(run.public_id, "image.load.fits", {"url": url}, 60))
            assert f"{paths['mask']} exists and was not written by ds9claw" in text
            assert paths["mask"].read_bytes() == USERS and not paths["seed"].exists()
            assert t.get("frame all").split() == [b"1"]  # nothing shown either

            paths["mask"].unlink()
            for _ in range(2):  # written, then ds9claw's own products replaced
                reply = session.call_and_wait(run.public_id, "image.load.fits", {"url": url}, 60)
                assert reply["samp.status"] == "samp.ok", reply
                assert reply["samp.result"]["shown"].endswith("frames 1 2 3")
        assert t.get("frame all").split() == [b"1", b"2", b"3"]
    with fits.open(paths["mask"]) as hdul:
        assert hdul[0].header["CLAWSOFT"] == "ds9claw"
        assert int(hdul[0].data.sum()) == int(reply["samp.result"]["n-masked"]) > 100

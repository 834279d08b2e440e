"""The listener's region template on images whose names hold braces (real hub)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.listener.handler_settings import HandlerSettings
from ds9claw.listener.messages import path_to_file_url

from .conftest import RunningListener, make_listener, wait_for

pytestmark = pytest.mark.samp

PARAMS = {"sigma": "2", "smooth": "1", "ignore-background": "1", "minpixarea": "1"}


def test_default_template_on_a_brace_name(hub, session, example_small, tmp_path):
    cal = tmp_path / "brace{x}_cal.fits"
    shutil.copy(example_small.cal, cal)
    shutil.copy(example_small.region, tmp_path / "brace{x}_cal_claws.pix.reg")
    out = tmp_path / "out"
    out.mkdir()
    from ds9claw.detect import DetectionParameters
    from ds9claw.listener.image_watch import ShowSettings

    same = DetectionParameters(sigma=2, smooth=1, ignore_background=True, minpixarea=1)
    # the default region template, {stem}_claws.pix.reg; broadcasts use these parameters
    settings = HandlerSettings(output_dir=out, params=same)
    listener = make_listener(
        hub.lockfile, settings=settings, show=ShowSettings(enabled=False), watch_seconds=30
    )
    with RunningListener(listener) as running:
        url = path_to_file_url(cal)
        reply = session.call_and_wait(
            running.public_id, "ds9claw.detect", {"image-url": url, **PARAMS}, 60
        )
        assert reply["samp.status"] == "samp.ok", reply
        n_called = int(reply["samp.result"]["n-masked"])
        assert n_called > 100
        mask = out / "brace{x}_cal_claws_seed_image_zeroonemask.fits"
        assert int(np.count_nonzero(fits.getdata(mask))) == n_called
        for product in out.iterdir():
            product.unlink()

        # the broadcast path: remembered, its region found by the template, products written
        session.notify_all("image.load.fits", {"url": url, "name": "brace"})
        image = wait_for(
            lambda: next((i for i in running.listener.recent if i.url == url), None),
            10, "the broadcast image to be remembered",
        )  # fmt: skip
        wait_for(lambda: image.status in ("done", "failed", "refused"), 30, "the detection")
        assert image.status == "done", image
        assert int(np.count_nonzero(fits.getdata(mask))) == n_called

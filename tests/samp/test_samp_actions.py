"""The DS9 menu actions over SAMP give the same frames as over XPA; broadcasts reach DS9."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.ds9 import actions
from ds9claw.ds9.samp_transport import connect_samp
from ds9claw.listener.handler_settings import HandlerSettings
from ds9claw.listener.image_watch import ShowSettings
from ds9claw.listener.messages import path_to_file_url

from .conftest import RunningListener, make_listener, wait_for

pytestmark = [pytest.mark.samp, pytest.mark.ds9]


def _params():
    from ds9claw.detect import DetectionParameters

    return DetectionParameters(sigma=2, smooth=1, ignore_background=True)


@pytest.fixture
def both(hub, ds9):
    """XPA and SAMP transports to the same DS9, which starts with one empty frame."""
    from ds9claw.ds9.xpa import connect

    xpa = connect(ds9.xpa_target, timeout=20)
    samp = connect_samp(ds9.title, hub=hub.lockfile, timeout=20)
    samp.set("frame delete all")
    samp.set("frame new")
    samp.set("tile no")
    yield xpa, samp
    samp.close()
    xpa.close()


def _frames(transport) -> dict[int, tuple[bytes, str]]:
    """Frame number -> (FITS data bytes, file name) of every frame."""
    out = {}
    for frame in transport.get("frame all").split():
        transport.set(f"frame {int(frame)}")
        data = fits.getdata(io.BytesIO(transport.get("fits")))
        out[int(frame)] = (np.asarray(data).tobytes(), transport.get("file").decode().strip())
    return out


def _load(transport, example) -> None:
    transport.set(f"fits {{{example.cal}}}")
    transport.set("regions", example.region.read_bytes())


def _copy(example, directory):
    directory.mkdir()
    for path in (example.cal, example.rate, example.region):
        shutil.copy2(path, directory / path.name)
    from ds9claw.example import ExampleFiles

    return ExampleFiles(
        dataset=example.dataset,
        cal=directory / example.cal.name,
        rate=directory / example.rate.name,
        region=directory / example.region.name,
        truth=example.truth,
    )


def test_actions_give_identical_frames_over_samp_and_xpa(both, example_small, tmp_path):
    xpa, samp = both
    results = {}
    for name, transport in (("xpa", xpa), ("samp", samp)):
        example = _copy(example_small, tmp_path / name)
        transport.set("frame delete all")
        transport.set("frame new")
        _load(transport, example)
        report = actions.detect(transport, params=_params())
        assert (report.image.frame, report.seed_frame, report.mask_frame) == (1, 2, 3)
        assert report.image.path == example.cal.resolve()
        frames = _frames(transport)
        traced = actions.mask_to_regions(transport)
        region_text = transport.get("regions -format ds9 -system image").decode()
        outcome = actions.commit(transport)
        with fits.open(example.rate) as hdul:
            dq = hdul["DQ"].data.copy()
        cleared = actions.clear_frames(transport)
        results[name] = (report, frames, traced, region_text, outcome, dq, cleared)

    rx, rs = results["xpa"], results["samp"]
    assert rx[0].n_masked == rs[0].n_masked > 100
    assert sorted(rx[1]) == sorted(rs[1]) == [1, 2, 3]
    for frame in (1, 2, 3):
        assert rx[1][frame][0] == rs[1][frame][0], f"frame {frame} differs"
    # products written beside each copy, the same bytes of data
    for a, b in ((rx[0].seed_path, rs[0].seed_path), (rx[0].mask_path, rs[0].mask_path)):
        np.testing.assert_array_equal(fits.getdata(a), fits.getdata(b))
    assert rx[2].n_polygons == rs[2].n_polygons > 0
    assert _shapes(rx[3]) == _shapes(rs[3])
    assert rx[4].report.n_flagged == rs[4].report.n_flagged > 0
    np.testing.assert_array_equal(rx[5], rs[5])
    assert rx[6].deleted == rs[6].deleted == [2, 3]


def _shapes(text: str) -> list[str]:
    return sorted(line for line in text.splitlines() if line.startswith("polygon"))


def test_snapshot_over_samp(both, example_small, tmp_path):
    _xpa, samp = both
    example = _copy(example_small, tmp_path / "snap")
    _load(samp, example)
    actions.detect(samp, params=_params())
    report = actions.snapshot(samp, formats=("png",))
    assert [p.name for p in report.paths] == [f"{example.cal.stem}_claws.png"]
    assert report.paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_broadcast_image_ends_in_three_frames(hub, ds9, session, example_small, tmp_path):
    """Another tool broadcasts image.load.fits; the region file exists: image, seed, mask."""
    example = _copy(example_small, tmp_path / "broadcast")
    with connect_samp(ds9.title, hub=hub.lockfile, timeout=20) as t:
        t.set("frame delete all")
        t.set("frame new")
        t.set("tile no")
        settings = HandlerSettings(params=_params(), region_template="{stem}_claws.pix.reg")
        show = ShowSettings(target=ds9.title, samp=True, timeout=20)
        with RunningListener(make_listener(hub.lockfile, settings=settings, show=show)) as run:
            url = path_to_file_url(example.cal)
            sent = session.notify_all("image.load.fits", {"url": url, "name": "exposure"})
            assert run.public_id in sent
            image = wait_for(
                lambda: next((i for i in run.listener.recent if i.url == url), None),
                10, "the listener to remember the image",
            )  # fmt: skip
            wait_for(lambda: image.status in ("done", "failed"), 60, "the detection")
            assert image.status == "done", image.message
            assert run.listener.shown[-1]["frames"] == "1 2 3"

        frames = _frames(t)
    assert sorted(frames) == [1, 2, 3]
    assert frames[1][1].startswith(str(example.cal.resolve()))
    seed = example.cal.with_name(example.cal.stem + "_claws_seed_image.fits")
    mask = example.cal.with_name(example.cal.stem + "_claws_seed_image_zeroonemask.fits")
    assert frames[2][0] == fits.getdata(seed).astype(">f4").tobytes()
    assert frames[3][0] == fits.getdata(mask).tobytes()
    n_mask = int(np.count_nonzero(fits.getdata(mask)))
    assert n_mask > 100
    assert image.message.startswith(f"{n_mask} pixels masked")


def test_image_with_unsafe_name_is_not_passed_to_ds9(hub, ds9, session, example_small, tmp_path):
    """A file name with braces or brackets never becomes part of a DS9 command."""
    directory = tmp_path / "odd"
    directory.mkdir()
    cal = directory / "x}; quit; {_cal.fits"
    shutil.copy2(example_small.cal, cal)
    shutil.copy2(example_small.region, directory / "x}; quit; {_cal_claws.pix.reg")
    settings = HandlerSettings(params=_params())
    show = ShowSettings(target=ds9.title, samp=True, timeout=20)
    with connect_samp(ds9.title, hub=hub.lockfile, timeout=20) as t:
        t.set("frame delete all")
        t.set("frame new")
        with RunningListener(make_listener(hub.lockfile, settings=settings, show=show)) as run:
            # a call to ds9claw only: DS9 does not load the image by itself
            reply = session.call_and_wait(
                run.public_id, "image.load.fits", {"url": path_to_file_url(cal)}, 30
            )
        assert reply["samp.status"] == "samp.error"
        assert "DS9 cannot load the image" in reply["samp.error"]["samp.errortxt"]
        assert t.get("frame all").split() == [b"1"]
        assert t.get("fits size").split() in ([b"0", b"0"], [])

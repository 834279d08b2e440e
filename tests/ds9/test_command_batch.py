"""`ds9claw.ds9.command_batch.CommandBatch` against the real DS9: answers, refusals, data."""

from __future__ import annotations

import io

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.ds9.command_batch import CommandBatch
from ds9claw.errors import TransportError

pytestmark = pytest.mark.ds9


def test_answers_come_back_in_order_and_match_single_requests(ds9):
    ds9.set("frame new")
    ds9.set("tile yes")
    batch = CommandBatch()
    frames = batch.get("frame all")
    batch.set("frame 1")
    current = batch.get("frame")
    tile = batch.get("tile")
    empty_header = batch.get("fits header keyword CLAWROLE", may_fail=True)
    answers = batch.run(ds9.t)
    assert answers[frames] == ds9.get("frame all") == "1 2"
    assert answers[current] == ds9.get("frame") == "1"
    assert answers[tile] == "yes"
    assert answers[empty_header] == ""  # an empty frame has no keyword


def test_a_refused_command_stops_the_batch_and_names_itself(ds9):
    batch = CommandBatch()
    batch.set("frame new")
    batch.set("zoom to fitt")
    batch.set("frame new")
    with pytest.raises(TransportError, match="zoom to fitt: "):
        batch.run(ds9.t)
    # the step before the refusal ran, the one after it did not; DS9 still answers
    assert ds9.frames() == [1, 2]
    assert ds9.get("frame") == "2"


def test_fits_data_is_loaded_from_a_private_file(ds9, tmp_path):
    pixels = np.arange(12 * 10, dtype=np.float32).reshape(12, 10)
    payload = io.BytesIO()
    fits.PrimaryHDU(pixels, header=fits.Header([("CLAWROLE", "seed")])).writeto(payload)
    batch = CommandBatch()
    batch.set("frame 1")
    batch.set(f"fits {{{tmp_path / 'shown_name.fits'}}}", payload.getvalue())
    role = batch.get("fits header keyword CLAWROLE")
    answers = batch.run(ds9.t)
    assert answers[role] == "seed"
    np.testing.assert_array_equal(ds9.frame_data(1), pixels)
    assert ds9.get("file").endswith("shown_name.fits")
    assert not (tmp_path / "shown_name.fits").exists()  # only the name DS9 shows


def test_a_new_frame_numbered_otherwise_stops_before_anything_is_loaded(ds9, tmp_path):
    from ds9claw.ds9.frames import FrameRef
    from ds9claw.ds9.product_frames import show_products

    class SeqMovesAfterTheQuestions:
        """DS9 counts its frame numbers on between ds9claw's two requests."""

        def __init__(self, transport):
            self.t, self.target, self.timeout, self.requests = transport, "ds9", 20, 0

        def get(self, command):
            return self.t.get(command)

        def set(self, command, data=None):
            self.t.set(command, data)
            self.requests += 1
            if self.requests == 1:
                self.t.set("tcl {incr ::ds9(seq) 5}")

    image = io.BytesIO()
    fits.PrimaryHDU(np.ones((8, 8), np.float32)).writeto(image)
    ds9.set("fits {image.fits}", image.getvalue())
    ref = FrameRef(frame=1, spec="image.fits", path=None, ext="", source_id="x")
    with pytest.raises(TransportError, match=r"DS9 numbered the new seed frame \d+, not 2"):
        show_products(
            SeqMovesAfterTheQuestions(ds9.t), ref, image.getvalue(), image.getvalue(),
            names=("s.fits", "m.fits"), frames=[1],
        )  # fmt: skip
    # the batch stopped at the check: one new frame, nothing loaded into it
    frames = ds9.frames()
    assert len(frames) == 2 and frames[0] == 1
    ds9.set(f"frame {frames[1]}")
    assert ds9.get("fits size") == "0 0"

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

"""The one overwrite policy (overwrite.refuse_to_replace): ds9claw's own products only."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.api import detect_file
from ds9claw.detect import DetectionParameters
from ds9claw.errors import OutputExistsError
from ds9claw.overwrite import is_ds9claw_product, refuse_to_replace
from ds9claw.products import output_paths

PARAMS = DetectionParameters(sigma=2, smooth=1, ignore_background=True)


def _fits(path, **cards):
    header = fits.Header()
    for key, value in cards.items():
        header[key] = value
    fits.PrimaryHDU(np.zeros((4, 4), np.float32), header=header).writeto(path)
    return path


def test_what_counts_as_a_ds9claw_product(tmp_path):
    ours = _fits(tmp_path / "ours.fits", CLAWSOFT="ds9claw", CLAWVER="0.1")
    assert is_ds9claw_product(ours)
    assert not is_ds9claw_product(_fits(tmp_path / "plain.fits"))
    assert not is_ds9claw_product(_fits(tmp_path / "noversion.fits", CLAWSOFT="ds9claw"))
    assert not is_ds9claw_product(_fits(tmp_path / "other.fits", CLAWSOFT="x", CLAWVER="1"))
    text = tmp_path / "notes.fits"
    text.write_text("my notes\n")
    assert not is_ds9claw_product(text)
    link = tmp_path / "link.fits"
    link.symlink_to(ours)
    assert not is_ds9claw_product(link)  # a link is never replaced as "ours"
    assert not is_ds9claw_product(tmp_path)
    assert not is_ds9claw_product(tmp_path / "missing.fits")


def test_refuse_to_replace(tmp_path):
    ours = _fits(tmp_path / "ours.fits", CLAWSOFT="ds9claw", CLAWVER="0.1")
    users = _fits(tmp_path / "users.fits")
    link = tmp_path / "link.fits"
    link.symlink_to(ours)
    refuse_to_replace([ours, tmp_path / "new.fits"], overwrite=False)
    with pytest.raises(OutputExistsError, match=r"users\.fits exists and was not written by"):
        refuse_to_replace([ours, users], overwrite=False)
    with pytest.raises(OutputExistsError, match="is a symbolic link: do this"):
        refuse_to_replace([link], overwrite=False, hint="do this")
    refuse_to_replace([users, link], overwrite=True)  # the operator allowed it


def test_detect_file_replaces_its_own_products_only(example_copy):
    paths = output_paths(example_copy.cal, "_claws_seed_image")
    first = detect_file(example_copy.cal, include=[example_copy.region], params=PARAMS)
    assert fits.getheader(first.mask_path)["CLAWSOFT"] == "ds9claw"
    again = detect_file(
        example_copy.cal,
        include=[example_copy.region],
        params=DetectionParameters(sigma=3, smooth=1, ignore_background=True),
    )
    assert fits.getheader(again.seed_path)["CLAWSIG"] == 3.0

    paths["mask"].write_bytes(b"the observer's own mask")
    seed_before = paths["seed"].read_bytes()
    with pytest.raises(OutputExistsError, match="was not written by ds9claw"):
        detect_file(example_copy.cal, include=[example_copy.region], params=PARAMS)
    assert paths["mask"].read_bytes() == b"the observer's own mask"
    assert paths["seed"].read_bytes() == seed_before  # all or nothing

    replaced = detect_file(
        example_copy.cal, include=[example_copy.region], params=PARAMS, overwrite=True
    )
    assert fits.getheader(replaced.mask_path)["CLAWSIG"] == 2.0

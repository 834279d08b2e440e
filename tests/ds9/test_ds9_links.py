"""Files written from the Claws menu never go through a link planted at their names."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ds9

VICTIM_BYTES = b"someone's file, not a snapshot\n"


def test_snapshot_replaces_planted_links_and_leaves_their_targets(ds9, example_copy, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM_BYTES)
    ds9.load(example_copy.cal)
    ds9.draw(example_copy.region.read_text())
    ds9.task("Detect claws")
    stem = example_copy.cal.name[: -len(".fits")]
    png = example_copy.cal.with_name(stem + "_claws.png")
    eps = example_copy.cal.with_name(stem + "_claws.eps")
    for name in (png, eps):
        name.symlink_to(victim)
    before = {p.name for p in example_copy.cal.parent.iterdir()}
    text = ds9.task("Save snapshot")
    assert "wrote" in text, text
    assert victim.read_bytes() == VICTIM_BYTES
    assert not png.is_symlink() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not eps.is_symlink() and eps.read_bytes().startswith(b"%!PS")
    assert {p.name for p in example_copy.cal.parent.iterdir()} == before  # no temporaries left

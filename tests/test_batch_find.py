"""``ds9claw find --jobs 2`` and ``--scheduler``: one task per group, the same region files."""

from __future__ import annotations

import pytest
from astropy.io import fits
from cluster_helpers import copy_tree, local_cluster, make_visits

from ds9claw.cli import main


@pytest.fixture(scope="module")
def two_groups(tmp_path_factory):
    """Two visits; the second one's headers say F150W, so find makes two groups."""
    root = tmp_path_factory.mktemp("batch_find") / "data"
    cals = make_visits(root, 2)
    for cal in cals[4:]:
        fits.setval(cal, "FILTER", value="F150W", ext=0)
    return root


def _find(root, *extra) -> int:
    files = sorted(str(p) for p in root.glob("v*/*_cal.fits"))
    return main(["-q", "find", *files, *extra])


def test_find_on_the_batch_runner_writes_the_same_regions(two_groups, tmp_path, capsys):
    runs = {}
    with local_cluster() as cluster:
        for name, extra in {
            "one": (),
            "two": ("-j", "2"),
            "dsk": ("--scheduler", cluster.scheduler_address),
        }.items():
            root = copy_tree(two_groups, tmp_path / name)
            assert _find(root, *extra) == 0
            runs[name] = (root, capsys.readouterr().out.replace(str(root), "ROOT"))
    reference, table = runs["one"]
    assert "NRCB1 F200W" in table and "NRCB1 F150W" in table
    regions = sorted(reference.rglob("*_claws.pix.reg"))
    assert len(regions) == 8
    assert sum(p.read_text().count("ds9claw candidate") for p in regions) > 0
    for name in ("two", "dsk"):
        root, text = runs[name]
        assert text == table
        for region in regions:
            assert (root / region.relative_to(reference)).read_text() == region.read_text()


def test_find_batch_refuses_existing_region_files_before_any_task(two_groups, tmp_path, capsys):
    root = copy_tree(two_groups, tmp_path / "data")
    first = sorted(root.glob("v1/*_cal.fits"))[0]
    drawn = first.with_name(first.stem + "_claws.pix.reg")
    drawn.write_text("# Region file format: DS9\nimage\ncircle(10,10,5)\n")
    assert _find(root, "-j", "2") == 1
    assert "exists (it may be drawn by hand): pass --overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in root.rglob("*.reg")) == [drawn.name]

"""``ds9claw preview --jobs 2`` and ``--scheduler``: the same files and report as in-process."""

from __future__ import annotations

import re

import pytest
from cluster_helpers import assert_same_fits, local_cluster
from preview_helpers.visit import make_visit

from ds9claw.cli import main

REGIONS = "{dir}/{stem}_claws.pix.reg"


@pytest.fixture(scope="module")
def two_filters(tmp_path_factory):
    """The preview visit, and two of its exposures again as F150W: two filter groups."""
    from stdatamodels.jwst import datamodels

    visit = make_visit(tmp_path_factory.mktemp("batch_preview"))
    files = list(visit.cal)
    for k in (1, 2):
        other = visit.cal[k].with_name(f"jw09999001001_02101_0002{k}_nrcb1_cal.fits")
        with datamodels.ImageModel(str(visit.cal[k])) as model:
            model.meta.instrument.filter = "F150W"
            model.to_fits(other, overwrite=True)
        other.with_name(f"{other.stem}_claws.pix.reg").write_bytes(visit.region[k].read_bytes())
        files.append(other)
    return files


def _preview(files, out, *extra) -> int:
    argv = ["-q", "preview", *map(str, files), "--mask", REGIONS, "--output-dir", str(out),
            "--quick", "--no-png", *extra]  # fmt: skip
    return main(argv)


def _report(text: str, out) -> str:
    return re.sub(r", [0-9.]+ s\)", ", T s)", text.replace(str(out), "OUT"))


def test_preview_on_the_batch_runner_matches_in_process(two_filters, tmp_path, capsys):
    outputs = {}
    with local_cluster() as cluster:
        engines = {
            "one": (),
            "two": ("--jobs", "2"),
            "dsk": ("--scheduler", cluster.scheduler_address),
        }
        for name, extra in engines.items():
            out = tmp_path / name
            assert _preview(two_filters, out, *extra) == 0
            outputs[name] = (out, _report(capsys.readouterr().out, out))
    reference, report = outputs["one"]
    assert report.count("exposures, mosaic") == 2 and "(F150W, 2 exposures" in report
    names = sorted(p.name for p in reference.iterdir())
    assert len(names) == 6  # before, after and holes of each filter
    for name in ("two", "dsk"):
        out, text = outputs[name]
        assert text == report
        assert sorted(p.name for p in out.iterdir()) == names
        for file in names:
            assert_same_fits(reference / file, out / file)

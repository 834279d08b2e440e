"""The naming room (ds9claw.names): one FITS-suffix rule, stems, datasets, templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from ds9claw.api import resolve_region_template
from ds9claw.commit import expand_mask_template
from ds9claw.names import (
    backup_path_for,
    dataset_name,
    product_names,
    snapshot_base,
    split_fits_name,
    stem_of,
    template_fields,
)
from ds9claw.products import output_paths


@pytest.mark.parametrize(
    ("name", "stem", "ext"),
    [
        ("X_cal.fits", "X_cal", ".fits"),
        ("X_cal.FITS.GZ", "X_cal", ".FITS.GZ"),
        ("X_cal.fit", "X_cal", ".fit"),
        ("X_cal.fts.gz", "X_cal", ".fts.gz"),
        ("X_cal.fits.fz", "X_cal.fits.fz", ""),
        ("X_claws.reg", "X_claws.reg", ""),
    ],
)
def test_one_fits_suffix_rule(name, stem, ext):
    assert split_fits_name(name) == (stem, ext)
    assert stem_of(f"/d/{name}") == stem


@pytest.mark.parametrize(
    ("name", "dataset"),
    [
        ("jw01_nrca1_rate.fits", "jw01_nrca1"),
        ("jw01_nrca1_cal.fts", "jw01_nrca1"),
        ("jw01_nrca1_rateints.fits.gz", "jw01_nrca1"),
        ("jw01_nrca1_calints.fits", "jw01_nrca1"),
        ("jw01_nrca1_i2d.fits", "jw01_nrca1"),
        ("jw01_nrca1_crf.fit", "jw01_nrca1"),
        ("image.fits", "image"),
    ],
)
def test_dataset_name(name, dataset):
    assert dataset_name(Path("/d") / name) == dataset


def test_region_and_mask_templates_fill_the_same_fields(tmp_path):
    image = tmp_path / "jw01_nrcb1_cal.fts"
    assert template_fields(image) == {
        "stem": "jw01_nrcb1_cal",
        "dataset": "jw01_nrcb1",
        "name": "jw01_nrcb1_cal.fts",
        "dir": str(tmp_path),
    }
    template = "{dir}/{dataset}-{stem}-{name}.x"
    expected = tmp_path / "jw01_nrcb1-jw01_nrcb1_cal-jw01_nrcb1_cal.fts.x"
    assert resolve_region_template(template, image) == expected
    assert expand_mask_template(template, image) == expected


def test_product_backup_and_snapshot_names(tmp_path):
    source = tmp_path / "X_cal.fts.gz"
    assert product_names("X_cal", "_s") == ("X_cal_s.fits", "X_cal_s_zeroonemask.fits")
    paths = output_paths(source, "_s", gzip=True)
    assert (paths["seed"].name, paths["mask"].name) == product_names("X_cal", "_s", ".fits.gz")
    backup = backup_path_for(tmp_path / "X_rate.fits.gz")
    assert backup.name == "X_rate_before_removing_claws.fits.gz"
    assert backup_path_for(tmp_path / "X_rate").name == "X_rate_before_removing_claws.fits"
    assert snapshot_base(source) == tmp_path / "X_cal_claws"


def test_free_backup_name_never_reuses_an_existing_backup(tmp_path):
    from ds9claw.names import free_backup_name

    drawn = tmp_path / "X_cal_claws.pix.reg"
    drawn.write_text("image\ncircle(1,1,1)\n")
    assert free_backup_name(drawn) == tmp_path / "X_cal_claws.pix.reg.bak"
    (tmp_path / "X_cal_claws.pix.reg.bak").write_text("older")
    (tmp_path / "X_cal_claws.pix.reg.bak1").symlink_to(tmp_path / "missing")
    assert free_backup_name(drawn) == tmp_path / "X_cal_claws.pix.reg.bak2"

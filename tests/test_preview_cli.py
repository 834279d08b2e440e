"""``ds9claw preview`` on the command line: files, report, one-line errors."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from astropy.io import fits
from preview_helpers.visit import make_visit

from ds9claw.cli import main

REGIONS = "{dir}/{stem}_claws.pix.reg"
PRODUCT = "jw09999-o001_nircam_clear-f200w"


@pytest.fixture(scope="module")
def visit(tmp_path_factory):
    return make_visit(tmp_path_factory.mktemp("cli_visit"))


def _digests(paths):
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def test_preview_writes_two_i2d_models_the_holes_and_the_png(visit, tmp_path, capsys):
    from stdatamodels.jwst import datamodels

    digests = _digests(visit.cal)
    out = tmp_path / "out"
    argv = ["preview", *map(str, visit.cal), "--mask", REGIONS, "--output-dir", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert _digests(visit.cal) == digests
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{PRODUCT}_{kind}" for kind in ("before_i2d.fits", "after_i2d.fits", "holes.fits",
                                         "preview.png")
    )  # fmt: skip
    with datamodels.open(out / f"{PRODUCT}_before_i2d.fits") as before, datamodels.open(
        out / f"{PRODUCT}_after_i2d.fits"
    ) as after:
        assert type(before).__name__ == type(after).__name__ == "ImageModel"
        assert before.meta.cal_step.resample == after.meta.cal_step.resample == "COMPLETE"
        assert before.meta.filename == f"{PRODUCT}_before_i2d.fits"
        assert before.data.shape == after.data.shape == (564, 558)
        lost = int(np.count_nonzero(after.wht < before.wht))
        assert lost > 5000
        holes = fits.getdata(out / f"{PRODUCT}_holes.fits")
        np.testing.assert_array_equal(holes.astype(bool), (before.wht > 0) & ~(after.wht > 0))
        assert np.isnan(after.data).sum() == np.isnan(before.data).sum()
    assert (out / f"{PRODUCT}_preview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{PRODUCT} (F200W, 4 exposures, mosaic 558 x 564" in captured.out
    assert "no holes" in captured.out and "suggestion" not in captured.out


def test_holes_are_reported_with_their_masks_and_a_suggestion(visit, tmp_path, capsys):
    # one 40 x 30 sky patch masked in every exposure: nothing covers it after
    for cal, (dx, dy) in zip(visit.cal, visit.offsets, strict=True):
        mask = np.zeros((visit.size, visit.size), np.uint8)
        mask[200 + dy : 230 + dy, 100 + dx : 140 + dx] = 1
        fits.PrimaryHDU(mask).writeto(tmp_path / f"{cal.stem}_box.fits")
    out = tmp_path / "out"
    argv = ["preview", *map(str, visit.cal), "--mask", f"{tmp_path}/{{stem}}_box.fits",
            "--output-dir", str(out), "--no-png", "--pixmap-stepsize", "4"]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    header = fits.getheader(out / f"{PRODUCT}_holes.fits")
    n_holes = int(fits.getdata(out / f"{PRODUCT}_holes.fits").sum())
    assert 30 * 20 < n_holes <= 41 * 31
    assert header["NHOLES"] == n_holes and header["NAREAS"] == 1
    assert f"holes: {n_holes} mosaic pixels ({n_holes * 0.031**2:.3g} arcsec^2) in 1 area" in text
    for cal in visit.cal:
        assert f"{cal.stem}_box.fits (" in text
    assert "suggestion: to fill them, make the masks smaller" in text
    assert not (out / f"{PRODUCT}_preview.png").exists()


def test_existing_output_is_refused_before_any_work(visit, tmp_path, capsys):
    existing = tmp_path / f"{PRODUCT}_after_i2d.fits"
    existing.write_bytes(b"keep me")
    argv = ["preview", *map(str, visit.cal), "--mask", REGIONS, "--output-dir", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "exists: pass --overwrite" in err
    assert existing.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing.name]


def test_cal_without_gwcs_is_a_one_line_error(example_small, tmp_path, capsys):
    argv = ["preview", str(example_small.cal), "--mask", str(example_small.region),
            "--output-dir", str(tmp_path)]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ds9claw: error: ") and err.count("\n") == 0
    assert "has no gwcs (meta.wcs): run calwebb_image2 (assign_wcs)" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sky-box", "53.16", "95", "10", "10"], "sky box"),
        (["--flags", "OTHER_BAD_PIXEL"], "must include DO_NOT_USE"),
        (["--mask", "{dir}/{stem}_missing.fits"], "_missing.fits (for "),
    ],
)
def test_bad_options_are_one_line_errors(visit, tmp_path, capsys, extra, message):
    masks = ["--mask", REGIONS] if extra[0] != "--mask" else []
    argv = ["preview", *map(str, visit.cal), *masks, *extra, "--output-dir", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
    assert list(tmp_path.iterdir()) == []


def test_help_names_the_options(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["preview", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for option in ("--mask", "--output-dir", "--pixel-scale-ratio", "--pixmap-stepsize",
                   "--sky-box", "--progress", "_holes.fits", "_preview.png"):  # fmt: skip
        assert option in text

"""Damaged inputs: cut files, a missing DQ, tabs and non-ASCII letters in file names.

Each damaged file must give one line naming it (no traceback), a non-zero exit and no
new file; names that FITS cannot hold are stored escaped instead of crashing.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from commit_helpers.factory import history_text, make_rate, write_mask

from ds9claw.api import provenance_cards
from ds9claw.detect import DetectionParameters
from ds9claw.errors import InputError
from ds9claw.fitscheck import check_complete, scan_fits
from ds9claw.fitsio import exposure_from_bytes
from ds9claw.names import printable_name
from ds9claw.region_parse import RegionSource


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    return env


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ds9claw", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=180,
    )


def _error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _offsets(path: Path) -> dict[str, tuple[int, int]]:
    """EXTNAME -> (header start, padded data end), as astropy reads a complete file."""
    out = {}
    with fits.open(path) as hdul:
        for hdu in hdul:
            info = hdu.fileinfo()
            out[hdu.name] = (info["hdrLoc"], info["datLoc"] + info["datSpan"])
    return out


def _cut(source: Path, target: Path, size: int) -> Path:
    shutil.copyfile(source, target)
    os.truncate(target, size)
    return target


@pytest.fixture
def damaged(example_small, tmp_path):
    """A folder with the example's region file and a mask made for it."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(example_small.region, folder / "r_claws.pix.reg")
    with fits.open(example_small.rate) as hdul:
        shape = hdul["SCI"].data.shape
    mask = np.zeros(shape, bool)
    mask[100:150, 200:300] = True
    write_mask(folder / "claws_mask.fits", mask)
    return example_small, folder


def test_rate_cut_in_half_refused_by_commit_and_detect(damaged):
    example, folder = damaged
    size = example.rate.stat().st_size
    rate = _cut(example.rate, folder / "half_rate.fits", size // 2)
    before, names = rate.read_bytes(), _listing(folder)
    dq_start, dq_end = _offsets(example.rate)["DQ"]
    assert dq_start < size // 2 < dq_end  # the cut lies inside the DQ data
    line = _error_line(_run("commit", str(rate), str(folder / "claws_mask.fits")))
    assert line.startswith(
        f"ds9claw: error: {rate} is truncated or damaged: the data of HDU 3 (DQ)"
    )
    assert "nothing was written" in line
    line = _error_line(
        _run("detect", str(rate), "--include-region", str(folder / "r_claws.pix.reg"))
    )
    assert f"{rate} is truncated or damaged" in line
    assert rate.read_bytes() == before
    assert _listing(folder) == names


def test_cal_cut_after_its_sci_refused_by_detect(damaged):
    example, folder = damaged
    sci_end = _offsets(example.cal)["SCI"][1]
    cal = _cut(example.cal, folder / "cut_cal.fits", sci_end)
    names = _listing(folder)
    result = _run("detect", str(cal), "--include-region", str(folder / "r_claws.pix.reg"))
    line = _error_line(result)
    assert line == (
        f"ds9claw: error: {cal} is a JWST ImageModel file without its last HDU (ASDF, after "
        "PRIMARY, SCI): it was cut short; nothing was written (copy or download the file again)"
    )
    assert "truncated" not in result.stdout.lower()
    assert _listing(folder) == names


def test_rate_missing_its_last_hdu_refused_by_commit(damaged):
    example, folder = damaged
    asdf_start = _offsets(example.rate)["ASDF"][0]
    rate = _cut(example.rate, folder / "short_rate.fits", asdf_start)
    before, names = rate.read_bytes(), _listing(folder)
    line = _error_line(_run("commit", str(rate), str(folder / "claws_mask.fits")))
    assert f"{rate} is a JWST ImageModel file without its last HDU (ASDF, after" in line
    assert "VAR_RNOISE)" in line
    assert rate.read_bytes() == before
    assert _listing(folder) == names  # no backup, no temporary file, no lock


def test_rate_without_dq_gives_one_line(damaged):
    example, folder = damaged
    rate = folder / "nodq_rate.fits"
    with fits.open(example.rate) as hdul:
        del hdul["DQ"]
        hdul.writeto(rate)
    before, names = rate.read_bytes(), _listing(folder)
    detect = _run("detect", str(rate), "--include-region", str(folder / "r_claws.pix.reg"))
    assert detect.returncode == 0, detect.stderr
    assert detect.stderr.splitlines()[0] == (
        f"ds9claw: {rate}: a JWST ImageModel file without a DQ extension (damaged?): every "
        "finite pixel is taken as valid"
    )
    for product in folder.glob("nodq_rate_claws_seed_image*.fits"):
        product.unlink()
    line = _error_line(_run("commit", str(rate), str(folder / "claws_mask.fits")))
    assert f"stdatamodels cannot open {rate.resolve()} (KeyError:" in line
    assert "the file is damaged" in line and "nothing was written" in line
    assert rate.read_bytes() == before
    assert _listing(folder) == names


def test_truncated_gzip_and_bytes_are_refused(example_small, tmp_path):
    raw = example_small.cal.read_bytes()
    packed = tmp_path / "x_cal.fits.gz"
    packed.write_bytes(gzip.compress(raw)[: len(gzip.compress(raw)) // 2])
    with pytest.raises(InputError, match="damaged or truncated gzip"):
        check_complete(packed)
    whole = tmp_path / "y_cal.fits.gz"
    whole.write_bytes(gzip.compress(raw))
    layout = check_complete(whole)
    assert layout.extnames[-1] == "ASDF" and layout.size == len(raw)
    # an image sent as bytes (DS9, SAMP download) cut short
    with pytest.raises(
        InputError, match=r"DS9 frame 1 is truncated or damaged: the data of HDU 2 \(ERR\) needs"
    ):
        exposure_from_bytes(raw[: len(raw) // 3], name="DS9 frame 1")


def test_scan_finds_cuts_in_headers_and_data(example_small):
    raw = example_small.rate.read_bytes()
    offsets = _offsets(example_small.rate)
    layout = scan_fits(io.BytesIO(raw), len(raw))
    assert layout.extnames == ("PRIMARY", "SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE", "ASDF")
    assert layout.size == len(raw) and layout.datamodel == "ImageModel"
    err_header = offsets["ERR"][0]
    with pytest.raises(ValueError, match="the file ends in the header of HDU 2"):
        scan_fits(io.BytesIO(raw[: err_header + 100]), err_header + 100)
    with pytest.raises(ValueError, match=r"HDU 6 \(ASDF\) needs"):
        scan_fits(io.BytesIO(raw[:-1]), len(raw) - 1)  # one byte of padding missing
    # the same checks work on a stream that cannot seek (gzip)
    with pytest.raises(
        ValueError, match=r"the data of HDU 3 \(DQ\) needs 1051200 bytes but only 1046200 are"
    ):
        scan_fits(io.BytesIO(raw[: offsets["DQ"][1] - 5000]), None)
    # bytes that do not start like FITS are left to the reader to name
    assert scan_fits(io.BytesIO(b"hello" * 1000), 5000).extnames == ()


def test_tab_and_non_ascii_names_are_stored_escaped(example_small, tmp_path):
    cal = tmp_path / "tab\tcafé_cal.fits"
    shutil.copy(example_small.cal, cal)
    region = tmp_path / "région\t1.reg"
    shutil.copy(example_small.region, region)
    result = _run("detect", str(cal), "--include-region", str(region), "--sigma", "2")
    assert result.returncode == 0, result.stderr
    seed = tmp_path / "tab\tcafé_cal_claws_seed_image.fits"
    header = fits.getheader(seed)
    assert header["CLAWINP"] == "tab\\tcaf\\xe9_cal.fits"
    assert codecs.decode(header["CLAWINP"], "unicode_escape") == cal.name
    assert header["CLAWIR01"] == "r\\xe9gion\\t1.reg"
    assert header["CLAWNPIX"] > 100

    rate = make_rate(tmp_path / "plain_rate.fits", (64, 64)).rename(
        tmp_path / "r\u00e9\tx_rate.fits"
    )
    mask = np.zeros((64, 64), bool)
    mask[5:20, 5:20] = True
    mask_file = write_mask(tmp_path / "m\u2013sk\t.fits", mask)
    result = _run("commit", str(rate), str(mask_file))
    assert result.returncode == 0, result.stderr
    history = history_text(rate)
    assert "maskm\\u2013sk\\t.fits(sha256" in "".join(history.split())
    assert fits.getheader(rate)["FILENAME"] == "r\\xe9\\tx_rate.fits"
    with fits.open(rate) as hdul:
        assert int(np.count_nonzero(hdul["DQ"].data[5:20, 5:20] & 1)) == 225


def test_printable_name_and_provenance_cards():
    assert printable_name("jw01_nrca1_cal.fits") == "jw01_nrca1_cal.fits"
    for name in ("a\tb.fits", "caf\u00e9.reg", "x\\y.fits", "line\nbreak", "bad\udcff.fits"):
        escaped = printable_name(name)
        assert escaped.isascii() and escaped.isprintable()
        assert codecs.decode(escaped, "unicode_escape") == name
    source = RegionSource(name="dir/\u00e9t\u00e9\t.reg", text="circle(10,10,3)\n")
    cards = provenance_cards(DetectionParameters(), source="/x/na\u00efve\t_cal.fits",
                             include=[source])  # fmt: skip
    values = {key: value for key, value, _ in cards}
    assert values["CLAWINP"] == "na\\xefve\\t_cal.fits"
    assert values["CLAWIR01"] == "\\xe9t\\xe9\\t.reg"
    header = fits.Header()
    for key, value, comment in cards:
        header[key] = (value, comment)  # every card is valid FITS
    assert len(header.tostring()) % 2880 == 0

"""``ds9claw detect`` as observers run it: products, provenance and every bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from ds9claw.cli import main

SEED_OPTIONS = [
    "--output-suffix",
    "_claws_seed_image",
    "--minpixarea",
    "1",
    "--ignore-background",
    "--sigma",
    "2",
    "--smooth",
    "1",
]


def _run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XPA_", "SAMP_"))}
    return subprocess.run(
        [sys.executable, "-m", "ds9claw", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def _files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def test_the_old_command_with_the_name_replaced(example_copy):
    """Same two files, same meaning as util_detect_source_and_create_seed_image.py."""
    directory = example_copy.cal.parent
    result = _run_cli(
        "detect",
        example_copy.cal.name,
        "--include-region",
        example_copy.region.name,
        *SEED_OPTIONS,
        "--overwrite",
        cwd=directory,
    )
    assert result.returncode == 0, result.stderr
    stem = example_copy.cal.name.removesuffix(".fits")
    seed_path = directory / f"{stem}_claws_seed_image.fits"
    mask_path = directory / f"{stem}_claws_seed_image_zeroonemask.fits"
    seed, seed_header = fits.getdata(seed_path, header=True)
    mask, mask_header = fits.getdata(mask_path, header=True)
    assert seed.dtype.kind == "f" and 0 < seed.max() <= 1 and seed.min() == 0
    assert set(np.unique(mask)) == {0, 1}
    assert np.array_equal(mask == 1, seed > 0)
    truth = example_copy.load_truth()
    assert (mask.astype(bool) & truth).sum() >= 0.99 * truth.sum()
    assert f"{int(mask.sum())} pixels masked" in result.stdout
    # the SCI header's WCS is kept, and provenance is recorded
    sci_header = fits.getheader(example_copy.cal, "SCI")
    for key in ("CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2", "CRPIX1", "PC1_1"):
        assert seed_header[key] == sci_header[key]
        assert mask_header[key] == sci_header[key]
    assert seed_header["CLAWSIG"] == 2.0 and seed_header["SMOOTH"] == 1.0
    assert seed_header["MPIXAREA"] == 1 and seed_header["CLAWIGNB"] is True
    assert seed_header["CLAWINP"] == example_copy.cal.name
    assert seed_header["CLAWIR01"] == example_copy.region.name
    import hashlib

    digest = hashlib.sha256(example_copy.region.read_bytes()).hexdigest()
    assert seed_header["CLAWIS01"] == digest
    assert seed_header["CLAWNPIX"] == int(mask.sum())
    assert seed_header["INSTRUME"] == "NIRCAM"


def test_gzip_output_dir_and_diagnostics(example_copy, tmp_path):
    out = tmp_path / "products"
    out.mkdir()
    code = main(
        [
            "detect",
            str(example_copy.cal),
            "--include-region",
            str(example_copy.region),
            *SEED_OPTIONS,
            "--gzip",
            "--save-diagnostics",
            "--output-dir",
            str(out),
            "-q",
        ]
    )
    assert code == 0
    stem = example_copy.cal.name.removesuffix(".fits") + "_claws_seed_image"
    expected = {
        f"{stem}{tail}.fits.gz"
        for tail in ("", "_zeroonemask", "_valid_pixels", "_bkg2d", "_rms2d")
    }
    assert _files(out) == expected
    with open(out / f"{stem}_zeroonemask.fits.gz", "rb") as handle:
        assert handle.read(2) == b"\x1f\x8b"
    mask = fits.getdata(out / f"{stem}_zeroonemask.fits.gz")
    valid = fits.getdata(out / f"{stem}_valid_pixels.fits.gz")
    assert mask.sum() > 1000 and valid.sum() > mask.sum() * 0.5
    assert not any(p.name.startswith(".") for p in out.iterdir())


def test_existing_output_needs_overwrite(example_copy):
    args = [
        "detect",
        str(example_copy.cal),
        "--include-region",
        str(example_copy.region),
        *SEED_OPTIONS,
        "-q",
    ]
    assert main(args) == 0
    stem = example_copy.cal.with_name(example_copy.cal.name.removesuffix(".fits"))
    seed_path = Path(f"{stem}_claws_seed_image.fits")
    # ds9claw's own earlier products are replaced without --overwrite
    result = _run_cli(*args[:-1], "--sigma", "3")
    assert result.returncode == 0, result.stderr
    assert fits.getheader(seed_path)["CLAWSIG"] == 3.0
    # a file ds9claw did not write is refused unless the operator allows it
    seed_path.write_bytes(b"SIMPLE  = T / the observer's own file\n")
    before = seed_path.read_bytes()
    result = _run_cli(*args[:-1], "--sigma", "2")
    assert result.returncode == 1
    assert "exists and was not written by ds9claw: pass --overwrite" in result.stderr
    assert "Traceback" not in result.stderr
    assert seed_path.read_bytes() == before
    assert main([*args, "--overwrite"]) == 0
    assert fits.getheader(seed_path)["CLAWSIG"] == 2.0


def test_batch_with_a_region_template_jobs_and_a_failure(example_small, tmp_path):
    for name in ("a", "b", "c"):
        shutil.copy2(example_small.cal, tmp_path / f"jw_{name}_cal.fits")
        if name != "c":  # c has no region file: it fails, the others go on
            shutil.copy2(example_small.region, tmp_path / f"jw_{name}_cal_claws.pix.reg")
    files = sorted(str(p) for p in tmp_path.glob("*_cal.fits"))
    result = _run_cli(
        "detect", *files, "--include-region", "{stem}_claws.pix.reg", *SEED_OPTIONS, "--jobs", "2"
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["file", "pixels", "status"]
    assert sum(" ok" in line for line in lines) == 2
    failed = [line for line in lines if "failed" in line]
    assert len(failed) == 1 and "jw_c_cal.fits" in failed[0] and "does not exist" in failed[0]
    assert "detect: 3/3" in result.stderr  # progress
    made = sorted(p.name for p in tmp_path.glob("*zeroonemask.fits"))
    assert made == [
        "jw_a_cal_claws_seed_image_zeroonemask.fits",
        "jw_b_cal_claws_seed_image_zeroonemask.fits",
    ]
    a = fits.getdata(tmp_path / made[0])
    b = fits.getdata(tmp_path / made[1])
    assert np.array_equal(a, b) and a.sum() > 1000


def test_help_for_every_level():
    result = _run_cli("--help")
    assert result.returncode == 0 and "detect" in result.stdout
    result = _run_cli("detect", "--help")
    assert result.returncode == 0
    for option in (
        "--minpixarea",
        "--min-area",
        "--smooth-after",
        "--smooth-cutoff",
        "--ignore-background",
        "--include-region",
        "--jobs",
    ):
        assert option in result.stdout


def _fits_file(path: Path, data, **kwargs) -> Path:
    fits.PrimaryHDU(data=data, **kwargs).writeto(path)
    return path


def _bad_cases(example: object, tmp: Path) -> dict[str, tuple[list[str], str]]:
    region = str(example.region)
    cube = _fits_file(tmp / "cube.fits", np.zeros((3, 32, 32), np.float32))
    nan = _fits_file(tmp / "nan.fits", np.full((64, 64), np.nan, np.float32))
    table = tmp / "table.fits"
    fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.BinTableHDU.from_columns([fits.Column(name="a", format="E", array=np.zeros(3))]),
        ]
    ).writeto(table)
    text = tmp / "not.fits"
    text.write_text("hello, I am not a FITS file\n")
    empty_region = tmp / "empty.reg"
    empty_region.write_text("")
    garbage_region = tmp / "garbage.reg"
    garbage_region.write_text("blah blah (((\n")
    outside = tmp / "outside.reg"
    outside.write_text("image\npolygon(5000,5000,5100,5000,5100,5100)\n")
    plain = _fits_file(tmp / "plain.fits", np.random.default_rng(0).normal(size=(64, 64)))
    sky = tmp / "sky.reg"
    sky.write_text('fk5\ncircle(53.16,-27.78,5")\n')
    cal = str(example.cal)
    return {
        "missing file": (
            [str(tmp / "nope_cal.fits"), "--include-region", region],
            "does not exist",
        ),
        "not FITS": ([str(text), "--include-region", region], "not a readable FITS"),
        "no 2-D image": ([str(table), "--include-region", region], "no 2-D image"),
        "3-D cube": ([str(cube), "--include-region", region], "3-D cube"),
        "all-NaN image": ([str(nan)], "no finite pixel"),
        "empty region file": (
            [cal, "--include-region", str(empty_region)],
            "no shape with an area",
        ),
        "garbage region file": ([cal, "--include-region", str(garbage_region)], "cannot read"),
        "region outside the image": ([cal, "--include-region", str(outside)], "entirely outside"),
        "sky region and no WCS": ([str(plain), "--include-region", str(sky)], "WCS"),
        "missing region file": ([cal, "--include-region", str(tmp / "no.reg")], "does not exist"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing file",
        "not FITS",
        "no 2-D image",
        "3-D cube",
        "all-NaN image",
        "empty region file",
        "garbage region file",
        "region outside the image",
        "sky region and no WCS",
        "missing region file",
    ],
)
def test_bad_input_is_one_line_exit_1_and_nothing_written(case, example_copy, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    args, message = _bad_cases(example_copy, bad)[case]
    before = _files(bad) | _files(example_copy.cal.parent)
    result = _run_cli("detect", *args, *SEED_OPTIONS)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ds9claw: error: "), result.stderr
    assert message in lines[0]
    assert _files(bad) | _files(example_copy.cal.parent) == before


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--sigma", "-2", "sigma must be a positive"),
        ("--minpixarea", "-1", "minpixarea"),
        ("--minpixarea", "12", "minpixarea counts neighbours"),
        ("--dq-invalid", "NOT_A_FLAG", "unknown DQ flag"),
    ],
)
def test_bad_parameters(option, value, message, example_copy):
    before = _files(example_copy.cal.parent)
    result = _run_cli(
        "detect", str(example_copy.cal), "--include-region", str(example_copy.region), option, value
    )
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert _files(example_copy.cal.parent) == before


def test_debug_shows_the_traceback(tmp_path):
    result = _run_cli("--debug", "detect", str(tmp_path / "nope_cal.fits"))
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "InputError" in result.stderr


def test_usage_error_is_exit_2():
    result = _run_cli("detect", "x.fits", "--sigma", "abc")
    assert result.returncode == 2
    result = _run_cli("detect")
    assert result.returncode == 2


def test_unwritable_output_directory(example_copy, tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc")  # root may write anywhere else
    else:
        target = tmp_path / "locked"
        target.mkdir()
        target.chmod(0o500)
    result = _run_cli(
        "detect",
        str(example_copy.cal),
        "--include-region",
        str(example_copy.region),
        "--output-dir",
        str(target),
        *SEED_OPTIONS,
    )
    assert result.returncode == 1
    assert "error:" in result.stderr and "Traceback" not in result.stderr
    assert "output-dir" in result.stderr
    assert not list(example_copy.cal.parent.glob("*seed_image*"))


def test_running_out_of_memory_is_one_line(example_small, tmp_path):
    """A MemoryError during the detection is one line, exit 1, and nothing is written."""
    code = (
        "import sys\n"
        "from ds9claw import api\n"
        "from ds9claw.cli import main\n"
        "def no_memory(*args, **kwargs):\n"
        "    raise MemoryError\n"
        "api.detect_claws = no_memory\n"
        f"sys.exit(main(['detect', {str(example_small.cal)!r}, '--include-region', "
        f"{str(example_small.region)!r}, '--output-dir', {str(tmp_path)!r}]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [
        "ds9claw: error: out of memory: give fewer files at a time or a lower --jobs, "
        "or raise the memory limit of this process (ulimit -v); nothing was replaced"
    ]
    assert list(tmp_path.iterdir()) == []

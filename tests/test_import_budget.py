"""A real ``ds9claw detect`` run in a fresh interpreter, then what it imported.

The existing check in test_package.py imports the modules; this one runs the command
itself (``ds9claw.cli.main`` on real files, products written) and inspects
``sys.modules`` afterwards, so a heavy import hidden inside a function on the path is
caught too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("jwst", "stdatamodels", "photutils", "regions", "astropy.wcs", "scipy", "dask")

_RUN = """
import json, sys
from ds9claw.cli import main
status = main(sys.argv[1:])
heavy = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"status": status, "heavy": heavy}}))
"""


def _detect_in_subprocess(*args: str, cwd) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CRDS_", "XPA_")) and k != "SAMP_HUB"
    }
    code = _RUN.format(heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", code, "detect", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_detect_command_imports_no_heavy_package(example_copy, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    report = _detect_in_subprocess(
        str(example_copy.cal), "--include-region", str(example_copy.region),
        "--ignore-background", "--sigma", "2", "--smooth", "1", "--output-dir", str(out),
        "-q", cwd=tmp_path,
    )  # fmt: skip
    assert report == {"status": 0, "heavy": []}
    written = sorted(p.name for p in out.iterdir())
    stem = example_copy.cal.name[: -len(".fits")]
    assert written == [f"{stem}_claws_seed_image.fits", f"{stem}_claws_seed_image_zeroonemask.fits"]

"""Package hygiene: style, no side effects at import, light imports on the hot path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "ds9claw", "tests", "benchmarks", "--output-format", "concise"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CRDS_", "XPA_")) and k != "SAMP_HUB"
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_importing_every_module_has_no_side_effects(tmp_path):
    """No files written, no environment changed, no logging configured at import."""
    code = """
import importlib, logging, os, pkgutil, sys
import ds9claw
before_env = dict(os.environ)
before_handlers = list(logging.getLogger().handlers)
names = [m.name for m in pkgutil.walk_packages(ds9claw.__path__, "ds9claw.")
         if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
assert dict(os.environ) == before_env, set(os.environ) ^ set(before_env)
assert logging.getLogger().handlers == before_handlers
assert logging.getLogger("ds9claw").handlers == []
print(len(names))
"""
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 10
    assert list(tmp_path.iterdir()) == []


def test_detect_path_keeps_heavy_packages_out(tmp_path):
    """The detection command never imports jwst, stdatamodels, photutils or regions
    for image-coordinate regions in --ignore-background mode."""
    code = """
import sys
from ds9claw.cli import build_parser
from ds9claw import api, detect, fitsio, products
from ds9claw import region_bridge, region_mask, region_parse, region_pixels, region_trace
heavy = [m for m in ("jwst", "stdatamodels", "photutils", "regions", "astropy.wcs", "scipy")
         if m in sys.modules]
print(",".join(heavy))
"""
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_every_public_module_declares_all():
    import importlib
    import pkgutil

    import ds9claw

    for module in pkgutil.walk_packages(ds9claw.__path__, "ds9claw."):
        if module.ispkg or module.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        loaded = importlib.import_module(module.name)
        assert hasattr(loaded, "__all__"), module.name
        for name in loaded.__all__:
            assert hasattr(loaded, name), f"{module.name}.{name}"

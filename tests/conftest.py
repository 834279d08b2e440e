"""Shared fixtures: a clean environment for every test, and example exposures."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

#: Real files from the observers' workflow, carried by the test suite (see data/README.md).
DATA = Path(__file__).resolve().parent / "data"
REAL_REGIONS = DATA / "real_regions"
REAL_MASKS = DATA / "real_masks"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Keep the developer's CRDS, SAMP and XPA settings out of every test."""
    for key in list(os.environ):
        if key.startswith(("CRDS_", "XPA_")) or key in ("SAMP_HUB", "DASK_SCHEDULER_ADDRESS"):
            monkeypatch.delenv(key, raising=False)


def _example(tmp_path_factory, name: str, **kwargs):
    from ds9claw.example import make_example

    directory = tmp_path_factory.mktemp(name)
    return make_example(directory, **kwargs)


@pytest.fixture(scope="session")
def example_small(tmp_path_factory):
    """A 512 x 512 sky-subtracted example (cal, rate, region, truth); do not modify."""
    return _example(tmp_path_factory, "example_small", size=512, sky=0.0)


@pytest.fixture(scope="session")
def example_small_sky(tmp_path_factory):
    """A 512 x 512 example that keeps a 0.25 MJy/sr sky with a gradient; do not modify."""
    return _example(tmp_path_factory, "example_small_sky", size=512, sky=0.25)


@pytest.fixture(scope="session")
def example_full(tmp_path_factory):
    """The full 2048 x 2048 sky-subtracted example; do not modify."""
    return _example(tmp_path_factory, "example_full", size=2048, sky=0.0)


@pytest.fixture(scope="session")
def example_full_sky(tmp_path_factory):
    """The full 2048 x 2048 example with a 0.25 MJy/sr sky; do not modify."""
    return _example(tmp_path_factory, "example_full_sky", size=2048, sky=0.25)


@pytest.fixture
def example_copy(example_small, tmp_path):
    """A private copy of the small example that a test may change."""
    from ds9claw.example import ExampleFiles

    copied = {}
    for field in ("cal", "rate", "region", "truth"):
        source = getattr(example_small, field)
        target = tmp_path / source.name
        shutil.copy2(source, target)
        copied[field] = target
    return ExampleFiles(dataset=example_small.dataset, **copied)


@pytest.fixture(scope="session")
def real_region_files():
    """Every DS9 region file drawn by observers on real NIRCam exposures."""
    files = sorted(REAL_REGIONS.glob("*.reg"))
    assert len(files) > 100, f"expected the real region files under {REAL_REGIONS}"
    return files


@pytest.fixture(scope="session")
def example_visit_small(tmp_path_factory):
    """A 512 x 512 dithered visit of 4 exposures with claws (ds9claw find); do not modify."""
    from ds9claw.example_visit import make_example_visit

    return make_example_visit(tmp_path_factory.mktemp("example_visit"), size=512)


@pytest.fixture(scope="session")
def example_visit_small_no_claws(tmp_path_factory):
    """The same visit without claws; do not modify."""
    from ds9claw.example_visit import make_example_visit

    return make_example_visit(tmp_path_factory.mktemp("example_visit_nc"), size=512, claws=False)

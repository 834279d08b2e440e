"""A small dithered visit for the preview tests, made from ds9claw's synthetic example.

Every exposure is a copy of one example with its reference pixel moved by a whole
number of pixels (the sky moves, the claw stays on the detector, as a claw from a star
outside the field does for small dithers), a gwcs and ``S_REGION`` from that FITS WCS
by ds9claw's one gwcs builder (`ds9claw.gwcs_from_fits.attach_fits_gwcs`, the same
builder `ds9claw.example_visit` uses), and the example's region file under its own name.

Why the preview tests do not use `ds9claw.example_visit.make_example_visit` (yet):

* its dithers are fractional and partly negative (the scaled 2048-pixel pattern); the
  exact-holes tests (``_aligned_grid``, ``_expected_coverage``) need whole, non-negative
  pixel offsets so that every mosaic pixel overlaps exactly 2 x 2 pixels of each
  exposure, and their counts (the corner strip, 29 x 19) follow from `DITHERS`;
* it writes no region files (its candidates are for ``ds9claw find``), while the preview
  tests mask with ``{stem}_claws.pix.reg`` regions that must cover every claw of every
  exposure, the one-dither arc and the per-dither jitter included, for the claw residual
  to drop below 0.01 sigma;
* the mosaic sizes the tests check (558 x 564) come from `DITHERS`.

Meeting these would take two options of ``make_example_visit`` (given whole-pixel
offsets, and region files drawn around each exposure's claws) and new expected numbers
in the tests; until then this stand-in stays.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ds9claw.example import make_example

#: Dither offsets in detector pixels (dx, dy) of the test visit.
DITHERS = ((0, 0), (37, 11), (9, 41), (46, 52))


@dataclass(frozen=True)
class Visit:
    cal: tuple[Path, ...]
    rate: tuple[Path, ...]
    region: tuple[Path, ...]
    truth: tuple[Path, ...]
    offsets: tuple[tuple[int, int], ...]
    size: int


def dataset(index: int) -> str:
    return f"jw09999001001_02101_{index + 1:05d}_nrcb1"


def make_visit(
    directory: Path, *, size: int = 512, seed: int = 0, claw_snr: float = 3.5, dithers=DITHERS
) -> Visit:
    """Write len(dithers) cal/rate/region/truth sets with shifted WCS into ``directory``."""
    from stdatamodels.jwst import datamodels

    from ds9claw.gwcs_from_fits import attach_fits_gwcs

    source = make_example(directory / "source", size=size, seed=seed, claw_snr=claw_snr)
    cal, rate, region, truth = [], [], [], []
    for index, (dx, dy) in enumerate(dithers):
        name = dataset(index)
        for kind, path, out in (("cal", source.cal, cal), ("rate", source.rate, rate)):
            target = directory / f"{name}_{kind}.fits"
            with datamodels.ImageModel(str(source.cal if kind == "cal" else path)) as model:
                if kind == "rate":
                    model = datamodels.ImageModel(str(path))
                model.meta.wcsinfo.crpix1 += dx
                model.meta.wcsinfo.crpix2 += dy
                model.meta.filename = target.name
                if kind == "cal":
                    attach_fits_gwcs(model)
                model.to_fits(target, overwrite=True)
            out.append(target)
        region_target = directory / f"{name}_cal_claws.pix.reg"
        shutil.copy(source.region, region_target)
        region.append(region_target)
        truth_target = directory / f"{name}_claw_truth.fits"
        shutil.copy(source.truth, truth_target)
        truth.append(truth_target)
    shutil.rmtree(directory / "source")
    return Visit(tuple(cal), tuple(rate), tuple(region), tuple(truth), tuple(dithers), size)


def box_mask(shape, x0, y0, x1, y1) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask

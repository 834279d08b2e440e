"""A small dithered visit for the preview tests, made from ds9claw's synthetic example.

Every exposure is a copy of one example with its reference pixel moved by a whole
number of pixels (the sky moves, the claw stays on the detector, as a claw from a star
outside the field does for small dithers), a gwcs from that FITS WCS
(`ds9claw.gwcs_from_fits`), and the example's region file under its own name.
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

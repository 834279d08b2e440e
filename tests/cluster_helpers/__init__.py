"""A real dask.distributed LocalCluster for the batch and survey tests, and small visits."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import numpy as np
from astropy.io import fits

#: Header cards that hold the time a file was written (the only ones allowed to differ).
TIME_CARDS = ("DATE", "CLAWDATE", "CHECKSUM", "DATASUM")


@contextlib.contextmanager
def local_cluster(n_workers: int = 2):
    """Two worker processes on the loopback, one thread each, HTTP on a free port, one retry."""
    import dask
    from distributed import LocalCluster

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",  # a free port: 8787 may be taken by another cluster
            silence_logs=50,
        ) as cluster,
    ):
        yield cluster


def make_visits(directory: Path, n_visits: int, size: int = 256) -> list[Path]:
    """``n_visits`` dithered visits of 4 exposures (cal and rate files) in ``directory``."""
    from ds9claw.example_visit import make_example_visit

    directory.mkdir(parents=True, exist_ok=True)
    cals = []
    for k in range(n_visits):
        folder = directory / f"v{k}"
        visit = make_example_visit(folder, size=size, seed=k)
        for exposure in visit.exposures:
            exposure.truth.unlink()
            # visit k+1 of program 9999, observation 1: jw09999001<visit>_...
            for path in (exposure.cal, exposure.rate):
                path.rename(
                    path.with_name(path.name.replace("jw09999001001", f"jw09999001{k + 1:03d}"))
                )
            cals.append(
                folder / exposure.cal.name.replace("jw09999001001", f"jw09999001{k + 1:03d}")
            )
    return cals


def copy_tree(source: Path, target: Path) -> Path:
    """A private copy of a directory of exposures."""
    shutil.copytree(source, target)
    return target


def write_box_regions(cals, template: str = "{stem}_box.reg") -> None:
    """A DS9 box region over the middle of each exposure (image coordinates)."""
    for cal in cals:
        stem = cal.name.removesuffix(".fits")
        cal.with_name(template.format(stem=stem)).write_text(
            "# Region file format: DS9\nimage\nbox(128,128,120,120,0)\n"
        )


def assert_same_fits(a: Path, b: Path) -> None:
    """Pixels and headers equal, but for the cards holding time stamps."""
    with fits.open(a) as ha, fits.open(b) as hb:
        assert [h.name for h in ha] == [h.name for h in hb]
        for x, y in zip(ha, hb, strict=True):
            if x.name == "ASDF":  # the datamodel tree: equal but for its date
                assert _asdf_lines(x) == _asdf_lines(y), f"{a.name}: ASDF trees differ"
            elif x.data is not None or y.data is not None:
                np.testing.assert_array_equal(np.asarray(x.data), np.asarray(y.data))
            cards_x = [
                (c.keyword, str(c.value)) for c in x.header.cards if c.keyword not in TIME_CARDS
            ]
            cards_y = [
                (c.keyword, str(c.value)) for c in y.header.cards if c.keyword not in TIME_CARDS
            ]
            assert cards_x == cards_y, f"{a.name} {x.name}: headers differ"


def _asdf_lines(hdu) -> list[str]:
    text = bytes(np.asarray(hdu.data["ASDF_METADATA"][0])).decode("utf-8", "replace")
    # time stamps, and the hash of the FITS part (which holds the DATE card)
    stamps = ("date:", "time: '", "_fits_hash:")
    lines = [line for line in text.splitlines() if not any(s in line for s in stamps)]
    # the ASDF extensions used are listed in the order a process first used them
    if "  extensions:" in lines:
        start = lines.index("  extensions:") + 1
        end = start
        while end < len(lines) and lines[end].startswith(("  -", "    ")):
            end += 1
        entries = "\n".join(lines[start:end]).split("  - ")
        lines[start:end] = sorted(e.strip() for e in entries if e.strip())
    return lines


def _cards(header) -> list[tuple[str, str]]:
    return [(c.keyword, str(c.value)) for c in header.cards if c.keyword not in TIME_CARDS]


def history_entries(path: Path) -> int:
    """How many ds9claw commits a rate file's history records."""
    with fits.open(path) as hdul:
        text = "".join(str(v) for v in hdul[0].header.get("HISTORY", []))
    return text.count("Removed claws with ds9claw")

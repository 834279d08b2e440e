"""Benchmark ``ds9claw preview`` against two plain jwst ``ResampleStep`` runs.

Targets (issue 10), on a 4-exposure 2048 x 2048 dithered visit:

* ``preview`` at full resolution takes at most 1.3 times two plain ``ResampleStep``
  runs on the same files;
* a quick look takes at most a third of that.

The visit: four copies of the 2048 x 2048 example with whole-pixel dithers (the
tests' visit, `tests/preview_helpers/visit.py`, scaled by 4), each with a gwcs made
from its FITS WCS; the masks are the examples' claw region files.

Prints, in one warm process (jwst imported and one small resample done first), the
median of ``--repeat`` interleaved rounds of ``plain x2``, ``preview (API)`` and
``--quick`` (the machine may be shared: each round times the three under about the same
load), and one run of each of the others:

* ``plain x2``: ``ResampleStep().run(ModelLibrary(files))`` twice (reads the files each
  time, as two image3 runs would);
* ``preview (API)``: `ds9claw.preview.preview_mosaics` (reads, masks, two resamples,
  holes) at full resolution;
* ``preview (files)``: the same plus `ds9claw.preview_io.write_preview` (two i2d files,
  the holes and the PNG), which is what the command does;
* ``--quick`` (``--pixel-scale-ratio 2 --pixmap-stepsize 4``, pixels twice as big, and
  no ERR/VAR/CON arrays or header blending), the same grid without ``--quick``, and, as
  the issue wrote it, ``--pixel-scale-ratio 0.5 --pixmap-stepsize 4`` (jwst's
  ratio is output over input pixel scale, so 0.5 gives four times the pixels).

Usage::

    python benchmarks/bench_preview.py             # 2048 x 2048, median of 3 rounds
    python benchmarks/bench_preview.py --size 1024 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _visit(directory: Path, size: int):
    sys.path.insert(0, str(ROOT / "tests"))
    from preview_helpers.visit import DITHERS, make_visit

    scale = size // 512
    dithers = tuple((dx * scale, dy * scale) for dx, dy in DITHERS)
    return make_visit(directory, size=size, dithers=dithers)


def _plain_twice(paths) -> None:
    from jwst.datamodels import ModelLibrary
    from jwst.resample import ResampleStep

    for _ in range(2):
        result = ResampleStep().run(ModelLibrary([str(p) for p in paths], on_disk=False))
        result.close()


def _timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2048, help="pixels on a side (512..2048)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds")
    parser.add_argument(
        "--no-extras", action="store_true", help="skip the single runs (files, other grids)"
    )
    args = parser.parse_args()

    import logging

    logging.getLogger("stpipe").setLevel(logging.WARNING)
    logging.getLogger("jwst").setLevel(logging.WARNING)
    logging.getLogger("stcal").setLevel(logging.WARNING)

    from ds9claw.preview import QUICK_LOOK, preview_mosaics
    from ds9claw.preview_io import write_preview

    with tempfile.TemporaryDirectory(prefix="bench_preview_") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        visit = _visit(workdir / "visit", args.size)
        print(f"visit: {len(visit.cal)} x {args.size}^2 written in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        template = "{dir}/{stem}_claws.pix.reg"
        # warm up: imports, ASDF schemas, drizzle
        _plain_twice(visit.cal[:1])
        out = workdir / "out"

        def api(**options):
            for pair in preview_mosaics(visit.cal, template, **options):
                pair.before.close()
                pair.after.close()

        def with_files():
            for pair in preview_mosaics(visit.cal, template):
                write_preview(pair, out, overwrite=True)

        # interleaved rounds: the machine is shared, so each round times every variant
        # under about the same load
        rounds = {
            "plain ResampleStep x2": lambda: _plain_twice(visit.cal),
            "preview (API, full resolution)": api,
            "quick look (--quick)": lambda: api(quick=True, **QUICK_LOOK),
        }
        once = {
            "preview (files + PNG, full resolution)": with_files,
            "ratio 2, stepsize 4 (no --quick)": lambda: api(**QUICK_LOOK),
            "issue's ratio 0.5, stepsize 4": lambda: api(pixel_scale_ratio=0.5, pixmap_stepsize=4),
        }
        times: dict[str, list[float]] = {label: [] for label in rounds}
        for index in range(args.repeat):
            for label, function in rounds.items():
                times[label] += _timed(function, 1)
            done = ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items())
            print(f"round {index + 1}: {done}", flush=True)
        if not args.no_extras:
            for label, function in once.items():
                times[label] = _timed(function, 1)
        print()
        results = {label: statistics.median(values) for label, values in times.items()}
        plain = results["plain ResampleStep x2"]
        for label, value in results.items():
            spread = ", ".join(f"{t:.1f}" for t in times[label])
            print(f"{label:<40} median {value:7.2f} s ({spread})  {value / plain:5.2f} x plain x2")
        ratios = [p / q for p, q in zip(times["preview (API, full resolution)"],
                                        times["plain ResampleStep x2"], strict=True)]  # fmt: skip
        full = results["preview (API, full resolution)"]
        quick = results["quick look (--quick)"]
        print(f"full preview / plain x2: {full / plain:.2f} (per round: "
              f"{', '.join(f'{r:.2f}' for r in ratios)}; target <= 1.3)")  # fmt: skip
        print(f"quick look / full preview: {quick / full:.2f} (target <= 0.33)")
        print(f"quick look / plain x2: {quick / plain:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

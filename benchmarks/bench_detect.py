"""Benchmark ``ds9claw detect`` on the 2048 x 2048 example (issue: detection engine).

Targets on a 2-core machine, seed parameters (--sigma 2 --smooth 1 --minpixarea 1
--ignore-background) with the example's claw region:
  * the whole ``ds9claw detect`` process: at most 0.6 s wall and 250 MiB peak RSS
    (the old script: about 2.1 s and 565 MiB);
  * the in-process detection on the region (``detect_claws``): at most 50 ms.

Run:  .venv/bin/python benchmarks/bench_detect.py [--repeat N] [--check]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = ["--minpixarea", "1", "--ignore-background", "--sigma", "2", "--smooth", "1"]
BACKGROUND_MODE = ["--minpixarea", "1", "--sigma", "2", "--smooth", "1"]
TARGETS = {"process_wall_s": 0.6, "process_peak_mib": 250.0, "detect_claws_ms": 50.0}


def _process_run(cal: Path, region: Path, extra: list[str]) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of one ``ds9claw detect`` process."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ds9claw",
            "detect",
            str(cal),
            "--include-region",
            str(region),
            *extra,
            "--overwrite",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"ds9claw detect failed with status {child.returncode}")
    return wall, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()

    from ds9claw.detect import DetectionParameters, detect_claws
    from ds9claw.dq import valid_pixel_mask
    from ds9claw.example import example_paths
    from ds9claw.fitsio import read_exposure
    from ds9claw.region_mask import region_masks
    from ds9claw.region_parse import RegionSource

    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # the examples are made in child processes: a large parent would inflate the
        # children's peak RSS (fork copies the parent's resident pages into the count)
        sky_dir = Path(tmp) / "sky"
        for directory, sky in ((Path(tmp), "0"), (sky_dir, "0.25")):
            subprocess.run(
                [sys.executable, "-m", "ds9claw", "example", str(directory), "--sky", sky],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        example = example_paths(tmp)
        example_sky = example_paths(sky_dir)
        _process_run(example.cal, example.region, SEED)  # warm the page cache
        runs = [_process_run(example.cal, example.region, SEED) for _ in range(args.repeat)]
        results["process_wall_s"] = statistics.median(wall for wall, _ in runs)
        results["process_peak_mib"] = max(peak for _, peak in runs)
        bg_walls = [
            _process_run(example_sky.cal, example_sky.region, BACKGROUND_MODE)[0] for _ in range(3)
        ]
        results["process_background_mode_wall_s"] = statistics.median(bg_walls)

        exposure = read_exposure(example.cal)
        include, _ = region_masks(exposure.shape, [RegionSource.from_file(example.region)])
        valid = valid_pixel_mask(exposure.image, exposure.dq)
        params = DetectionParameters(sigma=2, minpixarea=1, smooth=1, ignore_background=True)
        detect_claws(exposure.image, valid=valid, include=include, params=params)
        times = []
        for _ in range(max(args.repeat, 10)):
            start = time.perf_counter()
            detect_claws(exposure.image, valid=valid, include=include, params=params)
            times.append(time.perf_counter() - start)
        results["detect_claws_ms"] = 1000 * statistics.median(times)
        start = time.perf_counter()
        region_masks(exposure.shape, [RegionSource.from_file(example.region)])
        results["region_mask_ms"] = 1000 * (time.perf_counter() - start)

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    failed = False
    for name, value in results.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            ok = value <= target
            failed |= not ok
            verdict = f"(target <= {target:g}: {'ok' if ok else 'MISSED'})"
        print(f"{name:34s} {value:9.3f} {verdict}")
    return 1 if (args.check and failed) else 0


if __name__ == "__main__":
    raise SystemExit(main())

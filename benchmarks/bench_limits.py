"""Benchmark the worst inputs the limits accept (issue 14: inputs that cost gigabytes).

Each case is one ``ds9claw detect`` process on the 2048 x 2048 example, measured for
wall time, CPU time and peak RSS (``wait4``); the budget for every accepted case is
10 s of CPU time and 1 GiB (wall time equals CPU time on an idle machine; on a shared
one it also counts the waiting, and the load average is printed).  Cases just over
a limit are run too: they must be refused (non-zero exit) quickly.  The limits are in
``ds9claw/region_limits.py`` and ``ds9claw/detect.py``.

Run:  .venv/bin/python benchmarks/bench_limits.py [--check] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BUDGET_S = 10.0
BUDGET_MIB = 1024.0
SIZE = 2048


def _star(n: int, decimals: int = 4) -> str:
    """An n-vertex wavy ring around the image centre (short edges)."""
    rng = np.random.default_rng(1)
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = SIZE * 0.45 * (0.8 + 0.2 * np.sin(37 * t)) + rng.uniform(-3, 3, n)
    xy = np.column_stack([SIZE / 2 + r * np.cos(t), SIZE / 2 + r * np.sin(t)])
    return "polygon(" + ",".join(f"{v:.{decimals}f}" for v in xy.ravel()) + ")"


def _zigzag(n: int) -> str:
    """n vertices alternating between the bottom and top rows: every edge spans the image."""
    xs = np.linspace(1, SIZE, n)
    ys = np.where(np.arange(n) % 2, 0.5, SIZE + 0.5)
    return "polygon(" + ",".join(f"{x:.3f},{y}" for x, y in zip(xs, ys, strict=True)) + ")"


def _cases() -> dict[str, tuple[str, list[str], bool]]:
    """name -> (region text, extra options, accepted?)."""
    from ds9claw.detect import MAX_MEDIAN_FILTER, MAX_SMOOTH
    from ds9claw.raster import CROSSING_COST
    from ds9claw.region_limits import (
        MAX_RASTER_WORK,
        MAX_REGION_SHAPES,
        MAX_REGION_VERTICES,
        MAX_REGIONS_BOX,
        MAX_SKY_VERTICES,
    )

    seed = ["--ignore-background", "--sigma", "2", "--smooth", "1"]
    window = SIZE * (SIZE + 1)  # bounding-box work of a full-frame polygon
    n_zigzag = (MAX_RASTER_WORK - window) // (CROSSING_COST * SIZE) - 100
    full_ellipse = SIZE * SIZE
    n_ellipses = MAX_RASTER_WORK // full_ellipse
    ellipses = "\n".join(
        f"ellipse(1024,1024,{3000 + i},{2500 + i},{i * 7})" for i in range(n_ellipses)
    )
    radius = int((MAX_REGIONS_BOX**0.5 - 2) / 2)
    n_annuli = MAX_RASTER_WORK // (2 * (2 * radius + 1) ** 2)
    annuli = "\n".join(
        f"annulus(1024,1024,{radius - 300 - i},{radius - i})" for i in range(n_annuli)
    )
    circles = "\n".join(
        f"circle({20 + (i % 100) * 20},{20 + (i // 100) * 20},6)" for i in range(MAX_REGION_SHAPES)
    )
    t = np.linspace(0, 2 * np.pi, MAX_SKY_VERTICES, endpoint=False)
    sky = (
        "polygon("
        + ",".join(f"{53.16 + 0.008 * np.cos(a):.8f},{-27.78 + 0.008 * np.sin(a):.8f}" for a in t)
        + ")"
    )
    frame = f"box({SIZE / 2 + 0.5},{SIZE / 2 + 0.5},{SIZE},{SIZE},0)"
    return {
        "example region (reference)": ("", seed, True),
        "400,000-vertex ring (7.6 MB file)": (_star(400_000), seed, True),
        f"{MAX_REGION_VERTICES:,}-vertex ring": (_star(MAX_REGION_VERTICES, 0), seed, True),
        f"zig-zag, {n_zigzag:,} full-height edges": (_zigzag(n_zigzag), seed, True),
        f"{n_ellipses} ellipses covering the image": (ellipses, seed, True),
        f"{n_annuli} annuli (regions package), bbox {(2 * radius + 1) ** 2:,} px": (
            annuli,
            seed,
            True,
        ),
        f"{MAX_REGION_SHAPES:,} small circles": (circles, seed, True),
        f"fk5 polygon, {MAX_SKY_VERTICES:,} vertices": (f"fk5\n{sky}", seed, True),
        f"full frame, median filter {MAX_MEDIAN_FILTER}, background mode": (
            frame,
            ["--sigma", "2", "--median-filter", str(MAX_MEDIAN_FILTER)],
            True,
        ),
        f"full frame, smoothing {MAX_SMOOTH:g} before and after": (
            frame,
            [
                "--sigma",
                "2",
                "--ignore-background",
                "--smooth-in-advance",
                f"{MAX_SMOOTH:g}",
                "--smooth",
                f"{MAX_SMOOTH:g}",
            ],
            True,
        ),
        "refused: zig-zag over the work limit": (_zigzag(n_zigzag + 1000), seed, False),
        "refused: one shape too many": (circles + "\ncircle(5,5,2)", seed, False),
        "refused: median filter 102": (frame, ["--median-filter", "102"], False),
    }


def _run(cal: Path, region: Path, extra: list[str], out: Path) -> tuple[float, float, float, int]:
    """Wall time, CPU time, peak RSS (MiB) and exit status of one ``ds9claw detect``."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "ds9claw", "detect", str(cal), "--include-region", str(region),
         *extra, "--output-dir", str(out), "--overwrite", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    assert child.stderr is not None
    child.stderr.close()
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a budget is missed")
    parser.add_argument("--only", nargs="*", default=None, help="run cases containing these words")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # the example is made in a child process so that this process stays small
        subprocess.run(
            [sys.executable, "-m", "ds9claw", "example", tmp, "--size", str(SIZE)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cal = next(tmp_path.glob("*_cal.fits"))
        example_region = next(tmp_path.glob("*.reg"))
        out = tmp_path / "out"
        out.mkdir()
        print(
            f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
        )
        print(f"budget for accepted inputs: {BUDGET_S:g} s, {BUDGET_MIB:g} MiB peak RSS")
        print(f"{'case':58s} {'bytes':>9s} {'wall s':>7s} {'cpu s':>6s} {'MiB':>6s} {'rc':>3s}")
        for name, (text, extra, accepted) in _cases().items():
            if args.only and not any(word in name for word in args.only):
                continue
            if text:
                region = tmp_path / "case.reg"
                body = text if text.startswith(("fk5", "image")) else f"image\n{text}"
                region.write_text(f"# Region file format: DS9 version 4.1\n{body}\n")
            else:
                region = example_region
            wall, cpu, peak, status = _run(cal, region, extra, out)
            # CPU time is the figure to hold against the budget on a shared machine (wall
            # time there includes waiting for the other processes)
            if accepted:
                ok = status == 0 and cpu <= BUDGET_S and peak <= BUDGET_MIB
            else:
                ok = status != 0 and cpu <= BUDGET_S
            failed |= not ok
            size = region.stat().st_size
            verdict = "ok" if ok else "MISSED"
            print(f"{name:58s} {size:9d} {wall:7.2f} {cpu:6.2f} {peak:6.0f} {status:3d} {verdict}")
    return 1 if (args.check and failed) else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark ``ds9claw commit`` on full 2048 x 2048 NIRCam rate files.

Target (issue): one 2048 x 2048 rate file, backup and verification included, at most
1.0 s wall on a 2-core machine (measured in-process with the imports warm); a batch of
100 such files scales with ``--jobs``.

Prints:

* ``in-process``: `ds9claw.commit.commit_mask` on a fresh copy of the rate file, in a
  process that has imported ds9claw/stdatamodels and done one commit before (the ASDF
  schemas are loaded once per process), median and worst of ``--repeat`` runs;
* ``first commit after import``: the same in a new process right after the imports
  (includes loading the ASDF extensions and schemas, about 0.5-1 s);
* ``whole process``: ``python -m ds9claw commit RATE MASK`` wall time;
* ``batch``: ``python -m ds9claw commit <N files> --mask TEMPLATE --jobs J`` wall time.

Usage::

    python benchmarks/bench_commit.py                 # everything, batch of 100
    python benchmarks/bench_commit.py --batch 20      # smaller batch
    python benchmarks/bench_commit.py --batch 0       # single-file numbers only

The batch needs about 17 GB of free disk for 100 files (each 84 MB file and its backup).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE = 2048


def _prepare(workdir: Path) -> tuple[Path, Path, int]:
    """A 2048 x 2048 example rate file and its claw mask (``.fits.gz``)."""
    from astropy.io import fits

    from ds9claw.example import make_example

    files = make_example(workdir / "example", size=SIZE)
    truth = files.load_truth()
    mask = workdir / f"{files.dataset}_cal_claws_seed_image_zeroonemask.fits.gz"
    hdu = fits.PrimaryHDU(truth.astype("uint8"))
    with gzip.open(mask, "wb") as handle:
        hdu.writeto(handle)
    return files.rate, mask, int(truth.sum())


def _fresh_copy(source: Path, target: Path) -> None:
    backup = target.with_name(target.name.replace(".fits", "_before_removing_claws.fits"))
    if backup.exists():
        backup.unlink()
    tmp = target.with_name(".bench-copy.fits")
    shutil.copyfile(source, tmp)
    tmp.replace(target)


def bench_in_process(rate: Path, mask: Path, workdir: Path, repeat: int) -> list[float]:
    from ds9claw.commit import commit_mask

    target = workdir / "single" / rate.name
    target.parent.mkdir(exist_ok=True)
    _fresh_copy(rate, target)
    commit_mask(target, [mask])  # warm-up: loads the ASDF schemas once per process
    times = []
    for _ in range(repeat):
        _fresh_copy(rate, target)
        t0 = time.perf_counter()
        report = commit_mask(target, [mask])
        times.append(time.perf_counter() - t0)
        assert report.status == "committed" and report.backup_created
    return times


def bench_first_commit(rate: Path, mask: Path, workdir: Path) -> tuple[float, float]:
    target = workdir / "first" / rate.name
    target.parent.mkdir(exist_ok=True)
    _fresh_copy(rate, target)
    code = (
        "import time; t0 = time.perf_counter()\n"
        "import stdatamodels.jwst.datamodels\n"
        "from ds9claw.commit import commit_mask\n"
        "t1 = time.perf_counter()\n"
        f"commit_mask({str(target)!r}, [{str(mask)!r}])\n"
        "print(t1 - t0, time.perf_counter() - t1)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imports, commit = (float(x) for x in out.stdout.split())
    return imports, commit


def bench_whole_process(rate: Path, mask: Path, workdir: Path, repeat: int) -> list[float]:
    target = workdir / "cli" / rate.name
    target.parent.mkdir(exist_ok=True)
    times = []
    for _ in range(repeat):
        _fresh_copy(rate, target)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "ds9claw", "-q", "commit", str(target), str(mask)],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - t0)
    return times


def bench_batch(rate: Path, mask: Path, workdir: Path, n: int, jobs: int) -> float:
    batch = workdir / f"batch_j{jobs}"
    if batch.exists():
        shutil.rmtree(batch)
    batch.mkdir()
    names = []
    for i in range(n):
        dataset = f"jw09999001001_02101_{i + 1:05d}_nrcb1"
        shutil.copyfile(rate, batch / f"{dataset}_rate.fits")
        os.link(mask, batch / f"{dataset}_cal_claws_seed_image_zeroonemask.fits.gz")
        names.append(f"{dataset}_rate.fits")
    subprocess.run(["sync"], check=False)
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ds9claw",
            "-q",
            "commit",
            *names,
            "--mask",
            "{dataset}_cal_claws_seed_image_zeroonemask.fits.gz",
            "--jobs",
            str(jobs),
            "--no-progress",
        ],
        check=True,
        capture_output=True,
        cwd=batch,
    )
    elapsed = time.perf_counter() - t0
    shutil.rmtree(batch)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per single-file number")
    parser.add_argument("--batch", type=int, default=100, help="files in the batch (0: none)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="batch --jobs values")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="scratch directory on the disk to measure (default: a temp dir)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench_commit_", dir=args.workdir))
    try:
        rate, mask, n_pixels = _prepare(workdir)
        size_mb = rate.stat().st_size / 1e6
        print(
            f"rate file: {SIZE}x{SIZE}, {size_mb:.0f} MB; mask: {n_pixels} pixels; "
            f"cores: {os.cpu_count()}"
        )
        times = bench_in_process(rate, mask, workdir, args.repeat)
        print(
            f"in-process commit (imports and schemas warm): "
            f"median {statistics.median(times):.3f} s,"
            f" worst {max(times):.3f} s over {len(times)} runs  [target <= 1.0 s]"
        )
        imports, first = bench_first_commit(rate, mask, workdir)
        print(
            f"first commit after import in a new process: {first:.3f} s "
            f"(+ {imports:.3f} s importing stdatamodels and ds9claw)"
        )
        wall = bench_whole_process(rate, mask, workdir, max(1, args.repeat // 2))
        print(
            f"whole process `python -m ds9claw commit RATE MASK`: median "
            f"{statistics.median(wall):.3f} s, worst {max(wall):.3f} s"
        )
        if args.batch:
            base = None
            for jobs in args.jobs:
                elapsed = bench_batch(rate, mask, workdir, args.batch, jobs)
                base = base or elapsed
                print(
                    f"batch of {args.batch} files, --jobs {jobs}: {elapsed:.1f} s "
                    f"({elapsed / args.batch:.3f} s per file, speed-up {base / elapsed:.2f}x)"
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

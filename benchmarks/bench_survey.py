"""Benchmark survey throughput: ``detect`` and ``commit`` of N small exposures per engine.

Issue 11: throughput with 1 and 2 workers on 200 small exposures, and the same through a
Dask scheduler (a real ``distributed.LocalCluster`` on the loopback, worker processes).
The figures feed the estimate in docs/survey.md.

Each engine gets a fresh copy of N exposures (256 x 256 cal and rate files made by
`ds9claw.example_visit`, one visit of 4 copied N/4 times, with a DS9 box region each),
a manifest from `ds9claw.survey.plan_survey`, and runs `ds9claw.survey.run_survey`
with the steps ``detect`` then ``commit``, the manifest written after every task (as a
survey does).  Prints exposures per second per step and engine.

Usage::

    python benchmarks/bench_survey.py             # 200 exposures
    python benchmarks/bench_survey.py --n 40      # quicker
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

REGION = "# Region file format: DS9\nimage\nbox(128,128,120,120,0)\n"


def make_exposures(root: Path, n: int) -> Path:
    from ds9claw.example_visit import make_example_visit

    source = root / "visit"
    visit = make_example_visit(source, size=256)
    for exposure in visit.exposures:
        exposure.truth.unlink()
        exposure.cal.with_name(exposure.cal.stem + "_box.reg").write_text(REGION)
    master = root / "master"
    for k in range(n // 4):
        folder = master / f"v{k:03d}"
        shutil.copytree(source, folder)
    return master


def run_engine(master: Path, work: Path, label: str, **engine) -> dict[str, float]:
    from ds9claw.detect import DetectionParameters
    from ds9claw.survey import plan_survey, run_survey
    from ds9claw.survey_manifest import write_manifest

    shutil.copytree(master, work)
    manifest = work / "survey.ecsv"
    table = plan_survey([f"{work}/v*/*_cal.fits"], region_template="{stem}_box.reg")
    write_manifest(table, manifest)
    params = DetectionParameters(sigma=2, smooth=1, ignore_background=True).validate()
    options = {"detect": {"params": params}, "commit": {}}
    rates = {}
    for step in ("detect", "commit"):
        t0 = time.perf_counter()
        table = run_survey(manifest, steps=[step], options=options, show=False, **engine)
        elapsed = time.perf_counter() - t0
        assert set(table[f"{step}_status"]) == {"done"}, set(table[f"{step}_error"])
        rates[step] = len(table) / elapsed
        print(
            f"{label:<28} {step:<7} {len(table):4d} exposures {elapsed:7.1f} s "
            f"{rates[step]:6.2f} exposures/s",
            flush=True,
        )
    shutil.rmtree(work)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="exposures (multiple of 4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_survey_") as tmp:
        root = Path(tmp)
        master = make_exposures(root, args.n)
        run_engine(master, root / "j1", "local --jobs 1", jobs=1)
        run_engine(master, root / "j2", "local --jobs 2", jobs=2)
        import dask
        from distributed import LocalCluster

        for workers in (1, 2):
            with (
                dask.config.set({"distributed.scheduler.allowed-failures": 1}),
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=":0",
                    silence_logs=50,
                ) as c,
            ):
                run_engine(
                    master,
                    root / f"d{workers}",
                    f"dask scheduler, {workers} worker(s)",
                    scheduler=c.scheduler_address,
                )


if __name__ == "__main__":
    main()

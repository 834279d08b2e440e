"""Visit speed (issue 13) against a real DS9 under Xvfb: 4 exposures of 2048 x 2048, one
claw region each.

* Claws > Detect claws in all frames, against one single-frame Claws > Detect claws click
  measured in the same run (target: at most 2 x);
* Claws > Review next exposure (target: at most 0.3 s), as a click (a new Python process)
  and as the call inside one process (`ds9claw.ds9.visit.review_step`).

Run: .venv/bin/python benchmarks/bench_visit.py [--repeat N] [--size 2048]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _box(truth: np.ndarray) -> str:
    ys, xs = np.nonzero(truth)
    return (
        f"image\npolygon({xs.min() - 1},{ys.min() - 1},{xs.max() + 3},{ys.min() - 1},"
        f"{xs.max() + 3},{ys.max() + 3},{xs.min() - 1},{ys.max() + 3})\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=2048)
    args = parser.parse_args()

    from ds9claw.ds9 import visit, visit_actions
    from ds9claw.ds9.actions import analysis_tasks
    from ds9claw.ds9.analysis_file import render_analysis_file, shipped_analysis_file
    from ds9claw.ds9.launch import start_ds9
    from ds9claw.ds9.load import load_visit
    from ds9claw.ds9.menu import wait_for_analysis_task
    from ds9claw.ds9.settings import Ds9Settings
    from ds9claw.ds9.xpa import XpaTransport
    from ds9claw.example_visit import make_example_visit

    with tempfile.TemporaryDirectory(prefix="ds9claw-bench-visit-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        made = make_example_visit(tmp / "data", n_exposures=4, size=args.size, seed=1)
        print(f"visit of 4 x {args.size}^2 made in {time.perf_counter() - t:.1f} s")
        for e in made.exposures:
            e.cal.with_name(e.cal.name.replace(".fits", "_claws.pix.reg")).write_text(
                _box(e.load_truth())
            )
        home = tmp / "home"
        home.mkdir()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("XPA_") and k not in ("DISPLAY", "SAMP_HUB")
        }
        env.update(HOME=str(home), DS9CLAW_CONFIG_DIR=str(tmp / "config"))
        ans = tmp / "ds9claw.ans"
        ans.write_text(
            render_analysis_file(
                shipped_analysis_file().read_text(),
                command="{" + sys.executable + "} -m ds9claw",
                settings=Ds9Settings(),
            )
        )
        with start_ds9(xvfb=True, env=env, timeout=60, cwd=tmp) as ds9:
            x = XpaTransport(ds9.xpa_target, timeout=60)
            x.set(f"analysis load {{{ans}}}")
            tasks = analysis_tasks(x)
            load_visit(x, [e.cal for e in made.exposures])

            def click(name: str) -> float:
                index = tasks.index(name)
                t0 = time.perf_counter()
                x.set(f"analysis task {index}")
                wait_for_analysis_task(x, index, timeout=600, scratch=tmp)
                return time.perf_counter() - t0

            single, whole, nxt, inproc = [], [], [], []
            for _ in range(args.repeat):
                visit_actions.clear_all(x)
                x.set("frame 1")
                single.append(click("Detect claws"))
                visit_actions.clear_all(x)
                whole.append(click("Detect claws in all frames"))
                frames = x.get("frame all").split()
                assert len(frames) == 12, frames
                for _ in range(4):
                    nxt.append(click("Review next exposure"))
                for _ in range(4):
                    t0 = time.perf_counter()
                    visit.review_step(x, 1)
                    inproc.append(time.perf_counter() - t0)

            def row(label: str, values: list[float]) -> None:
                print(
                    f"{label:48s} median {statistics.median(values):6.3f} s  "
                    f"range {min(values):.3f}-{max(values):.3f} s  (n={len(values)})"
                )

            row("Detect claws (frame 1, click)", single)
            row("Detect claws in all frames (4 exposures, click)", whole)
            ratio = statistics.median(whole) / statistics.median(single)
            print(f"ratio all/single: {ratio:.2f} (target <= 2)")
            row("Review next exposure (click)", nxt)
            row("Review next exposure (in one process)", inproc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""DS9 menu speed: from ``analysis task`` (a click on Claws > Detect claws) to the three
frames displayed, against a real DS9 under Xvfb, on a 2048 x 2048 NIRCam-size exposure
with one claw region.

Run: .venv/bin/python benchmarks/bench_ds9.py [--repeat N]
Prints one line per case with the median and the range over the runs (seconds).
Target (issue): at most 1.0 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=2048)
    args = parser.parse_args()

    from ds9claw.ds9.actions import analysis_tasks
    from ds9claw.ds9.analysis_file import render_analysis_file, shipped_analysis_file
    from ds9claw.ds9.launch import start_ds9
    from ds9claw.ds9.menu import wait_for_analysis_task
    from ds9claw.ds9.settings import Ds9Settings, save_settings
    from ds9claw.ds9.xpa import XpaTransport
    from ds9claw.example import make_example

    with tempfile.TemporaryDirectory(prefix="ds9claw-bench-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        example = make_example(tmp / "data", size=args.size)
        print(f"example {args.size}x{args.size} made in {time.perf_counter() - t:.1f} s")
        config, home = tmp / "config", tmp / "home"
        home.mkdir()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("XPA_") and k not in ("DISPLAY", "SAMP_HUB")
        }
        env.update(HOME=str(home), DS9CLAW_CONFIG_DIR=str(config))
        settings = Ds9Settings()
        ans = tmp / "ds9claw.ans"
        ans.write_text(
            render_analysis_file(
                shipped_analysis_file().read_text(),
                command="{" + sys.executable + "} -m ds9claw",
                settings=settings,
            )
        )
        with start_ds9(xvfb=True, env=env, timeout=60, cwd=tmp) as ds9:
            x = XpaTransport(ds9.xpa_target, timeout=30)
            x.set(f"analysis load {{{ans}}}")
            index = analysis_tasks(x).index("Detect claws")
            x.set(f"file {{{example.cal}[SCI]}}")
            x.set("regions", example.region.read_bytes())

            def run_once() -> float:
                t0 = time.perf_counter()
                x.set(f"analysis task {index}")
                wait_for_analysis_task(x, index, timeout=600, scratch=tmp)
                elapsed = time.perf_counter() - t0
                frames = x.get("frame all").split()
                if len(frames) != 3:
                    text = _task_output(x, index, tmp)
                    raise SystemExit(f"the task did not show 3 frames ({frames}): {text}")
                return elapsed

            def clear() -> None:
                first, *others = x.get("frame all").decode().split()
                x.set("tile no")
                for frame in others:
                    x.set(f"frame delete {frame}")
                x.set(f"frame {first}")

            for label, params in (
                ("ignore background (sky-subtracted example)", {"ignore_background": True}),
                ("2-D background (default)", {"ignore_background": False}),
            ):
                save_settings(Ds9Settings(**params), config)
                run_once()  # warm the page cache and DS9
                clear()
                fresh, reused = [], []
                for _ in range(args.repeat):
                    fresh.append(run_once())
                    reused.append(run_once())
                    clear()
                for kind, values in (("new frames", fresh), ("frames reused", reused)):
                    print(
                        f"{label}, {kind}: median {statistics.median(values):.3f} s "
                        f"(min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"
                    )
            text = _task_output(x, index, tmp)
            print("last task output:", json.dumps(text.strip().splitlines()[-4:]))
    return 0


def _task_output(x, index: int, tmp: Path) -> str:
    """The text of the shared ds9claw window and of the task's own (errors) window."""
    from ds9claw.ds9.menu import _tcl_value, task_windows

    texts = []
    for window in task_windows(index):
        if _tcl_value(x, f"winfo exists {window}", tmp) == "1":
            texts.append(_tcl_value(x, f"{window} get 1.0 end", tmp))
    return "\n".join(texts)


if __name__ == "__main__":
    sys.exit(main())

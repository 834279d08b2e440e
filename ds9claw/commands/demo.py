"""``ds9claw demo``: the whole DS9 workflow on the example exposure, through the Claws menu.

Starts DS9 (on ``$DISPLAY`` when set, else on a private Xvfb), loads the example cal
file, loads the analysis file, draws the example claw region, clicks Claws > Detect
claws (``analysis task``), saves a PNG snapshot of the three frames (Claws > Save
snapshot), commits the mask to the example rate file (Claws > Commit mask to rate DQ,
which keeps the original as a backup), and prints where everything is.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from ..errors import Ds9ClawError, InputError

__all__ = ["register", "run"]

_log = logging.getLogger(__name__)


def register(subparsers, parents=()) -> None:
    """Add the ``demo`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``ds9claw`` subparsers.
    parents : sequence of argparse.ArgumentParser
        Parsers with the common options.
    """
    parser = subparsers.add_parser(
        "demo",
        parents=list(parents),
        help="run the DS9 workflow on the example exposure (detect, snapshot, commit)",
        description=(
            "Start DS9 (on $DISPLAY when set, else on a private Xvfb), load the example cal "
            "file and the analysis file, draw the example claw region, click Claws > Detect "
            "claws, save a PNG snapshot of the three frames, commit the mask to the example "
            "rate file (the original is kept as a backup), and print where everything is."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--output-dir",
        default="demo-output",
        metavar="DIR",
        help="where the example and all products go (default ./demo-output)",
    )
    parser.add_argument(
        "--size", type=int, default=2048, help="example image size in pixels (default 2048, NIRCam)"
    )
    parser.add_argument(
        "--xvfb", action="store_true", help="use a private Xvfb even when DISPLAY is set"
    )
    parser.add_argument(
        "--keep-open",
        action="store_true",
        help="leave DS9 running at the end (default: only on a real display)",
    )
    parser.add_argument(
        "--close", action="store_true", help="close DS9 at the end even on a real display"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds each menu task may take (default 120)"
    )
    parser.set_defaults(func=run)


def _step(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def run(args: argparse.Namespace) -> int:
    """Run ``ds9claw demo``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit status.
    """
    from ..ds9.actions import analysis_tasks, run_analysis_task
    from ..ds9.analysis_file import desktop_command, render_analysis_file, shipped_analysis_file
    from ..ds9.launch import start_ds9
    from ..ds9.xpa import XpaTransport
    from ..example import make_example
    from ..names import backup_path_for, product_names, snapshot_base, stem_of
    from ..safeio import write_text_atomically

    out = Path(args.output_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    marker = out / ".ds9claw-demo"
    if data.exists() and any(data.iterdir()):
        if not marker.exists():
            raise InputError(
                f"{data} is not empty and was not made by ds9claw demo: choose another --output-dir"
            )
        import shutil

        _step(f"removing the previous demo's files in {data}")
        shutil.rmtree(data)
    write_text_atomically(
        marker, "made by ds9claw demo; its data/ folder is replaced by the next demo\n"
    )
    _step(f"making the example exposure pair ({args.size} x {args.size}) in {data}")
    example = make_example(data, size=args.size)

    config = out / "config"
    config.mkdir(exist_ok=True)
    from ..ds9.settings import Ds9Settings, save_settings

    # the demo's DS9 uses its own ds9claw settings (not the observer's remembered ones):
    # the observers' parameters for a sky-subtracted exposure
    settings = Ds9Settings(sigma=2.0, smooth=1.0, minpixarea=1, ignore_background=True)
    save_settings(settings, config)
    ans = out / "ds9claw.ans"
    write_text_atomically(
        ans,
        render_analysis_file(
            shipped_analysis_file().read_text(encoding="utf-8"),
            command=desktop_command(force_absolute=True),
            settings=settings,
        ),
    )

    use_xvfb = bool(args.xvfb or not os.environ.get("DISPLAY"))
    keep = (args.keep_open or not use_xvfb) and not args.close
    env = dict(os.environ)
    env["DS9CLAW_CONFIG_DIR"] = str(config)
    _step(
        "starting DS9 "
        + ("on a private Xvfb display" if use_xvfb else f"on display {os.environ.get('DISPLAY')}")
    )
    ds9 = start_ds9(
        xvfb=use_xvfb,
        env=env,
        timeout=60,
        cwd=out,
        private_xpa=not keep,
        # a DS9 left open on the user's display joins their SAMP hub as DS9 would; a
        # hidden one on Xvfb stays off it
        samp=None if keep else False,
        extra_args=("-geometry", "+0+420"),
    )
    try:
        x = XpaTransport(ds9.xpa_target or ds9.title, timeout=60, env=ds9.env)
        _step(f"loading {example.cal.name}[SCI] and the analysis file {ans.name}")
        x.set("file {" + f"{example.cal}[SCI]" + "}")
        x.set("analysis load {" + str(ans) + "}")
        if "Detect claws" not in analysis_tasks(x):
            raise InputError(f"DS9 did not load the Claws menu from {ans}")
        _step(f"drawing the claw region of {example.region.name}")
        x.set("regions", example.region.read_bytes())
        for entry in ("Detect claws", "Save snapshot", "Commit mask to rate DQ"):
            _step(f"Analysis > Claws > {entry}")
            text = run_analysis_task(x, entry, timeout=args.timeout, scratch=out)
            for line in text.splitlines():
                print(f"    {line}")
            if "ds9claw: error:" in text:
                raise InputError(
                    f"the menu entry {entry!r} failed: {text.strip().splitlines()[-1]}"
                )
        seed_name, mask_name = product_names(stem_of(example.cal), settings.suffix)
        mask_path = data / mask_name
        snapshot = snapshot_base(example.cal)
        print()
        print(_truth_summary(mask_path, example.load_truth()))
        print("Everything is in", out)
        for label, path in (
            ("exposure (cal)", example.cal),
            ("claw region", example.region),
            ("seed image", data / seed_name),
            ("0/1 mask", mask_path),
            ("snapshot (PNG)", snapshot.with_name(snapshot.name + ".png")),
            ("snapshot (EPS)", snapshot.with_name(snapshot.name + ".eps")),
            ("rate with the mask in DQ", example.rate),
            ("rate before the commit", backup_path_for(example.rate)),
            ("analysis file", ans),
        ):
            mark = "" if path.exists() else "  (missing!)"
            print(f"  {label:26s} {path}{mark}")
        if keep:
            ds9.detach()
            print(f"DS9 ({ds9.title}) stays open: try the Analysis > Claws menu.")
        return 0
    except Ds9ClawError:
        raise
    finally:
        if not keep:
            ds9.stop()
        sys.stdout.flush()


def _truth_summary(mask_path: Path, truth) -> str:
    """One line comparing the mask with the injected claw."""
    import numpy as np
    from astropy.io import fits

    mask = np.asarray(fits.getdata(mask_path)) > 0
    found = int(np.count_nonzero(mask & truth))
    total = int(np.count_nonzero(truth))
    return (
        f"mask: {int(mask.sum())} pixels; it covers {100 * found / total:.2f}% of the "
        f"{total} pixels of the injected claw ({int(np.count_nonzero(mask & ~truth))} "
        "pixels outside it, mostly the smoothing margin)"
    )

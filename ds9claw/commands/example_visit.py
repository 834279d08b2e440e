"""``ds9claw example --visit N``: a dithered visit for ``ds9claw find``."""

from __future__ import annotations

import argparse
import sys

from ..errors import ParameterError

__all__ = ["run_visit"]


def run_visit(args: argparse.Namespace) -> int:
    """Write the example visit; print one line per exposure.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``ds9claw example`` arguments with ``--visit`` or ``--no-claws``.

    Returns
    -------
    int
        Exit status (0).
    """
    from ..example import DEFAULT_DATASET
    from ..example_visit import DEFAULT_VISIT_EXPOSURES, make_example_visit

    if args.sky != 0 or args.dataset != DEFAULT_DATASET:
        raise ParameterError(
            "--sky and --dataset do not apply to --visit (its exposures are sky-subtracted "
            "jw09999001001_02101_0000N_nrcb1): leave them out"
        )
    visit = make_example_visit(
        args.output_dir,
        n_exposures=args.visit or DEFAULT_VISIT_EXPOSURES,
        size=args.size,
        seed=args.seed,
        claw_snr=args.claw_snr,
        claws=not args.no_claws,
        overwrite=args.overwrite,
    )
    for exposure in visit.exposures:
        dx, dy = exposure.offset
        sys.stdout.write(
            f"cal {exposure.cal}  rate {exposure.rate.name}  truth {exposure.truth.name}  "
            f"dither ({dx:+.1f}, {dy:+.1f}) px\n"
        )
    return 0

"""Survey scale: plan a manifest of exposures, run its steps on any engine, report status.

`plan_survey` finds the cal/rate files, groups them by visit, detector and filter and
pairs region files and masks by template.  `run_survey` runs the steps (``find`` per
group, ``detect`` and ``commit`` per exposure) through `ds9claw.batch.run_batch`,
records every completed task at once (a fsynced line in the manifest's journal,
`ds9claw.survey_journal`) and rewrites the manifest atomically now and then and at the
end of each step, so a killed run loses nothing done and a rerun does only what is not
done.  Steps are idempotent on their
own too: a commit already in the rate file is found there and not made again.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InputError
from .survey_manifest import DONE, FAILED, STEPS, TODO, new_manifest, parse_exposure_name

__all__ = [
    "DEFAULT_MASK_TEMPLATE",
    "DEFAULT_REGION_TEMPLATE",
    "plan_survey",
    "run_survey",
    "stale_locks",
    "survey_summary",
]

_log = logging.getLogger(__name__)

DEFAULT_REGION_TEMPLATE = "{stem}_claws.pix.reg"
DEFAULT_MASK_TEMPLATE = "{stem}_claws_seed_image_zeroonemask.fits"
_CANDIDATE_TAG = "ds9claw candidate"


def _exposure_row(path: Path, region_template: str, mask_template: str) -> dict:
    from astropy.io import fits

    from .api import resolve_region_template

    row = {"path": str(path), **parse_exposure_name(path.name)}
    try:
        header = fits.getheader(path, 0)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable FITS file ({error})") from None
    row["detector"] = str(header.get("DETECTOR", row["detector"] or "")).upper()
    row["filter"] = str(header.get("FILTER", "")).upper()
    stem = path.name.split(".fits")[0]
    row["dataset"] = stem.rsplit("_", 1)[0] if stem.endswith(("_cal", "_rate")) else stem
    row["group"] = " ".join(
        x for x in (row["visit"] or row["dataset"], row["detector"], row["filter"]) if x
    )
    rate = path.with_name(f"{row['dataset']}_rate.fits")
    row["rate"] = str(rate if rate.exists() or stem.endswith("_rate") else "")
    row["region"] = str(resolve_region_template(region_template, path))
    row["mask"] = str(resolve_region_template(mask_template, path))
    return row


def plan_survey(
    patterns: Sequence[str],
    *,
    region_template: str = DEFAULT_REGION_TEMPLATE,
    mask_template: str = DEFAULT_MASK_TEMPLATE,
):
    """The manifest of every cal (or, without one, rate) file the patterns match.

    Parameters
    ----------
    patterns : sequence of str
        Shell patterns (``'visits/*/jw*_cal.fits'``; ``**`` recurses).
    region_template, mask_template : str
        Where each exposure's region file and zero-one mask are (fields as
        `ds9claw.api.resolve_region_template`).  A region file already there (drawn
        by an observer) makes the ``find`` step done for that exposure.

    Returns
    -------
    astropy.table.Table
        The manifest, sorted by group and exposure.

    Raises
    ------
    InputError
        When nothing matches or a file is not FITS.
    """
    found: dict[str, Path] = {}
    for pattern in patterns:
        for name in sorted(glob.glob(pattern, recursive=True)):  # noqa: PTH207 - user patterns
            path = Path(name)
            if not path.name.endswith((".fits", ".fits.gz")) or path.name.startswith("."):
                continue
            stem = path.name.split(".fits")[0]
            if stem.endswith("_cal"):
                found[str(path.parent / stem[:-4])] = path
            elif stem.endswith("_rate"):
                found.setdefault(str(path.parent / stem[:-5]), path)
    if not found:
        raise InputError(f"no *_cal.fits or *_rate.fits file matches {' '.join(patterns)}")
    rows = [_exposure_row(p, region_template, mask_template) for p in found.values()]
    rows.sort(key=lambda r: (r["group"], r["exposure"], r["path"]))
    table = new_manifest(rows)
    for row in table:
        if Path(row["region"]).is_file():
            row["find_status"] = DONE
            row["find_products"] = row["region"]
            row["find_count"] = _count_candidates(Path(row["region"]))
    return table


def _count_candidates(region: Path) -> int:
    try:
        text = region.read_text(errors="replace")
    except OSError:
        return -1
    return sum(_CANDIDATE_TAG in line for line in text.splitlines())


# ---------------------------------------------------------------- tasks (run in workers)


def find_task(paths: tuple[str, ...], options: dict) -> list[tuple[str, int, str]]:
    """Find candidates in one group; ``(path, candidates, region file)`` per exposure.

    Region files that ``ds9claw find`` already wrote for every exposure of the group
    (a run killed before it recorded them) are counted, not searched again.
    """
    from .find_files import find_files

    regions = [Path(options["regions"][p]) for p in paths]
    if all(r.is_file() and _count_candidates(r) >= 0 for r in regions):
        return [(p, _count_candidates(r), str(r)) for p, r in zip(paths, regions, strict=True)]
    found = find_files(list(paths), single=options.get("single", False))
    return [(str(f.path), len(f.candidates), str(f.region_path)) for f in found]


def detect_task(path: str, region: str, options: dict) -> tuple[str, int, str]:
    """Detect inside the exposure's region file; ``(path, masked pixels, mask file)``."""
    from .api import detect_file

    if not Path(region).is_file():
        raise InputError(f"{region}: no region file (run the find step or draw one)")
    products = detect_file(path, include=[region], overwrite=False, **options)
    return path, products.result.n_masked, str(products.mask_path)


def commit_task(rate: str, mask: str, options: dict) -> tuple[str, int, str]:
    """Commit the mask into the rate file; ``(rate, flagged pixels, status)``."""
    from .commit import commit_mask

    if not rate:
        raise InputError("no rate file beside the exposure: commit needs X_rate.fits")
    report = commit_mask(rate, [mask], **options)
    return rate, report.n_flagged, report.status


# ---------------------------------------------------------------- running


def _step_items(table, step: str, options: dict) -> tuple[Callable, list[tuple], list[list[int]]]:
    """The task function, its items and, per item, the manifest rows it completes."""
    todo = [i for i, s in enumerate(table[f"{step}_status"]) if s != DONE]
    if step == "find":
        groups: dict[str, list[int]] = {}
        for i in todo:
            groups.setdefault(table["group"][i], []).append(i)
        # a group is searched whole: also the exposures of it that are done
        rows = [[i for i in range(len(table)) if table["group"][i] == g] for g in groups]
        regions = {table["path"][i]: table["region"][i] for i in range(len(table))}
        opts = {**options.get("find", {}), "regions": regions}
        items = [(tuple(table["path"][i] for i in r), opts) for r in rows]
        return find_task, items, rows
    if step == "detect":
        opts = options.get("detect", {})
        items = [(table["path"][i], table["region"][i], opts) for i in todo]
        return detect_task, items, [[i] for i in todo]
    opts = options.get("commit", {})
    # the mask detect wrote, else the one paired by template (made elsewhere)
    masks = [
        table["detect_products"][i] if table["detect_status"][i] == DONE else table["mask"][i]
        for i in todo
    ]
    items = [(table["rate"][i], mask, opts) for i, mask in zip(todo, masks, strict=True)]
    return commit_task, items, [[i] for i in todo]


def _outcomes(table, step: str, rows: list[int], result) -> list[tuple]:
    """``(row, status, count, products, error)`` for the manifest rows a task completes."""
    if not result.ok:
        reason = result.error.replace("\n", " ")
        return [(i, FAILED, -1, "", reason) for i in rows]
    values = result.value if step == "find" else [result.value]
    by_path = {str(v[0]): v for v in values}
    outcomes = []
    for i in rows:
        key = table["path"][i] if step != "commit" else table["rate"][i]
        _, count, product = by_path.get(str(key), values[0])
        outcomes.append((i, DONE, int(count), str(product), ""))
    return outcomes


def run_survey(
    manifest: str | Path,
    *,
    steps: Sequence[str] = STEPS,
    jobs: int = 1,
    scheduler: str | None = None,
    options: dict | None = None,
    show: bool | None = None,
):
    """Run the steps not yet done; record every completed task as it finishes.

    Parameters
    ----------
    manifest : str or pathlib.Path
        The manifest from `plan_survey` (changed in place, atomically).
    steps : sequence of str
        Which of `STEPS` to run, run in the order of `STEPS`.
    jobs : int
        Local processes when no scheduler is given.
    scheduler : str or None
        Dask scheduler address.
    options : dict, optional
        Per step, keyword arguments for its task (``{"detect": {"params": ...}}``).
    show : bool or None
        Show progress.

    Returns
    -------
    astropy.table.Table
        The manifest as written.

    Raises
    ------
    ds9claw.batch.BatchError
        When the scheduler goes away (the manifest keeps every task finished before).
    """
    from .batch import run_batch
    from .survey_journal import CHECKPOINT_SECONDS, append_entries
    from .survey_manifest import read_manifest, write_manifest

    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise InputError(f"unknown step {unknown[0]!r}: choose from {','.join(STEPS)}")
    options = options or {}
    manifest = Path(manifest)
    with _manifest_lock(manifest):
        table = read_manifest(manifest)
        for step in (s for s in STEPS if s in steps):
            func, items, rows = _step_items(table, step, options)
            if not items:
                continue

            last = [time.monotonic()]

            def on_result(result, step=step, rows=rows, last=last):
                outcomes = _outcomes(table, step, rows[result.index], result)
                for i, *values in outcomes:
                    for field, value in zip(
                        ("status", "count", "products", "error"), values, strict=True
                    ):
                        table[f"{step}_{field}"][i] = value
                append_entries(manifest, step, [(table["path"][i], *v) for i, *v in outcomes])
                if time.monotonic() - last[0] >= CHECKPOINT_SECONDS:
                    write_manifest(table, manifest)
                    last[0] = time.monotonic()

            try:
                run_batch(
                    func,
                    items,
                    jobs=jobs,
                    scheduler=scheduler,
                    desc=step,
                    show=show,
                    on_result=on_result,
                )
            finally:
                write_manifest(table, manifest)  # what finished, even when the batch ends early
    return table


@contextlib.contextmanager
def _manifest_lock(manifest: Path):
    """One run per manifest at a time (across hosts too: `ds9claw.filelock.file_lock`)."""
    from .filelock import file_lock

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(file_lock(manifest, timeout=0))
        except TimeoutError as error:
            raise InputError(f"another survey run is using the manifest: {error}") from None
        yield


def survey_summary(table) -> dict[str, dict[str, int]]:
    """Per step, how many exposures are done, failed and to do.

    Parameters
    ----------
    table : astropy.table.Table
        A manifest.

    Returns
    -------
    dict
        ``{step: {"done": n, "failed": n, "todo": n}}``.
    """
    summary = {}
    for step in STEPS:
        column = list(table[f"{step}_status"])
        summary[step] = {s: column.count(s) for s in (DONE, FAILED, TODO)}
    return summary


def stale_locks(table) -> list[str]:
    """One line per lock file left in the directories of the manifest's files.

    Parameters
    ----------
    table : astropy.table.Table
        A manifest.

    Returns
    -------
    list of str
        `ds9claw.lockholder.describe_lock` of each.
    """
    from .lockholder import describe_lock

    folders = sorted({str(Path(p).parent) for p in table["path"]})
    found = []
    for folder in folders:
        found += [describe_lock(lock) for lock in sorted(Path(folder).glob(".*.lock"))]
    return found

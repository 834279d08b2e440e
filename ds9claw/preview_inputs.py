"""Inputs of the preview: cal files grouped per filter, product names, masks.

`plan_groups` reads only primary headers, so ``ds9claw preview`` can name its outputs
(and refuse existing ones) before anything heavy is imported or read.
`read_exposure` opens one cal file as a JWST ImageModel (no change is ever written
back), checks that it carries a gwcs and loads its masks with
`ds9claw.commit.load_masks`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["CalExposure", "MaskSpec", "PreviewGroup", "mask_files_for", "plan_groups",
           "product_name", "read_exposure"]  # fmt: skip

_log = logging.getLogger(__name__)

#: Masks: one template or several (``{dataset}``, ``{stem}``, ``{name}``, ``{dir}``,
#: see `ds9claw.commit.expand_mask_template`), or cal file -> mask files.
MaskSpec = str | Sequence[str] | Mapping[str | Path, Sequence[str | Path]]


@dataclass
class CalExposure:
    """One cal file opened for the preview: model, SCI header, combined mask."""

    path: Path
    model: Any
    header: Any
    mask: np.ndarray | None
    mask_files: tuple[Path, ...]


@dataclass(frozen=True)
class PreviewGroup:
    """The cal files of one filter and the product name of their mosaics.

    Attributes
    ----------
    filter : str
        ``FILTER`` (``PUPIL+FILTER`` when the pupil is not ``CLEAR``).
    product : str
        Stem of the output files (`product_name`).
    paths : tuple of pathlib.Path
        The cal files, in the order given.
    """

    filter: str
    product: str
    paths: tuple[Path, ...]


def plan_groups(cal_files: Sequence[str | Path], *, by_filter: bool = True) -> list[PreviewGroup]:
    """Group cal files per filter from their primary headers (no pixels read).

    Parameters
    ----------
    cal_files : sequence of str or pathlib.Path
        The ``*_cal.fits`` files.
    by_filter : bool
        False refuses a mix of filters instead of grouping them.

    Returns
    -------
    list of PreviewGroup
        In the order the filters first appear.

    Raises
    ------
    InputError
        A file is missing or not FITS, a file is named twice, or the filters differ and
        ``by_filter`` is False.
    """
    from astropy.io import fits

    if not cal_files:
        raise InputError("no cal files given: name the *_cal.fits files of the visit")
    seen: set[Path] = set()
    headers: dict[str, list[tuple[Path, Any]]] = {}
    for value in cal_files:
        path = Path(value)
        if not path.is_file():
            raise InputError(f"cal file {path} does not exist: check the name")
        if path.resolve() in seen:
            raise InputError(f"{path} is named twice: give each cal file once")
        seen.add(path.resolve())
        try:
            header = fits.getheader(path, 0)
        except OSError as error:
            raise InputError(
                f"{path} is not a FITS file ({error}): give *_cal.fits files"
            ) from None
        headers.setdefault(_filter_name(header), []).append((path, header))
    if len(headers) > 1 and not by_filter:
        listing = "; ".join(f"{k}: {', '.join(p.name for p, _ in v)}" for k, v in headers.items())
        raise InputError(
            f"the cal files are of {len(headers)} filters ({listing}): give one filter at a "
            "time or let them be grouped per filter"
        )
    return [
        PreviewGroup(name, product_name([h for _, h in members]), tuple(p for p, _ in members))
        for name, members in headers.items()
    ]


def product_name(headers: Sequence[Any]) -> str:
    """An image3-like product name: ``jw<program>-o<obs>_nircam_<pupil>-<filter>``.

    Parameters
    ----------
    headers : sequence of astropy.io.fits.Header
        Primary headers of the exposures of one filter.

    Returns
    -------
    str
        Program and observation are left out when the files do not share them.
    """
    first = headers[0]
    programs = {str(h.get("PROGRAM", "")).strip() for h in headers}
    observations = {str(h.get("OBSERVTN", "")).strip() for h in headers}
    instrument = str(first.get("INSTRUME", "") or "nircam").strip().lower()
    optics = "-".join(
        str(first.get(key)).strip().lower() for key in ("PUPIL", "FILTER") if first.get(key)
    )
    name = f"{instrument}_{optics}" if optics else instrument
    if len(programs) == 1 and "" not in programs:
        prefix = f"jw{programs.pop()}"
        if len(observations) == 1 and "" not in observations:
            prefix += f"-o{observations.pop()}"
        name = f"{prefix}_{name}"
    return name


def mask_files_for(
    cal_files: Sequence[str | Path], masks: MaskSpec
) -> dict[Path, tuple[Path, ...]]:
    """The mask files of each cal file, checked to exist.

    Parameters
    ----------
    cal_files : sequence of str or pathlib.Path
        The cal files.
    masks : str, sequence of str, or mapping
        Templates (see `ds9claw.commit.expand_mask_template`) or cal file -> masks.

    Returns
    -------
    dict
        ``Path(cal)`` -> tuple of mask paths (empty: no mask for that file).

    Raises
    ------
    InputError
        A mask is missing, a cal file has no entry in the mapping, or no template.
    """
    from .commit import expand_mask_template

    out: dict[Path, tuple[Path, ...]] = {}
    if isinstance(masks, Mapping):
        given = {Path(k).resolve(): tuple(Path(v) for v in values) for k, values in masks.items()}
        for path in cal_files:
            key = Path(path).resolve()
            if key not in given:
                raise InputError(f"no masks given for {path}: add it to the mapping")
            out[Path(path)] = given[key]
        return out
    templates = [masks] if isinstance(masks, str) else list(masks)
    if not templates:
        raise InputError("no mask given: name a mask template such as {stem}_claws.pix.reg")
    for path in cal_files:
        out[Path(path)] = tuple(expand_mask_template(t, path) for t in templates)
    for path, files in out.items():
        for mask in files:
            if not mask.is_file():
                raise InputError(
                    f"mask {mask} (for {path.name}) does not exist: check the name or template"
                )
    return out


def read_exposure(path: Path, mask_files: tuple[Path, ...]) -> CalExposure:
    """Open a cal file (read only), check its gwcs and combine its masks.

    Parameters
    ----------
    path : pathlib.Path
        The cal file.
    mask_files : tuple of pathlib.Path
        Its masks (ORed; none: the file is resampled unchanged).

    Returns
    -------
    CalExposure

    Raises
    ------
    InputError
        Not a 2-D ImageModel, no gwcs, or a mask that cannot be used.
    """
    from astropy.io import fits

    from .commit import load_masks

    try:
        header = fits.getheader(path, "SCI")
    except (OSError, KeyError) as error:
        raise InputError(f"{path} is not a FITS file with a SCI extension ({error})") from None
    model = _open_cal(path)
    if model.data.ndim != 2:
        model.close()
        raise InputError(f"{path} has a {model.data.ndim}-D SCI: preview needs 2-D cal images")
    if model.meta.wcs is None:
        model.close()
        raise InputError(
            f"{path} has no gwcs (meta.wcs): run calwebb_image2 (assign_wcs) on it first; "
            "preview needs the pipeline's WCS to drizzle"
        )
    mask = None
    if mask_files:
        loaded = load_masks(mask_files, model.data.shape, header=header)
        mask = np.logical_or.reduce([m.mask for m in loaded])
    _log.debug("%s: %d masked pixels", path.name, 0 if mask is None else int(mask.sum()))
    return CalExposure(path=path, model=model, header=header, mask=mask, mask_files=mask_files)


def _open_cal(path: Path) -> Any:
    from stdatamodels.jwst import datamodels

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = datamodels.ImageModel(str(path))
            _ = model.data, model.dq
    except Exception as error:  # noqa: BLE001 - stdatamodels raises many kinds on bad files
        raise InputError(
            f"{path} cannot be read as a JWST ImageModel ({type(error).__name__}: {error})"
        ) from None
    for record in caught:
        _log.debug("%s: %s", path.name, record.message)
    return model


def _filter_name(header: Any) -> str:
    pupil = str(header.get("PUPIL", "") or "").strip().upper()
    name = str(header.get("FILTER", "") or "unknown").strip().upper()
    return name if pupil in ("", "CLEAR") else f"{pupil}+{name}"

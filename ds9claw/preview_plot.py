"""The preview figure: before | after mosaics, one stretch, holes outlined, a zoom.

Top row: the whole before and after mosaics side by side with the same zscale
stretch (computed on the before mosaic), the holes outlined in red and the zoom box
in cyan.  Bottom row: both mosaics zoomed on the square where they differ most
(`ds9claw.holes.changed_most`), as in the observers' notes.  matplotlib is used
through its object interface with the Agg canvas (no pyplot, no display, no global
backend change); it is imported inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .holes import changed_most

__all__ = ["HOLE_COLOR", "ZOOM_COLOR", "draw_preview", "make_figure", "stretch_limits"]

#: Outline colour of the holes (RGB 0-1).
HOLE_COLOR = (1.0, 0.0, 0.0)
#: Colour of the zoom box.
ZOOM_COLOR = (0.0, 1.0, 1.0)


def stretch_limits(image: np.ndarray) -> tuple[float, float]:
    """The zscale limits of the finite pixels (astropy's ZScaleInterval).

    Parameters
    ----------
    image : numpy.ndarray
        The mosaic.

    Returns
    -------
    tuple of float
        ``(vmin, vmax)``; ``(0, 1)`` for an image without finite pixels.
    """
    from astropy.visualization import ZScaleInterval

    finite = np.asarray(image)[np.isfinite(image)]
    if not finite.size:
        return 0.0, 1.0
    low, high = ZScaleInterval().get_limits(finite)
    if not high > low:
        high = low + 1.0
    return float(low), float(high)


def make_figure(pair: Any, *, zoom: int | None = None, dpi: int = 100) -> Any:
    """Draw the preview of one mosaic pair.

    Parameters
    ----------
    pair : ds9claw.preview.MosaicPair
        The preview.
    zoom : int, optional
        Side of the zoom square in mosaic pixels (default: a quarter of the smaller
        side, at least 32).
    dpi : int
        Resolution of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        Four axes: before, after, before zoomed, after zoomed.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    before = np.asarray(pair.before.data, dtype=float)
    after = np.asarray(pair.after.data, dtype=float)
    holes = np.asarray(pair.holes, dtype=bool)
    vmin, vmax = stretch_limits(before)
    ny, nx = before.shape
    side = zoom or max(32, min(nx, ny) // 4)
    x0, y0, x1, y1 = changed_most(before, after, side, holes=holes)

    figure = Figure(figsize=(12, 6 * ny / nx + 6.8), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 2, height_ratios=[ny / nx, 1.0])
    panels = [figure.add_subplot(grid[row, col]) for row in range(2) for col in range(2)]
    style = {"origin": "lower", "cmap": "gray", "vmin": vmin, "vmax": vmax,
             "interpolation": "nearest"}  # fmt: skip
    titles = ("before masking", "after masking", "before (zoom)", "after (zoom)")
    for axes, image, title in zip(panels, (before, after, before, after), titles, strict=True):
        axes.imshow(np.ma.masked_invalid(image), **style)
        axes.set_title(title)
        axes.set_xlabel("mosaic x")
        axes.set_ylabel("mosaic y")
        if holes.any():
            axes.contour(holes.astype(float), levels=[0.5], colors=[HOLE_COLOR], linewidths=1.0)
    for axes in panels[:2]:
        axes.add_patch(
            Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=ZOOM_COLOR)
        )
    for axes in panels[2:]:
        axes.set_xlim(x0 - 0.5, x1 - 0.5)
        axes.set_ylim(y0 - 0.5, y1 - 0.5)
    report = pair.report
    figure.suptitle(
        f"{pair.product} ({pair.filter}, {len(pair.inputs)} exposures): {report.summary()}",
        fontsize=9,
        wrap=True,
    )
    return figure


def draw_preview(pair: Any, path: str | Path, **kwargs: Any) -> Path:
    """Write the preview figure of one mosaic pair as a PNG.

    Parameters
    ----------
    pair : ds9claw.preview.MosaicPair
        The preview.
    path : str or pathlib.Path
        The PNG file (written as it is named; callers write through a temporary file).
    **kwargs
        Passed to `make_figure`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    figure = make_figure(pair, **kwargs)
    figure.savefig(path, format="png")
    return Path(path)

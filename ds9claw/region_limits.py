"""Limits on what a region may cost, set from measured cost (benchmarks/bench_limits.py).

The budget is 1 GiB peak memory and 10 s for a whole ``ds9claw detect`` on a
2048 x 2048 exposure (2-core Xeon); the worst input each limit accepts is measured by
``benchmarks/bench_limits.py``.  A region above a limit is a `RegionError` naming the
limit and what to do instead.

* `MAX_REGION_SHAPES` shapes and `MAX_REGION_VERTICES` polygon vertices per source
  bound the parsing (observers' real files have at most 4 shapes and 62 vertices);
* `MAX_SKY_VERTICES` polygon vertices per source in sky coordinates, which the
  ``regions`` package parses at about 75 us a vertex;
* `MAX_RASTER_WORK` bounds the rasterising of all sources of one detection: polygons
  cost two units per edge/row crossing and one per pixel of their bounding box,
  ellipses one per pixel of their bounding box (both clipped to the image), shapes
  rasterised by ``regions`` two per pixel of their whole bounding box (about 40 ns a
  unit on the 2-core machine: 100 million units, or 24 ellipses covering a 2048 x 2048
  image, or 24,000 edges each spanning its height, take about 5 s);
* `MAX_REGIONS_BOX` pixels of the bounding box of one shape rasterised by ``regions``
  (an annulus needs about 55 bytes a pixel there).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import RegionError

__all__ = [
    "MAX_RASTER_WORK",
    "MAX_REGIONS_BOX",
    "MAX_REGION_SHAPES",
    "MAX_REGION_VERTICES",
    "MAX_SKY_VERTICES",
    "RasterBudget",
]

#: Shapes in one region source.
MAX_REGION_SHAPES = 10_000
#: Polygon vertices (all polygons together) in one region source.
MAX_REGION_VERTICES = 500_000
#: Vertices of polygons in sky coordinates in one region source.
MAX_SKY_VERTICES = 20_000
#: Rasterising work of one detection, in units of about 40 ns (see the module text).
MAX_RASTER_WORK = 100_000_000
#: Bounding-box pixels of one shape rasterised by the regions package.
MAX_REGIONS_BOX = 8 * 1024 * 1024


@dataclass
class RasterBudget:
    """Rasterising work spent so far by one detection, refused beyond `MAX_RASTER_WORK`.

    Attributes
    ----------
    shape : tuple of int
        Image shape (ny, nx), for messages.
    limit : int
        Largest total work.
    spent : int
        Work charged so far.
    """

    shape: tuple[int, int]
    limit: int = MAX_RASTER_WORK
    spent: int = 0

    def charge(self, work: int, where: str) -> None:
        """Add ``work``; raise before it is done when the total would pass the limit.

        Parameters
        ----------
        work : int
            Work units of the next shape.
        where : str
            Source and line, for the message.

        Raises
        ------
        RegionError
            When the total exceeds ``limit``.
        """
        self.spent += int(work)
        if self.spent > self.limit:
            ny, nx = self.shape
            raise RegionError(
                f"{where}: rasterising the regions on the {nx}x{ny} image would take over "
                f"{self.spent / 1e6:.0f} million pixel and edge evaluations, more than the "
                f"limit of {self.limit / 1e6:.0f} million (about 10 s): use fewer or smaller "
                "shapes, or polygons with fewer long edges"
            )

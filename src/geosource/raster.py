"""Raster primitives with rasterio: values along lines, and least-cost paths over a friction
surface.

Rasters are read through windows and point samples, never whole (a friction surface is read
once, when it is opened); any CRS is handled by reprojecting the points; nodata is honoured.
The analyses built on these (hazards sampled along chains, opportunity surfaces) live in
:mod:`geosource.surfaces`; drawing them in :mod:`geosource.maps`.
"""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._geodesy import WGS84, geodesic_km

__all__ = ["FrictionSurface", "densify", "friction_path", "values_along"]


def densify(geometry: Any, every_km: float) -> np.ndarray:
    """Points every ``every_km`` along each part (geodesic), as an (n, 2) lon/lat array."""
    parts = geometry.geoms if hasattr(geometry, "geoms") else [geometry]
    out: list[tuple[float, float]] = []
    for part in parts:
        coords = list(part.coords)
        for (x1, y1), (x2, y2) in itertools.pairwise(coords):
            out.append((x1, y1))
            km = float(geodesic_km(x1, y1, x2, y2))
            n = int(km // every_km)
            if n >= 1:
                out.extend((float(x), float(y)) for x, y in WGS84.npts(x1, y1, x2, y2, n))
        out.append(coords[-1])
    return np.array(out, dtype=float)


def values_along(dataset: Any, points: np.ndarray) -> np.ndarray:
    """Raster values at lon/lat points (band 1), NaN outside the raster or at nodata.

    Only the raster blocks that hold a point are read, each once."""
    from pyproj import Transformer
    from rasterio.transform import rowcol
    from rasterio.windows import Window

    if dataset.crs is None:
        raise ValueError(f"{dataset.name}: the raster has no CRS; set one (e.g. EPSG:4326)")
    values = np.full(len(points), np.nan)
    if len(points) == 0:
        return values
    if dataset.crs.to_epsg() == 4326:
        xs, ys = points[:, 0], points[:, 1]
    else:
        t = Transformer.from_crs("EPSG:4326", dataset.crs, always_xy=True)
        xs, ys = t.transform(points[:, 0], points[:, 1])
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    finite = np.isfinite(xs) & np.isfinite(ys)
    rows = np.full(len(points), -1)
    cols = np.full(len(points), -1)
    if finite.any():
        r, c = rowcol(dataset.transform, xs[finite], ys[finite])
        rows[finite], cols[finite] = np.asarray(r), np.asarray(c)
    ok = finite & (rows >= 0) & (rows < dataset.height) & (cols >= 0) & (cols < dataset.width)
    bh, bw = dataset.block_shapes[0]
    block = (rows // bh) * (dataset.width // bw + 1) + cols // bw
    for key in np.unique(block[ok]):
        sel = np.flatnonzero(ok & (block == key))
        br, bc = rows[sel[0]] // bh, cols[sel[0]] // bw
        r0, c0 = int(br * bh), int(bc * bw)
        window = Window(c0, r0, min(bw, dataset.width - c0), min(bh, dataset.height - r0))
        data = dataset.read(1, window=window, masked=True)
        got = data[rows[sel] - r0, cols[sel] - c0]
        values[sel] = np.where(np.ma.getmaskarray(got), np.nan, np.ma.getdata(got).astype(float))
    return values


# ---------------------------------------------------------------------------------------------
# friction surfaces


class FrictionSurface:
    """A friction GeoTIFF (cost per km; nodata impassable), read once, for least-cost paths.

    The cost of a step is the mean friction of the two cells times the step length in km
    (geodesic, from the raster's centre latitude, so degree rasters are handled), searched with
    scikit-image's minimum-cost-path (MCP_Geometric).

    Examples
    --------
    >>> import numpy as np, rasterio, tempfile, os
    >>> from affine import Affine
    >>> path = os.path.join(tempfile.mkdtemp(), "flat.tif")  # SYNTHETIC: friction 1 everywhere
    >>> with rasterio.open(path, "w", driver="GTiff", width=20, height=20, count=1,
    ...                    dtype="float32", crs="EPSG:4326",
    ...                    transform=Affine(0.05, 0, 0, 0, -0.05, 1)) as ds:
    ...     ds.write(np.ones((1, 20, 20), dtype="float32"))
    >>> surface = FrictionSurface(path)
    >>> cost = surface.cost((0.025, 0.975), (0.975, 0.975))
    >>> 100 < cost < 110  # about 0.95 degrees of longitude at the equator
    True
    >>> surface.cost((5.0, 5.0), (0.5, 0.5)) is None  # outside the raster
    True
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import rasterio
        from pyproj import Transformer

        self.file = Path(path)
        self.name = self.file.name
        with rasterio.open(self.file) as ds:
            friction = ds.read(1, masked=True).astype(float).filled(np.nan)
            self.transform = ds.transform
            self.crs = ds.crs
            self.bounds = ds.bounds
            self.shape = friction.shape
            self._to_ds = Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True)
            self._to_ll = Transformer.from_crs(ds.crs, "EPSG:4326", always_xy=True)
            t = ds.transform
            cellw, cellh = abs(t.a), abs(t.e)
            # km per cell step, from the raster's centre latitude
            cx, cy = ds.xy(ds.height // 2, ds.width // 2)
            clon, clat = self._to_ll.transform(cx, cy)
            ex_lon, _ = self._to_ll.transform(cx + cellw, cy)
            _, ex_lat = self._to_ll.transform(cx, cy + cellh)
            self.km_x = float(geodesic_km(clon, clat, ex_lon, clat))
            self.km_y = float(geodesic_km(clon, clat, clon, ex_lat))
        self._costs = np.where(np.isfinite(friction) & (friction >= 0), friction, np.inf)

    def _cell(self, x: float, y: float) -> tuple[int, int]:
        from rasterio.transform import rowcol

        r, c = rowcol(self.transform, x, y)
        return int(r), int(c)

    def path(
        self, start: tuple[float, float], end: tuple[float, float]
    ) -> tuple[float, list[tuple[float, float]]]:
        """Least-cost path between two lon/lat points: ``(cost, [(lon, lat), ...])`` with the
        path as cell centres. Raises ``ValueError`` when an end lies outside the raster or no
        passable path joins them."""
        from rasterio.transform import xy
        from skimage.graph import MCP_Geometric

        (sx, ex), (sy, ey) = self._to_ds.transform([start[0], end[0]], [start[1], end[1]])
        r0, c0 = self._cell(sx, sy)
        r1, c1 = self._cell(ex, ey)
        for r, c in ((r0, c0), (r1, c1)):
            if not (0 <= r < self.shape[0] and 0 <= c < self.shape[1]):
                raise ValueError("a path end lies outside the friction raster")
        mcp = MCP_Geometric(self._costs, sampling=(self.km_y, self.km_x))
        cumulative, _ = mcp.find_costs([(r0, c0)], [(r1, c1)])
        total = float(cumulative[r1, c1])
        if not math.isfinite(total):
            raise ValueError("no passable path between the two points on the friction raster")
        cells = mcp.traceback((r1, c1))
        xs, ys = xy(self.transform, [r for r, _ in cells], [c for _, c in cells])
        lons, lats = self._to_ll.transform(list(xs), list(ys))
        return total, list(zip(map(float, lons), map(float, lats), strict=True))

    def cost(self, a: tuple[float, float], b: tuple[float, float]) -> float | None:
        """The least cost between two lon/lat points, or ``None`` when either lies outside the
        raster or no passable path joins them."""
        (ax, bx), (ay, by) = self._to_ds.transform([a[0], b[0]], [a[1], b[1]])
        left, bottom, right, top = self.bounds
        if not all(left <= x <= right and bottom <= y <= top for x, y in ((ax, ay), (bx, by))):
            return None
        try:
            return self.path(a, b)[0]
        except ValueError:
            return None


def friction_path(
    raster: str | os.PathLike[str],
    start: tuple[float, float],
    end: tuple[float, float],
) -> tuple[float, list[tuple[float, float]]]:
    """Least-cost path over a friction GeoTIFF (cost per km) between two lon/lat points.

    One path; to cost many legs over one raster, open it once with :class:`FrictionSurface`.

    Parameters
    ----------
    raster
        A single-band GeoTIFF of friction per km (any CRS; nodata is impassable).
    start, end
        ``(lon, lat)`` of the two ends.

    Returns
    -------
    cost : float
        The total cost (friction × km summed along the path).
    path : list of tuple of float
        The path as lon/lat cell centres, from ``start`` to ``end``.

    Examples
    --------
    >>> import numpy as np, rasterio, tempfile, os
    >>> from affine import Affine
    >>> path = os.path.join(tempfile.mkdtemp(), "flat.tif")  # SYNTHETIC: friction 1 everywhere
    >>> with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=1,
    ...                    dtype="float32", crs="EPSG:4326",
    ...                    transform=Affine(0.1, 0, 0, 0, -0.1, 1)) as ds:
    ...     ds.write(np.ones((1, 10, 10), dtype="float32"))
    >>> cost, cells = friction_path(path, (0.05, 0.95), (0.05, 0.05))
    >>> round(cost), len(cells)
    (100, 10)
    """
    return FrictionSurface(raster).path(start, end)

"""Rasters with rasterio: hazards sampled along paths, an opportunity surface for new mines, and
least-cost land legs over a friction surface.

Rasters are read through windows and point samples, never whole; any CRS is handled by
reprojecting the sample points; nodata is honoured.
"""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np

from ._files import atomic_path
from ._geodesy import WGS84, geodesic_km, unit_vectors
from .exposure import COMPONENTS, ExposureParams
from .layers import Layers

__all__ = [
    "SURFACE_BANDS",
    "friction_path",
    "map_surface",
    "opportunity_surface",
    "sample_raster",
]

_STATS = ("max", "mean", "p90")


def _densify(geometry: Any, every_km: float) -> np.ndarray:
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


def _values_along(dataset: Any, points: np.ndarray) -> np.ndarray:
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


def sample_raster(
    paths: gpd.GeoDataFrame,
    raster: str | os.PathLike[str],
    *,
    name: str,
    stat: str = "max",
    every_km: float = 10.0,
    weight: float = 1.0,
    scale: tuple[float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Sample a GeoTIFF along every path and add it as an exposure component.

    Parameters
    ----------
    paths
        From :func:`geosource.sourcing_paths`.
    raster
        Any single-band GeoTIFF (any CRS, any size: only the pixels under the samples are read).
    name
        Name of the new component (a column; ``{name}_reason`` explains it).
    stat
        ``max``, ``mean`` or ``p90`` of the values sampled along the path.
    every_km
        Sample spacing along the path (geodesic).
    weight
        Weight of the component in the exposure, next to the built-in ones.
    scale
        ``(low, high)`` raster values mapped to 0 and 1 (clipped); default: the values are
        already in [0, 1] (values outside are an error).

    Returns
    -------
    A new GeoDataFrame: the component and its reason added, ``exposure`` and ``score`` recomputed
    with it, ranks redone within each query; ``attrs["extra_components"]`` lists it.
    """
    import rasterio

    from .scoring import Weights, pareto_by_group, score

    if stat not in _STATS:
        raise ValueError(f"stat must be one of {', '.join(_STATS)}, got {stat!r}")
    if every_km <= 0:
        raise ValueError(f"every_km must be positive, got {every_km}")
    if name in paths.columns or name in COMPONENTS or not name.isidentifier():
        raise ValueError(f"{name!r} cannot name a new component (taken or not an identifier)")
    path = Path(raster)
    if not path.exists():
        raise FileNotFoundError(f"{path}: raster not found")
    values, reasons = [], []
    with rasterio.open(path) as ds:
        dense = [_densify(geom, every_km) for geom in paths.geometry]
        sampled = _values_along(ds, np.concatenate(dense) if dense else np.zeros((0, 2)))
        offsets = np.cumsum([0, *(len(d) for d in dense)])
        for i in range(len(dense)):
            v = sampled[offsets[i] : offsets[i + 1]]
            v = v[np.isfinite(v)]
            if v.size == 0:
                values.append(0.0)
                reasons.append(f"{path.name}: no data along the path (0)")
                continue
            raw = {"max": v.max(), "mean": v.mean(), "p90": np.percentile(v, 90)}[stat]
            if scale is not None:
                lo, hi = scale
                val = float(np.clip((raw - lo) / (hi - lo), 0.0, 1.0))
            else:
                if raw < -1e-9 or raw > 1 + 1e-9:
                    raise ValueError(
                        f"{path.name}: {stat} along a path is {raw:g}, outside "
                        "[0, 1]; pass scale=(low, high) to rescale"
                    )
                val = float(np.clip(raw, 0.0, 1.0))
            values.append(val)
            reasons.append(
                f"{stat} of {path.name} every {every_km:g} km: {raw:.3g} ({v.size} samples)"
            )
    out = paths.copy()
    out[name] = values
    out[f"{name}_reason"] = reasons
    extra = {**paths.attrs.get("extra_components", {}), name: float(weight)}
    w = Weights.from_dict(paths.attrs.get("weights", {}))
    comp_w = np.array([getattr(w, c) for c in COMPONENTS])
    base = out[list(COMPONENTS)].to_numpy(dtype=float) @ comp_w
    extra_sum = sum(out[c].to_numpy(dtype=float) * wt for c, wt in extra.items())
    out["exposure"] = (base + extra_sum) / (comp_w.sum() + sum(extra.values()))
    dist = "tkm_per_t" if "tkm_per_t" in out.columns else "distance_km"
    out["score"] = score(out[dist], out["exposure"], w).to_numpy()
    keys = ["mineral", "query", "score", dist]
    out = out.sort_values(keys, kind="mergesort").reset_index(drop=True)
    out["rank"] = out.groupby(["mineral", "query"], sort=False).cumcount() + 1
    if "pareto" in out.columns:
        group = out["mineral"].astype(str) + "|" + out["query"].astype(str)
        out["pareto"] = pareto_by_group(out.assign(_g=group), "_g", dist, "exposure")
    out.attrs = {**paths.attrs, "extra_components": extra}
    return out


# ---------------------------------------------------------------------------------------------
# opportunity surface

#: Bands of the opportunity surface GeoTIFF, in order.
SURFACE_BANDS = (
    "land_km",
    "sea_km",
    "total_km",
    "concentration",
    "governance",
    "alignment",
    "export_controls",
    "exposure",
    "score",
)


def opportunity_surface(
    G: nx.MultiDiGraph,
    layers: Layers | None = None,
    *,
    mineral: str,
    to: str,
    resolution_deg: float = 0.25,
    out: str | os.PathLike[str] | None = None,
    as_of: Any = None,
    weights: Any = None,
) -> dict[str, Any]:
    """If a new mine opened in a cell, how good an option would it be for this buyer?

    For every land cell (the country boundaries rasterised with rasterio): the land distance to
    the nearest port (geodesic × circuity), the shipping distance from that port to the buyer's
    nearest demand centre (one multi-source shortest-path run from the buyer, not one per cell),
    and the cell country's exposure components for a mine there (share of world mining,
    governance, alignment with the buyer, export controls on mined product to the buyer).

    Returns
    -------
    dict with ``bands`` (name -> 2-D float32 array, NaN at sea), ``transform``, ``crs``,
    ``cells`` (land cells), and ``path`` when ``out`` names a GeoTIFF to write (one band per
    entry of :data:`SURFACE_BANDS`, with band descriptions).
    """
    import rasterio
    from affine import Affine
    from rasterio.features import rasterize
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    from .chains import as_date, buyer_centres
    from .exposure import (
        control_exposure,
        country_shares,
        governance_risk,
        measures_in_force,
        relation,
    )
    from .minerals import normalize_mineral
    from .routing import DEFAULT_MODES, _engine
    from .scoring import Weights, distance_norm

    if not 0.01 <= resolution_deg <= 5:
        raise ValueError(f"resolution_deg must be between 0.01 and 5, got {resolution_deg}")
    lay = layers if layers is not None else G.graph["layers"]
    mid = normalize_mineral(mineral)
    w = weights if isinstance(weights, Weights) else Weights.from_dict(weights or {})
    p = ExposureParams()
    buyer, centres = buyer_centres(lay, to, mid)
    width, height = round(360 / resolution_deg), round(180 / resolution_deg)
    transform = Affine(resolution_deg, 0.0, -180.0, 0.0, -(resolution_deg), 90.0)
    bounds = lay.boundaries.sort_values("iso3").reset_index(drop=True)
    codes = list(bounds["iso3"])
    country = rasterize(
        ((g, i + 1) for i, g in enumerate(bounds.geometry)),
        out_shape=(height, width),
        transform=transform,
        fill=0,
        dtype="int32",
        all_touched=False,
    )
    rows, cols = np.nonzero(country)
    lon = -180.0 + (cols + 0.5) * resolution_deg
    lat = 90.0 - (rows + 0.5) * resolution_deg

    # shipping distance from every port to the buyer: one multi-source run on the engine
    eng = _engine(G)
    masked = eng.masked("length_km", frozenset(), frozenset(), frozenset(DEFAULT_MODES))
    full = masked.full if masked.full is not None else masked
    graph = csr_matrix((full.w, (full.u, full.v)), shape=(eng.size, eng.size))
    starts = [eng.index[f"demand:{d}"] for d in sorted(centres["id"])]
    dist = dijkstra(graph, directed=True, indices=starts, min_only=True)
    port_nodes = [n for n in eng.nodes if G.nodes[n]["kind"] == "port"]
    port_idx = np.array([eng.index[n] for n in port_nodes])
    port_km = dist[port_idx]  # symmetric legs: port -> buyer equals buyer -> port
    ok = np.isfinite(port_km)
    plon = np.array([G.nodes[n]["lon"] for n in port_nodes])[ok]
    plat = np.array([G.nodes[n]["lat"] for n in port_nodes])[ok]
    port_km = port_km[ok]
    tree = cKDTree(unit_vectors(plon, plat))
    _, nearest = tree.query(unit_vectors(lon, lat), k=1)
    land_km = geodesic_km(lon, lat, plon[nearest], plat[nearest]) * float(
        G.graph.get("circuity", 1.3)
    )
    sea_km = port_km[nearest]
    total_km = land_km + sea_km

    # per-country components of a mine in that country
    shares, _ = country_shares(lay, mid, "mining")
    measures = measures_in_force(lay, as_date(as_of))
    comp = np.zeros((len(codes) + 1, 4))
    for i, iso3 in enumerate(codes, start=1):
        conc = float(shares.get(iso3, 0.0)) if not shares.empty else p.unknown
        gov = governance_risk(lay, iso3, p)[0]
        al = p.alignment[relation(lay, buyer, iso3)[0]]
        ec = control_exposure(measures, [(iso3, mid, "mining", buyer)], p)[0]
        comp[i] = (conc, gov, al, ec)
    cc = comp[country[rows, cols]]
    chokepoint_mean = 0.0  # not known per cell without routing each one; left out, see docs
    weights_c = np.array([w.concentration, w.governance, w.alignment, w.export_controls])
    exposure = (cc @ weights_c + w.chokepoints * chokepoint_mean) / (
        weights_c.sum() + w.chokepoints
    )
    dn = distance_norm(total_km)
    score = (w.distance * dn + w.exposure * exposure) / (w.distance + w.exposure)

    bands: dict[str, np.ndarray] = {}
    for name, values in zip(
        SURFACE_BANDS,
        (land_km, sea_km, total_km, cc[:, 0], cc[:, 1], cc[:, 2], cc[:, 3], exposure, score),
        strict=True,
    ):
        grid = np.full((height, width), np.nan, dtype="float32")
        grid[rows, cols] = values
        bands[name] = grid
    result: dict[str, Any] = {
        "bands": bands,
        "transform": transform,
        "crs": "EPSG:4326",
        "cells": len(rows),
        "mineral": mid,
        "buyer": buyer,
    }
    if out is not None:
        path = Path(out)
        profile = {
            "driver": "GTiff",
            "width": width,
            "height": height,
            "count": len(SURFACE_BANDS),
            "dtype": "float32",
            "crs": "EPSG:4326",
            "transform": transform,
            "nodata": float("nan"),
            "compress": "deflate",
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
        }
        with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            for i, name in enumerate(SURFACE_BANDS, start=1):
                dst.write(bands[name], i)
                dst.set_band_description(i, name)
            dst.update_tags(
                mineral=mid,
                buyer=buyer,
                resolution_deg=str(resolution_deg),
                note="chokepoint component not included (per-cell routes not run)",
            )
        result["path"] = path
    return result


def map_surface(surface: dict[str, Any], band: str = "score", m: Any = None) -> Any:
    """Draw one band of an opportunity surface on a Folium map as an image overlay + legend."""
    import folium

    from .maps import _new_map, _safe

    grid = surface["bands"][band]
    finite = grid[np.isfinite(grid)]
    lo, hi = (
        (float(np.nanpercentile(finite, 2)), float(np.nanpercentile(finite, 98)))
        if finite.size
        else (0.0, 1.0)
    )
    rgba = np.zeros((*grid.shape, 4), dtype=np.uint8)
    norm = np.clip((grid - lo) / ((hi - lo) or 1.0), 0, 1)
    stops = np.array([[26, 152, 80], [254, 224, 139], [215, 48, 39]], dtype=float)
    t = np.nan_to_num(norm) * 2
    low = np.clip(np.floor(t).astype(int), 0, 1)
    frac = (t - low)[..., None]
    rgb = stops[low] * (1 - frac) + stops[low + 1] * frac
    rgba[..., :3] = rgb.astype(np.uint8)
    rgba[..., 3] = np.where(np.isfinite(grid), 190, 0)
    if m is None:
        m = _new_map(
            f"Opportunity surface: {surface['mineral']} → {surface['buyer']}",
            f"band {band}",
            ["Lower is better. Land cells: Natural Earth 1:50m."],
        )
    folium.raster_layers.ImageOverlay(
        rgba,
        bounds=[[-90, -180], [90, 180]],
        name=_safe(f"{band} surface"),
        mercator_project=True,
        opacity=0.8,
    ).add_to(m)
    m.get_root().html.add_child(
        folium.Element(
            '<div class="gs-panel gs-legend">'
            + f"<b>{_safe(band)}</b> {lo:.3g} – {hi:.3g}"
            + "</div>"
        )
    )
    return m


# ---------------------------------------------------------------------------------------------
# friction surfaces


def friction_path(
    raster: str | os.PathLike[str],
    start: tuple[float, float],
    end: tuple[float, float],
) -> tuple[float, list[tuple[float, float]]]:
    """Least-cost path over a friction GeoTIFF (cost per km) between two lon/lat points.

    Uses scikit-image's minimum-cost-path search (MCP_Geometric) on the raster grid; the cost of
    a step is the mean friction of the two cells times the step length in km (geodesic, so
    degree rasters are handled). Cells with nodata are impassable.

    Returns
    -------
    (cost, path): the total cost and the path as lon/lat cell centres.
    """
    import rasterio
    from pyproj import Transformer
    from skimage.graph import MCP_Geometric

    with rasterio.open(raster) as ds:
        friction = ds.read(1, masked=True).astype(float).filled(np.nan)
        t = ds.transform
        to_ds = Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True)
        to_ll = Transformer.from_crs(ds.crs, "EPSG:4326", always_xy=True)
        (sx, ex), (sy, ey) = to_ds.transform([start[0], end[0]], [start[1], end[1]])
        r0, c0 = ds.index(sx, sy)
        r1, c1 = ds.index(ex, ey)
        cellw = abs(t.a)
        cellh = abs(t.e)
        # km per cell step, from the raster's centre latitude
        cx, cy = ds.xy(ds.height // 2, ds.width // 2)
        clon, clat = to_ll.transform(cx, cy)
        ex_lon, _ = to_ll.transform(cx + cellw, cy)
        _, ex_lat = to_ll.transform(cx, cy + cellh)
        km_x = float(geodesic_km(clon, clat, ex_lon, clat))
        km_y = float(geodesic_km(clon, clat, clon, ex_lat))
    for r, c in ((r0, c0), (r1, c1)):
        if not (0 <= r < friction.shape[0] and 0 <= c < friction.shape[1]):
            raise ValueError("a path end lies outside the friction raster")
    costs = np.where(np.isfinite(friction) & (friction >= 0), friction, np.inf)
    mcp = MCP_Geometric(costs, sampling=(km_y, km_x))
    cumulative, _ = mcp.find_costs([(r0, c0)], [(r1, c1)])
    total = float(cumulative[r1, c1])
    if not math.isfinite(total):
        raise ValueError("no passable path between the two points on the friction raster")
    cells = mcp.traceback((r1, c1))
    with rasterio.open(raster) as ds:
        coords = [ds.xy(r, c) for r, c in cells]
    lons, lats = to_ll.transform([x for x, _ in coords], [y for _, y in coords])
    return total, list(zip(map(float, lons), map(float, lats), strict=True))

"""Raster analyses over results: hazards sampled along sourcing paths as a new exposure
component, and an opportunity surface (how good a new mine in each land cell would be for a
buyer). Above :mod:`geosource.sourcing` in the house; rasters are read with
:mod:`geosource.raster`'s primitives, and drawn by :func:`geosource.maps.map_surface`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np

from ._files import atomic_path
from ._geodesy import geodesic_km, unit_vectors
from .chains import as_date, buyer_centres
from .exposure import (
    COMPONENTS,
    ExposureParams,
    control_exposure,
    country_shares,
    governance_risk,
    measures_in_force,
    relation,
)
from .layers import Layers
from .minerals import normalize_mineral
from .raster import densify, values_along
from .routing import DEFAULT_MODES, distances_from
from .scoring import Weights, distance_norm, pareto_by_group, score

__all__ = ["SURFACE_BANDS", "opportunity_surface", "sample_raster"]

_STATS = ("max", "mean", "p90")


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
    geopandas.GeoDataFrame
        A new frame: the component and its reason added, ``exposure`` and ``score`` recomputed
        with it, ranks redone within each query; ``attrs["extra_components"]`` lists it.

    Examples
    --------
    >>> import os, tempfile, numpy as np, rasterio, geosource as gs
    >>> from affine import Affine
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> paths = gs.sourcing_paths(G, "lithium", "IND", k=3, as_of="2025-06-30")
    >>> tif = os.path.join(tempfile.mkdtemp(), "hazard.tif")  # SYNTHETIC: 0.8 east of 60°E
    >>> hazard = np.where(np.arange(36) >= 24, 0.8, 0.1).astype("float32")[None, :]
    >>> with rasterio.open(tif, "w", driver="GTiff", width=36, height=18, count=1,
    ...                    dtype="float32", crs="EPSG:4326",
    ...                    transform=Affine(10, 0, -180, 0, -10, 90)) as dst:
    ...     dst.write(hazard.repeat(18, axis=0), 1)
    >>> scored = gs.sample_raster(paths, tif, name="hazard", stat="max")
    >>> sorted(set(scored["hazard"].round(2))), scored.attrs["extra_components"]
    ([0.8], {'hazard': 1.0})
    """
    import rasterio

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
        dense = [densify(geom, every_km) for geom in paths.geometry]
        sampled = values_along(ds, np.concatenate(dense) if dense else np.zeros((0, 2)))
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
    """How good an option a new mine in each land cell would be for a buyer.

    The question it answers: if a new mine opened in this cell, how good an option would it
    be for this buyer? For every land cell (the country boundaries rasterised with rasterio):
    the land distance to the nearest port (geodesic × circuity), the shipping distance from
    that port to the buyer's nearest demand centre (one multi-source shortest-path run from
    the buyer, not one per cell), and the cell country's exposure components for a mine there
    (share of world mining, governance, alignment with the buyer, export controls on mined
    product to the buyer).

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`.
    layers
        Override the layers the graph carries.
    mineral, to
        As in :func:`geosource.sourcing_paths` (one mineral, one buyer).
    resolution_deg
        Cell size in degrees, 0.01 to 5.
    out
        A GeoTIFF to write the bands to (written atomically).
    as_of
        Date for export controls (default: today).
    weights
        :class:`~geosource.scoring.Weights` or a dict of them, for the score band.

    Returns
    -------
    dict
        ``bands`` (name -> 2-D float32 array, NaN at sea), ``transform``, ``crs``, ``cells``
        (land cells), ``mineral`` and ``buyer``, and ``path`` when ``out`` names a GeoTIFF to
        write (one band per entry of :data:`SURFACE_BANDS`, with band descriptions).

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> s = gs.opportunity_surface(G, mineral="rare_earths", to="IND", resolution_deg=2.0)
    >>> s["bands"]["score"].shape, s["crs"]
    ((90, 180), 'EPSG:4326')
    >>> list(s["bands"]) == list(SURFACE_BANDS)
    True
    """
    import rasterio
    from affine import Affine
    from rasterio.features import rasterize
    from scipy.spatial import cKDTree

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
    dist = distances_from(G, [f"demand:{d}" for d in sorted(centres["id"])], modes=DEFAULT_MODES)
    port_nodes = [n for n in G.nodes if G.nodes[n]["kind"] == "port"]
    # symmetric legs: port -> buyer equals buyer -> port
    port_km = np.array([dist.get(n, np.inf) for n in port_nodes])
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

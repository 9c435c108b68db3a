"""SYNTHETIC layers for benchmarks: copies of the bundled facilities, never data to analyse.

The copies exist only to measure how the engine scales with the number of facilities. They are
made deterministically (a seeded numpy Generator), so two runs build the same graph.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd


def _suffixed(ids: object, suffix: str) -> object:
    """``a;b`` -> ``a<suffix>;b<suffix>``; missing values stay missing."""
    if not isinstance(ids, str):
        return ids
    return ";".join(f"{i}{suffix}" for i in ids.split(";") if i)


def replicate_facilities(
    facilities: gpd.GeoDataFrame,
    times: int,
    *,
    seed: int = 20261203,
    max_jitter_deg: float = 0.05,
) -> gpd.GeoDataFrame:
    """The facilities followed by ``times - 1`` SYNTHETIC copies of them.

    Copy ``j`` (1 to ``times - 1``) gets ids with the suffix ``-x<j>``, ``feeds`` remapped to the
    ids of the same copy, names marked ``[synthetic x<j>]``, and ``lon``/``lat`` (and the point
    geometry) moved by a uniform draw in ``[-max_jitter_deg, max_jitter_deg]`` degrees. Points
    are not kept on land or inside their country. The originals are unchanged.
    """
    if times < 1:
        raise ValueError(f"times must be at least 1, got {times}")
    rng = np.random.default_rng(seed)
    parts = [facilities]
    for j in range(1, times):
        suffix = f"-x{j}"
        copy = facilities.copy()
        copy["id"] = copy["id"] + suffix
        copy["feeds"] = copy["feeds"].map(lambda v, s=suffix: _suffixed(v, s))
        copy["name"] = copy["name"] + f" [synthetic x{j}]"
        dlon = rng.uniform(-max_jitter_deg, max_jitter_deg, len(copy))
        dlat = rng.uniform(-max_jitter_deg, max_jitter_deg, len(copy))
        copy["lon"] = (copy["lon"].to_numpy(dtype=float) + dlon + 180.0) % 360.0 - 180.0
        copy["lat"] = np.clip(copy["lat"].to_numpy(dtype=float) + dlat, -90.0, 90.0)
        copy["geometry"] = gpd.points_from_xy(copy["lon"], copy["lat"], crs=facilities.crs)
        parts.append(copy)
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=facilities.crs)

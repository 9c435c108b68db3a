"""searoute's data, read in one place: its UN/LOCODE ports, its MARNET sea lanes and the names
of the passages it can close. The lowest layer of the house: it imports nothing of geosource's
but country normalisation, so that validation, layers and the network can all use it."""

from __future__ import annotations

import importlib
import importlib.resources
import json
from functools import lru_cache
from typing import Any

import geopandas as gpd
import pandas as pd

from .countries import normalize_country

__all__ = ["SEAROUTE_PASSAGES", "load_marnet", "load_ports", "port_codes"]

#: Passage names searoute's ``restrictions`` understand (chokepoints map onto them).
SEAROUTE_PASSAGES = (
    "babalmandab",
    "bosporus",
    "dardanelles",
    "gibraltar",
    "malacca",
    "ormuz",
    "panama",
    "suez",
    "sunda",
    "south_africa",
    "northwest",
    "bering",
    "chili",
)


def load_ports() -> gpd.GeoDataFrame:
    """The ports shipped with the installed ``searoute`` package (UN/LOCODE, name, ISO3).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per port (EPSG:4326 points): ``port`` (UN/LOCODE without the space),
        ``name``, ``country`` (ISO3, ``None`` where searoute's country is not one),
        ``country_name``, ``lon`` and ``lat``. A fresh copy on every call.

    Examples
    --------
    >>> ports = load_ports()
    >>> list(ports.columns)
    ['port', 'name', 'country', 'country_name', 'lon', 'lat', 'geometry']
    >>> ports.set_index("port").loc["AUPHE", "name"]
    'Port Hedland'
    """
    return _ports_cached().copy()


@lru_cache(maxsize=1)
def _ports_cached() -> gpd.GeoDataFrame:
    data = importlib.resources.files("searoute") / "data" / "ports.geojson"
    features = json.loads(data.read_text(encoding="utf-8"))["features"]
    rows = []
    for feat in features:
        props = feat["properties"]
        lon, lat = feat["geometry"]["coordinates"][:2]
        try:
            iso3: str | None = normalize_country(str(props.get("cty", "")))
        except ValueError:
            iso3 = None
        rows.append(
            {
                "port": props["port"],
                "name": props.get("name"),
                "country": iso3,
                "country_name": props.get("cty"),
                "lon": float(lon),
                "lat": float(lat),
            }
        )
    frame = pd.DataFrame(rows).drop_duplicates("port", keep="first").reset_index(drop=True)
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame.lon, frame.lat), crs="EPSG:4326"
    )


@lru_cache(maxsize=1)
def port_codes() -> frozenset[str]:
    """UN/LOCODEs of the ports shipped with the installed ``searoute`` package.

    Examples
    --------
    >>> "INMAA" in port_codes()
    True
    """
    return frozenset(_ports_cached()["port"])


def load_marnet() -> tuple[dict[Any, Any], dict[Any, Any]]:
    """searoute's MARNET sea-lane network as shipped: ``(node_list, edge_list)``.

    Examples
    --------
    >>> nodes, edges = load_marnet()
    >>> len(edges) > 1000
    True
    """
    data = importlib.import_module("searoute.data.marnet_dict")
    return data.node_list, data.edge_list

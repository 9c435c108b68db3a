"""Geodesic helpers: WGS84 distances (pyproj), longitude wrapping, antimeridian-safe lines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod

WGS84 = Geod(ellps="WGS84")
EARTH_RADIUS_KM = 6371.0088

FloatArray = npt.NDArray[np.float64]


def wrap_lon(lon: npt.ArrayLike) -> FloatArray:
    """Longitudes wrapped to [-180, 180)."""
    arr = np.asarray(lon, dtype=float)
    wrapped: FloatArray = ((arr + 180.0) % 360.0) - 180.0
    return wrapped


def geodesic_km(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> FloatArray:
    """WGS84 geodesic distance in km (vectorised, pyproj)."""
    a = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (lon1, lat1, lon2, lat2)))
    _, _, metres = WGS84.inv(a[0], a[1], a[2], a[3])
    km: FloatArray = np.asarray(metres, dtype=float) / 1000.0
    return km


def unit_vectors(lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
    """Points on the unit sphere, for nearest-neighbour search with a k-d tree."""
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def chord_to_km(chord: npt.ArrayLike) -> FloatArray:
    """Convert unit-sphere chord lengths to great-circle km (mean Earth radius)."""
    c = np.clip(np.asarray(chord, dtype=float), 0.0, 2.0)
    km: FloatArray = 2.0 * np.arcsin(c / 2.0) * EARTH_RADIUS_KM
    return km


def split_antimeridian(coords: Sequence[tuple[float, float]]) -> shapely.MultiLineString:
    """A line through ``coords`` drawn the short way, cut where it crosses ±180°.

    Consecutive points more than 180° of longitude apart are taken to cross the antimeridian:
    the line is cut there and continued on the other side, so a map never draws a segment
    across the whole world.
    """
    parts: list[list[tuple[float, float]]] = [[]]
    prev: tuple[float, float] | None = None
    for lon, lat in coords:
        if prev is not None:
            plon, plat = prev
            dlon = lon - plon
            if abs(dlon) > 180.0:
                # crossing: interpolate the latitude at ±180
                edge = 180.0 if plon > 0 else -180.0
                span = (360.0 - abs(dlon)) or 1e-12
                frac = (edge - plon) / (span if edge > 0 else -span)
                cross_lat = plat + (lat - plat) * frac
                parts[-1].append((edge, cross_lat))
                parts.append([(-edge, cross_lat)])
        parts[-1].append((lon, lat))
        prev = (lon, lat)
    lines = [p for p in parts if len(p) >= 2]
    return shapely.MultiLineString(lines)

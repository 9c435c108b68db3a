"""Build layers/boundaries.gpkg from Natural Earth 1:50m admin-0 countries (public domain).

Input: ne_50m_admin_0_countries GeoJSON (Natural Earth v4, as converted to GeoJSON in
github.com/martynafford/natural-earth-geojson, 50m/cultural/ne_50m_admin_0_countries.7z, CC0).

    python layers/scripts/build_boundaries.py path/to/ne_50m_admin_0_countries.json

Countries are keyed by ISO3. Natural Earth leaves ISO_A3 as -99 for a few units; those take
ADM0_A3, with Kosovo as XKX (the World Bank's code) and breakaway or minor units merged into the
country that ISO 3166 assigns them to. Coordinates are snapped to a 1e-4 degree grid (~11 m).
"""

from __future__ import annotations

import sys

import geopandas as gpd
import pyogrio
import shapely

# Natural Earth units whose ISO_A3 is -99, mapped to the ISO 3166 alpha-3 they belong to.
FALLBACK = {
    "FRA": "FRA",
    "NOR": "NOR",
    "KOS": "XKX",
    "CYN": "CYP",
    "SOL": "SOM",
    "ATC": "AUS",
    "IOA": "AUS",
    "KAS": "KAS",
}


def main(src: str, dst: str = "layers/boundaries.gpkg") -> None:
    ne = gpd.read_file(src)
    iso3 = ne["ISO_A3"].where(ne["ISO_A3"] != "-99", ne["ADM0_A3"].map(FALLBACK))
    ne = ne.assign(iso3=iso3)
    missing = ne[ne["iso3"].isna()]
    if len(missing):
        raise SystemExit(f"no ISO3 for: {', '.join(missing['ADMIN'])}")
    names = ne.groupby("iso3")["ADMIN"].first()
    # the home unit's name wins (e.g. Cyprus, not Northern Cyprus)
    for code in ("CYP", "SOM", "AUS"):
        names[code] = ne.loc[ne["ADM0_A3"] == code, "ADMIN"].iloc[0]
    merged = ne.dissolve(by="iso3", as_index=False)[["iso3", "geometry"]]
    merged["name"] = merged["iso3"].map(names)
    merged["geometry"] = shapely.set_precision(merged.geometry.values, 1e-4)
    merged = merged[["iso3", "name", "geometry"]].sort_values("iso3").reset_index(drop=True)
    merged = merged.set_crs("EPSG:4326", allow_override=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    pyogrio.write_dataframe(merged, dst, layer="boundaries", driver="GPKG")
    print(f"wrote {dst}: {len(merged)} countries")


if __name__ == "__main__":
    main(*sys.argv[1:])

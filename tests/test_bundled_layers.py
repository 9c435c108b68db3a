"""The bundled layers: real, cited, inside their countries, complete enough to answer the
questions the India–US partnership asks, and round-tripping through every format."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal

import geosource as gs
from geosource._validate import COUNTRY_TOLERANCE_DEG

CORE = ["lithium", "rare_earths", "graphite", "gallium", "germanium"]
ADVANCED = ["operating", "construction", "development"]


def test_every_row_is_cited(layers):
    for name, frame in layers:
        if name == "boundaries":
            continue
        assert frame["source"].notna().all(), name
        assert (frame["source"].str.len() > 10).all(), f"{name}: a citation names its source"
        dates = frame["as_of"] if "as_of" in frame else frame["announced"]
        parsed = dates.map(dt.date.fromisoformat)
        assert (parsed <= dt.date(2026, 12, 31)).all(), name


def test_every_point_is_inside_its_country(layers):
    polygons = dict(zip(layers.boundaries["iso3"], layers.boundaries.geometry, strict=True))
    for name in ("facilities", "demand_centres", "airports"):
        frame = layers[name]
        for rec in frame.to_dict("records"):
            poly = polygons.get(rec["country"])
            assert poly is not None, f"{name} {rec}: no boundary for {rec['country']}"
            assert shapely.dwithin(
                poly, shapely.Point(rec["lon"], rec["lat"]), COUNTRY_TOLERANCE_DEG
            ), f"{name}: {rec}"


def test_every_country_in_a_layer_has_governance_and_groups(layers):
    known = set(layers.countries["iso3"])
    used = set(layers.facilities["country"]) | set(layers.demand_centres["country"])
    used |= set(layers.export_controls["country"]) | set(layers.airports["country"])
    used |= set(layers.production["country"]) - {"WLD", "ROW"}
    assert used <= known, sorted(used - known)


def test_production_countries_sum_to_world_total(layers):
    prod = layers.production.assign(product=layers.production["product"].fillna(""))
    tonnes = prod[prod["unit"] != "share"]
    key = ["mineral", "stage", "product", "year"]
    world = tonnes[tonnes["country"] == "WLD"].set_index(key)["quantity"]
    parts = tonnes[tonnes["country"] != "WLD"].groupby(key)["quantity"].sum(min_count=1)
    checked = 0
    for k, total in world.dropna().items():
        if pd.isna(parts.get(k)):
            continue  # a world total published without country figures
        # USGS rounds world totals to 2-3 significant figures: allow 2.5 %, or half a unit of
        # the second significant figure where that is more (1,800,000 stands for 1.75-1.85 Mt)
        half_unit = 0.5 * 10 ** (math.floor(math.log10(total)) - 1)
        assert parts[k] == pytest.approx(total, abs=max(0.025 * total, half_unit)), k
        checked += 1
    assert checked >= 8
    shares = prod[prod["unit"] == "share"].groupby(key)["quantity"].sum()
    assert ((shares - 1.0).abs() < 0.011).all(), shares


def test_facility_coverage(layers):
    fac = layers.facilities
    assert len(fac) >= 100
    assert set(fac["mineral"]) == set(CORE)
    options = fac[(fac["country"] != "CHN") & fac["status"].isin(ADVANCED)]
    for mineral in CORE:
        mine = options[(options["mineral"] == mineral) & (options["stage"] == "mining")]
        # processing: refineries, separation plants, and (for graphite) anode plants
        plant = options[
            (options["mineral"] == mineral) & options["stage"].isin(["refining", "manufacturing"])
        ]
        # gallium is a by-product of alumina refining (no gallium mines exist) and germanium of
        # zinc smelting: only a handful of zinc mines are reported as germanium sources
        assert len(mine) >= {"gallium": 0, "germanium": 2}.get(mineral, 4), mineral
        assert len(plant) >= 4, mineral
        assert ((fac["mineral"] == mineral) & (fac["country"] == "CHN")).any(), mineral


def test_partnership_cases_present(layers):
    fac = layers.facilities
    assert (fac["country"] == "IND").sum() >= 4
    assert fac["id"].str.contains("irel").any(), "IREL's rare-earth operations"
    ree_africa = fac[(fac["mineral"] == "rare_earths") & (fac["stage"] == "mining")]
    assert {"MWI", "TZA", "AGO", "ZAF", "UGA"} <= set(ree_africa["country"])
    li = fac[(fac["mineral"] == "lithium") & (fac["stage"] == "mining")]
    assert {"ARG", "CHL", "BRA"} <= set(li["country"])
    for mineral in ("lithium", "rare_earths"):
        assert {"USA", "AUS"} <= set(fac[fac["mineral"] == mineral]["country"])
    assert {"battery_recycling", "magnet_recycling"} <= set(fac["kind"])


def test_capacity_has_unit_year_and_basis(layers):
    fac = layers.facilities
    with_capacity = fac[fac["capacity"].notna()]
    assert len(with_capacity) >= 0.6 * len(fac)
    assert with_capacity["capacity_unit"].notna().all()
    assert with_capacity["capacity_year"].notna().mean() >= 0.85


def test_ids_unique_across_point_layers(layers):
    ids = [*layers.facilities["id"], *layers.demand_centres["id"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", ["facilities", "chokepoints", "demand_centres", "airports"])
@pytest.mark.parametrize("fmt", ["csv", "gpkg", "geojson", "parquet"])
def test_bundled_spatial_round_trip(tmp_path, layers, name, fmt):
    first = layers[name]
    second = gs.read_layer(gs.write_layer(first, tmp_path / f"{name}.{fmt}", name), name)
    second.attrs = first.attrs = {}
    assert_geodataframe_equal(first, second)


@pytest.mark.parametrize("name", ["production", "countries", "export_controls"])
@pytest.mark.parametrize("fmt", ["csv", "gpkg", "parquet"])
def test_bundled_table_round_trip(tmp_path, layers, name, fmt):
    first = layers[name]
    second = gs.read_layer(gs.write_layer(first, tmp_path / f"{name}.{fmt}", name), name)
    second.attrs = first.attrs = {}
    assert_frame_equal(first, second)


def test_load_layers_returns_independent_copies():
    a = gs.load_layers()
    a.facilities.loc[a.facilities.index[0], "name"] = "changed"
    assert gs.load_layers().facilities["name"].iloc[0] != "changed"


def test_summary_counts(layers):
    summary = layers.summary()
    total = summary[(summary["layer"] == "facilities")]["rows"].item()
    per = summary[summary["layer"].str.startswith("facilities:")]["rows"].sum()
    assert total == per == len(layers.facilities)
    assert isinstance(summary, pd.DataFrame)


def test_data_dictionary_documents_every_field():
    from pathlib import Path

    from geosource._schemas import SPECS

    text = (Path(__file__).parents[1] / "layers" / "README.md").read_text(encoding="utf-8")
    for kind, spec in SPECS.items():
        assert f"### {kind}" in text, kind
        for f in spec.fields:
            assert f"| `{f.name}` |" in text, f"{kind}.{f.name} is not in layers/README.md"

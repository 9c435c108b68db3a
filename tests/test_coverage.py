"""Coverage of the facilities layer against world totals, checked by hand on SYNTHETIC layers."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest

import geosource as gs
from geosource.cli import run

# SYNTHETIC facilities (not real plants): every number below is chosen to be checked by hand.
_FACILITIES = [
    # id, mineral, stage, status, capacity, unit, product, precision, reviewed, as_of
    ("t-mine-a", "lithium", "mining", "operating", 10000.0, "t/y spodumene concentrate",
     "spodumene_concentrate", "site", "2026-03-01", "2024-01-01"),
    ("t-mine-b", "lithium", "mining", "operating", 500.0, "t/y LCE", None, "approx",
     "2025-06-01", "2022-05-01"),
    ("t-mine-c", "lithium", "mining", "operating", None, None, None, "approx", None,
     "2023-01-01"),
    ("t-mine-d", "lithium", "mining", "development", 9999.0, "t/y LCE", None, "site",
     "2026-01-01", "2025-01-01"),
    ("t-magnet", "rare_earths", "manufacturing", "operating", 1000.0, "t/y magnets",
     "ndfeb_magnet", "approx", "2026-05-01", "2025-01-01"),
    ("t-ore", "graphite", "mining", "operating", 5000.0, "t/y ore", None, "approx", None,
     "2020-01-01"),
]  # fmt: skip

# SYNTHETIC world totals.
_PRODUCTION = [
    # mineral, stage, country, year, quantity, unit, estimate, product
    ("lithium", "mining", "WLD", 2023, 1000.0, "t Li content", False, None),
    ("lithium", "mining", "WLD", 2024, 2000.0, "t Li content", True, None),
    ("lithium", "mining", "AUS", 2024, 900.0, "t Li content", True, None),
    ("rare_earths", "refining", "WLD", 2024, 3600.0, "t REO", True, "ndfeb_magnet"),
    ("rare_earths", "mining", "WLD", 2024, 80.0, "kt magnet REE", True, None),
]


@pytest.fixture
def synthetic(layers: gs.Layers) -> gs.Layers:
    """The bundled layers with SYNTHETIC facilities and production rows."""
    cols = ["id", "mineral", "stage", "status", "capacity", "capacity_unit",
            "capacity_product", "coord_precision", "reviewed", "as_of"]  # fmt: skip
    fac = pd.DataFrame(_FACILITIES, columns=cols)
    fac["country"] = "AUS"
    fac["capacity"] = fac["capacity"].astype(float)
    fac = gpd.GeoDataFrame(fac, geometry=gpd.points_from_xy([120.0] * 6, [-25.0] * 6), crs=4326)
    prod = pd.DataFrame(
        _PRODUCTION,
        columns=["mineral", "stage", "country", "year", "quantity", "unit", "estimate", "product"],
    )
    prod["source"] = "synthetic test row (not a real figure)"
    prod["share_basis"] = None
    return layers.replace(facilities=fac, production=prod)


def test_coverage_by_hand(synthetic):
    cov = gs.layer_coverage(synthetic).set_index(["mineral", "stage"])
    li = cov.loc[("lithium", "mining")]
    # spodumene concentrate at 6% Li2O: 10000 × 0.06 × 73.89 / 29.88 t LCE; plus 500 t LCE
    capacity = 10000 * 0.06 * 73.89 / 29.88 + 500
    world = 2000 * 73.89 / (2 * 6.941)  # newest WLD year, Li content to LCE
    assert li["facilities"] == 4
    assert li["operating"] == 3
    assert li["capacity_rows"] == 2
    assert li["unknown_capacity"] == 1
    assert li["capacity_ref"] == pytest.approx(capacity)
    assert li["world"] == pytest.approx(world)
    assert li["covered"] == pytest.approx(capacity / world)
    assert li["world_year"] == 2024
    assert li["world_basis"] == "production 2024, whole stage, estimate"
    assert li["world_source"] == "synthetic test row (not a real figure)"
    assert li["unit"] == "t LCE"
    assert li["site_share"] == pytest.approx(2 / 4)
    assert li["reviewed_share"] == pytest.approx(2 / 4)  # reviewed in 2026: a and d
    assert li["oldest_as_of"] == "2022-05-01"


def test_coverage_converts_products_and_names_unknown_units(synthetic):
    cov = gs.layer_coverage(synthetic)
    by = cov.set_index(["mineral", "stage"])
    magnets = by.loc[("rare_earths", "manufacturing")]
    # 1000 t of magnets × 0.36 t REO per t (the product's reference content)
    assert magnets["capacity_ref"] == pytest.approx(1000 * gs.PRODUCTS["ndfeb_magnet"].content)
    # a row for a product made at manufacturing is that stage's world total
    assert magnets["world"] == pytest.approx(3600.0)
    assert magnets["world_basis"] == "production 2024, ndfeb magnet, estimate"
    ore = by.loc[("graphite", "mining")]
    assert ore["unknown_capacity"] == 1
    assert ore["capacity_ref"] == 0
    assert math.isnan(ore["world"])
    assert "t/y ore" in cov.attrs["unknown"]["graphite/mining"][0]
    assert cov.attrs["unknown"]["lithium/mining"] == [
        "t-mine-c (no capacity in the facilities layer)"
    ]
    assert cov.attrs["reviewed_year"] == 2026


def test_coverage_ignores_units_that_are_not_reference_content(synthetic):
    """kt of magnet REE (four elements) is not total REO: no denominator for mining."""
    world = gs.coverage.world_total(synthetic.production, "rare_earths", "mining")
    assert math.isnan(world["world"])
    assert world["world_basis"].startswith("no world total")


def test_coverage_on_bundled_layers(layers):
    cov = gs.layer_coverage(layers)
    assert list(cov.columns) == list(gs.coverage.COVERAGE_COLUMNS)
    assert (cov["facilities"].sum()) == len(layers.facilities)
    assert cov["site_share"].between(0, 1).all()
    assert (cov["unknown_capacity"] <= cov["operating"]).all()
    named = cov[cov["world"].notna()]
    assert not named.empty
    assert (named["world_source"].str.len() > 10).all()


def test_layers_list_prints_coverage(capsys):
    assert run(["layers", "list"]) == 0
    out = capsys.readouterr().out
    assert "coverage of the facilities layer" in out
    assert "world totals:" in out
    assert "[1] lithium mining: production" in out
    assert "have no capacity" in out


def test_production_rows_are_cited(layers):
    """Every production row names its source and date; a figure says whether it is an estimate."""
    prod = layers.production
    assert (prod["source"].str.len() > 10).all()
    assert prod["as_of"].notna().all()
    figures = prod[prod["quantity"].notna()]
    assert figures["estimate"].notna().all()
    shares = figures[figures["unit"] == "share"]
    assert shares["quantity"].between(0, 1).all()

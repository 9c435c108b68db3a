"""Round trips: read -> write -> read gives an equal frame, in every format, keeping every column.

The frames here are SYNTHETIC test rows (see conftest.py); bundled-layer round trips are in
test_bundled_layers.py.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal

import geosource as gs
from geosource.errors import LayerError

ROOT = Path(__file__).resolve().parents[1]

POINT_FORMATS = ["csv", "gpkg", "geojson", "parquet", "shp"]


@pytest.mark.parametrize("fmt", POINT_FORMATS)
def test_point_layer_round_trip(tmp_path, synthetic_facilities_csv, fmt):
    first = gs.read_layer(synthetic_facilities_csv, "facilities")
    assert "analyst_flag" in first.columns, "a user's own column is kept"
    if fmt == "shp":
        first = first.rename(columns={"analyst_flag": "flag"})
    path = gs.write_layer(first, tmp_path / f"out.{fmt}", "facilities")
    second = gs.read_layer(path, "facilities")
    if fmt == "shp":
        # Shapefile names are cut to 10 characters; geosource maps its own fields back
        assert "coord_precision" in second.columns
    assert_geodataframe_equal(first, second, check_like=False)


@pytest.mark.parametrize("fmt", ["csv", "gpkg", "geojson", "parquet"])
def test_polygon_layer_round_trip(tmp_path, synthetic_chokepoints, fmt):
    src = tmp_path / "chokepoints.csv"
    synthetic_chokepoints.to_csv(src, index=False)
    first = gs.read_layer(src, "chokepoints")
    assert first.geometry.geom_type.tolist() == ["Polygon", "Polygon"]
    second = gs.read_layer(
        gs.write_layer(first, tmp_path / f"out.{fmt}", "chokepoints"), "chokepoints"
    )
    assert_geodataframe_equal(first, second)


@pytest.mark.parametrize("fmt", ["csv", "gpkg", "parquet"])
def test_table_round_trip(tmp_path, fmt):
    """SYNTHETIC production rows."""
    src = tmp_path / "production.csv"
    pd.DataFrame(
        {
            "mineral": ["lithium", "lithium"],
            "stage": ["mining", "mining"],
            "country": ["AUS", "WLD"],
            "year": ["2024", "2024"],
            "quantity": ["88000", ""],
            "unit": ["t Li content"] * 2,
            "estimate": ["true", ""],
            "source": ["synthetic"] * 2,
            "as_of": ["2025-01-31"] * 2,
            "my_note": ["keep me", ""],
        }
    ).to_csv(src, index=False)
    first = gs.read_layer(src, "production")
    second = gs.read_layer(
        gs.write_layer(first, tmp_path / f"out.{fmt}", "production"), "production"
    )
    assert_frame_equal(first, second)


def test_geojson_refuses_tables(tmp_path):
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(gs.errors.LayerError, match="cannot be written as GeoJSON"):
        gs.write_layer(frame, tmp_path / "t.geojson")


def test_shapefile_refuses_long_user_columns(tmp_path, synthetic_facilities_csv):
    data = gs.read_layer(synthetic_facilities_csv, "facilities")
    data["a_very_long_column"] = 1
    with pytest.raises(gs.errors.LayerError, match="longer than the 10 characters"):
        gs.write_layer(data, tmp_path / "t.shp", "facilities")


def test_other_crs_is_reprojected_with_a_warning(tmp_path, synthetic_facilities_csv):
    data = gs.read_layer(synthetic_facilities_csv, "facilities")
    path = tmp_path / "mercator.gpkg"
    gs.write_layer(data.drop(columns=["lon", "lat"]).to_crs("EPSG:3857"), path, "facilities")
    with pytest.warns(gs.errors.ReprojectedWarning, match="from EPSG:3857 to EPSG:4326"):
        back = gs.read_layer(path, "facilities")
    assert back.crs.to_string() == "EPSG:4326"
    assert back["lon"].tolist() == pytest.approx(data["lon"].tolist(), abs=1e-7)
    assert back["lat"].tolist() == pytest.approx(data["lat"].tolist(), abs=1e-7)


def test_geometry_and_lonlat_must_agree(tmp_path, synthetic_facilities_csv):
    data = gs.read_layer(synthetic_facilities_csv, "facilities")
    data.loc[0, "lon"] = 100.0
    path = gs.write_layer(data, tmp_path / "x.gpkg", "facilities")
    with pytest.raises(gs.errors.LayerError, match=r"row 1, field `geometry`: .* does not match"):
        gs.read_layer(path, "facilities")


def test_names_and_codes_normalised(synthetic_facilities_csv):
    data = gs.read_layer(synthetic_facilities_csv, "facilities")
    assert data["country"].tolist() == ["AUS", "IND", "USA"]
    assert data["mineral"].tolist() == ["lithium", "rare_earths", "rare_earths"]
    assert isinstance(data, gpd.GeoDataFrame)
    assert data.crs.to_string() == "EPSG:4326"


def test_gpkg_bytes_are_deterministic(tmp_path, synthetic_facilities_csv):
    data = gs.read_layer(synthetic_facilities_csv, "facilities")
    a = gs.write_layer(data, tmp_path / "a.gpkg", "facilities").read_bytes()
    b = gs.write_layer(data, tmp_path / "b.gpkg", "facilities").read_bytes()
    assert a == b


def test_no_warning_on_clean_read(synthetic_facilities_csv):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gs.read_layer(synthetic_facilities_csv, "facilities")


@pytest.mark.parametrize("kind", ["supply_mix", "offtakes", "demand"])
@pytest.mark.parametrize("fmt", ["csv", "gpkg", "parquet"])
def test_new_table_layers_round_trip(tmp_path, kind, fmt):
    """The bundled rows of the demand, supply-mix and offtake layers survive every format."""
    first = gs.read_layer(ROOT / "layers" / f"{kind}.csv", kind)
    second = gs.read_layer(gs.write_layer(first, tmp_path / f"out.{fmt}", kind), kind)
    assert_frame_equal(first, second)


@pytest.mark.parametrize(
    ("kind", "row", "field", "value", "message"),
    [
        ("supply_mix", 0, "share", "1.3", "row 1, field `share`: 1.3"),
        ("supply_mix", 2, "basis", "exports", "row 3, field `basis`: 'exports'"),
        ("supply_mix", 1, "mineral", "unobtainium", "row 2, field `mineral`: 'unobtainium'"),
        ("offtakes", 0, "tonnes_per_year", "-5", "row 1, field `tonnes_per_year`: -5"),
        ("offtakes", 3, "as_of", "2025-13-01", "row 4, field `as_of`: '2025-13-01'"),
    ],
)
def test_new_layers_bad_cells_name_file_row_field_and_value(
    tmp_path, kind, row, field, value, message
):
    frame = pd.read_csv(ROOT / "layers" / f"{kind}.csv", dtype=str, keep_default_na=False)
    frame.loc[row, field] = value
    path = tmp_path / f"{kind}.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(LayerError) as err:
        gs.read_layer(path, kind)
    text = str(err.value)
    assert f"{path}, {message}" in text, text


@pytest.mark.parametrize("call", ["read", "validate"])
def test_unknown_layer_kind_names_the_valid_ones(call):
    fn = gs.read_layer if call == "read" else gs.validate_layer
    with pytest.raises(LayerError) as info:
        fn("no-such-file.csv", "facility")  # the kind is checked before the file is read
    text = str(info.value)
    assert "unknown layer kind 'facility'" in text
    assert "did you mean 'facilities'?" in text and "demand_centres" in text

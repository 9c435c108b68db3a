"""Bad input: every problem is named precisely (file, row, field), and the CLI exits 2 cleanly.

All rows here are SYNTHETIC test data built from the `synthetic_facilities` fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import geosource as gs
from geosource.cli import run


def _set(row: int, field: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df.loc[row - 1, field] = value
        return df

    return change


def _drop(field: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: df.drop(columns=[field])


# (case id, change to the synthetic facilities, row, field, text the message must contain)
FACILITY_CASES = [
    (
        "unknown-country",
        _set(2, "country", "Indai"),
        2,
        "country",
        "'Indai' is not a country. Did you mean 'IND' (India)?",
    ),
    (
        "swapped-out-of-range",
        lambda df: _set(1, "lon", "-33.86")(_set(1, "lat", "118.07")(df)),
        1,
        "lat",
        "look swapped",
    ),
    (
        "point-outside-country",
        _set(3, "country", "CHN"),
        3,
        "country",
        "lies in USA (United States)",
    ),
    ("duplicate-id", _set(3, "id", "t-one"), 3, "id", "duplicate value 't-one' (also on row 1)"),
    (
        "comma-decimal",
        _set(1, "capacity", "1,5"),
        1,
        "capacity",
        "'1,5' is not a number (comma as decimal or thousands separator)",
    ),
    ("negative-capacity", _set(1, "capacity", "-5"), 1, "capacity", "below the minimum 0"),
    (
        "bad-date",
        _set(1, "as_of", "2024-13-01"),
        1,
        "as_of",
        "'2024-13-01' is not a date of the form YYYY-MM-DD",
    ),
    ("month-only-date", _set(2, "as_of", "2024-06"), 2, "as_of", "'2024-06' is not a date"),
    (
        "unknown-mineral",
        _set(1, "mineral", "Lithum"),
        1,
        "mineral",
        "'Lithum' is not a known mineral. Did you mean 'lithium'?",
    ),
    (
        "unknown-stage",
        _set(2, "stage", "smelting"),
        2,
        "stage",
        "'smelting' is not an allowed value",
    ),
    ("empty-source", _set(3, "source", ""), 3, "source", "is empty"),
    (
        "bad-bool",
        _set(1, "capacity_estimate", "maybe"),
        1,
        "capacity_estimate",
        "'maybe' is not true or false",
    ),
    (
        "capacity-without-unit",
        _set(1, "capacity_unit", ""),
        1,
        "capacity_unit",
        "capacity is given without a unit",
    ),
    (
        "locode-not-in-searoute",
        _set(1, "export_port", "AUZZZ"),
        1,
        "export_port",
        "'AUZZZ' is not in searoute's port list",
    ),
    ("locode-malformed", _set(1, "export_port", "Bunbury"), 1, "export_port", "is not a UN/LOCODE"),
    ("lon-out-of-range", _set(2, "lon", "200"), 2, "lon", "above the maximum 180"),
    ("lon-not-number", _set(2, "lon", "80°E"), 2, "lon", "'80°E' is not a number"),
    ("bad-id", _set(1, "id", "Mine One!"), 1, "id", "has the wrong form"),
    (
        "bad-precision",
        _set(1, "coord_precision", "exact"),
        1,
        "coord_precision",
        "'exact' is not an allowed value",
    ),
    ("bad-year", _set(1, "capacity_year", "2024.5"), 1, "capacity_year", "is not a whole number"),
    ("empty-name", _set(2, "name", "  "), 2, "name", "is empty"),
]


def _write(tmp_path: Path, df: pd.DataFrame, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("case", "change", "row", "field", "text"), FACILITY_CASES, ids=[c[0] for c in FACILITY_CASES]
)
def test_bad_facility_rows(tmp_path, capsys, synthetic_facilities, case, change, row, field, text):
    path = _write(tmp_path, change(synthetic_facilities))
    with pytest.raises(gs.errors.LayerError) as info:
        gs.read_layer(path, "facilities")
    hits = [p for p in info.value.problems if p.row == row and p.field == field]
    assert hits, f"no problem reported at row {row}, field {field}: {info.value}"
    assert any(text in p.problem for p in hits), str(info.value)
    assert all(p.fix for p in hits), "every problem suggests a fix"
    # the same file through the CLI: exit code 2, the message, no traceback
    code = run(["layers", "validate", str(path), "--kind", "facilities"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"row {row}, field `{field}`" in err
    assert text in err
    assert "Traceback" not in err


def test_swapped_coordinates_inside_range(tmp_path, synthetic_facilities):
    """Chennai given as (lat, lon) = (80.27, 13.08) swapped: both in range, caught by the
    boundary check."""
    df = synthetic_facilities.copy()
    df.loc[1, ["lon", "lat"]] = ["13.08", "80.27"]
    with pytest.raises(gs.errors.LayerError, match=r"row 2, field `lat`: .* look swapped"):
        gs.read_layer(_write(tmp_path, df), "facilities")


def test_all_problems_reported_at_once(tmp_path, synthetic_facilities):
    df = synthetic_facilities.copy()
    df.loc[0, "country"] = "Atlantis"
    df.loc[1, "lat"] = "north"
    df.loc[2, "status"] = "maybe"
    with pytest.raises(gs.errors.LayerError) as info:
        gs.read_layer(_write(tmp_path, df), "facilities")
    assert {(p.row, p.field) for p in info.value.problems} == {
        (1, "country"),
        (2, "lat"),
        (3, "status"),
    }
    assert str(info.value).startswith("3 problems found:")


FILE_CASES = [
    ("missing-column", lambda df: df.drop(columns=["lat"]), "field `lat`: missing column"),
    ("header-only", lambda df: df.iloc[0:0], "the file has no rows"),
]


@pytest.mark.parametrize(("case", "change", "text"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_files(tmp_path, capsys, synthetic_facilities, case, change, text):
    path = _write(tmp_path, change(synthetic_facilities))
    assert run(["layers", "validate", str(path), "--kind", "facilities"]) == 2
    err = capsys.readouterr().err
    assert text in err
    assert "Traceback" not in err


def _cli_error(args: list[str], capsys) -> str:
    code = run(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err


def test_file_not_found(tmp_path, capsys):
    err = _cli_error(["layers", "validate", str(tmp_path / "nope.csv")], capsys)
    assert "nope.csv: file not found" in err


def test_unsupported_suffix(tmp_path, capsys):
    path = tmp_path / "mines.xlsx"
    path.write_bytes(b"PK")
    err = _cli_error(["layers", "validate", str(path)], capsys)
    assert "unsupported file type '.xlsx'" in err


def test_malformed_csv(tmp_path, capsys):
    path = tmp_path / "broken.csv"
    path.write_text('id,name\n"t-one,Unclosed quote\n', encoding="utf-8")
    err = _cli_error(["layers", "validate", str(path), "--kind", "facilities"], capsys)
    assert "is not a well-formed CSV" in err


def test_not_utf8(tmp_path, capsys, synthetic_facilities):
    path = tmp_path / "latin1.csv"
    df = synthetic_facilities.copy()
    df.loc[0, "name"] = "Salar de Atacama – Añ"
    df.to_csv(path, index=False, encoding="latin-1", errors="replace")
    path.write_bytes(path.read_bytes().replace(b"A?", b"\xe9\xff"))
    err = _cli_error(["layers", "validate", str(path), "--kind", "facilities"], capsys)
    assert "is not UTF-8 text" in err


def test_unknown_kind_option(synthetic_facilities_csv, capsys):
    err = _cli_error(["layers", "validate", synthetic_facilities_csv, "--kind", "mines"], capsys)
    assert "unknown kind 'mines'" in err
    assert "facilities" in err


def test_kind_cannot_be_guessed(tmp_path, capsys):
    path = tmp_path / "odd.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    err = _cli_error(["layers", "validate", str(path)], capsys)
    assert "cannot tell which kind of layer this is" in err


def test_unknown_layer_name(capsys):
    err = _cli_error(["layers", "show", "mines"], capsys)
    assert "no layer 'mines'" in err


def test_geopackage_with_other_layers(tmp_path, capsys, synthetic_facilities_csv):
    import pyogrio

    data = gs.read_layer(synthetic_facilities_csv, "facilities")
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(data, path, layer="a")
    pyogrio.write_dataframe(data, path, layer="b", append=False)
    err = _cli_error(["layers", "validate", str(path), "--kind", "facilities"], capsys)
    assert "has 2 layers and none is named 'facilities'" in err


def test_export_control_checks(tmp_path):
    """SYNTHETIC measures: dates out of order, a suspension without a target, a dangling one."""
    df = pd.DataFrame(
        {
            "id": ["m-one", "m-two", "m-three"],
            "country": ["CHN", "CHN", "CHN"],
            "minerals": ["gallium;germanium", "gallium", "Graphite"],
            "products": ["x", "x", "x"],
            "stage": ["refining", "refining", "refining"],
            "measure": ["licence", "suspension", "suspension"],
            "targets": ["all", "USA", "US;India"],
            "announced": ["2023-07-03", "2025-11-09", "2025-11-09"],
            "effective": ["2023-08-01", "2025-11-09", "2025-11-09"],
            "ends": ["2023-01-01", "2026-11-27", ""],
            "suspends": ["", "", "m-nine"],
            "source": ["synthetic", "synthetic", "synthetic"],
            "notes": ["", "", ""],
        }
    )
    path = _write(tmp_path, df, "controls.csv")
    with pytest.raises(gs.errors.LayerError) as info:
        gs.read_layer(path, "export_controls")
    got = {(p.row, p.field): p.problem for p in info.value.problems}
    assert "is before effective" in got[(1, "ends")]
    assert "must name the measure it suspends" in got[(2, "suspends")]
    assert "'m-nine' is not the id of a measure" in got[(3, "suspends")]
    assert len(got) == 3


def test_chokepoint_checks(tmp_path, synthetic_chokepoints):
    df = synthetic_chokepoints.copy()
    df.loc[0, "geometry_wkt"] = "POLYGON ((10 5, 11 5"
    df.loc[1, "risk"] = "1.5"
    df.loc[1, "searoute_passage"] = "malaca"
    with pytest.raises(gs.errors.LayerError) as info:
        gs.read_layer(_write(tmp_path, df, "chokepoints.csv"), "chokepoints")
    got = {(p.row, p.field): p.problem for p in info.value.problems}
    assert "is not valid WKT" in got[(1, "geometry_wkt")]
    assert "above the maximum 1" in got[(2, "risk")]
    assert "'malaca' is not a searoute passage" in got[(2, "searoute_passage")]


def test_production_duplicates(tmp_path):
    """SYNTHETIC production rows: the same figure twice."""
    df = pd.DataFrame(
        {
            "mineral": ["lithium", "lithium"],
            "stage": ["mining", "mining"],
            "country": ["AUS", "Australia"],
            "year": ["2024", "2024"],
            "quantity": ["1", "2"],
            "unit": ["t", "t"],
            "estimate": ["true", "true"],
            "source": ["s", "s"],
            "as_of": ["2025-01-31", "2025-01-31"],
        }
    )
    with pytest.raises(gs.errors.LayerError, match=r"row 2, field `country`: duplicate figure"):
        gs.read_layer(_write(tmp_path, df, "production.csv"), "production")


def test_skip_invalid_reports_every_skipped_row(tmp_path, capsys, synthetic_facilities):
    df = synthetic_facilities.copy()
    df.loc[1, "country"] = "Atlantis"
    path = _write(tmp_path, df)
    with pytest.warns(
        gs.errors.SkippedRowsWarning, match=r"skipped 1 of 3 rows:\n  row 2 \(t-two\)"
    ):
        data = gs.read_layer(path, "facilities", skip_invalid=True)
    assert list(data["id"]) == ["t-one", "t-three"]
    skipped = data.attrs["skipped"]
    assert skipped.to_dict("records") == [
        {"row": 2, "id": "t-two", "reasons": "country: 'Atlantis' is not a country."}
    ]
    out = tmp_path / "good.gpkg"
    code = run(["layers", "validate", str(path), "--skip-invalid", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert "row 2 (t-two): country: 'Atlantis' is not a country." in captured.err
    assert "2 valid facilities rows" in captured.out
    assert list(gs.read_layer(out, "facilities")["id"]) == ["t-one", "t-three"]


def test_valid_file_exits_zero(synthetic_facilities_csv, capsys):
    assert run(["layers", "validate", synthetic_facilities_csv]) == 0
    assert "3 valid facilities rows" in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".parquet"])
@pytest.mark.parametrize(
    ("shape", "text"),
    [
        ("POLYGON ((80 13, 81 13, 81 14, 80 13))", "is a Polygon, not a point"),
        ("LINESTRING (80 13, 81 14)", "is a LineString, not a point"),
        ("MULTIPOINT ((80 13), (81 14))", "is a MultiPoint, not a point"),
        ("POINT Z (80.27 13.08 5)", "is a 3D point (z = 5)"),
    ],
)
def test_non_point_geometry_in_a_point_layer(tmp_path, synthetic_facilities, suffix, shape, text):
    """SYNTHETIC rows as a spatial file without lon/lat columns; row 2 is not a 2D point."""
    import geopandas as gpd
    import shapely

    df = synthetic_facilities.drop(columns=["lon", "lat"])
    points = [shapely.Point(118.07, -33.86), shapely.from_wkt(shape), shapely.Point(-97.33, 32.75)]
    gdf = gpd.GeoDataFrame(df, geometry=points, crs="EPSG:4326")
    path = tmp_path / f"mixed{suffix}"
    gdf.to_parquet(path) if suffix == ".parquet" else gdf.to_file(path)
    with pytest.raises(gs.errors.LayerError) as info:
        gs.read_layer(path, "facilities")
    assert [(p.row, p.field) for p in info.value.problems] == [(2, "geometry")]
    assert text in info.value.problems[0].problem
    with pytest.warns(gs.errors.SkippedRowsWarning):
        kept = gs.read_layer(path, "facilities", skip_invalid=True)
    assert list(kept["id"]) == ["t-one", "t-three"]
    assert not kept.geometry.has_z.any()

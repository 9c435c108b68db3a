"""Parse and validate a layer frame, collecting every problem before raising once.

The flow for one frame: normalise column names, parse each cell to its type (so that a bad cell
gets a precise message), normalise countries/minerals/ports, run the kind's pandera schema, then
the cross-field checks (lat/lon swaps, points outside their country, dangling references).
"""

from __future__ import annotations

import difflib
import logging
import warnings
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._parse import (
    NA,
    PARSERS,
    aggregate_country_parser,
    check_list_items,
    is_missing,
    normalise_list,
)
from ._schemas import DTYPES, SPECS, FieldSpec, LayerSpec, pandera_schema
from .countries import country_name
from .errors import LayerError, Problem, ReprojectedWarning
from .minerals import EXTERNAL_INPUTS, PRODUCTS

log = logging.getLogger(__name__)

#: A point counts as inside its stated country within this many degrees of the 1:50m polygon
#: (about 22 km at the equator): coastal sites, airports on reclaimed land and ports sit on or
#: beyond the generalised coastline.
COUNTRY_TOLERANCE_DEG = 0.2


@dataclass
class ValidationReport:
    """What validating one layer found.

    Attributes
    ----------
    kind
        The layer kind.
    file
        The file (or label) the rows came from.
    data
        Every row, parsed and normalised (GeoDataFrame for spatial kinds). Rows with problems
        keep their original values where a value could not be parsed.
    problems
        Every problem found, in file order.
    renamed
        Columns renamed to their canonical names (e.g. ``Longitude`` -> ``lon``).
    """

    kind: str
    file: str
    data: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    @property
    def bad_rows(self) -> list[int]:
        """1-based numbers of the rows with at least one problem."""
        return sorted({p.row for p in self.problems if p.row is not None})

    def raise_if_invalid(self) -> None:
        """Raise :class:`~geosource.errors.LayerError` listing every problem, if any."""
        if self.problems:
            raise LayerError(self.problems)

    def file_problems(self) -> list[Problem]:
        """Problems that concern the whole file rather than a row (e.g. a missing column)."""
        return [p for p in self.problems if p.row is None]

    def valid(self) -> pd.DataFrame:
        """The rows without problems, keeping their original order and index."""
        bad = {r - 1 for r in self.bad_rows}
        keep = [i for i in range(len(self.data)) if i not in bad]
        return self.data.iloc[keep]

    def skipped_lines(self) -> list[str]:
        """One readable line per skipped row: ``row N (id): field: reason; ...``."""
        return [
            f"row {r['row']}" + (f" ({r['id']})" if r["id"] else "") + f": {r['reasons']}"
            for r in self.skipped().to_dict("records")
        ]

    def skipped(self) -> pd.DataFrame:
        """One row per skipped row: its number, id (where the kind has one) and every reason."""
        spec = SPECS[self.kind]
        reasons: dict[int, list[str]] = {}
        for p in self.problems:
            if p.row is not None:
                text = f"{p.field}: {p.problem}" if p.field else p.problem
                reasons.setdefault(p.row, []).append(text)
        rows = []
        for row in sorted(reasons):
            ident = None
            if spec.id_field and spec.id_field in self.data.columns:
                value = self.data[spec.id_field].iloc[row - 1]
                ident = None if is_missing(value) else str(value)
            rows.append({"row": row, "id": ident, "reasons": "; ".join(reasons[row])})
        return pd.DataFrame(rows, columns=["row", "id", "reasons"])


# --------------------------------------------------------------------------------------------
# the validator


def _canonical_columns(frame: pd.DataFrame, spec: LayerSpec) -> dict[str, str]:
    """Map the frame's column names to the spec's names (case, aliases, shapefile truncation)."""
    known = spec.names
    renames: dict[str, str] = {}
    taken = {c for c in frame.columns if c in known}
    for col in frame.columns:
        if col in known or col == "geometry":
            continue
        key = str(col).strip().lower()
        target = None
        if key in known:
            target = key
        elif key in spec.aliases:
            target = spec.aliases[key]
        elif len(key) == 10:
            matches = [n for n in known if n.startswith(key)]
            target = matches[0] if len(matches) == 1 else None
        if target is not None and target not in taken:
            renames[str(col)] = target
            taken.add(target)
    return renames


def _split_geometry(frame: pd.DataFrame, file: str) -> tuple[pd.DataFrame, gpd.GeoSeries | None]:
    """A plain frame and its geometry (reprojected to EPSG:4326, with a warning), if any."""
    if not (isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns):
        return frame, None
    crs = frame.crs
    if crs is not None and not crs.equals("EPSG:4326"):
        warnings.warn(
            f"{file}: reprojected from {crs.to_string()} to EPSG:4326 (WGS84 lon/lat)",
            ReprojectedWarning,
            stacklevel=4,
        )
        frame = frame.to_crs("EPSG:4326")
    geom = frame.geometry
    return pd.DataFrame(frame.drop(columns=frame.geometry.name)), geom


def _points_from_geometry(
    frame: pd.DataFrame, geom: gpd.GeoSeries, file: str, problems: list[Problem]
) -> tuple[gpd.GeoSeries, set[int]]:
    """Points given as geometry only: lon/lat derived (in place) from 2D points; every other
    geometry is a problem of its row. Returns the geometry and the rows that are not points."""
    geom = geom.map(_single_point)  # formats that promote points to one-part MultiPoints
    not_points: set[int] = set()
    for i, g in enumerate(geom):
        problem = _not_a_point(g)
        if problem is not None:
            problems.append(Problem(file, i + 1, "geometry", *problem))
            not_points.add(i)
    for axis, coord in (("lon", "x"), ("lat", "y")):
        if axis not in frame.columns:
            frame[axis] = [
                np.nan if i in not_points or g is None or g.is_empty else getattr(g, coord)
                for i, g in enumerate(geom)
            ]
    return geom, not_points


def _missing_columns(
    frame: pd.DataFrame, geom: gpd.GeoSeries | None, spec: LayerSpec, file: str
) -> list[Problem]:
    """One problem per required column (or polygon geometry) the frame lacks."""
    problems = []
    if (
        spec.geometry == "polygon"
        and geom is None
        and "geometry_wkt" not in frame.columns
        and len(frame)
    ):
        problems.append(
            Problem(
                file,
                None,
                "geometry_wkt",
                "missing column",
                "add a `geometry_wkt` column with a WKT POLYGON per row",
            )
        )
    for f in spec.fields:
        if f.required and f.name not in frame.columns:
            problems.append(
                Problem(
                    file,
                    None,
                    f.name,
                    "missing column",
                    f"add a `{f.name}` column ({f.doc or f.type})"
                    + (f"; {f.fix}" if f.fix else ""),
                )
            )
    return problems


def _parse_cell(kind: str, f: FieldSpec, raw: Any) -> tuple[Any, str | None]:
    """One cell parsed by its field's type (lists checked item by item and normalised)."""
    parser = PARSERS[f.type]
    if f.type == "country" and kind == "production":
        parser = aggregate_country_parser
    value, err = parser(raw)
    if err is None and f.type == "list" and value is not NA:
        item_errors = check_list_items(kind, f.name, str(value))
        if item_errors:
            return value, "; ".join(item_errors)
        value = normalise_list(kind, f.name, str(value))
    return value, err


def _parse_fields(
    frame: pd.DataFrame,
    spec: LayerSpec,
    file: str,
    problems: list[Problem],
    failed: set[tuple[int, str]],
) -> pd.DataFrame:
    """Every field parsed by type; a cell that fails is a problem, marked failed and left NA."""
    out = frame.copy()
    for f in spec.fields:
        if f.name not in frame.columns:
            if not f.required:
                out[f.name] = _series([NA] * len(frame), f.type)
            continue
        values: list[Any] = []
        for i, raw in enumerate(frame[f.name].tolist()):
            value, err = _parse_cell(spec.kind, f, raw)
            if err is not None:
                problems.append(Problem(file, i + 1, f.name, err, f.fix))
                failed.add((i, f.name))
                value = NA
            values.append(value)
        out[f.name] = _series(values, f.type)
    return out


def _blank_user_text(out: pd.DataFrame, spec: LayerSpec) -> None:
    """A user's own text columns: an empty cell is missing, as every format can store it."""
    for col in out.columns:
        if (
            col not in spec.names
            and col != "geometry_wkt"
            and (out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype))
        ):
            out[col] = out[col].mask(out[col].astype("str").eq(""))


def validate_frame(
    frame: pd.DataFrame,
    kind: str,
    *,
    file: str = "<data>",
    boundaries: gpd.GeoDataFrame | None = None,
) -> ValidationReport:
    """Parse and validate a frame of a layer kind, collecting every problem.

    Parameters
    ----------
    frame
        Raw rows: text cells from a CSV, or typed cells from a vector file.
    kind
        The layer kind (``facilities``, ``production``, ...).
    file
        Name used in every message.
    boundaries
        Country polygons (``iso3``, geometry) for the point-in-country check; ``None`` skips it.

    Returns
    -------
    ValidationReport
        Never raises for bad data; call :meth:`ValidationReport.raise_if_invalid`.
    """
    spec = SPECS[kind]
    problems: list[Problem] = []
    frame = frame.reset_index(drop=True)
    renamed = _canonical_columns(frame, spec)
    frame = frame.rename(columns=renamed)
    for old, new in renamed.items():
        log.info("%s: column %r read as %r", file, old, new)

    frame, geom = _split_geometry(frame, file)
    if len(frame) == 0:
        problems.append(
            Problem(
                file, None, None, "the file has no rows", "add at least one row below the header"
            )
        )
    not_points: set[int] = set()
    if spec.geometry == "point" and geom is not None:
        geom, not_points = _points_from_geometry(frame, geom, file, problems)
    problems.extend(_missing_columns(frame, geom, spec, file))
    # a row whose geometry is not a point has no lon/lat to check further
    failed: set[tuple[int, str]] = {(i, axis) for i in not_points for axis in ("lon", "lat")}
    out = _parse_fields(frame, spec, file, problems, failed)
    _blank_user_text(out, spec)
    problems.extend(_swap_checks(out, spec, file, failed))
    # pandera: emptiness, choices, ranges, patterns, uniqueness
    problems.extend(_run_pandera(out, spec, file, failed))

    # geometry
    geometry = _build_geometry(out, frame, geom, spec, file, problems, failed)
    problems.extend(_cross_checks(out, spec, file, failed))
    if spec.geometry == "point" and boundaries is not None:
        problems.extend(_country_checks(out, spec, file, failed, boundaries))

    # keep the user's column order: canonical ones first as they came, extras after
    order = [c for c in frame.columns if c in out.columns]
    order += [c for c in spec.names if c not in order and c in out.columns]
    order += [c for c in out.columns if c not in order and c != "geometry_wkt"]
    if spec.geometry == "polygon" and "geometry_wkt" in order:
        order.remove("geometry_wkt")
    data = out[order]
    if spec.geometry is not None:
        data = gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")
    problems = _dedupe(problems)
    return ValidationReport(kind, file, data, problems, renamed)


def _series(values: list[Any], type_: str) -> pd.Series:
    """A column of parsed values in the field type's canonical dtype."""
    dtype = DTYPES[type_]
    if dtype == "float64":
        return pd.Series([np.nan if v is NA else v for v in values], dtype="float64")
    if dtype == "str":
        return pd.Series([np.nan if v is NA else v for v in values], dtype="str")
    return pd.Series(values, dtype=dtype)


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return sorted(out, key=lambda p: (p.row or 0, p.field or ""))


_CHECK_TEXT = {
    "not_nullable": "is empty",
    "field_uniqueness": "duplicate value",
}


def _run_pandera(
    out: pd.DataFrame, spec: LayerSpec, file: str, failed: set[tuple[int, str]]
) -> list[Problem]:
    import pandera.errors

    schema = pandera_schema(spec)
    problems: list[Problem] = []
    present = pandera_schema(spec).remove_columns(
        [c for c in schema.columns if c not in out.columns]
    )
    try:
        present.validate(out, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for rec in cases.to_dict("records"):
            column = rec.get("column")
            index = rec.get("index")
            if column is None or is_missing(index):
                continue
            row = int(index)
            if (row, column) in failed:
                continue
            f = spec.field(str(column))
            problems.append(
                _pandera_problem(file, row, f, str(rec.get("check")), rec.get("failure_case"), out)
            )
    return problems


def _pandera_problem(
    file: str, row: int, f: FieldSpec, check: str, value: object, out: pd.DataFrame
) -> Problem:
    fix = f.fix
    if check.startswith("not_nullable"):
        return Problem(file, row + 1, f.name, "is empty", fix or f"fill in `{f.name}`")
    if check.startswith("field_uniqueness"):
        others = [i + 1 for i, v in enumerate(out[f.name].tolist()) if v == value and i != row]
        also = f" (also on row {', '.join(map(str, others))})" if others else ""
        return Problem(
            file,
            row + 1,
            f.name,
            f"duplicate value {value!r}{also}",
            "give every row its own value",
        )
    if check.startswith(("choices", "isin")):
        choices = ", ".join(f.choices or ())
        return Problem(
            file,
            row + 1,
            f.name,
            f"{value!r} is not an allowed value",
            fix or f"use one of: {choices}",
        )
    if check.startswith(("minimum", "greater_than_or_equal_to")):
        return Problem(file, row + 1, f.name, f"{value!r} is below the minimum {f.minimum:g}", fix)
    if check.startswith(("maximum", "less_than_or_equal_to")):
        return Problem(file, row + 1, f.name, f"{value!r} is above the maximum {f.maximum:g}", fix)
    if check.startswith(("pattern", "str_matches")):
        return Problem(file, row + 1, f.name, f"{value!r} has the wrong form", fix)
    return Problem(file, row + 1, f.name, f"{value!r} fails check {check}", fix)


def _single_point(g: Any) -> Any:
    """A one-part MultiPoint as its point (GeoPackage and Shapefile layers promote points to
    MultiPoints when any row is one); anything else as it is."""
    if g is not None and g.geom_type == "MultiPoint" and len(g.geoms) == 1:
        return g.geoms[0]
    return g


def _not_a_point(g: Any) -> tuple[str, str] | None:
    """Why a geometry cannot stand for a site (problem, fix), or None for a 2D point or none."""
    if g is None or g.is_empty:
        return None
    kind = g.geom_type
    if kind != "Point":
        return (
            f"is a {kind}, not a point",
            "give one point per row (e.g. the site's centroid), or `lon` and `lat` columns",
        )
    if g.has_z:
        return (
            f"is a 3D point (z = {g.z:g}); the layer takes lon/lat points",
            "drop the z coordinate (e.g. shapely.force_2d, or ogr2ogr -dim XY)",
        )
    return None


def _build_geometry(
    out: pd.DataFrame,
    frame: pd.DataFrame,
    geom: gpd.GeoSeries | None,
    spec: LayerSpec,
    file: str,
    problems: list[Problem],
    failed: set[tuple[int, str]],
) -> list[Any]:
    if spec.geometry is None:
        return []
    if spec.geometry == "point":
        return _point_geometry(out, frame, geom, file, problems, failed)
    return _polygon_geometry(frame, geom, file, problems)


def _point_geometry(
    out: pd.DataFrame,
    frame: pd.DataFrame,
    geom: gpd.GeoSeries | None,
    file: str,
    problems: list[Problem],
    failed: set[tuple[int, str]],
) -> list[Any]:
    """Points from the parsed lon/lat; a geometry given as well must agree with them."""
    n = len(out)
    lon = out["lon"].to_numpy(dtype=float, na_value=np.nan) if "lon" in out else np.full(n, np.nan)
    lat = out["lat"].to_numpy(dtype=float, na_value=np.nan) if "lat" in out else np.full(n, np.nan)
    points = [
        shapely.Point(x, y) if np.isfinite(x) and np.isfinite(y) else None
        for x, y in zip(lon, lat, strict=True)
    ]
    if geom is not None and "lon" in frame.columns and "lat" in frame.columns:
        for i, (g, p) in enumerate(zip(geom, points, strict=True)):
            if g is None or p is None or g.is_empty or (i, "lon") in failed:
                continue
            if g.geom_type != "Point" or g.distance(p) > 1e-6:
                problems.append(
                    Problem(
                        file,
                        i + 1,
                        "geometry",
                        f"geometry {g.wkt[:60]} does not match lon/lat ({p.x:g}, {p.y:g})",
                        "make the geometry and the lon/lat columns agree, or drop one of them",
                    )
                )
    return points


def _wkt_polygons(frame: pd.DataFrame, file: str, problems: list[Problem]) -> list[Any]:
    """Geometries parsed from the ``geometry_wkt`` text column (``None`` where empty or bad)."""
    geoms: list[Any] = []
    for i, text in enumerate(frame["geometry_wkt"].tolist()):
        if is_missing(text):
            problems.append(
                Problem(
                    file,
                    i + 1,
                    "geometry_wkt",
                    "is empty",
                    "give a WKT POLYGON across the passage",
                )
            )
            geoms.append(None)
            continue
        try:
            g = shapely.from_wkt(str(text))
        except shapely.errors.GEOSException as exc:
            problems.append(
                Problem(
                    file,
                    i + 1,
                    "geometry_wkt",
                    f"is not valid WKT ({exc})",
                    "write e.g. POLYGON ((lon lat, lon lat, ...))",
                )
            )
            geoms.append(None)
            continue
        geoms.append(g)
    return geoms


def _polygon_geometry(
    frame: pd.DataFrame,
    geom: gpd.GeoSeries | None,
    file: str,
    problems: list[Problem],
) -> list[Any]:
    """Polygons from the geometry column, or from ``geometry_wkt`` text, each checked."""
    if geom is not None:
        geoms = list(geom)
    elif "geometry_wkt" in frame.columns:
        geoms = _wkt_polygons(frame, file, problems)
    else:
        geoms = [None] * len(frame)
    for i, g in enumerate(geoms):
        if g is None:
            continue
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(
                Problem(
                    file,
                    i + 1,
                    "geometry",
                    f"is a {g.geom_type}, not a polygon",
                    "give a POLYGON or MULTIPOLYGON",
                )
            )
        elif not g.is_valid:
            problems.append(
                Problem(
                    file,
                    i + 1,
                    "geometry",
                    f"is not a valid polygon ({shapely.is_valid_reason(g)})",
                    "fix the ring: closed, not self-intersecting",
                )
            )
        else:
            minx, miny, maxx, maxy = g.bounds
            if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
                problems.append(
                    Problem(
                        file,
                        i + 1,
                        "geometry",
                        "has coordinates outside lon/lat range",
                        "give the polygon in WGS84 lon/lat",
                    )
                )
    return geoms


def _cross_checks(
    out: pd.DataFrame, spec: LayerSpec, file: str, failed: set[tuple[int, str]]
) -> list[Problem]:
    problems: list[Problem] = []
    n = len(out)
    if spec.kind == "facilities" and {"capacity", "capacity_unit"} <= set(out.columns):
        for i in range(n):
            if (
                not is_missing(out["capacity"].iloc[i])
                and is_missing(out["capacity_unit"].iloc[i])
                and (i, "capacity_unit") not in failed
            ):
                problems.append(
                    Problem(
                        file,
                        i + 1,
                        "capacity_unit",
                        "capacity is given without a unit",
                        "name the unit of the capacity figure",
                    )
                )
    if spec.kind == "facilities":
        problems.extend(_product_checks(out, file, failed))
    if spec.kind == "production":
        keys = ["mineral", "stage", "country", "year", "unit"]
        if "product" in out.columns:
            keys.append("product")
        if set(keys[:5]) <= set(out.columns):
            dup = out.duplicated(subset=keys, keep="first")
            for i in np.flatnonzero(dup.to_numpy()).tolist():
                problems.append(
                    Problem(
                        file,
                        int(i) + 1,
                        "country",
                        "duplicate figure for the same mineral, stage, product, country, year and "
                        "unit",
                        "keep one row per mineral, stage, product, country, year and unit",
                    )
                )
    if spec.kind == "export_controls":
        problems.extend(_export_control_checks(out, file))
    return problems


def _product_checks(out: pd.DataFrame, file: str, failed: set[tuple[int, str]]) -> list[Problem]:
    """Inputs and outputs name products of the row's mineral; capacity counts an output."""
    problems: list[Problem] = []
    if "mineral" not in out.columns:
        return problems
    for i in range(len(out)):
        mid = out["mineral"].iloc[i]
        if is_missing(mid):
            continue
        own = sorted(p.id for p in PRODUCTS.values() if p.mineral == mid)
        outputs: list[str] = []
        inputs: list[str] = []
        for name, allowed in (("outputs", own), ("inputs", [*own, *sorted(EXTERNAL_INPUTS)])):
            if name not in out.columns or (i, name) in failed:
                continue
            value = out[name].iloc[i]
            items = [] if is_missing(value) else str(value).split(";")
            if name == "outputs":
                outputs = items
            else:
                inputs = items
            for item in items:
                if item not in allowed:
                    close = difflib.get_close_matches(item, allowed, n=1, cutoff=0.6)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    problems.append(
                        Problem(
                            file,
                            i + 1,
                            name,
                            f"{item!r} is not a product of {mid}{hint}",
                            "use one of: " + ", ".join(allowed),
                        )
                    )
        cap = out["capacity_product"].iloc[i] if "capacity_product" in out.columns else None
        if not is_missing(cap) and outputs and cap not in [*outputs, *inputs]:
            problems.append(
                Problem(
                    file,
                    i + 1,
                    "capacity_product",
                    f"{cap!r} is not among the row's inputs or outputs",
                    "name the product the capacity figure counts: one of "
                    + ", ".join([*outputs, *inputs]),
                )
            )
    return problems


def _swap_checks(
    out: pd.DataFrame, spec: LayerSpec, file: str, failed: set[tuple[int, str]]
) -> list[Problem]:
    """Latitudes out of range whose longitude would fit: the columns look swapped."""
    problems: list[Problem] = []
    if spec.geometry != "point" or not {"lon", "lat"} <= set(out.columns):
        return problems
    for i in range(len(out)):
        lon, lat = out["lon"].iloc[i], out["lat"].iloc[i]
        if is_missing(lon) or is_missing(lat):
            continue
        if abs(lat) > 90 and abs(lon) <= 90:
            problems.append(
                Problem(
                    file,
                    i + 1,
                    "lat",
                    f"latitude {lat:g} is outside [-90, 90] but longitude {lon:g} would fit: "
                    "lat and lon look swapped",
                    "swap the `lon` and `lat` values",
                )
            )
            failed.add((i, "lat"))
            failed.add((i, "lon"))
    return problems


def _export_control_checks(out: pd.DataFrame, file: str) -> list[Problem]:
    problems: list[Problem] = []
    ids = set(out["id"].dropna()) if "id" in out else set()
    for i, rec in enumerate(out.to_dict("records")):
        start, end = rec.get("effective"), rec.get("ends")
        if not is_missing(start) and not is_missing(end) and str(end) < str(start):
            problems.append(
                Problem(
                    file,
                    i + 1,
                    "ends",
                    f"ends {end} is before effective {start}",
                    "check the dates",
                )
            )
        measure, target = rec.get("measure"), rec.get("suspends")
        if measure == "suspension" and is_missing(target):
            problems.append(
                Problem(
                    file,
                    i + 1,
                    "suspends",
                    "a suspension must name the measure it suspends",
                    "give the id of the suspended measure",
                )
            )
        if not is_missing(target):
            if measure != "suspension":
                problems.append(
                    Problem(
                        file,
                        i + 1,
                        "suspends",
                        f"only a suspension may suspend a measure ({measure!r})",
                        "set measure to `suspension` or empty `suspends`",
                    )
                )
            elif target not in ids:
                problems.append(
                    Problem(
                        file,
                        i + 1,
                        "suspends",
                        f"{target!r} is not the id of a measure in this file",
                        "give the id of a measure in the same file",
                    )
                )
            elif target == rec.get("id"):
                problems.append(
                    Problem(
                        file,
                        i + 1,
                        "suspends",
                        "a measure cannot suspend itself",
                        "give the id of another measure",
                    )
                )
    return problems


def _country_checks(
    out: pd.DataFrame,
    spec: LayerSpec,
    file: str,
    failed: set[tuple[int, str]],
    boundaries: gpd.GeoDataFrame,
) -> list[Problem]:
    """Report points outside their stated country; spot lat/lon swaps."""
    problems: list[Problem] = []
    if not {"lon", "lat", "country"} <= set(out.columns):
        return problems
    polygons: dict[Hashable, Any] = dict(zip(boundaries["iso3"], boundaries.geometry, strict=True))
    tree = shapely.STRtree(list(boundaries.geometry))
    names = list(boundaries["iso3"])
    for i in range(len(out)):
        lon, lat, iso3 = out["lon"].iloc[i], out["lat"].iloc[i], out["country"].iloc[i]
        if is_missing(lon) or is_missing(lat) or is_missing(iso3):
            continue
        if abs(lat) > 90 or abs(lon) > 180:
            continue
        poly = polygons.get(iso3)
        if poly is None:
            log.debug("%s row %d: no boundary polygon for %s; not checked", file, i + 1, iso3)
            continue
        point = shapely.Point(lon, lat)
        if shapely.dwithin(poly, point, COUNTRY_TOLERANCE_DEG):
            continue
        swapped = shapely.Point(lat, lon)
        if abs(lon) <= 90 and shapely.dwithin(poly, swapped, COUNTRY_TOLERANCE_DEG):
            problems.append(
                Problem(
                    file,
                    i + 1,
                    "lat",
                    f"({lon:g}, {lat:g}) is outside {iso3}, but ({lat:g}, {lon:g}) is inside: "
                    "lat and lon look swapped",
                    "swap the `lon` and `lat` values",
                )
            )
            continue
        hits = tree.query(point, predicate="intersects")
        where = f"in {names[hits[0]]} ({_safe_name(names[hits[0]])})" if len(hits) else "at sea"
        km = shapely.distance(poly, point) * 111.32
        problems.append(
            Problem(
                file,
                i + 1,
                "country",
                f"point ({lon:g}, {lat:g}) lies {where}, about {km:,.0f} km from {iso3} "
                f"({_safe_name(str(iso3))})",
                "check the coordinates (decimal degrees, sign of west/south) or the country",
            )
        )
    return problems


def _safe_name(iso3: str) -> str:
    try:
        return country_name(iso3)
    except ValueError:
        return iso3

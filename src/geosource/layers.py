"""Load, validate and save every layer: the bundled, cited defaults and users' own files.

Spatial layers are GeoDataFrames in EPSG:4326; tables (production, countries, export controls)
are DataFrames. Every layer round-trips through :func:`read_layer` / :func:`write_layer` in CSV,
GeoPackage, GeoJSON, GeoParquet and (with its 10-character names) Shapefile.
"""

from __future__ import annotations

import difflib
import importlib.resources
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from ._files import atomic_path
from ._schemas import SPECS, LayerSpec
from ._searoute import load_ports
from ._validate import ValidationReport, validate_frame
from .errors import LayerError, Problem, SkippedRowsWarning

__all__ = [
    "LAYER_KINDS",
    "Layers",
    "bundled_layers_dir",
    "layer_files",
    "layer_ids",
    "layer_summary",
    "load_boundaries",
    "load_layers",
    "load_ports",
    "read_layer",
    "validate_layer",
    "write_layer",
]

log = logging.getLogger(__name__)

#: Layer kinds a user can read, validate and write.
LAYER_KINDS: tuple[str, ...] = tuple(SPECS)

_FORMATS = {
    ".csv": "csv",
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".json": "geojson",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".shp": "shp",
}
_BUNDLED_FILES = {kind: f"{kind}.csv" for kind in SPECS if kind != "boundaries"}
_BUNDLED_FILES["boundaries"] = "boundaries.gpkg"


def bundled_layers_dir() -> Path:
    """Directory of the bundled layers (``GEOSOURCE_LAYERS_DIR`` overrides it)."""
    env = os.environ.get("GEOSOURCE_LAYERS_DIR")
    if env:
        return Path(env)
    packaged = importlib.resources.files("geosource") / "_bundled_layers"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "layers"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        "geosource's bundled layers are missing; reinstall the package or set GEOSOURCE_LAYERS_DIR"
    )


@dataclass(frozen=True)
class Layers:
    """The layers geosource routes and scores on, one attribute per layer.

    Use :func:`load_layers` for the bundled, cited defaults and :meth:`replace` to swap in a
    layer of your own (a new object; the original is untouched). Each layer's columns are in
    ``layers/README.md``.

    Parameters
    ----------
    facilities
        Mines and plants (points): mineral, stage, inputs, outputs, capacity, owner, status.
    production
        National production and world totals per mineral, stage and year (USGS, IEA).
    countries
        Governance scores and alignment groups per country (ISO3).
    export_controls
        Dated export-control measures: country, products, targets, kind, dates.
    chokepoints
        Maritime chokepoints (points) with the searoute passage each matches.
    demand_centres
        Buyers' demand centres and their import ports (points).
    airports
        Cargo airports (points) for products that fly.
    transport_params
        Freight rates, speeds, handling, tolls and emission factors (see
        :class:`~geosource.transport.TransportParams`).
    demand
        Demand per buyer and product, with a rest-of-world row.
    supply_mix
        Published import shares per buyer, mineral and supplier country.
    offtakes
        Documented offtake agreements honoured first in allocations.
    boundaries
        Natural Earth admin-0 country polygons.

    Examples
    --------
    >>> layers = load_layers()
    >>> layers.names[:4]
    ['facilities', 'production', 'countries', 'export_controls']
    >>> mine = layers.facilities.query("id == 'ree-songwe-hill'")
    >>> mine_only = layers.replace(facilities=mine)
    >>> len(mine_only.facilities), mine_only.chokepoints is layers.chokepoints
    (1, True)
    """

    facilities: gpd.GeoDataFrame
    production: pd.DataFrame
    countries: pd.DataFrame
    export_controls: pd.DataFrame
    chokepoints: gpd.GeoDataFrame
    demand_centres: gpd.GeoDataFrame
    airports: gpd.GeoDataFrame
    transport_params: pd.DataFrame
    demand: pd.DataFrame
    supply_mix: pd.DataFrame
    offtakes: pd.DataFrame
    boundaries: gpd.GeoDataFrame

    @property
    def names(self) -> list[str]:
        """Names of the layers, in order."""
        return [f.name for f in fields(self)]

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.names:
            raise KeyError(f"no layer {name!r}; layers are: {', '.join(self.names)}")
        frame: pd.DataFrame = getattr(self, name)
        return frame

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        for name in self.names:
            yield name, getattr(self, name)

    def replace(self, **layers: pd.DataFrame) -> Layers:
        """Return new layers with some replaced; the others are shared, not copied."""
        unknown = sorted(set(layers) - set(self.names))
        if unknown:
            raise KeyError(f"no layer {unknown[0]!r}; layers are: {', '.join(self.names)}")
        return replace(self, **layers)

    def copy(self) -> Layers:
        """A deep copy: change it freely without touching these layers."""
        return Layers(**{name: frame.copy(deep=True) for name, frame in self})

    def summary(self) -> pd.DataFrame:
        """Rows per layer, per mineral for facilities, and the share of site-checked coordinates."""
        return layer_summary(self)

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}={len(frame)}" for name, frame in self)
        return f"Layers({parts})"


def layer_files(directory: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """The file :func:`load_layers` reads for each layer, in ``directory`` or the bundled one.

    Examples
    --------
    >>> layer_files()["facilities"].name
    'facilities.csv'
    """
    root = Path(directory) if directory is not None else bundled_layers_dir()
    return {kind: root / name for kind, name in _BUNDLED_FILES.items()}


def layer_ids(kind: str, directory: str | os.PathLike[str] | None = None) -> frozenset[str]:
    """The ``id`` column of a layer's file, read as it is (no validation): a quick look-up of
    names (demand centres, chokepoints) without loading the layers. Empty when the file
    cannot be read or has no ``id`` column.

    Examples
    --------
    >>> "ind-chennai" in layer_ids("demand_centres")
    True
    >>> "malacca" in layer_ids("chokepoints")
    True
    """
    path = layer_files(directory)[kind]
    try:
        ids = pd.read_csv(path, dtype=str, usecols=["id"], encoding="utf-8-sig")["id"]
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        log.debug("%s: ids not read (%s)", path, exc)
        return frozenset()
    return frozenset(ids.dropna().str.strip())


def load_layers(directory: str | os.PathLike[str] | None = None) -> Layers:
    """Load the bundled, cited layers (or the same set of files from ``directory``).

    Every layer is validated; a bundled layer that fails is a bug and raises ``LayerError``.
    The layers are loaded once per process and read again when a file changes (its size or
    modification time); the command line also keeps them on disk (``geosource._cache``). Each
    call returns a copy that is safe to change.

    Parameters
    ----------
    directory
        A folder holding the same files as ``layers/`` (default: the bundled layers).

    Returns
    -------
    Layers
        Every layer validated and normalised (ISO3 countries, mineral ids, EPSG:4326).

    Raises
    ------
    LayerError
        Listing every problem of every file, when a layer fails validation or is missing.

    Examples
    --------
    >>> layers = load_layers()
    >>> layers.facilities.crs.to_string()
    'EPSG:4326'
    >>> sorted(layers.facilities["mineral"].unique())
    ['gallium', 'germanium', 'graphite', 'lithium', 'rare_earths']
    """
    root = Path(directory) if directory is not None else bundled_layers_dir()
    return _load_cached(str(root.resolve()), _stamp(root)).copy()


def _stamp(root: Path) -> tuple[tuple[int, int], ...]:
    """Size and modification time of each layer file: an edited file is read again."""
    out = []
    for path in layer_files(root).values():
        try:
            st = path.stat()
        except OSError:
            out.append((-1, -1))
        else:
            out.append((st.st_size, st.st_mtime_ns))
    return tuple(out)


@lru_cache(maxsize=4)
def _load_cached(root: str, stamp: tuple[tuple[int, int], ...]) -> Layers:
    base = Path(root)
    boundaries = _read_boundaries(base / _BUNDLED_FILES["boundaries"])
    frames: dict[str, pd.DataFrame] = {"boundaries": boundaries}
    problems: list[Problem] = []
    for kind, name in _BUNDLED_FILES.items():
        if kind == "boundaries":
            continue
        path = base / name
        if not path.exists():
            problems.append(
                Problem(
                    str(path),
                    None,
                    None,
                    "bundled layer file is missing",
                    "restore it from the repository",
                )
            )
            continue
        report = _validate_file(path, kind, boundaries)
        problems.extend(report.problems)
        frames[kind] = report.data
    if problems:
        raise LayerError(problems)
    for kind, frame in frames.items():
        frame.attrs = {"kind": kind}
    return Layers(**frames)


def _read_boundaries(path: Path) -> gpd.GeoDataFrame:
    import pyogrio

    gdf = pyogrio.read_dataframe(path)
    gdf = gdf.set_crs("EPSG:4326", allow_override=True) if gdf.crs is None else gdf
    return gdf


def load_boundaries() -> gpd.GeoDataFrame:
    """Natural Earth 1:50m admin-0 country polygons (public domain), one row per ISO3 code.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``iso3``, ``name`` and ``geometry`` (EPSG:4326); a fresh copy on every call.

    Examples
    --------
    >>> b = load_boundaries()
    >>> list(b.columns), b.crs.to_string()
    (['iso3', 'name', 'geometry'], 'EPSG:4326')
    >>> b.set_index("iso3").loc["IND", "name"]
    'India'
    """
    return _boundaries_cached().copy()


@lru_cache(maxsize=1)
def _boundaries_cached() -> gpd.GeoDataFrame:
    return _read_boundaries(bundled_layers_dir() / _BUNDLED_FILES["boundaries"])


# --------------------------------------------------------------------------------------------
# reading


def _format_of(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise LayerError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    f"unsupported file type {path.suffix!r}",
                    "use one of: " + ", ".join(sorted(_FORMATS)),
                )
            ]
        )
    return fmt


def _check_kind(kind: str | None, file: str) -> None:
    """Refuse an unknown layer kind with the valid ones (and the closest) named."""
    if kind is None or kind in SPECS:
        return
    close = difflib.get_close_matches(str(kind), list(SPECS), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise LayerError(
        [
            Problem(
                file,
                None,
                None,
                f"unknown layer kind {kind!r}",
                hint + "use one of: " + ", ".join(SPECS),
            )
        ]
    )


def _read_raw(path: Path, kind: str | None) -> pd.DataFrame:
    """Read a file as it is, without validation."""
    _check_kind(kind, str(path))
    if not path.exists():
        raise LayerError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    "file not found",
                    "check the path and the working directory",
                )
            ]
        )
    fmt = _format_of(path)
    spatial = kind is None or SPECS[kind].geometry is not None
    try:
        if fmt == "csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if fmt == "parquet":
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            meta = pq.read_schema(path).metadata or {}
            frame: pd.DataFrame = (
                gpd.read_parquet(path) if b"geo" in meta else pd.read_parquet(path)
            )
            return frame
        import pyogrio

        layer = None
        if fmt == "gpkg":
            names = [str(n) for n, _ in pyogrio.list_layers(path)]
            if kind in names:
                layer = kind
            elif len(names) > 1:
                raise LayerError(
                    [
                        Problem(
                            str(path),
                            None,
                            None,
                            f"the GeoPackage has {len(names)} layers and none is named {kind!r}",
                            f"name the layer {kind!r}, or keep one layer per file (layers: "
                            f"{', '.join(names)})",
                        )
                    ]
                )
        frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=spatial)
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is None and spatial:
            warnings.warn(
                f"{path}: no CRS recorded; assuming EPSG:4326 (WGS84 lon/lat)",
                UserWarning,
                stacklevel=3,
            )
            frame = frame.set_crs("EPSG:4326")
        return frame
    except LayerError:
        raise
    except UnicodeDecodeError as exc:
        raise LayerError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    f"is not UTF-8 text ({exc.reason})",
                    "save the file as UTF-8 CSV",
                )
            ]
        ) from None
    except pd.errors.ParserError as exc:
        raise LayerError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    f"is not a well-formed CSV ({exc})",
                    "check quoting and the number of fields on that line",
                )
            ]
        ) from None
    except Exception as exc:  # pyogrio/pyarrow raise many types for unreadable files
        raise LayerError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    f"cannot be read as {fmt} ({type(exc).__name__}: {exc})",
                    "check that the file is complete and of the type its name says",
                )
            ]
        ) from None


def _guess_kind(frame: pd.DataFrame, path: Path) -> str:
    cols = {str(c).lower() for c in frame.columns}
    scores = []
    for kind, spec in SPECS.items():
        if kind == "boundaries":
            continue
        required = {f.name for f in spec.fields if f.required}
        if spec.geometry == "point" and "geometry" in cols:
            required -= {"lon", "lat"}
        if spec.geometry == "polygon":
            required |= set()
        scores.append((len(required & cols) / len(required), -len(required), kind))
    best = max(scores)
    if best[0] < 1.0:
        raise LayerError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    "cannot tell which kind of layer this is",
                    "pass kind= (CLI: --kind) one of: "
                    + ", ".join(k for k in SPECS if k != "boundaries"),
                )
            ]
        )
    return best[2]


def _validate_file(
    path: Path, kind: str | None, boundaries: gpd.GeoDataFrame | None = None
) -> ValidationReport:
    raw = _read_raw(path, kind)
    kind = kind or _guess_kind(raw, path)
    _check_kind(kind, str(path))
    if boundaries is None and SPECS[kind].geometry == "point":
        boundaries = _boundaries_cached()
    report = validate_frame(raw, kind, file=str(path), boundaries=boundaries)
    report.data.attrs = {"kind": kind, "source_file": str(path)}
    return report


def validate_layer(
    data: str | os.PathLike[str] | pd.DataFrame, kind: str | None = None
) -> ValidationReport:
    """Validate a layer file or frame and report every problem found (never raises for data).

    Parameters
    ----------
    data
        A path (CSV, GeoPackage, GeoJSON, GeoParquet, Shapefile) or a (Geo)DataFrame.
    kind
        The layer kind; guessed from the columns of a file when omitted.

    Returns
    -------
    ValidationReport
        ``ok``, ``problems`` (each with file, row, field, problem and fix), ``bad_rows`` and
        ``data`` (every row parsed and normalised).

    Examples
    --------
    >>> report = validate_layer(load_layers().facilities, "facilities")
    >>> report.ok
    True
    >>> mine = load_layers().facilities.query("id == 'ree-songwe-hill'")
    >>> report = validate_layer(mine.assign(country="Atlantis"), "facilities")
    >>> report.ok, report.bad_rows
    (False, [1])
    >>> print(report.problems[0])  # doctest: +ELLIPSIS
    <data>, row 1, field `country`: 'Atlantis' is not a country. — use an ISO 3166 name, ...
    """
    if isinstance(data, pd.DataFrame):
        _check_kind(kind, "<data>")
        if kind is None:
            kind = str(data.attrs.get("kind") or _guess_kind(data, Path("<data>")))
        boundaries = _boundaries_cached() if SPECS[kind].geometry == "point" else None
        return validate_frame(data, kind, file="<data>", boundaries=boundaries)
    return _validate_file(Path(data), kind)


def read_layer(
    path: str | os.PathLike[str],
    kind: str | None = None,
    *,
    skip_invalid: bool = False,
) -> pd.DataFrame:
    """Read and validate a user's layer file.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, GeoParquet, Shapefile, or CSV with ``lon``/``lat`` columns
        (``geometry_wkt`` for polygon layers).
    kind
        ``facilities``, ``production``, ``countries``, ``export_controls``, ``chokepoints``,
        ``demand_centres``, ``airports`` or ``transport_params``; guessed from the columns when
        omitted.
    skip_invalid
        Keep going past bad rows: they are left out, listed in a ``SkippedRowsWarning`` and in
        ``result.attrs["skipped"]`` (row, id, reasons). Problems with the file itself (a missing
        column, an unreadable file) still raise.

    Returns
    -------
    pandas.DataFrame
        A GeoDataFrame (EPSG:4326) for spatial kinds, a DataFrame for tables. Countries are
        ISO3 codes, minerals registry ids; every column of the file is kept.

    Raises
    ------
    LayerError
        Listing every problem as ``file, row, field: problem — fix``.

    Examples
    --------
    >>> import os, tempfile
    >>> mine = load_layers().facilities.query("id == 'ree-songwe-hill'")
    >>> path = os.path.join(tempfile.mkdtemp(), "my_mines.csv")
    >>> _ = write_layer(mine.assign(country="Malawi", note="visited"), path)
    >>> mines = read_layer(path, "facilities")
    >>> mines.loc[0, "country"], mines.loc[0, "note"], mines.crs.to_string()
    ('MWI', 'visited', 'EPSG:4326')
    """
    report = _validate_file(Path(path), kind)
    if not report.problems:
        return report.data
    if not skip_invalid or report.file_problems():
        raise LayerError(report.problems)
    skipped = report.skipped()
    lines = report.skipped_lines()
    warnings.warn(
        f"{path}: skipped {len(skipped)} of {len(report.data)} rows:\n  " + "\n  ".join(lines),
        SkippedRowsWarning,
        stacklevel=2,
    )
    data = report.valid().reset_index(drop=True)
    data.attrs = {**report.data.attrs, "skipped": skipped}
    return data


# --------------------------------------------------------------------------------------------
# writing


def _spec_of(data: pd.DataFrame, kind: str | None) -> LayerSpec | None:
    kind = kind or data.attrs.get("kind")
    return SPECS.get(str(kind)) if kind else None


def write_layer(
    data: pd.DataFrame,
    path: str | os.PathLike[str],
    kind: str | None = None,
) -> Path:
    """Write a layer to CSV, GeoPackage, GeoJSON, GeoParquet or Shapefile (by the file suffix).

    Every column is written; reading the file back with :func:`read_layer` gives an equal frame.
    CSV keeps points as ``lon``/``lat`` columns and polygons as ``geometry_wkt``. The file is
    written under a temporary name beside ``path`` and renamed into place, so a failed write
    leaves the previous file as it was.

    Parameters
    ----------
    data
        A layer frame (a GeoDataFrame for spatial kinds, or a frame with ``lon``/``lat``).
    path
        The file to write; its suffix (``.csv``, ``.gpkg``, ``.geojson``, ``.parquet``,
        ``.shp``) picks the format.
    kind
        The layer kind, which decides how geometry is written; default: ``data.attrs["kind"]``.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import os, tempfile
    >>> mine = load_layers().facilities.query("id == 'ree-songwe-hill'")
    >>> path = write_layer(mine, os.path.join(tempfile.mkdtemp(), "mine.gpkg"))
    >>> path.name, read_layer(path, "facilities")["id"].tolist()
    ('mine.gpkg', ['ree-songwe-hill'])
    """
    out = Path(path)
    fmt = _format_of(out)
    spec = _spec_of(data, kind)
    frame = data.copy()
    frame.attrs = {}
    spatial = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    if fmt == "csv" and spatial:
        frame = _csv_frame(frame, spec)
    elif fmt == "shp":
        frame = _shapefile_frame(frame, out)
    elif fmt == "geojson" and not spatial:
        raise LayerError(
            [
                Problem(
                    str(out),
                    None,
                    None,
                    "a table without geometry cannot be written as GeoJSON",
                    "write it as .csv, .gpkg or .parquet",
                )
            ]
        )
    with atomic_path(out) as tmp:
        _write_frame(frame, tmp, fmt, spec.kind if spec else out.stem)
        written = {f.name for f in tmp.parent.iterdir()}
    if fmt == "shp":  # sidecars of an earlier Shapefile that this write did not make
        for sidecar in _SIDECARS:
            old = out.with_suffix(sidecar)
            if old.name not in written:
                old.unlink(missing_ok=True)
    return out


_SIDECARS = (".shx", ".dbf", ".prj", ".cpg")


def _csv_frame(gdf: gpd.GeoDataFrame, spec: LayerSpec | None) -> pd.DataFrame:
    """Points as ``lon``/``lat`` columns, other geometries as ``geometry_wkt``."""
    geom = gdf.geometry
    plain = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    if (spec is not None and spec.geometry == "point") or (
        spec is None and bool((geom.geom_type == "Point").all())
    ):
        if "lon" not in plain.columns:
            plain["lon"] = geom.x
            plain["lat"] = geom.y
    else:
        plain["geometry_wkt"] = [
            None if g is None else shapely.to_wkt(g, rounding_precision=-1, trim=True) for g in geom
        ]
    return plain


def _write_frame(frame: pd.DataFrame, out: Path, fmt: str, layer_name: str) -> None:
    """Write ``frame`` to a new file ``out`` in format ``fmt``."""
    if fmt == "csv":
        frame.to_csv(out, index=False, lineterminator="\n")
        return
    if fmt == "parquet":
        frame.to_parquet(out, index=False)
        return
    import pyogrio

    driver = {"gpkg": "GPKG", "geojson": "GeoJSON", "shp": "ESRI Shapefile"}[fmt]
    with _FixedTimestamp():
        pyogrio.write_dataframe(
            frame, out, layer=layer_name if fmt == "gpkg" else None, driver=driver
        )


def _shapefile_frame(frame: pd.DataFrame, out: Path) -> pd.DataFrame:
    long = [str(c) for c in frame.columns if c != "geometry" and len(str(c)) > 10]
    known = {f.name for spec in SPECS.values() for f in spec.fields}
    unknown_long = [c for c in long if c not in known]
    if unknown_long:
        raise LayerError(
            [
                Problem(
                    str(out),
                    None,
                    c,
                    "column name is longer than the 10 characters a Shapefile keeps",
                    "rename the column or write a GeoPackage (.gpkg), which keeps every name",
                )
                for c in unknown_long
            ]
        )
    frame = frame.rename(columns={c: c[:10] for c in long})
    for col in frame.columns:
        if str(frame[col].dtype) == "boolean":
            frame[col] = frame[col].map({True: "true", False: "false"}).astype("str")
    return frame


class _FixedTimestamp:
    """Pin GeoPackage timestamps so the same layer writes the same bytes."""

    def __enter__(self) -> None:
        import pyogrio

        self._old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})

    def __exit__(self, *exc: object) -> None:
        import pyogrio

        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": self._old})


# --------------------------------------------------------------------------------------------
# summaries


def layer_summary(layers: Layers) -> pd.DataFrame:
    """Rows per layer and, for point layers, per mineral, with the share of site-checked points.

    Parameters
    ----------
    layers
        From :func:`load_layers` (or your own).

    Returns
    -------
    pandas.DataFrame
        Columns ``layer``, ``mineral``, ``rows`` and ``site_checked_share`` (share of rows
        whose ``coord_precision`` is ``site``; NaN where not applicable): one row per layer
        (``mineral`` is ``all``), then one per facility stage and mineral
        (``layer`` is ``facilities:<stage>``).

    Examples
    --------
    >>> s = layer_summary(load_layers())
    >>> list(s.columns)
    ['layer', 'mineral', 'rows', 'site_checked_share']
    >>> s.loc[s["layer"] == "boundaries", "rows"].item()
    237
    """
    rows: list[dict[str, Any]] = []
    for name, frame in layers:
        share = float("nan")
        if "coord_precision" in frame.columns and len(frame):
            share = float((frame["coord_precision"] == "site").mean())
        rows.append(
            {"layer": name, "mineral": "all", "rows": len(frame), "site_checked_share": share}
        )
    fac = layers.facilities
    for (mineral, stage), group in fac.groupby(["mineral", "stage"], sort=True):
        rows.append(
            {
                "layer": f"facilities:{stage}",
                "mineral": mineral,
                "rows": len(group),
                "site_checked_share": float((group["coord_precision"] == "site").mean()),
            }
        )
    return pd.DataFrame(rows, columns=["layer", "mineral", "rows", "site_checked_share"])

"""The ``geosource`` command: parses arguments, checks all of them before any work starts, calls
the API, prints. No logic lives here.

Every bad invocation ends the same way: one line on stderr that names the file, field or option
and the value, and says what to do instead; exit code 2; no traceback. Every file written goes
to a temporary name beside its target and is renamed into place; report and sweep folders are
built beside the old one and swapped in whole, their manifest written last.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperCommand

from ._cache import cache_dir, cache_entries, cached_graph, cached_layers, clear_cache
from ._config import EXECUTORS, check_demand_t, check_scheduler, read_config, validate_config
from ._files import (
    atomic_folder,
    atomic_path,
    check_output_file,
    check_output_folder,
    sha256,
    write_text,
)
from ._schemas import SPECS
from .chains import check_buyer
from .errors import GeosourceError, LayerError
from .layers import Layers, layer_ids, load_layers
from .network import graph_from_layers
from .sweeps import check_scheduler_reachable


class _Command(TyperCommand):
    """A command that refuses a single-valued option given twice (click would keep the last
    value and drop the others without a word)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _refuse_repeats(self.params, args)
        result: list[str] = super().parse_args(ctx, args)
        return result


def _refuse_repeats(params: list[Any], args: list[str]) -> None:
    options: dict[str, Any] = {}
    for p in params:
        names = [*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ())]
        if names and names[0].startswith("-") and not getattr(p, "is_flag", False):
            options.update(dict.fromkeys(names, p))
    given: dict[str, list[str]] = {}
    i = 0
    while i < len(args) and args[i] != "--":
        token = args[i]
        name, attached = _split_option(token)
        p = options.get(name)
        if p is not None:
            if not attached:
                i += 1
            if not getattr(p, "multiple", False):
                given.setdefault(p.name, []).append(
                    token if attached else f"{token} {_at(args, i)}"
                )
        i += 1
    for uses in given.values():
        if len(uses) > 1:
            name = _split_option(uses[0].split(" ", 1)[0])[0]
            raise click.UsageError(
                f"{name} takes one value but was given {len(uses)} times "
                f"({', '.join(uses)}); give it once"
            )


def _split_option(token: str) -> tuple[str, bool]:
    """The option name in a token and whether its value is attached (``--k=5``, ``-o5``)."""
    if token.startswith("--"):
        return token.split("=", 1)[0], "=" in token
    if token.startswith("-") and len(token) > 1:
        return token[:2], len(token) > 2
    return "", False


def _at(args: list[str], i: int) -> str:
    return args[i] if i < len(args) else ""


app = typer.Typer(
    name="geosource",
    help="Critical-minerals sourcing analysis on cited layers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
layers_app = typer.Typer(
    help="List, show and validate layers.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(layers_app, name="layers")

_KINDS = tuple(k for k in SPECS if k != "boundaries")
_LAYER_SUFFIXES = (".csv", ".gpkg", ".geojson", ".json", ".parquet", ".geoparquet", ".shp")
_RESULT_SUFFIXES = (".gpkg", ".parquet", ".csv", ".geojson")
_CONFIG_SUFFIXES = (".toml", ".yaml", ".yml", ".json")

_NoCache = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Load the layers and build the route graph afresh, without reading or writing "
        "the cache (see `geosource cache info`).",
    ),
]


def _layers(no_cache: bool) -> Layers:
    """The bundled layers: from the disk cache unless ``--no-cache``."""
    return load_layers() if no_cache else cached_layers()


def _check_buyers(values: list[str], option: str = "--to") -> None:
    """Every buyer a country, a bloc or a demand-centre id, before anything is loaded."""
    ids = layer_ids("demand_centres")
    for value in values:
        try:
            check_buyer(value, ids)
        except ValueError as exc:
            raise ValueError(f"{option}: {exc}") from None


_TABLE = [
    "rank",
    "mine_country",
    "plant_country",
    "plant",
    "distance_km",
    "cost_usd_per_t",
    "days",
    "capacity_t",
    "demand_share",
    "exposure",
    "export_controls",
    "score",
    "pareto",
]


def _options_table(frame: Any, lead: tuple[str, ...] = ()) -> str:
    """Ranked options as a plain-text table (distances rounded to km, scores to 3 places)."""
    table = frame[[*lead, *_TABLE]].copy()
    table["distance_km"] = table["distance_km"].round(0).astype(int)
    table["cost_usd_per_t"] = table["cost_usd_per_t"].round(1)
    table["days"] = table["days"].round(1)
    table["capacity_t"] = table["capacity_t"].round(0)
    table["demand_share"] = table["demand_share"].map(lambda x: f"{x:.1%}" if x == x else "")
    return str(table.round(3).to_string(index=False))


def _pandas_display() -> None:
    import pandas as pd

    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.max_colwidth", 40)
    pd.set_option("display.max_rows", 500)


@layers_app.command("list", cls=_Command)
def layers_list(no_cache: _NoCache = False) -> None:
    """List the bundled layers with their row counts and what one row is.

    Example: geosource layers list
    """
    from ._schemas import SPECS
    from .coverage import layer_coverage
    from .layers import bundled_layers_dir

    layers = _layers(no_cache)
    typer.echo(f"bundled layers in {bundled_layers_dir()}")
    for name, frame in layers:
        typer.echo(f"  {name:<16} {len(frame):>5} rows   one row is {SPECS[name].doc}")
    typer.echo("  ports            read from the installed searoute package (UN/LOCODE)")
    typer.echo("")
    _print_coverage(layer_coverage(layers))


def _print_coverage(cov: Any) -> None:
    """The coverage table of :func:`geosource.layer_coverage`, world totals' sources below it."""
    import pandas as pd

    year = cov.attrs.get("reviewed_year")
    reviewed = f"reviewed {year}" if year is not None else "reviewed"
    notes: list[str] = []
    cells = []
    for rec in cov.to_dict("records"):
        world = "n/a"
        if not pd.isna(rec["world"]):
            notes.append(
                f"  [{len(notes) + 1}] {rec['mineral']} {rec['stage']}: {rec['world_basis']}; "
                f"{rec['world_source']}"
            )
            world = f"{rec['world']:,.0f} [{len(notes)}]"
        covered = "n/a" if pd.isna(rec["covered"]) else f"{rec['covered']:.0%}"
        cells.append(
            {
                "mineral": rec["mineral"],
                "stage": rec["stage"],
                "facilities": rec["facilities"],
                "operating": rec["operating"],
                "capacity": f"{rec['capacity_ref']:,.0f} {rec['unit']}",
                "unknown cap.": f"{rec['unknown_capacity']} of {rec['operating']}",
                "world": world,
                "covered": covered,
                "site coords": f"{rec['site_share']:.0%}",
                reviewed: "n/a"
                if pd.isna(rec["reviewed_share"])
                else f"{rec['reviewed_share']:.0%}",
                "oldest as_of": rec["oldest_as_of"],
            }
        )
    typer.echo(
        "coverage of the facilities layer: operating capacity in reference units against the "
        "world total of the production layer"
    )
    typer.echo(pd.DataFrame(cells).to_string(index=False))
    typer.echo("world totals:")
    for line in notes:
        typer.echo(line)
    unknown = int(cov["unknown_capacity"].sum())
    if unknown:
        typer.echo(
            f"{unknown} operating facilities have no capacity, or none in a unit that converts; "
            "they are left out of `capacity` (geosource.layer_coverage(...).attrs['unknown'] "
            "names them). `covered` is nameplate capacity against production and can pass 100%."
        )


@layers_app.command("show", cls=_Command)
def layers_show(
    name: Annotated[str, typer.Argument(help="Layer name, e.g. facilities.")],
    mineral: Annotated[str | None, typer.Option(help="Only rows of this mineral.")] = None,
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated columns to show (default: key ones).")
    ] = None,
    no_cache: _NoCache = False,
) -> None:
    """Print a bundled layer as a table.

    Example: geosource layers show facilities --mineral gallium
    """
    from .minerals import normalize_mineral

    names = [*_KINDS, "boundaries"]
    if name not in names:
        raise click.UsageError(f"no layer {name!r}; layers are: {', '.join(names)}")
    key = normalize_mineral(mineral) if mineral is not None else None
    frame = _layers(no_cache)[name]
    if key is not None:
        if "mineral" in frame.columns:
            frame = frame[frame["mineral"] == key]
        elif "minerals" in frame.columns:
            frame = frame[frame["minerals"].fillna("").str.split(";").map(lambda m: key in m)]
    default = {
        "facilities": [
            "id",
            "mineral",
            "stage",
            "status",
            "country",
            "capacity",
            "capacity_unit",
            "name",
        ],
        "production": ["mineral", "stage", "country", "year", "quantity", "unit", "estimate"],
        "countries": ["iso3", "name", "wgi_year", "wgi_rl", "msp", "quad", "us_fta", "feoc"],
        "export_controls": ["id", "country", "minerals", "measure", "targets", "effective", "ends"],
        "chokepoints": ["id", "name", "searoute_passage", "risk"],
        "demand_centres": ["id", "country", "import_ports", "name"],
        "airports": ["iata", "country", "cargo_t", "name"],
        "boundaries": ["iso3", "name"],
    }[name]
    cols = [c.strip() for c in columns.split(",")] if columns else default
    unknown = [c for c in cols if c not in frame.columns]
    if unknown:
        raise click.UsageError(
            f"no column {unknown[0]!r} in {name}; columns are: {', '.join(map(str, frame.columns))}"
        )
    _pandas_display()
    typer.echo(frame[cols].astype(object).where(frame[cols].notna(), "").to_string(index=False))
    typer.echo(f"{len(frame)} rows")


@layers_app.command("validate", cls=_Command)
def layers_validate(
    file: Annotated[
        Path, typer.Argument(help="CSV, GeoPackage, GeoJSON, GeoParquet or Shapefile.")
    ],
    kind: Annotated[
        str | None,
        typer.Option(help="Layer kind: " + ", ".join(_KINDS) + " (guessed when omitted)."),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Report bad rows and keep the good ones.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the validated rows here.")
    ] = None,
) -> None:
    """Check a layer file and report every problem (file, row, field: problem — fix).

    Exit code 0 when valid, 2 when not (with --skip-invalid: when no row is valid).

    Example: geosource layers validate my_mines.csv --kind facilities
    """
    from .layers import validate_layer, write_layer

    if kind is not None and kind not in _KINDS:
        raise click.UsageError(f"unknown kind {kind!r}; kinds are: {', '.join(_KINDS)}")
    if output is not None:
        check_output_file(output, _LAYER_SUFFIXES, "layer")
    report = validate_layer(file, kind)
    if report.file_problems() or (report.problems and not skip_invalid):
        raise LayerError(report.problems)
    data = report.valid() if skip_invalid else report.data
    if report.problems and len(data) == 0:
        raise LayerError(
            f"{file}: no valid rows: every one of the {len(report.data)} rows has a problem "
            f"(first: {report.problems[0]}); nothing written"
        )
    if report.problems:
        skipped = report.skipped()
        typer.echo(f"{file}: skipped {len(skipped)} of {len(report.data)} rows:", err=True)
        for line in report.skipped_lines():
            typer.echo(f"  {line}", err=True)
    typer.echo(f"{file}: {len(data)} valid {report.kind} rows")
    if output is not None:
        with atomic_path(output) as tmp:
            write_layer(data.reset_index(drop=True), tmp, kind=report.kind)
        typer.echo(f"wrote {output}")


@app.command("demo", cls=_Command)
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the result files.")] = Path(
        "out"
    ),
    as_of: Annotated[
        str | None, typer.Option(help="Date for export controls (default: today).")
    ] = None,
    no_cache: _NoCache = False,
) -> None:
    """Run the main job on the bundled data: layers, route graph, ranked sourcing options.

    Writes results, maps and charts to the output folder.

    Example: geosource demo -o out
    """
    import time

    import geosource as gs

    if as_of is None:
        import datetime as dt

        as_of = dt.date.today().isoformat()
    validate_config({"mineral": ["lithium"], "to": ["IND"], "as_of": as_of}, "sourcing")
    check_output_folder(out, "demo", replace=False)
    t0 = time.perf_counter()
    layers, G, _ = _graph(None, no_cache)
    _pandas_display()
    _print_layer_summary(layers)
    typer.echo(
        f"\nroute graph: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges "
        f"(layers and graph ready in {time.perf_counter() - t0:.2f} s; searoute MARNET, "
        f"{G.graph['sea_nodes_merged']} antimeridian duplicates merged, Northwest Passage closed)"
    )
    for a, b, closed in [("CNSHA", "NLRTM", ()), ("CNSHA", "NLRTM", ("suez", "bab_el_mandeb"))]:
        r = gs.shortest_path(G, f"port:{a}", f"port:{b}", closed_passages=closed)
        via = ", ".join(r.passages) or "no chokepoint"
        shut = f" with {' and '.join(closed)} closed" if closed else ""
        typer.echo(f"  {a} -> {b}{shut}: {r.length_km:,.0f} km via {via}")

    typer.echo("\nsupply concentration (share of world output of the top country; HHI)")
    for mineral, stage in [
        ("rare_earths", "mining"),
        ("rare_earths", "refining"),
        ("graphite", "mining"),
        ("gallium", "refining"),
        ("lithium", "mining"),
        ("lithium", "refining"),
    ]:
        c = gs.supply_concentration(layers, mineral, stage)
        typer.echo(
            f"  {mineral:<12} {stage:<9} {c['top_country']} {c['top_share']:5.0%}"
            f"  HHI {c['hhi']:.2f}  ({c['basis']})"
        )

    queries = [
        ("lithium", "IND"),
        ("rare_earths", "IND"),
        ("graphite", "IND"),
        ("gallium", "USA"),
        ("germanium", "USA"),
    ]
    frames = []
    for mineral, buyer in queries:
        paths = gs.sourcing_paths(G, mineral, buyer, k=5, as_of=as_of)
        frames.append(paths)
        n = paths.attrs["options"][mineral][buyer]
        typer.echo(f"\n{mineral} -> {buyer} on {as_of}: best 5 of {n} distinct options")
        typer.echo(_options_table(paths))
        typer.echo(f"  why #1: {paths['reasons'].iloc[0]}")

    import geopandas as gpd
    import pandas as pd

    results = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    results.attrs = {"weights": frames[0].attrs["weights"]}
    with atomic_path(out / "sourcing_paths.gpkg") as tmp:
        gs.write_layer(results, tmp)
    with atomic_path(out / "sourcing_paths.csv") as tmp:
        results.drop(columns="geometry").to_csv(tmp, index=False, lineterminator="\n")
    title = (
        "Sourcing options: lithium, rare earths and graphite for India; "
        "gallium and germanium for the US"
    )
    _save_map(gs.map_paths(results, layers, title=title), out / "demo_map.html")
    _save_map(gs.map_layers(layers, "rare_earths"), out / "layers_map.html")
    with atomic_path(out / "demo_map.png") as tmp:
        gs.save_map_png(results, layers, tmp)
    full = gs.sourcing_paths(G, "lithium", "IND", k=None, as_of=as_of)
    with atomic_path(out / "pareto_lithium_IND.png") as tmp:
        gs.pareto_chart(
            full, tmp, title=f"Lithium for India: distance vs exposure ({len(full)} options)"
        )
    typer.echo(
        f"\nwrote to {out}/: sourcing_paths.gpkg, sourcing_paths.csv ({len(results)} options), "
        "demo_map.html, layers_map.html, demo_map.png, pareto_lithium_IND.png "
        f"in {time.perf_counter() - t0:.1f} s"
    )


def _save_map(m: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        m.save(str(tmp))


_MINERAL_HELP = "Mineral: lithium, rare_earths, graphite, gallium, germanium (repeatable)."
_TO_HELP = "Buyer: a country (IND, India) or a demand-centre id (repeatable)."
_STATUS_HELP = (
    "Also consider facilities of this status (repeatable): construction, development, "
    "deposit, suspended, closed."
)


@dataclass(frozen=True)
class _Query:
    """The checked arguments of a sourcing query (``paths``, ``map``)."""

    minerals: list[str]
    buyers: list[str]
    k: int | None
    weights: Any
    options: dict[str, Any]

    @classmethod
    def check(cls, args: dict[str, Any], weights: Path | None = None) -> _Query:
        """Check every option at once (one line naming each bad one), then the weights file."""
        checked = validate_config(args, "sourcing")
        _check_buyers(checked["to"])
        w = _weights(weights)
        objective = checked.pop("objective", None)
        if objective is not None:
            import geosource as gs

            w = dataclasses.replace(w or gs.Weights(), objective=objective)
        statuses = checked.pop("status", [])
        development = checked.pop("include_development", False)
        options = {
            "as_of": checked.get("as_of"),
            "include_development": statuses or development,
            "product": checked.get("product"),
            "links": checked.get("links", "compatible"),
            "distinct": checked.get("distinct", "countries"),
            "exclude": checked.get("exclude", []),
            "exclude_owners": checked.get("exclude_owners", []),
            "include_blocked": checked.get("include_blocked", False),
        }
        k = checked.get("k", 5)
        return cls(checked["mineral"], checked["to"], k or None, w, options)


def _weights(path: Path | None) -> Any:
    if path is None:
        return None
    import geosource as gs

    data = read_config(path, "weights")
    try:
        return gs.Weights.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def _scenario(value: str | None) -> Any:
    """A built-in scenario, or a scenario file checked against its schema; None for none."""
    if value is None:
        return None
    import geosource as gs

    if Path(value).suffix.lower() not in _CONFIG_SUFFIXES:
        return gs.get_scenario(value)
    data = read_config(value, "scenario")
    try:
        return gs.Scenario.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{value}: {exc}") from None


def _graph(scenario: Any, no_cache: bool) -> tuple[Layers, Any, Any]:
    """Layers, graph and (optionally) the applied scenario, its ids checked against the layers
    before the graph is built; from the disk cache unless ``--no-cache``."""
    import geosource as gs

    if no_cache:
        layers = load_layers()
        if scenario is not None:
            scenario.check(layers)
        G = graph_from_layers(layers)
    else:  # read in a blink: the scenario is checked against the graph's own layers
        G = cached_graph()
        layers = G.graph["layers"]
        if scenario is not None:
            scenario.check(layers)
    applied = gs.apply_scenario(G, layers, scenario) if scenario is not None else None
    return layers, G, applied


def _paths(G: Any, applied: Any, q: _Query) -> Any:
    import geosource as gs

    kwargs = dict(q.options)
    if q.weights is not None:
        kwargs["weights"] = q.weights
    if applied is not None:
        return applied.sourcing_paths(q.minerals, q.buyers, q.k, **kwargs)
    return gs.sourcing_paths(G, q.minerals, q.buyers, q.k, **kwargs)


def _write_results(frame: Any, output: Path) -> None:
    import geosource as gs

    with atomic_path(output) as tmp:
        if output.suffix.lower() == ".csv":
            frame.drop(columns="geometry").to_csv(tmp, index=False, lineterminator="\n")
        else:
            gs.write_layer(frame, tmp)
    typer.echo(f"wrote {output}", err=True)


_Minerals = Annotated[list[str], typer.Option("--mineral", "-m", help=_MINERAL_HELP)]
_Product = Annotated[
    str | None,
    typer.Option(help="Product the buyer asks for, e.g. ndfeb_magnet (default: the usual one)."),
]
_LinksOpt = Annotated[
    str,
    typer.Option(
        "--links", help="compatible (any leg a plant can take) or documented (feeds only)."
    ),
]
_DistinctOpt = Annotated[
    str,
    typer.Option(
        "--distinct",
        help="countries (one option per chain of countries) or facilities (every chain).",
    ),
]
_Exclude = Annotated[
    list[str] | None, typer.Option("--exclude", help="No stage in this country (repeatable).")
]
_ExcludeOwners = Annotated[
    list[str] | None,
    typer.Option("--exclude-owners", help="No stage owned from this country (repeatable)."),
]
_Objective = Annotated[
    str | None,
    typer.Option(
        help="Route and rank by distance, cost (USD/t landed), days or co2e, or a mix such as "
        "cost:2,days:1 (default: distance, or the weights file's objective)."
    ),
]
_IncludeBlocked = Annotated[
    bool, typer.Option("--include-blocked", help="Keep options a ban blocks, ranked last.")
]
_IncludeDevelopment = Annotated[
    bool,
    typer.Option(
        "--include-development", help="Also facilities under construction or in development."
    ),
]
_Status = Annotated[list[str] | None, typer.Option("--status", help=_STATUS_HELP)]


@app.command("paths", cls=_Command)
def paths_cmd(
    mineral: _Minerals,
    to: Annotated[list[str], typer.Option("--to", "-t", help=_TO_HELP)],
    k: Annotated[int, typer.Option(help="Options per mineral and buyer (0: all).")] = 5,
    as_of: Annotated[str | None, typer.Option(help="Date for export controls.")] = None,
    scenario: Annotated[
        str | None, typer.Option(help="Built-in scenario name or a .toml/.yaml/.json file.")
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(help="Weights file (.toml, .yaml or .json).")
    ] = None,
    product: _Product = None,
    links: _LinksOpt = "compatible",
    distinct: _DistinctOpt = "countries",
    exclude: _Exclude = None,
    exclude_owners: _ExcludeOwners = None,
    include_blocked: _IncludeBlocked = False,
    include_development: _IncludeDevelopment = False,
    status: _Status = None,
    objective: _Objective = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write .gpkg, .parquet, .csv, .geojson.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    no_cache: _NoCache = False,
) -> None:
    """Ranked sourcing options for a mineral and a buyer.

    Example: geosource paths --mineral lithium --to IND --k 5 --as-of 2025-06-30 -o li.gpkg
    """
    import json

    q = _Query.check(
        {
            "mineral": mineral,
            "to": to,
            "k": k,
            "as_of": as_of,
            "product": product,
            "links": links,
            "distinct": distinct,
            "exclude": exclude or [],
            "exclude_owners": exclude_owners or [],
            "include_blocked": include_blocked,
            "include_development": include_development,
            "status": status or [],
            "objective": objective,
        },
        weights,
    )
    sc = _scenario(scenario)
    if output is not None:
        check_output_file(output, _RESULT_SUFFIXES, "results")
    _, G, applied = _graph(sc, no_cache)
    frame = _paths(G, applied, q)
    _print_warnings(frame)
    if as_json:
        cols = [c for c in frame.columns if c != "geometry"]
        records = frame[cols].astype(object).where(frame[cols].notna(), None)
        typer.echo(json.dumps(records.to_dict("records"), indent=1, default=str))
    elif frame.empty:
        typer.echo(f"no feasible option as of {frame.attrs.get('as_of')}" + _blocked_note(frame))
    else:
        _pandas_display()
        typer.echo(_options_table(frame, ("mineral", "query")))
        typer.echo(
            f"as of {frame['as_of'].iloc[0]}; lower score is better; why #1: "
            f"{frame['reasons'].iloc[0]}"
        )
    if output is not None:
        _write_results(frame, output)


def _print_warnings(frame: Any) -> None:
    """The result's freshness warnings on stderr, one line each."""
    for text in frame.attrs.get("warnings") or []:
        typer.echo(f"warning: {_one_line(str(text))}", err=True)


def _blocked_note(frame: Any) -> str:
    blocked = frame.attrs.get("blocked") or []
    if not blocked:
        return ""
    return f"; {len(blocked)} chains are blocked by bans (--include-blocked lists them)"


@app.command("map", cls=_Command)
def map_cmd(
    mineral: _Minerals,
    output: Annotated[Path, typer.Option("--output", "-o", help="The .html file to write.")],
    to: Annotated[
        list[str] | None, typer.Option("--to", "-t", help=_TO_HELP + " Omit for a layers map.")
    ] = None,
    k: Annotated[int, typer.Option(help="Options per mineral and buyer (0: all).")] = 5,
    as_of: Annotated[str | None, typer.Option(help="Date for export controls.")] = None,
    scenario: Annotated[str | None, typer.Option(help="Built-in scenario or file.")] = None,
    product: _Product = None,
    links: _LinksOpt = "compatible",
    distinct: _DistinctOpt = "countries",
    exclude: _Exclude = None,
    exclude_owners: _ExcludeOwners = None,
    include_blocked: _IncludeBlocked = False,
    include_development: _IncludeDevelopment = False,
    status: _Status = None,
    objective: _Objective = None,
    png: Annotated[Path | None, typer.Option(help="Also write a static PNG.")] = None,
    self_contained: Annotated[
        bool,
        typer.Option(help="Inline Leaflet so the map opens without a network (tiles aside)."),
    ] = False,
    no_cache: _NoCache = False,
) -> None:
    """A Folium map of ranked options (with --to) or of the layers of one mineral.

    Example: geosource map --mineral rare_earths --to IND -o ree_india.html
    """
    import geosource as gs

    args = {
        "mineral": mineral,
        "to": to or ["IND"],
        "k": k,
        "as_of": as_of,
        "product": product,
        "links": links,
        "distinct": distinct,
        "exclude": exclude or [],
        "exclude_owners": exclude_owners or [],
        "include_blocked": include_blocked,
        "include_development": include_development,
        "status": status or [],
        "objective": objective,
    }
    q = _Query.check(args)
    if not to:
        _check_layers_map(args, scenario, png)
    sc = _scenario(scenario)
    check_output_file(output, (".html",), "map")
    if png is not None:
        check_output_file(png, (".png",), "PNG")
    if not to:
        _save_map(
            gs.map_layers(_layers(no_cache), q.minerals[0], self_contained=self_contained), output
        )
    else:
        layers, G, applied = _graph(sc, no_cache)
        frame = _paths(G, applied, q)
        _print_warnings(frame)
        _save_map(gs.map_paths(frame, layers, self_contained=self_contained), output)
        if png is not None:
            with atomic_path(png) as tmp:
                gs.save_map_png(frame, layers, tmp)
    typer.echo(f"wrote {output}")


def _check_layers_map(args: dict[str, Any], scenario: str | None, png: Path | None) -> None:
    """Without --to, a map shows the layers of one mineral: refuse what it would ignore."""
    if len(args["mineral"]) > 1:
        raise click.UsageError(
            f"a layers map shows one mineral; got {len(args['mineral'])} "
            f"({', '.join(args['mineral'])}): give one --mineral, or add --to for an options map"
        )
    defaults: dict[str, Any] = {
        "k": 5,
        "as_of": None,
        "product": None,
        "links": "compatible",
        "distinct": "countries",
        "exclude": [],
        "exclude_owners": [],
        "include_blocked": False,
        "include_development": False,
        "status": [],
    }
    given = [f"--{key.replace('_', '-')}" for key, value in defaults.items() if args[key] != value]
    given += ["--scenario"] if scenario is not None else []
    given += ["--png"] if png is not None else []
    if given:
        raise click.UsageError(
            f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to options maps: "
            "add --to (a buyer), or leave out " + ", ".join(given)
        )


@app.command("compare", cls=_Command)
def compare_cmd(
    scenario: Annotated[str, typer.Option(help="Built-in scenario name or a scenario file.")],
    mineral: _Minerals,
    to: Annotated[list[str], typer.Option("--to", "-t", help=_TO_HELP)],
    as_of: Annotated[str | None, typer.Option(help="Date for export controls.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Diff table (.csv).")
    ] = None,
    map_file: Annotated[Path | None, typer.Option("--map", help="Comparison map (.html).")] = None,
    objective: _Objective = None,
    no_cache: _NoCache = False,
) -> None:
    """What a scenario changes: one verdict per buyer and mineral (leading with the change in
    landed cost, days and km), and the differences.

    Example: geosource compare --scenario red-sea-closure --mineral rare_earths --to IND
    """
    import geosource as gs

    q = _Query.check({"mineral": mineral, "to": to, "as_of": as_of, "objective": objective})
    sc = _scenario(scenario)
    if output is not None:
        check_output_file(output, (".csv",), "diff table")
    if map_file is not None:
        check_output_file(map_file, (".html",), "map")
    _, G, applied = _graph(sc, no_cache)
    day = q.options["as_of"]
    base_w = q.weights or gs.Weights()
    # the scenario's own weights on top of the user's: the comparison shows what the
    # scenario changes, not a change of weights
    after_w = dataclasses.replace(base_w, **applied.scenario.weights)
    base = gs.sourcing_paths(G, q.minerals, q.buyers, None, as_of=day, weights=base_w)
    after = applied.sourcing_paths(q.minerals, q.buyers, None, as_of=day, weights=after_w)
    diff = gs.compare(base, after, name=applied.scenario.name)
    typer.echo(f"{applied.scenario.name}: {applied.scenario.description}")
    for line in diff.attrs["verdicts"].values():
        typer.echo(f"  {line}")
    if output is not None:
        with atomic_path(output) as tmp:
            diff.to_csv(tmp, index=False, lineterminator="\n")
        typer.echo(f"wrote {output}")
    if map_file is not None:
        m = gs.map_compare(diff, base[base["rank"] <= 10], after[after["rank"] <= 10])
        _save_map(m, map_file)
        typer.echo(f"wrote {map_file}")


@app.command("allocate", cls=_Command)
def allocate_cmd(
    mineral: Annotated[list[str], typer.Option("--mineral", "-m", help="The mineral.")],
    to: Annotated[
        list[str] | None, typer.Option("--to", "-t", help="The buyer (not with --world).")
    ] = None,
    demand_t: Annotated[
        float | None, typer.Option(help="Tonnes a year (t LCE, t REO, t Ga ...).")
    ] = None,
    max_country_share: Annotated[
        float | None, typer.Option(help="Most any one country may supply (0-1 of the demand).")
    ] = None,
    scenario: Annotated[str | None, typer.Option(help="Built-in scenario or file.")] = None,
    as_of: Annotated[str | None, typer.Option(help="Date for export controls.")] = None,
    competing: Annotated[
        bool, typer.Option(help="Other buyers of the demand layer ask for their demand too.")
    ] = False,
    world: Annotated[
        bool,
        typer.Option(
            help="Every buyer of the demand layer at once; with --scenario, what it changes."
        ),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="With --world: buyers table (.csv).")
    ] = None,
    no_cache: _NoCache = False,
) -> None:
    """Meet a demand at least landed cost under capacities (and a per-country cap), or share
    capacity among every buyer (--world) and see who is short.

    Example: geosource allocate --mineral rare_earths --to IND --demand-t 10000
    --max-country-share 0.4

    Example: geosource allocate --world --mineral rare_earths --scenario china-ree-export-ban
    """
    import geosource as gs

    for option, values in (("--mineral", mineral), ("--to", to or [])):
        if len(values) > 1:
            raise click.UsageError(
                f"allocate meets one demand, of one mineral for one buyer; got {option} "
                f"{len(values)} times ({', '.join(values)}): run allocate once for each"
            )
    if world:
        for flag, value in (
            ("--to", to),
            ("--demand-t", demand_t),
            ("--max-country-share", max_country_share),
        ):
            if value:
                raise click.UsageError(
                    f"--world allocates every buyer's demand from the demand layer; drop {flag}"
                )
        _allocate_world(mineral[0], scenario, as_of, output, no_cache)
        return
    if output is not None:
        raise click.UsageError("-o is for --world; allocate for one buyer prints its flows")
    if not to:
        raise click.UsageError("Missing option '--to' (or use --world for every buyer)")
    if demand_t is None:
        raise click.UsageError("Missing option '--demand-t' (or use --world for every buyer)")
    q = _Query.check({"mineral": mineral, "to": to, "as_of": as_of})
    check_demand_t(demand_t)
    if max_country_share is not None and not 0 <= max_country_share <= 1:
        raise ValueError(
            f"max_country_share must be in [0, 1] (a share of the demand), got {max_country_share}"
        )
    sc = _scenario(scenario)
    layers, G, _ = _graph(sc, no_cache)
    a = gs.allocate(
        G,
        layers,
        mineral=q.minerals[0],
        to=q.buyers[0],
        demand_t=demand_t,
        max_country_share=max_country_share,
        scenario=sc,
        as_of=q.options["as_of"],
        competing=competing,
    )
    typer.echo(
        f"{a.mineral} → {a.buyer}: {a.supplied_t:,.1f} of {a.demand_t:,.1f} {a.unit} "
        f"supplied; unmet {a.unmet_t:,.1f}; status {a.status}"
        + (f" (binding: {a.binding})" if a.binding else "")
        + f"; {a.message}"
    )
    _pandas_display()
    if len(a.flows):
        shown = a.flows.drop(columns=[c for c in ("chain", "products") if c in a.flows.columns])
        typer.echo(shown.round(3).to_string(index=False))
    for stage, c in a.concentration.items():
        if "top_share" in c and c["top_country"]:
            typer.echo(
                f"  {stage}: top {c['top_country']} {c['top_share']:.0%}, HHI "
                f"{c['hhi']:.2f}, FEOC {c['feoc_share']:.0%}"
            )
    if len(a.excluded):
        typer.echo(
            f"  {len(a.excluded)} facilities left out (capacity unknown or not "
            "convertible): " + ", ".join(a.excluded["id"])
        )


def _allocate_world(
    mineral: str, scenario: str | None, as_of: str | None, output: Path | None, no_cache: bool
) -> None:
    """``allocate --world``: every buyer at once; the scenario against the baseline."""
    import geosource as gs

    q = _Query.check({"mineral": [mineral], "to": ["USA"], "as_of": as_of})
    if output is not None:
        check_output_file(output, (".csv",))
    sc = _scenario(scenario)
    layers, G, _ = _graph(None, no_cache)
    mid = q.minerals[0]
    base = gs.allocate_world(G, mid, as_of=q.options["as_of"])
    _pandas_display()
    typer.echo(f"{mid} ({'/'.join(base.products)}), baseline: {base.message}")
    typer.echo(base.buyers.round(3).to_string(index=False))
    mix = gs.compare_supply_mix(base, layers)
    if len(mix):
        typer.echo(
            "published supply mix beside the model's baseline (share of each buyer's supply):"
        )
        typer.echo(mix.drop(columns="source").round(3).to_string(index=False))
    table = base.buyers
    if sc is not None:
        after = gs.allocate_world(G, mid, as_of=q.options["as_of"], scenario=sc)
        diff = gs.compare_allocations(base, after)
        typer.echo(f"under {after.scenario}: {after.message}")
        typer.echo(diff["buyers"].round(3).to_string(index=False))
        moved = diff["facilities"][diff["facilities"]["change"] != "unchanged"]
        if len(moved):
            typer.echo("facilities:")
            typer.echo(moved.round(1).to_string(index=False))
        table = diff["buyers"]
    if len(base.unlisted):
        placed = base.unlisted[base.unlisted["placed"]]
        typer.echo(
            f"  balancing capacity (national output less listed, estimate) in "
            f"{len(placed)} country-stages; not placed: "
            + (", ".join(base.unlisted.loc[~base.unlisted["placed"], "id"]) or "none")
        )
    if output is not None:
        with atomic_path(output) as tmp:
            table.to_csv(tmp, index=False, lineterminator="\n")
        typer.echo(f"wrote {output}")


@app.command("invest", cls=_Command)
def invest_cmd(
    mineral: Annotated[str, typer.Option("--mineral", "-m", help="The mineral.")],
    candidates: Annotated[
        str,
        typer.Option(
            help="Comma-separated facility ids, id+id pairs, or a group (africa, south_america)."
        ),
    ],
    buyers: Annotated[str, typer.Option(help="Comma-separated buyers.")] = "IND,USA",
    scenario: Annotated[
        list[str] | None,
        typer.Option(help="Scenario beside the baseline (repeat for more; default: the ban)."),
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="Date for export controls.")] = None,
    executor: Annotated[str, typer.Option(help="serial or dask.")] = "serial",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Ranking table (.csv).")
    ] = None,
    map_file: Annotated[
        Path | None,
        typer.Option("--map", help="Map of the candidates coloured by value (.html)."),
    ] = None,
    no_cache: _NoCache = False,
) -> None:
    """Rank candidate mines and plants by what bringing each online does for the buyers'
    unmet demand, concentration, FEOC share and freight, under the baseline and scenarios.

    Example: geosource invest --mineral rare_earths --buyers IND,USA --candidates africa
    """
    import geosource as gs

    q = _Query.check({"mineral": [mineral], "to": ["USA"], "as_of": as_of})
    if executor not in EXECUTORS:
        raise ValueError(f"--executor must be {' or '.join(EXECUTORS)}, got {executor!r}")
    if output is not None:
        check_output_file(output, (".csv",))
    if map_file is not None:
        check_output_file(map_file, (".html",))
    names = [c.strip() for c in candidates.split(",") if c.strip()]
    who = [b.strip() for b in buyers.split(",") if b.strip()]
    if not names:
        raise ValueError("--candidates: give facility ids, id+id pairs or a group (africa)")
    _check_buyers(who, "--buyers")
    scs = [_scenario(s) for s in (scenario or ["china-ree-export-ban"])]
    layers, G, _ = _graph(None, no_cache)
    for sc in scs:
        sc.check(layers)
    v = gs.project_value(
        G,
        names,
        who,
        mineral=q.minerals[0],
        scenarios=[None, *scs],
        as_of=q.options["as_of"],
        executor=executor,
    )
    _pandas_display()
    typer.echo(
        f"{v.mineral} ({'/'.join(v.products)}) for {'+'.join(v.buyers)}, "
        f"scenarios: {', '.join(v.scenarios)}; {v.weights}"
    )
    shown = v.ranking.drop(columns="reason")
    typer.echo(shown.round(4).to_string(index=False))
    for rec in v.ranking.to_dict("records"):
        typer.echo(f"  {rec['rank']}. {rec['candidate']}: {rec['reason']}")
    if output is not None:
        with atomic_path(output) as tmp:
            v.ranking.to_csv(tmp, index=False, lineterminator="\n")
        typer.echo(f"wrote {output}")
    if map_file is not None:
        _save_map(gs.map_candidates(v, layers), map_file)
        typer.echo(f"wrote {map_file}")


@app.command("sweep", cls=_Command)
def sweep_cmd(
    config: Annotated[Path, typer.Argument(help="Monte Carlo config (.toml, .yaml or .json).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write.")] = Path(
        "sweep"
    ),
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786.")
    ] = None,
    executor: Annotated[str | None, typer.Option(help="serial or dask.")] = None,
    no_cache: _NoCache = False,
) -> None:
    """Monte Carlo disruption draws: loss probability and extra distance per option.

    Writes options.parquet, combinations.parquet, summary.json, summary.html and
    manifest.json (last: the folder is swapped in whole).

    Example: geosource sweep examples/sweep.toml -o out/sweep
    """
    from tqdm import tqdm

    import geosource as gs

    cfg = _sweep_config(config, scheduler, executor)
    check_output_folder(output, "sweep")
    if cfg.get("executor") == "dask" and cfg.get("scheduler"):
        check_scheduler_reachable(cfg["scheduler"])
    layers, G, _ = _graph(None, no_cache)
    with tqdm(total=1, desc="combinations", unit="combo", disable=None, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        result = gs.monte_carlo(G, layers, progress=progress, **cfg)
    with atomic_folder(output) as stage:
        _write_sweep(result, cfg, stage)
    typer.echo(
        f"{result.summary['draws']:,} draws, {result.summary['combinations']} "
        f"combinations; P(no good option) {result.summary['p_no_good_option']:.3f}"
        + (
            f"; expected unmet {result.summary['expected_unmet_t']:,.1f} t"
            if "expected_unmet_t" in result.summary
            else ""
        )
    )
    typer.echo(
        f"wrote {output}/summary.html, options.parquet, combinations.parquet, summary.json, "
        "manifest.json"
    )


def _sweep_config(config: Path, scheduler: str | None, executor: str | None) -> dict[str, Any]:
    """The sweep config checked against its schema, with the command line's overrides."""
    from .scenarios import BUILTIN_SCENARIOS

    cfg = read_config(config, "sweep")
    unknown = [m for m in cfg.get("measures", {}) if m not in BUILTIN_SCENARIOS]
    if unknown:
        raise ValueError(
            f"{config}: field `measures.{unknown[0]}`: {unknown[0]!r} is not a built-in "
            f"scenario — use one of: {', '.join(BUILTIN_SCENARIOS)}"
        )
    if executor is not None and executor not in EXECUTORS:
        raise click.BadParameter(
            f"{executor!r} is not one of: {', '.join(EXECUTORS)}", param_hint="'--executor'"
        )
    if scheduler is not None:
        cfg["scheduler"], cfg["executor"] = check_scheduler(scheduler), "dask"
    if executor is not None:
        cfg["executor"] = executor
    return cfg


def _write_sweep(result: Any, cfg: dict[str, Any], folder: Path) -> None:
    """The sweep's files, then its manifest (config, versions, checksums)."""
    import base64
    import html
    import json

    result.options.to_parquet(folder / "options.parquet", index=False)
    result.combos.to_parquet(folder / "combinations.parquet", index=False)
    write_text(
        folder / "summary.json",
        json.dumps(dict(result.summary), indent=2, sort_keys=True, default=float) + "\n",
    )
    chart = folder / "loss_probability.png"
    _loss_chart(result.options, chart, f"{result.summary['mineral']} → {result.summary['buyer']}")
    image = base64.b64encode(chart.read_bytes()).decode("ascii")
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                r["mine_country"],
                r["plant_country"],
                f"{r['p_lost']:.3f}",
                f"{r['expected_extra_km']:,.0f}",
                f"{r['p95_extra_km']:,.0f}",
                f"{r['expected_exposure']:.3f}",
            )
        )
        + "</tr>"
        for r in result.options.to_dict("records")
    )
    summary = "".join(
        f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in result.summary.items()
    )
    write_text(
        folder / "summary.html",
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Monte Carlo</title>'
        "<style>body{font:14px system-ui,sans-serif;margin:24px}td,th{padding:2px 8px;"
        "border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
        f"<h1>Disruption draws: {html.escape(str(result.summary['mineral']))} → "
        f"{html.escape(str(result.summary['buyer']))}</h1><ul>{summary}</ul>"
        f'<img alt="loss probability per option" src="data:image/png;base64,{image}">'
        "<table><tr><th>source</th><th>processing</th><th>P(lost)</th><th>E[extra km]</th>"
        f"<th>p95 extra km</th><th>E[exposure]</th></tr>{rows}</table></body></html>\n",
    )
    from ._version import __version__

    files = sorted(f for f in folder.iterdir() if f.is_file())
    manifest = {
        "geosource_version": __version__,
        "config": cfg,
        "files": {f.name: sha256(f) for f in files},
    }
    write_text(folder / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _loss_chart(options: Any, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = options.head(20).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(top) + 1.2))
    labels = [f"{a} → {b}" for a, b in zip(top["mine_country"], top["plant_country"], strict=True)]
    ax.barh(labels, top["p_lost"], color="#d73027")
    ax.set_xlabel("probability the option is lost")
    ax.set_title(f"{title}: loss probability per option", fontsize=10)
    p_max = float(top["p_lost"].max()) if len(top) else 0.0
    ax.set_xlim(0, max(0.05, p_max * 1.1))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


scenarios_app = typer.Typer(help="Built-in what-ifs.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.command("list", cls=_Command)
def scenarios_list() -> None:
    """List the built-in scenarios and what each models.

    Example: geosource scenarios list
    """
    from .scenarios import BUILTIN_SCENARIOS

    for sc in BUILTIN_SCENARIOS.values():
        typer.echo(f"{sc.name:<26} {sc.description}")
        typer.echo(f"{'':<26} source: {sc.source}")


@app.command("report", cls=_Command)
def report_cmd(
    config: Annotated[Path, typer.Argument(help="Report config (.toml, .yaml or .json).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write.")] = Path(
        "report"
    ),
    self_contained: Annotated[
        bool,
        typer.Option(help="Inline Leaflet in every map so they open without a network."),
    ] = False,
    no_cache: _NoCache = False,
) -> None:
    """Write a batch report: index.html, maps, tables, charts and manifest.json.

    The folder is built beside the old one and swapped in whole, manifest last.

    Example: geosource report examples/report.toml -o report/
    """
    from tqdm import tqdm

    import geosource as gs

    cfg = gs.ReportConfig.read(config)
    check_output_folder(output, "report")
    _check_buyers(list(cfg.buyers), f"{config}: field `buyers`")
    for entry in (*cfg.scenarios, *cfg.world):
        _scenario(entry)
    layers, G, _ = _graph(None, no_cache)
    steps = len(cfg.as_of) * (1 + len(cfg.minerals) * len(cfg.scenarios)) + len(cfg.minerals) * (
        len(cfg.world) + 1 if cfg.world else 0
    )
    with tqdm(total=steps, desc="report", unit="step", disable=None, file=sys.stderr) as bar:

        def progress(msg: str) -> None:
            bar.set_postfix_str(msg)
            bar.update(1)

        index = gs.build_report(
            config, output, G=G, layers=layers, progress=progress, self_contained=self_contained
        )
    typer.echo(f"wrote {index} (open it in a browser)")


cache_app = typer.Typer(
    help="The disk cache of validated layers and route graphs.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(cache_app, name="cache")


@cache_app.command("info", cls=_Command)
def cache_info_cmd() -> None:
    """Print the cache folder and its entries with their sizes, newest first.

    The folder is the user's cache folder, or GEOSOURCE_CACHE_DIR when set.

    Example: geosource cache info
    """
    entries = cache_entries()
    typer.echo(f"cache folder: {cache_dir()}")
    for e in entries:
        typer.echo(f"  {e.path.name}  {e.kind:<6} {_size(e.size):>9}  {e.modified:%Y-%m-%d %H:%M}")
    total = sum(e.size for e in entries)
    typer.echo(f"{len(entries)} entries, {_size(total)}")


@cache_app.command("clear", cls=_Command)
def cache_clear_cmd() -> None:
    """Remove every cache entry (the next command loads and builds afresh).

    Example: geosource cache clear
    """
    removed = clear_cache()
    for e in removed:
        typer.echo(f"removed {e.path} ({_size(e.size)})")
    total = sum(e.size for e in removed)
    typer.echo(f"removed {len(removed)} entries, {_size(total)}, from {cache_dir()}")


def _size(n: int) -> str:
    """Bytes as B, kB or MB (powers of 1000)."""
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def _print_layer_summary(layers: Layers) -> None:
    summary = layers.summary()
    typer.echo("geosource bundled layers")
    typer.echo("========================")
    for rec in summary[summary["mineral"] == "all"].to_dict("records"):
        value = float(rec["site_checked_share"])
        share = "" if math.isnan(value) else f"   {value:6.1%} site-checked coordinates"
        typer.echo(f"  {rec['layer']:<16} {rec['rows']:>5} rows{share}")
    typer.echo("")
    typer.echo("facilities by mineral and stage")
    per = summary[summary["layer"].str.startswith("facilities:")].copy()
    per["stage"] = per["layer"].str.split(":").str[1]
    table = per.pivot_table(
        index="mineral", columns="stage", values="rows", fill_value=0, aggfunc="sum"
    )
    table["total"] = table.sum(axis=1)
    typer.echo(table.to_string())
    fac = layers.facilities
    site = fac.groupby("mineral")["coord_precision"].apply(lambda s: (s == "site").mean())
    typer.echo(
        "share of site-checked coordinates: "
        + ", ".join(f"{m} {v:.0%}" for m, v in site.items())
        + f"; all {(fac['coord_precision'] == 'site').mean():.0%}"
    )
    non_chn = fac[fac["country"] != "CHN"].groupby(["mineral", "stage"]).size()
    typer.echo(
        "non-Chinese facilities by mineral and stage: "
        + ", ".join(f"{m}/{s} {n}" for (m, s), n in non_chn.items())
    )


# ---------------------------------------------------------------------------------------------
# running: every error one line


def run(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code (0 ok, 2 bad input, 1 failure).

    Bad input of any kind prints one line, ``error: ...``, on stderr and returns 2 (a layer
    file with several problems lists them one per line). Anything else that goes wrong prints
    one line and returns 1; set ``GEOSOURCE_DEBUG=1`` to see the traceback instead.
    """
    try:
        result = app(args=argv, prog_name="geosource", standalone_mode=False)
    except (click.exceptions.Exit, typer.Exit) as exc:
        return int(exc.exit_code)
    except (click.exceptions.Abort, typer.Abort):
        typer.echo("aborted", err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except (click.ClickException, typer.TyperException) as exc:
        return _usage_error(exc)
    except LayerError as exc:
        _error(_layer_message(exc))
        return 2
    except (GeosourceError, ValueError, KeyError, FileNotFoundError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        _error(_one_line(str(message)))
        return 2
    except Exception as exc:  # a failure, not bad input: still one line unless debugging
        if os.environ.get("GEOSOURCE_DEBUG"):
            raise
        _error(_failure(exc))
        return 1
    return int(result) if isinstance(result, int) else 0


def _usage_error(exc: Any) -> int:
    if type(exc).__name__ == "NoArgsIsHelpError":  # bare `geosource`: the help text
        exc.show()
        return 2
    ctx = getattr(exc, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None and ctx.command_path else ""
    _error(_one_line(exc.format_message()) + hint)
    return 2


def _layer_message(exc: LayerError) -> str:
    if len(exc.problems) == 1:
        return _one_line(str(exc.problems[0]))
    return str(exc) if exc.problems else _one_line(str(exc))


def _failure(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "out of memory: give a smaller query (fewer draws, minerals or buyers)"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"{where}{(exc.strerror or _one_line(str(exc))).lower()}"
    return (
        f"internal error ({type(exc).__name__}: {_one_line(str(exc))}); please report it with "
        "the command you ran (GEOSOURCE_DEBUG=1 shows the traceback)"
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def main() -> None:
    """Entry point of the ``geosource`` console script."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()

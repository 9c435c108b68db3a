"""The ``geosource`` command: parses arguments, calls the API, prints. No logic lives here."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import click
import typer

from .errors import GeosourceError, LayerError
from .layers import Layers

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

_KINDS = (
    "facilities",
    "production",
    "countries",
    "export_controls",
    "chokepoints",
    "demand_centres",
    "airports",
)


def _pandas_display() -> None:
    import pandas as pd

    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.max_colwidth", 40)
    pd.set_option("display.max_rows", 500)


@layers_app.command("list")
def layers_list() -> None:
    """List the bundled layers with their row counts and what one row is.

    Example: geosource layers list
    """
    from ._schemas import SPECS
    from .layers import bundled_layers_dir, load_layers

    layers = load_layers()
    typer.echo(f"bundled layers in {bundled_layers_dir()}")
    for name, frame in layers:
        typer.echo(f"  {name:<16} {len(frame):>5} rows   one row is {SPECS[name].doc}")
    typer.echo("  ports            read from the installed searoute package (UN/LOCODE)")


@layers_app.command("show")
def layers_show(
    name: Annotated[str, typer.Argument(help="Layer name, e.g. facilities.")],
    mineral: Annotated[str | None, typer.Option(help="Only rows of this mineral.")] = None,
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated columns to show (default: key ones).")
    ] = None,
) -> None:
    """Print a bundled layer as a table.

    Example: geosource layers show facilities --mineral gallium
    """
    from .layers import load_layers
    from .minerals import normalize_mineral

    names = [*_KINDS, "boundaries"]
    if name not in names:
        raise click.UsageError(f"no layer {name!r}; layers are: {', '.join(names)}")
    frame = load_layers()[name]
    if mineral is not None:
        key = normalize_mineral(mineral)
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


@layers_app.command("validate")
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

    Exit code 0 when valid, 2 when not. Example:
    geosource layers validate my_mines.csv --kind facilities
    """
    from .layers import validate_layer, write_layer

    if kind is not None and kind not in _KINDS:
        raise click.UsageError(f"unknown kind {kind!r}; kinds are: {', '.join(_KINDS)}")
    report = validate_layer(file, kind)
    if report.file_problems() or (report.problems and not skip_invalid):
        raise LayerError(report.problems)
    data = report.valid() if skip_invalid else report.data
    if report.problems:
        skipped = report.skipped()
        typer.echo(f"{file}: skipped {len(skipped)} of {len(report.data)} rows:", err=True)
        for line in report.skipped_lines():
            typer.echo(f"  {line}", err=True)
    typer.echo(f"{file}: {len(data)} valid {report.kind} rows")
    if output is not None:
        write_layer(data.reset_index(drop=True), output, kind=report.kind)
        typer.echo(f"wrote {output}")


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the result files.")] = Path(
        "out"
    ),
    as_of: Annotated[str, typer.Option(help="Date for export controls.")] = "2025-06-30",
) -> None:
    """Run the main job on the bundled data: layers, route graph, ranked sourcing options.

    Writes out/sourcing_paths.gpkg and out/sourcing_paths.csv. Example: geosource demo -o out
    """
    import time

    import geosource as gs

    from .layers import load_layers

    t0 = time.perf_counter()
    layers = load_layers()
    _pandas_display()
    _print_layer_summary(layers)

    t = time.perf_counter()
    G = gs.graph_from_layers(layers)
    typer.echo(
        f"\nroute graph: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges "
        f"(built in {time.perf_counter() - t:.2f} s; searoute MARNET, {G.graph['sea_nodes_merged']}"
        " antimeridian duplicates merged, Northwest Passage closed)"
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
        table = paths[
            [
                "rank",
                "mine_country",
                "plant_country",
                "plant",
                "distance_km",
                "exposure",
                "export_controls",
                "score",
                "pareto",
            ]
        ].copy()
        table["distance_km"] = table["distance_km"].round(0).astype(int)
        typer.echo(table.round(3).to_string(index=False))
        typer.echo(f"  why #1: {paths['reasons'].iloc[0]}")

    import geopandas as gpd
    import pandas as pd

    results = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    results.attrs = {"weights": frames[0].attrs["weights"]}
    out.mkdir(parents=True, exist_ok=True)
    gs.write_layer(results, out / "sourcing_paths.gpkg")
    results.drop(columns="geometry").to_csv(
        out / "sourcing_paths.csv", index=False, lineterminator="\n"
    )
    gs.map_paths(
        results,
        layers,
        title="Sourcing options: lithium, rare earths and graphite for India; "
        "gallium and germanium for the US",
    ).save(str(out / "demo_map.html"))
    gs.map_layers(layers, "rare_earths").save(str(out / "layers_map.html"))
    gs.save_map_png(results, layers, out / "demo_map.png")
    full = gs.sourcing_paths(G, "lithium", "IND", k=None, as_of=as_of)
    gs.pareto_chart(
        full,
        out / "pareto_lithium_IND.png",
        title=f"Lithium for India: distance vs exposure ({len(full)} options)",
    )
    typer.echo(
        f"\nwrote to {out}/: sourcing_paths.gpkg, sourcing_paths.csv ({len(results)} options), "
        "demo_map.html, layers_map.html, demo_map.png, pareto_lithium_IND.png "
        f"in {time.perf_counter() - t0:.1f} s"
    )


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


def run(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code (0 ok, 2 bad input, 1 failure)."""
    try:
        app(args=argv, prog_name="geosource", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        typer.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return 2
    except LayerError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except (GeosourceError, ValueError, KeyError, FileNotFoundError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        typer.echo(f"error: {message}", err=True)
        return 2
    return 0


def main() -> None:
    """Entry point of the ``geosource`` console script."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()

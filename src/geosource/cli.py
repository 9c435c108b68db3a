"""The ``geosource`` command: parses arguments, calls the API, prints. No logic lives here."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated, Any

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


_TABLE = [
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


def _options_table(frame: Any, lead: tuple[str, ...] = ()) -> str:
    """Ranked options as a plain-text table (distances rounded to km, scores to 3 places)."""
    table = frame[[*lead, *_TABLE]].copy()
    table["distance_km"] = table["distance_km"].round(0).astype(int)
    return str(table.round(3).to_string(index=False))


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

    Exit code 0 when valid, 2 when not.

    Example: geosource layers validate my_mines.csv --kind facilities
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

    Writes results, maps and charts to the output folder.

    Example: geosource demo -o out
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
        typer.echo(_options_table(paths))
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


_MINERAL_HELP = "Mineral: lithium, rare_earths, graphite, gallium, germanium (repeatable)."
_TO_HELP = "Buyer: a country (IND, India) or a demand-centre id (repeatable)."


def _graph(scenario: str | None) -> tuple[Any, Any, Any]:
    """Layers, graph and (optionally) the applied scenario."""
    import geosource as gs

    layers = gs.load_layers()
    G = gs.graph_from_layers(layers)
    applied = gs.apply_scenario(G, layers, scenario) if scenario else None
    return layers, G, applied


def _paths(
    G: Any,
    applied: Any,
    minerals: list[str],
    to: list[str],
    k: int | None,
    as_of: str | None,
    weights: Path | None,
    include_development: bool,
) -> Any:
    import geosource as gs

    w = gs.Weights.read(weights) if weights else None
    kwargs: dict[str, Any] = {"as_of": as_of, "include_development": include_development}
    if w is not None:
        kwargs["weights"] = w
    if applied is not None:
        return applied.sourcing_paths(minerals, to, k, **kwargs)
    return gs.sourcing_paths(G, minerals, to, k, **kwargs)


def _write_results(frame: Any, output: Path) -> None:
    import geosource as gs

    suffix = output.suffix.lower()
    if suffix == ".csv":
        output.parent.mkdir(parents=True, exist_ok=True)
        frame.drop(columns="geometry").to_csv(output, index=False, lineterminator="\n")
    elif suffix in (".gpkg", ".parquet", ".geojson", ".json"):
        gs.write_layer(frame, output)
    else:
        raise click.UsageError(
            f"cannot write {output.name!r}: use .gpkg, .parquet, .csv or .geojson"
        )
    typer.echo(f"wrote {output}", err=True)


@app.command("paths")
def paths_cmd(
    mineral: Annotated[list[str], typer.Option("--mineral", "-m", help=_MINERAL_HELP)],
    to: Annotated[list[str], typer.Option("--to", "-t", help=_TO_HELP)],
    k: Annotated[int, typer.Option(help="Options per mineral and buyer (0: all).")] = 5,
    as_of: Annotated[str | None, typer.Option(help="Date for export controls.")] = None,
    scenario: Annotated[
        str | None, typer.Option(help="Built-in scenario name or a .toml/.yaml/.json file.")
    ] = None,
    weights: Annotated[Path | None, typer.Option(help="Weights file (.toml or .json).")] = None,
    include_development: Annotated[
        bool, typer.Option("--include-development", help="Also projects in development.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write .gpkg, .parquet, .csv, .geojson.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Ranked sourcing options for a mineral and a buyer.

    Example: geosource paths --mineral lithium --to IND --k 5 --as-of 2025-06-30 -o li.gpkg
    """
    import json

    _, G, applied = _graph(scenario)
    frame = _paths(G, applied, mineral, to, k or None, as_of, weights, include_development)
    if as_json:
        cols = [c for c in frame.columns if c != "geometry"]
        records = frame[cols].astype(object).where(frame[cols].notna(), None)
        typer.echo(json.dumps(records.to_dict("records"), indent=1, default=str))
    else:
        _pandas_display()
        typer.echo(_options_table(frame, ("mineral", "query")))
        typer.echo(
            f"as of {frame['as_of'].iloc[0]}; lower score is better; why #1: "
            f"{frame['reasons'].iloc[0]}"
        )
    if output is not None:
        _write_results(frame, output)


@app.command("map")
def map_cmd(
    mineral: Annotated[list[str], typer.Option("--mineral", "-m", help=_MINERAL_HELP)],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .html file to write.")],
    to: Annotated[
        list[str] | None, typer.Option("--to", "-t", help=_TO_HELP + " Omit for a layers map.")
    ] = None,
    k: Annotated[int, typer.Option(help="Options per mineral and buyer.")] = 5,
    as_of: Annotated[str | None, typer.Option(help="Date for export controls.")] = None,
    scenario: Annotated[str | None, typer.Option(help="Built-in scenario or file.")] = None,
    png: Annotated[Path | None, typer.Option(help="Also write a static PNG.")] = None,
) -> None:
    """A Folium map of ranked options (with --to) or of the layers of one mineral.

    Example: geosource map --mineral rare_earths --to IND -o ree_india.html
    """
    import geosource as gs

    layers, G, applied = _graph(scenario)
    if not to:
        m = gs.map_layers(layers, mineral[0])
    else:
        frame = _paths(G, applied, mineral, to, k, as_of, None, False)
        m = gs.map_paths(frame, layers)
        if png is not None:
            gs.save_map_png(frame, layers, png)
    output.parent.mkdir(parents=True, exist_ok=True)
    m.save(str(output))
    typer.echo(f"wrote {output}")


@app.command("compare")
def compare_cmd(
    scenario: Annotated[str, typer.Option(help="Built-in scenario name or a scenario file.")],
    mineral: Annotated[list[str], typer.Option("--mineral", "-m", help=_MINERAL_HELP)],
    to: Annotated[list[str], typer.Option("--to", "-t", help=_TO_HELP)],
    as_of: Annotated[str | None, typer.Option(help="Date for export controls.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Diff table (.csv).")
    ] = None,
    map_file: Annotated[Path | None, typer.Option("--map", help="Comparison map (.html).")] = None,
) -> None:
    """What a scenario changes: one verdict per buyer and mineral, and the differences.

    Example: geosource compare --scenario red-sea-closure --mineral rare_earths --to IND
    """
    import geosource as gs

    _, G, applied = _graph(scenario)
    base = gs.sourcing_paths(G, mineral, to, None, as_of=as_of)
    after = applied.sourcing_paths(mineral, to, None, as_of=as_of)
    diff = gs.compare(base, after, name=applied.scenario.name)
    typer.echo(f"{applied.scenario.name}: {applied.scenario.description}")
    for line in diff.attrs["verdicts"].values():
        typer.echo(f"  {line}")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        diff.to_csv(output, index=False, lineterminator="\n")
        typer.echo(f"wrote {output}")
    if map_file is not None:
        gs.map_compare(
            base[base["rank"] <= 10], after[after["rank"] <= 10], name=applied.scenario.name
        ).save(str(map_file))
        typer.echo(f"wrote {map_file}")


@app.command("allocate")
def allocate_cmd(
    mineral: Annotated[str, typer.Option("--mineral", "-m", help="The mineral.")],
    to: Annotated[str, typer.Option("--to", "-t", help="The buyer.")],
    demand_t: Annotated[float, typer.Option(help="Tonnes a year (t LCE, t REO, t Ga ...).")],
    max_country_share: Annotated[
        float | None, typer.Option(help="Most any one country may supply (0-1).")
    ] = None,
    scenario: Annotated[str | None, typer.Option(help="Built-in scenario or file.")] = None,
    as_of: Annotated[str | None, typer.Option(help="Date for export controls.")] = None,
) -> None:
    """Meet a demand at least cost under capacities (and a per-country cap).

    Example: geosource allocate --mineral rare_earths --to IND --demand-t 10000
    --max-country-share 0.4
    """
    import geosource as gs

    layers, G, _ = _graph(None)
    a = gs.allocate(
        G,
        layers,
        mineral=mineral,
        to=to,
        demand_t=demand_t,
        max_country_share=max_country_share,
        scenario=scenario,
        as_of=as_of,
    )
    typer.echo(
        f"{a.mineral} → {a.buyer}: {a.supplied_t:,.1f} of {a.demand_t:,.1f} {a.unit} "
        f"supplied; unmet {a.unmet_t:,.1f}; status {a.status}"
        + (f" (binding: {a.binding})" if a.binding else "")
        + f"; {a.message}"
    )
    _pandas_display()
    if len(a.flows):
        typer.echo(a.flows.round(3).to_string(index=False))
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


_SWEEP_KEYS = (
    "mineral",
    "to",
    "n",
    "seed",
    "as_of",
    "demand_t",
    "score_threshold",
    "include_development",
    "executor",
    "scheduler",
    "closures",
    "measures",
    "outages",
)


@app.command("sweep")
def sweep_cmd(
    config: Annotated[Path, typer.Argument(help="Monte Carlo config (.toml).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write.")] = Path(
        "sweep"
    ),
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786.")
    ] = None,
    executor: Annotated[str | None, typer.Option(help="serial or dask.")] = None,
) -> None:
    """Monte Carlo disruption draws: loss probability and extra distance per option.

    Writes options.parquet, combinations.parquet, summary.json and summary.html.

    Example: geosource sweep examples/sweep.toml -o out/sweep
    """
    import base64
    import html
    import json

    from tqdm import tqdm

    import geosource as gs

    from ._files import read_table

    cfg = read_table(config, "sweep config")
    unknown = sorted(set(cfg) - set(_SWEEP_KEYS))
    if unknown:
        raise ValueError(
            f"{config}: unknown key {unknown[0]!r}; valid keys: {', '.join(_SWEEP_KEYS)}"
        )
    for required in ("mineral", "to"):
        if required not in cfg:
            raise ValueError(f"{config}: missing key {required!r}")
    if scheduler:
        cfg["scheduler"], cfg["executor"] = scheduler, "dask"
    if executor:
        cfg["executor"] = executor
    layers, G, _ = _graph(None)
    with tqdm(total=1, desc="combinations", unit="combo", disable=None, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        result = gs.monte_carlo(G, layers, progress=progress, **cfg)
    output.mkdir(parents=True, exist_ok=True)
    result.options.to_parquet(output / "options.parquet", index=False)
    result.combos.to_parquet(output / "combinations.parquet", index=False)
    (output / "summary.json").write_text(
        json.dumps(
            {k: v for k, v in result.summary.items()}, indent=2, sort_keys=True, default=float
        )
        + "\n",
        encoding="utf-8",
    )
    chart = output / "loss_probability.png"
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
    (output / "summary.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Monte Carlo</title>'
        "<style>body{font:14px system-ui,sans-serif;margin:24px}td,th{padding:2px 8px;"
        "border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
        f"<h1>Disruption draws: {html.escape(str(result.summary['mineral']))} → "
        f"{html.escape(str(result.summary['buyer']))}</h1><ul>{summary}</ul>"
        f'<img alt="loss probability per option" src="data:image/png;base64,{image}">'
        "<table><tr><th>source</th><th>processing</th><th>P(lost)</th><th>E[extra km]</th>"
        f"<th>p95 extra km</th><th>E[exposure]</th></tr>{rows}</table></body></html>\n",
        encoding="utf-8",
    )
    typer.echo(
        f"{result.summary['draws']:,} draws, {result.summary['combinations']} "
        f"combinations; P(no good option) {result.summary['p_no_good_option']:.3f}"
        + (
            f"; expected unmet {result.summary['expected_unmet_t']:,.1f} t"
            if "expected_unmet_t" in result.summary
            else ""
        )
    )
    typer.echo(f"wrote {output}/summary.html, options.parquet, combinations.parquet, summary.json")


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
    ax.set_xlim(0, max(0.05, float(top["p_lost"].max()) * 1.1))
    fig.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


scenarios_app = typer.Typer(help="Built-in what-ifs.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.command("list")
def scenarios_list() -> None:
    """List the built-in scenarios and what each models.

    Example: geosource scenarios list
    """
    from .scenarios import BUILTIN_SCENARIOS

    for sc in BUILTIN_SCENARIOS.values():
        typer.echo(f"{sc.name:<26} {sc.description}")
        typer.echo(f"{'':<26} source: {sc.source}")


@app.command("report")
def report_cmd(
    config: Annotated[Path, typer.Argument(help="Report config (.toml).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write.")] = Path(
        "report"
    ),
) -> None:
    """Write a batch report: index.html, maps, tables, charts and manifest.json.

    Example: geosource report examples/report.toml -o report/
    """
    from tqdm import tqdm

    import geosource as gs

    cfg = gs.ReportConfig.read(config)
    steps = len(cfg.as_of) * (1 + len(cfg.minerals) * len(cfg.scenarios))
    with tqdm(total=steps, desc="report", unit="step", disable=None, file=sys.stderr) as bar:

        def progress(msg: str) -> None:
            bar.set_postfix_str(msg)
            bar.update(1)

        index = gs.build_report(cfg, output, progress=progress)
    typer.echo(f"wrote {index} (open it in a browser)")


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
        result = app(args=argv, prog_name="geosource", standalone_mode=False)
    except (click.exceptions.Exit, typer.Exit) as exc:
        return int(exc.exit_code)
    except (click.exceptions.Abort, typer.Abort):
        typer.echo("aborted", err=True)
        return 1
    except (click.ClickException, typer.TyperException) as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return 2
    except LayerError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except (GeosourceError, ValueError, KeyError, FileNotFoundError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        typer.echo(f"error: {message}", err=True)
        return 2
    return int(result) if isinstance(result, int) else 0


def main() -> None:
    """Entry point of the ``geosource`` console script."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()

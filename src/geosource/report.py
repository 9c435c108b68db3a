"""Batch reports from a config file: maps, tables, charts and a summary page in one folder.

The same config writes byte-identical files: element ids, GeoPackage timestamps and PNG
metadata are pinned, and nothing records the time of the run.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ._config import read_config, validate_config
from ._files import atomic_folder, check_output_folder
from ._pages import METHOD_DOCS, citations_page, docs_dir, methods_page, page
from ._slug import slug
from ._summary import name as country_label
from ._summary import summary_html
from ._version import __version__
from .countries import country_name, normalize_country
from .exposure import supply_concentration
from .invest import project_value
from .layers import Layers, bundled_layers_dir, load_layers, write_layer
from .maps import map_candidates, map_compare, map_flows, map_paths, pareto_chart
from .minerals import MINERALS, PRODUCTS, normalize_mineral
from .network import graph_from_layers
from .scenarios import Scenario, apply_scenario, compare, get_scenario
from .scoring import Weights
from .sourcing import sourcing_paths
from .world import allocate_world

__all__ = ["ReportConfig", "build_report"]


SCENARIO_SUFFIXES = (".toml", ".yaml", ".yml", ".json")
"""A report's ``scenarios``/``world`` entry with one of these suffixes is a scenario file."""


@dataclass(frozen=True)
class ReportConfig:
    """What a report covers. Unknown keys are errors that list the valid ones.

    Files, mappings and direct construction go through one schema that reports every problem
    at once (``ValueError``); :meth:`read` takes a ``.toml``, ``.yaml`` or ``.json`` file.

    Parameters
    ----------
    title
        Heading of the summary page.
    buyers
        Countries or demand-centre ids.
    minerals
        Mineral ids or aliases.
    as_of
        Dates for export controls (one run per date).
    scenarios
        Built-in scenario names or scenario files, compared with the baseline.
    k
        Options per buyer × mineral in the tables and maps.
    weights
        Weight overrides.
    include_development
        Also consider mines and plants under construction or in development (``True``), or
        exactly the statuses listed (e.g. ``["construction", "deposit"]``).
    world
        Scenarios (built-in names or files) under which every buyer of the demand layer shares
        world capacity (:func:`geosource.allocate_world`), each beside the baseline allocation:
        flows maps, shortfall tables and a summary sentence per buyer.
    summary_without
        Countries the summary's best alternative has no stage in (default China).
    invest
        Candidate projects to value for the buyers together (:func:`geosource.project_value`),
        each ``"mineral:candidates"`` (``"rare_earths:africa"``, ``"lithium:li-kachi+li-x"``),
        under the baseline and the ``world`` scenarios: a ranking table and a map of the
        candidates coloured by value.

    Examples
    --------
    >>> ReportConfig(buyers=["USA"], minerals=["gallium"]).buyers
    ('USA',)
    >>> ReportConfig.from_dict({"buyer": ["IND"]})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown report key 'buyer'; valid keys: title, buyers, minerals, as_of, ...
    >>> ReportConfig(k=0)
    Traceback (most recent call last):
    ...
    ValueError: field `k`: 0 is below the minimum 1
    """

    title: str = "geosource sourcing report"
    buyers: tuple[str, ...] = ("IND",)
    minerals: tuple[str, ...] = ("lithium",)
    as_of: tuple[str, ...] = ("2025-06-30",)
    scenarios: tuple[str, ...] = ()
    k: int = 5
    weights: Mapping[str, float] = field(default_factory=dict)
    include_development: bool | tuple[str, ...] = False
    world: tuple[str, ...] = ()
    summary_without: tuple[str, ...] = ("CHN",)
    invest: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # one schema for files, mappings and direct construction: every problem at once
        validate_config({f.name: getattr(self, f.name) for f in fields(self)}, "report")
        for key in (
            "buyers",
            "minerals",
            "as_of",
            "scenarios",
            "world",
            "summary_without",
            "invest",
        ):
            value = getattr(self, key)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, key, tuple(str(v) for v in value))

        object.__setattr__(
            self, "summary_without", tuple(normalize_country(c) for c in self.summary_without)
        )
        object.__setattr__(self, "minerals", tuple(normalize_mineral(m) for m in self.minerals))
        if not isinstance(self.include_development, bool):
            object.__setattr__(self, "include_development", tuple(self.include_development))
        Weights.from_dict(dict(self.weights))
        object.__setattr__(
            self, "weights", {str(k): float(v) for k, v in dict(self.weights).items()}
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportConfig:
        """A config from a mapping; unknown keys and wrong types are errors, all named at once."""
        return cls(**validate_config(data, "report"))

    @classmethod
    def read(cls, path: str | Path) -> ReportConfig:
        """Read a TOML, YAML or JSON report config."""
        p = Path(path)
        data = read_config(p, "report")
        # scenario files named in a config are found beside the config, not in the
        # directory the command happens to run in
        for key in ("scenarios", "world"):
            entries = data.get(key)
            if isinstance(entries, list | tuple):
                data[key] = [_beside(p, e) for e in entries]
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{p}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def _beside(config: Path, entry: Any) -> Any:
    """A relative scenario-file entry of ``config`` as a path from the config's folder;
    built-in scenario names and absolute paths as they are."""
    if not isinstance(entry, str) or Path(entry).suffix.lower() not in SCENARIO_SUFFIXES:
        return entry
    return entry if Path(entry).is_absolute() else str(config.parent / entry)


def _stem(*parts: str) -> str:
    """A file-name stem for these parts joined by ``_``: ``[a-z0-9_-]`` only, at most 60
    characters, and different for every different joined text (see ``geosource._slug``)."""
    return slug("_".join(parts))


def _href(path: str) -> str:
    """A relative link, escaped for a double-quoted HTML attribute."""
    return html.escape(path, quote=True)


def _check_scenario_names(entries: tuple[str, ...], names: list[str]) -> None:
    """Scenario files are named after their scenario: two entries may not share a name."""
    first: dict[str, str] = {}
    clashes = []
    for entry, name in zip(entries, names, strict=True):
        seen = first.setdefault(name, entry)
        if seen != entry:
            clashes.append(f"{seen!r} and {entry!r} are both named {name!r}")
    if clashes:
        raise ValueError(
            f"scenarios {'; '.join(clashes)}. The report names its maps and tables after each "
            "scenario: give every scenario file its own `name`."
        )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_report(
    config: ReportConfig | Mapping[str, Any] | str | Path,
    out: str | Path,
    *,
    G: Any = None,
    layers: Layers | None = None,
    progress: Callable[[str], None] | None = None,
    self_contained: bool = False,
) -> Path:
    """Write a report folder: summary, tables, maps, charts, methods, citations and manifest.

    The folder holds ``index.html`` (executive summary, then the tables), ``methods.html``,
    ``citations.html``, ``maps/``, ``tables/``, ``charts/``, and ``manifest.json`` (package
    version, config, every input file's sha256, every scenario's full definition, layer
    citations and checksums). The folder explains itself: it links to no file outside it.

    The config and ``out`` are checked before any work starts: ``out`` must be new, empty or a
    folder an earlier report wrote (every file listed in its manifest). The report is built in
    a folder beside ``out``, its manifest written last, and swapped in whole: an interrupted
    run leaves the previous report or the new one, never a mix.

    Parameters
    ----------
    config
        A :class:`ReportConfig`, a mapping of its fields, or a ``.toml``/``.yaml``/``.json``
        file (scenario files it names are found beside it).
    out
        The report folder: new, empty, or one an earlier report wrote.
    G
        A route graph to reuse (default: built from ``layers``).
    layers
        The layers (default: the bundled layers).
    progress
        Called with a short message as each part is written.
    self_contained
        Inline Leaflet in every map, so the maps open without a network (tiles aside).

    Returns
    -------
    pathlib.Path
        The path of ``index.html``.

    Examples
    --------
    >>> import os, tempfile, geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> out = os.path.join(tempfile.mkdtemp(), "report")
    >>> config = {"buyers": ["USA"], "minerals": ["gallium"], "as_of": ["2026-12-03"], "k": 2}
    >>> gs.build_report(config, out, G=G).name
    'index.html'
    >>> sorted(os.listdir(out))  # doctest: +NORMALIZE_WHITESPACE
    ['charts', 'citations.html', 'index.html', 'manifest.json', 'maps', 'methods.html',
     'tables']
    """

    if isinstance(config, str | Path):
        cfg = ReportConfig.read(config)
    elif isinstance(config, ReportConfig):
        cfg = config
    else:
        cfg = ReportConfig.from_dict(config)
    check_output_folder(out, "report")
    scenarios = [_scenario(s) for s in cfg.scenarios]
    _check_scenario_names(cfg.scenarios, [sc.name for sc in scenarios])
    worlds = [_scenario(s) for s in cfg.world]
    _check_scenario_names(cfg.world, [sc.name for sc in worlds])
    lay = layers if layers is not None else load_layers()
    G = G if G is not None else graph_from_layers(lay)
    for sc in (*scenarios, *worlds):
        sc.check(lay)
    inputs = _input_files(config, cfg)
    # built beside `out` and swapped in whole, manifest last: an interrupted run leaves the
    # previous report or the new one, never a mix
    with atomic_folder(out) as stage:
        run = _Run(cfg, stage, G, lay, scenarios, worlds, self_contained, inputs)
        _write_report(run, progress or (lambda _msg: None))
    return Path(out) / "index.html"


def _input_files(config: Any, cfg: ReportConfig) -> dict[str, str]:
    """sha256 of every input file the report read: its config and scenario files."""
    files = [Path(config)] if isinstance(config, str | Path) else []
    files += [
        Path(e)
        for e in (*cfg.scenarios, *cfg.world)
        if Path(e).suffix.lower() in (".toml", ".yaml", ".yml", ".json")
    ]
    return {str(f): _sha256(f) for f in sorted(set(files))}


@dataclass
class _Run:
    """What one report run works with, and what it has written so far."""

    cfg: ReportConfig
    root: Path
    G: Any
    lay: Layers
    scenarios: list[Any]
    worlds: list[Any]
    self_contained: bool
    inputs: dict[str, str]
    written: list[Path] = field(default_factory=list)
    facilities: set[str] = field(default_factory=set)


def _scenario(entry: str) -> Any:
    """A built-in scenario, or a scenario file checked against its schema."""

    if Path(entry).suffix.lower() not in SCENARIO_SUFFIXES:
        return get_scenario(entry)
    data = read_config(entry, "scenario")
    try:
        return Scenario.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{entry}: {exc}") from None


def _write_report(run: _Run, say: Callable[[str], None]) -> None:

    cfg, root, lay = run.cfg, run.root, run.lay
    w = Weights.from_dict(cfg.weights)
    for sub in ("maps", "tables", "charts"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    sites = {
        str(r["id"]): (str(r["name"]), str(r["country"]))
        for r in lay.facilities[["id", "name", "country"]].to_dict("records")
    }
    sections: list[str] = []
    all_tables: list[pd.DataFrame] = []
    full_by: dict[str, pd.DataFrame] = {}
    diffs_by: dict[str, dict[str, pd.DataFrame]] = {}
    for day in cfg.as_of:
        say(f"options on {day}")
        full = sourcing_paths(
            run.G,
            list(cfg.minerals),
            list(cfg.buyers),
            k=None,
            as_of=day,
            weights=w,
            include_development=cfg.include_development,
            layers=lay,
        )
        # each scenario applied once a day, for every mineral and buyer at once
        afters = {}
        for sc in run.scenarios:
            say(f"{sc.name} on {day}")
            afters[sc.name] = apply_scenario(run.G, run.lay, sc).sourcing_paths(
                list(cfg.minerals),
                list(cfg.buyers),
                k=None,
                as_of=day,
                # the report's weights, with the scenario's own on top: a comparison shows
                # what the scenario changes, not a change of weights
                weights=Weights.from_dict({**cfg.weights, **sc.weights}),
                include_development=cfg.include_development,
            )
        top = full[full["rank"] <= cfg.k]
        all_tables.append(top)
        run.facilities |= {f for chain in top["chain"] for f in chain}
        day_html = [f"<h2>Options on {html.escape(day)}</h2>"]
        for mineral in cfg.minerals:
            day_html.append(_mineral_head(lay, mineral))
            for buyer in cfg.buyers:
                day_html.append(_buyer_options(run, full, mineral, buyer, day))
            diffs = {}
            for sc in run.scenarios:
                diff, text = _scenario_section(run, full, afters[sc.name], mineral, day, sc)
                diffs[sc.name] = diff
                day_html.append(text)
            full_by[mineral] = full[full["mineral"] == mineral]
            diffs_by[mineral] = diffs
        sections.append("\n".join(day_html))
    day = cfg.as_of[-1]
    worlds = _world_runs(run, day, say)
    summary = summary_html(
        day=day,
        minerals=cfg.minerals,
        buyers=cfg.buyers,
        full=full_by,
        diffs=diffs_by,
        worlds={m: {k: v for k, v in per.items()} for m, per in worlds.items()},
        without=cfg.summary_without,
        sites=sites,
    )
    world_html = _world_sections(run, worlds, day) + _invest_sections(run, day, say)
    _write_tables(run, all_tables)
    (root / "methods.html").write_text(methods_page(cfg.title), encoding="utf-8")
    used = [(n, f) for n, f in lay]
    (root / "citations.html").write_text(
        citations_page(cfg.title, used, run.facilities), encoding="utf-8"
    )
    index = root / "index.html"
    index.write_text(_page(cfg, summary, world_html, sections), encoding="utf-8")
    files = [*run.written, root / "methods.html", root / "citations.html", index]
    manifest = {
        "geosource_version": _package_version(),
        "config": cfg.to_dict(),
        "inputs": run.inputs,
        "scenarios": {sc.name: sc.to_dict() for sc in run.scenarios},
        "world_scenarios": {sc.name: sc.to_dict() for sc in run.worlds},
        "layers": _layer_manifest(lay),
        "methods": {name: _sha256(docs_dir() / name) for name in METHOD_DOCS},
        "files": {str(p.relative_to(root)): _sha256(p) for p in sorted(files)},
        "sources": "citations.html lists the citation of every layer row this report used",
        "self_contained": run.self_contained,
    }
    (root / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _mineral_head(lay: Layers, mineral: str) -> str:

    conc = supply_concentration(lay, mineral, "mining")
    conc_r = supply_concentration(lay, mineral, "refining")
    return (
        f'<h3>{html.escape(MINERALS[mineral].name)}</h3><p class="conc">'
        + _conc_line("mining", conc)
        + "<br>"
        + _conc_line("refining", conc_r)
        + "</p>"
    )


def _buyer_options(run: _Run, full: pd.DataFrame, mineral: str, buyer: str, day: str) -> str:

    part_all = full[(full["mineral"] == mineral) & (full["query"] == buyer)]
    part = part_all[part_all["rank"] <= run.cfg.k]
    if part.empty:
        return f"<p>{html.escape(country_label(buyer))}: no feasible option.</p>"
    stem = _stem(mineral, buyer, day)
    map_file = run.root / "maps" / f"{stem}.html"
    part = part.copy()
    part.attrs = {**full.attrs, "blocked": _blocked_for(full, mineral, buyer)}
    map_paths(part, run.lay, self_contained=run.self_contained).save(str(map_file))
    chart = run.root / "charts" / f"{stem}_pareto.png"
    pareto_chart(
        part_all,
        chart,
        title=f"{MINERALS[mineral].name} → {country_label(buyer)}, {day} ({len(part_all)} options)",
    )
    run.written += [map_file, chart]
    return _options_table(
        part, buyer, f"maps/{map_file.name}", f"charts/{chart.name}", len(part_all)
    )


def _blocked_for(full: pd.DataFrame, mineral: str, buyer: str) -> list[dict[str, Any]]:
    return [
        b
        for b in full.attrs.get("blocked") or []
        if b.get("mineral") == mineral and b.get("query") == buyer
    ]


def _scenario_section(
    run: _Run, full: pd.DataFrame, after_all: pd.DataFrame, mineral: str, day: str, sc: Any
) -> tuple[pd.DataFrame, str]:
    cfg = run.cfg
    after = after_all[after_all["mineral"] == mineral]
    base = full[full["mineral"] == mineral]
    diff = compare(base, after, name=sc.name)
    # own prefix: a scenario named like a buyer never overwrites the buyer's map
    stem = _stem("scenario", mineral, day, sc.name)
    cmp_file = run.root / "maps" / f"{stem}.html"
    shown = after[after["rank"] <= cfg.k]
    run.facilities |= {f for chain in shown["chain"] for f in chain}
    map_compare(
        diff,
        base[base["rank"] <= cfg.k],
        shown,
        layers=run.lay,
        self_contained=run.self_contained,
    ).save(str(cmp_file))
    diff_file = run.root / "tables" / f"{stem}_diff.csv"
    diff.to_csv(diff_file, index=False, lineterminator="\n", float_format="%.6f")
    run.written += [cmp_file, diff_file]
    lines = "".join(
        f"<li>{html.escape(_verdict_for_people(k, v))}</li>"
        for k, v in diff.attrs["verdicts"].items()
    )
    map_href = _href(f"maps/{cmp_file.name}")
    table_href = _href(f"tables/{diff_file.name}")
    text = (
        f"<p><b>Scenario {html.escape(sc.name)}</b> — "
        f'{html.escape(sc.description)} (<a href="{map_href}">map</a>, '
        f'<a href="{table_href}">table</a>)</p><ul>{lines}</ul>'
    )
    return diff, text


def _world_runs(run: _Run, day: str, say: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """Per mineral: the baseline world allocation (key ``""``) and one per world scenario, or
    the reason it could not run."""

    out: dict[str, dict[str, Any]] = {}
    if not run.worlds:
        return out
    for mineral in run.cfg.minerals:
        per: dict[str, Any] = {}
        for sc in [None, *run.worlds]:
            key = "" if sc is None else sc.name
            say(f"world allocation {mineral} {key or 'baseline'}")
            try:
                per[key] = allocate_world(
                    run.G,
                    mineral,
                    as_of=day,
                    scenario=sc,
                    include_development=_statuses(run.cfg.include_development),
                    layers=run.lay,
                )
            except ValueError as exc:
                per[key] = str(exc)
        out[mineral] = per
    return out


def _statuses(value: bool | tuple[str, ...]) -> bool | list[str]:
    return value if isinstance(value, bool) else list(value)


def _world_sections(run: _Run, worlds: Mapping[str, Mapping[str, Any]], day: str) -> str:

    if not worlds:
        return ""
    parts = [f"<h2>World allocation ({html.escape(day)})</h2>"]
    for mineral, per in worlds.items():
        parts.append(f"<h3>{html.escape(MINERALS[mineral].name)}</h3>")
        for key, world in per.items():
            label = key or "baseline"
            if isinstance(world, str):
                parts.append(f"<p>{html.escape(label)}: not run — {html.escape(world)}</p>")
                continue
            stem = _stem("world", mineral, day, label)
            map_file = run.root / "maps" / f"{stem}.html"
            map_flows(world, run.lay, self_contained=run.self_contained).save(str(map_file))
            table = run.root / "tables" / f"{stem}_buyers.csv"
            world.buyers.to_csv(table, index=False, lineterminator="\n", float_format="%.6f")
            flows = run.root / "tables" / f"{stem}_flows.csv"
            world.flows.to_csv(flows, index=False, lineterminator="\n", float_format="%.6f")
            run.written += [map_file, table, flows]
            run.facilities |= {f for chain in world.flows["chain"] for f in chain}
            parts.append(_world_table(world, label, map_file.name, table.name, flows.name))
    return "\n".join(parts)


def _invest_sections(run: _Run, day: str, say: Callable[[str], None]) -> str:
    """Per ``invest`` entry: the candidates ranked by value for the buyers together, a map of
    them coloured by value and the ranking as CSV."""

    if not run.cfg.invest:
        return ""
    parts = [f"<h2>Which project adds most ({html.escape(day)})</h2>"]
    for entry in run.cfg.invest:
        mineral, _, spec = entry.partition(":")
        mid = normalize_mineral(mineral)
        names = [c.strip() for c in spec.split(",") if c.strip()]
        say(f"project value {mid} {spec}")
        v = project_value(
            run.G,
            names,
            list(run.cfg.buyers),
            mineral=mid,
            scenarios=[None, *run.worlds],
            as_of=day,
            layers=run.lay,
        )
        stem = _stem("invest", mid, day, spec)
        map_file = run.root / "maps" / f"{stem}.html"
        map_candidates(v, run.lay, self_contained=run.self_contained).save(str(map_file))
        table = run.root / "tables" / f"{stem}_ranking.csv"
        v.ranking.to_csv(table, index=False, lineterminator="\n", float_format="%.6f")
        run.written += [map_file, table]
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(x))}</td>"
                for x in (
                    r["rank"],
                    r["candidate"],
                    f"{r['value']:.4f}",
                    f"{r['unmet_term']:.4f}",
                    f"{r['hhi_term']:.4f}",
                    f"{r['feoc_term']:.4f}",
                    f"{r['cost_term']:.4f}",
                    r["reason"],
                )
            )
            + "</tr>"
            for r in v.ranking.to_dict("records")
        )
        head = "".join(
            f"<th>{h}</th>"
            for h in (
                "#",
                "candidate",
                "value (higher is better)",
                "unmet",
                "HHI",
                "FEOC",
                "freight",
                "why",
            )
        )
        parts.append(
            f"<h3>{html.escape(MINERALS[mid].name)}: {html.escape(spec)} "
            f'<small>(<a href="{_href(f"maps/{map_file.name}")}">map</a>, '
            f'<a href="{_href(f"tables/{table.name}")}">CSV</a>)</small></h3>'
            f"<table><tr>{head}</tr>{rows}</table>"
        )
    return "\n".join(parts)


def _world_table(world: Any, label: str, map_name: str, table: str, flows: str) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("buyer", "demand", "supplied", "short", "unit", "met", "top supplier")
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                country_label(r["buyer"]) if r["buyer"] != "ROW" else "rest of world",
                f"{r['demand']:,.0f}",
                f"{r['supplied']:,.0f}",
                f"{r['unmet']:,.0f}",
                r["unit"],
                f"{r['share_met']:.0%}",
                country_label(r["top_country"]) if isinstance(r["top_country"], str) else "",
            )
        )
        + "</tr>"
        for r in world.buyers.to_dict("records")
    )
    return (
        f"<h4>{html.escape(label)} <small>({html.escape(world.message)}; "
        f'<a href="{_href("maps/" + map_name)}">flows map</a>, '
        f'<a href="{_href("tables/" + table)}">buyers</a>, '
        f'<a href="{_href("tables/" + flows)}">flows</a>)</small></h4>'
        f"<table><tr>{head}</tr>{rows}</table>"
    )


def _write_tables(run: _Run, all_tables: list[pd.DataFrame]) -> None:

    table = pd.concat(all_tables, ignore_index=True)
    csv = run.root / "tables" / "options.csv"
    table.drop(columns="geometry").to_csv(
        csv, index=False, lineterminator="\n", float_format="%.6f"
    )
    gpkg = write_layer(
        gpd.GeoDataFrame(table, geometry="geometry", crs="EPSG:4326"),
        run.root / "tables" / "options.gpkg",
    )
    run.written += [csv, gpkg]


def _package_version() -> str:
    return __version__


def _layer_manifest(lay: Layers) -> dict[str, Any]:
    base = bundled_layers_dir()
    out: dict[str, Any] = {}
    for name, frame in lay:
        csv = base / f"{name}.csv"
        path = csv if csv.exists() else base / f"{name}.gpkg"
        entry: dict[str, Any] = {"rows": len(frame)}
        if path.exists():
            entry["file"] = path.name
            entry["sha256"] = _sha256(path)
        if "source" in frame.columns:
            entry["citations"] = int(frame["source"].nunique())
        out[name] = entry
    return out


def _conc_line(stage: str, c: Mapping[str, Any]) -> str:
    if c["top_country"] is None:
        return f"{stage}: no production figures"
    return (
        f"{stage}: {html.escape(country_label(c['top_country']))} {c['top_share']:.0%} of world "
        f"output; HHI {c['hhi']:.2f}; WGI-weighted HHI {c['hhi_wgi']:.2f} "
        f"({html.escape(str(c['basis']))})"
    )


#: Column headings of the options tables, units and direction included.
OPTION_HEADINGS = (
    "#",
    "stages (countries)",
    "final plant",
    "product",
    "distance (km)",
    "freight (USD/t)",
    "transit (days)",
    "CO2e (kg/t)",
    "exposure (0–1, lower is better)",
    "export controls (0–1)",
    "score (lower is better)",
    "Pareto",
    "why",
)


def _options_table(
    part: pd.DataFrame, buyer: str, map_href: str, chart_href: str, n_all: int
) -> str:
    rows = []
    for r in part.to_dict("records"):
        product = PRODUCTS[r["product"]].name if r["product"] in PRODUCTS else r["product"]
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    r["rank"],
                    " → ".join(country_label(c) for c in r["chain_countries"]),
                    r["plant"],
                    product,
                    f"{r['distance_km']:,.0f}",
                    f"{r['cost_usd_per_t']:,.1f}",
                    f"{r['days']:,.1f}",
                    f"{r['co2e_kg_per_t']:,.0f}",
                    f"{r['exposure']:.3f}",
                    f"{r['export_controls']:.2f}",
                    f"{r['score']:.3f}",
                    "yes" if r["pareto"] else "",
                    r["reasons"],
                )
            )
            + "</tr>"
        )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in OPTION_HEADINGS)
    return (
        f"<h4>→ {html.escape(country_label(buyer))} <small>(best {len(part)} of {n_all} options; "
        f'<a href="{_href(map_href)}">map</a>)</small></h4><table><tr>{head}</tr>'
        + "".join(rows)
        + f'</table><img src="{_href(chart_href)}" alt="Pareto chart" width="480">'
    )


def _page(cfg: ReportConfig, summary: str, world: str, sections: list[str]) -> str:
    weights = Weights.from_dict(cfg.weights)
    buyers = ", ".join(map(country_label, cfg.buyers))
    body = (
        f"<h1>{html.escape(cfg.title)}</h1>"
        + summary
        + f"<h2>About this report</h2><p>Buyers: {html.escape(buyers)}. "
        f"Minerals: {html.escape(', '.join(MINERALS[m].name for m in cfg.minerals))}. "
        f"Dates: {html.escape(', '.join(cfg.as_of))}. "
        f"Weights: {html.escape(weights.describe())}. Lower scores are better; "
        'the <a href="methods.html">methods</a> give every formula and '
        'the <a href="citations.html">citations</a> every source. '
        'Tables: <a href="tables/options.csv">CSV</a>, '
        '<a href="tables/options.gpkg">GeoPackage</a>; '
        '<a href="manifest.json">manifest</a> (checksums, config, scenarios).</p>'
        + world
        + "\n".join(sections)
        + "<hr><p><small>Sources: bundled geosource layers (USGS MCS 2025 and 2026, IEA, "
        "World Bank WGI, MOFCOM announcements, EIA, UNCTAD, Natural Earth, searoute/MARNET); "
        'every row used is cited in <a href="citations.html">citations</a>; methods in '
        f'<a href="methods.html">methods</a>. geosource {html.escape(_package_version())}.'
        "</small></p>"
    )
    return page(cfg.title, body, back=False)


def _verdict_for_people(key: str, verdict: str) -> str:
    """A verdict line with the buyer's name instead of its code ("rare_earths → IND: ..." reads
    "Rare earths → India: ...")."""

    _head, sep, rest = verdict.partition(": ")
    mineral, arrow, buyer = key.partition(" → ")
    if not sep or not arrow:
        return verdict
    try:
        who = country_name(buyer)
    except (KeyError, ValueError):
        who = buyer
    name = MINERALS[mineral].name if mineral in MINERALS else mineral
    return f"{name} → {who}: {rest}"

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
from ._slug import slug
from .layers import Layers, bundled_layers_dir
from .minerals import MINERALS, normalize_mineral
from .scoring import Weights

__all__ = ["ReportConfig", "build_report"]


@dataclass(frozen=True)
class ReportConfig:
    """What a report covers. Unknown keys are errors that list the valid ones.

    Attributes
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
    """

    title: str = "geosource sourcing report"
    buyers: tuple[str, ...] = ("IND",)
    minerals: tuple[str, ...] = ("lithium",)
    as_of: tuple[str, ...] = ("2025-06-30",)
    scenarios: tuple[str, ...] = ()
    k: int = 5
    weights: Mapping[str, float] = field(default_factory=dict)
    include_development: bool | tuple[str, ...] = False

    def __post_init__(self) -> None:
        # one schema for files, mappings and direct construction: every problem at once
        validate_config({f.name: getattr(self, f.name) for f in fields(self)}, "report")
        for name in ("buyers", "minerals", "as_of", "scenarios"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(str(v) for v in value))
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
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{p}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


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
) -> Path:
    """Write a report folder: ``index.html``, ``maps/``, ``tables/``, ``charts/``, and
    ``manifest.json`` (package version, config, layer citations and checksums).

    The config and ``out`` are checked before any work starts: ``out`` must be new, empty or a
    folder an earlier report wrote (every file listed in its manifest). The report is built in
    a folder beside ``out``, its manifest written last, and swapped in whole: an interrupted
    run leaves the previous report or the new one, never a mix.

    Returns
    -------
    The path of ``index.html``.
    """
    from .layers import load_layers
    from .network import graph_from_layers

    if isinstance(config, str | Path):
        cfg = ReportConfig.read(config)
    elif isinstance(config, ReportConfig):
        cfg = config
    else:
        cfg = ReportConfig.from_dict(config)
    check_output_folder(out, "report")
    scenarios = [_scenario(s) for s in cfg.scenarios]
    _check_scenario_names(cfg.scenarios, [sc.name for sc in scenarios])
    lay = layers if layers is not None else load_layers()
    G = G if G is not None else graph_from_layers(lay)
    for sc in scenarios:
        sc.check(lay)
    # built beside `out` and swapped in whole, manifest last: an interrupted run leaves the
    # previous report or the new one, never a mix
    with atomic_folder(out) as stage:
        _write_report(cfg, stage, G, lay, scenarios, progress or (lambda _msg: None))
    return Path(out) / "index.html"


def _scenario(entry: str) -> Any:
    """A built-in scenario, or a scenario file checked against its schema."""
    from .scenarios import Scenario, get_scenario

    if Path(entry).suffix.lower() not in (".toml", ".yaml", ".yml", ".json"):
        return get_scenario(entry)
    data = read_config(entry, "scenario")
    try:
        return Scenario.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{entry}: {exc}") from None


def _write_report(
    cfg: ReportConfig,
    root: Path,
    G: Any,
    lay: Layers,
    scenarios: list[Any],
    say: Callable[[str], None],
) -> None:
    from .exposure import supply_concentration
    from .maps import map_compare, map_paths, pareto_chart
    from .scenarios import apply_scenario, compare
    from .sourcing import sourcing_paths

    w = Weights.from_dict(cfg.weights)
    for sub in ("maps", "tables", "charts"):
        (root / sub).mkdir(parents=True, exist_ok=True)

    sections: list[str] = []
    written: list[Path] = []
    all_tables: list[pd.DataFrame] = []
    for day in cfg.as_of:
        say(f"options on {day}")
        full = sourcing_paths(
            G,
            list(cfg.minerals),
            list(cfg.buyers),
            k=None,
            as_of=day,
            weights=w,
            include_development=cfg.include_development,
            layers=lay,
        )
        top = full[full["rank"] <= cfg.k]
        all_tables.append(top)
        day_html = [f"<h2>Options on {html.escape(day)}</h2>"]
        for mineral in cfg.minerals:
            conc = supply_concentration(lay, mineral, "mining")
            conc_r = supply_concentration(lay, mineral, "refining")
            day_html.append(
                f'<h3>{html.escape(MINERALS[mineral].name)}</h3><p class="conc">'
                + _conc_line("mining", conc)
                + "<br>"
                + _conc_line("refining", conc_r)
                + "</p>"
            )
            for buyer in cfg.buyers:
                part_all = full[(full["mineral"] == mineral) & (full["query"] == buyer)]
                part = part_all[part_all["rank"] <= cfg.k]
                if part.empty:
                    day_html.append(f"<p>{html.escape(buyer)}: no feasible option.</p>")
                    continue
                stem = _stem(mineral, buyer, day)
                map_file = root / "maps" / f"{stem}.html"
                map_paths(part, lay).save(str(map_file))
                chart = root / "charts" / f"{stem}_pareto.png"
                pareto_chart(
                    part_all,
                    chart,
                    title=f"{MINERALS[mineral].name} → {buyer}, "
                    f"{day}: distance vs exposure ({len(part_all)} options)",
                )
                written += [map_file, chart]
                day_html.append(
                    _options_table(
                        part, buyer, f"maps/{map_file.name}", f"charts/{chart.name}", len(part_all)
                    )
                )
            for sc in scenarios:
                say(f"{sc.name} on {day}")
                after = apply_scenario(G, lay, sc).sourcing_paths(
                    [mineral],
                    list(cfg.buyers),
                    k=None,
                    as_of=day,
                    include_development=cfg.include_development,
                )
                base = full[full["mineral"] == mineral]
                diff = compare(base, after, name=sc.name)
                # own prefix: a scenario named like a buyer never overwrites the buyer's map
                stem = _stem("scenario", mineral, day, sc.name)
                cmp_file = root / "maps" / f"{stem}.html"
                map_compare(
                    base[base["rank"] <= cfg.k], after[after["rank"] <= cfg.k], name=sc.name
                ).save(str(cmp_file))
                diff_file = root / "tables" / f"{stem}_diff.csv"
                diff.to_csv(diff_file, index=False, lineterminator="\n", float_format="%.6f")
                written += [cmp_file, diff_file]
                lines = "".join(
                    f"<li>{html.escape(v)}</li>" for v in diff.attrs["verdicts"].values()
                )
                map_href = _href(f"maps/{cmp_file.name}")
                table_href = _href(f"tables/{diff_file.name}")
                day_html.append(
                    f"<p><b>Scenario {html.escape(sc.name)}</b> — "
                    f'{html.escape(sc.description)} (<a href="{map_href}">map</a>, '
                    f'<a href="{table_href}">table</a>)</p><ul>{lines}</ul>'
                )
        sections.append("\n".join(day_html))

    table = pd.concat(all_tables, ignore_index=True)
    csv = root / "tables" / "options.csv"
    table.drop(columns="geometry").to_csv(
        csv, index=False, lineterminator="\n", float_format="%.6f"
    )
    from .layers import write_layer

    gpkg = write_layer(
        gpd.GeoDataFrame(table, geometry="geometry", crs="EPSG:4326"),
        root / "tables" / "options.gpkg",
    )
    written += [csv, gpkg]
    index = root / "index.html"
    index.write_text(_page(cfg, sections), encoding="utf-8")
    manifest = {
        "geosource_version": _package_version(),
        "config": cfg.to_dict(),
        "layers": _layer_manifest(lay),
        "files": {str(p.relative_to(root)): _sha256(p) for p in sorted([*written, index])},
        "sources": "see layers/README.md; every row of every layer carries its citation",
    }
    (root / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _package_version() -> str:
    from . import __version__

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
        f"{stage}: {html.escape(str(c['top_country']))} {c['top_share']:.0%} of world "
        f"output; HHI {c['hhi']:.2f}; WGI-weighted HHI {c['hhi_wgi']:.2f} "
        f"({html.escape(str(c['basis']))})"
    )


def _options_table(
    part: pd.DataFrame, buyer: str, map_href: str, chart_href: str, n_all: int
) -> str:
    rows = []
    for r in part.to_dict("records"):
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    r["rank"],
                    r["mine_country"],
                    r["plant_country"],
                    r["plant"],
                    f"{r['distance_km']:,.0f}",
                    f"{r['cost_usd_per_t']:,.1f}",
                    f"{r['days']:,.1f}",
                    f"{r['exposure']:.3f}",
                    f"{r['export_controls']:.2f}",
                    f"{r['score']:.3f}",
                    "yes" if r["pareto"] else "",
                    r["reasons"],
                )
            )
            + "</tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "#",
            "source",
            "processing",
            "plant",
            "km",
            "USD/t",
            "days",
            "exposure",
            "controls",
            "score",
            "Pareto",
            "why",
        )
    )
    return (
        f"<h4>→ {html.escape(buyer)} <small>(best {len(part)} of {n_all} options; "
        f'<a href="{_href(map_href)}">map</a>)</small></h4><table><tr>{head}</tr>'
        + "".join(rows)
        + f'</table><img src="{_href(chart_href)}" alt="Pareto chart" width="480">'
    )


def _page(cfg: ReportConfig, sections: list[str]) -> str:
    style = (
        "body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:1200px}"
        "table{border-collapse:collapse;margin:6px 0}td,th{border-bottom:1px solid #ddd;"
        "padding:2px 8px;text-align:left;vertical-align:top;font-size:12.5px}"
        ".conc{color:#444}small{color:#555}"
    )
    weights = Weights.from_dict(cfg.weights)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(cfg.title)}</title><style>{style}</style></head><body>"
        f"<h1>{html.escape(cfg.title)}</h1>"
        f"<p>Buyers: {html.escape(', '.join(cfg.buyers))}. Minerals: "
        f"{html.escape(', '.join(cfg.minerals))}. Dates: {html.escape(', '.join(cfg.as_of))}. "
        f"Weights: {html.escape(weights.describe())}. Lower scores are better; "
        "see docs/scoring.md for every formula. "
        'Tables: <a href="tables/options.csv">CSV</a>, '
        '<a href="tables/options.gpkg">GeoPackage</a>; '
        '<a href="manifest.json">manifest</a>.</p>'
        + "\n".join(sections)
        + "<hr><p><small>Sources: bundled geosource layers (USGS MCS 2025, World Bank WGI, "
        "MOFCOM announcements, EIA, UNCTAD, Natural Earth, searoute/MARNET); every row is "
        f"cited in layers/README.md. geosource {html.escape(_package_version())}.</small></p>"
        "</body></html>\n"
    )

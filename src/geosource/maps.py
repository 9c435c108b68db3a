"""Folium maps of layers and results that stakeholders can open, trust and share.

Every string that comes from data is escaped before it reaches HTML or JavaScript; popups and
tooltips are bound with JSON-encoded strings (``<``, ``>`` and ``&`` escaped as unicode), never
spliced into JavaScript source. Element ids are deterministic, so the same inputs write the same
bytes. A map draws what it is given (a layers object or a results GeoDataFrame) and computes no
scores.
"""

from __future__ import annotations

import html
import itertools
import math
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._files import atomic_path
from ._slug import slug
from .exposure import COMPONENTS, country_shares
from .layers import Layers
from .minerals import MINERALS, normalize_mineral

__all__ = [
    "LEAFLET_CSS",
    "LEAFLET_JS",
    "map_compare",
    "map_layers",
    "map_paths",
    "pareto_chart",
    "save_map_png",
]

#: Leaflet is the only script a geosource map loads (no jQuery, Bootstrap or icon fonts).
LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"
LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css"

TILES = "OpenStreetMap"

#: What each bundled layer cites, for the attribution note of every map.
SOURCES = (
    "Facilities: operators' reports, filings and government releases, cited per facility "
    "(layers/README.md)",
    "Production: USGS Mineral Commodity Summaries 2025 data release; IEA Global Critical "
    "Minerals Outlook refining shares",
    "Governance: World Bank Worldwide Governance Indicators (2024 update)",
    "Export controls: MOFCOM/GAC announcements and national notices, cited per measure",
    "Chokepoints: EIA World Oil Transit Chokepoints; UNCTAD Review of Maritime Transport 2024",
    "Sea lanes and ports: searoute (Eurostat MARNET, UN/LOCODE)",
    "Boundaries: Natural Earth 1:50m (public domain)",
)

STAGE_COLOURS = {
    "mining": "#8c510a",
    "refining": "#2166ac",
    "manufacturing": "#762a83",
    "recycling": "#1b7837",
}
MINERAL_COLOURS = {
    "lithium": "#1f78b4",
    "rare_earths": "#e31a1c",
    "graphite": "#333333",
    "gallium": "#ff7f00",
    "germanium": "#6a3d9a",
}

_ID_LOCK = threading.Lock()


def _safe(value: Any) -> str:
    """Escape a value for HTML that may also pass through a JavaScript string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


@contextmanager
def _deterministic_ids(prefix: str) -> Iterator[None]:
    """Number folium/branca element ids in creation order instead of random hex."""
    from branca.element import Element

    counter = itertools.count()
    original = Element.__dict__["_generate_id"]
    with _ID_LOCK:
        Element._generate_id = classmethod(  # type: ignore[method-assign, assignment]
            lambda cls: f"{prefix}{next(counter):05d}"
        )
        try:
            yield
        finally:
            Element._generate_id = original  # type: ignore[method-assign]


def _round(value: float) -> float:
    return round(float(value), 5)  # ~1 m


def _point(
    group: Any, rec: Mapping[str, Any], popup: str | None, tooltip: str | None, **style: Any
) -> None:
    """A circle marker at a record's lon/lat, with its popup and tooltip, added to ``group``."""
    import folium

    marker = folium.CircleMarker([_round(rec["lat"]), _round(rec["lon"])], **style)
    _Bind.to(marker, popup, tooltip)
    marker.add_to(group)


def _latlon(line: Any, tolerance: float = 0.0) -> list[list[list[float]]]:
    """Leaflet locations ([lat, lon]) of every part of a (Multi)LineString, simplified."""
    if tolerance:
        line = shapely.simplify(line, tolerance, preserve_topology=False)
    parts = line.geoms if hasattr(line, "geoms") else [line]
    out = []
    for part in parts:
        coords = [[_round(y), _round(x)] for x, y in part.coords]
        if len(coords) >= 2:
            out.append(coords)
    return out


def _new_map(title: str, subtitle: str, notes: Iterable[str]) -> Any:
    import folium

    m: Any = folium.Map(
        location=[15, 60],
        zoom_start=2,
        tiles=TILES,
        control_scale=True,
        prefer_canvas=False,
        world_copy_jump=False,
    )
    # only Leaflet: no jQuery, Bootstrap or icon fonts for a viewer to fetch
    m.default_js = [("leaflet", LEAFLET_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]
    root: Any = m.get_root()
    root.header.add_child(
        folium.Element(
            "<style>.gs-panel{position:fixed;z-index:1000;background:rgba(255,255,255,.93);"
            "padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);"
            "font:12px/1.35 system-ui,sans-serif;max-width:420px}"
            ".gs-title{top:10px;left:60px}.gs-title b{font-size:15px}"
            ".gs-notes{bottom:48px;left:10px;max-width:520px;font-size:10.5px;color:#333}"
            ".gs-legend{bottom:24px;right:10px}.gs-popup table{border-collapse:collapse}"
            ".gs-popup td,.gs-popup th{padding:1px 6px;border-bottom:1px solid #eee;"
            "text-align:left;vertical-align:top}.gs-bar{height:10px;width:160px}</style>"
        )
    )
    root.html.add_child(
        folium.Element(
            f'<div class="gs-panel gs-title" id="gs-title"><b>{_safe(title)}</b><br>'
            f"{_safe(subtitle)}</div>"
        )
    )
    note = "<br>".join(_safe(n) for n in notes)
    root.html.add_child(
        folium.Element(f'<div class="gs-panel gs-notes" id="gs-notes"><b>Sources.</b> {note}</div>')
    )
    return m


class _Bind:
    """Popup and tooltip bound to the element's layer with JSON-encoded strings."""

    @staticmethod
    def to(layer: Any, popup_html: str | None, tooltip: str | None) -> None:
        from branca.element import MacroElement
        from jinja2 import Template

        element: Any = MacroElement()
        element._name = "Bind"
        element._template = Template(
            "{% macro script(this, kwargs) %}"
            "{% if this.popup %}{{ this._parent.get_name() }}.bindPopup("
            "{{ this.popup|tojson }}, {maxWidth: 460});{% endif %}"
            "{% if this.tooltip %}{{ this._parent.get_name() }}.bindTooltip("
            "{{ this.tooltip|tojson }}, {sticky: true});{% endif %}"
            "{% endmacro %}"
        )
        element.popup = popup_html
        element.tooltip = tooltip
        layer.add_child(element)


def _table(rows: Iterable[tuple[str, Any]]) -> str:
    return (
        "<table>"
        + "".join(f"<tr><th>{_safe(k)}</th><td>{_safe(v)}</td></tr>" for k, v in rows)
        + "</table>"
    )


def _legend_gradient(title: str, colormap: Any, lo: str, hi: str, html_id: str) -> str:
    stops = ", ".join(
        colormap.rgb_hex_str(colormap.vmin + (colormap.vmax - colormap.vmin) * t)
        for t in np.linspace(0, 1, 7)
    )
    return (
        f'<div id="{_safe(html_id)}"><b>{_safe(title)}</b><div class="gs-bar" '
        f'style="background:linear-gradient(to right,{stops})"></div>'
        f'<span>{_safe(lo)}</span><span style="float:right">{_safe(hi)}</span></div>'
    )


# ---------------------------------------------------------------------------------------------
# layers


def map_layers(layers: Layers, mineral: str | None = None) -> Any:
    """A map of the layers: facilities by mineral and stage (sized by capacity), the ports they
    use, chokepoints with their risk note, demand centres, and (for one mineral) a choropleth of
    each country's share of world mine production. Each group can be switched on and off.

    Examples
    --------
    >>> import geosource as gs
    >>> m = gs.map_layers(gs.load_layers(), mineral="rare_earths")
    >>> html = m.get_root().render()
    >>> "Rare earths" in html and "Sources." in html
    True
    """
    import folium

    mid = normalize_mineral(mineral) if mineral else None
    title = f"{MINERALS[mid].name if mid else 'Critical minerals'}: facilities and trade layers"
    with _deterministic_ids("L"):
        m = _new_map(title, "geosource bundled layers", SOURCES)
        if mid:
            _choropleth(m, layers, mid)
        _facility_groups(m, layers, mid)
        _ports_group(m, layers, mid)
        _chokepoint_group(m, layers)
        _demand_group(m, layers)
        folium.LayerControl(collapsed=False).add_to(m)
    return m


def _choropleth(m: Any, layers: Layers, mid: str) -> None:
    import branca.colormap as cm
    import folium

    shares, basis = country_shares(layers, mid, "mining")
    if shares.empty:
        shares, basis = country_shares(layers, mid, "refining")
    if shares.empty:
        return
    bounds = layers.boundaries.copy()
    bounds["geometry"] = shapely.set_precision(
        shapely.simplify(bounds.geometry.values, 0.05, preserve_topology=True), 1e-3
    )
    bounds = bounds[bounds["iso3"].isin(shares.index)]
    colormap = cm.LinearColormap(
        ["#fff5eb", "#fd8d3c", "#7f2704"], vmin=0.0, vmax=float(max(shares.max(), 0.01))
    )
    group = folium.FeatureGroup(name=_safe(f"World production share ({basis})"), show=True)
    for rec in bounds.sort_values("iso3").to_dict("records"):
        share = float(shares.get(rec["iso3"], 0.0))
        colour = colormap(share)
        gj = folium.GeoJson(
            shapely.geometry.mapping(rec["geometry"]),
            style_function=lambda _f, c=colour: {
                "fillColor": c,
                "color": "#999",
                "weight": 0.4,
                "fillOpacity": 0.65,
            },
        )
        _Bind.to(gj, None, f"{_safe(rec['name'])}: {share:.1%} of world output")
        gj.add_to(group)
    group.add_to(m)
    m.get_root().html.add_child(
        folium.Element(
            '<div class="gs-panel gs-legend" style="bottom:90px">'
            + _legend_gradient(
                f"Share of world output ({basis})",
                colormap,
                "0%",
                f"{colormap.vmax:.0%}",
                "gs-legend-share",
            )
            + "</div>"
        )
    )


def _facility_groups(m: Any, layers: Layers, mid: str | None) -> None:
    import folium

    fac = layers.facilities
    if mid:
        fac = fac[fac["mineral"] == mid]
    for (mineral, stage), part in fac.groupby(["mineral", "stage"], sort=True):
        group = folium.FeatureGroup(
            name=_safe(f"{MINERALS[str(mineral)].name}: {stage} ({len(part)})"), show=True
        )
        for rec in part.sort_values("id").to_dict("records"):
            cap = rec.get("capacity")
            radius = 4.0
            if isinstance(cap, float) and not math.isnan(cap) and cap > 0:
                radius = float(np.clip(3 + 1.6 * math.log10(cap), 4, 12))
            capacity = (
                ""
                if radius == 4.0 and not (isinstance(cap, float) and cap > 0)
                else (
                    f"{cap:,.0f} {rec.get('capacity_unit') or ''} ({rec.get('capacity_year') or ''}"
                    f"{', estimate' if rec.get('capacity_estimate') is True else ''})"
                )
            )
            popup = (
                f'<div class="gs-popup"><b>{_safe(rec["name"])}</b>'
                + _table(
                    [
                        ("mineral", MINERALS[str(mineral)].name),
                        ("stage", stage),
                        ("kind", rec["kind"]),
                        ("status", rec["status"]),
                        ("country", rec["country"]),
                        ("operator", rec.get("operator")),
                        ("capacity", capacity),
                        ("export port", rec.get("export_port")),
                        (
                            "coordinates",
                            f"{rec['lat']:.4f}, {rec['lon']:.4f} ({rec['coord_precision']})",
                        ),
                        ("source", rec["source"]),
                        ("as of", rec["as_of"]),
                    ]
                )
                + "</div>"
            )
            _point(
                group,
                rec,
                popup,
                f"{_safe(rec['name'])} ({_safe(rec['country'])})",
                radius=radius,
                color=STAGE_COLOURS.get(str(stage), "#555"),
                weight=1.5,
                fill_color=MINERAL_COLOURS.get(str(mineral), "#555"),
                fill_opacity=0.85,
                class_name=f"gs-marker gs-facility gs-{slug(str(stage))}",
            )
        group.add_to(m)


def _ports_group(m: Any, layers: Layers, mid: str | None) -> None:
    import folium

    from .layers import load_ports

    fac = layers.facilities if not mid else layers.facilities[layers.facilities["mineral"] == mid]
    used = set(fac["export_port"].dropna())
    for ports in layers.demand_centres["import_ports"].dropna():
        used |= set(str(ports).split(";"))
    ports = load_ports()
    ports = ports[ports["port"].isin(used)].sort_values("port")
    group = folium.FeatureGroup(name=f"Ports used ({len(ports)})", show=True)
    for rec in ports.to_dict("records"):
        _point(
            group,
            rec,
            f'<div class="gs-popup"><b>{_safe(rec["name"])}</b> '
            f"({_safe(rec['port'])}, {_safe(rec['country'])})</div>",
            f"{_safe(rec['name'])} ({_safe(rec['port'])})",
            radius=3,
            color="#045a8d",
            weight=1,
            fill_color="#ffffff",
            fill_opacity=1,
            class_name="gs-marker gs-port",
        )
    group.add_to(m)


def _chokepoint_group(m: Any, layers: Layers) -> None:
    import folium

    group = folium.FeatureGroup(name=f"Chokepoints ({len(layers.chokepoints)})", show=True)
    for rec in layers.chokepoints.sort_values("id").to_dict("records"):
        geo = folium.GeoJson(
            shapely.geometry.mapping(shapely.set_precision(rec["geometry"], 1e-4)),
            style_function=lambda _f, r=float(rec["risk"]): {
                "color": "#b2182b",
                "weight": 1.5,
                "fillColor": "#ef8a62",
                "fillOpacity": 0.2 + 0.5 * r,
            },
        )
        popup = (
            f'<div class="gs-popup"><b>{_safe(rec["name"])}</b>'
            + _table(
                [
                    ("risk weight", f"{rec['risk']:.2f}"),
                    ("why it matters", rec["risk_rationale"]),
                    ("source", rec["source"]),
                    ("as of", rec["as_of"]),
                ]
            )
            + "</div>"
        )
        _Bind.to(geo, popup, f"{_safe(rec['name'])}: risk {rec['risk']:.2f}")
        geo.add_to(group)
        _point(
            group,
            rec,
            popup,
            f"{_safe(rec['name'])}: risk {rec['risk']:.2f}",
            radius=5,
            color="#b2182b",
            fill_color="#b2182b",
            fill_opacity=0.9,
            class_name="gs-marker gs-chokepoint",
        )
    group.add_to(m)


def _demand_group(m: Any, layers: Layers) -> None:
    import folium

    group = folium.FeatureGroup(name=f"Demand centres ({len(layers.demand_centres)})", show=True)
    for rec in layers.demand_centres.sort_values("id").to_dict("records"):
        popup = (
            f'<div class="gs-popup"><b>{_safe(rec["name"])}</b>'
            + _table(
                [
                    ("country", rec["country"]),
                    ("import ports", rec["import_ports"]),
                    ("minerals", rec.get("minerals")),
                    ("source", rec["source"]),
                    ("as of", rec["as_of"]),
                ]
            )
            + "</div>"
        )
        _point(
            group,
            rec,
            popup,
            f"{_safe(rec['name'])} ({_safe(rec['country'])})",
            radius=7,
            color="#000",
            weight=2,
            fill_color="#ffd92f",
            fill_opacity=0.95,
            class_name="gs-marker gs-demand",
        )
    group.add_to(m)


# ---------------------------------------------------------------------------------------------
# results


def _score_colormap(paths: pd.DataFrame) -> Any:
    import branca.colormap as cm

    lo = float(paths["score"].min()) if len(paths) else 0.0
    hi = float(paths["score"].max()) if len(paths) else 1.0
    if hi - lo < 1e-9:
        hi = lo + 1e-3
    return cm.LinearColormap(["#1a9850", "#fee08b", "#d73027"], vmin=lo, vmax=hi)


def _transport_rows(rec: Mapping[str, Any]) -> str:
    """Landed freight cost, days and CO2e per tonne of final product, where priced."""
    cost = rec.get("cost_usd_per_t")
    if cost is None or not np.isfinite(float(cost)):
        return ""
    days, co2e = rec["days"], rec["co2e_kg_per_t"]
    return (
        f"<tr><th>freight</th><td>{float(cost):,.1f} USD/t</td><td>"
        f"{float(days):,.1f} days · {float(co2e):,.0f} kg CO2e/t (transport only)</td></tr>"
    )


def _path_popup(rec: Mapping[str, Any], extra: Iterable[str] = ()) -> str:
    comps = "".join(
        f"<tr><th>{_safe(c.replace('_', ' '))}</th><td>{float(rec[c]):.3f}</td>"
        f"<td>{_safe(rec[f'{c}_reason'])}</td></tr>"
        for c in (*COMPONENTS, *extra)
    )
    mine = rec.get("mine") or "(by-product / recycled at the plant)"
    legs = (
        f"{_safe(mine)} ({_safe(rec['mine_country'])}) → {_safe(rec['plant'])} "
        f"({_safe(rec['plant_country'])}) → {_safe(rec['demand'])}"
    )
    return (
        f'<div class="gs-popup" data-rank="{int(rec["rank"])}"><b>#{int(rec["rank"])} '
        f"{_safe(MINERALS[str(rec['mineral'])].name)} → {_safe(rec['query'])}</b>"
        f"{' · Pareto-efficient' if rec['pareto'] else ''}<br>{legs}"
        "<table>"
        f"<tr><th>score</th><td>{float(rec['score']):.3f}</td><td>lower is better</td></tr>"
        f"<tr><th>distance</th><td>{float(rec['distance_km']):,.0f} km</td><td>sea "
        f"{float(rec['sea_km']):,.0f} · land {float(rec['land_km']):,.0f} (estimate) · air "
        f"{float(rec['air_km']):,.0f}</td></tr>"
        f"{_transport_rows(rec)}"
        f"<tr><th>exposure</th><td>{float(rec['exposure']):.3f}</td><td></td></tr>{comps}"
        f"<tr><th>passages</th><td colspan=2>{_safe(rec['passages'] or 'none')}</td></tr>"
        f"<tr><th>export controls</th><td colspan=2>"
        f"{_safe(rec['export_controls_reason'])}</td></tr>"
        f"<tr><th>as of</th><td colspan=2>{_safe(rec['as_of'])}</td></tr>"
        "</table></div>"
    )


def map_paths(
    paths: gpd.GeoDataFrame, layers: Layers | None = None, *, title: str | None = None
) -> Any:
    """The ranked options as lines coloured by score, best emphasised, Pareto options marked.

    Clicking a line opens its table: rank, legs, km by mode, each exposure component with its
    reason, passages and export controls in force; hovering shows a one-line summary. Lines that
    cross ±180° are drawn as two pieces, never across the whole map. ``layers`` adds the
    facilities and demand centres the options use.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> paths = gs.sourcing_paths(G, "lithium", "IND", k=3, as_of="2025-06-30")
    >>> m = gs.map_paths(paths)
    >>> m.get_root().render().count("gs-path gs-rank-")
    3
    """
    import folium

    if paths.empty:
        raise ValueError("no options to draw: the frame is empty")
    minerals = sorted(set(paths["mineral"]))
    queries = sorted(set(paths["query"]))
    as_of = ", ".join(sorted(set(paths["as_of"])))
    weights = paths.attrs.get("weights")
    weight_text = (
        ", ".join(
            f"{k} {v:g}" if isinstance(v, float | int) else f"{k} {v}" for k, v in weights.items()
        )
        if weights
        else "default"
    )
    heading = title or (
        ", ".join(MINERALS[m].name for m in minerals)
        + " → "
        + ", ".join(queries)
        + ": ranked sourcing options"
    )
    notes = [
        *(f"Warning: {w}." for w in paths.attrs.get("warnings") or []),
        f"Weights: {weight_text}.",
        "Lines: sea lanes (searoute MARNET) and land legs "
        "(geodesic × 1.3, estimates); colour = score (lower is better); thick = best; "
        "dashed outline = Pareto-efficient.",
        *SOURCES,
    ]
    with _deterministic_ids("P"):
        m = _new_map(heading, f"as of {as_of} · {len(paths)} options", notes)
        colormap = _score_colormap(paths)
        extra = list(paths.attrs.get("extra_components", {}))
        ordered = paths.sort_values(["mineral", "query", "rank"], ascending=[True, True, False])
        for (mineral, query), part in ordered.groupby(["mineral", "query"], sort=True):
            group = folium.FeatureGroup(
                name=_safe(f"{MINERALS[str(mineral)].name} → {query} ({len(part)} options)"),
                show=True,
            )
            for rec in part.to_dict("records"):
                locations = _latlon(rec["geometry"], 0.005)
                best = int(rec["rank"]) == 1
                if rec["pareto"]:
                    folium.PolyLine(
                        locations,
                        color="#222",
                        weight=9 if best else 7,
                        opacity=0.55,
                        dash_array="4 6",
                        class_name="gs-pareto",
                    ).add_to(group)
                line = folium.PolyLine(
                    locations,
                    color=colormap(float(rec["score"])),
                    weight=6 if best else 3,
                    opacity=0.95 if best else 0.8,
                    class_name=f"gs-path gs-rank-{int(rec['rank'])}",
                )
                tip = (
                    f"#{int(rec['rank'])} {_safe(rec['mine_country'])} → "
                    f"{_safe(rec['plant_country'])} · {float(rec['distance_km']):,.0f} km · "
                    f"score {float(rec['score']):.3f}"
                )
                _Bind.to(line, _path_popup(rec, extra), tip)
                line.add_to(group)
            group.add_to(m)
        if layers is not None:
            _outlines(m, layers)
            _endpoints(m, paths, layers)
        m.get_root().html.add_child(
            folium.Element(
                '<div class="gs-panel gs-legend" id="gs-legend">'
                + _legend_gradient(
                    "Score (lower is better)",
                    colormap,
                    f"{colormap.vmin:.3f}",
                    f"{colormap.vmax:.3f}",
                    "gs-legend-score",
                )
                + "</div>"
            )
        )
        folium.LayerControl(collapsed=False).add_to(m)
        _fit(m, paths)
    return m


def _outlines(m: Any, layers: Layers) -> None:
    """Faint country outlines, so the map reads even where tiles do not load."""
    import folium

    bounds = layers.boundaries.copy()
    geoms = shapely.set_precision(
        shapely.simplify(bounds.geometry.values, 0.08, preserve_topology=True), 1e-2
    )
    merged = shapely.geometry.mapping(shapely.union_all(geoms[~shapely.is_empty(geoms)]))
    group = folium.FeatureGroup(name="Country outlines", show=True)
    folium.GeoJson(
        merged,
        style_function=lambda _f: {
            "color": "#9e9e9e",
            "weight": 0.6,
            "fillColor": "#f4f4f2",
            "fillOpacity": 0.5,
        },
        interactive=False,
    ).add_to(group)
    group.add_to(m)


def _endpoints(m: Any, paths: pd.DataFrame, layers: Layers) -> None:
    import folium

    ids = set(paths["plant_id"]) | {x for x in paths["mine_id"] if isinstance(x, str)}
    fac = layers.facilities[layers.facilities["id"].isin(ids)].sort_values("id")
    dem = layers.demand_centres[layers.demand_centres["id"].isin(set(paths["demand_id"]))]
    group = folium.FeatureGroup(name="Mines, plants and buyers on these paths", show=True)
    for rec in fac.to_dict("records"):
        _point(
            group,
            rec,
            f'<div class="gs-popup"><b>{_safe(rec["name"])}</b>'
            + _table(
                [
                    ("stage", rec["stage"]),
                    ("country", rec["country"]),
                    ("status", rec["status"]),
                    ("source", rec["source"]),
                ]
            )
            + "</div>",
            _safe(rec["name"]),
            radius=5,
            color=STAGE_COLOURS.get(rec["stage"], "#555"),
            weight=2,
            fill_color="#fff",
            fill_opacity=1,
            class_name="gs-marker gs-endpoint",
        )
    for rec in dem.sort_values("id").to_dict("records"):
        _point(
            group,
            rec,
            f'<div class="gs-popup"><b>{_safe(rec["name"])}</b></div>',
            _safe(rec["name"]),
            radius=7,
            color="#000",
            weight=2,
            fill_color="#ffd92f",
            fill_opacity=0.95,
            class_name="gs-marker gs-endpoint",
        )
    group.add_to(m)


def _fit(m: Any, paths: gpd.GeoDataFrame) -> None:
    minx, miny, maxx, maxy = paths.total_bounds
    if all(np.isfinite([minx, miny, maxx, maxy])):
        m.fit_bounds([[_round(miny), _round(minx)], [_round(maxy), _round(maxx)]])


def map_compare(
    baseline: gpd.GeoDataFrame, scenario: gpd.GeoDataFrame, *, name: str = "scenario"
) -> Any:
    """Baseline and scenario options on one map: baseline dashed grey, scenario solid; options
    lost under the scenario dashed red, new ones highlighted. The verdicts are in the title panel.
    """
    import folium

    from .scenarios import compare

    diff = compare(baseline, scenario, name=name)
    key = ["mineral", "query", "chain_countries"]
    status = {tuple(r[k] for k in key): r["status"] for r in diff.to_dict("records")}
    verdicts = list(diff.attrs["verdicts"].values())
    as_of = ", ".join(sorted(set(scenario["as_of"]) | set(baseline["as_of"])))
    notes = [*(v for v in verdicts), f"Scenario: {name}.", *SOURCES]
    with _deterministic_ids("C"):
        m = _new_map(f"Baseline vs {name}", f"as of {as_of}", notes)
        base_group = folium.FeatureGroup(name="Baseline options", show=True)
        for rec in baseline.sort_values([*key, "rank"]).to_dict("records"):
            lost = status.get(tuple(rec[k] for k in key)) == "lost"
            line = folium.PolyLine(
                _latlon(rec["geometry"], 0.005),
                color="#d73027" if lost else "#888888",
                weight=3 if lost else 2,
                opacity=0.9,
                dash_array="6 6",
                class_name="gs-base" + (" gs-lost" if lost else ""),
            )
            _Bind.to(
                line,
                _path_popup(rec),
                ("LOST: " if lost else "baseline: ") + _safe(" → ".join(rec["chain_countries"])),
            )
            line.add_to(base_group)
        base_group.add_to(m)
        scen_group = folium.FeatureGroup(name=_safe(f"Under {name}"), show=True)
        for rec in scenario.sort_values([*key, "rank"]).to_dict("records"):
            new = status.get(tuple(rec[k] for k in key)) == "new"
            line = folium.PolyLine(
                _latlon(rec["geometry"], 0.005),
                color="#7b3294" if new else "#1a9850",
                weight=5 if new else 3,
                opacity=0.9,
                class_name="gs-scenario" + (" gs-new" if new else ""),
            )
            _Bind.to(
                line,
                _path_popup(rec),
                ("NEW: " if new else f"{_safe(name)}: ")
                + _safe(" → ".join(rec["chain_countries"])),
            )
            line.add_to(scen_group)
        scen_group.add_to(m)
        folium.LayerControl(collapsed=False).add_to(m)
        _fit(m, pd.concat([baseline, scenario]).pipe(gpd.GeoDataFrame))
    return m


# ---------------------------------------------------------------------------------------------
# static images


def save_map_png(
    paths: gpd.GeoDataFrame,
    layers: Layers,
    path: str | Path,
    *,
    title: str | None = None,
    dpi: int = 110,
) -> Path:
    """A static PNG of the options over country outlines (matplotlib), for reports and slides."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colormap = _score_colormap(paths)
    fig, ax = plt.subplots(figsize=(11, 5.6))
    layers.boundaries.plot(ax=ax, color="#f2f2f2", edgecolor="#bbbbbb", linewidth=0.3)
    for rec in paths.sort_values("rank", ascending=False).to_dict("records"):
        for part in rec["geometry"].geoms:
            xs, ys = part.xy
            ax.plot(
                xs,
                ys,
                color=colormap(float(rec["score"])),
                linewidth=2.6 if int(rec["rank"]) == 1 else 1.2,
                alpha=0.9,
            )
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 80)
    ax.set_axis_off()
    ax.set_title(title or "Ranked sourcing options (colour: score, lower is better)", fontsize=11)
    return _save_png(fig, Path(path), dpi)


def pareto_chart(
    paths: pd.DataFrame, path: str | Path, *, title: str | None = None, dpi: int = 110
) -> Path:
    """The objective the options were ranked by (t·km per t by default) against exposure for
    every option, the Pareto front (computed on the same axes) joined and labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, label = _pareto_axis(paths)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    other = paths[~paths["pareto"]]
    front = paths[paths["pareto"]].sort_values(x)
    ax.scatter(other[x], other["exposure"], s=14, color="#999999", label="option")
    ax.plot(front[x], front["exposure"], "-o", color="#d73027", ms=5, label="Pareto front")
    for rec in front.to_dict("records"):
        ax.annotate(
            f"{rec['mine_country']}→{rec['plant_country']}",
            (rec[x], rec["exposure"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set_xlabel(label)
    ax.set_ylabel("exposure (0–1)")
    ax.set_title(title or f"{label.split(' (')[0].capitalize()} vs exposure", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save_png(fig, Path(path), dpi)


def _save_png(fig: Any, out: Path, dpi: int) -> Path:
    """Save and close a figure; the image is renamed into place once complete (the temporary
    file has the same name, so the format still follows the suffix)."""
    import matplotlib.pyplot as plt

    try:
        with atomic_path(out) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return out


def _pareto_axis(paths: pd.DataFrame) -> tuple[str, str]:
    """The column the Pareto front was computed on, and its axis label."""
    from .objectives import OBJECTIVE_COLUMNS, OBJECTIVE_UNITS, parse_objective

    spec = (paths.attrs.get("objective") or {}).get("objective", "distance")
    objectives = parse_objective(spec)
    if len(objectives) > 1:
        return "transport", f"transport term ({spec}; 0–1)"
    name = objectives[0][0]
    return OBJECTIVE_COLUMNS[name], f"{name} ({OBJECTIVE_UNITS[name]})"

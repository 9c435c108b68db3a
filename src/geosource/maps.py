"""Folium maps of layers and results that stakeholders can open, trust and share.

Every string that comes from data is escaped before it reaches HTML or JavaScript; popups and
tooltips are bound with JSON-encoded strings (``<``, ``>`` and ``&`` escaped as unicode), never
spliced into JavaScript source. Element ids are deterministic, so the same inputs write the same
bytes. A map draws what it is given (a layers object or a results GeoDataFrame) and computes no
scores.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import importlib.resources
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
from .countries import country_name
from .exposure import COMPONENTS, country_shares
from .layers import Layers, load_ports
from .minerals import MINERALS, PRODUCTS, normalize_mineral
from .objectives import OBJECTIVE_COLUMNS, OBJECTIVE_UNITS, parse_objective
from .world import WorldAllocation

__all__ = [
    "LEAFLET_CSS",
    "LEAFLET_JS",
    "map_candidates",
    "map_compare",
    "map_flows",
    "map_layers",
    "map_paths",
    "map_surface",
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
    "Production: USGS Mineral Commodity Summaries 2025 and 2026 data releases; IEA Global Critical "
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

#: Okabe & Ito's palette, distinguishable with every common colour-vision deficiency.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000")
#: Leg styles by mode: sea solid, land dashed, air dotted.
MODE_DASH = {"sea": "", "land": "8 6", "air": "2 6"}
_MODE_BORDER = {"sea": "solid", "land": "dashed", "air": "dotted"}
#: Sequential, colour-blind-safe, readable in grey: scores (lower is better) run light to dark.
SCORE_COLOURS = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")  # viridis, reversed

_ID_LOCK = threading.Lock()


def _country(code: Any) -> str:
    """A country's name for a reader; the text itself when it is not an ISO3 code."""
    text = "" if code is None or (isinstance(code, float) and math.isnan(code)) else str(code)
    try:
        return country_name(text)
    except ValueError:
        return text


def _product_name(product: Any) -> str:
    known = PRODUCTS.get(str(product))
    return known.name if known is not None else str(product).replace("_", " ")


@functools.lru_cache(maxsize=1)
def _leaflet_inline() -> tuple[str, str]:
    """Leaflet's script and stylesheet from the package's vendored copy (see
    ``_vendor/leaflet/VENDORED.md``), the stylesheet's images inlined as data URIs."""
    base = importlib.resources.files("geosource") / "_vendor" / "leaflet"
    js = (base / "leaflet.js").read_text(encoding="utf-8").split("\n//# sourceMappingURL=")[0]
    css = (base / "leaflet.css").read_text(encoding="utf-8")
    for name in ("layers.png", "layers-2x.png", "marker-icon.png"):
        data = base64.b64encode((base / "images" / name).read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{name})", f"url(data:image/png;base64,{data})")
    if "</script" in js.lower() or "</style" in css.lower():
        raise RuntimeError("the vendored Leaflet cannot be inlined: it closes its own tag")
    return js, css


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


def _joined(line: Any) -> list[list[tuple[float, float]]]:
    """The parts of a (Multi)LineString, with parts cut at ±180° joined again and longitudes
    made continuous (a line across the Pacific runs past 180° instead of jumping back)."""
    parts = list(line.geoms) if hasattr(line, "geoms") else [line]
    out: list[list[tuple[float, float]]] = []
    for part in parts:
        coords = [(float(x), float(y)) for x, y in part.coords]
        if not coords:
            continue
        if out:
            (x0, y0), (x1, y1) = out[-1][-1], coords[0]
            cut = abs(abs(x0) - 180) < 1e-7 and abs(abs(x1) - 180) < 1e-7 and abs(y0 - y1) < 1e-6
            if cut and x0 * x1 < 0:
                out[-1].extend(coords[1:] if len(coords) > 1 else coords)
                continue
        out.append(coords)
    joined: list[list[tuple[float, float]]] = []
    for coords in (_unwrap(c) for c in out):
        if joined:  # each part continues where the one before it ended
            turns = round((joined[-1][-1][0] - coords[0][0]) / 360.0)
            coords = [(x + 360.0 * turns, y) for x, y in coords]
        joined.append(coords)
    return joined


def _unwrap(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Longitudes shifted by whole turns so that no step is longer than half the world."""
    if not coords:
        return coords
    lon = np.unwrap(np.radians([x for x, _ in coords]))
    return [(float(x), y) for x, (_, y) in zip(np.degrees(lon), coords, strict=True)]


def _lon_cut(lines: Iterable[list[tuple[float, float]]], points: Iterable[float] = ()) -> float:
    """Where the map cuts the world: ±180° unless something crosses it, else the middle of the
    widest stretch of longitude that no line or point covers, so that every line is drawn
    whole and the short way round."""
    covered = np.zeros(360, dtype=bool)

    def mark(a: float, b: float) -> None:
        lo, hi = math.floor(min(a, b)), math.floor(max(a, b))
        covered[[(i + 180) % 360 for i in range(lo, min(hi, lo + 359) + 1)]] = True

    for coords in lines:
        for (a, _), (b, _) in itertools.pairwise(coords):
            mark(a, b)
        if len(coords) == 1:
            mark(coords[0][0], coords[0][0])
    for x in points:
        mark(x, x)
    if not covered[0] and not covered[-1]:
        return -180.0
    if covered.all():
        return -180.0
    free = np.concatenate([~covered, ~covered])
    best_len, best_start, run = 0, 0, 0
    for i, f in enumerate(free):
        run = run + 1 if f else 0
        if run > best_len:
            best_len, best_start = min(run, 360), i - run + 1
    centre = (best_start + best_len / 2) % 360 - 180
    return float(centre)


def _place(lon: float, cut: float) -> float:
    """A longitude moved by whole turns into the map's window [cut, cut + 360)."""
    return cut + (float(lon) - cut) % 360.0


def _shifted(coords: list[tuple[float, float]], cut: float) -> list[tuple[float, float]]:
    """A continuous line moved by whole turns so that it starts inside the map's window."""
    if not coords:
        return coords
    d = _place(coords[0][0], cut) - coords[0][0]
    return [(x + d, y) for x, y in coords]


def _leaflet(coords: list[tuple[float, float]], tolerance: float = 0.0) -> list[list[float]]:
    if tolerance and len(coords) > 2:
        simple = shapely.simplify(shapely.LineString(coords), tolerance, preserve_topology=False)
        coords = [(float(c[0]), float(c[1])) for c in simple.coords]
    return [[_round(y), _round(x)] for x, y in coords]


def _latlon(line: Any, tolerance: float = 0.0, cut: float = -180.0) -> list[list[list[float]]]:
    """Leaflet locations ([lat, lon]) of a (Multi)LineString: whole across ±180°, inside the
    map's window, simplified."""
    parts = _joined(line)
    if not parts:
        return []
    d = _place(parts[0][0][0], cut) - parts[0][0][0]
    out = []
    for part in parts:
        coords = _leaflet([(x + d, y) for x, y in part], tolerance)
        if len(coords) >= 2:
            out.append(coords)
    return out


def _new_map(title: str, subtitle: str, notes: Iterable[str], self_contained: bool = False) -> Any:
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
    if self_contained:
        # Leaflet inlined from the package: the map opens without a network (tiles aside)
        m.default_js, m.default_css = [], []
        js, css = _leaflet_inline()
        root.header.add_child(folium.Element(f"<style>{css}</style><script>{js}</script>"))
    root.header.add_child(
        folium.Element(
            "<style>.gs-panel{position:fixed;z-index:1000;background:rgba(255,255,255,.93);"
            "padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);"
            "font:12px/1.35 system-ui,sans-serif;max-width:420px}"
            ".gs-title{top:10px;left:60px}.gs-title b{font-size:15px}"
            ".gs-notes{bottom:48px;left:10px;max-width:520px;font-size:10.5px;color:#333}"
            ".gs-legend{bottom:24px;right:10px}.gs-popup table{border-collapse:collapse}"
            ".gs-side{top:96px;left:60px;max-height:38vh;overflow:auto;font-size:11px}"
            ".gs-key{display:inline-block;width:26px;margin-right:5px;vertical-align:middle}"
            ".gs-dot{display:inline-block;width:10px;height:10px;border-radius:50%;"
            "margin-right:5px;vertical-align:middle;border:2px solid #333}"
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


def map_layers(layers: Layers, mineral: str | None = None, *, self_contained: bool = False) -> Any:
    """A map of the layers: facilities, ports, chokepoints, demand centres, production shares.

    Facilities are drawn by mineral and stage (sized by capacity), with the ports they use,
    chokepoints with their risk note, demand centres, and (for one mineral) a choropleth of each
    country's share of world mine production. Each group can be switched on and off.

    Parameters
    ----------
    layers
        From :func:`geosource.load_layers` (or your own).
    mineral
        Draw one mineral's facilities and its production choropleth (default: every mineral,
        no choropleth).
    self_contained
        Inline Leaflet so that the file opens without a network (tiles aside).

    Returns
    -------
    folium.Map
        The map drawn on (``m`` when given); ``.save(path)`` writes it as HTML.

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
        m = _new_map(title, "geosource bundled layers", SOURCES, self_contained)
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
    return cm.LinearColormap(list(SCORE_COLOURS), vmin=lo, vmax=hi)


def _transport_rows(rec: Mapping[str, Any]) -> str:
    """Landed freight cost, days and CO2e per tonne of final product, where priced."""
    cost = rec.get("cost_usd_per_t")
    if cost is None or not np.isfinite(float(cost)):
        return ""
    days, co2e = rec["days"], rec["co2e_kg_per_t"]
    rows = (
        f"<tr><th>freight</th><td>{float(cost):,.1f} USD/t</td><td>"
        f"{float(days):,.1f} days · {float(co2e):,.0f} kg CO2e/t (transport only)</td></tr>"
    )
    cap, share = rec.get("capacity_t"), rec.get("demand_share")
    if cap is not None and np.isfinite(float(cap)):
        covers = (
            f"covers {float(share):.1%} of the buyer's demand"
            + (" (small)" if float(share) < 0.05 else "")
            if share is not None and np.isfinite(float(share))
            else "buyer's demand not in the demand layer"
        )
        rows += f"<tr><th>capacity</th><td>{float(cap):,.0f} t/yr</td><td>{_safe(covers)}</td></tr>"
    return rows


def _site_names(layers: Layers | None) -> dict[str, tuple[str, str, str]]:
    """Facility and demand-centre id → (name, country, stage) for labels."""
    if layers is None:
        return {}
    out = {
        str(r["id"]): (str(r["name"]), str(r["country"]), str(r["stage"]))
        for r in layers.facilities[["id", "name", "country", "stage"]].to_dict("records")
    }
    for r in layers.demand_centres[["id", "name", "country"]].to_dict("records"):
        out[str(r["id"])] = (str(r["name"]), str(r["country"]), "buyer")
    return out


def _stage_rows(rec: Mapping[str, Any], names: Mapping[str, tuple[str, str, str]]) -> str:
    """One row per stage of the chain: the site, then the leg that leaves it."""
    chain = list(rec.get("chain") or ())
    if not chain:
        return ""
    products = list(rec.get("products") or ())
    modes = list(rec.get("leg_modes") or ())
    costs = list(rec.get("leg_cost_usd_per_t") or ())
    days = list(rec.get("leg_days") or ())
    rows = []
    for i, fid in enumerate(chain):
        name, country, stage = names.get(fid, (fid, "", ""))
        if not country:
            country = rec["chain_countries"][i] if i < len(rec["chain_countries"]) else ""
        leg = _leg_text(products, modes, costs, days, i)
        rows.append(
            f"<tr><th>stage {i + 1}</th><td>{_safe(name)} ({_safe(_country(country))})"
            f"{' · ' + _safe(stage) if stage else ''}</td><td>{leg}</td></tr>"
        )
    return "".join(rows)


def _leg_text(
    products: list[Any], modes: list[Any], costs: list[Any], days: list[Any], i: int
) -> str:
    if i >= len(products):
        return ""
    km = modes[i] if i < len(modes) and isinstance(modes[i], Mapping) else {}
    by_mode = ", ".join(f"{_safe(k)} {float(v):,.0f} km" for k, v in sorted(km.items()) if v > 0.5)
    money = f" · {float(costs[i]):,.1f} USD/t" if i < len(costs) else ""
    time = f" · {float(days[i]):,.1f} days" if i < len(days) else ""
    return f"ships {_safe(_product_name(products[i]))}: {by_mode or 'same site'}{money}{time}"


def _path_popup(
    rec: Mapping[str, Any],
    extra: Iterable[str] = (),
    names: Mapping[str, tuple[str, str, str]] | None = None,
) -> str:
    comps = "".join(
        f"<tr><th>{_safe(c.replace('_', ' '))}</th><td>{float(rec[c]):.3f}</td>"
        f"<td>{_safe(rec[f'{c}_reason'])}</td></tr>"
        for c in (*COMPONENTS, *extra)
    )
    mine = rec.get("mine") or "(by-product / recycled at the plant)"
    legs = (
        f"{_safe(mine)} ({_safe(_country(rec['mine_country']))}) → {_safe(rec['plant'])} "
        f"({_safe(_country(rec['plant_country']))}) → {_safe(rec['demand'])}"
    )
    return (
        f'<div class="gs-popup" data-rank="{int(rec["rank"])}"><b>#{int(rec["rank"])} '
        f"{_safe(MINERALS[str(rec['mineral'])].name)} → {_safe(_country(rec['query']))}</b>"
        f"{' · Pareto-efficient' if rec['pareto'] else ''}<br>{legs}"
        "<table>"
        f"{_stage_rows(rec, names or {})}"
        f"<tr><th>score</th><td>{float(rec['score']):.3f}</td><td>lower is better</td></tr>"
        f"<tr><th>distance</th><td>{float(rec['distance_km']):,.0f} km</td><td>sea "
        f"{float(rec['sea_km']):,.0f} · land {float(rec['land_km']):,.0f} (estimate) · air "
        f"{float(rec['air_km']):,.0f}</td></tr>"
        f"{_transport_rows(rec)}"
        f"<tr><th>exposure</th><td>{float(rec['exposure']):.3f}</td><td>0–1, lower is better"
        f"</td></tr>{comps}"
        f"<tr><th>passages</th><td colspan=2>{_safe(rec['passages'] or 'none')}</td></tr>"
        f"<tr><th>export controls</th><td colspan=2>"
        f"{_safe(rec['export_controls_reason'])}</td></tr>"
        f"<tr><th>as of</th><td colspan=2>{_safe(rec['as_of'])}</td></tr>"
        "</table></div>"
    )


def _product_colours(paths: pd.DataFrame) -> dict[str, str]:
    """One Okabe-Ito colour per product moved on any leg, in product-graph order."""
    used = {str(p) for ps in paths.get("products", pd.Series(dtype=object)) for p in (ps or ())}
    order = [p for p in PRODUCTS if p in used] + sorted(used - set(PRODUCTS))
    return {p: OKABE_ITO[i % len(OKABE_ITO)] for i, p in enumerate(order)}


def _main_mode(modes: Any) -> str:
    if not isinstance(modes, Mapping) or not modes:
        return "land"
    return str(max(sorted(modes), key=lambda k: float(modes[k])))


def _option_cut(paths: pd.DataFrame, layers: Layers | None) -> float:
    lines = [c for g in paths.geometry for c in _joined(g)]
    return _lon_cut(lines)


def map_paths(
    paths: gpd.GeoDataFrame,
    layers: Layers | None = None,
    *,
    title: str | None = None,
    m: Any = None,
    self_contained: bool = False,
) -> Any:
    """The ranked options as lines coloured by score, the best emphasised, Pareto options marked.

    Every leg of every chain is styled by the product it moves (colour) and its main mode
    (solid sea, dashed land, dotted air); chains that a ban blocks are listed beside the map.
    Clicking a line opens its table: rank, stages, legs, km by mode, freight cost, days and
    CO2e, each exposure component with its reason, passages and export controls in force;
    hovering shows a one-line summary. Longitudes run on across ±180°, so a route over the
    Pacific is drawn whole and the short way round. ``layers`` adds a marker for every stage
    of the chains (by stage) and the buyers. ``m`` draws onto an existing map;
    ``self_contained`` inlines Leaflet so the file opens without a network (tiles aside).

    Parameters
    ----------
    paths
        From :func:`geosource.sourcing_paths`.
    layers
        Adds a marker for every stage of the chains and the buyers.
    title
        Heading of the map (default: minerals → buyers: ranked sourcing options).
    m
        A map to draw on (a new one by default).
    self_contained
        Inline Leaflet so that the file opens without a network.

    Returns
    -------
    folium.Map
        The map drawn on (``m`` when given); ``.save(path)`` writes it as HTML.

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
        + ", ".join(_country(q) for q in queries)
        + ": ranked sourcing options"
    )
    notes = [
        *(f"Warning: {w}." for w in paths.attrs.get("warnings") or []),
        f"Weights: {weight_text}.",
        "Lines: sea lanes (searoute MARNET) and land legs "
        "(geodesic × 1.3, estimates); casing colour = score (lower is better); thick = best; "
        "dashed outline = Pareto-efficient; inner line = product moved, solid sea, dashed "
        "land, dotted air.",
        *SOURCES,
    ]
    cut = _option_cut(paths, layers)
    names = _site_names(layers)
    products = _product_colours(paths)
    with _deterministic_ids("P"):
        if m is None:
            m = _new_map(heading, f"as of {as_of} · {len(paths)} options", notes, self_contained)
        colormap = _score_colormap(paths)
        extra = list(paths.attrs.get("extra_components", {}))
        ordered = paths.sort_values(["mineral", "query", "rank"], ascending=[True, True, False])
        for (mineral, query), part in ordered.groupby(["mineral", "query"], sort=True):
            group = folium.FeatureGroup(
                name=_safe(
                    f"{MINERALS[str(mineral)].name} → {_country(query)} ({len(part)} options)"
                ),
                show=True,
            )
            for rec in part.to_dict("records"):
                _draw_option(group, rec, colormap, cut, products, extra, names)
            group.add_to(m)
        if layers is not None:
            _outlines(m, layers)
            _endpoints(m, paths, layers, cut)
        root = m.get_root()
        root.html.add_child(
            folium.Element(
                '<div class="gs-panel gs-legend" id="gs-legend">'
                + _legend_gradient(
                    "Score (lower is better)",
                    colormap,
                    f"{colormap.vmin:.3f} better",
                    f"{colormap.vmax:.3f} worse",
                    "gs-legend-score",
                )
                + _leg_legend(products, layers is not None)
                + "</div>"
            )
        )
        blocked = _blocked_panel(paths.attrs.get("blocked") or [])
        if blocked:
            root.html.add_child(folium.Element(blocked))
        folium.LayerControl(collapsed=False).add_to(m)
        _fit(m, paths, cut)
    return m


def _draw_option(
    group: Any,
    rec: Mapping[str, Any],
    colormap: Any,
    cut: float,
    products: Mapping[str, str],
    extra: list[str],
    names: Mapping[str, tuple[str, str, str]],
) -> None:
    import folium

    locations = _latlon(rec["geometry"], 0.005, cut)
    rank = int(rec["rank"])
    best = rank == 1
    popup = _path_popup(rec, extra, names)
    if rec["pareto"]:
        folium.PolyLine(
            locations,
            color="#222",
            weight=11 if best else 9,
            opacity=0.55,
            dash_array="4 6",
            class_name="gs-pareto",
        ).add_to(group)
    line = folium.PolyLine(
        locations,
        color=colormap(float(rec["score"])),
        weight=8 if best else 5,
        opacity=0.95 if best else 0.85,
        class_name=f"gs-path gs-rank-{rank}",
    )
    tip = (
        f"#{rank} {_safe(_country(rec['mine_country']))} → "
        f"{_safe(_country(rec['plant_country']))} · {float(rec['distance_km']):,.0f} km · "
        f"score {float(rec['score']):.3f}"
    )
    _Bind.to(line, popup, tip)
    line.add_to(group)
    legs = _joined(rec["geometry"])
    if not legs:
        return
    d = _place(legs[0][0][0], cut) - legs[0][0][0]
    moved = list(rec.get("products") or ())
    modes = list(rec.get("leg_modes") or ())
    chain = [*list(rec.get("chain") or ()), rec.get("demand_id")]
    if len(legs) != len(moved):
        return  # a geometry that is not one part per leg: the option line alone
    for i, coords in enumerate(legs):
        mode = _main_mode(modes[i] if i < len(modes) else None)
        product = str(moved[i])
        start = names.get(str(chain[i]), (str(chain[i]), "", ""))[0]
        end = names.get(str(chain[i + 1]), (str(chain[i + 1]), "", ""))[0]
        pts = _leaflet([(x + d, y) for x, y in coords], 0.005)
        if len(pts) < 2:
            continue
        leg = folium.PolyLine(
            pts,
            color=products.get(product, "#555"),
            weight=3 if best else 2,
            opacity=1.0,
            dash_array=MODE_DASH.get(mode) or None,
            class_name=f"gs-leg gs-mode-{slug(mode)} gs-product-{slug(product)}",
        )
        cost = list(rec.get("leg_cost_usd_per_t") or ())
        days = list(rec.get("leg_days") or ())
        co2 = list(rec.get("leg_co2e_kg_per_t") or ())
        money = (
            f" · {float(cost[i]):,.1f} USD/t · {float(days[i]):,.1f} days · "
            f"{float(co2[i]):,.0f} kg CO2e/t"
            if i < min(len(cost), len(days), len(co2))
            else ""
        )
        _Bind.to(
            leg,
            popup,
            f"#{rank} leg {i + 1}/{len(legs)}: {_safe(_product_name(product))} by "
            f"{_safe(mode)}, {_safe(start)} → {_safe(end)}{money}",
        )
        leg.add_to(group)


def _leg_legend(products: Mapping[str, str], stages: bool) -> str:
    rows = [
        f'<div><span class="gs-key" style="border-top:4px solid {c}"></span>'
        f"{_safe(_product_name(p))}</div>"
        for p, c in products.items()
    ]
    rows += [
        f'<div><span class="gs-key" style="border-top:3px {_MODE_BORDER[k]} #333"></span>{k}</div>'
        for k in ("sea", "land", "air")
    ]
    if stages:
        rows += [
            f'<div><span class="gs-dot" style="border-color:{c};background:#fff"></span>'
            f"{_safe(stage)} site</div>"
            for stage, c in STAGE_COLOURS.items()
        ]
        rows.append(
            '<div><span class="gs-dot" style="border-color:#000;background:#ffd92f"></span>'
            "buyer</div>"
        )
    return '<div id="gs-legend-legs"><b>Legs: product moved, mode</b>' + "".join(rows) + "</div>"


def _blocked_panel(blocked: list[Mapping[str, Any]], limit: int = 25) -> str:
    """Chains that a measure in force blocks, with the measure, beside the map."""
    if not blocked:
        return ""
    items = []
    for b in blocked[:limit]:
        countries = " → ".join(_country(c) for c in b.get("chain_countries") or ())
        moved = " → ".join(_product_name(p) for p in b.get("products") or ())
        items.append(
            f'<li class="gs-blocked-item">{_safe(MINERALS[str(b["mineral"])].name)} → '
            f"{_safe(_country(b.get('query')))}: {_safe(countries)} ({_safe(moved)}); "
            f"blocked by <b>{_safe(b.get('blocked_by'))}</b></li>"
        )
    more = f"<li>and {len(blocked) - limit} more</li>" if len(blocked) > limit else ""
    return (
        f'<div class="gs-panel gs-side" id="gs-blocked"><b>Blocked options ({len(blocked)})'
        f"</b> — a ban in force makes these chains infeasible:<ul>{''.join(items)}{more}"
        "</ul></div>"
    )


_OUTLINES: dict[str, Any] = {}


def _merged_outlines(boundaries: gpd.GeoDataFrame) -> Any:
    """The simplified, united country outlines as GeoJSON, computed once per boundaries content
    (a report draws them on every map)."""
    key = hashlib.sha256(b"".join(shapely.to_wkb(boundaries.geometry.values))).hexdigest()
    if key not in _OUTLINES:
        geoms = shapely.set_precision(
            shapely.simplify(boundaries.geometry.values, 0.08, preserve_topology=True), 1e-2
        )
        _OUTLINES.clear()  # one set of boundaries at a time
        _OUTLINES[key] = shapely.geometry.mapping(
            shapely.union_all(geoms[~shapely.is_empty(geoms)])
        )
    return _OUTLINES[key]


def _outlines(m: Any, layers: Layers) -> None:
    """Faint country outlines, so the map reads even where tiles do not load."""
    import folium

    merged = _merged_outlines(layers.boundaries)
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


def _endpoints(m: Any, paths: pd.DataFrame, layers: Layers, cut: float = -180.0) -> None:
    """A marker for every site of every chain (outlined by stage) and every buyer."""
    import folium

    ids = {f for chain in paths["chain"] for f in (chain or ())} if "chain" in paths else set()
    ids |= set(paths["plant_id"]) | {x for x in paths["mine_id"] if isinstance(x, str)}
    fac = layers.facilities[layers.facilities["id"].isin(ids)].sort_values("id")
    dem = layers.demand_centres[layers.demand_centres["id"].isin(set(paths["demand_id"]))]
    group = folium.FeatureGroup(name="Sites of every stage, and buyers", show=True)
    for rec in fac.to_dict("records"):
        rec = {**rec, "lon": _place(rec["lon"], cut)}
        _point(
            group,
            rec,
            f'<div class="gs-popup"><b>{_safe(rec["name"])}</b>'
            + _table(
                [
                    ("stage", rec["stage"]),
                    ("country", _country(rec["country"])),
                    ("status", rec["status"]),
                    ("takes", str(rec.get("inputs") or "").replace(";", ", ")),
                    ("makes", str(rec.get("outputs") or "").replace(";", ", ")),
                    ("source", rec["source"]),
                ]
            )
            + "</div>",
            f"{_safe(rec['stage'])}: {_safe(rec['name'])} ({_safe(_country(rec['country']))})",
            radius=6,
            color=STAGE_COLOURS.get(str(rec["stage"]), "#555"),
            weight=3,
            fill_color="#fff",
            fill_opacity=1,
            class_name=f"gs-marker gs-endpoint gs-stage gs-stage-{slug(str(rec['stage']))}",
        )
    for rec in dem.sort_values("id").to_dict("records"):
        rec = {**rec, "lon": _place(rec["lon"], cut)}
        _point(
            group,
            rec,
            f'<div class="gs-popup"><b>{_safe(rec["name"])}</b> '
            f"({_safe(_country(rec['country']))})</div>",
            f"buyer: {_safe(rec['name'])}",
            radius=7,
            color="#000",
            weight=2,
            fill_color="#ffd92f",
            fill_opacity=0.95,
            class_name="gs-marker gs-endpoint gs-buyer",
        )
    group.add_to(m)


def _fit(m: Any, paths: gpd.GeoDataFrame, cut: float = -180.0) -> None:
    pts = [pt for g in paths.geometry for part in _latlon(g, 0.05, cut) for pt in part]
    if not pts:
        return
    lat = [p[0] for p in pts]
    lon = [p[1] for p in pts]
    m.fit_bounds([[min(lat), min(lon)], [max(lat), max(lon)]])


def _compare_title(frames: Iterable[pd.DataFrame], name: str) -> str:
    minerals: set[str] = set()
    queries: set[str] = set()
    for f in frames:
        minerals |= {str(x) for x in f["mineral"]}
        queries |= {str(x) for x in f["query"]}
    what = ", ".join(MINERALS[x].name if x in MINERALS else x for x in sorted(minerals))
    who = ", ".join(_country(q) for q in sorted(queries))
    return f"{what} for {who}: Baseline vs {name}"


_COMPARE_STYLE = {
    # (colour, dash): grey dashed baseline, vermillion dashed lost, blue scenario, orange new
    "base": ("#8c8c8c", "6 6"),
    "lost": ("#D55E00", "6 6"),
    "scenario": ("#0072B2", None),
    "new": ("#E69F00", None),
}


def map_compare(
    comparison: pd.DataFrame,
    baseline: gpd.GeoDataFrame,
    scenario: gpd.GeoDataFrame,
    *,
    layers: Layers | None = None,
    m: Any = None,
    self_contained: bool = False,
) -> Any:
    """Baseline and scenario options on one map, lost and new options marked.

    Baseline dashed grey, scenario solid blue; options lost under the scenario dashed
    vermillion, new ones orange (a legend says which). The map draws what it is given: which
    options are lost, new or changed, and the verdicts, come from ``comparison``
    (:func:`geosource.compare` of the full runs); ``baseline`` and ``scenario`` are the options
    to draw (e.g. each run's top k).

    Parameters
    ----------
    comparison
        :func:`geosource.compare` ``(baseline_run, scenario_run, name=...)``.
    baseline, scenario
        The options to draw, from the two runs of :func:`geosource.sourcing_paths`.
    layers
        Adds a marker for every site of every stage and the buyers.
    m
        A map to draw on (a new one by default).
    self_contained
        Inline Leaflet so that the file opens without a network.

    Returns
    -------
    folium.Map
        The map drawn on (``m`` when given); ``.save(path)`` writes it as HTML.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> base = gs.sourcing_paths(G, "graphite", "JPN", as_of="2026-12-01", k=None)
    >>> closed = gs.apply_scenario(G, gs.load_layers(), "malacca-closure")
    >>> after = closed.sourcing_paths("graphite", "JPN", as_of="2026-12-01", k=None)
    >>> diff = gs.compare(base, after, name="malacca-closure")
    >>> m = map_compare(diff, base[base["rank"] <= 3], after[after["rank"] <= 3])
    >>> "malacca-closure" in m.get_root().render()
    True
    """
    import folium

    diff = comparison
    name = str(comparison.attrs.get("scenario", "scenario"))
    key = ["mineral", "query", "chain_countries"]
    status = {tuple(r[k] for k in key): r["status"] for r in diff.to_dict("records")}
    verdicts = list(diff.attrs["verdicts"].values())
    as_of = ", ".join(sorted(set(scenario["as_of"]) | set(baseline["as_of"])))
    notes = [*(v for v in verdicts), f"Scenario: {name}.", *SOURCES]
    both = pd.concat([baseline, scenario]).pipe(gpd.GeoDataFrame)
    cut = _option_cut(both, layers)
    names = _site_names(layers)
    with _deterministic_ids("C"):
        if m is None:
            m = _new_map(
                _compare_title([baseline, scenario], name),
                f"as of {as_of}",
                notes,
                self_contained,
            )
        base_group = folium.FeatureGroup(name="Baseline options", show=True)
        for rec in baseline.sort_values([*key, "rank"]).to_dict("records"):
            lost = status.get(tuple(rec[k] for k in key)) == "lost"
            colour, dash = _COMPARE_STYLE["lost" if lost else "base"]
            line = folium.PolyLine(
                _latlon(rec["geometry"], 0.005, cut),
                color=colour,
                weight=3 if lost else 2,
                opacity=0.9,
                dash_array=dash,
                class_name="gs-base" + (" gs-lost" if lost else ""),
            )
            countries = " → ".join(_country(c) for c in rec["chain_countries"])
            _Bind.to(
                line,
                _path_popup(rec, (), names),
                ("LOST: " if lost else "baseline: ") + _safe(countries),
            )
            line.add_to(base_group)
        base_group.add_to(m)
        scen_group = folium.FeatureGroup(name=_safe(f"Under {name}"), show=True)
        for rec in scenario.sort_values([*key, "rank"]).to_dict("records"):
            new = status.get(tuple(rec[k] for k in key)) == "new"
            colour, dash = _COMPARE_STYLE["new" if new else "scenario"]
            line = folium.PolyLine(
                _latlon(rec["geometry"], 0.005, cut),
                color=colour,
                weight=5 if new else 3,
                opacity=0.9,
                dash_array=dash,
                class_name="gs-scenario" + (" gs-new" if new else ""),
            )
            countries = " → ".join(_country(c) for c in rec["chain_countries"])
            _Bind.to(
                line,
                _path_popup(rec, (), names),
                ("NEW: " if new else f"{_safe(name)}: ") + _safe(countries),
            )
            line.add_to(scen_group)
        scen_group.add_to(m)
        if layers is not None:
            _outlines(m, layers)
            _endpoints(m, both, layers, cut)
        m.get_root().html.add_child(folium.Element(_compare_legend(name, layers is not None)))
        folium.LayerControl(collapsed=False).add_to(m)
        _fit(m, both, cut)
    return m


def _compare_legend(name: str, sites: bool) -> str:
    labels = {
        "base": "baseline option",
        "lost": f"lost under {name}",
        "scenario": f"option under {name}",
        "new": f"new under {name}",
    }
    rows = [
        f'<div><span class="gs-key" style="border-top:4px {"dashed" if dash else "solid"} '
        f'{colour}"></span>{_safe(labels[k])}</div>'
        for k, (colour, dash) in _COMPARE_STYLE.items()
    ]
    if sites:
        rows += [
            f'<div><span class="gs-dot" style="border-color:{c};background:#fff"></span>'
            f"{_safe(stage)} site</div>"
            for stage, c in STAGE_COLOURS.items()
        ]
    return '<div class="gs-panel gs-legend" id="gs-legend"><b>Legend</b>' + "".join(rows) + "</div>"


# ---------------------------------------------------------------------------------------------
# world allocation


def _buyer_site(layers: Layers, buyer: str, mineral: str) -> Mapping[str, Any] | None:
    """The demand centre a buyer's flows are drawn to: its first for the mineral, by id."""
    dem = layers.demand_centres[layers.demand_centres["country"] == buyer].sort_values("id")
    if dem.empty:
        return None
    listed = dem["minerals"].fillna("").astype(str).str.split(";")
    for_mineral = dem[[mineral in m for m in listed]]
    rec: Mapping[str, Any] = (for_mineral if len(for_mineral) else dem).iloc[0].to_dict()
    return rec


def _flow_points(
    rec: Mapping[str, Any], sites: Mapping[str, Mapping[str, Any]], buyer: Mapping[str, Any] | None
) -> list[tuple[float, float]]:
    pts = [(float(sites[f]["lon"]), float(sites[f]["lat"])) for f in rec["chain"] if f in sites]
    if buyer is not None:
        pts.append((float(buyer["lon"]), float(buyer["lat"])))
    return _unwrap(pts)


def map_flows(
    allocation: WorldAllocation,
    layers: Layers,
    *,
    title: str | None = None,
    m: Any = None,
    self_contained: bool = False,
) -> Any:
    """The world allocation's flows, one line per chain that carries product, and unmet demand.

    Each line runs from the chain's first site through every stage to the buyer (straight legs
    between sites), its width proportional to tonnes and its colour the origin country's; each
    buyer's unmet demand is a circle at the buyer sized and labelled by its tonnes. The rest of
    the world (no demand centre) is listed beside the map.

    Parameters
    ----------
    allocation
        From :func:`geosource.allocate_world`.
    layers
        The layers the allocation was made on (for the sites and buyers).
    title
        Heading of the map (default: mineral: world allocation, baseline or scenario).
    m
        A map to draw on (a new one by default).
    self_contained
        Inline Leaflet so that the file opens without a network.

    Returns
    -------
    folium.Map
        The map drawn on (``m`` when given); ``.save(path)`` writes it as HTML.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> w = gs.allocate_world(G, "rare_earths", as_of="2026-12-03")
    >>> "gs-flow" in gs.map_flows(w, gs.load_layers()).get_root().render()
    True
    """
    import folium

    mineral = MINERALS[allocation.mineral].name
    sites = {str(r["id"]): r for r in layers.facilities.to_dict("records")}
    flows = allocation.flows.sort_values(
        ["buyer", "query", "tonnes"], ascending=[True, True, False]
    )
    buyers = {
        b: _buyer_site(layers, b, allocation.mineral)
        for b in sorted({*flows["buyer"], *allocation.buyers["buyer"]})
        if b != "ROW"
    }
    for b, site in list(buyers.items()):
        members = sorted(set(flows.loc[flows["query"] == b, "buyer"]) - {b})
        if site is None and members:  # a bloc: drawn at its first member with a centre
            buyers[b] = _buyer_site(layers, members[0], allocation.mineral)
    origin = flows.groupby(flows["chain_countries"].map(lambda c: str(c[0]) if c else ""))[
        "content_t"
    ].sum()
    ranked = sorted(origin.index, key=lambda c: (-float(origin[c]), c))
    colours = {c: OKABE_ITO[i] for i, c in enumerate(ranked[: len(OKABE_ITO) - 1])}
    top = float(flows["tonnes"].max()) if len(flows) else 1.0
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in flows.to_dict("records")
    ]
    lines = [_flow_points(r, sites, buyers.get(str(r["buyer"]))) for r in records]
    cut = _lon_cut(lines, [float(b["lon"]) for b in buyers.values() if b is not None])
    heading = title or (
        f"{mineral}: world allocation"
        + (f" under {allocation.scenario}" if allocation.scenario else " (baseline)")
    )
    notes = [
        f"Status: {allocation.message}.",
        "Lines join the sites of each chain to its buyer (straight, not the sea route); width "
        f"∝ tonnes of {', '.join(_product_name(p) for p in allocation.products)} a year "
        f"(widest {top:,.0f} t); colour = country of the first stage.",
        *(f"Demand: {s}" for s in allocation.demand_source),
        *SOURCES,
    ]
    with _deterministic_ids("F"):
        if m is None:
            m = _new_map(heading, f"as of {allocation.as_of}", notes, self_contained)
        group = folium.FeatureGroup(name=f"Flows ({len(flows)} chains)", show=True)
        for rec, pts in zip(records, lines, strict=True):
            if len(pts) < 2:
                continue
            first = str(rec["chain_countries"][0]) if rec["chain_countries"] else ""
            line = folium.PolyLine(
                _leaflet(_shifted(pts, cut)),
                color=colours.get(first, "#999999"),
                weight=round(1.5 + 12.0 * float(rec["tonnes"]) / top, 2) if top > 0 else 2,
                opacity=0.8,
                class_name=f"gs-flow gs-origin-{slug(first or 'unknown')}",
            )
            _Bind.to(line, _flow_popup(rec, sites, allocation), _flow_tip(rec, allocation))
            line.add_to(group)
        group.add_to(m)
        _flow_sites(m, flows, sites, cut)
        _unmet_group(m, allocation, buyers, cut)
        root = m.get_root()
        root.html.add_child(folium.Element(_flow_legend(colours, top, allocation.unit)))
        side = _world_panel(allocation)
        if side:
            root.html.add_child(folium.Element(side))
        folium.LayerControl(collapsed=False).add_to(m)
        pts = [p for line in lines for p in _shifted(line, cut)]
        if pts:
            m.fit_bounds(
                [
                    [_round(min(y for _, y in pts)), _round(min(x for x, _ in pts))],
                    [_round(max(y for _, y in pts)), _round(max(x for x, _ in pts))],
                ]
            )
    return m


def _flow_tip(rec: Mapping[str, Any], allocation: WorldAllocation) -> str:
    countries = " → ".join(_country(c) for c in rec["chain_countries"])
    return (
        f"{_safe(countries)} → {_safe(_country(rec['buyer']))}: {float(rec['tonnes']):,.0f} t "
        f"{_safe(_product_name(rec['product']))}"
    )


def _flow_popup(
    rec: Mapping[str, Any], sites: Mapping[str, Mapping[str, Any]], allocation: WorldAllocation
) -> str:
    stages = [
        (
            f"stage {i + 1}",
            f"{sites[f]['name']} ({_country(sites[f]['country'])}, {sites[f]['stage']})"
            if f in sites
            else f,
        )
        for i, f in enumerate(rec["chain"])
    ]
    return (
        f'<div class="gs-popup"><b>{_safe(MINERALS[allocation.mineral].name)} → '
        f"{_safe(_country(rec['buyer']))}</b>"
        + _table(
            [
                *stages,
                ("buyer", f"{_country(rec['buyer'])} (query {rec['query']})"),
                ("product", _product_name(rec["product"])),
                ("tonnes a year", f"{float(rec['tonnes']):,.0f} t"),
                ("content", f"{float(rec['content_t']):,.0f} {allocation.unit}"),
                ("chain score", f"{float(rec['score']):.3f} (lower is better)"),
                ("as of", allocation.as_of),
            ]
        )
        + "</div>"
    )


def _flow_sites(
    m: Any, flows: pd.DataFrame, sites: Mapping[str, Mapping[str, Any]], cut: float
) -> None:
    import folium

    group = folium.FeatureGroup(name="Sites carrying flows", show=True)
    used = sorted({f for chain in flows["chain"] for f in chain if f in sites})
    for fid in used:
        rec = {**sites[fid], "lon": _place(sites[fid]["lon"], cut)}
        _point(
            group,
            rec,
            None,
            f"{_safe(rec['stage'])}: {_safe(rec['name'])} ({_safe(_country(rec['country']))})",
            radius=4,
            color=STAGE_COLOURS.get(str(rec["stage"]), "#555"),
            weight=2,
            fill_color="#fff",
            fill_opacity=1,
            class_name=f"gs-marker gs-stage gs-stage-{slug(str(rec['stage']))}",
        )
    group.add_to(m)


def _unmet_group(
    m: Any,
    allocation: WorldAllocation,
    buyers: Mapping[str, Mapping[str, Any] | None],
    cut: float,
) -> None:
    import folium

    group = folium.FeatureGroup(name="Unmet demand", show=True)
    for rec in allocation.buyers.sort_values("buyer").to_dict("records"):
        site = buyers.get(str(rec["buyer"]))
        unmet = float(rec["unmet"])
        if site is None or unmet <= 1e-6:
            continue
        tip = (
            f"{_safe(_country(rec['buyer']))}: short {unmet:,.0f} of {float(rec['demand']):,.0f} "
            f"{_safe(rec['unit'])} ({float(rec['share_met']):.0%} met)"
        )
        _point(
            group,
            {"lon": _place(site["lon"], cut), "lat": site["lat"]},
            f'<div class="gs-popup" data-unmet="{unmet:.0f}">{tip}</div>',
            tip,
            radius=float(np.clip(4 + 3 * math.log10(max(unmet, 1.0)), 5, 22)),
            color="#D55E00",
            weight=3,
            fill_color="#D55E00",
            fill_opacity=0.25,
            class_name="gs-marker gs-unmet",
        )
    group.add_to(m)


def _flow_legend(colours: Mapping[str, str], top: float, unit: str) -> str:
    rows = [
        f'<div><span class="gs-key" style="border-top:5px solid {c}"></span>'
        f"{_safe(_country(country))}</div>"
        for country, c in colours.items()
    ]
    rows.append(
        '<div><span class="gs-key" style="border-top:5px solid #999999"></span>other origins</div>'
    )
    widths = "".join(
        f'<div><span class="gs-key" style="border-top:{max(1, round(1.5 + 12 * f))}px solid '
        f'#555"></span>{top * f:,.0f} t</div>'
        for f in (1.0, 0.5, 0.1)
    )
    return (
        '<div class="gs-panel gs-legend" id="gs-legend"><b>Origin (first stage)</b>'
        + "".join(rows)
        + f"<b>Width: tonnes a year</b>{widths}"
        + '<div><span class="gs-dot" style="border-color:#D55E00;background:#fbd7c0"></span>'
        + f"unmet demand at the buyer ({_safe(unit)})</div></div>"
    )


def _world_panel(allocation: WorldAllocation) -> str:
    rows = []
    for rec in allocation.buyers.sort_values("buyer").to_dict("records"):
        rows.append(
            f"<tr><td>{_safe(_country(rec['buyer']))}</td>"
            f"<td>{float(rec['demand']):,.0f}</td><td>{float(rec['supplied']):,.0f}</td>"
            f"<td>{float(rec['unmet']):,.0f}</td><td>{_safe(rec['unit'])}</td></tr>"
        )
    if not rows:
        return ""
    return (
        '<div class="gs-panel gs-side" id="gs-world"><b>Demand met and short</b><table>'
        "<tr><th>buyer</th><th>demand</th><th>supplied</th><th>short</th><th>unit</th></tr>"
        + "".join(rows)
        + "</table></div>"
    )


# ---------------------------------------------------------------------------------------------
# static images


def save_map_png(
    paths: gpd.GeoDataFrame,
    layers: Layers,
    path: str | Path,
    *,
    title: str | None = None,
    dpi: int = 200,
) -> Path:
    """A static PNG of the options over country outlines (matplotlib), for reports and print.

    A colour-blind-safe score scale with a colour bar saying lower is better, the best option
    thickest and labelled, longitudes continuous across the Pacific. The file is written
    atomically.

    Parameters
    ----------
    paths
        From :func:`geosource.sourcing_paths`.
    layers
        The layers whose country outlines are drawn beneath.
    path
        The PNG file to write.
    title
        Heading of the figure (default: ranked sourcing options).
    dpi
        Resolution.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import os, tempfile, geosource as gs
    >>> layers = gs.load_layers()
    >>> G = gs.graph_from_layers(layers)
    >>> paths = gs.sourcing_paths(G, "lithium", "IND", k=3, as_of="2025-06-30")
    >>> png = gs.save_map_png(paths, layers, os.path.join(tempfile.mkdtemp(), "map.png"), dpi=50)
    >>> png.name, png.stat().st_size > 0
    ('map.png', True)
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap, Normalize

    colormap = _score_colormap(paths)
    cmap = LinearSegmentedColormap.from_list("gs-score", list(SCORE_COLOURS))
    norm = Normalize(vmin=colormap.vmin, vmax=colormap.vmax)
    cut = _option_cut(paths, layers)
    fig, ax = plt.subplots(figsize=(11, 5.8))
    for turn in (-360.0, 0.0, 360.0):
        layers.boundaries.translate(xoff=turn).plot(
            ax=ax, color="#f2f2f2", edgecolor="#9e9e9e", linewidth=0.3
        )
    xs_all: list[float] = []
    ys_all: list[float] = []
    for rec in paths.sort_values("rank", ascending=False).to_dict("records"):
        best = int(rec["rank"]) == 1
        parts = _joined(rec["geometry"])
        d = _place(parts[0][0][0], cut) - parts[0][0][0] if parts else 0.0
        for part in parts:
            xs = [x + d for x, _ in part]
            ys = [y for _, y in part]
            xs_all += xs
            ys_all += ys
            ax.plot(xs, ys, color=cmap(norm(float(rec["score"]))), lw=3.2 if best else 1.6)
        if best and parts:
            end = parts[-1][-1]
            ax.annotate(
                f"#1 {_country(rec['mine_country'])} → {_country(rec['plant_country'])}",
                (end[0] + d, end[1]),
                fontsize=9,
                xytext=(4, 4),
                textcoords="offset points",
            )
    if xs_all:
        pad = 8.0
        ax.set_xlim(max(min(xs_all) - pad, cut), min(max(xs_all) + pad, cut + 360))
        ax.set_ylim(max(min(ys_all) - pad, -60), min(max(ys_all) + pad, 80))
    ax.set_aspect("equal")
    ax.set_axis_off()
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, pad=0.01)
    bar.set_label("score (lower is better)", fontsize=10)
    bar.ax.tick_params(labelsize=9)
    ax.set_title(title or "Ranked sourcing options (colour: score, lower is better)", fontsize=12)
    return _save_png(fig, Path(path), dpi)


def pareto_chart(
    paths: pd.DataFrame, path: str | Path, *, title: str | None = None, dpi: int = 110
) -> Path:
    """A PNG chart of the ranking objective against exposure, with the Pareto front.

    The x axis is the objective the options were ranked by (t·km per t by default), the y axis
    exposure; the Pareto front (computed on the same axes) is joined and labelled. The file is
    written atomically and the same options give the same bytes.

    Parameters
    ----------
    paths
        From :func:`geosource.sourcing_paths` (columns ``pareto``, ``exposure`` and the
        objective's).
    path
        The PNG file to write.
    title
        Heading of the chart (default: objective vs exposure).
    dpi
        Resolution.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import os, tempfile, geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> paths = gs.sourcing_paths(G, "lithium", "IND", k=3, as_of="2025-06-30")
    >>> png = gs.pareto_chart(paths, os.path.join(tempfile.mkdtemp(), "pareto.png"))
    >>> png.name, png.read_bytes()[1:4]
    ('pareto.png', b'PNG')
    """
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
            f"{_country_label(rec['mine_country'])} → {_country_label(rec['plant_country'])}",
            (rec[x], rec["exposure"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set_xlabel(label)
    ax.set_ylabel("exposure (0–1)")
    ax.set_title(title or f"{label.split(' (')[0].capitalize()} vs exposure", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
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

    spec = (paths.attrs.get("objective") or {}).get("objective", "distance")
    objectives = parse_objective(spec)
    if len(objectives) > 1:
        return "transport", f"transport term ({spec}; 0–1)"
    name = objectives[0][0]
    return OBJECTIVE_COLUMNS[name], f"{name} ({OBJECTIVE_UNITS[name]})"


def _country_label(code: Any) -> str:
    """A country's name for a chart label; the code when it has none."""

    if not isinstance(code, str):
        return "recycled"
    try:
        return country_name(code)
    except (KeyError, ValueError):
        return code


def map_candidates(
    value: Any, layers: Layers, *, title: str | None = None, self_contained: bool = False
) -> Any:
    """Candidate projects of :func:`geosource.project_value` at their sites, coloured by value.

    Colours run on viridis (darker is more valuable); each candidate shows its rank, value,
    terms and reason; candidates that could not be valued are grey.

    Parameters
    ----------
    value
        A :class:`~geosource.invest.ProjectValue`.
    layers
        The layers holding the candidates' facilities.
    title
        Heading of the map (default: mineral: which project adds most for the buyers).
    self_contained
        Inline Leaflet so that the file opens without a network.

    Returns
    -------
    folium.Map
        The map drawn on (``m`` when given); ``.save(path)`` writes it as HTML.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> v = gs.project_value(G, ["ree-ngualla"], ["IND"], mineral="rare_earths",
    ...                      scenarios=[None], as_of="2026-12-03")
    >>> "gs-candidate" in gs.map_candidates(v, gs.load_layers()).get_root().render()
    True
    """
    import branca.colormap as cm
    import folium

    ranking = value.ranking
    sites = layers.facilities.set_index("id")
    valued = ranking[~ranking["reason"].str.startswith("not valued")]
    lo = float(valued["value"].min()) if len(valued) else 0.0
    hi = float(valued["value"].max()) if len(valued) else 1.0
    scale = cm.LinearColormap(
        list(reversed(SCORE_COLOURS)), vmin=lo, vmax=hi if hi > lo else lo + 1
    )
    mineral = MINERALS[value.mineral].name
    together = "+".join(_country_label(b) for b in value.buyers)
    heading = title or f"{mineral}: which project adds most for {together}"
    notes = [
        f"Scenarios: {', '.join(value.scenarios)}; value = Σ scenarios of "
        f"{value.weights.unmet:g} x unmet reduction / demand + {value.weights.hhi:g} x HHI "
        f"reduction + {value.weights.feoc:g} x FEOC-share reduction + {value.weights.cost:g} x "
        "freight saving (docs: geosource.invest).",
        "Grey: not valued (no stated capacity).",
        *SOURCES,
    ]
    with _deterministic_ids("C"):
        m = _new_map(heading, f"as of {value.as_of}", notes, self_contained)
        _outlines(m, layers)
        group = folium.FeatureGroup(name=f"Candidates ({len(ranking)})", show=True)
        for rec in ranking.to_dict("records"):
            ids = [i for i in str(rec["candidate"]).split("+") if i in sites.index]
            unvalued = str(rec["reason"]).startswith("not valued")
            colour = "#9e9e9e" if unvalued else scale(float(rec["value"]))
            for fid in ids:
                site = sites.loc[fid]
                popup = (
                    f'<div class="gs-popup"><b>#{int(rec["rank"])} {_safe(rec["candidate"])}</b>'
                    f"<br>{_safe(site['name'])} ({_safe(_country_label(site['country']))})"
                    f"<table><tr><th>value</th><td>{float(rec['value']):.4f}</td></tr>"
                    + "".join(
                        f"<tr><th>{_safe(t)}</th><td>{float(rec[f'{t}_term']):.4f}</td></tr>"
                        for t in ("unmet", "hhi", "feoc", "cost")
                    )
                    + f"</table>{_safe(rec['reason'])}</div>"
                )
                marker = folium.CircleMarker(
                    [_round(site["lat"]), _round(site["lon"])],
                    radius=9 if not unvalued else 6,
                    color="#222222",
                    weight=1.5,
                    fill=True,
                    fill_color=colour,
                    fill_opacity=0.9,
                    class_name="gs-candidate",
                )
                _Bind.to(marker, popup, f"#{int(rec['rank'])} {rec['candidate']}")
                marker.add_to(group)
        group.add_to(m)
        m.get_root().html.add_child(
            folium.Element(
                '<div class="gs-panel gs-legend"><b>Value (higher is better)</b><br>'
                f"{_safe(f'{lo:.3f}')} lighter … darker {_safe(f'{hi:.3f}')}</div>"
            )
        )
        folium.LayerControl(collapsed=False).add_to(m)
    return m


def map_surface(surface: dict[str, Any], band: str = "score", m: Any = None) -> Any:
    """Draw one band of an opportunity surface on a Folium map as an image overlay + legend.

    Colours run from green (low, better) to red over the band's 2nd to 98th percentile; sea
    cells are transparent.

    Parameters
    ----------
    surface
        From :func:`geosource.opportunity_surface`.
    band
        A band name of :data:`geosource.surfaces.SURFACE_BANDS`.
    m
        A map to draw on (a new one by default).

    Returns
    -------
    folium.Map
        The map drawn on (``m`` when given); ``.save(path)`` writes it as HTML.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> s = gs.opportunity_surface(G, mineral="rare_earths", to="IND", resolution_deg=2.0)
    >>> "<b>score</b>" in gs.map_surface(s, "score").get_root().render()
    True
    """
    import folium

    grid = surface["bands"][band]
    finite = grid[np.isfinite(grid)]
    lo, hi = (
        (float(np.nanpercentile(finite, 2)), float(np.nanpercentile(finite, 98)))
        if finite.size
        else (0.0, 1.0)
    )
    rgba = np.zeros((*grid.shape, 4), dtype=np.uint8)
    norm = np.clip((grid - lo) / ((hi - lo) or 1.0), 0, 1)
    stops = np.array([[26, 152, 80], [254, 224, 139], [215, 48, 39]], dtype=float)
    t = np.nan_to_num(norm) * 2
    low = np.clip(np.floor(t).astype(int), 0, 1)
    frac = (t - low)[..., None]
    rgb = stops[low] * (1 - frac) + stops[low + 1] * frac
    rgba[..., :3] = rgb.astype(np.uint8)
    rgba[..., 3] = np.where(np.isfinite(grid), 190, 0)
    if m is None:
        m = _new_map(
            f"Opportunity surface: {surface['mineral']} → {surface['buyer']}",
            f"band {band}",
            ["Lower is better. Land cells: Natural Earth 1:50m."],
        )
    folium.raster_layers.ImageOverlay(
        rgba,
        bounds=[[-90, -180], [90, 180]],
        name=_safe(f"{band} surface"),
        mercator_project=True,
        opacity=0.8,
    ).add_to(m)
    m.get_root().html.add_child(
        folium.Element(
            '<div class="gs-panel gs-legend">'
            + f"<b>{_safe(band)}</b> {lo:.3g} – {hi:.3g}"
            + "</div>"
        )
    )
    return m

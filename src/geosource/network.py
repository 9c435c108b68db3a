"""The route graph: searoute's MARNET sea lanes and ports, land legs, air legs, facilities.

Nodes have a ``kind`` (``sea``, ``port``, ``airport``, ``facility``, ``demand``) and
``lon``/``lat``. Edges have a ``mode`` (``sea``, ``land``, ``air``), ``length_km`` (WGS84
geodesic, pyproj), ``passage`` (``;``-joined chokepoint ids, or ``None``) and ``estimate``
(``True`` for land legs, whose length is geodesic × circuity). The graph knows nothing of scores
or maps.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ._files import atomic_path
from ._geodesy import chord_to_km, geodesic_km, split_antimeridian, unit_vectors, wrap_lon
from ._searoute import load_marnet, load_ports
from .layers import Layers, load_layers
from .raster import FrictionSurface

__all__ = [
    "AIR_ATTACH",
    "CIRCUITY",
    "LAND_CORRIDORS",
    "NetworkOptions",
    "graph_from_gdfs",
    "graph_from_layers",
    "graph_to_gdfs",
    "load_graph",
    "node_id",
    "save_graph",
]

log = logging.getLogger(__name__)

#: Road/rail distance ≈ geodesic × circuity. Motorway networks typically run 1.3 ± 0.1 times the
#: crow-fly distance (Giacomin & Levinson-style scaling reported in "How much longer do you have
#: to drive than the crow has to fly?", arXiv:2406.06490, 2024); national road circuity factors in
#: Ballou, Rahardja & Sakai (2002), Transportation Research Part A 36(9):843-848, are of the same
#: order. geosource uses 1.3 for every land leg and flags those legs as estimates.
CIRCUITY = 1.3

#: Documented cross-border land corridors: facilities in the first country may reach plants and
#: buyers in the second by land. Each pair carries the reason it exists.
LAND_CORRIDORS: dict[tuple[str, str], str] = {
    ("MMR", "CHN"): "Kachin rare-earth concentrate trucked to Yunnan (Global Witness, "
    "'Fuelling the future, poisoning the present', 2024)",
    ("MNG", "CHN"): "Mongolian mineral exports move overland to China (USGS Minerals Yearbook, "
    "Mongolia)",
    ("LAO", "CHN"): "Laos–China railway and road freight (USGS Minerals Yearbook, Laos)",
    ("KAZ", "CHN"): "Kazakhstan–China rail crossings at Dostyk/Khorgos",
    ("RUS", "CHN"): "Russia–China rail crossings (Zabaikalsk–Manzhouli)",
    ("CAN", "USA"): "US–Canada road and rail freight (USMCA)",
    ("MEX", "USA"): "US–Mexico road and rail freight (USMCA)",
    ("ZWE", "ZAF"): "Zimbabwean lithium concentrate trucked to Durban (Reuters, 2023)",
    ("ZWE", "MOZ"): "Beira corridor road and rail from Zimbabwe",
    ("COD", "ZMB"): "Copperbelt road freight from Katanga through Zambia",
    ("MWI", "MOZ"): "Nacala rail corridor from Malawi",
}

#: Which facilities get air legs: stages whose products move by air (refined Ga/Ge, magnets).
AIR_ATTACH = 2

_SEA = "sea"


def node_id(kind: str, key: str) -> str:
    """The graph node id of a facility, demand centre, port or airport.

    Parameters
    ----------
    kind
        ``facility``, ``demand``, ``port`` or ``airport``.
    key
        The layer id (facility or demand-centre id), UN/LOCODE or IATA code.

    Returns
    -------
    str
        ``"<kind>:<key>"``.

    Examples
    --------
    >>> node_id("facility", "li-greenbushes")
    'facility:li-greenbushes'
    >>> node_id("port", "AUPHE")
    'port:AUPHE'
    """
    return f"{kind}:{key}"


@dataclass(frozen=True)
class NetworkOptions:
    """How the route graph is built.

    Defaults are visible in the repr; a value out of range raises ``ValueError`` naming it.

    Parameters
    ----------
    closed_passages
        Passages left out of the graph (chokepoint ids or searoute passage names); searoute closes
        the Northwest Passage by default and so does geosource.
    circuity
        Land distance = geodesic × circuity (see :data:`CIRCUITY`).
    ports_per_site
        Facilities without a documented port attach to this many nearest ports.
    max_land_km
        A land leg to an undocumented port is at most this long (geodesic km).
    air
        Add cargo airports and air legs (for refined gallium/germanium and magnets).
    port_reach_km
        The searoute port list holds inland places too (rail and dry ports such as Yining,
        Chengdu or Denver) that no sea lane reaches; a port farther than this from the nearest
        sea-lane vertex is left out of the graph (a ship cannot sail there) unless a layer names
        it as a documented export or import port. 150 km keeps every seaport whose nearest
        MARNET vertex lies offshore of a sparse coast (Antofagasta 93 km, Nacala 121 km) and
        river ports on lanes MARNET draws (Hamburg, New Orleans, Montreal).
    friction
        A friction GeoTIFF (effective km per km: 1 = open road, higher = harder, nodata =
        impassable). Land legs from facilities to ports that lie on it follow the least-cost
        path over it instead of geodesic × circuity.

    Examples
    --------
    >>> NetworkOptions()  # doctest: +NORMALIZE_WHITESPACE
    NetworkOptions(closed_passages=('northwest',), circuity=1.3, ports_per_site=3,
                   max_land_km=2500.0, air=True, port_reach_km=150.0, friction=None)
    >>> NetworkOptions(circuity=0.9)
    Traceback (most recent call last):
    ...
    ValueError: circuity must be at least 1, got 0.9
    """

    closed_passages: tuple[str, ...] = ("northwest",)
    circuity: float = CIRCUITY
    ports_per_site: int = 3
    max_land_km: float = 2500.0
    air: bool = True
    port_reach_km: float = 150.0
    friction: str | None = None
    """A friction GeoTIFF (effective km per km: 1 = open road, higher = harder, nodata =
    impassable). Land legs from facilities to ports that lie on it follow the least-cost path
    over it (scikit-image MCP) instead of geodesic × circuity."""

    def __post_init__(self) -> None:
        if self.circuity < 1.0:
            raise ValueError(f"circuity must be at least 1, got {self.circuity}")
        if self.ports_per_site < 1:
            raise ValueError(f"ports_per_site must be at least 1, got {self.ports_per_site}")
        if not self.port_reach_km > 0:
            raise ValueError(f"port_reach_km must be above 0, got {self.port_reach_km}")


def _documented_ports(layers: Layers) -> set[str]:
    """UN/LOCODEs the layers name as a facility's export port or a demand centre's import
    port."""
    out = {str(p) for p in layers.facilities.get("export_port", pd.Series(dtype=object)).dropna()}
    for cell in layers.demand_centres.get("import_ports", pd.Series(dtype=object)).dropna():
        out |= {p for p in str(cell).split(";") if p}
    return out


# ---------------------------------------------------------------------------------------------
# sea lanes


@dataclass
class _Sea:
    lon: np.ndarray
    lat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    tag: list[str | None]
    dropped_nodes: int
    dropped_edges: int
    merged_nodes: int


def _sea_lanes(closed: Iterable[str]) -> _Sea:
    """MARNET with longitudes wrapped to [-180, 180), duplicates merged, closed passages removed,
    and only the largest connected component kept."""
    _, edge_list = load_marnet()
    closed = set(closed)
    keys: dict[tuple[float, float], int] = {}
    raw_nodes = set()
    us, vs, tags = [], [], []

    def index(node: tuple[float, float]) -> int:
        raw_nodes.add(node)
        lon = float(wrap_lon(node[0]))
        key = (round(lon, 6), round(float(node[1]), 6))
        if key not in keys:
            keys[key] = len(keys)
        return keys[key]

    for a, nbrs in edge_list.items():
        for b, attrs in nbrs.items():
            tag = attrs.get("passage")
            if tag in closed:
                continue
            i, j = index(a), index(b)
            if i == j:
                continue  # the 0-km wrap links at ±180 collapse once longitudes are wrapped
            us.append(i)
            vs.append(j)
            tags.append(tag if tag not in ("segment", "segment2", "pacific_ocean") else None)
    coords = np.array(list(keys), dtype=float)
    lon, lat = coords[:, 0], coords[:, 1]
    u, v = np.array(us), np.array(vs)
    # undirected: keep one edge per unordered pair
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    _, first = np.unique(lo * len(keys) + hi, return_index=True)
    u, v, tags = lo[first], hi[first], [tags[i] for i in first]
    n = len(keys)
    adj = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, labels = connected_components(adj, directed=False)
    biggest = np.bincount(labels).argmax()
    keep_node = labels == biggest
    keep_edge = keep_node[u]
    new_index = np.cumsum(keep_node) - 1
    sea = _Sea(
        lon=lon[keep_node],
        lat=lat[keep_node],
        u=new_index[u[keep_edge]],
        v=new_index[v[keep_edge]],
        length=np.empty(0),
        tag=[t for t, k in zip(tags, keep_edge, strict=True) if k],
        dropped_nodes=int((~keep_node).sum()),
        dropped_edges=int((~keep_edge).sum()),
        merged_nodes=len(raw_nodes) - n,
    )
    sea.length = np.maximum(
        geodesic_km(sea.lon[sea.u], sea.lat[sea.u], sea.lon[sea.v], sea.lat[sea.v]), 1e-6
    )
    return sea


def _edge_lines(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> list[Any]:
    lines: list[Any] = []
    for a, b, c, d in zip(lon1, lat1, lon2, lat2, strict=True):
        if abs(c - a) > 180:
            lines.append(split_antimeridian([(a, b), (c, d)]))
        else:
            lines.append(shapely.LineString([(a, b), (c, d)]))
    return lines


def _tag_passages(sea: _Sea, chokepoints: pd.DataFrame) -> list[str | None]:
    """Chokepoint ids per sea edge: from searoute's passage tag, and from the chokepoint polygon."""
    by_tag: dict[str, set[str]] = {}
    for rec in chokepoints.to_dict("records"):
        for tag in str(rec.get("searoute_passage") or "").split(";"):
            if tag and tag != "nan":
                by_tag.setdefault(tag, set()).add(rec["id"])
    found: list[set[str]] = [set(by_tag.get(t, ())) if t else set() for t in sea.tag]
    lines = _edge_lines(sea.lon[sea.u], sea.lat[sea.u], sea.lon[sea.v], sea.lat[sea.v])
    tree = shapely.STRtree(lines)
    for cid, poly in zip(chokepoints["id"], chokepoints.geometry, strict=True):
        for i in tree.query(poly, predicate="intersects"):
            found[int(i)].add(cid)
    return [";".join(sorted(s)) if s else None for s in found]


# ---------------------------------------------------------------------------------------------
# the graph


def _nearest(
    tree: cKDTree, lon: Sequence[float], lat: Sequence[float], k: int
) -> tuple[np.ndarray, np.ndarray]:
    chord, idx = tree.query(unit_vectors(lon, lat), k=k)
    return np.atleast_2d(chord_to_km(chord)), np.atleast_2d(idx)


def graph_from_layers(
    layers: Layers,
    *,
    closed_passages: Sequence[str] = ("northwest",),
    options: NetworkOptions | None = None,
) -> nx.MultiDiGraph:
    """Build the route graph from the layers.

    Parameters
    ----------
    layers
        From :func:`geosource.load_layers` (or your own, validated).
    closed_passages
        Passages to leave out entirely (chokepoint ids or searoute passage names). For what-ifs
        prefer the routing functions' ``closed_passages=``, which need no rebuild.
    options
        Further build options; ``closed_passages`` given here wins over the keyword.

    Returns
    -------
    networkx.MultiDiGraph
        Every edge appears in both directions. ``G.graph`` holds ``crs``, the options, and what was
        dropped or merged while cleaning MARNET.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> G.graph["crs"]
    'EPSG:4326'
    >>> G.nodes["port:AUPHE"]["kind"]
    'port'
    """
    opts = options or NetworkOptions(closed_passages=tuple(closed_passages))
    G = nx.MultiDiGraph()
    build = _Build(G, opts)
    sea = _add_sea(build, layers)
    _add_ports(build, layers, sea)
    for r in layers.facilities.to_dict("records"):
        nid = node_id("facility", r["id"])
        G.add_node(
            nid,
            kind="facility",
            lon=float(r["lon"]),
            lat=float(r["lat"]),
            name=r["name"],
            country=r["country"],
            mineral=r["mineral"],
            stage=r["stage"],
            status=r["status"],
            facility=r["id"],
        )
        port = r.get("export_port")
        build.attach_to_ports(
            nid, r["lon"], r["lat"], r["country"], [port] if isinstance(port, str) else []
        )
    for r in layers.demand_centres.to_dict("records"):
        nid = node_id("demand", r["id"])
        G.add_node(
            nid,
            kind="demand",
            lon=float(r["lon"]),
            lat=float(r["lat"]),
            name=r["name"],
            country=r["country"],
            demand=r["id"],
        )
        build.attach_to_ports(
            nid, r["lon"], r["lat"], r["country"], str(r["import_ports"]).split(";")
        )
    _add_direct_legs(build, layers)
    G.graph["layers"] = layers
    edges, land = build.edges, build.land
    if opts.air and len(layers.airports):
        _add_air(G, layers, edges, land, opts)

    G.add_edges_from(edges)
    log.info("route graph: %d nodes, %d edges", G.number_of_nodes(), G.number_of_edges())
    return G


#: Facility stage pairs (either way round) that no product ever moves between: a mine takes
#: nothing in, and a recycler takes scrap, not ore. No chain can use a direct leg between them,
#: so none is built (they were a third of all facility-facility legs).
_NO_PRODUCT_BETWEEN = frozenset({frozenset({"mining"}), frozenset({"mining", "recycling"})})

#: Stage pairs a direct land leg may join between a site and a demand centre (either way round);
#: two facilities in one country or along a corridor are joined unless no product moves
#: between their stages.
_NEXT_STAGE = frozenset(
    {
        ("mining", "refining"),
        ("refining", "manufacturing"),
        ("recycling", "refining"),
        ("refining", "demand"),
        ("manufacturing", "demand"),
        ("recycling", "demand"),
        ("mining", "demand"),
    }
)


class _Build:
    """What the steps of :func:`graph_from_layers` share: the graph, the edges collected so far,
    the options, the ports kept and their search trees, and the friction surface (read once)."""

    def __init__(self, G: nx.MultiDiGraph, opts: NetworkOptions) -> None:
        self.G = G
        self.opts = opts
        self.edges: list[tuple[str, str, dict[str, Any]]] = []
        self.friction = FrictionSurface(opts.friction) if opts.friction else None
        self.ports = pd.DataFrame()
        self.port_ids: list[str] = []
        self.port_tree: cKDTree | None = None
        self.ports_by_country: dict[str, np.ndarray] = {}

    def both_ways(self, a: str, b: str, attrs: dict[str, Any]) -> None:
        self.edges.append((a, b, attrs))
        self.edges.append((b, a, dict(attrs)))

    def land(self, a: str, b: str, km: float, why: str, factor: float | None = None) -> None:
        circuity = self.opts.circuity if factor is None else factor
        attrs = {
            "mode": "land",
            "length_km": max(float(km) * circuity, 1e-6),
            "passage": None,
            "estimate": True,
            "searoute_passage": None,
            "basis": why,
        }
        self.both_ways(a, b, attrs)

    def leg(self, nid: str, port: str, lon: float, lat: float, why: str) -> None:
        plon, plat = self.G.nodes[port]["lon"], self.G.nodes[port]["lat"]
        if self.friction is not None and nid.startswith("facility:"):
            cost = self.friction.cost((lon, lat), (plon, plat))
            if cost is not None:
                self.land(nid, port, cost, f"{why}; least-cost path over {self.friction.name}", 1.0)
                return
        self.land(nid, port, float(geodesic_km(lon, lat, plon, plat)), why)

    def attach_to_ports(
        self, nid: str, lon: float, lat: float, country: str, documented: Sequence[str]
    ) -> None:
        """Land legs from a site to its documented ports, else its country's nearest ports
        within reach, else the nearest ports anywhere (landlocked sites)."""
        known = [p for p in documented if node_id("port", p) in self.G]
        if known:
            for p in known:
                self.leg(nid, node_id("port", p), lon, lat, "documented port")
            return
        opts, ports = self.opts, self.ports
        picks: list[tuple[int, float]] = []
        candidates = self.ports_by_country.get(country)
        if candidates is not None and len(candidates):
            d = geodesic_km(
                lon, lat, ports["lon"].to_numpy()[candidates], ports["lat"].to_numpy()[candidates]
            )
            order = np.argsort(d, kind="stable")[: opts.ports_per_site]
            picks = [(int(candidates[i]), float(d[i])) for i in order if d[i] <= opts.max_land_km]
        if not picks and self.port_tree is not None:
            dist, idx = _nearest(self.port_tree, [lon], [lat], opts.ports_per_site)
            picks = [(int(i), float(x)) for i, x in zip(idx[0], dist[0], strict=True)]
        for i, _ in picks:
            self.leg(nid, self.port_ids[i], lon, lat, "nearest port")


def _add_sea(build: _Build, layers: Layers) -> _Sea:
    """MARNET's sea lanes as nodes and edges, closed passages left out, chokepoints tagged."""
    G, opts, chokes = build.G, build.opts, layers.chokepoints
    closed_tags = set(opts.closed_passages)
    # a chokepoint id closes the searoute passages it maps to
    for rec in chokes.to_dict("records"):
        if rec["id"] in closed_tags and isinstance(rec.get("searoute_passage"), str):
            closed_tags.update(rec["searoute_passage"].split(";"))
    sea = _sea_lanes(closed_tags)
    passages = _tag_passages(sea, chokes)
    closed_ids = {c for c in opts.closed_passages if c in set(chokes["id"])}
    G.graph.update(
        {
            "crs": "EPSG:4326",
            "closed_passages": tuple(opts.closed_passages),
            "circuity": opts.circuity,
            "sea_nodes_dropped": sea.dropped_nodes,
            "sea_edges_dropped": sea.dropped_edges,
            "sea_nodes_merged": sea.merged_nodes,
            "name": "geosource route graph",
        }
    )
    sea_ids = [f"sea:{i}" for i in range(len(sea.lon))]
    G.add_nodes_from(
        (sid, {"kind": "sea", "lon": float(x), "lat": float(y)})
        for sid, x, y in zip(sea_ids, sea.lon, sea.lat, strict=True)
    )
    for a, b, km, p, tag in zip(sea.u, sea.v, sea.length, passages, sea.tag, strict=True):
        if p is not None and closed_ids & set(p.split(";")):
            continue
        attrs = {
            "mode": _SEA,
            "length_km": float(km),
            "passage": p,
            "estimate": False,
            "searoute_passage": tag,
        }
        build.both_ways(sea_ids[a], sea_ids[b], attrs)
    return sea


def _add_ports(build: _Build, layers: Layers, sea: _Sea) -> None:
    """searoute's ports, each tied to its nearest sea node; inland ones left out unless a layer
    documents them."""
    G, opts = build.G, build.opts
    ports = load_ports()
    sea_tree = cKDTree(unit_vectors(sea.lon, sea.lat))
    _, nearest = sea_tree.query(unit_vectors(ports["lon"], ports["lat"]))
    reach = geodesic_km(ports["lon"], ports["lat"], sea.lon[nearest], sea.lat[nearest])
    documented = _documented_ports(layers)
    keep = (np.asarray(reach) <= opts.port_reach_km) | ports["port"].isin(documented).to_numpy()
    G.graph["inland_ports_left_out"] = int((~keep).sum())
    ports = ports[keep].reset_index(drop=True)
    nearest = nearest[keep]
    port_ids = [node_id("port", p) for p in ports["port"]]
    G.add_nodes_from(
        (
            pid,
            {
                "kind": "port",
                "lon": float(r.lon),
                "lat": float(r.lat),
                "name": r.name,
                "country": r.country,
                "locode": r.port,
            },
        )
        for pid, r in zip(port_ids, ports.itertuples(), strict=True)
    )
    km = geodesic_km(ports["lon"], ports["lat"], sea.lon[nearest], sea.lat[nearest])
    for pid, j, d in zip(port_ids, nearest, km, strict=True):
        attrs = {
            "mode": _SEA,
            "length_km": max(float(d), 1e-6),
            "passage": None,
            "estimate": False,
            "searoute_passage": None,
        }
        build.both_ways(pid, f"sea:{j}", attrs)
    build.ports = ports
    build.port_ids = port_ids
    build.port_tree = cKDTree(unit_vectors(ports["lon"], ports["lat"]))
    build.ports_by_country = {c: g.index.to_numpy() for c, g in ports.groupby("country")}


def _add_direct_legs(build: _Build, layers: Layers) -> None:
    """Direct land legs between sites: within a country, or along a documented corridor."""
    fac, dem = layers.facilities, layers.demand_centres
    sites = [
        (node_id("facility", r["id"]), r["country"], r["lon"], r["lat"], r["stage"], r["mineral"])
        for r in fac.to_dict("records")
    ]
    sites += [
        (node_id("demand", r["id"]), r["country"], r["lon"], r["lat"], "demand", None)
        for r in dem.to_dict("records")
    ]
    corridor = {(a, b) for a, b in LAND_CORRIDORS} | {(b, a) for a, b in LAND_CORRIDORS}
    for i, (a, ca, xa, ya, sa, ma) in enumerate(sites):
        for b, cb, xb, yb, sb, mb in sites[i + 1 :]:
            if sa != "demand" and sb != "demand":
                if frozenset({sa, sb}) in _NO_PRODUCT_BETWEEN:
                    continue
            elif (sa, sb) not in _NEXT_STAGE and (sb, sa) not in _NEXT_STAGE:
                continue
            if ma is not None and mb is not None and ma != mb:
                continue
            if ca == cb:
                why = "same country"
            elif (ca, cb) in corridor:
                why = "land corridor"
            else:
                continue
            d = float(geodesic_km(xa, ya, xb, yb))
            if d <= build.opts.max_land_km * 2:
                build.land(a, b, d, why)


def _add_air(
    G: nx.MultiDiGraph, layers: Layers, edges: list[Any], land: Any, opts: NetworkOptions
) -> None:
    air = layers.airports
    ids = [node_id("airport", c) for c in air["iata"]]
    lon, lat = air["lon"].to_numpy(float), air["lat"].to_numpy(float)
    G.add_nodes_from(
        (
            aid,
            {
                "kind": "airport",
                "lon": float(x),
                "lat": float(y),
                "name": n,
                "country": c,
                "iata": code,
            },
        )
        for aid, x, y, n, c, code in zip(
            ids, lon, lat, air["name"], air["country"], air["iata"], strict=True
        )
    )
    i, j = np.triu_indices(len(ids), k=1)
    km = geodesic_km(lon[i], lat[i], lon[j], lat[j])
    for a, b, d in zip(i, j, km, strict=True):
        attrs = {
            "mode": "air",
            "length_km": float(d),
            "passage": None,
            "estimate": False,
            "searoute_passage": None,
        }
        edges.append((ids[a], ids[b], attrs))
        edges.append((ids[b], ids[a], dict(attrs)))
    tree = cKDTree(unit_vectors(lon, lat))
    k = min(AIR_ATTACH, len(ids))
    for nid, data in list(G.nodes(data=True)):
        if data["kind"] == "demand" or (
            data["kind"] == "facility" and data.get("stage") != "mining"
        ):
            _, idx = _nearest(tree, [data["lon"]], [data["lat"]], k)
            for x in idx[0]:
                d = float(geodesic_km(data["lon"], data["lat"], lon[x], lat[x]))
                land(nid, ids[int(x)], d, "nearest cargo airport")


# ---------------------------------------------------------------------------------------------
# conversions and files

_NODE_COLUMNS = (
    "kind",
    "lon",
    "lat",
    "name",
    "country",
    "mineral",
    "stage",
    "status",
    "facility",
    "demand",
    "locode",
    "iata",
)
_EDGE_COLUMNS = ("mode", "length_km", "passage", "estimate", "searoute_passage", "basis")


def graph_to_gdfs(G: nx.MultiDiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The graph as (nodes, edges) GeoDataFrames in EPSG:4326.

    Nodes are indexed by node id with a Point geometry; edges by (u, v, key) with a LineString
    (cut at ±180° where an edge crosses it). :func:`graph_from_gdfs` turns them back.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers` (or :func:`load_graph`).

    Returns
    -------
    nodes : geopandas.GeoDataFrame
        Indexed by ``node``: ``kind``, ``lon``, ``lat``, ``name``, ``country`` and the
        facility, demand-centre, port and airport fields. ``attrs["graph"]`` holds the graph's
        attributes (its layers aside).
    edges : geopandas.GeoDataFrame
        Indexed by ``(u, v, key)``: ``mode``, ``length_km``, ``passage``, ``estimate``,
        ``searoute_passage`` and ``basis``.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> nodes, edges = gs.graph_to_gdfs(G)
    >>> len(nodes) == G.number_of_nodes() and len(edges) == G.number_of_edges()
    True
    >>> nodes.loc["port:AUPHE", ["kind", "name", "country"]].tolist()
    ['port', 'Port Hedland', 'AUS']
    >>> list(edges.index.names)
    ['u', 'v', 'key']
    """
    node_rows = []
    for n, d in G.nodes(data=True):
        node_rows.append({"node": n, **{c: d.get(c) for c in _NODE_COLUMNS}})
    nodes = pd.DataFrame(node_rows).set_index("node")
    nodes = gpd.GeoDataFrame(
        nodes, geometry=gpd.points_from_xy(nodes["lon"], nodes["lat"]), crs="EPSG:4326"
    )
    edge_rows, geoms = [], []
    lon = nx.get_node_attributes(G, "lon")
    lat = nx.get_node_attributes(G, "lat")
    for u, v, k, d in G.edges(keys=True, data=True):
        edge_rows.append({"u": u, "v": v, "key": k, **{c: d.get(c) for c in _EDGE_COLUMNS}})
        a, b = (lon[u], lat[u]), (lon[v], lat[v])
        geoms.append(
            split_antimeridian([a, b]) if abs(b[0] - a[0]) > 180 else shapely.LineString([a, b])
        )
    edges = pd.DataFrame(edge_rows).set_index(["u", "v", "key"])
    edges = gpd.GeoDataFrame(edges, geometry=geoms, crs="EPSG:4326")
    nodes.attrs = {"graph": {k: v for k, v in G.graph.items() if k != "layers"}}
    return nodes, edges


def graph_from_gdfs(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, graph_attrs: dict[str, Any] | None = None
) -> nx.MultiDiGraph:
    """Rebuild a route graph from :func:`graph_to_gdfs` output (or a saved GeoPackage's layers).

    Parameters
    ----------
    nodes
        Indexed by node id, one column per node attribute (the geometry is not read back:
        ``lon`` and ``lat`` are).
    edges
        Indexed by ``(u, v, key)``, one column per edge attribute.
    graph_attrs
        The graph's attributes; default: ``nodes.attrs["graph"]``, else ``{"crs": "EPSG:4326"}``.

    Returns
    -------
    networkx.MultiDiGraph
        Missing values are left out of node attributes and ``None`` on edges. Layers are not
        attached (see :func:`load_graph`).

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> near = G.subgraph(["port:AUPHE", *G.successors("port:AUPHE")])  # Port Hedland
    >>> H = gs.graph_from_gdfs(*gs.graph_to_gdfs(near))
    >>> sorted(H.edges) == sorted(near.edges), H.graph["crs"]
    (True, 'EPSG:4326')
    """
    G = nx.MultiDiGraph()
    G.graph.update(graph_attrs or nodes.attrs.get("graph", {}) or {"crs": "EPSG:4326"})
    nframe = pd.DataFrame(nodes.drop(columns=nodes.geometry.name))
    for n, rec in zip(nframe.index, nframe.to_dict("records"), strict=True):
        G.add_node(n, **{str(k): v for k, v in rec.items() if not _missing(v)})
    eframe = pd.DataFrame(edges.drop(columns=edges.geometry.name)).reset_index()
    for rec in eframe.to_dict("records"):
        u, v, k = rec.pop("u"), rec.pop("v"), rec.pop("key")
        attrs = {str(key): (None if _missing(val) else val) for key, val in rec.items()}
        attrs["estimate"] = bool(attrs.get("estimate"))
        G.add_edge(u, v, key=int(k), **attrs)
    return G


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def save_graph(G: nx.MultiDiGraph, path: str | os.PathLike[str]) -> Path:
    """Save the graph as a GeoPackage (layers ``nodes``, ``edges``, ``graph``) for quick reuse.

    The file is written under a temporary name beside ``path`` and renamed into place, so a
    failed save leaves the previous file as it was.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`; its layers are not saved.
    path
        The GeoPackage to write.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> with tempfile.TemporaryDirectory() as d:
    ...     H = gs.load_graph(gs.save_graph(G, f"{d}/graph.gpkg"))
    >>> H.number_of_edges() == G.number_of_edges()
    True
    """
    import json

    import pyogrio

    out = Path(path)
    nodes, edges = graph_to_gdfs(G)
    nodes = nodes.reset_index()
    edges = edges.reset_index()
    meta = pd.DataFrame(
        {
            "key": ["graph"],
            "value": [
                json.dumps(
                    {
                        k: list(v) if isinstance(v, tuple) else v
                        for k, v in G.graph.items()
                        if k != "layers"
                    },
                    sort_keys=True,
                )
            ],
        }
    )
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    with atomic_path(out) as tmp:
        pyogrio.write_dataframe(nodes, tmp, layer="nodes", driver="GPKG")
        pyogrio.write_dataframe(edges, tmp, layer="edges", driver="GPKG", append=True)
        pyogrio.write_dataframe(meta, tmp, layer="graph", driver="GPKG", append=True)
    return out


def load_graph(path: str | os.PathLike[str], layers: Layers | None = None) -> nx.MultiDiGraph:
    """Load a graph written by :func:`save_graph`.

    The layers it was built from are not stored in the file: pass them as ``layers`` (the bundled
    layers are attached when omitted), so that scoring can find its facts.

    Parameters
    ----------
    path
        A GeoPackage written by :func:`save_graph`.
    layers
        The layers the graph was built from (default: the bundled layers).

    Returns
    -------
    networkx.MultiDiGraph
        Equal to the saved graph, with ``layers`` in ``G.graph["layers"]``.

    Examples
    --------
    >>> import os, tempfile, geosource as gs
    >>> layers = gs.load_layers()
    >>> G = gs.graph_from_layers(layers)
    >>> near = G.subgraph(["port:AUPHE", *G.successors("port:AUPHE")]).copy()
    >>> H = gs.load_graph(gs.save_graph(near, os.path.join(tempfile.mkdtemp(), "g.gpkg")), layers)
    >>> sorted(H.edges) == sorted(near.edges), H.graph["layers"] is layers
    (True, True)
    """
    import json

    import pyogrio

    nodes = pyogrio.read_dataframe(path, layer="nodes").set_index("node")
    edges = pyogrio.read_dataframe(path, layer="edges").set_index(["u", "v", "key"])
    meta = pyogrio.read_dataframe(path, layer="graph")
    attrs = json.loads(meta["value"].iloc[0])
    if "closed_passages" in attrs:
        attrs["closed_passages"] = tuple(attrs["closed_passages"])
    if layers is None:
        layers = load_layers()
    attrs["layers"] = layers
    return graph_from_gdfs(nodes, edges, attrs)

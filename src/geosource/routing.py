"""Shortest paths, batch route matrices and corridor-diverse alternatives.

networkx is the model users see; the work runs on ``scipy.sparse.csgraph`` over a compiled copy
of the same graph, built once per graph and masked (not rebuilt) for closures. Facilities and
demand centres are end points, never waypoints: a route may start or end at one but never pass
through one (otherwise two ports linked to the same mine would form a land bridge).
"""

from __future__ import annotations

import difflib
import functools
import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from ._engine import (
    ENDPOINT_KINDS,
    EdgeCost,
    Engine,
    Masked,
    Weight,
    engine_for,
    forget,
    peek,
)
from ._geodesy import WGS84, split_antimeridian
from .errors import NoRouteError

__all__ = [
    "DEFAULT_MODES",
    "ENDPOINT_KINDS",
    "EdgeCost",
    "Route",
    "RouteMatrix",
    "Weight",
    "alternative_routes",
    "cache_info",
    "check_passages",
    "clear_routing_cache",
    "distances_from",
    "networkx_weight",
    "route_matrix",
    "routes_to_gdf",
    "shortest_path",
]

log = logging.getLogger(__name__)

#: Modes used unless a call says otherwise. Air is opt-in: only small, valuable products fly.
DEFAULT_MODES: tuple[str, ...] = ("sea", "land")


def clear_routing_cache(G: nx.MultiDiGraph) -> None:
    """Forget the compiled copy of ``G``.

    The engine notices nodes or edges added or removed; call this after changing edge attributes
    (such as ``length_km``) in place.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> clear_routing_cache(G)
    >>> cache_info(G)
    {'compiled': False, 'masks': 0, 'matrices': 0}
    """
    forget(G)


def cache_info(G: nx.MultiDiGraph) -> dict[str, Any]:
    """What the engine keeps for ``G``: whether a compiled copy exists, how many closure masks
    and how many route matrices it holds (each reused by later queries with the same closures,
    weight and modes).

    Returns
    -------
    dict with ``compiled`` (bool), ``masks`` and ``matrices`` (counts).

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> _ = gs.route_matrix(G, ["port:CNSHA"], ["port:NLRTM"])
    >>> info = cache_info(G)
    >>> info["compiled"], info["matrices"] >= 1
    (True, True)
    """
    eng = peek(G)
    if eng is None:
        return {"compiled": False, "masks": 0, "matrices": 0}
    return {"compiled": True, "masks": eng.masks(), "matrices": len(eng.matrices)}


def distances_from(
    G: nx.MultiDiGraph,
    sources: Iterable[Any],
    *,
    weight: Weight = "length_km",
    modes: Iterable[str] = DEFAULT_MODES,
) -> dict[Any, float]:
    """Distance from the nearest of ``sources`` to every node it reaches (one multi-source
    Dijkstra run; facilities and demand centres are ends, never waypoints).

    Parameters
    ----------
    G
        A route graph.
    sources
        Node ids to start from.
    weight
        Edge attribute or :class:`EdgeCost` to add up.
    modes
        Modes that may be used.

    Returns
    -------
    dict of node id -> distance (only nodes that can be reached).

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> d = distances_from(G, ["port:NLRTM"])
    >>> d["port:NLRTM"], round(d["port:BEANR"]) < 400
    (0.0, True)
    """
    eng = engine_for(G)
    starts = [eng.index[n] for n in _check_nodes(G, sources, "source")]
    masked = eng.masked(weight, frozenset(), frozenset(), frozenset(modes))
    full = masked.full if masked.full is not None else masked
    graph = csr_matrix((full.w, (full.u, full.v)), shape=(eng.size, eng.size))
    dist = dijkstra(graph, directed=True, indices=starts, min_only=True)
    # an end node has an in-copy (arrivals) beyond the node list: report arrivals there
    best = np.minimum(dist[: len(eng.nodes)], dist[eng.in_index])
    return {n: float(best[i]) for i, n in enumerate(eng.nodes) if np.isfinite(best[i])}


# ---------------------------------------------------------------------------------------------
# routes


@dataclass(frozen=True)
class Route:
    """One route through the graph, with its legs and the passages it crosses.

    Routes come from :func:`shortest_path`, :func:`alternative_routes` and
    :meth:`RouteMatrix.route`; ``corridor`` is the set of passages crossed and ``geometry`` the
    route as lon/lat lines cut at ±180°.

    Parameters
    ----------
    source, target
        End node ids.
    nodes
        Every node on the way, in order.
    length_km
        Total length (sum of the edges' ``length_km``).
    km_by_mode
        Kilometres by mode (``sea``, ``land``, ``air``).
    passages
        Chokepoint ids crossed, in the order first crossed.
    legs
        One dict per run of edges of the same mode: mode, from, to, km, passages, estimate.
    closed_passages
        The passages that were closed when the route was found.
    coords
        Lon/lat of every node on the way, longitudes continuous across ±180°.

    Examples
    --------
    :func:`shortest_path` makes one (its example reads one); the fields, in order:

    >>> import dataclasses
    >>> [f.name for f in dataclasses.fields(Route)]  # doctest: +NORMALIZE_WHITESPACE
    ['source', 'target', 'nodes', 'length_km', 'km_by_mode', 'passages', 'legs',
     'closed_passages', 'coords']
    """

    source: Any
    target: Any
    nodes: tuple[Any, ...]
    length_km: float
    km_by_mode: dict[str, float]
    passages: tuple[str, ...]
    legs: tuple[dict[str, Any], ...]
    closed_passages: tuple[str, ...] = ()
    coords: tuple[tuple[float, float], ...] = field(default=(), repr=False)

    @property
    def corridor(self) -> frozenset[str]:
        """The set of chokepoints crossed: what makes two routes different options."""
        return frozenset(self.passages)

    @functools.cached_property
    def geometry(self) -> shapely.MultiLineString:
        """The route as lon/lat lines, cut at ±180° so maps draw it the short way."""
        return split_antimeridian(self.coords)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "length_km": self.length_km,
            "sea_km": self.km_by_mode.get("sea", 0.0),
            "land_km": self.km_by_mode.get("land", 0.0),
            "air_km": self.km_by_mode.get("air", 0.0),
            "passages": ";".join(self.passages),
            "n_legs": len(self.legs),
            "closed_passages": ";".join(self.closed_passages),
            "geometry": self.geometry,
        }


def routes_to_gdf(routes: Iterable[Route]) -> gpd.GeoDataFrame:
    """One row per route: ends, total and per-mode km, passages, geometry (EPSG:4326).

    Parameters
    ----------
    routes
        :class:`Route` objects, e.g. from :func:`alternative_routes`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``source``, ``target``, ``length_km``, ``sea_km``, ``land_km``, ``air_km``,
        ``passages`` and ``closed_passages`` (``;``-joined), ``n_legs`` and ``geometry``.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> gdf = gs.routes_to_gdf([gs.shortest_path(G, "port:JPTYO", "port:INMAA")])
    >>> gdf.loc[0, "passages"], gdf.crs.to_string()
    ('singapore;malacca', 'EPSG:4326')
    """
    rows = [r.to_dict() for r in routes]
    columns = [
        "source",
        "target",
        "length_km",
        "sea_km",
        "land_km",
        "air_km",
        "passages",
        "n_legs",
        "closed_passages",
        "geometry",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


def _leg_coords(G: nx.MultiDiGraph, u: Any, v: Any, mode: str) -> list[tuple[float, float]]:
    a, b = G.nodes[u], G.nodes[v]
    if mode == "sea":
        return [(b["lon"], b["lat"])]
    npts = int(WGS84.inv(a["lon"], a["lat"], b["lon"], b["lat"])[2] / 200_000)
    if npts < 1:
        return [(b["lon"], b["lat"])]
    mid = WGS84.npts(a["lon"], a["lat"], b["lon"], b["lat"], npts)
    return [(float(x), float(y)) for x, y in mid] + [(b["lon"], b["lat"])]


def _build_route(
    G: nx.MultiDiGraph, eng: Engine, path: list[int], edges: list[int], closed: tuple[str, ...]
) -> Route:
    nodes = tuple(eng.nodes[eng.node_of[i]] for i in path)
    km_by_mode: dict[str, float] = {}
    passages: list[str] = []
    legs: list[dict[str, Any]] = []
    first = G.nodes[nodes[0]]
    coords: list[tuple[float, float]] = [(first["lon"], first["lat"])]
    total = 0.0
    for e in edges:
        attrs = eng.attrs[e]
        u, v, _ = eng.keys[e]
        km = float(attrs["length_km"])
        mode = str(attrs["mode"])
        total += km
        km_by_mode[mode] = km_by_mode.get(mode, 0.0) + km
        crossed = sorted(eng.passages[e])
        for p in crossed:
            if p not in passages:
                passages.append(p)
        if legs and legs[-1]["mode"] == mode:
            leg = legs[-1]
            leg["to"] = v
            leg["km"] += km
            leg["passages"] += [p for p in crossed if p not in leg["passages"]]
            leg["estimate"] = leg["estimate"] or bool(attrs.get("estimate"))
        else:
            legs.append(
                {
                    "mode": mode,
                    "from": u,
                    "to": v,
                    "km": km,
                    "passages": crossed,
                    "estimate": bool(attrs.get("estimate")),
                }
            )
        coords.extend(_leg_coords(G, u, v, mode))
    return Route(
        source=nodes[0],
        target=nodes[-1],
        nodes=nodes,
        length_km=total,
        km_by_mode=km_by_mode,
        passages=tuple(passages),
        legs=tuple({**leg, "passages": tuple(leg["passages"])} for leg in legs),
        closed_passages=closed,
        coords=tuple(coords),
    )


@dataclass
class RouteMatrix:
    """Distances (and, on request, routes) between every source and every target.

    ``distances[i, j]`` is the length from ``sources[i]`` to ``targets[j]`` (``inf`` when there
    is no route under the closures). Built by :func:`route_matrix`, not by hand: ``route``,
    ``path`` and ``summary`` trace a pair on request and ``to_frame`` labels the distances.

    Parameters
    ----------
    sources, targets
        Node ids, in the order of the rows and columns of ``distances``.
    distances
        Shortest lengths in the unit of the weight that was minimised.
    closed_passages
        The passages closed when the matrix was computed.

    Other Parameters
    ----------------
    _graph, _engine, _masked, _pred, _reversed, _routes, _paths, _summaries, _src_pos, _tgt_pos
        Internal state set by :func:`route_matrix` (the graph, the compiled engine and its
        mask, predecessors, traced paths and caches).

    Examples
    --------
    :func:`route_matrix` makes one (its example reads one); the public fields, in order:

    >>> import dataclasses
    >>> [f.name for f in dataclasses.fields(RouteMatrix) if not f.name.startswith("_")]
    ['sources', 'targets', 'distances', 'closed_passages']
    """

    sources: list[Any]
    targets: list[Any]
    distances: np.ndarray
    closed_passages: tuple[str, ...]
    _graph: nx.MultiDiGraph = field(repr=False)
    _engine: Engine = field(repr=False)
    _masked: Masked = field(repr=False)
    _pred: np.ndarray = field(repr=False)
    _reversed: bool = field(repr=False)
    _routes: dict[tuple[Any, Any], Route] = field(default_factory=dict, repr=False)
    _paths: list[list[list[int]]] | None = field(default=None, repr=False)
    _summaries: dict[tuple[int, int], tuple[frozenset[str], dict[str, float], list[Any]]] = field(
        default_factory=dict, repr=False
    )
    _src_pos: dict[Any, int] = field(default_factory=dict, repr=False)
    _tgt_pos: dict[Any, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._src_pos = {s: i for i, s in enumerate(self.sources)}
        self._tgt_pos = {t: j for j, t in enumerate(self.targets)}

    def to_frame(self) -> pd.DataFrame:
        """Distances as a DataFrame: one row per source, one column per target."""
        return pd.DataFrame(
            self.distances,
            index=pd.Index(self.sources, name="source"),
            columns=pd.Index(self.targets, name="target"),
        )

    def _walk(self, i: int, j: int) -> list[int]:
        """Engine indices of the path from source i to target j (distance must be finite)."""
        if self._paths is not None:
            return self._paths[i][j]
        eng = self._engine
        s_out = eng.index[self.sources[i]]
        t_in = int(eng.in_index[eng.index[self.targets[j]]])
        if self._reversed:
            # predecessors on the reversed graph point towards the target: walk forward
            pred = self._pred[j]
            path = [s_out]
            while path[-1] != t_in:
                path.append(int(pred[path[-1]]))
            return path
        pred = self._pred[i]
        path = [t_in]
        while path[-1] != s_out:
            path.append(int(pred[path[-1]]))
        path.reverse()
        return path

    def path(self, source: Any, target: Any) -> list[Any]:
        """Node ids of the route from ``source`` to ``target``; ``NoRouteError`` if none."""
        i, j = self._src_pos[source], self._tgt_pos[target]
        if not np.isfinite(self.distances[i, j]):
            raise NoRouteError(_no_route_message(source, target, self.closed_passages))
        eng = self._engine
        walk = self._walk(i, j)
        edges = [e for a, b in itertools.pairwise(walk) for e in self._masked.edge_of[(a, b)]]
        full = [walk[0], *(int(eng.v_in[e]) for e in edges)]
        return [eng.nodes[eng.node_of[x]] for x in full]

    def route(self, source: Any, target: Any) -> Route:
        """The route from ``source`` to ``target``, with legs and geometry; ``NoRouteError`` if
        there is none."""
        key = (source, target)
        if key in self._routes:
            return self._routes[key]
        i, j = self._src_pos[source], self._tgt_pos[target]
        if not np.isfinite(self.distances[i, j]):
            raise NoRouteError(_no_route_message(source, target, self.closed_passages))
        path = self._walk(i, j)
        edges = [e for a, b in itertools.pairwise(path) for e in self._masked.edge_of[(a, b)]]
        path = [path[0], *(int(self._engine.v_in[e]) for e in edges)]
        route = _build_route(self._graph, self._engine, path, edges, self.closed_passages)
        self._routes[key] = route
        return route

    def summary(
        self, source: Any, target: Any
    ) -> tuple[frozenset[str], dict[str, float], list[Any]]:
        """Passages crossed, km by mode and the ports called at, without building geometry.

        Fast enough to call for every pair of a large matrix.
        """
        i, j = self._src_pos[source], self._tgt_pos[target]
        key = (i, j)
        hit = self._summaries.get(key)
        if hit is not None:
            return hit
        if not np.isfinite(self.distances[i, j]):
            raise NoRouteError(_no_route_message(source, target, self.closed_passages))
        eng = self._engine
        walk = self._walk(i, j)
        passages: set[str] = set()
        km: dict[str, float] = {}
        info = self._masked.info
        for a, b in itertools.pairwise(walk):
            got = info.get((a, b))
            if got is None:
                edges = self._masked.edge_of[(a, b)]
                ps: set[str] = set()
                by: dict[str, float] = {}
                for e in edges:
                    ps |= eng.passages[e]
                    mode = str(eng.mode[e])
                    by[mode] = by.get(mode, 0.0) + float(eng.attrs[e]["length_km"])
                got = (frozenset(ps), by)
                info[(a, b)] = got
            passages |= got[0]
            for mode, value in got[1].items():
                km[mode] = km.get(mode, 0.0) + value
        ports = [eng.nodes[x] for x in walk if x < len(eng.nodes) and eng.kind[x] == "port"]
        result = (frozenset(passages), km, ports)
        self._summaries[key] = result
        return result

    def _walk_all(self) -> None:
        """Every path at once: one vectorised predecessor step per hop for all pairs."""
        eng = self._engine
        n_s, n_t = len(self.sources), len(self.targets)
        s_out = np.array([eng.index[s] for s in self.sources])
        t_in = np.array([eng.in_index[eng.index[t]] for t in self.targets])
        grid_i, grid_j = np.meshgrid(np.arange(n_s), np.arange(n_t), indexing="ij")
        ii, jj = grid_i.ravel(), grid_j.ravel()
        ok = np.isfinite(self.distances[ii, jj])
        ii, jj = ii[ok], jj[ok]
        if self._reversed:
            start, stop, rows = s_out[ii], t_in[jj], jj
        else:
            start, stop, rows = t_in[jj], s_out[ii], ii
        steps = [start]
        cur = start.copy()
        active = cur != stop
        while active.any():
            nxt = cur.copy()
            nxt[active] = self._pred[rows[active], cur[active]]
            cur = nxt
            steps.append(cur)
            active = cur != stop
        walk = np.stack(steps, axis=1)
        lengths = np.argmax(walk == stop[:, None], axis=1) + 1
        paths: list[list[list[int]]] = [[[] for _ in range(n_t)] for _ in range(n_s)]
        for k, (i, j) in enumerate(zip(ii.tolist(), jj.tolist(), strict=True)):
            p = walk[k, : lengths[k]].tolist()
            paths[i][j] = p if self._reversed else p[::-1]
        self._paths = paths

    def routes(self) -> list[Route]:
        """Every reachable route, source-major order."""
        out = []
        for i, s in enumerate(self.sources):
            for j, t in enumerate(self.targets):
                if np.isfinite(self.distances[i, j]):
                    out.append(self.route(s, t))
        return out

    def to_gdf(self) -> gpd.GeoDataFrame:
        """Every reachable route as a GeoDataFrame row (see :func:`routes_to_gdf`)."""
        return routes_to_gdf(self.routes())


def _no_route_message(source: Any, target: Any, closed: Sequence[str]) -> str:
    why = (
        f" with passages closed: {', '.join(closed)}"
        if closed
        else " (they are in parts of the network that do not connect)"
    )
    return f"no route from {source!r} to {target!r}{why}"


def _check_nodes(G: nx.MultiDiGraph, nodes: Iterable[Any], role: str) -> list[Any]:
    out = list(nodes)
    missing = [n for n in out if n not in G]
    if missing:
        raise KeyError(
            f"{role} {missing[0]!r} is not a node of the graph; node ids look like "
            "'facility:<id>', 'demand:<id>', 'port:<UN/LOCODE>', 'airport:<IATA>'"
        )
    return out


def check_passages(G: nx.MultiDiGraph, closed_passages: Iterable[str]) -> tuple[str, ...]:
    """The closed passages, sorted, after checking each is a chokepoint id or a searoute
    passage name the graph knows; a typo raises ``ValueError`` with the valid ids.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> check_passages(G, ["suez", "malacca"])
    ('malacca', 'suez')
    """
    if isinstance(closed_passages, str):
        closed_passages = [closed_passages]
    given = [str(p) for p in closed_passages]
    if not given:
        return ()
    eng = engine_for(G)
    valid = sorted(
        set().union(*eng.passages)
        | {str(x) for x in eng.searoute if isinstance(x, str) and x}
        | set(_chokepoint_ids(G))
    )
    for p in given:
        if p not in valid:
            close = difflib.get_close_matches(p, valid, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"closed_passages: {p!r} is not a passage.{hint} Valid: {', '.join(valid)}"
            )
    return tuple(sorted(set(given)))


def _chokepoint_ids(G: nx.MultiDiGraph) -> list[str]:
    lay = G.graph.get("layers")
    if lay is None:
        return []
    return [str(i) for i in lay.chokepoints["id"]]


def route_matrix(
    G: nx.MultiDiGraph,
    sources: Iterable[Any],
    targets: Iterable[Any],
    *,
    weight: Weight = "length_km",
    closed_passages: Iterable[str] = (),
    closed_nodes: Iterable[Any] = (),
    modes: Iterable[str] = DEFAULT_MODES,
    paths: bool = False,
) -> RouteMatrix:
    """Shortest distances between every source and every target, on the compiled engine.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`.
    sources, targets
        Node ids (``"facility:li-greenbushes"``, ``"port:CNSHA"``, ...).
    weight
        Edge attribute to minimise, or an :class:`EdgeCost` (cost, days or CO2e per edge);
        ``distances`` are then in its unit.
    closed_passages
        Chokepoint ids (or searoute passage names) to treat as closed; answered with a masked
        copy of the compiled graph, no rebuild.
    closed_nodes
        Nodes no route may use (e.g. every node of a sanctioned country).
    modes
        Edge modes a route may use; add ``"air"`` for products that fly.
    paths
        Also trace every path now, in one vectorised pass (otherwise each is traced when first
        asked for). Routes with legs and geometry are built from the paths on request.

    Returns
    -------
    RouteMatrix
        ``distances`` between every source and every target; routes on request.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> m = gs.route_matrix(G, ["port:CNSHA", "port:JPTYO"], ["port:NLRTM", "port:INMAA"])
    >>> 19_000 < float(m.distances[0, 0]) < 21_000
    True
    >>> m.to_frame().round(-2)  # doctest: +NORMALIZE_WHITESPACE
    target      port:NLRTM  port:INMAA
    source
    port:CNSHA     19600.0      7100.0
    port:JPTYO     21000.0      8500.0
    >>> m.route("port:JPTYO", "port:INMAA").passages
    ('singapore', 'malacca')
    """
    srcs = _check_nodes(G, sources, "source")
    tgts = _check_nodes(G, targets, "target")
    closed_nodes = frozenset(closed_nodes)
    modes = frozenset(modes)
    eng = engine_for(G)
    closed = frozenset(check_passages(G, closed_passages))
    memo_key = (tuple(srcs), tuple(tgts), weight, closed, frozenset(closed_nodes), frozenset(modes))
    cached: RouteMatrix | None = eng.matrices.get(memo_key)
    if cached is not None:
        eng.matrices.move_to_end(memo_key)
        if paths and cached._paths is None:
            cached._walk_all()
        return cached
    masked = eng.masked(weight, closed, frozenset(closed_nodes), frozenset(modes))
    s_out = np.array([eng.index[s] for s in srcs], dtype=np.int64)
    t_in = np.array([eng.in_index[eng.index[t]] for t in tgts], dtype=np.int64)
    reverse = len(tgts) < len(srcs)
    ends = np.concatenate([s_out, t_in])
    if masked.contracted[ends].any() and masked.full is not None:
        masked = masked.full  # a query from a folded sea vertex: use the uncontracted graph
    graph = eng.query_graph(masked, ends, frozenset(modes))
    if reverse:
        dist, pred = dijkstra(
            graph.T.tocsr(), directed=True, indices=np.unique(t_in), return_predecessors=True
        )
        rows = {int(x): i for i, x in enumerate(np.unique(t_in))}
        sel = np.array([rows[int(x)] for x in t_in])
        distances = dist[sel][:, s_out].T
        pred = pred[sel]
    else:
        dist, pred = dijkstra(
            graph, directed=True, indices=np.unique(s_out), return_predecessors=True
        )
        rows = {int(x): i for i, x in enumerate(np.unique(s_out))}
        sel = np.array([rows[int(x)] for x in s_out])
        distances = dist[sel][:, t_in]
        pred = pred[sel]
    result = RouteMatrix(
        srcs,
        tgts,
        np.asarray(distances, dtype=float),
        tuple(sorted(closed)),
        G,
        eng,
        masked,
        pred,
        reverse,
    )
    if paths:
        result._walk_all()
    eng.matrices[memo_key] = result
    while len(eng.matrices) > 64:
        eng.matrices.popitem(last=False)
    return result


def shortest_path(
    G: nx.MultiDiGraph,
    source: Any,
    target: Any,
    *,
    weight: Weight = "length_km",
    closed_passages: Iterable[str] = (),
    closed_nodes: Iterable[Any] = (),
    modes: Iterable[str] = DEFAULT_MODES,
) -> Route:
    """The shortest route between two nodes.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`.
    source, target
        Node ids (``"port:CNSHA"``, ``"facility:li-greenbushes"``, ...).
    weight, closed_passages, closed_nodes, modes
        As in :func:`route_matrix`.

    Returns
    -------
    Route
        With its legs, passages and geometry.

    Raises
    ------
    NoRouteError
        Naming both ends and the closures in force.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> r = gs.shortest_path(G, "port:CNSHA", "port:NLRTM")
    >>> "suez" in r.passages
    True
    >>> "suez" in gs.shortest_path(G, "port:CNSHA", "port:NLRTM",
    ...                            closed_passages=["suez"]).passages
    False
    >>> round(r.length_km, -2), r.km_by_mode.keys() == {"sea"}, r.geometry.geom_type
    (19600.0, True, 'MultiLineString')
    """
    m = route_matrix(
        G,
        [source],
        [target],
        weight=weight,
        closed_passages=closed_passages,
        closed_nodes=closed_nodes,
        modes=modes,
    )
    return m.route(source, target)


def _difference(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard distance between two corridors (1: nothing shared; 0: the same)."""
    union = a | b
    return 1.0 - len(a & b) / len(union) if union else 0.0


def alternative_routes(
    G: nx.MultiDiGraph,
    source: Any,
    target: Any,
    k: int = 3,
    *,
    closed_passages: Iterable[str] = (),
    modes: Iterable[str] = DEFAULT_MODES,
    min_difference: float = 0.5,
) -> list[Route]:
    """Up to ``k`` routes through different corridors, shortest first.

    The first is the shortest route. Each next one is the shortest route found by closing
    passages used by earlier routes whose corridor (its set of chokepoints) shares at most
    ``1 - min_difference`` of its chokepoints with every corridor found so far (Jaccard distance
    ≥ ``min_difference``): Suez, then Panama or the Cape of Good Hope; Malacca, then Lombok.
    Never k near-identical variants of one corridor. Fewer than ``k`` routes come back when no
    such corridor exists.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`.
    source, target
        Node ids.
    k
        Most routes to return.
    closed_passages
        Passages closed for every route (the others are closed on top of them).
    modes
        Edge modes a route may use, as in :func:`route_matrix`.
    min_difference
        Least Jaccard distance between the corridor of a new route and every corridor found
        so far, in (0, 1].

    Returns
    -------
    list of Route
        The shortest route first, then the alternatives by length.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> alts = gs.alternative_routes(G, "port:CNSHA", "port:NLRTM", k=3)
    >>> [sorted(r.corridor & {"malacca", "sunda", "suez", "panama"}) for r in alts]
    [['malacca', 'suez'], ['suez', 'sunda'], ['panama']]
    """
    if not 0.0 < min_difference <= 1.0:
        raise ValueError(f"min_difference must be in (0, 1], got {min_difference}")
    base = frozenset(closed_passages)
    first = shortest_path(G, source, target, closed_passages=base, modes=modes)
    found = [first]
    tried: set[frozenset[str]] = {base}
    frontier: list[tuple[frozenset[str], Route]] = [(base, first)]
    depth = 0
    while len(found) < k and frontier and depth < 6:
        depth += 1
        candidates: list[tuple[frozenset[str], Route]] = []
        for closure, route in frontier:
            for p in route.passages:
                trial = closure | {p}
                if trial in tried:
                    continue
                tried.add(trial)
                try:
                    alt = shortest_path(G, source, target, closed_passages=trial, modes=modes)
                except NoRouteError:
                    continue
                candidates.append((trial, alt))
        candidates.sort(key=lambda c: (c[1].length_km, tuple(sorted(c[0]))))
        for _, alt in candidates:
            if len(found) >= k:
                break
            if all(_difference(alt.corridor, f.corridor) >= min_difference for f in found):
                found.append(alt)
        frontier = candidates
    return [found[0], *sorted(found[1:], key=lambda r: r.length_km)]


def networkx_weight(
    G: nx.MultiDiGraph,
    source: Any,
    *,
    weight: str = "length_km",
    closed_passages: Iterable[str] = (),
    modes: Iterable[str] = DEFAULT_MODES,
) -> Callable[[Any, Any, dict[Any, dict[str, Any]]], float | None]:
    """A networkx weight function with geosource's routing rules, for checks and baselines.

    ``nx.single_source_dijkstra(G, s, weight=networkx_weight(G, s))`` gives the same answers as
    :func:`route_matrix`: closed passages and other modes are hidden, and end points
    (facilities, demand centres) other than ``source`` are never passed through.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`.
    source
        The node the search starts from (the only end point it may leave from).
    weight
        Edge attribute to minimise.
    closed_passages
        Passages whose edges are hidden.
    modes
        Edge modes a route may use.

    Returns
    -------
    callable
        ``w(u, v, data)`` for networkx: the least ``weight`` over the parallel edges that may
        be used, or ``None`` to hide the edge.

    Examples
    --------
    >>> import networkx as nx, geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> w = gs.networkx_weight(G, "port:CNSHA", closed_passages=["suez"])
    >>> km = nx.shortest_path_length(G, "port:CNSHA", "port:NLRTM", weight=w)
    >>> r = gs.shortest_path(G, "port:CNSHA", "port:NLRTM", closed_passages=["suez"])
    >>> abs(km - r.length_km) < 1e-6
    True
    """
    closed = frozenset(closed_passages)
    allowed = frozenset(modes)
    kind = nx.get_node_attributes(G, "kind")

    def w(u: Any, v: Any, data: dict[Any, dict[str, Any]]) -> float | None:
        if u != source and kind.get(u) in ENDPOINT_KINDS:
            return None
        best = None
        for attrs in data.values():
            if attrs.get("mode") not in allowed:
                continue
            ps = set((attrs.get("passage") or "").split(";")) - {""}
            if closed and (ps & closed or attrs.get("searoute_passage") in closed):
                continue
            value = float(attrs[weight])
            best = value if best is None else min(best, value)
        return best

    return w

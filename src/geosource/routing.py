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
import weakref
from collections import OrderedDict
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

from ._geodesy import WGS84, split_antimeridian
from .errors import NoRouteError

__all__ = [
    "ENDPOINT_KINDS",
    "EdgeCost",
    "Route",
    "RouteMatrix",
    "alternative_routes",
    "check_passages",
    "clear_routing_cache",
    "networkx_weight",
    "route_matrix",
    "routes_to_gdf",
    "shortest_path",
]

log = logging.getLogger(__name__)

#: Node kinds that a route may start or end at but never pass through.
ENDPOINT_KINDS = frozenset({"facility", "demand"})

#: Modes used unless a call says otherwise. Air is opt-in: only small, valuable products fly.
DEFAULT_MODES: tuple[str, ...] = ("sea", "land")


@dataclass(frozen=True)
class EdgeCost:
    """An edge weight built from each edge's mode, length and passages, for routing by cost,
    days or CO2e instead of kilometres.

    The weight of an edge is ``length_km * per_km[mode]``, plus ``port_call`` on each edge
    between a port and the sea lanes (so a sea leg pays two port calls: loading and
    unloading), plus ``airport_call`` on each land edge to or from an airport (two per flown
    leg), plus ``per_passage[p]`` once for each passage ``p`` a route enters (charged on the
    edge that enters the passage's edges from outside).

    Examples
    --------
    >>> EdgeCost("days", per_km=(("sea", 1 / 600), ("land", 1 / 500))).per_km_of("sea")
    0.0016666666666666668
    """

    name: str
    per_km: tuple[tuple[str, float], ...] = ()
    port_call: float = 0.0
    airport_call: float = 0.0
    per_passage: tuple[tuple[str, float], ...] = ()

    def per_km_of(self, mode: str) -> float:
        """The weight per km of ``mode`` (0 for a mode not listed)."""
        return dict(self.per_km).get(mode, 0.0)


#: What a route matrix may minimise: an edge attribute's name, or an :class:`EdgeCost`.
Weight = str | EdgeCost


# ---------------------------------------------------------------------------------------------
# the compiled engine


@dataclass
class _Masked:
    u: np.ndarray
    v: np.ndarray
    w: np.ndarray
    edge_of: dict[tuple[int, int], list[int]]
    """(a, b) of the compiled graph -> the original edges it stands for (several when a chain
    of degree-2 sea nodes was contracted into one edge)."""
    contracted: np.ndarray
    """Nodes folded into chain edges; a query that starts or ends at one uses ``full``."""
    full: _Masked | None = None
    info: dict[tuple[int, int], tuple[frozenset[str], dict[str, float]]] = field(
        default_factory=dict
    )


class _Engine:
    """A compiled copy of a route graph: edge arrays, and one CSR matrix per closure mask."""

    def __init__(self, G: nx.MultiDiGraph) -> None:
        self.signature = _signature(G)
        self.nodes: list[Any] = list(G.nodes)
        self.index = {n: i for i, n in enumerate(self.nodes)}
        n = len(self.nodes)
        kinds = [G.nodes[v].get("kind") for v in self.nodes]
        self.is_endpoint = np.array([k in ENDPOINT_KINDS for k in kinds])
        ends = np.flatnonzero(self.is_endpoint)
        self.in_index = np.arange(n)
        self.in_index[ends] = n + np.arange(len(ends))
        self.size = n + len(ends)
        self.node_of = np.concatenate([np.arange(n), ends])
        us, vs, keys, attrs = [], [], [], []
        for u, v, k, d in G.edges(keys=True, data=True):
            us.append(self.index[u])
            vs.append(self.index[v])
            keys.append((u, v, k))
            attrs.append(d)
        self.u = np.array(us, dtype=np.int64)
        self.v = np.array(vs, dtype=np.int64)
        self.v_in = self.in_index[self.v]
        self.keys = keys
        self.attrs = attrs
        self.mode = np.array([d.get("mode") for d in attrs])
        self.kind = np.array(kinds + [None] * len(ends))
        self.kind[n:] = self.kind[ends]
        self.passages = [frozenset((d.get("passage") or "").split(";")) - {""} for d in attrs]
        self.searoute = np.array([d.get("searoute_passage") or "" for d in attrs])
        self._weights: dict[Weight, np.ndarray] = {}
        self._entering: dict[str, np.ndarray] | None = None
        self._masks: OrderedDict[tuple[Any, ...], _Masked] = OrderedDict()
        self.matrices: OrderedDict[tuple[Any, ...], RouteMatrix] = OrderedDict()

    def weights(self, weight: Weight) -> np.ndarray:
        if weight not in self._weights:
            if isinstance(weight, EdgeCost):
                w = self._edge_cost(weight)
            else:
                w = np.array([d.get(weight, np.nan) for d in self.attrs], dtype=float)
                if np.isnan(w).any():
                    raise KeyError(f"some edges have no numeric {weight!r} attribute")
            self._weights[weight] = w
        return self._weights[weight]

    def _edge_cost(self, cost: EdgeCost) -> np.ndarray:
        km = self.weights("length_km")
        rate = dict(cost.per_km)
        w: np.ndarray = km * np.array([rate.get(str(m), 0.0) for m in self.mode], dtype=float)
        ku, kv = self.kind[self.u], self.kind[self.v]
        port_sea = ((ku == "port") & (kv == "sea")) | ((ku == "sea") & (kv == "port"))
        w = w + cost.port_call * port_sea
        air_gate = (self.mode == "land") & ((ku == "airport") | (kv == "airport"))
        w = w + cost.airport_call * air_gate
        entering = self.entering()
        for passage, value in cost.per_passage:
            if passage in entering:
                w = w + value * entering[passage]
        return w

    def entering(self) -> dict[str, np.ndarray]:
        """Per passage, the edges that enter it: in the passage, from a node with sea-lane
        edges outside it (each crossing of a passage enters it once)."""
        if self._entering is None:
            inside: dict[str, set[int]] = {}
            for e, ps in enumerate(self.passages):
                for p in ps:
                    inside.setdefault(p, set()).add(e)
            out: dict[str, np.ndarray] = {}
            for p, edges in inside.items():
                member = np.zeros(len(self.u), dtype=bool)
                member[list(edges)] = True
                # only sea lanes count: ports that call inside a canal do not split it
                lane = ~member & (self.kind[self.u] == "sea") & (self.kind[self.v] == "sea")
                outside = np.zeros(len(self.nodes), dtype=bool)
                outside[self.u[lane]] = True
                outside[self.v[lane]] = True
                out[p] = member & outside[self.u]
            self._entering = out
        return self._entering

    def masked(
        self,
        weight: Weight,
        closed_passages: frozenset[str],
        closed_nodes: frozenset[Any],
        modes: frozenset[str],
    ) -> _Masked:
        key = (weight, closed_passages, closed_nodes, modes)
        if key in self._masks:
            self._masks.move_to_end(key)
            return self._masks[key]
        w = self.weights(weight)
        keep = np.isin(self.mode, list(modes))
        if closed_passages:
            keep &= np.array([not (p & closed_passages) for p in self.passages])
            keep &= ~np.isin(self.searoute, list(closed_passages))
        if closed_nodes:
            bad = np.array([self.index[n] for n in closed_nodes if n in self.index])
            if len(bad):
                keep &= ~np.isin(self.u, bad) & ~np.isin(self.v, bad)
        idx = np.flatnonzero(keep)
        u, v, ww = self.u[idx], self.v_in[idx], w[idx]
        # parallel edges: keep the lightest (stable, so ties resolve the same way every run)
        order = np.lexsort((ww, v, u))
        u, v, ww, idx = u[order], v[order], ww[order], idx[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, ww, idx = u[first], v[first], ww[first], idx[first]
        full = _Masked(
            u,
            v,
            ww,
            {(a, b): [e] for a, b, e in zip(u.tolist(), v.tolist(), idx.tolist(), strict=True)},
            np.zeros(self.size, dtype=bool),
        )
        masked = self._contract(u, v, ww, idx)
        masked.full = full
        self._masks[key] = masked
        while len(self._masks) > 32:
            self._masks.popitem(last=False)
        return masked

    def _contract(self, u: np.ndarray, v: np.ndarray, w: np.ndarray, idx: np.ndarray) -> _Masked:
        """Replace chains of degree-2 sea nodes (polyline vertices of MARNET) by single edges.

        Same distances, a smaller graph for Dijkstra; the chains are expanded again when a route
        is built."""
        n = self.size
        is_sea = self.kind == "sea"
        out_deg = np.bincount(u, minlength=n)
        in_deg = np.bincount(v, minlength=n)
        anchor_nb = np.zeros(n, dtype=bool)
        anchor_nb[u[~is_sea[v]]] = True
        anchor_nb[v[~is_sea[u]]] = True
        cand = is_sea & (out_deg == 2) & (in_deg == 2) & ~anchor_nb
        out: dict[int, list[tuple[int, float, int]]] = {}
        for a, b, ww, e in zip(u.tolist(), v.tolist(), w.tolist(), idx.tolist(), strict=True):
            if cand[a]:
                out.setdefault(a, []).append((b, ww, e))
        for c, nbrs in out.items():  # only symmetric pass-through vertices are contracted
            if nbrs[0][0] == nbrs[1][0] or c in (nbrs[0][0], nbrs[1][0]):
                cand[c] = False
        keep = ~cand[u] & ~cand[v]
        chains_u, chains_v, chains_w, chains_e = [], [], [], []
        for a, b, ww, e in zip(u.tolist(), v.tolist(), w.tolist(), idx.tolist(), strict=True):
            if cand[a] or not cand[b]:
                continue
            edges, total, prev, cur = [e], ww, a, b
            while cand[cur]:
                step = next(x for x in out[cur] if x[0] != prev)
                edges.append(step[2])
                total += step[1]
                prev, cur = cur, step[0]
                if len(edges) > n:
                    break
            if cur != a:
                chains_u.append(a)
                chains_v.append(cur)
                chains_w.append(total)
                chains_e.append(edges)
        all_u = np.concatenate([u[keep], np.array(chains_u, dtype=np.int64)])
        all_v = np.concatenate([v[keep], np.array(chains_v, dtype=np.int64)])
        all_w = np.concatenate([w[keep], np.array(chains_w, dtype=float)])
        lists = [[e] for e in idx[keep].tolist()] + chains_e
        order = np.lexsort((all_w, all_v, all_u))
        all_u, all_v, all_w = all_u[order], all_v[order], all_w[order]
        first = np.ones(len(all_u), dtype=bool)
        first[1:] = (all_u[1:] != all_u[:-1]) | (all_v[1:] != all_v[:-1])
        picked = order[first]
        all_u, all_v, all_w = all_u[first], all_v[first], all_w[first]
        edge_of = {
            (a, b): lists[k]
            for a, b, k in zip(all_u.tolist(), all_v.tolist(), picked.tolist(), strict=True)
        }
        return _Masked(all_u, all_v, all_w, edge_of, cand)

    def query_graph(self, masked: _Masked, ends: np.ndarray, modes: frozenset[str]) -> csr_matrix:
        """The masked graph cut down to what a query can use: the sea lanes (and airports, when
        flying is allowed), the query's own end nodes, and the nodes next to them. Ports and end
        points nobody asked about are leaves that only slow Dijkstra down."""
        keep = self.kind == "sea"
        if "air" in modes:
            keep |= self.kind == "airport"
        keep[ends] = True
        near = np.isin(masked.u, ends)
        keep[masked.v[near]] = True
        near = np.isin(masked.v, ends)
        keep[masked.u[near]] = True
        # an end point next to a query end is a dead end unless asked for
        dead = np.zeros(self.size, dtype=bool)
        dead[: len(self.nodes)] = self.is_endpoint
        dead[len(self.nodes) :] = True
        dead[ends] = False
        keep &= ~dead
        e = keep[masked.u] & keep[masked.v]
        return csr_matrix((masked.w[e], (masked.u[e], masked.v[e])), shape=(self.size, self.size))


_ENGINES: weakref.WeakKeyDictionary[nx.MultiDiGraph, _Engine] = weakref.WeakKeyDictionary()


def _signature(G: nx.MultiDiGraph) -> tuple[int, int]:
    """Cheap change detector: node count and number of adjacent pairs."""
    return len(G), sum(map(len, G._succ.values()))


def clear_routing_cache(G: nx.MultiDiGraph) -> None:
    """Forget the compiled copy of ``G``.

    The engine notices nodes or edges added or removed; call this after changing edge attributes
    (such as ``length_km``) in place.
    """
    _ENGINES.pop(G, None)


def _engine(G: nx.MultiDiGraph) -> _Engine:
    eng = _ENGINES.get(G)
    if eng is None or eng.signature != _signature(G):
        eng = _Engine(G)
        _ENGINES[G] = eng
    return eng


# ---------------------------------------------------------------------------------------------
# routes


@dataclass(frozen=True)
class Route:
    """One route through the graph, with its legs and the passages it crosses.

    Attributes
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
    """One row per route: ends, total and per-mode km, passages, geometry (EPSG:4326)."""
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
    G: nx.MultiDiGraph, eng: _Engine, path: list[int], edges: list[int], closed: tuple[str, ...]
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
    is no route under the closures).
    """

    sources: list[Any]
    targets: list[Any]
    distances: np.ndarray
    closed_passages: tuple[str, ...]
    _graph: nx.MultiDiGraph = field(repr=False)
    _engine: _Engine = field(repr=False)
    _masked: _Masked = field(repr=False)
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
    eng = _engine(G)
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


def _closures(G: nx.MultiDiGraph, closed_passages: Iterable[str]) -> frozenset[str]:
    return frozenset(check_passages(G, closed_passages))


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

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> m = gs.route_matrix(G, ["port:CNSHA"], ["port:NLRTM"])
    >>> 19_000 < float(m.distances[0, 0]) < 21_000
    True
    """
    srcs = _check_nodes(G, sources, "source")
    tgts = _check_nodes(G, targets, "target")
    closed_nodes = frozenset(closed_nodes)
    modes = frozenset(modes)
    eng = _engine(G)
    closed = _closures(G, closed_passages)
    memo_key = (tuple(srcs), tuple(tgts), weight, closed, frozenset(closed_nodes), frozenset(modes))
    cached = eng.matrices.get(memo_key)
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

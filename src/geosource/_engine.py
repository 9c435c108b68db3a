"""The compiled routing engine: a route graph as edge arrays, masked per closure and weight,
contracted where the sea lanes are plain polylines, and searched with ``scipy.sparse.csgraph``.

A lower layer than :mod:`geosource.routing`, which is the public API over it (routes, matrices,
alternatives). Nothing here knows of layers, products or scenarios.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix

__all__ = [
    "ENDPOINT_KINDS",
    "EdgeCost",
    "Engine",
    "Masked",
    "Weight",
    "adopt",
    "engine_for",
    "forget",
    "peek",
]

#: Node kinds that a route may start or end at but never pass through.
ENDPOINT_KINDS = frozenset({"facility", "demand"})


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


@dataclass
class Masked:
    u: np.ndarray
    v: np.ndarray
    w: np.ndarray
    edge_of: dict[tuple[int, int], list[int]]
    """(a, b) of the compiled graph -> the original edges it stands for (several when a chain
    of degree-2 sea nodes was contracted into one edge)."""
    contracted: np.ndarray
    """Nodes folded into chain edges; a query that starts or ends at one uses ``full``."""
    full: Masked | None = None
    info: dict[tuple[int, int], tuple[frozenset[str], dict[str, float]]] = field(
        default_factory=dict
    )


class Engine:
    """A compiled copy of a route graph: edge arrays, and one CSR matrix per closure mask."""

    def masks(self) -> int:
        """How many closure masks are kept."""
        return len(self._masks)

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
        self._masks: OrderedDict[tuple[Any, ...], Masked] = OrderedDict()
        self.matrices: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        """Route matrices already computed on this graph (routing keeps them, newest last)."""

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
    ) -> Masked:
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
        full = Masked(
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

    def _contract(self, u: np.ndarray, v: np.ndarray, w: np.ndarray, idx: np.ndarray) -> Masked:
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
        return Masked(all_u, all_v, all_w, edge_of, cand)

    def query_graph(self, masked: Masked, ends: np.ndarray, modes: frozenset[str]) -> csr_matrix:
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


_ENGINES: weakref.WeakKeyDictionary[nx.MultiDiGraph, Engine] = weakref.WeakKeyDictionary()


def _signature(G: nx.MultiDiGraph) -> tuple[int, int]:
    """Cheap change detector: node count and number of adjacent pairs."""
    return len(G), sum(map(len, G._succ.values()))


def forget(G: nx.MultiDiGraph) -> None:
    """Drop the compiled copy of ``G`` (the next query compiles it again)."""
    _ENGINES.pop(G, None)


def peek(G: nx.MultiDiGraph) -> Engine | None:
    """The compiled copy of ``G`` if one exists and is current, without building one."""
    eng = _ENGINES.get(G)
    return eng if eng is not None and eng.signature == _signature(G) else None


def engine_for(G: nx.MultiDiGraph) -> Engine:
    """The compiled copy of ``G``: built on first use, rebuilt when nodes or edges change."""
    eng = _ENGINES.get(G)
    if eng is None or eng.signature != _signature(G):
        eng = Engine(G)
        _ENGINES[G] = eng
    return eng


def adopt(G: nx.MultiDiGraph, eng: Engine) -> bool:
    """Keep ``eng`` as the compiled copy of ``G`` (one stored and read back with it); False,
    and nothing kept, when it does not match ``G``."""
    if eng.signature != _signature(G) or len(eng.nodes) != len(G):
        return False
    _ENGINES[G] = eng
    return True

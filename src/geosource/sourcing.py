"""Sourcing paths: every feasible supply option for a mineral and a buyer, scored and ranked.

An option is a chain mine → processing plant → demand centre (or, for by-product minerals and
recycled material, plant → demand centre), with the land, sea and air legs between. All legs come
from a few batch route matrices, not from per-chain searches. Options that differ only in which
mine or plant of the same country they use, on the same corridor, are one *option*: the best
chain stands for it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .countries import normalize_country
from .errors import NoRouteError
from .exposure import (
    COMPONENTS,
    ExposureParams,
    chokepoint_exposure,
    control_exposure,
    country_shares,
    governance_risk,
    measures_in_force,
    relation,
)
from .layers import Layers
from .minerals import MINERALS, normalize_mineral
from .network import node_id
from .routing import route_matrix
from .scoring import Weights, exposure_score, score

__all__ = ["OPTION_COLUMNS", "sourcing_paths"]

log = logging.getLogger(__name__)

#: Columns of the frame :func:`sourcing_paths` returns, in order (geometry last).
OPTION_COLUMNS: tuple[str, ...] = (
    "query",
    "rank",
    "mineral",
    "buyer",
    "mine",
    "mine_id",
    "mine_country",
    "plant",
    "plant_id",
    "plant_country",
    "plant_stage",
    "demand",
    "demand_id",
    "distance_km",
    "sea_km",
    "land_km",
    "air_km",
    "passages",
    "exposure",
    *COMPONENTS,
    "score",
    "pareto",
    "reasons",
    *(f"{c}_reason" for c in COMPONENTS),
    "as_of",
    "chains",
    "geometry",
)

_ADVANCED = ("construction", "development")


def _layers_of(G: nx.MultiDiGraph, layers: Layers | None) -> Layers:
    if layers is not None:
        return layers
    found = G.graph.get("layers")
    if found is None:
        raise ValueError("the graph carries no layers; pass layers= (from gs.load_layers())")
    return found  # type: ignore[no-any-return]


def _buyer_centres(layers: Layers, to: str, mineral: str) -> tuple[str, pd.DataFrame]:
    dem = layers.demand_centres
    if to in set(dem["id"]):
        rows = dem[dem["id"] == to]
        return str(rows["country"].iloc[0]), rows
    try:
        iso3 = normalize_country(to)
    except ValueError as exc:
        raise ValueError(
            f"{exc} `to` takes a country (name, alpha-2 or alpha-3) or a demand-centre id "
            f"({', '.join(sorted(dem['id'])[:5])}, ...)"
        ) from None
    rows = dem[dem["country"] == iso3]
    if rows.empty:
        have = ", ".join(sorted(dem["country"].unique()))
        raise ValueError(
            f"no demand centre in {iso3}; countries with demand centres: {have}. "
            "Add your own with gs.read_layer(..., 'demand_centres')."
        )
    wants = rows["minerals"].fillna("all").map(lambda m: m == "all" or mineral in str(m).split(";"))
    if wants.any():
        rows = rows[wants]
    return iso3, rows


def _as_date(as_of: dt.date | str | None) -> dt.date:
    if as_of is None:
        return dt.date.today()
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise ValueError(f"as_of {as_of!r} is not a date of the form YYYY-MM-DD") from None


def sourcing_paths(
    G: nx.MultiDiGraph,
    mineral: str | Iterable[str],
    to: str | Iterable[str],
    k: int | None = 5,
    *,
    as_of: dt.date | str | None = None,
    weights: Weights | dict[str, float] | None = None,
    params: ExposureParams | None = None,
    include_development: bool = False,
    closed_passages: Iterable[str] = (),
    closed_nodes: Iterable[Any] = (),
    layers: Layers | None = None,
) -> gpd.GeoDataFrame:
    """Ranked supply options of a mineral for a buyer, each explaining itself.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers` (it carries the layers it was built from).
    mineral
        ``lithium``, ``rare_earths``, ``graphite``, ``gallium``, ``germanium`` (or an alias), or
        a list of them.
    to
        The buyer: a country (``"IND"``, ``"India"``) or a demand-centre id (``"ind-chennai"``),
        or a list of buyers. Lists are answered in one batch (shared route matrices); each
        mineral × buyer is ranked on its own and named in the ``query`` column.
    k
        How many distinct options to return per mineral and buyer (``None``: all).
    as_of
        Date for export controls (default: today). The same query on different dates differs
        exactly as the export-control layer says.
    weights
        :class:`~geosource.scoring.Weights` or a dict of them (unknown keys rejected).
    params
        :class:`~geosource.exposure.ExposureParams` (alignment values, measure severities).
    include_development
        Also consider mines and plants under construction or in development.
    closed_passages, closed_nodes
        Closures answered by the routing engine's masks (no graph rebuild).
    layers
        Override the layers the graph carries.

    Returns
    -------
    GeoDataFrame
        One row per option (columns in :data:`OPTION_COLUMNS`), best first within each query;
        ``pareto`` marks the options no other option of the same query beats on both distance
        and exposure. ``attrs`` holds the weights, parameters, date, and option counts.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> paths = gs.sourcing_paths(G, "lithium", "IND", k=3, as_of="2025-06-30")
    >>> list(paths["rank"])
    [1, 2, 3]
    >>> bool(((paths["exposure"] >= 0) & (paths["exposure"] <= 1)).all())
    True
    """
    lay = _layers_of(G, layers)
    day = _as_date(as_of)
    w = weights if isinstance(weights, Weights) else Weights.from_dict(weights or {})
    p = params or ExposureParams()
    if k is not None and k < 1:
        raise ValueError(f"k must be a positive number of options or None, got {k}")
    minerals = [mineral] if isinstance(mineral, str) else list(mineral)
    buyers = [to] if isinstance(to, str) else list(to)
    if not minerals or not buyers:
        raise ValueError("give at least one mineral and one buyer")
    closed = tuple(sorted(set(closed_passages)))
    blocked = frozenset(closed_nodes)
    parts = []
    counts: dict[str, dict[str, int]] = {}
    for m in minerals:
        mid = normalize_mineral(m)
        queries = [(b, *_buyer_centres(lay, b, mid)) for b in buyers]
        chains, context = _chains(
            G, lay, mid, queries, day, w, p, include_development, closed, blocked
        )
        picked, n_options = _select(chains, k)
        for q, n in n_options.items():
            counts.setdefault(mid, {})[q] = n
        parts.append(_finish(picked, context, mid, day))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    out = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
    out.attrs = {
        "minerals": [normalize_mineral(m) for m in minerals],
        "buyers": buyers,
        "as_of": day.isoformat(),
        "weights": w.to_dict(),
        "params": {
            "alignment": dict(p.alignment),
            "severity": dict(p.severity),
            "scope": dict(p.scope),
            "unknown": p.unknown,
        },
        "closed_passages": list(closed),
        "options": counts,
    }
    return out


def _chains(
    G: nx.MultiDiGraph,
    lay: Layers,
    mid: str,
    queries: list[tuple[str, str, pd.DataFrame]],
    day: dt.date,
    w: Weights,
    p: ExposureParams,
    include_development: bool,
    closed: tuple[str, ...],
    blocked: frozenset[Any],
) -> tuple[pd.DataFrame, _Context]:
    """Every feasible chain for every query, scored, and what is needed to draw them."""
    reg = MINERALS[mid]
    fac = lay.facilities[lay.facilities["mineral"] == mid]
    status = ("operating", *(_ADVANCED if include_development else ()))
    fac = fac[fac["status"].isin(status)].sort_values("id")
    fac = fac[~fac["id"].isin(blocked_ids(blocked))]
    offline = (
        set(fac.loc[fac["offline"].fillna(False).astype(bool), "id"])
        if "offline" in fac.columns
        else set()
    )
    mines = sorted(fac.loc[fac["stage"] == "mining", "id"])
    plants = sorted(fac.loc[fac["stage"].isin(reg.processing), "id"])
    recyclers = sorted(fac.loc[fac["stage"] == "recycling", "id"])
    alone = sorted(set(recyclers) | (set(plants) if reg.byproduct else set()))
    if not plants and not alone:
        raise NoRouteError(f"no {'/'.join(status)} processing plant for {mid} in the layers")
    demand_all = sorted(lay.demand_centres["id"])
    fac_node = {i: node_id("facility", i) for i in (*mines, *plants, *alone)}
    leg1 = (
        route_matrix(
            G,
            [fac_node[m] for m in mines],
            [fac_node[x] for x in plants],
            closed_passages=closed,
            closed_nodes=blocked,
            modes=reg.modes.get("mining", ("sea", "land")),
        )
        if mines and plants
        else None
    )
    product_modes = tuple(
        sorted(
            {m for s in (*reg.processing, "recycling") for m in reg.modes.get(s, ("sea", "land"))}
        )
    )
    sources = sorted(set(plants) | set(alone))
    leg2 = route_matrix(
        G,
        [fac_node[x] for x in sources],
        [node_id("demand", d) for d in demand_all],
        closed_passages=closed,
        closed_nodes=blocked,
        modes=product_modes,
    )
    d_pos = {d: i for i, d in enumerate(demand_all)}
    s_pos = {x: i for i, x in enumerate(sources)}
    info = _Lookup(lay.facilities, "id", ("country", "stage", "name"))
    dem_country = dict(zip(lay.demand_centres["id"], lay.demand_centres["country"], strict=True))
    measures = measures_in_force(lay, day)
    risk = dict(zip(lay.chokepoints["id"], lay.chokepoints["risk"], strict=True))
    shares = (country_shares(lay, mid, "mining"), country_shares(lay, mid, "refining"))
    port_country = nx.get_node_attributes(G, "country")

    leg_cache: dict[tuple[str, str], tuple[frozenset[str], dict[str, float], list[Any]]] = {}

    def leg(matrix: Any, a: str, b: str) -> tuple[frozenset[str], dict[str, float], list[Any]]:
        key = (a, b)
        hit = leg_cache.get(key)
        if hit is None:
            hit = leg_cache[key] = matrix.summary(a, b)
        return hit

    scorer = _Scorer(lay, mid, measures, risk, shares, p)
    rows: list[dict[str, Any]] = []
    for query, buyer, centres in queries:
        centre_ids = sorted(centres["id"])
        firsts: list[tuple[str | None, str, float]] = []
        if leg1 is not None:
            for i, m in enumerate(mines):
                for j, pl in enumerate(plants):
                    km1 = leg1.distances[i, j]
                    if np.isfinite(km1):
                        firsts.append((m, pl, float(km1)))
        firsts.extend((None, pl, 0.0) for pl in alone)
        for m, pl, km1 in firsts:
            if pl in offline or m in offline:
                continue
            srow = s_pos[pl]
            for d in centre_ids:
                km2 = leg2.distances[srow, d_pos[d]]
                if not np.isfinite(km2):
                    continue
                legs = [leg(leg2, fac_node[pl], node_id("demand", d))]
                if m is not None and leg1 is not None:
                    legs.insert(0, leg(leg1, fac_node[m], fac_node[pl]))
                passages: frozenset[str] = frozenset().union(*(x[0] for x in legs))
                mine_c = info.country[m] if m is not None else info.country[pl]
                plant_c = info.country[pl]
                stage = info.stage[pl]
                countries = tuple(
                    sorted(
                        {
                            c
                            for c in (
                                mine_c,
                                plant_c,
                                dem_country[d],
                                *(port_country.get(n) for x in legs for n in x[2]),
                            )
                            if isinstance(c, str)
                        }
                    )
                )
                comp = scorer.components(
                    buyer, m is None, mine_c, plant_c, stage, countries, passages
                )
                rows.append(
                    {
                        "query": query,
                        "buyer": buyer,
                        "mine_id": m,
                        "plant_id": pl,
                        "demand_id": d,
                        "mine_country": mine_c,
                        "plant_country": plant_c,
                        "plant_stage": stage,
                        "distance_km": km1 + float(km2),
                        "sea_km": sum(x[1].get("sea", 0.0) for x in legs),
                        "land_km": sum(x[1].get("land", 0.0) for x in legs),
                        "air_km": sum(x[1].get("air", 0.0) for x in legs),
                        "corridor": ";".join(sorted(passages)),
                        **comp,
                    }
                )
    if not rows:
        raise NoRouteError(
            f"no route for any {mid} option to {', '.join(q[0] for q in queries)}"
            + (f" with passages closed: {', '.join(closed)}" if closed else "")
        )
    frame = pd.DataFrame(rows)
    frame["exposure"] = exposure_score(frame, w)
    frame["score"] = score(frame["distance_km"], frame["exposure"], w)
    context = _Context(
        leg1,
        leg2,
        info.name,
        dict(zip(lay.demand_centres["id"], lay.demand_centres["name"], strict=True)),
    )
    return frame, context


def _select(frame: pd.DataFrame, k: int | None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Per query: one option per (source country, processing country, corridor), ranked; the
    Pareto front over those options; the best ``k``. Vectorised over all queries at once."""
    order = ["query", "score", "distance_km", "mine_id", "plant_id", "demand_id"]
    frame = frame.sort_values(order, kind="mergesort", na_position="first")
    group = ["query", "mine_country", "plant_country", "corridor"]
    chains = frame.groupby(group, sort=False)["score"].transform("size")
    best = frame.assign(chains=chains).drop_duplicates(group, keep="first")
    best = best.reset_index(drop=True)
    best["pareto"] = _pareto_by_query(best)
    best["rank"] = best.groupby("query", sort=False).cumcount().to_numpy() + 1
    counts = {str(q): int(n) for q, n in best.groupby("query", sort=False).size().items()}
    if k is not None:
        best = best[best["rank"] <= k]
    return best.reset_index(drop=True), counts


def _pareto_by_query(frame: pd.DataFrame) -> np.ndarray:
    """``pareto_front`` for every query at once: sort by (query, distance, exposure); a row is
    efficient when its exposure is below every earlier row's in its query (exact ties of an
    efficient row are efficient too)."""
    order = np.lexsort(
        (frame["exposure"].to_numpy(), frame["distance_km"].to_numpy(), frame["query"].to_numpy())
    )
    q = frame["query"].to_numpy()[order]
    x = frame["distance_km"].to_numpy(dtype=float)[order]
    y = frame["exposure"].to_numpy(dtype=float)[order]
    efficient = np.zeros(len(order), dtype=bool)
    best_y, last = np.inf, None
    prev_q: object = None
    for i in range(len(order)):
        if q[i] != prev_q:
            best_y, last, prev_q = np.inf, None, q[i]
        if y[i] < best_y:
            efficient[i] = True
            best_y, last = y[i], (x[i], y[i])
        elif last == (x[i], y[i]):
            efficient[i] = True
    out = np.zeros(len(order), dtype=bool)
    out[order] = efficient
    return out


@dataclass(frozen=True)
class _Context:
    leg1: Any
    leg2: Any
    facility_names: dict[str, str]
    demand_names: dict[str, str]


class _Lookup:
    """Plain dicts of a few columns keyed by id: row lookups without pandas overhead."""

    def __init__(self, frame: pd.DataFrame, key: str, columns: tuple[str, ...]) -> None:
        keys = frame[key].tolist()
        for col in columns:
            setattr(self, col, dict(zip(keys, frame[col].tolist(), strict=True)))

    country: dict[str, str]
    stage: dict[str, str]
    name: dict[str, str]


def blocked_ids(nodes: frozenset[Any]) -> set[str]:
    """Facility ids among closed node ids."""
    return {str(n).split(":", 1)[1] for n in nodes if str(n).startswith("facility:")}


class _Scorer:
    """Exposure components, each cached on the inputs it depends on."""

    def __init__(
        self,
        lay: Layers,
        mineral: str,
        measures: Any,
        risk: dict[str, float],
        shares: tuple[tuple[pd.Series, str], tuple[pd.Series, str]],
        p: ExposureParams,
    ) -> None:
        self.lay, self.mineral, self.measures, self.risk, self.p = lay, mineral, measures, risk, p
        (self.shares_mine, self.basis_mine), (self.shares_plant, self.basis_plant) = shares
        self._country: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._align: dict[tuple[Any, ...], tuple[float, str]] = {}
        self._choke: dict[frozenset[str], tuple[float, str]] = {}

    def components(
        self,
        buyer: str,
        plant_only: bool,
        mine_c: str,
        plant_c: str,
        plant_stage: str,
        path_countries: tuple[str, ...],
        passages: frozenset[str],
    ) -> dict[str, Any]:
        key = (buyer, plant_only, mine_c, plant_c, plant_stage)
        base = self._country.get(key)
        if base is None:
            base = self._country[key] = self._by_country(*key)
        akey = (buyer, path_countries)
        align = self._align.get(akey)
        if align is None:
            align = self._align[akey] = self._alignment(buyer, path_countries)
        choke = self._choke.get(passages)
        if choke is None:
            choke = self._choke[passages] = chokepoint_exposure(passages, self.risk)
        return {
            **base,
            "alignment": align[0],
            "alignment_reason": align[1],
            "chokepoints": choke[0],
            "chokepoints_reason": choke[1],
        }

    def _by_country(
        self, buyer: str, plant_only: bool, mine_c: str, plant_c: str, plant_stage: str
    ) -> dict[str, Any]:
        p = self.p
        out: dict[str, Any] = {}
        parts = (
            [] if plant_only else [self._share(self.shares_mine, self.basis_mine, mine_c, "mining")]
        )
        parts.append(self._share(self.shares_plant, self.basis_plant, plant_c, "refining"))
        out["concentration"] = float(np.mean([v for v, _ in parts]))
        out["concentration_reason"] = "; ".join(why for _, why in parts)
        gov = [governance_risk(self.lay, c, p) for c in dict.fromkeys([mine_c, plant_c])]
        out["governance"] = float(np.mean([g[0] for g in gov]))
        out["governance_reason"] = "; ".join(g[1] for g in gov)
        stage = "refining" if plant_stage == "recycling" else plant_stage
        flows = [(plant_c, self.mineral, stage, buyer)]
        if not plant_only:
            flows.insert(0, (mine_c, self.mineral, "mining", plant_c))
        value, text = control_exposure(self.measures, flows, p)
        out["export_controls"] = value
        out["export_controls_reason"] = text
        return out

    def _share(self, shares: pd.Series, basis: str, country: str, stage: str) -> tuple[float, str]:
        """A country's share of world output at a stage, or the unknown value, with why."""
        if shares.empty:
            return self.p.unknown, f"{stage}: no production figures (set to {self.p.unknown:g})"
        value = float(shares.get(country, 0.0))
        return value, f"{country} {value:.0%} of {stage} ({basis})"

    def _alignment(self, buyer: str, countries: tuple[str, ...]) -> tuple[float, str]:
        """The weakest link among the countries on the path."""
        rel = [
            (self.p.alignment[r], c, r, text)
            for c in countries
            for r, text in [relation(self.lay, buyer, c)]
        ]
        rel.sort(key=lambda x: (-x[0], x[1]))
        value = float(rel[0][0]) if rel else 0.0
        return value, "; ".join(f"{t} ({r})" for _, _, r, t in rel[:3])


def _finish(ranked: pd.DataFrame, context: _Context, mineral: str, day: dt.date) -> pd.DataFrame:
    leg1, leg2 = context.leg1, context.leg2
    fac_name, dem_name = context.facility_names, context.demand_names
    geoms = []
    for m, pl, d in zip(ranked["mine_id"], ranked["plant_id"], ranked["demand_id"], strict=True):
        lines: list[Any] = []
        if isinstance(m, str) and leg1 is not None:
            lines.extend(leg1.route(node_id("facility", m), node_id("facility", pl)).geometry.geoms)
        lines.extend(leg2.route(node_id("facility", pl), node_id("demand", d)).geometry.geoms)
        geoms.append(shapely.MultiLineString(lines))
    mine_ids = [m if isinstance(m, str) else None for m in ranked["mine_id"]]
    out = pd.DataFrame(
        {
            "query": ranked["query"].to_numpy(),
            "rank": ranked["rank"].to_numpy(),
            "mineral": mineral,
            "buyer": ranked["buyer"].to_numpy(),
            "mine": [fac_name[m] if m else None for m in mine_ids],
            "mine_id": mine_ids,
            "mine_country": ranked["mine_country"].to_numpy(),
            "plant": [fac_name[pl] for pl in ranked["plant_id"]],
            "plant_id": ranked["plant_id"].to_numpy(),
            "plant_country": ranked["plant_country"].to_numpy(),
            "plant_stage": ranked["plant_stage"].to_numpy(),
            "demand": [dem_name[d] for d in ranked["demand_id"]],
            "demand_id": ranked["demand_id"].to_numpy(),
            "distance_km": ranked["distance_km"].to_numpy(),
            "sea_km": ranked["sea_km"].to_numpy(),
            "land_km": ranked["land_km"].to_numpy(),
            "air_km": ranked["air_km"].to_numpy(),
            "passages": ranked["corridor"].to_numpy(),
        }
    )
    out["exposure"] = ranked["exposure"].to_numpy()
    for c in COMPONENTS:
        out[c] = ranked[c].to_numpy()
    out["score"] = ranked["score"].to_numpy()
    out["pareto"] = ranked["pareto"].to_numpy()
    records = ranked.to_dict("records")
    for r, m in zip(records, mine_ids, strict=True):
        r["mine_id"] = m
    out["reasons"] = [_reasons({str(k): v for k, v in r.items()}) for r in records]
    for c in COMPONENTS:
        out[f"{c}_reason"] = ranked[f"{c}_reason"].to_numpy()
    out["as_of"] = day.isoformat()
    out["chains"] = ranked["chains"].to_numpy()
    result: pd.DataFrame = gpd.GeoDataFrame(out, geometry=geoms, crs="EPSG:4326")
    return result


def _reasons(r: dict[str, Any]) -> str:
    """A short readable list: where it is mined and processed, what binds it, what it crosses."""
    bits = []
    if not isinstance(r["mine_id"], str):
        bits.append(
            f"{'recycled' if r['plant_stage'] == 'recycling' else 'recovered'} in "
            f"{r['plant_country']}"
        )
    else:
        bits.append(f"mined in {r['mine_country']}, processed in {r['plant_country']}")
    bits.append(f"{r['distance_km']:,.0f} km")
    if r["export_controls"] > 0:
        bits.append("export controls: " + r["export_controls_reason"].split(";")[0])
    bits.append(f"alignment: {r['alignment_reason'].split(';')[0]}")
    if r["corridor"]:
        bits.append("crosses " + r["corridor"].replace(";", ", "))
    return "; ".join(bits)

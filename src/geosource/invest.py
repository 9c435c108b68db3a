"""Diversification value of candidate mines and plants: which project should partners co-invest in?

:func:`project_value` brings each candidate facility online (status ``operating``) at its stated
capacity, re-runs :func:`geosource.allocate_world` under the baseline and each scenario, and
reports what it changes for the buyers, one by one and together:

- Δ unmet demand (reference content: t REO, t LCE ...),
- Δ supply concentration: top country's share and HHI of the buyers' supply by the country of the
  last plant, and the FEOC share (supply whose chain touches a covered nation),
- Δ landed freight (USD a year: flows' tonnes x ``cost_usd_per_t``),
- the facilities it displaces (cut back or cut off, from :func:`geosource.compare_allocations`),
- for every facility of the candidate, how much of its capacity is used and which stage binds
  when it is not full (its own capacity, processing downstream, or the market).

Candidates are ranked by ``value`` (per scenario, for the buyers together, summed over
scenarios)::

    value = Σ_s  w.unmet · (unmet_base - unmet_with) / demand
               + w.hhi   · (HHI_base - HHI_with)
               + w.feoc  · (FEOC_base - FEOC_with)
               + w.cost  · (freight_per_t_base - freight_per_t_with) / freight_per_t_base

with the weights of :class:`ValueWeights` (default ``unmet=1, hhi=0.25, feoc=0.25,
cost=0.05``). A share of demand met is worth more than a point of concentration; freight
per tonne is a tie-breaker. A term whose figure is undefined (no supply before or after) counts 0.

The balancing capacity (:func:`geosource.world.unlisted_capacity`: national output the listed
facilities do not account for) is that of the baseline in every run: a project that comes online
adds to today's output instead of replacing part of it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from .chains import as_date, facility_capacity, layers_of
from .countries import iso3_or_none, normalize_country
from .layers import Layers
from .minerals import PRODUCTS, normalize_mineral
from .network import graph_from_layers
from .sweeps import map_tasks
from .world import FEOC, WorldAllocation, allocate_world, compare_allocations, with_unlisted

__all__ = [
    "CANDIDATE_GROUPS",
    "CANDIDATE_STATUSES",
    "ProjectValue",
    "ValueWeights",
    "project_value",
]

#: Statuses of a facility that could be brought online.
CANDIDATE_STATUSES: tuple[str, ...] = ("deposit", "development", "construction")

#: Named groups of candidates: the candidate facilities of the mineral located in these countries.
CANDIDATE_GROUPS: dict[str, frozenset[str]] = {
    "africa": frozenset(
        [
            "DZA",
            "AGO",
            "BEN",
            "BWA",
            "BFA",
            "BDI",
            "CPV",
            "CMR",
            "CAF",
            "TCD",
            "COM",
            "COD",
            "COG",
            "CIV",
            "DJI",
            "EGY",
            "GNQ",
            "ERI",
            "SWZ",
            "ETH",
            "GAB",
            "GMB",
            "GHA",
            "GIN",
            "GNB",
            "KEN",
            "LSO",
            "LBR",
            "LBY",
            "MDG",
            "MWI",
            "MLI",
            "MRT",
            "MUS",
            "MAR",
            "MOZ",
            "NAM",
            "NER",
            "NGA",
            "RWA",
            "STP",
            "SEN",
            "SYC",
            "SLE",
            "SOM",
            "ZAF",
            "SSD",
            "SDN",
            "TZA",
            "TGO",
            "TUN",
            "UGA",
            "ZMB",
            "ZWE",
            "ESH",
        ]
    ),
    "south_america": frozenset(
        ["ARG", "BOL", "BRA", "CHL", "COL", "ECU", "GUY", "PRY", "PER", "SUR", "URY", "VEN", "GUF"]
    ),
}

#: Capacity units counted in each mineral's reference content (what ``capacity=`` is given in).
_REF_UNIT: dict[str, str] = {
    "lithium": "t/y LCE",
    "rare_earths": "t/y REO",
    "gallium": "t/y Ga",
    "germanium": "t/y Ge",
}
#: A facility at this share of its capacity or more is full.
_FULL = 0.999
_TOL = 1e-6


@dataclass(frozen=True)
class ValueWeights:
    """Weights of the ranking objective of :func:`project_value` (non-negative numbers).

    ``value`` sums, per scenario, each term's gain times its weight (see the module's
    documentation); a weight that is negative, not finite or not a number raises
    ``ValueError``.

    Parameters
    ----------
    unmet
        Weight of the fall in the buyers' unmet demand, as a share of their demand.
    hhi
        Weight of the fall in the HHI of the buyers' supplier countries.
    feoc
        Weight of the fall in the share of supply whose chain touches a FEOC covered nation.
    cost
        Weight of the fall in landed freight per tonne, relative to the baseline's.

    Examples
    --------
    >>> ValueWeights()
    ValueWeights(unmet=1.0, hhi=0.25, feoc=0.25, cost=0.05)
    >>> ValueWeights.from_dict({"hhi": 1})
    ValueWeights(unmet=1.0, hhi=1.0, feoc=0.25, cost=0.05)
    """

    unmet: float = 1.0
    hhi: float = 0.25
    feoc: float = 0.25
    cost: float = 0.05

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"weights: {f.name} must be a finite number, got {v!r}")
            if v < 0:
                raise ValueError(f"weights: {f.name} must be 0 or more, got {v!r}")
            object.__setattr__(self, f.name, float(v))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValueWeights:
        """Weights from a mapping; unknown keys are refused."""
        known = {f.name for f in fields(cls)}
        bad = sorted(set(data) - known)
        if bad:
            raise ValueError(
                f"weights: unknown key(s) {', '.join(map(repr, bad))}; "
                f"use {', '.join(sorted(known))}"
            )
        return cls(**dict(data))


@dataclass
class ProjectValue:
    """The result of :func:`project_value`.

    Parameters
    ----------
    mineral, products
        The mineral id and the final products allocated.
    buyers
        The buyers whose exposure counts (ISO3 or ``EU``).
    scenarios
        The scenario names, ``baseline`` for ``None``.
    as_of
        The date for export controls, ISO format.
    weights
        The :class:`ValueWeights` the ranking used.
    ranking
        One row per candidate, best first: ``value`` and its four weighted terms, per scenario
        the buyers' Δ unmet, and ``reason`` in plain words.
    deltas
        One row per candidate, scenario and buyer (each buyer, and the buyers together as
        ``IND+USA``): every figure before (``_base``) and with the candidate (``_with``) and
        their difference (``delta_``).
    displaced
        Facilities the candidate cuts back or cuts off, per scenario (content tonnes).
    processing
        Per candidate facility and scenario: capacity, use, and which stage binds.
    base, after
        The world allocations behind every figure: the baseline of each scenario, and each
        candidate's (keyed ``(candidate, scenario)``).

    Examples
    --------
    :func:`project_value` makes one (its example reads one); the fields, in order:

    >>> import dataclasses
    >>> [f.name for f in dataclasses.fields(ProjectValue)][6:]
    ['ranking', 'deltas', 'displaced', 'processing', 'base', 'after']
    """

    mineral: str
    products: tuple[str, ...]
    buyers: tuple[str, ...]
    scenarios: tuple[str, ...]
    as_of: str
    weights: ValueWeights
    ranking: pd.DataFrame
    deltas: pd.DataFrame
    displaced: pd.DataFrame
    processing: pd.DataFrame
    base: dict[str, WorldAllocation] = field(repr=False)
    after: dict[tuple[str, str], WorldAllocation] = field(repr=False)


@dataclass(frozen=True)
class _Candidate:
    name: str
    ids: tuple[str, ...]
    rows: pd.DataFrame | None  # the user's own facility rows (None: bundled ids only)
    skip: str  # why it cannot be valued ("" when it can)


# ---------------------------------------------------------------------------------------------
# the entry point


def project_value(  # noqa: PLR0913 (public entry point: keyword-only options)
    G: nx.MultiDiGraph,
    candidates: str | pd.DataFrame | Sequence[Any],
    buyers: Sequence[str] = ("IND", "USA"),
    *,
    mineral: str,
    product: str | None = None,
    scenarios: Sequence[Any] = (None, "china-ree-export-ban"),
    as_of: dt.date | str | None = None,
    capacity: Mapping[str, float] | None = None,
    weights: ValueWeights | Mapping[str, float] | None = None,
    executor: str = "serial",
    layers: Layers | None = None,
) -> ProjectValue:
    """Rank candidate mines and plants by what bringing each online does for the buyers.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`.
    candidates
        A candidate or a list of them. A candidate is a bundled facility id whose status is
        deposit, development or construction; ids joined by ``+`` (a mine and the plant that
        would process its output, valued together); a group name (``"africa"``,
        ``"south_america"``: each candidate facility of the mineral there, one by one); a
        DataFrame of your own facility rows (the facilities-layer columns, with ``capacity``,
        ``capacity_unit``, ``inputs`` and ``outputs``), valued together; or a tuple of ids and
        DataFrames valued together.
    buyers
        Buyers of the demand layer whose exposure counts.
    mineral, product
        As in :func:`geosource.allocate_world`.
    scenarios
        ``None`` (the baseline) and scenario names or objects; each is a world allocation.
    as_of
        Date for export controls (default: today).
    capacity
        ``{facility id: capacity}`` in the mineral's reference content a year (t LCE, t REO, t
        Ga, t Ge), for candidates whose layer capacity is unknown or to test another size.
    weights
        :class:`ValueWeights` or a mapping of its fields.
    executor
        ``"serial"`` or ``"dask"`` (a local cluster, as :func:`geosource.monte_carlo`);
        the results are identical.
    layers
        Override the layers the graph carries.

    Returns
    -------
    ProjectValue
        The ranking, best first, with every figure and world allocation behind it.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> v = gs.project_value(G, ["ree-ngualla"], mineral="rare_earths", as_of="2026-12-03")
    >>> list(v.ranking["candidate"])
    ['ree-ngualla']
    >>> v.scenarios, list(v.base)
    (('baseline', 'china-ree-export-ban'), ['baseline', 'china-ree-export-ban'])
    >>> v.processing[["scenario", "binds"]].values.tolist()  # under a ban, separation binds
    [['baseline', 'own capacity'], ['china-ree-export-ban', 'processing']]
    """
    mid = normalize_mineral(mineral)
    if layers is not None:
        G = G.copy()
        G.graph["layers"] = layers
    lay0 = layers_of(G)
    w = weights if isinstance(weights, ValueWeights) else ValueWeights.from_dict(weights or {})
    who = tuple(_buyer_code(b) for b in buyers)
    if not who:
        raise ValueError("buyers: give at least one buyer (e.g. IND,USA)")
    caps = _check_capacity(capacity, mid)
    cands = _resolve(lay0, mid, candidates, caps)
    year = as_date(as_of).year if as_of is not None else dt.date.today().year
    labels = [_label(s) for s in scenarios]
    if not labels or len(set(labels)) != len(labels):
        raise ValueError(f"scenarios: give distinct scenarios, got {labels}")
    base: dict[str, WorldAllocation] = {}
    for lab, s in zip(labels, scenarios, strict=True):
        base[lab] = allocate_world(G, mid, product, as_of=as_of, scenario=s)
    first = base[labels[0]]
    missing = [b for b in who if b not in set(first.buyers["buyer"])]
    if missing:
        raise ValueError(
            f"buyers: {', '.join(missing)} not in the {mid} demand rows "
            f"(buyers: {', '.join(first.buyers['buyer'])})"
        )
    Gu = with_unlisted(G, mid, year=year)
    runnable = [c for c in cands if not c.skip]
    # the allocation before any candidate: what pro-rata rationing under a scenario keeps
    # shares of, the same with and without each candidate
    before = next(
        (base[lab] for lab, s in zip(labels, scenarios, strict=True) if s is None),
        None,
    ) or allocate_world(G, mid, product, as_of=as_of)
    reference = before.buyers.set_index("buyer")["supplied"].to_dict()
    args = (
        mid,
        first.products,
        as_of,
        tuple(zip(labels, scenarios, strict=True)),
        caps,
        lay0,
        year,
        who,
        reference,
    )
    results = map_tasks(_evaluate, runnable, Gu, layers_of(Gu), args, executor)
    after: dict[tuple[str, str], WorldAllocation] = {}
    proc: list[pd.DataFrame] = []
    for cand, (allocs, table) in zip(runnable, results, strict=True):
        for lab in labels:
            after[(cand.name, lab)] = allocs[lab]
        proc.append(table)
    deltas, displaced = _deltas(cands, labels, base, after, who)
    processing = pd.concat(proc, ignore_index=True) if proc else pd.DataFrame(columns=_PROC)
    ranking = _ranking(cands, labels, who, deltas, processing, w, first.unit)
    return ProjectValue(
        mineral=mid,
        products=first.products,
        buyers=who,
        scenarios=tuple(labels),
        as_of=first.as_of,
        weights=w,
        ranking=ranking,
        deltas=deltas,
        displaced=displaced,
        processing=processing,
        base=base,
        after=after,
    )


def _label(scenario: Any) -> str:
    if scenario is None:
        return "baseline"
    if isinstance(scenario, str):
        return scenario
    return str(getattr(scenario, "name", scenario))


def _buyer_code(value: str) -> str:
    if str(value).strip().upper() in {"EU", "ROW"}:
        return str(value).strip().upper()
    return normalize_country(value)


def _check_capacity(capacity: Mapping[str, float] | None, mid: str) -> dict[str, float]:
    if not capacity:
        return {}
    if mid not in _REF_UNIT:
        raise ValueError(
            f"capacity=: {mid} has no single reference content; set the capacity in your "
            "facility rows instead"
        )
    out = {}
    for fid, v in capacity.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0 or v == math.inf:
            raise ValueError(
                f"capacity=: {fid!r} must be a positive number of {_REF_UNIT[mid]}, got {v!r}"
            )
        out[str(fid)] = float(v)
    return out


# ---------------------------------------------------------------------------------------------
# candidates


def _resolve(lay: Layers, mid: str, candidates: Any, caps: Mapping[str, float]) -> list[_Candidate]:
    items = [candidates] if isinstance(candidates, str | pd.DataFrame) else list(candidates)
    if not items:
        raise ValueError("candidates: give at least one facility id, group or facility rows")
    fac = lay.facilities.set_index("id", drop=False)
    out: list[_Candidate] = []
    for item in items:
        if isinstance(item, str) and item.strip().lower() in CANDIDATE_GROUPS:
            out.extend(_group(lay, mid, item.strip().lower(), caps))
            continue
        parts: list[Any] = []
        for part in item if isinstance(item, tuple | list) else [item]:
            parts.extend(part.split("+") if isinstance(part, str) else [part])
        ids: list[str] = []
        rows: list[pd.DataFrame] = []
        for part in parts:
            if isinstance(part, pd.DataFrame):
                rows.append(_user_rows(part, fac, mid))
                ids.extend(str(i) for i in part["id"])
            else:
                ids.append(_bundled_id(str(part).strip(), fac, mid))
        user = pd.concat(rows, ignore_index=True) if rows else None
        out.append(_candidate("+".join(ids), tuple(ids), user, lay, caps, mid))
    names = [c.name for c in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"candidates: {', '.join(dup)} given more than once")
    unknown = sorted(set(caps) - {i for c in out for i in c.ids})
    if unknown:
        raise ValueError(f"capacity=: {', '.join(unknown)} is not among the candidates")
    return out


def _group(lay: Layers, mid: str, name: str, caps: Mapping[str, float]) -> list[_Candidate]:
    fac = lay.facilities
    pick = fac[
        (fac["mineral"] == mid)
        & fac["status"].isin(CANDIDATE_STATUSES)
        & fac["country"].isin(CANDIDATE_GROUPS[name])
    ].sort_values("id")
    if pick.empty:
        raise ValueError(f"candidates: no {mid} deposit or project in the layers in {name}")
    return [_candidate(str(i), (str(i),), None, lay, caps, mid) for i in pick["id"]]


def _bundled_id(fid: str, fac: pd.DataFrame, mid: str) -> str:
    if fid not in fac.index:
        raise ValueError(
            f"candidates: {fid!r} is not a facility id of the layers (or a group: "
            f"{', '.join(CANDIDATE_GROUPS)})"
        )
    rec = fac.loc[fid]
    if rec["mineral"] != mid:
        raise ValueError(f"candidates: {fid} is a {rec['mineral']} facility, not {mid}")
    if rec["status"] not in (*CANDIDATE_STATUSES, "operating"):
        raise ValueError(
            f"candidates: {fid} is {rec['status']}; a candidate is a deposit, development "
            "or construction project"
        )
    return fid


_USER_COLUMNS = ("id", "mineral", "stage", "country", "lon", "lat", "capacity", "capacity_unit")


def _user_rows(rows: pd.DataFrame, fac: pd.DataFrame, mid: str) -> pd.DataFrame:
    missing = [c for c in _USER_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"candidate rows: missing column(s) {', '.join(missing)}")
    if "outputs" not in rows.columns or rows["outputs"].isna().any():
        raise ValueError("candidate rows: every row needs `outputs` (its products, ;-separated)")
    clash = sorted(set(rows["id"].astype(str)) & set(fac.index))
    if clash:
        raise ValueError(f"candidate rows: id {', '.join(clash)} is already a facility")
    if (rows["mineral"] != mid).any():
        raise ValueError(f"candidate rows: every row must be {mid}")
    out = pd.DataFrame(rows).copy()
    for col in fac.columns:
        if col not in out.columns and col != "geometry":
            out[col] = None
    out["id"] = out["id"].astype(str)
    out["country"] = out["country"].map(normalize_country)
    return out


def _candidate(
    name: str,
    ids: tuple[str, ...],
    rows: pd.DataFrame | None,
    lay: Layers,
    caps: Mapping[str, float],
    mid: str,
) -> _Candidate:
    """The candidate, and why it cannot be valued (empty when it can)."""
    fac = _online(lay.facilities, ids, rows, caps, mid)
    fac = fac[fac["id"].isin(ids)]
    problems = []
    for rec in fac.to_dict("records"):
        if not isinstance(rec.get("outputs"), str) or not rec["outputs"]:
            problems.append(f"{rec['id']} has no outputs in the facilities layer")
            continue
        prod = rec.get("capacity_product")
        if not (isinstance(prod, str) and prod in PRODUCTS):
            prod = str(rec["outputs"]).split(";")[0]
        known = prod in PRODUCTS and facility_capacity(pd.DataFrame([rec]), prod)[str(rec["id"])]
        if not (known and known > 0):
            problems.append(
                f"{rec['id']} has no stated capacity in the facilities layer (the world "
                f"allocation leaves it out); pass capacity={{'{rec['id']}': ...}} in "
                f"{_REF_UNIT.get(mid, 'its capacity unit')} a year"
            )
    return _Candidate(name, ids, rows, "; ".join(problems))


def _online(
    fac: pd.DataFrame,
    ids: Iterable[str],
    rows: pd.DataFrame | None,
    caps: Mapping[str, float],
    mid: str,
) -> pd.DataFrame:
    """Facilities with the candidate's rows appended and operating at their capacity."""
    out = fac.copy()
    if rows is not None:
        extra = gpd.GeoDataFrame(
            rows.drop(columns=[c for c in ("geometry",) if c in rows.columns]),
            geometry=gpd.points_from_xy(rows["lon"].astype(float), rows["lat"].astype(float)),
            crs=fac.crs,
        )
        out = gpd.GeoDataFrame(pd.concat([out, extra[fac.columns]], ignore_index=True), crs=fac.crs)
    at = out["id"].isin(list(ids))
    out.loc[at, "status"] = "operating"
    for fid, value in caps.items():
        row = out["id"] == fid
        if not row.any():
            continue
        first = str(out.loc[row, "outputs"].iloc[0] or "").split(";")[0]
        product = out.loc[row, "capacity_product"].iloc[0]
        if not (isinstance(product, str) and product in PRODUCTS):
            out.loc[row, "capacity_product"] = first
        out.loc[row, "capacity"] = value
        out.loc[row, "capacity_unit"] = _REF_UNIT[mid]
        out.loc[row, "capacity_estimate"] = True
    return out


# ---------------------------------------------------------------------------------------------
# one candidate: its allocations under every scenario (run serially or on a Dask worker)


def _evaluate(
    Gu: nx.MultiDiGraph, _lay: Layers, cand: _Candidate, args: tuple[Any, ...]
) -> tuple[dict[str, WorldAllocation], pd.DataFrame]:
    mid, products, as_of, scenarios, caps, lay0, year, who, reference = args
    graph = Gu
    if cand.rows is not None:
        # the user's rows join the graph as not yet operating, so that the balancing capacity
        # stays the baseline's; then they come online
        waiting = cand.rows.assign(status="development")
        fac = _online(lay0.facilities, [], waiting, {}, mid)
        graph = with_unlisted(graph_from_layers(lay0.replace(facilities=fac)), mid, year=year)
    lay = layers_of(graph)
    online = lay.replace(facilities=_online(lay.facilities, cand.ids, None, caps, mid))
    allocs: dict[str, WorldAllocation] = {}
    tables = []
    for lab, sc in scenarios:
        a = allocate_world(
            graph,
            mid,
            products[0] if len(products) == 1 else None,
            as_of=as_of,
            scenario=sc,
            unlisted=False,
            layers=online,
            reference=reference,
        )
        first = next(iter(allocs.values()), None)
        tables.append(_processing(cand, lab, a, online, who, first))
        a.problem = {"objective_usd": a.problem.get("objective_usd")}
        allocs[lab] = a
    return allocs, pd.concat(tables, ignore_index=True)


_PROC = [
    "candidate",
    "scenario",
    "id",
    "stage",
    "country",
    "capacity_content_t",
    "used_content_t",
    "utilisation",
    "binds",
    "note",
]


def _processing(
    cand: _Candidate,
    scenario: str,
    a: WorldAllocation,
    lay: Layers,
    who: tuple[str, ...],
    first: WorldAllocation | None,
) -> pd.DataFrame:
    """Per facility of the candidate: capacity and use (reference content of the final
    product), and what binds when it is not full, seen from the buyers ``who``: its own
    capacity, processing (no chain from it reaches the buyers, or every plant its chains to
    them reach is full), or the market (there is room, cheaper supply is taken)."""
    chains = a.problem.get("chains", pd.DataFrame())
    if len(chains):
        to_them = chains["query"].map(lambda q: q in who or _iso(q) in who)
        chains = chains[to_them.to_numpy(dtype=bool)]
    fac = lay.facilities.set_index("id")
    util = a.facilities.set_index("id")["utilisation"] if len(a.facilities) else pd.Series()
    binding = set(a.binding)
    buyers = ", ".join(who)
    rows = []
    for fid in cand.ids:
        rec = fac.loc[fid]
        through = chains[chains["chain"].map(lambda c, f=fid: f in c)] if len(chains) else chains
        cap = _content_capacity(a, fid)
        u = float(util.get(fid, 0.0))
        if through.empty:
            binds = "processing"
            note = (
                f"uses {u:.0%} of its capacity (for other buyers); no chain carries its "
                f"{rec['outputs']} to "
                f"{buyers} under {scenario}: no plant that takes it, is open to these buyers "
                "and has a known capacity is reachable" + _where_it_went(first, fid, scenario)
            )
        elif u >= _FULL:
            binds, note = "own capacity", "runs at capacity"
        else:
            downstream = [sorted(set(c) - set(cand.ids)) for c in through["chain"]]
            downstream = [d for d in downstream if d]
            full = [d for d in downstream if set(d) & binding]
            if downstream and len(full) == len(downstream):
                plants = sorted({f for d in full for f in d if f in binding})
                binds = "processing"
                note = (
                    f"uses {u:.0%} of its capacity: every plant its chains to {buyers} reach "
                    f"is full ({', '.join(plants[:6])}{' ...' if len(plants) > 6 else ''})"
                )
            else:
                binds = "market"
                note = (
                    f"uses {u:.0%} of its capacity: its chains to {buyers} have room, cheaper "
                    "supply meets the demand"
                )
        rows.append(
            {
                "candidate": cand.name,
                "scenario": scenario,
                "id": fid,
                "stage": rec["stage"],
                "country": rec["country"],
                "capacity_content_t": cap,
                "used_content_t": cap * u if cap == cap else math.nan,
                "utilisation": u,
                "binds": binds,
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=_PROC)


def _where_it_went(first: WorldAllocation | None, fid: str, scenario: str) -> str:
    """Where the facility's output went in the first scenario's allocation, if elsewhere."""
    if first is None or first.scenario == scenario:
        return ""
    fl = first.flows[first.flows["chain"].map(lambda c: fid in c)]
    plants = sorted(set(fl["plant_country"].dropna()))
    label = first.scenario or "baseline"
    return f" (under {label} its output goes to plants in {', '.join(plants)})" if plants else ""


def _content_capacity(a: WorldAllocation, fid: str) -> float:
    caps = a.problem.get("capacities", {})
    f = a.products[0]
    tonnes = caps.get(f, {}).get(fid, math.nan)
    return float(tonnes) * PRODUCTS[f].content if tonnes == tonnes else math.nan


# ---------------------------------------------------------------------------------------------
# figures, deltas and the ranking


_FIGURES = ("demand", "supplied", "unmet", "top_share", "hhi", "feoc_share", "freight_usd")


def _figures(w: WorldAllocation, group: tuple[str, ...]) -> dict[str, Any]:
    """A buyer's figures from the allocation's buyers table; a group's from its flows, the
    same way (shares by the country of the last plant, content tonnes)."""
    fl = w.flows
    mask = np.array(
        [any(q == b or (b != "ROW" and _iso(q) == b) for b in group) for q in fl["query"]],
        dtype=bool,
    )
    mine = fl.loc[mask]
    freight = float((mine["tonnes"] * mine["cost_usd_per_t"].fillna(0.0)).sum())
    tab = w.buyers.set_index("buyer").loc[list(group)]
    if len(group) == 1:
        r = tab.iloc[0]
        return {
            "demand": float(r["demand"]),
            "supplied": float(r["supplied"]),
            "unmet": float(r["unmet"]),
            "top_country": r["top_country"],
            "top_share": float(r["top_share"]),
            "hhi": float(r["hhi"]),
            "feoc_share": float(r["feoc_share"]),
            "freight_usd": freight,
        }
    supplied = float(mine["content_t"].sum())
    by = mine.groupby("plant_country")["content_t"].sum() if len(mine) else pd.Series(dtype=float)
    shares = by / supplied if supplied > 0 else by
    feoc_t = mine.loc[
        mine["chain_countries"].map(lambda c: bool(c) and bool(FEOC & set(c))), "content_t"
    ].sum()
    return {
        "demand": float(tab["demand"].sum()),
        "supplied": supplied,
        "unmet": float(tab["unmet"].sum()),
        "top_country": str(shares.idxmax()) if len(shares) else None,
        "top_share": float(shares.max()) if len(shares) else math.nan,
        "hhi": float((shares**2).sum()) if len(shares) else math.nan,
        "feoc_share": float(feoc_t) / supplied if supplied > 0 else 0.0,
        "freight_usd": freight,
    }


def _iso(query: str) -> str:
    return iso3_or_none(query) or query


def _deltas(
    cands: list[_Candidate],
    labels: list[str],
    base: dict[str, WorldAllocation],
    after: dict[tuple[str, str], WorldAllocation],
    who: tuple[str, ...],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    groups = [(b,) for b in who] + ([who] if len(who) > 1 else [])
    rows, moved = [], []
    for cand in cands:
        if cand.skip:
            continue
        for lab in labels:
            b, a = base[lab], after[(cand.name, lab)]
            for g in groups:
                fb, fa = _figures(b, g), _figures(a, g)
                row: dict[str, Any] = {
                    "candidate": cand.name,
                    "scenario": lab,
                    "buyer": "+".join(g),
                    "demand": fb["demand"],
                    "top_country_base": fb["top_country"],
                    "top_country_with": fa["top_country"],
                }
                for k in _FIGURES[1:]:
                    row[f"{k}_base"], row[f"{k}_with"] = fb[k], fa[k]
                    row[f"delta_{k}"] = fa[k] - fb[k]
                rows.append(row)
            fac = compare_allocations(b, a)["facilities"]
            cut = fac[fac["change"].isin(["cut back", "cut off"]) & ~fac["id"].isin(cand.ids)]
            moved.append(cut.assign(candidate=cand.name, scenario=lab))
    cols = ["candidate", "scenario", "id", "content_t_base", "content_t_scenario", "delta_t"]
    displaced = (
        pd.concat(moved, ignore_index=True)
        .rename(columns={"content_t_scenario": "content_t_with"})
        .sort_values(["candidate", "scenario", "delta_t", "id"], kind="mergesort")
        .reset_index(drop=True)
        if moved
        else pd.DataFrame(columns=cols)
    )
    return pd.DataFrame(rows), displaced


def _ranking(
    cands: list[_Candidate],
    labels: list[str],
    who: tuple[str, ...],
    deltas: pd.DataFrame,
    processing: pd.DataFrame,
    w: ValueWeights,
    unit: str,
) -> pd.DataFrame:
    together = "+".join(who)
    out = []
    for cand in cands:
        row: dict[str, Any] = {"candidate": cand.name, "facilities": len(cand.ids)}
        terms = dict.fromkeys(("unmet", "hhi", "feoc", "cost"), 0.0)
        notes: list[str] = []
        if cand.skip:
            row.update(value=0.0, **{f"{k}_term": 0.0 for k in terms})
            row.update({f"delta_unmet[{lab}]": math.nan for lab in labels})
            row["reason"] = f"not valued: {cand.skip}"
            out.append(row)
            continue
        d = deltas[(deltas["candidate"] == cand.name) & (deltas["buyer"] == together)]
        for lab in labels:
            r = d[d["scenario"] == lab].iloc[0]
            t = _terms(r)
            for k in terms:
                terms[k] += t[k]
            row[f"delta_unmet[{lab}]"] = float(r["delta_unmet"])
            if r["delta_unmet"] < -_TOL * max(1.0, r["demand"]):
                notes.append(
                    f"cuts {together}'s unmet demand by {-r['delta_unmet']:,.0f} {unit} "
                    f"under {lab} (of {r['unmet_base']:,.0f})"
                )
            if abs(r["delta_feoc_share"]) > 0.005:
                notes.append(f"FEOC share {r['delta_feoc_share']:+.1%} under {lab}")
            if abs(r["delta_hhi"]) > 0.005:
                notes.append(f"HHI {r['delta_hhi']:+.3f} under {lab}")
        p = processing[processing["candidate"] == cand.name]
        for rec in p[p["binds"].isin(["processing", "no route"])].to_dict("records"):
            notes.append(
                f"{rec['id']} under {rec['scenario']}: {rec['binds']} binds, {rec['note']}"
            )
        row.update(
            value=w.unmet * terms["unmet"]
            + w.hhi * terms["hhi"]
            + w.feoc * terms["feoc"]
            + w.cost * terms["cost"],
            **{f"{k}_term": v for k, v in terms.items()},
        )
        row["reason"] = "; ".join(notes) or f"changes nothing for {together}"
        out.append(row)
    table = pd.DataFrame(out)
    table["value"] = table["value"].round(12)
    # a candidate that could not be valued (no capacity) is unknown, not worth zero: last
    table["_unvalued"] = table["reason"].str.startswith("not valued")
    table = table.sort_values(
        ["_unvalued", "value", "candidate"], ascending=[True, False, True], kind="mergesort"
    ).drop(columns="_unvalued")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def _terms(r: pd.Series) -> dict[str, float]:
    def z(v: float) -> float:
        return 0.0 if v != v or abs(v) < 1e-9 else float(v)

    per_t_b = r["freight_usd_base"] / r["supplied_base"] if r["supplied_base"] > 0 else math.nan
    per_t_a = r["freight_usd_with"] / r["supplied_with"] if r["supplied_with"] > 0 else math.nan
    return {
        "unmet": z(-r["delta_unmet"] / r["demand"]) if r["demand"] > 0 else 0.0,
        "hhi": z(-r["delta_hhi"]),
        "feoc": z(-r["delta_feoc_share"]),
        "cost": z((per_t_b - per_t_a) / per_t_b) if per_t_b and per_t_b == per_t_b else 0.0,
    }

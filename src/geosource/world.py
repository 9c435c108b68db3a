"""World allocation: every buyer at once, sharing finite capacity, so that a cut shows who is short.

``allocate_world`` solves one linear programme (HiGHS, through ``scipy.optimize.linprog``) over
the feasible chains of :mod:`geosource.chains` for every buyer of the demand layer:

    minimise   Σ_c cost_c · x_c + UNMET_COST_USD · Σ_b u_b
    subject to Σ_{c to b} content(F_c) · x_c + u_b = demand_b         for every buyer b
               Σ_{c through f} x_c / capacity_f(F_c) ≤ 1               for every facility f
               x, u ≥ 0

``x_c`` is tonnes a year of the final product on chain ``c``; ``content(F_c)`` turns them into the
mineral's reference content (t LCE, t REO, t Ga, t Ge; graphite in tonnes), the unit demand is
counted in. ``capacity_f(F)`` is the facility's capacity in tonnes of ``F`` (as ``capacity_t`` of a
chain), so a facility that feeds several chains, stages or buyers is counted once. Chains blocked
by a ban are not variables of the buyer they are banned to. Chains through a facility whose
capacity is not known are left out and listed (an unknown capacity is not an infinite one).
``cost_c`` is the chain's landed freight cost per tonne (docs/transport.md), so capacity goes
where it is cheapest to deliver, as in a market, with the score as a tie-breaker of at most one
cent; a buyer's risk preferences do not divert supply (a ban does). Capacity that national output
shows but the layer does not list is added per country and stage (:func:`unlisted_capacity`).
The rest-of-world row (``ROW``), which has no demand centre, may take any chain whose product
could legally go to a country no measure names (a ban on every destination blocks it), at its
cost plus ``ROW_PREMIUM_USD``, after the named buyers: the named buyers' shortfalls are therefore
optimistic where the rest of the world would outbid them.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from .capacity import capacity_in_reference_units
from .chains import (
    ChainOptions,
    ChainQuery,
    as_date,
    build_chains,
    buyer_queries,
    facility_capacity,
    facility_products,
    layers_of,
    statuses,
)
from .countries import iso3_or_none
from .exposure import ExposureParams, Leg, leg_controls, measures_in_force
from .layers import Layers
from .minerals import PRODUCTS, REFERENCE_CONTENT, normalize_mineral, normalize_product
from .scenarios import apply_scenario
from .scoring import Weights

__all__ = [
    "FEOC",
    "WorldAllocation",
    "allocate_world",
    "compare_allocations",
    "compare_supply_mix",
    "unlisted_capacity",
    "with_unlisted",
]

log = logging.getLogger(__name__)

#: Unmet demand costs this much per tonne (USD): above any chain's freight cost, so demand
#: goes unmet only where no capacity can reach it.
UNMET_COST_USD = 10_000_000.0
#: What falling short of a binding offtake costs per tonne: above any chain, below unmet
#: demand, so offtakes are honoured where capacity and bans allow.
OFFTAKE_COST_USD = 100_000.0
#: What the rest of the world (no demand centre) pays above a named buyer for the same chain:
#: named buyers are served first, so their shortfalls are optimistic.
ROW_PREMIUM_USD = 1_000_000.0
#: Covered nations of 10 U.S.C. 4872(d): a buyer's FEOC share counts supply located there.
FEOC = frozenset({"CHN", "RUS", "IRN", "PRK"})


@dataclass
class WorldAllocation:
    """The result of :func:`allocate_world`.

    Tonnes of demand, supply and unmet demand are in the mineral's reference unit (``unit``);
    :meth:`shortfalls` lists the buyers left short.

    Parameters
    ----------
    mineral, products
        The mineral id and the final products shared out.
    unit
        The reference unit (``t LCE``, ``t REO``, ``t Ga``, ...).
    as_of
        The date for export controls, ISO format.
    scenario
        The scenario applied (``None``: the baseline).
    flows
        One row per chain that carries product: buyer, chain, countries, final product, tonnes
        of final product and of reference content, cost.
    buyers
        One row per buyer: demand, supplied, unmet (reference content), share met, top supplier
        country and its share, HHI of supplier countries (final stage), FEOC share.
    facilities
        Utilisation per facility with known capacity (``used_t`` of its capacity ``capacity_t``,
        in tonnes of the final product).
    binding
        Facilities at capacity (utilisation ≥ 99.9%): the constraints that bind.
    excluded
        Facilities left out because their capacity is unknown, with the number of chains lost.
    status
        ``met`` (every buyer supplied in full) or ``short``.
    message
        One sentence naming the buyers left short.
    demand_source
        The citations of the demand rows used.
    unlisted
        Balancing capacity added per country and stage (:func:`unlisted_capacity`).
    offtakes
        Documented offtakes honoured first: contracted and honoured reference content.
    problem
        What the programme was built from (chains, demand rows, capacities) and its optimum,
        for checks and benchmarks.

    Examples
    --------
    :func:`allocate_world` makes one (its example reads one); the first fields, in order:

    >>> import dataclasses
    >>> [f.name for f in dataclasses.fields(WorldAllocation)][:8]
    ['mineral', 'products', 'unit', 'as_of', 'scenario', 'flows', 'buyers', 'facilities']
    """

    mineral: str
    products: tuple[str, ...]
    unit: str
    as_of: str
    scenario: str | None
    flows: pd.DataFrame
    buyers: pd.DataFrame
    facilities: pd.DataFrame
    binding: list[str]
    excluded: pd.DataFrame
    status: str
    message: str
    demand_source: list[str] = field(default_factory=list)
    unlisted: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Balancing capacity added per country and stage (:func:`unlisted_capacity`)."""
    offtakes: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Documented offtakes honoured first: contracted and honoured reference content."""
    problem: dict[str, Any] = field(default_factory=dict, repr=False)
    """What the programme was built from (chains, demand rows, capacities) and its optimum, for
    checks and benchmarks."""

    def shortfalls(self) -> pd.Series:
        """Unmet demand per buyer (reference content), largest first."""
        s = self.buyers.set_index("buyer")["unmet"]
        return s[s > 1e-6].sort_values(ascending=False)


def _demand_rows(demand: pd.DataFrame, mid: str, finals: tuple[str, ...]) -> pd.DataFrame:
    """The latest row per buyer for the mineral and the asked products (or their group)."""
    wanted = set(finals)
    rows = demand[demand["mineral"] == mid]
    group = {"lithium_chemicals"} if wanted <= {"lithium_carbonate", "lithium_hydroxide"} else set()
    rows = rows[rows["product"].isin(wanted | group)]
    if rows.empty:
        have = sorted(set(demand.loc[demand["mineral"] == mid, "product"]))
        raise ValueError(
            f"no {mid} demand rows for {' or '.join(finals)} in the demand layer "
            f"(it has: {', '.join(have) or 'none'}); pass demand= with your own rows"
        )
    rows = rows.sort_values(["buyer", "year"], kind="mergesort")
    latest = rows.groupby("buyer", sort=True)["year"].transform("max")
    rows = rows[rows["year"] == latest]
    out = rows.groupby("buyer", sort=True).agg(
        demand=("demand_t", "sum"),
        year=("year", "max"),
        unit=("unit", "first"),
        source=("source", "first"),
    )
    return out.reset_index()


def allocate_world(  # noqa: PLR0913 (public entry point: keyword-only options)
    G: nx.MultiDiGraph,
    mineral: str,
    product: str | None = None,
    *,
    as_of: dt.date | str | None = None,
    scenario: Any = None,
    demand: pd.DataFrame | None = None,
    include_development: bool | list[str] = False,
    unlisted: bool = True,
    max_country_share: tuple[str, float] | None = None,
    layers: Layers | None = None,
    rationing: str = "pro-rata",
    reference: WorldAllocation | Mapping[str, float] | None = None,
) -> WorldAllocation:
    """Share every facility's capacity among every buyer of the demand layer at once.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`.
    mineral, product
        As in :func:`geosource.sourcing_paths` (default product: the usual traded one).
    as_of
        Date for export controls (default: today, or the scenario's date).
    scenario
        A :class:`~geosource.scenarios.Scenario`, a built-in name (``"china-ree-export-ban"``) or
        a file: bans block chains, closures reroute, outages remove facilities.
    demand
        Demand rows (the columns of the ``demand`` layer); default: the layers' own.
    include_development
        As in :func:`geosource.sourcing_paths`.
    unlisted
        Add each country's output that the listed facilities do not account for as balancing
        capacity (:func:`unlisted_capacity`), so that world supply matches world output; with
        ``False`` only listed, known capacity is shared (supply is then understated).
    max_country_share
        ``(buyer, share)``: no one country may supply more than ``share`` of that buyer's
        demand at either stage (source, processing); see :func:`geosource.allocate`.
    layers
        Override the layers the graph carries.
    rationing
        How a scenario's shortfall is shared. ``"pro-rata"`` (default): first the largest share
        ``r`` such that every buyer keeps at least ``r`` of what it is supplied at baseline
        (the same call without the scenario) is found, then the cheapest allocation that keeps
        everyone at or above it; so a cut is shared in proportion to baseline supply, as
        emergency-sharing rules do, instead of falling wholly on the rest of the world.
        ``"cost"``: the cheapest allocation only (named buyers before the rest of the world,
        so their shortfalls are optimistic). Without a scenario both give the same answer.
    reference
        The baseline supply per buyer that pro-rata rationing keeps shares of (an allocation or
        ``{buyer: tonnes}``); default: this call without the scenario. Valuing a new project,
        pass the allocation before it, so that the project's own baseline output does not
        raise anyone's claim on what is left under the scenario.

    Returns
    -------
    WorldAllocation
        Flows, per-buyer supply and shortfall, facility utilisation and the binding
        constraints; never raises because demand cannot be met (``status`` says so).

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> w = gs.allocate_world(G, "rare_earths", as_of="2026-12-03")
    >>> bool((w.facilities["used_t"] <= w.facilities["capacity_t"] * (1 + 1e-6)).all())
    True
    >>> w.unit, w.products, w.status
    ('t REO', ('separated_oxide',), 'short')
    >>> list(w.shortfalls().index)
    ['ROW']
    """

    if rationing not in ("pro-rata", "cost"):
        raise ValueError(f"rationing must be 'pro-rata' or 'cost', got {rationing!r}")
    G0, layers0 = G, layers
    mid = normalize_mineral(mineral)
    if layers is not None and layers is not G.graph.get("layers"):
        G = _graph_with_layers(G, layers)
    lay = layers_of(G)
    finals = _world_products(lay, mid, product)
    table = pd.DataFrame(columns=list(UNLISTED_COLUMNS))
    if unlisted:
        year = as_date(as_of).year if as_of is not None else dt.date.today().year
        G = with_unlisted(G, mid, year=year)
        lay = layers_of(G)
        table = G.graph["unlisted"]
    closed: tuple[str, ...] = ()
    blocked: frozenset[Any] = frozenset()
    w = Weights()
    name = None
    if scenario is not None:
        applied = apply_scenario(G, lay, scenario)
        lay, closed, blocked, w = (
            applied.layers,
            applied.closed_passages,
            applied.closed_nodes,
            applied.weights,
        )
        as_of = as_of if as_of is not None else applied.as_of
        name = applied.scenario.name
    day = as_date(as_of)
    rows = _demand_rows(lay.demand if demand is None else demand, mid, finals)
    named = [b for b in rows["buyer"] if b != "ROW"]
    queries = []
    for b in named:
        try:
            queries.extend(buyer_queries(lay, _iso(b) if b != "EU" else b, mid))
        except ValueError as exc:
            log.warning("buyer %s has no demand centre and is left out: %s", b, exc)
    if not queries:
        raise ValueError(f"no buyer of the {mid} demand rows has a demand centre")
    frame, _ = build_chains(
        G,
        lay,
        ChainQuery(mid, finals, queries, day),
        w,
        ExposureParams(),
        statuses(include_development),
        ChainOptions(distinct="facilities", closed=closed, blocked=blocked, include_blocked=True),
    )
    row_ok = _legal_for_rest_of_world(frame, lay, mid, day)
    ask = _Ask(mid, finals, day, name)
    ref = None
    if scenario is not None and rationing == "pro-rata":
        if reference is None:
            reference = _baseline(
                G0,
                (mid, product, day.isoformat(), include_development, unlisted, max_country_share),
                demand,
                layers0,
            )
        got = (
            reference.buyers.set_index("buyer")["supplied"].to_dict()
            if isinstance(reference, WorldAllocation)
            else dict(reference)
        )
        ref = np.array([float(got.get(b, 0.0)) for b in rows["buyer"]], dtype=float)
    result = _solve(frame.assign(_row_ok=row_ok), rows, lay, ask, max_country_share, ref)
    result.unlisted = table
    result.flows["unlisted"] = result.flows["chain"].map(
        lambda c: any(str(f).startswith("unlisted-") for f in c)
    )
    return result


_BASELINES: weakref.WeakKeyDictionary[nx.MultiDiGraph, OrderedDict[Any, WorldAllocation]] = (
    weakref.WeakKeyDictionary()
)


def _baseline(
    G: nx.MultiDiGraph,
    key: tuple[Any, ...],
    demand: pd.DataFrame | None,
    layers: Layers | None,
) -> WorldAllocation:
    """The allocation without a scenario that pro-rata rationing measures a cut against,
    cached per graph (the newest few)."""
    mid, product, day, include_development, unlisted, cap = key
    full_key = (key, id(demand), id(layers))
    cache = _BASELINES.setdefault(G, OrderedDict())
    hit = cache.get(full_key)
    if hit is not None:
        return hit
    base = allocate_world(
        G,
        mid,
        product,
        as_of=day,
        demand=demand,
        include_development=include_development,
        unlisted=unlisted,
        max_country_share=cap,
        layers=layers,
    )
    cache[full_key] = base
    while len(cache) > 8:
        cache.popitem(last=False)
    return base


def _graph_with_layers(G: nx.MultiDiGraph, layers: Layers) -> nx.MultiDiGraph:
    """``G`` carrying other layers (same nodes and edges), cached per layers object so that
    repeated calls share one copy and its compiled routing engine."""
    cache = _LAYERS_CACHE.setdefault(G, OrderedDict())
    key = id(layers)
    hit = cache.get(key)
    if hit is not None and hit[0] is layers:
        cache.move_to_end(key)
        return hit[1]
    G2 = G.copy()
    G2.graph["layers"] = layers
    cache[key] = (layers, G2)
    while len(cache) > _UNLISTED_KEEP:
        cache.popitem(last=False)
    return G2


def _world_products(lay: Layers, mid: str, product: str | None) -> tuple[str, ...]:
    """The products to allocate: those asked for, else the usual traded ones when the demand
    layer counts them, else the one product the demand layer counts for the mineral."""
    finals = normalize_product(mid, product)
    if product is not None:
        return finals
    have = set(lay.demand.loc[lay.demand["mineral"] == mid, "product"])
    group = (
        {"lithium_chemicals"}
        if set(finals) <= {"lithium_carbonate", "lithium_hydroxide"}
        else set()
    )
    if have & (set(finals) | group):
        return finals
    known = sorted(p for p in have if p in PRODUCTS)
    return (known[0],) if len(known) == 1 else finals


def _legal_for_rest_of_world(
    frame: pd.DataFrame, lay: Layers, mid: str, day: dt.date
) -> np.ndarray:
    """Whether each chain's product could go to a country no measure names: the legs to the
    final plant as they are, and the last leg to an unnamed destination (``ROW``). A ban on
    every destination blocks it; a ban on named targets does not."""
    measures = measures_in_force(lay, day)
    params = ExposureParams()
    out = []
    for countries, products in zip(frame["chain_countries"], frame["products"], strict=True):
        n = len(countries)
        legs = [
            Leg(
                countries[i],
                countries[i + 1] if i + 1 < n else "ROW",
                mid,
                products[i],
                "ROW",
                frozenset(countries[:i]),
            )
            for i in range(n)
        ]
        out.append(leg_controls(measures, legs, params)[2] == "")
    return np.array(out, dtype=bool)


def _chain_cost(chains: pd.DataFrame) -> np.ndarray:
    """USD per tonne of final product: landed freight cost, plus the score as a tie-breaker
    worth at most one cent (so equal-cost chains go to the lower-risk one)."""
    freight = chains["cost_usd_per_t"].to_numpy(dtype=float) if len(chains) else np.zeros(0)
    score = chains["score"].to_numpy(dtype=float) if len(chains) else np.zeros(0)
    return np.nan_to_num(freight, nan=0.0) + 0.01 * score


def _capacities(lay: Layers, finals: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Per final product, each facility's capacity in tonnes of it. A capacity counted in
    reference content (t/y LCE, t/y REO ...) at a plant that makes the product itself holds
    that content as the product, whatever product the row names."""
    out = {f: facility_capacity(lay.facilities, f) for f in finals}
    fac = lay.facilities
    content_units = {"t/y LCE", "t/y REO", "t/y Ga", "t/y Ge"}
    for rec in fac[fac["capacity_unit"].isin(content_units)].to_dict("records"):
        made = {p for p in str(rec.get("outputs") or "").split(";") if p}
        for f in finals:
            if f in made and not out[f].get(str(rec["id"]), math.nan) > 0:
                out[f][str(rec["id"])] = float(rec["capacity"]) / PRODUCTS[f].content
    return out


@dataclass
class _Rows:
    """Sparse rows of a constraint block: ``(row, column, value)`` triplets and right-hand sides."""

    r: list[int] = field(default_factory=list)
    c: list[int] = field(default_factory=list)
    v: list[float] = field(default_factory=list)
    rhs: list[float] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def add(self, row: int, col: int, value: float) -> None:
        self.r.append(row)
        self.c.append(col)
        self.v.append(value)


@dataclass
class _Problem:
    """The allocation LP's variables: one per usable chain of a named buyer, one per chain the
    rest of the world may take, one unmet-demand variable per buyer (then offtake slacks)."""

    chains: pd.DataFrame
    row_chains: pd.DataFrame
    buyers: list[str]
    demand: np.ndarray
    content: np.ndarray
    row_content: np.ndarray

    @property
    def n(self) -> int:
        return len(self.chains) + len(self.row_chains) + len(self.buyers)

    @functools.cached_property
    def b_pos(self) -> dict[str, int]:
        return {b: i for i, b in enumerate(self.buyers)}

    def buyer_of(self, j: int) -> int | None:
        """The demand row chain ``j`` of a named buyer serves (EU members share the EU's)."""
        qb = str(self.chains["query"].iat[j])
        pos = self.b_pos
        return pos.get(qb if qb in pos else _iso(qb))


def _usable_chains(
    frame: pd.DataFrame, caps: dict[str, dict[str, float]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chains through facilities of known capacity, and the facilities left out (with how many
    chains each would have carried)."""
    unknown = {
        fid
        for chain, f in zip(frame["chain"], frame["product"], strict=True)
        for fid in chain
        if not caps[f].get(fid, math.nan) > 0  # unknown (nan) or none at all
    }
    ok = frame["chain"].map(lambda c: not (set(c) & unknown))
    excluded = pd.DataFrame(
        sorted(
            (fid, int(frame["chain"].map(lambda c, fid=fid: fid in c).sum())) for fid in unknown
        ),
        columns=["id", "chains_left_out"],
    ).assign(reason="capacity unknown or zero in the facilities layer")
    return frame[ok], excluded


def _demand_block(pb: _Problem) -> Any:
    """Σ content·x over a buyer's chains + unmet = demand, one row per buyer."""
    from scipy.sparse import coo_matrix

    n_c, n_r = len(pb.chains), len(pb.row_chains)
    rows = _Rows()
    for j, cont in enumerate(pb.content):
        b = pb.buyer_of(j)
        if b is not None:
            rows.add(b, j, cont)
    if "ROW" in pb.b_pos:
        for k, cont in enumerate(pb.row_content):
            rows.add(pb.b_pos["ROW"], n_c + k, cont)
    for i in range(len(pb.buyers)):
        rows.add(i, n_c + n_r + i, 1.0)
    return coo_matrix((rows.v, (rows.r, rows.c)), shape=(len(pb.buyers), pb.n)).tocsr()


def _capacity_block(pb: _Problem, caps: dict[str, dict[str, float]]) -> tuple[_Rows, list[str]]:
    """Each facility's share of its capacity used: Σ x / cap_f(F) over the chains through it
    (a chain of product F uses x / cap_f(F) of facility f) is at most 1."""
    fac_ids = sorted({fid for c in (*pb.chains["chain"], *pb.row_chains["chain"]) for fid in c})
    f_pos = {fid: i for i, fid in enumerate(fac_ids)}
    rows = _Rows(rhs=[1.0] * len(fac_ids), names=list(fac_ids))
    offset = 0
    for frame in (pb.chains, pb.row_chains):
        for j, (chain, f) in enumerate(zip(frame["chain"], frame["product"], strict=True)):
            for fid in chain:
                rows.add(f_pos[fid], offset + j, 1.0 / caps[f][fid])
        offset += len(frame)
    return rows, fac_ids


def _share_cap_block(rows: _Rows, pb: _Problem, country_cap: tuple[str, float]) -> list[str]:
    """For the capped buyer: per stage and country, content supplied <= share x demand. Adds
    the rows to ``rows`` and returns their names."""
    who, share = country_cap
    target = pb.b_pos.get(who if who in pb.b_pos else _iso(who))
    if target is None:
        raise ValueError(f"max_country_share: {who!r} is not a buyer of the demand rows")
    groups: dict[tuple[str, str], list[int]] = {}
    for j in range(len(pb.chains)):
        if pb.buyer_of(j) != target:
            continue
        countries = cast(tuple[str, ...], pb.chains["chain_countries"].iat[j])
        groups.setdefault(("source", str(countries[0])), []).append(j)
        groups.setdefault(("processing", str(pb.chains["plant_country"].iat[j])), []).append(j)
    names = []
    for (stage, country), js in sorted(groups.items()):
        row = len(rows.rhs)
        for j in js:
            rows.add(row, j, float(pb.content[j]))
        rows.rhs.append(share * float(pb.demand[target]))
        names.append(f"{stage}:{country}")
    return names


def _grouped_deals(deals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deals of one buyer with one supplier share the same chains: one row for their sum."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for deal in deals:
        grouped.setdefault((deal["facility"], deal["buyer_country"]), []).append(deal)
    return [
        {
            "id": ";".join(d["id"] for d in group),
            "facility": fid,
            "buyer_country": buyer,
            "product": group[0]["product"],
            "tonnes": sum(d["tonnes"] for d in group),
            "content_t": sum(d["content_t"] for d in group),
        }
        for (fid, buyer), group in sorted(grouped.items())
    ]


def _offtake_block(pb: _Problem, deals: list[dict[str, Any]]) -> tuple[_Rows, list[dict[str, Any]]]:
    """Documented offtakes first: each buyer's chains through the supplier carry at least the
    contracted content (up to the buyer's demand), or a slack variable (column ``n + k``)
    pays OFFTAKE_COST_USD a tonne, below the cost of unmet demand."""
    rows = _Rows()
    off_rows: list[dict[str, Any]] = []
    pos = pb.b_pos
    for deal in deals:
        key = deal["buyer_country"]
        if key not in pos:
            off_rows.append({**deal, "honoured_t": 0.0, "note": "buyer has no demand row"})
            continue
        js = [
            j
            for j, chain in enumerate(pb.chains["chain"])
            if pb.buyer_of(j) == pos[key] and deal["facility"] in chain
        ]
        k = len(rows.rhs)
        for j in js:
            rows.add(k, j, -float(pb.content[j]))
        rows.add(k, pb.n + k, -1.0)
        # a buyer cannot take more than it demands: the deal binds up to that
        demand_k = float(pb.demand[pos[key]])
        rows.rhs.append(-min(deal["content_t"], demand_k))
        off_rows.append(
            {**deal, "row": k, "chains": len(js), "cap": demand_k, "demand_t": demand_k}
        )
    return rows, off_rows


def _offtake_table(off_rows: list[dict[str, Any]], slack: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": d["id"],
                "facility": d["facility"],
                "buyer": d["buyer_country"],
                "product": d["product"],
                "contracted_t": d["tonnes"],
                "content_t": d["content_t"],
                "honoured_t": (
                    min(d["content_t"], d["demand_t"]) - float(slack[d["row"]])
                    if "row" in d
                    else d["honoured_t"]
                ),
                "note": _offtake_note(d, slack),
            }
            for d in off_rows
        ],
        columns=[
            "id",
            "facility",
            "buyer",
            "product",
            "contracted_t",
            "content_t",
            "honoured_t",
            "note",
        ],
    )


@dataclass(frozen=True)
class _Ask:
    """One world allocation's question: mineral id, final products, date, scenario name."""

    mineral: str
    finals: tuple[str, ...]
    day: dt.date
    scenario: str | None


def _solve(
    frame: pd.DataFrame,
    rows: pd.DataFrame,
    lay: Layers,
    ask: _Ask,
    country_cap: tuple[str, float] | None = None,
    ref: np.ndarray | None = None,
) -> WorldAllocation:
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, hstack, vstack

    caps = _capacities(lay, ask.finals)
    usable, excluded = _usable_chains(frame, caps)
    chains = usable[usable["blocked"] == ""].reset_index(drop=True)
    buyers = list(rows["buyer"])
    # ROW (no demand centre) may take any chain whose product could legally go to a country no
    # measure names, at a premium: one extra variable per distinct such chain
    legal = usable[usable["_row_ok"]].drop_duplicates(["chain", "product"])
    row_chains = legal.reset_index(drop=True) if "ROW" in buyers else legal.iloc[0:0]
    pb = _Problem(
        chains,
        row_chains,
        buyers,
        rows["demand"].to_numpy(dtype=float),
        np.array([PRODUCTS[f].content for f in chains["product"]], dtype=float),
        np.array([PRODUCTS[f].content for f in row_chains["product"]], dtype=float),
    )
    n = pb.n
    cost = np.concatenate(
        [
            _chain_cost(chains),
            _chain_cost(row_chains) + ROW_PREMIUM_USD,
            np.full(len(buyers), UNMET_COST_USD),
        ]
    )
    a_eq = _demand_block(pb)
    ub, fac_ids = _capacity_block(pb, caps)
    n_fac = len(fac_ids)
    cap_rows = _share_cap_block(ub, pb, country_cap) if country_cap is not None else []
    a_ub = coo_matrix((ub.v, (ub.r, ub.c)), shape=(len(ub.rhs), n)).tocsr()
    b_ub = np.array(ub.rhs, dtype=float)
    off, off_rows = _offtake_block(
        pb, _grouped_deals(_offtakes_in_force(lay, ask.mineral, ask.day, set(fac_ids)))
    )
    n_o = len(off.rhs)
    if n_o:
        a_ub = vstack(
            [
                hstack([a_ub, coo_matrix((a_ub.shape[0], n_o))]),
                coo_matrix((off.v, (off.r, off.c)), shape=(n_o, n + n_o)),
            ]
        ).tocsr()
        a_eq = hstack([a_eq, coo_matrix((a_eq.shape[0], n_o))]).tocsr()
        b_ub = np.concatenate([b_ub, np.array(off.rhs, dtype=float)])
        cost = np.concatenate([cost, np.full(n_o, OFFTAKE_COST_USD)])
    ratio = None
    if ref is not None:
        ratio = _max_min_ratio(a_ub, b_ub, a_eq, pb, ref)
        a_ub, b_ub = _with_floors(a_ub, b_ub, pb, ref, ratio)
    res = linprog(
        cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=pb.demand, bounds=(0, None), method="highs"
    )
    if res.status != 0:
        raise RuntimeError(f"the allocation LP did not solve: {res.message}")
    x = res.x[:n]
    a_ub = a_ub[: n_fac + len(cap_rows), :n]
    b_ub = b_ub[: n_fac + len(cap_rows)]
    load = a_ub @ x
    tight = [
        f"max_country_share:{name}"
        for name, used, limit in zip(cap_rows, load[n_fac:], b_ub[n_fac:], strict=True)
        if used >= limit - 1e-6 * max(1.0, limit)
    ]
    out = _result(pb, rows, x, a_ub[:n_fac], fac_ids, caps, excluded, ask)
    out.binding = [*out.binding, *tight]
    out.offtakes = _offtake_table(off_rows, res.x[n:])
    if ratio is not None:
        out.message += (
            f"; shared pro rata: every buyer keeps at least {ratio:.1%} of its baseline supply"
        )
    out.problem = {
        "chains": chains,
        "row_chains": row_chains,
        "demand": rows,
        "capacities": caps,
        "objective_usd": float(res.fun),
        "ratio": ratio,
    }
    return out


def _unmet_column(pb: _Problem, i: int) -> int:
    return len(pb.chains) + len(pb.row_chains) + i


def _max_min_ratio(a_ub: Any, b_ub: np.ndarray, a_eq: Any, pb: _Problem, ref: np.ndarray) -> float:
    """The largest ``r`` such that every buyer can be supplied at least ``r`` x its baseline
    supply ``ref`` at once, under every other constraint: max r s.t. unmet_i + r ref_i <= d_i."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, hstack, vstack

    cols = a_ub.shape[1]
    rows = [i for i in range(len(pb.buyers)) if ref[i] > 1e-9]
    if not rows:
        return 1.0
    floor = coo_matrix(
        (
            [*([1.0] * len(rows)), *(float(ref[i]) for i in rows)],
            (
                [*range(len(rows)), *range(len(rows))],
                [*(_unmet_column(pb, i) for i in rows), *([cols] * len(rows))],
            ),
        ),
        shape=(len(rows), cols + 1),
    )
    a = vstack([hstack([a_ub, coo_matrix((a_ub.shape[0], 1))]), floor]).tocsr()
    b = np.concatenate([b_ub, pb.demand[rows]])
    objective = np.zeros(cols + 1)
    objective[cols] = -1.0
    res = linprog(
        objective,
        A_ub=a,
        b_ub=b,
        A_eq=hstack([a_eq, coo_matrix((a_eq.shape[0], 1))]).tocsr(),
        b_eq=pb.demand,
        bounds=[*([(0, None)] * cols), (0, 1)],
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"the rationing LP did not solve: {res.message}")
    return float(res.x[cols])


def _with_floors(
    a_ub: Any, b_ub: np.ndarray, pb: _Problem, ref: np.ndarray, ratio: float
) -> tuple[Any, np.ndarray]:
    """``a_ub``/``b_ub`` with one row per buyer: unmet_i <= d_i - ratio x ref_i (a hair of
    slack so that the floor found by the first programme stays feasible)."""
    from scipy.sparse import coo_matrix, vstack

    rows = [i for i in range(len(pb.buyers)) if ref[i] > 1e-9]
    floor = coo_matrix(
        ([1.0] * len(rows), (range(len(rows)), [_unmet_column(pb, i) for i in rows])),
        shape=(len(rows), a_ub.shape[1]),
    )
    rhs = [float(pb.demand[i] - ratio * ref[i] * (1 - 1e-9)) + 1e-6 for i in rows]
    return vstack([a_ub, floor]).tocsr(), np.concatenate([b_ub, np.array(rhs, dtype=float)])


def _offtake_note(deal: dict[str, Any], slack: np.ndarray) -> str:
    if "row" not in deal:
        return str(deal.get("note", ""))
    if not deal["chains"]:
        return "no feasible chain of the buyer passes the supplier"
    short = float(slack[deal["row"]])
    over = deal["content_t"] - deal["demand_t"]
    if short <= 1e-6:
        return (
            "honoured"
            if over <= 1e-6
            else f"honoured up to the buyer's demand ({deal['demand_t']:,.1f} t): the contracts "
            f"exceed it by {over:,.1f} t"
        )
    return f"short by {short:,.1f} t: capacity or bans limit it"


def _offtakes_in_force(
    lay: Layers, mid: str, day: dt.date, facilities: set[str]
) -> list[dict[str, Any]]:
    """Binding offtakes of the mineral in force in ``day``'s year whose supplier is a facility
    of the allocation, with the contracted tonnes in reference content. Conditional, disputed
    and non-binding deals (MoUs, priority rights) are not honoured."""
    table = getattr(lay, "offtakes", None)
    if table is None or table.empty:
        return []
    out = []
    for rec in table[table["mineral"] == mid].sort_values("id").to_dict("records"):
        fid = rec.get("supplier_facility")
        status = str(rec.get("status") or "").lower()
        if not isinstance(fid, str) or fid not in facilities:
            continue
        if not status.startswith("binding") or any(
            w in status for w in ("conditional", "subject to", "dispute")
        ):
            continue
        start, end = _year(rec.get("start")), _year(rec.get("end"))
        if (start is not None and start > day.year) or (end is not None and end < day.year):
            continue
        product = str(rec["product"])
        if product not in PRODUCTS or not isinstance(rec.get("buyer_country"), str):
            continue
        tonnes = float(rec["tonnes_per_year"])
        out.append(
            {
                "id": rec["id"],
                "facility": fid,
                "buyer_country": rec["buyer_country"],
                "product": product,
                "tonnes": tonnes,
                "content_t": tonnes * PRODUCTS[product].content,
            }
        )
    return out


def _year(value: Any) -> int | None:
    text = str(value or "").strip()
    if not text or text.lower() == "nan":
        return None
    try:
        return int(float(text[:4]))
    except ValueError:
        return None


def _result(
    pb: _Problem,
    rows: pd.DataFrame,
    x: np.ndarray,
    a_ub: Any,
    fac_ids: list[str],
    caps: dict[str, dict[str, float]],
    excluded: pd.DataFrame,
    ask: _Ask,
) -> WorldAllocation:
    chains, row_chains = pb.chains, pb.row_chains
    mid, finals, day, scenario = ask.mineral, ask.finals, ask.day, ask.scenario
    n_c, n_r = len(chains), len(row_chains)
    cols = [
        "query",
        "buyer",
        "chain",
        "chain_countries",
        "owner_countries",
        "product",
        "tonnes",
        "content_t",
        "score",
        "mine_id",
        "mine_country",
        "plant_id",
        "plant_country",
        "demand_id",
        "distance_km",
        "exposure",
        "cost_usd_per_t",
        "days",
    ]
    parts = [chains.assign(tonnes=x[:n_c])]
    if n_r:
        parts.append(
            # the rest of the world has no demand centre: no last leg to measure
            row_chains.assign(
                query="ROW",
                buyer="ROW",
                score=1.0,
                tonnes=x[n_c : n_c + n_r],
                demand_id=None,
                distance_km=math.nan,
                cost_usd_per_t=math.nan,
                days=math.nan,
            )
        )
    flows = pd.concat(parts, ignore_index=True)
    flows["tonnes"] = flows["tonnes"].astype(float)
    flows = flows[flows["tonnes"] > 1e-9].copy()
    flows["content_t"] = flows["tonnes"].to_numpy(dtype=float) * np.array(
        [PRODUCTS[f].content for f in flows["product"]], dtype=float
    )
    flows = flows[cols].reset_index(drop=True)
    unmet = x[n_c + n_r :]
    buyers = []
    for i, rec in enumerate(rows.to_dict("records")):
        b = rec["buyer"]
        mask = np.array(
            [q == b or (b != "ROW" and _iso(q) == b) for q in flows["query"]], dtype=bool
        )
        mine = flows.loc[mask]
        supplied = float(mine["content_t"].sum())
        by_country = (
            mine.groupby("plant_country")["content_t"].sum()
            if len(mine)
            else pd.Series(dtype=float)
        )
        shares = by_country / supplied if supplied > 0 else by_country
        feoc = (
            float(
                mine.loc[
                    mine["chain_countries"].map(lambda c: bool(c) and bool(FEOC & set(c))),
                    "content_t",
                ].sum()
            )
            / supplied
            if supplied > 0
            else 0.0
        )
        buyers.append(
            {
                "buyer": b,
                "year": int(rec["year"]),
                "demand": float(rec["demand"]),
                "supplied": supplied,
                "unmet": float(unmet[i]),
                "share_met": supplied / float(rec["demand"]) if rec["demand"] else math.nan,
                "top_country": str(shares.idxmax()) if len(shares) else None,
                "top_share": float(shares.max()) if len(shares) else math.nan,
                "hhi": float((shares**2).sum()) if len(shares) else math.nan,
                "feoc_share": feoc,
                "unit": rec["unit"],
            }
        )
    buyers_df = pd.DataFrame(buyers)
    used = a_ub @ x  # fraction of each facility's capacity used
    fac = pd.DataFrame({"id": fac_ids, "utilisation": used})
    first_final = finals[0]
    fac["capacity_t"] = [caps[first_final].get(fid, math.nan) for fid in fac_ids]
    fac["used_t"] = fac["utilisation"] * fac["capacity_t"]
    binding = sorted(fac.loc[fac["utilisation"] >= 0.999, "id"])
    short = buyers_df[buyers_df["unmet"] > 1e-6]
    status = "met" if short.empty else "short"
    message = (
        "all demand supplied"
        if short.empty
        else "short: "
        + ", ".join(
            f"{r.buyer} {r.unmet:,.0f} of {r.demand:,.0f} {r.unit}" for r in short.itertuples()
        )
    )
    return WorldAllocation(
        mineral=mid,
        products=finals,
        unit=REFERENCE_CONTENT[mid],
        as_of=day.isoformat(),
        scenario=scenario,
        flows=flows,
        buyers=buyers_df,
        facilities=fac,
        binding=binding,
        excluded=excluded,
        status=status,
        message=message,
        demand_source=sorted(set(rows["source"])),
    )


def _iso(query: str) -> str:
    return iso3_or_none(query) or query


# ---------------------------------------------------------------------------------------------
# unlisted capacity: what national output says exists beyond the facilities the layer lists

#: t LCE per t Li content (Li2CO3 73.89 g/mol holds 2 Li, 6.941 g/mol each)
_LCE_PER_LI = 73.89 / (2 * 6.941)
#: Production units counted in each mineral's reference content, and their factor to it.
_OUTPUT_UNITS: dict[str, dict[str, float]] = {
    "lithium": {"t Li content": _LCE_PER_LI},
    "rare_earths": {"t REO": 1.0},
    "graphite": {"t graphite": 1.0},
    "gallium": {"t Ga": 1.0},
    "germanium": {"t Ge": 1.0},
}
#: Unlisted capacity under this share of the country's output is not added (rounding noise).
_MIN_GAP_SHARE = 0.02
#: Capacity units (facilities layer) of reference content, per mineral.
_REF_CAPACITY_UNIT: dict[str, str] = {
    "lithium": "t/y LCE",
    "rare_earths": "t/y REO",
    "graphite": "t/y graphite concentrate",
    "gallium": "t/y Ga",
    "germanium": "t/y Ge",
}
UNLISTED_COLUMNS: tuple[str, ...] = (
    "id",
    "mineral",
    "stage",
    "country",
    "year",
    "output_t",
    "listed_t",
    "unlisted_t",
    "unit",
    "assigned_to",
    "template",
    "placed",
    "basis",
    "source",
)


def _stage_outputs(lay: Layers, mid: str, stage: str, year: int) -> tuple[pd.DataFrame, str]:
    """National output per country at a stage in reference units (latest year <= ``year``),
    and how it was derived. ``share`` rows are shares of world mine output."""
    prod = lay.production
    rows = prod[(prod["mineral"] == mid) & (prod["stage"] == stage) & (prod["year"] <= year)]
    units = _OUTPUT_UNITS[mid]
    if "product" in rows.columns:
        rows = rows[rows["product"].isna()]
    usable = rows[rows["unit"].isin([*units, "share"]) & rows["quantity"].notna()]
    if usable.empty:
        return pd.DataFrame(columns=["country", "year", "output_t", "source"]), ""
    latest = int(usable["year"].max())
    usable = usable[usable["year"] == latest]
    basis = f"{stage} output {latest}"
    if (usable["unit"] == "share").all():
        mined, _ = _stage_outputs(lay, mid, "mining", year)
        world = float(mined.loc[mined["country"] == "WLD", "output_t"].sum())
        if not world > 0:
            return pd.DataFrame(columns=["country", "year", "output_t", "source"]), ""
        out = usable.assign(output_t=usable["quantity"].astype(float) * world)
        basis = (
            f"{stage} share {latest} x world mine output {world:,.0f} "
            f"{REFERENCE_CONTENT[mid]} (estimate)"
        )
    else:
        usable = usable[usable["unit"] != "share"]
        out = usable.assign(
            output_t=usable["quantity"].astype(float) * usable["unit"].map(units).astype(float)
        )
    out = out.assign(year=latest)[["country", "year", "output_t", "source"]]
    return out.reset_index(drop=True), basis


def unlisted_capacity(layers: Layers, mineral: str, *, year: int | None = None) -> pd.DataFrame:
    """Per country and stage, national output (production layer) that the facilities layer's
    known capacities do not account for: the balancing capacity a world allocation adds so that
    world supply matches world output.

    ``unlisted_t = output_t - listed_t`` (reference content: t LCE, t REO, t graphite, t Ga,
    t Ge), where ``listed_t`` sums the known capacities of the country's operating facilities
    of that stage. Rows under 2% of the output are dropped as rounding. A mining gap goes to the
    country's operating mines whose capacity is unknown, in equal parts (``assigned_to``); any
    other gap to a new facility at the place of the country's largest facility of the stage
    (``template``) that takes every feed and makes every product the country's operating
    facilities of the stage do; a gap in a country with no listed facility of the stage cannot be
    placed on the route graph (``placed`` False) and is listed, not used. Output given as a
    share (IEA refining shares) is a share of world mine output, an estimate.

    Examples
    --------
    >>> import geosource as gs
    >>> u = unlisted_capacity(gs.load_layers(), "rare_earths", year=2024)
    >>> row = u[(u["country"] == "CHN") & (u["stage"] == "mining")].iloc[0]
    >>> bool(row["output_t"] == 270_000 and 0 < row["unlisted_t"] <= 270_000)
    True
    """
    mid = normalize_mineral(mineral)
    yr = year if year is not None else dt.date.today().year
    fac = layers.facilities[layers.facilities["mineral"] == mid]
    caps = capacity_in_reference_units(layers, mid).set_index("id")["capacity_ref"]
    rows = []
    for stage in ("mining", "refining"):
        outputs, basis = _stage_outputs(layers, mid, stage, yr)
        here = fac[(fac["stage"] == stage) & (fac["status"] == "operating")]
        for rec in outputs.to_dict("records"):
            iso = str(rec["country"])
            if iso in {"WLD", "ROW"} or not rec["output_t"] > 0:
                continue
            mine = here[here["country"] == iso]
            known = caps.reindex(mine["id"]).dropna()
            listed = float(known.sum())
            gap = float(rec["output_t"]) - listed
            if gap <= _MIN_GAP_SHARE * float(rec["output_t"]):
                continue
            # mines whose capacity is unknown are the likeliest source of the gap; a processing
            # gap becomes one plant taking every feed the country's plants of the stage take
            unknown = sorted(set(mine["id"]) - set(known.index)) if stage == "mining" else []
            template = None if unknown else _template(layers.facilities, caps, mid, stage, iso)
            rows.append(
                {
                    "id": f"unlisted-{mid.replace('_', '-')}-{stage}-{iso.lower()}",
                    "mineral": mid,
                    "stage": stage,
                    "country": iso,
                    "year": int(rec["year"]),
                    "output_t": float(rec["output_t"]),
                    "listed_t": listed,
                    "unlisted_t": gap,
                    "unit": REFERENCE_CONTENT[mid],
                    "assigned_to": ";".join(unknown),
                    "template": template,
                    "placed": bool(unknown) or template is not None,
                    "basis": basis,
                    "source": str(rec["source"]),
                }
            )
    return pd.DataFrame(rows, columns=list(UNLISTED_COLUMNS))


def _template(
    facilities: pd.DataFrame, caps: pd.Series, mid: str, stage: str, iso: str
) -> str | None:
    """The listed facility an unlisted row copies (place, inputs, outputs): the country's
    largest operating facility of the mineral and stage, else its largest of them in any
    status; where the country has none, a site of another mineral there (same stage first)
    gives the place and port links only."""
    here = facilities[facilities["country"] == iso]
    same = here["mineral"] == mid
    for ok in (
        same & (here["status"] == "operating") & (here["stage"] == stage),
        same & (here["stage"] == stage),
        here["stage"] == stage,
        here["stage"].notna(),
    ):
        pool = here[ok]
        if len(pool):
            size = caps.reindex(pool["id"]).fillna(0.0).to_numpy()
            order = np.lexsort((pool["id"].to_numpy(), -size))
            return str(pool["id"].to_numpy()[order[0]])
    return None


def with_unlisted(G: nx.MultiDiGraph, mineral: str, *, year: int | None = None) -> nx.MultiDiGraph:
    """A copy of ``G`` whose layers and nodes add the placed :func:`unlisted_capacity` rows as
    facilities (``unlisted-<mineral>-<stage>-<iso3>``, ``capacity_estimate`` true), each at its
    template's place with the template's links. ``G`` is not changed; the copy is cached."""
    mid = normalize_mineral(mineral)
    yr = year if year is not None else dt.date.today().year
    key = (mid, yr)
    cache = _UNLISTED_CACHE.setdefault(G, OrderedDict())
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    lay = layers_of(G)
    table = unlisted_capacity(lay, mid, year=yr)
    placed = table[table["placed"] & table["template"].notna()]
    fac = lay.facilities.set_index("id", drop=False)
    facilities = lay.facilities.copy()
    for rec in table[table["assigned_to"] != ""].to_dict("records"):
        ids = str(rec["assigned_to"]).split(";")
        share = float(rec["unlisted_t"]) / len(ids)
        at = facilities["id"].isin(ids)
        product = facilities.loc[at, "capacity_product"].where(
            facilities.loc[at, "capacity_product"].notna(),
            facilities.loc[at, "outputs"].astype(str).str.split(";").str[0],
        )
        facilities.loc[at, "capacity_product"] = product
        facilities.loc[at, "capacity"] = round(share, 3)
        facilities.loc[at, "capacity_unit"] = _REF_CAPACITY_UNIT[mid]
        facilities.loc[at, "capacity_estimate"] = True
        facilities.loc[at, "notes"] = (
            f"capacity unknown in the layer; given an equal part of the balancing gap "
            f"({rec['basis']}: {rec['output_t']:,.0f} {rec['unit']} less {rec['listed_t']:,.0f} "
            f"listed, shared by {len(ids)})"
        )
    new_rows = []
    for rec in placed.to_dict("records"):
        t = fac.loc[rec["template"]].to_dict()
        t.update(
            id=rec["id"],
            name=(
                f"Unlisted {rec['stage']} capacity in {rec['country']} (balancing: national "
                f"output less listed capacity)"
            ),
            status="operating",
            capacity=round(float(rec["unlisted_t"]), 3),
            capacity_unit=_REF_CAPACITY_UNIT[mid],
            capacity_basis="balancing",
            capacity_year=int(rec["year"]),
            capacity_estimate=True,
            operator=None,
            owner=None,
            owner_country=rec["country"],
            owner_source=None,
            feeds=None,
            feeds_source=None,
            source=rec["source"],
            as_of=f"{int(rec['year'])}-12-31",
            notes=(
                f"{rec['basis']}: {rec['output_t']:,.0f} {rec['unit']} less "
                f"{rec['listed_t']:,.0f} listed = {rec['unlisted_t']:,.0f}; placed at "
                f"{rec['template']}"
            ),
        )
        peers = fac[
            (fac["mineral"] == mid)
            & (fac["stage"] == rec["stage"])
            & (fac["country"] == rec["country"])
            & (fac["status"] == "operating")
        ]
        for col in ("inputs", "outputs"):
            union = sorted(
                {p for v in peers[col].dropna().astype(str) for p in v.split(";") if p}
                | {p for p in str(t.get(col) or "").split(";") if p and p != "nan"}
            )
            t[col] = ";".join(union) if union else t.get(col)
        if t.get("mineral") != mid or t.get("stage") != rec["stage"]:
            _as_mineral(t, mid, str(rec["stage"]))
        if mid == "graphite":
            t["capacity_product"] = "flake_concentrate"
        new_rows.append(t)
    G2 = G.copy()
    if new_rows:
        extra = gpd.GeoDataFrame(new_rows, geometry="geometry", crs=lay.facilities.crs)
        facilities = pd.concat([facilities, extra], ignore_index=True)
    G2.graph["layers"] = lay.replace(
        facilities=gpd.GeoDataFrame(facilities, crs=lay.facilities.crs)
    )
    if new_rows:
        _copy_template_nodes(G, G2, placed, mid)
    G2.graph["unlisted"] = table
    cache[key] = G2
    while len(cache) > _UNLISTED_KEEP:  # each copy compiles its own routing engine
        cache.popitem(last=False)
    return G2


def _copy_template_nodes(
    G: nx.MultiDiGraph, G2: nx.MultiDiGraph, placed: pd.DataFrame, mid: str
) -> None:
    """Each unlisted facility joins ``G2`` as a node at its template's place, with the
    template's edges (and the edges between templates repeated between their copies)."""
    templates = dict(zip(placed["id"], placed["template"], strict=True))
    stages = dict(zip(placed["id"], placed["stage"], strict=True))
    of_template: dict[str, list[str]] = {}
    for new, tmpl in templates.items():
        of_template.setdefault(tmpl, []).append(new)
    for new, tmpl in templates.items():
        a, ta = f"facility:{new}", f"facility:{tmpl}"
        attrs = {**G.nodes[ta], "facility": new, "name": new, "mineral": mid}
        G2.add_node(a, **{**attrs, "stage": stages[new], "status": "operating"})
        for _, v, d in G.out_edges(ta, data=True):
            G2.add_edge(a, v, **d)
            for other in of_template.get(str(v).split(":", 1)[-1], []):
                G2.add_edge(a, f"facility:{other}", **d)
        for u, _, d in G.in_edges(ta, data=True):
            G2.add_edge(u, a, **d)


def _as_mineral(t: dict[str, Any], mid: str, stage: str) -> None:
    """An unlisted row placed at a site of another mineral or stage takes the mineral's usual
    products for its own stage (in place)."""
    kinds = {"mining": "mine", "refining": "chemical_refinery"}
    t.update(mineral=mid, stage=stage, kind=kinds.get(stage, t["kind"]), inputs=None, outputs=None)
    usual = facility_products(pd.DataFrame([t]))
    ins = cast(tuple[str, ...], usual["inputs"].iat[0])
    outs = cast(tuple[str, ...], usual["outputs"].iat[0])
    t["inputs"] = ";".join(ins) or None
    t["outputs"] = ";".join(outs) or None
    t["capacity_product"] = outs[0] if outs else None
    t["notes"] = f"{t['notes']} (another kind of site: its place and port links only)"


_UNLISTED_CACHE: weakref.WeakKeyDictionary[nx.MultiDiGraph, OrderedDict[tuple[str, int], Any]] = (
    weakref.WeakKeyDictionary()
)
_LAYERS_CACHE: weakref.WeakKeyDictionary[
    nx.MultiDiGraph, OrderedDict[int, tuple[Layers, nx.MultiDiGraph]]
] = weakref.WeakKeyDictionary()
#: Graphs with balancing capacity kept per base graph (most recently used first out last).
_UNLISTED_KEEP = 3


# ---------------------------------------------------------------------------------------------
# judging and comparing allocations


def compare_supply_mix(allocation: WorldAllocation, layers: Layers) -> pd.DataFrame:
    """The model's baseline supply mix beside each buyer's published one (``supply_mix``).

    For every buyer of the allocation with published import shares of the mineral (the newest
    period; rows of the allocated product first, else the mineral's other rows, named in
    ``published_product``), one row per supplier country: the published share, the model's
    share of the buyer's supply by the country of the last plant, and ``gap`` = model minus
    published. ``OTHER`` holds what the source does not name on each side. This is how to
    judge the model: a large gap says the model's capacities, costs or bans are not how the
    buyer is supplied today.

    Parameters
    ----------
    allocation
        A baseline :func:`allocate_world` result.
    layers
        The layers holding the ``supply_mix`` layer (e.g. :func:`geosource.load_layers`).

    Returns
    -------
    pandas.DataFrame
        Columns ``buyer``, ``supplier`` (ISO3 or ``OTHER``), ``published_share``,
        ``model_share``, ``gap``, ``published_product``, ``period``, ``basis`` and
        ``source``; buyers without published shares are left out.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> w = gs.allocate_world(G, "rare_earths", as_of="2026-12-03")
    >>> mix = compare_supply_mix(w, gs.load_layers())
    >>> bool((mix.groupby("buyer")["published_share"].sum().round(6) == 1).all())
    True
    >>> list(mix.columns[:5])
    ['buyer', 'supplier', 'published_share', 'model_share', 'gap']
    """
    mix = layers.supply_mix
    mix = mix[mix["mineral"] == allocation.mineral]
    columns = [
        "buyer",
        "supplier",
        "published_share",
        "model_share",
        "gap",
        "published_product",
        "period",
        "basis",
        "source",
    ]
    out = []
    for buyer in allocation.buyers["buyer"]:
        rows = mix[mix["buyer"] == buyer]
        if rows.empty:
            continue
        same = rows[rows["product"].isin(allocation.products)]
        rows = same if len(same) else rows
        # newest period, then the product with the most rows (the fullest breakdown)
        rows = rows[rows["as_of"] == rows["as_of"].max()]
        product = str(rows.groupby("product").size().sort_index().idxmax())
        rows = rows[rows["product"] == product].sort_values("id", kind="mergesort")
        rows = rows.drop_duplicates("supplier", keep="first")
        published = rows.groupby("supplier")["share"].sum()
        flows = allocation.flows[allocation.flows["query"].map(_iso) == buyer]
        total = float(flows["content_t"].sum())
        model = (
            flows.groupby("plant_country")["content_t"].sum() / total
            if total > 0
            else pd.Series(dtype=float)
        )
        named = [s for s in published.index if s != "OTHER"]
        model_other = float(model[~model.index.isin(named)].sum()) if len(model) else 0.0
        for supplier in sorted(set(named) | {"OTHER"}):
            p_share = float(published.get(supplier, 0.0))
            m_share = model_other if supplier == "OTHER" else float(model.get(supplier, 0.0))
            out.append(
                {
                    "buyer": buyer,
                    "supplier": supplier,
                    "published_share": p_share,
                    "model_share": m_share,
                    "gap": m_share - p_share,
                    "published_product": product,
                    "period": str(rows["period"].iloc[0]),
                    "basis": str(rows["basis"].iloc[0]),
                    "source": str(rows["source"].iloc[0]),
                }
            )
    return pd.DataFrame(out, columns=columns)


def compare_allocations(base: WorldAllocation, after: WorldAllocation) -> dict[str, pd.DataFrame]:
    """What a scenario changes in a world allocation.

    Parameters
    ----------
    base, after
        Two results of :func:`allocate_world` for the same mineral and products, e.g. the
        baseline and a scenario.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"buyers"``: per buyer the demand, supplied and unmet before (``_base``) and after
        (``_scenario``), ``delta_supplied``, ``delta_unmet``, ``delta_freight_usd`` (landed
        freight, USD a year) and ``delta_feoc_share``. ``"facilities"``: per facility the
        content tonnes before and after, ``delta_t`` and ``change`` (``ramps up``,
        ``cut back``, ``cut off``, ``new`` or ``unchanged``).

    Raises
    ------
    ValueError
        If the two allocations are of different minerals or products.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> base = gs.allocate_world(G, "rare_earths", as_of="2026-12-03")
    >>> ban = gs.allocate_world(G, "rare_earths", as_of="2026-12-03",
    ...                         scenario="china-ree-export-ban")
    >>> d = compare_allocations(base, ban)
    >>> buyers = d["buyers"].set_index("buyer")
    >>> bool(buyers["delta_unmet"].sum() > 0)  # the ban leaves the world short
    True
    >>> "cut back" in set(d["facilities"]["change"])
    True
    """
    if base.mineral != after.mineral or base.products != after.products:
        raise ValueError(
            f"compare allocations of the same mineral and products: {base.mineral} "
            f"{'/'.join(base.products)} vs {after.mineral} {'/'.join(after.products)}"
        )

    def buyers(w: WorldAllocation) -> pd.DataFrame:
        cost = (
            w.flows.assign(usd=w.flows["tonnes"] * w.flows["cost_usd_per_t"].fillna(0.0))
            .assign(demand_buyer=w.flows["query"].map(_iso))
            .groupby("demand_buyer")["usd"]
            .sum()
        )
        b = w.buyers.set_index("buyer")[["demand", "supplied", "unmet", "feoc_share", "unit"]]
        return b.assign(freight_usd=cost.reindex(b.index).fillna(0.0))

    a, b = buyers(base), buyers(after)
    joined = a.merge(
        b, left_index=True, right_index=True, how="outer", suffixes=("_base", "_scenario")
    )
    out = pd.DataFrame(
        {
            "buyer": joined.index,
            "demand": joined["demand_base"].fillna(joined["demand_scenario"]),
            "supplied_base": joined["supplied_base"],
            "supplied_scenario": joined["supplied_scenario"],
            "delta_supplied": joined["supplied_scenario"] - joined["supplied_base"],
            "unmet_base": joined["unmet_base"],
            "unmet_scenario": joined["unmet_scenario"],
            "delta_unmet": joined["unmet_scenario"] - joined["unmet_base"],
            "delta_freight_usd": joined["freight_usd_scenario"] - joined["freight_usd_base"],
            "delta_feoc_share": joined["feoc_share_scenario"] - joined["feoc_share_base"],
            "unit": joined["unit_base"].fillna(joined["unit_scenario"]),
        }
    ).reset_index(drop=True)

    def used(w: WorldAllocation) -> pd.Series:
        per: dict[str, float] = {}
        for chain, t in zip(w.flows["chain"], w.flows["content_t"], strict=True):
            for fid in chain:
                per[fid] = per.get(fid, 0.0) + float(t)
        return pd.Series(per, dtype=float)

    ub, ua = used(base), used(after)
    ids = sorted(set(ub.index) | set(ua.index))
    fac = pd.DataFrame(
        {
            "id": ids,
            "content_t_base": ub.reindex(ids).fillna(0.0).to_numpy(),
            "content_t_scenario": ua.reindex(ids).fillna(0.0).to_numpy(),
        }
    )
    fac["delta_t"] = fac["content_t_scenario"] - fac["content_t_base"]
    tol = 1e-6 * np.maximum(1.0, fac["content_t_base"].to_numpy())
    fac["change"] = np.select(
        [
            (fac["content_t_base"] <= tol) & (fac["content_t_scenario"] > tol),
            (fac["content_t_scenario"] <= tol) & (fac["content_t_base"] > tol),
            fac["delta_t"] > tol,
            fac["delta_t"] < -tol,
        ],
        ["new", "cut off", "ramps up", "cut back"],
        default="unchanged",
    )
    fac = fac.sort_values(["change", "delta_t", "id"], kind="mergesort").reset_index(drop=True)
    return {"buyers": out, "facilities": fac}

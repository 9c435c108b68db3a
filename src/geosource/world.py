"""World allocation: every buyer at once, sharing finite capacity, so that a cut shows who is short.

``allocate_world`` solves one linear programme (HiGHS, through ``scipy.optimize.linprog``) over
the feasible chains of :mod:`geosource.chains` for every buyer of the demand layer:

    minimise   Σ_c cost_c · x_c + UNMET_COST · Σ_b u_b
    subject to Σ_{c to b} content(F_c) · x_c + u_b = demand_b         for every buyer b
               Σ_{c through f} x_c / capacity_f(F_c) ≤ 1               for every facility f
               x, u ≥ 0

``x_c`` is tonnes a year of the final product on chain ``c``; ``content(F_c)`` turns them into the
mineral's reference content (t LCE, t REO, t Ga, t Ge; graphite in tonnes), the unit demand is
counted in. ``capacity_f(F)`` is the facility's capacity in tonnes of ``F`` (as ``capacity_t`` of a
chain), so a facility that feeds several chains, stages or buyers is counted once. Chains blocked
by a ban are not variables of the buyer they are banned to. Chains through a facility whose
capacity is not known are left out and listed (an unknown capacity is not an infinite one).
``cost_c`` is the chain's score (in [0, 1)); the rest-of-world row (``ROW``), which has no demand
centre, may take any chain whose product could legally go to a country no measure names (a ban on
every destination blocks it), at cost 1, above the named buyers' own chains: the named buyers'
shortfalls are therefore optimistic where the rest of the world would outbid them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .chains import (
    ChainOptions,
    as_date,
    build_chains,
    buyer_queries,
    facility_capacity,
    layers_of,
    statuses,
)
from .countries import normalize_country
from .exposure import ExposureParams, Leg, leg_controls, measures_in_force
from .layers import Layers
from .minerals import PRODUCTS, REFERENCE_CONTENT, normalize_mineral, normalize_product
from .scoring import Weights

__all__ = ["FEOC", "UNMET_COST", "WorldAllocation", "allocate_world"]

log = logging.getLogger(__name__)

#: Unmet demand costs this much per unit of reference content (chain costs are below 1).
UNMET_COST = 10.0
#: Covered nations of 10 U.S.C. 4872(d): a buyer's FEOC share counts supply located there.
FEOC = frozenset({"CHN", "RUS", "IRN", "PRK"})


@dataclass
class WorldAllocation:
    """The result of :func:`allocate_world`.

    Attributes
    ----------
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


def allocate_world(
    G: nx.MultiDiGraph,
    mineral: str,
    product: str | None = None,
    *,
    as_of: dt.date | str | None = None,
    scenario: Any = None,
    demand: pd.DataFrame | None = None,
    include_development: bool | list[str] = False,
    layers: Layers | None = None,
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

    Returns
    -------
    WorldAllocation

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> w = gs.allocate_world(G, "rare_earths", as_of="2026-12-03")
    >>> bool((w.facilities["used_t"] <= w.facilities["capacity_t"] * (1 + 1e-6)).all())
    True
    """
    from .scenarios import apply_scenario

    lay = layers_of(G, layers)
    mid = normalize_mineral(mineral)
    finals = normalize_product(mid, product)
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
            queries.extend(buyer_queries(lay, b if b == "EU" else normalize_country(b), mid))
        except ValueError as exc:
            log.warning("buyer %s has no demand centre and is left out: %s", b, exc)
    if not queries:
        raise ValueError(f"no buyer of the {mid} demand rows has a demand centre")
    frame, _ = build_chains(
        G,
        lay,
        mid,
        finals,
        queries,
        day,
        w,
        ExposureParams(),
        statuses(include_development),
        ChainOptions(distinct="facilities", closed=closed, blocked=blocked, include_blocked=True),
    )
    row_ok = _legal_for_rest_of_world(frame, lay, mid, day)
    return _solve(frame.assign(_row_ok=row_ok), rows, lay, mid, finals, day, name)


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


def _capacities(lay: Layers, finals: tuple[str, ...]) -> dict[str, dict[str, float]]:
    return {f: facility_capacity(lay.facilities, f) for f in finals}


def _solve(
    frame: pd.DataFrame,
    rows: pd.DataFrame,
    lay: Layers,
    mid: str,
    finals: tuple[str, ...],
    day: dt.date,
    scenario: str | None,
) -> WorldAllocation:
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    caps = _capacities(lay, finals)
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
    usable = frame[ok]
    chains = usable[usable["blocked"] == ""].reset_index(drop=True)
    buyers = list(rows["buyer"])
    has_row = "ROW" in buyers
    # ROW (no demand centre) may take any chain whose product could legally go to a country no
    # measure names, at cost 1: one extra variable per distinct such chain
    legal = usable[usable["_row_ok"]].drop_duplicates(["chain", "product"])
    row_chains = legal.reset_index(drop=True) if has_row else legal.iloc[0:0]
    n_c, n_r, n_b = len(chains), len(row_chains), len(buyers)
    n = n_c + n_r + n_b
    content = np.array([PRODUCTS[f].content for f in chains["product"]], dtype=float)
    row_content = np.array([PRODUCTS[f].content for f in row_chains["product"]], dtype=float)
    cost = np.concatenate(
        [chains["score"].to_numpy(dtype=float), np.ones(n_r), np.full(n_b, UNMET_COST)]
    )

    # demand equalities (query label is the buyer code; EU members share the EU's demand)
    b_pos = {b: i for i, b in enumerate(buyers)}
    q = chains["query"].map(lambda x: "EU" if x == "EU" else x)
    r_idx, c_idx, vals = [], [], []
    for j, (qb, cont) in enumerate(zip(q, content, strict=True)):
        key = qb if qb in b_pos else normalize_country(qb)
        if key in b_pos:
            r_idx.append(b_pos[key])
            c_idx.append(j)
            vals.append(cont)
    if has_row:
        for k, cont in enumerate(row_content):
            r_idx.append(b_pos["ROW"])
            c_idx.append(n_c + k)
            vals.append(cont)
    for i in range(n_b):
        r_idx.append(i)
        c_idx.append(n_c + n_r + i)
        vals.append(1.0)
    a_eq = coo_matrix((vals, (r_idx, c_idx)), shape=(n_b, n)).tocsr()
    b_eq = rows["demand"].to_numpy(dtype=float)

    # facility capacities (each chain through f uses x / cap_f(F) of f)
    fac_ids = sorted({fid for c in (*chains["chain"], *row_chains["chain"]) for fid in c})
    f_pos = {fid: i for i, fid in enumerate(fac_ids)}
    r2, c2, v2 = [], [], []
    for j, (chain, f) in enumerate(zip(chains["chain"], chains["product"], strict=True)):
        for fid in chain:
            r2.append(f_pos[fid])
            c2.append(j)
            v2.append(1.0 / caps[f][fid])
    for k, (chain, f) in enumerate(zip(row_chains["chain"], row_chains["product"], strict=True)):
        for fid in chain:
            r2.append(f_pos[fid])
            c2.append(n_c + k)
            v2.append(1.0 / caps[f][fid])
    a_ub = coo_matrix((v2, (r2, c2)), shape=(len(fac_ids), n)).tocsr()
    b_ub = np.ones(len(fac_ids))
    res = linprog(
        cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs"
    )
    if res.status != 0:
        raise RuntimeError(f"the allocation LP did not solve: {res.message}")
    x = res.x
    return _result(
        chains,
        row_chains,
        rows,
        x,
        a_ub,
        fac_ids,
        caps,
        excluded,
        mid,
        finals,
        day,
        scenario,
    )


def _result(
    chains: pd.DataFrame,
    row_chains: pd.DataFrame,
    rows: pd.DataFrame,
    x: np.ndarray,
    a_ub: Any,
    fac_ids: list[str],
    caps: dict[str, dict[str, float]],
    excluded: pd.DataFrame,
    mid: str,
    finals: tuple[str, ...],
    day: dt.date,
    scenario: str | None,
) -> WorldAllocation:
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
        "plant_id",
        "plant_country",
    ]
    parts = [chains.assign(tonnes=x[:n_c])]
    if n_r:
        parts.append(
            row_chains.assign(query="ROW", buyer="ROW", score=1.0, tonnes=x[n_c : n_c + n_r])
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
    try:
        return normalize_country(query)
    except ValueError:
        return query

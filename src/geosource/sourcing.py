"""Sourcing paths: every feasible supply chain of a product for a buyer, scored and ranked.

A chain runs from a source (mine, recycler, or by-product plant) through each processing step to a
facility that makes the product the buyer asks for, then to the buyer's demand centre
(:mod:`geosource.chains` builds them). Options are distinct by the countries of every stage and
the corridor (``distinct="countries"``: the best chain stands for the others, and ``chains`` says
how many), or every chain of distinct facilities is its own option (``distinct="facilities"``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from ._records import Records
from .chains import (
    ChainContext,
    ChainOptions,
    ChainQuery,
    Distinct,
    Links,
    as_date,
    bloc_members,
    build_chains,
    buyer_queries,
    layers_of,
    statuses,
)
from .countries import normalize_country
from .exposure import COMPONENTS, ExposureParams
from .freshness import freshness_warnings
from .layers import Layers
from .minerals import PRODUCTS, normalize_mineral, normalize_product
from .network import node_id
from .objectives import OBJECTIVE_COLUMNS, OBJECTIVE_UNITS
from .routing import check_passages
from .scoring import Weights, pareto_by_group
from .transport import Disruption

__all__ = ["OPTION_COLUMNS", "sourcing_paths"]

log = logging.getLogger(__name__)

#: Transport columns (docs/transport.md), after ``capacity_t``.
TRANSPORT_OUTPUT: tuple[str, ...] = (
    "cost_usd_per_t",
    "days",
    "co2e_kg_per_t",
    "leg_cost_usd_per_t",
    "leg_days",
    "leg_co2e_kg_per_t",
    "transport",
)

#: Columns of the frame :func:`sourcing_paths` returns, in order (geometry last).
OPTION_COLUMNS: tuple[str, ...] = (
    "query",
    "rank",
    "mineral",
    "product",
    "buyer",
    "chain",
    "chain_countries",
    "owner_countries",
    "products",
    "link",
    "status",
    "source",
    "source_id",
    "source_country",
    "source_stage",
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
    "tkm_per_t",
    "tonnes_per_t",
    "leg_km",
    "leg_modes",
    "leg_passages",
    "leg_disrupted",
    "sea_km",
    "land_km",
    "air_km",
    "passages",
    "disrupted",
    "blocked",
    "capacity_t",
    "demand_share",
    *TRANSPORT_OUTPUT,
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


def sourcing_paths(  # noqa: PLR0913 (public entry point: keyword-only options)
    G: nx.MultiDiGraph,
    mineral: str | Iterable[str],
    to: str | Iterable[str],
    k: int | None = 5,
    *,
    product: str | None = None,
    as_of: dt.date | str | None = None,
    weights: Weights | dict[str, float] | None = None,
    params: ExposureParams | None = None,
    include_development: bool | Iterable[str] = False,
    links: Links = "compatible",
    distinct: Distinct = "countries",
    closed_passages: Iterable[str] = (),
    closed_nodes: Iterable[Any] = (),
    exclude: Iterable[str] = (),
    exclude_owners: Iterable[str] = (),
    include_blocked: bool = False,
    disruption: Disruption | None = None,
    layers: Layers | None = None,
) -> gpd.GeoDataFrame:
    """Ranked supply chains of a mineral's product for a buyer, each explaining itself.

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
    product
        The product the buyer asks for (a product id of :data:`geosource.PRODUCTS`, e.g.
        ``"ndfeb_magnet"``, ``"high_purity_gallium"``, or ``"lithium_chemicals"``). Default:
        the mineral's usual traded refined product (lithium carbonate or hydroxide, separated
        rare-earth oxides, anode material, primary gallium, refined germanium).
    as_of
        Date for export controls (default: today).
    weights
        :class:`~geosource.scoring.Weights` or a dict of them (unknown keys rejected). Their
        ``objective`` (distance, cost, days, co2e or a mix) routes every leg and ranks the
        options (see :mod:`geosource.objectives`).
    params
        :class:`~geosource.exposure.ExposureParams` (alignment values, measure severities).
    include_development
        ``True`` adds facilities under construction or in development; a list of statuses
        (``["construction", "development", "deposit"]``) adds exactly those.
    links
        ``"compatible"`` (default): any leg whose product the upstream facility makes and the
        downstream one takes; ``"documented"``: only documented supply links (``feeds``). Each
        leg's ``link`` says which it is.
    distinct
        ``"countries"`` (default): one option per country of every stage and corridor, the best
        chain standing for the others; ``"facilities"``: every chain of distinct facilities.
    closed_passages, closed_nodes
        Closures answered by the routing engine's masks (no graph rebuild). A closure never
        makes an option better: an option whose natural route crossed a closed passage counts
        that passage as disrupted (chokepoint component 1) on top of the longer detour.
    exclude, exclude_owners
        Countries no stage may be located in, or owned from (``exclude=["CHN"]`` is "outside
        China"); names, alpha-2 and alpha-3 accepted.
    include_blocked
        Keep chains that a ban in force makes infeasible, flagged in ``blocked`` and ranked
        after every feasible option (default: left out and listed in ``attrs["blocked"]``).
    disruption
        A :class:`~geosource.transport.Disruption` (war-risk premiums, added days, toll and
        freight-rate increases) applied to routing by cost or days and to every option's cost
        and days; scenarios carry one.
    layers
        Override the layers the graph carries.

    Returns
    -------
    GeoDataFrame
        One row per option (columns in :data:`OPTION_COLUMNS`), best first within each query.
        ``chain`` lists the facility ids from source to final plant, ``products`` the product
        moved on each leg (the last to the buyer), ``tonnes_per_t`` the tonnes moved on each leg
        per tonne of final product and ``tkm_per_t`` their tonne-kilometres; ``capacity_t`` is
        the chain's bottleneck capacity in tonnes of the final product a year (``NaN`` when no
        facility's capacity is known). ``pareto`` marks the options no other option of the same
        query beats on both the objective's total (``tkm_per_t`` for distance,
        ``cost_usd_per_t``, ``days`` or ``co2e_kg_per_t``) and exposure. ``cost_usd_per_t``,
        ``days`` and ``co2e_kg_per_t`` (and the same per leg) come from the layers' transport
        parameters (docs/transport.md). ``attrs`` holds the weights, parameters, date, the
        transport assumptions, how many chains each query had, and ``warnings``: sentences on
        measures that change state between their last review and ``as_of`` and on layers
        reviewed long before it (:func:`geosource.freshness_warnings`).

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
    lay = layers_of(G, layers)
    day = as_date(as_of)
    w = weights if isinstance(weights, Weights) else Weights.from_dict(weights or {})
    p = params or ExposureParams()
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k must be a positive number of options or None, got {k!r}")
    minerals = [mineral] if isinstance(mineral, str) else list(mineral)
    buyers = [to] if isinstance(to, str) else list(to)
    if not minerals or not buyers:
        raise ValueError("give at least one mineral and one buyer")
    allowed = statuses(include_development)
    opts = ChainOptions(
        links=links,
        distinct=distinct,
        closed=check_passages(G, closed_passages),
        blocked=frozenset(closed_nodes),
        include_blocked=include_blocked,
        exclude=_countries(exclude, "exclude"),
        exclude_owners=_countries(exclude_owners, "exclude_owners"),
        disruption=disruption,
    )
    closed = opts.closed
    blocked_rows: list[dict[str, Any]] = []
    parts = []
    counts: dict[str, dict[str, int]] = {}
    chain_counts: dict[str, dict[str, int]] = {}
    for m in minerals:
        mid = normalize_mineral(m)
        finals = normalize_product(mid, product)
        queries = [q for b in buyers for q in buyer_queries(lay, b, mid)]
        frame, context = build_chains(
            G,
            lay,
            ChainQuery(mid, finals, queries, day),
            w,
            p,
            allowed,
            opts,
        )
        blocked_rows.extend(_blocked_summary(context.blocked, mid))
        assumptions = context.assumptions
        picked, n_options = _select(frame, k, distinct, w)
        for q, n in n_options.items():
            counts.setdefault(mid, {})[q] = n
        sizes = frame.groupby("query", sort=True).size()
        chain_counts[mid] = {str(q): int(n) for q, n in sizes.items()}
        parts.append(_finish(picked, context, mid, day))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    share, whose = _demand_share(lay, out)
    out["demand_share"] = share
    out["reasons"] = [
        f"{text}; small: its capacity covers {x:.1%} of {who}'s demand" if x < SMALL_SHARE else text
        for text, x, who in zip(out["reasons"], share, whose, strict=True)
    ]
    out = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
    out.attrs = {
        "minerals": [normalize_mineral(m) for m in minerals],
        "buyers": buyers,
        "product": product,
        "as_of": day.isoformat(),
        "weights": w.to_dict(),
        "objective": {
            "objective": w.objective,
            "columns": {n: OBJECTIVE_COLUMNS[n] for n, _ in w.objectives},
            "units": {n: OBJECTIVE_UNITS[n] for n, _ in w.objectives},
        },
        "transport": assumptions,
        "params": {
            "alignment": dict(p.alignment),
            "severity": dict(p.severity),
            "scope": dict(p.scope),
            "unknown": p.unknown,
        },
        "statuses": list(allowed),
        "links": links,
        "distinct": distinct,
        "closed_passages": list(closed),
        "exclude": sorted(opts.exclude),
        "exclude_owners": sorted(opts.exclude_owners),
        "blocked": Records(blocked_rows),
        "options": counts,
        "chains": chain_counts,
        "warnings": freshness_warnings(lay, day, [normalize_mineral(m) for m in minerals]),
    }
    return out


def _countries(values: Iterable[str], name: str) -> frozenset[str]:
    if isinstance(values, str):
        values = [values]
    out = set()
    for v in values:
        try:
            out.add(normalize_country(str(v)))
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return frozenset(out)


def _blocked_summary(frame: pd.DataFrame, mineral: str) -> list[dict[str, Any]]:
    """One line per blocked chain: what it was and the ban that blocks it."""
    if frame.empty:
        return []
    return [
        {
            "mineral": mineral,
            "query": r["query"],
            "chain": list(r["chain"]),
            "chain_countries": list(r["chain_countries"]),
            "products": list(r["products"]),
            "blocked_by": r["blocked"],
        }
        for r in frame.sort_values(["query", "score"], kind="mergesort").to_dict("records")
    ]


def _select(
    frame: pd.DataFrame, k: int | None, distinct: Distinct, w: Weights
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Per query: the distinct options, ranked; the Pareto front over them (the objective's
    total against exposure; for a mix, the transport term); the best ``k``."""
    frame = frame.assign(_ids=frame["chain"].map(";".join), _b=frame["blocked"] != "")
    order = ["query", "_b", "score", "tkm_per_t", "_ids", "demand_id"]
    frame = frame.sort_values(order, kind="mergesort")
    if distinct == "countries":
        group = ["query", "chain_countries", "corridor"]
        n = frame.groupby(group, sort=False)["score"].transform("size")
        best = frame.assign(chains=n).drop_duplicates(group, keep="first")
    else:
        best = frame.assign(chains=1)
    best = best.drop(columns="_ids").reset_index(drop=True)
    objectives = w.objectives
    x = OBJECTIVE_COLUMNS[objectives[0][0]] if len(objectives) == 1 else "transport"
    best["pareto"] = pareto_by_group(best, "query", x, "exposure") & ~best["_b"]
    best = best.drop(columns="_b")
    best["rank"] = best.groupby("query", sort=False).cumcount().to_numpy() + 1
    counts = {str(q): int(n) for q, n in best.groupby("query", sort=False).size().items()}
    if k is not None:
        best = best[best["rank"] <= k]
    return best.reset_index(drop=True), counts


def _geometry(legs: tuple[Any, ...], chain: tuple[str, ...], demand: str, ctx: ChainContext) -> Any:
    nodes = [node_id("facility", f) for f in chain] + [node_id("demand", demand)]
    lines: list[Any] = []
    for (a, b), key in zip(itertools.pairwise(nodes), legs, strict=True):
        lines.extend(ctx.matrices[key].route(a, b).geometry.geoms)
    return shapely.MultiLineString(lines)


def _finish(ranked: pd.DataFrame, ctx: ChainContext, mineral: str, day: dt.date) -> pd.DataFrame:
    fac_name, dem_name = ctx.facility_names, ctx.demand_names
    geoms = [
        _geometry(lg, ch, d, ctx)
        for lg, ch, d in zip(ranked["legs"], ranked["chain"], ranked["demand_id"], strict=True)
    ]
    mine_ids = [m if isinstance(m, str) else None for m in ranked["mine_id"]]
    out = pd.DataFrame(
        {
            "query": ranked["query"].to_numpy(),
            "rank": ranked["rank"].to_numpy(),
            "mineral": mineral,
            "product": ranked["product"].to_numpy(),
            "buyer": ranked["buyer"].to_numpy(),
            "chain": ranked["chain"].to_numpy(),
            "chain_countries": ranked["chain_countries"].to_numpy(),
            "owner_countries": ranked["owner_countries"].to_numpy(),
            "products": ranked["products"].to_numpy(),
            "link": ranked["link"].to_numpy(),
            "status": ranked["status"].to_numpy(),
            "source": [fac_name[s] for s in ranked["source_id"]],
            "source_id": ranked["source_id"].to_numpy(),
            "source_country": ranked["source_country"].to_numpy(),
            "source_stage": ranked["source_stage"].to_numpy(),
            "mine": pd.Series([fac_name[m] if m else None for m in mine_ids], dtype="str"),
            "mine_id": pd.Series(mine_ids, dtype="str"),
            "mine_country": ranked["mine_country"].to_numpy(),
            "plant": [fac_name[pl] for pl in ranked["plant_id"]],
            "plant_id": ranked["plant_id"].to_numpy(),
            "plant_country": ranked["plant_country"].to_numpy(),
            "plant_stage": ranked["plant_stage"].to_numpy(),
            "demand": [dem_name[d] for d in ranked["demand_id"]],
            "demand_id": ranked["demand_id"].to_numpy(),
        }
    )
    legs = ("tonnes_per_t", "leg_km", "leg_modes", "leg_passages", "leg_disrupted")
    for c in ("distance_km", "tkm_per_t", *legs, "sea_km", "land_km", "air_km"):
        out[c] = ranked[c].to_numpy()
    out["passages"] = ranked["corridor"].to_numpy()
    out["disrupted"] = ranked["disrupted"].to_numpy()
    out["blocked"] = ranked["blocked"].to_numpy()
    out["capacity_t"] = ranked["capacity_t"].to_numpy(dtype=float)
    out["demand_share"] = np.nan  # filled by sourcing_paths, which has the demand layer
    for c in TRANSPORT_OUTPUT:
        out[c] = ranked[c].to_numpy()
    out["exposure"] = ranked["exposure"].to_numpy()
    for c in COMPONENTS:
        out[c] = ranked[c].to_numpy()
    out["score"] = ranked["score"].to_numpy()
    out["pareto"] = ranked["pareto"].to_numpy()
    records: list[dict[str, Any]] = []
    for r, src in zip(out.to_dict("records"), ranked.to_dict("records"), strict=True):
        rec = {str(key): v for key, v in r.items()}
        rec["corridor"] = src["corridor"]
        for comp in COMPONENTS:
            rec[f"{comp}_reason"] = src[f"{comp}_reason"]
        records.append(rec)
    out["reasons"] = [_reasons(r) for r in records]
    for c in COMPONENTS:
        out[f"{c}_reason"] = ranked[f"{c}_reason"].to_numpy()
    out["as_of"] = day.isoformat()
    out["chains"] = ranked["chains"].to_numpy()
    result: pd.DataFrame = gpd.GeoDataFrame(out, geometry=geoms, crs="EPSG:4326")
    return result


#: Options whose capacity covers less than this share of the buyer's demand are flagged small.
SMALL_SHARE = 0.05


def _demand_share(lay: Layers, ranked: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Each option's capacity as a share of its buyer's annual demand (the demand layer's latest
    row for the mineral; the bloc's row for ``EU`` and for a member without a row of its own);
    nan where either is unknown."""
    demand = lay.demand
    out = np.full(len(ranked), np.nan)
    cache: dict[tuple[str, str], float] = {}
    labels: dict[tuple[str, str], str] = {}
    whose: list[str] = []
    eu = set(bloc_members(lay, "EU"))
    for i, (query, mineral, product, cap) in enumerate(
        zip(
            ranked["query"], ranked["mineral"], ranked["product"], ranked["capacity_t"], strict=True
        )
    ):
        key = (str(query), str(mineral))
        if key not in cache:
            buyer = "EU" if str(query).upper() == "EU" else _country_or(query)
            rows = demand[(demand["buyer"] == buyer) & (demand["mineral"] == mineral)]
            if rows.empty and buyer in eu:
                # a member without its own row: measured against the bloc's demand
                rows = demand[(demand["buyer"] == "EU") & (demand["mineral"] == mineral)]
                labels[key] = "the EU"
            if rows.empty:
                cache[key] = np.nan
            else:
                latest = rows[rows["year"] == rows["year"].max()]
                cache[key] = float(latest["demand_t"].sum())
        total = cache[key]
        if total and total == total and cap == cap:
            out[i] = float(cap) * PRODUCTS[str(product)].content / total
        whose.append(labels.get(key, str(query)))
    return out, whose


def _country_or(query: Any) -> str:
    try:
        return normalize_country(str(query))
    except ValueError:
        return str(query)


def _reasons(r: dict[str, Any]) -> str:
    """A short readable list: where each stage happens, what binds it, what it crosses."""
    stages = " → ".join(
        f"{p.replace('_', ' ')} from {c}"
        for p, c in zip(r["products"], r["chain_countries"], strict=True)
    )
    bits = [
        stages,
        f"{r['distance_km']:,.0f} km, {r['tkm_per_t']:,.0f} t·km per t, "
        f"{r['cost_usd_per_t']:,.0f} USD/t landed freight, {r['days']:,.1f} days, "
        f"{r['co2e_kg_per_t']:,.0f} kg CO2e/t",
    ]
    if r["export_controls"] > 0:
        bits.append("export controls: " + r["export_controls_reason"].split(";")[0])
    bits.append(f"alignment: {r['alignment_reason'].split(';')[0]}")
    if r["corridor"]:
        bits.append("crosses " + r["corridor"].replace(";", ", "))
    return "; ".join(bits)

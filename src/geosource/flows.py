"""Capacity-aware allocation for one buyer, and the solvers behind its checks.

``allocate`` answers "can we meet X tonnes a year, and from where, without more than Y% of it from
any one country?". It is one buyer's row of :func:`geosource.allocate_world`'s linear programme
(HiGHS via ``scipy.optimize.linprog``): every feasible multi-stage chain, facility capacities
counted once across stages and buyers (with the balancing capacity national output adds), bans
that block, and landed freight cost per tonne as the cost. ``competing=True`` puts every other
buyer of the demand layer in the same programme. Unmet demand is a variable with a cost above any
chain's, so every request has an answer: the status and the binding constraint say why demand
went unmet.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .capacity import REFERENCE_UNITS, UNIT_FACTORS, capacity_in_reference_units
from .chains import as_date, buyer_centres, layers_of
from .countries import normalize_country
from .exposure import ExposureParams
from .layers import Layers
from .minerals import normalize_mineral, normalize_product
from .world import allocate_world

__all__ = [
    "REFERENCE_UNITS",
    "UNIT_FACTORS",
    "Allocation",
    "allocate",
    "capacity_in_reference_units",
]


@dataclass
class Allocation:
    """The answer to an allocation request.

    Returned by :func:`allocate`; tonnes are in the mineral's reference unit (``unit``).

    Parameters
    ----------
    mineral, buyer
        The mineral id and the buyer asked for.
    unit
        The reference unit of every tonne figure (``t LCE``, ``t REO``, ...).
    demand_t, supplied_t, unmet_t
        Tonnes a year asked for, supplied and not supplied.
    total_cost
        Landed freight of the supplied tonnes, USD a year (unmet demand is ``unmet_t``).
    status
        ``met`` (all demand supplied) or ``unmet`` (some demand could not be supplied).
    binding
        Why demand went unmet: ``capacity`` (not enough usable capacity on reachable chains) or
        ``max_country_share`` (the cap forbids using the capacity there is); ``None`` when met.
    max_country_share
        The cap that was asked for (``None``: no cap).
    flows
        One row per chain with flow: source, plant, demand centre, countries, ``flow_t``
        (reference content), ``cost`` (landed freight, USD a year).
    concentration
        Of the supplied tonnes: per stage (``source``, ``processing``) the top country, its
        share, the HHI, and the share touching a FEOC covered nation.
    excluded
        Facilities left out because their capacity is missing or not convertible, with reasons.
    solver
        The solver and programme that answered.
    message
        One sentence on the outcome.
    extra
        The world allocation behind the answer (``world``) and the facilities at capacity
        (``binding``).

    Examples
    --------
    :func:`allocate` makes one (its example prints one); the first fields, in order:

    >>> import dataclasses
    >>> [f.name for f in dataclasses.fields(Allocation)][:8]
    ['mineral', 'buyer', 'unit', 'demand_t', 'supplied_t', 'unmet_t', 'total_cost', 'status']
    """

    mineral: str
    buyer: str
    unit: str
    demand_t: float
    supplied_t: float
    unmet_t: float
    total_cost: float
    status: str
    binding: str | None
    max_country_share: float | None
    flows: pd.DataFrame
    concentration: dict[str, dict[str, Any]]
    excluded: pd.DataFrame
    solver: str
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Allocation({self.mineral} → {self.buyer}: {self.supplied_t:,.1f} of "
            f"{self.demand_t:,.1f} {self.unit} supplied, status={self.status!r}, "
            f"binding={self.binding!r})"
        )


# ---------------------------------------------------------------------------------------------
# the API


def allocate(  # noqa: PLR0913 (public entry point: keyword-only options)
    G: nx.MultiDiGraph,
    layers: Layers | None = None,
    *,
    mineral: str,
    to: str,
    demand_t: float,
    max_country_share: float | None = None,
    scenario: Any = None,
    as_of: dt.date | str | None = None,
    weights: Any = None,
    params: ExposureParams | None = None,
    include_development: bool = False,
    competing: bool = False,
) -> Allocation:
    """Supply ``demand_t`` tonnes a year (reference unit) of a mineral to a buyer at least cost.

    The request is one buyer's row of :func:`geosource.allocate_world`'s linear programme: the
    same chains, capacities (with the balancing capacity national output adds), bans and
    landed freight costs.

    Parameters
    ----------
    G, layers
        The route graph and its layers (``None``: the layers the graph carries).
    mineral, to
        As in :func:`geosource.sourcing_paths` (``to`` a country, ``"EU"`` or a demand-centre
        id).
    demand_t
        Tonnes a year in :data:`REFERENCE_UNITS` (t LCE, t REO, t graphite, t Ga, t Ge).
    max_country_share
        Most any one country may supply at either stage (source and processing), as a share of
        ``demand_t``. A cap that cannot be met in full gives the most the cap allows, with
        ``binding="max_country_share"`` and the shortfall.
    scenario
        A :class:`~geosource.scenarios.Scenario` or built-in name, applied first.
    as_of, weights, params, include_development
        As in :func:`geosource.sourcing_paths` (``weights`` and ``params`` only break ties:
        capacity goes at landed freight cost).
    competing
        Every other buyer of the demand layer asks for its demand at the same time (the
        request replaces the buyer's own row): capacity others take is not free. Without it,
        every facility's capacity is free for this buyer.

    Returns
    -------
    Allocation
        Never raises because demand cannot be met: ``status`` and ``binding`` say so.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> a = gs.allocate(G, mineral="lithium", to="IND", demand_t=20_000, as_of="2025-06-30")
    >>> a.status, round(a.unmet_t, 6)
    ('met', 0.0)
    >>> a
    Allocation(lithium → IND: 20,000.0 of 20,000.0 t LCE supplied, status='met', binding=None)
    >>> round(float(a.flows["flow_t"].sum()))
    20000
    """
    if not (isinstance(demand_t, int | float) and math.isfinite(demand_t) and demand_t > 0):
        raise ValueError(f"demand_t must be a positive number of tonnes, got {demand_t!r}")
    if max_country_share is not None and not 0 < max_country_share <= 1:
        raise ValueError(f"max_country_share must be in (0, 1], got {max_country_share}")
    del weights, params  # capacity goes at landed cost; the score only breaks ties
    lay = layers_of(G, layers)
    mid = normalize_mineral(mineral)
    label = _buyer_label(lay, to, mid)
    finals = normalize_product(mid, None)
    unit = REFERENCE_UNITS[mid]
    own = pd.DataFrame(
        [
            {
                "buyer": label,
                "mineral": mid,
                "product": finals[0],
                "year": as_date(as_of).year,
                "demand_t": float(demand_t),
                "unit": unit,
                "source": "the request",
            }
        ]
    )
    rows = own
    if competing:
        others = lay.demand[(lay.demand["mineral"] == mid) & (lay.demand["buyer"] != label)]
        rows = pd.concat([others, own], ignore_index=True)

    def run(cap: float | None) -> Any:
        return allocate_world(
            G,
            mid,
            as_of=as_of,
            scenario=scenario,
            demand=rows,
            include_development=include_development,
            max_country_share=(label, cap) if cap is not None else None,
            layers=layers,
        )

    w = run(max_country_share)
    mine = w.buyers.set_index("buyer").loc[label]
    unmet = float(mine["unmet"])
    binding = None
    message = "all demand supplied"
    capped = [b for b in w.binding if b.startswith("max_country_share:")]
    if unmet > 1e-6:
        free = run(None) if max_country_share is not None else w
        most = float(free.buyers.set_index("buyer").at[label, "supplied"])
        if max_country_share is not None and most > float(mine["supplied"]) + 1e-6:
            binding = "max_country_share"
            message = (
                f"capacity could supply {most:,.1f} {unit}; with no more than "
                f"{max_country_share:.0%} of the demand from one country at either stage, "
                f"{float(mine['supplied']):,.1f} {unit} (short {unmet:,.1f}; binding: "
                f"{', '.join(c.split(':', 1)[1] for c in capped)})"
            )
        else:
            binding = "capacity"
            message = (
                f"usable capacity on reachable chains{' left by other buyers' if competing else ''}"
                f" is {most:,.1f} {unit}, below the {demand_t:,.1f} {unit} asked for"
            )
    elif capped:
        message = (
            f"all demand supplied; the {max_country_share:.0%} cap shaped the mix (at the cap: "
            f"{', '.join(c.split(':', 1)[1] for c in capped)})"
        )
    flows = w.flows[w.flows["query"] == label]
    chains = flows.rename(columns={"content_t": "flow_t"})
    picked = _buyer_flows(chains.drop(columns="flow_t"), chains["flow_t"].to_numpy(dtype=float))
    supplied = float(picked["flow_t"].sum()) if len(picked) else 0.0
    return Allocation(
        mineral=mid,
        buyer=label,
        unit=unit,
        demand_t=float(demand_t),
        supplied_t=supplied,
        unmet_t=float(unmet),
        total_cost=float(picked["cost"].sum()) if len(picked) else 0.0,
        status="met" if unmet <= 1e-6 else "unmet",
        binding=binding if unmet > 1e-6 else None,
        max_country_share=max_country_share,
        flows=picked,
        concentration=_concentration(picked, lay),
        excluded=w.excluded,
        solver="scipy HiGHS linear programme (world allocation"
        + (", competing buyers)" if competing else ", this buyer alone)"),
        message=message,
        extra={"world": w, "binding": list(w.binding)},
    )


def _buyer_label(lay: Layers, to: str, mid: str) -> str:
    """The buyer as the demand rows name it: ``EU``, an ISO3 code or a demand-centre id."""

    if str(to).strip().upper() == "EU" or str(to).strip().lower() == "european union":
        return "EU"
    try:
        return normalize_country(to)
    except ValueError:
        buyer_centres(lay, to, mid)  # a demand-centre id, or the usual error naming the choices
        return str(to)


def _buyer_flows(chains: pd.DataFrame, x: np.ndarray) -> pd.DataFrame:
    """The chains that carry flow (``flow_t``), with their landed freight ``cost`` a year,
    largest first."""
    flows = chains.assign(flow_t=x) if len(chains) else chains.assign(flow_t=[])
    flows = flows[flows["flow_t"] > 1e-9] if len(flows) else flows
    keep = [
        "mine_id",
        "mine_country",
        "plant_id",
        "plant_country",
        "demand_id",
        "distance_km",
        "exposure",
        "score",
        "cost_usd_per_t",
        "days",
        "chain",
        "products",
        "flow_t",
    ]
    flows = flows[[c for c in keep if c in flows.columns]].copy()
    if "tonnes" in chains.columns and "cost_usd_per_t" in chains.columns and len(flows):
        freight = chains.loc[flows.index, "cost_usd_per_t"].to_numpy(dtype=float)
        product_t = chains.loc[flows.index, "tonnes"].to_numpy(dtype=float)
        flows["cost"] = np.nan_to_num(freight * product_t)  # USD a year, landed freight
    else:
        flows["cost"] = flows["flow_t"] * flows["score"] if len(flows) else []
    flows = flows.sort_values(["flow_t", "score"], ascending=[False, True], kind="mergesort")
    return flows.reset_index(drop=True)


def _concentration(flows: pd.DataFrame, lay: Layers) -> dict[str, dict[str, Any]]:
    """Of the supplied tonnes, per stage the top country, its share, the HHI and the FEOC
    share; and the share whose path touches a FEOC country at either stage."""
    supplied = float(flows["flow_t"].sum()) if len(flows) else 0.0
    feoc = set(lay.countries.loc[lay.countries["feoc"].fillna(False).astype(bool), "iso3"])
    conc: dict[str, dict[str, Any]] = {}
    for stage, col in (("source", "mine_country"), ("processing", "plant_country")):
        if supplied <= 0:
            conc[stage] = {
                "top_country": None,
                "top_share": math.nan,
                "hhi": math.nan,
                "feoc_share": math.nan,
            }
            continue
        shares = flows.groupby(col)["flow_t"].sum() / supplied
        conc[stage] = {
            "top_country": str(shares.idxmax()),
            "top_share": float(shares.max()),
            "hhi": float((shares**2).sum()),
            "feoc_share": float(shares[shares.index.isin(feoc)].sum()),
        }
    if supplied > 0:
        touched = flows["mine_country"].isin(feoc) | flows["plant_country"].isin(feoc)
        conc["path"] = {"feoc_share": float(flows.loc[touched, "flow_t"].sum() / supplied)}
    return conc

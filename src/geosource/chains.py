"""Supply chains that are physically real: facilities linked by the products they make and take.

A chain is a sequence of facilities from a source (a mine, a recycler, or a plant whose input lies
outside the mineral's product graph) through each processing step to a facility that makes the
product the buyer asks for, then to the buyer's demand centre. Each leg moves a product that the
upstream facility outputs and the downstream facility takes in, and every leg moves the product
further down the mineral's product graph. A product that is not shipped (lithium brine, Bayer
liquor) moves only along a documented ``feeds`` link, over land.

Chains are built stage by stage, backwards from the facilities that make the asked product: at each
stage one batch route matrix joins the current chain heads to the facilities that can feed them, so
the work grows with the sum of the stage-pair sizes. With ``distinct="countries"`` a partial chain
is dropped when another reaches the same facility through the same countries, owners, products and
passages at a lower mass-weighted distance: its exposure is identical and its distance worse, so it
could never represent an option.

Mass balance: each leg carries the tonnes of its product moved per tonne of the final product
(:func:`geosource.minerals.tonnes_per_tonne`), so a chain's ``tkm_per_t`` is the tonne-kilometres
moved per tonne delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import networkx as nx
import numpy as np
import pandas as pd

from .countries import normalize_country
from .errors import NoRouteError
from .exposure import (
    PRODUCTION_SHARE_PRODUCTS,
    ExposureParams,
    Leg,
    capacity_shares,
    chokepoint_exposure,
    country_shares,
    governance_risk,
    leg_controls,
    measures_in_force,
    product_shares,
    relation,
)
from .layers import Layers
from .minerals import (
    EXTERNAL_INPUTS,
    PRODUCTS,
    attributed_tonnes,
    normalize_mineral,
    normalize_product,
    tonnes_per_tonne,
)
from .network import node_id
from .objectives import edge_weight, references, transport_term
from .routing import RouteMatrix, Weight, check_passages, route_matrix
from .scoring import Weights, combine, exposure_score
from .transport import Disruption, TransportParams, transport_costs

__all__ = [
    "CHAIN_COLUMNS",
    "ChainContext",
    "ChainOptions",
    "ChainQuery",
    "as_date",
    "bloc_members",
    "buyer_centres",
    "buyer_queries",
    "chains",
    "check_buyer",
    "facility_capacity",
    "facility_products",
    "layers_of",
    "statuses",
]

log = logging.getLogger(__name__)

Links = Literal["compatible", "documented"]
Distinct = Literal["countries", "facilities"]

#: Columns of the frame :func:`chains` returns.
CHAIN_COLUMNS: tuple[str, ...] = (
    "query",
    "buyer",
    "chain",
    "chain_countries",
    "owner_countries",
    "products",
    "link",
    "status",
    "source_id",
    "source_country",
    "source_stage",
    "mine_id",
    "mine_country",
    "plant_id",
    "plant_country",
    "plant_stage",
    "product",
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
    "corridor",
    "capacity_t",
)

#: Statuses counted by ``include_development=True``.
ADVANCED: tuple[str, ...] = ("construction", "development")
_STATUSES = ("operating", "construction", "development", "deposit", "suspended", "closed")

# Outputs assumed for rows of user layers that predate the product columns, by (mineral, kind).
_DEFAULT_OUTPUTS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("lithium", "mine"): ((), ("spodumene_concentrate",)),
    ("lithium", "deposit"): ((), ("spodumene_concentrate",)),
    ("lithium", "brine"): ((), ("lithium_carbonate",)),
    ("lithium", "chemical_refinery"): (("spodumene_concentrate",), ("lithium_hydroxide",)),
    ("lithium", "battery_recycling"): (("battery_scrap",), ("lithium_carbonate",)),
    ("rare_earths", "mine"): ((), ("ree_concentrate",)),
    ("rare_earths", "deposit"): ((), ("ree_concentrate",)),
    ("rare_earths", "chemical_refinery"): (("ree_concentrate",), ("mixed_ree_carbonate",)),
    ("rare_earths", "separation_plant"): (
        ("ree_concentrate", "mixed_ree_carbonate"),
        ("separated_oxide",),
    ),
    ("rare_earths", "metal_alloy_plant"): (("separated_oxide",), ("ree_metal",)),
    ("rare_earths", "magnet_plant"): (("ree_metal",), ("ndfeb_magnet",)),
    ("rare_earths", "magnet_recycling"): (("magnet_scrap",), ("ndfeb_magnet",)),
    ("graphite", "mine"): ((), ("flake_concentrate",)),
    ("graphite", "deposit"): ((), ("flake_concentrate",)),
    ("graphite", "spherical_graphite_plant"): (("flake_concentrate",), ("spherical_graphite",)),
    ("graphite", "anode_plant"): (("spherical_graphite",), ("anode_material",)),
    ("gallium", "alumina_refinery"): (("bauxite",), ("primary_gallium",)),
    ("gallium", "zinc_smelter"): (("zinc_concentrate",), ("primary_gallium",)),
    ("gallium", "gallium_refinery"): (("primary_gallium",), ("high_purity_gallium",)),
    ("germanium", "mine"): ((), ("ge_zinc_concentrate",)),
    ("germanium", "deposit"): ((), ("ge_zinc_concentrate",)),
    ("germanium", "zinc_smelter"): (("ge_zinc_concentrate",), ("ge_concentrate",)),
    ("germanium", "germanium_refinery"): (("ge_concentrate",), ("refined_germanium",)),
}


def layers_of(G: nx.MultiDiGraph, layers: Layers | None = None) -> Layers:
    """The layers a graph was built from (or ``layers`` when given)."""
    if layers is not None:
        return layers
    found = G.graph.get("layers")
    if found is None:
        raise ValueError("the graph carries no layers; pass layers= (from gs.load_layers())")
    return found  # type: ignore[no-any-return]


def as_date(as_of: dt.date | str | None) -> dt.date:
    """A date from a date, datetime or ``YYYY-MM-DD`` string; ``None`` is today."""
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


def statuses(include_development: bool | Iterable[str]) -> tuple[str, ...]:
    """Facility statuses a query considers: operating, plus what ``include_development`` adds.

    Examples
    --------
    >>> statuses(True)
    ('operating', 'construction', 'development')
    >>> statuses(["deposit"])
    ('operating', 'deposit')
    """
    if isinstance(include_development, bool):
        return ("operating", *(ADVANCED if include_development else ()))
    if isinstance(include_development, str):
        raise TypeError(
            f"include_development takes True/False or a list of statuses, got "
            f"{include_development!r}; write [{include_development!r}]"
        )
    extra = list(include_development)
    bad = [s for s in extra if s not in _STATUSES]
    if bad:
        raise ValueError(
            f"include_development: {bad[0]!r} is not a facility status; use any of "
            + ", ".join(_STATUSES[1:])
        )
    return tuple(dict.fromkeys(["operating", *extra]))


def buyer_centres(layers: Layers, to: str, mineral: str) -> tuple[str, pd.DataFrame]:
    """The buyer's country and its demand centres for a mineral."""
    dem = layers.demand_centres
    if to in set(dem["id"]):
        rows = dem[dem["id"] == to]
        return str(rows["country"].iloc[0]), rows
    iso3 = _buyer_country(to, dem["id"])
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


def _buyer_country(to: str, centre_ids: Iterable[str]) -> str:
    try:
        return normalize_country(to)
    except ValueError as exc:
        raise ValueError(
            f"{exc} `to` takes a country (name, alpha-2 or alpha-3) or a demand-centre id "
            f"({', '.join(sorted(centre_ids)[:5])}, ...)"
        ) from None


def check_buyer(to: str, centre_ids: Collection[str]) -> None:
    """Raise ``ValueError`` unless ``to`` names a buyer: a bloc (``EU``), one of the
    demand-centre ids ``centre_ids``, or a country. A quick check before any layer is loaded;
    whether a country has a demand centre is for :func:`buyer_queries` to say.

    Examples
    --------
    >>> check_buyer("India", {"ind-chennai"})
    >>> check_buyer("ind-chennai", {"ind-chennai"})
    >>> check_buyer("Indai", {"ind-chennai"})
    Traceback (most recent call last):
    ...
    ValueError: 'Indai' is not a country. Did you mean 'IND' (India)? ...
    """
    if str(to).strip().lower() in _BLOC_NAMES or to in centre_ids:
        return
    _buyer_country(to, centre_ids)


#: Buyers that are blocs: their members' demand centres, each scored with its own country.
BLOCS: dict[str, str] = {"EU": "eu"}
_BLOC_NAMES = {"eu": "EU", "european union": "EU", "european_union": "EU"}


def bloc_members(layers: Layers, bloc: str) -> list[str]:
    """ISO3 codes of a bloc's members (from the countries layer's flag column)."""
    flag = BLOCS[bloc]
    countries = layers.countries
    return sorted(countries.loc[countries[flag].fillna(False).astype(bool), "iso3"])


def buyer_queries(layers: Layers, to: str, mineral: str) -> list[tuple[str, str, pd.DataFrame]]:
    """``(query, buyer country, demand centres)`` for a buyer: one entry for a country or a
    demand centre, one per member with demand centres for a bloc (``"EU"``), all named by the
    query the user gave.

    Examples
    --------
    >>> import geosource as gs
    >>> [b for _, b, _ in buyer_queries(gs.load_layers(), "EU", "lithium")]
    ['DEU', 'HUN', 'POL']
    """
    bloc = _BLOC_NAMES.get(str(to).strip().lower())
    if bloc is None:
        return [(to, *buyer_centres(layers, to, mineral))]
    members = set(bloc_members(layers, bloc))
    have = sorted(set(layers.demand_centres["country"]) & members)
    if not have:
        raise ValueError(f"no demand centre in any {bloc} member; add one with gs.read_layer")
    return [(bloc, *buyer_centres(layers, iso3, mineral)) for iso3 in have]


def _split(value: object) -> tuple[str, ...]:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ()
    return tuple(i for i in str(value).split(";") if i)


def facility_products(facilities: pd.DataFrame) -> pd.DataFrame:
    """``id``, ``inputs``, ``outputs`` (tuples) and ``feeds`` of each facility.

    Rows without ``outputs`` (user layers written before the product columns) get the inputs and
    outputs usual for their mineral and kind, and ``products_assumed`` says so.
    """
    rows = []
    for r in facilities.to_dict("records"):
        ins, outs = _split(r.get("inputs")), _split(r.get("outputs"))
        assumed = False
        if not outs:
            ins, outs = _DEFAULT_OUTPUTS.get((r["mineral"], r["kind"]), ((), ()))
            assumed = True
        rows.append(
            {
                "id": r["id"],
                "inputs": ins,
                "outputs": outs,
                "feeds": _split(r.get("feeds")),
                "products_assumed": assumed,
            }
        )
    return pd.DataFrame(rows, columns=["id", "inputs", "outputs", "feeds", "products_assumed"])


@dataclass(frozen=True)
class ChainOptions:
    """How chains are built: links, distinct options, closures, exclusions, blocked chains.

    :func:`geosource.sourcing_paths` builds one from its keywords; pass one to
    :func:`chains` directly.

    Parameters
    ----------
    links
        ``"compatible"``: any leg whose product the upstream facility makes and the downstream
        one takes; ``"documented"``: only documented supply links (``feeds``).
    distinct
        ``"countries"``: one option per country of every stage and corridor;
        ``"facilities"``: every chain of distinct facilities.
    closed
        Chokepoint ids closed to shipping (checked against the graph).
    blocked
        Node ids no route may use (a sanctioned country's nodes, offline facilities).
    include_blocked
        Keep chains that a ban in force makes infeasible, flagged in ``blocked``.
    exclude, exclude_owners
        ISO3 codes no stage may be located in, or owned from.
    disruption
        Scenario premiums, added days and rate or toll increases: they change the objective
        that routes each leg (when it is cost or days) and the cost, days and CO2e of every
        option.

    Examples
    --------
    >>> ChainOptions()  # doctest: +NORMALIZE_WHITESPACE
    ChainOptions(links='compatible', distinct='countries', closed=(), blocked=frozenset(),
                 include_blocked=False, exclude=frozenset(), exclude_owners=frozenset(),
                 disruption=None)
    >>> ChainOptions(exclude=frozenset({"CHN"}), closed=("malacca",)).closed
    ('malacca',)
    """

    links: Links = "compatible"
    distinct: Distinct = "countries"
    closed: tuple[str, ...] = ()
    blocked: frozenset[Any] = frozenset()
    include_blocked: bool = False
    exclude: frozenset[str] = frozenset()
    exclude_owners: frozenset[str] = frozenset()
    disruption: Disruption | None = None
    """Scenario premiums, added days and rate or toll increases: they change the objective that
    routes each leg (when it is cost or days) and the cost, days and CO2e of every option."""


@dataclass
class ChainContext:
    """What is needed to draw chains: the route matrices of every leg."""

    matrices: list[RouteMatrix] = field(default_factory=list)
    facility_names: dict[str, str] = field(default_factory=dict)
    demand_names: dict[str, str] = field(default_factory=dict)
    blocked: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Chains a ban makes infeasible (left out of the frame unless ``include_blocked``)."""
    assumptions: dict[str, Any] = field(default_factory=dict)
    """What the transport figures assumed (see :func:`geosource.transport_costs`)."""


@dataclass(frozen=True)
class _Site:
    id: str
    country: str
    owner_country: str
    stage: str
    status: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    feeds: frozenset[str]
    capacity_final: dict[str, float]
    offline: bool = False

    @property
    def is_source(self) -> bool:
        return not self.inputs or any(
            i in EXTERNAL_INPUTS or (i in PRODUCTS and PRODUCTS[i].market) for i in self.inputs
        )


def chains(  # noqa: PLR0913 (public entry point: keyword-only options)
    G: nx.MultiDiGraph,
    mineral: str,
    to: str | Sequence[str],
    product: str | None = None,
    *,
    as_of: dt.date | str | None = None,
    weights: Weights | dict[str, float] | None = None,
    params: ExposureParams | None = None,
    include_development: bool | Iterable[str] = False,
    options: ChainOptions | None = None,
    layers: Layers | None = None,
) -> pd.DataFrame:
    """Every feasible chain of a mineral's product to one or more buyers, scored, no geometry.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`.
    mineral, to, product
        As in :func:`geosource.sourcing_paths` (``to`` one buyer or a list of them).
    as_of, weights, params, include_development
        As in :func:`geosource.sourcing_paths`.
    options
        A :class:`ChainOptions`: links, distinct, closures, exclusions and
        ``include_blocked`` (default: ``ChainOptions()``).
    layers
        Override the layers the graph carries.

    Returns
    -------
    pandas.DataFrame
        One row per chain (and buyer), unranked: the columns of :data:`CHAIN_COLUMNS`, the
        exposure components with their reasons, ``exposure`` and ``score``.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> c = gs.chains(G, "lithium", "IND", as_of="2025-06-30")
    >>> sorted(set(c["product"]))
    ['lithium_carbonate', 'lithium_hydroxide']
    >>> outside = gs.ChainOptions(exclude=frozenset({"CHN"}))
    >>> c = gs.chains(G, "lithium", "IND", as_of="2025-06-30", options=outside)
    >>> any("CHN" in countries for countries in c["chain_countries"])
    False
    """
    lay = layers_of(G, layers)
    mid = normalize_mineral(mineral)
    day = as_date(as_of)
    w = weights if isinstance(weights, Weights) else Weights.from_dict(weights or {})
    p = params or ExposureParams()
    buyers = [to] if isinstance(to, str) else list(to)
    queries = [q for b in buyers for q in buyer_queries(lay, b, mid)]
    frame, _ = build_chains(
        G,
        lay,
        ChainQuery(mid, normalize_product(mid, product), queries, day),
        w,
        p,
        statuses(include_development),
        options or ChainOptions(),
    )
    return frame


def transport_params_of(lay: Layers) -> TransportParams:
    """The layers' transport parameters, validated once per parameter table."""
    table = lay.transport_params
    key = id(table)
    hit = _PARAMS.get(key)
    if hit is None or hit[0] is not table:
        if len(_PARAMS) > 8:
            _PARAMS.clear()
        hit = _PARAMS[key] = (
            table,
            TransportParams.from_frame(table, file="transport_params"),
        )
    return hit[1]


_PARAMS: dict[int, tuple[pd.DataFrame, TransportParams]] = {}


def _check_choice(name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}, got {value!r}")


@dataclass(frozen=True)
class ChainQuery:
    """What chains are asked for: a mineral id, the final product ids, the buyers (each a
    ``(label, buyer, demand centres)`` triple) and the date for export controls."""

    mineral: str
    finals: tuple[str, ...]
    queries: list[tuple[str, str, pd.DataFrame]]
    day: dt.date


def build_chains(
    G: nx.MultiDiGraph,
    lay: Layers,
    ask: ChainQuery,
    w: Weights,
    p: ExposureParams,
    allowed: tuple[str, ...],
    opts: ChainOptions = ChainOptions(),
) -> tuple[pd.DataFrame, ChainContext]:
    """The chains of :func:`chains` for several queries at once, and what is needed to draw
    them. ``allowed`` are the facility statuses that count.

    A chain that a ban in force makes infeasible is left out (``context.blocked`` lists it with
    the measure) unless ``opts.include_blocked``, when it stays with ``blocked`` naming the ban.
    """
    mid, finals, queries, day = ask.mineral, ask.finals, ask.queries, ask.day
    _check_choice("links", opts.links, ("compatible", "documented"))
    _check_choice("distinct", opts.distinct, ("countries", "facilities"))
    opts = replace(opts, closed=check_passages(G, opts.closed))
    sites = _sites(lay, mid, allowed, opts, finals)
    params = transport_params_of(lay)
    builder = _Builder(G, lay, mid, sites, opts, w.objectives, params)
    partial = builder.backwards(finals)
    if partial.empty:
        raise NoRouteError(
            f"no {'/'.join(allowed)} facility chain makes {' or '.join(finals)} for {mid} "
            "in the layers" + (" along documented links" if opts.links == "documented" else "")
        )
    rows = builder.to_buyers(partial, queries)
    if rows.empty:
        raise NoRouteError(
            f"no route for any {mid} chain to {', '.join(q[0] for q in queries)}"
            + (f" with passages closed: {', '.join(opts.closed)}" if opts.closed else "")
        )
    scorer = _Scorer(lay, mid, measures_in_force(lay, day), p, G)
    comps = pd.DataFrame(
        [scorer.components({str(k): v for k, v in r.items()}) for r in rows.to_dict("records")],
        index=rows.index,
    )
    costs = transport_costs(rows, params, opts.disruption)
    frame = pd.concat([rows, costs, comps], axis=1)
    frame["exposure"] = exposure_score(frame, w)
    frame["transport"] = transport_term(frame, w.objectives, builder.refs)
    frame["score"] = combine(frame["transport"], frame["exposure"], w)
    is_blocked = frame["blocked"] != ""
    dropped = frame[is_blocked].reset_index(drop=True)
    if not opts.include_blocked:
        frame = frame[~is_blocked]
    context = ChainContext(
        builder.matrices,
        dict(zip(lay.facilities["id"], lay.facilities["name"], strict=True)),
        dict(zip(lay.demand_centres["id"], lay.demand_centres["name"], strict=True)),
        dropped,
        costs.attrs["assumptions"],
    )
    return frame.reset_index(drop=True), context


#: Capacity units that count reference content (t LCE, t REO, t Ga, t Ge), not product tonnes.
_CONTENT_UNITS: dict[str, float] = {
    "t/y LCE": 1.0,
    "t/y REO": 1.0,
    "t/y NdPr oxide": 1.0,
    "t/y Ga": 1.0,
    "t/y Ge": 1.0,
    "t/y contained Li2O": 73.89 / 29.88,
}

#: The product a capacity unit counts, for rows that do not name `capacity_product`.
_UNIT_PRODUCT: dict[str, str] = {
    "t/y spodumene concentrate": "spodumene_concentrate",
    "t/y lithium hydroxide": "lithium_hydroxide",
    "t/y lithium carbonate": "lithium_carbonate",
    "t/y LCE": "lithium_carbonate",
    "t/y NdPr oxide": "separated_oxide",
    "t/y magnets": "ndfeb_magnet",
    "t/y graphite concentrate": "flake_concentrate",
    "t/y spherical graphite": "spherical_graphite",
    "t/y anode material": "anode_material",
    "t/y mixed rare earth carbonate": "mixed_ree_carbonate",
    "t/y rare earth concentrate": "ree_concentrate",
    "t/y germanium concentrate": "ge_concentrate",
}


def facility_capacity(facilities: pd.DataFrame, final: str) -> dict[str, float]:
    """Each facility's capacity in tonnes a year of ``final`` (nan where unknown), the way
    chains count ``capacity_t``."""
    return {
        str(rec["id"]): _capacity_final({str(k): v for k, v in rec.items()}, (final,))[final]
        for rec in facilities.to_dict("records")
    }


def _capacity_final(rec: dict[str, Any], finals: tuple[str, ...]) -> dict[str, float]:
    """The facility's capacity in tonnes a year of each final product (nan if unknown).

    A figure counted in reference content (``t/y REO``) is turned into tonnes of the
    ``capacity_product`` first; a figure of an input (a recycler's feed) passes through the
    recovery from that input to the final product."""
    cap, unit = rec.get("capacity"), rec.get("capacity_unit")
    prod = rec.get("capacity_product")
    if not isinstance(prod, str) or prod not in PRODUCTS:
        prod = _UNIT_PRODUCT.get(unit) if isinstance(unit, str) else None
    if cap is None or prod is None or pd.isna(cap) or prod not in PRODUCTS:
        return {f: math.nan for f in finals}
    tonnes = float(cap)
    if isinstance(unit, str) and unit in _CONTENT_UNITS:
        tonnes = tonnes * _CONTENT_UNITS[unit] / PRODUCTS[prod].content
    return {f: tonnes / tonnes_per_tonne(prod, f) for f in finals}


def _sites(
    lay: Layers,
    mid: str,
    allowed: tuple[str, ...],
    opts: ChainOptions,
    finals: tuple[str, ...],
) -> dict[str, _Site]:
    fac = lay.facilities[lay.facilities["mineral"] == mid]
    fac = fac[fac["status"].isin(allowed)].sort_values("id")
    closed_ids = {str(n).split(":", 1)[1] for n in opts.blocked if str(n).startswith("facility:")}
    fac = fac[~fac["id"].isin(closed_ids)]
    if opts.exclude:
        fac = fac[~fac["country"].isin(opts.exclude)]
    if opts.exclude_owners and "owner_country" in fac.columns:
        owner = fac["owner_country"].where(fac["owner_country"].notna(), fac["country"])
        fac = fac[~owner.isin(opts.exclude_owners)]
    offline = (
        set(fac.loc[fac["offline"].fillna(False).astype(bool), "id"])
        if "offline" in fac.columns
        else set()
    )
    prods = facility_products(fac).set_index("id")
    out: dict[str, _Site] = {}
    for rec in fac.to_dict("records"):
        fid = rec["id"]
        owner = rec.get("owner_country")
        inputs: tuple[str, ...] = tuple(prods.at[fid, "inputs"])  # type: ignore[arg-type]
        outputs: tuple[str, ...] = tuple(prods.at[fid, "outputs"])  # type: ignore[arg-type]
        feeds: tuple[str, ...] = tuple(prods.at[fid, "feeds"])  # type: ignore[arg-type]
        out[fid] = _Site(
            fid,
            rec["country"],
            owner if isinstance(owner, str) else rec["country"],
            rec["stage"],
            rec["status"],
            inputs,
            outputs,
            frozenset(feeds),
            _capacity_final(rec, finals),
            fid in offline,
        )
    return out


class _Builder:
    """Builds chains backwards from the facilities that make the asked product."""

    def __init__(
        self,
        G: nx.MultiDiGraph,
        lay: Layers,
        mid: str,
        sites: dict[str, _Site],
        opts: ChainOptions,
        objective: tuple[tuple[str, float], ...] = (("distance", 1.0),),
        params: TransportParams | None = None,
    ) -> None:
        self.G, self.lay, self.mid, self.sites = G, lay, mid, sites
        self.links, self.distinct = opts.links, opts.distinct
        self.closed, self.blocked = opts.closed, opts.blocked
        self.objective, self.disruption = objective, opts.disruption
        self.params = params or TransportParams.bundled()
        self.refs = references(self.params)
        self._weights: dict[str, Weight] = {}
        self.matrices: list[RouteMatrix] = []
        self.port_country: dict[Any, str] = nx.get_node_attributes(G, "country")
        # who can take each product, and who makes it
        self.makers: dict[str, list[str]] = {}
        for s in sites.values():
            if s.offline:
                continue
            for o in s.outputs:
                self.makers.setdefault(o, []).append(s.id)
        # Route matrices span every site (offline ones too), so that scenarios and sweeps that
        # take sites offline reuse the same memoised matrices.
        taken = {i for x in sites.values() for i in x.inputs}
        self.ups = sorted(x.id for x in sites.values() if set(x.outputs) & taken)
        self.downs = sorted(x.id for x in sites.values() if x.inputs)
        self.by_modes: dict[tuple[tuple[str, ...], Weight], tuple[int, RouteMatrix]] = {}

    # -- legs ----------------------------------------------------------------------------------

    def _modes(self, product: str) -> tuple[str, ...]:
        prod = PRODUCTS[product]
        return ("land",) if not prod.shipped else tuple(sorted(prod.modes))

    def weight(self, product: str) -> Weight:
        """What a leg moving ``product`` is routed by (the score's objective)."""
        hit = self._weights.get(product)
        if hit is None:
            hit = self._weights[product] = edge_weight(
                self.objective, product, self.params, self.disruption, self.refs
            )
        return hit

    def leg_value(self, product: str, final: str, value: float) -> float:
        """A leg's share of the objective the chain is pruned by: its routed value, per tonne
        of final product where the objective counts tonnes (days count once per leg)."""
        if self.objective == (("distance", 1.0),):
            return attributed_tonnes(product, final) * value
        if self.weight(product) == "length_km":
            return 0.0  # moves inside an integrated operation: not priced
        if self.objective == (("days", 1.0),):
            return value
        return attributed_tonnes(product, final) * value

    def _matrix(
        self, sources: list[str], targets: list[str], modes: tuple[str, ...], weight: Weight
    ) -> tuple[int, RouteMatrix]:
        m = route_matrix(
            self.G,
            sources,
            targets,
            weight=weight,
            closed_passages=self.closed,
            closed_nodes=self.blocked,
            modes=modes,
        )
        self.matrices.append(m)
        return len(self.matrices) - 1, m

    def _disrupted(
        self, sources: list[str], targets: list[str], modes: tuple[str, ...], weight: Weight
    ) -> Any:
        """For each (source, target): the closed passages its route would cross if nothing
        were closed. A closure that forces a detour counts as a disruption of the option, so
        that no closure ever lowers an option's exposure."""
        if not self.closed:
            return lambda a, b: frozenset()
        m = route_matrix(
            self.G, sources, targets, weight=weight, closed_nodes=self.blocked, modes=modes
        )
        closed = frozenset(self.closed)

        def crossed(a: str, b: str) -> frozenset[str]:
            i, j = sources.index(a), targets.index(b)
            if not np.isfinite(m.distances[i, j]):
                return frozenset()
            return m.summary(a, b)[0] & closed

        return crossed

    def _site_matrix(self, modes: tuple[str, ...], weight: Weight) -> tuple[int, RouteMatrix]:
        hit = self.by_modes.get((modes, weight))
        if hit is None:
            src = [node_id("facility", u) for u in self.ups]
            tgt = [node_id("facility", d) for d in self.downs]
            hit = self.by_modes[(modes, weight)] = self._matrix(src, tgt, modes, weight)
        return hit

    def _leg_table(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """Distance, km by mode, passages and port countries of each (up, down, product) leg,
        routed by the objective. One route matrix per product's set of modes and weight."""
        out = []
        ui = {u: i for i, u in enumerate(self.ups)}
        di = {d: j for j, d in enumerate(self.downs)}
        for key, group in pairs.groupby(["modes", "prod"], sort=True):
            modes_key, prod_key = cast(tuple[Any, Any], key)
            modes: tuple[str, ...] = tuple(modes_key)
            weight = self.weight(str(prod_key))
            idx, m = self._site_matrix(modes, weight)
            crossed = self._disrupted(
                [node_id("facility", u) for u in self.ups],
                [node_id("facility", d) for d in self.downs],
                modes,
                weight,
            )
            value = m.distances[
                group["up"].map(ui).to_numpy(dtype=int), group["head"].map(di).to_numpy(dtype=int)
            ]
            g = group.assign(value=value)
            g = g[np.isfinite(g["value"].to_numpy())]
            info = [
                m.summary(node_id("facility", u), node_id("facility", d))
                for u, d in zip(g["up"], g["head"], strict=True)
            ]
            km = g["value"] if weight == "length_km" else [sum(i[1].values()) for i in info]
            g = g.assign(
                km=km,
                passages=[i[0] for i in info],
                by_mode=[i[1] for i in info],
                via=[self._via_countries(i[2]) for i in info],
                matrix=[idx] * len(g),
                disrupted=[
                    crossed(node_id("facility", u), node_id("facility", d))
                    for u, d in zip(g["up"], g["head"], strict=True)
                ],
            )
            out.append(g)
        if not out:
            empty: pd.DataFrame = pairs.iloc[0:0].assign(
                value=[], km=[], passages=[], by_mode=[], via=[], matrix=[], disrupted=[]
            )
            return empty
        joined: pd.DataFrame = pd.concat(out, ignore_index=True)
        return joined

    def _via_countries(self, ports: list[Any]) -> tuple[str, ...]:
        return tuple(sorted({c for n in ports if isinstance(c := self.port_country.get(n), str)}))

    # -- stages --------------------------------------------------------------------------------

    def _feeders(self, heads: pd.DataFrame) -> pd.DataFrame:
        """Every (upstream facility, head, product) link that can feed the heads' products."""
        rows = []
        for h, makes in sorted(set(zip(heads["head"], heads["head_product"], strict=True))):
            site = self.sites[h]
            for prod in site.inputs:
                if prod not in PRODUCTS or PRODUCTS[prod].market:
                    continue
                if tonnes_per_tonne(prod, makes) == math.inf or prod == makes:
                    continue
                for u in self.makers.get(prod, ()):
                    if u == h:
                        continue
                    documented = h in self.sites[u].feeds
                    if self.links == "documented" and not documented:
                        continue
                    if not PRODUCTS[prod].shipped and not documented:
                        continue
                    rows.append(
                        {
                            "up": u,
                            "head": h,
                            "prod": prod,
                            "head_product": makes,
                            "link": "documented" if documented else "compatible",
                            "modes": self._modes(prod),
                        }
                    )
        cols = ["up", "head", "prod", "head_product", "link", "modes"]
        return pd.DataFrame(rows, columns=cols)

    def backwards(self, finals: tuple[str, ...]) -> pd.DataFrame:
        """Complete chains (from a source to a facility making a final product), without the
        last leg to the buyer."""
        heads = []
        for f in finals:
            for fid in sorted(self.makers.get(f, ())):
                site = self.sites[fid]
                heads.append(
                    {
                        "head": fid,
                        "head_product": f,
                        "final": fid,
                        "product": f,
                        "chain": (fid,),
                        "products": (),
                        "link": (),
                        "leg_km": (),
                        "leg_modes": (),
                        "leg_passages": (),
                        "tonnes": (),
                        "tkm": 0.0,
                        "obj": 0.0,
                        "km": 0.0,
                        "sea_km": 0.0,
                        "land_km": 0.0,
                        "air_km": 0.0,
                        "passages": frozenset(),
                        "disrupted": frozenset(),
                        "leg_disrupted": (),
                        "via": (),
                        "legs": (),
                        "countries": (site.country,),
                        "owners": (site.owner_country,),
                    }
                )
        current = pd.DataFrame(heads)
        done = []
        depth = 0
        while not current.empty and depth < 12:
            depth += 1
            is_src = current["head"].map(lambda h: self.sites[h].is_source)
            done.append(current[is_src])
            links = self._feeders(current)
            if links.empty:
                break
            legs = self._leg_table(links.drop_duplicates(["up", "head", "prod"]))
            joined = current.merge(legs, on=["head", "head_product"], how="inner")
            if joined.empty:
                break
            current = self._extend(joined)
            current = self._prune(current)
        if not done:
            return pd.DataFrame()
        out = pd.concat(done, ignore_index=True)
        return out.sort_values(["final", "product"], kind="mergesort").reset_index(drop=True)

    def _extend(self, j: pd.DataFrame) -> pd.DataFrame:
        """Prepend each upstream facility to its chain, with the leg's mass balance."""
        pairs = list(zip(j["prod"], j["product"], strict=True))
        t = np.array([tonnes_per_tonne(p, f) for p, f in pairs], dtype=float)
        charged = np.array([attributed_tonnes(p, f) for p, f in pairs], dtype=float)
        km = j["km_y"].to_numpy(dtype=float) if "km_y" in j else j["km"].to_numpy(dtype=float)
        base = j["km_x"].to_numpy(dtype=float) if "km_x" in j else 0.0
        out = pd.DataFrame(
            {
                "head": j["up"].to_numpy(),
                "head_product": j["prod"].to_numpy(),
                "final": j["final"].to_numpy(),
                "product": j["product"].to_numpy(),
                "chain": [(u, *c) for u, c in zip(j["up"], j["chain"], strict=True)],
                "products": [(p, *c) for p, c in zip(j["prod"], j["products"], strict=True)],
                "link": [(lk, *c) for lk, c in zip(j["link_y"], j["link_x"], strict=True)],
                "leg_km": [(float(k), *c) for k, c in zip(km, j["leg_km"], strict=True)],
                "leg_modes": [
                    (dict(sorted(b.items())), *c)
                    for b, c in zip(j["by_mode"], j["leg_modes"], strict=True)
                ],
                "leg_passages": [
                    (";".join(sorted(p)), *c)
                    for p, c in zip(j["passages_y"], j["leg_passages"], strict=True)
                ],
                "tonnes": [(float(x), *c) for x, c in zip(t, j["tonnes"], strict=True)],
                "tkm": j["tkm"].to_numpy(dtype=float) + charged * km,
                "obj": j["obj"].to_numpy(dtype=float)
                + np.array(
                    [
                        self.leg_value(p, f, v)
                        for (p, f), v in zip(pairs, j["value"].to_numpy(dtype=float), strict=True)
                    ],
                    dtype=float,
                ),
                "km": base + km,
                "sea_km": j["sea_km"].to_numpy(dtype=float)
                + np.array([b.get("sea", 0.0) for b in j["by_mode"]]),
                "land_km": j["land_km"].to_numpy(dtype=float)
                + np.array([b.get("land", 0.0) for b in j["by_mode"]]),
                "air_km": j["air_km"].to_numpy(dtype=float)
                + np.array([b.get("air", 0.0) for b in j["by_mode"]]),
                "passages": [a | b for a, b in zip(j["passages_x"], j["passages_y"], strict=True)],
                "leg_disrupted": [
                    (";".join(sorted(b)), *c)
                    for b, c in zip(j["disrupted_y"], j["leg_disrupted"], strict=True)
                ],
                "disrupted": [
                    a | b for a, b in zip(j["disrupted_x"], j["disrupted_y"], strict=True)
                ],
                "via": [
                    tuple(sorted({*a, *b})) for a, b in zip(j["via_x"], j["via_y"], strict=True)
                ],
                "legs": [(m, *c) for m, c in zip(j["matrix"], j["legs"], strict=True)],
                "countries": [
                    (self.sites[u].country, *c)
                    for u, c in zip(j["up"], j["countries"], strict=True)
                ],
                "owners": [
                    (self.sites[u].owner_country, *c)
                    for u, c in zip(j["up"], j["owners"], strict=True)
                ],
            }
        )
        # a facility appears once per chain
        ok = [len(set(c)) == len(c) for c in out["chain"]]
        return out[ok].reset_index(drop=True)

    def _prune(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Keep, per head and exposure signature, the partial chain with the least objective
        (tkm for distance; only when options are distinct by countries: the others could never
        stand for one)."""
        if self.distinct != "countries" or frame.empty:
            return frame
        key = pd.Series(
            [
                (h, f, c, o, pr, tuple(sorted(ps)), st)
                for h, f, c, o, pr, ps, st in zip(
                    frame["head"],
                    frame["product"],
                    frame["countries"],
                    frame["owners"],
                    frame["products"],
                    frame["passages"],
                    frame["chain"].map(lambda ch: tuple(self.sites[x].stage for x in ch)),
                    strict=True,
                )
            ],
            index=frame.index,
        ).map(hash)
        order = np.lexsort(
            (
                frame["chain"].map(str).to_numpy(),
                frame["tkm"].to_numpy(dtype=float),
                frame["obj"].to_numpy(dtype=float),
            )
        )
        ranked = frame.iloc[order]
        keep = ~key.iloc[order].duplicated(keep="first")
        return ranked[keep.to_numpy()].sort_index().reset_index(drop=True)

    # -- last leg ------------------------------------------------------------------------------

    def to_buyers(
        self, partial: pd.DataFrame, queries: list[tuple[str, str, pd.DataFrame]]
    ) -> pd.DataFrame:
        """The leg from each chain's final facility to the nearest demand centre of each buyer."""
        parts = []
        for product, group in partial.groupby("product", sort=True):
            modes = tuple(sorted(PRODUCTS[str(product)].modes))
            weight = self.weight(str(product))
            finals = sorted(x.id for x in self.sites.values() if str(product) in x.outputs)
            centres = sorted({c for _, _, cs in queries for c in cs["id"]})
            idx, m = self._matrix(
                [node_id("facility", f) for f in finals],
                [node_id("demand", c) for c in centres],
                modes,
                weight,
            )
            fi = {f: i for i, f in enumerate(finals)}
            open_m = (
                route_matrix(
                    self.G,
                    [node_id("facility", f) for f in finals],
                    [node_id("demand", c) for c in centres],
                    weight=weight,
                    closed_nodes=self.blocked,
                    modes=modes,
                )
                if self.closed
                else m
            )
            for query, buyer, cs in queries:
                ids = sorted(cs["id"])
                cols = [centres.index(c) for c in ids]
                centre = _nearest(m.distances[:, cols], fi, ids)
                g = group[group["final"].isin(centre)]
                if g.empty:
                    continue
                crossed = {
                    f: open_m.summary(node_id("facility", f), node_id("demand", c))[0]
                    & frozenset(self.closed)
                    for f, (c, _) in _nearest(open_m.distances[:, cols], fi, ids).items()
                }
                g = g.assign(
                    disrupted=[
                        d | crossed.get(f, frozenset())
                        for d, f in zip(g["disrupted"], g["final"], strict=True)
                    ],
                    leg_disrupted=[
                        (*ld, ";".join(sorted(crossed.get(f, frozenset()))))  # type: ignore[misc]
                        for ld, f in zip(g["leg_disrupted"], g["final"], strict=True)
                    ],
                )
                parts.append(self._close(g, centre, m, query, buyer, idx))
        if not parts:
            return pd.DataFrame()
        return pd.concat(parts, ignore_index=True)

    def _close(
        self,
        g: pd.DataFrame,
        centre: dict[str, tuple[str, float]],
        m: RouteMatrix,
        query: str,
        buyer: str,
        idx: int,
    ) -> pd.DataFrame:
        info = {
            f: m.summary(node_id("facility", f), node_id("demand", c))
            for f, (c, _) in centre.items()
        }
        dem_country = dict(
            zip(self.lay.demand_centres["id"], self.lay.demand_centres["country"], strict=True)
        )
        last_value = g["final"].map(lambda f: centre[f][1]).to_numpy(dtype=float)
        last_km = np.array([sum(info[f][1].values()) for f in g["final"]], dtype=float)
        if self.objective == (("distance", 1.0),):
            last_km = last_value  # the routed value is the km (bit for bit)
        rows = pd.DataFrame(
            {
                "query": query,
                "buyer": buyer,
                "chain": g["chain"].to_numpy(),
                "chain_countries": g["countries"].to_numpy(),
                "owner_countries": g["owners"].to_numpy(),
                "products": [(*p, f) for p, f in zip(g["products"], g["product"], strict=True)],
                "link": [(*lk, "buyer") for lk in g["link"]],
                "status": [tuple(self.sites[x].status for x in c) for c in g["chain"]],
                "source_id": g["chain"].map(lambda c: c[0]).to_numpy(),
                "source_country": g["countries"].map(lambda c: c[0]).to_numpy(),
                "source_stage": g["chain"].map(lambda c: self.sites[c[0]].stage).to_numpy(),
                "plant_id": g["final"].to_numpy(),
                "plant_country": g["countries"].map(lambda c: c[-1]).to_numpy(),
                "plant_stage": g["final"].map(lambda f: self.sites[f].stage).to_numpy(),
                "product": g["product"].to_numpy(),
                "demand_id": g["final"].map(lambda f: centre[f][0]).to_numpy(),
                "distance_km": g["km"].to_numpy(dtype=float) + last_km,
                "tkm_per_t": g["tkm"].to_numpy(dtype=float) + last_km,
                "objective_value": g["obj"].to_numpy(dtype=float)
                + np.array(
                    [
                        self.leg_value(p, p, v)
                        for p, v in zip(g["product"], last_value, strict=True)
                    ],
                    dtype=float,
                ),
                "tonnes_per_t": [(*t, 1.0) for t in g["tonnes"]],
                "leg_km": [(*k, float(x)) for k, x in zip(g["leg_km"], last_km, strict=True)],
                "leg_modes": [
                    (*lm, dict(sorted(info[f][1].items())))
                    for lm, f in zip(g["leg_modes"], g["final"], strict=True)
                ],
                "leg_passages": [
                    (*lp, ";".join(sorted(info[f][0])))
                    for lp, f in zip(g["leg_passages"], g["final"], strict=True)
                ],
                "sea_km": g["sea_km"].to_numpy(dtype=float)
                + g["final"].map(lambda f: info[f][1].get("sea", 0.0)).to_numpy(dtype=float),
                "land_km": g["land_km"].to_numpy(dtype=float)
                + g["final"].map(lambda f: info[f][1].get("land", 0.0)).to_numpy(dtype=float),
                "air_km": g["air_km"].to_numpy(dtype=float)
                + g["final"].map(lambda f: info[f][1].get("air", 0.0)).to_numpy(dtype=float),
                "corridor": [
                    ";".join(sorted(ps | info[f][0]))
                    for ps, f in zip(g["passages"], g["final"], strict=True)
                ],
                "capacity_t": [
                    self._capacity(c, f) for c, f in zip(g["chain"], g["product"], strict=True)
                ],
                "via": [
                    tuple(sorted({*v, *self._via_countries(info[f][2]), dem_country[centre[f][0]]}))
                    for v, f in zip(g["via"], g["final"], strict=True)
                ],
                "legs": [(*lg, idx) for lg in g["legs"]],
                "disrupted": [";".join(sorted(d)) for d in g["disrupted"]],
                "leg_disrupted": g["leg_disrupted"].to_numpy(),
            }
        )
        rows["mine_id"] = [
            c[0] if self.sites[c[0]].stage == "mining" else None for c in rows["chain"]
        ]
        rows["mine_country"] = rows["source_country"]
        return rows

    def _capacity(self, chain: tuple[str, ...], final: str) -> float:
        caps = [self.sites[x].capacity_final.get(final, math.nan) for x in chain]
        known = [c for c in caps if not math.isnan(c)]
        return min(known) if known else math.nan


def _nearest(
    dist: np.ndarray, rows: dict[str, int], ids: list[str]
) -> dict[str, tuple[str, float]]:
    """Per final facility: the nearest of the buyer's centres and its distance (reachable only)."""
    best = np.argmin(dist, axis=1)
    km = dist[np.arange(dist.shape[0]), best]
    return {f: (ids[int(best[i])], float(km[i])) for f, i in rows.items() if np.isfinite(km[i])}


class _Scorer:
    """Exposure components of a chain, each cached on the inputs it depends on."""

    def __init__(
        self, lay: Layers, mineral: str, measures: Any, p: ExposureParams, G: nx.MultiDiGraph
    ) -> None:
        self.lay, self.mineral, self.measures, self.p = lay, mineral, measures, p
        self.risk = dict(zip(lay.chokepoints["id"], lay.chokepoints["risk"], strict=True))
        self.shares = {
            "mining": country_shares(lay, mineral, "mining"),
            "refining": country_shares(lay, mineral, "refining"),
        }
        self.stage = dict(zip(lay.facilities["id"], lay.facilities["stage"], strict=True))
        self._cache: dict[tuple[Any, ...], tuple[float, str]] = {}
        self._legs: dict[tuple[Leg, ...], tuple[float, str, str]] = {}

    def _cached(self, key: tuple[Any, ...], fn: Any) -> tuple[float, str]:
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = fn()
        return hit

    def components(self, r: dict[str, Any]) -> dict[str, Any]:
        stages = tuple(self.stage[x] for x in r["chain"])
        countries = r["chain_countries"]
        buyer = r["buyer"]
        made = tuple(r["products"])
        conc = self._cached(
            ("c", stages, countries, made), lambda: self._concentration(stages, countries, made)
        )
        gov = self._cached(("g", countries), lambda: self._governance(countries))
        path = tuple(sorted({*countries, *r["owner_countries"], *r["via"]}))
        align = self._cached(("a", buyer, path), lambda: self._alignment(buyer, path, r))
        products = r["products"]
        n = len(countries)
        legs = tuple(
            Leg(
                countries[i],
                countries[i + 1] if i + 1 < n else buyer,
                self.mineral,
                products[i],
                buyer,
                frozenset(countries[:i]),
            )
            for i in range(n)
        )
        ctrl = self._controls(legs)
        passages = frozenset(r["corridor"].split(";")) if r["corridor"] else frozenset()
        hit = r["disrupted"]
        if hit:
            choke = (
                1.0,
                f"closed on the natural route: {hit.replace(';', ', ')} (disrupted, 1.00)",
            )
        else:
            choke = self._cached(("p", passages), lambda: chokepoint_exposure(passages, self.risk))
        return {
            "concentration": conc[0],
            "governance": gov[0],
            "alignment": align[0],
            "export_controls": ctrl[0],
            "chokepoints": choke[0],
            "concentration_reason": conc[1],
            "governance_reason": gov[1],
            "alignment_reason": align[1],
            "export_controls_reason": ctrl[1],
            "blocked": ctrl[2],
            "chokepoints_reason": choke[1],
        }

    def _controls(self, legs: tuple[Leg, ...]) -> tuple[float, str, str]:
        hit = self._legs.get(legs)
        if hit is None:
            hit = self._legs[legs] = leg_controls(self.measures, legs, self.p)
        return hit

    def _concentration(
        self, stages: tuple[str, ...], countries: tuple[str, ...], products: tuple[str, ...]
    ) -> tuple[float, str]:
        """Mean over the chain's facilities of their country's share of the product each makes:
        production shares (USGS, IEA) for mining and the refined products they cover, capacity
        shares of the facilities layer for the rest (spherical graphite, anode, metal, magnets,
        high-purity gallium)."""
        parts = []
        for stage, c, product in dict.fromkeys(zip(stages, countries, products, strict=True)):
            shares, basis = product_shares(self.lay, self.mineral, product)
            what = product.replace("_", " ")
            if not shares.empty:
                pass
            elif stage == "mining":
                shares, basis = self.shares["mining"]
                what = "mining"
            elif product in PRODUCTION_SHARE_PRODUCTS:
                shares, basis = self.shares["refining"]
                what = "refining"
            else:
                shares, basis = capacity_shares(self.lay, product)
                what = product.replace("_", " ")
            if shares.empty:
                parts.append((self.p.unknown, f"{what}: {basis} (set to {self.p.unknown:g})"))
            else:
                v = float(shares.get(c, 0.0))
                parts.append((v, f"{c} {v:.0%} of {what} ({basis})"))
        return float(np.mean([v for v, _ in parts])), "; ".join(t for _, t in parts)

    def _governance(self, countries: tuple[str, ...]) -> tuple[float, str]:
        gov = [governance_risk(self.lay, c, self.p) for c in dict.fromkeys(countries)]
        return float(np.mean([g[0] for g in gov])), "; ".join(g[1] for g in gov)

    def _alignment(self, buyer: str, path: tuple[str, ...], r: dict[str, Any]) -> tuple[float, str]:
        owners = set(r["owner_countries"]) - set(r["chain_countries"])
        rel = []
        for c in path:
            rtype, text = relation(self.lay, buyer, c)
            if c in owners:
                text = f"owner in {text}"
            rel.append((self.p.alignment[rtype], c, rtype, text))
        rel.sort(key=lambda x: (-x[0], x[1]))
        value = float(rel[0][0]) if rel else 0.0
        return value, "; ".join(f"{t} ({k})" for _, _, k, t in rel[:3])

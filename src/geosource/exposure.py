"""Exposure components of a supply option, each in [0, 1] with the reason behind its value.

A supply option moves a mineral from a mine (or a by-product plant) through a processing plant to
a buyer's demand centre. Its exposure has five components:

``concentration``
    how dominant the producing countries are at their stage (share of world output).
``governance``
    weakness of governance in the producing countries (World Bank WGI, rescaled).
``alignment``
    relation of every country on the path with the buyer (same country ... covered nation).
``export_controls``
    export-control measures in force on the date for that country, mineral, stage and buyer.
``chokepoints``
    probability-style combination of the risk weights of the passages crossed.

Every number used is a layer fact or a documented parameter of :class:`ExposureParams`; see
docs/scoring.md. This module knows nothing of routes or maps: it scores countries, measures and
passages it is given.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from .layers import Layers
from .minerals import PRODUCTS

__all__ = [
    "COMPONENTS",
    "ExposureParams",
    "Leg",
    "Measure",
    "capacity_shares",
    "country_shares",
    "governance_risk",
    "leg_controls",
    "measures_in_force",
    "product_shares",
    "relation",
    "supply_concentration",
]

#: The exposure components, in the order they are reported.
COMPONENTS: tuple[str, ...] = (
    "concentration",
    "governance",
    "alignment",
    "export_controls",
    "chokepoints",
)


@dataclass(frozen=True)
class ExposureParams:
    """Documented, editable parameters of the exposure components.

    Every value is in [0, 1] and every table keeps all its keys; anything else raises
    ``ValueError`` naming the entry.

    Parameters
    ----------
    alignment
        Value of each relation between a country on the path and the buyer (0 = no exposure):
        ``same``, ``partner``, ``ipef``, ``neutral``, ``feoc``.
    severity
        Value of each kind of export measure in force (a ban closes the flow; a licence can be
        refused or delayed; a quota caps it): ``ban``, ``licence``, ``quota``.
    scope
        Factor for measures that bind only some flows: military end users, listed entities, or
        raw ore only (the mines in the layer ship concentrate; a raw-ore ban signals that a
        concentrate ban may follow, as Zimbabwe's did in 2026).
    unknown
        Value used where a fact is missing (no production figure, no WGI estimate); the reason
        says so.

    Examples
    --------
    >>> p = ExposureParams()
    >>> p.alignment["feoc"], p.severity["licence"], p.unknown
    (1.0, 0.6, 0.5)
    >>> ExposureParams(unknown=2)
    Traceback (most recent call last):
    ...
    ValueError: ExposureParams.unknown = 2 is not in [0, 1]
    """

    alignment: Mapping[str, float] = field(
        default_factory=lambda: {
            "same": 0.0,
            "partner": 0.2,
            "ipef": 0.4,
            "neutral": 0.6,
            "feoc": 1.0,
        }
    )
    severity: Mapping[str, float] = field(
        default_factory=lambda: {
            "ban": 1.0,
            "licence": 0.6,
            "quota": 0.4,
        }
    )
    scope: Mapping[str, float] = field(
        default_factory=lambda: {
            "all": 1.0,
            "military_end_users": 0.3,
            "listed_entities": 0.3,
            "raw_ore": 0.25,
        }
    )
    unknown: float = 0.5

    def __post_init__(self) -> None:
        for name in ("alignment", "severity", "scope"):
            table = getattr(self, name)
            for key, value in table.items():
                if not 0.0 <= float(value) <= 1.0:
                    raise ValueError(f"ExposureParams.{name}[{key!r}] = {value} is not in [0, 1]")
        required = {
            "alignment": {"same", "partner", "ipef", "neutral", "feoc"},
            "severity": {"ban", "licence", "quota"},
            "scope": {"all", "military_end_users", "listed_entities", "raw_ore"},
        }
        for name, keys in required.items():
            missing = keys - set(getattr(self, name))
            if missing:
                raise ValueError(f"ExposureParams.{name} lacks {sorted(missing)}")
        if not 0.0 <= self.unknown <= 1.0:
            raise ValueError(f"ExposureParams.unknown = {self.unknown} is not in [0, 1]")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExposureParams:
        """Build from a mapping; unknown keys are errors that list the valid ones."""
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise ValueError(
                f"unknown exposure parameter {unknown[0]!r}; valid: {', '.join(sorted(valid))}"
            )
        base = cls()
        merged: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if isinstance(value, Mapping):
                table = dict(getattr(base, f.name))
                extra = sorted(set(value) - set(table))
                if extra:
                    raise ValueError(
                        f"unknown key {extra[0]!r} in exposure parameter "
                        f"{f.name!r}; valid: {', '.join(sorted(table))}"
                    )
                table.update({k: float(v) for k, v in value.items()})
                value = table
            merged[f.name] = value
        return cls(**merged)


# ---------------------------------------------------------------------------------------------
# concentration


def country_shares(layers: Layers, mineral: str, stage: str) -> tuple[pd.Series, str]:
    """Each listed country's share of world output for a mineral and stage, latest year.

    Tonnage rows (USGS) are used where they exist, divided by the published world total; share
    rows (IEA) otherwise. ``ROW`` ("other countries") is not a country and is left out.

    Returns
    -------
    (shares, basis)
        Shares indexed by ISO3 (may be empty), and a sentence naming the source and year.
    """
    prod = layers.production
    rows = prod[(prod["mineral"] == mineral) & (prod["stage"] == stage)]
    if "product" in rows.columns:
        rows = rows[rows["product"].isna()]
    tonnes = rows[(rows["unit"] != "share") & rows["quantity"].notna()]
    if len(tonnes):
        years = [
            y
            for y in sorted(tonnes["year"].unique(), reverse=True)
            if (tonnes[(tonnes["year"] == y) & (tonnes["country"] == "WLD")]).shape[0]
        ]
        if years:
            year = years[0]
            ofyear = tonnes[tonnes["year"] == year]
            world = float(ofyear.loc[ofyear["country"] == "WLD", "quantity"].iloc[0])
            if world > 0:
                parts = ofyear[~ofyear["country"].isin(["WLD", "ROW"])]
                shares = (parts.set_index("country")["quantity"] / world).astype(float)
                kind = "estimated" if ofyear["estimate"].any() else "reported"
                src = str(ofyear.loc[ofyear["country"] == "WLD", "source"].iloc[0])
                return shares.sort_index(), f"{_publication(src)} {stage} {year} ({kind})"
    share_rows = rows[(rows["unit"] == "share") & rows["quantity"].notna()]
    if len(share_rows):
        year = int(share_rows["year"].max())
        ofyear = share_rows[(share_rows["year"] == year) & (share_rows["country"] != "ROW")]
        return (
            ofyear.set_index("country")["quantity"].astype(float).sort_index(),
            f"IEA refining shares {year} (as quoted)",
        )
    return pd.Series(dtype=float), "no production figures"


def _publication(source: str) -> str:
    """A short name of the publication a production row cites (``USGS MCS 2026``).

    Examples
    --------
    >>> _publication("U.S. Geological Survey, 2026, Mineral Commodity Summaries 2026 Data Release")
    'USGS MCS 2026'
    >>> _publication("IEA (2025), Global Critical Minerals Outlook 2025 dataset")
    'IEA GCMO 2025'
    """
    usgs = re.search(r"Mineral Commodity Summaries (\d{4})", source)
    if usgs:
        return f"USGS MCS {usgs.group(1)}"
    iea = re.search(r"Global Critical Minerals Outlook (\d{4})", source)
    if iea:
        return f"IEA GCMO {iea.group(1)}"
    return source.split(",")[0][:60]


#: Products whose concentration comes from the production layer's stage shares (USGS/IEA);
#: other processed products use capacity shares of the facilities layer.
PRODUCTION_SHARE_PRODUCTS: frozenset[str] = frozenset(
    {
        "lithium_carbonate",
        "lithium_hydroxide",
        "mixed_ree_carbonate",
        "separated_oxide",
        "primary_gallium",
        "refined_germanium",
        "ge_concentrate",
    }
)


def product_shares(layers: Layers, mineral: str, product: str) -> tuple[pd.Series, str]:
    """Each country's share of world output of one product (production rows that name it), latest
    year; empty when the layer has none."""
    prod = layers.production
    if "product" not in prod.columns:
        return pd.Series(dtype=float), "no product figures"
    return _CACHE.get(  # type: ignore[no-any-return]
        prod, ("product_shares", mineral, product), lambda: _product_shares(prod, mineral, product)
    )


def _product_shares(prod: pd.DataFrame, mineral: str, product: str) -> tuple[pd.Series, str]:
    rows = prod[
        (prod["mineral"] == mineral) & (prod["product"] == product) & prod["quantity"].notna()
    ]
    if rows.empty:
        return pd.Series(dtype=float), "no product figures"
    year = int(rows["year"].max())
    ofyear = rows[rows["year"] == year]
    world = 1.0
    if (ofyear["unit"] != "share").any() and (ofyear["country"] == "WLD").any():
        world = float(ofyear.loc[ofyear["country"] == "WLD", "quantity"].iloc[0])
        parts = ofyear[~ofyear["country"].isin(["WLD", "ROW"])]
        shares = parts.set_index("country")["quantity"].astype(float) / world
    else:
        parts = ofyear[(ofyear["unit"] == "share") & (ofyear["country"] != "ROW")]
        shares = parts.set_index("country")["quantity"].astype(float)
    source = ", ".join(str(ofyear["source"].iloc[0]).split(", ")[:2])
    rest = ofyear.loc[ofyear["country"] == "ROW", "quantity"]
    other = (
        f"; countries not listed {float(rest.iloc[0]) / world:.0%} together" if len(rest) else ""
    )
    return shares.sort_index(), f"{year}: {source}{other}"


def capacity_shares(layers: Layers, product: str) -> tuple[pd.Series, str]:
    """Each country's share of the operating capacity listed for a product in the facilities
    layer (rows whose ``capacity_product`` is that product), with a sentence saying so.

    A lower bound of the true concentration where the layer misses plants; the basis names how
    many facilities and tonnes it rests on.
    """
    fac = layers.facilities
    if "capacity_product" not in fac.columns:
        return pd.Series(dtype=float), "no capacity figures"
    return _CACHE.get(fac, ("capacity_shares", product), lambda: _capacity_shares(fac, product))  # type: ignore[no-any-return]


def _capacity_shares(fac: pd.DataFrame, product: str) -> tuple[pd.Series, str]:
    rows = fac[
        (fac["capacity_product"] == product)
        & (fac["status"] == "operating")
        & fac["capacity"].notna()
    ]
    total = float(rows["capacity"].sum()) if len(rows) else 0.0
    if total <= 0:
        return pd.Series(dtype=float), f"no operating capacity listed for {product}"
    shares = (rows.groupby("country")["capacity"].sum() / total).astype(float).sort_index()
    unit = str(rows["capacity_unit"].iloc[0])
    return shares, (
        f"share of the {total:,.0f} {unit} of operating {product.replace('_', ' ')} capacity "
        f"listed at {len(rows)} facilities in the layer, not of world capacity"
    )


def supply_concentration(layers: Layers, mineral: str, stage: str = "mining") -> dict[str, Any]:
    """Concentration of world supply of a mineral at a stage.

    The Herfindahl–Hirschman index uses shares as fractions (0–1); the WGI-weighted HHI is that
    of the EU critical raw materials methodology (European Commission 2017, "Methodology for
    establishing the EU list of critical raw materials", doi 10.2873/769526):
    ``sum(share² × WGI_scaled)`` with each country's mean WGI rescaled to 0–10, 10 being the
    weakest governance. Countries grouped by the source as "other countries" are left out, so
    both indices are lower bounds.

    Parameters
    ----------
    layers
        From :func:`geosource.load_layers` (its ``production`` and ``countries`` layers).
    mineral
        A mineral id of :data:`geosource.MINERALS`.
    stage
        A stage of the production layer: ``mining`` or ``refining``.

    Returns
    -------
    dict
        ``mineral``, ``stage``, ``top_country`` (ISO3), ``top_share``, ``hhi``, ``hhi_wgi``,
        ``countries`` (how many countries have a share) and ``basis`` (the source and year);
        ``top_country`` is ``None`` and the figures NaN when the layer has no shares.

    Examples
    --------
    >>> import geosource as gs
    >>> c = gs.supply_concentration(gs.load_layers(), "rare_earths", "mining")
    >>> c["top_country"], round(c["top_share"], 2)
    ('CHN', 0.69)
    >>> sorted(c)  # doctest: +NORMALIZE_WHITESPACE
    ['basis', 'countries', 'hhi', 'hhi_wgi', 'mineral', 'stage', 'top_country',
     'top_share']
    >>> bool(c["top_share"] ** 2 <= c["hhi"] <= 1)  # the top share alone is a lower bound
    True
    """
    shares, basis = country_shares(layers, mineral, stage)
    if shares.empty:
        return {
            "mineral": mineral,
            "stage": stage,
            "top_country": None,
            "top_share": math.nan,
            "hhi": math.nan,
            "hhi_wgi": math.nan,
            "countries": 0,
            "basis": basis,
        }
    scaled = {
        c: (2.5 - _mean_wgi(layers, c)) * 2.0 if not math.isnan(_mean_wgi(layers, c)) else 5.0
        for c in shares.index
    }
    hhi = float((shares**2).sum())
    hhi_wgi = float(sum(shares[c] ** 2 * scaled[c] for c in shares.index))
    top = str(shares.idxmax())
    return {
        "mineral": mineral,
        "stage": stage,
        "top_country": top,
        "top_share": float(shares.max()),
        "hhi": hhi,
        "hhi_wgi": hhi_wgi,
        "countries": len(shares),
        "basis": basis,
    }


# ---------------------------------------------------------------------------------------------
# governance


class _PerFrame:
    """Values derived from a frame, cached while that very frame object is alive.

    Keyed by ``id`` but checked through a weak reference, so a new frame that happens to reuse
    a dead frame's id never gets its stale value.
    """

    def __init__(self) -> None:
        self._store: dict[tuple[int, Any], tuple[weakref.ref[pd.DataFrame], Any]] = {}

    def get(self, frame: pd.DataFrame, key: Any, build: Any) -> Any:
        k = (id(frame), key)
        hit = self._store.get(k)
        if hit is not None and hit[0]() is frame:
            return hit[1]
        value = build()
        if len(self._store) > 256:
            self._store = {kk: v for kk, v in self._store.items() if v[0]() is not None}
        self._store[k] = (weakref.ref(frame), value)
        return value


_CACHE = _PerFrame()


def _mean_wgi(layers: Layers, iso3: str) -> float:
    table: dict[str, float] = _CACHE.get(
        layers.countries, "wgi", lambda: _wgi_table(layers.countries)
    )
    return table.get(iso3, math.nan)


def _wgi_table(countries: pd.DataFrame) -> dict[str, float]:
    cols = ["wgi_va", "wgi_pv", "wgi_ge", "wgi_rq", "wgi_rl", "wgi_cc"]
    mean = countries.set_index("iso3")[cols].mean(axis=1, skipna=True)
    return {str(k): float(v) for k, v in mean.items()}


def governance_risk(
    layers: Layers, iso3: str, params: ExposureParams | None = None
) -> tuple[float, str]:
    """Governance risk of a country in [0, 1]: ``(2.5 − mean of the six WGI estimates) / 5``.

    WGI estimates run from about −2.5 (weak) to 2.5 (strong); the result is clipped to [0, 1].
    """
    p = params or ExposureParams()
    mean = _mean_wgi(layers, iso3)
    if math.isnan(mean):
        return p.unknown, f"{iso3}: no WGI estimate (set to {p.unknown:g})"
    value = min(1.0, max(0.0, (2.5 - mean) / 5.0))
    return value, f"{iso3} WGI mean {mean:+.2f}"


# ---------------------------------------------------------------------------------------------
# alignment


_GROUP_TEXT = {"msp": "MSP", "quad": "Quad", "eu": "EU", "us_fta": "US FTA", "ipef": "IPEF"}


def relation(layers: Layers, buyer: str, iso3: str) -> tuple[str, str]:
    """How ``iso3`` relates to ``buyer``: ``same``, ``partner``, ``ipef``, ``neutral`` or ``feoc``.

    Partners share the Minerals Security Partnership, the Quad or the EU, or have a US free-trade
    agreement with a US buyer (or are the US, for a buyer that has one). ``feoc`` marks a covered
    nation of 10 U.S.C. 4872(d) when the buyer is not one itself.

    Returns
    -------
    (relation, reason)
    """
    if iso3 == buyer:
        return "same", f"{iso3} is the buyer's own country"
    flags: dict[str, dict[str, bool]] = _CACHE.get(
        layers.countries, "flags", lambda: _flags(layers.countries)
    )
    a, b = flags.get(buyer, {}), flags.get(iso3, {})
    if b.get("feoc") and not a.get("feoc"):
        return "feoc", f"{iso3} is a covered nation (FEOC)"
    shared = [_GROUP_TEXT[g] for g in ("msp", "quad", "eu") if a.get(g) and b.get(g)]
    if (buyer == "USA" and b.get("us_fta")) or (iso3 == "USA" and a.get("us_fta")):
        shared.append("US FTA")
    if shared:
        return "partner", f"{iso3} shares {', '.join(shared)} with {buyer}"
    if a.get("ipef") and b.get("ipef"):
        return "ipef", f"{iso3} and {buyer} are IPEF partners"
    return "neutral", f"{iso3} has no listed alignment with {buyer}"


def _flags(countries: pd.DataFrame) -> dict[str, dict[str, bool]]:
    cols = ["msp", "ipef", "quad", "us_fta", "feoc", "eu"]
    table = countries.set_index("iso3")[cols].fillna(False).astype(bool)
    return {str(k): {c: bool(v[c]) for c in cols} for k, v in table.to_dict("index").items()}


# ---------------------------------------------------------------------------------------------
# export controls


@dataclass(frozen=True)
class Measure:
    """An export- or import-control measure as scoring sees it."""

    id: str
    country: str
    minerals: frozenset[str]
    stage: str
    measure: str
    targets: frozenset[str] | None
    """``None`` means every country."""
    effective: dt.date
    ends: dt.date | None
    suspends: str | None
    scope: str
    products: frozenset[str] | None = None
    """Product ids covered; ``None``: every product of the minerals made at ``stage``."""
    extraterritorial: bool = False
    direction: str = "export"
    suspended_by: str | None = None
    """Id (and end date) of a suspension in force that lifts this measure on the date."""

    def in_force(self, on: dt.date) -> bool:
        return self.effective <= on and (self.ends is None or on < self.ends)

    def binds(self, exporter: str, mineral: str, stage: str, importer: str) -> bool:
        if self.direction != "export" or self.suspended_by is not None:
            return False
        if self.country != exporter or mineral not in self.minerals:
            return False
        if self.stage not in (stage, "all"):
            return False
        return self.targets is None or importer in self.targets

    def covers(self, mineral: str, product: str) -> bool:
        """Whether the measure covers a product of a mineral (technology measures cover none)."""
        if mineral not in self.minerals or self.stage == "technology":
            return False
        if self.products is not None:
            return product in self.products
        made_at = PRODUCTS[product].stage if product in PRODUCTS else "refining"
        return self.stage in (made_at, "all")

    def binds_leg(self, leg: Leg) -> bool:
        """Whether the measure applies to a leg (see :class:`Leg`)."""
        if leg.origin == leg.destination or not self.covers(leg.mineral, leg.product):
            return False
        if self.direction == "import":
            origins_ok = self.targets is None or leg.origin in self.targets
            return self.country == leg.destination and origins_ok
        if self.country == leg.origin:
            return self.targets is None or leg.destination in self.targets
        # a re-export of this country's material from a third country toward a target
        return (
            self.extraterritorial
            and self.country in leg.upstream
            and leg.origin != leg.buyer
            and (self.targets is None or leg.buyer in self.targets)
            and leg.destination == leg.buyer
        )

    @property
    def blocks(self) -> bool:
        """A ban on every flow it covers: the chain is infeasible, not merely penalised."""
        return self.measure == "ban" and self.scope == "all"


@dataclass(frozen=True)
class Leg:
    """One border a product crosses: from ``origin`` to ``destination`` (the next facility's
    country, or the buyer's on the last leg); ``upstream`` holds every country the material
    passed through before, for extraterritorial clauses."""

    origin: str
    destination: str
    mineral: str
    product: str
    buyer: str
    upstream: frozenset[str] = frozenset()


def leg_controls(
    measures: Iterable[Measure], legs: Iterable[Leg], params: ExposureParams
) -> tuple[float, str, str]:
    """Export-control component of a chain, and what blocks it.

    Returns
    -------
    (value, reason, blocked): the most severe graded measure's value (severity × scope) with
    every binding measure named in ``reason``; ``blocked`` names the bans that make the chain
    infeasible (empty when none does).
    """
    worst, why, bans = 0.0, [], []
    for leg in legs:
        for m in measures:
            if not m.binds_leg(leg):
                continue
            if m.suspended_by is not None:
                why.append((0.0, f"{m.id} ({m.measure}) suspended by {m.suspended_by}"))
                continue
            value = params.severity.get(m.measure, 1.0) * params.scope.get(m.scope, 1.0)
            text = (
                f"{m.id} ({m.measure}"
                + ("" if m.scope == "all" else f", {m.scope.replace('_', ' ')}")
                + f", {leg.product.replace('_', ' ')} {leg.origin}→{leg.destination}"
                + (", re-export" if m.country != leg.origin and m.direction == "export" else "")
                + (", import" if m.direction == "import" else "")
                + ")"
            )
            if m.blocks:
                bans.append(text)
            why.append((value, text))
            worst = max(worst, value)
    if not why:
        return 0.0, "no export control in force on these flows", ""
    if worst == 0.0:
        return 0.0, "; ".join(t for _, t in sorted(why, key=lambda x: x[1])), ""
    why.sort(key=lambda x: (-x[0], x[1]))
    return worst, "; ".join(t for _, t in why), "; ".join(sorted(set(bans)))


def _date(value: object) -> dt.date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return dt.date.fromisoformat(str(value))


def measures_in_force(layers: Layers, on: dt.date | str) -> list[Measure]:
    """Measures in force on a date, suspended ones removed.

    A measure with no ``effective`` date counts from its ``announced`` date. A suspension in force
    on the date lifts the measure it suspends for that date (and only where both apply: same
    exporter; the suspension's targets).
    """
    day = on if isinstance(on, dt.date) else dt.date.fromisoformat(str(on))
    controls = layers.export_controls
    found: tuple[Measure, ...] = _CACHE.get(
        controls, ("measures", day), lambda: _measures(controls, day)
    )
    return list(found)


def _measures(controls: pd.DataFrame, day: dt.date) -> tuple[Measure, ...]:
    every: list[Measure] = []
    for rec in controls.to_dict("records"):
        start = _date(rec.get("effective")) or _date(rec.get("announced"))
        if start is None:
            continue
        targets = str(rec.get("targets") or "all")
        products = rec.get("product_ids")
        every.append(
            Measure(
                id=str(rec["id"]),
                country=str(rec["country"]),
                minerals=frozenset(str(rec["minerals"]).split(";")),
                stage=str(rec["stage"]),
                measure=str(rec["measure"]),
                targets=None if targets == "all" else frozenset(targets.split(";")),
                effective=start,
                ends=_date(rec.get("ends")),
                suspends=None if _missing(rec.get("suspends")) else str(rec["suspends"]),
                scope="all" if _missing(rec.get("scope")) else str(rec["scope"]),
                products=None if _missing(products) else frozenset(str(products).split(";")),
                extraterritorial=not _missing(rec.get("extraterritorial"))
                and bool(rec.get("extraterritorial")),
                direction="export" if _missing(rec.get("direction")) else str(rec["direction"]),
            )
        )
    active = [m for m in every if m.in_force(day)]
    lifted = {
        m.suspends: f"{m.id}" + (f" until {m.ends.isoformat()}" if m.ends else "")
        for m in active
        if m.measure == "suspension" and m.suspends
    }
    return tuple(
        replace(m, suspended_by=lifted[m.id]) if m.id in lifted else m
        for m in active
        if m.measure != "suspension"
    )


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def control_exposure(
    measures: Iterable[Measure],
    flows: Iterable[tuple[str, str, str, str]],
    params: ExposureParams,
) -> tuple[float, str]:
    """Export-control component for a set of cross-border flows.

    Parameters
    ----------
    measures
        From :func:`measures_in_force`.
    flows
        ``(exporter, mineral, stage, importer)`` for each border the product crosses.

    Returns
    -------
    (value, reason): the most severe binding measure's value (severity × scope), and its id.
    """
    worst, why = 0.0, []
    for exporter, mineral, stage, importer in flows:
        if exporter == importer:
            continue
        for m in measures:
            if m.binds(exporter, mineral, stage, importer):
                value = params.severity[m.measure] * params.scope.get(m.scope, 1.0)
                why.append(
                    (
                        value,
                        f"{m.id} ({m.measure}"
                        + ("" if m.scope == "all" else f", {m.scope.replace('_', ' ')}")
                        + f", {exporter}→{importer})",
                    )
                )
                worst = max(worst, value)
    if not why:
        return 0.0, "no export control in force on these flows"
    why.sort(key=lambda x: (-x[0], x[1]))
    return worst, "; ".join(text for _, text in why)


def chokepoint_exposure(passages: Iterable[str], risk: Mapping[str, float]) -> tuple[float, str]:
    """``1 − Π(1 − risk)`` over the passages crossed: the chance at least one is disrupted if
    each were disrupted independently with its risk weight."""
    crossed = sorted(set(passages))
    if not crossed:
        return 0.0, "no chokepoint crossed"
    survive = float(np.prod([1.0 - float(risk.get(p, 0.0)) for p in crossed]))
    value = 1.0 - survive
    return value, ", ".join(f"{p} {float(risk.get(p, 0.0)):.2f}" for p in crossed)

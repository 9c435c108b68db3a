"""Landed transport cost (USD/t), door-to-door days and CO2e (kg/t) of supply chains.

Every figure comes from the cited transport-parameter layer (``layers/transport_params.csv``, kind
``transport_params``): freight rates per tonne-km by mode and cargo class, handling per port call,
canal tolls, speeds, port dwell, canal waits and CO2e factors. A user's file of the same kind
replaces it. The formulas, with a worked example, are in ``docs/transport.md``.

For one leg moving ``t`` tonnes of its product per tonne of the final product (``tonnes_per_t``,
or the contained mass for a by-product carrier, :func:`geosource.minerals.attributed_tonnes`)::

    cost = t * (sum over modes of km * rate(mode, class) + calls * handling + tolls + war risk)
    days = sum over modes of km / speed(mode, class) + calls * dwell + canal waits
    co2e = t * sum over modes of km * factor(mode, class)

where a leg with sea km makes two port calls (load and discharge) and a leg with air km two airport
calls. Legs run one after another, so a chain's cost, days and CO2e are the sums over its legs. A
:class:`Disruption` adds war-risk premiums, days and toll or freight-rate increases; it can only
raise cost and days.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

import pandas as pd

from ._schemas import ID_PATTERN, TRANSPORT_UNITS
from ._searoute import SEAROUTE_PASSAGES
from ._validate import ValidationReport, validate_frame
from .errors import LayerError, Problem
from .layers import bundled_layers_dir, layer_ids, load_layers, validate_layer
from .minerals import PRODUCTS, attributed_tonnes

__all__ = [
    "CARGO_CLASS",
    "TRANSPORT_COLUMNS",
    "Disruption",
    "TransportParams",
    "cargo_class",
    "red_sea_2024",
    "transport_costs",
]

log = logging.getLogger(__name__)

KIND = "transport_params"

#: Cargo class of each product on sea and land legs; ``None``: never shipped (it moves only
#: inside an integrated operation, by pipeline or liquor circuit, and is not priced). On air
#: legs every product that may fly (``"air" in Product.modes``) travels as ``air_cargo``.
CARGO_CLASS: Mapping[str, str | None] = MappingProxyType(
    {
        # ores and concentrates: grab-loaded into the holds of Handysize/Supramax bulk carriers
        "spodumene_concentrate": "dry_bulk",
        "lepidolite_concentrate": "dry_bulk",
        "ree_concentrate": "dry_bulk",
        "flake_concentrate": "dry_bulk",
        "ge_zinc_concentrate": "dry_bulk",
        "zinc_residue": "dry_bulk",
        "ge_coal_ash": "dry_bulk",
        # chemicals, oxides and metals: bagged or drummed, in boxes
        "lithium_carbonate": "container",
        "lithium_hydroxide": "container",
        "mixed_ree_carbonate": "container",
        "separated_oxide": "container",
        "ree_metal": "container",
        "ndfeb_magnet": "container",
        "spherical_graphite": "container",
        "anode_material": "container",
        "primary_gallium": "container",
        "high_purity_gallium": "container",
        "ge_concentrate": "container",
        "refined_germanium": "container",
        # scrap and black mass: big bags in boxes (black mass is dangerous goods, never in holds)
        "black_mass": "container",
        "magnet_scrap": "container",
        "recovered_graphite": "container",
        "gallium_scrap": "container",
        "germanium_scrap": "container",
        # never shipped
        "brine": None,
        "bayer_liquor": None,
    }
)

#: Columns of the frame :func:`transport_costs` returns.
TRANSPORT_COLUMNS: tuple[str, ...] = (
    "cost_usd_per_t",
    "days",
    "co2e_kg_per_t",
    "leg_cost_usd_per_t",
    "leg_days",
    "leg_co2e_kg_per_t",
    "leg_cargo_class",
    "assumptions",
)

_NEEDED = ("products", "tonnes_per_t", "leg_modes", "leg_passages")
_SURFACE = ("dry_bulk", "container")
#: (kind, mode, cargo class) every parameter file must cover, exactly or with cargo_class `all`.
_REQUIRED: tuple[tuple[str, str, str], ...] = (
    *(
        (k, m, c)
        for k in ("freight_rate", "speed", "co2e")
        for m in ("sea", "land")
        for c in _SURFACE
    ),
    *((k, "air", "air_cargo") for k in ("freight_rate", "speed", "co2e")),
    *((k, "sea", c) for k in ("handling", "dwell") for c in _SURFACE),
)
_CLASSES_OF_MODE = {
    "sea": ("dry_bulk", "container", "all"),
    "land": ("dry_bulk", "container", "all"),
    "air": ("air_cargo", "all"),
}
_PASSAGE_KINDS = ("canal_toll", "canal_wait", "war_risk")


def cargo_class(product: str, mode: str) -> str | None:
    """The cargo class a product travels as on a leg of ``mode`` (``None``: never shipped).

    Examples
    --------
    >>> cargo_class("spodumene_concentrate", "sea")
    'dry_bulk'
    >>> cargo_class("high_purity_gallium", "air")
    'air_cargo'
    """
    if product not in PRODUCTS:
        close = difflib.get_close_matches(product, sorted(PRODUCTS), n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{product!r} is not a product.{hint} See gs.PRODUCTS.")
    if mode == "air":
        if "air" not in PRODUCTS[product].modes:
            raise ValueError(f"{product!r} does not fly; its modes are {PRODUCTS[product].modes}")
        return "air_cargo"
    if mode not in ("sea", "land"):
        raise ValueError(f"{mode!r} is not a mode; use sea, land or air")
    return CARGO_CLASS[product]


# --------------------------------------------------------------------------------------------
# parameters


class _Key(NamedTuple):
    kind: str
    mode: str
    cargo_class: str
    passage: str


@dataclass(frozen=True, eq=False)
class TransportParams:
    """Validated transport parameters, one row per parameter of the ``transport_params`` kind.

    Build them with :meth:`bundled` (the cited defaults), :meth:`from_file` or
    :meth:`from_frame`; constructing one validates the table and raises
    :class:`~geosource.errors.LayerError` listing every problem (file, row, field).

    Parameters
    ----------
    table
        Rows of the ``transport_params`` layer (text cells, as a CSV gives them, or typed).
    file
        The name problems are reported against.

    Examples
    --------
    >>> params = TransportParams.bundled()
    >>> params.value("co2e", "sea", "container")
    0.01612
    >>> params.value("canal_toll", "sea", "dry_bulk", "suez") is None
    True
    """

    table: pd.DataFrame = field(repr=False)
    file: str = "<data>"
    _index: Mapping[_Key, dict[str, Any]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        report = validate_frame(self.table, KIND, file=self.file)
        data = _checked(report)
        object.__setattr__(self, "table", data)
        object.__setattr__(self, "_index", _index(data))

    def __repr__(self) -> str:
        return f"TransportParams(file={self.file!r}, rows={len(self.table)})"

    @classmethod
    def bundled(cls) -> TransportParams:
        """The bundled, cited parameters (``layers/transport_params.csv``)."""
        return _bundled(str(bundled_layers_dir()))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> TransportParams:
        """Read and validate a parameter file (CSV, GeoPackage or Parquet of this kind)."""
        report = validate_layer(path, KIND)
        data = _checked(report)
        return cls(data, file=str(path))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, file: str = "<data>") -> TransportParams:
        """Validate a frame of parameter rows (text cells, as a CSV gives them, or typed)."""
        return cls(frame, file=file)

    def row(
        self, kind: str, mode: str, cargo_class: str, passage: str | None = None
    ) -> dict[str, Any] | None:
        """The row for a parameter: the cargo class's own row, else the mode's ``all`` row."""
        p = passage or ""
        for c in (cargo_class, "all"):
            hit = self._index.get(_Key(kind, mode, c, p))
            if hit is not None:
                return hit
        return None

    def value(
        self, kind: str, mode: str, cargo_class: str, passage: str | None = None
    ) -> float | None:
        """The parameter's value in its unit (see the layer's ``unit``), or ``None``."""
        hit = self.row(kind, mode, cargo_class, passage)
        return None if hit is None else float(hit["value"])

    def rate(self, mode: str, cargo_class: str) -> float:
        """Freight rate, USD per tonne-km."""
        return self._required("freight_rate", mode, cargo_class)

    def speed(self, mode: str, cargo_class: str) -> float:
        """Speed under way, km per day."""
        return self._required("speed", mode, cargo_class)

    def co2e(self, mode: str, cargo_class: str) -> float:
        """Emission factor, kg CO2e per tonne-km."""
        return self._required("co2e", mode, cargo_class)

    def _required(self, kind: str, mode: str, cargo_class: str) -> float:
        value = self.value(kind, mode, cargo_class)
        if value is None:
            raise KeyError(f"{self.file}: no {kind} row for {mode}/{cargo_class}")
        return value


@lru_cache(maxsize=2)
def _bundled(root: str) -> TransportParams:
    return TransportParams(load_layers(root).transport_params, file=f"{root}/{KIND}.csv")


def _known_passages() -> frozenset[str]:
    """Chokepoint ids of the bundled layers and searoute's passage names."""
    return _passages_in(str(bundled_layers_dir()))


@lru_cache(maxsize=2)
def _passages_in(root: str) -> frozenset[str]:
    return layer_ids("chokepoints", root) | frozenset(SEAROUTE_PASSAGES)


def _index(data: pd.DataFrame) -> dict[_Key, dict[str, Any]]:
    out: dict[_Key, dict[str, Any]] = {}
    for rec in _records(data):
        out[_key(rec)] = rec
    return out


def _key(rec: Mapping[str, Any]) -> _Key:
    passage = rec.get("passage")
    return _Key(
        str(rec["kind"]),
        str(rec["mode"]),
        str(rec["cargo_class"]),
        "" if _missing(passage) else str(passage),
    )


def _records(data: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in rec.items()} for rec in data.to_dict("records")]


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _checked(report: ValidationReport) -> pd.DataFrame:
    """The report's rows, or a LayerError with every schema and cross-field problem."""
    bad = set(report.bad_rows)
    problems = list(report.problems)
    if not report.file_problems():
        problems += _row_problems(report.data, report.file, bad)
        problems += _coverage_problems(report.data, report.file, bad)
    if problems:
        raise LayerError(problems)
    data = report.data.reset_index(drop=True)
    data.attrs = {"kind": KIND, "source_file": report.file}
    return data


def _row_problems(data: pd.DataFrame, file: str, bad: set[int]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[_Key, int] = {}
    for i, rec in enumerate(_records(data), start=1):
        if i in bad:
            continue
        problems += _one_row(rec, file, i)
        key = _key(rec)
        if key in seen:
            problems.append(
                Problem(
                    file,
                    i,
                    "kind",
                    f"a second {key.kind} row for {key.mode}/{key.cargo_class}"
                    + (f" at {key.passage}" if key.passage else "")
                    + f" (also on row {seen[key]})",
                    "keep one row per kind, mode, cargo class and passage",
                )
            )
        else:
            seen[key] = i
    return problems


def _one_row(rec: Mapping[str, Any], file: str, i: int) -> list[Problem]:
    kind, mode, cls = str(rec["kind"]), str(rec["mode"]), str(rec["cargo_class"])
    out: list[Problem] = []
    unit = TRANSPORT_UNITS[kind]
    if rec["unit"] != unit:
        out.append(
            Problem(file, i, "unit", f"{rec['unit']!r} is not the unit of {kind}", f"use {unit!r}")
        )
    if cls not in _CLASSES_OF_MODE[mode]:
        out.append(
            Problem(
                file,
                i,
                "cargo_class",
                f"{cls!r} does not travel by {mode}",
                "use one of: " + ", ".join(_CLASSES_OF_MODE[mode]),
            )
        )
    out += _passage_problems(rec, file, i, kind, mode)
    value: Any = rec["value"]
    low: Any = rec.get("low")
    high: Any = rec.get("high")
    if not _missing(low) and float(low) > float(value):
        out.append(
            Problem(file, i, "low", f"low {low:g} is above value {value:g}", "check the range")
        )
    if not _missing(high) and float(high) < float(value):
        out.append(
            Problem(file, i, "high", f"high {high:g} is below value {value:g}", "check the range")
        )
    if kind == "speed" and float(value) <= 0:
        out.append(Problem(file, i, "value", "a speed must be above 0", "give the speed in km/day"))
    return out


def _passage_problems(
    rec: Mapping[str, Any], file: str, i: int, kind: str, mode: str
) -> list[Problem]:
    passage = rec.get("passage")
    if kind not in _PASSAGE_KINDS:
        if _missing(passage):
            return []
        return [
            Problem(file, i, "passage", f"a {kind} row has no passage", "leave `passage` empty")
        ]
    out: list[Problem] = []
    if mode != "sea":
        out.append(Problem(file, i, "mode", f"a {kind} row is for sea passages", "use mode `sea`"))
    if _missing(passage):
        out.append(
            Problem(file, i, "passage", f"a {kind} row needs a passage", "name the chokepoint id")
        )
    elif str(passage) not in _known_passages():
        known = sorted(_known_passages())
        close = difflib.get_close_matches(str(passage), known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        out.append(
            Problem(
                file,
                i,
                "passage",
                f"{passage!r} is not a chokepoint id{hint}",
                "use one of: " + ", ".join(known),
            )
        )
    return out


def _coverage_problems(data: pd.DataFrame, file: str, bad: set[int]) -> list[Problem]:
    good = [rec for i, rec in enumerate(_records(data), start=1) if i not in bad]
    have = {_key(rec) for rec in good}
    out: list[Problem] = []
    for kind, mode, cls in _REQUIRED:
        if _Key(kind, mode, cls, "") not in have and _Key(kind, mode, "all", "") not in have:
            out.append(
                Problem(
                    file,
                    None,
                    "kind",
                    f"no {kind} row for {mode}/{cls}",
                    f"add a {kind} row with mode {mode} and cargo_class {cls} (or all)",
                )
            )
    return out


# --------------------------------------------------------------------------------------------
# disruptions

_RATE_KEYS = ("sea", "land", "air", "sea:dry_bulk", "sea:container", "land:dry_bulk",
              "land:container", "air:air_cargo")  # fmt: skip


@dataclass(frozen=True)
class Disruption:
    """Scenario parameters that raise transport cost and time; none can lower them.

    Parameters
    ----------
    name
        A label for reports.
    war_risk_usd_per_t
        Passage id -> war-risk premium, USD per tonne of cargo per transit (>= 0). Premiums are
        quoted as a share of the ship's value per transit; the per-tonne equivalent divides by
        the cargo a ship carries (see the ``war_risk`` rows of the parameter layer).
    added_days
        Passage id -> days added to each transit (>= 0): queues, convoys, inspections.
    toll_multipliers
        Passage id -> factor on the canal toll (>= 1).
    rate_multipliers
        ``mode`` or ``mode:cargo_class`` (e.g. ``sea:container``) -> factor on the freight rate
        (>= 1); the class's own key wins over the mode's.
    rate_passages
        When given, the rate multipliers apply only to legs whose route crosses one of these
        passages or would cross it but for a closure (the lanes the disruption hits, e.g.
        Asia-Europe in the Red Sea episode), not to every leg of the world. Routing by cost
        then uses the undisrupted rates; the leg's cost carries the multiplier.
    source
        Where the figures come from.

    Examples
    --------
    >>> Disruption(added_days={"panama": 9.0}).added_days["panama"]
    9.0
    >>> Disruption(rate_multipliers={"sea": 0.5})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Disruption: rate_multipliers['sea'] = 0.5 is below 1: a disruption never lowers...
    """

    name: str = "disruption"
    war_risk_usd_per_t: Mapping[str, float] = field(default_factory=dict)
    added_days: Mapping[str, float] = field(default_factory=dict)
    toll_multipliers: Mapping[str, float] = field(default_factory=dict)
    rate_multipliers: Mapping[str, float] = field(default_factory=dict)
    rate_passages: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        errors = [
            f"{name} must be text, not {type(getattr(self, name)).__name__}"
            for name in ("name", "source")
            if not isinstance(getattr(self, name), str)
        ]
        for name, floor in (
            ("war_risk_usd_per_t", 0.0),
            ("added_days", 0.0),
            ("toll_multipliers", 1.0),
            ("rate_multipliers", 1.0),
        ):
            clean, errs = _clean_mapping(name, getattr(self, name), floor)
            errors += errs
            object.__setattr__(self, name, MappingProxyType(clean))
        if isinstance(self.rate_passages, str) or not all(
            isinstance(p, str) and re.match(ID_PATTERN, p) for p in self.rate_passages
        ):
            errors.append(
                f"rate_passages must be a list of passage ids, not {self.rate_passages!r}"
            )
        else:
            object.__setattr__(self, "rate_passages", tuple(sorted(set(self.rate_passages))))
        errors += [
            f"rate_multipliers: {k!r} is not a mode or mode:cargo_class (use one of: "
            + ", ".join(_RATE_KEYS)
            + ")"
            for k in self.rate_multipliers
            if k not in _RATE_KEYS
        ]
        if errors:
            raise ValueError("Disruption: " + "; ".join(errors))

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}"]
        for name in ("war_risk_usd_per_t", "added_days", "toll_multipliers", "rate_multipliers"):
            parts.append(f"{name}={dict(getattr(self, name))!r}")
        if self.rate_passages:
            parts.append(f"rate_passages={list(self.rate_passages)!r}")
        if self.source:
            parts.append(f"source={self.source!r}")
        return f"Disruption({', '.join(parts)})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Disruption:
        """Build from a mapping (a scenario file's table); unknown keys are refused."""
        valid = [f for f in cls.__dataclass_fields__ if not f.startswith("_")]
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise ValueError(
                f"Disruption: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"valid keys: {', '.join(valid)}"
            )
        return cls(**dict(data))

    @property
    def passages(self) -> frozenset[str]:
        """Every passage id the disruption names."""
        return frozenset(
            [
                *self.war_risk_usd_per_t,
                *self.added_days,
                *self.toll_multipliers,
                *self.rate_passages,
            ]
        )

    def hits(self, passages: str) -> bool:
        """Whether the rate multipliers apply to a leg crossing (or diverted from) these
        ``;``-joined passages: always, unless ``rate_passages`` narrows them."""
        if not self.rate_passages:
            return True
        return bool(set(passages.split(";")) & set(self.rate_passages))

    def rate_multiplier(self, mode: str, cargo_class: str) -> float:
        """Factor on the freight rate of ``mode`` for ``cargo_class`` (1 when not named)."""
        own = self.rate_multipliers.get(f"{mode}:{cargo_class}")
        return float(own if own is not None else self.rate_multipliers.get(mode, 1.0))


def _clean_mapping(
    name: str, mapping: Mapping[str, float], floor: float
) -> tuple[dict[str, float], list[str]]:
    errors: list[str] = []
    clean: dict[str, float] = {}
    if not isinstance(mapping, Mapping):
        return clean, [f"{name} must be a mapping, not {type(mapping).__name__}"]
    for key, value in sorted(mapping.items(), key=lambda kv: str(kv[0])):
        if name != "rate_multipliers" and not re.match(ID_PATTERN, str(key)):
            errors.append(f"{name}: {key!r} is not a passage id")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(f"{name}[{key!r}] = {value!r} is not a number")
            continue
        number = float(value)
        if not math.isfinite(number):
            errors.append(f"{name}[{key!r}] = {value!r} is not finite")
        elif number < floor:
            below = "negative" if floor == 0 else f"below {floor:g}"
            errors.append(
                f"{name}[{key!r}] = {value!r} is {below}: a disruption never lowers cost or days"
            )
        else:
            clean[str(key)] = number
    return clean, errors


def _check_passages(disruption: Disruption, seen: set[str]) -> None:
    known = _known_passages() | seen
    for passage in sorted(disruption.passages):
        if passage not in known:
            close = difflib.get_close_matches(passage, sorted(known), n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"Disruption {disruption.name!r}: {passage!r} is not a passage.{hint} "
                f"Valid: {', '.join(sorted(known))}"
            )


# Drewry World Container Index, Shanghai-Rotterdam, USD per 40ft box: 14 Dec 2023 (before the
# diversions) and 18 Jan 2024 (Hellenic Shipping News, 16 Dec 2023 and 20 Jan 2024).
_WCI_BEFORE, _WCI_DURING = 1442.0, 4951.0
# Shanghai-Rotterdam in nautical miles via Suez and via the Cape (Rodrigue & Notteboom, Port
# Economics, Management and Policy, "Routing options between Shanghai, Rotterdam and New York").
_NM_SUEZ, _NM_CAPE = 10_600.0, 13_800.0
#: Freight-rate factor for container sea legs in the 2024 Red Sea episode: the rise of the
#: Shanghai-Rotterdam spot rate net of the longer Cape voyage (which routing counts as km).
RED_SEA_CONTAINER_RATE = round((_WCI_DURING / _WCI_BEFORE) / (_NM_CAPE / _NM_SUEZ), 2)


def red_sea_2024(params: TransportParams | None = None) -> Disruption:
    """The 2024 Red Sea episode as a :class:`Disruption` (the reference case).

    From mid-December 2023 most container lines diverted Asia-Europe services round the Cape of
    Good Hope; transits of Bab el-Mandeb fell to about half and Suez transits fell 42% in two
    months (UNCTAD, 26 Jan 2024). The disruption charges the ``war_risk`` premium of the
    parameter layer on every transit of Bab el-Mandeb (ships that kept going through) and raises
    container freight rates by :data:`RED_SEA_CONTAINER_RATE` (Drewry WCI Shanghai-Rotterdam
    USD 1,442 -> 4,951 per 40ft box, 14 Dec 2023 -> 18 Jan 2024, divided by the 13,800/10,600 nm
    longer Cape voyage). Routes that avoid the strait come from routing with
    ``closed_passages=["bab_el_mandeb"]``: the Cape diversion then adds its km and days (about
    7-14 days Asia-Europe).

    Parameters
    ----------
    params
        Where the war-risk premium comes from (default: the bundled, cited parameters).

    Returns
    -------
    Disruption
        Named ``red-sea-2024``, with its sources.

    Raises
    ------
    KeyError
        If ``params`` has no ``war_risk`` row for ``bab_el_mandeb``.

    Examples
    --------
    >>> d = red_sea_2024()
    >>> d.war_risk_usd_per_t["bab_el_mandeb"], d.rate_multipliers["sea:container"]
    (7.0, 2.64)
    """
    p = params or TransportParams.bundled()
    premium = p.value("war_risk", "sea", "all", "bab_el_mandeb")
    if premium is None:
        raise KeyError(f"{p.file}: no war_risk row for bab_el_mandeb (cargo_class all)")
    return Disruption(
        name="red-sea-2024",
        war_risk_usd_per_t={"bab_el_mandeb": premium},
        rate_multipliers={"sea:container": RED_SEA_CONTAINER_RATE},
        source=(
            "war risk: transport_params row war-risk-bab-el-mandeb; container rates: Drewry WCI "
            "Shanghai-Rotterdam 14 Dec 2023 and 18 Jan 2024 over the Cape/Suez distance ratio"
        ),
    )


# --------------------------------------------------------------------------------------------
# costs


class _Leg(NamedTuple):
    cost: float
    days: float
    co2e: float
    cargo_class: str
    note: str


@dataclass
class _Run:
    """What one call uses: the parameters, the disruption, and what it could not charge."""

    params: TransportParams
    disruption: Disruption
    used: set[str] = field(default_factory=set)
    not_charged: set[str] = field(default_factory=set)

    def get(self, kind: str, mode: str, cls: str, passage: str | None = None) -> float:
        hit = self.params.row(kind, mode, cls, passage)
        if hit is None:
            where = f"{mode}/{cls}" + (f" at {passage}" if passage else "")
            self.not_charged.add(f"{kind} {where}")
            return 0.0
        self.used.add(str(hit["id"]))
        return float(hit["value"])

    def need(self, kind: str, mode: str, cls: str) -> float:
        """A parameter every file has (the coverage check guarantees it)."""
        value = self.get(kind, mode, cls)
        if value <= 0 and kind == "speed":
            raise KeyError(f"{self.params.file}: no speed above 0 for {mode}/{cls}")
        return value


def transport_costs(
    frame: pd.DataFrame,
    params: TransportParams | str | os.PathLike[str] | None = None,
    disruption: Disruption | None = None,
) -> pd.DataFrame:
    """Landed freight and handling cost, door-to-door days and CO2e of each chain in ``frame``.

    Parameters
    ----------
    frame
        Rows with per-leg tuples ``products``, ``tonnes_per_t``, ``leg_modes`` (mode -> km)
        and ``leg_passages`` (``;``-joined chokepoint ids), as :func:`geosource.chains` and
        :func:`geosource.sourcing_paths` return them. The last product is the final product.
    params
        :class:`TransportParams`, or a path to a parameter file; the bundled, cited layer
        when omitted.
    disruption
        Scenario premiums, added days and rate or toll increases (never decreases).

    Returns
    -------
    pandas.DataFrame
        Aligned to ``frame.index`` with :data:`TRANSPORT_COLUMNS`: ``cost_usd_per_t`` (USD per
        tonne of final product), ``days`` (legs in sequence), ``co2e_kg_per_t``, the same per
        leg as tuples, each leg's cargo class, and an ``assumptions`` text per row;
        ``attrs["assumptions"]`` records the parameter file, the rows used, what was not
        charged for want of a row, and the disruption.

    Examples
    --------
    >>> legs = pd.DataFrame({"products": [("lithium_hydroxide",)], "tonnes_per_t": [(1.0,)],
    ...                      "leg_modes": [({"sea": 10000.0},)], "leg_passages": [("",)]})
    >>> out = transport_costs(legs)
    >>> round(float(out.loc[0, "cost_usd_per_t"]), 1), round(float(out.loc[0, "days"]), 1)
    (50.8, 17.6)
    """
    p = _params(params)
    d = disruption if disruption is not None else Disruption(name="none")
    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        raise ValueError(
            f"transport_costs: the frame lacks column(s) {', '.join(missing)}; pass the frame "
            "gs.chains or gs.sourcing_paths returns"
        )
    seen = {s for lp in frame["leg_passages"] for leg in lp for s in str(leg).split(";") if s}
    _check_passages(d, seen)
    run = _Run(p, d)
    hit = (
        frame["leg_disrupted"]
        if "leg_disrupted" in frame.columns
        else pd.Series([("",) * len(p) for p in frame["products"]], index=frame.index)
    )
    rows = [
        _chain(run, r["products"], r["tonnes_per_t"], r["leg_modes"], r["leg_passages"], h)
        for r, h in zip(frame[list(_NEEDED)].to_dict("records"), hit, strict=True)
    ]
    out = pd.DataFrame(rows, index=frame.index, columns=list(TRANSPORT_COLUMNS))
    for col in ("cost_usd_per_t", "days", "co2e_kg_per_t"):
        out[col] = out[col].astype("float64")
    out.attrs["assumptions"] = {
        "params": p.file,
        "rows_used": sorted(run.used),
        "not_charged": sorted(run.not_charged),
        "disruption": {
            "name": d.name,
            "war_risk_usd_per_t": dict(d.war_risk_usd_per_t),
            "added_days": dict(d.added_days),
            "toll_multipliers": dict(d.toll_multipliers),
            "rate_multipliers": dict(d.rate_multipliers),
            "rate_passages": list(d.rate_passages),
            "source": d.source,
        },
        "port_calls": "2 per leg with sea km, 2 per leg with air km",
        "byproduct_carriers": "charged their contained mass (minerals.attributed_tonnes)",
    }
    return out


def _params(params: TransportParams | str | os.PathLike[str] | None) -> TransportParams:
    if params is None:
        return TransportParams.bundled()
    if isinstance(params, TransportParams):
        return params
    if isinstance(params, str | os.PathLike):
        return TransportParams.from_file(params)
    raise TypeError(f"params must be TransportParams, a path or None, not {type(params).__name__}")


def _chain(
    run: _Run,
    products: Sequence[str],
    tonnes: Sequence[float],
    modes: Sequence[Mapping[str, float]],
    passages: Sequence[str],
    diverted: Sequence[str],
) -> list[Any]:
    n = len(products)
    if not (len(tonnes) == len(modes) == len(passages) == n):
        raise ValueError(
            f"transport_costs: a chain has {n} products but {len(tonnes)} tonnes, "
            f"{len(modes)} leg_modes and {len(passages)} leg_passages"
        )
    if n == 0:
        nan = float("nan")
        return [nan, nan, nan, (), (), (), (), "no legs"]
    final = str(products[-1])
    legs = [
        _leg(run, str(prod), final, float(t), m, str(ps), str(dv))
        for prod, t, m, ps, dv in zip(products, tonnes, modes, passages, diverted, strict=True)
    ]
    notes = "; ".join(f"leg {i}: {leg.note}" for i, leg in enumerate(legs, start=1))
    return [
        sum(leg.cost for leg in legs),
        sum(leg.days for leg in legs),
        sum(leg.co2e for leg in legs),
        tuple(leg.cost for leg in legs),
        tuple(leg.days for leg in legs),
        tuple(leg.co2e for leg in legs),
        tuple(leg.cargo_class for leg in legs),
        notes,
    ]


def _leg(
    run: _Run,
    product: str,
    final: str,
    tonnes: float,
    km_by_mode: Mapping[str, float],
    passages: str,
    diverted: str = "",
) -> _Leg:
    km = {str(m): float(k) for m, k in km_by_mode.items() if float(k) > 0}
    surface = cargo_class(product, "sea")
    if surface is None:
        if set(km) - {"land"}:
            raise ValueError(f"{product!r} is never shipped, but a leg moves it by {sorted(km)}")
        return _Leg(
            0.0, 0.0, 0.0, "none", f"{product} moves inside an integrated operation: not priced"
        )
    if not math.isfinite(tonnes) or tonnes < 0:
        raise ValueError(f"transport_costs: {tonnes!r} tonnes of {product!r} per tonne")
    charged = attributed_tonnes(product, final) if PRODUCTS[product].host else tonnes
    cost = days = co2e = 0.0
    d = run.disruption
    hit = d.hits(f"{passages};{diverted}")
    for mode in sorted(km):
        cls = cargo_class(product, mode) or surface
        factor = d.rate_multiplier(mode, cls) if hit else 1.0
        cost += km[mode] * run.need("freight_rate", mode, cls) * factor
        days += km[mode] / run.need("speed", mode, cls)
        co2e += km[mode] * run.need("co2e", mode, cls)
    for mode, cls in (("sea", surface), ("air", "air_cargo")):
        if mode in km:
            cost += 2 * run.get("handling", mode, cls)
            days += 2 * run.get("dwell", mode, cls)
    for passage in sorted(s for s in passages.split(";") if s):
        cost += run.get("canal_toll", "sea", surface, passage) * d.toll_multipliers.get(
            passage, 1.0
        )
        cost += d.war_risk_usd_per_t.get(passage, 0.0)
        days += run.get("canal_wait", "sea", surface, passage) + d.added_days.get(passage, 0.0)
    classes = "+".join(sorted({surface if m != "air" else "air_cargo" for m in km})) or surface
    basis = "contained mass" if PRODUCTS[product].host else "tonnes_per_t"
    note = f"{product}, {classes}, {charged:.4g} t/t ({basis})"
    return _Leg(charged * cost, days, charged * co2e, classes, note)

"""Named what-ifs: export bans, chokepoint closures, sanctions, outages, capacity changes, weights.

A :class:`Scenario` is a validated, serialisable description (TOML, YAML or JSON). It acts on the
network through the routing engine's masks and on scoring through new layer objects: it never
mutates the layers or the graph it is applied to.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from ._files import read_table, write_text
from .countries import normalize_country
from .layers import Layers
from .minerals import normalize_mineral
from .scoring import Weights
from .sourcing import sourcing_paths
from .transport import RED_SEA_CONTAINER_RATE, Disruption

__all__ = [
    "BUILTIN_SCENARIOS",
    "AppliedScenario",
    "ExportMeasure",
    "Scenario",
    "apply_scenario",
    "compare",
    "get_scenario",
]

_MEASURES = ("ban", "licence", "quota")
_STAGES = ("mining", "refining", "manufacturing", "all")


@dataclass(frozen=True)
class ExportMeasure:
    """An export measure a scenario adds (same meaning as a row of the export-controls layer)."""

    country: str
    minerals: tuple[str, ...]
    measure: str = "ban"
    stage: str = "all"
    targets: tuple[str, ...] = ("all",)
    effective: str | None = None
    ends: str | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "country", normalize_country(self.country))
        object.__setattr__(
            self,
            "minerals",
            tuple(normalize_mineral(m, allow_context=True) for m in _as_tuple(self.minerals)),
        )
        targets = _as_tuple(self.targets)
        object.__setattr__(
            self,
            "targets",
            ("all",) if targets == ("all",) else tuple(normalize_country(t) for t in targets),
        )
        if self.measure not in _MEASURES:
            raise ValueError(f"measure {self.measure!r} is not one of: {', '.join(_MEASURES)}")
        if self.stage not in _STAGES:
            raise ValueError(f"stage {self.stage!r} is not one of: {', '.join(_STAGES)}")
        for name in ("effective", "ends"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _iso(value, name))


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(";") if v.strip())
    return tuple(str(v) for v in value)


def _iso(value: Any, name: str) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date of the form YYYY-MM-DD") from None


@dataclass(frozen=True)
class Scenario:
    """A what-if, applied on top of the baseline layers and graph.

    Built-in scenarios come from :func:`get_scenario`; :meth:`read` and :meth:`write` keep one
    in a ``.toml``, ``.yaml`` or ``.json`` file; :func:`apply_scenario` applies it.

    Parameters
    ----------
    name, description, source
        What it is and what it models (a citation a reader can follow).
    as_of
        Date for export controls (``None``: the caller's date).
    add_measures
        Export measures added (each an :class:`ExportMeasure` or a mapping of its fields).
    lift_measures
        Ids of export-control measures (or suspensions) that no longer apply.
    closed_passages
        Chokepoint ids closed to shipping.
    sanctioned
        Countries (ISO3) no route may touch: no facility, port, airport or demand centre in them.
    offline
        Facility ids out of service.
    capacity
        Facility id -> new capacity (in the facility's own unit).
    weights
        Weight overrides (see :class:`~geosource.scoring.Weights`), ``objective`` included.
    transport
        What the scenario does to freight: a mapping of
        :class:`~geosource.transport.Disruption` fields (``war_risk_usd_per_t``,
        ``added_days``, ``toll_multipliers`` by passage; ``rate_multipliers`` by mode or
        ``mode:cargo_class``; ``source``). None of them can lower a cost or a day.

    Examples
    --------
    >>> s = Scenario(name="malacca-shut", closed_passages=("malacca",))
    >>> s.closed_passages, s.as_of
    (('malacca',), None)
    >>> Scenario(name="")
    Traceback (most recent call last):
    ...
    ValueError: a scenario needs a name
    """

    name: str
    description: str = ""
    source: str = ""
    as_of: str | None = None
    add_measures: tuple[ExportMeasure, ...] = ()
    lift_measures: tuple[str, ...] = ()
    closed_passages: tuple[str, ...] = ()
    sanctioned: tuple[str, ...] = ()
    offline: tuple[str, ...] = ()
    capacity: Mapping[str, float] = field(default_factory=dict)
    weights: Mapping[str, Any] = field(default_factory=dict)
    transport: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or not str(self.name).strip():
            raise ValueError("a scenario needs a name")
        measures = tuple(
            m if isinstance(m, ExportMeasure) else ExportMeasure(**dict(m))
            for m in self.add_measures
        )
        object.__setattr__(self, "add_measures", measures)
        for name in ("lift_measures", "closed_passages", "offline"):
            object.__setattr__(self, name, tuple(sorted(set(_as_tuple(getattr(self, name))))))
        object.__setattr__(
            self,
            "sanctioned",
            tuple(sorted({normalize_country(c) for c in _as_tuple(self.sanctioned)})),
        )
        if self.as_of is not None:
            object.__setattr__(self, "as_of", _iso(self.as_of, "as_of"))
        caps = {str(k): float(v) for k, v in dict(self.capacity).items()}
        for k, v in caps.items():
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"capacity of {k!r} must be a number >= 0, got {v}")
        object.__setattr__(self, "capacity", caps)
        Weights.from_dict(dict(self.weights))  # validates keys and values
        object.__setattr__(
            self,
            "weights",
            {str(k): (v if k == "objective" else float(v)) for k, v in dict(self.weights).items()},
        )
        transport = {str(k): v for k, v in dict(self.transport).items()}
        if "name" in transport:
            raise ValueError("transport: remove 'name' (a scenario's disruption takes its name)")
        if transport:
            self.disruption_for(transport)  # validates keys and values
        object.__setattr__(self, "transport", transport)

    def disruption_for(self, transport: Mapping[str, Any] | None = None) -> Disruption | None:
        """The scenario's :class:`~geosource.transport.Disruption` (``None`` when it has no
        ``transport`` table)."""
        data = dict(self.transport if transport is None else transport)
        if not data:
            return None
        data.setdefault("source", self.source)
        return Disruption.from_dict({**data, "name": self.name})

    @property
    def disruption(self) -> Disruption | None:
        """The scenario's transport disruption, if any."""
        return self.disruption_for()

    # -- serialisation -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """A scenario from a mapping; unknown keys are errors that list the valid ones."""
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise ValueError(f"unknown scenario key {unknown[0]!r}; valid keys: {', '.join(valid)}")
        measures = []
        for i, m in enumerate(data.get("add_measures", ()) or ()):
            if not isinstance(m, Mapping):
                raise ValueError(f"add_measures[{i}] must be a table of measure fields")
            known = [f.name for f in fields(ExportMeasure)]
            bad = sorted(set(m) - set(known))
            if bad:
                raise ValueError(
                    f"unknown key {bad[0]!r} in add_measures[{i}]; valid keys: {', '.join(known)}"
                )
            measures.append(ExportMeasure(**dict(m)))
        return cls(
            **{**{k: v for k, v in data.items() if k in valid}, "add_measures": tuple(measures)}
        )

    def to_dict(self) -> dict[str, Any]:
        """A plain mapping (JSON/TOML/YAML-ready); empty fields are left out."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in ((), {}, "", None):
                continue
            if f.name == "add_measures":
                value = [
                    {
                        k: (list(v) if isinstance(v, tuple) else v)
                        for k, v in asdict(m).items()
                        if v is not None
                    }
                    for m in value
                ]
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def read(cls, path: str | Path) -> Scenario:
        """Read a scenario from a ``.toml``, ``.yaml``/``.yml`` or ``.json`` file."""
        p = Path(path)
        data = read_table(p, "scenario file")
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{p}: {exc}") from None

    def write(self, path: str | Path) -> Path:
        """Write to ``.toml``, ``.yaml``/``.yml`` or ``.json`` (by suffix), atomically; reads
        back equal."""
        p = Path(path)
        data = self.to_dict()
        suffix = p.suffix.lower()
        if suffix == ".toml":
            import tomli_w

            text = tomli_w.dumps(data)
        elif suffix in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(data, sort_keys=True, allow_unicode=True)
        elif suffix == ".json":
            text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        else:
            raise ValueError(
                f"{p}: unsupported scenario file type {suffix!r}; use .toml, .yaml or .json"
            )
        return write_text(p, text)

    def check(self, layers: Layers) -> None:
        """Raise ``ValueError`` for ids the layers do not have, listing valid ones."""
        chokes = sorted(layers.chokepoints["id"])
        for c in self.closed_passages:
            if c not in chokes:
                raise ValueError(
                    f"scenario {self.name!r}: unknown passage {c!r}; valid: {', '.join(chokes)}"
                )
        measures = set(layers.export_controls["id"])
        for m in self.lift_measures:
            if m not in measures:
                close = sorted(x for x in measures if x.split("-")[0] == m.split("-")[0])[:6]
                raise ValueError(
                    f"scenario {self.name!r}: unknown measure {m!r}; e.g. "
                    f"{', '.join(close or sorted(measures)[:6])}"
                )
        facilities = set(layers.facilities["id"])
        for f in (*self.offline, *self.capacity):
            if f not in facilities:
                raise ValueError(
                    f"scenario {self.name!r}: unknown facility {f!r}; see "
                    "`geosource layers show facilities` for ids"
                )


# ---------------------------------------------------------------------------------------------
# built-in scenarios

_NO46 = (
    "MOFCOM/GAC Announcement No. 46 of 2024 (2024-12-03), clause 2: ban on exports of "
    "gallium, germanium, antimony and superhard materials to the United States; suspended "
    "by MOFCOM Announcement No. 72 of 2025 until 2026-11-27"
)

BUILTIN_SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="china-ga-ge-ban-us",
            description="China's ban on gallium and germanium exports to the US in force, its "
            "suspension lifted",
            source=_NO46,
            add_measures=(
                ExportMeasure(
                    "CHN",
                    ("gallium", "germanium"),
                    "ban",
                    "all",
                    ("USA",),
                    id="scenario-chn-ga-ge-ban-us",
                ),
            ),
            lift_measures=("chn-2025-no72-susp-no46-ban",),
        ),
        Scenario(
            name="china-ree-controls-2025",
            description="China's 2025 rare-earth licensing in force everywhere: No. 18 (seven "
            "medium "
            "and heavy rare earths) and the October 2025 measures with their one-year "
            "suspension (No. 70 of 2025) lifted",
            source="MOFCOM/GAC Announcement No. 18 of 2025 (2025-04-04); MOFCOM Announcements "
            "Nos. 56, 57, 61, 62 of 2025 (2025-10-09), suspended by No. 70 of 2025 "
            "(2025-11-07) until 2026-11-10",
            add_measures=(
                ExportMeasure(
                    "CHN",
                    ("rare_earths",),
                    "licence",
                    "all",
                    ("all",),
                    id="scenario-chn-ree-licence-all-stages",
                ),
            ),
            lift_measures=(
                "chn-2025-no70-susp-no56",
                "chn-2025-no70-susp-no57",
                "chn-2025-no70-susp-no61",
                "chn-2025-no70-susp-no62",
            ),
        ),
        Scenario(
            name="china-ree-export-ban",
            description="A stress test: China bans every rare-earth export (concentrate, "
            "oxides, metals, magnets) to every country; no such ban is in force",
            source="Hypothetical. Reference: MOFCOM/GAC Announcement No. 18 of 2025 "
            "(2025-04-04), whose licensing halted most medium and heavy rare-earth exports "
            "for weeks in April-May 2025",
            add_measures=(
                ExportMeasure(
                    "CHN",
                    ("rare_earths",),
                    "ban",
                    "all",
                    ("all",),
                    id="scenario-chn-ree-export-ban",
                ),
            ),
        ),
        Scenario(
            name="red-sea-closure",
            description="No shipping through Bab el-Mandeb or the Suez Canal (as in the 2024 "
            "diversions around the Cape of Good Hope)",
            source="UNCTAD Review of Maritime Transport 2024 (Suez tonnage down 70%, Cape arrivals "
            "up 89% by mid-2024); EIA, Red Sea chokepoints (2024)",
            closed_passages=("bab_el_mandeb", "suez"),
            transport={
                "rate_multipliers": {"sea:container": RED_SEA_CONTAINER_RATE},
                "rate_passages": ["bab_el_mandeb", "suez"],
                "source": "Drewry World Container Index, Shanghai-Rotterdam USD 1,442 per 40ft "
                "(14 Dec 2023) and USD 4,951 (18 Jan 2024), over the Cape/Suez distance ratio "
                "13,800/10,600 nm (see transport.RED_SEA_CONTAINER_RATE); closure: UNCTAD Review "
                "of Maritime Transport 2024",
            },
        ),
        Scenario(
            name="malacca-closure",
            description="The Strait of Malacca closed to shipping (blockade or accident)",
            source="EIA, World Oil Transit Chokepoints (2024): Malacca is the largest oil "
            "chokepoint "
            "by volume; Lombok and Sunda are the reroutes",
            closed_passages=("malacca",),
        ),
        Scenario(
            name="hormuz-closure",
            description="The Strait of Hormuz closed to shipping",
            source="EIA, World Oil Transit Chokepoints (2024); the 2026 closure reported in the "
            "chokepoints layer's rationale",
            closed_passages=("hormuz",),
        ),
        Scenario(
            name="taiwan-strait-closure",
            description="The Taiwan Strait closed to shipping (blockade or exclusion zones)",
            source="CSIS, 'Crossroads of Commerce' (October 2024): about one fifth of maritime "
            "trade "
            "transits the strait",
            closed_passages=("taiwan_strait",),
        ),
        Scenario(
            name="no-feoc",
            description="No foreign entity of concern anywhere on the path: no facility, port or "
            "airport in a covered nation",
            source="10 U.S.C. 4872(d)(2) covered nations (CHN, RUS, IRN, PRK); FEOC rules of the "
            "US clean-vehicle credit (26 U.S.C. 30D(d)(7))",
            sanctioned=("CHN", "RUS", "IRN", "PRK"),
        ),
    )
}


def get_scenario(name_or_path: str | Path | Scenario) -> Scenario:
    """A built-in scenario by name, or one read from a file.

    Parameters
    ----------
    name_or_path
        A built-in name (``"red-sea-closure"``, ``"china-ree-export-ban"``, ...), a
        ``.toml``, ``.yaml``/``.yml`` or ``.json`` scenario file, or a :class:`Scenario`
        (returned as it is).

    Returns
    -------
    Scenario
        The scenario, validated (its ids are checked against layers when it is applied).

    Raises
    ------
    ValueError
        Naming the built-in scenarios when the name is unknown, or the file and field when a
        file is malformed.

    Examples
    --------
    >>> get_scenario("red-sea-closure").closed_passages
    ('bab_el_mandeb', 'suez')
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "malacca.toml")
    >>> _ = Scenario(name="malacca-shut", closed_passages=("malacca",)).write(path)
    >>> get_scenario(path).name
    'malacca-shut'
    >>> get_scenario("red-sea")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown scenario 'red-sea'; built-in scenarios: china-ga-ge-ban-us, ...
    """
    if isinstance(name_or_path, Scenario):
        return name_or_path
    key = str(name_or_path)
    if key in BUILTIN_SCENARIOS:
        return BUILTIN_SCENARIOS[key]
    if Path(key).suffix.lower() in (".toml", ".yaml", ".yml", ".json"):
        return Scenario.read(key)
    raise ValueError(
        f"unknown scenario {key!r}; built-in scenarios: "
        f"{', '.join(BUILTIN_SCENARIOS)} (or give a .toml/.yaml/.json file)"
    )


# ---------------------------------------------------------------------------------------------
# applying


@dataclass(frozen=True)
class AppliedScenario:
    """A scenario applied: new layers, closures for the routing engine, weights and date.

    The baseline layers and graph are untouched; pass these to the routing and scoring calls, or
    use :meth:`sourcing_paths`.
    """

    scenario: Scenario
    graph: nx.MultiDiGraph
    layers: Layers
    closed_passages: tuple[str, ...]
    closed_nodes: frozenset[Any]
    weights: Weights
    as_of: str | None
    disruption: Disruption | None = None

    def sourcing_paths(self, mineral: Any, to: Any, k: int | None = 5, **kwargs: Any) -> Any:
        """:func:`geosource.sourcing_paths` under this scenario."""

        kwargs.setdefault("as_of", self.as_of)
        kwargs.setdefault("weights", self.weights)
        kwargs.setdefault("disruption", self.disruption)
        return sourcing_paths(
            self.graph,
            mineral,
            to,
            k,
            layers=self.layers,
            closed_passages=(*self.closed_passages, *kwargs.pop("closed_passages", ())),
            closed_nodes=self.closed_nodes | frozenset(kwargs.pop("closed_nodes", ())),
            **kwargs,
        )


def apply_scenario(
    G: nx.MultiDiGraph, layers: Layers | None, scenario: Scenario | str
) -> AppliedScenario:
    """Apply a scenario without touching ``G`` or ``layers``.

    Measures are added to (or lifted from) a copy of the export-controls layer; offline
    facilities are flagged (column ``offline``) and capacity changes applied in a copy of the
    facilities layer; passages and sanctioned countries become routing masks (no graph rebuild).

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`.
    layers
        The baseline layers (``None``: the layers the graph carries).
    scenario
        A :class:`Scenario`, a built-in name or a scenario file (see :func:`get_scenario`).

    Returns
    -------
    AppliedScenario
        ``scenario``, ``graph`` (``G`` itself), the new ``layers``, ``closed_passages``,
        ``closed_nodes``, ``weights``, ``as_of`` and ``disruption``; its
        ``sourcing_paths(mineral, to, ...)`` runs :func:`geosource.sourcing_paths` under them.

    Raises
    ------
    ValueError
        If the scenario names a passage, facility or measure the layers do not have.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> s = gs.apply_scenario(G, None, "red-sea-closure")
    >>> s.closed_passages
    ('bab_el_mandeb', 'suez')
    >>> out = gs.apply_scenario(G, None, gs.Scenario(name="x", offline=("li-greenbushes",)))
    >>> bool(out.layers.facilities.set_index("id").at["li-greenbushes", "offline"])
    True
    >>> "offline" in G.graph["layers"].facilities.columns
    False
    """
    sc = get_scenario(scenario)
    lay = layers if layers is not None else G.graph["layers"]
    sc.check(lay)
    controls = lay.export_controls.copy(deep=True)
    if sc.lift_measures:
        controls = controls[~controls["id"].isin(sc.lift_measures)]
    if sc.add_measures:
        rows = []
        for i, m in enumerate(sc.add_measures):
            rows.append(
                {
                    "id": m.id or f"scenario-{sc.name}-{i + 1}",
                    "country": m.country,
                    "minerals": ";".join(m.minerals),
                    "products": f"scenario {sc.name}",
                    "stage": m.stage,
                    "measure": m.measure,
                    "targets": ";".join(m.targets),
                    "announced": m.effective or "1900-01-01",
                    "effective": m.effective or "1900-01-01",
                    "ends": m.ends,
                    "suspends": None,
                    "scope": "all",
                    "source": sc.source or f"scenario {sc.name}",
                    "notes": sc.description or None,
                }
            )
        added = pd.DataFrame(rows).astype(
            {c: controls[c].dtype for c in rows[0] if c in controls.columns}, errors="ignore"
        )
        controls = pd.concat([controls, added], ignore_index=True)
    controls = controls.reset_index(drop=True)
    facilities = lay.facilities.copy(deep=True)
    if sc.offline:
        # a scenario-only column: routing keeps these sites (one routing result serves every
        # outage combination), option building skips them
        facilities["offline"] = facilities["id"].isin(sc.offline)
    for fid, cap in sorted(sc.capacity.items()):
        facilities.loc[facilities["id"] == fid, "capacity"] = cap
    new_layers = lay.replace(export_controls=controls, facilities=facilities)
    blocked: set[Any] = set()
    if sc.sanctioned:
        banned = set(sc.sanctioned)
        blocked = {n for n, c in nx.get_node_attributes(G, "country").items() if c in banned}
    base = Weights()
    weights = replace(base, **sc.weights) if sc.weights else base
    return AppliedScenario(
        sc,
        G,
        new_layers,
        tuple(sc.closed_passages),
        frozenset(blocked),
        weights,
        sc.as_of,
        sc.disruption,
    )


# ---------------------------------------------------------------------------------------------
# comparing

_OPTION = ["mineral", "query", "chain_countries"]


def compare(
    baseline: pd.DataFrame, scenario: pd.DataFrame, *, name: str = "scenario"
) -> pd.DataFrame:
    """What changed between a baseline and a scenario run of :func:`sourcing_paths`.

    Options are matched as a buyer sees them: mineral, query and the countries of every stage of
    the chain (the corridor is what a closure changes). Each side is first reduced to its best
    option per key. Each row says whether an option was ``lost`` (no route left between those
    countries), is ``new``, ``changed`` (cost, days, distance or exposure; with deltas and the
    reason) or ``unchanged``. Compare runs made with ``k=None``: with a cut-off, an option that
    merely falls out of the top k shows as lost. ``attrs["verdicts"]`` holds one line per query ×
    mineral, leading with the change in landed cost, days and km of the options that changed,
    e.g. ``"lithium → DEU: best option unchanged; +38 USD/t, +12.4 days, +6,480 km (median) for
    4 of 9 options via cape_of_good_hope (4)"``; the frame's ``verdict`` column repeats it on
    every row of the query, and ``attrs["buyers"]`` holds one row per mineral × query with the
    best option's cost, days and km before and after.

    Parameters
    ----------
    baseline, scenario
        The two runs of :func:`geosource.sourcing_paths` (best with ``k=None``).
    name
        The scenario's name, used in the verdicts.

    Returns
    -------
    pandas.DataFrame
        One row per option key: each side's figures (suffixes ``_base`` and ``_scenario``),
        ``status``, ``reason``, the deltas (``delta_km``, ``delta_cost_usd_per_t``,
        ``delta_days``, ``delta_exposure``, ``delta_score``) and ``verdict``.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> base = gs.sourcing_paths(G, "lithium", "DEU", k=None, as_of="2025-06-30")
    >>> closed = gs.apply_scenario(G, None, "red-sea-closure")
    >>> after = closed.sourcing_paths("lithium", "DEU", k=None, as_of="2025-06-30")
    >>> diff = gs.compare(base, after, name="red-sea-closure")
    >>> sorted(set(diff["status"]))
    ['changed', 'unchanged']
    >>> bool((diff.loc[diff["status"] == "changed", "delta_km"] > 0).all())
    True
    >>> diff.attrs["verdicts"]["lithium → DEU"][:36]
    'lithium → DEU: best option unchanged'
    """
    keep = [
        *_OPTION,
        "rank",
        "mine_id",
        "plant_id",
        "demand_id",
        "distance_km",
        "cost_usd_per_t",
        "days",
        "exposure",
        "score",
        "passages",
        "export_controls_reason",
    ]
    keep = [c for c in keep if c in baseline.columns and c in scenario.columns]
    a = pd.DataFrame(baseline[keep]).sort_values([*_OPTION, "rank"], kind="mergesort")
    b = pd.DataFrame(scenario[keep]).sort_values([*_OPTION, "rank"], kind="mergesort")
    a = a.drop_duplicates(_OPTION, keep="first")
    b = b.drop_duplicates(_OPTION, keep="first")
    merged = a.merge(b, on=_OPTION, how="outer", suffixes=("_base", "_scenario"), indicator=True)
    status = []
    reasons = []
    for rec in merged.to_dict("records"):
        if rec["_merge"] == "left_only":
            status.append("lost")
            reasons.append(f"not available under {name}")
            continue
        if rec["_merge"] == "right_only":
            status.append("new")
            reasons.append(f"enters the ranking under {name}")
            continue
        dd = rec["distance_km_scenario"] - rec["distance_km_base"]
        de = rec["exposure_scenario"] - rec["exposure_base"]
        dc = rec.get("cost_usd_per_t_scenario", 0.0) - rec.get("cost_usd_per_t_base", 0.0)
        dy = rec.get("days_scenario", 0.0) - rec.get("days_base", 0.0)
        why = []
        for role in ("mine", "plant", "demand"):
            before, after = rec.get(f"{role}_id_base"), rec.get(f"{role}_id_scenario")
            if before != after and not (pd.isna(before) and pd.isna(after)):
                # a different site, not the same one made cheaper or dearer
                why.append(f"{role} {before} -> {after}")
        if abs(dc) > 0.005:
            why.append(f"{dc:+,.2f} USD/t")
        if abs(dy) > 0.005:
            why.append(f"{dy:+,.1f} days")
        if abs(dd) > 0.5:
            added = sorted(
                set(str(rec["passages_scenario"] or "").split(";"))
                - set(str(rec["passages_base"] or "").split(";"))
                - {""}
            )
            via = f" via {', '.join(added)}" if added else ""
            why.append(f"{dd:+,.0f} km{via}")
        if abs(de) > 1e-9:
            if rec["export_controls_reason_scenario"] != rec["export_controls_reason_base"]:
                why.append(
                    f"exposure {de:+.3f} (export controls: "
                    f"{rec['export_controls_reason_scenario']})"
                )
            else:
                why.append(f"exposure {de:+.3f}")
        status.append("changed" if why else "unchanged")
        reasons.append("; ".join(why) if why else "")
    merged["status"] = status
    merged["reason"] = reasons
    merged["delta_km"] = merged["distance_km_scenario"] - merged["distance_km_base"]
    for col, short in (("cost_usd_per_t", "delta_cost_usd_per_t"), ("days", "delta_days")):
        if f"{col}_base" in merged.columns:
            merged[short] = merged[f"{col}_scenario"] - merged[f"{col}_base"]
    merged["delta_exposure"] = merged["exposure_scenario"] - merged["exposure_base"]
    merged["delta_score"] = merged["score_scenario"] - merged["score_base"]
    merged = merged.drop(columns="_merge")
    verdicts: dict[str, str] = {}
    lines = []
    for (mineral, query), part in merged.groupby(["mineral", "query"], sort=True):
        line = _verdict(str(mineral), str(query), part)
        verdicts[f"{mineral} → {query}"] = line
        lines.append(((mineral, query), line))
    merged["verdict"] = [
        dict(lines)[(m, q)] for m, q in zip(merged["mineral"], merged["query"], strict=True)
    ]
    order = ["mineral", "query", "rank_base", "rank_scenario"]
    merged = merged.sort_values(order, na_position="last", kind="mergesort")
    merged = merged.reset_index(drop=True)
    merged.attrs = {"verdicts": verdicts, "scenario": name, "buyers": _per_buyer(merged)}
    return merged


def _per_buyer(merged: pd.DataFrame) -> list[dict[str, Any]]:
    """Per mineral × query: the best option before and after, with its cost, days and km."""
    out = []
    for (mineral, query), part in merged.groupby(["mineral", "query"], sort=True):
        row: dict[str, Any] = {"mineral": mineral, "query": query}
        for side in ("base", "scenario"):
            ranked = part[part[f"rank_{side}"].notna()].sort_values(f"rank_{side}")
            best = ranked.iloc[0] if len(ranked) else None
            row[f"best_{side}"] = " → ".join(best["chain_countries"]) if best is not None else ""
            for col in ("cost_usd_per_t", "days", "distance_km"):
                key = f"{col}_{side}"
                row[key] = float(best[key]) if best is not None and key in best else None
        out.append(row)
    return out


def _added_passages(rows: pd.DataFrame) -> str:
    added: dict[str, int] = {}
    for before, after in zip(
        rows["passages_base"].fillna(""), rows["passages_scenario"].fillna(""), strict=True
    ):
        for p in sorted(set(str(after).split(";")) - set(str(before).split(";")) - {""}):
            added[p] = added.get(p, 0) + 1
    top = sorted(added.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    return (" via " + ", ".join(f"{p} ({n})" for p, n in top)) if top else ""


def _verdict(mineral: str, query: str, part: pd.DataFrame) -> str:
    base = part[part["rank_base"].notna()].sort_values("rank_base")
    scen = part[part["rank_scenario"].notna()].sort_values("rank_scenario")
    head = f"{mineral} → {query}: "
    if scen.empty:
        return head + "no option left"
    if base.empty:
        return head + "no baseline option"
    same_best = base.iloc[0]["chain_countries"] == scen.iloc[0]["chain_countries"]
    if same_best:
        bits = ["best option unchanged"]
    else:
        new = scen.iloc[0]
        cost = (
            f"{new['cost_usd_per_t_scenario']:,.2f} USD/t, {new['days_scenario']:,.1f} days, "
            if "cost_usd_per_t_scenario" in new
            else ""
        )
        bits = [
            f"new best option: {' → '.join(new['chain_countries'])} "
            f"({cost}{new['distance_km_scenario']:,.0f} km)"
        ]
    lost = int((part["status"] == "lost").sum())
    if lost:
        bits.append(f"{lost} of {len(base)} options lost")
    moved = part[part["status"] == "changed"]
    if "delta_cost_usd_per_t" in part.columns:
        moved = moved[
            (moved["delta_cost_usd_per_t"].abs() > 0.005) | (moved["delta_days"].abs() > 0.005)
        ]
    else:
        moved = moved.iloc[0:0]
    if len(moved):
        added = _added_passages(moved)
        bits.append(
            f"{moved['delta_cost_usd_per_t'].median():+,.2f} USD/t, "
            f"{moved['delta_days'].median():+,.1f} days, "
            f"{moved['delta_km'].median():+,.0f} km (median) for {len(moved)} of "
            f"{len(base)} options{added}"
        )
    longer = part[(part["status"] == "changed") & (part["delta_km"] > 0.5)]
    if len(longer) and not len(moved):
        counts: dict[str, int] = {}
        for before, after in zip(
            longer["passages_base"].fillna(""), longer["passages_scenario"].fillna(""), strict=True
        ):
            for p in sorted(set(str(after).split(";")) - set(str(before).split(";")) - {""}):
                counts[p] = counts.get(p, 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
        via = (" via " + ", ".join(f"{p} ({n})" for p, n in top)) if top else ""
        bits.append(
            f"{longer['delta_km'].median():+,.0f} km (median) for {len(longer)} of "
            f"{len(base)} options{via}"
        )
    riskier = part[(part["status"] == "changed") & (part["delta_exposure"] > 1e-9)]
    if len(riskier):
        bits.append(f"exposure up for {len(riskier)} of {len(base)} options")
    if len(bits) == 1 and same_best and not lost:
        bits.append("no option changed")
    return head + "; ".join(bits)

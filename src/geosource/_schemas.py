"""Field specifications and pandera schemas for every layer kind.

A :class:`FieldSpec` says what a column holds (its type, whether it may be empty, its allowed values
or range) and how to fix a bad value. :func:`pandera_schema` turns a kind's specs into a pandera
``DataFrameSchema`` that checks the values once they have been parsed to their types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .minerals import MINERALS, STAGES

if TYPE_CHECKING:  # pandera is imported when a layer is first validated, not with the package
    import pandera.pandas as pa

FieldType = Literal["str", "float", "int", "bool", "date", "list", "country", "mineral", "locode"]
GeometryKind = Literal["point", "polygon", "multipolygon"] | None

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


@dataclass(frozen=True)
class FieldSpec:
    """What one column of a layer holds."""

    name: str
    type: FieldType
    required: bool = True
    """The column must exist in the file."""
    nullable: bool = False
    """Cells may be empty."""
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    unique: bool = False
    doc: str = ""
    fix: str = ""


@dataclass(frozen=True)
class LayerSpec:
    """A layer kind: its fields, geometry and documentation."""

    kind: str
    fields: tuple[FieldSpec, ...]
    geometry: GeometryKind
    id_field: str | None
    doc: str
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


_LONLAT_ALIASES = {
    "longitude": "lon",
    "long": "lon",
    "lng": "lon",
    "x": "lon",
    "latitude": "lat",
    "y": "lat",
}

_SOURCE = FieldSpec(
    "source",
    "str",
    doc="citation a reader can follow (publication, table/page, URL)",
    fix="cite the publication, table or page, and URL the fact comes from",
)
_AS_OF = FieldSpec(
    "as_of",
    "date",
    doc="date the fact describes (YYYY-MM-DD)",
    fix="write the date the fact describes as YYYY-MM-DD",
)
_REVIEWED = FieldSpec(
    "reviewed",
    "date",
    required=False,
    nullable=True,
    doc="date the row was last checked (YYYY-MM-DD)",
    fix="give the date of the last check as YYYY-MM-DD",
)
_NOTES = FieldSpec("notes", "str", required=False, nullable=True, doc="free text")
_LON = FieldSpec(
    "lon",
    "float",
    minimum=-180.0,
    maximum=180.0,
    doc="longitude, WGS84 decimal degrees",
    fix="give longitude in decimal degrees between -180 and 180 (WGS84)",
)
_LAT = FieldSpec(
    "lat",
    "float",
    minimum=-90.0,
    maximum=90.0,
    doc="latitude, WGS84 decimal degrees",
    fix="give latitude in decimal degrees between -90 and 90 (WGS84)",
)
_PRECISION = FieldSpec(
    "coord_precision",
    "str",
    choices=("site", "approx"),
    doc="`site`: checked against a cited source; `approx`: not checked",
    fix="use `site` where the coordinates were checked against a cited source, else `approx`",
)
_COUNTRY = FieldSpec(
    "country",
    "country",
    doc="ISO 3166-1 alpha-3 (names and alpha-2 accepted on input)",
    fix="use an ISO 3166 name, alpha-2 or alpha-3 code",
)


def _id(name: str = "id", doc: str = "unique id") -> FieldSpec:
    return FieldSpec(
        name,
        "str",
        pattern=ID_PATTERN,
        unique=True,
        doc=doc,
        fix="use a unique lowercase id of letters, digits, `-` and `_`",
    )


FACILITY_KINDS = (
    "mine",
    "brine",
    "deposit",
    "chemical_refinery",
    "separation_plant",
    "metal_alloy_plant",
    "magnet_plant",
    "spherical_graphite_plant",
    "anode_plant",
    "alumina_refinery",
    "zinc_smelter",
    "germanium_refinery",
    "gallium_refinery",
    "battery_recycling",
    "magnet_recycling",
)
FACILITY_STATUS = ("operating", "construction", "development", "deposit", "suspended", "closed")
CAPACITY_UNITS = (
    "t/y LCE",
    "t/y spodumene concentrate",
    "t/y lithium hydroxide",
    "t/y lithium carbonate",
    "t/y REO",
    "t/y NdPr oxide",
    "t/y magnets",
    "t/y graphite concentrate",
    "t/y spherical graphite",
    "t/y anode material",
    "t/y Ga",
    "t/y Ge",
    "t/y alumina",
    "t/y zinc",
    "t/y battery feed",
    "t/y ore",
    "t/y contained Li2O",
    "t/y mixed rare earth carbonate",
    "t/y rare earth concentrate",
    "t/y zinc concentrate",
    "t/y germanium concentrate",
)
MEASURES = ("ban", "licence", "quota", "suspension")

FACILITIES = LayerSpec(
    "facilities",
    (
        _id(doc="unique id, mineral-prefixed slug"),
        FieldSpec("name", "str", doc="facility name", fix="give the facility's name"),
        FieldSpec(
            "mineral",
            "mineral",
            doc="mineral id (" + ", ".join(MINERALS) + ")",
            fix="use one of: " + ", ".join(MINERALS),
        ),
        FieldSpec(
            "stage",
            "str",
            choices=STAGES,
            doc="supply-chain stage",
            fix="use one of: " + ", ".join(STAGES),
        ),
        FieldSpec(
            "kind",
            "str",
            choices=FACILITY_KINDS,
            doc="kind of site",
            fix="use one of: " + ", ".join(FACILITY_KINDS),
        ),
        FieldSpec(
            "status",
            "str",
            choices=FACILITY_STATUS,
            doc="operating status",
            fix="use one of: " + ", ".join(FACILITY_STATUS),
        ),
        _COUNTRY,
        _LON,
        _LAT,
        _PRECISION,
        FieldSpec(
            "coord_source",
            "str",
            required=False,
            nullable=True,
            doc="source that gave the point (dataset, report or page); empty where the point is "
            "placed at a named town or district",
            fix="name the dataset, report or page the coordinates come from, or leave empty",
        ),
        FieldSpec(
            "capacity",
            "float",
            required=False,
            nullable=True,
            minimum=0.0,
            doc="capacity or production, in capacity_unit",
            fix="give a non-negative number without thousands separators",
        ),
        FieldSpec(
            "capacity_unit",
            "str",
            required=False,
            nullable=True,
            choices=CAPACITY_UNITS,
            doc="unit of capacity",
            fix="use one of: " + ", ".join(CAPACITY_UNITS),
        ),
        FieldSpec(
            "capacity_basis",
            "str",
            required=False,
            nullable=True,
            choices=("nameplate", "production"),
            doc="`nameplate` capacity or actual `production`",
            fix="use `nameplate` or `production`",
        ),
        FieldSpec(
            "capacity_year",
            "int",
            required=False,
            nullable=True,
            minimum=1900,
            maximum=2100,
            doc="year the capacity refers to",
            fix="give a 4-digit year",
        ),
        FieldSpec(
            "capacity_estimate",
            "bool",
            required=False,
            nullable=True,
            doc="true if the capacity figure is an estimate",
            fix="write true or false",
        ),
        FieldSpec("operator", "str", required=False, nullable=True, doc="operating company"),
        FieldSpec(
            "inputs",
            "list",
            required=False,
            nullable=True,
            doc="`;` list of product ids the facility takes in (empty: it starts from the ground)",
            fix="use product ids of the row's mineral (see gs.PRODUCTS) or external inputs",
        ),
        FieldSpec(
            "outputs",
            "list",
            required=False,
            nullable=True,
            doc="`;` list of product ids the facility makes",
            fix="use product ids of the row's mineral (see gs.PRODUCTS)",
        ),
        FieldSpec(
            "capacity_product",
            "str",
            required=False,
            nullable=True,
            doc="the output product the capacity figure counts",
            fix="name one of the row's outputs",
        ),
        FieldSpec(
            "feeds",
            "list",
            required=False,
            nullable=True,
            doc="`;` list of facility ids this facility supplies under a documented link",
            fix="use facility ids, separated by `;`",
        ),
        FieldSpec(
            "feeds_source",
            "str",
            required=False,
            nullable=True,
            doc="citation for the documented links in `feeds`",
        ),
        FieldSpec(
            "owner",
            "str",
            required=False,
            nullable=True,
            doc="ultimate parent company (JV parents with shares)",
        ),
        FieldSpec(
            "owner_country",
            "country",
            required=False,
            nullable=True,
            doc="home country of the controlling parent (ISO3)",
            fix="use an ISO 3166 name, alpha-2 or alpha-3 code",
        ),
        FieldSpec(
            "owner_source",
            "str",
            required=False,
            nullable=True,
            doc="citation for the ownership",
        ),
        FieldSpec(
            "export_port",
            "locode",
            required=False,
            nullable=True,
            doc="documented export port (UN/LOCODE in searoute's port list)",
            fix="use a 5-letter UN/LOCODE from searoute's ports, or leave empty",
        ),
        _SOURCE,
        _AS_OF,
        FieldSpec(
            "reviewed",
            "date",
            required=False,
            nullable=True,
            doc="date the row's status, owner and capacity were last checked (YYYY-MM-DD)",
            fix="give the date of the last check as YYYY-MM-DD",
        ),
        _NOTES,
    ),
    geometry="point",
    id_field="id",
    doc="a mine, deposit, processing, manufacturing or recycling plant",
    aliases=_LONLAT_ALIASES,
)

PRODUCTION = LayerSpec(
    "production",
    (
        FieldSpec("mineral", "mineral", fix="use one of: " + ", ".join(MINERALS)),
        FieldSpec("stage", "str", choices=("mining", "refining"), fix="use `mining` or `refining`"),
        FieldSpec(
            "country",
            "country",
            doc="ISO3, or WLD (world) / ROW (other countries)",
            fix="use an ISO 3166 code, or WLD for the world total, ROW for other countries",
        ),
        FieldSpec("year", "int", minimum=1900, maximum=2100, fix="give a 4-digit year"),
        FieldSpec(
            "quantity",
            "float",
            nullable=True,
            minimum=0.0,
            doc="quantity in unit; empty where the source withholds it",
            fix="give a non-negative number, or leave empty where withheld",
        ),
        FieldSpec(
            "unit", "str", doc="unit, e.g. `t Li content`, `t REO`, `share`", fix="name the unit"
        ),
        FieldSpec(
            "estimate",
            "bool",
            nullable=True,
            doc="true where the source marks the figure as an estimate (empty: no figure)",
            fix="write true or false",
        ),
        FieldSpec(
            "share_basis",
            "str",
            required=False,
            nullable=True,
            doc="for unit=share: which figure the share comes from",
        ),
        FieldSpec(
            "product",
            "str",
            required=False,
            nullable=True,
            doc="product id (see gs.PRODUCTS) when the figure is for one product of a stage "
            "(e.g. ndfeb_magnet, spherical_graphite); empty: the whole stage",
            fix="use a product id of the row's mineral, or leave empty",
        ),
        _SOURCE,
        _AS_OF,
        _NOTES,
    ),
    geometry=None,
    id_field=None,
    doc="a country's output of a mineral at a stage in a year",
)

_FLAG = "write true or false"
COUNTRIES = LayerSpec(
    "countries",
    (
        FieldSpec("iso3", "country", unique=True, fix="use an ISO 3166 alpha-3 code"),
        FieldSpec("name", "str", fix="give the country's name"),
        FieldSpec("wgi_year", "int", nullable=True, minimum=1996, maximum=2100),
        *(
            FieldSpec(
                f"wgi_{k}",
                "float",
                nullable=True,
                minimum=-3.0,
                maximum=3.0,
                doc=f"WGI estimate: {d}",
                fix="give the WGI estimate (about -2.5 to 2.5) or leave empty",
            )
            for k, d in (
                ("va", "Voice and Accountability"),
                ("pv", "Political Stability and Absence of Violence/Terrorism"),
                ("ge", "Government Effectiveness"),
                ("rq", "Regulatory Quality"),
                ("rl", "Rule of Law"),
                ("cc", "Control of Corruption"),
            )
        ),
        *(FieldSpec(g, "bool", fix=_FLAG) for g in ("msp", "ipef", "quad", "us_fta", "feoc", "eu")),
        _SOURCE,
        _AS_OF,
        _NOTES,
    ),
    geometry=None,
    id_field="iso3",
    doc="a country's governance (WGI) and alignment groups",
)

EXPORT_CONTROLS = LayerSpec(
    "export_controls",
    (
        _id(doc="unique id of the measure"),
        _COUNTRY,
        FieldSpec(
            "minerals",
            "list",
            doc="`;`-separated mineral ids",
            fix="list mineral ids separated by `;`",
        ),
        FieldSpec("products", "str", doc="covered products"),
        FieldSpec(
            "stage",
            "str",
            choices=("mining", "refining", "manufacturing", "technology", "all"),
            fix="use one of: mining, refining, manufacturing, technology, all",
        ),
        FieldSpec("measure", "str", choices=MEASURES, fix="use one of: " + ", ".join(MEASURES)),
        FieldSpec(
            "targets",
            "list",
            doc="`all` or `;`-separated ISO3 codes",
            fix="write `all` or ISO3 codes separated by `;`",
        ),
        FieldSpec("announced", "date", fix="write the date as YYYY-MM-DD"),
        FieldSpec("effective", "date", nullable=True, fix="write the date as YYYY-MM-DD"),
        FieldSpec(
            "ends", "date", nullable=True, fix="write the date as YYYY-MM-DD, or leave empty"
        ),
        FieldSpec(
            "suspends",
            "str",
            required=False,
            nullable=True,
            doc="id of the measure this suspension suspends",
            fix="give the id of a measure in the same file",
        ),
        FieldSpec(
            "scope",
            "str",
            required=False,
            nullable=True,
            choices=("all", "military_end_users", "listed_entities", "raw_ore"),
            doc="what the measure binds: every flow to the targets (`all`, the default), "
            "only `military_end_users`, only `listed_entities`, or only unprocessed `raw_ore` "
            "(concentrate exports continue)",
            fix="use all, military_end_users, listed_entities or raw_ore",
        ),
        FieldSpec(
            "product_ids",
            "list",
            required=False,
            nullable=True,
            doc="`;` list of product ids the measure covers (see gs.PRODUCTS); empty: every "
            "product of its minerals at its `stage`",
            fix="use product ids of the measure's minerals, separated by `;`",
        ),
        FieldSpec(
            "extraterritorial",
            "bool",
            required=False,
            nullable=True,
            doc="true if the measure also binds re-exports of the country's material from third "
            "countries to its targets (e.g. No. 46 of 2024)",
            fix="write true or false",
        ),
        FieldSpec(
            "direction",
            "str",
            required=False,
            nullable=True,
            choices=("export", "import"),
            doc="`export` (default): the country restricts what leaves it for `targets`; "
            "`import`: the country (a buyer) restricts what arrives from `targets`, e.g. sanctions",
            fix="use export or import",
        ),
        _SOURCE,
        FieldSpec(
            "reviewed",
            "date",
            required=False,
            nullable=True,
            doc="date up to which the row's status (in force, suspended, extended, ended) is "
            "confirmed by its sources; a query dated later is warned of state changes since",
            fix="give the date of the newest source that confirms the status, as YYYY-MM-DD",
        ),
        _NOTES,
    ),
    geometry=None,
    id_field="id",
    doc="one dated export- or import-control measure",
)

CHOKEPOINTS = LayerSpec(
    "chokepoints",
    (
        _id(doc="unique chokepoint id"),
        FieldSpec("name", "str"),
        _LON,
        _LAT,
        FieldSpec(
            "searoute_passage",
            "list",
            required=False,
            nullable=True,
            doc="searoute passage id(s), `;`-separated",
        ),
        FieldSpec(
            "risk",
            "float",
            minimum=0.0,
            maximum=1.0,
            doc="documented risk weight in [0, 1]",
            fix="give a number between 0 and 1",
        ),
        FieldSpec("risk_rationale", "str", doc="why the passage matters, with sources"),
        _SOURCE,
        _AS_OF,
    ),
    geometry="polygon",
    id_field="id",
    doc="a strait, canal or cape; geometry is a polygon across the passage",
    aliases=_LONLAT_ALIASES,
)

DEMAND_CENTRES = LayerSpec(
    "demand_centres",
    (
        _id(doc="unique id, e.g. `ind-chennai`"),
        FieldSpec("name", "str"),
        _COUNTRY,
        _LON,
        _LAT,
        _PRECISION,
        FieldSpec(
            "import_ports",
            "list",
            doc="`;`-separated UN/LOCODEs",
            fix="list UN/LOCODEs from searoute's ports separated by `;`",
        ),
        FieldSpec(
            "minerals",
            "list",
            required=False,
            nullable=True,
            doc="`;`-separated mineral ids, or `all`",
        ),
        _SOURCE,
        _AS_OF,
        _NOTES,
    ),
    geometry="point",
    id_field="id",
    doc="where a buyer needs the minerals",
    aliases=_LONLAT_ALIASES,
)

AIRPORTS = LayerSpec(
    "airports",
    (
        FieldSpec(
            "iata",
            "str",
            unique=True,
            pattern=r"^[A-Z]{3}$",
            fix="use the airport's 3-letter IATA code",
        ),
        FieldSpec("name", "str"),
        _COUNTRY,
        _LON,
        _LAT,
        FieldSpec("cargo_t", "float", required=False, nullable=True, minimum=0.0),
        FieldSpec("cargo_year", "int", required=False, nullable=True, minimum=1990, maximum=2100),
        _SOURCE,
        _AS_OF,
    ),
    geometry="point",
    id_field="iata",
    doc="a major cargo airport",
    aliases=_LONLAT_ALIASES,
)

TRANSPORT_KINDS = (
    "freight_rate",
    "handling",
    "canal_toll",
    "speed",
    "dwell",
    "canal_wait",
    "co2e",
    "war_risk",
)
TRANSPORT_MODES = ("sea", "land", "air")
CARGO_CLASSES = ("dry_bulk", "container", "air_cargo", "all")
#: The unit each kind of transport parameter is given in.
TRANSPORT_UNITS = {
    "freight_rate": "USD/t-km",
    "handling": "USD/t per port call",
    "canal_toll": "USD/t per transit",
    "speed": "km/day",
    "dwell": "days per port call",
    "canal_wait": "days per transit",
    "co2e": "kg CO2e/t-km",
    "war_risk": "USD/t per transit",
}
_UNIT_LIST = tuple(dict.fromkeys(TRANSPORT_UNITS.values()))

TRANSPORT_PARAMS = LayerSpec(
    "transport_params",
    (
        _id(doc="unique id of the parameter"),
        FieldSpec(
            "kind",
            "str",
            choices=TRANSPORT_KINDS,
            doc="what the row prices or times",
            fix="use one of: " + ", ".join(TRANSPORT_KINDS),
        ),
        FieldSpec(
            "mode",
            "str",
            choices=TRANSPORT_MODES,
            doc="transport mode",
            fix="use one of: " + ", ".join(TRANSPORT_MODES),
        ),
        FieldSpec(
            "cargo_class",
            "str",
            choices=CARGO_CLASSES,
            doc="cargo class the row applies to (`all`: every class of the mode)",
            fix="use one of: " + ", ".join(CARGO_CLASSES),
        ),
        FieldSpec(
            "passage",
            "str",
            required=False,
            nullable=True,
            pattern=ID_PATTERN,
            doc="chokepoint id, for canal_toll, canal_wait and war_risk rows; empty otherwise",
            fix="give a chokepoint id such as `suez` or `panama`, or leave empty",
        ),
        FieldSpec(
            "value",
            "float",
            minimum=0.0,
            doc="the parameter, in `unit`",
            fix="give a non-negative number without thousands separators",
        ),
        FieldSpec(
            "unit",
            "str",
            choices=_UNIT_LIST,
            doc="unit of value, low and high; one per kind",
            fix="use one of: " + ", ".join(_UNIT_LIST),
        ),
        FieldSpec(
            "low",
            "float",
            required=False,
            nullable=True,
            minimum=0.0,
            doc="low end of the published range, in `unit`",
            fix="give a non-negative number, or leave empty",
        ),
        FieldSpec(
            "high",
            "float",
            required=False,
            nullable=True,
            minimum=0.0,
            doc="high end of the published range, in `unit`",
            fix="give a non-negative number, or leave empty",
        ),
        FieldSpec(
            "estimate",
            "bool",
            doc="true where the value is derived or estimated rather than published as such "
            "(the basis is in `notes`)",
            fix="write true or false",
        ),
        _SOURCE,
        _AS_OF,
        _NOTES,
    ),
    geometry=None,
    id_field="id",
    doc="one cited transport parameter (freight rate, handling, toll, speed, dwell, CO2e)",
)

BOUNDARIES = LayerSpec(
    "boundaries",
    (
        FieldSpec("iso3", "str", pattern=r"^[A-Z]{3}$", unique=True),
        FieldSpec("name", "str"),
    ),
    geometry="multipolygon",
    id_field="iso3",
    doc="Natural Earth 1:50m admin-0 country polygons",
)

DEMAND = LayerSpec(
    "demand",
    (
        FieldSpec(
            "buyer",
            "str",
            doc="ISO 3166-1 alpha-3 of the buyer, `EU` for the bloc, or `ROW` for the rest of the "
            "world (so that world demand balances world supply)",
            fix="write an ISO3 code, EU or ROW",
        ),
        FieldSpec("mineral", "mineral", fix="use one of: " + ", ".join(MINERALS)),
        FieldSpec(
            "product",
            "str",
            doc="product id (see gs.PRODUCTS), or `lithium_chemicals` for carbonate and "
            "hydroxide together",
            fix="use a product id of the row's mineral",
        ),
        FieldSpec("year", "int", minimum=1900, maximum=2100, fix="give a 4-digit year"),
        FieldSpec(
            "demand_t",
            "float",
            minimum=0.0,
            doc="annual demand in `unit`",
            fix="give a non-negative number without thousands separators",
        ),
        FieldSpec("unit", "str", doc="unit of demand_t (t LCE, t REO, t, t Ga, t Ge)"),
        FieldSpec(
            "basis",
            "str",
            choices=("consumption", "apparent_consumption", "imports", "estimate"),
            doc="what the figure measures",
            fix="use consumption, apparent_consumption, imports or estimate",
        ),
        FieldSpec(
            "derivation",
            "str",
            required=False,
            nullable=True,
            doc="how the figure was derived where it is not published as such",
        ),
        FieldSpec("estimate", "bool", nullable=True, fix="write true or false"),
        _SOURCE,
        _AS_OF,
        _NOTES,
    ),
    geometry=None,
    id_field=None,
    doc="a buyer's annual demand for a product of a mineral",
)

SUPPLY_MIX = LayerSpec(
    "supply_mix",
    (
        _id(),
        FieldSpec(
            "buyer",
            "str",
            doc="ISO 3166-1 alpha-3 of the importing country, or `EU` for the bloc",
            fix="write an ISO3 code or EU",
        ),
        FieldSpec("mineral", "mineral", fix="use one of: " + ", ".join(MINERALS)),
        FieldSpec(
            "product",
            "str",
            doc="product id (see gs.PRODUCTS) or the trade category the source counts (say which "
            "HS code in notes)",
        ),
        FieldSpec(
            "basis",
            "str",
            choices=("imports", "consumption"),
            doc="share of imports, or of consumption (domestic output plus imports)",
            fix="use imports or consumption",
        ),
        FieldSpec("period", "str", doc="years the share covers, e.g. `2020-2023`"),
        FieldSpec(
            "supplier",
            "str",
            doc="ISO3 of the supplying country, or `OTHER` for the remainder",
            fix="write an ISO3 code or OTHER",
        ),
        FieldSpec(
            "share",
            "float",
            minimum=0.0,
            maximum=1.0,
            doc="fraction of the buyer's imports (or consumption) in the period",
            fix="give a fraction between 0 and 1",
        ),
        _SOURCE,
        _AS_OF,
        _REVIEWED,
        FieldSpec("estimate", "bool", nullable=True, fix="write true or false"),
        _NOTES,
    ),
    geometry=None,
    id_field="id",
    doc="a buyer's current supply mix: the share of its imports of a product from one country",
)

OFFTAKES = LayerSpec(
    "offtakes",
    (
        _id(),
        FieldSpec(
            "supplier_facility",
            "str",
            required=False,
            nullable=True,
            doc="id of the supplying facility in the facilities layer, where one is named",
        ),
        FieldSpec("supplier_company", "str", doc="the seller"),
        FieldSpec("buyer_company", "str", doc="the buyer"),
        FieldSpec(
            "buyer_country",
            "str",
            required=True,
            nullable=True,
            doc="ISO3 of the buyer's end market or consuming site",
        ),
        FieldSpec("mineral", "mineral", fix="use one of: " + ", ".join(MINERALS)),
        FieldSpec("product", "str", doc="product id (see gs.PRODUCTS)"),
        FieldSpec(
            "tonnes_per_year",
            "float",
            minimum=0.0,
            doc="contracted tonnes a year in `unit`",
            fix="give a non-negative number without thousands separators",
        ),
        FieldSpec("unit", "str", doc="unit of tonnes_per_year as the source states it"),
        FieldSpec(
            "start",
            "str",
            nullable=True,
            doc="first year or date of supply (empty where the source gives none)",
        ),
        FieldSpec("end", "str", required=False, nullable=True, doc="last year or date"),
        FieldSpec("status", "str", doc="binding, conditional, MoU ... as the source says"),
        _SOURCE,
        _AS_OF,
        _REVIEWED,
        _NOTES,
    ),
    geometry=None,
    id_field="id",
    doc="a documented offtake agreement tying a producer's output to a buyer",
)

SPECS: dict[str, LayerSpec] = {
    s.kind: s
    for s in (
        FACILITIES,
        PRODUCTION,
        COUNTRIES,
        EXPORT_CONTROLS,
        CHOKEPOINTS,
        DEMAND_CENTRES,
        AIRPORTS,
        TRANSPORT_PARAMS,
        DEMAND,
        SUPPLY_MIX,
        OFFTAKES,
        BOUNDARIES,
    )
}

#: The pandas dtype each field type is parsed to (validation and schema agree on it).
DTYPES: dict[str, str] = {
    "str": "str",
    "country": "str",
    "mineral": "str",
    "locode": "str",
    "list": "str",
    "date": "str",
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
}


def pandera_schema(spec: LayerSpec) -> pa.DataFrameSchema:
    """Return the pandera schema that checks a parsed frame of this kind.

    Types have been parsed before this runs; the schema checks emptiness, allowed values, ranges,
    patterns and uniqueness, collecting every failure (use ``lazy=True``).
    """
    import pandera.pandas as pa

    columns: dict[str, pa.Column] = {}
    for f in spec.fields:
        checks: list[pa.Check] = []
        if f.choices is not None:
            checks.append(pa.Check.isin(list(f.choices), name="choices"))
        if f.minimum is not None:
            checks.append(pa.Check.ge(f.minimum, name="minimum"))
        if f.maximum is not None:
            checks.append(pa.Check.le(f.maximum, name="maximum"))
        if f.pattern is not None:
            checks.append(pa.Check.str_matches(f.pattern, name="pattern"))
        columns[f.name] = pa.Column(
            DTYPES[f.type],
            checks=checks,
            nullable=f.nullable,
            unique=f.unique,
            required=f.required,
            coerce=False,
        )
    return pa.DataFrameSchema(columns, strict=False, name=spec.kind)

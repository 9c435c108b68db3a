"""The mineral registry: names, aliases, stages, units and transport modes.

Core minerals are the five geosource routes and scores. Context minerals appear in
export-control measures (e.g. antimony in MOFCOM Announcement No. 46 of 2024) but are not routed.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

import networkx as nx

__all__ = [
    "CONTEXT_MINERALS",
    "EXTERNAL_INPUTS",
    "MINERALS",
    "PRODUCTS",
    "STAGES",
    "Mineral",
    "Product",
    "Step",
    "attributed_tonnes",
    "mineral",
    "normalize_mineral",
    "normalize_product",
    "product_graph",
    "tonnes_per_tonne",
]

#: Supply-chain stages, in order. A sourcing chain moves a product from one stage to the next.
STAGES: tuple[str, ...] = ("mining", "refining", "manufacturing", "recycling")


@dataclass(frozen=True)
class Mineral:
    """A mineral geosource knows: its id, aliases and what moves at each stage."""

    id: str
    name: str
    aliases: tuple[str, ...]
    products: dict[str, str]
    """Stage -> the product that leaves a facility at that stage."""
    modes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Stage -> transport modes the product may use (ore and concentrate move by sea)."""
    processing: tuple[str, ...] = ("refining",)
    """Stages whose plants take the mined product (graphite anode plants purify and shape
    flake concentrate themselves, so they count as processing too)."""
    byproduct: bool = False
    """Recovered from another metal's processing (no mines of its own): a plant alone is a
    source."""


_SEA = ("sea", "land")
_AIR_OR_SEA = ("sea", "land", "air")

MINERALS: dict[str, Mineral] = {
    m.id: m
    for m in (
        Mineral(
            "lithium",
            "Lithium",
            ("li", "lithium carbonate", "lithium hydroxide", "spodumene", "lce"),
            {
                "mining": "spodumene concentrate or brine",
                "refining": "lithium carbonate / hydroxide",
                "recycling": "black mass / lithium salts",
            },
            {"mining": _SEA, "refining": _SEA, "recycling": _SEA},
        ),
        Mineral(
            "rare_earths",
            "Rare earths",
            ("ree", "rare earth", "rare earths", "rare-earths", "rare_earth", "reo", "ndpr"),
            {
                "mining": "mixed rare-earth concentrate",
                "refining": "separated rare-earth oxides",
                "manufacturing": "NdFeB magnets",
                "recycling": "magnet scrap / recovered oxides",
            },
            {"mining": _SEA, "refining": _SEA, "manufacturing": _AIR_OR_SEA, "recycling": _SEA},
        ),
        Mineral(
            "graphite",
            "Graphite",
            ("natural graphite", "spherical graphite", "anode material", "gr"),
            {
                "mining": "flake graphite concentrate",
                "refining": "spherical / purified graphite",
                "manufacturing": "anode material",
                "recycling": "recovered graphite",
            },
            {"mining": _SEA, "refining": _SEA, "manufacturing": _SEA, "recycling": _SEA},
            processing=("refining", "manufacturing"),
        ),
        Mineral(
            "gallium",
            "Gallium",
            ("ga",),
            {"mining": "bauxite / zinc ore", "refining": "gallium metal", "recycling": "gallium"},
            {"mining": _SEA, "refining": _AIR_OR_SEA, "recycling": _AIR_OR_SEA},
            byproduct=True,
        ),
        Mineral(
            "germanium",
            "Germanium",
            ("ge",),
            {
                "mining": "germanium-bearing zinc concentrate",
                "refining": "germanium metal / GeO2 / GeCl4",
                "recycling": "germanium",
            },
            {"mining": _SEA, "refining": _AIR_OR_SEA, "recycling": _AIR_OR_SEA},
            byproduct=True,
        ),
    )
}

#: Minerals named by export-control measures for context; geosource does not route them.
CONTEXT_MINERALS: frozenset[str] = frozenset(
    {
        "antimony",
        "nickel",
        "tungsten",
        "cobalt",
        "indium",
        "bismuth",
        "tellurium",
        "molybdenum",
        "superhard_materials",
        "copper",
        "manganese",
        "tin",
        "chromium",
        "bauxite",
        "zinc",
    }
)

_ALIASES: dict[str, str] = {}
for _m in MINERALS.values():
    for _name in (_m.id, _m.name, *_m.aliases):
        _ALIASES[_name.lower().replace("-", "_").replace(" ", "_")] = _m.id


def normalize_mineral(value: str, *, allow_context: bool = False) -> str:
    """Return the registry id of a mineral name or alias.

    Parameters
    ----------
    value
        A mineral id, name or alias, in any case (``"Rare earths"``, ``"REE"``, ``"lithium"``).
    allow_context
        Also accept context-only minerals such as ``"antimony"``.

    Returns
    -------
    str
        A key of :data:`MINERALS` (or a context-only mineral with ``allow_context``).

    Raises
    ------
    ValueError
        If the mineral is unknown; the message lists the valid ids.

    Examples
    --------
    >>> normalize_mineral("REE")
    'rare_earths'
    >>> normalize_mineral("Lithium")
    'lithium'
    """
    key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    if allow_context and key in CONTEXT_MINERALS:
        return key
    valid = ", ".join(sorted(MINERALS))
    close = difflib.get_close_matches(key, sorted(_ALIASES), n=1, cutoff=0.7)
    hint = f" Did you mean {_ALIASES[close[0]]!r}?" if close else ""
    raise ValueError(f"{value!r} is not a known mineral.{hint} Valid minerals: {valid}")


def mineral(value: str) -> Mineral:
    """Return the :class:`Mineral` for an id, name or alias.

    Examples
    --------
    >>> mineral("ga").name
    'Gallium'
    """
    return MINERALS[normalize_mineral(value)]


# --- Products -----------------------------------------------------------------------------------
#
# Each mineral's products form a small directed graph: an edge is a processing step that turns
# one product into another with a stated recovery of the reference content (t LCE, t REO, t C,
# t Ga, t Ge). Content factors are per tonne of product; stoichiometric ones show their
# arithmetic (IUPAC standard atomic weights), grades and recoveries are typical values and say
# so (`estimate=True`; every Step is one) with their range. docs/product_factors.csv holds the
# low/high range and full citation of every figure.

#: The unit every flow of a mineral is counted in (its reference content).
REFERENCE_CONTENT: dict[str, str] = {
    "lithium": "t LCE",
    "rare_earths": "t REO",
    "graphite": "t C",
    "gallium": "t Ga",
    "germanium": "t Ge",
}

#: Inputs that lie outside every mineral's product graph: a plant that takes one starts a chain.
EXTERNAL_INPUTS: dict[str, str] = {
    "battery_scrap": "end-of-life batteries and cell-production scrap",
    "needle_coke": "petroleum or coal-tar needle coke (synthetic graphite feed)",
    "bauxite": "bauxite (alumina refineries recover gallium from their Bayer liquor)",
    "zinc_concentrate": "zinc concentrate (zinc smelters recover gallium from their residues)",
}

_LI2CO3, _LI2O, _LIOH_H2O, _LI = 73.89, 29.88, 41.96, 6.94
_ND2O3, _ND = 336.48, 144.24


@dataclass(frozen=True)
class Product:
    """A product of a mineral's supply chain.

    ``content`` is the reference content (see :data:`REFERENCE_CONTENT`) per tonne of product.
    A product that is not ``shipped`` moves only inside an integrated site, over land along a
    documented ``feeds`` link (lithium brine, Bayer liquor). A ``market`` product is collected
    or traded from many sources outside the layers (scrap, black mass): a plant taking it can
    start a chain.
    """

    id: str
    mineral: str
    name: str
    content: float
    basis: str
    estimate: bool = False
    shipped: bool = True
    market: bool = False
    modes: tuple[str, ...] = ("sea", "land")
    unit: str = "t"
    stage: str = "refining"
    """The stage whose facilities make it, as export-control measures name stages."""
    host: str | None = None
    """The host metal a by-product carrier is mined, moved and smelted for (zinc concentrate
    carries germanium): transport of the carrier is charged to the host, and the by-product
    only for its contained mass (see :func:`attributed_tonnes`)."""


@dataclass(frozen=True)
class Step:
    """A processing step: ``recovery`` of the input's reference content ends up in the output."""

    input: str
    output: str
    recovery: float
    basis: str
    estimate: bool = True


_FLY = ("sea", "land", "air")

_PRODUCT_LIST: tuple[Product, ...] = (
    # lithium (t LCE)
    Product(
        "spodumene_concentrate",
        "lithium",
        "Spodumene concentrate (SC6)",
        0.06 * _LI2CO3 / _LI2O,
        "benchmark grade 6% Li2O × 73.89/29.88 t Li2CO3 per t Li2O = 0.148 t LCE",
        stage="mining",
    ),
    Product(
        "lepidolite_concentrate",
        "lithium",
        "Lepidolite concentrate",
        0.025 * _LI2CO3 / _LI2O,
        "typical 2-3% Li2O (2.5% used) × 2.473 = 0.062 t LCE; SMM Jiangxi survey, 25 Mar 2021",
        estimate=True,
        stage="mining",
    ),
    Product(
        "brine",
        "lithium",
        "Lithium brine (concentrated)",
        1.0,
        "counted as contained LCE; moves only inside integrated brine operations",
        shipped=False,
        stage="mining",
    ),
    Product(
        "lithium_carbonate", "lithium", "Lithium carbonate", 1.0, "Li2CO3 is LCE by definition"
    ),
    Product(
        "lithium_hydroxide",
        "lithium",
        "Lithium hydroxide monohydrate",
        _LI2CO3 / (2 * _LIOH_H2O),
        "73.89 / (2 × 41.96) = 0.880 t LCE per t LiOH·H2O",
    ),
    Product(
        "black_mass",
        "lithium",
        "Black mass (shredded battery active material)",
        0.035 * _LI2CO3 / (2 * _LI),
        "typical 2-5% Li (3.5% used) × 73.89/13.88 = 0.186 t LCE",
        estimate=True,
        market=True,
        stage="recycling",
    ),
    # rare earths (t REO)
    Product(
        "ree_concentrate",
        "rare_earths",
        "Rare-earth mineral concentrate",
        0.4,
        "typical 30-65% TREO (Mount Weld 35%: 15,593 t concentrate held 5,500 t REO in Q1 2013; "
        "monazite 55-60%); 40% used",
        estimate=True,
        stage="mining",
    ),
    Product(
        "mixed_ree_carbonate",
        "rare_earths",
        "Mixed rare-earth carbonate / chloride",
        0.5,
        "typical 42-55% TREO (a 2022 pilot mixed carbonate assayed 50.9%); 50% used",
        estimate=True,
    ),
    Product(
        "separated_oxide",
        "rare_earths",
        "Separated rare-earth oxides (NdPr oxide)",
        1.0,
        "oxide is REO by definition",
    ),
    Product(
        "ree_metal",
        "rare_earths",
        "Rare-earth metal / alloy (NdPr)",
        0.75 * _ND2O3 / (2 * _ND) + 0.25 * 1021.44 / 845.45,
        "NdPr 75:25: Nd2O3/2Nd = 1.1664, Pr6O11/6Pr = 1.2082, so 1.177 t REO per t metal",
        modes=_FLY,
    ),
    Product(
        "ndfeb_magnet",
        "rare_earths",
        "Sintered NdFeB magnets",
        0.36,
        "31-32 wt% rare-earth metal × 1.166-1.208 (Yang et al., J. Sustain. Metall. 2017, "
        "doi:10.1007/s40831-016-0090-4): 0.36 t REO",
        estimate=True,
        modes=_FLY,
        stage="manufacturing",
    ),
    Product(
        "magnet_scrap",
        "rare_earths",
        "NdFeB magnet scrap (swarf, end-of-life magnets)",
        0.34,
        "magnet alloy diluted by coatings, oxide and swarf coolant: 0.25-0.37, 0.34 used",
        estimate=True,
        market=True,
        stage="recycling",
    ),
    # graphite (t C)
    Product(
        "flake_concentrate",
        "graphite",
        "Flake graphite concentrate",
        0.95,
        "typical 94-97% C; 95% used",
        estimate=True,
        stage="mining",
    ),
    Product(
        "spherical_graphite",
        "graphite",
        "Spherical purified graphite",
        0.9995,
        "battery grade ≥ 99.95% C",
    ),
    Product(
        "anode_material",
        "graphite",
        "Anode material (graphite)",
        0.999,
        "≥ 99.9% C",
        stage="manufacturing",
    ),
    Product(
        "recovered_graphite",
        "graphite",
        "Graphite recovered from batteries",
        0.95,
        "typical 90-98% C after leaching; 95% used",
        estimate=True,
        market=True,
        stage="recycling",
    ),
    # gallium (t Ga)
    Product(
        "bayer_liquor",
        "gallium",
        "Alumina-refinery (Bayer) liquor",
        1.0,
        "counted as contained Ga; never leaves the alumina refinery",
        shipped=False,
    ),
    Product(
        "zinc_residue",
        "gallium",
        "Zinc leach residue bearing gallium",
        0.0002,
        "typical 50-500 ppm Ga; 200 ppm used",
        estimate=True,
        host="zinc",
    ),
    Product("primary_gallium", "gallium", "Primary gallium (~4N)", 0.9999, "99.99% Ga", modes=_FLY),
    Product(
        "high_purity_gallium",
        "gallium",
        "High-purity gallium (6N+)",
        1.0,
        "≥ 99.9999% Ga",
        modes=_FLY,
    ),
    Product(
        "gallium_scrap",
        "gallium",
        "Gallium scrap (GaAs wafer and epitaxy scrap)",
        69.72 / (69.72 + 74.92),
        "GaAs: 69.72 / 144.64 = 0.482 t Ga",
        market=True,
        modes=_FLY,
        stage="recycling",
    ),
    # germanium (t Ge)
    Product(
        "ge_zinc_concentrate",
        "germanium",
        "Germanium-bearing zinc concentrate",
        0.00005,
        "typical 10-300 ppm Ge; 50 ppm used (Frenzel et al., Miner. Deposita 2014)",
        estimate=True,
        host="zinc",
        stage="mining",
    ),
    Product(
        "ge_coal_ash",
        "germanium",
        "Germanium-bearing coal / fly ash",
        0.01,
        "about 0.2-3% Ge in fly ash of germanium-rich lignite (Wulantuga, Lincang); 1% used",
        estimate=True,
        stage="mining",
    ),
    Product(
        "ge_concentrate",
        "germanium",
        "Germanium concentrate",
        0.10,
        "typical 5-20% Ge (Hoffmann, JOM 39(6), 1987); 10% used",
        estimate=True,
        modes=_FLY,
    ),
    Product(
        "refined_germanium",
        "germanium",
        "Refined germanium (GeO2, GeCl4, metal)",
        1.0,
        "metal basis (GeO2 is 72.63/104.63 = 0.694 t Ge)",
        modes=_FLY,
    ),
    Product(
        "germanium_scrap",
        "germanium",
        "Germanium scrap (optics, wafer scrap)",
        0.8,
        "mostly metal from optics and wafer manufacture, diluted in fibre and slurry scrap: "
        "0.2-1.0, 0.8 used",
        estimate=True,
        market=True,
        modes=_FLY,
        stage="recycling",
    ),
)

#: Every product by id.
PRODUCTS: dict[str, Product] = {p.id: p for p in _PRODUCT_LIST}

STEPS: tuple[Step, ...] = (
    Step("spodumene_concentrate", "lithium_hydroxide", 0.88, "85-92%: 7.66 t SC6 per t LCE"),
    Step("spodumene_concentrate", "lithium_carbonate", 0.88, "85-92%: 7.66 t SC6 per t LCE"),
    Step("lepidolite_concentrate", "lithium_carbonate", 0.83, "75-90%: 19-20 t per t Li2CO3"),
    Step("brine", "lithium_carbonate", 0.50, "40-70% of pumped lithium after evaporation ponds"),
    Step("lithium_carbonate", "lithium_hydroxide", 0.95, "carbonate-to-hydroxide conversion"),
    Step("black_mass", "lithium_carbonate", 0.85, "hydrometallurgical recovery 50-95%"),
    Step("black_mass", "lithium_hydroxide", 0.85, "hydrometallurgical recovery 50-95%"),
    Step("ree_concentrate", "mixed_ree_carbonate", 0.90, "cracking and leach recovery"),
    Step("ree_concentrate", "separated_oxide", 0.85, "cracking, leach and separation"),
    Step("mixed_ree_carbonate", "separated_oxide", 0.95, "solvent-extraction recovery"),
    Step("separated_oxide", "ree_metal", 0.95, "molten-salt electrolysis, 92-98%"),
    Step("ree_metal", "ndfeb_magnet", 0.80, "machining yield 60-90%"),
    Step("magnet_scrap", "ndfeb_magnet", 0.85, "hydrogen-processing short loop, 70-95%"),
    Step("magnet_scrap", "ree_metal", 0.95, "hydrogen processing to alloy powder"),
    Step("magnet_scrap", "separated_oxide", 0.95, "leach and separation"),
    Step("magnet_scrap", "mixed_ree_carbonate", 0.95, "leach and precipitation"),
    Step("flake_concentrate", "spherical_graphite", 0.42, "spheronising and purifying: 30-50%"),
    Step("spherical_graphite", "anode_material", 0.95, "coating and carbonising"),
    Step("recovered_graphite", "anode_material", 0.90, "purification and re-coating"),
    Step("bayer_liquor", "primary_gallium", 0.80, "recovery from the liquor stream"),
    Step("zinc_residue", "primary_gallium", 0.80, "leach, solvent extraction, electrowinning"),
    Step("primary_gallium", "high_purity_gallium", 0.93, "fractional crystallisation, 85-98%"),
    Step("gallium_scrap", "primary_gallium", 0.90, "scrap reclamation"),
    Step("gallium_scrap", "high_purity_gallium", 0.85, "scrap reclamation and refining"),
    Step("ge_zinc_concentrate", "ge_concentrate", 0.50, "smelter with a Ge circuit, 40-60%"),
    Step("ge_coal_ash", "ge_concentrate", 0.70, "recovery from fly ash, 50-90%"),
    Step("ge_concentrate", "refined_germanium", 0.92, "chlorination and distillation, 85-97%"),
    Step("germanium_scrap", "refined_germanium", 0.90, "scrap reclamation, 80-95%"),
)

#: The product each mineral is asked for by default (its usual traded refined product).
DEFAULT_PRODUCTS: dict[str, tuple[str, ...]] = {
    "lithium": ("lithium_carbonate", "lithium_hydroxide"),
    "rare_earths": ("separated_oxide",),
    "graphite": ("anode_material",),
    "gallium": ("primary_gallium",),
    "germanium": ("refined_germanium",),
}

#: Names for groups of products a buyer may ask for at once.
PRODUCT_GROUPS: dict[str, tuple[str, ...]] = {
    "lithium_chemicals": ("lithium_carbonate", "lithium_hydroxide"),
}


def product_graph(mineral_id: str) -> nx.DiGraph:
    """The products of a mineral as a directed graph; edges carry ``recovery``.

    Parameters
    ----------
    mineral_id
        A mineral id, name or alias (see :func:`normalize_mineral`).

    Returns
    -------
    networkx.DiGraph
        One node per product id of the mineral (attribute ``product``, its
        :data:`PRODUCTS` entry) and one edge per processing step from input to output
        (attributes ``recovery``, the share of content recovered, and ``step``).

    Examples
    --------
    >>> g = product_graph("rare_earths")
    >>> sorted(g.successors("separated_oxide"))
    ['ree_metal']
    >>> li = product_graph("lithium")
    >>> sorted(li.successors("spodumene_concentrate"))
    ['lithium_carbonate', 'lithium_hydroxide']
    >>> li.edges["spodumene_concentrate", "lithium_hydroxide"]["recovery"]
    0.88
    """
    mid = normalize_mineral(mineral_id)
    g = nx.DiGraph()
    for p in _PRODUCT_LIST:
        if p.mineral == mid:
            g.add_node(p.id, product=p)
    for s in STEPS:
        if s.input in g and s.output in g:
            g.add_edge(s.input, s.output, recovery=s.recovery, step=s)
    return g


def normalize_product(mineral_id: str, product: str | None) -> tuple[str, ...]:
    """The product ids a request means: the mineral's default, a product id or a group.

    Examples
    --------
    >>> normalize_product("lithium", None)
    ('lithium_carbonate', 'lithium_hydroxide')
    >>> normalize_product("rare_earths", "NdFeB magnet")
    ('ndfeb_magnet',)
    """
    mid = normalize_mineral(mineral_id)
    if product is None:
        return DEFAULT_PRODUCTS[mid]
    key = str(product).strip().lower().replace("-", "_").replace(" ", "_")
    if key in PRODUCT_GROUPS:
        return PRODUCT_GROUPS[key]
    if key in PRODUCTS and PRODUCTS[key].mineral == mid:
        return (key,)
    valid = sorted(p.id for p in _PRODUCT_LIST if p.mineral == mid)
    valid += [g for g, ids in PRODUCT_GROUPS.items() if PRODUCTS[ids[0]].mineral == mid]
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"{product!r} is not a product of {mid}.{hint} Valid products: {', '.join(valid)}"
    )


def tonnes_per_tonne(moved: str, final: str) -> float:
    """Tonnes of ``moved`` needed per tonne of ``final``.

    The ratio of the products' contents divided by the best recovery along the product graph.

    Parameters
    ----------
    moved
        The product id carried on a leg (a key of :data:`PRODUCTS`).
    final
        The product id the chain delivers.

    Returns
    -------
    float
        Tonnes moved per tonne of ``final``; ``inf`` if ``final`` cannot be made from
        ``moved`` (another mineral, or no path in the product graph).

    Examples
    --------
    >>> round(tonnes_per_tonne("spodumene_concentrate", "lithium_carbonate"), 2)
    7.66
    >>> tonnes_per_tonne("lithium_carbonate", "lithium_carbonate")
    1.0
    >>> tonnes_per_tonne("lithium_carbonate", "separated_oxide")
    inf
    """
    a, b = PRODUCTS[moved], PRODUCTS[final]
    if a.mineral != b.mineral:
        return float("inf")
    recovery = _best_recovery(a.mineral, moved, final)
    if recovery <= 0:
        return float("inf")
    return b.content / a.content / recovery


def attributed_tonnes(moved: str, final: str) -> float:
    """Tonnes of ``moved`` charged to one tonne of ``final``: :func:`tonnes_per_tonne`, except
    that a by-product carrier (a product with a ``host``) is charged only its contained mass.

    Examples
    --------
    >>> round(attributed_tonnes("ge_zinc_concentrate", "refined_germanium"), 2)
    2.17
    """
    t = tonnes_per_tonne(moved, final)
    if PRODUCTS[moved].host is None or not math.isfinite(t):
        return t
    return t * PRODUCTS[moved].content


def _best_recovery(mineral_id: str, a: str, b: str) -> float:
    if a == b:
        return 1.0
    return _RECOVERY.get(mineral_id, {}).get((a, b), 0.0)


def _all_recoveries() -> dict[str, dict[tuple[str, str], float]]:
    """Best product of step recoveries between every ordered pair of a mineral's products."""
    out: dict[str, dict[tuple[str, str], float]] = {}
    for mid in MINERALS:
        g = product_graph(mid)
        table: dict[tuple[str, str], float] = {}
        for src in sorted(g.nodes):
            best = {src: 1.0}
            for node in nx.topological_sort(g):
                if node not in best:
                    continue
                for nxt in g.successors(node):
                    value = best[node] * g.edges[node, nxt]["recovery"]
                    if value > best.get(nxt, 0.0):
                        best[nxt] = value
            for dst, value in best.items():
                table[(src, dst)] = value
        out[mid] = table
    return out


_RECOVERY = _all_recoveries()

"""The mineral registry: names, aliases, stages, units and transport modes.

Core minerals are the five geosource routes and scores. Context minerals appear in
export-control measures (e.g. antimony in MOFCOM Announcement No. 46 of 2024) but are not routed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

__all__ = [
    "CONTEXT_MINERALS",
    "MINERALS",
    "STAGES",
    "Mineral",
    "mineral",
    "normalize_mineral",
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

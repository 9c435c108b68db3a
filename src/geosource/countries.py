"""Countries: ISO 3166-1 alpha-3 normalisation, alignment groups and governance scores.

Inside geosource every country is an ISO3 code. At the edges names, alpha-2 and alpha-3 codes
are accepted and normalised here.
"""

from __future__ import annotations

import difflib
import unicodedata
from functools import lru_cache

import pycountry

__all__ = [
    "AGGREGATES",
    "GROUPS",
    "country_name",
    "iso3_or_none",
    "normalize_country",
    "suggest_country",
]

#: Codes that are not countries but appear in production tables.
AGGREGATES: dict[str, str] = {"WLD": "World total", "ROW": "Other countries (rest of world)"}

#: Membership flags carried by the countries layer, with what each means.
GROUPS: dict[str, str] = {
    "msp": "Minerals Security Partnership member",
    "ipef": "Indo-Pacific Economic Framework partner",
    "quad": "Quadrilateral Security Dialogue member",
    "us_fta": "United States free-trade-agreement partner",
    "feoc": "Foreign entity of concern 'covered nation' (10 U.S.C. 4872(d))",
    "eu": "European Union member state",
}

# Codes ISO 3166 does not assign but the World Bank and others use.
_EXTRA: dict[str, str] = {"XKX": "Kosovo"}

# Everyday and World-Bank-style names that pycountry's lookup does not know.
_ALIASES: dict[str, str] = {
    "usa": "USA",
    "us": "USA",
    "u.s.": "USA",
    "u.s.a.": "USA",
    "united states of america": "USA",
    "america": "USA",
    "uk": "GBR",
    "britain": "GBR",
    "great britain": "GBR",
    "england": "GBR",
    "south korea": "KOR",
    "korea": "KOR",
    "republic of korea": "KOR",
    "korea, rep.": "KOR",
    "korea rep": "KOR",
    "north korea": "PRK",
    "korea, dem. people's rep.": "PRK",
    "russia": "RUS",
    "iran": "IRN",
    "iran, islamic rep.": "IRN",
    "vietnam": "VNM",
    "viet nam": "VNM",
    "laos": "LAO",
    "lao pdr": "LAO",
    "syria": "SYR",
    "turkey": "TUR",
    "türkiye": "TUR",
    "turkiye": "TUR",
    "czech republic": "CZE",
    "czechia": "CZE",
    "ivory coast": "CIV",
    "cote d'ivoire": "CIV",
    "burma": "MMR",
    "dr congo": "COD",
    "drc": "COD",
    "democratic republic of the congo": "COD",
    "congo, dem. rep.": "COD",
    "congo-kinshasa": "COD",
    "republic of the congo": "COG",
    "congo, rep.": "COG",
    "congo-brazzaville": "COG",
    "congo": "COG",
    "taiwan": "TWN",
    "chinese taipei": "TWN",
    "hong kong": "HKG",
    "hong kong sar, china": "HKG",
    "macau": "MAC",
    "macao": "MAC",
    "bolivia": "BOL",
    "venezuela": "VEN",
    "tanzania": "TZA",
    "moldova": "MDA",
    "brunei": "BRN",
    "cape verde": "CPV",
    "cabo verde": "CPV",
    "eswatini": "SWZ",
    "swaziland": "SWZ",
    "east timor": "TLS",
    "timor-leste": "TLS",
    "micronesia": "FSM",
    "palestine": "PSE",
    "west bank and gaza": "PSE",
    "egypt, arab rep.": "EGY",
    "yemen, rep.": "YEM",
    "gambia, the": "GMB",
    "bahamas, the": "BHS",
    "kosovo": "XKX",
    "kyrgyz republic": "KGZ",
    "slovak republic": "SVK",
    "macedonia": "MKD",
    "north macedonia": "MKD",
    "vatican": "VAT",
    "holy see": "VAT",
    "greenland": "GRL",
    "the netherlands": "NLD",
    "holland": "NLD",
    "uae": "ARE",
    "emirates": "ARE",
    "saudi": "SAU",
    "st. lucia": "LCA",
    "st. kitts and nevis": "KNA",
    "st. vincent and the grenadines": "VCT",
    "micronesia, fed. sts.": "FSM",
    "sao tome and principe": "STP",
    "curacao": "CUW",
    "reunion": "REU",
    "china, people's republic of": "CHN",
    "prc": "CHN",
    "mainland china": "CHN",
}


def _fold(text: str) -> str:
    """Lower-case, strip accents and surrounding space, for comparing names."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(text.lower().split())


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    """Every known name and code (folded) -> ISO3."""
    index: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("alpha_3", "alpha_2", "name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                index[_fold(value)] = c.alpha_3
    for code, name in _EXTRA.items():
        index[_fold(code)] = code
        index[_fold(name)] = code
    index.update({_fold(k): v for k, v in _ALIASES.items()})
    return index


@lru_cache(maxsize=4096)
def _lookup(value: str) -> str | None:
    return _name_index().get(_fold(value))


def normalize_country(value: object, *, allow_aggregates: bool = False) -> str:
    """Return the ISO 3166-1 alpha-3 code for a country name, alpha-2 or alpha-3 code.

    Parameters
    ----------
    value
        ``"India"``, ``"IN"``, ``"ind"``, ``"Korea, Rep."`` ...
    allow_aggregates
        Also accept ``WLD`` (world total) and ``ROW`` (other countries), as in production tables.

    Returns
    -------
    str
        The upper-case alpha-3 code (or ``WLD``/``ROW`` with ``allow_aggregates``).

    Raises
    ------
    ValueError
        If the value is not a country; the message suggests the closest match.

    Examples
    --------
    >>> normalize_country("India"), normalize_country("us"), normalize_country("Türkiye")
    ('IND', 'USA', 'TUR')
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a country: the value is empty")
    text = value.strip()
    if allow_aggregates and text.upper() in AGGREGATES:
        return text.upper()
    code = _lookup(text)
    if code is not None:
        return code
    hint = suggest_country(text)
    did_you_mean = f" Did you mean {hint!r} ({country_name(hint)})?" if hint else ""
    raise ValueError(f"{value!r} is not a country.{did_you_mean}")


def iso3_or_none(value: object) -> str | None:
    """The ISO3 code of a country name or code, or ``None`` when it names no country (no
    suggestion is computed: for labels that may or may not be countries, checked often).

    Examples
    --------
    >>> iso3_or_none("Japan"), iso3_or_none("jpn-tokyo")
    ('JPN', None)
    """
    if not isinstance(value, str) or not value.strip():
        return None
    return _lookup(value.strip())


def suggest_country(value: str) -> str | None:
    """Return the ISO3 code of the closest-named country, or ``None`` if nothing is close.

    Examples
    --------
    >>> suggest_country("Indai")
    'IND'
    """
    folded = _fold(value)
    names = list(_name_index())
    match = difflib.get_close_matches(folded, names, n=1, cutoff=0.75)
    return _name_index()[match[0]] if match else None


def country_name(iso3: str) -> str:
    """Return the short English name of an ISO3 code.

    Parameters
    ----------
    iso3
        An ISO 3166-1 alpha-3 code in any case, or an aggregate (``WLD``, ``ROW``).

    Returns
    -------
    str
        The common name where ISO has one (``"South Korea"``, not ``"Korea, Republic of"``).

    Raises
    ------
    ValueError
        If ``iso3`` is not an alpha-3 code.

    Examples
    --------
    >>> country_name("KOR")
    'South Korea'
    >>> country_name("ind")
    'India'
    """
    code = iso3.upper()
    if code in _EXTRA:
        return _EXTRA[code]
    if code in AGGREGATES:
        return AGGREGATES[code]
    c = pycountry.countries.get(alpha_3=code)
    if c is None:
        raise ValueError(f"{iso3!r} is not an ISO 3166-1 alpha-3 code")
    return str(getattr(c, "common_name", None) or c.name)

"""Cell parsers for layer files: each turns one cell (text from a CSV, or a typed value from a
vector file) into its value or ``NA`` and an error message or ``None``; and the checks of items
in ``;`` lists. The lowest step of validation (:mod:`geosource._validate` runs them per field).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ._searoute import SEAROUTE_PASSAGES, port_codes
from .countries import normalize_country
from .minerals import MINERALS, normalize_mineral

__all__ = [
    "NA",
    "PARSERS",
    "Parsed",
    "aggregate_country_parser",
    "check_list_items",
    "is_missing",
    "normalise_list",
]

NA = pd.NA
Parsed = tuple[Any, str | None]


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_str(value: object) -> Parsed:
    if is_missing(value):
        return NA, None
    return str(value).strip(), None


def parse_float(value: object) -> Parsed:
    if is_missing(value):
        return NA, None
    if isinstance(value, bool):
        return NA, f"{value!r} is not a number"
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            if "," in text and text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit():
                return NA, f"{text!r} is not a number (comma as decimal or thousands separator)"
            return NA, f"{text!r} is not a number"
    if not math.isfinite(number):
        return NA, f"{value!r} is not a finite number"
    return number, None


def parse_int(value: object) -> Parsed:
    number, err = parse_float(value)
    if err or number is NA:
        return number, err
    if float(number) != int(number):
        return NA, f"{value!r} is not a whole number"
    return int(number), None


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def parse_bool(value: object) -> Parsed:
    if is_missing(value):
        return NA, None
    if isinstance(value, bool | np.bool_):
        return bool(value), None
    text = str(value).strip().lower()
    if text in {"1.0"}:
        return True, None
    if text in {"0.0"}:
        return False, None
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    return NA, f"{value!r} is not true or false"


def parse_date(value: object) -> Parsed:
    if is_missing(value):
        return NA, None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat(), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    text = str(value).strip()
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text).isoformat(), None
        except ValueError:
            pass
    return NA, f"{text!r} is not a date of the form YYYY-MM-DD"


def parse_list(value: object) -> Parsed:
    if is_missing(value):
        return NA, None
    items = [item.strip() for item in str(value).split(";")]
    items = [i for i in items if i]
    if not items:
        return NA, None
    return ";".join(items), None


def parse_country(value: object, *, allow_aggregates: bool = False) -> Parsed:
    if is_missing(value):
        return NA, None
    try:
        return normalize_country(str(value), allow_aggregates=allow_aggregates), None
    except ValueError as exc:
        return NA, str(exc)


def parse_mineral(value: object) -> Parsed:
    if is_missing(value):
        return NA, None
    try:
        return normalize_mineral(str(value)), None
    except ValueError as exc:
        return NA, str(exc).split(" Valid minerals")[0]


def parse_locode(value: object) -> Parsed:
    if is_missing(value):
        return NA, None
    code = str(value).strip().upper().replace(" ", "")
    if len(code) != 5 or not code[:2].isalpha() or not code.isalnum():
        return NA, f"{value!r} is not a UN/LOCODE (2-letter country + 3 characters)"
    if code not in port_codes():
        return NA, f"{code!r} is not in searoute's port list"
    return code, None


PARSERS: dict[str, Callable[[object], Parsed]] = {
    "str": parse_str,
    "float": parse_float,
    "int": parse_int,
    "bool": parse_bool,
    "date": parse_date,
    "list": parse_list,
    "mineral": parse_mineral,
    "locode": parse_locode,
    "country": parse_country,
}


# --------------------------------------------------------------------------------------------
# list items that must name something known


def _mineral_item(kind: str, item: str) -> str | None:
    if kind == "demand_centres" and item.lower() == "all":
        return None
    try:
        normalize_mineral(item, allow_context=kind == "export_controls")
    except ValueError:
        return f"{item!r} is not a known mineral (valid: {', '.join(MINERALS)})"
    return None


def _passage_item(kind: str, item: str) -> str | None:
    if item in SEAROUTE_PASSAGES:
        return None
    return f"{item!r} is not a searoute passage (valid: {', '.join(SEAROUTE_PASSAGES)})"


#: Per list field, the check of one item: an error message or ``None``.
_LIST_ITEM_CHECKS: dict[str, Callable[[str, str], str | None]] = {
    "minerals": _mineral_item,
    "targets": lambda kind, item: parse_country(item)[1],
    "import_ports": lambda kind, item: parse_locode(item)[1],
    "searoute_passage": _passage_item,
}


def check_list_items(kind: str, name: str, value: str) -> list[str]:
    """Messages for items of a `;` list that are not valid for this kind and field."""
    items = value.split(";")
    check = _LIST_ITEM_CHECKS.get(name)
    if check is None or (name == "targets" and items == ["all"]):
        return []
    return [err for err in (check(kind, item) for item in items) if err]


def normalise_list(kind: str, name: str, value: str) -> str:
    items = value.split(";")
    if name == "minerals":
        if kind == "demand_centres" and [i.lower() for i in items] == ["all"]:
            return "all"
        return ";".join(normalize_mineral(i, allow_context=True) for i in items)
    if name == "targets" and items != ["all"]:
        return ";".join(normalize_country(i) for i in items)
    if name == "import_ports":
        return ";".join(i.strip().upper() for i in items)
    return value


def aggregate_country_parser(value: object) -> Parsed:
    return parse_country(value, allow_aggregates=True)

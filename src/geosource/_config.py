"""One schema per kind of configuration file: weights, reports, scenarios and sweeps.

:func:`read_config` reads a ``.toml``, ``.yaml`` or ``.json`` file safely (see
:func:`geosource._files.read_table`) and checks it against its kind's schema, collecting every
problem before it raises: unknown keys (naming the valid ones), values of the wrong type (text
where a number belongs, ``true`` where a count belongs, a single value where a table belongs, a
list where text belongs) and values out of range. ``include_development = "false"`` is text, not
a boolean, and is refused rather than read as true.

The limits on numbers that would only ever be typing mistakes (:data:`MAX_DRAWS`,
:data:`MAX_K`, :data:`MAX_DEMAND_T`) live here too, so that the command line, the report and
the sweep refuse the same values with the same words.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Union

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from ._files import read_table
from ._schemas import FACILITY_STATUS
from .countries import normalize_country
from .minerals import normalize_mineral, normalize_product
from .objectives import parse_objective

__all__ = [
    "EXECUTORS",
    "MAX_DEMAND_T",
    "MAX_DRAWS",
    "MAX_K",
    "MEASURE_KINDS",
    "MEASURE_STAGES",
    "check_demand_t",
    "check_k",
    "check_scheduler",
    "read_config",
    "validate_config",
]

#: Most Monte Carlo draws one sweep takes: the estimate's error falls as 1/sqrt(n), so 10^6
#: draws already pin a probability to about ±0.001; draws are made in chunks, so memory stays
#: flat, but 10^9 draws take minutes.
MAX_DRAWS = 10**9
#: Most options asked for per mineral and buyer (0 or ``None`` asks for all of them).
MAX_K = 1_000_000
#: Largest demand in tonnes a year: a thousand times world output of any mineral covered.
MAX_DEMAND_T = 1e9
#: Facility statuses a query may add to ``operating``.
DEVELOPMENT_STATUSES: tuple[str, ...] = tuple(s for s in FACILITY_STATUS if s != "operating")
EXECUTORS: tuple[str, ...] = ("serial", "dask")
LINKS: tuple[str, ...] = ("compatible", "documented")
DISTINCT: tuple[str, ...] = ("countries", "facilities")
MEASURE_KINDS: tuple[str, ...] = ("ban", "licence", "quota")
MEASURE_STAGES: tuple[str, ...] = ("mining", "refining", "manufacturing", "all")

_WHAT = {
    "weights": "weights file",
    "report": "report config",
    "scenario": "scenario file",
    "sweep": "sweep config",
}


# ---------------------------------------------------------------------------------------------
# value checks: each accepts exactly one kind of value and says what to write instead


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("geosource", "{message}", {"message": message})


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    if value is None:
        return "empty"
    return type(value).__name__


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        raise _fail(f"{_show(value)} is a list, not text — give one value in quotes")
    raise _fail(f"{_show(value)} is {_kind(value)}, not text — put it in quotes")


def _name(value: Any) -> str:
    text = _text(value)
    if not text.strip():
        raise _fail("is empty — give a name")
    return text


def _texts(value: Any) -> Any:
    """One text or a list of texts (returned as given)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise _fail(f"item {i + 1}, {_show(item)}, is {_kind(item)}, not text — quote it")
        return list(value)
    raise _fail(f'{_show(value)} is {_kind(value)}, not a list of text — write ["...", "..."]')


def _filled(value: Any) -> Any:
    """Texts none of which is blank."""
    checked = _texts(value)
    for i, item in enumerate([checked] if isinstance(checked, str) else checked):
        if not item.strip():
            raise _fail(f"item {i + 1} is empty — give a value")
    return checked


def _items(value: Any) -> list[str]:
    """The texts of a one-or-many value; ``;`` separates several in one text."""
    checked = _texts(value)
    if isinstance(checked, str):
        return [v.strip() for v in checked.split(";") if v.strip()]
    return list(checked)


def _nonempty(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def inner(value: Any) -> Any:
        out = check(value)
        if not _items(value):
            raise _fail("is empty — give at least one value")
        return out

    return inner


def _number(
    minimum: float | None = None, maximum: float | None = None, *, positive: bool = False
) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = (
                f" — write {str(value).strip()} without quotes"
                if _is_number_text(value)
                else " — give a number"
            )
            raise _fail(f"{_show(value)} is {_kind(value)}, not a number{hint}")
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            raise _fail(f"{_show(value)} is not a finite number")
        if positive and x <= 0:
            raise _fail(f"{value!r} must be above 0")
        if minimum is not None and x < minimum:
            raise _fail(f"{value!r} is below the minimum {minimum:g}")
        if maximum is not None and x > maximum:
            raise _fail(f"{value!r} is above the maximum {maximum:g}")
        return x

    return check


def _whole(minimum: int, maximum: int | None = None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool):
            raise _fail(f"{value!r} is true/false, not a whole number — give a count")
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            hint = (
                f" — write {str(value).strip()} without quotes"
                if _is_number_text(value)
                else " — give a whole number"
            )
            raise _fail(f"{_show(value)} is {_kind(value)}, not a whole number{hint}")
        if value < minimum:
            raise _fail(f"{value!r} is below the minimum {minimum:,}")
        if maximum is not None and value > maximum:
            raise _fail(f"{value:,} is above the maximum {maximum:,}")
        return value

    return check


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    hint = (
        f" — write {value.strip().lower()} without quotes"
        if isinstance(value, str) and value.strip().lower() in ("true", "false")
        else " — write true or false"
    )
    raise _fail(f"{_show(value)} is {_kind(value)}, not true/false{hint}")


def _statuses(value: Any) -> Any:
    """``true``/``false`` or a list of facility statuses to add."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "false"):
            raise _fail(f"{value!r} is text, not true/false — write {word} without quotes")
        raise _fail(f"{value!r} is text — write true, false or a list such as [{value!r}]")
    if not isinstance(value, list | tuple):
        raise _fail(f"{_show(value)} is {_kind(value)} — write true, false or a list of statuses")
    for item in value:
        if item not in DEVELOPMENT_STATUSES:
            raise _fail(
                f"{_show(item)} is not a facility status — use any of "
                + ", ".join(DEVELOPMENT_STATUSES)
            )
    return list(value)


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        raise _fail(f"{value.isoformat()} is a date and time — give a date, YYYY-MM-DD")
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise _fail(f"{_show(value)} is {_kind(value)}, not a date — write YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise _fail(f"{value!r} is not a date of the form YYYY-MM-DD") from None


def _dates(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        if not value:
            raise _fail("is empty — give at least one date")
        return [_date(v) for v in value]
    return [_date(value)]


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            shown = _show(value) if isinstance(value, str) else f"{_show(value)} ({_kind(value)})"
            raise _fail(f"{shown} is not one of: {', '.join(options)}")
        return str(value)

    return check


_COUNTRY_FIX = "use an ISO 3166 name, alpha-2 or alpha-3 code"


def _normalized(normalize: Callable[[str], str], item: str, fix: str) -> str:
    try:
        return normalize(item)
    except ValueError as exc:
        message = str(exc).rstrip()
        raise _fail(f"{message.rstrip('.')} — {fix}" if fix else message) from None


def _wrapping(normalize: Callable[[str], str], fix: str = "") -> Callable[[Any], str]:
    def check(value: Any) -> str:
        return _normalized(normalize, _text(value), fix)

    return check


def _each(
    normalize: Callable[[str], str], allow: tuple[str, ...] = (), fix: str = ""
) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        for item in _items(value):
            if item not in allow:
                _normalized(normalize, item, fix)
        return _texts(value)

    return check


_ADDRESS = re.compile(r"^(?:(tcp|tls|ucx|ws|wss)://)?(\[[0-9a-fA-F:]+\]|[\w.-]+)(?::(\d+))?$")


def check_scheduler(address: str) -> str:
    """Raise ``ValueError`` unless ``address`` reads as a Dask scheduler address."""
    if isinstance(address, str) and re.match(r"^inproc://\S+$", address.strip()):
        return address.strip()
    match = _ADDRESS.match(address.strip()) if isinstance(address, str) else None
    port = match.group(3) if match else None
    if match is None or (port is not None and not 0 < int(port) < 65536):
        raise ValueError(
            f"scheduler {address!r} is not a Dask scheduler address; write it as tcp://host:8786"
        )
    return address.strip()


def _scheduler(value: Any) -> str:
    try:
        return check_scheduler(_text(value))
    except ValueError as exc:
        raise _fail(str(exc).removeprefix("scheduler ")) from None


def check_k(k: int) -> int | None:
    """``k`` as the API takes it (``None`` for 0: every option); ``ValueError`` out of range."""
    if k < 0 or k > MAX_K:
        raise ValueError(
            f"k {k:,} is out of range: give 1 to {MAX_K:,} options, or 0 for every option"
        )
    return k or None


def check_demand_t(demand_t: float) -> float:
    """``ValueError`` unless ``demand_t`` is positive, finite and at most :data:`MAX_DEMAND_T`."""
    if not math.isfinite(demand_t) or demand_t <= 0:
        raise ValueError(f"demand_t must be a positive number of tonnes a year, got {demand_t:g}")
    if demand_t > MAX_DEMAND_T:
        raise ValueError(
            f"demand_t {demand_t:g} t a year is beyond any market (at most {MAX_DEMAND_T:,.0f});"
            " give tonnes a year, e.g. 10000"
        )
    return demand_t


def _v(check: Callable[[Any], Any]) -> PlainValidator:
    return PlainValidator(check)


def _invest_entries(value: Any) -> Any:
    """``invest`` entries: ``"mineral:candidates"`` with a known mineral and some candidates."""
    entries = _texts(value)
    for entry in [entries] if isinstance(entries, str) else entries:
        mineral, sep, spec = str(entry).partition(":")
        if not sep or not spec.strip():
            raise _fail(
                f"{entry!r} is not 'mineral:candidates'; write e.g. 'rare_earths:africa' or "
                "'lithium:li-kachi,li-thacker-pass'"
            )
        try:
            normalize_mineral(mineral)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    return entries


def _objective(value: Any) -> Any:

    if value is None:  # not given: the default (distance, or the weights file's)
        return None
    if not isinstance(value, str | dict):
        raise _fail(
            f'{_show(value)} is {_kind(value)}; give a name in quotes ("cost") or a table '
            "of names and weights"
        )
    try:
        parse_objective(value)
    except (TypeError, ValueError) as exc:
        raise _fail(str(exc)) from None
    return value


Text = Annotated[str, _v(_text)]
Texts = Annotated[Any, _v(_texts)]
Weight = Annotated[float, _v(_number(0.0))]
Probability = Annotated[float, _v(_number(0.0, 1.0))]
Date = Annotated[str, _v(_date)]


# ---------------------------------------------------------------------------------------------
# schemas


class _Schema(BaseModel):
    """A table of a config file: unknown keys are refused, values checked one kind each."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    noun: ClassVar[tuple[str, str]] = ("key", "keys")


class WeightsSchema(_Schema):
    """Weights (see :class:`geosource.scoring.Weights`): each a finite number >= 0."""

    noun: ClassVar[tuple[str, str]] = ("weight", "weights")
    distance: Weight | None = None
    exposure: Weight | None = None
    concentration: Weight | None = None
    governance: Weight | None = None
    alignment: Weight | None = None
    export_controls: Weight | None = None
    chokepoints: Weight | None = None
    objective: Annotated[Any, _v(_objective)] = None


class WeightsFileSchema(_Schema):
    """A weights file whose weights sit in a ``[weights]`` table."""

    weights: WeightsSchema


class ReportSchema(_Schema):
    """A report config (see :class:`geosource.report.ReportConfig`)."""

    noun: ClassVar[tuple[str, str]] = ("report key", "keys")
    title: Annotated[str, _v(_name)] = "geosource sourcing report"
    buyers: Annotated[Any, _v(_nonempty(_texts))] = ("IND",)
    minerals: Annotated[Any, _v(_nonempty(_each(normalize_mineral)))] = ("lithium",)
    as_of: Annotated[list[str], _v(_dates)] = ["2025-06-30"]
    scenarios: Texts = ()
    k: Annotated[int, _v(_whole(1, MAX_K))] = 5
    weights: WeightsSchema = WeightsSchema()
    include_development: Annotated[Any, _v(_statuses)] = False
    world: Texts = ()
    summary_without: Annotated[Any, _v(_each(normalize_country, (), _COUNTRY_FIX))] = ("CHN",)
    invest: Annotated[Any, _v(_invest_entries)] = ()


class MeasureSchema(_Schema):
    """An export measure a scenario adds."""

    country: Annotated[str, _v(_wrapping(normalize_country, _COUNTRY_FIX))]
    minerals: Annotated[
        Any, _v(_nonempty(_each(lambda m: normalize_mineral(m, allow_context=True))))
    ]
    measure: Annotated[str, _v(_choice(MEASURE_KINDS))] = "ban"
    stage: Annotated[str, _v(_choice(MEASURE_STAGES))] = "all"
    targets: Annotated[Any, _v(_each(normalize_country, ("all",), _COUNTRY_FIX))] = ("all",)
    effective: Date | None = None
    ends: Date | None = None
    id: Text | None = None


class TransportSchema(_Schema):
    """A scenario's freight disruption (see :class:`geosource.transport.Disruption`)."""

    noun: ClassVar[tuple[str, str]] = ("transport key", "keys")
    war_risk_usd_per_t: dict[str, Weight] = {}
    added_days: dict[str, Weight] = {}
    toll_multipliers: dict[str, Annotated[float, _v(_number(1.0))]] = {}
    rate_multipliers: dict[str, Annotated[float, _v(_number(1.0))]] = {}
    rate_passages: Texts = ()
    source: Text = ""


class ScenarioSchema(_Schema):
    """A scenario file (see :class:`geosource.scenarios.Scenario`)."""

    noun: ClassVar[tuple[str, str]] = ("scenario key", "keys")
    name: Annotated[str, _v(_name)]
    description: Text = ""
    source: Text = ""
    as_of: Date | None = None
    add_measures: list[MeasureSchema] = []
    lift_measures: Texts = ()
    closed_passages: Texts = ()
    sanctioned: Annotated[Any, _v(_each(normalize_country, (), _COUNTRY_FIX))] = ()
    offline: Texts = ()
    capacity: dict[str, Weight] = {}
    weights: WeightsSchema = WeightsSchema()
    transport: TransportSchema = TransportSchema()


class SweepSchema(_Schema):
    """A Monte Carlo sweep config (see :func:`geosource.sweeps.monte_carlo`)."""

    mineral: Annotated[str, _v(_wrapping(normalize_mineral))]
    to: Text
    n: Annotated[int, _v(_whole(1, MAX_DRAWS))] = 10_000
    seed: Annotated[int, _v(_whole(0, 2**128))] = 0
    as_of: Date | None = None
    demand_t: Annotated[float, _v(_number(positive=True, maximum=MAX_DEMAND_T))] | None = None
    score_threshold: Annotated[float, _v(_number(0.0))] | None = None
    include_development: Annotated[Any, _v(_statuses)] = False
    executor: Annotated[str, _v(_choice(EXECUTORS))] = "serial"
    scheduler: Annotated[str, _v(_scheduler)] | None = None
    closures: dict[str, Probability] = {}
    measures: dict[str, Probability] = {}
    outages: dict[str, Probability] = {}


class SourcingSchema(_Schema):
    """The options of a sourcing query as the command line gives them (``geosource paths``
    and ``geosource map``); see :func:`geosource.sourcing_paths`."""

    noun: ClassVar[tuple[str, str]] = ("option", "options")
    mineral: Annotated[list[str], _v(_nonempty(_each(normalize_mineral)))]
    to: Annotated[list[str], _v(_nonempty(_filled))]
    k: Annotated[int, _v(_whole(0, MAX_K))] = 5
    as_of: Date | None = None
    product: Text | None = None
    links: Annotated[str, _v(_choice(LINKS))] = "compatible"
    distinct: Annotated[str, _v(_choice(DISTINCT))] = "countries"
    exclude: Annotated[list[str], _v(_each(normalize_country, (), _COUNTRY_FIX))] = []
    exclude_owners: Annotated[list[str], _v(_each(normalize_country, (), _COUNTRY_FIX))] = []
    include_blocked: Annotated[bool, _v(_flag)] = False
    include_development: Annotated[bool, _v(_flag)] = False
    status: Annotated[list[str], _v(_statuses)] = []
    objective: Annotated[Any, _v(_objective)] = None

    @model_validator(mode="after")
    def _product_of_every_mineral(self) -> SourcingSchema:
        if self.product is not None:
            for mineral in self.mineral:
                try:
                    normalize_product(mineral, self.product)
                except ValueError as exc:
                    raise _fail(f"field `product`: {exc}") from None
        return self


SCHEMAS: dict[str, type[_Schema]] = {
    "weights": WeightsSchema,
    "report": ReportSchema,
    "scenario": ScenarioSchema,
    "sweep": SweepSchema,
    "sourcing": SourcingSchema,
}


# ---------------------------------------------------------------------------------------------
# reading and reporting


def read_config(path: str | Path, kind: str) -> dict[str, Any]:
    """Read a config file of ``kind`` (``weights``, ``report``, ``scenario``, ``sweep``) and
    return its checked values (only the keys the file sets).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        One line naming the file and every problem in it.
    """
    data = read_table(path, _WHAT[kind])
    return validate_config(data, kind, source=str(path))


def validate_config(
    data: Mapping[str, Any], kind: str, source: str | None = None
) -> dict[str, Any]:
    """Check a mapping against the schema of ``kind``; see :func:`read_config`. The
    ``sourcing`` kind names its fields as command-line options (``--exclude-owners``)."""
    schema = SCHEMAS[kind]
    if kind == "weights" and isinstance(data, Mapping) and "weights" in data:
        schema = WeightsFileSchema
    try:
        model = schema.model_validate(dict(data))
    except ValidationError as exc:
        problems = [_describe(schema, err) for err in exc.errors()]
        if kind == "sourcing":
            problems = [_as_option(p) for p in problems]
        head = f"{source}: " if source else ""
        if len(problems) > 1:
            head += f"{len(problems)} problems: "
        raise ValueError(head + "; ".join(problems)) from None
    out = model.model_dump(exclude_unset=True)
    if schema is WeightsFileSchema:
        out = out["weights"]
    return out


def _describe(schema: type[_Schema], err: Any) -> str:
    loc = tuple(err["loc"])
    where = _where(loc)
    value = err.get("input")
    kind = err["type"]
    if kind == "extra_forbidden":
        owner = _schema_at(schema, loc[:-1])
        singular, plural = owner.noun if owner else ("key", "keys")
        valid = ", ".join(owner.model_fields) if owner else ""
        inside = f" in {_where(loc[:-1])}" if len(loc) > 1 else ""
        return f"unknown {singular} {loc[-1]!r}{inside}; valid {plural}: {valid}"
    if kind == "missing":
        return f"field `{where}`: missing — add `{loc[-1]} = ...`"
    if kind in ("model_type", "dict_type"):
        return (
            f"field `{where}`: {_show(value)} is {_kind(value)}, not a table — write "
            f"[{where}] with one `name = value` per line"
        )
    if kind == "list_type":
        return f"field `{where}`: {_show(value)} is {_kind(value)}, not a list"
    if kind == "string_type":
        return f"field `{where}`: {_show(value)} is {_kind(value)}, not text — quote it"
    message = err["ctx"]["message"] if kind == "geosource" else err["msg"]
    if not loc:  # a check across fields names its own field
        return str(message)
    return f"field `{where}`: {message}"


def _as_option(problem: str) -> str:
    """``field `exclude_owners`: ...`` as ``--exclude-owners: ...``."""
    match = re.match(r"^field `(\w+)`(?:\.\w+|\[\d+\])*: ", problem)
    if match is None:
        return problem
    return f"--{match.group(1).replace('_', '-')}: " + problem[match.end() :]


def _where(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _schema_at(schema: type[_Schema], loc: tuple[Any, ...]) -> type[_Schema] | None:
    """The schema class that validates the table at ``loc`` (None if not a schema)."""
    current: Any = schema
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list: already unwrapped to the item's schema
        if isinstance(current, type) and issubclass(current, _Schema):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = _unwrap(field.annotation)
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, _Schema) else None


def _unwrap(annotation: Any) -> Any:
    """The schema class inside ``X | None`` or ``list[X]``, else the annotation itself."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            inner = _unwrap(arg)
            if isinstance(inner, type) and issubclass(inner, _Schema):
                return inner
    return annotation

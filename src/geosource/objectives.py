"""What routes and scores minimise: distance, landed cost, days or CO2e, or a weighted mix.

One objective serves both: each leg of a chain is routed by it (an :class:`EdgeCost` per
product, from the transport parameters and any disruption), and the transport half of the score
is the same objective, normalised so that terms in different units can be mixed::

    term_k = x_k / (x_k + ref_k)          x_k: the chain's total (t·km/t, USD/t, days, kg CO2e/t)
    transport = Σ_k w_k · term_k / Σ_k w_k

``ref_k`` is one Earth circumference (40,075 km) by container ship under the parameters in use:
the tonne-km, freight cost, days under way and CO2e of that voyage. A chain whose total equals
the reference scores 0.5 on the term, so "half at one circumference" holds for every objective.

For a single objective the leg's route is the one that minimises the chain's total (each leg's
total is a positive multiple of what its route minimises). For a mix, each leg minimises
``Σ_k w_k · x_k / ref_k`` per tonne moved on that leg, the linear form of the score's term.
See docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .minerals import PRODUCTS
from .routing import EdgeCost, Weight
from .transport import Disruption, TransportParams, cargo_class

__all__ = [
    "OBJECTIVES",
    "OBJECTIVE_COLUMNS",
    "OBJECTIVE_UNITS",
    "edge_weight",
    "parse_objective",
    "references",
    "transport_term",
]

#: The quantities an option can be routed and ranked by.
OBJECTIVES: tuple[str, ...] = ("distance", "cost", "days", "co2e")

#: The option column that holds each objective's total.
OBJECTIVE_COLUMNS: dict[str, str] = {
    "distance": "tkm_per_t",
    "cost": "cost_usd_per_t",
    "days": "days",
    "co2e": "co2e_kg_per_t",
}

#: Units of each objective's total, per tonne of final product (days: door to door).
OBJECTIVE_UNITS: dict[str, str] = {
    "distance": "t·km per t",
    "cost": "USD per t",
    "days": "days",
    "co2e": "kg CO2e per t",
}

_EARTH_KM = 40_075.017


def parse_objective(value: Any) -> tuple[tuple[str, float], ...]:
    """The objective as sorted ``(name, weight)`` pairs with weights summing to 1.

    Accepts a name (``"cost"``), a mapping (``{"cost": 2, "days": 1}``) or the text form
    ``"cost:2,days:1"``. Unknown names and weights that are not finite numbers >= 0 (or all 0)
    are errors naming the valid choices.

    Examples
    --------
    >>> parse_objective("cost")
    (('cost', 1.0),)
    >>> parse_objective({"days": 1, "cost": 3})
    (('cost', 0.75), ('days', 0.25))
    >>> parse_objective("cost:1,co2e:1")
    (('co2e', 0.5), ('cost', 0.5))
    """
    if isinstance(value, str):
        text = value.strip()
        if ":" in text or "," in text:
            pairs: dict[str, Any] = {}
            for part in text.split(","):
                name, sep, weight = part.partition(":")
                if not sep:
                    raise ValueError(
                        f"objective {value!r}: write a mix as name:weight pairs, e.g. "
                        "'cost:1,days:1'"
                    )
                try:
                    pairs[name.strip()] = float(weight)
                except ValueError:
                    raise ValueError(
                        f"objective {value!r}: weight {weight.strip()!r} is not a number"
                    ) from None
            raw: Mapping[str, Any] = pairs
        else:
            raw = {text: 1.0}
    elif isinstance(value, Mapping):
        raw = value
    else:
        raise TypeError(
            f"objective must be a name ({', '.join(OBJECTIVES)}) or a mapping of them to "
            f"weights, not {type(value).__name__}"
        )
    out: dict[str, float] = {}
    for name, weight in raw.items():
        if name not in OBJECTIVES:
            raise ValueError(f"objective {name!r} is not one of: {', '.join(OBJECTIVES)}")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise TypeError(f"objective weight of {name!r} must be a number, got {weight!r}")
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"objective weight of {name!r} must be finite and >= 0, got {weight}")
        if weight > 0:
            out[str(name)] = float(weight)
    total = sum(out.values())
    if total <= 0:
        raise ValueError(f"objective {value!r} gives every quantity weight 0")
    return tuple((k, out[k] / total) for k in sorted(out))


def references(params: TransportParams) -> dict[str, float]:
    """Per objective, the total of one Earth circumference by container ship (the term's
    half-point), from ``params``.

    Examples
    --------
    >>> refs = references(TransportParams.bundled())
    >>> round(refs["distance"]), round(refs["cost"], 1), round(refs["days"], 1)
    (40075, 117.8, 64.9)
    """
    return {
        "distance": _EARTH_KM,
        "cost": _EARTH_KM * params.rate("sea", "container"),
        "days": _EARTH_KM / params.speed("sea", "container"),
        "co2e": _EARTH_KM * params.co2e("sea", "container"),
    }


def edge_weight(
    objective: tuple[tuple[str, float], ...],
    product: str,
    params: TransportParams,
    disruption: Disruption | None = None,
    refs: Mapping[str, float] | None = None,
) -> Weight:
    """What a leg moving ``product`` is routed by: ``"length_km"`` for distance (and for
    products that never leave an integrated operation), else an :class:`EdgeCost`.

    Examples
    --------
    >>> p = TransportParams.bundled()
    >>> edge_weight((("distance", 1.0),), "ndfeb_magnet", p)
    'length_km'
    >>> w = edge_weight((("cost", 1.0),), "ndfeb_magnet", p)
    >>> w.per_km_of("air") > 100 * w.per_km_of("sea")
    True
    """
    if objective == (("distance", 1.0),) or cargo_class(product, "sea") is None:
        return "length_km"
    d = disruption if disruption is not None else Disruption(name="none")
    parts = [(name, weight, _edge_cost(name, product, params, d)) for name, weight in objective]
    if len(parts) == 1:
        return parts[0][2]
    r = refs if refs is not None else references(params)
    return _combine(
        "+".join(f"{n}:{wt:g}" for n, wt, _ in parts) + f"|{product}|{d.name}",
        [(wt / r[n], cost) for n, wt, cost in parts],
    )


def _edge_cost(name: str, product: str, params: TransportParams, d: Disruption) -> EdgeCost:
    surface = cargo_class(product, "sea")
    assert surface is not None
    modes = sorted(set(PRODUCTS[product].modes) | {"land"})
    classes = {m: (cargo_class(product, m) or surface) for m in modes}
    key = f"{name}|{product}|{d.name}"
    if name == "distance":
        return EdgeCost(key, per_km=tuple((m, 1.0) for m in modes))
    if name == "co2e":
        return EdgeCost(key, per_km=tuple((m, params.co2e(m, classes[m])) for m in modes))
    passages = sorted(
        set(params.table.loc[params.table["passage"].notna(), "passage"].astype(str))
        | set(d.war_risk_usd_per_t)
        | set(d.added_days)
        | set(d.toll_multipliers)
    )
    if name == "cost":
        per_passage = {
            p: (params.value("canal_toll", "sea", surface, p) or 0.0)
            * d.toll_multipliers.get(p, 1.0)
            + d.war_risk_usd_per_t.get(p, 0.0)
            for p in passages
        }
        return EdgeCost(
            key,
            per_km=tuple(
                (m, params.rate(m, classes[m]) * _factor(d, m, classes[m])) for m in modes
            ),
            port_call=params.value("handling", "sea", surface) or 0.0,
            airport_call=params.value("handling", "air", "air_cargo") or 0.0,
            per_passage=tuple((p, v) for p, v in per_passage.items() if v),
        )
    if name == "days":
        per_passage = {
            p: (params.value("canal_wait", "sea", surface, p) or 0.0) + d.added_days.get(p, 0.0)
            for p in passages
        }
        return EdgeCost(
            key,
            per_km=tuple((m, 1.0 / params.speed(m, classes[m])) for m in modes),
            port_call=params.value("dwell", "sea", surface) or 0.0,
            airport_call=params.value("dwell", "air", "air_cargo") or 0.0,
            per_passage=tuple((p, v) for p, v in per_passage.items() if v),
        )
    raise ValueError(f"objective {name!r} is not one of: {', '.join(OBJECTIVES)}")


def _factor(d: Disruption, mode: str, cls: str) -> float:
    """The rate multiplier routing uses: none when the disruption narrows its multipliers to
    some lanes (they price the diverted legs, not the choice of route)."""
    return 1.0 if d.rate_passages else d.rate_multiplier(mode, cls)


def _combine(name: str, parts: list[tuple[float, EdgeCost]]) -> EdgeCost:
    modes = sorted({m for _, c in parts for m, _ in c.per_km})
    passages = sorted({p for _, c in parts for p, _ in c.per_passage})
    return EdgeCost(
        name,
        per_km=tuple((m, sum(k * c.per_km_of(m) for k, c in parts)) for m in modes),
        port_call=sum(k * c.port_call for k, c in parts),
        airport_call=sum(k * c.airport_call for k, c in parts),
        per_passage=tuple(
            (p, sum(k * dict(c.per_passage).get(p, 0.0) for k, c in parts)) for p in passages
        ),
    )


def transport_term(
    frame: pd.DataFrame,
    objective: tuple[tuple[str, float], ...],
    refs: Mapping[str, float],
) -> np.ndarray:
    """The transport half of the score for each row of ``frame``, in [0, 1).

    Examples
    --------
    >>> f = pd.DataFrame({"tkm_per_t": [0.0, 40_075.017], "cost_usd_per_t": [10.0, 30.0]})
    >>> transport_term(f, (("distance", 1.0),), {"distance": 40_075.017}).tolist()
    [0.0, 0.5]
    >>> transport_term(f, (("cost", 1.0),), {"cost": 10.0}).tolist()
    [0.5, 0.75]
    """
    total = np.zeros(len(frame), dtype=float)
    for name, weight in objective:
        x = frame[OBJECTIVE_COLUMNS[name]].to_numpy(dtype=float)
        total += weight * x / (x + refs[name])
    return total

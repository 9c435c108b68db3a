"""Combine distance and exposure under weights; rank; the Pareto front.

Lower is better everywhere: a score of 0 would be a zero-length path with no exposure.

    exposure = Σ_c w_c · component_c / Σ_c w_c                (each component in [0, 1])
    distance_norm = d / (d + 40,075 km)                        (d: tonne-km per tonne delivered;
                                                                half at one Earth circumference)
    score = (w_distance · distance_norm + w_exposure · exposure) / (w_distance + w_exposure)

Scaling every weight by the same positive number leaves every score, and so the ranking,
unchanged. See docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._files import read_table
from .exposure import COMPONENTS
from .objectives import parse_objective

__all__ = [
    "EARTH_CIRCUMFERENCE_KM",
    "Weights",
    "combine",
    "distance_norm",
    "exposure_score",
    "pareto_by_group",
    "pareto_front",
    "score",
]

#: Distances are normalised by one equatorial circumference of the WGS84 ellipsoid.
EARTH_CIRCUMFERENCE_KM = 40_075.017


@dataclass(frozen=True)
class Weights:
    """Weights of the score and of the exposure components.

    Defaults are visible in the repr. ``distance`` and ``exposure`` weigh the two halves of the
    score: the transport half and the exposure half. ``objective`` says what the transport half
    (and every leg's route) measures. The five component weights weigh the exposure components.
    All weights must be non-negative; at least one of each group must be positive. Unknown keys
    are rejected with the list of valid ones.

    Parameters
    ----------
    distance
        Weight of the transport half of the score.
    exposure
        Weight of the exposure half of the score.
    concentration, governance, alignment, export_controls, chokepoints
        Weights of the five exposure components in the exposure mean.
    objective
        What the transport half measures: ``"distance"`` (tonne-km per tonne, the default),
        ``"cost"`` (landed freight and handling, USD/t), ``"days"`` (door to door) or
        ``"co2e"`` (kg/t), or a weighted mix such as ``"cost:2,days:1"`` or
        ``{"cost": 2, "days": 1}`` (see :mod:`geosource.objectives`); stored as normalised
        text.

    Examples
    --------
    >>> Weights()  # doctest: +NORMALIZE_WHITESPACE
    Weights(distance=0.4, exposure=0.6, concentration=1.0, governance=1.0, alignment=1.0,
            export_controls=1.0, chokepoints=1.0, objective='distance')
    >>> Weights.from_dict({"chokepoints": 2}).chokepoints
    2.0
    >>> Weights(objective={"days": 1, "cost": 1}).objective
    'cost:0.5,days:0.5'
    """

    distance: float = 0.4
    exposure: float = 0.6
    concentration: float = 1.0
    governance: float = 1.0
    alignment: float = 1.0
    export_controls: float = 1.0
    chokepoints: float = 1.0
    objective: str | Mapping[str, float] = "distance"

    def __post_init__(self) -> None:
        pairs = parse_objective(self.objective)
        text = pairs[0][0] if len(pairs) == 1 else ",".join(f"{k}:{v:g}" for k, v in pairs)
        object.__setattr__(self, "objective", text)
        for f in fields(self):
            if f.name == "objective":
                continue
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise TypeError(f"weight {f.name!r} must be a number, got {value!r}")
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"weight {f.name!r} must be a finite number >= 0, got {value}")
            object.__setattr__(self, f.name, float(value))
        if self.distance + self.exposure <= 0:
            raise ValueError("weights `distance` and `exposure` cannot both be 0")
        if sum(getattr(self, c) for c in COMPONENTS) <= 0:
            raise ValueError(f"at least one component weight ({', '.join(COMPONENTS)}) must be > 0")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Weights:
        """Weights from a mapping; unknown keys are errors naming the valid ones."""
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise ValueError(f"unknown weight {unknown[0]!r}; valid weights: {', '.join(valid)}")
        return cls(**{k: data[k] for k in valid if k in data})

    @classmethod
    def read(cls, path: str | Path) -> Weights:
        """Weights from a TOML or JSON file (a table of ``name = value``)."""

        data = read_table(path, "weights file")
        data = data.get("weights", data)
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def objectives(self) -> tuple[tuple[str, float], ...]:
        """The objective as ``(name, weight)`` pairs (see :func:`parse_objective`)."""
        return parse_objective(self.objective)

    def describe(self) -> str:
        """One line for maps and reports."""
        return ", ".join(
            f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.to_dict().items()
        )


def exposure_score(components: pd.DataFrame, weights: Weights) -> pd.Series:
    """Weighted mean of the component columns (each in [0, 1]), in [0, 1]."""
    w = np.array([getattr(weights, c) for c in COMPONENTS])
    values = components[list(COMPONENTS)].to_numpy(dtype=float)
    return pd.Series(values @ w / w.sum(), index=components.index, name="exposure")


def distance_norm(distance: npt.ArrayLike) -> np.ndarray:
    """``d / (d + 40,075)``: 0 at home, 0.5 at one Earth circumference, below 1 however far;
    strictly increasing, so a longer haul never scores better.

    Examples
    --------
    >>> distance_norm([0.0, EARTH_CIRCUMFERENCE_KM]).tolist()
    [0.0, 0.5]
    """
    d = np.asarray(distance, dtype=float)
    out: np.ndarray = d / (d + EARTH_CIRCUMFERENCE_KM)
    return out


def score(distance_km: pd.Series, exposure: pd.Series, weights: Weights) -> pd.Series:
    """The combined score in [0, 1] (lower is better). ``distance_km`` is the distance term:
    sourcing passes tonne-kilometres per tonne of final product."""
    dn = distance_norm(distance_km.to_numpy(dtype=float))
    total = weights.distance + weights.exposure
    s = (weights.distance * dn + weights.exposure * exposure.to_numpy(dtype=float)) / total
    return pd.Series(s, index=distance_km.index, name="score")


def combine(transport: npt.ArrayLike, exposure: pd.Series, weights: Weights) -> pd.Series:
    """The combined score in [0, 1] (lower is better) from the transport term (see
    :func:`geosource.objectives.transport_term`) and the exposure.

    Examples
    --------
    >>> combine([0.5], pd.Series([0.0]), Weights(distance=1, exposure=1)).tolist()
    [0.25]
    """
    t = np.asarray(transport, dtype=float)
    total = weights.distance + weights.exposure
    s = (weights.distance * t + weights.exposure * exposure.to_numpy(dtype=float)) / total
    return pd.Series(s, index=exposure.index, name="score")


def pareto_front(frame: pd.DataFrame, x: str = "distance_km", y: str = "exposure") -> pd.Series:
    """True for rows no other row beats on both ``x`` and ``y`` (lower is better on both).

    Parameters
    ----------
    frame
        Options, one per row.
    x, y
        The two columns to minimise (e.g. ``tkm_per_t`` or ``cost_usd_per_t``, and
        ``exposure``).

    Returns
    -------
    pandas.Series
        Boolean, named ``pareto``, aligned to ``frame.index``. A row that ties exactly with
        an efficient row is efficient too.

    Examples
    --------
    >>> f = pd.DataFrame({"distance_km": [1, 2, 3, 2], "exposure": [0.9, 0.5, 0.1, 0.6]})
    >>> pareto_front(f).tolist()
    [True, True, True, False]
    >>> pareto_front(f.rename(columns={"distance_km": "days"}), x="days").name
    'pareto'
    """
    xs = frame[x].to_numpy(dtype=float)
    ys = frame[y].to_numpy(dtype=float)
    order = np.lexsort((ys, xs))
    efficient = np.zeros(len(xs), dtype=bool)
    best_y = np.inf
    last_x, last_y = None, None
    for i in order:
        if ys[i] < best_y:
            efficient[i] = True
            best_y = ys[i]
            last_x, last_y = xs[i], ys[i]
        elif xs[i] == last_x and ys[i] == last_y:
            efficient[i] = True  # an exact tie with an efficient row is efficient too
    return pd.Series(efficient, index=frame.index, name="pareto")


def pareto_by_group(frame: pd.DataFrame, group: str, x: str, y: str) -> np.ndarray:
    """:func:`pareto_front` within each value of ``group``, for all groups at once.

    Examples
    --------
    >>> f = pd.DataFrame({"q": ["a", "a", "b"], "d": [1, 2, 5], "e": [0.5, 0.1, 0.9]})
    >>> pareto_by_group(f, "q", "d", "e").tolist()
    [True, True, True]
    """
    order = np.lexsort(
        (frame[y].to_numpy(dtype=float), frame[x].to_numpy(dtype=float), frame[group].to_numpy())
    )
    q = frame[group].to_numpy()[order]
    xs = frame[x].to_numpy(dtype=float)[order]
    ys = frame[y].to_numpy(dtype=float)[order]
    efficient = np.zeros(len(order), dtype=bool)
    best_y, last = np.inf, None
    prev_q: object = None
    for i in range(len(order)):
        if i == 0 or q[i] != prev_q:
            best_y, last, prev_q = np.inf, None, q[i]
        if ys[i] < best_y:
            efficient[i] = True
            best_y, last = ys[i], (xs[i], ys[i])
        elif last == (xs[i], ys[i]):
            efficient[i] = True
    out = np.zeros(len(order), dtype=bool)
    out[order] = efficient
    return out

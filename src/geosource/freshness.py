"""How fresh the layers are for a date: what may have changed since they were last reviewed.

A layer answers for the date it was last checked. When a query's ``as_of`` lies after a
measure's ``reviewed`` date and the measure changes state in between (a suspension that ends, a
measure that takes effect or expires), the answer rests on the layer's record alone: nobody
checked whether the suspension was extended or the measure withdrawn. :func:`freshness_warnings`
says so in one sentence per measure; results carry the sentences in ``attrs["warnings"]``, the
command line prints them to stderr and maps show them in their notes.

Facilities and export controls reviewed more than ``stale_after_days`` before ``as_of`` get one
sentence each, naming the newest review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from .layers import Layers

__all__ = ["STALE_AFTER_DAYS", "freshness_warnings", "measure_warnings", "review_warnings"]

#: A layer reviewed longer than this before ``as_of`` (about six months) is said to be stale.
STALE_AFTER_DAYS = 183


@dataclass(frozen=True)
class _Row:
    id: str
    minerals: frozenset[str]
    measure: str
    start: dt.date
    ends: dt.date | None
    suspends: str | None
    reviewed: dt.date | None


def freshness_warnings(
    layers: Layers,
    on: dt.date | str,
    minerals: Iterable[str] | None = None,
    stale_after_days: int = STALE_AFTER_DAYS,
) -> list[str]:
    """Sentences on what may have changed between the layers' reviews and ``on``.

    Parameters
    ----------
    layers
        From :func:`geosource.load_layers`.
    on
        The query's date (``as_of``).
    minerals
        Only measures that name one of these minerals (default: every measure).
    stale_after_days
        A layer whose newest review is older than this on ``on`` is said to be stale.

    Returns
    -------
    list of str
        Measure sentences first (:func:`measure_warnings`), then layer sentences
        (:func:`review_warnings`); empty when the layers were reviewed on or after ``on``.

    Examples
    --------
    >>> import geosource as gs
    >>> layers = gs.load_layers()
    >>> gs.freshness_warnings(layers, "2025-06-30", ["lithium"])
    []
    >>> any("suspension ended 2026-11-27" in w for w in
    ...     gs.freshness_warnings(layers, "2026-12-04", ["gallium"]))
    True
    """
    day = _day(on)
    return [
        *measure_warnings(layers.export_controls, day, minerals),
        *review_warnings(layers, day, stale_after_days),
    ]


def measure_warnings(
    controls: pd.DataFrame, on: dt.date | str, minerals: Iterable[str] | None = None
) -> list[str]:
    """One sentence per measure whose state changes after its review date and on or before
    ``on``: a suspension that ends (the measure it suspends applies again), a measure that ends,
    a measure that takes effect (unless a suspension holds it on that day).

    A row without its own ``reviewed`` date takes the layer's newest review; a layer without any
    review date gives no sentence.
    """
    day = _day(on)
    rows = _rows(controls)
    wanted = None if minerals is None else frozenset(minerals)
    layer_review = max((r.reviewed for r in rows if r.reviewed is not None), default=None)
    out: list[str] = []
    for r in rows:
        if wanted is not None and not (r.minerals & wanted):
            continue
        review, whose = (r.reviewed, "the row's") if r.reviewed else (layer_review, "the layer's")
        if review is None or review >= day:
            continue
        since = f"{whose} review date {review.isoformat()}"
        if r.ends is not None and review < r.ends <= day:
            out.append(_ended(r, r.ends, f"as of {since}"))
        elif review < r.start <= day and not _held(r, r.start, rows):
            out.append(
                f"{r.id}: {r.measure} took effect {r.start.isoformat()}, after {since}; "
                "not confirmed that it did"
            )
    return out


def _ended(r: _Row, ends: dt.date, when: str) -> str:
    if r.measure == "suspension":
        again = f" ({r.suspends} applies again)" if r.suspends else ""
        return f"{r.id}: suspension ended {ends.isoformat()}; no extension recorded {when}{again}"
    return f"{r.id}: {r.measure} ended {ends.isoformat()}; no renewal recorded {when}"


def _held(r: _Row, day: dt.date, rows: list[_Row]) -> bool:
    """Whether a suspension in force on ``day`` holds the measure (it did not change state)."""
    return any(
        s.suspends == r.id and s.start <= day and (s.ends is None or day < s.ends) for s in rows
    )


def review_warnings(
    layers: Layers, on: dt.date | str, stale_after_days: int = STALE_AFTER_DAYS
) -> list[str]:
    """A sentence for the facilities and export-control layers when their newest review is more
    than ``stale_after_days`` before ``on`` (or when they record no review at all)."""
    day = _day(on)
    out: list[str] = []
    for name, what in (
        ("facilities", "facility statuses"),
        ("export_controls", "export controls"),
    ):
        frame = layers[name]
        newest = _newest(frame)
        if newest is None:
            out.append(f"{what} carry no review date; how current they are on {day} is unknown")
        elif (day - newest).days > stale_after_days:
            out.append(
                f"{what} reviewed up to {newest.isoformat()}, {(day - newest).days} days before "
                f"{day.isoformat()}; changes since then are not in the layer"
            )
    return out


def _newest(frame: pd.DataFrame) -> dt.date | None:
    if "reviewed" not in frame.columns:
        return None
    dates = [d for d in (_date(v) for v in frame["reviewed"]) if d is not None]
    return max(dates, default=None)


def _rows(controls: pd.DataFrame) -> list[_Row]:
    rows = []
    for rec in controls.to_dict("records"):
        start = _date(rec.get("effective")) or _date(rec.get("announced"))
        if start is None:
            continue
        suspends = rec.get("suspends")
        rows.append(
            _Row(
                id=str(rec["id"]),
                minerals=frozenset(str(rec["minerals"]).split(";")),
                measure=str(rec["measure"]),
                start=start,
                ends=_date(rec.get("ends")),
                suspends=str(suspends) if isinstance(suspends, str) and suspends else None,
                reviewed=_date(rec.get("reviewed")),
            )
        )
    return rows


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value:
        return None
    return dt.date.fromisoformat(value[:10])


def _day(on: dt.date | str) -> dt.date:
    return on if isinstance(on, dt.date) else dt.date.fromisoformat(str(on))

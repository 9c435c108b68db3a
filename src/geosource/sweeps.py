"""Many scenarios and Monte Carlo disruption draws, serial or on a Dask cluster.

Draws are grouped into the distinct combinations of events they contain; each combination is
evaluated once (routes come from the engine's masks, memoised per set of closed passages; the
graph is never rebuilt) and its result counts for every draw that has it. So the same seed gives
the same answer however the work is spread, and ``executor="dask"`` gives results identical to
the serial run.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from ._config import EXECUTORS, MAX_DRAWS, check_scheduler
from .chains import ChainOptions, ChainQuery, as_date, build_chains, buyer_centres, statuses
from .errors import GeosourceError
from .exposure import ExposureParams
from .flows import allocate
from .layers import Layers
from .minerals import normalize_mineral, normalize_product
from .scenarios import ExportMeasure, Scenario, apply_scenario, get_scenario
from .sourcing import sourcing_paths

__all__ = ["MonteCarloResult", "check_scheduler_reachable", "map_tasks", "monte_carlo", "sweep"]

_PAIR = ["source_country", "plant_country"]

#: Random values drawn at once: draws are made in chunks of this many values, so memory grows
#: with the distinct combinations of events, never with ``n``.
_CHUNK_VALUES = 1 << 22
#: Seconds to wait for a Dask scheduler to answer.
_CONNECT_TIMEOUT_S = 5.0
#: Seconds a Dask scheduler may have no workers while tasks wait before the run is given up.
_NO_WORKERS_S = 30.0


# ---------------------------------------------------------------------------------------------
# sweeps over named scenarios


def sweep(  # noqa: PLR0913 (public entry point: keyword-only options)
    G: nx.MultiDiGraph,
    layers: Layers | None,
    scenarios: Iterable[Any],
    minerals: Iterable[str],
    buyers: Iterable[str],
    *,
    as_of: dt.date | str | None = None,
    demand_t: float | None = None,
    executor: str = "serial",
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """One row per scenario × buyer × mineral: the best option and what is left.

    Each row holds the best option, its distance, exposure and score, how many options remain,
    and (with ``demand_t``) the allocation's unmet demand and top-country share.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`; built once, never per scenario.
    layers
        The baseline layers (``None``: the layers the graph carries).
    scenarios
        Built-in names, scenario files or :class:`~geosource.scenarios.Scenario` objects;
        ``None`` is the baseline.
    minerals, buyers
        Mineral ids or aliases, and buyers (countries or demand-centre ids).
    as_of
        Date for export controls (default: today, or each scenario's date).
    demand_t
        Also allocate this demand to each buyer, every other buyer competing
        (:func:`geosource.allocate`).
    executor, scheduler
        ``"serial"`` or ``"dask"`` (a local cluster, or the scheduler at ``scheduler``), as in
        :func:`monte_carlo`; the results are identical.
    progress
        Called as ``progress(done, total)`` after each task.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario`` (``baseline`` for ``None``), ``mineral``, ``buyer``, ``options``,
        the best option's ``mine_id``, ``mine_country``, ``plant_id``, ``plant_country``,
        ``distance_km``, ``exposure``, ``score`` and ``passages``; with ``demand_t`` also
        ``unmet_t`` and ``top_country_share`` (processing stage).

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> s = gs.sweep(G, None, [None, "red-sea-closure"], ["lithium"], ["IND"],
    ...              as_of="2025-06-30")
    >>> list(s["scenario"])
    ['baseline', 'red-sea-closure']
    >>> list(s.columns[:4])
    ['scenario', 'mineral', 'buyer', 'options']
    """

    _check_executor(executor, scheduler)
    lay = layers if layers is not None else G.graph["layers"]
    tasks = [
        ("baseline" if s is None else get_scenario(s).name, None if s is None else get_scenario(s))
        for s in scenarios
    ]
    args = (list(minerals), list(buyers), as_of, demand_t)
    results = _map(
        _sweep_one, [(name, sc) for name, sc in tasks], G, lay, args, executor, scheduler, progress
    )
    out: pd.DataFrame = pd.concat(results, ignore_index=True)
    return out


def _sweep_one(
    G: nx.MultiDiGraph, lay: Layers, task: tuple[str, Any], args: tuple[Any, ...]
) -> pd.DataFrame:

    name, sc = task
    minerals, buyers, as_of, demand_t = args
    if sc is None:
        paths = sourcing_paths(G, minerals, buyers, None, as_of=as_of, layers=lay)
    else:
        paths = apply_scenario(G, lay, sc).sourcing_paths(minerals, buyers, None, as_of=as_of)
    rows = []
    for mineral in minerals:
        mid = normalize_mineral(mineral)
        for buyer in buyers:
            part = paths[(paths["mineral"] == mid) & (paths["query"] == buyer)]
            row: dict[str, Any] = {
                "scenario": name,
                "mineral": mid,
                "buyer": buyer,
                "options": len(part),
            }
            if len(part):
                best = part.iloc[0]
                row.update(
                    {
                        k: best[k]
                        for k in (
                            "mine_id",
                            "mine_country",
                            "plant_id",
                            "plant_country",
                            "distance_km",
                            "exposure",
                            "score",
                            "passages",
                        )
                    }
                )
            if demand_t is not None:
                a = allocate(
                    G,
                    lay,
                    mineral=mid,
                    to=buyer,
                    demand_t=demand_t,
                    scenario=sc,
                    as_of=as_of,
                    competing=True,
                )
                row.update(
                    {
                        "demand_t": demand_t,
                        "unmet_t": a.unmet_t,
                        "top_country_share": a.concentration["processing"]["top_share"],
                    }
                )
            rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Monte Carlo


@dataclass
class MonteCarloResult:
    """What ``n`` disruption draws did to a buyer's supply of a mineral.

    Attributes
    ----------
    options
        Per supply option (source country → processing country, as in the baseline): the
        probability it is lost (no route between those countries), the expected and 95th
        percentile extra distance when it survives, and the expected exposure.
    summary
        Per buyer: probability that no option scores below ``score_threshold``; expected unmet
        demand (with ``demand_t``); draws, distinct event combinations, seed.
    events
        The events drawn and their probabilities; ``frequency`` how often each occurred.
    """

    options: pd.DataFrame
    summary: dict[str, Any]
    events: pd.DataFrame
    combos: pd.DataFrame = field(repr=False)


def _event_table(
    closures: Mapping[str, float],
    measures: Mapping[Any, float],
    outages: Mapping[str, float],
    lay: Layers,
) -> list[tuple[str, Any, float]]:

    events: list[tuple[str, Any, float]] = []
    chokes = set(lay.chokepoints["id"])
    for key, p in sorted(closures.items()):
        if key not in chokes:
            raise ValueError(f"unknown passage {key!r}; valid: {', '.join(sorted(chokes))}")
        events.append(("closure", key, float(p)))
    for key, p in sorted(measures.items(), key=lambda kv: str(kv[0])):
        if isinstance(key, str):
            sc = get_scenario(key)
            events.append(("scenario", sc, float(p)))
        elif isinstance(key, ExportMeasure):
            events.append(("measure", key, float(p)))
        else:
            raise ValueError(
                f"measures keys are built-in scenario names or ExportMeasure, got {key!r}"
            )
    facilities = set(lay.facilities["id"])
    for key, p in sorted(outages.items()):
        if key not in facilities:
            raise ValueError(f"unknown facility {key!r}; see `geosource layers show facilities`")
        events.append(("outage", key, float(p)))
    for kind, key, p in events:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"probability of {kind} {key!r} must be in [0, 1], got {p}")
    return events


def _combo_scenario(events: Sequence[tuple[str, Any, float]], active: np.ndarray) -> Any:

    closed: list[str] = []
    measures: list[Any] = []
    lifted: list[str] = []
    offline: list[str] = []
    weights: dict[str, float] = {}
    for (kind, key, _), on in zip(events, active, strict=True):
        if not on:
            continue
        if kind == "closure":
            closed.append(key)
        elif kind == "outage":
            offline.append(key)
        elif kind == "measure":
            measures.append(key)
        else:  # a whole scenario
            closed += list(key.closed_passages)
            measures += list(key.add_measures)
            lifted += list(key.lift_measures)
            offline += list(key.offline)
    return Scenario(
        name="draw",
        closed_passages=tuple(closed),
        add_measures=tuple(measures),
        lift_measures=tuple(lifted),
        offline=tuple(offline),
        weights=weights,
    )


def _evaluate_combo(
    G: nx.MultiDiGraph, lay: Layers, task: tuple[int, np.ndarray], args: tuple[Any, ...]
) -> dict[str, Any]:
    """The best option per (source, processing) country pair under one combination of events.

    Works on the scored chains directly (no geometry): routing comes from the engine's memo of
    the combination's closed passages."""

    index, active = task
    events, mineral, buyer, as_of, demand_t, include_development = args
    sc = _combo_scenario(events, active)
    applied = apply_scenario(G, lay, sc)
    columns = [*_PAIR, "distance_km", "exposure", "score"]
    try:
        queries = [(buyer, *buyer_centres(applied.layers, buyer, mineral))]
        frame, _ = build_chains(
            G,
            applied.layers,
            ChainQuery(mineral, normalize_product(mineral, None), queries, as_date(as_of)),
            applied.weights,
            ExposureParams(),
            statuses(include_development),
            ChainOptions(closed=applied.closed_passages, blocked=applied.closed_nodes),
        )
        frame = frame.assign(_ids=frame["chain"].map(";".join))
        order = ["score", "tkm_per_t", "_ids", "demand_id"]
        best = (
            frame.sort_values(order, kind="mergesort", na_position="first")
            .drop_duplicates(_PAIR)[columns]
            .reset_index(drop=True)
        )
    except LookupError:
        best = pd.DataFrame(columns=columns)
    out: dict[str, Any] = {
        "combo": index,
        "pairs": best,
        "best_score": float(best["score"].min()) if len(best) else math.inf,
    }
    if demand_t is not None:
        a = allocate(
            G,
            lay,
            mineral=mineral,
            to=buyer,
            demand_t=demand_t,
            scenario=sc,
            as_of=as_of,
            include_development=include_development,
            competing=True,
        )
        out["unmet_t"] = a.unmet_t
        world = a.extra["world"].buyers
        out["unmet_by_buyer"] = dict(
            zip(world["buyer"].astype(str), world["unmet"].astype(float), strict=True)
        )
    return out


def monte_carlo(  # noqa: PLR0913 (public entry point: keyword-only options)
    G: nx.MultiDiGraph,
    layers: Layers | None = None,
    *,
    mineral: str,
    to: str,
    n: int = 10_000,
    seed: int = 0,
    closures: Mapping[str, float] | None = None,
    measures: Mapping[Any, float] | None = None,
    outages: Mapping[str, float] | None = None,
    as_of: dt.date | str | None = None,
    demand_t: float | None = None,
    score_threshold: float | None = None,
    include_development: bool = False,
    executor: str = "serial",
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MonteCarloResult:
    """Draw ``n`` combinations of independent disruptions and report what they do.

    Parameters
    ----------
    G
        From :func:`geosource.graph_from_layers`; built once, never per draw.
    layers
        The baseline layers (``None``: the layers the graph carries).
    mineral, to
        As in :func:`geosource.sourcing_paths` (one mineral, one buyer).
    n, seed
        Number of draws (1 to ``MAX_DRAWS``, 10^9) and the seed. Draws are made in chunks, so
        memory grows with the distinct combinations of events, not with ``n``.
    closures
        Chokepoint id -> probability it is closed in a draw.
    measures
        Built-in scenario name (or :class:`~geosource.scenarios.ExportMeasure`) -> probability
        it applies in a draw (e.g. ``{"china-ga-ge-ban-us": 0.3}``).
    outages
        Facility id -> probability it is offline in a draw.
    as_of
        Date for export controls (default: today).
    demand_t
        Also allocate this demand in every distinct combination, with every other buyer of the
        demand layer competing for the same capacity (:func:`geosource.allocate_world`), and
        report the expected unmet demand of the buyer (``expected_unmet_t``) and of every
        buyer (``expected_unmet_by_buyer``).
    score_threshold
        A buyer is "without a good option" in a draw when no option scores below this (default:
        the undisrupted best score × 1.25).
    include_development
        Also count facilities under construction or in development.
    executor, scheduler
        ``"serial"`` (in process) or ``"dask"``: a LocalCluster of 2 workers that geosource
        starts and stops, or an existing scheduler at ``scheduler`` (``tcp://host:8786``).
        A scheduler that cannot be reached raises :class:`~geosource.errors.GeosourceError`
        within 5 s (at once when the connection is refused); so does a run whose workers are
        all lost (after 30 s without any).
    progress
        Called as ``progress(done, total)`` as the work advances.

    Returns
    -------
    MonteCarloResult
        ``options`` (per option: ``p_lost``, expected and 95th-percentile extra km, expected
        exposure), ``summary`` (``draws``, ``combinations``, ``p_no_good_option`` and, with
        ``demand_t``, the expected unmet demand) and ``events`` (each event's probability and
        how often it was drawn). The same seed gives the same result, serial or on Dask.

    Examples
    --------
    >>> import geosource as gs
    >>> G = gs.graph_from_layers(gs.load_layers())
    >>> r = gs.monte_carlo(G, mineral="rare_earths", to="IND", n=200, seed=1,
    ...                    closures={"malacca": 0.1}, as_of="2025-06-30")
    >>> r.summary["draws"], 0 <= r.summary["p_no_good_option"] <= 1
    (200, True)
    >>> r.summary["combinations"], r.events[["event", "probability"]].values.tolist()
    (2, [['malacca', 0.1]])
    """

    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_DRAWS:
        raise ValueError(f"n must be a number of draws from 1 to {MAX_DRAWS:,}, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    _check_executor(executor, scheduler)
    lay = layers if layers is not None else G.graph["layers"]
    mid = normalize_mineral(mineral)
    events = _event_table(closures or {}, measures or {}, outages or {}, lay)
    rng = np.random.default_rng(seed)
    probs = np.array([p for _, _, p in events], dtype=float)
    combos, counts, frequency = _draw(rng, probs, n)
    base_index = next((i for i, c in enumerate(combos) if not c.any()), None)
    tasks = [(i, combos[i]) for i in range(len(combos))]
    if base_index is None:  # the undisrupted case is the reference even if never drawn
        tasks.append((len(combos), np.zeros(len(events), dtype=bool)))
        base_index = len(combos)
    args = (events, mid, to, as_of, demand_t, include_development)
    results = _map(_evaluate_combo, tasks, G, lay, args, executor, scheduler, progress)
    by_combo = {r["combo"]: r for r in results}
    base = by_combo[base_index]
    threshold = base["best_score"] * 1.25 if score_threshold is None else score_threshold

    # per option (baseline country pairs): lost, extra distance, exposure — weighted by counts
    pairs = base["pairs"]
    weights = counts.astype(float)
    lookup = {
        (i, mc, pc): (km, ex)
        for i in range(len(combos))
        for mc, pc, km, ex in by_combo[i]["pairs"][[*_PAIR, "distance_km", "exposure"]].itertuples(
            index=False, name=None
        )
    }
    rows = []
    for mc, pc, ref_km, ref_ex in pairs[[*_PAIR, "distance_km", "exposure"]].itertuples(
        index=False, name=None
    ):
        alive = np.zeros(len(combos), dtype=bool)
        extra = np.zeros(len(combos))
        expo = np.zeros(len(combos))
        for i in range(len(combos)):
            hit = lookup.get((i, mc, pc))
            if hit is not None:
                alive[i] = True
                extra[i] = float(hit[0]) - float(ref_km)
                expo[i] = float(hit[1])
        w_alive = weights[alive]
        total = w_alive.sum()
        rows.append(
            {
                "mine_country": mc,
                "plant_country": pc,
                "baseline_km": float(ref_km),
                "baseline_exposure": float(ref_ex),
                "p_lost": float(weights[~alive].sum() / n),
                "expected_extra_km": float((extra[alive] * w_alive).sum() / total)
                if total
                else math.nan,
                "p95_extra_km": _weighted_quantile(extra[alive], w_alive, 0.95),
                "expected_exposure": float((expo[alive] * w_alive).sum() / total)
                if total
                else math.nan,
            }
        )
    options = (
        pd.DataFrame(rows)
        .sort_values(["p_lost", "baseline_km"], kind="mergesort", ascending=[False, True])
        .reset_index(drop=True)
    )
    bad = np.array([by_combo[i]["best_score"] >= threshold for i in range(len(combos))])
    summary: dict[str, Any] = {
        "mineral": mid,
        "buyer": to,
        "draws": n,
        "seed": seed,
        "combinations": len(combos),
        "score_threshold": threshold,
        "baseline_best_score": base["best_score"],
        "p_no_good_option": float((bad * weights).sum() / n),
    }
    if demand_t is not None:
        unmet = np.array([by_combo[i]["unmet_t"] for i in range(len(combos))])
        summary["demand_t"] = demand_t
        summary["expected_unmet_t"] = float((unmet * weights).sum() / n)
        names = sorted({b for i in range(len(combos)) for b in by_combo[i]["unmet_by_buyer"]})
        summary["expected_unmet_by_buyer"] = {
            b: float(
                sum(
                    by_combo[i]["unmet_by_buyer"].get(b, 0.0) * weights[i]
                    for i in range(len(combos))
                )
                / n
            )
            for b in names
        }
    event_frame = pd.DataFrame(
        {
            "kind": [k for k, _, _ in events],
            "event": [
                key
                if isinstance(key, str)
                else getattr(key, "name", None) or getattr(key, "id", None) or repr(key)
                for _, key, _ in events
            ],
            "probability": probs,
            "frequency": frequency,
        }
    )
    combo_frame = pd.DataFrame(
        {
            "combo": np.arange(len(combos)),
            "draws": counts,
            "events": [
                ";".join(str(e) for e, on in zip(event_frame["event"], c, strict=True) if on)
                for c in combos
            ],
            "best_score": [by_combo[i]["best_score"] for i in range(len(combos))],
        }
    )
    return MonteCarloResult(options, summary, event_frame, combo_frame)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    if len(values) == 0 or weights.sum() == 0:
        return math.nan
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()
    return float(v[np.searchsorted(cum, q, side="left")])


def _draw(
    rng: np.random.Generator, probs: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` draws of independent events: the distinct combinations (rows in the order
    ``np.unique`` gives), how many draws had each, and each event's frequency.

    Draws are made in chunks from one stream, so the numbers are those of one
    ``rng.random((n, len(probs)))`` call while memory stays within a chunk and the distinct
    combinations."""
    e = len(probs)
    if e == 0:
        return np.zeros((1, 0), dtype=bool), np.array([n], dtype=np.int64), np.zeros(0)
    per_chunk = max(1, _CHUNK_VALUES // e)
    hits = np.zeros(e, dtype=np.int64)
    counts: dict[Any, int] = {}
    done = 0
    while done < n:
        block = rng.random((min(per_chunk, n - done), e)) < probs
        hits += block.sum(axis=0)
        for key, k in zip(*_row_keys(block), strict=True):
            counts[key] = counts.get(key, 0) + int(k)
        done += len(block)
    keys = sorted(counts)  # the first event most significant: np.unique's row order
    combos = np.array([_key_row(key, e) for key in keys], dtype=bool).reshape(len(keys), e)
    return combos, np.array([counts[key] for key in keys], dtype=np.int64), hits / n


def _row_keys(block: np.ndarray) -> tuple[list[Any], np.ndarray]:
    """Distinct rows of a boolean block as sortable keys, with their counts."""
    e = block.shape[1]
    if e <= 62:
        codes = block.astype(np.int64) @ (np.int64(1) << np.arange(e - 1, -1, -1, dtype=np.int64))
        values, k = np.unique(codes, return_counts=True)
        return [int(v) for v in values], k
    rows, k = np.unique(block, axis=0, return_counts=True)
    return [row.tobytes() for row in rows], k


def _key_row(key: Any, e: int) -> np.ndarray:
    if isinstance(key, bytes):
        return np.frombuffer(key, dtype=bool)
    return np.array([(key >> (e - 1 - i)) & 1 for i in range(e)], dtype=bool)


# ---------------------------------------------------------------------------------------------
# execution


def _check_executor(executor: str, scheduler: str | None) -> None:
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be {' or '.join(map(repr, EXECUTORS))}, got {executor!r}")
    if scheduler is not None:
        check_scheduler(scheduler)


def _map(
    fn: Callable[..., Any],
    tasks: Sequence[Any],
    G: nx.MultiDiGraph,
    lay: Layers,
    args: tuple[Any, ...],
    executor: str,
    scheduler: str | None,
    progress: Callable[[int, int], None] | None,
) -> list[Any]:
    """Run ``fn(G, lay, task, args)`` for every task, in order, serially or on Dask."""
    if executor == "serial":
        out = []
        for i, task in enumerate(tasks):
            out.append(fn(G, lay, task, args))
            if progress:
                progress(i + 1, len(tasks))
        return out
    _check_executor(executor, scheduler)
    client, cluster = _client(scheduler)
    try:
        _wait_for_workers(client, scheduler)
        # the graph and layers travel to the workers once, not with every task
        g_future, lay_future = client.scatter([G, lay], broadcast=True, hash=False)
        chunks = [list(range(i, min(i + 8, len(tasks)))) for i in range(0, len(tasks), 8)]
        futures = [
            client.submit(
                _run_chunk, fn, g_future, lay_future, [tasks[j] for j in chunk], args, pure=False
            )
            for chunk in chunks
        ]
        results = _gather(client, futures, [len(c) for c in chunks], scheduler, progress)
        return [r for k in range(len(futures)) for r in results[k]]
    except CancelledError as exc:  # the workers holding the graph went away
        raise GeosourceError(
            f"the Dask workers were lost mid-run, and the work they held with them "
            f"({_one_line(exc)}); check the workers' memory and logs, or use "
            'executor = "serial"'
        ) from None
    except OSError as exc:  # the scheduler went away
        where = f"the Dask scheduler at {scheduler}" if scheduler else "the local Dask cluster"
        raise GeosourceError(
            f"lost the connection to {where} mid-run ({_one_line(exc)}); check it is running, "
            'or use executor = "serial"'
        ) from None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def map_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[Any],
    G: nx.MultiDiGraph,
    lay: Layers,
    args: tuple[Any, ...],
    executor: str = "serial",
    scheduler: str | None = None,
) -> list[Any]:
    """``[fn(G, lay, task, args) for task in tasks]``, in order, serially or on Dask the way
    :func:`monte_carlo` runs (the graph and layers sent to each worker once); ``fn`` must be a
    module-level function so that workers can import it."""
    _check_executor(executor, scheduler)
    return _map(fn, tasks, G, lay, args, executor, scheduler, None)


def _client(scheduler: str | None) -> tuple[Any, Any]:
    """A Dask client: on a LocalCluster geosource starts, or on the scheduler at ``scheduler``
    (a clear error within :data:`_CONNECT_TIMEOUT_S` seconds when it cannot be reached)."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: 8787 may be taken
            silence_logs=40,
        )
        return Client(cluster), cluster
    check_scheduler_reachable(scheduler)
    try:
        return Client(scheduler, timeout=_CONNECT_TIMEOUT_S), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise GeosourceError(
            f"cannot reach the Dask scheduler at {scheduler} ({_one_line(exc)}); {_HINT}"
        ) from None


_HINT = 'check the address and that `dask scheduler` runs there, or use executor = "serial"'


def check_scheduler_reachable(scheduler: str) -> None:
    """Raise :class:`~geosource.errors.GeosourceError` within a few seconds (at once when the
    connection is refused) unless something listens at a TCP scheduler address; an address
    that does not read as one is a ``ValueError``."""
    import socket

    check_scheduler(scheduler)
    match = re.match(r"^(?:tcp://)?([\w.-]+):(\d+)$", scheduler.strip())
    if match is None:
        return
    host, port = match.group(1), int(match.group(2))
    try:
        with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise GeosourceError(
            f"cannot reach the Dask scheduler at {scheduler} ({reason.lower()}); {_HINT}"
        ) from None


def _gather(
    client: Any,
    futures: list[Any],
    sizes: list[int],
    scheduler: str | None,
    progress: Callable[[int, int], None] | None,
) -> dict[int, list[Any]]:
    """Results by chunk, as they finish; a clear error when the workers are lost."""
    from distributed import wait
    from distributed.scheduler import KilledWorker

    index = {f.key: k for k, f in enumerate(futures)}
    results: dict[int, list[Any]] = {}
    pending = set(futures)
    idle_since: float | None = None
    total = sum(sizes)
    while pending:
        try:
            finished, pending = wait(pending, timeout=1.0, return_when="FIRST_COMPLETED")
        except TimeoutError:
            idle_since = _check_workers(client, scheduler, idle_since)
            continue
        idle_since = None
        for future in finished:
            try:
                results[index[future.key]] = future.result()
            except KilledWorker as exc:
                raise GeosourceError(
                    f"Dask workers died while evaluating draws ({_one_line(exc)}); check the "
                    'workers\' memory and logs, or use executor = "serial"'
                ) from None
        if progress:
            progress(sum(sizes[k] for k in results), total)
    return results


def _wait_for_workers(client: Any, scheduler: str | None) -> None:
    try:
        client.wait_for_workers(1, timeout=_NO_WORKERS_S)
    except TimeoutError:
        raise GeosourceError(_no_workers(scheduler)) from None


def _no_workers(scheduler: str | None) -> str:
    where = scheduler or "the local cluster"
    return (
        f"the Dask scheduler at {where} has had no workers for {_NO_WORKERS_S:g} s while "
        'draws wait; start workers (`dask worker <address>`) or use executor = "serial"'
    )


def _check_workers(client: Any, scheduler: str | None, idle_since: float | None) -> float | None:
    """Raise when the scheduler has had no worker for :data:`_NO_WORKERS_S` seconds."""
    import time

    if client.scheduler_info(n_workers=-1).get("workers"):
        return None
    now = time.monotonic()
    if idle_since is None:
        return now
    if now - idle_since > _NO_WORKERS_S:
        raise GeosourceError(_no_workers(scheduler))
    return idle_since


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _run_chunk(
    fn: Callable[..., Any], G: nx.MultiDiGraph, lay: Layers, tasks: list[Any], args: tuple[Any, ...]
) -> list[Any]:
    return [fn(G, lay, task, args) for task in tasks]

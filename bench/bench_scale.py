"""Scale benchmark: every mineral x every buyer country with the facilities layer x1, x10, x100,
and Monte Carlo memory against the number of draws.

Each case runs in its own subprocess, so that peak RSS (``ru_maxrss``) is the case's own.
  * x1, x10, x100: the bundled layers, then the facilities layer replicated ten and a hundred
    times (SYNTHETIC, made here by bench/_synthetic.py: copies with ids suffixed -x1 ..., points
    jittered by at most 0.05 degrees with a seeded generator, `feeds` remapped to the same copy;
    not data). The graph is built (timed once) and `sourcing_paths(G, MINERALS, buyers, k=5)` is
    called once to warm up and --reps times timed (median), where `buyers` are the countries of
    the bundled demand centres. Printed: facilities, graph nodes and edges (facility-facility
    land legs apart), median query time, RSS after the build and peak RSS of the case, and the
    ratios x10 / x1 and x100 / x1. The DESIGN.md target: memory linear in facilities, x100 within
    4 GB.
  * mc n=...: rare_earths -> IND on the bundled graph, `monte_carlo` serial with three events
    (Malacca closed 2%, Bab el-Mandeb closed 10%, china-ree-controls-2025 in force 30%: at most
    8 combinations), for each --draws value. Printed: distinct
    event combinations, wall time, tracemalloc peak of the call alone and the case's peak RSS.
    Draws are made in chunks, so memory should follow the distinct combinations, not n.

A case that runs out of its address-space cap (--cap-gb, set with RLIMIT_AS so that a runaway
case cannot take the machine down) or its --timeout reports where it stopped and the peak RSS it
reached. Machines are noisy: compare ratios.

Measured 2026-12-04 on a machine with 2 cores (as printed by the default run):

                                                  x1             x10            x100
    facilities                                   219           2,190          21,900
    graph edges                               44,044         232,504               -
      of which facility-facility               1,474         167,110               -
    graph build (graph_from_layers)            0.7 s           2.7 s               -
    sourcing_paths, median                    1.01 s         10.81 s               -
    peak RSS after graph build                364 MB          535 MB               -
    peak RSS of the case (ru_maxrss)          481 MB        1,346 MB        6,750 MB
    x10 / x1: facilities 10.0x, facility-facility edges 113.4x, query time 10.7x, peak RSS 2.8x
    x100: MemoryError in graph_from_layers (address-space cap 8 GB) after 243 s
    target: x100 peak RSS within 4,096 MB: NOT met

    Monte Carlo draws 1,000 / 100,000 / 1,000,000: 6 / 8 / 8 combinations, tracemalloc peak
    55.4 / 79.7 / 79.7 MB, peak RSS 577 / 634 / 636 MB: memory follows the combinations, not n.

Where x100 goes: graph_from_layers joins every pair of facilities of one mineral in one country
(within twice the longest land leg) by a direct land leg, so those edges grow with the square of
the facilities per country (x10: 113x; x20: 456x) and x100 needs ~17 million of them before any
chain is built. The chain builder and the route matrices are not the limit at x10 (query time
10.7x, query memory under 10x).

    python bench/bench_scale.py [--reps 3] [--copies 1 10 100] [--draws 1000 100000 1000000]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from _synthetic import replicate_facilities

import geosource as gs

AS_OF = "2026-12-03"
MINERALS = list(gs.MINERALS)
TARGET_MB = 4096.0
#: Three independent events (at most 8 combinations), so that large n repeats combinations.
EVENTS: dict[str, dict[str, float]] = {
    "closures": {"malacca": 0.02, "bab_el_mandeb": 0.1},
    "measures": {"china-ree-controls-2025": 0.3},
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Stage:
    """Which step a case is in, so that a case stopped by its memory cap can say where."""

    name = "start"
    started = time.perf_counter()


def query_case(copies: int, reps: int, out: dict[str, Any]) -> None:
    """Fill ``out`` step by step (a case stopped midway keeps what it measured)."""
    out["copies"] = copies
    Stage.name = "load layers"
    layers = gs.load_layers()
    if copies > 1:
        layers = layers.replace(facilities=replicate_facilities(layers.facilities, copies))
    out["facilities"] = len(layers.facilities)
    Stage.name = "graph_from_layers"
    t = time.perf_counter()
    G = gs.graph_from_layers(layers)
    out["build_s"] = time.perf_counter() - t
    out["build_rss_mb"] = peak_rss_mb()
    out["nodes"], out["edges"] = G.number_of_nodes(), G.number_of_edges()
    kinds = dict(G.nodes(data="kind"))
    out["facility_edges"] = sum(
        1 for u, v in G.edges() if kinds[u] == "facility" and kinds[v] == "facility"
    )
    buyers = sorted(layers.demand_centres["country"].dropna().unique())
    Stage.name = "sourcing_paths (warm-up)"
    gs.sourcing_paths(G, MINERALS, buyers, k=5, as_of=AS_OF)
    Stage.name = "sourcing_paths (timed)"
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        rows = gs.sourcing_paths(G, MINERALS, buyers, k=5, as_of=AS_OF)
        times.append(time.perf_counter() - t)
    out["query_s"] = statistics.median(times)
    out["rows"] = len(rows)
    out["buyers"] = len(buyers)


def monte_carlo_case(n: int, out: dict[str, Any]) -> None:
    G = gs.graph_from_layers(gs.load_layers())
    kw: dict[str, Any] = {"mineral": "rare_earths", "to": "IND", "seed": 2026, "as_of": AS_OF}
    gs.monte_carlo(G, n=10, **kw, **EVENTS)  # compile the engine, warm the memo
    gc.collect()
    Stage.name = f"monte_carlo n={n}"
    tracemalloc.start()
    t = time.perf_counter()
    result = gs.monte_carlo(G, n=n, **kw, **EVENTS)
    seconds = time.perf_counter() - t
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out.update(
        n=n,
        combinations=int(result.summary["combinations"]),
        mc_s=seconds,
        traced_mb=traced / 2**20,
    )


def run_here(case: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one case in this process; a MemoryError is an answer (where, and how much)."""
    cap = int(args.cap_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    kind, value = case.split("=")
    out: dict[str, Any] = {}
    try:
        if kind == "x":
            query_case(int(value), args.reps, out)
        else:
            monte_carlo_case(int(value), out)
        out["status"] = "ok"
    except MemoryError:
        gc.collect()
        out["status"] = f"MemoryError in {Stage.name} (address-space cap {args.cap_gb:g} GB)"
    out["seconds"] = time.perf_counter() - Stage.started
    out["rss_mb"] = peak_rss_mb()
    return out


def run_case(case: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one case in a fresh interpreter; its result is the last line it prints (JSON)."""
    cmd = [sys.executable, __file__, "--case", case, "--reps", str(args.reps)]
    cmd += ["--cap-gb", str(args.cap_gb)]
    t = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, stdout=subprocess.PIPE, text=True, check=False, timeout=args.timeout
        )
    except subprocess.TimeoutExpired:
        return {"status": f"stopped after the {args.timeout:g} s timeout", "seconds": args.timeout}
    if proc.returncode != 0 or not proc.stdout.strip():
        return {
            "status": f"exit {proc.returncode} (errors above)",
            "seconds": time.perf_counter() - t,
        }
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def fmt(value: Any, spec: str, unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


def report_queries(results: dict[int, dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"workload: {len(MINERALS)} minerals ({', '.join(MINERALS)}) x every buyer country with a "
        f"demand centre, default products, k=5, as_of={AS_OF}; machine: 2 cores"
    )
    print(
        "x10, x100: SYNTHETIC facilities layers made in this bench (copies of the bundled one, "
        "jitter <= 0.05 deg, feeds remapped); not data"
    )
    print(f"query: median of {args.reps} warm calls; graph build timed once")
    head = "".join(f"{f'x{c}':>16}" for c in results)
    print(f"{'':<36}{head}")
    lines = [
        ("facilities", "facilities", ",d", ""),
        ("graph nodes", "nodes", ",d", ""),
        ("graph edges", "edges", ",d", ""),
        ("  of which facility-facility", "facility_edges", ",d", ""),
        ("graph build (graph_from_layers)", "build_s", ".1f", " s"),
        ("sourcing_paths, median", "query_s", ".2f", " s"),
        ("peak RSS after graph build", "build_rss_mb", ",.0f", " MB"),
        ("peak RSS of the case (ru_maxrss)", "rss_mb", ",.0f", " MB"),
    ]
    for label, key, spec, unit in lines:
        cells = "".join(f"{fmt(r.get(key), spec, unit):>16}" for r in results.values())
        print(f"{label:<36}{cells}")
    status = ("ok" if r["status"] == "ok" else "stopped" for r in results.values())
    print(f"{'status':<36}" + "".join(f"{x:>16}" for x in status))
    base = results.get(1)
    for copies, r in results.items():
        if copies == 1 or base is None:
            continue
        ratios = [
            f"{label} {r[key] / base[key]:.1f}x"
            for key, label in (
                ("facilities", "facilities"),
                ("facility_edges", "facility-facility edges"),
                ("query_s", "query time"),
                ("rss_mb", "peak RSS" if r["status"] == "ok" else "peak RSS before it stopped"),
            )
            if r.get(key) is not None and base.get(key)
        ]
        print(f"x{copies} / x1: " + ", ".join(ratios))
        if r["status"] != "ok":
            print(f"x{copies}: {r['status']} after {r['seconds']:.0f} s, peak RSS so far")
    big = results.get(100)
    if big is not None:
        verdict = "met" if big["status"] == "ok" and big["rss_mb"] <= TARGET_MB else "NOT met"
        print(f"target: x100 peak RSS within {TARGET_MB:,.0f} MB: {verdict}")


def report_monte_carlo(results: dict[int, dict[str, Any]]) -> None:
    events = ", ".join(f"{k} {p:.0%}" for group in EVENTS.values() for k, p in group.items())
    print(f"Monte Carlo, rare_earths -> IND, bundled layers, serial; events: {events}")
    print(f"{'draws':>12}{'combinations':>14}{'time':>10}{'tracemalloc':>14}{'peak RSS':>11}")
    for n, r in results.items():
        if r["status"] != "ok":
            print(f"{n:>12,}  {r['status']}")
            continue
        print(
            f"{n:>12,}{r['combinations']:>14,}{r['mc_s']:>9.1f}s{r['traced_mb']:>11.1f} MB"
            f"{r['rss_mb']:>8,.0f} MB"
        )
    ok = [r for r in results.values() if r["status"] == "ok"]
    if len(ok) >= 2:
        lo, hi = ok[0], ok[-1]
        combos = hi["combinations"] / lo["combinations"]
        print(
            f"draws {hi['n'] / lo['n']:,.0f}x, combinations {combos:.1f}x, "
            f"tracemalloc peak {hi['traced_mb'] / lo['traced_mb']:.2f}x, "
            f"peak RSS {hi['rss_mb'] / lo['rss_mb']:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="timed query calls per case")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--draws", type=int, nargs="*", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--cap-gb", type=float, default=8.0, help="address-space cap per case")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per case")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_here(args.case, args)))
        return
    queries = {c: run_case(f"x={c}", args) for c in args.copies}
    report_queries(queries, args)
    if args.draws:
        print()
        report_monte_carlo({n: run_case(f"mc={n}", args) for n in args.draws})


if __name__ == "__main__":
    main()

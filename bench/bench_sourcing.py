"""Sourcing benchmark: every mineral x every buyer country with a demand centre, k=5, warm;
the same on a SYNTHETIC x10 facilities layer; and a chain-by-chain networkx baseline.

One run measures three cases, each in its own subprocess so that peak RSS is the case's own:
  * x1: the bundled layers. `sourcing_paths(G, MINERALS, buyers, k=5)` with the default
    products, where `buyers` are the countries of the bundled demand centres. The graph is built
    and one warm-up call made before timing; the median of --reps calls is reported twice: with
    the route-matrix memo kept (the same query asked again) and with it cleared before each call
    (route matrices computed again on the warm, compiled engine).
  * x10: the facilities layer replicated ten times (SYNTHETIC, made here by bench/_synthetic.py:
    ids suffixed -x1 ... -x9, coordinates jittered by at most 0.05 degrees with a seeded
    generator, `feeds` remapped to the same copy). A new graph is built (timed on its own) and
    the same query timed. The issue's target is x10 / x1 under 15x.
  * networkx: for rare_earths -> ndfeb_magnet to IND, distinct="facilities", k=None, every leg
    of every chain the engine returns is recomputed with `nx.shortest_path_length` and
    `gs.networkx_weight` (the engine's routing rules: the product's modes, facilities and
    demand centres never waypoints), and must agree to 1e-6 km. The chain-by-chain loop is timed
    on --chains chains evenly spaced through the ranking and extrapolated to all of them, against
    the engine's batch call (memo cleared). The weight functions are made before timing and
    exposure is not recomputed, so the ratio favours networkx.

Peak RSS is `ru_maxrss` of the case's process (imports, layers, graph, engine and queries), read
before tracemalloc starts. The tracemalloc peak is the memory Python and numpy allocated during
one more, untimed call of the query alone (memo cleared). Machines are noisy: compare ratios.

    python bench/bench_sourcing.py [--reps 5] [--chains 200]
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
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
from _synthetic import replicate_facilities

import geosource as gs
from geosource.routing import _engine  # no public call clears only the route-matrix memo

AS_OF = "2026-12-03"
MINERALS = list(gs.MINERALS)
COPIES = 10
TARGET = 15.0  # the bound on x10 / x1 for the query
TOLERANCE_KM = 1e-6
BASELINE = {
    "mineral": "rare_earths",
    "to": "IND",
    "product": "ndfeb_magnet",
    "distinct": "facilities",
    "k": None,
}


def median_time(fn: Callable[[], Any], reps: int, setup: Callable[[], None] | None = None):
    """Median wall time of ``fn`` over ``reps`` calls (``setup`` runs untimed before each)."""
    times, out = [], None
    for _ in range(reps):
        if setup is not None:
            setup()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def tracemalloc_peak_mb(fn: Callable[[], Any], setup: Callable[[], None]) -> float:
    setup()
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def build_graph(layers: gs.Layers, reps: int):
    """The route graph, and the median time to build it (one graph alive at a time)."""
    times, G = [], None
    for _ in range(reps):
        G = None
        gc.collect()
        t = time.perf_counter()
        G = gs.graph_from_layers(layers)
        times.append(time.perf_counter() - t)
    return G, statistics.median(times)


def buyer_countries(layers: gs.Layers) -> list[str]:
    return sorted(layers.demand_centres["country"].dropna().unique())


# -- cases (each runs in its own process) --------------------------------------------------------


def query_case(copies: int, args: argparse.Namespace) -> dict[str, Any]:
    layers = gs.load_layers()
    if copies > 1:
        layers = layers.replace(facilities=replicate_facilities(layers.facilities, copies))
    G, build = build_graph(layers, args.build_reps)
    buyers = buyer_countries(layers)

    def query():
        return gs.sourcing_paths(G, MINERALS, buyers, k=5, as_of=AS_OF)

    def clear_memo() -> None:
        _engine(G).matrices.clear()

    query()  # warm-up: compiles the engine and fills the route-matrix memo
    kept, out = median_time(query, args.reps)
    cleared, _ = median_time(query, args.reps, setup=clear_memo)
    rss = peak_rss_mb()
    traced = tracemalloc_peak_mb(query, clear_memo)
    return {
        "facilities": len(layers.facilities),
        "buyers": buyers,
        "demand_centres": int(layers.demand_centres["country"].isin(buyers).sum()),
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "build_s": build,
        "kept_s": kept,
        "cleared_s": cleared,
        "rows": len(out),
        "chains": sum(n for per in out.attrs["chains"].values() for n in per.values()),
        "options": sum(n for per in out.attrs["options"].values() for n in per.values()),
        "rss_mb": rss,
        "traced_mb": traced,
    }


def leg_modes(product: str, last: bool) -> tuple[str, ...]:
    """The modes the engine routes a leg with: a product that is not shipped moves only over
    land between facilities; the leg to the buyer uses the final product's modes."""
    prod = gs.PRODUCTS[product]
    if last or prod.shipped:
        return tuple(sorted(prod.modes))
    return ("land",)


def chain_legs(chain, products, demand_id, leg_km) -> list[tuple[str, str, tuple, float]]:
    """(from node, to node, modes, engine km) of each leg of one chain."""
    nodes = [gs.node_id("facility", f) for f in chain] + [gs.node_id("demand", demand_id)]
    if not len(nodes) - 1 == len(products) == len(leg_km):
        raise SystemExit(f"chain {chain}: {len(nodes) - 1} legs but {len(leg_km)} leg_km values")
    last = len(nodes) - 2
    return [
        (nodes[i], nodes[i + 1], leg_modes(products[i], i == last), float(leg_km[i]))
        for i in range(len(nodes) - 1)
    ]


def networkx_case(args: argparse.Namespace) -> dict[str, Any]:
    G = gs.graph_from_layers(gs.load_layers())
    q = BASELINE

    def query():
        return gs.sourcing_paths(
            G,
            q["mineral"],
            q["to"],
            q["k"],
            product=q["product"],
            distinct=q["distinct"],
            as_of=AS_OF,
        )

    query()  # warm-up
    engine, out = median_time(query, args.reps, setup=lambda: _engine(G).matrices.clear())
    legs = [
        chain_legs(*r)
        for r in zip(out["chain"], out["products"], out["demand_id"], out["leg_km"], strict=True)
    ]
    starts = sorted({(a, m) for chain in legs for a, _, m, _ in chain})
    weights = {(a, m): gs.networkx_weight(G, a, modes=m) for a, m in starts}
    pick = np.unique(np.linspace(0, len(legs) - 1, min(args.chains, len(legs))).round().astype(int))

    t = time.perf_counter()
    timed = [
        [nx.shortest_path_length(G, a, b, weight=weights[a, m]) for a, b, m, _ in legs[i]]
        for i in pick
    ]
    loop = time.perf_counter() - t

    # every distinct leg of every chain, untimed
    distinct = {(a, b, m) for chain in legs for a, b, m, _ in chain}
    ref = {
        (a, b, m): nx.shortest_path_length(G, a, b, weight=weights[a, m]) for a, b, m in distinct
    }
    diff = max(abs(ref[a, b, m] - km) for chain in legs for a, b, m, km in chain)
    for i, got in zip(pick, timed, strict=True):
        diff = max(diff, *(abs(g - leg[3]) for g, leg in zip(got, legs[i], strict=True)))
    return {
        "engine_s": engine,
        "chains": len(legs),
        "legs": sum(map(len, legs)),
        "distinct_legs": len(distinct),
        "timed_chains": len(pick),
        "timed_legs": sum(len(legs[i]) for i in pick),
        "loop_s": loop,
        "max_diff_km": diff,
        "rss_mb": peak_rss_mb(),
    }


CASES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "x1": lambda args: query_case(1, args),
    f"x{COPIES}": lambda args: query_case(COPIES, args),
    "networkx": networkx_case,
}


# -- report ---------------------------------------------------------------------------------------


def run_case(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one case in a fresh interpreter; its result is the last line it prints (JSON)."""
    cmd = [sys.executable, __file__, "--case", name, "--reps", str(args.reps)]
    cmd += ["--build-reps", str(args.build_reps), "--chains", str(args.chains)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"case {name} failed (exit {proc.returncode}); its errors are above")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def row(label: str, a: str, b: str = "", ratio: str = "") -> None:
    print(f"{label:<44}{a:>14}{b:>18}{ratio:>11}")


def report_scaling(x1: dict[str, Any], x10: dict[str, Any], args: argparse.Namespace) -> None:
    big = f"x{COPIES}"
    print(
        f"workload: {len(MINERALS)} minerals ({', '.join(MINERALS)}) x {len(x1['buyers'])} buyer "
        f"countries with a demand centre ({', '.join(x1['buyers'])}; "
        f"{x1['demand_centres']} centres), default products, k=5, as_of={AS_OF}"
    )
    print(
        f"{big}: SYNTHETIC facilities layer made in this bench (copies of the bundled one, ids "
        f"-x1..-x{COPIES - 1}, jitter <= 0.05 deg, feeds remapped); not data"
    )
    print(
        f"timings: median of {args.reps} warm calls (graph built, one warm-up call); "
        f"graph build median of {args.build_reps}"
    )
    row("", "x1 (bundled)", f"{big} (SYNTHETIC)", f"{big} / x1")
    row("facilities", f"{x1['facilities']}", f"{x10['facilities']}")
    row("graph nodes / edges", f"{x1['nodes']}/{x1['edges']}", f"{x10['nodes']}/{x10['edges']}")
    for key, label in (
        ("chains", "chains scored (all queries)"),
        ("options", "distinct options (all queries)"),
        ("rows", "rows returned"),
    ):
        row(label, f"{x1[key]}", f"{x10[key]}", f"{x10[key] / x1[key]:.1f}x")
    for key, label in (
        ("build_s", "graph build (graph_from_layers)"),
        ("kept_s", "sourcing_paths, warm, route memo kept"),
        ("cleared_s", "sourcing_paths, warm, route memo cleared"),
    ):
        ratio = x10[key] / x1[key]
        row(label, f"{x1[key] * 1e3:.1f} ms", f"{x10[key] * 1e3:.1f} ms", f"{ratio:.1f}x")
    row(
        "peak RSS, whole process (ru_maxrss)",
        f"{x1['rss_mb']:.0f} MB",
        f"{x10['rss_mb']:.0f} MB",
        f"{x10['rss_mb'] / x1['rss_mb']:.1f}x",
    )
    row(
        "tracemalloc peak, one query call alone",
        f"{x1['traced_mb']:.0f} MB",
        f"{x10['traced_mb']:.0f} MB",
        f"{x10['traced_mb'] / x1['traced_mb']:.1f}x",
    )
    for key, how in (("kept_s", "memo kept"), ("cleared_s", "memo cleared")):
        ratio = x10[key] / x1[key]
        verdict = "met" if ratio < TARGET else "NOT met"
        print(f"target {big} / x1 < {TARGET:.0f}x for the query ({how}): {ratio:.1f}x, {verdict}")


def report_baseline(nxr: dict[str, Any]) -> None:
    q = BASELINE
    per_chain = nxr["loop_s"] / nxr["timed_chains"]
    total = per_chain * nxr["chains"]
    print(
        f"networkx baseline: {q['mineral']} -> {q['product']} to {q['to']}, "
        f'distinct="{q["distinct"]}", k={q["k"]}: {nxr["chains"]} chains, {nxr["legs"]} legs '
        f"({nxr['distinct_legs']} distinct)"
    )
    sampled = nxr["timed_chains"] < nxr["chains"]
    how = "evenly spaced, extrapolated" if sampled else "all of them"
    print(f"geosource sourcing_paths (batch, route memo cleared)   {nxr['engine_s'] * 1e3:9.1f} ms")
    print(
        f"networkx per chain: {nxr['timed_chains']} of {nxr['chains']} chains timed "
        f"({nxr['timed_legs']} legs, {how}): {total:.1f} s for all "
        f"({per_chain * 1e3:.1f} ms per chain)"
    )
    print(f"speed-up vs networkx per chain                         {total / nxr['engine_s']:9.1f}x")
    print(
        f"max |engine - networkx| over every leg of all chains   {nxr['max_diff_km']:9.2e} km "
        f"(tolerance {TOLERANCE_KM:g} km)"
    )
    print(f"peak RSS of this case (ru_maxrss)                      {nxr['rss_mb']:9.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="timed calls per query (>= 5)")
    parser.add_argument("--build-reps", type=int, default=3, help="timed graph builds")
    parser.add_argument("--chains", type=int, default=200, help="chains timed for networkx")
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(CASES[args.case](args)))
        return
    results = {name: run_case(name, args) for name in CASES}
    report_scaling(results["x1"], results[f"x{COPIES}"], args)
    print()
    report_baseline(results["networkx"])
    diff = results["networkx"]["max_diff_km"]
    if not diff <= TOLERANCE_KM:
        raise SystemExit(f"engine and networkx disagree by {diff:.3e} km (> {TOLERANCE_KM:g} km)")


if __name__ == "__main__":
    main()

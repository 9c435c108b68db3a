"""Routing benchmark: 40 export ports x 15 import ports (600 routes with paths).

Compares, in the same run and on the same machine:
  * geosource: graph build, then `route_matrix(..., paths=True)` on the compiled scipy engine
    (cold = first call on a fresh graph, including the engine compile; warm = later calls);
  * networkx: `single_source_dijkstra` per export port on a plain DiGraph of the same sea lanes
    and ports (its fastest form: no weight function), paths included;
  * searoute: `searoute.searoute(origin, destination)` called once per pair (its own graph,
    warmed up before timing).
Prints medians over repetitions and the ratios. Figures are noisy on shared machines: compare
ratios, not absolute times, across runs.

    python bench/bench_routing.py [--reps 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import networkx as nx
import numpy as np

import geosource as gs

# Ore, concentrate and refined-product export ports (mines and plants in layers/ ship from or
# near these), and the import ports of the bundled demand centres.
EXPORT = [
    "AUPHE",
    "AUBUY",
    "AUFRE",
    "AUEPR",
    "AUDRW",
    "AUGLT",
    "AUKWI",
    "CLANF",
    "CLMJS",
    "CLIQQ",
    "ARBUE",
    "ARZAE",
    "BRVIX",
    "BRSSZ",
    "BRRIG",
    "ZADUR",
    "ZARCB",
    "ZAPLZ",
    "MZMNC",
    "MZBEW",
    "MZPOL",
    "MGTOL",
    "TZDAR",
    "NAWVB",
    "AOLOB",
    "USLAX",
    "USHOU",
    "USRDB",
    "CAVAN",
    "CAMTR",
    "CAQUE",
    "MYKUA",
    "IDJKT",
    "VNHPH",
    "CNTAO",
    "CNXMN",
    "CNLYG",
    "CNZJG",
    "PECLL",
    "RULED",
]
IMPORT = [
    "INMAA",
    "INVTZ",
    "INMUN",
    "INNSA",
    "INCCU",
    "USNYC",
    "USBAL",
    "USSAV",
    "JPNGO",
    "JPOSA",
    "KRPUS",
    "KRUSN",
    "DEHAM",
    "PLGDN",
    "CNSHA",
]


def timed(fn, reps):
    times = []
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    layers = gs.load_layers()
    ports = gs.load_ports().set_index("port")
    missing = [p for p in EXPORT + IMPORT if p not in ports.index]
    if missing:
        raise SystemExit(f"not in searoute's ports: {missing}")
    src = [f"port:{p}" for p in EXPORT]
    tgt = [f"port:{p}" for p in IMPORT]

    builds = []
    for _ in range(args.reps):
        t = time.perf_counter()
        G = gs.graph_from_layers(layers)
        builds.append(time.perf_counter() - t)
    build = statistics.median(builds)

    cold_times = []
    for _ in range(args.reps):
        H = gs.graph_from_layers(layers)
        t = time.perf_counter()
        gs.route_matrix(H, src, tgt, paths=True)
        cold_times.append(time.perf_counter() - t)
    cold = statistics.median(cold_times)
    from geosource.routing import _engine

    def warm_run():
        _engine(G).matrices.clear()  # time the computation, not the memo of identical calls
        return gs.route_matrix(G, src, tgt, paths=True)

    warm, m = timed(warm_run, args.reps)
    ours = m.distances

    # networkx: the sea lanes and ports as a plain DiGraph (lightest parallel edge), built once
    D = nx.DiGraph()
    for u, v, d in G.edges(data=True):
        if G.nodes[u]["kind"] in ("sea", "port") and G.nodes[v]["kind"] in ("sea", "port"):
            w = d["length_km"]
            if not D.has_edge(u, v) or D[u][v]["length_km"] > w:
                D.add_edge(u, v, length_km=w)

    def run_nx():
        dist = np.empty((len(src), len(tgt)))
        paths = {}
        for i, s in enumerate(src):
            lengths, p = nx.single_source_dijkstra(D, s, weight="length_km")
            for j, t in enumerate(tgt):
                dist[i, j] = lengths[t]
                paths[s, t] = p[t]
        return dist, paths

    nx_time, (nx_dist, _) = timed(run_nx, args.reps)

    import searoute

    coords = {p: [float(ports.loc[p, "lon"]), float(ports.loc[p, "lat"])] for p in EXPORT + IMPORT}
    searoute.searoute(coords[EXPORT[0]], coords[IMPORT[0]])  # warm its graph cache

    def run_searoute():
        return [
            [searoute.searoute(coords[a], coords[b])["properties"]["length"] for b in IMPORT]
            for a in EXPORT
        ]

    sr_time, sr_len = timed(run_searoute, args.reps)
    sr_len = np.array(sr_len)

    rel = np.abs(ours - nx_dist) / nx_dist
    agree = np.abs(ours - sr_len) / sr_len
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"workload: {len(src)} export x {len(tgt)} import ports = {ours.size} routes with paths;"
        f" median of {args.reps} repetitions"
    )
    print(f"graph build (graph_from_layers)           {build * 1e3:9.1f} ms")
    print(f"geosource route_matrix, cold (compile)    {cold * 1e3:9.1f} ms")
    print(f"geosource route_matrix, warm              {warm * 1e3:9.1f} ms")
    print(f"networkx single_source_dijkstra x {len(src):<3}    {nx_time * 1e3:9.1f} ms")
    print(f"searoute.searoute x {ours.size:<4} pairs            {sr_time * 1e3:9.1f} ms")
    print(
        f"speed-up vs networkx (warm / cold)        {nx_time / warm:9.1f}x / {nx_time / cold:.1f}x"
    )
    print(
        f"speed-up vs searoute (warm / cold)        {sr_time / warm:9.1f}x / {sr_time / cold:.1f}x"
    )
    print(f"max relative difference vs networkx       {rel.max():9.2e}")
    print(f"median / max |diff| vs searoute           {np.median(agree):9.2%} / {agree.max():.2%}")
    print(f"peak RSS                                  {peak_mb:9.0f} MB")


if __name__ == "__main__":
    main()

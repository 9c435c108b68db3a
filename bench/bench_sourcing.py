"""Sourcing benchmark: all five minerals x every demand centre of India, the US, Japan, Korea and
the EU, k=5, on a warm graph.

Compares, in the same run:
  * geosource: one batched `sourcing_paths(G, minerals, demand_centres, k=5)` call (route matrices
    per mineral, exposure per distinct input), median over repetitions, with the route-matrix
    memo cleared before each so every repetition routes from scratch on the warm engine;
  * networkx per chain: for a random sample of the same chains, `nx.single_source_dijkstra` for
    each leg (mine -> plant, plant -> demand centre) with geosource's routing rules
    (`gs.networkx_weight`); the time per chain is multiplied by the number of chains scored.
    Exposure is not recomputed in the baseline, so the ratio favours networkx.
Prints medians and the ratio. Machines are noisy: compare ratios across runs.

    python bench/bench_sourcing.py [--reps 5] [--sample 40]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import networkx as nx

import geosource as gs
from geosource.routing import _engine
from geosource.sourcing import _buyer_centres, _chains

MINERALS = ["lithium", "rare_earths", "graphite", "gallium", "germanium"]
BUYER_COUNTRIES = ["IND", "USA", "JPN", "KOR", "DEU", "POL", "HUN"]  # EU: Germany, Poland, Hungary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--sample", type=int, default=40, help="chains timed for the baseline")
    args = parser.parse_args()
    layers = gs.load_layers()
    G = gs.graph_from_layers(layers)
    dem = layers.demand_centres
    centres = sorted(dem[dem["country"].isin(BUYER_COUNTRIES)]["id"])
    gs.sourcing_paths(G, MINERALS, centres, k=5, as_of="2025-06-30")  # warm the engine

    times = []
    for _ in range(args.reps):
        _engine(G).matrices.clear()
        t = time.perf_counter()
        out = gs.sourcing_paths(G, MINERALS, centres, k=5, as_of="2025-06-30")
        times.append(time.perf_counter() - t)
    ours = statistics.median(times)
    chains_scored = sum(n for per in out.attrs["options"].values() for n in per.values())

    # every chain the batch scored (before collapsing to distinct options)
    all_chains = []
    w, p = gs.Weights(), gs.ExposureParams()
    import datetime as dt

    for m in MINERALS:
        queries = [(c, *_buyer_centres(layers, c, m)) for c in centres]
        frame, _ = _chains(
            G, layers, m, queries, dt.date(2025, 6, 30), w, p, False, (), frozenset()
        )
        for rec in frame[["mine_id", "plant_id", "demand_id"]].itertuples(index=False):
            all_chains.append((m, rec.mine_id, rec.plant_id, rec.demand_id))
    rng = random.Random(1)
    sample = rng.sample(all_chains, min(args.sample, len(all_chains)))

    def baseline(chain):
        m, mine, plant, demand = chain
        reg = gs.MINERALS[m]
        total = 0.0
        if isinstance(mine, str):
            a, b = gs.node_id("facility", mine), gs.node_id("facility", plant)
            wf = gs.networkx_weight(G, a, modes=reg.modes["mining"])
            total += nx.single_source_dijkstra(G, a, b, weight=wf)[0]
        a, b = gs.node_id("facility", plant), gs.node_id("demand", demand)
        modes = sorted(
            {x for s in (*reg.processing, "recycling") for x in reg.modes.get(s, ("sea", "land"))}
        )
        wf = gs.networkx_weight(G, a, modes=modes)
        total += nx.single_source_dijkstra(G, a, b, weight=wf)[0]
        return total

    t = time.perf_counter()
    for chain in sample:
        baseline(chain)
    per_chain = (time.perf_counter() - t) / len(sample)
    nx_total = per_chain * len(all_chains)

    print(
        f"workload: {len(MINERALS)} minerals x {len(centres)} demand centres "
        f"({', '.join(BUYER_COUNTRIES)}), k=5; {len(all_chains)} chains scored, "
        f"{chains_scored} distinct options, {len(out)} rows returned"
    )
    print(f"geosource sourcing_paths (batch), median of {args.reps}   {ours * 1e3:9.1f} ms")
    print(f"options scored per second                          {len(all_chains) / ours:9.0f}")
    print(
        f"networkx per chain ({len(sample)} sampled, extrapolated)    {nx_total:9.1f} s"
        f"   ({per_chain * 1e3:.1f} ms per chain)"
    )
    print(f"speed-up vs networkx per chain                     {nx_total / ours:9.0f}x")


if __name__ == "__main__":
    main()

"""Opportunity-surface benchmark: rare earths for India at 0.25 degrees worldwide.

Compares, in the same run: geosource's `opportunity_surface` (one multi-source shortest-path
run from the buyer, vectorised land legs and components) against a per-cell baseline that runs
a shortest-path search (scipy Dijkstra on the same compiled graph, from the cell's nearest port
to the buyer's demand centres) for a random sample of land cells, extrapolated to all cells.

    python bench/bench_raster.py [--reps 3] [--sample 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

import geosource as gs
from geosource.routing import DEFAULT_MODES, _engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()
    layers = gs.load_layers()
    G = gs.graph_from_layers(layers)
    gs.opportunity_surface(G, mineral="rare_earths", to="IND", resolution_deg=2.0)  # warm
    times = []
    for _ in range(args.reps):
        t = time.perf_counter()
        s = gs.opportunity_surface(G, mineral="rare_earths", to="IND", resolution_deg=0.25)
        times.append(time.perf_counter() - t)
    ours = statistics.median(times)
    cells = s["cells"]

    # baseline: one shortest-path search per cell (from its nearest port to the buyer)
    eng = _engine(G)
    masked = eng.masked("length_km", frozenset(), frozenset(), frozenset(DEFAULT_MODES))
    full = masked.full if masked.full is not None else masked
    graph = csr_matrix((full.w, (full.u, full.v)), shape=(eng.size, eng.size))
    dem = layers.demand_centres
    targets = [
        int(eng.in_index[eng.index[f"demand:{d}"]])
        for d in sorted(dem[dem["country"] == "IND"]["id"])
    ]
    ports = [n for n in eng.nodes if G.nodes[n]["kind"] == "port"]
    rng = random.Random(1)
    sample = rng.sample(ports, args.sample)
    t = time.perf_counter()
    for p in sample:
        d = dijkstra(graph, directed=True, indices=eng.index[p])
        np.min(d[targets])
    per_cell = (time.perf_counter() - t) / len(sample)
    baseline = per_cell * cells
    print(
        f"workload: rare earths -> IND, 0.25 deg worldwide, {cells:,} land cells, "
        f"{len(gs.surfaces.SURFACE_BANDS)} bands; median of {args.reps}"
    )
    print(f"geosource opportunity_surface          {ours:9.2f} s   {cells / ours:12,.0f} cells/s")
    print(
        f"per-cell shortest path ({args.sample} sampled)  {baseline:9.1f} s   "
        f"{1 / per_cell:12,.0f} cells/s (extrapolated)"
    )
    print(f"speed-up vs per-cell baseline          {baseline / ours:9.0f}x")


if __name__ == "__main__":
    main()

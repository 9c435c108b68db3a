"""Monte Carlo benchmark: 10,000 disruption draws for rare earths -> India, serial vs a Dask
LocalCluster of 2 workers, in the same run. Prints wall time, draws per second and the
speed-up; checks the two give identical results. The cluster's start-up is included.

    python bench/bench_sweep.py [--n 10000] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

import geosource as gs
from geosource.routing import _engine

DISRUPTIONS = {
    "closures": {
        "malacca": 0.02,
        "bab_el_mandeb": 0.1,
        "suez": 0.05,
        "hormuz": 0.05,
        "taiwan_strait": 0.02,
        "lombok": 0.01,
        "singapore": 0.01,
        "cape_of_good_hope": 0.01,
    },
    "measures": {"china-ree-controls-2025": 0.3},
    "outages": {"ree-mount-weld": 0.05, "ree-lynas-malaysia": 0.05, "ree-lynas-kalgoorlie": 0.05},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    G = gs.graph_from_layers(gs.load_layers())
    kw = {
        "mineral": "rare_earths",
        "to": "IND",
        "n": args.n,
        "seed": 2026,
        "as_of": "2025-06-30",
        **DISRUPTIONS,
    }
    gs.monte_carlo(G, **{**kw, "n": 10})  # compile the engine once
    timings: dict[str, list[float]] = {"serial": [], "dask": []}
    results = {}
    for _ in range(args.reps):
        for executor in ("serial", "dask"):
            _engine(G).matrices.clear()  # no routing reused from an earlier repetition
            t = time.perf_counter()
            results[executor] = gs.monte_carlo(G, executor=executor, **kw)
            timings[executor].append(time.perf_counter() - t)
    pd.testing.assert_frame_equal(results["serial"].options, results["dask"].options)
    assert results["serial"].summary == results["dask"].summary
    s, d = statistics.median(timings["serial"]), statistics.median(timings["dask"])
    combos = results["serial"].summary["combinations"]
    print(
        f"workload: {args.n:,} draws, {len(results['serial'].events)} events, {combos} distinct "
        f"combinations; rare earths -> IND; median of {args.reps}"
    )
    print(f"serial (in process)            {s:8.2f} s   {args.n / s:9,.0f} draws/s")
    print(f"dask LocalCluster, 2 workers   {d:8.2f} s   {args.n / d:9,.0f} draws/s")
    print(f"speed-up dask vs serial        {s / d:8.2f}x   (results identical: yes)")


if __name__ == "__main__":
    main()

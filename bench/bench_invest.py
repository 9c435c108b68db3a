"""Project value benchmark: every bundled candidate (deposit, development, construction) of rare
earths and lithium, each brought online under three scenarios, against a same-run naive loop.

  * project_value: the candidates of the mineral (the first --limit of them by id), scenarios
    None, "china-ree-export-ban" and "red-sea-closure", buyers IND and USA, serial (and on a
    local Dask cluster with --dask, checked equal to the serial ranking). The baselines are
    solved once per scenario; the balancing capacity once; a candidate without a stated
    capacity is reported, not solved.
  * naive loop: one independent world allocation per candidate and scenario (the candidate's
    row set to operating in a copy of the layers, ``allocate_world(G, ..., layers=...)``), the
    way one would write it by hand, without the baselines or the deltas.

Both print the median seconds per candidate and the total. Machines are noisy: compare the
ratio printed, not absolute times.

    python bench/bench_invest.py [--limit N] [--dask]     (default: the first 12 by id)
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

import geosource as gs
from geosource.invest import CANDIDATE_STATUSES

AS_OF = "2026-12-03"
SCENARIOS = (None, "china-ree-export-ban", "red-sea-closure")
MINERALS = ("rare_earths", "lithium")


def candidates(layers: gs.Layers, mineral: str, limit: int | None) -> list[str]:
    fac = layers.facilities
    ids = sorted(
        fac.loc[(fac["mineral"] == mineral) & fac["status"].isin(CANDIDATE_STATUSES), "id"]
    )
    return ids[:limit] if limit else ids


def naive(G: object, layers: gs.Layers, mineral: str, ids: list[str]) -> list[float]:
    per = []
    for fid in ids:
        t = time.perf_counter()
        fac = layers.facilities.copy()
        fac.loc[fac["id"] == fid, "status"] = "operating"
        for sc in SCENARIOS:
            gs.allocate_world(
                G, mineral, as_of=AS_OF, scenario=sc, layers=layers.replace(facilities=fac)
            )
        per.append(time.perf_counter() - t)
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--limit", type=int, default=12, help="candidates per mineral (0: all; about 6 min)"
    )
    parser.add_argument("--dask", action="store_true", help="also run on a local Dask cluster")
    parser.add_argument("--mineral", choices=MINERALS, action="append", help="default: both")
    args = parser.parse_args()
    layers = gs.load_layers()
    t = time.perf_counter()
    G = gs.graph_from_layers(layers)
    print(f"graph built in {time.perf_counter() - t:.1f} s")
    pd.set_option("display.width", 200)
    for mineral in args.mineral or MINERALS:
        ids = candidates(layers, mineral, args.limit)
        gs.allocate_world(G, mineral, as_of=AS_OF)  # warm: route matrices, balancing capacity
        t = time.perf_counter()
        v = gs.project_value(
            G, ids, ["IND", "USA"], mineral=mineral, scenarios=SCENARIOS, as_of=AS_OF
        )
        serial = time.perf_counter() - t
        solved = sum(1 for c in v.ranking["reason"] if not str(c).startswith("not valued"))
        per = naive(G, layers, mineral, ids)
        print(
            f"\n{mineral}: {len(ids)} candidates ({solved} with a stated capacity) x "
            f"{len(SCENARIOS)} scenarios"
        )
        print(
            f"  project_value serial: {serial:.1f} s total, "
            f"{serial / max(1, len(ids)):.2f} s per candidate (mean)"
        )
        print(
            f"  naive loop:           {sum(per):.1f} s total, "
            f"median {statistics.median(per):.2f} s per candidate "
            f"(ratio {sum(per) / serial:.1f}x)"
        )
        if args.dask:
            t = time.perf_counter()
            d = gs.project_value(
                G,
                ids,
                ["IND", "USA"],
                mineral=mineral,
                scenarios=SCENARIOS,
                as_of=AS_OF,
                executor="dask",
            )
            print(
                f"  project_value dask:   {time.perf_counter() - t:.1f} s total; ranking equal "
                f"to serial: {d.ranking.equals(v.ranking)}"
            )
        top = v.ranking.head(5)[["rank", "candidate", "value", "unmet_term", "feoc_term"]]
        print(top.round(4).to_string(index=False))


if __name__ == "__main__":
    main()

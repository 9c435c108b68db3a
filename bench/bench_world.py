"""World allocation benchmark: every buyer of the demand layer at once, per mineral, warm; a
1,000-draw Monte Carlo with the competing allocation in every distinct combination; and a
same-run networkx baseline.

  * allocate_world: for each mineral, the median of --reps warm calls (graph built and one
    warm-up call made first; the chains' route matrices are memoised on the engine), without
    the offtake rows so that the baseline solves the same problem.
  * networkx baseline: the same capacities, demands and landed freight costs as a min-cost
    flow solved with `nx.network_simplex` (integer kg and milli-dollars), for the minerals
    whose demand is one product (the LP's chains all end in it). Its network joins every
    facility pair a chain uses by that leg's cost, so it may combine legs of different chains:
    its optimum is at most the LP's (equal when the chain set is closed under recombination).
    Both optima are printed. "LP ms" is the whole warm call (chains, costs, balancing capacity,
    the programme and its solution); "nx ms" builds the network from those chains and solves
    it, so the ratio flatters networkx: it is handed the chains.
  * Monte Carlo: rare earths to JPN, 1,000 draws, a Chinese export ban with probability 0.3 and
    Malacca closed with probability 0.1, demand 18,835 t REO (the demand layer's), competing.

Machines are noisy: compare the ratios printed, not absolute times.

    python bench/bench_world.py [--reps 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import networkx as nx
import numpy as np

import geosource as gs
from geosource.minerals import PRODUCTS
from geosource.world import ROW_PREMIUM_USD, UNMET_COST_USD

AS_OF = "2026-12-03"
MINERALS = ("lithium", "rare_earths", "graphite", "gallium", "germanium")


def _median_ms(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def network_simplex(w: gs.WorldAllocation) -> float:
    """The allocation as a min-cost flow, solved by networkx; returns the optimum in USD."""
    p = w.problem
    (final,) = w.products
    content = PRODUCTS[final].content
    demand = p["demand"].set_index("buyer")["demand"] / content  # tonnes of the final product
    kg, milli = 1000, 1000
    D = nx.DiGraph()
    total = round(float(demand.sum()) * kg)
    D.add_node("S", demand=-total)
    for b, d in demand.items():
        node = ("buyer", b)
        D.add_node(node, demand=round(float(d) * kg))
        D.add_edge("S", node, weight=int(UNMET_COST_USD * content * milli / kg))
    # rounding: buyer demands must add to the source's supply
    D.nodes[("buyer", demand.index[0])]["demand"] += total - sum(
        round(float(d) * kg) for d in demand
    )
    caps = p["capacities"][final]

    def add_chain(chain, legs, buyer, premium):
        nodes = [("in", f) for f in chain]
        D.add_edge("S", nodes[0], weight=0)
        for f in chain:
            D.add_edge(("in", f), ("out", f), weight=0, capacity=int(np.floor(caps[f] * kg)))
        hops = [*[("out", f) for f in chain[:-1]]]
        ends = [*[("in", f) for f in chain[1:]], ("buyer", buyer)]
        starts = [*hops, ("out", chain[-1])]
        for (a, b), leg in zip(zip(starts, ends, strict=True), legs, strict=True):
            cost = round((float(leg) + (premium if b == ("buyer", buyer) else 0)) * milli / kg)
            if D.has_edge(a, b):
                D[a][b]["weight"] = min(D[a][b]["weight"], cost)
            else:
                D.add_edge(a, b, weight=cost)

    for rec in p["chains"][p["chains"]["blocked"] == ""].to_dict("records"):
        buyer = rec["query"]
        if ("buyer", buyer) in D:
            add_chain(rec["chain"], _legs(rec), buyer, 0.0)
    if ("buyer", "ROW") in D:
        for rec in p["row_chains"].to_dict("records"):
            add_chain(rec["chain"], _legs(rec), "ROW", ROW_PREMIUM_USD)
    cost, _ = nx.network_simplex(D)
    return cost / milli * kg / kg


def _legs(rec) -> list[float]:
    legs = [float(x) for x in rec["leg_cost_usd_per_t"]]
    n = len(rec["chain"])
    # one cost per hop between facilities, and the last leg to the buyer
    return (legs + [0.0] * n)[:n] if len(legs) >= n else [0.0] * (n - len(legs)) + legs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    layers = gs.load_layers()
    G = gs.graph_from_layers(layers)
    print(f"world allocation, as_of={AS_OF}; {args.reps} warm calls each (median)")
    print(
        f"{'mineral':<12}{'buyers':>7}{'chains':>8}{'LP ms':>9}{'nx ms':>9}{'nx/LP':>7}"
        f"{'LP USD':>16}{'nx USD':>16}  status"
    )
    # the baseline has no offtake rows: both solve the problem without them
    bare = gs.graph_from_layers(layers.replace(offtakes=layers.offtakes.iloc[0:0]))
    for mineral in MINERALS:
        w = gs.allocate_world(bare, mineral, as_of=AS_OF)  # warm-up
        lp = _median_ms(lambda m=mineral: gs.allocate_world(bare, m, as_of=AS_OF), args.reps)
        n_chains = len(w.problem["chains"])
        if len(w.products) == 1:
            nx_ms = _median_ms(lambda w=w: network_simplex(w), args.reps)
            nx_cost = network_simplex(w)
            lp_usd = w.problem["objective_usd"]
            extra = f"{nx_ms:>9.0f}{nx_ms / lp:>7.2f}{lp_usd:>16,.0f}{nx_cost:>16,.0f}"
        else:
            extra = f"{'n/a':>9}{'':>7}{w.problem['objective_usd']:>16,.0f}{'two products':>16}"
        print(f"{mineral:<12}{len(w.buyers):>7}{n_chains:>8}{lp:>9.0f}{extra}  {w.message[:60]}")
    ban = gs.get_scenario("china-ree-export-ban").add_measures[0]
    t = time.perf_counter()
    r = gs.monte_carlo(
        G,
        mineral="rare_earths",
        to="JPN",
        n=1_000,
        seed=1,
        as_of=AS_OF,
        measures={ban: 0.3},
        closures={"malacca": 0.1},
        demand_t=18_835,
    )
    mc = time.perf_counter() - t
    by = r.summary["expected_unmet_by_buyer"]
    print(
        f"Monte Carlo, 1,000 draws, {r.summary['combinations']} distinct combinations: "
        f"{mc:,.1f} s; expected unmet t REO: "
        + ", ".join(f"{b} {v:,.0f}" for b, v in sorted(by.items()))
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()

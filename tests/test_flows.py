"""Allocation under capacity: conservation, capacities, caps, and brute-force optimality on small
SYNTHETIC networks (hypothesis-generated; not real facilities)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geosource as gs
from geosource.chains import facility_capacity
from geosource.flows import UNMET_COST, _solve_flow, _solve_lp


@st.composite
def networks(draw):
    """A small synthetic network: 1-3 sources, 1-3 plants, 1-4 chains, integer capacities."""
    n_src = draw(st.integers(1, 3))
    n_pl = draw(st.integers(1, 3))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_src - 1), st.integers(0, n_pl - 1)),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    source = np.array([p[0] for p in pairs])
    plant = np.array([p[1] for p in pairs])
    cost = (
        np.array(draw(st.lists(st.integers(1, 20), min_size=len(pairs), max_size=len(pairs))))
        / 20.0
    )
    src_cap = np.array(
        draw(st.lists(st.integers(0, 4), min_size=n_src, max_size=n_src)), dtype=float
    )
    plant_cap = np.array(
        draw(st.lists(st.integers(0, 4), min_size=n_pl, max_size=n_pl)), dtype=float
    )
    demand = float(draw(st.integers(1, 6)))
    return cost, source, plant, src_cap, plant_cap, demand


def brute_force(cost, source, plant, src_cap, plant_cap, demand):
    """Every integer flow vector: with integer data the min-cost flow optimum is integral."""
    best = np.inf
    for x in itertools.product(range(int(demand) + 1), repeat=len(cost)):
        x = np.array(x, dtype=float)
        if x.sum() > demand:
            continue
        if any(x[source == s].sum() > c for s, c in enumerate(src_cap)):
            continue
        if any(x[plant == p].sum() > c for p, c in enumerate(plant_cap)):
            continue
        best = min(best, float(cost @ x + UNMET_COST * (demand - x.sum())))
    return best


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(networks())
def test_min_cost_flow_equals_brute_force(net):
    cost, source, plant, src_cap, plant_cap, demand = net
    x, unmet = _solve_flow(cost, source, plant, src_cap, plant_cap, demand)
    total = float(cost @ x + UNMET_COST * unmet)
    assert total == pytest.approx(brute_force(*net), abs=1e-6)
    # conservation and capacities
    assert x.sum() + unmet == pytest.approx(demand)
    for s, c in enumerate(src_cap):
        assert x[source == s].sum() <= c + 1e-9
    for p, c in enumerate(plant_cap):
        assert x[plant == p].sum() <= c + 1e-9


@SETTINGS
@given(networks())
def test_linear_programme_agrees_with_network_simplex(net):
    cost, source, plant, src_cap, plant_cap, demand = net
    x1, u1 = _solve_flow(*net)
    x2, u2 = _solve_lp(cost, source, plant, src_cap, plant_cap, demand, [], None)
    assert float(cost @ x1 + UNMET_COST * u1) == pytest.approx(
        float(cost @ x2 + UNMET_COST * u2), abs=1e-6
    )


@SETTINGS
@given(networks(), st.sampled_from([0.34, 0.5, 0.75]))
def test_share_cap_is_respected_and_costs_at_least_as_much(net, cap):
    cost, source, plant, src_cap, plant_cap, demand = net
    groups = [np.flatnonzero(source == s) for s in range(len(src_cap))]
    x, unmet = _solve_lp(cost, source, plant, src_cap, plant_cap, demand, groups, cap)
    supplied = x.sum()
    for g in groups:
        assert x[g].sum() <= cap * supplied + 1e-6
    assert supplied + unmet == pytest.approx(demand)
    free = brute_force(*net)
    assert float(cost @ x + UNMET_COST * unmet) >= free - 1e-6


def test_allocation_on_bundled_data(G):
    a = gs.allocate(G, mineral="rare_earths", to="IND", demand_t=10_000, as_of="2025-06-30")
    assert a.status == "met" and a.unmet_t == pytest.approx(0, abs=1e-6)
    assert a.flows["flow_t"].sum() == pytest.approx(10_000)
    # capacities as the allocation saw them: the layer's plus the balancing rows
    seen = gs.world.with_unlisted(G, "rare_earths", year=2025).graph["layers"]
    caps = gs.flows.capacity_in_reference_units(seen, "rare_earths").set_index("id")
    for col in ("mine_id", "plant_id"):
        used = a.flows.dropna(subset=[col]).groupby(col)["flow_t"].sum()
        for fid, t in used.items():
            assert t <= caps.at[fid, "capacity_ref"] + 1e-6
    capped = gs.allocate(
        G,
        mineral="rare_earths",
        to="IND",
        demand_t=10_000,
        max_country_share=0.3,
        as_of="2025-06-30",
    )
    for stage in ("source", "processing"):
        assert capped.concentration[stage]["top_share"] <= 0.3 + 1e-6
    # a cap can only cost more freight (less the tie-break of at most a cent a tonne)
    assert capped.total_cost >= a.total_cost - 0.01 * 10_000


def test_infeasible_requests_say_why(G):
    big = gs.allocate(G, mineral="lithium", to="IND", demand_t=5e6, as_of="2025-06-30")
    assert big.status == "unmet" and big.binding == "capacity"
    assert big.unmet_t == pytest.approx(5e6 - big.supplied_t)
    assert "below the 5,000,000.0 t LCE asked for" in big.message
    tight = gs.allocate(
        G,
        mineral="rare_earths",
        to="IND",
        demand_t=10_000,
        max_country_share=0.05,
        as_of="2025-06-30",
    )
    assert tight.status == "unmet" and tight.binding == "max_country_share"
    assert tight.unmet_t > 0
    assert len(tight.excluded) and tight.excluded["reason"].str.len().gt(0).all()


def test_scenario_changes_the_allocation(G):
    base = gs.allocate(G, mineral="lithium", to="USA", demand_t=50_000, as_of="2025-06-30")
    no_feoc = gs.allocate(
        G, mineral="lithium", to="USA", demand_t=50_000, as_of="2025-06-30", scenario="no-feoc"
    )
    assert no_feoc.concentration["path"]["feoc_share"] == 0.0
    assert no_feoc.total_cost >= base.total_cost - 1e-9


def test_bad_requests(G):
    with pytest.raises(ValueError, match="demand_t must be a positive number"):
        gs.allocate(G, mineral="lithium", to="IND", demand_t=-1)
    with pytest.raises(ValueError, match="max_country_share must be in"):
        gs.allocate(G, mineral="lithium", to="IND", demand_t=1, max_country_share=1.5)


def test_a_cap_is_a_share_of_demand_and_gives_the_most_it_allows(G):
    """By hand: with at most 10% of 20,000 t from one country at each stage, Japan can get
    from each processing country the smaller of 2,000 t and that country's separated-oxide
    capacity (sources are spread over enough countries not to bind)."""
    a = gs.allocate(
        G,
        mineral="rare_earths",
        to="JPN",
        demand_t=20_000,
        max_country_share=0.1,
        as_of="2026-12-03",
    )
    seen = gs.world.with_unlisted(G, "rare_earths", year=2026).graph["layers"]
    fac = seen.facilities
    caps = facility_capacity(fac, "separated_oxide")
    makers = fac[
        (fac["mineral"] == "rare_earths")
        & (fac["status"] == "operating")
        & fac["outputs"].map(lambda v: "separated_oxide" in str(v).split(";"))
    ]
    per_country: dict[str, float] = {}
    for fid, iso in zip(makers["id"], makers["country"], strict=True):
        if caps[fid] == caps[fid]:
            per_country[iso] = per_country.get(iso, 0.0) + caps[fid]
    expected = sum(min(2_000.0, c) for c in per_country.values())
    assert a.supplied_t == pytest.approx(expected, rel=1e-6)
    assert a.binding == "max_country_share" and a.status == "unmet"
    assert a.unmet_t == pytest.approx(20_000 - expected, rel=1e-6)
    assert "processing:CHN" in a.message
    for col in ("mine_country", "plant_country"):
        by = a.flows.groupby(col)["flow_t"].sum()
        assert (by <= 2_000 + 1e-6).all(), col


def test_competing_buyers_take_capacity_a_lone_buyer_would_get(G):
    alone = gs.allocate(
        G,
        mineral="rare_earths",
        to="EU",
        demand_t=7_400,
        scenario="china-ree-export-ban",
        as_of="2026-12-03",
    )
    competing = gs.allocate(
        G,
        mineral="rare_earths",
        to="EU",
        demand_t=7_400,
        scenario="china-ree-export-ban",
        as_of="2026-12-03",
        competing=True,
    )
    assert alone.status == "met"
    assert competing.status == "unmet" and competing.binding == "capacity"
    assert competing.supplied_t < alone.supplied_t - 1_000
    assert "left by other buyers" in competing.message
    assert not competing.flows["plant_country"].eq("CHN").any()

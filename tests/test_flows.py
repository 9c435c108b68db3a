"""One buyer's allocation under capacity: conservation, capacities and country-share caps on the
bundled layers. The world programme it is a row of is checked against hand-computed answers in
test_world.py."""

from __future__ import annotations

import pytest

import geosource as gs
from geosource.chains import facility_capacity


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

"""World allocation: capacity shared by every buyer, bans respected (bundled layers)."""

from __future__ import annotations

import pandas as pd
import pytest

import geosource as gs
from geosource.chains import facility_capacity

DAY = "2026-12-03"


@pytest.fixture(scope="module")
def ree(G):
    return gs.allocate_world(G, "rare_earths", as_of=DAY)


@pytest.fixture(scope="module")
def ree_ban(G):
    return gs.allocate_world(G, "rare_earths", as_of=DAY, scenario="china-ree-export-ban")


def test_flows_never_exceed_any_facility_capacity(G, ree, layers):
    # capacities as the allocation saw them: the layer's, plus the balancing rows
    seen = gs.world.with_unlisted(G, "rare_earths", year=2026).graph["layers"]
    caps = facility_capacity(seen.facilities, "separated_oxide")
    listed = facility_capacity(layers.facilities, "separated_oxide")
    for fid, c in listed.items():
        if c == c:
            assert caps[fid] == pytest.approx(c), "a known capacity is never changed"
    used: dict[str, float] = {}
    for chain, t in zip(ree.flows["chain"], ree.flows["tonnes"], strict=True):
        for fid in chain:
            used[fid] = used.get(fid, 0.0) + t
    for fid, t in used.items():
        assert t <= caps[fid] * (1 + 1e-6), fid
    # Lynas is counted once: Mount Weld's concentrate feeds Kalgoorlie and Malaysia, never more
    # than its capacity in total
    assert used.get("ree-mount-weld", 0.0) <= caps["ree-mount-weld"] * (1 + 1e-6)


def test_world_supply_matches_output_where_the_layers_say_it_covers_demand(G):
    """Lithium: world mine output 240,000 t Li (USGS MCS 2025) x 5.323 = 1,277,453 t LCE, the
    sum of the demand rows; graphite: 1.6 Mt mined for 1.6 Mt demanded. With the balancing
    capacity, what the layers list and what national output adds meet it within 1.5%: the
    demand rows balance mine output, and mined concentrate reaches buyers as chemicals after
    the conversion recovery of geosource.minerals (the rest of the world, the residual row,
    carries that loss; every named buyer is met)."""
    for mineral in ("lithium", "graphite"):
        w = gs.allocate_world(G, mineral, as_of=DAY)
        b = w.buyers
        assert b["unmet"].sum() <= 0.015 * b["demand"].sum(), (mineral, w.message)
        named = b[b["buyer"] != "ROW"]
        assert (named["unmet"] <= 1e-6 * named["demand"]).all(), (mineral, w.message)
    bare = gs.allocate_world(G, "lithium", as_of=DAY, unlisted=False)
    assert bare.buyers["unmet"].sum() > 0.3 * bare.buyers["demand"].sum(), (
        "listed capacity alone covers far less than world output"
    )


def test_every_buyer_balances(ree):
    b = ree.buyers
    assert ((b["supplied"] + b["unmet"] - b["demand"]).abs() < 1e-6 * b["demand"].clip(1)).all()
    assert (b["unmet"] >= -1e-9).all() and (b["supplied"] >= -1e-9).all()
    assert set(b["buyer"]) >= {"CHN", "EU", "JPN", "USA", "ROW"}


def test_a_chinese_ban_sends_no_chinese_rare_earths_abroad(ree_ban):
    flows = ree_ban.flows
    abroad = flows[flows["query"] != "CHN"]
    assert not abroad["chain_countries"].map(lambda c: c is not None and "CHN" in c).any()
    assert not abroad["plant_country"].eq("CHN").any()
    # and no buyer abroad is better supplied than at baseline
    assert (ree_ban.buyers.set_index("buyer")["unmet"] >= 0).all()


def test_a_chinese_ban_leaves_buyers_short_by_demand_minus_capacity_outside_china(
    G, ree, ree_ban, layers
):
    """By hand: outside China, separated oxide comes only from the operating plants the layer
    lists with a known capacity plus the balancing rows outside China (Malaysia's refining
    output less Lynas Malaysia). Every such plant is reachable and full under the ban, so the
    buyers outside China are short by exactly their demand less that capacity."""
    caps = facility_capacity(layers.facilities, "separated_oxide")
    fac = layers.facilities.set_index("id")
    listed = sum(
        c
        for fid, c in caps.items()
        if c == c
        and fac.at[fid, "country"] != "CHN"
        and fac.at[fid, "status"] == "operating"
        and fac.at[fid, "mineral"] == "rare_earths"
        and "separated_oxide" in str(fac.at[fid, "outputs"]).split(";")
    )
    u = ree_ban.unlisted
    extra = u[(u["stage"] == "refining") & (u["country"] != "CHN") & u["placed"]]["unlisted_t"]
    outside = listed + float(extra.sum())
    b = ree_ban.buyers.set_index("buyer")
    abroad = b.drop(index="CHN")
    assert float(abroad["unmet"].sum()) == pytest.approx(
        float(abroad["demand"].sum()) - outside, rel=1e-6
    )
    # at baseline every named buyer is fully supplied; under the ban each is short
    base = ree.buyers.set_index("buyer")
    named = [c for c in base.index if c not in ("CHN", "ROW")]
    assert base.loc[named, "unmet"].max() == pytest.approx(0.0, abs=1e-6)
    assert (b.loc[named, "unmet"] > 1e-6).all()
    assert ree_ban.status == "short" and "EU" in ree_ban.message


def test_a_chinese_ban_is_shared_pro_rata(ree, ree_ban, layers):
    """By hand: outside China every plant is full under the ban, so the buyers abroad share
    exactly the capacity outside China; pro rata, each keeps the same share r of its baseline
    supply, r = capacity outside China / baseline supply abroad."""
    base = ree.buyers.set_index("buyer")["supplied"].drop(index="CHN")
    ban = ree_ban.buyers.set_index("buyer")["supplied"].drop(index="CHN")
    r = float(ban.sum()) / float(base.sum())
    assert 0.3 < r < 0.95, "the ban cuts supply abroad, and not to nothing"
    assert ree_ban.problem["ratio"] == pytest.approx(r, rel=1e-6)
    for buyer in base.index:
        assert ban[buyer] == pytest.approx(r * base[buyer], rel=1e-6, abs=1e-3), buyer
    assert f"{r:.1%} of its baseline supply" in ree_ban.message


def test_cost_rationing_serves_named_buyers_before_the_rest_of_the_world(G, ree_ban):
    cheapest = gs.allocate_world(
        G, "rare_earths", as_of=DAY, scenario="china-ree-export-ban", rationing="cost"
    )
    fair = ree_ban.buyers.set_index("buyer")
    cost = cheapest.buyers.set_index("buyer")
    # the same capacity abroad is shared either way
    abroad = [c for c in fair.index if c != "CHN"]
    assert cost.loc[abroad, "supplied"].sum() == pytest.approx(
        fair.loc[abroad, "supplied"].sum(), rel=1e-6
    )
    # by cost alone the rest of the world absorbs the cut first
    assert cost.at["ROW", "unmet"] > fair.at["ROW", "unmet"]
    assert "pro rata" not in cheapest.message and cheapest.problem["ratio"] is None
    with pytest.raises(ValueError, match="rationing"):
        gs.allocate_world(G, "rare_earths", as_of=DAY, rationing="fair")


def test_banned_gallium_never_reaches_the_us(G):
    w = gs.allocate_world(G, "gallium", as_of=DAY)
    us = w.flows[w.flows["query"] == "USA"]
    assert not us["chain_countries"].map(lambda c: "CHN" in c).any()
    # the rest of the world may still buy Chinese gallium: no measure bans it
    row = w.flows[w.flows["query"] == "ROW"]
    assert row["chain_countries"].map(lambda c: "CHN" in c).any()


def test_unknown_capacity_is_left_out_and_listed(ree):
    assert len(ree.excluded)
    assert ree.excluded["reason"].str.contains("capacity unknown").all()


def test_missing_demand_rows_are_a_clear_error(G):
    with pytest.raises(ValueError, match="no graphite demand rows for anode_material"):
        gs.allocate_world(G, "graphite", product="anode_material", as_of=DAY)
    own = pd.DataFrame(
        [
            {
                "buyer": "JPN",
                "mineral": "rare_earths",
                "product": "separated_oxide",
                "year": 2025,
                "demand_t": 1000.0,
                "unit": "t REO",
                "source": "SYNTHETIC test row",
            }
        ]
    )
    w = gs.allocate_world(G, "rare_earths", as_of=DAY, demand=own)
    assert list(w.buyers["buyer"]) == ["JPN"]
    assert w.buyers["unmet"].iloc[0] == pytest.approx(0.0, abs=1e-6)


def test_compare_allocations_names_who_is_short_and_what_moves(ree, ree_ban):
    d = gs.compare_allocations(ree, ree_ban)
    b = d["buyers"].set_index("buyer")
    # by hand from the two runs: Δ = scenario - baseline for every buyer
    base = ree.buyers.set_index("buyer")
    ban = ree_ban.buyers.set_index("buyer")
    for buyer in b.index:
        assert b.at[buyer, "delta_unmet"] == pytest.approx(
            ban.at[buyer, "unmet"] - base.at[buyer, "unmet"], abs=1e-6
        )
        assert b.at[buyer, "delta_supplied"] == pytest.approx(
            ban.at[buyer, "supplied"] - base.at[buyer, "supplied"], abs=1e-6
        )
    assert b.at["EU", "delta_unmet"] > 0 and b.at["USA", "delta_unmet"] > 0
    # Japan keeps part of its supply by switching to plants outside China: its FEOC share falls
    assert b.at["JPN", "delta_unmet"] > 0
    assert b.at["JPN", "delta_feoc_share"] < -0.5
    fac = d["facilities"].set_index("id")
    assert set(fac["change"]) <= {"new", "cut off", "ramps up", "cut back", "unchanged"}
    assert fac.loc[fac["change"] == "cut back", "delta_t"].lt(0).all()

    other = gs.WorldAllocation(**{**ree_ban.__dict__, "mineral": "gallium"})
    with pytest.raises(ValueError, match="same mineral"):
        gs.compare_allocations(ree, other)


def test_published_supply_mix_sits_beside_the_model(ree, layers):
    mix = gs.compare_supply_mix(ree, layers)
    assert set(mix["buyer"]) >= {"USA", "JPN"}
    for _, part in mix.groupby("buyer"):
        assert part["published_share"].sum() == pytest.approx(1.0, abs=1e-6)
        assert part["model_share"].sum() == pytest.approx(1.0, abs=1e-6)
        assert (part["gap"] - (part["model_share"] - part["published_share"])).abs().max() < 1e-12
    usa = mix[mix["buyer"] == "USA"].set_index("supplier")
    # USGS/Comtrade: about three quarters of US rare-earth compound imports come from China
    assert usa.at["CHN", "published_share"] == pytest.approx(0.734, abs=0.01)


def test_unlisted_capacity_by_hand(layers):
    """Gallium refining in China, 2024: USGS output 750 t Ga less the known capacities of the
    listed operating Chinese refineries."""
    from geosource.flows import capacity_in_reference_units

    u = gs.world.unlisted_capacity(layers, "gallium", year=2024).set_index("country")
    fac = layers.facilities
    ids = fac[
        (fac["mineral"] == "gallium")
        & (fac["country"] == "CHN")
        & (fac["stage"] == "refining")
        & (fac["status"] == "operating")
    ]["id"]
    caps = capacity_in_reference_units(layers, "gallium").set_index("id")["capacity_ref"]
    listed = float(caps.reindex(ids).dropna().sum())
    assert u.at["CHN", "output_t"] == 750
    assert u.at["CHN", "listed_t"] == pytest.approx(listed)
    assert u.at["CHN", "unlisted_t"] == pytest.approx(750 - listed)


def test_binding_offtakes_are_honoured_first(ree):
    """Lynas's firm JARE contract (5,000 t NdPr a year to Japan, to 2038) is in force on the
    date: Japan's chains through Lynas Malaysia carry at least that much."""
    o = ree.offtakes.set_index("id")
    assert o.at["lynas-jare-ndpr-2026", "honoured_t"] == pytest.approx(5_000)
    jpn = ree.flows[ree.flows["query"] == "JPN"]
    through = jpn[jpn["chain"].map(lambda c: "ree-lynas-malaysia" in c)]["content_t"].sum()
    assert through >= 5_000 - 1e-6
    # a priority right is not a purchase commitment: not honoured as one
    assert "lynas-japan-ndpr-priority-2023" not in o.index


def test_offtakes_above_a_buyers_demand_bind_only_up_to_it(G):
    w = gs.allocate_world(G, "lithium", as_of=DAY)
    o = w.offtakes.set_index("buyer")
    usa = o.loc["USA"]
    demand = float(w.buyers.set_index("buyer").at["USA", "demand"])
    assert usa["content_t"] > demand
    assert usa["honoured_t"] == pytest.approx(demand)
    assert "exceed it" in usa["note"]

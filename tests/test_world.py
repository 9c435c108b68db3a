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


def test_flows_never_exceed_any_facility_capacity(ree, layers):
    caps = facility_capacity(layers.facilities, "separated_oxide")
    used: dict[str, float] = {}
    for chain, t in zip(ree.flows["chain"], ree.flows["tonnes"], strict=True):
        for fid in chain:
            used[fid] = used.get(fid, 0.0) + t
    for fid, t in used.items():
        assert t <= caps[fid] * (1 + 1e-6), fid
    # Lynas is counted once: Mount Weld's concentrate feeds Kalgoorlie and Malaysia, never more
    # than its capacity in total
    assert used.get("ree-mount-weld", 0.0) <= caps["ree-mount-weld"] * (1 + 1e-6)


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


def test_a_chinese_ban_leaves_a_buyer_short_by_at_least_demand_minus_capacity(ree_ban, layers):
    """By hand: Japan cannot receive more than the separated-oxide capacity outside China that
    the layer lists (operating, capacity known)."""
    caps = facility_capacity(layers.facilities, "separated_oxide")
    fac = layers.facilities.set_index("id")
    outside = sum(
        c
        for fid, c in caps.items()
        if c == c
        and fac.at[fid, "country"] != "CHN"
        and fac.at[fid, "status"] == "operating"
        and "separated_oxide" in str(fac.at[fid, "outputs"]).split(";")
    )
    jpn = ree_ban.buyers.set_index("buyer").loc["JPN"]
    assert jpn["unmet"] >= jpn["demand"] - outside - 1e-6
    assert jpn["unmet"] > 0
    assert ree_ban.status == "short" and "JPN" in ree_ban.message


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
        gs.allocate_world(G, "graphite", as_of=DAY)
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

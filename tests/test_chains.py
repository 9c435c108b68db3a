"""Product-stage chains on the bundled layers: what an expert checks first."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geosource as gs
from geosource.chains import bloc_members, facility_products
from geosource.minerals import PRODUCTS

DAY = "2026-12-03"


@pytest.fixture(scope="module")
def products(layers):
    return facility_products(layers.facilities).set_index("id")


def _all(G, mineral, to, **kw):
    kw.setdefault("as_of", DAY)
    return gs.sourcing_paths(G, mineral, to, k=None, distinct="facilities", **kw)


@pytest.mark.parametrize(
    ("mineral", "to", "product"),
    [
        ("lithium", "IND", None),
        ("lithium", "USA", None),
        ("rare_earths", "IND", None),
        ("rare_earths", "JPN", "ndfeb_magnet"),
        ("graphite", "KOR", None),
        ("gallium", "JPN", None),
        ("germanium", "USA", None),
    ],
)
def test_every_leg_moves_what_one_side_makes_and_the_other_takes(G, products, mineral, to, product):
    # every magnet chain through every project is ~400,000 chains: operating sites are enough
    paths = _all(G, mineral, to, product=product, include_development=product != "ndfeb_magnet")
    assert len(paths)
    for chain, moved, links in zip(paths["chain"], paths["products"], paths["link"], strict=True):
        assert len(moved) == len(chain) == len(links)
        for up, down, prod, link in zip(chain, chain[1:], moved, links, strict=False):
            assert prod in products.at[up, "outputs"], (up, prod)
            assert prod in products.at[down, "inputs"], (down, prod)
            if not PRODUCTS[prod].shipped:
                # brine and Bayer liquor only move inside an integrated site
                assert link == "documented", (up, down, prod)
        # the last facility makes what the buyer asked for
        assert moved[-1] in products.at[chain[-1], "outputs"]
        assert links[-1] == "buyer"


def test_no_brine_is_shipped(G):
    paths = _all(G, "lithium", ["IND", "USA", "JPN", "KOR", "DEU"], include_development=True)
    for moved, links, chain, countries in zip(
        paths["products"], paths["link"], paths["chain"], paths["chain_countries"], strict=True
    ):
        for i, prod in enumerate(moved[:-1]):
            if prod == "brine":
                assert links[i] == "documented"
                assert countries[i] == countries[i + 1], chain
    # and no leg moving brine crosses the sea
    brine = paths[paths["products"].map(lambda p: "brine" in p[:-1])]
    for chain in brine["chain"]:
        i = next(j for j, f in enumerate(chain) if f.startswith("li-salar-de-atacama"))
        assert chain[i + 1] in {"li-salar-del-carmen", "li-la-negra"}


def test_kwinana_takes_only_spodumene_and_documented_only_greenbushes(G):
    paths = _all(G, "lithium", "IND")
    tlea = paths[paths["plant_id"] == "li-kwinana-tianqi"]
    assert len(tlea) >= 2
    assert (tlea["products"].map(lambda p: p[0]) == "spodumene_concentrate").all()
    documented = _all(G, "lithium", "IND", links="documented")
    tlea = documented[documented["plant_id"] == "li-kwinana-tianqi"]
    assert list(tlea["source_id"]) == ["li-greenbushes"]
    assert all(set(lk[:-1]) <= {"documented"} for lk in documented["link"])


def test_magnets_for_india_end_at_a_magnet_plant_and_mined_chains_pass_separation(
    G, layers, products
):
    paths = _all(G, "rare_earths", "IND", product="ndfeb_magnet")
    assert len(paths) > 10
    kind = dict(zip(layers.facilities["id"], layers.facilities["kind"], strict=True))
    assert paths["plant_id"].map(kind).isin({"magnet_plant", "magnet_recycling"}).all()
    mined = paths[paths["source_stage"] == "mining"]
    assert len(mined)
    for chain in mined["chain"]:
        assert any("separated_oxide" in products.at[f, "outputs"] for f in chain), chain


def test_mixed_carbonate_is_never_sold_as_separated_oxide(G):
    paths = _all(G, "rare_earths", ["IND", "JPN", "DEU"], include_development=True)
    assert not (paths["plant_id"] == "ree-lynas-kalgoorlie").any()
    lynas = paths[paths["chain"].map(lambda c: "ree-lynas-kalgoorlie" in c)]
    assert len(lynas)
    for chain, moved in zip(lynas["chain"], lynas["products"], strict=True):
        i = chain.index("ree-lynas-kalgoorlie")
        assert moved[i] == "mixed_ree_carbonate"


def test_projects_never_vanish(G):
    statuses = ["construction", "development", "deposit"]
    paths = _all(G, "lithium", "IND", include_development=statuses)
    sources = set(paths["source_id"])
    assert {"li-olaroz", "li-cauchari-olaroz", "li-centenario-ratones"} <= sources
    by_country = gs.sourcing_paths(G, "lithium", "IND", k=None, as_of=DAY)
    assert by_country.attrs["chains"]["lithium"]["IND"] >= len(by_country)
    assert by_country["chains"].sum() == by_country.attrs["chains"]["lithium"]["IND"] or (
        by_country["chains"].sum() <= by_country.attrs["chains"]["lithium"]["IND"]
    )


def test_mass_balance_of_a_lithium_chain_by_hand(G):
    """Greenbushes → Kwinana (Tianqi) → India: 1 t LiOH·H2O needs 0.8804 t LCE; SC6 holds
    0.06 × 73.89/29.88 = 0.14837 t LCE per t; refinery recovery 0.88. So 0.8804 / 0.14837 /
    0.88 = 6.743 t of concentrate per t of hydroxide."""
    paths = _all(G, "lithium", "IND", links="documented")
    row = paths[paths["chain"] == ("li-greenbushes", "li-kwinana-tianqi")].iloc[0]
    by_hand = (73.89 / (2 * 41.96)) / (0.06 * 73.89 / 29.88) / 0.88
    assert row["tonnes_per_t"][0] == pytest.approx(by_hand, rel=1e-9)
    assert by_hand == pytest.approx(6.743, abs=1e-3)
    assert row["tonnes_per_t"][-1] == 1.0
    km = row["leg_km"]
    assert row["tkm_per_t"] == pytest.approx(by_hand * km[0] + km[1], rel=1e-9)
    assert row["distance_km"] == pytest.approx(sum(km), rel=1e-9)


def test_mass_balance_of_a_rare_earth_chain_by_hand(G):
    """Mount Weld → Kalgoorlie → Lynas Malaysia, per t of separated oxide: concentrate at 40%
    REO with 0.90 cracking recovery then 0.95 separation: 1 / 0.40 / 0.90 / 0.95 = 2.924 t;
    mixed carbonate at 50% REO: 1 / 0.50 / 0.95 = 2.105 t."""
    paths = _all(G, "rare_earths", "JPN", links="documented")
    chain = ("ree-mount-weld", "ree-lynas-kalgoorlie", "ree-lynas-malaysia")
    row = paths[paths["chain"] == chain].iloc[0]
    t = row["tonnes_per_t"]
    assert t[0] == pytest.approx(1 / 0.40 / 0.90 / 0.95, rel=1e-9)
    assert t[1] == pytest.approx(1 / 0.50 / 0.95, rel=1e-9)
    km = row["leg_km"]
    assert row["tkm_per_t"] == pytest.approx(t[0] * km[0] + t[1] * km[1] + km[2], rel=1e-9)


def test_capacity_is_the_bottleneck_in_final_product(G, layers):
    paths = _all(G, "lithium", "IND", links="documented")
    row = paths[paths["chain"] == ("li-greenbushes", "li-kwinana-tianqi")].iloc[0]
    fac = layers.facilities.set_index("id")
    mine = float(fac.at["li-greenbushes", "capacity"]) / gs.tonnes_per_tonne(
        "spodumene_concentrate", "lithium_hydroxide"
    )
    plant = float(fac.at["li-kwinana-tianqi", "capacity"])
    assert row["capacity_t"] == pytest.approx(min(mine, plant))


def test_unknown_product_and_options_are_refused(G):
    with pytest.raises(ValueError, match="not a product of lithium"):
        gs.sourcing_paths(G, "lithium", "IND", product="ndfeb_magnet")
    with pytest.raises(ValueError, match="links must be one of"):
        gs.sourcing_paths(G, "lithium", "IND", links="any")
    with pytest.raises(ValueError, match="distinct must be one of"):
        gs.sourcing_paths(G, "lithium", "IND", distinct="mines")
    with pytest.raises(ValueError, match="not a facility status"):
        gs.sourcing_paths(G, "lithium", "IND", include_development=["planned"])


# --- SYNTHETIC facility sets: random inputs and outputs on real sites -----------------------------

_LI = sorted(p for p, v in PRODUCTS.items() if v.mineral == "lithium")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_any_product_assignment_gives_only_compatible_chains(G, layers, data):
    """SYNTHETIC: the lithium rows get random inputs, outputs and feeds (not real facts)."""
    fac = layers.facilities
    li = fac[(fac["mineral"] == "lithium") & (fac["status"] == "operating")].copy()
    ids = sorted(li["id"])
    ins, outs, feeds = [], [], []
    for _ in ids:
        out = data.draw(st.lists(st.sampled_from(_LI), min_size=1, max_size=2, unique=True))
        inp = data.draw(st.lists(st.sampled_from(_LI), max_size=2, unique=True))
        fd = data.draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
        outs.append(";".join(out))
        ins.append(";".join(inp) or None)
        feeds.append(";".join(fd) or None)
    li = li.sort_values("id").assign(inputs=ins, outputs=outs, feeds=feeds, capacity_product=None)
    synthetic = pd.concat([fac[~fac["id"].isin(ids)], li], ignore_index=True)
    lay = layers.replace(facilities=synthetic)
    try:
        opts = gs.ChainOptions(distinct="facilities")
        c = gs.chains(G, "lithium", "IND", as_of=DAY, options=opts, layers=lay)
    except LookupError:
        return  # no chain at all is an answer too
    prods = facility_products(synthetic).set_index("id")
    for chain, moved, links in zip(c["chain"], c["products"], c["link"], strict=True):
        assert len(set(chain)) == len(chain)
        for i, (up, down) in enumerate(itertools.pairwise(chain)):
            assert moved[i] in prods.at[up, "outputs"]
            assert moved[i] in prods.at[down, "inputs"]
            assert math.isfinite(gs.tonnes_per_tonne(moved[i], moved[i + 1]))
            assert moved[i] != moved[i + 1]
            if links[i] == "documented":
                assert down in prods.at[up, "feeds"]
            if not PRODUCTS[moved[i]].shipped:
                assert links[i] == "documented"
        assert moved[-1] in {"lithium_carbonate", "lithium_hydroxide"}


def test_the_eu_is_a_buyer_made_of_its_members(G, layers):
    paths = gs.sourcing_paths(G, "rare_earths", "EU", k=None, as_of=DAY)
    assert set(paths["query"]) == {"EU"}
    members = set(bloc_members(layers, "EU"))
    assert {"DEU", "FRA", "POL"} <= members and "GBR" not in members
    assert set(paths["buyer"]) <= members
    assert paths["demand_id"].map(lambda d: d.split("-")[0].upper()).isin(members).all()


def test_concentration_uses_the_share_of_the_product_each_stage_makes(G, layers):
    """IEA: China makes about 94% of permanent magnets (production layer, product rows)."""
    paths = gs.sourcing_paths(G, "rare_earths", "CHN", product="ndfeb_magnet", k=None, as_of=DAY)
    chinese = paths[paths["chain_countries"].map(lambda c: c[-1] == "CHN")]
    assert len(chinese)
    assert chinese["concentration_reason"].str.contains("CHN 94% of ndfeb magnet").all()

"""Sweeps and Monte Carlo: tidy results, same seed same answer, one routing result per set of
closed passages, and a real 2-worker Dask LocalCluster identical to the serial run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import geosource as gs
from geosource.routing import cache_info, clear_routing_cache

DISRUPTIONS = {
    "closures": {"malacca": 0.05, "bab_el_mandeb": 0.2, "suez": 0.1, "taiwan_strait": 0.05},
    "measures": {"china-ree-controls-2025": 0.3},
    "outages": {"ree-mount-weld": 0.1, "ree-lynas-malaysia": 0.1},
}


def test_sweep_rows_match_single_queries(G):
    s = gs.sweep(
        G,
        None,
        [None, "red-sea-closure", "no-feoc"],
        ["lithium", "rare_earths"],
        ["IND", "DEU"],
        as_of="2025-06-30",
    )
    assert len(s) == 3 * 2 * 2
    assert list(s.columns[:4]) == ["scenario", "mineral", "buyer", "options"]
    base = s[s["scenario"] == "baseline"].set_index(["mineral", "buyer"])
    for (mineral, buyer), row in base.iterrows():
        best = gs.sourcing_paths(G, mineral, buyer, k=1, as_of="2025-06-30").iloc[0]
        assert row["plant_id"] == best["plant_id"]
        assert row["score"] == pytest.approx(best["score"])
    feoc = s[s["scenario"] == "no-feoc"]
    assert not feoc["plant_country"].isin(["CHN", "RUS"]).any()


def test_sweep_with_demand(G):
    s = gs.sweep(
        G, None, [None, "no-feoc"], ["rare_earths"], ["IND"], as_of="2025-06-30", demand_t=5_000
    )
    assert {"unmet_t", "top_country_share"} <= set(s.columns)
    # each row equals the competing allocation run by hand
    for rec in s.to_dict("records"):
        a = gs.allocate(
            G,
            mineral="rare_earths",
            to="IND",
            demand_t=5_000,
            scenario=None if rec["scenario"] == "baseline" else rec["scenario"],
            as_of="2025-06-30",
            competing=True,
        )
        assert rec["unmet_t"] == pytest.approx(a.unmet_t, abs=1e-6)


def test_same_seed_same_result_and_draw_frequencies(G):
    a = gs.monte_carlo(
        G, mineral="rare_earths", to="IND", n=3_000, seed=7, as_of="2025-06-30", **DISRUPTIONS
    )
    b = gs.monte_carlo(
        G, mineral="rare_earths", to="IND", n=3_000, seed=7, as_of="2025-06-30", **DISRUPTIONS
    )
    pd.testing.assert_frame_equal(a.options, b.options)
    assert a.summary == b.summary
    # drawn frequencies agree with the probabilities (binomial, 5 sigma)
    for rec in a.events.to_dict("records"):
        sigma = np.sqrt(rec["probability"] * (1 - rec["probability"]) / 3_000)
        assert abs(rec["frequency"] - rec["probability"]) <= 5 * sigma + 1e-12
    assert a.combos["draws"].sum() == 3_000
    for col in ("p_lost",):
        assert a.options[col].between(0, 1).all()


def test_no_disruption_means_nothing_lost(G):
    r = gs.monte_carlo(
        G,
        mineral="lithium",
        to="IND",
        n=500,
        seed=1,
        as_of="2025-06-30",
        closures={"malacca": 0.0},
        outages={"li-greenbushes": 0.0},
    )
    assert (r.options["p_lost"] == 0).all()
    assert (r.options["expected_extra_km"].abs() < 1e-9).all()
    assert r.summary["p_no_good_option"] == 0
    assert r.summary["combinations"] == 1


def test_certain_outage_loses_its_options(G, layers):
    r = gs.monte_carlo(
        G,
        mineral="rare_earths",
        to="IND",
        n=50,
        seed=1,
        as_of="2025-06-30",
        outages={"ree-mount-weld": 1.0},
    )
    aus = r.options[r.options["mine_country"] == "AUS"]
    assert len(aus) and (aus["p_lost"] == 1.0).all(), "Mount Weld is Australia's only REE mine"


def test_draws_sharing_closures_reuse_one_routing_result(G):
    clear_routing_cache(G)
    r = gs.monte_carlo(
        G,
        mineral="graphite",
        to="JPN",
        n=2_000,
        seed=3,
        as_of="2025-06-30",
        closures={"malacca": 0.1, "suez": 0.1},
        outages={"gr-balama": 0.2, "gr-molo": 0.2},
    )
    closure_sets = {
        tuple(sorted(e for e in str(ev).split(";") if e in ("malacca", "suez")))
        for ev in r.combos["events"]
    }
    # two matrices (sources -> plants, plants -> demand) per set of closed passages
    assert cache_info(G)["matrices"] <= 2 * len(closure_sets) + 2
    assert r.summary["combinations"] > len(closure_sets)


def test_expected_unmet_demand(G):
    """By hand: a Chinese rare-earth export ban in half the draws. The EU and Japan are short
    only under the ban (shared pro rata), so the expected unmet demand of each is (share of
    draws with the ban) x (its unmet under the ban), both from a plain world allocation."""
    ban = gs.get_scenario("china-ree-export-ban").add_measures[0]
    r = gs.monte_carlo(
        G,
        mineral="rare_earths",
        to="JPN",
        n=400,
        seed=5,
        as_of="2026-12-03",
        measures={ban: 0.5},
        demand_t=18_835,
    )
    with_ban = r.events.set_index("kind")["frequency"].iloc[0]
    assert 0.4 < with_ban < 0.6
    under = gs.allocate_world(G, "rare_earths", as_of="2026-12-03", scenario="china-ree-export-ban")
    base = gs.allocate_world(G, "rare_earths", as_of="2026-12-03")
    eu_ban = float(under.buyers.set_index("buyer").at["EU", "unmet"])
    eu_base = float(base.buyers.set_index("buyer").at["EU", "unmet"])
    assert eu_ban > 1_000 and eu_base == pytest.approx(0.0, abs=1e-6)
    by = r.summary["expected_unmet_by_buyer"]
    assert by["EU"] == pytest.approx(with_ban * eu_ban + (1 - with_ban) * eu_base, rel=1e-6)
    jpn_ban = float(under.buyers.set_index("buyer").at["JPN", "unmet"])
    assert jpn_ban > 1_000
    assert by["JPN"] == pytest.approx(with_ban * jpn_ban, rel=1e-6)
    assert r.summary["expected_unmet_t"] == pytest.approx(with_ban * jpn_ban, rel=1e-6)


def test_bad_requests(G):
    with pytest.raises(ValueError, match="unknown passage 'suezz'"):
        gs.monte_carlo(G, mineral="lithium", to="IND", n=10, closures={"suezz": 0.1})
    with pytest.raises(ValueError, match="must be in \\[0, 1\\]"):
        gs.monte_carlo(G, mineral="lithium", to="IND", n=10, closures={"suez": 1.5})
    with pytest.raises(ValueError, match="unknown facility 'li-x'"):
        gs.monte_carlo(G, mineral="lithium", to="IND", n=10, outages={"li-x": 0.1})
    with pytest.raises(ValueError, match="executor must be 'serial' or 'dask'"):
        gs.monte_carlo(G, mineral="lithium", to="IND", n=10, executor="ray")


def test_dask_local_cluster_identical_to_serial(G):
    kw = {
        "mineral": "rare_earths",
        "to": "IND",
        "n": 2_000,
        "seed": 11,
        "as_of": "2025-06-30",
        **DISRUPTIONS,
    }
    serial = gs.monte_carlo(G, **kw)
    dask = gs.monte_carlo(G, executor="dask", **kw)
    pd.testing.assert_frame_equal(serial.options, dask.options)
    assert serial.summary == dask.summary
    pd.testing.assert_frame_equal(serial.combos, dask.combos)

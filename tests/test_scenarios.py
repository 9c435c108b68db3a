"""Scenarios: validated and serialisable; each built-in changes what it should and nothing else;
never mutates its inputs; compare() explains the differences."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import geosource as gs
from geosource.scenarios import BUILTIN_SCENARIOS

QUERY = (["lithium", "rare_earths", "graphite"], ["IND", "DEU", "USA"])


@pytest.fixture(scope="module")
def baseline(G):
    return gs.sourcing_paths(G, *QUERY, k=None, as_of="2025-06-30")


def _passes(paths: pd.DataFrame, passage: str) -> pd.Series:
    return paths["passages"].fillna("").str.split(";").map(lambda ps: passage in ps)


@pytest.mark.parametrize(
    "name", ["red-sea-closure", "malacca-closure", "hormuz-closure", "taiwan-strait-closure"]
)
def test_closures_remove_exactly_the_options_that_crossed(G, baseline, name):
    sc = BUILTIN_SCENARIOS[name]
    after = gs.apply_scenario(G, None, name).sourcing_paths(*QUERY, k=None, as_of="2025-06-30")
    for passage in sc.closed_passages:
        assert not _passes(after, passage).any(), f"{name}: an option still crosses {passage}"
    # every chain that never crossed a closed passage is identical (same route, same scores)
    before, after_chains = _all_chains(G, None), _all_chains(G, name)
    crossed = pd.concat(
        [_passes(before.rename(columns={"corridor": "passages"}), p) for p in sc.closed_passages],
        axis=1,
    ).any(axis=1)
    key = ["query", "chain", "products", "demand_id"]
    kept = before[~crossed].merge(after_chains, on=key, how="left", suffixes=("", "_after"))
    assert kept["distance_km_after"].notna().all(), "an untouched chain disappeared"
    for c in ("distance_km", "exposure", "score"):
        assert (kept[c] - kept[f"{c}_after"]).abs().max() < 1e-9
    assert (kept["corridor"] == kept["corridor_after"]).all()
    # and an option (country pair and corridor) can only get better or stay: newcomers may join
    k2 = ["mineral", "query", "chain_countries", "passages"]
    untouched = ~pd.concat([_passes(baseline, p) for p in sc.closed_passages], axis=1).any(axis=1)
    both = baseline[untouched].merge(after, on=k2, suffixes=("", "_after"))
    assert len(both) == untouched.sum()
    assert (both["score_after"] <= both["score"] + 1e-12).all()


def _all_chains(G, scenario):
    """Every scored chain (before options are collapsed), rare earths to India and Germany."""
    layers = G.graph["layers"]
    closed, blocked = (), frozenset()
    if scenario is not None:
        applied = gs.apply_scenario(G, None, scenario)
        layers, closed, blocked = applied.layers, applied.closed_passages, applied.closed_nodes
    return gs.chains(
        G,
        "rare_earths",
        ["IND", "DEU"],
        as_of="2025-06-30",
        options=gs.ChainOptions(distinct="facilities", closed=closed, blocked=blocked),
        layers=layers,
    )


def test_no_feoc_removes_every_covered_nation(G, baseline):
    after = gs.apply_scenario(G, None, "no-feoc").sourcing_paths(*QUERY, k=None, as_of="2025-06-30")
    feoc = {"CHN", "RUS", "IRN", "PRK"}
    assert not after["mine_country"].isin(feoc).any()
    assert not after["plant_country"].isin(feoc).any()
    assert baseline["plant_country"].isin(feoc).any()
    # every remaining node avoids them too: no port in a covered nation on any route
    applied = gs.apply_scenario(G, None, "no-feoc")
    assert all(G.nodes[n].get("country") in feoc for n in applied.closed_nodes)
    untouched = ~(baseline["mine_country"].isin(feoc) | baseline["plant_country"].isin(feoc))
    assert len(after) <= untouched.sum()


def test_china_ga_ge_ban_binds_only_chinese_flows_to_the_us(G):
    kw = {
        "k": None,
        "as_of": "2026-11-01",
        "include_development": True,
        "include_blocked": True,
        "distinct": "facilities",
    }
    base = gs.sourcing_paths(G, ["gallium", "germanium"], ["USA", "JPN"], **kw)
    after = gs.apply_scenario(G, None, "china-ga-ge-ban-us").sourcing_paths(
        ["gallium", "germanium"], ["USA", "JPN"], **kw
    )
    merged = base.merge(
        after,
        on=["mineral", "query", "chain", "products"],
        suffixes=("", "_after"),
    )
    assert len(merged) == len(base) == len(after)

    # the ban binds product leaving China for the US: a Chinese last stage, or a Chinese stage
    # whose next stage is in the US
    def leaves_china_for_us(countries):
        nxt = [*countries[1:], "USA"]
        return any(c == "CHN" and n == "USA" for c, n in zip(countries, nxt, strict=True))

    to_us = merged["query"] == "USA"
    hit = to_us & merged["chain_countries"].map(leaves_china_for_us)
    assert (to_us & (merged["plant_country"] == "CHN")).any()
    assert (merged.loc[hit, "export_controls_after"] == 1.0).all()
    assert (merged.loc[hit, "blocked_after"] != "").all()
    # beyond direct hits only re-exports of Chinese material to the US (No. 46's clause on
    # third-country transfers) are blocked
    others = merged[~hit & (merged["blocked_after"] != "")]
    assert (others["query"] == "USA").all()
    assert others["chain_countries"].map(lambda c: "CHN" in c[:-1]).all()
    assert others["blocked_after"].str.contains("re-export").all()
    assert (merged.loc[hit & (merged["plant_country"] == "CHN"), "export_controls"] < 1.0).all()
    plain = ~hit & (merged["blocked_after"] == "")
    assert (
        merged.loc[plain, "export_controls_after"] == merged.loc[plain, "export_controls"]
    ).all()


def test_china_ree_controls_raise_only_chinese_rare_earth_controls(G, baseline):
    after = gs.apply_scenario(G, None, "china-ree-controls-2025").sourcing_paths(
        *QUERY, k=None, as_of="2025-06-30"
    )
    key = ["mineral", "query", "chain_countries", "passages"]
    merged = baseline.merge(after, on=key, suffixes=("", "_after"))
    assert len(merged) == len(baseline) == len(after)
    changed = merged["export_controls_after"] != merged["export_controls"]
    assert changed.any()
    assert (merged.loc[changed, "mineral"] == "rare_earths").all()
    touched = merged.loc[changed]
    assert touched["chain_countries"].map(lambda c: "CHN" in c).all()
    assert (merged["export_controls_after"] >= merged["export_controls"]).all()


def test_apply_never_mutates_inputs(G, layers):
    before_layers = {name: frame.copy(deep=True) for name, frame in layers}
    before_graph = (
        G.number_of_nodes(),
        G.number_of_edges(),
        copy.deepcopy({k: v for k, v in G.graph.items() if k != "layers"}),
    )
    sc = gs.Scenario(
        name="t",
        add_measures=[{"country": "AUS", "minerals": ["lithium"]}],
        lift_measures=["chn-2023-ga-ge-licence"],
        closed_passages=["suez"],
        sanctioned=["CHN"],
        offline=["li-greenbushes"],
        capacity={"li-kemerton": 1.0},
        weights={"chokepoints": 3},
    )
    applied = gs.apply_scenario(G, layers, sc)
    applied.sourcing_paths("lithium", "IND", as_of="2025-06-30")
    for name, frame in layers:
        pd.testing.assert_frame_equal(frame, before_layers[name])
    assert (G.number_of_nodes(), G.number_of_edges()) == before_graph[:2]
    assert {k: v for k, v in G.graph.items() if k != "layers"} == before_graph[2]
    assert bool(applied.layers.facilities.set_index("id").at["li-greenbushes", "offline"])
    assert "li-greenbushes" not in set(
        applied.sourcing_paths("lithium", "IND", k=None, as_of="2025-06-30")["mine_id"]
    )


@pytest.mark.parametrize("suffix", [".toml", ".yaml", ".json"])
def test_scenarios_round_trip_through_files(tmp_path, suffix):
    for sc in BUILTIN_SCENARIOS.values():
        back = gs.Scenario.read(sc.write(tmp_path / f"{sc.name}{suffix}"))
        assert back == sc
    custom = gs.Scenario(
        name="x",
        as_of="2026-01-01",
        weights={"distance": 1},
        add_measures=[
            {
                "country": "Indonesia",
                "minerals": "nickel;cobalt",
                "targets": ["US", "China"],
                "effective": "2026-02-01",
            }
        ],
    )
    assert gs.Scenario.read(custom.write(tmp_path / f"custom{suffix}")) == custom
    assert custom.add_measures[0].targets == ("USA", "CHN")


def test_unknown_keys_and_ids_are_named(G, tmp_path):
    with pytest.raises(ValueError, match="unknown scenario key 'closed'; valid keys: name"):
        gs.Scenario.from_dict({"name": "x", "closed": ["suez"]})
    with pytest.raises(ValueError, match="unknown key 'minerls' in add_measures\\[0\\]"):
        gs.Scenario.from_dict(
            {"name": "x", "add_measures": [{"country": "CHN", "minerls": ["gallium"]}]}
        )
    with pytest.raises(ValueError, match="unknown weight 'speed'"):
        gs.Scenario(name="x", weights={"speed": 1})
    with pytest.raises(ValueError, match="unknown passage 'suezz'; valid: bab_el_mandeb"):
        gs.apply_scenario(G, None, gs.Scenario(name="x", closed_passages=["suezz"]))
    with pytest.raises(ValueError, match="unknown facility 'li-nowhere'"):
        gs.apply_scenario(G, None, gs.Scenario(name="x", offline=["li-nowhere"]))
    with pytest.raises(ValueError, match="unknown measure 'chn-2099-x'"):
        gs.apply_scenario(G, None, gs.Scenario(name="x", lift_measures=["chn-2099-x"]))
    with pytest.raises(ValueError, match="unknown scenario 'red-sea'; built-in scenarios: "):
        gs.get_scenario("red-sea")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\nclosed_passages = [\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.toml: not valid TOML"):
        gs.Scenario.read(bad)


def test_compare_verdicts(G, baseline):
    after = gs.apply_scenario(G, None, "red-sea-closure").sourcing_paths(
        *QUERY, k=None, as_of="2025-06-30"
    )
    diff = gs.compare(baseline, after, name="red-sea-closure")
    verdict = diff.attrs["verdicts"]["rare_earths → IND"]
    assert verdict.startswith("rare_earths → IND: best option unchanged; +")
    assert "cape_of_good_hope" in verdict
    changed = diff[diff["status"] == "changed"]
    assert (changed["delta_km"] > 0).all(), "a closure never shortens an option"
    assert set(diff["status"]) <= {"changed", "unchanged", "lost", "new"}
    same = gs.compare(baseline, baseline)
    assert (same["status"] == "unchanged").all()
    assert all(v.endswith("no option changed") for v in same.attrs["verdicts"].values())

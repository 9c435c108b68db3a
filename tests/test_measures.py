"""Bans block, licences penalise, closures never help: measures per leg and product."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geosource as gs
from geosource.exposure import Leg, leg_controls, measures_in_force


@pytest.mark.parametrize("day", ["2025-06-30", "2026-12-01"])
@pytest.mark.parametrize("mineral", ["gallium", "germanium"])
def test_no_chinese_gallium_or_germanium_reaches_the_us_while_banned(G, mineral, day):
    paths = gs.sourcing_paths(G, mineral, "USA", k=None, as_of=day, include_development=True)
    assert not paths["chain_countries"].map(lambda c: "CHN" in c).any()
    blocked = paths.attrs["blocked"]
    assert blocked, "the Chinese chains are listed as blocked"
    assert all("chn-2024-no46-usa-ga-ge-sb-ban" in b["blocked_by"] for b in blocked)
    kept = gs.sourcing_paths(
        G, mineral, "USA", k=None, as_of=day, include_development=True, include_blocked=True
    )
    chinese = kept[kept["chain_countries"].map(lambda c: "CHN" in c)]
    assert len(chinese) and chinese["blocked"].str.contains("No. 46|no46").all()
    assert not chinese["pareto"].any()
    assert kept["rank"].max() == len(kept)
    # blocked options rank after every feasible one
    assert (chinese["rank"] > kept.loc[kept["blocked"] == "", "rank"].max()).all()


def test_allocation_to_the_us_uses_no_banned_gallium(G):
    a = gs.allocate(G, mineral="gallium", to="USA", demand_t=50, as_of="2026-12-01")
    assert not a.flows["plant_country"].eq("CHN").any()
    assert not a.flows["mine_country"].eq("CHN").any()


def test_while_suspended_chinese_gallium_ranks_with_a_licence_penalty(G):
    paths = gs.sourcing_paths(G, "gallium", "USA", k=None, as_of="2026-11-01")
    chinese = paths[paths["chain_countries"].map(lambda c: "CHN" in c)]
    assert len(chinese)
    assert (chinese["blocked"] == "").all()
    assert (chinese["export_controls"] >= gs.ExposureParams().severity["licence"]).all()
    for reason in chinese["export_controls_reason"]:
        assert "chn-2023-ga-ge-licence" in reason
        assert "suspended by chn-2025-no72-susp-no46-ban until 2026-11-27" in reason


@pytest.mark.parametrize("buyer", ["IND", "USA", "DEU"])
def test_a_chinese_rare_earth_ban_blocks_every_chain_with_a_chinese_stage(G, buyer):
    applied = gs.apply_scenario(G, None, "china-ree-export-ban")
    for product in (None, "ndfeb_magnet"):
        after = applied.sourcing_paths(
            "rare_earths",
            buyer,
            k=None,
            as_of="2026-12-03",
            product=product,
            distinct="facilities",
            # every magnet chain through every project is ~400,000 chains: operating sites
            include_development=product is None,
        )
        assert not after["chain_countries"].map(lambda c: "CHN" in c).any()
        base = gs.sourcing_paths(
            G,
            "rare_earths",
            buyer,
            k=None,
            as_of="2026-12-03",
            product=product,
            distinct="facilities",
            include_development=product is None,
        )
        through_china = base["chain_countries"].map(lambda c: "CHN" in c)
        assert through_china.any()
        assert len(after) == (~through_china).sum()


def test_china_is_not_blocked_from_its_own_rare_earths(G):
    applied = gs.apply_scenario(G, None, "china-ree-export-ban")
    after = applied.sourcing_paths("rare_earths", "CHN", k=None, as_of="2026-12-03")
    assert after["chain_countries"].map(lambda c: set(c) == {"CHN"}).any()


def test_the_graphite_control_reaches_chinese_flake(layers):
    measures = measures_in_force(layers, "2026-12-03")
    leg = Leg("CHN", "KOR", "graphite", "flake_concentrate", "KOR")
    value, reason, blocked = leg_controls(measures, [leg], gs.ExposureParams())
    assert value == gs.ExposureParams().severity["licence"]
    assert "chn-2023-graphite-licence" in reason and blocked == ""
    # not Mozambican flake, and not Chinese flake used at home
    assert (
        leg_controls(
            measures,
            [Leg("MOZ", "KOR", "graphite", "flake_concentrate", "KOR")],
            gs.ExposureParams(),
        )[0]
        == 0.0
    )
    assert (
        leg_controls(
            measures,
            [Leg("CHN", "CHN", "graphite", "flake_concentrate", "CHN")],
            gs.ExposureParams(),
        )[0]
        == 0.0
    )


def test_a_re_export_of_chinese_gallium_to_the_us_is_caught(layers):
    """No. 46 holds third-country re-exporters liable: Chinese primary gallium refined in Japan
    and sent on to the US is banned on 2026-12-01."""
    measures = measures_in_force(layers, "2026-12-01")
    legs = [
        Leg("CHN", "JPN", "gallium", "primary_gallium", "USA"),
        Leg("JPN", "USA", "gallium", "high_purity_gallium", "USA", frozenset({"CHN"})),
    ]
    _, reason, blocked = leg_controls(measures, legs, gs.ExposureParams())
    assert "re-export" in blocked and "JPN→USA" in blocked
    assert "chn-2024-no46-usa-ga-ge-sb-ban" in reason


def test_owner_country_reaches_the_reasons(G):
    paths = gs.sourcing_paths(
        G, "germanium", "USA", k=None, as_of="2026-12-03", include_development=True
    )
    tsumeb = paths[paths["chain"].map(lambda c: "ge-sinomine-tsumeb" in c)]
    assert len(tsumeb)
    assert tsumeb["alignment_reason"].str.contains("owner in CHN").all()
    assert (tsumeb["alignment"] == gs.ExposureParams().alignment["feoc"]).all()


def test_exclude_countries_and_owners(G):
    paths = gs.sourcing_paths(
        G,
        "germanium",
        "USA",
        k=None,
        as_of="2026-12-03",
        include_development=True,
        exclude=["China"],
        exclude_owners=["CN"],
    )
    assert not paths["chain_countries"].map(lambda c: "CHN" in c).any()
    assert not paths["owner_countries"].map(lambda c: "CHN" in c).any()
    assert paths.attrs["exclude"] == ["CHN"]
    with pytest.raises(ValueError, match="exclude"):
        gs.sourcing_paths(G, "germanium", "USA", exclude=["Chinaa"])


def _scores(G, mineral, buyer, closed):
    opts = gs.ChainOptions(distinct="facilities", closed=tuple(closed))
    try:
        c = gs.chains(G, mineral, buyer, as_of="2026-12-03", options=opts)
    except LookupError:
        return pd.DataFrame(columns=["chain", "products", "score", "tkm_per_t", "exposure"])
    return c[["chain", "products", "score", "tkm_per_t", "exposure"]]


_BASE: dict[tuple[str, str], pd.DataFrame] = {}


def _never_better(G, mineral, buyer, closed):
    if (mineral, buyer) not in _BASE:
        _BASE[(mineral, buyer)] = _scores(G, mineral, buyer, ())
    before = _BASE[(mineral, buyer)]
    after = _scores(G, mineral, buyer, closed)
    merged = before.merge(after, on=["chain", "products"], suffixes=("", "_after"))
    assert len(merged) == len(after), "a closure added a chain"
    assert (merged["score_after"] >= merged["score"] - 1e-12).all()
    assert (merged["exposure_after"] >= merged["exposure"] - 1e-12).all()
    assert (merged["tkm_per_t_after"] >= merged["tkm_per_t"] - 1e-6).all()


@pytest.mark.parametrize(
    "name", ["red-sea-closure", "malacca-closure", "hormuz-closure", "taiwan-strait-closure"]
)
@pytest.mark.parametrize("mineral", ["rare_earths", "lithium", "graphite"])
def test_builtin_closures_never_make_an_option_better(G, name, mineral):
    closed = gs.scenarios.BUILTIN_SCENARIOS[name].closed_passages
    for buyer in ("IND", "DEU", "JPN"):
        _never_better(G, mineral, buyer, closed)


_PASSAGES = [
    "suez",
    "bab_el_mandeb",
    "malacca",
    "hormuz",
    "panama",
    "taiwan_strait",
    "gibraltar",
    "cape_of_good_hope",
    "lombok",
    "sunda",
    "bosporus",
    "danish_straits",
]


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.sampled_from(_PASSAGES), min_size=1, max_size=4, unique=True),
    st.sampled_from(["rare_earths", "lithium", "graphite", "gallium", "germanium"]),
    st.sampled_from(["IND", "USA", "JPN", "DEU", "KOR"]),
)
def test_random_closures_never_make_an_option_better(G, closed, mineral, buyer):
    valid = set(gs.routing.check_passages(G, [p for p in closed if p in _valid(G)]))
    if valid:
        _never_better(G, mineral, buyer, sorted(valid))


def _valid(G):
    return set(G.graph["layers"].chokepoints["id"])


def test_a_passage_typo_fails_in_every_entry_point(G):
    msg = "'suezz' is not a passage. Did you mean 'suez'"
    with pytest.raises(ValueError, match=msg):
        gs.shortest_path(G, "port:CNSHA", "port:NLRTM", closed_passages=["suezz"])
    with pytest.raises(ValueError, match=msg):
        gs.route_matrix(G, ["port:CNSHA"], ["port:NLRTM"], closed_passages=["suezz"])
    with pytest.raises(ValueError, match=msg):
        gs.sourcing_paths(G, "lithium", "IND", closed_passages=["suezz"])
    with pytest.raises(ValueError, match="malaca"):
        gs.sourcing_paths(G, "lithium", "IND", closed_passages=["malaca"])
    with pytest.raises(ValueError, match=msg):
        gs.chains(G, "lithium", "IND", options=gs.ChainOptions(closed=("suezz",)))

"""Routing and ranking by an objective: distance, landed cost, days, CO2e or a mix.

The small graphs here are synthetic (hand-built to give known answers); the rest runs on the
bundled layers.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import geosource as gs
from geosource.cli import run
from geosource.objectives import (
    OBJECTIVE_COLUMNS,
    edge_weight,
    parse_objective,
    references,
    transport_term,
)
from geosource.routing import EdgeCost, clear_routing_cache
from geosource.transport import TransportParams

AS_OF = "2026-12-01"


def _canal_graph() -> nx.MultiDiGraph:
    """Synthetic: a mine 100 km by land from port P; from P's sea node two ways to Q's sea
    node, 1,000 km through a two-edge canal or a 1,500 km detour; Q is 50 km by land from a
    buyer. Port access edges are 10 km each."""
    G = nx.MultiDiGraph()
    kinds = {
        "facility:A": "facility",
        "port:P": "port",
        "sea:a": "sea",
        "sea:c1": "sea",
        "sea:c2": "sea",
        "sea:d": "sea",
        "sea:b": "sea",
        "port:Q": "port",
        "demand:B": "demand",
    }
    for n, k in kinds.items():
        G.add_node(n, kind=k)

    def both(u: str, v: str, km: float, mode: str, passage: str = "") -> None:
        G.add_edge(u, v, length_km=km, mode=mode, passage=passage)
        G.add_edge(v, u, length_km=km, mode=mode, passage=passage)

    both("facility:A", "port:P", 100, "land")
    both("port:P", "sea:a", 10, "sea")
    both("sea:a", "sea:c1", 200, "sea")
    both("sea:c1", "sea:c2", 300, "sea", "canal")  # the canal is two edges long
    both("sea:c2", "sea:b", 500, "sea")
    both("sea:a", "sea:d", 700, "sea")
    both("sea:d", "sea:b", 800, "sea")
    both("sea:b", "port:Q", 10, "sea")
    both("port:Q", "demand:B", 50, "land")
    return G


def _cost(toll: float) -> EdgeCost:
    return EdgeCost(
        f"toll={toll}",
        per_km=(("land", 0.1), ("sea", 0.01)),
        port_call=5.0,
        per_passage=(("canal", toll),),
    )


def _one(G: nx.MultiDiGraph, weight) -> tuple[float, list[str]]:
    clear_routing_cache(G)
    m = gs.route_matrix(G, ["facility:A"], ["demand:B"], weight=weight)
    return float(m.distances[0, 0]), m.path("facility:A", "demand:B")


@pytest.mark.parametrize(
    ("toll", "expected", "via"),
    [
        # land 150 km x 0.1 = 15; port access 20 km x 0.01 = 0.2; two port calls = 10;
        # canal: 1,000 km x 0.01 = 10 + toll; detour 1,500 km x 0.01 = 15
        (4.0, 15 + 0.2 + 10 + 10 + 4.0, "sea:c1"),
        (4.9, 15 + 0.2 + 10 + 10 + 4.9, "sea:c1"),
        (5.1, 15 + 0.2 + 10 + 15, "sea:d"),
        (20.0, 15 + 0.2 + 10 + 15, "sea:d"),
    ],
)
def test_a_toll_is_paid_or_avoided_by_hand(toll, expected, via):
    G = _canal_graph()
    value, path = _one(G, _cost(toll))
    assert value == pytest.approx(expected, abs=1e-9)
    assert via in path
    # distance always takes the canal: 100 + 10 + 1,000 + 10 + 50
    km, path = _one(G, "length_km")
    assert km == pytest.approx(1170.0) and "sea:c1" in path


def test_a_passage_is_charged_once_per_crossing_whatever_its_length():
    G = _canal_graph()
    cheap, _ = _one(G, _cost(1.0))
    dear, _ = _one(G, _cost(2.0))
    # the canal has two edges; the toll is charged on the one that enters it, once
    assert dear - cheap == pytest.approx(1.0, abs=1e-9)


def test_port_calls_are_two_per_sea_leg():
    G = _canal_graph()
    without = EdgeCost("a", per_km=(("land", 0.1), ("sea", 0.01)))
    with_calls = EdgeCost("b", per_km=(("land", 0.1), ("sea", 0.01)), port_call=3.0)
    assert _one(G, with_calls)[0] - _one(G, without)[0] == pytest.approx(6.0)


def test_parse_objective_and_weights():
    assert parse_objective("days") == (("days", 1.0),)
    assert parse_objective("cost:3, co2e:1") == (("co2e", 0.25), ("cost", 0.75))
    assert parse_objective({"cost": 1, "days": 0}) == (("cost", 1.0),)
    w = gs.Weights(objective={"days": 1, "cost": 1})
    assert w.objectives == (("cost", 0.5), ("days", 0.5))
    assert gs.Weights(objective="cost:1,days:1").objectives == w.objectives
    assert gs.Weights().objectives == (("distance", 1.0),), "the documented default"
    for bad, text in [
        ("speed", "'speed' is not one of: distance, cost, days, co2e"),
        ({"cost": -1}, "must be finite and >= 0"),
        ({"cost": 0}, "gives every quantity weight 0"),
        ("cost:x", "weight 'x' is not a number"),
        ("cost days", "is not one of"),
    ]:
        with pytest.raises(ValueError, match=text):
            gs.Weights(objective=bad)


def test_transport_term_of_a_mix_by_hand():
    refs = {"cost": 100.0, "days": 50.0}
    f = pd.DataFrame({"cost_usd_per_t": [100.0, 300.0], "days": [0.0, 50.0]})
    got = transport_term(f, parse_objective("cost:3,days:1"), refs)
    # row 0: 0.75 * 100/200 + 0.25 * 0 = 0.375; row 1: 0.75 * 300/400 + 0.25 * 50/100 = 0.6875
    np.testing.assert_allclose(got, [0.375, 0.6875])


def test_a_mix_routes_each_leg_by_its_linear_form():
    p = TransportParams.bundled()
    refs = references(p)
    mix = edge_weight(parse_objective("cost:1,days:1"), "lithium_carbonate", p, refs=refs)
    cost = edge_weight(parse_objective("cost"), "lithium_carbonate", p)
    days = edge_weight(parse_objective("days"), "lithium_carbonate", p)
    assert isinstance(mix, EdgeCost) and isinstance(cost, EdgeCost) and isinstance(days, EdgeCost)
    for mode in ("sea", "land"):
        expected = (
            0.5 * cost.per_km_of(mode) / refs["cost"] + 0.5 * days.per_km_of(mode) / refs["days"]
        )
        assert mix.per_km_of(mode) == pytest.approx(expected)
    assert mix.port_call == pytest.approx(
        0.5 * cost.port_call / refs["cost"] + 0.5 * days.port_call / refs["days"]
    )
    # one circumference by container ship is the half-point of every term
    assert refs["days"] == pytest.approx(40_075.017 / p.speed("sea", "container"))


@pytest.fixture(scope="module")
def by_objective(G):
    return {
        obj: gs.sourcing_paths(
            G, "lithium", "IND", k=None, as_of=AS_OF, weights=gs.Weights(objective=obj)
        )
        for obj in ("distance", "cost", "days", "co2e")
    }


@pytest.mark.parametrize("objective", ["cost", "days", "co2e"])
def test_what_ranks_an_option_is_what_chose_its_route(G, by_objective, objective):
    column = OBJECTIVE_COLUMNS[objective]
    w = gs.Weights(objective=objective)
    # the chain's routed total (sum of what each leg's route minimised) is the priced total
    chains = gs.chains(G, "lithium", "IND", as_of=AS_OF, weights=w)
    assert len(chains) >= 5
    np.testing.assert_allclose(chains["objective_value"], chains[column], rtol=1e-9)
    # and the score ranks by that total: score = combine(x / (x + ref), exposure)
    paths = by_objective[objective]
    assert paths.attrs["objective"]["objective"] == objective
    assert (paths[column] > 0).all()
    refs = references(TransportParams.bundled())
    term = paths[column] / (paths[column] + refs[objective])
    expected = (w.distance * term + w.exposure * paths["exposure"]) / (w.distance + w.exposure)
    np.testing.assert_allclose(paths["score"], expected, rtol=1e-9)


def _key(frame: pd.DataFrame) -> pd.Series:
    return frame["chain_countries"].astype(str) + "|" + frame["demand_id"].astype(str)


@pytest.mark.parametrize("objective", ["cost", "days", "co2e"])
def test_routing_by_an_objective_never_does_worse_on_it_than_routing_by_km(by_objective, objective):
    column = OBJECTIVE_COLUMNS[objective]
    km = by_objective["distance"].assign(key=lambda f: _key(f)).set_index("key")
    obj = by_objective[objective].assign(key=lambda f: _key(f)).set_index("key")
    shared = km.index.intersection(obj.index)
    shared = [k for k in shared if (km.loc[[k]].shape[0] == 1 and obj.loc[[k]].shape[0] == 1)]
    same_sites = [
        k
        for k in shared
        if km.at[k, "mine_id"] == obj.at[k, "mine_id"]
        and km.at[k, "plant_id"] == obj.at[k, "plant_id"]
    ]
    assert len(same_sites) >= 3
    for k in same_sites:
        assert obj.at[k, column] <= km.at[k, column] * (1 + 1e-9), k
    # and the km-routed option is never shorter by the objective's own route choice
    for k in same_sites:
        assert km.at[k, "distance_km"] <= obj.at[k, "distance_km"] * (1 + 1e-9), k


def test_magnets_fly_only_when_days_rank(G):
    flown = {}
    for objective in ("distance", "cost", "days", "co2e"):
        paths = gs.sourcing_paths(
            G,
            "rare_earths",
            "USA",
            k=None,
            as_of=AS_OF,
            product="ndfeb_magnet",
            weights=gs.Weights(objective=objective),
        )
        assert len(paths), objective
        flown[objective] = float((paths["air_km"] > 0).mean())
    # air freight costs and emits far more per t-km than sea; it wins on time, and on km
    # (a great circle beats any sea lane), never on cost or CO2e
    assert flown["cost"] == 0.0 and flown["co2e"] == 0.0
    assert flown["days"] > 0.5 and flown["distance"] > 0.5


def _same_sites(diff: pd.DataFrame) -> pd.Series:
    same = pd.Series(True, index=diff.index)
    for role in ("mine", "plant", "demand"):
        a, b = diff[f"{role}_id_base"], diff[f"{role}_id_scenario"]
        same &= (a == b) | (a.isna() & b.isna())
    return same


OWN = {"distance": "delta_km", "cost": "delta_cost_usd_per_t", "days": "delta_days"}


@pytest.mark.parametrize("objective", ["distance", "cost", "days"])
@pytest.mark.parametrize("mineral", ["lithium", "rare_earths"])
def test_a_red_sea_closure_raises_cost_and_days_asia_europe_and_lowers_none(G, mineral, objective):
    w = gs.Weights(objective=objective)
    base = gs.sourcing_paths(G, mineral, "DEU", k=None, as_of=AS_OF, weights=w)
    after = gs.apply_scenario(G, None, "red-sea-closure").sourcing_paths(
        mineral, "DEU", k=None, as_of=AS_OF, weights=w
    )
    diff = gs.compare(base, after, name="red-sea-closure")
    matched = diff[diff["status"].isin(["changed", "unchanged"])]
    same = matched[_same_sites(matched)]
    assert len(same) >= 5
    # what the routes minimise never falls when a passage closes
    assert (same[OWN[objective]] >= -1e-9).all(), same[OWN[objective]].min()
    # an option that switched sites says so instead of passing as the same one made cheaper
    switched = matched.drop(same.index)
    assert switched["reason"].str.contains(r"(?:mine|plant|demand) \S+ -> ", regex=True).all()
    # Asia -> Europe: the delivery leg came through Suez; the Cape costs more and takes longer
    via_suez = base[base["leg_passages"].map(lambda legs: "suez" in str(legs[-1]).split(";"))]
    keys = set(zip(via_suez["chain_countries"], via_suez["plant_id"], strict=True))
    asia_europe = same[
        [
            (c, p) in keys
            for c, p in zip(same["chain_countries"], same["plant_id_base"], strict=True)
        ]
    ]
    assert len(asia_europe) >= 2
    assert (asia_europe["delta_cost_usd_per_t"] > 1.0).all()
    assert (asia_europe["delta_days"] > 0.5).all()
    assert asia_europe["passages_scenario"].fillna("").map(lambda s: "suez" not in s).all()
    verdict = diff.attrs["verdicts"][f"{mineral} → DEU"]
    assert "USD/t" in verdict and "days" in verdict


def test_scenario_transport_table_is_validated():
    with pytest.raises(ValueError, match="remove 'name'"):
        gs.Scenario(name="x", transport={"name": "y"})
    with pytest.raises(ValueError, match="suez"):
        gs.Scenario(name="x", transport={"added_days": {"suez": -3}})
    ok = gs.Scenario(name="x", transport={"added_days": {"suez": 3}})
    assert ok.disruption is not None and ok.disruption.added_days == {"suez": 3}


def test_cli_objective_flag(capsys):
    assert run(["paths", "-m", "lithium", "-t", "IND", "--objective", "cost"]) == 0
    out = capsys.readouterr().out
    assert "cost_usd_per_t" in out or "USD/t" in out
    assert run(["paths", "-m", "lithium", "-t", "IND", "--objective", "speed"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "speed" in err[0] and "distance, cost, days, co2e" in err[0]
    assert "Traceback" not in err[0]


def test_objective_references_are_finite():
    refs = references(TransportParams.bundled())
    assert all(math.isfinite(v) and v > 0 for v in refs.values())

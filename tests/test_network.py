"""The route graph built from the bundled layers and searoute's MARNET."""

from __future__ import annotations

import collections

import pytest
from geopandas.testing import assert_geodataframe_equal

import geosource as gs


def test_nodes_and_edges_carry_their_attributes(G, layers):
    kinds = collections.Counter(d["kind"] for _, d in G.nodes(data=True))
    assert kinds["facility"] == len(layers.facilities)
    assert kinds["demand"] == len(layers.demand_centres)
    assert kinds["airport"] == len(layers.airports)
    assert kinds["port"] > 3000 and kinds["sea"] > 5000
    assert G.graph["crs"] == "EPSG:4326"
    for _, d in G.nodes(data=True):
        assert -180 <= d["lon"] < 180 and -90 <= d["lat"] <= 90
    modes = collections.Counter()
    for u, v, d in G.edges(data=True):
        modes[d["mode"]] += 1
        assert d["length_km"] > 0
        assert d["estimate"] == (d["mode"] == "land")
        assert G.has_edge(v, u), "every leg can be travelled both ways"
    assert set(modes) == {"sea", "land", "air"}


def test_antimeridian_nodes_are_merged(G):
    """MARNET stores the ±180° meridian twice (and some nodes beyond 180°); wrapped and merged,
    no two sea nodes share a position and a trans-Pacific route is the short way round."""
    seen = {}
    for n, d in G.nodes(data=True):
        if d["kind"] == "sea":
            key = (round(d["lon"], 6), round(d["lat"], 6))
            assert key not in seen, (n, seen.get(key))
            seen[key] = n
    assert G.graph["sea_nodes_merged"] > 0
    r = gs.shortest_path(G, "port:CNSHA", "port:USLAX")
    assert 10_000 < r.length_km < 11_500  # great circle ~10,450 km
    assert gs.shortest_path(G, "port:AUBNE", "port:USSEA").length_km < 13_000


def test_northwest_passage_closed_by_default(G):
    assert "northwest" in G.graph["closed_passages"]
    assert not any(d.get("searoute_passage") == "northwest" for *_, d in G.edges(data=True))


def test_every_chokepoint_tags_sea_edges(G, layers):
    tagged = collections.Counter()
    for *_, d in G.edges(data=True):
        for p in (d["passage"] or "").split(";"):
            if p:
                tagged[p] += 1
    assert set(layers.chokepoints["id"]) <= set(tagged), set(layers.chokepoints["id"]) - set(tagged)


def test_documented_export_ports_are_used(G, layers):
    fac = layers.facilities.dropna(subset=["export_port"])
    assert len(fac) >= 10
    for rec in fac.to_dict("records"):
        nbrs = {
            v
            for v in G.successors(gs.node_id("facility", rec["id"]))
            if G.nodes[v]["kind"] == "port"
        }
        assert nbrs == {gs.node_id("port", rec["export_port"])}, rec["id"]


def test_land_corridor_links_myanmar_to_china(G, layers):
    mmr = layers.facilities[layers.facilities["country"] == "MMR"]
    assert len(mmr)
    a = gs.node_id("facility", mmr["id"].iloc[0])
    chinese = {v for v in G.successors(a) if G.nodes[v].get("country") == "CHN"}
    assert chinese, "Kachin concentrate reaches Chinese separation plants by land"


def test_graph_gdfs_round_trip(G):
    nodes, edges = gs.graph_to_gdfs(G)
    H = gs.graph_from_gdfs(nodes, edges)
    assert H.number_of_nodes() == G.number_of_nodes()
    assert H.number_of_edges() == G.number_of_edges()
    nodes2, edges2 = gs.graph_to_gdfs(H)
    assert_geodataframe_equal(nodes, nodes2)
    assert_geodataframe_equal(edges, edges2)


def test_saved_graph_routes_identically(G, tmp_path):
    H = gs.load_graph(gs.save_graph(G, tmp_path / "graph.gpkg"))
    assert H.graph["closed_passages"] == G.graph["closed_passages"]
    for a, b in [("facility:li-greenbushes", "port:INMAA"), ("port:CLANF", "port:KRPUS")]:
        assert gs.shortest_path(H, a, b).nodes == gs.shortest_path(G, a, b).nodes


def test_closing_a_passage_at_build_removes_it(layers):
    H = gs.graph_from_layers(layers, closed_passages=("northwest", "suez"))
    assert not any("suez" in (d["passage"] or "") for *_, d in H.edges(data=True))
    r = gs.shortest_path(H, "port:CNSHA", "port:NLRTM")
    assert "suez" not in r.passages


def test_options_are_validated():
    with pytest.raises(ValueError, match="circuity must be at least 1"):
        gs.NetworkOptions(circuity=0.5)

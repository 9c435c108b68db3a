"""Maps through folium object state and rendered HTML: content, safety, determinism, size."""

from __future__ import annotations

import re

import pytest

import geosource as gs

NASTY = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(2)</script>",
    "`${alert(3)}`",
    "\\u0027); alert(4); //",
]


@pytest.fixture(scope="module")
def paths(G):
    return gs.sourcing_paths(G, ["lithium", "rare_earths"], ["IND", "USA"], k=4, as_of="2025-06-30")


def poisoned(paths, layers):
    """The same results and layers with names, reasons and notes replaced by SYNTHETIC attack
    strings (tests only)."""
    p = paths.copy()
    for i, col in enumerate(
        [
            "mine",
            "plant",
            "demand",
            "reasons",
            "alignment_reason",
            "export_controls_reason",
            "query",
        ]
    ):
        p[col] = [f"{NASTY[(i + j) % len(NASTY)]} {v}" for j, v in enumerate(p[col])]
    fac = layers.facilities.copy()
    fac["name"] = [f"{NASTY[j % len(NASTY)]} {v}" for j, v in enumerate(fac["name"])]
    fac["operator"] = NASTY[1]
    dem = layers.demand_centres.copy()
    dem["name"] = NASTY[2] + " " + dem["name"]
    return p, layers.replace(facilities=fac, demand_centres=dem)


def test_paths_map_content(paths, layers):
    m = gs.map_paths(paths, layers)
    page = m.get_root().render()
    assert page.count('"gs-path gs-rank-') == len(paths)
    assert page.count('"gs-pareto"') == int(paths["pareto"].sum())
    assert "as of 2025-06-30" in page
    assert "Weights: distance 0.4, exposure 0.6" in page
    assert "Sources." in page and "USGS Mineral Commodity Summaries 2025" in page
    assert "Score (lower is better)" in page
    assert "L.control.layers" in page
    # only Leaflet is loaded: no jQuery, Bootstrap or icon fonts to fetch
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == [gs.maps.LEAFLET_JS]
    # best option drawn thicker than the rest of its group
    best = re.search(r'"className": "gs-path gs-rank-1"[^}]*"weight": (\d+)', page)
    rest = re.search(r'"className": "gs-path gs-rank-2"[^}]*"weight": (\d+)', page)
    assert best is not None and rest is not None and int(best.group(1)) > int(rest.group(1))


def test_layers_map_groups(layers):
    m = gs.map_layers(layers, mineral="rare_earths")
    page = m.get_root().render()
    fac = layers.facilities[layers.facilities["mineral"] == "rare_earths"]
    assert page.count("gs-marker gs-facility") == len(fac)
    assert page.count("gs-marker gs-chokepoint") == len(layers.chokepoints)
    assert page.count("gs-marker gs-demand") == len(layers.demand_centres)
    assert "World production share" in page
    for stage in sorted(set(fac["stage"])):
        assert f"Rare earths: {stage} (" in page


def test_same_inputs_same_bytes(tmp_path, paths, layers):
    a = tmp_path / "a.html"
    b = tmp_path / "b.html"
    gs.map_paths(paths, layers).save(str(a))
    gs.map_paths(paths, layers).save(str(b))
    assert a.read_bytes() == b.read_bytes()
    c = tmp_path / "c.html"
    d = tmp_path / "d.html"
    gs.map_layers(layers, "lithium").save(str(c))
    gs.map_layers(layers, "lithium").save(str(d))
    assert c.read_bytes() == d.read_bytes()
    assert not re.search(r"_[0-9a-f]{32}\b", a.read_text()), "no random folium ids"


def test_maps_stay_small(tmp_path, G, layers):
    every = gs.sourcing_paths(
        G, ["lithium", "rare_earths", "graphite"], ["IND", "USA", "DEU"], k=5, as_of="2025-06-30"
    )
    out = tmp_path / "m.html"
    gs.map_paths(every, layers).save(str(out))
    assert out.stat().st_size < 2_000_000
    gs.map_layers(layers, "graphite").save(str(out))
    assert out.stat().st_size < 2_000_000


def test_coordinates_rounded(paths):
    page = gs.map_paths(paths).get_root().render()
    decimals = [len(x) for x in re.findall(r"\[-?\d+\.(\d+), -?\d+\.\d+\]", page)]
    assert decimals and max(decimals) <= 5


def test_data_strings_are_escaped(paths, layers):
    p, lay = poisoned(paths, layers)
    for m in (gs.map_paths(p, lay), gs.map_layers(lay, "lithium")):
        page = m.get_root().render()
        for attack in (
            "<script>alert(1)</script>",
            "<img src=x onerror",
            "${alert(3)}",
            "</script><script>alert(2)",
        ):
            assert attack not in page, attack
        assert page.count("<script") == page.count("</script>")


def test_compare_map(G, layers):
    base = gs.sourcing_paths(G, "rare_earths", "IND", k=None, as_of="2025-06-30")
    after = gs.apply_scenario(G, None, "no-feoc").sourcing_paths(
        "rare_earths", "IND", k=None, as_of="2025-06-30"
    )
    page = gs.map_compare(gs.compare(base, after, name="no-feoc"), base, after).get_root().render()
    feoc = {"CHN", "RUS", "IRN", "PRK"}
    through_feoc = base["chain_countries"].map(lambda cs: bool(feoc & set(cs)))
    assert through_feoc.any()
    lost = (~base["chain_countries"].isin(set(after["chain_countries"]))).sum()
    assert lost >= through_feoc.sum()
    assert page.count("gs-base gs-lost") == lost
    assert "rare_earths → IND: best option unchanged" in page


def test_static_images(tmp_path, paths, layers):
    png = gs.save_map_png(paths, layers, tmp_path / "map.png")
    chart = gs.pareto_chart(paths[paths["mineral"] == "lithium"], tmp_path / "pareto.png")
    for f in (png, chart):
        data = f.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_empty_frame_is_an_error():
    with pytest.raises(ValueError, match="no options to draw"):
        gs.map_paths(gs.sourcing.gpd.GeoDataFrame({"geometry": []}, crs="EPSG:4326"))


def test_vendored_leaflet_matches_the_linked_version():
    from importlib.resources import files

    base = files("geosource") / "_vendor" / "leaflet"
    version = gs.maps.LEAFLET_JS.split("leaflet@")[1].split("/")[0]
    assert f'version="{version}"' in (base / "leaflet.js").read_text(encoding="utf-8")
    assert "BSD 2-Clause" in (base / "LICENSE").read_text(encoding="utf-8")
    assert f"leaflet@{version}" in (base / "VENDORED.md").read_text(encoding="utf-8")


def test_self_contained_map_inlines_leaflet(paths, layers):
    page = gs.map_paths(paths, layers, self_contained=True).get_root().render()
    assert "<script src=" not in page and "<link" not in page
    assert "url(images/" not in page and "data:image/png;base64," in page
    assert page.count("<script") == page.count("</script>")

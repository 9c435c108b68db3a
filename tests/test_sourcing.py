"""Sourcing paths: golden cases on the bundled data, dated export controls, properties."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geosource as gs
from geosource.exposure import COMPONENTS

MINERALS = ["lithium", "rare_earths", "graphite", "gallium", "germanium"]
BUYERS = ["IND", "USA", "JPN", "KOR", "DEU"]
SLOW = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_columns_and_explanations(G):
    paths = gs.sourcing_paths(G, "lithium", "IND", k=5, as_of="2025-06-30")
    assert list(paths.columns) == list(gs.sourcing.OPTION_COLUMNS)
    assert list(paths["rank"]) == [1, 2, 3, 4, 5]
    assert paths["score"].is_monotonic_increasing
    assert paths.crs.to_string() == "EPSG:4326"
    for rec in paths.to_dict("records"):
        assert rec["reasons"] and all(rec[f"{c}_reason"] for c in COMPONENTS)
        assert rec["distance_km"] == pytest.approx(rec["sea_km"] + rec["land_km"] + rec["air_km"])
        assert rec["geometry"].geom_type == "MultiLineString"
    assert paths.attrs["weights"] == gs.Weights().to_dict()


def test_options_are_distinct(G):
    paths = gs.sourcing_paths(G, "rare_earths", "IND", k=None, as_of="2025-06-30")
    key = paths[["chain_countries", "passages"]].apply(tuple, axis=1)
    assert key.is_unique
    assert paths.attrs["options"]["rare_earths"]["IND"] == len(paths)


def test_gallium_to_us_best_option_is_not_chinese(G):
    """China refines ~99% of primary gallium (USGS MCS 2025) and, on 2025-06-30, bans its export
    to the US (MOFCOM No. 46 of 2024, clause 2, not yet suspended). A non-Chinese recovery plant,
    however small, must rank first for a US buyer."""
    paths = gs.sourcing_paths(G, "gallium", "USA", k=None, as_of="2025-06-30", include_blocked=True)
    assert paths.iloc[0]["plant_country"] != "CHN"
    chinese = paths[paths["plant_country"] == "CHN"]
    assert len(chinese) and (chinese["export_controls"] == 1.0).all()
    assert (chinese["blocked"] != "").all()


def test_rare_earths_to_india_include_non_chinese_separation(G):
    """Lynas (Mount Weld, Australia) separates in Kalgoorlie and Malaysia; Africa's projects are
    in development. The ranked list for India must hold an Australian or African mine with
    non-Chinese separation."""
    paths = gs.sourcing_paths(
        G, "rare_earths", "IND", k=10, as_of="2025-06-30", include_development=True
    )
    african = {"MWI", "TZA", "AGO", "ZAF", "UGA", "NAM", "MDG", "KEN", "BDI"}
    hit = paths[paths["mine_country"].isin(african | {"AUS"}) & (paths["plant_country"] != "CHN")]
    assert len(hit)


def test_lithium_to_india_pareto_has_short_and_safe(G):
    """The Pareto front must offer a choice: a shorter but more exposed option and a longer but
    less exposed one (otherwise one option would dominate and there would be nothing to weigh)."""
    paths = gs.sourcing_paths(G, "lithium", "IND", k=None, as_of="2025-06-30")
    front = paths[paths["pareto"]].sort_values("tkm_per_t")
    assert len(front) >= 1
    # along the front, exposure falls as tonne-km rise
    assert front["exposure"].is_monotonic_decreasing
    # and nothing outside the front beats a front member on both axes
    for rec in paths[~paths["pareto"]].to_dict("records"):
        beaten = front[
            (front["tkm_per_t"] <= rec["tkm_per_t"]) & (front["exposure"] <= rec["exposure"])
        ]
        assert len(beaten)


@pytest.mark.parametrize("mineral", ["gallium", "germanium"])
def test_suspension_of_announcement_46_ends_on_27_november_2026(G, mineral, layers):
    """MOFCOM No. 72 of 2025 suspends No. 46's clause 2 (ban on Ga/Ge exports to the US) until
    2026-11-27: on 2026-11-01 only the 2023 licensing binds; on 2026-12-01 the ban is back."""
    kw = {"k": None, "include_development": True, "include_blocked": True}
    before = gs.sourcing_paths(G, mineral, "USA", as_of="2026-11-01", **kw)
    after = gs.sourcing_paths(G, mineral, "USA", as_of="2026-12-01", **kw)
    cn_before = before[before["plant_country"] == "CHN"]
    cn_after = after[after["plant_country"] == "CHN"]
    assert len(cn_before) and len(cn_after)
    assert (cn_before["export_controls"] == 0.6).all()
    assert (cn_before["blocked"] == "").all()
    assert (cn_after["export_controls"] == 1.0).all()
    assert cn_after["blocked"].str.contains("chn-2024-no46-usa-ga-ge-sb-ban").all()
    assert cn_before["export_controls_reason"].str.contains("suspended by").all()
    # non-Chinese options are untouched
    other = ["chain", "export_controls", "score"]

    def outside_china(frame):
        return frame[~frame["chain_countries"].map(lambda c: "CHN" in c)][other]

    pd.testing.assert_frame_equal(
        outside_china(before).reset_index(drop=True), outside_china(after).reset_index(drop=True)
    )


def test_batch_equals_single_queries(G):
    batch = gs.sourcing_paths(
        G, ["lithium", "graphite"], ["IND", "jpn-aichi"], k=3, as_of="2025-06-30"
    )
    for (mineral, query), part in batch.groupby(["mineral", "query"], sort=False):
        single = gs.sourcing_paths(G, mineral, query, k=3, as_of="2025-06-30")
        pd.testing.assert_frame_equal(
            part.reset_index(drop=True).drop(columns="geometry"), single.drop(columns="geometry")
        )


@SLOW
@given(
    st.sampled_from(MINERALS),
    st.sampled_from(BUYERS),
    st.sampled_from(["2024-06-30", "2025-06-30", "2026-11-01", "2026-12-01"]),
    st.builds(gs.Weights, **{n: st.floats(0.05, 5) for n in ("distance", "exposure", *COMPONENTS)}),
)
def test_components_and_totals_in_unit_interval(G, mineral, buyer, as_of, weights):
    paths = gs.sourcing_paths(
        G, mineral, buyer, k=None, as_of=as_of, weights=weights, include_development=True
    )
    values = paths[["exposure", "score", *COMPONENTS]].to_numpy(dtype=float)
    assert np.isfinite(values).all()
    assert ((values >= 0) & (values <= 1)).all()


@SLOW
@given(
    st.sampled_from(MINERALS),
    st.sampled_from(BUYERS),
    st.floats(0.01, 100),
    st.builds(gs.Weights, **{n: st.floats(0.05, 5) for n in ("distance", "exposure", *COMPONENTS)}),
)
def test_scaling_all_weights_keeps_the_ranking(G, mineral, buyer, factor, weights):
    scaled = gs.Weights(
        **{k: v * factor if k != "objective" else v for k, v in weights.to_dict().items()}
    )
    a = gs.sourcing_paths(G, mineral, buyer, k=None, as_of="2025-06-30", weights=weights)
    b = gs.sourcing_paths(G, mineral, buyer, k=None, as_of="2025-06-30", weights=scaled)
    ids = ["mine_country", "plant_country", "passages"]
    assert a[ids].equals(b[ids])
    np.testing.assert_allclose(a["score"], b["score"], rtol=1e-9, atol=1e-12)


@SLOW
@given(
    st.sampled_from(["lithium", "rare_earths", "graphite"]),
    st.sampled_from(BUYERS),
    st.sampled_from(
        [
            "suez",
            "malacca",
            "bab_el_mandeb",
            "panama",
            "cape_of_good_hope",
            "taiwan_strait",
            "hormuz",
            "lombok",
        ]
    ),
)
def test_closing_a_passage_never_shortens_any_option(G, mineral, buyer, passage):
    kw = {"k": None, "as_of": "2025-06-30", "distinct": "facilities"}
    base = gs.sourcing_paths(G, mineral, buyer, **kw)
    closed = gs.sourcing_paths(G, mineral, buyer, closed_passages=[passage], **kw)
    assert not closed["passages"].str.split(";").map(lambda ps: passage in ps).any()
    # every chain still open is the same chain, never shorter
    assert set(closed["chain"]) <= set(base["chain"])
    merged = base.merge(closed, on=["chain", "products"], suffixes=("", "_closed"))
    assert len(merged) == len(closed)
    assert (merged["distance_km_closed"] >= merged["distance_km"] - 1e-6).all()
    # the best option of the whole query cannot improve on distance either
    assert closed["distance_km"].min() >= base["distance_km"].min() - 1e-6


@SLOW
@given(
    st.sampled_from(["AUS", "CHN", "USA", "ZAF", "CAN", "JPN", "KOR", "BRA", "CHL"]),
    st.sampled_from(MINERALS),
    st.sampled_from(["ban", "licence", "quota"]),
    st.sampled_from(BUYERS),
)
def test_adding_a_measure_never_lowers_export_controls(layers, exporter, mineral, measure, buyer):
    """A SYNTHETIC measure (test-only, not a real one) added to the bundled measures."""
    extra = pd.DataFrame(
        [
            {
                "id": "test-synthetic-measure",
                "country": exporter,
                "minerals": mineral,
                "products": "synthetic test measure",
                "stage": "all",
                "measure": measure,
                "targets": "all",
                "announced": "2020-01-01",
                "effective": "2020-01-01",
                "ends": None,
                "suspends": None,
                "scope": "all",
                "source": "synthetic test row",
                "notes": None,
            }
        ]
    )
    controls = pd.concat([layers.export_controls, extra], ignore_index=True)
    report = gs.validate_layer(controls, "export_controls")
    report.raise_if_invalid()
    more = layers.replace(export_controls=report.data)
    G = _graph(layers)
    kw = {
        "k": None,
        "as_of": "2025-06-30",
        "include_development": True,
        "distinct": "facilities",
        "include_blocked": True,
    }
    a = gs.sourcing_paths(G, mineral, buyer, **kw)
    b = gs.sourcing_paths(G, mineral, buyer, layers=more, **kw)
    merged = a.merge(b, on=["chain", "products", "demand_id"], suffixes=("", "_more"))
    assert len(merged) == len(a)
    assert len(merged)
    assert (merged["export_controls_more"] >= merged["export_controls"]).all()
    touched = merged[(merged["plant_country"] == exporter) & (exporter != buyer)]
    assert (touched["export_controls_more"] >= gs.ExposureParams().severity[measure]).all()


_GRAPHS: dict[int, object] = {}


def _graph(layers):
    if id(layers) not in _GRAPHS:
        _GRAPHS[id(layers)] = gs.graph_from_layers(layers)
    return _GRAPHS[id(layers)]


def test_row_order_of_the_layers_does_not_matter(G, layers):
    """Shuffle every layer's rows, rebuild the graph: the same options in the same order."""
    rng = np.random.default_rng(7)
    shuffled = layers.replace(
        **{
            name: frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
            for name, frame in layers
            if name
            in (
                "facilities",
                "demand_centres",
                "chokepoints",
                "countries",
                "export_controls",
                "production",
            )
        }
    )
    H = gs.graph_from_layers(shuffled)
    for mineral, buyer in [("rare_earths", "IND"), ("graphite", "USA"), ("gallium", "JPN")]:
        a = gs.sourcing_paths(G, mineral, buyer, k=None, as_of="2025-06-30")
        b = gs.sourcing_paths(H, mineral, buyer, k=None, as_of="2025-06-30")
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert a.geometry.equals(b.geometry)


def test_same_answer_under_different_hash_seeds(tmp_path):
    """Set and dict iteration order changes with PYTHONHASHSEED; the results must not."""
    script = textwrap.dedent("""
        import sys, geosource as gs
        G = gs.graph_from_layers(gs.load_layers())
        p = gs.sourcing_paths(G, ["lithium", "rare_earths"], ["IND", "USA"], k=None,
                              as_of="2025-06-30")
        p.drop(columns="geometry").to_csv(sys.argv[1], index=False)
    """)
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}.csv"
        subprocess.run(
            [sys.executable, "-c", script, str(out)],
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_supply_concentration_matches_the_layer(layers):
    prod = layers.production
    graphite = prod[(prod["mineral"] == "graphite") & (prod["stage"] == "mining")]
    newest = int(graphite.loc[graphite["country"] == "WLD", "year"].max())
    assert newest >= 2025, "the newest USGS edition is read"
    rows = graphite[graphite["year"] == newest]
    world = rows.loc[rows["country"] == "WLD", "quantity"].item()
    shares = rows[~rows["country"].isin(["WLD", "ROW"])].set_index("country")["quantity"] / world
    c = gs.supply_concentration(layers, "graphite", "mining")
    assert c["top_country"] == shares.idxmax() == "CHN"
    assert c["top_share"] == pytest.approx(shares.max())
    assert c["hhi"] == pytest.approx((shares**2).sum())
    assert 0 < c["hhi_wgi"] <= 10 * c["hhi"]


def test_unknown_inputs_are_named(G):
    with pytest.raises(ValueError, match="'Lithum' is not a known mineral"):
        gs.sourcing_paths(G, "Lithum", "IND")
    with pytest.raises(ValueError, match="'Indai' is not a country"):
        gs.sourcing_paths(G, "lithium", "Indai")
    with pytest.raises(ValueError, match="no demand centre in BRA"):
        gs.sourcing_paths(G, "lithium", "BRA")
    with pytest.raises(ValueError, match="unknown weight 'distnce'"):
        gs.sourcing_paths(G, "lithium", "IND", weights={"distnce": 1})
    with pytest.raises(ValueError, match="not a date"):
        gs.sourcing_paths(G, "lithium", "IND", as_of="June 2025")


def test_weights_validation(tmp_path):
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        gs.Weights(distance=-1)
    with pytest.raises(ValueError, match="cannot both be 0"):
        gs.Weights(distance=0, exposure=0)
    path = tmp_path / "w.toml"
    path.write_text("[weights]\nchokepoints = 3\nexport_controls = 2\n", encoding="utf-8")
    assert gs.Weights.read(path) == gs.Weights(chokepoints=3, export_controls=2)
    path.write_text("chokepoint = 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown weight 'chokepoint'; valid weights: distance"):
        gs.Weights.read(path)


def test_scoring_doc_concentration_table_is_current(layers):
    """docs/scoring.md quotes supply_concentration figures; they must match the code and data."""
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "scoring.md").read_text(encoding="utf-8")
    names = {
        "rare earths": "rare_earths",
        "graphite": "graphite",
        "gallium": "gallium",
        "lithium": "lithium",
    }
    rows = [
        line.split("|")[1:-1]
        for line in text.splitlines()
        if line.startswith("| ")
        and line.split("|")[1].strip() in names
        and line.split("|")[2].strip() in ("mining", "refining")
    ]
    assert len(rows) == 6
    for cells in rows:
        mineral, stage, top, share, hhi, hhi_wgi = (c.strip() for c in cells[:6])
        c = gs.supply_concentration(layers, names[mineral], stage)
        assert c["top_country"] == top
        assert f"{c['top_share']:.0%}" == share
        assert f"{c['hhi']:.2f}" == hhi
        assert f"{c['hhi_wgi']:.2f}" == hhi_wgi

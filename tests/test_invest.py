"""Diversification value of candidate projects: known answers on small synthetic layers, and
figures that are the difference of two world allocations on the bundled layers."""

from __future__ import annotations

import pandas as pd
import pytest

import geosource as gs
from geosource.cli import run
from geosource.world import with_unlisted

DAY = "2026-12-03"
BAN = "china-ree-export-ban"


# ---------------------------------------------------------------------------------------------
# synthetic layers (SYNTHETIC: real places, invented capacities and demand)


def _row(fac: pd.DataFrame, copy_of: str, **changes: object) -> dict[str, object]:
    rec = fac.set_index("id", drop=False).loc[copy_of].to_dict()
    rec.update(feeds=None, feeds_source=None, capacity_unit="t/y REO", capacity_estimate=False)
    rec.update(changes)
    return rec


@pytest.fixture(scope="module")
def synthetic(layers):
    """SYNTHETIC: a Chinese mine and separation plant, a Malaysian separation plant with no
    mine of its own, and two candidate mines: one in Australia whose concentrate Malaysia can
    separate, one in Malawi whose mixed carbonate only the Chinese plant takes. The USA wants
    1,000 t REO, China 5,000 t."""
    fac = layers.facilities
    rows = [
        _row(fac, "ree-maoniuping", id="syn-cn-mine", capacity=20000.0),
        _row(
            fac,
            "ree-cnre-baotou-huamei",
            id="syn-cn-plant",
            inputs="ree_concentrate;mixed_ree_carbonate",
            outputs="separated_oxide",
            capacity=20000.0,
        ),
        _row(
            fac,
            "ree-lynas-malaysia",
            id="syn-my-plant",
            inputs="ree_concentrate",
            capacity=3000.0,
            capacity_product="separated_oxide",
        ),
        _row(fac, "ree-mount-weld", id="syn-au-mine", status="development", capacity=1500.0),
        _row(fac, "ree-songwe-hill", id="syn-mw-mine", status="development", capacity=1500.0),
    ]
    facilities = gpd_frame(rows, fac)
    demand = layers.demand[
        (layers.demand["mineral"] == "rare_earths") & layers.demand["buyer"].isin(["USA", "CHN"])
    ].copy()
    demand["demand_t"] = demand["buyer"].map({"USA": 1000.0, "CHN": 5000.0})
    demand["unit"] = "t REO"
    lay = layers.replace(
        facilities=facilities,
        demand=demand,
        production=layers.production.iloc[0:0],
        offtakes=layers.offtakes.iloc[0:0],
    )
    return gs.graph_from_layers(lay)


def gpd_frame(rows: list[dict[str, object]], like: pd.DataFrame) -> pd.DataFrame:
    import geopandas as gpd

    return gpd.GeoDataFrame(rows, geometry="geometry", crs=like.crs)[list(like.columns)]


@pytest.fixture(scope="module")
def synthetic_value(synthetic):
    return gs.project_value(
        synthetic,
        ["syn-mw-mine", "syn-au-mine"],
        buyers=["USA"],
        mineral="rare_earths",
        scenarios=[None, BAN],
        as_of=DAY,
    )


def test_synthetic_ban_leaves_the_usa_short_by_its_whole_demand(synthetic_value):
    base = synthetic_value.base[BAN].buyers.set_index("buyer")
    assert base.at["USA", "unmet"] == pytest.approx(1000.0)


def test_a_candidate_that_removes_the_whole_shortfall_ranks_first(synthetic_value):
    r = synthetic_value.ranking
    assert list(r["candidate"]) == ["syn-au-mine", "syn-mw-mine"]
    d = synthetic_value.deltas.set_index(["candidate", "scenario", "buyer"])
    assert d.at[("syn-au-mine", BAN, "USA"), "delta_unmet"] == pytest.approx(-1000.0)
    assert d.at[("syn-au-mine", BAN, "USA"), "unmet_with"] == pytest.approx(0.0, abs=1e-6)
    # the whole demand, as a share of it: the unmet term is 1; FEOC share stays 0 under the ban
    assert r.iloc[0]["unmet_term"] == pytest.approx(1.0)
    assert (
        "cuts USA's unmet demand by 1,000 t REO under china-ree-export-ban" in r.iloc[0]["reason"]
    )


def test_a_candidate_with_no_reachable_processing_is_worth_nothing_under_the_ban(
    synthetic_value,
):
    d = synthetic_value.deltas.set_index(["candidate", "scenario", "buyer"])
    row = d.loc[("syn-mw-mine", BAN, "USA")]
    assert row["delta_unmet"] == pytest.approx(0.0, abs=1e-6)
    assert row["delta_feoc_share"] == pytest.approx(0.0, abs=1e-9)
    p = synthetic_value.processing.set_index(["candidate", "scenario", "id"])
    why = p.loc[("syn-mw-mine", BAN, "syn-mw-mine")]
    assert why["binds"] == "processing"
    # it runs, for China's own plants and buyers, but nothing of it reaches the USA
    usa = synthetic_value.after[("syn-mw-mine", BAN)].flows
    usa = usa[usa["query"] == "USA"]
    assert not usa["chain"].map(lambda c: "syn-mw-mine" in c).any()
    assert "no chain carries its mixed_ree_carbonate to USA" in why["note"]
    r = synthetic_value.ranking.set_index("candidate")
    assert r.at["syn-mw-mine", "unmet_term"] == 0.0
    assert "processing binds" in r.at["syn-mw-mine", "reason"]


def test_a_hypothetical_plant_row_gives_the_stranded_mine_its_processing(synthetic, layers):
    """SYNTHETIC: a plant in Malaysia that takes mixed carbonate, 2,000 t REO a year."""
    plant = pd.DataFrame(
        [_row(layers.facilities, "ree-lynas-malaysia", id="syn-my-carbonate")]
    ).drop(columns="geometry")
    plant["inputs"] = "mixed_ree_carbonate"
    plant["capacity"] = 2000.0
    plant["capacity_product"] = "separated_oxide"
    v = gs.project_value(
        synthetic,
        [("syn-mw-mine", plant)],
        buyers=["USA"],
        mineral="rare_earths",
        scenarios=[BAN],
        as_of=DAY,
    )
    d = v.deltas.set_index("buyer")
    assert d.at["USA", "delta_unmet"] == pytest.approx(-1000.0)
    assert v.ranking.iloc[0]["candidate"] == "syn-mw-mine+syn-my-carbonate"


def test_unknown_capacity_is_reported_with_value_zero_and_the_reason(synthetic):
    v = gs.project_value(synthetic, "syn-au-mine", buyers=["USA"], mineral="rare_earths", as_of=DAY)
    assert v.ranking.iloc[0]["value"] > 0
    # the same mine without its capacity
    lay = synthetic.graph["layers"]
    fac = lay.facilities.copy()
    fac.loc[fac["id"] == "syn-au-mine", "capacity"] = float("nan")
    w = gs.project_value(
        synthetic,
        "syn-au-mine",
        buyers=["USA"],
        mineral="rare_earths",
        as_of=DAY,
        layers=lay.replace(facilities=fac),
    )
    row = w.ranking.iloc[0]
    assert row["value"] == 0.0
    assert "no stated capacity" in row["reason"]
    # capacity= brings it back
    x = gs.project_value(
        synthetic,
        "syn-au-mine",
        buyers=["USA"],
        mineral="rare_earths",
        as_of=DAY,
        capacity={"syn-au-mine": 1500.0},
        layers=lay.replace(facilities=fac),
    )
    assert x.ranking.iloc[0]["value"] == pytest.approx(v.ranking.iloc[0]["value"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"candidates": "no-such-mine"}, "is not a facility id"),
        ({"candidates": "li-thacker-pass"}, "is a lithium facility"),
        ({"candidates": "ree-ngualla", "buyers": ["Atlantis"]}, "Atlantis"),
        ({"candidates": "ree-ngualla", "weights": {"risk": 1}}, "unknown key"),
        ({"candidates": "ree-ngualla", "capacity": {"ree-ngualla": -1}}, "positive number"),
        ({"candidates": "ree-ngualla", "executor": "threads"}, "executor"),
    ],
)
def test_bad_input_is_one_clear_error(G, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gs.project_value(G, mineral="rare_earths", as_of=DAY, scenarios=[None], **kwargs)


# ---------------------------------------------------------------------------------------------
# bundled layers


CANDIDATES = ["ree-ngualla+ree-eneabba", "ree-songwe-hill"]


@pytest.fixture(scope="module")
def bundled(G):
    return gs.project_value(G, CANDIDATES, mineral="rare_earths", as_of=DAY)


def test_the_ranking_is_deterministic(G, bundled):
    again = gs.project_value(G, CANDIDATES, mineral="rare_earths", as_of=DAY)
    pd.testing.assert_frame_equal(bundled.ranking, again.ranking)
    pd.testing.assert_frame_equal(bundled.deltas, again.deltas)


def test_deltas_are_the_difference_of_two_world_allocations_run_by_hand(G, layers, bundled):
    base = gs.allocate_world(G, "rare_earths", as_of=DAY, scenario=BAN)
    # pro-rata rationing keeps shares of the allocation before the candidate
    before = gs.allocate_world(G, "rare_earths", as_of=DAY)
    # the candidate online, the balancing capacity the baseline's
    Gu = with_unlisted(G, "rare_earths", year=2026)
    fac = Gu.graph["layers"].facilities.copy()
    fac.loc[fac["id"].isin(["ree-ngualla", "ree-eneabba"]), "status"] = "operating"
    after = gs.allocate_world(
        Gu,
        "rare_earths",
        as_of=DAY,
        scenario=BAN,
        unlisted=False,
        layers=Gu.graph["layers"].replace(facilities=fac),
        reference=before,
    )
    d = bundled.deltas.set_index(["candidate", "scenario", "buyer"])
    diff = gs.compare_allocations(base, after)["buyers"].set_index("buyer")
    b0, b1 = base.buyers.set_index("buyer"), after.buyers.set_index("buyer")
    for buyer in ("IND", "USA"):
        row = d.loc[("ree-ngualla+ree-eneabba", BAN, buyer)]
        assert row["delta_unmet"] == pytest.approx(diff.at[buyer, "delta_unmet"], abs=1e-6)
        assert row["delta_freight_usd"] == pytest.approx(
            diff.at[buyer, "delta_freight_usd"], rel=1e-9, abs=1e-3
        )
        for k in ("hhi", "top_share", "feoc_share"):
            assert row[f"delta_{k}"] == pytest.approx(b1.at[buyer, k] - b0.at[buyer, k], abs=1e-9)
    together = d.loc[("ree-ngualla+ree-eneabba", BAN, "IND+USA")]
    assert together["delta_unmet"] == pytest.approx(
        diff.loc[["IND", "USA"], "delta_unmet"].sum(), abs=1e-6
    )
    # and the allocations behind the figures are kept
    kept = bundled.after[("ree-ngualla+ree-eneabba", BAN)]
    pd.testing.assert_frame_equal(kept.buyers, after.buyers)
    pd.testing.assert_frame_equal(bundled.base[BAN].buyers, base.buyers)


def test_the_unlisted_baseline_is_the_default_one(G):
    """The with-candidate runs use the baseline's balancing capacity: on the graph that holds
    it, unlisted=False gives the default allocation."""
    a = gs.allocate_world(G, "rare_earths", as_of=DAY)
    Gu = with_unlisted(G, "rare_earths", year=2026)
    b = gs.allocate_world(Gu, "rare_earths", as_of=DAY, unlisted=False)
    pd.testing.assert_frame_equal(a.buyers, b.buyers)


def test_cli_invest_prints_the_ranking_and_refuses_bad_input(tmp_path, capsys):
    out = tmp_path / "ranking.csv"
    code = run(
        [
            "invest",
            "--mineral",
            "rare_earths",
            "--buyers",
            "IND,USA",
            "--candidates",
            "ree-songwe-hill",
            "--scenario",
            BAN,
            "-o",
            str(out),
        ]
    )
    assert code == 0
    assert "ree-songwe-hill" in capsys.readouterr().out
    assert pd.read_csv(out)["candidate"].tolist() == ["ree-songwe-hill"]
    code = run(["invest", "--mineral", "rare_earths", "--candidates", "nowhere"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "nowhere" in err


def test_dask_gives_the_serial_result(synthetic, synthetic_value):
    dask = gs.project_value(
        synthetic,
        ["syn-mw-mine", "syn-au-mine"],
        buyers=["USA"],
        mineral="rare_earths",
        scenarios=[None, BAN],
        as_of=DAY,
        executor="dask",
    )
    pd.testing.assert_frame_equal(synthetic_value.ranking, dask.ranking)
    pd.testing.assert_frame_equal(synthetic_value.deltas, dask.deltas)
    pd.testing.assert_frame_equal(synthetic_value.processing, dask.processing)
    pd.testing.assert_frame_equal(synthetic_value.displaced, dask.displaced)


def test_candidate_map_colours_by_value_and_escapes_text(G, layers):
    v = gs.project_value(
        G, ["ree-ngualla", "ree-kangankunde"], mineral="rare_earths", as_of="2026-12-03"
    )
    v.ranking.loc[0, "reason"] = '<img src=x onerror=alert(1)> "quoted"'
    html = gs.map_candidates(v, layers).get_root().render()
    assert html.count("gs-candidate") >= 2
    assert "<img src=x" not in html and "alert(1)" in html  # kept as text, escaped
    # the unvalued candidate is grey; the valued one takes a colour of the scale
    assert "#9e9e9e" in html


def test_report_ranks_candidates_with_a_map_and_table(tmp_path, G, layers):
    cfg = {
        "title": "Invest section",
        "buyers": ["IND", "USA"],
        "minerals": ["rare_earths"],
        "as_of": ["2026-12-03"],
        "world": ["china-ree-export-ban"],
        "invest": ["rare_earths:ree-ngualla,ree-kangankunde"],
        "k": 1,
    }
    index = gs.build_report(cfg, tmp_path / "r", G=G, layers=layers)
    text = index.read_text(encoding="utf-8")
    assert "Which project adds most" in text and "ree-ngualla" in text
    ranking = sorted((tmp_path / "r" / "tables").glob("invest_*_ranking.csv"))
    maps = sorted((tmp_path / "r" / "maps").glob("invest_*.html"))
    assert len(ranking) == 1 and len(maps) == 1
    table = pd.read_csv(ranking[0])
    assert list(table["candidate"]) == ["ree-ngualla", "ree-kangankunde"]  # unvalued last
    with pytest.raises(ValueError, match="is not 'mineral:candidates'"):
        gs.build_report({**cfg, "invest": ["africa"]}, tmp_path / "bad", G=G, layers=layers)

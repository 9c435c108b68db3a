"""Transport cost, days and CO2e from the cited parameter layer.

Frames built by hand here are SYNTHETIC legs (product, tonnes, km by mode, passages), not real
chains; the lithium chain and the Shanghai-Rotterdam routes come from the bundled layers.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import geosource as gs
from geosource.minerals import attributed_tonnes, tonnes_per_tonne
from geosource.transport import (
    CARGO_CLASS,
    TRANSPORT_COLUMNS,
    Disruption,
    TransportParams,
    red_sea_2024,
    transport_costs,
)

LAYER = Path(__file__).parents[1] / "layers" / "transport_params.csv"


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """The bundled parameter rows, read as plain text (not through geosource)."""
    return pd.read_csv(LAYER, dtype=str, keep_default_na=False).set_index("id")


def _value(rows: pd.DataFrame, row_id: str) -> float:
    return float(rows.loc[row_id, "value"])


def _legs(*legs: tuple[str, float, dict[str, float], str]) -> pd.DataFrame:
    """One SYNTHETIC chain from (product, tonnes per t, km by mode, passages) legs."""
    return pd.DataFrame(
        {
            "products": [tuple(leg[0] for leg in legs)],
            "tonnes_per_t": [tuple(leg[1] for leg in legs)],
            "leg_modes": [tuple(leg[2] for leg in legs)],
            "leg_passages": [tuple(leg[3] for leg in legs)],
        }
    )


def _route_frame(route: gs.Route, product: str = "lithium_hydroxide") -> pd.DataFrame:
    return _legs((product, 1.0, dict(route.km_by_mode), ";".join(sorted(route.passages))))


@pytest.fixture(scope="module")
def shanghai_rotterdam(G):
    suez = gs.shortest_path(G, "port:CNSHA", "port:NLRTM")
    closed = gs.routing.check_passages(G, ["suez", "panama"])
    cape = gs.shortest_path(G, "port:CNSHA", "port:NLRTM", closed_passages=closed)
    return suez, cape


def test_bundled_parameters_are_cited_and_complete():
    params = TransportParams.bundled()
    table = params.table
    assert table["source"].str.len().gt(40).all()
    assert table["id"].is_unique
    assert table["estimate"].notna().all()
    # every estimate says how it was derived
    assert table.loc[table["estimate"], "notes"].str.len().gt(20).all()
    for mode, cls in (
        ("sea", "dry_bulk"),
        ("sea", "container"),
        ("land", "all"),
        ("air", "air_cargo"),
    ):
        for kind in ("freight_rate", "speed", "co2e"):
            assert params.value(kind, mode, cls) is not None, (kind, mode, cls)
    desnz = table[table["kind"] == "co2e"]
    assert desnz["source"].str.contains("DESNZ").all()
    assert desnz["source"].str.contains("2025").all()


def test_every_product_has_a_cargo_class():
    assert set(CARGO_CLASS) == set(gs.PRODUCTS)
    for pid, product in gs.PRODUCTS.items():
        assert (CARGO_CLASS[pid] is None) == (not product.shipped), pid
        assert CARGO_CLASS[pid] in (None, "dry_bulk", "container")


def test_shanghai_rotterdam_via_suez_takes_published_container_days(shanghai_rotterdam):
    """Rodrigue & Notteboom, *Port Economics, Management and Policy* (2024), "Routing options
    between Shanghai, Rotterdam and New York"
    (https://porteconomicsmanagement.org/pemp/contents/part1/interoceanic-passages/
    routing-options-shanghai-rotterdam): via Suez about 10,600 nm, "about 27 days" at 16 knots
    with no ports of call, and "a typical Asia-Europe sequence can take 35 days" with its calls.
    Our days sail at the 2023 average container-ship speed and count the two port calls and the
    Suez wait, so they fall within 27-35 days."""
    suez, _ = shanghai_rotterdam
    assert {"suez", "bab_el_mandeb"} <= set(suez.passages)
    assert suez.length_km / 1.852 == pytest.approx(10_600, rel=0.02)
    out = transport_costs(_route_frame(suez))
    assert 27.0 <= out.loc[0, "days"] <= 35.0


def test_cape_diversion_adds_published_days(shanghai_rotterdam):
    """Same source: the Cape route "involves a distance of 13,800 nautical miles ... adding a
    minimum of 7 days of transit, but figures of 10 to 14 days are more common"; the Red Sea
    diversions of 2024 added roughly 10-14 days Asia-Europe. The added days lie in 7-14."""
    suez, cape = shanghai_rotterdam
    assert "cape_of_good_hope" in cape.passages
    assert not {"suez", "panama", "bab_el_mandeb"} & set(cape.passages)
    assert cape.length_km / 1.852 == pytest.approx(13_800, rel=0.02)
    a = transport_costs(_route_frame(suez))
    b = transport_costs(_route_frame(cape))
    assert 7.0 <= b.loc[0, "days"] - a.loc[0, "days"] <= 14.0
    assert b.loc[0, "cost_usd_per_t"] > a.loc[0, "cost_usd_per_t"]
    assert b.loc[0, "co2e_kg_per_t"] > a.loc[0, "co2e_kg_per_t"]


def test_lithium_chain_counts_the_ore_leg_at_concentrate_tonnage(G, rows):
    """Hand-checked: the spodumene leg moves 7.66 t SC6 per t LCE, i.e. 6.74 t per t of
    hydroxide, and is charged that tonnage on every km; the hydroxide leg is charged 1 t."""
    paths = gs.sourcing_paths(G, "lithium", "IND", k=3, as_of="2026-12-03")
    ore = paths[paths["products"].map(lambda p: p[0] == "spodumene_concentrate")]
    assert len(ore), "a spodumene -> hydroxide chain among the options"
    chain = ore.iloc[[0]]
    products = chain["products"].iloc[0]
    modes = chain["leg_modes"].iloc[0]
    assert products[-1] == "lithium_hydroxide"
    t_ore = tonnes_per_tonne("spodumene_concentrate", "lithium_hydroxide")
    assert t_ore == pytest.approx(7.66 * 0.880, rel=0.01)
    assert chain["tonnes_per_t"].iloc[0][0] == pytest.approx(t_ore)

    rate = {
        ("land", "dry_bulk"): _value(rows, "freight-land"),
        ("land", "container"): _value(rows, "freight-land"),
        ("sea", "dry_bulk"): _value(rows, "freight-sea-dry-bulk"),
        ("sea", "container"): _value(rows, "freight-sea-container"),
    }
    handling = {
        "dry_bulk": _value(rows, "handling-sea-dry-bulk"),
        "container": _value(rows, "handling-sea-container"),
    }

    def by_hand(tonnes: float, km: dict[str, float], cls: str) -> float:
        calls = 2 if km.get("sea", 0) > 0 else 0
        return tonnes * (sum(k * rate[(m, cls)] for m, k in km.items()) + calls * handling[cls])

    expected = [
        by_hand(t_ore, modes[0], "dry_bulk"),
        by_hand(1.0, modes[1], "container"),
    ]
    assert not any(chain["leg_passages"].iloc[0]), "no canal on this chain: no toll"
    out = transport_costs(chain)
    got = out["leg_cost_usd_per_t"].iloc[0]
    assert got == pytest.approx(tuple(expected), rel=1e-9)
    assert out["cost_usd_per_t"].iloc[0] == pytest.approx(sum(expected), rel=1e-9)
    assert out["leg_cargo_class"].iloc[0] == ("dry_bulk", "container")
    # the ore leg charged at one tonne of concentrate would be 6.7 times cheaper
    assert got[0] == pytest.approx(t_ore * by_hand(1.0, modes[0], "dry_bulk"))


def test_result_is_aligned_to_the_frame_and_explains_itself():
    frame = pd.concat(
        [
            _legs(("lithium_carbonate", 1.0, {"sea": 5000.0, "land": 100.0}, "")),
            _legs(("separated_oxide", 1.0, {"land": 800.0}, "")),
        ]
    )
    frame.index = ["b", "a"]
    out = transport_costs(frame)
    assert list(out.index) == ["b", "a"]
    assert list(out.columns) == list(TRANSPORT_COLUMNS)
    assert out.loc["a", "days"] == pytest.approx(
        800 / TransportParams.bundled().speed("land", "all")
    )
    assert "lithium_carbonate, container, 1 t/t" in out.loc["b", "assumptions"]
    info = out.attrs["assumptions"]
    assert info["params"].endswith("transport_params.csv")
    assert "freight-sea-container" in info["rows_used"]


def test_days_add_up_legs_in_sequence(rows):
    frame = _legs(
        ("spodumene_concentrate", 6.7, {"land": 540.0}, ""),
        ("lithium_hydroxide", 1.0, {"sea": 6178.0}, "suez"),
    )
    out = transport_costs(frame)
    land, sea = out["leg_days"].iloc[0]
    assert land == pytest.approx(540.0 / _value(rows, "speed-land"))
    expected = 10.0 + 2 * _value(rows, "dwell-sea-container") + _value(rows, "wait-suez")
    assert sea == pytest.approx(expected)
    assert out["days"].iloc[0] == pytest.approx(land + sea)
    # the container toll is charged per tonne of the leg, the missing dry-bulk toll is named
    assert out["leg_cost_usd_per_t"].iloc[0][1] == pytest.approx(
        6178.0 * _value(rows, "freight-sea-container")
        + 2 * _value(rows, "handling-sea-container")
        + _value(rows, "toll-suez-container")
    )
    bulk = transport_costs(_legs(("spodumene_concentrate", 1.0, {"sea": 6000.0}, "suez")))
    assert "canal_toll sea/dry_bulk at suez" in bulk.attrs["assumptions"]["not_charged"]


def test_byproduct_carrier_is_charged_its_contained_mass(rows):
    t_moved = tonnes_per_tonne("ge_zinc_concentrate", "refined_germanium")
    charged = attributed_tonnes("ge_zinc_concentrate", "refined_germanium")
    assert charged < t_moved / 10_000
    frame = _legs(
        ("ge_zinc_concentrate", t_moved, {"sea": 1000.0}, ""),
        ("refined_germanium", 1.0, {"land": 100.0}, ""),
    )
    out = transport_costs(frame)
    leg = out["leg_cost_usd_per_t"].iloc[0][0]
    per_t = 1000.0 * _value(rows, "freight-sea-dry-bulk") + 2 * _value(
        rows, "handling-sea-dry-bulk"
    )
    assert leg == pytest.approx(charged * per_t)
    assert out["leg_co2e_kg_per_t"].iloc[0][0] == pytest.approx(
        charged * 1000.0 * _value(rows, "co2e-sea-dry-bulk")
    )
    assert "contained mass" in out.loc[0, "assumptions"]


def test_air_km_fly_as_air_cargo(rows):
    frame = _legs(("high_purity_gallium", 1.0, {"air": 9000.0, "land": 50.0}, ""))
    out = transport_costs(frame)
    assert out["leg_cost_usd_per_t"].iloc[0][0] == pytest.approx(
        9000.0 * _value(rows, "freight-air") + 50.0 * _value(rows, "freight-land")
    )
    assert out["leg_days"].iloc[0][0] == pytest.approx(
        9000.0 / _value(rows, "speed-air")
        + 50.0 / _value(rows, "speed-land")
        + 2 * _value(rows, "dwell-air")
    )
    with pytest.raises(ValueError, match="does not fly"):
        transport_costs(_legs(("spodumene_concentrate", 1.0, {"air": 100.0}, "")))


def test_never_shipped_products_are_not_priced():
    out = transport_costs(
        _legs(("brine", 2.0, {"land": 30.0}, ""), ("lithium_carbonate", 1.0, {"land": 10.0}, ""))
    )
    assert out["leg_cost_usd_per_t"].iloc[0][0] == 0.0
    assert "integrated operation" in out.loc[0, "assumptions"]
    with pytest.raises(ValueError, match="never shipped"):
        transport_costs(_legs(("brine", 2.0, {"sea": 30.0}, "")))


def test_bad_frames_are_refused():
    with pytest.raises(ValueError, match="lacks column"):
        transport_costs(pd.DataFrame({"products": [("lithium_carbonate",)]}))
    with pytest.raises(ValueError, match="'lithium_carbonat' is not a product"):
        transport_costs(_legs(("lithium_carbonat", 1.0, {"land": 1.0}, "")))
    empty = transport_costs(_legs())
    assert math.isnan(empty.loc[0, "cost_usd_per_t"])
    assert list(transport_costs(_legs().iloc[0:0]).columns) == list(TRANSPORT_COLUMNS)


def test_a_user_parameter_file_changes_the_answer(tmp_path, rows):
    frame = _legs(("lithium_hydroxide", 1.0, {"sea": 10_000.0}, ""))
    table = pd.read_csv(LAYER, dtype=str, keep_default_na=False)
    table.loc[table["id"] == "freight-sea-container", "value"] = "0.006"
    table.loc[table["id"] == "freight-sea-container", "high"] = ""
    path = tmp_path / "my_params.csv"
    table.to_csv(path, index=False)
    base = transport_costs(frame)
    mine = transport_costs(frame, params=path)
    delta = 10_000.0 * (0.006 - _value(rows, "freight-sea-container"))
    assert mine.loc[0, "cost_usd_per_t"] - base.loc[0, "cost_usd_per_t"] == pytest.approx(delta)
    assert mine.attrs["assumptions"]["params"] == str(path)
    assert TransportParams.from_file(path).rate("sea", "container") == 0.006


@pytest.mark.parametrize("fmt", ["csv", "gpkg", "parquet"])
def test_parameter_layer_round_trips(tmp_path, layers, fmt):
    first = layers.transport_params
    second = gs.read_layer(
        gs.write_layer(first, tmp_path / f"tp.{fmt}", "transport_params"), "transport_params"
    )
    second.attrs = first.attrs = {}
    assert_frame_equal(first, second)


def _set(table: pd.DataFrame, row_id: str, field: str, value: str) -> pd.DataFrame:
    table = table.copy()
    table.loc[table["id"] == row_id, field] = value
    return table


def _row_of(table: pd.DataFrame, row_id: str) -> int:
    return int(table.index[table["id"] == row_id][0]) + 1


# (case id, row id changed, field, new value, field reported, text the message must contain)
BAD_ROWS = [
    ("negative", "freight-land", "value", "-1", "value", "below the minimum 0"),
    ("not-a-number", "freight-land", "value", "cheap", "value", "'cheap' is not a number"),
    ("unknown-kind", "freight-land", "kind", "tariff", "kind", "'tariff' is not an allowed value"),
    ("bad-flag", "freight-land", "estimate", "maybe", "estimate", "'maybe' is not true or false"),
    ("bad-date", "freight-land", "as_of", "2024-6", "as_of", "is not a date"),
    ("wrong-unit", "freight-land", "unit", "km/day", "unit", "'km/day' is not the unit of freight"),
    ("no-passage", "toll-suez-container", "passage", "", "passage", "needs a passage"),
    ("typo-passage", "toll-suez-container", "passage", "sues", "passage", "did you mean 'suez'"),
    ("stray-passage", "speed-land", "passage", "suez", "passage", "has no passage"),
    ("class-of-mode", "speed-air", "cargo_class", "dry_bulk", "cargo_class", "does not travel by"),
    ("low-above", "freight-sea-container", "low", "1", "low", "above value"),
    ("zero-speed", "speed-land", "value", "0", "value", "speed must be above 0"),
]


@pytest.mark.parametrize(
    ("case", "row_id", "field", "value", "reported", "text"),
    BAD_ROWS,
    ids=[c[0] for c in BAD_ROWS],
)
def test_bad_parameter_rows(tmp_path, case, row_id, field, value, reported, text):
    table = pd.read_csv(LAYER, dtype=str, keep_default_na=False)
    path = tmp_path / "bad.csv"
    _set(table, row_id, field, value).to_csv(path, index=False)
    with pytest.raises(gs.errors.LayerError) as info:
        TransportParams.from_file(path)
    row = _row_of(table, row_id)
    hits = [p for p in info.value.problems if p.row == row and p.field == reported]
    assert hits, str(info.value)
    assert any(text in p.problem for p in hits), str(info.value)
    assert all(p.fix for p in info.value.problems)
    assert f"{path}, row {row}, field `{reported}`" in str(info.value)


def test_bad_parameter_file_reports_every_problem_at_once(tmp_path):
    table = pd.read_csv(LAYER, dtype=str, keep_default_na=False)
    table = _set(table, "freight-land", "value", "-1")
    table = _set(table, "wait-panama", "passage", "panamá")
    table = table[table["id"] != "co2e-air"]
    table = pd.concat([table, table[table["id"] == "speed-land"]], ignore_index=True)
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    with pytest.raises(gs.errors.LayerError) as info:
        TransportParams.from_file(path)
    got = {(p.row, p.field) for p in info.value.problems}
    assert (_row_of(table, "freight-land"), "value") in got
    assert (_row_of(table, "wait-panama"), "passage") in got
    assert (None, "kind") in got  # no co2e row for air
    assert any("no co2e row for air/air_cargo" in p.problem for p in info.value.problems)
    assert (len(table), "id") in got  # the duplicated row
    assert str(info.value).startswith(f"{len(info.value.problems)} problems found:")


def test_missing_column_is_a_file_problem(tmp_path):
    table = pd.read_csv(LAYER, dtype=str, keep_default_na=False).drop(columns=["unit"])
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    with pytest.raises(gs.errors.LayerError, match=r"field `unit`: missing column"):
        TransportParams.from_file(path)


# --- disruptions --------------------------------------------------------------------------------

SYNTHETIC = pd.concat(
    [
        _legs(
            ("spodumene_concentrate", 6.7, {"land": 200.0, "sea": 8000.0}, "bab_el_mandeb;suez"),
            ("lithium_hydroxide", 1.0, {"sea": 12000.0}, "panama"),
        ),
        _legs(("ndfeb_magnet", 1.0, {"air": 7000.0, "land": 40.0}, "")),
        _legs(("separated_oxide", 1.0, {"land": 900.0}, "")),
    ],
    ignore_index=True,
)
PASSAGES = ["bab_el_mandeb", "suez", "panama", "malacca", "hormuz"]
RATE_KEYS = ["sea", "land", "air", "sea:container", "sea:dry_bulk", "air:air_cargo"]
_premium = st.floats(0, 500, allow_nan=False)
_factor = st.floats(1, 10, allow_nan=False)


@settings(max_examples=120, deadline=None)
@given(
    war=st.dictionaries(st.sampled_from(PASSAGES), _premium, max_size=3),
    days=st.dictionaries(st.sampled_from(PASSAGES), st.floats(0, 60, allow_nan=False), max_size=3),
    tolls=st.dictionaries(st.sampled_from(PASSAGES), _factor, max_size=3),
    rates=st.dictionaries(st.sampled_from(RATE_KEYS), _factor, max_size=4),
)
def test_a_disruption_never_lowers_cost_or_days(war, days, tolls, rates):
    d = Disruption(
        war_risk_usd_per_t=war, added_days=days, toll_multipliers=tolls, rate_multipliers=rates
    )
    base = transport_costs(SYNTHETIC)
    hit = transport_costs(SYNTHETIC, disruption=d)
    for col in ("cost_usd_per_t", "days"):
        assert (hit[col] >= base[col] - 1e-9).all(), col
    assert hit["co2e_kg_per_t"].tolist() == pytest.approx(base["co2e_kg_per_t"].tolist())


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"rate_multipliers": {"sea": 0.9}}, "below 1"),
        ({"toll_multipliers": {"suez": 0.5}}, "below 1"),
        ({"war_risk_usd_per_t": {"bab_el_mandeb": -1.0}}, "negative"),
        ({"added_days": {"suez": float("nan")}}, "not finite"),
        ({"added_days": {"suez": "ten"}}, "not a number"),
        ({"rate_multipliers": {"rail": 2.0}}, "'rail' is not a mode"),
    ],
)
def test_disruption_refuses_what_would_lower_or_is_malformed(kwargs, text):
    with pytest.raises(ValueError, match=text):
        Disruption(**kwargs)


def test_disruption_from_dict_and_unknown_passage():
    d = Disruption.from_dict({"name": "drought", "added_days": {"panama": 9}})
    assert d.added_days["panama"] == 9.0
    with pytest.raises(ValueError, match="unknown key"):
        Disruption.from_dict({"added_day": {"panama": 9}})
    with pytest.raises(ValueError, match="Did you mean 'panama'"):
        transport_costs(SYNTHETIC, disruption=Disruption(added_days={"panamaa": 1.0}))


def test_red_sea_reference_raises_container_costs_through_the_strait(shanghai_rotterdam, rows):
    suez, _ = shanghai_rotterdam
    frame = pd.concat(
        [_route_frame(suez), _legs(("separated_oxide", 1.0, {"land": 900.0}, ""))],
        ignore_index=True,
    )
    d = red_sea_2024()
    base = transport_costs(frame)
    hit = transport_costs(frame, disruption=d)
    extra = hit.loc[0, "cost_usd_per_t"] - base.loc[0, "cost_usd_per_t"]
    sea_km = suez.km_by_mode["sea"]
    expected = (
        sea_km * _value(rows, "freight-sea-container") * (d.rate_multipliers["sea:container"] - 1)
    )
    assert extra == pytest.approx(expected + _value(rows, "war-risk-bab-el-mandeb"))
    assert hit.loc[1, "cost_usd_per_t"] == base.loc[1, "cost_usd_per_t"]
    assert hit.attrs["assumptions"]["disruption"]["name"] == "red-sea-2024"

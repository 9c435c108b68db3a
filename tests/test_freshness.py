"""Freshness warnings: measures that change state after their review, layers reviewed long ago.

Every measure here is SYNTHETIC (not a real export control)."""

from __future__ import annotations

import pandas as pd
import pytest

import geosource as gs
from geosource.cli import run


def _controls(reviewed: str | None = "2026-06-01") -> pd.DataFrame:
    """SYNTHETIC measures: a licence and a suspension of it that ends on 2026-11-27."""
    base = {
        "country": "CHN",
        "minerals": "gallium",
        "products": "synthetic test product",
        "stage": "refining",
        "targets": "all",
        "announced": "2025-11-01",
        "scope": "all",
        "source": "synthetic test row (not a real measure)",
        "reviewed": reviewed,
    }
    return pd.DataFrame(
        [
            {**base, "id": "t-licence", "measure": "licence", "effective": "2025-11-01",
             "ends": None, "suspends": None},
            {**base, "id": "t-suspension", "measure": "suspension", "effective": "2025-11-09",
             "ends": "2026-11-27", "suspends": "t-licence"},
            {**base, "id": "t-late-ban", "minerals": "lithium", "measure": "ban",
             "effective": "2026-09-01", "ends": None, "suspends": None},
        ]
    )  # fmt: skip


def test_suspension_ending_after_review_is_named():
    out = gs.freshness.measure_warnings(_controls(), "2026-12-04", ["gallium"])
    assert out == [
        "t-suspension: suspension ended 2026-11-27; no extension recorded as of the row's "
        "review date 2026-06-01 (t-licence applies again)"
    ]


@pytest.mark.parametrize("on", ["2026-05-31", "2026-06-01", "2026-11-26"])
def test_no_warning_before_the_change_or_the_review(on):
    assert gs.freshness.measure_warnings(_controls(), on, ["gallium"]) == []


def test_measure_taking_effect_after_review_is_named_and_minerals_filter():
    out = gs.freshness.measure_warnings(_controls(), "2026-10-01", ["lithium"])
    assert out == [
        "t-late-ban: ban took effect 2026-09-01, after the row's review date 2026-06-01; "
        "not confirmed that it did"
    ]
    assert gs.freshness.measure_warnings(_controls(), "2026-10-01", ["graphite"]) == []


def test_rows_without_review_take_the_layers_newest():
    controls = _controls()
    controls.loc[controls["id"] == "t-suspension", "reviewed"] = None
    out = gs.freshness.measure_warnings(controls, "2026-12-04", ["gallium"])
    assert out == [
        "t-suspension: suspension ended 2026-11-27; no extension recorded as of the layer's "
        "review date 2026-06-01 (t-licence applies again)"
    ]
    assert gs.freshness.measure_warnings(controls.drop(columns="reviewed"), "2026-12-04") == []


def test_stale_layers_are_named(layers):
    fac = layers.facilities.assign(reviewed="2026-01-15")
    lay = layers.replace(facilities=fac, export_controls=_controls())
    assert gs.freshness.review_warnings(lay, "2026-07-01") == []
    out = gs.freshness.review_warnings(lay, "2026-11-30")  # export controls: 182 days
    assert out == [
        "facility statuses reviewed up to 2026-01-15, 319 days before 2026-11-30; changes "
        "since then are not in the layer"
    ]
    bare = layers.replace(facilities=fac.drop(columns="reviewed"), export_controls=_controls())
    out = gs.freshness.review_warnings(bare, "2026-01-01")
    assert out[0].startswith("facility statuses carry no review date")


def test_sourcing_paths_carry_warnings(G, layers):
    lay = layers.replace(export_controls=_controls())
    before = gs.sourcing_paths(G, "gallium", "IND", k=1, as_of="2026-05-01", layers=lay)
    assert before.attrs["warnings"] == []
    after = gs.sourcing_paths(G, "gallium", "IND", k=1, as_of="2026-12-04", layers=lay)
    assert any("t-suspension: suspension ended 2026-11-27" in w for w in after.attrs["warnings"])
    html = gs.map_paths(after).get_root().render()
    assert "Warning: t-suspension: suspension ended 2026-11-27" in html


def test_bundled_no72_suspension_warns_after_it_ends(layers):
    out = gs.freshness_warnings(layers, "2026-12-04", ["gallium"])
    assert any(
        w.startswith("chn-2025-no72-susp-no46-ban: suspension ended 2026-11-27") for w in out
    )
    assert not any("no72" in w for w in gs.freshness_warnings(layers, "2026-11-01", ["gallium"]))


def test_cli_prints_warnings_to_stderr(capsys):
    code = run(["paths", "-m", "gallium", "--to", "IND", "--k", "1", "--as-of", "2026-12-04"])
    assert code == 0
    captured = capsys.readouterr()
    lines = [x for x in captured.err.splitlines() if x.startswith("warning: ")]
    assert any("chn-2025-no72-susp-no46-ban: suspension ended 2026-11-27" in x for x in lines)
    assert "warning:" not in captured.out

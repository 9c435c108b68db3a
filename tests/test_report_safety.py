"""Report and map HTML without a browser: safe file names, quoted and escaped attributes, and
tooltips that never carry markup. The browser side is in test_browser.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geosource as gs
from geosource._slug import slug

SAFE_NAME = re.compile(r"^[a-z0-9_.-]+$")

#: SYNTHETIC scenario names (tests only): the two reported attacks, and two names that differ
#: only in punctuation, and one spelled like the report's buyer.
NAMES = (
    "x'><img\tsrc=x\tonerror=alert(1)>",
    "<img src=x onerror=alert(2)>",
    "Red Sea: closed!",
    "Red Sea: closed?",
    "IND",
)


@settings(deadline=None)
@given(st.text(max_size=200))
def test_slug_is_safe_short_and_stable(text):
    s = slug(text)
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", s), s
    assert len(s) <= 60
    assert slug(text) == s


@settings(deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_different_texts_different_slugs(a, b):
    if a != b:
        assert slug(a) != slug(b)


def test_slug_keeps_safe_text_and_marks_changed_text():
    assert slug("red-sea-closure") == "red-sea-closure"
    assert slug("Red Sea: closed!") != slug("Red Sea: closed?")
    assert slug("Red Sea: closed!").startswith("red_sea_closed-")
    assert len(slug("a" * 61)) == 60 and slug("a" * 61) != slug("a" * 62)
    assert slug("IND") != slug("ind") == "ind"


def _scenario_files(tmp_path, names):
    entries = []
    for i, name in enumerate(names):
        entry = tmp_path / f"scenario{i}.json"
        entry.write_text(
            json.dumps({"name": name, "description": f"SYNTHETIC test scenario {i}"}),
            encoding="utf-8",
        )
        entries.append(str(entry))
    return entries


@pytest.fixture(scope="module")
def report(tmp_path_factory, G, layers):
    tmp = tmp_path_factory.mktemp("report_safety")
    config = {
        "title": NAMES[0],
        "buyers": ["IND"],
        "minerals": ["lithium"],
        "scenarios": _scenario_files(tmp, NAMES),
        "k": 2,
    }
    return gs.build_report(config, tmp / "report", G=G, layers=layers)


def test_report_file_names_are_safe(report):
    root = report.parent
    files = [p.relative_to(root) for p in root.rglob("*") if p.is_file()]
    unsafe = [str(p) for p in files if not all(SAFE_NAME.match(part) for part in p.parts)]
    assert unsafe == []
    assert all(len(p.name) <= 60 + len("_pareto.png") for p in files)


def test_each_scenario_gets_its_own_files(report):
    root = report.parent
    maps = sorted(p.name for p in (root / "maps").iterdir())
    diffs = sorted(p.name for p in (root / "tables").glob("*_diff.csv"))
    assert len(maps) == 1 + len(NAMES), "one buyer map, one map per scenario"
    assert len(diffs) == len(NAMES)
    page = report.read_text(encoding="utf-8")
    closed = [n for n in maps if n.startswith("scenario_lithium_2025-06-30_red_sea_closed-")]
    assert len(closed) == 2, "names differing only in punctuation write two files"
    assert all(f'href="maps/{n}"' in page for n in maps)


def test_report_attributes_double_quoted_and_escaped(report):
    page = report.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "<img\tsrc=x" not in page
    unquoted = [t for t in re.findall(r"<[a-zA-Z][^>]*>", page) if re.search(r'\s[\w-]+=(?!")', t)]
    assert unquoted == [], "every attribute value is double-quoted"
    for ref in re.findall(r'\b(?:href|src)="([^"]*)"', page):
        assert (report.parent / ref).is_file(), ref
    assert "x&#x27;&gt;&lt;img\tsrc=x\tonerror=alert(1)&gt;" in page


def test_two_scenario_files_with_one_name_are_refused(tmp_path):
    entries = _scenario_files(tmp_path, ["same", "same"])
    with pytest.raises(ValueError, match="both named 'same'") as info:
        gs.build_report({"scenarios": entries}, tmp_path / "out")
    assert entries[0] in str(info.value) and entries[1] in str(info.value)
    assert not (tmp_path / "out").exists(), "refused before writing anything"


def test_compare_tooltips_carry_no_markup(G, layers):
    base = gs.sourcing_paths(G, "lithium", "IND", k=3, as_of="2025-06-30")
    after = gs.apply_scenario(G, layers, "malacca-closure").sourcing_paths(
        "lithium", "IND", k=3, as_of="2025-06-30"
    )
    for name in NAMES[:2]:
        page = gs.map_compare(gs.compare(base, after, name=name), base, after).get_root().render()
        # tojson turns "<" into \u003c: an unescaped tag would reach Leaflet's innerHTML so
        assert "\\u003cimg" not in page
        assert "\\u0026lt;img" in page, "the name is shown, escaped"


def test_layer_group_names_carry_no_markup(layers):
    fac = layers.facilities.copy()
    fac["stage"] = NAMES[1] + " " + fac["stage"]  # SYNTHETIC stage names (tests only)
    page = gs.map_layers(layers.replace(facilities=fac), "lithium").get_root().render()
    assert "\\u003cimg" not in page and "<img src=x" not in page


def test_report_config_finds_scenario_files_beside_it(tmp_path, monkeypatch):
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "closure.json").write_text(
        json.dumps({"name": "SYNTHETIC closure", "description": "test scenario"}), "utf-8"
    )
    (folder / "report.toml").write_text(
        'scenarios = ["closure.json", "red-sea-closure"]\nworld = ["closure.json"]\n', "utf-8"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = gs.ReportConfig.read(folder / "report.toml")
    assert cfg.scenarios == (str(folder / "closure.json"), "red-sea-closure")
    assert cfg.world == (str(folder / "closure.json"),)
    assert all(not p.endswith(".json") or Path(p).is_file() for p in cfg.scenarios)


def test_a_scenario_that_changes_nothing_changes_nothing_under_the_reports_weights(
    tmp_path, G, layers
):
    """The report's own weights apply to the scenario run too: a scenario with no measures,
    closures or weights leaves every option as it was (score included)."""
    config = {
        "buyers": ["JPN"],
        "minerals": ["graphite"],
        "as_of": ["2026-12-01"],
        "scenarios": _scenario_files(tmp_path, ["SYNTHETIC no-op"]),
        "weights": {"distance": 0.9, "exposure": 0.1},
        "k": 2,
    }
    index = gs.build_report(config, tmp_path / "report", G=G, layers=layers)
    (diff_file,) = (index.parent / "tables").glob("*_diff.csv")
    diff = pd.read_csv(diff_file)
    assert len(diff) > 0
    assert set(diff["status"]) == {"unchanged"}
    assert diff["delta_score"].abs().max() == 0.0

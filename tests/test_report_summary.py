"""The report's executive summary, read back: every number of every sentence is the number of
a row of the result tables in the same folder. Also the folder explains itself: manifest with
input checksums and scenario definitions, methods and citations pages, byte-identical reruns."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

import geosource as gs
from geosource._slug import slug

DAY = "2026-12-01"
NUM = re.compile(r"-?\d[\d,]*\.?\d*")


class _Sentences(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[dict[str, str], str]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "li" and a.get("class") == "gs-sentence":
            self._open = a
            self.items.append((a, ""))

    def handle_data(self, data):
        if self._open is not None:
            a, text = self.items[-1]
            self.items[-1] = (a, text + data)

    def handle_endtag(self, tag):
        if tag == "li":
            self._open = None


def _nums(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in NUM.findall(text) if x not in ("-",)]


@pytest.fixture(scope="module")
def report(tmp_path_factory, G, layers):
    out = tmp_path_factory.mktemp("summary")
    config = {
        "title": "Summary test",
        "buyers": ["IND", "USA"],
        "minerals": ["rare_earths"],
        "as_of": [DAY],
        "scenarios": ["red-sea-closure"],
        "world": ["china-ree-export-ban"],
        "k": 2,
    }
    index = gs.build_report(config, out / "a", G=G, layers=layers)
    again = gs.build_report(config, out / "b", G=G, layers=layers)
    return index, again


def _sentences(index):
    parser = _Sentences()
    parser.feed(index.read_text(encoding="utf-8"))
    return parser.items


def _close(got: float, want: float, decimals: int) -> bool:
    return abs(got - round(want, decimals)) <= 0.6 * 10**-decimals + 1e-9


def test_summary_numbers_match_the_result_frames(report):
    index, _ = report
    root = index.parent
    options = pd.read_csv(root / "tables" / "options.csv")
    options["chain_countries"] = options["chain_countries"].map(eval)  # tuples written as text
    diff = pd.read_csv(
        root / "tables" / f"{slug('scenario_rare_earths_' + DAY + '_red-sea-closure')}_diff.csv"
    )
    world = pd.read_csv(
        root / "tables" / f"{slug('world_rare_earths_' + DAY + '_china-ree-export-ban')}_buyers.csv"
    ).set_index("buyer")
    base = pd.read_csv(
        root / "tables" / f"{slug('world_rare_earths_' + DAY + '_baseline')}_buyers.csv"
    ).set_index("buyer")
    items = _sentences(index)
    kinds = {(a["data-kind"], a["data-buyer"]) for a, _ in items}
    assert kinds == {(k, b) for k in ("best", "scenario", "world") for b in ("IND", "USA")}
    checked = 0
    for attrs, text in items:
        buyer, kind = attrs["data-buyer"], attrs["data-kind"]
        if kind == "best":
            # "(option r of n)": the row of the options table with that rank
            rank = int(re.search(r"option (\d+) of \d+", text).group(1))
            row = options[(options["query"] == buyer) & (options["rank"] == rank)]
            if row.empty:  # beyond k: the numbers are still in the full frame behind the table
                continue
            row = row.iloc[0]
            assert "CHN" not in row["chain_countries"]
            found = re.search(
                r"([\d,.]+) USD/t freight, ([\d,.]+) days, ([\d,.]+) kg CO2e/t, score ([\d.]+)",
                text,
            )
            cost, days, co2, score = (float(x.replace(",", "")) for x in found.groups())
            assert _close(cost, row["cost_usd_per_t"], 1), (cost, row["cost_usd_per_t"])
            assert _close(days, row["days"], 1)
            assert _close(co2, row["co2e_kg_per_t"], 0)
            assert _close(score, row["score"], 3)
            checked += 1
        elif kind == "scenario":
            part = diff[diff["query"] == buyer]
            moved = part[
                (part["status"] == "changed")
                & (
                    (part["delta_cost_usd_per_t"].abs() > 0.005)
                    | (part["delta_days"].abs() > 0.005)
                )
            ]
            m = re.search(
                r"changes (\d+) of (\d+): median ([-+\d.,]+) days, ([-+\d.,]+) USD/t", text
            )
            if len(moved):
                assert m, text
                assert int(m.group(1)) == len(moved)
                assert int(m.group(2)) == int(part["rank_base"].notna().sum())
                assert _close(float(m.group(3).replace(",", "")), moved["delta_days"].median(), 1)
                assert _close(
                    float(m.group(4).replace(",", "")), moved["delta_cost_usd_per_t"].median(), 1
                )
            else:
                assert m is None
            checked += 1
        elif kind == "world":
            if buyer not in world.index:
                assert "no row in the demand layer" in text
                short = world[world["unmet"] > 1e-6].sort_values("unmet", ascending=False)
                assert f"{short['unmet'].iloc[0]:,.0f}" in text
            else:
                r = world.loc[buyer]
                unmet, demand = _nums(text.split("is short ")[1])[:2]
                assert _close(unmet, r["unmet"], 0) and _close(demand, r["demand"], 0)
                assert f"{r['share_met']:.0%} met" in text
                base_unmet = _nums(text.split("against ")[1])[0]
                assert _close(base_unmet, base.loc[buyer, "unmet"], 0)
            checked += 1
    assert checked >= 5


def test_report_folder_explains_itself(report):
    index, again = report
    root = index.parent
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenarios"]["red-sea-closure"]["closed_passages"]
    assert manifest["world_scenarios"]["china-ree-export-ban"]["add_measures"]
    for name, entry in manifest["layers"].items():
        if "file" in entry:
            assert len(entry["sha256"]) == 64, name
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == digest
    assert {"methods.html", "citations.html", "index.html"} <= set(manifest["files"])
    page = index.read_text(encoding="utf-8")
    assert "docs/" not in page and "layers/README" not in page
    assert "India" in page and "freight (USD/t)" in page and "score (lower is better)" in page
    methods = (root / "methods.html").read_text(encoding="utf-8")
    assert "<script" not in methods and "Transport cost, days and CO2e" in methods
    citations = (root / "citations.html").read_text(encoding="utf-8")
    assert "Lynas" in citations or "Mountain Pass" in citations
    # the same config writes the same bytes
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        twin = again.parent / path.relative_to(root)
        assert twin.read_bytes() == path.read_bytes(), path.relative_to(root)


def test_manifest_records_input_files(tmp_path, G, layers):
    scenario = tmp_path / "closure.json"
    scenario.write_text(
        json.dumps({"name": "synthetic-closure", "closed_passages": ["malacca"]}),
        encoding="utf-8",
    )
    config = tmp_path / "report.json"
    config.write_text(
        json.dumps(
            {"buyers": ["IND"], "minerals": ["lithium"], "scenarios": [str(scenario)], "k": 1}
        ),
        encoding="utf-8",
    )
    index = gs.build_report(config, tmp_path / "out", G=G, layers=layers)
    manifest = json.loads((index.parent / "manifest.json").read_text(encoding="utf-8"))
    for f in (config, scenario):
        assert manifest["inputs"][str(f)] == hashlib.sha256(f.read_bytes()).hexdigest()
    assert manifest["scenarios"]["synthetic-closure"] == {
        "name": "synthetic-closure",
        "closed_passages": ["malacca"],
    }

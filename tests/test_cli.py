"""The command line: the demo runs end to end and writes its files; layer commands print."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest

from geosource.cli import run


def test_demo_runs_and_writes_results(tmp_path, capsys):
    assert run(["demo", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "lithium -> IND" in out and "gallium -> USA" in out
    assert "route graph:" in out
    paths = gpd.read_file(tmp_path / "sourcing_paths.gpkg")
    table = pd.read_csv(tmp_path / "sourcing_paths.csv")
    assert len(paths) == len(table) >= 15
    assert set(table["mineral"]) == {"lithium", "rare_earths", "graphite", "gallium", "germanium"}


def test_layers_list_and_show(capsys):
    assert run(["layers", "list"]) == 0
    assert "facilities" in capsys.readouterr().out
    assert run(["layers", "show", "export_controls"]) == 0
    assert "chn-2025-no72-susp-no46-ban" in capsys.readouterr().out
    assert run(["layers", "show", "facilities", "--mineral", "ga"]) == 0
    shown = capsys.readouterr().out
    assert "ga-" in shown and "li-" not in shown


def test_help_shows_examples(capsys):
    for args in (
        ["demo", "--help"],
        ["layers", "validate", "--help"],
        ["layers", "show", "--help"],
    ):
        assert run(args) == 0
        assert "Example" in capsys.readouterr().out


COMMANDS = [
    ["paths"],
    ["map"],
    ["compare"],
    ["allocate"],
    ["scenarios", "list"],
    ["report"],
    ["layers", "list"],
    ["layers", "show"],
    ["layers", "validate"],
    ["demo"],
    ["cache", "info"],
    ["cache", "clear"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_has_help_with_an_example(command, capsys):
    assert run([*command, "--help"]) == 0
    assert "Example: geosource " in capsys.readouterr().out


BAD = [
    (["paths", "-m", "lithum", "-t", "IND"], "'lithum' is not a known mineral"),
    (["paths", "-m", "lithium", "-t", "Atlantis"], "'Atlantis' is not a country"),
    (["paths", "-m", "lithium", "-t", "IND", "--scenario", "red-sea"], "unknown scenario"),
    (["paths", "-m", "lithium", "-t", "IND", "--weights", "nope.toml"], "weights file not found"),
    (["paths", "-m", "lithium", "-t", "IND", "--as-of", "June"], "is not a date"),
    (["paths", "-m", "lithium", "-t", "IND", "-o", "x.xlsx"], "use .gpkg, .parquet, .csv"),
    (
        ["compare", "--scenario", "nope.toml", "-m", "lithium", "-t", "IND"],
        "nope.toml: scenario file not found",
    ),
    (["allocate", "-m", "lithium", "-t", "IND", "--demand-t", "0"], "demand_t must be"),
    (
        ["allocate", "-m", "lithium", "-t", "IND", "--demand-t", "5", "--max-country-share", "2"],
        "max_country_share must be in",
    ),
    (["report", "missing.toml"], "missing.toml: report config not found"),
    (["paths", "-m", "lithium"], "Missing option '--to'"),
]


@pytest.mark.parametrize(("args", "text"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_one_clear_line(args, text, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = run(args)
    err = capsys.readouterr().err
    assert code == 2
    assert text in err
    assert "Traceback" not in err


def test_malformed_report_config(tmp_path, capsys):
    bad = tmp_path / "r.toml"
    bad.write_text('buyers = ["IND"]\nminerals = ["lithium"]\ncolour = "red"\n', encoding="utf-8")
    assert run(["report", str(bad)]) == 2
    assert "unknown report key 'colour'; valid keys: title" in capsys.readouterr().err


def test_paths_json_and_files(tmp_path, capsys):
    out = tmp_path / "li.parquet"
    assert (
        run(
            [
                "paths",
                "-m",
                "lithium",
                "-t",
                "IND",
                "--k",
                "2",
                "--as-of",
                "2025-06-30",
                "--json",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    records = json.loads(capsys.readouterr().out)
    assert [r["rank"] for r in records] == [1, 2]
    assert len(gpd.read_parquet(out)) == 2


def test_report_is_byte_identical_and_safe(tmp_path):
    import hashlib

    import geosource as gs

    cfg = {
        "title": "<script>alert(1)</script> report",
        "buyers": ["IND"],
        "minerals": ["gallium"],
        "as_of": ["2026-11-01"],
        "scenarios": ["red-sea-closure"],
        "k": 2,
    }
    files = []
    for name in ("a", "b"):
        gs.build_report(cfg, tmp_path / name)
        files.append(
            {
                p.relative_to(tmp_path / name): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((tmp_path / name).rglob("*"))
                if p.is_file()
            }
        )
    assert files[0] == files[1]
    assert {"index.html", "manifest.json"} <= {str(p) for p in files[0]}
    page = (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page, "the summary page runs no script and loads nothing"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; report" in page
    assert "http" not in page.split("<body>")[1].split("Sources:")[0], "no network needed"
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["config"]["minerals"] == ["gallium"]
    assert len(manifest["layers"]["facilities"]["sha256"]) == 64


def test_progress_bar_quiet_when_piped(tmp_path, capfd):
    cfg = tmp_path / "r.toml"
    cfg.write_text(
        'buyers = ["JPN"]\nminerals = ["germanium"]\nas_of = ["2025-06-30"]\nk = 1\n',
        encoding="utf-8",
    )
    assert run(["report", str(cfg), "-o", str(tmp_path / "out")]) == 0
    err = capfd.readouterr().err
    assert "it/s" not in err and "step/s" not in err


def test_sweep_command(tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text(
        'mineral = "graphite"\nto = "JPN"\nn = 400\nseed = 1\nas_of = "2025-06-30"\n'
        '[closures]\nmalacca = 0.2\n[outages]\n"gr-balama" = 0.3\n',
        encoding="utf-8",
    )
    out = tmp_path / "sweep"
    assert run(["sweep", str(cfg), "-o", str(out)]) == 0
    assert "400 draws" in capsys.readouterr().out
    options = pd.read_parquet(out / "options.parquet")
    assert options["p_lost"].between(0, 1).all()
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "<script" not in page
    cfg.write_text('mineral = "graphite"\nto = "JPN"\ndraws = 5\n', encoding="utf-8")
    assert run(["sweep", str(cfg), "-o", str(out)]) == 2
    assert "unknown key 'draws'" in capsys.readouterr().err


def test_paths_passes_every_sourcing_option_to_the_api(monkeypatch, capsys):
    import geosource as gs

    seen: dict[str, object] = {}
    real = gs.sourcing_paths

    def spy(G, mineral, to, k, **kwargs):
        seen.update(kwargs, mineral=mineral, to=to, k=k)
        return real(G, mineral, to, k, **kwargs)

    monkeypatch.setattr(gs, "sourcing_paths", spy)
    args = ["paths", "-m", "rare_earths", "-t", "IND", "-t", "JPN", "--product", "ndfeb_magnet"]
    args += ["--distinct", "facilities", "--exclude", "China", "--exclude", "RU"]
    args += ["--exclude-owners", "CHN", "--include-blocked", "--status", "construction"]
    args += ["--status", "deposit", "--k", "2", "--as-of", "2026-12-03", "--json"]
    assert run(args) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["query"] for r in records} == {"IND", "JPN"}, "every --to is honoured"
    assert all(r["product"] == "ndfeb_magnet" for r in records)
    assert not any({"CHN", "RUS"} & set(r["chain_countries"]) for r in records)
    assert seen["to"] == ["IND", "JPN"] and seen["k"] == 2
    assert seen["product"] == "ndfeb_magnet" and seen["distinct"] == "facilities"
    assert seen["links"] == "compatible" and seen["include_blocked"] is True
    assert seen["exclude"] == ["China", "RU"] and seen["exclude_owners"] == ["CHN"]
    assert seen["include_development"] == ["construction", "deposit"]

    seen.clear()
    args = ["paths", "-m", "graphite", "-t", "IND", "--include-development", "--links"]
    assert run([*args, "documented", "--as-of", "2026-12-03", "--json"]) == 0
    assert seen["include_development"] is True and seen["links"] == "documented"


def test_map_without_buyer_draws_the_mineral_asked_for(tmp_path, capsys):
    out = tmp_path / "maps" / "gallium.html"
    assert run(["map", "-m", "gallium", "-o", str(out)]) == 0
    assert "Gallium: facilities and trade layers" in out.read_text(encoding="utf-8")
    assert [p.name for p in out.parent.iterdir()] == ["gallium.html"], "no temporary files left"


def test_allocate_world_says_who_is_short(tmp_path, capsys):
    out = tmp_path / "ban.csv"
    args = ["allocate", "--world", "-m", "rare_earths", "--scenario", "china-ree-export-ban"]
    assert run([*args, "--as-of", "2026-12-03", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "under china-ree-export-ban: short: EU" in text
    assert "published supply mix beside the model's baseline" in text
    table = pd.read_csv(out)
    eu = table.set_index("buyer").loc["EU"]
    assert eu["delta_unmet"] > 0 and eu["unmet_scenario"] == pytest.approx(
        eu["demand"] - eu["supplied_scenario"]
    )
    assert run(["allocate", "--world", "-m", "rare_earths", "-t", "IND"]) == 2
    assert "drop --to" in capsys.readouterr().err

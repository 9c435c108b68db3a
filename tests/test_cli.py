"""The command line: the demo runs end to end and writes its files; layer commands print."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

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
